/*
 * session.c
 *		Session tokens for row-level security: jwt.token, the claims cache,
 *		jwt_claims() and jwt_claim().
 *
 * A client sets jwt.token per transaction; a policy calls jwt_claim('sub') on
 * every row.  That only works if a call costs about what reading a setting
 * costs, so there are two caches:
 *
 *	- per backend: the last verified token, its claims and payload, keyed by
 *	  its exact text (the registry's own cache is in registry.c);
 *	- per call site (fn_extra): the answer for this statement, valid while the
 *	  token, the policy settings and the registry are unchanged (each has a
 *	  generation counter that its setting's assign hook or the invalidation
 *	  bumps).
 *
 * The per-backend entry depends on the registry's keys only (it holds the
 * key that verified the token); a new revocation set (a jti revoked, a login
 * ended) costs a re-check of the cached payload, never a new verification.
 *
 * "Now" is the statement's start (jwt_now(): in a procedure that commits,
 * the current transaction's start), so a call site re-checks the time
 * claims and revocation once per statement and transaction, which is every
 * time the answer could change.  Nothing here writes: it works the same in parallel workers and on
 * a hot standby.
 */
#include "postgres.h"

#include "access/xact.h"
#include "mb/pg_wchar.h"
#include "nodes/pg_list.h"
#include "nodes/primnodes.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/jsonb.h"
#include "utils/memutils.h"
#include "utils/timestamp.h"

#include "compat.h"
#include "jwt.h"


typedef struct ClaimsCache
{
	bool		valid;
	uint64		epoch;			/* changes whenever the entry is refilled */
	uint64		policy_gen;
	uint64		registry_gen;
	char	   *token;
	size_t		token_len;
	char	   *payload;		/* the verified payload's JSON */
	size_t		payload_len;
	Jsonb	   *claims;
	char	   *jti;			/* its jti and sid strings, decoded, or NULL */
	size_t		jti_len;
	char	   *sid;
	size_t		sid_len;
	const jose_key *key;		/* the registry key that verified it */
	bool		unverified;		/* from request.jwt.claims */
	JwtRoute	route;			/* [issuers] the issuer it names, or none */
} ClaimsCache;

static ClaimsCache claims_cache = {0};
static MemoryContext claims_context = NULL;

/*
 * A call site hands its answer out as it is, not copied, once the statement
 * asks for it again: the answer then lives in the site's memory (fn_mcxt,
 * the query's) and never changes nor is freed before the query ends, as a
 * Const's value would not, so a row that still holds it is never left with
 * freed memory.  When the answer moves on (a new token, a new statement),
 * a lent answer is kept, not freed; after SITE_MAX_KEPT of those the site
 * copies again, so that a query whose token changes on every other row
 * keeps a bounded number of answers, never one per row.
 */
#define SITE_MAX_KEPT 32

/* What a call site remembers for the statement. */
typedef struct ClaimsSite
{
	JwtClaimsStamp stamp;		/* what the answer depends on */
	/* jwt_claim() only: the name asked for and its answer, reused */
	bool		name_valid;
	text	   *name;
	Datum		name_datum;		/* the argument as passed, when name_const */
	bool		name_const;		/* the argument is a constant of the call */
	text	   *value;
	bool		value_lent;		/* value was handed out: kept, never freed */
	/* jwt_claims() only: a copy of the claims of claims_epoch, lent */
	Jsonb	   *claims;
	uint64		claims_epoch;
	uint64		asked_epoch;	/* the epoch last asked for, 0 for none */
	int			nkept;			/* lent answers left behind, kept for the query */
} ClaimsSite;

static void
policy_rules(jose_claim_rules *rules, double now)
{
	memset(rules, 0, sizeof(*rules));
	rules->now = now;
	rules->leeway = jwt_policy_leeway;
	if (jwt_policy_audience && jwt_policy_audience[0])
	{
		rules->audience = jwt_policy_audience;
		rules->audience_len = strlen(jwt_policy_audience);
	}
	if (jwt_policy_issuer && jwt_policy_issuer[0])
	{
		rules->issuer = jwt_policy_issuer;
		rules->issuer_len = strlen(jwt_policy_issuer);
	}
	if (jwt_policy_required)
	{
		rules->required = jwt_policy_required->names;
		rules->nrequired = jwt_policy_required->n;
	}
	rules->max_age = jwt_policy_max_age;
}

static void
report_token(jose_status st, const jose_verified *v, size_t token_len)
{
	JwtErrorContext ctx = {0};

	ctx.alg = v ? v->alg : JOSE_ALG_UNSET;
	ctx.op = JOSE_OP_VERIFY;
	ctx.token_len = token_len;
	ctx.verified = v;
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_AUTHORIZATION_SPECIFICATION),
			 errmsg("invalid token"),
			 errdetail_internal("%s", jwt_token_detail(st, &ctx)),
			 errcontext("session token jwt.token")));
}

/*
 * The last good session token header (jose_header_memo): a backend's tokens
 * mostly come from one issuer and share it byte for byte.
 */
static jose_header_memo session_header_memo;

/* A string claim of the verified payload, decoded into the current context; NULL if it is none. */
static char *
claim_string(const jose_json_value *v, size_t *len)
{
	char	   *s;

	*len = 0;
	if (v->type != JOSE_JSON_STRING)
		return NULL;
	s = palloc(v->len + 1);
	*len = jose_json_string_decode(v, s);
	s[*len] = '\0';
	return s;
}

/* Verify the session token against the registry and the policy, into the cache. */
static void
claims_fill(const char *tok, size_t len, double now)
{
	jose_verify_opts opts;
	jose_verified v;
	unsigned char *buf;
	jose_status st;
	Datum		jb;
	MemoryContext old;
	JwtRoute	route;
	const jose_keyset *keys = jwt_registry.keys;
	jose_json_tape tape;		/* the claims as jsonb from the core's parse */
	bool		use_tape = GetDatabaseEncoding() == PG_UTF8;

	if (claims_context == NULL)
		claims_context = AllocSetContextCreate(TopMemoryContext, "jwt session claims",
											   ALLOCSET_SMALL_SIZES);
	claims_cache.valid = false;
	MemoryContextReset(claims_context);

	/* [issuers] a token naming a registered issuer is for its keys only */
	buf = len <= (size_t) jwt_max_token_length ? palloc(JOSE_VERIFY_BUFLEN(len)) : NULL;
	(void) jwt_issuer_route(tok, len, buf, buf ? JOSE_VERIFY_BUFLEN(len) : 0, &route);

	if (route.issuer == NULL && jwt_registry.nkeys == 0 && jwt_issuers_registered())
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_AUTHORIZATION_SPECIFICATION),
				 errmsg("invalid token"),
				 errdetail("The token's iss names no registered issuer, and the key registry jwt_keys holds no key."),
				 errhint("Compare the token's iss with jwt_issuers, where it must be an issuer or an alias exactly."),
				 errcontext("session token jwt.token")));
	if (route.issuer == NULL && jwt_registry.nkeys == 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_AUTHORIZATION_SPECIFICATION),
				 errmsg("invalid token"),
				 errdetail("The key registry jwt_keys holds no key."),
				 errhint("Add the issuer's key with jwt_add_key()."),
				 errcontext("session token jwt.token")));

	memset(&opts, 0, sizeof(opts));
	opts.max_len = (size_t) jwt_max_token_length;
	opts.algorithms = jwt_policy_algs;
	opts.stop = &jwt_stop;
	opts.header_memo = &session_header_memo;
	opts.jwt = 1;
	policy_rules(&opts.claims, now);
	opts.check_key_time = 1;
	opts.key_time = now;
	if (route.issuer != NULL)
		keys = jwt_issuer_verify_opts(&route, &opts);
	if (use_tape)
	{
		jose_json_tape_init(&tape);
		opts.tape = &tape;
	}

	st = jose_verify(tok, len, keys, &opts, buf,
					 buf ? JOSE_VERIFY_BUFLEN(len) : 0, &v);
	if (st != JOSE_OK)
	{
		if (use_tape)
			jose_json_tape_free(&tape);
		if (route.issuer != NULL)
			jwt_issuer_refuse(&route, st);
		if (jose_status_class_of(st) == JOSE_CLASS_TOKEN)
			report_token(st, &v, len);
		jwt_report(st, NULL);
	}

	if (use_tape)
		jb = JsonbPGetDatum(jwt_tape_to_jsonb(&tape));
	else
		jb = jwt_json_to_jsonb((const char *) v.payload, v.payload_len);
	old = MemoryContextSwitchTo(claims_context);
	claims_cache.token = palloc(len + 1);
	memcpy(claims_cache.token, tok, len);
	claims_cache.token[len] = '\0';
	claims_cache.token_len = len;
	claims_cache.payload = palloc(v.payload_len + 1);
	memcpy(claims_cache.payload, v.payload, v.payload_len);
	claims_cache.payload[v.payload_len] = '\0';
	claims_cache.payload_len = v.payload_len;
	claims_cache.claims = (Jsonb *) palloc(VARSIZE(DatumGetPointer(jb)));
	memcpy(claims_cache.claims, DatumGetPointer(jb), VARSIZE(DatumGetPointer(jb)));
	claims_cache.jti = claim_string(&v.jti, &claims_cache.jti_len);
	claims_cache.sid = claim_string(&v.sid, &claims_cache.sid_len);
	MemoryContextSwitchTo(old);
	pfree(buf);

	claims_cache.key = v.key;
	claims_cache.route = route;
	claims_cache.unverified = false;
	claims_cache.policy_gen = jwt_policy_generation;
	claims_cache.registry_gen = jwt_registry_generation;
	claims_cache.epoch++;
	claims_cache.valid = true;
}

/*
 * Whether the cached token is revoked now: its jti, or the login its sid
 * names, ended (jwt_logout*, a replay).
 */
static jose_status
claims_revoked(double now)
{
	/* mutation: session-revoked-jti: jwt_jti_revoked(claims_cache.jti, claims_cache.jti_len, now) => 0 */
	if (claims_cache.jti != NULL && jwt_registry.nrevoked > 0 &&
		jwt_jti_revoked(claims_cache.jti, claims_cache.jti_len, now))
		return JOSE_E_REVOKED;
	/* [lifecycle] a token of an ended login */
	/* mutation: session-ended-sid: jwt_sid_ended(claims_cache.sid, claims_cache.sid_len, now) => 0 */
	if (claims_cache.sid != NULL && jwt_registry.nended > 0 &&
		jwt_sid_ended(claims_cache.sid, claims_cache.sid_len, now))
		return JOSE_E_REVOKED;
	return JOSE_OK;
}

/* Refuse the cached token for st, a status of the token. */
static void
claims_refuse(jose_status st, const char *which)
{
	jose_verified v = {0};

	v.detail_claim = which;
	report_token(st, &v, claims_cache.token_len);
}

/*
 * The cached token again, at another time: the claim checks (exp, nbf, iat,
 * maximum age), its key's window and revocation, on the payload verified
 * before.
 */
static void
claims_recheck(double now)
{
	jose_json_object obj;
	jose_claim_rules rules;
	const char *which = NULL;
	jose_status st;

	if (jose_json_parse_object(claims_cache.payload, claims_cache.payload_len, &obj) != JOSE_JSON_OK)
		elog(ERROR, "jwt: cached session claims do not parse");
	policy_rules(&rules, now);
	if (claims_cache.route.issuer != NULL)
		jwt_issuer_rules(&claims_cache.route, &rules);
	/* mutation: session-recheck-claims: st = jose_check_claims(&obj, &rules, &which); => st = JOSE_OK; */
	st = jose_check_claims(&obj, &rules, &which);
	jose_json_object_free(&obj);
	/* a key retired at a set time stops verifying then, cached or not */
	/* mutation: session-recheck-key-window: if (st == JOSE_OK && claims_cache.key != NULL && => if (0 && claims_cache.key != NULL && */
	if (st == JOSE_OK && claims_cache.key != NULL &&
		!jose_key_is_valid_at(claims_cache.key, now))
		st = JOSE_E_KEY_NOT_VALID;
	if (st == JOSE_OK)
		st = claims_revoked(now);
	if (st != JOSE_OK)
		claims_refuse(st, which);
}

static int
cmp_names(const void *a, const void *b)
{
	return strcmp(*(const char *const *) a, *(const char *const *) b);
}

/*
 * PostGraphile's claims: every jwt.claims.NAME setting with a value, as
 * {"NAME": "value", ...} (names in order, values the strings they are), or
 * NULL when there is none.  Placeholders are the settings no module
 * defines; the server holds a few hundred settings in all.
 */
static char *
settings_claims_text(void)
{
	struct config_generic **vars;
	int			n,
				m = 0;
	const char **names;
	StringInfoData out;

	vars = jwt_guc_variables(&n);
	names = palloc(sizeof(char *) * (n + 1));
	for (int i = 0; i < n; i++)
	{
		const char *name = vars[i]->name;
		const char *value;

		if (!(vars[i]->flags & GUC_CUSTOM_PLACEHOLDER) ||
			pg_strncasecmp(name, "jwt.claims.", 11) != 0 || name[11] == '\0')
			continue;
		value = GetConfigOption(name, true, false);
		if (value != NULL && value[0] != '\0')
			names[m++] = name;
	}
	if (m == 0)
		return NULL;
	qsort(names, m, sizeof(char *), cmp_names);
	initStringInfo(&out);
	appendStringInfoChar(&out, '{');
	for (int i = 0; i < m; i++)
	{
		const char *value = GetConfigOption(names[i], true, false);

		if (i > 0)
			appendStringInfoChar(&out, ',');
		jwt_json_escape(&out, names[i] + 11, strlen(names[i] + 11));
		appendStringInfoChar(&out, ':');
		jwt_json_escape(&out, value, strlen(value));
	}
	appendStringInfoChar(&out, '}');
	return out.data;
}

/*
 * The unverified claims of a compatibility switch, when one is on: PostgREST's
 * request.jwt.claims (jwt.fallback_request_claims), else PostGraphile's
 * jwt.claims.* settings (jwt.fallback_claims_settings).
 */
static Jsonb *
fallback_claims(void)
{
	const char *raw = NULL;
	size_t		len;
	Datum		jb;
	MemoryContext old;

	if (jwt_policy_fallback)
	{
		raw = GetConfigOption("request.jwt.claims", true, false);
	}
	if ((raw == NULL || raw[0] == '\0') && jwt_policy_fallback_settings)
	{
		raw = settings_claims_text();	/* always an object */
	}
	if (raw == NULL || raw[0] == '\0')
		return NULL;
	len = strlen(raw);
	if (claims_cache.valid && claims_cache.unverified && claims_cache.token_len == len &&
		memcmp(claims_cache.token, raw, len) == 0)
		return claims_cache.claims;

	if (claims_context == NULL)
		claims_context = AllocSetContextCreate(TopMemoryContext, "jwt session claims",
											   ALLOCSET_SMALL_SIZES);
	claims_cache.valid = false;
	MemoryContextReset(claims_context);
	jb = DirectFunctionCall1(jsonb_in, CStringGetDatum(raw));
	if (JB_ROOT_IS_SCALAR(DatumGetJsonbP(jb)) || !JB_ROOT_IS_OBJECT(DatumGetJsonbP(jb)))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_AUTHORIZATION_SPECIFICATION),
				 errmsg("invalid token"),
				 errdetail("request.jwt.claims is not a JSON object."),
				 errcontext("fallback to request.jwt.claims")));
	old = MemoryContextSwitchTo(claims_context);
	claims_cache.token = pstrdup(raw);
	claims_cache.token_len = len;
	claims_cache.payload = NULL;
	claims_cache.payload_len = 0;
	claims_cache.jti = claims_cache.sid = NULL;
	claims_cache.jti_len = claims_cache.sid_len = 0;
	memset(&claims_cache.route, 0, sizeof(claims_cache.route));
	claims_cache.claims = (Jsonb *) palloc(VARSIZE(DatumGetPointer(jb)));
	memcpy(claims_cache.claims, DatumGetPointer(jb), VARSIZE(DatumGetPointer(jb)));
	MemoryContextSwitchTo(old);
	claims_cache.unverified = true;
	claims_cache.policy_gen = jwt_policy_generation;
	claims_cache.registry_gen = jwt_registry_generation;
	claims_cache.epoch++;
	claims_cache.valid = true;
	return claims_cache.claims;
}


/*
 * Whether nothing a stamped answer depends on has moved: the statement, the
 * token, the policy, the registry's keys and revocations, the cache entry.
 * The fallback reads a setting that is not ours, whose changes no hook tells
 * us of: with it on and no jwt.token, nothing stands.  The cheap tests come
 * first; the statement's start, a call into the server, comes last.
 */
static inline bool
stamp_stands(const JwtClaimsStamp *stamp)
{
	const char *tok = jwt_session_token;

	return stamp->token_gen == jwt_token_generation &&
		stamp->policy_gen == jwt_policy_generation &&
		stamp->registry_gen == jwt_registry_generation &&
		stamp->revocation_gen == jwt_revocation_generation &&
		stamp->epoch == claims_cache.epoch &&
		jwt_registry.valid && jwt_registry.revoked_valid &&
		!((jwt_policy_fallback || jwt_policy_fallback_settings) && (tok == NULL || tok[0] == '\0')) &&
	/* mutation: session-answer-of-statement: jwt_statement_is(&stamp->statement) => 1 */
		jwt_statement_is(&stamp->statement);
}

/* Whether a stamped answer stands: stamp_stands(), once there is one. */
static inline bool
stamp_current(const JwtClaimsStamp *stamp)
{
	return stamp->valid && stamp_stands(stamp) && (stamp->isnull || claims_cache.valid);
}

/* Stamp an answer as of now: the claims just checked, NULL or not. */
static void
stamp_now(JwtClaimsStamp *stamp, bool isnull)
{
	stamp->statement = jwt_statement_get();
	stamp->token_gen = jwt_token_generation;
	stamp->policy_gen = jwt_policy_generation;
	stamp->registry_gen = jwt_registry_generation;
	stamp->revocation_gen = jwt_revocation_generation;
	stamp->epoch = claims_cache.epoch;
	stamp->isnull = isnull;
	stamp->valid = true;
}

/*
 * The claims of the session token for this call, or NULL when no token is
 * set.  Raises 28000 when a token is set and is not valid now.
 */
static Jsonb *
session_claims(FunctionCallInfo fcinfo, ClaimsSite *site)
{
	const char *tok = jwt_session_token;
	Jsonb	   *result;
	size_t		len;
	double		now;

	/* the statement's answer, if nothing it depends on has moved */
	if (site != NULL && stamp_current(&site->stamp))
		return site->stamp.isnull ? NULL : claims_cache.claims;

	jwt_accept_invalidations();

	if (tok == NULL || tok[0] == '\0')
		result = fallback_claims();
	else
	{
		jwt_registry_ensure(fcinfo);
		now = jwt_timestamptz_to_unix(jwt_now());
		len = strlen(tok);
		if (claims_cache.valid && !claims_cache.unverified &&
			claims_cache.policy_gen == jwt_policy_generation &&
			claims_cache.registry_gen == jwt_registry_generation &&
			claims_cache.token_len == len && memcmp(claims_cache.token, tok, len) == 0)
			claims_recheck(now);
		else
		{
			jose_status st;

			/* verified now, as of now: what is left is revocation */
			claims_fill(tok, len, now);
			/* mutation: session-revoked-fresh: if ((st = claims_revoked(now)) != JOSE_OK) => if (0) */
			if ((st = claims_revoked(now)) != JOSE_OK)
				claims_refuse(st, NULL);
		}
		result = claims_cache.claims;
	}

	if (site != NULL)
	{
		stamp_now(&site->stamp, result == NULL);
		site->name_valid = false;
	}
	return result;
}

static ClaimsSite *
claims_site(FunctionCallInfo fcinfo)
{
	if (fcinfo->flinfo == NULL)
		return NULL;
	if (fcinfo->flinfo->fn_extra == NULL)
		fcinfo->flinfo->fn_extra = MemoryContextAllocZero(fcinfo->flinfo->fn_mcxt,
														  sizeof(ClaimsSite));
	return (ClaimsSite *) fcinfo->flinfo->fn_extra;
}

/*
 * The session token's verified claims, for jwt_logout() (logins.c), or NULL.
 * Never a compatibility switch's unverified claims: any client can set
 * jwt.claims.sid or request.jwt.claims, and jwt_logout() would end the login
 * they name, another user's.
 */
Jsonb *
jwt_session_claims(FunctionCallInfo fcinfo)
{
	if (jwt_session_token == NULL || jwt_session_token[0] == '\0')
		return NULL;
	return session_claims(fcinfo, NULL);
}

/*
 * [issuers] Whether the claims jwt_session_claims() just gave are of a token
 * a registered issuer's key verified, not the registry's (logins.c: such a
 * token names no login of ours, whatever its "sid").
 */
bool
jwt_session_from_issuer(void)
{
	return claims_cache.valid && !claims_cache.unverified && claims_cache.route.issuer != NULL;
}

/*
 * The session's claims, for a call site in another file that derives its
 * own answer from them (scopes.c), and the stamp that says while that
 * answer stands: what a ClaimsSite keeps for the statement.
 */
Jsonb *
jwt_session_claims_stamped(FunctionCallInfo fcinfo, JwtClaimsStamp *stamp)
{
	Jsonb	   *claims = session_claims(fcinfo, NULL);

	stamp_now(stamp, claims == NULL);
	return claims;
}

/* Whether the claims are still those stamped: session_claims()'s own test. */
bool
jwt_claims_stamp_current(const JwtClaimsStamp *stamp)
{
	return stamp_current(stamp);
}

PG_FUNCTION_INFO_V1(jwt_claims);
PG_FUNCTION_INFO_V1(jwt_claim);

/* jwt_claims() when the site has no lent copy that stands */
static pg_noinline Datum
claims_answer(FunctionCallInfo fcinfo)
{
	ClaimsSite *site = claims_site(fcinfo);
	Jsonb	   *claims = session_claims(fcinfo, site);
	Jsonb	   *copy;

	if (claims == NULL)
		PG_RETURN_NULL();

	/*
	 * The cache entry of one epoch never changes, but a new token refills
	 * it: the site lends a copy of its own, made when the statement asks
	 * for the same claims a second time (a policy on every row), so that a
	 * token set on every row costs no more than before.
	 */
	if (site != NULL && site->claims != NULL && site->claims_epoch == claims_cache.epoch)
		PG_RETURN_JSONB_P(site->claims);
	if (site != NULL && site->asked_epoch == claims_cache.epoch && site->nkept < SITE_MAX_KEPT)
	{
		/* the previous lent copy stays: a row of this query may hold it */
		if (site->claims != NULL)
			site->nkept++;
		site->claims = MemoryContextAlloc(fcinfo->flinfo->fn_mcxt, VARSIZE(claims));
		memcpy(site->claims, claims, VARSIZE(claims));
		site->claims_epoch = claims_cache.epoch;
		PG_RETURN_JSONB_P(site->claims);
	}
	if (site != NULL)
		site->asked_epoch = claims_cache.epoch;
	copy = palloc(VARSIZE(claims));
	memcpy(copy, claims, VARSIZE(claims));
	PG_RETURN_JSONB_P(copy);
}

/*
 * jwt_claims(): a policy's call on every row finds its site's lent copy of
 * this statement's claims, with nothing else to do; anything else is
 * claims_answer()'s.
 */
Datum
jwt_claims(PG_FUNCTION_ARGS)
{
	ClaimsSite *site = fcinfo->flinfo != NULL ? (ClaimsSite *) fcinfo->flinfo->fn_extra : NULL;

	if (site != NULL && site->claims != NULL && site->claims_epoch == claims_cache.epoch &&
		!site->stamp.isnull && stamp_current(&site->stamp))
		PG_RETURN_JSONB_P(site->claims);
	return claims_answer(fcinfo);
}

/* A claim as text, as ->> gives it: a string's value, other JSON as text. */
static text *
claim_text(Jsonb *claims, text *name, bool *isnull)
{
	JsonbValue	key;
	JsonbValue *v;

	key.type = jbvString;
	key.val.string.val = VARDATA_ANY(name);
	key.val.string.len = VARSIZE_ANY_EXHDR(name);
	v = findJsonbValueFromContainer(&claims->root, JB_FOBJECT, &key);
	*isnull = false;
	if (v == NULL || v->type == jbvNull)
	{
		*isnull = true;
		return NULL;
	}
	switch (v->type)
	{
		case jbvString:
			return cstring_to_text_with_len(v->val.string.val, v->val.string.len);
		case jbvBool:
			return cstring_to_text(v->val.boolean ? "true" : "false");
		case jbvNumeric:
			return cstring_to_text(DatumGetCString(DirectFunctionCall1(numeric_out,
																	   NumericGetDatum(v->val.numeric))));
		case jbvBinary:
			return cstring_to_text(JsonbToCString(NULL, v->val.binary.data, v->val.binary.len));
		default:
			elog(ERROR, "unexpected jsonb type %d", (int) v->type);
	}
	return NULL;
}

/* Whether argument argnum of the call is a Const: the same datum on every call. */
static bool
arg_is_const(FmgrInfo *flinfo, int argnum)
{
	List	   *args;

	if (flinfo == NULL || flinfo->fn_expr == NULL || !IsA(flinfo->fn_expr, FuncExpr))
		return false;
	args = ((FuncExpr *) flinfo->fn_expr)->args;
	return argnum < list_length(args) && IsA(list_nth(args, argnum), Const);
}

/*
 * Whether the name asked for is the one the site's answer is for.  A name
 * that is a constant of the call (a policy's jwt_claim('sub')) is the same
 * datum, never changed, on every call: its address says it is the same.
 */
static inline bool
site_same_name(const ClaimsSite *site, Datum arg)
{
	text	   *name;

	if (site->name_const && arg == site->name_datum)
		return true;
	name = (text *) PG_DETOAST_DATUM_PACKED(arg);
	return VARSIZE_ANY_EXHDR(site->name) == VARSIZE_ANY_EXHDR(name) &&
		memcmp(VARDATA_ANY(site->name), VARDATA_ANY(name), VARSIZE_ANY_EXHDR(name)) == 0;
}

/* jwt_claim() when the site's answer is not one to hand out as it is */
static pg_noinline Datum
claim_answer(FunctionCallInfo fcinfo)
{
	ClaimsSite *site;
	text	   *name;
	Jsonb	   *claims;
	text	   *value;
	bool		isnull;
	text	   *copy;

	if (PG_ARGISNULL(0))
		PG_RETURN_NULL();
	site = claims_site(fcinfo);

	/* this statement asked this call site for this name already */
	if (site != NULL && site->name_valid && stamp_current(&site->stamp) &&
		site_same_name(site, PG_GETARG_DATUM(0)))
	{
		if (site->value == NULL)
			PG_RETURN_NULL();
		if (site->value_lent || site->nkept < SITE_MAX_KEPT)
		{
			site->value_lent = true;
			PG_RETURN_TEXT_P(site->value);
		}
		copy = palloc(VARSIZE(site->value));
		memcpy(copy, site->value, VARSIZE(site->value));
		PG_RETURN_TEXT_P(copy);
	}

	name = PG_GETARG_TEXT_PP(0);
	claims = session_claims(fcinfo, site);
	if (claims == NULL)
		PG_RETURN_NULL();
	value = claim_text(claims, name, &isnull);

	if (site != NULL)
	{
		MemoryContext old = MemoryContextSwitchTo(fcinfo->flinfo->fn_mcxt);

		/*
		 * The previous answer's memory goes first, a site lives for the
		 * query; but once lent, an answer stays until the query ends.  The
		 * site has no answer until the new one is in place: an error in
		 * between (out of memory, caught in PL/pgSQL) leaves none freed.
		 */
		site->name_valid = false;
		if (site->name != NULL)
			pfree(site->name);
		if (site->value != NULL && !site->value_lent)
			pfree(site->value);
		else if (site->value != NULL)
			site->nkept++;
		site->value_lent = false;
		site->name = (text *) palloc(VARSIZE_ANY(name));
		memcpy(site->name, name, VARSIZE_ANY(name));
		site->name_datum = PG_GETARG_DATUM(0);
		site->name_const = arg_is_const(fcinfo->flinfo, 0);
		site->value = isnull ? NULL : (text *) palloc(VARSIZE(value));
		if (!isnull)
			memcpy(site->value, value, VARSIZE(value));
		site->name_valid = true;
		MemoryContextSwitchTo(old);
	}
	if (isnull)
		PG_RETURN_NULL();
	PG_RETURN_TEXT_P(value);
}

/*
 * jwt_claim(): a policy's jwt_claim('sub') on every row, once the statement
 * has asked for it and been lent the answer, finds it with nothing else to
 * do: the same constant name, an answer that is not NULL and already lent,
 * a stamp that stands.  Anything else is claim_answer()'s.
 */
Datum
jwt_claim(PG_FUNCTION_ARGS)
{
	ClaimsSite *site = fcinfo->flinfo != NULL ? (ClaimsSite *) fcinfo->flinfo->fn_extra : NULL;

	if (site != NULL && !PG_ARGISNULL(0) && site->name_valid && site->name_const &&
		PG_GETARG_DATUM(0) == site->name_datum && site->value != NULL && site->value_lent &&
	/* mutation: session-lent-claim-stands: stamp_current(&site->stamp)) => 1) */
		stamp_current(&site->stamp))
		PG_RETURN_TEXT_P(site->value);
	return claim_answer(fcinfo);
}
