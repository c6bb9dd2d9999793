/*
 * module.c
 *		jwt_fetch.so's entry: what it reaches in jwt.so.
 *
 * jwt_fetch.so is not linked against jwt.so.  PostgreSQL loads libraries
 * with RTLD_NOW, so an undefined reference to jwt.so would fail
 * the load whenever jwt.so happened not to be loaded yet; instead, as
 * PostgreSQL's transform modules reach the modules they join, _PG_init
 * looks the functions up with load_external_function(), which loads jwt.so
 * first (its _PG_init defines the jwt.* settings this library reads).
 */
#include "postgres.h"

#include "fmgr.h"

#include "compat.h"
#include "fetch.h"
#include "wake_shmem.h"

PG_MODULE_MAGIC;

void		_PG_init(void);

JwtLib		jwtlib;

static void *
jwt_symbol(const char *name)
{
	return (void *) load_external_function("$libdir/jwt", name, true, NULL);
}

void
_PG_init(void)
{
	/* jwt.h's declarations are the types of the pointers */
	jwt_assert_variable_is_of_type(&jwt_admin_begin_ext, __typeof__(jwtlib.admin_begin_ext));
	jwt_assert_variable_is_of_type(&jwt_admin_exec, __typeof__(jwtlib.admin_exec));
	jwt_assert_variable_is_of_type(&jwt_admin_end, __typeof__(jwtlib.admin_end));
	jwt_assert_variable_is_of_type(&jwt_extension_owner, __typeof__(jwtlib.extension_owner));

	jwt_assert_variable_is_of_type(&jwt_wake_launcher_attach, __typeof__(jwtlib.wake_launcher_attach));
	jwt_assert_variable_is_of_type(&jwt_wake_launcher_detach, __typeof__(jwtlib.wake_launcher_detach));
	jwt_assert_variable_is_of_type(&jwt_wake_databases, __typeof__(jwtlib.wake_databases));
	jwt_assert_variable_is_of_type(&jwt_wake_idle, __typeof__(jwtlib.wake_idle));
	jwt_assert_variable_is_of_type(&jwt_wake_next, __typeof__(jwtlib.wake_next));
	jwt_assert_variable_is_of_type(&jwt_wake_take, __typeof__(jwtlib.wake_take));
	jwt_assert_variable_is_of_type(&jwt_wake_schedule, __typeof__(jwtlib.wake_schedule));
	jwt_assert_variable_is_of_type(&jwt_wake_hash, __typeof__(jwtlib.wake_hash));

	jwtlib.admin_begin_ext = jwt_symbol("jwt_admin_begin_ext");
	jwtlib.admin_exec = jwt_symbol("jwt_admin_exec");
	jwtlib.admin_end = jwt_symbol("jwt_admin_end");
	jwtlib.extension_owner = jwt_symbol("jwt_extension_owner");

	jwtlib.wake_launcher_attach = jwt_symbol("jwt_wake_launcher_attach");
	jwtlib.wake_launcher_detach = jwt_symbol("jwt_wake_launcher_detach");
	jwtlib.wake_databases = jwt_symbol("jwt_wake_databases");
	jwtlib.wake_idle = jwt_symbol("jwt_wake_idle");
	jwtlib.wake_next = jwt_symbol("jwt_wake_next");
	jwtlib.wake_take = jwt_symbol("jwt_wake_take");
	jwtlib.wake_schedule = jwt_symbol("jwt_wake_schedule");
	jwtlib.wake_hash = jwt_symbol("jwt_wake_hash");
}
