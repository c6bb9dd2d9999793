/*
 * jwt.c
 *		Module entry: the settings and the cache callbacks.
 */
#include "postgres.h"

#include "fmgr.h"
#include "utils/guc.h"

#include "compat.h"
#include "jwt.h"

PG_MODULE_MAGIC;

void		_PG_init(void);

void
_PG_init(void)
{
	jwt_define_settings();
	jwt_registry_register_callbacks();

	MarkGUCPrefixReserved("jwt");
}
