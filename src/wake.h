/*
 * wake.h
 *		Waking the background worker that refreshes the issuers' key sets.
 */
#ifndef JWT_WAKE_H
#define JWT_WAKE_H

/*
 * Ask the worker to fetch the key set of issuer now (a token named a kid
 * the stored set does not have).  At most one wake per issuer per cooldown;
 * a no-op when no worker runs (the library is not preloaded).
 */
extern void jwt_issuers_wake(const char *issuer);

/* Whether a worker runs that refreshes the issuers' key sets. */
extern bool jwt_issuers_worker_running(void);

#endif							/* JWT_WAKE_H */
