/*
 * sign.c
 *		jwt_sign() and jws_sign(): a claims set, or any bytes, and a key into
 *		a compact JWS.
 */
#include "postgres.h"

#include "utils/builtins.h"
#include "utils/jsonb.h"

#include "jwt.h"

PG_FUNCTION_INFO_V1(jwt_sign_text);
PG_FUNCTION_INFO_V1(jwt_sign_bytea);
PG_FUNCTION_INFO_V1(jws_sign);

/* Header members a strict verifier refuses, so we never produce them. */
static bool
refused_member(const char *name, int len)
{
	return (len == 4 && memcmp(name, "crit", 4) == 0) ||
		(len == 3 && memcmp(name, "b64", 3) == 0) ||
		(len == 3 && memcmp(name, "zip", 3) == 0);
}

/*
 * The protected header: "alg" first, then "typ" (default_typ unless the
 * caller says otherwise), the key's "kid" unless the caller gives one, then
 * the caller's other members.  A JSON null for "typ" or "kid" leaves it out.
 */
static void
build_header(StringInfo out, const jose_alg_info *alg, const jose_key *key,
			 Jsonb *header, const char *default_typ)
{
	StringInfoData rest;
	bool		has_typ = false,
				has_kid = false;

	initStringInfo(&rest);
	if (header != NULL)
	{
		JsonbIterator *it;
		JsonbValue	k,
					v;
		JsonbIteratorToken tok;

		if (JB_ROOT_IS_SCALAR(header) || !JB_ROOT_IS_OBJECT(header))
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("header must be a JSON object"),
					 errhint("Pass the extra header members as an object, e.g. '{\"kid\":\"2026-11\"}'.")));
		it = JsonbIteratorInit(&header->root);
		while ((tok = JsonbIteratorNext(&it, &k, true)) != WJB_DONE)
		{
			const char *name;
			int			nlen;

			if (tok != WJB_KEY)
				continue;
			name = k.val.string.val;
			nlen = k.val.string.len;
			tok = JsonbIteratorNext(&it, &v, true);
			Assert(tok == WJB_VALUE);

			if (nlen == 3 && memcmp(name, "alg", 3) == 0)
			{
				if (v.type != jbvString || v.val.string.len != (int) strlen(alg->name) ||
					memcmp(v.val.string.val, alg->name, v.val.string.len) != 0)
					ereport(ERROR,
							(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
							 errmsg("header \"alg\" disagrees with the algorithm %s", alg->name),
							 errhint("Leave \"alg\" out of the header; it is set from the algorithm argument.")));
				continue;
			}
			if (refused_member(name, nlen))
				ereport(ERROR,
						(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
						 errmsg("header member \"%.*s\" is not supported", nlen, name),
						 errhint("Verifiers that follow RFC 8725 refuse tokens with \"crit\", \"b64\" or \"zip\", this one included.")));
			if (nlen == 3 && memcmp(name, "typ", 3) == 0)
			{
				has_typ = true;
				if (v.type == jbvNull)
					continue;
			}
			if (nlen == 3 && memcmp(name, "kid", 3) == 0)
			{
				/* a null kid leaves the key's kid out too */
				has_kid = true;
				if (v.type == jbvNull)
					continue;
				if (v.type != jbvString)
					ereport(ERROR,
							(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
							 errmsg("header \"kid\" must be a string"),
							 errhint("Verifiers refuse a token whose \"kid\" is not a string; pass a string, or null to leave it out.")));
			}

			appendStringInfoChar(&rest, ',');
			jwt_json_escape(&rest, name, nlen);
			appendStringInfoChar(&rest, ':');
			if (v.type == jbvBinary)
				jwt_jsonb_to_json(&rest, v.val.binary.data);
			else
			{
				Jsonb	   *scalar = JsonbValueToJsonb(&v);

				jwt_jsonb_to_json(&rest, &scalar->root);
			}
		}
	}

	appendStringInfo(out, "{\"alg\":\"%s\"", alg->name);
	if (!has_typ && default_typ != NULL)
		appendStringInfo(out, ",\"typ\":\"%s\"", default_typ);
	if (!has_kid)
	{
		size_t		kid_len;
		const char *kid = jose_key_kid(key, &kid_len);

		if (kid != NULL)
		{
			appendStringInfoString(out, ",\"kid\":");
			jwt_json_escape(out, kid, kid_len);
		}
	}
	appendBinaryStringInfo(out, rest.data, rest.len);
	appendStringInfoChar(out, '}');
	pfree(rest.data);
}

/* Claims must be an object whose registered claims have their types. */
static void
check_claims_for_signing(const StringInfo payload)
{
	jose_json_object obj;
	const char *which = NULL;
	jose_status st;
	jose_json_error jerr;

	jerr = jose_json_parse_object_stop(payload->data, payload->len, &jwt_stop, &obj);
	if (jerr == JOSE_JSON_INTERRUPTED)
		jwt_report(JOSE_E_INTERRUPTED, NULL);
	if (jerr != JOSE_JSON_OK)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("claims must be a JSON object"),
				 errhint("A JWT's claims set is an object, e.g. '{\"sub\":\"alice\"}'; use jws_sign() for other payloads.")));
	st = jose_check_claim_types(&obj, &which);
	jose_json_object_free(&obj);
	if (st != JOSE_OK)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("claim \"%s\" has the wrong type", which),
				 errhint("exp, nbf and iat are numbers of seconds since 1970; aud is a string or an array of strings; iss is a string.")));
}

/* The compact JWS of a payload, with the header build_header() makes. */
static text *
sign_payload(StringInfo payload, const jose_key *key, jose_alg alg, Jsonb *header,
			 const char *default_typ)
{
	StringInfoData hdr;
	JwtErrorContext ctx = {0};
	size_t		outcap,
				outlen = 0;
	text	   *result;
	jose_status st;

	initStringInfo(&hdr);
	build_header(&hdr, jose_alg_get(alg), key, header, default_typ);
	outcap = jose_sign_len(hdr.len, payload->len);
	result = (text *) palloc(VARHDRSZ + outcap);
	st = jose_sign(key, alg, hdr.data, hdr.len,
				   (const unsigned char *) payload->data, payload->len,
				   VARDATA(result), outcap, &outlen);
	ctx.alg = alg;
	ctx.op = JOSE_OP_SIGN;
	jwt_report(st, &ctx);
	SET_VARSIZE(result, VARHDRSZ + outlen);
	return result;
}

/* A claims set signed as a JWT with a key that may sign with alg. */
text *
jwt_sign_claims(Jsonb *claims, const jose_key *key, jose_alg alg, Jsonb *header)
{
	StringInfoData payload;

	if (JB_ROOT_IS_SCALAR(claims) || !JB_ROOT_IS_OBJECT(claims))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("claims must be a JSON object"),
				 errhint("A JWT's claims set is an object, e.g. '{\"sub\":\"alice\"}'; use jws_sign() for other payloads.")));
	initStringInfo(&payload);
	jwt_jsonb_to_json(&payload, &claims->root);
	check_claims_for_signing(&payload);
	return sign_payload(&payload, key, alg, header, "JWT");
}

/*
 * Arguments: 0 the claims (jsonb) or the payload (bytea), 1 the key, 2 the
 * algorithm, 3 the header.  jwt is false for jws_sign.
 */
static Datum
sign_common(FunctionCallInfo fcinfo, jose_key_form form, bool jwt)
{
	const jose_keyset *keys;
	const jose_key *key;
	jose_alg	alg;
	JwtErrorContext ctx = {0};

	if (PG_ARGISNULL(0) || PG_ARGISNULL(1) || PG_ARGISNULL(2))
		PG_RETURN_NULL();

	alg = jwt_alg_from_text(PG_GETARG_TEXT_PP(2));
	if (form == JOSE_KEY_SECRET)
	{
		bytea	   *k = PG_GETARG_BYTEA_PP(1);

		keys = jwt_keyset_lookup(fcinfo, VARDATA_ANY(k), VARSIZE_ANY_EXHDR(k), form);
	}
	else
	{
		text	   *k = PG_GETARG_TEXT_PP(1);

		keys = jwt_keyset_lookup(fcinfo, VARDATA_ANY(k), VARSIZE_ANY_EXHDR(k), form);
	}
	ctx.alg = alg;
	ctx.op = JOSE_OP_SIGN;
	ctx.keys = keys;
	if (jose_keyset_is_set(keys))
		jwt_report(JOSE_E_KEYSET_SIGN, &ctx);
	key = jose_keyset_key(keys, 0);
	jwt_report(jose_key_check(key, alg, JOSE_OP_SIGN), &ctx);

	if (jwt)
		PG_RETURN_TEXT_P(jwt_sign_claims(PG_GETARG_JSONB_P(0), key, alg,
										 PG_ARGISNULL(3) ? NULL : PG_GETARG_JSONB_P(3)));
	else
	{
		bytea	   *p = PG_GETARG_BYTEA_PP(0);
		StringInfoData payload;

		initStringInfo(&payload);
		appendBinaryStringInfo(&payload, VARDATA_ANY(p), VARSIZE_ANY_EXHDR(p));
		PG_RETURN_TEXT_P(sign_payload(&payload, key, alg,
									  PG_ARGISNULL(3) ? NULL : PG_GETARG_JSONB_P(3), NULL));
	}
}

Datum
jwt_sign_text(PG_FUNCTION_ARGS)
{
	return sign_common(fcinfo, JOSE_KEY_TEXT, true);
}

Datum
jwt_sign_bytea(PG_FUNCTION_ARGS)
{
	return sign_common(fcinfo, JOSE_KEY_SECRET, true);
}

Datum
jws_sign(PG_FUNCTION_ARGS)
{
	return sign_common(fcinfo, JOSE_KEY_TEXT, false);
}
