--
-- sign: jwt_sign(claims jsonb, key text|bytea, algorithm text DEFAULT 'HS256',
-- header jsonb DEFAULT NULL).
--
-- HMAC signatures are deterministic, so the tokens below are known answers:
-- each was also computed outside the database (HMAC over the exact header
-- and payload bytes shown).  Wrong calls raise 22023 with a hint; they are
-- shown as SQLSTATE, message, detail and hint.
--
\set secret 'regress-secret-regress-secret-regress-secret-regress-secret-0123'
-- base64url without padding, and back
CREATE FUNCTION pg_temp.b64url(bytea) RETURNS text
AS $$ SELECT translate(rtrim(replace(encode($1, 'base64'), E'\n', ''), '='), '+/', '-_') $$
LANGUAGE sql IMMUTABLE STRICT;
CREATE FUNCTION pg_temp.unb64url(text) RETURNS bytea
AS $$ SELECT decode(rpad(translate($1, '-_', '+/'), (length($1) + 3) / 4 * 4, '='), 'base64') $$
LANGUAGE sql IMMUTABLE STRICT;
-- the exact header and payload text of a token, and its signature's length
CREATE FUNCTION pg_temp.header_of(token text) RETURNS text
AS $$ SELECT convert_from(pg_temp.unb64url(split_part(token, '.', 1)), 'UTF8') $$
LANGUAGE sql IMMUTABLE STRICT;
CREATE FUNCTION pg_temp.payload_of(token text) RETURNS text
AS $$ SELECT convert_from(pg_temp.unb64url(split_part(token, '.', 2)), 'UTF8') $$
LANGUAGE sql IMMUTABLE STRICT;
CREATE FUNCTION pg_temp.sig_bytes(token text) RETURNS integer
AS $$ SELECT length(pg_temp.unb64url(split_part(token, '.', 3))) $$
LANGUAGE sql IMMUTABLE STRICT;
-- a JWK for a secret
CREATE FUNCTION pg_temp.jwk(secret text, members jsonb DEFAULT '{}') RETURNS text
AS $$ SELECT (jsonb_build_object('kty', 'oct', 'k', pg_temp.b64url(convert_to(secret, 'UTF8'))) || members)::text $$
LANGUAGE sql IMMUTABLE;
-- what jwt_sign makes of its arguments: the token, or the error
CREATE FUNCTION pg_temp.signing(claims jsonb, key text, algorithm text DEFAULT 'HS256',
                                header jsonb DEFAULT NULL,
                                OUT code text, OUT message text, OUT detail text, OUT hint text)
LANGUAGE plpgsql AS $$
BEGIN
    message := jwt_sign(claims, key, algorithm, header);
    code := '00000';
EXCEPTION WHEN OTHERS THEN
    GET STACKED DIAGNOSTICS code = RETURNED_SQLSTATE, message = MESSAGE_TEXT,
                            detail = PG_EXCEPTION_DETAIL, hint = PG_EXCEPTION_HINT;
END
$$;
CREATE FUNCTION pg_temp.signing(claims jsonb, key bytea, algorithm text DEFAULT 'HS256',
                                header jsonb DEFAULT NULL,
                                OUT code text, OUT message text, OUT detail text, OUT hint text)
LANGUAGE plpgsql AS $$
BEGIN
    message := jwt_sign(claims, key, algorithm, header);
    code := '00000';
EXCEPTION WHEN OTHERS THEN
    GET STACKED DIAGNOSTICS code = RETURNED_SQLSTATE, message = MESSAGE_TEXT,
                            detail = PG_EXCEPTION_DETAIL, hint = PG_EXCEPTION_HINT;
END
$$;
--
-- The three HMAC algorithms: known answers, the exact header and payload
-- (compact, "alg" first, then "typ"), and signatures of the hash length.
--
SELECT alg, jwt_sign('{"sub":"alice","exp":4102444800}', :'secret', alg) AS token
FROM unnest('{HS256,HS384,HS512}'::text[]) AS alg;
SELECT alg, pg_temp.header_of(t) AS header, pg_temp.payload_of(t) AS payload,
       pg_temp.sig_bytes(t) AS sig_bytes
FROM unnest('{HS256,HS384,HS512}'::text[]) AS alg,
     LATERAL jwt_sign('{"sub":"alice","exp":4102444800}', :'secret', alg) AS t;
-- HS256 is the default
SELECT jwt_sign('{"sub":"alice","exp":4102444800}', :'secret')
     = jwt_sign('{"sub":"alice","exp":4102444800}', :'secret', 'HS256') AS hs256_default;
-- each verifies, to the same claims
SELECT alg, jwt_verify(jwt_sign('{"sub":"alice","exp":4102444800}', :'secret', alg), :'secret') AS claims
FROM unnest('{HS256,HS384,HS512}'::text[]) AS alg;
--
-- Keys.  A text secret and the same bytes as bytea give the same token; a
-- bytea key is always a secret, even when it starts with "{".
--
SELECT jwt_sign('{"sub":"alice"}', :'secret') = jwt_sign('{"sub":"alice"}', convert_to(:'secret', 'UTF8')) AS same_token;
SELECT jwt_sign('{"sub":"alice"}', decode(repeat('00ff', 16), 'hex')) AS binary_secret_token;
SELECT jwt_verify(jwt_sign('{"sub":"alice"}', decode(repeat('00ff', 16), 'hex')), decode(repeat('00ff', 16), 'hex')) AS claims;
SELECT jwt_sign('{"sub":"alice"}', convert_to('{' || repeat('x', 31), 'UTF8')) AS brace_secret_token;
SELECT * FROM pg_temp.signing('{"sub":"alice"}', '{' || repeat('x', 31));
-- an "oct" JWK without "kid" signs exactly like its secret
SELECT jwt_sign('{"sub":"alice"}', pg_temp.jwk(:'secret')) = jwt_sign('{"sub":"alice"}', :'secret') AS same_token;
-- a JWK's "kid" goes into the header, after "typ"; the header argument's wins
SELECT pg_temp.jwk(:'secret', '{"kid":"key-1"}') AS jwk \gset
SELECT jwt_sign('{"sub":"alice"}', :'jwk') AS token;
SELECT pg_temp.header_of(jwt_sign('{"sub":"alice"}', :'jwk')) AS header;
SELECT pg_temp.header_of(jwt_sign('{"sub":"alice"}', :'jwk', 'HS256', '{"kid":"key-2"}')) AS header;
SELECT jwt_verify(jwt_sign('{"sub":"alice"}', :'jwk'), :'jwk') AS claims;
-- the JWK's "alg", "use" and "key_ops" are honoured
SELECT rule, CASE WHEN s.code = '00000' THEN pg_temp.header_of(s.message) END AS header,
       s.code, s.message AS error, s.detail, s.hint
FROM (VALUES
    ('"alg" HS384, signing HS384', pg_temp.jwk(:'secret', '{"alg":"HS384"}'), 'HS384'),
    ('"alg" HS384, signing HS256', pg_temp.jwk(:'secret', '{"alg":"HS384"}'), 'HS256'),
    ('"alg" RSA-OAEP', pg_temp.jwk(:'secret', '{"alg":"RSA-OAEP"}'), 'HS256'),
    ('"use" sig', pg_temp.jwk(:'secret', '{"use":"sig"}'), 'HS256'),
    ('"use" enc', pg_temp.jwk(:'secret', '{"use":"enc"}'), 'HS256'),
    ('"key_ops" sign', pg_temp.jwk(:'secret', '{"key_ops":["sign"]}'), 'HS256'),
    ('"key_ops" sign and verify', pg_temp.jwk(:'secret', '{"key_ops":["sign","verify"]}'), 'HS256'),
    ('"key_ops" verify', pg_temp.jwk(:'secret', '{"key_ops":["verify"]}'), 'HS256'),
    ('"key_ops" empty', pg_temp.jwk(:'secret', '{"key_ops":[]}'), 'HS256')
) AS t(rule, key, alg),
LATERAL pg_temp.signing('{"sub":"alice"}', key, alg) s
WHERE s.code = '00000'
UNION ALL
SELECT rule, NULL, s.code, s.message, s.detail, s.hint
FROM (VALUES
    ('"alg" HS384, signing HS384', pg_temp.jwk(:'secret', '{"alg":"HS384"}'), 'HS384'),
    ('"alg" HS384, signing HS256', pg_temp.jwk(:'secret', '{"alg":"HS384"}'), 'HS256'),
    ('"alg" RSA-OAEP', pg_temp.jwk(:'secret', '{"alg":"RSA-OAEP"}'), 'HS256'),
    ('"use" sig', pg_temp.jwk(:'secret', '{"use":"sig"}'), 'HS256'),
    ('"use" enc', pg_temp.jwk(:'secret', '{"use":"enc"}'), 'HS256'),
    ('"key_ops" sign', pg_temp.jwk(:'secret', '{"key_ops":["sign"]}'), 'HS256'),
    ('"key_ops" sign and verify', pg_temp.jwk(:'secret', '{"key_ops":["sign","verify"]}'), 'HS256'),
    ('"key_ops" verify', pg_temp.jwk(:'secret', '{"key_ops":["verify"]}'), 'HS256'),
    ('"key_ops" empty', pg_temp.jwk(:'secret', '{"key_ops":[]}'), 'HS256')
) AS t(rule, key, alg),
LATERAL pg_temp.signing('{"sub":"alice"}', key, alg) s
WHERE s.code <> '00000';
-- keys that cannot sign at all
SELECT rule, s.*
FROM (VALUES
    ('empty text', ''),
    ('JSON that is no JWK', '{not json'),
    ('JWK without "kty"', '{"k":"' || pg_temp.b64url(convert_to(:'secret', 'UTF8')) || '"}'),
    ('JWK of "kty" RSA', '{"kty":"RSA","n":"sXch","e":"AQAB"}'),
    ('JWK of "kty" EC', '{"kty":"EC","crv":"P-256","x":"f83O","y":"x_FE"}'),
    ('JWK without "k"', '{"kty":"oct"}'),
    ('JWK with an empty "k"', '{"kty":"oct","k":""}'),
    ('JWK "k" with padding', '{"kty":"oct","k":"' || pg_temp.b64url(convert_to(:'secret', 'UTF8')) || '=="}'),
    ('JWK "k" in base64, not base64url', '{"kty":"oct","k":"' || translate(pg_temp.b64url(convert_to(:'secret', 'UTF8')), '-_', '+/') || '/"}'),
    ('JWK "kid" a number', '{"kty":"oct","kid":1,"k":"' || pg_temp.b64url(convert_to(:'secret', 'UTF8')) || '"}'),
    ('JWK "key_ops" twice "sign"', pg_temp.jwk(:'secret', '{"key_ops":["sign","sign"]}')),
    ('JWKS', '{"keys":[' || pg_temp.jwk(:'secret', '{"kid":"k1"}') || ']}'),
    ('empty JWKS', '{"keys":[]}'),
    ('JWKS with a kid twice', '{"keys":[' || pg_temp.jwk(:'secret', '{"kid":"k1"}') || ',' || pg_temp.jwk(:'secret', '{"kid":"k1"}') || ']}'),
    ('PEM public key', E'-----BEGIN PUBLIC KEY-----\nMFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE\n-----END PUBLIC KEY-----\n'),
    ('PEM after blank lines', E'\n\n-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n')
) AS t(rule, key),
LATERAL pg_temp.signing('{"sub":"alice"}', key) s;
SELECT * FROM pg_temp.signing('{"sub":"alice"}', ''::bytea);
-- an HMAC key is at least as long as the hash: 32, 48 and 64 bytes
SELECT alg, len, s.code, CASE WHEN s.code = '00000' THEN '(signed)' ELSE s.message END AS message,
       s.detail, s.hint
FROM (VALUES ('HS256', 31), ('HS256', 32), ('HS384', 47), ('HS384', 48), ('HS512', 63), ('HS512', 64)) AS t(alg, len),
LATERAL pg_temp.signing('{"sub":"alice"}', left(:'secret', len), alg) s;
SELECT * FROM pg_temp.signing('{"sub":"alice"}', decode(repeat('00', 31), 'hex'));
--
-- Algorithms: names are case-sensitive; "none" is refused in any spelling;
-- the other registered algorithms cannot be done by an HMAC key.
--
SELECT alg, s.code, s.message, s.detail, s.hint
FROM unnest('{HS257,hs256,"HS256 ","",HMAC-SHA256,RSA-OAEP,none,None,NONE,nOnE,RS256,RS384,RS512,PS256,PS384,PS512,ES256,ES384,ES512,ES256K,EdDSA,Ed25519,Ed448}'::text[]) AS alg,
LATERAL pg_temp.signing('{"sub":"alice"}', :'secret', alg) s;
--
-- The header argument: members are added after "alg" and "typ"; "typ" may
-- be replaced, or dropped with a JSON null; "alg" may only repeat the
-- algorithm; "crit", "b64" and "zip" are refused; it must be an object.
--
SELECT rule, CASE WHEN s.code = '00000' THEN pg_temp.header_of(s.message) END AS header,
       s.code, CASE WHEN s.code <> '00000' THEN s.message END AS error, s.hint
FROM (VALUES
    ('NULL', NULL::jsonb),
    ('empty object', '{}'),
    ('typ replaced', '{"typ":"at+jwt"}'),
    ('typ dropped', '{"typ":null}'),
    ('alg repeating the algorithm', '{"alg":"HS256"}'),
    ('extra members', '{"cty":"JWT","x5t":"dGh1bWI","ext":{"a":[1,"x",null,true]}}'),
    ('a kid', '{"kid":"2024-01"}'),
    ('alg another algorithm', '{"alg":"HS384"}'),
    ('alg in lower case', '{"alg":"hs256"}'),
    ('alg none', '{"alg":"none"}'),
    ('alg null', '{"alg":null}'),
    ('alg a number', '{"alg":256}'),
    ('crit', '{"crit":["exp"]}'),
    ('b64', '{"b64":false}'),
    ('zip', '{"zip":"DEF"}'),
    ('an array', '[{"typ":"JWT"}]'),
    ('a string', '"JWT"'),
    ('a number', '1'),
    ('JSON null', 'null')
) AS t(rule, header),
LATERAL pg_temp.signing('{"sub":"alice"}', :'secret', 'HS256', header) s
ORDER BY s.code, rule COLLATE "C";
-- whatever the header says, the token verifies
SELECT jwt_verify(jwt_sign('{"sub":"alice"}', :'secret', 'HS384',
                           '{"typ":null,"cty":"JWT","ext":{"a":[1]}}'), :'secret') AS claims;
--
-- Claims: a JSON object whose registered claims have their types.
--
SELECT rule, s.code, s.message, s.detail, s.hint
FROM (VALUES
    ('an array', '[{"sub":"alice"}]'::jsonb),
    ('a string', '"alice"'),
    ('a number', '42'),
    ('JSON null', 'null'),
    ('exp a string', '{"exp":"4102444800"}'),
    ('exp true', '{"exp":true}'),
    ('exp null', '{"exp":null}'),
    ('exp 1e400', '{"exp":1e400}'),
    ('exp an array', '{"exp":[4102444800]}'),
    ('nbf a string', '{"nbf":"0"}'),
    ('iat false', '{"iat":false}'),
    ('aud a number', '{"aud":42}'),
    ('aud holding a number', '{"aud":["api",42]}'),
    ('aud an object', '{"aud":{"a":"api"}}'),
    ('aud null', '{"aud":null}'),
    ('iss a number', '{"iss":42}'),
    ('iss null', '{"iss":null}')
) AS t(rule, claims),
LATERAL pg_temp.signing(claims, :'secret') s;
-- accepted: every registered claim of the right type, and anything else
SELECT pg_temp.payload_of(s.message) AS payload, s.code
FROM (VALUES
    ('{}'::jsonb),
    ('{"exp":4102444800.5,"nbf":-1,"iat":0}'),
    ('{"aud":"api","iss":"https://issuer.example"}'),
    ('{"aud":["api","web"]}'),
    ('{"aud":[]}'),
    ('{"sub":null,"jti":1,"roles":["a",{"b":[true,false]}],"n":1e40}')
) AS t(claims),
LATERAL pg_temp.signing(claims, :'secret') s;
-- strings are escaped as JSON requires, and come back unchanged
SELECT jsonb_build_object('s', E'quote " backslash \\ slash / nl \n cr \r tab \t bs \b ff \f ctl \x01 \x1f') AS claims \gset
SELECT pg_temp.payload_of(jwt_sign(:'claims', :'secret')) AS payload;
SELECT jwt_verify(jwt_sign(:'claims', :'secret'), :'secret') = :'claims'::jsonb AS round_trip;
-- numbers keep their digits
SELECT pg_temp.payload_of(jwt_sign('{"big":123456789012345678901234567890,"small":-0.000000000000000000001,"exp":4102444800}', :'secret')) AS payload;
SELECT jwt_verify(jwt_sign('{"big":123456789012345678901234567890,"small":-0.000000000000000000001,"exp":4102444800}', :'secret'), :'secret') AS claims;
-- the call is checked in this order: algorithm, key, claims, header
SELECT * FROM pg_temp.signing('[1]', 'short', 'none', '[1]');
SELECT * FROM pg_temp.signing('[1]', 'short', 'HS256', '[1]');
SELECT * FROM pg_temp.signing('[1]', :'secret', 'HS256', '[1]');
SELECT * FROM pg_temp.signing('{}', :'secret', 'HS256', '[1]');
