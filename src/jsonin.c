/*
 * jsonin.c
 *		JSON text that src/core has already validated, as jsonb.
 *
 * A token's payload is parsed strictly by src/core before anything is
 * believed (json.c: UTF-8, escapes, depth, numbers, duplicate names).
 * Handing the same text to jsonb_in would parse it a second time with the
 * general lexer, which checks all of that again; on an HS256 token that
 * second parse was most of jwt_verify's time.  Here the validated text is
 * walked once more without checking it, and each value goes straight to
 * pushJsonbValue(), which sorts an object's keys and keeps the last of two
 * equal ones exactly as it does for jsonb_in, so the jsonb is the same,
 * byte for byte (test/jsonin.py compares them).
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

#include "compat.h"
#include "jwt.h"

/* How many values between two checks for a cancel. */
#define JSONIN_INTERRUPT_EVERY 256

typedef struct jsonin
{
	const char *s;
	size_t		len;
	size_t		pos;
	unsigned	values;
	jwt_jsonb_build build;
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

/*
 * The string starting at the opening quote, as a jbvString.  A string
 * without escapes points into the text, which outlives the build; one with
 * escapes is decoded by src/core into a copy.
 */
static void
read_string(jsonin *in, JsonbValue *v)
{
	const char *s = in->s;
	size_t		start = in->pos + 1;
	size_t		i = start;
	bool		escaped = false;

	for (;;)
	{
		if (i >= in->len)
			not_validated();
		if (s[i] == '"')
			break;
		if (s[i] == '\\')
		{
			escaped = true;
			i += 2;
		}
		else
			i++;
	}
	in->pos = i + 1;
	v->type = jbvString;
	if (!escaped)
	{
		v->val.string.val = (char *) s + start;
		v->val.string.len = (int) (i - start);
	}
	else
	{
		jose_json_value span;
		char	   *out = palloc(i - start + 1);

		span.type = JOSE_JSON_STRING;
		span.escaped = 1;
		span.p = s + start;
		span.len = i - start;
		v->val.string.len = (int) jose_json_string_decode(&span, out);
		v->val.string.val = out;
	}
}

/*
 * A number as jbvNumeric.  An integer of up to 18 digits fits an int64 and
 * is converted without going through text; numeric_in() makes the same
 * value of it, with the same (zero) display scale.  Everything else is
 * given to numeric_in(), as jsonb_in does; src/core has checked that it is
 * within what a numeric holds.
 */
static void
read_number(jsonin *in, JsonbValue *v)
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
	v->type = jbvNumeric;
	if (integer && digits <= 18)
		v->val.numeric = int64_to_numeric(neg ? -n : n);
	else
	{
		char	   *text = pnstrdup(s + start, i - start);

		v->val.numeric = DatumGetNumeric(DirectFunctionCall3(numeric_in,
															 CStringGetDatum(text),
															 ObjectIdGetDatum(InvalidOid),
															 Int32GetDatum(-1)));
		pfree(text);
	}
}

static void
literal(jsonin *in, const char *word, size_t n)
{
	if (in->len - in->pos < n || memcmp(in->s + in->pos, word, n) != 0)
		not_validated();
	in->pos += n;
}

/* One value; a scalar is pushed as tok (WJB_VALUE or WJB_ELEM). */
static void
read_value(jsonin *in, JsonbIteratorToken tok)
{
	JsonbValue	v;
	char		c;

	if (++in->values % JSONIN_INTERRUPT_EVERY == 0)
		CHECK_FOR_INTERRUPTS();
	skip_ws(in);
	c = peek(in);
	switch (c)
	{
		case '{':
			check_stack_depth();
			in->pos++;
			jwt_jsonb_push(&in->build, WJB_BEGIN_OBJECT, NULL);
			skip_ws(in);
			if (peek(in) == '}')
				in->pos++;
			else
			{
				for (;;)
				{
					JsonbValue	key;

					skip_ws(in);
					if (peek(in) != '"')
						not_validated();
					read_string(in, &key);
					jwt_jsonb_push(&in->build, WJB_KEY, &key);
					expect(in, ':');
					read_value(in, WJB_VALUE);
					skip_ws(in);
					c = peek(in);
					in->pos++;
					if (c == '}')
						break;
					if (c != ',')
						not_validated();
				}
			}
			jwt_jsonb_push(&in->build, WJB_END_OBJECT, NULL);
			return;
		case '[':
			check_stack_depth();
			in->pos++;
			jwt_jsonb_push(&in->build, WJB_BEGIN_ARRAY, NULL);
			skip_ws(in);
			if (peek(in) == ']')
				in->pos++;
			else
			{
				for (;;)
				{
					read_value(in, WJB_ELEM);
					skip_ws(in);
					c = peek(in);
					in->pos++;
					if (c == ']')
						break;
					if (c != ',')
						not_validated();
				}
			}
			jwt_jsonb_push(&in->build, WJB_END_ARRAY, NULL);
			return;
		case '"':
			read_string(in, &v);
			break;
		case 't':
			literal(in, "true", 4);
			v.type = jbvBool;
			v.val.boolean = true;
			break;
		case 'f':
			literal(in, "false", 5);
			v.type = jbvBool;
			v.val.boolean = false;
			break;
		case 'n':
			literal(in, "null", 4);
			v.type = jbvNull;
			break;
		default:
			read_number(in, &v);
			break;
	}
	jwt_jsonb_push(&in->build, tok, &v);
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
	JsonbValue *result;

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

	jwt_jsonb_build_init(&in.build);
	read_value(&in, WJB_VALUE);
	skip_ws(&in);
	if (in.pos != len)
		not_validated();
	result = jwt_jsonb_build_result(&in.build);
	if (result == NULL)
		not_validated();
	return JsonbPGetDatum(JsonbValueToJsonb(result));
}
