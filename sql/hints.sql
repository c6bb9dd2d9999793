--
-- hints: each error says what is wrong and what would work.
--   - signing with a public key says that it is public, what it verifies,
--     and that signing needs the private key;
--   - a JWK with "use":"enc" says it is an encryption key;
--   - a token without "aud" when an audience is required gets another
--     detail than a token with a wrong "aud";
--   - a value that starts with "Bearer " says to pass the token alone;
--   - a PEM block with indented lines says so (such a block is refused:
--     its text is not the block that was exported).
--
\set secret 'hints-secret-hints-secret-hints-secret-0123'
SELECT jwt_generate_key('ES256') AS ec \gset
SELECT jwt_public_jwk(:'ec')::text AS ec_public \gset
SELECT jwt_generate_key('EdDSA') AS ed \gset
CREATE FUNCTION pg_temp.err(sql text, OUT code text, OUT message text, OUT detail text, OUT hint text)
LANGUAGE plpgsql AS $$
BEGIN
    EXECUTE sql;
    code := '00000';
EXCEPTION WHEN OTHERS THEN
    GET STACKED DIAGNOSTICS code = RETURNED_SQLSTATE, message = MESSAGE_TEXT,
                            detail = PG_EXCEPTION_DETAIL, hint = PG_EXCEPTION_HINT;
END
$$;
\x on
-- a public key with the default HS256, and with its own algorithm
SELECT * FROM pg_temp.err(format('SELECT jwt_sign(%L, %L)', '{"sub":"alice"}', :'ec_public'));
SELECT * FROM pg_temp.err(format('SELECT jwt_sign(%L, %L, %L)', '{"sub":"alice"}', :'ec_public', 'ES256'));
SELECT * FROM pg_temp.err(format('SELECT jwt_sign(%L, %L)', '{"sub":"alice"}', jwt_public_jwk(:'ed')::text));
-- an encryption key, with the default HS256 and with RS256
SELECT jwt_generate_key('RS256')::jsonb - 'alg' || '{"use":"enc"}' AS rsa_enc \gset
SELECT * FROM pg_temp.err(format('SELECT jwt_sign(%L, %L)', '{"sub":"alice"}', :'rsa_enc'));
SELECT * FROM pg_temp.err(format('SELECT jwt_sign(%L, %L, %L)', '{"sub":"alice"}', :'rsa_enc', 'RS256'));
-- no aud, and a wrong aud, when an audience is required
SELECT * FROM pg_temp.err(format('SELECT jwt_verify(%L, %L, audience => %L)',
    jwt_sign('{"sub":"alice"}', :'secret'), :'secret', 'api'));
SELECT * FROM pg_temp.err(format('SELECT jwt_verify(%L, %L, audience => %L)',
    jwt_sign('{"sub":"alice","aud":"web"}', :'secret'), :'secret', 'api'));
-- the Authorization header's value, in any letter case
SELECT * FROM pg_temp.err(format('SELECT jwt_verify(%L, %L)', 'Bearer ' || jwt_sign('{"sub":"alice"}', :'secret'), :'secret'));
SELECT * FROM pg_temp.err(format('SELECT jwt_decode(%L)', 'bearer ' || jwt_sign('{"sub":"alice"}', :'secret')));
\x off
-- a token of its own that merely starts with "Bearer" is no token either way
SELECT code, detail FROM pg_temp.err(format('SELECT jwt_verify(%L, %L)', 'Bearerx.y.z', :'secret'));
-- a PEM key pasted with indented lines; the same key flush left works
SELECT '-----BEGIN PUBLIC KEY-----
MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEX3e1GlnV5cSxx+W1/ffTyjMdWBLh
wPOFdr+MWoJw+NVOSCcJ7wI7im2vLdKd+HLksT+zaSGehGs80z43nzKT+g==
-----END PUBLIC KEY-----' AS pem \gset
\x on
SELECT * FROM pg_temp.err(format('SELECT jwt_public_jwk(%L)', regexp_replace(:'pem', '^', '    ', 'gn')));
SELECT * FROM pg_temp.err(format('SELECT jwt_public_jwk(%L)', regexp_replace(:'pem', E'\n', E'\n\t', 'g')));
\x off
SELECT jwt_public_jwk(regexp_replace(regexp_replace(:'pem', '^', '    ', 'gn'), '^[ \t]+', '', 'gn')) ->> 'kty' AS flush_left_works;
-- a PEM that is broken otherwise keeps the generic message
SELECT code, message, detail FROM pg_temp.err(format('SELECT jwt_public_jwk(%L)', replace(:'pem', 'MFkw', 'MFkx')));
