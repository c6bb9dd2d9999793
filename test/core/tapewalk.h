/*
 * tapewalk.h
 *		The shape check of a JSON tape (jose_json_tape) that the core tests
 *		and the JSON fuzzer share: one walk, so that the two cannot come to
 *		disagree about what a well-formed tape is.
 *
 * Copyright (c) 2026, the jwt for PostgreSQL developers.  PostgreSQL licence.
 */
#ifndef TAPEWALK_H
#define TAPEWALK_H

#include <stddef.h>

#include "core/jose.h"

/*
 * Walk a tape from node at: every node's end is past its own, a container's
 * contents are exactly count values (names, strings, before an object's
 * values), and they end where the container says.  The end, or 0 when the
 * tape is inconsistent.  Recursive: the tapes walked come from the parser,
 * which bounds the depth (JOSE_JSON_TAPE_MAX_DEPTH at most).
 */
static inline size_t
tape_walk(const jose_json_tape *t, size_t at)
{
	const jose_json_node *node;
	size_t		next,
				kids;

	if (at >= t->n)
		return 0;
	node = &t->nodes[at];
	next = at + 1;
	if (node->v.type != JOSE_JSON_OBJECT && node->v.type != JOSE_JSON_ARRAY)
		return node->end == next && node->count == 0 ? next : 0;
	kids = node->v.type == JOSE_JSON_OBJECT ? 2 * node->count : node->count;
	for (size_t k = 0; k < kids; k++)
	{
		if (node->v.type == JOSE_JSON_OBJECT && k % 2 == 0 &&
			(next >= t->n || t->nodes[next].v.type != JOSE_JSON_STRING))
			return 0;
		if ((next = tape_walk(t, next)) == 0)
			return 0;
	}
	return next == node->end ? next : 0;
}

#endif							/* TAPEWALK_H */
