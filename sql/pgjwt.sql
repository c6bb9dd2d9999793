-- Coming from pgjwt: tokens shaped as pgjwt's sign() makes them (header
-- {"alg":"HS256","typ":"JWT"}, the payload's JSON text as given, base64url
-- without padding, HMAC-SHA-256) verify with jwt_verify, and the README's
-- "Coming from pgjwt" section says what changes on purpose; each change is
-- shown here.  The HMAC is written out from SHA-256 (RFC 2104), so the
-- tokens are not made by this extension at all.
\set VERBOSITY default

CREATE FUNCTION pgjwt_b64url(data bytea) RETURNS text
LANGUAGE sql IMMUTABLE AS $$ SELECT translate(encode(data, 'base64'), E'+/=\n', '-_') $$;

CREATE FUNCTION pgjwt_hmac_sha256(msg bytea, key bytea) RETURNS bytea
LANGUAGE plpgsql IMMUTABLE AS $$
DECLARE
    k bytea := CASE WHEN length(key) > 64 THEN sha256(key) ELSE key END;
    ipad bytea;
    opad bytea;
BEGIN
    k := k || decode(repeat('00', 64 - length(k)), 'hex');
    ipad := k;
    opad := k;
    FOR i IN 0..63 LOOP
        ipad := set_byte(ipad, i, get_byte(k, i) # 54);   -- 0x36
        opad := set_byte(opad, i, get_byte(k, i) # 92);   -- 0x5c
    END LOOP;
    RETURN sha256(opad || sha256(ipad || msg));
END $$;

-- RFC 4231 test case 2: the HMAC above is HMAC-SHA-256
SELECT encode(pgjwt_hmac_sha256(convert_to('what do ya want for nothing?', 'UTF8'),
                                convert_to('Jefe', 'UTF8')), 'hex')
       = '5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843' AS rfc4231_case2;

CREATE FUNCTION pgjwt_style_sign(payload json, secret text) RETURNS text
LANGUAGE sql IMMUTABLE AS $$
    SELECT s || '.' || pgjwt_b64url(pgjwt_hmac_sha256(convert_to(s, 'UTF8'), convert_to(secret, 'UTF8')))
    FROM (SELECT pgjwt_b64url(convert_to('{"alg":"HS256","typ":"JWT"}', 'UTF8')) || '.' ||
                 pgjwt_b64url(convert_to(payload::text, 'UTF8')) AS s) t
$$;

-- the shape is pgjwt's: its own published example (also jwt.io's) comes out
SELECT pgjwt_style_sign('{"sub":"1234567890","name":"John Doe","admin":true}', 'secret')
       = 'eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4gRG9lIiwiYWRtaW4iOnRydWV9.TJVA95OrM7E2cBab30RMHrHDcEfxjoYZgeFONFh7HgQ'
       AS pgjwt_example;

\set secret '\'a-pgjwt-secret-of-at-least-32-bytes!\''

-- sign(payload, secret) -> jwt_sign(payload, secret): both verify either way
SELECT pgjwt_style_sign('{"sub":"alice","role":"reader"}', :secret) AS tok \gset
SELECT jwt_verify(:'tok', :secret, '{HS256}') AS claims;
SELECT jwt_verify(jwt_sign('{"sub":"alice","role":"reader"}', :secret), :secret) ->> 'sub' AS sub;

-- verify(token, secret, algorithm) -> header, payload, valid
SELECT jwt_decode(:'tok') -> 'header' AS header,
       jwt_decode(:'tok') -> 'payload' AS payload,
       jwt_is_valid(:'tok', :secret, '{HS256}') AS valid;
SELECT jwt_is_valid(:'tok', 'another-secret-of-at-least-32-bytes!!', '{HS256}') AS valid_with_wrong_secret;

-- what changes on purpose
-- 1. a secret shorter than the hash (pgjwt's examples use 'secret') is refused
SELECT jwt_verify(pgjwt_style_sign('{"sub":"alice"}', 'secret'), 'secret');
SELECT jwt_sign('{"sub":"alice"}', 'secret');
-- 2. a token with aud needs the audience it is for
SELECT pgjwt_style_sign('{"sub":"alice","aud":"api"}', :secret) AS tok_aud \gset
SELECT jwt_verify(:'tok_aud', :secret);
SELECT jwt_verify(:'tok_aud', :secret, audience => 'api') ->> 'sub' AS sub;
-- 3. duplicate claims (json keeps both, jsonb the last) are refused
SELECT jwt_verify(pgjwt_style_sign('{"sub":"alice","sub":"admin"}', :secret), :secret);
-- 4. exp (and nbf, iat) are checked
SELECT jwt_verify(pgjwt_style_sign('{"sub":"alice","exp":1000000000}', :secret), :secret);
SELECT jwt_verify(pgjwt_style_sign(json_build_object('sub', 'alice', 'exp',
                  extract(epoch from now() + interval '1 hour')::bigint), :secret), :secret) ->> 'sub' AS sub;
-- 5. an exp that is not a number is refused (pgjwt 0.2 ignores it)
SELECT jwt_verify(pgjwt_style_sign('{"sub":"alice","exp":"tomorrow"}', :secret), :secret);

DROP FUNCTION pgjwt_style_sign(json, text);
DROP FUNCTION pgjwt_hmac_sha256(bytea, bytea);
DROP FUNCTION pgjwt_b64url(bytea);
