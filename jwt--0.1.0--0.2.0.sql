/* jwt--0.1.0--0.2.0.sql */

-- complain if script is sourced in psql, rather than via ALTER EXTENSION
\echo Use "ALTER EXTENSION jwt UPDATE TO '0.2.0'" to load this file. \quit

-- [admin] administrative functions in C
-- The five registry functions were SQL and PL/pgSQL whose bodies named the
-- extension's schema as it was at install time: in C they find the registry
-- in their own schema at call time and write as the extension's owner.
-- (CREATE OR REPLACE may change a function's language; the privileges and
-- comments stay.)
CREATE OR REPLACE FUNCTION jwt_add_key(key text, algorithm text, kid text DEFAULT NULL,
                                       valid_from timestamptz DEFAULT now(),
                                       valid_until timestamptz DEFAULT NULL)
RETURNS text
AS 'MODULE_PATHNAME', 'jwt_add_key'
LANGUAGE C VOLATILE PARALLEL UNSAFE;

CREATE OR REPLACE FUNCTION jwt_retire_key(kid text, at timestamptz DEFAULT now())
RETURNS boolean
AS 'MODULE_PATHNAME', 'jwt_retire_key'
LANGUAGE C VOLATILE PARALLEL UNSAFE;

CREATE OR REPLACE FUNCTION jwt_revoke(jti text, expires_at timestamptz)
RETURNS void
AS 'MODULE_PATHNAME', 'jwt_revoke'
LANGUAGE C VOLATILE PARALLEL UNSAFE;

CREATE OR REPLACE FUNCTION jwt_revoke_token(token text)
RETURNS text
AS 'MODULE_PATHNAME', 'jwt_revoke_token'
LANGUAGE C VOLATILE PARALLEL UNSAFE;

CREATE OR REPLACE FUNCTION jwt_purge_revocations()
RETURNS bigint
AS 'MODULE_PATHNAME', 'jwt_purge_revocations'
LANGUAGE C VOLATILE PARALLEL UNSAFE;
