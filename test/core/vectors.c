/*
 * vectors.c
 *		Conformance of the core against published vectors, read at run time
 *		from the shared vectors folder (never copied into the project):
 *
 *		- RFC 7520 section 4.4, HMAC-SHA2 integrity protection: byte-exact
 *		  signing and verification of a JWS whose payload is text;
 *		- RFC 7515 appendix A.1: the HS256 JWT, verified with a clock before
 *		  and after its "exp".
 *
 * The files are read with the core's own JSON functions.  The folder is
 * $JWT_VECTORS, or ../shared/vectors relative to the current directory (the
 * repository root when run through make).  These checks are a suite of their
 * own, core-vectors, with its own summary line; when the folder is absent
 * they are not run and test/run prints the suite's skip line, with the count
 * recorded in test/vector-counts.
 *
 * Copyright (c) 2026, the jwt for PostgreSQL developers.  PostgreSQL licence.
 */
#define _POSIX_C_SOURCE 200809L

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "core/jose.h"
#include "testutil.h"

#define COOKBOOK_4_4	"cookbook/jws/4_4.hmac-sha2_integrity_protection.json"
#define RFC7515_A		"rfc/rfc7515_appendix_A.json"

/* The whole file, malloc'd; NULL when it cannot be read. */
static char *
read_file(const char *dir, const char *name, size_t *len)
{
	size_t		plen = strlen(dir) + strlen(name) + 2;
	char	   *path = malloc(plen);
	FILE	   *f;
	char	   *buf = NULL;
	size_t		used = 0,
				cap = 0;

	*len = 0;
	if (path == NULL)
		return NULL;
	snprintf(path, plen, "%s/%s", dir, name);
	f = fopen(path, "rb");
	free(path);
	if (f == NULL)
		return NULL;
	for (;;)
	{
		size_t		n;

		if (used == cap)
		{
			size_t		ncap = cap ? cap * 2 : 16384;
			char	   *nbuf = realloc(buf, ncap);

			if (nbuf == NULL)
			{
				free(buf);
				fclose(f);
				return NULL;
			}
			buf = nbuf;
			cap = ncap;
		}
		n = fread(buf + used, 1, cap - used, f);
		used += n;
		if (n == 0)
			break;
	}
	if (ferror(f))
	{
		free(buf);
		buf = NULL;
		used = 0;
	}
	fclose(f);
	*len = used;
	return buf;
}

/*
 * Parse the object member "name" of parent into out.  out can always be
 * given to jose_json_object_free afterwards.
 */
static int
member_object(const jose_json_object *parent, const char *name, jose_json_object *out)
{
	const jose_json_value *v = jose_json_get(parent, name);

	if (v == NULL || v->type != JOSE_JSON_OBJECT)
	{
		memset(out, 0, sizeof(*out));
		return 0;
	}
	return jose_json_parse_object(v->p, v->len, out) == JOSE_JSON_OK;
}

/* The decoded bytes of the string member "name", malloc'd; NULL if absent. */
static char *
member_string(const jose_json_object *obj, const char *name, size_t *len)
{
	const jose_json_value *v = jose_json_get(obj, name);
	char	   *s;

	*len = 0;
	if (v == NULL || v->type != JOSE_JSON_STRING)
		return NULL;
	s = malloc(v->len + 1);
	if (s == NULL)
		return NULL;
	*len = jose_json_string_decode(v, s);
	s[*len] = '\0';
	return s;
}

/* Verify a token and copy the payload into a fresh buffer. */
static jose_status
verify_copy(const char *token, size_t len, const jose_keyset *ks,
			const jose_verify_opts *opts, jose_verified *res,
			unsigned char **payload, size_t *plen)
{
	size_t		buflen = JOSE_VERIFY_BUFLEN(len);
	unsigned char *buf = malloc(buflen);
	jose_status st;

	*payload = NULL;
	*plen = 0;
	if (buf == NULL)
		return JOSE_E_NOMEM;
	st = jose_verify(token, len, ks, opts, buf, buflen, res);
	if (st == JOSE_OK && (*payload = malloc(res->payload_len + 1)) != NULL)
	{
		memcpy(*payload, res->payload, res->payload_len);
		*plen = res->payload_len;
	}
	else if (st != JOSE_OK)
		CHECK(res->payload == NULL, "vectors: no payload returned with %s", t_status_name(st));
	res->payload = NULL;		/* it pointed into buf */
	free(buf);
	return st;
}

/* RFC 7520 section 4.4: HS256 over a text payload, byte-exact. */
static void
test_cookbook_4_4(const char *dir)
{
	size_t		flen,
				plen = 0,
				hb64len = 0,
				clen = 0,
				alen = 0,
				hlen = 0;
	char	   *file = read_file(dir, COOKBOOK_4_4, &flen);
	jose_json_object top,
				input,
				signing,
				output;
	const jose_json_value *keyv;
	char	   *payload = NULL,
			   *hdr_b64 = NULL,
			   *compact = NULL,
			   *algname = NULL;
	unsigned char *hdr = NULL;
	jose_keyset *ks = NULL;
	jose_alg	alg = JOSE_ALG_UNSET;
	int			ok;

	SETUP(file != NULL, "vectors: read %s/%s", dir, COOKBOOK_4_4);
	if (file == NULL)
		return;
	ok = jose_json_parse_object(file, flen, &top) == JOSE_JSON_OK;
	SETUP(ok, "vectors: RFC 7520 4.4 file parses as one JSON object");
	if (!ok)
	{
		free(file);
		return;
	}
	SETUP(member_object(&top, "input", &input), "vectors: RFC 7520 4.4 has an input object");
	SETUP(member_object(&top, "signing", &signing), "vectors: RFC 7520 4.4 has a signing object");
	SETUP(member_object(&top, "output", &output), "vectors: RFC 7520 4.4 has an output object");

	/* input.key is a JWK: import the object's own span */
	keyv = jose_json_get(&input, "key");
	SETUP(keyv != NULL && keyv->type == JOSE_JSON_OBJECT, "vectors: RFC 7520 4.4 input.key is an object");
	if (keyv != NULL && keyv->type == JOSE_JSON_OBJECT)
		CHECK_ST(jose_keyset_import(keyv->p, keyv->len, JOSE_KEY_TEXT, &ks), JOSE_OK,
				 "vectors: RFC 7520 4.4 key imports");

	payload = member_string(&input, "payload", &plen);
	algname = member_string(&input, "alg", &alen);
	hdr_b64 = member_string(&signing, "protected_b64u", &hb64len);
	compact = member_string(&output, "compact", &clen);
	SETUP(payload != NULL && algname != NULL && hdr_b64 != NULL && compact != NULL,
		  "vectors: RFC 7520 4.4 has payload, alg, protected_b64u and compact");
	if (algname != NULL)
		alg = jose_alg_from_name(algname, alen);
	SETUP(alg == JOSE_ALG_HS256, "vectors: RFC 7520 4.4 input.alg is HS256");
	if (hdr_b64 != NULL)
	{
		hdr = malloc(JOSE_B64_DECODED_MAX(hb64len));
		CHECK(hdr != NULL && jose_b64url_decode(hdr_b64, hb64len, hdr, &hlen),
			  "vectors: RFC 7520 4.4 protected_b64u is strict base64url");
	}

	if (ks != NULL && payload != NULL && hdr != NULL && compact != NULL && alg != JOSE_ALG_UNSET)
	{
		const jose_key *key = jose_keyset_key(ks, 0);
		size_t		cap = jose_sign_len(hlen, plen);
		char	   *out = malloc(cap);
		size_t		outlen = 0;
		jose_verify_opts opts;
		jose_verified res;
		unsigned char *got = NULL;
		size_t		gotlen = 0;
		jose_status st;

		/* sign: the exact header bytes and the UTF-8 payload */
		st = jose_sign(key, alg, (const char *) hdr, hlen, (const unsigned char *) payload, plen,
					   out, cap, &outlen);
		CHECK_ST(st, JOSE_OK, "vectors: RFC 7520 4.4 jose_sign");
		CHECK(st == JOSE_OK && outlen == clen && memcmp(out, compact, clen) == 0,
			  "vectors: RFC 7520 4.4 jose_sign output equals output.compact byte for byte");
		free(out);

		/* verify: a JWS, not a JWT, so no claim checks */
		memset(&opts, 0, sizeof(opts));
		opts.max_len = clen;
		opts.algorithms = JOSE_ALGBIT(alg);
		opts.jwt = 0;
		st = verify_copy(compact, clen, ks, &opts, &res, &got, &gotlen);
		CHECK_ST(st, JOSE_OK, "vectors: RFC 7520 4.4 jose_verify of output.compact");
		CHECK(st == JOSE_OK && gotlen == plen && memcmp(got, payload, plen) == 0,
			  "vectors: RFC 7520 4.4 verified payload equals input.payload");
		CHECK(st == JOSE_OK && res.alg == alg && res.key == key,
			  "vectors: RFC 7520 4.4 verified with the kid-matched key and HS256");
		free(got);

		/* the same token read as a JWT: its payload is no claims set */
		opts.jwt = 1;
		opts.claims.now = 1700000000.0;
		st = verify_copy(compact, clen, ks, &opts, &res, &got, &gotlen);
		CHECK_ST(st, JOSE_E_PAYLOAD_JSON, "vectors: RFC 7520 4.4 as a JWT: the text payload is not JSON");
		free(got);

		/* one payload character changed: the signature no longer holds */
		{
			char	   *bad = malloc(clen + 1);
			const char *dot = memchr(compact, '.', clen);

			memcpy(bad, compact, clen);
			bad[clen] = '\0';
			if (dot != NULL)
				bad[dot - compact + 2] = bad[dot - compact + 2] == 'A' ? 'B' : 'A';
			opts.jwt = 0;
			st = verify_copy(bad, clen, ks, &opts, &res, &got, &gotlen);
			CHECK_ST(st, JOSE_E_SIGNATURE, "vectors: RFC 7520 4.4 with one payload character changed");
			free(got);
			free(bad);
		}

		/* jose_decode shows JSON payloads only: this one is text */
		{
			unsigned char *buf = malloc(JOSE_VERIFY_BUFLEN(clen));
			jose_decoded d;

			st = jose_decode(compact, clen, clen, buf, JOSE_VERIFY_BUFLEN(clen), &d);
			CHECK(st == JOSE_E_PAYLOAD_JSON,
				  "vectors: RFC 7520 4.4 jose_decode refuses a payload that is not JSON (%s)",
				  t_status_name(st));
			free(buf);
		}
	}

	free(payload);
	free(algname);
	free(hdr_b64);
	free(compact);
	free(hdr);
	jose_keyset_free(ks);
	jose_json_object_free(&input);
	jose_json_object_free(&signing);
	jose_json_object_free(&output);
	jose_json_object_free(&top);
	free(file);
}

/* RFC 7515 A.1 within the cases[] of the shared file. */
static void
test_rfc7515_a1(const char *dir)
{
	size_t		flen;
	char	   *file = read_file(dir, RFC7515_A, &flen);
	jose_json_object top,
				kase;
	const jose_json_value *cases;
	jose_json_value elem;
	size_t		pos = 0;
	int			found = 0;

	SETUP(file != NULL, "vectors: read %s/%s", dir, RFC7515_A);
	if (file == NULL)
		return;
	if (jose_json_parse_object(file, flen, &top) != JOSE_JSON_OK)
	{
		SETUP(0, "vectors: RFC 7515 appendix A file parses as one JSON object");
		free(file);
		return;
	}
	cases = jose_json_get(&top, "cases");
	SETUP(cases != NULL && cases->type == JOSE_JSON_ARRAY, "vectors: RFC 7515 appendix A has cases[]");

	while (!found && cases != NULL && jose_json_array_next(cases, &pos, &elem))
	{
		const jose_json_value *id;

		if (elem.type != JOSE_JSON_OBJECT ||
			jose_json_parse_object(elem.p, elem.len, &kase) != JOSE_JSON_OK)
			continue;
		id = jose_json_get(&kase, "id");
		if (id != NULL && jose_json_string_eq(id, "RFC7515-A.1", 11))
			found = 1;
		else
			jose_json_object_free(&kase);
	}
	SETUP(found, "vectors: RFC 7515 appendix A has case RFC7515-A.1");

	if (found)
	{
		const jose_json_value *jwk = jose_json_get(&kase, "jwk");
		size_t		clen = 0,
					elen = 0,
					hlen = 0,
					plen = 0;
		char	   *compact = member_string(&kase, "compact", &clen);
		char	   *expected = member_string(&kase, "expected", &elen);
		char	   *hdr = member_string(&kase, "protected_header_utf8", &hlen);
		char	   *payload = member_string(&kase, "payload_utf8", &plen);
		jose_keyset *ks = NULL;

		SETUP(jwk != NULL && jwk->type == JOSE_JSON_OBJECT && compact != NULL,
			  "vectors: RFC7515-A.1 has a jwk object and a compact token");
		SETUP(expected != NULL && strcmp(expected, "valid") == 0,
			  "vectors: RFC7515-A.1 is expected valid");
		if (jwk != NULL && jwk->type == JOSE_JSON_OBJECT)
			CHECK_ST(jose_keyset_import(jwk->p, jwk->len, JOSE_KEY_TEXT, &ks), JOSE_OK,
					 "vectors: RFC7515-A.1 jwk imports");

		if (ks != NULL && compact != NULL)
		{
			jose_verify_opts opts;
			jose_verified res;
			jose_json_object claims;
			const jose_json_value *expv;
			unsigned char *got = NULL;
			size_t		gotlen = 0;
			double		exp = 0;
			int			have_exp = 0;
			jose_status st;

			/* as a JWS first, to read "exp" from the verified payload */
			memset(&opts, 0, sizeof(opts));
			opts.max_len = 8192;
			opts.jwt = 0;
			st = verify_copy(compact, clen, ks, &opts, &res, &got, &gotlen);
			CHECK_ST(st, JOSE_OK, "vectors: RFC7515-A.1 verifies as a JWS");
			CHECK(st == JOSE_OK && res.alg == JOSE_ALG_HS256, "vectors: RFC7515-A.1 is HS256");
			if (st == JOSE_OK && got != NULL &&
				jose_json_parse_object((const char *) got, gotlen, &claims) == JOSE_JSON_OK)
			{
				expv = jose_json_get(&claims, "exp");
				have_exp = expv != NULL && jose_json_number(expv, &exp);
				jose_json_object_free(&claims);
			}
			CHECK(have_exp, "vectors: RFC7515-A.1 payload has a numeric exp");
			CHECK(payload != NULL && gotlen == plen && memcmp(got, payload, plen) == 0,
				  "vectors: RFC7515-A.1 payload equals payload_utf8");
			free(got);

			if (have_exp)
			{
				opts.jwt = 1;
				opts.claims.now = exp - 1;
				st = verify_copy(compact, clen, ks, &opts, &res, &got, &gotlen);
				CHECK_ST(st, JOSE_OK, "vectors: RFC7515-A.1 as a JWT one second before exp");
				free(got);

				opts.algorithms = JOSE_ALGBIT(JOSE_ALG_HS256);
				st = verify_copy(compact, clen, ks, &opts, &res, &got, &gotlen);
				CHECK_ST(st, JOSE_OK, "vectors: RFC7515-A.1 with algorithms {HS256}");
				free(got);

				opts.algorithms = JOSE_ALGBIT(JOSE_ALG_HS512);
				st = verify_copy(compact, clen, ks, &opts, &res, &got, &gotlen);
				CHECK_ST(st, JOSE_E_ALG_NOT_ALLOWED, "vectors: RFC7515-A.1 with algorithms {HS512}");
				free(got);
				opts.algorithms = 0;

				opts.claims.now = exp;
				st = verify_copy(compact, clen, ks, &opts, &res, &got, &gotlen);
				CHECK_ST(st, JOSE_E_EXPIRED, "vectors: RFC7515-A.1 as a JWT at exp");
				free(got);

				opts.claims.now = exp + 3600;
				st = verify_copy(compact, clen, ks, &opts, &res, &got, &gotlen);
				CHECK_ST(st, JOSE_E_EXPIRED, "vectors: RFC7515-A.1 as a JWT an hour after exp");
				free(got);

				opts.claims.now = exp + 5;
				opts.claims.leeway = 10;
				st = verify_copy(compact, clen, ks, &opts, &res, &got, &gotlen);
				CHECK_ST(st, JOSE_OK, "vectors: RFC7515-A.1 five seconds after exp with leeway 10");
				free(got);
			}

			/* HMAC is deterministic: signing the same bytes gives the same token */
			if (hdr != NULL && payload != NULL)
			{
				size_t		cap = jose_sign_len(hlen, plen);
				char	   *out = malloc(cap);
				size_t		outlen = 0;

				st = jose_sign(jose_keyset_key(ks, 0), JOSE_ALG_HS256, hdr, hlen,
							   (const unsigned char *) payload, plen, out, cap, &outlen);
				CHECK(st == JOSE_OK && outlen == clen && memcmp(out, compact, clen) == 0,
					  "vectors: RFC7515-A.1 jose_sign of the exact header and payload bytes equals compact");
				free(out);
			}
		}
		jose_keyset_free(ks);
		free(compact);
		free(expected);
		free(hdr);
		free(payload);
		jose_json_object_free(&kase);
	}
	jose_json_object_free(&top);
	free(file);
}

bool
test_vectors(void)
{
	const char *dir = getenv("JWT_VECTORS");
	struct stat sb;

	if (dir == NULL || dir[0] == '\0')
		dir = "../shared/vectors";
	if (stat(dir, &sb) != 0 || !S_ISDIR(sb.st_mode))
	{
		printf("core-vectors: %s not found: not run\n", dir);
		return false;
	}
	test_cookbook_4_4(dir);
	test_rfc7515_a1(dir);
	return true;
}
