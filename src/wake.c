/*
 * wake.c
 *		Waking the background worker that refreshes the issuers' key sets.
 *
 * A stub; the fetch branch provides the real one (shared memory, the
 * per-issuer cooldown and the worker's latch).  Until then no worker runs
 * and a wake does nothing.
 */
#include "postgres.h"

#include "wake.h"

void
jwt_issuers_wake(const char *issuer)
{
	(void) issuer;
}

bool
jwt_issuers_worker_running(void)
{
	return false;
}
