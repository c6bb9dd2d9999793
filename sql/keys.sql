--
-- keys: the key forms jwt reads (PEM public keys, private keys and
-- certificates; JWK; JWKS), the keys it refuses, what a JWK's "use",
-- "key_ops" and "alg" allow, "kid" selection in a JWKS, the classic
-- algorithm-confusion attack, and that a key text is parsed once per
-- backend however many tokens it verifies.
--
-- Wrong calls (a key that is no key, or cannot do what is asked) are 22023
-- with a hint; bad tokens are 28000.  Keys made at run time by
-- jwt_generate_key are never shown, only what is done with them.
--
-- THE KEYS BELOW ARE TEST-ONLY KEYS, generated once with openssl for this
-- suite and published with it.  Never use them for anything else.  The RSA
-- key (2048 bits), the EC key (P-256) and the Ed25519 key each come in
-- several forms, with a self-signed certificate.
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
SELECT '-----BEGIN RSA PUBLIC KEY-----
MIIBCgKCAQEA2gvsoMMIYZR9inTNmAG/Jorf3pRYGjPUMD/GYJ47HCs1TjzP5KjT
DR7/acJn8+S7Z42FJkYQP02XiJBDZYbxtiI49TcZk3Wz4NH2Fon3oyVFxvaI2unI
nHJ4RbNIHE2Sl2Y95LgIb65mmhYqjif/6j3Fdoa4JQCE8wHiKOTSvEHxdz9RTLkw
zCR+v+lUFei11LygXbNr9qbO/o6KhRqKY7FLLSr1bSxc+rCl4vIpwFmsls7mp7MS
jcgn9S2PtqBtvSjqicaQppPEs+7yreDvAlDQb8JyCY9GKdfCOE7yLNBp5kIVtQ42
osmBvreNo7JCt+FUqi7jAlPJ2E3bhZCYkwIDAQAB
-----END RSA PUBLIC KEY-----' AS rsa_pkcs1_public \gset
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
SELECT '-----BEGIN EC PARAMETERS-----
BggqhkjOPQMBBw==
-----END EC PARAMETERS-----
-----BEGIN EC PRIVATE KEY-----
MHcCAQEEIBPrQZP6kYXxzU9EhEWbpxJOnNPqgrOMMn8nH20ixJxKoAoGCCqGSM49
AwEHoUQDQgAEX3e1GlnV5cSxx+W1/ffTyjMdWBLhwPOFdr+MWoJw+NVOSCcJ7wI7
im2vLdKd+HLksT+zaSGehGs80z43nzKT+g==
-----END EC PRIVATE KEY-----' AS ec_sec1_params \gset
SELECT '-----BEGIN EC PRIVATE KEY-----
MHcCAQEEIBPrQZP6kYXxzU9EhEWbpxJOnNPqgrOMMn8nH20ixJxKoAoGCCqGSM49
AwEHoUQDQgAEX3e1GlnV5cSxx+W1/ffTyjMdWBLhwPOFdr+MWoJw+NVOSCcJ7wI7
im2vLdKd+HLksT+zaSGehGs80z43nzKT+g==
-----END EC PRIVATE KEY-----' AS ec_sec1 \gset
SELECT '-----BEGIN PRIVATE KEY-----
MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgE+tBk/qRhfHNT0SE
RZunEk6c0+qCs4wyfycfbSLEnEqhRANCAARfd7UaWdXlxLHH5bX999PKMx1YEuHA
84V2v4xagnD41U5IJwnvAjuKba8t0p34cuSxP7NpIZ6EazzTPjefMpP6
-----END PRIVATE KEY-----' AS ec_pkcs8 \gset
SELECT '-----BEGIN PUBLIC KEY-----
MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEX3e1GlnV5cSxx+W1/ffTyjMdWBLh
wPOFdr+MWoJw+NVOSCcJ7wI7im2vLdKd+HLksT+zaSGehGs80z43nzKT+g==
-----END PUBLIC KEY-----' AS ec_spki \gset
SELECT '-----BEGIN CERTIFICATE-----
MIIBijCCATCgAwIBAgIBAjAKBggqhkjOPQQDAjAjMSEwHwYDVQQDDBhqd3QgcmVn
cmVzc2lvbiB0ZXN0IG9ubHkwIBcNMjYxMTIyMTQxNzAyWhgPMjEyNjEwMjkxNDE3
MDJaMCMxITAfBgNVBAMMGGp3dCByZWdyZXNzaW9uIHRlc3Qgb25seTBZMBMGByqG
SM49AgEGCCqGSM49AwEHA0IABF93tRpZ1eXEscfltf3308ozHVgS4cDzhXa/jFqC
cPjVTkgnCe8CO4ptry3Snfhy5LE/s2khnoRrPNM+N58yk/qjUzBRMB0GA1UdDgQW
BBS426xH0Bsj45liMhBG4K02RbzbKTAfBgNVHSMEGDAWgBS426xH0Bsj45liMhBG
4K02RbzbKTAPBgNVHRMBAf8EBTADAQH/MAoGCCqGSM49BAMCA0gAMEUCICQLGBqK
HNbEKTfqh2NCK7gb9k+LITxuXT+qec7YYgPSAiEA7SGNAAdHaV1me3D7aKxl6ege
/AF5fIHLXz+1N4dz3F0=
-----END CERTIFICATE-----' AS ec_cert \gset
SELECT '-----BEGIN PRIVATE KEY-----
MC4CAQAwBQYDK2VwBCIEIHh306YFBoCD7ZE17pZlEaGD9NOBPSIZtEMhutvYa6Pr
-----END PRIVATE KEY-----' AS ed25519_pkcs8 \gset
SELECT '-----BEGIN PUBLIC KEY-----
MCowBQYDK2VwAyEAKTFqmWyCzCFmd/0/iJ+I+ixNkMgs5Kw/wcc92SPFtQo=
-----END PUBLIC KEY-----' AS ed25519_spki \gset
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
SELECT '-----BEGIN PUBLIC KEY-----
MEMwBQYDK2VxAzoAZAVB3YFq0h/HuYqbFjDK3f4bn6wjE2+4CKwN37SDoevQoXiS
Izo+1LWC9QAPu58xzHSrieM6tOqA
-----END PUBLIC KEY-----' AS ed448_spki \gset
-- keys that are refused: RSA 1024, EC P-224, X25519, and the Ed25519 key
-- (PKCS#8) and the EC key (SEC1) encrypted with the passphrase "test"
SELECT '-----BEGIN PUBLIC KEY-----
MIGfMA0GCSqGSIb3DQEBAQUAA4GNADCBiQKBgQConmVLqHupMnasewDBnwy2BXu+
4Fe/9ueoB+MmunEjmuLE1S0HeUjrhLfpjyy2Y5oJGtBftVRWkfZzBwVJQO9jT9NM
ZVfazXhDj6z3bHcCRDd/EqGAeIO32x5DLMi4c9kzrwQAky76aShnQBWJ8w8Nn0Pg
guEfr/VJYau11O1ZbQIDAQAB
-----END PUBLIC KEY-----' AS rsa1024_spki \gset
SELECT '-----BEGIN PUBLIC KEY-----
ME4wEAYHKoZIzj0CAQYFK4EEACEDOgAEPvcXJ08uH5840QSTAafwQrqRVtv6lg+V
tpJ9gYUo9ZRZnwiJcHyCnq+h7ukB8B6cycFrf9jX2TA=
-----END PUBLIC KEY-----' AS p224_spki \gset
SELECT '-----BEGIN PUBLIC KEY-----
MCowBQYDK2VuAyEATfG6UAFmRyTyBDZwOvyVp6s/h3vGg9OZrxpOTvD8jxY=
-----END PUBLIC KEY-----' AS x25519_spki \gset
SELECT '-----BEGIN ENCRYPTED PRIVATE KEY-----
MIGbMFcGCSqGSIb3DQEFDTBKMCkGCSqGSIb3DQEFDDAcBAj7jSreFANdfwICCAAw
DAYIKoZIhvcNAgkFADAdBglghkgBZQMEASoEELEzaFnm5ByEvgnpKaTBTu4EQNRh
xU1tUqfQyaaV5V3G/B/+dBOvM44hbZrVKxsecdrq58i2gAMSx1gz/NU0/XSFOwS5
P/JHawff3UP6Q9/7p6k=
-----END ENCRYPTED PRIVATE KEY-----' AS ed25519_encrypted \gset
SELECT '-----BEGIN EC PRIVATE KEY-----
Proc-Type: 4,ENCRYPTED
DEK-Info: AES-256-CBC,F7B1A7572ECBF3E1CF4797D4F2CF2D43

fK5wbkvl6Pv6Rav65FBKJQhaxH8YswfXbAh15bv0MsRsHR/xsgSApN28EOhIIFMy
TVXig/PV2ODhguOb1+wEb/YWNRXu070h4LYGq3kvTZTpabaR9lPlXnIzsWdoi7li
dcbnegtJKurzX+0+P0Q5VrUfV5j++7BRMGl2KvNrrNY=
-----END EC PRIVATE KEY-----' AS ec_sec1_encrypted \gset
-- base64url without padding, and back
CREATE FUNCTION pg_temp.b64url(bytea) RETURNS text
AS $$ SELECT translate(rtrim(replace(encode($1, 'base64'), E'\n', ''), '='), '+/', '-_') $$
LANGUAGE sql IMMUTABLE STRICT;
CREATE FUNCTION pg_temp.unb64url(text) RETURNS bytea
AS $$ SELECT decode(rpad(translate($1, '-_', '+/'), (length($1) + 3) / 4 * 4, '='), 'base64') $$
LANGUAGE sql IMMUTABLE STRICT;
-- HS256, HS384 and HS512 as an attacker computes them (RFC 2104 over the
-- built-in sha256(), sha384(), sha512()), for secrets jwt refuses to take
CREATE FUNCTION pg_temp.hmac(alg text, key bytea, msg bytea) RETURNS bytea
LANGUAGE plpgsql IMMUTABLE STRICT AS $$
DECLARE
    block integer := CASE alg WHEN 'HS256' THEN 64 ELSE 128 END;
    k bytea := key;
    ipad bytea;
    opad bytea;
BEGIN
    IF length(k) > block THEN
        k := CASE alg WHEN 'HS256' THEN sha256(k) WHEN 'HS384' THEN sha384(k) ELSE sha512(k) END;
    END IF;
    k := k || decode(repeat('00', block - length(k)), 'hex');
    ipad := k;
    opad := k;
    FOR i IN 0..block - 1 LOOP
        ipad := set_byte(ipad, i, get_byte(k, i) # 54);
        opad := set_byte(opad, i, get_byte(k, i) # 92);
    END LOOP;
    RETURN CASE alg
        WHEN 'HS256' THEN sha256(opad || sha256(ipad || msg))
        WHEN 'HS384' THEN sha384(opad || sha384(ipad || msg))
        ELSE sha512(opad || sha512(ipad || msg)) END;
END
$$;
CREATE FUNCTION pg_temp.forge(claims text, secret bytea, alg text DEFAULT 'HS256') RETURNS text
AS $$ SELECT s || '.' || pg_temp.b64url(pg_temp.hmac(alg, secret, convert_to(s, 'UTF8')))
      FROM (SELECT pg_temp.b64url(convert_to(format('{"alg":"%s","typ":"JWT"}', alg), 'UTF8')) || '.' ||
                   pg_temp.b64url(convert_to(claims, 'UTF8')) AS s) AS x $$
LANGUAGE sql IMMUTABLE STRICT;
-- the base64 body of a PEM block on one line, and its DER bytes
CREATE FUNCTION pg_temp.pem_body(pem text) RETURNS text
AS $$ SELECT regexp_replace(pem, '-----[A-Z0-9 ]+-----|\s', '', 'g') $$
LANGUAGE sql IMMUTABLE STRICT;
-- what a key text is: the thumbprint of its public JWK, or the error
CREATE FUNCTION pg_temp.key_check(key text, OUT code text, OUT thumbprint text,
                                  OUT message text, OUT detail text, OUT hint text)
LANGUAGE plpgsql AS $$
BEGIN
    thumbprint := jwt_jwk_thumbprint(jwt_public_jwk(key));
    code := '00000';
EXCEPTION WHEN OTHERS THEN
    GET STACKED DIAGNOSTICS code = RETURNED_SQLSTATE, message = MESSAGE_TEXT,
                            detail = PG_EXCEPTION_DETAIL, hint = PG_EXCEPTION_HINT;
END
$$;
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
                                OUT code text, OUT header_or_message text, OUT detail text, OUT hint text)
LANGUAGE plpgsql AS $$
BEGIN
    header_or_message := jwt_decode(jwt_sign(claims, key, algorithm, header)) ->> 'header';
    code := '00000';
EXCEPTION WHEN OTHERS THEN
    GET STACKED DIAGNOSTICS code = RETURNED_SQLSTATE, header_or_message = MESSAGE_TEXT,
                            detail = PG_EXCEPTION_DETAIL, hint = PG_EXCEPTION_HINT;
END
$$;
--
-- PEM forms.  Every form of one key has the same public JWK (shown by its
-- RFC 7638 thumbprint); the private forms sign, and what they sign verifies
-- with every form of the key, certificates included.
--
CREATE TEMP TABLE pem (ord integer, key text, form text, alg text, pem text);
INSERT INTO pem VALUES
    (1, 'RSA', 'PKCS#8 PRIVATE KEY', 'RS256', :'rsa_pkcs8'),
    (2, 'RSA', 'PKCS#1 RSA PRIVATE KEY', 'RS256', :'rsa_pkcs1'),
    (3, 'RSA', 'SPKI PUBLIC KEY', 'RS256', :'rsa_spki'),
    (4, 'RSA', 'PKCS#1 RSA PUBLIC KEY', 'RS256', :'rsa_pkcs1_public'),
    (5, 'RSA', 'X.509 CERTIFICATE', 'RS256', :'rsa_cert'),
    (6, 'EC', 'SEC1 EC PRIVATE KEY', 'ES256', :'ec_sec1'),
    (7, 'EC', 'EC PARAMETERS, SEC1 EC PRIVATE KEY', 'ES256', :'ec_sec1_params'),
    (8, 'EC', 'PKCS#8 PRIVATE KEY', 'ES256', :'ec_pkcs8'),
    (9, 'EC', 'SPKI PUBLIC KEY', 'ES256', :'ec_spki'),
    (10, 'EC', 'X.509 CERTIFICATE', 'ES256', :'ec_cert'),
    (11, 'Ed25519', 'PKCS#8 PRIVATE KEY', 'EdDSA', :'ed25519_pkcs8'),
    (12, 'Ed25519', 'SPKI PUBLIC KEY', 'EdDSA', :'ed25519_spki'),
    (13, 'Ed25519', 'X.509 CERTIFICATE', 'EdDSA', :'ed25519_cert'),
    (14, 'Ed448', 'PKCS#8 PRIVATE KEY', 'Ed448', :'ed448_pkcs8'),
    (15, 'Ed448', 'SPKI PUBLIC KEY', 'Ed448', :'ed448_spki');
SELECT key, form, split_part(pem, E'\n', 1) AS first_line, c.code, c.thumbprint
FROM pem, LATERAL pg_temp.key_check(pem) c
ORDER BY ord;
-- the public JWKs themselves, one form of each key
SELECT key, jwt_public_jwk(pem) AS public_jwk
FROM pem
WHERE ord IN (1, 6, 11, 14)
ORDER BY ord;
-- each private form signs; every form of the same key verifies
SELECT s.key, s.form AS signed_with, s.alg,
       jwt_decode(t.token) -> 'header' AS header,
       string_agg(v.ord::text, ',' ORDER BY v.ord) FILTER (WHERE jwt_verify(t.token, v.pem) = '{"sub":"alice"}') AS verified_by,
       count(*) FILTER (WHERE NOT jwt_is_valid(t.token, v.pem)) AS refused_by
FROM pem s
JOIN LATERAL (SELECT jwt_sign('{"sub":"alice"}', s.pem, s.alg) AS token) t ON true
JOIN pem v ON v.key = s.key
WHERE s.form LIKE '%PRIVATE%'
GROUP BY s.ord, s.key, s.form, s.alg, t.token
ORDER BY s.ord;
-- RS256 and EdDSA are deterministic: the PKCS#8 and PKCS#1 forms of the RSA
-- key give the same token
SELECT jwt_sign('{"sub":"alice"}', :'rsa_pkcs8', 'RS256') = jwt_sign('{"sub":"alice"}', :'rsa_pkcs1', 'RS256') AS same_rs256_token;
-- the layout of a PEM text: line ends, blank space before it, text after it
SELECT layout, c.code, c.thumbprint
FROM (VALUES
    ('as written', :'rsa_spki'),
    ('CRLF line ends', replace(:'rsa_spki', E'\n', E'\r\n')),
    ('a final newline', :'rsa_spki' || E'\n'),
    ('newlines and spaces before it', E'\n\n  ' || :'rsa_spki'),
    ('text after the END line', :'rsa_spki' || E'\nsaved by the test suite\n'),
    ('base64 lines rewrapped at 76', regexp_replace(:'rsa_spki', '([A-Za-z0-9+/=]{64})\n([A-Za-z0-9+/=]{12})', E'\\1\\2\n', 'g'))
) AS t(layout, key),
LATERAL pg_temp.key_check(key) c;
--
-- PEM texts that are refused, each a wrong call (22023), by jwt_verify and
-- jwt_is_valid alike: encrypted keys, garbage, RSA under 2048 bits, and
-- curves JWS does not sign with.
--
SELECT jwt_sign('{"sub":"alice"}', :'rsa_pkcs8', 'RS256') AS rs256 \gset
SELECT rule, v.*
FROM (VALUES
    ('encrypted PKCS#8 (ENCRYPTED PRIVATE KEY)', :'ed25519_encrypted'),
    ('encrypted SEC1 (Proc-Type: 4,ENCRYPTED)', :'ec_sec1_encrypted'),
    ('body not base64', E'-----BEGIN PUBLIC KEY-----\n!!!!\n-----END PUBLIC KEY-----\n'),
    ('body base64 but not DER', E'-----BEGIN PUBLIC KEY-----\naGVsbG8gd29ybGQ=\n-----END PUBLIC KEY-----\n'),
    ('empty body', E'-----BEGIN PUBLIC KEY-----\n-----END PUBLIC KEY-----\n'),
    ('body truncated', left(:'rsa_spki', 200) || E'\n-----END PUBLIC KEY-----\n'),
    ('no END line', regexp_replace(:'rsa_spki', '-----END.*', '')),
    ('"-----BEGIN" alone', '-----BEGIN'),
    ('label PRIVATE KEY on a public key', replace(:'rsa_spki', 'PUBLIC KEY', 'PRIVATE KEY')),
    ('label CERTIFICATE on a public key', replace(:'rsa_spki', 'PUBLIC KEY', 'CERTIFICATE')),
    ('unknown label', replace(:'rsa_spki', 'PUBLIC KEY', 'JWT KEY')),
    ('EC PARAMETERS alone', split_part(:'ec_sec1_params', '-----BEGIN EC PRIVATE KEY-----', 1)),
    ('RSA 1024 bits', :'rsa1024_spki'),
    ('EC P-224', :'p224_spki')
) AS t(rule, key),
LATERAL pg_temp.verdict(:'rs256', key) v;
-- an X25519 key (for key agreement, not signatures) is refused too
SELECT c.code FROM pg_temp.key_check(:'x25519_spki') c;
-- and signing with them fails the same way
SELECT rule, s.code, s.header_or_message AS message
FROM (VALUES
    ('encrypted PKCS#8', :'ed25519_encrypted', 'EdDSA'),
    ('encrypted SEC1', :'ec_sec1_encrypted', 'ES256'),
    ('garbage', E'-----BEGIN PRIVATE KEY-----\naGVsbG8gd29ybGQ=\n-----END PRIVATE KEY-----\n', 'RS256')
) AS t(rule, key, alg),
LATERAL pg_temp.signing('{"sub":"alice"}', key, alg) s;
--
-- JWKs that are refused: a point off its curve or coordinates of the wrong
-- length, curves and sizes JWS does not use, and private JWKs whose members
-- do not belong together.  (The private keys are made now by
-- jwt_generate_key; only the outcome is shown.)
--
SELECT jwt_public_jwk(:'ec_spki')::text AS ec_jwk \gset
SELECT jwt_generate_key('ES256') - 'kid' - 'alg' AS ec_a, jwt_generate_key('ES256') - 'kid' - 'alg' AS ec_b,
       jwt_generate_key('EdDSA') - 'kid' - 'alg' AS ed_a, jwt_generate_key('EdDSA') - 'kid' - 'alg' AS ed_b,
       jwt_generate_key('RS256') - 'kid' - 'alg' AS rsa_a, jwt_generate_key('RS256') - 'kid' - 'alg' AS rsa_b \gset
-- the generated keys are sound
SELECT jwt_jwk_thumbprint(k) IS NOT NULL AS sound
FROM unnest(ARRAY[:'ec_a', :'ec_b', :'ed_a', :'ed_b', :'rsa_a', :'rsa_b']::jsonb[]) AS k
GROUP BY 1;
SELECT rule, v.*
FROM (VALUES
    ('EC: the P-256 key (control)', :'ec_jwk'::jsonb),
    ('EC: y changed, point off the curve', :'ec_jwk'::jsonb || jsonb_build_object('y', pg_temp.b64url(set_byte(pg_temp.unb64url(:'ec_jwk'::jsonb ->> 'y'), 31, get_byte(pg_temp.unb64url(:'ec_jwk'::jsonb ->> 'y'), 31) # 1)))),
    ('EC: x = y = 0', :'ec_jwk'::jsonb || jsonb_build_object('x', pg_temp.b64url(decode(repeat('00', 32), 'hex')), 'y', pg_temp.b64url(decode(repeat('00', 32), 'hex')))),
    ('EC: x of 31 bytes (first byte dropped)', :'ec_jwk'::jsonb || jsonb_build_object('x', pg_temp.b64url(substr(pg_temp.unb64url(:'ec_jwk'::jsonb ->> 'x'), 2)))),
    ('EC: x of 33 bytes (zero byte in front)', :'ec_jwk'::jsonb || jsonb_build_object('x', pg_temp.b64url('\x00'::bytea || pg_temp.unb64url(:'ec_jwk'::jsonb ->> 'x')))),
    ('EC: private, d of another key', :'ec_a'::jsonb || jsonb_build_object('d', :'ec_b'::jsonb ->> 'd')),
    ('EC: P-256 key named P-384', :'ec_jwk'::jsonb || '{"crv":"P-384"}'),
    ('EC: P-224', '{"kty":"EC","crv":"P-224","x":"PvcXJ08uH5840QSTAafwQrqRVtv6lg-VtpJ9gQ","y":"hSj1lFmfCIlwfIKer6Hu6QHwHpzJwWt_2NfZMA"}'),
    ('OKP: X25519', '{"kty":"OKP","crv":"X25519","x":"TfG6UAFmRyTyBDZwOvyVp6s_h3vGg9OZrxpOTvD8jxY"}'),
    ('OKP: Ed25519 x of 31 bytes', jwt_public_jwk(:'ed25519_spki') || jsonb_build_object('x', pg_temp.b64url(substr(pg_temp.unb64url(jwt_public_jwk(:'ed25519_spki') ->> 'x'), 2)))),
    ('OKP: private, d of another key', :'ed_a'::jsonb || jsonb_build_object('d', :'ed_b'::jsonb ->> 'd')),
    ('OKP: private, x of another key', :'ed_a'::jsonb || jsonb_build_object('x', :'ed_b'::jsonb ->> 'x')),
    ('RSA: 1024 bits', '{"kty":"RSA","e":"AQAB","n":"qJ5lS6h7qTJ2rHsAwZ8MtgV7vuBXv_bnqAfjJrpxI5rixNUtB3lI64S36Y8stmOaCRrQX7VUVpH2cwcFSUDvY0_TTGVX2s14Q4-s92x3AkQ3fxKhgHiDt9seQyzIuHPZM68EAJMu-mkoZ0AVifMPDZ9D4ILhH6_1SWGrtdTtWW0"}'),
    ('RSA: private, n of another key', :'rsa_a'::jsonb || jsonb_build_object('n', :'rsa_b'::jsonb ->> 'n')),
    ('RSA: private, d of another key', :'rsa_a'::jsonb || jsonb_build_object('d', :'rsa_b'::jsonb ->> 'd')),
    ('RSA: private, qi of another key', :'rsa_a'::jsonb || jsonb_build_object('qi', :'rsa_b'::jsonb ->> 'qi')),
    ('RSA: private without its CRT members', :'rsa_a'::jsonb - 'p' - 'q' - 'dp' - 'dq' - 'qi'),
    ('RSA: multi-prime ("oth")', :'rsa_a'::jsonb || '{"oth":[]}')
) AS t(rule, jwk),
LATERAL pg_temp.verdict(jwt_sign('{"sub":"alice"}', :'ec_pkcs8', 'ES256'), jwk::text) v;
--
-- A JWK's "use", "key_ops" and "alg" (RFC 7517 section 4): verifying.  The
-- algorithms argument names the token's algorithm, so that a key refused
-- for its use says so.
--
SELECT jwt_public_jwk(:'rsa_spki') AS rsa_jwk \gset
SELECT jwt_sign('{"sub":"alice"}', :'rsa_pkcs8', 'PS256') AS ps256 \gset
SELECT members, token_alg, algorithms, v.*
FROM (VALUES
    ('{}'::jsonb, 'RS256', '{RS256}'::text[]),
    ('{"use":"sig"}', 'RS256', '{RS256}'),
    ('{"use":"enc"}', 'RS256', '{RS256}'),
    ('{"use":"Sig"}', 'RS256', '{RS256}'),
    ('{"key_ops":["verify"]}', 'RS256', '{RS256}'),
    ('{"key_ops":["encrypt","verify"]}', 'RS256', '{RS256}'),
    ('{"key_ops":["sign"]}', 'RS256', '{RS256}'),
    ('{"key_ops":[]}', 'RS256', '{RS256}'),
    ('{"key_ops":["verify","verify"]}', 'RS256', '{RS256}'),
    ('{"key_ops":"verify"}', 'RS256', '{RS256}'),
    ('{"use":"sig","key_ops":["verify"]}', 'RS256', '{RS256}'),
    ('{"use":"enc","key_ops":["verify"]}', 'RS256', '{RS256}'),
    ('{"alg":"RS256"}', 'RS256', '{RS256}'),
    ('{"alg":"RS256"}', 'PS256', NULL),
    ('{"alg":"RS256"}', 'PS256', '{PS256}'),
    ('{"alg":"PS256"}', 'PS256', '{PS256}'),
    ('{"alg":"PS256"}', 'RS256', NULL),
    ('{"alg":"RSA-OAEP"}', 'RS256', '{RS256}'),
    ('{"alg":"none"}', 'RS256', '{RS256}'),
    ('{"alg":"rs256"}', 'RS256', '{RS256}')
) AS t(members, token_alg, algorithms),
LATERAL pg_temp.verdict(CASE token_alg WHEN 'RS256' THEN :'rs256' ELSE :'ps256' END,
                        (:'rsa_jwk'::jsonb || members)::text, algorithms) v;
-- without algorithms, a key that may verify nothing is a wrong call as well
SELECT members, v.code, v.message, v.hint, v.is_valid
FROM (VALUES ('{"use":"enc"}'::jsonb), ('{"key_ops":["sign"]}'), ('{"alg":"RSA-OAEP"}')) AS t(members),
LATERAL pg_temp.verdict(:'rs256', (:'rsa_jwk'::jsonb || members)::text) v;
-- signing: the same members, on the private JWK
SELECT members, alg, s.*
FROM (VALUES
    ('{}'::jsonb, 'RS256'),
    ('{"use":"sig"}', 'RS256'),
    ('{"use":"enc"}', 'RS256'),
    ('{"key_ops":["sign"]}', 'RS256'),
    ('{"key_ops":["verify"]}', 'RS256'),
    ('{"key_ops":["sign","verify"]}', 'PS384'),
    ('{"alg":"RS256"}', 'RS256'),
    ('{"alg":"RS256"}', 'PS256'),
    ('{"alg":"PS384"}', 'PS384'),
    ('{"alg":"RSA-OAEP"}', 'RS256')
) AS t(members, alg),
LATERAL pg_temp.signing('{"sub":"alice"}', (:'rsa_a'::jsonb || members)::text, alg) s;
--
-- jwt_sign with a private JWK puts its "kid" into the header; the header
-- argument may replace it, or leave it out with null.  A PEM key has no kid.
--
SELECT (:'rsa_a'::jsonb || '{"kid":"2026-11"}')::text AS rsa_a_kid \gset
SELECT rule, jwt_decode(jwt_sign('{"sub":"alice"}', key, 'RS256', header)) -> 'header' AS header
FROM (VALUES
    ('JWK with kid', :'rsa_a_kid', NULL::jsonb),
    ('JWK with kid, header kid', :'rsa_a_kid', '{"kid":"other"}'),
    ('JWK with kid, header kid null', :'rsa_a_kid', '{"kid":null}'),
    ('JWK with kid, other header members', :'rsa_a_kid', '{"typ":"at+jwt","cty":"x"}'),
    ('JWK without kid', :'rsa_a', NULL),
    ('PEM', :'rsa_pkcs8', NULL),
    ('PEM, header kid', :'rsa_pkcs8', '{"kid":"pem-key"}')
) AS t(rule, key, header);
-- a generated key's kid, its RFC 7638 thumbprint, goes into the header too
SELECT jwt_generate_key('ES256') AS es_key \gset
SELECT jwt_decode(jwt_sign('{"sub":"alice"}', :'es_key', 'ES256')) #>> '{header,kid}' = :'es_key'::jsonb ->> 'kid' AS kid_in_header,
       :'es_key'::jsonb ->> 'kid' = jwt_jwk_thumbprint(:'es_key'::jsonb) AS kid_is_thumbprint;
-- and the token verifies against a JWKS by that kid
SELECT jwt_verify(jwt_sign('{"sub":"alice"}', :'es_key', 'ES256'),
                  jsonb_build_object('keys', jsonb_build_array(jwt_public_jwk(:'rsa_a_kid'), jwt_public_jwk(:'es_key')))::text) AS claims;
--
-- A public key cannot sign; a JWKS cannot sign.
--
SELECT rule, s.*
FROM (VALUES
    ('SPKI PUBLIC KEY', :'rsa_spki', 'RS256'),
    ('PKCS#1 RSA PUBLIC KEY', :'rsa_pkcs1_public', 'RS256'),
    ('X.509 CERTIFICATE', :'rsa_cert', 'RS256'),
    ('public JWK', :'rsa_jwk', 'RS256'),
    ('EC SPKI PUBLIC KEY', :'ec_spki', 'ES256'),
    ('Ed25519 certificate', :'ed25519_cert', 'EdDSA'),
    ('JWKS of a private key', jsonb_build_object('keys', jsonb_build_array(:'rsa_a'::jsonb))::text, 'RS256')
) AS t(rule, key, alg),
LATERAL pg_temp.signing('{"sub":"alice"}', key, alg) s;
--
-- A key that cannot do the requested algorithm: 22023, and the hint lists
-- what the key can do.
--
SELECT rule, alg, s.code, s.header_or_message AS message, s.hint
FROM (VALUES
    ('RSA', :'rsa_pkcs8', 'ES256'),
    ('RSA', :'rsa_pkcs8', 'HS256'),
    ('RSA', :'rsa_pkcs8', 'EdDSA'),
    ('RSA JWK, alg PS384', (:'rsa_a'::jsonb || '{"alg":"PS384"}')::text, 'RS256'),
    ('EC P-256', :'ec_pkcs8', 'ES384'),
    ('EC P-256', :'ec_pkcs8', 'ES256K'),
    ('EC P-256', :'ec_pkcs8', 'RS256'),
    ('EC P-384', jwt_generate_key('ES384')::text, 'ES256'),
    ('EC P-521', jwt_generate_key('ES512')::text, 'ES384'),
    ('EC secp256k1', jwt_generate_key('ES256K')::text, 'ES256'),
    ('Ed25519', :'ed25519_pkcs8', 'Ed448'),
    ('Ed25519', :'ed25519_pkcs8', 'HS256'),
    ('Ed448', :'ed448_pkcs8', 'Ed25519'),
    ('Ed448', :'ed448_pkcs8', 'ES256'),
    ('RSA', :'rsa_pkcs8', 'none'),
    ('RSA', :'rsa_pkcs8', 'RSA-OAEP')
) AS t(rule, key, alg),
LATERAL pg_temp.signing('{"sub":"alice"}', key, alg) s;
-- verifying likewise, when none of the algorithms asked for is possible
SELECT rule, algorithms, v.code, v.message, v.hint, v.is_valid
FROM (VALUES
    ('RSA public key', :'rsa_spki', '{ES256}'::text[]),
    ('RSA public key', :'rsa_spki', '{HS256,HS512}'),
    ('RSA certificate', :'rsa_cert', '{EdDSA}'),
    ('EC public key', :'ec_spki', '{ES384,RS256}'),
    ('Ed25519 public key', :'ed25519_spki', '{Ed448}'),
    ('Ed448 public key', :'ed448_spki', '{ES256}')
) AS t(rule, key, algorithms),
LATERAL pg_temp.verdict(:'rs256', key, algorithms) v;
--
-- JWKS: a token's kid selects the key by exact match, and a kid that no key
-- has is refused (28000); a token without a kid is tried against every key
-- that can do its algorithm.  Keys the JWKS holds but JWS cannot use (an
-- encryption key, X25519, RSA 1024, P-224) are kept, so their kid is found,
-- and verify nothing.  (The signing keys are made now; their kids are set.)
--
SELECT (jwt_generate_key('RS256') - 'alg' || '{"kid":"rsa-1"}')::text AS k_rsa1,
       (jwt_generate_key('RS256') - 'alg' || '{"kid":"rsa-2"}')::text AS k_rsa2,
       (jwt_generate_key('ES256') || '{"kid":"ec-1"}')::text AS k_ec1,
       (jwt_generate_key('EdDSA') || '{"kid":"ed-1"}')::text AS k_ed1,
       (jwt_generate_key('RS256') - 'kid')::text AS k_nokid,
       (jwt_generate_key('RS256') - 'alg' || '{"kid":"enc-1"}')::text AS k_enc,
       (jwt_generate_key('RS256') - 'alg' || '{"kid":"rsa-9"}')::text AS k_outsider \gset
SELECT jsonb_build_object('keys', jsonb_build_array(
           jwt_public_jwk(:'k_rsa1'), jwt_public_jwk(:'k_rsa2'), jwt_public_jwk(:'k_ec1'),
           jwt_public_jwk(:'k_ed1'), jwt_public_jwk(:'k_nokid'),
           jwt_public_jwk(:'k_enc') || '{"use":"enc","alg":"RSA-OAEP"}',
           '{"kty":"OKP","crv":"X25519","kid":"x-1","x":"TfG6UAFmRyTyBDZwOvyVp6s_h3vGg9OZrxpOTvD8jxY"}'::jsonb,
           '{"kty":"RSA","kid":"weak-1","e":"AQAB","n":"qJ5lS6h7qTJ2rHsAwZ8MtgV7vuBXv_bnqAfjJrpxI5rixNUtB3lI64S36Y8stmOaCRrQX7VUVpH2cwcFSUDvY0_TTGVX2s14Q4-s92x3AkQ3fxKhgHiDt9seQyzIuHPZM68EAJMu-mkoZ0AVifMPDZ9D4ILhH6_1SWGrtdTtWW0"}'::jsonb,
           '{"kty":"EC","crv":"P-224","kid":"p224-1","x":"PvcXJ08uH5840QSTAafwQrqRVtv6lg-VtpJ9gQ","y":"hSj1lFmfCIlwfIKer6Hu6QHwHpzJwWt_2NfZMA"}'::jsonb
       ))::text AS jwks \gset
-- the kids of the JWKS, in order (the key without kid shows as null)
SELECT k ->> 'kid' AS kid, k ->> 'kty' AS kty, k ->> 'crv' AS crv, k ->> 'use' AS use, k ->> 'alg' AS alg
FROM jsonb_array_elements(:'jwks'::jsonb -> 'keys') AS k;
SELECT rule, v.*
FROM (VALUES
    ('kid rsa-1, signed by rsa-1', jwt_sign('{"sub":"alice"}', :'k_rsa1', 'RS256'), NULL::text[]),
    ('kid rsa-2, signed by rsa-2', jwt_sign('{"sub":"alice"}', :'k_rsa2', 'PS256'), NULL),
    ('kid ec-1, signed by ec-1', jwt_sign('{"sub":"alice"}', :'k_ec1', 'ES256'), NULL),
    ('kid ed-1, signed by ed-1', jwt_sign('{"sub":"alice"}', :'k_ed1', 'EdDSA'), NULL),
    ('kid rsa-2, signed by rsa-1', jwt_sign('{"sub":"alice"}', :'k_rsa1', 'RS256', '{"kid":"rsa-2"}'), NULL),
    ('kid rsa-9, in no key', jwt_sign('{"sub":"alice"}', :'k_outsider', 'RS256'), NULL),
    ('kid RSA-1, differing in case', jwt_sign('{"sub":"alice"}', :'k_rsa1', 'RS256', '{"kid":"RSA-1"}'), NULL),
    ('kid "rsa-1 ", a trailing space', jwt_sign('{"sub":"alice"}', :'k_rsa1', 'RS256', '{"kid":"rsa-1 "}'), NULL),
    ('kid "rsa", a prefix', jwt_sign('{"sub":"alice"}', :'k_rsa1', 'RS256', '{"kid":"rsa"}'), NULL),
    ('kid "", empty', jwt_sign('{"sub":"alice"}', :'k_rsa1', 'RS256', '{"kid":""}'), NULL),
    ('kid ec-1 on an RS256 token', jwt_sign('{"sub":"alice"}', :'k_rsa1', 'RS256', '{"kid":"ec-1"}'), NULL),
    ('kid enc-1, signed by the enc key', jwt_sign('{"sub":"alice"}', :'k_enc', 'RS256'), NULL),
    ('kid x-1 (X25519)', jwt_sign('{"sub":"alice"}', :'k_rsa1', 'RS256', '{"kid":"x-1"}'), NULL),
    ('kid weak-1 (RSA 1024)', jwt_sign('{"sub":"alice"}', :'k_rsa1', 'RS256', '{"kid":"weak-1"}'), NULL),
    ('kid p224-1 (P-224)', jwt_sign('{"sub":"alice"}', :'k_ec1', 'ES256', '{"kid":"p224-1"}'), NULL),
    ('no kid, signed by rsa-1', jwt_sign('{"sub":"alice"}', :'k_rsa1', 'RS256', '{"kid":null}'), NULL),
    ('no kid, signed by rsa-2', jwt_sign('{"sub":"alice"}', :'k_rsa2', 'RS512', '{"kid":null}'), NULL),
    ('no kid, signed by the key without kid', jwt_sign('{"sub":"alice"}', :'k_nokid', 'RS256'), NULL),
    ('no kid, signed by ec-1', jwt_sign('{"sub":"alice"}', :'k_ec1', 'ES256', '{"kid":null}'), NULL),
    ('no kid, signed by ed-1', jwt_sign('{"sub":"alice"}', :'k_ed1', 'EdDSA', '{"kid":null}'), NULL),
    ('no kid, signed by the enc key', jwt_sign('{"sub":"alice"}', :'k_enc', 'RS256', '{"kid":null}'), NULL),
    ('no kid, signed by a key outside the JWKS', jwt_sign('{"sub":"alice"}', :'k_outsider', 'RS256', '{"kid":null}'), NULL),
    ('no kid, ES384: no key can verify it', jwt_sign('{"sub":"alice"}', jwt_generate_key('ES384')::text, 'ES384', '{"kid":null}'), NULL),
    ('kid zz, signed by the key without kid', jwt_sign('{"sub":"alice"}', :'k_nokid', 'RS256', '{"kid":"zz"}'), NULL),
    ('kid rsa-1, algorithms {RS256}', jwt_sign('{"sub":"alice"}', :'k_rsa1', 'RS256'), '{RS256}'),
    ('kid rsa-1, algorithms {ES256,EdDSA}', jwt_sign('{"sub":"alice"}', :'k_rsa1', 'RS256'), '{ES256,EdDSA}'),
    ('no kid, ES256, algorithms {RS256}', jwt_sign('{"sub":"alice"}', :'k_ec1', 'ES256', '{"kid":null}'), '{RS256}')
) AS t(rule, token, algorithms),
LATERAL pg_temp.verdict(token, :'jwks', algorithms) v;
-- JWKS that are wrong calls: two keys with one kid, no key, keys of which
-- none can verify the algorithms asked for, members that are no keys
SELECT rule, algorithms, v.code, v.message, v.detail, v.hint, v.is_valid
FROM (VALUES
    ('a kid twice', jsonb_build_object('keys', jsonb_build_array(jwt_public_jwk(:'k_rsa1'), jwt_public_jwk(:'k_rsa2') || '{"kid":"rsa-1"}')), NULL::text[]),
    ('a kid twice, one key unusable', jsonb_build_object('keys', jsonb_build_array(jwt_public_jwk(:'k_rsa1'), '{"kty":"OKP","crv":"X25519","kid":"rsa-1","x":"TfG6UAFmRyTyBDZwOvyVp6s_h3vGg9OZrxpOTvD8jxY"}'::jsonb)), NULL),
    ('no key', '{"keys":[]}'::jsonb, NULL),
    ('a shared secret with public keys', jsonb_build_object('keys', jsonb_build_array(jwt_public_jwk(:'k_rsa1'),
        jsonb_build_object('kty', 'oct', 'kid', 'hs-1', 'k', pg_temp.b64url(convert_to(repeat('s', 32), 'UTF8'))))), NULL),
    ('only an encryption key and X25519', jsonb_build_object('keys', jsonb_build_array(
        jwt_public_jwk(:'k_enc') || '{"use":"enc","alg":"RSA-OAEP"}',
        '{"kty":"OKP","crv":"X25519","kid":"x-1","x":"TfG6UAFmRyTyBDZwOvyVp6s_h3vGg9OZrxpOTvD8jxY"}'::jsonb)), '{RS256}'),
    ('RSA and EC keys, algorithms {EdDSA}', jsonb_build_object('keys', jsonb_build_array(jwt_public_jwk(:'k_rsa1'), jwt_public_jwk(:'k_ec1'))), '{EdDSA}'),
    ('a member that is no valid JWK', jsonb_build_object('keys', jsonb_build_array(jwt_public_jwk(:'k_rsa1'), '{"kty":"RSA","kid":"bad","n":"!!","e":"AQAB"}'::jsonb)), NULL),
    ('a private member whose parts do not match', jsonb_build_object('keys', jsonb_build_array(jwt_public_jwk(:'k_rsa1'), :'rsa_a'::jsonb || jsonb_build_object('d', :'rsa_b'::jsonb ->> 'd'))), NULL),
    ('a member not an object', jsonb_build_object('keys', jsonb_build_array(jwt_public_jwk(:'k_rsa1'), 'rsa-2')), NULL),
    ('"keys" not an array', jsonb_build_object('keys', jwt_public_jwk(:'k_rsa1')), NULL)
) AS t(rule, jwks, algorithms),
LATERAL pg_temp.verdict(jwt_sign('{"sub":"alice"}', :'k_rsa1', 'RS256'), jwks::text, algorithms) v;
-- an identity provider's JWKS as published (RSA signing keys with their
-- certificate chain, an EC key, and an RSA key for encryption): its tokens
-- are RS256 and ES256 with a kid
SELECT jsonb_build_object('keys', jsonb_build_array(
           jwt_public_jwk(:'rsa_spki') || jsonb_build_object('kid', 'q1-2026', 'use', 'sig', 'alg', 'RS256',
               'x5c', jsonb_build_array(pg_temp.pem_body(:'rsa_cert')),
               'x5t#S256', pg_temp.b64url(sha256(decode(pg_temp.pem_body(:'rsa_cert'), 'base64')))),
           jwt_public_jwk(:'k_rsa2') || '{"kid":"q2-2026","use":"sig","alg":"RS256"}',
           jwt_public_jwk(:'ec_spki') || '{"kid":"ec-2026","use":"sig","alg":"ES256"}',
           jwt_public_jwk(:'k_enc') || '{"kid":"enc-2026","use":"enc","alg":"RSA-OAEP-256"}'
       ))::text AS idp_jwks \gset
SELECT rule, v.*
FROM (VALUES
    ('RS256, kid q1-2026', jwt_sign('{"sub":"alice"}', :'rsa_pkcs8', 'RS256', '{"kid":"q1-2026"}'), '{RS256}'::text[]),
    ('RS256, kid q2-2026', jwt_sign('{"sub":"alice"}', :'k_rsa2', 'RS256', '{"kid":"q2-2026"}'), '{RS256}'),
    ('RS256, kid q2-2026, signed with q1', jwt_sign('{"sub":"alice"}', :'rsa_pkcs8', 'RS256', '{"kid":"q2-2026"}'), '{RS256}'),
    ('RS256, no kid', jwt_sign('{"sub":"alice"}', :'rsa_pkcs8', 'RS256'), '{RS256}'),
    ('ES256, kid ec-2026', jwt_sign('{"sub":"alice"}', :'ec_pkcs8', 'ES256', '{"kid":"ec-2026"}'), '{RS256,ES256}'),
    ('ES256, kid ec-2026, only RS256 allowed', jwt_sign('{"sub":"alice"}', :'ec_pkcs8', 'ES256', '{"kid":"ec-2026"}'), '{RS256}'),
    ('PS256 by q1, kid q1-2026 (its JWK says RS256)', jwt_sign('{"sub":"alice"}', :'rsa_pkcs8', 'PS256', '{"kid":"q1-2026"}'), NULL),
    ('RS256 by the encryption key, kid enc-2026', jwt_sign('{"sub":"alice"}', :'k_enc', 'RS256', '{"kid":"enc-2026"}'), NULL),
    ('RS256, kid q3-2026 (not published yet)', jwt_sign('{"sub":"alice"}', :'k_outsider', 'RS256', '{"kid":"q3-2026"}'), '{RS256}')
) AS t(rule, token, algorithms),
LATERAL pg_temp.verdict(token, :'idp_jwks', algorithms) v;
--
-- THE CLASSIC ATTACK (algorithm confusion).  The verifier trusts an RSA
-- public key; the attacker, who can read it, writes "alg":"HS256" and MACs
-- the token with the key's public text as the HMAC secret.  Every such token
-- is refused: with algorithms NULL because the key cannot verify HS256
-- (28000), and with algorithms {HS256} because the call asks for what the
-- key cannot do (22023).  The forged tokens are MACed by pg_temp.forge, an
-- HMAC written in SQL (the attacker's own tool; it agrees with jwt_sign for
-- a true secret, checked first): jwt itself takes no key's text as a
-- secret, not even as bytea.  The last column is what jwt_is_valid says
-- when the text is passed as a bytea secret: 22023 for every text or
-- encoding of a key (CVE-2022-29217); only the bare modulus, bytes that are
-- no key's text, is a secret, under which the forged token is a correct MAC.
--
SELECT pg_temp.forge('{"sub":"alice"}', convert_to(repeat('s', 64), 'UTF8'), alg)
       = jwt_sign('{"sub":"alice"}', convert_to(repeat('s', 64), 'UTF8'), alg) AS forge_agrees_with_jwt_sign,
       alg
FROM unnest('{HS256,HS384,HS512}'::text[]) AS alg;
CREATE FUNCTION pg_temp.bytea_verdict(token text, key bytea) RETURNS text
LANGUAGE plpgsql AS $$
DECLARE
    state text;
BEGIN
    RETURN jwt_is_valid(token, key)::text;
EXCEPTION WHEN OTHERS THEN
    GET STACKED DIAGNOSTICS state = RETURNED_SQLSTATE;
    RETURN 'raised ' || state;
END
$$;
CREATE TEMP TABLE attacker_secret (ord integer, secret_name text, secret bytea);
INSERT INTO attacker_secret VALUES
    (1, 'SPKI PEM text', convert_to(:'rsa_spki', 'UTF8')),
    (2, 'SPKI PEM text, final newline', convert_to(:'rsa_spki' || E'\n', 'UTF8')),
    (3, 'PKCS#1 public PEM text', convert_to(:'rsa_pkcs1_public', 'UTF8')),
    (4, 'certificate PEM text', convert_to(:'rsa_cert', 'UTF8')),
    (5, 'public JWK text', convert_to(:'rsa_jwk', 'UTF8')),
    (6, 'base64 DER of the public key', convert_to(pg_temp.pem_body(:'rsa_spki'), 'UTF8')),
    (7, 'DER bytes of the public key', decode(pg_temp.pem_body(:'rsa_spki'), 'base64')),
    (8, 'the modulus n', pg_temp.unb64url(:'rsa_jwk'::jsonb ->> 'n'));
CREATE TEMP TABLE trusted_key (ord integer, key_name text, key text);
INSERT INTO trusted_key VALUES
    (1, 'SPKI PEM', :'rsa_spki'),
    (2, 'JWK', :'rsa_jwk'),
    (3, 'certificate', :'rsa_cert'),
    (4, 'JWKS', jsonb_build_object('keys', jsonb_build_array(:'rsa_jwk'::jsonb))::text);
SELECT s.secret_name, k.key_name, v.code, v.detail, w.code AS code_hs256, w.message AS message_hs256,
       v.is_valid, pg_temp.bytea_verdict(t.token, s.secret) AS text_as_bytea_secret
FROM attacker_secret s
CROSS JOIN trusted_key k
JOIN LATERAL (SELECT pg_temp.forge('{"sub":"admin","role":"superuser"}', s.secret) AS token) t ON true,
LATERAL pg_temp.verdict(t.token, k.key) v,
LATERAL pg_temp.verdict(t.token, k.key, '{HS256}') w
ORDER BY s.ord, k.ord;
-- the hint of the 22023, and the same for HS384 and HS512
SELECT alg, v.code, v.message, v.hint
FROM unnest('{HS256,HS384,HS512}'::text[]) AS alg,
LATERAL pg_temp.verdict(pg_temp.forge('{"sub":"admin"}', convert_to(:'rsa_spki', 'UTF8'), alg), :'rsa_spki', ARRAY[alg]) v;
-- the same attack on the EC and Ed25519 keys
SELECT key_name, v.code, v.detail, w.code AS code_hs256, w.hint AS hint_hs256
FROM (VALUES ('EC SPKI PEM', :'ec_spki'), ('EC certificate', :'ec_cert'),
             ('Ed25519 SPKI PEM', :'ed25519_spki'), ('Ed25519 JWK', jwt_public_jwk(:'ed25519_spki')::text)) AS k(key_name, key),
LATERAL (SELECT pg_temp.forge('{"sub":"admin"}', convert_to(key, 'UTF8')) AS token) t,
LATERAL pg_temp.verdict(t.token, key) v,
LATERAL pg_temp.verdict(t.token, key, '{HS256}') w;
-- A PEM block or a JWK with text around it is still never a secret: the
-- output of "openssl x509 -text", a PKCS#12 export with bag attributes, and a
-- JWK after a label, each attacked with an HS256 token MACed with its own
-- text.  The PEM texts verify a genuine RS256 token (the block is found and
-- read); the labelled JWK is no key at all.
SELECT key_name, v.code, v.message, v.detail, g.code AS genuine_rs256
FROM (VALUES ('certificate as openssl x509 -text prints it', E'Certificate:\n    Data:\n        Version: 3 (0x2)\n' || :'rsa_cert'),
             ('a PKCS#12 export with bag attributes', E'Bag Attributes\n    friendlyName: api\n' || :'rsa_spki'),
             ('a JWK after a label', 'key: ' || :'rsa_jwk')) AS k(key_name, key),
LATERAL pg_temp.verdict(pg_temp.forge('{"sub":"admin"}', convert_to(key, 'UTF8')), key) v,
LATERAL pg_temp.verdict(jwt_sign('{"sub":"alice"}', :'rsa_pkcs8', 'RS256'), key) g;
--
-- Key reuse.  A key text is parsed once per backend and kept: verifying
-- 20,000 RS256 tokens against one PEM public key costs one parse of that
-- PEM.  jwt_cache_stats() counts the lookups and parses of this backend; a
-- new connection starts at zero.
--
\c -
SELECT jwt_cache_stats() AS stats;
CREATE TEMP TABLE rs256_tokens AS
SELECT i, jwt_sign(jsonb_build_object('sub', 'user-' || i, 'i', i), :'rsa_pkcs8', 'RS256') AS token
FROM generate_series(1, 20000) AS i;
SELECT jwt_cache_stats() AS stats_before \gset
SELECT count(*) AS tokens,
       count(*) FILTER (WHERE jwt_verify(token, :'rsa_spki') = jsonb_build_object('sub', 'user-' || i, 'i', i)) AS verified,
       count(DISTINCT token) AS distinct_tokens
FROM rs256_tokens;
SELECT jwt_cache_stats() AS stats_after \gset
SELECT :'stats_before'::jsonb AS before, :'stats_after'::jsonb AS after,
       (:'stats_after'::jsonb ->> 'key_parses')::bigint - (:'stats_before'::jsonb ->> 'key_parses')::bigint AS key_parses,
       (:'stats_after'::jsonb ->> 'key_lookups')::bigint - (:'stats_before'::jsonb ->> 'key_lookups')::bigint AS key_lookups;
-- a second pass parses nothing; another statement, another call site, same key
SELECT count(*) FILTER (WHERE jwt_is_valid(token, :'rsa_spki')) AS valid FROM rs256_tokens WHERE i <= 1000;
SELECT (jwt_cache_stats() ->> 'key_parses')::bigint - (:'stats_after'::jsonb ->> 'key_parses')::bigint AS key_parses;
-- another text of the same key (a final newline) is another cache entry
SELECT count(*) FILTER (WHERE jwt_is_valid(token, :'rsa_spki' || E'\n')) AS valid FROM rs256_tokens WHERE i <= 1000;
SELECT (jwt_cache_stats() ->> 'key_parses')::bigint - (:'stats_after'::jsonb ->> 'key_parses')::bigint AS key_parses,
       jwt_cache_stats() ->> 'keys_cached' AS keys_cached;
-- a call site knows a constant key text again by where its bytes are, with
-- no comparison; a key made on each row is compared, byte for byte, though
-- each row's text (of the same length) may lie where the last one was
CREATE TEMP TABLE per_row_keys AS
SELECT i, 'per-row-secret-' || lpad(i::text, 4, '0') || '-padded-to-be-long-enough' AS secret
FROM generate_series(1, 300) AS i;
ALTER TABLE per_row_keys ADD COLUMN token text;
UPDATE per_row_keys SET token = jwt_sign(jsonb_build_object('sub', 'user-' || i), secret, 'HS256');
SELECT count(*) FILTER (WHERE jwt_is_valid(token, 'per-row-secret-' || lpad(i::text, 4, '0') || '-padded-to-be-long-enough')) AS own_key,
       count(*) FILTER (WHERE jwt_is_valid(token, 'per-row-secret-' || lpad((i % 300 + 1)::text, 4, '0') || '-padded-to-be-long-enough')) AS next_rows_key,
       count(*) FILTER (WHERE jwt_is_valid(token, 'per-row-secret-0001-padded-to-be-long-enough')) AS constant_key
FROM per_row_keys;
