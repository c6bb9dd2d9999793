/*
 * decode.c
 *		jwt_decode(): header and payload of a token, verifying nothing.
 */
#include "postgres.h"

#include "lib/stringinfo.h"
#include "utils/builtins.h"
#include "utils/memutils.h"

#include "jwt.h"

PG_FUNCTION_INFO_V1(jwt_decode);

Datum
jwt_decode(PG_FUNCTION_ARGS)
{
	text	   *token = PG_GETARG_TEXT_PP(0);
	size_t		len = VARSIZE_ANY_EXHDR(token);
	size_t		buflen = JOSE_VERIFY_BUFLEN(len);
	unsigned char *buf;
	jose_decoded d;
	jose_status st;
	StringInfoData json;
	JwtErrorContext ctx = {0};

	jose_verified v = {0};

	/*
	 * No setting applies (the function is immutable), but a fixed cap does:
	 * the largest jwt.max_token_length, past which no token is ever verified,
	 * so that its payload's conversion to jsonb stays short.
	 */
	if (len > JOSE_MAX_TOKEN_LEN)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_AUTHORIZATION_SPECIFICATION),
				 errmsg("invalid token"),
				 errdetail("The token is %zu bytes long; jwt_decode reads tokens of at most %d bytes.",
						   len, JOSE_MAX_TOKEN_LEN)));
	buf = palloc(buflen);
	st = jose_decode_stop(VARDATA_ANY(token), len, JOSE_MAX_TOKEN_LEN, &jwt_stop, buf, buflen, &d);
	v.json_error = d.json_error;
	ctx.token_len = len;
	ctx.verified = &v;
	jwt_report(st, &ctx);

	initStringInfo(&json);
	appendStringInfoString(&json, "{\"header\":");
	appendBinaryStringInfo(&json, (const char *) d.header, (int) d.header_len);
	appendStringInfoString(&json, ",\"payload\":");
	appendBinaryStringInfo(&json, (const char *) d.payload, (int) d.payload_len);
	appendStringInfoChar(&json, '}');
	pfree(buf);
	PG_RETURN_DATUM(jwt_json_to_jsonb(json.data, json.len));
}
