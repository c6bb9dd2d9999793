#!/usr/bin/python3
"""Logins under concurrency: N connections refresh one refresh token at once.

Run inside a throwaway cluster (PG* naming a superuser), after make install:

    pg_virtualenv -t -v 15 /usr/bin/python3 test/logins_race.py

Each round starts a login, then N threads, released together by a barrier,
each on its own connection, present its refresh token to jwt_refresh().
At READ COMMITTED (the default) the rule is: exactly one rotation (the
login has two refresh tokens afterwards, one used), every caller gets a
token response with the same successor refresh token and an access token
that jwt_claims() accepts in another session, no call fails (no deadlock,
no serialization failure) and the login lives on (its successor rotates).
Half the rounds hold each transaction open a moment after the refresh, so
that the others queue on the row lock and must see the rotation once it
commits; the other half are one statement each.

Then replays: the same race on a token used more than
jwt.refresh_reuse_interval ago: every caller gets invalid_grant, the login
ends once, and another session refuses its access token from its next
statement.  At REPEATABLE READ and SERIALIZABLE a loser may get 40001
(which a client retries), never a second rotation.

First, the replay's LOG line: one line in the server log naming the sid and
the sub, none of it sent to the client (at client_min_messages = debug5),
no token and no statement text in the log.

Prints "logins-race: N passed, N failed" and exits 1 on any failure.
"""

import json
import os
import sys
import threading

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import suite  # noqa: E402

S = suite.Suite("logins-race", "JWT_LOGINS_RACE_REEXEC")
try:
    import psycopg2
    import psycopg2.extensions
except ImportError as e:
    S.reexec_or_cannot_run(e, "python3-psycopg2")

N = int(os.environ.get("JWT_RACE_CONNECTIONS", "8"))
ROUNDS = int(os.environ.get("JWT_RACE_ROUNDS", "40"))
KID = "logins-race-hs256"
SECRET = "logins-race-secret-logins-race-secret-0123456789"


def connect(isolation=None):
    conn = psycopg2.connect("")
    if isolation is None:
        conn.autocommit = True
    else:
        conn.set_session(isolation_level=isolation, autocommit=False)
    return conn


def one(conn, query, params=()):
    with conn.cursor() as cur:
        cur.execute(query, params)
        if cur.description is None:
            return None
        row = cur.fetchone()
        return row[0] if row else None


def race(conns, token, hold, isolation):
    """Every connection refreshes token at once; each outcome: the response
    (a dict) or the SQLSTATE of the error it raised."""
    barrier = threading.Barrier(len(conns))
    out = [None] * len(conns)

    def worker(i, conn):
        try:
            barrier.wait(timeout=30)
            with conn.cursor() as cur:
                if isolation is not None or hold:
                    if conn.autocommit:
                        cur.execute("BEGIN")
                cur.execute("SELECT jwt_refresh(%s)", (token,))
                r = cur.fetchone()[0]
                if hold:
                    cur.execute("SELECT pg_sleep(0.02)")
                if conn.autocommit:
                    if hold:
                        cur.execute("COMMIT")
                else:
                    conn.commit()
            out[i] = r if isinstance(r, dict) else json.loads(r)
        except psycopg2.Error as e:
            out[i] = e.pgcode or "error"
            try:
                if conn.autocommit:
                    with conn.cursor() as cur:
                        cur.execute("ROLLBACK")
                else:
                    conn.rollback()
            except psycopg2.Error:
                pass
        except threading.BrokenBarrierError:
            out[i] = "barrier"

    threads = [threading.Thread(target=worker, args=(i, c)) for i, c in enumerate(conns)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    return out


def session_accepts(conn, access_token):
    """What another session's jwt_claims() says of the token: sub, or SQLSTATE."""
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT set_config('jwt.token', %s, false)", (access_token,))
            cur.execute("SELECT jwt_claims() ->> 'sub'")
            return cur.fetchone()[0]
    except psycopg2.Error as e:
        return e.pgcode
    finally:
        with conn.cursor() as cur:
            cur.execute("RESET jwt.token")


def main():
    admin = S.connect()
    other = connect()
    one(admin, "DELETE FROM jwt_keys WHERE kid = %s", (KID,))
    one(admin, "SELECT jwt_add_key(%s, 'HS256', %s)", (SECRET, KID))
    try:
        run(admin, other)
    finally:
        with admin.cursor() as cur:
            cur.execute("DELETE FROM jwt_logins WHERE sub LIKE 'logins-race-%%'")
            cur.execute("DELETE FROM jwt_keys WHERE kid = %s", (KID,))
    S.finish()


def rotation_rounds(admin, other, conns, isolation, label):
    for rnd in range(ROUNDS):
        hold = rnd % 2 == 1
        sub = f"logins-race-{label}-{rnd}"
        login = one(admin, "SELECT jwt_login(%s::jsonb, %s)",
                    (json.dumps({"sub": sub}), KID))
        sid = login["sid"]
        out = race(conns, login["refresh_token"], hold, isolation)
        name = f"{label} round {rnd} ({'held' if hold else 'one statement'})"
        responses = [r for r in out if isinstance(r, dict) and "refresh_token" in r]
        failures = [r for r in out if not (isinstance(r, dict) and "refresh_token" in r)]
        if isolation is None:
            S.check(f"{name}: every caller gets a token response", not failures, out)
        else:
            S.check(f"{name}: a loser gets only 40001",
                    all(f == "40001" for f in failures) and responses, out)
        successors = {r["refresh_token"] for r in responses}
        S.check(f"{name}: one successor for all", len(successors) == 1, successors)
        tokens, used = admin.cursor(), None
        tokens.execute("SELECT count(*), count(used_at) FROM jwt_refresh_tokens WHERE sid = %s",
                       (sid,))
        total, used = tokens.fetchone()
        S.check(f"{name}: exactly one rotation", (total, used) == (2, 1), (total, used))
        ended = one(admin, "SELECT ended_at IS NOT NULL FROM jwt_logins WHERE sid = %s", (sid,))
        S.check(f"{name}: the login lives", ended is False, ended)
        subs = {session_accepts(other, r["access_token"]) for r in responses}
        S.check(f"{name}: every access token verifies in another session", subs == {sub}, subs)
        if successors:
            nxt = one(admin, "SELECT jwt_refresh(%s)", (successors.pop(),))
            S.check(f"{name}: the successor rotates", "refresh_token" in nxt, nxt)


def replay_rounds(admin, other, conns, rounds):
    for rnd in range(rounds):
        sub = f"logins-race-replay-{rnd}"
        login = one(admin, "SELECT jwt_login(%s::jsonb, %s)", (json.dumps({"sub": sub}), KID))
        sid = login["sid"]
        rotated = one(admin, "SELECT jwt_refresh(%s)", (login["refresh_token"],))
        S.check(f"replay round {rnd}: the other session accepts the access token",
                session_accepts(other, rotated["access_token"]) == sub)
        one(admin, "UPDATE jwt_refresh_tokens SET used_at = used_at - interval '1 minute' "
                   "WHERE sid = %s AND used_at IS NOT NULL RETURNING 1", (sid,))
        out = race(conns, login["refresh_token"], rnd % 2 == 1, None)
        S.check(f"replay round {rnd}: every caller gets invalid_grant",
                all(isinstance(r, dict) and r.get("error") == "invalid_grant" for r in out), out)
        row = admin.cursor()
        row.execute("SELECT end_reason FROM jwt_logins WHERE sid = %s", (sid,))
        S.check(f"replay round {rnd}: the login ended by reuse", row.fetchone() == ("reuse",))
        S.check(f"replay round {rnd}: the other session refuses the access token",
                session_accepts(other, rotated["access_token"]) == "28000")
        after = one(admin, "SELECT jwt_refresh(%s)", (rotated["refresh_token"],))
        S.check(f"replay round {rnd}: the successor is refused too",
                after.get("error") == "invalid_grant", after)


def find_log(conn):
    """The file the server writes its log to (as test/secrets.py finds it)."""
    if one(conn, "SHOW logging_collector") == "on":
        f = one(conn, "SELECT pg_current_logfile()")
        if f:
            return f if os.path.isabs(f) else os.path.join(one(conn, "SHOW data_directory"), f)
    try:
        target = os.readlink(f"/proc/{one(conn, 'SELECT pg_backend_pid()')}/fd/2")
        if os.path.isfile(target):
            return target
    except OSError:
        pass
    return None


def replay_log(admin):
    """A replay writes one LOG line naming sid and sub, to the server log
    only: never to the client (even at client_min_messages = debug5), never
    a token, and no statement text with it."""
    path = find_log(admin)
    if path is None:
        S.skip("replay log line", "the server log cannot be found from here")
        return
    start = os.path.getsize(path)
    conn = connect()
    one(conn, "SET client_min_messages = debug5")
    # a quote and a line break: written as a JSON string, it shapes no line of its own
    sub = 'logins-race-log"\nLOG:  forged line'
    login = one(conn, "SELECT jwt_login(%s::jsonb, %s)", (json.dumps({"sub": sub}), KID))
    rotated = one(conn, "SELECT jwt_refresh(%s)", (login["refresh_token"],))
    one(admin, "UPDATE jwt_refresh_tokens SET used_at = used_at - interval '1 minute' "
               "WHERE sid = %s AND used_at IS NOT NULL RETURNING 1", (login["sid"],))
    del conn.notices[:]
    out = one(conn, "SELECT jwt_refresh(%s)", (login["refresh_token"],))
    notices = "".join(conn.notices)
    conn.close()
    S.check("replay log: the client gets invalid_grant", out.get("error") == "invalid_grant", out)
    S.check("replay log: no message to the client names sid or sub",
            login["sid"] not in notices and "logins-race-log" not in notices, notices)
    with open(path, "rb") as f:
        f.seek(start)
        log = f.read().decode("utf-8", "replace")
    lines = [ln for ln in log.splitlines() if login["sid"] in ln]
    S.check("replay log: one LOG line names sid and sub (as a JSON string)",
            len(lines) == 1 and "LOG:" in lines[0] and json.dumps(sub) in lines[0], lines)
    S.check("replay log: the subject's line break makes no line of its own",
            not any(ln.lstrip().startswith("LOG:  forged line") for ln in log.splitlines()),
            [ln for ln in log.splitlines() if "forged line" in ln])
    tokens = [login["refresh_token"], rotated["refresh_token"], rotated["access_token"]]
    S.check("replay log: no token in the server log", not any(t in log for t in tokens))
    S.check("replay log: no statement text logged with it",
            "jwt_refresh(" not in log, [ln for ln in log.splitlines() if "jwt_refresh(" in ln])


def logout_during_refresh(admin, other):
    """A logout that commits while a refresh of the same login runs: the
    refresh waits for it and is refused, and the login's access tokens stay
    refused everywhere (the refresh never marks an ended login's tokens as
    lasting longer).  The logout's transaction is held open, its row locked,
    while the refresh starts."""
    for r in range(4):
        login = one(admin, "SELECT jwt_login(%s::jsonb, %s)",
                    (json.dumps({"sub": f"logins-race-logout-{r}"}), KID))
        before = one(admin, "SELECT access_expires_at FROM jwt_logins WHERE sid = %s", (login["sid"],))
        logout = connect(psycopg2.extensions.ISOLATION_LEVEL_READ_COMMITTED)
        refresher = connect()
        one(logout, "SELECT jwt_logout(%s)", (login["refresh_token"],))        # open, row locked
        out = {}

        def refresh():
            try:
                out["r"] = one(refresher, "SELECT jwt_refresh(%s)", (login["refresh_token"],))
            except psycopg2.Error as e:
                out["r"] = e.pgcode
        t = threading.Thread(target=refresh)
        t.start()
        # the refresh is waiting on a lock before the logout commits
        waited = False
        for _ in range(200):
            if one(admin, "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
                          "AND query LIKE 'SELECT jwt_refresh(%%'") > 0:
                waited = True
                break
            threading.Event().wait(0.01)
        logout.commit()
        t.join(30)
        got = out.get("r")
        S.check(f"logout during refresh {r}: the refresh waited for the logout's row lock", waited)
        S.check(f"logout during refresh {r}: the refresh is refused (the login was ended by logout)",
                isinstance(got, dict) and got.get("error") == "invalid_grant"
                and "logout" in got.get("error_description", ""), str(got)[:100])
        S.check(f"logout during refresh {r}: the ended login's access tokens last no longer",
                one(admin, "SELECT access_expires_at FROM jwt_logins WHERE sid = %s", (login["sid"],))
                == before)
        S.check(f"logout during refresh {r}: another session refuses its access token",
                session_accepts(other, login["access_token"]) == "28000")
        logout.close()
        refresher.close()


def run(admin, other):
    replay_log(admin)
    logout_during_refresh(admin, other)
    conns = [connect() for _ in range(N)]
    rotation_rounds(admin, other, conns, None, "read-committed")
    for c in conns:
        c.close()
    for iso, label in ((psycopg2.extensions.ISOLATION_LEVEL_REPEATABLE_READ, "repeatable-read"),
                       (psycopg2.extensions.ISOLATION_LEVEL_SERIALIZABLE, "serializable")):
        conns = [connect(iso) for _ in range(N)]
        global ROUNDS
        saved, ROUNDS = ROUNDS, max(4, ROUNDS // 4)
        rotation_rounds(admin, other, conns, iso, label)
        ROUNDS = saved
        for c in conns:
            c.close()
    conns = [connect() for _ in range(N)]
    replay_rounds(admin, other, conns, max(4, ROUNDS // 4))
    for c in conns:
        c.close()


if __name__ == "__main__":
    main()
