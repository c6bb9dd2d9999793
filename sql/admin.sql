--
-- admin: the registry's administrative functions (jwt_add_key,
-- jwt_retire_key, jwt_revoke, jwt_revoke_token, jwt_purge_revocations) at
-- their edges, and their delegation by GRANT EXECUTE alone.
--
-- Decisions (README, "The key registry"):
--   - jwt_retire_key(kid, NULL) is refused (22023): no time is not "now";
--   - a retirement only moves a key's end earlier: a later "at" keeps the
--     end (with a NOTICE), so it never postpones a retirement and never
--     re-enables a retired key;
--   - jwt_add_key() of a kid the registry holds is 23505 with a hint, and no
--     key in the message;
--   - jwt_revoke_token() takes only a token whose signature a registry key
--     verifies (else 28000), expired or not; one without exp is revoked for
--     ever, with a NOTICE saying so.
--
\set secret 'admin-secret-admin-secret-admin-secret-0123'
\set secret2 'admin-second-admin-second-admin-second-0123'
\set foreign 'admin-foreign-admin-foreign-admin-foreign-0123'
-- the registry is shared by the suites of one run: start from an empty one
DELETE FROM jwt_keys;
DELETE FROM jwt_revocations;
-- the outcome of a statement: 00000, or the error; and whether it shows a secret
CREATE FUNCTION pg_temp.try(statement text, OUT code text, OUT message text, OUT hint text,
                            OUT shows_secret boolean)
LANGUAGE plpgsql AS $$
DECLARE
    detail text;
BEGIN
    EXECUTE statement;
    code := '00000';
EXCEPTION WHEN OTHERS THEN
    GET STACKED DIAGNOSTICS code = RETURNED_SQLSTATE, message = MESSAGE_TEXT,
                            detail = PG_EXCEPTION_DETAIL, hint = PG_EXCEPTION_HINT;
    -- in plain text, or base64url in a JWK (YWRtaW4t is "admin-")
    shows_secret := concat(message, detail, hint) ~ '(admin-(secret|second|foreign)|YWRtaW4t)';
END
$$;
-- what jwt_claims() makes of a token: the subject, or the error's detail
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
-- a key's end
CREATE FUNCTION pg_temp.ends(k text) RETURNS text
AS $$ SELECT coalesce(to_char(valid_until AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI'), 'never')
      FROM jwt_keys WHERE kid = k $$
LANGUAGE sql;
--
-- What the functions are: C, VOLATILE, PARALLEL UNSAFE, no SET clause
-- (nothing in them depends on search_path), closed to PUBLIC.
--
SELECT p.proname, l.lanname, p.provolatile, p.proparallel, p.proconfig, p.prosecdef,
       has_function_privilege('public', p.oid, 'EXECUTE') AS public_execute
FROM pg_proc p JOIN pg_language l ON l.oid = p.prolang
WHERE p.proname IN ('jwt_add_key', 'jwt_retire_key', 'jwt_revoke', 'jwt_revoke_token',
                    'jwt_purge_revocations')
  AND p.pronamespace = (SELECT extnamespace FROM pg_extension WHERE extname = 'jwt')
ORDER BY p.proname;
--
-- jwt_add_key(): a kid the registry holds already.
--
SELECT jwt_add_key(:'secret', 'HS256', 'admin-1', '2020-01-01 00:00:00+00');
SELECT * FROM pg_temp.try(format('SELECT jwt_add_key(%L, %L, %L)', :'secret2', 'HS256', 'admin-1'));
-- the same key again under its default kid (its thumbprint)
SELECT jwt_add_key(:'secret', 'HS256') IS NOT NULL AS added;
SELECT * FROM pg_temp.try(format('SELECT jwt_add_key(%L, %L)', :'secret', 'HS256'));
DELETE FROM jwt_keys WHERE kid <> 'admin-1';
-- the first key is untouched
SELECT kid, algorithm, can_sign, valid_until IS NULL AS open_ended FROM jwt_keys ORDER BY kid COLLATE "C";
-- a NULL key is refused by the row trigger, which still runs
SELECT * FROM pg_temp.try($$SELECT jwt_add_key(NULL, 'HS256', 'admin-null')$$);
SELECT * FROM pg_temp.try($$SELECT jwt_add_key('short', 'HS256', 'admin-short')$$);
--
-- jwt_retire_key(): NULL, earlier, later.
--
SELECT * FROM pg_temp.try($$SELECT jwt_retire_key('admin-1', NULL)$$);
SELECT * FROM pg_temp.try($$SELECT jwt_retire_key(NULL)$$);
SELECT pg_temp.ends('admin-1') AS after_null;
-- scheduled for 2040, then brought forward to 2035: allowed
SELECT jwt_retire_key('admin-1', '2040-01-01 00:00:00+00');
SELECT pg_temp.ends('admin-1') AS scheduled;
SELECT jwt_retire_key('admin-1', '2035-01-01 00:00:00+00');
SELECT pg_temp.ends('admin-1') AS brought_forward;
-- a later time keeps the end, and says so
SELECT jwt_retire_key('admin-1', '2045-01-01 00:00:00+00');
SELECT pg_temp.ends('admin-1') AS kept;
-- retired in 2021: a later time, now() among them, never re-enables it
SELECT jwt_sign('{"sub":"alice","exp":4102444800}', :'secret', 'HS256', '{"kid":"admin-1"}') AS alice \gset
SELECT * FROM pg_temp.session(:'alice');
SELECT jwt_retire_key('admin-1', '2021-01-01 00:00:00+00');
SELECT pg_temp.ends('admin-1') AS retired;
SELECT jwt_retire_key('admin-1');
SELECT jwt_retire_key('admin-1', 'infinity');
SELECT pg_temp.ends('admin-1') AS still_retired;
SELECT * FROM pg_temp.session(:'alice');
-- before valid_from: the key never verifies (its end is its start)
SELECT jwt_retire_key('admin-1', '2000-01-01 00:00:00+00');
SELECT pg_temp.ends('admin-1') AS at_its_start;
-- an unknown kid: false
SELECT jwt_retire_key('admin-none');
--
-- jwt_revoke_token(): only tokens that a registry key verifies.
--
SELECT jwt_add_key(:'secret2', 'HS256', 'admin-2');
SELECT jwt_sign('{"sub":"bob","jti":"r-1","exp":4102444800}', :'secret2', 'HS256', '{"kid":"admin-2"}') AS bob,
       jwt_sign('{"sub":"bob","jti":"r-2","exp":4102444800}', :'foreign', 'HS256', '{"kid":"admin-2"}') AS forged,
       jwt_sign('{"sub":"bob","jti":"r-3","exp":4102444800}', :'foreign') AS stranger,
       jwt_sign('{"sub":"bob","jti":"r-4","exp":1000000000}', :'secret2', 'HS256', '{"kid":"admin-2"}') AS expired,
       jwt_sign('{"sub":"alice","jti":"r-5","exp":4102444800}', :'secret', 'HS256', '{"kid":"admin-1"}') AS old_key,
       jwt_sign('{"sub":"bob","jti":"r-6"}', :'secret2', 'HS256', '{"kid":"admin-2"}') AS no_exp,
       jws_sign(convert_to('{"sub":"bob","jti":"r-7","exp":"tomorrow"}', 'UTF8'), :'secret2', 'HS256', '{"kid":"admin-2"}') AS text_exp,
       'eyJhbGciOiJub25lIn0.eyJqdGkiOiJyLTgifQ.' AS alg_none,
       jws_sign(convert_to('{"sub":"bob","jti":"r-9","jti":"r-10"}', 'UTF8'), :'secret2', 'HS256', '{"kid":"admin-2"}') AS jti_twice,
       jws_sign(convert_to('{"sub":"bob","jti":"r-11\u0000"}', 'UTF8'), :'secret2', 'HS256', '{"kid":"admin-2"}') AS nul_escape,
       jws_sign(convert_to('{"sub":"bob","jti":"r-12"', 'UTF8'), :'secret2', 'HS256', '{"kid":"admin-2"}') AS not_json \gset
SELECT t.label, r.code, r.message, r.hint, r.shows_secret
FROM (VALUES
    (1, 'signed by a registry key', :'bob'),
    (2, 'forged under a registry kid', :'forged'),
    (3, 'signed by a stranger''s key, no kid', :'stranger'),
    (4, 'expired, signed by a registry key', :'expired'),
    (5, 'signed by a retired registry key', :'old_key'),
    (6, 'exp not a number', :'text_exp'),
    (7, 'alg none', :'alg_none'),
    (8, 'not a token', 'not-a-token'),
    (9, 'signed by a registry key, jti twice in the payload', :'jti_twice'),
    (10, 'signed by a registry key, \u0000 in the payload', :'nul_escape'),
    (11, 'signed by a registry key, the payload not JSON', :'not_json')
) AS t(ord, label, token),
LATERAL pg_temp.try(format('SELECT jwt_revoke_token(%L)', t.token)) r
ORDER BY ord;
-- without exp: revoked for ever, and the NOTICE says so
SELECT jwt_revoke_token(:'no_exp');
-- nothing but the registry's own tokens was revoked
SELECT jti, expires_at FROM jwt_revocations ORDER BY jti COLLATE "C";
SELECT * FROM pg_temp.session(:'bob');
-- an empty registry verifies nothing
BEGIN;
DELETE FROM jwt_keys;
SELECT * FROM pg_temp.try(format('SELECT jwt_revoke_token(%L)', :'bob'));
ROLLBACK;
--
-- The caller's search_path changes nothing: a look-alike table and an
-- operator first on it are never used (that = would retire every key), and
-- the caller's settings and identity are as they were after a call, failed
-- or not.
--
CREATE SCHEMA regress_jwt_evil;
CREATE TABLE regress_jwt_evil.jwt_keys (LIKE jwt_keys);
CREATE TABLE regress_jwt_evil.jwt_revocations (LIKE jwt_revocations);
CREATE FUNCTION regress_jwt_evil.texteq_evil(text, text) RETURNS boolean
AS $$ SELECT true $$ LANGUAGE sql;
CREATE OPERATOR regress_jwt_evil.= (LEFTARG = text, RIGHTARG = text, FUNCTION = regress_jwt_evil.texteq_evil);
SET search_path = regress_jwt_evil, public;
SELECT public.jwt_add_key(:'foreign', 'HS256', 'admin-evil', '2020-01-01 00:00:00+00');
SELECT public.jwt_retire_key('admin-evil', '2021-01-01 00:00:00+00');
SELECT public.jwt_revoke('evil-jti', 'infinity');
SELECT * FROM pg_temp.try($$SELECT public.jwt_add_key(NULL, 'HS256')$$);
SELECT current_setting('search_path') AS search_path_after, current_user = session_user AS same_user;
RESET search_path;
SELECT (SELECT count(*) FROM regress_jwt_evil.jwt_keys) AS evil_keys,
       (SELECT count(*) FROM regress_jwt_evil.jwt_revocations) AS evil_revocations,
       (SELECT string_agg(kid || ' ' || pg_temp.ends(kid), ', ' ORDER BY kid COLLATE "C") FROM jwt_keys) AS keys,
       (SELECT count(*) FROM jwt_revocations WHERE jti = 'evil-jti') AS revoked;
DROP SCHEMA regress_jwt_evil CASCADE;
DELETE FROM jwt_keys WHERE kid = 'admin-evil';
DELETE FROM jwt_revocations WHERE jti = 'evil-jti';
--
-- jwt_revoke() and jwt_purge_revocations().
--
SELECT * FROM pg_temp.try($$SELECT jwt_revoke(NULL, now())$$);
SELECT jwt_revoke('r-old', now() - interval '1 day');
SELECT jwt_purge_revocations();
SELECT jti FROM jwt_revocations ORDER BY jti COLLATE "C";
--
-- GRANT EXECUTE alone delegates key management: a role with no privilege
-- on the tables adds, retires and revokes; the row trigger still checks
-- each key and the statement triggers still reach this session's cache.
--
CREATE ROLE regress_jwt_keyadmin;
GRANT EXECUTE ON FUNCTION jwt_add_key(text, text, text, timestamptz, timestamptz),
                          jwt_retire_key(text, timestamptz),
                          jwt_revoke(text, timestamptz),
                          jwt_revoke_token(text),
                          jwt_purge_revocations()
    TO regress_jwt_keyadmin;
SELECT jwt_sign('{"sub":"carol","jti":"d-1","exp":4102444800}', :'foreign', 'HS256', '{"kid":"admin-3"}') AS carol \gset
SET ROLE regress_jwt_keyadmin;
SELECT has_table_privilege('jwt_keys', 'SELECT') AS can_select,
       has_table_privilege('jwt_keys', 'INSERT') AS can_insert,
       has_table_privilege('jwt_revocations', 'INSERT') AS can_insert_revocation;
SELECT * FROM pg_temp.try('SELECT count(*) FROM jwt_keys');
SELECT * FROM pg_temp.session(:'carol');
SELECT jwt_add_key(:'foreign', 'HS256', 'admin-3');
SELECT * FROM pg_temp.session(:'carol');
SELECT * FROM pg_temp.try($$SELECT jwt_add_key('short', 'HS256', 'admin-short')$$);
SELECT * FROM pg_temp.try(format('SELECT jwt_add_key(%L, %L, %L)', :'secret', 'HS256', 'admin-3'));
-- a JWK whose kid is empty: refused by the row trigger, never by the
-- table's CHECK, whose error would show the row, key and all (the call runs
-- as the extension's owner, who may read the row, so PostgreSQL would not
-- hide it from this role)
SELECT * FROM pg_temp.try(format('SELECT jwt_add_key(%L, %L)',
    json_build_object('kty', 'oct', 'k', rtrim(translate(encode(convert_to(:'secret', 'UTF8'), 'base64'), '+/', '-_'), '='),
                      'kid', '')::text, 'HS256'));
SELECT jwt_revoke_token(:'carol');
SELECT * FROM pg_temp.session(:'carol');
SELECT jwt_retire_key('admin-3');
SELECT jwt_revoke('d-2', now() - interval '1 day');
SELECT jwt_purge_revocations();
SELECT current_user;
RESET ROLE;
SELECT kid, valid_until <= now() AS retired FROM jwt_keys WHERE kid = 'admin-3';
SELECT jti FROM jwt_revocations ORDER BY jti COLLATE "C";
--
-- Clean up.
--
REVOKE EXECUTE ON FUNCTION jwt_add_key(text, text, text, timestamptz, timestamptz),
                           jwt_retire_key(text, timestamptz),
                           jwt_revoke(text, timestamptz),
                           jwt_revoke_token(text),
                           jwt_purge_revocations()
    FROM regress_jwt_keyadmin;
DROP ROLE regress_jwt_keyadmin;
DELETE FROM jwt_keys;
DELETE FROM jwt_revocations;
