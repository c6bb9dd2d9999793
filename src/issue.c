/*
 * issue.c
 *		jwt_issue(): signing with a registry key, without the caller seeing it;
 *		the claims of the tokens the registry issues (jwt_issue, the logins).
 *
 * It reads the registry as jwt_claims() does, directly: it needs no
 * privilege on the registry's tables, runs with no one else's rights, and
 * resolves no name at run time, so no schema trickery can redirect it.
 * EXECUTE on it is what decides who may sign.
 */
#include "postgres.h"

#include <math.h>

#include <openssl/rand.h>

#include "access/xact.h"
#include "utils/builtins.h"
#include "utils/jsonb.h"
#include "utils/timestamp.h"

#include "jwt.h"

PG_FUNCTION_INFO_V1(jwt_issue);

static void
append_member(StringInfo out, const char *name, const char *val)
{
	if (out->data[out->len - 1] != '{')
		appendStringInfoChar(out, ',');
	jwt_json_escape(out, name, strlen(name));
	appendStringInfoChar(out, ':');
	jwt_json_escape(out, val, strlen(val));
}

/*
 * The claims of a token the registry issues: claims with a random jti, iat,
 * exp, and iss and aud from jwt.issuer and jwt.audience when those are set.
 * Without sid (jwt_issue()) these are defaults: a member claims has is kept
 * as given.  With sid (a login's access token, logins.c) sub, sid, jti, iat
 * and exp are the login's, whatever claims says; iss and aud stay defaults.
 */
Jsonb *
jwt_token_claims(Jsonb *claims, int64 iat, int64 exp, const char *sub, const char *sid)
{
	StringInfoData policy;
	StringInfoData own;
	unsigned char r[16];
	char		jti[JOSE_B64_ENCODED_LEN(16) + 1];
	Datum		result;

	if (RAND_bytes(r, sizeof(r)) != 1)
		ereport(ERROR,
				(errcode(ERRCODE_INTERNAL_ERROR),
				 errmsg("could not generate random bytes")));
	jti[jose_b64url_encode(r, sizeof(r), jti)] = '\0';

	initStringInfo(&policy);
	appendStringInfoChar(&policy, '{');
	if (jwt_policy_issuer && jwt_policy_issuer[0])
		append_member(&policy, "iss", jwt_policy_issuer);
	if (jwt_policy_audience && jwt_policy_audience[0])
		append_member(&policy, "aud", jwt_policy_audience);
	initStringInfo(&own);
	appendStringInfoChar(&own, '{');
	if (sid != NULL)
	{
		append_member(&own, "sub", sub);
		append_member(&own, "sid", sid);
	}
	append_member(&own, "jti", jti);
	appendStringInfo(&own, ",\"iat\":" INT64_FORMAT ",\"exp\":" INT64_FORMAT "}", iat, exp);
	if (sid == NULL)
	{
		/* defaults first: what claims has wins */
		if (policy.len > 1)
			appendStringInfoChar(&policy, ',');
		appendBinaryStringInfo(&policy, own.data + 1, own.len - 1);
		return DatumGetJsonbP(DirectFunctionCall2(jsonb_concat,
												  jwt_json_to_jsonb(policy.data, policy.len),
												  JsonbPGetDatum(claims)));
	}
	appendStringInfoChar(&policy, '}');
	result = DirectFunctionCall2(jsonb_concat, jwt_json_to_jsonb(policy.data, policy.len),
								 JsonbPGetDatum(claims));
	return DatumGetJsonbP(DirectFunctionCall2(jsonb_concat, result,
											  jwt_json_to_jsonb(own.data, own.len)));
}

/*
 * Signs claims with the registry key of that kid (want, or NULL), else the
 * newest (by valid_from) that is valid now and can sign; its kid goes into
 * the header.  jwt_issue() and the logins (logins.c) sign through this.
 */
text *
jwt_sign_with_registry(FunctionCallInfo fcinfo, Jsonb *claims, text *want)
{
	double		now;
	const jose_key *best = NULL;
	double		best_from = 0;
	size_t		n;

	jwt_registry_for_statement(fcinfo);
	now = jwt_timestamptz_to_unix(jwt_now());
	n = jwt_registry.keys ? jose_keyset_count(jwt_registry.keys) : 0;
	for (size_t i = 0; i < n; i++)
	{
		const jose_key *k = jose_keyset_key(jwt_registry.keys, i);
		jose_alg	alg = jose_key_natural_alg(k);
		double		from,
					until;
		size_t		klen;
		const char *kid = jwt_key_kid(k, &klen);

		if (alg == JOSE_ALG_UNSET || jose_key_check(k, alg, JOSE_OP_SIGN) != JOSE_OK ||
			!jose_key_is_valid_at(k, now))
			continue;
		if (want != NULL && (klen != VARSIZE_ANY_EXHDR(want) ||
							 memcmp(kid, VARDATA_ANY(want), klen) != 0))
			continue;
		(void) jose_key_window(k, &from, &until);
		if (best == NULL || from > best_from ||
			(from == best_from && jwt_cmp_keys_by_window(&k, &best) < 0))
		{
			best = k;
			best_from = from;
		}
	}
	if (best == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 want ? errmsg("no registry key can sign as kid %s",
							   text_to_cstring(want)) :
				 errmsg("no registry key can sign"),
				 errhint("Add a private key valid now with jwt_add_key().")));
	return jwt_sign_claims(claims, best, jose_key_natural_alg(best), NULL);
}

/*
 * jwt_issue(claims, kid): claims signed with a registry key, as above, with
 * the defaults of jwt_login()'s access tokens where claims lacks them: iat
 * now, exp now + jwt.access_token_lifetime, a random jti, iss and aud from
 * the policy settings.
 */
Datum
jwt_issue(PG_FUNCTION_ARGS)
{
	Jsonb	   *claims;
	int64		iat;

	if (PG_ARGISNULL(0))
		PG_RETURN_NULL();
	claims = PG_GETARG_JSONB_P(0);
	/* anything but an object is refused by the signing, as it was */
	if (JB_ROOT_IS_OBJECT(claims) && !JB_ROOT_IS_SCALAR(claims))
	{
		iat = (int64) floor(jwt_timestamptz_to_unix(GetCurrentTimestamp()));
		claims = jwt_token_claims(claims, iat, iat + jwt_access_token_lifetime, NULL, NULL);
	}
	PG_RETURN_TEXT_P(jwt_sign_with_registry(fcinfo, claims,
											PG_ARGISNULL(1) ? NULL : PG_GETARG_TEXT_PP(1)));
}

