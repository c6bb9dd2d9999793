-- The library does not reserve the jwt. prefix: applications' own settings
-- under jwt.claims.* (PostGraphile's convention) keep working once it is
-- loaded, and a misspelt one-part jwt.* setting is warned of when it loads.

-- with the library loaded, PostGraphile's calls work
LOAD 'jwt';
SELECT set_config('jwt.claims.user_id', '42', true) IS NOT NULL AS set_ok;
BEGIN;
SELECT set_config('jwt.claims.user_id', '42', true);
SELECT current_setting('jwt.claims.user_id', true) AS user_id;
SELECT current_setting('jwt.claims.role', true) IS NULL AS unset_is_null;
SET LOCAL jwt.claims.role = 'app_user';
SHOW jwt.claims.role;
COMMIT;
SELECT coalesce(current_setting('jwt.claims.user_id', true), '') AS after_commit;

-- our own settings are still checked
SET jwt.algorithms = 'none';
SET jwt.audience = 'api';
SHOW jwt.audience;
RESET jwt.audience;

-- a fresh session: settings made before the library loads
\c
SET jwt.audiance = 'api';
SET jwt.claims.user_id = '7';
LOAD 'jwt';
SHOW jwt.claims.user_id;
-- the misspelt one stays a placeholder that nothing reads
SHOW jwt.audience;
