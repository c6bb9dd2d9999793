--
-- rotation: jwt_rotate_signing_key(algorithm, publish_ahead) adds a new
-- asymmetric key to the registry, published by jwt_jwks() at once and
-- signing from now() + publish_ahead on, and retires the keys it takes over
-- from (those jwt_issue() would sign with before then) at the new key's
-- start + jwt.access_token_lifetime (or the latest exp of a login's access
-- token, if later) + jwt.leeway: when the last token they can sign has
-- expired.  Logins continue across it.  Keys are generated at run time and
-- never shown; each step runs in one transaction, so now() is the
-- rotation's now.
--
DELETE FROM jwt_keys;
DELETE FROM jwt_logins;
-- what the registry holds, times relative to the transaction's now(), to
-- 10 seconds (the keys of earlier transactions were added a moment before)
CREATE FUNCTION pg_temp.rel(t timestamptz) RETURNS interval
LANGUAGE sql AS $$ SELECT make_interval(secs => round(extract(epoch FROM t - now()) / 10) * 10) $$;
CREATE FUNCTION pg_temp.keys()
RETURNS TABLE (kid text, algorithm text, can_sign boolean, starts interval, ends interval, published boolean)
LANGUAGE sql AS $$
    SELECT k.kid, k.algorithm, k.can_sign, pg_temp.rel(k.valid_from), pg_temp.rel(k.valid_until),
           jwt_jwks() -> 'keys' @> jsonb_build_array(jsonb_build_object('kid', k.kid))
    FROM jwt_keys k ORDER BY k.valid_from, k.kid COLLATE "C"
$$;
-- the kid jwt_issue() signs with now
CREATE FUNCTION pg_temp.signer() RETURNS text
LANGUAGE sql AS $$ SELECT jwt_decode(jwt_issue('{"sub": "x"}')) -> 'header' ->> 'kid' $$;
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
-- The first key, signing at once (publish_ahead 0): its kid is the RFC 7638
-- thumbprint, returned; nothing to take over from.
--
BEGIN;
SELECT jwt_rotate_signing_key('ES256', '0') AS k1 \gset
SELECT :'k1' = jwt_jwk_thumbprint(jwt_jwks() -> 'keys' -> 0) AS kid_is_thumbprint,
       (SELECT key::jsonb ? 'd' FROM jwt_keys WHERE kid = :'k1') AS private_jwk_stored;
SELECT kid = :'k1' AS is_k1, algorithm, can_sign, starts, ends, published FROM pg_temp.keys();
SELECT pg_temp.signer() = :'k1' AS k1_signs;
COMMIT;
-- a login before the rotation, signed with k1
SELECT jwt_login('{"sub": "alice", "role": "reader"}') AS l1 \gset
SELECT jwt_decode(:'l1'::jsonb ->> 'access_token') -> 'header' ->> 'kid' = :'k1' AS login_signed_with_k1;
--
-- The default: published at once, signing in an hour; k1 signs until then
-- and retires 15 minutes (jwt.access_token_lifetime) after, when the last
-- token it signed has expired.
--
BEGIN;
SELECT jwt_rotate_signing_key('ES256') AS k2 \gset
SELECT CASE kid WHEN :'k1' THEN 'k1' WHEN :'k2' THEN 'k2' END AS key, algorithm, can_sign, starts, ends, published
FROM pg_temp.keys();
SELECT pg_temp.signer() = :'k1' AS k1_still_signs;
COMMIT;
-- the login's access token still verifies, and its refresh still signs with k1
SELECT set_config('jwt.token', :'l1'::jsonb ->> 'access_token', false) IS NOT NULL AS set;
SELECT jwt_claim('sub') AS sub;
RESET jwt.token;
SELECT jwt_refresh(:'l1'::jsonb ->> 'refresh_token') AS l2 \gset
SELECT jwt_decode(:'l2'::jsonb ->> 'access_token') -> 'header' ->> 'kid' = :'k1' AS refresh_signed_with_k1;
--
-- Rotating again before k2 starts takes over from k2 too: it would sign
-- from its start until the new key's, and retires 15 minutes after that.
-- k1 keeps its end: an end only moves earlier.
--
BEGIN;
SELECT jwt_rotate_signing_key('EdDSA', '2 hours') AS k3 \gset
SELECT CASE kid WHEN :'k1' THEN 'k1' WHEN :'k2' THEN 'k2' WHEN :'k3' THEN 'k3' END AS key,
       algorithm, can_sign, starts, ends, published
FROM pg_temp.keys();
COMMIT;
--
-- The new key ends the line: a signing key that would start at or after it
-- (and take over from it) is refused, not retired behind the caller's back.
--
SELECT code, replace(replace(message, :'k2', 'k2'), :'k3', 'k3') AS message, hint
FROM pg_temp.try($$SELECT jwt_rotate_signing_key('ES256', '0')$$);
SELECT code, replace(replace(message, :'k2', 'k2'), :'k3', 'k3') AS message
FROM pg_temp.try($$SELECT jwt_rotate_signing_key('ES256', '1 hour')$$);
SELECT count(*) AS keys FROM jwt_keys;
--
-- Logins continue across a rotation: the next refresh signs with the new
-- key, and the access tokens of the old one verify until it retires.
--
DELETE FROM jwt_keys;
SELECT jwt_rotate_signing_key('ES256', '0') AS k4 \gset
SELECT jwt_refresh(:'l2'::jsonb ->> 'refresh_token') AS l3 \gset
SELECT jwt_decode(:'l3'::jsonb ->> 'access_token') -> 'header' ->> 'kid' = :'k4' AS refresh_signed_with_k4;
BEGIN;
SELECT jwt_rotate_signing_key('EdDSA', '0') AS k5 \gset
SELECT CASE kid WHEN :'k4' THEN 'k4' WHEN :'k5' THEN 'k5' END AS key, algorithm, starts, ends
FROM pg_temp.keys();
SELECT pg_temp.signer() = :'k5' AS k5_signs;
COMMIT;
SELECT set_config('jwt.token', :'l3'::jsonb ->> 'access_token', false) IS NOT NULL AS set;
SELECT jwt_claim('sub') AS sub_of_a_k4_token;
RESET jwt.token;
SELECT jwt_refresh(:'l3'::jsonb ->> 'refresh_token') AS l4 \gset
SELECT :'l4'::jsonb ->> 'sid' = :'l1'::jsonb ->> 'sid' AS same_login,
       jwt_decode(:'l4'::jsonb ->> 'access_token') -> 'header' ->> 'kid' = :'k5' AS refresh_signed_with_k5,
       jwt_decode(:'l4'::jsonb ->> 'access_token') -> 'header' ->> 'alg' AS alg;
SELECT set_config('jwt.token', :'l4'::jsonb ->> 'access_token', false) IS NOT NULL AS set;
SELECT jwt_claim('role') AS role;
RESET jwt.token;
--
-- The retirement: the new key's start + the longest access-token lifetime
-- + jwt.leeway.  The lifetime is jwt.access_token_lifetime, or the latest
-- exp a login's access token already has when that is later (the lifetime
-- was longer once).
--
BEGIN;
SET LOCAL jwt.access_token_lifetime = '5min';
SET LOCAL jwt.leeway = 30;
SELECT jwt_rotate_signing_key('ES384', '10 minutes') AS k6 \gset
SELECT CASE kid WHEN :'k4' THEN 'k4' WHEN :'k5' THEN 'k5' WHEN :'k6' THEN 'k6' END AS key,
       algorithm, starts, ends
FROM pg_temp.keys();
COMMIT;
BEGIN;
UPDATE jwt_logins SET access_expires_at = now() + interval '2 hours' WHERE sid = :'l1'::jsonb ->> 'sid';
SELECT jwt_rotate_signing_key('ES256', '20 minutes') AS k7 \gset
SELECT CASE kid WHEN :'k6' THEN 'k6' WHEN :'k7' THEN 'k7' END AS key, starts, ends
FROM pg_temp.keys() WHERE kid IN (:'k6', :'k7');
COMMIT;
--
-- Left alone: keys that sign only when named by kid (an older valid_from:
-- jwt_issue() signs with the newest), and a key that only verifies.
--
DELETE FROM jwt_keys;
DELETE FROM jwt_logins;
BEGIN;
SELECT jwt_add_key(jwt_generate_key('ES256'), 'ES256', 'by-kid', now() - interval '1 day');
SELECT jwt_add_key(jwt_generate_key('ES256'), 'ES256', 'current', now() - interval '1 hour');
SELECT jwt_add_key(jwt_public_jwk(jwt_generate_key('RS256')), 'RS256', 'verify-only', now() - interval '2 hours');
SELECT jwt_add_key('rotation-secret-rotation-secret-rotation-0123', 'HS256', 'hs-old', now() - interval '3 hours');
SELECT jwt_rotate_signing_key('ES256') AS k8 \gset
SELECT CASE WHEN kid = :'k8' THEN 'k8' ELSE kid END AS key, can_sign, starts, ends, published
FROM pg_temp.keys();
SELECT jwt_decode(jwt_issue('{"sub": "x"}', 'by-kid')) -> 'header' ->> 'kid' AS still_signs_by_kid;
COMMIT;
-- ... unless the key that signs now retires before the new key starts: the
-- next newest then signs in between, so the new key takes over from it too
BEGIN;
SELECT jwt_retire_key(:'k8');
SELECT jwt_retire_key('current', now() + interval '30 minutes');
SELECT jwt_rotate_signing_key('ES256') AS k9 \gset
SELECT CASE WHEN kid = :'k9' THEN 'k9' ELSE kid END AS key, starts, ends
FROM pg_temp.keys() WHERE kid IN ('by-kid', 'current', 'hs-old', :'k9');
COMMIT;
--
-- Every asymmetric algorithm; the new key is one key for it.
--
DELETE FROM jwt_keys;
CREATE TEMP TABLE rotated AS
SELECT n, alg, jwt_rotate_signing_key(alg, make_interval(days => n::int)) AS kid
FROM unnest('{RS256,PS384,ES512,ES256K,EdDSA,Ed25519,Ed448}'::text[]) WITH ORDINALITY AS a(alg, n);
SELECT r.alg, k.algorithm, k.can_sign, jsonb_array_length(jwt_public_jwk(k.key) -> 'keys') IS NULL AS one_key,
       jwt_jwks() -> 'keys' @> jsonb_build_array(jsonb_build_object('kid', r.kid)) AS published
FROM rotated r JOIN jwt_keys k USING (kid) ORDER BY r.n;
DROP TABLE rotated;
--
-- Refused, before anything is written (22023).
--
SELECT count(*) AS keys_before FROM jwt_keys \gset
SELECT * FROM pg_temp.try($$SELECT jwt_rotate_signing_key('HS256')$$);
SELECT * FROM pg_temp.try($$SELECT jwt_rotate_signing_key(NULL)$$);
SELECT * FROM pg_temp.try($$SELECT jwt_rotate_signing_key('ES256', NULL)$$);
SELECT * FROM pg_temp.try($$SELECT jwt_rotate_signing_key('ES256', '-1 minute')$$);
SELECT * FROM pg_temp.try($$SELECT jwt_rotate_signing_key('XS256')$$);
SELECT * FROM pg_temp.try($$SELECT jwt_rotate_signing_key('none')$$);
SELECT count(*) - :keys_before AS keys_added FROM jwt_keys;
-- at REPEATABLE READ or SERIALIZABLE a rotation committed after the
-- transaction's snapshot would be unseen: refused (25000)
BEGIN ISOLATION LEVEL REPEATABLE READ;
SELECT * FROM pg_temp.try($$SELECT jwt_rotate_signing_key('ES256')$$);
COMMIT;
BEGIN ISOLATION LEVEL SERIALIZABLE;
SELECT * FROM pg_temp.try($$SELECT jwt_rotate_signing_key('ES256')$$);
COMMIT;
SELECT count(*) - :keys_before AS keys_added FROM jwt_keys;
-- publish_ahead counts from the clock, not from the transaction's start
BEGIN;
DELETE FROM jwt_keys;
SELECT pg_sleep(1.5);
SELECT jwt_rotate_signing_key('ES256', '1 hour') AS k_late \gset
SELECT valid_from >= now() + interval '1 hour 1 second' AS counted_from_the_clock
FROM jwt_keys WHERE kid = :'k_late';
ROLLBACK;
--
-- Closed to PUBLIC; VOLATILE, PARALLEL UNSAFE.
--
SELECT p.oid::regprocedure AS function, p.provolatile, p.proparallel, p.proisstrict,
       has_function_privilege('public', p.oid, 'EXECUTE') AS public_execute,
       pg_get_function_arguments(p.oid) AS arguments
FROM pg_proc p WHERE p.proname = 'jwt_rotate_signing_key';
CREATE ROLE regress_jwt_rotation_app;
SET ROLE regress_jwt_rotation_app;
SELECT * FROM pg_temp.try($$SELECT jwt_rotate_signing_key('ES256')$$);
RESET ROLE;
DROP ROLE regress_jwt_rotation_app;
DELETE FROM jwt_logins;
DELETE FROM jwt_keys;
