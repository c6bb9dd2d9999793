/*
 * wake.h
 *		The background worker as the session path sees it (src/wake.c).
 */
#ifndef JWT_WAKE_H
#define JWT_WAKE_H

/*
 * Ask the background worker to fetch this issuer's keys now (a token named
 * it with a kid its stored keys lack): at most once per 30 s per issuer and
 * database; a no-op without shared_preload_libraries = 'jwt'.
 */
extern void jwt_issuers_wake(const char *issuer);

/* Whether the background worker's launcher is running. */
extern bool jwt_issuers_worker_running(void);

#endif							/* JWT_WAKE_H */
