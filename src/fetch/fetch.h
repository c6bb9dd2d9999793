/*
 * fetch.h
 *		Declarations shared by the files of jwt_fetch.so, the fetcher of the
 *		identity providers' keys (see the Makefile for why it is a library of
 *		its own).
 */
#ifndef JWT_FETCH_H
#define JWT_FETCH_H

#include "postgres.h"
#include "fmgr.h"

#include "jwt.h"

/* module.c: what jwt_fetch.so reaches in jwt.so, found when it loads */
typedef struct JwtLib
{
	void		(*admin_begin_ext) (Oid nsp, Oid owner, AdminCall *c);
	uint64		(*admin_exec) (AdminCall *c, const char *sql, int nargs, Oid *types,
							   Datum *values, const char *nulls, int expect);
	void		(*admin_end) (AdminCall *c);
	Oid			(*extension_owner) (Oid fn_oid);
} JwtLib;

extern JwtLib jwtlib;

#endif							/* JWT_FETCH_H */
