--
-- supabase: Supabase's auth.uid(), auth.jwt(), auth.role() and auth.email()
-- as wrappers over jwt_claim() and jwt_claims() (the README's "Coming from
-- Supabase" creates the same ones), with tokens shaped like Supabase's:
--   anon and service_role API keys: HS256 with the project's JWT secret,
--     iss "supabase", no aud, role anon or service_role (the registry path,
--     with jwt.issuer = 'supabase');
--   a signed-in user's access token: ES256 from the project's key set, iss
--     https://<ref>.supabase.co/auth/v1, aud "authenticated", role
--     "authenticated", sub a uuid, email, aal, session_id (a registered
--     issuer: its keys only, its audience).
-- The policies are those of Supabase's row-level security guide, unchanged;
-- the role switch is PostgREST's, from the verified token's role claim.
--
\set VERBOSITY default
\set SHOW_CONTEXT never
CREATE ROLE anon NOLOGIN;
CREATE ROLE authenticated NOLOGIN;
CREATE ROLE service_role NOLOGIN BYPASSRLS;

-- the wrappers, as the README creates them: SQL functions the planner
-- inlines, naming the extension's schema (public here)
CREATE SCHEMA auth;
CREATE FUNCTION auth.uid() RETURNS uuid LANGUAGE sql STABLE PARALLEL SAFE
    AS $$ SELECT public.jwt_claim('sub')::uuid $$;
CREATE FUNCTION auth.role() RETURNS text LANGUAGE sql STABLE PARALLEL SAFE
    AS $$ SELECT public.jwt_claim('role') $$;
CREATE FUNCTION auth.email() RETURNS text LANGUAGE sql STABLE PARALLEL SAFE
    AS $$ SELECT public.jwt_claim('email') $$;
CREATE FUNCTION auth.jwt() RETURNS jsonb LANGUAGE sql STABLE PARALLEL SAFE
    AS $$ SELECT coalesce(public.jwt_claims(), '{}'::jsonb) $$;
GRANT USAGE ON SCHEMA auth TO anon, authenticated, service_role;

-- the project's keys: the legacy JWT secret (API keys) in the registry, and
-- the asymmetric signing key of its Auth server as a registered issuer
SELECT jwt_generate_key('HS256') ->> 'k' AS sb_secret_b64 \gset
SELECT jwt_add_key(jsonb_build_object('kty', 'oct', 'k', :'sb_secret_b64'), 'HS256', 'legacy-jwt-secret') AS kid;
SELECT jwt_generate_key('ES256') AS sb_es256 \gset
INSERT INTO jwt_issuers (issuer, audience, jwks, added_at)
SELECT 'https://abcdefghijklmnopqrst.supabase.co/auth/v1', '{authenticated}',
       jsonb_build_object('keys', jsonb_build_array(
           jwt_public_jwk(:'sb_es256') || '{"kid": "sb-es256", "alg": "ES256", "use": "sig"}')),
       now();
SET jwt.issuer = 'supabase';

-- tokens shaped as Supabase makes them
SELECT jwt_sign(jsonb_build_object('iss', 'supabase', 'ref', 'abcdefghijklmnopqrst', 'role', 'anon',
                                   'iat', extract(epoch FROM now())::bigint,
                                   'exp', extract(epoch FROM now() + interval '10 years')::bigint),
                jsonb_build_object('kty', 'oct', 'k', :'sb_secret_b64'), 'HS256',
                '{"kid": "legacy-jwt-secret"}') AS anon_key \gset
SELECT jwt_sign(jsonb_build_object('iss', 'supabase', 'ref', 'abcdefghijklmnopqrst', 'role', 'service_role',
                                   'iat', extract(epoch FROM now())::bigint,
                                   'exp', extract(epoch FROM now() + interval '10 years')::bigint),
                jsonb_build_object('kty', 'oct', 'k', :'sb_secret_b64'), 'HS256',
                '{"kid": "legacy-jwt-secret"}') AS service_key \gset
CREATE FUNCTION pg_temp.user_token(sub uuid, email text, aal text DEFAULT 'aal1',
                                   app_metadata jsonb DEFAULT '{"provider": "email"}') RETURNS text
LANGUAGE sql AS $$
    SELECT jwt_sign(jsonb_build_object(
               'iss', 'https://abcdefghijklmnopqrst.supabase.co/auth/v1',
               'sub', sub, 'aud', 'authenticated', 'role', 'authenticated',
               'email', email, 'phone', '', 'aal', aal,
               'amr', jsonb_build_array(jsonb_build_object('method', 'password', 'timestamp', 1700000000)),
               'session_id', 'a6a3f6a6-1f0e-4b6e-9a51-2d0b9b5c7e01', 'is_anonymous', false,
               'app_metadata', app_metadata, 'user_metadata', '{}'::jsonb,
               'iat', extract(epoch FROM now())::bigint,
               'exp', extract(epoch FROM now() + interval '1 hour')::bigint),
           current_setting('sb.es256'), 'ES256', '{"kid": "sb-es256"}')
$$;
SELECT set_config('sb.es256', :'sb_es256', false) IS NOT NULL AS key_kept;
SELECT pg_temp.user_token('11111111-1111-1111-1111-111111111111', 'alice@example.com') AS alice \gset
SELECT pg_temp.user_token('22222222-2222-2222-2222-222222222222', 'bob@example.com', 'aal2',
                          '{"provider": "email", "teams": ["red"]}') AS bob \gset

-- Supabase's RLS guide, unchanged
CREATE TABLE profiles (id uuid PRIMARY KEY, username text);
ALTER TABLE profiles ENABLE ROW LEVEL SECURITY;
CREATE POLICY "Public profiles are visible to everyone." ON profiles
    FOR SELECT TO anon, authenticated USING (true);
CREATE POLICY "Users can insert their own profile." ON profiles
    FOR INSERT TO authenticated WITH CHECK ((SELECT auth.uid()) = id);
CREATE POLICY "Users can update own profile." ON profiles
    FOR UPDATE TO authenticated USING ((SELECT auth.uid()) = id) WITH CHECK ((SELECT auth.uid()) = id);
CREATE TABLE todos (id serial PRIMARY KEY, user_id uuid NOT NULL, task text, team text);
ALTER TABLE todos ENABLE ROW LEVEL SECURITY;
CREATE POLICY "Individuals can create todos." ON todos
    FOR INSERT TO authenticated WITH CHECK ((SELECT auth.uid()) = user_id);
CREATE POLICY "Individuals can view their own todos." ON todos
    FOR SELECT USING ((SELECT auth.uid()) = user_id);
CREATE POLICY "Require MFA for deletes." ON todos AS RESTRICTIVE
    FOR DELETE TO authenticated USING ((SELECT auth.jwt() ->> 'aal') = 'aal2');
CREATE POLICY "Owners delete their todos." ON todos
    FOR DELETE TO authenticated USING ((SELECT auth.uid()) = user_id);
CREATE POLICY "Team members see team todos." ON todos
    FOR SELECT TO authenticated USING (team = ANY (ARRAY(SELECT jsonb_array_elements_text(auth.jwt() -> 'app_metadata' -> 'teams'))));
GRANT SELECT ON profiles, todos TO anon;
GRANT SELECT, INSERT, UPDATE, DELETE ON profiles, todos TO authenticated, service_role;
GRANT USAGE ON SEQUENCE todos_id_seq TO authenticated, service_role;
INSERT INTO profiles VALUES ('22222222-2222-2222-2222-222222222222', 'bob');
INSERT INTO todos (user_id, task, team) VALUES
    ('22222222-2222-2222-2222-222222222222', 'bob''s', NULL),
    ('22222222-2222-2222-2222-222222222222', 'bob''s red', 'red'),
    ('33333333-3333-3333-3333-333333333333', 'carol''s red', 'red');

-- a request: the token verified, the role switched to its role claim
CREATE FUNCTION pg_temp.request(token text) RETURNS text LANGUAGE plpgsql AS $$
BEGIN
    PERFORM set_config('jwt.token', token, true);
    EXECUTE format('SET LOCAL ROLE %I', public.jwt_claim('role'));
    RETURN current_user;
END $$;

-- anon: public profiles only, no todos, no writes; auth.uid() is NULL
BEGIN;
SELECT pg_temp.request(:'anon_key') AS role;
SELECT auth.role() AS role, auth.uid() IS NULL AS no_uid, auth.jwt() ->> 'iss' AS iss;
SELECT username FROM profiles;
SELECT count(*) AS todos FROM todos;
INSERT INTO profiles VALUES ('11111111-1111-1111-1111-111111111111', 'mallory');
ROLLBACK;

-- alice: the registered issuer's token; she inserts her own profile, not another's
BEGIN;
SELECT pg_temp.request(:'alice') AS role;
SELECT auth.uid() AS uid, auth.role() AS role, auth.email() AS email, auth.jwt() ->> 'aal' AS aal;
INSERT INTO profiles VALUES ('11111111-1111-1111-1111-111111111111', 'alice');
SAVEPOINT s;
INSERT INTO profiles VALUES ('33333333-3333-3333-3333-333333333333', 'not-carol');
ROLLBACK TO s;
UPDATE profiles SET username = 'mallory' WHERE username = 'bob';
SELECT username FROM profiles ORDER BY username;
INSERT INTO todos (user_id, task) VALUES ('11111111-1111-1111-1111-111111111111', 'alice''s');
SELECT task FROM todos ORDER BY task;
-- aal1: the restrictive MFA policy refuses her deletes
DELETE FROM todos WHERE task = 'alice''s';
SELECT count(*) AS still_there FROM todos WHERE task = 'alice''s';
ROLLBACK;

-- bob: aal2 and team red in app_metadata
BEGIN;
SELECT pg_temp.request(:'bob') AS role;
SELECT task FROM todos ORDER BY task;
DELETE FROM todos WHERE task = 'bob''s';
SELECT task FROM todos ORDER BY task;
ROLLBACK;

-- service_role bypasses row-level security, as Supabase's does
BEGIN;
SELECT pg_temp.request(:'service_key') AS role;
SELECT count(*) AS all_todos FROM todos;
ROLLBACK;

-- what must be refused: a user token signed with the legacy secret under
-- the Auth issuer (a registered issuer's tokens take its keys only), an
-- API key with an aud, and a token of the Auth issuer for another audience
BEGIN;
SELECT set_config('jwt.token', jwt_sign(jsonb_build_object(
           'iss', 'https://abcdefghijklmnopqrst.supabase.co/auth/v1', 'sub', gen_random_uuid(),
           'aud', 'authenticated', 'role', 'authenticated',
           'exp', extract(epoch FROM now() + interval '1 hour')::bigint),
       jsonb_build_object('kty', 'oct', 'k', :'sb_secret_b64'), 'HS256', '{"kid": "legacy-jwt-secret"}'),
       true) IS NOT NULL AS set;
SELECT auth.uid();
ROLLBACK;
BEGIN;
SELECT set_config('jwt.token', jwt_sign(jsonb_build_object(
           'iss', 'supabase', 'role', 'service_role', 'aud', 'authenticated',
           'exp', extract(epoch FROM now() + interval '1 hour')::bigint),
       jsonb_build_object('kty', 'oct', 'k', :'sb_secret_b64'), 'HS256', '{"kid": "legacy-jwt-secret"}'),
       true) IS NOT NULL AS set;
SELECT auth.role();
ROLLBACK;
BEGIN;
SELECT set_config('jwt.token', jwt_sign(jsonb_build_object(
           'iss', 'https://abcdefghijklmnopqrst.supabase.co/auth/v1', 'sub', gen_random_uuid(),
           'aud', 'service', 'role', 'authenticated',
           'exp', extract(epoch FROM now() + interval '1 hour')::bigint),
       current_setting('sb.es256'), 'ES256', '{"kid": "sb-es256"}'), true) IS NOT NULL AS set;
SELECT auth.uid();
ROLLBACK;

-- cleanup
RESET jwt.issuer;
DROP TABLE profiles, todos;
DROP SCHEMA auth CASCADE;
DELETE FROM jwt_issuers;
DELETE FROM jwt_keys;
DROP ROLE anon, authenticated, service_role;
