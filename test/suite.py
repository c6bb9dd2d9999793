"""What the Python test suites share.

conformance_sql.py, interop_pyjwt.py, interop_jwcrypto.py and cluster.py each
import this module from their own folder, test/, found from their __file__:

    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    import suite

Importing it takes the repository root off sys.path: the root holds the
extension's jwt.so, which Python would take for a module named "jwt".

A suite makes one Suite, which counts its checks and prints one line per
failed check (FAIL ...) and per skipped combination (SKIP ...: reason; a skip
is not a pass); finish() prints "<suite>: skipped N checks: ..." when any was
skipped (test/run repeats it in its summary), then "<suite>: N passed, N
failed", and exits 1 on any failure.  Only the extension's own checks count:
a setup step or a peer library checking its own output goes through setup(),
which fails on an exception and counts nothing otherwise.  A suite that cannot run at all says so and exits 1 without a
summary line.
"""

import base64
import json
import os
import sys
import threading
from decimal import Decimal

# psycopg2 is imported where it is used: by then the suite has imported it,
# or has run itself again where it can.

SYSTEM_PYTHON = "/usr/bin/python3"   # where Debian's python3-psycopg2, -jwt, -jwcrypto live
REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

sys.path[:] = [p for p in sys.path if os.path.abspath(p or os.curdir) != REPO]


class Suite:
    """A suite's name, its tally, and its way out when it cannot run."""

    def __init__(self, name, reexec_guard, one_line_reasons=False):
        self.name = name
        self.reexec_guard = reexec_guard     # set in the environment once re-run
        self.one_line_reasons = one_line_reasons
        self.passed = 0
        self.failed = 0
        self.skipped = 0
        self.lock = threading.Lock()         # cluster.py checks from threads too

    # ------------------------------------------------------- cannot run

    def cannot_run(self, why):
        if self.one_line_reasons:
            why = " ".join(str(why).split())
        print(f"{self.name}: cannot run: {why}", flush=True)
        sys.exit(1)

    def reexec_or_cannot_run(self, error, needs):
        """After an ImportError: run the suite again under the system Python,
        where Debian's packages are, unless this is it or it was tried."""
        if (os.environ.get(self.reexec_guard) is None and os.path.exists(SYSTEM_PYTHON)
                and os.path.realpath(sys.executable) != os.path.realpath(SYSTEM_PYTHON)):
            os.environ[self.reexec_guard] = "1"
            script = os.path.abspath(sys.argv[0])
            os.execv(SYSTEM_PYTHON, [SYSTEM_PYTHON, script] + sys.argv[1:])
        self.cannot_run(f"{error} (needs {needs}; this is {sys.executable})")

    def connect(self, virtualenv="pg_virtualenv -v 15", setup=()):
        """An autocommit connection from the PG* environment, the extension
        created (after the setup statements)."""
        import psycopg2
        try:
            conn = psycopg2.connect("")
        except psycopg2.Error as e:
            self.cannot_run(f"cannot connect to PostgreSQL ({str(e).strip()}); "
                            f"run under {virtualenv}")
        conn.autocommit = True     # every statement its own transaction
        try:
            with conn.cursor() as cur:
                for statement in setup:
                    cur.execute(statement)
                cur.execute("CREATE EXTENSION IF NOT EXISTS jwt")
        except psycopg2.Error as e:
            self.cannot_run(f"CREATE EXTENSION jwt failed ({str(e).strip()}); "
                            "run make install first")
        return conn

    # ------------------------------------------------------------ tally

    def check(self, name, ok, detail=""):
        with self.lock:
            if ok:
                self.passed += 1
            else:
                self.failed += 1
                detail = " ".join(str(detail).split())     # one line per failure
                print(f"FAIL {name}" + (f": {detail}" if detail else ""), flush=True)
        return ok

    def run(self, name, fn):
        """A check whose body may raise: an exception is a failure too."""
        try:
            ok, detail = fn()
        except Exception as e:        # the check's own failure, reported by name
            ok, detail = False, f"unexpected {type(e).__name__}: {e}"
        return self.check(name, ok, detail)

    def skip(self, what, why):
        """A combination that cannot be tried: printed, and not a pass."""
        with self.lock:
            self.skipped += 1
            print(f"SKIP {what}: {why}", flush=True)

    def setup(self, name, fn):
        """A setup step or a harness run, not a check of the extension: an
        exception fails it (counted), success counts nothing."""
        try:
            fn()
        except Exception as e:        # the step's own failure, reported by name
            self.check(name, False, f"unexpected {type(e).__name__}: {e}")

    def note(self, text):
        print(f"{self.name}: {text}", flush=True)

    def finish(self):
        """The skip line, the summary line; exit 1 on any failure."""
        if self.skipped:
            print(f"{self.name}: skipped {self.skipped} checks: see the SKIP lines above",
                  flush=True)
        print(f"{self.name}: {self.passed} passed, {self.failed} failed", flush=True)
        sys.exit(1 if self.failed else 0)


# ------------------------------------------------------------ the SQL side

class SqlError(Exception):
    def __init__(self, e):
        super().__init__(e.pgerror)
        self.pgcode = e.pgcode
        self.message = e.diag.message_primary
        self.detail = e.diag.message_detail or ""

    def __str__(self):
        return f"SQLSTATE {self.pgcode}: {self.message}" + (
            f" ({self.detail})" if self.detail else "")


def sql_one(conn, query, params):
    """The first column of the one row; a database error as SqlError."""
    import psycopg2
    try:
        with conn.cursor() as cur:
            cur.execute(query, params)
            return cur.fetchone()[0]
    except psycopg2.Error as e:
        raise SqlError(e) from None


# ------------------------------------------------- JSON compared as JSON

def canon(v):
    """A value comparable as JSON: numbers by value, true is not 1."""
    if isinstance(v, bool):
        return ("bool", v)
    if v is None:
        return ("null",)
    if isinstance(v, (int, float, Decimal)):
        return ("num", Decimal(repr(v)) if isinstance(v, float) else Decimal(v))
    if isinstance(v, str):
        return ("str", v)
    if isinstance(v, list):
        return ("arr", tuple(canon(x) for x in v))
    if isinstance(v, dict):
        return ("obj", tuple(sorted((k, canon(x)) for k, x in v.items())))
    raise TypeError(f"not JSON: {type(v).__name__}")


def parse_json(text):
    return json.loads(text, parse_float=Decimal, parse_int=Decimal)


def same_json(a, b):
    return canon(a) == canon(b)


# ------------------------------------------------------------- base64url

def b64u(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64u_decode(s):
    return base64.urlsafe_b64decode(s + "=" * (-len(s) % 4))
