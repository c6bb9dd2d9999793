#!/usr/bin/python3
"""mutation: every verification rule and key check, removed in turn, is caught.

Debian packages no mutation tool for C, so this is the project's own.  The
rules live where the source names them, with a marker comment on a line of
its own:

    /* mutation: NAME: FROM => TO */
    /* mutation: NAME: FROM => TO ;; FROM2 => TO2 */

A mutant replaces, in the lines after its marker (other marker lines
skipped, at most LOOKAHEAD of them), the first occurrence of FROM by TO, then
of FROM2 by TO2 from there on, and so on.  Each edit removes the check:
its condition becomes 0 (or its status OK), never a different check.  A
marker whose FROM is not found, or a mutant that does not compile, is a
failure: the marker went stale.

For each mutant, in a copy of the source in a temporary directory: the
mutated file is compiled (only it), and the fast suites run in turn until
one fails, which catches the mutant:
    core        test/core/run_core (src/core alone; marks in src/core only)
    wycheproof  test/core/wycheproof, when JWT_VECTORS holds the vectors
    regress     the pg_regress suites, against the mutant's jwt.so installed
                into a private copy of PostgreSQL with its own cluster, so
                the install that other suites use is never touched
A mutant that no suite catches fails this suite: a rule without a test.

Each mutant is one check; the summary is "mutation: N passed, N failed".
Without the vectors, the wycheproof suite is not run; a mutant that only it
would catch then fails (no rule may depend on optional inputs; none does), and
a note says the suite ran without it.

Run it where PG_CONFIG (else the pg_config on PATH) is the PostgreSQL to copy
(Debian's layout or a build from source; test/run does, inside
its cluster).  MUTATION_ONLY=name1,name2 limits the run to those mutants.
"""

import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import suite  # noqa: E402

REPO = suite.REPO
LOOKAHEAD = 8
MARK = re.compile(r"^\s*/\* mutation: ([a-z0-9-]+): (.*) \*/\s*$")
CORE_CFLAGS = ["-std=c11", "-O0", "-g", "-Wall", "-Wextra", "-Werror", "-Wshadow",
               "-Wstrict-prototypes", "-Isrc"]
S = suite.Suite("mutation", "JWT_MUTATION_REEXEC")


def sh(cmd, cwd, env=None, timeout=600):
    """Run cmd; (ok, output)."""
    try:
        r = subprocess.run(cmd, cwd=cwd, env=env, stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, timeout=timeout,
                           shell=isinstance(cmd, str))
    except subprocess.TimeoutExpired:
        return False, "timed out"
    return r.returncode == 0, r.stdout.decode(errors="replace")


# ------------------------------------------------------------ the markers

def markers():
    """[(name, path, line index of the marker, [(from, to), ...])]"""
    found = []
    for d in ("src", "src/core"):
        for f in sorted(os.listdir(os.path.join(REPO, d))):
            if not f.endswith((".c", ".h")):
                continue
            rel = f"{d}/{f}"
            with open(os.path.join(REPO, rel)) as fh:
                lines = fh.read().split("\n")
            for i, line in enumerate(lines):
                m = MARK.match(line)
                if not m:
                    if "mutation:" in line and "/*" in line:
                        S.check(f"marker at {rel}:{i + 1} is well-formed", False, line.strip())
                    continue
                edits = []
                for part in m.group(2).split(" ;; "):
                    if " => " not in part:
                        S.check(f"marker {m.group(1)} is well-formed", False, part)
                        break
                    a, b = part.split(" => ", 1)
                    edits.append((a, b))
                else:
                    found.append((m.group(1), rel, i, edits))
    return found


def mutate(text, line_index, edits):
    """The text with the edits applied after the marker, or None."""
    lines = text.split("\n")
    body = []
    j = line_index + 1
    while j < len(lines) and len(body) < LOOKAHEAD:
        if not MARK.match(lines[j]):
            body.append(j)
        j += 1
    window = "\n".join(lines[k] for k in body)
    pos = 0
    for a, b in edits:
        at = window.find(a, pos)
        if at < 0:
            return None
        window = window[:at] + b + window[at + len(a):]
        pos = at + len(b)
    for k, new in zip(body, window.split("\n")):
        lines[k] = new
    return "\n".join(lines)


# ------------------------------------------------------------- the core

class Core:
    """src/core and its test programs, compiled once; a mutant recompiles
    one file and relinks."""

    def __init__(self, work):
        self.work = work
        self.srcs = sorted(f"src/core/{f}" for f in os.listdir(os.path.join(work, "src/core"))
                           if f.endswith(".c"))
        self.objs = {}
        self.tests = sorted(f"test/core/{f}" for f in os.listdir(os.path.join(work, "test/core"))
                            if f.endswith(".c") and f != "wycheproof.c")
        for f in self.srcs + self.tests + ["test/core/wycheproof.c"]:
            self.objs[f] = self.compile(f, f[:-2] + ".o")
            if self.objs[f] is None:
                S.cannot_run(f"{f} does not compile")

    def compile(self, src, obj, mutant=False):
        # a mutant may leave a helper or a parameter unused: not an error
        flags = CORE_CFLAGS + (["-Wno-error"] if mutant else [])
        ok, out = sh(["cc"] + flags + ["-c", "-o", obj, src], self.work)
        return obj if ok else None

    def link(self, objs, name):
        ok, out = sh(["cc", "-o", name] + objs + ["-lcrypto", "-lm"], self.work)
        return ok

    def build(self, mutated=None):
        """Link run_core and wycheproof with the mutated file's object."""
        objs = dict(self.objs)
        if mutated is not None:
            o = self.compile(mutated, "mutant.o", mutant=True)
            if o is None:
                return False
            objs[mutated] = o
        core = [objs[f] for f in self.srcs]
        return (self.link(core + [objs[f] for f in self.tests], "run_core") and
                self.link(core + [objs["test/core/wycheproof.c"]], "wycheproof"))


# ------------------------------------------------------- the server side

class Server:
    """A private copy of the PostgreSQL under test (PG_CONFIG's, else the
    pg_config on PATH) with its own cluster: the mutant's jwt.so goes there,
    never into the install the other suites use."""

    def __init__(self, tmp, work):
        self.work = work
        pg_config = os.environ.get("PG_CONFIG") or shutil.which("pg_config")
        if not pg_config:
            S.cannot_run("no pg_config")
        bindir = subprocess.check_output([pg_config, "--bindir"]).decode().strip()
        share = subprocess.check_output([pg_config, "--sharedir"]).decode().strip()
        inc = subprocess.check_output([pg_config, "--includedir"]).decode().strip()
        self.base = os.path.join(tmp, "pg")
        top = os.path.dirname(bindir)                     # Debian: /usr/lib/postgresql/15
        copied = []
        for src in (top, share, inc):
            # a build from source has share/ and include/ under its prefix, copied with it
            if any(src == c or src.startswith(c + os.sep) for c in copied):
                continue
            shutil.copytree(src, self.base + src, symlinks=True)
            copied.append(src)
        self.pg_config = self.base + bindir + "/pg_config"
        self.bindir = self.base + bindir
        self.data = os.path.join(tmp, "data")
        self.sock = os.path.join(tmp, "sock")
        os.mkdir(self.sock)
        self.root = os.geteuid() == 0
        if self.root:
            for p in (tmp, self.sock):
                shutil.chown(p, "postgres")
            os.chmod(tmp, 0o755)
        self.as_pg(f"{self.bindir}/initdb -D {self.data} -U postgres -A trust >/dev/null")
        with open(os.path.join(self.data, "postgresql.conf"), "a") as fh:
            fh.write(f"listen_addresses = ''\nunix_socket_directories = '{self.sock}'\n"
                     "port = 5439\nfsync = off\nmax_prepared_transactions = 10\n")
        self.as_pg(f"{self.bindir}/pg_ctl -D {self.data} -l {tmp}/log -w start >/dev/null")
        self.env = dict(os.environ, PG_CONFIG=self.pg_config, PGHOST=self.sock,
                        PGPORT="5439", PGUSER="postgres", PGDATABASE="postgres",
                        PATH=self.bindir + ":" + os.environ["PATH"])
        ok, out = self.install()
        if not ok:
            self.stop()
            S.cannot_run(f"the extension does not build: {out[-2000:]}")
        self.tests = sorted(f[:-4] for f in os.listdir(os.path.join(work, "sql"))
                            if f.endswith(".sql"))
        took = {}
        for name in self.tests:
            t0 = time.time()
            ok, out = self.regress_one(name)
            took[name] = time.time() - t0
            if not ok:
                self.stop()
                S.cannot_run(f"pg_regress {name} fails before any mutation: {out[-3000:]}")
        self.tests.sort(key=lambda n: took[n])
        S.note("regress tests, fastest first: " +
               ", ".join(f"{n} {took[n]:.1f} s" for n in self.tests))

    def as_pg(self, cmd):
        if self.root:
            subprocess.check_call(["su", "postgres", "-c", cmd])
        else:
            subprocess.check_call(cmd, shell=True)

    def make(self, *targets):
        return sh(["make", "-s", "-j2", f"PG_CONFIG={self.pg_config}"] + list(targets),
                  self.work, env=self.env)

    def install(self, mutant=False):
        # a mutant may leave a variable unused: the Makefile's flags without -Werror
        return self.make("install", *(["PG_CFLAGS=-Wall -Wextra -Wno-unused-parameter "
                                       "-Wno-sign-compare -Wno-missing-field-initializers"]
                                      if mutant else []))

    def regress_one(self, name):
        return self.make("installcheck", f"REGRESS={name}")

    def regress(self):
        """The first pg_regress test that fails, or None.  The tests run
        fastest first, except that the one that caught the last mutant goes
        first: mutants next to each other are mostly caught by the same
        test.  Only the order changes; a mutant no test catches has run them
        all."""
        for name in list(self.tests):
            ok, out = self.regress_one(name)
            if not ok:
                self.tests.remove(name)
                self.tests.insert(0, name)
                return name
        return None

    def stop(self):
        try:
            self.as_pg(f"{self.bindir}/pg_ctl -D {self.data} -m immediate -w stop >/dev/null")
        except subprocess.CalledProcessError:
            pass


# ----------------------------------------------------------------- main

def main():
    signal.signal(signal.SIGTERM, lambda *a: sys.exit(1))    # clean up on kill too
    only = [n for n in os.environ.get("MUTATION_ONLY", "").split(",") if n]
    vectors = os.environ.get("JWT_VECTORS") or os.path.join(REPO, "..", "shared", "vectors")
    have_vectors = os.path.isdir(vectors)
    found = markers()
    names = [m[0] for m in found]
    for n in set(names):
        if names.count(n) > 1:
            S.check(f"marker {n} is named once", False, f"{names.count(n)} times")
    if only:
        found = [m for m in found if m[0] in only]
    start = time.time()

    tmp = tempfile.mkdtemp(prefix="jwt-mutation.")
    work = os.path.join(tmp, "src")
    os.mkdir(work)
    for item in ("src", "test/core", "sql", "expected", "Makefile", "jwt.control"):
        s = os.path.join(REPO, item)
        if os.path.isdir(s):
            shutil.copytree(s, os.path.join(work, item),
                            ignore=shutil.ignore_patterns("*.o", "*.bc", "*.so", "run_core", "wycheproof"))
        else:
            os.makedirs(os.path.dirname(os.path.join(work, item)), exist_ok=True)
            shutil.copy2(s, os.path.join(work, item))
    for f in os.listdir(REPO):
        if f.startswith("jwt--") and f.endswith(".sql"):
            shutil.copy2(os.path.join(REPO, f), work)
    if os.geteuid() == 0:
        subprocess.call(["chmod", "-R", "a+rwX", work])
    env = dict(os.environ, JWT_VECTORS=vectors)

    core = Core(work)
    if not core.build():
        S.cannot_run("the core does not link")
    for prog in ["run_core"] + (["wycheproof"] if have_vectors else []):
        ok, out = sh([f"./{prog}"], work, env=env)
        if not ok:
            S.cannot_run(f"{prog} fails before any mutation: {out[-2000:]}")

    server = None
    try:
        for name, rel, idx, edits in found:
            path = os.path.join(work, rel)
            with open(path) as fh:
                original = fh.read()
            text = mutate(original, idx, edits)
            if text is None:
                S.check(f"mutant {name} applies ({rel})", False, "FROM not found after the marker")
                continue
            in_core = rel.startswith("src/core/")
            caught = None
            t0 = time.time()
            with open(path, "w") as fh:
                fh.write(text)
            try:
                if in_core and rel.endswith(".c"):
                    if not core.build(rel):
                        S.check(f"mutant {name} compiles", False, rel)
                        continue
                    ok, out = sh(["./run_core"], work, env=env)
                    if not ok:
                        caught = "core"
                    elif have_vectors:
                        ok, out = sh(["./wycheproof"], work, env=env)
                        if not ok:
                            caught = "wycheproof"
                if caught is None and os.environ.get("MUTATION_NO_REGRESS"):
                    pass
                elif caught is None:
                    if server is None:
                        with open(path, "w") as fh:
                            fh.write(original)
                        server = Server(tmp, work)
                        with open(path, "w") as fh:
                            fh.write(text)
                        os.utime(path)
                    ok, out = server.install(mutant=True)
                    if not ok:
                        S.check(f"mutant {name} compiles", False, out[-500:])
                        continue
                    failed = server.regress()
                    if failed:
                        caught = f"regress ({failed})"
            finally:
                with open(path, "w") as fh:
                    fh.write(original)
                # the next build recompiles the restored file (mtime moves on)
                os.utime(path)
            S.note(f"{name} ({rel}): " +
                   (f"caught by {caught}" if caught else "SURVIVED") +
                   f", {time.time() - t0:.1f} s")
            S.check(f"mutant {name} is caught", caught is not None,
                    f"{rel}: no suite fails without this check")
    finally:
        if server is not None:
            server.stop()
        shutil.rmtree(tmp, ignore_errors=True)
    if not have_vectors:
        S.note(f"the wycheproof suite did not run ({vectors} not found): every mutant "
               "had to be caught by the other suites")
    S.note(f"{len(found)} mutants in {time.time() - start:.0f} s")
    S.finish()


if __name__ == "__main__":
    main()
