--
-- verify: jwt_verify and jwt_is_valid(token text, key text|bytea,
-- algorithms text[], audience text, issuer text, leeway interval) on tokens
-- they must accept, and on what narrows them: algorithms, audience, issuer,
-- leeway, kid.  The rejection rules themselves are in rules.sql.
--
-- Each case shows what jwt_verify returns or raises (SQLSTATE, message,
-- detail) and what jwt_is_valid says: true, false, or the error it raised
-- for a wrong call.
--
\set secret 'regress-secret-regress-secret-regress-secret-regress-secret-0123'
\set other 'another-secret-another-secret-another-secret-another-secret-0123'
-- base64url without padding
CREATE FUNCTION pg_temp.b64url(bytea) RETURNS text
AS $$ SELECT translate(rtrim(replace(encode($1, 'base64'), E'\n', ''), '='), '+/', '-_') $$
LANGUAGE sql IMMUTABLE STRICT;
-- a compact token from header and payload JSON text, and a signature
CREATE FUNCTION pg_temp.tok(header text, payload text, sig text) RETURNS text
AS $$ SELECT pg_temp.b64url(convert_to(header, 'UTF8')) || '.' || pg_temp.b64url(convert_to(payload, 'UTF8')) || '.' || sig $$
LANGUAGE sql IMMUTABLE STRICT;
-- a JWK for a secret
CREATE FUNCTION pg_temp.jwk(secret text, members jsonb DEFAULT '{}') RETURNS jsonb
AS $$ SELECT jsonb_build_object('kty', 'oct', 'k', pg_temp.b64url(convert_to(secret, 'UTF8'))) || members $$
LANGUAGE sql IMMUTABLE;
-- seconds since 1970 at the start of this statement, plus an offset
CREATE FUNCTION pg_temp.now_plus(secs integer) RETURNS bigint
AS $$ SELECT floor(extract(epoch FROM statement_timestamp()))::bigint + secs $$
LANGUAGE sql STABLE STRICT;
-- what jwt_verify and jwt_is_valid make of a token
CREATE FUNCTION pg_temp.verdict(token text, key text, algorithms text[] DEFAULT NULL,
                                audience text DEFAULT NULL, issuer text DEFAULT NULL,
                                leeway interval DEFAULT '0',
                                OUT code text, OUT message text, OUT detail text,
                                OUT is_valid text)
LANGUAGE plpgsql AS $$
BEGIN
    BEGIN
        detail := jwt_verify(token, key, algorithms, audience, issuer, leeway)::text;
        code := '00000';
        message := 'accepted';
    EXCEPTION WHEN OTHERS THEN
        GET STACKED DIAGNOSTICS code = RETURNED_SQLSTATE, message = MESSAGE_TEXT,
                                detail = PG_EXCEPTION_DETAIL;
    END;
    BEGIN
        is_valid := jwt_is_valid(token, key, algorithms, audience, issuer, leeway)::text;
    EXCEPTION WHEN OTHERS THEN
        GET STACKED DIAGNOSTICS is_valid = RETURNED_SQLSTATE;
        is_valid := 'raised ' || is_valid;
    END;
END
$$;
CREATE FUNCTION pg_temp.verdict(token text, key bytea, algorithms text[] DEFAULT NULL,
                                audience text DEFAULT NULL, issuer text DEFAULT NULL,
                                leeway interval DEFAULT '0',
                                OUT code text, OUT message text, OUT detail text,
                                OUT is_valid text)
LANGUAGE plpgsql AS $$
BEGIN
    BEGIN
        detail := jwt_verify(token, key, algorithms, audience, issuer, leeway)::text;
        code := '00000';
        message := 'accepted';
    EXCEPTION WHEN OTHERS THEN
        GET STACKED DIAGNOSTICS code = RETURNED_SQLSTATE, message = MESSAGE_TEXT,
                                detail = PG_EXCEPTION_DETAIL;
    END;
    BEGIN
        is_valid := jwt_is_valid(token, key, algorithms, audience, issuer, leeway)::text;
    EXCEPTION WHEN OTHERS THEN
        GET STACKED DIAGNOSTICS is_valid = RETURNED_SQLSTATE;
        is_valid := 'raised ' || is_valid;
    END;
END
$$;
--
-- Known answers: tokens made outside the database, one per algorithm.
--
SELECT alg, v.*
FROM (VALUES
    ('HS256', 'eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJleHAiOjQxMDI0NDQ4MDAsInN1YiI6ImFsaWNlIn0.Wrmte1Z-0NgUSOO8eRKsjjiZ22pWMrcTqiUWaxPKOgI'),
    ('HS384', 'eyJhbGciOiJIUzM4NCIsInR5cCI6IkpXVCJ9.eyJleHAiOjQxMDI0NDQ4MDAsInN1YiI6ImFsaWNlIn0.QB_U3RhEBRwcLcYEAUhicMYemgxWQUQusVDuAjH8Q4q2BdB2NVlAlHFP8Egs0MkA'),
    ('HS512', 'eyJhbGciOiJIUzUxMiIsInR5cCI6IkpXVCJ9.eyJleHAiOjQxMDI0NDQ4MDAsInN1YiI6ImFsaWNlIn0.Z5UW3Wo7iqHqMMD-DQxOZV5-5Hh3Wb9LOjDoW3dkZalWYkYNRXjq8o_U1uTLCGTURAo2LPRmK2JlL6GXt6ePhw')
) AS t(alg, token),
LATERAL pg_temp.verdict(token, :'secret') v;
-- RFC 7515 appendix A.1: HS256 with an "oct" JWK; its header holds line
-- breaks, which are MACed as they are.  It expired in 2011, so it needs a
-- leeway (100 years of 360 days reach 2109).
\set rfc_token 'eyJ0eXAiOiJKV1QiLA0KICJhbGciOiJIUzI1NiJ9.eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODAsDQogImh0dHA6Ly9leGFtcGxlLmNvbS9pc19yb290Ijp0cnVlfQ.dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk'
\set rfc_jwk '{"kty":"oct","k":"AyM1SysPpbyDfgZld3umj1qzKObwVMkoqQ-EstJQLr_T-1qS0gZH75aKtMN3Yj0iPS4hcgUuTwjAzZr1Z9CAow"}'
SELECT * FROM pg_temp.verdict(:'rfc_token', :'rfc_jwk', leeway => '100 years');
SELECT * FROM pg_temp.verdict(:'rfc_token', :'rfc_jwk', issuer => 'joe', leeway => '100 years');
SELECT * FROM pg_temp.verdict(:'rfc_token', :'rfc_jwk');
-- the claims come back as jsonb
SELECT jwt_verify(:'rfc_token', :'rfc_jwk', leeway => '100 years') ->> 'iss' AS iss,
       jsonb_typeof(jwt_verify(:'rfc_token', :'rfc_jwk', leeway => '100 years') -> 'http://example.com/is_root') AS is_root;
--
-- Every algorithm, text and bytea keys.
--
SELECT alg, v.*
FROM unnest('{HS256,HS384,HS512}'::text[]) AS alg,
LATERAL pg_temp.verdict(jwt_sign(jsonb_build_object('sub', 'alice', 'alg_used', alg), :'secret', alg), :'secret') v;
SELECT alg, v.*
FROM unnest('{HS256,HS384,HS512}'::text[]) AS alg,
LATERAL pg_temp.verdict(jwt_sign(jsonb_build_object('sub', 'alice', 'alg_used', alg), :'secret', alg),
                        convert_to(:'secret', 'UTF8')) v;
-- a binary secret, and a bytea secret that starts with "{" (never a JWK)
SELECT * FROM pg_temp.verdict(jwt_sign('{"sub":"alice"}', decode(repeat('00ff', 16), 'hex')), decode(repeat('00ff', 16), 'hex'));
SELECT * FROM pg_temp.verdict(jwt_sign('{"sub":"alice"}', decode(repeat('00ff', 16), 'hex')), decode(repeat('00ff', 15) || '00fe', 'hex'));
SELECT * FROM pg_temp.verdict(jwt_sign('{"sub":"alice"}', convert_to('{' || repeat('x', 31), 'UTF8')), convert_to('{' || repeat('x', 31), 'UTF8'));
-- a JWK, and the same secret given plainly, verify the same tokens
SELECT * FROM pg_temp.verdict(jwt_sign('{"sub":"alice"}', :'secret'), pg_temp.jwk(:'secret')::text);
SELECT * FROM pg_temp.verdict(jwt_sign('{"sub":"alice"}', pg_temp.jwk(:'secret', '{"kid":"k1"}')::text), :'secret');
-- many tokens in one query: every other one signed with another secret
SELECT count(*) AS tokens,
       count(*) FILTER (WHERE jwt_is_valid(token, :'secret')) AS valid,
       count(*) FILTER (WHERE jwt_is_valid(token, :'secret') <> (i % 2 = 0)) AS misjudged,
       count(*) FILTER (WHERE i % 2 = 0 AND jwt_verify(token, :'secret') = jsonb_build_object('i', i)) AS verified
FROM (SELECT i, jwt_sign(jsonb_build_object('i', i), CASE WHEN i % 2 = 0 THEN :'secret' ELSE :'other' END,
                         (ARRAY['HS256', 'HS384', 'HS512'])[i % 3 + 1]) AS token
      FROM generate_series(1, 300) AS i) AS t;
-- the key may change from row to row
SELECT count(*) FILTER (WHERE jwt_is_valid(token, key)) AS valid, count(*) AS tokens
FROM (SELECT jwt_sign(jsonb_build_object('i', i), k, 'HS512') AS token, k AS key
      FROM generate_series(1, 100) AS i,
           LATERAL (SELECT left(repeat(md5(i::text), 3), 64) AS k) AS keys) AS t;
--
-- algorithms: NULL allows whatever the key can do; a list narrows it.
-- Naming an algorithm the key cannot do at all is a wrong call.
--
SELECT token_alg, algorithms, v.*
FROM (VALUES
    ('HS256', NULL::text[]),
    ('HS256', '{HS256}'),
    ('HS256', '{HS512,HS384,HS256}'),
    ('HS256', '{HS256,RS256,ES256,EdDSA}'),
    ('HS384', '{HS384}'),
    ('HS512', '{HS512}'),
    ('HS256', '{HS256,HS256}'),
    ('HS256', '{HS384}'),
    ('HS384', '{HS256,HS512}'),
    ('HS256', '{RS256}'),
    ('HS256', '{ES256,RS256}'),
    ('HS256', '{none}'),
    ('HS256', '{HS256,none}'),
    ('HS256', '{NONE}'),
    ('HS256', '{hs256}'),
    ('HS256', '{HS256,HS999}'),
    ('HS256', '{}'),
    ('HS256', '{HS256,NULL}'),
    ('HS256', '{{HS256},{HS384}}')
) AS t(token_alg, algorithms),
LATERAL pg_temp.verdict(jwt_sign('{"sub":"alice"}', :'secret', token_alg), :'secret', algorithms) v;
-- an HS512 list with a 32-byte key: the key is too short for every
-- algorithm asked for
SELECT * FROM pg_temp.verdict(jwt_sign('{"sub":"alice"}', left(:'secret', 32)), left(:'secret', 32), '{HS512}');
SELECT * FROM pg_temp.verdict(jwt_sign('{"sub":"alice"}', left(:'secret', 32)), left(:'secret', 32), '{HS256,HS512}');
--
-- audience: one element of "aud" equal to it; issuer: "iss" equal to it.
--
SELECT claims, audience, issuer, v.*
FROM (VALUES
    ('{"aud":"api"}'::jsonb, 'api', NULL),
    ('{"aud":["api"]}', 'api', NULL),
    ('{"aud":["web","api","cli"]}', 'api', NULL),
    ('{"aud":["web","api","cli"]}', 'cli', NULL),
    ('{"aud":"https://api.example/v1"}', 'https://api.example/v1', NULL),
    ('{"iss":"https://issuer.example"}', NULL, 'https://issuer.example'),
    ('{"aud":"api","iss":"https://issuer.example"}', 'api', 'https://issuer.example'),
    ('{"sub":"alice"}', NULL, NULL),
    ('{"iss":"https://issuer.example"}', NULL, NULL)
) AS t(claims, audience, issuer),
LATERAL pg_temp.verdict(jwt_sign(claims, :'secret'), :'secret', audience => audience, issuer => issuer) v;
-- the comparison is of the decoded strings: JSON escapes do not matter
SELECT * FROM pg_temp.verdict(pg_temp.tok('{"alg":"HS256","typ":"JWT"}', '{"sub":"alice","aud":"\u0061pi","exp":4102444800}', 'gfxkbKP7SPMBep6asXTw95fdMcJl1k034EaEZtyQtfs'), :'secret', audience => 'api');
SELECT * FROM pg_temp.verdict(pg_temp.tok('{"alg":"HS256","typ":"JWT"}', '{"sub":"alice","iss":"https:\/\/issuer.example","exp":4102444800}', 'M9uEsVQ9Ecw5q_dwkfUpWd2INUFStRtTpLXUZc-V56w'), :'secret', issuer => 'https://issuer.example');
--
-- Times: exp, nbf and iat, any finite number; leeway widens the checks.
-- (The claims of tokens made now depend on the time, so they are not shown.)
--
SELECT * FROM pg_temp.verdict(pg_temp.tok('{"alg":"HS256","typ":"JWT"}', '{"sub":"alice","exp":4102444800.5,"nbf":-1e2,"iat":1.5e9}', 'E5Zps0LgcWRzdaw1ZGhXSGYReXf8FCB4lhXrjpHs-OQ'), :'secret');
SELECT rule, v.code, v.message,
       CASE WHEN v.code = '00000' THEN '(the claims)' ELSE v.detail END AS detail, v.is_valid
FROM (VALUES
    ('exp in 30 s', jsonb_build_object('exp', pg_temp.now_plus(30)), '0'::interval),
    ('nbf 30 s ago', jsonb_build_object('nbf', pg_temp.now_plus(-30)), '0'),
    ('iat 30 s ago', jsonb_build_object('iat', pg_temp.now_plus(-30)), '0'),
    ('exp 30 s ago, leeway 1 min', jsonb_build_object('exp', pg_temp.now_plus(-30)), '1 minute'),
    ('nbf in 30 s, leeway 1 min', jsonb_build_object('nbf', pg_temp.now_plus(30)), '1 minute'),
    ('iat in 30 s, leeway 1 min', jsonb_build_object('iat', pg_temp.now_plus(30)), '1 minute'),
    ('exp 2 days ago, leeway 3 days', jsonb_build_object('exp', pg_temp.now_plus(-2 * 86400)), '3 days'),
    ('exp 20 days ago, leeway 1 month', jsonb_build_object('exp', pg_temp.now_plus(-20 * 86400)), '1 mon'),
    ('all three, leeway 1 min', jsonb_build_object('exp', pg_temp.now_plus(-30), 'nbf', pg_temp.now_plus(30), 'iat', pg_temp.now_plus(30)), '1 minute'),
    ('exp 30 s ago, leeway 1 min as 60 s', jsonb_build_object('exp', pg_temp.now_plus(-30)), '60 seconds'),
    ('exp 30 s ago, leeway 29 s', jsonb_build_object('exp', pg_temp.now_plus(-30)), '29 seconds'),
    ('exp 30 s ago, leeway 1 min ago', jsonb_build_object('exp', pg_temp.now_plus(-30)), '-1 minute'),
    ('exp 30 s ago, leeway -1 day +2 min', jsonb_build_object('exp', pg_temp.now_plus(-30)), '-1 day 2 minutes')
) AS t(rule, claims, leeway),
LATERAL pg_temp.verdict(jwt_sign(claims, :'secret'), :'secret', leeway => leeway) v;
--
-- kid: in a JWKS it selects the key by exact match; without a kid every key
-- that may verify the algorithm is tried.
--
SELECT jsonb_build_object('keys', jsonb_build_array(
           pg_temp.jwk(:'secret', '{"kid":"k1"}'),
           pg_temp.jwk(:'other', '{"kid":"k2","alg":"HS512"}'),
           pg_temp.jwk(left(:'other', 48), '{"kid":"k3","use":"enc"}'),
           jsonb_build_object('kty', 'RSA', 'kid', 'r1', 'n', 'sXch', 'e', 'AQAB'),
           jsonb_build_object('kty', 'OKP', 'kid', 'e1', 'crv', 'X25519', 'x', 'TfG6UAFmRyTyBDZwOvyVp6s_h3vGg9OZrxpOTvD8jxY')))::text AS jwks \gset
SELECT rule, v.*
FROM (VALUES
    ('kid k1', jwt_sign('{"sub":"signed by k1"}', pg_temp.jwk(:'secret', '{"kid":"k1"}')::text)),
    ('kid k2, HS512', jwt_sign('{"sub":"signed by k2"}', pg_temp.jwk(:'other', '{"kid":"k2"}')::text, 'HS512')),
    ('no kid, secret of k1', jwt_sign('{"sub":"signed by k1"}', :'secret')),
    ('no kid, secret of k2, HS512', jwt_sign('{"sub":"signed by k2"}', :'other', 'HS512')),
    ('no kid, secret of k2, HS256', jwt_sign('{"sub":"signed by k2"}', :'other', 'HS256')),
    ('no kid, secret of k3', jwt_sign('{"sub":"signed by k3"}', left(:'other', 48))),
    ('kid k2, HS256', jwt_sign('{"sub":"signed by k2"}', pg_temp.jwk(:'other', '{"kid":"k2"}')::text, 'HS256')),
    ('kid k3 (use enc)', jwt_sign('{"sub":"signed by k3"}', pg_temp.jwk(left(:'other', 48), '{"kid":"k3"}')::text)),
    ('kid k1, secret of k2', jwt_sign('{"sub":"signed by k2"}', :'other', 'HS256', '{"kid":"k1"}')),
    ('kid e1 (X25519, kept but unusable)', jwt_sign('{"sub":"signed by k1"}', :'secret', 'HS256', '{"kid":"e1"}')),
    ('kid k4', jwt_sign('{"sub":"signed by k1"}', :'secret', 'HS256', '{"kid":"k4"}'))
) AS t(rule, token),
LATERAL pg_temp.verdict(token, :'jwks') v;
-- a JWKS must hold a key able to verify, at least one key, and distinct kids
SELECT rule, v.*
FROM (VALUES
    ('only a weak RSA and an X25519 key', jsonb_build_object('keys', jsonb_build_array(
        jsonb_build_object('kty', 'RSA', 'kid', 'r1', 'n', 'sXch', 'e', 'AQAB'),
        jsonb_build_object('kty', 'OKP', 'kid', 'e1', 'crv', 'X25519', 'x', 'TfG6UAFmRyTyBDZwOvyVp6s_h3vGg9OZrxpOTvD8jxY')))),
    ('only a key for encryption', jsonb_build_object('keys', jsonb_build_array(pg_temp.jwk(:'secret', '{"use":"enc"}')))),
    ('no key', '{"keys":[]}'),
    ('a kid twice', jsonb_build_object('keys', jsonb_build_array(pg_temp.jwk(:'secret', '{"kid":"k1"}'), pg_temp.jwk(:'other', '{"kid":"k1"}')))),
    ('"keys" not an array', jsonb_build_object('keys', pg_temp.jwk(:'secret'))),
    ('a key not an object', jsonb_build_object('keys', jsonb_build_array('k1')))
) AS t(rule, jwks),
LATERAL pg_temp.verdict(jwt_sign('{"sub":"alice"}', :'secret'), jwks::text) v;
-- a single JWK: its "kid", "alg", "use" and "key_ops" are honoured
SELECT rule, v.*
FROM (VALUES
    ('kid, token without kid', pg_temp.jwk(:'secret', '{"kid":"k1"}'), jwt_sign('{"sub":"alice"}', :'secret')),
    ('kid, token with that kid', pg_temp.jwk(:'secret', '{"kid":"k1"}'), jwt_sign('{"sub":"alice"}', :'secret', 'HS256', '{"kid":"k1"}')),
    ('alg HS384, HS384 token', pg_temp.jwk(:'secret', '{"alg":"HS384"}'), jwt_sign('{"sub":"alice"}', :'secret', 'HS384')),
    ('use sig', pg_temp.jwk(:'secret', '{"use":"sig"}'), jwt_sign('{"sub":"alice"}', :'secret')),
    ('key_ops verify', pg_temp.jwk(:'secret', '{"key_ops":["verify"]}'), jwt_sign('{"sub":"alice"}', :'secret')),
    ('key_ops verify and others', pg_temp.jwk(:'secret', '{"key_ops":["encrypt","verify"]}'), jwt_sign('{"sub":"alice"}', :'secret')),
    ('use enc', pg_temp.jwk(:'secret', '{"use":"enc"}'), jwt_sign('{"sub":"alice"}', :'secret')),
    ('key_ops sign', pg_temp.jwk(:'secret', '{"key_ops":["sign"]}'), jwt_sign('{"sub":"alice"}', :'secret')),
    ('alg RS256', pg_temp.jwk(:'secret', '{"alg":"RS256"}'), jwt_sign('{"sub":"alice"}', :'secret'))
) AS t(rule, jwk, token),
LATERAL pg_temp.verdict(token, jwk::text) v;
--
-- jwt_is_valid: false for a bad token, an error for a wrong call.
--
SELECT jwt_is_valid(jwt_sign('{"sub":"alice"}', :'secret'), :'secret') AS good,
       jwt_is_valid(jwt_sign('{"sub":"alice"}', :'other'), :'secret') AS bad_signature,
       jwt_is_valid('not a token', :'secret') AS not_a_token,
       jwt_is_valid(jwt_sign('{"exp":1}', :'secret'), :'secret') AS expired,
       jwt_is_valid(jwt_sign('{"aud":"web"}', :'secret'), :'secret', audience => 'api') AS wrong_audience;
SELECT * FROM pg_temp.verdict('not a token', 'short');
SELECT * FROM pg_temp.verdict('not a token', :'secret', leeway => '-1 second');
SELECT * FROM pg_temp.verdict('not a token', :'secret', audience => '');
SELECT * FROM pg_temp.verdict('not a token', :'secret', issuer => '');
