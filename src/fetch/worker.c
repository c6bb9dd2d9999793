/*
 * worker.c
 *		The background worker: a launcher over the databases, and short-lived
 *		workers that read and write one database's issuers.
 *
 * With shared_preload_libraries = 'jwt', jwt.so registers the launcher
 * (src/wake.c), which runs from this library once recovery has finished: on
 * a primary only (a standby verifies with what its primary stored and
 * replicated; a promoted standby starts it).  It is connected to no
 * database, so it never keeps DROP DATABASE or CREATE DATABASE ... TEMPLATE
 * waiting.  For each database that is due (its earliest next_fetch_at has
 * passed, a token woke one of its issuers, or it was never looked at):
 *
 *	1. a worker connects to the database, finds the extension (none, or no
 *	   issuer: the database is looked at again after jwt.issuer_refresh_max,
 *	   and its slot may go to another database meanwhile), reads the
 *	   issuers due and the database's settings as the extension's owner
 *	   (store.c), hands them to the launcher in dynamic shared memory and
 *	   exits;
 *	2. the launcher fetches them (fetch.c), connected to nothing and holding
 *	   no lock;
 *	3. another worker connects, writes the results as the extension's owner
 *	   (each in a subtransaction of its own, so that one that fails leaves
 *	   the others), tells the launcher when the database is next due, and
 *	   exits.
 *
 * Each worker's connection lasts the few statements of its step.  The
 * workers connect as the bootstrap superuser (as autovacuum does: the
 * extension's owner may be a role that cannot log in) and run every
 * statement as the extension's owner, with search_path pinned and
 * SECURITY_RESTRICTED_OPERATION (jwt.so's admin calls).
 */
#include "postgres.h"

#include "access/heapam.h"
#include "access/htup_details.h"
#include "access/table.h"
#include "access/tableam.h"
#include "access/xact.h"
#include "access/xlog.h"
#include "catalog/pg_database.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "postmaster/bgworker.h"
#include "postmaster/interrupt.h"
#include "storage/dsm.h"
#include "storage/ipc.h"
#include "storage/latch.h"
#include "tcop/tcopprot.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/resowner.h"
#include "utils/snapmgr.h"
#include "utils/timestamp.h"

#include "fetch.h"
#include "wake_shmem.h"

#define PLAN_BYTES (256 * 1024)		/* a plan's room: hundreds of issuers */
#define MAX_WAKES 64
#define DB_SCAN_INTERVAL_MS 60000	/* new databases are looked for this often */
#define RETRY_MS 10000			/* after a worker could not be started */
#define SHM_MAGIC 0x6a777466

typedef enum WorkerMode
{
	MODE_PLAN = 1,
	MODE_APPLY
} WorkerMode;

typedef enum ShmStatus
{
	SHM_UNSET = 0,
	SHM_NO_EXTENSION,
	SHM_STANDBY,
	SHM_PLAN,
	SHM_APPLIED,
	SHM_NO_ROOM					/* (after the others: a launcher loaded before
								 * keeps their numbers) nothing fits a plan */
} ShmStatus;

typedef struct WorkerArgs
{
	WorkerMode	mode;
	dsm_handle	handle;
} WorkerArgs;

typedef struct WorkerShm
{
	uint32		magic;
	ShmStatus	status;
	Size		cap;
	Size		len;
	char		data[FLEXIBLE_ARRAY_MEMBER];
} WorkerShm;

/* ------------------------------------------------------------ serialising */

static void
put_int(StringInfo b, int64 v)
{
	appendBinaryStringInfo(b, (const char *) &v, sizeof(v));
}

static void
put_str(StringInfo b, const char *s)
{
	int32		n = s ? (int32) strlen(s) : -1;

	appendBinaryStringInfo(b, (const char *) &n, sizeof(n));
	if (s)
		appendBinaryStringInfo(b, s, n);
}

typedef struct Reader
{
	const char *p;
	const char *end;
} Reader;

static int64
get_int(Reader *r)
{
	int64		v;

	if (r->end - r->p < (ptrdiff_t) sizeof(v))
		elog(ERROR, "jwt: truncated worker message");
	memcpy(&v, r->p, sizeof(v));
	r->p += sizeof(v);
	return v;
}

static char *
get_str(Reader *r)
{
	int32		n;
	char	   *s;

	if (r->end - r->p < (ptrdiff_t) sizeof(n))
		elog(ERROR, "jwt: truncated worker message");
	memcpy(&n, r->p, sizeof(n));
	r->p += sizeof(n);
	if (n < 0)
		return NULL;
	if (r->end - r->p < n)
		elog(ERROR, "jwt: truncated worker message");
	s = pnstrdup(r->p, n);
	r->p += n;
	return s;
}

static void
put_config(StringInfo b, const FetchConfig *cfg)
{
	put_int(b, cfg->connect_timeout);
	put_int(b, cfg->timeout);
	put_int(b, cfg->max_size);
	put_int(b, cfg->refresh_min);
	put_int(b, cfg->refresh_max);
	put_str(b, cfg->ca_file);
	put_str(b, cfg->prefixes);
	put_int(b, cfg->any_url);
}

static void
get_config(Reader *r, FetchConfig *cfg)
{
	cfg->connect_timeout = (int) get_int(r);
	cfg->timeout = (int) get_int(r);
	cfg->max_size = (int) get_int(r);
	cfg->refresh_min = (int) get_int(r);
	cfg->refresh_max = (int) get_int(r);
	cfg->ca_file = get_str(r);
	cfg->prefixes = get_str(r);
	cfg->any_url = get_int(r) != 0;
	cfg->deadline = 0;			/* fetch_issuer sets it per issuer */
}

static void
put_item(StringInfo b, const FetchItem *it)
{
	put_str(b, it->issuer);
	put_str(b, it->jwks_uri);
	put_str(b, it->etag);
	put_str(b, it->etag_uri);
	put_int(b, it->failures);
	put_int(b, it->url_prefixed);
}

static void
get_item(Reader *r, FetchItem *it)
{
	it->issuer = get_str(r);
	it->jwks_uri = get_str(r);
	it->etag = get_str(r);
	it->etag_uri = get_str(r);
	it->failures = (int) get_int(r);
	it->url_prefixed = get_int(r) != 0;
	if (it->issuer == NULL)
		elog(ERROR, "jwt: worker message without an issuer");
}

static void
put_result(StringInfo b, const FetchResult *res)
{
	put_str(b, res->issuer);
	put_str(b, res->jwks_uri);
	put_int(b, res->outcome);
	put_int(b, res->http_status);
	put_str(b, res->detail);
	put_str(b, res->discovered_jwks_uri);
	put_str(b, res->etag);
	put_str(b, res->jwks);
	put_int(b, res->nkeys);
	put_int(b, res->refused_keys);
	put_int(b, res->failures);
	put_int(b, res->attempted_at);
	put_int(b, res->finished_at);
	put_int(b, res->next_fetch_at);
}

static void
get_result(Reader *r, FetchResult *res)
{
	int64		o;

	res->issuer = get_str(r);
	res->jwks_uri = get_str(r);
	o = get_int(r);
	if (o < FO_OK || o > FO_URL_REFUSED || res->issuer == NULL)
		elog(ERROR, "jwt: malformed worker message");
	res->outcome = (FetchOutcome) o;
	res->http_status = (int) get_int(r);
	res->detail = get_str(r);
	res->discovered_jwks_uri = get_str(r);
	res->etag = get_str(r);
	res->jwks = get_str(r);
	res->nkeys = (int) get_int(r);
	res->refused_keys = (int) get_int(r);
	res->failures = (int) get_int(r);
	res->attempted_at = get_int(r);
	res->finished_at = get_int(r);
	res->next_fetch_at = get_int(r);
	if (res->outcome == FO_OK && res->jwks == NULL)
		elog(ERROR, "jwt: malformed worker message");
}

/* ------------------------------------------------------------ the launcher */

static TimestampTz
seconds_from_now(int seconds)
{
	return TimestampTzPlusMilliseconds(GetCurrentTimestamp(), (int64) seconds * 1000);
}

static int
launcher_setting(const char *name)
{
	return pg_strtoint32(GetConfigOption(name, false, false));
}

static void
launcher_exit(int code, Datum arg)
{
	jwtlib.wake_launcher_detach();
}

/*
 * The launcher's memory of databases: those found idle (without the
 * extension, or without issuers) and when, so that a scan gives them no
 * slot again before jwt.issuer_refresh_max has passed; and those it said
 * it cannot serve, so that it says so once.  In TopMemoryContext.
 */
typedef struct DbSeen
{
	Oid			db;
	TimestampTz idle_at;		/* 0: not found idle */
	bool		unserved_logged;
} DbSeen;

static DbSeen *seen = NULL;
static int	nseen = 0;
static int	seen_cap = 0;

static DbSeen *
seen_of(Oid db)
{
	for (int i = 0; i < nseen; i++)
		if (seen[i].db == db)
			return &seen[i];
	if (nseen == seen_cap)
	{
		seen_cap = Max(seen_cap * 2, 64);
		seen = seen == NULL ? MemoryContextAlloc(TopMemoryContext, seen_cap * sizeof(DbSeen)) :
			repalloc(seen, seen_cap * sizeof(DbSeen));
	}
	memset(&seen[nseen], 0, sizeof(DbSeen));
	seen[nseen].db = db;
	return &seen[nseen++];
}

/*
 * The databases a worker may connect to: not templates, connections
 * allowed.  Each gets a slot of the launcher's (WAKE_DBS of them, src/wake.c)
 * unless it was found idle within jwt.issuer_refresh_max; a slot of an idle
 * database goes to one that needs it.  A database left without a slot is
 * said once in the log (the keys there are then kept current by
 * jwt_refresh_issuers(), or by the worker once a slot frees).
 */
static void
scan_databases(MemoryContext cxt)
{
	Relation	rel;
	TableScanDesc scan;
	HeapTuple	tup;
	Oid		   *dbs;
	bool	   *candidate;
	Oid		   *unserved;
	int			n = 0,
				cap = 16,
				nunserved;
	TimestampTz now = GetCurrentTimestamp();
	int64		idle_usecs = (int64) launcher_setting("jwt.issuer_refresh_max") * USECS_PER_SEC;

	StartTransactionCommand();
	(void) GetTransactionSnapshot();
	dbs = MemoryContextAlloc(cxt, cap * sizeof(Oid));
	rel = table_open(DatabaseRelationId, AccessShareLock);
	scan = table_beginscan_catalog(rel, 0, NULL);
	while ((tup = heap_getnext(scan, ForwardScanDirection)) != NULL)
	{
		Form_pg_database d = (Form_pg_database) GETSTRUCT(tup);

		if (!d->datallowconn || d->datistemplate)
			continue;
#ifdef DATCONNLIMIT_INVALID_DB
		if (d->datconnlimit == DATCONNLIMIT_INVALID_DB)
			continue;			/* a DROP DATABASE that did not finish */
#endif
		if (n == cap)
		{
			cap *= 2;
			dbs = repalloc(dbs, cap * sizeof(Oid));
		}
		dbs[n++] = d->oid;
	}
	table_endscan(scan);
	table_close(rel, AccessShareLock);
	CommitTransactionCommand();
	MemoryContextSwitchTo(cxt);
	candidate = palloc(Max(n, 1) * sizeof(bool));
	unserved = palloc(Max(n, 1) * sizeof(Oid));
	for (int i = 0; i < n; i++)
	{
		DbSeen	   *s = seen_of(dbs[i]);

		candidate[i] = s->idle_at == 0 || now - s->idle_at >= idle_usecs;
	}
	nunserved = jwtlib.wake_databases(dbs, n, candidate, unserved);
	for (int i = 0; i < nunserved; i++)
	{
		DbSeen	   *s = seen_of(unserved[i]);

		if (!s->unserved_logged)
			ereport(LOG,
					(errmsg("jwt: the issuers worker cannot serve database %u: all its %d database slots are taken",
							unserved[i], JWT_WAKE_DBS),
					 errdetail("Databases without the extension or without issuers give their slot up once looked at."),
					 errhint("Keep the keys of that database current with jwt_refresh_issuers(), e.g. from pg_cron.")));
		s->unserved_logged = true;
	}
	/* what it remembers of databases dropped since goes */
	for (int i = 0; i < nseen;)
	{
		bool		present = false;

		for (int j = 0; j < n && !present; j++)
			present = dbs[j] == seen[i].db;
		if (present)
			i++;
		else
			seen[i] = seen[--nseen];
	}
	pfree(dbs);
	pfree(candidate);
	pfree(unserved);
}

/* Start a worker for one step on db, and wait until it has exited. */
static bool
run_worker(Oid db, WorkerMode mode, dsm_handle handle)
{
	BackgroundWorker w;
	BackgroundWorkerHandle *h;
	WorkerArgs args = {mode, handle};
	BgwHandleStatus st;

	memset(&w, 0, sizeof(w));
	w.bgw_flags = BGWORKER_SHMEM_ACCESS | BGWORKER_BACKEND_DATABASE_CONNECTION;
	w.bgw_start_time = BgWorkerStart_RecoveryFinished;
	w.bgw_restart_time = BGW_NEVER_RESTART;
	snprintf(w.bgw_library_name, BGW_MAXLEN, "jwt_fetch");
	snprintf(w.bgw_function_name, BGW_MAXLEN, "jwt_fetch_db_main");
	snprintf(w.bgw_name, BGW_MAXLEN, "jwt issuers worker for database %u", db);
	snprintf(w.bgw_type, BGW_MAXLEN, "jwt issuers worker");
	w.bgw_main_arg = ObjectIdGetDatum(db);
	StaticAssertStmt(sizeof(WorkerArgs) <= BGW_EXTRALEN, "WorkerArgs fits bgw_extra");
	memcpy(w.bgw_extra, &args, sizeof(args));
	w.bgw_notify_pid = MyProcPid;
	if (!RegisterDynamicBackgroundWorker(&w, &h))
	{
		ereport(LOG,
				(errmsg("jwt: could not start a worker for database %u", db),
				 errhint("Raise max_worker_processes; the launcher tries again.")));
		return false;
	}
	st = WaitForBackgroundWorkerShutdown(h);
	pfree(h);
	if (st == BGWH_POSTMASTER_DIED)
		proc_exit(1);
	return st == BGWH_STOPPED;
}

static dsm_segment *
shm_create(Size cap, WorkerShm **shm)
{
	dsm_segment *seg = dsm_create(offsetof(WorkerShm, data) + cap, 0);

	*shm = dsm_segment_address(seg);
	(*shm)->magic = SHM_MAGIC;
	(*shm)->status = SHM_UNSET;
	(*shm)->cap = cap;
	(*shm)->len = 0;
	return seg;
}

/*
 * One database: plan (a worker), fetch (here), write (a worker).  False
 * when a worker did not do its step (the database may be gone: the caller
 * looks at pg_database again).
 */
static bool
run_database(Oid db)
{
	dsm_segment *seg;
	WorkerShm  *shm;
	FetchConfig cfg;
	Reader		r;
	int			n;
	FetchItem  *items;
	StringInfoData out;
	bool		ok;

	/* not picked again until a worker says when, or refresh_max has passed */
	jwtlib.wake_schedule(db, seconds_from_now(launcher_setting("jwt.issuer_refresh_max")));

	seg = shm_create(PLAN_BYTES, &shm);
	if (!run_worker(db, MODE_PLAN, dsm_segment_handle(seg)) || shm->status == SHM_UNSET)
	{
		uint64		dropped[MAX_WAKES];
		bool		all;

		/* tried again in a while; its wakes are dropped, not retried in a loop */
		dsm_detach(seg);
		(void) jwtlib.wake_take(db, dropped, MAX_WAKES, &all);
		jwtlib.wake_schedule(db, TimestampTzPlusMilliseconds(GetCurrentTimestamp(), RETRY_MS));
		return false;
	}
	if (shm->status != SHM_PLAN)
	{
		if (shm->status == SHM_NO_EXTENSION)
		{
			/* its slot may serve another database; looked at again after refresh_max */
			seen_of(db)->idle_at = GetCurrentTimestamp();
			jwtlib.wake_idle(db);
		}
		dsm_detach(seg);
		return true;
	}
	seen_of(db)->idle_at = 0;
	seen_of(db)->unserved_logged = false;
	r.p = shm->data;
	r.end = shm->data + shm->len;
	get_config(&r, &cfg);
	n = (int) get_int(&r);
	items = palloc0(sizeof(FetchItem) * Max(n, 1));
	for (int i = 0; i < n; i++)
		get_item(&r, &items[i]);
	dsm_detach(seg);
	if (n == 0)
		return true;

	initStringInfo(&out);
	put_int(&out, n);
	for (int i = 0; i < n; i++)
	{
		FetchResult res;

		CHECK_FOR_INTERRUPTS();
		pgstat_report_activity(STATE_RUNNING, "jwt: fetching an issuer's keys");
		fetch_issuer(&cfg, &items[i], &res);
		put_result(&out, &res);
	}
	pgstat_report_activity(STATE_IDLE, NULL);

	seg = shm_create(out.len, &shm);
	memcpy(shm->data, out.data, out.len);
	shm->len = out.len;
	ok = run_worker(db, MODE_APPLY, dsm_segment_handle(seg)) && shm->status == SHM_APPLIED;
	if (!ok)
		jwtlib.wake_schedule(db, TimestampTzPlusMilliseconds(GetCurrentTimestamp(), RETRY_MS));
	dsm_detach(seg);
	return ok;
}

void
jwt_fetch_launcher_main(Datum arg)
{
	MemoryContext round;
	TimestampTz last_scan = 0;

	pqsignal(SIGHUP, SignalHandlerForConfigReload);
	pqsignal(SIGTERM, die);
	BackgroundWorkerUnblockSignals();
	BackgroundWorkerInitializeConnection(NULL, NULL, 0);
	if (!jwtlib.wake_launcher_attach())
	{
		ereport(LOG, (errmsg("jwt: another issuers launcher is running")));
		proc_exit(0);
	}
	before_shmem_exit(launcher_exit, (Datum) 0);
	ereport(LOG, (errmsg("jwt: issuers launcher started (%s)", http_curl_version())));

	round = AllocSetContextCreate(TopMemoryContext, "jwt issuers launcher",
								  ALLOCSET_DEFAULT_SIZES);
	for (;;)
	{
		TimestampTz now;
		TimestampTz until;
		Oid			db;
		long		wait_ms;

		CHECK_FOR_INTERRUPTS();
		if (ConfigReloadPending)
		{
			ConfigReloadPending = false;
			ProcessConfigFile(PGC_SIGHUP);
		}
		MemoryContextSwitchTo(round);
		now = GetCurrentTimestamp();
		if (last_scan == 0 || TimestampDifferenceExceeds(last_scan, now, DB_SCAN_INTERVAL_MS))
		{
			scan_databases(round);
			last_scan = now;
			MemoryContextSwitchTo(round);
		}
		db = jwtlib.wake_next(now, &until);
		if (OidIsValid(db))
		{
			if (!run_database(db))
				last_scan = 0;	/* perhaps dropped: look at pg_database again */
			MemoryContextSwitchTo(TopMemoryContext);
			MemoryContextReset(round);
			continue;
		}
		wait_ms = DB_SCAN_INTERVAL_MS;
		if (until != DT_NOEND)
			wait_ms = Min(wait_ms, Max(TimestampDifferenceMilliseconds(now, until), 1));
		(void) WaitLatch(MyLatch, WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH,
						 wait_ms, PG_WAIT_EXTENSION);
		ResetLatch(MyLatch);
	}
}

/* ------------------------------------------------------------ the workers */

/*
 * A plan that cannot hold even its first issuer.  A safeguard: the settings'
 * check hooks bound jwt.issuer_url_prefixes to 64 kB and jwt.issuer_ca_file
 * to MAXPGPATH, and the tables an issuer's row (2048 characters of name,
 * 2048 bytes of each URL), so that a plan always holds one.  Were it
 * otherwise, a round at once would plan nothing again, at once, for ever:
 * the next is after refresh_min.
 */
static void
plan_too_large(Oid db, const FetchConfig *cfg)
{
	ereport(WARNING,
			(errmsg("jwt: the issuers of database %u are not fetched: the plan needs more than %d bytes",
					db, PLAN_BYTES),
			 errhint("Shorten jwt.issuer_url_prefixes or jwt.issuer_ca_file.")));
	jwtlib.wake_schedule(db, seconds_from_now(Max(cfg->refresh_min, 1)));
}

static void
plan_database(WorkerShm *shm, Oid db, Oid nsp, Oid owner)
{
	AdminCall	c;
	FetchConfig cfg;
	uint64		wakes[MAX_WAKES];
	bool		all;
	int			nwakes;
	List	   *items;
	ListCell   *lc;
	TimestampTz earliest;
	StringInfoData b;
	int			n = 0;
	Size		count_at;

	/*
	 * Before the admin call, whose SPI memory admin_end() frees; an issuer
	 * registered under the prefix rule needs a prefix (FetchItem.url_prefixed).
	 */
	store_config(&cfg, superuser_arg(owner));
	jwtlib.admin_begin_ext(nsp, owner, &c);
	nwakes = jwtlib.wake_take(db, wakes, MAX_WAKES, &all);
	items = store_plan(&c, NULL, true, wakes, nwakes, all, &earliest);
	if (items == NIL && store_next_due(&c) == DT_NOEND)
	{
		/* no issuer: nothing to serve, as without the extension */
		jwtlib.admin_end(&c);
		shm->status = SHM_NO_EXTENSION;
		return;
	}
	jwtlib.admin_end(&c);

	initStringInfo(&b);
	put_config(&b, &cfg);
	count_at = b.len;
	put_int(&b, 0);
	if ((Size) b.len > shm->cap)
	{
		/* nothing is fetched, and not again at once: see below */
		plan_too_large(db, &cfg);
		shm->status = SHM_NO_ROOM;
		return;
	}
	foreach(lc, items)
	{
		int			before = b.len;

		put_item(&b, (FetchItem *) lfirst(lc));
		if ((Size) b.len > shm->cap)
		{
			b.len = before;
			if (n > 0)
			{
				/* no room: the rest is fetched in the next round, at once */
				earliest = GetCurrentTimestamp();
				break;
			}

			plan_too_large(db, &cfg);
			shm->status = SHM_NO_ROOM;
			return;
		}
		n++;
	}
	memcpy(b.data + count_at, &(int64) {n}, sizeof(int64));
	memcpy(shm->data, b.data, b.len);
	shm->len = b.len;
	shm->status = SHM_PLAN;
	if (items == NIL || n < list_length(items))
		jwtlib.wake_schedule(db, Min(earliest, seconds_from_now(cfg.refresh_max)));
}

static void
apply_database(WorkerShm *shm, Oid db, Oid nsp, Oid owner)
{
	AdminCall	c;
	Reader		r = {shm->data, shm->data + shm->len};
	int			n = (int) get_int(&r);
	MemoryContext cxt = CurrentMemoryContext;
	ResourceOwner owner_res = CurrentResourceOwner;
	TimestampTz next;
	volatile bool failed = false;

	jwtlib.admin_begin_ext(nsp, owner, &c);
	for (int i = 0; i < n; i++)
	{
		FetchResult res;

		get_result(&r, &res);
		BeginInternalSubTransaction(NULL);
		MemoryContextSwitchTo(cxt);
		PG_TRY();
		{
			(void) store_apply(&c, &res);
			ReleaseCurrentSubTransaction();
			MemoryContextSwitchTo(cxt);
			CurrentResourceOwner = owner_res;
		}
		PG_CATCH();
		{
			ErrorData  *e;

			MemoryContextSwitchTo(cxt);
			e = CopyErrorData();
			FlushErrorState();
			RollbackAndReleaseCurrentSubTransaction();
			MemoryContextSwitchTo(cxt);
			CurrentResourceOwner = owner_res;
			ereport(WARNING,
					(errmsg("jwt: could not store the fetch of issuer \"%s\": %s", url_for_log(res.issuer),
							e->message)));
			FreeErrorData(e);
			failed = true;
		}
		PG_END_TRY();
	}
	next = store_next_due(&c);
	jwtlib.admin_end(&c);

	/*
	 * An issuer whose result could not be stored is still due: not at once,
	 * which would fetch it again without pause, but after refresh_min.
	 */
	if (failed)
		next = Max(next, seconds_from_now(Max(launcher_setting("jwt.issuer_refresh_min"), 1)));
	/* looked at again after refresh_max at the latest: rows may come by restore or replication */
	jwtlib.wake_schedule(db, Min(next, seconds_from_now(launcher_setting("jwt.issuer_refresh_max"))));
	shm->status = SHM_APPLIED;
}

void
jwt_fetch_db_main(Datum arg)
{
	Oid			db = DatumGetObjectId(arg);
	WorkerArgs	args;
	dsm_segment *seg;
	WorkerShm  *shm;
	Oid			nsp,
				owner;

	memcpy(&args, MyBgworkerEntry->bgw_extra, sizeof(args));
	pqsignal(SIGTERM, die);
	BackgroundWorkerUnblockSignals();
	BackgroundWorkerInitializeConnectionByOid(db, InvalidOid, 0);

	seg = dsm_attach(args.handle);
	if (seg == NULL)
		proc_exit(0);			/* the launcher is gone */
	shm = dsm_segment_address(seg);
	if (shm->magic != SHM_MAGIC)
		elog(ERROR, "jwt: bad worker segment");

	SetCurrentStatementStartTimestamp();
	StartTransactionCommand();
	PushActiveSnapshot(GetTransactionSnapshot());
	pgstat_report_activity(STATE_RUNNING, args.mode == MODE_PLAN ?
						   "jwt: reading the issuers due" : "jwt: storing fetched keys");
	if (RecoveryInProgress())
		shm->status = SHM_STANDBY;
	else if (!store_find_extension(&nsp, &owner) ||
			 !OidIsValid(get_relname_relid("jwt_issuers", nsp)) ||
			 !OidIsValid(get_relname_relid("jwt_issuer_fetches", nsp)))
		shm->status = SHM_NO_EXTENSION;
	else if (args.mode == MODE_PLAN)
		plan_database(shm, db, nsp, owner);
	else
		apply_database(shm, db, nsp, owner);
	PopActiveSnapshot();
	CommitTransactionCommand();
	pgstat_report_activity(STATE_IDLE, NULL);
	dsm_detach(seg);
	proc_exit(0);
}
