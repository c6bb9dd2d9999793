--
-- issuers: session tokens from identity providers.  A token whose iss names
-- a registered issuer (jwt_issuers: its name or an alias, exactly) is
-- verified with that issuer's keys only, against its audiences and
-- algorithms; every other token takes the registry path as before, with
-- jwt.issuer, jwt.audience and jwt.algorithms.  jwt.leeway,
-- jwt.required_claims and jwt.max_age apply to both.  The keys are put
-- straight into jwt_issuers.jwks here, as a fetch stores them.  Then
-- jwt_issuer_jwks(), and the scopes: jwt_scopes() and jwt_has_scope() on
-- tokens shaped like those of Auth0, Keycloak, Google, Entra, Okta and
-- Supabase, through row-level security policies.
--
DELETE FROM jwt_keys;
DELETE FROM jwt_revocations;
DELETE FROM jwt_issuers;
\set secret 'issuers-secret-issuers-secret-issuers-secret-01'
-- seconds since 1970 at the start of this statement, plus an offset
CREATE FUNCTION pg_temp.now_plus(secs integer) RETURNS bigint
AS $$ SELECT floor(extract(epoch FROM statement_timestamp()))::bigint + secs $$
LANGUAGE sql STABLE STRICT;
-- what jwt_claims() makes of a token: its sub, or the error
CREATE FUNCTION pg_temp.session(token text, OUT code text, OUT sub text,
                                OUT detail text, OUT hint text)
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM set_config('jwt.token', token, true);
    sub := jwt_claims() ->> 'sub';
    code := '00000';
EXCEPTION WHEN OTHERS THEN
    GET STACKED DIAGNOSTICS code = RETURNED_SQLSTATE, detail = PG_EXCEPTION_DETAIL,
                            hint = PG_EXCEPTION_HINT;
END
$$;
-- base64url without padding, and a token over any payload text
CREATE FUNCTION pg_temp.b64url(bytea) RETURNS text
AS $$ SELECT translate(rtrim(replace(encode($1, 'base64'), E'\n', ''), '='), '+/', '-_') $$
LANGUAGE sql IMMUTABLE STRICT;
CREATE FUNCTION pg_temp.raw(payload text, key jsonb, alg text) RETURNS text
AS $$ SELECT jws_sign(convert_to(payload, 'UTF8'), key, alg) $$
LANGUAGE sql VOLATILE STRICT;
-- the keys: each issuer's own, with kids; B publishes the same kid as A
CREATE TEMP TABLE k AS
SELECT name, jwt_generate_key(alg) - 'kid' || jsonb_build_object('kid', kid) AS private, alg
FROM (VALUES ('a', 'ES256', 'k1'), ('a2', 'RS256', 'k2'), ('b', 'ES256', 'k1'),
             ('google', 'RS256', 'g1'), ('entra', 'RS256', 'e1'), ('auth0', 'RS256', 'a1'),
             ('keycloak', 'RS256', 'kc1'), ('supabase', 'ES256', 's1'), ('okta', 'ES256', 'o1'),
             ('reg', 'ES256', 'k1'), ('reg2', 'ES256', 'r2')) AS v(name, alg, kid);
CREATE FUNCTION pg_temp.jwks(VARIADIC names text[]) RETURNS jsonb
AS $$ SELECT jsonb_build_object('keys', jsonb_agg(jwt_public_jwk(private) ORDER BY name))
      FROM k WHERE name = ANY (names) $$
LANGUAGE sql STABLE;
CREATE FUNCTION pg_temp.tok(key text, claims jsonb) RETURNS text
AS $$ SELECT jwt_sign(claims, private, alg) FROM k WHERE name = key $$
LANGUAGE sql VOLATILE;
-- an issuer row as jwt_add_issuer and a fetch leave it
CREATE FUNCTION pg_temp.add_issuer(issuer text, audience text[], jwks jsonb,
                                   algorithms text[] DEFAULT NULL, aliases text[] DEFAULT '{}')
RETURNS void
AS $$ INSERT INTO jwt_issuers (issuer, aliases, audience, algorithms, jwks, jwks_fetched_at, added_at)
      VALUES (issuer, aliases, audience, algorithms, jwks, now(), now()) $$
LANGUAGE sql;
\set exp 4102444800
-- the registry: an ES256 key with the kid A and B publish too
SELECT jwt_add_key(jwt_public_jwk(private), 'ES256', 'k1') FROM k WHERE name = 'reg';
SELECT jwt_add_key(jwt_public_jwk(private), 'ES256', 'r2') FROM k WHERE name = 'reg2';
SELECT jwt_add_key(:'secret', 'HS256', 'hs');
--
-- No issuer registered: the registry path, as before.
--
SELECT code, sub, detail FROM pg_temp.session(pg_temp.tok('reg', '{"sub":"r","iss":"https://a.example/","exp":4102444800}'));
SELECT pg_temp.add_issuer('https://a.example/', '{api-a}', pg_temp.jwks('a', 'a2'));
SELECT pg_temp.add_issuer('https://b.example', '{api-b,https://b.example/api}', pg_temp.jwks('b'));
--
-- Routing by iss.  Each line: what the token is, and what jwt_claims() says.
--
SELECT label, s.code, s.sub, s.detail
FROM (VALUES
    (1, 'A''s token, A''s key', pg_temp.tok('a', jsonb_build_object('sub', 'a1', 'iss', 'https://a.example/', 'aud', 'api-a', 'exp', :exp))),
    (2, 'A''s token, A''s second key (RS256)', pg_temp.tok('a2', jsonb_build_object('sub', 'a2', 'iss', 'https://a.example/', 'aud', 'api-a', 'exp', :exp))),
    (3, 'B''s token, B''s key, its second audience', pg_temp.tok('b', jsonb_build_object('sub', 'b1', 'iss', 'https://b.example', 'aud', 'https://b.example/api', 'exp', :exp))),
    (4, 'B''s token, aud an array with its first audience', pg_temp.tok('b', jsonb_build_object('sub', 'b2', 'iss', 'https://b.example', 'aud', jsonb_build_array('x', 'api-b'), 'exp', :exp))),
    (5, 'A''s token signed with B''s key, the same kid', pg_temp.tok('b', jsonb_build_object('sub', 'a3', 'iss', 'https://a.example/', 'aud', 'api-a', 'exp', :exp))),
    (6, 'A''s token signed with the registry''s key, the same kid', pg_temp.tok('reg', jsonb_build_object('sub', 'a4', 'iss', 'https://a.example/', 'aud', 'api-a', 'exp', :exp))),
    (7, 'A''s token signed with the registry''s other key (its kid)', pg_temp.tok('reg2', jsonb_build_object('sub', 'a5', 'iss', 'https://a.example/', 'aud', 'api-a', 'exp', :exp))),
    (8, 'A''s token signed with the registry''s HS256 secret', jwt_sign(jsonb_build_object('sub', 'a6', 'iss', 'https://a.example/', 'aud', 'api-a', 'exp', :exp), :'secret', 'HS256', '{"kid":"hs"}')),
    (9, 'B''s token with A''s audience', pg_temp.tok('b', jsonb_build_object('sub', 'b3', 'iss', 'https://b.example', 'aud', 'api-a', 'exp', :exp))),
    (10, 'B''s token without aud', pg_temp.tok('b', jsonb_build_object('sub', 'b4', 'iss', 'https://b.example', 'exp', :exp))),
    (11, 'A''s token with iss in another case', pg_temp.tok('a', jsonb_build_object('sub', 'a7', 'iss', 'https://A.example/', 'aud', 'api-a', 'exp', :exp))),
    (12, 'A''s token, iss without the trailing slash', pg_temp.tok('a', jsonb_build_object('sub', 'a8', 'iss', 'https://a.example', 'aud', 'api-a', 'exp', :exp))),
    (13, 'A''s token, iss with escaped slashes', pg_temp.raw('{"sub":"a9","iss":"https:\/\/a.example\/","aud":"api-a","exp":4102444800}', (SELECT private FROM k WHERE name = 'a'), 'ES256')),
    (14, 'A''s key, iss a number: not routed', pg_temp.raw('{"sub":"a10","iss":1,"aud":"api-a","exp":4102444800}', (SELECT private FROM k WHERE name = 'a'), 'ES256')),
    (15, 'A''s key, iss twice: not routed', pg_temp.raw('{"sub":"a11","iss":"https://a.example/","iss":"x","aud":"api-a","exp":4102444800}', (SELECT private FROM k WHERE name = 'a'), 'ES256')),
    (16, 'the registry''s key, iss twice, one of them A', pg_temp.raw('{"sub":"r2","iss":"x","iss":"https://a.example/","exp":4102444800}', (SELECT private FROM k WHERE name = 'reg'), 'ES256')),
    (17, 'the registry''s token, iss of no issuer', pg_temp.tok('reg', jsonb_build_object('sub', 'r3', 'iss', 'https://c.example/', 'exp', :exp))),
    (18, 'the registry''s token, no iss', pg_temp.tok('reg', jsonb_build_object('sub', 'r4', 'exp', :exp))),
    (19, 'A''s key, a token naming no issuer', pg_temp.tok('a', jsonb_build_object('sub', 'a12', 'iss', 'https://c.example/', 'exp', :exp))),
    (20, 'A''s token, a kid A does not publish', jwt_sign(jsonb_build_object('sub', 'a13', 'iss', 'https://a.example/', 'aud', 'api-a', 'exp', :exp), (SELECT private - 'kid' || '{"kid":"k9"}' FROM k WHERE name = 'a'), 'ES256')),
    (21, 'A''s token without kid (one key of A can do ES256)', jwt_sign(jsonb_build_object('sub', 'a14', 'iss', 'https://a.example/', 'aud', 'api-a', 'exp', :exp), (SELECT private - 'kid' FROM k WHERE name = 'a'), 'ES256')),
    (22, 'A''s token, alg none', pg_temp.b64url('{"alg":"none"}') || '.' || pg_temp.b64url('{"sub":"a15","iss":"https://a.example/","aud":"api-a","exp":4102444800}') || '.'),
    (23, 'A''s token, a padded signature', pg_temp.tok('a', jsonb_build_object('sub', 'a16', 'iss', 'https://a.example/', 'aud', 'api-a', 'exp', :exp)) || '='),
    (24, 'A''s token, expired', pg_temp.tok('a', jsonb_build_object('sub', 'a17', 'iss', 'https://a.example/', 'aud', 'api-a', 'exp', 1000000000))),
    (25, 'A''s token, no exp (jwt.required_claims)', pg_temp.tok('a', jsonb_build_object('sub', 'a18', 'iss', 'https://a.example/', 'aud', 'api-a'))),
    (26, 'A''s token, the payload of another', split_part(pg_temp.tok('a', jsonb_build_object('sub', 'a19', 'iss', 'https://a.example/', 'aud', 'api-a', 'exp', :exp)), '.', 1) || '.' || pg_temp.b64url('{"sub":"admin","iss":"https://a.example/","aud":"api-a","exp":4102444800}') || '.' || split_part(pg_temp.tok('a', jsonb_build_object('sub', 'a19', 'iss', 'https://a.example/', 'aud', 'api-a', 'exp', :exp)), '.', 3))
) AS t(ord, label, token),
LATERAL pg_temp.session(token) s
ORDER BY ord;
-- a routed token's claims are checked again at each statement against its
-- issuer's rules (here with jwt.audience empty, which would refuse its aud)
SELECT set_config('jwt.token', pg_temp.tok('a', jsonb_build_object('sub', 'again', 'iss', 'https://a.example/', 'aud', 'api-a', 'exp', :exp)), false) IS NOT NULL AS token_set;
SELECT jwt_claim('sub');
SELECT jwt_claim('sub'), jwt_claim('aud');
RESET jwt.token;
--
-- The registry's policy settings are the registry's: jwt.audience,
-- jwt.issuer and jwt.algorithms do not apply to a routed token, and a
-- registry token is held to them as before.  jwt.leeway, jwt.max_age and
-- jwt.required_claims apply to every token.
--
BEGIN;
SET LOCAL jwt.audience = 'registry-api';
SET LOCAL jwt.issuer = 'https://login.example/';
SET LOCAL jwt.algorithms = 'HS256';
SELECT label, s.code, s.sub, s.detail
FROM (VALUES
    (1, 'A''s token', pg_temp.tok('a', jsonb_build_object('sub', 'a1', 'iss', 'https://a.example/', 'aud', 'api-a', 'exp', :exp))),
    (2, 'a registry HS256 token meeting the settings', jwt_sign(jsonb_build_object('sub', 'r1', 'iss', 'https://login.example/', 'aud', 'registry-api', 'exp', :exp), :'secret', 'HS256', '{"kid":"hs"}')),
    (3, 'a registry ES256 token (jwt.algorithms)', pg_temp.tok('reg2', jsonb_build_object('sub', 'r2', 'iss', 'https://login.example/', 'aud', 'registry-api', 'exp', :exp))),
    (4, 'a registry token naming A''s audience', jwt_sign(jsonb_build_object('sub', 'r3', 'iss', 'https://login.example/', 'aud', 'api-a', 'exp', :exp), :'secret', 'HS256', '{"kid":"hs"}'))
) AS t(ord, label, token),
LATERAL pg_temp.session(token) s
ORDER BY ord;
SET LOCAL jwt.leeway = 30;
SET LOCAL jwt.max_age = 60;
SET LOCAL jwt.required_claims = 'exp, jti';
SELECT label, s.code, s.sub, s.detail
FROM (VALUES
    (1, 'A''s token, expired 10 s ago (jwt.leeway 30)', pg_temp.tok('a', jsonb_build_object('sub', 'a1', 'jti', 'j1', 'iss', 'https://a.example/', 'aud', 'api-a', 'iat', pg_temp.now_plus(-20), 'exp', pg_temp.now_plus(-10)))),
    (2, 'A''s token, expired 60 s ago', pg_temp.tok('a', jsonb_build_object('sub', 'a2', 'jti', 'j2', 'iss', 'https://a.example/', 'aud', 'api-a', 'iat', pg_temp.now_plus(-70), 'exp', pg_temp.now_plus(-60)))),
    (3, 'A''s token, issued 200 s ago (jwt.max_age 60)', pg_temp.tok('a', jsonb_build_object('sub', 'a3', 'jti', 'j3', 'iss', 'https://a.example/', 'aud', 'api-a', 'iat', pg_temp.now_plus(-200), 'exp', :exp))),
    (4, 'A''s token without jti (jwt.required_claims)', pg_temp.tok('a', jsonb_build_object('sub', 'a4', 'iss', 'https://a.example/', 'aud', 'api-a', 'iat', pg_temp.now_plus(-5), 'exp', :exp)))
) AS t(ord, label, token),
LATERAL pg_temp.session(token) s
ORDER BY ord;
ROLLBACK;
-- revocation by jti applies to every token
SELECT jwt_revoke('revoked-at-a', NULL);
SELECT code, sub, detail FROM pg_temp.session(pg_temp.tok('a', jsonb_build_object('sub', 'a1', 'jti', 'revoked-at-a', 'iss', 'https://a.example/', 'aud', 'api-a', 'exp', :exp)));
DELETE FROM jwt_revocations;
--
-- Aliases: the other spellings of an issuer (Google's accounts.google.com).
--
SELECT pg_temp.add_issuer('https://accounts.google.com', '{client-1.apps.googleusercontent.com}',
                          pg_temp.jwks('google'), '{RS256}', '{accounts.google.com}');
SELECT label, s.code, s.sub, s.detail
FROM (VALUES
    (1, 'iss the issuer', pg_temp.tok('google', jsonb_build_object('sub', 'g1', 'iss', 'https://accounts.google.com', 'aud', 'client-1.apps.googleusercontent.com', 'exp', :exp))),
    (2, 'iss the alias', pg_temp.tok('google', jsonb_build_object('sub', 'g2', 'iss', 'accounts.google.com', 'aud', 'client-1.apps.googleusercontent.com', 'exp', :exp))),
    (3, 'iss with a trailing slash: neither', pg_temp.tok('google', jsonb_build_object('sub', 'g3', 'iss', 'accounts.google.com/', 'aud', 'client-1.apps.googleusercontent.com', 'exp', :exp))),
    (4, 'the alias, A''s key', pg_temp.tok('a', jsonb_build_object('sub', 'g4', 'iss', 'accounts.google.com', 'aud', 'client-1.apps.googleusercontent.com', 'exp', :exp)))
) AS t(ord, label, token),
LATERAL pg_temp.session(token) s
ORDER BY ord;
--
-- An issuer's algorithms; an issuer whose tokens carry no aud.
--
UPDATE jwt_issuers SET algorithms = '{ES256}' WHERE issuer = 'https://a.example/';
SELECT pg_temp.add_issuer('https://noaud.example', NULL, pg_temp.jwks('okta'));
SELECT label, s.code, s.sub, s.detail
FROM (VALUES
    (1, 'A''s RS256 token, A now ES256 only', pg_temp.tok('a2', jsonb_build_object('sub', 'a1', 'iss', 'https://a.example/', 'aud', 'api-a', 'exp', :exp))),
    (2, 'A''s ES256 token', pg_temp.tok('a', jsonb_build_object('sub', 'a2', 'iss', 'https://a.example/', 'aud', 'api-a', 'exp', :exp))),
    (3, 'no aud, none expected', pg_temp.tok('okta', jsonb_build_object('sub', 'n1', 'iss', 'https://noaud.example', 'exp', :exp))),
    (4, 'an aud, none expected', pg_temp.tok('okta', jsonb_build_object('sub', 'n2', 'iss', 'https://noaud.example', 'aud', 'x', 'exp', :exp)))
) AS t(ord, label, token),
LATERAL pg_temp.session(token) s
ORDER BY ord;
UPDATE jwt_issuers SET algorithms = NULL WHERE issuer = 'https://a.example/';
--
-- A change to an issuer's keys is seen from the next statement: a key
-- added verifies, a key removed stops verifying.
--
SELECT pg_temp.tok('a2', jsonb_build_object('sub', 'rot', 'iss', 'https://a.example/', 'aud', 'api-a', 'exp', :exp)) AS rot \gset
UPDATE jwt_issuers SET jwks = pg_temp.jwks('a') WHERE issuer = 'https://a.example/';
SELECT code, sub, detail, hint FROM pg_temp.session(:'rot');
UPDATE jwt_issuers SET jwks = pg_temp.jwks('a', 'a2') WHERE issuer = 'https://a.example/';
SELECT code, sub, detail FROM pg_temp.session(:'rot');
--
-- Issuers without a usable key set: never fetched, or holding what an
-- issuer's set may not (a secret, an unknown algorithm).  Their tokens are
-- refused, never passed to the registry.  (The WARNINGs the load gives for
-- each are checked by test/issuers_session.py.)
--
SET client_min_messages = error;
SELECT pg_temp.add_issuer('https://unfetched.example', NULL, NULL);
SELECT pg_temp.add_issuer('https://secret.example', NULL,
                          jsonb_build_object('keys', jsonb_build_array(jwt_generate_key('HS256'))));
SELECT pg_temp.add_issuer('https://badalg.example', NULL, pg_temp.jwks('reg'), '{RS256,XS999}');
SELECT pg_temp.add_issuer('https://hmacalg.example', NULL, pg_temp.jwks('reg'), '{HS256}');
-- D claims A's name as an alias: tokens naming it are refused
SELECT pg_temp.add_issuer('https://d.example', NULL, pg_temp.jwks('reg'), NULL, '{https://a.example/}');
SELECT label, s.code, s.sub, s.detail, s.hint
FROM (VALUES
    (1, 'never fetched, with a kid', pg_temp.tok('reg', jsonb_build_object('sub', 'u1', 'iss', 'https://unfetched.example', 'exp', :exp))),
    (2, 'never fetched, no kid', jwt_sign(jsonb_build_object('sub', 'u2', 'iss', 'https://unfetched.example', 'exp', :exp), (SELECT private - 'kid' FROM k WHERE name = 'reg'), 'ES256')),
    (3, 'a secret in the set', pg_temp.tok('reg', jsonb_build_object('sub', 'u3', 'iss', 'https://secret.example', 'exp', :exp))),
    (4, 'a secret in the set, an HS256 token', jwt_sign(jsonb_build_object('sub', 'u4', 'iss', 'https://secret.example', 'exp', :exp), :'secret', 'HS256', '{"kid":"hs"}')),
    (5, 'an unknown algorithm', pg_temp.tok('reg', jsonb_build_object('sub', 'u5', 'iss', 'https://badalg.example', 'exp', :exp))),
    (6, 'HS256 only', pg_temp.tok('reg', jsonb_build_object('sub', 'u6', 'iss', 'https://hmacalg.example', 'exp', :exp))),
    (7, 'a name two issuers claim', pg_temp.tok('a', jsonb_build_object('sub', 'u7', 'iss', 'https://a.example/', 'aud', 'api-a', 'exp', :exp))),
    (8, 'a name two issuers claim, signed by the other', pg_temp.tok('reg', jsonb_build_object('sub', 'u8', 'iss', 'https://a.example/', 'exp', :exp))),
    (9, 'a name two issuers claim, alg none', pg_temp.b64url('{"alg":"none"}') || '.' || pg_temp.b64url('{"sub":"u9","iss":"https://a.example/"}') || '.')
) AS t(ord, label, token),
LATERAL pg_temp.session(token) s
ORDER BY ord;
SELECT issuer, jsonb_path_query_array(jwt_issuer_jwks(issuer), '$.keys[*].kid') AS kids FROM jwt_issuers
WHERE issuer IN ('https://unfetched.example', 'https://secret.example', 'https://badalg.example', 'https://d.example')
ORDER BY issuer;
DELETE FROM jwt_issuers WHERE issuer IN ('https://unfetched.example', 'https://secret.example',
                                         'https://badalg.example', 'https://hmacalg.example', 'https://d.example');
RESET client_min_messages;
--
-- An empty registry: a token naming an issuer still verifies; one naming
-- none says that it names none.
--
CREATE TEMP TABLE saved_keys AS SELECT * FROM jwt_keys;
DELETE FROM jwt_keys;
SELECT label, s.code, s.sub, s.detail
FROM (VALUES
    (1, 'A''s token', pg_temp.tok('a', jsonb_build_object('sub', 'a1', 'iss', 'https://a.example/', 'aud', 'api-a', 'exp', :exp))),
    (2, 'a token naming no issuer', pg_temp.tok('reg', jsonb_build_object('sub', 'r1', 'iss', 'https://c.example/', 'exp', :exp)))
) AS t(ord, label, token),
LATERAL pg_temp.session(token) s
ORDER BY ord;
INSERT INTO jwt_keys SELECT * FROM saved_keys;
-- a dropped issuer's tokens take the registry path
DELETE FROM jwt_issuers WHERE issuer = 'https://b.example';
SELECT code, sub, detail FROM pg_temp.session(pg_temp.tok('b', jsonb_build_object('sub', 'b1', 'iss', 'https://b.example', 'aud', 'api-b', 'exp', :exp)));
SELECT pg_temp.add_issuer('https://b.example', '{api-b,https://b.example/api}', pg_temp.jwks('b'));
--
-- jwt_issuer_jwks(issuer): the public keys the issuer's tokens are verified
-- with, by its name or an alias; NULL for a name of no issuer.
--
SELECT name, jsonb_path_query_array(jwt_issuer_jwks(name), '$.keys[*].kid') AS kids,
       jsonb_path_query_array(jwt_issuer_jwks(name), '$.keys[*].kty') AS kty,
       jwt_issuer_jwks(name) @? '$.keys[*].d' AS has_private
FROM unnest(ARRAY['https://a.example/', 'https://b.example', 'https://accounts.google.com',
                  'accounts.google.com', 'https://a.example', 'nobody', '']) WITH ORDINALITY AS u(name, ord)
ORDER BY ord;
SELECT jwt_issuer_jwks(NULL) IS NULL AS null_name;
-- jwt_verify with it, outside the session path
SELECT jwt_verify(pg_temp.tok('b', jsonb_build_object('sub', 'b9', 'iss', 'https://b.example', 'aud', 'api-b', 'exp', :exp)),
                  jwt_issuer_jwks('https://b.example'), algorithms => '{ES256}',
                  audience => 'api-b', issuer => 'https://b.example') ->> 'sub' AS verified;
SELECT jwt_is_valid(pg_temp.tok('a', jsonb_build_object('sub', 'a9', 'iss', 'https://b.example', 'aud', 'api-b', 'exp', :exp)),
                    jwt_issuer_jwks('https://b.example'), audience => 'api-b') AS a_key_for_b;
--
-- Scopes: the first of scope (split at spaces), scp (a string or an array),
-- permissions (an array) that the token has decides.
--
SELECT pg_temp.add_issuer('https://tenant.auth0.com/', '{https://api.example.com}', pg_temp.jwks('auth0'));
SELECT pg_temp.add_issuer('https://sso.example.com/realms/shop', '{account,shop-api}', pg_temp.jwks('keycloak'));
SELECT pg_temp.add_issuer('https://login.microsoftonline.com/11111111-2222-3333-4444-555555555555/v2.0',
                          '{api://shop}', pg_temp.jwks('entra'), '{RS256}',
                          '{https://sts.windows.net/11111111-2222-3333-4444-555555555555/}');
SELECT pg_temp.add_issuer('https://dev-1.okta.com/oauth2/default', '{api://default}', pg_temp.jwks('okta'));
SELECT pg_temp.add_issuer('https://abcdefghijklmnop.supabase.co/auth/v1', '{authenticated}', pg_temp.jwks('supabase'), '{ES256}');
CREATE TEMP TABLE shapes AS
SELECT * FROM (VALUES
    (1, 'auth0', pg_temp.tok('auth0', jsonb_build_object('iss', 'https://tenant.auth0.com/', 'sub', 'auth0|u1',
        'aud', jsonb_build_array('https://api.example.com', 'https://tenant.auth0.com/userinfo'), 'azp', 'client-1',
        'scope', 'openid profile read:orders', 'permissions', jsonb_build_array('read:orders', 'write:orders'),
        'iat', pg_temp.now_plus(-10), 'exp', :exp))),
    (2, 'auth0 (permissions only)', pg_temp.tok('auth0', jsonb_build_object('iss', 'https://tenant.auth0.com/', 'sub', 'auth0|u2',
        'aud', 'https://api.example.com', 'permissions', jsonb_build_array('read:orders', 'write:orders'), 'exp', :exp))),
    (3, 'keycloak', pg_temp.tok('keycloak', jsonb_build_object('iss', 'https://sso.example.com/realms/shop', 'sub', 'kc-u3',
        'aud', 'account', 'typ', 'Bearer', 'azp', 'shop-web', 'scope', 'openid email profile read:orders',
        'realm_access', jsonb_build_object('roles', jsonb_build_array('offline_access', 'shop-admin')), 'exp', :exp))),
    (4, 'google', pg_temp.tok('google', jsonb_build_object('iss', 'https://accounts.google.com', 'sub', '1234567890',
        'aud', 'client-1.apps.googleusercontent.com', 'email', 'u4@example.com', 'email_verified', true, 'exp', :exp))),
    (5, 'entra', pg_temp.tok('entra', jsonb_build_object('iss', 'https://login.microsoftonline.com/11111111-2222-3333-4444-555555555555/v2.0',
        'sub', 'entra-u5', 'aud', 'api://shop', 'tid', '11111111-2222-3333-4444-555555555555', 'oid', 'oid-u5',
        'scp', 'Orders.Read Orders.Write', 'roles', jsonb_build_array('Shop.Admin'), 'ver', '2.0', 'exp', :exp))),
    (6, 'entra v1 (sts.windows.net)', pg_temp.tok('entra', jsonb_build_object('iss', 'https://sts.windows.net/11111111-2222-3333-4444-555555555555/',
        'sub', 'entra-u6', 'aud', 'api://shop', 'scp', 'Orders.Read', 'ver', '1.0', 'exp', :exp))),
    (7, 'okta', pg_temp.tok('okta', jsonb_build_object('iss', 'https://dev-1.okta.com/oauth2/default', 'sub', 'okta-u7',
        'aud', 'api://default', 'cid', 'client-7', 'scp', jsonb_build_array('openid', 'orders:read'), 'exp', :exp))),
    (8, 'supabase authenticated', pg_temp.tok('supabase', jsonb_build_object('iss', 'https://abcdefghijklmnop.supabase.co/auth/v1',
        'sub', 'aaaaaaaa-0000-0000-0000-000000000008', 'aud', 'authenticated', 'role', 'authenticated',
        'aal', 'aal1', 'session_id', 's-8', 'is_anonymous', false, 'exp', :exp))),
    (9, 'supabase anon (the registry, HS256)', jwt_sign(jsonb_build_object('iss', 'supabase', 'ref', 'abcdefghijklmnop',
        'role', 'anon', 'iat', pg_temp.now_plus(-10), 'exp', :exp), :'secret', 'HS256')),
    (10, 'scope empty, permissions given', pg_temp.tok('auth0', jsonb_build_object('iss', 'https://tenant.auth0.com/', 'sub', 'u10',
        'aud', 'https://api.example.com', 'scope', '', 'permissions', jsonb_build_array('read:orders'), 'exp', :exp))),
    (11, 'scope null, scp given', pg_temp.tok('okta', jsonb_build_object('iss', 'https://dev-1.okta.com/oauth2/default', 'sub', 'u11',
        'aud', 'api://default', 'scope', NULL, 'scp', 'a  b ', 'exp', :exp))),
    (12, 'scope a number', pg_temp.tok('okta', jsonb_build_object('iss', 'https://dev-1.okta.com/oauth2/default', 'sub', 'u12',
        'aud', 'api://default', 'scope', 5, 'scp', 'a', 'exp', :exp))),
    (13, 'scope an array, some elements strings', pg_temp.tok('okta', jsonb_build_object('iss', 'https://dev-1.okta.com/oauth2/default', 'sub', 'u13',
        'aud', 'api://default', 'scope', jsonb_build_array('a b', 1, 'c', NULL, ''), 'exp', :exp)))
) AS v(ord, shape, token);
-- Supabase: the anon key takes the registry path, with jwt.issuer
SET jwt.issuer = 'supabase';
SELECT ord, shape, s.code, s.sub, s.detail,
       (SELECT jwt_scopes() FROM (SELECT set_config('jwt.token', token, true)) x) AS scopes
FROM shapes, LATERAL pg_temp.session(token) s
ORDER BY ord;
--
-- Policies on jwt_claim and jwt_has_scope, read by an ordinary role.
--
CREATE ROLE jwt_issuers_reader NOLOGIN;
CREATE TABLE orders (id int PRIMARY KEY, tenant text NOT NULL, owner text NOT NULL);
INSERT INTO orders VALUES (1, 'shop', 'entra-u5'), (2, 'shop', 'entra-u5'), (3, 'shop', 'auth0|u2'),
    (4, 'shop', '1234567890'), (5, 'shop', 'aaaaaaaa-0000-0000-0000-000000000008'), (6, 'shop', 'kc-u3'),
    (7, 'shop', 'someone'), (8, 'public', 'someone');
ALTER TABLE orders ENABLE ROW LEVEL SECURITY;
-- readers with the scope see every order, others their own; Supabase's
-- anon key the public ones
CREATE POLICY by_scope ON orders FOR SELECT TO jwt_issuers_reader
    USING (jwt_has_scope('read:orders') OR jwt_has_scope('Orders.Read') OR jwt_has_scope('orders:read')
           OR owner = jwt_claim('sub')
           OR (jwt_claim('role') = 'anon' AND tenant = 'public'));
-- only the Entra role Shop.Admin, or a Keycloak realm role, may update
CREATE POLICY by_role ON orders FOR UPDATE TO jwt_issuers_reader
    USING (jwt_claims() -> 'roles' ? 'Shop.Admin' OR jwt_claims() -> 'realm_access' -> 'roles' ? 'shop-admin');
GRANT SELECT, UPDATE ON orders TO jwt_issuers_reader;
CREATE FUNCTION pg_temp.visible(token text) RETURNS text
LANGUAGE plpgsql AS $$
DECLARE r text;
BEGIN
    PERFORM set_config('jwt.token', token, true);
    SET LOCAL ROLE jwt_issuers_reader;
    SELECT coalesce(string_agg(id::text, ',' ORDER BY id), '-') INTO r FROM orders;
    WITH u AS (UPDATE orders SET tenant = tenant RETURNING id) SELECT r || ' / updatable ' || count(*) INTO r FROM u;
    RESET ROLE;
    RETURN r;
EXCEPTION WHEN OTHERS THEN
    RETURN SQLSTATE || ' ' || SQLERRM;
END
$$;
SELECT ord, shape, pg_temp.visible(token) FROM shapes ORDER BY ord;
-- no token: NULL scopes, and no row
SELECT jwt_scopes() IS NULL AS scopes_null, jwt_has_scope('read:orders') IS NULL AS has_null;
SELECT pg_temp.visible('');
--
-- jwt_has_scope per row: the scope asked may change from row to row.
--
BEGIN;
SELECT set_config('jwt.token', token, true) IS NOT NULL AS token_set FROM shapes WHERE ord = 1;
SELECT s, jwt_has_scope(s) AS has
FROM unnest(ARRAY['read:orders', 'openid', 'write:orders', 'profile', 'read:orders', 'READ:ORDERS',
                  'read', 'x']) WITH ORDINALITY AS u(s, ord)
ORDER BY ord;
SELECT jwt_has_scope(NULL) IS NULL AS null_scope;
SAVEPOINT s;
SELECT jwt_has_scope('');
ROLLBACK TO s;
SELECT jwt_has_scope('read:orders write:orders');
ROLLBACK;
-- the session token changes between statements of a transaction
BEGIN;
SELECT set_config('jwt.token', token, true) IS NOT NULL AS token_set FROM shapes WHERE ord = 5;
SELECT jwt_has_scope('Orders.Write'), jwt_scopes();
SELECT set_config('jwt.token', token, true) IS NOT NULL AS token_set FROM shapes WHERE ord = 6;
SELECT jwt_has_scope('Orders.Write'), jwt_scopes();
SELECT set_config('jwt.token', 'not-a-token', true) IS NOT NULL AS token_set;
SAVEPOINT s;
SELECT jwt_has_scope('Orders.Write');
ROLLBACK TO s;
SELECT jwt_scopes();
ROLLBACK;
DROP TABLE orders;
DROP ROLE jwt_issuers_reader;
RESET jwt.issuer;
-- without jwt.token, the unverified claims of a compatibility switch have
-- scopes too, and a call site follows them from row to row (here
-- PostGraphile's jwt.claims.* settings; no ORDER BY, which would move the
-- volatile set_config() above the sort)
BEGIN;
SET LOCAL jwt.fallback_claims_settings = on;
SELECT v, set_config('jwt.claims.scope', v, true) IS NOT NULL AS set, jwt_has_scope('b') AS has_b,
       jwt_scopes() AS scopes
FROM (VALUES ('a b'), ('a'), ('b c'), ('')) AS t(v);
ROLLBACK;
--
-- jwt_logout() ends the database's own logins only: an identity provider's
-- token naming the same sid ends none.
--
SELECT (jwt_login('{"sub":"lou"}') ->> 'sid') AS lou_sid \gset
SELECT set_config('jwt.token', pg_temp.tok('okta', jsonb_build_object('iss', 'https://dev-1.okta.com/oauth2/default',
       'aud', 'api://default', 'sub', 'lou', 'sid', :'lou_sid', 'exp', :exp)), false) IS NOT NULL AS token_set;
SELECT jwt_claim('sub'), jwt_claim('sid') = :'lou_sid' AS same_sid, jwt_logout() AS ended;
SELECT ended_at IS NULL AS still_open FROM jwt_logins WHERE sid = :'lou_sid';
RESET jwt.token;
DELETE FROM jwt_refresh_tokens;
DELETE FROM jwt_logins;
DELETE FROM jwt_issuers;
DELETE FROM jwt_keys;
