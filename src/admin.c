/*
 * admin.c
 *		The registry's administrative functions: jwt_add_key, jwt_retire_key,
 *		jwt_revoke, jwt_revoke_token and jwt_purge_revocations.
 *
 * A superuser may call these in a database whose owner controls the schema
 * the extension lives in (on PostgreSQL 15 the database owner owns public),
 * so nothing here may resolve a name through that owner's choices:
 *
 *	- the tables are found at call time in the namespace of the called
 *	  function itself, by OID, as registry.c finds them for jwt_claims();
 *	  the statements name them schema-qualified (the namespace's name at call
 *	  time, quoted), and every function and operator they use is in
 *	  pg_catalog, under a search_path pinned to "pg_catalog, pg_temp";
 *	- each statement is checked, once analysed and again once run, to touch
 *	  no relation but those two: should the name have been made to mean
 *	  another schema in between (a rename racing the call), the statement
 *	  fails and its transaction rolls back;
 *	- the statements run as the extension's owner (pg_extension.extowner,
 *	  the role that ran CREATE EXTENSION), with SECURITY_RESTRICTED_OPERATION,
 *	  as PostgreSQL runs REFRESH MATERIALIZED VIEW as the view's owner.
 *
 * Running as the extension's owner is what lets GRANT EXECUTE alone delegate
 * key management: the caller needs no privilege on the tables.  It is safe
 * because the statements are fixed, the owner holds every privilege they use
 * (the install script grants them), and what they can run is the tables'
 * own triggers (the extension's C functions; no role but the tables' owner,
 * the bootstrap superuser in a trusted install, can add one), their defaults
 * and constraints.  Should planted code run after all, it runs as the owner,
 * who could read jwt_keys anyway: never as the superuser who called.
 *
 * The writes are ordinary INSERT, UPDATE and DELETE statements, so the row
 * trigger jwt_keys_check (which checks each key and fills kid and can_sign)
 * and the statement triggers that send the invalidations fire on every one.
 */
#include "postgres.h"

#include "access/genam.h"
#include "access/htup_details.h"
#include "access/table.h"
#include "access/xact.h"
#include "catalog/dependency.h"
#include "catalog/indexing.h"
#include "catalog/pg_extension.h"
#include "catalog/pg_proc.h"
#include "catalog/pg_type.h"
#include "commands/extension.h"
#include "executor/spi.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/datetime.h"
#include "utils/fmgroids.h"
#include "utils/guc.h"
#include "utils/jsonb.h"
#include "utils/lsyscache.h"
#include "utils/plancache.h"
#include "utils/rel.h"
#include "utils/timestamp.h"

#include "compat.h"
#include "jwt.h"

PG_FUNCTION_INFO_V1(jwt_add_key);
PG_FUNCTION_INFO_V1(jwt_retire_key);
PG_FUNCTION_INFO_V1(jwt_revoke);
PG_FUNCTION_INFO_V1(jwt_revoke_token);
PG_FUNCTION_INFO_V1(jwt_purge_revocations);

/* The role that ran CREATE EXTENSION for the extension owning this function. */
Oid
jwt_extension_owner(Oid fn_oid)
{
	Oid			ext = getExtensionOfObject(ProcedureRelationId, fn_oid);
	Relation	rel;
	ScanKeyData key;
	SysScanDesc scan;
	HeapTuple	tup;
	Oid			owner = InvalidOid;

	if (!OidIsValid(ext))
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("function %u is not a member of the jwt extension", fn_oid),
				 errhint("Call the function the extension created: CREATE EXTENSION jwt.")));
	rel = table_open(ExtensionRelationId, AccessShareLock);
	ScanKeyInit(&key, Anum_pg_extension_oid, BTEqualStrategyNumber, F_OIDEQ,
				ObjectIdGetDatum(ext));
	scan = systable_beginscan(rel, ExtensionOidIndexId, true, NULL, 1, &key);
	tup = systable_getnext(scan);
	if (HeapTupleIsValid(tup))
		owner = ((Form_pg_extension) GETSTRUCT(tup))->extowner;
	systable_endscan(scan);
	table_close(rel, AccessShareLock);
	if (!OidIsValid(owner))
		elog(ERROR, "jwt: extension %u has no owner", ext);
	return owner;
}

/*
 * Begin a call on the tables of extension ext in namespace nsp (its members
 * only), as the role owner
 * (the extension's owner): the tables found by OID, their names quoted,
 * search_path pinned, SECURITY_RESTRICTED_OPERATION, SPI connected.
 */
static void
admin_begin_ext(Oid ext, Oid nsp, Oid owner, AdminCall *c)
{
	char	   *nspname = get_namespace_name(nsp);
	const char *qnsp;

	if (nspname == NULL)
		elog(ERROR, "jwt: namespace %u does not exist", nsp);
	c->keys_relid = jwt_registry_relid_in(ext, nsp, "jwt_keys");
	c->revocations_relid = jwt_registry_relid_in(ext, nsp, "jwt_revocations");
	qnsp = quote_identifier(nspname);
	c->keys = psprintf("%s.jwt_keys", qnsp);
	c->revocations = psprintf("%s.jwt_revocations", qnsp);
	/* absent before 0.2.0: InvalidOid then, which no statement names */
	c->logins_relid = jwt_extension_relid_in(ext, nsp, "jwt_logins");
	c->refresh_tokens_relid = jwt_extension_relid_in(ext, nsp, "jwt_refresh_tokens");
	c->logins = psprintf("%s.jwt_logins", qnsp);
	c->refresh_tokens = psprintf("%s.jwt_refresh_tokens", qnsp);
	/* [issuers] the identity providers (jwt_fetch.so writes them) */
	c->issuers_relid = jwt_extension_relid_in(ext, nsp, "jwt_issuers");
	c->issuer_fetches_relid = jwt_extension_relid_in(ext, nsp, "jwt_issuer_fetches");
	c->issuers = psprintf("%s.jwt_issuers", qnsp);
	c->issuer_fetches = psprintf("%s.jwt_issuer_fetches", qnsp);
	c->caller = CurrentMemoryContext;

	GetUserIdAndSecContext(&c->save_userid, &c->save_sec_context);
	SetUserIdAndSecContext(owner,
						   c->save_sec_context | SECURITY_LOCAL_USERID_CHANGE |
						   SECURITY_RESTRICTED_OPERATION);
	c->save_nestlevel = NewGUCNestLevel();
	(void) set_config_option("search_path", "pg_catalog, pg_temp", PGC_USERSET,
							 PGC_S_SESSION, GUC_ACTION_SAVE, true, 0, false);
	/*
	 * auto_explain (16 and later) writes a statement's parameters into the
	 * log beside its plan, and a parameter may be jwt_add_key()'s key: none
	 * for these statements, back to the caller's setting when they are done.
	 */
	if (GetConfigOption("auto_explain.log_parameter_max_length", true, false) != NULL)
		(void) set_config_option("auto_explain.log_parameter_max_length", "0", PGC_SUSET,
								 PGC_S_SESSION, GUC_ACTION_SAVE, true, 0, false);
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "jwt: SPI_connect failed");
}

static void
admin_begin(FunctionCallInfo fcinfo, AdminCall *c)
{
	Oid			fn_oid;

	if (fcinfo->flinfo == NULL)
		elog(ERROR, "jwt: administrative functions need their call context");
	fn_oid = fcinfo->flinfo->fn_oid;
	admin_begin_ext(getExtensionOfObject(ProcedureRelationId, fn_oid), get_func_namespace(fn_oid),
					jwt_extension_owner(fn_oid), c);
}

/* An error unwinds all of this: the transaction's abort restores user and settings. */
static void
admin_end(AdminCall *c)
{
	SPI_finish();
	AtEOXact_GUC(true, c->save_nestlevel);
	SetUserIdAndSecContext(c->save_userid, c->save_sec_context);
}

/* The statement touches the extension's own tables and nothing else. */
static void
admin_check_plan(AdminCall *c, SPIPlanPtr plan)
{
	ListCell   *lc;

	foreach(lc, SPI_plan_get_plan_sources(plan))
	{
		CachedPlanSource *ps = (CachedPlanSource *) lfirst(lc);
		ListCell   *r;

		foreach(r, ps->relationOids)
		{
			Oid			relid = lfirst_oid(r);

			if (relid != c->keys_relid && relid != c->revocations_relid &&
				relid != c->logins_relid && relid != c->refresh_tokens_relid &&
				relid != c->issuers_relid && relid != c->issuer_fetches_relid)
				ereport(ERROR,
						(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
						 errmsg("the jwt registry's schema changed during the call"),
						 errdetail("A statement of the registry named a relation that is not the extension's own."),
						 errhint("Call the function again; if this repeats, check who renames schemas in this database.")));
		}
	}
}

/*
 * Run one fixed statement; returns SPI_processed.  Planned generic, so that
 * the arguments stay parameters in the plan: a custom plan folds them in as
 * constants, and auto_explain (log_nested_statements, log_verbose) or
 * debug_print_plan would then write jwt_add_key()'s key into the server log.
 */
static uint64
admin_exec(AdminCall *c, const char *sql, int nargs, Oid *types, Datum *values,
		   const char *nulls, int expect)
{
	SPIPlanPtr	plan = SPI_prepare_cursor(sql, nargs, types, CURSOR_OPT_GENERIC_PLAN);
	int			rc;

	if (plan == NULL)
		elog(ERROR, "jwt: SPI_prepare failed: %s", SPI_result_code_string(SPI_result));
	admin_check_plan(c, plan);
	rc = SPI_execute_plan(plan, values, nulls, false, 0);
	if (rc != expect)
		elog(ERROR, "jwt: unexpected SPI result %s", SPI_result_code_string(rc));
	admin_check_plan(c, plan);
	return SPI_processed;
}

jwt_noreturn static void refuse_null(const char *what, const char *hint);
jwt_noreturn static void refuse_token(const char *msg, const char *hint);

static void
refuse_null(const char *what, const char *hint)
{
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
			 errmsg("%s must not be NULL", what),
			 errhint("%s", hint)));
}

/*
 * jwt_add_key(key, algorithm, kid, valid_from, valid_until) → kid.  The row
 * trigger checks the key and fills kid (from the JWK, else the thumbprint)
 * and can_sign.  A kid already in the registry is refused with 23505 and a
 * hint, never the constraint's own message (which would show the row).
 */
Datum
jwt_add_key(PG_FUNCTION_ARGS)
{
	AdminCall	c;
	Oid			types[5] = {TEXTOID, TEXTOID, TEXTOID, TIMESTAMPTZOID, TIMESTAMPTZOID};
	Datum		values[5];
	char		nulls[5];
	text	   *kid = NULL;

	for (int i = 0; i < 5; i++)
	{
		values[i] = PG_ARGISNULL(i) ? (Datum) 0 : PG_GETARG_DATUM(i);
		nulls[i] = PG_ARGISNULL(i) ? 'n' : ' ';
	}
	admin_begin(fcinfo, &c);
	if (admin_exec(&c, psprintf("INSERT INTO %s (kid, key, algorithm, valid_from, valid_until) "
								"VALUES ($3, $1, $2, $4, $5) "
								"ON CONFLICT (kid) DO NOTHING RETURNING kid", c.keys),
				   5, types, values, nulls, SPI_OK_INSERT_RETURNING) == 1)
	{
		bool		isnull;
		Datum		d = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull);
		MemoryContext old = MemoryContextSwitchTo(c.caller);

		kid = isnull ? NULL : DatumGetTextPCopy(d);
		MemoryContextSwitchTo(old);
	}
	admin_end(&c);
	if (kid == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_UNIQUE_VIOLATION),
				 PG_ARGISNULL(2) ?
				 errmsg("the key registry already holds a key with this key's kid") :
				 errmsg("the key registry already holds a key with kid \"%s\"",
						text_to_cstring(PG_GETARG_TEXT_PP(2))),
				 errhint("A kid names one key: pass another kid, or retire the old key with jwt_retire_key() and delete its row from jwt_keys first.")));
	PG_RETURN_TEXT_P(kid);
}

/*
 * jwt_retire_key(kid, at) → whether the registry has the kid.  The key stops
 * verifying and signing at "at" (at its valid_from if "at" is earlier).  An
 * end can only move earlier: a key already retiring at or before "at" keeps
 * its end (with a NOTICE), so a call can never postpone a retirement nor
 * re-enable a retired key.  "at" NULL is refused: no time is not now.
 */
Datum
jwt_retire_key(PG_FUNCTION_ARGS)
{
	AdminCall	c;
	Oid			types[2] = {TEXTOID, TIMESTAMPTZOID};
	Datum		values[2];
	uint64		n;
	bool		exists = true;
	bool		kept = false;
	TimestampTz end = 0;

	if (PG_ARGISNULL(0))
		refuse_null("kid", "Name the key to retire by its kid.");
	if (PG_ARGISNULL(1))
		refuse_null("the time to retire the key at",
					"Omit it to retire the key now, or pass the time it stops verifying.");
	values[0] = PG_GETARG_DATUM(0);
	values[1] = PG_GETARG_DATUM(1);

	admin_begin(fcinfo, &c);
	n = admin_exec(&c, psprintf("UPDATE %s SET valid_until = GREATEST($2, valid_from) "
								"WHERE kid OPERATOR(pg_catalog.=) $1 "
								"AND (valid_until IS NULL OR valid_until OPERATOR(pg_catalog.>) GREATEST($2, valid_from))",
								c.keys),
				   2, types, values, NULL, SPI_OK_UPDATE);
	if (n == 0)
	{
		(void) admin_exec(&c, psprintf("SELECT valid_until FROM %s WHERE kid OPERATOR(pg_catalog.=) $1",
									   c.keys),
						  1, types, values, NULL, SPI_OK_SELECT);
		exists = SPI_processed > 0;
		if (exists)
		{
			bool		isnull;

			end = DatumGetTimestampTz(SPI_getbinval(SPI_tuptable->vals[0],
													SPI_tuptable->tupdesc, 1, &isnull));
			kept = !isnull;
		}
	}
	admin_end(&c);
	if (kept)
		ereport(NOTICE,
				(errmsg("the key \"%s\" already retires at %s, which is kept",
						text_to_cstring(PG_GETARG_TEXT_PP(0)), timestamptz_to_str(end)),
				 errdetail("jwt_retire_key() only moves a key's end earlier, never later."),
				 errhint("To postpone a retirement, UPDATE jwt_keys SET valid_until yourself.")));
	PG_RETURN_BOOL(exists);
}

/* Insert or extend a revocation; the caller has run admin_begin(). */
static void
revoke_jti(AdminCall *c, Datum jti, TimestampTz until)
{
	Oid			types[2] = {TEXTOID, TIMESTAMPTZOID};
	Datum		values[2] = {jti, TimestampTzGetDatum(until)};

	(void) admin_exec(c, psprintf("INSERT INTO %s AS r (jti, expires_at) VALUES ($1, $2) "
								  "ON CONFLICT (jti) DO UPDATE SET expires_at = "
								  "GREATEST(r.expires_at, excluded.expires_at)", c->revocations),
					  2, types, values, NULL, SPI_OK_INSERT);
}

/*
 * jwt_revoke(jti, expires_at): refuse tokens with this jti until expires_at
 * (NULL: for ever).  A later expiry extends a revocation, an earlier one does
 * not shorten it.
 */
Datum
jwt_revoke(PG_FUNCTION_ARGS)
{
	AdminCall	c;
	TimestampTz until;

	if (PG_ARGISNULL(0))
		refuse_null("jti", "Pass the jti of the token to revoke.");
	if (PG_ARGISNULL(1))
		TIMESTAMP_NOEND(until);
	else
		until = PG_GETARG_TIMESTAMPTZ(1);
	admin_begin(fcinfo, &c);
	revoke_jti(&c, PG_GETARG_DATUM(0), until);
	admin_end(&c);
	/* as the SQL function of 0.1.0 did: a void result that IS NULL */
	PG_RETURN_NULL();
}

static void
refuse_token(const char *msg, const char *hint)
{
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
			 errmsg("%s", msg),
			 errhint("%s", hint)));
}

#define JTI_HINT "Only tokens that carry a jti claim can be revoked one by one; retire the key to refuse them all."

/* A NumericDate as timestamptz; beyond the type's range, the matching infinity. */
static TimestampTz
numeric_date(double t)
{
	TimestampTz ts;

	if (t > 9.0e12)
		TIMESTAMP_NOEND(ts);
	else if (t < -2.0e11)
		TIMESTAMP_NOBEGIN(ts);
	else
		ts = (TimestampTz) ((t - (double) (POSTGRES_EPOCH_JDATE - UNIX_EPOCH_JDATE) * SECS_PER_DAY) *
							USECS_PER_SEC);
	return ts;
}

/*
 * jwt_revoke_token(token) → jti.  Only a token whose signature a registry key
 * verifies (whatever the key's window and the token's time claims: an expired
 * token may be revoked) is taken; anything else is refused with 28000, as
 * jwt_claims() would refuse it, so no one revokes a jti on the strength of
 * a token the registry never issued or accepted.  The jti is revoked until
 * the token's exp; a token without exp is revoked for ever, with a NOTICE.
 */
Datum
jwt_revoke_token(PG_FUNCTION_ARGS)
{
	text	   *token;
	jose_verify_opts opts;
	jose_verified v;
	unsigned char *buf;
	size_t		len;
	jose_status st;
	jose_json_error jerr;
	Jsonb	   *payload;
	JsonbValue *jti,
			   *exp;
	JsonbValue	k;
	TimestampTz until;
	text	   *jti_text;
	AdminCall	c;

	if (PG_ARGISNULL(0))
		refuse_null("the token", "Pass the token to revoke.");
	token = PG_GETARG_TEXT_PP(0);
	len = VARSIZE_ANY_EXHDR(token);

	jwt_registry_for_statement(fcinfo);
	memset(&opts, 0, sizeof(opts));
	opts.max_len = (size_t) jwt_max_token_length;
	opts.algorithms = jwt_policy_algs;
	opts.jwt = 0;				/* claims are read below, not checked: expired is fine */
	opts.key_time = 0;			/* any registry key, retired ones too */
	if (jwt_registry.keys == NULL || jwt_registry.nkeys == 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_AUTHORIZATION_SPECIFICATION),
				 errmsg("invalid token"),
				 errdetail("The key registry jwt_keys holds no key."),
				 errhint("jwt_revoke_token() takes only tokens that a key of the registry verifies; revoke another jti with jwt_revoke()."),
				 errcontext("jwt_revoke_token()")));
	buf = len <= opts.max_len ? palloc(JOSE_VERIFY_BUFLEN(len)) : NULL;
	st = jose_verify(VARDATA_ANY(token), len, jwt_registry.keys, &opts, buf,
					 buf ? JOSE_VERIFY_BUFLEN(len) : 0, &v);
	if (st != JOSE_OK)
	{
		JwtErrorContext ctx = {0};

		if (jose_status_class_of(st) != JOSE_CLASS_TOKEN)
			jwt_report(st, NULL);
		ctx.alg = v.alg;
		ctx.op = JOSE_OP_VERIFY;
		ctx.token_len = len;
		ctx.verified = &v;
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_AUTHORIZATION_SPECIFICATION),
				 errmsg("invalid token"),
				 errdetail_internal("%s", jwt_token_detail(st, &ctx)),
				 errhint("jwt_revoke_token() takes only tokens that a key of the registry verifies; revoke another jti with jwt_revoke()."),
				 errcontext("jwt_revoke_token()")));
	}
	/*
	 * opts.jwt is off, so the core has not read the payload: it is checked
	 * here with the same strict parser before it becomes jsonb.
	 */
	jerr = jose_json_validate_stop((const char *) v.payload, v.payload_len, &jwt_stop, NULL);
	if (jerr == JOSE_JSON_INTERRUPTED)
		CHECK_FOR_INTERRUPTS();
	/* mutation: revoke-token-payload-json: if (jerr != JOSE_JSON_OK) => if (0) */
	if (jerr != JOSE_JSON_OK)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_AUTHORIZATION_SPECIFICATION),
				 errmsg("invalid token"),
				 errdetail("The token's payload is not valid JSON: %s", jose_json_error_text(jerr)),
				 errhint("jwt_revoke_token() takes only tokens that a key of the registry verifies; revoke another jti with jwt_revoke()."),
				 errcontext("jwt_revoke_token()")));
	payload = DatumGetJsonbP(jwt_json_to_jsonb((const char *) v.payload, v.payload_len));
	pfree(buf);
	if (!JB_ROOT_IS_OBJECT(payload))
		refuse_token("the token's payload is not a JSON object",
					 "Only a JWT, whose payload is a claims set with a jti, can be revoked one by one.");

	k.type = jbvString;
	k.val.string.val = "jti";
	k.val.string.len = 3;
	jti = findJsonbValueFromContainer(&payload->root, JB_FOBJECT, &k);
	if (jti == NULL)
		refuse_token("the token has no \"jti\" to revoke", JTI_HINT);
	if (jti->type != jbvString)
		refuse_token("the token's \"jti\" is not a string", JTI_HINT);
	jti_text = cstring_to_text_with_len(jti->val.string.val, jti->val.string.len);

	k.val.string.val = "exp";
	exp = findJsonbValueFromContainer(&payload->root, JB_FOBJECT, &k);
	if (exp != NULL && exp->type != jbvNumeric)
		refuse_token("the token's \"exp\" is not a number",
					 "A token whose exp is not a NumericDate is refused by jwt_claims() anyway.");
	if (exp == NULL)
	{
		TIMESTAMP_NOEND(until);
		ereport(NOTICE,
				(errmsg("the token has no \"exp\": its jti \"%s\" is revoked for ever",
						text_to_cstring(jti_text)),
				 errhint("jwt_purge_revocations() never removes it; DELETE its row from jwt_revocations to lift it.")));
	}
	else
		until = numeric_date(DatumGetFloat8(DirectFunctionCall1(numeric_float8,
																NumericGetDatum(exp->val.numeric))));

	admin_begin(fcinfo, &c);
	revoke_jti(&c, PointerGetDatum(jti_text), until);
	admin_end(&c);
	PG_RETURN_TEXT_P(jti_text);
}

/*
 * jwt_purge_revocations() → how many: deletes the revocations whose
 * expires_at is past by more than jwt.leeway (until then a token so revoked
 * would still be accepted), and the logins ended or past their end whose
 * last access token expired as long ago.
 */
Datum
jwt_purge_revocations(PG_FUNCTION_ARGS)
{
	AdminCall	c;
	Oid			types[1] = {TIMESTAMPTZOID};
	Datum		values[1];
	uint64		n;

	values[0] = TimestampTzGetDatum(GetCurrentTransactionStartTimestamp() -
									(TimestampTz) jwt_policy_leeway * USECS_PER_SEC);
	admin_begin(fcinfo, &c);
	n = admin_exec(&c, psprintf("DELETE FROM %s WHERE expires_at OPERATOR(pg_catalog.<) $1",
								c.revocations),
				   1, types, values, NULL, SPI_OK_DELETE);
	/*
	 * [lifecycle] logins that can no longer matter: ended or past their
	 * end, and their last access token expired.  Their refresh tokens first,
	 * in the order jwt_refresh() locks (a token's row, then its login's), so
	 * a refresh and a purge never wait on each other in a cycle; the
	 * cascade then finds none left.
	 */
	if (OidIsValid(c.logins_relid) && OidIsValid(c.refresh_tokens_relid))
		(void) admin_exec(&c, psprintf("DELETE FROM %s t USING %s l "
									   "WHERE t.sid OPERATOR(pg_catalog.=) l.sid "
									   "AND (l.ended_at IS NOT NULL "
									   "OR l.expires_at OPERATOR(pg_catalog.<) $1) "
									   "AND l.access_expires_at OPERATOR(pg_catalog.<) $1",
									   c.refresh_tokens, c.logins),
						  1, types, values, NULL, SPI_OK_DELETE);
	if (OidIsValid(c.logins_relid))
		n += admin_exec(&c, psprintf("DELETE FROM %s WHERE (ended_at IS NOT NULL "
									 "OR expires_at OPERATOR(pg_catalog.<) $1) "
									 "AND access_expires_at OPERATOR(pg_catalog.<) $1",
									 c.logins),
						1, types, values, NULL, SPI_OK_DELETE);
	admin_end(&c);
	PG_RETURN_INT64((int64) n);
}

/* The same, for the other files that write the extension's tables (logins.c). */
void
jwt_admin_begin(FunctionCallInfo fcinfo, AdminCall *c)
{
	admin_begin(fcinfo, c);
}

/*
 * [issuers] The same, from the extension's namespace and owner as the caller
 * found them: the fetcher's functions (jwt_fetch.so, which reaches this by
 * load_external_function) and its background worker, which has no function
 * of the extension to start from.
 */
void
jwt_admin_begin_ext(Oid nsp, Oid owner, AdminCall *c)
{
	/* the fetcher's calls: the tables are the members of the extension jwt */
	admin_begin_ext(get_extension_oid("jwt", false), nsp, owner, c);
}

void
jwt_admin_end(AdminCall *c)
{
	admin_end(c);
}

uint64
jwt_admin_exec(AdminCall *c, const char *sql, int nargs, Oid *types, Datum *values,
			   const char *nulls, int expect)
{
	return admin_exec(c, sql, nargs, types, values, nulls, expect);
}
