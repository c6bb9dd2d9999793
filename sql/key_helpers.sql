--
-- key_helpers: jwt_generate_key(algorithm), jwt_public_jwk(key) and
-- jwt_jwk_thumbprint(jwk).
--
-- Generated keys are random, so only their shape is shown (members, sizes,
-- that kid is the RFC 7638 thumbprint), never a key.  The fixed keys below
-- give fixed public JWKs and thumbprints; each thumbprint was also computed
-- outside the database (SHA-256 of the RFC 7638 canonical JSON).
--
-- THE KEYS BELOW ARE TEST-ONLY KEYS, generated once with openssl for this
-- suite and published with it.  Never use them for anything else.
--
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
-----END PRIVATE KEY-----' AS rsa_pkcs8 \gset
SELECT '-----BEGIN RSA PRIVATE KEY-----
MIIEowIBAAKCAQEA2gvsoMMIYZR9inTNmAG/Jorf3pRYGjPUMD/GYJ47HCs1TjzP
5KjTDR7/acJn8+S7Z42FJkYQP02XiJBDZYbxtiI49TcZk3Wz4NH2Fon3oyVFxvaI
2unInHJ4RbNIHE2Sl2Y95LgIb65mmhYqjif/6j3Fdoa4JQCE8wHiKOTSvEHxdz9R
TLkwzCR+v+lUFei11LygXbNr9qbO/o6KhRqKY7FLLSr1bSxc+rCl4vIpwFmsls7m
p7MSjcgn9S2PtqBtvSjqicaQppPEs+7yreDvAlDQb8JyCY9GKdfCOE7yLNBp5kIV
tQ42osmBvreNo7JCt+FUqi7jAlPJ2E3bhZCYkwIDAQABAoIBAGC1tDyzdEavcSUV
XFDEyY7jPpr+qbrpbP3/c1HMLIR4Z5qtXznYZU9nBbrXNnsW4sXxn3JT1gX1uLWh
4rqnqRJyyFd+mlHsfR1EksT5aYQLVpECLL4Hveoh3VVwyJWBFHkhKGeG9nruW+SQ
20wU0q2Gu0uwQgFrYwxTNAeWQh+rwAg83jrbVsWSSi2tgBqe7FCsw6H/7aTC/+4f
VuESpdKj7ppURlL1JwPa41ccOd43mIRv/EldfBEybhVH/F2P9uWpYyspB9MvT0Yv
Fd2FAMHo1a7PjmO7OqVKw9mn/oi0cYjBQaOhYVy66vkfTR0pMukc3cD/jzhJVByn
xbXp77ECgYEA97Js8LJlxsTffKYeqLYVkEFolqUqMS3sUYoFpe7DEBvreOrhxV3A
0n4S2DUmtFRgETm2aJMIkCAe4jqBn9MJIxjWb8z74Mz9S4MgKinVkDHhgUX9uu5q
02tjjqJh94I0pK+WJk955WSstPrC67V56qpckone+k7IETrk3u40XtECgYEA4VsO
8IfaNJwb2bmV/MORuDDMXLHKDq0xHYyjKhkVKmXFlxcyw3eAoBhLtfqhsPZsOYMh
Ca3EHL6aT6Ki8HhJdHPRrWL4jeoSzszM0+FjMlSTVXRcwlCeMs8IttM807KeZIy0
m02mfIdK4rQb9oFdu9s7af/R7jUG82gftD+KAiMCgYAhMvkHCeI6UgjiXCGf20fo
ndu21UxiaxVRmH5JT0c10YguHM1F9trxW5SLBhS59tUpeeLJAWwUZTm+eLkHAvIm
kh2rvn3EE7WfeWPGQvUs7oKbIRZxB6Op0qr1Yy5eTkVgDWjCmcRsyqGbYEDf9uLw
YQUnXvNT+Vs3c/1ZI/RBAQKBgA8PouP4cGDrvgDDIn8OIwMIX+AiEbsBYDL1X0JF
AuEehCIg7seZiQMqHIVBBuVo0rrVRLP85Qp2wqFn4TPpFh+uTekkoC/74N3pWhcf
DR4kAOTJLhnegXQr2g09+Oa9HVDjBn8KpYHVGPAl0WicJMOVV1cyPbmJ2bkS0Guf
g325AoGBAMMc/CrmGEQFhM9VqRapB9ijMJU+UaLDeOtAnXB2IJwC53zGuV2k5x4f
aBUn8vb16pmrWseOxHE9SbtXyBHK8wkNc3EUQ9zEIn/7cjN56xl0+BadnLlvfHRq
TXmDEVueop9E9fG15zbcs/3d4+7ggqiVxwpBBX0cjLqpQ7pIDbyB
-----END RSA PRIVATE KEY-----' AS rsa_pkcs1 \gset
SELECT '-----BEGIN PUBLIC KEY-----
MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEA2gvsoMMIYZR9inTNmAG/
Jorf3pRYGjPUMD/GYJ47HCs1TjzP5KjTDR7/acJn8+S7Z42FJkYQP02XiJBDZYbx
tiI49TcZk3Wz4NH2Fon3oyVFxvaI2unInHJ4RbNIHE2Sl2Y95LgIb65mmhYqjif/
6j3Fdoa4JQCE8wHiKOTSvEHxdz9RTLkwzCR+v+lUFei11LygXbNr9qbO/o6KhRqK
Y7FLLSr1bSxc+rCl4vIpwFmsls7mp7MSjcgn9S2PtqBtvSjqicaQppPEs+7yreDv
AlDQb8JyCY9GKdfCOE7yLNBp5kIVtQ42osmBvreNo7JCt+FUqi7jAlPJ2E3bhZCY
kwIDAQAB
-----END PUBLIC KEY-----' AS rsa_spki \gset
SELECT '-----BEGIN CERTIFICATE-----
MIIDFjCCAf6gAwIBAgIBATANBgkqhkiG9w0BAQsFADAjMSEwHwYDVQQDDBhqd3Qg
cmVncmVzc2lvbiB0ZXN0IG9ubHkwIBcNMjYxMTIyMTQxNzAyWhgPMjEyNjEwMjkx
NDE3MDJaMCMxITAfBgNVBAMMGGp3dCByZWdyZXNzaW9uIHRlc3Qgb25seTCCASIw
DQYJKoZIhvcNAQEBBQADggEPADCCAQoCggEBANoL7KDDCGGUfYp0zZgBvyaK396U
WBoz1DA/xmCeOxwrNU48z+So0w0e/2nCZ/Pku2eNhSZGED9Nl4iQQ2WG8bYiOPU3
GZN1s+DR9haJ96MlRcb2iNrpyJxyeEWzSBxNkpdmPeS4CG+uZpoWKo4n/+o9xXaG
uCUAhPMB4ijk0rxB8Xc/UUy5MMwkfr/pVBXotdS8oF2za/amzv6OioUaimOxSy0q
9W0sXPqwpeLyKcBZrJbO5qezEo3IJ/Utj7agbb0o6onGkKaTxLPu8q3g7wJQ0G/C
cgmPRinXwjhO8izQaeZCFbUONqLJgb63jaOyQrfhVKou4wJTydhN24WQmJMCAwEA
AaNTMFEwHQYDVR0OBBYEFB58Xu2rS/jOthAxR2S6HAXBDSxCMB8GA1UdIwQYMBaA
FB58Xu2rS/jOthAxR2S6HAXBDSxCMA8GA1UdEwEB/wQFMAMBAf8wDQYJKoZIhvcN
AQELBQADggEBAMbHPRYhNumnhEXc7GTEFe8x2F+5u0KXaeKGF1wrC93GWOLB39nL
C+BkW0kf2LbzvxesDiNApjFC9bfk0xynnESCb95c/1PWsF7aG36cCbhC+tPT82NE
Y6dijU788MyPqXXFFJf7shUz6oByUiMCv31SkXZu5sGmo4SwxqEdrmQlDg0SPHe1
h5tmv4yuTHF3EzL/oXeP4CLLMK+HmlFlC9GjH9kt0V7AKtqB2cVnTtkcyIJE0pAf
QIGWKWz7WnJPj/x4dQXTTBHRbMShnT8rFKEbJvLUJDwy11iQOIFTqMEFxbWX5jSt
unoVjoBQvIFkR13cJjjGoh5C+UAS+WXUH0I=
-----END CERTIFICATE-----' AS rsa_cert \gset
SELECT '-----BEGIN EC PRIVATE KEY-----
MHcCAQEEIBPrQZP6kYXxzU9EhEWbpxJOnNPqgrOMMn8nH20ixJxKoAoGCCqGSM49
AwEHoUQDQgAEX3e1GlnV5cSxx+W1/ffTyjMdWBLhwPOFdr+MWoJw+NVOSCcJ7wI7
im2vLdKd+HLksT+zaSGehGs80z43nzKT+g==
-----END EC PRIVATE KEY-----' AS ec_sec1 \gset
SELECT '-----BEGIN PUBLIC KEY-----
MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEX3e1GlnV5cSxx+W1/ffTyjMdWBLh
wPOFdr+MWoJw+NVOSCcJ7wI7im2vLdKd+HLksT+zaSGehGs80z43nzKT+g==
-----END PUBLIC KEY-----' AS ec_spki \gset
SELECT '-----BEGIN PRIVATE KEY-----
MC4CAQAwBQYDK2VwBCIEIHh306YFBoCD7ZE17pZlEaGD9NOBPSIZtEMhutvYa6Pr
-----END PRIVATE KEY-----' AS ed25519_pkcs8 \gset
SELECT '-----BEGIN CERTIFICATE-----
MIIBSTCB/KADAgECAgEDMAUGAytlcDAjMSEwHwYDVQQDDBhqd3QgcmVncmVzc2lv
biB0ZXN0IG9ubHkwIBcNMjYxMTIyMTQxNzAyWhgPMjEyNjEwMjkxNDE3MDJaMCMx
ITAfBgNVBAMMGGp3dCByZWdyZXNzaW9uIHRlc3Qgb25seTAqMAUGAytlcAMhACkx
aplsgswhZnf9P4ifiPosTZDILOSsP8HHPdkjxbUKo1MwUTAdBgNVHQ4EFgQUtHGP
Bu9/W3GEoFyfWp9nsVOWpgMwHwYDVR0jBBgwFoAUtHGPBu9/W3GEoFyfWp9nsVOW
pgMwDwYDVR0TAQH/BAUwAwEB/zAFBgMrZXADQQCPCQw8KfWqkNtLhDXB4FjuQcSy
y3hKb72VjsYdyP7uyWTTdwGRKEQM39eHQE9daS3Lz2YXelYE47kdnLjiGdQJ
-----END CERTIFICATE-----' AS ed25519_cert \gset
SELECT '-----BEGIN PRIVATE KEY-----
MEcCAQAwBQYDK2VxBDsEOT5DCyRZJ90NLh9tqQkUckYKBV0QMzSJKRuu4zA0GP3u
yU+5ljZoL9jMZHuya3YtWw2U5Rrhg/FibQ==
-----END PRIVATE KEY-----' AS ed448_pkcs8 \gset
-- base64url without padding, and back
CREATE FUNCTION pg_temp.b64url(bytea) RETURNS text
AS $$ SELECT translate(rtrim(replace(encode($1, 'base64'), E'\n', ''), '='), '+/', '-_') $$
LANGUAGE sql IMMUTABLE STRICT;
CREATE FUNCTION pg_temp.unb64url(text) RETURNS bytea
AS $$ SELECT decode(rpad(translate($1, '-_', '+/'), (length($1) + 3) / 4 * 4, '='), 'base64') $$
LANGUAGE sql IMMUTABLE STRICT;
-- the bytes of a base64url member of a JWK
CREATE FUNCTION pg_temp.member_bytes(jwk jsonb, name text) RETURNS integer
AS $$ SELECT length(pg_temp.unb64url(jwk ->> name)) $$
LANGUAGE sql IMMUTABLE STRICT;
-- the member names of a JSON object, sorted
CREATE FUNCTION pg_temp.members(j jsonb) RETURNS text
AS $$ SELECT string_agg(k, ',' ORDER BY k COLLATE "C") FROM jsonb_object_keys(j) AS k $$
LANGUAGE sql IMMUTABLE STRICT;
-- the result of a call as text, or the error it raised
CREATE FUNCTION pg_temp.outcome(call text, OUT code text, OUT result text, OUT detail text,
                                OUT hint text)
LANGUAGE plpgsql AS $$
BEGIN
    EXECUTE 'SELECT (' || call || ')::text' INTO result;
    code := '00000';
    result := coalesce(result, 'NULL');
EXCEPTION WHEN OTHERS THEN
    GET STACKED DIAGNOSTICS code = RETURNED_SQLSTATE, result = MESSAGE_TEXT,
                            detail = PG_EXCEPTION_DETAIL, hint = PG_EXCEPTION_HINT;
END
$$;
--
-- jwt_generate_key: a private JWK for the algorithm, with "alg" set and
-- "kid" the RFC 7638 thumbprint of its public key.
--
CREATE TEMP TABLE gen AS
SELECT ord, alg, jwt_generate_key(alg) AS jwk
FROM unnest('{HS256,HS384,HS512,RS256,RS384,RS512,PS256,PS384,PS512,ES256,ES384,ES512,ES256K,EdDSA,Ed25519,Ed448}'::text[])
     WITH ORDINALITY AS a(alg, ord);
SELECT alg, jwk ->> 'kty' AS kty, jwk ->> 'crv' AS crv, jwk ->> 'alg' AS jwk_alg,
       pg_temp.members(jwk) AS members
FROM gen
ORDER BY ord;
-- sizes in bytes: the secret is the hash length; RSA is 2048 bits with
-- e = 65537; coordinates and private scalars are the curve's full length
SELECT alg,
       pg_temp.member_bytes(jwk, 'k') AS k,
       pg_temp.member_bytes(jwk, 'n') AS n,
       jwk ->> 'e' AS e,
       pg_temp.member_bytes(jwk, 'p') AS p,
       pg_temp.member_bytes(jwk, 'x') AS x,
       pg_temp.member_bytes(jwk, 'y') AS y,
       pg_temp.member_bytes(jwk, 'd') <= coalesce(pg_temp.member_bytes(jwk, 'n'), pg_temp.member_bytes(jwk, 'd')) AS d_fits,
       CASE WHEN jwk ? 'x' THEN pg_temp.member_bytes(jwk, 'd') END AS d
FROM gen
ORDER BY ord;
-- the kid is the thumbprint of the public JWK (for a secret, of the JWK
-- itself), a base64url SHA-256 of 43 characters; the private JWK has the same
-- thumbprint, the public JWK has no private member and keeps kid and alg
SELECT alg,
       jwk ->> 'kid' = jwt_jwk_thumbprint(CASE WHEN alg LIKE 'HS%' THEN jwk ELSE jwt_public_jwk(jwk::text) END) AS kid_is_thumbprint,
       jwk ->> 'kid' = jwt_jwk_thumbprint(jwk) AS private_same_thumbprint,
       jwk ->> 'kid' ~ '^[A-Za-z0-9_-]{43}$' AS kid_form,
       CASE WHEN alg NOT LIKE 'HS%' THEN pg_temp.members(jwt_public_jwk(jwk::text)) END AS public_members,
       CASE WHEN alg NOT LIKE 'HS%' THEN jwt_public_jwk(jwk::text) ->> 'kid' = jwk ->> 'kid' END AS public_keeps_kid
FROM gen
ORDER BY ord;
-- each key signs, and what it signs verifies (with the public JWK for the
-- asymmetric ones); two keys for one algorithm differ
SELECT alg,
       jwt_verify(jwt_sign('{"sub":"alice"}', jwk::text, alg),
                  CASE WHEN alg LIKE 'HS%' THEN jwk::text ELSE jwt_public_jwk(jwk::text)::text END) AS claims,
       jwt_generate_key(alg) ->> 'kid' <> jwk ->> 'kid' AS another_key_differs
FROM gen
ORDER BY ord;
-- algorithms that are not JWS signature algorithms
SELECT call, o.code, o.result, o.hint
FROM (VALUES
    ($$jwt_generate_key('none')$$),
    ($$jwt_generate_key('hs256')$$),
    ($$jwt_generate_key('RSA-OAEP')$$),
    ($$jwt_generate_key('')$$),
    ($$jwt_generate_key(NULL)$$)
) AS t(call),
LATERAL pg_temp.outcome(call) o;
--
-- jwt_public_jwk of every key form: PEM private keys (PKCS#8, PKCS#1,
-- SEC1), PEM public keys, certificates, JWKs private and public.
--
SELECT form, jwt_public_jwk(key) AS public_jwk, jwt_jwk_thumbprint(jwt_public_jwk(key)) AS thumbprint
FROM (VALUES
    ('RSA PKCS#8 PRIVATE KEY', :'rsa_pkcs8'),
    ('RSA PKCS#1 RSA PRIVATE KEY', :'rsa_pkcs1'),
    ('RSA SPKI PUBLIC KEY', :'rsa_spki'),
    ('RSA CERTIFICATE', :'rsa_cert'),
    ('EC SEC1 EC PRIVATE KEY', :'ec_sec1'),
    ('EC SPKI PUBLIC KEY', :'ec_spki'),
    ('Ed25519 PKCS#8 PRIVATE KEY', :'ed25519_pkcs8'),
    ('Ed25519 CERTIFICATE', :'ed25519_cert'),
    ('Ed448 PKCS#8 PRIVATE KEY', :'ed448_pkcs8')
) AS t(form, key);
-- a JWK keeps its kid and alg and loses the other members; a public JWK
-- gives itself back
SELECT jwt_public_jwk(:'ec_spki')::text AS ec_jwk \gset
SELECT form, jwt_public_jwk(key::text) AS public_jwk
FROM (VALUES
    ('public JWK', :'ec_jwk'::jsonb),
    ('public JWK with kid and alg', :'ec_jwk'::jsonb || '{"kid":"ec-1","alg":"ES256"}'),
    ('public JWK with other members', :'ec_jwk'::jsonb || '{"kid":"ec-1","ext":true,"x5t":"abc"}'),
    ('public JWK, use sig and key_ops', :'ec_jwk'::jsonb || '{"kid":"ec-1","use":"sig","key_ops":["verify"]}')
) AS t(form, key);
-- the public JWK of a private JWK is the private JWK without its private
-- members
SELECT alg, jwt_public_jwk(jwk::text) = jwk - 'd' - 'p' - 'q' - 'dp' - 'dq' - 'qi' AS private_members_removed
FROM gen
WHERE alg NOT LIKE 'HS%'
ORDER BY ord;
-- a public JWK, a PEM and a certificate of one key agree
SELECT jwt_public_jwk(:'rsa_pkcs8') = jwt_public_jwk(jwt_public_jwk(:'rsa_cert')::text) AS pem_and_cert_agree;
-- a JWKS gives the public JWKS: private members removed, kids and algs
-- kept, and keys that JWS cannot use (X25519, RSA 1024) left out
SELECT jsonb_build_object('keys', jsonb_build_array(
           jwt_public_jwk(:'ed25519_pkcs8') || '{"kid":"ed-1"}',
           jwt_public_jwk(:'ec_spki') || '{"kid":"ec-1","alg":"ES256","use":"sig"}',
           jwt_public_jwk(:'rsa_spki') || '{"kid":"rsa-1"}',
           '{"kty":"OKP","crv":"X25519","kid":"x-1","x":"TfG6UAFmRyTyBDZwOvyVp6s_h3vGg9OZrxpOTvD8jxY"}'::jsonb,
           '{"kty":"RSA","kid":"weak-1","e":"AQAB","n":"qJ5lS6h7qTJ2rHsAwZ8MtgV7vuBXv_bnqAfjJrpxI5rixNUtB3lI64S36Y8stmOaCRrQX7VUVpH2cwcFSUDvY0_TTGVX2s14Q4-s92x3AkQ3fxKhgHiDt9seQyzIuHPZM68EAJMu-mkoZ0AVifMPDZ9D4ILhH6_1SWGrtdTtWW0"}'::jsonb
       ))::text AS jwks \gset
SELECT jsonb_path_query(jwt_public_jwk(:'jwks'), '$.keys[*]') AS public_key;
-- from private JWKs: the same keys, without any private member
SELECT pg_temp.members(k) AS members, k ->> 'kid' = j ->> 'kid' AS kid_kept
FROM gen g,
LATERAL (SELECT g.jwk AS j) AS jj,
LATERAL jsonb_path_query(jwt_public_jwk(jsonb_build_object('keys', jsonb_build_array(g.jwk))::text), '$.keys[*]') AS k
WHERE g.alg IN ('RS256', 'ES384', 'Ed448')
ORDER BY g.ord;
-- a JWKS of secrets only has nothing to publish
SELECT jwt_public_jwk(jsonb_build_object('keys', jsonb_build_array(jwk))::text) AS public_jwks
FROM gen WHERE alg = 'HS256';
-- what has no public form, or is no key
SELECT call, o.code, o.result, o.detail, o.hint
FROM (VALUES
    ($$jwt_public_jwk('a-string-secret-at-least-256-bits-long')$$),
    ($$jwt_public_jwk((SELECT jwk::text FROM gen WHERE alg = 'HS512'))$$),
    ($$jwt_public_jwk('')$$),
    ($$jwt_public_jwk('{"kty":"OKP","crv":"X25519","x":"TfG6UAFmRyTyBDZwOvyVp6s_h3vGg9OZrxpOTvD8jxY"}')$$),
    ($$jwt_public_jwk('{"kty":"EC","crv":"P-256","x":"AAAA","y":"AAAA"}')$$),
    ($$jwt_public_jwk('{"keys":[]}')$$),
    ($$jwt_public_jwk('{"keys":[{"kty":"oct","kid":"a","k":"c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0LXNlY3JldA"},{"kty":"oct","kid":"a","k":"c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0LXNlY3JldA"}]}')$$),
    ($$jwt_public_jwk(NULL)$$)
) AS t(call),
LATERAL pg_temp.outcome(call) o;
--
-- jwt_jwk_thumbprint (RFC 7638): the SHA-256 of the required members in
-- lexicographic order, base64url.  The examples of RFC 7638 section 3.1 (an
-- RSA key) and RFC 8037 appendix A.3 (an Ed25519 key) give the thumbprints
-- published there.
--
SELECT '{"kty":"RSA","n":"0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw","e":"AQAB","alg":"RS256","kid":"2011-04-29"}' AS rfc7638_jwk \gset
SELECT '{"kty":"OKP","crv":"Ed25519","x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}' AS rfc8037_jwk \gset
SELECT jwt_jwk_thumbprint(:'rfc7638_jwk') AS rfc7638_thumbprint,
       jwt_jwk_thumbprint(:'rfc7638_jwk') = 'NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs' AS as_published;
SELECT jwt_jwk_thumbprint(:'rfc8037_jwk') AS rfc8037_thumbprint,
       jwt_jwk_thumbprint(:'rfc8037_jwk') = 'kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k' AS as_published;
-- optional members, their order and the JSON layout do not matter
SELECT variant, jwt_jwk_thumbprint(jwk) AS thumbprint
FROM (VALUES
    ('RFC 7638 key without kid and alg', :'rfc7638_jwk'::jsonb - 'kid' - 'alg'),
    ('RFC 7638 key with use and key_ops', :'rfc7638_jwk'::jsonb || '{"use":"sig","key_ops":["verify"],"x5t":"abc"}'),
    ('RFC 7638 key, members reordered and spaced', jsonb_build_object('e', 'AQAB', 'kid', 'k', 'n', :'rfc7638_jwk'::jsonb ->> 'n', 'kty', 'RSA')),
    ('RFC 8037 key with kid, alg and use', :'rfc8037_jwk'::jsonb || '{"kid":"ed","alg":"EdDSA","use":"sig"}'),
    ('RFC 8037 key as its public JWK', jwt_public_jwk(:'rfc8037_jwk'))
) AS t(variant, jwk);
-- thumbprints of the fixed keys, and of a secret
SELECT key, jwt_jwk_thumbprint(jwt_public_jwk(pem)) AS thumbprint
FROM (VALUES ('RSA', :'rsa_spki'), ('EC P-256', :'ec_spki'), ('Ed25519', :'ed25519_pkcs8'),
             ('Ed448', :'ed448_pkcs8')) AS t(key, pem);
SELECT jwt_jwk_thumbprint(jsonb_build_object('kty', 'oct', 'k', pg_temp.b64url(convert_to('a-string-secret-at-least-256-bits-long', 'UTF8')))) AS oct_thumbprint;
-- a JWK is checked before its thumbprint is taken: what is not a valid key
-- is refused (22023): no kty, no n, RSA under 2048 bits, a point off
-- P-256, X25519, an Ed25519 x of 31 bytes, x with padding, an empty secret
SELECT call, o.code, o.result, o.detail
FROM (VALUES
    ($$jwt_jwk_thumbprint('[]')$$),
    ($$jwt_jwk_thumbprint('"RSA"')$$),
    ($$jwt_jwk_thumbprint('{}')$$),
    ($$jwt_jwk_thumbprint('{"kty":"RSA","e":"AQAB"}')$$),
    ($$jwt_jwk_thumbprint('{"kty":"RSA","n":"0vx7","e":"AQAB"}')$$),
    ($$jwt_jwk_thumbprint('{"kty":"EC","crv":"P-256","x":"X3e1GlnV5cSxx-W1_ffTyjMdWBLhwPOFdr-MWoJw-NU","y":"TkgnCe8CO4ptry3Snfhy5LE_s2khnoRrPNM-N58yk_A"}')$$),
    ($$jwt_jwk_thumbprint('{"kty":"OKP","crv":"X25519","x":"TfG6UAFmRyTyBDZwOvyVp6s_h3vGg9OZrxpOTvD8jxY"}')$$),
    ($$jwt_jwk_thumbprint('{"kty":"OKP","crv":"Ed25519","x":"WpgBgrEKt9VL_tPJZAc6DuFy89qmIyWvAhpo9wdRGg"}')$$),
    ($$jwt_jwk_thumbprint('{"kty":"OKP","crv":"Ed25519","x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo="}')$$),
    ($$jwt_jwk_thumbprint('{"kty":"oct","k":""}')$$),
    ($$jwt_jwk_thumbprint('{"kty":"foo","k":"AAAA"}')$$),
    ($$jwt_jwk_thumbprint('{"keys":[{"kty":"OKP","crv":"Ed25519","x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}]}')$$),
    ($$jwt_jwk_thumbprint(NULL)$$)
) AS t(call),
LATERAL pg_temp.outcome(call) o;
-- jwt_public_jwk publishes only keys for signatures: a key whose JWK is for
-- encryption, or pinned to an algorithm we do not know, is refused alone and
-- left out of a JWKS; a private key for signing only (key_ops ["sign"]) gives
-- its public half, which is what verifies; "use":"sig" is kept
SELECT call, o.code, o.result, o.detail
FROM (VALUES
    ($$jwt_public_jwk('{"kty":"OKP","crv":"Ed25519","x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo","use":"sig"}')$$),
    ($$jwt_public_jwk('{"kty":"OKP","crv":"Ed25519","x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo","use":"enc"}')$$),
    ($$jwt_public_jwk('{"kty":"OKP","crv":"Ed25519","x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo","alg":"ECDH-ES"}')$$),
    ($$jwt_public_jwk('{"kty":"OKP","crv":"Ed25519","d":"nWGxne_9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A","x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo","key_ops":["sign"]}')$$),
    ($$jwt_public_jwk('{"keys":[{"kty":"OKP","crv":"Ed25519","kid":"s","x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"},{"kty":"OKP","crv":"Ed25519","kid":"e","use":"enc","x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}]}')$$)
) AS t(call),
LATERAL pg_temp.outcome(call) o;
