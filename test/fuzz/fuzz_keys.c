/*
 * fuzz_keys.c
 *		libFuzzer harness: jose_keyset_import() of the input as a key text
 *		(JWK, JWKS, PEM, or a secret, by its form) and as a binary secret,
 *		then everything the API does with a key: its algorithms, its public
 *		and private JWK, its thumbprint, signing and verifying, and a
 *		registry set made from it.
 *
 * Beyond memory errors it checks what the importer promises: a failed
 * import is the caller's error (22023), never a bad token nor a half-made
 * set; a key's public JWK imports again as the same key (same thumbprint,
 * same algorithms); a signature it makes verifies, and one flipped bit
 * does not; garbage never verifies.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/jose.h"
#include "fuzz.h"

static const unsigned char message[] = "eyJhbGciOiJub25lIn0.eyJzdWIiOiJmdXp6In0";

/* A signature length worth trying for alg: the one it must have, or 0. */
static size_t
sig_len_for(jose_alg alg, int rsa_try)
{
	static const size_t rsa_lens[3] = {256, 384, 512};

	switch (alg)
	{
		case JOSE_ALG_HS256:
		case JOSE_ALG_ES256:
		case JOSE_ALG_ES256K:
		case JOSE_ALG_EDDSA:
		case JOSE_ALG_ED25519:
			return alg == JOSE_ALG_HS256 ? 32 : 64;
		case JOSE_ALG_HS384:
			return 48;
		case JOSE_ALG_HS512:
			return 64;
		case JOSE_ALG_ES384:
			return 96;
		case JOSE_ALG_ES512:
			return 132;
		case JOSE_ALG_ED448:
			return 114;
		default:
			return rsa_lens[rsa_try];	/* RSA: the usual modulus sizes */
	}
}

/* What the key signs verifies; a flipped bit, and garbage, do not. */
static void
exercise_signatures(const jose_key *key, jose_algset sign, jose_algset verify)
{
	static unsigned char garbage[JOSE_MAX_SIG_LEN];
	unsigned char *sig = malloc(JOSE_MAX_SIG_LEN);

	FUZZ_CHECK(sig != NULL, "malloc");
	memset(garbage, 0x5a, sizeof(garbage));
	for (int a = 1; a < JOSE_ALG_COUNT_; a++)
	{
		const jose_alg_info *info = jose_alg_get((jose_alg) a);
		size_t		siglen = 0;
		jose_status st;

		if (sign & JOSE_ALGBIT(a))
		{
			st = jose_sig_sign(key, (jose_alg) a, message, sizeof(message) - 1, sig, &siglen);
			if (st == JOSE_OK)
			{
				FUZZ_CHECK(siglen > 0 && siglen <= JOSE_MAX_SIG_LEN, "signature length");
				if (verify & JOSE_ALGBIT(a))
				{
					FUZZ_CHECK(jose_sig_verify(key, (jose_alg) a, message, sizeof(message) - 1,
											   sig, siglen) == JOSE_OK,
							   "a key's own signature does not verify");
					sig[siglen / 2] ^= 0x01;
					FUZZ_CHECK(jose_sig_verify(key, (jose_alg) a, message, sizeof(message) - 1,
											   sig, siglen) != JOSE_OK,
							   "a signature with a flipped bit verifies");
				}
			}
		}
		if (verify & JOSE_ALGBIT(a))
		{
			int			tries = info->family == JOSE_FAM_RSA || info->family == JOSE_FAM_RSA_PSS ? 3 : 1;

			for (int t = 0; t < tries; t++)
				FUZZ_CHECK(jose_sig_verify(key, (jose_alg) a, message, sizeof(message) - 1,
										   garbage, sig_len_for((jose_alg) a, t)) != JOSE_OK,
						   "a garbage signature verifies");
			if (a == JOSE_ALG_EDDSA)
				FUZZ_CHECK(jose_sig_verify(key, (jose_alg) a, message, sizeof(message) - 1,
										   garbage, 114) != JOSE_OK,
						   "a garbage Ed448 signature verifies");
		}
	}
	free(sig);
}

/*
 * The key's JWK imports again as the same key.
 *
 * The core checks RSA public keys deterministically (trial division, no
 * random bases), so a public key's answer never changes.  A private key's
 * pairwise check is OpenSSL's (SP 800-56B), whose primality tests use random
 * bases: a private key whose p or q is composite may import one time and
 * not the next.  So a refused RSA re-import is tried a few times before it
 * counts.
 */
static void
reimport(const char *json, size_t len, const jose_key *orig, const char *tp,
		 jose_op op, const char *what)
{
	jose_keyset *ks = NULL;
	jose_status st = jose_keyset_import(json, len, JOSE_KEY_TEXT, &ks);
	char		tp2[JOSE_THUMBPRINT_LEN + 1];
	const jose_key *k;

	for (int retry = 0; retry < 8 && st == JOSE_E_KEY_INVALID &&
		 jose_key_kty(orig) == JOSE_KTY_RSA; retry++)
		st = jose_keyset_import(json, len, JOSE_KEY_TEXT, &ks);
	if (st != JOSE_OK)
		fprintf(stderr, "%s %.*s: %s\n", what, (int) len, json, jose_status_detail(st));
	FUZZ_CHECK(st == JOSE_OK, "a key's own JWK does not import");
	FUZZ_CHECK(jose_keyset_count(ks) == 1 && !jose_keyset_is_set(ks), "one key");
	k = jose_keyset_key(ks, 0);
	FUZZ_CHECK(jose_key_kty(k) == jose_key_kty(orig), "kty changed");
	FUZZ_CHECK(jose_key_thumbprint(k, tp2) == JOSE_OK && strcmp(tp, tp2) == 0,
			   "a key's own JWK has another thumbprint");
	if (op == JOSE_OP_VERIFY)
		FUZZ_CHECK(jose_key_algs(k, op) == jose_key_algs(orig, op),
				   "a key's public JWK verifies other algorithms");
	jose_keyset_free(ks);
}

static void
exercise_key(const jose_key *key)
{
	jose_kty	kty = jose_key_kty(key);
	size_t		kid_len = 0;
	const char *kid = jose_key_kid(key, &kid_len);
	jose_algset sign = jose_key_algs(key, JOSE_OP_SIGN);
	jose_algset verify = jose_key_algs(key, JOSE_OP_VERIFY);
	jose_alg	natural = jose_key_natural_alg(key);
	char		tp[JOSE_THUMBPRINT_LEN + 1];
	char	   *json = NULL;
	size_t		len = 0;
	jose_status st;

	FUZZ_CHECK(kty >= 0 && kty <= JOSE_KTY_OKP, "kty");
	if (kid != NULL)
		FUZZ_CHECK(strlen(kid) == kid_len, "a kid with a NUL, or unterminated");
	FUZZ_CHECK(((sign | verify) & ~JOSE_ALGS_ALL) == 0, "algorithm bits");
	FUZZ_CHECK(kty != 0 || (sign | verify) == 0, "an unusable set member can do something");
	if (natural != JOSE_ALG_UNSET)
		FUZZ_CHECK(jose_alg_get(natural) != NULL, "natural algorithm");

	st = jose_key_thumbprint(key, tp);
	if (kty == 0)
	{
		FUZZ_CHECK(st == JOSE_E_KEY_KTY, "thumbprint of an unusable key");
		return;
	}
	FUZZ_CHECK(st == JOSE_OK && strlen(tp) == JOSE_THUMBPRINT_LEN, "thumbprint");

	st = jose_key_public_jwk(key, &json, &len);
	if (st == JOSE_OK)
	{
		FUZZ_CHECK(kty != JOSE_KTY_OCT, "a secret's public JWK");
		FUZZ_CHECK(strlen(json) == len, "public JWK length");
		FUZZ_CHECK(jose_json_validate(json, len, NULL) == JOSE_JSON_OK, "public JWK is JSON");
		reimport(json, len, key, tp, JOSE_OP_VERIFY, "public JWK");
		jose_free(json);
	}
	else
		FUZZ_CHECK(jose_status_class_of(st) == JOSE_CLASS_CALL, "public JWK status");

	json = NULL;
	st = jose_key_private_jwk(key, natural, "fuzz\"kid", &json, &len);
	if (st == JOSE_OK)
	{
		FUZZ_CHECK(strlen(json) == len, "private JWK length");
		reimport(json, len, key, tp, JOSE_OP_SIGN, "private JWK");
		jose_cleanse(json, len);
		jose_free(json);
	}
	else
		FUZZ_CHECK(jose_status_class_of(st) == JOSE_CLASS_CALL, "private JWK status");

	exercise_signatures(key, sign, verify);
}

/* The union of jose_key_algs over the keys, key by key (a set keeps it summarised). */
static jose_algset
union_algs(const jose_keyset *ks, jose_op op)
{
	jose_algset set = 0;

	for (size_t i = 0; i < jose_keyset_count(ks); i++)
		set |= jose_key_algs(jose_keyset_key(ks, i), op);
	return set;
}

static void
exercise_set(const jose_keyset *ks)
{
	size_t		n = jose_keyset_count(ks);

	FUZZ_CHECK(n > 0, "an empty key set imported");
	FUZZ_CHECK(jose_keyset_is_set(ks) || n == 1, "one key outside a set");
	FUZZ_CHECK(jose_keyset_key(ks, n) == NULL, "a key past the end");
	FUZZ_CHECK(jose_keyset_algs(ks, JOSE_OP_SIGN) == union_algs(ks, JOSE_OP_SIGN) &&
			   jose_keyset_algs(ks, JOSE_OP_VERIFY) == union_algs(ks, JOSE_OP_VERIFY),
			   "a set's summary is not the union of its keys' algorithms");
	for (size_t i = 0; i < n; i++)
		exercise_key(jose_keyset_key(ks, i));
}

/* What the key registry does with an imported key: a kid, one algorithm, a window. */
static void
registry(jose_keyset *one, const uint8_t *data, size_t size)
{
	jose_keyset *reg = jose_keyset_new();
	jose_key   *k = (jose_key *) jose_keyset_key(one, 0);

	FUZZ_CHECK(reg != NULL, "jose_keyset_new");
	jose_key_restrict(k, jose_key_natural_alg(k), 1.0e9, size % 2 == 0, 2.0e9);
	FUZZ_CHECK(jose_key_set_kid(k, (const char *) data, size < 8 ? size : 8) == JOSE_OK, "kid");
	FUZZ_CHECK(jose_keyset_adopt(reg, one) == JOSE_OK, "adopt");
	FUZZ_CHECK(jose_keyset_algs(reg, JOSE_OP_VERIFY) == union_algs(reg, JOSE_OP_VERIFY),
			   "an adopted set's algorithms");
	FUZZ_CHECK(jose_keyset_index(reg) == JOSE_OK, "index");
	FUZZ_CHECK(jose_keyset_algs(reg, JOSE_OP_VERIFY) == union_algs(reg, JOSE_OP_VERIFY),
			   "an indexed set's summary");
	jose_keyset_free(reg);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *s = (const char *) data;
	jose_keyset *ks = NULL;
	jose_status st;

	/* as a key text: JWK, JWKS, PEM or a secret, by its form */
	st = jose_keyset_import(s, size, JOSE_KEY_TEXT, &ks);
	FUZZ_CHECK(jose_status_detail(st) != NULL, "status detail");
	if (st == JOSE_OK)
	{
		FUZZ_CHECK(ks != NULL, "no set");
		exercise_set(ks);
		if (!jose_keyset_is_set(ks))
			registry(ks, data, size);	/* takes ks */
		else
			jose_keyset_free(ks);
	}
	else
	{
		FUZZ_CHECK(ks == NULL, "a set with a failure");
		FUZZ_CHECK(jose_status_class_of(st) == JOSE_CLASS_CALL,
				   "a key text failed with a status that is not the caller's error");
	}

	/*
	 * as a binary secret: any bytes are one, except a key's own text or
	 * encoding, an SSH key among them (never a shared secret), and bytes over
	 * the key-text cap
	 */
	ks = NULL;
	st = jose_keyset_import(s, size, JOSE_KEY_SECRET, &ks);
	if (size == 0)
		FUZZ_CHECK(st == JOSE_E_KEY_EMPTY && ks == NULL, "an empty secret");
	else if (st == JOSE_E_KEY_NOT_SECRET || st == JOSE_E_KEY_SSH || st == JOSE_E_KEY_TOO_LARGE)
		FUZZ_CHECK(ks == NULL && (st != JOSE_E_KEY_TOO_LARGE || size > JOSE_MAX_KEY_TEXT),
				   "a refused secret");
	else
	{
		FUZZ_CHECK(st == JOSE_OK, "bytes that are no secret");
		FUZZ_CHECK(jose_keyset_count(ks) == 1 &&
				   jose_key_kty(jose_keyset_key(ks, 0)) == JOSE_KTY_OCT, "a secret");
		exercise_set(ks);
		jose_keyset_free(ks);
	}
	return 0;
}
