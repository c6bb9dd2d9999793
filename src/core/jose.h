/*
 * jose.h
 *		The JOSE engine: base64url, strict JSON, the algorithm table, keys,
 *		compact JWS sign and verify, and the JWT claim checks.
 *
 * Nothing here includes a PostgreSQL header.  Every function reports failure
 * through a jose_status code and never longjmps; the caller maps codes to
 * its own error reporting (src/errors.c for the extension).  The engine owns
 * no global state: keys and key sets are objects the caller creates and
 * frees, and every buffer it writes into is the caller's.
 *
 * Copyright (c) 2026, the jwt for PostgreSQL developers.  PostgreSQL licence.
 */
#ifndef JOSE_H
#define JOSE_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

/*
 * Status codes.  The ranges matter: jose_status_class() sorts a code into
 * "the token is bad", "the call is wrong" and "the library failed".
 */
typedef enum jose_status
{
	JOSE_OK = 0,

	/* The token is bad (SQLSTATE 28000).  Listed in the order of the checks. */
	JOSE_E_TOO_LARGE = 100,		/* over the size cap */
	JOSE_E_BEARER,				/* starts with the HTTP scheme "Bearer " */
	JOSE_E_FORM,				/* not exactly three dot-separated segments */
	JOSE_E_BASE64,				/* a segment is not strict base64url */
	JOSE_E_HEADER_JSON,			/* header is not a valid JSON object */
	JOSE_E_HEADER_DUP,			/* header repeats a member name */
	JOSE_E_ALG_MISSING,			/* no "alg", or not a string */
	JOSE_E_ALG_NONE,			/* "none" in any spelling */
	JOSE_E_ALG_UNKNOWN,			/* not a registered JWS algorithm */
	JOSE_E_CRIT,				/* "crit" present */
	JOSE_E_B64,					/* "b64" present (RFC 7797) */
	JOSE_E_ZIP,					/* "zip" present */
	JOSE_E_KID_TYPE,			/* "kid" present but not a string */
	JOSE_E_ALG_NOT_ALLOWED,		/* alg outside the caller's algorithms */
	JOSE_E_ALG_KEY,				/* no key given can verify this alg */
	JOSE_E_KID_UNKNOWN,			/* kid matches no key */
	JOSE_E_KID_REQUIRED,		/* no kid, more candidate keys than the bound */
	JOSE_E_KEY_NOT_VALID,		/* the kid's key is outside its validity */
	JOSE_E_SIGNATURE,			/* signature does not verify */
	JOSE_E_SIG_RANGE,			/* ECDSA r or s is 0 or not below the order */
	JOSE_E_PAYLOAD_JSON,		/* payload is not valid JSON */
	JOSE_E_PAYLOAD_DUP,			/* payload repeats a member name */
	JOSE_E_PAYLOAD_OBJECT,		/* payload is JSON but not an object */
	JOSE_E_CLAIM_TYPE,			/* exp/nbf/iat not a number, aud/iss mistyped */
	JOSE_E_EXPIRED,				/* exp <= now - leeway */
	JOSE_E_NOT_YET_VALID,		/* nbf > now + leeway */
	JOSE_E_IAT_FUTURE,			/* iat > now + leeway */
	JOSE_E_AUDIENCE,			/* audience required and not matched */
	JOSE_E_AUDIENCE_UNEXPECTED, /* "aud" present, no audience expected */
	JOSE_E_ISSUER,				/* issuer required and not equal */
	JOSE_E_CLAIM_MISSING,		/* a required claim is absent */
	JOSE_E_TOO_OLD,				/* iat older than the maximum age */
	JOSE_E_REVOKED,				/* the token's jti is revoked (set by callers) */
	JOSE_E_TOKEN_LAST_,

	/* The call is wrong (SQLSTATE 22023). */
	JOSE_E_ALG_INVALID = 200,	/* caller named an unknown algorithm */
	JOSE_E_ALG_FORBIDDEN,		/* caller named "none" */
	JOSE_E_ALG_UNSUPPORTED,		/* registered, not implemented by this build */
	JOSE_E_KEY_EMPTY,			/* empty key */
	JOSE_E_KEY_FORMAT,			/* malformed key text, JWK or JWKS */
	JOSE_E_KEY_KTY,				/* JWK kty missing, unknown or unsupported */
	JOSE_E_KEY_SHORT,			/* HMAC key shorter than the hash */
	JOSE_E_KEY_ALG,				/* key cannot do the algorithm asked for */
	JOSE_E_KEY_USE,				/* JWK use/key_ops forbid the operation */
	JOSE_E_KEYSET_EMPTY,		/* JWKS with no keys */
	JOSE_E_KEYSET_DUP_KID,		/* JWKS with a kid twice */
	JOSE_E_KEYSET_SIGN,			/* signing with a JWKS */
	JOSE_E_KEYSET_MIXED,		/* JWKS with shared secrets and public keys */
	JOSE_E_KEY_WEAK,			/* RSA modulus under 2048 bits */
	JOSE_E_KEY_ROCA,			/* RSA modulus with the ROCA fingerprint */
	JOSE_E_KEY_ENCRYPTED,		/* encrypted PEM */
	JOSE_E_KEY_SSH,				/* an SSH public key, never a secret */
	JOSE_E_KEY_CURVE,			/* unsupported curve, or a point not on it */
	JOSE_E_KEY_INVALID,			/* key material inconsistent or out of range */
	JOSE_E_KEY_NOT_PRIVATE,		/* signing needs a private key */
	JOSE_E_KEY_SECRET_PUBLIC,	/* a shared secret has no public form */
	JOSE_E_KEY_TOO_LARGE,		/* key text over JOSE_MAX_KEY_TEXT bytes */
	JOSE_E_KEYSET_TOO_MANY,		/* JWKS with more than JOSE_MAX_KEYS keys */
	JOSE_E_KEY_DEGENERATE,		/* EdDSA point of small order or non-canonical */
	JOSE_E_KEY_NOT_SECRET,		/* bytes given as a secret are a key's text */
	JOSE_E_KEY_PEM_INDENTED,	/* a PEM block whose lines are indented */
	JOSE_E_CALL_LAST_,

	/* The library failed (SQLSTATE 39000). */
	JOSE_E_NOMEM = 300,
	JOSE_E_CRYPTO,
	JOSE_E_INTERRUPTED			/* the caller's stop hook said stop */
} jose_status;

typedef enum jose_status_class
{
	JOSE_CLASS_OK,
	JOSE_CLASS_TOKEN,
	JOSE_CLASS_CALL,
	JOSE_CLASS_INTERNAL
} jose_status_class;

extern jose_status_class jose_status_class_of(jose_status st);

/* A sentence naming the rule that failed, for an error's detail. */
extern const char *jose_status_detail(jose_status st);

/* ---------------------------------------------------------------------
 * Interruption and caps.
 *
 * Work on input of a caller's choosing can be long; the core never longjmps,
 * so it asks instead.  A caller that can be interrupted passes a jose_stop:
 * every loop over keys, JSON values or bytes calls should_stop(arg) at least
 * once every JOSE_STOP_EVERY iterations (and once per key imported or tried),
 * and on a non-zero answer frees what it holds and returns
 * JOSE_E_INTERRUPTED.  The hook must only test a flag: it may not longjmp,
 * allocate or call back into the core.  A NULL jose_stop, or a NULL
 * should_stop, never stops.
 * --------------------------------------------------------------------- */
typedef struct jose_stop
{
	int			(*should_stop) (void *arg);
	void	   *arg;
} jose_stop;

#define JOSE_STOP_EVERY 1024	/* values, keys, members */
#define JOSE_STOP_BYTES 65536	/* bytes, in byte-wise loops (a multiple of 4) */

/* Whether the caller asked to stop (cheap: a NULL test, then a call). */
static inline int
jose_should_stop(const jose_stop *stop)
{
	return stop != NULL && stop->should_stop != NULL && stop->should_stop(stop->arg);
}

/*
 * Caps on key texts, so that no argument asks for unbounded work.  Real key
 * sets hold a handful of keys (identity providers publish 2 to 20, for
 * rotation); 1,000 leaves room for any deployment and bounds a set's import
 * (each key is parsed, range-checked and trial-divided) and a token without
 * "kid", which is tried against every key that can do its algorithm.  1 MiB
 * holds 1,000 RSA-4096 JWKs, or a PEM chain of any sensible length.
 */
#define JOSE_MAX_KEYS		1000
#define JOSE_MAX_KEY_TEXT	1048576	/* 1 MiB */
/* The longest token the glue reads at all (jwt.max_token_length's maximum). */
#define JOSE_MAX_TOKEN_LEN	1048576	/* 1 MiB */

/* ---------------------------------------------------------------------
 * base64url (RFC 4648 section 5), strict: no padding, no whitespace, no
 * characters outside the alphabet, length mod 4 never 1, unused trailing
 * bits zero.
 * --------------------------------------------------------------------- */
#define JOSE_B64_ENCODED_LEN(n)	(((n) / 3) * 4 + (((n) % 3) ? ((n) % 3) + 1 : 0))
#define JOSE_B64_DECODED_MAX(n)	(((n) / 4) * 3 + 2)

extern size_t jose_b64url_encode(const unsigned char *in, size_t len, char *out);
extern int	jose_b64url_decode(const char *in, size_t len, unsigned char *out,
							   size_t *outlen);

/* ---------------------------------------------------------------------
 * Strict JSON (RFC 8259): valid UTF-8, no lone surrogates, no \u0000, no
 * duplicate member names at any depth, bounded nesting, and numbers that a
 * PostgreSQL numeric can hold.  A parse records the members of the top-level
 * object as spans into the text; nested values are validated and can be
 * walked again from their spans.
 * --------------------------------------------------------------------- */
typedef enum jose_json_type
{
	JOSE_JSON_STRING = 1,
	JOSE_JSON_NUMBER,
	JOSE_JSON_OBJECT,
	JOSE_JSON_ARRAY,
	JOSE_JSON_TRUE,
	JOSE_JSON_FALSE,
	JOSE_JSON_NULL
} jose_json_type;

typedef enum jose_json_error
{
	JOSE_JSON_OK = 0,
	JOSE_JSON_SYNTAX,
	JOSE_JSON_UTF8,
	JOSE_JSON_ESCAPE,			/* bad escape, lone surrogate, or \u0000 */
	JOSE_JSON_DEPTH,
	JOSE_JSON_NUMBER_RANGE,
	JOSE_JSON_DUPLICATE,
	JOSE_JSON_NOT_OBJECT,
	JOSE_JSON_NOMEM,
	JOSE_JSON_INTERRUPTED		/* the caller's jose_stop said stop */
} jose_json_error;

#define JOSE_JSON_MAX_DEPTH 64

/* A value: for strings the span is between the quotes, still escaped. */
typedef struct jose_json_value
{
	jose_json_type type;
	int			escaped;		/* string contains a backslash */
	const char *p;
	size_t		len;
} jose_json_value;

typedef struct jose_json_member
{
	jose_json_value name;
	jose_json_value value;
} jose_json_member;

typedef struct jose_json_object
{
	jose_json_member *members;	/* top-level members in text order */
	size_t		n;
	size_t		cap;
	jose_json_member inline_members[12];
} jose_json_object;

/*
 * Every value of a document, in the order of the text, for a caller that
 * builds its own representation (jsonb) from one parse: a container's node
 * is followed by its contents, an object's as name, value, name, value.
 * Nodes point into the text.  A tape starts with jose_json_tape_init and
 * is freed with jose_json_tape_free, whatever the parse returned; it must
 * not be copied, as it may point into itself.
 */
typedef struct jose_json_node
{
	jose_json_value v;			/* containers: the span of the whole value */
	size_t		count;			/* containers: elements, or members */
	size_t		end;			/* the index of the node after the value's own */
} jose_json_node;

#define JOSE_JSON_TAPE_INLINE 32

typedef struct jose_json_tape
{
	jose_json_node *nodes;
	size_t		n;
	size_t		cap;
	jose_json_node inline_nodes[JOSE_JSON_TAPE_INLINE];
} jose_json_tape;

extern void jose_json_tape_init(jose_json_tape *tape);
extern void jose_json_tape_free(jose_json_tape *tape);

/*
 * Validate any JSON text as jose_json_validate_stop does, and record its
 * values on the tape; nesting to max_depth (JOSE_JSON_MAX_DEPTH for text
 * from outside; more, up to JOSE_JSON_TAPE_MAX_DEPTH, for a caller that
 * wraps text validated before in containers of its own).
 */
#define JOSE_JSON_TAPE_MAX_DEPTH (JOSE_JSON_MAX_DEPTH + 8)

extern jose_json_error jose_json_parse_tape(const char *text, size_t len,
											const jose_stop *stop, int max_depth,
											jose_json_tape *tape);

/* Parse text that must be one JSON object; free with jose_json_object_free. */
extern jose_json_error jose_json_parse_object(const char *text, size_t len,
											  jose_json_object *out);
/* Validate any JSON text; *type gets the top-level value's type. */
extern jose_json_error jose_json_validate(const char *text, size_t len,
										  jose_json_type *type);
/* The same, asking stop every JOSE_STOP_EVERY values (JOSE_JSON_INTERRUPTED). */
extern jose_json_error jose_json_parse_object_stop(const char *text, size_t len,
												   const jose_stop *stop,
												   jose_json_object *out);
/* The same, every value recorded on tape too (when not NULL). */
extern jose_json_error jose_json_parse_object_tape(const char *text, size_t len,
												   const jose_stop *stop,
												   jose_json_object *out,
												   jose_json_tape *tape);
extern jose_json_error jose_json_validate_stop(const char *text, size_t len,
											   const jose_stop *stop,
											   jose_json_type *type);
extern void jose_json_object_free(jose_json_object *obj);
extern const char *jose_json_error_text(jose_json_error err);

/* The member of that name (n bytes), or NULL. */
extern const jose_json_value *jose_json_get_n(const jose_json_object *obj,
											  const char *name, size_t n);

/* The same for a C string; a literal's length is known where it is written. */
static inline const jose_json_value *
jose_json_get(const jose_json_object *obj, const char *name)
{
	return jose_json_get_n(obj, name, strlen(name));
}
/* Decoded string equals the given bytes. */
extern int	jose_json_string_eq(const jose_json_value *v, const char *s, size_t len);
/* Decode a string value into out (room for v->len bytes); returns length. */
extern size_t jose_json_string_decode(const jose_json_value *v, char *out);
/* A number value as a finite double; 0 when it is not one. */
extern int	jose_json_number(const jose_json_value *v, double *out);
/* Walk an array value (already validated): *pos starts at 0. */
extern int	jose_json_array_next(const jose_json_value *arr, size_t *pos,
								 jose_json_value *elem);

/* ---------------------------------------------------------------------
 * Algorithms (RFC 7518 section 3, RFC 8037, RFC 8812, RFC 9864)
 * --------------------------------------------------------------------- */
typedef enum jose_alg
{
	JOSE_ALG_UNSET = 0,
	JOSE_ALG_HS256,
	JOSE_ALG_HS384,
	JOSE_ALG_HS512,
	JOSE_ALG_RS256,
	JOSE_ALG_RS384,
	JOSE_ALG_RS512,
	JOSE_ALG_PS256,
	JOSE_ALG_PS384,
	JOSE_ALG_PS512,
	JOSE_ALG_ES256,
	JOSE_ALG_ES384,
	JOSE_ALG_ES512,
	JOSE_ALG_ES256K,
	JOSE_ALG_EDDSA,
	JOSE_ALG_ED25519,
	JOSE_ALG_ED448,
	JOSE_ALG_COUNT_
} jose_alg;

typedef uint32_t jose_algset;	/* bit (1 << alg) per algorithm */

#define JOSE_ALGBIT(a)		((jose_algset) 1 << (a))
#define JOSE_ALGS_HMAC		(JOSE_ALGBIT(JOSE_ALG_HS256) | JOSE_ALGBIT(JOSE_ALG_HS384) | JOSE_ALGBIT(JOSE_ALG_HS512))
#define JOSE_ALGS_ALL		((JOSE_ALGBIT(JOSE_ALG_COUNT_) - 1) & ~(jose_algset) 1)

typedef enum jose_family
{
	JOSE_FAM_HMAC = 1,
	JOSE_FAM_RSA,
	JOSE_FAM_RSA_PSS,
	JOSE_FAM_ECDSA,
	JOSE_FAM_EDDSA
} jose_family;

typedef struct jose_alg_info
{
	jose_alg	alg;
	const char *name;
	jose_family family;
	const char *digest;			/* OpenSSL digest name, NULL for EdDSA */
	size_t		hash_len;		/* digest length in bytes */
} jose_alg_info;

/* The algorithm of a name, JOSE_ALG_UNSET if unregistered. */
extern jose_alg jose_alg_from_name(const char *name, size_t len);
extern const jose_alg_info *jose_alg_get(jose_alg alg);
/* 1 when the name is "none" in any letter case. */
extern int	jose_alg_is_none(const char *name, size_t len);
/* Comma-separated names of a set, into buf; returns buf. */
extern char *jose_algset_format(jose_algset set, char *buf, size_t cap);

/* ---------------------------------------------------------------------
 * Keys.  A key text is recognised by its form: "{" starts a JWK or a JWKS,
 * "-----BEGIN" a PEM block, anything else is the bytes of a shared secret.
 * --------------------------------------------------------------------- */
typedef enum jose_kty
{
	JOSE_KTY_OCT = 1,
	JOSE_KTY_RSA,
	JOSE_KTY_EC,
	JOSE_KTY_OKP
} jose_kty;

typedef enum jose_op
{
	JOSE_OP_SIGN = 1,
	JOSE_OP_VERIFY = 2
} jose_op;

typedef struct jose_key jose_key;
typedef struct jose_keyset jose_keyset;

/* How to read a key's bytes: by their form, or always as a shared secret. */
typedef enum jose_key_form
{
	JOSE_KEY_TEXT = 0,
	JOSE_KEY_SECRET = 1
} jose_key_form;

extern jose_status jose_keyset_import(const char *data, size_t len,
									  jose_key_form form, jose_keyset **out);
/*
 * The same, interruptible (stop may be NULL).  Texts over JOSE_MAX_KEY_TEXT
 * bytes are JOSE_E_KEY_TOO_LARGE, sets over JOSE_MAX_KEYS keys
 * JOSE_E_KEYSET_TOO_MANY; duplicate kids are found by sorting.
 */
extern jose_status jose_keyset_import_stop(const char *data, size_t len,
										   jose_key_form form, const jose_stop *stop,
										   jose_keyset **out);
extern void jose_keyset_free(jose_keyset *ks);
extern size_t jose_keyset_count(const jose_keyset *ks);
extern const jose_key *jose_keyset_key(const jose_keyset *ks, size_t i);
/* 1 when the text was a JWKS ("keys" array), not a single key. */
extern int	jose_keyset_is_set(const jose_keyset *ks);

/* Algorithms the key may be used with for op (honours alg, use, key_ops). */
extern jose_algset jose_key_algs(const jose_key *key, jose_op op);
/* Why key cannot do alg for op: JOSE_OK when it can. */
extern jose_status jose_key_check(const jose_key *key, jose_alg alg, jose_op op);
/* The key's kid, or NULL. */
extern const char *jose_key_kid(const jose_key *key, size_t *len);
extern jose_kty jose_key_kty(const jose_key *key);
/* The JWK said "use":"enc": an encryption key, for no signature. */
extern int	jose_key_is_for_encryption(const jose_key *key);
/*
 * Registry keys: give a key its kid (replacing a JWK's), pin it to one
 * algorithm, and a window of validity in seconds since the epoch, from
 * valid_from to valid_until when has_until, open-ended otherwise (no time is
 * a sentinel: 0 is 1970-01-01 00:00:00).  Keys outside their window at
 * opts.key_time verify nothing.
 */
extern void jose_key_restrict(jose_key *key, jose_alg alg, double valid_from,
							  int has_until, double valid_until);
extern jose_status jose_key_set_kid(jose_key *key, const char *kid, size_t len);
/* A registry key's window (0 when it has none); until is +HUGE_VAL when open-ended. */
extern int	jose_key_window(const jose_key *key, double *from, double *until);
/* Whether the key is inside its window of validity at t (always, without one). */
extern int	jose_key_is_valid_at(const jose_key *key, double t);
/*
 * Index a set's keys by kid, so that a token's kid finds its key by binary
 * search, and summarise what they can do (jose_keyset_algs); a set changed
 * afterwards (jose_keyset_adopt) drops both until it is indexed again.  A key
 * changed in place (jose_key_restrict, jose_key_set_kid) is changed before
 * its set is indexed, as the registry does: adopted, then indexed.
 */
extern jose_status jose_keyset_index(jose_keyset *ks);
/* The first key of an indexed set whose kid is kid (len bytes), or NULL. */
extern const jose_key *jose_keyset_find(const jose_keyset *ks, const char *kid, size_t len);
/* An empty key set, and moving every key of src into dst (src is freed). */
extern jose_keyset *jose_keyset_new(void);
extern jose_status jose_keyset_adopt(jose_keyset *dst, jose_keyset *src);

/* The algorithm a key is most likely meant for, UNSET if it can do none. */
extern jose_alg jose_key_natural_alg(const jose_key *key);
/*
 * Union over the set of jose_key_algs: summarised once when the set is
 * imported or indexed, so that it costs nothing by the set's size.
 */
extern jose_algset jose_keyset_algs(const jose_keyset *ks, jose_op op);

/* ---------------------------------------------------------------------
 * Compact JWS
 * --------------------------------------------------------------------- */

/*
 * A token without "kid" is tried against at most this many keys (those
 * valid at key_time that can verify its algorithm): enough for a rotation,
 * where the old and the new key both verify, and one more.  With more, it is
 * refused (JOSE_E_KID_REQUIRED) before any signature is checked, so a forged
 * kid-less token costs what one with a kid costs, whatever the set's size.
 */
#define JOSE_MAX_KIDLESS_CANDIDATES 3

/* Longest signature of any algorithm (RSA 16384 bits). */
#define JOSE_MAX_SIG_LEN 2048

typedef struct jose_claim_rules
{
	double		now;			/* seconds since the epoch */
	double		leeway;			/* seconds, >= 0 */
	const char *audience;		/* required audience, or NULL */
	size_t		audience_len;
	/* or, with audience NULL: one of these naudiences must be in "aud" */
	const char *const *audiences;
	const size_t *audience_lens;
	size_t		naudiences;
	const char *issuer;			/* required issuer, or NULL */
	size_t		issuer_len;
	const char *const *required;	/* claims that must be present */
	size_t		nrequired;
	double		max_age;		/* seconds since iat, 0 for no limit */
} jose_claim_rules;

/*
 * What jose_verify found in the last header it accepted (rules 2 and 3 on
 * its bytes: strict base64url, a JSON object without repeated members, what
 * it may and may not say), kept by the caller from one call to the next.
 * The header segment of a token is compared with the one kept, byte for
 * byte; only when it is the same bytes are its alg and kid taken from here
 * instead of being decoded and parsed again.  Everything else, and the
 * check of alg against the caller's algorithms, runs as for any token.
 * Zeroed, it holds nothing; a header longer than JOSE_HEADER_MEMO_MAX
 * characters is not kept.  A memo is for one thread: calls that share one
 * must not overlap.  The one difference a hit can make is that a header
 * whose parse would have run out of memory (JOSE_E_NOMEM) is not parsed.
 */
#define JOSE_HEADER_MEMO_MAX 256	/* characters of the header segment */

typedef struct jose_header_memo
{
	size_t		seglen;			/* 0: holds nothing */
	char		seg[JOSE_HEADER_MEMO_MAX];	/* the segment, as in the token */
	jose_alg	alg;
	int			has_kid;
	int			kid_escaped;
	size_t		kid_off;		/* the kid string's bytes, in dec */
	size_t		kid_len;
	unsigned char dec[JOSE_B64_DECODED_MAX(JOSE_HEADER_MEMO_MAX)];	/* the header */
} jose_header_memo;

typedef struct jose_verify_opts
{
	size_t		max_len;		/* size cap on the whole token */
	jose_algset algorithms;		/* allowed; 0 means whatever the keys allow */
	int			jwt;			/* check the payload as a JWT claims set */
	jose_claim_rules claims;	/* used when jwt */
	int			check_key_time; /* skip keys outside their window at key_time */
	double		key_time;		/* seconds since the epoch, when check_key_time */
	const jose_stop *stop;		/* asked between keys and in parsing; NULL: never */

	/*
	 * When jwt and not NULL, an initialised tape that receives the
	 * payload's values (jose_json_parse_tape) on JOSE_OK; the caller frees
	 * it in every case.
	 */
	jose_json_tape *tape;

	/* when not NULL, the last good header, read and updated (see above) */
	jose_header_memo *header_memo;
} jose_verify_opts;

typedef struct jose_verified
{
	jose_alg	alg;
	const jose_key *key;		/* the key that verified */
	const unsigned char *payload;	/* decoded payload, in the caller's buffer */
	size_t		payload_len;
	const char *detail_claim;	/* for JOSE_E_CLAIM_TYPE: which claim */
	jose_json_error json_error; /* for the JSON codes: what was wrong */

	/*
	 * When opts->jwt, on JOSE_OK: the claims set's "jti" and "sid" members
	 * (type 0 when absent), still escaped, spans into the payload in the
	 * caller's buffer and so valid while it is: for a caller that looks
	 * them up in a revocation list without parsing the payload again.
	 */
	jose_json_value jti;
	jose_json_value sid;
} jose_verified;

/*
 * The buffer jose_verify needs: at least the token's length.  Header, payload
 * and signature are decoded into it.
 */
#define JOSE_VERIFY_BUFLEN(toklen)	((toklen) + 8)

/*
 * Verify a compact JWS, checking DESIGN.md's rules in their order.  On
 * JOSE_OK, out->payload holds the payload; on any failure out->payload is
 * NULL, never a partial result.
 */
extern jose_status jose_verify(const char *token, size_t len,
							   const jose_keyset *keys,
							   const jose_verify_opts *opts,
							   unsigned char *buf, size_t buflen,
							   jose_verified *out);

/* The types of the registered claims (exp, nbf, iat numbers; aud, iss). */
extern jose_status jose_check_claim_types(const jose_json_object *claims,
										  const char **which);

/* The checks of rule 6 on a parsed claims set. */
extern jose_status jose_check_claims(const jose_json_object *claims,
									 const jose_claim_rules *rules,
									 const char **which);

/*
 * The payload of a compact JWS as a JSON object, before anything is
 * verified: for a caller that chooses the key set by a claim ("iss") and
 * then verifies with jose_verify(), which checks every rule as usual.
 * Nothing in it may be believed.  The size cap, the compact form and strict
 * base64url of the payload hold; the header and signature are not read.
 * The members' spans point into buf (JOSE_VERIFY_BUFLEN(len) bytes); on
 * JOSE_OK the caller frees *payload with jose_json_object_free().
 */
extern jose_status jose_peek_payload(const char *token, size_t len, size_t max_len,
									 const jose_stop *stop, unsigned char *buf,
									 size_t buflen, jose_json_object *payload);

/* Split and decode a compact JWS without verifying anything. */
typedef struct jose_decoded
{
	const unsigned char *header;
	size_t		header_len;
	const unsigned char *payload;
	size_t		payload_len;
	jose_json_error json_error; /* for the JSON codes: what was wrong */
} jose_decoded;

extern jose_status jose_decode(const char *token, size_t len, size_t max_len,
							   unsigned char *buf, size_t buflen,
							   jose_decoded *out);
extern jose_status jose_decode_stop(const char *token, size_t len, size_t max_len,
									const jose_stop *stop, unsigned char *buf,
									size_t buflen, jose_decoded *out);

/* Room jose_sign needs for its output, without the final NUL. */
extern size_t jose_sign_len(size_t header_len, size_t payload_len);

/*
 * Sign header_json and payload into a compact JWS.  The header must already
 * carry "alg" equal to alg (the caller builds it).  out gets no NUL.
 */
extern jose_status jose_sign(const jose_key *key, jose_alg alg,
							 const char *header_json, size_t header_len,
							 const unsigned char *payload, size_t payload_len,
							 char *out, size_t outcap, size_t *outlen);

/* Raw signature over data (the Wycheproof runner uses these directly). */
extern jose_status jose_sig_sign(const jose_key *key, jose_alg alg,
								 const unsigned char *data, size_t len,
								 unsigned char *sig, size_t *siglen);
extern jose_status jose_sig_verify(const jose_key *key, jose_alg alg,
								   const unsigned char *data, size_t len,
								   const unsigned char *sig, size_t siglen);

/* ---------------------------------------------------------------------
 * JWK output (RFC 7517, RFC 7638)
 * --------------------------------------------------------------------- */

/*
 * The public JWK of a key as JSON text with members in RFC 7638 order, in
 * memory the caller frees with jose_free().  With alg non-zero, "alg" is
 * added; with the key's kid, "kid".
 */
extern jose_status jose_key_public_jwk(const jose_key *key, char **json, size_t *len);
/* The private JWK (secret included) of a key; wipe and jose_free() it. */
extern jose_status jose_key_private_jwk(const jose_key *key, jose_alg alg,
										const char *kid, char **json, size_t *len);
/* RFC 7638 thumbprint (SHA-256, base64url, 43 characters and a NUL). */
#define JOSE_THUMBPRINT_LEN 43
extern jose_status jose_key_thumbprint(const jose_key *key, char out[JOSE_THUMBPRINT_LEN + 1]);
/* A new key for alg: HMAC secrets of the hash length, RSA 2048, the curve of ES*, Ed25519 for EdDSA. */
extern jose_status jose_key_generate(jose_alg alg, jose_key **out);
extern void jose_key_free(jose_key *key);
extern void jose_free(void *p);

/* Wipe memory that held key material. */
extern void jose_cleanse(void *p, size_t len);

#endif							/* JOSE_H */
