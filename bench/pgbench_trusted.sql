-- The same transaction as pgbench_verified.sql, trusting the claims instead:
-- request.jwt.claims is set to the token's claims (what PostgREST does after
-- verifying the token itself), and the policy reads the setting,
-- owner = current_setting('request.jwt.claims', true)::jsonb->>'sub'.
\set n random(1, :ntokens)
\set id random(0, :groups - 1) * 1000 + :n % 1000
BEGIN;
SELECT set_config('role', 'bench_web_trusted', true), set_config('request.jwt.claims', claims, true) FROM bench_tokens WHERE alg = :alg AND n = :n;
SELECT id, owner, body FROM rls_docs WHERE id = :id;
COMMIT;
