#!/usr/bin/python3
"""META.json, the PGXN distribution's metadata, agrees with the tree.

No server needed:

    python3 test/meta.py

The version lives in jwt.control; META.json repeats it because PGXN reads it
there, so this checks the copy: META.json is valid PGXN meta-spec 1.0.0 (the
required keys, a semantic version, a known licence), its version and the
provided extension's version are jwt.control's default_version, the provided
file is that version's install script and exists, every file it names
exists, the abstract is jwt.control's comment, the licence is the one in
LICENSE and debian/copyright, and the oldest PostgreSQL it requires is the
oldest in debian/pgversions, and x_tested_with names versions of
debian/pgversions (with their minors) as README.md does.  Ends with "meta: N passed, N failed".
"""

import json
import os
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))   # test/, for suite.py
import suite                                                     # noqa: E402

T = suite.Suite("meta", reexec_guard="JWT_META_REEXEC")
REPO = suite.REPO
EXT = "jwt"
SEMVER = re.compile(r"^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(-[0-9A-Za-z-]+(\.[0-9A-Za-z-]+)*)?$")
REQUIRED = ("name", "abstract", "maintainer", "license", "provides", "meta-spec", "version")
# the licence strings meta-spec 1.0.0 names
LICENSES = {"agpl_3", "apache_1_1", "apache_2_0", "artistic_1", "artistic_2", "bsd", "freebsd",
            "gfdl_1_2", "gfdl_1_3", "gpl_1", "gpl_2", "gpl_3", "lgpl_2_1", "lgpl_3_0", "mit",
            "mozilla_1_0", "mozilla_1_1", "openssl", "perl_5", "postgresql", "qpl_1_0", "ssleay",
            "sun", "zlib", "open_source", "restricted", "unrestricted", "unknown"}


def read(name):
    with open(os.path.join(REPO, name), encoding="utf-8") as f:
        return f.read()


def control_value(text, key):
    return re.findall(r"^\s*" + key + r"\s*=\s*'([^']*)'", text, re.M)


def main():
    try:
        meta = json.loads(read("META.json"))
    except (OSError, ValueError) as e:
        T.check("META.json is JSON", False, e)
        T.finish()
    T.check("META.json is JSON", True)
    control = read(EXT + ".control")
    defaults = control_value(control, "default_version")
    T.check("jwt.control has one default_version", len(defaults) == 1, defaults)
    default = defaults[0] if defaults else None

    missing = [k for k in REQUIRED if k not in meta]
    T.check("META.json has every key meta-spec 1.0.0 requires", not missing, missing)
    T.check("meta-spec version is 1.0.0", meta.get("meta-spec", {}).get("version") == "1.0.0")
    T.check("the distribution is named jwt", meta.get("name") == EXT, meta.get("name"))
    T.check("its version is a semantic version", SEMVER.match(str(meta.get("version"))) is not None,
            meta.get("version"))
    T.check(f"its version is jwt.control's default_version ({default})", meta.get("version") == default,
            meta.get("version"))
    T.check("the maintainer is a non-empty list of names",
            isinstance(meta.get("maintainer"), list) and meta["maintainer"]
            and all(isinstance(m, str) and m.strip() for m in meta["maintainer"]))
    status = meta.get("release_status", "stable")
    T.check("release_status is one PGXN knows", status in ("stable", "testing", "unstable"), status)
    # CHANGELOG.md heads each version "## V (date)" once released, "## V (unreleased)" before
    head = re.search(r"^## " + re.escape(str(meta.get("version"))) + r" \(([^)]*)\)",
                     read("CHANGELOG.md"), re.M)
    T.check("CHANGELOG.md has an entry for META.json's version", head is not None)
    if head:
        released = re.fullmatch(r"\d{4}-\d{2}-\d{2}", head.group(1)) is not None
        T.check(f"release_status ({status}) matches the release: stable only once CHANGELOG.md dates "
                f"it ({head.group(1)})", (status == "stable") == released, status)

    provides = meta.get("provides", {})
    ext = provides.get(EXT, {})
    T.check("it provides the extension jwt", bool(ext), sorted(provides))
    T.check("the provided extension's version is jwt.control's default_version",
            ext.get("version") == default, ext.get("version"))
    want_file = f"{EXT}--{default}.sql"
    T.check(f"the provided file is that version's install script ({want_file})",
            ext.get("file") == want_file, ext.get("file"))
    T.check("the provided extension's abstract is jwt.control's comment",
            [ext.get("abstract")] == control_value(control, "comment"), ext.get("abstract"))
    named = []
    for name, p in provides.items():
        T.check(f"provides.{name}: version is a semantic version",
                SEMVER.match(str(p.get("version"))) is not None, p.get("version"))
        named += [p[k] for k in ("file", "docfile") if k in p]
    named += meta.get("no_index", {}).get("file", [])
    for f in named:
        T.check(f"the file it names exists: {f}", os.path.isfile(os.path.join(REPO, f)))
    for d in meta.get("no_index", {}).get("directory", []):
        T.check(f"the folder it leaves unindexed exists: {d}", os.path.isdir(os.path.join(REPO, d)))

    licence = meta.get("license")
    T.check("the licence is one meta-spec 1.0.0 names",
            licence in LICENSES if isinstance(licence, str) else
            bool(licence) and all(x in LICENSES for x in licence), licence)
    T.check("... and it is PostgreSQL's, as LICENSE says",
            licence == "postgresql" and "Permission to use, copy, modify, and distribute this software"
            in read("LICENSE"))
    T.check("... and as debian/copyright says",
            re.search(r"^License: PostgreSQL$", read("debian/copyright"), re.M) is not None)

    pg = meta.get("prereqs", {}).get("runtime", {}).get("requires", {}).get("PostgreSQL")
    T.check("it requires a PostgreSQL version, semantic", pg and SEMVER.match(pg) is not None, pg)
    pgversions = [int(v) for v in re.findall(r"^(\d+)\+?\s*$", read("debian/pgversions"), re.M)]
    T.check("the oldest PostgreSQL it requires is debian/pgversions' oldest",
            pg and pgversions and int(pg.split(".")[0]) == min(pgversions), (pg, pgversions))
    tested = str(meta.get("x_tested_with", ""))
    majors = sorted({int(m) for m in re.findall(r"\b(1\d|[2-9]\d)(?:\.\d+|beta\d+|rc\d+)", tested)})
    T.check("x_tested_with names versions of debian/pgversions only, each with its minor, "
            "the oldest among them", bool(majors) and set(majors) <= set(pgversions)
            and min(pgversions) in majors, (tested, pgversions))
    T.check("... and README.md claims the same versions",
            bool(tested) and tested.split(";")[0] in " ".join(read("README.md").split()), tested)
    check_dist()
    T.finish()


def check_dist():
    """make dist is git archive of HEAD: it must leave out what only CI and
    git use (.gitattributes export-ignore) and keep what a PGXN user builds."""
    import subprocess
    try:
        out = subprocess.run(["git", "-C", REPO, "archive", "--format=tar", "HEAD"],
                             capture_output=True, check=True).stdout
    except (OSError, subprocess.CalledProcessError) as e:
        T.check("make dist: git archive HEAD runs", False, e)
        return
    import io
    import tarfile
    names = set(tarfile.open(fileobj=io.BytesIO(out)).getnames())
    ci_only = sorted(n for n in names if n == ".ci" or n.startswith(".ci/")
                     or n in (".gitattributes", ".gitignore"))
    T.check("make dist leaves out the CI-only files (.ci/, .gitattributes, .gitignore)",
            not ci_only, ci_only)
    tracked = subprocess.run(["git", "-C", REPO, "ls-files"], capture_output=True,
                             text=True).stdout.split()
    wanted = ["Makefile", "META.json", "README.md", "LICENSE", "CHANGELOG.md", "jwt.control"]
    wanted += [f for f in tracked if re.fullmatch(r"jwt--[0-9.\-]+\.sql", f)
               or f.startswith(("src/", "sql/", "expected/"))]
    missing = [f for f in wanted if f not in names]
    T.check(f"make dist keeps the build, the scripts, the sources and the regression suites "
            f"({len(wanted)} files)", not missing, missing[:5])


if __name__ == "__main__":
    main()
