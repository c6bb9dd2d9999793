/*
 * alg.c
 *		The JWS algorithm table (RFC 7518 section 3.1, RFC 8037, RFC 8812,
 *		RFC 9864).  Names are case-sensitive, as RFC 7515 requires.
 */
#include <string.h>

#include "jose.h"

static const jose_alg_info alg_table[JOSE_ALG_COUNT_] = {
	[JOSE_ALG_UNSET] = {JOSE_ALG_UNSET, "", 0, NULL, 0},
	[JOSE_ALG_HS256] = {JOSE_ALG_HS256, "HS256", JOSE_FAM_HMAC, "SHA256", 32},
	[JOSE_ALG_HS384] = {JOSE_ALG_HS384, "HS384", JOSE_FAM_HMAC, "SHA384", 48},
	[JOSE_ALG_HS512] = {JOSE_ALG_HS512, "HS512", JOSE_FAM_HMAC, "SHA512", 64},
	[JOSE_ALG_RS256] = {JOSE_ALG_RS256, "RS256", JOSE_FAM_RSA, "SHA256", 32},
	[JOSE_ALG_RS384] = {JOSE_ALG_RS384, "RS384", JOSE_FAM_RSA, "SHA384", 48},
	[JOSE_ALG_RS512] = {JOSE_ALG_RS512, "RS512", JOSE_FAM_RSA, "SHA512", 64},
	[JOSE_ALG_PS256] = {JOSE_ALG_PS256, "PS256", JOSE_FAM_RSA_PSS, "SHA256", 32},
	[JOSE_ALG_PS384] = {JOSE_ALG_PS384, "PS384", JOSE_FAM_RSA_PSS, "SHA384", 48},
	[JOSE_ALG_PS512] = {JOSE_ALG_PS512, "PS512", JOSE_FAM_RSA_PSS, "SHA512", 64},
	[JOSE_ALG_ES256] = {JOSE_ALG_ES256, "ES256", JOSE_FAM_ECDSA, "SHA256", 32},
	[JOSE_ALG_ES384] = {JOSE_ALG_ES384, "ES384", JOSE_FAM_ECDSA, "SHA384", 48},
	[JOSE_ALG_ES512] = {JOSE_ALG_ES512, "ES512", JOSE_FAM_ECDSA, "SHA512", 64},
	[JOSE_ALG_ES256K] = {JOSE_ALG_ES256K, "ES256K", JOSE_FAM_ECDSA, "SHA256", 32},
	[JOSE_ALG_EDDSA] = {JOSE_ALG_EDDSA, "EdDSA", JOSE_FAM_EDDSA, NULL, 0},
	[JOSE_ALG_ED25519] = {JOSE_ALG_ED25519, "Ed25519", JOSE_FAM_EDDSA, NULL, 0},
	[JOSE_ALG_ED448] = {JOSE_ALG_ED448, "Ed448", JOSE_FAM_EDDSA, NULL, 0},
};

jose_alg
jose_alg_from_name(const char *name, size_t len)
{
	for (int a = 1; a < JOSE_ALG_COUNT_; a++)
		if (strlen(alg_table[a].name) == len &&
			memcmp(alg_table[a].name, name, len) == 0)
			return (jose_alg) a;
	return JOSE_ALG_UNSET;
}

const jose_alg_info *
jose_alg_get(jose_alg alg)
{
	if ((int) alg <= 0 || alg >= JOSE_ALG_COUNT_)
		return NULL;
	return &alg_table[alg];
}

int
jose_alg_is_none(const char *name, size_t len)
{
	static const char none[] = "none";

	if (len != 4)
		return 0;
	for (size_t i = 0; i < 4; i++)
	{
		char		c = name[i];

		if (c >= 'A' && c <= 'Z')
			c = (char) (c - 'A' + 'a');
		if (c != none[i])
			return 0;
	}
	return 1;
}

char *
jose_algset_format(jose_algset set, char *buf, size_t cap)
{
	size_t		used = 0;

	if (cap == 0)
		return buf;
	buf[0] = '\0';
	for (int a = 1; a < JOSE_ALG_COUNT_; a++)
	{
		size_t		n;

		if (!(set & JOSE_ALGBIT(a)))
			continue;
		n = strlen(alg_table[a].name);
		if (used + n + 3 > cap)
			break;
		if (used > 0)
		{
			memcpy(buf + used, ", ", 2);
			used += 2;
		}
		memcpy(buf + used, alg_table[a].name, n);
		used += n;
		buf[used] = '\0';
	}
	return buf;
}
