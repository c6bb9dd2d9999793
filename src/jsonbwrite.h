/*
 * jsonbwrite.h
 *		The values src/core recorded on a tape as it parsed JSON, as jsonb.
 *
 * jsonin.c hands the tape over (jose_json_tape, src/core/jose.h: every
 * value in the order of the text, each container with its count and the
 * end of its contents); jsonbwrite.c writes it in jsonb's on-disk layout.
 * The nodes point into the text, which must be UTF-8 and live until the
 * jsonb is written.
 */
#ifndef JWT_JSONBWRITE_H
#define JWT_JSONBWRITE_H

#include "utils/jsonb.h"
#include "utils/memutils.h"

#include "core/jose.h"

/* The most elements or members one container may have, as pushJsonbValue has them. */
#define JWT_JSONB_MAX_ELEMS Min(MaxAllocSize / sizeof(JsonbValue), (Size) JB_CMASK)
#define JWT_JSONB_MAX_PAIRS Min(MaxAllocSize / sizeof(JsonbPair), (Size) JB_CMASK)

/*
 * The object or array at nodes[0] (n nodes) as jsonb, laid out exactly as
 * PostgreSQL's JsonbValueToJsonb lays out the same value: members sorted by
 * length then bytes, the last of two equal names kept.  estimate is what
 * the caller reckons the jsonb's size to be, at most: the buffer starts
 * that large, and grows only if it was wrong.
 */
extern Jsonb *jwt_jsonb_write(const jose_json_node *nodes, size_t n, size_t estimate);

/*
 * The most a node adds to a jsonb beyond the bytes of its text: JEntry,
 * padding, a container's header, a numeric's header and its digits' worst
 * case (two bytes for every four digits, and one group more).
 */
#define JWT_JNODE_OVERHEAD	(sizeof(JEntry) + 3 + sizeof(uint32) + 8)

#endif							/* JWT_JSONBWRITE_H */
