/*
 * verify.c
 *		jwt_verify(), jwt_is_valid() and jws_verify(): the SQL face of
 *		jose_verify().
 */
#include "postgres.h"

#include "datatype/timestamp.h"
#include "mb/pg_wchar.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/timestamp.h"
#include "access/xact.h"

#include "jwt.h"

PG_FUNCTION_INFO_V1(jwt_verify_text);
PG_FUNCTION_INFO_V1(jwt_verify_bytea);
PG_FUNCTION_INFO_V1(jwt_is_valid_text);
PG_FUNCTION_INFO_V1(jwt_is_valid_bytea);
PG_FUNCTION_INFO_V1(jws_verify);

/* Argument positions shared by jwt_verify and jwt_is_valid. */
#define ARG_TOKEN		0
#define ARG_KEY			1
#define ARG_ALGORITHMS	2
#define ARG_AUDIENCE	3
#define ARG_ISSUER		4
#define ARG_LEEWAY		5

typedef enum VerifyOutcome
{
	VERIFY_NULL,				/* a required argument was NULL */
	VERIFY_OK,
	VERIFY_REFUSED				/* the token is bad (only when not raising) */
} VerifyOutcome;

/* jwt_now() as seconds since the Unix epoch: "now" for every claim. */
static double
statement_now(void)
{
	TimestampTz ts = jwt_now();

	return (double) ts / USECS_PER_SEC +
		(double) (POSTGRES_EPOCH_JDATE - UNIX_EPOCH_JDATE) * SECS_PER_DAY;
}

static double
leeway_seconds(Interval *iv)
{
	double		secs = (double) iv->time / USECS_PER_SEC +
		(double) iv->day * SECS_PER_DAY +
		(double) iv->month * DAYS_PER_MONTH * SECS_PER_DAY;

	if (secs < 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("leeway must not be negative"),
				 errhint("Leeway widens the time checks by a few seconds or minutes, e.g. '30 seconds'.")));
	return secs;
}

static const char *
text_arg(FunctionCallInfo fcinfo, int n, size_t *len, const char *what)
{
	text	   *t;

	if (PG_ARGISNULL(n))
		return NULL;
	t = PG_GETARG_TEXT_PP(n);
	*len = VARSIZE_ANY_EXHDR(t);
	if (*len == 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("%s must not be empty", what),
				 errhint("Pass NULL to skip the %s check.", what)));
	return VARDATA_ANY(t);
}

/*
 * The key must be able to verify at least one allowed algorithm; otherwise
 * the call, not the token, is wrong.
 */
static void
check_key_usable(const jose_keyset *keys, jose_algset allowed)
{
	jose_algset can = jose_keyset_algs(keys, JOSE_OP_VERIFY);
	JwtErrorContext ctx = {0};
	jose_status st = JOSE_E_KEY_ALG;

	if (allowed != 0 ? (can & allowed) != 0 : can != 0)
		return;

	/*
	 * Name the first algorithm asked for, or else the one the key is meant
	 * for, so that the error gives the key's real fault (too short, not for
	 * verifying) rather than a family mismatch.
	 */
	ctx.alg = jose_keyset_count(keys) == 1 ?
		jose_key_natural_alg(jose_keyset_key(keys, 0)) : JOSE_ALG_UNSET;
	for (int a = 1; allowed != 0 && a < JOSE_ALG_COUNT_; a++)
		if (allowed & JOSE_ALGBIT(a))
		{
			ctx.alg = (jose_alg) a;
			break;
		}
	ctx.op = JOSE_OP_VERIFY;
	ctx.keys = keys;
	if (jose_keyset_count(keys) == 1 && ctx.alg != JOSE_ALG_UNSET)
	{
		st = jose_key_check(jose_keyset_key(keys, 0), ctx.alg, JOSE_OP_VERIFY);
		if (st == JOSE_OK)
			st = JOSE_E_KEY_ALG;
	}
	jwt_report(st, &ctx);
}

/*
 * The last good header these functions saw (jose_header_memo): the tokens of
 * one issuer mostly share theirs, byte for byte, and then it is neither
 * decoded nor parsed again.  What the header says is a function of its
 * bytes alone, so it holds in every transaction, for every key and role.
 */
static jose_header_memo header_memo;

/*
 * jwt: a JWT, whose payload is a claims set, with the claim arguments; else
 * a JWS (token, key, algorithms) whose payload is returned as bytea.
 */
static VerifyOutcome
verify_common(FunctionCallInfo fcinfo, jose_key_form form, bool jwt, bool raise,
			  bool want_result, Datum *result)
{
	text	   *token;
	const char *tok;
	size_t		toklen;
	const jose_keyset *keys;
	jose_verify_opts opts;
	jose_verified v;
	JwtErrorContext ctx = {0};
	unsigned char *buf;
	jose_status st;

	/* the claims as jsonb from the core's own parse of them (jsonin.c) */
	jose_json_tape tape;
	bool		use_tape;

	if (PG_ARGISNULL(ARG_TOKEN) || PG_ARGISNULL(ARG_KEY))
		return VERIFY_NULL;

	memset(&opts, 0, sizeof(opts));
	opts.max_len = (size_t) jwt_max_token_length;
	opts.stop = &jwt_stop;
	opts.header_memo = &header_memo;
	opts.jwt = jwt;
	if (!PG_ARGISNULL(ARG_ALGORITHMS))
		opts.algorithms = jwt_algset_from_array(PG_GETARG_ARRAYTYPE_P(ARG_ALGORITHMS));
	if (jwt)
	{
		opts.claims.audience = text_arg(fcinfo, ARG_AUDIENCE, &opts.claims.audience_len,
										"audience");
		opts.claims.issuer = text_arg(fcinfo, ARG_ISSUER, &opts.claims.issuer_len,
									  "issuer");
		if (!PG_ARGISNULL(ARG_LEEWAY))
			opts.claims.leeway = leeway_seconds(PG_GETARG_INTERVAL_P(ARG_LEEWAY));
		opts.claims.now = statement_now();
	}

	if (form == JOSE_KEY_SECRET)
	{
		bytea	   *key = PG_GETARG_BYTEA_PP(ARG_KEY);

		keys = jwt_keyset_lookup(fcinfo, VARDATA_ANY(key), VARSIZE_ANY_EXHDR(key), form);
	}
	else
	{
		text	   *key = PG_GETARG_TEXT_PP(ARG_KEY);

		keys = jwt_keyset_lookup(fcinfo, VARDATA_ANY(key), VARSIZE_ANY_EXHDR(key), form);
	}
	check_key_usable(keys, opts.algorithms);

	token = PG_GETARG_TEXT_PP(ARG_TOKEN);
	tok = VARDATA_ANY(token);
	toklen = VARSIZE_ANY_EXHDR(token);

	use_tape = want_result && jwt && GetDatabaseEncoding() == PG_UTF8;
	if (use_tape)
	{
		jose_json_tape_init(&tape);
		opts.tape = &tape;
	}

	/* the size cap comes before any allocation sized by the token */
	buf = toklen <= opts.max_len ? palloc(JOSE_VERIFY_BUFLEN(toklen)) : NULL;
	st = jose_verify(tok, toklen, keys, &opts, buf, buf ? JOSE_VERIFY_BUFLEN(toklen) : 0, &v);
	if (st != JOSE_OK)
	{
		if (use_tape)
			jose_json_tape_free(&tape);
		if (!raise && jose_status_class_of(st) == JOSE_CLASS_TOKEN)
		{
			if (buf != NULL)
				pfree(buf);
			return VERIFY_REFUSED;
		}
		ctx.alg = v.alg;
		ctx.op = JOSE_OP_VERIFY;
		ctx.keys = keys;
		ctx.token_len = toklen;
		ctx.verified = &v;
		jwt_report(st, &ctx);
	}
	if (use_tape)
		*result = JsonbPGetDatum(jwt_tape_to_jsonb(&tape));
	else if (want_result && jwt)
		*result = jwt_json_to_jsonb((const char *) v.payload, v.payload_len);
	else if (want_result)
	{
		bytea	   *b = palloc(VARHDRSZ + v.payload_len);

		memcpy(VARDATA(b), v.payload, v.payload_len);
		SET_VARSIZE(b, VARHDRSZ + v.payload_len);
		*result = PointerGetDatum(b);
	}
	pfree(buf);
	return VERIFY_OK;
}

Datum
jwt_verify_text(PG_FUNCTION_ARGS)
{
	Datum		claims = (Datum) 0;

	if (verify_common(fcinfo, JOSE_KEY_TEXT, true, true, true, &claims) == VERIFY_NULL)
		PG_RETURN_NULL();
	PG_RETURN_DATUM(claims);
}

Datum
jwt_verify_bytea(PG_FUNCTION_ARGS)
{
	Datum		claims = (Datum) 0;

	if (verify_common(fcinfo, JOSE_KEY_SECRET, true, true, true, &claims) == VERIFY_NULL)
		PG_RETURN_NULL();
	PG_RETURN_DATUM(claims);
}

Datum
jwt_is_valid_text(PG_FUNCTION_ARGS)
{
	VerifyOutcome o = verify_common(fcinfo, JOSE_KEY_TEXT, true, false, false, NULL);

	if (o == VERIFY_NULL)
		PG_RETURN_NULL();
	PG_RETURN_BOOL(o == VERIFY_OK);
}

Datum
jwt_is_valid_bytea(PG_FUNCTION_ARGS)
{
	VerifyOutcome o = verify_common(fcinfo, JOSE_KEY_SECRET, true, false, false, NULL);

	if (o == VERIFY_NULL)
		PG_RETURN_NULL();
	PG_RETURN_BOOL(o == VERIFY_OK);
}

Datum
jws_verify(PG_FUNCTION_ARGS)
{
	Datum		payload = (Datum) 0;

	if (verify_common(fcinfo, JOSE_KEY_TEXT, false, true, true, &payload) == VERIFY_NULL)
		PG_RETURN_NULL();
	PG_RETURN_DATUM(payload);
}
