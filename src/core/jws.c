/*
 * jws.c
 *		Compact JWS (RFC 7515 section 7.1): verify, decode and sign.
 *
 * jose_verify() is the one place where the verification rules of DESIGN.md
 * run, in their order, so that the order itself can be read and reviewed:
 *
 *	1. size cap			 4. key and signature
 *	2. compact form		 5. payload JSON, only once the signature holds
 *	3. header			 6. claims
 */
#include <string.h>

#include "jose.h"
#include "key_internal.h"

/* The three segments of a compact token, as spans into it. */
typedef struct segments
{
	const char *h;
	size_t		hlen;
	const char *p;
	size_t		plen;
	const char *s;
	size_t		slen;
} segments;

static jose_status
split_compact(const char *token, size_t len, segments *seg)
{
	const char *d1 = memchr(token, '.', len);
	const char *d2;

	if (d1 == NULL)
		return JOSE_E_FORM;
	d2 = memchr(d1 + 1, '.', len - (size_t) (d1 + 1 - token));
	if (d2 == NULL)
		return JOSE_E_FORM;
	/* mutation: rule-2-two-dots: if (memchr(d2 + 1 => if (0 && memchr(d2 + 1 */
	if (memchr(d2 + 1, '.', len - (size_t) (d2 + 1 - token)) != NULL)
		return JOSE_E_FORM;		/* JWE has four dots, JSON serialisation none */
	seg->h = token;
	seg->hlen = (size_t) (d1 - token);
	seg->p = d1 + 1;
	seg->plen = (size_t) (d2 - seg->p);
	seg->s = d2 + 1;
	seg->slen = len - (size_t) (seg->s - token);
	return JOSE_OK;
}

/*
 * Strict base64url of one segment, a piece at a time, asking stop between
 * pieces.  A piece is a multiple of 4 characters, so each decodes exactly as
 * it would inside the whole.
 */
static jose_status
decode_segment(const char *in, size_t len, const jose_stop *stop,
			   unsigned char *out, size_t *outlen)
{
	const size_t piece = JOSE_STOP_BYTES;	/* a multiple of 4 */
	size_t		done = 0;

	*outlen = 0;
	while (stop != NULL && len - done > piece)
	{
		size_t		n;

		if (jose_should_stop(stop))
			return JOSE_E_INTERRUPTED;
		if (!jose_b64url_decode(in + done, piece, out + *outlen, &n))
			return JOSE_E_BASE64;
		done += piece;
		*outlen += n;
	}
	{
		size_t		n;

		if (!jose_b64url_decode(in + done, len - done, out + *outlen, &n))
			return JOSE_E_BASE64;
		*outlen += n;
	}
	return JOSE_OK;
}

/*
 * Decode the three segments into buf: header, payload, signature in turn.
 * buf needs JOSE_VERIFY_BUFLEN(len) bytes.  With known_header, the header's
 * decoding is kept in a memo (rule 2 held for these bytes): *h is left
 * alone, and the payload and signature are decoded alone.
 */
static jose_status
decode_segments(const segments *seg, const jose_stop *stop, int known_header,
				unsigned char *buf, size_t buflen, unsigned char **h, size_t *hlen,
				unsigned char **p, size_t *plen, unsigned char **s, size_t *slen)
{
	size_t		need = JOSE_B64_DECODED_MAX(seg->hlen) +
		JOSE_B64_DECODED_MAX(seg->plen) + JOSE_B64_DECODED_MAX(seg->slen);
	jose_status st;

	if (buflen < need)
		return JOSE_E_NOMEM;
	if (known_header)
		*p = buf;
	else
	{
		*h = buf;
		if ((st = decode_segment(seg->h, seg->hlen, stop, *h, hlen)) != JOSE_OK)
			return st;
		*p = *h + *hlen;
	}
	if ((st = decode_segment(seg->p, seg->plen, stop, *p, plen)) != JOSE_OK)
		return st;
	*s = *p + *plen;
	if ((st = decode_segment(seg->s, seg->slen, stop, *s, slen)) != JOSE_OK)
		return st;
	return JOSE_OK;
}

static jose_status
header_json_status(jose_json_error err)
{
	if (err == JOSE_JSON_DUPLICATE)
		return JOSE_E_HEADER_DUP;
	if (err == JOSE_JSON_NOMEM)
		return JOSE_E_NOMEM;
	if (err == JOSE_JSON_INTERRUPTED)
		return JOSE_E_INTERRUPTED;
	return JOSE_E_HEADER_JSON;
}

/*
 * The header parameters rule 3 reads, found in one pass over the members,
 * each name compared once (as decoded: an escaped name is compared by
 * jose_json_string_eq).  Names are unique, the parser refuses duplicates.
 */
typedef struct header_params
{
	const jose_json_value *alg;
	const jose_json_value *crit;
	const jose_json_value *b64;
	const jose_json_value *zip;
	const jose_json_value *kid;
} header_params;

static void
find_header_params(const jose_json_object *hdr, header_params *hp)
{
	static const char *const names[] = {"alg", "crit", "b64", "zip", "kid"};

	memset(hp, 0, sizeof(*hp));
	for (size_t i = 0; i < hdr->n; i++)
	{
		const jose_json_value *name = &hdr->members[i].name;
		const jose_json_value **slots[] = {&hp->alg, &hp->crit, &hp->b64, &hp->zip, &hp->kid};

		/* no parameter read here is longer than 4 bytes, nor escaped shorter */
		if (!name->escaped && name->len != 3 && name->len != 4)
			continue;
		for (size_t k = 0; k < sizeof(names) / sizeof(names[0]); k++)
			if (*slots[k] == NULL && jose_json_string_eq(name, names[k], strlen(names[k])))
			{
				*slots[k] = &hdr->members[i].value;
				break;
			}
	}
}

/* Rule 3: what the header may and may not say.  Sets *alg and *kid. */
static jose_status
check_header(const jose_json_object *hdr, jose_alg *alg,
			 const jose_json_value **kid)
{
	header_params hp;
	const jose_json_value *v;
	char		name[64];
	size_t		n;

	find_header_params(hdr, &hp);
	v = hp.alg;

	if (v == NULL || v->type != JOSE_JSON_STRING)
		return JOSE_E_ALG_MISSING;

	/*
	 * Escapes are decoded first, so "\u006eone" is "none".  Every escape is
	 * six characters, so no registered name nor "none" is written in more
	 * than 42.
	 */
	if (v->len > sizeof(name))
		return JOSE_E_ALG_UNKNOWN;
	n = jose_json_string_decode(v, name);
	/* mutation: rule-3-alg-never-none: jose_alg_is_none(name, n) => 0 */
	if (jose_alg_is_none(name, n))
		return JOSE_E_ALG_NONE;
	/* mutation: rule-3-alg-registered: == JOSE_ALG_UNSET) => == JOSE_ALG_UNSET && 0) */
	if ((*alg = jose_alg_from_name(name, n)) == JOSE_ALG_UNSET)
		return JOSE_E_ALG_UNKNOWN;
	/* mutation: rule-3-crit: hp.crit != NULL => 0 */
	if (hp.crit != NULL)
		return JOSE_E_CRIT;
	/* mutation: rule-3-b64: hp.b64 != NULL => 0 */
	if (hp.b64 != NULL)
		return JOSE_E_B64;
	/* mutation: rule-3-zip: hp.zip != NULL => 0 */
	if (hp.zip != NULL)
		return JOSE_E_ZIP;

	/*
	 * "jku", "x5u", "jwk" and "x5c" are read by nobody: the caller's key,
	 * never the token, decides who signed it.
	 */
	*kid = hp.kid;
	/* mutation: rule-3-kid-string: if (*kid != NULL && => if (0 && *kid != NULL && */
	if (*kid != NULL && (*kid)->type != JOSE_JSON_STRING)
		return JOSE_E_KID_TYPE;
	return JOSE_OK;
}

static int
kid_equals(const jose_key *key, const jose_json_value *kid)
{
	size_t		len;
	const char *k = jose_key_kid(key, &len);

	return k != NULL && jose_json_string_eq(kid, k, len);
}

/*
 * Rule 4.  A kid in the token selects exactly one key, or the token is
 * refused; without one, every key that may verify the algorithm is tried,
 * if they are at most JOSE_MAX_KIDLESS_CANDIDATES: with more, the token is
 * refused before any signature is checked (JOSE_E_KID_REQUIRED).
 * In a set, a kid only matches a kid, and the set's kid index finds it, and
 * its place among the keys, in logarithmic time, so a registry of a
 * thousand keys costs what one does.
 */
static jose_status
verify_signature(const jose_keyset *keys, jose_alg alg, const jose_json_value *kid,
				 int check_key_time, double key_time, const jose_stop *stop,
				 const unsigned char *input, size_t input_len,
				 const unsigned char *sig, size_t siglen, const jose_key **used)
{
	size_t		n = jose_keyset_count(keys);
	size_t		first = 0;
	int			candidates = 0;
	jose_status last = JOSE_E_SIGNATURE;

	if (kid != NULL && keys->by_kid != NULL)
	{
		char		small[128];
		char	   *want = kid->len <= sizeof(small) ? small : malloc(kid->len);
		size_t		wlen;
		int			found;

		if (want == NULL)
			return JOSE_E_NOMEM;
		wlen = jose_json_string_decode(kid, want);
		found = jose_keyset_find_kid(keys, want, wlen, &first);
		if (want != small)
			free(want);
		if (!found)
			return JOSE_E_KID_UNKNOWN;
		/* the loop below, over this one key: the index knows its place */
		n = first + 1;
	}

	/* without a kid: count the candidates first, the loop below tries them */
	if (kid == NULL)
	{
		for (size_t i = 0; i < n; i++)
		{
			const jose_key *key = jose_keyset_key(keys, i);

			if ((!check_key_time || jose_key_valid_at(key, key_time)) &&
				jose_key_check(key, alg, JOSE_OP_VERIFY) == JOSE_OK &&
				++candidates > JOSE_MAX_KIDLESS_CANDIDATES)
				return JOSE_E_KID_REQUIRED;
		}
		candidates = 0;
	}

	for (size_t i = first; i < n; i++)
	{
		const jose_key *key = jose_keyset_key(keys, i);
		size_t		klen;
		jose_status st;

		/* each key tried costs a signature check: ask before every one */
		if (jose_should_stop(stop))
			return JOSE_E_INTERRUPTED;
		/* mutation: rule-3-kid-exact-match: && !kid_equals(key, kid)) => && 0) */
		if (kid != NULL && jose_key_kid(key, &klen) != NULL && !kid_equals(key, kid))
			continue;
		if (kid != NULL && jose_key_kid(key, &klen) == NULL && jose_keyset_is_set(keys))
			continue;			/* in a set, a kid only matches a kid */
		if (check_key_time && !jose_key_valid_at(key, key_time))
		{
			if (kid != NULL)
				return JOSE_E_KEY_NOT_VALID;	/* retired, or not yet in use */
			continue;
		}
		if (jose_key_check(key, alg, JOSE_OP_VERIFY) != JOSE_OK)
		{
			if (kid != NULL)
				return JOSE_E_ALG_KEY;	/* the named key cannot do it */
			continue;
		}
		candidates++;
		st = jose_sig_verify(key, alg, input, input_len, sig, siglen);
		if (st == JOSE_OK)
		{
			*used = key;
			return JOSE_OK;
		}
		if (st != JOSE_E_SIGNATURE && st != JOSE_E_SIG_RANGE)
			return st;
		last = st;
	}
	if (candidates > 0)
		return last;
	return kid != NULL ? JOSE_E_KID_UNKNOWN : JOSE_E_ALG_KEY;
}

static jose_status
payload_json_status(jose_json_error err)
{
	switch (err)
	{
		case JOSE_JSON_DUPLICATE:
			return JOSE_E_PAYLOAD_DUP;
		case JOSE_JSON_NOT_OBJECT:
			return JOSE_E_PAYLOAD_OBJECT;
		case JOSE_JSON_NOMEM:
			return JOSE_E_NOMEM;
		case JOSE_JSON_INTERRUPTED:
			return JOSE_E_INTERRUPTED;
		default:
			return JOSE_E_PAYLOAD_JSON;
	}
}

/*
 * The header memo (jose_header_memo): does it hold this token's header
 * segment, the same bytes?  Rules 2 and 3 are functions of those bytes
 * alone, so what they found for the kept header holds for this one.
 */
static int
memo_holds(const jose_header_memo *m, const segments *seg)
{
	if (m == NULL || m->seglen == 0 || m->seglen != seg->hlen)
		return 0;
	/* mutation: rule-3-header-memo-same-bytes: memcmp(m->seg, seg->h, seg->hlen) == 0 => 1 */
	return memcmp(m->seg, seg->h, seg->hlen) == 0;
}

/* Keep a header that rules 2 and 3 accepted, if it is short enough. */
static void
memo_keep(jose_header_memo *m, const segments *seg, const unsigned char *h,
		  size_t hlen, jose_alg alg, const jose_json_value *kid)
{
	if (m == NULL)
		return;
	m->seglen = 0;				/* holds nothing until it is whole */
	if (seg->hlen > JOSE_HEADER_MEMO_MAX || hlen > sizeof(m->dec))
		return;
	memcpy(m->seg, seg->h, seg->hlen);
	memcpy(m->dec, h, hlen);
	m->alg = alg;
	m->has_kid = kid != NULL;
	if (kid != NULL)
	{
		m->kid_escaped = kid->escaped;
		m->kid_off = (size_t) ((const unsigned char *) kid->p - h);
		m->kid_len = kid->len;
	}
	m->seglen = seg->hlen;
}

/*
 * Rules 1 and 2 and the header's JSON, which verifying and decoding share:
 * the size cap before any decoding, the compact form, strict base64url, and
 * a header that is a JSON object without repeated members.  On success the
 * caller frees *hdr.
 */
static jose_status
open_compact(const char *token, size_t len, size_t max_len, const jose_stop *stop,
			 const jose_header_memo *memo, int *memo_hit, unsigned char *buf,
			 size_t buflen, segments *seg, unsigned char **h, size_t *hlen,
			 unsigned char **p, size_t *plen, unsigned char **s, size_t *slen,
			 jose_json_object *hdr, jose_json_error *jerr)
{
	jose_status st;

	*jerr = JOSE_JSON_OK;
	*memo_hit = 0;
	hdr->members = hdr->inline_members;
	hdr->n = 0;
	/* mutation: rule-1-size-cap: len > max_len => 0 */
	if (len > max_len)
		return JOSE_E_TOO_LARGE;
	/* the Authorization header's value, not the token (RFC 6750 section 2.1) */
	if (len > 7 && (token[0] | 0x20) == 'b' && (token[1] | 0x20) == 'e' &&
		(token[2] | 0x20) == 'a' && (token[3] | 0x20) == 'r' &&
		(token[4] | 0x20) == 'e' && (token[5] | 0x20) == 'r' && token[6] == ' ')
		return JOSE_E_BEARER;
	if ((st = split_compact(token, len, seg)) != JOSE_OK)
		return st;
	if (memo_holds(memo, seg))
	{
		*h = (unsigned char *) memo->dec;
		*hlen = 0;				/* not needed: the memo has what the header says */
		*memo_hit = 1;
	}
	if ((st = decode_segments(seg, stop, *memo_hit, buf, buflen, h, hlen, p, plen, s,
							  slen)) != JOSE_OK)
		return st;
	if (*memo_hit)
		return JOSE_OK;
	if ((*jerr = jose_json_parse_object_stop((const char *) *h, *hlen, stop, hdr)) != JOSE_JSON_OK)
		return header_json_status(*jerr);
	return JOSE_OK;
}

jose_status
jose_verify(const char *token, size_t len, const jose_keyset *keys,
			const jose_verify_opts *opts, unsigned char *buf, size_t buflen,
			jose_verified *out)
{
	segments	seg;
	unsigned char *h,
			   *p,
			   *s;
	size_t		hlen,
				plen,
				slen;
	jose_json_object hdr;
	jose_json_error jerr;
	const jose_json_value *kid = NULL;
	jose_json_value memo_kid;
	jose_alg	alg = JOSE_ALG_UNSET;
	const jose_key *used = NULL;
	jose_header_memo *memo = opts->header_memo;
	int			memo_hit;
	jose_status st;

	memset(out, 0, sizeof(*out));

	/* 1. size cap, 2. compact form and strict base64url, 3. header JSON */
	st = open_compact(token, len, opts->max_len, opts->stop, memo, &memo_hit, buf, buflen,
					  &seg, &h, &hlen, &p, &plen, &s, &slen, &hdr, &jerr);
	if (st != JOSE_OK)
	{
		out->json_error = jerr;
		return st;
	}

	/* 3. what the header says: as the memo found it for these bytes, or read now */
	if (memo_hit)
	{
		alg = memo->alg;
		if (memo->has_kid)
		{
			memo_kid.type = JOSE_JSON_STRING;
			memo_kid.escaped = memo->kid_escaped;
			memo_kid.p = (const char *) memo->dec + memo->kid_off;
			memo_kid.len = memo->kid_len;
			kid = &memo_kid;
		}
		st = JOSE_OK;
	}
	else
	{
		st = check_header(&hdr, &alg, &kid);
		if (st == JOSE_OK)
			memo_keep(memo, &seg, h, hlen, alg, kid);
	}
	/* mutation: rule-3-alg-allowed: if (st == JOSE_OK && => if (0 && st == JOSE_OK && */
	if (st == JOSE_OK && opts->algorithms != 0 &&
		!(opts->algorithms & JOSE_ALGBIT(alg)))
		st = JOSE_E_ALG_NOT_ALLOWED;
	out->alg = alg;

	/* 4. key and signature over the exact bytes "header.payload" */
	if (st == JOSE_OK)
		st = verify_signature(keys, alg, kid, opts->check_key_time, opts->key_time, opts->stop,
							  (const unsigned char *) token,
							  seg.hlen + 1 + seg.plen, s, slen, &used);
	jose_json_object_free(&hdr);
	/* mutation: rule-4-signature-must-verify: if (st != JOSE_OK) => if (st != JOSE_OK && st != JOSE_E_SIGNATURE) */
	if (st != JOSE_OK)
		return st;

	/* 5 and 6. the payload, believed only now */
	if (opts->jwt)
	{
		jose_json_object claims;
		const char *which = NULL;

		if ((jerr = jose_json_parse_object_tape((const char *) p, plen, opts->stop,
												&claims, opts->tape)) != JOSE_JSON_OK)
		{
			out->json_error = jerr;
			return payload_json_status(jerr);
		}
		st = jose_check_claims(&claims, &opts->claims, &which);
		if (st == JOSE_OK)
		{
			const jose_json_value *jti = jose_json_get(&claims, "jti"),
					   *sid = jose_json_get(&claims, "sid");

			if (jti != NULL)
				out->jti = *jti;
			if (sid != NULL)
				out->sid = *sid;
		}
		jose_json_object_free(&claims);
		out->detail_claim = which;
		if (st != JOSE_OK)
			return st;
	}

	out->key = used;
	out->payload = p;
	out->payload_len = plen;
	return JOSE_OK;
}

jose_status
jose_peek_payload(const char *token, size_t len, size_t max_len, const jose_stop *stop,
				  unsigned char *buf, size_t buflen, jose_json_object *payload)
{
	segments	seg;
	size_t		plen;
	jose_json_error jerr;
	jose_status st;

	memset(payload, 0, sizeof(*payload));
	if (len > max_len)
		return JOSE_E_TOO_LARGE;
	if ((st = split_compact(token, len, &seg)) != JOSE_OK)
		return st;
	if (buflen < JOSE_B64_DECODED_MAX(seg.plen))
		return JOSE_E_NOMEM;
	if ((st = decode_segment(seg.p, seg.plen, stop, buf, &plen)) != JOSE_OK)
		return st;
	if ((jerr = jose_json_parse_object_stop((const char *) buf, plen, stop, payload)) != JOSE_JSON_OK)
		return payload_json_status(jerr);
	return JOSE_OK;
}

jose_status
jose_decode(const char *token, size_t len, size_t max_len, unsigned char *buf,
			size_t buflen, jose_decoded *out)
{
	return jose_decode_stop(token, len, max_len, NULL, buf, buflen, out);
}

jose_status
jose_decode_stop(const char *token, size_t len, size_t max_len,
				 const jose_stop *stop, unsigned char *buf, size_t buflen,
				 jose_decoded *out)
{
	segments	seg;
	unsigned char *h,
			   *p,
			   *s;
	size_t		hlen,
				plen,
				slen;
	jose_json_object hdr;
	jose_json_error jerr;
	int			memo_hit;
	jose_status st;

	memset(out, 0, sizeof(*out));
	st = open_compact(token, len, max_len, stop, NULL, &memo_hit, buf, buflen, &seg, &h,
					  &hlen, &p, &plen, &s, &slen, &hdr, &jerr);
	if (st != JOSE_OK)
	{
		out->json_error = jerr;
		return st;
	}
	jose_json_object_free(&hdr);
	if ((jerr = jose_json_validate_stop((const char *) p, plen, stop, NULL)) != JOSE_JSON_OK)
	{
		out->json_error = jerr;
		return payload_json_status(jerr);
	}
	out->header = h;
	out->header_len = hlen;
	out->payload = p;
	out->payload_len = plen;
	return JOSE_OK;
}

size_t
jose_sign_len(size_t header_len, size_t payload_len)
{
	return JOSE_B64_ENCODED_LEN(header_len) + 1 + JOSE_B64_ENCODED_LEN(payload_len) +
		1 + JOSE_B64_ENCODED_LEN(JOSE_MAX_SIG_LEN);
}

jose_status
jose_sign(const jose_key *key, jose_alg alg, const char *header_json,
		  size_t header_len, const unsigned char *payload, size_t payload_len,
		  char *out, size_t outcap, size_t *outlen)
{
	unsigned char sig[JOSE_MAX_SIG_LEN];
	size_t		siglen = 0;
	size_t		n;
	jose_status st;

	if (outcap < jose_sign_len(header_len, payload_len))
		return JOSE_E_NOMEM;
	if ((st = jose_key_check(key, alg, JOSE_OP_SIGN)) != JOSE_OK)
		return st;
	n = jose_b64url_encode((const unsigned char *) header_json, header_len, out);
	out[n++] = '.';
	n += jose_b64url_encode(payload, payload_len, out + n);
	if ((st = jose_sig_sign(key, alg, (const unsigned char *) out, n, sig, &siglen)) != JOSE_OK)
		return st;
	out[n++] = '.';
	n += jose_b64url_encode(sig, siglen, out + n);
	*outlen = n;
	return JOSE_OK;
}
