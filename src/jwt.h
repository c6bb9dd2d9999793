/*
 * jwt.h
 *		Declarations shared by the SQL glue of the jwt extension.
 */
#ifndef JWT_H
#define JWT_H

#include "postgres.h"
#include "fmgr.h"
#include "access/xact.h"
#include "lib/stringinfo.h"
#include "utils/jsonb.h"
#include "utils/relcache.h"
#include "utils/snapshot.h"
#include "utils/timestamp.h"

#include "core/jose.h"

/* settings.c: every jwt.* setting and the generation counters */
typedef struct JwtRequiredClaims
{
	int			n;
	const char *names[FLEXIBLE_ARRAY_MEMBER];
} JwtRequiredClaims;

extern int	jwt_max_token_length;
extern char *jwt_session_token;
extern char *jwt_policy_audience;
extern char *jwt_policy_issuer;
extern int	jwt_policy_leeway;
extern char *jwt_policy_algorithms_text;
extern char *jwt_policy_required_text;
extern int	jwt_policy_max_age;
extern bool jwt_policy_fallback;
extern bool jwt_policy_fallback_settings;
extern jose_algset jwt_policy_algs;
extern JwtRequiredClaims *jwt_policy_required;
extern uint64 jwt_token_generation;
extern uint64 jwt_policy_generation;
extern uint64 jwt_registry_generation;
extern uint64 jwt_revocation_generation;
extern void jwt_define_settings(void);

/* registry.c: the key registry and the revocations as this backend sees them */
typedef struct RevokedJti
{
	uint64		hash;
	double		until;			/* expires_at, seconds since the epoch */
} RevokedJti;

/*
 * Two parts, loaded and invalidated apart: the keys (jwt_keys), whose load
 * parses every key, and the revocation set (jwt_revocations and the ended
 * logins of jwt_logins), which ending a login or revoking a jti changes
 * without touching a key.
 */
typedef struct JwtRegistry
{
	/* the key part */
	bool		valid;
	bool		bound;			/* valid only under the snapshot it was read with */
	Oid			keys_relid;
	Oid			revocations_relid;
	jose_keyset *keys;			/* NULL when the table is empty */
	int			nkeys;
	/* the revocation part */
	bool		revoked_valid;
	bool		revoked_bound;	/* as bound, for this part */
	RevokedJti *revoked;		/* sorted by hash, in the part's context */
	int			nrevoked;
	Oid			logins_relid;	/* InvalidOid before 0.2.0 */
	RevokedJti *ended;			/* ended logins' sids, as revoked is */
	int			nended;
	/* how often each part was loaded in this backend (jwt_cache_stats()) */
	uint64		key_loads;
	uint64		revocation_loads;
} JwtRegistry;

extern JwtRegistry jwt_registry;
extern void jwt_registry_register_callbacks(void);
extern void jwt_registry_ensure(FunctionCallInfo fcinfo);
extern Oid	jwt_registry_relid(Oid fn_oid, const char *name);
extern Oid	jwt_extension_relid(Oid fn_oid, const char *name);
extern Oid	jwt_extension_relid_in(Oid ext, Oid nsp, const char *name);
extern Oid	jwt_registry_relid_in(Oid ext, Oid nsp, const char *name);
extern void jwt_registry_for_statement(FunctionCallInfo fcinfo);
extern void jwt_accept_invalidations(void);
extern bool jwt_jti_revoked(const char *jti, size_t len, double now);
extern bool jwt_sid_ended(const char *sid, size_t len, double now);
extern double jwt_timestamptz_to_unix(TimestampTz ts);
extern const char *jwt_key_kid(const jose_key *k, size_t *len);
extern int	jwt_cmp_keys_by_window(const void *a, const void *b);

/* issuers.c: the registered identity providers, read with the registry */
typedef struct JwtIssuer JwtIssuer;

/* The issuer a session token names: where its keys and rules come from. */
typedef struct JwtRoute
{
	const JwtIssuer *issuer;	/* NULL: the registry path */
	const char *iss;			/* the registered spelling that chose it */
	size_t		iss_len;
} JwtRoute;

extern Oid	jwt_issuers_relid;
extern void jwt_issuers_reset(void);
extern void jwt_issuers_scan(Relation rel, Snapshot snap, Snapshot latest,
							 uint64 *nseen, uint64 *same);
extern bool jwt_issuers_registered(void);
extern const char *jwt_issuer_name_of(const char *s, size_t len);
extern bool jwt_issuer_route(const char *tok, size_t len, unsigned char *buf,
							 size_t buflen, JwtRoute *route);
extern void jwt_issuer_rules(const JwtRoute *route, jose_claim_rules *rules);
extern const jose_keyset *jwt_issuer_verify_opts(const JwtRoute *route,
												 jose_verify_opts *opts);
extern void jwt_issuer_refuse(const JwtRoute *route, jose_status st);

/* admin.c: one call that writes the extension's tables, as their owner */
typedef struct AdminCall
{
	const char *keys;			/* "schema".jwt_keys */
	const char *revocations;	/* "schema".jwt_revocations */
	const char *logins;			/* "schema".jwt_logins */
	const char *refresh_tokens; /* "schema".jwt_refresh_tokens */
	const char *issuers;		/* "schema".jwt_issuers */
	const char *issuer_fetches; /* "schema".jwt_issuer_fetches */
	Oid			keys_relid;
	Oid			revocations_relid;
	Oid			logins_relid;
	Oid			refresh_tokens_relid;
	Oid			issuers_relid;	/* InvalidOid before 0.2.0 */
	Oid			issuer_fetches_relid;
	Oid			save_userid;
	int			save_sec_context;
	int			save_nestlevel;
	MemoryContext caller;		/* where results are copied to */
} AdminCall;

extern void jwt_admin_begin(FunctionCallInfo fcinfo, AdminCall *c);
extern PGDLLEXPORT Oid jwt_extension_owner(Oid fn_oid);
/* exported to jwt_fetch.so (PGDLLEXPORT: visible where modules build hidden) */
extern PGDLLEXPORT void jwt_admin_begin_ext(Oid nsp, Oid owner, AdminCall *c);
extern PGDLLEXPORT void jwt_admin_end(AdminCall *c);
extern PGDLLEXPORT uint64 jwt_admin_exec(AdminCall *c, const char *sql, int nargs, Oid *types,
										 Datum *values, const char *nulls, int expect);

/* What an error report needs to know besides the status. */
typedef struct JwtErrorContext
{
	jose_alg	alg;			/* the algorithm at stake, or UNSET */
	const char *alg_name;		/* the caller's spelling, for unknown names */
	jose_op		op;				/* signing or verifying */
	const jose_keyset *keys;	/* for a hint on what the key can do */
	bool		algs_known;		/* or that, computed before the key went */
	jose_algset algs;
	size_t		token_len;
	const jose_verified *verified;
} JwtErrorContext;

/* errors.c: map a core status to ereport; returns only for JOSE_OK */
extern void jwt_report(jose_status st, const JwtErrorContext *ctx);
/* errors.c: the core's stop hook, asking whether a cancel or terminate is pending */
extern const jose_stop jwt_stop;
extern const char *jwt_token_detail(jose_status st, const JwtErrorContext *ctx);

/* keycache.c: parsed keys, reused across calls */
extern const jose_keyset *jwt_keyset_lookup(FunctionCallInfo fcinfo,
											const char *data, int len,
											jose_key_form form);

/* alg.c: algorithm names and arrays from SQL */
extern jose_alg jwt_alg_from_text(text *name);
extern jose_algset jwt_algset_from_array(ArrayType *arr);

/* issue.c: claims signed with the registry's signing key (or the kid given) */
extern text *jwt_sign_with_registry(FunctionCallInfo fcinfo, Jsonb *claims, text *want);
extern Jsonb *jwt_token_claims(Jsonb *claims, int64 iat, int64 exp, const char *sub,
							   const char *sid);

/* session.c: the session token's claims as jwt_claims() returns them, or NULL */
extern Jsonb *jwt_session_claims(FunctionCallInfo fcinfo);
extern bool jwt_session_from_issuer(void);

/*
 * statement.c: which statement is running, the key of a call site's answer.
 * jwt_now() is the later of the statement's and the transaction's start.
 * The statement's start alone does not tell every statement apart: a
 * procedure that commits starts transactions within one statement, and the
 * statements of one simple-Query message share a start time.
 * jwt_statement_generation moves at each of those boundaries (as a
 * transaction ends, and as a statement is analysed).  One comparison of the
 * counter and one of the statement's start is as strict as comparing
 * jwt_now() and stricter (it also tells apart two transactions that start
 * in one microsecond), for one call fewer.
 */
typedef struct JwtStatement
{
	uint64		gen;
	TimestampTz start;
} JwtStatement;

extern uint64 jwt_statement_generation;
extern void jwt_statement_init(void);
extern TimestampTz jwt_now(void);

static inline JwtStatement
jwt_statement_get(void)
{
	JwtStatement st;

	st.gen = jwt_statement_generation;
	st.start = GetCurrentStatementStartTimestamp();
	return st;
}

static inline bool
jwt_statement_is(const JwtStatement *st)
{
	return st->gen == jwt_statement_generation &&
		st->start == GetCurrentStatementStartTimestamp();
}

/*
 * session.c, for functions of the session's claims in other files
 * (scopes.c): what an answer derived from the claims depends on.  While
 * jwt_claims_stamp_current() holds, the claims (and so the answer) are the
 * same as when jwt_session_claims_stamped() filled the stamp.
 */
typedef struct JwtClaimsStamp
{
	bool		valid;
	bool		isnull;			/* no token: the claims were NULL */
	JwtStatement statement;
	uint64		token_gen;
	uint64		policy_gen;
	uint64		registry_gen;
	uint64		revocation_gen;
	uint64		epoch;
} JwtClaimsStamp;

extern Jsonb *jwt_session_claims_stamped(FunctionCallInfo fcinfo, JwtClaimsStamp *stamp);
extern bool jwt_claims_stamp_current(const JwtClaimsStamp *stamp);

/* settings.c: the lifetimes of logins (logins.c), in seconds */
extern int	jwt_access_token_lifetime;
extern int	jwt_refresh_token_lifetime;
extern int	jwt_login_lifetime;
extern int	jwt_refresh_reuse_interval;

/* settings.c: fetching identity providers' keys (jwt_fetch.so reads them by name) */
extern char *jwt_issuer_url_prefixes;
extern char *jwt_issuer_ca_file;
extern int	jwt_issuer_connect_timeout;
extern int	jwt_issuer_timeout;
extern int	jwt_issuer_max_response_size;
extern int	jwt_issuer_refresh_min;
extern int	jwt_issuer_refresh_max;

/* keys.c: a key's public JWK appended to a JWKS being built */
extern bool jwt_jwks_append(StringInfo jwks, const jose_key *key);

/* sign.c: a claims set signed with one key */
extern text *jwt_sign_claims(Jsonb *claims, const jose_key *key, jose_alg alg,
							 Jsonb *header);

/* jsonout.c: jsonb as compact JSON text */
extern void jwt_jsonb_to_json(StringInfo out, JsonbContainer *jc);
extern void jwt_json_escape(StringInfo out, const char *s, size_t len);
extern Datum jwt_json_to_jsonb(const char *json, size_t len);
/* jsonin.c: an object or array src/core parsed onto a tape; frees the tape */
extern Jsonb *jwt_tape_to_jsonb(jose_json_tape *tape);

#endif							/* JWT_H */
