--
-- logins: jwt_login() starts a login (an access token and a refresh token),
-- jwt_refresh() rotates its refresh token, a replay after
-- jwt.refresh_reuse_interval ends the login and jwt_claims() refuses its
-- access tokens from the next statement on; jwt_logout(token),
-- jwt_logout() and jwt_logout_all(sub) end logins.  No token is printed:
-- they are random, so the checks are booleans over them.
--
\set secret 'logins-secret-logins-secret-logins-secret-0123456789'
DELETE FROM jwt_keys;
DELETE FROM jwt_revocations;
DELETE FROM jwt_logins;
SELECT jwt_add_key(:'secret', 'HS256', 'logins-hs256');
-- what jwt_claims() makes of a token: the subject, or the error
CREATE FUNCTION pg_temp.session(token text, OUT code text, OUT sub text, OUT detail text)
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM set_config('jwt.token', token, true);
    sub := jwt_claims() ->> 'sub';
    code := '00000';
EXCEPTION WHEN OTHERS THEN
    GET STACKED DIAGNOSTICS code = RETURNED_SQLSTATE, detail = PG_EXCEPTION_DETAIL;
END
$$;
-- the outcome of a statement: 00000, or the error
CREATE FUNCTION pg_temp.try(statement text, OUT code text, OUT message text, OUT hint text)
LANGUAGE plpgsql AS $$
BEGIN
    EXECUTE statement;
    code := '00000';
EXCEPTION WHEN OTHERS THEN
    GET STACKED DIAGNOSTICS code = RETURNED_SQLSTATE, message = MESSAGE_TEXT,
                            hint = PG_EXCEPTION_HINT;
END
$$;
--
-- The token response (RFC 6749 section 5.1) and the access token's claims.
--
SELECT jwt_login('{"sub": "alice", "role": "app_user", "exp": 1, "sid": "forged"}') AS r1 \gset
SELECT array(SELECT jsonb_object_keys(:'r1'::jsonb) ORDER BY 1) AS members,
       :'r1'::jsonb ->> 'token_type' AS token_type,
       :'r1'::jsonb -> 'expires_in' AS expires_in,
       :'r1'::jsonb ->> 'refresh_token' ~ '^[A-Za-z0-9_-]{43}$' AS refresh_is_256_bits_base64url,
       :'r1'::jsonb ->> 'sid' ~ '^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$' AS sid_is_uuid;
SELECT jwt_verify(:'r1'::jsonb ->> 'access_token', :'secret') AS c1 \gset
SELECT array(SELECT jsonb_object_keys(:'c1'::jsonb) ORDER BY 1) AS claims,
       :'c1'::jsonb ->> 'sub' AS sub, :'c1'::jsonb ->> 'role' AS role,
       :'c1'::jsonb ->> 'sid' = :'r1'::jsonb ->> 'sid' AS sid_is_the_logins,
       (:'c1'::jsonb ->> 'exp')::bigint - (:'c1'::jsonb ->> 'iat')::bigint AS lifetime,
       abs((:'c1'::jsonb ->> 'iat')::bigint - extract(epoch FROM now())) < 60 AS fresh_iat,
       length(:'c1'::jsonb ->> 'jti') >= 22 AS has_jti;
SELECT jwt_decode(:'r1'::jsonb ->> 'access_token') -> 'header' ->> 'kid' AS kid;
SELECT * FROM pg_temp.session(:'r1'::jsonb ->> 'access_token');
-- iss and aud from the policy when set and absent from the claims
SET jwt.issuer = 'https://auth.example';
SET jwt.audience = 'example-api';
SELECT jwt_decode(jwt_login('{"sub": "alice"}') ->> 'access_token') -> 'payload' ->> 'iss' AS iss,
       jwt_decode(jwt_login('{"sub": "alice"}') ->> 'access_token') -> 'payload' ->> 'aud' AS aud,
       jwt_decode(jwt_login('{"sub": "alice", "aud": "other"}') ->> 'access_token') -> 'payload' ->> 'aud' AS own_aud;
RESET jwt.issuer;
RESET jwt.audience;
SET jwt.access_token_lifetime = '5min';
SELECT jwt_login('{"sub": "alice"}') -> 'expires_in' AS expires_in;
RESET jwt.access_token_lifetime;
-- wrong calls are 22023
SELECT * FROM pg_temp.try($$SELECT jwt_login(NULL)$$);
SELECT * FROM pg_temp.try($$SELECT jwt_login('[1]')$$);
SELECT * FROM pg_temp.try($$SELECT jwt_login('{"role": "x"}')$$);
SELECT * FROM pg_temp.try($$SELECT jwt_login('{"sub": 7}')$$);
SELECT * FROM pg_temp.try($$SELECT jwt_login('{"sub": "alice"}', 'no-such-kid')$$);
SELECT * FROM pg_temp.try($$SELECT jwt_refresh(NULL)$$);
--
-- Rotation: a new refresh token of the same login; presented again within
-- the reuse interval (10 s by default), the same successor with a fresh
-- access token.
--
SELECT jwt_refresh(:'r1'::jsonb ->> 'refresh_token') AS r2 \gset
SELECT :'r2'::jsonb ->> 'sid' = :'r1'::jsonb ->> 'sid' AS same_login,
       :'r2'::jsonb ->> 'refresh_token' <> :'r1'::jsonb ->> 'refresh_token' AS new_refresh_token,
       :'r2'::jsonb ->> 'access_token' <> :'r1'::jsonb ->> 'access_token' AS new_access_token,
       jwt_decode(:'r2'::jsonb ->> 'access_token') -> 'payload' ->> 'role' AS role_reissued;
SELECT jwt_refresh(:'r1'::jsonb ->> 'refresh_token') AS r2b \gset
SELECT :'r2b'::jsonb ->> 'refresh_token' = :'r2'::jsonb ->> 'refresh_token' AS same_successor,
       :'r2b'::jsonb ->> 'access_token' <> :'r2'::jsonb ->> 'access_token' AS fresh_access_token;
-- one line of refresh tokens: two rows, the first used
SELECT count(*) AS tokens, count(used_at) AS used, count(successor_enc) AS sealed
FROM jwt_refresh_tokens WHERE sid = :'r1'::jsonb ->> 'sid';
-- claims given to the refresh are issued (and kept); sub may not change
SELECT jwt_refresh(:'r2'::jsonb ->> 'refresh_token', '{"role": "admin"}') AS r3 \gset
SELECT jwt_decode(:'r3'::jsonb ->> 'access_token') -> 'payload' ->> 'role' AS role,
       jwt_decode(:'r3'::jsonb ->> 'access_token') -> 'payload' ->> 'sub' AS sub;
SELECT * FROM pg_temp.try(format($$SELECT jwt_refresh(%L, '{"sub": "mallory"}')$$,
                                 :'r3'::jsonb ->> 'refresh_token'));
SELECT * FROM pg_temp.try(format($$SELECT jwt_refresh(%L, '"x"')$$,
                                 :'r3'::jsonb ->> 'refresh_token'));
-- the refused call changed nothing: r3's token still rotates
SELECT jwt_refresh(:'r3'::jsonb ->> 'refresh_token') AS r4 \gset
SELECT jwt_decode(:'r4'::jsonb ->> 'access_token') -> 'payload' ->> 'role' AS kept_role;
SELECT * FROM pg_temp.session(:'r4'::jsonb ->> 'access_token');
--
-- A replay after the interval ends the whole login: every refresh token of
-- it is refused, and jwt_claims() refuses every access token carrying its
-- sid from the next statement on.  The refusal is an RFC 6749 error object,
-- not an error: the ending commits.
--
UPDATE jwt_refresh_tokens SET used_at = used_at - interval '11 seconds'
WHERE sid = :'r1'::jsonb ->> 'sid' AND used_at IS NOT NULL;
SELECT jwt_refresh(:'r2'::jsonb ->> 'refresh_token');
SELECT ended_at IS NOT NULL AS ended, end_reason FROM jwt_logins WHERE sid = :'r1'::jsonb ->> 'sid';
SELECT jwt_refresh(:'r4'::jsonb ->> 'refresh_token');
SELECT jwt_refresh(:'r1'::jsonb ->> 'refresh_token');
SELECT * FROM pg_temp.session(:'r4'::jsonb ->> 'access_token');
SELECT * FROM pg_temp.session(:'r1'::jsonb ->> 'access_token');
-- the interval is a setting: at 0, any second presentation is a replay
SET jwt.refresh_reuse_interval = 0;
SELECT jwt_login('{"sub": "bob"}') AS b1 \gset
SELECT jwt_refresh(:'b1'::jsonb ->> 'refresh_token') ? 'access_token' AS rotated;
SELECT pg_sleep(0.01);
SELECT jwt_refresh(:'b1'::jsonb ->> 'refresh_token');
SELECT end_reason FROM jwt_logins WHERE sid = :'b1'::jsonb ->> 'sid';
RESET jwt.refresh_reuse_interval;
--
-- Unknown and expired refresh tokens; the login's absolute lifetime.
--
SELECT jwt_refresh('not-a-refresh-token');
SELECT jwt_refresh('');
SELECT jwt_login('{"sub": "carol"}') AS c1 \gset
UPDATE jwt_refresh_tokens SET expires_at = now() - interval '1 second'
WHERE sid = :'c1'::jsonb ->> 'sid';
SELECT jwt_refresh(:'c1'::jsonb ->> 'refresh_token');
-- an expired refresh token does not end the login
SELECT ended_at IS NULL AS still_open FROM jwt_logins WHERE sid = :'c1'::jsonb ->> 'sid';
SET jwt.login_lifetime = '1min';
SELECT jwt_login('{"sub": "carol"}') AS c2 \gset
RESET jwt.login_lifetime;
-- rotation never extends the login: the refresh token ends with the login
SELECT jwt_refresh(:'c2'::jsonb ->> 'refresh_token') AS c3 \gset
SELECT t.expires_at <= l.expires_at AS capped, l.expires_at - l.created_at AS login_lifetime
FROM jwt_refresh_tokens t JOIN jwt_logins l USING (sid)
WHERE l.sid = :'c2'::jsonb ->> 'sid' AND t.used_at IS NULL;
UPDATE jwt_logins SET expires_at = now() - interval '1 second', created_at = now() - interval '2 minutes'
WHERE sid = :'c2'::jsonb ->> 'sid';
SELECT jwt_refresh(:'c3'::jsonb ->> 'refresh_token');
--
-- Logout: by refresh token, by the session's access token, everywhere.
--
SELECT jwt_login('{"sub": "dave"}') AS d1 \gset
SELECT jwt_logout(:'d1'::jsonb ->> 'refresh_token') AS ended,
       jwt_logout(:'d1'::jsonb ->> 'refresh_token') AS again,
       jwt_logout('not-a-refresh-token') AS unknown;
SELECT jwt_refresh(:'d1'::jsonb ->> 'refresh_token');
SELECT * FROM pg_temp.session(:'d1'::jsonb ->> 'access_token');
SELECT * FROM pg_temp.try($$SELECT jwt_logout(NULL::text)$$);
SELECT jwt_login('{"sub": "dave"}') AS d2 \gset
SELECT jwt_logout() AS without_session_token;
-- unverified claims (a compatibility switch) never name the login to end
SET jwt.fallback_claims_settings = on;
SET jwt.fallback_request_claims = on;
SELECT set_config('jwt.claims.sid', :'d2'::jsonb ->> 'sid', false) IS NOT NULL AS set;
SELECT jwt_claims() ? 'sid' AS unverified_sid, jwt_logout() AS ended_by_settings;
RESET jwt.claims.sid;
SELECT set_config('request.jwt.claims', jsonb_build_object('sid', :'d2'::jsonb ->> 'sid')::text,
                  false) IS NOT NULL AS set;
SELECT jwt_claims() ? 'sid' AS unverified_sid, jwt_logout() AS ended_by_request_claims;
RESET request.jwt.claims;
RESET jwt.fallback_request_claims;
RESET jwt.fallback_claims_settings;
SELECT set_config('jwt.token', :'d2'::jsonb ->> 'access_token', false) IS NOT NULL AS set;
SELECT jwt_claims() ->> 'sub' AS sub;
SELECT jwt_logout() AS ended;
SELECT * FROM pg_temp.try($$SELECT jwt_claims()$$);
RESET jwt.token;
SELECT jwt_refresh(:'d2'::jsonb ->> 'refresh_token');
-- a token without sid: nothing to end
SELECT set_config('jwt.token', jwt_sign('{"sub": "dave", "exp": 4102444800}', :'secret'), false) IS NOT NULL AS set;
SELECT jwt_logout() AS ended;
RESET jwt.token;
SELECT jwt_login('{"sub": "erin"}') AS e1 \gset
SELECT jwt_login('{"sub": "erin"}') AS e2 \gset
SELECT jwt_login('{"sub": "erin"}') AS e3 \gset
SELECT jwt_login('{"sub": "frank"}') AS f1 \gset
SELECT jwt_logout(:'e3'::jsonb ->> 'refresh_token');
SELECT jwt_logout_all('erin') AS ended, jwt_logout_all('erin') AS again, jwt_logout_all('nobody') AS none;
SELECT * FROM pg_temp.try($$SELECT jwt_logout_all(NULL)$$);
SELECT jwt_refresh(:'e1'::jsonb ->> 'refresh_token');
SELECT * FROM pg_temp.session(:'e2'::jsonb ->> 'access_token');
SELECT * FROM pg_temp.session(:'f1'::jsonb ->> 'access_token');
SELECT jwt_refresh(:'f1'::jsonb ->> 'refresh_token') ? 'refresh_token' AS frank_rotates;
-- an ended login's sid is refused only until its last access token expired
-- (as if the login had ended a quarter of an hour ago: ended_at moves, so
-- the sessions reload)
UPDATE jwt_logins SET access_expires_at = now() - interval '1 second',
                      ended_at = now() - interval '15 minutes'
WHERE sid = :'e2'::jsonb ->> 'sid';
SELECT jwt_sign(jsonb_build_object('sub', 'erin', 'sid', :'e2'::jsonb ->> 'sid', 'exp', 4102444800),
                :'secret') AS late \gset
SELECT * FROM pg_temp.session(:'late');
--
-- The ended logins are read through the partial index jwt_logins_ended;
-- without it, or with an index of that name that is not it, the whole
-- table is read: the same logins are refused either way.
--
SELECT indexdef FROM pg_indexes WHERE indexname = 'jwt_logins_ended';
SELECT jwt_sign(jsonb_build_object('sub', 'erin', 'sid', :'e1'::jsonb ->> 'sid', 'exp', 4102444800),
                :'secret') AS e1_token \gset
SELECT * FROM pg_temp.session(:'e1_token');
DROP INDEX jwt_logins_ended;
SELECT * FROM pg_temp.session(:'e1_token');
CREATE INDEX jwt_logins_ended ON jwt_logins (ended_at) WHERE end_reason = 'reuse';
SELECT * FROM pg_temp.session(:'e1_token');
DROP INDEX jwt_logins_ended;
CREATE INDEX jwt_logins_ended ON jwt_logins (ended_at) WHERE ended_at IS NOT NULL;
SELECT * FROM pg_temp.session(:'e1_token');
SELECT * FROM pg_temp.session(:'f1'::jsonb ->> 'access_token');
--
-- jwt_purge_revocations() deletes the logins that can no longer matter:
-- ended or past their end, with their last access token expired (here
-- only e2's); their refresh tokens go with them.
--
SELECT count(*) AS e2_tokens FROM jwt_refresh_tokens WHERE sid = :'e2'::jsonb ->> 'sid';
SELECT jwt_purge_revocations() AS purged;
SELECT count(*) AS e2_left FROM jwt_logins WHERE sid = :'e2'::jsonb ->> 'sid';
SELECT count(*) AS e2_tokens_left FROM jwt_refresh_tokens WHERE sid = :'e2'::jsonb ->> 'sid';
SELECT count(*) > 0 AS others_kept FROM jwt_logins;
SELECT jwt_refresh(:'e2'::jsonb ->> 'refresh_token') ->> 'error_description' AS purged_token;
--
-- What a change invalidates.  A login or a refresh that ends nothing sends
-- no invalidation; ending a login reloads the revocation set of every
-- session, never its parsed keys.  Another session (through dblink) and
-- this one count their loads of the registry's two parts
-- (jwt_cache_stats()).
--
CREATE EXTENSION IF NOT EXISTS dblink;
CREATE ROLE regress_jwt_logins_other LOGIN PASSWORD 'regress-jwt-logins-other';
SELECT dblink_connect('other',
    format('dbname=%s user=regress_jwt_logins_other password=regress-jwt-logins-other host=%s port=%s',
           current_database(),
           coalesce(host(inet_server_addr()), split_part(current_setting('unix_socket_directories'), ',', 1)),
           current_setting('port')));
CREATE FUNCTION pg_temp.loads(OUT sub text, OUT key_loads bigint, OUT revocation_loads bigint)
LANGUAGE sql AS $$
    SELECT * FROM dblink('other', 'SELECT jwt_claim(''sub''),
                                          (jwt_cache_stats() ->> ''registry_key_loads'')::bigint,
                                          (jwt_cache_stats() ->> ''registry_revocation_loads'')::bigint')
        AS r(sub text, key_loads bigint, revocation_loads bigint)
$$;
SELECT jwt_login('{"sub": "gina"}') AS g1 \gset
SELECT dblink_exec('other', format('SET jwt.token = %L', :'g1'::jsonb ->> 'access_token'));
SELECT set_config('jwt.token', :'g1'::jsonb ->> 'access_token', false) IS NOT NULL AS set;
SELECT sub, key_loads AS other_keys_before, revocation_loads AS other_revocations_before
FROM pg_temp.loads() \gset
SELECT jwt_claim('sub') AS sub, (jwt_cache_stats() ->> 'registry_key_loads')::bigint AS keys_before,
       (jwt_cache_stats() ->> 'registry_revocation_loads')::bigint AS revocations_before \gset
SELECT jwt_refresh(:'g1'::jsonb ->> 'refresh_token') ? 'refresh_token' AS rotated,
       jwt_login('{"sub": "gina"}') AS g2 \gset
SELECT :'rotated' AS rotated;
SELECT sub, key_loads - :other_keys_before AS key_loads,
       revocation_loads - :other_revocations_before AS revocation_loads
FROM pg_temp.loads();
SELECT jwt_claim('sub') AS sub,
       (jwt_cache_stats() ->> 'registry_key_loads')::bigint - :keys_before AS key_loads,
       (jwt_cache_stats() ->> 'registry_revocation_loads')::bigint - :revocations_before AS revocation_loads;
SELECT jwt_logout(:'g2'::jsonb ->> 'refresh_token') AS ended;
SELECT sub, key_loads - :other_keys_before AS key_loads,
       revocation_loads - :other_revocations_before AS revocation_loads
FROM pg_temp.loads();
SELECT jwt_claim('sub') AS sub,
       (jwt_cache_stats() ->> 'registry_key_loads')::bigint - :keys_before AS key_loads,
       (jwt_cache_stats() ->> 'registry_revocation_loads')::bigint - :revocations_before AS revocation_loads;
-- a key added reloads the keys (and only them)
SELECT jwt_add_key(:'secret' || '-2', 'HS256', 'logins-hs256-2');
SELECT sub, key_loads - :other_keys_before AS key_loads,
       revocation_loads - :other_revocations_before AS revocation_loads
FROM pg_temp.loads();
DELETE FROM jwt_keys WHERE kid = 'logins-hs256-2';
RESET jwt.token;
SELECT dblink_disconnect('other');
DROP ROLE regress_jwt_logins_other;
DROP EXTENSION dblink;
--
-- A token that names another subject's login ends nothing: jwt_logout()
-- ends the login of the token's sid only when the token's sub is that
-- login's (jwt_issue() signs whatever sid its claims carry).
--
SELECT jwt_login('{"sub": "erin"}') AS e1 \gset
SELECT set_config('jwt.token', jwt_issue(jsonb_build_object('sub', 'mallory', 'sid', :'e1'::jsonb ->> 'sid')),
                  false) IS NOT NULL AS set;
SELECT jwt_logout() AS ended_erins_login;
RESET jwt.token;
SELECT ended_at IS NULL AS erin_still_open FROM jwt_logins WHERE sid = :'e1'::jsonb ->> 'sid';
SELECT * FROM pg_temp.session(:'e1'::jsonb ->> 'access_token');
--
-- The login's absolute lifetime bounds its access tokens too: exp and
-- expires_in never reach past the login's end, at login and at refresh.
--
SET jwt.login_lifetime = '1min';
SELECT jwt_login('{"sub": "erin"}') AS e2 \gset
RESET jwt.login_lifetime;
SELECT jwt_refresh(:'e2'::jsonb ->> 'refresh_token') AS e2r \gset
SELECT (:'e2'::jsonb ->> 'expires_in')::int BETWEEN 58 AND 60 AS login_expires_in_capped,
       (:'e2r'::jsonb ->> 'expires_in')::int BETWEEN 58 AND 60 AS refresh_expires_in_capped,
       (jwt_decode(:'e2'::jsonb ->> 'access_token') -> 'payload' ->> 'exp')::bigint
           <= extract(epoch FROM l.expires_at) AS login_exp_within,
       (jwt_decode(:'e2r'::jsonb ->> 'access_token') -> 'payload' ->> 'exp')::bigint
           <= extract(epoch FROM l.expires_at) AS refresh_exp_within,
       l.access_expires_at <= l.expires_at AS noted_within
FROM jwt_logins l WHERE sid = :'e2'::jsonb ->> 'sid';
--
-- Claims given to a refresh within the reuse interval are kept as a
-- rotation's are: the login's claims are those of its last access token.
--
SELECT jwt_login('{"sub": "erin", "role": "a"}') AS e3 \gset
SELECT jwt_refresh(:'e3'::jsonb ->> 'refresh_token', '{"role": "b"}') ? 'access_token' AS rotated;
SELECT jwt_decode(jwt_refresh(:'e3'::jsonb ->> 'refresh_token', '{"role": "c"}') ->> 'access_token')
           -> 'payload' ->> 'role' AS role_within_interval;
SELECT claims ->> 'role' AS kept_role FROM jwt_logins WHERE sid = :'e3'::jsonb ->> 'sid';
--
-- Any change to an ended login's row that the revocation set holds is sent
-- to every backend: an ended login whose access tokens are marked expired is
-- no longer refused from the next statement (and one marked later would be
-- refused longer).
--
SELECT jwt_login('{"sub": "erin"}') AS e4 \gset
SELECT jwt_logout(:'e4'::jsonb ->> 'refresh_token') AS ended;
SELECT code, sub FROM pg_temp.session(:'e4'::jsonb ->> 'access_token');
UPDATE jwt_logins SET access_expires_at = now() - interval '1 hour' WHERE sid = :'e4'::jsonb ->> 'sid';
SELECT code, sub FROM pg_temp.session(:'e4'::jsonb ->> 'access_token');
--
-- A call site's scopes follow the revocation set within one statement, as
-- jwt_claim() does: after jwt_logout() the same call site refuses.
--
SELECT jwt_login('{"sub": "erin", "scope": "read"}') AS e5 \gset
SELECT set_config('jwt.token', :'e5'::jsonb ->> 'access_token', false) IS NOT NULL AS set;
CREATE FUNCTION pg_temp.scope_then_logout(OUT had_scope boolean, OUT code text)
LANGUAGE plpgsql AS $$
DECLARE
    r boolean;
BEGIN
    FOR i IN 1..2 LOOP
        r := jwt_has_scope('read');
        had_scope := coalesce(had_scope, r);
        IF i = 1 THEN
            PERFORM jwt_logout();
        END IF;
    END LOOP;
    code := '00000';
EXCEPTION WHEN OTHERS THEN
    GET STACKED DIAGNOSTICS code = RETURNED_SQLSTATE;
END
$$;
SELECT * FROM pg_temp.scope_then_logout();
RESET jwt.token;
-- the function's exception block rolled its logout back: the login is open
SELECT ended_at IS NULL AS e5_open FROM jwt_logins WHERE sid = :'e5'::jsonb ->> 'sid';
-- refresh tokens of any other shape are not known (and never hashed)
SELECT jwt_refresh(repeat('A', 44)), jwt_logout(repeat('A', 44)) AS logout_other_shape;
--
-- Dump safety: the tables hold SHA-256 hashes and sealed successors, never a
-- refresh token's text.
--
SELECT count(*) AS readable_tokens
FROM jwt_refresh_tokens t, jwt_logins l,
     (VALUES (:'r1'::jsonb ->> 'refresh_token'), (:'r2'::jsonb ->> 'refresh_token'),
             (:'r4'::jsonb ->> 'refresh_token'), (:'f1'::jsonb ->> 'refresh_token')) AS v(tok)
WHERE position(convert_to(v.tok, 'UTF8') IN t.hash) > 0
   OR position(convert_to(v.tok, 'UTF8') IN coalesce(t.successor_enc, '')) > 0
   OR position(decode(translate(v.tok, '-_', '+/') || '=', 'base64') IN coalesce(t.successor_enc, '')) > 0
   OR t::text LIKE '%' || v.tok || '%' OR l::text LIKE '%' || v.tok || '%';
SELECT bool_and(hash = sha256(convert_to(:'r1'::jsonb ->> 'refresh_token', 'UTF8'))) AS hashed
FROM jwt_refresh_tokens WHERE sid = :'r1'::jsonb ->> 'sid' AND issued_at = (
    SELECT min(issued_at) FROM jwt_refresh_tokens WHERE sid = :'r1'::jsonb ->> 'sid');
SELECT c.relname, c.relacl IS NOT NULL AND NOT EXISTS (
           SELECT 1 FROM aclexplode(c.relacl) a WHERE a.grantee = 0) AS closed_to_public,
       c.oid = ANY (e.extconfig) AS dumped
FROM pg_class c, pg_extension e
WHERE e.extname = 'jwt' AND c.relname IN ('jwt_logins', 'jwt_refresh_tokens') ORDER BY 1;
--
-- The functions: closed to PUBLIC, VOLATILE, PARALLEL UNSAFE.
--
SELECT p.oid::regprocedure AS function, p.provolatile, p.proparallel,
       has_function_privilege('public', p.oid, 'EXECUTE') AS public_execute
FROM pg_proc p WHERE p.proname IN ('jwt_login', 'jwt_refresh', 'jwt_logout', 'jwt_logout_all')
ORDER BY p.oid::regprocedure::text COLLATE "C";
-- an ordinary role can call none of them nor read the tables
CREATE ROLE regress_jwt_logins_app;
SET ROLE regress_jwt_logins_app;
SELECT * FROM pg_temp.try($$SELECT jwt_login('{"sub": "x"}')$$);
SELECT * FROM pg_temp.try($$SELECT count(*) FROM jwt_refresh_tokens$$);
RESET ROLE;
DROP ROLE regress_jwt_logins_app;
DELETE FROM jwt_logins;
DELETE FROM jwt_keys;
