/*
 * testutil.h
 *		The few helpers shared by the core test program's files: counted
 *		checks that print a line naming every check that fails.
 *
 * Copyright (c) 2026, the jwt for PostgreSQL developers.  PostgreSQL licence.
 */
#ifndef TESTUTIL_H
#define TESTUTIL_H

#include <stdbool.h>
#include <stddef.h>

#include "core/jose.h"

#if defined(__GNUC__) || defined(__clang__)
#define T_PRINTF(fmt, first) __attribute__((format(printf, fmt, first)))
#else
#define T_PRINTF(fmt, first)
#endif

/* A string literal and its length, for literals that may hold NUL bytes. */
#define LIT(s)	(s), (sizeof(s) - 1)

extern void t_setup(int ok, const char *file, int line, const char *fmt, ...) T_PRINTF(4, 5);
extern void t_check(int ok, const char *file, int line, const char *fmt, ...) T_PRINTF(4, 5);
extern void t_check_status(jose_status got, jose_status want, const char *file,
						   int line, const char *fmt, ...) T_PRINTF(5, 6);
extern void t_check_json(jose_json_error got, jose_json_error want, const char *file,
						 int line, const char *fmt, ...) T_PRINTF(5, 6);

extern const char *t_status_name(jose_status st);
extern const char *t_json_error_name(jose_json_error err);

/* CHECK(condition, "name", ...): one counted check. */
#define CHECK(cond, ...) \
	t_check((cond) ? 1 : 0, __FILE__, __LINE__, __VA_ARGS__)
/* SETUP(condition, "name", ...): a fixture or setup step, not counted as a
 * check; its failure fails the run. */
#define SETUP(cond, ...) \
	t_setup((cond) ? 1 : 0, __FILE__, __LINE__, __VA_ARGS__)
/* CHECK_ST(got, want, "name", ...): a jose_status equals the one expected. */
#define CHECK_ST(got, want, ...) \
	t_check_status((got), (want), __FILE__, __LINE__, __VA_ARGS__)
/* CHECK_JSON(got, want, "name", ...): a jose_json_error equals the one expected. */
#define CHECK_JSON(got, want, ...) \
	t_check_json((got), (want), __FILE__, __LINE__, __VA_ARGS__)

/* vectors.c: RFC 7520 section 4.4 and RFC 7515 A.1, read at run time;
 * false when the vectors folder is absent (nothing was run). */
extern bool test_vectors(void);

/* mutants.c: the checks test/mutation.py showed missing. */
extern void test_mutants(void);

#endif							/* TESTUTIL_H */
