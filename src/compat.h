/*
 * compat.h
 *		Differences between the PostgreSQL versions the glue builds against
 *		(15 to 19), each behind PG_VERSION_NUM with the change it follows.
 */
#ifndef JWT_COMPAT_H
#define JWT_COMPAT_H

#include "access/tableam.h"

/* 19: table_beginscan() takes scan flags (upstream dcd8cc1c85) */
#if PG_VERSION_NUM >= 190000
#define jwt_table_beginscan(rel, snap) table_beginscan((rel), (snap), 0, NULL, 0)
#else
#define jwt_table_beginscan(rel, snap) table_beginscan((rel), (snap), 0, NULL)
#endif

/* 17: PGPROC's lxid moved into vxid (upstream 28f3915b73) */
#if PG_VERSION_NUM >= 170000
#define jwt_my_lxid() (MyProc->vxid.lxid)
#else
#define jwt_my_lxid() (MyProc->lxid)
#endif

#endif							/* JWT_COMPAT_H */
