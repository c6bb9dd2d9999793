--
-- jws: jws_sign(payload bytea, key text, algorithm text, header jsonb) and
-- jws_verify(token text, key text, algorithms text[]) → bytea, for JWS whose
-- payload is not a claims set.  The payload is any bytes, and is never
-- parsed: not as JSON, not for claims.  Every other rule of verification
-- still holds (DESIGN.md, "Verification rules", 1 to 4).  The header is
-- {"alg":…} with no "typ" unless one is given.
--
-- HMAC and EdDSA signatures are deterministic, so their tokens are known
-- answers, each also computed outside the database.  Tokens that jws_sign
-- cannot make (crit, b64, duplicate members, …) are written as header text,
-- payload bytes and an HMAC-SHA256 under :secret computed once outside the
-- database over the exact bytes, so a rule is reached only because the
-- signature verifies.
--
\set secret 'regress-secret-regress-secret-regress-secret-regress-secret-0123'
\set other 'another-secret-another-secret-another-secret-another-secret-0123'
-- an Ed25519 key, PKCS#8: A TEST-ONLY KEY, generated once with openssl for
-- this suite; never use it for anything else
SELECT '-----BEGIN PRIVATE KEY-----
MC4CAQAwBQYDK2VwBCIEIHh306YFBoCD7ZE17pZlEaGD9NOBPSIZtEMhutvYa6Pr
-----END PRIVATE KEY-----' AS ed25519_private \gset
SELECT jwt_public_jwk(:'ed25519_private')::text AS ed25519_public \gset
-- base64url without padding, and back
CREATE FUNCTION pg_temp.b64url(bytea) RETURNS text
AS $$ SELECT translate(rtrim(replace(encode($1, 'base64'), E'\n', ''), '='), '+/', '-_') $$
LANGUAGE sql IMMUTABLE STRICT;
CREATE FUNCTION pg_temp.unb64url(text) RETURNS bytea
AS $$ SELECT decode(rpad(translate($1, '-_', '+/'), (length($1) + 3) / 4 * 4, '='), 'base64') $$
LANGUAGE sql IMMUTABLE STRICT;
-- a compact token from header text, payload bytes and a signature
CREATE FUNCTION pg_temp.tok(header text, payload bytea, sig text) RETURNS text
AS $$ SELECT pg_temp.b64url(convert_to(header, 'UTF8')) || '.' || pg_temp.b64url(payload) || '.' || sig $$
LANGUAGE sql IMMUTABLE STRICT;
-- the exact header text of a token
CREATE FUNCTION pg_temp.header_of(token text) RETURNS text
AS $$ SELECT convert_from(pg_temp.unb64url(split_part(token, '.', 1)), 'UTF8') $$
LANGUAGE sql IMMUTABLE STRICT;
-- every byte value once
CREATE FUNCTION pg_temp.all_bytes() RETURNS bytea
AS $$ SELECT string_agg(set_byte('\x00'::bytea, 0, i), ''::bytea ORDER BY i) FROM generate_series(0, 255) AS i $$
LANGUAGE sql IMMUTABLE;
-- what jws_verify makes of a token: the payload, or the error
CREATE FUNCTION pg_temp.jws_verdict(token text, key text, algorithms text[] DEFAULT NULL,
                                    OUT code text, OUT message text, OUT detail text,
                                    OUT hint text, OUT payload bytea)
LANGUAGE plpgsql AS $$
BEGIN
    payload := jws_verify(token, key, algorithms);
    code := '00000';
    message := 'accepted';
EXCEPTION WHEN OTHERS THEN
    GET STACKED DIAGNOSTICS code = RETURNED_SQLSTATE, message = MESSAGE_TEXT,
                            detail = PG_EXCEPTION_DETAIL, hint = PG_EXCEPTION_HINT;
END
$$;
-- what jwt_verify says of the same token, in one line
CREATE FUNCTION pg_temp.jwt_says(token text, key text) RETURNS text
LANGUAGE plpgsql AS $$
DECLARE
    code text;
    detail text;
BEGIN
    RETURN 'accepted: ' || jwt_verify(token, key)::text;
EXCEPTION WHEN OTHERS THEN
    GET STACKED DIAGNOSTICS code = RETURNED_SQLSTATE, detail = PG_EXCEPTION_DETAIL;
    RETURN code || ': ' || detail;
END
$$;
-- what jws_sign makes of its arguments: the header text, or the error
CREATE FUNCTION pg_temp.signing(payload bytea, key text, algorithm text, header jsonb DEFAULT NULL,
                                OUT code text, OUT header_or_message text, OUT hint text)
LANGUAGE plpgsql AS $$
BEGIN
    header_or_message := pg_temp.header_of(jws_sign(payload, key, algorithm, header));
    code := '00000';
EXCEPTION WHEN OTHERS THEN
    GET STACKED DIAGNOSTICS code = RETURNED_SQLSTATE, header_or_message = MESSAGE_TEXT,
                            hint = PG_EXCEPTION_HINT;
END
$$;
--
-- Binary payloads, HMAC: known answers, the exact header (no "typ"), and the
-- very bytes back from jws_verify.
--
CREATE TEMP TABLE payloads (ord integer, label text, payload bytea);
INSERT INTO payloads VALUES
    (1, 'empty', ''::bytea),
    (2, 'text', convert_to('hello', 'UTF8')),
    (3, 'not UTF-8', '\xc328ff'::bytea),
    (4, 'a zero byte', '\x00'::bytea),
    (5, 'JSON array', convert_to('[1,2,3]', 'UTF8')),
    (6, 'JSON with a repeated member', convert_to('{"a":1,"a":2}', 'UTF8')),
    (7, 'every byte value', pg_temp.all_bytes());
SELECT label, length(payload) AS bytes, jws_sign(payload, :'secret', 'HS256') AS token
FROM payloads
ORDER BY ord;
SELECT label, pg_temp.header_of(t) AS header, jws_verify(t, :'secret') = payload AS same_bytes,
       CASE WHEN length(payload) <= 16 THEN jws_verify(t, :'secret') END AS payload
FROM payloads, LATERAL jws_sign(payload, :'secret', 'HS256') AS t
ORDER BY ord;
-- HS384 and HS512 too, and a JWK with a kid, which goes into the header
SELECT alg, pg_temp.header_of(t) AS header, jws_verify(t, :'secret') AS payload
FROM unnest('{HS256,HS384,HS512}'::text[]) AS alg,
LATERAL jws_sign('\xc328ff'::bytea, :'secret', alg) AS t;
SELECT format('{"kty":"oct","kid":"hook-1","k":"%s"}', pg_temp.b64url(convert_to(:'secret', 'UTF8'))) AS secret_jwk \gset
SELECT jws_sign('\xc328ff'::bytea, :'secret_jwk', 'HS256') AS token,
       pg_temp.header_of(jws_sign('\xc328ff'::bytea, :'secret_jwk', 'HS256')) AS header,
       jws_verify(jws_sign('\xc328ff'::bytea, :'secret_jwk', 'HS256'), :'secret') AS payload;
-- header members: "typ" only when given; "alg" must agree; crit, b64 and
-- zip are refused, since verifiers refuse them
SELECT header, s.*
FROM (VALUES
    (NULL::jsonb),
    ('{}'),
    ('{"typ":"JOSE"}'),
    ('{"typ":"JWT"}'),
    ('{"cty":"text/plain","kid":"hook-2"}'),
    ('{"alg":"HS256"}'),
    ('{"x-custom":{"a":[1,"two",null]}}'),
    ('{"alg":"HS512"}'),
    ('{"crit":["exp"]}'),
    ('{"b64":false}'),
    ('{"zip":"DEF"}'),
    ('{"kid":7}'),
    ('[]')
) AS t(header),
LATERAL pg_temp.signing('\xc328ff'::bytea, :'secret', 'HS256', header) s;
--
-- Asymmetric keys: EdDSA is deterministic (a known answer); ES256 and PS256
-- are randomised, so only the round trip is shown.
--
SELECT jws_sign(pg_temp.all_bytes(), :'ed25519_private', 'EdDSA') AS token;
SELECT jws_verify(jws_sign(pg_temp.all_bytes(), :'ed25519_private', 'EdDSA'), :'ed25519_public') = pg_temp.all_bytes() AS same_bytes,
       jws_verify(jws_sign(''::bytea, :'ed25519_private', 'Ed25519'), :'ed25519_public') AS empty_payload;
SELECT alg, pg_temp.header_of(t)::jsonb - 'kid' AS header_without_kid,
       jws_verify(t, jwt_public_jwk(k::text)::text) = pg_temp.all_bytes() AS same_bytes,
       jws_verify(t, jwt_public_jwk(k::text)::text, ARRAY[alg]) = pg_temp.all_bytes() AS alg_allowed
FROM unnest('{ES256,PS256,ES256K}'::text[]) AS alg,
LATERAL jwt_generate_key(alg) AS k,
LATERAL jws_sign(pg_temp.all_bytes(), k::text, alg) AS t;
--
-- The payload is never parsed: what jwt_verify refuses for its payload,
-- jws_verify returns as it is.  A JWT is a JWS too.
--
SELECT p.label, v.code, v.payload, pg_temp.jwt_says(t, :'secret') AS jwt_verify_says
FROM payloads p,
LATERAL jws_sign(p.payload, :'secret', 'HS256') AS t,
LATERAL pg_temp.jws_verdict(t, :'secret') v
WHERE length(p.payload) <= 16
ORDER BY p.ord;
SELECT rule, v.code, v.payload, convert_from(v.payload, 'UTF8') AS as_text, pg_temp.jwt_says(token, :'secret') AS jwt_verify_says
FROM (VALUES
    ('claims with a repeated member', pg_temp.tok('{"alg":"HS256"}', '\x7b22737562223a22616c696365222c22737562223a2261646d696e227d', '9sgBcKcdGYE2ETZuYVLKWIukSz-6pk3AVCMvQbrrV84')),
    ('claims expired in 1970', pg_temp.tok('{"alg":"HS256"}', '\x7b22737562223a22616c696365222c22657870223a317d', 'GUK0ZUTJdXmC0tgNKFmdSWO_gMCPtPGfSvY_QyPqn4A')),
    ('claims with \u0000', pg_temp.tok('{"alg":"HS256"}', '\x7b22737562223a225c7530303030227d', 'mCW2WxfJ-x_xk8qTOLzvA3nFydeksP2L9eHGIILMieA')),
    ('a JWT of jwt_sign', jwt_sign('{"sub":"alice","exp":4102444800}', :'secret'))
) AS t(rule, token),
LATERAL pg_temp.jws_verdict(token, :'secret') v;
SELECT v.code, v.payload, pg_temp.jwt_says(t, :'secret') AS jwt_verify_says
FROM (SELECT pg_temp.tok('{"alg":"HS256"}', '\xc328ff', 'lizjRpYp-JMXZdFCsidBY7CLLzHNTldEp1xgE_nMWOU') AS t) AS x,
LATERAL pg_temp.jws_verdict(t, :'secret') v;
--
-- Every rule but the claims still holds.  Rule 3, the header: "none" in any
-- form, crit, b64, zip, repeated members, a kid that is no string, an
-- unknown algorithm, a header that is no JSON.  The payload of each is
-- "hello" and the HMAC under :secret is right.
--
SELECT rule, v.*
FROM (VALUES
    ('control: {"alg":"HS256"}', pg_temp.tok('{"alg":"HS256"}', 'hello', '3piK32xw28qAmT8M0T-db9QSamvju5EIVtV6CGwLVLA')),
    ('"none", no signature', pg_temp.tok('{"alg":"none"}', 'hello', '')),
    ('"none", HMAC signature', pg_temp.tok('{"alg":"none"}', 'hello', 't2PsG6FYnOb5zvzAXOjIvy_Jni76sktWwpNuQYDY0l8')),
    ('"crit"', pg_temp.tok('{"alg":"HS256","crit":["exp"],"exp":4102444800}', 'hello', 'rSCIWyq69BRBmXQ0hxcrgJS6ijXA9ck-hpAsJpzgCBI')),
    ('"b64" false, in "crit"', pg_temp.tok('{"alg":"HS256","b64":false,"crit":["b64"]}', 'hello', 'AuyB9ELfRPQ1NKcb5IbWMfX4BEJCdxwQwu_XPdh5Vyk')),
    ('"b64" true', pg_temp.tok('{"alg":"HS256","b64":true}', 'hello', 'iKKqxLHILsuPN7Wx30qYPGe6p_Cj0d2Gt3T0J8BjwqY')),
    ('"zip"', pg_temp.tok('{"alg":"HS256","zip":"DEF"}', 'hello', 'rnq-2F_zeaUMHOExw1wXXKPy2dpkbSuO-mXUwj7P9qY')),
    ('"alg" twice', pg_temp.tok('{"alg":"HS256","alg":"HS256"}', 'hello', 'kY_UBUkTsiOr1BG8jBxHgYp0MziysZSuHkKFu0oEWao')),
    ('"alg" none, then HS256', pg_temp.tok('{"alg":"none","alg":"HS256"}', 'hello', 'fDkEXzSHlZUSZsNXNeEApwA6JYHUQDDB9mL4ugodyoU')),
    ('"cty" twice', pg_temp.tok('{"alg":"HS256","cty":"text/plain","cty":"text/html"}', 'hello', 'UQKXrUceGnmBjCxBNn_QihE-X1ymUhPmoLm-0N8-ZPc')),
    ('"kid" a number', pg_temp.tok('{"alg":"HS256","kid":1}', 'hello', 'n3CGRxXy7Xjh6x0-EbK9epMpyoT-IeAhR8jr0ol2_PE')),
    ('unknown "HS257"', pg_temp.tok('{"alg":"HS257"}', 'hello', 'XVA1MO3VkbtS4igwAEB7NTxMFbZsC2apf4WApwN3v8c')),
    ('header not JSON', pg_temp.tok('alg: HS256', 'hello', 'qPmKJ1v96TM9VilG7xMrl2qilm9XpLqf9KYO1kwdAoo'))
) AS t(rule, token),
LATERAL pg_temp.jws_verdict(token, :'secret') v;
-- rule 2, the form: strict base64url, three segments
SELECT jws_sign(convert_to('hello', 'UTF8'), :'secret', 'HS256') AS good \gset
SELECT split_part(:'good', '.', 1) AS h, split_part(:'good', '.', 2) AS p, split_part(:'good', '.', 3) AS s \gset
SELECT :'p' AS payload_segment;
SELECT rule, v.code, v.message, v.detail, v.payload
FROM (VALUES
    ('as signed (control)', :'good'),
    ('padding on the payload', :'h' || '.' || :'p' || '=.' || :'s'),
    ('stray bits in the payload', :'h' || '.' || left(:'p', -1) || '9.' || :'s'),
    ('standard base64 in the signature', :'h' || '.' || :'p' || '.' || translate(:'s', '-_', '+/')),
    ('a space in the payload', :'h' || '.' || left(:'p', 3) || ' ' || substr(:'p', 4) || '.' || :'s'),
    ('trailing newline', :'good' || E'\n'),
    ('two segments', :'h' || '.' || :'p'),
    ('four segments', :'good' || '.'),
    ('JSON serialization', format('{"protected":"%s","payload":"%s","signature":"%s"}', :'h', :'p', :'s'))
) AS t(rule, token),
LATERAL pg_temp.jws_verdict(token, :'secret') v;
-- (the signature of the control has a "-" or "_", so the base64 row differs)
SELECT translate(:'s', '-_', '+/') <> :'s' AS base64_differs;
-- rule 4, the key and the signature
SELECT jwt_generate_key('RS256')::text AS rsa_key \gset
SELECT rule, v.code, v.message, v.detail, v.hint, v.payload
FROM (VALUES
    ('the right secret', :'good', :'secret', NULL::text[]),
    ('another secret', :'good', :'other', NULL),
    ('the secret as a JWK', :'good', :'secret_jwk', NULL),
    ('signature one byte short', :'h' || '.' || :'p' || '.' || pg_temp.b64url(substr(pg_temp.unb64url(:'s'), 1, 31)), :'secret', NULL),
    ('signature one byte long', :'h' || '.' || :'p' || '.' || pg_temp.b64url(pg_temp.unb64url(:'s') || '\x00'::bytea), :'secret', NULL),
    ('payload changed', :'h' || '.' || pg_temp.b64url(convert_to('hellO', 'UTF8')) || '.' || :'s', :'secret', NULL),
    ('algorithms {HS512}', :'good', :'secret', '{HS512}'),
    ('algorithms {HS384,HS256}', :'good', :'secret', '{HS384,HS256}'),
    ('an RSA public key', :'good', jwt_public_jwk(:'rsa_key')::text, NULL),
    ('a secret of 31 bytes', :'good', left(:'secret', 31), NULL),
    ('a JWKS, the kid of another key', jws_sign(convert_to('hello', 'UTF8'), :'secret', 'HS256', '{"kid":"k2"}'),
        format('{"keys":[{"kty":"oct","kid":"k1","k":"%s"},{"kty":"oct","kid":"k2","k":"%s"}]}',
               pg_temp.b64url(convert_to(:'secret', 'UTF8')), pg_temp.b64url(convert_to(:'other', 'UTF8'))), NULL),
    ('a JWKS, the kid of the key', jws_sign(convert_to('hello', 'UTF8'), :'secret', 'HS256', '{"kid":"k1"}'),
        format('{"keys":[{"kty":"oct","kid":"k1","k":"%s"},{"kty":"oct","kid":"k2","k":"%s"}]}',
               pg_temp.b64url(convert_to(:'secret', 'UTF8')), pg_temp.b64url(convert_to(:'other', 'UTF8'))), NULL)
) AS t(rule, token, key, algorithms),
LATERAL pg_temp.jws_verdict(token, key, algorithms) v;
-- rule 1, the size cap (jwt.max_token_length, 16384 bytes by default), is
-- checked before anything is decoded
SELECT bytes, length(t) AS token_length, v.code, v.detail, length(v.payload) AS payload_bytes
FROM unnest('{12000,12300}'::integer[]) AS bytes,
LATERAL jws_sign(convert_to(repeat('x', bytes), 'UTF8'), :'secret', 'HS256') AS t,
LATERAL pg_temp.jws_verdict(t, :'secret') v;
--
-- NULL arguments: NULL for a NULL payload, token, key or algorithm; a NULL
-- header or algorithms list means none.  An empty list is a wrong call.
--
SELECT jws_sign(NULL, :'secret', 'HS256') IS NULL AS null_payload,
       jws_sign('\x00', NULL, 'HS256') IS NULL AS null_key,
       jws_sign('\x00', :'secret', NULL) IS NULL AS null_algorithm,
       jws_sign('\x00', :'secret', 'HS256', NULL) = jws_sign('\x00', :'secret', 'HS256') AS null_header,
       jws_verify(NULL, :'secret') IS NULL AS null_token,
       jws_verify(:'good', NULL) IS NULL AS null_key_verify,
       jws_verify(:'good', :'secret', NULL) AS null_algorithms;
SELECT v.code, v.message, v.hint FROM pg_temp.jws_verdict(:'good', :'secret', '{}') v;
SELECT v.code, v.message, v.detail FROM pg_temp.jws_verdict('', :'secret') v;
