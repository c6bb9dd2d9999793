--
-- registry: the key registry jwt_keys that session tokens are verified
-- against, and the functions around it: jwt_add_key, jwt_retire_key,
-- jwt_jwks, jwt_issue.
--
-- A key is added in any form jwt reads (a secret, a PEM key or certificate,
-- a JWK) for one algorithm; its kid defaults to the JWK's kid, else to its
-- RFC 7638 thumbprint.  A trigger refuses what cannot verify its algorithm
-- (22023).  valid_from and valid_until bound when a key verifies, so a new
-- key can be added before the old one retires and both verify in between.
-- jwt_jwks() publishes the asymmetric keys that are valid now or later,
-- public members only.  jwt_issue() signs with the newest valid key that
-- can sign (or the given kid), so that a login function can mint tokens
-- without seeing a key.  The table and every key-handling function are
-- closed to PUBLIC; jwt_claims() reads the registry whatever the caller's
-- rights.
--
-- THE PEM KEYS BELOW ARE THE TEST-ONLY KEYS OF keys.sql.  Keys made at run
-- time by jwt_generate_key are never shown.
--
\set secret 'registry-secret-registry-secret-registry-0123'
\set secret2 'registry-second-registry-second-registry-second-0123-4567'
\set secret3 'registry-third-registry-third-registry-third-0123'
\set secret64 'registry-sixty-four-registry-sixty-four-registry-sixty-four-01234'
SELECT '-----BEGIN PRIVATE KEY-----
MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgE+tBk/qRhfHNT0SE
RZunEk6c0+qCs4wyfycfbSLEnEqhRANCAARfd7UaWdXlxLHH5bX999PKMx1YEuHA
84V2v4xagnD41U5IJwnvAjuKba8t0p34cuSxP7NpIZ6EazzTPjefMpP6
-----END PRIVATE KEY-----' AS ec_pkcs8 \gset
SELECT '-----BEGIN PUBLIC KEY-----
MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEX3e1GlnV5cSxx+W1/ffTyjMdWBLh
wPOFdr+MWoJw+NVOSCcJ7wI7im2vLdKd+HLksT+zaSGehGs80z43nzKT+g==
-----END PUBLIC KEY-----' AS ec_spki \gset
SELECT '-----BEGIN CERTIFICATE-----
MIIBijCCATCgAwIBAgIBAjAKBggqhkjOPQQDAjAjMSEwHwYDVQQDDBhqd3QgcmVn
cmVzc2lvbiB0ZXN0IG9ubHkwIBcNMjYxMTIyMTQxNzAyWhgPMjEyNjEwMjkxNDE3
MDJaMCMxITAfBgNVBAMMGGp3dCByZWdyZXNzaW9uIHRlc3Qgb25seTBZMBMGByqG
SM49AgEGCCqGSM49AwEHA0IABF93tRpZ1eXEscfltf3308ozHVgS4cDzhXa/jFqC
cPjVTkgnCe8CO4ptry3Snfhy5LE/s2khnoRrPNM+N58yk/qjUzBRMB0GA1UdDgQW
BBS426xH0Bsj45liMhBG4K02RbzbKTAfBgNVHSMEGDAWgBS426xH0Bsj45liMhBG
4K02RbzbKTAPBgNVHRMBAf8EBTADAQH/MAoGCCqGSM49BAMCA0gAMEUCICQLGBqK
HNbEKTfqh2NCK7gb9k+LITxuXT+qec7YYgPSAiEA7SGNAAdHaV1me3D7aKxl6ege
/AF5fIHLXz+1N4dz3F0=
-----END CERTIFICATE-----' AS ec_cert \gset
SELECT '-----BEGIN PRIVATE KEY-----
MC4CAQAwBQYDK2VwBCIEIHh306YFBoCD7ZE17pZlEaGD9NOBPSIZtEMhutvYa6Pr
-----END PRIVATE KEY-----' AS ed25519_pkcs8 \gset
-- the registry is shared by the suites of one run: start from an empty one
DELETE FROM jwt_keys;
DELETE FROM jwt_revocations;
-- base64url without padding
CREATE FUNCTION pg_temp.b64url(bytea) RETURNS text
AS $$ SELECT translate(rtrim(replace(encode($1, 'base64'), E'\n', ''), '='), '+/', '-_') $$
LANGUAGE sql IMMUTABLE STRICT;
-- a JWK for a secret
CREATE FUNCTION pg_temp.jwk(secret text, members jsonb DEFAULT '{}') RETURNS jsonb
AS $$ SELECT jsonb_build_object('kty', 'oct', 'k', pg_temp.b64url(convert_to(secret, 'UTF8'))) || members $$
LANGUAGE sql IMMUTABLE;
-- what jwt_add_key makes of a key: its kid, or the error; and whether the
-- error shows the key
CREATE FUNCTION pg_temp.add(key text, algorithm text, kid text DEFAULT NULL,
                            valid_from timestamptz DEFAULT now(), valid_until timestamptz DEFAULT NULL,
                            OUT code text, OUT kid_or_message text, OUT detail text,
                            OUT hint text, OUT shows_key boolean)
LANGUAGE plpgsql AS $$
BEGIN
    kid_or_message := jwt_add_key(key, algorithm, kid, valid_from, valid_until);
    code := '00000';
EXCEPTION WHEN OTHERS THEN
    GET STACKED DIAGNOSTICS code = RETURNED_SQLSTATE, kid_or_message = MESSAGE_TEXT,
                            detail = PG_EXCEPTION_DETAIL, hint = PG_EXCEPTION_HINT;
    shows_key := coalesce(key <> '' AND strpos(concat_ws(' ', kid_or_message, detail, hint), key) > 0, false);
END
$$;
-- what jwt_claims() makes of a token: the subject, or the error
CREATE FUNCTION pg_temp.session(token text, OUT code text, OUT sub text,
                                OUT message text, OUT detail text)
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM set_config('jwt.token', token, true);
    sub := jwt_claims() ->> 'sub';
    code := '00000';
EXCEPTION WHEN OTHERS THEN
    GET STACKED DIAGNOSTICS code = RETURNED_SQLSTATE, message = MESSAGE_TEXT,
                            detail = PG_EXCEPTION_DETAIL;
END
$$;
-- the outcome of a statement: 00000, or the error
CREATE FUNCTION pg_temp.try(statement text, OUT code text, OUT message text)
LANGUAGE plpgsql AS $$
BEGIN
    EXECUTE statement;
    code := '00000';
EXCEPTION WHEN OTHERS THEN
    GET STACKED DIAGNOSTICS code = RETURNED_SQLSTATE, message = MESSAGE_TEXT;
END
$$;
-- what jwt_issue(claims, kid) does: the kid in the token's header, or the error
CREATE FUNCTION pg_temp.issue(kid text, OUT code text, OUT header_kid text, OUT message text)
LANGUAGE plpgsql AS $$
BEGIN
    header_kid := jwt_decode(jwt_issue('{"sub":"x","exp":4102444800}', kid)) -> 'header' ->> 'kid';
    code := '00000';
EXCEPTION WHEN OTHERS THEN
    GET STACKED DIAGNOSTICS code = RETURNED_SQLSTATE, message = MESSAGE_TEXT;
END
$$;
-- a token of the subject, signed with the key under the header's kid
CREATE FUNCTION pg_temp.token(sub text, key text, kid text DEFAULT NULL, algorithm text DEFAULT 'HS256')
RETURNS text
AS $$ SELECT jwt_sign(jsonb_build_object('sub', sub, 'exp', 4102444800), key, algorithm,
                      CASE WHEN kid IS NOT NULL THEN jsonb_build_object('kid', kid) END) $$
LANGUAGE sql VOLATILE;
--
-- Adding keys.  The kid is the given one, else the JWK's, else the RFC 7638
-- thumbprint of the key's public JWK (of the "oct" JWK for a secret).
--
SELECT * FROM pg_temp.add(:'secret', 'HS256');
SELECT kid_or_message = jwt_jwk_thumbprint(pg_temp.jwk(:'secret2')) AS kid_is_thumbprint
FROM pg_temp.add(:'secret2', 'HS384');
SELECT * FROM pg_temp.add(pg_temp.jwk(:'secret3', '{"kid":"from-the-jwk"}')::text, 'HS256');
SELECT * FROM pg_temp.add(pg_temp.jwk(:'secret3', '{"kid":"from-the-jwk"}')::text, 'HS256', 'given-kid');
SELECT * FROM pg_temp.add(:'ec_pkcs8', 'ES256');
SELECT jwt_jwk_thumbprint(jwt_public_jwk(:'ec_pkcs8')) AS ec_thumbprint;
-- the same key again, with the same default kid: the primary key refuses it
SELECT * FROM pg_temp.add(:'ec_spki', 'ES256');
SELECT * FROM pg_temp.add(:'ec_spki', 'ES256', 'ec-public');
SELECT * FROM pg_temp.add(:'ec_cert', 'ES256', 'ec-cert');
SELECT * FROM pg_temp.add(:'ed25519_pkcs8', 'EdDSA', 'ed25519');
-- a key made at run time, as a private JWK: its kid is the JWK's
SELECT jwt_generate_key('ES256') AS generated \gset
SELECT code, kid_or_message = (:'generated'::jsonb ->> 'kid') AS kid_is_the_jwks FROM pg_temp.add(:'generated', 'ES256');
SELECT :'generated'::jsonb ->> 'kid' AS generated_kid \gset
-- what the registry holds: can_sign says whether jwt_issue may use a key
SELECT CASE kid WHEN :'generated_kid' THEN '(generated)' ELSE kid END AS kid,
       algorithm, can_sign, valid_until IS NULL AS open_ended,
       valid_from = added_at AS valid_from_when_added
FROM jwt_keys
ORDER BY algorithm, CASE kid WHEN :'generated_kid' THEN '' ELSE kid END COLLATE "C";
-- can_sign is the trigger's to set
INSERT INTO jwt_keys (kid, key, algorithm, can_sign) VALUES ('ec-public-2', :'ec_spki', 'ES256', true);
SELECT kid, can_sign FROM jwt_keys WHERE kid = 'ec-public-2';
UPDATE jwt_keys SET key = :'ec_pkcs8' WHERE kid = 'ec-public-2';
SELECT kid, can_sign FROM jwt_keys WHERE kid = 'ec-public-2';
UPDATE jwt_keys SET key = :'ec_spki', can_sign = true WHERE kid = 'ec-public-2';
SELECT kid, can_sign FROM jwt_keys WHERE kid = 'ec-public-2';
DELETE FROM jwt_keys WHERE kid = 'ec-public-2';
-- every key verifies its tokens, with its kid or without one
SELECT label, s.*
FROM (VALUES
    (1, 'HS256 secret, by thumbprint', pg_temp.token('s1', :'secret', jwt_jwk_thumbprint(pg_temp.jwk(:'secret')))),
    (2, 'HS256 secret, no kid', pg_temp.token('s2', :'secret')),
    (3, 'HS384 secret', pg_temp.token('s3', :'secret2', NULL, 'HS384')),
    (4, 'JWK secret by its kid', pg_temp.token('s4', :'secret3', 'from-the-jwk')),
    (5, 'JWK secret by the given kid', pg_temp.token('s5', :'secret3', 'given-kid')),
    (6, 'EC key, by thumbprint', pg_temp.token('s6', :'ec_pkcs8', jwt_jwk_thumbprint(jwt_public_jwk(:'ec_pkcs8')), 'ES256')),
    (7, 'EC key, by ec-public', pg_temp.token('s7', :'ec_pkcs8', 'ec-public', 'ES256')),
    (8, 'EC key, by ec-cert', pg_temp.token('s8', :'ec_pkcs8', 'ec-cert', 'ES256')),
    (9, 'EC key, no kid', pg_temp.token('s9', :'ec_pkcs8', NULL, 'ES256')),
    (10, 'Ed25519', pg_temp.token('s10', :'ed25519_pkcs8', 'ed25519', 'EdDSA')),
    (11, 'generated key', pg_temp.token('s11', :'generated', :'generated_kid', 'ES256')),
    (12, 'a kid naming another key', pg_temp.token('s12', :'secret', 'given-kid')),
    (13, 'a kid naming a key of another algorithm', pg_temp.token('s13', :'secret', 'ec-public'))
) AS t(ord, label, token),
LATERAL pg_temp.session(token) s
ORDER BY ord;
--
-- What the trigger on jwt_keys refuses, with 22023 and a hint, never
-- showing the key.
--
SELECT label, a.*
FROM (VALUES
    (1, 'a JWKS', jsonb_build_object('keys', jsonb_build_array(pg_temp.jwk(:'secret3', '{"kid":"in-a-set"}')))::text, 'HS256'),
    (2, 'a JWKS of one public key', jsonb_build_object('keys', jsonb_build_array(jwt_public_jwk(:'ec_spki')))::text, 'ES256'),
    (3, 'an EC key for RS256', :'ec_spki', 'RS256'),
    (4, 'an EC P-256 key for ES384', :'ec_spki', 'ES384'),
    (5, 'an EC key for HS256', :'ec_spki', 'HS256'),
    (6, 'an Ed25519 key for ES256', :'ed25519_pkcs8', 'ES256'),
    (7, 'unknown algorithm', :'secret3', 'HS999'),
    (8, 'algorithm in lower case', :'secret3', 'hs256'),
    (9, 'algorithm none', :'secret3', 'none'),
    (10, 'empty algorithm', :'secret3', ''),
    (11, 'HMAC key too short for HS256', 'short-registry-secret', 'HS256'),
    (12, 'a 49-byte secret for HS512', :'secret3', 'HS512'),
    (13, 'a JWK whose alg is another', pg_temp.jwk(:'secret64', '{"alg":"HS512"}')::text, 'HS256'),
    (14, 'a JWK for encryption', pg_temp.jwk(:'secret3', '{"use":"enc"}')::text, 'HS256'),
    (15, 'an empty key', '', 'HS256'),
    (16, 'a broken PEM', E'-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n', 'ES256'),
    (17, 'a JWK without kty', '{"k":"c2VjcmV0"}', 'HS256')
) AS t(ord, label, key, alg),
LATERAL pg_temp.add(key, alg, 'refused-' || ord) a
ORDER BY ord;
SELECT count(*) AS refused_keys_stored FROM jwt_keys WHERE kid LIKE 'refused-%';
-- the same checks on UPDATE
UPDATE jwt_keys SET algorithm = 'RS256' WHERE kid = 'ec-public';
UPDATE jwt_keys SET key = 'short-registry-secret' WHERE kid = 'given-kid';
-- and the table's own constraints, whose errors must not show the key
-- either (PostgreSQL's "Failing row contains (...)" detail would)
SELECT label, a.code, a.kid_or_message AS message, a.shows_key
FROM (VALUES
    (1, 'empty kid', :'secret3', 'HS256', '', now(), NULL::timestamptz),
    (2, 'valid_until before valid_from', :'secret3', 'HS256', 'backwards', now(), now() - interval '1 day'),
    (3, 'no algorithm', :'secret3', NULL, 'no-algorithm', now(), NULL),
    (4, 'no key', NULL, 'HS256', 'no-key', now(), NULL)
) AS t(ord, label, key, alg, kid, valid_from, valid_until),
LATERAL pg_temp.add(key, alg, kid, valid_from, valid_until) a
ORDER BY ord;
--
-- Rotation.  The old key keeps verifying until it retires; the new one is
-- added before that and both verify in between; a key whose valid_from is
-- in the future does not verify yet.
--
DELETE FROM jwt_keys;
SELECT jwt_add_key(:'secret', 'HS256', 'k-old', now() - interval '30 days');
SELECT jwt_add_key(:'secret2', 'HS256', 'k-new', now() - interval '1 hour');
SELECT jwt_add_key(:'secret3', 'HS256', 'k-next', now() + interval '1 day');
-- the old key is to retire tomorrow
SELECT jwt_retire_key('k-old', now() + interval '1 day');
SELECT kid, valid_from < now() AS started, valid_until > now() + interval '23 hours' AS retires_tomorrow,
       valid_until IS NULL AS open_ended
FROM jwt_keys ORDER BY valid_from;
SELECT pg_temp.token('old', :'secret', 'k-old') AS old_kid, pg_temp.token('old-nokid', :'secret') AS old_nokid,
       pg_temp.token('new', :'secret2', 'k-new') AS new_kid, pg_temp.token('new-nokid', :'secret2') AS new_nokid,
       pg_temp.token('next', :'secret3', 'k-next') AS next_kid, pg_temp.token('next-nokid', :'secret3') AS next_nokid \gset
CREATE TEMP TABLE rotation_tokens (ord integer, label text, token text);
INSERT INTO rotation_tokens VALUES
    (1, 'old key, kid', :'old_kid'), (2, 'old key, no kid', :'old_nokid'),
    (3, 'new key, kid', :'new_kid'), (4, 'new key, no kid', :'new_nokid'),
    (5, 'next key, kid', :'next_kid'), (6, 'next key, no kid', :'next_nokid');
-- in between: old and new verify, next not yet
SELECT label, s.code, s.sub, s.detail FROM rotation_tokens, LATERAL pg_temp.session(token) s ORDER BY ord;
-- the old key retires now: its tokens are refused, by kid with the detail
-- that the key is retired; the others are as they were
SELECT jwt_retire_key('k-old');
SELECT label, s.code, s.sub, s.detail FROM rotation_tokens, LATERAL pg_temp.session(token) s ORDER BY ord;
-- no such key
SELECT jwt_retire_key('no-such-kid');
-- the next key's time comes (valid_from moved to the past)
UPDATE jwt_keys SET valid_from = now() - interval '1 minute' WHERE kid = 'k-next';
SELECT label, s.code, s.sub, s.detail FROM rotation_tokens, LATERAL pg_temp.session(token) s ORDER BY ord;
-- retiring a key before its valid_from leaves it valid for no time at all
SELECT jwt_add_key(:'secret', 'HS256', 'k-never', now() + interval '1 day');
SELECT jwt_retire_key('k-never', now() - interval '1 day');
SELECT valid_until = valid_from AS never_valid FROM jwt_keys WHERE kid = 'k-never';
SELECT code, detail FROM pg_temp.session(pg_temp.token('never', :'secret', 'k-never'));
-- a key's window ends while a session holds a token it verified: the next
-- statement after valid_until refuses the token, cached or not
SELECT jwt_add_key(:'secret', 'HS256', 'k-short', now() - interval '1 minute',
                   date_trunc('second', clock_timestamp()) + interval '3 seconds') IS NOT NULL AS added;
SELECT pg_temp.token('short', :'secret', 'k-short') AS short_kid,
       pg_temp.token('short-2', :'secret', 'k-short') AS short_kid_2 \gset
SET jwt.token = :'short_kid';
SELECT jwt_claim('sub') AS before_valid_until;
SELECT pg_sleep(4);
SELECT statement_timestamp() > valid_until AS key_window_over FROM jwt_keys WHERE kid = 'k-short';
-- the token verified before (the session's cached claims)
SELECT code, sub, detail FROM pg_temp.session(:'short_kid');
-- a token of the same key that this session has not seen
SELECT code, detail FROM pg_temp.session(:'short_kid_2');
RESET jwt.token;
--
-- A registry change is seen from the next statement on; one that rolls
-- back is undone.
--
SELECT pg_temp.token('tx', :'secret', 'k-tx') AS tx_token \gset
BEGIN;
SELECT jwt_add_key(:'secret', 'HS256', 'k-tx');
SELECT code, sub, detail FROM pg_temp.session(:'tx_token');
ROLLBACK;
SELECT code, sub, detail FROM pg_temp.session(:'tx_token');
BEGIN;
DELETE FROM jwt_keys WHERE kid = 'k-new';
SELECT code, sub, detail FROM pg_temp.session(:'new_kid');
ROLLBACK;
SELECT code, sub, detail FROM pg_temp.session(:'new_kid');
--
-- jwt_jwks(): the public JWKS of the asymmetric keys valid now or later.
-- No secret, no private member, no retired key.
--
DELETE FROM jwt_keys;
SELECT jwt_add_key(:'secret', 'HS256', 'hs-now');
SELECT jwt_add_key(:'ec_pkcs8', 'ES256', 'ec-private', now() - interval '2 days');
SELECT jwt_add_key(:'ec_spki', 'ES256', 'ec-public', now() - interval '1 day');
SELECT jwt_add_key(:'ec_cert', 'ES256', 'ec-cert-retired', now() - interval '3 days', now() - interval '1 day');
SELECT jwt_add_key(:'ed25519_pkcs8', 'EdDSA', 'ed-future', now() + interval '1 day');
SELECT jwt_add_key(:'generated', 'ES256') = :'generated_kid' AS generated_added;
SELECT jwt_add_key(:'ed25519_pkcs8', 'EdDSA', 'ed-retiring', now() - interval '1 day', now() + interval '1 hour');
SELECT CASE k ->> 'kid' WHEN :'generated_kid' THEN '(generated)' ELSE k ->> 'kid' END AS kid,
       k ->> 'kty' AS kty, k ->> 'crv' AS crv, k ->> 'alg' AS alg, k ->> 'use' AS use,
       (SELECT string_agg(m, ',' ORDER BY m) FROM jsonb_object_keys(k) m) AS members
FROM jsonb_array_elements(jwt_jwks() -> 'keys') WITH ORDINALITY AS j(k, ord)
ORDER BY ord;
SELECT jsonb_typeof(jwt_jwks()) AS type, (SELECT array_agg(m) FROM jsonb_object_keys(jwt_jwks()) m) AS top_members;
-- no member of any key is private or a secret
SELECT count(*) AS private_members
FROM jsonb_array_elements(jwt_jwks() -> 'keys') k, jsonb_object_keys(k) m
WHERE m IN ('d', 'p', 'q', 'dp', 'dq', 'qi', 'oth', 'k');
SELECT strpos(jwt_jwks()::text, :'generated'::jsonb ->> 'd') AS private_scalar_found,
       strpos(jwt_jwks()::text, pg_temp.b64url(convert_to(:'secret', 'UTF8'))) AS secret_found;
-- each published key is the public JWK of the registry key
SELECT count(*) AS keys, count(*) FILTER (WHERE k - 'kid' - 'alg' - 'use' = jwt_public_jwk(r.key) - 'kid' - 'alg' - 'use') AS same_public_jwk
FROM jsonb_array_elements(jwt_jwks() -> 'keys') k
JOIN jwt_keys r ON r.kid = k ->> 'kid';
-- it verifies what the registry's keys sign
SELECT (jwt_verify(pg_temp.token('jwks', :'ec_pkcs8', 'ec-private', 'ES256'), jwt_jwks()::text)) ->> 'sub' AS verified_with_jwks;
-- only secrets: an empty set
BEGIN;
DELETE FROM jwt_keys WHERE algorithm <> 'HS256';
SELECT jwt_jwks();
ROLLBACK;
--
-- jwt_issue(claims, kid): signs with the newest valid key that can sign, or
-- the given kid; 22023 when none can.
--
DELETE FROM jwt_keys;
SELECT jwt_add_key(:'ec_spki', 'ES256', 'public-only');
SELECT * FROM pg_temp.try($$SELECT jwt_issue('{"sub":"x","exp":4102444800}')$$);
SELECT * FROM pg_temp.try($$SELECT jwt_issue('{"sub":"x","exp":4102444800}', 'public-only')$$);
DO $$
DECLARE
    hint text;
BEGIN
    PERFORM jwt_issue('{"sub":"x"}');
EXCEPTION WHEN OTHERS THEN
    GET STACKED DIAGNOSTICS hint = PG_EXCEPTION_HINT;
    RAISE NOTICE '% %: %', SQLSTATE, SQLERRM, hint;
END
$$;
SELECT jwt_add_key(:'secret', 'HS256', 'issue-old', now() - interval '2 days');
SELECT jwt_add_key(:'secret2', 'HS256', 'issue-new', now() - interval '1 hour');
SELECT jwt_add_key(:'secret3', 'HS256', 'issue-future', now() + interval '1 day');
SELECT jwt_add_key(:'ec_pkcs8', 'ES256', 'issue-retired', now() - interval '1 day', now() - interval '1 minute');
SELECT jwt_issue('{"sub":"issued","exp":4102444800}') AS issued \gset
-- (iat and jti are filled in, see sql/issue_defaults.sql)
SELECT jwt_decode(:'issued') -> 'header' AS header,
       (jwt_decode(:'issued') -> 'payload') - '{iat,jti}'::text[] AS payload;
SELECT code, sub, detail FROM pg_temp.session(:'issued');
-- signed with the key of issue-new, and with nothing else
SELECT jwt_is_valid(:'issued', :'secret2') AS with_new, jwt_is_valid(:'issued', :'secret') AS with_old;
SELECT label, i.*
FROM (VALUES
    (1, 'no kid', NULL),
    (2, 'issue-old', 'issue-old'),
    (3, 'issue-new', 'issue-new'),
    (4, 'not valid yet', 'issue-future'),
    (5, 'retired', 'issue-retired'),
    (6, 'public only', 'public-only'),
    (7, 'unknown', 'no-such-kid')
) AS t(ord, label, kid),
LATERAL pg_temp.issue(kid) i
ORDER BY ord;
-- an asymmetric key newer than the others is picked, and its tokens verify
SELECT jwt_add_key(:'generated', 'ES256', 'issue-es256', now() - interval '1 minute');
SELECT jwt_decode(jwt_issue('{"sub":"issued-es","exp":4102444800}')) -> 'header' AS header;
SELECT code, sub, detail FROM pg_temp.session(jwt_issue('{"sub":"issued-es","exp":4102444800}'));
-- a newer key that has ended is passed over; of two keys from the same
-- moment, the kid first in order signs; and what the choice was made from
-- goes with the registry it came from (the rollback)
BEGIN;
SELECT jwt_add_key(:'secret', 'HS256', 'issue-ended', now() - interval '20 seconds', now() - interval '10 seconds');
SELECT jwt_add_key(:'secret3', 'HS256', 'issue-tie-b', now() - interval '40 seconds');
SELECT jwt_add_key(:'secret2', 'HS256', 'issue-tie-a', now() - interval '40 seconds');
SELECT jwt_decode(jwt_issue('{"sub":"x","exp":4102444800}')) -> 'header' ->> 'kid' AS newest;
DELETE FROM jwt_keys WHERE kid = 'issue-tie-a';
SELECT jwt_decode(jwt_issue('{"sub":"x","exp":4102444800}')) -> 'header' ->> 'kid' AS newest;
ROLLBACK;
SELECT jwt_decode(jwt_issue('{"sub":"x","exp":4102444800}')) -> 'header' ->> 'kid' AS newest;
--
-- Privileges.  The table and every key-handling function are closed to
-- PUBLIC; jwt_claims() and jwt_claim() are open and read the registry
-- whatever the caller's rights.  A login function, SECURITY DEFINER and
-- owned by a role that may only call jwt_issue(), mints tokens for a role
-- that can call nothing else, and neither sees a key.
--
SELECT p.oid::regprocedure AS function, has_function_privilege('public', p.oid, 'EXECUTE') AS public_execute
FROM pg_proc p
JOIN pg_depend d ON d.classid = 'pg_proc'::regclass AND d.objid = p.oid AND d.deptype = 'e'
WHERE d.refobjid = (SELECT oid FROM pg_extension WHERE extname = 'jwt')
  AND p.proname IN ('jwt_claims', 'jwt_claim', 'jwt_add_key', 'jwt_retire_key', 'jwt_jwks', 'jwt_issue',
                    'jwt_revoke', 'jwt_revoke_token', 'jwt_purge_revocations', 'jwt_keys_check',
                    'jwt_registry_changed')
ORDER BY p.oid::regprocedure::text COLLATE "C";
SELECT t.relname, p.privilege, has_table_privilege('public', t.relname, p.privilege) AS public_has
FROM unnest(ARRAY['jwt_keys', 'jwt_revocations']) AS t(relname),
     unnest(ARRAY['SELECT', 'INSERT', 'UPDATE', 'DELETE', 'TRUNCATE', 'REFERENCES', 'TRIGGER']) WITH ORDINALITY AS p(privilege, ord)
ORDER BY t.relname, p.ord;
CREATE ROLE regress_jwt_registry_app;
CREATE ROLE regress_jwt_registry_admin;
SET ROLE regress_jwt_registry_app;
SELECT ord, t.statement, r.*
FROM (VALUES
    (1, 'SELECT * FROM jwt_keys'),
    (2, 'SELECT kid FROM jwt_keys'),
    (3, 'SELECT * FROM jwt_revocations'),
    (4, $$INSERT INTO jwt_keys (kid, key, algorithm) VALUES ('mine', 'my-own-secret-my-own-secret-my-own-secret', 'HS256')$$),
    (5, $$UPDATE jwt_keys SET valid_until = NULL$$),
    (6, 'DELETE FROM jwt_keys'),
    (7, 'TRUNCATE jwt_keys'),
    (8, $$SELECT jwt_add_key('my-own-secret-my-own-secret-my-own-secret', 'HS256')$$),
    (9, $$SELECT jwt_retire_key('issue-new')$$),
    (10, 'SELECT jwt_jwks()'),
    (11, $$SELECT jwt_issue('{"sub":"me"}')$$),
    (12, $$SELECT jwt_issue('{"sub":"me"}', 'issue-new')$$),
    (13, $$SELECT jwt_revoke('some-jti', now())$$),
    (14, $$SELECT jwt_revoke_token('a.b.c')$$),
    (15, 'SELECT jwt_purge_revocations()'),
    (16, 'SELECT jwt_claims()'),
    (17, $$SELECT jwt_claim('sub')$$)
) AS t(ord, statement),
LATERAL pg_temp.try(t.statement) r
ORDER BY ord;
-- jwt_claims() reads the registry for this role
SELECT code, sub, detail FROM pg_temp.session(:'issued');
RESET ROLE;
GRANT EXECUTE ON FUNCTION jwt_issue(jsonb, text) TO regress_jwt_registry_admin;
CREATE SCHEMA regress_jwt_registry AUTHORIZATION regress_jwt_registry_admin;
SET ROLE regress_jwt_registry_admin;
CREATE FUNCTION regress_jwt_registry.login(username text) RETURNS text
LANGUAGE sql SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$ SELECT public.jwt_issue(jsonb_build_object('sub', username, 'role', 'user', 'exp', 4102444800), 'issue-new') $$;
REVOKE ALL ON FUNCTION regress_jwt_registry.login(text) FROM PUBLIC;
GRANT USAGE ON SCHEMA regress_jwt_registry TO regress_jwt_registry_app;
GRANT EXECUTE ON FUNCTION regress_jwt_registry.login(text) TO regress_jwt_registry_app;
-- the admin can mint, but sees no key
SELECT * FROM pg_temp.try('SELECT * FROM jwt_keys');
SELECT * FROM pg_temp.try('SELECT jwt_jwks()');
SET ROLE regress_jwt_registry_app;
SELECT regress_jwt_registry.login('alice') AS login_token \gset
SELECT jwt_decode(:'login_token') -> 'header' AS header,
       (jwt_decode(:'login_token') -> 'payload') - '{iat,jti}'::text[] AS payload;
SELECT code, sub, detail FROM pg_temp.session(:'login_token');
BEGIN;
SET LOCAL jwt.token = :'login_token';
SELECT jwt_claim('sub'), jwt_claim('role');
COMMIT;
SELECT * FROM pg_temp.try($$SELECT jwt_issue('{"sub":"root","exp":4102444800}')$$);
RESET ROLE;
--
-- Clean up.
--
DROP SCHEMA regress_jwt_registry CASCADE;
REVOKE EXECUTE ON FUNCTION jwt_issue(jsonb, text) FROM regress_jwt_registry_admin;
DROP ROLE regress_jwt_registry_app;
DROP ROLE regress_jwt_registry_admin;
DELETE FROM jwt_keys;
