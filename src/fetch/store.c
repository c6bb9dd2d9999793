/*
 * store.c
 *		What a fetch reads before and writes after the network, as the
 *		extension's owner (jwt.so's admin calls: the tables found by OID in
 *		the extension's schema, search_path pinned, each statement checked to
 *		touch the extension's tables only, SECURITY_RESTRICTED_OPERATION).
 *
 *	- store_config: the database's settings, and whether URLs need a prefix;
 *	- store_plan: the issuers to fetch, with their ETag and failure count;
 *	- store_apply: one result written in short statements: jwt_issuers.jwks
 *	  (and jwks_fetched_at) only when the set changed, so that an unchanged
 *	  set invalidates no session's cache, and the jwt_issuer_fetches row
 *	  always;
 *	- store_next_due: when this database next needs a fetch (for the
 *	  launcher's schedule).
 *
 * Who may make the server fetch what (FetchConfig.any_url): jwt_issuers can
 * be written by the extension's owner (the install script grants it), so
 * the URLs in it are the owner's choice.  When the owner is a superuser,
 * every URL in the tables is a superuser's, and no prefix is needed; when it
 * is not (a trusted install by a database owner), every URL fetched must be
 * under jwt.issuer_url_prefixes, which only a superuser sets.  A caller of
 * jwt_add_issuer() needs a prefix unless it is a superuser too, and what it
 * registered under the prefix rule stays under it (jwt_issuers.url_prefixed,
 * FetchItem.url_prefixed): every later fetch of that issuer, its discovered
 * jwks_uri and redirects included, needs a prefix too, whoever runs it.  The
 * column can only add the rule: any_url needs a superuser owner and the
 * column false, so an owner who is not a superuser cannot UPDATE it away.
 */
#include "postgres.h"

#include "access/genam.h"
#include "access/htup_details.h"
#include "access/table.h"
#include "catalog/indexing.h"
#include "catalog/pg_extension.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/fmgroids.h"
#include "utils/guc.h"
#include "utils/jsonb.h"
#include "utils/rel.h"

#include "fetch.h"
#include "wake_shmem.h"

static int
int_setting(const char *name)
{
	return pg_strtoint32(GetConfigOption(name, false, false));
}

static char *
string_setting(const char *name)
{
	const char *v = GetConfigOption(name, false, false);

	return pstrdup(v ? v : "");
}

/* The settings in force in this backend (jwt.so defines them). */
void
store_config(FetchConfig *cfg, bool any_url)
{
	cfg->connect_timeout = int_setting("jwt.issuer_connect_timeout");
	cfg->timeout = int_setting("jwt.issuer_timeout");
	cfg->max_size = int_setting("jwt.issuer_max_response_size");
	cfg->refresh_min = int_setting("jwt.issuer_refresh_min");
	cfg->refresh_max = int_setting("jwt.issuer_refresh_max");
	cfg->ca_file = string_setting("jwt.issuer_ca_file");
	cfg->prefixes = string_setting("jwt.issuer_url_prefixes");
	cfg->any_url = any_url;
	cfg->deadline = 0;			/* fetch_issuer sets it per issuer */
}

/* The extension jwt of this database: its schema and owner; false without it. */
bool
store_find_extension(Oid *nsp, Oid *owner)
{
	Relation	rel;
	ScanKeyData key;
	SysScanDesc scan;
	HeapTuple	tup;
	bool		found = false;

	rel = table_open(ExtensionRelationId, AccessShareLock);
	ScanKeyInit(&key, Anum_pg_extension_extname, BTEqualStrategyNumber, F_NAMEEQ,
				CStringGetDatum("jwt"));
	scan = systable_beginscan(rel, ExtensionNameIndexId, true, NULL, 1, &key);
	tup = systable_getnext(scan);
	if (HeapTupleIsValid(tup))
	{
		Form_pg_extension ext = (Form_pg_extension) GETSTRUCT(tup);

		*nsp = ext->extnamespace;
		*owner = ext->extowner;
		found = true;
	}
	systable_endscan(scan);
	table_close(rel, AccessShareLock);
	return found;
}

static char *
text_or_null(HeapTuple tup, TupleDesc desc, int col, MemoryContext cxt)
{
	bool		isnull;
	Datum		d = SPI_getbinval(tup, desc, col, &isnull);
	MemoryContext old;
	char	   *s;

	if (isnull)
		return NULL;
	old = MemoryContextSwitchTo(cxt);
	s = TextDatumGetCString(d);
	MemoryContextSwitchTo(old);
	return s;
}

static bool
hash_wanted(uint64 h, const uint64 *wakes, int nwakes)
{
	for (int i = 0; i < nwakes; i++)
		if (wakes[i] == h)
			return true;
	return false;
}

/*
 * The issuers to fetch, as FetchItems in c->caller's memory: the one named
 * (only), or every issuer; with only_due, those never fetched, due
 * (next_fetch_at passed), or whose issuer or alias hashes are among wakes
 * (or all, with wake_all).  *earliest_other gets the earliest next_fetch_at
 * of the issuers left out (DT_NOEND when none).
 */
List *
store_plan(AdminCall *c, const char *only, bool only_due, const uint64 *wakes, int nwakes,
		   bool wake_all, TimestampTz *earliest_other)
{
	Oid			types[1] = {TEXTOID};
	Datum		values[1];
	const char *sql;
	List	   *items = NIL;
	TimestampTz now = GetCurrentTimestamp();
	/* the furthest a fetch schedules the next (fetch.c's next_interval), and a minute */
	TimestampTz latest = TimestampTzPlusMilliseconds(now, (int64) Max(int_setting("jwt.issuer_refresh_max"),
																	  int_setting("jwt.issuer_refresh_min")) * 1000 +
													 60 * 1000);

	*earliest_other = DT_NOEND;
	sql = psprintf("SELECT i.issuer, i.jwks_uri, f.etag, "
				   "CASE WHEN i.jwks IS NOT NULL THEN coalesce(i.jwks_uri, f.discovered_jwks_uri) END, "
				   "coalesce(f.failures, 0), f.next_fetch_at, i.aliases, i.url_prefixed, "
				   "f.attempted_at "
				   "FROM %s i LEFT JOIN %s f ON f.issuer OPERATOR(pg_catalog.=) i.issuer "
				   "%s ORDER BY i.issuer",
				   c->issuers, c->issuer_fetches,
				   only ? "WHERE i.issuer OPERATOR(pg_catalog.=) $1" : "");
	if (only)
		values[0] = CStringGetTextDatum(only);
	(void) jwtlib.admin_exec(c, sql, only ? 1 : 0, types, values, NULL, SPI_OK_SELECT);
	for (uint64 r = 0; r < SPI_processed; r++)
	{
		HeapTuple	tup = SPI_tuptable->vals[r];
		TupleDesc	desc = SPI_tuptable->tupdesc;
		bool		isnull;
		bool		due = true;
		TimestampTz next = 0;
		FetchItem  *it;
		MemoryContext old;

		if (only_due)
		{
			Datum		d = SPI_getbinval(tup, desc, 6, &isnull);

			next = isnull ? DT_NOBEGIN : DatumGetTimestampTz(d);
			/* further than refresh_max: set by a clock since set back, or by hand */
			due = isnull || next <= now || next > latest;
			/* too many woken to name: every issuer not fetched within the cooldown */
			if (!due && wake_all)
			{
				Datum		at = SPI_getbinval(tup, desc, 9, &isnull);

				due = isnull || TimestampDifferenceExceeds(DatumGetTimestampTz(at), now,
														   JWT_WAKE_COOLDOWN_SECS * 1000);
			}
			if (!due && nwakes > 0)
			{
				char	   *iss = text_or_null(tup, desc, 1, CurrentMemoryContext);
				Datum		aliases = SPI_getbinval(tup, desc, 7, &isnull);

				due = hash_wanted(jwtlib.wake_hash(iss, strlen(iss)), wakes, nwakes);
				if (!due && !isnull)
				{
					ArrayType  *arr = DatumGetArrayTypeP(aliases);
					Datum	   *elems;
					bool	   *nulls;
					int			n;

					deconstruct_array(arr, TEXTOID, -1, false, TYPALIGN_INT, &elems, &nulls, &n);
					for (int i = 0; i < n && !due; i++)
						if (!nulls[i])
						{
							text	   *t = DatumGetTextPP(elems[i]);

							due = hash_wanted(jwtlib.wake_hash(VARDATA_ANY(t), VARSIZE_ANY_EXHDR(t)),
											  wakes, nwakes);
						}
				}
			}
		}
		if (!due)
		{
			*earliest_other = Min(*earliest_other, next);
			continue;
		}
		old = MemoryContextSwitchTo(c->caller);
		it = palloc0(sizeof(FetchItem));
		MemoryContextSwitchTo(old);
		it->issuer = text_or_null(tup, desc, 1, c->caller);
		it->jwks_uri = text_or_null(tup, desc, 2, c->caller);
		it->etag = text_or_null(tup, desc, 3, c->caller);
		it->etag_uri = text_or_null(tup, desc, 4, c->caller);
		/* the owner's to write too: a count, whatever it says (fetch_issuer adds one) */
		it->failures = Min(Max(DatumGetInt32(SPI_getbinval(tup, desc, 5, &isnull)), 0), 1000000);
		it->url_prefixed = DatumGetBool(SPI_getbinval(tup, desc, 8, &isnull));
		/* the row is the owner's to write: an ETag that is not one is not sent */
		if (it->etag_uri == NULL || (it->etag && !http_etag_valid(it->etag, strlen(it->etag))))
			it->etag = NULL;
		old = MemoryContextSwitchTo(c->caller);
		items = lappend(items, it);
		MemoryContextSwitchTo(old);
	}
	return items;
}

static Datum
text_datum_or_null(const char *s, char *null)
{
	*null = s ? ' ' : 'n';
	return s ? CStringGetTextDatum(s) : (Datum) 0;
}

/*
 * Write one result.  The issuer row is locked (FOR UPDATE, for the few
 * statements of this write only); a result for an issuer dropped, or whose
 * jwks_uri changed, since the plan, or older than the last result written,
 * is dropped (false).
 */
bool
store_apply(AdminCall *c, const FetchResult *r)
{
	Oid			ltypes[1] = {TEXTOID};
	Datum		lvalues[1];
	bool		isnull;
	char	   *current_uri;
	bool		has_jwks;
	Datum		old_jwks = (Datum) 0;
	bool		ok = FETCH_SUCCEEDED(r->outcome);

	lvalues[0] = CStringGetTextDatum(r->issuer);
	if (jwtlib.admin_exec(c, psprintf("SELECT jwks_uri, jwks FROM %s "
									  "WHERE issuer OPERATOR(pg_catalog.=) $1 FOR UPDATE",
									  c->issuers),
						  1, ltypes, lvalues, NULL, SPI_OK_SELECT) != 1)
		return false;
	current_uri = text_or_null(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, CurrentMemoryContext);
	if ((current_uri == NULL) != (r->jwks_uri == NULL) ||
		(current_uri && strcmp(current_uri, r->jwks_uri) != 0))
		return false;
	old_jwks = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 2, &isnull);
	has_jwks = !isnull;
	if (has_jwks)
		old_jwks = PointerGetDatum(DatumGetJsonbPCopy(old_jwks));

	/*
	 * Two fetches of one issuer can overlap (the worker, jwt_refresh_issuers()
	 * in two sessions): the one begun first may end last.  Written after the
	 * other, it would put back the set the provider had since replaced (a
	 * key it removed verifying again), with its ETag and schedule.  The
	 * issuer's row is locked, so the fetches row read now is the last one
	 * written; a result older than it is dropped.  A time stored ahead of
	 * the clock (the clock set back, the owner's edit) is no newer fetch, so
	 * that it cannot hold the set as it is until then.
	 */
	{
		Oid			stypes[3] = {TEXTOID, TIMESTAMPTZOID, TIMESTAMPTZOID};
		Datum		svalues[3] = {lvalues[0], TimestampTzGetDatum(r->attempted_at),
		TimestampTzGetDatum(GetCurrentTimestamp())};

		if (jwtlib.admin_exec(c, psprintf("SELECT 1 FROM %s WHERE issuer OPERATOR(pg_catalog.=) $1 "
										  "AND attempted_at OPERATOR(pg_catalog.>) $2 "
										  "AND attempted_at OPERATOR(pg_catalog.<=) $3",
										  c->issuer_fetches),
							  3, stypes, svalues, NULL, SPI_OK_SELECT) > 0)
			return false;
	}

	if (r->outcome == FO_OK)
	{
		Datum		new_jwks = DirectFunctionCall1(jsonb_in, CStringGetDatum(r->jwks));

		if (!has_jwks || !DatumGetBool(DirectFunctionCall2(jsonb_eq, old_jwks, new_jwks)))
		{
			Oid			types[3] = {TEXTOID, JSONBOID, TIMESTAMPTZOID};
			Datum		values[3] = {lvalues[0], new_jwks, TimestampTzGetDatum(r->finished_at)};

			(void) jwtlib.admin_exec(c, psprintf("UPDATE %s SET jwks = $2, jwks_fetched_at = $3 "
												 "WHERE issuer OPERATOR(pg_catalog.=) $1",
												 c->issuers),
									 3, types, values, NULL, SPI_OK_UPDATE);
		}
	}

	{
		Oid			types[14] = {TEXTOID, TEXTOID, TEXTOID, TIMESTAMPTZOID, TIMESTAMPTZOID,
		TEXTOID, INT4OID, TEXTOID, INT4OID, INT4OID, TIMESTAMPTZOID,
		BOOLOID, BOOLOID, BOOLOID};
		Datum		values[14];
		char		nulls[14];

		memset(nulls, ' ', sizeof(nulls));
		values[0] = lvalues[0];
		values[1] = text_datum_or_null(r->discovered_jwks_uri, &nulls[1]);
		values[2] = text_datum_or_null(r->etag, &nulls[2]);
		values[3] = TimestampTzGetDatum(r->attempted_at);
		values[4] = TimestampTzGetDatum(r->finished_at);
		if (!ok)
			nulls[4] = 'n';
		values[5] = CStringGetTextDatum(fetch_outcome_name(r->outcome));
		values[6] = Int32GetDatum(r->http_status);
		if (r->http_status == 0)
			nulls[6] = 'n';
		values[7] = text_datum_or_null(r->detail, &nulls[7]);
		values[8] = Int32GetDatum(r->refused_keys);
		values[9] = Int32GetDatum(r->failures);
		values[10] = TimestampTzGetDatum(r->next_fetch_at);
		/*
		 * What stays as it was: the discovered URI unless this fetch took a
		 * new set from it (as the ETag beside it, which is that set's), so
		 * that neither a URI discovery found but the fetch refused nor one
		 * whose fetch failed is kept, nor the ETag sent to another URI
		 */
		values[11] = BoolGetDatum(r->jwks_uri == NULL &&
								  (r->discovered_jwks_uri == NULL || r->outcome != FO_OK));
		/* the ETag of the set kept: a new one only with a new set */
		values[12] = BoolGetDatum(r->outcome != FO_OK);
		/* the last success, when this one failed */
		values[13] = BoolGetDatum(!ok);
		/* refused_keys describes the set kept: a failure leaves it */
		(void) jwtlib.admin_exec(c, psprintf(
											 "INSERT INTO %s AS f (issuer, discovered_jwks_uri, etag, attempted_at, succeeded_at, "
											 "outcome, http_status, detail, refused_keys, failures, next_fetch_at) "
											 "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) "
											 "ON CONFLICT (issuer) DO UPDATE SET "
											 "discovered_jwks_uri = CASE WHEN $12 THEN f.discovered_jwks_uri ELSE excluded.discovered_jwks_uri END, "
											 "etag = CASE WHEN $13 THEN f.etag ELSE excluded.etag END, "
											 "attempted_at = excluded.attempted_at, "
											 "succeeded_at = CASE WHEN $14 THEN f.succeeded_at ELSE excluded.succeeded_at END, "
											 "outcome = excluded.outcome, http_status = excluded.http_status, "
											 "detail = excluded.detail, "
											 "refused_keys = CASE WHEN $13 THEN f.refused_keys ELSE excluded.refused_keys END, "
											 "failures = excluded.failures, next_fetch_at = excluded.next_fetch_at",
											 c->issuer_fetches),
								 14, types, values, nulls, SPI_OK_INSERT);
	}
	return true;
}

/* The earliest next fetch of this database's issuers (never fetched: now); DT_NOEND with none. */
TimestampTz
store_next_due(AdminCall *c)
{
	bool		isnull;
	Datum		d;

	(void) jwtlib.admin_exec(c, psprintf("SELECT pg_catalog.min(coalesce(f.next_fetch_at, '-infinity')) "
										 "FROM %s i LEFT JOIN %s f ON f.issuer OPERATOR(pg_catalog.=) i.issuer",
										 c->issuers, c->issuer_fetches),
							 0, NULL, NULL, NULL, SPI_OK_SELECT);
	d = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull);
	return isnull ? DT_NOEND : DatumGetTimestampTz(d);
}
