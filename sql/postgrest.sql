--
-- postgrest: the PostgREST recipe.  PostgREST runs with no jwt-secret; its
-- db-pre-request function takes the bearer token from request.headers, puts
-- it in jwt.token, and switches to the role that the verified token names.
-- Then the compatibility switch jwt.fallback_request_claims: off by default,
-- and, when a superuser turns it on, request.jwt.claims returned unverified,
-- which any direct client can forge.  Last, the variant without a proxy:
-- PostgREST verifies with its own jwt-secret and the pre-request verifies
-- the same token again.
--
-- PostgREST itself cannot run here, so each request below is PostgREST's own
-- transaction, statement for statement (v12/v13, src/PostgREST/Query/PreQuery.hs):
-- BEGIN with the access mode of the HTTP method; one SELECT of set_config()
-- calls, all transaction-local (search_path, role = db-anon-role since
-- PostgREST verified no JWT, request.jwt.claims = {"role": <that role>},
-- request.method, request.path, request.headers with lower-cased names,
-- request.cookies; here CALL pgrst.tx_vars(...) runs that SELECT);
-- SELECT <db-pre-request>(); the main query; COMMIT, or ROLLBACK when
-- anything failed.  The session runs as the login role (authenticator), as
-- PostgREST's pool does: SET ROLE is allowed or refused by the membership of
-- that session user, whatever role is current.
--
-- Why the token travels in X-Forwarded-Authorization: PostgREST with no
-- jwt-secret answers every request that carries "Authorization: Bearer ..."
-- with 500 PGRST300 ("Server lacks JWT secret") before it opens a
-- transaction, so a proxy in front moves the client's Authorization header
-- there (nginx: proxy_set_header X-Forwarded-Authorization $http_authorization;
-- proxy_set_header Authorization "";).  Any header name works: the token is
-- verified in the database, so nothing depends on who set the header.
--
\set VERBOSITY default
\set SHOW_CONTEXT never
-- ---------------------------------------------------------------------
-- The roles, as PostgREST's documentation has them: authenticator, anon and
-- web_user, named regress_* here since roles are cluster-wide
-- ---------------------------------------------------------------------
CREATE ROLE regress_authenticator LOGIN NOINHERIT NOCREATEDB NOCREATEROLE NOSUPERUSER;
CREATE ROLE regress_anon NOLOGIN;
CREATE ROLE regress_web_user NOLOGIN;
GRANT regress_anon, regress_web_user TO regress_authenticator;
-- two roles a token must not reach: one not granted to the authenticator,
-- and a superuser granted to it by mistake
CREATE ROLE regress_auditor NOLOGIN;
CREATE ROLE regress_superuser NOLOGIN SUPERUSER;
GRANT regress_superuser TO regress_authenticator;
-- ---------------------------------------------------------------------
-- The API schema: a table under row-level security
-- ---------------------------------------------------------------------
CREATE SCHEMA api;
CREATE TABLE api.notes (
    id     integer PRIMARY KEY,
    owner  text NOT NULL,
    body   text NOT NULL,
    public boolean NOT NULL DEFAULT false
);
ALTER TABLE api.notes ENABLE ROW LEVEL SECURITY;
-- a signed-in user reads and writes their own notes; everybody reads public ones
CREATE POLICY own_notes ON api.notes TO regress_web_user
    USING (owner = jwt_claim('sub')) WITH CHECK (owner = jwt_claim('sub'));
CREATE POLICY public_notes ON api.notes FOR SELECT TO regress_anon, regress_web_user
    USING (public);
GRANT USAGE ON SCHEMA api TO regress_anon, regress_web_user;
GRANT SELECT ON api.notes TO regress_anon;
GRANT SELECT, INSERT, UPDATE, DELETE ON api.notes TO regress_web_user;
INSERT INTO api.notes VALUES
    (1, 'alice', 'alice''s own note', false),
    (2, 'bob',   'bob''s own note',   false),
    (3, 'alice', 'alice''s public note', true),
    (4, 'bob',   'bob''s public note',   true);
-- ---------------------------------------------------------------------
-- The pre-request function
-- ---------------------------------------------------------------------
-- SECURITY INVOKER (the default), on purpose: PostgreSQL refuses to change
-- "role" inside a SECURITY DEFINER function (shown below), and invoker rights
-- are enough, since PostgREST calls it as db-anon-role and SET ROLE is checked
-- against the session user, the authenticator.  jwt_claims() reads the key
-- registry with the extension owner's rights, not anon's.  The role switch
-- comes only from claims that jwt_claims() verified; without a token the
-- function never asks for claims, so the request stays anonymous even when
-- the fallback switch is on.
CREATE FUNCTION api.pre_request() RETURNS void
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    credential text := nullif(current_setting('request.headers', true), '')::json
                       ->> 'x-forwarded-authorization';
    token text[];
    claimed text;
BEGIN
    IF credential IS NULL THEN
        -- no token: anonymous, and no token left from anything else
        PERFORM set_config('jwt.token', '', true);
        RETURN;
    END IF;
    -- RFC 6750: "Bearer" in any case, then the token (never empty)
    token := regexp_match(credential, '^bearer +([A-Za-z0-9._~+/-]+=*)$', 'i');
    IF token IS NULL THEN
        RAISE EXCEPTION 'invalid token'
              USING ERRCODE = 'invalid_authorization_specification',
                    DETAIL = 'The X-Forwarded-Authorization header is not "Bearer <token>".';
    END IF;
    PERFORM set_config('jwt.token', token[1], true);
    -- verifies the token against the registry and the policy settings:
    -- 28000 for a token that is bad in any way
    claimed := public.jwt_claims() ->> 'role';
    IF claimed IS NULL THEN
        RETURN;                 -- a valid token without a role: anonymous, as in PostgREST
    END IF;
    IF NOT EXISTS (SELECT FROM pg_roles r
                   WHERE r.rolname = claimed AND NOT r.rolsuper
                     AND pg_has_role(session_user, r.oid, 'MEMBER')) THEN
        RAISE EXCEPTION 'the token''s role "%" cannot be assumed', claimed
              USING ERRCODE = 'insufficient_privilege',
                    DETAIL = 'This API switches only to roles granted to its login role, and never to a superuser.';
    END IF;
    PERFORM set_config('role', claimed, true);
END
$$;
-- ---------------------------------------------------------------------
-- PostgREST's transaction-scoped settings (PreQuery.hs, txVarQuery): not
-- part of the recipe, the simulation of what PostgREST runs
-- ---------------------------------------------------------------------
CREATE SCHEMA pgrst;
CREATE PROCEDURE pgrst.tx_vars(method text, path text, headers jsonb)
LANGUAGE sql AS $$
    SELECT set_config('search_path', '"api", "public"', true),
           set_config('role', 'regress_anon', true),
           set_config('request.jwt.claims', '{"role":"regress_anon"}', true),
           set_config('request.method', method, true),
           set_config('request.path', path, true),
           set_config('request.headers', headers::text, true),
           set_config('request.cookies', '{}', true)
$$;
GRANT USAGE ON SCHEMA pgrst TO regress_authenticator;
-- ---------------------------------------------------------------------
-- The registry key and the tokens (made by the registry's owner)
-- ---------------------------------------------------------------------
SELECT jwt_generate_key('ES256') AS es_key \gset
SELECT jwt_add_key(:'es_key', 'ES256', kid => 'pgrst-2026') AS kid;
CREATE FUNCTION pg_temp.mint(claims jsonb, expires_in interval DEFAULT '1 hour') RETURNS text
AS $$ SELECT jwt_issue(claims || jsonb_build_object(
                           'exp', floor(extract(epoch FROM now() + expires_in))::bigint),
                       'pgrst-2026') $$
LANGUAGE sql;
SELECT pg_temp.mint('{"sub":"alice","role":"regress_web_user"}') AS alice,
       pg_temp.mint('{"sub":"bob","role":"regress_web_user"}', '-1 hour') AS expired,
       pg_temp.mint('{"sub":"carol"}') AS no_role,
       pg_temp.mint('{"sub":"mallory","role":"regress_auditor"}') AS wants_auditor,
       pg_temp.mint('{"sub":"mallory","role":"regress_superuser"}') AS wants_root,
       pg_temp.mint('{"sub":"mallory","role":"no_such_role"}') AS wants_nobody \gset
-- alice's token with its payload edited to say bob
SELECT split_part(:'alice', '.', 1) || '.' ||
       translate(rtrim(replace(encode(convert_to(
           (jwt_decode(:'alice') -> 'payload' || '{"sub":"bob"}')::text, 'UTF8'), 'base64'),
           E'\n', ''), '='), '+/', '-_') || '.' ||
       split_part(:'alice', '.', 3) AS tampered \gset
-- a token signed by a key of someone else's, under the registry key's kid
SELECT jwt_sign(jsonb_build_object('sub', 'bob', 'role', 'regress_web_user',
                                   'exp', floor(extract(epoch FROM now() + interval '1 hour'))::bigint),
                (jwt_generate_key('ES256') - 'kid')::text, 'ES256',
                header => '{"kid":"pgrst-2026"}') AS stranger \gset
-- the request headers, as PostgREST stores them: JSON, names lower-cased
CREATE FUNCTION pg_temp.headers(credential text) RETURNS jsonb
AS $$ SELECT jsonb_strip_nulls(jsonb_build_object('accept', '*/*', 'user-agent', 'curl/8.0',
                                                  'x-forwarded-authorization', credential)) $$
LANGUAGE sql;
-- ---------------------------------------------------------------------
-- Requests, as PostgREST's pool runs them
-- ---------------------------------------------------------------------
SET SESSION AUTHORIZATION regress_authenticator;
-- GET /notes with alice's token: the pre-request runs as anon and leaves the
-- transaction as web_user, with alice's verified claims
BEGIN ISOLATION LEVEL READ COMMITTED READ ONLY;
CALL pgrst.tx_vars('GET', '/notes', pg_temp.headers('Bearer ' || :'alice'));
SELECT current_user AS pre_request_runs_as;
SELECT api.pre_request();
SELECT current_user, session_user, jwt_claim('sub') AS sub;
SELECT id, owner, body FROM api.notes ORDER BY id;
COMMIT;
-- after COMMIT nothing of the request is left on the pooled connection
SELECT current_user, current_setting('jwt.token') = '' AS no_token, jwt_claims();
-- the scheme in any case
BEGIN ISOLATION LEVEL READ COMMITTED READ ONLY;
CALL pgrst.tx_vars('GET', '/notes', pg_temp.headers('bearer ' || :'alice'));
SELECT api.pre_request();
SELECT current_user, jwt_claim('sub') AS sub;
COMMIT;
-- POST /notes as alice: she writes her own notes, and only hers
BEGIN ISOLATION LEVEL READ COMMITTED;
CALL pgrst.tx_vars('POST', '/notes', pg_temp.headers('BEARER ' || :'alice'));
SELECT api.pre_request();
INSERT INTO api.notes (id, owner, body) VALUES (5, 'alice', 'written through the API')
RETURNING id, owner, body;
COMMIT;
BEGIN ISOLATION LEVEL READ COMMITTED;
CALL pgrst.tx_vars('POST', '/notes', pg_temp.headers('Bearer ' || :'alice'));
SELECT api.pre_request();
INSERT INTO api.notes (id, owner, body) VALUES (6, 'bob', 'alice writing as bob');
ROLLBACK;
-- no token: anonymous, public notes only, no claims
BEGIN ISOLATION LEVEL READ COMMITTED READ ONLY;
CALL pgrst.tx_vars('GET', '/notes', pg_temp.headers(NULL));
SELECT api.pre_request();
SELECT current_user, jwt_claims();
SELECT id, owner, body FROM api.notes ORDER BY id;
COMMIT;
-- a valid token without a role claim: anonymous, as PostgREST would make it,
-- though its claims are there for the policies
BEGIN ISOLATION LEVEL READ COMMITTED READ ONLY;
CALL pgrst.tx_vars('GET', '/notes', pg_temp.headers('Bearer ' || :'no_role'));
SELECT api.pre_request();
SELECT current_user, jwt_claim('sub') AS sub;
SELECT id, owner, body FROM api.notes ORDER BY id;
COMMIT;
-- bad tokens: the pre-request fails with 28000 (PostgREST answers 403 and
-- rolls back), and the role never changes
BEGIN ISOLATION LEVEL READ COMMITTED READ ONLY;
CALL pgrst.tx_vars('GET', '/notes', pg_temp.headers('Bearer ' || :'expired'));
SELECT api.pre_request();
ROLLBACK;
BEGIN ISOLATION LEVEL READ COMMITTED READ ONLY;
CALL pgrst.tx_vars('GET', '/notes', pg_temp.headers('Bearer ' || :'tampered'));
SELECT api.pre_request();
ROLLBACK;
BEGIN ISOLATION LEVEL READ COMMITTED READ ONLY;
CALL pgrst.tx_vars('GET', '/notes', pg_temp.headers('Bearer ' || :'stranger'));
SELECT api.pre_request();
ROLLBACK;
BEGIN ISOLATION LEVEL READ COMMITTED READ ONLY;
CALL pgrst.tx_vars('GET', '/notes', pg_temp.headers('Bearer not-a-jwt'));
SELECT api.pre_request();
ROLLBACK;
-- a credential that is not "Bearer <token>", an empty one among them
BEGIN ISOLATION LEVEL READ COMMITTED READ ONLY;
CALL pgrst.tx_vars('GET', '/notes', pg_temp.headers('Basic YWxpY2U6c2VjcmV0'));
SELECT api.pre_request();
ROLLBACK;
BEGIN ISOLATION LEVEL READ COMMITTED READ ONLY;
CALL pgrst.tx_vars('GET', '/notes', pg_temp.headers('Bearer '));
SELECT api.pre_request();
ROLLBACK;
-- validly signed tokens naming a role this API may not take: one not granted
-- to the authenticator, a superuser granted to it, one that does not exist
-- (42501; PostgREST answers 401, the request being anonymous to it)
BEGIN ISOLATION LEVEL READ COMMITTED READ ONLY;
CALL pgrst.tx_vars('GET', '/notes', pg_temp.headers('Bearer ' || :'wants_auditor'));
SELECT api.pre_request();
ROLLBACK;
BEGIN ISOLATION LEVEL READ COMMITTED READ ONLY;
CALL pgrst.tx_vars('GET', '/notes', pg_temp.headers('Bearer ' || :'wants_root'));
SELECT api.pre_request();
ROLLBACK;
BEGIN ISOLATION LEVEL READ COMMITTED READ ONLY;
CALL pgrst.tx_vars('GET', '/notes', pg_temp.headers('Bearer ' || :'wants_nobody'));
SELECT api.pre_request();
ROLLBACK;
-- what PostgreSQL itself says to a role outside the authenticator's grants
BEGIN;
SET LOCAL ROLE regress_auditor;
ROLLBACK;
RESET SESSION AUTHORIZATION;
-- why not SECURITY DEFINER: such a function may not change "role" at all
CREATE FUNCTION api.pre_request_definer() RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $$ BEGIN PERFORM set_config('role', 'regress_web_user', true); END $$;
SET SESSION AUTHORIZATION regress_authenticator;
BEGIN ISOLATION LEVEL READ COMMITTED READ ONLY;
CALL pgrst.tx_vars('GET', '/notes', pg_temp.headers('Bearer ' || :'alice'));
SELECT api.pre_request_definer();
ROLLBACK;
RESET SESSION AUTHORIZATION;
DROP FUNCTION api.pre_request_definer();
-- ---------------------------------------------------------------------
-- jwt.fallback_request_claims
-- ---------------------------------------------------------------------
SET SESSION AUTHORIZATION regress_authenticator;
-- off by default, and only a superuser may change it
SHOW jwt.fallback_request_claims;
SET jwt.fallback_request_claims = on;
-- a direct client (anyone who can log in to the database; here with the
-- API's login role) forges request.jwt.claims: ignored, jwt_claims() is NULL
BEGIN;
SET LOCAL ROLE regress_web_user;
SET LOCAL request.jwt.claims = '{"sub":"bob","role":"regress_web_user"}';
SELECT jwt_claims(), jwt_claim('sub') AS sub;
SELECT id, owner, body FROM api.notes ORDER BY id;
COMMIT;
-- a superuser turns it on (in production: ALTER DATABASE ... SET)
RESET SESSION AUTHORIZATION;
SET jwt.fallback_request_claims = on;
SET SESSION AUTHORIZATION regress_authenticator;
-- the same forged claims are now returned, unverified, and the policy shows
-- bob's private note to whoever wrote them: the documented danger
BEGIN;
SET LOCAL ROLE regress_web_user;
SET LOCAL request.jwt.claims = '{"sub":"bob","role":"regress_web_user"}';
SELECT jwt_claims(), jwt_claim('sub') AS sub;
SELECT id, owner, body FROM api.notes ORDER BY id;
COMMIT;
-- a token still wins over the setting
BEGIN ISOLATION LEVEL READ COMMITTED READ ONLY;
CALL pgrst.tx_vars('GET', '/notes', pg_temp.headers('Bearer ' || :'alice'));
SELECT set_config('request.jwt.claims', '{"sub":"bob","role":"regress_web_user"}', true) IS NOT NULL AS forged;
SELECT api.pre_request();
SELECT current_user, jwt_claim('sub') AS sub;
COMMIT;
-- through PostgREST with no token, the pre-request never consults the claims
-- (the request stays anon), but the policies see PostgREST's own
-- {"role": <db-anon-role>}, unverified
BEGIN ISOLATION LEVEL READ COMMITTED READ ONLY;
CALL pgrst.tx_vars('GET', '/notes', pg_temp.headers(NULL));
SELECT api.pre_request();
SELECT current_user, jwt_claims();
COMMIT;
-- ---------------------------------------------------------------------
-- The variant without a proxy: PostgREST keeps its jwt-secret (here the
-- registry's public JWKS, from jwt_jwks(), so PostgREST holds no secret),
-- verifies "Authorization: Bearer ..." itself and switches to the token's
-- role; the pre-request verifies the same token again from request.headers,
-- so the database's rules (revocation, retired keys, policy settings) hold
-- for PostgREST's requests exactly as for direct clients.
-- ---------------------------------------------------------------------
RESET SESSION AUTHORIZATION;
RESET jwt.fallback_request_claims;
CREATE FUNCTION api.pre_request_again() RETURNS void
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    credential text := nullif(current_setting('request.headers', true), '')::json
                       ->> 'authorization';
    token text[];
BEGIN
    IF credential IS NULL THEN
        PERFORM set_config('jwt.token', '', true);
        RETURN;
    END IF;
    token := regexp_match(credential, '^bearer +([A-Za-z0-9._~+/-]+=*)$', 'i');
    IF token IS NULL THEN
        RAISE EXCEPTION 'invalid token'
              USING ERRCODE = 'invalid_authorization_specification',
                    DETAIL = 'The Authorization header is not "Bearer <token>".';
    END IF;
    PERFORM set_config('jwt.token', token[1], true);
    -- verified again: 28000 for a token PostgREST accepted and the database does not
    IF coalesce(public.jwt_claims() ->> 'role', 'regress_anon') IS DISTINCT FROM current_user::text THEN
        RAISE EXCEPTION 'the request runs as a role its token does not name'
              USING ERRCODE = 'insufficient_privilege';
    END IF;
END
$$;
-- what PostgREST runs once it has verified a JWT: the token's role, its claims
CREATE PROCEDURE pgrst.tx_vars_verified(method text, path text, headers jsonb, claims jsonb)
LANGUAGE sql AS $$
    SELECT set_config('search_path', '"api", "public"', true),
           set_config('role', coalesce(claims ->> 'role', 'regress_anon'), true),
           set_config('request.jwt.claims', claims::text, true),
           set_config('request.method', method, true),
           set_config('request.path', path, true),
           set_config('request.headers', headers::text, true),
           set_config('request.cookies', '{}', true)
$$;
-- PostgREST's jwt-secret: the registry's public keys, no secret
SELECT jsonb_array_length(jwt_jwks() -> 'keys') > 0 AS jwks_for_postgrest;
SELECT pg_temp.mint('{"sub":"alice","role":"regress_web_user","jti":"alice-1"}') AS alice_jti \gset
CREATE FUNCTION pg_temp.auth(credential text) RETURNS jsonb
AS $$ SELECT jsonb_build_object('accept', '*/*', 'authorization', credential) $$
LANGUAGE sql;
SET SESSION AUTHORIZATION regress_authenticator;
-- alice, verified by PostgREST and again by the database
BEGIN ISOLATION LEVEL READ COMMITTED READ ONLY;
CALL pgrst.tx_vars_verified('GET', '/notes', pg_temp.auth('Bearer ' || :'alice_jti'),
                            jwt_decode(:'alice_jti') -> 'payload');
SELECT api.pre_request_again();
SELECT current_user, jwt_claim('sub') AS sub;
SELECT id, owner FROM api.notes ORDER BY id;
COMMIT;
-- the token is revoked in the database: PostgREST, which knows nothing of
-- revocations, still accepts it; the database refuses it
RESET SESSION AUTHORIZATION;
SELECT jwt_revoke('alice-1', now() + interval '1 hour');
SET SESSION AUTHORIZATION regress_authenticator;
BEGIN ISOLATION LEVEL READ COMMITTED READ ONLY;
CALL pgrst.tx_vars_verified('GET', '/notes', pg_temp.auth('Bearer ' || :'alice_jti'),
                            jwt_decode(:'alice_jti') -> 'payload');
SELECT api.pre_request_again();
ROLLBACK;
-- PostgREST's role and the token's disagree (a misconfigured jwt-role-claim-key): refused
BEGIN ISOLATION LEVEL READ COMMITTED READ ONLY;
CALL pgrst.tx_vars_verified('GET', '/notes', pg_temp.auth('Bearer ' || :'no_role'),
                            '{"sub":"carol","role":"regress_web_user"}');
SELECT api.pre_request_again();
ROLLBACK;
-- a direct client that writes request.jwt.claims gets nothing from it
BEGIN;
SET LOCAL ROLE regress_web_user;
SET LOCAL request.jwt.claims = '{"sub":"bob","role":"regress_web_user"}';
SELECT jwt_claims() IS NULL AS forged_claims_ignored;
SELECT count(*) AS rows_seen FROM api.notes WHERE NOT public;
COMMIT;
RESET SESSION AUTHORIZATION;
DELETE FROM jwt_revocations WHERE jti = 'alice-1';
-- ---------------------------------------------------------------------
-- Logins over PostgREST (README, "Logins over PostgREST"): /rpc/login,
-- /rpc/refresh and /rpc/logout in both transports.  JSON: the token
-- response is the body.  Cookie: the refresh token only in an HttpOnly;
-- Secure; SameSite=Strict cookie set through response.headers and read
-- back from request.cookies, the body carrying the access token alone.  A
-- refused refresh token is 400 (response.status) with the RFC 6749 error
-- object, and PostgREST commits: a replay's ending of the login stands.
-- PostgREST reads response.headers and response.status after its main
-- query, in the same transaction; here a SELECT after the call shows them.  (The
-- users' passwords are checked with sha256 here; the README uses
-- pgcrypto's crypt().)
-- ---------------------------------------------------------------------
RESET SESSION AUTHORIZATION;
CREATE PROCEDURE pgrst.tx_vars(method text, path text, headers jsonb, cookies jsonb)
LANGUAGE sql AS $$
    SELECT set_config('search_path', '"api", "public"', true),
           set_config('role', 'regress_anon', true),
           set_config('request.jwt.claims', '{"role":"regress_anon"}', true),
           set_config('request.method', method, true),
           set_config('request.path', path, true),
           set_config('request.headers', headers::text, true),
           set_config('request.cookies', cookies::text, true)
$$;
-- what PostgREST sends back besides the body
CREATE FUNCTION pgrst.response(OUT status text, OUT set_cookie text) LANGUAGE sql AS $$
    SELECT nullif(current_setting('response.status', true), ''),
           regexp_replace(nullif(current_setting('response.headers', true), '')::jsonb -> 0 ->> 'Set-Cookie',
                          '^refresh_token=[A-Za-z0-9_-]{43};', 'refresh_token=<43 characters>;')
$$;
-- the refresh token of a Set-Cookie header
CREATE FUNCTION pgrst.cookie() RETURNS jsonb LANGUAGE sql AS $$
    SELECT jsonb_build_object('refresh_token',
               substring(current_setting('response.headers', true)::jsonb -> 0 ->> 'Set-Cookie'
                         FROM '^refresh_token=([^;]+);'))
$$;
-- read as PostgREST reads them: as the request's role
GRANT USAGE ON SCHEMA pgrst TO regress_anon, regress_web_user;
CREATE SCHEMA private;
CREATE TABLE private.users (name text PRIMARY KEY, salt text NOT NULL, password_hash bytea NOT NULL,
                            role name NOT NULL DEFAULT 'regress_web_user');
INSERT INTO private.users (name, salt, password_hash)
SELECT 'alice', s, sha256(convert_to(s || 'correct horse', 'UTF8')) FROM (VALUES ('pepper-1')) AS v(s);
CREATE SCHEMA basic_auth;
CREATE FUNCTION basic_auth.refresh_cookie(token text, max_age bigint) RETURNS void
LANGUAGE sql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT set_config('response.headers',
               (coalesce(nullif(current_setting('response.headers', true), '')::jsonb, '[]')
                || jsonb_build_array(jsonb_build_object('Set-Cookie',
                       format('refresh_token=%s; Path=/rpc; Max-Age=%s; HttpOnly; Secure; SameSite=Strict',
                              token, max_age))))::text,
               true)
$$;
CREATE FUNCTION basic_auth.respond(response jsonb, cookie boolean) RETURNS jsonb
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    IF response ? 'error' THEN
        PERFORM set_config('response.status', '400', true);
        IF cookie THEN
            PERFORM basic_auth.refresh_cookie('', 0);
        END IF;
        RETURN response;
    END IF;
    IF NOT cookie THEN
        RETURN response;
    END IF;
    PERFORM basic_auth.refresh_cookie(response ->> 'refresh_token',
        extract(epoch FROM current_setting('jwt.refresh_token_lifetime')::interval)::bigint);
    RETURN response - 'refresh_token';
END
$$;
CREATE FUNCTION api.login(name text, password text, cookie boolean DEFAULT false) RETURNS jsonb
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    u private.users;
BEGIN
    SELECT * INTO u FROM private.users a WHERE a.name = login.name;
    IF NOT FOUND OR u.password_hash IS DISTINCT FROM sha256(convert_to(u.salt || login.password, 'UTF8')) THEN
        RAISE EXCEPTION 'invalid user or password' USING ERRCODE = 'invalid_password';
    END IF;
    RETURN basic_auth.respond(public.jwt_login(jsonb_build_object('sub', u.name, 'role', u.role), 'pgrst-2026'),
                        cookie);
END
$$;
CREATE FUNCTION api.refresh(refresh_token text DEFAULT NULL) RETURNS jsonb
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    cookie text := nullif(nullif(current_setting('request.cookies', true), '')::json ->> 'refresh_token', '');
BEGIN
    IF refresh.refresh_token IS NOT NULL THEN
        RETURN basic_auth.respond(public.jwt_refresh(refresh.refresh_token), false);
    ELSIF cookie IS NOT NULL THEN
        RETURN basic_auth.respond(public.jwt_refresh(cookie), true);
    END IF;
    RETURN basic_auth.respond('{"error": "invalid_request", "error_description": "no refresh token"}', false);
END
$$;
CREATE FUNCTION api.logout() RETURNS boolean
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    cookie text := nullif(nullif(current_setting('request.cookies', true), '')::json ->> 'refresh_token', '');
BEGIN
    IF cookie IS NOT NULL THEN
        PERFORM basic_auth.refresh_cookie('', 0);
        RETURN public.jwt_logout(cookie);
    END IF;
    RETURN public.jwt_logout();
END
$$;
REVOKE ALL ON FUNCTION basic_auth.refresh_cookie(text, bigint), basic_auth.respond(jsonb, boolean),
                       api.login(text, text, boolean), api.refresh(text), api.logout() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION api.login(text, text, boolean), api.refresh(text), api.logout()
    TO regress_anon, regress_web_user;
SET SESSION AUTHORIZATION regress_authenticator;
--
-- The cookie transport.  POST /rpc/login {"name":"alice","password":"correct
-- horse","cookie":true}: the body has no refresh token, the cookie has it.
--
BEGIN ISOLATION LEVEL READ COMMITTED;
CALL pgrst.tx_vars('POST', '/rpc/login', pg_temp.headers(NULL), '{}');
SELECT api.pre_request();
SELECT api.login(name => 'alice', password => 'correct horse', cookie => true) AS c1 \gset
SELECT array(SELECT jsonb_object_keys(:'c1'::jsonb) ORDER BY 1) AS body_members, * FROM pgrst.response();
SELECT pgrst.cookie() AS c1_cookie \gset
COMMIT;
-- GET /notes with the access token, kept in the client's memory
BEGIN ISOLATION LEVEL READ COMMITTED READ ONLY;
CALL pgrst.tx_vars('GET', '/notes', pg_temp.headers('Bearer ' || (:'c1'::jsonb ->> 'access_token')), '{}');
SELECT api.pre_request();
SELECT current_user, jwt_claim('sub') AS sub, jwt_claim('sid') = :'c1'::jsonb ->> 'sid' AS sid;
SELECT id, owner FROM api.notes ORDER BY id;
COMMIT;
-- POST /rpc/refresh {}, the browser sending the cookie (and no access token:
-- it may have expired): a new access token in the body, a new cookie
BEGIN ISOLATION LEVEL READ COMMITTED;
CALL pgrst.tx_vars('POST', '/rpc/refresh', pg_temp.headers(NULL), :'c1_cookie');
SELECT api.pre_request();
SELECT api.refresh() AS c2 \gset
SELECT array(SELECT jsonb_object_keys(:'c2'::jsonb) ORDER BY 1) AS body_members,
       :'c2'::jsonb ->> 'sid' = :'c1'::jsonb ->> 'sid' AS same_login, * FROM pgrst.response();
SELECT pgrst.cookie() AS c2_cookie \gset
SELECT :'c2_cookie'::jsonb <> :'c1_cookie'::jsonb AS rotated;
COMMIT;
-- the old cookie again after the reuse interval (0 here, set by a superuser):
-- 400 invalid_grant, the cookie cleared; the commit ends the login
RESET SESSION AUTHORIZATION;
SET jwt.refresh_reuse_interval = 0;
SET SESSION AUTHORIZATION regress_authenticator;
BEGIN ISOLATION LEVEL READ COMMITTED;
CALL pgrst.tx_vars('POST', '/rpc/refresh', pg_temp.headers(NULL), :'c1_cookie');
SELECT api.pre_request();
SELECT api.refresh() AS body;
SELECT * FROM pgrst.response();
COMMIT;
RESET SESSION AUTHORIZATION;
RESET jwt.refresh_reuse_interval;
SET SESSION AUTHORIZATION regress_authenticator;
-- the login's access tokens are refused from the next request on (403)
BEGIN ISOLATION LEVEL READ COMMITTED READ ONLY;
CALL pgrst.tx_vars('GET', '/notes', pg_temp.headers('Bearer ' || (:'c2'::jsonb ->> 'access_token')), '{}');
SELECT api.pre_request();
ROLLBACK;
-- and the new cookie too
BEGIN ISOLATION LEVEL READ COMMITTED;
CALL pgrst.tx_vars('POST', '/rpc/refresh', pg_temp.headers(NULL), :'c2_cookie');
SELECT api.pre_request();
SELECT api.refresh() ->> 'error_description' AS refused;
SELECT * FROM pgrst.response();
COMMIT;
-- logout with the cookie: the login ends, the cookie is cleared
BEGIN ISOLATION LEVEL READ COMMITTED;
CALL pgrst.tx_vars('POST', '/rpc/login', pg_temp.headers(NULL), '{}');
SELECT api.pre_request();
SELECT api.login('alice', 'correct horse', true) AS c3 \gset
SELECT pgrst.cookie() AS c3_cookie \gset
COMMIT;
BEGIN ISOLATION LEVEL READ COMMITTED;
CALL pgrst.tx_vars('POST', '/rpc/logout', pg_temp.headers('Bearer ' || (:'c3'::jsonb ->> 'access_token')),
                   :'c3_cookie');
SELECT api.pre_request();
SELECT api.logout() AS ended;
SELECT * FROM pgrst.response();
COMMIT;
BEGIN ISOLATION LEVEL READ COMMITTED;
CALL pgrst.tx_vars('POST', '/rpc/refresh', pg_temp.headers(NULL), :'c3_cookie');
SELECT api.pre_request();
SELECT api.refresh() ->> 'error_description' AS refused;
SELECT * FROM pgrst.response();
COMMIT;
--
-- The JSON transport.  POST /rpc/login {"name":"alice","password":"correct
-- horse"}: the token response is the body; no cookie.
--
BEGIN ISOLATION LEVEL READ COMMITTED;
CALL pgrst.tx_vars('POST', '/rpc/login', pg_temp.headers(NULL), '{}');
SELECT api.pre_request();
SELECT api.login(name => 'alice', password => 'correct horse') AS j1 \gset
SELECT array(SELECT jsonb_object_keys(:'j1'::jsonb) ORDER BY 1) AS body_members, * FROM pgrst.response();
COMMIT;
-- POST /rpc/refresh {"refresh_token": …}
BEGIN ISOLATION LEVEL READ COMMITTED;
CALL pgrst.tx_vars('POST', '/rpc/refresh', pg_temp.headers(NULL), '{}');
SELECT api.pre_request();
SELECT api.refresh(refresh_token => :'j1'::jsonb ->> 'refresh_token') AS j2 \gset
SELECT array(SELECT jsonb_object_keys(:'j2'::jsonb) ORDER BY 1) AS body_members,
       :'j2'::jsonb ->> 'refresh_token' <> :'j1'::jsonb ->> 'refresh_token' AS rotated, * FROM pgrst.response();
COMMIT;
-- POST /rpc/logout with the access token alone (a client that lost its
-- refresh token): jwt_logout() ends the login the verified token names
BEGIN ISOLATION LEVEL READ COMMITTED;
CALL pgrst.tx_vars('POST', '/rpc/logout', pg_temp.headers('Bearer ' || (:'j2'::jsonb ->> 'access_token')), '{}');
SELECT api.pre_request();
SELECT api.logout() AS ended;
SELECT * FROM pgrst.response();
COMMIT;
BEGIN ISOLATION LEVEL READ COMMITTED;
CALL pgrst.tx_vars('POST', '/rpc/refresh', pg_temp.headers(NULL), '{}');
SELECT api.pre_request();
SELECT api.refresh(:'j2'::jsonb ->> 'refresh_token') AS body;
SELECT * FROM pgrst.response();
COMMIT;
-- no refresh token at all: 400 invalid_request
BEGIN ISOLATION LEVEL READ COMMITTED;
CALL pgrst.tx_vars('POST', '/rpc/refresh', pg_temp.headers(NULL), '{}');
SELECT api.pre_request();
SELECT api.refresh() AS body;
SELECT * FROM pgrst.response();
COMMIT;
-- a wrong password: 28P01 (PostgREST answers 403), nothing written
BEGIN ISOLATION LEVEL READ COMMITTED;
CALL pgrst.tx_vars('POST', '/rpc/login', pg_temp.headers(NULL), '{}');
SELECT api.pre_request();
SELECT api.login('alice', 'wrong horse');
ROLLBACK;
-- anon cannot reach the helpers nor the extension's functions directly
BEGIN ISOLATION LEVEL READ COMMITTED;
CALL pgrst.tx_vars('POST', '/rpc/login', pg_temp.headers(NULL), '{}');
SELECT api.pre_request();
SELECT public.jwt_login('{"sub": "mallory"}');
ROLLBACK;
RESET SESSION AUTHORIZATION;
SELECT count(*) AS logins, count(*) FILTER (WHERE ended_at IS NOT NULL) AS ended,
       array_agg(DISTINCT end_reason ORDER BY end_reason) FILTER (WHERE end_reason IS NOT NULL) AS reasons
FROM jwt_logins WHERE sub = 'alice';
DELETE FROM jwt_logins WHERE sub = 'alice';
-- ---------------------------------------------------------------------
-- Clean up (the cluster is shared with the other suites)
-- ---------------------------------------------------------------------
SET client_min_messages = warning;
DROP SCHEMA api CASCADE;
DROP SCHEMA pgrst CASCADE;
DROP SCHEMA basic_auth CASCADE;
DROP SCHEMA private CASCADE;
RESET client_min_messages;
DELETE FROM jwt_keys WHERE kid = 'pgrst-2026';
DROP ROLE regress_authenticator, regress_anon, regress_web_user, regress_auditor, regress_superuser;
