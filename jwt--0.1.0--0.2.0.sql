/* jwt--0.1.0--0.2.0.sql */

-- complain if script is sourced in psql, rather than via ALTER EXTENSION
\echo Use "ALTER EXTENSION jwt UPDATE TO '0.2.0'" to load this file. \quit

-- [adoption] jsonb keys: every function that takes a key takes the key
-- helpers' jsonb too (a JWK or a JWKS), so jwt_add_key(jwt_generate_key('ES256'),
-- 'ES256') works.  No json overloads: an untyped literal keeps resolving to
-- the text version.
CREATE FUNCTION jwt_sign(claims jsonb, key jsonb, algorithm text DEFAULT 'HS256',
                         header jsonb DEFAULT NULL)
RETURNS text
AS 'MODULE_PATHNAME', 'jwt_sign_jsonb'
LANGUAGE C VOLATILE PARALLEL SAFE;
COMMENT ON FUNCTION jwt_sign(jsonb, jsonb, text, jsonb) IS
'sign a claims set as a compact JWT with a private JWK or a JWKS';

CREATE FUNCTION jwt_verify(token text, key jsonb, algorithms text[] DEFAULT NULL,
                           audience text DEFAULT NULL, issuer text DEFAULT NULL,
                           leeway interval DEFAULT '0')
RETURNS jsonb
AS 'MODULE_PATHNAME', 'jwt_verify_jsonb'
LANGUAGE C STABLE PARALLEL SAFE;
COMMENT ON FUNCTION jwt_verify(text, jsonb, text[], text, text, interval) IS
'verified claims of a compact JWT, with a JWK or a JWKS; raises SQLSTATE 28000 for any bad token';

CREATE FUNCTION jwt_is_valid(token text, key jsonb, algorithms text[] DEFAULT NULL,
                             audience text DEFAULT NULL, issuer text DEFAULT NULL,
                             leeway interval DEFAULT '0')
RETURNS boolean
AS 'MODULE_PATHNAME', 'jwt_is_valid_jsonb'
LANGUAGE C STABLE PARALLEL SAFE;
COMMENT ON FUNCTION jwt_is_valid(text, jsonb, text[], text, text, interval) IS
'whether jwt_verify would accept the token, with a JWK or a JWKS';

CREATE FUNCTION jws_sign(payload bytea, key jsonb, algorithm text,
                         header jsonb DEFAULT NULL)
RETURNS text
AS 'MODULE_PATHNAME', 'jws_sign_jsonb'
LANGUAGE C VOLATILE PARALLEL SAFE;
COMMENT ON FUNCTION jws_sign(bytea, jsonb, text, jsonb) IS
'sign any bytes as a compact JWS with a private JWK or a JWKS';

CREATE FUNCTION jws_verify(token text, key jsonb, algorithms text[] DEFAULT NULL)
RETURNS bytea
AS 'MODULE_PATHNAME', 'jws_verify_jsonb'
LANGUAGE C STABLE PARALLEL SAFE;
COMMENT ON FUNCTION jws_verify(text, jsonb, text[]) IS
'verified payload of a compact JWS, with a JWK or a JWKS; raises SQLSTATE 28000 for any bad token';

CREATE FUNCTION jwt_public_jwk(key jsonb)
RETURNS jsonb
AS 'MODULE_PATHNAME', 'jwt_public_jwk_jsonb'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION jwt_public_jwk(jsonb) IS
'the public JWK of a JWK, or the public JWKS of a JWKS';

CREATE FUNCTION jwt_add_key(key jsonb, algorithm text, kid text DEFAULT NULL,
                            valid_from timestamptz DEFAULT now(),
                            valid_until timestamptz DEFAULT NULL)
RETURNS text
AS 'MODULE_PATHNAME', 'jwt_add_key_jsonb'
LANGUAGE C VOLATILE PARALLEL UNSAFE;
COMMENT ON FUNCTION jwt_add_key(jsonb, text, text, timestamptz, timestamptz) IS
'add a JWK to the registry for one algorithm; kid defaults to the JWK kid or the RFC 7638 thumbprint';
REVOKE ALL ON FUNCTION jwt_add_key(jsonb, text, text, timestamptz, timestamptz) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION jwt_add_key(jsonb, text, text, timestamptz, timestamptz)
    TO @extowner@ WITH GRANT OPTION;

-- [admin] administrative functions in C
-- The five registry functions were SQL and PL/pgSQL whose bodies named the
-- extension's schema as it was at install time: in C they find the registry
-- in their own schema at call time and write as the extension's owner.
-- (CREATE OR REPLACE may change a function's language; the privileges and
-- comments stay.)
CREATE OR REPLACE FUNCTION jwt_add_key(key text, algorithm text, kid text DEFAULT NULL,
                                       valid_from timestamptz DEFAULT now(),
                                       valid_until timestamptz DEFAULT NULL)
RETURNS text
AS 'MODULE_PATHNAME', 'jwt_add_key'
LANGUAGE C VOLATILE PARALLEL UNSAFE;

CREATE OR REPLACE FUNCTION jwt_retire_key(kid text, at timestamptz DEFAULT now())
RETURNS boolean
AS 'MODULE_PATHNAME', 'jwt_retire_key'
LANGUAGE C VOLATILE PARALLEL UNSAFE;

CREATE OR REPLACE FUNCTION jwt_revoke(jti text, expires_at timestamptz)
RETURNS void
AS 'MODULE_PATHNAME', 'jwt_revoke'
LANGUAGE C VOLATILE PARALLEL UNSAFE;

CREATE OR REPLACE FUNCTION jwt_revoke_token(token text)
RETURNS text
AS 'MODULE_PATHNAME', 'jwt_revoke_token'
LANGUAGE C VOLATILE PARALLEL UNSAFE;

CREATE OR REPLACE FUNCTION jwt_purge_revocations()
RETURNS bigint
AS 'MODULE_PATHNAME', 'jwt_purge_revocations'
LANGUAGE C VOLATILE PARALLEL UNSAFE;
-- [registry] invalidation on logical replicas
-- A logical replication subscriber applies changes (and copies a table's
-- rows at the initial sync) with session_replication_role = replica: there
-- no ordinary trigger fires, and no statement trigger for INSERT, UPDATE or
-- DELETE at all.  These triggers fire only there (ENABLE REPLICA), so that
-- a replicated key, retirement, revocation, purge or TRUNCATE reaches every
-- open session on the subscriber from its next statement; elsewhere the
-- statement triggers above do it, once per statement.  The row trigger
-- sends one invalidation per table and transaction, not one per row.
CREATE TRIGGER jwt_keys_replicated AFTER INSERT OR UPDATE OR DELETE ON jwt_keys
    FOR EACH ROW EXECUTE FUNCTION jwt_registry_changed();
CREATE TRIGGER jwt_keys_replicated_truncate AFTER TRUNCATE ON jwt_keys
    FOR EACH STATEMENT EXECUTE FUNCTION jwt_registry_changed();
CREATE TRIGGER jwt_revocations_replicated AFTER INSERT OR UPDATE OR DELETE ON jwt_revocations
    FOR EACH ROW EXECUTE FUNCTION jwt_registry_changed();
CREATE TRIGGER jwt_revocations_replicated_truncate AFTER TRUNCATE ON jwt_revocations
    FOR EACH STATEMENT EXECUTE FUNCTION jwt_registry_changed();
ALTER TABLE jwt_keys ENABLE REPLICA TRIGGER jwt_keys_replicated,
    ENABLE REPLICA TRIGGER jwt_keys_replicated_truncate;
ALTER TABLE jwt_revocations ENABLE REPLICA TRIGGER jwt_revocations_replicated,
    ENABLE REPLICA TRIGGER jwt_revocations_replicated_truncate;
