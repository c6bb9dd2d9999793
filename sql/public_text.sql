--
-- public_text: a public key's text is never an HMAC secret (the class of
-- CVE-2022-29217, where PyJWT took an "ssh-ed25519 AAAA..." key as one), in
-- whatever form it is written and wherever it stands in the text, given as
-- text or as bytea.  The rule (src/core/key.c, looks_like_ssh and
-- secret_is_key):
--   - text or bytea holding an SSH public key: starting with a key type
--     (ssh-*, ecdsa-sha2-*, sk-ssh-*, sk-ecdsa-*); an RFC 4716 block; anywhere,
--     base64 that decodes to an SSH key blob (a length, then such a type); or
--     such a type name followed by blanks and "AAAA": 22023 "SSH public keys
--     are not supported";
--   - a bytea key holding a PEM block, a JWK ("kty", also escaped), or the
--     DER of a key or certificate, raw or in base64: 22023 "a key is not a
--     shared secret" (as text these are read as the key they are);
--   - anything else is a secret: random bytes, and text that mentions ssh or
--     holds "AAAA" without a key.
-- Each text is attacked: an HS256 token MACed with the text itself (by an
-- HMAC written in SQL) must not verify under it.
--
-- THE SSH KEYS BELOW ARE TEST-ONLY PUBLIC KEYS, generated for this suite;
-- their private halves were never kept.
\set ssh_ed 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIFb1kdO+oFLG+Ft03MxzpmCUnh0B3rrzmRa/sIBcfMke'
\set ssh_rsa 'ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAABAQDFsj7yBcZQpkoHAPGGfU7NdrfqCrxM3OeB91JAfEsdRbXhZsPA53feC8IjXPBw2n0E9kluSmgBTonk8jJEtXLK46hoIzUUAx2iK7brw7KhAwy0KLhI2TV485jdsjNAZiqNZXYziY/p3rfkxKFuhjU8ZbjOQUsw2hQqNHx4e6KdlRS/B5W108ec8Y4CcGeN+Wc3JuzYzIaDz8nOlu93EFzuHBu/TsEaT46UdeuXeyhgKpTfYVuCtuB9teczpcnZWwBZfBLKWIAWhux3sCsE1h+BE4gn1Bhy4llIWMTJdeviEj33ZHBt4zIpqq3tvUSAULr5d8E0HUvUfYrxrFLWen2t'
\set ssh_p256 'ecdsa-sha2-nistp256 AAAAE2VjZHNhLXNoYTItbmlzdHAyNTYAAAAIbmlzdHAyNTYAAABBBPE5bliTAJM31BWl6qatPwwx+u/ltGDdmBhvKOqoAPiB+UyjcUdVzm1CIK+Lb8V7DwaIPG36WAxla+lDyw8aYc0='
\set ssh_p384 'ecdsa-sha2-nistp384 AAAAE2VjZHNhLXNoYTItbmlzdHAzODQAAAAIbmlzdHAzODQAAABhBCUuGRsEjtiLPDpmUXRZG07WGZZM7NJ/Pu/kMXWliyTnq28UuLEJKg4t0/qyVZ0I/bJ+WQi6RwFDQzzbH/HhWWmPZt4vKG4k34s51K+z/iOKxAcCuxrd0M0ToyKR+lBT7w=='
\set ssh_p521 'ecdsa-sha2-nistp521 AAAAE2VjZHNhLXNoYTItbmlzdHA1MjEAAAAIbmlzdHA1MjEAAACFBAACYDxksedsRrExBoQWP5Y/nb/JAub0R4yugJm1yMop354Z3RGTLbdmbQqceMryozFp/qCg95O86cHHvMK+BjdmawBrimvrtmSHtIhoNXT6/2GjXgtR7V5IulUc8tsIP+f5bqmUT7i37ANWjD+k5Gzii2WytKKtTXiGAjOjBar7jBCkFw=='
\set ssh_dss 'ssh-dss AAAAB3NzaC1kc3MAAACBAMNyPdQr0UBXkT8o3aug/5SeCOvDwhC+Yqq46rcMFbsqzmC//QylhNgMhjx1Q3ys4zGhJInAAatddZhTqYKARQt+8Yw3RzZulw5fuh2AYVC/bC/ZEH5zX4VTWIw47S0JOiEeB0ROlk7b8goz+weKFZEdTFgI92VE93VlrvrAI5sRAAAAFQDImf52DBfzhEN3MhAGy1LnrWTRNQAAAIAbgx9os4mLR6crdE3T9gfixaJGXoBDlU8+LC3NruiJam2Hyqp9xtoKch4v+0Q7aHh9bhjYrPWbXdgVdXwQzDSEiJixlzeCfLKm5ixqyUHF8uTDrzFAGb/Xg8Tqn30I/E6TdT1Ixj+nAFofsrijKYhH2dBk9QsQpZA7Ml8XkGf8SQAAAIA6Q3bxCERxe454BV25j7VIIMFPh+DW6gDpqoQLGkd3k8+Bo2oUxhV/NeeBsy177niISIgpOFqCCJEEZWd7nTnm438d/E2EUDbE0GGXIqNBS7hAEPU0kkKxxgCyj7yw/4A4N0wCIDrRTyFT3r55atVYHQh3UDMqUJsDdIMUMKJ1vQ=='
\set ssh_sk_ed 'sk-ssh-ed25519@openssh.com AAAAGnNrLXNzaC1lZDI1NTE5QG9wZW5zc2guY29tAAAAIFb1kdO+oFLG+Ft03MxzpmCUnh0B3rrzmRa/sIBcfMkeAAAABHNzaDo='
\set ssh_sk_ec 'sk-ecdsa-sha2-nistp256@openssh.com AAAAInNrLWVjZHNhLXNoYTItbmlzdHAyNTZAb3BlbnNzaC5jb20AAAAIbmlzdHAyNTYAAABBBPE5bliTAJM31BWl6qatPwwx+u/ltGDdmBhvKOqoAPiB+UyjcUdVzm1CIK+Lb8V7DwaIPG36WAxla+lDyw8aYc0AAAAEc3NoOg=='
\set ssh_cert 'ssh-ed25519-cert-v01@openssh.com AAAAIHNzaC1lZDI1NTE5LWNlcnQtdjAxQG9wZW5zc2guY29tAAAAIAEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAAAAIFb1kdO+oFLG+Ft03MxzpmCUnh0B3rrzmRa/sIBcfMke'
CREATE FUNCTION pg_temp.b64url(bytea) RETURNS text
AS $$ SELECT translate(rtrim(replace(encode($1, 'base64'), E'\n', ''), '='), '+/', '-_') $$
LANGUAGE sql IMMUTABLE STRICT;
-- HS256 as an attacker computes it (RFC 2104 over sha256())
CREATE FUNCTION pg_temp.forge_hs256(claims text, key bytea) RETURNS text
LANGUAGE plpgsql IMMUTABLE STRICT AS $$
DECLARE
    k bytea := CASE WHEN length(key) > 64 THEN sha256(key) ELSE key END;
    ipad bytea;
    opad bytea;
    s text := pg_temp.b64url('{"alg":"HS256","typ":"JWT"}') || '.' || pg_temp.b64url(convert_to(claims, 'UTF8'));
BEGIN
    k := k || decode(repeat('00', 64 - length(k)), 'hex');
    ipad := k;
    opad := k;
    FOR i IN 0..63 LOOP
        ipad := set_byte(ipad, i, get_byte(k, i) # 54);
        opad := set_byte(opad, i, get_byte(k, i) # 92);
    END LOOP;
    RETURN s || '.' || pg_temp.b64url(sha256(opad || sha256(ipad || convert_to(s, 'UTF8'))));
END
$$;
-- the SQLSTATE and message of a statement, or "accepted"
CREATE FUNCTION pg_temp.outcome(sql text) RETURNS text
LANGUAGE plpgsql AS $$
DECLARE
    msg text;
    state text;
BEGIN
    EXECUTE sql;
    RETURN 'accepted';
EXCEPTION WHEN OTHERS THEN
    GET STACKED DIAGNOSTICS msg = MESSAGE_TEXT, state = RETURNED_SQLSTATE;
    RETURN state || ' ' || msg;
END
$$;
SELECT jwt_public_jwk(jwt_generate_key('EdDSA')::text)::text AS ed_jwk \gset
SELECT '-----BEGIN PUBLIC KEY-----
MCowBQYDK2VwAyEAGb9ECWmEzf6FQbrBZ9w7lshQhqowtrbLDFw4rXAxZuE=
-----END PUBLIC KEY-----' AS ed_pem \gset
CREATE TABLE pg_temp.public_texts (ord integer, form text, txt text);
INSERT INTO pg_temp.public_texts VALUES
    (1, 'authorized_keys line with options', 'command="/usr/bin/true",no-pty,from="192.0.2.0/24" ' || :'ssh_ed' || ' deploy@ci'),
    (2, 'authorized_keys line, restrict, ssh-rsa', 'restrict ' || :'ssh_rsa'),
    (3, 'known_hosts line, plain, ecdsa-sha2-nistp256', 'git.example.com,192.0.2.10 ' || :'ssh_p256'),
    (4, 'known_hosts line, hashed', '|1|F1E1KeoE/eEWhi10WpGv4OdiO6Y=|3988QV0VE8wmZL7suNrYQLITLCg= ' || :'ssh_ed'),
    (5, '@cert-authority line, ecdsa-sha2-nistp384', '@cert-authority *.example.com ' || :'ssh_p384'),
    (6, '@revoked line, ecdsa-sha2-nistp521', '@revoked * ' || :'ssh_p521'),
    (7, 'ssh-dss after options', 'no-port-forwarding ' || :'ssh_dss'),
    (8, 'sk-ssh-ed25519 after options', 'no-touch-required ' || :'ssh_sk_ed'),
    (9, 'sk-ecdsa-sha2-nistp256 in known_hosts', 'host.example.com ' || :'ssh_sk_ec'),
    (10, 'certificate after a label', 'cert: ' || :'ssh_cert'),
    (11, 'the bare blob after a label', 'key=' || split_part(:'ssh_ed', ' ', 2)),
    (12, 'the bare blob on its own', split_part(:'ssh_rsa', ' ', 2)),
    (13, 'a key type and a blob cut short', 'id ssh-ed25519 AAAAC3Nza'),
    (14, 'an OpenSSH line after a newline', E'# deploy key\n' || :'ssh_ed'),
    (15, 'RFC 4716 block after text', E'key:\n---- BEGIN SSH2 PUBLIC KEY ----\n' || split_part(:'ssh_ed', ' ', 2) || E'\n---- END SSH2 PUBLIC KEY ----'),
    (16, 'a JWK escaped inside a JSON string', '"' || replace(:'ed_jwk', '"', '\"') || '"'),
    (17, 'PEM public key', :'ed_pem'),
    (18, 'PEM public key after text', 'public key: ' || :'ed_pem'),
    (19, 'public JWK', :'ed_jwk'),
    (20, 'base64 DER of the public key', 'MCowBQYDK2VwAyEAGb9ECWmEzf6FQbrBZ9w7lshQhqowtrbLDFw4rXAxZuE=');
-- as a text key: jwt_verify of the forged token, and jwt_sign with the text
SELECT ord, form,
       pg_temp.outcome(format('SELECT jwt_verify(%L, %L)', pg_temp.forge_hs256('{"sub":"admin"}', convert_to(txt, 'UTF8')), txt)) AS verify_text,
       pg_temp.outcome(format('SELECT jwt_sign(%L, %L)', '{"sub":"admin"}', txt)) AS sign_text
FROM pg_temp.public_texts ORDER BY ord;
-- as a bytea key: refused the same way, never a secret
SELECT ord, form,
       pg_temp.outcome(format('SELECT jwt_verify(%L, %L::bytea)', pg_temp.forge_hs256('{"sub":"admin"}', convert_to(txt, 'UTF8')), convert_to(txt, 'UTF8'))) AS verify_bytea,
       pg_temp.outcome(format('SELECT jwt_is_valid(%L, %L::bytea)', pg_temp.forge_hs256('{"sub":"admin"}', convert_to(txt, 'UTF8')), convert_to(txt, 'UTF8'))) AS is_valid_bytea,
       pg_temp.outcome(format('SELECT jwt_sign(%L, %L::bytea)', '{"sub":"admin"}', convert_to(txt, 'UTF8'))) AS sign_bytea
FROM pg_temp.public_texts ORDER BY ord;
-- the DER bytes of the key as bytea
SELECT pg_temp.outcome(format('SELECT jwt_sign(%L, %L::bytea)', '{"sub":"admin"}',
           decode('MCowBQYDK2VwAyEAGb9ECWmEzf6FQbrBZ9w7lshQhqowtrbLDFw4rXAxZuE=', 'base64'))) AS der_bytea;
-- the messages
SELECT jwt_sign('{"sub":"admin"}', 'restrict ' || :'ssh_rsa');
SELECT jwt_sign('{"sub":"admin"}', convert_to(:'ed_pem', 'UTF8'));
-- what is still a secret: random bytes, and texts that only look a little like keys
CREATE TABLE pg_temp.secrets (ord integer, form text, secret bytea);
INSERT INTO pg_temp.secrets VALUES
    (1, 'random bytes', sha512('public_text')),
    (2, 'random bytes starting 0x30', '\x30'::bytea || sha256('public_text')),
    (3, 'a passphrase mentioning ssh', convert_to('use ssh-agent forwarding, not ecdsa-sha2 keys, says ops', 'UTF8')),
    (4, 'a secret of A', convert_to(repeat('A', 48), 'UTF8')),
    (5, 'a word and AAAA', convert_to('password AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA', 'UTF8')),
    (6, 'base64 of random bytes', convert_to(encode(sha512('public_text'), 'base64'), 'UTF8')),
    (7, 'starts with a brace', convert_to('{' || repeat('x', 40), 'UTF8'));
-- as bytea, each is a secret; as text too, but for the brace (text that
-- starts with "{" is read as a JWK)
SELECT ord, form,
       jwt_verify(jwt_sign('{"sub":"alice"}', secret), secret) ->> 'sub' AS bytea_secret,
       CASE WHEN ord BETWEEN 3 AND 6 THEN
           jwt_verify(jwt_sign('{"sub":"alice"}', convert_from(secret, 'SQL_ASCII')), convert_from(secret, 'SQL_ASCII')) ->> 'sub'
       END AS text_secret
FROM pg_temp.secrets ORDER BY ord;
