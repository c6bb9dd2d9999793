/*
 * run_core.c
 *		Standalone tests of the JOSE core (src/core), linked without any
 *		PostgreSQL header or library: base64url, strict JSON, keys and raw
 *		HMAC, and jose_verify rule by rule.  The published vectors are in
 *		vectors.c.
 *
 * Every check is counted; a failed check prints one line naming it, and the
 * run ends with the line "core: N passed, N failed", then, when the vectors
 * folder is there, "core-vectors: N passed, N failed" for vectors.c's checks.
 * The exit status is non-zero when any check failed.
 *
 * Copyright (c) 2026, the jwt for PostgreSQL developers.  PostgreSQL licence.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "core/jose.h"
#include "testutil.h"
#include "tapewalk.h"

/* ---------------------------------------------------------------------
 * Checks and their counters
 * --------------------------------------------------------------------- */

static int	n_passed;
static int	n_failed;

static void
report_failure(const char *file, int line, const char *fmt, va_list ap,
			   const char *extra)
{
	printf("FAIL %s:%d: ", file, line);
	vprintf(fmt, ap);
	if (extra != NULL)
		printf(" (%s)", extra);
	putchar('\n');
}

/* A fixture or setup step: its failure fails the run, its success is not a check. */
void
t_setup(int ok, const char *file, int line, const char *fmt, ...)
{
	va_list		ap;

	if (ok)
		return;
	n_failed++;
	va_start(ap, fmt);
	report_failure(file, line, fmt, ap, "setup");
	va_end(ap);
}

void
t_check(int ok, const char *file, int line, const char *fmt, ...)
{
	va_list		ap;

	if (ok)
	{
		n_passed++;
		return;
	}
	n_failed++;
	va_start(ap, fmt);
	report_failure(file, line, fmt, ap, NULL);
	va_end(ap);
}

void
t_check_status(jose_status got, jose_status want, const char *file, int line,
			   const char *fmt, ...)
{
	va_list		ap;
	char		extra[128];

	if (got == want)
	{
		n_passed++;
		return;
	}
	n_failed++;
	snprintf(extra, sizeof(extra), "got %s, want %s",
			 t_status_name(got), t_status_name(want));
	va_start(ap, fmt);
	report_failure(file, line, fmt, ap, extra);
	va_end(ap);
}

void
t_check_json(jose_json_error got, jose_json_error want, const char *file,
			 int line, const char *fmt, ...)
{
	va_list		ap;
	char		extra[128];

	if (got == want)
	{
		n_passed++;
		return;
	}
	n_failed++;
	snprintf(extra, sizeof(extra), "got %s, want %s",
			 t_json_error_name(got), t_json_error_name(want));
	va_start(ap, fmt);
	report_failure(file, line, fmt, ap, extra);
	va_end(ap);
}

const char *
t_status_name(jose_status st)
{
	switch (st)
	{
		case JOSE_OK: return "JOSE_OK";
		case JOSE_E_TOO_LARGE: return "JOSE_E_TOO_LARGE";
		case JOSE_E_BEARER: return "JOSE_E_BEARER";
		case JOSE_E_FORM: return "JOSE_E_FORM";
		case JOSE_E_BASE64: return "JOSE_E_BASE64";
		case JOSE_E_HEADER_JSON: return "JOSE_E_HEADER_JSON";
		case JOSE_E_HEADER_DUP: return "JOSE_E_HEADER_DUP";
		case JOSE_E_ALG_MISSING: return "JOSE_E_ALG_MISSING";
		case JOSE_E_ALG_NONE: return "JOSE_E_ALG_NONE";
		case JOSE_E_ALG_UNKNOWN: return "JOSE_E_ALG_UNKNOWN";
		case JOSE_E_CRIT: return "JOSE_E_CRIT";
		case JOSE_E_B64: return "JOSE_E_B64";
		case JOSE_E_ZIP: return "JOSE_E_ZIP";
		case JOSE_E_KID_TYPE: return "JOSE_E_KID_TYPE";
		case JOSE_E_ALG_NOT_ALLOWED: return "JOSE_E_ALG_NOT_ALLOWED";
		case JOSE_E_ALG_KEY: return "JOSE_E_ALG_KEY";
		case JOSE_E_KID_UNKNOWN: return "JOSE_E_KID_UNKNOWN";
		case JOSE_E_KID_REQUIRED: return "JOSE_E_KID_REQUIRED";
		case JOSE_E_SIGNATURE: return "JOSE_E_SIGNATURE";
		case JOSE_E_SIG_RANGE: return "JOSE_E_SIG_RANGE";
		case JOSE_E_PAYLOAD_JSON: return "JOSE_E_PAYLOAD_JSON";
		case JOSE_E_PAYLOAD_DUP: return "JOSE_E_PAYLOAD_DUP";
		case JOSE_E_PAYLOAD_OBJECT: return "JOSE_E_PAYLOAD_OBJECT";
		case JOSE_E_CLAIM_TYPE: return "JOSE_E_CLAIM_TYPE";
		case JOSE_E_EXPIRED: return "JOSE_E_EXPIRED";
		case JOSE_E_NOT_YET_VALID: return "JOSE_E_NOT_YET_VALID";
		case JOSE_E_IAT_FUTURE: return "JOSE_E_IAT_FUTURE";
		case JOSE_E_AUDIENCE: return "JOSE_E_AUDIENCE";
		case JOSE_E_AUDIENCE_UNEXPECTED: return "JOSE_E_AUDIENCE_UNEXPECTED";
		case JOSE_E_ISSUER: return "JOSE_E_ISSUER";
		case JOSE_E_TOKEN_LAST_: return "JOSE_E_TOKEN_LAST_";
		case JOSE_E_ALG_INVALID: return "JOSE_E_ALG_INVALID";
		case JOSE_E_ALG_FORBIDDEN: return "JOSE_E_ALG_FORBIDDEN";
		case JOSE_E_ALG_UNSUPPORTED: return "JOSE_E_ALG_UNSUPPORTED";
		case JOSE_E_KEY_EMPTY: return "JOSE_E_KEY_EMPTY";
		case JOSE_E_KEY_FORMAT: return "JOSE_E_KEY_FORMAT";
		case JOSE_E_KEY_WEAK: return "JOSE_E_KEY_WEAK";
		case JOSE_E_KEY_NOT_VALID: return "JOSE_E_KEY_NOT_VALID";
		case JOSE_E_CLAIM_MISSING: return "JOSE_E_CLAIM_MISSING";
		case JOSE_E_TOO_OLD: return "JOSE_E_TOO_OLD";
		case JOSE_E_REVOKED: return "JOSE_E_REVOKED";
		case JOSE_E_KEY_ROCA: return "JOSE_E_KEY_ROCA";
		case JOSE_E_KEYSET_MIXED: return "JOSE_E_KEYSET_MIXED";
		case JOSE_E_KEY_ENCRYPTED: return "JOSE_E_KEY_ENCRYPTED";
		case JOSE_E_KEY_SSH: return "JOSE_E_KEY_SSH";
		case JOSE_E_KEY_CURVE: return "JOSE_E_KEY_CURVE";
		case JOSE_E_KEY_INVALID: return "JOSE_E_KEY_INVALID";
		case JOSE_E_KEY_NOT_PRIVATE: return "JOSE_E_KEY_NOT_PRIVATE";
		case JOSE_E_KEY_SECRET_PUBLIC: return "JOSE_E_KEY_SECRET_PUBLIC";
		case JOSE_E_KEY_TOO_LARGE: return "JOSE_E_KEY_TOO_LARGE";
		case JOSE_E_KEYSET_TOO_MANY: return "JOSE_E_KEYSET_TOO_MANY";
		case JOSE_E_KEY_DEGENERATE: return "JOSE_E_KEY_DEGENERATE";
		case JOSE_E_KEY_NOT_SECRET: return "JOSE_E_KEY_NOT_SECRET";
		case JOSE_E_KEY_PEM_INDENTED: return "JOSE_E_KEY_PEM_INDENTED";
		case JOSE_E_KEY_KTY: return "JOSE_E_KEY_KTY";
		case JOSE_E_KEY_SHORT: return "JOSE_E_KEY_SHORT";
		case JOSE_E_KEY_ALG: return "JOSE_E_KEY_ALG";
		case JOSE_E_KEY_USE: return "JOSE_E_KEY_USE";
		case JOSE_E_KEYSET_EMPTY: return "JOSE_E_KEYSET_EMPTY";
		case JOSE_E_KEYSET_DUP_KID: return "JOSE_E_KEYSET_DUP_KID";
		case JOSE_E_KEYSET_SIGN: return "JOSE_E_KEYSET_SIGN";
		case JOSE_E_CALL_LAST_: return "JOSE_E_CALL_LAST_";
		case JOSE_E_NOMEM: return "JOSE_E_NOMEM";
		case JOSE_E_CRYPTO: return "JOSE_E_CRYPTO";
		case JOSE_E_INTERRUPTED: return "JOSE_E_INTERRUPTED";
	}
	return "(unknown jose_status)";
}

const char *
t_json_error_name(jose_json_error err)
{
	switch (err)
	{
		case JOSE_JSON_OK: return "JOSE_JSON_OK";
		case JOSE_JSON_SYNTAX: return "JOSE_JSON_SYNTAX";
		case JOSE_JSON_UTF8: return "JOSE_JSON_UTF8";
		case JOSE_JSON_ESCAPE: return "JOSE_JSON_ESCAPE";
		case JOSE_JSON_DEPTH: return "JOSE_JSON_DEPTH";
		case JOSE_JSON_NUMBER_RANGE: return "JOSE_JSON_NUMBER_RANGE";
		case JOSE_JSON_DUPLICATE: return "JOSE_JSON_DUPLICATE";
		case JOSE_JSON_NOT_OBJECT: return "JOSE_JSON_NOT_OBJECT";
		case JOSE_JSON_NOMEM: return "JOSE_JSON_NOMEM";
		case JOSE_JSON_INTERRUPTED: return "JOSE_JSON_INTERRUPTED";
	}
	return "(unknown jose_json_error)";
}

/* ---------------------------------------------------------------------
 * Small helpers
 * --------------------------------------------------------------------- */

/*
 * Strings built during a test area are kept here and freed together at the
 * end of the area, so the tests read as a list of cases.
 */
static void **arena;
static size_t arena_n,
			arena_cap;

static void *
keep(void *p)
{
	if (p == NULL)
	{
		fprintf(stderr, "run_core: out of memory\n");
		exit(2);
	}
	if (arena_n == arena_cap)
	{
		size_t		ncap = arena_cap ? arena_cap * 2 : 64;
		void	  **n = realloc(arena, ncap * sizeof(void *));

		if (n == NULL)
		{
			fprintf(stderr, "run_core: out of memory\n");
			exit(2);
		}
		arena = n;
		arena_cap = ncap;
	}
	arena[arena_n++] = p;
	return p;
}

static void
arena_free_all(void)
{
	for (size_t i = 0; i < arena_n; i++)
		free(arena[i]);
	free(arena);
	arena = NULL;
	arena_n = arena_cap = 0;
}

/* A kept, NUL-terminated copy of len bytes. */
static char *
kdup(const void *p, size_t len)
{
	char	   *s = keep(malloc(len + 1));

	memcpy(s, p, len);
	s[len] = '\0';
	return s;
}

/* A kept string from printf-style arguments. */
static char *kfmt(const char *fmt, ...) T_PRINTF(1, 2);

static char *
kfmt(const char *fmt, ...)
{
	va_list		ap;
	int			n;
	char	   *s;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	s = keep(malloc((size_t) n + 1));
	va_start(ap, fmt);
	vsnprintf(s, (size_t) n + 1, fmt, ap);
	va_end(ap);
	return s;
}

/* base64url of bytes, kept and NUL-terminated. */
static char *
kb64(const void *p, size_t len)
{
	char	   *s = keep(malloc(JOSE_B64_ENCODED_LEN(len) + 1));
	size_t		n = jose_b64url_encode(p, len, s);

	s[n] = '\0';
	return s;
}

/* Pseudo-random bytes, the same on every run. */
static uint32_t lcg_state = 0x2545F491u;

static unsigned char
lcg_byte(void)
{
	lcg_state = lcg_state * 1103515245u + 12345u;
	return (unsigned char) (lcg_state >> 16);
}

static int
b64_alphabet_index(unsigned char c)
{
	static const char alphabet[] =
		"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
	const char *p;

	if (c == '\0')
		return -1;
	p = strchr(alphabet, c);
	return p ? (int) (p - alphabet) : -1;
}

static char
b64_char(int idx)
{
	static const char alphabet[] =
		"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

	return alphabet[idx];
}

/* ---------------------------------------------------------------------
 * 1. base64url
 * --------------------------------------------------------------------- */

/* Does the strict decoder accept in[0..len)?  When it does, the bytes. */
static int
b64_decode_ok(const char *in, size_t len, unsigned char *out, size_t *outlen)
{
	unsigned char scratch[256];

	if (JOSE_B64_DECODED_MAX(len) > sizeof(scratch))
		return -1;
	*outlen = 0;
	if (!jose_b64url_decode(in, len, out ? out : scratch, outlen))
		return 0;
	return 1;
}

static void
test_b64(void)
{
	static const struct
	{
		const char *plain;
		const char *enc;
	}			rfc4648[] = {
		/* RFC 4648 section 10, in base64url form without padding */
		{"", ""},
		{"f", "Zg"},
		{"fo", "Zm8"},
		{"foo", "Zm9v"},
		{"foob", "Zm9vYg"},
		{"fooba", "Zm9vYmE"},
		{"foobar", "Zm9vYmFy"},
	};
	static const struct
	{
		unsigned char bytes[3];
		size_t		len;
		const char *enc;
	}			urlsafe[] = {
		/* the two characters where base64url differs from base64 */
		{{0xfb, 0xff}, 2, "-_8"},
		{{0xfb, 0xef, 0xbe}, 3, "----"},
		{{0xff, 0xff, 0xff}, 3, "____"},
		{{0x00, 0x00, 0x00}, 3, "AAAA"},
		{{0x00}, 1, "AA"},
	};
	static const struct
	{
		const char *s;
		size_t		len;
		const char *why;
	}			bad[] = {
		{LIT("Zg=="), "padding '=='"},
		{LIT("Zg="), "padding '='"},
		{LIT("Zm8="), "padding '=' after 3 characters"},
		{LIT("Zm9v===="), "a block of padding"},
		{LIT("=Zm9"), "'=' first"},
		{LIT("Zm+v"), "'+'"},
		{LIT("Zm/v"), "'/'"},
		{LIT("+/+/"), "'+' and '/' only"},
		{LIT("Zm 9"), "a space inside"},
		{LIT(" Zm9"), "a leading space"},
		{LIT("Zm9\n"), "a trailing newline"},
		{LIT("Zm\t9"), "a tab"},
		{LIT("Zm\r9"), "a carriage return"},
		{LIT("Zm9vY"), "length mod 4 == 1 (5)"},
		{LIT("A"), "length mod 4 == 1 (1)"},
		{LIT("Zm9vYmFyZ"), "length mod 4 == 1 (9)"},
		{LIT("QR"), "non-zero unused bits ('QR', 'QQ' is canonical)"},
		{LIT("Zh"), "non-zero unused bits ('Zh', 'Zg' is canonical)"},
		{LIT("QUJ"), "non-zero unused bits ('QUJ', 'QUI' is canonical)"},
		{LIT("Zm9"), "non-zero unused bits ('Zm9', 'Zm8' is canonical)"},
		{LIT("Zm9vYh"), "non-zero unused bits after a full block"},
		{LIT("Zm\x80v"), "byte 0x80"},
		{LIT("Zm\xffv"), "byte 0xff"},
		{LIT("\xc3\xa9" "AA"), "a UTF-8 letter"},
		{LIT("Zm\0v"), "NUL inside"},
		{LIT("Zm9\0"), "NUL last"},
		{LIT("Zm9vYg\0\0"), "NUL as padding"},
		{LIT("Zm.v"), "'.'"},
		{LIT("Zm*v"), "'*'"},
		{LIT("Zm~v"), "'~'"},
	};
	unsigned char in[256],
				out[256];
	char		enc[400];
	size_t		n,
				outlen;

	/* round trips of every length 0..64 of pseudo-random bytes */
	for (size_t len = 0; len <= 64; len++)
	{
		int			alphabet_only = 1;

		for (size_t i = 0; i < len; i++)
			in[i] = lcg_byte();
		n = jose_b64url_encode(in, len, enc);
		for (size_t i = 0; i < n; i++)
			if (b64_alphabet_index((unsigned char) enc[i]) < 0)
				alphabet_only = 0;
		CHECK(n == JOSE_B64_ENCODED_LEN(len) && alphabet_only,
			  "b64: encoding of %zu bytes has the expected length and no padding", len);
		CHECK(b64_decode_ok(enc, n, out, &outlen) == 1 && outlen == len &&
			  memcmp(in, out, len) == 0,
			  "b64: round trip of %zu bytes", len);
	}

	/* every byte value once */
	for (size_t i = 0; i < 256; i++)
		in[i] = (unsigned char) i;
	n = jose_b64url_encode(in, 256, enc);
	{
		unsigned char *big = malloc(JOSE_B64_DECODED_MAX(n));

		CHECK(big != NULL && jose_b64url_decode(enc, n, big, &outlen) &&
			  outlen == 256 && memcmp(big, in, 256) == 0,
			  "b64: round trip of bytes 0..255");
		free(big);
	}

	for (size_t i = 0; i < sizeof(rfc4648) / sizeof(rfc4648[0]); i++)
	{
		size_t		plen = strlen(rfc4648[i].plain);

		n = jose_b64url_encode((const unsigned char *) rfc4648[i].plain, plen, enc);
		CHECK(n == strlen(rfc4648[i].enc) && memcmp(enc, rfc4648[i].enc, n) == 0,
			  "b64: RFC 4648 encode \"%s\" -> \"%s\"", rfc4648[i].plain, rfc4648[i].enc);
		CHECK(b64_decode_ok(rfc4648[i].enc, strlen(rfc4648[i].enc), out, &outlen) == 1 &&
			  outlen == plen && memcmp(out, rfc4648[i].plain, plen) == 0,
			  "b64: RFC 4648 decode \"%s\" -> \"%s\"", rfc4648[i].enc, rfc4648[i].plain);
	}

	for (size_t i = 0; i < sizeof(urlsafe) / sizeof(urlsafe[0]); i++)
	{
		n = jose_b64url_encode(urlsafe[i].bytes, urlsafe[i].len, enc);
		CHECK(n == strlen(urlsafe[i].enc) && memcmp(enc, urlsafe[i].enc, n) == 0,
			  "b64: encode to \"%s\"", urlsafe[i].enc);
		CHECK(b64_decode_ok(urlsafe[i].enc, n, out, &outlen) == 1 &&
			  outlen == urlsafe[i].len && memcmp(out, urlsafe[i].bytes, outlen) == 0,
			  "b64: decode \"%s\"", urlsafe[i].enc);
	}

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		CHECK(b64_decode_ok(bad[i].s, bad[i].len, NULL, &outlen) == 0,
			  "b64: refuses %s", bad[i].why);

	/* every byte value in a full block: accepted exactly for the alphabet */
	for (int c = 0; c < 256; c++)
	{
		char		s[4] = {'A', 'A', 'A', (char) c};
		char		t[4] = {(char) c, 'A', 'A', 'A'};
		int			want = b64_alphabet_index((unsigned char) c) >= 0;

		CHECK(b64_decode_ok(s, 4, NULL, &outlen) == want,
			  "b64: byte 0x%02x last in a block %s", c, want ? "accepted" : "refused");
		CHECK(b64_decode_ok(t, 4, NULL, &outlen) == want,
			  "b64: byte 0x%02x first in a block %s", c, want ? "accepted" : "refused");
	}

	/* unused trailing bits: exactly the canonical final characters pass */
	for (int idx = 0; idx < 64; idx++)
	{
		char		two[2] = {'Q', b64_char(idx)};
		char		three[3] = {'Q', 'U', b64_char(idx)};

		CHECK(b64_decode_ok(two, 2, NULL, &outlen) == ((idx & 0x0F) == 0),
			  "b64: \"Q%c\" %s", b64_char(idx), (idx & 0x0F) == 0 ? "accepted" : "refused (stray bits)");
		CHECK(b64_decode_ok(three, 3, NULL, &outlen) == ((idx & 0x03) == 0),
			  "b64: \"QU%c\" %s", b64_char(idx), (idx & 0x03) == 0 ? "accepted" : "refused (stray bits)");
	}
	CHECK(b64_decode_ok(LIT("QQ"), out, &outlen) == 1 && outlen == 1 && out[0] == 'A',
		  "b64: \"QQ\" decodes to \"A\"");
}

/* ---------------------------------------------------------------------
 * 2. JSON
 * --------------------------------------------------------------------- */

static jose_json_error
parse_len(const char *s, size_t len)
{
	jose_json_object o;
	jose_json_error e = jose_json_parse_object(s, len, &o);

	jose_json_object_free(&o);
	return e;
}

static jose_json_error
parse_str(const char *s)
{
	return parse_len(s, strlen(s));
}

static jose_json_error
validate_len(const char *s, size_t len)
{
	jose_json_type t;

	return jose_json_validate(s, len, &t);
}

static jose_json_error
validate_str(const char *s)
{
	return validate_len(s, strlen(s));
}

/* An object of n members "k00", "k01", ... with integer values, then tail. */
static char *
big_object(size_t n, const char *tail)
{
	size_t		cap = n * 16 + strlen(tail) + 8;
	char	   *s = keep(malloc(cap));
	size_t		used = 0;

	s[used++] = '{';
	for (size_t i = 0; i < n; i++)
		used += (size_t) snprintf(s + used, cap - used, "%s\"k%02zu\":%zu",
								  i ? "," : "", i, i);
	used += (size_t) snprintf(s + used, cap - used, "%s}", tail);
	return s;
}

/* depth levels of nesting: arrays "[[...]]" or objects {"a":{"a":...1}}. */
static char *
nested(size_t depth, int objects)
{
	size_t		cap = depth * 6 + 8;
	char	   *s = keep(malloc(cap));
	size_t		used = 0;

	for (size_t i = 0; i < depth; i++)
	{
		if (objects)
		{
			memcpy(s + used, "{\"a\":", 5);
			used += 5;
		}
		else
			s[used++] = '[';
	}
	if (objects)
		s[used++] = '1';
	for (size_t i = 0; i < depth; i++)
		s[used++] = objects ? '}' : ']';
	s[used] = '\0';
	return s;
}

/* jose_json_number on the value of {"n": text}; -1 if it did not parse. */
static int
number_of(const char *text, double *d)
{
	char	   *doc = kfmt("{\"n\":%s}", text);
	jose_json_object o;
	const jose_json_value *v;
	int			r = -1;

	if (jose_json_parse_object(doc, strlen(doc), &o) == JOSE_JSON_OK &&
		(v = jose_json_get(&o, "n")) != NULL)
		r = jose_json_number(v, d);
	jose_json_object_free(&o);
	return r;
}

static void
test_json_valid(void)
{
	const char *doc = " { \"a\" : 1 , \"b\":[true,false,null,{\"c\":\"d\"},[]],\n"
		"\t\"e\":{\"f\":-1.5e+3}, \"s\":\"x\" } ";
	static const char *const order[] = {"a", "b", "e", "s"};
	static const jose_json_type b_types[] = {
		JOSE_JSON_TRUE, JOSE_JSON_FALSE, JOSE_JSON_NULL, JOSE_JSON_OBJECT, JOSE_JSON_ARRAY
	};
	jose_json_object o,
				sub;
	const jose_json_value *v;
	jose_json_value elem;
	jose_json_type type;
	size_t		pos,
				count;
	double		d;
	int			ok;

	CHECK_JSON(jose_json_parse_object(doc, strlen(doc), &o), JOSE_JSON_OK,
			   "json: parse a valid object");
	CHECK(o.n == 4, "json: the object has 4 top-level members");
	ok = o.n == 4;
	for (size_t i = 0; ok && i < 4; i++)
		ok = jose_json_string_eq(&o.members[i].name, order[i], 1);
	CHECK(ok, "json: members are recorded in text order");

	v = jose_json_get(&o, "a");
	CHECK(v != NULL && v->type == JOSE_JSON_NUMBER && jose_json_number(v, &d) && d == 1,
		  "json: get \"a\" is the number 1");

	v = jose_json_get(&o, "b");
	CHECK(v != NULL && v->type == JOSE_JSON_ARRAY, "json: get \"b\" is an array");
	pos = 0;
	count = 0;
	ok = 1;
	while (v != NULL && jose_json_array_next(v, &pos, &elem))
	{
		if (count >= 5 || elem.type != b_types[count])
			ok = 0;
		if (count == 3)
			ok = ok && elem.len == 9 && memcmp(elem.p, "{\"c\":\"d\"}", 9) == 0;
		count++;
	}
	CHECK(ok && count == 5, "json: array_next walks true, false, null, {...}, [] in order");

	v = jose_json_get(&o, "e");
	CHECK(v != NULL && v->type == JOSE_JSON_OBJECT, "json: get \"e\" is an object");
	if (v != NULL)
	{
		CHECK_JSON(jose_json_parse_object(v->p, v->len, &sub), JOSE_JSON_OK,
				   "json: a nested object's span parses again");
		v = jose_json_get(&sub, "f");
		CHECK(v != NULL && jose_json_number(v, &d) && d == -1500.0,
			  "json: nested \"f\" is -1500");
		jose_json_object_free(&sub);
	}

	v = jose_json_get(&o, "s");
	CHECK(v != NULL && v->type == JOSE_JSON_STRING && !v->escaped &&
		  jose_json_string_eq(v, "x", 1) && !jose_json_string_eq(v, "y", 1) &&
		  !jose_json_string_eq(v, "xx", 2),
		  "json: get \"s\" is the string \"x\"");
	CHECK(jose_json_get(&o, "zz") == NULL && jose_json_get(&o, "") == NULL &&
		  jose_json_get(&o, "A") == NULL,
		  "json: get of an absent member is NULL");
	jose_json_object_free(&o);

	CHECK_JSON(jose_json_parse_object(LIT("{}"), &o), JOSE_JSON_OK, "json: {} parses");
	CHECK(o.n == 0, "json: {} has no member");
	jose_json_object_free(&o);

	/* jose_json_validate reports the top-level type */
	{
		static const struct
		{
			const char *text;
			jose_json_type type;
		}			tops[] = {
			{"[1,2]", JOSE_JSON_ARRAY},
			{" \"x\" ", JOSE_JSON_STRING},
			{"-12.5e3", JOSE_JSON_NUMBER},
			{"true", JOSE_JSON_TRUE},
			{"false", JOSE_JSON_FALSE},
			{"null", JOSE_JSON_NULL},
			{"{\"a\":[]}", JOSE_JSON_OBJECT},
		};

		for (size_t i = 0; i < sizeof(tops) / sizeof(tops[0]); i++)
		{
			type = 0;
			CHECK(jose_json_validate(tops[i].text, strlen(tops[i].text), &type) == JOSE_JSON_OK &&
				  type == tops[i].type,
				  "json: validate '%s' gives its type", tops[i].text);
		}
	}

	/* arrays walked with jose_json_array_next */
	{
		const char *text = "{\"x\":[1, \"two\" , [3,[4]], {\"f\":4}, null ]}";

		jose_json_parse_object(text, strlen(text), &o);
		v = jose_json_get(&o, "x");
		pos = 0;
		count = 0;
		ok = v != NULL;
		while (ok && jose_json_array_next(v, &pos, &elem))
		{
			if (count == 0)
				ok = elem.type == JOSE_JSON_NUMBER && elem.len == 1 && elem.p[0] == '1';
			else if (count == 1)
				ok = elem.type == JOSE_JSON_STRING && jose_json_string_eq(&elem, "two", 3);
			else if (count == 2)
				ok = elem.type == JOSE_JSON_ARRAY && elem.len == 7;
			else if (count == 3)
				ok = elem.type == JOSE_JSON_OBJECT;
			else if (count == 4)
				ok = elem.type == JOSE_JSON_NULL;
			count++;
		}
		CHECK(ok && count == 5, "json: array_next walks an array with spaces");
		jose_json_object_free(&o);

		text = "{\"e\":[],\"f\":[ ]}";
		jose_json_parse_object(text, strlen(text), &o);
		pos = 0;
		v = jose_json_get(&o, "e");
		CHECK(v != NULL && !jose_json_array_next(v, &pos, &elem), "json: array_next on []");
		pos = 0;
		v = jose_json_get(&o, "f");
		CHECK(v != NULL && !jose_json_array_next(v, &pos, &elem), "json: array_next on [ ]");
		pos = 0;
		CHECK(o.n == 2 && !jose_json_array_next(&o.members[0].name, &pos, &elem),
			  "json: array_next on a non-array (a string) is 0");
		jose_json_object_free(&o);
	}
}

static void
test_json_strings(void)
{
	/* every simple escape, BMP escapes, a surrogate pair, an ASCII escape */
	const char *doc = "{\"s\":\"a\\\"b\\\\c\\/d\\b\\f\\n\\r\\t\\u00e9\\u20AC\\ud83d\\ude00\\u0041\"}";
	static const char want[] = "a\"b\\c/d\b\f\n\r\t" "\xc3\xa9" "\xe2\x82\xac"
		"\xf0\x9f\x98\x80" "A";
	jose_json_object o;
	const jose_json_value *v;

	CHECK_JSON(jose_json_parse_object(doc, strlen(doc), &o), JOSE_JSON_OK,
			   "json: string with every escape parses");
	v = jose_json_get(&o, "s");
	CHECK(v != NULL && v->type == JOSE_JSON_STRING && v->escaped,
		  "json: an escaped string is marked escaped");
	if (v != NULL)
	{
		char	   *buf = malloc(v->len);
		size_t		n = jose_json_string_decode(v, buf);

		CHECK(n == sizeof(want) - 1 && memcmp(buf, want, n) == 0,
			  "json: string_decode of every escape, BMP and a surrogate pair");
		free(buf);
		CHECK(jose_json_string_eq(v, want, sizeof(want) - 1),
			  "json: string_eq with the decoded bytes");
		CHECK(!jose_json_string_eq(v, want, sizeof(want) - 2),
			  "json: string_eq refuses a prefix");
		CHECK(!jose_json_string_eq(v, "a\"b", 3), "json: string_eq refuses a short prefix");
	}
	jose_json_object_free(&o);

	/* raw UTF-8 needs no escape; an escaped name finds a plain one */
	doc = "{\"u\":\"\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80\xf4\x8f\xbf\xbf\xef\xbf\xbf\x7f\",\"\\u0061b\":2}";
	CHECK_JSON(jose_json_parse_object(doc, strlen(doc), &o), JOSE_JSON_OK,
			   "json: raw UTF-8 up to U+10FFFF and DEL are accepted");
	v = jose_json_get(&o, "u");
	CHECK(v != NULL && !v->escaped &&
		  jose_json_string_eq(v, LIT("\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80\xf4\x8f\xbf\xbf\xef\xbf\xbf\x7f")),
		  "json: raw UTF-8 string compares byte for byte");
	v = jose_json_get(&o, "ab");
	CHECK(v != NULL && v->type == JOSE_JSON_NUMBER,
		  "json: get finds a member whose name is spelled with an escape");
	jose_json_object_free(&o);

	/* invalid UTF-8, in values and in names */
	{
		static const struct
		{
			const char *s;
			size_t		len;
			const char *why;
		}			bad[] = {
			{LIT("{\"a\":\"\xc0\xaf\"}"), "overlong 2-byte C0 AF"},
			{LIT("{\"a\":\"\xc1\xbf\"}"), "overlong 2-byte C1 BF"},
			{LIT("{\"a\":\"\xe0\x80\xaf\"}"), "overlong 3-byte E0 80 AF"},
			{LIT("{\"a\":\"\xe0\x9f\xbf\"}"), "overlong 3-byte E0 9F BF"},
			{LIT("{\"a\":\"\xf0\x80\x80\xaf\"}"), "overlong 4-byte F0 80 80 AF"},
			{LIT("{\"a\":\"\xf0\x8f\xbf\xbf\"}"), "overlong 4-byte F0 8F BF BF"},
			{LIT("{\"a\":\"\xed\xa0\x80\"}"), "surrogate bytes ED A0 80"},
			{LIT("{\"a\":\"\xed\xbf\xbf\"}"), "surrogate bytes ED BF BF"},
			{LIT("{\"a\":\"\xf4\x90\x80\x80\"}"), "above U+10FFFF (F4 90 80 80)"},
			{LIT("{\"a\":\"\xf5\x80\x80\x80\"}"), "lead byte F5"},
			{LIT("{\"a\":\"\xf8\x88\x80\x80\x80\"}"), "lead byte F8"},
			{LIT("{\"a\":\"\xfe\"}"), "byte FE"},
			{LIT("{\"a\":\"\xff\"}"), "byte FF"},
			{LIT("{\"a\":\"\x80\"}"), "lone continuation 80"},
			{LIT("{\"a\":\"\xbf\"}"), "lone continuation BF"},
			{LIT("{\"a\":\"\xc3\"}"), "truncated 2-byte sequence"},
			{LIT("{\"a\":\"\xe2\x82\"}"), "truncated 3-byte sequence"},
			{LIT("{\"a\":\"\xf0\x9f\x98\"}"), "truncated 4-byte sequence"},
			{LIT("{\"a\":\"\xe2\x82x\"}"), "3-byte sequence broken by ASCII"},
			{LIT("{\"\xc0\xaf\":1}"), "overlong sequence in a member name"},
			{LIT("{\"\xed\xa0\x80\":1}"), "surrogate bytes in a member name"},
		};

		for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
			CHECK_JSON(parse_len(bad[i].s, bad[i].len), JOSE_JSON_UTF8,
					   "json: refuses invalid UTF-8: %s", bad[i].why);
		CHECK(parse_len(LIT("{\"a\":\"\xe2\x82")) != JOSE_JSON_OK,
			  "json: refuses UTF-8 truncated by the end of the text");
	}

	/* escapes: lone surrogates, \u0000, unknown escapes */
	{
		static const struct
		{
			const char *s;
			const char *why;
		}			bad[] = {
			{"{\"a\":\"\\ud800\"}", "lone high surrogate \\ud800"},
			{"{\"a\":\"\\udbff\"}", "lone high surrogate \\udbff"},
			{"{\"a\":\"\\udc00\"}", "lone low surrogate \\udc00"},
			{"{\"a\":\"\\uDFFF\"}", "lone low surrogate \\uDFFF"},
			{"{\"a\":\"\\udc00\\ud800\"}", "surrogates in the wrong order"},
			{"{\"a\":\"\\ud800\\u0041\"}", "high surrogate then a non-surrogate"},
			{"{\"a\":\"\\ud800\\ud800\"}", "two high surrogates"},
			{"{\"a\":\"\\ud800x\"}", "high surrogate then a letter"},
			{"{\"a\":\"x\\ud800\"}", "high surrogate at the end of a string"},
			{"{\"a\":\"\\u0000\"}", "\\u0000"},
			{"{\"a\\u0000\":1}", "\\u0000 in a member name"},
			{"{\"a\":\"\\x41\"}", "\\x escape"},
			{"{\"a\":\"\\U0041\"}", "\\U escape"},
			{"{\"a\":\"\\u00G1\"}", "non-hex digit in \\u"},
			{"{\"a\":\"\\u12\"}", "short \\u escape"},
			{"{\"a\":\"\\'\"}", "\\' escape"},
			{"{\"a\":\"\\a\"}", "\\a escape"},
			{"{\"a\":\"\\0\"}", "\\0 escape"},
		};

		for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
			CHECK_JSON(parse_str(bad[i].s), JOSE_JSON_ESCAPE, "json: refuses %s", bad[i].why);
		CHECK_JSON(parse_str("{\"a\":\"\\ud83d\\ude00\"}"), JOSE_JSON_OK,
				   "json: accepts a surrogate pair");
		CHECK_JSON(parse_str("{\"a\":\"\\uD83D\\uDE00\"}"), JOSE_JSON_OK,
				   "json: accepts a surrogate pair in upper case hex");
		CHECK_JSON(parse_str("{\"a\":\"\\udbff\\udfff\"}"), JOSE_JSON_OK,
				   "json: accepts U+10FFFF as a surrogate pair");
		CHECK_JSON(parse_str("{\"a\":\"\\u0001\\u001f\\uffff\"}"), JOSE_JSON_OK,
				   "json: accepts escaped control characters and U+FFFF");
	}

	/* raw control characters inside strings */
	for (int c = 0; c < 0x20; c++)
	{
		char		s[] = "{\"a\":\"x?y\"}";

		s[7] = (char) c;
		CHECK(parse_len(s, sizeof(s) - 1) != JOSE_JSON_OK,
			  "json: refuses raw control character 0x%02x in a string", c);
		s[7] = 'x';
		s[2] = (char) c;
		CHECK(parse_len(s, sizeof(s) - 1) != JOSE_JSON_OK,
			  "json: refuses raw control character 0x%02x in a member name", c);
	}
}

/*
 * Every byte in a string, alone and after a run of plain bytes that crosses
 * the parser's JOSE_STOP_BYTES pieces: the fast path over printable ASCII
 * must class each byte exactly as the byte-wise path does.
 */
static void
test_json_string_bytes(void)
{
	char		doc[8];
	size_t		offsets[] = {1, JOSE_STOP_BYTES - 2, JOSE_STOP_BYTES - 1, JOSE_STOP_BYTES,
	JOSE_STOP_BYTES + 1, 2 * JOSE_STOP_BYTES + 3};
	size_t		big = 3 * JOSE_STOP_BYTES;
	char	   *s = malloc(big + 8);
	int			wrong = 0;

	for (int b = 0; b < 256; b++)
	{
		jose_json_error want,
					got;

		doc[0] = '"';
		doc[1] = (char) b;
		doc[2] = '"';
		if (b < 0x20)
			want = JOSE_JSON_SYNTAX;
		else if (b == '"')
			want = JOSE_JSON_SYNTAX;	/* "" then a stray quote */
		else if (b == '\\')
			want = JOSE_JSON_SYNTAX;	/* \" is an escaped quote: no end */
		else if (b >= 0x80)
			want = JOSE_JSON_UTF8;
		else
			want = JOSE_JSON_OK;
		got = validate_len(doc, 3);
		if (got != want)
		{
			printf("# byte 0x%02x alone in a string: %d, want %d\n", b, (int) got, (int) want);
			wrong++;
		}
	}
	CHECK(wrong == 0, "json: every byte alone in a string is classed as RFC 8259 says (%d wrong)", wrong);

	/*
	 * every byte at every place of a longer string, each classed as alone:
	 * places in two 16-byte blocks of the vector scan and in its byte-wise tail
	 */
	wrong = 0;
	for (int b = 0; b < 256; b++)
		for (size_t at = 1; at <= 37; at++)
		{
			char		w[40];
			jose_json_error want,
						got;

			memset(w, 'x', sizeof(w));
			w[0] = '"';
			w[at] = (char) b;
			w[39] = '"';
			if (b < 0x20 || b == '"')
				want = JOSE_JSON_SYNTAX;	/* a control byte; a quote, then stray bytes */
			else if (b == '\\')
				want = JOSE_JSON_ESCAPE;	/* \x */
			else if (b >= 0x80)
				want = JOSE_JSON_UTF8;	/* a lone byte */
			else
				want = JOSE_JSON_OK;
			got = validate_len(w, sizeof(w));
			if (got != want)
			{
				printf("# byte 0x%02x at %zu of a string: %d, want %d\n", b, at, (int) got, (int) want);
				wrong++;
			}
		}
	CHECK(wrong == 0, "json: every byte at each of 37 places of a string is classed as alone (%d wrong)",
		  wrong);

	for (size_t k = 0; k < sizeof(offsets) / sizeof(offsets[0]); k++)
	{
		size_t		at = offsets[k];
		size_t		len = at + 2;

		/* a quote, then plain bytes up to at, then what is tested there */
		memset(s, 'x', big + 8);
		s[0] = '"';
		s[at] = '"';
		CHECK_JSON(validate_len(s, at + 1), JOSE_JSON_OK,
				   "json: a string of %zu plain bytes ends at its quote", at - 1);
		s[at] = 0x1F;
		s[at + 1] = '"';
		CHECK_JSON(validate_len(s, len), JOSE_JSON_SYNTAX,
				   "json: a control byte after %zu plain bytes is refused", at - 1);
		s[at] = (char) 0xC3;
		s[at + 1] = '"';
		CHECK_JSON(validate_len(s, len), JOSE_JSON_UTF8,
				   "json: a cut UTF-8 sequence after %zu plain bytes is refused", at - 1);
		s[at] = '\\';
		s[at + 1] = 'q';
		s[at + 2] = '"';
		CHECK_JSON(validate_len(s, len + 1), JOSE_JSON_ESCAPE,
				   "json: a bad escape after %zu plain bytes is refused", at - 1);
		s[at] = '\\';
		s[at + 1] = 'n';
		s[at + 2] = '"';
		CHECK_JSON(validate_len(s, len + 1), JOSE_JSON_OK,
				   "json: an escape after %zu plain bytes is taken", at - 1);
		s[at] = 'x';
		s[at + 1] = 'x';
		CHECK_JSON(validate_len(s, at + 1), JOSE_JSON_SYNTAX,
				   "json: %zu plain bytes with no closing quote are refused", at);
	}
	free(s);
}

static void
test_json_duplicates(void)
{
	jose_json_object o;
	const jose_json_value *v;
	double		d;

	CHECK_JSON(parse_str("{\"a\":1,\"a\":2}"), JOSE_JSON_DUPLICATE,
			   "json: duplicate at top level");
	CHECK_JSON(parse_str("{\"a\":1,\"b\":2,\"a\":1}"), JOSE_JSON_DUPLICATE,
			   "json: duplicate at top level, not adjacent");
	CHECK_JSON(parse_str("{\"x\":{\"a\":1,\"a\":2}}"), JOSE_JSON_DUPLICATE,
			   "json: duplicate in a nested object");
	CHECK_JSON(parse_str("{\"x\":[{\"y\":{\"a\":1,\"a\":1}}]}"), JOSE_JSON_DUPLICATE,
			   "json: duplicate in an object inside an array");
	CHECK_JSON(validate_str("[{\"a\":1,\"a\":1}]"), JOSE_JSON_DUPLICATE,
			   "json: validate finds a duplicate inside an array");
	CHECK_JSON(parse_str("{\"a\":1,\"\\u0061\":2}"), JOSE_JSON_DUPLICATE,
			   "json: duplicate spelled \"a\" and \"\\u0061\"");
	CHECK_JSON(parse_str("{\"\\u0061\":1,\"a\":2}"), JOSE_JSON_DUPLICATE,
			   "json: duplicate spelled \"\\u0061\" and \"a\"");
	CHECK_JSON(parse_str("{\"x\":{\"\\u0061\":1,\"\\u0061\":2}}"), JOSE_JSON_DUPLICATE,
			   "json: nested duplicate, both escaped");
	CHECK_JSON(parse_str("{\"\\/\":1,\"/\":2}"), JOSE_JSON_DUPLICATE,
			   "json: duplicate spelled \"\\/\" and \"/\"");
	CHECK_JSON(parse_str("{\"a\":{\"a\":1},\"b\":{\"a\":2}}"), JOSE_JSON_OK,
			   "json: one name in sibling objects is no duplicate");
	CHECK_JSON(parse_str("{\"a\":{\"b\":1},\"b\":2}"), JOSE_JSON_OK,
			   "json: a name in a child and its parent is no duplicate");
	CHECK_JSON(parse_str("{\"a\":1,\"A\":2,\"a \":3}"), JOSE_JSON_OK,
			   "json: names differing in case or a space are distinct");

	/* more than 16 members: the sorted duplicate check */
	{
		const char *big20 = big_object(20, "");

		CHECK_JSON(jose_json_parse_object(big20, strlen(big20), &o), JOSE_JSON_OK,
				   "json: 20 distinct members");
		CHECK(o.n == 20, "json: 20 members recorded");
		v = jose_json_get(&o, "k19");
		CHECK(v != NULL && jose_json_number(v, &d) && d == 19, "json: get the 20th member");
		v = jose_json_get(&o, "k00");
		CHECK(v != NULL && jose_json_number(v, &d) && d == 0, "json: get the 1st member");
		jose_json_object_free(&o);
	}
	CHECK_JSON(parse_str(big_object(20, ",\"k07\":1")), JOSE_JSON_DUPLICATE,
			   "json: 21 members, the last repeats the 8th");
	CHECK_JSON(parse_str(big_object(20, ",\"\\u006b07\":1")), JOSE_JSON_DUPLICATE,
			   "json: 21 members, the last repeats the 8th with an escape");
	CHECK_JSON(parse_str(big_object(20, ",\"\\u006b\\u0030\\u0037\":1")), JOSE_JSON_DUPLICATE,
			   "json: 21 members, the last repeats the 8th fully escaped");
	CHECK_JSON(parse_str(big_object(20, ",\"k7\":1,\"k070\":2,\"K07\":3")), JOSE_JSON_OK,
			   "json: 23 members with near-miss names, no duplicate");
	CHECK_JSON(parse_str(big_object(16, ",\"k00\":1")), JOSE_JSON_DUPLICATE,
			   "json: 17 members, the 17th repeats the 1st");
	CHECK_JSON(parse_str(big_object(15, ",\"k00\":1")), JOSE_JSON_DUPLICATE,
			   "json: 16 members, the 16th repeats the 1st");
	CHECK_JSON(parse_str(big_object(16, ",\"k15\":1")), JOSE_JSON_DUPLICATE,
			   "json: 17 members, the 17th repeats the 16th");
	CHECK_JSON(parse_str(big_object(40, ",\"k39\":1")), JOSE_JSON_DUPLICATE,
			   "json: 41 members, the last repeats the one before");
	CHECK_JSON(parse_str(kfmt("{\"o\":%s}", big_object(20, ",\"k19\":0"))), JOSE_JSON_DUPLICATE,
			   "json: nested object of 21 members with a duplicate");
	CHECK_JSON(parse_str(kfmt("{\"o\":%s,\"p\":%s}", big_object(40, ""), big_object(40, ""))),
			   JOSE_JSON_OK, "json: two nested objects of 40 members each, no duplicate");
	CHECK_JSON(parse_str(big_object(20, ",\"n\":{\"k00\":0,\"k01\":1}")), JOSE_JSON_OK,
			   "json: 21 members and a child repeating their names, no duplicate");
	CHECK_JSON(validate_str(kfmt("[%s]", big_object(30, ",\"k03\":0"))), JOSE_JSON_DUPLICATE,
			   "json: validate finds a duplicate in a large object inside an array");
}

static void
test_json_depth(void)
{
	CHECK_JSON(validate_str(nested(JOSE_JSON_MAX_DEPTH, 0)), JOSE_JSON_OK,
			   "json: arrays nested exactly JOSE_JSON_MAX_DEPTH deep");
	CHECK_JSON(validate_str(nested(JOSE_JSON_MAX_DEPTH + 1, 0)), JOSE_JSON_DEPTH,
			   "json: arrays nested one deeper than JOSE_JSON_MAX_DEPTH");
	CHECK_JSON(parse_str(nested(JOSE_JSON_MAX_DEPTH, 1)), JOSE_JSON_OK,
			   "json: objects nested exactly JOSE_JSON_MAX_DEPTH deep");
	CHECK_JSON(parse_str(nested(JOSE_JSON_MAX_DEPTH + 1, 1)), JOSE_JSON_DEPTH,
			   "json: objects nested one deeper than JOSE_JSON_MAX_DEPTH");
	CHECK_JSON(parse_str(kfmt("{\"a\":%s}", nested(JOSE_JSON_MAX_DEPTH - 1, 0))), JOSE_JSON_OK,
			   "json: an object holding arrays, JOSE_JSON_MAX_DEPTH in all");
	CHECK_JSON(parse_str(kfmt("{\"a\":%s}", nested(JOSE_JSON_MAX_DEPTH, 0))), JOSE_JSON_DEPTH,
			   "json: an object holding arrays, one level too deep");
	CHECK_JSON(validate_str(nested(100000, 0)), JOSE_JSON_DEPTH,
			   "json: 100000 nested arrays refused");
	CHECK_JSON(parse_str(nested(100000, 1)), JOSE_JSON_DEPTH,
			   "json: 100000 nested objects refused");
}

static void
test_json_numbers(void)
{
	static const char *const good[] = {
		"0", "-0", "1", "-1", "1.5", "-0.5e-3", "1e5", "1E+5", "1e-5", "0.0", "0e5",
		"123456789012345678901234567890", "1e400", "-1e400",
		/* the edges of what a PostgreSQL numeric holds (checked with 15.x) */
		"1e131071", "1e-16383", "0.1e-16382",
	};
	static const char *const syntax[] = {
		"01", "-01", "00", "1.", ".5", "-", "+1", "1e", "1e+", "1E-", "0x10", "NaN",
		"Infinity", "-Infinity", "1.e5", "--1", "1..2", "1 2", "- 1", "1.5.", "1e5.5",
		"-.5", "1e+-5", "0.", "+0", "\xd9\xa1",
	};
	static const char *const range[] = {
		"1e200000", "-1e200000", "0.1e-20000", "1e-20000", "1e131072", "0.1e-16383",
		"1e-16384", "1e99999999999999999999",
	};
	static const struct
	{
		const char *text;
		double		value;
	}			values[] = {
		{"1700000000", 1700000000.0},
		{"-5", -5.0},
		{"1.5", 1.5},
		{"1e3", 1000.0},
		{"-0", 0.0},
		{"0.25", 0.25},
		{"123456789012345", 123456789012345.0},
		{"1234567890123456", 1234567890123456.0},
		{"-1234567890123456", -1234567890123456.0},
		{"2.5E-1", 0.25},
		{"1e-400", 0.0},
		/* the header promises any finite double */
		{"1e308", 1e308},
	};
	double		d;

	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++)
	{
		CHECK_JSON(validate_str(good[i]), JOSE_JSON_OK, "json: number %s is valid", good[i]);
		CHECK_JSON(parse_str(kfmt("{\"n\":%s}", good[i])), JOSE_JSON_OK,
				   "json: member number %s is valid", good[i]);
	}
	for (size_t i = 0; i < sizeof(syntax) / sizeof(syntax[0]); i++)
	{
		CHECK_JSON(validate_str(syntax[i]), JOSE_JSON_SYNTAX,
				   "json: number '%s' is refused by the grammar", syntax[i]);
		CHECK_JSON(parse_str(kfmt("{\"n\":%s}", syntax[i])), JOSE_JSON_SYNTAX,
				   "json: member number '%s' is refused by the grammar", syntax[i]);
	}
	for (size_t i = 0; i < sizeof(range) / sizeof(range[0]); i++)
	{
		CHECK_JSON(validate_str(range[i]), JOSE_JSON_NUMBER_RANGE,
				   "json: number %s is beyond a PostgreSQL numeric", range[i]);
		CHECK_JSON(parse_str(kfmt("{\"n\":%s}", range[i])), JOSE_JSON_NUMBER_RANGE,
				   "json: member number %s is beyond a PostgreSQL numeric", range[i]);
	}

	for (size_t i = 0; i < sizeof(values) / sizeof(values[0]); i++)
	{
		d = -999;
		CHECK(number_of(values[i].text, &d) == 1 && d == values[i].value,
			  "json: jose_json_number(%s) == %.17g", values[i].text, values[i].value);
	}
	/* digit counts at the edges of a numeric: 16383 after the point, 131072 before */
	{
		char	   *frac = keep(malloc(16384 + 3));
		char	   *ints = keep(malloc(131073 + 1));

		memcpy(frac, "0.", 2);
		memset(frac + 2, '1', 16384);
		frac[2 + 16384] = '\0';
		memset(ints, '9', 131073);
		ints[131073] = '\0';
		CHECK_JSON(validate_len(frac, 2 + 16383), JOSE_JSON_OK, "json: 16383 digits after the point");
		CHECK_JSON(validate_len(frac, 2 + 16384), JOSE_JSON_NUMBER_RANGE, "json: 16384 digits after the point");
		frac[0] = '1';
		memset(frac + 2, '0', 16384);
		CHECK_JSON(validate_len(frac, 2 + 16384), JOSE_JSON_NUMBER_RANGE,
				   "json: 16384 trailing zeros after the point");
		CHECK_JSON(validate_len(ints, 131072), JOSE_JSON_OK, "json: an integer of 131072 digits");
		CHECK_JSON(validate_len(ints, 131073), JOSE_JSON_NUMBER_RANGE, "json: an integer of 131073 digits");
	}

	CHECK(number_of("1e400", &d) == 0, "json: jose_json_number refuses 1e400 (not finite)");
	CHECK(number_of("-1e400", &d) == 0, "json: jose_json_number refuses -1e400 (not finite)");
	CHECK(number_of("\"1\"", &d) == 0, "json: jose_json_number refuses a string");
	CHECK(number_of("true", &d) == 0, "json: jose_json_number refuses true");
	CHECK(number_of("null", &d) == 0, "json: jose_json_number refuses null");
}

static void
test_json_syntax(void)
{
	static const char *const not_object[] = {
		"[1]", "1", "\"x\"", "null", "true", " [ ] ", "\n-1\n",
	};
	static const char *const syntax[] = {
		"{\"a\":1}x", "{\"a\":1} {}", "{\"a\":1},", "{}}", "{} //", "{\"a\":1}]",
		"{\"a\":1,}", "{,}", "{\"a\" 1}", "{'a':1}", "{a:1}", "{\"a\":tru}",
		"{\"a\":nul}", "{\"a\":True}", "{\"a\":[1,,2]}", "{\"a\":[1,]}", "{\"a\":1",
		"{\"a\":\"x", "{\"a\"}", "{\"a\":}", "", "   ", "{", "[1", "{\"a\":1}\"",
		"{\"a\":undefined}", "\xef\xbb\xbf{}",
	};

	for (size_t i = 0; i < sizeof(not_object) / sizeof(not_object[0]); i++)
		CHECK_JSON(parse_str(not_object[i]), JOSE_JSON_NOT_OBJECT,
				   "json: parse_object of '%s' is JOSE_JSON_NOT_OBJECT", not_object[i]);
	for (size_t i = 0; i < sizeof(syntax) / sizeof(syntax[0]); i++)
		CHECK_JSON(parse_str(syntax[i]), JOSE_JSON_SYNTAX,
				   "json: parse_object refuses '%s'", syntax[i]);
	CHECK_JSON(parse_len(LIT("{\"a\":1}\0")), JOSE_JSON_SYNTAX,
			   "json: refuses a NUL after the object");
	CHECK_JSON(parse_len(LIT("{\"a\":\0}")), JOSE_JSON_SYNTAX,
			   "json: refuses a NUL as a value");
	CHECK_JSON(validate_str("[1,]"), JOSE_JSON_SYNTAX, "json: validate refuses [1,]");
	CHECK_JSON(validate_str("[1] [2]"), JOSE_JSON_SYNTAX, "json: validate refuses two values");
	CHECK_JSON(parse_str(" \t\r\n{\"a\" \n:\t1 }\r\n "), JOSE_JSON_OK,
			   "json: whitespace around every token is accepted");
	CHECK_JSON(parse_str("{\"a\":\"x\f\"}"), JOSE_JSON_SYNTAX,
			   "json: a raw form feed is refused");
	CHECK_JSON(parse_str("{\"a\":1}\f"), JOSE_JSON_SYNTAX,
			   "json: a form feed is not JSON whitespace");
}

/* A node's type and span, as text: "type:span" (the span between a string's quotes). */
static int
node_is(const jose_json_node *n, jose_json_type type, const char *span)
{
	return n->v.type == type && n->v.len == strlen(span) && memcmp(n->v.p, span, n->v.len) == 0;
}

static void
test_json_tape(void)
{
	static const char doc[] =
		" {\"a\" : [1, \"x\\u0041\", {\"b\":null}], \"\\u0063\":true, \"d\":{}, \"e\":-2.5e3,"
		" \"f\":false, \"g\":[]} ";
	static const char *const docs[] = {
		"{}", "[]", "[1,[2,[3,[4]]],{\"a\":{\"b\":[]}}]", "{\"a\":1,\"a\":2}", "{\"a\":",
		"[1,]", "\"s\"", "12", "{\"a\":\"\\ud800\"}", "{\"x\":[true,false,null]}  x",
	};
	jose_json_tape t;
	const jose_json_node *n;
	char		big[4096];
	size_t		at = 0;

	jose_json_tape_init(&t);
	CHECK_JSON(jose_json_parse_tape(doc, strlen(doc), NULL, JOSE_JSON_MAX_DEPTH, &t), JOSE_JSON_OK,
			   "json tape: a document parses onto a tape");
	n = t.nodes;
	CHECK(t.n == 18 && t.nodes == t.inline_nodes, "json tape: a node for each value and name (18), inline");
	CHECK(t.n == 18 && n[0].v.type == JOSE_JSON_OBJECT && n[0].count == 6 && n[0].end == 18 &&
		  n[0].v.p == doc + 1 && n[0].v.len == strlen(doc) - 2,
		  "json tape: the root first, with its members' count, its end and its whole span");
	CHECK(t.n == 18 &&
		  node_is(&n[1], JOSE_JSON_STRING, "a") &&
		  node_is(&n[2], JOSE_JSON_ARRAY, "[1, \"x\\u0041\", {\"b\":null}]") &&
		  n[2].count == 3 && n[2].end == 8 &&
		  node_is(&n[3], JOSE_JSON_NUMBER, "1") &&
		  node_is(&n[4], JOSE_JSON_STRING, "x\\u0041") && n[4].v.escaped &&
		  node_is(&n[5], JOSE_JSON_OBJECT, "{\"b\":null}") && n[5].count == 1 && n[5].end == 8 &&
		  node_is(&n[6], JOSE_JSON_STRING, "b") && node_is(&n[7], JOSE_JSON_NULL, "null"),
		  "json tape: an array's node before its elements, a nested object's before its members");
	CHECK(t.n == 18 &&
		  node_is(&n[8], JOSE_JSON_STRING, "\\u0063") && n[8].v.escaped &&
		  node_is(&n[9], JOSE_JSON_TRUE, "true") &&
		  node_is(&n[10], JOSE_JSON_STRING, "d") &&
		  node_is(&n[11], JOSE_JSON_OBJECT, "{}") && n[11].count == 0 && n[11].end == 12 &&
		  node_is(&n[13], JOSE_JSON_NUMBER, "-2.5e3") && !n[13].v.escaped &&
		  node_is(&n[15], JOSE_JSON_FALSE, "false") && node_is(&n[16], JOSE_JSON_STRING, "g") &&
		  node_is(&n[17], JOSE_JSON_ARRAY, "[]") && n[17].count == 0 && n[17].end == 18,
		  "json tape: escaped names flagged, empty containers with no contents, spans exact");
	CHECK(tape_walk(&t, 0) == t.n, "json tape: every container's contents end where it says");
	jose_json_tape_free(&t);

	/* past the inline nodes: the tape grows, in order */
	at = 0;
	big[at++] = '[';
	for (int i = 0; i < 500; i++)
		at += (size_t) snprintf(big + at, sizeof(big) - at, i ? ",%d" : "%d", i);
	big[at++] = ']';
	CHECK_JSON(jose_json_parse_tape(big, at, NULL, JOSE_JSON_MAX_DEPTH, &t), JOSE_JSON_OK,
			   "json tape: an array of 500 numbers");
	{
		int			ok = t.n == 501 && t.nodes != t.inline_nodes && t.nodes[0].count == 500 &&
			tape_walk(&t, 0) == 501;

		for (size_t i = 1; ok && i < t.n; i++)
		{
			char		want[24];

			snprintf(want, sizeof(want), "%zu", i - 1);
			ok = node_is(&t.nodes[i], JOSE_JSON_NUMBER, want) && t.nodes[i].end == i + 1;
		}
		CHECK(ok, "json tape: grown past its %d inline nodes, every element in its place",
			  JOSE_JSON_TAPE_INLINE);
	}
	jose_json_tape_free(&t);
	CHECK(t.n == 0 && t.nodes == t.inline_nodes, "json tape: freed, it is empty and inline again");

	/* a tape says what validation says, and is whole when it says OK */
	for (size_t i = 0; i < sizeof(docs) / sizeof(docs[0]); i++)
	{
		jose_json_type type;
		jose_json_error want = jose_json_validate(docs[i], strlen(docs[i]), &type);
		jose_json_error got = jose_json_parse_tape(docs[i], strlen(docs[i]), NULL, JOSE_JSON_MAX_DEPTH, &t);

		CHECK(got == want && (got != JOSE_JSON_OK || tape_walk(&t, 0) == t.n),
			  "json tape: %s: %s, as validation says", docs[i], t_json_error_name(got));
		jose_json_tape_free(&t);
	}

	/* the depth a caller allows: the core's limit, one more, never past the tape's */
	{
		char		deep[2 * (JOSE_JSON_MAX_DEPTH + 1) + 1];
		size_t		d = JOSE_JSON_MAX_DEPTH + 1;

		memset(deep, '[', d);
		memset(deep + d, ']', d);
		CHECK_JSON(jose_json_parse_tape(deep, 2 * d, NULL, JOSE_JSON_MAX_DEPTH, &t), JOSE_JSON_DEPTH,
				   "json tape: %zu arrays deep is past the core's limit", d);
		jose_json_tape_free(&t);
		CHECK_JSON(jose_json_parse_tape(deep, 2 * d, NULL, JOSE_JSON_MAX_DEPTH + 1, &t), JOSE_JSON_OK,
				   "json tape: %zu arrays deep, when the caller allows one level more", d);
		CHECK(t.n == d && tape_walk(&t, 0) == d, "json tape: %zu arrays, one inside the other", d);
		jose_json_tape_free(&t);
		CHECK_JSON(jose_json_parse_tape(LIT("[]"), NULL, 0, &t), JOSE_JSON_DEPTH,
				   "json tape: a depth of 0 is refused");
		CHECK_JSON(jose_json_parse_tape(LIT("[]"), NULL, JOSE_JSON_TAPE_MAX_DEPTH + 1, &t),
				   JOSE_JSON_DEPTH, "json tape: a depth past JOSE_JSON_TAPE_MAX_DEPTH is refused");
		jose_json_tape_free(&t);
	}

	/* an object's parse starts its tape afresh, even after a failed one */
	{
		jose_json_object o;

		CHECK_JSON(jose_json_parse_object_tape(LIT("{\"a\":[1,2,{\"b\":3}],\"a\":4}"), NULL, &o, &t),
				   JOSE_JSON_DUPLICATE, "json tape: an object's parse fails part-way");
		CHECK_JSON(jose_json_parse_object_tape(LIT("{\"c\":true}"), NULL, &o, &t), JOSE_JSON_OK,
				   "json tape: the same tape parses the next object");
		CHECK(t.n == 3 && tape_walk(&t, 0) == 3 && t.nodes[0].end == 3,
			  "json tape: it holds the next object's 3 values alone (%zu)", t.n);
		jose_json_object_free(&o);
		jose_json_tape_free(&t);
	}

	/* a failure past the inline nodes leaves a tape that frees */
	{
		static const char tail[] = ",{\"k\":1,\"k\":2}]";

		memcpy(big + at - 1, tail, sizeof(tail) - 1);
		at += sizeof(tail) - 2;
	}
	CHECK_JSON(jose_json_parse_tape(big, at, NULL, JOSE_JSON_MAX_DEPTH, &t), JOSE_JSON_DUPLICATE,
			   "json tape: a duplicate after 500 values is refused");
	CHECK(t.nodes != t.inline_nodes, "json tape: the refused document had grown the tape");
	jose_json_tape_free(&t);
}

static void
test_json(void)
{
	test_json_valid();
	test_json_strings();
	test_json_string_bytes();
	test_json_duplicates();
	test_json_depth();
	test_json_numbers();
	test_json_syntax();
	test_json_tape();
	arena_free_all();
}

/* ---------------------------------------------------------------------
 * 3. Keys and raw HMAC
 * --------------------------------------------------------------------- */

static jose_status
import_text(const char *text, jose_keyset **ks)
{
	return jose_keyset_import(text, strlen(text), JOSE_KEY_TEXT, ks);
}

/* {"kty":"oct","k":"<secret>"<extra>} */
static char *
oct_jwk(const void *secret, size_t len, const char *extra)
{
	return kfmt("{\"kty\":\"oct\",\"k\":\"%s\"%s}", kb64(secret, len), extra);
}

#define ALGBIT(a) JOSE_ALGBIT(JOSE_ALG_##a)

static const char secret64[] =
"wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY-core-test-0123456789abc";
static const char secret64b[] =
"an-entirely-different-secret-of-sixty-four-bytes-for-the-tests!!";

static void
test_keys(void)
{
	jose_keyset *ks = NULL;
	const jose_key *k;
	jose_status st;
	size_t		len;
	const char *kid;

	/* a plain secret */
	st = import_text("0123456789abcdef0123456789abcdef", &ks);
	CHECK_ST(st, JOSE_OK, "keys: 32-byte plain secret imports");
	if (ks != NULL)
	{
		k = jose_keyset_key(ks, 0);
		CHECK(jose_keyset_count(ks) == 1 && !jose_keyset_is_set(ks) && k != NULL &&
			  jose_key_kty(k) == JOSE_KTY_OCT && jose_key_kid(k, &len) == NULL,
			  "keys: a plain secret is one oct key without kid");
		CHECK(jose_key_algs(k, JOSE_OP_VERIFY) == ALGBIT(HS256) &&
			  jose_key_algs(k, JOSE_OP_SIGN) == ALGBIT(HS256) &&
			  jose_keyset_algs(ks, JOSE_OP_VERIFY) == ALGBIT(HS256),
			  "keys: a 32-byte secret does HS256 only");
		CHECK(jose_keyset_key(ks, 1) == NULL, "keys: keyset_key past the end is NULL");
		jose_keyset_free(ks);
	}

	/* an oct JWK */
	st = import_text(oct_jwk(secret64, 64, ",\"kid\":\"k1\""), &ks);
	CHECK_ST(st, JOSE_OK, "keys: oct JWK imports");
	if (ks != NULL)
	{
		k = jose_keyset_key(ks, 0);
		kid = jose_key_kid(k, &len);
		CHECK(jose_keyset_count(ks) == 1 && !jose_keyset_is_set(ks) &&
			  jose_key_kty(k) == JOSE_KTY_OCT && kid != NULL && len == 2 &&
			  memcmp(kid, "k1", 2) == 0,
			  "keys: oct JWK is one key with kid \"k1\"");
		CHECK(jose_key_algs(k, JOSE_OP_VERIFY) == JOSE_ALGS_HMAC &&
			  jose_key_algs(k, JOSE_OP_SIGN) == JOSE_ALGS_HMAC,
			  "keys: a 64-byte oct JWK does HS256, HS384 and HS512");
		jose_keyset_free(ks);
	}
	st = import_text(kfmt("  \n%s", oct_jwk(secret64, 64, "")), &ks);
	CHECK_ST(st, JOSE_OK, "keys: a JWK after leading whitespace imports");
	jose_keyset_free(ks);

	/* a JWKS, with a key type this build does not use among the keys */
	st = import_text(kfmt("{\"keys\":[%s,%s,{\"kty\":\"RSA\",\"kid\":\"r\",\"n\":\"AQAB\",\"e\":\"AQAB\"}]}",
						  oct_jwk(secret64, 64, ",\"kid\":\"a\""),
						  oct_jwk(secret64b, 64, ",\"kid\":\"b\"")), &ks);
	CHECK_ST(st, JOSE_OK, "keys: JWKS of two oct keys and an RSA key imports");
	if (ks != NULL)
	{
		int			found_b = 0;

		CHECK(jose_keyset_count(ks) == 3 && jose_keyset_is_set(ks),
			  "keys: the JWKS holds three keys and is a set");
		for (size_t i = 0; i < jose_keyset_count(ks); i++)
		{
			kid = jose_key_kid(jose_keyset_key(ks, i), &len);
			if (kid != NULL && len == 1 && kid[0] == 'b')
				found_b = 1;
		}
		CHECK(found_b, "keys: the JWKS keeps kid \"b\"");
		CHECK(jose_keyset_algs(ks, JOSE_OP_VERIFY) == JOSE_ALGS_HMAC,
			  "keys: the JWKS can verify HMAC only");
		jose_keyset_free(ks);
	}

	/* refusals */
	st = import_text("-----BEGIN PUBLIC KEY-----\nMFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE\n-----END PUBLIC KEY-----\n", &ks);
	CHECK_ST(st, JOSE_E_KEY_FORMAT, "keys: a truncated PEM block is refused, never read as a secret");
	CHECK(ks == NULL, "keys: no keyset on failure");
	CHECK_ST(import_text("\n  -----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n", &ks),
			 JOSE_E_KEY_FORMAT, "keys: a PEM block after whitespace is PEM");
	{
		const char	pem[] = "-----BEGIN PUBLIC KEY-----\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\n-----END PUBLIC KEY-----\n";

		st = jose_keyset_import(pem, strlen(pem), JOSE_KEY_SECRET, &ks);
		CHECK_ST(st, JOSE_E_KEY_NOT_SECRET, "keys: the same bytes given as JOSE_KEY_SECRET are never a secret (CVE-2022-29217)");
		CHECK(ks == NULL, "keys: no keyset for a key's text given as a secret");
	}
	CHECK_ST(jose_keyset_import("", 0, JOSE_KEY_TEXT, &ks), JOSE_E_KEY_EMPTY, "keys: empty key text");
	CHECK_ST(jose_keyset_import("", 0, JOSE_KEY_SECRET, &ks), JOSE_E_KEY_EMPTY, "keys: empty secret");
	CHECK(ks == NULL, "keys: no keyset for an empty key");

	CHECK_ST(import_text(kfmt("{\"keys\":[%s,%s]}", oct_jwk(secret64, 64, ",\"kid\":\"a\""),
							  oct_jwk(secret64b, 64, ",\"kid\":\"a\"")), &ks),
			 JOSE_E_KEYSET_DUP_KID, "keys: JWKS with a duplicate kid");
	CHECK_ST(import_text(kfmt("{\"keys\":[%s,%s]}", oct_jwk(secret64, 64, ",\"kid\":\"a\""),
							  oct_jwk(secret64b, 64, ",\"kid\":\"\\u0061\"")), &ks),
			 JOSE_E_KEYSET_DUP_KID, "keys: JWKS with a duplicate kid spelled with an escape");
	CHECK_ST(import_text(kfmt("{\"keys\":[%s,%s,%s]}", oct_jwk(secret64, 64, ",\"kid\":\"a\""),
							  oct_jwk(secret64b, 64, ",\"kid\":\"b\""),
							  oct_jwk(secret64b, 64, ",\"kid\":\"a\"")), &ks),
			 JOSE_E_KEYSET_DUP_KID, "keys: JWKS whose third key repeats the first kid");
	CHECK_ST(import_text("{\"keys\":[]}", &ks), JOSE_E_KEYSET_EMPTY, "keys: JWKS without keys");
	CHECK_ST(import_text("{\"keys\":{}}", &ks), JOSE_E_KEY_FORMAT, "keys: \"keys\" not an array");
	CHECK_ST(import_text("{\"keys\":[1]}", &ks), JOSE_E_KEY_FORMAT, "keys: JWKS member not an object");
	CHECK_ST(import_text("{\"k\":\"AAAA\"}", &ks), JOSE_E_KEY_KTY, "keys: JWK without kty");
	CHECK_ST(import_text("{\"kty\":\"RSA\",\"n\":\"AQAB\",\"e\":\"AQAB\"}", &ks), JOSE_E_KEY_WEAK,
			 "keys: an RSA JWK of 17 bits is refused as weak");
	CHECK_ST(import_text("{\"kty\":\"foo\",\"k\":\"AAAA\"}", &ks), JOSE_E_KEY_KTY,
			 "keys: a lone JWK of an unknown kty");
	CHECK_ST(import_text("{\"kty\":1,\"k\":\"AAAA\"}", &ks), JOSE_E_KEY_FORMAT, "keys: kty not a string");
	CHECK_ST(import_text("{\"kty\":\"oct\"}", &ks), JOSE_E_KEY_FORMAT, "keys: oct JWK without k");
	CHECK_ST(import_text(kfmt("{\"kty\":\"oct\",\"k\":\"%s=\"}", kb64(secret64, 64)), &ks),
			 JOSE_E_KEY_FORMAT, "keys: oct JWK whose k is padded");
	CHECK_ST(import_text(kfmt("{\"kty\":\"oct\",\"k\":\"%s\",\"kty\":\"oct\"}", kb64(secret64, 64)), &ks),
			 JOSE_E_KEY_FORMAT, "keys: JWK with a duplicate member");
	CHECK_ST(import_text("{\"kty\":\"oct\",", &ks), JOSE_E_KEY_FORMAT, "keys: JWK that is not JSON");
	CHECK(import_text("{\"kty\":\"oct\",\"k\":\"\"}", &ks) != JOSE_OK, "keys: oct JWK with an empty k");
	CHECK(ks == NULL, "keys: no keyset after a refused JWK");

	/* use "enc": usable for no signature at all */
	st = import_text(oct_jwk(secret64, 64, ",\"use\":\"enc\""), &ks);
	CHECK_ST(st, JOSE_OK, "keys: JWK with use \"enc\" imports");
	if (ks != NULL)
	{
		k = jose_keyset_key(ks, 0);
		CHECK(jose_key_algs(k, JOSE_OP_SIGN) == 0 && jose_key_algs(k, JOSE_OP_VERIFY) == 0,
			  "keys: use \"enc\" key is usable for nothing");
		CHECK_ST(jose_key_check(k, JOSE_ALG_HS256, JOSE_OP_VERIFY), JOSE_E_KEY_USE,
				 "keys: use \"enc\" key cannot verify HS256");
		jose_keyset_free(ks);
	}
	st = import_text(oct_jwk(secret64, 64, ",\"use\":\"sig\""), &ks);
	CHECK(st == JOSE_OK && jose_key_algs(jose_keyset_key(ks, 0), JOSE_OP_VERIFY) == JOSE_ALGS_HMAC,
		  "keys: use \"sig\" key does HMAC");
	jose_keyset_free(ks);

	/* key_ops ["sign"]: signs, never verifies */
	st = import_text(oct_jwk(secret64, 64, ",\"key_ops\":[\"sign\"]"), &ks);
	CHECK_ST(st, JOSE_OK, "keys: JWK with key_ops [\"sign\"] imports");
	if (ks != NULL)
	{
		unsigned char sig[64];
		size_t		siglen = 0;

		k = jose_keyset_key(ks, 0);
		CHECK_ST(jose_key_check(k, JOSE_ALG_HS256, JOSE_OP_VERIFY), JOSE_E_KEY_USE,
				 "keys: key_ops [\"sign\"] refuses to verify");
		CHECK_ST(jose_key_check(k, JOSE_ALG_HS256, JOSE_OP_SIGN), JOSE_OK,
				 "keys: key_ops [\"sign\"] may sign");
		CHECK_ST(jose_sig_sign(k, JOSE_ALG_HS256, (const unsigned char *) "x", 1, sig, &siglen),
				 JOSE_OK, "keys: key_ops [\"sign\"] signs");
		CHECK_ST(jose_sig_verify(k, JOSE_ALG_HS256, (const unsigned char *) "x", 1, sig, siglen),
				 JOSE_E_KEY_USE, "keys: jose_sig_verify with key_ops [\"sign\"]");
		CHECK(jose_key_algs(k, JOSE_OP_VERIFY) == 0 && jose_key_algs(k, JOSE_OP_SIGN) == JOSE_ALGS_HMAC,
			  "keys: key_ops [\"sign\"] algorithm sets");
		jose_keyset_free(ks);
	}
	st = import_text(oct_jwk(secret64, 64, ",\"key_ops\":[\"verify\"]"), &ks);
	CHECK_ST(st, JOSE_OK, "keys: JWK with key_ops [\"verify\"] imports");
	if (ks != NULL)
	{
		size_t		cap = jose_sign_len(15, 2);
		char	   *out = keep(malloc(cap));
		size_t		outlen;

		CHECK_ST(jose_sign(jose_keyset_key(ks, 0), JOSE_ALG_HS256, LIT("{\"alg\":\"HS256\"}"),
						   (const unsigned char *) "{}", 2, out, cap, &outlen),
				 JOSE_E_KEY_USE, "keys: jose_sign with key_ops [\"verify\"]");
		jose_keyset_free(ks);
	}
	CHECK_ST(import_text(oct_jwk(secret64, 64, ",\"key_ops\":[\"sign\",\"sign\"]"), &ks),
			 JOSE_E_KEY_FORMAT, "keys: key_ops listing \"sign\" twice");
	CHECK_ST(import_text(oct_jwk(secret64, 64, ",\"key_ops\":\"sign\""), &ks),
			 JOSE_E_KEY_FORMAT, "keys: key_ops not an array");

	/* alg "HS384" restricts the key to HS384 */
	st = import_text(oct_jwk(secret64, 64, ",\"alg\":\"HS384\""), &ks);
	CHECK_ST(st, JOSE_OK, "keys: JWK with alg HS384 imports");
	if (ks != NULL)
	{
		k = jose_keyset_key(ks, 0);
		CHECK(jose_key_algs(k, JOSE_OP_VERIFY) == ALGBIT(HS384) &&
			  jose_key_algs(k, JOSE_OP_SIGN) == ALGBIT(HS384),
			  "keys: alg HS384 restricts the key to HS384");
		CHECK_ST(jose_key_check(k, JOSE_ALG_HS256, JOSE_OP_VERIFY), JOSE_E_KEY_ALG,
				 "keys: alg HS384 key refuses HS256");
		CHECK_ST(jose_key_check(k, JOSE_ALG_HS512, JOSE_OP_VERIFY), JOSE_E_KEY_ALG,
				 "keys: alg HS384 key refuses HS512");
		jose_keyset_free(ks);
	}
	st = import_text(oct_jwk(secret64, 64, ",\"alg\":\"\\u0048S384\""), &ks);
	CHECK(st == JOSE_OK && jose_key_algs(jose_keyset_key(ks, 0), JOSE_OP_VERIFY) == ALGBIT(HS384),
		  "keys: a JWK alg spelled \"\\u0048S384\" restricts the key to HS384");
	jose_keyset_free(ks);
	st = import_text(oct_jwk(secret64, 64, ",\"alg\":\"RSA-OAEP\""), &ks);
	CHECK(st == JOSE_OK && jose_key_algs(jose_keyset_key(ks, 0), JOSE_OP_VERIFY) == 0,
		  "keys: a JWK whose alg is unknown here is usable for nothing");
	jose_keyset_free(ks);

	/* a 40-byte secret: HS256 only */
	st = import_text("0123456789012345678901234567890123456789", &ks);
	CHECK_ST(st, JOSE_OK, "keys: 40-byte secret imports");
	if (ks != NULL)
	{
		k = jose_keyset_key(ks, 0);
		CHECK(jose_key_algs(k, JOSE_OP_VERIFY) == ALGBIT(HS256),
			  "keys: a 40-byte secret does HS256 only");
		CHECK_ST(jose_key_check(k, JOSE_ALG_HS256, JOSE_OP_VERIFY), JOSE_OK,
				 "keys: a 40-byte secret may do HS256");
		CHECK_ST(jose_key_check(k, JOSE_ALG_HS384, JOSE_OP_VERIFY), JOSE_E_KEY_SHORT,
				 "keys: a 40-byte secret is short for HS384");
		CHECK_ST(jose_key_check(k, JOSE_ALG_HS512, JOSE_OP_SIGN), JOSE_E_KEY_SHORT,
				 "keys: a 40-byte secret is short for HS512");
		CHECK_ST(jose_key_check(k, JOSE_ALG_RS256, JOSE_OP_VERIFY), JOSE_E_KEY_ALG,
				 "keys: a secret cannot do RS256");
		CHECK_ST(jose_key_check(k, JOSE_ALG_ES256, JOSE_OP_VERIFY), JOSE_E_KEY_ALG,
				 "keys: a secret cannot do ES256");
		CHECK_ST(jose_key_check(k, JOSE_ALG_EDDSA, JOSE_OP_VERIFY), JOSE_E_KEY_ALG,
				 "keys: a secret cannot do EdDSA");
		CHECK_ST(jose_key_check(k, JOSE_ALG_UNSET, JOSE_OP_VERIFY), JOSE_E_ALG_INVALID,
				 "keys: jose_key_check with no algorithm");
		jose_keyset_free(ks);
	}

	/* the exact boundaries of the hash lengths */
	{
		static const struct
		{
			size_t		len;
			jose_algset algs;
		}			lens[] = {
			{1, 0},
			{31, 0},
			{32, ALGBIT(HS256)},
			{47, ALGBIT(HS256)},
			{48, ALGBIT(HS256) | ALGBIT(HS384)},
			{63, ALGBIT(HS256) | ALGBIT(HS384)},
			{64, JOSE_ALGS_HMAC},
			{200, JOSE_ALGS_HMAC},
		};
		unsigned char secret[200];

		memset(secret, 0x5a, sizeof(secret));
		for (size_t i = 0; i < sizeof(lens) / sizeof(lens[0]); i++)
		{
			st = jose_keyset_import((const char *) secret, lens[i].len, JOSE_KEY_SECRET, &ks);
			CHECK(st == JOSE_OK && jose_key_algs(jose_keyset_key(ks, 0), JOSE_OP_SIGN) == lens[i].algs,
				  "keys: a %zu-byte secret has the expected algorithms", lens[i].len);
			jose_keyset_free(ks);
		}
	}

	/* the RFC 4231 key of test case 2 is far too short for any JWS HMAC */
	st = import_text("Jefe", &ks);
	CHECK_ST(st, JOSE_OK, "keys: the 4-byte secret \"Jefe\" imports");
	if (ks != NULL)
	{
		unsigned char sig[64];
		size_t		siglen;

		CHECK_ST(jose_sig_sign(jose_keyset_key(ks, 0), JOSE_ALG_HS256,
							   (const unsigned char *) "what do ya want for nothing?", 28,
							   sig, &siglen),
				 JOSE_E_KEY_SHORT, "keys: \"Jefe\" is refused for HS256");
		jose_keyset_free(ks);
	}
	arena_free_all();
}

static void
test_hmac(void)
{
	/* the data of RFC 4231 test cases 2 to 7 */
	static const char data5[] = "Test With Truncation";
	static const char data6[] = "Test Using Larger Than Block-Size Key - Hash Key First";
	static const char data7[] = "This is a test using a larger than block-size key and a larger "
		"than block-size data. The key needs to be hashed before being used by the HMAC algorithm.";
	/* RFC 4231 sections 4.7 and 4.8: HMAC-SHA-256/384/512 of data6/data7, key 131 x 0xaa */
	static const char *const rfc_mac[2][3] = {
		{"60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54",
			"4ece084485813e9088d2c63a041bc5b44f9ef1012a2b588f3cd11f05033ac4c6"
			"0c2ef6ab4030fe8296248df163f44952",
			"80b24263c7c1a3ebb71493c1dd7be8b49b46d1f41b4aeec1121b013783f8f352"
			"6b56d037e05f2598bd0fd2215d6a1e5295e64f73f63f0aec8b915a985d786598"},
		{"9b09ffa71b942fcb27635fbcd5b0e944bfdc63644f0713938a7f51535c3a35e2",
			"6617178e941f020d351e2f254e8fd32c602420feb0b8fb9adccebb82461e99c5"
			"a678cc31e799176d3860e6110c46523e",
			"e37b6a775dc87dbaa4dfa9f96e5e3ffddebd71f8867289865df5a32d20cdc944"
			"b6022cac3c4982b10d5eeb55c3e4de15134676fb6de0446065c97440fa8c6a58"},
	};
	static const jose_alg algs[3] = {JOSE_ALG_HS256, JOSE_ALG_HS384, JOSE_ALG_HS512};
	unsigned char dd[50],
				cd[50],
				key64[64],
				key131[131];
	struct
	{
		const unsigned char *p;
		size_t		len;
		const char *name;
	}			data[7];
	jose_keyset *ks[2] = {NULL, NULL};

	memset(dd, 0xdd, sizeof(dd));
	memset(cd, 0xcd, sizeof(cd));
	memset(key131, 0xaa, sizeof(key131));
	for (size_t i = 0; i < sizeof(key64); i++)
		key64[i] = lcg_byte();
	data[0].p = (const unsigned char *) "";
	data[0].len = 0;
	data[0].name = "empty data";
	data[1].p = (const unsigned char *) "what do ya want for nothing?";
	data[1].len = 28;
	data[1].name = "RFC 4231 case 2 data";
	data[2].p = dd;
	data[2].len = sizeof(dd);
	data[2].name = "RFC 4231 case 3 data";
	data[3].p = cd;
	data[3].len = sizeof(cd);
	data[3].name = "RFC 4231 case 4 data";
	data[4].p = (const unsigned char *) data5;
	data[4].len = strlen(data5);
	data[4].name = "RFC 4231 case 5 data";
	data[5].p = (const unsigned char *) data6;
	data[5].len = strlen(data6);
	data[5].name = "RFC 4231 case 6 data";
	data[6].p = (const unsigned char *) data7;
	data[6].len = strlen(data7);
	data[6].name = "RFC 4231 case 7 data";

	CHECK_ST(jose_keyset_import((const char *) key64, sizeof(key64), JOSE_KEY_SECRET, &ks[0]),
			 JOSE_OK, "hmac: 64-byte binary secret imports");
	CHECK_ST(jose_keyset_import((const char *) key131, sizeof(key131), JOSE_KEY_SECRET, &ks[1]),
			 JOSE_OK, "hmac: RFC 4231 131-byte key imports");
	if (ks[0] == NULL || ks[1] == NULL)
	{
		jose_keyset_free(ks[0]);
		jose_keyset_free(ks[1]);
		return;
	}

	for (int ki = 0; ki < 2; ki++)
	{
		const jose_key *key = jose_keyset_key(ks[ki], 0);
		const unsigned char *kbytes = ki == 0 ? key64 : key131;
		int			klen = ki == 0 ? (int) sizeof(key64) : (int) sizeof(key131);
		const char *kname = ki == 0 ? "64-byte key" : "131-byte key";

		for (int a = 0; a < 3; a++)
		{
			const jose_alg_info *info = jose_alg_get(algs[a]);
			const EVP_MD *md = a == 0 ? EVP_sha256() : a == 1 ? EVP_sha384() : EVP_sha512();

			for (size_t di = 0; di < sizeof(data) / sizeof(data[0]); di++)
			{
				unsigned char want[EVP_MAX_MD_SIZE],
							sig[JOSE_MAX_SIG_LEN + 1],
							again[JOSE_MAX_SIG_LEN];
				unsigned int wantlen = 0;
				size_t		siglen = 0,
							againlen = 0;
				jose_status st;

				HMAC(md, kbytes, klen, data[di].p, data[di].len, want, &wantlen);
				st = jose_sig_sign(key, algs[a], data[di].p, data[di].len, sig, &siglen);
				CHECK(st == JOSE_OK && siglen == info->hash_len && siglen == wantlen &&
					  memcmp(sig, want, wantlen) == 0,
					  "hmac: %s of %s with the %s equals OpenSSL HMAC()",
					  info->name, data[di].name, kname);
				st = jose_sig_sign(key, algs[a], data[di].p, data[di].len, again, &againlen);
				CHECK(st == JOSE_OK && againlen == siglen && memcmp(again, sig, siglen) == 0,
					  "hmac: %s of %s with the %s again gives the same MAC",
					  info->name, data[di].name, kname);
				if (ki == 1 && di >= 5)
				{
					char		hex[2 * EVP_MAX_MD_SIZE + 1];

					for (size_t i = 0; i < siglen; i++)
						snprintf(hex + 2 * i, 3, "%02x", sig[i]);
					hex[2 * siglen] = '\0';
					CHECK(strcmp(hex, rfc_mac[di - 5][a]) == 0,
						  "hmac: %s of %s equals the value printed in RFC 4231",
						  info->name, data[di].name);
				}

				CHECK_ST(jose_sig_verify(key, algs[a], data[di].p, data[di].len, want, wantlen),
						 JOSE_OK, "hmac: %s verify of %s with the %s", info->name, data[di].name, kname);
				CHECK_ST(jose_sig_verify(key, algs[a], data[di].p, data[di].len, want, wantlen - 1),
						 JOSE_E_SIGNATURE, "hmac: %s MAC one byte short refused (%s, %s)",
						 info->name, data[di].name, kname);
				memcpy(sig, want, wantlen);
				sig[wantlen] = 0;
				CHECK_ST(jose_sig_verify(key, algs[a], data[di].p, data[di].len, sig, wantlen + 1),
						 JOSE_E_SIGNATURE, "hmac: %s MAC one byte long refused (%s, %s)",
						 info->name, data[di].name, kname);
				CHECK_ST(jose_sig_verify(key, algs[a], data[di].p, data[di].len, sig, 0),
						 JOSE_E_SIGNATURE, "hmac: %s empty MAC refused (%s, %s)",
						 info->name, data[di].name, kname);
				sig[0] ^= 0x01;
				CHECK_ST(jose_sig_verify(key, algs[a], data[di].p, data[di].len, sig, wantlen),
						 JOSE_E_SIGNATURE, "hmac: %s MAC with the first bit flipped refused (%s, %s)",
						 info->name, data[di].name, kname);
				sig[0] ^= 0x01;
				sig[wantlen - 1] ^= 0x80;
				CHECK_ST(jose_sig_verify(key, algs[a], data[di].p, data[di].len, sig, wantlen),
						 JOSE_E_SIGNATURE, "hmac: %s MAC with the last bit flipped refused (%s, %s)",
						 info->name, data[di].name, kname);
				sig[wantlen - 1] ^= 0x80;
				if (data[di].len > 0)
				{
					unsigned char *copy = malloc(data[di].len);

					memcpy(copy, data[di].p, data[di].len);
					copy[data[di].len / 2] ^= 0x04;
					CHECK_ST(jose_sig_verify(key, algs[a], copy, data[di].len, sig, wantlen),
							 JOSE_E_SIGNATURE, "hmac: %s MAC over altered data refused (%s, %s)",
							 info->name, data[di].name, kname);
					free(copy);
				}
			}
		}
		/* a MAC of one hash is no MAC of another */
		{
			unsigned char sig[JOSE_MAX_SIG_LEN];
			size_t		siglen = 0;

			jose_sig_sign(key, JOSE_ALG_HS512, data[1].p, data[1].len, sig, &siglen);
			CHECK_ST(jose_sig_verify(key, JOSE_ALG_HS256, data[1].p, data[1].len, sig, 32),
					 JOSE_E_SIGNATURE, "hmac: a truncated HS512 MAC is no HS256 MAC (%s)", kname);
			CHECK_ST(jose_sig_verify(key, JOSE_ALG_HS384, data[1].p, data[1].len, sig, 48),
					 JOSE_E_SIGNATURE, "hmac: a truncated HS512 MAC is no HS384 MAC (%s)", kname);
		}
	}
	jose_keyset_free(ks[0]);
	jose_keyset_free(ks[1]);
}

/* ---------------------------------------------------------------------
 * 4. jose_verify end to end
 * --------------------------------------------------------------------- */

#define NOW 1700000000.0

static jose_keyset *fx_ks;		/* secret64 as text */
static const jose_key *fx_key;
static jose_keyset *fx_other;	/* secret64b */
static jose_keyset *fx_jwks;	/* kid "a" = secret64, "b" = secret64b, "r" = RSA */
static jose_keyset *fx_short;	/* a 40-byte secret */

/* A compact token: header and payload bytes as given, signed with key. */
static char *
sign_raw(const jose_key *key, jose_alg alg, const char *hdr, size_t hlen,
		 const char *payload, size_t plen)
{
	size_t		cap = jose_sign_len(hlen, plen) + 1;
	char	   *out = keep(malloc(cap));
	size_t		outlen = 0;
	jose_status st;

	st = jose_sign(key, alg, hdr, hlen, (const unsigned char *) payload, plen,
				   out, cap, &outlen);
	CHECK_ST(st, JOSE_OK, "verify: jose_sign of header %.60s", hdr);
	if (st != JOSE_OK)
		outlen = 0;
	out[outlen] = '\0';
	return out;
}

/* HS256 with the fixture key over the given header and payload text. */
static char *
tok(const char *hdr, const char *payload)
{
	return sign_raw(fx_key, JOSE_ALG_HS256, hdr, strlen(hdr), payload, strlen(payload));
}

/* A token whose three segments are given as base64url text. */
static char *
join3(const char *h, size_t hl, const char *p, size_t pl, const char *s, size_t sl)
{
	char	   *t = keep(malloc(hl + pl + sl + 3));

	memcpy(t, h, hl);
	t[hl] = '.';
	memcpy(t + hl + 1, p, pl);
	t[hl + 1 + pl] = '.';
	memcpy(t + hl + 2 + pl, s, sl);
	t[hl + pl + sl + 2] = '\0';
	return t;
}

/* The i-th segment of a token (0, 1, 2). */
static const char *
segment(const char *t, int i, size_t *len)
{
	const char *d1 = strchr(t, '.');
	const char *d2 = d1 ? strchr(d1 + 1, '.') : NULL;

	if (d2 == NULL)
	{
		*len = 0;
		return t;
	}
	if (i == 0)
	{
		*len = (size_t) (d1 - t);
		return t;
	}
	if (i == 1)
	{
		*len = (size_t) (d2 - d1 - 1);
		return d1 + 1;
	}
	*len = strlen(d2 + 1);
	return d2 + 1;
}

/* A copy of token t with its i-th segment replaced by seg (base64url text). */
static char *
replace_segment(const char *t, int i, const char *seg, size_t seglen)
{
	size_t		l[3];
	const char *s[3];

	for (int j = 0; j < 3; j++)
		s[j] = segment(t, j, &l[j]);
	s[i] = seg;
	l[i] = seglen;
	return join3(s[0], l[0], s[1], l[1], s[2], l[2]);
}

/* The decoded signature of a token, kept. */
static unsigned char *
signature_of(const char *t, size_t *len)
{
	size_t		slen;
	const char *s = segment(t, 2, &slen);
	unsigned char *out = keep(malloc(JOSE_B64_DECODED_MAX(slen) + 1));

	if (!jose_b64url_decode(s, slen, out, len))
		*len = 0;
	return out;
}

static jose_verify_opts
default_opts(void)
{
	jose_verify_opts o;

	memset(&o, 0, sizeof(o));
	o.max_len = 8192;
	o.algorithms = 0;
	o.jwt = 1;
	o.claims.now = NOW;
	o.claims.leeway = 0;
	return o;
}

/*
 * The header memo every test's verification also runs with: it lives from
 * one test to the next, so each token meets it holding whatever header came
 * before, and then holding its own.
 */
static jose_header_memo test_memo;

/* One jose_verify, with the opts given or with test_memo as their memo. */
static jose_status
verify_once(const char *t, size_t len, const jose_keyset *ks, const jose_verify_opts *o,
			jose_header_memo *memo, jose_verified *res, unsigned char **buf)
{
	size_t		buflen = JOSE_VERIFY_BUFLEN(len);
	jose_verify_opts with = *o;

	*buf = malloc(buflen);
	if (memo != NULL)
		with.header_memo = memo;
	return jose_verify(t, len, ks, &with, *buf, buflen, res);
}

/*
 * Run jose_verify on a token; on failure also check (counted) that no payload
 * came back.  On success the payload is copied to *payload when asked for.
 * When o has no header memo, the token is verified twice more with
 * test_memo, which the first of them may and the second must find holding
 * the token's header if it is good; each must end as the first did (status,
 * alg, key, payload, JSON error, claim).
 */
static jose_status
verify_ex(const char *name, const char *t, size_t len, const jose_keyset *ks,
		  const jose_verify_opts *o, jose_verified *res, char **payload, size_t *plen)
{
	unsigned char *buf;
	jose_verified tmp;
	jose_status st;

	if (res == NULL)
		res = &tmp;
	st = verify_once(t, len, ks, o, NULL, res, &buf);
	if (st != JOSE_OK)
		CHECK(res->payload == NULL && res->payload_len == 0,
			  "%s: no payload returned with %s", name, t_status_name(st));
	else if (payload != NULL)
	{
		*payload = kdup(res->payload, res->payload_len);
		*plen = res->payload_len;
	}
	if (o->header_memo == NULL)
	{
		for (int round = 0; round < 2; round++)
		{
			jose_verified m;
			unsigned char *mbuf;
			jose_status mst = verify_once(t, len, ks, o, &test_memo, &m, &mbuf);
			int			same = mst == st && m.alg == res->alg && m.key == res->key &&
				m.payload_len == res->payload_len &&
				(st != JOSE_OK || memcmp(m.payload, res->payload, m.payload_len) == 0) &&
				m.json_error == res->json_error && m.detail_claim == res->detail_claim;

			CHECK(same, "%s: with the header memo (%s), %s as without it (%s)", name,
				  round == 0 ? "as the last token left it" : "holding this token's header",
				  t_status_name(mst), t_status_name(st));
			free(mbuf);
			if (round == 0 && st == JOSE_OK)
			{
				const char *dot = memchr(t, '.', len);
				size_t		hl = dot != NULL ? (size_t) (dot - t) : 0;

				if (hl <= JOSE_HEADER_MEMO_MAX)
					CHECK(test_memo.seglen == hl && memcmp(test_memo.seg, t, hl) == 0,
						  "%s: the header memo holds the header of the token it verified", name);
			}
		}
	}
	res->payload = NULL;		/* it pointed into buf */
	free(buf);
	return st;
}

#define EXPECT(name, t, ks, o, want) \
	CHECK_ST(verify_ex((name), (t), strlen(t), (ks), (o), NULL, NULL, NULL), (want), "%s", (name))

static const char HDR[] = "{\"alg\":\"HS256\",\"typ\":\"JWT\"}";
static const char CLAIMS[] = "{\"sub\":\"alice\",\"exp\":1700000600,\"iat\":1699999990}";

static void
test_verify_ok(void)
{
	jose_verify_opts o = default_opts();
	jose_verified res;
	char	   *payload = NULL;
	size_t		plen = 0;
	char	   *t = tok(HDR, CLAIMS);
	jose_status st;

	st = verify_ex("verify: a fresh HS256 token", t, strlen(t), fx_ks, &o, &res, &payload, &plen);
	CHECK_ST(st, JOSE_OK, "verify: a fresh HS256 token verifies");
	CHECK(st == JOSE_OK && plen == strlen(CLAIMS) && memcmp(payload, CLAIMS, plen) == 0,
		  "verify: the payload comes back byte for byte");
	CHECK(res.alg == JOSE_ALG_HS256 && res.key == fx_key,
		  "verify: the verified alg and key are reported");
	CHECK(res.jti.type == 0 && res.sid.type == 0,
		  "verify: no jti or sid in the claims, none reported");

	/* jti and sid come back as spans into the payload, found as rule 6 finds claims */
	{
		static const char claims[] = "{\"sub\":\"a\",\"\\u006ati\":\"j\\u0031\",\"sid\":7}";
		char		dec[8];
		unsigned char *buf;

		t = tok(HDR, claims);
		EXPECT("verify: a token with jti and sid", t, fx_ks, &o, JOSE_OK);
		/* the spans point into the buffer: look at them before it is freed */
		st = verify_once(t, strlen(t), fx_ks, &o, NULL, &res, &buf);
		CHECK(st == JOSE_OK && res.jti.type == JOSE_JSON_STRING && res.jti.escaped &&
			  res.jti.p >= (const char *) res.payload &&
			  res.jti.p + res.jti.len <= (const char *) res.payload + res.payload_len &&
			  jose_json_string_decode(&res.jti, dec) == 2 && memcmp(dec, "j1", 2) == 0,
			  "verify: the jti, its name escaped, comes back as the payload's string");
		CHECK(st == JOSE_OK && res.sid.type == JOSE_JSON_NUMBER && res.sid.len == 1 && res.sid.p[0] == '7',
			  "verify: a sid that is no string comes back as what it is");
		free(buf);
		t = tok(HDR, "{\"jti\":\"x\",\"exp\":1}");
		st = verify_ex("verify: expired, with a jti", t, strlen(t), fx_ks, &o, &res, NULL, NULL);
		CHECK(st == JOSE_E_EXPIRED && res.jti.type == 0,
			  "verify: a refused token reports no jti");
	}

	{
		static const struct
		{
			jose_alg	alg;
			const char *hdr;
		}			hs[] = {
			{JOSE_ALG_HS384, "{\"alg\":\"HS384\"}"},
			{JOSE_ALG_HS512, "{\"alg\":\"HS512\"}"},
		};

		for (size_t i = 0; i < 2; i++)
		{
			char	   *t2 = sign_raw(fx_key, hs[i].alg, hs[i].hdr, strlen(hs[i].hdr),
									  CLAIMS, strlen(CLAIMS));

			st = verify_ex("verify: HS384/512", t2, strlen(t2), fx_ks, &o, &res, NULL, NULL);
			CHECK(st == JOSE_OK && res.alg == hs[i].alg, "verify: %s token verifies",
				  jose_alg_get(hs[i].alg)->name);
		}
	}

	/* jwt = 0: any payload bytes, no claim checks */
	o.jwt = 0;
	t = tok(HDR, "not JSON at all \x01\xff");
	st = verify_ex("verify: JWS with a binary payload", t, strlen(t), fx_ks, &o, NULL, &payload, &plen);
	CHECK(st == JOSE_OK && plen == 18 && memcmp(payload, "not JSON at all \x01\xff", 18) == 0,
		  "verify: with jwt = 0 the payload is any bytes");
	t = tok(HDR, "{\"exp\":1}");
	EXPECT("verify: with jwt = 0 an expired exp is not checked", t, fx_ks, &o, JOSE_OK);
	t = tok(HDR, "");
	EXPECT("verify: with jwt = 0 an empty payload verifies", t, fx_ks, &o, JOSE_OK);

	/* escaped spellings of header members mean the same */
	o.jwt = 1;
	EXPECT("verify: alg spelled \"\\u0048S256\"", tok("{\"alg\":\"\\u0048S256\"}", CLAIMS), fx_ks, &o, JOSE_OK);
	EXPECT("verify: alg spelled fully escaped \"\\u0048\\u0053\\u0032\\u0035\\u0036\"",
		   tok("{\"alg\":\"\\u0048\\u0053\\u0032\\u0035\\u0036\"}", CLAIMS), fx_ks, &o, JOSE_OK);
	EXPECT("verify: member name \"\\u0061lg\"", tok("{\"\\u0061lg\":\"HS256\"}", CLAIMS), fx_ks, &o, JOSE_OK);
	/* and of the registered claims' names (found in one pass, escaped or not) */
	EXPECT("verify: claim name \"\\u0065xp\", long past", tok(HDR, "{\"\\u0065xp\":1}"), fx_ks, &o,
		   JOSE_E_EXPIRED);
	EXPECT("verify: claim name \"\\u006ebf\", far ahead", tok(HDR, "{\"\\u006ebf\":99999999999}"), fx_ks, &o,
		   JOSE_E_NOT_YET_VALID);
	EXPECT("verify: claim name \"\\u0069at\", a string", tok(HDR, "{\"\\u0069at\":\"now\"}"), fx_ks, &o,
		   JOSE_E_CLAIM_TYPE);
	EXPECT("verify: claim name \"\\u0061ud\", none expected", tok(HDR, "{\"\\u0061ud\":\"api\"}"), fx_ks, &o,
		   JOSE_E_AUDIENCE_UNEXPECTED);
	EXPECT("verify: claim name \"\\u0069ss\", a number", tok(HDR, "{\"\\u0069ss\":1}"), fx_ks, &o,
		   JOSE_E_CLAIM_TYPE);
	EXPECT("verify: claim name \"e\\u0078\\u0070\", long past", tok(HDR, "{\"sub\":\"a\",\"e\\u0078\\u0070\":1}"), fx_ks, &o,
		   JOSE_E_EXPIRED);
	EXPECT("verify: claim name \"exq\" is no exp", tok(HDR, "{\"exq\":1,\"ex\":1,\"expp\":1}"), fx_ks, &o,
		   JOSE_OK);
	EXPECT("verify: jku, x5u, x5c and typ are ignored",
		   tok("{\"alg\":\"HS256\",\"jku\":\"https://evil.example/jwks\",\"x5u\":\"https://evil.example/c\",\"x5c\":[\"AAAA\"],\"typ\":\"at+jwt\",\"cty\":\"x\"}", CLAIMS),
		   fx_ks, &o, JOSE_OK);
}

static void
test_verify_form(void)
{
	jose_verify_opts o = default_opts();
	char	   *t = tok(HDR, CLAIMS);
	size_t		len = strlen(t),
				hl,
				pl,
				sl;
	const char *h = segment(t, 0, &hl),
			   *p = segment(t, 1, &pl),
			   *s = segment(t, 2, &sl);
	char	   *big;

	/* 1. the size cap */
	o.max_len = len - 1;
	EXPECT("verify: one byte over the size cap", t, fx_ks, &o, JOSE_E_TOO_LARGE);
	o.max_len = len;
	EXPECT("verify: exactly at the size cap", t, fx_ks, &o, JOSE_OK);
	o.max_len = 8192;
	big = keep(malloc(20001));
	memset(big, 'A', 20000);
	big[20000] = '\0';
	EXPECT("verify: 20000 bytes of garbage over the cap", big, fx_ks, &o, JOSE_E_TOO_LARGE);
	big[100] = '=';
	big[200] = '.';
	EXPECT("verify: over the cap is refused before any decoding", big, fx_ks, &o, JOSE_E_TOO_LARGE);

	/* 2. exactly three segments */
	EXPECT("verify: one segment", kdup(h, hl), fx_ks, &o, JOSE_E_FORM);
	EXPECT("verify: two segments", kfmt("%.*s.%.*s", (int) hl, h, (int) pl, p), fx_ks, &o, JOSE_E_FORM);
	EXPECT("verify: four segments", kfmt("%s.%.*s", t, (int) sl, s), fx_ks, &o, JOSE_E_FORM);
	EXPECT("verify: five segments (JWE form)", kfmt("%s.%s", t, "AAAA.AAAA"), fx_ks, &o, JOSE_E_FORM);
	EXPECT("verify: trailing dot", kfmt("%s.", t), fx_ks, &o, JOSE_E_FORM);
	EXPECT("verify: empty token", "", fx_ks, &o, JOSE_E_FORM);
	EXPECT("verify: JSON serialisation", "{\"payload\":\"e30\",\"signatures\":[]}", fx_ks, &o, JOSE_E_FORM);

	/* 2. strict base64url in each segment */
	EXPECT("verify: '+' in the header", replace_segment(t, 0, kfmt("+%.*s", (int) hl - 1, h + 1), hl),
		   fx_ks, &o, JOSE_E_BASE64);
	EXPECT("verify: padding on the header",
		   replace_segment(t, 0, kfmt("%.*s%s", (int) hl, h, hl % 4 == 2 ? "==" : hl % 4 == 3 ? "=" : "===="),
						   hl + (hl % 4 == 2 ? 2 : hl % 4 == 3 ? 1 : 4)),
		   fx_ks, &o, JOSE_E_BASE64);
	EXPECT("verify: '/' in the payload", replace_segment(t, 1, kfmt("/%.*s", (int) pl - 1, p + 1), pl),
		   fx_ks, &o, JOSE_E_BASE64);
	EXPECT("verify: a space in the payload", replace_segment(t, 1, kfmt(" %.*s", (int) pl - 1, p + 1), pl),
		   fx_ks, &o, JOSE_E_BASE64);
	EXPECT("verify: byte 0x80 in the payload", replace_segment(t, 1, kfmt("\x80%.*s", (int) pl - 1, p + 1), pl),
		   fx_ks, &o, JOSE_E_BASE64);
	EXPECT("verify: padding on the signature", kfmt("%s=", t), fx_ks, &o, JOSE_E_BASE64);
	EXPECT("verify: signature length mod 4 == 1", kfmt("%sAA", t), fx_ks, &o, JOSE_E_BASE64);
	{
		/* the last signature character of a 32-byte MAC carries 2 unused bits */
		char	   *bad = kdup(t, len);
		int			idx = b64_alphabet_index((unsigned char) bad[len - 1]);

		bad[len - 1] = b64_char(idx | 1);
		EXPECT("verify: non-zero unused bits in the signature", bad, fx_ks, &o, JOSE_E_BASE64);
	}
	{
		char	   *bad = kdup(t, len);

		bad[len - 5] = '\0';
		CHECK_ST(verify_ex("verify: NUL in the signature", bad, len, fx_ks, &o, NULL, NULL, NULL),
				 JOSE_E_BASE64, "verify: NUL in the signature");
	}

	/* 3. the header as JSON */
	{
		static const char *const bad_hdr[] = {
			"not json", "[\"HS256\"]", "\"HS256\"", "{\"alg\":\"HS256\"", "{\"alg\":\"HS256\"}x",
			"{\"alg\":\"HS256\",}", "{\"alg\":\"HS256\",\"x\":\"\\ud800\"}",
			"{\"alg\":\"HS256\",\"x\":\"\xc0\xaf\"}", "{\"alg\":\"HS256\",\"x\":1e200000}", "",
		};

		for (size_t i = 0; i < sizeof(bad_hdr) / sizeof(bad_hdr[0]); i++)
			EXPECT(kfmt("verify: header '%s' is not a JSON object", bad_hdr[i]),
				   tok(bad_hdr[i], CLAIMS), fx_ks, &o, JOSE_E_HEADER_JSON);
		EXPECT("verify: header nested 65 deep",
			   tok(kfmt("{\"alg\":\"HS256\",\"x\":%s}", nested(64, 0)), CLAIMS), fx_ks, &o, JOSE_E_HEADER_JSON);
	}
	EXPECT("verify: header repeats alg", tok("{\"alg\":\"HS256\",\"alg\":\"HS256\"}", CLAIMS),
		   fx_ks, &o, JOSE_E_HEADER_DUP);
	EXPECT("verify: header repeats alg, once escaped", tok("{\"alg\":\"HS256\",\"\\u0061lg\":\"none\"}", CLAIMS),
		   fx_ks, &o, JOSE_E_HEADER_DUP);
	EXPECT("verify: header with a nested duplicate", tok("{\"alg\":\"HS256\",\"x\":{\"a\":1,\"a\":2}}", CLAIMS),
		   fx_ks, &o, JOSE_E_HEADER_DUP);
	{
		jose_verified res;
		char	   *t2 = tok("{\"alg\":\"HS256\",\"alg\":\"HS256\"}", CLAIMS);

		verify_ex("verify: header dup json_error", t2, strlen(t2), fx_ks, &o, &res, NULL, NULL);
		CHECK(res.json_error == JOSE_JSON_DUPLICATE, "verify: a header duplicate reports JOSE_JSON_DUPLICATE");
	}
}

/*
 * A token over the header segment hseg (base64url text, taken as it is,
 * however wrong) and CLAIMS, with a good HS256 MAC over its exact bytes.
 */
static char *
tok_seg(const char *hseg)
{
	char	   *input = kfmt("%s.%s", hseg, kb64(CLAIMS, strlen(CLAIMS)));
	unsigned char mac[JOSE_MAX_SIG_LEN];
	size_t		maclen = 0;

	CHECK_ST(jose_sig_sign(fx_key, JOSE_ALG_HS256, (const unsigned char *) input, strlen(input),
						   mac, &maclen), JOSE_OK, "verify: a MAC over header segment %.40s", hseg);
	return kfmt("%s.%s", input, kb64(mac, maclen));
}

/*
 * The header memo against the headers nearest the one it holds: each is
 * verified (by verify_ex, with and without the memo) right after the good
 * header H, so that the memo holds H when it meets it.
 */
static void
test_verify_header_memo(void)
{
	static const char alphabet[] =
		"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
	jose_verify_opts o = default_opts();
	const char *h = kb64(HDR, strlen(HDR));
	size_t		hl = strlen(h);
	char	   *good = tok_seg(h);
	const char *near[8];
	size_t		nnear = 0;

	EXPECT("verify: memo: the good header H", good, fx_ks, &o, JOSE_OK);
	/* H with its last character, which carries the unused bits, each other one */
	for (size_t c = 0; c < 64; c++)
	{
		char	   *v = kdup(h, hl);

		if (alphabet[c] == h[hl - 1])
			continue;
		v[hl - 1] = alphabet[c];
		EXPECT("verify: memo: H again", good, fx_ks, &o, JOSE_OK);
		/* the MAC is good: only rules 2 and 3 on the new header decide */
		verify_ex(kfmt("verify: memo: H with its last character '%c'", alphabet[c]),
				  tok_seg(v), strlen(tok_seg(v)), fx_ks, &o, NULL, NULL, NULL);
	}
	near[nnear++] = kfmt("%sA", h);
	near[nnear++] = kfmt("%sfQ", h);
	near[nnear++] = kfmt("%.*s", (int) hl - 1, h);
	near[nnear++] = kfmt("%.*s", (int) hl - 4, h);
	near[nnear++] = kfmt("A%s", h + 1);
	near[nnear++] = "";
	for (size_t i = 0; i < nnear; i++)
	{
		EXPECT("verify: memo: H again", good, fx_ks, &o, JOSE_OK);
		verify_ex(kfmt("verify: memo: H changed to '%s'", near[i]), tok_seg(near[i]),
				  strlen(tok_seg(near[i])), fx_ks, &o, NULL, NULL, NULL);
	}

	/* an empty header segment meets an empty memo */
	memset(&test_memo, 0, sizeof(test_memo));
	EXPECT("verify: memo: an empty header against an empty memo", tok_seg(""), fx_ks, &o,
		   JOSE_E_HEADER_JSON);

	/* kept up to JOSE_HEADER_MEMO_MAX characters of segment, not beyond */
	for (size_t bytes = 190; bytes <= 195; bytes++)
	{
		/* {"alg":"HS256","x":"aaa…"}: 22 bytes around the padding */
		char	   *pad = keep(malloc(bytes - 22 + 1));
		char	   *t;
		size_t		seglen = JOSE_B64_ENCODED_LEN(bytes);

		memset(pad, 'a', bytes - 22);
		pad[bytes - 22] = '\0';
		t = tok(kfmt("{\"alg\":\"HS256\",\"x\":\"%s\"}", pad), CLAIMS);
		memset(&test_memo, 0, sizeof(test_memo));
		EXPECT(kfmt("verify: memo: a header segment of %zu characters", seglen), t, fx_ks, &o, JOSE_OK);
		CHECK(seglen <= JOSE_HEADER_MEMO_MAX ? test_memo.seglen == seglen : test_memo.seglen == 0,
			  "verify: memo: a header segment of %zu characters is %s", seglen,
			  seglen <= JOSE_HEADER_MEMO_MAX ? "kept" : "not kept");
	}
}

static void
test_verify_header(void)
{
	jose_verify_opts o = default_opts();
	static const char *const missing[] = {
		"{\"typ\":\"JWT\"}", "{}", "{\"alg\":256}", "{\"alg\":null}", "{\"alg\":[\"HS256\"]}",
		"{\"alg\":true}", "{\"alg\":{\"name\":\"HS256\"}}", "{\"ALG\":\"HS256\"}",
	};
	static const char *const none[] = {
		"none", "NONE", "nOnE", "None", "\\u006eone", "\\u006e\\u006f\\u006e\\u0065",
	};
	static const char *const unknown[] = {
		"HS257", "hs256", "Hs256", "", "HS256 ", " HS256", "HS", "RS1", "nonE ", "non",
		"HS256\\u0000", "A-very-long-algorithm-name", "ES256K1", "EDDSA",
	};

	for (size_t i = 0; i < sizeof(missing) / sizeof(missing[0]); i++)
		EXPECT(kfmt("verify: header %s has no alg string", missing[i]),
			   tok(missing[i], CLAIMS), fx_ks, &o, JOSE_E_ALG_MISSING);
	for (size_t i = 0; i < sizeof(none) / sizeof(none[0]); i++)
		EXPECT(kfmt("verify: alg \"%s\" is none", none[i]),
			   tok(kfmt("{\"alg\":\"%s\"}", none[i]), CLAIMS), fx_ks, &o, JOSE_E_ALG_NONE);
	for (size_t i = 0; i < sizeof(unknown) / sizeof(unknown[0]); i++)
	{
		/* "\u0000" is refused by the JSON parser before any alg lookup */
		jose_status want = strstr(unknown[i], "u0000") ? JOSE_E_HEADER_JSON : JOSE_E_ALG_UNKNOWN;

		EXPECT(kfmt("verify: alg \"%s\" is unknown", unknown[i]),
			   tok(kfmt("{\"alg\":\"%s\"}", unknown[i]), CLAIMS), fx_ks, &o, want);
	}
	EXPECT("verify: none with a signature is still none",
		   tok("{\"alg\":\"none\",\"crit\":[\"x\"]}", CLAIMS), fx_ks, &o, JOSE_E_ALG_NONE);
	{
		/* the classic unsecured token: empty signature */
		char	   *t = kfmt("%s.%s.", kb64("{\"alg\":\"none\"}", 14), kb64(CLAIMS, strlen(CLAIMS)));

		EXPECT("verify: unsecured token with alg none", t, fx_ks, &o, JOSE_E_ALG_NONE);
	}

	EXPECT("verify: crit present", tok("{\"alg\":\"HS256\",\"crit\":[\"exp\"],\"exp\":1}", CLAIMS),
		   fx_ks, &o, JOSE_E_CRIT);
	EXPECT("verify: crit empty", tok("{\"alg\":\"HS256\",\"crit\":[]}", CLAIMS), fx_ks, &o, JOSE_E_CRIT);
	EXPECT("verify: crit spelled with an escape", tok("{\"alg\":\"HS256\",\"\\u0063rit\":[\"x\"]}", CLAIMS),
		   fx_ks, &o, JOSE_E_CRIT);
	EXPECT("verify: crit is checked before b64",
		   tok("{\"alg\":\"HS256\",\"b64\":false,\"crit\":[\"b64\"]}", CLAIMS), fx_ks, &o, JOSE_E_CRIT);
	EXPECT("verify: b64 false", tok("{\"alg\":\"HS256\",\"b64\":false}", CLAIMS), fx_ks, &o, JOSE_E_B64);
	EXPECT("verify: b64 true", tok("{\"alg\":\"HS256\",\"b64\":true}", CLAIMS), fx_ks, &o, JOSE_E_B64);
	EXPECT("verify: zip", tok("{\"alg\":\"HS256\",\"zip\":\"DEF\"}", CLAIMS), fx_ks, &o, JOSE_E_ZIP);
	EXPECT("verify: kid a number", tok("{\"alg\":\"HS256\",\"kid\":1}", CLAIMS), fx_ks, &o, JOSE_E_KID_TYPE);
	EXPECT("verify: kid null", tok("{\"alg\":\"HS256\",\"kid\":null}", CLAIMS), fx_ks, &o, JOSE_E_KID_TYPE);
	EXPECT("verify: kid an array", tok("{\"alg\":\"HS256\",\"kid\":[\"a\"]}", CLAIMS), fx_ks, &o, JOSE_E_KID_TYPE);
	EXPECT("verify: kid an object", tok("{\"alg\":\"HS256\",\"kid\":{}}", CLAIMS), fx_ks, &o, JOSE_E_KID_TYPE);

	/* the caller's algorithms */
	o.algorithms = ALGBIT(HS384) | ALGBIT(HS512);
	EXPECT("verify: HS256 outside algorithms {HS384, HS512}", tok(HDR, CLAIMS), fx_ks, &o, JOSE_E_ALG_NOT_ALLOWED);
	EXPECT("verify: RS256 outside algorithms {HS384, HS512}", tok("{\"alg\":\"RS256\"}", CLAIMS), fx_ks, &o,
		   JOSE_E_ALG_NOT_ALLOWED);
	o.algorithms = ALGBIT(HS256);
	EXPECT("verify: HS256 inside algorithms {HS256}", tok(HDR, CLAIMS), fx_ks, &o, JOSE_OK);
	o.algorithms = JOSE_ALGS_ALL;
	EXPECT("verify: HS256 inside all algorithms", tok(HDR, CLAIMS), fx_ks, &o, JOSE_OK);
	o.algorithms = 0;

	/* the key decides the algorithm family */
	EXPECT("verify: RS256 token against an oct key", tok("{\"alg\":\"RS256\"}", CLAIMS), fx_ks, &o, JOSE_E_ALG_KEY);
	EXPECT("verify: ES256 token against an oct key", tok("{\"alg\":\"ES256\"}", CLAIMS), fx_ks, &o, JOSE_E_ALG_KEY);
	EXPECT("verify: EdDSA token against an oct key", tok("{\"alg\":\"EdDSA\"}", CLAIMS), fx_ks, &o, JOSE_E_ALG_KEY);
	EXPECT("verify: PS256 token against an oct key", tok("{\"alg\":\"PS256\"}", CLAIMS), fx_ks, &o, JOSE_E_ALG_KEY);
	EXPECT("verify: HS512 token against a 40-byte secret",
		   sign_raw(fx_key, JOSE_ALG_HS512, LIT("{\"alg\":\"HS512\"}"), CLAIMS, strlen(CLAIMS)),
		   fx_short, &o, JOSE_E_ALG_KEY);
	{
		jose_keyset *hs384 = NULL;

		import_text(oct_jwk(secret64, 64, ",\"alg\":\"HS384\""), &hs384);
		if (hs384 != NULL)
		{
			EXPECT("verify: HS256 token against a JWK with alg HS384", tok(HDR, CLAIMS), hs384, &o, JOSE_E_ALG_KEY);
			EXPECT("verify: HS384 token against a JWK with alg HS384",
				   sign_raw(fx_key, JOSE_ALG_HS384, LIT("{\"alg\":\"HS384\"}"), CLAIMS, strlen(CLAIMS)),
				   hs384, &o, JOSE_OK);
			jose_keyset_free(hs384);
		}
	}
	{
		jose_keyset *enc = NULL;

		import_text(oct_jwk(secret64, 64, ",\"use\":\"enc\""), &enc);
		if (enc != NULL)
		{
			EXPECT("verify: a use \"enc\" key verifies nothing", tok(HDR, CLAIMS), enc, &o, JOSE_E_ALG_KEY);
			jose_keyset_free(enc);
		}
	}
}

static void
test_verify_kid_signature(void)
{
	jose_verify_opts o = default_opts();
	const jose_key *key_b = NULL;
	jose_verified res;
	jose_status st;
	size_t		len;
	char	   *t;

	for (size_t i = 0; i < jose_keyset_count(fx_jwks); i++)
	{
		const char *kid = jose_key_kid(jose_keyset_key(fx_jwks, i), &len);

		if (kid != NULL && len == 1 && kid[0] == 'b')
			key_b = jose_keyset_key(fx_jwks, i);
	}
	SETUP(key_b != NULL, "verify: the JWKS fixture has kid \"b\"");
	if (key_b == NULL)
		return;

	t = sign_raw(key_b, JOSE_ALG_HS256, LIT("{\"alg\":\"HS256\",\"kid\":\"b\"}"), CLAIMS, strlen(CLAIMS));
	st = verify_ex("verify: kid \"b\" selects key b", t, strlen(t), fx_jwks, &o, &res, NULL, NULL);
	CHECK(st == JOSE_OK && res.key == key_b, "verify: kid \"b\" selects key b and verifies");
	t = sign_raw(key_b, JOSE_ALG_HS256, LIT("{\"alg\":\"HS256\",\"kid\":\"\\u0062\"}"), CLAIMS, strlen(CLAIMS));
	EXPECT("verify: kid \"\\u0062\" selects key b", t, fx_jwks, &o, JOSE_OK);
	t = sign_raw(key_b, JOSE_ALG_HS256, LIT("{\"alg\":\"HS256\",\"kid\":\"a\"}"), CLAIMS, strlen(CLAIMS));
	EXPECT("verify: kid \"a\" on a token signed by key b", t, fx_jwks, &o, JOSE_E_SIGNATURE);
	t = sign_raw(key_b, JOSE_ALG_HS256, LIT("{\"alg\":\"HS256\"}"), CLAIMS, strlen(CLAIMS));
	st = verify_ex("verify: no kid tries every key", t, strlen(t), fx_jwks, &o, &res, NULL, NULL);
	CHECK(st == JOSE_OK && res.key == key_b, "verify: without kid every key is tried, b verifies");
	EXPECT("verify: kid \"c\" is in no key", tok("{\"alg\":\"HS256\",\"kid\":\"c\"}", CLAIMS), fx_jwks, &o,
		   JOSE_E_KID_UNKNOWN);
	EXPECT("verify: kid \"B\" is in no key", tok("{\"alg\":\"HS256\",\"kid\":\"B\"}", CLAIMS), fx_jwks, &o,
		   JOSE_E_KID_UNKNOWN);
	EXPECT("verify: kid \"b \" is in no key", tok("{\"alg\":\"HS256\",\"kid\":\"b \"}", CLAIMS), fx_jwks, &o,
		   JOSE_E_KID_UNKNOWN);
	EXPECT("verify: kid \"\" is in no key", tok("{\"alg\":\"HS256\",\"kid\":\"\"}", CLAIMS), fx_jwks, &o,
		   JOSE_E_KID_UNKNOWN);
	EXPECT("verify: kid of the RSA key on an HS256 token", tok("{\"alg\":\"HS256\",\"kid\":\"r\"}", CLAIMS),
		   fx_jwks, &o, JOSE_E_ALG_KEY);
	{
		jose_keyset *one = NULL;

		import_text(oct_jwk(secret64, 64, ",\"kid\":\"k1\""), &one);
		if (one != NULL)
		{
			EXPECT("verify: single JWK, matching kid", tok("{\"alg\":\"HS256\",\"kid\":\"k1\"}", CLAIMS),
				   one, &o, JOSE_OK);
			EXPECT("verify: single JWK, other kid", tok("{\"alg\":\"HS256\",\"kid\":\"k2\"}", CLAIMS),
				   one, &o, JOSE_E_KID_UNKNOWN);
			jose_keyset_free(one);
		}
	}

	/* bad signatures */
	t = tok(HDR, CLAIMS);
	{
		size_t		slen;
		unsigned char *sig = signature_of(t, &slen);

		sig[0] ^= 0x01;
		EXPECT("verify: first signature bit flipped", replace_segment(t, 2, kb64(sig, slen), JOSE_B64_ENCODED_LEN(slen)),
			   fx_ks, &o, JOSE_E_SIGNATURE);
		sig[0] ^= 0x01;
		sig[slen - 1] ^= 0x80;
		EXPECT("verify: last signature bit flipped", replace_segment(t, 2, kb64(sig, slen), JOSE_B64_ENCODED_LEN(slen)),
			   fx_ks, &o, JOSE_E_SIGNATURE);
		sig[slen - 1] ^= 0x80;
		EXPECT("verify: signature one byte short", replace_segment(t, 2, kb64(sig, slen - 1), JOSE_B64_ENCODED_LEN(slen - 1)),
			   fx_ks, &o, JOSE_E_SIGNATURE);
		sig[slen] = 0;
		EXPECT("verify: signature one byte long", replace_segment(t, 2, kb64(sig, slen + 1), JOSE_B64_ENCODED_LEN(slen + 1)),
			   fx_ks, &o, JOSE_E_SIGNATURE);
		EXPECT("verify: signature re-encoded unchanged", replace_segment(t, 2, kb64(sig, slen), JOSE_B64_ENCODED_LEN(slen)),
			   fx_ks, &o, JOSE_OK);
	}
	EXPECT("verify: empty signature", replace_segment(t, 2, "", 0), fx_ks, &o, JOSE_E_SIGNATURE);
	EXPECT("verify: signed with another key", tok(HDR, CLAIMS), fx_other, &o, JOSE_E_SIGNATURE);
	{
		const char *other = "{\"sub\":\"admin\",\"exp\":1700000600,\"iat\":1699999990}";

		EXPECT("verify: payload replaced, signature kept",
			   replace_segment(t, 1, kb64(other, strlen(other)), JOSE_B64_ENCODED_LEN(strlen(other))),
			   fx_ks, &o, JOSE_E_SIGNATURE);
		EXPECT("verify: header replaced, signature kept",
			   replace_segment(t, 0, kb64("{\"alg\":\"HS256\"}", 15), JOSE_B64_ENCODED_LEN(15)),
			   fx_ks, &o, JOSE_E_SIGNATURE);
	}
	{
		/* an embedded jwk never chooses the key: signed with the attacker's key */
		jose_keyset *attacker = NULL;
		char	   *hdr;

		jose_keyset_import("attacker-secret-attacker-secret-attacker-secret-attacker-secret!", 64,
						   JOSE_KEY_SECRET, &attacker);
		if (attacker != NULL)
		{
			hdr = kfmt("{\"alg\":\"HS256\",\"jwk\":%s}",
					   oct_jwk("attacker-secret-attacker-secret-attacker-secret-attacker-secret!", 64, ""));
			EXPECT("verify: a header jwk does not choose the key",
				   sign_raw(jose_keyset_key(attacker, 0), JOSE_ALG_HS256, hdr, strlen(hdr), CLAIMS, strlen(CLAIMS)),
				   fx_ks, &o, JOSE_E_SIGNATURE);
			hdr = "{\"alg\":\"HS256\",\"jku\":\"https://attacker.example/jwks.json\"}";
			EXPECT("verify: a header jku does not choose the key",
				   sign_raw(jose_keyset_key(attacker, 0), JOSE_ALG_HS256, hdr, strlen(hdr), CLAIMS, strlen(CLAIMS)),
				   fx_ks, &o, JOSE_E_SIGNATURE);
			jose_keyset_free(attacker);
		}
	}
	{
		/* the payload is looked at only after the signature holds */
		char	   *bad = tok(HDR, "not json");
		size_t		slen;
		unsigned char *sig = signature_of(bad, &slen);

		sig[3] ^= 0x10;
		EXPECT("verify: bad signature over a non-JSON payload is a signature error",
			   replace_segment(bad, 2, kb64(sig, slen), JOSE_B64_ENCODED_LEN(slen)), fx_ks, &o, JOSE_E_SIGNATURE);
		EXPECT("verify: non-JSON payload signed by another key", tok(HDR, "{\"a\":1,\"a\":2}"),
			   fx_other, &o, JOSE_E_SIGNATURE);
	}
}

/* The union of jose_key_algs over a set's keys, computed here key by key. */
static jose_algset
algs_of_keys(const jose_keyset *ks, jose_op op)
{
	jose_algset set = 0;

	for (size_t i = 0; i < jose_keyset_count(ks); i++)
		set |= jose_key_algs(jose_keyset_key(ks, i), op);
	return set;
}

/*
 * A large set: the kid index gives each key's place among the keys, so every
 * kid selects its own key wherever it stands, and what the set can do
 * (summarised once, when the set is imported or indexed) is what its keys
 * can do together.
 */
static void
test_verify_large_sets(void)
{
	enum
	{
		NK = 200
	};
	jose_verify_opts o = default_opts();
	const char *parts[NK];
	jose_keyset *ks = NULL;
	jose_keyset *reg = jose_keyset_new();
	jose_verified res;
	jose_status st;
	int			bad = 0;

	/*
	 * kids whose sorted order is not the keys' order ("...k0", "...k37",
	 * "...k74"), sharing more than the index's 8-byte prefix
	 */
	for (int i = 0; i < NK; i++)
	{
		char		secret[64];

		snprintf(secret, sizeof(secret), "large-set-secret-%05d-0123456789abcdef", i);
		parts[i] = oct_jwk(secret, strlen(secret), kfmt(",\"kid\":\"long-shared-prefix-k%d\"", (i * 37) % NK));
	}
	{
		size_t		cap = 16;
		char	   *text;

		for (int i = 0; i < NK; i++)
			cap += strlen(parts[i]) + 1;
		text = keep(malloc(cap));
		strcpy(text, "{\"keys\":[");
		for (int i = 0; i < NK; i++)
		{
			if (i > 0)
				strcat(text, ",");
			strcat(text, parts[i]);
		}
		strcat(text, "]}");
		st = import_text(text, &ks);
	}
	SETUP(st == JOSE_OK && ks != NULL && jose_keyset_count(ks) == NK,
		  "large sets: a JWKS of %d keys imports", NK);
	SETUP(reg != NULL, "large sets: jose_keyset_new");
	if (ks == NULL || reg == NULL)
	{
		jose_keyset_free(ks);
		jose_keyset_free(reg);
		return;
	}

	/* every kid selects its own key, at whatever place */
	for (int i = 0; i < NK; i++)
	{
		const jose_key *key = jose_keyset_key(ks, (size_t) i);
		char	   *hdr = kfmt("{\"alg\":\"HS256\",\"kid\":\"long-shared-prefix-k%d\"}", (i * 37) % NK);
		char	   *t = sign_raw(key, JOSE_ALG_HS256, hdr, strlen(hdr), CLAIMS, strlen(CLAIMS));

		st = verify_ex("large sets: kid selects its key", t, strlen(t), ks, &o, &res, NULL, NULL);
		if (st != JOSE_OK || res.key != key)
			bad++;
		/* the same token under the next key's kid: that key, which did not sign it */
		hdr = kfmt("{\"alg\":\"HS256\",\"kid\":\"long-shared-prefix-k%d\"}", ((i + 1) * 37) % NK);
		t = sign_raw(key, JOSE_ALG_HS256, hdr, strlen(hdr), CLAIMS, strlen(CLAIMS));
		if (verify_ex("large sets: kid of another key", t, strlen(t), ks, &o, NULL, NULL, NULL) !=
			JOSE_E_SIGNATURE)
			bad++;
	}
	CHECK(bad == 0, "large sets: in a JWKS of %d keys each kid selects its own key (%d wrong)", NK, bad);
	EXPECT("large sets: a kid in no key",
		   sign_raw(jose_keyset_key(ks, 0), JOSE_ALG_HS256, LIT("{\"alg\":\"HS256\",\"kid\":\"long-shared-prefix-k200\"}"),
					CLAIMS, strlen(CLAIMS)), ks, &o, JOSE_E_KID_UNKNOWN);
	EXPECT("large sets: a kid that starts every kid",
		   sign_raw(jose_keyset_key(ks, 0), JOSE_ALG_HS256, LIT("{\"alg\":\"HS256\",\"kid\":\"long-shared-prefix-k\"}"),
					CLAIMS, strlen(CLAIMS)), ks, &o, JOSE_E_KID_UNKNOWN);
	EXPECT("large sets: a kid of the index's prefix alone",
		   sign_raw(jose_keyset_key(ks, 0), JOSE_ALG_HS256, LIT("{\"alg\":\"HS256\",\"kid\":\"long-sha\"}"),
					CLAIMS, strlen(CLAIMS)), ks, &o, JOSE_E_KID_UNKNOWN);
	EXPECT("large sets: a kid before every kid",
		   sign_raw(jose_keyset_key(ks, 0), JOSE_ALG_HS256, LIT("{\"alg\":\"HS256\",\"kid\":\"a\"}"),
					CLAIMS, strlen(CLAIMS)), ks, &o, JOSE_E_KID_UNKNOWN);
	EXPECT("large sets: a kid after every kid",
		   sign_raw(jose_keyset_key(ks, 0), JOSE_ALG_HS256, LIT("{\"alg\":\"HS256\",\"kid\":\"long-shared-prefix-z\"}"),
					CLAIMS, strlen(CLAIMS)), ks, &o, JOSE_E_KID_UNKNOWN);
	EXPECT("large sets: no kid, more candidates than the bound",
		   sign_raw(jose_keyset_key(ks, 0), JOSE_ALG_HS256, LIT("{\"alg\":\"HS256\"}"),
					CLAIMS, strlen(CLAIMS)), ks, &o, JOSE_E_KID_REQUIRED);
	CHECK(jose_keyset_algs(ks, JOSE_OP_VERIFY) == algs_of_keys(ks, JOSE_OP_VERIFY) &&
		  jose_keyset_algs(ks, JOSE_OP_SIGN) == algs_of_keys(ks, JOSE_OP_SIGN) &&
		  jose_keyset_algs(ks, JOSE_OP_VERIFY) == ALGBIT(HS256),
		  "large sets: a JWKS's summary is the union of its keys' algorithms");

	/*
	 * A registry: keys adopted one by one, then indexed; key i is pinned to
	 * HS256 or HS384 and is retired when i % 10 == 3.
	 */
	bad = 0;
	for (int i = 0; i < NK && reg != NULL; i++)
	{
		jose_keyset *one = NULL;
		char		secret[64];
		char	   *kid = kfmt("r%d", (i * 37) % NK);

		snprintf(secret, sizeof(secret), "registry-secret-%05d-0123456789abcdefghijklmnop", i);
		st = jose_keyset_import(secret, strlen(secret), JOSE_KEY_SECRET, &one);
		if (st == JOSE_OK)
		{
			jose_key   *k = (jose_key *) jose_keyset_key(one, 0);

			jose_key_restrict(k, i % 2 ? JOSE_ALG_HS384 : JOSE_ALG_HS256, NOW - 3600,
							  i % 10 == 3, NOW - 60);
			st = jose_key_set_kid(k, kid, strlen(kid));
		}
		if (st == JOSE_OK)
			st = jose_keyset_adopt(reg, one);
		else
			jose_keyset_free(one);
		if (st != JOSE_OK)
			bad++;
	}
	CHECK(bad == 0 && jose_keyset_count(reg) == NK, "large sets: a registry of %d keys is built", NK);
	bad = 0;
	CHECK(jose_keyset_algs(reg, JOSE_OP_VERIFY) == algs_of_keys(reg, JOSE_OP_VERIFY),
		  "large sets: an adopted set, not indexed, says what its keys can do");
	CHECK_ST(jose_keyset_index(reg), JOSE_OK, "large sets: the registry is indexed");
	CHECK(jose_keyset_algs(reg, JOSE_OP_VERIFY) == algs_of_keys(reg, JOSE_OP_VERIFY) &&
		  jose_keyset_algs(reg, JOSE_OP_SIGN) == algs_of_keys(reg, JOSE_OP_SIGN) &&
		  jose_keyset_algs(reg, JOSE_OP_VERIFY) == (ALGBIT(HS256) | ALGBIT(HS384)),
		  "large sets: an indexed registry's summary is the union of its keys' algorithms");
	o.check_key_time = 1;
	o.key_time = NOW;
	for (int i = 0; i < NK; i++)
	{
		const jose_key *key = jose_keyset_key(reg, (size_t) i);
		jose_alg	alg = i % 2 ? JOSE_ALG_HS384 : JOSE_ALG_HS256;
		char	   *hdr = kfmt("{\"alg\":\"%s\",\"kid\":\"r%d\"}", i % 2 ? "HS384" : "HS256", (i * 37) % NK);
		char	   *t = sign_raw(key, alg, hdr, strlen(hdr), CLAIMS, strlen(CLAIMS));
		jose_status want = i % 10 == 3 ? JOSE_E_KEY_NOT_VALID : JOSE_OK;

		st = verify_ex("large sets: registry kid", t, strlen(t), reg, &o, &res, NULL, NULL);
		if (st != want || (st == JOSE_OK && res.key != key))
			bad++;
		/* the key's kid with the other algorithm: the named key cannot do it */
		hdr = kfmt("{\"alg\":\"%s\",\"kid\":\"r%d\"}", i % 2 ? "HS256" : "HS384", (i * 37) % NK);
		t = sign_raw(key, alg, hdr, strlen(hdr), CLAIMS, strlen(CLAIMS));
		want = i % 10 == 3 ? JOSE_E_KEY_NOT_VALID : JOSE_E_ALG_KEY;
		if (verify_ex("large sets: registry kid, other alg", t, strlen(t), reg, &o, NULL, NULL, NULL) != want)
			bad++;
	}
	CHECK(bad == 0, "large sets: in a registry of %d keys each kid selects its own key, "
		  "retired keys refused, algorithms pinned (%d wrong)", NK, bad);

	/*
	 * The kid index alone (jose_keyset_find, which jwt_issue(claims, kid)
	 * uses without verify_signature's second look at the kid): every kid
	 * finds its own key, in the JWKS whose kids share their first 8 bytes
	 * and in the registry whose kids do not; kids next to them find none.
	 */
	{
		static const char *const absent[] = {
			"long-shared-prefix-k", "long-sha", "long-sh", "long-shared-prefix-j9",
			"long-shared-prefix-k00", "long-shared-prefix-k1x", "long-shared-prefix-k200",
			"long-shared-prefix-z", "r", "r00", "r1x", "r200", "q9", "s", "a", ""
		};

		bad = 0;
		for (int i = 0; i < NK; i++)
			for (int set = 0; set < 2; set++)
			{
				const jose_keyset *in = set ? reg : ks;
				char	   *kid = kfmt(set ? "r%d" : "long-shared-prefix-k%d", i);
				const jose_key *k = jose_keyset_find(in, kid, strlen(kid));
				size_t		klen = 0;
				const char *got = k != NULL ? jose_key_kid(k, &klen) : NULL;

				if (got == NULL || klen != strlen(kid) || memcmp(got, kid, klen) != 0)
					bad++;
			}
		for (size_t i = 0; i < sizeof(absent) / sizeof(absent[0]); i++)
			if (jose_keyset_find(ks, absent[i], strlen(absent[i])) != NULL ||
				jose_keyset_find(reg, absent[i], strlen(absent[i])) != NULL)
				bad++;
		CHECK(bad == 0, "large sets: the kid index finds each of %d kids in both sets, "
			  "and none of %zu kids next to them (%d wrong)", NK,
			  sizeof(absent) / sizeof(absent[0]), bad);
	}

	/* the fixtures: single keys and a JWKS with a member it cannot use */
	CHECK(jose_keyset_algs(fx_jwks, JOSE_OP_VERIFY) == algs_of_keys(fx_jwks, JOSE_OP_VERIFY) &&
		  jose_keyset_algs(fx_short, JOSE_OP_VERIFY) == algs_of_keys(fx_short, JOSE_OP_VERIFY) &&
		  jose_keyset_algs(fx_short, JOSE_OP_SIGN) == algs_of_keys(fx_short, JOSE_OP_SIGN),
		  "large sets: the fixtures' summaries are the union of their keys' algorithms");
	jose_keyset_free(ks);
	jose_keyset_free(reg);
}

static void
test_verify_payload(void)
{
	jose_verify_opts o = default_opts();
	jose_verified res;
	static const struct
	{
		const char *payload;
		size_t		len;
		jose_status want;
		const char *why;
	}			cases[] = {
		{LIT("not json"), JOSE_E_PAYLOAD_JSON, "not JSON"},
		{LIT(""), JOSE_E_PAYLOAD_JSON, "empty"},
		{LIT("{\"sub\":\"a\""), JOSE_E_PAYLOAD_JSON, "truncated JSON"},
		{LIT("{\"sub\":\"\xc0\xaf\"}"), JOSE_E_PAYLOAD_JSON, "invalid UTF-8"},
		{LIT("{\"sub\":\"\\ud800\"}"), JOSE_E_PAYLOAD_JSON, "a lone surrogate"},
		{LIT("{\"sub\":\"\\u0000\"}"), JOSE_E_PAYLOAD_JSON, "\\u0000"},
		{LIT("{\"sub\":\"a\"}\0"), JOSE_E_PAYLOAD_JSON, "a NUL after the object"},
		{LIT("{\"n\":1e200000}"), JOSE_E_PAYLOAD_JSON, "a number beyond numeric"},
		{LIT("{\"sub\":\"a\",\"sub\":\"b\"}"), JOSE_E_PAYLOAD_DUP, "a duplicate claim"},
		{LIT("{\"sub\":\"a\",\"\\u0073ub\":\"b\"}"), JOSE_E_PAYLOAD_DUP, "a duplicate claim spelled with an escape"},
		{LIT("{\"x\":{\"a\":1,\"a\":2}}"), JOSE_E_PAYLOAD_DUP, "a nested duplicate"},
		{LIT("{\"exp\":1700000600,\"exp\":1}"), JOSE_E_PAYLOAD_DUP, "exp twice"},
		{LIT("[1]"), JOSE_E_PAYLOAD_OBJECT, "an array"},
		{LIT("\"claims\""), JOSE_E_PAYLOAD_OBJECT, "a string"},
		{LIT("1"), JOSE_E_PAYLOAD_OBJECT, "a number"},
		{LIT("null"), JOSE_E_PAYLOAD_OBJECT, "null"},
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
	{
		char	   *t = sign_raw(fx_key, JOSE_ALG_HS256, HDR, strlen(HDR), cases[i].payload, cases[i].len);
		char	   *name = kfmt("verify: signed payload that is %s", cases[i].why);

		CHECK_ST(verify_ex(name, t, strlen(t), fx_ks, &o, &res, NULL, NULL), cases[i].want, "%s", name);
	}
	{
		char	   *t = tok(HDR, "{\"a\":1,\"a\":1}");

		verify_ex("verify: payload dup json_error", t, strlen(t), fx_ks, &o, &res, NULL, NULL);
	}
	CHECK(res.json_error == JOSE_JSON_DUPLICATE, "verify: a payload duplicate reports JOSE_JSON_DUPLICATE");
}

/* One claims case: CLAIMS-like payload, rules, expected status. */
static void
claim_case(const char *name, const char *payload, const jose_claim_rules *rules,
		   jose_status want, const char *want_claim)
{
	jose_verify_opts o = default_opts();
	jose_verified res;
	char	   *t = tok(HDR, payload);
	jose_status st;

	o.claims = *rules;
	st = verify_ex(name, t, strlen(t), fx_ks, &o, &res, NULL, NULL);
	CHECK_ST(st, want, "claims: %s", name);
	if (want_claim != NULL)
		CHECK(res.detail_claim != NULL && strcmp(res.detail_claim, want_claim) == 0,
			  "claims: %s names the claim \"%s\" (got %s)", name, want_claim,
			  res.detail_claim ? res.detail_claim : "NULL");
}

static void
test_verify_claims(void)
{
	jose_claim_rules r;
	jose_claim_rules base;
	static const struct
	{
		const char *payload;
		const char *claim;
	}			types[] = {
		{"{\"exp\":\"1700000600\"}", "exp"},
		{"{\"exp\":true}", "exp"},
		{"{\"exp\":false}", "exp"},
		{"{\"exp\":null}", "exp"},
		{"{\"exp\":1e400}", "exp"},
		{"{\"exp\":-1e400}", "exp"},
		{"{\"exp\":[1700000600]}", "exp"},
		{"{\"exp\":{}}", "exp"},
		{"{\"nbf\":\"0\"}", "nbf"},
		{"{\"nbf\":false}", "nbf"},
		{"{\"nbf\":1e400}", "nbf"},
		{"{\"iat\":\"0\"}", "iat"},
		{"{\"iat\":true}", "iat"},
		{"{\"iat\":1e400}", "iat"},
		{"{\"aud\":1}", "aud"},
		{"{\"aud\":[1]}", "aud"},
		{"{\"aud\":[\"api\",null]}", "aud"},
		{"{\"aud\":{\"api\":1}}", "aud"},
		{"{\"aud\":true}", "aud"},
		{"{\"iss\":1}", "iss"},
		{"{\"iss\":[\"https://issuer.example\"]}", "iss"},
		{"{\"iss\":null}", "iss"},
	};

	memset(&base, 0, sizeof(base));
	base.now = NOW;

	for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++)
		claim_case(kfmt("claim type %s", types[i].payload), types[i].payload, &base,
				   JOSE_E_CLAIM_TYPE, types[i].claim);
	r = base;
	r.audience = "other";
	r.audience_len = 5;
	claim_case("a type error wins over an audience mismatch", "{\"exp\":\"x\",\"aud\":\"api\"}", &r,
			   JOSE_E_CLAIM_TYPE, "exp");
	claim_case("a type error wins over expiry", "{\"exp\":1,\"iss\":2}", &base, JOSE_E_CLAIM_TYPE, "iss");

	/* exp, nbf, iat at their boundaries */
	claim_case("exp == now is expired", "{\"exp\":1700000000}", &base, JOSE_E_EXPIRED, NULL);
	claim_case("exp == now + 1 is valid", "{\"exp\":1700000001}", &base, JOSE_OK, NULL);
	claim_case("exp == now - 1 is expired", "{\"exp\":1699999999}", &base, JOSE_E_EXPIRED, NULL);
	claim_case("exp == now + 0.5 is valid", "{\"exp\":1700000000.5}", &base, JOSE_OK, NULL);
	claim_case("exp == now - 0.5 is expired", "{\"exp\":1699999999.5}", &base, JOSE_E_EXPIRED, NULL);
	claim_case("exp == 0 is expired", "{\"exp\":0}", &base, JOSE_E_EXPIRED, NULL);
	claim_case("exp negative is expired", "{\"exp\":-1}", &base, JOSE_E_EXPIRED, NULL);
	claim_case("exp as 1.7e9 in exponent form", "{\"exp\":1.7000006e9}", &base, JOSE_OK, NULL);
	claim_case("no time claims at all", "{\"sub\":\"x\"}", &base, JOSE_OK, NULL);
	claim_case("empty claims set", "{}", &base, JOSE_OK, NULL);
	claim_case("nbf == now is valid", "{\"nbf\":1700000000}", &base, JOSE_OK, NULL);
	claim_case("nbf == now + 1 is not yet valid", "{\"nbf\":1700000001}", &base, JOSE_E_NOT_YET_VALID, NULL);
	claim_case("iat == now is valid", "{\"iat\":1700000000}", &base, JOSE_OK, NULL);
	claim_case("iat == now + 1 is in the future", "{\"iat\":1700000001}", &base, JOSE_E_IAT_FUTURE, NULL);
	claim_case("exp is checked before nbf", "{\"exp\":1,\"nbf\":1800000000}", &base, JOSE_E_EXPIRED, NULL);

	r = base;
	r.leeway = 10;
	claim_case("leeway 10: exp == now - 5 is valid", "{\"exp\":1699999995}", &r, JOSE_OK, NULL);
	claim_case("leeway 10: exp == now - 10 is expired", "{\"exp\":1699999990}", &r, JOSE_E_EXPIRED, NULL);
	claim_case("leeway 10: exp == now - 11 is expired", "{\"exp\":1699999989}", &r, JOSE_E_EXPIRED, NULL);
	claim_case("leeway 10: nbf == now + 5 is valid", "{\"nbf\":1700000005}", &r, JOSE_OK, NULL);
	claim_case("leeway 10: nbf == now + 10 is valid", "{\"nbf\":1700000010}", &r, JOSE_OK, NULL);
	claim_case("leeway 10: nbf == now + 11 is not yet valid", "{\"nbf\":1700000011}", &r, JOSE_E_NOT_YET_VALID, NULL);
	claim_case("leeway 10: iat == now + 5 is valid", "{\"iat\":1700000005}", &r, JOSE_OK, NULL);
	claim_case("leeway 10: iat == now + 11 is in the future", "{\"iat\":1700000011}", &r, JOSE_E_IAT_FUTURE, NULL);

	/* audience */
	r = base;
	r.audience = "api";
	r.audience_len = 3;
	claim_case("aud \"api\" matches", "{\"aud\":\"api\"}", &r, JOSE_OK, NULL);
	claim_case("aud [\"other\",\"api\"] matches", "{\"aud\":[\"other\",\"api\"]}", &r, JOSE_OK, NULL);
	claim_case("aud [\"api\"] matches", "{\"aud\":[\"api\"]}", &r, JOSE_OK, NULL);
	claim_case("aud \"\\u0061pi\" matches", "{\"aud\":\"\\u0061pi\"}", &r, JOSE_OK, NULL);
	claim_case("aud \"api \" is a near miss", "{\"aud\":\"api \"}", &r, JOSE_E_AUDIENCE, NULL);
	claim_case("aud \" api\" is a near miss", "{\"aud\":\" api\"}", &r, JOSE_E_AUDIENCE, NULL);
	claim_case("aud \"API\" is a near miss", "{\"aud\":\"API\"}", &r, JOSE_E_AUDIENCE, NULL);
	claim_case("aud \"ap\" is a near miss", "{\"aud\":\"ap\"}", &r, JOSE_E_AUDIENCE, NULL);
	claim_case("aud \"apii\" is a near miss", "{\"aud\":\"apii\"}", &r, JOSE_E_AUDIENCE, NULL);
	claim_case("aud \"\" is a near miss", "{\"aud\":\"\"}", &r, JOSE_E_AUDIENCE, NULL);
	claim_case("aud of near misses only", "{\"aud\":[\"api \",\"API\",\"ap\"]}", &r, JOSE_E_AUDIENCE, NULL);
	claim_case("aud [] does not match", "{\"aud\":[]}", &r, JOSE_E_AUDIENCE, NULL);
	claim_case("no aud when an audience is required", "{\"sub\":\"x\"}", &r, JOSE_E_CLAIM_MISSING, "aud");
	r.audience = "apix";		/* the length, not the NUL, bounds the audience */
	claim_case("audience bounded by its length", "{\"aud\":\"api\"}", &r, JOSE_OK, NULL);
	/* a list of audiences (an identity provider's): any one of them */
	{
		static const char *const auds[] = {"api", "https://api.example/"};
		static const size_t lens[] = {3, 20};

		r = base;
		r.audiences = auds;
		r.audience_lens = lens;
		r.naudiences = 2;
		claim_case("audiences: the first matches", "{\"aud\":\"api\"}", &r, JOSE_OK, NULL);
		claim_case("audiences: the second matches", "{\"aud\":\"https://api.example/\"}", &r, JOSE_OK, NULL);
		claim_case("audiences: one in an array", "{\"aud\":[\"x\",\"https://api.example/\"]}", &r, JOSE_OK, NULL);
		claim_case("audiences: none matches", "{\"aud\":[\"x\",\"API\",\"https://api.example\"]}", &r,
				   JOSE_E_AUDIENCE, NULL);
		claim_case("audiences: a prefix of one", "{\"aud\":\"ap\"}", &r, JOSE_E_AUDIENCE, NULL);
		claim_case("audiences: aud [] matches none", "{\"aud\":[]}", &r, JOSE_E_AUDIENCE, NULL);
		claim_case("audiences: no aud", "{\"sub\":\"x\"}", &r, JOSE_E_CLAIM_MISSING, "aud");
		r.naudiences = 1;
		claim_case("audiences: only the first naudiences count", "{\"aud\":\"https://api.example/\"}", &r,
				   JOSE_E_AUDIENCE, NULL);
		r.audience = "https://api.example/";
		r.audience_len = 20;
		claim_case("audiences: audience, when set, is the rule", "{\"aud\":\"api\"}", &r, JOSE_E_AUDIENCE, NULL);
	}
	r = base;
	claim_case("aud present, no audience expected", "{\"aud\":\"api\"}", &r, JOSE_E_AUDIENCE_UNEXPECTED, NULL);
	claim_case("aud [] present, no audience expected", "{\"aud\":[]}", &r, JOSE_E_AUDIENCE_UNEXPECTED, NULL);

	/* issuer */
	r = base;
	r.issuer = "https://issuer.example";
	r.issuer_len = strlen(r.issuer);
	claim_case("iss exact match", "{\"iss\":\"https://issuer.example\"}", &r, JOSE_OK, NULL);
	claim_case("iss with escaped slashes matches", "{\"iss\":\"https:\\/\\/issuer.example\"}", &r, JOSE_OK, NULL);
	claim_case("iss a prefix of the issuer", "{\"iss\":\"https://issuer.exampl\"}", &r, JOSE_E_ISSUER, NULL);
	claim_case("iss with a trailing slash", "{\"iss\":\"https://issuer.example/\"}", &r, JOSE_E_ISSUER, NULL);
	claim_case("iss with a suffix", "{\"iss\":\"https://issuer.example.evil\"}", &r, JOSE_E_ISSUER, NULL);
	claim_case("iss with a prefix", "{\"iss\":\"xhttps://issuer.example\"}", &r, JOSE_E_ISSUER, NULL);
	claim_case("iss in other case", "{\"iss\":\"HTTPS://issuer.example\"}", &r, JOSE_E_ISSUER, NULL);
	claim_case("iss missing when an issuer is required", "{\"sub\":\"x\"}", &r, JOSE_E_ISSUER, NULL);
	r = base;
	claim_case("any iss when no issuer is required", "{\"iss\":\"anyone\"}", &r, JOSE_OK, NULL);

	/* all together */
	r = base;
	r.leeway = 5;
	r.audience = "api";
	r.audience_len = 3;
	r.issuer = "https://issuer.example";
	r.issuer_len = strlen(r.issuer);
	claim_case("a full claims set", "{\"iss\":\"https://issuer.example\",\"sub\":\"u1\",\"aud\":[\"api\",\"web\"],"
			   "\"exp\":1700000600,\"nbf\":1699999000,\"iat\":1699999000,\"jti\":\"x\","
			   "\"extra\":{\"nested\":[1,2,{\"k\":null}]}}", &r, JOSE_OK, NULL);
}

static void
test_decode(void)
{
	char	   *t = tok(HDR, CLAIMS);
	size_t		len = strlen(t);
	size_t		buflen = JOSE_VERIFY_BUFLEN(len) + 64;
	unsigned char *buf = malloc(buflen);
	jose_decoded d;
	jose_status st;
	static const struct
	{
		const char *hdr;
		const char *payload;
		jose_status want;
	}			bad[] = {
		{"[1]", "{}", JOSE_E_HEADER_JSON},
		{"{\"alg\":\"HS256\",\"alg\":1}", "{}", JOSE_E_HEADER_DUP},
		{"{\"alg\":\"HS256\"}", "not json", JOSE_E_PAYLOAD_JSON},
		{"{\"alg\":\"HS256\"}", "{\"a\":1,\"a\":1}", JOSE_E_PAYLOAD_DUP},
	};

	st = jose_decode(t, len, 8192, buf, buflen, &d);
	CHECK_ST(st, JOSE_OK, "decode: a valid token decodes");
	CHECK(st == JOSE_OK && d.header_len == strlen(HDR) && memcmp(d.header, HDR, d.header_len) == 0 &&
		  d.payload_len == strlen(CLAIMS) && memcmp(d.payload, CLAIMS, d.payload_len) == 0,
		  "decode: header and payload bytes come back");

	{
		/* jose_decode verifies nothing: a token signed by anyone decodes */
		char	   *t2 = sign_raw(jose_keyset_key(fx_other, 0), JOSE_ALG_HS256,
								  LIT("{\"alg\":\"none\",\"crit\":[\"x\"]}"), LIT("{\"exp\":1}"));

		st = jose_decode(t2, strlen(t2), 8192, buf, buflen, &d);
		CHECK_ST(st, JOSE_OK, "decode: an alg none, crit, expired token still decodes");
		t2 = kfmt("%s.%s.", kb64("{\"alg\":\"none\"}", 14), kb64("[1,2]", 5));
		st = jose_decode(t2, strlen(t2), 8192, buf, buflen, &d);
		CHECK(st == JOSE_OK && d.payload_len == 5 && memcmp(d.payload, "[1,2]", 5) == 0,
			  "decode: an unsecured token with an array payload decodes");
	}
	/* the payload peeked at before verifying: only rules 1 and 2, and JSON */
	{
		jose_json_object obj;
		const jose_json_value *v;
		char	   *t2 = sign_raw(jose_keyset_key(fx_other, 0), JOSE_ALG_HS256,
								  LIT("{\"alg\":\"none\",\"crit\":[\"x\"]}"),
								  LIT("{\"iss\":\"https:\\/\\/a.example\",\"exp\":1}"));

		st = jose_peek_payload(t2, strlen(t2), 8192, NULL, buf, buflen, &obj);
		CHECK_ST(st, JOSE_OK, "peek: the payload of a token no key verifies, its header ignored");
		v = st == JOSE_OK ? jose_json_get(&obj, "iss") : NULL;
		CHECK(v != NULL && jose_json_string_eq(v, "https://a.example", 17), "peek: iss read, decoded");
		jose_json_object_free(&obj);
		st = jose_peek_payload(t2, strlen(t2), strlen(t2) - 1, NULL, buf, buflen, &obj);
		CHECK_ST(st, JOSE_E_TOO_LARGE, "peek: over the size cap");
		jose_json_object_free(&obj);
		st = jose_peek_payload("a.b", 3, 8192, NULL, buf, buflen, &obj);
		CHECK_ST(st, JOSE_E_FORM, "peek: two segments");
		jose_json_object_free(&obj);
		t2 = kfmt("%s.%s=.", kb64("{}", 2), kb64("{}", 2));
		st = jose_peek_payload(t2, strlen(t2), 8192, NULL, buf, buflen, &obj);
		CHECK_ST(st, JOSE_E_BASE64, "peek: padding in the payload");
		jose_json_object_free(&obj);
		t2 = kfmt("x.%s.", kb64("{\"iss\":\"a\",\"iss\":\"b\"}", 21));
		st = jose_peek_payload(t2, strlen(t2), 8192, NULL, buf, buflen, &obj);
		CHECK_ST(st, JOSE_E_PAYLOAD_DUP, "peek: a repeated iss is refused, never one of them taken");
		jose_json_object_free(&obj);
		t2 = kfmt("x.%s.", kb64("[\"iss\"]", 7));
		st = jose_peek_payload(t2, strlen(t2), 8192, NULL, buf, buflen, &obj);
		CHECK_ST(st, JOSE_E_PAYLOAD_OBJECT, "peek: a payload that is not an object");
		jose_json_object_free(&obj);
		st = jose_peek_payload(t, len, 8192, NULL, buf, 4, &obj);
		CHECK_ST(st, JOSE_E_NOMEM, "peek: a buffer too short");
		jose_json_object_free(&obj);
	}

	st = jose_decode(t, len, len - 1, buf, buflen, &d);
	CHECK_ST(st, JOSE_E_TOO_LARGE, "decode: over the size cap");
	CHECK(d.header == NULL && d.payload == NULL, "decode: nothing returned on failure");
	CHECK_ST(jose_decode("abc", 3, 8192, buf, buflen, &d), JOSE_E_FORM, "decode: one segment");
	CHECK_ST(jose_decode("a.b.c.d", 7, 8192, buf, buflen, &d), JOSE_E_FORM, "decode: four segments");
	CHECK_ST(jose_decode("e30.e30.A", 9, 8192, buf, buflen, &d), JOSE_E_BASE64, "decode: bad base64 signature");
	CHECK_ST(jose_decode("e30=.e30.", 9, 8192, buf, buflen, &d), JOSE_E_BASE64, "decode: padded header");
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
	{
		char	   *t3 = tok(bad[i].hdr, bad[i].payload);

		st = jose_decode(t3, strlen(t3), 8192, buf, buflen, &d);
		CHECK_ST(st, bad[i].want, "decode: header %s, payload %s", bad[i].hdr, bad[i].payload);
		CHECK(d.header == NULL && d.payload == NULL, "decode: nothing returned with %s", t_status_name(st));
	}
	free(buf);
}

static void
test_sign_errors(void)
{
	size_t		outlen = 0;
	size_t		need = jose_sign_len(strlen(HDR), strlen(CLAIMS));
	char	   *out = keep(malloc(need));

	CHECK_ST(jose_sign(fx_key, JOSE_ALG_HS256, HDR, strlen(HDR), (const unsigned char *) CLAIMS,
					   strlen(CLAIMS), out, need - 1, &outlen),
			 JOSE_E_NOMEM, "sign: output buffer one byte short of jose_sign_len");
	CHECK_ST(jose_sign(fx_key, JOSE_ALG_HS256, HDR, strlen(HDR), (const unsigned char *) CLAIMS,
					   strlen(CLAIMS), out, need, &outlen),
			 JOSE_OK, "sign: output buffer of exactly jose_sign_len");
	CHECK_ST(jose_sign(fx_key, JOSE_ALG_RS256, LIT("{\"alg\":\"RS256\"}"), (const unsigned char *) "{}", 2,
					   out, need, &outlen),
			 JOSE_E_KEY_ALG, "sign: RS256 with an oct key");
	CHECK_ST(jose_sign(jose_keyset_key(fx_short, 0), JOSE_ALG_HS384, LIT("{\"alg\":\"HS384\"}"),
					   (const unsigned char *) "{}", 2, out, need, &outlen),
			 JOSE_E_KEY_SHORT, "sign: HS384 with a 40-byte secret");
	CHECK_ST(jose_sign(fx_key, JOSE_ALG_UNSET, LIT("{}"), (const unsigned char *) "{}", 2,
					   out, need, &outlen),
			 JOSE_E_ALG_INVALID, "sign: no algorithm");
}

static void test_stop_and_caps(void);

static void
test_verify(void)
{
	jose_status st;

	st = import_text(secret64, &fx_ks);
	SETUP(st == JOSE_OK, "verify: fixture key imports");
	st = import_text(secret64b, &fx_other);
	SETUP(st == JOSE_OK, "verify: second fixture key imports");
	st = import_text("0123456789012345678901234567890123456789", &fx_short);
	SETUP(st == JOSE_OK, "verify: 40-byte fixture key imports");
	st = import_text(kfmt("{\"keys\":[%s,%s,{\"kty\":\"RSA\",\"kid\":\"r\",\"n\":\"AQAB\",\"e\":\"AQAB\"}]}",
						  oct_jwk(secret64, 64, ",\"kid\":\"a\""),
						  oct_jwk(secret64b, 64, ",\"kid\":\"b\"")), &fx_jwks);
	SETUP(st == JOSE_OK, "verify: JWKS fixture imports");
	if (fx_ks != NULL && fx_other != NULL && fx_short != NULL && fx_jwks != NULL)
	{
		fx_key = jose_keyset_key(fx_ks, 0);
		test_verify_ok();
		test_verify_form();
		test_verify_header();
		test_verify_header_memo();
		test_verify_kid_signature();
		test_verify_large_sets();
		test_verify_payload();
		test_verify_claims();
		test_decode();
		test_sign_errors();
		test_stop_and_caps();
	}
	jose_keyset_free(fx_ks);
	jose_keyset_free(fx_other);
	jose_keyset_free(fx_short);
	jose_keyset_free(fx_jwks);
	arena_free_all();
}

/* ---------------------------------------------------------------------
 * Status codes
 * --------------------------------------------------------------------- */

/* ---------------------------------------------------------------------
 * The stop hook and the caps
 * --------------------------------------------------------------------- */

typedef struct stop_counter
{
	int			calls;
	int			stop_at;		/* say stop at this call, 0 for never */
} stop_counter;

static int
count_stop(void *arg)
{
	stop_counter *c = arg;

	c->calls++;
	return c->stop_at != 0 && c->calls >= c->stop_at;
}

/* {"keys":[{"kty":"oct","k":"...","kid":"<i or same>"}, ... n times] */
static char *
oct_set(int n, int same_kid, size_t *len)
{
	size_t		cap = 64 + (size_t) n * 80;
	char	   *s = malloc(cap);
	size_t		o = 0;

	o += (size_t) snprintf(s + o, cap - o, "{\"keys\":[");
	for (int i = 0; i < n; i++)
		o += (size_t) snprintf(s + o, cap - o,
							   "%s{\"kty\":\"oct\",\"k\":\"MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY\",\"kid\":\"%d\"}",
							   i ? "," : "", same_kid ? 7 : i);
	o += (size_t) snprintf(s + o, cap - o, "]}");
	*len = o;
	return s;
}

static void
test_stop_and_caps(void)
{
	stop_counter c = {0, 0};
	jose_stop stop = {count_stop, &c};
	jose_keyset *ks = NULL;
	jose_status st;
	size_t		len;
	char	   *text;

	/* a set at the key cap imports; stop is asked at least once per key */
	text = oct_set(JOSE_MAX_KEYS, 0, &len);
	st = jose_keyset_import_stop(text, len, JOSE_KEY_TEXT, &stop, &ks);
	CHECK_ST(st, JOSE_OK, "caps: a JWKS of JOSE_MAX_KEYS keys imports");
	CHECK(c.calls >= JOSE_MAX_KEYS, "caps: stop is asked once per key at least (%d calls)", c.calls);
	jose_keyset_free(ks);
	ks = NULL;

	/* stop said midway: interrupted, nothing returned (valgrind: nothing leaked) */
	c.calls = 0;
	c.stop_at = 500;
	st = jose_keyset_import_stop(text, len, JOSE_KEY_TEXT, &stop, &ks);
	CHECK_ST(st, JOSE_E_INTERRUPTED, "stop: a JWKS import stops when asked");
	CHECK(ks == NULL && c.calls == 500, "stop: no key set after an interrupted import");
	CHECK(jose_status_class_of(JOSE_E_INTERRUPTED) == JOSE_CLASS_INTERNAL,
		  "stop: JOSE_E_INTERRUPTED is no verdict on the token or the call");
	st = jose_keyset_import_stop(text, len, JOSE_KEY_TEXT, NULL, &ks);
	CHECK_ST(st, JOSE_OK, "stop: a NULL hook never stops");
	jose_keyset_free(ks);
	ks = NULL;
	free(text);

	/* one past the key cap */
	text = oct_set(JOSE_MAX_KEYS + 1, 0, &len);
	st = jose_keyset_import_stop(text, len, JOSE_KEY_TEXT, NULL, &ks);
	CHECK_ST(st, JOSE_E_KEYSET_TOO_MANY, "caps: a JWKS of JOSE_MAX_KEYS + 1 keys");
	CHECK(jose_status_class_of(st) == JOSE_CLASS_CALL, "caps: too many keys is a wrong call");
	free(text);

	/* duplicate kids at the cap, found by sorting */
	text = oct_set(JOSE_MAX_KEYS, 1, &len);
	st = jose_keyset_import_stop(text, len, JOSE_KEY_TEXT, NULL, &ks);
	CHECK_ST(st, JOSE_E_KEYSET_DUP_KID, "caps: JOSE_MAX_KEYS keys of one kid");
	free(text);
	text = oct_set(3, 0, &len);
	text[len - 5] = '0';		/* the last kid "2" becomes "0": first and last share it */
	st = jose_keyset_import_stop(text, len, JOSE_KEY_TEXT, NULL, &ks);
	CHECK_ST(st, JOSE_E_KEYSET_DUP_KID, "caps: the first and the last key share a kid");
	free(text);

	/* the size cap, for every form */
	text = malloc(JOSE_MAX_KEY_TEXT + 1);
	memset(text, 'k', JOSE_MAX_KEY_TEXT + 1);
	st = jose_keyset_import(text, JOSE_MAX_KEY_TEXT + 1, JOSE_KEY_TEXT, &ks);
	CHECK_ST(st, JOSE_E_KEY_TOO_LARGE, "caps: a key text of JOSE_MAX_KEY_TEXT + 1 bytes");
	st = jose_keyset_import(text, JOSE_MAX_KEY_TEXT + 1, JOSE_KEY_SECRET, &ks);
	CHECK_ST(st, JOSE_E_KEY_TOO_LARGE, "caps: a secret of JOSE_MAX_KEY_TEXT + 1 bytes");
	st = jose_keyset_import(text, JOSE_MAX_KEY_TEXT, JOSE_KEY_SECRET, &ks);
	CHECK_ST(st, JOSE_OK, "caps: a secret of JOSE_MAX_KEY_TEXT bytes");
	jose_keyset_free(ks);
	ks = NULL;
	free(text);

	/* JSON: values, and the bytes of one long string */
	{
		size_t		n = 5000 * 2 + 2;
		char	   *arr = malloc(n);
		jose_json_type type;

		arr[0] = '[';
		for (size_t i = 0; i < 5000; i++)
		{
			arr[1 + 2 * i] = '0';
			arr[2 + 2 * i] = i + 1 < 5000 ? ',' : ']';
		}
		c.calls = 0;
		c.stop_at = 1;
		CHECK_JSON(jose_json_validate_stop(arr, n - 1, &stop, &type), JOSE_JSON_INTERRUPTED,
				   "stop: JSON of 5000 values stops when asked");
		CHECK(c.calls == 1, "stop: asked after JOSE_STOP_EVERY values");
		c.calls = 0;
		c.stop_at = 0;
		CHECK_JSON(jose_json_validate_stop(arr, n - 1, &stop, &type), JOSE_JSON_OK,
				   "stop: JSON of 5000 values, never stopped");
		CHECK(c.calls == 5001 / JOSE_STOP_EVERY, "stop: asked every JOSE_STOP_EVERY values (%d calls)", c.calls);
		free(arr);

		n = 4 * JOSE_STOP_BYTES;
		arr = malloc(n);
		memset(arr, 'a', n);
		arr[0] = '"';
		arr[n - 1] = '"';
		c.calls = 0;
		c.stop_at = 1;
		CHECK_JSON(jose_json_validate_stop(arr, n, &stop, &type), JOSE_JSON_INTERRUPTED,
				   "stop: a string of 256 KiB stops when asked");
		CHECK_JSON(jose_json_validate_stop(arr, n, NULL, &type), JOSE_JSON_OK,
				   "stop: a string of 256 KiB, no hook");
		free(arr);
	}

	/* base64url of a long token, and the key loop of jose_verify */
	{
		size_t		plen = 3 * JOSE_STOP_BYTES;
		size_t		n = 4 + 1 + plen + 1 + 4;
		char	   *tok = malloc(n + 1);
		unsigned char *buf = malloc(JOSE_VERIFY_BUFLEN(n));
		jose_decoded d;
		jose_verify_opts o = default_opts();
		jose_verified res;

		memcpy(tok, "e30.", 4);	/* {} */
		memset(tok + 4, 'A', plen);
		memcpy(tok + 4 + plen, ".AAAA", 6);
		n = strlen(tok);
		c.calls = 0;
		c.stop_at = 1;
		st = jose_decode_stop(tok, n, n, &stop, buf, JOSE_VERIFY_BUFLEN(n), &d);
		CHECK_ST(st, JOSE_E_INTERRUPTED, "stop: base64url of 192 KiB stops when asked");
		st = jose_decode_stop(tok, n, n, NULL, buf, JOSE_VERIFY_BUFLEN(n), &d);
		CHECK_ST(st, JOSE_E_PAYLOAD_JSON, "stop: base64url in pieces decodes as a whole");
		free(tok);
		free(buf);

		tok = sign_raw(jose_keyset_key(fx_jwks, 0), JOSE_ALG_HS256, LIT("{\"alg\":\"HS256\"}"),
					   CLAIMS, strlen(CLAIMS));
		n = strlen(tok);
		buf = malloc(JOSE_VERIFY_BUFLEN(n));
		c.calls = 0;
		c.stop_at = 1;
		o.stop = &stop;
		st = jose_verify(tok, n, fx_jwks, &o, buf, JOSE_VERIFY_BUFLEN(n), &res);
		CHECK_ST(st, JOSE_E_INTERRUPTED, "stop: the key loop of jose_verify stops when asked");
		CHECK(res.payload == NULL, "stop: no payload from an interrupted verification");
		o.stop = NULL;
		st = jose_verify(tok, n, fx_jwks, &o, buf, JOSE_VERIFY_BUFLEN(n), &res);
		CHECK_ST(st, JOSE_OK, "stop: the same token verifies without the hook");
		free(buf);
	}
}

static void
test_status(void)
{
	static const jose_status token[] = {JOSE_E_TOO_LARGE, JOSE_E_SIGNATURE, JOSE_E_ISSUER};
	static const jose_status call[] = {JOSE_E_ALG_INVALID, JOSE_E_KEY_WEAK, JOSE_E_KEYSET_SIGN};
	int			all_described = 1;

	CHECK(jose_status_class_of(JOSE_OK) == JOSE_CLASS_OK, "status: JOSE_OK is class OK");
	for (size_t i = 0; i < 3; i++)
	{
		CHECK(jose_status_class_of(token[i]) == JOSE_CLASS_TOKEN, "status: %s is a token error",
			  t_status_name(token[i]));
		CHECK(jose_status_class_of(call[i]) == JOSE_CLASS_CALL, "status: %s is a call error",
			  t_status_name(call[i]));
	}
	CHECK(jose_status_class_of(JOSE_E_NOMEM) == JOSE_CLASS_INTERNAL &&
		  jose_status_class_of(JOSE_E_CRYPTO) == JOSE_CLASS_INTERNAL,
		  "status: NOMEM and CRYPTO are internal errors");
	for (int st = JOSE_E_TOO_LARGE; st < JOSE_E_TOKEN_LAST_; st++)
		if (strcmp(jose_status_detail((jose_status) st), "Unknown error.") == 0)
			all_described = 0;
	for (int st = JOSE_E_ALG_INVALID; st < JOSE_E_CALL_LAST_; st++)
		if (strcmp(jose_status_detail((jose_status) st), "Unknown error.") == 0)
			all_described = 0;
	CHECK(all_described, "status: every code has a detail sentence");
}

/* ---------------------------------------------------------------------
 * main
 * --------------------------------------------------------------------- */

int
main(void)
{
	int			core_passed,
				core_failed;
	bool		have_vectors;

	/* failure lines and the summary in the order they happen */
	setvbuf(stdout, NULL, _IOLBF, 0);

	test_b64();
	test_json();
	test_keys();
	test_hmac();
	test_verify();
	test_status();
	test_mutants();
	core_passed = n_passed;
	core_failed = n_failed;
	/* the published vectors: a suite of their own, core-vectors */
	have_vectors = test_vectors();
	arena_free_all();

	printf("core: %d passed, %d failed\n", core_passed, core_failed);
	if (have_vectors)
		printf("core-vectors: %d passed, %d failed\n",
			   n_passed - core_passed, n_failed - core_failed);
	return n_failed > 0 ? 1 : 0;
}
