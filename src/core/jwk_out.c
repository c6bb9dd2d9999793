/*
 * jwk_out.c
 *		Keys written as JWK (RFC 7517, 7518, 8037), their RFC 7638
 *		thumbprints, and new keys.
 */
#include <stdlib.h>
#include <string.h>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include "jose.h"
#include "key_internal.h"

/* A growing buffer; wiped when it grows, since it may hold private members. */
typedef struct jbuf
{
	char	   *p;
	size_t		len;
	size_t		cap;
	int			failed;
} jbuf;

static void
jb_put(jbuf *b, const char *s, size_t n)
{
	if (b->failed)
		return;
	if (b->len + n + 1 > b->cap)
	{
		size_t		ncap = (b->cap ? b->cap * 2 : 256) + n;
		char	   *np = malloc(ncap);

		if (np == NULL)
		{
			b->failed = 1;
			return;
		}
		if (b->p != NULL)
		{
			memcpy(np, b->p, b->len);
			jose_cleanse(b->p, b->cap);
			free(b->p);
		}
		b->p = np;
		b->cap = ncap;
	}
	memcpy(b->p + b->len, s, n);
	b->len += n;
	b->p[b->len] = '\0';
}

static void
jb_str(jbuf *b, const char *s)
{
	jb_put(b, s, strlen(s));
}

/* ,"name":"value" (value needs no escaping: names, base64url, our kids are checked) */
static void
jb_member(jbuf *b, const char *name, const char *value, size_t vlen)
{
	jb_str(b, b->len > 1 ? ",\"" : "\"");
	jb_str(b, name);
	jb_str(b, "\":\"");
	jb_put(b, value, vlen);
	jb_str(b, "\"");
}

static void
jb_member_b64(jbuf *b, const char *name, const unsigned char *bytes, size_t n)
{
	char	   *enc = malloc(JOSE_B64_ENCODED_LEN(n) + 1);
	size_t		elen;

	if (enc == NULL)
	{
		b->failed = 1;
		return;
	}
	elen = jose_b64url_encode(bytes, n, enc);
	jb_member(b, name, enc, elen);
	jose_cleanse(enc, elen);
	free(enc);
}

static void
jb_member_bn(jbuf *b, const char *name, const EVP_PKEY *pkey, const char *param,
			 size_t pad)
{
	BIGNUM	   *bn = NULL;
	unsigned char *bytes;
	size_t		n;

	if (!EVP_PKEY_get_bn_param(pkey, param, &bn))
	{
		ERR_clear_error();
		b->failed = 1;
		return;
	}
	n = pad ? pad : (size_t) BN_num_bytes(bn);
	if (n == 0)
		n = 1;
	bytes = malloc(n);
	if (bytes == NULL || BN_bn2binpad(bn, bytes, (int) n) < 0)
		b->failed = 1;
	else
		jb_member_b64(b, name, bytes, n);
	if (bytes != NULL)
	{
		jose_cleanse(bytes, n);
		free(bytes);
	}
	BN_clear_free(bn);
}

static void
jb_member_raw(jbuf *b, const char *name, const EVP_PKEY *pkey, int private_half)
{
	unsigned char raw[64];
	size_t		n = sizeof(raw);
	int			ok = private_half ? EVP_PKEY_get_raw_private_key(pkey, raw, &n)
		: EVP_PKEY_get_raw_public_key(pkey, raw, &n);

	if (ok != 1)
	{
		ERR_clear_error();
		b->failed = 1;
		return;
	}
	jb_member_b64(b, name, raw, n);
	jose_cleanse(raw, sizeof(raw));
}

/*
 * The required members of the key in lexicographic order (RFC 7638 section
 * 3.2), with the private ones when asked: what both the thumbprint and the
 * JWK output start from.
 */
static void
jb_key_members(jbuf *b, const jose_key *key, int with_private)
{
	const jose_crv_info *ci = jose_crv_get(key->crv);

	switch (key->kty)
	{
		case JOSE_KTY_RSA:
			if (with_private)
			{
				jb_member_bn(b, "d", key->pkey, OSSL_PKEY_PARAM_RSA_D, 0);
				jb_member_bn(b, "dp", key->pkey, OSSL_PKEY_PARAM_RSA_EXPONENT1, 0);
				jb_member_bn(b, "dq", key->pkey, OSSL_PKEY_PARAM_RSA_EXPONENT2, 0);
			}
			jb_member_bn(b, "e", key->pkey, OSSL_PKEY_PARAM_RSA_E, 0);
			jb_member(b, "kty", "RSA", 3);
			jb_member_bn(b, "n", key->pkey, OSSL_PKEY_PARAM_RSA_N, 0);
			if (with_private)
			{
				jb_member_bn(b, "p", key->pkey, OSSL_PKEY_PARAM_RSA_FACTOR1, 0);
				jb_member_bn(b, "q", key->pkey, OSSL_PKEY_PARAM_RSA_FACTOR2, 0);
				jb_member_bn(b, "qi", key->pkey, OSSL_PKEY_PARAM_RSA_COEFFICIENT1, 0);
			}
			break;
		case JOSE_KTY_EC:
			jb_member(b, "crv", ci->jwk_name, strlen(ci->jwk_name));
			if (with_private)
				jb_member_bn(b, "d", key->pkey, OSSL_PKEY_PARAM_PRIV_KEY, ci->coord_len);
			jb_member(b, "kty", "EC", 2);
			jb_member_bn(b, "x", key->pkey, OSSL_PKEY_PARAM_EC_PUB_X, ci->coord_len);
			jb_member_bn(b, "y", key->pkey, OSSL_PKEY_PARAM_EC_PUB_Y, ci->coord_len);
			break;
		case JOSE_KTY_OKP:
			jb_member(b, "crv", ci->jwk_name, strlen(ci->jwk_name));
			if (with_private)
				jb_member_raw(b, "d", key->pkey, 1);
			jb_member(b, "kty", "OKP", 3);
			jb_member_raw(b, "x", key->pkey, 0);
			break;
		case JOSE_KTY_OCT:
			jb_member_b64(b, "k", key->secret, key->secret_len);
			jb_member(b, "kty", "oct", 3);
			break;
		default:
			b->failed = 1;
			break;
	}
}

static jose_status
jb_finish(jbuf *b, char **json, size_t *len)
{
	if (b->failed)
	{
		if (b->p != NULL)
		{
			jose_cleanse(b->p, b->cap);
			free(b->p);
		}
		return JOSE_E_NOMEM;
	}
	*json = b->p;
	*len = b->len;
	return JOSE_OK;
}

jose_status
jose_key_thumbprint(const jose_key *key, char out[JOSE_THUMBPRINT_LEN + 1])
{
	jbuf		b = {0};
	unsigned char digest[32];
	unsigned int dlen = 0;
	int			ok;

	if (key->kty == 0)
		return JOSE_E_KEY_KTY;
	jb_str(&b, "{");
	jb_key_members(&b, key, 0);
	jb_str(&b, "}");
	if (b.failed)
	{
		if (b.p != NULL)
		{
			jose_cleanse(b.p, b.cap);
			free(b.p);
		}
		return JOSE_E_NOMEM;
	}
	ok = EVP_Digest(b.p, b.len, digest, &dlen, EVP_sha256(), NULL);
	jose_cleanse(b.p, b.cap);
	free(b.p);
	if (!ok)
	{
		ERR_clear_error();
		return JOSE_E_CRYPTO;
	}
	out[jose_b64url_encode(digest, dlen, out)] = '\0';
	return JOSE_OK;
}

static jose_status
key_jwk(const jose_key *key, int with_private, jose_alg alg, const char *kid,
		size_t kid_len, char **json, size_t *len)
{
	jbuf		b = {0};

	if (key->kty == 0)
		return JOSE_E_KEY_KTY;
	jb_str(&b, "{");
	jb_key_members(&b, key, with_private);
	if (alg != JOSE_ALG_UNSET)
		jb_member(&b, "alg", jose_alg_get(alg)->name, strlen(jose_alg_get(alg)->name));
	if (kid != NULL)
	{
		/* a kid from a JWK may need escaping: write it as JSON */
		jb_str(&b, ",\"kid\":\"");
		for (size_t i = 0; i < kid_len; i++)
		{
			unsigned char c = (unsigned char) kid[i];
			char		esc[8];

			if (c == '"' || c == '\\')
			{
				esc[0] = '\\';
				esc[1] = (char) c;
				jb_put(&b, esc, 2);
			}
			else if (c < 0x20)
			{
				static const char hex[] = "0123456789abcdef";

				memcpy(esc, "\\u00", 4);
				esc[4] = hex[c >> 4];
				esc[5] = hex[c & 15];
				jb_put(&b, esc, 6);
			}
			else
				jb_put(&b, (const char *) &c, 1);
		}
		jb_str(&b, "\"");
	}
	jb_str(&b, "}");
	return jb_finish(&b, json, len);
}

jose_status
jose_key_public_jwk(const jose_key *key, char **json, size_t *len)
{
	jose_status st;

	if (key->kty == JOSE_KTY_OCT)
		return JOSE_E_KEY_SECRET_PUBLIC;
	if (key->kty == 0)
		return JOSE_E_KEY_KTY;
	/*
	 * A key whose JWK is not for signatures (an encryption key, an unknown
	 * alg) is not published as if it were.  A private key for signing only
	 * (key_ops ["sign"]) is: its public half is what verifies.
	 */
	if (jose_key_algs(key, JOSE_OP_VERIFY) == 0 && jose_key_algs(key, JOSE_OP_SIGN) == 0)
		return (key->ops & (JOSE_OP_VERIFY | JOSE_OP_SIGN)) ? JOSE_E_KEY_ALG : JOSE_E_KEY_USE;
	st = key_jwk(key, 0, key->alg, key->kid, key->kid_len, json, len);
	if (st == JOSE_OK && (key->ops & JOSE_OP_USE_SIG))
	{
		/* keep "use":"sig": replace the closing brace */
		char	   *n = realloc(*json, *len + 16);

		if (n == NULL)
		{
			free(*json);
			return JOSE_E_NOMEM;
		}
		memcpy(n + *len - 1, ",\"use\":\"sig\"}", 14);
		*len += 12;
		n[*len] = '\0';
		*json = n;
	}
	return st;
}

jose_status
jose_key_private_jwk(const jose_key *key, jose_alg alg, const char *kid,
					 char **json, size_t *len)
{
	if (key->kty != JOSE_KTY_OCT && !key->is_private)
		return JOSE_E_KEY_NOT_PRIVATE;
	return key_jwk(key, 1, alg, kid, kid ? strlen(kid) : 0, json, len);
}

jose_status
jose_key_generate(jose_alg alg, jose_key **out)
{
	const jose_alg_info *info = jose_alg_get(alg);
	EVP_PKEY   *pkey = NULL;
	jose_key   *k;
	jose_status st;

	*out = NULL;
	if (info == NULL)
		return JOSE_E_ALG_INVALID;
	if (info->family == JOSE_FAM_HMAC)
	{
		unsigned char secret[64];

		if (RAND_bytes(secret, (int) info->hash_len) != 1)
		{
			ERR_clear_error();
			return JOSE_E_CRYPTO;
		}
		st = jose_key_from_secret(secret, info->hash_len, out);
		jose_cleanse(secret, sizeof(secret));
		return st;
	}

	switch (alg)
	{
		case JOSE_ALG_RS256:
		case JOSE_ALG_RS384:
		case JOSE_ALG_RS512:
		case JOSE_ALG_PS256:
		case JOSE_ALG_PS384:
		case JOSE_ALG_PS512:
			pkey = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t) 2048);
			break;
		case JOSE_ALG_ES256:
			pkey = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
			break;
		case JOSE_ALG_ES384:
			pkey = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-384");
			break;
		case JOSE_ALG_ES512:
			pkey = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-521");
			break;
		case JOSE_ALG_ES256K:
			pkey = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "secp256k1");
			break;
		case JOSE_ALG_EDDSA:
		case JOSE_ALG_ED25519:
			pkey = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
			break;
		case JOSE_ALG_ED448:
			pkey = EVP_PKEY_Q_keygen(NULL, NULL, "ED448");
			break;
		default:
			return JOSE_E_ALG_INVALID;
	}
	if (pkey == NULL)
	{
		ERR_clear_error();
		return JOSE_E_CRYPTO;
	}
	k = calloc(1, sizeof(jose_key));
	if (k == NULL)
	{
		EVP_PKEY_free(pkey);
		return JOSE_E_NOMEM;
	}
	if ((st = jose_pkey_adopt(k, pkey)) != JOSE_OK)
	{
		EVP_PKEY_free(pkey);
		jose_key_free(k);
		return st;
	}
	*out = k;
	return JOSE_OK;
}
