--
-- revocation: jwt_revoke(jti, expires_at) and jwt_revoke_token(token)
-- refuse session tokens by their jti until the token's exp; every session
-- refuses a revoked token from its next statement on; jwt_purge_revocations()
-- deletes the revocations of tokens that have expired anyway.
--
-- A revoked token is 28000 "invalid token", detail "The token has been
-- revoked.", whether this session verified it before (its claims are
-- cached) or not.  A second session is reached through dblink.
--
-- Needs contrib's dblink: on Debian it comes with postgresql-NN, from source
-- make -C contrib/dblink install.  Without it this fails here, first.
CREATE EXTENSION IF NOT EXISTS dblink;
\set secret 'revocation-secret-revocation-secret-revocation-0123'
-- the registry is shared by the suites of one run: start from an empty one
DELETE FROM jwt_keys;
DELETE FROM jwt_revocations;
SELECT jwt_add_key(:'secret', 'HS256', 'revocation-hs256');
-- what jwt_claims() makes of a token: the subject, or the error
CREATE FUNCTION pg_temp.session(token text, OUT code text, OUT sub text,
                                OUT message text, OUT detail text)
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM set_config('jwt.token', token, true);
    sub := jwt_claims() ->> 'sub';
    code := '00000';
EXCEPTION WHEN OTHERS THEN
    GET STACKED DIAGNOSTICS code = RETURNED_SQLSTATE, message = MESSAGE_TEXT,
                            detail = PG_EXCEPTION_DETAIL;
END
$$;
-- the outcome of a statement: 00000, or the error
CREATE FUNCTION pg_temp.try(statement text, OUT code text, OUT message text, OUT detail text, OUT hint text)
LANGUAGE plpgsql AS $$
BEGIN
    EXECUTE statement;
    code := '00000';
EXCEPTION WHEN OTHERS THEN
    GET STACKED DIAGNOSTICS code = RETURNED_SQLSTATE, message = MESSAGE_TEXT,
                            detail = PG_EXCEPTION_DETAIL, hint = PG_EXCEPTION_HINT;
END
$$;
-- the revocations, oldest expiry first
CREATE FUNCTION pg_temp.revocations(OUT jti text, OUT expires_at timestamptz)
RETURNS SETOF record
AS $$ SELECT jti, expires_at FROM jwt_revocations ORDER BY expires_at, jti COLLATE "C" $$
LANGUAGE sql;
SELECT jwt_sign('{"sub":"alice","jti":"jti-1","exp":4102444800}', :'secret') AS alice,
       jwt_sign('{"sub":"alice-again","jti":"jti-1","exp":4102444800}', :'secret') AS alice_again,
       jwt_sign('{"sub":"alice-upper","jti":"JTI-1","exp":4102444800}', :'secret') AS alice_upper,
       jwt_sign('{"sub":"bob","jti":"jti-2","exp":4102444800}', :'secret') AS bob,
       jwt_sign('{"sub":"carol","jti":"jti-3","exp":4102444800}', :'secret') AS carol,
       jwt_sign('{"sub":"dave","exp":4102444800}', :'secret') AS no_jti,
       jwt_sign('{"sub":"erin","jti":42,"exp":4102444800}', :'secret') AS number_jti,
       jwt_sign('{"sub":"frank","jti":"jti-forever"}', :'secret') AS no_exp \gset
CREATE TEMP TABLE tokens (ord integer, label text, token text);
INSERT INTO tokens VALUES
    (1, 'alice, jti-1', :'alice'), (2, 'alice-again, jti-1', :'alice_again'),
    (3, 'alice-upper, JTI-1', :'alice_upper'), (4, 'bob, jti-2', :'bob'),
    (5, 'carol, jti-3', :'carol'), (6, 'dave, no jti', :'no_jti');
SELECT label, s.code, s.sub, s.detail FROM tokens, LATERAL pg_temp.session(token) s ORDER BY ord;
--
-- jwt_revoke(jti, expires_at): every token with that jti (an exact,
-- case-sensitive match) is refused from the next statement on, whether this
-- session verified it before or not.
--
SET jwt.token = :'alice';
SELECT jwt_claim('sub') AS before_revocation;
SELECT jwt_revoke('jti-1', to_timestamp(4102444800));
SELECT jwt_claim('sub') AS after_revocation;
RESET jwt.token;
SELECT label, s.code, s.sub, s.detail FROM tokens, LATERAL pg_temp.session(token) s ORDER BY ord;
SELECT * FROM pg_temp.revocations();
-- a later expiry extends a revocation, an earlier one does not shorten it
SELECT jwt_revoke('jti-1', '2050-01-01 00:00:00+00');
SELECT * FROM pg_temp.revocations();
SELECT jwt_revoke('jti-1', 'infinity');
SELECT * FROM pg_temp.revocations();
UPDATE jwt_revocations SET expires_at = to_timestamp(4102444800) WHERE jti = 'jti-1';
--
-- jwt_revoke_token(token): revokes the token's jti until its exp, and
-- returns the jti; a token without a string jti cannot be revoked one by
-- one.  The token's signature must verify with a registry key, but its time
-- claims are not checked (an expired token can be revoked too); admin.sql
-- has the tokens it refuses.
--
SELECT jwt_revoke_token(:'bob');
SELECT * FROM pg_temp.revocations();
SELECT label, s.code, s.sub, s.detail FROM tokens, LATERAL pg_temp.session(token) s ORDER BY ord;
-- without exp: revoked for ever
SELECT jwt_revoke_token(:'no_exp');
SELECT * FROM pg_temp.revocations();
SELECT t.label, r.code, r.message, r.hint
FROM (VALUES
    (1, 'no jti', :'no_jti'),
    (2, 'jti a number', :'number_jti'),
    (3, 'not a token', 'not-a-token'),
    (4, 'NULL', NULL)
) AS t(ord, label, token),
LATERAL pg_temp.try(format('SELECT jwt_revoke_token(%L)', t.token)) r
ORDER BY ord;
--
-- Within a transaction: the next statement refuses the token; a
-- revocation that rolls back is undone.
--
BEGIN;
SET LOCAL jwt.token = :'carol';
SELECT jwt_claim('sub') AS before_revocation;
SELECT jwt_revoke('jti-3', to_timestamp(4102444800));
SELECT code, sub, detail FROM pg_temp.session(:'carol');
ROLLBACK;
SELECT code, sub, detail FROM pg_temp.session(:'carol');
-- a policy query fails rather than return rows
CREATE TEMP TABLE docs (id integer, owner text);
INSERT INTO docs VALUES (1, 'alice'), (2, 'carol');
BEGIN;
SET LOCAL jwt.token = :'alice';
SELECT * FROM docs WHERE owner = jwt_claim('sub');
ROLLBACK;
--
-- A revocation lasts until its expires_at, and a jwt.leeway beyond it (as
-- long as a token whose exp has just passed is still accepted).
--
SELECT jwt_sign('{"sub":"gina","jti":"jti-stale","exp":4102444800}', :'secret') AS stale \gset
SELECT jwt_revoke('jti-stale', statement_timestamp() - interval '30 minutes');
SELECT code, sub, detail FROM pg_temp.session(:'stale');
SET jwt.leeway = 3600;
SELECT code, sub, detail FROM pg_temp.session(:'stale');
RESET jwt.leeway;
--
-- Another session refuses a revoked token from its next statement on.  It
-- is an ordinary role, connected through dblink.
--
CREATE ROLE regress_jwt_revocation_app LOGIN PASSWORD 'regress-jwt-revocation-app';
SELECT dblink_connect('other',
    format('dbname=%s user=regress_jwt_revocation_app password=regress-jwt-revocation-app host=%s port=%s',
           current_database(),
           coalesce(host(inet_server_addr()), split_part(current_setting('unix_socket_directories'), ',', 1)),
           current_setting('port')));
-- what the other session's jwt_claims() says of its jwt.token
-- (by default; or through a statement prepared there)
CREATE FUNCTION pg_temp.other(query text DEFAULT 'SELECT jwt_claims() ->> ''sub''',
                              OUT code text, OUT sub text, OUT message text, OUT detail text)
LANGUAGE plpgsql AS $$
BEGIN
    SELECT r.sub INTO sub FROM dblink('other', query) AS r(sub text);
    code := '00000';
EXCEPTION WHEN OTHERS THEN
    GET STACKED DIAGNOSTICS code = RETURNED_SQLSTATE, message = MESSAGE_TEXT,
                            detail = PG_EXCEPTION_DETAIL;
END
$$;
SELECT jwt_sign('{"sub":"hank","jti":"jti-other-1","exp":4102444800}', :'secret') AS hank,
       jwt_sign('{"sub":"ivy","jti":"jti-other-2","exp":4102444800}', :'secret') AS ivy \gset
SELECT * FROM dblink('other', 'SELECT current_user') AS r(who name);
SELECT dblink_exec('other', format('SET jwt.token = %L', :'hank'));
SELECT * FROM pg_temp.other();
SELECT jwt_revoke('jti-other-1', to_timestamp(4102444800));
SELECT * FROM pg_temp.other();
-- the other session is in the middle of a transaction, and runs a
-- prepared statement that touches no table
SELECT dblink_exec('other', format('SET jwt.token = %L', :'ivy'));
SELECT dblink_exec('other', 'PREPARE sub AS SELECT jwt_claims() ->> ''sub''');
SELECT dblink_exec('other', 'BEGIN');
SELECT * FROM pg_temp.other('EXECUTE sub');
SELECT jwt_revoke('jti-other-2', to_timestamp(4102444800));
SELECT * FROM pg_temp.other('EXECUTE sub');
SELECT dblink_exec('other', 'ROLLBACK');
SELECT * FROM pg_temp.other('EXECUTE sub');
-- and the revocation lifted
DELETE FROM jwt_revocations WHERE jti = 'jti-other-2';
SELECT * FROM pg_temp.other('EXECUTE sub');
SELECT * FROM pg_temp.other();
--
-- The statements of one message (psql's \;, a client's "SELECT a; SELECT
-- b") share a start time, statement_timestamp() being when the message
-- arrived; each is still a statement of its own, and sees a revocation that
-- another session committed while the one before it ran.  Here the second
-- statement revokes in the other session, whose role may for this test; the
-- third is refused, whether it asks at a new call site or at one that a
-- PL/pgSQL function keeps for the transaction.
--
GRANT EXECUTE ON FUNCTION jwt_revoke(text, timestamptz) TO regress_jwt_revocation_app;
CREATE FUNCTION pg_temp.sub_now() RETURNS text
LANGUAGE plpgsql AS $$ BEGIN RETURN jwt_claims() ->> 'sub'; END $$;
SELECT jwt_sign('{"sub":"judy","jti":"jti-message-1","exp":4102444800}', :'secret') AS judy,
       jwt_sign('{"sub":"kim","jti":"jti-message-2","exp":4102444800}', :'secret') AS kim \gset
\set SHOW_CONTEXT never
SET jwt.token = :'judy';
SELECT jwt_claims() ->> 'sub' AS sub \;
    SELECT count(*) AS revoked FROM dblink('other', $$SELECT jwt_revoke('jti-message-1', to_timestamp(4102444800))$$) AS r(v text) \;
    SELECT jwt_claims() ->> 'sub' AS sub;
SET jwt.token = :'kim';
BEGIN;
SELECT pg_temp.sub_now() \;
    SELECT count(*) AS revoked FROM dblink('other', $$SELECT jwt_revoke('jti-message-2', to_timestamp(4102444800))$$) AS r(v text) \;
    SELECT pg_temp.sub_now();
ROLLBACK;
\set SHOW_CONTEXT errors
RESET jwt.token;
DELETE FROM jwt_revocations WHERE jti LIKE 'jti-message-%';
REVOKE EXECUTE ON FUNCTION jwt_revoke(text, timestamptz) FROM regress_jwt_revocation_app;
SELECT dblink_disconnect('other');
--
-- An ordinary role can neither read nor change the revocations.
--
SET ROLE regress_jwt_revocation_app;
SELECT t.statement, r.code, r.message
FROM (VALUES
    (1, 'SELECT * FROM jwt_revocations'),
    (2, $$DELETE FROM jwt_revocations$$),
    (3, $$INSERT INTO jwt_revocations (jti, expires_at) VALUES ('x', now())$$),
    (4, $$SELECT jwt_revoke('jti-2', NULL)$$),
    (5, format('SELECT jwt_revoke_token(%L)', :'ivy')),
    (6, 'SELECT jwt_purge_revocations()')
) AS t(ord, statement),
LATERAL pg_temp.try(t.statement) r
ORDER BY ord;
-- and its jwt_claims() refuses a revoked token too
SELECT code, sub, detail FROM pg_temp.session(:'bob');
RESET ROLE;
--
-- Lifting a revocation: the token is accepted from the next statement on.
--
DELETE FROM jwt_revocations WHERE jti = 'jti-2';
SELECT code, sub, detail FROM pg_temp.session(:'bob');
--
-- jwt_purge_revocations(): deletes the revocations that expired more than
-- jwt.leeway ago, and returns how many.
--
SELECT jwt_revoke('jti-expired-30min', statement_timestamp() - interval '30 minutes'),
       jwt_revoke('jti-expired-2d', statement_timestamp() - interval '2 days');
SELECT jti, expires_at < now() AS expired FROM pg_temp.revocations();
SET jwt.leeway = 3600;
SELECT jwt_purge_revocations();
SELECT jti FROM jwt_revocations ORDER BY jti COLLATE "C";
RESET jwt.leeway;
SELECT jwt_purge_revocations();
SELECT jti FROM jwt_revocations ORDER BY jti COLLATE "C";
SELECT jwt_purge_revocations();
-- the same as the first call of the extension in a new session, before the
-- library (and so jwt.leeway) is loaded
SELECT jwt_revoke('jti-expired-1min', statement_timestamp() - interval '1 minute');
\c
SELECT jwt_purge_revocations();
--
-- Clean up.
--
DROP ROLE regress_jwt_revocation_app;
DROP EXTENSION dblink;
DELETE FROM jwt_revocations;
DELETE FROM jwt_keys;
