/*
 * scopes.c
 *		The session token's scopes, for row-level security: jwt_scopes()
 *		and jwt_has_scope(scope).
 *
 * The scopes are read from the first of these claims the token has (a
 * claim that is JSON null counts as absent):
 *
 *	- "scope": scopes separated by spaces (RFC 6749 section 3.3, RFC 8693
 *	  section 4.2, RFC 9068 section 2.2.3);
 *	- "scp": the same string (Microsoft Entra), or an array of strings (Okta);
 *	- "permissions": an array of strings (Auth0's role-based access control).
 *
 * Only that first claim counts: a token with "scope" is not given its
 * "permissions" as well.  A string is split at spaces (U+0020, the only
 * separator RFC 6749 allows); an array gives its string elements as they
 * are, and elements of other types count for nothing; a claim of another
 * type gives no scope.  Empty scopes are dropped.
 *
 * Like jwt_claim(), each call site keeps its answer for the statement, as
 * long as the session's claims stand (session.c's stamp): a policy may call
 * jwt_has_scope() on every row.  The scopes are split and sorted once per
 * statement; a row then costs a comparison with the scope asked last, or a
 * binary search when the scope asked changes from row to row.
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "miscadmin.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/jsonb.h"
#include "utils/memutils.h"

#include "jwt.h"

typedef struct Scope
{
	const char *s;				/* not NUL-terminated: a span of the claims */
	int			len;
} Scope;

/* What a call site keeps for the statement. */
typedef struct ScopesSite
{
	JwtClaimsStamp stamp;
	/* jwt_has_scope: the scopes sorted, the scope asked last and its answer */
	char	   *text;			/* the scopes' bytes, which sorted points into */
	Scope	   *sorted;
	int			nsorted;
	text	   *asked;
	bool		answer;
	bool		asked_valid;
	/* jwt_scopes: the array */
	ArrayType  *array;
} ScopesSite;

static void
add_scope(List **out, const char *s, int len)
{
	Scope	   *sc;

	if (len == 0)
		return;
	sc = palloc(sizeof(Scope));
	sc->s = s;
	sc->len = len;
	*out = lappend(*out, sc);
}

/* A string's scopes: the runs between spaces. */
static void
split_scopes(List **out, const char *s, int len)
{
	int			start = 0;

	for (int i = 0; i <= len; i++)
	{
		if ((i & 0xffff) == 0)
			CHECK_FOR_INTERRUPTS();
		if (i == len || s[i] == ' ')
		{
			add_scope(out, s + start, i - start);
			start = i + 1;
		}
	}
}

/* The scopes of the claims in token order, as spans into memory of this call. */
static List *
claims_scopes(Jsonb *claims)
{
	static const char *const names[] = {"scope", "scp", "permissions"};
	List	   *out = NIL;

	for (int i = 0; i < lengthof(names); i++)
	{
		JsonbValue	key;
		JsonbValue *v;

		key.type = jbvString;
		key.val.string.val = (char *) names[i];
		key.val.string.len = strlen(names[i]);
		v = findJsonbValueFromContainer(&claims->root, JB_FOBJECT, &key);
		if (v == NULL || v->type == jbvNull)
			continue;
		if (v->type == jbvString)
			split_scopes(&out, v->val.string.val, v->val.string.len);
		else if (v->type == jbvBinary && JsonContainerIsArray(v->val.binary.data))
		{
			uint32		n = JsonContainerSize(v->val.binary.data);

			for (uint32 j = 0; j < n; j++)
			{
				JsonbValue *e = getIthJsonbValueFromContainer(v->val.binary.data, j);

				if ((j & 1023) == 0)
					CHECK_FOR_INTERRUPTS();
				if (e != NULL && e->type == jbvString)
					add_scope(&out, e->val.string.val, e->val.string.len);
			}
		}
		break;					/* the first claim present decides */
	}
	return out;
}

static int
scope_cmp(const void *a, const void *b)
{
	const Scope *x = a,
			   *y = b;
	int			c = memcmp(x->s, y->s, Min(x->len, y->len));

	return c != 0 ? c : (x->len > y->len) - (x->len < y->len);
}

static ScopesSite *
scopes_site(FunctionCallInfo fcinfo)
{
	if (fcinfo->flinfo == NULL)
		elog(ERROR, "jwt: session functions need their call context");
	if (fcinfo->flinfo->fn_extra == NULL)
		fcinfo->flinfo->fn_extra = MemoryContextAllocZero(fcinfo->flinfo->fn_mcxt,
														  sizeof(ScopesSite));
	return (ScopesSite *) fcinfo->flinfo->fn_extra;
}

/* The site's answer of another statement or token goes; its memory too. */
static Jsonb *
site_refresh(FunctionCallInfo fcinfo, ScopesSite *site)
{
	if (site->text != NULL)
		pfree(site->text);
	if (site->sorted != NULL)
		pfree(site->sorted);
	if (site->asked != NULL)
		pfree(site->asked);
	if (site->array != NULL)
		pfree(site->array);
	site->text = NULL;
	site->sorted = NULL;
	site->nsorted = 0;
	site->asked = NULL;
	site->asked_valid = false;
	site->array = NULL;
	site->stamp.valid = false;
	return jwt_session_claims_stamped(fcinfo, &site->stamp);
}

PG_FUNCTION_INFO_V1(jwt_scopes);
PG_FUNCTION_INFO_V1(jwt_has_scope);

/* jwt_scopes(): the session token's scopes in its order; NULL without a token. */
Datum
jwt_scopes(PG_FUNCTION_ARGS)
{
	ScopesSite *site = scopes_site(fcinfo);
	ArrayType  *copy;

	if (!jwt_claims_stamp_current(&site->stamp) || (!site->stamp.isnull && site->array == NULL))
	{
		Jsonb	   *claims = site_refresh(fcinfo, site);
		List	   *list;
		Datum	   *elems;
		ListCell   *lc;
		int			i = 0;
		ArrayType  *arr;

		if (claims == NULL)
			PG_RETURN_NULL();
		list = claims_scopes(claims);
		elems = palloc((list_length(list) + 1) * sizeof(Datum));
		foreach(lc, list)
		{
			Scope	   *sc = lfirst(lc);

			elems[i++] = PointerGetDatum(cstring_to_text_with_len(sc->s, sc->len));
		}
		arr = construct_array(elems, i, TEXTOID, -1, false, TYPALIGN_INT);
		site->array = MemoryContextAlloc(fcinfo->flinfo->fn_mcxt, VARSIZE(arr));
		memcpy(site->array, arr, VARSIZE(arr));
	}
	if (site->stamp.isnull)
		PG_RETURN_NULL();
	copy = palloc(VARSIZE(site->array));
	memcpy(copy, site->array, VARSIZE(site->array));
	PG_RETURN_ARRAYTYPE_P(copy);
}

/*
 * jwt_has_scope(scope): whether the session token has the scope; NULL
 * without a token.  A scope is one word: an empty one, or one with a
 * space (two scopes at once), is a wrong call.
 */
Datum
jwt_has_scope(PG_FUNCTION_ARGS)
{
	text	   *want = PG_GETARG_TEXT_PP(0);
	ScopesSite *site = scopes_site(fcinfo);
	Scope		key;
	int			len = VARSIZE_ANY_EXHDR(want);

	/* this statement asked this call site for this scope already */
	if (site->asked_valid && jwt_claims_stamp_current(&site->stamp) &&
		VARSIZE_ANY_EXHDR(site->asked) == len &&
		memcmp(VARDATA_ANY(site->asked), VARDATA_ANY(want), len) == 0)
	{
		if (site->stamp.isnull)
			PG_RETURN_NULL();
		PG_RETURN_BOOL(site->answer);
	}

	if (len == 0 || memchr(VARDATA_ANY(want), ' ', len) != NULL)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg(len == 0 ? "a scope is not empty" : "a scope has no space"),
				 errhint("Ask for one scope per call: jwt_has_scope('read') AND jwt_has_scope('write').")));

	if (!jwt_claims_stamp_current(&site->stamp))
	{
		Jsonb	   *claims = site_refresh(fcinfo, site);

		if (claims != NULL)
		{
			List	   *list = claims_scopes(claims);
			ListCell   *lc;
			size_t		total = 0;
			char	   *p;
			int			i = 0;

			foreach(lc, list)
				total += ((Scope *) lfirst(lc))->len;
			site->text = MemoryContextAlloc(fcinfo->flinfo->fn_mcxt, total + 1);
			site->sorted = MemoryContextAlloc(fcinfo->flinfo->fn_mcxt,
											  (list_length(list) + 1) * sizeof(Scope));
			p = site->text;
			foreach(lc, list)
			{
				Scope	   *sc = lfirst(lc);

				memcpy(p, sc->s, sc->len);
				site->sorted[i].s = p;
				site->sorted[i++].len = sc->len;
				p += sc->len;
			}
			site->nsorted = i;
			if (i > 1)
				qsort(site->sorted, i, sizeof(Scope), scope_cmp);
		}
	}

	if (site->asked != NULL)
		pfree(site->asked);
	site->asked = MemoryContextAlloc(fcinfo->flinfo->fn_mcxt, VARSIZE_ANY(want));
	memcpy(site->asked, want, VARSIZE_ANY(want));
	key.s = VARDATA_ANY(want);
	key.len = len;
	site->answer = !site->stamp.isnull && site->nsorted > 0 &&
		bsearch(&key, site->sorted, site->nsorted, sizeof(Scope), scope_cmp) != NULL;
	site->asked_valid = true;
	if (site->stamp.isnull)
		PG_RETURN_NULL();
	PG_RETURN_BOOL(site->answer);
}
