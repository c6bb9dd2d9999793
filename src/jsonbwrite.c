/*
 * jsonbwrite.c
 *		A tree of JSON nodes (jsonbwrite.h) in jsonb's on-disk layout.
 *
 * jsonb stores a container as a header word (count and kind), one JEntry
 * per element (for an object: every name's, then every value's), then the
 * elements' bytes in the same order.  A JEntry holds the element's type and
 * its length, or at every JB_OFFSET_STRIDE'th element the end offset
 * instead; numbers and nested containers start on a 4-byte boundary, the
 * padding counted as part of them.  An object's names are sorted by length,
 * then by their bytes, and of two equal names only the last is kept.
 * (src/include/utils/jsonb.h describes the layout; jsonb_util.c writes it.)
 *
 * PostgreSQL writes this from a tree of JsonbValues built one token at a
 * time by pushJsonbValue(); writing it here from the jwt_jnode tree that
 * jsonin.c made in one walk of the text costs a fraction of that.  The
 * result is the same, byte for byte, as jsonb_in's (test/jsonin.py
 * compares the stored bytes), and it is refused with the same errors when
 * a count or a length passes what jsonb can hold (the counts and a
 * string's length are checked as jsonin.c reads them, the totals here).
 */
#include "postgres.h"

#include "lib/stringinfo.h"
#include "miscadmin.h"
#include "utils/jsonb.h"
#include "utils/memutils.h"

#include "jsonbwrite.h"

/* How many values between two checks for a cancel. */
#define WRITE_INTERRUPT_EVERY 256

/* Objects of up to this many members are sorted by insertion, in place. */
#define SORT_BY_INSERTION	16

typedef struct writer
{
	StringInfoData buf;
	unsigned	values;
} writer;

/* jsonb's order of names: shorter first, then by bytes. */
static inline int
name_cmp(const jwt_jnode *a, const jwt_jnode *b)
{
	if (a->n != b->n)
		return a->n > b->n ? 1 : -1;
	/* claim names are short: compare them here rather than call memcmp */
	if (a->n <= 8)
	{
		const unsigned char *x = (const unsigned char *) a->u.str;
		const unsigned char *y = (const unsigned char *) b->u.str;

		for (int32 i = 0; i < a->n; i++)
			if (x[i] != y[i])
				return x[i] > y[i] ? 1 : -1;
		return 0;
	}
	return memcmp(a->u.str, b->u.str, a->n);
}

typedef struct ranked
{
	jwt_jnode  *pair;			/* the name; the value follows it */
	int32		place;			/* in the text */
} ranked;

static int
ranked_cmp(const void *a, const void *b)
{
	const ranked *ra = (const ranked *) a;
	const ranked *rb = (const ranked *) b;
	int			c = name_cmp(ra->pair, rb->pair);

	if (c != 0)
		return c;
	return ra->place > rb->place ? 1 : -1;
}

/*
 * An object's members in jsonb's order, stably (two equal names keep the
 * order of the text), then the last of each run of equal names kept.
 */
static void
sort_members(jwt_jnode *obj)
{
	jwt_jnode  *m = obj->u.kids;
	int32		n = obj->n;
	int32		out;

	if (n < 2)
		return;
	if (n <= SORT_BY_INSERTION)
	{
		for (int32 i = 1; i < n; i++)
		{
			jwt_jnode	name = m[2 * i],
						value = m[2 * i + 1];
			int32		j = i;

			while (j > 0 && name_cmp(&m[2 * (j - 1)], &name) > 0)
			{
				m[2 * j] = m[2 * (j - 1)];
				m[2 * j + 1] = m[2 * (j - 1) + 1];
				j--;
			}
			m[2 * j] = name;
			m[2 * j + 1] = value;
		}
	}
	else
	{
		ranked	   *r = palloc_extended(sizeof(ranked) * (Size) n, MCXT_ALLOC_HUGE);
		jwt_jnode  *sorted = palloc_extended(sizeof(jwt_jnode) * 2 * (Size) n,
											 MCXT_ALLOC_HUGE);

		for (int32 i = 0; i < n; i++)
		{
			r[i].pair = &m[2 * i];
			r[i].place = i;
		}
		qsort(r, n, sizeof(ranked), ranked_cmp);
		for (int32 i = 0; i < n; i++)
		{
			sorted[2 * i] = r[i].pair[0];
			sorted[2 * i + 1] = r[i].pair[1];
		}
		pfree(r);
		pfree(m);
		obj->u.kids = m = sorted;
	}

	/* of equal names, the last in the text wins, as in jsonb_in */
	out = 0;
	for (int32 i = 1; i < n; i++)
	{
		if (name_cmp(&m[2 * i], &m[2 * out]) != 0)
			out++;
		if (out != i)
		{
			m[2 * out] = m[2 * i];
			m[2 * out + 1] = m[2 * i + 1];
		}
	}
	obj->n = out + 1;
}

static inline int
reserve(writer *w, int len)
{
	int			at;

	/* the buffer is made as large as the caller's estimate: rarely taken */
	if (unlikely(w->buf.maxlen - w->buf.len <= len))
		enlargeStringInfo(&w->buf, len);
	at = w->buf.len;
	w->buf.len += len;
	return at;
}

static inline void
append(writer *w, const void *data, int len)
{
	int			at = reserve(w, len);

	memcpy(w->buf.data + at, data, len);
}

/* Zeros up to the next 4-byte boundary; how many. */
static inline int
pad_to_int(writer *w)
{
	int			pad = INTALIGN(w->buf.len) - w->buf.len;
	int			at = reserve(w, pad);

	memset(w->buf.data + at, 0, pad);
	return pad;
}

static pg_noinline void
too_long(bool object)
{
	ereport(ERROR,
			(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
			 errmsg(object ?
					"total size of jsonb object elements exceeds the maximum of %u bytes" :
					"total size of jsonb array elements exceeds the maximum of %u bytes",
					JENTRY_OFFLENMASK)));
}

static JEntry write_value(writer *w, jwt_jnode *v);

/*
 * One JEntry of a container: the element's type and length, or at every
 * JB_OFFSET_STRIDE'th the end offset (*total, the bytes so far).
 */
static inline JEntry
entry_of(JEntry e, int place, uint32 *total, bool object)
{
	*total += JBE_OFFLENFLD(e);
	if (*total > JENTRY_OFFLENMASK)
		too_long(object);
	if (place % JB_OFFSET_STRIDE == 0)
		e = (e & JENTRY_TYPEMASK) | *total | JENTRY_HAS_OFF;
	return e;
}

static JEntry
write_container(writer *w, jwt_jnode *c)
{
	bool		object = c->kind == JWT_JN_OBJECT;
	int			base = w->buf.len;
	int			nentries;
	int			entries;
	uint32		header;
	uint32		total = 0;

	check_stack_depth();
	if (object)
		sort_members(c);
	nentries = object ? 2 * c->n : c->n;

	pad_to_int(w);
	header = (uint32) c->n | (object ? JB_FOBJECT : JB_FARRAY);
	append(w, &header, sizeof(header));
	entries = reserve(w, (int) sizeof(JEntry) * nentries);

	if (object)
	{
		/* the names, then the values, in the sorted order */
		for (int32 i = 0; i < c->n; i++)
		{
			jwt_jnode  *name = &c->u.kids[2 * i];
			JEntry		e;

			append(w, name->u.str, name->n);
			e = entry_of((JEntry) name->n, i, &total, true);
			memcpy(w->buf.data + entries + sizeof(JEntry) * i, &e, sizeof(e));
		}
		for (int32 i = 0; i < c->n; i++)
		{
			JEntry		e = entry_of(write_value(w, &c->u.kids[2 * i + 1]),
									 i + c->n, &total, true);

			memcpy(w->buf.data + entries + sizeof(JEntry) * (c->n + i), &e, sizeof(e));
		}
	}
	else
	{
		for (int32 i = 0; i < c->n; i++)
		{
			JEntry		e = entry_of(write_value(w, &c->u.kids[i]), i, &total, false);

			memcpy(w->buf.data + entries + sizeof(JEntry) * i, &e, sizeof(e));
		}
	}

	/* the container's own length counts its padding, header and entries */
	if ((uint32) (w->buf.len - base) > JENTRY_OFFLENMASK)
		too_long(object);
	return JENTRY_ISCONTAINER | (uint32) (w->buf.len - base);
}

static JEntry
write_value(writer *w, jwt_jnode *v)
{
	if (++w->values % WRITE_INTERRUPT_EVERY == 0)
		CHECK_FOR_INTERRUPTS();
	switch ((jwt_jnode_kind) v->kind)
	{
		case JWT_JN_STRING:
			append(w, v->u.str, v->n);
			return (JEntry) v->n;
		case JWT_JN_NUMERIC:
			{
				int			len = (int) VARSIZE_ANY(v->u.num);
				int			pad = pad_to_int(w);

				append(w, v->u.num, len);
				return JENTRY_ISNUMERIC | (uint32) (pad + len);
			}
		case JWT_JN_TRUE:
			return JENTRY_ISBOOL_TRUE;
		case JWT_JN_FALSE:
			return JENTRY_ISBOOL_FALSE;
		case JWT_JN_NULL:
			return JENTRY_ISNULL;
		case JWT_JN_ARRAY:
		case JWT_JN_OBJECT:
			return write_container(w, v);
	}
	elog(ERROR, "jwt: unknown JSON node kind %d", v->kind);
	return 0;					/* not reached */
}

Jsonb *
jwt_jsonb_write(jwt_jnode *root, size_t estimate)
{
	writer		w;
	Jsonb	   *res;

	Assert(root->kind == JWT_JN_ARRAY || root->kind == JWT_JN_OBJECT);
	initStringInfo(&w.buf);
	/* a buffer of the estimate's size, unless that is very large */
	if (estimate >= (size_t) w.buf.maxlen && estimate < MaxAllocSize / 4)
		enlargeStringInfo(&w.buf, (int) estimate);
	w.values = 0;
	reserve(&w, VARHDRSZ);
	(void) write_container(&w, root);
	res = (Jsonb *) w.buf.data;
	SET_VARSIZE(res, w.buf.len);
	return res;
}
