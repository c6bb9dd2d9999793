/* jwt--0.1.0.sql */

-- complain if script is sourced in psql, rather than via CREATE EXTENSION
\echo Use "CREATE EXTENSION jwt" to load this file. \quit

-- Signing.  VOLATILE: ECDSA and RSA-PSS signatures are randomised.
CREATE FUNCTION jwt_sign(claims jsonb, key text, algorithm text DEFAULT 'HS256',
                         header jsonb DEFAULT NULL)
RETURNS text
AS 'MODULE_PATHNAME', 'jwt_sign_text'
LANGUAGE C VOLATILE PARALLEL SAFE;

CREATE FUNCTION jwt_sign(claims jsonb, key bytea, algorithm text DEFAULT 'HS256',
                         header jsonb DEFAULT NULL)
RETURNS text
AS 'MODULE_PATHNAME', 'jwt_sign_bytea'
LANGUAGE C VOLATILE PARALLEL SAFE;

COMMENT ON FUNCTION jwt_sign(jsonb, text, text, jsonb) IS
'sign a claims set as a compact JWT; the key is a secret, a PEM private key or a private JWK';
COMMENT ON FUNCTION jwt_sign(jsonb, bytea, text, jsonb) IS
'sign a claims set as a compact JWS with a binary HMAC secret';

-- Verifying.  STABLE: the time claims are checked against the statement's
-- start time.
CREATE FUNCTION jwt_verify(token text, key text, algorithms text[] DEFAULT NULL,
                           audience text DEFAULT NULL, issuer text DEFAULT NULL,
                           leeway interval DEFAULT '0')
RETURNS jsonb
AS 'MODULE_PATHNAME', 'jwt_verify_text'
LANGUAGE C STABLE PARALLEL SAFE;

CREATE FUNCTION jwt_verify(token text, key bytea, algorithms text[] DEFAULT NULL,
                           audience text DEFAULT NULL, issuer text DEFAULT NULL,
                           leeway interval DEFAULT '0')
RETURNS jsonb
AS 'MODULE_PATHNAME', 'jwt_verify_bytea'
LANGUAGE C STABLE PARALLEL SAFE;

COMMENT ON FUNCTION jwt_verify(text, text, text[], text, text, interval) IS
'verified claims of a compact JWT; raises SQLSTATE 28000 for any bad token';
COMMENT ON FUNCTION jwt_verify(text, bytea, text[], text, text, interval) IS
'verified claims of a compact JWT, with a binary HMAC secret; raises SQLSTATE 28000 for any bad token';

CREATE FUNCTION jwt_is_valid(token text, key text, algorithms text[] DEFAULT NULL,
                             audience text DEFAULT NULL, issuer text DEFAULT NULL,
                             leeway interval DEFAULT '0')
RETURNS boolean
AS 'MODULE_PATHNAME', 'jwt_is_valid_text'
LANGUAGE C STABLE PARALLEL SAFE;

CREATE FUNCTION jwt_is_valid(token text, key bytea, algorithms text[] DEFAULT NULL,
                             audience text DEFAULT NULL, issuer text DEFAULT NULL,
                             leeway interval DEFAULT '0')
RETURNS boolean
AS 'MODULE_PATHNAME', 'jwt_is_valid_bytea'
LANGUAGE C STABLE PARALLEL SAFE;

COMMENT ON FUNCTION jwt_is_valid(text, text, text[], text, text, interval) IS
'whether jwt_verify would accept the token; false for a bad token, an error only for a wrong call';
COMMENT ON FUNCTION jwt_is_valid(text, bytea, text[], text, text, interval) IS
'whether jwt_verify would accept the token, with a binary HMAC secret';

-- Decoding, without any check.
CREATE FUNCTION jwt_decode(token text)
RETURNS jsonb
AS 'MODULE_PATHNAME', 'jwt_decode'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

COMMENT ON FUNCTION jwt_decode(text) IS
'header and payload of a token WITHOUT verifying its signature or claims: never trust the result';

-- JWS whose payload is not a claims set: every rule but the claim checks.
CREATE FUNCTION jws_sign(payload bytea, key text, algorithm text,
                         header jsonb DEFAULT NULL)
RETURNS text
AS 'MODULE_PATHNAME', 'jws_sign'
LANGUAGE C VOLATILE PARALLEL SAFE;

COMMENT ON FUNCTION jws_sign(bytea, text, text, jsonb) IS
'sign any bytes as a compact JWS';

CREATE FUNCTION jws_verify(token text, key text, algorithms text[] DEFAULT NULL)
RETURNS bytea
AS 'MODULE_PATHNAME', 'jws_verify'
LANGUAGE C STABLE PARALLEL SAFE;

COMMENT ON FUNCTION jws_verify(text, text, text[]) IS
'verified payload of a compact JWS; raises SQLSTATE 28000 for any bad token; checks no claims';

-- Key helpers.
CREATE FUNCTION jwt_generate_key(algorithm text)
RETURNS jsonb
AS 'MODULE_PATHNAME', 'jwt_generate_key'
LANGUAGE C VOLATILE STRICT PARALLEL SAFE;

COMMENT ON FUNCTION jwt_generate_key(text) IS
'a new private JWK for the algorithm, its kid the RFC 7638 thumbprint';

CREATE FUNCTION jwt_public_jwk(key text)
RETURNS jsonb
AS 'MODULE_PATHNAME', 'jwt_public_jwk'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

COMMENT ON FUNCTION jwt_public_jwk(text) IS
'the public JWK of a PEM key, certificate or JWK, or the public JWKS of a JWKS';

CREATE FUNCTION jwt_jwk_thumbprint(jwk jsonb)
RETURNS text
AS 'MODULE_PATHNAME', 'jwt_jwk_thumbprint'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

COMMENT ON FUNCTION jwt_jwk_thumbprint(jsonb) IS
'RFC 7638 SHA-256 thumbprint of a JWK, base64url';

-- What the backend's key cache has done.
CREATE FUNCTION jwt_cache_stats()
RETURNS jsonb
AS 'MODULE_PATHNAME', 'jwt_cache_stats'
LANGUAGE C VOLATILE PARALLEL RESTRICTED;

COMMENT ON FUNCTION jwt_cache_stats() IS
'key lookups and key parses of this backend''s key cache, and how many keys it holds';
