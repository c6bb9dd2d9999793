--
-- sig_encoding: a signature has one spelling.  ES256 carries R||S, each of
-- 32 bytes, with 0 < r, s < n checked before any arithmetic
-- (CVE-2022-21449); RS256 and PS256 signatures are exactly the modulus size
-- (256 bytes for this 2048-bit key).  A lax verifier that reduced r or s
-- mod n would accept s + n; one that read the signature as a number would
-- accept a PS256 signature whose leading zero byte was stripped (OpenSSL's
-- PSS verify does), or one with a zero byte prepended: a second spelling
-- of one token.  Each is refused, 28000 "The signature does not verify.";
-- the sound spellings (first) are accepted.
--
-- The tokens were made for this suite: the EC key's d was chosen so that s
-- is small (d = (s k - h) / r mod n for a random k), so that s + n still
-- fits in 32 bytes; each RSA token's claim "n" was counted up until its
-- signature began with a zero byte.  THE KEYS ARE TEST-ONLY KEYS (the RSA
-- key is keys.sql's).
--
\set ec_jwk '{"kty":"EC","crv":"P-256","x":"w8ah_SmfXClzkjy0B8pbrPwF0r5TAB930GNU796VnUw","y":"EHf8ankwOQ-wIlqvt_ri0baycggHznZ8zTf-omjSApE"}'
SELECT '-----BEGIN PUBLIC KEY-----
MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEA2gvsoMMIYZR9inTNmAG/
Jorf3pRYGjPUMD/GYJ47HCs1TjzP5KjTDR7/acJn8+S7Z42FJkYQP02XiJBDZYbx
tiI49TcZk3Wz4NH2Fon3oyVFxvaI2unInHJ4RbNIHE2Sl2Y95LgIb65mmhYqjif/
6j3Fdoa4JQCE8wHiKOTSvEHxdz9RTLkwzCR+v+lUFei11LygXbNr9qbO/o6KhRqK
Y7FLLSr1bSxc+rCl4vIpwFmsls7mp7MSjcgn9S2PtqBtvSjqicaQppPEs+7yreDv
AlDQb8JyCY9GKdfCOE7yLNBp5kIVtQ42osmBvreNo7JCt+FUqi7jAlPJ2E3bhZCY
kwIDAQAB
-----END PUBLIC KEY-----' AS rsa_spki \gset
CREATE FUNCTION pg_temp.verdict(token text, key text) RETURNS text
LANGUAGE plpgsql AS $$
DECLARE
    msg text;
    state text;
BEGIN
    RETURN 'accepted: ' || (jwt_verify(token, key) ->> 'sub');
EXCEPTION WHEN OTHERS THEN
    GET STACKED DIAGNOSTICS msg = PG_EXCEPTION_DETAIL, state = RETURNED_SQLSTATE;
    RETURN state || ' ' || msg;
END
$$;
CREATE TABLE pg_temp.spellings (ord integer, kind text, what text, token text);
INSERT INTO pg_temp.spellings VALUES
    (1, 'ec', 'sound: r, s (s small)', 'eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJhbGljZSJ9.-Brscha9oQI7PJpOx90OsEmQz-C2XJtFAxHorRy7jFAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAASNA'),
    (2, 'ec', 's + n', 'eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJhbGljZSJ9.-Brscha9oQI7PJpOx90OsEmQz-C2XJtFAxHorRy7jFD_____AAAAAP__________vOb6racXnoTzucrC_GM3hQ'),
    (3, 'ec', 'r = 0', 'eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJhbGljZSJ9.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAASNA'),
    (4, 'ec', 's = 0', 'eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJhbGljZSJ9.-Brscha9oQI7PJpOx90OsEmQz-C2XJtFAxHorRy7jFAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA'),
    (5, 'ec', 'r = n', 'eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJhbGljZSJ9._____wAAAAD__________7zm-q2nF56E87nKwvxjJVEAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAASNA'),
    (6, 'ec', 's = n', 'eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJhbGljZSJ9.-Brscha9oQI7PJpOx90OsEmQz-C2XJtFAxHorRy7jFD_____AAAAAP__________vOb6racXnoTzucrC_GMlUQ'),
    (7, 'ec', 'r = 0, s = 0', 'eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJhbGljZSJ9.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA'),
    (8, 'ec', 's = n - s (the other valid s)', 'eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJhbGljZSJ9.-Brscha9oQI7PJpOx90OsEmQz-C2XJtFAxHorRy7jFD_____AAAAAP__________vOb6racXnoTzucrC_GMTHQ'),
    (9, 'rsa', 'RS256 sound, first byte 0', 'eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJhbGljZSIsIm4iOjM0N30.AGupIPIXPm_ZRJTb7Au70_7L-tR1tS7kW2n9WSPUFnfgZHcgrjxt1zyfKw9nHoP1xhX46osIN7Hu1-IEg-Ih053We3nihTkf8BVdNNC4nffXMMjTT1GPCfiA1FMfhSE_A-DtFjmpyvePEZQo1knEHrhqYcngXt4iDuRBEuvRsbBXiRFOB6J-wiLI0433uMZx5pKc2HBOHdUEoymBOAUf_fyKWLGeDRF_hfVh3OFdnMAyqJsxCY3wHZnACB2Nk7na1HK1fHP0m2_1p6heY2lCY0E1QBhmuWRonNtHk76E4HJZtR9_e8fcPeuYv6oB28nOIs0HxpWVsTT88BICrgstew'),
    (10, 'rsa', 'RS256 leading zero stripped', 'eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJhbGljZSIsIm4iOjM0N30.a6kg8hc-b9lElNvsC7vT_sv61HW1LuRbaf1ZI9QWd-BkdyCuPG3XPJ8rD2ceg_XGFfjqiwg3se7X4gSD4iHTndZ7eeKFOR_wFV000Lid99cwyNNPUY8J-IDUUx-FIT8D4O0WOanK948RlCjWScQeuGphyeBe3iIO5EES69GxsFeJEU4Hon7CIsjTjfe4xnHmkpzYcE4d1QSjKYE4BR_9_IpYsZ4NEX-F9WHc4V2cwDKomzEJjfAdmcAIHY2TudrUcrV8c_Sbb_WnqF5jaUJjQTVAGGa5ZGic20eTvoTgclm1H397x9w965i_qgHbyc4izQfGlZWxNPzwEgKuCy17'),
    (11, 'rsa', 'RS256 zero prepended', 'eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJhbGljZSIsIm4iOjM0N30.AABrqSDyFz5v2USU2-wLu9P-y_rUdbUu5Ftp_Vkj1BZ34GR3IK48bdc8nysPZx6D9cYV-OqLCDex7tfiBIPiIdOd1nt54oU5H_AVXTTQuJ331zDI009Rjwn4gNRTH4UhPwPg7RY5qcr3jxGUKNZJxB64amHJ4F7eIg7kQRLr0bGwV4kRTgeifsIiyNON97jGceaSnNhwTh3VBKMpgTgFH_38ilixng0Rf4X1YdzhXZzAMqibMQmN8B2ZwAgdjZO52tRytXxz9Jtv9aeoXmNpQmNBNUAYZrlkaJzbR5O-hOByWbUff3vH3D3rmL-qAdvJziLNB8aVlbE0_PASAq4LLXs'),
    (12, 'rsa', 'PS256 sound, first byte 0', 'eyJhbGciOiJQUzI1NiJ9.eyJzdWIiOiJhbGljZSIsIm4iOjgwfQ.AL_h5ak_bvbSKdfvLbzF1v3LslDsHCVncZJiQdEcSFclnm5YCLszGW0Gt7NWUbSOB4s4g6zx3-2sryY4Y4YA1t3Y46XwfToKBZIGqvR1Qm9QT77-07H_1iCu6Vr3UTXMoFX8TZW0_WNcuvt3NgNt5tr55YuHCQVLDP_SRxn1f4zoce3BkPH9tMHnnczzM2CpgzsFwNd5v9Q6TVzY59aa5Qms2oVYfxzuuIbKdFf8gVE7WpegB6gD40SsGdjVNcXKLpiYW6O2arwWv4qGT58S0vFkEN9I3vvbqQi_rPIVE37NKqT1goiI5WFgWLZjpdOG5pfacaYzAhz2z95EI6qU4w'),
    (13, 'rsa', 'PS256 leading zero stripped', 'eyJhbGciOiJQUzI1NiJ9.eyJzdWIiOiJhbGljZSIsIm4iOjgwfQ.v-HlqT9u9tIp1-8tvMXW_cuyUOwcJWdxkmJB0RxIVyWeblgIuzMZbQa3s1ZRtI4HiziDrPHf7ayvJjhjhgDW3djjpfB9OgoFkgaq9HVCb1BPvv7Tsf_WIK7pWvdRNcygVfxNlbT9Y1y6-3c2A23m2vnli4cJBUsM_9JHGfV_jOhx7cGQ8f20weedzPMzYKmDOwXA13m_1DpNXNjn1prlCazahVh_HO64hsp0V_yBUTtal6AHqAPjRKwZ2NU1xcoumJhbo7ZqvBa_ioZPnxLS8WQQ30je-9upCL-s8hUTfs0qpPWCiIjlYWBYtmOl04bml9pxpjMCHPbP3kQjqpTj'),
    (14, 'rsa', 'PS256 zero prepended', 'eyJhbGciOiJQUzI1NiJ9.eyJzdWIiOiJhbGljZSIsIm4iOjgwfQ.AAC_4eWpP2720inX7y28xdb9y7JQ7BwlZ3GSYkHRHEhXJZ5uWAi7MxltBrezVlG0jgeLOIOs8d_trK8mOGOGANbd2OOl8H06CgWSBqr0dUJvUE--_tOx_9Ygrula91E1zKBV_E2VtP1jXLr7dzYDbeba-eWLhwkFSwz_0kcZ9X-M6HHtwZDx_bTB553M8zNgqYM7BcDXeb_UOk1c2OfWmuUJrNqFWH8c7riGynRX_IFRO1qXoAeoA-NErBnY1TXFyi6YmFujtmq8Fr-Khk-fEtLxZBDfSN7726kIv6zyFRN-zSqk9YKIiOVhYFi2Y6XThuaX2nGmMwIc9s_eRCOqlOM');
SELECT ord, what, length(split_part(token, '.', 3)) AS sig_b64_chars,
       pg_temp.verdict(token, CASE kind WHEN 'ec' THEN :'ec_jwk' ELSE :'rsa_spki' END) AS verdict,
       jwt_is_valid(token, CASE kind WHEN 'ec' THEN :'ec_jwk' ELSE :'rsa_spki' END) AS is_valid
FROM pg_temp.spellings ORDER BY ord;
