--
-- issue_defaults: jwt_issue() fills in what jwt_login()'s access tokens
-- carry where its claims lack it: iat (now), exp (iat +
-- jwt.access_token_lifetime), a random jti, and iss and aud from
-- jwt.issuer and jwt.audience when those are set.  A claim given is kept
-- as given.  The jti is random, so the checks are booleans over it.
--
\set secret 'issue-defaults-secret-issue-defaults-secret-0123'
DELETE FROM jwt_keys;
SELECT jwt_add_key(:'secret', 'HS256', 'issue-defaults');
-- the claims a token carries, iat and jti left out (checked apart)
CREATE FUNCTION pg_temp.payload(token text) RETURNS jsonb
LANGUAGE sql AS $$ SELECT (jwt_decode(token) -> 'payload') - '{iat,jti}'::text[] $$;
--
-- Nothing but sub given: iat now, exp iat + 15 minutes, a jti; no iss, no
-- aud (the policy sets none), no sid (not a login).
--
SELECT jwt_issue('{"sub": "alice", "role": "reader"}') AS t1 \gset
SELECT jwt_verify(:'t1', :'secret') AS c1 \gset
SELECT array(SELECT jsonb_object_keys(:'c1'::jsonb) ORDER BY 1) AS claims,
       (:'c1'::jsonb ->> 'exp')::bigint - (:'c1'::jsonb ->> 'iat')::bigint AS lifetime,
       abs((:'c1'::jsonb ->> 'iat')::bigint - extract(epoch FROM now())) < 60 AS fresh_iat,
       :'c1'::jsonb ->> 'jti' ~ '^[A-Za-z0-9_-]{22}$' AS jti_is_128_bits_base64url,
       jsonb_typeof(:'c1'::jsonb -> 'iat') AS iat_type, jsonb_typeof(:'c1'::jsonb -> 'exp') AS exp_type;
-- each token its own jti, so jwt_revoke_token() can refuse one of them
SELECT count(DISTINCT jwt_decode(jwt_issue('{"sub": "alice"}')) -> 'payload' ->> 'jti') AS distinct_jtis
FROM generate_series(1, 100);
-- a session token as issued passes the default policy (jwt.required_claims = exp)
SELECT set_config('jwt.token', :'t1', false) IS NOT NULL AS set;
SELECT jwt_claim('sub') AS sub, jwt_claim('role') AS role;
RESET jwt.token;
--
-- The lifetime is jwt.access_token_lifetime, the same as the logins'.
--
SET jwt.access_token_lifetime = '5min';
SELECT (p ->> 'exp')::bigint - (p ->> 'iat')::bigint AS lifetime
FROM (SELECT jwt_decode(jwt_issue('{"sub": "alice"}')) -> 'payload' AS p) q;
RESET jwt.access_token_lifetime;
--
-- iss and aud from the policy, when set and absent from the claims.
--
SET jwt.issuer = 'https://auth.example';
SET jwt.audience = 'example-api';
SELECT pg_temp.payload(jwt_issue('{"sub": "alice"}')) - 'exp' AS filled,
       pg_temp.payload(jwt_issue('{"sub": "alice", "iss": "https://other.example", "aud": ["a", "b"]}')) - 'exp' AS own;
-- and such a token passes that policy
SELECT set_config('jwt.token', jwt_issue('{"sub": "alice"}'), false) IS NOT NULL AS set;
SELECT jwt_claim('sub') AS sub;
RESET jwt.token;
RESET jwt.issuer;
RESET jwt.audience;
--
-- A claim given is kept as given: iat, exp and jti too.
--
SELECT jwt_decode(jwt_issue('{"sub": "bob", "iat": 1700000000, "exp": 4102444800, "jti": "mine"}')) -> 'payload'
       AS payload;
SELECT array(SELECT jsonb_object_keys(p) ORDER BY 1) AS claims, p ->> 'exp' AS exp
FROM (SELECT jwt_decode(jwt_issue('{"sub": "bob", "exp": 4102444800}')) -> 'payload' AS p) q;
-- ... so a wrong type is still refused, as before (22023)
\set VERBOSITY terse
SELECT jwt_issue('{"sub": "bob", "exp": "soon"}');
SELECT jwt_issue('["not", "an", "object"]');
SELECT jwt_issue('"alice"');
\set VERBOSITY default
SELECT jwt_issue(NULL) IS NULL AS null_claims;
-- the header is the registry's, as before
SELECT jwt_decode(jwt_issue('{"sub": "bob"}')) -> 'header' AS header;
DELETE FROM jwt_keys;
