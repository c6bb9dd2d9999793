/*
 * module.c
 *		jwt_fetch.so's entry: what it reaches in jwt.so.
 *
 * jwt_fetch.so is not linked against jwt.so.  PostgreSQL loads libraries
 * with dlopen(RTLD_NOW), so an undefined reference to jwt.so would fail
 * the load whenever jwt.so happened not to be loaded yet; instead, as
 * PostgreSQL's transform modules reach the modules they join, _PG_init
 * looks the functions up with load_external_function(), which loads jwt.so
 * first (its _PG_init defines the jwt.* settings this library reads).
 */
#include "postgres.h"

#include "fmgr.h"

#include "fetch.h"

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
	AssertVariableIsOfType(&jwt_admin_begin_ext, __typeof__(jwtlib.admin_begin_ext));
	AssertVariableIsOfType(&jwt_admin_exec, __typeof__(jwtlib.admin_exec));
	AssertVariableIsOfType(&jwt_admin_end, __typeof__(jwtlib.admin_end));
	AssertVariableIsOfType(&jwt_extension_owner, __typeof__(jwtlib.extension_owner));

	jwtlib.admin_begin_ext = jwt_symbol("jwt_admin_begin_ext");
	jwtlib.admin_exec = jwt_symbol("jwt_admin_exec");
	jwtlib.admin_end = jwt_symbol("jwt_admin_end");
	jwtlib.extension_owner = jwt_symbol("jwt_extension_owner");
}
