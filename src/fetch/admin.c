/*
 * admin.c (jwt_fetch.so)
 *		The administrative functions of identity providers: jwt_add_issuer,
 *		jwt_drop_issuer and jwt_refresh_issuers.
 *
 * As the registry's administrative functions (src/admin.c), they find the
 * extension's tables in their own schema at call time and write them as
 * the extension's owner, with search_path pinned and every statement
 * checked to touch the extension's tables only; EXECUTE alone delegates
 * them.  What only these add is the network, and with it two rules:
 *
 *	- who may make the server fetch what (store.c, url.c): a superuser in a
 *	  database whose extension a superuser owns, any https URL; anyone else,
 *	  only URLs under jwt.issuer_url_prefixes;
 *	- no lock while the network is used: the issuers to fetch are read in a
 *	  subtransaction rolled back once read (in_reads), so that the
 *	  AccessShareLocks its statements took on the tables go with it, then
 *	  every fetch made, and only then the results written, each in a few
 *	  short statements (store.c).  A concurrent session is never kept
 *	  waiting on a row by a fetch, nor a LOCK TABLE (and the sessions queued
 *	  behind it) on the tables, unless the caller's own transaction took a
 *	  lock on them before the call.
 */
#include "postgres.h"

#include "access/xact.h"
#include "access/xlog.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "miscadmin.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/resowner.h"

#include "compat.h"
#include "fetch.h"

PG_FUNCTION_INFO_V1(jwt_add_issuer);
PG_FUNCTION_INFO_V1(jwt_add_issuer_array);
PG_FUNCTION_INFO_V1(jwt_drop_issuer);
PG_FUNCTION_INFO_V1(jwt_refresh_issuers);

#define MAX_SPELLING 2048

jwt_noreturn static void refuse(const char *msg, const char *detail, const char *hint);

static void
refuse(const char *msg, const char *detail, const char *hint)
{
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
			 errmsg("%s", msg),
			 detail ? errdetail("%s", detail) : 0,
			 hint ? errhint("%s", hint) : 0));
}

/* The call's extension: the schema the function is in, and its owner. */
static void
call_extension(FunctionCallInfo fcinfo, Oid *nsp, Oid *owner)
{
	if (fcinfo->flinfo == NULL)
		elog(ERROR, "jwt: administrative functions need their call context");
	*nsp = get_func_namespace(fcinfo->flinfo->fn_oid);
	*owner = jwtlib.extension_owner(fcinfo->flinfo->fn_oid);
}

/* The elements of a one-dimensional text[] without NULLs; what names it for errors. */
static List *
text_array(ArrayType *arr, const char *what)
{
	Datum	   *elems;
	bool	   *nulls;
	int			n;
	List	   *out = NIL;

	if (ARR_NDIM(arr) > 1)
		refuse(psprintf("%s must be a one-dimensional array", what), NULL, NULL);
	deconstruct_array(arr, TEXTOID, -1, false, TYPALIGN_INT, &elems, &nulls, &n);
	for (int i = 0; i < n; i++)
	{
		char	   *s;

		if (nulls[i])
			refuse(psprintf("%s must not contain NULL", what), NULL, NULL);
		s = TextDatumGetCString(elems[i]);
		if (s[0] == '\0')
			refuse(psprintf("%s must not contain an empty string", what), NULL, NULL);
		if (strlen(s) > MAX_SPELLING)
			refuse(psprintf("%s must not contain a value longer than %d bytes", what, MAX_SPELLING),
				   NULL, NULL);
		out = lappend(out, s);
	}
	return out;
}

static bool
list_has(List *l, const char *s)
{
	ListCell   *lc;

	foreach(lc, l)
		if (strcmp((char *) lfirst(lc), s) == 0)
			return true;
	return false;
}

static Datum
array_of(List *l)
{
	Datum	   *d = palloc(sizeof(Datum) * Max(list_length(l), 1));
	int			i = 0;
	ListCell   *lc;

	foreach(lc, l)
		d[i++] = CStringGetTextDatum((char *) lfirst(lc));
	return PointerGetDatum(construct_array(d, i, TEXTOID, -1, false, TYPALIGN_INT));
}

/* The algorithms, each an asymmetric JWS algorithm, by their registered names. */
static List *
check_algorithms(ArrayType *arr)
{
	List	   *names = text_array(arr, "algorithms");
	List	   *out = NIL;
	ListCell   *lc;

	if (names == NIL)
		refuse("algorithms must not be empty", NULL,
			   "Pass NULL to allow every asymmetric algorithm the issuer's keys can do.");
	foreach(lc, names)
	{
		const char *name = lfirst(lc);
		jose_alg	alg = jose_alg_from_name(name, strlen(name));
		const jose_alg_info *info = jose_alg_get(alg);

		if (jose_alg_is_none(name, strlen(name)))
			refuse("\"none\" is never allowed", NULL, NULL);
		if (info == NULL)
			refuse(psprintf("\"%s\" is not a JWS algorithm", name), NULL,
				   "Name asymmetric JWS algorithms, e.g. '{RS256}' or '{ES256,EdDSA}'.");
		if (info->family == JOSE_FAM_HMAC)
			refuse(psprintf("%s is not an algorithm an identity provider's published keys can do", name),
				   "HMAC needs a shared secret, and a key set an issuer publishes holds public keys only.",
				   "Verify HMAC tokens with the key registry (jwt_add_key) instead.");
		if (!list_has(out, info->name))
			out = lappend(out, (char *) info->name);
	}
	return out;
}

/* The URL a registration makes the server fetch first must be allowed to this caller. */
static void
check_first_url(const FetchConfig *cfg, const char *issuer, const char *jwks_uri)
{
	FetchUrl	u;
	char	   *why;
	const char *url = jwks_uri ? jwks_uri : issuer;

	if (!url_parse(url, &u, &why) || (jwks_uri == NULL && u.has_query))
		refuse(jwks_uri ? "jwks_uri is not an https URL the server may fetch" :
			   "the issuer is not an https URL, so its keys cannot be discovered",
			   why ? why : "The issuer has a query.",
			   jwks_uri ? NULL : "Pass the URL of its key set as jwks_uri.");
	if (!url_allowed(cfg, &u, &why))
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("permission denied to make the server fetch %s", url_for_log(u.url)),
				 errdetail("%s", why),
				 errhint("Only a superuser, in a database whose jwt extension a superuser owns, "
						 "registers issuers at any URL; a superuser can allow URL prefixes to "
						 "others with jwt.issuer_url_prefixes.")));
}

/*
 * Run fn(arg), the reads before a fetch, in a subtransaction rolled back
 * after it: what it read stays (in the caller's memory), the locks its
 * statements took are released.  An error rolls it back too, and is raised
 * again as it was.
 */
static void
in_reads(void (*fn) (void *arg), void *arg)
{
	MemoryContext cxt = CurrentMemoryContext;
	ResourceOwner owner = CurrentResourceOwner;

	BeginInternalSubTransaction(NULL);
	MemoryContextSwitchTo(cxt);
	PG_TRY();
	{
		fn(arg);
	}
	PG_CATCH();
	{
		ErrorData  *e;

		MemoryContextSwitchTo(cxt);
		e = CopyErrorData();
		FlushErrorState();
		RollbackAndReleaseCurrentSubTransaction();
		MemoryContextSwitchTo(cxt);
		CurrentResourceOwner = owner;
		ReThrowError(e);
	}
	PG_END_TRY();
	RollbackAndReleaseCurrentSubTransaction();
	MemoryContextSwitchTo(cxt);
	CurrentResourceOwner = owner;
}

static void
warn_failed(const FetchResult *r)
{
	ereport(WARNING,
			(errcode(ERRCODE_CONNECTION_FAILURE),
			 errmsg("could not fetch the keys of issuer \"%s\": %s", url_for_log(r->issuer),
					fetch_outcome_name(r->outcome)),
			 r->detail ? errdetail("%s", r->detail) : 0,
			 errhint("The last good keys stay; the fetch is retried with backoff. "
					 "See the view jwt_issuers_status.")));
}

/* What check_spellings reads with. */
typedef struct Spellings
{
	Oid			nsp;
	Oid			owner;
	const char *issuer;
	List	   *spellings;
} Spellings;

/* No spelling of the issuer (its name, its aliases) may be another issuer's. */
static void
check_spellings(void *arg)
{
	Spellings  *sp = arg;
	const char *issuer = sp->issuer;
	AdminCall	c;

	jwtlib.admin_begin_ext(sp->nsp, sp->owner, &c);
	{
		Oid			types[1] = {TEXTARRAYOID};
		Datum		values[1] = {array_of(sp->spellings)};

		if (jwtlib.admin_exec(&c, psprintf("SELECT issuer FROM %s WHERE issuer OPERATOR(pg_catalog.=) ANY ($1) "
										   "OR aliases OPERATOR(pg_catalog.&&) $1 LIMIT 1", c.issuers),
							  1, types, values, NULL, SPI_OK_SELECT) > 0)
		{
			char	   *other = SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1);

			ereport(ERROR,
					(errcode(ERRCODE_UNIQUE_VIOLATION),
					 strcmp(other, issuer) == 0 ?
					 errmsg("the issuer \"%s\" is already registered", issuer) :
					 errmsg("a spelling of the issuer \"%s\" is already registered for \"%s\"", issuer, other),
					 errhint("A token's iss must name one issuer. Drop the other with jwt_drop_issuer(), or "
							 "change a registration with UPDATE jwt_issuers as its owner.")));
		}
	}
	jwtlib.admin_end(&c);
}

/* What read_plan reads with, and what it read. */
typedef struct PlanRead
{
	Oid			nsp;
	Oid			owner;
	const char *only;
	bool		only_due;
	List	   *items;
	TimestampTz earliest;
} PlanRead;

static void
read_plan(void *arg)
{
	PlanRead   *pr = arg;
	AdminCall	c;

	jwtlib.admin_begin_ext(pr->nsp, pr->owner, &c);
	pr->items = store_plan(&c, pr->only, pr->only_due, NULL, 0, false, &pr->earliest);
	jwtlib.admin_end(&c);
}

/*
 * jwt_add_issuer(issuer, audience, jwks_uri, algorithms, aliases) → the
 * number of keys taken.  The issuer is registered whatever the fetch gives:
 * a failed fetch is a WARNING and a row in jwt_issuer_fetches, and it is
 * retried; a registration that is wrong (a bad URL, an unknown algorithm,
 * a spelling another issuer has) is refused before anything is fetched.
 */
static Datum
add_issuer(FunctionCallInfo fcinfo, List *audience)
{
	char	   *issuer;
	char	   *jwks_uri = PG_ARGISNULL(2) ? NULL : text_to_cstring(PG_GETARG_TEXT_PP(2));
	List	   *algorithms = PG_ARGISNULL(3) ? NIL : check_algorithms(PG_GETARG_ARRAYTYPE_P(3));
	List	   *aliases = NIL;
	List	   *spellings;
	ListCell   *lc;
	Oid			nsp,
				owner;
	FetchConfig cfg;
	FetchItem	item;
	FetchResult res;
	AdminCall	c;
	TimestampTz next;
	bool		any_url;
	Spellings	spell;

	if (PG_ARGISNULL(0))
		refuse("issuer must not be NULL", NULL, "Pass the issuer's \"iss\", e.g. 'https://login.example.com/'.");
	issuer = text_to_cstring(PG_GETARG_TEXT_PP(0));
	if (issuer[0] == '\0' || strlen(issuer) > MAX_SPELLING)
		refuse("issuer must be a string of 1 to 2048 bytes", NULL, NULL);
	if (jwks_uri != NULL && jwks_uri[0] == '\0')
		refuse("jwks_uri must not be empty", NULL, "Pass NULL to discover it from the issuer.");
	if (!PG_ARGISNULL(4))
	{
		foreach(lc, text_array(PG_GETARG_ARRAYTYPE_P(4), "aliases"))
		{
			char	   *a = lfirst(lc);

			if (strcmp(a, issuer) == 0)
				refuse(psprintf("the alias \"%s\" is the issuer itself", a), NULL, NULL);
			if (!list_has(aliases, a))
				aliases = lappend(aliases, a);
		}
	}
	spellings = lcons(issuer, list_copy(aliases));

	call_extension(fcinfo, &nsp, &owner);
	/* what is registered under the prefix rule stays under it (jwt_issuers.url_prefixed) */
	any_url = superuser() && superuser_arg(owner);
	store_config(&cfg, any_url);
	check_first_url(&cfg, issuer, jwks_uri);
	if (RecoveryInProgress())
		ereport(ERROR,
				(errcode(ERRCODE_READ_ONLY_SQL_TRANSACTION),
				 errmsg("cannot register an issuer on a hot standby")));

	/* no spelling of this issuer may be another's */
	spell.nsp = nsp;
	spell.owner = owner;
	spell.issuer = issuer;
	spell.spellings = spellings;
	in_reads(check_spellings, &spell);

	/* the network, with no lock held and no SPI connection open */
	memset(&item, 0, sizeof(item));
	item.issuer = issuer;
	item.jwks_uri = jwks_uri;
	item.url_prefixed = !any_url;
	fetch_issuer(&cfg, &item, &res);

	jwtlib.admin_begin_ext(nsp, owner, &c);
	{
		Oid			types[8] = {TEXTOID, TEXTARRAYOID, TEXTARRAYOID, TEXTARRAYOID, TEXTOID,
		JSONBOID, TIMESTAMPTZOID, BOOLOID};
		Datum		values[8];
		char		nulls[8];

		memset(nulls, ' ', sizeof(nulls));
		values[0] = CStringGetTextDatum(issuer);
		values[1] = array_of(aliases);
		values[2] = audience ? array_of(audience) : (Datum) 0;
		nulls[2] = audience ? ' ' : 'n';
		values[3] = algorithms ? array_of(algorithms) : (Datum) 0;
		nulls[3] = algorithms ? ' ' : 'n';
		values[4] = jwks_uri ? CStringGetTextDatum(jwks_uri) : (Datum) 0;
		nulls[4] = jwks_uri ? ' ' : 'n';
		values[5] = res.outcome == FO_OK ? DirectFunctionCall1(jsonb_in, CStringGetDatum(res.jwks)) : (Datum) 0;
		nulls[5] = res.outcome == FO_OK ? ' ' : 'n';
		values[6] = TimestampTzGetDatum(res.finished_at);
		nulls[6] = nulls[5];
		values[7] = BoolGetDatum(!any_url);
		if (jwtlib.admin_exec(&c, psprintf("INSERT INTO %s (issuer, aliases, audience, algorithms, jwks_uri, "
										   "jwks, jwks_fetched_at, added_at, url_prefixed) "
										   "VALUES ($1, $2, $3, $4, $5, $6, $7, pg_catalog.now(), $8) "
										   "ON CONFLICT (issuer) DO NOTHING RETURNING issuer", c.issuers),
							  8, types, values, nulls, SPI_OK_INSERT_RETURNING) != 1)
			ereport(ERROR,
					(errcode(ERRCODE_UNIQUE_VIOLATION),
					 errmsg("the issuer \"%s\" is already registered", issuer),
					 errdetail("Another session registered it while this one fetched its keys.")));
	}
	(void) store_apply(&c, &res);
	next = store_next_due(&c);
	jwtlib.admin_end(&c);
	jwtlib.wake_schedule(MyDatabaseId, Min(next, res.finished_at + (int64) cfg.refresh_max * USECS_PER_SEC));

	if (!FETCH_SUCCEEDED(res.outcome))
		warn_failed(&res);
	PG_RETURN_INT32(res.outcome == FO_OK ? res.nkeys : 0);
}

/* jwt_add_issuer(issuer, audience text, ...): one audience, or NULL for none. */
Datum
jwt_add_issuer(PG_FUNCTION_ARGS)
{
	List	   *audience = NIL;

	if (!PG_ARGISNULL(1))
	{
		char	   *a = text_to_cstring(PG_GETARG_TEXT_PP(1));
		size_t		n = strlen(a);

		if (n == 0)
			refuse("audience must not be empty", NULL,
				   "Pass NULL for an issuer whose tokens carry no \"aud\".");
		if (a[0] == '{' && a[n - 1] == '}')
			refuse("audience is one value here, and this one looks like an array literal", NULL,
				   "Pass several audiences as a text[]: ARRAY['a', 'b'] or '{a,b}'::text[].");
		if (n > MAX_SPELLING)
			refuse("audience must not be longer than 2048 bytes", NULL, NULL);
		audience = list_make1(a);
	}
	return add_issuer(fcinfo, PG_ARGISNULL(1) ? NIL : audience);
}

/* jwt_add_issuer(issuer, audience text[], ...): any one of them must match. */
Datum
jwt_add_issuer_array(PG_FUNCTION_ARGS)
{
	List	   *audience = NIL;

	if (!PG_ARGISNULL(1))
	{
		audience = text_array(PG_GETARG_ARRAYTYPE_P(1), "audience");
		if (audience == NIL)
			refuse("audience must not be an empty array", NULL,
				   "Pass NULL for an issuer whose tokens carry no \"aud\".");
	}
	return add_issuer(fcinfo, audience);
}

/* jwt_drop_issuer(issuer) → whether it was registered; its keys and fetch state go with it. */
Datum
jwt_drop_issuer(PG_FUNCTION_ARGS)
{
	Oid			nsp,
				owner;
	AdminCall	c;
	Oid			types[1] = {TEXTOID};
	Datum		values[1];
	uint64		n;

	if (PG_ARGISNULL(0))
		refuse("issuer must not be NULL", NULL, "Name the issuer to drop as it was registered.");
	values[0] = PG_GETARG_DATUM(0);
	call_extension(fcinfo, &nsp, &owner);
	jwtlib.admin_begin_ext(nsp, owner, &c);
	n = jwtlib.admin_exec(&c, psprintf("DELETE FROM %s WHERE issuer OPERATOR(pg_catalog.=) $1", c.issuers),
						  1, types, values, NULL, SPI_OK_DELETE);
	jwtlib.admin_end(&c);
	PG_RETURN_BOOL(n > 0);
}

/*
 * jwt_refresh_issuers(issuer, only_due) → how many issuers were fetched:
 * the one named, or every one (with only_due, those whose next fetch is due
 * or that were never fetched), in this backend, now.  Failures are WARNINGs
 * and rows of jwt_issuer_fetches; the last good keys stay.
 */
Datum
jwt_refresh_issuers(PG_FUNCTION_ARGS)
{
	char	   *only = PG_ARGISNULL(0) ? NULL : text_to_cstring(PG_GETARG_TEXT_PP(0));
	bool		only_due = !PG_ARGISNULL(1) && PG_GETARG_BOOL(1);
	Oid			nsp,
				owner;
	FetchConfig cfg;
	AdminCall	c;
	List	   *items;
	List	   *results = NIL;
	ListCell   *lc;
	TimestampTz next;
	PlanRead	pr;

	call_extension(fcinfo, &nsp, &owner);
	if (RecoveryInProgress())
		ereport(ERROR,
				(errcode(ERRCODE_READ_ONLY_SQL_TRANSACTION),
				 errmsg("cannot refresh issuers' keys on a hot standby"),
				 errdetail("A standby verifies with the keys its primary fetched and stored."),
				 errhint("Call jwt_refresh_issuers() on the primary.")));
	/* and an issuer registered under the prefix rule needs a prefix (FetchItem.url_prefixed) */
	store_config(&cfg, superuser_arg(owner));

	pr.nsp = nsp;
	pr.owner = owner;
	pr.only = only;
	pr.only_due = only_due;
	in_reads(read_plan, &pr);
	items = pr.items;
	if (only != NULL && items == NIL)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_OBJECT),
				 errmsg("the issuer \"%s\" is not registered", only),
				 errhint("Register it with jwt_add_issuer(); jwt_issuers lists those registered.")));

	/* every fetch first, then every write: no row is locked while the network is used */
	foreach(lc, items)
	{
		FetchResult *r = palloc(sizeof(FetchResult));

		fetch_issuer(&cfg, (FetchItem *) lfirst(lc), r);
		results = lappend(results, r);
	}

	jwtlib.admin_begin_ext(nsp, owner, &c);
	foreach(lc, results)
		(void) store_apply(&c, (FetchResult *) lfirst(lc));
	next = store_next_due(&c);
	jwtlib.admin_end(&c);
	jwtlib.wake_schedule(MyDatabaseId, Min(next, GetCurrentTimestamp() + (int64) cfg.refresh_max * USECS_PER_SEC));

	foreach(lc, results)
	{
		FetchResult *r = lfirst(lc);

		if (!FETCH_SUCCEEDED(r->outcome))
			warn_failed(r);
	}
	PG_RETURN_INT32(list_length(items));
}
