/* jwt--0.2.0.sql */

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

-- ---------------------------------------------------------------------
-- Session tokens for row-level security
-- ---------------------------------------------------------------------

-- The key registry.  Closed to everyone but its owner; jwt_claims() reads
-- it directly, without the caller's privileges.
CREATE TABLE jwt_keys (
    kid         text PRIMARY KEY CHECK (kid <> ''),
    key         text NOT NULL,
    algorithm   text NOT NULL,
    valid_from  timestamptz NOT NULL DEFAULT now(),
    valid_until timestamptz,
    can_sign    boolean NOT NULL DEFAULT false,
    added_at    timestamptz NOT NULL DEFAULT now(),
    CHECK (valid_until IS NULL OR valid_until >= valid_from)
);
COMMENT ON TABLE jwt_keys IS
'key registry of the jwt extension: session tokens are verified against the keys valid now; jwt_issue() signs with one';

-- Revoked tokens, by jti, kept until the token would have expired anyway.
CREATE TABLE jwt_revocations (
    jti         text PRIMARY KEY,
    expires_at  timestamptz NOT NULL,
    revoked_at  timestamptz NOT NULL DEFAULT now()
);
COMMENT ON TABLE jwt_revocations IS
'tokens refused by jwt_claims() although validly signed, by jti, until expires_at';

REVOKE ALL ON TABLE jwt_keys, jwt_revocations FROM PUBLIC;
SELECT pg_catalog.pg_extension_config_dump('jwt_keys', '');
SELECT pg_catalog.pg_extension_config_dump('jwt_revocations', '');

CREATE FUNCTION jwt_keys_check()
RETURNS trigger
AS 'MODULE_PATHNAME', 'jwt_keys_check'
LANGUAGE C;
COMMENT ON FUNCTION jwt_keys_check() IS
'trigger: a registry key must be one key able to verify its algorithm; fills kid and can_sign';

CREATE FUNCTION jwt_registry_changed()
RETURNS trigger
AS 'MODULE_PATHNAME', 'jwt_registry_changed'
LANGUAGE C;
COMMENT ON FUNCTION jwt_registry_changed() IS
'trigger: tells every session (and replica) that the key registry changed';

REVOKE ALL ON FUNCTION jwt_keys_check(), jwt_registry_changed() FROM PUBLIC;

CREATE TRIGGER jwt_keys_check BEFORE INSERT OR UPDATE ON jwt_keys
    FOR EACH ROW EXECUTE FUNCTION jwt_keys_check();
CREATE TRIGGER jwt_keys_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON jwt_keys
    FOR EACH STATEMENT EXECUTE FUNCTION jwt_registry_changed();
CREATE TRIGGER jwt_revocations_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON jwt_revocations
    FOR EACH STATEMENT EXECUTE FUNCTION jwt_registry_changed();

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

-- The session token's verified claims.  STABLE: "now" is the statement's
-- start; PARALLEL SAFE: workers read the same token, keys and clock.
CREATE FUNCTION jwt_claims()
RETURNS jsonb
AS 'MODULE_PATHNAME', 'jwt_claims'
LANGUAGE C STABLE PARALLEL SAFE;
COMMENT ON FUNCTION jwt_claims() IS
'verified claims of the session token jwt.token; NULL when none is set; SQLSTATE 28000 when it is set and not valid';

CREATE FUNCTION jwt_claim(name text)
RETURNS text
AS 'MODULE_PATHNAME', 'jwt_claim'
LANGUAGE C STABLE PARALLEL SAFE;
COMMENT ON FUNCTION jwt_claim(text) IS
'one claim of the session token as text (as ->> gives it); NULL when no token is set or the claim is absent';

-- Registry administration, for the registry's owner and whoever it grants
-- EXECUTE to.  In C, as jwt_claims() is: each finds the registry in its own
-- schema at call time, pins its search_path and writes as the extension's
-- owner, so a caller needs no privilege on the tables and no name is
-- resolved through a schema the database owner controls (src/admin.c).
CREATE FUNCTION jwt_add_key(key text, algorithm text, kid text DEFAULT NULL,
                            valid_from timestamptz DEFAULT now(),
                            valid_until timestamptz DEFAULT NULL)
RETURNS text
AS 'MODULE_PATHNAME', 'jwt_add_key'
LANGUAGE C VOLATILE PARALLEL UNSAFE;
COMMENT ON FUNCTION jwt_add_key(text, text, text, timestamptz, timestamptz) IS
'add a key (secret, PEM or JWK) to the registry for one algorithm; kid defaults to the JWK kid or the RFC 7638 thumbprint';

CREATE FUNCTION jwt_retire_key(kid text, at timestamptz DEFAULT now())
RETURNS boolean
AS 'MODULE_PATHNAME', 'jwt_retire_key'
LANGUAGE C VOLATILE PARALLEL UNSAFE;
COMMENT ON FUNCTION jwt_retire_key(text, timestamptz) IS
'stop a registry key from verifying (and signing) from the given time on, now by default';

CREATE FUNCTION jwt_jwks()
RETURNS jsonb
AS 'MODULE_PATHNAME', 'jwt_jwks'
LANGUAGE C STABLE PARALLEL SAFE;
COMMENT ON FUNCTION jwt_jwks() IS
'public JWKS of the registry''s asymmetric keys that are valid now or later, to publish';

-- jwt_jwks() and jwt_issue() read the registry directly, as jwt_claims()
-- does: no SECURITY DEFINER, no name resolved at run time.  EXECUTE on them
-- decides who may publish and who may sign.
CREATE FUNCTION jwt_issue(claims jsonb, kid text DEFAULT NULL)
RETURNS text
AS 'MODULE_PATHNAME', 'jwt_issue'
LANGUAGE C VOLATILE PARALLEL SAFE;
COMMENT ON FUNCTION jwt_issue(jsonb, text) IS
'sign claims with a registry key (the newest valid one that can sign, or the given kid), without the caller seeing the key';

CREATE FUNCTION jwt_revoke(jti text, expires_at timestamptz)
RETURNS void
AS 'MODULE_PATHNAME', 'jwt_revoke'
LANGUAGE C VOLATILE PARALLEL UNSAFE;
COMMENT ON FUNCTION jwt_revoke(text, timestamptz) IS
'refuse session tokens with this jti until expires_at (the token''s exp; NULL: for ever)';

CREATE FUNCTION jwt_revoke_token(token text)
RETURNS text
AS 'MODULE_PATHNAME', 'jwt_revoke_token'
LANGUAGE C VOLATILE PARALLEL UNSAFE;
COMMENT ON FUNCTION jwt_revoke_token(text) IS
'revoke a token by its jti until its exp; returns the jti';

CREATE FUNCTION jwt_purge_revocations()
RETURNS bigint
AS 'MODULE_PATHNAME', 'jwt_purge_revocations'
LANGUAGE C VOLATILE PARALLEL UNSAFE;
COMMENT ON FUNCTION jwt_purge_revocations() IS
'delete revocations of tokens that have expired (beyond jwt.leeway); returns how many';

REVOKE ALL ON FUNCTION jwt_add_key(text, text, text, timestamptz, timestamptz),
                       jwt_retire_key(text, timestamptz),
                       jwt_jwks(),
                       jwt_issue(jsonb, text),
                       jwt_revoke(text, timestamptz),
                       jwt_revoke_token(text),
                       jwt_purge_revocations()
    FROM PUBLIC;

-- Whoever ran CREATE EXTENSION owns the registry.  In a trusted install by a
-- role that is not a superuser (a database owner), the objects above belong
-- to the bootstrap superuser, not to the installer: grant the installer what
-- administering the registry needs, and nothing more (no TRIGGER or
-- REFERENCES on the tables, which would let the installer attach code to
-- writes that other roles, superusers among them, make).  PUBLIC stays
-- closed.  For a superuser install these name the owner and change nothing.
GRANT SELECT, INSERT, UPDATE, DELETE, TRUNCATE ON TABLE jwt_keys, jwt_revocations TO @extowner@;

GRANT EXECUTE ON FUNCTION jwt_add_key(text, text, text, timestamptz, timestamptz),
                          jwt_retire_key(text, timestamptz),
                          jwt_jwks(),
                          jwt_issue(jsonb, text),
                          jwt_revoke(text, timestamptz),
                          jwt_revoke_token(text),
                          jwt_purge_revocations()
    TO @extowner@ WITH GRANT OPTION;

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

-- [lifecycle] logins and refresh tokens
-- A login is a row; each refresh token a row keyed by the SHA-256 of the
-- opaque token (the tables hold no usable refresh token), pointing at its
-- login, with its successor sealed under a key derived from the token
-- itself (src/logins.c).  Closed to everyone but their owner, as the
-- registry is; kept by pg_dump.
CREATE TABLE jwt_logins (
    sid               text PRIMARY KEY,
    sub               text NOT NULL,
    claims            jsonb NOT NULL,
    created_at        timestamptz NOT NULL,
    expires_at        timestamptz NOT NULL,
    access_expires_at timestamptz NOT NULL,
    ended_at          timestamptz,
    end_reason        text CHECK (end_reason IN ('logout', 'logout_all', 'reuse')),
    CHECK ((ended_at IS NULL) = (end_reason IS NULL))
);
COMMENT ON TABLE jwt_logins IS
'logins of jwt_login(): the claims they re-issue, their absolute end, and whether and why they ended; an ended login''s sid is refused by jwt_claims() until access_expires_at';
CREATE INDEX jwt_logins_sub ON jwt_logins (sub);

CREATE TABLE jwt_refresh_tokens (
    hash          bytea PRIMARY KEY CHECK (length(hash) = 32),
    sid           text NOT NULL REFERENCES jwt_logins ON DELETE CASCADE,
    issued_at     timestamptz NOT NULL,
    expires_at    timestamptz NOT NULL,
    used_at       timestamptz,
    successor_enc bytea,
    CHECK (successor_enc IS NULL OR used_at IS NOT NULL)
);
COMMENT ON TABLE jwt_refresh_tokens IS
'refresh tokens of the logins, by SHA-256: when first used, and the successor sealed under a key only the token itself gives';
CREATE INDEX jwt_refresh_tokens_sid ON jwt_refresh_tokens (sid);

REVOKE ALL ON TABLE jwt_logins, jwt_refresh_tokens FROM PUBLIC;
SELECT pg_catalog.pg_extension_config_dump('jwt_logins', '');
SELECT pg_catalog.pg_extension_config_dump('jwt_refresh_tokens', '');
GRANT SELECT, INSERT, UPDATE, DELETE, TRUNCATE ON TABLE jwt_logins, jwt_refresh_tokens TO @extowner@;

-- Ending a login (or un-ending it by deleting the row), and any change to
-- an ended login's row that the revocation set holds (its sid, how long its
-- access tokens last), invalidates the revocation set of every session and
-- replica; a login or a refresh that ends nothing sends no invalidation.
-- ALWAYS: on logical replicas too.
CREATE TRIGGER jwt_logins_ended AFTER UPDATE ON jwt_logins
    FOR EACH ROW WHEN (OLD.ended_at IS DISTINCT FROM NEW.ended_at
                       OR (NEW.ended_at IS NOT NULL
                           AND (OLD.access_expires_at IS DISTINCT FROM NEW.access_expires_at
                                OR OLD.sid IS DISTINCT FROM NEW.sid)))
    EXECUTE FUNCTION jwt_registry_changed();
CREATE TRIGGER jwt_logins_added_ended AFTER INSERT ON jwt_logins
    FOR EACH ROW WHEN (NEW.ended_at IS NOT NULL)
    EXECUTE FUNCTION jwt_registry_changed();
CREATE TRIGGER jwt_logins_deleted AFTER DELETE OR TRUNCATE ON jwt_logins
    FOR EACH STATEMENT EXECUTE FUNCTION jwt_registry_changed();
ALTER TABLE jwt_logins ENABLE ALWAYS TRIGGER jwt_logins_ended;
ALTER TABLE jwt_logins ENABLE ALWAYS TRIGGER jwt_logins_added_ended;
ALTER TABLE jwt_logins ENABLE ALWAYS TRIGGER jwt_logins_deleted;

-- VOLATILE PARALLEL UNSAFE: they write.  Closed to PUBLIC; meant to be
-- wrapped in SECURITY DEFINER functions (README, "Logins and refresh tokens").
CREATE FUNCTION jwt_login(claims jsonb, kid text DEFAULT NULL)
RETURNS jsonb
AS 'MODULE_PATHNAME', 'jwt_login'
LANGUAGE C VOLATILE PARALLEL UNSAFE;
COMMENT ON FUNCTION jwt_login(jsonb, text) IS
'start a login for the claims'' sub: an RFC 6749 token response with a short-lived access token, a refresh token and the login''s sid';

CREATE FUNCTION jwt_refresh(refresh_token text, claims jsonb DEFAULT NULL)
RETURNS jsonb
AS 'MODULE_PATHNAME', 'jwt_refresh'
LANGUAGE C VOLATILE PARALLEL UNSAFE;
COMMENT ON FUNCTION jwt_refresh(text, jsonb) IS
'rotate a refresh token: a new token response of the same login, or an RFC 6749 invalid_grant error object; a replay ends the login';

CREATE FUNCTION jwt_logout(refresh_token text)
RETURNS boolean
AS 'MODULE_PATHNAME', 'jwt_logout'
LANGUAGE C VOLATILE PARALLEL UNSAFE;
COMMENT ON FUNCTION jwt_logout(text) IS
'end the login of this refresh token; true when this call ended it';

CREATE FUNCTION jwt_logout()
RETURNS boolean
AS 'MODULE_PATHNAME', 'jwt_logout_session'
LANGUAGE C VOLATILE PARALLEL UNSAFE;
COMMENT ON FUNCTION jwt_logout() IS
'end the login named by the sid of the session''s verified access token; true when this call ended it';

CREATE FUNCTION jwt_logout_all(sub text)
RETURNS integer
AS 'MODULE_PATHNAME', 'jwt_logout_all'
LANGUAGE C VOLATILE PARALLEL UNSAFE;
COMMENT ON FUNCTION jwt_logout_all(text) IS
'end every login of a subject; returns how many this call ended';

REVOKE ALL ON FUNCTION jwt_login(jsonb, text), jwt_refresh(text, jsonb), jwt_logout(text),
                       jwt_logout(), jwt_logout_all(text)
    FROM PUBLIC;
GRANT EXECUTE ON FUNCTION jwt_login(jsonb, text), jwt_refresh(text, jsonb), jwt_logout(text),
                          jwt_logout(), jwt_logout_all(text)
    TO @extowner@ WITH GRANT OPTION;

-- jwt_purge_revocations() purges the logins that can no longer matter too.
COMMENT ON FUNCTION jwt_purge_revocations() IS
'delete revocations of tokens that have expired (beyond jwt.leeway), and logins ended or past their end whose last access token has expired; returns how many';


-- [issuers] identity providers: the registered issuers and their fetched keys
-- A token whose iss names a registered issuer (or one of its aliases) is
-- verified with that issuer's keys only, against its audience and
-- algorithms (src/issuers.c); every other token takes the registry path.
-- url_prefixed says the issuer was registered under the prefix rule (by a
-- caller or in an extension that is not a superuser's): every fetch of it,
-- by whoever, needs jwt.issuer_url_prefixes.  It can only add the rule:
-- an owner who is not a superuser (who may UPDATE the row) gets it anyway.
-- The ETag is checked to be one (RFC 9110 8.8.3, in ASCII), so that what is
-- sent in If-None-Match is never more than one header line.
-- jwt_issuers holds what a superuser registered and the last good key set
-- a fetch stored (src/fetch/): written only when the set changes, so that
-- a fetch that changes nothing invalidates nothing.  jwt_issuer_fetches
-- holds each fetch's outcome, for the status view; its writes invalidate
-- nothing.  Closed to everyone but their owner, as the registry is; kept
-- by pg_dump, so the keys survive a restart and a dump.
-- The constraints name each function and operator with its schema: this
-- script runs with the extension's schema on the search_path, where the
-- database owner may have planted a closer match for an unqualified call
-- (a cardinality(text[]) is chosen over pg_catalog.cardinality(anyarray)),
-- which every writer of the table, superusers too, would then run.
CREATE TABLE jwt_issuers (
    issuer          text PRIMARY KEY CHECK (issuer OPERATOR(pg_catalog.<>) ''
                                            AND pg_catalog.length(issuer) OPERATOR(pg_catalog.<=) 2048),
    aliases         text[] NOT NULL DEFAULT '{}' CHECK (pg_catalog.array_position(aliases, NULL) IS NULL),
    audience        text[] CHECK (pg_catalog.cardinality(audience) OPERATOR(pg_catalog.>) 0
                                  AND pg_catalog.array_position(audience, NULL) IS NULL),
    algorithms      text[] CHECK (pg_catalog.cardinality(algorithms) OPERATOR(pg_catalog.>) 0
                                  AND pg_catalog.array_position(algorithms, NULL) IS NULL),
    jwks_uri        text CHECK (jwks_uri OPERATOR(pg_catalog.<>) ''
                            AND pg_catalog.octet_length(jwks_uri) OPERATOR(pg_catalog.<=) 2048),
    jwks            jsonb CHECK (pg_catalog.jsonb_typeof(jwks OPERATOR(pg_catalog.->) 'keys')
                                 OPERATOR(pg_catalog.=) 'array'),
    jwks_fetched_at timestamptz,
    added_at        timestamptz NOT NULL,
    url_prefixed    boolean NOT NULL DEFAULT false
);
COMMENT ON TABLE jwt_issuers IS
'identity providers: issuer and its other spellings, audience (NULL: its tokens carry none), algorithms (NULL: every asymmetric one its keys allow), jwks_uri (NULL: discovered), the last good key set fetched, and url_prefixed (registered under jwt.issuer_url_prefixes: every fetch of it needs a prefix)';

CREATE TABLE jwt_issuer_fetches (
    issuer              text PRIMARY KEY REFERENCES jwt_issuers ON DELETE CASCADE,
    discovered_jwks_uri text CHECK (pg_catalog.octet_length(discovered_jwks_uri) OPERATOR(pg_catalog.<=) 2048),
    etag                text CHECK (pg_catalog.octet_length(etag) OPERATOR(pg_catalog.<=) 256
                                AND etag OPERATOR(pg_catalog.~) '^(W/)?"[!#-~]*"$'),
    attempted_at        timestamptz,
    succeeded_at        timestamptz,
    outcome             text CHECK (outcome IN ('ok', 'not modified', 'http status', 'timeout',
                                                'connect', 'tls', 'too large', 'redirect', 'parse',
                                                'empty', 'secret', 'issuer mismatch', 'url refused')),
    http_status         integer,
    detail              text,
    refused_keys        integer NOT NULL DEFAULT 0,
    failures            integer NOT NULL DEFAULT 0,
    next_fetch_at       timestamptz
);
COMMENT ON TABLE jwt_issuer_fetches IS
'per issuer, the last fetch: when, its outcome (never a key), the ETag, keys left out of the set, consecutive failures and the next fetch';

REVOKE ALL ON TABLE jwt_issuers, jwt_issuer_fetches FROM PUBLIC;
SELECT pg_catalog.pg_extension_config_dump('jwt_issuers', '');
SELECT pg_catalog.pg_extension_config_dump('jwt_issuer_fetches', '');
GRANT SELECT, INSERT, UPDATE, DELETE, TRUNCATE ON TABLE jwt_issuers, jwt_issuer_fetches TO @extowner@;

-- A change to an issuer or its keys reaches every session (statement
-- triggers, once per statement) and every logical replica (ENABLE REPLICA
-- row and TRUNCATE triggers), as the registry's tables do.
CREATE TRIGGER jwt_issuers_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON jwt_issuers
    FOR EACH STATEMENT EXECUTE FUNCTION jwt_registry_changed();
CREATE TRIGGER jwt_issuers_replicated AFTER INSERT OR UPDATE OR DELETE ON jwt_issuers
    FOR EACH ROW EXECUTE FUNCTION jwt_registry_changed();
CREATE TRIGGER jwt_issuers_replicated_truncate AFTER TRUNCATE ON jwt_issuers
    FOR EACH STATEMENT EXECUTE FUNCTION jwt_registry_changed();
ALTER TABLE jwt_issuers ENABLE REPLICA TRIGGER jwt_issuers_replicated,
    ENABLE REPLICA TRIGGER jwt_issuers_replicated_truncate;

-- The session path reads jwt_issuers (src/issuers.c): jwt_claims() and
-- jwt_claim() verify a token whose iss names a registered issuer with that
-- issuer's keys.  These read what is stored, never the network.
CREATE FUNCTION jwt_issuer_jwks(issuer text)
RETURNS jsonb
AS 'MODULE_PATHNAME', 'jwt_issuer_jwks'
LANGUAGE C STABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION jwt_issuer_jwks(text) IS
'the public keys a registered issuer''s tokens are verified with, as a JWKS (the issuer by its name or an alias); NULL for a name no issuer has';

-- The scopes of the session token, for policies: as cheap per row as
-- jwt_claim(), and open to PUBLIC as it is.
CREATE FUNCTION jwt_scopes()
RETURNS text[]
AS 'MODULE_PATHNAME', 'jwt_scopes'
LANGUAGE C STABLE PARALLEL SAFE;
COMMENT ON FUNCTION jwt_scopes() IS
'the session token''s scopes: its scope claim split at spaces, else scp (a string or an array), else permissions (an array); NULL when no token is set';

CREATE FUNCTION jwt_has_scope(scope text)
RETURNS boolean
AS 'MODULE_PATHNAME', 'jwt_has_scope'
LANGUAGE C STABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION jwt_has_scope(text) IS
'whether the session token has the scope (among jwt_scopes()); NULL when no token is set';

-- [issuers] fetching
-- Registering an identity provider and keeping its keys current.  The
-- fetcher is a library of its own (jwt_fetch.so links libcurl, jwt.so does
-- not), so a backend that only verifies never loads libcurl.  Its functions
-- are C, as the registry's administrative functions are: they find the
-- tables in their own schema at call time and write them as the
-- extension's owner (src/fetch/admin.c).  Making the server fetch a URL is
-- network access from a host that may reach what clients cannot: only a
-- superuser, in a database whose extension a superuser owns, registers any
-- https URL; anyone else only URLs under jwt.issuer_url_prefixes, which a
-- superuser sets.  VOLATILE PARALLEL UNSAFE: they use the network and write.
CREATE FUNCTION jwt_add_issuer(issuer text, audience text, jwks_uri text DEFAULT NULL,
                               algorithms text[] DEFAULT NULL, aliases text[] DEFAULT NULL)
RETURNS integer
AS '$libdir/jwt_fetch', 'jwt_add_issuer'
LANGUAGE C VOLATILE PARALLEL UNSAFE;
COMMENT ON FUNCTION jwt_add_issuer(text, text, text, text[], text[]) IS
'register an identity provider (audience: the one its tokens name, NULL for none; jwks_uri NULL: discovered) and fetch its keys; returns how many were taken';

CREATE FUNCTION jwt_add_issuer(issuer text, audience text[], jwks_uri text DEFAULT NULL,
                               algorithms text[] DEFAULT NULL, aliases text[] DEFAULT NULL)
RETURNS integer
AS '$libdir/jwt_fetch', 'jwt_add_issuer_array'
LANGUAGE C VOLATILE PARALLEL UNSAFE;
COMMENT ON FUNCTION jwt_add_issuer(text, text[], text, text[], text[]) IS
'register an identity provider whose tokens may name any one of several audiences, and fetch its keys; returns how many were taken';

CREATE FUNCTION jwt_drop_issuer(issuer text)
RETURNS boolean
AS '$libdir/jwt_fetch', 'jwt_drop_issuer'
LANGUAGE C VOLATILE PARALLEL UNSAFE;
COMMENT ON FUNCTION jwt_drop_issuer(text) IS
'remove an identity provider with its keys and fetch state; false when it was not registered';

CREATE FUNCTION jwt_refresh_issuers(issuer text DEFAULT NULL, only_due boolean DEFAULT false)
RETURNS integer
AS '$libdir/jwt_fetch', 'jwt_refresh_issuers'
LANGUAGE C VOLATILE PARALLEL UNSAFE;
COMMENT ON FUNCTION jwt_refresh_issuers(text, boolean) IS
'fetch the keys of one issuer or of every one (only_due: those due) now, in this backend; returns how many were fetched';

-- The background worker (shared_preload_libraries = 'jwt', src/wake.c):
-- whether it runs, and asking it to fetch an issuer now (at most once per
-- 30 s per issuer, as a token with an unknown kid does).
CREATE FUNCTION jwt_issuers_worker_running()
RETURNS boolean
AS 'MODULE_PATHNAME', 'jwt_issuers_worker_running_sql'
LANGUAGE C VOLATILE PARALLEL SAFE;
COMMENT ON FUNCTION jwt_issuers_worker_running() IS
'whether the background worker that keeps identity providers'' keys current is running';

CREATE FUNCTION jwt_wake_issuer(issuer text)
RETURNS boolean
AS 'MODULE_PATHNAME', 'jwt_wake_issuer'
LANGUAGE C VOLATILE STRICT PARALLEL UNSAFE;
COMMENT ON FUNCTION jwt_wake_issuer(text) IS
'ask the background worker to fetch a registered issuer''s keys now (by its name or an alias); false without a worker, for a name no issuer has, or within 30 s of its last wake';

-- Per issuer: where its keys come from, how many are held, the last fetch
-- and its outcome, the next one, and whether a worker runs.  Never a key.
CREATE VIEW jwt_issuers_status AS
SELECT i.issuer,
       coalesce(i.jwks_uri, f.discovered_jwks_uri) AS jwks_uri,
       i.jwks_uri IS NULL AS discovered,
       coalesce(jsonb_array_length(i.jwks -> 'keys'), 0) AS keys,
       i.jwks_fetched_at AS keys_changed_at,
       f.attempted_at AS last_fetch_at,
       f.outcome AS last_outcome,
       f.http_status,
       f.detail,
       f.refused_keys,
       f.succeeded_at AS last_success_at,
       f.failures,
       f.next_fetch_at,
       f.etag,
       jwt_issuers_worker_running() AS worker_running
FROM jwt_issuers i LEFT JOIN jwt_issuer_fetches f ON f.issuer = i.issuer;
COMMENT ON VIEW jwt_issuers_status IS
'per identity provider: jwks_uri, keys held, last fetch and outcome, next fetch, ETag, and whether the background worker runs';

REVOKE ALL ON TABLE jwt_issuers_status FROM PUBLIC;
GRANT SELECT ON TABLE jwt_issuers_status TO @extowner@;
REVOKE ALL ON FUNCTION jwt_add_issuer(text, text, text, text[], text[]),
                       jwt_add_issuer(text, text[], text, text[], text[]),
                       jwt_drop_issuer(text),
                       jwt_refresh_issuers(text, boolean),
                       jwt_wake_issuer(text)
    FROM PUBLIC;
GRANT EXECUTE ON FUNCTION jwt_add_issuer(text, text, text, text[], text[]),
                          jwt_add_issuer(text, text[], text, text[], text[]),
                          jwt_drop_issuer(text),
                          jwt_refresh_issuers(text, boolean),
                          jwt_wake_issuer(text)
    TO @extowner@ WITH GRANT OPTION;
-- [lifecycle] own keys that rotate themselves
-- jwt_rotate_signing_key() generates an asymmetric key in the registry,
-- published by jwt_jwks() at once and signing from now + publish_ahead on,
-- and retires the keys it takes over from once the last token they can
-- sign has expired (src/rotation.c).  In C and closed to PUBLIC, as the
-- registry's other administrative functions are.
CREATE FUNCTION jwt_rotate_signing_key(algorithm text, publish_ahead interval DEFAULT '1 hour')
RETURNS text
AS 'MODULE_PATHNAME', 'jwt_rotate_signing_key'
LANGUAGE C VOLATILE PARALLEL UNSAFE;
COMMENT ON FUNCTION jwt_rotate_signing_key(text, interval) IS
'add a new signing key for an asymmetric algorithm, published at once and signing after publish_ahead, and retire the signing keys it takes over from once their last token has expired; returns its kid';
REVOKE ALL ON FUNCTION jwt_rotate_signing_key(text, interval) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION jwt_rotate_signing_key(text, interval) TO @extowner@ WITH GRANT OPTION;

-- [lifecycle] ended logins by index
-- Each backend reads the ended logins again after a login ends (a logout,
-- a replay): through this partial index, so that the cost grows with the
-- ended logins, not with every open one (src/registry.c).
CREATE INDEX jwt_logins_ended ON jwt_logins (ended_at) WHERE ended_at IS NOT NULL;
