/*
 * json.c
 *		A strict JSON parser (RFC 8259) for JOSE headers, claims and keys.
 *
 * jsonb keeps the last of two members with the same name, so a token whose
 * header says "alg" twice could mean one thing to us and another to the
 * issuer.  Everything is therefore checked here before anything is believed:
 * UTF-8, escapes (no lone surrogate, no \u0000, which jsonb cannot store),
 * nesting depth, numbers within what a PostgreSQL numeric holds, and
 * duplicate member names at every depth.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#ifdef __SSE2__
#include <emmintrin.h>
#endif

#include "jose.h"

/* Objects up to this many members are checked for duplicates pairwise. */
#define LINEAR_DUP_CHECK 16

typedef struct parser
{
	const unsigned char *s;
	size_t		len;
	size_t		pos;
	int			depth;
	int			max_depth;		/* JOSE_JSON_MAX_DEPTH, but for jose_json_parse_tape */
	jose_json_object *top;		/* receives the top-level members, or NULL */
	jose_json_tape *tape;		/* receives every value, or NULL */
	const jose_stop *stop;		/* asked every JOSE_STOP_EVERY values, or NULL */
	unsigned	ticks;
	/* names of the members of every open object, innermost last */
	jose_json_value *names;
	size_t		nnames;
	size_t		capnames;
	jose_json_value inline_names[32];
} parser;

static jose_json_error parse_value(parser *p, jose_json_value *out);

static inline void
skip_ws(parser *p)
{
	while (p->pos < p->len)
	{
		unsigned char c = p->s[p->pos];

		if (c != ' ' && c != '\t' && c != '\n' && c != '\r')
			break;
		p->pos++;
	}
}

static inline int
hexval(unsigned char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Read 4 hex digits at s; -1 if they are not. */
static int
read_hex4(const unsigned char *s)
{
	int			v = 0;

	for (int i = 0; i < 4; i++)
	{
		int			h = hexval(s[i]);

		if (h < 0)
			return -1;
		v = (v << 4) | h;
	}
	return v;
}

/* Bytes a string holds as they are: 0x20 to 0x7F but '"' and '\\'. */
static const unsigned char plain_byte[256] = {
	['\x20'] = 1, 1, 0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,	/* 0x22 '"' */
	['\x30'] = 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
	['\x40'] = 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
	['\x50'] = 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 1, 1, 1,	/* 0x5C '\\' */
	['\x60'] = 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
	['\x70'] = 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
};

/*
 * The end of the run of plain bytes (plain_byte) from s[i], at most to end.
 * With SSE2 (every x86-64), 16 bytes at a time while 16 remain: a byte is
 * not plain when it is '"' or '\\', or below 0x20 or above 0x7F, which as
 * signed bytes are exactly those below 0x20.
 */
static inline size_t
plain_run(const unsigned char *s, size_t i, size_t end)
{
#ifdef __SSE2__
	const __m128i quote = _mm_set1_epi8('"');
	const __m128i backslash = _mm_set1_epi8('\\');
	const __m128i space = _mm_set1_epi8(0x20);

	while (end - i >= 16)
	{
		__m128i		v = _mm_loadu_si128((const __m128i *) (s + i));
		__m128i		stop = _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(v, quote),
													 _mm_cmpeq_epi8(v, backslash)),
										_mm_cmplt_epi8(v, space));
		unsigned	mask = (unsigned) _mm_movemask_epi8(stop);

		if (mask != 0)
			return i + (size_t) __builtin_ctz(mask);
		i += 16;
	}
#endif
	while (i < end && plain_byte[s[i]])
		i++;
	return i;
}

/*
 * Length of the well-formed UTF-8 sequence at s (at most n bytes), or 0
 * (RFC 3629: no overlong forms, no surrogates, nothing above U+10FFFF).
 */
static size_t
utf8_seq(const unsigned char *s, size_t n)
{
	unsigned char c = s[0];

	if (c < 0x80)
		return 1;
	if (c >= 0xC2 && c <= 0xDF)
		return (n >= 2 && (s[1] & 0xC0) == 0x80) ? 2 : 0;
	if (c >= 0xE0 && c <= 0xEF)
	{
		if (n < 3 || (s[1] & 0xC0) != 0x80 || (s[2] & 0xC0) != 0x80)
			return 0;
		if (c == 0xE0 && s[1] < 0xA0)
			return 0;			/* overlong */
		if (c == 0xED && s[1] >= 0xA0)
			return 0;			/* surrogate */
		return 3;
	}
	if (c >= 0xF0 && c <= 0xF4)
	{
		if (n < 4 || (s[1] & 0xC0) != 0x80 || (s[2] & 0xC0) != 0x80 ||
			(s[3] & 0xC0) != 0x80)
			return 0;
		if (c == 0xF0 && s[1] < 0x90)
			return 0;			/* overlong */
		if (c == 0xF4 && s[1] >= 0x90)
			return 0;			/* above U+10FFFF */
		return 4;
	}
	return 0;
}

static jose_json_error
parse_string(parser *p, jose_json_value *out)
{
	const unsigned char *s = p->s;
	size_t		i = p->pos + 1;	/* past the opening quote */
	size_t		check = JOSE_STOP_BYTES;	/* bytes in, when to ask stop */

	out->type = JOSE_JSON_STRING;
	out->escaped = 0;
	out->p = (const char *) s + i;

	while (i < p->len)
	{
		unsigned char c;
		size_t		run_end;

		if (i - p->pos >= check)
		{
			check += JOSE_STOP_BYTES;
			if (p->stop != NULL && jose_should_stop(p->stop))
				return JOSE_JSON_INTERRUPTED;
		}
		/* a run ends where stop is next asked (no byte is ever taken twice) */
		run_end = p->len - p->pos > check ? p->pos + check : p->len;

		/* a run of printable ASCII other than '"' and '\\', the common case */
		i = plain_run(s, i, run_end);
		if (i >= run_end)
			continue;
		c = s[i];

		if (c == '"')
		{
			out->len = i - p->pos - 1;
			p->pos = i + 1;
			return JOSE_JSON_OK;
		}
		if (c < 0x20)
			return JOSE_JSON_SYNTAX;
		if (c == '\\')
		{
			out->escaped = 1;
			if (i + 1 >= p->len)
				return JOSE_JSON_SYNTAX;
			c = s[i + 1];
			if (c == 'u')
			{
				int			u;

				if (i + 6 > p->len || (u = read_hex4(s + i + 2)) < 0)
					return JOSE_JSON_ESCAPE;
				if (u == 0)
					return JOSE_JSON_ESCAPE;
				if (u >= 0xDC00 && u <= 0xDFFF)
					return JOSE_JSON_ESCAPE;	/* lone low surrogate */
				if (u >= 0xD800 && u <= 0xDBFF)
				{
					int			lo;

					if (i + 12 > p->len || s[i + 6] != '\\' || s[i + 7] != 'u' ||
						(lo = read_hex4(s + i + 8)) < 0 ||
						lo < 0xDC00 || lo > 0xDFFF)
						return JOSE_JSON_ESCAPE;
					i += 12;
				}
				else
					i += 6;
				continue;
			}
			if (c != '"' && c != '\\' && c != '/' && c != 'b' && c != 'f' &&
				c != 'n' && c != 'r' && c != 't')
				return JOSE_JSON_ESCAPE;
			i += 2;
			continue;
		}
		if (c < 0x80)
			i++;
		else
		{
			size_t		n = utf8_seq(s + i, p->len - i);

			if (n == 0)
				return JOSE_JSON_UTF8;
			i += n;
		}
	}
	return JOSE_JSON_SYNTAX;
}

/*
 * Numbers follow RFC 8259's grammar and must fit a PostgreSQL numeric,
 * which jsonb uses: at most 131072 digits before the point and 16383 after
 * it once the exponent is applied.
 */
static jose_json_error
parse_number(parser *p, jose_json_value *out)
{
	const unsigned char *s = p->s;
	size_t		i = p->pos;
	size_t		start = i;
	long		idigits = 0,
				fdigits = 0,
				exp = 0;

	if (i < p->len && s[i] == '-')
		i++;
	if (i >= p->len)
		return JOSE_JSON_SYNTAX;
	if (s[i] == '0')
	{
		i++;
		idigits = 1;
	}
	else if (s[i] >= '1' && s[i] <= '9')
	{
		while (i < p->len && s[i] >= '0' && s[i] <= '9')
		{
			i++;
			idigits++;
		}
	}
	else
		return JOSE_JSON_SYNTAX;

	if (i < p->len && s[i] == '.')
	{
		i++;
		while (i < p->len && s[i] >= '0' && s[i] <= '9')
		{
			i++;
			fdigits++;
		}
		if (fdigits == 0)
			return JOSE_JSON_SYNTAX;
	}
	if (i < p->len && (s[i] == 'e' || s[i] == 'E'))
	{
		int			neg = 0,
					ndig = 0;

		i++;
		if (i < p->len && (s[i] == '+' || s[i] == '-'))
			neg = (s[i++] == '-');
		while (i < p->len && s[i] >= '0' && s[i] <= '9')
		{
			if (exp < 1000000)
				exp = exp * 10 + (s[i] - '0');
			i++;
			ndig++;
		}
		if (ndig == 0)
			return JOSE_JSON_SYNTAX;
		if (neg)
			exp = -exp;
	}
	if (exp < -16383 || fdigits - exp > 16383 || idigits + exp > 131072)
		return JOSE_JSON_NUMBER_RANGE;

	out->type = JOSE_JSON_NUMBER;
	out->escaped = 0;
	out->p = (const char *) s + start;
	out->len = i - start;
	p->pos = i;
	return JOSE_JSON_OK;
}

static int
literal(parser *p, const char *word, size_t n)
{
	if (p->len - p->pos < n || memcmp(p->s + p->pos, word, n) != 0)
		return 0;
	p->pos += n;
	return 1;
}

/* Decode the escapes of a validated string span; out needs len bytes. */
static size_t
decode_span(const char *in, size_t len, char *out)
{
	const unsigned char *s = (const unsigned char *) in;
	char	   *o = out;
	size_t		i = 0;

	while (i < len)
	{
		unsigned char c = s[i];

		if (c != '\\')
		{
			*o++ = (char) c;
			i++;
			continue;
		}
		c = s[i + 1];
		if (c == 'u')
		{
			uint32_t	cp = (uint32_t) read_hex4(s + i + 2);

			i += 6;
			if (cp >= 0xD800 && cp <= 0xDBFF)
			{
				uint32_t	lo = (uint32_t) read_hex4(s + i + 2);

				cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
				i += 6;
			}
			if (cp < 0x80)
				*o++ = (char) cp;
			else if (cp < 0x800)
			{
				*o++ = (char) (0xC0 | (cp >> 6));
				*o++ = (char) (0x80 | (cp & 0x3F));
			}
			else if (cp < 0x10000)
			{
				*o++ = (char) (0xE0 | (cp >> 12));
				*o++ = (char) (0x80 | ((cp >> 6) & 0x3F));
				*o++ = (char) (0x80 | (cp & 0x3F));
			}
			else
			{
				*o++ = (char) (0xF0 | (cp >> 18));
				*o++ = (char) (0x80 | ((cp >> 12) & 0x3F));
				*o++ = (char) (0x80 | ((cp >> 6) & 0x3F));
				*o++ = (char) (0x80 | (cp & 0x3F));
			}
			continue;
		}
		switch (c)
		{
			case 'b':
				*o++ = '\b';
				break;
			case 'f':
				*o++ = '\f';
				break;
			case 'n':
				*o++ = '\n';
				break;
			case 'r':
				*o++ = '\r';
				break;
			case 't':
				*o++ = '\t';
				break;
			default:
				*o++ = (char) c;	/* " \ / */
				break;
		}
		i += 2;
	}
	return (size_t) (o - out);
}

size_t
jose_json_string_decode(const jose_json_value *v, char *out)
{
	if (!v->escaped)
	{
		memcpy(out, v->p, v->len);
		return v->len;
	}
	return decode_span(v->p, v->len, out);
}

/*
 * Equal bytes.  Names are short, mostly shorter than a call of memcmp costs,
 * and most pairs differ in their first byte.
 */
static inline int
bytes_eq(const char *a, const char *b, size_t n)
{
	if (n > 16)
		return memcmp(a, b, n) == 0;
	for (size_t i = 0; i < n; i++)
		if (a[i] != b[i])
			return 0;
	return 1;
}

/* Equality of two member names after decoding; -1 when out of memory. */
static int
names_equal(const jose_json_value *a, const jose_json_value *b)
{
	char		abuf[128],
				bbuf[128];
	char	   *ad,
			   *bd;
	size_t		al,
				bl;
	int			eq;

	if (!a->escaped && !b->escaped)
		return a->len == b->len && bytes_eq(a->p, b->p, a->len);

	ad = a->len <= sizeof(abuf) ? abuf : malloc(a->len);
	bd = b->len <= sizeof(bbuf) ? bbuf : malloc(b->len);
	if (ad == NULL || bd == NULL)
		eq = -1;
	else
	{
		al = jose_json_string_decode(a, ad);
		bl = jose_json_string_decode(b, bd);
		eq = al == bl && memcmp(ad, bd, al) == 0;
	}
	if (ad != abuf)
		free(ad);
	if (bd != bbuf)
		free(bd);
	return eq;
}

typedef struct name_ref
{
	const char *p;
	size_t		len;
} name_ref;

static int
cmp_name_ref(const void *a, const void *b)
{
	const name_ref *x = a,
			   *y = b;
	size_t		n = x->len < y->len ? x->len : y->len;
	int			c = memcmp(x->p, y->p, n);

	if (c != 0)
		return c;
	return (x->len > y->len) - (x->len < y->len);
}

/* Duplicate check for a large object: sort the decoded names. */
static jose_json_error
check_dups_sorted(const jose_json_value *names, size_t n)
{
	name_ref   *refs;
	char	   *arena = NULL;
	size_t		arena_len = 0,
				used = 0;
	jose_json_error err = JOSE_JSON_OK;

	refs = malloc(n * sizeof(name_ref));
	if (refs == NULL)
		return JOSE_JSON_NOMEM;
	for (size_t i = 0; i < n; i++)
		if (names[i].escaped)
			arena_len += names[i].len;
	if (arena_len > 0 && (arena = malloc(arena_len)) == NULL)
	{
		free(refs);
		return JOSE_JSON_NOMEM;
	}
	for (size_t i = 0; i < n; i++)
	{
		if (names[i].escaped)
		{
			/* an escaped name has bytes (a backslash at least): arena was made */
			if (arena == NULL)
			{
				err = JOSE_JSON_NOMEM;
				goto done;
			}
			refs[i].p = arena + used;
			refs[i].len = decode_span(names[i].p, names[i].len, arena + used);
			used += refs[i].len;
		}
		else
		{
			refs[i].p = names[i].p;
			refs[i].len = names[i].len;
		}
	}
	qsort(refs, n, sizeof(name_ref), cmp_name_ref);
	for (size_t i = 1; i < n; i++)
		if (cmp_name_ref(&refs[i - 1], &refs[i]) == 0)
		{
			/* mutation: rule-5-duplicate-members-sorted: err = JOSE_JSON_DUPLICATE; => continue; */
			err = JOSE_JSON_DUPLICATE;
			break;
		}
done:
	free(arena);
	free(refs);
	return err;
}

static jose_json_error
push_name(parser *p, const jose_json_value *name)
{
	if (p->nnames == p->capnames)
	{
		size_t		ncap = p->capnames * 2;
		jose_json_value *n;

		/* never wraps: the text holds fewer names than bytes */
		if (ncap <= p->capnames || ncap > SIZE_MAX / sizeof(jose_json_value))
			return JOSE_JSON_NOMEM;

		if (p->names == p->inline_names)
		{
			n = malloc(ncap * sizeof(jose_json_value));
			if (n != NULL)
				memcpy(n, p->names, p->nnames * sizeof(jose_json_value));
		}
		else
			n = realloc(p->names, ncap * sizeof(jose_json_value));
		if (n == NULL)
			return JOSE_JSON_NOMEM;
		p->names = n;
		p->capnames = ncap;
	}
	p->names[p->nnames++] = *name;
	return JOSE_JSON_OK;
}

static jose_json_error
push_member(jose_json_object *obj, const jose_json_value *name,
			const jose_json_value *value)
{
	if (obj->n == obj->cap)
	{
		size_t		ncap = obj->cap * 2;
		jose_json_member *n;

		if (obj->members == obj->inline_members)
		{
			n = malloc(ncap * sizeof(jose_json_member));
			if (n != NULL)
				memcpy(n, obj->members, obj->n * sizeof(jose_json_member));
		}
		else
			n = realloc(obj->members, ncap * sizeof(jose_json_member));
		if (n == NULL)
			return JOSE_JSON_NOMEM;
		obj->members = n;
		obj->cap = ncap;
	}
	obj->members[obj->n].name = *name;
	obj->members[obj->n].value = *value;
	obj->n++;
	return JOSE_JSON_OK;
}

/* Room for more nodes on the tape. */
static jose_json_error
tape_grow(jose_json_tape *t)
{
	size_t		ncap = t->cap * 2;
	jose_json_node *n;

	/* never wraps: the text holds fewer values than bytes */
	if (ncap <= t->cap || ncap > SIZE_MAX / sizeof(jose_json_node))
		return JOSE_JSON_NOMEM;
	if (t->nodes == t->inline_nodes)
	{
		n = malloc(ncap * sizeof(jose_json_node));
		if (n != NULL)
			memcpy(n, t->nodes, t->n * sizeof(jose_json_node));
	}
	else
		n = realloc(t->nodes, ncap * sizeof(jose_json_node));
	if (n == NULL)
		return JOSE_JSON_NOMEM;
	t->nodes = n;
	t->cap = ncap;
	return JOSE_JSON_OK;
}

/*
 * A node on the tape for a value about to be parsed, filled in once it is:
 * its index, as the tape may move while the value's contents are added.
 */
static inline jose_json_error
tape_reserve(parser *p, size_t *index)
{
	jose_json_tape *t = p->tape;

	if (t->n == t->cap)
	{
		jose_json_error err = tape_grow(t);

		if (err != JOSE_JSON_OK)
			return err;
	}
	*index = t->n++;
	return JOSE_JSON_OK;
}

static jose_json_error
parse_object(parser *p, jose_json_value *out, size_t *count_out)
{
	size_t		start = p->pos;
	size_t		base = p->nnames;
	int			record = (p->depth == 1 && p->top != NULL);
	jose_json_error err = JOSE_JSON_OK;

	p->pos++;					/* '{' */
	skip_ws(p);
	if (p->pos < p->len && p->s[p->pos] == '}')
		p->pos++;
	else
	{
		for (;;)
		{
			jose_json_value name,
						value;
			size_t		count;
			size_t		slot = 0;

			if (p->pos >= p->len || p->s[p->pos] != '"')
			{
				err = JOSE_JSON_SYNTAX;
				break;
			}
			if (p->tape != NULL && (err = tape_reserve(p, &slot)) != JOSE_JSON_OK)
				break;
			if ((err = parse_string(p, &name)) != JOSE_JSON_OK)
				break;
			if (p->tape != NULL)
			{
				p->tape->nodes[slot].v = name;
				p->tape->nodes[slot].count = 0;
				p->tape->nodes[slot].end = slot + 1;
			}
			count = p->nnames - base;
			if (count < LINEAR_DUP_CHECK)
			{
				for (size_t i = base; i < p->nnames; i++)
				{
					int			eq = names_equal(&p->names[i], &name);

					if (eq != 0)
					{
						/* mutation: rule-5-duplicate-members-linear: JOSE_JSON_NOMEM : JOSE_JSON_DUPLICATE => JOSE_JSON_NOMEM : JOSE_JSON_OK */
						err = eq < 0 ? JOSE_JSON_NOMEM : JOSE_JSON_DUPLICATE;
						break;
					}
				}
				if (err != JOSE_JSON_OK)
					break;
			}
			if ((err = push_name(p, &name)) != JOSE_JSON_OK)
				break;
			skip_ws(p);
			if (p->pos >= p->len || p->s[p->pos] != ':')
			{
				err = JOSE_JSON_SYNTAX;
				break;
			}
			p->pos++;
			skip_ws(p);
			if ((err = parse_value(p, &value)) != JOSE_JSON_OK)
				break;
			if (record && (err = push_member(p->top, &name, &value)) != JOSE_JSON_OK)
				break;
			skip_ws(p);
			if (p->pos < p->len && p->s[p->pos] == ',')
			{
				p->pos++;
				skip_ws(p);
				continue;
			}
			if (p->pos < p->len && p->s[p->pos] == '}')
			{
				p->pos++;
				break;
			}
			err = JOSE_JSON_SYNTAX;
			break;
		}
		if (err == JOSE_JSON_OK && p->nnames - base > LINEAR_DUP_CHECK)
			err = check_dups_sorted(p->names + base, p->nnames - base);
	}
	*count_out = p->nnames - base;
	p->nnames = base;
	if (err != JOSE_JSON_OK)
		return err;
	out->type = JOSE_JSON_OBJECT;
	out->escaped = 0;
	out->p = (const char *) p->s + start;
	out->len = p->pos - start;
	return JOSE_JSON_OK;
}

static jose_json_error
parse_array(parser *p, jose_json_value *out, size_t *count_out)
{
	size_t		start = p->pos;
	size_t		count = 0;

	p->pos++;					/* '[' */
	skip_ws(p);
	if (p->pos < p->len && p->s[p->pos] == ']')
		p->pos++;
	else
	{
		for (;;)
		{
			jose_json_value elem;
			jose_json_error err;

			if ((err = parse_value(p, &elem)) != JOSE_JSON_OK)
				return err;
			count++;
			skip_ws(p);
			if (p->pos < p->len && p->s[p->pos] == ',')
			{
				p->pos++;
				skip_ws(p);
				continue;
			}
			if (p->pos < p->len && p->s[p->pos] == ']')
			{
				p->pos++;
				break;
			}
			return JOSE_JSON_SYNTAX;
		}
	}
	*count_out = count;
	out->type = JOSE_JSON_ARRAY;
	out->escaped = 0;
	out->p = (const char *) p->s + start;
	out->len = p->pos - start;
	return JOSE_JSON_OK;
}

/* One value, and its node on the tape when there is one. */
static jose_json_error
parse_value(parser *p, jose_json_value *out)
{
	jose_json_error err = JOSE_JSON_OK;
	size_t		start = p->pos;
	size_t		slot = 0,
				count = 0;

	if (p->pos >= p->len)
		return JOSE_JSON_SYNTAX;
	/* every value, and every string's bytes (parse_string), count */
	if (p->stop != NULL && ++p->ticks >= JOSE_STOP_EVERY)
	{
		p->ticks = 0;
		if (jose_should_stop(p->stop))
			return JOSE_JSON_INTERRUPTED;
	}
	/* the node comes before the contents of a container */
	if (p->tape != NULL && (err = tape_reserve(p, &slot)) != JOSE_JSON_OK)
		return err;
	switch (p->s[p->pos])
	{
		case '{':
		case '[':
			if (++p->depth > p->max_depth)
				return JOSE_JSON_DEPTH;
			err = p->s[p->pos] == '{' ? parse_object(p, out, &count) :
				parse_array(p, out, &count);
			p->depth--;
			break;
		case '"':
			err = parse_string(p, out);
			break;
		case 't':
		case 'f':
		case 'n':
			if (literal(p, "true", 4))
				out->type = JOSE_JSON_TRUE;
			else if (literal(p, "false", 5))
				out->type = JOSE_JSON_FALSE;
			else if (literal(p, "null", 4))
				out->type = JOSE_JSON_NULL;
			else
				return JOSE_JSON_SYNTAX;
			out->escaped = 0;
			out->p = (const char *) p->s + start;
			out->len = p->pos - start;
			break;
		default:
			err = parse_number(p, out);
			break;
	}
	if (err == JOSE_JSON_OK && p->tape != NULL)
	{
		jose_json_node *node = &p->tape->nodes[slot];

		node->v = *out;
		node->count = count;
		node->end = p->tape->n;
	}
	return err;
}

static jose_json_error
parse_document(const char *text, size_t len, const jose_stop *stop, int max_depth,
			   jose_json_object *top, jose_json_tape *tape, jose_json_value *root)
{
	parser		p;
	jose_json_error err;

	p.s = (const unsigned char *) text;
	p.len = len;
	p.pos = 0;
	p.depth = 0;
	p.max_depth = max_depth;
	p.top = top;
	p.tape = tape;
	p.stop = stop;
	p.ticks = 0;
	p.names = p.inline_names;
	p.nnames = 0;
	p.capnames = sizeof(p.inline_names) / sizeof(p.inline_names[0]);

	skip_ws(&p);
	if (top != NULL && (p.pos >= p.len || p.s[p.pos] != '{'))
	{
		/* still tell a non-object apart from invalid JSON */
		p.top = NULL;
		err = parse_value(&p, root);
		if (err == JOSE_JSON_OK)
		{
			skip_ws(&p);
			/* mutation: rule-3-5-json-object: JOSE_JSON_NOT_OBJECT : => JOSE_JSON_OK : */
			err = p.pos == p.len ? JOSE_JSON_NOT_OBJECT : JOSE_JSON_SYNTAX;
		}
	}
	else
	{
		err = parse_value(&p, root);
		if (err == JOSE_JSON_OK)
		{
			skip_ws(&p);
			if (p.pos != p.len)
				err = JOSE_JSON_SYNTAX;
		}
	}
	if (p.names != p.inline_names)
		free(p.names);
	return err;
}

jose_json_error
jose_json_parse_object_tape(const char *text, size_t len, const jose_stop *stop,
							jose_json_object *out, jose_json_tape *tape)
{
	jose_json_value root;
	jose_json_error err;

	out->members = out->inline_members;
	out->n = 0;
	out->cap = sizeof(out->inline_members) / sizeof(out->inline_members[0]);
	if (tape != NULL)
		tape->n = 0;			/* a tape holds one document's values */
	err = parse_document(text, len, stop, JOSE_JSON_MAX_DEPTH, out, tape, &root);
	if (err != JOSE_JSON_OK)
	{
		jose_json_object_free(out);
		out->n = 0;
	}
	return err;
}

jose_json_error
jose_json_parse_object_stop(const char *text, size_t len, const jose_stop *stop,
							jose_json_object *out)
{
	return jose_json_parse_object_tape(text, len, stop, out, NULL);
}

jose_json_error
jose_json_parse_object(const char *text, size_t len, jose_json_object *out)
{
	return jose_json_parse_object_stop(text, len, NULL, out);
}

jose_json_error
jose_json_validate_stop(const char *text, size_t len, const jose_stop *stop,
						jose_json_type *type)
{
	jose_json_value root;
	jose_json_error err = parse_document(text, len, stop, JOSE_JSON_MAX_DEPTH, NULL, NULL, &root);

	if (err == JOSE_JSON_OK && type != NULL)
		*type = root.type;
	return err;
}

void
jose_json_tape_init(jose_json_tape *tape)
{
	tape->nodes = tape->inline_nodes;
	tape->n = 0;
	tape->cap = JOSE_JSON_TAPE_INLINE;
}

void
jose_json_tape_free(jose_json_tape *tape)
{
	if (tape->nodes != tape->inline_nodes)
		free(tape->nodes);
	jose_json_tape_init(tape);
}

jose_json_error
jose_json_parse_tape(const char *text, size_t len, const jose_stop *stop, int max_depth,
					 jose_json_tape *tape)
{
	jose_json_value root;

	tape->n = 0;
	if (max_depth < 1 || max_depth > JOSE_JSON_TAPE_MAX_DEPTH)
		return JOSE_JSON_DEPTH;
	return parse_document(text, len, stop, max_depth, NULL, tape, &root);
}

jose_json_error
jose_json_validate(const char *text, size_t len, jose_json_type *type)
{
	return jose_json_validate_stop(text, len, NULL, type);
}

void
jose_json_object_free(jose_json_object *obj)
{
	if (obj->members != NULL && obj->members != obj->inline_members)
		free(obj->members);
	obj->members = obj->inline_members;
	obj->cap = sizeof(obj->inline_members) / sizeof(obj->inline_members[0]);
}

const char *
jose_json_error_text(jose_json_error err)
{
	switch (err)
	{
		case JOSE_JSON_OK:
			return "no error";
		case JOSE_JSON_SYNTAX:
			return "a syntax error";
		case JOSE_JSON_UTF8:
			return "invalid UTF-8";
		case JOSE_JSON_ESCAPE:
			return "an invalid escape, a lone surrogate or \\u0000";
		case JOSE_JSON_DEPTH:
			return "nesting deeper than 64 levels";
		case JOSE_JSON_NUMBER_RANGE:
			return "a number out of range";
		case JOSE_JSON_DUPLICATE:
			return "a repeated member name";
		case JOSE_JSON_NOT_OBJECT:
			return "not an object";
		case JOSE_JSON_INTERRUPTED:
			return "been interrupted";
		case JOSE_JSON_NOMEM:
			return "out of memory";
	}
	return "an error";
}

const jose_json_value *
jose_json_get_n(const jose_json_object *obj, const char *name, size_t len)
{
	for (size_t i = 0; i < obj->n; i++)
		if (jose_json_string_eq(&obj->members[i].name, name, len))
			return &obj->members[i].value;
	return NULL;
}

int
jose_json_string_eq(const jose_json_value *v, const char *s, size_t len)
{
	char		buf[256];
	char	   *d;
	size_t		dl;
	int			eq;

	if (v->type != JOSE_JSON_STRING)
		return 0;
	if (!v->escaped)
		return v->len == len && bytes_eq(v->p, s, len);
	/* decoding never makes a string longer */
	if (v->len < len)
		return 0;
	d = v->len <= sizeof(buf) ? buf : malloc(v->len);
	if (d == NULL)
		return 0;
	dl = decode_span(v->p, v->len, d);
	eq = dl == len && memcmp(d, s, len) == 0;
	if (d != buf)
		free(d);
	return eq;
}

int
jose_json_number(const jose_json_value *v, double *out)
{
	char		buf[64];
	char	   *copy;
	char	   *end;
	double		d;
	int			simple = 1;

	if (v->type != JOSE_JSON_NUMBER)
		return 0;

	/* the common case, an integer of up to 15 digits, exactly */
	if (v->len <= 16)
	{
		size_t		i = v->p[0] == '-' ? 1 : 0;
		uint64_t	acc = 0;

		if (v->len - i <= 15)
		{
			for (; i < v->len; i++)
			{
				if (v->p[i] < '0' || v->p[i] > '9')
				{
					simple = 0;
					break;
				}
				acc = acc * 10 + (uint64_t) (v->p[i] - '0');
			}
			if (simple)
			{
				/* at most 15 digits: exactly a double */
				*out = v->p[0] == '-' ? -(double) acc : (double) acc;
				return 1;
			}
		}
	}

	copy = v->len < sizeof(buf) ? buf : malloc(v->len + 1);
	if (copy == NULL)
		return 0;
	memcpy(copy, v->p, v->len);
	copy[v->len] = '\0';
	d = strtod(copy, &end);
	if (copy != buf)
		free(copy);
	/* overflow gives HUGE_VAL: a time claim must be a finite number */
	if (!isfinite(d))
		return 0;
	*out = d;
	return 1;
}

int
jose_json_array_next(const jose_json_value *arr, size_t *pos, jose_json_value *elem)
{
	parser		p;

	if (arr->type != JOSE_JSON_ARRAY)
		return 0;
	p.s = (const unsigned char *) arr->p;
	p.len = arr->len;
	p.pos = *pos == 0 ? 1 : *pos;	/* past '[' */
	p.depth = 1;
	p.max_depth = JOSE_JSON_MAX_DEPTH;
	p.top = NULL;
	p.tape = NULL;
	p.stop = NULL;
	p.ticks = 0;
	p.names = p.inline_names;
	p.nnames = 0;
	p.capnames = sizeof(p.inline_names) / sizeof(p.inline_names[0]);

	skip_ws(&p);
	if (p.pos < p.len && p.s[p.pos] == ',')
	{
		p.pos++;
		skip_ws(&p);
	}
	if (p.pos >= p.len || p.s[p.pos] == ']')
		return 0;
	if (parse_value(&p, elem) != JOSE_JSON_OK)
	{
		if (p.names != p.inline_names)
			free(p.names);
		return 0;
	}
	if (p.names != p.inline_names)
		free(p.names);
	*pos = p.pos;
	return 1;
}
