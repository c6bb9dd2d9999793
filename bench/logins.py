"""The benchmarks of logins and refresh tokens (section 7 of bench/results.md).

bench/bench.py runs these with the others, or alone:

    bash bench/run --only=logins     # only these; section 7 of bench/results.md rewritten
    bash bench/run --only=logins --quick   # smaller sizes, results in bench/out/

In a database of their own (jwt_bench_logins), they measure:

 1. the session path with ended logins: count(*) over a table under the
    policy owner = jwt_claim('sub') with the session token a login's access
    token (it carries a sid, checked against the ended logins), with 10,000
    ended logins against none (target: at most 1.05x), and what the first
    statement after a logout pays to read the revocation set again;
 2. throughput of jwt_issue (signing alone, for scale), jwt_login and
    jwt_refresh (each client rotating its own line of refresh tokens):
    pgbench, one client per CPU, tps and the backends' CPU per call;
 3. the session path while other sessions log in and refresh continuously:
    a PostgREST-style transaction (role and token set, one row read through
    the policy) in a loop, alone, beside a client that signs tokens (which
    writes nothing: the cost of a busy neighbour), beside one that logs in
    and refreshes without pause, and beside one that logs in and out 20
    times a second (each logout invalidates the revocation set); the figures
    are the session backend's own CPU time per transaction and how often it
    read the revocation set again.

Every figure is the median of the rounds; each round measures every case in
turn.  Helpers (log, timed, wait_idle, ...) come from bench.py, passed in as
the module b.
"""

import json
import os
import re
import subprocess
import time

DBNAME = "jwt_bench_logins"
SECRET = "bench-logins-secret-of-forty-bytes-01234"
TARGET = 1.05                   # 10,000 ended logins against none


def sizes(quick):
    return {
        "rows": 100_000 if quick else 1_000_000,
        "ended": 10_000,
        "open": 10_000,
        "rounds": 3 if quick else 5,
        "seconds": 3 if quick else 8,
        "logout_rate": 20,
    }


def setup(b, S):
    admin = b.connect("postgres")
    cur = admin.cursor()
    cur.execute(f"DROP DATABASE IF EXISTS {DBNAME}")
    cur.execute(f"CREATE DATABASE {DBNAME}")
    for role in ("bench_login_web",):
        cur.execute(f"SELECT count(*) FROM pg_roles WHERE rolname = '{role}'")
        if cur.fetchone()[0] == 0:
            cur.execute(f"CREATE ROLE {role} NOLOGIN")
    admin.close()
    conn = b.connect(DBNAME)
    cur = conn.cursor()
    cur.execute("CREATE EXTENSION jwt")
    cur.execute("SELECT jwt_add_key(%s, 'HS256', 'bench-hs')", (SECRET,))
    cur.execute("CREATE TABLE login_docs (id bigint PRIMARY KEY, owner text NOT NULL, body text NOT NULL)")
    cur.execute(f"INSERT INTO login_docs SELECT i, 'user' || (i % 1000), 'document number ' || i "
                f"FROM generate_series(0, {S['rows'] - 1}) i")
    cur.execute("VACUUM ANALYZE login_docs")
    cur.execute("ALTER TABLE login_docs ENABLE ROW LEVEL SECURITY")
    cur.execute("CREATE POLICY by_sub ON login_docs TO bench_login_web USING (owner = jwt_claim('sub'))")
    cur.execute("GRANT SELECT ON login_docs TO bench_login_web")
    # logins that stay open throughout, so that jwt_logins is not empty
    cur.execute("SELECT count(jwt_login(jsonb_build_object('sub', 'open-' || i), 'bench-hs')) "
                f"FROM generate_series(1, {S['open']}) i")
    return conn


def end_logins(cur, n):
    """n ended logins, as jwt_logout() leaves them (their last access token
    an hour away, so they stay in the revocation set)."""
    cur.execute("INSERT INTO jwt_logins (sid, sub, claims, created_at, expires_at, access_expires_at, "
                "ended_at, end_reason) "
                "SELECT 'ended-' || i, 'user' || (i % 1000), '{}', now() - interval '1 hour', "
                "now() + interval '90 days', now() + interval '1 hour', now(), 'logout' "
                f"FROM generate_series(1, {n}) i")


def drop_ended(cur):
    cur.execute("DELETE FROM jwt_logins WHERE sid LIKE 'ended-%'")
    cur.execute("VACUUM jwt_logins")


# ---------------------------------------------------------------------------
# 1. the session path with ended logins
# ---------------------------------------------------------------------------

def session_with_ended(b, conn, S):
    cur = conn.cursor()
    login = b.q1(cur, "SELECT jwt_login('{\"sub\": \"user42\", \"role\": \"web\"}', 'bench-hs')")
    cur.execute("SELECT set_config('jwt.token', %s, false)", (login["access_token"],))
    expected = S["rows"] // 1000
    times = {"none": [], "ended": []}
    reload = {"none": [], "ended": []}
    steady = []
    for r in range(S["rounds"] + 1):            # round 0 warms up
        b.wait_idle(30, cur)
        for case in ("none", "ended"):
            if case == "none":
                drop_ended(cur)
            else:
                end_logins(cur, S["ended"])
            # the first statement after the change reads the revocation set again
            first, _ = b.timed(cur, "SELECT jwt_claim('sub')")
            again, _ = b.timed(cur, "SELECT jwt_claim('sub')")
            cur.execute("SET ROLE bench_login_web")
            secs, _, n = b.timed_steady(cur, "SELECT count(*) FROM login_docs")
            cur.execute("RESET ROLE")
            if n != expected:
                raise SystemExit(f"logins: {n} rows under the policy, expected {expected}")
            if r > 0:
                times[case].append(secs)
                reload[case].append(first - again)
                steady.append(again)
        if r > 0:
            b.log(f"logins: session round {r}/{S['rounds']}: " +
                  ", ".join(f"{k} {v[-1] * 1000:.1f} ms" for k, v in times.items()) +
                  f"; reload with {S['ended']:,} ended {reload['ended'][-1] * 1000:.2f} ms")
    drop_ended(cur)
    cur.execute("RESET jwt.token")
    t_none, t_ended = b.median(times["none"]), b.median(times["ended"])
    return {"rows": S["rows"], "ended": S["ended"], "open": S["open"] + 1,
            "none_s": t_none, "ended_s": t_ended, "ratio": t_ended / t_none,
            "ns_per_row": {"none": t_none / S["rows"] * 1e9, "ended": t_ended / S["rows"] * 1e9},
            "reload_ms": {k: b.median(v) * 1000 for k, v in reload.items()},
            "statement_us": b.median(steady) * 1e6,
            "runs": times}


# ---------------------------------------------------------------------------
# pgbench clients
# ---------------------------------------------------------------------------

def backend_pids(cur, prefix):
    cur.execute("SELECT pid, application_name FROM pg_stat_activity WHERE application_name LIKE %s",
                (prefix + "%",))
    return cur.fetchall()


def pgbench(b, conn, clients, seconds, env_extra=None):
    """Run pgbench processes of one client each, each pinned with its
    backend to a CPU of its own.  clients: (name, script, defines, rate or
    None, cpu).  Returns, per name, tps and transactions, and "server_us":
    the backends' CPU time per transaction, all clients together (the
    postmaster's account of its reaped children, as bench.py's section 3)."""
    ncpu = os.cpu_count() or 1
    procs = {}
    pm0 = b.children_cpu(b.POSTMASTER)
    for name, script, defines, rate, cpu in clients:
        path = os.path.join(b.OUT, f"logins-{name}.sql")
        with open(path, "w") as f:
            f.write(script)
        cmd = ["taskset", "-c", str(cpu % ncpu), "pgbench", "-n", "-M", "prepared", "-c", "1",
               "-j", "1", "-T", str(seconds), "-f", path]
        for k, v in defines.items():
            cmd += ["-D", f"{k}={v}"]
        if rate:
            cmd += ["-R", str(rate)]
        cmd.append(DBNAME)
        env = dict(os.environ, PGAPPNAME=f"bench_login_{name}", **(env_extra or {}))
        procs[name] = (cmd, cpu, subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                                  text=True, env=env))
    cur = conn.cursor()
    pinned = set()
    t0 = time.time()
    while time.time() - t0 < 2.0 and len(pinned) < len(procs):
        for pid, app in backend_pids(cur, "bench_login_"):
            name = app[len("bench_login_"):]
            if name in procs and pid not in pinned:
                try:
                    os.sched_setaffinity(pid, {procs[name][1] % ncpu})
                    pinned.add(pid)
                except OSError:
                    pass
        time.sleep(0.005)
    done = {name: p.communicate() for name, (_, _, p) in procs.items()}
    # the backends are gone (and reaped) before their CPU time is read
    for _ in range(200):
        if not backend_pids(cur, "bench_login_"):
            break
        time.sleep(0.01)
    time.sleep(0.1)
    server = b.children_cpu(b.POSTMASTER) - pm0
    out = {}
    total = 0
    for name, (cmd, _, p) in procs.items():
        stdout, stderr = done[name]
        m = re.search(r"tps = ([0-9.]+) \(without initial connection time\)", stdout)
        if p.returncode != 0 or not m:
            raise SystemExit(f"pgbench failed: {' '.join(cmd)}\n{stdout}\n{stderr}")
        failed = re.search(r"number of failed transactions: (\d+)", stdout)
        if failed and int(failed.group(1)) > 0:
            raise SystemExit(f"pgbench: failed transactions\n{stdout}")
        ntx = int(re.search(r"number of transactions actually processed: (\d+)", stdout).group(1))
        total += ntx
        out[name] = {"tps": float(m.group(1)), "ntx": ntx}
    out["server_us"] = server / max(total, 1) * 1e6
    return out


# ---------------------------------------------------------------------------
# 2. throughput of jwt_issue, jwt_login, jwt_refresh
# ---------------------------------------------------------------------------

ISSUE = "SELECT jwt_issue('{\"sub\": \"bench\", \"role\": \"web\"}', 'bench-hs') IS NOT NULL;\n"
LOGIN = "SELECT jwt_login('{\"sub\": \"bench\", \"role\": \"web\"}', 'bench-hs') IS NOT NULL;\n"
# each client rotates its own line: the refresh token comes back into :rt
REFRESH = "SELECT jwt_refresh(:rt) ->> 'refresh_token' AS rt \\gset\n"


CALLS = (("jwt_issue", ISSUE), ("jwt_login", LOGIN), ("jwt_refresh", REFRESH))
COMMITS = ("on", "off")         # synchronous_commit


def throughput(b, conn, S):
    cur = conn.cursor()
    res = {(k, sc): {"tps": [], "cpu": []} for k, _ in CALLS for sc in COMMITS}
    for r in range(S["rounds"] + 1):
        b.wait_idle(30, cur)
        for sc in COMMITS:
            for what, script in CALLS:
                clients = []
                for i in range(2):
                    defines = {}
                    if what == "jwt_refresh":
                        defines["rt"] = b.q1(cur, "SELECT jwt_login('{\"sub\": \"bench\"}', 'bench-hs') "
                                                  "->> 'refresh_token'")
                    clients.append((f"{what}_{i}", script, defines, None, i))
                got = pgbench(b, conn, clients, S["seconds"],
                              {"PGOPTIONS": f"-c synchronous_commit={sc}"})
                if r > 0:
                    res[(what, sc)]["tps"].append(sum(g["tps"] for n, g in got.items() if n != "server_us"))
                    res[(what, sc)]["cpu"].append(got["server_us"])
        if r > 0:
            b.log(f"logins: throughput round {r}/{S['rounds']}: " +
                  ", ".join(f"{k} (sync {sc}) {v['tps'][-1]:,.0f}/s {v['cpu'][-1]:.0f} µs"
                            for (k, sc), v in res.items()))
        # the rows the rounds leave behind
        cur.execute("DELETE FROM jwt_logins WHERE sub = 'bench'")
        cur.execute("VACUUM jwt_logins, jwt_refresh_tokens")
    return {f"{k} {sc}": {"call": k, "synchronous_commit": sc, "tps": b.median(v["tps"]),
                          "cpu_us": b.median(v["cpu"]), "runs": v["tps"]}
            for (k, sc), v in res.items()}


# ---------------------------------------------------------------------------
# 3. the session path while others log in, refresh and log out
# ---------------------------------------------------------------------------

CHURN = ("SELECT jwt_refresh(jwt_login('{\"sub\": \"churn\", \"role\": \"web\"}', 'bench-hs') "
         "->> 'refresh_token') IS NOT NULL;\n")
LOGOUTS = ("SELECT jwt_logout(jwt_login('{\"sub\": \"churn\", \"role\": \"web\"}', 'bench-hs') "
           "->> 'refresh_token');\n")


def revocation_loads(cur):
    cur.execute("SELECT (jwt_cache_stats() ->> 'registry_revocation_loads')::bigint")
    return cur.fetchone()[0]


def session_loop(b, conn, tok, seconds):
    """The PostgREST-style transaction in a loop on conn for a while: its
    rate, its backend's CPU time per transaction, and how often the backend
    read the revocation set again meanwhile."""
    cur = conn.cursor()
    pid = conn.info.backend_pid
    n = 0
    loads = revocation_loads(cur)
    c0 = b.backend_cpu(pid)
    t_end = time.time() + seconds
    while time.time() < t_end:
        cur.execute("BEGIN")
        cur.execute("SELECT set_config('role', 'bench_login_web', true), set_config('jwt.token', %s, true)",
                    (tok,))
        cur.execute("SELECT id, owner, body FROM login_docs WHERE id = 42")
        if len(cur.fetchall()) != 1:
            raise SystemExit("logins: the session transaction reads no row")
        cur.execute("COMMIT")
        n += 1
    cpu = (b.backend_cpu(pid) - c0) / 1e3 / max(n, 1)
    return n / seconds, cpu, revocation_loads(cur) - loads


def session_under_churn(b, conn, S):
    """The session runs here, pinned with its backend to CPU 0; the other
    client is pgbench, pinned with its backend to CPU 1."""
    import threading
    cur = conn.cursor()
    login = b.q1(cur, "SELECT jwt_login('{\"sub\": \"user42\", \"role\": \"web\"}', 'bench-hs')")
    tok = login["access_token"]
    session = b.connect(DBNAME)
    ncpu = os.cpu_count() or 1
    mine = os.sched_getaffinity(0)
    os.sched_setaffinity(0, {0})
    os.sched_setaffinity(session.info.backend_pid, {0})
    cases = {
        "nothing": None,
        # the other CPU busy with work that writes nothing: what sharing the
        # machine costs the session, invalidations aside
        "a client signing tokens (jwt_issue), for comparison": ("issue", ISSUE, {}, None, 1 % ncpu),
        "a client logging in and refreshing": ("churn", CHURN, {}, None, 1 % ncpu),
        f"a client logging in and out {S['logout_rate']} times a second":
            ("logouts", LOGOUTS, {}, S["logout_rate"], 1 % ncpu),
    }
    res = {c: {"tps": [], "cpu": [], "other_tps": [], "loads": []} for c in cases}
    try:
        for r in range(S["rounds"] + 1):
            b.wait_idle(30)
            for case, other in cases.items():
                got = {}
                t = None
                if other is not None:
                    t = threading.Thread(target=lambda: got.update(pgbench(b, conn, [other], S["seconds"] + 1)))
                    t.start()
                    time.sleep(0.5)
                tps, cpu, loads = session_loop(b, session, tok, S["seconds"])
                if t is not None:
                    t.join()
                if r > 0:
                    res[case]["tps"].append(tps)
                    res[case]["cpu"].append(cpu)
                    res[case]["loads"].append(loads)
                    if other is not None:
                        res[case]["other_tps"].append(got[other[0]]["tps"])
                cur.execute("DELETE FROM jwt_logins WHERE sub = 'churn'")
                cur.execute("VACUUM jwt_logins, jwt_refresh_tokens")
            if r > 0:
                b.log(f"logins: churn round {r}/{S['rounds']}: " +
                      ", ".join(f"{k}: {v['cpu'][-1]:.1f} µs" for k, v in res.items()))
    finally:
        os.sched_setaffinity(0, mine)
        session.close()
    base = b.median(res["nothing"]["cpu"])
    return {c: {"tps": b.median(v["tps"]), "cpu_us": b.median(v["cpu"]),
                "cpu_ratio": b.median(v["cpu"]) / base,
                "other_tps": b.median(v["other_tps"]) if v["other_tps"] else None,
                "loads_per_s": b.median(v["loads"]) / S["seconds"]}
            for c, v in res.items()}


# ---------------------------------------------------------------------------
# the section of results.md
# ---------------------------------------------------------------------------

BEGIN_MARK = "<!-- logins: written by bench/logins.py -->"
END_MARK = "<!-- logins: end -->"


def markdown(b, lg):
    s, t, c = lg["session"], lg["throughput"], lg["churn"]
    L = [BEGIN_MARK, "## 7. Logins and refresh tokens\n"]
    w = L.append
    w(f"Measured {lg['date']} (`bench/logins.py`), in a database of its own; medians of "
      f"{lg['rounds']} rounds.\n")
    verdict = b.verdict(s["ratio"], "max", TARGET)[0]
    w(f"**The session path with ended logins.** `SELECT count(*)` over {s['rows']:,} rows as a role "
      f"whose policy is `owner = jwt_claim('sub')`, the session token a login's access token (it carries "
      f"a `sid`, which `jwt_claim()` checks against the ended logins once per statement). "
      f"{s['open']:,} open logins throughout; then {s['ended']:,} ended ones added (refused until "
      "their last access token expires), against none. The statement runs again until its runs add "
      f"up to {b.STEADY_SECONDS} s, and the round takes their median, as in section 1.\n")
    w("| ended logins | ms (CPU) | ns per row | ratio | target |\n|---|---|---|---|---|")
    w(f"| none | {s['none_s'] * 1000:.1f} | {s['ns_per_row']['none']:.1f} | 1.000 | |")
    w(f"| {s['ended']:,} | {s['ended_s'] * 1000:.1f} | {s['ns_per_row']['ended']:.1f} | "
      f"{s['ratio']:.3f} | ≤ {TARGET:.2f}x: {verdict} |")
    w("")
    w(f"The first statement after a login ends (an invalidation of the revocation set) reads the "
      f"ended logins again: {s['reload_ms']['ended']:.2f} ms more than the next statement with "
      f"{s['ended']:,} ended logins, {s['reload_ms']['none']:.2f} ms with none (a statement "
      f"calling `jwt_claim('sub')` is {s['statement_us']:.0f} µs otherwise); the keys are not "
      "parsed again.\n")
    w(f"**Throughput.** pgbench `-M prepared`, two clients, each a process of its own pinned with its "
      f"backend to one of the two CPUs, {lg['seconds']} s a run; the `jwt_refresh` clients each rotate their "
      "own line of refresh tokens (the new refresh token comes back into the next call, `\\gset`). HS256 "
      "registry key. *CPU* is the backends' CPU time per call, commit included (the postmaster's account "
      "of its reaped children, as in section 3). `jwt_login` and `jwt_refresh` write, so each call's "
      "commit waits for its WAL to reach the disk (`synchronous_commit = on`, fsync on), which is what "
      "bounds their rate here; with `synchronous_commit = off` the CPU does.\n")
    w("| call | synchronous_commit | calls/s (2 clients) | the rounds, lowest to highest | ms per call and client | "
      "backend CPU µs per call |\n|---|---|---|---|---|---|")
    for k, v in t.items():
        w(f"| `{v['call']}` | {v['synchronous_commit']} | {v['tps']:,.0f} | "
          f"{min(v['runs']):,.0f} to {max(v['runs']):,.0f} | {2000 / v['tps']:.2f} | {v['cpu_us']:.0f} |")
    w("")
    w("With `synchronous_commit = on` the rate is the disk's: this machine's disk is shared with other "
      "work, and the rounds differ by up to a factor of ten. The CPU figures are steady.\n")
    w("")
    w("**The session path while others log in and refresh.** The session runs a PostgREST-style "
      "transaction in a loop (`BEGIN`; role and `jwt.token` set in one statement; one row of the table "
      "above by primary key through the policy; `COMMIT`; from Python, pinned with its backend to one "
      "CPU) with the same access token; beside it, on the other CPU: nothing; a pgbench client that "
      "logs in and refreshes without pause (neither ends a login, so neither sends an invalidation); or one "
      f"that logs in and out {lg['logout_rate']} times a second (each logout invalidates the revocation "
      "set, which the session reads again at its next statement: the open and ended logins of "
      "`jwt_logins`); and, for comparison, one that signs tokens without pause and writes nothing: "
      "what a busy neighbour costs the session (the two CPUs of this virtual machine share a core's "
      "caches), invalidations aside. *CPU* is the session backend's own CPU time per transaction "
      "(`/proc/<pid>/schedstat`); *reads of the revocation set* are the session backend's, from "
      "`jwt_cache_stats()` (one per run comes from the cleanup before it, which deletes the other "
      "client's logins).\n")
    w("| beside the session | session transactions/s | session backend CPU µs per transaction | ratio | "
      "reads of the revocation set per second | the other client's calls/s |\n|---|---|---|---|---|---|")
    for case, v in c.items():
        other = f"{v['other_tps']:,.0f}" if v["other_tps"] else ""
        w(f"| {case} | {v['tps']:,.0f} | {v['cpu_us']:.1f} | {v['cpu_ratio']:.3f} | "
          f"{v['loads_per_s']:.1f} | {other} |")
    w("")
    w(END_MARK)
    return "\n".join(L)


def run(b):
    S = sizes(b.QUICK)
    t0 = time.time()
    if b.POSTMASTER is None:            # bench.py --only=logins: main() has not looked
        c = b.connect("postgres")
        with open(f"/proc/{c.info.backend_pid}/stat") as f:
            b.POSTMASTER = int(f.read().rsplit(")", 1)[1].split()[1])
        c.close()
    b.log(f"logins: setting up {DBNAME} ({S['rows']:,} rows, {S['open']:,} open logins)")
    conn = setup(b, S)
    lg = {"date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()), "rounds": S["rounds"],
          "seconds": S["seconds"], "logout_rate": S["logout_rate"]}
    lg["session"] = session_with_ended(b, conn, S)
    lg["throughput"] = throughput(b, conn, S)
    lg["churn"] = session_under_churn(b, conn, S)
    conn.close()
    admin = b.connect("postgres")
    admin.cursor().execute(f"DROP DATABASE IF EXISTS {DBNAME}")
    admin.close()
    b.log(f"logins: done in {time.time() - t0:.0f} s; 10,000 ended logins "
          f"{lg['session']['ratio']:.3f}x none")
    return lg


def splice(b, lg):
    """Rewrite section 7 of results.md (or add it), leaving the rest as it is."""
    path = os.path.join(b.RESULTS_DIR, "results.md")
    text = open(path).read() if os.path.exists(path) else "# jwt benchmarks\n"
    section = markdown(b, lg)
    if BEGIN_MARK in text and END_MARK in text:
        a = text.index(BEGIN_MARK)
        z = text.index(END_MARK) + len(END_MARK)
        text = text[:a] + section + text[z:]
    else:
        anchor = text.find("\n## Targets missed")
        if anchor < 0:
            anchor = text.find("\n## Where the time goes")
        text = (text.rstrip("\n") + "\n\n" + section + "\n") if anchor < 0 else \
            (text[:anchor] + "\n" + section + "\n" + text[anchor:])
    with open(path, "w") as f:
        f.write(text)
    with open(os.path.join(b.OUT, "logins.json"), "w") as f:
        json.dump(lg, f, indent=1, default=str)
    b.log(f"wrote {path} (section 7)")
