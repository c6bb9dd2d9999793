/*
 * jwt.c
 *		Module entry: the settings, the cache callbacks and, when preloaded,
 *		the background worker that fetches identity providers' keys.
 */
#include "postgres.h"

#include "fmgr.h"
#include "utils/guc.h"
#include "utils/guc_tables.h"

#include "compat.h"
#include "jwt.h"
#include "wake_shmem.h"

PG_MODULE_MAGIC;

void		_PG_init(void);

/*
 * Warn of the jwt.* settings that were set before the library loaded and
 * that it does not define: a misspelt policy setting (jwt.audiance) would
 * otherwise go unnoticed.  Only one-part names are ours: jwt.claims.user_id
 * and every other dotted name belong to applications (PostGraphile and many
 * RLS recipes pass claims in jwt.claims.*), so the prefix is not reserved.
 */
static void
warn_unknown_settings(void)
{
	struct config_generic **vars;
	int			n;

	vars = jwt_guc_variables(&n);
	for (int i = 0; i < n; i++)
	{
		const char *name = vars[i]->name;

		if ((vars[i]->flags & GUC_CUSTOM_PLACEHOLDER) &&
			pg_strncasecmp(name, "jwt.", 4) == 0 && strchr(name + 4, '.') == NULL)
			ereport(WARNING,
					(errcode(ERRCODE_UNDEFINED_OBJECT),
					 errmsg("unrecognized configuration parameter \"%s\"", name),
					 errdetail("The jwt extension defines no such setting; it is ignored."),
					 errhint("Check the spelling against SHOW ALL or the README's list of settings.")));
	}
}

void
_PG_init(void)
{
	jwt_define_settings();
	jwt_statement_init();
	jwt_registry_register_callbacks();
	/* [issuers] with shared_preload_libraries: the worker's shared memory and launcher */
	jwt_wake_init();

	warn_unknown_settings();
}
