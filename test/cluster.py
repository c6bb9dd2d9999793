#!/usr/bin/python3
"""Cluster tests: session tokens are right wherever a statement runs.

Run inside a throwaway cluster, as root or as the cluster's owner:

    pg_virtualenv -t -v 15 /usr/bin/python3 test/cluster.py

It works in its own databases (jwt_cluster, jwt_dump_src, jwt_dump_dst) and
roles (jwt_cluster_reader, jwt_cluster_app), dropped again at the end, and
checks:

  1. parallel query: a 200,000-row table with an RLS policy on
     jwt_claim('sub'), and a WHERE on jwt_claim('sub'), give the rows the
     leader alone gives, under force_parallel_mode = regress and on
     (debug_parallel_query from 16 on) and in real parallel plans with the
     leader not participating; EXPLAIN shows the Gather, EXPLAIN ANALYZE that
     workers were launched; a bad token is refused from a worker too;
  2. hot standby: a streaming replica (pg_basebackup -R, started with pg_ctl
     as the cluster's owner) verifies tokens and applies the RLS policy while
     read-only; a key retired, a jti revoked and a key added on the primary
     take effect on the standby once replayed (the registry trigger's
     relcache invalidation travels in the WAL); a login's access token
     verifies there, jwt_refresh, jwt_logout and jwt_login fail with the
     read-only error (25006), and a login ended on the primary is refused
     there once replayed;
  3. pgbouncer, transaction pooling, two server connections: clients with
     different tokens interleave BEGIN; set_config('jwt.token', tok, true);
     SELECT ... FROM an RLS table; COMMIT and see only their own rows; a
     transaction without a token sees nothing; no server connection carries
     a token after a transaction;
  4. sessions: RESET ALL, DISCARD ALL and RESET jwt.token clear a session
     token; a token that expires mid-session is refused from the next
     statement; a key retired, a jti revoked or a key added in one session
     takes effect at another session's next statement, whether that
     statement starts a transaction or runs inside an open READ COMMITTED
     one; a verification writes nothing;
  5. pg_dump and pg_restore: registry rows (keys, a retired key,
     revocations) come back, tokens issued before the dump verify, the
     revoked jti and the retired key are still refused, the RLS policy works
     for an unprivileged role, and the restored signing key signs tokens the
     original database accepts.

Everything listens on 127.0.0.1 or on a Unix socket in a private temporary
directory; the standby, pgbouncer and their directories are removed in
finally blocks.  It ends with "cluster: N passed, N failed" and exits 1 on
any failure, or when it cannot run at all (then without a summary line).
"""

import inspect
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))   # test/, for suite.py
import suite                                                     # noqa: E402

SUITE = "cluster"
T = suite.Suite(SUITE, reexec_guard="JWT_CLUSTER_REEXEC")
cannot_run = T.cannot_run
note = T.note

DB = "jwt_cluster"
DUMP_SRC = "jwt_dump_src"
DUMP_DST = "jwt_dump_dst"
READER = "jwt_cluster_reader"       # NOLOGIN, reached by SET ROLE: RLS applies
APP = "jwt_cluster_app"             # LOGIN, the pooler's user: RLS applies
APP_PASSWORD = "jwt-cluster-app-pw"
STATEMENT_TIMEOUT_MS = 20000
SUBS = ["user%d" % i for i in range(8)]
PAR_ROWS = 200000


try:
    import psycopg2
except ImportError as e:
    T.reexec_or_cannot_run(e, "Debian's python3-psycopg2")


# ---------------------------------------------------------------- checks

def section(title, fn):
    """Run one numbered item; an exception inside it is one more failure."""
    print(f"== {title}", flush=True)
    start = time.monotonic()
    before = (T.passed, T.failed)
    try:
        fn()
    except Exception as e:          # noqa: BLE001: report, go on with the next item
        T.check(f"{title}: runs to the end", False, f"{type(e).__name__}: {e}")
    note(f"{title}: done in {time.monotonic() - start:.1f} s "
         f"({T.passed - before[0]} checks passed, {T.failed - before[1]} failed)")


# ---------------------------------------------------------------- connections

def connect(dbname=DB, autocommit=True, **kw):
    """A connection from the environment pg_virtualenv set (or kw)."""
    params = {"dbname": dbname, "connect_timeout": 10,
              "options": f"-c statement_timeout={STATEMENT_TIMEOUT_MS}"}
    params.update(kw)
    conn = psycopg2.connect(**params)
    conn.autocommit = autocommit
    return conn


def q1(conn, sql, args=None):
    """The first column of the first row."""
    with conn.cursor() as cur:
        cur.execute(sql, args)
        row = cur.fetchone()
    return row[0] if row is not None else None


def qrow(conn, sql, args=None):
    with conn.cursor() as cur:
        cur.execute(sql, args)
        return cur.fetchone()


def qall(conn, sql, args=None):
    with conn.cursor() as cur:
        cur.execute(sql, args)
        return cur.fetchall()


def run(conn, sql, args=None):
    with conn.cursor() as cur:
        cur.execute(sql, args)


def sql_error(conn, sql, args=None):
    """The psycopg2 error a statement raises, or None when it succeeds."""
    try:
        with conn.cursor() as cur:
            cur.execute(sql, args)
            if cur.description is not None:
                cur.fetchall()
    except psycopg2.Error as e:
        if not conn.autocommit:
            conn.rollback()
        return e
    return None


def err_text(e):
    if e is None:
        return "no error"
    diag = e.diag
    return f"{e.pgcode} {diag.message_primary} ({diag.message_detail})"


def is_refusal(e, word=None):
    """A 28000 'invalid token' whose detail names word (when given)."""
    if e is None or e.pgcode != "28000":
        return False
    return word is None or word in (e.diag.message_detail or "").lower()


def close_quietly(*conns):
    for c in conns:
        try:
            if c is not None:
                c.close()
        except Exception:       # noqa: BLE001
            pass


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# ---------------------------------------------------------------- the cluster

class Cluster:
    """What the suite learns about the throwaway cluster once."""

    def __init__(self, admin):
        self.version_num = int(q1(admin, "SHOW server_version_num"))
        self.major = self.version_num // 10000
        if not q1(admin, "SELECT rolsuper FROM pg_roles WHERE rolname = current_user"):
            cannot_run("the suite needs a superuser connection (pg_virtualenv gives one)")
        self.user = q1(admin, "SELECT current_user")
        self.port = int(q1(admin, "SHOW port"))
        self.data_directory = q1(admin, "SHOW data_directory")
        self.hba_file = q1(admin, "SHOW hba_file")
        st = os.stat(self.data_directory)
        self.owner_uid, self.owner_gid = st.st_uid, st.st_gid
        self.bindir = self._bindir()

    def _bindir(self):
        d = f"/usr/lib/postgresql/{self.major}/bin"
        if "PG_CONFIG" not in os.environ and os.path.exists(os.path.join(d, "pg_ctl")):
            return d
        out = subprocess.run([os.environ.get("PG_CONFIG", "pg_config"), "--bindir"],
                             capture_output=True, text=True, check=True, timeout=10)
        return out.stdout.strip()

    def tool(self, name):
        return os.path.join(self.bindir, name)

    def as_owner(self):
        """Popen/run keywords that run a child as the cluster's owner."""
        if os.geteuid() == 0 and self.owner_uid != 0:
            return {"user": self.owner_uid, "group": self.owner_gid, "extra_groups": []}
        if os.geteuid() != self.owner_uid:
            raise RuntimeError("run as root or as the cluster's owner")
        return {}

    def owned_tempdir(self, prefix):
        d = tempfile.mkdtemp(prefix=prefix)
        if os.geteuid() == 0:
            os.chown(d, self.owner_uid, self.owner_gid)
        os.chmod(d, 0o755)
        return d

    def run_as_owner(self, args, timeout, cwd, env=None):
        return subprocess.run(args, capture_output=True, text=True, timeout=timeout,
                              cwd=cwd, env=env, **self.as_owner())


CL = None


def token(conn, claims, kid=None):
    """A token jwt_issue signs.  It fills iat and jti where the claims lack
    them: the claims get them here, so that a check compares the claims it
    made with those the token carries."""
    claims.setdefault("iat", int(time.time()))
    claims.setdefault("jti", "cluster-" + os.urandom(9).hex())
    return q1(conn, "SELECT jwt_issue(%s::jsonb, %s)", (json.dumps(claims), kid))


def in_an_hour():
    return int(time.time()) + 3600


def reset_objects(admin):
    for db in (DB, DUMP_SRC, DUMP_DST):
        run(admin, f"DROP DATABASE IF EXISTS {db} WITH (FORCE)")
    for role in (READER, APP):
        run(admin, f"DROP ROLE IF EXISTS {role}")


def setup(admin):
    reset_objects(admin)
    run(admin, f"CREATE ROLE {READER} NOLOGIN")
    run(admin, f"CREATE ROLE {APP} LOGIN PASSWORD %s", (APP_PASSWORD,))
    run(admin, f"CREATE DATABASE {DB}")
    c = connect()
    try:
        run(c, "CREATE EXTENSION jwt")
        run(c, "SELECT jwt_add_key(%s, 'HS256', 'k-main')", ("cluster-main-secret-" + "m" * 32,))
        run(c, """
            CREATE TABLE par_docs (id int PRIMARY KEY, owner text NOT NULL, body text);
            INSERT INTO par_docs
                SELECT i, 'user' || (i %% 8), md5(i::text) FROM generate_series(1, %s) i;
            ALTER TABLE par_docs ENABLE ROW LEVEL SECURITY;
            CREATE POLICY by_sub ON par_docs USING (owner = jwt_claim('sub'));
            CREATE TABLE pool_docs (id int PRIMARY KEY, owner text NOT NULL);
            INSERT INTO pool_docs SELECT i, 'user' || (i %% 8) FROM generate_series(1, 64) i;
            ALTER TABLE pool_docs ENABLE ROW LEVEL SECURITY;
            CREATE POLICY by_sub ON pool_docs USING (owner = jwt_claim('sub'));
            GRANT SELECT ON par_docs, pool_docs TO %s, %s;
            ANALYZE par_docs, pool_docs;
        """ % (PAR_ROWS, READER, APP))
    finally:
        c.close()


# ---------------------------------------------------------------- 1. parallel

def item_parallel():
    c = connect()
    try:
        force_guc = "debug_parallel_query" if CL.version_num >= 160000 else "force_parallel_mode"
        subs = {s: token(c, {"sub": s, "exp": in_an_hour()}, "k-main") for s in ("user3", "user5")}
        expected = {s: (PAR_ROWS // 8, sum(i for i in range(1, PAR_ROWS + 1) if i % 8 == int(s[4:])))
                    for s in subs}

        modes = {
            "leader alone": ["SET max_parallel_workers_per_gather = 0", f"SET {force_guc} = off"],
            f"{force_guc} = regress": [f"SET {force_guc} = regress"],
            f"{force_guc} = on": [f"SET {force_guc} = on"],
            "parallel plan": ["SET parallel_setup_cost = 0", "SET parallel_tuple_cost = 0",
                              "SET min_parallel_table_scan_size = 0",
                              "SET max_parallel_workers_per_gather = 2",
                              "SET parallel_leader_participation = off"],
        }
        queries = {
            "RLS policy": (True, "SELECT count(*), sum(id), min(owner), max(owner) FROM par_docs"),
            "WHERE jwt_claim": (False, "SELECT count(*), sum(id), min(owner), max(owner) "
                                       "FROM par_docs WHERE owner = jwt_claim('sub')"),
        }

        def in_mode(mode):
            run(c, "RESET ALL")
            run(c, "RESET ROLE")        # RESET ALL leaves the role alone
            for s in modes[mode]:
                run(c, s)

        for qname, (as_reader, sql) in queries.items():
            for sub, tok in list(subs.items()) + [(None, None)]:
                answers = {}
                for mode in modes:
                    in_mode(mode)
                    if as_reader:
                        run(c, f"SET ROLE {READER}")
                    if tok is not None:
                        run(c, "SET jwt.token = %s", (tok,))
                    answers[mode] = qrow(c, sql)
                    if mode in (f"{force_guc} = on", "parallel plan"):
                        plan = "\n".join(r[0] for r in qall(c, "EXPLAIN (COSTS OFF) " + sql))
                        T.check(f"parallel: {qname}, {sub or 'no token'}, {mode}: EXPLAIN shows a Gather",
                                "Gather" in plan, plan)
                        if mode == "parallel plan":
                            T.check(f"parallel: {qname}, {sub or 'no token'}, {mode}: a parallel scan",
                                    "Parallel Seq Scan" in plan, plan)
                        plan = "\n".join(r[0] for r in qall(
                            c, "EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF, SUMMARY OFF) " + sql))
                        m = re.search(r"Workers Launched: (\d+)", plan)
                        T.check(f"parallel: {qname}, {sub or 'no token'}, {mode}: workers launched",
                                m is not None and int(m.group(1)) > 0, plan)
                leader = answers["leader alone"]
                want = ((expected[sub][0], expected[sub][1], sub, sub) if sub
                        else (0, None, None, None))
                T.check(f"parallel: {qname}, {sub or 'no token'}: the leader alone gives the right rows",
                        tuple(leader) == want, f"{leader} != {want}")
                for mode, got in answers.items():
                    if mode != "leader alone":
                        T.check(f"parallel: {qname}, {sub or 'no token'}, {mode}: same rows as the leader alone",
                                got == leader, f"{got} != {leader}")

        # jwt_claims() itself, computed in a worker, against the leader
        in_mode("leader alone")
        run(c, "SET jwt.token = %s", (subs["user3"],))
        leader = q1(c, "SELECT jwt_claims()")
        in_mode(f"{force_guc} = regress")
        run(c, "SET jwt.token = %s", (subs["user3"],))
        T.check(f"parallel: jwt_claims() under {force_guc} = regress equals the leader's",
                q1(c, "SELECT jwt_claims()") == leader and leader is not None and leader.get("sub") == "user3",
                leader)

        # a bad token is refused inside workers, with its SQLSTATE
        bad = subs["user3"][:-2] + ("AA" if not subs["user3"].endswith("AA") else "BA")
        for mode in (f"{force_guc} = regress", "parallel plan"):
            in_mode(mode)
            run(c, f"SET ROLE {READER}")
            run(c, "SET jwt.token = %s", (bad,))
            e = sql_error(c, queries["RLS policy"][1])
            T.check(f"parallel: a token with a bad signature is refused under {mode} (28000)",
                    is_refusal(e), err_text(e))
        in_mode("parallel plan")
        run(c, f"SET ROLE {READER}")
        expired = q1(c, "SELECT jwt_sign(%s::jsonb, %s, 'HS256', '{\"kid\":\"k-main\"}')",
                     (json.dumps({"sub": "user3", "exp": int(time.time()) - 10}),
                      "cluster-main-secret-" + "m" * 32))
        run(c, "SET jwt.token = %s", (expired,))
        e = sql_error(c, queries["RLS policy"][1])
        T.check("parallel: an expired token is refused in a parallel plan (28000 expired)",
                is_refusal(e, "expired"), err_text(e))
    finally:
        c.close()


# ---------------------------------------------------------------- 2. hot standby

def hba_allows_local_replication(admin):
    rows = qall(admin, """
        SELECT count(*) FROM pg_hba_file_rules
        WHERE type = 'host' AND 'replication' = ANY(database)
          AND (address IN ('127.0.0.1', 'all', 'samehost', 'samenet'))
          AND auth_method <> 'reject' AND error IS NULL""")
    return rows[0][0] > 0


def wait_replayed(primary, standby, what, timeout=15.0):
    lsn = q1(primary, "SELECT pg_current_wal_flush_lsn()")
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if q1(standby, "SELECT pg_last_wal_replay_lsn() >= %s::pg_lsn", (lsn,)):
            return True
        time.sleep(0.05)
    T.check(f"standby: replays {what} within {timeout:.0f} s", False, f"primary at {lsn}")
    return False


def wait_reloaded(before, what, timeout=10.0):
    """Wait until the postmaster has reloaded its configuration: a new
    backend, forked from it, then reports a later pg_conf_load_time()."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        probe = connect("postgres")
        try:
            if q1(probe, "SELECT pg_conf_load_time() > %s", (before,)):
                return True
        finally:
            probe.close()
        time.sleep(0.02)
    T.check(f"the server reloads its configuration ({what}) within {timeout:.0f} s", False)
    return False


def item_standby():
    admin = connect("postgres")
    tmp = None
    data = None
    started = False
    hba_saved = None
    conns = []
    try:
        if not hba_allows_local_replication(admin):
            with open(CL.hba_file) as f:
                hba_saved = f.read()
            with open(CL.hba_file, "a") as f:
                f.write(f"\nhost replication {CL.user} 127.0.0.1/32 scram-sha-256\n")
            loaded = q1(admin, "SELECT pg_conf_load_time()")
            q1(admin, "SELECT pg_reload_conf()")
            note("standby: added a replication entry for 127.0.0.1 to pg_hba.conf")
            wait_reloaded(loaded, "the replication entry")

        tmp = CL.owned_tempdir("jwt-standby.")
        data = os.path.join(tmp, "data")
        env = dict(os.environ, HOME=tmp)
        r = CL.run_as_owner([CL.tool("pg_basebackup"), "-D", data, "-R", "-X", "stream",
                             "-c", "fast", "-h", "127.0.0.1", "-p", str(CL.port),
                             "-U", CL.user, "-w"], timeout=60, cwd=tmp, env=env)
        if not T.check("standby: pg_basebackup -R of the primary", r.returncode == 0,
                       r.stderr.strip()[-500:]):
            return
        port = free_port()
        limits = {g: q1(admin, f"SHOW {g}") for g in
                  ("max_connections", "max_worker_processes", "max_wal_senders",
                   "max_prepared_transactions", "max_locks_per_transaction")}
        conf = [f"port = {port}", "listen_addresses = ''",
                f"unix_socket_directories = '{tmp}'", "hot_standby = on",
                "shared_buffers = 16MB", "fsync = off", "logging_collector = off",
                "hot_standby_feedback = off", "wal_receiver_status_interval = 1s"]
        conf += [f"{g} = {v}" for g, v in limits.items()]
        preload = q1(admin, "SHOW shared_preload_libraries")
        if preload:
            conf.append(f"shared_preload_libraries = '{preload}'")
        with open(os.path.join(data, "postgresql.conf"), "a") as f:
            f.write("\n".join(conf) + "\n")
        with open(os.path.join(data, "pg_hba.conf"), "w") as f:
            f.write("local all all trust\n")
        with open(os.path.join(data, "pg_ident.conf"), "w") as f:
            f.write("")
        if os.geteuid() == 0:
            for name in ("postgresql.conf", "pg_hba.conf", "pg_ident.conf"):
                os.chown(os.path.join(data, name), CL.owner_uid, CL.owner_gid)
        log = os.path.join(tmp, "standby.log")
        r = CL.run_as_owner([CL.tool("pg_ctl"), "-D", data, "-l", log, "-w", "-t", "30", "start"],
                            timeout=45, cwd=tmp, env=env)
        started = True      # even a failed start may leave a postmaster behind
        if not T.check("standby: pg_ctl start, hot_standby = on", r.returncode == 0,
                       (r.stdout + r.stderr).strip()[-300:] + " " + tail(log)):
            return

        def standby_conn():
            c = connect(DB, host=tmp, port=port, user=CL.user)
            conns.append(c)
            return c

        primary = connect()
        conns.append(primary)
        s1 = standby_conn()
        T.check("standby: is in recovery (read-only)", q1(s1, "SELECT pg_is_in_recovery()") is True)
        wait_replayed(primary, s1, "the primary's WAL")

        secret = {k: f"standby-{k}-secret-" + "s" * 32 for k in ("ks-retire", "ks-stay", "ks-new")}
        run(primary, "SELECT jwt_add_key(%s, 'HS256', 'ks-retire')", (secret["ks-retire"],))
        run(primary, "SELECT jwt_add_key(%s, 'HS256', 'ks-stay')", (secret["ks-stay"],))
        exp = in_an_hour()
        claims_a = {"sub": "user1", "exp": exp, "jti": "standby-a", "role": "reader"}
        tok_a = token(primary, claims_a, "ks-retire")
        claims_b = {"sub": "user2", "exp": exp, "jti": "standby-b"}
        tok_b = token(primary, claims_b, "ks-stay")
        tok_n = q1(primary, "SELECT jwt_sign(%s::jsonb, %s, 'HS256', '{\"kid\":\"ks-new\"}')",
                   (json.dumps({"sub": "user4", "exp": exp}), secret["ks-new"]))
        wait_replayed(primary, s1, "the new keys")

        # verifying on a read-only server: it writes nothing
        run(s1, "SET jwt.token = %s", (tok_a,))
        got = q1(s1, "SELECT jwt_claims()")
        T.check("standby: SET jwt.token, jwt_claims() returns the claims", got == claims_a, got)
        T.check("standby: jwt_claim('sub')", q1(s1, "SELECT jwt_claim('sub')") == "user1")
        run(s1, f"SET ROLE {READER}")
        row = qrow(s1, "SELECT count(*), min(owner), max(owner) FROM par_docs")
        T.check("standby: the RLS policy gives the token's rows",
                tuple(row) == (PAR_ROWS // 8, "user1", "user1"), row)
        run(s1, "RESET ROLE")

        s2 = standby_conn()
        run(s2, "SET jwt.token = %s", (tok_b,))
        T.check("standby: a second session verifies its own token",
                q1(s2, "SELECT jwt_claims()") == claims_b)
        s3 = standby_conn()
        run(s3, "SET jwt.token = %s", (tok_n,))
        e = sql_error(s3, "SELECT jwt_claims()")
        T.check("standby: a token of a key not yet in the registry is refused",
                is_refusal(e), err_text(e))

        # retire on the primary: refused on the standby after replay
        run(primary, "SELECT jwt_retire_key('ks-retire')")
        if wait_replayed(primary, s1, "jwt_retire_key"):
            e = sql_error(s1, "SELECT jwt_claims()")
            T.check("standby: a key retired on the primary is refused after replay (cached session)",
                    is_refusal(e), err_text(e))
            s4 = standby_conn()
            run(s4, "SET jwt.token = %s", (tok_a,))
            e = sql_error(s4, "SELECT jwt_claims()")
            T.check("standby: a key retired on the primary is refused in a new session",
                    is_refusal(e), err_text(e))
            T.check("standby: the other key still verifies after the retirement",
                    q1(s2, "SELECT jwt_claims()") == claims_b)

        # revoke on the primary: refused on the standby after replay
        run(primary, "SELECT jwt_revoke('standby-b', to_timestamp(%s))", (exp,))
        if wait_replayed(primary, s2, "jwt_revoke"):
            e = sql_error(s2, "SELECT jwt_claims()")
            T.check("standby: a jti revoked on the primary is refused after replay",
                    is_refusal(e, "revoked"), err_text(e))

        # a key added on the primary: accepted on the standby after replay
        run(primary, "SELECT jwt_add_key(%s, 'HS256', 'ks-new')", (secret["ks-new"],))
        if wait_replayed(primary, s3, "jwt_add_key"):
            got = sql_error(s3, "SELECT jwt_claims()")
            T.check("standby: a key added on the primary verifies after replay", got is None,
                    err_text(got))
            T.check("standby: ... with its claims", q1(s3, "SELECT jwt_claim('sub')") == "user4")

        # [lifecycle] logins: a login's access token verifies on the standby;
        # a refresh, a logout or a login there is PostgreSQL's read-only
        # error; a login ended on the primary is refused there once replayed
        login = q1(primary, "SELECT jwt_login('{\"sub\": \"user5\", \"role\": \"reader\"}', 'ks-stay')")
        if wait_replayed(primary, s1, "jwt_login"):
            s5 = standby_conn()
            run(s5, "SET jwt.token = %s", (login["access_token"],))
            T.check("standby: a login's access token verifies (jwt_claim)",
                    sql_error(s5, "SELECT jwt_claim('sub')") is None
                    and q1(s5, "SELECT jwt_claim('sub') || ' ' || jwt_claim('sid')") ==
                    f"user5 {login['sid']}")
            for what, sql, args in (
                    ("jwt_refresh", "SELECT jwt_refresh(%s)", (login["refresh_token"],)),
                    ("jwt_logout(refresh_token)", "SELECT jwt_logout(%s)", (login["refresh_token"],)),
                    ("jwt_logout()", "SELECT jwt_logout()", None),
                    ("jwt_login", "SELECT jwt_login('{\"sub\": \"user6\"}', 'ks-stay')", None)):
                e = sql_error(s1, sql, args) if what != "jwt_logout()" else sql_error(s5, sql, args)
                T.check(f"standby: {what} fails with PostgreSQL's read-only error (25006)",
                        e is not None and e.pgcode == "25006", err_text(e))
            T.check("standby: ... and the session token still verifies after them",
                    sql_error(s5, "SELECT jwt_claim('sub')") is None)
            # the refresh token is untouched: it still rotates on the primary
            rotated = q1(primary, "SELECT jwt_refresh(%s)", (login["refresh_token"],))
            T.check("standby: the refresh token the standby refused rotates on the primary",
                    isinstance(rotated, dict) and rotated.get("sid") == login["sid"]
                    and "refresh_token" in rotated, rotated)
            T.check("standby: the primary's logout ends the login",
                    q1(primary, "SELECT jwt_logout(%s)", (rotated["refresh_token"],)) is True)
            if wait_replayed(primary, s5, "jwt_logout"):
                e = sql_error(s5, "SELECT jwt_claim('sub')")
                T.check("standby: the ended login's access token is refused after replay (cached session)",
                        is_refusal(e, "revoked"), err_text(e))
                s6 = standby_conn()
                run(s6, "SET jwt.token = %s", (login["access_token"],))
                e = sql_error(s6, "SELECT jwt_claims()")
                T.check("standby: ... and in a new session",
                        is_refusal(e, "revoked"), err_text(e))
    finally:
        close_quietly(*conns)
        if started:
            try:
                CL.run_as_owner([CL.tool("pg_ctl"), "-D", data, "-m", "immediate", "-w",
                                 "-t", "30", "stop"], timeout=45, cwd=tmp,
                                env=dict(os.environ, HOME=tmp))
            except Exception as e:      # noqa: BLE001
                T.check("standby: pg_ctl stop", False, e)
        if tmp is not None:
            if started and os.path.exists(os.path.join(data, "postmaster.pid")):
                T.check("standby: stopped (no postmaster.pid left)", False)
            shutil.rmtree(tmp, ignore_errors=True)
        if hba_saved is not None:
            with open(CL.hba_file, "w") as f:
                f.write(hba_saved)
            try:
                q1(admin, "SELECT pg_reload_conf()")
            except psycopg2.Error:
                pass
        admin.close()


def tail(path, n=600):
    try:
        with open(path) as f:
            return f.read()[-n:]
    except OSError:
        return ""


# ---------------------------------------------------------------- 3. pgbouncer

def item_pgbouncer():
    exe = shutil.which("pgbouncer") or "/usr/sbin/pgbouncer"
    if not os.path.exists(exe):
        if os.environ.get("PG_CONFIG"):     # another PostgreSQL, maybe not on Debian: say so
            n = inspect.getsource(item_pgbouncer).count("T.check(") - 1
            print(f"cluster-pgbouncer: skipped ({n} checks): pgbouncer is not installed", flush=True)
            return
        T.check("pgbouncer: installed (tools/install-deps --test installs Debian's pgbouncer)", False)
        return
    tmp = CL.owned_tempdir("jwt-pgbouncer.")
    proc = None
    conns = []
    try:
        port = free_port()
        ini = os.path.join(tmp, "pgbouncer.ini")
        userlist = os.path.join(tmp, "userlist.txt")
        with open(userlist, "w") as f:
            f.write(f'"{APP}" "{APP_PASSWORD}"\n')
        with open(ini, "w") as f:
            f.write(f"""[databases]
{DB} = host=127.0.0.1 port={CL.port} dbname={DB}

[pgbouncer]
listen_addr = 127.0.0.1
listen_port = {port}
unix_socket_dir =
auth_type = scram-sha-256
auth_file = {userlist}
pool_mode = transaction
default_pool_size = 2
min_pool_size = 0
reserve_pool_size = 0
max_db_connections = 2
max_client_conn = 50
query_wait_timeout = 20
logfile = {os.path.join(tmp, "pgbouncer.log")}
pidfile = {os.path.join(tmp, "pgbouncer.pid")}
ignore_startup_parameters = extra_float_digits
""")
        if os.geteuid() == 0:
            for p in (ini, userlist):
                os.chown(p, CL.owner_uid, CL.owner_gid)
            os.chmod(userlist, 0o600)
        proc = subprocess.Popen([exe, ini], cwd=tmp, stdout=subprocess.DEVNULL,
                                stderr=subprocess.PIPE, **CL.as_owner())
        deadline = time.monotonic() + 10
        up = False
        while time.monotonic() < deadline and proc.poll() is None:
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                    up = True
                    break
            except OSError:
                time.sleep(0.05)
        if not T.check("pgbouncer: starts (pool_mode = transaction, default_pool_size = 2)", up,
                       tail(os.path.join(tmp, "pgbouncer.log"))):
            return

        def client():
            c = psycopg2.connect(host="127.0.0.1", port=port, dbname=DB, user=APP,
                                 password=APP_PASSWORD, connect_timeout=10)
            c.autocommit = True
            conns.append(c)
            return c

        owner = connect()
        conns.append(owner)
        clients = ["user%d" % i for i in range(1, 6)]
        tokens = {s: token(owner, {"sub": s, "exp": in_an_hour()}, "k-main") for s in clients}
        expected_ids = {s: [i for i in range(1, 65) if i % 8 == int(s[4:])] for s in clients}
        rounds = 12
        results = {}
        barrier = threading.Barrier(len(clients) + 2, timeout=15)   # clients, the tokenless one, main

        def tokened(sub):
            out = {"bad": [], "pids": set(), "done": 0, "error": None}
            results[sub] = out
            try:
                c = client()
                barrier.wait()
                for n in range(rounds):
                    with c.cursor() as cur:
                        cur.execute("BEGIN")
                        cur.execute("SELECT set_config('jwt.token', %s, true)", (tokens[sub],))
                        cur.execute("SELECT pg_sleep(0.003)")
                        cur.execute("SELECT coalesce(array_agg(id ORDER BY id), '{}'), "
                                    "coalesce(array_agg(DISTINCT owner), '{}'), "
                                    "pg_backend_pid(), jwt_claim('sub') FROM pool_docs")
                        ids, owners, pid, claim = cur.fetchone()
                        cur.execute("COMMIT")
                    out["pids"].add(pid)
                    if ids != expected_ids[sub] or owners != [sub] or claim != sub:
                        out["bad"].append((n, ids, owners, claim))
                    out["done"] += 1
            except Exception as e:      # noqa: BLE001
                out["error"] = f"{type(e).__name__}: {e}"

        def tokenless():
            out = {"bad": [], "pids": set(), "done": 0, "error": None}
            results[None] = out
            try:
                c = client()
                barrier.wait()
                for n in range(rounds * 2):
                    with c.cursor() as cur:
                        cur.execute("BEGIN")
                        cur.execute("SELECT count(*), current_setting('jwt.token', true), "
                                    "jwt_claims() IS NULL, pg_backend_pid() FROM pool_docs")
                        count, setting, null_claims, pid = cur.fetchone()
                        cur.execute("COMMIT")
                    out["pids"].add(pid)
                    if count != 0 or setting != "" or not null_claims:
                        out["bad"].append((n, count, setting, null_claims))
                    out["done"] += 1
                    time.sleep(0.002)
            except Exception as e:      # noqa: BLE001
                out["error"] = f"{type(e).__name__}: {e}"

        threads = [threading.Thread(target=tokened, args=(s,), daemon=True) for s in clients]
        threads.append(threading.Thread(target=tokenless, daemon=True))
        for t in threads:
            t.start()
        try:
            barrier.wait()
        except threading.BrokenBarrierError:
            pass
        for t in threads:
            t.join(timeout=30)
        T.check("pgbouncer: every client finished in time", not any(t.is_alive() for t in threads))

        all_pids = set()
        for sub in clients + [None]:
            r = results.get(sub, {"error": "did not start"})
            who = sub or "the client without a token"
            if r.get("error"):
                T.check(f"pgbouncer: {who} ran its transactions", False, r["error"])
                continue
            all_pids |= r["pids"]
            n = rounds * (2 if sub is None else 1)
            T.check(f"pgbouncer: {who} ran {n} transactions", r["done"] == n, r["done"])
            if sub is None:
                T.check("pgbouncer: a transaction without a token sees no row, no token, NULL claims",
                        not r["bad"], r["bad"][:3])
            else:
                T.check(f"pgbouncer: {sub} sees exactly its own rows in every transaction",
                        not r["bad"], r["bad"][:3])
        note(f"pgbouncer: {len(clients)} clients with tokens and 1 without ran "
             f"{sum(r.get('done', 0) for r in results.values())} transactions on "
             f"{len(all_pids)} server connections")
        T.check("pgbouncer: the clients shared at most 2 server connections",
                0 < len(all_pids) <= 2, all_pids)
        shared = [p for p in all_pids
                  if sum(1 for r in results.values() if p in r.get("pids", ())) > 1]
        T.check("pgbouncer: several clients ran on the same server connection", bool(shared),
                {k: v.get("pids") for k, v in results.items()})

        # afterwards: hold both server connections at once, each must carry no token
        seen = {}
        errs = []
        both = threading.Barrier(2, timeout=10)

        def probe(i):
            try:
                c = client()
                both.wait()
                with c.cursor() as cur:
                    cur.execute("BEGIN")
                    cur.execute("SELECT pg_backend_pid(), current_setting('jwt.token', true), "
                                "jwt_claims() IS NULL, (SELECT count(*) FROM pool_docs)")
                    seen[i] = cur.fetchone()
                    both.wait()     # both transactions open at once: two server connections
                    cur.execute("COMMIT")
            except Exception as e:      # noqa: BLE001
                errs.append(f"{type(e).__name__}: {e}")

        probes = [threading.Thread(target=probe, args=(i,), daemon=True) for i in range(2)]
        for t in probes:
            t.start()
        for t in probes:
            t.join(timeout=15)
        T.check("pgbouncer: two concurrent probes ran", len(seen) == 2 and not errs, errs or seen)
        T.check("pgbouncer: after the clients' transactions no server connection carries a token",
                len(seen) == 2 and all(v[1] == "" and v[2] and v[3] == 0 for v in seen.values()),
                seen)
        probe_pids = {v[0] for v in seen.values()}
        T.check("pgbouncer: the probes held both server connections the clients had used",
                len(probe_pids) == 2 and probe_pids <= all_pids, (probe_pids, all_pids))
    finally:
        close_quietly(*conns)
        if proc is not None:
            if proc.poll() is None:
                proc.terminate()
                try:
                    proc.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait(timeout=10)
        shutil.rmtree(tmp, ignore_errors=True)


# ---------------------------------------------------------------- 4. sessions

def item_sessions():
    a = connect()
    b = connect()
    try:
        exp = in_an_hour()
        claims = {"sub": "user6", "exp": exp}
        tok = token(a, claims, "k-main")

        for how in ("RESET ALL", "DISCARD ALL", "RESET jwt.token"):
            run(b, "SET jwt.token = %s", (tok,))
            before = q1(b, "SELECT jwt_claims()")
            run(b, how)
            row = qrow(b, "SELECT jwt_claims(), jwt_claim('sub'), current_setting('jwt.token')")
            T.check(f"sessions: {how} clears a session token (jwt_claims() NULL after it)",
                    before == claims and tuple(row) == (None, None, ""), (before, row))
        # the same after the claims were read in a prepared statement's call site
        run(b, "PREPARE p AS SELECT jwt_claims()")
        run(b, "SET jwt.token = %s", (tok,))
        first = q1(b, "EXECUTE p")
        run(b, "RESET ALL")
        T.check("sessions: a prepared statement's call site sees the RESET ALL",
                first == claims and q1(b, "EXECUTE p") is None)
        run(b, "DEALLOCATE p")

        # a verification writes nothing
        b.autocommit = False
        run(b, "SET LOCAL jwt.token = %s", (tok,))
        q1(b, "SELECT count(*) FROM par_docs WHERE owner = jwt_claim('sub')")
        T.check("sessions: a verification assigns no transaction id (writes nothing)",
                q1(b, "SELECT pg_current_xact_id_if_assigned()") is None)
        b.rollback()
        b.autocommit = True

        # expiry in the middle of a session
        short = q1(a, "SELECT jwt_sign(%s::jsonb, %s, 'HS256', '{\"kid\":\"k-main\"}')",
                   (json.dumps({"sub": "user6", "exp": int(time.time()) + 2}),
                    "cluster-main-secret-" + "m" * 32))
        run(b, "SET jwt.token = %s", (short,))
        T.check("sessions: a token with exp = now + 2 s verifies",
                q1(b, "SELECT jwt_claim('sub')") == "user6")
        b.autocommit = False        # an open transaction across the expiry, too
        c = connect()
        run(c, "SET jwt.token = %s", (short,))
        q1(c, "SELECT jwt_claims()")
        run(b, "SELECT jwt_claims()")
        # wait until the server's clock has passed exp (b's open transaction
        # must not move: a's statements read the clock)
        deadline = time.monotonic() + 10
        while not q1(a, "SELECT statement_timestamp() > to_timestamp(%s)",
                     (json.loads(suite.b64u_decode(short.split(".")[1]))["exp"],)):
            if time.monotonic() > deadline:
                break
            time.sleep(0.05)
        e = sql_error(b, "SELECT jwt_claims()")
        T.check("sessions: the expired token is refused at the next statement inside the open "
                "transaction (28000 expired)", is_refusal(e, "expired"), err_text(e))
        b.autocommit = True
        e = sql_error(c, "SELECT jwt_claims()")
        T.check("sessions: the expired token is refused at the next statement (28000 expired)",
                is_refusal(e, "expired"), err_text(e))
        e = sql_error(c, f"SET ROLE {READER}; SELECT count(*) FROM par_docs")
        T.check("sessions: ... and an RLS query fails closed with it", is_refusal(e, "expired"),
                err_text(e))
        c.close()

        # changes in session A reach session B's next statement
        secrets = {k: f"sessions-{k}-secret-" + "x" * 32 for k in ("kr", "kv", "kn")}
        for k in ("kr", "kv"):
            run(a, "SELECT jwt_add_key(%s, 'HS256', %s)", (secrets[k], k))
        t_r = token(a, {"sub": "user1", "exp": exp}, "kr")
        c_v = {"sub": "user2", "exp": exp, "jti": "sessions-v"}
        t_v = token(a, c_v, "kv")
        c_n = {"sub": "user3", "exp": exp}
        t_n = q1(a, "SELECT jwt_sign(%s::jsonb, %s, 'HS256', '{\"kid\":\"kn\"}')",
                 (json.dumps(c_n), secrets["kn"]))

        # The same three changes twice: B in autocommit (each statement its own
        # transaction), then B inside one open READ COMMITTED transaction, where
        # each statement takes a new snapshot and so must see what A committed
        # before it; there, a refusal is rolled back to a savepoint so that the
        # transaction stays open throughout.
        for inside in (False, True):
            where = "inside B's open READ COMMITTED transaction" if inside else "B autocommit"
            if inside:
                # again, with fresh names
                run(a, "SELECT jwt_add_key(%s, 'HS256', 'kr2')", (secrets["kr"],))
                t_r = token(a, {"sub": "user1", "exp": exp}, "kr2")
                c_v = dict(c_v, jti="sessions-v2")
                t_v = token(a, c_v, "kv")
                t_n = q1(a, "SELECT jwt_sign(%s::jsonb, %s, 'HS256', '{\"kid\":\"kn2\"}')",
                         (json.dumps(c_n), secrets["kn"]))
            b.autocommit = not inside
            if inside:
                T.check("sessions: B's transaction is READ COMMITTED",      # and now open
                        q1(b, "SHOW transaction_isolation") == "read committed")
                xact_start = q1(b, "SELECT xact_start FROM pg_stat_activity WHERE pid = pg_backend_pid()")

            def b_claims():
                """B's next statement: SELECT jwt_claims(); the error, or None."""
                try:
                    if inside:
                        run(b, "SAVEPOINT sp")
                    q1(b, "SELECT jwt_claims()")
                    if inside:
                        run(b, "RELEASE SAVEPOINT sp")
                    return None
                except psycopg2.Error as e:
                    if inside:
                        run(b, "ROLLBACK TO SAVEPOINT sp")
                    return e

            def b_verifies(tok_):
                run(b, "SET jwt.token = %s", (tok_,))
                return b_claims()

            # retire
            e = b_verifies(t_r)
            T.check(f"sessions: B verifies the token of a key ({where})", e is None, err_text(e))
            run(a, "SELECT jwt_retire_key(%s)", ("kr2" if inside else "kr",))
            e = b_claims()
            T.check(f"sessions: a key retired in A is refused at B's next statement ({where})",
                    is_refusal(e), err_text(e))
            # revoke
            e = b_verifies(t_v)
            T.check(f"sessions: B verifies a token with a jti ({where})", e is None, err_text(e))
            run(a, "SELECT jwt_revoke(%s, to_timestamp(%s))", (c_v["jti"], exp))
            e = b_claims()
            T.check(f"sessions: a jti revoked in A is refused at B's next statement ({where})",
                    is_refusal(e, "revoked"), err_text(e))
            # add a key (rotation): refused, then accepted once A adds it
            e = b_verifies(t_n)
            T.check(f"sessions: B refuses a token of a key not in the registry ({where})",
                    is_refusal(e), err_text(e))
            run(a, "SELECT jwt_add_key(%s, 'HS256', %s)", (secrets["kn"], "kn2" if inside else "kn"))
            e = b_claims()
            T.check(f"sessions: a key added in A verifies at B's next statement ({where})",
                    e is None, err_text(e))
            if inside:
                T.check("sessions: B's transaction stayed open through the three changes",
                        q1(b, "SELECT xact_start FROM pg_stat_activity WHERE pid = pg_backend_pid()")
                        == xact_start)
                b.rollback()
        b.autocommit = True
    finally:
        close_quietly(a, b)


# ---------------------------------------------------------------- 5. pg_dump

def item_dump():
    admin = connect("postgres")
    tmp = tempfile.mkdtemp(prefix="jwt-dump.")
    conns = []
    try:
        run(admin, f"CREATE DATABASE {DUMP_SRC}")
        src = connect(DUMP_SRC)
        conns.append(src)
        hs = "dump-hs256-secret-" + "d" * 32
        run(src, "CREATE EXTENSION jwt")
        run(src, "SELECT jwt_add_key(%s, 'HS256', 'dump-hs')", (hs,))
        es_jwk = q1(src, "SELECT jwt_generate_key('ES256')")
        run(src, "SELECT jwt_add_key(%s, 'ES256', 'dump-es')", (json.dumps(es_jwk),))
        run(src, "SELECT jwt_add_key(%s, 'HS256', 'dump-old')", ("dump-old-secret-" + "o" * 32,))
        exp = in_an_hour()
        c_alice = {"sub": "alice", "exp": exp, "jti": "dump-alice"}
        c_bob = {"sub": "bob", "exp": exp, "jti": "dump-bob"}
        c_eve = {"sub": "eve", "exp": exp, "jti": "dump-eve"}
        c_old = {"sub": "alice", "exp": exp}
        t_alice = token(src, c_alice, "dump-hs")
        t_bob = token(src, c_bob, "dump-es")
        t_eve = token(src, c_eve, "dump-hs")
        t_old = token(src, c_old, "dump-old")
        run(src, "SELECT jwt_revoke('dump-eve', to_timestamp(%s))", (exp,))
        run(src, "SELECT jwt_revoke('dump-forever', NULL)")
        run(src, "SELECT jwt_retire_key('dump-old')")
        run(src, f"""
            CREATE TABLE notes (id int PRIMARY KEY, owner text NOT NULL, body text);
            INSERT INTO notes VALUES (1, 'alice', 'a1'), (2, 'alice', 'a2'), (3, 'bob', 'b1'),
                                     (4, 'eve', 'e1');
            ALTER TABLE notes ENABLE ROW LEVEL SECURITY;
            CREATE POLICY by_sub ON notes USING (owner = jwt_claim('sub'));
            GRANT SELECT ON notes TO {READER};
        """)
        keys_sql = ("SELECT kid, key, algorithm, valid_from, valid_until, can_sign, added_at "
                    "FROM jwt_keys ORDER BY kid")
        revs_sql = "SELECT jti, expires_at, revoked_at FROM jwt_revocations ORDER BY jti"
        src_keys, src_revs = qall(src, keys_sql), qall(src, revs_sql)

        dump = os.path.join(tmp, "src.dump")
        r = subprocess.run([CL.tool("pg_dump"), "-Fc", "-f", dump, "-d", DUMP_SRC],
                           capture_output=True, text=True, timeout=60)
        if not T.check("dump: pg_dump -Fc", r.returncode == 0, r.stderr[-500:]):
            return
        run(admin, f"CREATE DATABASE {DUMP_DST}")
        r = subprocess.run([CL.tool("pg_restore"), "--exit-on-error", "-d", DUMP_DST, dump],
                           capture_output=True, text=True, timeout=60)
        if not T.check("dump: pg_restore into a fresh database", r.returncode == 0,
                       r.stderr[-500:]):
            return
        dst = connect(DUMP_DST)
        conns.append(dst)
        T.check("dump: the key registry rows are restored (keys, retirement, times)",
                qall(dst, keys_sql) == src_keys, qall(dst, keys_sql))
        T.check("dump: the revocations are restored", qall(dst, revs_sql) == src_revs,
                qall(dst, revs_sql))

        for tok, claims, what in ((t_alice, c_alice, "HS256"), (t_bob, c_bob, "ES256")):
            run(dst, "SET jwt.token = %s", (tok,))
            e = sql_error(dst, "SELECT jwt_claims()")
            T.check(f"dump: a {what} token issued before the dump verifies after the restore",
                    e is None and q1(dst, "SELECT jwt_claims()") == claims, err_text(e))
        run(dst, "SET jwt.token = %s", (t_eve,))
        e = sql_error(dst, "SELECT jwt_claims()")
        T.check("dump: the revoked jti is still refused after the restore",
                is_refusal(e, "revoked"), err_text(e))
        run(dst, "SET jwt.token = %s", (t_old,))
        e = sql_error(dst, "SELECT jwt_claims()")
        T.check("dump: a token of the retired key is still refused after the restore",
                is_refusal(e), err_text(e))
        run(dst, "RESET jwt.token")

        run(dst, f"SET ROLE {READER}")
        for tok, owner, ids in ((t_alice, "alice", [1, 2]), (t_bob, "bob", [3]), (None, None, [])):
            if tok is None:
                run(dst, "RESET jwt.token")
            else:
                run(dst, "SET jwt.token = %s", (tok,))
            got = [r[0] for r in qall(dst, "SELECT id FROM notes ORDER BY id")]
            T.check(f"dump: the restored RLS policy, as an unprivileged role, "
                    f"{'token of ' + owner if owner else 'no token'}", got == ids, got)
        run(dst, "RESET ROLE")
        run(dst, "RESET jwt.token")

        t_new = token(dst, {"sub": "bob", "exp": exp}, None)
        run(src, "SET jwt.token = %s", (t_new,))
        e = sql_error(src, "SELECT jwt_claim('sub')")
        T.check("dump: jwt_issue() in the restored database signs with the restored key; "
                "the original database accepts the token",
                e is None and q1(src, "SELECT jwt_claim('sub')") == "bob", err_text(e))
    finally:
        close_quietly(*conns)
        shutil.rmtree(tmp, ignore_errors=True)
        admin.close()


# ---------------------------------------------------------------- main

def main():
    global CL
    start = time.monotonic()
    try:
        admin = connect("postgres")
    except psycopg2.Error as e:
        cannot_run(f"cannot connect to PostgreSQL ({str(e).strip()}); run it inside "
                   f"pg_virtualenv -t -v 15")
    CL = Cluster(admin)
    try:
        setup(admin)
    except psycopg2.Error as e:
        cannot_run(f"setup failed ({str(e).strip()}); is the extension installed (make install)?")

    try:
        section("1. parallel query", item_parallel)
        section("4. sessions", item_sessions)
        section("3. pgbouncer, transaction pooling", item_pgbouncer)
        section("2. hot standby", item_standby)
        section("5. pg_dump and pg_restore", item_dump)
    finally:
        try:
            reset_objects(admin)
        except psycopg2.Error as e:
            note(f"cleanup: {str(e).strip()}")
        admin.close()
    note(f"{time.monotonic() - start:.1f} s in all")
    T.finish()


if __name__ == "__main__":
    main()
