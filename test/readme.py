#!/usr/bin/python3
"""The README's SQL, run as a reader would paste it.

Every ```sql block of README.md, in order, goes into one psql session
against a fresh database, so that what a block creates (roles, tables, psql
variables set with \\gset) is there for the blocks after it, as it is for a
reader.  Run inside a throwaway cluster (the PG* environment of
pg_virtualenv, whose user is a superuser):

    pg_virtualenv -t -v 15 /usr/bin/python3 test/readme.py

Conventions of the README:
  - the line <!-- not run --> just before a block marks a deliberate
    fragment (a block that needs a file, a server or a psql the reader may
    not have); it is skipped, and every skip is listed;
  - a comment line "-- → VALUE" after a statement is the result the README
    promises: the statement's output (psql -At, so a single value prints
    bare) must equal VALUE, or start with it when VALUE ends in "…".

One check per block that runs, one per promised result.  The session stops
at the first error (ON_ERROR_STOP), as a reader would; the blocks after it
count as failed, not run.
"""

import os
import re
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import suite  # noqa: E402

T = suite.Suite("readme", "JWT_README_REEXEC")
README = os.path.join(suite.REPO, "README.md")
NOT_RUN = "<!-- not run -->"
DB = "app"   # the README says "ALTER DATABASE app"
MARK = "<<<jwt-readme"


def blocks():
    """(line number, text, skipped) of each ```sql block."""
    out = []
    lines = open(README, encoding="utf-8").read().split("\n")
    i = 0
    while i < len(lines):
        if lines[i].strip() == "```sql":
            start = i + 1
            j = start
            while j < len(lines) and lines[j].strip() != "```":
                j += 1
            k = i - 1
            while k >= 0 and lines[k].strip() == "":
                k -= 1
            skipped = k >= 0 and lines[k].strip() == NOT_RUN
            out.append((start + 1, "\n".join(lines[start:j]), skipped))
            i = j
        i += 1
    return out


EXPECT = re.compile(r"^\s*-- → (.*)$")


def script(runnable):
    """The psql script: each block, cut after each promised result, between
    markers; and the list of (block line, expected value or None)."""
    parts = []
    checks = []
    for line_no, text, _ in runnable:
        chunk = []
        parts.append(f"\\echo {MARK} block {line_no}")
        for offset, line in enumerate(text.split("\n")):
            m = EXPECT.match(line)
            if m:
                n = len(checks)
                checks.append((line_no + offset, m.group(1)))
                parts.append("\n".join(chunk))
                parts.append(f"\\echo {MARK} result {n}")
                chunk = []
            else:
                chunk.append(line)
        parts.append("\n".join(chunk))
        parts.append(f"\\echo {MARK} end {line_no}")
    return "\n".join(parts) + "\n", checks


def main():
    all_blocks = blocks()
    runnable = [b for b in all_blocks if not b[2]]
    for line_no, _, skipped in all_blocks:
        if skipped:
            T.skip(f"README.md line {line_no}", "marked <!-- not run -->")
    if not runnable:
        T.check("the README has SQL blocks to run", False)
        T.finish()

    roles_before = set(subprocess.run(["psql", "-X", "-At", "-d", "postgres", "-c",
                                       "SELECT rolname FROM pg_roles"],
                                      capture_output=True, text=True).stdout.split())
    admin = subprocess.run(["psql", "-X", "-q", "-d", "postgres", "-c",
                            f"DROP DATABASE IF EXISTS {DB}", "-c", f"CREATE DATABASE {DB}"],
                           capture_output=True, text=True)
    if admin.returncode != 0:
        T.cannot_run(f"cannot create the database {DB}: {admin.stderr.strip()} "
                     "(run under pg_virtualenv -t -v 15)")

    text, checks = script(runnable)
    with tempfile.NamedTemporaryFile("w", suffix=".sql", delete=False) as f:
        f.write(text)
        path = f.name
    os.chmod(path, 0o644)
    try:
        r = subprocess.run(["psql", "-X", "-q", "-At", "-v", "ON_ERROR_STOP=1",
                            "-d", DB, "-f", path],
                           capture_output=True, text=True, timeout=600,
                           cwd=tempfile.gettempdir())
    finally:
        os.unlink(path)

    # What came out between the markers.
    ended = set()
    results = {}
    current = []
    for line in r.stdout.split("\n"):
        if line.startswith(MARK):
            kind, arg = line[len(MARK):].split()
            if kind == "result":
                results[int(arg)] = current
            elif kind == "end":
                ended.add(int(arg))
            current = []
        else:
            current.append(line)

    failed_at = None
    for line_no, _, _ in runnable:
        ok = line_no in ended
        if not ok and failed_at is None:
            failed_at = line_no
            err = " | ".join(x for x in r.stderr.strip().split("\n")[-4:])
            T.check(f"README.md block at line {line_no} runs", False, err)
        elif not ok:
            T.check(f"README.md block at line {line_no} runs", False,
                    f"not reached: the session stopped at the block at line {failed_at}")
        else:
            T.check(f"README.md block at line {line_no} runs", True)

    for n, (line_no, want) in enumerate(checks):
        got = [x for x in results.get(n, []) if x != ""]
        if n not in results:
            T.check(f"README.md line {line_no}: result", False, "not reached")
            continue
        last = got[-1] if got else ""
        if want.endswith("…"):
            ok = last.startswith(want[:-1])
        else:
            ok = last == want
        T.check(f"README.md line {line_no}: result is {want}", ok, f"got {last!r}")

    # the cluster is shared with other suites: the database and the roles
    # the README made go
    subprocess.run(["psql", "-X", "-q", "-d", "postgres", "-c", f"DROP DATABASE IF EXISTS {DB}"],
                   capture_output=True, text=True)
    roles_after = set(subprocess.run(["psql", "-X", "-At", "-d", "postgres", "-c",
                                      "SELECT rolname FROM pg_roles"],
                                     capture_output=True, text=True).stdout.split())
    for role in sorted(roles_after - roles_before):
        subprocess.run(["psql", "-X", "-q", "-d", "postgres", "-c",
                        f'DROP ROLE IF EXISTS "{role}"'], capture_output=True, text=True)
    if T.skipped:
        print(f"readme: skipped {T.skipped} blocks marked {NOT_RUN} (listed above)", flush=True)
    T.finish()


if __name__ == "__main__":
    main()
