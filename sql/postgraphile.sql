-- PostGraphile's convention: claims passed as jwt.claims.* settings, set by
-- the server with set_config(..., true) in each request's transaction.  The
-- compatibility switch jwt.fallback_claims_settings (superuser only, off by
-- default) lets jwt_claims() and jwt_claim() return them, UNVERIFIED, when
-- no jwt.token is set: a migration path, spoofable by any client that
-- connects directly.
LOAD 'jwt';
CREATE ROLE graphile_user;
CREATE TABLE pgl_notes (owner text, body text);
INSERT INTO pgl_notes VALUES ('alice', 'a1'), ('alice', 'a2'), ('bob', 'b1');
ALTER TABLE pgl_notes ENABLE ROW LEVEL SECURITY;
CREATE POLICY own ON pgl_notes USING (owner = jwt_claim('user_id'));
GRANT SELECT ON pgl_notes TO graphile_user;

-- off by default: the settings are nobody's claims
SHOW jwt.fallback_claims_settings;
BEGIN;
SELECT set_config('jwt.claims.user_id', 'alice', true) IS NOT NULL AS set;
SELECT jwt_claims() IS NULL AS no_claims, jwt_claim('user_id') IS NULL AS no_claim;
COMMIT;

-- a client cannot turn it on
SET ROLE graphile_user;
SET jwt.fallback_claims_settings = on;
RESET ROLE;

-- on: the jwt.claims.* settings with a value, as an object of strings
SET jwt.fallback_claims_settings = on;
BEGIN;
SELECT set_config('jwt.claims.user_id', 'alice', true) IS NOT NULL AS set;
SELECT set_config('jwt.claims.role', 'graphile_user', true) IS NOT NULL AS set;
SELECT set_config('jwt.claims.exp', '1700000000', true) IS NOT NULL AS set;
SELECT set_config('jwt.claims.empty', '', true) IS NOT NULL AS set;
SELECT jwt_claims();
SELECT jwt_claim('user_id') AS user_id, jwt_claim('empty') IS NULL AS empty_is_unset;
-- the policy gives alice her rows
SET LOCAL ROLE graphile_user;
SELECT body FROM pgl_notes ORDER BY body;
RESET ROLE;
-- a change is seen by the next statement (and the next call)
SELECT set_config('jwt.claims.user_id', 'bob', true) IS NOT NULL AS set;
SET LOCAL ROLE graphile_user;
SELECT body FROM pgl_notes ORDER BY body;
SELECT jwt_claim('user_id') AS user_id;
COMMIT;

-- after the request's transaction: nothing
SELECT jwt_claims() IS NULL AS no_claims_after_commit;

-- a jwt.token, when set, is what counts: an invalid one is refused, never
-- replaced by the settings
BEGIN;
SELECT set_config('jwt.claims.user_id', 'alice', true) IS NOT NULL AS set;
SET LOCAL jwt.token = 'not.a.token';
SELECT jwt_claim('user_id');
ROLLBACK;

-- with both switches on, PostgREST's request.jwt.claims comes first
SET jwt.fallback_request_claims = on;
BEGIN;
SELECT set_config('jwt.claims.user_id', 'alice', true) IS NOT NULL AS set;
SELECT set_config('request.jwt.claims', '{"user_id": "carol"}', true) IS NOT NULL AS set;
SELECT jwt_claim('user_id') AS from_request;
SELECT set_config('request.jwt.claims', '', true) IS NOT NULL AS set;
SELECT jwt_claim('user_id') AS from_settings;
COMMIT;
RESET jwt.fallback_request_claims;

-- off again: back to nothing
RESET jwt.fallback_claims_settings;
BEGIN;
SELECT set_config('jwt.claims.user_id', 'alice', true) IS NOT NULL AS set;
SELECT jwt_claims() IS NULL AS no_claims;
COMMIT;

DROP TABLE pgl_notes;
DROP ROLE graphile_user;
