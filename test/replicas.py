#!/usr/bin/python3
"""Replica and snapshot tests: the registry is right on a logical replica,
and one statement gives one answer whatever its plan.

Run as root or as the postgres user, with PG_CONFIG (or pg_config on PATH)
naming the PostgreSQL whose bindir has initdb and pg_ctl and where jwt is
installed:

    /usr/bin/python3 test/replicas.py

It makes two private clusters of its own (a publisher with wal_level =
logical and a subscriber), listening on Unix sockets in private temporary
directories only, removed again at the end, and checks:

  1. logical replication: with a publication of jwt_keys and
     jwt_revocations on the publisher and a subscription on the subscriber,
     an open session on the subscriber that holds a valid session token
     (set_config('jwt.token', ...)) refuses it from its next statement after
     - rows arrive by the initial table sync (a COPY): a revocation of its jti;
     - a revocation on the publisher;
     - the retirement of its key on the publisher;
     - a TRUNCATE of jwt_keys on the publisher;
     - the logout, on the publisher, of the login whose access token it
       holds (jwt_logins is published too: its ALWAYS trigger fires in the
       apply worker);
     and accepts a revoked one again after a TRUNCATE of jwt_revocations
     (the apply worker runs with session_replication_role = replica and an
     empty search_path, where only ENABLE REPLICA or ALWAYS triggers fire;
     without the replica triggers the first three fail; a TRUNCATE also
     gives the table a new file, whose relcache invalidation the TRUNCATE
     checks pass on even without its trigger);
  2. snapshots: in REPEATABLE READ and SERIALIZABLE, a revocation committed
     by another session after the transaction's snapshot is not seen until
     the next transaction, and in READ COMMITTED it is seen from the next
     statement, with force_parallel_mode (debug_parallel_query from 16 on)
     off and on alike; EXPLAIN shows the Gather.

Every wait is a poll of the condition with a deadline, never a bare sleep.
It ends with "replicas: N passed, N failed" and exits 1 on any failure, or
when it cannot run at all (then without a summary line).
"""

import os
import pwd
import shutil
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))   # test/, for suite.py
import suite                                                     # noqa: E402

T = suite.Suite("replicas", reexec_guard="JWT_REPLICAS_REEXEC")

try:
    import psycopg2
except ImportError as e:
    T.reexec_or_cannot_run(e, "Debian's python3-psycopg2")

SECRET = "replicas-secret-replicas-secret-replicas-0123"
LOCAL_SECRET = "replicas-local-replicas-local-replicas-local-0123"
DEADLINE = 30.0


def bindir():
    out = subprocess.run([os.environ.get("PG_CONFIG", "pg_config"), "--bindir"],
                         capture_output=True, text=True, timeout=10)
    if out.returncode != 0:
        T.cannot_run(f"pg_config --bindir failed: {out.stderr.strip()}")
    return out.stdout.strip()


BIN = bindir()


def owner():
    """The uid and gid the clusters run as: postgres when root, else ourselves."""
    if os.geteuid() == 0:
        try:
            pw = pwd.getpwnam("postgres")
        except KeyError:
            T.cannot_run("run as root needs a postgres user to own the clusters")
        return pw.pw_uid, pw.pw_gid
    return os.geteuid(), os.getegid()


UID, GID = owner()


def as_owner():
    if os.geteuid() == 0:
        return {"user": UID, "group": GID, "extra_groups": []}
    return {}


class Node:
    """A private cluster on a Unix socket."""

    def __init__(self, name, conf):
        self.dir = tempfile.mkdtemp(prefix=f"jwt-replicas-{name}.")
        os.chmod(self.dir, 0o755)
        if os.geteuid() == 0:
            os.chown(self.dir, UID, GID)
        self.data = os.path.join(self.dir, "data")
        self.log = os.path.join(self.dir, "log")
        self.port = 5432
        self.started = False
        r = self.sh([os.path.join(BIN, "initdb"), "-D", self.data, "-U", "postgres",
                     "-A", "trust", "--no-sync"], 120)
        if r.returncode != 0:
            raise RuntimeError(f"initdb: {r.stderr.strip()[-300:]}")
        with open(os.path.join(self.data, "postgresql.conf"), "a") as f:
            f.write("\n".join([f"unix_socket_directories = '{self.dir}'", f"port = {self.port}",
                               "listen_addresses = ''", "fsync = off",
                               "shared_buffers = 16MB"] + conf) + "\n")
        r = self.sh([os.path.join(BIN, "pg_ctl"), "-D", self.data, "-l", self.log,
                     "-w", "-t", "60", "start"], 90)
        self.started = True
        if r.returncode != 0:
            raise RuntimeError(f"pg_ctl start: {r.stderr.strip()[-300:]} {self.tail()}")

    def sh(self, args, timeout):
        env = {k: v for k, v in os.environ.items() if not k.startswith("PG")}
        return subprocess.run(args, capture_output=True, text=True, timeout=timeout,
                              cwd=self.dir, env=env, **as_owner())

    def tail(self):
        try:
            with open(self.log) as f:
                return " ".join(f.read()[-800:].split())
        except OSError:
            return ""

    def dsn(self, dbname="postgres"):
        return f"host={self.dir} port={self.port} user=postgres dbname={dbname}"

    def connect(self, dbname="postgres", autocommit=True):
        conn = psycopg2.connect(self.dsn(dbname), connect_timeout=10,
                                options="-c statement_timeout=30000")
        conn.autocommit = autocommit
        return conn

    def stop(self):
        if self.started:
            self.sh([os.path.join(BIN, "pg_ctl"), "-D", self.data, "-m", "immediate",
                     "-w", "stop"], 60)
        shutil.rmtree(self.dir, ignore_errors=True)


def q1(conn, sql, args=None):
    with conn.cursor() as cur:
        cur.execute(sql, args)
        row = cur.fetchone()
    return row[0] if row is not None else None


def run(conn, sql, args=None):
    with conn.cursor() as cur:
        cur.execute(sql, args)


def claim(conn):
    """What jwt_claim('sub') says in this session now: the sub, or the error's detail."""
    try:
        return q1(conn, "SELECT jwt_claim('sub')")
    except psycopg2.Error as e:
        if conn.autocommit is False:
            conn.rollback()
        return f"{e.pgcode}: {e.diag.message_detail or e.diag.message_primary}"


def wait_for(what, probe, want, deadline=DEADLINE):
    """Poll probe() until it gives want, or the deadline passes; the last answer."""
    end = time.monotonic() + deadline
    while True:
        got = probe()
        if want(got) or time.monotonic() > end:
            return got
        time.sleep(0.05)        # between two polls of the condition


def token(secret, kid, jti, exp_in=3600):
    """A session token signed in SQL by jwt_sign (on whichever node is at hand)."""
    return {"secret": secret, "kid": kid, "jti": jti, "exp": int(time.time()) + exp_in}


def sign(conn, t):
    return q1(conn, "SELECT jwt_sign(jsonb_build_object('sub', 'alice', 'jti', %s::text, "
                    "'exp', %s::bigint), %s, 'HS256', jsonb_build_object('kid', %s::text))",
              (t["jti"], t["exp"], t["secret"], t["kid"]))


def session(node, dbname, tok):
    """An open session on node holding tok as its session token."""
    conn = node.connect(dbname)
    run(conn, "SELECT set_config('jwt.token', %s, false)", (tok,))
    return conn


# ---------------------------------------------------------------- 1. logical replication

def item_logical():
    pub = sub = None
    conns = []
    try:
        pub = Node("pub", ["wal_level = logical", "max_wal_senders = 10",
                           "max_replication_slots = 10"])
        sub = Node("sub", ["max_logical_replication_workers = 4",
                           "max_worker_processes = 16"])
        padmin, sadmin = pub.connect(), sub.connect()
        conns += [padmin, sadmin]
        for admin in (padmin, sadmin):
            run(admin, "CREATE DATABASE jwt_replicas")
        p, s = pub.connect("jwt_replicas"), sub.connect("jwt_replicas")
        conns += [p, s]
        for c in (p, s):
            run(c, "CREATE EXTENSION jwt")
        run(p, "SELECT jwt_add_key(%s, 'HS256', 'k1', now() - interval '1 hour')", (SECRET,))
        # the subscriber's own key, which the initial sync does not touch
        run(s, "SELECT jwt_add_key(%s, 'HS256', 'k-local', now() - interval '1 hour')",
            (LOCAL_SECRET,))
        t_sync = token(LOCAL_SECRET, "k-local", "j-sync")
        run(p, "SELECT jwt_revoke(%s, to_timestamp(%s))", (t_sync["jti"], t_sync["exp"]))
        run(p, "CREATE PUBLICATION jwt_pub FOR TABLE jwt_keys, jwt_revocations, jwt_logins")

        # an open session on the subscriber, valid before the subscription
        a = session(sub, "jwt_replicas", sign(s, t_sync))
        conns.append(a)
        T.check("logical: before the initial sync, the local token is valid",
                claim(a) == "alice", claim(a))

        run(s, f"CREATE SUBSCRIPTION jwt_sub CONNECTION '{pub.dsn('jwt_replicas')}' "
               "PUBLICATION jwt_pub")
        ready = wait_for("initial sync", lambda: q1(
            s, "SELECT count(*) FROM pg_subscription_rel WHERE srsubstate = 'r'"),
            lambda n: n == 3, 60)
        T.check("logical: the three tables synced (pg_subscription_rel ready)", ready == 3,
                f"{ready} ready; {sub.tail()}")
        got = wait_for("revoked by the initial sync", lambda: claim(a),
                       lambda g: g != "alice")
        T.check("logical: a revocation arriving by the initial sync (COPY) is seen by "
                "the open session", got.startswith("28000") and "revoked" in got, got)

        # 2. a revocation replicated by the apply worker
        t2 = token(SECRET, "k1", "j2")
        tok2 = sign(p, t2)
        b = session(sub, "jwt_replicas", tok2)
        conns.append(b)
        T.check("logical: a token of the replicated key verifies on the subscriber",
                claim(b) == "alice", claim(b))
        run(p, "SELECT jwt_revoke(%s, to_timestamp(%s))", (t2["jti"], t2["exp"]))
        got = wait_for("revocation", lambda: claim(b), lambda g: g != "alice")
        T.check("logical: a revocation on the publisher is seen by the open session",
                got.startswith("28000") and "revoked" in got, got)

        # 3. a key retired on the publisher
        t3 = token(SECRET, "k1", "j3")
        c = session(sub, "jwt_replicas", sign(p, t3))
        conns.append(c)
        T.check("logical: before the retirement, the token is valid", claim(c) == "alice",
                claim(c))
        run(p, "SELECT jwt_retire_key('k1')")
        got = wait_for("retirement", lambda: claim(c), lambda g: g != "alice")
        T.check("logical: a key retired on the publisher is refused by the open session",
                got.startswith("28000") and "retired" in got, got)

        # 4. a key added on the publisher: a token of it becomes valid
        run(p, "SELECT jwt_add_key(%s, 'HS256', 'k2', now() - interval '1 hour')",
            (SECRET + "-2",))
        t4 = token(SECRET + "-2", "k2", "j4")
        d = session(sub, "jwt_replicas", sign(p, t4))
        conns.append(d)
        got = wait_for("new key", lambda: claim(d), lambda g: g == "alice")
        T.check("logical: a key added on the publisher verifies on the subscriber",
                got == "alice", got)

        # 4b. a login ended on the publisher: its access token is refused
        login = q1(p, "SELECT jwt_login('{\"sub\": \"alice\"}', 'k2')")
        f = session(sub, "jwt_replicas", login["access_token"])
        conns.append(f)
        T.check("logical: a login's access token verifies on the subscriber",
                claim(f) == "alice", claim(f))
        T.check("logical: the publisher's logout ends the login",
                q1(p, "SELECT jwt_logout(%s)", (login["refresh_token"],)) is True)
        got = wait_for("logout", lambda: claim(f), lambda g: g != "alice")
        T.check("logical: a login ended on the publisher is refused by the open session "
                "on the subscriber", got.startswith("28000") and "revoked" in got, got)
        T.check("logical: ... and its row there says why",
                q1(s, "SELECT end_reason FROM jwt_logins WHERE sid = %s", (login["sid"],)) == "logout")

        # 5. TRUNCATE jwt_revocations: the revoked token is accepted again
        run(p, "SELECT jwt_add_key(%s, 'HS256', 'k3', now() - interval '1 hour')",
            (SECRET + "-3",))
        t5 = token(SECRET + "-3", "k3", "j5")
        tok5 = sign(p, t5)
        run(p, "SELECT jwt_revoke(%s, to_timestamp(%s))", (t5["jti"], t5["exp"]))
        e = session(sub, "jwt_replicas", tok5)
        conns.append(e)
        got = wait_for("revoked k3 token", lambda: claim(e), lambda g: "revoked" in g)
        T.check("logical: before the TRUNCATE, the revoked token is refused",
                "revoked" in got, got)
        run(p, "TRUNCATE jwt_revocations")
        got = wait_for("truncate revocations", lambda: claim(e), lambda g: g == "alice")
        T.check("logical: after a TRUNCATE of jwt_revocations on the publisher, the open "
                "session accepts the token again", got == "alice", got)

        # 6. TRUNCATE jwt_keys: every token is refused
        T.check("logical: before the TRUNCATE of jwt_keys, the token is valid",
                claim(d) == "alice", claim(d))
        run(p, "TRUNCATE jwt_keys")
        got = wait_for("truncate keys", lambda: claim(d), lambda g: g != "alice")
        T.check("logical: after a TRUNCATE of jwt_keys on the publisher, the open session "
                "refuses the token", got.startswith("28000"), got)
        T.check("logical: the subscriber's jwt_keys is empty",
                q1(s, "SELECT count(*) FROM jwt_keys") == 0)
        try:
            run(s, "DROP SUBSCRIPTION jwt_sub")
        except psycopg2.Error as ex:
            T.check("logical: DROP SUBSCRIPTION", False, ex)
    finally:
        for conn in conns:
            try:
                conn.close()
            except psycopg2.Error:
                pass
        for node in (sub, pub):
            if node is not None:
                node.stop()


# ---------------------------------------------------------------- 2. snapshots

def item_snapshots():
    node = None
    conns = []
    try:
        node = Node("snap", [])
        admin = node.connect()
        conns.append(admin)
        major = int(q1(admin, "SHOW server_version_num")) // 10000
        guc = "debug_parallel_query" if major >= 16 else "force_parallel_mode"
        run(admin, "CREATE DATABASE jwt_snapshots")
        b = node.connect("jwt_snapshots")
        conns.append(b)
        run(b, "CREATE EXTENSION jwt")
        run(b, "SELECT jwt_add_key(%s, 'HS256', 'k1', now() - interval '1 hour')", (SECRET,))
        a = node.connect("jwt_snapshots", autocommit=False)
        conns.append(a)

        n = 0
        for iso in ("REPEATABLE READ", "SERIALIZABLE", "READ COMMITTED"):
            for mode in ("off", "on"):
                n += 1
                t = token(SECRET, "k1", f"snap-{n}")
                tok = sign(b, t)
                what = f"snapshots: {iso}, {guc} = {mode}"
                run(a, f"BEGIN ISOLATION LEVEL {iso}")
                run(a, f"SET LOCAL {guc} = {mode}")
                run(a, "SELECT set_config('jwt.token', %s, true)", (tok,))
                if mode == "on":
                    with a.cursor() as cur:
                        cur.execute("EXPLAIN (COSTS OFF) SELECT jwt_claim('sub')")
                        plan = " ".join(r[0] for r in cur.fetchall())
                    T.check(f"{what}: the plan has a Gather", "Gather" in plan, plan)
                T.check(f"{what}: valid before the revocation", claim(a) == "alice")
                run(b, "SELECT jwt_revoke(%s, to_timestamp(%s))", (t["jti"], t["exp"]))
                got = claim(a)
                if iso == "READ COMMITTED":
                    T.check(f"{what}: the revocation is seen by the next statement",
                            got.startswith("28000") and "revoked" in got, got)
                else:
                    T.check(f"{what}: the revocation, committed after the transaction's "
                            "snapshot, is not seen in this transaction", got == "alice", got)
                if a.status == psycopg2.extensions.STATUS_IN_TRANSACTION:
                    a.commit()
                else:
                    a.rollback()
                run(a, f"SET {guc} = {mode}")
                run(a, "SELECT set_config('jwt.token', %s, false)", (tok,))
                got = claim(a)
                a.commit()
                T.check(f"{what}: the next transaction refuses the token",
                        got.startswith("28000") and "revoked" in got, got)
                run(a, "RESET ALL")
                a.commit()
    finally:
        for conn in conns:
            try:
                conn.close()
            except psycopg2.Error:
                pass
        if node is not None:
            node.stop()


def section(title, fn):
    print(f"== {title}", flush=True)
    start = time.monotonic()
    before = (T.passed, T.failed)
    try:
        fn()
    except Exception as e:          # noqa: BLE001: report, go on with the next item
        T.check(f"{title}: runs to the end", False, f"{type(e).__name__}: {e}")
    T.note(f"{title}: done in {time.monotonic() - start:.1f} s "
           f"({T.passed - before[0]} checks passed, {T.failed - before[1]} failed)")


def main():
    section("logical replication", item_logical)
    section("snapshots", item_snapshots)
    T.finish()


if __name__ == "__main__":
    main()
