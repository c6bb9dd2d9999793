-- What tools/demo shows, in a throwaway cluster.
\pset footer off
\set VERBOSITY default
CREATE EXTENSION jwt;
\echo
\echo '== sign a claims set with HS256 (the secret is at least 32 bytes) =='
SELECT jwt_sign('{"sub":"alice","role":"reader","exp":4102444800}',
                'a-string-secret-at-least-256-bits-long') AS token \gset
\echo :token
\echo
\echo '== verify it: the claims come back as jsonb =='
SELECT jwt_verify(:'token', 'a-string-secret-at-least-256-bits-long') AS claims;
SELECT jwt_verify(:'token', 'a-string-secret-at-least-256-bits-long') ->> 'sub' AS sub;
\echo
\echo '== decode without verifying (never trust this) =='
SELECT jwt_decode(:'token');
\echo
\echo '== a tampered token: the payload changed to role "admin" =='
SELECT split_part(:'token', '.', 1) || '.' ||
       translate(rtrim(encode(convert_to('{"sub":"alice","role":"admin","exp":4102444800}', 'UTF8'), 'base64'), '='), '+/', '-_') || '.' ||
       split_part(:'token', '.', 3) AS forged \gset
SELECT jwt_is_valid(:'forged', 'a-string-secret-at-least-256-bits-long') AS forged_is_valid;
SELECT jwt_verify(:'forged', 'a-string-secret-at-least-256-bits-long');
\echo
\echo '== asymmetric: a new ES256 key; sign with the private JWK, verify with the public one =='
SELECT jwt_generate_key('ES256') AS jwk \gset
SELECT jwt_public_jwk(:'jwk') AS public_jwk;
SELECT jwt_verify(jwt_sign('{"sub":"bob","exp":4102444800}', :'jwk', 'ES256'),
                  jwt_public_jwk(:'jwk')::text) AS claims;
\echo
\echo '== the classic attack: an HS256 token MACed with the public key is refused =='
SELECT jwt_verify(jwt_sign('{"sub":"mallory"}', convert_to(jwt_public_jwk(:'jwk')::text, 'UTF8'), 'HS256'),
                  jwt_public_jwk(:'jwk')::text);
\echo
\echo '== alg "none" is refused in any spelling =='
SELECT jwt_verify('eyJhbGciOiJOb05lIn0.eyJzdWIiOiJhbGljZSJ9.', 'a-string-secret-at-least-256-bits-long');
\echo
\echo '== logins: a signing key the registry makes itself, then a login for alice =='
SELECT jwt_rotate_signing_key('ES256', publish_ahead => '0') AS kid \gset
SELECT jwt_login('{"sub":"alice","role":"reader"}') AS login \gset
SELECT :'login'::jsonb ->> 'token_type' AS token_type, :'login'::jsonb -> 'expires_in' AS expires_in,
       :'login'::jsonb ->> 'sid' AS sid, :'login'::jsonb ->> 'refresh_token' AS refresh_token;
SELECT jwt_decode(:'login'::jsonb ->> 'access_token') -> 'payload' AS access_token_claims;
\echo
\echo '== the access token, set per transaction, is what row-level security reads =='
BEGIN;
SELECT set_config('jwt.token', :'login'::jsonb ->> 'access_token', true) IS NOT NULL AS token_set;
SELECT jwt_claim('sub') AS sub, jwt_claim('role') AS role;
COMMIT;
\echo
\echo '== refresh: a new refresh token and a new access token of the same login =='
SELECT jwt_refresh(:'login'::jsonb ->> 'refresh_token') AS refreshed \gset
SELECT :'refreshed'::jsonb ->> 'sid' = :'login'::jsonb ->> 'sid' AS same_login,
       :'refreshed'::jsonb ->> 'refresh_token' <> :'login'::jsonb ->> 'refresh_token' AS new_refresh_token;
\echo
\echo '== a replay: the used refresh token again, after the reuse interval (shortened to 0 s here) =='
SET jwt.refresh_reuse_interval = 0;
SELECT jwt_refresh(:'login'::jsonb ->> 'refresh_token') AS replayed;
RESET jwt.refresh_reuse_interval;
\echo
\echo '== the replay ended the whole login: its newest refresh token and its access tokens are refused =='
SELECT jwt_refresh(:'refreshed'::jsonb ->> 'refresh_token') ->> 'error_description' AS newest_refresh_token;
BEGIN;
SELECT set_config('jwt.token', :'refreshed'::jsonb ->> 'access_token', true) IS NOT NULL AS token_set;
SELECT jwt_claim('sub');
ROLLBACK;
