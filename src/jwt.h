/*
 * jwt.h
 *		Declarations shared by the SQL glue of the jwt extension.
 */
#ifndef JWT_H
#define JWT_H

#include "postgres.h"
#include "fmgr.h"
#include "lib/stringinfo.h"
#include "utils/jsonb.h"

#include "core/jose.h"

/* jwt.c: settings */
extern int	jwt_max_token_length;

/* session.c: jwt.token, the policy settings, the registry cache */
extern void jwt_session_define_settings(void);
extern void jwt_session_register_callbacks(void);

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
extern const char *jwt_token_detail(jose_status st, const JwtErrorContext *ctx);

/* keycache.c: parsed keys, reused across calls */
extern const jose_keyset *jwt_keyset_lookup(FunctionCallInfo fcinfo,
											const char *data, int len,
											jose_key_form form);

/* alg.c: algorithm names and arrays from SQL */
extern jose_alg jwt_alg_from_text(text *name);
extern jose_algset jwt_algset_from_array(ArrayType *arr);

/* keys.c: a key's public JWK appended to a JWKS being built */
extern bool jwt_jwks_append(StringInfo jwks, const jose_key *key);

/* sign.c: a claims set signed with one key */
extern text *jwt_sign_claims(Jsonb *claims, const jose_key *key, jose_alg alg,
							 Jsonb *header);

/* jsonout.c: jsonb as compact JSON text */
extern void jwt_jsonb_to_json(StringInfo out, JsonbContainer *jc);
extern void jwt_json_escape(StringInfo out, const char *s, size_t len);
extern Datum jwt_json_to_jsonb(const char *json, size_t len);

#endif							/* JWT_H */
