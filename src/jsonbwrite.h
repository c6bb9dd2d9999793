/*
 * jsonbwrite.h
 *		A JSON value as a small tree of nodes, and its jsonb.
 *
 * jsonin.c makes the tree from text that src/core has validated;
 * jsonbwrite.c writes it in jsonb's on-disk layout.  The nodes point into
 * the text and into values made in the current memory context, so the tree
 * lives as long as both.
 */
#ifndef JWT_JSONBWRITE_H
#define JWT_JSONBWRITE_H

#include "utils/jsonb.h"
#include "utils/memutils.h"
#include "utils/numeric.h"

typedef enum jwt_jnode_kind
{
	JWT_JN_STRING,
	JWT_JN_NUMERIC,
	JWT_JN_TRUE,
	JWT_JN_FALSE,
	JWT_JN_NULL,
	JWT_JN_ARRAY,
	JWT_JN_OBJECT
} jwt_jnode_kind;

typedef struct jwt_jnode
{
	uint8		kind;			/* jwt_jnode_kind */
	int32		n;				/* a string's bytes; a container's elements or members */
	union
	{
		const char *str;		/* JWT_JN_STRING: n bytes, decoded */
		Numeric		num;		/* JWT_JN_NUMERIC */

		/*
		 * An array's n elements; an object's n members as 2n nodes, each
		 * name (a string) followed by its value, in the order of the text
		 */
		struct jwt_jnode *kids;
	}			u;
} jwt_jnode;

/* The most elements or members one container may have, as pushJsonbValue has them. */
#define JWT_JSONB_MAX_ELEMS Min(MaxAllocSize / sizeof(JsonbValue), (Size) JB_CMASK)
#define JWT_JSONB_MAX_PAIRS Min(MaxAllocSize / sizeof(JsonbPair), (Size) JB_CMASK)

/*
 * An object or array as jsonb, laid out exactly as PostgreSQL's
 * JsonbValueToJsonb lays out the same value: members sorted by length then
 * bytes, the last of two equal names kept.  Sorts the objects' members in
 * place.  estimate is what the caller reckons the jsonb's size to be, at
 * most: the buffer starts that large, and grows only if it was wrong.
 */
extern Jsonb *jwt_jsonb_write(jwt_jnode *root, size_t estimate);

/* The most a node adds to a jsonb beyond its bytes: JEntry, padding, header. */
#define JWT_JNODE_OVERHEAD	(sizeof(JEntry) + 3 + sizeof(uint32))

#endif							/* JWT_JSONBWRITE_H */
