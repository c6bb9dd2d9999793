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
 *
 * The registry has two parts, each loaded and invalidated on its own: the
 * keys (jwt_keys, and the identity providers' keys of jwt_issuers, which
 * issuers.c reads with them), whose load parses every key, and the
 * revocation set (jwt_revocations and the ended logins of jwt_logins).  An invalidation
 * names the table that changed, so ending a login or revoking a jti reloads
 * the revocation set only, and the backends keep their parsed keys.
 */
#include "postgres.h"

#include "access/genam.h"
#include "access/table.h"
#include "access/tableam.h"
#include "access/xact.h"
#include "storage/proc.h"
#include "catalog/dependency.h"
#include "catalog/namespace.h"
#include "catalog/pg_am.h"
#include "catalog/pg_class.h"
#include "catalog/pg_proc.h"
#include "catalog/pg_type.h"
#include "commands/trigger.h"
#include "common/hashfn.h"
#include "executor/spi.h"
#include "executor/tuptable.h"
#include "nodes/primnodes.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/inval.h"
#include "utils/jsonb.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/rel.h"
#include "utils/relcache.h"
#include "utils/snapmgr.h"
#include "utils/timestamp.h"

#include "compat.h"
#include "jwt.h"

static JwtStatement last_inval_statement = {0};	/* never a statement's */


JwtRegistry jwt_registry = {0};

/* The parts of the registry, each with its own memory and bound snapshot. */
typedef enum RegistryPart
{
	PART_KEYS,
	PART_REVOKED,
	NUM_PARTS
} RegistryPart;

static MemoryContext part_context[NUM_PARTS];

/*
 * The snapshot a bound registry was read with (jwt_registry.bound): enough of
 * it to tell whether another snapshot sees the same committed rows.
 */
typedef struct SnapshotIdentity
{
	LocalTransactionId lxid;
	TransactionId xmin;
	TransactionId xmax;
	CommandId	curcid;
	bool		suboverflowed;
	bool		takenDuringRecovery;
	uint32		xcnt;
	int32		subxcnt;
	TransactionId *xip;			/* in the part's context */
	TransactionId *subxip;
} SnapshotIdentity;

static SnapshotIdentity bound_snapshot[NUM_PARTS];

/* The command in which a row trigger left out an invalidation (see below). */
static LocalTransactionId skipped_lxid = InvalidLocalTransactionId;
static CommandId skipped_cid = InvalidCommandId;

/* The last invalidation a row trigger sent for each registry table. */
typedef struct SentInvalidation
{
	Oid			relid;
	LocalTransactionId lxid;
	SubTransactionId subxid;
} SentInvalidation;

static SentInvalidation sent_inval[2];

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

/*
 * A relcache invalidation: the part that holds the table goes stale (both
 * on InvalidOid, a reset of every cache).  Never free here: an invalidation
 * can arrive while the keys are in use.
 */
static void
registry_invalidate(Datum arg, Oid relid)
{
	if (relid == InvalidOid)
	{
		jwt_registry.valid = false;
		jwt_registry.revoked_valid = false;
	}
	else if (relid == jwt_registry.keys_relid ||
			 (relid == jwt_issuers_relid && OidIsValid(relid)))	/* [issuers] keys */
		jwt_registry.valid = false;
	else if (relid == jwt_registry.revocations_relid ||
			 (relid == jwt_registry.logins_relid && OidIsValid(relid)))
		jwt_registry.revoked_valid = false;
}

void
jwt_registry_register_callbacks(void)
{
	CacheRegisterRelcacheCallback(registry_invalidate, (Datum) 0);
}

/*
 * The table name of the extension that fn_oid belongs to, in that function's
 * namespace; InvalidOid when there is none.  A relation of that name that is
 * not the extension's own does not count: the schema may be the database
 * owner's (public on PostgreSQL 15), who could otherwise plant a table the
 * extension has not created yet (jwt_logins beside a 0.1.0 install), with
 * rows and a layout of its choosing.
 */
Oid
jwt_extension_relid_in(Oid ext, Oid nsp, const char *name)
{
	Oid			relid = get_relname_relid(name, nsp);

	if (!OidIsValid(relid) || !OidIsValid(ext) ||
		getExtensionOfObject(RelationRelationId, relid) != ext)
		return InvalidOid;
	return relid;
}

Oid
jwt_extension_relid(Oid fn_oid, const char *name)
{
	return jwt_extension_relid_in(getExtensionOfObject(ProcedureRelationId, fn_oid),
								  get_func_namespace(fn_oid), name);
}

/* As jwt_extension_relid_in(), for a table every version has: absent is an error. */
Oid
jwt_registry_relid_in(Oid ext, Oid nsp, const char *name)
{
	Oid			relid = jwt_extension_relid_in(ext, nsp, name);

	if (!OidIsValid(relid))
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_TABLE),
				 errmsg("the jwt key registry table \"%s\" does not exist", name),
				 errhint("Create the extension in this database: CREATE EXTENSION jwt.")));
	return relid;
}

Oid
jwt_registry_relid(Oid fn_oid, const char *name)
{
	return jwt_registry_relid_in(getExtensionOfObject(ProcedureRelationId, fn_oid),
								 get_func_namespace(fn_oid), name);
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
						  !until_null,
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

/*
 * What one part's load reads with: the statement's snapshot, and (but in
 * parallel mode, where no newer snapshot may be taken) the latest one, to
 * tell whether the load is simply the committed registry.  nseen counts the
 * rows that matter that snap sees, same those of them latest sees too,
 * nlatest those that latest sees.
 */
typedef struct RegistryRead
{
	Snapshot	snap;
	Snapshot	latest;
	uint64		nseen;
	uint64		same;
	uint64		nlatest;
} RegistryRead;

/* One row that matters, seen with r->snap. */
static inline void
read_count(Relation rel, TupleTableSlot *slot, RegistryRead *r)
{
	r->nseen++;
	if (r->latest != NULL && table_tuple_satisfies_snapshot(rel, slot, r->latest))
		r->same++;
}

/* How many rows of rel r->latest sees. */
static void
read_count_latest(Relation rel, RegistryRead *r)
{
	TupleTableSlot *slot;
	TableScanDesc scan;

	if (r->latest == NULL)
		return;
	slot = table_slot_create(rel, NULL);
	scan = jwt_table_beginscan(rel, r->latest);
	while (table_scan_getnextslot(scan, ForwardScanDirection, slot))
	{
		CHECK_FOR_INTERRUPTS();
		r->nlatest++;
	}
	table_endscan(scan);
	ExecDropSingleTupleTableSlot(slot);
}

/* Read jwt_keys (kid, key, algorithm, valid_from, valid_until, ...) with r->snap into keys. */
static void
registry_scan_keys(Relation rel, RegistryRead *r, jose_keyset *keys)
{
	TupleTableSlot *slot = table_slot_create(rel, NULL);
	TableScanDesc scan = jwt_table_beginscan(rel, r->snap);

	while (table_scan_getnextslot(scan, ForwardScanDirection, slot))
	{
		bool	   *isnull;
		Datum	   *v;

		CHECK_FOR_INTERRUPTS();
		read_count(rel, slot, r);
		slot_getsomeattrs(slot, 5);
		v = slot->tts_values;
		isnull = slot->tts_isnull;
		if (isnull[0] || isnull[1] || isnull[2] || isnull[3])
			continue;
		if (registry_add_key(keys, v[0], v[1], v[2], v[3], isnull[4], v[4]))
			jwt_registry.nkeys++;
	}
	table_endscan(scan);
	ExecDropSingleTupleTableSlot(slot);
	read_count_latest(rel, r);
}

/* Read jwt_revocations (jti, expires_at, ...) with r->snap into the revoked set. */
static void
registry_scan_revocations(Relation rel, RegistryRead *r)
{
	TupleTableSlot *slot = table_slot_create(rel, NULL);
	TableScanDesc scan = jwt_table_beginscan(rel, r->snap);
	List	   *revoked = NIL;
	ListCell   *lc;
	int			i = 0;

	while (table_scan_getnextslot(scan, ForwardScanDirection, slot))
	{
		RevokedJti *rj;
		text	   *jti;

		CHECK_FOR_INTERRUPTS();
		read_count(rel, slot, r);
		slot_getsomeattrs(slot, 2);
		if (slot->tts_isnull[0] || slot->tts_isnull[1])
			continue;
		jti = DatumGetTextPP(slot->tts_values[0]);
		rj = MemoryContextAlloc(part_context[PART_REVOKED], sizeof(RevokedJti));
		rj->hash = jti_hash(VARDATA_ANY(jti), VARSIZE_ANY_EXHDR(jti));
		rj->until = jwt_timestamptz_to_unix(DatumGetTimestampTz(slot->tts_values[1]));
		revoked = lappend(revoked, rj);
	}
	table_endscan(scan);
	ExecDropSingleTupleTableSlot(slot);
	read_count_latest(rel, r);

	jwt_registry.nrevoked = list_length(revoked);
	jwt_registry.revoked = jwt_registry.nrevoked > 0 ?
		MemoryContextAlloc(part_context[PART_REVOKED],
						   jwt_registry.nrevoked * sizeof(RevokedJti)) : NULL;
	foreach(lc, revoked)
		jwt_registry.revoked[i++] = *(RevokedJti *) lfirst(lc);
	if (jwt_registry.nrevoked > 1)
		qsort(jwt_registry.revoked, jwt_registry.nrevoked, sizeof(RevokedJti), cmp_revoked);
}

static void
snapshot_remember(RegistryPart part, Snapshot snap)
{
	SnapshotIdentity *b = &bound_snapshot[part];
	MemoryContext cxt = part_context[part];

	b->lxid = jwt_my_lxid();
	b->xmin = snap->xmin;
	b->xmax = snap->xmax;
	b->curcid = snap->curcid;
	b->suboverflowed = snap->suboverflowed;
	b->takenDuringRecovery = snap->takenDuringRecovery;
	b->xcnt = snap->xcnt;
	b->subxcnt = snap->subxcnt;
	b->xip = b->xcnt > 0 ?
		MemoryContextAlloc(cxt, b->xcnt * sizeof(TransactionId)) : NULL;
	if (b->xcnt > 0)
		memcpy(b->xip, snap->xip, b->xcnt * sizeof(TransactionId));
	b->subxip = b->subxcnt > 0 ?
		MemoryContextAlloc(cxt, b->subxcnt * sizeof(TransactionId)) : NULL;
	if (b->subxcnt > 0)
		memcpy(b->subxip, snap->subxip, b->subxcnt * sizeof(TransactionId));
}

/* Whether snap sees what the snapshot of a bound part saw. */
static bool
snapshot_matches(RegistryPart part, Snapshot snap)
{
	const SnapshotIdentity *b = &bound_snapshot[part];

	return b->lxid == jwt_my_lxid() && b->xmin == snap->xmin && b->xmax == snap->xmax &&
		b->curcid == snap->curcid && b->suboverflowed == snap->suboverflowed &&
		b->takenDuringRecovery == snap->takenDuringRecovery &&
		b->xcnt == snap->xcnt && b->subxcnt == snap->subxcnt &&
		(b->xcnt == 0 || memcmp(b->xip, snap->xip, b->xcnt * sizeof(TransactionId)) == 0) &&
		(b->subxcnt <= 0 ||
		 memcmp(b->subxip, snap->subxip, b->subxcnt * sizeof(TransactionId)) == 0);
}

/* The snapshot the statement reads tables with. */
static Snapshot
registry_snapshot(void)
{
	return ActiveSnapshotSet() ? GetActiveSnapshot() : GetTransactionSnapshot();
}

/*
 * The ended logins of jwt_logins (sid, sub, claims, created_at, expires_at,
 * access_expires_at, ended_at, ...): their sids, each refused until the last
 * access token of its login has expired.  Only ended rows matter, so only
 * they are counted (see read_end): a login started or refreshed after the
 * statement's snapshot leaves the load unbound, a login ended after it
 * binds the load to that snapshot.
 *
 * They are read through the partial index jwt_logins_ended (ended_at WHERE
 * ended_at IS NOT NULL), so that what a logout costs every backend grows
 * with the ended logins, not with all the open ones.  Without that index
 * (it is checked to be exactly that), the whole table is read; each row's
 * ended_at is checked either way.
 */
#define LOGINS_ENDED_AT 7

/* The index jwt_logins_ended on rel, or InvalidOid when it is not there as made. */
static Oid
ended_logins_index(Relation rel)
{
	Oid			idxid = get_relname_relid("jwt_logins_ended", RelationGetNamespace(rel));
	Relation	idx;
	List	   *pred;
	bool		ok;

	if (!OidIsValid(idxid) || get_rel_relkind(idxid) != RELKIND_INDEX)
		return InvalidOid;
	idx = index_open(idxid, AccessShareLock);
	pred = RelationGetIndexPredicate(idx);
	/* a btree: scanned whole, with no key, which not every access method allows */
	ok = idx->rd_rel->relam == BTREE_AM_OID &&
		idx->rd_index->indrelid == RelationGetRelid(rel) && idx->rd_index->indisvalid &&
		list_length(pred) == 1 && IsA(linitial(pred), NullTest) &&
		((NullTest *) linitial(pred))->nulltesttype == IS_NOT_NULL &&
		IsA(((NullTest *) linitial(pred))->arg, Var) &&
		((Var *) ((NullTest *) linitial(pred))->arg)->varattno == LOGINS_ENDED_AT;
	index_close(idx, AccessShareLock);
	return ok ? idxid : InvalidOid;
}

/* The ended logins snap sees: read (into *ended, when given) and counted. */
static void
logins_read(Relation rel, Oid idxid, Snapshot snap, RegistryRead *r, List **ended)
{
	SysScanDesc scan = systable_beginscan(rel, idxid, OidIsValid(idxid), snap, 0, NULL);
	TupleTableSlot *slot = scan->slot;

	while (systable_getnext(scan) != NULL)
	{
		RevokedJti *rj;
		text	   *sid;

		CHECK_FOR_INTERRUPTS();
		slot_getsomeattrs(slot, LOGINS_ENDED_AT);
		if (slot->tts_isnull[LOGINS_ENDED_AT - 1])
			continue;
		if (ended == NULL)
		{
			r->nlatest++;
			continue;
		}
		read_count(rel, slot, r);
		if (slot->tts_isnull[0] || slot->tts_isnull[5])
			continue;
		sid = DatumGetTextPP(slot->tts_values[0]);
		rj = MemoryContextAlloc(part_context[PART_REVOKED], sizeof(RevokedJti));
		rj->hash = jti_hash(VARDATA_ANY(sid), VARSIZE_ANY_EXHDR(sid));
		rj->until = jwt_timestamptz_to_unix(DatumGetTimestampTz(slot->tts_values[5]));
		*ended = lappend(*ended, rj);
	}
	systable_endscan(scan);
}

static void
registry_scan_logins(Relation rel, RegistryRead *r)
{
	List	   *ended = NIL;
	ListCell   *lc;
	int			i = 0;
	Oid			idxid;

	idxid = ended_logins_index(rel);
	logins_read(rel, idxid, r->snap, r, &ended);
	if (r->latest != NULL)
		logins_read(rel, idxid, r->latest, r, NULL);

	jwt_registry.nended = list_length(ended);
	jwt_registry.ended = jwt_registry.nended > 0 ?
		MemoryContextAlloc(part_context[PART_REVOKED],
						   jwt_registry.nended * sizeof(RevokedJti)) : NULL;
	foreach(lc, ended)
		jwt_registry.ended[i++] = *(RevokedJti *) lfirst(lc);
	if (jwt_registry.nended > 1)
		qsort(jwt_registry.ended, jwt_registry.nended, sizeof(RevokedJti), cmp_revoked);
}

/* The columns each scan reads, in order, as the scans read them. */
static const Oid keys_layout[] = {TEXTOID, TEXTOID, TEXTOID, TIMESTAMPTZOID, TIMESTAMPTZOID};
static const Oid revocations_layout[] = {TEXTOID, TIMESTAMPTZOID};
static const Oid logins_layout[] = {TEXTOID, TEXTOID, JSONBOID, TIMESTAMPTZOID,
TIMESTAMPTZOID, TIMESTAMPTZOID, TIMESTAMPTZOID};

/*
 * Open a registry table for a direct scan: a plain table whose first columns
 * have the types the scan reads them as.  Anything else is refused, never
 * read: a view, a partitioned or foreign table has no heap to scan, and a
 * datum read as another type than its own is a wild pointer.  The tables are
 * the extension's members, but an extension's owner may add a table of its
 * own (ALTER EXTENSION ADD), and jwt_logins is absent before 0.2.0.
 */
static Relation
registry_open(Oid relid, const Oid *layout, int ncols)
{
	Relation	rel = table_open(relid, AccessShareLock);
	TupleDesc	desc = RelationGetDescr(rel);
	bool		ok = rel->rd_rel->relkind == RELKIND_RELATION && desc->natts >= ncols;

	for (int i = 0; ok && i < ncols; i++)
		ok = !TupleDescAttr(desc, i)->attisdropped &&
			TupleDescAttr(desc, i)->atttypid == layout[i];
	if (!ok)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("the jwt registry table \"%s\" is not as the extension created it",
						RelationGetRelationName(rel)),
				 errhint("Drop the table and run ALTER EXTENSION jwt UPDATE, or recreate the extension.")));
	return rel;
}

/* A part's load starts: its memory emptied, the snapshots taken. */
static void
read_begin(RegistryPart part, RegistryRead *r)
{
	if (part_context[part] == NULL && part == PART_KEYS)
		part_context[part] = AllocSetContextCreate(TopMemoryContext, "jwt registry keys",
												   ALLOCSET_SMALL_SIZES);
	else if (part_context[part] == NULL)
		part_context[part] = AllocSetContextCreate(TopMemoryContext, "jwt registry revocations",
												   ALLOCSET_SMALL_SIZES);
	MemoryContextReset(part_context[part]);
	r->snap = RegisterSnapshot(registry_snapshot());
	r->latest = IsInParallelMode() ? NULL : RegisterSnapshot(GetLatestSnapshot());
	r->nseen = r->same = r->nlatest = 0;
}

/*
 * A part's load is done: whether it is bound to its snapshot, which is
 * remembered then.  It is bound unless the latest snapshot sees exactly the
 * rows it read, and unless a row trigger of this very command left its
 * invalidation out (its rows are not visible yet, and no invalidation will
 * say so).
 */
static bool
read_end(RegistryPart part, RegistryRead *r)
{
	bool		bound;

	bound = r->latest == NULL || r->same != r->nseen || r->nlatest != r->nseen ||
		(skipped_lxid == jwt_my_lxid() && skipped_cid == GetCurrentCommandId(false));
	if (bound)
		snapshot_remember(part, r->snap);
	if (r->latest != NULL)
		UnregisterSnapshot(r->latest);
	UnregisterSnapshot(r->snap);
	return bound;
}

/*
 * Load a part from the schema where the calling function fn_oid (and so the
 * extension) lives: a direct scan of the extension's own tables, so no
 * privilege of the caller is involved (the tables are closed to PUBLIC).
 *
 * A part is what the statement's snapshot sees, as for any table it reads:
 * in READ COMMITTED the statement's, in REPEATABLE READ and SERIALIZABLE the
 * transaction's.  Parallel workers get that snapshot from the leader, so
 * every plan of a statement gives the same answer.  When the latest
 * snapshot sees the same rows (the common case), what is loaded is simply
 * the committed registry and stays valid until an invalidation says
 * otherwise; when it does not (a change committed after the statement's
 * snapshot was taken, or in parallel mode), the load is bound to its
 * snapshot and read again under any other.
 */
static void
registry_load_keys(Oid fn_oid)
{
	jose_keyset *keys;
	RegistryRead r;
	Relation	rel;

	jose_keyset_free(jwt_registry.keys);
	jwt_registry.keys = NULL;
	/*
	 * What was made from the keys just freed (issue.c's list of signers)
	 * goes too, also when this load fails after the part is marked valid
	 */
	jwt_registry_generation++;
	jwt_registry.nkeys = 0;
	jwt_registry.valid = false;
	jwt_issuers_reset();
	jwt_registry.keys_relid = jwt_registry_relid(fn_oid, "jwt_keys");
	jwt_issuers_relid = jwt_extension_relid(fn_oid, "jwt_issuers");
	keys = jose_keyset_new();
	if (keys == NULL)
		ereport(ERROR, (errcode(ERRCODE_OUT_OF_MEMORY), errmsg("out of memory")));
	read_begin(PART_KEYS, &r);
	/* from here on, a change to either table marks the part stale */
	jwt_registry.valid = true;
	PG_TRY();
	{
		rel = registry_open(jwt_registry.keys_relid, keys_layout, lengthof(keys_layout));
		registry_scan_keys(rel, &r, keys);
		table_close(rel, AccessShareLock);
		/* [issuers] the identity providers and their keys (issuers.c) */
		if (OidIsValid(jwt_issuers_relid))
		{
			/* a plain table; issuers.c checks each column's type */
			rel = registry_open(jwt_issuers_relid, NULL, 0);
			jwt_issuers_scan(rel, r.snap, r.latest, &r.nseen, &r.same);
			read_count_latest(rel, &r);
			table_close(rel, AccessShareLock);
		}
	}
	PG_CATCH();
	{
		jose_keyset_free(keys);
		jwt_issuers_reset();
		jwt_registry.valid = false;
		PG_RE_THROW();
	}
	PG_END_TRY();
	jwt_registry.bound = read_end(PART_KEYS, &r);

	if (jose_keyset_index(keys) != JOSE_OK)
	{
		jose_keyset_free(keys);
		jwt_registry.valid = false;
		ereport(ERROR, (errcode(ERRCODE_OUT_OF_MEMORY), errmsg("out of memory")));
	}
	jwt_registry.keys = keys;
	jwt_registry.key_loads++;
	jwt_registry_generation++;
}

static void
registry_load_revoked(Oid fn_oid)
{
	RegistryRead r;
	Relation	rel;

	jwt_registry.revoked = NULL;
	jwt_registry.nrevoked = 0;
	jwt_registry.ended = NULL;
	jwt_registry.nended = 0;
	jwt_registry.revocations_relid = jwt_registry_relid(fn_oid, "jwt_revocations");
	/* absent before 0.2.0 */
	jwt_registry.logins_relid = jwt_extension_relid(fn_oid, "jwt_logins");
	read_begin(PART_REVOKED, &r);
	/* from here on, a change to either table marks the part stale */
	jwt_registry.revoked_valid = true;
	PG_TRY();
	{
		rel = registry_open(jwt_registry.revocations_relid, revocations_layout,
							lengthof(revocations_layout));
		registry_scan_revocations(rel, &r);
		table_close(rel, AccessShareLock);
		if (OidIsValid(jwt_registry.logins_relid))
		{
			rel = registry_open(jwt_registry.logins_relid, logins_layout, lengthof(logins_layout));
			registry_scan_logins(rel, &r);
			table_close(rel, AccessShareLock);
		}
	}
	PG_CATCH();
	{
		jwt_registry.revoked_valid = false;
		PG_RE_THROW();
	}
	PG_END_TRY();
	jwt_registry.revoked_bound = read_end(PART_REVOKED, &r);
	jwt_registry.revocation_loads++;
	jwt_revocation_generation++;
}

/* Whether a part must be read again for this statement. */
static bool
part_stale(RegistryPart part)
{
	bool		valid = part == PART_KEYS ? jwt_registry.valid : jwt_registry.revoked_valid;
	bool		bound = part == PART_KEYS ? jwt_registry.bound : jwt_registry.revoked_bound;

	return !valid || (bound && !snapshot_matches(part, registry_snapshot()));
}

void
jwt_registry_ensure(FunctionCallInfo fcinfo)
{
	Oid			fn_oid;

	if (!part_stale(PART_KEYS) && !part_stale(PART_REVOKED))
		return;
	if (fcinfo->flinfo == NULL)
		elog(ERROR, "jwt: session functions need their call context");
	fn_oid = fcinfo->flinfo->fn_oid;
	if (part_stale(PART_KEYS))
		registry_load_keys(fn_oid);
	/* asked again: an invalidation may have arrived while the keys loaded */
	if (part_stale(PART_REVOKED))
		registry_load_revoked(fn_oid);
}

static bool
revoked_in(const RevokedJti *set, int nset, const char *id, size_t len, double now)
{
	uint64		h = jti_hash(id, len);
	int			lo = 0,
				hi = nset - 1;
	double		leeway = jwt_policy_leeway;

	while (lo <= hi)
	{
		int			mid = lo + (hi - lo) / 2;

		if (set[mid].hash < h)
			lo = mid + 1;
		else if (set[mid].hash > h)
			hi = mid - 1;
		else
		{
			/* equal hashes may repeat: look at each */
			int			i = mid;

			while (i > 0 && set[i - 1].hash == h)
				i--;
			for (; i < nset && set[i].hash == h; i++)
				/* mutation: registry-revocation-until: if (now < => if (leeway == leeway || now < */
				if (now < set[i].until + leeway)
					return true;
			return false;
		}
	}
	return false;
}

bool
jwt_jti_revoked(const char *jti, size_t len, double now)
{
	return revoked_in(jwt_registry.revoked, jwt_registry.nrevoked, jti, len, now);
}

/* Whether sid names a login that has ended (jwt_logins.ended_at). */
bool
jwt_sid_ended(const char *sid, size_t len, double now)
{
	return revoked_in(jwt_registry.ended, jwt_registry.nended, sid, len, now);
}

/*
 * A new statement (a JwtStatement of its own, statement.c, as a call site's
 * answer has: the next statement of one message, a new transaction inside a
 * procedure): take in the invalidations other sessions committed.  A
 * backend inside a transaction reads them only when it takes a new lock, and
 * a cached registry takes none, so without this a key retired or a jti
 * revoked elsewhere would go unseen until the transaction ends.
 */
void
jwt_accept_invalidations(void)
{
	/* mutation: registry-invalidations-per-statement: if (!jwt_statement_is(&last_inval_statement)) => if (0) */
	if (!jwt_statement_is(&last_inval_statement))
	{
		AcceptInvalidationMessages();
		last_inval_statement = jwt_statement_get();
	}
}

/* A statement that reads the registry: invalidations first, then the cache. */
void
jwt_registry_for_statement(FunctionCallInfo fcinfo)
{
	jwt_accept_invalidations();
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
	now = jwt_timestamptz_to_unix(jwt_now());
	n = jwt_registry.keys ? jose_keyset_count(jwt_registry.keys) : 0;
	list = palloc(sizeof(jose_key *) * (n + 1));
	for (size_t i = 0; i < n; i++)
	{
		const jose_key *k = jose_keyset_key(jwt_registry.keys, i);
		double		from,
					until;

		(void) jose_key_window(k, &from, &until);
		if (jose_key_kty(k) == JOSE_KTY_OCT || jose_key_kty(k) == 0 ||
			until <= now)
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
	Oid			relid;
	SentInvalidation *slot;

	if (!CALLED_AS_TRIGGER(fcinfo))
		ereport(ERROR,
				(errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
				 errmsg("jwt_registry_changed() must be called as a trigger")));
	if (!TRIGGER_FIRED_FOR_ROW(td->tg_event))
	{
		CacheInvalidateRelcache(td->tg_relation);
		return PointerGetDatum(NULL);
	}

	/*
	 * A row trigger: the statement triggers fire for no write of a logical
	 * replication apply worker (session_replication_role = replica), these
	 * ENABLE REPLICA row triggers do, for each row, and there each row is a
	 * command of its own, whose invalidation PostgreSQL would keep apart
	 * from the last command's: a replicated purge of a million revocations
	 * would commit a million invalidations and rebuild the table's relcache
	 * entry a million times.  One per table and subtransaction is enough
	 * for the other sessions (an aborted subtransaction's invalidations are
	 * dropped, and its id never returns); this backend's own cache is
	 * dropped here, and a registry read in this very command, before the
	 * command's rows are visible, is bound to its snapshot (registry_load).
	 */
	relid = RelationGetRelid(td->tg_relation);
	slot = sent_inval[1].relid == relid ? &sent_inval[1] : &sent_inval[0];
	if (slot->relid == relid && slot->lxid == jwt_my_lxid() &&
		slot->subxid == GetCurrentSubTransactionId())
	{
		registry_invalidate((Datum) 0, relid);
		skipped_lxid = jwt_my_lxid();
		skipped_cid = GetCurrentCommandId(false);
		return PointerGetDatum(NULL);
	}
	CacheInvalidateRelcache(td->tg_relation);
	if (slot->relid != relid && sent_inval[0].relid != InvalidOid &&
		sent_inval[1].relid == InvalidOid)
		slot = &sent_inval[1];
	slot->relid = relid;
	slot->lxid = jwt_my_lxid();
	slot->subxid = GetCurrentSubTransactionId();
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

		/*
		 * An empty JWK kid would fail the table's CHECK (kid <> ''), whose
		 * error shows the failing row, key and all: refuse it here.
		 */
		if (kid != NULL && kid_len == 0)
		{
			jose_keyset_free(ks);
			registry_row_refuse("the key's JWK \"kid\" is empty",
								"Remove the empty \"kid\" member from the JWK, or pass a kid.");
		}
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
