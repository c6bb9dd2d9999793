/*
 * errors.c
 *		The one place where core status codes become PostgreSQL errors.
 *
 * A bad token is 28000 "invalid token" with a detail naming the rule; a
 * wrong call is 22023 with a hint saying what would work; a failure inside
 * OpenSSL is 39000.  Nothing here ever prints a key or a token: details name
 * rules, algorithms and sizes only.
 */
#include "postgres.h"

#include "miscadmin.h"

#include "jwt.h"

/*
 * The core's stop hook: only a test of the flags that a cancel, a
 * statement_timeout or a terminate set.  The core then frees what it holds
 * and returns JOSE_E_INTERRUPTED, which jwt_report turns into the error
 * CHECK_FOR_INTERRUPTS raises.  Held-off interrupts do not stop the core:
 * the work is bounded by the caps and finishes.
 */
static int
jwt_should_stop(void *arg)
{
	(void) arg;
	return (QueryCancelPending || ProcDiePending) && INTERRUPTS_CAN_BE_PROCESSED();
}

const jose_stop jwt_stop = {jwt_should_stop, NULL};

static const char *
alg_name(const JwtErrorContext *ctx)
{
	const jose_alg_info *info = ctx ? jose_alg_get(ctx->alg) : NULL;

	return info ? info->name : "any algorithm";
}

/*
 * The caller's algorithm argument, quoted, when it looks like a name; a key
 * passed in its place (arguments swapped) must not be echoed into the
 * message and the log, so anything else is only described by its length.
 */
static const char *
quoted_alg_name(const JwtErrorContext *ctx)
{
	const char *s = ctx && ctx->alg_name ? ctx->alg_name : "";
	size_t		len = strlen(s);

	if (len > 16)
		return psprintf("(a value of %zu bytes)", len);
	for (size_t i = 0; i < len; i++)
		if (!((s[i] >= 'A' && s[i] <= 'Z') || (s[i] >= 'a' && s[i] <= 'z') ||
			  (s[i] >= '0' && s[i] <= '9') || s[i] == '-' || s[i] == '_' ||
			  s[i] == '+' || s[i] == '.'))
			return psprintf("(a value of %zu bytes)", len);
	return psprintf("\"%s\"", s);
}

/* The detail of a 28000 error: the rule, with what makes it specific. */
const char *
jwt_token_detail(jose_status st, const JwtErrorContext *ctx)
{
	const jose_verified *v = ctx ? ctx->verified : NULL;

	switch (st)
	{
		case JOSE_E_TOO_LARGE:
			return psprintf("The token is %zu bytes long; jwt.max_token_length is %d.",
							ctx ? ctx->token_len : 0, jwt_max_token_length);
		case JOSE_E_HEADER_JSON:
		case JOSE_E_PAYLOAD_JSON:
			if (v && v->json_error == JOSE_JSON_NOT_OBJECT)
				return st == JOSE_E_HEADER_JSON ? "The header is not a JSON object." :
					"The payload is not a JSON object.";
			if (v && v->json_error != JOSE_JSON_OK)
				return psprintf("The %s is not acceptable JSON: it has %s.",
								st == JOSE_E_HEADER_JSON ? "header" : "payload",
								jose_json_error_text(v->json_error));
			break;
		case JOSE_E_ALG_NOT_ALLOWED:
			return psprintf("The token's algorithm %s is not among the allowed algorithms.",
							alg_name(ctx));
		case JOSE_E_ALG_KEY:
			return psprintf("The key cannot verify %s tokens.", alg_name(ctx));
		case JOSE_E_CLAIM_MISSING:
			if (v && v->detail_claim)
				return psprintf("The required claim \"%s\" is missing.", v->detail_claim);
			break;
		case JOSE_E_CLAIM_TYPE:
			if (v && v->detail_claim)
			{
				if (strcmp(v->detail_claim, "aud") == 0)
					return "The claim \"aud\" must be a string or an array of strings.";
				if (strcmp(v->detail_claim, "iss") == 0)
					return "The claim \"iss\" must be a string.";
				return psprintf("The claim \"%s\" must be a finite JSON number.",
								v->detail_claim);
			}
			break;
		default:
			break;
	}
	return jose_status_detail(st);
}

#define ENC_KEY_HINT "This JWK is an encryption key (\"use\":\"enc\"), not a signature key; sign and verify with a key whose \"use\" is \"sig\"."

/* What the key in the call can do, for the hint of a wrong call. */
static const char *
key_algs_hint(const JwtErrorContext *ctx)
{
	char		buf[256];
	jose_algset set;

	if (ctx != NULL && ctx->keys == NULL && ctx->algs_known)
		set = ctx->algs;
	else if (ctx == NULL || ctx->keys == NULL)
		return "Use a key of the algorithm's family: a secret for HS*, RSA for RS* and PS*, the algorithm's curve for ES*, Ed25519 or Ed448 for EdDSA.";
	else
	{
		const jose_key *key = jose_keyset_count(ctx->keys) == 1 ?
			jose_keyset_key(ctx->keys, 0) : NULL;

		set = jose_keyset_algs(ctx->keys, ctx->op ? ctx->op : JOSE_OP_VERIFY);
		if (key != NULL && jose_key_is_for_encryption(key))
			return ENC_KEY_HINT;
		if (key != NULL && set == 0 && ctx->op == JOSE_OP_SIGN)
		{
			jose_algset verify = jose_key_algs(key, JOSE_OP_VERIFY);
			jose_alg	natural = jose_key_natural_alg(key);

			if (verify != 0 && natural != JOSE_ALG_UNSET &&
				jose_key_check(key, natural, JOSE_OP_SIGN) == JOSE_E_KEY_NOT_PRIVATE)
				return psprintf("This is a public key: it cannot sign, and verifies %s tokens. Signing needs its private key (a PEM PRIVATE KEY, or a JWK with \"d\").",
								jose_algset_format(verify, buf, sizeof(buf)));
		}
	}
	if (set == 0)
		return "This key can be used with no algorithm.";
	return psprintf("This key can be used with: %s.",
					jose_algset_format(set, buf, sizeof(buf)));
}

void
jwt_report(jose_status st, const JwtErrorContext *ctx)
{
	switch (jose_status_class_of(st))
	{
		case JOSE_CLASS_OK:
			return;

		case JOSE_CLASS_TOKEN:
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_AUTHORIZATION_SPECIFICATION),
					 errmsg("invalid token"),
					 errdetail_internal("%s", jwt_token_detail(st, ctx))));
			break;

		case JOSE_CLASS_CALL:
			switch (st)
			{
				case JOSE_E_ALG_INVALID:
					ereport(ERROR,
							(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
							 errmsg("unrecognized JWS algorithm %s", quoted_alg_name(ctx)),
							 errhint("Algorithm names are case-sensitive: HS256, HS384, HS512, RS256, RS384, RS512, PS256, PS384, PS512, ES256, ES384, ES512, ES256K, EdDSA, Ed25519, Ed448.")));
					break;
				case JOSE_E_ALG_FORBIDDEN:
					ereport(ERROR,
							(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
							 errmsg("algorithm \"none\" is not allowed"),
							 errhint("Unsigned tokens are never produced or accepted.")));
					break;
				case JOSE_E_ALG_UNSUPPORTED:
					ereport(ERROR,
							(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
							 errmsg("algorithm %s is not supported by this version", alg_name(ctx)),
							 errhint("Use one of HS256, HS384, HS512, RS256, RS384, RS512, PS256, PS384, PS512, ES256, ES384, ES512, ES256K, EdDSA, Ed25519, Ed448.")));
					break;
				case JOSE_E_KEY_EMPTY:
					ereport(ERROR,
							(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
							 errmsg("key is empty"),
							 errhint("HS256 needs a secret of at least 32 bytes, HS384 48 bytes and HS512 64 bytes.")));
					break;
				case JOSE_E_KEY_FORMAT:
					ereport(ERROR,
							(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
							 errmsg("invalid key"),
							 errdetail("%s", jose_status_detail(st)),
							 errhint("Pass a shared secret, a PEM key or certificate, a JWK, or a JWKS {\"keys\":[...]}.")));
					break;
				case JOSE_E_KEY_KTY:
					ereport(ERROR,
							(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
							 errmsg("unsupported key type"),
							 errdetail("%s", jose_status_detail(st)),
							 errhint("JWS signs with HMAC secrets, RSA keys, EC keys on P-256, P-384, P-521 or secp256k1, and Ed25519 or Ed448 keys; a JWK needs \"kty\" \"oct\", \"RSA\", \"EC\" or \"OKP\".")));
					break;
				case JOSE_E_KEY_SHORT:
					ereport(ERROR,
							(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
							 errmsg("HMAC key is too short for %s", alg_name(ctx)),
							 errdetail("%s", jose_status_detail(st)),
							 errhint("HS256 needs a key of at least 32 bytes, HS384 48 bytes and HS512 64 bytes.")));
					break;
				case JOSE_E_KEY_ALG:
					ereport(ERROR,
							(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
							 errmsg("key cannot be used with %s", alg_name(ctx)),
							 errdetail("%s", jose_status_detail(st)),
							 errhint("%s", key_algs_hint(ctx))));
					break;
				case JOSE_E_KEY_USE:
					ereport(ERROR,
							(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
							 errmsg("key may not be used to %s",
									ctx && ctx->op == JOSE_OP_SIGN ? "sign" : "verify"),
							 errdetail("%s", jose_status_detail(st)),
							 errhint("%s", ctx && ctx->keys && jose_keyset_count(ctx->keys) == 1 &&
									 jose_key_is_for_encryption(jose_keyset_key(ctx->keys, 0)) ?
									 ENC_KEY_HINT :
									 "Use a JWK whose \"use\" is \"sig\" and whose \"key_ops\", if any, include the operation.")));
					break;
				case JOSE_E_KEYSET_MIXED:
					ereport(ERROR,
							(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
							 errmsg("invalid JWKS"),
							 errdetail("%s", jose_status_detail(st)),
							 errhint("Verify HMAC tokens with their secret alone; keep published key sets to public keys.")));
					break;
				case JOSE_E_KEYSET_EMPTY:
				case JOSE_E_KEYSET_DUP_KID:
					ereport(ERROR,
							(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
							 errmsg("invalid JWKS"),
							 errdetail("%s", jose_status_detail(st)),
							 errhint("A JWKS is {\"keys\":[...]} with at least one key and distinct \"kid\" values.")));
					break;
				case JOSE_E_KEY_WEAK:
					ereport(ERROR,
							(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
							 errmsg("RSA key is too short"),
							 errdetail("%s", jose_status_detail(st)),
							 errhint("Use an RSA key of at least 2048 bits.")));
					break;
				case JOSE_E_KEY_ROCA:
					ereport(ERROR,
							(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
							 errmsg("RSA key is weak"),
							 errdetail("%s", jose_status_detail(st)),
							 errhint("Replace the key with one from an unaffected generator, e.g. jwt_generate_key('RS256').")));
					break;
				case JOSE_E_KEY_SSH:
					ereport(ERROR,
							(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
							 errmsg("SSH public keys are not supported"),
							 errdetail("%s", jose_status_detail(st)),
							 errhint("Convert it to PEM first: ssh-keygen -e -m PKCS8 -f key.pub.")));
					break;
				case JOSE_E_KEY_ENCRYPTED:
					ereport(ERROR,
							(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
							 errmsg("encrypted PEM keys are not supported"),
							 errdetail("%s", jose_status_detail(st)),
							 errhint("Pass the key decrypted, e.g. the output of \"openssl pkey -in key.pem\".")));
					break;
				case JOSE_E_KEY_CURVE:
					ereport(ERROR,
							(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
							 errmsg("unsupported or invalid elliptic curve key"),
							 errdetail("%s", jose_status_detail(st)),
							 errhint("JWS signs with P-256, P-384, P-521 and secp256k1 (ECDSA) and Ed25519 and Ed448 (EdDSA).")));
					break;
				case JOSE_E_KEY_INVALID:
					ereport(ERROR,
							(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
							 errmsg("invalid key"),
							 errdetail("%s", jose_status_detail(st)),
							 errhint("Check that the key's members are complete, base64url-encoded and belong together.")));
					break;
				case JOSE_E_KEY_NOT_PRIVATE:
					ereport(ERROR,
							(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
							 errmsg("signing needs a private key"),
							 errdetail("%s", jose_status_detail(st)),
							 errhint("Pass the private key (a PEM PRIVATE KEY, or a JWK with \"d\"); publish its public half with jwt_public_jwk().")));
					break;
				case JOSE_E_KEY_SECRET_PUBLIC:
					ereport(ERROR,
							(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
							 errmsg("a shared secret has no public JWK"),
							 errdetail("%s", jose_status_detail(st)),
							 errhint("Only RSA, EC and OKP keys have a public half to publish.")));
					break;
				case JOSE_E_KEY_TOO_LARGE:
					ereport(ERROR,
							(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
							 errmsg("key is too large"),
							 errdetail("%s", jose_status_detail(st)),
							 errhint("Pass one key or a JWKS of the keys in use; a key text is at most %d bytes.",
									 JOSE_MAX_KEY_TEXT)));
					break;
				case JOSE_E_KEYSET_TOO_MANY:
					ereport(ERROR,
							(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
							 errmsg("JWKS has too many keys"),
							 errdetail("%s", jose_status_detail(st)),
							 errhint("Pass the keys in use, at most %d; a token's \"kid\" selects one of them.",
									 JOSE_MAX_KEYS)));
					break;
				case JOSE_E_KEY_NOT_SECRET:
					ereport(ERROR,
							(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
							 errmsg("a key is not a shared secret"),
							 errdetail("%s", jose_status_detail(st)),
							 errhint("Pass a PEM key, JWK or JWKS as text, not bytea; a bytea key is only ever a shared secret.")));
					break;
				case JOSE_E_KEY_PEM_INDENTED:
					ereport(ERROR,
							(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
							 errmsg("invalid key"),
							 errdetail("%s", jose_status_detail(st)),
							 errhint("Remove the blanks at the start of the PEM lines, e.g. with regexp_replace(key, '^[ \\t]+', '', 'gn').")));
					break;
				case JOSE_E_KEY_DEGENERATE:
					ereport(ERROR,
							(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
							 errmsg("EdDSA public key is degenerate"),
							 errdetail("%s", jose_status_detail(st)),
							 errhint("Use the public key of a real key pair, e.g. made by jwt_generate_key('EdDSA').")));
					break;
				case JOSE_E_KEYSET_SIGN:
					ereport(ERROR,
							(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
							 errmsg("cannot sign with a JWKS"),
							 errdetail("%s", jose_status_detail(st)),
							 errhint("Pass the one JWK to sign with.")));
					break;
				default:
					ereport(ERROR,
							(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
							 errmsg("invalid argument"),
							 errdetail("%s", jose_status_detail(st))));
					break;
			}
			break;

		case JOSE_CLASS_INTERNAL:
			if (st == JOSE_E_INTERRUPTED)
			{
				CHECK_FOR_INTERRUPTS();
				elog(ERROR, "jwt: work stopped for an interrupt that did not end the statement");
			}
			if (st == JOSE_E_NOMEM)
				ereport(ERROR,
						(errcode(ERRCODE_OUT_OF_MEMORY),
						 errmsg("out of memory")));
			ereport(ERROR,
					(errcode(ERRCODE_EXTERNAL_ROUTINE_EXCEPTION),
					 errmsg("cryptographic library failure"),
					 errdetail("%s", jose_status_detail(st))));
			break;
	}
}
