/*
 * sig.c
 *		Raw signatures over OpenSSL EVP: the one place where bytes are signed
 *		or checked.  Every entry point first asks the key whether it may do
 *		the algorithm, so no caller can skip that check.
 */
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>

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

jose_status
jose_sig_sign(const jose_key *key, jose_alg alg, const unsigned char *data,
			  size_t len, unsigned char *sig, size_t *siglen)
{
	const jose_alg_info *info = jose_alg_get(alg);
	jose_status st = jose_key_check(key, alg, JOSE_OP_SIGN);

	if (st != JOSE_OK)
		return st;
	switch (info->family)
	{
		case JOSE_FAM_HMAC:
			return hmac_compute(key, alg, data, len, sig, siglen);
		default:
			return JOSE_E_ALG_UNSUPPORTED;
	}
}

jose_status
jose_sig_verify(const jose_key *key, jose_alg alg, const unsigned char *data,
				size_t len, const unsigned char *sig, size_t siglen)
{
	const jose_alg_info *info = jose_alg_get(alg);
	jose_status st = jose_key_check(key, alg, JOSE_OP_VERIFY);

	if (st != JOSE_OK)
		return st;
	switch (info->family)
	{
		case JOSE_FAM_HMAC:
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
		default:
			return JOSE_E_ALG_UNSUPPORTED;
	}
}
