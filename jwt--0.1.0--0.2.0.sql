/* jwt--0.1.0--0.2.0.sql */

-- complain if script is sourced in psql, rather than via ALTER EXTENSION
\echo Use "ALTER EXTENSION jwt UPDATE TO '0.2.0'" to load this file. \quit

-- [registry] invalidation on logical replicas
-- A logical replication subscriber applies changes (and copies a table's
-- rows at the initial sync) with session_replication_role = replica: there
-- no ordinary trigger fires, and no statement trigger for INSERT, UPDATE or
-- DELETE at all.  These triggers fire only there (ENABLE REPLICA), so that
-- a replicated key, retirement, revocation, purge or TRUNCATE reaches every
-- open session on the subscriber from its next statement; elsewhere the
-- statement triggers above do it, once per statement.  The row trigger
-- sends one invalidation per table and transaction, not one per row.
CREATE TRIGGER jwt_keys_replicated AFTER INSERT OR UPDATE OR DELETE ON jwt_keys
    FOR EACH ROW EXECUTE FUNCTION jwt_registry_changed();
CREATE TRIGGER jwt_keys_replicated_truncate AFTER TRUNCATE ON jwt_keys
    FOR EACH STATEMENT EXECUTE FUNCTION jwt_registry_changed();
CREATE TRIGGER jwt_revocations_replicated AFTER INSERT OR UPDATE OR DELETE ON jwt_revocations
    FOR EACH ROW EXECUTE FUNCTION jwt_registry_changed();
CREATE TRIGGER jwt_revocations_replicated_truncate AFTER TRUNCATE ON jwt_revocations
    FOR EACH STATEMENT EXECUTE FUNCTION jwt_registry_changed();
ALTER TABLE jwt_keys ENABLE REPLICA TRIGGER jwt_keys_replicated,
    ENABLE REPLICA TRIGGER jwt_keys_replicated_truncate;
ALTER TABLE jwt_revocations ENABLE REPLICA TRIGGER jwt_revocations_replicated,
    ENABLE REPLICA TRIGGER jwt_revocations_replicated_truncate;
