/*
 * sig.c
 *		Raw signatures over OpenSSL EVP: the one place where bytes are signed
 *		or checked.  Every entry point first asks the key whether it may do
 *		the algorithm, so no caller can skip that check.
 *
 * What JWS adds to OpenSSL's checks, and why:
 *	- HMAC: the MAC's length before a constant-time compare;
 *	- RSA: the signature is exactly the modulus size; PSS uses a salt of the
 *	  hash length and MGF1 with the same hash (RFC 7518 section 3.5), never
 *	  OpenSSL's "auto" salt length, which accepts other salts;
 *	- ECDSA: JWS carries R||S, each exactly the curve's size, with
 *	  0 < r, s < n checked before any arithmetic (CVE-2022-21449); DER is
 *	  never accepted;
 *	- EdDSA: one-shot, the signature exactly 64 or 114 bytes.
 */
#include <string.h>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/rsa.h>

#include "jose.h"
#include "key_internal.h"

static jose_status
hmac_compute(const jose_key *key, jose_alg alg, const unsigned char *data,
			 size_t len, unsigned char *mac, size_t *maclen)
{
	EVP_MAC_CTX *ctx = key->hmac[alg - JOSE_ALG_HS256];

	if (ctx == NULL)
		return JOSE_E_KEY_SHORT;
	/* a NULL key restarts the context with the key it already holds */
	if (!EVP_MAC_init(ctx, NULL, 0, NULL) ||
		!EVP_MAC_update(ctx, data, len) ||
		!EVP_MAC_final(ctx, mac, maclen, EVP_MAX_MD_SIZE))
	{
		ERR_clear_error();		/* leave no stale error for the next caller */
		return JOSE_E_CRYPTO;
	}
	return JOSE_OK;
}

/* R||S of exactly 2 * coord_len bytes, in range, as DER for OpenSSL. */
static jose_status
ecdsa_raw_to_der(const jose_key *key, const unsigned char *sig, size_t siglen,
				 unsigned char **der, int *derlen)
{
	size_t		n = jose_crv_get(key->crv)->coord_len;
	BIGNUM	   *r = NULL,
			   *s = NULL;
	ECDSA_SIG  *es = NULL;
	jose_status st = JOSE_E_SIGNATURE;

	*der = NULL;
	/* mutation: rule-4-ecdsa-length: siglen != 2 * n => siglen < 2 * n */
	if (siglen != 2 * n)
		return JOSE_E_SIGNATURE;
	r = BN_bin2bn(sig, (int) n, NULL);
	s = BN_bin2bn(sig + n, (int) n, NULL);
	if (r == NULL || s == NULL)
		st = JOSE_E_NOMEM;
	/* mutation: rule-4-ecdsa-range: else if (BN_is_zero(r) => else if (0 && (BN_is_zero(r) ;; BN_cmp(s, key->ec_order) >= 0) => BN_cmp(s, key->ec_order) >= 0)) */
	else if (BN_is_zero(r) || BN_is_zero(s) ||
			 BN_cmp(r, key->ec_order) >= 0 || BN_cmp(s, key->ec_order) >= 0)
		st = JOSE_E_SIG_RANGE;	/* refused before any arithmetic, whatever OpenSSL would do */
	else if ((es = ECDSA_SIG_new()) == NULL || !ECDSA_SIG_set0(es, r, s))
		st = JOSE_E_NOMEM;
	else
	{
		r = s = NULL;			/* es owns them now */
		*derlen = i2d_ECDSA_SIG(es, der);
		st = *derlen > 0 ? JOSE_OK : JOSE_E_CRYPTO;
	}
	ECDSA_SIG_free(es);
	BN_free(r);
	BN_free(s);
	return st;
}

/* OpenSSL's DER signature as JWS R||S. */
static jose_status
ecdsa_der_to_raw(const jose_key *key, const unsigned char *der, size_t derlen,
				 unsigned char *sig, size_t *siglen)
{
	size_t		n = jose_crv_get(key->crv)->coord_len;
	const unsigned char *p = der;
	ECDSA_SIG  *es = d2i_ECDSA_SIG(NULL, &p, (long) derlen);
	const BIGNUM *r,
			   *s;
	jose_status st = JOSE_OK;

	if (es == NULL)
		return JOSE_E_CRYPTO;
	ECDSA_SIG_get0(es, &r, &s);
	if (BN_bn2binpad(r, sig, (int) n) < 0 || BN_bn2binpad(s, sig + n, (int) n) < 0)
		st = JOSE_E_CRYPTO;
	else
		*siglen = 2 * n;
	ECDSA_SIG_free(es);
	return st;
}

/* The digest of the algorithm's hash, fetched once per key. */
static EVP_MD *
cached_md(jose_pkey_cache *c, const jose_alg_info *info)
{
	int			i = info->hash_len == 32 ? 0 : info->hash_len == 48 ? 1 : 2;

	if (c->md[i] == NULL)
		c->md[i] = EVP_MD_fetch(NULL, info->digest, NULL);
	return c->md[i];
}

/*
 * A sign or verify context for RSA or ECDSA over a precomputed digest, made
 * once per key and algorithm and reused.
 */
static EVP_PKEY_CTX *
prepared_ctx(const jose_key *key, const jose_alg_info *info, int sign)
{
	jose_pkey_cache *c = key->cache;
	EVP_PKEY_CTX **slot;
	jose_alg   *slot_alg;
	EVP_PKEY_CTX *ctx;
	EVP_MD	   *md;
	int			ok;

	if (c == NULL)
		return NULL;
	slot = sign ? &c->sign_ctx : &c->verify_ctx;
	slot_alg = sign ? &c->sign_alg : &c->verify_alg;
	if (*slot != NULL && *slot_alg == info->alg)
		return *slot;

	if ((md = cached_md(c, info)) == NULL ||
		(ctx = EVP_PKEY_CTX_new_from_pkey(NULL, key->pkey, NULL)) == NULL)
		return NULL;
	ok = (sign ? EVP_PKEY_sign_init(ctx) : EVP_PKEY_verify_init(ctx)) == 1;
	if (ok && info->family == JOSE_FAM_RSA)
		ok = EVP_PKEY_CTX_set_rsa_padding(ctx, RSA_PKCS1_PADDING) == 1;
	else if (ok && info->family == JOSE_FAM_RSA_PSS)
		ok = EVP_PKEY_CTX_set_rsa_padding(ctx, RSA_PKCS1_PSS_PADDING) == 1 &&
			/* mutation: rule-4-pss-salt-is-hash-length: RSA_PSS_SALTLEN_DIGEST => RSA_PSS_SALTLEN_AUTO */
			EVP_PKEY_CTX_set_rsa_pss_saltlen(ctx, RSA_PSS_SALTLEN_DIGEST) == 1 &&
			EVP_PKEY_CTX_set_rsa_mgf1_md(ctx, md) == 1;
	if (ok)
		ok = EVP_PKEY_CTX_set_signature_md(ctx, md) == 1;
	if (!ok)
	{
		EVP_PKEY_CTX_free(ctx);
		return NULL;
	}
	EVP_PKEY_CTX_free(*slot);
	*slot = ctx;
	*slot_alg = info->alg;
	return ctx;
}

static jose_status
digest_of(const jose_key *key, const jose_alg_info *info, const unsigned char *data,
		  size_t len, unsigned char *dgst, unsigned int *dlen)
{
	EVP_MD	   *md = key->cache ? cached_md(key->cache, info) : NULL;

	if (md == NULL || EVP_Digest(data, len, dgst, dlen, md, NULL) != 1)
		return JOSE_E_CRYPTO;
	return JOSE_OK;
}

/*
 * EdDSA's context, initialised for this key once: EVP_DigestSignInit_ex and
 * EVP_DigestVerifyInit_ex look the signature up in the provider on every
 * call, which costs more than a copy of a context that is ready.  The
 * template is only ever copied, never used, so no OpenSSL version's rule
 * about reusing a finished one-shot context applies to it.
 */
static EVP_MD_CTX *
eddsa_template(const jose_key *key, int sign)
{
	jose_pkey_cache *c = key->cache;
	EVP_MD_CTX **slot;
	EVP_MD_CTX *md;
	int			ok;

	if (c == NULL)
		return NULL;
	slot = sign ? &c->eddsa_sign : &c->eddsa_verify;
	if (*slot != NULL)
		return *slot;
	if ((md = EVP_MD_CTX_new()) == NULL)
		return NULL;
	if (sign)
		ok = EVP_DigestSignInit_ex(md, NULL, NULL, NULL, NULL, key->pkey, NULL) == 1;
	else
		ok = EVP_DigestVerifyInit_ex(md, NULL, NULL, NULL, NULL, key->pkey, NULL) == 1;
	if (!ok)
	{
		EVP_MD_CTX_free(md);
		return NULL;
	}
	*slot = md;
	return md;
}

/*
 * EdDSA signs the message itself (no prehash): a one-shot digest-sign on a
 * copy of the key's template, or on a context of its own should the copy
 * fail (a provider without a context duplicator).
 */
static int
eddsa_oneshot(const jose_key *key, int sign, unsigned char *sig, size_t *siglen,
			  const unsigned char *data, size_t len)
{
	EVP_MD_CTX *tmpl = eddsa_template(key, sign);
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	int			ready,
				rc = 0;

	if (md == NULL)
		return 0;
	ready = tmpl != NULL && EVP_MD_CTX_copy_ex(md, tmpl) == 1;
	if (!ready)
	{
		ERR_clear_error();
		EVP_MD_CTX_reset(md);
		ready = (sign ?
				 EVP_DigestSignInit_ex(md, NULL, NULL, NULL, NULL, key->pkey, NULL) :
				 EVP_DigestVerifyInit_ex(md, NULL, NULL, NULL, NULL, key->pkey, NULL)) == 1;
	}
	if (ready)
		rc = sign ? EVP_DigestSign(md, sig, siglen, data, len) == 1 :
			EVP_DigestVerify(md, sig, *siglen, data, len) == 1;
	EVP_MD_CTX_free(md);
	return rc;
}

static jose_status
pkey_sign(const jose_key *key, const jose_alg_info *info,
		  const unsigned char *data, size_t len, unsigned char *sig, size_t *siglen)
{
	unsigned char dgst[EVP_MAX_MD_SIZE];
	unsigned int dlen = 0;
	unsigned char der[256];
	size_t		n;
	EVP_PKEY_CTX *ctx;
	jose_status st = JOSE_OK;

	if (info->family == JOSE_FAM_EDDSA)
	{
		n = JOSE_MAX_SIG_LEN;
		if (!eddsa_oneshot(key, 1, sig, &n, data, len))
			st = JOSE_E_CRYPTO;
		else
			*siglen = n;
	}
	else if ((st = digest_of(key, info, data, len, dgst, &dlen)) != JOSE_OK)
		;
	else if ((ctx = prepared_ctx(key, info, 1)) == NULL)
		st = JOSE_E_CRYPTO;
	else if (info->family == JOSE_FAM_ECDSA)
	{
		n = sizeof(der);
		if (EVP_PKEY_sign(ctx, der, &n, dgst, dlen) != 1)
			st = JOSE_E_CRYPTO;
		else
			st = ecdsa_der_to_raw(key, der, n, sig, siglen);
	}
	else
	{
		n = JOSE_MAX_SIG_LEN;
		if (EVP_PKEY_sign(ctx, sig, &n, dgst, dlen) != 1)
			st = JOSE_E_CRYPTO;
		else
			*siglen = n;
	}
	if (st != JOSE_OK)
		ERR_clear_error();
	return st;
}

static jose_status
pkey_verify(const jose_key *key, const jose_alg_info *info,
			const unsigned char *data, size_t len,
			const unsigned char *sig, size_t siglen)
{
	unsigned char dgst[EVP_MAX_MD_SIZE];
	unsigned int dlen = 0;
	unsigned char *der = NULL;
	int			derlen = 0;
	EVP_PKEY_CTX *ctx;
	jose_status st;

	switch (info->family)
	{
		case JOSE_FAM_RSA:
		case JOSE_FAM_RSA_PSS:
			/* mutation: rule-4-rsa-siglen-is-modulus: siglen != (size_t) EVP_PKEY_get_size(key->pkey) => 0 */
			if (siglen != (size_t) EVP_PKEY_get_size(key->pkey))
				return JOSE_E_SIGNATURE;
			break;
		case JOSE_FAM_ECDSA:
			if ((st = ecdsa_raw_to_der(key, sig, siglen, &der, &derlen)) != JOSE_OK)
				return st;
			sig = der;
			siglen = (size_t) derlen;
			break;
		case JOSE_FAM_EDDSA:
			if (siglen != 2 * jose_crv_get(key->crv)->coord_len)
				return JOSE_E_SIGNATURE;
			st = eddsa_oneshot(key, 0, (unsigned char *) sig, &siglen, data, len)
				? JOSE_OK : JOSE_E_SIGNATURE;
			ERR_clear_error();
			return st;
		default:
			return JOSE_E_ALG_UNSUPPORTED;
	}

	if ((st = digest_of(key, info, data, len, dgst, &dlen)) == JOSE_OK)
	{
		if ((ctx = prepared_ctx(key, info, 0)) == NULL)
			st = JOSE_E_CRYPTO;
		else
			st = EVP_PKEY_verify(ctx, sig, siglen, dgst, dlen) == 1
				? JOSE_OK : JOSE_E_SIGNATURE;
	}
	OPENSSL_free(der);
	ERR_clear_error();
	return st;
}

jose_status
jose_sig_sign(const jose_key *key, jose_alg alg, const unsigned char *data,
			  size_t len, unsigned char *sig, size_t *siglen)
{
	const jose_alg_info *info = jose_alg_get(alg);
	jose_status st = jose_key_check(key, alg, JOSE_OP_SIGN);

	if (st != JOSE_OK)
		return st;
	if (info->family == JOSE_FAM_HMAC)
		return hmac_compute(key, alg, data, len, sig, siglen);
	return pkey_sign(key, info, data, len, sig, siglen);
}

jose_status
jose_sig_verify(const jose_key *key, jose_alg alg, const unsigned char *data,
				size_t len, const unsigned char *sig, size_t siglen)
{
	const jose_alg_info *info = jose_alg_get(alg);
	jose_status st = jose_key_check(key, alg, JOSE_OP_VERIFY);

	if (st != JOSE_OK)
		return st;
	if (info->family == JOSE_FAM_HMAC)
	{
		unsigned char mac[EVP_MAX_MD_SIZE];
		size_t		maclen = 0;
		int			ok;

		/* a truncated MAC is not a MAC: the length first */
		/* mutation: rule-4-hmac-length: siglen != info->hash_len => 0 ;; ok = maclen == siglen && => ok = siglen <= maclen && */
		if (siglen != info->hash_len)
			return JOSE_E_SIGNATURE;
		if ((st = hmac_compute(key, alg, data, len, mac, &maclen)) != JOSE_OK)
			return st;
		ok = maclen == siglen && CRYPTO_memcmp(mac, sig, siglen) == 0;
		jose_cleanse(mac, maclen);	/* the bytes EVP_MAC_final wrote */
		return ok ? JOSE_OK : JOSE_E_SIGNATURE;
	}
	return pkey_verify(key, info, data, len, sig, siglen);
}
