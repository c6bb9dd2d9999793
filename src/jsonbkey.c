/*
 * jsonbkey.c
 *		The jsonb overloads of every function that takes a key, so that the
 *		key helpers' results (jsonb) go straight back in:
 *		jwt_add_key(jwt_generate_key('ES256'), 'ES256').
 *
 * Each entry point turns its jsonb key argument (a JWK or a JWKS) into the
 * JSON text the key importer reads and calls the text entry point with the
 * same call context, so the per-call-site key caches, the function's own
 * namespace (what the registry functions look the tables up by) and every
 * check are exactly the text version's.  The argument is put back after the
 * call: the executor sets a Const argument once, for every call of the call
 * site, and the next call must find the jsonb again, not this call's freed
 * text.  The text copy holds key material:
 * it is wiped after the call, also when the call raises.  There is no json
 * overload beside jsonb: an untyped literal must keep resolving to text.
 */
#include "postgres.h"

#include "utils/builtins.h"
#include "utils/jsonb.h"

#include "jwt.h"

/* the text entry points (sign.c, verify.c, keys.c, admin.c) */
extern Datum jwt_sign_text(PG_FUNCTION_ARGS);
extern Datum jwt_verify_text(PG_FUNCTION_ARGS);
extern Datum jwt_is_valid_text(PG_FUNCTION_ARGS);
extern Datum jws_sign(PG_FUNCTION_ARGS);
extern Datum jws_verify(PG_FUNCTION_ARGS);
extern Datum jwt_public_jwk(PG_FUNCTION_ARGS);
extern Datum jwt_add_key(PG_FUNCTION_ARGS);

PG_FUNCTION_INFO_V1(jwt_sign_jsonb);
PG_FUNCTION_INFO_V1(jwt_verify_jsonb);
PG_FUNCTION_INFO_V1(jwt_is_valid_jsonb);
PG_FUNCTION_INFO_V1(jws_sign_jsonb);
PG_FUNCTION_INFO_V1(jws_verify_jsonb);
PG_FUNCTION_INFO_V1(jwt_public_jwk_jsonb);
PG_FUNCTION_INFO_V1(jwt_add_key_jsonb);

/*
 * Call the text entry point fn with argument n, a jsonb key, as text.  A
 * NULL key stays NULL, so each function's NULL rule is the text version's.
 */
static Datum
call_with_text_key(FunctionCallInfo fcinfo, int n, PGFunction fn)
{
	Jsonb	   *jb;
	text	   *key;
	Datum		given = fcinfo->args[n].value;
	StringInfoData buf;
	volatile Datum result = (Datum) 0;

	if (PG_ARGISNULL(n))
		return fn(fcinfo);
	jb = PG_GETARG_JSONB_P(n);
	initStringInfo(&buf);
	(void) JsonbToCString(&buf, &jb->root, VARSIZE(jb));
	key = cstring_to_text_with_len(buf.data, buf.len);
	jose_cleanse(buf.data, buf.len);
	pfree(buf.data);
	fcinfo->args[n].value = PointerGetDatum(key);
	PG_TRY();
	{
		result = fn(fcinfo);
	}
	PG_FINALLY();
	{
		jose_cleanse(VARDATA(key), VARSIZE(key) - VARHDRSZ);
		/* a Const argument is set once, not on each call: put it back */
		fcinfo->args[n].value = given;
	}
	PG_END_TRY();
	return result;
}

Datum
jwt_sign_jsonb(PG_FUNCTION_ARGS)
{
	return call_with_text_key(fcinfo, 1, jwt_sign_text);
}

Datum
jwt_verify_jsonb(PG_FUNCTION_ARGS)
{
	return call_with_text_key(fcinfo, 1, jwt_verify_text);
}

Datum
jwt_is_valid_jsonb(PG_FUNCTION_ARGS)
{
	return call_with_text_key(fcinfo, 1, jwt_is_valid_text);
}

Datum
jws_sign_jsonb(PG_FUNCTION_ARGS)
{
	return call_with_text_key(fcinfo, 1, jws_sign);
}

Datum
jws_verify_jsonb(PG_FUNCTION_ARGS)
{
	return call_with_text_key(fcinfo, 1, jws_verify);
}

Datum
jwt_public_jwk_jsonb(PG_FUNCTION_ARGS)
{
	return call_with_text_key(fcinfo, 0, jwt_public_jwk);
}

Datum
jwt_add_key_jsonb(PG_FUNCTION_ARGS)
{
	return call_with_text_key(fcinfo, 0, jwt_add_key);
}
