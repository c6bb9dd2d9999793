#!/usr/bin/python3
"""Trusted install: a database owner who is not a superuser installs jwt.

Run inside a throwaway cluster (the PG* environment of pg_virtualenv, whose
user is a superuser):

    pg_virtualenv -t -v 15 /usr/bin/python3 test/trusted.py

jwt.control says trusted = true.  This suite checks what that promises (the
README's "Trusted install" section says why it is safe):

  1. a role with CREATEDB and nothing else creates its own database and runs
     CREATE EXTENSION jwt there; the extension is its, the member objects the
     bootstrap superuser's, the two SECURITY DEFINER functions its own;
  2. it uses every function open to PUBLIC (the test names each one, and
     fails if the extension has one it does not exercise);
  3. it administers the registry as its owner: jwt_add_key, jwt_issue,
     jwt_jwks, jwt_retire_key, jwt_revoke, jwt_revoke_token,
     jwt_purge_revocations, jwt_rotate_signing_key, and plain
     SELECT/INSERT/UPDATE/DELETE/TRUNCATE;
     it can hand jwt_issue to another role; an RLS policy on jwt_claim works;
  4. another plain role reads no key and runs no administrative function,
     yet verifies session tokens against the registry;
  5. the installer cannot overstep: no TRIGGER on the registry, no ALTER of
     it, no policy setting without a superuser's GRANT SET ON PARAMETER;
     renaming the extension's schema and planting look-alike tables (with
     triggers) and functions under the old name, then having a superuser
     call every function a superuser might call (the registry's
     administrative ones, jwt_rotate_signing_key, the logins', jwt_issue,
     jwt_jwks, jwt_claims, jwt_claim, jwt_issuer_jwks, jwt_scopes,
     jwt_has_scope, and the issuers' jwt_add_issuer, jwt_refresh_issuers,
     jwt_drop_issuer, jwt_wake_issuer, with a planted jwt_issuers holding
     another key under the real issuer's name and kid) through the real
     schema runs none of the planted code and hands it no secret; GRANT
     EXECUTE alone delegates key management; no SECURITY DEFINER function is owned by a superuser; every
     SQL function pins its search_path; the C sources open no file, and
     only the fetcher's (src/fetch/) use the network;
     overloads of pg_catalog's polymorphic functions planted in public
     before the install are called by none of the tables' constraints,
     defaults, indexes or trigger conditions, so a superuser's writes run
     none of them; beside a 0.1.0 install (no jwt_logins yet) a jwt_logins
     table planted by the owner is not taken for the extension's, and one
     the owner adds to the extension (a table of another layout, a view) is
     refused with 55000 rather than read;
  6. with GRANT SET ON PARAMETER, the owner sets jwt.audience on its
     database and session tokens are held to it;
  7. the owner dumps its database with pg_dump and restores it into a new
     one of its own: no error, keys and policy back.

Everything happens in its own databases and roles (jwt_trusted_*), dropped
at the start and at the end.  Ends with "trusted: N passed, N failed".
"""

import base64
import json
import os
import re
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))   # test/, for suite.py
import suite                                                     # noqa: E402

T = suite.Suite("trusted", reexec_guard="JWT_TRUSTED_REEXEC")

try:
    import psycopg2
except ImportError as e:
    T.reexec_or_cannot_run(e, "Debian's python3-psycopg2")

OWNER, OWNER_PW = "jwt_trusted_owner", "jwt-trusted-owner-pw"
OTHER, OTHER_PW = "jwt_trusted_other", "jwt-trusted-other-pw"
WEB, WEB_PW = "jwt_trusted_web", "jwt-trusted-web-pw"
ROLES = (OWNER, OTHER, WEB)
DB, DB_RESTORED, DB_HIJACK = "jwt_trusted_db", "jwt_trusted_restored", "jwt_trusted_hijack"
DB_RACE, DB_RACE_SU = "jwt_trusted_race", "jwt_trusted_race_su"
DB_PLANT, DB_PLANT_UPD, DB_OLD = "jwt_trusted_plant", "jwt_trusted_plant_upd", "jwt_trusted_old"
DATABASES = (DB, DB_RESTORED, DB_HIJACK, DB_RACE, DB_RACE_SU, DB_PLANT, DB_PLANT_UPD, DB_OLD)
SECRET = "a-string-secret-at-least-256-bits-long"
SECRET_HEX = SECRET.encode().hex()
ADMIN_FUNCTIONS = {
    "jwt_add_key(text,text,text,timestamp with time zone,timestamp with time zone)",
    "jwt_retire_key(text,timestamp with time zone)",
    "jwt_jwks()",
    "jwt_issue(jsonb,text)",
    "jwt_revoke(text,timestamp with time zone)",
    "jwt_revoke_token(text)",
    "jwt_purge_revocations()",
    "jwt_add_key(jsonb,text,text,timestamp with time zone,timestamp with time zone)",
    "jwt_login(jsonb,text)",
    "jwt_refresh(text,jsonb)",
    "jwt_logout(text)",
    "jwt_logout()",
    "jwt_logout_all(text)",
    # [issuers] fetching
    "jwt_add_issuer(text,text,text,text[],text[])",
    "jwt_add_issuer(text,text[],text,text[],text[])",
    "jwt_drop_issuer(text)",
    "jwt_refresh_issuers(text,boolean)",
    "jwt_wake_issuer(text)",
    "jwt_rotate_signing_key(text,interval)",
}
TRIGGER_FUNCTIONS = {"jwt_keys_check()", "jwt_registry_changed()"}
BINDIR = subprocess.run([os.environ.get("PG_CONFIG", "pg_config"), "--bindir"], capture_output=True, text=True).stdout.strip()
REPO = suite.REPO


def connect(db="postgres", user=None, password=None):
    kw = {"dbname": db}
    if user:
        kw.update(user=user, password=password)
    conn = psycopg2.connect(**kw)
    conn.autocommit = True
    return conn


def q(conn, sql, params=None):
    with conn.cursor() as cur:
        cur.execute(sql, params)
        return cur.fetchall() if cur.description else None


def q1(conn, sql, params=None):
    rows = q(conn, sql, params)
    return rows[0][0] if rows else None


def sq1(conn, sql, params=None):
    """q1 for a check: an error becomes a value that equals nothing expected."""
    try:
        return q1(conn, sql, params)
    except psycopg2.Error as e:
        return f"<SQLSTATE {e.pgcode}: {' '.join((e.pgerror or '').split())}>"


def sqlstate(conn, sql, params=None):
    """The SQLSTATE the statement fails with, or None when it succeeds."""
    try:
        q(conn, sql, params)
    except psycopg2.Error as e:
        return e.pgcode
    return None


def check_state(name, conn, sql, want, params=None):
    got = sqlstate(conn, sql, params)
    T.check(name, got == want, f"SQLSTATE {got}, want {want}")


def is_jwt(t):
    return isinstance(t, str) and re.fullmatch(r"[\w-]+\.[\w-]+\.[\w-]+", t) is not None


def now_plus(seconds):
    import time
    return int(time.time()) + seconds


def cleanup(admin):
    for db in DATABASES:
        q(admin, f"DROP DATABASE IF EXISTS {db} WITH (FORCE)")
    for role in ROLES:
        if q1(admin, "SELECT count(*) FROM pg_roles WHERE rolname = %s", (role,)):
            q(admin, f"DROP OWNED BY {role}")     # the GRANT SET ON PARAMETER too
            q(admin, f"DROP ROLE {role}")


def main():
    try:
        admin = connect()
    except psycopg2.Error as e:
        T.cannot_run(f"cannot connect ({str(e).strip()}); run under pg_virtualenv -v 15")
    if not q1(admin, "SELECT rolsuper FROM pg_roles WHERE rolname = current_user"):
        T.cannot_run("the PG* user must be a superuser (to create the roles)")
    cleanup(admin)
    try:
        run(admin)
    except Exception as e:       # a step the checks rely on failed: say which
        T.check("the suite runs to its end", False, f"{type(e).__name__}: {e}")
    finally:
        cleanup(admin)
        admin.close()
    T.finish()


def run(admin):
    q(admin, f"CREATE ROLE {OWNER} LOGIN CREATEDB PASSWORD %s", (OWNER_PW,))
    q(admin, f"CREATE ROLE {OTHER} LOGIN PASSWORD %s", (OTHER_PW,))
    q(admin, f"CREATE ROLE {WEB} LOGIN PASSWORD %s", (WEB_PW,))

    # 1. the install ------------------------------------------------------
    T.check("jwt.control: trusted = true",
            sq1(admin, "SELECT trusted FROM pg_available_extension_versions "
                      "WHERE name = 'jwt' AND version = (SELECT default_version FROM "
                      "pg_available_extensions WHERE name = 'jwt')") is True)
    T.check("the installer is not a superuser and holds no role",
            sq1(admin, "SELECT NOT rolsuper AND NOT rolcreaterole AND NOT rolbypassrls "
                      "AND NOT EXISTS (SELECT FROM pg_auth_members WHERE member = r.oid) "
                      "FROM pg_roles r WHERE rolname = %s", (OWNER,)) is True)
    own_pg = connect("postgres", OWNER, OWNER_PW)
    q(own_pg, f"CREATE DATABASE {DB}")
    own_pg.close()
    own = connect(DB, OWNER, OWNER_PW)
    check_state("the database owner runs CREATE EXTENSION jwt", own, "CREATE EXTENSION jwt", None)
    T.check("the extension belongs to the installer",
            sq1(own, "SELECT extowner::regrole::text FROM pg_extension WHERE extname = 'jwt'") == OWNER)
    T.check("the registry tables belong to the bootstrap superuser, not the installer",
            sq1(own, "SELECT bool_and(r.rolsuper) FROM pg_class c JOIN pg_roles r ON r.oid = c.relowner "
                    "WHERE c.relname IN ('jwt_keys', 'jwt_revocations')") is True)

    ext_functions = {row[0]: row for row in q(own, """
        SELECT p.oid::regprocedure::text, r.rolname, r.rolsuper, p.prosecdef, l.lanname,
               p.proconfig, has_function_privilege('public', p.oid, 'EXECUTE')
        FROM pg_proc p JOIN pg_roles r ON r.oid = p.proowner
             JOIN pg_language l ON l.oid = p.prolang
             JOIN pg_depend d ON d.classid = 'pg_proc'::regclass AND d.objid = p.oid
                              AND d.deptype = 'e'
             JOIN pg_extension e ON e.oid = d.refobjid AND e.extname = 'jwt'""")}
    secdef = {f: row for f, row in ext_functions.items() if row[3]}
    T.check("no function of the extension is SECURITY DEFINER (jwt_issue and jwt_jwks read "
            "the registry directly, in C)", not secdef, sorted(secdef))
    unpinned = [f for f, row in ext_functions.items()
                if row[4] not in ("c", "internal")
                and not any(c.startswith("search_path=") for c in (row[5] or []))]
    T.check("every SQL and PL/pgSQL function of the extension pins search_path", not unpinned, unpinned)
    public_admin = [f for f in ADMIN_FUNCTIONS | TRIGGER_FUNCTIONS if ext_functions.get(f, [0] * 7)[6]]
    T.check("PUBLIC executes no administrative or trigger function", not public_admin, public_admin)
    T.check("the administrative functions are what the test expects",
            ADMIN_FUNCTIONS | TRIGGER_FUNCTIONS <= set(ext_functions),
            sorted(ADMIN_FUNCTIONS | TRIGGER_FUNCTIONS - set(ext_functions)))
    # a function closed to PUBLIC is one a superuser or a delegate calls: each
    # must be in the attacks below, so a new one cannot be left out of them
    closed = {f for f, row in ext_functions.items() if not row[6]}
    T.check("every function closed to PUBLIC is an administrative or trigger function this "
            "test attacks", closed == ADMIN_FUNCTIONS | TRIGGER_FUNCTIONS,
            sorted(closed ^ (ADMIN_FUNCTIONS | TRIGGER_FUNCTIONS)))
    T.check("PUBLIC has no privilege on the registry tables (the issuers' too)",
            sq1(own, "SELECT bool_or(has_table_privilege('public', t, p)) FROM "
                    "unnest('{jwt_keys,jwt_revocations,jwt_issuers,jwt_issuer_fetches}'::text[]) t, "
                    "unnest('{SELECT,INSERT,UPDATE,DELETE,TRUNCATE,REFERENCES,TRIGGER}'::text[]) p")
            is False)

    # 2. every function open to PUBLIC -------------------------------------
    exercised = set()

    def use(signature, sql, ok, params=None, conn=own):
        exercised.add(signature)
        try:
            got = q1(conn, sql, params)
        except psycopg2.Error as e:
            T.check(f"the installer uses {signature}", False, f"{e.pgcode}: {e.pgerror}")
            return None
        T.check(f"the installer uses {signature}", ok(got), repr(got)[:200])
        return got

    exp = now_plus(3600)
    tok = use("jwt_sign(jsonb,text,text,jsonb)",
              "SELECT jwt_sign(%s::jsonb, %s)", is_jwt,
              (json.dumps({"sub": "alice", "exp": exp}), SECRET))
    use("jwt_sign(jsonb,bytea,text,jsonb)",
        "SELECT jwt_sign('{\"sub\":\"a\"}', decode(%s, 'hex'), 'HS256')",
        is_jwt, (SECRET_HEX,))
    use("jwt_verify(text,text,text[],text,text,interval)",
        "SELECT jwt_verify(%s, %s) ->> 'sub'", lambda s: s == "alice", (tok, SECRET))
    use("jwt_verify(text,bytea,text[],text,text,interval)",
        "SELECT jwt_verify(%s, decode(%s, 'hex')) ->> 'sub'", lambda s: s == "alice", (tok, SECRET_HEX))
    use("jwt_is_valid(text,text,text[],text,text,interval)",
        "SELECT jwt_is_valid(%s, %s)", lambda v: v is True, (tok, SECRET))
    use("jwt_is_valid(text,bytea,text[],text,text,interval)",
        "SELECT jwt_is_valid(%s, decode(%s, 'hex'))", lambda v: v is True, (tok, SECRET_HEX))
    use("jwt_decode(text)", "SELECT jwt_decode(%s) -> 'payload' ->> 'sub'", lambda s: s == "alice", (tok,))
    jwk = use("jwt_generate_key(text)", "SELECT jwt_generate_key('ES256')::text",
              lambda j: j and json.loads(j).get("crv") == "P-256")
    pub = use("jwt_public_jwk(text)", "SELECT jwt_public_jwk(%s)::text",
              lambda j: j and "d" not in json.loads(j), (jwk,))
    use("jwt_jwk_thumbprint(jsonb)", "SELECT jwt_jwk_thumbprint(%s::jsonb) = %s::jsonb ->> 'kid'",
        lambda v: v is True, (pub, jwk))
    jws = use("jws_sign(bytea,text,text,jsonb)", "SELECT jws_sign('\\x6869'::bytea, %s, 'ES256')",
              is_jwt, (jwk,))
    use("jws_verify(text,text,text[])", "SELECT convert_from(jws_verify(%s, %s), 'UTF8')",
        lambda s: s == "hi", (jws, pub))
    # the jsonb-key overloads
    use("jwt_sign(jsonb,jsonb,text,jsonb)", "SELECT jwt_sign('{\"sub\":\"j\"}', %s::jsonb, 'ES256')",
        is_jwt, (jwk,))
    tokj = q1(own, "SELECT jwt_sign('{\"sub\":\"j\"}', %s::jsonb, 'ES256')", (jwk,))
    use("jwt_verify(text,jsonb,text[],text,text,interval)",
        "SELECT jwt_verify(%s, %s::jsonb) ->> 'sub'", lambda s: s == "j", (tokj, pub))
    use("jwt_is_valid(text,jsonb,text[],text,text,interval)",
        "SELECT jwt_is_valid(%s, %s::jsonb)", lambda v: v is True, (tokj, pub))
    use("jwt_public_jwk(jsonb)", "SELECT jwt_public_jwk(%s::jsonb)::text",
        lambda j: j and "d" not in json.loads(j), (jwk,))
    jwsj = use("jws_sign(bytea,jsonb,text,jsonb)", "SELECT jws_sign('\\x6869'::bytea, %s::jsonb, 'ES256')",
               is_jwt, (jwk,))
    use("jws_verify(text,jsonb,text[])", "SELECT convert_from(jws_verify(%s, %s::jsonb), 'UTF8')",
        lambda s: s == "hi", (jwsj, pub))
    use("jwt_cache_stats()", "SELECT jwt_cache_stats() ? 'lookups'", lambda v: v is not None)
    use("jwt_claims()", "SELECT jwt_claims() IS NULL", lambda v: v is True)   # no token set yet
    use("jwt_claim(text)", "SELECT jwt_claim('sub') IS NULL", lambda v: v is True)
    # [issuers] the session token's scopes, and a registered issuer's public keys
    use("jwt_scopes()", "SELECT jwt_scopes() IS NULL", lambda v: v is True)
    use("jwt_has_scope(text)", "SELECT jwt_has_scope('read') IS NULL", lambda v: v is True)
    use("jwt_issuer_jwks(text)", "SELECT jwt_issuer_jwks('https://idp.example') IS NULL", lambda v: v is True)
    use("jwt_issuers_worker_running()", "SELECT jwt_issuers_worker_running()", lambda v: v is False)
    open_to_public = {f for f, row in ext_functions.items() if row[6]}
    T.check("every function open to PUBLIC is exercised by the installer",
            open_to_public == exercised,
            f"not exercised: {sorted(open_to_public - exercised)}; "
            f"exercised but not open: {sorted(exercised - open_to_public)}")

    # 3. the registry, administered by its owner ---------------------------
    def owner_does(name, sql, ok, params=None, conn=own):
        try:
            got = q1(conn, sql, params)
        except psycopg2.Error as e:
            T.check(name, False, f"{e.pgcode}: {e.pgerror}")
            return None
        T.check(name, ok(got), repr(got)[:200])
        return got

    owner_does("the installer adds an HS256 secret with jwt_add_key",
               "SELECT jwt_add_key(%s, 'HS256', 'hs-1')", lambda k: k == "hs-1", (SECRET,))
    es_kid = owner_does("the installer adds an ES256 private key with jwt_add_key",
                        "SELECT jwt_add_key(%s, 'ES256', valid_from => now() - interval '1 minute')",
                        lambda k: bool(k), (jwk,))
    owner_does("the installer reads jwt_keys",
               "SELECT count(*) FROM jwt_keys", lambda n: n == 2)
    owner_does("jwt_jwks() publishes the ES256 key only",
               "SELECT jsonb_path_query_array(jwt_jwks(), '$.keys[*].kid')::text",
               lambda s: s and json.loads(s) == [es_kid])
    issued = owner_does("jwt_issue() signs with a registry key",
                        "SELECT jwt_issue(%s::jsonb, %s)", is_jwt,
                        (json.dumps({"sub": "alice", "exp": exp, "jti": "t-1"}), es_kid))
    owner_does("the issued token verifies with the public key",
               "SELECT jwt_verify(%s, %s, '{ES256}') ->> 'jti'", lambda s: s == "t-1", (issued, pub))
    q(own, "SELECT set_config('jwt.token', %s, false)", (issued,))
    owner_does("jwt_claims() verifies the session token against the registry",
               "SELECT jwt_claims() ->> 'jti'", lambda s: s == "t-1")
    owner_does("jwt_claim('sub') in the installer's session",
               "SELECT jwt_claim('sub')", lambda s: s == "alice")
    q(own, "RESET jwt.token")
    owner_does("UPDATE jwt_keys by the installer",
               "WITH u AS (UPDATE jwt_keys SET valid_until = now() + interval '1 day' "
               "WHERE kid = 'hs-1' RETURNING 1) SELECT count(*) FROM u", lambda n: n == 1)
    owner_does("INSERT into jwt_keys by the installer (the check trigger fills can_sign)",
               "INSERT INTO jwt_keys (kid, key, algorithm) VALUES ('hs-2', %s, 'HS256') "
               "RETURNING can_sign", lambda v: v is True, (SECRET + "-2",))
    owner_does("DELETE from jwt_keys by the installer",
               "WITH d AS (DELETE FROM jwt_keys WHERE kid = 'hs-2' RETURNING 1) "
               "SELECT count(*) FROM d", lambda n: n == 1)
    owner_does("jwt_revoke() by the installer",
               "SELECT jwt_revoke('gone', now() - interval '1 day') IS NULL", lambda v: v is True)
    owner_does("jwt_purge_revocations() by the installer",
               "SELECT jwt_purge_revocations()", lambda n: n == 1)
    owner_does("TRUNCATE jwt_revocations by the installer",
               "TRUNCATE jwt_revocations; SELECT count(*) FROM jwt_revocations", lambda n: n == 0)

    # an RLS policy on jwt_claim, read by another role
    q(own, "CREATE TABLE docs (id int, owner text); "
           "INSERT INTO docs VALUES (1, 'alice'), (2, 'bob'), (3, 'alice'); "
           "ALTER TABLE docs ENABLE ROW LEVEL SECURITY; "
           "CREATE POLICY own_rows ON docs USING (owner = jwt_claim('sub'))")
    q(own, f"GRANT SELECT ON docs TO {OTHER}")
    check_state("the installer grants EXECUTE on jwt_issue to a web role (it holds it WITH GRANT OPTION)",
                own, f"GRANT EXECUTE ON FUNCTION jwt_issue(jsonb, text) TO {WEB}", None)
    T.check("... and the web role has it",
            sq1(own, f"SELECT has_function_privilege('{WEB}', 'jwt_issue(jsonb, text)', 'EXECUTE')") is True)

    # 4. another plain role -------------------------------------------------
    other = connect(DB, OTHER, OTHER_PW)
    for table in ("jwt_keys", "jwt_revocations"):
        check_state(f"another role cannot SELECT from {table}", other, f"SELECT * FROM {table}", "42501")
        check_state(f"another role cannot DELETE from {table}", other, f"DELETE FROM {table}", "42501")
    check_state("another role cannot INSERT into jwt_keys", other,
                "INSERT INTO jwt_keys (kid, key, algorithm) VALUES ('x', %s, 'HS256')", "42501",
                (SECRET,))
    admin_calls = {
        "jwt_add_key(text,text,text,timestamp with time zone,timestamp with time zone)":
            ("SELECT jwt_add_key(%s, 'HS256')", (SECRET + "-x",)),
        "jwt_retire_key(text,timestamp with time zone)": ("SELECT jwt_retire_key('hs-1')", None),
        "jwt_jwks()": ("SELECT jwt_jwks()", None),
        "jwt_issue(jsonb,text)": ("SELECT jwt_issue('{\"sub\":\"mallory\"}')", None),
        "jwt_revoke(text,timestamp with time zone)": ("SELECT jwt_revoke('t-1', NULL)", None),
        "jwt_revoke_token(text)": ("SELECT jwt_revoke_token(%s)", (issued,)),
        "jwt_purge_revocations()": ("SELECT jwt_purge_revocations()", None),
        "jwt_add_key(jsonb,text,text,timestamp with time zone,timestamp with time zone)":
            ("SELECT jwt_add_key(%s::jsonb, 'HS256')", (JWK_OCT,)),
        "jwt_login(jsonb,text)": ("SELECT jwt_login('{\"sub\":\"mallory\"}')", None),
        "jwt_refresh(text,jsonb)": ("SELECT jwt_refresh('not-a-refresh-token')", None),
        "jwt_logout(text)": ("SELECT jwt_logout('not-a-refresh-token')", None),
        "jwt_logout()": ("SELECT jwt_logout()", None),
        "jwt_logout_all(text)": ("SELECT jwt_logout_all('alice')", None),
        "jwt_add_issuer(text,text,text,text[],text[])":
            ("SELECT jwt_add_issuer('https://127.0.0.1:1/', 'api')", None),
        "jwt_add_issuer(text,text[],text,text[],text[])":
            ("SELECT jwt_add_issuer('https://127.0.0.1:1/', ARRAY['api'])", None),
        "jwt_drop_issuer(text)": ("SELECT jwt_drop_issuer('https://127.0.0.1:1/')", None),
        "jwt_refresh_issuers(text,boolean)": ("SELECT jwt_refresh_issuers()", None),
        "jwt_wake_issuer(text)": ("SELECT jwt_wake_issuer('https://127.0.0.1:1/')", None),
        "jwt_rotate_signing_key(text,interval)": ("SELECT jwt_rotate_signing_key('ES256')", None),
    }
    T.check("the test calls every administrative function", set(admin_calls) == ADMIN_FUNCTIONS)
    for f, (sql, params) in sorted(admin_calls.items()):
        check_state(f"another role cannot execute {f}", other, sql, "42501", params)
    check_state("another role cannot call the trigger function", other,
                "SELECT jwt_registry_changed()", "42501")
    T.check("another role verifies with jwt_verify",
            sq1(other, "SELECT jwt_verify(%s, %s) ->> 'sub'", (tok, SECRET)) == "alice")
    q(other, "SELECT set_config('jwt.token', %s, false)", (issued,))
    T.check("another role's session token is verified against the registry it cannot read",
            sq1(other, "SELECT jwt_claim('sub')") == "alice")
    T.check("the installer's RLS policy on jwt_claim gives another role its own rows",
            sq1(other, "SELECT array_agg(id ORDER BY id)::text FROM docs") == "{1,3}")
    web = connect(DB, WEB, WEB_PW)
    T.check("a role granted EXECUTE on jwt_issue issues tokens",
            is_jwt(sq1(web, "SELECT jwt_issue('{\"sub\":\"bob\"}')")))
    check_state("... and still cannot read jwt_keys", web, "SELECT key FROM jwt_keys", "42501")
    web.close()
    delegate(own)
    T.check("jwt_revoke_token() by the installer returns the jti",
            sq1(own, "SELECT jwt_revoke_token(%s)", (issued,)) == "t-1")
    check_state("the revoked token is refused in another session (28000)", other,
                "SELECT jwt_claims()", "28000")
    T.check("jwt_retire_key() by the installer",
            sq1(own, "SELECT jwt_retire_key(%s)", (es_kid,)) is True)
    other.close()

    # 5. the installer cannot overstep -------------------------------------
    check_state("the installer cannot put a trigger on jwt_keys", own,
                "CREATE FUNCTION t() RETURNS trigger LANGUAGE plpgsql AS 'BEGIN RETURN NEW; END'; "
                "CREATE TRIGGER t BEFORE INSERT ON jwt_keys FOR EACH ROW EXECUTE FUNCTION t()", "42501")
    check_state("the installer cannot disable the registry's check trigger", own,
                "ALTER TABLE jwt_keys DISABLE TRIGGER jwt_keys_check", "42501")
    check_state("the installer cannot rename the registry table", own,
                "ALTER TABLE jwt_keys RENAME TO jwt_keys_old", "42501")
    check_state("the installer cannot SET jwt.audience (PGC_SUSET)", own, "SET jwt.audience = 'x'", "42501")
    check_state("the installer cannot ALTER DATABASE ... SET jwt.audience without a grant", own,
                f"ALTER DATABASE {DB} SET jwt.audience = 'api'", "42501")
    check_state("the installer cannot ALTER DATABASE ... SET jwt.fallback_request_claims", own,
                f"ALTER DATABASE {DB} SET jwt.fallback_request_claims = on", "42501")
    try:
        hijack(admin)
    except psycopg2.Error as e:
        T.check("the schema-renaming attack on every function a superuser calls runs", False, e.pgerror)
    for attack, what in ((planted_overloads, "the overloads planted before the install"),
                         (planted_logins, "the jwt_logins planted beside a 0.1.0 install")):
        try:
            attack()
        except psycopg2.Error as e:
            T.check(f"the attack with {what} runs", False, e.pgerror)
    for su_install in (False, True):
        try:
            race(su_install)
        except psycopg2.Error as e:
            T.check(f"the schema rename racing a superuser's call runs (superuser install: {su_install})",
                    False, e.pgerror)
    forbidden = re.compile(r"\b(fopen|freopen|open|openat|AllocateFile|OpenTransientFile|"
                           r"PathNameOpenFile|BIO_new_file|BIO_read_filename|OSSL_STORE_open|"
                           r"ENGINE_load_private_key|pg_read_file|system|popen|dlopen)\s*\(")
    hits = []
    network = re.compile(r"\b(curl_\w+|socket|connect|getaddrinfo)\s*\(")
    reaches_out = []
    for folder in ("src", "src/core", "src/fetch"):
        for name in sorted(os.listdir(os.path.join(REPO, folder))):
            if name.endswith((".c", ".h")):
                with open(os.path.join(REPO, folder, name), encoding="utf-8") as f:
                    for n, line in enumerate(f, 1):
                        if forbidden.search(line):
                            hits.append(f"{folder}/{name}:{n}")
                        if folder != "src/fetch" and network.search(line):
                            reaches_out.append(f"{folder}/{name}:{n}")
    T.check("the C sources open no file, run no program, load no library", not hits, hits)
    T.check("only the fetcher (src/fetch/, jwt_fetch.so) uses the network", not reaches_out, reaches_out)

    # 6. policy settings with GRANT SET ON PARAMETER ------------------------
    q(admin, f"GRANT SET ON PARAMETER jwt.audience TO {OWNER}")
    check_state("with GRANT SET ON PARAMETER, the owner sets jwt.audience on its database", own,
                f"ALTER DATABASE {DB} SET jwt.audience = 'api'", None)
    fresh = connect(DB, OTHER, OTHER_PW)
    q(fresh, "SELECT jwt_decode(%s)", (tok,))          # the library is loaded now
    T.check("a new session has jwt.audience = 'api' once the library is loaded",
            sq1(fresh, "SHOW jwt.audience") == "api")
    good = q1(own, "SELECT jwt_sign(%s::jsonb, %s, 'HS256', '{\"kid\":\"hs-1\"}')",
              (json.dumps({"sub": "alice", "exp": exp, "aud": "api"}), SECRET))
    q(fresh, "SELECT set_config('jwt.token', %s, false)", (good,))
    T.check("a token for audience api is accepted", sq1(fresh, "SELECT jwt_claim('sub')") == "alice")
    q(fresh, "SELECT set_config('jwt.token', %s, false)", (tok,))
    check_state("a token without the audience is refused (28000)", fresh, "SELECT jwt_claims()", "28000")
    check_state("another role still cannot SET jwt.audience", fresh, "SET jwt.audience = ''", "42501")
    fresh.close()

    # 7. pg_dump and restore by the owner ----------------------------------
    env = dict(os.environ, PGUSER=OWNER, PGPASSWORD=OWNER_PW)
    with tempfile.NamedTemporaryFile(suffix=".sql") as dump:
        r = subprocess.run([os.path.join(BINDIR, "pg_dump"), "-d", DB, "-f", dump.name],
                           env=env, capture_output=True, text=True)
        T.check("the owner dumps its database with pg_dump", r.returncode == 0, r.stderr)
        q(own, f"CREATE DATABASE {DB_RESTORED}")
        r = subprocess.run([os.path.join(BINDIR, "psql"), "-X", "-q", "-v", "ON_ERROR_STOP=1",
                            "-d", DB_RESTORED, "-f", dump.name],
                           env=env, capture_output=True, text=True)
        T.check("the owner restores the dump into a new database of its own, without error",
                r.returncode == 0 and "ERROR" not in r.stderr, r.stderr[-500:])
    restored = connect(DB_RESTORED, OWNER, OWNER_PW)
    T.check("the restored registry has its keys",
            sq1(restored, "SELECT string_agg(kid, ',' ORDER BY kid) FROM jwt_keys")
            == ",".join(sorted(["hs-1", es_kid])))
    T.check("the restored extension is the owner's",
            sq1(restored, "SELECT extowner::regrole::text FROM pg_extension WHERE extname = 'jwt'") == OWNER)
    T.check("the restored database has no SECURITY DEFINER function of the extension",
            sq1(restored, "SELECT count(*) FROM pg_proc WHERE prosecdef AND proname LIKE 'jwt%%'") == 0)
    q(restored, "SELECT set_config('jwt.token', %s, false)",
      (q1(restored, "SELECT jwt_sign(%s::jsonb, %s, 'HS256', '{\"kid\":\"hs-1\"}')",
          (json.dumps({"sub": "bob", "exp": exp}), SECRET)),))
    T.check("the restored policy filters by jwt_claim (as the table's owner with FORCE)",
            sq1(restored, "ALTER TABLE docs FORCE ROW LEVEL SECURITY; "
                         "SELECT array_agg(id)::text FROM docs") == "{2}")
    restored.close()
    check_state("the owner can drop the extension from its database", own,
                "DROP TABLE docs; DROP EXTENSION jwt", None)
    own.close()


SECRET2 = "a-second-string-secret-at-least-256-bits"
SECRET3 = "a-third-string-secret-at-least-256-bits!"
JWK_OCT = json.dumps({"kty": "oct", "k": base64.urlsafe_b64encode(SECRET3.encode()).decode().rstrip("=")})


def hijack(admin_dsn_conn):
    """Rename the extension's schema and plant look-alikes under the old name
    (the registry tables, with row and statement triggers that record who
    ran them and what they were given, and functions the old SQL bodies
    named), then have a superuser call every function a superuser might
    call, each through the extension's real schema: none may run the planted
    code, none may hand the planted tables a secret, and each must do its
    work on the real registry."""
    own_pg = connect("postgres", OWNER, OWNER_PW)
    q(own_pg, f"CREATE DATABASE {DB_HIJACK}")
    own_pg.close()
    c = connect(DB_HIJACK, OWNER, OWNER_PW)
    q(c, "CREATE EXTENSION jwt")
    q(c, "SELECT jwt_add_key(%s, 'HS256', 'hs-real')", (SECRET,))
    # [issuers] an identity provider, its key stored as a fetch stores it
    idp_key = q1(c, "SELECT jwt_generate_key('ES256') - 'kid' || '{\"kid\":\"idp-1\"}'")
    planted_key = q1(c, "SELECT jwt_generate_key('ES256') - 'kid' || '{\"kid\":\"idp-1\"}'")
    q(c, "INSERT INTO jwt_issuers (issuer, jwks, added_at) VALUES ('https://idp.example', "
         "jsonb_build_object('keys', jsonb_build_array(jwt_public_jwk(%s::jsonb))), now())",
      (json.dumps(idp_key),))
    q(c, "ALTER SCHEMA public RENAME TO real_public")
    q(c, "CREATE SCHEMA public")
    q(c, """
        CREATE TABLE public.loot (what text, who text, superuser boolean, data text);
        GRANT ALL ON public.loot TO PUBLIC;
        CREATE FUNCTION public.planted() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            INSERT INTO public.loot SELECT TG_TABLE_NAME || ' ' || TG_OP || ' ' || TG_LEVEL,
                   current_user, rolsuper,
                   CASE WHEN TG_LEVEL = 'ROW' THEN row_to_json(CASE WHEN TG_OP = 'DELETE' THEN OLD ELSE NEW END)::text END
            FROM pg_roles WHERE rolname = current_user;
            RETURN CASE WHEN TG_OP = 'DELETE' THEN OLD ELSE NEW END;
        END $$;
        CREATE TABLE public.jwt_keys (kid text PRIMARY KEY, key text, algorithm text,
                                      valid_from timestamptz DEFAULT now(), valid_until timestamptz,
                                      can_sign boolean DEFAULT true, added_at timestamptz DEFAULT now());
        INSERT INTO public.jwt_keys (kid, key, algorithm) VALUES ('hs-real', 'planted', 'HS256');
        CREATE TABLE public.jwt_revocations (jti text PRIMARY KEY, expires_at timestamptz,
                                             revoked_at timestamptz DEFAULT now());
        INSERT INTO public.jwt_revocations VALUES ('old', now() - interval '10 days');
        CREATE TRIGGER planted_row BEFORE INSERT OR UPDATE OR DELETE ON public.jwt_keys
            FOR EACH ROW EXECUTE FUNCTION public.planted();
        CREATE TRIGGER planted_stmt AFTER INSERT OR UPDATE OR DELETE ON public.jwt_keys
            FOR EACH STATEMENT EXECUTE FUNCTION public.planted();
        CREATE TRIGGER planted_row BEFORE INSERT OR UPDATE OR DELETE ON public.jwt_revocations
            FOR EACH ROW EXECUTE FUNCTION public.planted();
        CREATE TRIGGER planted_stmt AFTER INSERT OR UPDATE OR DELETE ON public.jwt_revocations
            FOR EACH STATEMENT EXECUTE FUNCTION public.planted();
        CREATE TABLE public.jwt_issuers (issuer text PRIMARY KEY, aliases text[] DEFAULT '{}', audience text[],
                                         algorithms text[], jwks_uri text, jwks jsonb,
                                         jwks_fetched_at timestamptz, added_at timestamptz DEFAULT now());
        CREATE TABLE public.jwt_issuer_fetches (issuer text PRIMARY KEY, discovered_jwks_uri text, etag text,
                                                attempted_at timestamptz, succeeded_at timestamptz, outcome text,
                                                http_status int, detail text, refused_keys int DEFAULT 0,
                                                failures int DEFAULT 0, next_fetch_at timestamptz);
        INSERT INTO public.jwt_issuers (issuer, jwks_uri) VALUES ('https://127.0.0.1:1/hijack', 'https://127.0.0.1:1/planted');
        CREATE TRIGGER planted_row BEFORE INSERT OR UPDATE OR DELETE ON public.jwt_issuers
            FOR EACH ROW EXECUTE FUNCTION public.planted();
        CREATE TRIGGER planted_stmt AFTER INSERT OR UPDATE OR DELETE ON public.jwt_issuers
            FOR EACH STATEMENT EXECUTE FUNCTION public.planted();
        CREATE TRIGGER planted_row BEFORE INSERT OR UPDATE OR DELETE ON public.jwt_issuer_fetches
            FOR EACH ROW EXECUTE FUNCTION public.planted();
        CREATE TRIGGER planted_stmt AFTER INSERT OR UPDATE OR DELETE ON public.jwt_issuer_fetches
            FOR EACH STATEMENT EXECUTE FUNCTION public.planted();
        CREATE FUNCTION public.record(what text, data text) RETURNS void LANGUAGE sql AS
            $$ INSERT INTO public.loot SELECT what, current_user, rolsuper, data
               FROM pg_roles WHERE rolname = current_user $$;
        CREATE FUNCTION public.jwt_sign(jsonb, text, text, jsonb) RETURNS text LANGUAGE sql AS
            $$ SELECT public.record('jwt_sign', $2); SELECT 'planted' $$;
        CREATE FUNCTION public.jwt_public_jwk(text) RETURNS jsonb LANGUAGE sql AS
            $$ SELECT public.record('jwt_public_jwk', $1); SELECT '{}'::jsonb $$;
        CREATE FUNCTION public.jwt_decode(text) RETURNS jsonb LANGUAGE sql AS
            $$ SELECT public.record('jwt_decode', $1);
               SELECT '{"payload":{"jti":"planted","exp":4102444800}}'::jsonb $$;
        CREATE FUNCTION public.jwt_revoke(text, timestamptz) RETURNS void LANGUAGE sql AS
            $$ SELECT public.record('jwt_revoke', $1) $$;
        CREATE TABLE public.jwt_logins (sid text PRIMARY KEY, sub text, claims jsonb,
                                        created_at timestamptz, expires_at timestamptz,
                                        access_expires_at timestamptz, ended_at timestamptz,
                                        end_reason text);
        CREATE TABLE public.jwt_refresh_tokens (hash bytea PRIMARY KEY, sid text,
                                                issued_at timestamptz, expires_at timestamptz,
                                                used_at timestamptz, successor_enc bytea);
        CREATE TRIGGER planted_row BEFORE INSERT OR UPDATE OR DELETE ON public.jwt_logins
            FOR EACH ROW EXECUTE FUNCTION public.planted();
        CREATE TRIGGER planted_stmt AFTER INSERT OR UPDATE OR DELETE ON public.jwt_logins
            FOR EACH STATEMENT EXECUTE FUNCTION public.planted();
        CREATE TRIGGER planted_row BEFORE INSERT OR UPDATE OR DELETE ON public.jwt_refresh_tokens
            FOR EACH ROW EXECUTE FUNCTION public.planted();
        CREATE TRIGGER planted_stmt AFTER INSERT OR UPDATE OR DELETE ON public.jwt_refresh_tokens
            FOR EACH STATEMENT EXECUTE FUNCTION public.planted();""")
    q(c, "INSERT INTO public.jwt_issuers (issuer, jwks) VALUES ('https://idp.example', "
         "jsonb_build_object('keys', jsonb_build_array(real_public.jwt_public_jwk(%s::jsonb))))",
      (json.dumps(planted_key),))
    q(c, "DELETE FROM public.loot")  # the owner's own planting fired its triggers
    su = connect(DB_HIJACK)          # a superuser, as the README advises for key management
    T.check("the hijack's caller is a superuser", sq1(su, "SELECT rolsuper FROM pg_roles "
                                                          "WHERE rolname = current_user") is True)
    exp = now_plus(3600)
    idp_claims = json.dumps({"iss": "https://idp.example", "sub": "idp-user", "exp": now_plus(3600),
                             "scope": "a b"})
    idp_token, planted_token = (q1(su, "SELECT real_public.jwt_sign(%s::jsonb, %s::jsonb, 'ES256')",
                                   (idp_claims, json.dumps(k))) for k in (idp_key, planted_key))
    su_token, claims_token = (
        q1(su, "SELECT real_public.jwt_sign(%s::jsonb, %s, 'HS256', '{\"kid\":\"su-key\"}')",
           (json.dumps({"sub": "su", "jti": jti, "exp": exp}), SECRET2)) for jti in ("j-2", "j-3"))
    calls = [
        ("jwt_add_key", "SELECT real_public.jwt_add_key(%s, 'HS256', 'su-key')", (SECRET2,),
         lambda v: v == "su-key"),
        ("jwt_retire_key", "SELECT real_public.jwt_retire_key('hs-real', now() + interval '1 day')", None,
         lambda v: v is True),
        ("jwt_revoke", "SELECT real_public.jwt_revoke('j-1', now() - interval '1 day') IS NULL", None,
         lambda v: v is True),
        ("jwt_revoke_token", "SELECT real_public.jwt_revoke_token(%s)", (su_token,),
         lambda v: v == "j-2"),
        ("jwt_purge_revocations", "SELECT real_public.jwt_purge_revocations()", None,
         lambda v: v == 1),
        ("jwt_issue", "SELECT real_public.jwt_issue('{\"sub\":\"x\"}', 'su-key')", None, is_jwt),
        ("jwt_jwks", "SELECT real_public.jwt_jwks()", None, lambda v: v == {"keys": []}),
        ("jwt_claims", "SELECT set_config('jwt.token', %s, false) IS NOT NULL AND "
                       "real_public.jwt_claims() ->> 'sub' = 'su'", (claims_token,), lambda v: v is True),
        ("jwt_claim", "SELECT real_public.jwt_claim('sub')", None, lambda v: v == "su"),
        # [issuers] the real jwt_issuers, never the planted one
        ("jwt_issuer_jwks", "SELECT real_public.jwt_issuer_jwks('https://idp.example') -> 'keys' -> 0 ->> 'x' = "
                            "%s::jsonb ->> 'x'", (json.dumps(idp_key),), lambda v: v is True),
        ("jwt_claims", "SELECT set_config('jwt.token', %s, false) IS NOT NULL AND "
                       "real_public.jwt_claims() ->> 'sub' = 'idp-user'", (idp_token,), lambda v: v is True),
        ("jwt_scopes", "SELECT array_to_string(real_public.jwt_scopes(), ',')", None, lambda v: v == "a,b"),
        ("jwt_has_scope", "SELECT real_public.jwt_has_scope('b')", None, lambda v: v is True),
        ("jwt_claims", "SELECT set_config('jwt.token', %s, false) IS NOT NULL AND "
                       "real_public.jwt_claims() IS NULL", (planted_token,),
         lambda v: isinstance(v, str) and "SQLSTATE 28000" in v and "signature" in v),
        # the revoked token: the real revocations refuse it
        ("jwt_claims", "SELECT set_config('jwt.token', %s, false) IS NOT NULL AND "
                       "real_public.jwt_claims() IS NULL", (su_token,),
         lambda v: isinstance(v, str) and "SQLSTATE 28000" in v and "revoked" in v),
        # [issuers] fetching: a provider that is not there (the fetch fails, the rows are written);
        # the extension's owner is not a superuser, so the URL needs a prefix the superuser sets
        ("jwt_add_issuer", "SELECT set_config('jwt.issuer_url_prefixes', 'https://127.0.0.1:1/', false) "
                           "IS NOT NULL AND set_config('client_min_messages', 'error', false) IS NOT NULL AND "
                           "real_public.jwt_add_issuer('https://127.0.0.1:1/hijack', 'api') = 0", None,
         lambda v: v is True),
        ("jwt_add_issuer", "SELECT real_public.jwt_add_issuer('https://127.0.0.1:1/hijack2', ARRAY['a', 'b'], "
                           "'https://127.0.0.1:1/hijack2/jwks')", None, lambda v: v == 0),
        # every issuer: the two above and https://idp.example, whose discovered URL is under no prefix
        ("jwt_refresh_issuers", "SELECT real_public.jwt_refresh_issuers()", None, lambda v: v == 3),
        ("jwt_drop_issuer", "SELECT real_public.jwt_drop_issuer('https://127.0.0.1:1/hijack2')", None,
         lambda v: v is True),
        ("jwt_wake_issuer", "SELECT real_public.jwt_wake_issuer('https://127.0.0.1:1/hijack')", None,
         lambda v: v is False),
    ]
    login = {}

    def keep_login(v):
        if isinstance(v, dict) and "refresh_token" in v and "access_token" in v:
            login.update(v)
            return True
        return False

    def fresh_login(v):
        return isinstance(v, dict) and "refresh_token" in v and v.get("sid") == login.get("sid")
    calls += [
        ("jwt_login", "SELECT real_public.jwt_login('{\"sub\":\"su\"}', 'su-key')", None, keep_login),
        ("jwt_refresh", "SELECT real_public.jwt_refresh(%s)", lambda: (login["refresh_token"],),
         lambda v: fresh_login(v) and keep_login(v)),
        ("jwt_logout", "SELECT real_public.jwt_logout(%s)", lambda: (login["refresh_token"],),
         lambda v: v is True),
        ("jwt_login", "SELECT real_public.jwt_login('{\"sub\":\"su\"}', 'su-key')", None, keep_login),
        ("jwt_logout()", "SELECT set_config('jwt.token', %s, false) IS NOT NULL AND real_public.jwt_logout()",
         lambda: (login["access_token"],), lambda v: v is True),
        ("jwt_login", "SELECT real_public.jwt_login('{\"sub\":\"su\"}', 'su-key')", None, keep_login),
        ("jwt_logout_all", "SELECT real_public.jwt_logout_all('su')", None, lambda v: v == 1),
        # last: it adds a published key and retires su-key, the signing key
        ("jwt_rotate_signing_key", "SELECT real_public.jwt_rotate_signing_key('ES256', '1 hour')", None,
         lambda v: isinstance(v, str) and re.fullmatch(r"[\w-]{43}", v) is not None),
    ]
    for name, sql, params, ok in calls:
        if callable(params):
            params = params() if login else None
        got = sq1(su, sql, params)
        T.check(f"after the schema swap a superuser's real_public.{name}() does its work on the real registry",
                ok(got), repr(got)[:300])
        ran = q(c, "SELECT what, who, superuser FROM public.loot")
        T.check(f"... and real_public.{name}() ran none of the planted code", not ran, ran)
        q(c, "DELETE FROM public.loot")
    q(su, "RESET jwt.token")
    T.check("the logins went to the real tables, none to the planted ones",
            sq1(c, "SELECT count(*) FROM real_public.jwt_logins") == 3
            and sq1(c, "SELECT count(*) FROM public.jwt_logins") == 0
            and sq1(c, "SELECT count(*) FROM public.jwt_refresh_tokens") == 0)
    T.check("a token jwt_issue signed with the superuser's key verifies with that key's secret",
            sq1(su, "SELECT real_public.jwt_verify(real_public.jwt_issue('{\"sub\":\"y\",\"exp\":4102444800}', "
                    "'su-key'), %s) ->> 'sub'", (SECRET2,)) == "y")
    T.check("the secrets never reached the planted tables",
            sq1(c, "SELECT count(*) FROM public.jwt_keys WHERE key IN (%s, %s)", (SECRET, SECRET2)) == 0
            and sq1(c, "SELECT count(*) FROM public.jwt_keys") == 1
            and sq1(c, "SELECT count(*) FROM public.jwt_revocations") == 1)
    T.check("the real registry has the superuser's key, the retirement, and the rotation's key "
            "(su-key, the signing key it takes over from, retiring)",
            sq1(c, "SELECT string_agg(kid || ':' || (valid_until IS NOT NULL), ',' ORDER BY kid) "
                   "FROM real_public.jwt_keys WHERE algorithm = 'HS256'") == "hs-real:true,su-key:true"
            and sq1(c, "SELECT count(*) FROM real_public.jwt_keys WHERE algorithm = 'ES256' "
                       "AND valid_until IS NULL AND valid_from > now() + interval '59 minutes'") == 1)
    got = sq1(su, "SELECT real_public.jwt_add_key(%s::jsonb, 'HS256', 'su-jwk')", (JWK_OCT,))
    T.check("after the schema swap a superuser's real_public.jwt_add_key(jsonb) does its work on the "
            "real registry", got == "su-jwk" and sq1(c, "SELECT count(*) FROM real_public.jwt_keys "
                                                    "WHERE kid = 'su-jwk'") == 1, got)
    ran = q(c, "SELECT what, who, superuser FROM public.loot")
    T.check("... and real_public.jwt_add_key(jsonb) ran none of the planted code", not ran, ran)
    q(c, "DELETE FROM real_public.jwt_keys WHERE kid = 'su-jwk'")
    T.check("the real jwt_issuers has the superuser's registration, its fetch recorded, the planted one untouched",
            sq1(c, "SELECT string_agg(i.issuer || ':' || f.outcome || ':' || f.failures, ',') "
                   "FROM real_public.jwt_issuers i JOIN real_public.jwt_issuer_fetches f USING (issuer) "
                   "WHERE i.issuer LIKE 'https://127.0.0.1:1/%'")
            == "https://127.0.0.1:1/hijack:connect:2"
            and sq1(c, "SELECT count(*) FROM public.jwt_issuers") == 2
            and sq1(c, "SELECT count(*) FROM public.jwt_issuer_fetches") == 0)
    T.check("the real revocations have the token's jti (j-1 was purged)",
            sq1(c, "SELECT string_agg(jti, ',' ORDER BY jti) FROM real_public.jwt_revocations") == "j-2")
    T.check("an unqualified call by that superuser would still resolve through its search_path "
            "(CVE-2018-1058: the README says to qualify)",
            sq1(su, "SELECT jwt_sign('{}', 'x', 'HS256', NULL)") == "planted")
    q(c, "DELETE FROM public.loot")
    su.close()
    c.close()


# Closer matches than pg_catalog's for the calls an unqualified expression of
# the install script would make (pg_catalog's take anyarray / anycompatible):
# planted in public before CREATE EXTENSION, each records who ran it.
PLANTED_OVERLOADS = """
    CREATE TABLE public.loot (what text, who text, superuser boolean);
    GRANT ALL ON public.loot TO PUBLIC;
    CREATE FUNCTION public.cardinality(text[]) RETURNS integer LANGUAGE sql AS
        $$ INSERT INTO public.loot SELECT 'cardinality', current_user, rolsuper
           FROM pg_roles WHERE rolname = current_user;
           SELECT pg_catalog.cardinality($1) $$;
    CREATE FUNCTION public.array_position(text[], text) RETURNS integer LANGUAGE sql AS
        $$ INSERT INTO public.loot SELECT 'array_position', current_user, rolsuper
           FROM pg_roles WHERE rolname = current_user;
           SELECT pg_catalog.array_position($1, $2) $$;
"""


def planted_overloads():
    """The owner plants closer overloads of pg_catalog's polymorphic functions
    in public, then installs (0.2.0 at once, and 0.1.0 then ALTER EXTENSION
    UPDATE): no constraint, default, index or trigger condition of the
    extension's tables may call them, and a superuser's writes to every
    table run none of them."""
    for db, install, how in ((DB_PLANT, "CREATE EXTENSION jwt", "the install"),
                             (DB_PLANT_UPD, "CREATE EXTENSION jwt VERSION '0.1.0'; "
                              "ALTER EXTENSION jwt UPDATE", "the install and update")):
        planted_overloads_in(db, install, how)


def planted_overloads_in(db, install, how):
    own_pg = connect("postgres", OWNER, OWNER_PW)
    q(own_pg, f"CREATE DATABASE {db}")
    own_pg.close()
    c = connect(db, OWNER, OWNER_PW)
    q(c, PLANTED_OVERLOADS)
    q(c, install)
    outside = q(c, """
        SELECT DISTINCT pg_describe_object(d.refclassid, d.refobjid, 0)
        FROM pg_depend d
        JOIN pg_depend m ON m.classid = 'pg_class'::regclass AND m.deptype = 'e'
             AND m.refobjid = (SELECT oid FROM pg_extension WHERE extname = 'jwt')
        WHERE d.refclassid IN ('pg_proc'::regclass, 'pg_operator'::regclass)
          AND ((d.classid = 'pg_constraint'::regclass
                AND d.objid IN (SELECT oid FROM pg_constraint WHERE conrelid = m.objid))
            OR (d.classid = 'pg_attrdef'::regclass
                AND d.objid IN (SELECT oid FROM pg_attrdef WHERE adrelid = m.objid))
            OR (d.classid = 'pg_trigger'::regclass
                AND d.objid IN (SELECT oid FROM pg_trigger WHERE tgrelid = m.objid))
            OR (d.classid = 'pg_class'::regclass
                AND d.objid IN (SELECT indexrelid FROM pg_index WHERE indrelid = m.objid)))
          AND (CASE d.refclassid WHEN 'pg_proc'::regclass
                    THEN (SELECT pronamespace FROM pg_proc WHERE oid = d.refobjid)
                    ELSE (SELECT oprnamespace FROM pg_operator WHERE oid = d.refobjid) END)
              <> 'pg_catalog'::regnamespace
          AND NOT EXISTS (SELECT FROM pg_depend e WHERE e.classid = d.refclassid
                          AND e.objid = d.refobjid AND e.deptype = 'e')""")
    T.check(f"with overloads planted in public before {how}, the extension's tables "
            "call only pg_catalog's functions and operators (and the extension's own)",
            not outside, outside)
    su = connect(db)
    q(su, "INSERT INTO jwt_issuers (issuer, aliases, audience, algorithms, jwks, added_at) "
          "VALUES ('https://idp.example', '{https://idp2.example}', '{api}', '{ES256}', "
          "'{\"keys\":[]}', now())")
    q(su, "INSERT INTO jwt_issuer_fetches (issuer, outcome) VALUES ('https://idp.example', 'ok')")
    q(su, "SELECT jwt_add_key(%s, 'HS256', 'hs-plant')", (SECRET,))
    q(su, "SELECT jwt_revoke('j-plant', now() + interval '1 day')")
    q(su, "SELECT jwt_login('{\"sub\":\"su\"}', 'hs-plant')")
    q(su, "SELECT jwt_logout_all('su')")
    ran = q(c, "SELECT what, who, superuser FROM public.loot")
    T.check(f"... and, after {how}, a superuser's writes to every table of the extension "
            "run none of them", not ran, ran)
    su.close()
    c.close()


def planted_logins():
    """Beside a 0.1.0 install, whose schema has no jwt_logins yet, the owner
    plants one with an ended login: the session path (the 0.2.0 library's)
    must not take it for the extension's table, nor crash on a layout of the
    owner's choosing."""
    own_pg = connect("postgres", OWNER, OWNER_PW)
    q(own_pg, f"CREATE DATABASE {DB_OLD}")
    own_pg.close()
    c = connect(DB_OLD, OWNER, OWNER_PW)
    q(c, "CREATE EXTENSION jwt VERSION '0.1.0'")
    q(c, "SELECT jwt_add_key(%s, 'HS256', 'hs-old')", (SECRET,))
    q(c, """
        CREATE TABLE public.jwt_logins (sid text PRIMARY KEY, sub text, claims jsonb,
                                        created_at timestamptz, expires_at timestamptz,
                                        access_expires_at timestamptz, ended_at timestamptz,
                                        end_reason text);
        INSERT INTO public.jwt_logins VALUES ('s-planted', 'alice', '{}', now(), now() + interval '1 day',
                                              now() + interval '1 day', now(), 'logout')""")
    tok = q1(c, "SELECT jwt_sign(%s::jsonb, %s, 'HS256', '{\"kid\":\"hs-old\"}')",
             (json.dumps({"sub": "alice", "sid": "s-planted", "exp": now_plus(3600)}), SECRET))
    q(c, "SELECT set_config('jwt.token', %s, false)", (tok,))
    T.check("beside a 0.1.0 install, a jwt_logins table planted by the owner ends no session",
            sq1(c, "SELECT jwt_claim('sub')") == "alice")
    c.close()
    # the extension's owner can make its own objects members (ALTER EXTENSION
    # ADD): ints where the sid and times go, then a view; each is refused, with
    # 55000, never read (the backend survives)
    plants = (("a table of another layout",
               "CREATE TABLE public.jwt_logins (a int8, b int, c int, d int, e int, f int8, g int8); "
               "INSERT INTO public.jwt_logins VALUES (16, 1, 1, 1, 1, 1, 1); "
               "ALTER EXTENSION jwt ADD TABLE public.jwt_logins"),
              ("a view", "CREATE VIEW public.jwt_logins AS SELECT 's-planted'::text AS sid, "
               "''::text AS sub, '{}'::jsonb AS claims, now() AS created_at, now() AS expires_at, "
               "now() + interval '1 day' AS access_expires_at, now() AS ended_at; "
               "ALTER EXTENSION jwt ADD VIEW public.jwt_logins"))
    drop = "DROP TABLE public.jwt_logins"
    for what, sql in plants:
        c = connect(DB_OLD, OWNER, OWNER_PW)
        q(c, f"{drop}; {sql}")
        drop = "ALTER EXTENSION jwt DROP TABLE public.jwt_logins; DROP TABLE public.jwt_logins"
        q(c, "SELECT set_config('jwt.token', %s, false)", (tok,))
        got = sq1(c, "SELECT jwt_claim('sub')")
        T.check(f"... nor, made a member of the extension by its owner, {what}: refused with "
                "55000, the backend survives", got.startswith("<SQLSTATE 55000")
                and sq1(c, "SELECT 1") == 1, got)
        c.close()
    c = connect(DB_OLD, OWNER, OWNER_PW)
    q(c, "ALTER EXTENSION jwt DROP VIEW public.jwt_logins; DROP VIEW public.jwt_logins")
    c.close()


def race(su_install):
    """The rename racing the call.  The owner, in one transaction, locks the
    registry tables (its own grants allow LOCK TABLE), renames the
    extension's schema away and a planted one (tables with row and statement
    triggers that record who ran them and what they got) to its name.  A
    superuser calls each administrative function through the real schema,
    whose name is still public when the call starts; the call reads the
    schema's name, then waits for the lock in the statement's own name
    lookup; the owner commits, and the lookup, retried, finds the planted
    table.  The call must refuse (42501, nothing written) or do its work on
    the real registry, and never run the planted code or hand it a secret.

    With su_install, a superuser runs CREATE EXTENSION in the owner's
    database (the extension's owner, whose identity the administrative
    functions take, is then a superuser) and grants the owner the table
    privileges an installer would have: planted code reached there would run
    as a superuser."""
    import threading
    import time
    db = DB_RACE_SU if su_install else DB_RACE
    tag = "race (superuser install)" if su_install else "race"
    own_pg = connect("postgres", OWNER, OWNER_PW)
    q(own_pg, f"CREATE DATABASE {db}")
    own_pg.close()
    c = connect(db, OWNER, OWNER_PW)
    # before the install, the owner plants a now() of its own in public, the
    # schema the script runs in: the defaults the script writes (the columns'
    # and the functions' DEFAULT now()) must still be pg_catalog's
    q(c, "CREATE FUNCTION public.now() RETURNS timestamptz LANGUAGE sql AS $$ SELECT '2000-01-01'::timestamptz $$")
    if su_install:
        su_setup = connect(db)
        q(su_setup, "CREATE EXTENSION jwt")
        q(su_setup, f"GRANT SELECT, INSERT, UPDATE, DELETE ON jwt_keys, jwt_revocations TO {OWNER}; "
                    "GRANT EXECUTE ON FUNCTION jwt_add_key(text, text, text, timestamptz, timestamptz), "
                    f"jwt_retire_key(text, timestamptz) TO {OWNER}")
        su_setup.close()
    else:
        q(c, "CREATE EXTENSION jwt")
    T.check(f"{tag}: the extension's owner is a superuser exactly in a superuser install",
            sq1(c, "SELECT rolsuper FROM pg_extension e JOIN pg_roles r ON r.oid = e.extowner "
                   "WHERE extname = 'jwt'") is su_install)
    T.check(f"{tag}: no default of the extension's tables or functions calls the owner's planted now()",
            sq1(c, "SELECT count(*) FROM pg_depend WHERE refclassid = 'pg_proc'::regclass "
                   "AND refobjid = 'public.now()'::regprocedure") == 0
            and sq1(c, "SELECT jwt_add_key(%s, 'HS256', 'now-check')", (SECRET2,)) == "now-check"
            and sq1(c, "SELECT jwt_retire_key('now-check')") is True
            and sq1(c, "SELECT valid_from > '2020-01-01' AND added_at > '2020-01-01' AND "
                       "valid_until > '2020-01-01' FROM jwt_keys WHERE kid = 'now-check'") is True)
    q(c, "DELETE FROM jwt_keys WHERE kid = 'now-check'")
    q(c, "DROP FUNCTION public.now()")
    q(c, "SELECT jwt_add_key(%s, 'HS256', 'hs-race')", (SECRET,))
    q(c, """
        CREATE SCHEMA planted;
        CREATE SCHEMA lootbox;
        GRANT USAGE ON SCHEMA lootbox TO PUBLIC;
        CREATE TABLE lootbox.loot (what text, who text, superuser boolean, data text);
        GRANT ALL ON lootbox.loot TO PUBLIC;
        -- a sequence outlives the rollback of the call that ran the code
        CREATE SEQUENCE lootbox.ran;
        GRANT ALL ON SEQUENCE lootbox.ran TO PUBLIC;
        CREATE FUNCTION planted.planted() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            PERFORM nextval('lootbox.ran');
            INSERT INTO lootbox.loot SELECT TG_TABLE_NAME || ' ' || TG_OP || ' ' || TG_LEVEL,
                   current_user, rolsuper,
                   CASE WHEN TG_LEVEL = 'ROW' THEN row_to_json(CASE WHEN TG_OP = 'DELETE' THEN OLD ELSE NEW END)::text END
            FROM pg_roles WHERE rolname = current_user;
            RETURN CASE WHEN TG_OP = 'DELETE' THEN OLD ELSE NEW END;
        END $$;
        CREATE TABLE planted.jwt_keys (kid text PRIMARY KEY, key text, algorithm text,
                                       valid_from timestamptz DEFAULT now(), valid_until timestamptz,
                                       can_sign boolean DEFAULT true, added_at timestamptz DEFAULT now());
        INSERT INTO planted.jwt_keys (kid, key, algorithm) VALUES ('hs-race', 'planted', 'HS256');
        CREATE TABLE planted.jwt_revocations (jti text PRIMARY KEY, expires_at timestamptz,
                                              revoked_at timestamptz DEFAULT now());
        INSERT INTO planted.jwt_revocations VALUES ('old', now() - interval '10 days');
        CREATE TRIGGER planted_row BEFORE INSERT OR UPDATE OR DELETE ON planted.jwt_keys
            FOR EACH ROW EXECUTE FUNCTION planted.planted();
        CREATE TRIGGER planted_stmt AFTER INSERT OR UPDATE OR DELETE ON planted.jwt_keys
            FOR EACH STATEMENT EXECUTE FUNCTION planted.planted();
        CREATE TRIGGER planted_row BEFORE INSERT OR UPDATE OR DELETE ON planted.jwt_revocations
            FOR EACH ROW EXECUTE FUNCTION planted.planted();
        CREATE TRIGGER planted_stmt AFTER INSERT OR UPDATE OR DELETE ON planted.jwt_revocations
            FOR EACH STATEMENT EXECUTE FUNCTION planted.planted();
        -- a rule turns the UPDATE into a SELECT of a planted function (an
        -- INSERT ... ON CONFLICT or RETURNING refuses a table with rules)
        CREATE FUNCTION lootbox.record(what text, data text) RETURNS text LANGUAGE sql AS
            $$ SELECT nextval('lootbox.ran');
               INSERT INTO lootbox.loot SELECT what, current_user, rolsuper, data
               FROM pg_roles WHERE rolname = current_user RETURNING data $$;
        CREATE RULE planted_rule AS ON UPDATE TO planted.jwt_keys
            DO INSTEAD SELECT lootbox.record('jwt_keys UPDATE RULE', OLD.key);""")
    token = q1(c, "SELECT jwt_sign(%s::jsonb, %s, 'HS256', '{\"kid\":\"hs-race\"}')",
               (json.dumps({"sub": "r", "jti": "race-2", "exp": now_plus(3600)}), SECRET))
    su = connect(db)
    su_pid = q1(su, "SELECT pg_backend_pid()")
    calls = [
        ("jwt_add_key", "SELECT public.jwt_add_key(%s, 'HS256', 'race-key')", (SECRET2,)),
        ("jwt_retire_key", "SELECT public.jwt_retire_key('hs-race', now() + interval '1 day')", None),
        ("jwt_revoke", "SELECT public.jwt_revoke('race-1', 'infinity')", None),
        ("jwt_revoke_token", "SELECT public.jwt_revoke_token(%s)", (token,)),
        ("jwt_purge_revocations", "SELECT public.jwt_purge_revocations()", None),
        ("jwt_rotate_signing_key", "SELECT public.jwt_rotate_signing_key('ES256', '1 hour')", None),
    ]
    refused = set()
    for name, sql, params in calls:
        q(c, "BEGIN")
        q(c, "LOCK TABLE public.jwt_keys, public.jwt_revocations IN ACCESS EXCLUSIVE MODE")
        q(c, "ALTER SCHEMA public RENAME TO real_public")
        q(c, "ALTER SCHEMA planted RENAME TO public")
        got = {}

        def call(sql=sql, params=params):
            try:
                got["value"] = q1(su, sql, params)
            except psycopg2.Error as e:
                got["error"] = (e.pgcode, (e.pgerror or "").split("\n")[0])
        t = threading.Thread(target=call)
        t.start()
        waiting = False
        for _ in range(500):             # a wait on the condition itself: the call blocked on the lock
            if q1(admin_conn(), "SELECT wait_event_type = 'Lock' FROM pg_stat_activity WHERE pid = %s",
                  (su_pid,)):
                waiting = True
                break
            time.sleep(0.01)
        q(c, "COMMIT")
        t.join(30)
        T.check(f"{tag}: the superuser's public.{name}() waited on the owner's lock", waiting, got)
        if "error" in got:
            # 42501: the statement's check; 0A000: the rewriter refuses an
            # INSERT ... ON CONFLICT on a table with rules, before any code
            T.check(f"{tag}: public.{name}() refused when its statement named the planted table",
                    (got["error"][0] == "42501" and "schema changed" in got["error"][1])
                    or got["error"][0] == "0A000", got["error"])
            if got["error"][0] == "42501":
                refused.add(name)
        else:
            T.check(f"{tag}: public.{name}() returned", "value" in got, got)
        ran = q(c, "SELECT what, who, superuser FROM lootbox.loot") + \
            q(c, "SELECT 'planted code ran, rolled back', last_value, NULL FROM lootbox.ran WHERE is_called")
        T.check(f"{tag}: public.{name}() ran none of the planted code, not even in a rolled-back statement",
                not ran, ran)
        q(c, "DELETE FROM lootbox.loot; SELECT setval('lootbox.ran', 1, false)")
        q(c, "BEGIN; ALTER SCHEMA public RENAME TO planted; ALTER SCHEMA real_public RENAME TO public; COMMIT")
    T.check(f"{tag}: the calls whose statement's lookup raced were refused by the check (at least "
            "jwt_retire_key, whose UPDATE a planted rule rewrites, jwt_revoke, and "
            "jwt_rotate_signing_key, which waited on its lock on jwt_keys taken by OID)",
            {"jwt_retire_key", "jwt_revoke", "jwt_rotate_signing_key"} <= refused, sorted(refused))
    # The owner of a trusted install owns the extension, so it may ALTER
    # EXTENSION jwt ADD an object of its own: an update script's CREATE OR
    # REPLACE would then take that object for the extension's (and leave it
    # the owner's), so the update script replaces only what 0.1.0 created.
    if not su_install:
        T.check(f"{tag}: the owner can make an object of its own a member of the extension "
                "(so the rule below matters)",
                sq1(c, "CREATE FUNCTION public.own_member() RETURNS int LANGUAGE sql AS 'SELECT 1'; "
                       "ALTER EXTENSION jwt ADD FUNCTION public.own_member(); "
                       "ALTER EXTENSION jwt DROP FUNCTION public.own_member(); "
                       "DROP FUNCTION public.own_member(); SELECT 1") == 1)
    with open(os.path.join(REPO, "jwt--0.1.0.sql"), encoding="utf-8") as f:
        created = {m.group(1).lower() for m in re.finditer(r"^CREATE (?:OR REPLACE )?(?:FUNCTION|TABLE|VIEW|TYPE)\s+(\w+)",
                                                            f.read(), re.M)}
    with open(os.path.join(REPO, "jwt--0.1.0--0.2.0.sql"), encoding="utf-8") as f:
        replaced = {m.group(1).lower() for m in re.finditer(r"^CREATE OR REPLACE \w+\s+(\w+)", f.read(), re.M)}
    if not su_install:
        T.check("the update script's CREATE OR REPLACE names only objects 0.1.0 created (new ones use CREATE)",
                replaced and replaced <= created, sorted(replaced - created) or "no CREATE OR REPLACE found")
    T.check(f"{tag}: the secrets never reached the planted tables",
            sq1(c, "SELECT count(*) FROM planted.jwt_keys WHERE key IN (%s, %s)", (SECRET, SECRET2)) == 0
            and sq1(c, "SELECT count(*) FROM planted.jwt_keys") == 1
            and sq1(c, "SELECT count(*) FROM planted.jwt_revocations") == 1)
    T.check(f"{tag}: no refused call wrote to the real registry",
            sq1(c, "SELECT count(*) FROM public.jwt_keys WHERE kid = 'race-key'") == 0
            and sq1(c, "SELECT count(*) FROM public.jwt_revocations WHERE jti = 'race-1'") == 0
            and sq1(c, "SELECT count(*) FROM public.jwt_keys WHERE algorithm = 'ES256'") == 0)
    su.close()
    c.close()


_ADMIN = []


def admin_conn():
    if not _ADMIN:
        _ADMIN.append(connect())
    return _ADMIN[0]


def delegate(own):
    """GRANT EXECUTE alone delegates key management: a role with no privilege
    on the tables adds, retires and revokes, and the row trigger still
    checks each key."""
    keyadmin = "jwt_trusted_web"
    q(own, "GRANT EXECUTE ON FUNCTION jwt_add_key(text, text, text, timestamptz, timestamptz), "
           "jwt_retire_key(text, timestamptz), jwt_revoke(text, timestamptz), jwt_revoke_token(text), "
           f"jwt_purge_revocations() TO {keyadmin}")
    web = connect(DB, WEB, WEB_PW)
    check_state("the delegated role has no privilege on jwt_keys", web, "SELECT 1 FROM jwt_keys", "42501")
    T.check("with EXECUTE alone, a role adds a key with jwt_add_key",
            sq1(web, "SELECT jwt_add_key(%s, 'HS256', 'delegated')", (SECRET + "-delegated",)) == "delegated")
    check_state("... and the row trigger still refuses a bad key (22023)", web,
                "SELECT jwt_add_key('short', 'HS256', 'delegated-short')", "22023")
    # an error inside the call, caught by the caller's EXCEPTION block (a
    # subtransaction): the caller is itself again, with its own search_path
    # and outside the security-restricted operation (a temporary table and
    # SET ROLE are refused inside one)
    q(web, "SET search_path = pg_catalog, public")
    T.check("a failed call caught in an EXCEPTION block leaves the caller's identity, search_path "
            "and security context as they were",
            sq1(web, """DO $$
                DECLARE r text;
                BEGIN
                    BEGIN
                        PERFORM jwt_add_key('short', 'HS256', 'delegated-caught');
                    EXCEPTION WHEN invalid_parameter_value THEN NULL;
                    END;
                    r := current_user || ' ' || session_user || ' ' || current_setting('search_path');
                    CREATE TEMP TABLE delegated_probe (x int);
                    SET ROLE NONE;
                    RAISE EXCEPTION 'after: %', r;
                END $$""") == f"<SQLSTATE P0001: ERROR: after: {WEB} {WEB} pg_catalog, public "
                              "CONTEXT: PL/pgSQL function inline_code_block line 11 at RAISE>")
    q(web, "RESET search_path")
    token = q1(own, "SELECT jwt_sign(%s::jsonb, %s, 'HS256', '{\"kid\":\"delegated\"}')",
               (json.dumps({"sub": "d", "jti": "d-1", "exp": now_plus(3600)}), SECRET + "-delegated"))
    T.check("with EXECUTE alone, a role revokes a token with jwt_revoke_token",
            sq1(web, "SELECT jwt_revoke_token(%s)", (token,)) == "d-1")
    T.check("with EXECUTE alone, a role revokes a jti with jwt_revoke",
            sq1(web, "SELECT jwt_revoke('d-2', now() - interval '1 day') IS NULL") is True)
    T.check("with EXECUTE alone, a role purges revocations",
            sq1(web, "SELECT jwt_purge_revocations()") == 1)
    T.check("with EXECUTE alone, a role retires a key with jwt_retire_key",
            sq1(web, "SELECT jwt_retire_key('delegated')") is True)
    T.check("the delegated writes are in the registry",
            sq1(own, "SELECT (SELECT valid_until <= now() FROM jwt_keys WHERE kid = 'delegated') "
                     "AND EXISTS (SELECT FROM jwt_revocations WHERE jti = 'd-1')") is True)
    web.close()
    q(own, "DELETE FROM jwt_keys WHERE kid = 'delegated'; DELETE FROM jwt_revocations WHERE jti = 'd-1'; "
           "REVOKE EXECUTE ON FUNCTION jwt_add_key(text, text, text, timestamptz, timestamptz), "
           "jwt_retire_key(text, timestamptz), jwt_revoke(text, timestamptz), jwt_revoke_token(text), "
           f"jwt_purge_revocations() FROM {keyadmin}")


if __name__ == "__main__":
    main()
