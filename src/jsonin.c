/*
 * jsonin.c
 *		JSON that src/core has parsed, as jsonb.
 *
 * A token's payload is parsed strictly by src/core before anything is
 * believed (json.c: UTF-8, escapes, depth, numbers, duplicate names).
 * Handing the same text to jsonb_in would parse it a second time with the
 * general lexer, which checks all of that again; on an HS256 token that
 * second parse was most of jwt_verify's time.  The core's parse records
 * every value on a tape instead (jose_json_tape: spans into the text, in
 * the order of the text, each container with its count and the end of its
 * contents), and jsonbwrite.c writes the tape as jsonb, sorting each
 * object's names and keeping the last of two equal ones as jsonb_in does,
 * so the jsonb is the same, byte for byte (test/jsonin.py compares them).
 * The text is read once, by the core.
 *
 * Only a UTF8 database takes this path.  In any other the text is converted
 * to the server's encoding and given to jsonb_in, whose errors for a
 * character the encoding lacks (22P05) are then the ones users see.
 */
#include "postgres.h"

#include "mb/pg_wchar.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/fmgrprotos.h"
#include "utils/jsonb.h"

#include "jsonbwrite.h"
#include "jwt.h"

/* The text broke a promise src/core made about it: never user input. */
static pg_noinline void
not_validated(void)
{
	elog(ERROR, "jwt: JSON text given to jwt_json_to_jsonb was not validated");
}

/*
 * The jsonb's size, at most: the text's bytes (which hold every string's
 * and number's), and what each node adds to them.
 */
static size_t
estimate_of(const jose_json_node *nodes, size_t n)
{
	return VARHDRSZ + nodes[0].v.len + n * JWT_JNODE_OVERHEAD;
}

/*
 * The tape of an object or array that src/core parsed, as jsonb; the tape
 * is freed, whatever happens.  The text it points into must be UTF-8 in a
 * UTF8 database (the caller sees to it) and live until this returns.
 *
 * A tape longer than its inline nodes is in memory of the core's (malloc),
 * which an error here would leak: it is moved into the memory context
 * first, so that an error (a cancel, a limit) frees it with the rest.
 */
Jsonb *
jwt_tape_to_jsonb(jose_json_tape *tape)
{
	jose_json_node *nodes = tape->nodes;
	size_t		n = tape->n;
	Jsonb	   *result;

	Assert(GetDatabaseEncoding() == PG_UTF8);
	if (n == 0)
	{
		jose_json_tape_free(tape);
		not_validated();
	}
	if (nodes != tape->inline_nodes)
	{
		nodes = palloc_extended(sizeof(jose_json_node) * n,
								MCXT_ALLOC_HUGE | MCXT_ALLOC_NO_OOM);
		if (nodes != NULL)
			memcpy(nodes, tape->nodes, sizeof(jose_json_node) * n);
		jose_json_tape_free(tape);
		if (nodes == NULL)
			ereport(ERROR,
					(errcode(ERRCODE_OUT_OF_MEMORY),
					 errmsg("out of memory")));
		result = jwt_jsonb_write(nodes, n, estimate_of(nodes, n));
		pfree(nodes);
		return result;
	}
	result = jwt_jsonb_write(nodes, n, estimate_of(nodes, n));
	jose_json_tape_free(tape);
	return result;
}

/*
 * JSON text that src/core has validated (or that the extension wrote), as
 * jsonb.  The text is UTF-8; in a database of another encoding it is
 * converted first, which raises an error for characters that encoding lacks
 * rather than storing them wrongly.
 */
Datum
jwt_json_to_jsonb(const char *json, size_t len)
{
	jose_json_tape tape;
	jose_json_error err;
	size_t		pos = 0;
	Jsonb	   *result;

	while (pos < len && (json[pos] == ' ' || json[pos] == '\t' ||
						 json[pos] == '\n' || json[pos] == '\r'))
		pos++;

	/* another encoding, or a scalar (jsonb_in wraps it in a raw-scalar array) */
	if (GetDatabaseEncoding() != PG_UTF8 ||
		pos >= len || (json[pos] != '{' && json[pos] != '['))
	{
		char	   *cstr = pnstrdup(json, len);

		if (GetDatabaseEncoding() != PG_UTF8)
			cstr = pg_any_to_server(cstr, (int) len, PG_UTF8);
		return DirectFunctionCall1(jsonb_in, CStringGetDatum(cstr));
	}

	/*
	 * The text is validated JSON, or wraps such in one object of the
	 * extension's (jwt_decode's {"header": ..., "payload": ...}): one level
	 * deeper than src/core lets a token's JSON go.
	 */
	jose_json_tape_init(&tape);
	err = jose_json_parse_tape(json, len, &jwt_stop, JOSE_JSON_MAX_DEPTH + 1, &tape);
	if (err != JOSE_JSON_OK)
	{
		jose_json_tape_free(&tape);
		if (err == JOSE_JSON_INTERRUPTED)
			jwt_report(JOSE_E_INTERRUPTED, NULL);
		if (err == JOSE_JSON_NOMEM)
			jwt_report(JOSE_E_NOMEM, NULL);
		not_validated();
	}
	result = jwt_tape_to_jsonb(&tape);
	return JsonbPGetDatum(result);
}
