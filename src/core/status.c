/*
 * status.c
 *		What each jose_status means, for error details.
 */
#include "jose.h"

/* the detail of JOSE_E_KID_REQUIRED names JOSE_MAX_KIDLESS_CANDIDATES */
_Static_assert(JOSE_MAX_KIDLESS_CANDIDATES == 3,
			   "the detail of JOSE_E_KID_REQUIRED names the bound");

jose_status_class
jose_status_class_of(jose_status st)
{
	if (st == JOSE_OK)
		return JOSE_CLASS_OK;
	if (st >= JOSE_E_TOO_LARGE && st < JOSE_E_TOKEN_LAST_)
		return JOSE_CLASS_TOKEN;
	if (st >= JOSE_E_ALG_INVALID && st < JOSE_E_CALL_LAST_)
		return JOSE_CLASS_CALL;
	return JOSE_CLASS_INTERNAL;
}

const char *
jose_status_detail(jose_status st)
{
	switch (st)
	{
		case JOSE_OK:
			return "The token is valid.";
		case JOSE_E_TOO_LARGE:
			return "The token is longer than the size cap.";
		case JOSE_E_BEARER:
			return "The token starts with the HTTP scheme \"Bearer \"; pass the token alone, without the prefix.";
		case JOSE_E_FORM:
			return "A compact JWS has exactly three base64url segments separated by two dots.";
		case JOSE_E_BASE64:
			return "A segment is not strict base64url (no padding, no characters outside A-Z a-z 0-9 - _, no stray bits).";
		case JOSE_E_HEADER_JSON:
			return "The header is not a valid JSON object.";
		case JOSE_E_HEADER_DUP:
			return "The header repeats a member name.";
		case JOSE_E_ALG_MISSING:
			return "The header has no \"alg\" string.";
		case JOSE_E_ALG_NONE:
			return "The algorithm \"none\" is never accepted.";
		case JOSE_E_ALG_UNKNOWN:
			return "The header names an algorithm that is not a registered JWS signature algorithm.";
		case JOSE_E_CRIT:
			return "The header has a \"crit\" member; no critical extension is supported.";
		case JOSE_E_B64:
			return "The header has a \"b64\" member; unencoded payloads are not accepted.";
		case JOSE_E_ZIP:
			return "The header has a \"zip\" member; compressed payloads are not accepted.";
		case JOSE_E_KID_TYPE:
			return "The header's \"kid\" is not a string.";
		case JOSE_E_ALG_NOT_ALLOWED:
			return "The token's algorithm is not among the allowed algorithms.";
		case JOSE_E_ALG_KEY:
			return "The key cannot verify tokens of the token's algorithm.";
		case JOSE_E_KID_UNKNOWN:
			return "No key has the token's \"kid\".";
		case JOSE_E_KID_REQUIRED:
			return "The token has no \"kid\" and more than 3 keys could verify it; send the \"kid\" of the key that signed it.";
		case JOSE_E_KEY_NOT_VALID:
			return "The key with the token's \"kid\" is retired or not in use yet.";
		case JOSE_E_SIGNATURE:
			return "The signature does not verify.";
		case JOSE_E_SIG_RANGE:
			return "The ECDSA signature's r or s is zero or not below the curve order.";
		case JOSE_E_PAYLOAD_JSON:
			return "The payload is not valid JSON.";
		case JOSE_E_PAYLOAD_DUP:
			return "The payload repeats a member name.";
		case JOSE_E_PAYLOAD_OBJECT:
			return "The payload is not a JSON object.";
		case JOSE_E_CLAIM_TYPE:
			return "A registered claim has the wrong type.";
		case JOSE_E_EXPIRED:
			return "The token has expired.";
		case JOSE_E_NOT_YET_VALID:
			return "The token is not valid yet (nbf).";
		case JOSE_E_IAT_FUTURE:
			return "The token was issued in the future (iat).";
		case JOSE_E_AUDIENCE:
			return "The token's audience (aud) does not include the expected audience.";
		case JOSE_E_AUDIENCE_UNEXPECTED:
			return "The token names an audience (aud) but no audience is expected; pass the audience to accept.";
		case JOSE_E_ISSUER:
			return "The token's issuer (iss) does not match.";
		case JOSE_E_CLAIM_MISSING:
			return "A required claim is missing.";
		case JOSE_E_TOO_OLD:
			return "The token was issued longer ago than the maximum age (iat).";
		case JOSE_E_REVOKED:
			return "The token has been revoked.";
		case JOSE_E_TOKEN_LAST_:
			break;
		case JOSE_E_ALG_INVALID:
			return "The algorithm is not a JWS signature algorithm.";
		case JOSE_E_ALG_FORBIDDEN:
			return "The algorithm \"none\" is never allowed.";
		case JOSE_E_ALG_UNSUPPORTED:
			return "The algorithm is not supported by this build.";
		case JOSE_E_KEY_EMPTY:
			return "The key is empty.";
		case JOSE_E_KEY_FORMAT:
			return "The key is not a valid PEM key or certificate, JWK or JWKS.";
		case JOSE_E_KEY_KTY:
			return "The key's type is not one JWS signs with, or a JWK has no \"kty\".";
		case JOSE_E_KEY_SHORT:
			return "The HMAC key is shorter than the hash output of the algorithm.";
		case JOSE_E_KEY_ALG:
			return "The key cannot be used with this algorithm.";
		case JOSE_E_KEY_USE:
			return "The JWK's \"use\" or \"key_ops\" forbid this operation.";
		case JOSE_E_KEYSET_EMPTY:
			return "The JWKS holds no key.";
		case JOSE_E_KEYSET_DUP_KID:
			return "The JWKS holds two keys with the same \"kid\".";
		case JOSE_E_KEYSET_MIXED:
			return "The JWKS mixes shared secrets with public keys.";
		case JOSE_E_KEYSET_SIGN:
			return "A JWKS cannot sign; pass one key.";
		case JOSE_E_KEY_WEAK:
			return "The RSA key is shorter than 2048 bits.";
		case JOSE_E_KEY_ROCA:
			return "The RSA key was made by a generator whose keys can be factored (ROCA, CVE-2017-15361).";
		case JOSE_E_KEY_SSH:
			return "The key is an SSH public key, which is never used as a shared secret.";
		case JOSE_E_KEY_ENCRYPTED:
			return "The PEM key is encrypted; pass it decrypted.";
		case JOSE_E_KEY_CURVE:
			return "The key's curve is not one JWS uses, or its point is not on the curve.";
		case JOSE_E_KEY_INVALID:
			return "The key's values are inconsistent or out of range.";
		case JOSE_E_KEY_NOT_PRIVATE:
			return "Signing needs a private key; this is a public key.";
		case JOSE_E_KEY_SECRET_PUBLIC:
			return "A shared secret has no public form.";
		case JOSE_E_KEY_TOO_LARGE:
			return "The key text is longer than 1048576 bytes (1 MiB).";
		case JOSE_E_KEYSET_TOO_MANY:
			return "The JWKS holds more than 1000 keys.";
		case JOSE_E_KEY_NOT_SECRET:
			return "The bytes given as a shared secret are a key's text or encoding (PEM, JWK, SSH, DER), which is never a shared secret.";
		case JOSE_E_KEY_PEM_INDENTED:
			return "The PEM block's lines are indented; each line of a PEM block starts at the beginning of the line.";
		case JOSE_E_KEY_DEGENERATE:
			return "The EdDSA public key is a point of small order or a non-canonical encoding, against which forged signatures verify.";
		case JOSE_E_CALL_LAST_:
			break;
		case JOSE_E_NOMEM:
			return "Out of memory.";
		case JOSE_E_CRYPTO:
			return "The cryptographic library failed.";
		case JOSE_E_INTERRUPTED:
			return "The work was interrupted.";
	}
	return "Unknown error.";
}
