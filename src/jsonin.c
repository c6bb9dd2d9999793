/*
 * jsonin.c
 *		JSON text that src/core has already validated, as jsonb.
 *
 * A token's payload is parsed strictly by src/core before anything is
 * believed (json.c: UTF-8, escapes, depth, numbers, duplicate names).
 * Handing the same text to jsonb_in would parse it a second time with the
 * general lexer, which checks all of that again; on an HS256 token that
 * second parse was most of jwt_verify's time.  Here the validated text is
 * walked once more without checking it, into a tree of nodes that point
 * into the text (jsonbwrite.h), and jsonbwrite.c writes the tree as jsonb,
 * sorting each object's names and keeping the last of two equal ones as
 * jsonb_in does, so the jsonb is the same, byte for byte (test/jsonin.py
 * compares them).
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
#include "utils/numeric.h"

#include "jsonbwrite.h"
#include "jwt.h"

/* How many values between two checks for a cancel. */
#define JSONIN_INTERRUPT_EVERY 256

typedef struct jsonin
{
	const char *s;
	size_t		len;
	size_t		pos;
	unsigned	values;

	/*
	 * The values read so far whose container has not ended: each
	 * container's elements gather at the top and move to an array of their
	 * own, of the exact size, when it ends.
	 */
	jwt_jnode  *stack;
	size_t		depth;			/* nodes on the stack */
	size_t		cap;
	size_t		estimate;		/* the jsonb's size, at most (jwt_jsonb_write) */
} jsonin;

/* The text broke a promise src/core made about it: never user input. */
static pg_noinline void
not_validated(void)
{
	elog(ERROR, "jwt: JSON text given to jwt_json_to_jsonb was not validated");
}

static inline void
skip_ws(jsonin *in)
{
	while (in->pos < in->len)
	{
		char		c = in->s[in->pos];

		if (c != ' ' && c != '\t' && c != '\n' && c != '\r')
			break;
		in->pos++;
	}
}

static inline char
peek(jsonin *in)
{
	if (in->pos >= in->len)
		not_validated();
	return in->s[in->pos];
}

static inline void
expect(jsonin *in, char c)
{
	skip_ws(in);
	if (peek(in) != c)
		not_validated();
	in->pos++;
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

/* The bytes that end a run of a string's bytes taken as they are. */
static const bool string_stop[256] = {['"'] = true, ['\\'] = true};

/*
 * A new node on top of the stack, for the caller to fill in; what it adds to
 * the jsonb beyond its bytes is counted here, its bytes by its reader.
 */
static inline jwt_jnode *
push(jsonin *in)
{
	in->estimate += JWT_JNODE_OVERHEAD;
	if (in->depth == in->cap)
	{
		in->cap *= 2;
		in->stack = repalloc_huge(in->stack, sizeof(jwt_jnode) * in->cap);
	}
	return &in->stack[in->depth++];
}

/*
 * The string starting at the opening quote.  A string without escapes
 * points into the text, which outlives the build; one with escapes is
 * decoded by src/core into a copy.
 */
static void
read_string(jsonin *in, jwt_jnode *v)
{
	const char *s = in->s;
	size_t		start = in->pos + 1;
	size_t		i = start;
	size_t		n;
	bool		escaped = false;

	for (;;)
	{
		while (i < in->len && !string_stop[(unsigned char) s[i]])
			i++;
		if (i >= in->len)
			not_validated();
		if (s[i] == '"')
			break;
		escaped = true;			/* a backslash and the byte it escapes */
		i += 2;
	}
	in->pos = i + 1;
	in->estimate += i - start;	/* at least the decoded length */
	v->kind = JWT_JN_STRING;
	if (!escaped)
	{
		n = i - start;
		v->u.str = s + start;
	}
	else
	{
		jose_json_value span;
		char	   *out = palloc(i - start + 1);

		span.type = JOSE_JSON_STRING;
		span.escaped = 1;
		span.p = s + start;
		span.len = i - start;
		n = jose_json_string_decode(&span, out);
		v->u.str = out;
	}
	/* jsonb_in's limit on a string, and its error */
	if (n > JENTRY_OFFLENMASK)
		string_too_long();
	v->n = (int32) n;
}

/*
 * A number, as a numeric.  An integer of up to 18 digits fits an int64 and
 * is converted without going through text; numeric_in() makes the same
 * value of it, with the same (zero) display scale.  Everything else is
 * given to numeric_in(), as jsonb_in does; src/core has checked that it is
 * within what a numeric holds.
 */
static void
read_number(jsonin *in, jwt_jnode *v)
{
	const char *s = in->s;
	size_t		start = in->pos;
	size_t		i = start;
	bool		integer = true;
	bool		neg = false;
	int64		n = 0;
	size_t		digits = 0;

	if (i < in->len && s[i] == '-')
	{
		neg = true;
		i++;
	}
	while (i < in->len)
	{
		char		c = s[i];

		if (c >= '0' && c <= '9')
		{
			if (digits < 18)
				n = n * 10 + (c - '0');
			digits++;
		}
		else if (c == '.' || c == 'e' || c == 'E' || c == '+' || c == '-')
			integer = false;
		else
			break;
		i++;
	}
	if (digits == 0)
		not_validated();
	in->pos = i;
	v->kind = JWT_JN_NUMERIC;
	if (integer && digits <= 18)
		v->u.num = int64_to_numeric(neg ? -n : n);
	else
	{
		char	   *text = pnstrdup(s + start, i - start);

		v->u.num = DatumGetNumeric(DirectFunctionCall3(numeric_in,
															 CStringGetDatum(text),
															 ObjectIdGetDatum(InvalidOid),
															 Int32GetDatum(-1)));
		pfree(text);
	}
	in->estimate += VARSIZE_ANY(v->u.num);
}

static void
literal(jsonin *in, const char *word, size_t n)
{
	if (in->len - in->pos < n || memcmp(in->s + in->pos, word, n) != 0)
		not_validated();
	in->pos += n;
}

/*
 * The elements a container pushed since the stack held base nodes, moved to
 * the container's own array.
 */
static void
close_container(jsonin *in, jwt_jnode *c, size_t base, bool object)
{
	size_t		nodes = in->depth - base;
	size_t		count = object ? nodes / 2 : nodes;

	/* pushJsonbValue's limits, and its errors */
	if (object && count > JWT_JSONB_MAX_PAIRS)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("number of jsonb object pairs exceeds the maximum allowed (%zu)",
						JWT_JSONB_MAX_PAIRS)));
	if (!object && count > JWT_JSONB_MAX_ELEMS)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("number of jsonb array elements exceeds the maximum allowed (%zu)",
						JWT_JSONB_MAX_ELEMS)));
	c->n = (int32) count;
	c->u.kids = NULL;
	if (nodes > 0)
	{
		c->u.kids = palloc_extended(sizeof(jwt_jnode) * nodes, MCXT_ALLOC_HUGE);
		memcpy(c->u.kids, &in->stack[base], sizeof(jwt_jnode) * nodes);
	}
	in->depth = base;
}

/* One value, into *v (a node of the caller's, not on the stack). */
static void
read_value(jsonin *in, jwt_jnode *v)
{
	char		c;
	size_t		base;

	if (++in->values % JSONIN_INTERRUPT_EVERY == 0)
		CHECK_FOR_INTERRUPTS();
	skip_ws(in);
	c = peek(in);
	switch (c)
	{
		case '{':
			check_stack_depth();
			in->pos++;
			base = in->depth;
			skip_ws(in);
			if (peek(in) == '}')
				in->pos++;
			else
			{
				for (;;)
				{
					jwt_jnode	member;

					skip_ws(in);
					if (peek(in) != '"')
						not_validated();
					read_string(in, &member);
					*push(in) = member;
					expect(in, ':');
					read_value(in, &member);
					*push(in) = member;
					skip_ws(in);
					c = peek(in);
					in->pos++;
					if (c == '}')
						break;
					if (c != ',')
						not_validated();
				}
			}
			v->kind = JWT_JN_OBJECT;
			close_container(in, v, base, true);
			return;
		case '[':
			check_stack_depth();
			in->pos++;
			base = in->depth;
			skip_ws(in);
			if (peek(in) == ']')
				in->pos++;
			else
			{
				for (;;)
				{
					jwt_jnode	elem;

					read_value(in, &elem);
					*push(in) = elem;
					skip_ws(in);
					c = peek(in);
					in->pos++;
					if (c == ']')
						break;
					if (c != ',')
						not_validated();
				}
			}
			v->kind = JWT_JN_ARRAY;
			close_container(in, v, base, false);
			return;
		case '"':
			read_string(in, v);
			return;
		case 't':
			literal(in, "true", 4);
			v->kind = JWT_JN_TRUE;
			return;
		case 'f':
			literal(in, "false", 5);
			v->kind = JWT_JN_FALSE;
			return;
		case 'n':
			literal(in, "null", 4);
			v->kind = JWT_JN_NULL;
			return;
		default:
			read_number(in, v);
			return;
	}
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
	jsonin		in = {0};
	jwt_jnode	root;
	Jsonb	   *result;

#ifdef USE_ASSERT_CHECKING
	{
		jose_json_type type;

		Assert(jose_json_validate(json, len, &type) == JOSE_JSON_OK);
	}
#endif

	in.s = json;
	in.len = len;
	skip_ws(&in);

	/* another encoding, or a scalar (jsonb_in wraps it in a raw-scalar array) */
	if (GetDatabaseEncoding() != PG_UTF8 ||
		in.pos >= len || (json[in.pos] != '{' && json[in.pos] != '['))
	{
		char	   *cstr = pnstrdup(json, len);

		if (GetDatabaseEncoding() != PG_UTF8)
			cstr = pg_any_to_server(cstr, (int) len, PG_UTF8);
		return DirectFunctionCall1(jsonb_in, CStringGetDatum(cstr));
	}

	in.cap = 64;
	in.estimate = VARHDRSZ + JWT_JNODE_OVERHEAD;	/* the root is not pushed */
	in.stack = palloc(sizeof(jwt_jnode) * in.cap);
	read_value(&in, &root);
	skip_ws(&in);
	if (in.pos != len)
		not_validated();
	pfree(in.stack);
	result = jwt_jsonb_write(&root, in.estimate);
	return JsonbPGetDatum(result);
}
