/*
 * keys.c
 *		Key helpers: jwt_generate_key(), jwt_public_jwk(), jwt_jwk_thumbprint().
 */
#include "postgres.h"

#include "lib/stringinfo.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/jsonb.h"

#include "jwt.h"

PG_FUNCTION_INFO_V1(jwt_generate_key);
PG_FUNCTION_INFO_V1(jwt_public_jwk);
PG_FUNCTION_INFO_V1(jwt_jwk_thumbprint);

/* Core-allocated JSON as jsonb; the core copy is wiped and freed first. */
static Datum
core_json_to_jsonb(char *json, size_t len)
{
	char	   *copy = palloc(len + 1);
	Datum		result;

	memcpy(copy, json, len);
	copy[len] = '\0';
	jose_cleanse(json, len);
	jose_free(json);
	result = jwt_json_to_jsonb(copy, len);
	jose_cleanse(copy, len);
	pfree(copy);
	return result;
}

/* A new private JWK for the algorithm, its kid the RFC 7638 thumbprint. */
Datum
jwt_generate_key(PG_FUNCTION_ARGS)
{
	jose_alg	alg = jwt_alg_from_text(PG_GETARG_TEXT_PP(0));
	jose_key   *key = NULL;
	char		kid[JOSE_THUMBPRINT_LEN + 1];
	char	   *json = NULL;
	size_t		len = 0;
	jose_status st;
	JwtErrorContext ctx = {0};

	ctx.alg = alg;
	st = jose_key_generate(alg, &key);
	if (st == JOSE_OK)
		st = jose_key_thumbprint(key, kid);
	if (st == JOSE_OK)
		st = jose_key_private_jwk(key, alg, kid, &json, &len);
	jose_key_free(key);
	jwt_report(st, &ctx);
	PG_RETURN_DATUM(core_json_to_jsonb(json, len));
}

/*
 * Append a key's public JWK to a JWKS being built ("{"keys":[" so far);
 * returns false, appending nothing, for a key that has no public form for
 * signatures (a secret, a key not for signatures, a type we do not use).
 */
bool
jwt_jwks_append(StringInfo jwks, const jose_key *key)
{
	char	   *json = NULL;
	size_t		len = 0;
	JwtErrorContext ctx = {0};
	jose_status st = jose_key_public_jwk(key, &json, &len);

	if (st == JOSE_E_KEY_SECRET_PUBLIC || st == JOSE_E_KEY_KTY ||
		st == JOSE_E_KEY_USE || st == JOSE_E_KEY_ALG)
		return false;
	jwt_report(st, &ctx);
	if (jwks->data[jwks->len - 1] != '[')
		appendStringInfoChar(jwks, ',');
	appendBinaryStringInfo(jwks, json, (int) len);
	jose_free(json);
	return true;
}

/* The public JWK of a key, or the public JWKS of a JWKS. */
Datum
jwt_public_jwk(PG_FUNCTION_ARGS)
{
	text	   *k = PG_GETARG_TEXT_PP(0);
	const jose_keyset *keys;
	JwtErrorContext ctx = {0};
	StringInfoData out;
	size_t		n;

	keys = jwt_keyset_lookup(fcinfo, VARDATA_ANY(k), VARSIZE_ANY_EXHDR(k), JOSE_KEY_TEXT);
	n = jose_keyset_count(keys);
	if (!jose_keyset_is_set(keys))
	{
		char	   *json = NULL;
		size_t		len = 0;

		jwt_report(jose_key_public_jwk(jose_keyset_key(keys, 0), &json, &len), &ctx);
		PG_RETURN_DATUM(core_json_to_jsonb(json, len));
	}

	initStringInfo(&out);
	appendStringInfoString(&out, "{\"keys\":[");
	for (size_t i = 0; i < n; i++)
	{
		CHECK_FOR_INTERRUPTS();
		(void) jwt_jwks_append(&out, jose_keyset_key(keys, i));
	}
	appendStringInfoString(&out, "]}");
	PG_RETURN_DATUM(jwt_json_to_jsonb(out.data, out.len));
}

/* RFC 7638 thumbprint of a JWK, after checking that it is a usable key. */
Datum
jwt_jwk_thumbprint(PG_FUNCTION_ARGS)
{
	Jsonb	   *jwk = PG_GETARG_JSONB_P(0);
	StringInfoData text_jwk;
	const jose_keyset *keys;
	char		tp[JOSE_THUMBPRINT_LEN + 1];
	JwtErrorContext ctx = {0};

	if (JB_ROOT_IS_SCALAR(jwk) || !JB_ROOT_IS_OBJECT(jwk))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("a JWK must be a JSON object"),
				 errhint("Pass one key, e.g. '{\"kty\":\"OKP\",\"crv\":\"Ed25519\",\"x\":\"...\"}'.")));
	initStringInfo(&text_jwk);
	jwt_jsonb_to_json(&text_jwk, &jwk->root);
	keys = jwt_keyset_lookup(fcinfo, text_jwk.data, text_jwk.len, JOSE_KEY_TEXT);
	jose_cleanse(text_jwk.data, text_jwk.len);
	if (jose_keyset_is_set(keys))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("a JWKS has no single thumbprint"),
				 errhint("Pass one of its keys.")));
	jwt_report(jose_key_thumbprint(jose_keyset_key(keys, 0), tp), &ctx);
	PG_RETURN_TEXT_P(cstring_to_text(tp));
}
