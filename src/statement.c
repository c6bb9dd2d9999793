/*
 * statement.c
 *		Which statement is running, and its "now": the key (jwt.h's
 *		JwtStatement) under which a call site keeps its answer and the
 *		registry takes in other sessions' invalidations, once per statement.
 *
 * A statement is told apart from the one before it by its start time and by
 * a generation that moves whenever the start time alone would not tell:
 *
 *  - at the end of every transaction, since a procedure (CALL, DO) that
 *	  commits runs many transactions within one statement;
 *  - at the parse analysis of every statement of the top level, since the
 *	  statements of one simple-Query message ("SELECT a; SELECT b", psql's
 *	  \;) share their start time, statement_timestamp() being the time the
 *	  message arrived.  Each is analysed right before it runs, after the one
 *	  before it has finished, so a jti revoked in another session while the
 *	  first ran is seen by the second, as it is by the next statement of
 *	  another message.  A statement nested in a running one (a PL/pgSQL
 *	  function's, its EXECUTE, a SQL function's body, which PostgreSQL may
 *	  analyse on every call, so on every row) is part of that statement and
 *	  does not move it: if it did, the statement's call sites would check
 *	  their answers again on every row.
 *
 * The extended protocol's Bind and Execute messages each start a statement
 * of their own, with a start time of their own.
 */
#include "postgres.h"

#include "access/xact.h"
#include "parser/analyze.h"
#include "tcop/pquery.h"
#include "utils/timestamp.h"

#include "compat.h"
#include "jwt.h"

/* jwt.h's JwtStatement: a new value for every transaction and statement */
uint64		jwt_statement_generation = 1;

static post_parse_analyze_hook_type prev_post_parse_analyze = NULL;

/*
 * "Now" for every time check: the statement's start, or the start of the
 * current transaction when that is later, which it is only in a procedure
 * (CALL, DO) that commits: each transaction it starts has a start time of
 * its own, so tokens expire and keys retire while a long-running queue
 * worker loops.  It is one value throughout a statement's part in one
 * transaction, and the same in parallel workers, which the leader gives
 * both timestamps.
 */
TimestampTz
jwt_now(void)
{
	TimestampTz stmt = GetCurrentStatementStartTimestamp();
	TimestampTz xact = GetCurrentTransactionStartTimestamp();

	return Max(stmt, xact);
}

/*
 * Every end of a transaction (commit, abort, prepare, and their parallel
 * and pre- events: a bump too many only costs a call site one re-check).
 * No call site we know of in PostgreSQL 15 to 18 outlives a transaction
 * (PL/pgSQL builds a simple expression's state again in each, a cursor kept
 * over a commit is read to its end first), and each new transaction takes
 * in the invalidations itself, so no test can tell this bump missing; it
 * keeps the key true of a call site that would.
 */
static void
xact_end(XactEvent event, void *arg)
{
	jwt_statement_generation++;
}

/*
 * Every statement's parse analysis, before it is planned and run.  A
 * statement of the top level is analysed while no portal runs (a simple
 * Query's next statement, a Parse message, a cached plan made again at
 * Bind); a nested one while the portal of the statement it is part of does.
 */
static void
statement_analysed(ParseState *pstate, Query *query, JumbleState *jstate)
{
	/* mutation: statement-new-of-message: if (ActivePortal == NULL) => if (0) */
	if (ActivePortal == NULL)
		jwt_statement_generation++;
	if (prev_post_parse_analyze)
		prev_post_parse_analyze(pstate, query, jstate);
}

void
jwt_statement_init(void)
{
	RegisterXactCallback(xact_end, NULL);
	prev_post_parse_analyze = post_parse_analyze_hook;
	post_parse_analyze_hook = statement_analysed;
}
