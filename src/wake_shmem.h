/*
 * wake_shmem.h
 *		The launcher's shared state in jwt.so (src/wake.c), as the fetcher's
 *		background worker (jwt_fetch.so, which reaches these functions with
 *		load_external_function) and the module's entry see it.
 */
#ifndef JWT_WAKE_SHMEM_H
#define JWT_WAKE_SHMEM_H

#include "utils/timestamp.h"

/* _PG_init: with shared_preload_libraries, the shared memory and the launcher */
extern void jwt_wake_init(void);

/* The launcher: attach (false when another runs), detach at exit. */
extern PGDLLEXPORT bool jwt_wake_launcher_attach(void);
extern PGDLLEXPORT void jwt_wake_launcher_detach(void);
/*
 * The databases there are (the others forgotten); each candidate without a
 * slot gets one (due now), a free one or an idle one's.  Returns how many
 * candidates got none, listed in unserved (room for n).
 */
extern PGDLLEXPORT int jwt_wake_databases(const Oid *dbs, int n, const bool *candidate,
										  Oid *unserved);
/* The database was found without the extension or issuers: its slot may go to another. */
extern PGDLLEXPORT void jwt_wake_idle(Oid db);
/* A database due at now (or woken); else InvalidOid and *until the earliest due. */
extern PGDLLEXPORT Oid jwt_wake_next(TimestampTz now, TimestampTz *until);
/* The issuers woken in a database since the last call, as hashes; *all when too many. */
extern PGDLLEXPORT int jwt_wake_take(Oid db, uint64 *hashes, int max, bool *all);
/* When a database next needs its issuers fetched (DT_NOEND: it has none). */
extern PGDLLEXPORT void jwt_wake_schedule(Oid db, TimestampTz next_due);
/* The hash an issuer's spelling is woken by. */
extern PGDLLEXPORT uint64 jwt_wake_hash(const char *s, size_t len);

#define JWT_WAKE_COOLDOWN_SECS 30
#define JWT_WAKE_DBS 64			/* databases the worker serves at once */

#endif							/* JWT_WAKE_SHMEM_H */
