#!/usr/bin/python3
"""Bearer tokens in statistics and logs: what the README and jwt.token's own
description recommend keeps the token out of them.

It starts a cluster of its own with the pg_config on PATH (the extension
installed there), so it needs no running server:

    pg_virtualenv -t -v 15 /usr/bin/python3 test/token_stats.py

  1. the description of jwt.token (its long description in src/settings.c:
     the setting is GUC_NO_SHOW_ALL, so pg_settings hides it) recommends the
     bind-parameter form, set_config('jwt.token', $1, true), says why, and
     no longer recommends a literal (SET LOCAL jwt.token = '...');
  2. in a private cluster of its own, started with shared_preload_libraries
     = pg_stat_statements, log_statement = all and log_parameter_max_length
     = 0 (the README's advice), pgbench -M extended sets a token the
     recommended way, through a bind parameter: the token reaches neither
     pg_stat_statements nor the server log, and jwt_claim() read it; the
     literal form is run as a control, and its token is in both (so the
     checks can see a leak when there is one); since PostgreSQL 18,
     pg_stat_statements shows a SET's value as $1, and there the control
     checks that form instead (the log still has the token).

Ends with "token-stats: N passed, N failed".
"""

import os
import re
import shlex
import shutil
import socket
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))   # test/, for suite.py
import suite                                                     # noqa: E402

T = suite.Suite("token-stats", reexec_guard="JWT_TOKEN_STATS_REEXEC")

try:
    import psycopg2
except ImportError as e:
    T.reexec_or_cannot_run(e, "Debian's python3-psycopg2")

SECRET = "token-stats-secret-token-stats-secret-0123"
BINDIR = subprocess.run(["pg_config", "--bindir"], capture_output=True, text=True).stdout.strip()


def tool(name):
    return os.path.join(BINDIR, name)


def as_owner(args, cwd, timeout=60):
    """Run a server tool as the cluster's owner: postgres when we are root."""
    if os.geteuid() == 0:
        args = ["su", "postgres", "-c", shlex.join(args)]
    return subprocess.run(args, cwd=cwd, capture_output=True, text=True, timeout=timeout)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def main():
    if not os.path.exists(tool("initdb")) or not os.path.exists(tool("pgbench")):
        T.cannot_run(f"no initdb or pgbench in {BINDIR!r} (pg_config --bindir)")
    # jwt.token is GUC_NO_SHOW_ALL, so pg_settings does not list it: read its
    # description where it is defined, the string literals of its definition
    with open(os.path.join(suite.REPO, "src", "settings.c"), encoding="utf-8") as f:
        src = f.read()
    m = re.search(r'DefineCustomStringVariable\("jwt\.token",(.*?)&jwt_session_token', src, re.S)
    literals = re.findall(r'"((?:[^"\\]|\\.)*)"', m.group(1)) if m else []
    desc = "".join(literals[1:]) if literals else ""
    T.check("jwt.token's description recommends set_config('jwt.token', $1, true)",
            "set_config('jwt.token', $1, true)" in desc, desc)
    T.check("... and says why (pg_stat_statements, log_statement, pg_stat_activity)",
            all(w in desc for w in ("pg_stat_statements", "log_statement", "pg_stat_activity")), desc)
    T.check("... and no longer recommends a literal (SET LOCAL jwt.token = '...')",
            "SET LOCAL jwt.token = '" not in desc.replace("Not as a literal", ""), desc)
    private_cluster()
    T.finish()


def private_cluster():
    tmp = tempfile.mkdtemp(prefix="jwt-token-stats.")
    os.chmod(tmp, 0o755)
    if os.geteuid() == 0:
        shutil.chown(tmp, "postgres", "postgres")
    data, log = os.path.join(tmp, "data"), os.path.join(tmp, "server.log")
    port = free_port()
    started = False
    try:
        r = as_owner([tool("initdb"), "-D", data, "-U", "postgres", "-A", "trust"], cwd=tmp)
        if not T.check("initdb of a private cluster", r.returncode == 0, r.stderr[-300:]):
            return
        with open(os.path.join(data, "postgresql.conf"), "a") as f:
            f.write(f"port = {port}\nlisten_addresses = ''\nunix_socket_directories = '{tmp}'\n"
                    "shared_preload_libraries = 'pg_stat_statements'\nfsync = off\n"
                    "log_statement = 'all'\nlog_parameter_max_length = 0\n"
                    "log_min_error_statement = error\n")
        r = as_owner([tool("pg_ctl"), "-D", data, "-l", log, "-w", "-t", "30", "start"], cwd=tmp)
        started = True
        if not T.check("the private cluster starts with pg_stat_statements preloaded",
                       r.returncode == 0, r.stderr[-300:]):
            return
        conn = psycopg2.connect(dbname="postgres", host=tmp, port=port, user="postgres")
        conn.autocommit = True
        cur = conn.cursor()
        cur.execute("CREATE EXTENSION pg_stat_statements; CREATE EXTENSION jwt")
        cur.execute("SELECT jwt_add_key(%s, 'HS256', 'stats')", (SECRET,))
        cur.execute("SELECT jwt_sign(jsonb_build_object('sub', s, 'exp', 4102444800), %s, 'HS256', "
                    "'{\"kid\":\"stats\"}') FROM unnest('{bound,literal}'::text[]) s", (SECRET,))
        bound, literal = [row[0] for row in cur.fetchall()]
        cur.execute("SELECT pg_stat_statements_reset()")

        # the recommended form, through the extended protocol's bind parameter
        script = os.path.join(tmp, "bound.sql")
        with open(script, "w") as f:
            f.write("BEGIN;\nSELECT set_config('jwt.token', :tok, true);\n"
                    "SELECT jwt_claim('sub') = 'bound' AS ok \\gset\nCOMMIT;\n"
                    "SELECT CASE WHEN :ok THEN 1 ELSE 1/0 END;\n")
        env = dict(os.environ, PGHOST=tmp, PGPORT=str(port), PGUSER="postgres", PGDATABASE="postgres")
        r = subprocess.run([tool("pgbench"), "-n", "-M", "extended", "-t", "1", "-f", script,
                            "-D", f"tok={bound}"], env=env, capture_output=True, text=True, timeout=60)
        T.check("pgbench -M extended sets jwt.token through a bind parameter and jwt_claim reads it",
                r.returncode == 0 and "failed transactions: 0 " in r.stdout, (r.stdout + r.stderr)[-400:])

        # the control: the literal form
        cur.execute("BEGIN; SET LOCAL jwt.token = '%s'; COMMIT" % literal)

        cur.execute("SELECT query FROM pg_stat_statements")
        queries = [row[0] for row in cur.fetchall()]
        T.check("pg_stat_statements holds the bind-parameter statement",
                any(re.search(r"set_config\(\$\d+, \$\d+, \$\d+\)", q) for q in queries), queries)
        T.check("... and not the token set through the bind parameter",
                not any(bound in q for q in queries))
        cur.execute("SHOW server_version_num")
        if int(cur.fetchone()[0]) >= 180000:
            # 18: pg_stat_statements shows a SET's value as a constant (upstream dc68515968)
            T.check("control: pg_stat_statements holds the literal SET LOCAL with $1 for its token "
                    "(PostgreSQL 18 and later)",
                    any(re.search(r"SET LOCAL jwt\.token = \$\d+", q) for q in queries)
                    and not any(literal in q for q in queries), queries)
        else:
            T.check("control: pg_stat_statements keeps the literal SET LOCAL with its token",
                    any(literal in q for q in queries))
        conn.close()
        # no logging collector: each backend writes its log lines to the file
        # (unbuffered stderr) before it answers, so the file is complete now
        with open(log, encoding="utf-8", errors="replace") as f:
            text = f.read()
        T.check("the server log (log_statement = all) has the bind-parameter statement",
                "set_config('jwt.token', $1, true)" in text)
        T.check("... and not its token (log_parameter_max_length = 0)", bound not in text)
        T.check("control: the server log has the literal SET LOCAL's token", literal in text)
    finally:
        if started:
            as_owner([tool("pg_ctl"), "-D", data, "-m", "immediate", "-w", "stop"], cwd=tmp)
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
