/*
 * key_internal.h
 *		The key objects, shared by key.c and sig.c only.
 */
#ifndef JOSE_KEY_INTERNAL_H
#define JOSE_KEY_INTERNAL_H

#include <math.h>

#include <openssl/bn.h>
#include <openssl/evp.h>

#include "jose.h"

#define JOSE_HMAC_COUNT 3		/* HS256, HS384, HS512 */
#define JOSE_OP_USE_SIG 0x100	/* in ops: the JWK said "use":"sig" */
#define JOSE_OP_USE_ENC 0x200	/* in ops: the JWK said "use":"enc" */

typedef enum jose_crv
{
	JOSE_CRV_NONE = 0,
	JOSE_CRV_P256,
	JOSE_CRV_P384,
	JOSE_CRV_P521,
	JOSE_CRV_SECP256K1,
	JOSE_CRV_ED25519,
	JOSE_CRV_ED448
} jose_crv;

/* What a curve is called in JWK and OpenSSL, and its sizes. */
typedef struct jose_crv_info
{
	jose_crv	crv;
	const char *jwk_name;		/* "P-256", "Ed25519" */
	const char *ossl_name;		/* "prime256v1", "ED25519" */
	size_t		coord_len;		/* bytes of x, y, d, and of r and s */
	jose_alg	alg;			/* the one algorithm it signs with */
} jose_crv_info;

extern const jose_crv_info *jose_crv_get(jose_crv crv);

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
	int			is_private;
	int			rsa_bits;
	jose_crv	crv;			/* EC and OKP */
	BIGNUM	   *ec_order;		/* n, for 0 < r, s < n */
	/* keyed HMAC contexts, one per hash the secret is long enough for */
	EVP_MAC_CTX *hmac[JOSE_HMAC_COUNT];
	/* a registry key's window of validity (jose_key_restrict) */
	int			has_window;
	int			has_until;		/* 0: open-ended, whatever valid_until holds */
	double		valid_from;
	double		valid_until;
	/* prepared contexts for RSA and ECDSA, made on first use */
	struct jose_pkey_cache *cache;
};

/*
 * A key's prepared signature contexts: set up once (padding, digest, salt
 * length), then used for every operation, so that one costs the digest and
 * the public-key arithmetic, not a provider lookup.  The key is shared
 * read-only; this cache is the one part that changes, behind a pointer.
 */
typedef struct jose_pkey_cache
{
	jose_alg	verify_alg;
	EVP_PKEY_CTX *verify_ctx;
	jose_alg	sign_alg;
	EVP_PKEY_CTX *sign_ctx;
	EVP_MD	   *md[3];			/* SHA-256, SHA-384, SHA-512 */
	/* EdDSA: digest-sign and digest-verify contexts, initialised once, copied */
	EVP_MD_CTX *eddsa_sign;
	EVP_MD_CTX *eddsa_verify;
} jose_pkey_cache;

/*
 * A key of the kid index, and where it stands in the set's keys.  prefix is
 * the kid's first 8 bytes, big-endian, zero-padded: when two prefixes differ
 * they order the kids as memcmp does, so a search reads the index alone and
 * the keys' kids only where prefixes tie.
 */
typedef struct jose_kid_entry
{
	uint64_t	prefix;
	const jose_key *key;
	size_t		pos;
} jose_kid_entry;

struct jose_keyset
{
	jose_key  **keys;
	size_t		n;
	size_t		cap;
	int			is_set;
	/* the keys with a kid, sorted by it then by place (jose_keyset_index), or NULL */
	jose_kid_entry *by_kid;
	size_t		nkid;

	/*
	 * The union of jose_key_algs over the keys, for signing and verifying,
	 * made once by an import or jose_keyset_index, so that asking what a
	 * set can do costs nothing by its size; algs_known is 0 once the set
	 * changes (jose_keyset_adopt), until it is indexed again.
	 */
	int			algs_known;
	jose_algset algs_sign;
	jose_algset algs_verify;
};

/*
 * The place in ks->keys of the first key whose kid is exactly kid (len
 * bytes), found by binary search in the kid index: 1 and *pos, or 0.
 */
extern int	jose_keyset_find_kid(const jose_keyset *ks, const char *kid, size_t len,
								 size_t *pos);

/*
 * Whether a key is inside its window of validity at time t.  No time is a
 * sentinel: t = 0 is 1970-01-01 like any other, and an open end is a flag.
 */
static inline int
jose_key_valid_at(const jose_key *k, double t)
{
	if (!k->has_window)
		return 1;
	return t >= k->valid_from && (!k->has_until || t < k->valid_until);
}

/* key.c */
extern jose_status jose_key_from_secret(const unsigned char *data, size_t len,
										jose_key **out);

/* pkey.c */
extern jose_status jose_pem_import(const char *data, size_t len, jose_key *k);
extern int	jose_der_b64_import(const char *data, size_t len, jose_key *k, jose_status *st);
extern int	jose_der_is_key(const char *data, size_t len);
extern jose_status jose_jwk_import_asym(const jose_json_object *jwk, jose_kty kty,
										jose_key *k);
extern jose_status jose_pkey_adopt(jose_key *k, EVP_PKEY *pkey);

#endif							/* JOSE_KEY_INTERNAL_H */
