/*
 * alg.c
 *		Algorithm names and arrays of them, as SQL passes them.
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "utils/array.h"
#include "utils/builtins.h"

#include "jwt.h"

/* The algorithm a name stands for; raises 22023 for "none" or an unknown name. */
jose_alg
jwt_alg_from_text(text *name)
{
	const char *s = VARDATA_ANY(name);
	int			len = VARSIZE_ANY_EXHDR(name);
	jose_alg	alg = jose_alg_from_name(s, len);

	if (alg == JOSE_ALG_UNSET)
	{
		JwtErrorContext ctx = {0};

		ctx.alg_name = text_to_cstring(name);
		jwt_report(jose_alg_is_none(s, len) ? JOSE_E_ALG_FORBIDDEN : JOSE_E_ALG_INVALID,
				   &ctx);
	}
	return alg;
}

/* The set of a text[] of algorithm names; an empty or NULL-holding array is refused. */
jose_algset
jwt_algset_from_array(ArrayType *arr)
{
	Datum	   *elems;
	bool	   *nulls;
	int			n;
	jose_algset set = 0;

	if (ARR_NDIM(arr) > 1)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("algorithms must be a one-dimensional array"),
				 errhint("Name the algorithms in a flat list, e.g. '{RS256,ES256}'.")));
	deconstruct_array(arr, TEXTOID, -1, false, TYPALIGN_INT, &elems, &nulls, &n);
	if (n == 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("algorithms must not be empty"),
				 errhint("Pass NULL to allow every algorithm the key can do, or name them, e.g. '{HS256}'.")));
	for (int i = 0; i < n; i++)
	{
		if (nulls[i])
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("algorithms must not contain NULL"),
					 errhint("Name the algorithms in a flat list, e.g. '{RS256,ES256}'.")));
		set |= JOSE_ALGBIT(jwt_alg_from_text(DatumGetTextPP(elems[i])));
	}
	return set;
}
