--
-- eddsa_keys: EdDSA public keys that would verify forged signatures are
-- refused wherever a key is read (jwt_verify, jwt_add_key, PEM and JWK).
--
-- A public key of small order (the identity point, on Ed25519 the eight
-- points whose order divides 8) verifies one fixed signature for every
-- message: R = identity, S = 0.  A non-canonical encoding (y >= p) is a
-- second spelling of a point.  Both are 22023 "EdDSA public key is
-- degenerate"; a y with no point on the curve is "unsupported or invalid
-- elliptic curve key".  The x values are the RFC 8032 encodings, computed
-- for this suite (little-endian y, the sign of x in the top bit).
--
-- The forged token: {"alg":"EdDSA"}.{"sub":"anyone"}, signature 01 00...00
-- (R, the identity) then 32 zero bytes (S = 0).
\set forged 'eyJhbGciOiJFZERTQSJ9.eyJzdWIiOiJhbnlvbmUifQ.AQAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA'
CREATE FUNCTION pg_temp.outcome(sql text) RETURNS text
LANGUAGE plpgsql AS $$
DECLARE
    r text;
    msg text;
    state text;
BEGIN
    EXECUTE sql INTO r;
    RETURN 'accepted: ' || coalesce(r, 'NULL');
EXCEPTION WHEN OTHERS THEN
    GET STACKED DIAGNOSTICS msg = MESSAGE_TEXT, state = RETURNED_SQLSTATE;
    RETURN state || ' ' || msg;
END
$$;
CREATE TABLE pg_temp.ed_points (crv text, what text, x text);
INSERT INTO pg_temp.ed_points VALUES
    ('Ed25519', 'order 1 (the identity)', 'AQAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA'),
    ('Ed25519', 'order 2', '7P_______________________________________38'),
    ('Ed25519', 'order 4', 'AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA'),
    ('Ed25519', 'order 4, x negated', 'AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAIA'),
    ('Ed25519', 'order 8', 'JuiVj8KyJ7BFw_SJ8u-Y8NXfrAXTxjM5sTgCiG1T_AU'),
    ('Ed25519', 'order 8, x negated', 'JuiVj8KyJ7BFw_SJ8u-Y8NXfrAXTxjM5sTgCiG1T_IU'),
    ('Ed25519', 'order 8 (the other y)', 'xxdqcD1N2E-6PAt2DRBnDyogU_osOczGTsf9d5KsA3o'),
    ('Ed25519', 'order 8 (the other y), x negated', 'xxdqcD1N2E-6PAt2DRBnDyogU_osOczGTsf9d5KsA_o'),
    ('Ed25519', 'the identity with the sign bit set', 'AQAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAIA'),
    ('Ed25519', 'non-canonical identity, y = p + 1', '7v_______________________________________38'),
    ('Ed25519', 'non-canonical, y = p + 3', '8P_______________________________________38'),
    ('Ed25519', 'no point, y = 2', 'AgAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA'),
    ('Ed448', 'order 1 (the identity)', 'AQAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA'),
    ('Ed448', 'order 2', '_v____________________________________7___________________________________8A'),
    ('Ed448', 'order 4', 'AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA'),
    ('Ed448', 'order 4, x negated', 'AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAACA'),
    ('Ed448', 'non-canonical identity, y = p + 1', 'AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAP____________________________________8A'),
    ('Ed448', 'non-canonical, bits 448-454 of y set', 'AQAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAB'),
    ('Ed448', 'no point, y = 2', 'AgAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA');
-- jwt_verify with each as the key: refused before any signature is checked
-- (the forged token would verify against the identity without the check)
SELECT crv, what,
       pg_temp.outcome(format('SELECT jwt_verify(%L, %L)::text', :'forged',
           json_build_object('kty', 'OKP', 'crv', crv, 'x', x)::text)) AS jwt_verify
FROM pg_temp.ed_points ORDER BY crv DESC, what;
-- jwt_add_key: the registry refuses them too, as "EdDSA" and as the curve's name
SELECT crv, what,
       pg_temp.outcome(format('SELECT jwt_add_key(%L, %L, %L)', 
           json_build_object('kty', 'OKP', 'crv', crv, 'x', x)::text, alg, 'deg-' || what)) AS jwt_add_key
FROM pg_temp.ed_points, (VALUES ('EdDSA'), ('Ed25519'), ('Ed448')) AS a(alg)
WHERE alg = 'EdDSA' OR alg = crv
ORDER BY crv DESC, what, alg;
SELECT count(*) AS degenerate_keys_in_registry FROM jwt_keys WHERE kid LIKE 'deg-%';
-- the identity as a PEM public key (SubjectPublicKeyInfo), and in a JWKS
SELECT pg_temp.outcome(format('SELECT jwt_verify(%L, %L)::text', :'forged',
'-----BEGIN PUBLIC KEY-----
MCowBQYDK2VwAyEAAQAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=
-----END PUBLIC KEY-----')) AS identity_pem;
SELECT pg_temp.outcome(format('SELECT jwt_verify(%L, %L)::text', :'forged',
    '{"keys":[{"kty":"OKP","crv":"Ed25519","x":"AQAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"}]}')) AS identity_in_jwks;
-- what the error says
SELECT jwt_verify(:'forged', '{"kty":"OKP","crv":"Ed25519","x":"AQAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"}');
-- a sound key still signs and verifies, on both curves
SELECT jwt_generate_key('EdDSA') AS ed25519 \gset
SELECT jwt_generate_key('Ed448') AS ed448 \gset
SELECT jwt_verify(jwt_sign('{"sub":"alice"}', :'ed25519', 'EdDSA'),
                  jwt_public_jwk(:'ed25519')::text) ->> 'sub' AS ed25519_verifies,
       jwt_verify(jwt_sign('{"sub":"bob"}', :'ed448', 'Ed448'),
                  jwt_public_jwk(:'ed448')::text) ->> 'sub' AS ed448_verifies;
