/*
 * jsonbwrite.c
 *		JSON that src/core parsed onto a tape, in jsonb's on-disk layout.
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
 * time by pushJsonbValue(); here it is written straight from the tape of
 * src/core's parse (jose_json_tape: every value in the order of the text, a
 * container's node before its contents, with their count and end), which
 * costs a fraction of that.  The result is the same, byte for byte, as
 * jsonb_in's (test/jsonin.py compares the stored bytes), and it is refused
 * with the same errors when a count or a length passes what jsonb can hold.
 */
#include "postgres.h"

#include "lib/stringinfo.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/fmgrprotos.h"
#include "utils/jsonb.h"
#include "utils/memutils.h"
#include "utils/numeric.h"

#include "jsonbwrite.h"

/* How many values between two checks for a cancel. */
#define WRITE_INTERRUPT_EVERY 256

/* Objects of up to this many members are sorted by insertion, in place. */
#define SORT_BY_INSERTION	16

typedef struct writer
{
	StringInfoData buf;
	const jose_json_node *nodes;
	size_t		n;
	unsigned	values;
} writer;

/* An object's member: its name, decoded, and where its value is on the tape. */
typedef struct member
{
	const char *name;
	int32		len;
	int32		place;			/* in the text */
	size_t		value;
} member;

/* The tape broke a promise src/core made about it: never user input. */
static pg_noinline void
not_validated(void)
{
	elog(ERROR, "jwt: JSON given to jwt_jsonb_write was not validated");
}

static pg_noinline void
string_too_long(void)
{
	ereport(ERROR,
			(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
			 errmsg("string too long to represent as jsonb string"),
			 errdetail("Due to an implementation restriction, jsonb strings cannot exceed %d bytes.",
					   JENTRY_OFFLENMASK)));
}

/* jsonb's order of names: shorter first, then by bytes. */
static inline int
name_cmp(const member *a, const member *b)
{
	if (a->len != b->len)
		return a->len > b->len ? 1 : -1;
	/* claim names are short: compare them here rather than call memcmp */
	if (a->len <= 8)
	{
		const unsigned char *x = (const unsigned char *) a->name;
		const unsigned char *y = (const unsigned char *) b->name;

		for (int32 i = 0; i < a->len; i++)
			if (x[i] != y[i])
				return x[i] > y[i] ? 1 : -1;
		return 0;
	}
	return memcmp(a->name, b->name, a->len);
}

/* Of equal names, the one later in the text after the other. */
static int
member_cmp(const void *a, const void *b)
{
	const member *ma = (const member *) a;
	const member *mb = (const member *) b;
	int			c = name_cmp(ma, mb);

	if (c != 0)
		return c;
	return ma->place > mb->place ? 1 : -1;
}

/*
 * An object's members in jsonb's order, stably (two equal names keep the
 * order of the text), then the last of each run of equal names kept; how
 * many are kept.
 */
static int32
sort_members(member *m, int32 n)
{
	int32		out;

	if (n < 2)
		return n;
	if (n <= SORT_BY_INSERTION)
	{
		for (int32 i = 1; i < n; i++)
		{
			member		x = m[i];
			int32		j = i;

			while (j > 0 && name_cmp(&m[j - 1], &x) > 0)
			{
				m[j] = m[j - 1];
				j--;
			}
			m[j] = x;
		}
	}
	else
		qsort(m, n, sizeof(member), member_cmp);

	/* of equal names, the last in the text wins, as in jsonb_in */
	out = 0;
	for (int32 i = 1; i < n; i++)
	{
		if (name_cmp(&m[i], &m[out]) != 0)
			out++;
		if (out != i)
			m[out] = m[i];
	}
	return out + 1;
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

static JEntry write_value(writer *w, size_t at);

/* The next node, checked to be on the tape. */
static inline const jose_json_node *
node_at(writer *w, size_t at)
{
	if (at >= w->n)
		not_validated();
	return &w->nodes[at];
}

/* A string node's bytes, decoded; with escapes, in a copy. */
static void
string_of(const jose_json_node *t, const char **str, int32 *len)
{
	size_t		n;

	if (t->v.type != JOSE_JSON_STRING)
		not_validated();
	if (!t->v.escaped)
	{
		n = t->v.len;
		*str = t->v.p;
	}
	else
	{
		char	   *out = palloc(t->v.len + 1);

		n = jose_json_string_decode(&t->v, out);
		*str = out;
	}
	/* jsonb_in's limit on a string, and its error */
	if (n > JENTRY_OFFLENMASK)
		string_too_long();
	*len = (int32) n;
}

/*
 * The numeric of an integer of at most 18 digits, written into out (room
 * for JWT_INT_NUMERIC_MAX bytes), as numeric_in() and make_result() lay it
 * out (numeric.c): the short format, with no display scale; digits in base
 * 10,000, the most significant first, trailing zero digits left out, and
 * the weight (the power of 10,000 of the first digit) in the header; zero
 * has no digits, weight 0 and no sign.  Its length.
 */
#define JWT_NUMERIC_NBASE		10000
#define JWT_NUMERIC_SHORT		0x8000
#define JWT_NUMERIC_SHORT_SIGN	0x2000
#define JWT_NUMERIC_SHORT_WEIGHT 0x003F
#define JWT_INT_NUMERIC_MAX		(VARHDRSZ + sizeof(uint16) + 5 * sizeof(int16))

static int
int_numeric(uint64 magnitude, bool neg, char *out)
{
	int16		digits[5];		/* 10^18 - 1 has five, least significant first */
	int			nd = 0,
				first = 0;
	uint16		header;
	int			len;

	Assert(magnitude < UINT64CONST(1000000000000000000));
	while (magnitude > 0)
	{
		digits[nd++] = (int16) (magnitude % JWT_NUMERIC_NBASE);
		magnitude /= JWT_NUMERIC_NBASE;
	}
	while (first < nd && digits[first] == 0)
		first++;
	if (nd == 0)
		header = JWT_NUMERIC_SHORT;
	else
		header = JWT_NUMERIC_SHORT | (neg ? JWT_NUMERIC_SHORT_SIGN : 0) |
			((uint16) (nd - 1) & JWT_NUMERIC_SHORT_WEIGHT);
	len = (int) (VARHDRSZ + sizeof(uint16) + sizeof(int16) * (nd - first));
	SET_VARSIZE(out, len);
	memcpy(out + VARHDRSZ, &header, sizeof(header));
	for (int i = nd - 1, at = VARHDRSZ + sizeof(uint16); i >= first; i--, at += sizeof(int16))
		memcpy(out + at, &digits[i], sizeof(int16));
	return len;
}

/*
 * A number, as a numeric.  An integer of up to 18 digits is written by
 * int_numeric without going through text: numeric_in() makes the same
 * value of it, with the same (zero) display scale, and lays it out the
 * same way (test/jsonin.py compares the bytes).  Everything else is given
 * to numeric_in(), as jsonb_in does; src/core has checked that it is within
 * what a numeric holds.  Its JEntry.
 */
static JEntry
write_number(writer *w, const jose_json_value *t)
{
	const char *s = t->p;
	size_t		i = 0;
	bool		integer = true;
	bool		neg = false;
	int64		n = 0;
	size_t		digits = 0;
	char	   *text;
	Numeric		num;
	int			pad,
				len,
				at;

	if (t->len > 0 && s[0] == '-')
	{
		neg = true;
		i++;
	}
	for (; i < t->len; i++)
	{
		char		c = s[i];

		if (c >= '0' && c <= '9')
		{
			if (digits < 18)
				n = n * 10 + (c - '0');
			digits++;
		}
		else
			integer = false;	/* '.', 'e', 'E', '+' or '-' */
	}
	if (digits == 0)
		not_validated();
	pad = pad_to_int(w);
	if (integer && digits <= 18)
	{
		union
		{
			char		data[JWT_INT_NUMERIC_MAX];
			uint32		header; /* aligned for SET_VARSIZE */
		}			buf;

		len = int_numeric((uint64) n, neg, buf.data);
		at = reserve(w, len);
		memcpy(w->buf.data + at, buf.data, len);
		return JENTRY_ISNUMERIC | (uint32) (pad + len);
	}
	text = pnstrdup(s, t->len);
	num = DatumGetNumeric(DirectFunctionCall3(numeric_in,
											  CStringGetDatum(text),
											  ObjectIdGetDatum(InvalidOid),
											  Int32GetDatum(-1)));
	pfree(text);
	len = (int) VARSIZE_ANY(num);
	append(w, num, len);
	pfree(num);
	return JENTRY_ISNUMERIC | (uint32) (pad + len);
}


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
write_container(writer *w, const jose_json_node *c, size_t at)
{
	bool		object = c->v.type == JOSE_JSON_OBJECT;
	int			base = w->buf.len;
	int32		count;
	int			nentries;
	int			entries;
	uint32		header;
	uint32		total = 0;
	size_t		next = at + 1;	/* the first element's node */

	check_stack_depth();
	/* pushJsonbValue's limits, and its errors */
	if (object && c->count > JWT_JSONB_MAX_PAIRS)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("number of jsonb object pairs exceeds the maximum allowed (%zu)",
						JWT_JSONB_MAX_PAIRS)));
	if (!object && c->count > JWT_JSONB_MAX_ELEMS)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("number of jsonb array elements exceeds the maximum allowed (%zu)",
						JWT_JSONB_MAX_ELEMS)));
	count = (int32) c->count;

	pad_to_int(w);
	if (object)
	{
		member		small[SORT_BY_INSERTION];
		member	   *m = count <= SORT_BY_INSERTION ? small :
			palloc_extended(sizeof(member) * (Size) count, MCXT_ALLOC_HUGE);

		for (int32 i = 0; i < count; i++)
		{
			string_of(node_at(w, next), &m[i].name, &m[i].len);
			m[i].place = i;
			m[i].value = next + 1;
			next = node_at(w, next + 1)->end;
		}
		count = sort_members(m, count);

		header = (uint32) count | JB_FOBJECT;
		append(w, &header, sizeof(header));
		entries = reserve(w, (int) sizeof(JEntry) * 2 * count);

		/* the names, then the values, in the sorted order */
		for (int32 i = 0; i < count; i++)
		{
			JEntry		e;

			append(w, m[i].name, m[i].len);
			e = entry_of((JEntry) m[i].len, i, &total, true);
			memcpy(w->buf.data + entries + sizeof(JEntry) * i, &e, sizeof(e));
		}
		for (int32 i = 0; i < count; i++)
		{
			JEntry		e = entry_of(write_value(w, m[i].value), i + count, &total, true);

			memcpy(w->buf.data + entries + sizeof(JEntry) * (count + i), &e, sizeof(e));
		}
		if (m != small)
			pfree(m);
	}
	else
	{
		header = (uint32) count | JB_FARRAY;
		append(w, &header, sizeof(header));
		nentries = count;
		entries = reserve(w, (int) sizeof(JEntry) * nentries);
		for (int32 i = 0; i < count; i++)
		{
			JEntry		e = entry_of(write_value(w, next), i, &total, false);

			memcpy(w->buf.data + entries + sizeof(JEntry) * i, &e, sizeof(e));
			next = w->nodes[next].end;
		}
	}
	if (next != c->end)
		not_validated();

	/* the container's own length counts its padding, header and entries */
	if ((uint32) (w->buf.len - base) > JENTRY_OFFLENMASK)
		too_long(object);
	return JENTRY_ISCONTAINER | (uint32) (w->buf.len - base);
}

static JEntry
write_value(writer *w, size_t at)
{
	const jose_json_node *v = node_at(w, at);

	if (++w->values % WRITE_INTERRUPT_EVERY == 0)
		CHECK_FOR_INTERRUPTS();
	switch (v->v.type)
	{
		case JOSE_JSON_STRING:
			{
				const char *str;
				int32		len;

				string_of(v, &str, &len);
				append(w, str, len);
				return (JEntry) len;
			}
		case JOSE_JSON_NUMBER:
			return write_number(w, &v->v);
		case JOSE_JSON_TRUE:
			return JENTRY_ISBOOL_TRUE;
		case JOSE_JSON_FALSE:
			return JENTRY_ISBOOL_FALSE;
		case JOSE_JSON_NULL:
			return JENTRY_ISNULL;
		case JOSE_JSON_ARRAY:
		case JOSE_JSON_OBJECT:
			return write_container(w, v, at);
	}
	not_validated();
	return 0;					/* not reached */
}

Jsonb *
jwt_jsonb_write(const jose_json_node *nodes, size_t n, size_t estimate)
{
	writer		w;
	Jsonb	   *res;

	if (n == 0 ||
		(nodes[0].v.type != JOSE_JSON_OBJECT && nodes[0].v.type != JOSE_JSON_ARRAY) ||
		nodes[0].end != n)
		not_validated();
	initStringInfo(&w.buf);
	/* a buffer of the estimate's size, unless that is very large */
	if (estimate >= (size_t) w.buf.maxlen && estimate < MaxAllocSize / 4)
		enlargeStringInfo(&w.buf, (int) estimate);
	w.nodes = nodes;
	w.n = n;
	w.values = 0;
	reserve(&w, VARHDRSZ);
	(void) write_container(&w, &nodes[0], 0);
	res = (Jsonb *) w.buf.data;
	SET_VARSIZE(res, w.buf.len);
	return res;
}
