/*
 * fuzz_verify.c
 *		libFuzzer harness: jose_verify() and jose_decode() over the input as
 *		a compact token, against fixed key sets, with the payload read as a
 *		JWT claims set and as bytes.
 *
 * A mutated token almost never keeps a valid signature, so the header and
 * claim checks that run after it would see little.  An input of the form
 * "header JSON\npayload" is therefore also signed by the harness with the
 * HMAC secret (jose_sign) and verified: the fuzzer then writes headers and
 * claims in the clear and every one of them reaches rules 3 to 6.
 *
 * The keys below are test keys made for this harness and nothing else:
 * public halves only (the private halves, which signed the seed corpus,
 * are not in the repository) and an HMAC secret that protects nothing.
 */
#define _GNU_SOURCE				/* memmem */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/jose.h"
#include "fuzz.h"

/* TEST ONLY: protects nothing, published on purpose. */
static const char HMAC_SECRET[] =
	"fuzz-only-test-secret-NOT-A-REAL-KEY-0123456789abcdefghijklmnopq"
	"r";

static const char RSA_JWK[] =
	"{\"kty\":\"RSA\",\"n\":\"sdrx-fdL46jopJbSkrwbtILhlHh-Qi2jYlOrxfTaiycUBK"
	"0EcqozWU0oyxI59YDrb2wYtVb17D_0uGWxpJVs3QcIE6tX17DnbxfdYY7i826-Nl"
	"9iYTAcfL-Hjnwcn_q1pxXpwLdI_HF64vcwLUAc5j9QTtk8SW4HXCd49JNqemhqII"
	"3QskGZLKUMmYldbbe6qZXs95poNFhAd3L9FEAImLo3D22WyJZ3R4MMSMHnQnZ4U5"
	"nrZ-_tOyEyZs35PWQCseLtlzoPrLKvGjBMAbZ2Chz1ryHob93BURZjmz8zEBJg-2"
	"Qjiiza1PVOeCvkZOGjfJwx_gE3RXg0Dev_Hc0bEQ\",\"e\":\"AQAB\"}";

static const char EC_JWK[] =
	"{\"kty\":\"EC\",\"crv\":\"P-256\",\"x\":\"qX0mKeNpWu50AUzrypYdgAlV3RfgbvYwV"
	"A-aZXkIJlE\",\"y\":\"_k_bxCnyDCP60j5y1yC2LrN7EV58xHB8zlp7MmxKfAE\",\"k"
	"id\":\"ec-p256\"}";

static const char ED25519_JWK[] =
	"{\"kty\":\"OKP\",\"crv\":\"Ed25519\",\"x\":\"_exSXJKYXLLQbwxTWTspDi9VF9zX67"
	"idvLQxMZc4L5o\"}";

static const char JWKS[] =
	"{\"keys\":[\n"
	"{\"kty\":\"RSA\",\"n\":\"sdrx-fdL46jopJbSkrwbtILhlHh-Qi2jYlOrxfTaiycUBK"
	"0EcqozWU0oyxI59YDrb2wYtVb17D_0uGWxpJVs3QcIE6tX17DnbxfdYY7i826-Nl"
	"9iYTAcfL-Hjnwcn_q1pxXpwLdI_HF64vcwLUAc5j9QTtk8SW4HXCd49JNqemhqII"
	"3QskGZLKUMmYldbbe6qZXs95poNFhAd3L9FEAImLo3D22WyJZ3R4MMSMHnQnZ4U5"
	"nrZ-_tOyEyZs35PWQCseLtlzoPrLKvGjBMAbZ2Chz1ryHob93BURZjmz8zEBJg-2"
	"Qjiiza1PVOeCvkZOGjfJwx_gE3RXg0Dev_Hc0bEQ\",\"e\":\"AQAB\",\"kid\":\"rsa-"
	"1\",\"alg\":\"RS256\",\"use\":\"sig\"},\n"
	"{\"kty\":\"RSA\",\"n\":\"sdrx-fdL46jopJbSkrwbtILhlHh-Qi2jYlOrxfTaiycUBK"
	"0EcqozWU0oyxI59YDrb2wYtVb17D_0uGWxpJVs3QcIE6tX17DnbxfdYY7i826-Nl"
	"9iYTAcfL-Hjnwcn_q1pxXpwLdI_HF64vcwLUAc5j9QTtk8SW4HXCd49JNqemhqII"
	"3QskGZLKUMmYldbbe6qZXs95poNFhAd3L9FEAImLo3D22WyJZ3R4MMSMHnQnZ4U5"
	"nrZ-_tOyEyZs35PWQCseLtlzoPrLKvGjBMAbZ2Chz1ryHob93BURZjmz8zEBJg-2"
	"Qjiiza1PVOeCvkZOGjfJwx_gE3RXg0Dev_Hc0bEQ\",\"e\":\"AQAB\",\"kid\":\"rsa-"
	"pss\",\"alg\":\"PS256\"},\n"
	"{\"kty\":\"EC\",\"crv\":\"P-256\",\"x\":\"WVJ2QenNEnqKnhAj_-k3d0BlVzJ5xQ2s8"
	"Ij4MH7vnv4\",\"y\":\"UzegmJOA02NjgldXoC1Dp4M92SqkYJyP46eJx4adaRQ\",\"k"
	"id\":\"ec-1\",\"key_ops\":[\"verify\"]},\n"
	"{\"kty\":\"EC\",\"crv\":\"P-384\",\"x\":\"hZNS2Dvq3CqQye4oeQ22lkVcGIh6bVCQr"
	"VNut31kgZ3HnPmsv9I_iHYaurmXo9pp\",\"y\":\"_-p9zSeVSYLlVzXgQ3CU2gNCuT"
	"95BZnuxFC7NiXsm4XXoGYwxsu4gKONeFik6EIp\",\"kid\":\"ec-384\"},\n"
	"{\"kty\":\"EC\",\"crv\":\"P-521\",\"x\":\"AXgZuWQoGsRowtOtYhXez9AFiI4XPAATs"
	"_vpvASppqDHwg9_uuC03yQ6e_LNVr5moh8Pyajf5dV3mVHYrRj0mHuq\",\"y\":\"AH"
	"yyA7jjZxvCoDoTVPNHvdazHWfxo1TIniz1Xxoq6CHKE7aIE49Otg9MQUyj08LjHt"
	"WHBsFSJNT7WB5N0hUpLHFu\",\"kid\":\"ec-521\",\"alg\":\"ES512\"},\n"
	"{\"kty\":\"EC\",\"crv\":\"secp256k1\",\"x\":\"zgimUnjLVb0yyJunXNbfRuNfXIt0w"
	"0qNAbh-rh0DmbA\",\"y\":\"kHxt0KyWdn2ux4aOclMcSG8ZZHZxPHvNHvFaXUpqTnc"
	"\",\"kid\":\"k1\"},\n"
	"{\"kty\":\"OKP\",\"crv\":\"Ed25519\",\"x\":\"_exSXJKYXLLQbwxTWTspDi9VF9zX67"
	"idvLQxMZc4L5o\",\"kid\":\"ed-1\",\"alg\":\"EdDSA\"},\n"
	"{\"kty\":\"OKP\",\"crv\":\"Ed448\",\"x\":\"jwtKSHOWUjDhBl-Mt6YAkrFvFkllHzC0"
	"Qq1GZDP06djxkxWlbH1spoxC23T6rCKtXJis3TrF7bKA\",\"kid\":\"ed448\"},\n"
	"{\"kty\":\"OKP\",\"crv\":\"X25519\",\"x\":\"3bpK4cziF-eboiE_B_kxweCERmoG5ky"
	"bMaXuNpS9eFI\",\"kid\":\"enc-x25519\",\"use\":\"enc\"},\n"
	"{\"kty\":\"RSA\",\"n\":\"sdrx-fdL46jopJbSkrwbtILhlHh-Qi2jYlOrxfTaiycUBK"
	"0EcqozWU0oyxI59YDrb2wYtVb17D_0uGWxpJVs3QcIE6tX17DnbxfdYY7i826-Nl"
	"9iYTAcfL-Hjnwcn_q1pxXpwLdI_HF64vcwLUAc5j9QTtk8SW4HXCd49JNqemhqII"
	"3QskGZLKUMmYldbbe6qZXs95poNFhAd3L9FEAImLo3D22WyJZ3R4MMSMHnQnZ4U5"
	"nrZ-_tOyEyZs35PWQCseLtlzoPrLKvGjBMAbZ2Chz1ryHob93BURZjmz8zEBJg-2"
	"Qjiiza1PVOeCvkZOGjfJwx_gE3RXg0Dev_Hc0bEQ\",\"e\":\"AQAB\",\"kid\":\"rsa-"
	"enc\",\"use\":\"enc\"}\n"
	"]}\n";

/* "now" of the claim checks, and the seed corpus's iat. */
#define NOW 1700000000.0

enum
{
	KS_HMAC,					/* the secret above, as a key text */
	KS_RSA,						/* RSA 2048 public JWK */
	KS_EC,						/* P-256 public JWK, kid "ec-p256" */
	KS_ED25519,					/* Ed25519 public JWK */
	KS_JWKS,					/* a JWKS: kids, alg, use, key_ops, unusable members */
	KS_REGISTRY,				/* registry keys: kid, one algorithm, a window */
	KS_COUNT
};

static jose_keyset *keysets[KS_COUNT];

static const char *const required[] = {"sub"};

/* Verify options: bytes, strict JWT, lenient JWT with a small size cap. */
static jose_verify_opts opts[3];

/* The header memo, kept from one input to the next as a backend keeps it. */
static jose_header_memo memo;

static jose_keyset *
import_or_die(const char *text, size_t len, jose_key_form form)
{
	jose_keyset *ks = NULL;
	jose_status st = jose_keyset_import(text, len, form, &ks);

	FUZZ_CHECK(st == JOSE_OK, "a fixed test key does not import");
	return ks;
}

/* One registry key: the key text under kid, pinned to alg, valid in a window. */
static void
registry_add(jose_keyset *reg, const char *text, const char *kid, jose_alg alg,
			 double from, double until)
{
	jose_keyset *one = import_or_die(text, strlen(text), JOSE_KEY_TEXT);
	jose_key   *k = (jose_key *) jose_keyset_key(one, 0);

	jose_key_restrict(k, alg, from, until != 0, until);
	FUZZ_CHECK(jose_key_set_kid(k, kid, strlen(kid)) == JOSE_OK, "set kid");
	FUZZ_CHECK(jose_keyset_adopt(reg, one) == JOSE_OK, "adopt");
}

static void
free_keysets(void)
{
	for (int i = 0; i < KS_COUNT; i++)
	{
		jose_keyset_free(keysets[i]);
		keysets[i] = NULL;
	}
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void) argc;
	(void) argv;
	keysets[KS_HMAC] = import_or_die(HMAC_SECRET, strlen(HMAC_SECRET), JOSE_KEY_TEXT);
	keysets[KS_RSA] = import_or_die(RSA_JWK, strlen(RSA_JWK), JOSE_KEY_TEXT);
	keysets[KS_EC] = import_or_die(EC_JWK, strlen(EC_JWK), JOSE_KEY_TEXT);
	keysets[KS_ED25519] = import_or_die(ED25519_JWK, strlen(ED25519_JWK), JOSE_KEY_TEXT);
	keysets[KS_JWKS] = import_or_die(JWKS, strlen(JWKS), JOSE_KEY_TEXT);
	FUZZ_CHECK(jose_keyset_count(keysets[KS_JWKS]) == 10, "JWKS members");

	keysets[KS_REGISTRY] = jose_keyset_new();
	FUZZ_CHECK(keysets[KS_REGISTRY] != NULL, "jose_keyset_new");
	registry_add(keysets[KS_REGISTRY], RSA_JWK, "reg-rsa", JOSE_ALG_RS256, 1.6e9, 0);
	registry_add(keysets[KS_REGISTRY], EC_JWK, "reg-ec-old", JOSE_ALG_ES256, 1.0e9, 1.5e9);
	registry_add(keysets[KS_REGISTRY], ED25519_JWK, "reg-ed", JOSE_ALG_EDDSA, 1.6e9, 2.0e9);
	atexit(free_keysets);

	/* the payload as bytes; any algorithm the keys allow */
	opts[0].max_len = 1 << 20;

	/* a strict JWT: audience, issuer, a required claim, a maximum age */
	opts[1].max_len = 1 << 20;
	opts[1].algorithms = JOSE_ALGS_ALL & ~JOSE_ALGBIT(JOSE_ALG_HS384);
	opts[1].jwt = 1;
	opts[1].claims.now = NOW;
	opts[1].claims.leeway = 30;
	opts[1].claims.audience = "api";
	opts[1].claims.audience_len = 3;
	opts[1].claims.issuer = "https://issuer.example";
	opts[1].claims.issuer_len = strlen("https://issuer.example");
	opts[1].claims.required = required;
	opts[1].claims.nrequired = 1;
	opts[1].claims.max_age = 86400;
	opts[1].check_key_time = 1;
	opts[1].key_time = NOW;

	/* a lenient JWT (no audience expected), a small cap, an earlier key time */
	opts[2].max_len = 2048;
	opts[2].algorithms = JOSE_ALGBIT(JOSE_ALG_HS256) | JOSE_ALGBIT(JOSE_ALG_HS512) |
		JOSE_ALGBIT(JOSE_ALG_RS256) | JOSE_ALGBIT(JOSE_ALG_PS384) |
		JOSE_ALGBIT(JOSE_ALG_ES256) | JOSE_ALGBIT(JOSE_ALG_ES512) |
		JOSE_ALGBIT(JOSE_ALG_EDDSA) | JOSE_ALGBIT(JOSE_ALG_ED448);
	opts[2].jwt = 1;
	opts[2].claims.now = NOW;
	opts[2].check_key_time = 1;
	opts[2].key_time = 1.2e9;
	return 0;
}

/* Read every byte of a result, so that the sanitizers see each one. */
static volatile unsigned sink;

static void
touch(const unsigned char *p, size_t n)
{
	unsigned	acc = 0;

	for (size_t i = 0; i < n; i++)
		acc += p[i];
	sink += acc;
}

static int
key_in_set(const jose_keyset *ks, const jose_key *key)
{
	for (size_t i = 0; i < jose_keyset_count(ks); i++)
		if (jose_keyset_key(ks, i) == key)
			return 1;
	return 0;
}

/* jose_decode, which checks nothing but the form; its status. */
static jose_status
decode_one(const char *tok, size_t len)
{
	size_t		buflen = JOSE_VERIFY_BUFLEN(len);
	unsigned char *buf = malloc(buflen);
	jose_decoded d;
	jose_status st;

	FUZZ_CHECK(buf != NULL, "malloc");
	st = jose_decode(tok, len, 1 << 20, buf, buflen, &d);
	if (st == JOSE_OK)
	{
		FUZZ_CHECK(d.header >= buf && d.header + d.header_len <= buf + buflen, "header in buf");
		FUZZ_CHECK(d.payload >= buf && d.payload + d.payload_len <= buf + buflen, "payload in buf");
		touch(d.header, d.header_len);
		touch(d.payload, d.payload_len);
	}
	else
	{
		FUZZ_CHECK(jose_status_class_of(st) == JOSE_CLASS_TOKEN,
				   "a token made jose_decode fail with a non-token status");
		FUZZ_CHECK(d.payload == NULL && d.header == NULL, "decode result on failure");
	}
	FUZZ_CHECK(jose_status_detail(st) != NULL, "status detail");
	free(buf);
	return st;
}

/* Every key set under every option set; the promises of jose_verify(). */
static void
verify_all(const char *tok, size_t len, int only_hmac)
{
	size_t		buflen = JOSE_VERIFY_BUFLEN(len);
	unsigned char *buf = malloc(buflen);
	int			decoded = -1;

	FUZZ_CHECK(buf != NULL, "malloc");
	for (int k = 0; k < KS_COUNT; k++)
	{
		if (only_hmac && k != KS_HMAC)
			continue;
		for (int o = 0; o < 3; o++)
		{
			jose_verified v;
			jose_verify_opts oo = opts[o];
			jose_json_tape tape;
			jose_status st;

			/* a JWT's claims onto a tape, as jwt_verify() has them */
			jose_json_tape_init(&tape);
			if (oo.jwt)
				oo.tape = &tape;
			st = jose_verify(tok, len, keysets[k], &oo, buf, buflen, &v);
			if (st == JOSE_OK && oo.jwt)
				FUZZ_CHECK(tape.n > 0 && tape.nodes[0].v.type == JOSE_JSON_OBJECT &&
						   tape.nodes[0].end == tape.n &&
						   tape.nodes[0].v.p >= (const char *) v.payload &&
						   tape.nodes[0].v.p + tape.nodes[0].v.len <=
						   (const char *) v.payload + v.payload_len,
						   "a verified JWT's tape is not its claims object");
			jose_json_tape_free(&tape);

			/*
			 * With the header memo, holding the last input's good header and
			 * then this one's: the same outcome, in another buffer.
			 */
			for (int round = 0; round < 2; round++)
			{
				unsigned char *mbuf = malloc(buflen);
				jose_verify_opts mo = opts[o];
				jose_verified mv;
				jose_status mst;

				FUZZ_CHECK(mbuf != NULL, "malloc");
				mo.header_memo = &memo;
				mst = jose_verify(tok, len, keysets[k], &mo, mbuf, buflen, &mv);
				FUZZ_CHECK(mst == st && mv.alg == v.alg && mv.key == v.key &&
						   mv.payload_len == v.payload_len &&
						   (st != JOSE_OK ||
							memcmp(mv.payload, v.payload, v.payload_len) == 0) &&
						   mv.json_error == v.json_error &&
						   mv.detail_claim == v.detail_claim,
						   "the header memo changed jose_verify's outcome");
				free(mbuf);
			}

			FUZZ_CHECK(jose_status_detail(st) != NULL, "status detail");
			if (st != JOSE_OK)
			{
				/* a token, however hostile, is only ever a bad token */
				FUZZ_CHECK(jose_status_class_of(st) == JOSE_CLASS_TOKEN,
						   "a token made jose_verify fail with a non-token status");
				FUZZ_CHECK(v.payload == NULL && v.key == NULL,
						   "jose_verify handed back a result with a failure");
				continue;
			}
			FUZZ_CHECK(v.key != NULL && key_in_set(keysets[k], v.key), "verifying key");
			FUZZ_CHECK(jose_key_check(v.key, v.alg, JOSE_OP_VERIFY) == JOSE_OK,
					   "the verifying key cannot verify the algorithm");
			FUZZ_CHECK(opts[o].algorithms == 0 || (opts[o].algorithms & JOSE_ALGBIT(v.alg)),
					   "an algorithm outside the allowed ones verified");
			FUZZ_CHECK(len <= opts[o].max_len, "over the size cap");
			FUZZ_CHECK(v.payload >= buf && v.payload + v.payload_len <= buf + buflen,
					   "payload outside the buffer");
			touch(v.payload, v.payload_len);
			if (opts[o].jwt)
			{
				/* a verified claims set is JSON, so the decoder takes the token too */
				if (decoded < 0)
					decoded = decode_one(tok, len) == JOSE_OK;
				FUZZ_CHECK(decoded == 1, "a verified JWT that jose_decode refuses");
			}
		}
	}
	free(buf);
}

/*
 * "header\npayload": sign it with the secret, under the HMAC the header
 * names (HS256 when it names none), and verify what comes out.
 */
static void
sign_and_verify(const char *data, size_t size, const char *nl)
{
	const jose_key *key = jose_keyset_key(keysets[KS_HMAC], 0);
	size_t		hlen = (size_t) (nl - data);
	const char *payload = nl + 1;
	size_t		plen = size - hlen - 1;
	jose_alg	alg = JOSE_ALG_HS256;
	size_t		cap = jose_sign_len(hlen, plen);
	char	   *tok = malloc(cap);
	size_t		toklen = 0;
	jose_status st;

	FUZZ_CHECK(tok != NULL, "malloc");
	if (memmem(data, hlen, "HS384", 5) != NULL)
		alg = JOSE_ALG_HS384;
	else if (memmem(data, hlen, "HS512", 5) != NULL)
		alg = JOSE_ALG_HS512;
	st = jose_sign(key, alg, data, hlen, (const unsigned char *) payload, plen,
				   tok, cap, &toklen);
	FUZZ_CHECK(st == JOSE_OK, "jose_sign with the HMAC key");
	FUZZ_CHECK(toklen <= cap, "jose_sign wrote past its length");
	verify_all(tok, toklen, 1);
	decode_one(tok, toklen);
	free(tok);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *s = (const char *) data;
	const char *nl = memchr(s, '\n', size);

	verify_all(s, size, 0);
	decode_one(s, size);
	if (nl != NULL)
		sign_and_verify(s, size, nl);
	return 0;
}
