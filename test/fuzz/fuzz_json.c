/*
 * fuzz_json.c
 *		libFuzzer harness: the strict JSON parser (jose_json_parse_object,
 *		jose_json_validate) and the walkers over what it accepts, and the
 *		strict base64url decoder.
 *
 * Beyond memory errors it checks what the parser promises: validation,
 * object parsing and the tape agree; what parses walks again from its
 * spans; the tape holds every value in the order of the text, each
 * container's contents ending where it says; strings decode to well-formed
 * UTF-8 without NUL that compares equal to itself; no two members of an
 * object share a decoded name (each name finds its own member); base64url
 * has exactly one encoding of any bytes.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/jose.h"
#include "fuzz.h"
#include "../core/tapewalk.h"

static volatile double dsink;

/* Well-formed UTF-8 (RFC 3629), and no NUL, which no JSON string may decode to. */
static int
utf8_ok(const unsigned char *s, size_t n)
{
	size_t		i = 0;

	while (i < n)
	{
		unsigned char c = s[i];
		size_t		len;
		uint32_t	cp;

		if (c == 0)
			return 0;
		if (c < 0x80)
		{
			i++;
			continue;
		}
		if (c >= 0xC2 && c <= 0xDF)
			len = 2, cp = c & 0x1F;
		else if (c >= 0xE0 && c <= 0xEF)
			len = 3, cp = c & 0x0F;
		else if (c >= 0xF0 && c <= 0xF4)
			len = 4, cp = c & 0x07;
		else
			return 0;
		if (i + len > n)
			return 0;
		for (size_t j = 1; j < len; j++)
		{
			if ((s[i + j] & 0xC0) != 0x80)
				return 0;
			cp = (cp << 6) | (s[i + j] & 0x3F);
		}
		if ((len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) ||
			(cp >= 0xD800 && cp <= 0xDFFF) || cp > 0x10FFFF)
			return 0;
		i += len;
	}
	return 1;
}

static void walk_value(const jose_json_value *v, int depth);

/* A string value decoded: its bytes in fresh memory, NUL-terminated. */
static char *
decode_string(const jose_json_value *v, size_t *n)
{
	char	   *out = malloc(v->len + 1);

	FUZZ_CHECK(out != NULL, "malloc");
	*n = jose_json_string_decode(v, out);
	FUZZ_CHECK(*n <= v->len, "a decoded string longer than its text");
	FUZZ_CHECK(v->escaped || (*n == v->len && memcmp(out, v->p, *n) == 0),
			   "an unescaped string decoded to something else");
	out[*n] = '\0';
	FUZZ_CHECK(utf8_ok((const unsigned char *) out, *n),
			   "a string decoded to ill-formed UTF-8 or NUL");
	FUZZ_CHECK(jose_json_string_eq(v, out, *n), "a string unequal to its decoding");
	return out;
}

/* The members of a parsed object: each name finds its own member. */
static void
walk_object(const jose_json_object *obj, int depth)
{
	FUZZ_CHECK(obj->n <= obj->cap, "members past capacity");
	for (size_t i = 0; i < obj->n; i++)
	{
		const jose_json_member *m = &obj->members[i];
		size_t		n;
		char	   *name;

		FUZZ_CHECK(m->name.type == JOSE_JSON_STRING, "a member name that is no string");
		name = decode_string(&m->name, &n);
		FUZZ_CHECK(jose_json_get(obj, name) == &m->value,
				   "a member name that finds another member: a missed duplicate");
		free(name);
		walk_value(&m->value, depth + 1);
	}
}

static void
walk_value(const jose_json_value *v, int depth)
{
	FUZZ_CHECK(depth <= JOSE_JSON_MAX_DEPTH + 1, "nesting past the limit");
	switch (v->type)
	{
		case JOSE_JSON_STRING:
			{
				size_t		n;

				free(decode_string(v, &n));
				break;
			}
		case JOSE_JSON_NUMBER:
			{
				double		d;

				if (jose_json_number(v, &d))
					dsink = d;
				break;
			}
		case JOSE_JSON_ARRAY:
			{
				jose_json_value elem;
				size_t		pos = 0;
				size_t		count = 0;

				FUZZ_CHECK(v->len >= 2 && v->p[0] == '[' && v->p[v->len - 1] == ']',
						   "an array span");
				while (jose_json_array_next(v, &pos, &elem))
				{
					FUZZ_CHECK(pos <= v->len && ++count <= v->len, "array walk");
					walk_value(&elem, depth + 1);
				}
				break;
			}
		case JOSE_JSON_OBJECT:
			{
				jose_json_object obj;
				jose_json_error err = jose_json_parse_object(v->p, v->len, &obj);

				FUZZ_CHECK(err == JOSE_JSON_OK, "a nested object that does not parse again");
				walk_object(&obj, depth);
				jose_json_object_free(&obj);
				break;
			}
		case JOSE_JSON_TRUE:
			FUZZ_CHECK(v->len == 4 && memcmp(v->p, "true", 4) == 0, "true");
			break;
		case JOSE_JSON_FALSE:
			FUZZ_CHECK(v->len == 5 && memcmp(v->p, "false", 5) == 0, "false");
			break;
		case JOSE_JSON_NULL:
			FUZZ_CHECK(v->len == 4 && memcmp(v->p, "null", 4) == 0, "null");
			break;
		default:
			FUZZ_CHECK(0, "a value of no type");
	}
}

static int
same_value(const jose_json_value *a, const jose_json_value *b)
{
	return a->type == b->type && a->escaped == b->escaped && a->p == b->p && a->len == b->len;
}

/* The tape: as validation says, whole, and an object's members as parsing finds them. */
static void
fuzz_tape(const char *s, size_t size, jose_json_error verr)
{
	jose_json_tape t;
	jose_json_error terr;

	jose_json_tape_init(&t);
	terr = jose_json_parse_tape(s, size, NULL, JOSE_JSON_MAX_DEPTH, &t);
	FUZZ_CHECK(terr == verr, "the tape and validation disagree");
	if (terr == JOSE_JSON_OK)
	{
		FUZZ_CHECK(t.n > 0 && t.n <= t.cap && t.nodes[0].end == t.n, "a tape that is not one value");
		FUZZ_CHECK(tape_walk(&t, 0) == t.n, "a tape whose containers do not hold their contents");
		if (t.nodes[0].v.type == JOSE_JSON_OBJECT)
		{
			jose_json_object obj;
			size_t		at = 1;

			FUZZ_CHECK(jose_json_parse_object(s, size, &obj) == JOSE_JSON_OK, "object");
			FUZZ_CHECK(obj.n == t.nodes[0].count, "the tape counts other members");
			for (size_t i = 0; i < obj.n && at + 1 < t.n; i++)
			{
				FUZZ_CHECK(same_value(&obj.members[i].name, &t.nodes[at].v) &&
						   same_value(&obj.members[i].value, &t.nodes[at + 1].v),
						   "a member on the tape that parsing does not find there");
				at = t.nodes[at + 1].end;
			}
			jose_json_object_free(&obj);
		}
	}
	jose_json_tape_free(&t);
	FUZZ_CHECK(t.n == 0 && t.nodes == t.inline_nodes, "a freed tape");
}

static int
is_ws(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

static void
fuzz_json(const char *s, size_t size)
{
	jose_json_type type = 0;
	jose_json_error verr = jose_json_validate(s, size, &type);
	jose_json_object obj;
	jose_json_error perr = jose_json_parse_object(s, size, &obj);

	FUZZ_CHECK(jose_json_error_text(verr) != NULL && jose_json_error_text(perr) != NULL,
			   "error text");
	fuzz_tape(s, size, verr);
	if (verr != JOSE_JSON_OK)
		FUZZ_CHECK(perr == verr, "validate and parse disagree on invalid JSON");
	else if (type == JOSE_JSON_OBJECT)
		FUZZ_CHECK(perr == JOSE_JSON_OK, "valid object text that does not parse as an object");
	else
		FUZZ_CHECK(perr == JOSE_JSON_NOT_OBJECT, "valid non-object text not refused as one");

	if (perr == JOSE_JSON_OK)
		walk_object(&obj, 1);
	else
		FUZZ_CHECK(obj.n == 0, "members left after a failed parse");
	jose_json_object_free(&obj);

	/* a valid top-level value of another type: walk it from its span */
	if (verr == JOSE_JSON_OK && type != JOSE_JSON_OBJECT)
	{
		jose_json_value v;
		size_t		b = 0,
					e = size;

		while (b < e && is_ws(s[b]))
			b++;
		while (e > b && is_ws(s[e - 1]))
			e--;
		v.type = type;
		v.escaped = 0;
		v.p = s + b;
		v.len = e - b;
		if (type == JOSE_JSON_STRING)
		{
			FUZZ_CHECK(v.len >= 2, "a string span");
			v.p++;
			v.len -= 2;
			v.escaped = memchr(v.p, '\\', v.len) != NULL;
		}
		walk_value(&v, 1);
	}
}

/* Strict base64url: whatever decodes encodes back to the same text, and back. */
static void
fuzz_b64(const char *s, size_t size)
{
	unsigned char *dec = malloc(JOSE_B64_DECODED_MAX(size));
	char	   *enc = malloc(JOSE_B64_ENCODED_LEN(size) + 1);
	size_t		n = 0;

	FUZZ_CHECK(dec != NULL && enc != NULL, "malloc");
	if (jose_b64url_decode(s, size, dec, &n))
	{
		char	   *again = malloc(JOSE_B64_ENCODED_LEN(n) + 1);

		FUZZ_CHECK(again != NULL, "malloc");
		FUZZ_CHECK(n <= JOSE_B64_DECODED_MAX(size), "decoded past its maximum");
		FUZZ_CHECK(jose_b64url_encode(dec, n, again) == size && memcmp(again, s, size) == 0,
				   "base64url text that is not the one encoding of its bytes");
		free(again);
	}
	/* the input as bytes: encode, decode, compare */
	n = jose_b64url_encode((const unsigned char *) s, size, enc);
	FUZZ_CHECK(n == JOSE_B64_ENCODED_LEN(size), "encoded length");
	free(dec);
	dec = malloc(JOSE_B64_DECODED_MAX(n));
	FUZZ_CHECK(dec != NULL, "malloc");
	{
		size_t		m = 0;

		FUZZ_CHECK(jose_b64url_decode(enc, n, dec, &m) && m == size &&
				   memcmp(dec, s, size) == 0, "base64url round trip");
	}
	free(dec);
	free(enc);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	fuzz_json((const char *) data, size);
	fuzz_b64((const char *) data, size);
	return 0;
}
