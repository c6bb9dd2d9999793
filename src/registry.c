/*
 * registry.c
 *		The key registry jwt_keys and the revocations jwt_revocations as this
 *		backend sees them: loading, invalidation, validity windows; the
 *		public JWKS of the registry; the registry's triggers.
 *
 * The tables are found in the namespace of the calling function, which is
 * the extension's own, and scanned directly: no name is resolved through a
 * search_path and no privilege of the caller is involved.  A trigger on each
 * table sends a relcache invalidation that every backend and every hot
 * standby receives once the change commits.
 */
#include "postgres.h"

#include "access/table.h"
#include "access/tableam.h"
#include "access/xact.h"
#include "catalog/namespace.h"
#include "commands/trigger.h"
#include "common/hashfn.h"
#include "executor/spi.h"
#include "executor/tuptable.h"
#include "utils/builtins.h"
#include "utils/inval.h"
#include "utils/jsonb.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/rel.h"
#include "utils/snapmgr.h"
#include "utils/timestamp.h"

#include "compat.h"
#include "jwt.h"

static TimestampTz last_inval_stmt = 0;


JwtRegistry jwt_registry = {0};
static MemoryContext registry_context = NULL;

double
jwt_timestamptz_to_unix(TimestampTz ts)
{
	if (TIMESTAMP_IS_NOBEGIN(ts))
		return -1e300;
	if (TIMESTAMP_IS_NOEND(ts))
		return 1e300;
	return (double) ts / USECS_PER_SEC +
		(double) (POSTGRES_EPOCH_JDATE - UNIX_EPOCH_JDATE) * SECS_PER_DAY;
}

static uint64
jti_hash(const char *jti, size_t len)
{
	return DatumGetUInt64(hash_bytes_extended((const unsigned char *) jti, (int) len, 0x6a7469));
}

static void
registry_invalidate(Datum arg, Oid relid)
{
	/* never free here: an invalidation can arrive while the keys are in use */
	if (relid == InvalidOid || relid == jwt_registry.keys_relid ||
		relid == jwt_registry.revocations_relid)
		jwt_registry.valid = false;
}

void
jwt_registry_register_callbacks(void)
{
	CacheRegisterRelcacheCallback(registry_invalidate, (Datum) 0);
}

static Oid
registry_relid(Oid nsp, const char *name)
{
	Oid			relid = get_relname_relid(name, nsp);

	if (!OidIsValid(relid))
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_TABLE),
				 errmsg("the jwt key registry table \"%s\" does not exist", name),
				 errhint("Create the extension in this database: CREATE EXTENSION jwt.")));
	return relid;
}

static int
cmp_revoked(const void *a, const void *b)
{
	uint64		x = ((const RevokedJti *) a)->hash,
				y = ((const RevokedJti *) b)->hash;

	return (x > y) - (x < y);
}

/* Read one registry row's key into the set; a row that no longer imports is skipped. */
static bool
registry_add_key(jose_keyset *keys, Datum kid_d, Datum key_d, Datum alg_d,
				 Datum from_d, bool until_null, Datum until_d)
{
	text	   *kid = DatumGetTextPP(kid_d);
	text	   *key = DatumGetTextPP(key_d);
	text	   *alg_t = DatumGetTextPP(alg_d);
	jose_alg	alg = jose_alg_from_name(VARDATA_ANY(alg_t), VARSIZE_ANY_EXHDR(alg_t));
	jose_keyset *one = NULL;
	jose_status st;

	st = jose_keyset_import(VARDATA_ANY(key), VARSIZE_ANY_EXHDR(key), JOSE_KEY_TEXT, &one);
	if (st == JOSE_OK && (alg == JOSE_ALG_UNSET || jose_keyset_is_set(one)))
		st = JOSE_E_KEY_FORMAT;
	if (st == JOSE_OK)
	{
		jose_key   *k = (jose_key *) jose_keyset_key(one, 0);

		jose_key_restrict(k, alg, jwt_timestamptz_to_unix(DatumGetTimestampTz(from_d)),
						  until_null ? 0 : jwt_timestamptz_to_unix(DatumGetTimestampTz(until_d)));
		st = jose_key_set_kid(k, VARDATA_ANY(kid), VARSIZE_ANY_EXHDR(kid));
	}
	if (st == JOSE_OK)
	{
		st = jose_keyset_adopt(keys, one);
		one = NULL;
	}
	jose_keyset_free(one);
	/* wipe a detoasted copy; never the tuple itself, which is in a shared buffer */
	if ((Pointer) key != DatumGetPointer(key_d))
		jose_cleanse(VARDATA_ANY(key), VARSIZE_ANY_EXHDR(key));
	if (st == JOSE_E_NOMEM)
		ereport(ERROR, (errcode(ERRCODE_OUT_OF_MEMORY), errmsg("out of memory")));
	if (st != JOSE_OK)
		ereport(WARNING,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("jwt key registry: the key \"%s\" is skipped", text_to_cstring(kid)),
				 errdetail("%s", jose_status_detail(st))));
	return st == JOSE_OK;
}

static void
registry_scan(Relation rel, Snapshot snap, jose_keyset *keys, bool is_keys)
{
	TupleDesc	desc = RelationGetDescr(rel);
	TupleTableSlot *slot = table_slot_create(rel, NULL);
	TableScanDesc scan = jwt_table_beginscan(rel, snap);
	List	   *revoked = NIL;

	while (table_scan_getnextslot(scan, ForwardScanDirection, slot))
	{
		bool		isnull[8];
		Datum		v[8];

		slot_getallattrs(slot);
		for (int i = 0; i < desc->natts && i < 8; i++)
		{
			v[i] = slot->tts_values[i];
			isnull[i] = slot->tts_isnull[i];
		}
		if (is_keys)
		{
			/* kid, key, algorithm, valid_from, valid_until, ... */
			if (isnull[0] || isnull[1] || isnull[2] || isnull[3])
				continue;
			if (registry_add_key(keys, v[0], v[1], v[2], v[3], isnull[4], v[4]))
				jwt_registry.nkeys++;
		}
		else
		{
			/* jti, expires_at, ... */
			RevokedJti *r;
			text	   *jti;

			if (isnull[0] || isnull[1])
				continue;
			jti = DatumGetTextPP(v[0]);
			r = MemoryContextAlloc(registry_context, sizeof(RevokedJti));
			r->hash = jti_hash(VARDATA_ANY(jti), VARSIZE_ANY_EXHDR(jti));
			r->until = jwt_timestamptz_to_unix(DatumGetTimestampTz(v[1]));
			revoked = lappend(revoked, r);
		}
	}
	table_endscan(scan);
	ExecDropSingleTupleTableSlot(slot);

	if (!is_keys)
	{
		ListCell   *lc;
		int			i = 0;

		jwt_registry.nrevoked = list_length(revoked);
		jwt_registry.revoked = jwt_registry.nrevoked > 0 ?
			MemoryContextAlloc(registry_context, jwt_registry.nrevoked * sizeof(RevokedJti)) : NULL;
		foreach(lc, revoked)
			jwt_registry.revoked[i++] = *(RevokedJti *) lfirst(lc);
		if (jwt_registry.nrevoked > 1)
			qsort(jwt_registry.revoked, jwt_registry.nrevoked, sizeof(RevokedJti), cmp_revoked);
	}
}

/*
 * Load the registry from the schema nsp, where the calling function (and so
 * the extension) lives: a direct scan of the extension's own tables, so no
 * privilege of the caller is involved (the tables are closed to PUBLIC).
 * Outside parallel mode the scan uses a fresh snapshot, so that what is
 * cached is what is committed, not what this transaction's snapshot saw.
 */
static void
registry_load(Oid nsp)
{
	jose_keyset *keys;
	Snapshot	snap;
	volatile bool registered = false;
	Relation	rel;

	if (registry_context == NULL)
		registry_context = AllocSetContextCreate(TopMemoryContext, "jwt registry",
												 ALLOCSET_SMALL_SIZES);
	jose_keyset_free(jwt_registry.keys);
	jwt_registry.keys = NULL;
	jwt_registry.nkeys = 0;
	jwt_registry.revoked = NULL;
	jwt_registry.nrevoked = 0;
	MemoryContextReset(registry_context);

	jwt_registry.keys_relid = registry_relid(nsp, "jwt_keys");
	jwt_registry.revocations_relid = registry_relid(nsp, "jwt_revocations");
	/* from here on, a change to either table marks the registry stale */
	jwt_registry.valid = true;

	if (IsInParallelMode())
	{
		snap = GetActiveSnapshot();
		jwt_registry.loaded_for_stmt = GetCurrentStatementStartTimestamp();
	}
	else
	{
		snap = RegisterSnapshot(GetLatestSnapshot());
		registered = true;
		jwt_registry.loaded_for_stmt = 0;
	}

	keys = jose_keyset_new();
	if (keys == NULL)
		ereport(ERROR, (errcode(ERRCODE_OUT_OF_MEMORY), errmsg("out of memory")));
	PG_TRY();
	{
		rel = table_open(jwt_registry.keys_relid, AccessShareLock);
		registry_scan(rel, snap, keys, true);
		table_close(rel, AccessShareLock);
		rel = table_open(jwt_registry.revocations_relid, AccessShareLock);
		registry_scan(rel, snap, NULL, false);
		table_close(rel, AccessShareLock);
	}
	PG_CATCH();
	{
		jose_keyset_free(keys);
		jwt_registry.valid = false;
		PG_RE_THROW();
	}
	PG_END_TRY();
	if (registered)
		UnregisterSnapshot(snap);

	if (jose_keyset_index(keys) != JOSE_OK)
	{
		jose_keyset_free(keys);
		jwt_registry.valid = false;
		ereport(ERROR, (errcode(ERRCODE_OUT_OF_MEMORY), errmsg("out of memory")));
	}
	jwt_registry.keys = keys;
	jwt_registry_generation++;
}

void
jwt_registry_ensure(FunctionCallInfo fcinfo)
{
	if (!jwt_registry.valid ||
		(jwt_registry.loaded_for_stmt != 0 &&
		 (!IsInParallelMode() ||
		  jwt_registry.loaded_for_stmt != GetCurrentStatementStartTimestamp())))
	{
		if (fcinfo->flinfo == NULL)
			elog(ERROR, "jwt: session functions need their call context");
		registry_load(get_func_namespace(fcinfo->flinfo->fn_oid));
	}
}

bool
jwt_jti_revoked(const char *jti, size_t len, double now)
{
	uint64		h = jti_hash(jti, len);
	int			lo = 0,
				hi = jwt_registry.nrevoked - 1;
	double		leeway = jwt_policy_leeway;

	while (lo <= hi)
	{
		int			mid = lo + (hi - lo) / 2;

		if (jwt_registry.revoked[mid].hash < h)
			lo = mid + 1;
		else if (jwt_registry.revoked[mid].hash > h)
			hi = mid - 1;
		else
		{
			/* equal hashes may repeat: look at each */
			int			i = mid;

			while (i > 0 && jwt_registry.revoked[i - 1].hash == h)
				i--;
			for (; i < jwt_registry.nrevoked && jwt_registry.revoked[i].hash == h; i++)
				/* mutation: registry-revocation-until: if (now < => if (leeway == leeway || now < */
				if (now < jwt_registry.revoked[i].until + leeway)
					return true;
			return false;
		}
	}
	return false;
}

/*
 * A new statement: take in the invalidations other sessions committed.  A
 * backend inside a transaction reads them only when it takes a new lock, and
 * a cached registry takes none, so without this a key retired or a jti
 * revoked elsewhere would go unseen until the transaction ends.
 */
void
jwt_accept_invalidations(TimestampTz stmt)
{
	if (stmt != last_inval_stmt)
	{
		AcceptInvalidationMessages();
		last_inval_stmt = stmt;
	}
}

/* A statement that reads the registry: invalidations first, then the cache. */
void
jwt_registry_for_statement(FunctionCallInfo fcinfo)
{
	jwt_accept_invalidations(GetCurrentStatementStartTimestamp());
	jwt_registry_ensure(fcinfo);
}

const char *
jwt_key_kid(const jose_key *k, size_t *len)
{
	const char *kid = jose_key_kid(k, len);

	if (kid == NULL)
	{
		*len = 0;
		return "";
	}
	return kid;
}

/* Orders keys as jwt_jwks() lists them: valid_from, then kid. */
int
jwt_cmp_keys_by_window(const void *a, const void *b)
{
	const jose_key *x = *(const jose_key *const *) a;
	const jose_key *y = *(const jose_key *const *) b;
	double		xf,
				xu,
				yf,
				yu;
	size_t		xl,
				yl;
	const char *xk,
			   *yk;
	int			c;

	(void) jose_key_window(x, &xf, &xu);
	(void) jose_key_window(y, &yf, &yu);
	if (xf != yf)
		return xf < yf ? -1 : 1;
	xk = jwt_key_kid(x, &xl);
	yk = jwt_key_kid(y, &yl);
	c = memcmp(xk, yk, Min(xl, yl));
	return c != 0 ? c : (xl > yl) - (xl < yl);
}

/* ---------------------------------------------------------------------
 * Publishing the registry
 * --------------------------------------------------------------------- */

PG_FUNCTION_INFO_V1(jwt_jwks);
PG_FUNCTION_INFO_V1(jwt_registry_changed);
PG_FUNCTION_INFO_V1(jwt_keys_check);

/*
 * jwt_jwks(): the public JWKS of the registry's asymmetric keys valid now or
 * later, each with its kid, alg and "use":"sig".
 */
Datum
jwt_jwks(PG_FUNCTION_ARGS)
{
	double		now;
	size_t		n,
				m = 0;
	const jose_key **list;
	StringInfoData out;

	jwt_registry_for_statement(fcinfo);
	now = jwt_timestamptz_to_unix(GetCurrentStatementStartTimestamp());
	n = jwt_registry.keys ? jose_keyset_count(jwt_registry.keys) : 0;
	list = palloc(sizeof(jose_key *) * (n + 1));
	for (size_t i = 0; i < n; i++)
	{
		const jose_key *k = jose_keyset_key(jwt_registry.keys, i);
		double		from,
					until;

		(void) jose_key_window(k, &from, &until);
		if (jose_key_kty(k) == JOSE_KTY_OCT || jose_key_kty(k) == 0 ||
			(until != 0 && until <= now))
			continue;
		list[m++] = k;
	}
	if (m > 1)
		qsort(list, m, sizeof(jose_key *), jwt_cmp_keys_by_window);

	initStringInfo(&out);
	appendStringInfoString(&out, "{\"keys\":[");
	for (size_t i = 0; i < m; i++)
		(void) jwt_jwks_append(&out, list[i]);
	appendStringInfoString(&out, "]}");
	PG_RETURN_DATUM(jwt_json_to_jsonb(out.data, out.len));
}

/* ---------------------------------------------------------------------
 * JwtRegistry triggers
 * --------------------------------------------------------------------- */

/*
 * After any change to jwt_keys or jwt_revocations: a relcache invalidation
 * of the table, which every backend (and every hot standby, through the WAL)
 * receives once the change commits, so their registry caches are dropped.
 */
Datum
jwt_registry_changed(PG_FUNCTION_ARGS)
{
	TriggerData *td = (TriggerData *) fcinfo->context;

	if (!CALLED_AS_TRIGGER(fcinfo))
		ereport(ERROR,
				(errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
				 errmsg("jwt_registry_changed() must be called as a trigger")));
	CacheInvalidateRelcache(td->tg_relation);
	return PointerGetDatum(NULL);
}

static void
registry_row_refuse(const char *what, const char *hint)
{
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
			 errmsg("invalid registry key: %s", what),
			 errhint("%s", hint)));
}

/* The checks of jwt_keys' constraints, with messages that show no key. */
static void
registry_row_check(HeapTuple tup, TupleDesc desc)
{
	bool		isnull;
	Datum		d;
	int			att;

	(void) heap_getattr(tup, SPI_fnumber(desc, "key"), desc, &isnull);
	if (isnull)
		registry_row_refuse("the key is NULL", "Pass the key: a secret, a PEM key or a JWK.");
	(void) heap_getattr(tup, SPI_fnumber(desc, "algorithm"), desc, &isnull);
	if (isnull)
		registry_row_refuse("the algorithm is NULL", "Name the one algorithm the key is for, e.g. 'ES256'.");
	d = heap_getattr(tup, SPI_fnumber(desc, "kid"), desc, &isnull);
	if (!isnull && VARSIZE_ANY_EXHDR(DatumGetPointer(d)) == 0)
		registry_row_refuse("the kid is empty", "Pass a kid, or NULL for the key's own kid or thumbprint.");
	if ((att = SPI_fnumber(desc, "added_at")) > 0)
	{
		(void) heap_getattr(tup, att, desc, &isnull);
		if (isnull)
			registry_row_refuse("added_at is NULL", "Leave added_at to its default.");
	}
	{
		bool		from_null,
					until_null;
		Datum		from = heap_getattr(tup, SPI_fnumber(desc, "valid_from"), desc, &from_null);
		Datum		until = heap_getattr(tup, SPI_fnumber(desc, "valid_until"), desc, &until_null);

		if (from_null)
			registry_row_refuse("valid_from is NULL", "Pass the time the key starts to verify, now() by default.");
		if (!until_null && DatumGetTimestampTz(until) < DatumGetTimestampTz(from))
			registry_row_refuse("valid_until is before valid_from", "A key's window of validity runs from valid_from to valid_until.");
	}
}

/*
 * Before a row of jwt_keys is written: the key must be one key that can
 * verify its algorithm; kid defaults to the key's JWK kid, else its RFC 7638
 * thumbprint; can_sign says whether jwt_issue() may sign with it.
 */
Datum
jwt_keys_check(PG_FUNCTION_ARGS)
{
	TriggerData *td = (TriggerData *) fcinfo->context;
	HeapTuple	tup;
	TupleDesc	desc;
	int			att_kid,
				att_key,
				att_alg,
				att_sign;
	bool		isnull;
	text	   *key;
	char	   *alg_name;
	jose_alg	alg;
	jose_keyset *ks = NULL;
	const jose_key *k;
	jose_status st;
	JwtErrorContext ctx = {0};
	int			cols[2];
	Datum		vals[2];
	bool		nulls[2] = {false, false};
	char		tp[JOSE_THUMBPRINT_LEN + 1];

	if (!CALLED_AS_TRIGGER(fcinfo) || !TRIGGER_FIRED_FOR_ROW(td->tg_event) ||
		!TRIGGER_FIRED_BEFORE(td->tg_event))
		ereport(ERROR,
				(errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
				 errmsg("jwt_keys_check() must be a BEFORE ROW trigger")));
	tup = TRIGGER_FIRED_BY_UPDATE(td->tg_event) ? td->tg_newtuple : td->tg_trigtuple;
	desc = RelationGetDescr(td->tg_relation);
	att_kid = SPI_fnumber(desc, "kid");
	att_key = SPI_fnumber(desc, "key");
	att_alg = SPI_fnumber(desc, "algorithm");
	att_sign = SPI_fnumber(desc, "can_sign");
	if (att_kid <= 0 || att_key <= 0 || att_alg <= 0 || att_sign <= 0)
		elog(ERROR, "jwt_keys_check(): unexpected table layout");

	/*
	 * What the table's constraints would refuse is refused here first: a
	 * constraint's error shows the failing row, and the row holds the key.
	 */
	registry_row_check(tup, desc);

	key = DatumGetTextPP(heap_getattr(tup, att_key, desc, &isnull));
	alg_name = TextDatumGetCString(heap_getattr(tup, att_alg, desc, &isnull));
	alg = jwt_alg_from_text(cstring_to_text(alg_name));

	st = jose_keyset_import(VARDATA_ANY(key), VARSIZE_ANY_EXHDR(key), JOSE_KEY_TEXT, &ks);
	if (st == JOSE_OK && jose_keyset_is_set(ks))
	{
		jose_keyset_free(ks);
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("a registry key must be one key, not a JWKS"),
				 errhint("Add each key of the set with its own jwt_add_key().")));
	}
	if (st != JOSE_OK)
		jwt_report(st, &ctx);
	k = jose_keyset_key(ks, 0);
	ctx.alg = alg;
	ctx.op = JOSE_OP_VERIFY;
	ctx.algs = jose_keyset_algs(ks, JOSE_OP_VERIFY);
	ctx.algs_known = true;
	st = jose_key_check(k, alg, JOSE_OP_VERIFY);
	if (st != JOSE_OK)
	{
		jose_keyset_free(ks);
		jwt_report(st, &ctx);
	}

	cols[0] = att_sign;
	vals[0] = BoolGetDatum(jose_key_check(k, alg, JOSE_OP_SIGN) == JOSE_OK);
	cols[1] = att_kid;
	(void) heap_getattr(tup, att_kid, desc, &isnull);
	if (isnull)
	{
		size_t		kid_len;
		const char *kid = jose_key_kid(k, &kid_len);

		if (kid != NULL)
			vals[1] = PointerGetDatum(cstring_to_text_with_len(kid, (int) kid_len));
		else if ((st = jose_key_thumbprint(k, tp)) == JOSE_OK)
			vals[1] = CStringGetTextDatum(tp);
	}
	else
		vals[1] = heap_getattr(tup, att_kid, desc, &isnull);
	jose_keyset_free(ks);
	jwt_report(st, &ctx);

	return PointerGetDatum(heap_modify_tuple_by_cols(tup, desc, 2, cols, vals, nulls));
}
