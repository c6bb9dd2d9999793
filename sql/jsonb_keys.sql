-- Every function that takes a key takes jsonb (a JWK or a JWKS) too, so the
-- key helpers' results go straight back in; untyped literals still resolve
-- to the text versions (there is no json overload to make them ambiguous).
\set VERBOSITY terse

SELECT jwt_generate_key('ES256') AS k \gset
SELECT jwt_generate_key('HS256') AS s \gset

-- jsonb in, without a cast
SELECT jwt_verify(jwt_sign('{"sub":"a"}', :'k'::jsonb, 'ES256'), jwt_public_jwk(:'k'::jsonb)) ->> 'sub' AS sub;
SELECT jwt_is_valid(jwt_sign('{"sub":"a"}', :'s'::jsonb), :'s'::jsonb) AS valid;
SELECT jwt_is_valid(jwt_sign('{"sub":"a"}', :'s'::jsonb), jwt_generate_key('HS256')) AS other_key;
SELECT convert_from(jws_verify(jws_sign('\x6869'::bytea, :'k'::jsonb, 'ES256'),
                               jwt_public_jwk(:'k'::jsonb), '{ES256}'), 'UTF8') AS payload;
-- a JWKS as jsonb, its kid selecting the key
SELECT jwt_verify(jwt_sign('{"sub":"b"}', :'k'::jsonb, 'ES256'),
                  jsonb_build_object('keys', jsonb_build_array(jwt_public_jwk(:'k'::jsonb),
                                                               jwt_public_jwk(jwt_generate_key('ES256'))))) ->> 'sub' AS sub;
-- the registry: straight from the generator
SELECT jwt_add_key(jwt_generate_key('ES256'), 'ES256', kid => 'from-jsonb') AS kid;
SELECT kid, algorithm, can_sign FROM jwt_keys WHERE kid = 'from-jsonb';
SELECT jwt_decode(jwt_issue('{"sub":"c"}', 'from-jsonb')) -> 'header' ->> 'kid' AS issued_with;

-- the same checks as text: a public key cannot sign, a secret has no public form
SELECT jwt_sign('{"sub":"a"}', jwt_public_jwk(:'k'::jsonb), 'ES256');
SELECT jwt_public_jwk(:'s'::jsonb);
SELECT jwt_verify('x.y.z', '{"kty":"nope"}'::jsonb);
SELECT jwt_add_key('[1,2]'::jsonb, 'ES256');

-- NULL keys: the text versions' rule
SELECT jwt_sign('{"sub":"a"}', NULL::jsonb) IS NULL AS sign_null,
       jwt_verify('x', NULL::jsonb) IS NULL AS verify_null,
       jwt_is_valid('x', NULL::jsonb) IS NULL AS is_valid_null,
       jws_sign('\x00', NULL::jsonb, 'ES256') IS NULL AS jws_sign_null,
       jws_verify('x', NULL::jsonb) IS NULL AS jws_verify_null,
       jwt_public_jwk(NULL::jsonb) IS NULL AS public_null;

-- untyped literals resolve to text, as before
SELECT jwt_verify(jwt_sign('{"sub":"lit"}', 'a-string-secret-at-least-256-bits-long'),
                  'a-string-secret-at-least-256-bits-long') ->> 'sub' AS sub;
SELECT jwt_public_jwk('{"kty":"OKP","crv":"Ed25519","x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}') ->> 'crv' AS crv;
SELECT jwt_jwk_thumbprint(jwt_public_jwk('{"kty":"OKP","crv":"Ed25519","x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}'::jsonb)) AS thumbprint;

-- the overloads and their labels
SELECT p.oid::regprocedure AS function, p.provolatile, p.proparallel, p.proisstrict
FROM pg_proc p JOIN pg_depend d ON d.objid = p.oid AND d.classid = 'pg_proc'::regclass
JOIN pg_extension e ON e.oid = d.refobjid AND e.extname = 'jwt'
WHERE 'jsonb'::regtype = ANY (p.proargtypes[0:1]) AND p.proname <> 'jwt_jwk_thumbprint'
  AND p.proname NOT IN ('jwt_issue', 'jwt_login', 'jwt_refresh')
  AND (p.proname <> 'jwt_sign' OR p.proargtypes[1] = 'jsonb'::regtype)
ORDER BY p.oid::regprocedure::text;

-- a constant jsonb key on many rows: the executor sets a Const argument once
-- for all the calls of a call site, so each call leaves it as it found it
-- (the second row read the first row's freed text as jsonb)
\set oct '{"kty":"oct","k":"AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8"}'
CREATE TEMP TABLE jsonb_key_rows AS
SELECT i, jwt_sign(jsonb_build_object('sub', 'row-' || i), :'oct'::jsonb, 'HS256') AS token,
       jws_sign(convert_to('row-' || i, 'UTF8'), :'oct'::jsonb, 'HS256') AS jws
FROM generate_series(1, 3) AS i;
SELECT i, jwt_is_valid(token, :'oct'::jsonb) AS valid,
       jwt_verify(token, :'oct'::jsonb) ->> 'sub' AS sub,
       convert_from(jws_verify(jws, :'oct'::jsonb), 'UTF8') AS payload
FROM jsonb_key_rows ORDER BY i;
