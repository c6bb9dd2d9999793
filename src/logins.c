/*
 * logins.c
 *		Logins with short-lived access tokens and rotating refresh tokens:
 *		jwt_login, jwt_refresh, jwt_logout (by refresh token or by the
 *		session's access token) and jwt_logout_all.
 *
 * A login is a row of jwt_logins; each refresh token a row of
 * jwt_refresh_tokens keyed by the SHA-256 of the opaque token, so that the
 * tables (and a dump of them) hold no usable refresh token.  A refresh token
 * works once: its first use marks it used and stores its successor
 * encrypted (AES-256-GCM) under a key derived (HKDF-SHA256) from the token
 * itself, so that a second presentation within jwt.refresh_reuse_interval
 * returns the same successor (one line of tokens, never a branch) and only a
 * holder of the token can read it.  A presentation after the interval is a
 * replay: the whole login ends, and its sid joins the revocation set that
 * jwt_claims() checks (registry.c), until its last access token has expired.
 *
 * A refused refresh token never raises: jwt_refresh() returns an RFC 6749
 * section 5.2 error object, so that ending a login on a replay commits.
 * Only a wrong call raises (22023).
 *
 * The tables are written as admin.c writes the registry: found in the
 * function's own namespace at call time, by fixed statements under a pinned
 * search_path, as the extension's owner (jwt_admin_begin and friends).
 *
 * Concurrency: jwt_refresh() locks the refresh token's row (FOR UPDATE)
 * before it reads its login, and every writer that also writes the login's
 * row takes the token row first or no token row at all, so no two calls
 * wait on each other in opposite orders.  At READ COMMITTED a call that
 * waited for a rotation sees the rotated row and gets the same successor;
 * at REPEATABLE READ and above it gets PostgreSQL's serialization failure.
 */
#include "postgres.h"

#include <math.h>

#include <openssl/evp.h>
#include <openssl/kdf.h>
#include <openssl/rand.h>

#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "utils/builtins.h"
#include "utils/jsonb.h"
#include "utils/timestamp.h"

#include "compat.h"
#include "jwt.h"

PG_FUNCTION_INFO_V1(jwt_login);
PG_FUNCTION_INFO_V1(jwt_refresh);
PG_FUNCTION_INFO_V1(jwt_logout);
PG_FUNCTION_INFO_V1(jwt_logout_session);
PG_FUNCTION_INFO_V1(jwt_logout_all);

#define REFRESH_RAW_LEN 32		/* 256 bits from the CSPRNG */
#define REFRESH_B64_LEN JOSE_B64_ENCODED_LEN(REFRESH_RAW_LEN)
#define HASH_LEN 32
#define GCM_NONCE_LEN 12
#define GCM_TAG_LEN 16
#define SEALED_VERSION 1
#define SEALED_LEN (1 + GCM_NONCE_LEN + REFRESH_RAW_LEN + GCM_TAG_LEN)

static void
random_bytes(unsigned char *buf, int len)
{
	if (RAND_bytes(buf, len) != 1)
		ereport(ERROR,
				(errcode(ERRCODE_INTERNAL_ERROR),
				 errmsg("could not generate random bytes")));
}

/* SHA-256 of a refresh token as presented: the key of its row. */
static bytea *
token_hash(const char *tok, size_t len)
{
	bytea	   *h = palloc(VARHDRSZ + HASH_LEN);
	unsigned int n = 0;

	SET_VARSIZE(h, VARHDRSZ + HASH_LEN);
	if (EVP_Digest(tok, len, (unsigned char *) VARDATA(h), &n, EVP_sha256(), NULL) != 1 ||
		n != HASH_LEN)
		elog(ERROR, "jwt: SHA-256 failed");
	return h;
}

/* The key that seals a token's successor: HKDF-SHA256 of the token itself. */
static bool
successor_key(const char *tok, size_t len, unsigned char key[32])
{
	static const char salt[] = "jwt refresh token";
	static const char info[] = "successor";
	EVP_PKEY_CTX *pctx = EVP_PKEY_CTX_new_id(EVP_PKEY_HKDF, NULL);
	size_t		keylen = 32;
	bool		ok;

	ok = pctx != NULL &&
		EVP_PKEY_derive_init(pctx) == 1 &&
		EVP_PKEY_CTX_set_hkdf_md(pctx, EVP_sha256()) == 1 &&
		EVP_PKEY_CTX_set1_hkdf_salt(pctx, (const unsigned char *) salt, sizeof(salt) - 1) == 1 &&
		EVP_PKEY_CTX_set1_hkdf_key(pctx, (const unsigned char *) tok, (int) len) == 1 &&
		EVP_PKEY_CTX_add1_hkdf_info(pctx, (const unsigned char *) info, sizeof(info) - 1) == 1 &&
		EVP_PKEY_derive(pctx, key, &keylen) == 1 && keylen == 32;
	EVP_PKEY_CTX_free(pctx);
	return ok;
}

/*
 * The successor's raw bytes sealed under the presented token's key, bound to
 * the presented token's row (its hash as additional data):
 * version || nonce || ciphertext || tag.
 */
static bytea *
seal_successor(const char *tok, size_t len, const bytea *hash,
			   const unsigned char raw[REFRESH_RAW_LEN])
{
	unsigned char key[32];
	bytea	   *out = palloc(VARHDRSZ + SEALED_LEN);
	unsigned char *p = (unsigned char *) VARDATA(out);
	EVP_CIPHER_CTX *ctx;
	int			n = 0,
				m = 0;
	bool		ok;

	SET_VARSIZE(out, VARHDRSZ + SEALED_LEN);
	p[0] = SEALED_VERSION;
	random_bytes(p + 1, GCM_NONCE_LEN);
	if (!successor_key(tok, len, key))
	{
		jose_cleanse(key, sizeof(key));
		elog(ERROR, "jwt: HKDF failed");
	}
	ctx = EVP_CIPHER_CTX_new();
	ok = ctx != NULL &&
		EVP_EncryptInit_ex(ctx, EVP_aes_256_gcm(), NULL, key, p + 1) == 1 &&
		EVP_EncryptUpdate(ctx, NULL, &n, (const unsigned char *) VARDATA_ANY(hash),
						  (int) VARSIZE_ANY_EXHDR(hash)) == 1 &&
		EVP_EncryptUpdate(ctx, p + 1 + GCM_NONCE_LEN, &n, raw, REFRESH_RAW_LEN) == 1 &&
		n == REFRESH_RAW_LEN &&
		EVP_EncryptFinal_ex(ctx, p + 1 + GCM_NONCE_LEN + n, &m) == 1 && m == 0 &&
		EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, GCM_TAG_LEN,
							p + 1 + GCM_NONCE_LEN + REFRESH_RAW_LEN) == 1;
	EVP_CIPHER_CTX_free(ctx);
	jose_cleanse(key, sizeof(key));
	if (!ok)
		elog(ERROR, "jwt: AES-256-GCM sealing failed");
	return out;
}

/* The successor back, or false when the seal does not open with this token. */
static bool
open_successor(const char *tok, size_t len, const bytea *hash, const bytea *sealed,
			   unsigned char raw[REFRESH_RAW_LEN])
{
	unsigned char key[32];
	const unsigned char *p = (const unsigned char *) VARDATA_ANY(sealed);
	EVP_CIPHER_CTX *ctx;
	int			n = 0,
				m = 0;
	bool		ok;

	if (VARSIZE_ANY_EXHDR(sealed) != SEALED_LEN || p[0] != SEALED_VERSION)
		return false;
	if (!successor_key(tok, len, key))
	{
		jose_cleanse(key, sizeof(key));
		elog(ERROR, "jwt: HKDF failed");
	}
	ctx = EVP_CIPHER_CTX_new();
	ok = ctx != NULL &&
		EVP_DecryptInit_ex(ctx, EVP_aes_256_gcm(), NULL, key, p + 1) == 1 &&
		EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_TAG, GCM_TAG_LEN,
							(void *) (p + 1 + GCM_NONCE_LEN + REFRESH_RAW_LEN)) == 1 &&
		EVP_DecryptUpdate(ctx, NULL, &n, (const unsigned char *) VARDATA_ANY(hash),
						  (int) VARSIZE_ANY_EXHDR(hash)) == 1 &&
		EVP_DecryptUpdate(ctx, raw, &n, p + 1 + GCM_NONCE_LEN, REFRESH_RAW_LEN) == 1 &&
		n == REFRESH_RAW_LEN &&
		EVP_DecryptFinal_ex(ctx, raw + n, &m) == 1;
	EVP_CIPHER_CTX_free(ctx);
	jose_cleanse(key, sizeof(key));
	if (!ok)
		jose_cleanse(raw, REFRESH_RAW_LEN);
	return ok;
}

/*
 * A refresh token as the client sees it: base64url, NUL-terminated, in cxt
 * (the caller's: inside an admin call the current context is SPI's, freed
 * by jwt_admin_end before the token response is built).
 */
static char *
encode_token(MemoryContext cxt, const unsigned char raw[REFRESH_RAW_LEN])
{
	char	   *s = MemoryContextAlloc(cxt, REFRESH_B64_LEN + 1);
	size_t		n = jose_b64url_encode(raw, REFRESH_RAW_LEN, s);

	s[n] = '\0';
	return s;
}

/* A random version 4 UUID as text: the login's sid. */
static char *
new_sid(void)
{
	unsigned char b[16];
	char	   *s = palloc(37);
	int			j = 0;

	random_bytes(b, sizeof(b));
	b[6] = (b[6] & 0x0f) | 0x40;
	b[8] = (b[8] & 0x3f) | 0x80;
	for (int i = 0; i < 16; i++)
	{
		if (i == 4 || i == 6 || i == 8 || i == 10)
			s[j++] = '-';
		snprintf(s + j, 3, "%02x", b[i]);
		j += 2;
	}
	s[j] = '\0';
	return s;
}

jwt_noreturn static void wrong_call(const char *msg, const char *hint);

static void
wrong_call(const char *msg, const char *hint)
{
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
			 errmsg("%s", msg),
			 errhint("%s", hint)));
}

static JsonbValue *
claim(Jsonb *claims, const char *name)
{
	JsonbValue	k;

	k.type = jbvString;
	k.val.string.val = (char *) name;
	k.val.string.len = strlen(name);
	return findJsonbValueFromContainer(&claims->root, JB_FOBJECT, &k);
}

/* Claims given to jwt_login() or jwt_refresh() must be an object. */
static void
check_object(Jsonb *claims, const char *fn)
{
	if (!JB_ROOT_IS_OBJECT(claims) || JB_ROOT_IS_SCALAR(claims))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("the claims of %s must be a JSON object", fn),
				 errhint("Pass the claims set of the access token, e.g. '{\"sub\": \"alice\", \"role\": \"app_user\"}'.")));
}

static void
append_string_member(StringInfo out, const char *name, const char *val, bool comma)
{
	if (comma)
		appendStringInfoChar(out, ',');
	jwt_json_escape(out, name, strlen(name));
	appendStringInfoChar(out, ':');
	jwt_json_escape(out, val, strlen(val));
}

/* The access token's claims (issue.c): the login's sub, sid, iat and exp. */
static Jsonb *
access_claims(Jsonb *base, const char *sub, const char *sid, int64 iat, int64 exp)
{
	return jwt_token_claims(base, iat, exp, sub, sid);
}

/* The RFC 6749 section 5.1 token response. */
static Datum
token_response(const char *access, int lifetime, const char *refresh, const char *sid)
{
	StringInfoData o;

	initStringInfo(&o);
	appendStringInfoChar(&o, '{');
	append_string_member(&o, "access_token", access, false);
	append_string_member(&o, "token_type", "Bearer", true);
	appendStringInfo(&o, ",\"expires_in\":%d", lifetime);
	append_string_member(&o, "refresh_token", refresh, true);
	append_string_member(&o, "sid", sid, true);
	appendStringInfoChar(&o, '}');
	return jwt_json_to_jsonb(o.data, o.len);
}

/* The RFC 6749 section 5.2 error object for a refused refresh token. */
static Datum
grant_error(const char *description)
{
	StringInfoData o;

	initStringInfo(&o);
	appendStringInfoChar(&o, '{');
	append_string_member(&o, "error", "invalid_grant", false);
	append_string_member(&o, "error_description", description, true);
	appendStringInfoChar(&o, '}');
	return jwt_json_to_jsonb(o.data, o.len);
}

static int64
unix_seconds(TimestampTz t)
{
	return (int64) floor(jwt_timestamptz_to_unix(t));
}

/*
 * An access token issued at now for a login that ends at login_end: its
 * exp, never past the login's end (the login's absolute lifetime bounds its
 * access tokens too), and when it expires as a timestamp.
 */
static int64
access_exp(TimestampTz now, TimestampTz login_end, TimestampTz *until)
{
	*until = Min(now + (TimestampTz) jwt_access_token_lifetime * USECS_PER_SEC, login_end);
	return Min(unix_seconds(now) + jwt_access_token_lifetime, unix_seconds(login_end));
}

/* Whether a text can be one of our refresh tokens: anything else is not known, unhashed. */
static bool
refresh_token_shaped(size_t len)
{
	return len == REFRESH_B64_LEN;
}

/* A new refresh token of login sid, valid until Min(now + lifetime, login's end). */
static char *
insert_refresh_token(AdminCall *c, const char *sid, TimestampTz now, TimestampTz login_end,
					 unsigned char raw[REFRESH_RAW_LEN])
{
	char	   *tok;
	Oid			types[4] = {BYTEAOID, TEXTOID, TIMESTAMPTZOID, TIMESTAMPTZOID};
	Datum		values[4];
	TimestampTz until = now + (TimestampTz) jwt_refresh_token_lifetime * USECS_PER_SEC;

	random_bytes(raw, REFRESH_RAW_LEN);
	tok = encode_token(c->caller, raw);
	values[0] = PointerGetDatum(token_hash(tok, strlen(tok)));
	values[1] = CStringGetTextDatum(sid);
	values[2] = TimestampTzGetDatum(now);
	values[3] = TimestampTzGetDatum(Min(until, login_end));
	(void) jwt_admin_exec(c, psprintf("INSERT INTO %s (hash, sid, issued_at, expires_at) "
									  "VALUES ($1, $2, $3, $4)", c->refresh_tokens),
						  4, types, values, NULL, SPI_OK_INSERT);
	return tok;
}

/*
 * jwt_login(claims, kid) → token response: a new login for the claims' sub,
 * an access token signed with the registry's signing key (or kid's) and the
 * login's first refresh token.
 */
Datum
jwt_login(PG_FUNCTION_ARGS)
{
	Jsonb	   *claims;
	JsonbValue *sub;
	char	   *sub_s;
	char	   *sid = new_sid();
	TimestampTz now = GetCurrentTimestamp();
	TimestampTz login_end = now + (TimestampTz) jwt_login_lifetime * USECS_PER_SEC;
	int64		iat = unix_seconds(now);
	TimestampTz access_until;
	int64		exp = access_exp(now, login_end, &access_until);
	unsigned char raw[REFRESH_RAW_LEN];
	char	   *refresh;
	text	   *access;
	AdminCall	c;
	Oid			types[6] = {TEXTOID, TEXTOID, JSONBOID, TIMESTAMPTZOID, TIMESTAMPTZOID,
	TIMESTAMPTZOID};
	Datum		values[6];

	if (PG_ARGISNULL(0))
		wrong_call("the claims of jwt_login() must not be NULL",
				   "Pass the claims of the access token, with the subject in \"sub\".");
	claims = PG_GETARG_JSONB_P(0);
	check_object(claims, "jwt_login()");
	sub = claim(claims, "sub");
	if (sub == NULL || sub->type != jbvString || sub->val.string.len == 0)
		wrong_call("the claims of jwt_login() must have a non-empty string \"sub\"",
				   "A login is a subject's: name it in \"sub\".");
	sub_s = pnstrdup(sub->val.string.val, sub->val.string.len);

	/* signed first: without a key that can sign, nothing is written */
	access = jwt_sign_with_registry(fcinfo, access_claims(claims, sub_s, sid, iat, exp),
									PG_ARGISNULL(1) ? NULL : PG_GETARG_TEXT_PP(1));

	values[0] = CStringGetTextDatum(sid);
	values[1] = CStringGetTextDatum(sub_s);
	values[2] = JsonbPGetDatum(claims);
	values[3] = TimestampTzGetDatum(now);
	values[4] = TimestampTzGetDatum(login_end);
	values[5] = TimestampTzGetDatum(access_until);
	jwt_admin_begin(fcinfo, &c);
	(void) jwt_admin_exec(&c, psprintf("INSERT INTO %s (sid, sub, claims, created_at, expires_at, access_expires_at) "
									   "VALUES ($1, $2, $3, $4, $5, $6)", c.logins),
						  6, types, values, NULL, SPI_OK_INSERT);
	refresh = insert_refresh_token(&c, sid, now, login_end, raw);
	jwt_admin_end(&c);
	jose_cleanse(raw, sizeof(raw));
	PG_RETURN_DATUM(token_response(text_to_cstring(access), (int) (exp - iat), refresh, sid));
}

/*
 * The login that a refresh token belongs to, read after the token's row was
 * locked, and locked in turn (the lock order: token, then login): a logout,
 * a replay or jwt_logout_all() committing meanwhile is waited for and seen,
 * so no refresh succeeds for a login ended under it.
 */
typedef struct LoginRow
{
	char	   *sub;
	Jsonb	   *claims;
	TimestampTz expires_at;
	bool		ended;
	char	   *end_reason;
} LoginRow;

static bool
read_login(AdminCall *c, Datum sid, LoginRow *l)
{
	Oid			types[1] = {TEXTOID};
	Datum		values[1] = {sid};
	HeapTuple	tup;
	TupleDesc	desc;
	bool		isnull;
	MemoryContext old;

	if (jwt_admin_exec(c, psprintf("SELECT sub, claims, expires_at, ended_at, end_reason FROM %s "
								   "WHERE sid OPERATOR(pg_catalog.=) $1 FOR NO KEY UPDATE", c->logins),
					   1, types, values, NULL, SPI_OK_SELECT) != 1)
		return false;
	tup = SPI_tuptable->vals[0];
	desc = SPI_tuptable->tupdesc;
	old = MemoryContextSwitchTo(c->caller);
	l->sub = TextDatumGetCString(SPI_getbinval(tup, desc, 1, &isnull));
	l->claims = DatumGetJsonbPCopy(SPI_getbinval(tup, desc, 2, &isnull));
	l->expires_at = DatumGetTimestampTz(SPI_getbinval(tup, desc, 3, &isnull));
	(void) SPI_getbinval(tup, desc, 4, &l->ended);
	l->ended = !l->ended;
	l->end_reason = NULL;
	if (l->ended)
	{
		Datum		r = SPI_getbinval(tup, desc, 5, &isnull);

		l->end_reason = isnull ? pstrdup("") : TextDatumGetCString(r);
	}
	MemoryContextSwitchTo(old);
	return true;
}

/* The login's access tokens now last until at least exp; and its claims, when given. */
static void
note_access_token(AdminCall *c, Datum sid, TimestampTz exp, Jsonb *claims)
{
	Oid			types[3] = {TEXTOID, TIMESTAMPTZOID, JSONBOID};
	Datum		values[3] = {sid, TimestampTzGetDatum(exp), claims ? JsonbPGetDatum(claims) : 0};
	char		nulls[3] = {' ', ' ', claims ? ' ' : 'n'};

	(void) jwt_admin_exec(c, psprintf("UPDATE %s SET access_expires_at = GREATEST(access_expires_at, $2), "
									  "claims = COALESCE($3, claims) "
									  "WHERE sid OPERATOR(pg_catalog.=) $1", c->logins),
						  3, types, values, nulls, SPI_OK_UPDATE);
}

/* End a login that is not ended yet; true when this call ended it. */
static bool
end_login(AdminCall *c, Datum sid, TimestampTz now, const char *reason)
{
	Oid			types[3] = {TEXTOID, TIMESTAMPTZOID, TEXTOID};
	Datum		values[3] = {sid, TimestampTzGetDatum(now), CStringGetTextDatum(reason)};

	return jwt_admin_exec(c, psprintf("UPDATE %s SET ended_at = $2, end_reason = $3 "
									  "WHERE sid OPERATOR(pg_catalog.=) $1 AND ended_at IS NULL",
									  c->logins),
						  3, types, values, NULL, SPI_OK_UPDATE) > 0;
}

/*
 * jwt_refresh(refresh_token, claims) → token response, or an RFC 6749 error
 * object when the refresh token is refused.
 */
Datum
jwt_refresh(PG_FUNCTION_ARGS)
{
	text	   *tok_t;
	char	   *tok;
	size_t		tok_len;
	Jsonb	   *given = NULL;
	bytea	   *hash;
	TimestampTz now = GetCurrentTimestamp();
	AdminCall	c;
	Oid			types[1] = {BYTEAOID};
	Datum		values[1];
	Datum		sid_d;
	char	   *sid;
	TimestampTz token_end;
	bool		used;
	TimestampTz used_at = 0;
	bytea	   *sealed = NULL;
	LoginRow	l;
	const char *refused = NULL;
	unsigned char raw[REFRESH_RAW_LEN];
	char	   *refresh = NULL;
	Jsonb	   *base;
	JsonbValue *gsub;
	int64		iat = unix_seconds(now);
	int64		exp;
	TimestampTz access_until;
	text	   *access;
	StringInfoData who;

	if (PG_ARGISNULL(0))
		wrong_call("the refresh token must not be NULL",
				   "Pass the refresh_token of the last token response.");
	if (!PG_ARGISNULL(1))
	{
		given = PG_GETARG_JSONB_P(1);
		check_object(given, "jwt_refresh()");
	}
	tok_t = PG_GETARG_TEXT_PP(0);
	tok = VARDATA_ANY(tok_t);
	tok_len = VARSIZE_ANY_EXHDR(tok_t);
	if (!refresh_token_shaped(tok_len))
		PG_RETURN_DATUM(grant_error("the refresh token is not known"));
	hash = token_hash(tok, tok_len);
	values[0] = PointerGetDatum(hash);

	jwt_admin_begin(fcinfo, &c);
	/* the token's row first, locked: concurrent refreshes of it queue here */
	if (jwt_admin_exec(&c, psprintf("SELECT sid, expires_at, used_at, successor_enc FROM %s "
									"WHERE hash OPERATOR(pg_catalog.=) $1 FOR UPDATE",
									c.refresh_tokens),
					   1, types, values, NULL, SPI_OK_SELECT) != 1)
	{
		jwt_admin_end(&c);
		PG_RETURN_DATUM(grant_error("the refresh token is not known"));
	}
	{
		HeapTuple	tup = SPI_tuptable->vals[0];
		TupleDesc	desc = SPI_tuptable->tupdesc;
		bool		isnull;
		MemoryContext old = MemoryContextSwitchTo(c.caller);
		Datum		d;

		sid = TextDatumGetCString(SPI_getbinval(tup, desc, 1, &isnull));
		token_end = DatumGetTimestampTz(SPI_getbinval(tup, desc, 2, &isnull));
		d = SPI_getbinval(tup, desc, 3, &isnull);
		used = !isnull;
		if (used)
			used_at = DatumGetTimestampTz(d);
		d = SPI_getbinval(tup, desc, 4, &isnull);
		if (!isnull)
			sealed = DatumGetByteaPCopy(d);
		MemoryContextSwitchTo(old);
	}
	sid_d = CStringGetTextDatum(sid);
	if (!read_login(&c, sid_d, &l))
		elog(ERROR, "jwt: a refresh token's login is missing from jwt_logins");

	if (l.ended)
		refused = strcmp(l.end_reason, "reuse") == 0 ?
			"the refresh token was already used: the login has ended" :
			"the login was ended by logout";
	else if (l.expires_at <= now)
		refused = "the login has reached its maximum lifetime";
	else if (used && (sealed == NULL ||
					  now - used_at > (TimestampTz) jwt_refresh_reuse_interval * USECS_PER_SEC))
	{
		/* a replay: the whole login ends, and the ending commits */
		(void) end_login(&c, sid_d, now, "reuse");
		/* the subject as a JSON string: whatever it holds, it shapes no log line */
		initStringInfo(&who);
		appendStringInfoChar(&who, '"');
		jwt_json_escape(&who, l.sub, strlen(l.sub));
		appendStringInfoChar(&who, '"');
		ereport(LOG_SERVER_ONLY,
				(errmsg("jwt: a used refresh token was presented again: login %s of subject %s is ended",
						sid, who.data),
				 errhidestmt(true), errhidecontext(true)));
		refused = "the refresh token was already used: the login has ended";
	}
	else if (!used && token_end <= now)
		refused = "the refresh token has expired";
	if (refused != NULL)
	{
		jwt_admin_end(&c);
		PG_RETURN_DATUM(grant_error(refused));
	}

	/* a wrong call, before anything is written */
	if (given != NULL && (gsub = claim(given, "sub")) != NULL &&
		(gsub->type != jbvString || gsub->val.string.len != strlen(l.sub) ||
		 memcmp(gsub->val.string.val, l.sub, gsub->val.string.len) != 0))
		wrong_call("the claims of jwt_refresh() must not change \"sub\"",
				   "A login is one subject's; start a new login with jwt_login() for another.");

	if (used)
	{
		/* within the reuse interval: the same successor, a fresh access token */
		if (!open_successor(tok, tok_len, hash, sealed, raw))
			elog(ERROR, "jwt: the successor of a refresh token does not open");
		refresh = encode_token(c.caller, raw);
		exp = access_exp(now, l.expires_at, &access_until);
		note_access_token(&c, sid_d, access_until, given);
	}
	else
	{
		Oid			utypes[3] = {BYTEAOID, TIMESTAMPTZOID, BYTEAOID};
		Datum		uvalues[3];

		refresh = insert_refresh_token(&c, sid, now, l.expires_at, raw);
		uvalues[0] = PointerGetDatum(hash);
		uvalues[1] = TimestampTzGetDatum(now);
		uvalues[2] = PointerGetDatum(seal_successor(tok, tok_len, hash, raw));
		(void) jwt_admin_exec(&c, psprintf("UPDATE %s SET used_at = $2, successor_enc = $3 "
										   "WHERE hash OPERATOR(pg_catalog.=) $1", c.refresh_tokens),
							  3, utypes, uvalues, NULL, SPI_OK_UPDATE);
		exp = access_exp(now, l.expires_at, &access_until);
		note_access_token(&c, sid_d, access_until, given);
	}
	jwt_admin_end(&c);
	jose_cleanse(raw, sizeof(raw));

	base = given ? given : l.claims;
	access = jwt_sign_with_registry(fcinfo, access_claims(base, l.sub, sid, iat, exp), NULL);
	PG_RETURN_DATUM(token_response(text_to_cstring(access), (int) (exp - iat), refresh, sid));
}

/* jwt_logout(refresh_token) → whether this call ended the token's login. */
Datum
jwt_logout(PG_FUNCTION_ARGS)
{
	text	   *tok;
	AdminCall	c;
	Oid			types[3] = {BYTEAOID, TIMESTAMPTZOID, TEXTOID};
	Datum		values[3];
	bool		ended;

	if (PG_ARGISNULL(0))
		wrong_call("the refresh token must not be NULL",
				   "Pass the refresh token of the login to end, or call jwt_logout() to end the session token's login.");
	tok = PG_GETARG_TEXT_PP(0);
	if (!refresh_token_shaped(VARSIZE_ANY_EXHDR(tok)))
		PG_RETURN_BOOL(false);
	values[0] = PointerGetDatum(token_hash(VARDATA_ANY(tok), VARSIZE_ANY_EXHDR(tok)));
	values[1] = TimestampTzGetDatum(GetCurrentTimestamp());
	values[2] = CStringGetTextDatum("logout");
	jwt_admin_begin(fcinfo, &c);
	ended = jwt_admin_exec(&c, psprintf("UPDATE %s l SET ended_at = $2, end_reason = $3 FROM %s t "
										"WHERE t.hash OPERATOR(pg_catalog.=) $1 "
										"AND l.sid OPERATOR(pg_catalog.=) t.sid AND l.ended_at IS NULL",
										c.logins, c.refresh_tokens),
						   3, types, values, NULL, SPI_OK_UPDATE) > 0;
	jwt_admin_end(&c);
	PG_RETURN_BOOL(ended);
}

/*
 * jwt_logout() → whether this call ended the login named by the sid of the
 * session's verified access token (jwt_claims()); false without one.
 */
Datum
jwt_logout_session(PG_FUNCTION_ARGS)
{
	Jsonb	   *claims = jwt_session_claims(fcinfo);
	JsonbValue *sid;
	JsonbValue *sub;
	AdminCall	c;
	Oid			types[4] = {TEXTOID, TIMESTAMPTZOID, TEXTOID, TEXTOID};
	Datum		values[4];
	bool		ended;

	/* [issuers] an identity provider's token names no login of ours */
	if (claims == NULL || jwt_session_from_issuer() ||
		(sid = claim(claims, "sid")) == NULL || sid->type != jbvString ||
		(sub = claim(claims, "sub")) == NULL || sub->type != jbvString)
		PG_RETURN_BOOL(false);
	/*
	 * The login of that sid and of the token's own subject: a token that
	 * names another subject's sid (jwt_issue() signs the claims it is given,
	 * sid included) ends nothing.
	 */
	values[0] = PointerGetDatum(cstring_to_text_with_len(sid->val.string.val, sid->val.string.len));
	values[1] = TimestampTzGetDatum(GetCurrentTimestamp());
	values[2] = CStringGetTextDatum("logout");
	values[3] = PointerGetDatum(cstring_to_text_with_len(sub->val.string.val, sub->val.string.len));
	jwt_admin_begin(fcinfo, &c);
	ended = jwt_admin_exec(&c, psprintf("UPDATE %s SET ended_at = $2, end_reason = $3 "
										"WHERE sid OPERATOR(pg_catalog.=) $1 AND sub OPERATOR(pg_catalog.=) $4 "
										"AND ended_at IS NULL", c.logins),
						   4, types, values, NULL, SPI_OK_UPDATE) > 0;
	jwt_admin_end(&c);
	PG_RETURN_BOOL(ended);
}

/* jwt_logout_all(sub) → how many logins of the subject this call ended. */
Datum
jwt_logout_all(PG_FUNCTION_ARGS)
{
	AdminCall	c;
	Oid			types[3] = {TEXTOID, TIMESTAMPTZOID, TEXTOID};
	Datum		values[3];
	uint64		n;

	if (PG_ARGISNULL(0))
		wrong_call("sub must not be NULL", "Pass the subject whose logins to end.");
	values[0] = PG_GETARG_DATUM(0);
	values[1] = TimestampTzGetDatum(GetCurrentTimestamp());
	values[2] = CStringGetTextDatum("logout_all");
	jwt_admin_begin(fcinfo, &c);
	n = jwt_admin_exec(&c, psprintf("UPDATE %s SET ended_at = $2, end_reason = $3 "
									"WHERE sub OPERATOR(pg_catalog.=) $1 AND ended_at IS NULL",
									c.logins),
					   3, types, values, NULL, SPI_OK_UPDATE);
	jwt_admin_end(&c);
	PG_RETURN_INT32((int32) Min(n, (uint64) PG_INT32_MAX));
}
