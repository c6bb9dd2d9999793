--
-- decode: jwt_decode(token text) returns {"header": ..., "payload": ...} and
-- verifies nothing: not the signature, not the algorithm, not the claims.
-- It still refuses what is not a compact JWS with JSON in it (28000).
--
\set secret 'regress-secret-regress-secret-regress-secret-regress-secret-0123'
-- base64url without padding
CREATE FUNCTION pg_temp.b64url(bytea) RETURNS text
AS $$ SELECT translate(rtrim(replace(encode($1, 'base64'), E'\n', ''), '='), '+/', '-_') $$
LANGUAGE sql IMMUTABLE STRICT;
-- a compact token from header and payload bytes, or JSON text, and a signature
CREATE FUNCTION pg_temp.tok(header bytea, payload bytea, sig text) RETURNS text
AS $$ SELECT pg_temp.b64url(header) || '.' || pg_temp.b64url(payload) || '.' || sig $$
LANGUAGE sql IMMUTABLE STRICT;
CREATE FUNCTION pg_temp.tok(header text, payload text, sig text) RETURNS text
AS $$ SELECT pg_temp.tok(convert_to(header, 'UTF8'), convert_to(payload, 'UTF8'), sig) $$
LANGUAGE sql IMMUTABLE STRICT;
-- what jwt_decode makes of a token: the result, or the error
CREATE FUNCTION pg_temp.decoding(token text, OUT code text, OUT message text, OUT detail text)
LANGUAGE plpgsql AS $$
BEGIN
    detail := jwt_decode(token)::text;
    code := '00000';
    message := 'decoded';
EXCEPTION WHEN OTHERS THEN
    GET STACKED DIAGNOSTICS code = RETURNED_SQLSTATE, message = MESSAGE_TEXT,
                            detail = PG_EXCEPTION_DETAIL;
END
$$;
-- a token of jwt_sign, and one of RFC 7515 appendix A.1 (line breaks in
-- its header and payload)
SELECT jwt_decode(jwt_sign('{"sub":"alice","exp":4102444800}', :'secret'));
SELECT jwt_decode(jwt_sign('{"sub":"alice"}', :'secret', 'HS512', '{"typ":"at+jwt","kid":"k1","ext":{"a":[1,2]}}'));
SELECT jwt_decode('eyJ0eXAiOiJKV1QiLA0KICJhbGciOiJIUzI1NiJ9.eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODAsDQogImh0dHA6Ly9leGFtcGxlLmNvbS9pc19yb290Ijp0cnVlfQ.dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk');
-- the parts are jsonb
SELECT jwt_decode(jwt_sign('{"sub":"alice","roles":["a","b"]}', :'secret')) #>> '{payload,roles,1}' AS second_role,
       jwt_decode(jwt_sign('{"sub":"alice"}', :'secret')) -> 'header' ->> 'alg' AS alg;
--
-- Nothing is verified: every one of these is a bad token for jwt_verify,
-- and jwt_decode shows it as it is.
--
SELECT rule, d.*, jwt_is_valid(token, :'secret') AS is_valid
FROM (VALUES
    ('signed with another key', jwt_sign('{"sub":"alice"}', 'another-secret-another-secret-another-secret-another-secret-0123')),
    ('no signature', pg_temp.tok('{"alg":"HS256"}', '{"sub":"alice"}', '')),
    ('alg none', pg_temp.tok('{"alg":"none"}', '{"sub":"admin"}', '')),
    ('alg unknown', pg_temp.tok('{"alg":"XS256"}', '{"sub":"alice"}', 'AAAA')),
    ('no alg', pg_temp.tok('{"typ":"JWT"}', '{"sub":"alice"}', '')),
    ('crit, b64 and zip', pg_temp.tok('{"alg":"HS256","crit":["b64"],"b64":false,"zip":"DEF"}', '{"sub":"alice"}', '')),
    ('kid a number', pg_temp.tok('{"alg":"HS256","kid":7}', '{"sub":"alice"}', '')),
    ('expired', jwt_sign('{"sub":"alice","exp":1000000000}', :'secret')),
    ('exp a string', pg_temp.tok('{"alg":"HS256"}', '{"exp":"tomorrow"}', '')),
    ('payload an array', pg_temp.tok('{"alg":"HS256"}', '["alice"]', '')),
    ('payload a string', pg_temp.tok('{"alg":"HS256"}', '"alice"', '')),
    ('payload a number', pg_temp.tok('{"alg":"HS256"}', '42', '')),
    ('payload null', pg_temp.tok('{"alg":"HS256"}', 'null', '')),
    ('payload empty object', pg_temp.tok('{"alg":"HS256"}', '{}', ''))
) AS t(rule, token),
LATERAL pg_temp.decoding(token) d;
--
-- What is not a compact JWS with a JSON object header and JSON payload is
-- refused, as an invalid token.
--
SELECT rule, d.*
FROM (VALUES
    ('empty string', ''),
    ('no dot', 'eyJhbGciOiJIUzI1NiJ9'),
    ('two segments', pg_temp.b64url(convert_to('{"alg":"HS256"}', 'UTF8')) || '.' || pg_temp.b64url(convert_to('{}', 'UTF8'))),
    ('four segments', pg_temp.tok('{"alg":"HS256"}', '{}', '') || '.'),
    ('padding', pg_temp.b64url(convert_to('{"alg":"HS256"}', 'UTF8')) || '=.e30.'),
    ('standard base64 alphabet', pg_temp.tok('{"alg":"HS256"}', '{}', 'ab+/')),
    ('whitespace', pg_temp.tok('{"alg":"HS256"}', '{}', '') || E'\n'),
    ('stray bits', pg_temp.b64url(convert_to('{"alg":"HS256"}', 'UTF8')) || '.e31.'),
    ('header not JSON', pg_temp.tok('alg=HS256', '{}', '')),
    ('header an array', pg_temp.tok('["HS256"]', '{}', '')),
    ('header repeats a member', pg_temp.tok('{"alg":"none","alg":"HS256"}', '{}', '')),
    ('payload not JSON', pg_temp.tok('{"alg":"HS256"}', 'sub=alice', '')),
    ('payload truncated', pg_temp.tok('{"alg":"HS256"}', '{"sub":"alice"', '')),
    ('payload repeats a member', pg_temp.tok('{"alg":"HS256"}', '{"sub":"alice","sub":"admin"}', '')),
    ('payload invalid UTF-8', pg_temp.tok(convert_to('{"alg":"HS256"}', 'UTF8'), '\x7b22737562223a22c328227d'::bytea, '')),
    ('payload with \u0000', pg_temp.tok('{"alg":"HS256"}', '{"sub":"\u0000"}', '')),
    ('payload number out of range', pg_temp.tok('{"alg":"HS256"}', '{"n":1e999999}', ''))
) AS t(rule, token),
LATERAL pg_temp.decoding(token) d;
-- a JSON escape in a member name is decoded, so this is a repeated member too
SELECT * FROM pg_temp.decoding(pg_temp.tok('{"alg":"HS256"}', '{"role":"user","r\u006fle":"admin"}', ''));
-- escapes that jsonb can hold come through decoded
SELECT jwt_decode(pg_temp.tok('{"alg":"HS256"}', '{"s":"a\"b\\c\/d\n\u0041"}', '')) -> 'payload' AS payload;
