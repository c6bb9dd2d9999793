--
-- algorithms: every asymmetric JWS algorithm (RFC 7518 section 3, RFC 8037,
-- RFC 8812, RFC 9864) signed and verified through SQL, and the attacks on
-- signatures that each family invites.
--
-- ECDSA and RSA-PSS signatures are randomised: for them only outcomes are
-- shown (booleans, claims, errors), never a key or a signature.
-- RSASSA-PKCS1-v1_5 and EdDSA are deterministic, so with the fixed keys below
-- their tokens are known answers; each was also checked outside the database
-- (Python "cryptography" verifies it with the same public key).
--
-- THE KEYS BELOW ARE TEST-ONLY KEYS, generated once with openssl for this
-- suite and published with it.  Never use them for anything else.
--
-- RSA 2048, PKCS#8 (test-only)
SELECT '-----BEGIN PRIVATE KEY-----
MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQDaC+ygwwhhlH2K
dM2YAb8mit/elFgaM9QwP8ZgnjscKzVOPM/kqNMNHv9pwmfz5LtnjYUmRhA/TZeI
kENlhvG2Ijj1NxmTdbPg0fYWifejJUXG9oja6ciccnhFs0gcTZKXZj3kuAhvrmaa
FiqOJ//qPcV2hrglAITzAeIo5NK8QfF3P1FMuTDMJH6/6VQV6LXUvKBds2v2ps7+
joqFGopjsUstKvVtLFz6sKXi8inAWayWzuansxKNyCf1LY+2oG29KOqJxpCmk8Sz
7vKt4O8CUNBvwnIJj0Yp18I4TvIs0GnmQhW1DjaiyYG+t42jskK34VSqLuMCU8nY
TduFkJiTAgMBAAECggEAYLW0PLN0Rq9xJRVcUMTJjuM+mv6puuls/f9zUcwshHhn
mq1fOdhlT2cFutc2exbixfGfclPWBfW4taHiuqepEnLIV36aUex9HUSSxPlphAtW
kQIsvge96iHdVXDIlYEUeSEoZ4b2eu5b5JDbTBTSrYa7S7BCAWtjDFM0B5ZCH6vA
CDzeOttWxZJKLa2AGp7sUKzDof/tpML/7h9W4RKl0qPumlRGUvUnA9rjVxw53jeY
hG/8SV18ETJuFUf8XY/25aljKykH0y9PRi8V3YUAwejVrs+OY7s6pUrD2af+iLRx
iMFBo6FhXLrq+R9NHSky6RzdwP+POElUHKfFtenvsQKBgQD3smzwsmXGxN98ph6o
thWQQWiWpSoxLexRigWl7sMQG+t46uHFXcDSfhLYNSa0VGARObZokwiQIB7iOoGf
0wkjGNZvzPvgzP1LgyAqKdWQMeGBRf267mrTa2OOomH3gjSkr5YmT3nlZKy0+sLr
tXnqqlySid76TsgROuTe7jRe0QKBgQDhWw7wh9o0nBvZuZX8w5G4MMxcscoOrTEd
jKMqGRUqZcWXFzLDd4CgGEu1+qGw9mw5gyEJrcQcvppPoqLweEl0c9GtYviN6hLO
zMzT4WMyVJNVdFzCUJ4yzwi20zzTsp5kjLSbTaZ8h0ritBv2gV272ztp/9HuNQbz
aB+0P4oCIwKBgCEy+QcJ4jpSCOJcIZ/bR+id27bVTGJrFVGYfklPRzXRiC4czUX2
2vFblIsGFLn21Sl54skBbBRlOb54uQcC8iaSHau+fcQTtZ95Y8ZC9SzugpshFnEH
o6nSqvVjLl5ORWANaMKZxGzKoZtgQN/24vBhBSde81P5Wzdz/Vkj9EEBAoGADw+i
4/hwYOu+AMMifw4jAwhf4CIRuwFgMvVfQkUC4R6EIiDux5mJAyochUEG5WjSutVE
s/zlCnbCoWfhM+kWH65N6SSgL/vg3elaFx8NHiQA5MkuGd6BdCvaDT345r0dUOMG
fwqlgdUY8CXRaJwkw5VXVzI9uYnZuRLQa5+DfbkCgYEAwxz8KuYYRAWEz1WpFqkH
2KMwlT5RosN460CdcHYgnALnfMa5XaTnHh9oFSfy9vXqmatax47EcT1Ju1fIEcrz
CQ1zcRRD3MQif/tyM3nrGXT4Fp2cuW98dGpNeYMRW56in0T18bXnNtyz/d3j7uCC
qJXHCkEFfRyMuqlDukgNvIE=
-----END PRIVATE KEY-----' AS rsa_private \gset
-- EC P-256, PKCS#8 (test-only)
SELECT '-----BEGIN PRIVATE KEY-----
MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgE+tBk/qRhfHNT0SE
RZunEk6c0+qCs4wyfycfbSLEnEqhRANCAARfd7UaWdXlxLHH5bX999PKMx1YEuHA
84V2v4xagnD41U5IJwnvAjuKba8t0p34cuSxP7NpIZ6EazzTPjefMpP6
-----END PRIVATE KEY-----' AS ec_private \gset
-- Ed25519 and Ed448, PKCS#8 (test-only)
SELECT '-----BEGIN PRIVATE KEY-----
MC4CAQAwBQYDK2VwBCIEIHh306YFBoCD7ZE17pZlEaGD9NOBPSIZtEMhutvYa6Pr
-----END PRIVATE KEY-----' AS ed25519_private \gset
SELECT '-----BEGIN PRIVATE KEY-----
MEcCAQAwBQYDK2VxBDsEOT5DCyRZJ90NLh9tqQkUckYKBV0QMzSJKRuu4zA0GP3u
yU+5ljZoL9jMZHuya3YtWw2U5Rrhg/FibQ==
-----END PRIVATE KEY-----' AS ed448_private \gset
-- their public halves, as JWKs
SELECT jwt_public_jwk(:'rsa_private')::text AS rsa_public,
       jwt_public_jwk(:'ec_private')::text AS ec_public,
       jwt_public_jwk(:'ed25519_private')::text AS ed25519_public,
       jwt_public_jwk(:'ed448_private')::text AS ed448_public \gset
-- base64url without padding, and back
CREATE FUNCTION pg_temp.b64url(bytea) RETURNS text
AS $$ SELECT translate(rtrim(replace(encode($1, 'base64'), E'\n', ''), '='), '+/', '-_') $$
LANGUAGE sql IMMUTABLE STRICT;
CREATE FUNCTION pg_temp.unb64url(text) RETURNS bytea
AS $$ SELECT decode(rpad(translate($1, '-_', '+/'), (length($1) + 3) / 4 * 4, '='), 'base64') $$
LANGUAGE sql IMMUTABLE STRICT;
-- the signature of a token as bytes, and a token with another signature or header
CREATE FUNCTION pg_temp.sig(token text) RETURNS bytea
AS $$ SELECT pg_temp.unb64url(split_part(token, '.', 3)) $$
LANGUAGE sql IMMUTABLE STRICT;
CREATE FUNCTION pg_temp.with_sig(token text, sig bytea) RETURNS text
AS $$ SELECT split_part(token, '.', 1) || '.' || split_part(token, '.', 2) || '.' || pg_temp.b64url(sig) $$
LANGUAGE sql IMMUTABLE STRICT;
CREATE FUNCTION pg_temp.with_header(token text, header text) RETURNS text
AS $$ SELECT pg_temp.b64url(convert_to(header, 'UTF8')) || '.' || split_part(token, '.', 2) || '.' || split_part(token, '.', 3) $$
LANGUAGE sql IMMUTABLE STRICT;
-- big-endian unsigned integers: bytes to numeric, and numeric to len bytes
CREATE FUNCTION pg_temp.to_num(b bytea) RETURNS numeric
LANGUAGE plpgsql IMMUTABLE STRICT AS $$
DECLARE
    n numeric := 0;
BEGIN
    FOR i IN 0 .. length(b) - 1 LOOP
        n := n * 256 + get_byte(b, i);
    END LOOP;
    RETURN n;
END
$$;
CREATE FUNCTION pg_temp.from_num(n numeric, len integer) RETURNS bytea
LANGUAGE plpgsql IMMUTABLE STRICT AS $$
DECLARE
    b bytea := '';
BEGIN
    FOR i IN 1 .. len LOOP
        b := set_byte('\x00'::bytea, 0, mod(n, 256)::integer) || b;
        n := div(n, 256);
    END LOOP;
    IF n <> 0 THEN
        RAISE EXCEPTION 'number does not fit in % bytes', len;
    END IF;
    RETURN b;
END
$$;
-- the bytes in reverse order (EdDSA scalars are little-endian)
CREATE FUNCTION pg_temp.reversed(b bytea) RETURNS bytea
AS $$ SELECT coalesce(string_agg(substr(b, i, 1), ''::bytea ORDER BY i DESC), ''::bytea)
      FROM generate_series(1, length(b)) AS i $$
LANGUAGE sql IMMUTABLE STRICT;
-- an ECDSA signature (r, s) as DER: SEQUENCE { INTEGER r, INTEGER s }, what
-- OpenSSL produces and what JWS does not use
CREATE FUNCTION pg_temp.der_integer(b bytea) RETURNS bytea
LANGUAGE plpgsql IMMUTABLE STRICT AS $$
BEGIN
    WHILE length(b) > 1 AND get_byte(b, 0) = 0 LOOP
        b := substr(b, 2);
    END LOOP;
    IF get_byte(b, 0) >= 128 THEN
        b := '\x00'::bytea || b;
    END IF;
    RETURN '\x02'::bytea || set_byte('\x00'::bytea, 0, length(b)) || b;
END
$$;
CREATE FUNCTION pg_temp.der_signature(r bytea, s bytea) RETURNS bytea
AS $$ SELECT '\x30'::bytea || set_byte('\x00'::bytea, 0, length(pg_temp.der_integer(r) || pg_temp.der_integer(s)))
             || pg_temp.der_integer(r) || pg_temp.der_integer(s) $$
LANGUAGE sql IMMUTABLE STRICT;
-- what jwt_verify and jwt_is_valid make of a token: the claims, or the error
CREATE FUNCTION pg_temp.verdict(token text, key text, algorithms text[] DEFAULT NULL,
                                OUT code text, OUT message text, OUT detail text,
                                OUT hint text, OUT is_valid text)
LANGUAGE plpgsql AS $$
BEGIN
    BEGIN
        detail := jwt_verify(token, key, algorithms)::text;
        code := '00000';
        message := 'accepted';
    EXCEPTION WHEN OTHERS THEN
        GET STACKED DIAGNOSTICS code = RETURNED_SQLSTATE, message = MESSAGE_TEXT,
                                detail = PG_EXCEPTION_DETAIL, hint = PG_EXCEPTION_HINT;
    END;
    BEGIN
        is_valid := jwt_is_valid(token, key, algorithms)::text;
    EXCEPTION WHEN OTHERS THEN
        GET STACKED DIAGNOSTICS is_valid = RETURNED_SQLSTATE;
        is_valid := 'raised ' || is_valid;
    END;
END
$$;
-- what jwt_sign makes of its arguments: the header of the token, or the error
CREATE FUNCTION pg_temp.signing(claims jsonb, key text, algorithm text, header jsonb DEFAULT NULL,
                                OUT code text, OUT message text, OUT detail text, OUT hint text)
LANGUAGE plpgsql AS $$
BEGIN
    message := jwt_decode(jwt_sign(claims, key, algorithm, header)) ->> 'header';
    code := '00000';
EXCEPTION WHEN OTHERS THEN
    GET STACKED DIAGNOSTICS code = RETURNED_SQLSTATE, message = MESSAGE_TEXT,
                            detail = PG_EXCEPTION_DETAIL, hint = PG_EXCEPTION_HINT;
END
$$;
--
-- Round trips with keys from jwt_generate_key: one key per algorithm, and
-- EdDSA on both of its curves.  The header is {"alg","typ","kid"} with the
-- key's kid; the signature has the algorithm's fixed length; the token
-- verifies with the public JWK and with the private JWK itself, to the very
-- claims; signing twice gives the same token only for the deterministic
-- algorithms.
--
CREATE TEMP TABLE gen AS
SELECT ord, name, alg, jwt_generate_key(key_alg) AS jwk
FROM (VALUES
    (1, 'RS256', 'RS256', 'RS256'),
    (2, 'RS384', 'RS384', 'RS384'),
    (3, 'RS512', 'RS512', 'RS512'),
    (4, 'PS256', 'PS256', 'PS256'),
    (5, 'PS384', 'PS384', 'PS384'),
    (6, 'PS512', 'PS512', 'PS512'),
    (7, 'ES256', 'ES256', 'ES256'),
    (8, 'ES384', 'ES384', 'ES384'),
    (9, 'ES512', 'ES512', 'ES512'),
    (10, 'ES256K', 'ES256K', 'ES256K'),
    (11, 'EdDSA (Ed25519)', 'EdDSA', 'EdDSA'),
    (12, 'EdDSA (Ed448)', 'EdDSA', 'Ed448'),
    (13, 'Ed25519', 'Ed25519', 'Ed25519'),
    (14, 'Ed448', 'Ed448', 'Ed448')
) AS t(ord, name, alg, key_alg);
CREATE TEMP TABLE signed AS
SELECT ord, name, alg, jwk, jwt_public_jwk(jwk::text)::text AS pub,
       jwt_sign(jsonb_build_object('sub', 'alice', 'alg_used', name), jwk::text, alg) AS token
FROM gen;
SELECT name, (jwt_decode(token) -> 'header') - 'kid' AS header,
       jwt_decode(token) -> 'header' ->> 'kid' = jwk ->> 'kid' AS kid_of_key,
       length(pg_temp.sig(token)) AS sig_bytes,
       jwt_verify(token, pub) AS claims,
       jwt_verify(token, jwk::text) = jwt_verify(token, pub) AS private_jwk_verifies,
       jwt_is_valid(token, pub, ARRAY[alg]) AS alg_allowed,
       jwt_sign(jsonb_build_object('sub', 'alice', 'alg_used', name), jwk::text, alg) = token AS deterministic
FROM signed
ORDER BY ord;
-- every token against every public key (their kids left out, so that each
-- key is tried): each token is accepted by its own key only
SELECT t.name AS token, string_agg(k.name, ', ' ORDER BY k.ord) FILTER (WHERE jwt_is_valid(t.token, k.pub_no_kid)) AS accepted_by,
       count(*) FILTER (WHERE NOT jwt_is_valid(t.token, k.pub_no_kid)) AS refused_by
FROM signed t CROSS JOIN (SELECT ord, name, (pub::jsonb - 'kid')::text AS pub_no_kid FROM signed) AS k
GROUP BY t.ord, t.name
ORDER BY t.ord;
-- a token checked with another key of the same algorithm: refused by its
-- kid, and without the kid by its signature
SELECT s.name, v.code, v.detail AS with_kid, w.code, w.detail AS without_kid
FROM signed s
JOIN LATERAL (SELECT jwt_public_jwk(jwt_generate_key(CASE s.name WHEN 'EdDSA (Ed448)' THEN 'Ed448' ELSE s.alg END)::text) AS other) o ON true,
LATERAL pg_temp.verdict(s.token, o.other::text) v,
LATERAL pg_temp.verdict(s.token, (o.other - 'kid')::text) w
ORDER BY s.ord;
--
-- Known answers: RSASSA-PKCS1-v1_5 and EdDSA are deterministic, so the
-- fixed keys give fixed tokens.
--
SELECT alg, jwt_sign('{"sub":"alice","iat":1700000000}', :'rsa_private', alg) AS token
FROM unnest('{RS256,RS384,RS512}'::text[]) AS alg;
SELECT key, alg, jwt_sign('{"sub":"alice","iat":1700000000}', pem, alg) AS token
FROM (VALUES ('Ed25519', :'ed25519_private', 'EdDSA'), ('Ed25519', :'ed25519_private', 'Ed25519'),
             ('Ed448', :'ed448_private', 'EdDSA'), ('Ed448', :'ed448_private', 'Ed448')) AS t(key, pem, alg);
-- each verifies with the public JWK, and only under its own name
SELECT key, alg, jwt_verify(jwt_sign('{"sub":"alice","iat":1700000000}', pem, alg), pub) AS claims,
       jwt_is_valid(jwt_sign('{"sub":"alice","iat":1700000000}', pem, alg), pub, ARRAY[alg]) AS own_name_allowed,
       jwt_is_valid(jwt_sign('{"sub":"alice","iat":1700000000}', pem, alg), pub, ARRAY[other]) AS other_name_allowed
FROM (VALUES ('RSA', :'rsa_private', :'rsa_public', 'RS256', 'RS384'),
             ('RSA', :'rsa_private', :'rsa_public', 'RS384', 'RS512'),
             ('RSA', :'rsa_private', :'rsa_public', 'RS512', 'RS256'),
             ('Ed25519', :'ed25519_private', :'ed25519_public', 'EdDSA', 'Ed25519'),
             ('Ed25519', :'ed25519_private', :'ed25519_public', 'Ed25519', 'EdDSA'),
             ('Ed448', :'ed448_private', :'ed448_public', 'EdDSA', 'Ed448'),
             ('Ed448', :'ed448_private', :'ed448_public', 'Ed448', 'EdDSA')) AS t(key, pem, pub, alg, other);
--
-- ECDSA: attacks on the signature of a valid ES256 token.  JWS carries R||S,
-- 32 bytes each for P-256, with 0 < r, s < n (n the order of the curve);
-- everything else is refused before any arithmetic (CVE-2022-21449).
--
SELECT jwt_sign('{"sub":"alice"}', :'ec_private', 'ES256') AS es256 \gset
SELECT 'ffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551' AS n_hex \gset
SELECT encode(substr(pg_temp.sig(:'es256'), 1, 32), 'hex') AS r_hex,
       encode(substr(pg_temp.sig(:'es256'), 33, 32), 'hex') AS s_hex \gset
-- the token verifies as signed; the fixed header and payload
SELECT jwt_decode(:'es256') AS decoded, length(pg_temp.sig(:'es256')) AS sig_bytes,
       jwt_verify(:'es256', :'ec_public') AS claims;
-- another P-256 key signs the very same bytes (its kid left out of the header)
SELECT jwt_sign('{"sub":"alice"}', jwt_generate_key('ES256')::text, 'ES256', '{"kid":null}') AS es256_other_key \gset
-- the DER form is well formed: SEQUENCE, its length, INTEGER r first
SELECT get_byte(der, 0) = 48 AND get_byte(der, 1) = length(der) - 2 AND get_byte(der, 2) = 2 AS der_well_formed
FROM pg_temp.der_signature(decode(:'r_hex', 'hex'), decode(:'s_hex', 'hex')) AS der;
SELECT split_part(:'es256_other_key', '.', 1) = split_part(:'es256', '.', 1) AS same_header,
       split_part(:'es256_other_key', '.', 2) = split_part(:'es256', '.', 2) AS same_payload;
-- (the length of a DER signature depends on the top bits of r and s, so it
-- is not shown)
SELECT attack, CASE WHEN attack <> 'DER of r and s' THEN length(sig) END AS sig_bytes, v.*
FROM (VALUES
    ('the signature as made (control)', decode(:'r_hex' || :'s_hex', 'hex')),
    ('r = s = 0: the all-zero signature', decode(repeat('00', 64), 'hex')),
    ('r = 0', decode(repeat('00', 32) || :'s_hex', 'hex')),
    ('s = 0', decode(:'r_hex' || repeat('00', 32), 'hex')),
    ('r = n', decode(:'n_hex' || :'s_hex', 'hex')),
    ('s = n', decode(:'r_hex' || :'n_hex', 'hex')),
    ('r = s = n', decode(:'n_hex' || :'n_hex', 'hex')),
    ('r = r + n, written in 33 bytes', pg_temp.from_num(pg_temp.to_num(decode(:'r_hex', 'hex')) + pg_temp.to_num(decode(:'n_hex', 'hex')), 33) || decode(:'s_hex', 'hex')),
    ('r = s = 2^256 - 1', decode(repeat('ff', 64), 'hex')),
    ('r = s = 1', decode(repeat('00', 31) || '01' || repeat('00', 31) || '01', 'hex')),
    ('r and s swapped', decode(:'s_hex' || :'r_hex', 'hex')),
    ('DER of r and s', pg_temp.der_signature(decode(:'r_hex', 'hex'), decode(:'s_hex', 'hex'))),
    ('DER of r = s = 0', pg_temp.der_signature('\x00', '\x00')),
    ('one byte short', substr(decode(:'r_hex' || :'s_hex', 'hex'), 1, 63)),
    ('one byte long', decode(:'r_hex' || :'s_hex' || '00', 'hex')),
    ('a zero byte in front', decode('00' || :'r_hex' || :'s_hex', 'hex')),
    ('empty', ''::bytea),
    ('last bit flipped', decode(:'r_hex' || left(:'s_hex', 62) || lpad(to_hex(('x' || right(:'s_hex', 2))::bit(8)::integer # 1), 2, '0'), 'hex')),
    ('another P-256 key, same bytes signed', pg_temp.sig(:'es256_other_key')),
    ('an ES256K signature (secp256k1)', pg_temp.sig(jwt_sign('{"sub":"alice"}', jwt_generate_key('ES256K')::text, 'ES256K'))),
    ('an ES384 signature', pg_temp.sig(jwt_sign('{"sub":"alice"}', jwt_generate_key('ES384')::text, 'ES384'))),
    ('an RS256 signature', pg_temp.sig(jwt_sign('{"sub":"alice"}', :'rsa_private', 'RS256'))),
    ('an EdDSA signature', pg_temp.sig(jwt_sign('{"sub":"alice"}', :'ed25519_private', 'EdDSA'))),
    ('an HS256 MAC', pg_temp.sig(jwt_sign('{"sub":"alice"}', repeat('s', 32), 'HS256')))
) AS t(attack, sig),
LATERAL pg_temp.verdict(pg_temp.with_sig(:'es256', sig), :'ec_public') v;
-- High S.  ECDSA is malleable: if (r, s) is a signature, so is (r, n - s).
-- JWS (RFC 7518 section 3.4) does not require the low-S form, so the
-- malleated signature is ACCEPTED, as OpenSSL accepts it.  It is another
-- token string for the same claims: a replay cache must be keyed by "jti",
-- never by the token text.
SELECT pg_temp.with_sig(:'es256', decode(:'r_hex', 'hex') ||
           pg_temp.from_num(pg_temp.to_num(decode(:'n_hex', 'hex')) - pg_temp.to_num(decode(:'s_hex', 'hex')), 32)) AS es256_flipped \gset
SELECT :'es256_flipped' <> :'es256' AS another_token,
       pg_temp.to_num(substr(pg_temp.sig(:'es256_flipped'), 33, 32)) + pg_temp.to_num(decode(:'s_hex', 'hex'))
           = pg_temp.to_num(decode(:'n_hex', 'hex')) AS s_plus_flipped_s_is_n;
SELECT * FROM pg_temp.verdict(:'es256_flipped', :'ec_public');
-- the curve is bound to the algorithm: an ES256 token relabelled, or
-- checked with a key of another curve
SELECT rule, v.*
FROM (VALUES
    ('header says ES384, P-256 key', pg_temp.with_header(:'es256', '{"alg":"ES384","typ":"JWT"}'), :'ec_public', NULL::text[]),
    ('header says ES256K, P-256 key', pg_temp.with_header(:'es256', '{"alg":"ES256K","typ":"JWT"}'), :'ec_public', NULL),
    ('P-384 key', :'es256', jwt_public_jwk(jwt_generate_key('ES384')::text)::text, NULL),
    ('secp256k1 key', :'es256', jwt_public_jwk(jwt_generate_key('ES256K')::text)::text, NULL),
    ('P-256 key, algorithms {ES384}', :'es256', :'ec_public', '{ES384}'),
    ('P-256 key, algorithms {ES384,ES256}', :'es256', :'ec_public', '{ES384,ES256}')
) AS t(rule, token, key, algorithms),
LATERAL pg_temp.verdict(token, key, algorithms) v;
--
-- RSA: the signature is exactly the modulus size (256 bytes here), and
-- PS* use MGF1 with the token's hash and a salt of the hash length.
--
SELECT jwt_sign('{"sub":"alice"}', :'rsa_private', 'RS256') AS rs256 \gset
SELECT attack, length(sig) AS sig_bytes, v.*
FROM (VALUES
    ('the signature as made (control)', pg_temp.sig(:'rs256')),
    ('one byte short (last byte dropped)', substr(pg_temp.sig(:'rs256'), 1, 255)),
    ('one byte short (first byte dropped)', substr(pg_temp.sig(:'rs256'), 2)),
    ('one byte long (zero byte appended)', pg_temp.sig(:'rs256') || '\x00'::bytea),
    ('one byte long (zero byte in front, the same number)', '\x00'::bytea || pg_temp.sig(:'rs256')),
    ('all zero', decode(repeat('00', 256), 'hex')),
    ('the number 1', decode(repeat('00', 255) || '01', 'hex')),
    ('the modulus itself', pg_temp.unb64url(:'rsa_public'::jsonb ->> 'n')),
    ('a PS256 signature of the same key', pg_temp.sig(jwt_sign('{"sub":"alice"}', :'rsa_private', 'PS256')))
) AS t(attack, sig),
LATERAL pg_temp.verdict(pg_temp.with_sig(:'rs256', sig), :'rsa_public') v;
-- RSA-PSS signatures made with the fixed key outside the database (Python
-- "cryptography"), over header {"alg":…,"typ":"JWT"} and payload
-- {"sub":"alice"}: only the salt of the hash length with MGF1 of the same
-- hash is accepted, and a PKCS#1 v1.5 signature is no PSS signature (nor
-- the reverse)
SELECT made_with, v.*
FROM (VALUES
    ('PS256, salt 32, MGF1-SHA256 (control)', 'eyJhbGciOiJQUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiJhbGljZSJ9.x7hadq0YVwdzn7bPVBMQMJCPmPiMiWZ4h71lnq3G86AXjulA_8Ho16xKUgmRQwvGkXPqVCV0ba-AMI3FzSeJ0puvu_uFTtAnrTfaNRMe075s-fHygrwTp9J9PENgA31qTAmYiyR7i6CgL8f0SHUY68r-Vwzr1PLLwu647mBNvjVI1Y_3RQv5q_yPZWh9bPZhfqZGzlbsXW674VUT07Q4z8mLnSKdjx-jBXLyrBsoOZhQStU7Ubb5s1hiS5QhAIeRH33UVjCA1R_4phoyHNhZlImnKaADGI3rf5xtO-qnkp4mMwVmWBZZCy_WpmzdcfOfxO425-PxGdJbWdKQqlpj9g'),
    ('PS256, salt 0', 'eyJhbGciOiJQUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiJhbGljZSJ9.iDXPgh-eoSJVX6f-25h9ks7jNy7AtHBqWwL5Bm5lMq-V8_VJesELFpXyrPxJNxyLg40FhDafv01tsm6BAGX1eHM9gr7qS3llwcWayufAW9kDNXC50e8wGG_V_Gej6y7sGIsNN3UiagnYANwiXtPeYrKi2bASNRLcr3isi6FK4bdkekAAZQrERT37U6yxui-fUu-T6mJNIUWQTz5g3u11D7FKye2FEFrKDO4mjbNyyqDe6RE40IgEIjNa0FkryPH2lqaBrKGFSGVnwH6-9Sog4isLp9YDbPgAsDnR3W7P9gAluxWnxxAh8dmkKeMOJEruCVSpmYSTe5MHKtzjMp0tOg'),
    ('PS256, salt 20', 'eyJhbGciOiJQUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiJhbGljZSJ9.TSe7vlFE6qtejfTD_sxdnhDk5i_LJ9f5jWXMwgQQsQPrsexu6fX6zZf8QBes5CRSa_xqphLRCT_AzSa-NavI1Hk1KpHEbZe_2aKHGVIO_gSC6FYwgX0CMuqgTxoBoIOTXtFBvZ-PUowC7R3zkYEYyrNk4wmDRkY6LvM_krYQtKovfRl5VBkvHpclhEaP7_u0Zbl7cEb8mFmM3cv0aHYeGbZXYhhTr7NyjLU0c3RYktuAtvfHf3pddXVE_8E5aKuaLx1FVHhFkMRFI567ZiC3XlZAhb3eKVwKd8rWnQydXJmwlVmiWnGZxL-5EZdcmFx3TDxJi6ox4sXbVvMJ_jz-sw'),
    ('PS256, salt 64', 'eyJhbGciOiJQUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiJhbGljZSJ9.B_p_WLdH4uvpCd8YDGWtAovPOO9tGevaumRsgrUOOTiMIlQKiEe4QoIU949xXhNKBm-42RD-gOstoOz1QCtmEUupCnmPSSL5NA0ri9RDJHX3k_xwNfSvHomalfbZtorqDtLd7WjFz4AeJNbZ7CKPPbjvf8xmM3SNQondsfqSiYSu1T2hUiNCejDzmMTfAV3BRJo_jH8uNo1F2BuWJFKK4xEBG4aAmx2OfBnYuzllSgyPqNmp9dh39mMNym5MD8TfWYRWf_HOAVQQPI-dzIix8Pw_uV1oK0Lp_yyhiFMUps6eHg6Af6MqHveUgKrs79SwspiaPfEVdUu-bTGoAX7c-A'),
    ('PS256, salt 222 (the largest)', 'eyJhbGciOiJQUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiJhbGljZSJ9.Gwz6su1o8jNW3yEHOqeIeITxUl0mgrfsDAvq4X-kEfCNoaA6F4bweVwrdv519Wo0U2rURqc-JpLBOgcxPe7vw37x3K-DZEUHMJm9-faI7NXT5PGL4YRMcOe8h0fKs8zIASAnCoKxqMYVxpsSiSGVJtMEVzJyQSNtddBoa66aYX8ucKjmkP3bJqHFpHRNzePnFSoEibooxW4EDIb8luhpNuJ7kK4FHXiCkt4gPiGQp7gW4iyooxcCVVWMmiGG4ZXRRnuJ84ZgUP-Q1ux83-hc3WNLdnTO67HyBx5SmrhAygnF2Cy9_ZdwQMcTuhAIdq4LIcgW0Bsaa_ebG1U2FjHfyA'),
    ('PS256, salt 32, MGF1-SHA1', 'eyJhbGciOiJQUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiJhbGljZSJ9.nDq4C74VKHmHTghsS1cQ32mJ-OI0D64FVuIb5vIEdQWeluhR1h0tOZrGu-mlCgwKn4t0KTTVaP9jI2ASNStv0U2MNBjDduHynBf0BIdHtkLeOE8F9WNLasGQ91r4QOPFn8LGcd5TPqbpHCvs57Nj8NWrraFEQ2_lXRAjeWqrTUqa1OoVlV4_NnNbYte56tzkRb3Rls52TmD_CQpT3G5PwYs8RgyK5-Khe6XuT9VCVjwvAPHB7J5oZvytRMn8UD1GpYppsIatX7Vg94FdNCVv31UeKj_6XgXcEE37W_7jxWoZJ0hD9snRQVAmhSOm5dUQV3YyQ_GSBuP4nmnjcSzUoQ'),
    ('PS384, salt 48 (control)', 'eyJhbGciOiJQUzM4NCIsInR5cCI6IkpXVCJ9.eyJzdWIiOiJhbGljZSJ9.xqEZJA6pXKNO1xmWdTel6f1KOkPWS7jNn8_k6ps0QAr4LQP1OHYOhKtdkZej00hLEsqCI7UCjx5E9eQ66YycoOEo8mr-H7H93OSvA7uXZ_rKLXRvGNyY_DVebDRFfmaNiUs5buphaOi6-WlxqZbzdUcYc8eTspePCwcMfxpKAPSBmuEFYHeZCobgawxtzQ0f7YTKuP1rb0R7AT7p7hrsiTA4Ji90pCAPicChXKI0Y7HN0AqEd07pmCNn6CVOFnCeZvX0L17s_JUmPcKFoXfvhhvbTL-EsNlBOF7iBkfQjTRAf1AKOuYXkd0KzefJd_qTyUFGbFGUORnbcaaAbHGpiA'),
    ('PS384, salt 32', 'eyJhbGciOiJQUzM4NCIsInR5cCI6IkpXVCJ9.eyJzdWIiOiJhbGljZSJ9.jmWD5ZphAGHCUXQ2CiLZl92MvERLxPzSuCsXSPWo4htelPsZXNc5EvSJL3xSEefaNoLmPcTepjeU6tR14exqtkmwEEscn1t-69pisjOXtxXY5dL8zhuv6ToWUBlHFnBwDYNUp4nFzcxgTU1EozuBMH6S6HyWliyoxZJyp79TFhZ5MRnO581KqRFK_l7XyIOYVGT6oi_wx-WjjgAQNBgtTZ5sL1EQPCeb-yM2ceV-K31rmlvmv9Y8OtzXtSuOGzDodRNa1bMSf4-AS5kD4XEC4rH7zu7MV2lD7a-IvaE-U8lenVqHmnA0XR7bt1BEJ_IoDEG_vXxWJdtrUFQC0w5JoQ'),
    ('PS512, salt 64 (control)', 'eyJhbGciOiJQUzUxMiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiJhbGljZSJ9.FyLhJURH-QF85dSHU48rNxjE7KbKvO42p_o_wpyknChSplV5dZ0kSKYp5c2uRjAucRlTtrMxmhRu6_kJL4COKI29kPgZXnFzbKTYlg3AoPVDP_J2lk1NCK7zbsAEYlcaSKo5nmFteRQgMzKK8n35HePW6p7RG6DbXY82yKgcE9ez_HecnGZz1fnt_JSfWfJlT80kPmELj3G7LuB_1DgqNa_xC7Jby6m5rYFxKu-mSJuumF5jjYRc8ZqDB_-ZyDBmAUPEioZ_LYiO4jV-9423EI7CtM6AY5hiJYDfIwpqu3O2gE9pRrS_dt_tP2FZAMBHoGDGP_ZYt0Et3mKrG6fjUQ'),
    ('PS512, salt 32', 'eyJhbGciOiJQUzUxMiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiJhbGljZSJ9.fRmH3o9t77fNkp7tjdaxgRHq0xzAMrUSA5YhE2rtdbGPy6IWXM6RFIkwtA0cLYSGNMhgUPVGI-_7YaMJRje6jcg9dCRDmnQJSWt06RPNDnyJ_44T6Ew5rIze_HiiB5-wIh_2LuKAGJftW61kRws-7l8kpqh8ebeL5IENzU_eisv6lCfuZECPkXNp3a8-zWyHB7mDooPqsagGWaWGSItTFudOXOuy85x_9g20Cuo89uenPdnegt2Lz6KxLAChUmlrw_TfvsK8WGdGwDioiBoJ2N_QEt4kW3IN-a0kia_wOuqybEKAuBr794-wWr4-8rSEoG0gholZBK0fswQUkxF0CQ'),
    ('PKCS#1 v1.5 signature under "PS256"', 'eyJhbGciOiJQUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiJhbGljZSJ9.c0cUnZAa3_fpmyjtT0i-k8c6HBryiXhQCuPv524Nyd-ZbPd4TMl7uE5Dd6OWsT7AFRHwO7QH9ORa2aX-CqZB5UZfV67w83rIoyX_f-yrVt9Cin-xJH0ocRVT622p5vDkEUF5hLLrOsKp3qHNq4Zbs26ifE4jJYsTganZsMH_0-X-Xus9voCGMAOegSv-KQ6t5lEncHU7G3xhgPE6nB5NKLBMxd_f9cAa67upyVF0aQg98qXC-PdQPsL0hkt9prkHn-0uw6_AS3dEwRxLoRJHOyPf3WKM05wVwi3fp-1LitBefZY9m3ocxKN8EaQexfz-Y5VFZVmYr4NPxvzRH1rBKQ'),
    ('PSS signature under "RS256"', 'eyJhbGciOiJSUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiJhbGljZSJ9.Tx76QYc1NXTNGdWzCOG2Mwy_IdJhCyyfQRLZeyf4M7SpDRiNd-pePBd-WiAkWIX2nYumYdLH78QpG0PqP7nUsZo5S2SL-xsfWgr3zjfoxAYtbj2XUaKBp2vyTlWwAdeYpAK2rmzLhn32v5CgHOuFRmgWRoKl7tbFsn6CvZ4XyLlp2o2s5SN9GQJpYRkX6e-RwsRMPIftBZO_EehGT-qbmXLJwQbltVl9fwzgCE69Gt4nSO4gKwyAlyg7eman0P62Xo1RIFbhB-3EaaM0e2H4Et1_9c9jP2ISk6oGTXJu-n7iniLS_2Dtfd3h36tWJVQtpHXxbF90pYD4mhWmz3Z9ng')
) AS t(made_with, token),
LATERAL pg_temp.verdict(token, :'rsa_public') v;
-- the headers of those tokens
SELECT DISTINCT jwt_decode(token) AS decoded
FROM (VALUES ('eyJhbGciOiJQUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiJhbGljZSJ9.x7hadq0YVwdzn7bPVBMQMJCPmPiMiWZ4h71lnq3G86AXjulA_8Ho16xKUgmRQwvGkXPqVCV0ba-AMI3FzSeJ0puvu_uFTtAnrTfaNRMe075s-fHygrwTp9J9PENgA31qTAmYiyR7i6CgL8f0SHUY68r-Vwzr1PLLwu647mBNvjVI1Y_3RQv5q_yPZWh9bPZhfqZGzlbsXW674VUT07Q4z8mLnSKdjx-jBXLyrBsoOZhQStU7Ubb5s1hiS5QhAIeRH33UVjCA1R_4phoyHNhZlImnKaADGI3rf5xtO-qnkp4mMwVmWBZZCy_WpmzdcfOfxO425-PxGdJbWdKQqlpj9g'), ('eyJhbGciOiJQUzM4NCIsInR5cCI6IkpXVCJ9.eyJzdWIiOiJhbGljZSJ9.xqEZJA6pXKNO1xmWdTel6f1KOkPWS7jNn8_k6ps0QAr4LQP1OHYOhKtdkZej00hLEsqCI7UCjx5E9eQ66YycoOEo8mr-H7H93OSvA7uXZ_rKLXRvGNyY_DVebDRFfmaNiUs5buphaOi6-WlxqZbzdUcYc8eTspePCwcMfxpKAPSBmuEFYHeZCobgawxtzQ0f7YTKuP1rb0R7AT7p7hrsiTA4Ji90pCAPicChXKI0Y7HN0AqEd07pmCNn6CVOFnCeZvX0L17s_JUmPcKFoXfvhhvbTL-EsNlBOF7iBkfQjTRAf1AKOuYXkd0KzefJd_qTyUFGbFGUORnbcaaAbHGpiA'), ('eyJhbGciOiJQUzUxMiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiJhbGljZSJ9.FyLhJURH-QF85dSHU48rNxjE7KbKvO42p_o_wpyknChSplV5dZ0kSKYp5c2uRjAucRlTtrMxmhRu6_kJL4COKI29kPgZXnFzbKTYlg3AoPVDP_J2lk1NCK7zbsAEYlcaSKo5nmFteRQgMzKK8n35HePW6p7RG6DbXY82yKgcE9ez_HecnGZz1fnt_JSfWfJlT80kPmELj3G7LuB_1DgqNa_xC7Jby6m5rYFxKu-mSJuumF5jjYRc8ZqDB_-ZyDBmAUPEioZ_LYiO4jV-9423EI7CtM6AY5hiJYDfIwpqu3O2gE9pRrS_dt_tP2FZAMBHoGDGP_ZYt0Et3mKrG6fjUQ'), ('eyJhbGciOiJSUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiJhbGljZSJ9.Tx76QYc1NXTNGdWzCOG2Mwy_IdJhCyyfQRLZeyf4M7SpDRiNd-pePBd-WiAkWIX2nYumYdLH78QpG0PqP7nUsZo5S2SL-xsfWgr3zjfoxAYtbj2XUaKBp2vyTlWwAdeYpAK2rmzLhn32v5CgHOuFRmgWRoKl7tbFsn6CvZ4XyLlp2o2s5SN9GQJpYRkX6e-RwsRMPIftBZO_EehGT-qbmXLJwQbltVl9fwzgCE69Gt4nSO4gKwyAlyg7eman0P62Xo1RIFbhB-3EaaM0e2H4Et1_9c9jP2ISk6oGTXJu-n7iniLS_2Dtfd3h36tWJVQtpHXxbF90pYD4mhWmz3Z9ng')) AS t(token)
ORDER BY 1;
--
-- EdDSA: the signature is 64 bytes (Ed25519) or 114 (Ed448), checked in one
-- shot; the encoding of S must be canonical (S < L), so adding the group
-- order L to S does not make another valid signature.
--
SELECT jwt_sign('{"sub":"alice"}', :'ed25519_private', 'EdDSA') AS ed25519_token,
       jwt_sign('{"sub":"alice"}', :'ed448_private', 'EdDSA') AS ed448_token \gset
SELECT attack, length(sig) AS sig_bytes, v.*
FROM (VALUES
    ('Ed25519: the signature as made (control)', pg_temp.sig(:'ed25519_token'), :'ed25519_token', :'ed25519_public'),
    ('Ed25519: truncated by one byte', substr(pg_temp.sig(:'ed25519_token'), 1, 63), :'ed25519_token', :'ed25519_public'),
    ('Ed25519: truncated to R', substr(pg_temp.sig(:'ed25519_token'), 1, 32), :'ed25519_token', :'ed25519_public'),
    ('Ed25519: one byte long', pg_temp.sig(:'ed25519_token') || '\x00'::bytea, :'ed25519_token', :'ed25519_public'),
    ('Ed25519: all zero', decode(repeat('00', 64), 'hex'), :'ed25519_token', :'ed25519_public'),
    ('Ed25519: S + L', substr(pg_temp.sig(:'ed25519_token'), 1, 32) ||
        pg_temp.reversed(pg_temp.from_num(pg_temp.to_num(pg_temp.reversed(substr(pg_temp.sig(:'ed25519_token'), 33, 32)))
                                          + (2::numeric ^ 252 + 27742317777372353535851937790883648493), 32)),
        :'ed25519_token', :'ed25519_public'),
    ('Ed448: the signature as made (control)', pg_temp.sig(:'ed448_token'), :'ed448_token', :'ed448_public'),
    ('Ed448: truncated by one byte', substr(pg_temp.sig(:'ed448_token'), 1, 113), :'ed448_token', :'ed448_public'),
    ('Ed448: truncated to 64 bytes', substr(pg_temp.sig(:'ed448_token'), 1, 64), :'ed448_token', :'ed448_public'),
    ('Ed448: one byte long', pg_temp.sig(:'ed448_token') || '\x00'::bytea, :'ed448_token', :'ed448_public')
) AS t(attack, sig, token, key),
LATERAL pg_temp.verdict(pg_temp.with_sig(token, sig), key) v;
-- an Ed25519 token checked as Ed448: by algorithms, by relabelling its
-- header, and with an Ed448 key
SELECT jwt_sign('{"sub":"alice"}', :'ed25519_private', 'Ed25519') AS ed25519_named \gset
SELECT rule, v.*
FROM (VALUES
    ('Ed25519 key, algorithms {Ed448}', :'ed25519_named', :'ed25519_public', '{Ed448}'::text[]),
    ('Ed25519 key, algorithms {Ed448,Ed25519}', :'ed25519_named', :'ed25519_public', '{Ed448,Ed25519}'),
    ('header relabelled Ed448, Ed25519 key', pg_temp.with_header(:'ed25519_named', '{"alg":"Ed448","typ":"JWT"}'), :'ed25519_public', NULL),
    ('header relabelled Ed448, Ed448 key', pg_temp.with_header(:'ed25519_named', '{"alg":"Ed448","typ":"JWT"}'), :'ed448_public', NULL),
    ('Ed448 key', :'ed25519_named', :'ed448_public', NULL),
    ('Ed448 key, algorithms {Ed448}', :'ed25519_named', :'ed448_public', '{Ed448}'),
    ('"EdDSA" token of the Ed25519 key, Ed448 key', :'ed25519_token', :'ed448_public', NULL)
) AS t(rule, token, key, algorithms),
LATERAL pg_temp.verdict(token, key, algorithms) v;
--
-- "EdDSA" and the fully-specified "Ed25519" and "Ed448" (RFC 9864) name the
-- same signatures on one curve: a JWK whose "alg" is "EdDSA" verifies
-- "Ed25519" tokens of its key and one whose "alg" is "Ed25519" verifies
-- "EdDSA" tokens, but never across curves.  A JWK naming the other curve's
-- algorithm can do nothing.
--
CREATE TEMP TABLE okp_tokens AS
SELECT * FROM (VALUES
    (1, 'EdDSA (Ed25519 key)', 'EdDSA', :'ed25519_token'),
    (2, 'Ed25519', 'Ed25519', :'ed25519_named'),
    (3, 'EdDSA (Ed448 key)', 'EdDSA', :'ed448_token'),
    (4, 'Ed448', 'Ed448', jwt_sign('{"sub":"alice"}', :'ed448_private', 'Ed448'))
) AS t(ord, token_name, alg, token);
CREATE TEMP TABLE okp_keys AS
SELECT * FROM (VALUES
    (1, 'Ed25519 JWK, alg EdDSA', (:'ed25519_public'::jsonb || '{"alg":"EdDSA"}')::text),
    (2, 'Ed25519 JWK, alg Ed25519', (:'ed25519_public'::jsonb || '{"alg":"Ed25519"}')::text),
    (3, 'Ed25519 JWK, alg Ed448', (:'ed25519_public'::jsonb || '{"alg":"Ed448"}')::text),
    (4, 'Ed448 JWK, alg EdDSA', (:'ed448_public'::jsonb || '{"alg":"EdDSA"}')::text),
    (5, 'Ed448 JWK, alg Ed448', (:'ed448_public'::jsonb || '{"alg":"Ed448"}')::text),
    (6, 'Ed448 JWK, alg Ed25519', (:'ed448_public'::jsonb || '{"alg":"Ed25519"}')::text)
) AS k(ord, key_name, jwk);
SELECT k.key_name, t.token_name, v.code, v.message, v.detail, v.is_valid
FROM okp_keys k CROSS JOIN okp_tokens t,
LATERAL pg_temp.verdict(t.token, k.jwk) v
WHERE k.ord NOT IN (3, 6)
ORDER BY k.ord, t.ord;
-- the two JWKs whose "alg" names the other curve can verify nothing: with
-- the token's algorithm allowed, and with none named
SELECT k.key_name, t.token_name, v.code, v.message, v.hint, v.is_valid
FROM okp_keys k CROSS JOIN okp_tokens t,
LATERAL pg_temp.verdict(t.token, k.jwk, ARRAY[t.alg]) v
WHERE k.ord IN (3, 6)
ORDER BY k.ord, t.ord;
SELECT k.key_name, v.code, v.message, v.hint, v.is_valid
FROM okp_keys k,
LATERAL pg_temp.verdict(:'ed25519_token', k.jwk) v
WHERE k.ord IN (3, 6)
ORDER BY k.ord;
-- the same holds for signing with a private JWK (the fixed Ed25519 key as
-- a JWK: d is the last 32 bytes of its PKCS#8 DER)
SELECT (jwt_public_jwk(:'ed25519_private') || jsonb_build_object('d', pg_temp.b64url(substr(
            decode(regexp_replace(:'ed25519_private', '-----[A-Z ]+-----|\s', '', 'g'), 'base64'), 17, 32))))::text
       AS ed25519_jwk \gset
SELECT key, alg, s.*
FROM (VALUES
    ('Ed25519, alg EdDSA', '{"alg":"EdDSA"}'::jsonb, 'Ed25519'),
    ('Ed25519, alg EdDSA', '{"alg":"EdDSA"}', 'EdDSA'),
    ('Ed25519, alg Ed25519', '{"alg":"Ed25519"}', 'EdDSA'),
    ('Ed25519, alg Ed25519', '{"alg":"Ed25519"}', 'Ed25519'),
    ('Ed25519, alg Ed25519', '{"alg":"Ed25519"}', 'Ed448'),
    ('Ed25519, alg Ed448', '{"alg":"Ed448"}', 'EdDSA'),
    ('Ed25519, no alg', '{}', 'Ed448'),
    ('Ed25519, no alg', '{}', 'ES256')
) AS t(key, members, alg),
LATERAL pg_temp.signing('{"sub":"alice"}', (:'ed25519_jwk'::jsonb || members)::text, alg) s;
-- and the signatures agree: "EdDSA" from the JWK is "EdDSA" from the PEM
SELECT jwt_sign('{"sub":"alice"}', :'ed25519_jwk', 'EdDSA') = :'ed25519_token' AS same_token;
