/*
 * key_internal.h
 *		The key objects, shared by key.c and sig.c only.
 */
#ifndef JOSE_KEY_INTERNAL_H
#define JOSE_KEY_INTERNAL_H

#include <openssl/evp.h>

#include "jose.h"

#define JOSE_HMAC_COUNT 3		/* HS256, HS384, HS512 */

struct jose_key
{
	jose_kty	kty;			/* 0 for a JWKS member we cannot use */
	jose_alg	alg;			/* the JWK's "alg", or UNSET */
	int			alg_foreign;	/* the JWK named an algorithm we do not know */
	unsigned	ops;			/* JOSE_OP_* that use and key_ops permit */
	char	   *kid;			/* NUL-terminated, or NULL */
	size_t		kid_len;
	unsigned char *secret;		/* oct */
	size_t		secret_len;
	EVP_PKEY   *pkey;			/* RSA, EC, OKP */
	/* keyed HMAC contexts, one per hash the secret is long enough for */
	EVP_MAC_CTX *hmac[JOSE_HMAC_COUNT];
};

struct jose_keyset
{
	jose_key  **keys;
	size_t		n;
	int			is_set;
};

#endif							/* JOSE_KEY_INTERNAL_H */
