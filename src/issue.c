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
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/jsonb.h"
#include "utils/memutils.h"
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
 * The registry's keys that can sign, newest first: by valid_from descending,
 * then by kid, so that the first one valid now is the one to sign with.  It
 * is made on the first signature after each load of the registry (a load
 * moves jwt_registry_generation on), in TopMemoryContext, so that signing
 * costs nothing by the registry's size.
 */
static const jose_key **signers;
static size_t nsigners;
static uint64 signers_generation;

static int
cmp_signers(const void *a, const void *b)
{
	double		af,
				bf,
				until;

	(void) jose_key_window(*(const jose_key *const *) a, &af, &until);
	(void) jose_key_window(*(const jose_key *const *) b, &bf, &until);
	if (af != bf)
		return af > bf ? -1 : 1;
	return jwt_cmp_keys_by_window(a, b);
}

/* A key that can sign with its own algorithm at all, whatever the time. */
static bool
can_sign(const jose_key *k)
{
	jose_alg	alg = jose_key_natural_alg(k);

	return alg != JOSE_ALG_UNSET && jose_key_check(k, alg, JOSE_OP_SIGN) == JOSE_OK;
}

static void
signers_for_registry(void)
{
	size_t		n = jwt_registry.keys ? jose_keyset_count(jwt_registry.keys) : 0;

	if (signers != NULL && signers_generation == jwt_registry_generation)
		return;
	/* the list is the one kept from here on: a cancel below leaks nothing */
	if (signers != NULL)
		pfree(signers);
	signers = MemoryContextAlloc(TopMemoryContext, sizeof(jose_key *) * (n + 1));
	nsigners = 0;
	for (size_t i = 0; i < n; i++)
	{
		const jose_key *k = jose_keyset_key(jwt_registry.keys, i);

		CHECK_FOR_INTERRUPTS();
		if (can_sign(k))
			signers[nsigners++] = k;
	}
	if (nsigners > 1)
		qsort(signers, nsigners, sizeof(jose_key *), cmp_signers);
	signers_generation = jwt_registry_generation;
}

/*
 * The newest (by valid_from) signing key valid at now: the first valid one
 * of the list from the first whose valid_from is not after now, found by
 * binary search.  Only keys that began but have ended lie between.
 */
static const jose_key *
newest_signer(double now)
{
	size_t		lo = 0,
				hi = nsigners;

	while (lo < hi)
	{
		size_t		mid = lo + (hi - lo) / 2;
		double		from,
					until;

		(void) jose_key_window(signers[mid], &from, &until);
		if (from > now)
			lo = mid + 1;
		else
			hi = mid;
	}
	for (size_t i = lo; i < nsigners; i++)
	{
		if ((i & 255) == 255)
			CHECK_FOR_INTERRUPTS();
		if (jose_key_is_valid_at(signers[i], now))
			return signers[i];
	}
	return NULL;
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

	jwt_registry_for_statement(fcinfo);
	now = jwt_timestamptz_to_unix(jwt_now());
	if (want != NULL)
	{
		/* kids are unique in the registry: the index finds the one */
		best = jwt_registry.keys == NULL ? NULL :
			jose_keyset_find(jwt_registry.keys, VARDATA_ANY(want), VARSIZE_ANY_EXHDR(want));
		if (best != NULL && (!can_sign(best) || !jose_key_is_valid_at(best, now)))
			best = NULL;
	}
	else
	{
		signers_for_registry();
		best = newest_signer(now);
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

