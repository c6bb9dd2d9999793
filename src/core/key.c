/*
 * key.c
 *		Key import: shared secrets, JWK (RFC 7517, 7518) and JWK Sets.
 *
 * The key decides what it may be used for.  An "oct" key or a plain secret
 * can only do HMAC, and only with hashes no longer than itself; a JWK's
 * "alg", "use" and "key_ops" narrow that further.  A PEM block is never read
 * as a secret: that is the classic confusion where a verifier keyed with an
 * RSA public key accepts an HS256 token MACed with that public key's text.
 */
#include <stdlib.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/params.h>

#include "jose.h"
#include "key_internal.h"

void
jose_cleanse(void *p, size_t len)
{
	if (p != NULL && len > 0)
		OPENSSL_cleanse(p, len);
}

void
jose_free(void *p)
{
	free(p);
}

static void
key_free(jose_key *k)
{
	if (k == NULL)
		return;
	for (int i = 0; i < JOSE_HMAC_COUNT; i++)
		EVP_MAC_CTX_free(k->hmac[i]);
	if (k->cache != NULL)
	{
		EVP_PKEY_CTX_free(k->cache->verify_ctx);
		EVP_PKEY_CTX_free(k->cache->sign_ctx);
		EVP_MD_CTX_free(k->cache->eddsa_sign);
		EVP_MD_CTX_free(k->cache->eddsa_verify);
		for (int i = 0; i < 3; i++)
			EVP_MD_free(k->cache->md[i]);
		free(k->cache);
	}
	EVP_PKEY_free(k->pkey);
	BN_free(k->ec_order);
	if (k->secret != NULL)
	{
		jose_cleanse(k->secret, k->secret_len);
		free(k->secret);
	}
	free(k->kid);
	free(k);
}

void
jose_key_free(jose_key *key)
{
	key_free(key);
}

void
jose_keyset_free(jose_keyset *ks)
{
	if (ks == NULL)
		return;
	for (size_t i = 0; i < ks->n; i++)
		key_free(ks->keys[i]);
	free(ks->keys);
	free(ks->by_kid);
	free(ks);
}

size_t
jose_keyset_count(const jose_keyset *ks)
{
	return ks->n;
}

const jose_key *
jose_keyset_key(const jose_keyset *ks, size_t i)
{
	return i < ks->n ? ks->keys[i] : NULL;
}

int
jose_keyset_is_set(const jose_keyset *ks)
{
	return ks->is_set;
}

const char *
jose_key_kid(const jose_key *key, size_t *len)
{
	if (len != NULL)
		*len = key->kid_len;
	return key->kid;
}

jose_kty
jose_key_kty(const jose_key *key)
{
	return key->kty;
}

int
jose_key_is_for_encryption(const jose_key *key)
{
	return (key->ops & JOSE_OP_USE_ENC) != 0;
}

/*
 * Key HMAC contexts once, for every hash the secret is long enough for, so
 * that a verification costs the MAC and not a key setup.
 */
static jose_status
hmac_prepare(jose_key *k)
{
	static const jose_alg hs[JOSE_HMAC_COUNT] = {JOSE_ALG_HS256, JOSE_ALG_HS384, JOSE_ALG_HS512};
	EVP_MAC    *mac;
	jose_status st = JOSE_OK;

	mac = EVP_MAC_fetch(NULL, "HMAC", NULL);
	if (mac == NULL)
	{
		ERR_clear_error();
		return JOSE_E_CRYPTO;
	}
	for (int i = 0; i < JOSE_HMAC_COUNT; i++)
	{
		const jose_alg_info *info = jose_alg_get(hs[i]);
		OSSL_PARAM	params[2];

		if (k->secret_len < info->hash_len)
			continue;
		params[0] = OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST,
													 (char *) info->digest, 0);
		params[1] = OSSL_PARAM_construct_end();
		k->hmac[i] = EVP_MAC_CTX_new(mac);
		if (k->hmac[i] == NULL ||
			!EVP_MAC_init(k->hmac[i], k->secret, k->secret_len, params))
		{
			st = JOSE_E_CRYPTO;
			break;
		}
	}
	EVP_MAC_free(mac);
	if (st != JOSE_OK)
		ERR_clear_error();
	return st;
}

jose_status
jose_key_from_secret(const unsigned char *data, size_t len, jose_key **out)
{
	jose_key   *k;
	jose_status st;

	*out = NULL;
	if (len == 0)
		return JOSE_E_KEY_EMPTY;
	k = calloc(1, sizeof(jose_key));
	if (k == NULL)
		return JOSE_E_NOMEM;
	k->kty = JOSE_KTY_OCT;
	k->ops = JOSE_OP_SIGN | JOSE_OP_VERIFY;
	k->secret = malloc(len);
	if (k->secret == NULL)
	{
		key_free(k);
		return JOSE_E_NOMEM;
	}
	memcpy(k->secret, data, len);
	k->secret_len = len;
	if ((st = hmac_prepare(k)) != JOSE_OK)
	{
		key_free(k);
		return st;
	}
	*out = k;
	return JOSE_OK;
}

/* A member that must be a string when present; NULL when absent. */
static jose_status
optional_string(const jose_json_object *jwk, const char *name,
				const jose_json_value **out)
{
	const jose_json_value *v = jose_json_get(jwk, name);

	*out = NULL;
	if (v == NULL)
		return JOSE_OK;
	if (v->type != JOSE_JSON_STRING)
		return JOSE_E_KEY_FORMAT;
	*out = v;
	return JOSE_OK;
}

/* Copy a decoded JSON string into a fresh NUL-terminated buffer. */
static char *
string_dup(const jose_json_value *v, size_t *len)
{
	char	   *s = malloc(v->len + 1);

	if (s == NULL)
		return NULL;
	*len = jose_json_string_decode(v, s);
	s[*len] = '\0';
	return s;
}

/* "use" and "key_ops" (RFC 7517 sections 4.2 and 4.3) as JOSE_OP_* bits. */
static jose_status
jwk_ops(const jose_json_object *jwk, unsigned *ops)
{
	const jose_json_value *use;
	const jose_json_value *key_ops = jose_json_get(jwk, "key_ops");
	jose_status st;

	*ops = JOSE_OP_SIGN | JOSE_OP_VERIFY;
	if ((st = optional_string(jwk, "use", &use)) != JOSE_OK)
		return st;
	if (use != NULL && jose_json_string_eq(use, "sig", 3))
		*ops |= JOSE_OP_USE_SIG;
	if (use != NULL && !jose_json_string_eq(use, "sig", 3))
		*ops = 0;				/* "enc" or another use: not for signatures */
	if (use != NULL && jose_json_string_eq(use, "enc", 3))
		*ops = JOSE_OP_USE_ENC;

	if (key_ops != NULL)
	{
		jose_json_value elem;
		size_t		pos = 0;
		unsigned	listed = 0;
		unsigned	seen_other = 0;

		if (key_ops->type != JOSE_JSON_ARRAY)
			return JOSE_E_KEY_FORMAT;
		while (jose_json_array_next(key_ops, &pos, &elem))
		{
			unsigned	bit = 0;

			if (elem.type != JOSE_JSON_STRING)
				return JOSE_E_KEY_FORMAT;
			if (jose_json_string_eq(&elem, "sign", 4))
				bit = JOSE_OP_SIGN;
			else if (jose_json_string_eq(&elem, "verify", 6))
				bit = JOSE_OP_VERIFY;
			else
			{
				seen_other++;
				continue;
			}
			if (listed & bit)
				return JOSE_E_KEY_FORMAT;	/* RFC 7517: no duplicates */
			listed |= bit;
		}
		(void) seen_other;
		*ops &= listed | JOSE_OP_USE_ENC;
	}
	return JOSE_OK;
}

/*
 * One JWK.  A key of a type this build does not use is returned with kty 0
 * when in_set, so that a JWKS from an identity provider that also lists
 * encryption keys still loads (RFC 7517 section 5).
 */
static jose_status
jwk_import(const char *text, size_t len, int in_set, const jose_stop *stop,
		   jose_key **out)
{
	jose_json_object jwk;
	const jose_json_value *kty,
			   *alg,
			   *kid;
	jose_key   *k = NULL;
	jose_status st;

	*out = NULL;
	switch (jose_json_parse_object_stop(text, len, stop, &jwk))
	{
		case JOSE_JSON_OK:
			break;
		case JOSE_JSON_INTERRUPTED:
			return JOSE_E_INTERRUPTED;
		case JOSE_JSON_NOMEM:
			return JOSE_E_NOMEM;
		default:
			return JOSE_E_KEY_FORMAT;
	}

	if ((st = optional_string(&jwk, "kty", &kty)) != JOSE_OK ||
		(st = optional_string(&jwk, "alg", &alg)) != JOSE_OK ||
		(st = optional_string(&jwk, "kid", &kid)) != JOSE_OK)
		goto done;
	if (kty == NULL)
	{
		st = JOSE_E_KEY_KTY;
		goto done;
	}

	if (jose_json_string_eq(kty, "oct", 3))
	{
		const jose_json_value *kval;
		unsigned char *raw;
		size_t		rawlen;

		if ((st = optional_string(&jwk, "k", &kval)) != JOSE_OK)
			goto done;
		if (kval == NULL || kval->escaped)
		{
			st = JOSE_E_KEY_FORMAT;
			goto done;
		}
		raw = malloc(JOSE_B64_DECODED_MAX(kval->len) + 1);
		if (raw == NULL)
		{
			st = JOSE_E_NOMEM;
			goto done;
		}
		if (!jose_b64url_decode(kval->p, kval->len, raw, &rawlen))
			st = JOSE_E_KEY_FORMAT;
		else
			st = jose_key_from_secret(raw, rawlen, &k);
		jose_cleanse(raw, JOSE_B64_DECODED_MAX(kval->len));
		free(raw);
		if (st != JOSE_OK)
			goto done;
	}
	else
	{
		jose_kty	t = jose_json_string_eq(kty, "RSA", 3) ? JOSE_KTY_RSA :
			jose_json_string_eq(kty, "EC", 2) ? JOSE_KTY_EC :
			jose_json_string_eq(kty, "OKP", 3) ? JOSE_KTY_OKP : 0;

		k = calloc(1, sizeof(jose_key));
		if (k == NULL)
		{
			st = JOSE_E_NOMEM;
			goto done;
		}
		st = t ? jose_jwk_import_asym(&jwk, t, k) : JOSE_E_KEY_KTY;

		/*
		 * RFC 7517 section 5: a set member of a type, curve or size we do
		 * not use is ignored, but kept, so that its kid is still found.
		 */
		if (in_set && (st == JOSE_E_KEY_KTY || st == JOSE_E_KEY_CURVE ||
					   st == JOSE_E_KEY_WEAK || st == JOSE_E_KEY_ROCA))
		{
			memset(k, 0, sizeof(*k));
			st = JOSE_OK;
		}
		if (st != JOSE_OK)
			goto done;
	}

	if ((st = jwk_ops(&jwk, &k->ops)) != JOSE_OK)
		goto done;
	if (alg != NULL)
	{
		char		name[64];

		if (alg->len <= sizeof(name))
			k->alg = jose_alg_from_name(name, jose_json_string_decode(alg, name));
		if (k->alg == JOSE_ALG_UNSET)
			k->alg_foreign = 1;	/* e.g. "RSA-OAEP": usable for nothing here */
	}
	if (kid != NULL && (k->kid = string_dup(kid, &k->kid_len)) == NULL)
		st = JOSE_E_NOMEM;

done:
	jose_json_object_free(&jwk);
	if (st != JOSE_OK)
	{
		key_free(k);
		return st;
	}
	*out = k;
	return JOSE_OK;
}

static int cmp_kid_entry(const void *a, const void *b);
static int	same_kid(const jose_kid_entry *a, const jose_kid_entry *b);
static void keyset_summarise(jose_keyset *ks);

/*
 * A JWKS's keys, in order.  Every key costs an import (parsing, range checks,
 * trial division), so stop is asked before each one and the count is capped;
 * a kid selects exactly one key, so no two may share one, which the kid
 * index, sorted, shows in n log n.
 */
static jose_status
jwks_import(const jose_json_value *keys, const jose_stop *stop, jose_keyset *ks)
{
	jose_json_value elem;
	size_t		pos = 0;
	size_t		cap = 4;
	jose_status st;

	if (keys->type != JOSE_JSON_ARRAY)
		return JOSE_E_KEY_FORMAT;
	ks->keys = malloc(cap * sizeof(jose_key *));
	if (ks->keys == NULL)
		return JOSE_E_NOMEM;
	for (;;)
	{
		jose_key   *k;

		if (jose_should_stop(stop))
			return JOSE_E_INTERRUPTED;
		if (!jose_json_array_next(keys, &pos, &elem))
			break;
		if (ks->n == JOSE_MAX_KEYS)
			return JOSE_E_KEYSET_TOO_MANY;
		if (elem.type != JOSE_JSON_OBJECT)
			return JOSE_E_KEY_FORMAT;
		if ((st = jwk_import(elem.p, elem.len, 1, stop, &k)) != JOSE_OK)
			return st;
		if (ks->n == cap)
		{
			jose_key  **n = realloc(ks->keys, cap * 2 * sizeof(jose_key *));

			if (n == NULL)
			{
				key_free(k);
				return JOSE_E_NOMEM;
			}
			ks->keys = n;
			cap *= 2;
		}
		ks->keys[ks->n++] = k;
	}
	if ((st = jose_keyset_index(ks)) != JOSE_OK)
		return st;
	/* a kid selects exactly one key, so no two may share one: neighbours once sorted */
	for (size_t i = 1; i < ks->nkid; i++)
		/* mutation: key-jwks-duplicate-kid: if (same_kid( => if (0 && same_kid( */
		if (same_kid(&ks->by_kid[i - 1], &ks->by_kid[i]))
			return JOSE_E_KEYSET_DUP_KID;
	if (ks->n == 0)
		return JOSE_E_KEYSET_EMPTY;

	/*
	 * A set is what a party publishes: a shared secret in it is a mistake,
	 * and a set holding both makes "which key" ambiguous in the worst way.
	 */
	{
		int			secrets = 0,
					others = 0;

		for (size_t i = 0; i < ks->n; i++)
		{
			if (ks->keys[i]->kty == JOSE_KTY_OCT)
				secrets++;
			else if (ks->keys[i]->kty != 0)
				others++;
		}
		/* mutation: key-jwks-mixed-secret-public: secrets > 0 && others > 0 => 0 */
		if (secrets > 0 && others > 0)
			return JOSE_E_KEYSET_MIXED;
	}
	return JOSE_OK;
}

static const char *
find_in(const char *s, size_t len, const char *needle)
{
	size_t		n = strlen(needle);

	for (size_t i = 0; i + n <= len; i++)
		if (s[i] == needle[0] && memcmp(s + i, needle, n) == 0)
			return s + i;
	return NULL;
}

/* The start of an OpenSSH key type name: "ssh-rsa", "ecdsa-sha2-nistp256", ... */
static int
ssh_type_prefix(const char *s, size_t len)
{
	static const char *const prefixes[] = {"ssh-", "ecdsa-sha2-", "sk-ssh-", "sk-ecdsa-"};

	for (size_t i = 0; i < sizeof(prefixes) / sizeof(prefixes[0]); i++)
	{
		size_t		n = strlen(prefixes[i]);

		if (len >= n && memcmp(s, prefixes[i], n) == 0)
			return 1;
	}
	return 0;
}

static int
b64_value(char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+')
		return 62;
	if (c == '/')
		return 63;
	return -1;
}

static int
is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/*
 * Whether the base64 at s is an SSH key blob (RFC 4253 section 6.6): a
 * four-octet length, then the key type's name.  Its length is below 2^24,
 * so every blob starts "AAAA"; the first 24 characters give 18 octets,
 * enough for the length and the type's first 14 characters.
 */
static int
ssh_blob_at(const char *s, size_t len)
{
	unsigned char out[18];
	uint32_t	n;

	if (len < 24)
		return 0;
	for (size_t g = 0; g < 6; g++)
	{
		uint32_t	v = 0;

		for (size_t j = 0; j < 4; j++)
		{
			int			d = b64_value(s[4 * g + j]);

			if (d < 0)
				return 0;
			v = (v << 6) | (uint32_t) d;
		}
		out[3 * g] = (unsigned char) (v >> 16);
		out[3 * g + 1] = (unsigned char) (v >> 8);
		out[3 * g + 2] = (unsigned char) v;
	}
	n = ((uint32_t) out[0] << 24) | ((uint32_t) out[1] << 16) |
		((uint32_t) out[2] << 8) | out[3];
	return n >= 7 && n <= 64 && ssh_type_prefix((const char *) out + 4, n < 14 ? n : 14);
}

/*
 * Public text that must never become an HMAC secret (CVE-2022-29217): an
 * SSH public key in any of the forms OpenSSH writes, wherever it stands in
 * the text.  The rule, in one pass over the text:
 *	- the text starts with a key type ("ssh-...", "ecdsa-sha2-...",
 *	  "sk-ssh-...", "sk-ecdsa-...");
 *	- an RFC 4716 block ("---- BEGIN SSH2") anywhere;
 *	- anywhere, at the start of a run of base64, what decodes to an SSH key
 *	  blob (a length, then one of those type names): the key of an
 *	  authorized_keys line with options, of a known_hosts line (plain or
 *	  hashed "|1|..."), of an "@cert-authority" or "@revoked" line, of a
 *	  certificate ("...-cert-v01@openssh.com");
 *	- anywhere, a word that is such a type name followed by blanks and
 *	  "AAAA" (a blob, even one cut short).
 * A random secret matches none of these but by a chance far below 2^-64
 * per position.
 */
static int
looks_like_ssh(const char *s, size_t len)
{
	if (ssh_type_prefix(s, len) || find_in(s, len, "---- BEGIN SSH2") != NULL)
		return 1;
	for (size_t i = 0; i + 4 <= len; i++)
	{
		size_t		w,
					b;

		/* "AAAA" starting a run of base64 */
		if (s[i] != 'A' || memcmp(s + i, "AAAA", 4) != 0 ||
			(i > 0 && b64_value(s[i - 1]) >= 0))
			continue;
		if (ssh_blob_at(s + i, len - i))
			return 1;
		/* the word before the blanks before the blob */
		b = i;
		while (b > 0 && (s[b - 1] == ' ' || s[b - 1] == '\t'))
			b--;
		if (b == i)
			continue;
		w = b;
		while (w > 0 && b - w < 64 && !is_space(s[w - 1]))
			w--;
		if (ssh_type_prefix(s + w, b - w))
			return 1;
	}
	return 0;
}

/*
 * Bytes given as a shared secret (a bytea key) that are a key's text or
 * encoding: a PEM block, a JWK, an SSH public key, base64 or binary DER of
 * a key or certificate.  A public key is public, so a secret made of it is
 * none (CVE-2022-29217); a private key is not a secret of this kind either.
 */
static jose_status
secret_is_key(const char *s, size_t len)
{
	jose_key   *k;
	jose_status st = JOSE_OK;
	int			is_key;

	if (looks_like_ssh(s, len))
		return JOSE_E_KEY_SSH;
	if (find_in(s, len, "-----BEGIN") != NULL || find_in(s, len, "\"kty\"") != NULL ||
		find_in(s, len, "\\\"kty\\\"") != NULL || jose_der_is_key(s, len))
		return JOSE_E_KEY_NOT_SECRET;
	if ((k = calloc(1, sizeof(jose_key))) == NULL)
		return JOSE_E_NOMEM;
	is_key = jose_der_b64_import(s, len, k, &st);
	key_free(k);
	if (st == JOSE_E_NOMEM)
		return st;
	return is_key ? JOSE_E_KEY_NOT_SECRET : JOSE_OK;
}

jose_status
jose_keyset_import(const char *data, size_t len, jose_key_form form,
				   jose_keyset **out)
{
	return jose_keyset_import_stop(data, len, form, NULL, out);
}

jose_status
jose_keyset_import_stop(const char *data, size_t len, jose_key_form form,
						const jose_stop *stop, jose_keyset **out)
{
	jose_keyset *ks;
	jose_key   *bare = NULL;
	jose_status st = JOSE_OK;
	size_t		skip = 0;

	*out = NULL;
	if (len == 0)
		return JOSE_E_KEY_EMPTY;
	if (len > JOSE_MAX_KEY_TEXT)
		return JOSE_E_KEY_TOO_LARGE;
	ks = calloc(1, sizeof(jose_keyset));
	if (ks == NULL)
		return JOSE_E_NOMEM;

	if (form == JOSE_KEY_SECRET && (st = secret_is_key(data, len)) != JOSE_OK)
	{
		jose_keyset_free(ks);
		return st;
	}
	if (form == JOSE_KEY_TEXT)
		while (skip < len && (data[skip] == ' ' || data[skip] == '\t' ||
							  data[skip] == '\n' || data[skip] == '\r'))
			skip++;

	if (form == JOSE_KEY_TEXT && skip < len && data[skip] == '{')
	{
		jose_json_object obj;
		const jose_json_value *keys;

		jose_json_error jerr = jose_json_parse_object_stop(data, len, stop, &obj);

		if (jerr != JOSE_JSON_OK)
			st = jerr == JOSE_JSON_INTERRUPTED ? JOSE_E_INTERRUPTED :
				jerr == JOSE_JSON_NOMEM ? JOSE_E_NOMEM : JOSE_E_KEY_FORMAT;
		else
		{
			keys = jose_json_get(&obj, "keys");
			if (keys != NULL)
			{
				ks->is_set = 1;
				st = jwks_import(keys, stop, ks);
			}
			else
			{
				ks->keys = malloc(sizeof(jose_key *));
				if (ks->keys == NULL)
					st = JOSE_E_NOMEM;
				else if ((st = jwk_import(data, len, 0, stop, &ks->keys[0])) == JOSE_OK)
					ks->n = 1;
			}
			jose_json_object_free(&obj);
		}
	}
	/* mutation: key-pem-anywhere-not-secret: else if (form == JOSE_KEY_TEXT && => else if (0 && form == JOSE_KEY_TEXT && */
	else if (form == JOSE_KEY_TEXT && find_in(data, len, "-----BEGIN") != NULL)
	{
		/*
		 * A text holding a PEM block anywhere is a PEM key, never a secret:
		 * "openssl x509 -text" output or a PKCS#12 export puts text before
		 * the block, and MACing with a public key's text is the classic
		 * forgery.
		 */
		const char *pem = find_in(data, len, "-----BEGIN");

		skip = (size_t) (pem - data);
		ks->keys = calloc(1, sizeof(jose_key *));
		if (ks->keys == NULL || (ks->keys[0] = calloc(1, sizeof(jose_key))) == NULL)
			st = JOSE_E_NOMEM;
		else
		{
			ks->n = 1;
			st = jose_pem_import(data + skip, len - skip, ks->keys[0]);
		}
	}
	/* mutation: key-jwk-text-not-secret: else if (form == JOSE_KEY_TEXT && => else if (0 && form == JOSE_KEY_TEXT && */
	else if (form == JOSE_KEY_TEXT && (find_in(data, len, "\"kty\"") != NULL ||
									   find_in(data, len, "\\\"kty\\\"") != NULL))
		st = JOSE_E_KEY_FORMAT;	/* a JWK with text around it: never a secret */
	/* mutation: key-ssh-not-secret: else if (form == JOSE_KEY_TEXT && => else if (0 && form == JOSE_KEY_TEXT && */
	else if (form == JOSE_KEY_TEXT && looks_like_ssh(data + skip, len - skip))
		st = JOSE_E_KEY_SSH;	/* CVE-2022-29217: an SSH key's text as a secret */
	else if (form == JOSE_KEY_TEXT && (bare = calloc(1, sizeof(jose_key))) != NULL &&
			 jose_der_b64_import(data + skip, len - skip, bare, &st))
	{
		/* base64 DER of a public key or certificate: that key */
		if (st == JOSE_OK && (ks->keys = malloc(sizeof(jose_key *))) == NULL)
			st = JOSE_E_NOMEM;
		if (st == JOSE_OK)
		{
			ks->keys[0] = bare;
			ks->n = 1;
			bare = NULL;
		}
	}
	else
	{
		ks->keys = malloc(sizeof(jose_key *));
		if (ks->keys == NULL)
			st = JOSE_E_NOMEM;
		else if ((st = jose_key_from_secret((const unsigned char *) data, len,
									  &ks->keys[0])) == JOSE_OK)
			ks->n = 1;
	}

	key_free(bare);
	if (st != JOSE_OK)
	{
		jose_keyset_free(ks);
		return st;
	}
	if (!ks->algs_known)
		keyset_summarise(ks);
	*out = ks;
	return JOSE_OK;
}

/*
 * Whether the JWK's "alg" admits alg.  "EdDSA" and the fully-specified
 * "Ed25519" and "Ed448" (RFC 9864) name the same signatures on one curve.
 */
static int
jwk_alg_admits(const jose_key *key, jose_alg alg)
{
	if (key->alg_foreign)
		return 0;
	if (key->alg == JOSE_ALG_UNSET || key->alg == alg)
		return 1;
	return key->kty == JOSE_KTY_OKP &&
		(key->alg == JOSE_ALG_EDDSA || alg == JOSE_ALG_EDDSA) &&
		(key->alg == jose_crv_get(key->crv)->alg || alg == jose_crv_get(key->crv)->alg);
}

jose_status
jose_key_check(const jose_key *key, jose_alg alg, jose_op op)
{
	const jose_alg_info *info = jose_alg_get(alg);

	if (info == NULL)
		return JOSE_E_ALG_INVALID;
	switch (key->kty)
	{
		case JOSE_KTY_OCT:
			/* mutation: rule-3-alg-for-key-oct: info->family != JOSE_FAM_HMAC => 0 */
			if (info->family != JOSE_FAM_HMAC)
				return JOSE_E_KEY_ALG;
			break;
		case JOSE_KTY_RSA:
			/* mutation: rule-3-alg-for-key-rsa: if (info->family != JOSE_FAM_RSA && => if (0 && info->family != JOSE_FAM_RSA && */
			if (info->family != JOSE_FAM_RSA && info->family != JOSE_FAM_RSA_PSS)
				return JOSE_E_KEY_ALG;
			break;
		case JOSE_KTY_EC:
			/* mutation: rule-4-ecdsa-curve-matches-alg: || jose_crv_get(key->crv)->alg != alg => || 0 */
			if (info->family != JOSE_FAM_ECDSA || jose_crv_get(key->crv)->alg != alg)
				return JOSE_E_KEY_ALG;
			break;
		case JOSE_KTY_OKP:
			/* mutation: rule-4-eddsa-curve-matches-alg: if (alg != JOSE_ALG_EDDSA && => if (0 && alg != JOSE_ALG_EDDSA && */
			if (alg != JOSE_ALG_EDDSA && jose_crv_get(key->crv)->alg != alg)
				return JOSE_E_KEY_ALG;
			break;
		default:
			return JOSE_E_KEY_ALG;	/* a set member we cannot use */
	}
	/* mutation: key-jwk-alg: !jwk_alg_admits(key, alg) => 0 */
	if (!jwk_alg_admits(key, alg))
		return JOSE_E_KEY_ALG;
	/* mutation: key-jwk-use-and-key-ops: !(key->ops & op) => 0 */
	if (!(key->ops & op))
		return JOSE_E_KEY_USE;
	/* mutation: rule-4-hmac-key-length: if (key->kty == JOSE_KTY_OCT && => if (0 && key->kty == JOSE_KTY_OCT && */
	if (key->kty == JOSE_KTY_OCT && key->secret_len < info->hash_len)
		return JOSE_E_KEY_SHORT;
	/* mutation: key-sign-needs-private: if (op == JOSE_OP_SIGN && => if (0 && op == JOSE_OP_SIGN && */
	if (op == JOSE_OP_SIGN && key->kty != JOSE_KTY_OCT && !key->is_private)
		return JOSE_E_KEY_NOT_PRIVATE;
	return JOSE_OK;
}

void
jose_key_restrict(jose_key *key, jose_alg alg, double valid_from, int has_until,
				  double valid_until)
{
	if (alg != JOSE_ALG_UNSET)
	{
		key->alg = alg;
		key->alg_foreign = 0;
	}
	key->has_window = 1;
	key->has_until = has_until != 0;
	key->valid_from = valid_from;
	key->valid_until = has_until ? valid_until : HUGE_VAL;
	key->ops |= JOSE_OP_USE_SIG;	/* a registry key is a signature key */
}

int
jose_key_window(const jose_key *key, double *from, double *until)
{
	*from = key->valid_from;
	*until = key->has_until ? key->valid_until : HUGE_VAL;
	return key->has_window;
}

int
jose_key_is_valid_at(const jose_key *key, double t)
{
	return jose_key_valid_at(key, t);
}

jose_status
jose_key_set_kid(jose_key *key, const char *kid, size_t len)
{
	char	   *copy = malloc(len + 1);

	if (copy == NULL)
		return JOSE_E_NOMEM;
	memcpy(copy, kid, len);
	copy[len] = '\0';
	free(key->kid);
	key->kid = copy;
	key->kid_len = len;
	return JOSE_OK;
}

jose_keyset *
jose_keyset_new(void)
{
	jose_keyset *ks = calloc(1, sizeof(jose_keyset));

	if (ks != NULL)
	{
		ks->is_set = 1;
		keyset_summarise(ks);
	}
	return ks;
}

static int
cmp_kid(const char *a, size_t alen, const char *b, size_t blen)
{
	int			c = memcmp(a, b, alen < blen ? alen : blen);

	return c != 0 ? c : (alen > blen) - (alen < blen);
}

static int
same_kid(const jose_kid_entry *a, const jose_kid_entry *b)
{
	return cmp_kid(a->key->kid, a->key->kid_len, b->key->kid, b->key->kid_len) == 0;
}

static uint64_t
kid_prefix(const char *kid, size_t len)
{
	uint64_t	p = 0;

	for (size_t i = 0; i < 8; i++)
		p = (p << 8) | (i < len ? (unsigned char) kid[i] : 0);
	return p;
}

/* By kid, then by place in the set: a total order, whatever qsort does with ties. */
static int
cmp_kid_entry(const void *a, const void *b)
{
	const jose_kid_entry *x = a;
	const jose_kid_entry *y = b;
	int			c = cmp_kid(x->key->kid, x->key->kid_len, y->key->kid, y->key->kid_len);

	return c != 0 ? c : (x->pos > y->pos) - (x->pos < y->pos);
}

/* What the set's keys can do together (jose_keyset_algs), computed once. */
static void
keyset_summarise(jose_keyset *ks)
{
	jose_algset sign = 0,
				verify = 0;

	for (size_t i = 0; i < ks->n; i++)
	{
		sign |= jose_key_algs(ks->keys[i], JOSE_OP_SIGN);
		verify |= jose_key_algs(ks->keys[i], JOSE_OP_VERIFY);
	}
	ks->algs_sign = sign;
	ks->algs_verify = verify;
	ks->algs_known = 1;
}

jose_status
jose_keyset_index(jose_keyset *ks)
{
	size_t		m = 0;

	free(ks->by_kid);
	ks->by_kid = NULL;
	ks->nkid = 0;
	ks->by_kid = malloc((ks->n + 1) * sizeof(jose_kid_entry));
	if (ks->by_kid == NULL)
		return JOSE_E_NOMEM;
	for (size_t i = 0; i < ks->n; i++)
		if (ks->keys[i]->kid != NULL)
		{
			ks->by_kid[m].prefix = kid_prefix(ks->keys[i]->kid, ks->keys[i]->kid_len);
			ks->by_kid[m].key = ks->keys[i];
			ks->by_kid[m].pos = i;
			m++;
		}
	if (m > 1)
		qsort(ks->by_kid, m, sizeof(jose_kid_entry), cmp_kid_entry);
	ks->nkid = m;
	keyset_summarise(ks);
	return JOSE_OK;
}

int
jose_keyset_find_kid(const jose_keyset *ks, const char *kid, size_t len, size_t *pos)
{
	uint64_t	want = kid_prefix(kid, len);
	const jose_kid_entry *base = ks->by_kid;
	size_t		n = ks->nkid,
				lo,
				hi = ks->nkid;
	int			c;

	if (n == 0)
		return 0;

	/*
	 * The first entry whose prefix is not below kid's, by a search whose
	 * steps the compiler makes without branches: the kids of a registry or
	 * a JWKS are tried in no order a branch predictor could learn, and a
	 * mispredicted step cost more than the step.  The sort by kid sorts the
	 * prefixes too, so the kid is there or nowhere.
	 */
	while (n > 1)
	{
		size_t		half = n / 2;

		base = base[half].prefix < want ? base + half : base;
		n -= half;
	}
	lo = (size_t) (base - ks->by_kid) + (base->prefix < want);
	if (lo == ks->nkid || ks->by_kid[lo].prefix != want)
		return 0;
	c = cmp_kid(ks->by_kid[lo].key->kid, ks->by_kid[lo].key->kid_len, kid, len);
	/* mutation: key-index-kid-above: if (c > 0) => if (0) */
	if (c > 0)
		return 0;				/* the first kid of this prefix is already above kid */
	if (c < 0)
	{
		/* kids that share their first 8 bytes: the first entry whose kid is not below kid */
		lo++;
		while (lo < hi)
		{
			size_t		mid = lo + (hi - lo) / 2;
			const jose_kid_entry *e = &ks->by_kid[mid];

			if (e->prefix != want ? e->prefix < want :
				cmp_kid(e->key->kid, e->key->kid_len, kid, len) < 0)
				lo = mid + 1;
			else
				hi = mid;
		}
		if (lo == ks->nkid ||
			cmp_kid(ks->by_kid[lo].key->kid, ks->by_kid[lo].key->kid_len, kid, len) != 0)
			return 0;
	}
	*pos = ks->by_kid[lo].pos;
	return 1;
}

const jose_key *
jose_keyset_find(const jose_keyset *ks, const char *kid, size_t len)
{
	size_t		pos;

	if (ks->by_kid == NULL || !jose_keyset_find_kid(ks, kid, len, &pos))
		return NULL;
	return ks->keys[pos];
}

jose_status
jose_keyset_adopt(jose_keyset *dst, jose_keyset *src)
{
	free(dst->by_kid);
	dst->by_kid = NULL;
	dst->nkid = 0;
	dst->algs_known = 0;
	if (dst->n + src->n > dst->cap)
	{
		size_t		ncap = (dst->n + src->n) * 2 + 4;
		jose_key  **n = realloc(dst->keys, ncap * sizeof(jose_key *));

		if (n == NULL)
			return JOSE_E_NOMEM;
		dst->keys = n;
		dst->cap = ncap;
	}
	for (size_t i = 0; i < src->n; i++)
		dst->keys[dst->n++] = src->keys[i];
	src->n = 0;
	jose_keyset_free(src);
	return JOSE_OK;
}

jose_alg
jose_key_natural_alg(const jose_key *key)
{
	if (key->alg != JOSE_ALG_UNSET)
		return key->alg;
	switch (key->kty)
	{
		case JOSE_KTY_OCT:
			return JOSE_ALG_HS256;
		case JOSE_KTY_RSA:
			return JOSE_ALG_RS256;
		case JOSE_KTY_EC:
		case JOSE_KTY_OKP:
			return jose_crv_get(key->crv)->alg;
		default:
			return JOSE_ALG_UNSET;
	}
}

jose_algset
jose_key_algs(const jose_key *key, jose_op op)
{
	jose_algset set = 0;

	for (int a = 1; a < JOSE_ALG_COUNT_; a++)
		if (jose_key_check(key, (jose_alg) a, op) == JOSE_OK)
			set |= JOSE_ALGBIT(a);
	return set;
}

jose_algset
jose_keyset_algs(const jose_keyset *ks, jose_op op)
{
	jose_algset set = 0;

	if (ks->algs_known && op == JOSE_OP_SIGN)
		return ks->algs_sign;
	if (ks->algs_known && op == JOSE_OP_VERIFY)
		return ks->algs_verify;
	for (size_t i = 0; i < ks->n; i++)
		set |= jose_key_algs(ks->keys[i], op);
	return set;
}
