/*
 * session.c
 *		Session tokens for row-level security: jwt.token, jwt_claims(),
 *		jwt_claim(), the policy settings, and the key registry as the session
 *		sees it.
 *
 * A client sets jwt.token per transaction; a policy calls jwt_claim('sub') on
 * every row.  That only works if a call costs about what reading a setting
 * costs, so there are two caches:
 *
 *	- per backend: the registry (parsed keys, revoked jti values), dropped by
 *	  a relcache invalidation that the registry's triggers send, so a change
 *	  in any session reaches every session, replicas included; and the last
 *	  verified token, its claims and payload, keyed by its exact text;
 *	- per call site (fn_extra): the answer for this statement, valid while the
 *	  token, the policy settings and the registry are unchanged (each has a
 *	  generation counter that its setting's assign hook or the invalidation
 *	  bumps).
 *
 * "Now" is the statement's start, so a call site re-checks the time claims
 * and revocation once per statement, which is every time the answer could
 * change.  Nothing here writes: it works the same in parallel workers and on
 * a hot standby.
 */
#include "postgres.h"

#include "access/table.h"
#include "access/tableam.h"
#include "access/xact.h"
#include "catalog/namespace.h"
#include "commands/trigger.h"
#include "common/hashfn.h"
#include "executor/spi.h"
#include "executor/tuptable.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/inval.h"
#include "utils/jsonb.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/rel.h"
#include "utils/snapmgr.h"
#include "utils/timestamp.h"

#include "jwt.h"

/* ---------------------------------------------------------------------
 * Settings
 * --------------------------------------------------------------------- */

static char *session_token = NULL;
static char *policy_audience = NULL;
static char *policy_issuer = NULL;
static int	policy_leeway = 0;
static char *policy_algorithms_text = NULL;
static char *policy_required_text = NULL;
static int	policy_max_age = 0;
static bool policy_fallback = false;

/* parsed forms, from the check hooks' "extra" */
static jose_algset policy_algs = 0;

typedef struct RequiredClaims
{
	int			n;
	const char *names[FLEXIBLE_ARRAY_MEMBER];
} RequiredClaims;

static RequiredClaims *policy_required = NULL;

/* generations: a call site's answer stands while none of these moves */
static uint64 token_generation = 1;
static uint64 policy_generation = 1;
static uint64 registry_generation = 1;

static void
assign_token(const char *newval, void *extra)
{
	token_generation++;
}

static void
assign_policy_string(const char *newval, void *extra)
{
	policy_generation++;
}

static void
assign_policy_int(int newval, void *extra)
{
	policy_generation++;
}

static void
assign_policy_bool(bool newval, void *extra)
{
	policy_generation++;
}

/* A check hook's "extra": malloc'd up to 15, from the GUC context from 16 on. */
static void *
guc_extra_alloc(size_t size)
{
#if PG_VERSION_NUM >= 160000
	return guc_malloc(LOG, size);
#else
	return malloc(size);
#endif
}

/* Split a comma-separated list, trimming spaces; returns the item count. */
static int
split_list(char *s, char **items, int max)
{
	int			n = 0;

	while (*s)
	{
		char	   *start,
				   *end;

		while (*s == ' ' || *s == '\t')
			s++;
		start = s;
		while (*s && *s != ',')
			s++;
		end = s;
		while (end > start && (end[-1] == ' ' || end[-1] == '\t'))
			end--;
		if (*s == ',')
			s++;
		if (end == start)
			continue;
		*end = '\0';
		if (n < max)
			items[n] = start;
		n++;
	}
	return n;
}

static bool
check_algorithms(char **newval, void **extra, GucSource source)
{
	char	   *copy = pstrdup(*newval ? *newval : "");
	char	   *items[64];
	int			n = split_list(copy, items, 64);
	jose_algset set = 0;
	jose_algset *result;

	for (int i = 0; i < n && i < 64; i++)
	{
		jose_alg	alg = jose_alg_from_name(items[i], strlen(items[i]));

		if (alg == JOSE_ALG_UNSET)
		{
			GUC_check_errdetail("\"%s\" is not a JWS algorithm%s.", items[i],
								jose_alg_is_none(items[i], strlen(items[i])) ? " (\"none\" is never allowed)" : "");
			GUC_check_errhint("List algorithm names, e.g. 'RS256, ES256'; leave empty to allow every algorithm the registry's keys can do.");
			pfree(copy);
			return false;
		}
		set |= JOSE_ALGBIT(alg);
	}
	pfree(copy);
	result = guc_extra_alloc(sizeof(jose_algset));
	if (result == NULL)
		return false;
	*result = set;
	*extra = result;
	return true;
}

static void
assign_algorithms(const char *newval, void *extra)
{
	policy_algs = extra ? *(jose_algset *) extra : 0;
	policy_generation++;
}

static bool
check_required(char **newval, void **extra, GucSource source)
{
	char	   *copy = pstrdup(*newval ? *newval : "");
	char	   *items[64];
	int			n = split_list(copy, items, 64);
	size_t		bytes;
	RequiredClaims *rc;
	char	   *p;

	if (n > 64)
	{
		GUC_check_errdetail("At most 64 claims can be required.");
		pfree(copy);
		return false;
	}
	bytes = offsetof(RequiredClaims, names) + n * sizeof(char *);
	for (int i = 0; i < n; i++)
		bytes += strlen(items[i]) + 1;
	rc = guc_extra_alloc(bytes);
	if (rc == NULL)
	{
		pfree(copy);
		return false;
	}
	rc->n = n;
	p = (char *) rc + offsetof(RequiredClaims, names) + n * sizeof(char *);
	for (int i = 0; i < n; i++)
	{
		strcpy(p, items[i]);
		rc->names[i] = p;
		p += strlen(items[i]) + 1;
	}
	pfree(copy);
	*extra = rc;
	return true;
}

static void
assign_required(const char *newval, void *extra)
{
	policy_required = (RequiredClaims *) extra;
	policy_generation++;
}

void
jwt_session_define_settings(void)
{
	DefineCustomStringVariable("jwt.token",
							   "The session's bearer token, read by jwt_claims().",
							   "Set it per transaction: SET LOCAL jwt.token = '...' or set_config('jwt.token', $1, true).",
							   &session_token,
							   "",
							   PGC_USERSET,
							   GUC_NO_SHOW_ALL | GUC_NOT_IN_SAMPLE,
							   NULL, assign_token, NULL);
	DefineCustomStringVariable("jwt.audience",
							   "Audience that session tokens must name in \"aud\".",
							   "Empty: no audience is expected, and tokens that name one are refused.",
							   &policy_audience,
							   "",
							   PGC_SUSET,
							   0,
							   NULL, assign_policy_string, NULL);
	DefineCustomStringVariable("jwt.issuer",
							   "Issuer that session tokens must have in \"iss\".",
							   "Empty: any issuer.",
							   &policy_issuer,
							   "",
							   PGC_SUSET,
							   0,
							   NULL, assign_policy_string, NULL);
	DefineCustomIntVariable("jwt.leeway",
							"Seconds of clock skew allowed for exp, nbf and iat of session tokens.",
							"Valid range is 0 to 3600 seconds.",
							&policy_leeway,
							0, 0, 3600,
							PGC_SUSET,
							GUC_UNIT_S,
							NULL, assign_policy_int, NULL);
	DefineCustomStringVariable("jwt.algorithms",
							   "Algorithms allowed for session tokens, comma-separated.",
							   "Empty: every algorithm the registry's keys can do.",
							   &policy_algorithms_text,
							   "",
							   PGC_SUSET,
							   0,
							   check_algorithms, assign_algorithms, NULL);
	DefineCustomStringVariable("jwt.required_claims",
							   "Claims that session tokens must carry, comma-separated.",
							   "Default: exp, so that no session token is valid forever.",
							   &policy_required_text,
							   "exp",
							   PGC_SUSET,
							   0,
							   check_required, assign_required, NULL);
	DefineCustomIntVariable("jwt.max_age",
							"Longest time since \"iat\" that a session token is accepted, in seconds.",
							"0 means no limit; otherwise tokens must carry iat. Valid range is 0 to 31536000 seconds.",
							&policy_max_age,
							0, 0, 31536000,
							PGC_SUSET,
							GUC_UNIT_S,
							NULL, assign_policy_int, NULL);
	DefineCustomBoolVariable("jwt.fallback_request_claims",
							 "Without jwt.token, return request.jwt.claims UNVERIFIED from jwt_claims().",
							 "A compatibility switch for PostgREST setups: any client that connects directly can set request.jwt.claims, so this trusts it.",
							 &policy_fallback,
							 false,
							 PGC_SUSET,
							 0,
							 NULL, assign_policy_bool, NULL);
}

/* ---------------------------------------------------------------------
 * The registry, as this backend sees it
 * --------------------------------------------------------------------- */

typedef struct RevokedJti
{
	uint64		hash;
	double		until;			/* expires_at, seconds since the epoch */
} RevokedJti;

typedef struct Registry
{
	bool		valid;
	TimestampTz loaded_for_stmt;	/* != 0: loaded in parallel mode, for one statement */
	Oid			keys_relid;
	Oid			revocations_relid;
	jose_keyset *keys;			/* NULL when the table is empty */
	int			nkeys;
	RevokedJti *revoked;		/* sorted by hash, in registry_context */
	int			nrevoked;
} Registry;

static Registry registry = {0};
static MemoryContext registry_context = NULL;

static double
timestamptz_to_unix(TimestampTz ts)
{
	if (TIMESTAMP_IS_NOBEGIN(ts))
		return -1e300;
	if (TIMESTAMP_IS_NOEND(ts))
		return 1e300;
	return (double) ts / USECS_PER_SEC +
		(double) (POSTGRES_EPOCH_JDATE - UNIX_EPOCH_JDATE) * SECS_PER_DAY;
}

static uint64
jti_hash(const char *jti, size_t len)
{
	return DatumGetUInt64(hash_bytes_extended((const unsigned char *) jti, (int) len, 0x6a7469));
}

static void
registry_invalidate(Datum arg, Oid relid)
{
	/* never free here: an invalidation can arrive while the keys are in use */
	if (relid == InvalidOid || relid == registry.keys_relid ||
		relid == registry.revocations_relid)
		registry.valid = false;
}

void
jwt_session_register_callbacks(void)
{
	CacheRegisterRelcacheCallback(registry_invalidate, (Datum) 0);
}

static Oid
registry_relid(Oid nsp, const char *name)
{
	Oid			relid = get_relname_relid(name, nsp);

	if (!OidIsValid(relid))
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_TABLE),
				 errmsg("the jwt key registry table \"%s\" does not exist", name),
				 errhint("Create the extension in this database: CREATE EXTENSION jwt.")));
	return relid;
}

static int
cmp_revoked(const void *a, const void *b)
{
	uint64		x = ((const RevokedJti *) a)->hash,
				y = ((const RevokedJti *) b)->hash;

	return (x > y) - (x < y);
}

/* Read one registry row's key into the set; a row that no longer imports is skipped. */
static bool
registry_add_key(jose_keyset *keys, Datum kid_d, Datum key_d, Datum alg_d,
				 Datum from_d, bool until_null, Datum until_d)
{
	text	   *kid = DatumGetTextPP(kid_d);
	text	   *key = DatumGetTextPP(key_d);
	text	   *alg_t = DatumGetTextPP(alg_d);
	jose_alg	alg = jose_alg_from_name(VARDATA_ANY(alg_t), VARSIZE_ANY_EXHDR(alg_t));
	jose_keyset *one = NULL;
	jose_status st;

	st = jose_keyset_import(VARDATA_ANY(key), VARSIZE_ANY_EXHDR(key), JOSE_KEY_TEXT, &one);
	if (st == JOSE_OK && (alg == JOSE_ALG_UNSET || jose_keyset_is_set(one)))
		st = JOSE_E_KEY_FORMAT;
	if (st == JOSE_OK)
	{
		jose_key   *k = (jose_key *) jose_keyset_key(one, 0);

		jose_key_restrict(k, alg, timestamptz_to_unix(DatumGetTimestampTz(from_d)),
						  until_null ? 0 : timestamptz_to_unix(DatumGetTimestampTz(until_d)));
		st = jose_key_set_kid(k, VARDATA_ANY(kid), VARSIZE_ANY_EXHDR(kid));
	}
	if (st == JOSE_OK)
	{
		st = jose_keyset_adopt(keys, one);
		one = NULL;
	}
	jose_keyset_free(one);
	/* wipe a detoasted copy; never the tuple itself, which is in a shared buffer */
	if ((Pointer) key != DatumGetPointer(key_d))
		jose_cleanse(VARDATA_ANY(key), VARSIZE_ANY_EXHDR(key));
	if (st == JOSE_E_NOMEM)
		ereport(ERROR, (errcode(ERRCODE_OUT_OF_MEMORY), errmsg("out of memory")));
	if (st != JOSE_OK)
		ereport(WARNING,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("jwt key registry: the key \"%s\" is skipped", text_to_cstring(kid)),
				 errdetail("%s", jose_status_detail(st))));
	return st == JOSE_OK;
}

static void
registry_scan(Relation rel, Snapshot snap, jose_keyset *keys, bool is_keys)
{
	TupleDesc	desc = RelationGetDescr(rel);
	TupleTableSlot *slot = table_slot_create(rel, NULL);
	TableScanDesc scan = table_beginscan(rel, snap, 0, NULL);
	List	   *revoked = NIL;

	while (table_scan_getnextslot(scan, ForwardScanDirection, slot))
	{
		bool		isnull[8];
		Datum		v[8];

		slot_getallattrs(slot);
		for (int i = 0; i < desc->natts && i < 8; i++)
		{
			v[i] = slot->tts_values[i];
			isnull[i] = slot->tts_isnull[i];
		}
		if (is_keys)
		{
			/* kid, key, algorithm, valid_from, valid_until, ... */
			if (isnull[0] || isnull[1] || isnull[2] || isnull[3])
				continue;
			if (registry_add_key(keys, v[0], v[1], v[2], v[3], isnull[4], v[4]))
				registry.nkeys++;
		}
		else
		{
			/* jti, expires_at, ... */
			RevokedJti *r;
			text	   *jti;

			if (isnull[0] || isnull[1])
				continue;
			jti = DatumGetTextPP(v[0]);
			r = MemoryContextAlloc(registry_context, sizeof(RevokedJti));
			r->hash = jti_hash(VARDATA_ANY(jti), VARSIZE_ANY_EXHDR(jti));
			r->until = timestamptz_to_unix(DatumGetTimestampTz(v[1]));
			revoked = lappend(revoked, r);
		}
	}
	table_endscan(scan);
	ExecDropSingleTupleTableSlot(slot);

	if (!is_keys)
	{
		ListCell   *lc;
		int			i = 0;

		registry.nrevoked = list_length(revoked);
		registry.revoked = registry.nrevoked > 0 ?
			MemoryContextAlloc(registry_context, registry.nrevoked * sizeof(RevokedJti)) : NULL;
		foreach(lc, revoked)
			registry.revoked[i++] = *(RevokedJti *) lfirst(lc);
		if (registry.nrevoked > 1)
			qsort(registry.revoked, registry.nrevoked, sizeof(RevokedJti), cmp_revoked);
	}
}

/*
 * Load the registry from the schema nsp, where the calling function (and so
 * the extension) lives: a direct scan of the extension's own tables, so no
 * privilege of the caller is involved (the tables are closed to PUBLIC).
 * Outside parallel mode the scan uses a fresh snapshot, so that what is
 * cached is what is committed, not what this transaction's snapshot saw.
 */
static void
registry_load(Oid nsp)
{
	jose_keyset *keys;
	Snapshot	snap;
	volatile bool registered = false;
	Relation	rel;

	if (registry_context == NULL)
		registry_context = AllocSetContextCreate(TopMemoryContext, "jwt registry",
												 ALLOCSET_SMALL_SIZES);
	jose_keyset_free(registry.keys);
	registry.keys = NULL;
	registry.nkeys = 0;
	registry.revoked = NULL;
	registry.nrevoked = 0;
	MemoryContextReset(registry_context);

	registry.keys_relid = registry_relid(nsp, "jwt_keys");
	registry.revocations_relid = registry_relid(nsp, "jwt_revocations");
	/* from here on, a change to either table marks the registry stale */
	registry.valid = true;

	if (IsInParallelMode())
	{
		snap = GetActiveSnapshot();
		registry.loaded_for_stmt = GetCurrentStatementStartTimestamp();
	}
	else
	{
		snap = RegisterSnapshot(GetLatestSnapshot());
		registered = true;
		registry.loaded_for_stmt = 0;
	}

	keys = jose_keyset_new();
	if (keys == NULL)
		ereport(ERROR, (errcode(ERRCODE_OUT_OF_MEMORY), errmsg("out of memory")));
	PG_TRY();
	{
		rel = table_open(registry.keys_relid, AccessShareLock);
		registry_scan(rel, snap, keys, true);
		table_close(rel, AccessShareLock);
		rel = table_open(registry.revocations_relid, AccessShareLock);
		registry_scan(rel, snap, NULL, false);
		table_close(rel, AccessShareLock);
	}
	PG_CATCH();
	{
		jose_keyset_free(keys);
		registry.valid = false;
		PG_RE_THROW();
	}
	PG_END_TRY();
	if (registered)
		UnregisterSnapshot(snap);

	if (jose_keyset_index(keys) != JOSE_OK)
	{
		jose_keyset_free(keys);
		registry.valid = false;
		ereport(ERROR, (errcode(ERRCODE_OUT_OF_MEMORY), errmsg("out of memory")));
	}
	registry.keys = keys;
	registry_generation++;
}

static void
registry_ensure(FunctionCallInfo fcinfo)
{
	if (!registry.valid ||
		(registry.loaded_for_stmt != 0 &&
		 (!IsInParallelMode() ||
		  registry.loaded_for_stmt != GetCurrentStatementStartTimestamp())))
	{
		if (fcinfo->flinfo == NULL)
			elog(ERROR, "jwt: session functions need their call context");
		registry_load(get_func_namespace(fcinfo->flinfo->fn_oid));
	}
}

static bool
jti_revoked(const char *jti, size_t len, double now)
{
	uint64		h = jti_hash(jti, len);
	int			lo = 0,
				hi = registry.nrevoked - 1;
	double		leeway = policy_leeway;

	while (lo <= hi)
	{
		int			mid = lo + (hi - lo) / 2;

		if (registry.revoked[mid].hash < h)
			lo = mid + 1;
		else if (registry.revoked[mid].hash > h)
			hi = mid - 1;
		else
		{
			/* equal hashes may repeat: look at each */
			int			i = mid;

			while (i > 0 && registry.revoked[i - 1].hash == h)
				i--;
			for (; i < registry.nrevoked && registry.revoked[i].hash == h; i++)
				if (now < registry.revoked[i].until + leeway)
					return true;
			return false;
		}
	}
	return false;
}

/* ---------------------------------------------------------------------
 * The session token's claims
 * --------------------------------------------------------------------- */

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
	const jose_key *key;		/* the registry key that verified it */
	bool		unverified;		/* from request.jwt.claims */
} ClaimsCache;

static ClaimsCache claims_cache = {0};
static TimestampTz last_inval_stmt = 0;
static MemoryContext claims_context = NULL;

/* What a call site remembers for the statement. */
typedef struct ClaimsSite
{
	uint64		token_gen;
	uint64		policy_gen;
	uint64		registry_gen;
	uint64		epoch;
	TimestampTz stmt;
	bool		isnull;
	/* jwt_claim() only: the name asked for and its answer, reused */
	bool		name_valid;
	text	   *name;
	text	   *value;
} ClaimsSite;

static void
policy_rules(jose_claim_rules *rules, double now)
{
	memset(rules, 0, sizeof(*rules));
	rules->now = now;
	rules->leeway = policy_leeway;
	if (policy_audience && policy_audience[0])
	{
		rules->audience = policy_audience;
		rules->audience_len = strlen(policy_audience);
	}
	if (policy_issuer && policy_issuer[0])
	{
		rules->issuer = policy_issuer;
		rules->issuer_len = strlen(policy_issuer);
	}
	if (policy_required)
	{
		rules->required = policy_required->names;
		rules->nrequired = policy_required->n;
	}
	rules->max_age = policy_max_age;
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

	if (claims_context == NULL)
		claims_context = AllocSetContextCreate(TopMemoryContext, "jwt session claims",
											   ALLOCSET_SMALL_SIZES);
	claims_cache.valid = false;
	MemoryContextReset(claims_context);

	if (registry.nkeys == 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_AUTHORIZATION_SPECIFICATION),
				 errmsg("invalid token"),
				 errdetail("The key registry jwt_keys holds no key."),
				 errhint("Add the issuer's key with jwt_add_key()."),
				 errcontext("session token jwt.token")));

	memset(&opts, 0, sizeof(opts));
	opts.max_len = (size_t) jwt_max_token_length;
	opts.algorithms = policy_algs;
	opts.jwt = 1;
	policy_rules(&opts.claims, now);
	opts.key_time = now;

	buf = len <= opts.max_len ? palloc(JOSE_VERIFY_BUFLEN(len)) : NULL;
	st = jose_verify(tok, len, registry.keys, &opts, buf,
					 buf ? JOSE_VERIFY_BUFLEN(len) : 0, &v);
	if (st != JOSE_OK)
	{
		if (jose_status_class_of(st) == JOSE_CLASS_TOKEN)
			report_token(st, &v, len);
		jwt_report(st, NULL);
	}

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
	MemoryContextSwitchTo(old);
	pfree(buf);

	claims_cache.key = v.key;
	claims_cache.unverified = false;
	claims_cache.policy_gen = policy_generation;
	claims_cache.registry_gen = registry_generation;
	claims_cache.epoch++;
	claims_cache.valid = true;
}

/*
 * The cached token again, at another time: the claim checks (exp, nbf, iat,
 * maximum age) and revocation, on the payload verified before.
 */
static void
claims_recheck(double now)
{
	jose_json_object obj;
	jose_claim_rules rules;
	jose_verified v = {0};
	const char *which = NULL;
	const jose_json_value *jti;
	jose_status st;

	if (jose_json_parse_object(claims_cache.payload, claims_cache.payload_len, &obj) != JOSE_JSON_OK)
		elog(ERROR, "jwt: cached session claims do not parse");
	policy_rules(&rules, now);
	st = jose_check_claims(&obj, &rules, &which);
	/* a key retired at a set time stops verifying then, cached or not */
	if (st == JOSE_OK && claims_cache.key != NULL &&
		!jose_key_is_valid_at(claims_cache.key, now))
		st = JOSE_E_KEY_NOT_VALID;
	if (st == JOSE_OK && registry.nrevoked > 0 &&
		(jti = jose_json_get(&obj, "jti")) != NULL && jti->type == JOSE_JSON_STRING)
	{
		char	   *s = palloc(jti->len + 1);
		size_t		n = jose_json_string_decode(jti, s);

		if (jti_revoked(s, n, now))
			st = JOSE_E_REVOKED;
		pfree(s);
	}
	jose_json_object_free(&obj);
	if (st != JOSE_OK)
	{
		v.detail_claim = which;
		report_token(st, &v, claims_cache.token_len);
	}
}

/* The unverified request.jwt.claims of a PostgREST request, when allowed. */
static Jsonb *
fallback_claims(void)
{
	const char *raw;
	size_t		len;
	Datum		jb;
	MemoryContext old;

	if (!policy_fallback)
		return NULL;
	raw = GetConfigOption("request.jwt.claims", true, false);
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
	claims_cache.claims = (Jsonb *) palloc(VARSIZE(DatumGetPointer(jb)));
	memcpy(claims_cache.claims, DatumGetPointer(jb), VARSIZE(DatumGetPointer(jb)));
	MemoryContextSwitchTo(old);
	claims_cache.unverified = true;
	claims_cache.policy_gen = policy_generation;
	claims_cache.registry_gen = registry_generation;
	claims_cache.epoch++;
	claims_cache.valid = true;
	return claims_cache.claims;
}

/*
 * A new statement: take in the invalidations other sessions committed.  A
 * backend inside a transaction reads them only when it takes a new lock, and
 * a cached registry takes none, so without this a key retired or a jti
 * revoked elsewhere would go unseen until the transaction ends.
 */
static void
accept_invalidations(TimestampTz stmt)
{
	if (stmt != last_inval_stmt)
	{
		AcceptInvalidationMessages();
		last_inval_stmt = stmt;
	}
}

/*
 * The claims of the session token for this call, or NULL when no token is
 * set.  Raises 28000 when a token is set and is not valid now.
 */
static Jsonb *
session_claims(FunctionCallInfo fcinfo, ClaimsSite *site)
{
	const char *tok = session_token;
	TimestampTz stmt = GetCurrentStatementStartTimestamp();
	Jsonb	   *result;
	size_t		len;
	double		now;

	/*
	 * The statement's answer, if nothing it depends on has moved.  The
	 * fallback reads a setting that is not ours, whose changes no hook
	 * tells us of: it is compared afresh on every call.
	 */
	if (site != NULL && site->stmt == stmt && site->token_gen == token_generation &&
		!(policy_fallback && (tok == NULL || tok[0] == '\0')) &&
		site->policy_gen == policy_generation && registry.valid &&
		site->registry_gen == registry_generation && site->epoch == claims_cache.epoch &&
		(site->isnull || claims_cache.valid))
		return site->isnull ? NULL : claims_cache.claims;

	accept_invalidations(stmt);

	if (tok == NULL || tok[0] == '\0')
		result = fallback_claims();
	else
	{
		registry_ensure(fcinfo);
		now = timestamptz_to_unix(stmt);
		len = strlen(tok);
		if (claims_cache.valid && !claims_cache.unverified &&
			claims_cache.policy_gen == policy_generation &&
			claims_cache.registry_gen == registry_generation &&
			claims_cache.token_len == len && memcmp(claims_cache.token, tok, len) == 0)
			claims_recheck(now);
		else
		{
			claims_fill(tok, len, now);
			claims_recheck(now);	/* revocation */
		}
		result = claims_cache.claims;
	}

	if (site != NULL)
	{
		site->stmt = stmt;
		site->token_gen = token_generation;
		site->policy_gen = policy_generation;
		site->registry_gen = registry_generation;
		site->epoch = claims_cache.epoch;
		site->isnull = result == NULL;
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

PG_FUNCTION_INFO_V1(jwt_claims);
PG_FUNCTION_INFO_V1(jwt_claim);
PG_FUNCTION_INFO_V1(jwt_registry_changed);
PG_FUNCTION_INFO_V1(jwt_issue);
PG_FUNCTION_INFO_V1(jwt_jwks);
PG_FUNCTION_INFO_V1(jwt_keys_check);

Datum
jwt_claims(PG_FUNCTION_ARGS)
{
	Jsonb	   *claims = session_claims(fcinfo, claims_site(fcinfo));
	Jsonb	   *copy;

	if (claims == NULL)
		PG_RETURN_NULL();
	copy = palloc(VARSIZE(claims));
	memcpy(copy, claims, VARSIZE(claims));
	PG_RETURN_JSONB_P(copy);
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

Datum
jwt_claim(PG_FUNCTION_ARGS)
{
	ClaimsSite *site;
	text	   *name;
	Jsonb	   *claims;
	text	   *value;
	bool		isnull;
	TimestampTz stmt;
	text	   *copy;

	if (PG_ARGISNULL(0))
		PG_RETURN_NULL();
	name = PG_GETARG_TEXT_PP(0);
	site = claims_site(fcinfo);
	stmt = GetCurrentStatementStartTimestamp();

	/* this statement asked this call site for this name already */
	if (site != NULL && site->name_valid && site->stmt == stmt &&
		!(policy_fallback && (session_token == NULL || session_token[0] == '\0')) &&
		site->token_gen == token_generation && site->policy_gen == policy_generation &&
		registry.valid && site->registry_gen == registry_generation &&
		site->epoch == claims_cache.epoch &&
		VARSIZE_ANY_EXHDR(site->name) == VARSIZE_ANY_EXHDR(name) &&
		memcmp(VARDATA_ANY(site->name), VARDATA_ANY(name), VARSIZE_ANY_EXHDR(name)) == 0)
	{
		if (site->value == NULL)
			PG_RETURN_NULL();
		copy = palloc(VARSIZE(site->value));
		memcpy(copy, site->value, VARSIZE(site->value));
		PG_RETURN_TEXT_P(copy);
	}

	claims = session_claims(fcinfo, site);
	if (claims == NULL)
		PG_RETURN_NULL();
	value = claim_text(claims, name, &isnull);

	if (site != NULL)
	{
		MemoryContext old = MemoryContextSwitchTo(fcinfo->flinfo->fn_mcxt);

		/* the previous answer's memory goes first: a site lives for the query */
		if (site->name != NULL)
			pfree(site->name);
		if (site->value != NULL)
			pfree(site->value);
		site->name = (text *) palloc(VARSIZE_ANY(name));
		memcpy(site->name, name, VARSIZE_ANY(name));
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

/* ---------------------------------------------------------------------
 * Signing with the registry, and publishing it
 *
 * Both read the registry as jwt_claims() does, directly: they need no
 * privilege on its tables, run with no one else's rights, and resolve no
 * name at run time, so no schema trickery can redirect them.  EXECUTE on
 * them is what decides who may use them.
 * --------------------------------------------------------------------- */

static void
registry_for_statement(FunctionCallInfo fcinfo)
{
	accept_invalidations(GetCurrentStatementStartTimestamp());
	registry_ensure(fcinfo);
}

static const char *
key_kid(const jose_key *k, size_t *len)
{
	const char *kid = jose_key_kid(k, len);

	if (kid == NULL)
	{
		*len = 0;
		return "";
	}
	return kid;
}

/* Orders keys as jwt_jwks() lists them: valid_from, then kid. */
static int
cmp_keys_by_window(const void *a, const void *b)
{
	const jose_key *x = *(const jose_key *const *) a;
	const jose_key *y = *(const jose_key *const *) b;
	double		xf,
				xu,
				yf,
				yu;
	size_t		xl,
				yl;
	const char *xk,
			   *yk;
	int			c;

	(void) jose_key_window(x, &xf, &xu);
	(void) jose_key_window(y, &yf, &yu);
	if (xf != yf)
		return xf < yf ? -1 : 1;
	xk = key_kid(x, &xl);
	yk = key_kid(y, &yl);
	c = memcmp(xk, yk, Min(xl, yl));
	return c != 0 ? c : (xl > yl) - (xl < yl);
}

/*
 * jwt_issue(claims, kid): signs with the registry key of that kid, else the
 * newest (by valid_from) that is valid now and can sign; its kid goes into
 * the header.
 */
Datum
jwt_issue(PG_FUNCTION_ARGS)
{
	text	   *want = PG_ARGISNULL(1) ? NULL : PG_GETARG_TEXT_PP(1);
	double		now;
	const jose_key *best = NULL;
	double		best_from = 0;
	size_t		n;

	if (PG_ARGISNULL(0))
		PG_RETURN_NULL();
	registry_for_statement(fcinfo);
	now = timestamptz_to_unix(GetCurrentStatementStartTimestamp());
	n = registry.keys ? jose_keyset_count(registry.keys) : 0;
	for (size_t i = 0; i < n; i++)
	{
		const jose_key *k = jose_keyset_key(registry.keys, i);
		jose_alg	alg = jose_key_natural_alg(k);
		double		from,
					until;
		size_t		klen;
		const char *kid = key_kid(k, &klen);

		if (alg == JOSE_ALG_UNSET || jose_key_check(k, alg, JOSE_OP_SIGN) != JOSE_OK ||
			!jose_key_is_valid_at(k, now))
			continue;
		if (want != NULL && (klen != VARSIZE_ANY_EXHDR(want) ||
							 memcmp(kid, VARDATA_ANY(want), klen) != 0))
			continue;
		(void) jose_key_window(k, &from, &until);
		if (best == NULL || from > best_from ||
			(from == best_from && cmp_keys_by_window(&k, &best) < 0))
		{
			best = k;
			best_from = from;
		}
	}
	if (best == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 want ? errmsg("no registry key can sign as kid %s",
							   text_to_cstring(want)) :
				 errmsg("no registry key can sign"),
				 errhint("Add a private key valid now with jwt_add_key().")));
	PG_RETURN_TEXT_P(jwt_sign_claims(PG_GETARG_JSONB_P(0), best,
									 jose_key_natural_alg(best), NULL));
}

/*
 * jwt_jwks(): the public JWKS of the registry's asymmetric keys valid now or
 * later, each with its kid, alg and "use":"sig".
 */
Datum
jwt_jwks(PG_FUNCTION_ARGS)
{
	double		now;
	size_t		n,
				m = 0;
	const jose_key **list;
	StringInfoData out;

	registry_for_statement(fcinfo);
	now = timestamptz_to_unix(GetCurrentStatementStartTimestamp());
	n = registry.keys ? jose_keyset_count(registry.keys) : 0;
	list = palloc(sizeof(jose_key *) * (n + 1));
	for (size_t i = 0; i < n; i++)
	{
		const jose_key *k = jose_keyset_key(registry.keys, i);
		double		from,
					until;

		(void) jose_key_window(k, &from, &until);
		if (jose_key_kty(k) == JOSE_KTY_OCT || jose_key_kty(k) == 0 ||
			(until != 0 && until <= now))
			continue;
		list[m++] = k;
	}
	if (m > 1)
		qsort(list, m, sizeof(jose_key *), cmp_keys_by_window);

	initStringInfo(&out);
	appendStringInfoString(&out, "{\"keys\":[");
	for (size_t i = 0; i < m; i++)
		(void) jwt_jwks_append(&out, list[i]);
	appendStringInfoString(&out, "]}");
	PG_RETURN_DATUM(jwt_json_to_jsonb(out.data, out.len));
}

/* ---------------------------------------------------------------------
 * Registry triggers
 * --------------------------------------------------------------------- */

/*
 * After any change to jwt_keys or jwt_revocations: a relcache invalidation
 * of the table, which every backend (and every hot standby, through the WAL)
 * receives once the change commits, so their registry caches are dropped.
 */
Datum
jwt_registry_changed(PG_FUNCTION_ARGS)
{
	TriggerData *td = (TriggerData *) fcinfo->context;

	if (!CALLED_AS_TRIGGER(fcinfo))
		ereport(ERROR,
				(errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
				 errmsg("jwt_registry_changed() must be called as a trigger")));
	CacheInvalidateRelcache(td->tg_relation);
	return PointerGetDatum(NULL);
}

static void
registry_row_refuse(const char *what, const char *hint)
{
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
			 errmsg("invalid registry key: %s", what),
			 errhint("%s", hint)));
}

/* The checks of jwt_keys' constraints, with messages that show no key. */
static void
registry_row_check(HeapTuple tup, TupleDesc desc)
{
	bool		isnull;
	Datum		d;
	int			att;

	(void) heap_getattr(tup, SPI_fnumber(desc, "key"), desc, &isnull);
	if (isnull)
		registry_row_refuse("the key is NULL", "Pass the key: a secret, a PEM key or a JWK.");
	(void) heap_getattr(tup, SPI_fnumber(desc, "algorithm"), desc, &isnull);
	if (isnull)
		registry_row_refuse("the algorithm is NULL", "Name the one algorithm the key is for, e.g. 'ES256'.");
	d = heap_getattr(tup, SPI_fnumber(desc, "kid"), desc, &isnull);
	if (!isnull && VARSIZE_ANY_EXHDR(DatumGetPointer(d)) == 0)
		registry_row_refuse("the kid is empty", "Pass a kid, or NULL for the key's own kid or thumbprint.");
	if ((att = SPI_fnumber(desc, "added_at")) > 0)
	{
		(void) heap_getattr(tup, att, desc, &isnull);
		if (isnull)
			registry_row_refuse("added_at is NULL", "Leave added_at to its default.");
	}
	{
		bool		from_null,
					until_null;
		Datum		from = heap_getattr(tup, SPI_fnumber(desc, "valid_from"), desc, &from_null);
		Datum		until = heap_getattr(tup, SPI_fnumber(desc, "valid_until"), desc, &until_null);

		if (from_null)
			registry_row_refuse("valid_from is NULL", "Pass the time the key starts to verify, now() by default.");
		if (!until_null && DatumGetTimestampTz(until) < DatumGetTimestampTz(from))
			registry_row_refuse("valid_until is before valid_from", "A key's window of validity runs from valid_from to valid_until.");
	}
}

/*
 * Before a row of jwt_keys is written: the key must be one key that can
 * verify its algorithm; kid defaults to the key's JWK kid, else its RFC 7638
 * thumbprint; can_sign says whether jwt_issue() may sign with it.
 */
Datum
jwt_keys_check(PG_FUNCTION_ARGS)
{
	TriggerData *td = (TriggerData *) fcinfo->context;
	HeapTuple	tup;
	TupleDesc	desc;
	int			att_kid,
				att_key,
				att_alg,
				att_sign;
	bool		isnull;
	text	   *key;
	char	   *alg_name;
	jose_alg	alg;
	jose_keyset *ks = NULL;
	const jose_key *k;
	jose_status st;
	JwtErrorContext ctx = {0};
	int			cols[2];
	Datum		vals[2];
	bool		nulls[2] = {false, false};
	char		tp[JOSE_THUMBPRINT_LEN + 1];

	if (!CALLED_AS_TRIGGER(fcinfo) || !TRIGGER_FIRED_FOR_ROW(td->tg_event) ||
		!TRIGGER_FIRED_BEFORE(td->tg_event))
		ereport(ERROR,
				(errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
				 errmsg("jwt_keys_check() must be a BEFORE ROW trigger")));
	tup = TRIGGER_FIRED_BY_UPDATE(td->tg_event) ? td->tg_newtuple : td->tg_trigtuple;
	desc = RelationGetDescr(td->tg_relation);
	att_kid = SPI_fnumber(desc, "kid");
	att_key = SPI_fnumber(desc, "key");
	att_alg = SPI_fnumber(desc, "algorithm");
	att_sign = SPI_fnumber(desc, "can_sign");
	if (att_kid <= 0 || att_key <= 0 || att_alg <= 0 || att_sign <= 0)
		elog(ERROR, "jwt_keys_check(): unexpected table layout");

	/*
	 * What the table's constraints would refuse is refused here first: a
	 * constraint's error shows the failing row, and the row holds the key.
	 */
	registry_row_check(tup, desc);

	key = DatumGetTextPP(heap_getattr(tup, att_key, desc, &isnull));
	alg_name = TextDatumGetCString(heap_getattr(tup, att_alg, desc, &isnull));
	alg = jwt_alg_from_text(cstring_to_text(alg_name));

	st = jose_keyset_import(VARDATA_ANY(key), VARSIZE_ANY_EXHDR(key), JOSE_KEY_TEXT, &ks);
	if (st == JOSE_OK && jose_keyset_is_set(ks))
	{
		jose_keyset_free(ks);
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("a registry key must be one key, not a JWKS"),
				 errhint("Add each key of the set with its own jwt_add_key().")));
	}
	if (st != JOSE_OK)
		jwt_report(st, &ctx);
	k = jose_keyset_key(ks, 0);
	ctx.alg = alg;
	ctx.op = JOSE_OP_VERIFY;
	ctx.algs = jose_keyset_algs(ks, JOSE_OP_VERIFY);
	ctx.algs_known = true;
	st = jose_key_check(k, alg, JOSE_OP_VERIFY);
	if (st != JOSE_OK)
	{
		jose_keyset_free(ks);
		jwt_report(st, &ctx);
	}

	cols[0] = att_sign;
	vals[0] = BoolGetDatum(jose_key_check(k, alg, JOSE_OP_SIGN) == JOSE_OK);
	cols[1] = att_kid;
	(void) heap_getattr(tup, att_kid, desc, &isnull);
	if (isnull)
	{
		size_t		kid_len;
		const char *kid = jose_key_kid(k, &kid_len);

		if (kid != NULL)
			vals[1] = PointerGetDatum(cstring_to_text_with_len(kid, (int) kid_len));
		else if ((st = jose_key_thumbprint(k, tp)) == JOSE_OK)
			vals[1] = CStringGetTextDatum(tp);
	}
	else
		vals[1] = heap_getattr(tup, att_kid, desc, &isnull);
	jose_keyset_free(ks);
	jwt_report(st, &ctx);

	return PointerGetDatum(heap_modify_tuple_by_cols(tup, desc, 2, cols, vals, nulls));
}
