/*
 * issue.c
 *		jwt_issue(): signing with a registry key, without the caller seeing it.
 *
 * It reads the registry as jwt_claims() does, directly: it needs no
 * privilege on the registry's tables, runs with no one else's rights, and
 * resolves no name at run time, so no schema trickery can redirect it.
 * EXECUTE on it is what decides who may sign.
 */
#include "postgres.h"

#include "access/xact.h"
#include "utils/builtins.h"
#include "utils/jsonb.h"
#include "utils/timestamp.h"

#include "jwt.h"

PG_FUNCTION_INFO_V1(jwt_issue);

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

/* jwt_issue(claims, kid): claims signed with a registry key, as above. */
Datum
jwt_issue(PG_FUNCTION_ARGS)
{
	if (PG_ARGISNULL(0))
		PG_RETURN_NULL();
	PG_RETURN_TEXT_P(jwt_sign_with_registry(fcinfo, PG_GETARG_JSONB_P(0),
											PG_ARGISNULL(1) ? NULL : PG_GETARG_TEXT_PP(1)));
}

