/*
 * compat.h
 *		Differences between the PostgreSQL versions the glue builds against
 *		(15 to 19), each behind PG_VERSION_NUM with the change it follows.
 */
#ifndef JWT_COMPAT_H
#define JWT_COMPAT_H

#include "access/tableam.h"
#include "utils/guc.h"
#include "utils/guc_tables.h"
#include "utils/jsonb.h"

/* 15: MarkGUCPrefixReserved() (upstream 88103567cb) is what _PG_init calls */
#if PG_VERSION_NUM < 150000
#error "jwt needs PostgreSQL 15 or later"
#endif

/* 16: a check hook's extra is guc_malloc'd, not malloc'd (upstream 407b50f2d4) */
#if PG_VERSION_NUM >= 160000
#define jwt_guc_extra_malloc(size) guc_malloc(LOG, (size))
#else
#define jwt_guc_extra_malloc(size) malloc(size)
#endif

/* 19: table_beginscan() takes scan flags (upstream dcd8cc1c85) */
#if PG_VERSION_NUM >= 190000
#define jwt_table_beginscan(rel, snap) table_beginscan((rel), (snap), 0, NULL, SO_NONE)
#else
#define jwt_table_beginscan(rel, snap) table_beginscan((rel), (snap), 0, NULL)
#endif

/* 18: pg_noreturn, before a declaration, replaces pg_attribute_noreturn() (upstream 3691edfab9) */
#if PG_VERSION_NUM >= 180000
#define jwt_noreturn pg_noreturn
#else
#define jwt_noreturn pg_attribute_noreturn()
#endif

/* 17: PGPROC's lxid moved into vxid (upstream 28f3915b73) */
#if PG_VERSION_NUM >= 170000
#define jwt_my_lxid() (MyProc->vxid.lxid)
#else
#define jwt_my_lxid() (MyProc->lxid)
#endif

/* 16: get_guc_variables() returns the count too (upstream 3057465acf) */
#if PG_VERSION_NUM >= 160000
#define jwt_guc_variables(n) get_guc_variables(n)
#else
#define jwt_guc_variables(n) (*(n) = GetNumConfigOptions(), get_guc_variables())
#endif

/* 19: AssertVariableIsOfType() is called StaticAssertVariableIsOfType() */
#if PG_VERSION_NUM >= 190000
#define jwt_assert_variable_is_of_type(v, t) StaticAssertVariableIsOfType(v, t)
#else
#define jwt_assert_variable_is_of_type(v, t) AssertVariableIsOfType(v, t)
#endif

#endif							/* JWT_COMPAT_H */
