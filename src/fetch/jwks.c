/*
 * jwks.c
 *		The keys of a fetched JWKS that the session path may use, through
 *		the core's own parser and importer.
 *
 * A set is taken whole or not at all when it is wrong as a set:
 *
 *	- not strict JSON (the core's parser: duplicate members, bad UTF-8, too
 *	  deep), not an object, no "keys" array, a member that is not an object,
 *	  two keys taken that share a kid: parse;
 *	- more than FETCH_MAX_KEYS (100) members: too large.  Every backend
 *	  imports every stored key when it loads the registry, so a set's size
 *	  is a cost each session pays;
 *	- a shared secret ("kty":"oct") or a private key ("d") in it: secret.  A
 *	  published set holds public keys; a secret or a private key in it is a
 *	  leak, and every key of such a provider is suspect;
 *	- no key left to take: empty.
 *
 * Within a good set, a key the core refuses (RSA under 2048 bits, ROCA, a
 * point off its curve, a degenerate EdDSA key, an unknown kty), an RSA key
 * over FETCH_MAX_RSA_BITS (8192: a 16384-bit key costs each backend's load
 * tens of times a 2048-bit one), or a key that can verify no asymmetric
 * algorithm is left out and counted; an encryption key
 * ("use":"enc") is left out and not counted, since a provider publishes it
 * on purpose (Keycloak does).  What is kept is each key's public JWK as the
 * core writes it (kty and its members, kid, alg, "use":"sig"), and the kept
 * set is imported once more as a whole, so that what the session path reads
 * is known to import.
 *
 * The core allocates with malloc: every set, object and string is freed on
 * every path (PG_FINALLY).
 */
#include "postgres.h"

#include "miscadmin.h"

#include "fetch.h"

/* The core's stop hook: a cancel, statement_timeout or terminate pending. */
int
fetch_should_stop(void *arg)
{
	(void) arg;
	return (QueryCancelPending || ProcDiePending) && INTERRUPTS_CAN_BE_PROCESSED();
}

static const jose_stop fetch_stop = {fetch_should_stop, NULL};

static void
interrupted(void)
{
	CHECK_FOR_INTERRUPTS();
	elog(ERROR, "jwt: work stopped for an interrupt that did not end the statement");
}

/* JSON of the kid of a member object, for a detail; "" without one. */
static char *
member_kid(const jose_json_object *m)
{
	const jose_json_value *kid = jose_json_get(m, "kid");
	char	   *s;
	size_t		n;

	if (kid == NULL || kid->type != JOSE_JSON_STRING || kid->len > 200)
		return pstrdup("");
	s = palloc(kid->len + 1);
	n = jose_json_string_decode(kid, s);
	s[n] = '\0';
	s = fetch_shown(s, n);
	for (char *p = s; *p; p++)
		if (*p == '"')
			*p = '?';
	return psprintf(" \"%s\"", s);
}

/* The bits of an RSA member's modulus "n" (the key imported: it is a good one); 0 when unread. */
static int
rsa_bits(const jose_json_object *m)
{
	const jose_json_value *n = jose_json_get(m, "n");
	unsigned char *buf;
	size_t		len;
	size_t		i = 0;
	int			bits = 0;

	if (n == NULL || n->type != JOSE_JSON_STRING || n->escaped)
		return 0;
	buf = palloc(JOSE_B64_DECODED_MAX(n->len) + 1);
	if (jose_b64url_decode(n->p, n->len, buf, &len) == 1)
	{
		while (i < len && buf[i] == 0)
			i++;
		if (i < len)
		{
			bits = (int) Min((len - i - 1) * 8, (size_t) PG_INT32_MAX - 8);
			for (unsigned char b = buf[i]; b; b >>= 1)
				bits++;
		}
	}
	pfree(buf);
	return bits;
}

FetchOutcome
jwks_filter(const char *body, size_t len, StringInfo kept, int *nkept, int *refused,
			char **detail)
{
	jose_json_object set;
	jose_json_object member;
	jose_keyset *volatile one = NULL;
	char	   *volatile json = NULL;
	volatile bool set_parsed = false;
	volatile bool member_parsed = false;
	volatile FetchOutcome outcome = FO_OK;
	volatile int nk = 0;
	volatile int nrefused = 0;
	char	   *volatile first_refusal = NULL;

	*nkept = 0;
	*refused = 0;
	*detail = NULL;
	resetStringInfo(kept);

	PG_TRY();
	{
		const jose_json_value *keys;
		jose_json_value elem;
		size_t		pos = 0;
		int			nmembers = 0;
		jose_json_error jerr;

		if (len > JOSE_MAX_KEY_TEXT)
		{
			outcome = FO_PARSE;
			*detail = psprintf("The key set is larger than %d bytes.", JOSE_MAX_KEY_TEXT);
		}
		else if ((jerr = jose_json_parse_object_stop(body, len, &fetch_stop, &set)) != JOSE_JSON_OK)
		{
			if (jerr == JOSE_JSON_INTERRUPTED)
				interrupted();
			if (jerr == JOSE_JSON_NOMEM)
				ereport(ERROR, (errcode(ERRCODE_OUT_OF_MEMORY), errmsg("out of memory")));
			outcome = FO_PARSE;
			*detail = psprintf("The response is not a JSON object: %s.", jose_json_error_text(jerr));
		}
		else
		{
			set_parsed = true;
			keys = jose_json_get(&set, "keys");
			if (keys == NULL || keys->type != JOSE_JSON_ARRAY)
			{
				outcome = FO_PARSE;
				*detail = pstrdup("The response has no \"keys\" array: it is not a JWKS (RFC 7517 section 5).");
			}
			else
				appendStringInfoString(kept, "{\"keys\":[");
			while (outcome == FO_OK && jose_json_array_next(keys, &pos, &elem))
			{
				jose_status st;
				const jose_json_value *kty;
				const jose_key *key;
				size_t		jlen;
				char	   *jtext;

				CHECK_FOR_INTERRUPTS();
				if (++nmembers > FETCH_MAX_KEYS)
				{
					outcome = FO_TOO_LARGE;
					*detail = psprintf("The key set has more than %d keys: it is refused whole.", FETCH_MAX_KEYS);
					break;
				}
				if (elem.type != JOSE_JSON_OBJECT)
				{
					outcome = FO_PARSE;
					*detail = psprintf("Member %d of \"keys\" is not a JSON object.", nmembers);
					break;
				}
				if (jose_json_parse_object(elem.p, elem.len, &member) != JOSE_JSON_OK)
				{
					outcome = FO_PARSE;
					*detail = psprintf("Member %d of \"keys\" is not a valid JSON object.", nmembers);
					break;
				}
				member_parsed = true;
				kty = jose_json_get(&member, "kty");
				if (kty != NULL && kty->type == JOSE_JSON_STRING && jose_json_string_eq(kty, "oct", 3))
				{
					outcome = FO_SECRET;
					*detail = psprintf("Key%s of the set is a shared secret (\"kty\":\"oct\"): a published key set holds public keys only, so the whole set is refused.",
									   member_kid(&member));
					break;
				}
				if (jose_json_get(&member, "d") != NULL)
				{
					outcome = FO_SECRET;
					*detail = psprintf("Key%s of the set is a private key (it has \"d\"): it was published, so the whole set is refused.",
									   member_kid(&member));
					break;
				}

				st = jose_keyset_import_stop(elem.p, elem.len, JOSE_KEY_TEXT, &fetch_stop,
											 (jose_keyset **) &one);
				if (st == JOSE_E_INTERRUPTED)
					interrupted();
				if (st == JOSE_E_NOMEM)
					ereport(ERROR, (errcode(ERRCODE_OUT_OF_MEMORY), errmsg("out of memory")));
				key = st == JOSE_OK ? jose_keyset_key(one, 0) : NULL;
				if (key != NULL && jose_key_is_for_encryption(key))
					;			/* an encryption key: not ours, not refused */
				else if (key != NULL && jose_key_kty(key) == JOSE_KTY_RSA &&
						 rsa_bits(&member) > FETCH_MAX_RSA_BITS)
				{
					nrefused++;
					if (first_refusal == NULL)
						first_refusal = psprintf("key%s: an RSA key of %d bits, over the %d bits a fetched key may have",
												 member_kid(&member), rsa_bits(&member), FETCH_MAX_RSA_BITS);
				}
				else if (key == NULL ||
						 (jose_key_algs(key, JOSE_OP_VERIFY) & ~JOSE_ALGS_HMAC) == 0 ||
						 jose_key_public_jwk(key, (char **) &json, &jlen) != JOSE_OK)
				{
					nrefused++;
					if (first_refusal == NULL)
						first_refusal = psprintf("key%s: %s", member_kid(&member),
												 st != JOSE_OK ? jose_status_detail(st) :
												 "it can verify no asymmetric JWS algorithm");
				}
				else
				{
					jtext = json;
					if (nk > 0)
						appendStringInfoChar(kept, ',');
					appendBinaryStringInfo(kept, jtext, (int) jlen);
					nk++;
					json = NULL;
					jose_free(jtext);
				}
				jose_keyset_free(one);
				one = NULL;
				jose_json_object_free(&member);
				member_parsed = false;
			}
			if (outcome == FO_OK)
			{
				appendStringInfoString(kept, "]}");
				if (nk == 0)
				{
					outcome = FO_EMPTY;
					*detail = nrefused > 0 ?
						psprintf("The key set has no key to take: %d refused (first, %s).", nrefused, first_refusal) :
						pstrdup("The key set has no signature key.");
				}
				else
				{
					/* the kept set as the session path will import it */
					jose_status st = jose_keyset_import_stop(kept->data, kept->len, JOSE_KEY_TEXT,
															 &fetch_stop, (jose_keyset **) &one);

					if (st == JOSE_E_INTERRUPTED)
						interrupted();
					if (st == JOSE_E_NOMEM)
						ereport(ERROR, (errcode(ERRCODE_OUT_OF_MEMORY), errmsg("out of memory")));
					if (st != JOSE_OK)
					{
						outcome = FO_PARSE;
						*detail = psprintf("The keys taken do not form a key set: %s", jose_status_detail(st));
					}
				}
			}
		}
	}
	PG_FINALLY();
	{
		if (json)
			jose_free(json);
		jose_keyset_free(one);
		if (member_parsed)
			jose_json_object_free(&member);
		if (set_parsed)
			jose_json_object_free(&set);
	}
	PG_END_TRY();

	if (outcome == FO_OK && nrefused > 0)
		*detail = psprintf("%d key%s left out, the first %s.", nrefused, nrefused == 1 ? "" : "s",
						   first_refusal);
	*nkept = nk;
	*refused = nrefused;
	if (outcome != FO_OK)
		resetStringInfo(kept);
	return outcome;
}
