--
-- registry_bounds: the registry at its edges of time and number.
--
-- * No time is a sentinel: a key retired at 1970-01-01 00:00:00+00 is
--   retired (it verifies nothing, jwt_jwks() leaves it out, jwt_issue()
--   does not sign with it), and one valid from then on is valid.
-- * A session token without "kid" is tried against at most 3 registry keys
--   (those valid now that can do its algorithm): with more it is refused
--   with a detail asking for the kid, before any signature is checked; with
--   its kid it verifies.  A JWKS passed to jwt_verify() has the same bound.
-- * "Now" advances with each transaction of a procedure that commits: a
--   token expires and a key retires while the procedure runs.
--
\set s1 'bounds-secret-one-bounds-secret-one-bounds-0123'
\set s2 'bounds-secret-two-bounds-secret-two-bounds-0123'
\set s3 'bounds-secret-three-bounds-secret-three-bounds-0123'
\set s4 'bounds-secret-four-bounds-secret-four-bounds-0123'
-- TEST-ONLY EC P-256 key (the one of keys.sql)
SELECT '-----BEGIN PRIVATE KEY-----
MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgE+tBk/qRhfHNT0SE
RZunEk6c0+qCs4wyfycfbSLEnEqhRANCAARfd7UaWdXlxLHH5bX999PKMx1YEuHA
84V2v4xagnD41U5IJwnvAjuKba8t0p34cuSxP7NpIZ6EazzTPjefMpP6
-----END PRIVATE KEY-----' AS ec_private \gset
DELETE FROM jwt_keys;
DELETE FROM jwt_revocations;
CREATE FUNCTION pg_temp.now_plus(secs integer) RETURNS bigint
AS $$ SELECT floor(extract(epoch FROM statement_timestamp()))::bigint + secs $$
LANGUAGE sql STABLE STRICT;
-- what jwt_claim('sub') makes of a session token: the sub, or the error
CREATE FUNCTION pg_temp.session(token text, OUT code text, OUT sub text, OUT detail text)
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM set_config('jwt.token', token, true);
    sub := jwt_claim('sub');
    code := '00000';
EXCEPTION WHEN OTHERS THEN
    GET STACKED DIAGNOSTICS code = RETURNED_SQLSTATE, detail = PG_EXCEPTION_DETAIL;
END
$$;
CREATE FUNCTION pg_temp.tok(secret text, kid text DEFAULT NULL) RETURNS text
AS $$ SELECT jwt_sign(jsonb_build_object('sub', 'alice', 'exp', pg_temp.now_plus(3600)),
                      secret, 'HS256',
                      CASE WHEN kid IS NOT NULL THEN jsonb_build_object('kid', kid) END) $$
LANGUAGE sql;
-- a secret as an oct JWK
CREATE FUNCTION pg_temp.oct(secret text, kid text) RETURNS jsonb
AS $$ SELECT jsonb_build_object('kty', 'oct', 'kid', kid,
        'k', rtrim(translate(encode(convert_to(secret, 'UTF8'), 'base64'), E'+/\n', '-_'), '=')) $$
LANGUAGE sql;

-- ---------------------------------------------------------------------
-- The epoch is a time like any other
-- ---------------------------------------------------------------------
SELECT jwt_add_key(:'s1', 'HS256', 'k-epoch', '1969-12-31 00:00:00+00', '1970-01-01 00:00:00+00');
SELECT jwt_add_key(:'ec_private', 'ES256', 'ec-epoch', '1969-12-31 00:00:00+00', '1970-01-01 00:00:00+00');
-- retired at the epoch: refused by kid, as retired
SELECT * FROM pg_temp.session(pg_temp.tok(:'s1', 'k-epoch'));
-- and without kid it is no candidate
SELECT * FROM pg_temp.session(pg_temp.tok(:'s1'));
-- not published, not used to sign
SELECT jwt_jwks();
SELECT jwt_issue('{"sub":"alice"}');
-- retiring at the epoch through jwt_retire_key is the same
DELETE FROM jwt_keys;
SELECT jwt_add_key(:'s1', 'HS256', 'k-epoch', '-infinity');
SELECT * FROM pg_temp.session(pg_temp.tok(:'s1', 'k-epoch'));
SELECT jwt_retire_key('k-epoch', '1970-01-01 00:00:00+00');
SELECT valid_until = '1970-01-01 00:00:00+00' AS retired_at_epoch FROM jwt_keys;
SELECT * FROM pg_temp.session(pg_temp.tok(:'s1', 'k-epoch'));
-- valid from the epoch on, open-ended: valid
DELETE FROM jwt_keys;
SELECT jwt_add_key(:'s1', 'HS256', 'k-from-epoch', '1970-01-01 00:00:00+00');
SELECT * FROM pg_temp.session(pg_temp.tok(:'s1', 'k-from-epoch'));
SELECT * FROM pg_temp.session(pg_temp.tok(:'s1'));

-- ---------------------------------------------------------------------
-- A token without kid: at most 3 candidate keys
-- ---------------------------------------------------------------------
DELETE FROM jwt_keys;
SELECT jwt_add_key(:'s1', 'HS256', 'k1', now() - interval '1 hour');
SELECT jwt_add_key(:'s2', 'HS256', 'k2', now() - interval '1 hour');
SELECT jwt_add_key(:'s3', 'HS256', 'k3', now() - interval '1 hour');
-- a key of another algorithm is no candidate for HS256
SELECT jwt_add_key(:'ec_private', 'ES256', 'ec', now() - interval '1 hour');
-- three candidates: each key's kid-less token verifies
SELECT k, s.* FROM (VALUES ('1', :'s1'), ('2', :'s2'), ('3', :'s3')) AS t(k, secret),
       LATERAL pg_temp.session(pg_temp.tok(secret)) s ORDER BY k;
-- a fourth: no kid-less HS256 token is tried, whichever key signed it
SELECT jwt_add_key(:'s4', 'HS256', 'k4', now() - interval '1 hour');
SELECT k, s.* FROM (VALUES ('1', :'s1'), ('4', :'s4')) AS t(k, secret),
       LATERAL pg_temp.session(pg_temp.tok(secret)) s ORDER BY k;
-- a forged one neither
SELECT * FROM pg_temp.session(pg_temp.tok('bounds-forged-bounds-forged-bounds-forged-0123'));
-- with its kid, each verifies
SELECT k, s.* FROM (VALUES ('k1', :'s1'), ('k4', :'s4')) AS t(k, secret),
       LATERAL pg_temp.session(pg_temp.tok(secret, k)) s ORDER BY k;
-- the ES256 token without kid has one candidate
SELECT (pg_temp.session(jwt_sign(jsonb_build_object('sub', 'alice', 'exp', pg_temp.now_plus(3600)),
                                 :'ec_private', 'ES256'))).*;
-- a key that is not valid now is no candidate: retire one, back to three
SELECT jwt_retire_key('k3');
SELECT k, s.* FROM (VALUES ('1', :'s1'), ('3', :'s3'), ('4', :'s4')) AS t(k, secret),
       LATERAL pg_temp.session(pg_temp.tok(secret)) s ORDER BY k;
-- a key valid only later is no candidate either
SELECT jwt_add_key(:'s3' || '-later', 'HS256', 'k-later', now() + interval '1 day');
SELECT * FROM pg_temp.session(pg_temp.tok(:'s4'));

-- the same bound for a JWKS argument of jwt_verify
SELECT jsonb_build_object('keys', jsonb_build_array(pg_temp.oct(:'s1', 'a'), pg_temp.oct(:'s2', 'b'),
                                                    pg_temp.oct(:'s3', 'c')))::text AS jwks3 \gset
SELECT jsonb_build_object('keys', jsonb_build_array(pg_temp.oct(:'s1', 'a'), pg_temp.oct(:'s2', 'b'),
                                                    pg_temp.oct(:'s3', 'c'), pg_temp.oct(:'s4', 'd')))::text AS jwks4 \gset
SELECT jwt_verify(pg_temp.tok(:'s3'), :'jwks3') ->> 'sub' AS three_keys;
SELECT jwt_verify(pg_temp.tok(:'s4'), :'jwks4') ->> 'sub' AS four_keys;
SELECT jwt_is_valid(pg_temp.tok(:'s1'), :'jwks4') AS four_keys_valid;
SELECT jwt_verify(pg_temp.tok(:'s4', 'd'), :'jwks4') ->> 'sub' AS four_keys_kid;
-- and for jws_verify()
SELECT jws_verify(pg_temp.tok(:'s4'), :'jwks4', ARRAY['HS256']) IS NOT NULL AS jws_four_keys;

-- ---------------------------------------------------------------------
-- "Now" in a procedure that commits
-- ---------------------------------------------------------------------
DELETE FROM jwt_keys;
SELECT jwt_add_key(:'s1', 'HS256', 'k-long', now() - interval '1 hour');
SELECT jwt_add_key(:'s2', 'HS256', 'k-short', now() - interval '1 hour', clock_timestamp() + interval '2 seconds');
-- a worker that checks two tokens, commits, waits until the token's exp and
-- the key's end have passed, commits, and checks again
CREATE PROCEDURE pg_temp.worker(expiring text, by_short_key text, until timestamptz,
                                INOUT seen text[] DEFAULT '{}')
LANGUAGE plpgsql AS $$
DECLARE
    d text;
    tok text;
BEGIN
    FOR round IN 1..2 LOOP
        FOREACH tok IN ARRAY ARRAY[expiring, by_short_key] LOOP
            BEGIN
                PERFORM set_config('jwt.token', tok, true);
                seen := seen || (round || ': ' || jwt_claim('sub'));
            EXCEPTION WHEN invalid_authorization_specification THEN
                GET STACKED DIAGNOSTICS d = PG_EXCEPTION_DETAIL;
                seen := seen || (round || ': ' || d);
            END;
        END LOOP;
        COMMIT;
        -- the thing under test: time passes inside the CALL
        WHILE clock_timestamp() <= until LOOP
            PERFORM pg_sleep(0.05);
        END LOOP;
        COMMIT;
    END LOOP;
END
$$;
SELECT jwt_sign(jsonb_build_object('sub', 'alice', 'exp', pg_temp.now_plus(2)), :'s1', 'HS256',
                '{"kid":"k-long"}') AS expiring \gset
SELECT jwt_sign(jsonb_build_object('sub', 'alice', 'exp', pg_temp.now_plus(3600)), :'s2', 'HS256',
                '{"kid":"k-short"}') AS by_short_key \gset
SELECT greatest(to_timestamp(pg_temp.now_plus(2)), valid_until) AS until
FROM jwt_keys WHERE kid = 'k-short' \gset
CALL pg_temp.worker(:'expiring', :'by_short_key', :'until');
-- the same in a DO block, with jwt_verify()
DO $$
DECLARE
    tok text := jwt_sign(jsonb_build_object('sub', 'bob',
                         'exp', floor(extract(epoch FROM clock_timestamp()))::bigint + 2),
                         'bounds-secret-do-bounds-secret-do-bounds-0123');
BEGIN
    RAISE NOTICE 'before: %', jwt_is_valid(tok, 'bounds-secret-do-bounds-secret-do-bounds-0123');
    COMMIT;
    WHILE extract(epoch FROM clock_timestamp()) <= (jwt_decode(tok) -> 'payload' ->> 'exp')::numeric LOOP
        PERFORM pg_sleep(0.05);
    END LOOP;
    COMMIT;
    RAISE NOTICE 'after: %', jwt_is_valid(tok, 'bounds-secret-do-bounds-secret-do-bounds-0123');
END
$$;
DELETE FROM jwt_keys;
DELETE FROM jwt_revocations;
