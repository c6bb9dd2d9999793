#!/usr/bin/python3
"""Versions and updates: every version installs, updates step by step to the
newest, and ends up where a fresh install of the newest does.

Run inside a throwaway cluster, as root (after make install), with the PG*
environment of pg_virtualenv, whose user is a superuser:

    pg_virtualenv -t -v 15 /usr/bin/python3 test/upgrade.py

The versions come from the scripts: jwt--V.sql installs V, jwt--A--B.sql
updates A to B; jwt.control's default_version is the newest.  It checks

  1. the scripts: the Makefile's EXTVERSION is jwt.control's default_version;
     the newest version is the default; every version has an install script
     and every step between two consecutive versions an update script (none
     is ever dropped); each script starts with the \\echo ... \\quit guard;
     make install put every one of them, and the control file, in place;
  2. the library serves every script: every C symbol any script of any
     version names is exported by the installed library it names (jwt.so
     for MODULE_PATHNAME, jwt_fetch.so for '$libdir/jwt_fetch'), and every version
     installs fresh (CREATE EXTENSION jwt VERSION 'V');
  3. the chain: the oldest version is installed, given registry rows (keys,
     a revocation), a table with an RLS policy on jwt_claim and a role that
     reads it; then ALTER EXTENSION jwt UPDATE TO each next version in turn.
     After each step the registry rows are unchanged, the policy still gives
     the role its rows, a revoked jti is still refused, jwt_issue still
     signs, and pg_dump --schema-only equals that of a fresh install of the
     same version given the same setup.  Plain pg_dump leaves an
     extension's own objects out (it dumps CREATE EXTENSION), so it is
     compared twice: plain (the user's objects and policies, the ACLs on the
     extension's objects) and --binary-upgrade (every member object, spelled
     out), with OIDs and the per-dump \\restrict key taken out;
  4. a self-test of the machinery, while jwt has one version only: a
     synthetic extension jwt_uptest (the same scripts, a 0.1.0 and a 0.1.1
     that adds a function and changes a comment, with its update script) is
     put next to jwt in the share directory, run through step 3, and then
     with an update script that forgets the new function, which the
     comparison must catch.  Its files are removed at the end.  It needs to
     write the share directory (root); otherwise it says so and is skipped.

With a single version there is no update step: it says so, and counts only
the checks that ran.  Ends with "upgrade: N passed, N failed".
"""

import difflib
import json
import os
import re
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))   # test/, for suite.py
import suite                                                     # noqa: E402

T = suite.Suite("upgrade", reexec_guard="JWT_UPGRADE_REEXEC")

try:
    import psycopg2
except ImportError as e:
    T.reexec_or_cannot_run(e, "Debian's python3-psycopg2")

REPO = suite.REPO
EXT = "jwt"
READER = "jwt_upgrade_reader"
SECRET = "a-string-secret-at-least-256-bits-long"
DB_PREFIX = "jwt_upgrade_"


def pg_config(flag):
    return subprocess.run([os.environ.get("PG_CONFIG", "pg_config"), flag], capture_output=True, text=True,
                          check=True).stdout.strip()


BINDIR = pg_config("--bindir")
SHAREDIR = os.path.join(pg_config("--sharedir"), "extension")
PKGLIBDIR = pg_config("--pkglibdir")


def vkey(v):
    """Version order: numerically by dot-separated parts (0.10.0 > 0.9.1)."""
    return [(0, int(p), "") if p.isdigit() else (1, 0, p) for p in re.split(r"[.]", v)]


def connect(db="postgres"):
    conn = psycopg2.connect(dbname=db)
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
    try:
        return q1(conn, sql, params)
    except psycopg2.Error as e:
        return f"<SQLSTATE {e.pgcode}: {' '.join((e.pgerror or '').split())}>"


def sqlstate(conn, sql, params=None):
    try:
        q(conn, sql, params)
    except psycopg2.Error as e:
        return e.pgcode
    return None


# ------------------------------------------------------------ the scripts

def discover(ext, folder):
    """(install versions, update steps {(a, b): file}, default_version)."""
    installs, steps = {}, {}
    for name in os.listdir(folder):
        m = re.fullmatch(re.escape(ext) + r"--(.+)\.sql", name)
        if not m:
            continue
        parts = m.group(1).split("--")
        if len(parts) == 1:
            installs[parts[0]] = name
        elif len(parts) == 2:
            steps[tuple(parts)] = name
    with open(os.path.join(folder, ext + ".control"), encoding="utf-8") as f:
        defaults = re.findall(r"^\s*default_version\s*=\s*'([^']+)'", f.read(), re.M)
    return installs, steps, defaults


GUARD = re.compile(r'^\\echo Use "(CREATE|ALTER) EXTENSION \S+[^"]*" to load this file\. \\quit\s*$')


def first_statement_line(path):
    with open(path, encoding="utf-8") as f:
        in_block = False
        for line in f:
            s = line.strip()
            if in_block:
                if "*/" in s:
                    in_block = False
                continue
            if not s or s.startswith("--"):
                continue
            if s.startswith("/*"):
                in_block = "*/" not in s
                continue
            return line.rstrip("\n")
    return ""


def c_symbols(path):
    """The C symbols a script names as (library, symbol), and how many library
    references it has: 'MODULE_PATHNAME' is jwt.so, '$libdir/NAME' is NAME.so
    (the fetcher, jwt_fetch.so, is a library of its own)."""
    with open(path, encoding="utf-8") as f:
        text = f.read()
    syms = [(lib or EXT, sym) for lib, sym in
            re.findall(r"'(?:MODULE_PATHNAME|\$libdir/(\w+))'\s*,\s*'(\w+)'", text)]
    return syms, len(re.findall(r"MODULE_PATHNAME|'\$libdir/\w+'", text))


def exported_symbols(lib):
    """What the installed library exports (T and W), or None when nm cannot read it."""
    nm = subprocess.run(["nm", "-D", "--defined-only", os.path.join(PKGLIBDIR, lib + ".so")],
                        capture_output=True, text=True)
    if nm.returncode != 0:
        return None
    return {parts[2] for parts in (line.split() for line in nm.stdout.splitlines())
            if len(parts) == 3 and parts[1] in "TW"}


def check_scripts():
    """Step 1 and the static half of step 2 on the repository's scripts.
    Returns (versions oldest first, steps) or None when they cannot be run."""
    installs, steps, defaults = discover(EXT, REPO)
    T.check("jwt.control has exactly one default_version", len(defaults) == 1, defaults)
    if len(defaults) != 1:
        return None
    default = defaults[0]
    r = subprocess.run(["make", "-s", "--no-print-directory", "-C", REPO,
                        "--eval", "print-extversion: ; @echo $(EXTVERSION)", "print-extversion"],
                       capture_output=True, text=True)
    T.check("the Makefile's EXTVERSION is jwt.control's default_version",
            r.stdout.strip() == default, f"{r.stdout.strip()!r} vs {default!r} {r.stderr.strip()}")
    versions = sorted(set(installs) | {v for s in steps for v in s}, key=vkey)
    T.check(f"the newest version is the default ({default})", versions and versions[-1] == default,
            versions)
    missing = [v for v in versions if v not in installs]
    T.check("every version has an install script", not missing, missing)
    gaps = [f"{a}--{b}" for a, b in zip(versions, versions[1:]) if (a, b) not in steps]
    T.check("every step between consecutive versions has an update script", not gaps, gaps)
    unordered = [f for (a, b), f in steps.items() if vkey(a) >= vkey(b)]
    T.check("every update script goes from an older to a newer version", not unordered, unordered)
    scripts = sorted(list(installs.values()) + list(steps.values()))
    for name in scripts:
        line = first_statement_line(os.path.join(REPO, name))
        T.check(f"{name} starts with the \\echo ... \\quit guard", GUARD.match(line) is not None, line)
    for name in scripts + [EXT + ".control"]:
        src, dst = os.path.join(REPO, name), os.path.join(SHAREDIR, name)
        same = os.path.exists(dst) and open(src, "rb").read() == open(dst, "rb").read()
        T.check(f"make install put {name} in {SHAREDIR}", same)
    libraries = sorted({lib for name in scripts for lib, _ in c_symbols(os.path.join(REPO, name))[0]} | {EXT})
    exported = {lib: exported_symbols(lib) for lib in libraries}
    for lib in libraries:
        T.check(f"nm reads the installed {lib}.so", bool(exported[lib]), lib)
    for name in scripts:
        syms, n = c_symbols(os.path.join(REPO, name))
        T.check(f"{name}: every library reference names its symbol", len(syms) == n, f"{len(syms)} of {n}")
        absent = sorted(f"{lib}.so:{sym}" for lib, sym in set(syms) if sym not in (exported[lib] or ()))
        T.check(f"{name}: the libraries export its {len(set(syms))} C symbols", not absent, absent)
        # each C function of PostgreSQL's version 1 convention has its info function
        absent = sorted(f"{lib}.so:{sym}" for lib, sym in set(syms)
                        if "pg_finfo_" + sym not in (exported[lib] or ()))
        T.check(f"{name}: every C symbol has its pg_finfo_ record", not absent, absent)
    return versions, steps


# ------------------------------------------------------------ databases

def fresh_db(admin, name):
    q(admin, f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
    q(admin, f"CREATE DATABASE {name}")
    return connect(name)


def setup(conn, ext):
    """What a user has made by the time an update comes: keys, a revocation,
    a table whose policy calls jwt_claim, a role that reads it."""
    q(conn, "SELECT jwt_add_key(%s, 'HS256', 'upgrade-hs', valid_from => '2020-01-01')", (SECRET,))
    q(conn, "SELECT jwt_add_key(jwt_generate_key('ES256')::text, 'ES256', 'upgrade-es', "
            "valid_from => '2020-01-02')")
    q(conn, "SELECT jwt_add_key(%s, 'HS256', 'upgrade-old', valid_from => '2020-01-01', "
            "valid_until => '2021-01-01')", (SECRET + "-old",))
    q(conn, "SELECT jwt_revoke('revoked-jti', 'infinity')")
    q(conn, "CREATE TABLE docs (id int PRIMARY KEY, owner text NOT NULL); "
            "INSERT INTO docs VALUES (1, 'alice'), (2, 'bob'), (3, 'alice'); "
            "ALTER TABLE docs ENABLE ROW LEVEL SECURITY; "
            "CREATE POLICY own_rows ON docs USING (owner = jwt_claim('sub')); "
            f"GRANT SELECT ON docs TO {READER}")


def registry_rows(conn):
    return q1(conn, "SELECT json_build_object("
                    "'keys', (SELECT json_agg(k ORDER BY kid) FROM jwt_keys k), "
                    "'revocations', (SELECT json_agg(r ORDER BY jti) FROM jwt_revocations r))::text")


def token(conn, claims):
    return q1(conn, "SELECT jwt_sign(%s::jsonb, %s, 'HS256', '{\"kid\":\"upgrade-hs\"}')",
              (json.dumps(claims), SECRET))


def survives(conn, label, rows_before):
    """After an update step: the data and the policy are as they were."""
    T.check(f"{label}: the registry's rows are unchanged", registry_rows(conn) == rows_before)
    exp = int(time.time()) + 3600
    q(conn, "SELECT set_config('jwt.token', %s, false)", (token(conn, {"sub": "alice", "exp": exp}),))
    q(conn, f"SET ROLE {READER}")
    got = sq1(conn, "SELECT array_agg(id ORDER BY id)::text FROM docs")
    q(conn, "RESET ROLE")
    T.check(f"{label}: the RLS policy on jwt_claim gives the reader its rows", got == "{1,3}", got)
    q(conn, "SELECT set_config('jwt.token', %s, false)",
      (token(conn, {"sub": "alice", "exp": exp, "jti": "revoked-jti"}),))
    st = sqlstate(conn, "SELECT jwt_claims()")
    T.check(f"{label}: the revoked jti is still refused", st == "28000", st)
    issued = sq1(conn, "SELECT jwt_issue(%s::jsonb)", (json.dumps({"sub": "bob", "exp": exp}),))
    q(conn, "SELECT set_config('jwt.token', %s, false)", (issued,))
    got = sq1(conn, "SELECT jwt_claims() ->> 'sub'")
    T.check(f"{label}: jwt_issue signs with the registry's ES256 key and the token verifies",
            got == "bob", got)
    q(conn, "RESET jwt.token")


def dump(db, binary_upgrade):
    args = [os.path.join(BINDIR, "pg_dump"), "--schema-only", "-d", db]
    if binary_upgrade:
        args.insert(2, "--binary-upgrade")
    r = subprocess.run(args, capture_output=True, text=True)
    if r.returncode != 0:
        return None, r.stderr
    lines = []
    for line in r.stdout.splitlines():
        if re.match(r"\\(un)?restrict ", line) or "binary_upgrade_set_next_" in line:
            continue
        # what differs between two databases however alike: OIDs, transaction ids
        if "create_empty_extension" in line:
            line = re.sub(r"'\{[0-9,]*\}'", "'{oids}'", line)
        line = re.sub(r"(relfrozenxid|relminmxid) = '\d+'", r"\1 = 'xid'", line)
        line = re.sub(r"^WHERE oid = '\d+';$", "WHERE oid = 'oid';", line)
        lines.append(line)
    return lines, ""


def same_dumps(label, db_a, db_b):
    ok = True
    for binary_upgrade in (False, True):
        kind = "pg_dump --schema-only" + (" --binary-upgrade" if binary_upgrade else "")
        a, err_a = dump(db_a, binary_upgrade)
        b, err_b = dump(db_b, binary_upgrade)
        if a is None or b is None:
            T.check(f"{label}: {kind} runs", False, err_a + err_b)
            ok = False
            continue
        diff = list(difflib.unified_diff(a, b, db_a, db_b, lineterm="", n=1))
        ok = T.check(f"{label}: {kind} equals a fresh install's", not diff,
                     "\n".join(diff[:40])) and ok
    return ok


def chain(admin, ext, versions, label, quiet=False):
    """Install the oldest, update step by step, compare with fresh installs.
    Returns whether every comparison found no difference."""
    oldest, newest = versions[0], versions[-1]
    fresh = {}
    for v in versions:
        db = f"{DB_PREFIX}{ext}_fresh_{re.sub(r'[^0-9a-z]', '_', v)}"
        c = fresh_db(admin, db)
        st = sqlstate(c, f"CREATE EXTENSION {ext} VERSION %s", (v,))
        installed = sq1(c, "SELECT extversion FROM pg_extension WHERE extname = %s", (ext,))
        if not quiet:
            T.check(f"{label}: version {v} installs fresh", st is None and installed == v,
                    f"{st} {installed}")
        if st is None:
            setup(c, ext)
        c.close()
        fresh[v] = db
    db = f"{DB_PREFIX}{ext}_chain"
    c = fresh_db(admin, db)
    q(c, f"CREATE EXTENSION {ext} VERSION %s", (oldest,))
    setup(c, ext)
    rows = registry_rows(c)
    all_same = True
    if len(versions) == 1:
        T.note(f"{label}: only one version ({oldest}): there is no older version to update "
               "from, so no update step ran; comparing a second fresh install with the first")
        all_same = same_dumps(f"{label}: {oldest} (no update)", db, fresh[oldest])
    for v in versions[1:]:
        st = sqlstate(c, f"ALTER EXTENSION {ext} UPDATE TO %s", (v,))
        installed = sq1(c, "SELECT extversion FROM pg_extension WHERE extname = %s", (ext,))
        if not quiet:
            T.check(f"{label}: ALTER EXTENSION {ext} UPDATE TO '{v}'", st is None and installed == v,
                    f"{st} {installed}")
        c.close()
        c = connect(db)          # a new session: no plan or function cache from before
        if quiet:
            all_same = same_dumps_quiet(db, fresh[v]) and all_same
        else:
            survives(c, f"{label}: after the update to {v}", rows)
            all_same = same_dumps(f"{label}: updated to {v}", db, fresh[v]) and all_same
    c.close()
    for d in list(fresh.values()) + [db]:
        q(admin, f"DROP DATABASE IF EXISTS {d} WITH (FORCE)")
    return all_same


def same_dumps_quiet(db_a, db_b):
    for binary_upgrade in (False, True):
        a, _ = dump(db_a, binary_upgrade)
        b, _ = dump(db_b, binary_upgrade)
        if a is None or b is None or a != b:
            return False
    return True


# ------------------------------------------------- self-test of the machinery

SELFTEST = "jwt_uptest"
SELFTEST_CHANGE = """
-- 0.1.1: a new function and a changed comment
CREATE FUNCTION jwt_uptest_added() RETURNS int LANGUAGE sql IMMUTABLE
SET search_path = pg_catalog, pg_temp AS 'SELECT 1';
COMMENT ON FUNCTION jwt_decode(text) IS 'changed in 0.1.1';
"""


def selftest(admin, newest):
    """jwt_uptest 0.1.0 is jwt's newest install script under another name."""
    base = os.path.join(REPO, f"{EXT}--{newest}.sql")
    files = {}
    with open(base, encoding="utf-8") as f:
        v0 = f.read().replace('CREATE EXTENSION jwt"', f'CREATE EXTENSION {SELFTEST}"')
    with open(os.path.join(REPO, EXT + ".control"), encoding="utf-8") as f:
        control = re.sub(r"default_version\s*=\s*'[^']*'", "default_version = '0.1.1'", f.read())
    files[f"{SELFTEST}.control"] = control
    files[f"{SELFTEST}--0.1.0.sql"] = v0
    files[f"{SELFTEST}--0.1.1.sql"] = v0 + SELFTEST_CHANGE
    files[f"{SELFTEST}--0.1.0--0.1.1.sql"] = (
        f'\\echo Use "ALTER EXTENSION {SELFTEST} UPDATE TO \'0.1.1\'" to load this file. \\quit\n'
        + SELFTEST_CHANGE)
    if not os.access(SHAREDIR, os.W_OK):
        T.note(f"self-test skipped: {SHAREDIR} is not writable (run as root)")
        return
    written = []
    try:
        for name, text in files.items():
            path = os.path.join(SHAREDIR, name)
            with open(path, "w", encoding="utf-8") as f:
                f.write(text)
            written.append(path)
        ok = chain(admin, SELFTEST, ["0.1.0", "0.1.1"], f"self-test {SELFTEST} 0.1.0 -> 0.1.1")
        T.check("self-test: a faithful update script passes every comparison", ok)
        # an update step that forgets the new function: the comparison must see it
        with open(os.path.join(SHAREDIR, f"{SELFTEST}--0.1.0--0.1.1.sql"), "w", encoding="utf-8") as f:
            f.write(files[f"{SELFTEST}--0.1.0--0.1.1.sql"].split("CREATE FUNCTION")[0]
                    + "COMMENT ON FUNCTION jwt_decode(text) IS 'changed in 0.1.1';\n")
        ok = chain(admin, SELFTEST, ["0.1.0", "0.1.1"], "self-test, broken update", quiet=True)
        T.check("self-test: an update script that forgets a function is caught by the comparison",
                not ok)
    finally:
        for path in written:
            os.unlink(path)


# ------------------------------------------------------------------- main

def main():
    found = check_scripts()
    try:
        admin = connect()
    except psycopg2.Error as e:
        T.cannot_run(f"cannot connect ({str(e).strip()}); run under pg_virtualenv -v 15")
    if not q1(admin, "SELECT rolsuper FROM pg_roles WHERE rolname = current_user"):
        T.cannot_run("the PG* user must be a superuser")
    q(admin, f"DROP ROLE IF EXISTS {READER}")
    q(admin, f"CREATE ROLE {READER} NOLOGIN")
    try:
        if found:
            versions, _ = found
            T.note(f"versions: {', '.join(versions)}; "
                   f"{len(versions) - 1} update step(s) from {versions[0]} to {versions[-1]}")
            chain(admin, EXT, versions, "jwt")
            selftest(admin, versions[-1])
    except Exception as e:     # a step the checks rely on failed: say which
        T.check("the suite runs to its end", False, f"{type(e).__name__}: {e}")
    finally:
        for (name,) in q(admin, "SELECT datname FROM pg_database WHERE datname LIKE %s",
                         (DB_PREFIX + "%",)):
            q(admin, f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        q(admin, f"DROP ROLE IF EXISTS {READER}")
        admin.close()
    T.finish()


if __name__ == "__main__":
    main()
