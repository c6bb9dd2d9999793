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

/* A digest-sign or digest-verify context for the key and algorithm. */
static EVP_MD_CTX *
pkey_ctx(const jose_key *key, const jose_alg_info *info, int sign)
{
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	EVP_PKEY_CTX *pctx = NULL;
	int			ok;

	if (md == NULL)
		return NULL;
	if (sign)
		ok = EVP_DigestSignInit_ex(md, &pctx, info->digest, NULL, NULL, key->pkey, NULL);
	else
		ok = EVP_DigestVerifyInit_ex(md, &pctx, info->digest, NULL, NULL, key->pkey, NULL);
	if (ok == 1 && info->family == JOSE_FAM_RSA_PSS)
		ok = EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING) == 1 &&
			EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, RSA_PSS_SALTLEN_DIGEST) == 1 &&
			EVP_PKEY_CTX_set_rsa_mgf1_md_name(pctx, info->digest, NULL) == 1;
	else if (ok == 1 && info->family == JOSE_FAM_RSA)
		ok = EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PADDING) == 1;
	if (ok != 1)
	{
		EVP_MD_CTX_free(md);
		return NULL;
	}
	return md;
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
	if (siglen != 2 * n)
		return JOSE_E_SIGNATURE;
	r = BN_bin2bn(sig, (int) n, NULL);
	s = BN_bin2bn(sig + n, (int) n, NULL);
	if (r == NULL || s == NULL)
		st = JOSE_E_NOMEM;
	else if (BN_is_zero(r) || BN_is_zero(s) ||
			 BN_cmp(r, key->ec_order) >= 0 || BN_cmp(s, key->ec_order) >= 0)
		st = JOSE_E_SIGNATURE;
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

static jose_status
pkey_sign(const jose_key *key, const jose_alg_info *info,
		  const unsigned char *data, size_t len, unsigned char *sig, size_t *siglen)
{
	EVP_MD_CTX *md = pkey_ctx(key, info, 1);
	unsigned char der[256];
	size_t		n;
	jose_status st = JOSE_OK;

	if (md == NULL)
		st = JOSE_E_CRYPTO;
	else if (info->family == JOSE_FAM_ECDSA)
	{
		n = sizeof(der);
		if (EVP_DigestSign(md, der, &n, data, len) != 1)
			st = JOSE_E_CRYPTO;
		else
			st = ecdsa_der_to_raw(key, der, n, sig, siglen);
	}
	else
	{
		n = JOSE_MAX_SIG_LEN;
		if (EVP_DigestSign(md, sig, &n, data, len) != 1)
			st = JOSE_E_CRYPTO;
		else
			*siglen = n;
	}
	EVP_MD_CTX_free(md);
	if (st != JOSE_OK)
		ERR_clear_error();
	return st;
}

static jose_status
pkey_verify(const jose_key *key, const jose_alg_info *info,
			const unsigned char *data, size_t len,
			const unsigned char *sig, size_t siglen)
{
	EVP_MD_CTX *md;
	unsigned char *der = NULL;
	int			derlen = 0;
	jose_status st;
	int			rc;

	switch (info->family)
	{
		case JOSE_FAM_RSA:
		case JOSE_FAM_RSA_PSS:
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
			break;
		default:
			return JOSE_E_ALG_UNSUPPORTED;
	}

	md = pkey_ctx(key, info, 0);
	if (md == NULL)
		st = JOSE_E_CRYPTO;
	else
	{
		rc = EVP_DigestVerify(md, sig, siglen, data, len);
		st = rc == 1 ? JOSE_OK : JOSE_E_SIGNATURE;
	}
	EVP_MD_CTX_free(md);
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
		if (siglen != info->hash_len)
			return JOSE_E_SIGNATURE;
		if ((st = hmac_compute(key, alg, data, len, mac, &maclen)) != JOSE_OK)
			return st;
		ok = maclen == siglen && CRYPTO_memcmp(mac, sig, siglen) == 0;
		jose_cleanse(mac, sizeof(mac));
		return ok ? JOSE_OK : JOSE_E_SIGNATURE;
	}
	return pkey_verify(key, info, data, len, sig, siglen);
}
