/*
 * mutants.c
 *		Checks that test/mutation.py showed missing: with each of these rules
 *		removed from src/core, every other core check still passed.  Each
 *		block names the mutant (its marker in the source) it catches.
 *
 * Copyright (c) 2026, the jwt for PostgreSQL developers.  PostgreSQL licence.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>

#include "testutil.h"

#define MNOW 1700000000.0

static jose_verify_opts
m_opts(void)
{
	jose_verify_opts o;

	memset(&o, 0, sizeof(o));
	o.max_len = 65536;
	o.jwt = 1;
	o.claims.now = MNOW;
	return o;
}

static jose_status
m_verify(const char *t, const jose_keyset *ks, const jose_verify_opts *o)
{
	size_t		len = strlen(t);
	size_t		buflen = JOSE_VERIFY_BUFLEN(len);
	unsigned char *buf = malloc(buflen);
	jose_verified v;
	jose_status st;

	if (buf == NULL)
		return JOSE_E_NOMEM;
	st = jose_verify(t, len, ks, o, buf, buflen, &v);
	free(buf);
	return st;
}

/* A compact token, NUL-terminated, in memory the caller frees; NULL on error. */
static char *
m_sign(const jose_key *key, jose_alg alg, const char *hdr, const char *payload)
{
	size_t		cap = jose_sign_len(strlen(hdr), strlen(payload)) + 1;
	char	   *out = malloc(cap);
	size_t		n = 0;

	if (out == NULL)
		return NULL;
	if (jose_sign(key, alg, hdr, strlen(hdr), (const unsigned char *) payload,
				  strlen(payload), out, cap, &n) != JOSE_OK)
	{
		free(out);
		return NULL;
	}
	out[n] = '\0';
	return out;
}

static jose_status
m_import(const char *text, jose_keyset **ks)
{
	return jose_keyset_import(text, strlen(text), JOSE_KEY_TEXT, ks);
}

static const char SECRET_JWK_K[] =
"c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0LXNlY3JldA";

/* rule-6-required-claims, rule-6-max-age */
static void
test_claim_rules(void)
{
	char		jwk[256];
	jose_keyset *ks = NULL;
	const char *const required[] = {"sub", "jti"};
	jose_verify_opts o = m_opts();
	char	   *old,
			   *noiat,
			   *fresh;

	snprintf(jwk, sizeof(jwk), "{\"kty\":\"oct\",\"k\":\"%s\"}", SECRET_JWK_K);
	CHECK_ST(m_import(jwk, &ks), JOSE_OK, "mutants: an oct JWK imports");
	if (ks == NULL)
		return;
	old = m_sign(jose_keyset_key(ks, 0), JOSE_ALG_HS256, "{\"alg\":\"HS256\"}",
				 "{\"sub\":\"a\",\"iat\":1699999880}");
	noiat = m_sign(jose_keyset_key(ks, 0), JOSE_ALG_HS256, "{\"alg\":\"HS256\"}",
				   "{\"sub\":\"a\"}");
	fresh = m_sign(jose_keyset_key(ks, 0), JOSE_ALG_HS256, "{\"alg\":\"HS256\"}",
				   "{\"sub\":\"a\",\"iat\":1699999990}");
	if (old && noiat && fresh)
	{
		o.claims.required = required;
		o.claims.nrequired = 2;
		CHECK_ST(m_verify(fresh, ks, &o), JOSE_E_CLAIM_MISSING,
				 "mutants: a required claim (jti) that is absent refuses the token");
		o.claims.nrequired = 1;
		CHECK_ST(m_verify(fresh, ks, &o), JOSE_OK,
				 "mutants: ... and the token verifies when only sub is required");
		o.claims.nrequired = 0;
		o.claims.max_age = 60;
		CHECK_ST(m_verify(old, ks, &o), JOSE_E_TOO_OLD,
				 "mutants: max_age 60 s refuses a token issued 120 s ago");
		CHECK_ST(m_verify(noiat, ks, &o), JOSE_E_CLAIM_MISSING,
				 "mutants: max_age refuses a token without iat");
		CHECK_ST(m_verify(fresh, ks, &o), JOSE_OK,
				 "mutants: max_age 60 s accepts a token issued 10 s ago");
	}
	else
		CHECK(0, "mutants: the claim-rule tokens sign");
	free(old);
	free(noiat);
	free(fresh);
	jose_keyset_free(ks);
}

/* rule-3-kid-in-set-needs-kid, key-jwks-mixed-secret-public */
static void
test_sets(void)
{
	char		text[4096];
	jose_keyset *set = NULL,
			   *ks = NULL;
	jose_key   *rsa = NULL;
	char	   *pub = NULL;
	size_t		publen = 0;
	char	   *t;

	snprintf(text, sizeof(text), "{\"keys\":[{\"kty\":\"oct\",\"k\":\"%s\"}]}", SECRET_JWK_K);
	CHECK_ST(m_import(text, &set), JOSE_OK, "mutants: a JWKS of one oct key without kid imports");
	snprintf(text, sizeof(text), "{\"kty\":\"oct\",\"k\":\"%s\"}", SECRET_JWK_K);
	if (set != NULL && m_import(text, &ks) == JOSE_OK)
	{
		jose_verify_opts o = m_opts();

		t = m_sign(jose_keyset_key(ks, 0), JOSE_ALG_HS256,
				   "{\"alg\":\"HS256\",\"kid\":\"x\"}", "{\"sub\":\"a\"}");
		CHECK(t != NULL, "mutants: a token with kid x signs");
		if (t != NULL)
			CHECK_ST(m_verify(t, set, &o), JOSE_E_KID_UNKNOWN,
					 "mutants: in a set, a token's kid never matches a key without kid");
		free(t);
	}
	jose_keyset_free(set);
	jose_keyset_free(ks);

	/* a set holding a secret and a public key */
	set = NULL;
	if (jose_key_generate(JOSE_ALG_RS256, &rsa) == JOSE_OK &&
		jose_key_public_jwk(rsa, &pub, &publen) == JOSE_OK)
	{
		snprintf(text, sizeof(text), "{\"keys\":[{\"kty\":\"oct\",\"k\":\"%s\",\"kid\":\"s\"},%.*s]}",
				 SECRET_JWK_K, (int) publen, pub);
		CHECK_ST(m_import(text, &set), JOSE_E_KEYSET_MIXED,
				 "mutants: a JWKS mixing a secret and a public key is refused");
		jose_keyset_free(set);
	}
	else
		CHECK(0, "mutants: an RSA key generates");
	jose_free(pub);
	jose_key_free(rsa);
}

/* key-jwk-text-not-secret, key-ssh-not-secret, key-encrypted-pem */
static void
test_texts(void)
{
	static const char *const ssh[] = {
		"ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl user@host",
		"ecdsa-sha2-nistp256 AAAAE2VjZHNhLXNoYTItbmlzdHAyNTYAAAAIbmlzdHAyNTY= me",
	};
	static const char *const encrypted[] = {
		"-----BEGIN ENCRYPTED PRIVATE KEY-----\nMIIBvTBXBgkqhkiG9w0BBQ0wSjApBgkqhkiG9w0BBQwwHAQI\n"
		"-----END ENCRYPTED PRIVATE KEY-----\n",
		"-----BEGIN RSA PRIVATE KEY-----\nProc-Type: 4,ENCRYPTED\nDEK-Info: AES-128-CBC,00112233445566778899AABBCCDDEEFF\n\n"
		"MIIEowIBAAKCAQEA\n-----END RSA PRIVATE KEY-----\n",
	};
	char		text[256];
	jose_keyset *ks = NULL;

	snprintf(text, sizeof(text), "key: {\"kty\":\"oct\",\"k\":\"%s\"}", SECRET_JWK_K);
	CHECK_ST(m_import(text, &ks), JOSE_E_KEY_FORMAT,
			 "mutants: a JWK with text before it is refused, never taken for a secret");
	jose_keyset_free(ks);
	for (size_t i = 0; i < sizeof(ssh) / sizeof(ssh[0]); i++)
	{
		ks = NULL;
		CHECK_ST(m_import(ssh[i], &ks), JOSE_E_KEY_SSH,
				 "mutants: an SSH public key line is refused as a secret (%.20s)", ssh[i]);
		jose_keyset_free(ks);
	}
	for (size_t i = 0; i < sizeof(encrypted) / sizeof(encrypted[0]); i++)
	{
		ks = NULL;
		CHECK_ST(m_import(encrypted[i], &ks), JOSE_E_KEY_ENCRYPTED,
				 "mutants: an encrypted PEM is refused as encrypted (%zu)", i);
		jose_keyset_free(ks);
	}
}

/*
 * key-rsa-roca: a public modulus with the ROCA fingerprint, made here and
 * not taken from the optional vectors.  The check reads only n, and n =
 * 65537 + k * M (M the product of the primes it tests) is 65537 modulo each
 * of them, so a power of 65537: the fingerprint, in a 2048-bit modulus.
 */
static void
test_roca(void)
{
	static const unsigned primes[] = {
		3, 5, 7, 11, 13, 17, 19, 23, 29, 31, 37, 41, 43, 47, 53, 59, 61, 67,
		71, 73, 79, 83, 89, 97, 101, 103, 107, 109, 113, 127, 131, 137, 139,
		149, 151, 157, 163, 167
	};
	BIGNUM	   *m = BN_new(),
			   *k = BN_new(),
			   *n = BN_new();
	BN_CTX	   *ctx = BN_CTX_new();
	unsigned char bin[256];
	char		b64[400];
	char		jwk[600];
	size_t		blen;
	jose_keyset *ks = NULL;

	if (m == NULL || k == NULL || n == NULL || ctx == NULL || !BN_one(m))
	{
		CHECK(0, "mutants: roca: BIGNUM setup");
		goto done;
	}
	for (size_t i = 0; i < sizeof(primes) / sizeof(primes[0]); i++)
		BN_mul_word(m, primes[i]);
	/* k even and large enough that n has exactly 2048 bits */
	BN_set_bit(k, 2047 - BN_num_bits(m) + 1);
	BN_mul(n, k, m, ctx);
	BN_add_word(n, 65537);
	CHECK(BN_num_bits(n) == 2048 && BN_is_odd(n), "mutants: roca: the modulus has 2048 bits");
	blen = (size_t) BN_bn2bin(n, bin);
	b64[jose_b64url_encode(bin, blen, b64)] = '\0';
	snprintf(jwk, sizeof(jwk), "{\"kty\":\"RSA\",\"n\":\"%s\",\"e\":\"AQAB\"}", b64);
	CHECK_ST(m_import(jwk, &ks), JOSE_E_KEY_ROCA,
			 "mutants: an RSA public key with the ROCA fingerprint is refused");
	jose_keyset_free(ks);
done:
	BN_free(m);
	BN_free(k);
	BN_free(n);
	BN_CTX_free(ctx);
}

/*
 * rule-3-alg-for-key-rsa, rule-4-ecdsa-curve-matches-alg,
 * rule-4-eddsa-curve-matches-alg, key-sign-needs-private,
 * rule-4-ecdsa-length
 */
static void
test_key_algs(void)
{
	jose_key   *rsa = NULL,
			   *p256 = NULL,
			   *ed = NULL;
	char	   *pub = NULL;
	size_t		publen = 0;
	jose_keyset *pubset = NULL;

	if (jose_key_generate(JOSE_ALG_RS256, &rsa) != JOSE_OK ||
		jose_key_generate(JOSE_ALG_ES256, &p256) != JOSE_OK ||
		jose_key_generate(JOSE_ALG_EDDSA, &ed) != JOSE_OK)
	{
		CHECK(0, "mutants: keys generate");
		goto done;
	}
	CHECK_ST(jose_key_check(rsa, JOSE_ALG_ES256, JOSE_OP_VERIFY), JOSE_E_KEY_ALG,
			 "mutants: an RSA key cannot verify ES256");
	CHECK_ST(jose_key_check(rsa, JOSE_ALG_EDDSA, JOSE_OP_VERIFY), JOSE_E_KEY_ALG,
			 "mutants: an RSA key cannot verify EdDSA");
	CHECK_ST(jose_key_check(p256, JOSE_ALG_ES384, JOSE_OP_VERIFY), JOSE_E_KEY_ALG,
			 "mutants: a P-256 key cannot verify ES384");
	CHECK_ST(jose_key_check(p256, JOSE_ALG_ES256K, JOSE_OP_VERIFY), JOSE_E_KEY_ALG,
			 "mutants: a P-256 key cannot verify ES256K");
	CHECK_ST(jose_key_check(ed, JOSE_ALG_ED448, JOSE_OP_VERIFY), JOSE_E_KEY_ALG,
			 "mutants: an Ed25519 key cannot verify Ed448");
	CHECK_ST(jose_key_check(ed, JOSE_ALG_ED25519, JOSE_OP_VERIFY), JOSE_OK,
			 "mutants: an Ed25519 key verifies Ed25519");

	if (jose_key_public_jwk(p256, &pub, &publen) == JOSE_OK &&
		jose_keyset_import(pub, publen, JOSE_KEY_TEXT, &pubset) == JOSE_OK)
	{
		jose_verify_opts o = m_opts();
		char	   *t = m_sign(p256, JOSE_ALG_ES256, "{\"alg\":\"ES256\"}", "{\"sub\":\"a\"}");
		unsigned char sig[80];
		size_t		siglen = 0;
		const char *dot;

		CHECK_ST(jose_key_check(jose_keyset_key(pubset, 0), JOSE_ALG_ES256, JOSE_OP_SIGN),
				 JOSE_E_KEY_NOT_PRIVATE, "mutants: a public EC key cannot sign");
		dot = t ? strrchr(t, '.') : NULL;
		if (dot != NULL && strlen(dot + 1) == 86 &&
			jose_b64url_decode(dot + 1, 86, sig, &siglen) && siglen == 64)
		{
			char		longer[400];
			size_t		hp = (size_t) (dot + 1 - t);

			CHECK_ST(m_verify(t, pubset, &o), JOSE_OK, "mutants: the ES256 token verifies");
			/* R||S and one more byte: not the exact length */
			sig[64] = 0;
			memcpy(longer, t, hp);
			longer[hp + jose_b64url_encode(sig, 65, longer + hp)] = '\0';
			CHECK_ST(m_verify(longer, pubset, &o), JOSE_E_SIGNATURE,
					 "mutants: an ES256 signature one byte longer than R||S is refused");
			/* r or s zero, or n and above: refused by the range rule itself */
			{
				static const unsigned char n256[32] = {
					0xff, 0xff, 0xff, 0xff, 0x00, 0x00, 0x00, 0x00, 0xff, 0xff, 0xff, 0xff,
					0xff, 0xff, 0xff, 0xff, 0xbc, 0xe6, 0xfa, 0xad, 0xa7, 0x17, 0x9e, 0x84,
				0xf3, 0xb9, 0xca, 0xc2, 0xfc, 0x63, 0x25, 0x51};
				unsigned char bad[64];
				const char *what[4] = {"r = 0", "s = 0", "r = n", "s = n"};

				for (int i = 0; i < 4; i++)
				{
					memcpy(bad, sig, 64);
					if (i < 2)
						memset(bad + 32 * i, 0, 32);
					else
						memcpy(bad + 32 * (i - 2), n256, 32);
					memcpy(longer, t, hp);
					longer[hp + jose_b64url_encode(bad, 64, longer + hp)] = '\0';
					CHECK_ST(m_verify(longer, pubset, &o), JOSE_E_SIG_RANGE,
							 "mutants: an ES256 signature with %s is refused by the range rule", what[i]);
				}
			}
		}
		else
			CHECK(0, "mutants: an ES256 token signs with a 64-byte signature");
		free(t);
	}
	else
		CHECK(0, "mutants: the P-256 public JWK imports");
	jose_keyset_free(pubset);
	jose_free(pub);
done:
	jose_key_free(rsa);
	jose_key_free(p256);
	jose_key_free(ed);
}

/* Two keys' private JWKs, made once for every member test_pairwise swaps. */
typedef struct key_pair
{
	char	   *j[2];
	size_t		l[2];
} key_pair;

static int
pair_make(jose_alg alg, key_pair *kp)
{
	int			ok = 1;

	memset(kp, 0, sizeof(*kp));
	for (int i = 0; i < 2; i++)
	{
		jose_key   *k = NULL;

		ok = ok && jose_key_generate(alg, &k) == JOSE_OK &&
			jose_key_private_jwk(k, 0, NULL, &kp->j[i], &kp->l[i]) == JOSE_OK;
		jose_key_free(k);
	}
	return ok;
}

static void
pair_free(key_pair *kp)
{
	for (int i = 0; i < 2; i++)
	{
		if (kp->j[i] != NULL)
			jose_cleanse(kp->j[i], kp->l[i]);
		jose_free(kp->j[i]);
	}
}

/*
 * key-rsa-pairwise, key-ec-on-curve (its pairwise half): a private JWK with
 * one member taken from another key's JWK
 */
static void
test_pairwise(const key_pair *kp, int made, const char *member, const char *what)
{
	char		name[16];

	snprintf(name, sizeof(name), "\"%s\":\"", member);
	if (made)
	{
		const char *ja = kp->j[0],
				   *jb = kp->j[1];
		size_t		la = kp->l[0],
					lb = kp->l[1];

		/* a's private JWK with b's member in place of its own */
		const char *na = strstr(ja, name);
		const char *nb = strstr(jb, name);
		const char *ea = na ? strchr(na + strlen(name), '"') : NULL;
		const char *eb = nb ? strchr(nb + strlen(name), '"') : NULL;

		if (ea != NULL && eb != NULL)
		{
			size_t		cap = la + lb + 1;
			char	   *mixed = malloc(cap);
			jose_keyset *ks = NULL;

			if (mixed != NULL)
			{
				snprintf(mixed, cap, "%.*s%.*s%s", (int) (na - ja), ja,
						 (int) (eb - nb), nb, ea);
				CHECK_ST(m_import(mixed, &ks), JOSE_E_KEY_INVALID,
						 "mutants: %s private key whose halves do not match is refused", what);
				jose_keyset_free(ks);
				jose_cleanse(mixed, strlen(mixed));
				free(mixed);
			}
		}
		else
			CHECK(0, "mutants: the %s JWKs hold %s", what, member);
	}
	else
		CHECK(0, "mutants: two %s keys generate", what);
}

/* key-rsa-public-check: a 2048-bit modulus with the factor 3; e = 2 */
static void
test_rsa_public(void)
{
	BIGNUM	   *n = BN_new();
	unsigned char bin[256];
	char		b64[400];
	char		jwk[600];
	jose_keyset *ks = NULL;

	if (n == NULL || !BN_set_bit(n, 2046) || !BN_add_word(n, 1) || !BN_mul_word(n, 3))
	{
		CHECK(0, "mutants: rsa public: BIGNUM setup");
		BN_free(n);
		return;
	}
	CHECK(BN_num_bits(n) == 2048 && BN_is_odd(n), "mutants: rsa public: 3 * (2^2046 + 1) has 2048 bits");
	b64[jose_b64url_encode(bin, (size_t) BN_bn2bin(n, bin), b64)] = '\0';
	snprintf(jwk, sizeof(jwk), "{\"kty\":\"RSA\",\"n\":\"%s\",\"e\":\"AQAB\"}", b64);
	CHECK_ST(m_import(jwk, &ks), JOSE_E_KEY_INVALID,
			 "mutants: an RSA public key whose modulus has a small factor is refused");
	jose_keyset_free(ks);
	BN_free(n);
}

/*
 * rule-4-pss-salt-is-hash-length: PS256 signatures made by OpenSSL with a
 * salt of 0 and of 64 bytes (valid PSS, not RFC 7518's) are refused; the
 * same key's salt of 32 bytes verifies.
 */
static void
test_pss_salt(void)
{
	EVP_PKEY   *pkey = EVP_RSA_gen(2048);
	BIO		   *bio = BIO_new(BIO_s_mem());
	char	   *pem = NULL;
	long		pemlen;
	jose_keyset *ks = NULL;
	static const int salts[] = {32, 0, 64};

	if (pkey == NULL || bio == NULL ||
		!PEM_write_bio_PUBKEY(bio, pkey) || (pemlen = BIO_get_mem_data(bio, &pem)) <= 0 ||
		jose_keyset_import(pem, (size_t) pemlen, JOSE_KEY_TEXT, &ks) != JOSE_OK)
	{
		CHECK(0, "mutants: pss: an RSA key generates and imports");
		goto done;
	}
	for (size_t i = 0; i < sizeof(salts) / sizeof(salts[0]); i++)
	{
		static const char input[] = "eyJhbGciOiJQUzI1NiJ9.eyJzdWIiOiJhIn0";
		unsigned char sig[256];
		size_t		siglen = sizeof(sig);
		EVP_MD_CTX *md = EVP_MD_CTX_new();
		EVP_PKEY_CTX *pctx = NULL;
		char		t[600];
		jose_verify_opts o = m_opts();

		if (md == NULL ||
			EVP_DigestSignInit(md, &pctx, EVP_sha256(), NULL, pkey) != 1 ||
			EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING) != 1 ||
			EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, salts[i]) != 1 ||
			EVP_DigestSign(md, sig, &siglen, (const unsigned char *) input, strlen(input)) != 1)
			CHECK(0, "mutants: pss: OpenSSL signs with salt %d", salts[i]);
		else
		{
			memcpy(t, input, strlen(input));
			t[strlen(input)] = '.';
			t[strlen(input) + 1 + jose_b64url_encode(sig, siglen, t + strlen(input) + 1)] = '\0';
			CHECK_ST(m_verify(t, ks, &o), salts[i] == 32 ? JOSE_OK : JOSE_E_SIGNATURE,
					 "mutants: a PS256 signature with a %d-byte salt is %s", salts[i],
					 salts[i] == 32 ? "accepted" : "refused");
		}
		EVP_MD_CTX_free(md);
	}
done:
	jose_keyset_free(ks);
	BIO_free(bio);
	EVP_PKEY_free(pkey);
}

void
test_mutants(void)
{
	test_claim_rules();
	test_sets();
	test_texts();
	test_roca();
	test_key_algs();
	{
		/* one pair of RSA keys for every member: each takes long to make */
		key_pair	rsa,
					p256;
		int			rsa_made = pair_make(JOSE_ALG_RS256, &rsa),
					p256_made = pair_make(JOSE_ALG_ES256, &p256);

		test_pairwise(&rsa, rsa_made, "n", "an RSA");
		/* each equation of the RSA pairwise check (pkey_pairwise) */
		test_pairwise(&rsa, rsa_made, "d", "an RSA (d)");
		test_pairwise(&rsa, rsa_made, "p", "an RSA (p)");
		test_pairwise(&rsa, rsa_made, "dp", "an RSA (dp)");
		test_pairwise(&rsa, rsa_made, "dq", "an RSA (dq)");
		test_pairwise(&rsa, rsa_made, "qi", "an RSA (qi)");
		test_pairwise(&p256, p256_made, "d", "a P-256");
		pair_free(&rsa);
		pair_free(&p256);
	}
	test_rsa_public();
	test_pss_salt();
}
