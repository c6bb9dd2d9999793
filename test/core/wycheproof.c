/*
 * wycheproof.c
 *		The Wycheproof primitive vectors (C2SP, testvectors_v1) against the
 *		JOSE core directly: raw message and signature pairs handed to
 *		jose_sig_verify, with the group's key imported by jose_keyset_import.
 *
 * The files are read at run time from $JWT_VECTORS/wycheproof/testvectors_v1
 * (JWT_VECTORS defaults to ../shared/vectors, relative to the repository
 * root where make runs this) and parsed with the core's own JSON parser;
 * nothing is copied into the project.  When the folder is absent it says
 * so, runs nothing and exits 0; test/run then prints the suite's skip line,
 * with the count recorded in test/vector-counts.
 *
 * What is run, and what a JWS verifier must do with it:
 *	- ecdsa_*_p1363_test.json: R||S signatures, the JWS form (ES256, ES384,
 *	  ES512, ES256K), with the group's JWK and, where both exist, its PEM;
 *	- ecdsa_secp*_test.json (DER): every signature is refused, even those
 *	  labelled valid, because a JWS never carries DER;
 *	- rsa_signature_*: PKCS#1 v1.5 (RS256, RS384, RS512);
 *	- rsa_pss_*: PS256, PS384, PS512 where the group uses MGF1 with the
 *	  message hash and a salt of the hash length (RFC 7518 section 3.5);
 *	  any other group is "not JWS parameters" and every vector is refused;
 *	- ed25519_test.json, ed448_test.json: EdDSA, and the fully-specified
 *	  Ed25519 and Ed448, which must give the same verdict;
 *	- hmac_sha*_test.json: groups with the full tag and a key at least the
 *	  hash length are HS256, HS384, HS512; a truncated tag is refused; a
 *	  shorter key is refused by the core (JOSE_E_KEY_SHORT).
 *
 * "valid" must be accepted and "invalid" refused; "acceptable" is counted
 * and reported, never a failure.  Every vector judged is one check; each
 * failure prints one line, each file one line of counts, and the run ends
 * with exactly one line "wycheproof: N passed, N failed".  The exit status
 * is 1 when any check failed.
 *
 * Copyright (c) 2026, the jwt for PostgreSQL developers.  PostgreSQL licence.
 */
#define _POSIX_C_SOURCE 200809L

#include <dirent.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "core/jose.h"

#if defined(__GNUC__) || defined(__clang__)
#define W_PRINTF(fmt, first) __attribute__((format(printf, fmt, first)))
#else
#define W_PRINTF(fmt, first)
#endif

#define SUBDIR "wycheproof/testvectors_v1"

/* ---------------------------------------------------------------------
 * The files
 * --------------------------------------------------------------------- */

typedef enum kind
{
	K_ECDSA_P1363 = 1,
	K_ECDSA_DER,
	K_RSA_PKCS1,
	K_RSA_PSS,
	K_EDDSA,
	K_HMAC
} kind;

typedef struct file_spec
{
	const char *name;
	kind		k;
	jose_alg	alg;			/* ES*, Ed25519/Ed448, HS*; UNSET: per group */
	int			required;		/* a missing file is a failure */
} file_spec;

static const file_spec known_files[] = {
	{"ecdsa_secp256r1_sha256_p1363_test.json", K_ECDSA_P1363, JOSE_ALG_ES256, 1},
	{"ecdsa_secp384r1_sha384_p1363_test.json", K_ECDSA_P1363, JOSE_ALG_ES384, 1},
	{"ecdsa_secp521r1_sha512_p1363_test.json", K_ECDSA_P1363, JOSE_ALG_ES512, 1},
	{"ecdsa_secp256k1_sha256_p1363_test.json", K_ECDSA_P1363, JOSE_ALG_ES256K, 1},
	{"ecdsa_secp256r1_sha256_test.json", K_ECDSA_DER, JOSE_ALG_ES256, 1},
	{"ecdsa_secp384r1_sha384_test.json", K_ECDSA_DER, JOSE_ALG_ES384, 1},
	{"ecdsa_secp521r1_sha512_test.json", K_ECDSA_DER, JOSE_ALG_ES512, 1},
	{"rsa_pss_2048_sha256_mgf1_32_test.json", K_RSA_PSS, JOSE_ALG_UNSET, 1},
	{"rsa_pss_2048_sha384_mgf1_48_test.json", K_RSA_PSS, JOSE_ALG_UNSET, 1},
	{"rsa_pss_3072_sha256_mgf1_32_test.json", K_RSA_PSS, JOSE_ALG_UNSET, 1},
	{"rsa_pss_4096_sha256_mgf1_32_test.json", K_RSA_PSS, JOSE_ALG_UNSET, 1},
	{"ed25519_test.json", K_EDDSA, JOSE_ALG_ED25519, 1},
	{"ed448_test.json", K_EDDSA, JOSE_ALG_ED448, 1},
	{"hmac_sha256_test.json", K_HMAC, JOSE_ALG_HS256, 1},
	{"hmac_sha384_test.json", K_HMAC, JOSE_ALG_HS384, 1},
	{"hmac_sha512_test.json", K_HMAC, JOSE_ALG_HS512, 1},
};

#define N_KNOWN (sizeof(known_files) / sizeof(known_files[0]))

/* ---------------------------------------------------------------------
 * Counters
 * --------------------------------------------------------------------- */

static long n_passed;
static long n_failed;

/*
 * What a group is, for the verdict its vectors need.  Every category but
 * CAT_JWS expects every vector refused, whatever its label.
 */
typedef enum category
{
	CAT_JWS = 1,				/* the labels apply */
	CAT_DER,					/* DER ECDSA: never a JWS signature */
	CAT_NOTJWS,					/* RSA parameters JWS does not use */
	CAT_TRUNC,					/* HMAC with a truncated tag */
	CAT_SHORT,					/* HMAC key shorter than the hash */
	CAT_KEYOUT					/* key outside JWS rules (RSA < 2048 bits) */
} category;

typedef struct stats
{
	long		tests;
	long		valid,
				valid_ok;
	long		invalid,
				invalid_ok;
	long		acc_yes,
				acc_no;
	long		der,
				der_ok,
				der_labelled_valid;
	long		notjws,
				notjws_ok;
	long		trunc,
				trunc_ok;
	long		shortk,
				shortk_ok;
	long		keyout;
	long		key_refused;	/* vectors of groups whose key did not import */
	long		pem_checked;	/* vectors also verified with the group's PEM */
	long		failed;
	jose_algset algs;			/* algorithms run */
} stats;

typedef enum label
{
	L_VALID = 1,
	L_INVALID,
	L_ACCEPTABLE
} label;

/* One test vector, for messages. */
typedef struct tinfo
{
	const char *file;
	long		tcid;
	char	   *comment;
	char	   *flags;
	char	   *result;
	label		lab;
} tinfo;

static const char *
status_name(jose_status st)
{
#define S(x) case x: return #x
	switch (st)
	{
			S(JOSE_OK);
			S(JOSE_E_TOO_LARGE);
			S(JOSE_E_BEARER);
			S(JOSE_E_FORM);
			S(JOSE_E_BASE64);
			S(JOSE_E_HEADER_JSON);
			S(JOSE_E_HEADER_DUP);
			S(JOSE_E_ALG_MISSING);
			S(JOSE_E_ALG_NONE);
			S(JOSE_E_ALG_UNKNOWN);
			S(JOSE_E_CRIT);
			S(JOSE_E_B64);
			S(JOSE_E_ZIP);
			S(JOSE_E_KID_TYPE);
			S(JOSE_E_ALG_NOT_ALLOWED);
			S(JOSE_E_ALG_KEY);
			S(JOSE_E_KID_UNKNOWN);
			S(JOSE_E_SIGNATURE);
			S(JOSE_E_SIG_RANGE);
			S(JOSE_E_PAYLOAD_JSON);
			S(JOSE_E_PAYLOAD_DUP);
			S(JOSE_E_PAYLOAD_OBJECT);
			S(JOSE_E_CLAIM_TYPE);
			S(JOSE_E_EXPIRED);
			S(JOSE_E_NOT_YET_VALID);
			S(JOSE_E_IAT_FUTURE);
			S(JOSE_E_AUDIENCE);
			S(JOSE_E_AUDIENCE_UNEXPECTED);
			S(JOSE_E_ISSUER);
			S(JOSE_E_ALG_INVALID);
			S(JOSE_E_ALG_FORBIDDEN);
			S(JOSE_E_ALG_UNSUPPORTED);
			S(JOSE_E_KEY_EMPTY);
			S(JOSE_E_KEY_FORMAT);
			S(JOSE_E_KEY_KTY);
			S(JOSE_E_KEY_SHORT);
			S(JOSE_E_KEY_ALG);
			S(JOSE_E_KEY_USE);
			S(JOSE_E_KEYSET_EMPTY);
			S(JOSE_E_KEYSET_DUP_KID);
			S(JOSE_E_KEYSET_SIGN);
			S(JOSE_E_KEY_WEAK);
			S(JOSE_E_KEY_ENCRYPTED);
			S(JOSE_E_KEY_CURVE);
			S(JOSE_E_KEY_INVALID);
			S(JOSE_E_KEY_NOT_PRIVATE);
			S(JOSE_E_KEY_SECRET_PUBLIC);
			S(JOSE_E_KEY_DEGENERATE);
			S(JOSE_E_KEY_NOT_SECRET);
			S(JOSE_E_KEY_PEM_INDENTED);
			S(JOSE_E_NOMEM);
			S(JOSE_E_CRYPTO);
		default:
			break;
	}
#undef S
	return "an unknown status";
}

static const char *
alg_name(jose_alg alg)
{
	const jose_alg_info *info = jose_alg_get(alg);

	return info != NULL ? info->name : "?";
}

/* A failure that belongs to no vector: the file or a group is malformed. */
static void
harness_fail(stats *st, const char *file, const char *fmt, ...) W_PRINTF(3, 4);

static void
harness_fail(stats *st, const char *file, const char *fmt, ...)
{
	va_list		ap;

	n_failed++;
	if (st != NULL)
		st->failed++;
	printf("FAIL %s: ", file);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
}

/* A vector judged wrong: one line naming file, tcId, comment and flags. */
static void
vector_fail(stats *st, const tinfo *t, const char *fmt, ...) W_PRINTF(3, 4);

static void
vector_fail(stats *st, const tinfo *t, const char *fmt, ...)
{
	va_list		ap;

	n_failed++;
	st->failed++;
	printf("FAIL %s tcId %ld (%s) \"%s\" flags [%s]: ", t->file, t->tcid,
		   t->result, t->comment, t->flags);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
}

/* ---------------------------------------------------------------------
 * Reading the files with the core's JSON parser
 * --------------------------------------------------------------------- */

/* The whole file, malloc'd; NULL when it cannot be read. */
static char *
read_whole(const char *path, size_t *len)
{
	FILE	   *f = fopen(path, "rb");
	char	   *buf = NULL;
	size_t		used = 0,
				cap = 0;

	*len = 0;
	if (f == NULL)
		return NULL;
	for (;;)
	{
		size_t		n;

		if (used == cap)
		{
			size_t		ncap = cap ? cap * 2 : 1 << 20;
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

/* A string member, decoded and NUL-terminated, malloc'd; NULL if absent. */
static char *
get_string(const jose_json_object *o, const char *name, size_t *len)
{
	const jose_json_value *v = jose_json_get(o, name);
	char	   *s;
	size_t		n;

	if (len != NULL)
		*len = 0;
	if (v == NULL || v->type != JOSE_JSON_STRING)
		return NULL;
	s = malloc(v->len + 1);
	if (s == NULL)
		return NULL;
	n = jose_json_string_decode(v, s);
	s[n] = '\0';
	if (len != NULL)
		*len = n;
	return s;
}

/* An integer member; 0 when absent or not a number. */
static int
get_long(const jose_json_object *o, const char *name, long *out)
{
	const jose_json_value *v = jose_json_get(o, name);
	double		d;

	if (v == NULL || !jose_json_number(v, &d))
		return 0;
	*out = (long) d;
	return 1;
}

static int
hexdigit(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/*
 * A HexBytes member, decoded into malloc'd memory (never NULL on success,
 * even for no bytes); NULL when absent or not hex.
 */
static unsigned char *
get_hex(const jose_json_object *o, const char *name, size_t *len)
{
	size_t		slen;
	char	   *s = get_string(o, name, &slen);
	unsigned char *out;

	*len = 0;
	if (s == NULL)
		return NULL;
	if (slen % 2 != 0 || (out = malloc(slen / 2 + 1)) == NULL)
	{
		free(s);
		return NULL;
	}
	for (size_t i = 0; i < slen; i += 2)
	{
		int			hi = hexdigit(s[i]),
					lo = hexdigit(s[i + 1]);

		if (hi < 0 || lo < 0)
		{
			free(s);
			free(out);
			return NULL;
		}
		out[i / 2] = (unsigned char) (hi << 4 | lo);
	}
	*len = slen / 2;
	free(s);
	return out;
}

/* The "flags" array joined with commas, malloc'd. */
static char *
get_flags(const jose_json_object *o)
{
	const jose_json_value *v = jose_json_get(o, "flags");
	jose_json_value elem;
	size_t		pos = 0;
	char	   *out;
	size_t		used = 0;

	if (v == NULL || v->type != JOSE_JSON_ARRAY)
		return NULL;
	/* the decoded strings and their separators fit in the array's span */
	out = malloc(v->len + 1);
	if (out == NULL)
		return NULL;
	out[0] = '\0';
	while (jose_json_array_next(v, &pos, &elem))
	{
		if (elem.type != JOSE_JSON_STRING)
			continue;
		if (used > 0)
			out[used++] = ',';
		used += jose_json_string_decode(&elem, out + used);
		out[used] = '\0';
	}
	return out;
}

/* ---------------------------------------------------------------------
 * Keys and verdicts
 * --------------------------------------------------------------------- */

/* The hash of a Wycheproof name, as the JWS algorithm of a family. */
static jose_alg
alg_for_sha(const char *sha, jose_family fam)
{
	static const jose_alg hs[3] = {JOSE_ALG_HS256, JOSE_ALG_HS384, JOSE_ALG_HS512};
	static const jose_alg rs[3] = {JOSE_ALG_RS256, JOSE_ALG_RS384, JOSE_ALG_RS512};
	static const jose_alg ps[3] = {JOSE_ALG_PS256, JOSE_ALG_PS384, JOSE_ALG_PS512};
	int			i;

	if (sha == NULL)
		return JOSE_ALG_UNSET;
	if (strcmp(sha, "SHA-256") == 0)
		i = 0;
	else if (strcmp(sha, "SHA-384") == 0)
		i = 1;
	else if (strcmp(sha, "SHA-512") == 0)
		i = 2;
	else
		return JOSE_ALG_UNSET;
	switch (fam)
	{
		case JOSE_FAM_HMAC:
			return hs[i];
		case JOSE_FAM_RSA:
			return rs[i];
		case JOSE_FAM_RSA_PSS:
			return ps[i];
		default:
			return JOSE_ALG_UNSET;
	}
}

/* The Wycheproof name of the hash of a JWS algorithm. */
static const char *
sha_of(jose_alg alg)
{
	const jose_alg_info *info = jose_alg_get(alg);

	if (info == NULL || info->digest == NULL)
		return NULL;
	switch (info->hash_len)
	{
		case 32:
			return "SHA-256";
		case 48:
			return "SHA-384";
		case 64:
			return "SHA-512";
	}
	return NULL;
}

/* Everything a group decides for its vectors. */
typedef struct group_ctx
{
	category	cat;
	jose_alg	algs[3];		/* algs[0] gives the verdict; all must agree */
	int			nalgs;
	jose_keyset *key;			/* primary: the JWK, else the PEM */
	const char *key_form;		/* "JWK" or "PEM" */
	jose_keyset *pem;			/* secondary: the PEM when a JWK exists */
	jose_status key_st;			/* import of the primary */
	jose_status pem_st;			/* import of the secondary */
	int			has_pem;		/* a PEM was given beside the JWK */
} group_ctx;

/* Import key text (a JWK span or a PEM); *out NULL on failure. */
static jose_status
import_text(const char *text, size_t len, jose_keyset **out)
{
	jose_status st = jose_keyset_import(text, len, JOSE_KEY_TEXT, out);

	if (st == JOSE_OK && jose_keyset_count(*out) != 1)
	{
		jose_keyset_free(*out);
		*out = NULL;
		return JOSE_E_KEY_FORMAT;
	}
	return st;
}

/*
 * Verify with every key of the group and every algorithm of the group.
 * Returns 1 when the first pair accepted; *any_accept, and *why (the first
 * disagreement or unexpected status, or "" when none) tell the rest.
 */
static int
verify_all(const group_ctx *g, const jose_keyset *hmac_key,
		   const unsigned char *msg, size_t msglen,
		   const unsigned char *sig, size_t siglen,
		   int *any_accept, char *why, size_t whycap, stats *st)
{
	const jose_keyset *keys[2];
	const char *forms[2];
	int			nkeys = 0;
	int			first = -1;
	jose_status first_st = JOSE_OK;

	why[0] = '\0';
	*any_accept = 0;
	if (hmac_key != NULL)
	{
		keys[nkeys] = hmac_key;
		forms[nkeys++] = "secret";
	}
	else
	{
		keys[nkeys] = g->key;
		forms[nkeys++] = g->key_form;
		if (g->pem != NULL)
		{
			keys[nkeys] = g->pem;
			forms[nkeys++] = "PEM";
			st->pem_checked++;
		}
	}

	for (int k = 0; k < nkeys; k++)
		for (int a = 0; a < g->nalgs; a++)
		{
			jose_status s = jose_sig_verify(jose_keyset_key(keys[k], 0), g->algs[a],
											msg, msglen, sig, siglen);
			int			ok = s == JOSE_OK;

			if (ok)
				*any_accept = 1;
			if (first < 0)
			{
				first = ok;
				first_st = s;
			}
			else if (ok != first && why[0] == '\0')
				snprintf(why, whycap, "%s with the %s key %s (%s), but %s with the %s key %s (%s)",
						 alg_name(g->algs[0]), forms[0], first ? "accepted" : "refused",
						 status_name(first_st), alg_name(g->algs[a]), forms[k],
						 ok ? "accepted" : "refused", status_name(s));
			/*
			 * A refusal is a signature verdict (an ECDSA r or s out of
			 * range is one too); anything else is the core failing.  A key whose JWK "alg" names another algorithm may
			 * refuse the ones a non-JWS group tries.
			 */
			if (!ok && s != JOSE_E_SIGNATURE && s != JOSE_E_SIG_RANGE && why[0] == '\0' &&
				!(g->cat == CAT_NOTJWS && s == JOSE_E_KEY_ALG))
				snprintf(why, whycap, "%s with the %s key refused with %s, not a signature verdict",
						 alg_name(g->algs[a]), forms[k], status_name(s));
		}
	return first == 1;
}

/* The verdict on one vector, counted. */
static void
judge(const group_ctx *g, const tinfo *t, const jose_keyset *hmac_key,
	  const unsigned char *msg, size_t msglen,
	  const unsigned char *sig, size_t siglen, stats *st)
{
	char		why[512];
	int			any;
	int			accepted;
	int			pass;

	st->tests++;

	if (g->cat == CAT_KEYOUT)
	{
		/* the key is refused, so is every signature made with it */
		st->keyout++;
		n_passed++;
		return;
	}

	if (g->key_st != JOSE_OK)
	{
		/* a key the core refused although JWS allows it */
		st->key_refused++;
		switch (t->lab)
		{
			case L_VALID:
				st->valid++;
				vector_fail(st, t, "the group's %s key was refused at import (%s)",
							g->key_form, status_name(g->key_st));
				return;
			case L_INVALID:
				st->invalid++;
				st->invalid_ok++;
				break;
			case L_ACCEPTABLE:
				st->acc_no++;
				break;
		}
		n_passed++;
		return;
	}
	if (g->has_pem && g->pem == NULL)
	{
		vector_fail(st, t, "the group's %s key imported but its PEM was refused (%s)",
					g->key_form, status_name(g->pem_st));
		return;
	}

	accepted = verify_all(g, hmac_key, msg, msglen, sig, siglen, &any, why,
						  sizeof(why), st);

	if (g->cat != CAT_JWS)
	{
		long	   *total,
				   *ok;

		switch (g->cat)
		{
			case CAT_DER:
				total = &st->der;
				ok = &st->der_ok;
				if (t->lab == L_VALID)
					st->der_labelled_valid++;
				break;
			case CAT_NOTJWS:
				total = &st->notjws;
				ok = &st->notjws_ok;
				break;
			default:
				total = &st->trunc;
				ok = &st->trunc_ok;
				break;
		}
		(*total)++;
		if (any)
			vector_fail(st, t, "accepted; %s must refuse it",
						g->cat == CAT_DER ? "a DER signature is never a JWS signature, so the core" :
						g->cat == CAT_NOTJWS ? "its parameters are not those of a JWS algorithm, so the core" :
						"a truncated MAC is not a JWS MAC, so the core");
		else if (why[0] != '\0')
			vector_fail(st, t, "%s", why);
		else
		{
			(*ok)++;
			n_passed++;
		}
		return;
	}

	switch (t->lab)
	{
		case L_VALID:
			st->valid++;
			pass = accepted;
			if (pass && why[0] == '\0')
				st->valid_ok++;
			break;
		case L_INVALID:
			st->invalid++;
			pass = !accepted;
			if (pass && why[0] == '\0')
				st->invalid_ok++;
			break;
		default:
			pass = 1;
			if (why[0] == '\0')
			{
				if (accepted)
					st->acc_yes++;
				else
					st->acc_no++;
				printf("acceptable: %s tcId %ld \"%s\" flags [%s]: %s by %s\n",
					   t->file, t->tcid, t->comment, t->flags,
					   accepted ? "accepted" : "refused", alg_name(g->algs[0]));
			}
			break;
	}
	if (!pass)
		vector_fail(st, t, "%s with the %s key %s it%s%s", alg_name(g->algs[0]),
					g->key_form, accepted ? "accepted" : "refused",
					why[0] ? "; also " : "", why);
	else if (why[0] != '\0')
		vector_fail(st, t, "%s", why);
	else
		n_passed++;
}

/* An HMAC vector: the key is the test's own. */
static void
judge_hmac(const group_ctx *g, const tinfo *t, const jose_json_object *tv,
		   const unsigned char *msg, size_t msglen,
		   const unsigned char *tag, size_t taglen, stats *st)
{
	size_t		keylen;
	unsigned char *key = get_hex(tv, "key", &keylen);
	jose_keyset *ks = NULL;
	jose_status s;

	if (key == NULL)
	{
		st->tests++;
		vector_fail(st, t, "no hex \"key\"");
		return;
	}
	s = jose_keyset_import((const char *) key, keylen, JOSE_KEY_SECRET, &ks);
	jose_cleanse(key, keylen);
	free(key);

	if (g->cat == CAT_SHORT)
	{
		jose_status chk = JOSE_E_KEY_SHORT,
					ver = JOSE_E_KEY_SHORT;

		st->tests++;
		st->shortk++;
		if (s == JOSE_OK)
		{
			chk = jose_key_check(jose_keyset_key(ks, 0), g->algs[0], JOSE_OP_VERIFY);
			ver = jose_sig_verify(jose_keyset_key(ks, 0), g->algs[0], msg, msglen,
								  tag, taglen);
		}
		else if (s != JOSE_E_KEY_SHORT)
			chk = ver = s;
		if (chk == JOSE_E_KEY_SHORT && ver == JOSE_E_KEY_SHORT)
		{
			st->shortk_ok++;
			n_passed++;
		}
		else
			vector_fail(st, t, "a %zu-byte key for %s: key check gave %s and verification %s, want JOSE_E_KEY_SHORT",
						keylen, alg_name(g->algs[0]), status_name(chk), status_name(ver));
		jose_keyset_free(ks);
		return;
	}

	if (s != JOSE_OK)
	{
		group_ctx	kg = *g;

		kg.key_st = s;
		kg.key_form = "secret";
		judge(&kg, t, NULL, msg, msglen, tag, taglen, st);
		return;
	}
	judge(g, t, ks, msg, msglen, tag, taglen, st);
	jose_keyset_free(ks);
}

/* ---------------------------------------------------------------------
 * Groups and files
 * --------------------------------------------------------------------- */

static int
str_is(const char *s, const char *want)
{
	return s != NULL && strcmp(s, want) == 0;
}

/*
 * Decide the group's category and algorithms, and import its keys.
 * Returns 0 when the group cannot be run (a harness failure, reported).
 */
static int
group_setup(const file_spec *fs, const jose_json_object *grp, group_ctx *g,
			stats *st)
{
	char	   *sha = get_string(grp, "sha", NULL);
	const jose_json_value *jwk;
	char	   *pem = NULL;
	size_t		pemlen = 0;
	int			ok = 1;

	memset(g, 0, sizeof(*g));
	g->cat = CAT_JWS;
	g->key_st = JOSE_OK;
	g->pem_st = JOSE_OK;

	switch (fs->k)
	{
		case K_ECDSA_P1363:
		case K_ECDSA_DER:
			if (!str_is(sha, sha_of(fs->alg)))
			{
				harness_fail(st, fs->name, "a group hashes with %s, not the %s of %s",
							 sha ? sha : "(none)", sha_of(fs->alg), alg_name(fs->alg));
				ok = 0;
			}
			g->cat = fs->k == K_ECDSA_DER ? CAT_DER : CAT_JWS;
			g->algs[g->nalgs++] = fs->alg;
			break;
		case K_RSA_PKCS1:
			g->algs[0] = alg_for_sha(sha, JOSE_FAM_RSA);
			if (g->algs[0] != JOSE_ALG_UNSET)
				g->nalgs = 1;
			else
			{
				g->cat = CAT_NOTJWS;
				g->algs[g->nalgs++] = JOSE_ALG_RS256;
				g->algs[g->nalgs++] = JOSE_ALG_RS384;
				g->algs[g->nalgs++] = JOSE_ALG_RS512;
			}
			break;
		case K_RSA_PSS:
			{
				char	   *mgf = get_string(grp, "mgf", NULL);
				char	   *mgfsha = get_string(grp, "mgfSha", NULL);
				jose_alg	a = alg_for_sha(sha, JOSE_FAM_RSA_PSS);
				long		slen = -1;

				(void) get_long(grp, "sLen", &slen);
				/* RFC 7518 section 3.5: MGF1 with the same hash, salt = hash */
				if (a != JOSE_ALG_UNSET && str_is(mgf, "MGF1") && str_is(mgfsha, sha) &&
					slen == (long) jose_alg_get(a)->hash_len)
					g->algs[g->nalgs++] = a;
				else
				{
					g->cat = CAT_NOTJWS;
					g->algs[g->nalgs++] = JOSE_ALG_PS256;
					g->algs[g->nalgs++] = JOSE_ALG_PS384;
					g->algs[g->nalgs++] = JOSE_ALG_PS512;
				}
				free(mgf);
				free(mgfsha);
			}
			break;
		case K_EDDSA:
			g->algs[g->nalgs++] = JOSE_ALG_EDDSA;
			g->algs[g->nalgs++] = fs->alg;
			break;
		case K_HMAC:
			{
				const jose_alg_info *info = jose_alg_get(fs->alg);
				long		key_bits = -1,
							tag_bits = -1;

				if (!get_long(grp, "keySize", &key_bits) || !get_long(grp, "tagSize", &tag_bits))
				{
					harness_fail(st, fs->name, "a group without keySize or tagSize");
					ok = 0;
				}
				g->algs[g->nalgs++] = fs->alg;
				if (key_bits < (long) info->hash_len * 8)
					g->cat = CAT_SHORT;
				else if (tag_bits != (long) info->hash_len * 8)
					g->cat = CAT_TRUNC;
			}
			break;
	}
	free(sha);
	for (int a = 0; a < g->nalgs; a++)
		st->algs |= JOSE_ALGBIT(g->algs[a]);
	if (!ok || fs->k == K_HMAC)
		return ok;

	/* the key: the JWK where there is one, its PEM beside it */
	jwk = jose_json_get(grp, "publicKeyJwk");
	if (jwk == NULL)
		jwk = jose_json_get(grp, "keyJwk");
	if (jwk != NULL && jwk->type != JOSE_JSON_OBJECT)
		jwk = NULL;
	pem = get_string(grp, "publicKeyPem", &pemlen);

	if (jwk != NULL)
	{
		g->key_form = "JWK";
		g->key_st = import_text(jwk->p, jwk->len, &g->key);
		if (pem != NULL)
		{
			g->has_pem = 1;
			g->pem_st = import_text(pem, pemlen, &g->pem);
		}
	}
	else if (pem != NULL)
	{
		g->key_form = "PEM";
		g->key_st = import_text(pem, pemlen, &g->key);
	}
	else
	{
		harness_fail(st, fs->name, "a group with neither a JWK nor a PEM key");
		ok = 0;
	}
	free(pem);

	/* RFC 7518 section 3.3: an RSA key under 2048 bits is not for JWS */
	if (ok && g->key_st == JOSE_E_KEY_WEAK)
		g->cat = CAT_KEYOUT;
	return ok;
}

static void
group_free(group_ctx *g)
{
	jose_keyset_free(g->key);
	jose_keyset_free(g->pem);
	g->key = g->pem = NULL;
}

static void
run_test(const file_spec *fs, const group_ctx *g, const jose_json_value *tvv,
		 stats *st)
{
	jose_json_object tv;
	tinfo		t;
	unsigned char *msg = NULL,
			   *sig = NULL;
	size_t		msglen = 0,
				siglen = 0;

	memset(&t, 0, sizeof(t));
	t.file = fs->name;
	t.tcid = -1;
	if (tvv->type != JOSE_JSON_OBJECT ||
		jose_json_parse_object(tvv->p, tvv->len, &tv) != JOSE_JSON_OK)
	{
		harness_fail(st, fs->name, "a test that is not a JSON object");
		return;
	}
	(void) get_long(&tv, "tcId", &t.tcid);
	t.comment = get_string(&tv, "comment", NULL);
	t.flags = get_flags(&tv);
	t.result = get_string(&tv, "result", NULL);
	if (t.comment == NULL)
		t.comment = strdup("");
	if (t.flags == NULL)
		t.flags = strdup("");
	if (str_is(t.result, "valid"))
		t.lab = L_VALID;
	else if (str_is(t.result, "invalid"))
		t.lab = L_INVALID;
	else if (str_is(t.result, "acceptable"))
		t.lab = L_ACCEPTABLE;

	msg = get_hex(&tv, "msg", &msglen);
	sig = get_hex(&tv, fs->k == K_HMAC ? "tag" : "sig", &siglen);

	if (t.comment == NULL || t.flags == NULL || t.result == NULL || t.lab == 0 ||
		msg == NULL || sig == NULL)
	{
		st->tests++;
		if (t.comment != NULL && t.flags != NULL && t.result != NULL)
			vector_fail(st, &t, "malformed vector (result, msg or %s)",
						fs->k == K_HMAC ? "tag" : "sig");
		else
			harness_fail(st, fs->name, "tcId %ld: malformed vector", t.tcid);
	}
	else if (fs->k == K_HMAC)
		judge_hmac(g, &t, &tv, msg, msglen, sig, siglen, st);
	else
		judge(g, &t, NULL, msg, msglen, sig, siglen, st);

	free(msg);
	free(sig);
	free(t.comment);
	free(t.flags);
	free(t.result);
	jose_json_object_free(&tv);
}

static void
print_stats(const file_spec *fs, const stats *st)
{
	char		algs[128];

	printf("%s [%s]: %ld tests: valid accepted %ld/%ld, invalid refused %ld/%ld, "
		   "acceptable %ld (accepted %ld, refused %ld)",
		   fs->name, jose_algset_format(st->algs, algs, sizeof(algs)), st->tests,
		   st->valid_ok, st->valid, st->invalid_ok, st->invalid,
		   st->acc_yes + st->acc_no, st->acc_yes, st->acc_no);
	if (st->der)
		printf(", DER signatures refused %ld/%ld (%ld of them labelled valid)",
			   st->der_ok, st->der, st->der_labelled_valid);
	if (st->notjws)
		printf(", not JWS parameters, refused %ld/%ld", st->notjws_ok, st->notjws);
	if (st->trunc)
		printf(", truncated tags refused %ld/%ld", st->trunc_ok, st->trunc);
	if (st->shortk)
		printf(", short keys refused %ld/%ld", st->shortk_ok, st->shortk);
	if (st->keyout)
		printf(", keys outside JWS rules (RSA < 2048 bits), vectors refused %ld", st->keyout);
	if (st->key_refused)
		printf(", vectors of groups whose key was refused %ld", st->key_refused);
	if (st->pem_checked)
		printf(", PEM cross-checked %ld", st->pem_checked);
	printf(", failures %ld\n", st->failed);
}

static void
run_file(const char *dir, const file_spec *fs)
{
	size_t		plen = strlen(dir) + strlen(fs->name) + 2;
	char	   *path = malloc(plen);
	char	   *text;
	size_t		len;
	jose_json_object top;
	jose_json_error jerr;
	const jose_json_value *groups;
	jose_json_value gv;
	size_t		pos = 0;
	long		declared = -1;
	stats		st;

	memset(&st, 0, sizeof(st));
	if (path == NULL)
	{
		harness_fail(NULL, fs->name, "out of memory");
		return;
	}
	snprintf(path, plen, "%s/%s", dir, fs->name);
	text = read_whole(path, &len);
	free(path);
	if (text == NULL)
	{
		harness_fail(NULL, fs->name, "cannot be read");
		return;
	}
	if ((jerr = jose_json_parse_object(text, len, &top)) != JOSE_JSON_OK)
	{
		harness_fail(NULL, fs->name, "not a JSON object: %s", jose_json_error_text(jerr));
		free(text);
		return;
	}
	(void) get_long(&top, "numberOfTests", &declared);
	groups = jose_json_get(&top, "testGroups");
	if (groups == NULL || groups->type != JOSE_JSON_ARRAY)
		harness_fail(&st, fs->name, "no \"testGroups\" array");
	else
		while (jose_json_array_next(groups, &pos, &gv))
		{
			jose_json_object grp;
			const jose_json_value *tests;
			jose_json_value tvv;
			size_t		tpos = 0;
			group_ctx	g;

			if (gv.type != JOSE_JSON_OBJECT ||
				jose_json_parse_object(gv.p, gv.len, &grp) != JOSE_JSON_OK)
			{
				harness_fail(&st, fs->name, "a test group that is not a JSON object");
				continue;
			}
			tests = jose_json_get(&grp, "tests");
			if (tests == NULL || tests->type != JOSE_JSON_ARRAY)
				harness_fail(&st, fs->name, "a test group without a \"tests\" array");
			else if (group_setup(fs, &grp, &g, &st))
			{
				while (jose_json_array_next(tests, &tpos, &tvv))
					run_test(fs, &g, &tvv, &st);
				group_free(&g);
			}
			else
				group_free(&g);
			jose_json_object_free(&grp);
		}
	if (declared >= 0 && declared != st.tests)
		harness_fail(&st, fs->name, "numberOfTests says %ld, %ld tests were run",
					 declared, st.tests);
	print_stats(fs, &st);
	jose_json_object_free(&top);
	free(text);
}

/* ---------------------------------------------------------------------
 * The folder
 * --------------------------------------------------------------------- */

static int
ends_with(const char *s, const char *suffix)
{
	size_t		n = strlen(s),
				m = strlen(suffix);

	return n >= m && strcmp(s + n - m, suffix) == 0;
}

static int
cmp_names(const void *a, const void *b)
{
	return strcmp(*(char *const *) a, *(char *const *) b);
}

int
main(void)
{
	const char *base = getenv("JWT_VECTORS");
	char	   *dir;
	size_t		dlen;
	struct stat sb;
	DIR		   *d;
	struct dirent *de;
	char	  **names = NULL;
	size_t		nnames = 0,
				capnames = 0;
	int			seen[N_KNOWN];
	int			n_pkcs1 = 0;

	if (base == NULL || base[0] == '\0')
		base = "../shared/vectors";
	dlen = strlen(base) + strlen(SUBDIR) + 2;
	dir = malloc(dlen);
	if (dir == NULL)
		return 2;
	snprintf(dir, dlen, "%s/%s", base, SUBDIR);
	if (stat(dir, &sb) != 0 || !S_ISDIR(sb.st_mode) || (d = opendir(dir)) == NULL)
	{
		printf("wycheproof: %s not found: not run\n", dir);
		free(dir);
		return 0;
	}
	while ((de = readdir(d)) != NULL)
	{
		if (!ends_with(de->d_name, ".json"))
			continue;
		if (nnames == capnames)
		{
			size_t		ncap = capnames ? capnames * 2 : 64;
			char	  **n = realloc(names, ncap * sizeof(char *));

			if (n == NULL)
				break;
			names = n;
			capnames = ncap;
		}
		if ((names[nnames] = strdup(de->d_name)) != NULL)
			nnames++;
	}
	closedir(d);
	if (nnames > 0)
		qsort(names, nnames, sizeof(char *), cmp_names);

	memset(seen, 0, sizeof(seen));
	for (size_t i = 0; i < nnames; i++)
		if (strncmp(names[i], "rsa_signature_", 14) == 0)
			n_pkcs1++;
	if (n_pkcs1 == 0)
		printf("wycheproof: no RSA PKCS#1 v1.5 files (rsa_signature_*) in %s: RS256, RS384, RS512 not run\n",
			   dir);

	for (size_t i = 0; i < nnames; i++)
	{
		file_spec	fs = {names[i], 0, JOSE_ALG_UNSET, 0};

		for (size_t k = 0; k < N_KNOWN; k++)
			if (strcmp(known_files[k].name, names[i]) == 0)
			{
				fs = known_files[k];
				seen[k] = 1;
			}
		if (fs.k == 0 && strncmp(names[i], "rsa_pss_", 8) == 0 && ends_with(names[i], "_test.json"))
			fs.k = K_RSA_PSS;
		if (fs.k == 0 && strncmp(names[i], "rsa_signature_", 14) == 0 && ends_with(names[i], "_test.json"))
			fs.k = K_RSA_PKCS1;
		if (fs.k == 0)
		{
			printf("%s: not run here (not a primitive file this program knows)\n", names[i]);
			continue;
		}
		run_file(dir, &fs);
	}
	for (size_t k = 0; k < N_KNOWN; k++)
		if (!seen[k] && known_files[k].required)
			harness_fail(NULL, known_files[k].name, "not found in %s", dir);

	for (size_t i = 0; i < nnames; i++)
		free(names[i]);
	free(names);
	free(dir);

	printf("wycheproof: %ld passed, %ld failed\n", n_passed, n_failed);
	return n_failed > 0 ? 1 : 0;
}
