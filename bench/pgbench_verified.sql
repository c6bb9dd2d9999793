-- A PostgREST-style transaction whose token is verified in the database:
-- the role and the bearer token are set for the transaction (PostgREST sets
-- both in one statement), then one row is read through the policy
-- owner = jwt_claim('sub').  The token comes by primary key from a table of
-- pre-made tokens: token n belongs to user (n % 1000), who owns the rows
-- whose id is n modulo 1000.  Variables: alg (HS256 or ES256), ntokens (1: the
-- same token every time), groups (rows in rls_docs / 1000).
\set n random(1, :ntokens)
\set id random(0, :groups - 1) * 1000 + :n % 1000
BEGIN;
SELECT set_config('role', 'bench_web_verified', true), set_config('jwt.token', tok, true) FROM bench_tokens WHERE alg = :alg AND n = :n;
SELECT id, owner, body FROM rls_docs WHERE id = :id;
COMMIT;
