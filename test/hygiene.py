#!/usr/bin/python3
"""Compiler hygiene: clang builds, cppcheck, clang-tidy; no finding unexplained.

No server needed:

    python3 test/hygiene.py

  1. clang: the extension, built with CC=clang in a scratch copy of the tree
     (make clean; make COPT=-Werror), with the Makefile's -Wall -Wextra and
     PostgreSQL's own warning flags (those clang knows; -Wno-ignored-
     attributes for PostgreSQL's headers, which mark printf-like functions
     gnu_printf, as PostgreSQL's own clang bitcode build does), plus
     -Wimplicit-fallthrough; then the core alone (test/core/run_core and
     test/core/wycheproof, CORE_CFLAGS: -std=c11 -Wall -Wextra -Werror
     -Wshadow -Wstrict-prototypes) with clang, and the clang-built core's own
     tests run;
  2. cppcheck over src/ (warning, performance, portability, and information,
     so that a stale suppression is reported) with PostgreSQL's server headers
     and the posix and openssl library descriptions; the findings read and
     found false are in test/cppcheck-suppressions.xml, each with its reason;
  3. clang-tidy over src/core/*.c with the repository's .clang-tidy; each
     finding it still makes must be one of EXPLAINED below (file, check, and
     the source line it points at), and each of EXPLAINED must still occur;
  4. linkage, of the libraries built in 1: jwt.so and jwt_fetch.so export
     their entry points only (the magic block, _PG_init, pg_finfo_*, jwt_*,
     and jwt.so's jws_*: src/exports.map, src/fetch/exports.map), so that no
     core function (jose_*) stands in for a same-named one of a library
     PostgreSQL loads after them (it loads with RTLD_GLOBAL); and neither
     calls a function it defines through its PLT (-Bsymbolic-functions), so
     that no library loaded before them stands in for one of their own.

Ends with "hygiene: N passed, N failed".
"""

import os
import re
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))   # test/, for suite.py
import suite                                                     # noqa: E402

T = suite.Suite("hygiene", reexec_guard="JWT_HYGIENE_REEXEC")
REPO = suite.REPO

# clang-tidy findings read and found not to be defects: (file, check, a regex
# the source line it points at must match, why).
EXPLAINED = [
    ("src/core/json.c", "misc-no-recursion", r"^parse_object\(",
     "the JSON parser descends into objects and arrays by recursion, bounded by "
     "JOSE_JSON_MAX_DEPTH (64) before each descent"),
    ("src/core/json.c", "misc-no-recursion", r"^parse_array\(",
     "the same bounded recursion"),
    ("src/core/json.c", "misc-no-recursion", r"^parse_value\(",
     "the same bounded recursion"),
    ("src/core/jwk_out.c", "bugprone-not-null-terminated-result", r'memcpy\(esc, "\\\\u00", 4\)',
     "esc is a byte buffer, not a C string: its 6 bytes are written with their length (jb_put)"),
    ("src/core/pkey.c", "bugprone-branch-clone", r"st = JOSE_E_KEY_INVALID;",
     "two different reasons (the parameters cannot be read; they are unusable) give the same "
     "status on purpose"),
    ("src/core/sig.c", "bugprone-branch-clone", r"st = JOSE_E_NOMEM;",
     "two allocations that can fail (BN_bin2bn, ECDSA_SIG_new) give the same status on purpose"),
    ("src/core/pkey.c", "clang-analyzer-core.NonNullParamChecker", r"memcmp\(s \+ i, needle, n\)",
     "the analyzer assumes jose_pem_import() got data == NULL with len > 0; its one caller "
     "(jose_keyset_import in key.c) passes a pointer into the key text where it found \"-----BEGIN\""),
    ("src/core/pkey.c", "bugprone-implicit-widening-of-multiplication-result", r"len > 1024 \* 1024",
     "1024 * 1024 is a constant that fits an int; nothing is lost before the comparison"),
    ("src/core/pkey.c", "misc-redundant-expression", r"len > 1024 \* 1024 \|\| len > \(size_t\) 0x7fffffff",
     "the second bound is implied by the first; it states the limit of the (int) cast to "
     "BIO_new_mem_buf next to it, so that changing the first cannot break the cast"),
]


def run(args, cwd=REPO, env=None):
    return subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True)


def copy_tree(dst):
    """The tree as git sees it (tracked, and untracked but not ignored)."""
    files = run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"]).stdout
    for f in files.split("\0"):
        if f and os.path.isfile(os.path.join(REPO, f)):
            os.makedirs(os.path.join(dst, os.path.dirname(f)), exist_ok=True)
            shutil.copy2(os.path.join(REPO, f), os.path.join(dst, f))


def warnings_in(text):
    return [line for line in text.splitlines() if re.search(r"\b(warning|error):", line)]


# What each library may export (item 4).
EXPORTS = {
    "jwt.so": r"Pg_magic_func|_PG_init|pg_finfo_\w+|jwt_\w+|jws_\w+",
    "jwt_fetch.so": r"Pg_magic_func|_PG_init|pg_finfo_\w+|jwt_\w+",
}


def linkage(tmp):
    for lib, allowed in EXPORTS.items():
        path = os.path.join(tmp, lib)
        if not os.path.exists(path):
            T.check(f"{lib} is built", False)
            continue
        nm = run(["nm", "-D", "--defined-only", path])
        defined = [line.split()[-1] for line in nm.stdout.splitlines() if line.strip()]
        stray = [d for d in defined if not re.fullmatch(allowed, d)]
        T.check(f"{lib} exports its entry points only ({len(defined)} symbols)",
                nm.returncode == 0 and "Pg_magic_func" in defined and "_PG_init" in defined
                and any(d.startswith("pg_finfo_") for d in defined) and not stray,
                nm.stderr[-500:] or ", ".join(stray[:20]))
        dis = run(["objdump", "-d", path])
        own = set(defined)
        via_plt = sorted({m for m in re.findall(r"<([\w.]+)@plt>:", dis.stdout) if m in own})
        T.check(f"... and calls none of its own functions through its PLT",
                dis.returncode == 0 and "@plt>:" in dis.stdout and not via_plt,
                dis.stderr[-500:] or ", ".join(via_plt[:20]))


def clang_builds():
    if shutil.which("clang") is None:
        T.check("clang is installed", False)
        return
    cflags = ["-Wno-ignored-attributes", "-Wimplicit-fallthrough"]
    dropped = []
    for flag in run(["pg_config", "--cflags"]).stdout.split():
        probe = run(["clang", "-Werror", flag, "-x", "c", "-c", "/dev/null", "-o", "/dev/null"])
        (cflags if probe.returncode == 0 else dropped).append(flag)
    T.note(f"clang: PostgreSQL's flags clang does not take, left out: {' '.join(dropped) or 'none'}")
    with tempfile.TemporaryDirectory(prefix="jwt-clang.") as tmp:
        copy_tree(tmp)
        run(["make", "-s", "clean"], cwd=tmp)
        r = run(["make", "-j", str(os.cpu_count() or 2), "CC=clang", "CFLAGS=" + " ".join(cflags),
                 "COPT=-Werror"],
                cwd=tmp)
        out = r.stdout + r.stderr
        T.check("the extension builds with clang, -Wall -Wextra -Werror",
                r.returncode == 0 and os.path.exists(os.path.join(tmp, "jwt.so")), out[-3000:])
        T.check("... with no warning", not warnings_in(out), "\n".join(warnings_in(out)[:20]))
        compiles = [line.split()[0] for line in out.splitlines()
                    if " -c -o " in line and line.endswith(".c") and " -emit-llvm " not in line]
        T.check("... and every object was compiled by clang",
                len(compiles) >= 20 and all(c == "clang" for c in compiles), sorted(set(compiles)))
        linkage(tmp)
        r = run(["make", "-s", "CC=clang", "test/core/run_core", "test/core/wycheproof"], cwd=tmp)
        out = r.stdout + r.stderr
        T.check("the core (run_core, wycheproof) builds with clang, CORE_CFLAGS",
                r.returncode == 0, out[-3000:])
        T.check("... with no warning", not warnings_in(out), "\n".join(warnings_in(out)[:20]))
        if r.returncode == 0:
            r = run([os.path.join(tmp, "test/core/run_core")], cwd=tmp)
            # "core: ..." and, with the vectors there, "core-vectors: ..." after it
            lines = r.stdout.strip().splitlines()
            summary = [l for l in lines if re.match(r"core(-vectors)?: \d+ passed, \d+ failed$", l)]
            T.check("the clang-built core passes its own tests", r.returncode == 0 and summary
                    and all(l.endswith(" 0 failed") for l in summary)
                    and summary[0].startswith("core: "), "; ".join(summary) or (lines or [""])[-1])


def cppcheck():
    if shutil.which("cppcheck") is None:
        T.check("cppcheck is installed", False)
        return
    include_server = run(["pg_config", "--includedir-server"]).stdout.strip()
    r = run(["cppcheck", "--enable=warning,performance,portability,information",
             "--error-exitcode=1", "--inline-suppr", "--quiet",
             "--std=c11", "--platform=unix64", "--library=posix", "--library=openssl",
             # one configuration, the one the build compiles (gcc or clang on Linux x86-64)
             "-D__GNUC__=12", "-D__x86_64__", "-D__linux__",
             # cppcheck 2.10 does not take C11's _Noreturn for noreturn, and since
             # PostgreSQL 18 pg_noreturn (jwt_noreturn in src/compat.h) is it
             "-D_Noreturn=__attribute__((noreturn))",
             "--suppress=missingIncludeSystem",
             # PostgreSQL's own headers are not this code (an assertion-enabled
             # server's Assert() makes cppcheck doubt their NULL checks)
             f"--suppress=*:{include_server}/*",
             "--suppress-xml=test/cppcheck-suppressions.xml",
             "--template={file}:{line}: {severity}: {message} [{id}]",
             "-I", "src", "-I", "src/core", "-I", include_server, "src"])
    findings = [line for line in r.stderr.splitlines() if re.match(r"\S+:-?\d+: ", line)]
    T.check("cppcheck over src/: no finding but the explained ones (test/cppcheck-suppressions.xml)",
            r.returncode == 0 and not findings, "\n".join(findings[:30]) or r.stderr[-2000:])
    n = len(re.findall(r"<suppress>", open(os.path.join(REPO, "test/cppcheck-suppressions.xml")).read()))
    T.note(f"cppcheck: {n} suppressions, each explained in test/cppcheck-suppressions.xml "
           "and each still matched (an unmatched one is a finding)")


def clang_tidy():
    if shutil.which("clang-tidy") is None:
        T.check("clang-tidy is installed", False)
        return
    files = sorted(os.path.join("src/core", f) for f in os.listdir(os.path.join(REPO, "src/core"))
                   if f.endswith(".c"))
    r = run(["clang-tidy", "--quiet"] + files + ["--", "-Isrc", "-std=c11"])
    T.check("clang-tidy runs over src/core/*.c", r.returncode == 0 or "warning:" in r.stdout,
            r.stderr[-2000:])
    sources = {}
    used = set()
    unexplained = []
    for line in r.stdout.splitlines():
        if not re.search(r": (warning|error): ", line):
            continue
        m = re.match(r"^(\S+?):(\d+):\d+: (?:warning|error): .* \[([\w.,-]+)\]$", line)
        if not m:
            unexplained.append(line)
            continue
        path, lineno, check = os.path.relpath(m.group(1), REPO), int(m.group(2)), m.group(3)
        if path not in sources:
            with open(os.path.join(REPO, path), encoding="utf-8") as f:
                sources[path] = f.read().splitlines()
        text = sources[path][lineno - 1] if lineno <= len(sources[path]) else ""
        hit = [i for i, (p, c, rx, _) in enumerate(EXPLAINED)
               if p == path and c == check and re.search(rx, text)]
        if hit:
            used.update(hit)
        else:
            unexplained.append(f"{path}:{lineno}: [{check}] {text.strip()}")
    T.check("clang-tidy: every finding is explained", not unexplained, "\n".join(unexplained[:30]))
    stale = [f"{p} [{c}] /{rx}/" for i, (p, c, rx, _) in enumerate(EXPLAINED) if i not in used]
    T.check("clang-tidy: every explanation still matches a finding", not stale, "; ".join(stale))
    for p, c, rx, why in EXPLAINED:
        print(f"hygiene: explained: {p} [{c}]: {why}")


def main():
    clang_builds()
    cppcheck()
    clang_tidy()
    T.finish()


if __name__ == "__main__":
    main()
