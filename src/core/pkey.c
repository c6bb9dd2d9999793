/*
 * pkey.c
 *		Asymmetric keys: PEM (SPKI, PKCS#1, PKCS#8, SEC1, X.509 certificates)
 *		and JWK members (RFC 7518 sections 6.2 and 6.3, RFC 8037) into
 *		OpenSSL EVP_PKEYs, each checked before it is trusted: RSA moduli of
 *		at least 2048 bits, EC points on their curve, private halves that
 *		match their public ones.
 */
#include <stdlib.h>
#include <string.h>

#include <openssl/bio.h>
#include <openssl/core_names.h>
#include <openssl/decoder.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/param_build.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "jose.h"
#include "key_internal.h"

#define RSA_MIN_BITS 2048
#define RSA_MAX_BITS (JOSE_MAX_SIG_LEN * 8)

static const jose_crv_info crv_table[] = {
	{JOSE_CRV_NONE, "", "", 0, JOSE_ALG_UNSET},
	{JOSE_CRV_P256, "P-256", "prime256v1", 32, JOSE_ALG_ES256},
	{JOSE_CRV_P384, "P-384", "secp384r1", 48, JOSE_ALG_ES384},
	{JOSE_CRV_P521, "P-521", "secp521r1", 66, JOSE_ALG_ES512},
	{JOSE_CRV_SECP256K1, "secp256k1", "secp256k1", 32, JOSE_ALG_ES256K},
	{JOSE_CRV_ED25519, "Ed25519", "ED25519", 32, JOSE_ALG_ED25519},
	{JOSE_CRV_ED448, "Ed448", "ED448", 57, JOSE_ALG_ED448},
};

const jose_crv_info *
jose_crv_get(jose_crv crv)
{
	if ((int) crv <= 0 || (size_t) crv >= sizeof(crv_table) / sizeof(crv_table[0]))
		return NULL;
	return &crv_table[crv];
}

static jose_crv
ec_crv_from_group(const char *group)
{
	if (strcmp(group, "prime256v1") == 0 || strcmp(group, "P-256") == 0)
		return JOSE_CRV_P256;
	if (strcmp(group, "secp384r1") == 0 || strcmp(group, "P-384") == 0)
		return JOSE_CRV_P384;
	if (strcmp(group, "secp521r1") == 0 || strcmp(group, "P-521") == 0)
		return JOSE_CRV_P521;
	if (strcmp(group, "secp256k1") == 0)
		return JOSE_CRV_SECP256K1;
	return JOSE_CRV_NONE;
}

static int
has_bn_param(EVP_PKEY *pkey, const char *name)
{
	BIGNUM	   *bn = NULL;
	int			ok = EVP_PKEY_get_bn_param(pkey, name, &bn);

	BN_clear_free(bn);
	ERR_clear_error();
	return ok;
}

/* Public-key validity, and for a private key that both halves match. */
static jose_status
pkey_validate(EVP_PKEY *pkey, int is_private, jose_status bad)
{
	EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_pkey(NULL, pkey, NULL);
	jose_status st = JOSE_OK;

	if (ctx == NULL)
		return JOSE_E_NOMEM;
	if (EVP_PKEY_public_check(ctx) != 1)
		st = bad;
	else if (is_private && EVP_PKEY_pairwise_check(ctx) != 1)
		st = JOSE_E_KEY_INVALID;
	EVP_PKEY_CTX_free(ctx);
	ERR_clear_error();
	return st;
}

/*
 * Classify an EVP_PKEY and take it into k; on failure the caller still owns
 * pkey.
 */
jose_status
jose_pkey_adopt(jose_key *k, EVP_PKEY *pkey)
{
	jose_status st;

	if (EVP_PKEY_is_a(pkey, "RSA"))
	{
		int			bits = EVP_PKEY_get_bits(pkey);

		if (bits < RSA_MIN_BITS)
			return JOSE_E_KEY_WEAK;
		if (bits > RSA_MAX_BITS)
			return JOSE_E_KEY_INVALID;
		k->kty = JOSE_KTY_RSA;
		k->rsa_bits = bits;
		k->is_private = has_bn_param(pkey, OSSL_PKEY_PARAM_RSA_D);
		if ((st = pkey_validate(pkey, k->is_private, JOSE_E_KEY_INVALID)) != JOSE_OK)
			return st;
	}
	else if (EVP_PKEY_is_a(pkey, "EC"))
	{
		char		group[64];
		size_t		glen = 0;
		const jose_crv_info *ci;
		EC_GROUP   *g;

		if (!EVP_PKEY_get_utf8_string_param(pkey, OSSL_PKEY_PARAM_GROUP_NAME,
											group, sizeof(group), &glen))
		{
			ERR_clear_error();
			return JOSE_E_KEY_CURVE;	/* explicit parameters: refused */
		}
		k->crv = ec_crv_from_group(group);
		if (k->crv == JOSE_CRV_NONE)
			return JOSE_E_KEY_CURVE;
		ci = jose_crv_get(k->crv);
		k->kty = JOSE_KTY_EC;
		k->is_private = has_bn_param(pkey, OSSL_PKEY_PARAM_PRIV_KEY);
		if ((st = pkey_validate(pkey, k->is_private, JOSE_E_KEY_CURVE)) != JOSE_OK)
			return st;
		g = EC_GROUP_new_by_curve_name(OBJ_txt2nid(ci->ossl_name));
		if (g == NULL)
		{
			ERR_clear_error();
			return JOSE_E_CRYPTO;
		}
		k->ec_order = BN_dup(EC_GROUP_get0_order(g));
		EC_GROUP_free(g);
		if (k->ec_order == NULL)
			return JOSE_E_NOMEM;
	}
	else if (EVP_PKEY_is_a(pkey, "ED25519") || EVP_PKEY_is_a(pkey, "ED448"))
	{
		size_t		plen = 0;

		k->kty = JOSE_KTY_OKP;
		k->crv = EVP_PKEY_is_a(pkey, "ED25519") ? JOSE_CRV_ED25519 : JOSE_CRV_ED448;
		k->is_private = EVP_PKEY_get_raw_private_key(pkey, NULL, &plen) == 1;
		ERR_clear_error();
	}
	else
		return JOSE_E_KEY_KTY;	/* RSA-PSS-only, DSA, X25519, ... */

	if (k->kty != JOSE_KTY_OKP && (k->cache = calloc(1, sizeof(jose_pkey_cache))) == NULL)
		return JOSE_E_NOMEM;
	k->ops = JOSE_OP_SIGN | JOSE_OP_VERIFY;
	k->pkey = pkey;
	return JOSE_OK;
}

/* A PEM that asks for a passphrase gets none: encrypted keys are refused. */
static int
no_passphrase(char *buf, int size, int rwflag, void *u)
{
	(void) buf;
	(void) size;
	(void) rwflag;
	(void) u;
	return -1;
}

static const char *
find_text(const char *s, size_t len, const char *needle)
{
	size_t		n = strlen(needle);

	for (size_t i = 0; i + n <= len; i++)
		if (memcmp(s + i, needle, n) == 0)
			return s + i;
	return NULL;
}

jose_status
jose_pem_import(const char *data, size_t len, jose_key *k)
{
	BIO		   *bio;
	EVP_PKEY   *pkey = NULL;
	jose_status st;

	if (len > 1024 * 1024 || len > (size_t) 0x7fffffff)
		return JOSE_E_KEY_FORMAT;
	if (find_text(data, len, "-----BEGIN ENCRYPTED") != NULL ||
		find_text(data, len, "Proc-Type: 4,ENCRYPTED") != NULL)
		return JOSE_E_KEY_ENCRYPTED;

	/* "openssl ecparam -genkey" writes the curve's block before the key's */
	while (len > 0 && find_text(data, len, "-----BEGIN EC PARAMETERS-----") == data)
	{
		const char *next = find_text(data + 1, len - 1, "-----BEGIN ");

		if (next == NULL)
			return JOSE_E_KEY_FORMAT;
		len -= (size_t) (next - data);
		data = next;
	}
	bio = BIO_new_mem_buf(data, (int) len);
	if (bio == NULL)
		return JOSE_E_NOMEM;

	if (find_text(data, len, "-----BEGIN CERTIFICATE-----") == data ||
		find_text(data, len, "-----BEGIN TRUSTED CERTIFICATE-----") == data)
	{
		X509	   *x = PEM_read_bio_X509_AUX(bio, NULL, no_passphrase, NULL);

		if (x != NULL)
		{
			pkey = X509_get_pubkey(x);
			X509_free(x);
		}
	}
	else
	{
		OSSL_DECODER_CTX *dctx;

		dctx = OSSL_DECODER_CTX_new_for_pkey(&pkey, "PEM", NULL, NULL, 0, NULL, NULL);
		if (dctx != NULL)
		{
			if (!OSSL_DECODER_from_bio(dctx, bio))
			{
				EVP_PKEY_free(pkey);
				pkey = NULL;
			}
			OSSL_DECODER_CTX_free(dctx);
		}
	}
	BIO_free(bio);
	ERR_clear_error();
	if (pkey == NULL)
		return JOSE_E_KEY_FORMAT;
	if ((st = jose_pkey_adopt(k, pkey)) != JOSE_OK)
		EVP_PKEY_free(pkey);
	return st;
}

/* A base64url member decoded into malloc'd memory; NULL out when absent. */
static jose_status
b64_member(const jose_json_object *jwk, const char *name, int required,
		   unsigned char **out, size_t *len)
{
	const jose_json_value *v = jose_json_get(jwk, name);
	unsigned char *buf;

	*out = NULL;
	*len = 0;
	if (v == NULL)
		return required ? JOSE_E_KEY_FORMAT : JOSE_OK;
	if (v->type != JOSE_JSON_STRING || v->escaped || v->len == 0)
		return JOSE_E_KEY_FORMAT;
	buf = malloc(JOSE_B64_DECODED_MAX(v->len));
	if (buf == NULL)
		return JOSE_E_NOMEM;
	if (!jose_b64url_decode(v->p, v->len, buf, len))
	{
		free(buf);
		return JOSE_E_KEY_FORMAT;
	}
	*out = buf;
	return JOSE_OK;
}

static void
wipe_free(unsigned char *p, size_t len)
{
	if (p != NULL)
	{
		jose_cleanse(p, len);
		free(p);
	}
}

static jose_status
from_params(const char *type, int selection, OSSL_PARAM *params, EVP_PKEY **pkey)
{
	EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_name(NULL, type, NULL);
	jose_status st = JOSE_OK;

	*pkey = NULL;
	if (ctx == NULL)
		return JOSE_E_CRYPTO;
	if (EVP_PKEY_fromdata_init(ctx) != 1 ||
		EVP_PKEY_fromdata(ctx, pkey, selection, params) != 1)
		st = JOSE_E_KEY_INVALID;
	EVP_PKEY_CTX_free(ctx);
	ERR_clear_error();
	return st;
}

static jose_status
jwk_rsa(const jose_json_object *jwk, EVP_PKEY **pkey)
{
	static const char *const names[8] = {"n", "e", "d", "p", "q", "dp", "dq", "qi"};
	static const char *const params[8] = {
		OSSL_PKEY_PARAM_RSA_N, OSSL_PKEY_PARAM_RSA_E, OSSL_PKEY_PARAM_RSA_D,
		OSSL_PKEY_PARAM_RSA_FACTOR1, OSSL_PKEY_PARAM_RSA_FACTOR2,
		OSSL_PKEY_PARAM_RSA_EXPONENT1, OSSL_PKEY_PARAM_RSA_EXPONENT2,
		OSSL_PKEY_PARAM_RSA_COEFFICIENT1
	};
	unsigned char *raw[8] = {0};
	size_t		rawlen[8] = {0};
	BIGNUM	   *bn[8] = {0};
	OSSL_PARAM_BLD *bld = NULL;
	OSSL_PARAM *ps = NULL;
	jose_status st = JOSE_OK;
	int			count;

	if (jose_json_get(jwk, "oth") != NULL)
		return JOSE_E_KEY_FORMAT;	/* multi-prime keys are not used with JWS */
	for (int i = 0; i < 8 && st == JOSE_OK; i++)
		st = b64_member(jwk, names[i], i < 2, &raw[i], &rawlen[i]);
	/* a private key comes with all its CRT members, or is refused */
	count = raw[2] != NULL ? 8 : 2;
	for (int i = 3; st == JOSE_OK && i < 8; i++)
		if ((raw[i] != NULL) != (raw[2] != NULL))
			st = JOSE_E_KEY_FORMAT;

	if (st == JOSE_OK && (bld = OSSL_PARAM_BLD_new()) == NULL)
		st = JOSE_E_NOMEM;
	for (int i = 0; st == JOSE_OK && i < count; i++)
	{
		bn[i] = i >= 2 ? BN_secure_new() : BN_new();
		if (bn[i] == NULL || BN_bin2bn(raw[i], (int) rawlen[i], bn[i]) == NULL ||
			!OSSL_PARAM_BLD_push_BN(bld, params[i], bn[i]))
			st = JOSE_E_NOMEM;
	}
	if (st == JOSE_OK && (ps = OSSL_PARAM_BLD_to_param(bld)) == NULL)
		st = JOSE_E_NOMEM;
	if (st == JOSE_OK)
		st = from_params("RSA", count == 8 ? EVP_PKEY_KEYPAIR : EVP_PKEY_PUBLIC_KEY,
						 ps, pkey);

	OSSL_PARAM_free(ps);
	OSSL_PARAM_BLD_free(bld);
	for (int i = 0; i < 8; i++)
	{
		BN_clear_free(bn[i]);
		wipe_free(raw[i], rawlen[i]);
	}
	return st;
}

static jose_status
jwk_crv(const jose_json_object *jwk, jose_kty kty, jose_crv *crv)
{
	const jose_json_value *v = jose_json_get(jwk, "crv");

	if (v == NULL || v->type != JOSE_JSON_STRING)
		return JOSE_E_KEY_FORMAT;
	for (int c = 1; c < (int) (sizeof(crv_table) / sizeof(crv_table[0])); c++)
	{
		int			is_okp = c == JOSE_CRV_ED25519 || c == JOSE_CRV_ED448;

		if ((kty == JOSE_KTY_OKP) == is_okp &&
			jose_json_string_eq(v, crv_table[c].jwk_name, strlen(crv_table[c].jwk_name)))
		{
			*crv = (jose_crv) c;
			return JOSE_OK;
		}
	}
	return JOSE_E_KEY_CURVE;	/* X25519, P-192, ... */
}

static jose_status
jwk_ec(const jose_json_object *jwk, EVP_PKEY **pkey)
{
	jose_crv	crv = JOSE_CRV_NONE;
	const jose_crv_info *ci;
	unsigned char *x = NULL,
			   *y = NULL,
			   *d = NULL,
			   *pub = NULL;
	size_t		xl = 0,
				yl = 0,
				dl = 0;
	BIGNUM	   *dbn = NULL;
	OSSL_PARAM_BLD *bld = NULL;
	OSSL_PARAM *ps = NULL;
	jose_status st;

	if ((st = jwk_crv(jwk, JOSE_KTY_EC, &crv)) != JOSE_OK)
		return st;
	ci = jose_crv_get(crv);
	if ((st = b64_member(jwk, "x", 1, &x, &xl)) == JOSE_OK &&
		(st = b64_member(jwk, "y", 1, &y, &yl)) == JOSE_OK &&
		(st = b64_member(jwk, "d", 0, &d, &dl)) == JOSE_OK)
	{
		/* RFC 7518 section 6.2.1.2: coordinates have the full field length */
		if (xl != ci->coord_len || yl != ci->coord_len ||
			(d != NULL && dl != ci->coord_len))
			st = JOSE_E_KEY_INVALID;
	}
	if (st == JOSE_OK && (pub = malloc(1 + 2 * ci->coord_len)) == NULL)
		st = JOSE_E_NOMEM;
	if (st == JOSE_OK)
	{
		pub[0] = 0x04;			/* uncompressed point */
		memcpy(pub + 1, x, xl);
		memcpy(pub + 1 + xl, y, yl);
		if ((bld = OSSL_PARAM_BLD_new()) == NULL ||
			!OSSL_PARAM_BLD_push_utf8_string(bld, OSSL_PKEY_PARAM_GROUP_NAME, ci->ossl_name, 0) ||
			!OSSL_PARAM_BLD_push_octet_string(bld, OSSL_PKEY_PARAM_PUB_KEY, pub, 1 + 2 * ci->coord_len))
			st = JOSE_E_NOMEM;
	}
	if (st == JOSE_OK && d != NULL)
	{
		if ((dbn = BN_secure_new()) == NULL || BN_bin2bn(d, (int) dl, dbn) == NULL ||
			!OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_PRIV_KEY, dbn))
			st = JOSE_E_NOMEM;
	}
	if (st == JOSE_OK && (ps = OSSL_PARAM_BLD_to_param(bld)) == NULL)
		st = JOSE_E_NOMEM;
	if (st == JOSE_OK)
		st = from_params("EC", d ? EVP_PKEY_KEYPAIR : EVP_PKEY_PUBLIC_KEY, ps, pkey);
	if (st == JOSE_E_KEY_INVALID)
		st = JOSE_E_KEY_CURVE;	/* OpenSSL refuses a point off the curve here */

	OSSL_PARAM_free(ps);
	OSSL_PARAM_BLD_free(bld);
	BN_clear_free(dbn);
	free(pub);
	free(x);
	free(y);
	wipe_free(d, dl);
	return st;
}

static jose_status
jwk_okp(const jose_json_object *jwk, EVP_PKEY **pkey)
{
	jose_crv	crv = JOSE_CRV_NONE;
	const jose_crv_info *ci;
	unsigned char *x = NULL,
			   *d = NULL;
	size_t		xl = 0,
				dl = 0;
	int			type;
	jose_status st;

	*pkey = NULL;
	if ((st = jwk_crv(jwk, JOSE_KTY_OKP, &crv)) != JOSE_OK)
		return st;
	ci = jose_crv_get(crv);
	type = crv == JOSE_CRV_ED25519 ? EVP_PKEY_ED25519 : EVP_PKEY_ED448;
	if ((st = b64_member(jwk, "x", 1, &x, &xl)) == JOSE_OK &&
		(st = b64_member(jwk, "d", 0, &d, &dl)) == JOSE_OK)
	{
		if (xl != ci->coord_len || (d != NULL && dl != ci->coord_len))
			st = JOSE_E_KEY_INVALID;
	}
	if (st == JOSE_OK)
	{
		if (d != NULL)
			*pkey = EVP_PKEY_new_raw_private_key(type, NULL, d, dl);
		else
			*pkey = EVP_PKEY_new_raw_public_key(type, NULL, x, xl);
		if (*pkey == NULL)
			st = JOSE_E_KEY_INVALID;
	}
	if (st == JOSE_OK && d != NULL)
	{
		/* the given public key must be the one d derives */
		unsigned char derived[64];
		size_t		n = sizeof(derived);

		if (EVP_PKEY_get_raw_public_key(*pkey, derived, &n) != 1 || n != xl ||
			memcmp(derived, x, xl) != 0)
			st = JOSE_E_KEY_INVALID;
	}
	if (st != JOSE_OK)
	{
		EVP_PKEY_free(*pkey);
		*pkey = NULL;
	}
	ERR_clear_error();
	free(x);
	wipe_free(d, dl);
	return st;
}

jose_status
jose_jwk_import_asym(const jose_json_object *jwk, jose_kty kty, jose_key *k)
{
	EVP_PKEY   *pkey = NULL;
	jose_status st;

	switch (kty)
	{
		case JOSE_KTY_RSA:
			st = jwk_rsa(jwk, &pkey);
			break;
		case JOSE_KTY_EC:
			st = jwk_ec(jwk, &pkey);
			break;
		case JOSE_KTY_OKP:
			st = jwk_okp(jwk, &pkey);
			break;
		default:
			return JOSE_E_KEY_KTY;
	}
	if (st != JOSE_OK)
		return st;
	if ((st = jose_pkey_adopt(k, pkey)) != JOSE_OK)
		EVP_PKEY_free(pkey);
	return st;
}
