/*
 * wake.c
 *		The background worker's shared state: its registration, the schedule
 *		of each database, and the wakes a kid miss asks for.
 *
 * With shared_preload_libraries = 'jwt', _PG_init asks for a small piece of
 * shared memory (shmem_request_hook, PostgreSQL 15 on) and registers the
 * launcher, whose code is in jwt_fetch.so (src/fetch/worker.c): jwt.so, and
 * so the postmaster and every backend, never loads libcurl.  Without it, the
 * shared memory does not exist, every wake is a no-op, and the keys are kept
 * current by jwt_refresh_issuers() (from pg_cron, say).
 *
 * The piece holds, under one spinlock (each section a few loads and stores):
 *
 *	- the launcher's pid and latch;
 *	- per database, when it is next due (written by whoever last fetched
 *	  there: a worker, or a backend's jwt_refresh_issuers()), and the
 *	  issuers a token woke, as hashes of their spelling;
 *	- the cooldown: when each (database, issuer) was last woken.  A wake
 *	  within JWT_WAKE_COOLDOWN_SECS (30 s) of the last one for the same issuer
 *	  is dropped, so a stream of tokens with an unknown kid costs the
 *	  provider one request per 30 s, as node jose's createRemoteJWKSet does.
 *
 * A wake only sets a flag and the launcher's latch: the backend that asks
 * never waits, and its token is refused now (the session path says the key
 * set is being refreshed); the statement after the fetch sees the new keys.
 */
#include "postgres.h"

#include "common/hashfn.h"
#include "fmgr.h"
#include "miscadmin.h"
#include "postmaster/bgworker.h"
#include "storage/ipc.h"
#include "storage/latch.h"
#include "storage/lwlock.h"
#include "storage/shmem.h"
#include "storage/spin.h"
#include "utils/builtins.h"
#include "utils/timestamp.h"

#include "jwt.h"
#include "wake.h"
#include "wake_shmem.h"

PG_FUNCTION_INFO_V1(jwt_issuers_worker_running_sql);
PG_FUNCTION_INFO_V1(jwt_wake_issuer);

#define WAKE_DBS JWT_WAKE_DBS	/* databases served */
#define WAKE_PER_DB 16			/* issuers woken per database between two rounds */
#define WAKE_COOLDOWNS 512		/* (database, issuer) pairs remembered */

typedef struct WakeDb
{
	Oid			db;				/* InvalidOid: a free slot */
	TimestampTz next_due;
	int			nwakes;
	bool		all;			/* more woken than wakes[] holds */
	bool		idle;			/* found without the extension or issuers: its slot may go */
	uint64		wakes[WAKE_PER_DB];
} WakeDb;

typedef struct WakeCooldown
{
	Oid			db;
	uint64		hash;
	TimestampTz at;
} WakeCooldown;

typedef struct WakeShared
{
	slock_t		mutex;
	pid_t		launcher_pid;	/* 0: no launcher */
	Latch	   *launcher_latch;
	int			next_rr;		/* where jwt_wake_next looks first */
	WakeDb		dbs[WAKE_DBS];
	WakeCooldown cooldown[WAKE_COOLDOWNS];
} WakeShared;

static WakeShared *wake = NULL;
static shmem_request_hook_type prev_shmem_request = NULL;
static shmem_startup_hook_type prev_shmem_startup = NULL;

static void
wake_shmem_request(void)
{
	if (prev_shmem_request)
		prev_shmem_request();
	RequestAddinShmemSpace(MAXALIGN(sizeof(WakeShared)));
}

static void
wake_shmem_startup(void)
{
	bool		found;

	if (prev_shmem_startup)
		prev_shmem_startup();
	LWLockAcquire(AddinShmemInitLock, LW_EXCLUSIVE);
	wake = ShmemInitStruct("jwt issuers", sizeof(WakeShared), &found);
	if (!found)
	{
		memset(wake, 0, sizeof(WakeShared));
		SpinLockInit(&wake->mutex);
	}
	LWLockRelease(AddinShmemInitLock);
}

void
jwt_wake_init(void)
{
	BackgroundWorker w;

	if (!process_shared_preload_libraries_in_progress)
		return;
	prev_shmem_request = shmem_request_hook;
	shmem_request_hook = wake_shmem_request;
	prev_shmem_startup = shmem_startup_hook;
	shmem_startup_hook = wake_shmem_startup;

	memset(&w, 0, sizeof(w));
	w.bgw_flags = BGWORKER_SHMEM_ACCESS | BGWORKER_BACKEND_DATABASE_CONNECTION;
	/* on a primary only: a standby verifies with what its primary stored */
	w.bgw_start_time = BgWorkerStart_RecoveryFinished;
	w.bgw_restart_time = 10;
	snprintf(w.bgw_library_name, BGW_MAXLEN, "jwt_fetch");
	snprintf(w.bgw_function_name, BGW_MAXLEN, "jwt_fetch_launcher_main");
	snprintf(w.bgw_name, BGW_MAXLEN, "jwt issuers launcher");
	snprintf(w.bgw_type, BGW_MAXLEN, "jwt issuers launcher");
	RegisterBackgroundWorker(&w);
}

uint64
jwt_wake_hash(const char *s, size_t len)
{
	return hash_bytes_extended((const unsigned char *) s, (int) len, 0);
}

/*
 * The database's slot, made when asked: a free one, else one whose database
 * was found idle (without the extension or issuers); NULL when there is
 * none.  Under the lock.
 */
static WakeDb *
db_slot(Oid db, bool make)
{
	WakeDb	   *free_slot = NULL;
	WakeDb	   *idle_slot = NULL;

	for (int i = 0; i < WAKE_DBS; i++)
	{
		if (wake->dbs[i].db == db)
			return &wake->dbs[i];
		if (free_slot == NULL && wake->dbs[i].db == InvalidOid)
			free_slot = &wake->dbs[i];
		if (idle_slot == NULL && wake->dbs[i].db != InvalidOid && wake->dbs[i].idle)
			idle_slot = &wake->dbs[i];
	}
	if (free_slot == NULL)
		free_slot = idle_slot;
	if (!make || free_slot == NULL)
		return NULL;
	memset(free_slot, 0, sizeof(*free_slot));
	free_slot->db = db;
	free_slot->next_due = DT_NOBEGIN;	/* due: never looked at */
	return free_slot;
}

/*
 * Whether the wake was passed on (a launcher runs, no wake for it in 30 s).
 * The issuer is a registered one's name (the caller checked): so the
 * cooldowns and wakes[] hold only real issuers, which a stream of made-up
 * names can neither fill nor turn into "every issuer".
 */
static bool
wake_issuer(const char *issuer, size_t len)
{
	uint64		h;
	TimestampTz now;
	int			slot = -1;
	int			oldest = 0;
	WakeDb	   *d;
	Latch	   *latch;

	if (wake == NULL || !OidIsValid(MyDatabaseId))
		return false;
	h = jwt_wake_hash(issuer, len);
	now = GetCurrentTimestamp();

	SpinLockAcquire(&wake->mutex);
	if (wake->launcher_pid == 0)
	{
		SpinLockRelease(&wake->mutex);
		return false;
	}
	for (int i = 0; i < WAKE_COOLDOWNS; i++)
	{
		WakeCooldown *c = &wake->cooldown[i];

		if (c->db == MyDatabaseId && c->hash == h)
		{
			if (!TimestampDifferenceExceeds(c->at, now, JWT_WAKE_COOLDOWN_SECS * 1000))
			{
				SpinLockRelease(&wake->mutex);
				return false;
			}
			slot = i;
			break;
		}
		if (c->at < wake->cooldown[oldest].at)
			oldest = i;
	}
	if (slot < 0)
		slot = oldest;
	wake->cooldown[slot].db = MyDatabaseId;
	wake->cooldown[slot].hash = h;
	wake->cooldown[slot].at = now;
	d = db_slot(MyDatabaseId, true);
	if (d != NULL)
	{
		bool		known = false;

		d->idle = false;
		for (int i = 0; i < d->nwakes; i++)
			known |= d->wakes[i] == h;
		if (!known && d->nwakes < WAKE_PER_DB)
			d->wakes[d->nwakes++] = h;
		else if (!known)
			d->all = true;
	}
	latch = wake->launcher_latch;
	SpinLockRelease(&wake->mutex);
	if (d == NULL)
		return false;
	SetLatch(latch);
	return true;
}

void
jwt_issuers_wake(const char *issuer)
{
	(void) wake_issuer(issuer, strlen(issuer));
}

bool
jwt_issuers_worker_running(void)
{
	bool		running;

	if (wake == NULL)
		return false;
	SpinLockAcquire(&wake->mutex);
	running = wake->launcher_pid != 0;
	SpinLockRelease(&wake->mutex);
	return running;
}

/* ------------------------------------------------ for the launcher and workers */

bool
jwt_wake_launcher_attach(void)
{
	bool		ok = false;

	if (wake == NULL)
		return false;
	SpinLockAcquire(&wake->mutex);
	if (wake->launcher_pid == 0)
	{
		wake->launcher_pid = MyProcPid;
		wake->launcher_latch = MyLatch;
		ok = true;
	}
	SpinLockRelease(&wake->mutex);
	return ok;
}

void
jwt_wake_launcher_detach(void)
{
	if (wake == NULL)
		return;
	SpinLockAcquire(&wake->mutex);
	if (wake->launcher_pid == MyProcPid)
	{
		wake->launcher_pid = 0;
		wake->launcher_latch = NULL;
	}
	SpinLockRelease(&wake->mutex);
}

int
jwt_wake_databases(const Oid *dbs, int n, const bool *candidate, Oid *unserved)
{
	int			nunserved = 0;

	if (wake == NULL)
		return 0;
	SpinLockAcquire(&wake->mutex);
	for (int i = 0; i < WAKE_DBS; i++)
	{
		bool		present = false;

		for (int j = 0; j < n && !present; j++)
			present = wake->dbs[i].db == dbs[j];
		if (!present)
			wake->dbs[i].db = InvalidOid;
	}
	for (int j = 0; j < n; j++)
		if (candidate[j] && db_slot(dbs[j], true) == NULL)
			unserved[nunserved++] = dbs[j];
	SpinLockRelease(&wake->mutex);
	return nunserved;
}

void
jwt_wake_idle(Oid db)
{
	WakeDb	   *d;

	if (wake == NULL)
		return;
	SpinLockAcquire(&wake->mutex);
	d = db_slot(db, false);
	if (d != NULL)
		d->idle = true;
	SpinLockRelease(&wake->mutex);
}

Oid
jwt_wake_next(TimestampTz now, TimestampTz *until)
{
	Oid			due = InvalidOid;

	*until = DT_NOEND;
	if (wake == NULL)
		return InvalidOid;
	SpinLockAcquire(&wake->mutex);
	/*
	 * Round robin from where the last pick left off, over the databases woken
	 * or due: one woken again and again cannot keep the others' scheduled
	 * fetches (or wakes) waiting.
	 */
	for (int k = 0; k < WAKE_DBS && !OidIsValid(due); k++)
	{
		int			i = (wake->next_rr + k) % WAKE_DBS;
		WakeDb	   *d = &wake->dbs[i];

		if (d->db != InvalidOid && (d->nwakes > 0 || d->all || d->next_due <= now))
		{
			due = d->db;
			wake->next_rr = (i + 1) % WAKE_DBS;
		}
	}
	if (!OidIsValid(due))
	{
		TimestampTz first = DT_NOEND;

		for (int i = 0; i < WAKE_DBS; i++)
			if (wake->dbs[i].db != InvalidOid && wake->dbs[i].next_due < first)
				first = wake->dbs[i].next_due;
		*until = first;
	}
	SpinLockRelease(&wake->mutex);
	return due;
}

int
jwt_wake_take(Oid db, uint64 *hashes, int max, bool *all)
{
	WakeDb	   *d;
	int			n = 0;

	*all = false;
	if (wake == NULL)
		return 0;
	SpinLockAcquire(&wake->mutex);
	d = db_slot(db, false);
	if (d != NULL)
	{
		n = Min(d->nwakes, max);
		memcpy(hashes, d->wakes, n * sizeof(uint64));
		*all = d->all || d->nwakes > max;
		d->nwakes = 0;
		d->all = false;
	}
	SpinLockRelease(&wake->mutex);
	return n;
}

void
jwt_wake_schedule(Oid db, TimestampTz next_due)
{
	WakeDb	   *d;
	Latch	   *latch = NULL;

	if (wake == NULL)
		return;
	SpinLockAcquire(&wake->mutex);
	d = db_slot(db, false);
	/* the launcher recomputes its wait when a database comes due earlier, or is new to it */
	if (d == NULL || next_due < d->next_due)
		latch = wake->launcher_latch;
	if (d == NULL)
		d = db_slot(db, true);
	if (d != NULL)
	{
		d->next_due = next_due;
		d->idle = false;		/* whoever schedules it found issuers there */
	}
	SpinLockRelease(&wake->mutex);
	if (latch != NULL)
		SetLatch(latch);
}

/* ------------------------------------------------ SQL */

/* jwt_issuers_worker_running(): whether the launcher runs (the status view shows it). */
Datum
jwt_issuers_worker_running_sql(PG_FUNCTION_ARGS)
{
	PG_RETURN_BOOL(jwt_issuers_worker_running());
}

/*
 * jwt_wake_issuer(issuer) → whether the background worker was asked to
 * fetch the issuer's keys now: false without a worker, for a name no
 * registered issuer has (as its name or an alias), or within 30 s of the
 * issuer's last wake.
 */
Datum
jwt_wake_issuer(PG_FUNCTION_ARGS)
{
	text	   *name = PG_GETARG_TEXT_PP(0);
	const char *issuer;

	if (wake == NULL)
		PG_RETURN_BOOL(false);
	/* a registered issuer's name or alias only, woken as the issuer's name */
	jwt_registry_for_statement(fcinfo);
	issuer = jwt_issuer_name_of(VARDATA_ANY(name), VARSIZE_ANY_EXHDR(name));
	if (issuer == NULL)
		PG_RETURN_BOOL(false);
	PG_RETURN_BOOL(wake_issuer(issuer, strlen(issuer)));
}
