#!/usr/bin/env bash
# The Debian package: build postgresql-jwt from a copy of the tree, check it
# with lintian, install the .deb into this machine, run the package's
# autopkgtest (the pg_regress suites, against the installed package), then
# remove the package and put the working tree's build back (make install).
#
# As root on Debian 12, after tools/install-deps --test (debhelper,
# postgresql-server-dev-all, postgresql-all, dpkg-dev, fakeroot, lintian,
# autopkgtest).  Build products stay in a temporary folder.  Ends with
# "debian: N passed, N failed".
#
# The source package is 3.0 (quilt): its .orig.tar.gz is made here from the
# tree without debian/, so the version is 0.1.0-1 (upstream 0.1.0, Debian
# revision 1).  "3.0 (native)" would need a version without a revision, and
# dpkg-source refuses a native package with one.
set -uo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
pass=0
fail=0
ok() { echo "ok - $1"; pass=$((pass + 1)); }
bad() { echo "FAIL $1"; fail=$((fail + 1)); }
check() { if [ "$1" -eq 0 ]; then ok "$2"; else bad "$2"; fi; }
finish() { echo "debian: $pass passed, $fail failed"; [ "$fail" -eq 0 ]; exit $?; }

if [ "$(id -u)" != 0 ]; then
	echo "debian: cannot run: installing a .deb needs root"
	exit 1
fi
for tool in dpkg-buildpackage dpkg-parsechangelog lintian autopkgtest pg_buildext fakeroot; do
	command -v "$tool" >/dev/null || { echo "debian: cannot run: $tool is missing (tools/install-deps --test)"; exit 1; }
done

work=$(mktemp -d /tmp/jwt-deb.XXXXXX)
chmod 755 "$work"
package_installed=""
cleanup() {
	if [ -n "$package_installed" ]; then
		dpkg -r "$package_installed" >/dev/null 2>&1
		make -s -C "$ROOT" install >/dev/null 2>&1 || echo "debian: make install after removing the package FAILED"
	fi
	rm -rf "$work"
}
trap cleanup EXIT

source=$(dpkg-parsechangelog -l debian/changelog -S Source)
version=$(dpkg-parsechangelog -l debian/changelog -S Version)
upstream=${version%-*}
extversion=$(grep -oP "^default_version\s*=\s*'\K[^']+" jwt.control)
[ "$upstream" = "$extversion" ]
check $? "debian/changelog's upstream version ($upstream) is jwt.control's default_version ($extversion)"
[ "$version" != "$upstream" ] && [ "$(cat debian/source/format)" = "3.0 (quilt)" ]
check $? "the version has a Debian revision ($version) and the format is 3.0 (quilt)"

# The tree as git sees it: tracked files and untracked ones not ignored.
src="$work/$source-$upstream"
mkdir -p "$src"
git ls-files -z --cached --others --exclude-standard |
	while IFS= read -r -d '' f; do [ -f "$f" ] && printf '%s\0' "$f"; done |
	tar --null -T - -cf - | tar -xf - -C "$src"
tar -C "$work" --exclude="$source-$upstream/debian" -czf "$work/${source}_$upstream.orig.tar.gz" "$source-$upstream"

# debian/control is what pg_buildext makes of debian/control.in and pgversions
(cd "$src" && cp debian/control "$work/control.committed" && pg_buildext updatecontrol >/dev/null 2>&1 &&
	diff -u "$work/control.committed" debian/control)
check $? "debian/control is up to date with debian/control.in (pg_buildext updatecontrol)"

# A maintainer builds in a checkout: the copy is made one (its .gitignore is
# the tree's), so that what the build leaves behind shows in git status.
(cd "$src" && git init -q && git add -A && git -c user.name=t -c user.email=t@localhost commit -qm tree)
check $? "the copy of the tree is a git checkout for the build"

echo "== dpkg-buildpackage -us -uc (the build runs the regression suites against the built package)"
(cd "$src" && DEB_BUILD_OPTIONS="parallel=$(nproc)" dpkg-buildpackage -us -uc) >"$work/build.log" 2>&1
rc=$?
if [ $rc -ne 0 ]; then tail -60 "$work/build.log"; fi
check $rc "dpkg-buildpackage builds the source and binary packages"
dirty=$(cd "$src" && git status --porcelain | head -5 | tr '\n' ' ')
[ -z "$dirty" ]
check $? "git status is clean after dpkg-buildpackage in the checkout${dirty:+ (left: $dirty)}"
grep -E '^ All [0-9]+ tests passed|^### (End|PostgreSQL)' "$work/build.log" | sed 's/^/  build-time: /'
nsuites=$(ls sql/*.sql | wc -l)
grep -qE "^ All $nsuites tests passed" "$work/build.log"
check $? "the build-time check (dh_pgxs_test) passed all $nsuites regression suites"

changes=$(ls "$work"/*.changes 2>/dev/null | head -1)
debs=$(ls "$work"/postgresql-*-jwt_"${version}"_*.deb 2>/dev/null)
deb15=$(ls "$work"/postgresql-15-jwt_"${version}"_*.deb 2>/dev/null | head -1)
[ -n "$deb15" ]
check $? "it builds postgresql-15-jwt ($(basename "${deb15:-none}"))"
if [ -z "$deb15" ] || [ -z "$changes" ]; then finish; fi

# Installable on every 15.x: debian/minor_versions overrides the minimum
# minor that pg_buildext would otherwise take from postgresql-common.
depends=$(dpkg-deb -f "$deb15" Depends)
grep -qE '(^|, )postgresql-15(,|$)' <<<"$depends"
check $? "postgresql-15-jwt depends on postgresql-15 with no minimum minor version ($depends)"

contents=$(dpkg-deb -c "$deb15")
missing=""
for f in usr/lib/postgresql/15/lib/jwt.so usr/lib/postgresql/15/lib/jwt_fetch.so usr/share/postgresql/15/extension/jwt.control \
	$(cd "$ROOT" && ls jwt--*.sql | sed 's|^|usr/share/postgresql/15/extension/|'); do
	grep -q " \./$f\$" <<<"$contents" || missing="$missing $f"
done
[ -z "$missing" ]
check $? "the .deb holds the library, the control file and every jwt--*.sql${missing:+ (missing:$missing)}"

echo "== lintian"
lintian --display-info --pedantic "$changes" >"$work/lintian.out" 2>&1
lintian_rc=$?
grep -E '^[EWIPXO]: ' "$work/lintian.out" | sed 's/^/  /'
nerr=$(grep -cE '^E: ' "$work/lintian.out")
nwarn=$(grep -cE '^W: ' "$work/lintian.out")
[ "$nerr" -eq 0 ] && [ "$lintian_rc" -eq 0 ]
check $? "lintian reports no error ($nerr errors, $nwarn warnings)"
# The warnings lintian may give, and why they stay: anything else fails.
unexplained=$(grep -E '^W: ' "$work/lintian.out" | grep -vE 'initial-upload-closes-no-bugs')
[ -z "$unexplained" ]
check $? "every lintian warning is explained${unexplained:+: $unexplained}"
explain() {
	grep -q " $1" "$work/lintian.out" && echo "  explained: $1: $2"
}
explain initial-upload-closes-no-bugs "the package is built from this repository, not uploaded to" \
	"Debian, so there is no ITP bug for its first changelog entry to close"
explain hardening-no-fortify-functions "(info) jwt.so is built with -D_FORTIFY_SOURCE=2, but" \
	"no call has a destination whose size the compiler knows, so none becomes a _chk call; the one" \
	"strcpy (src/session.c, check_required) fills a block sized from the same strlen()s just before"
explain no-homepage-field "(pedantic) the project has no public home page yet"
explain repeated-path-segment "(pedantic) /usr/lib/postgresql/15/lib/ is PostgreSQL's own layout"

echo "== install the .deb into this machine"
apt-get install -y -qq --no-install-recommends "$deb15" >"$work/install.log" 2>&1
rc=$?
[ $rc -ne 0 ] && tail -20 "$work/install.log"
check $rc "apt-get install ./$(basename "$deb15")"
package_installed=$(dpkg-deb -f "$deb15" Package)
[ "$(dpkg-query -W -f='${Status} ${Version}' "$package_installed" 2>/dev/null)" = "install ok installed $version" ]
check $? "dpkg lists $package_installed $version as installed"
dpkg --verify "$package_installed"
check $? "the installed files are the package's (dpkg --verify)"
[ "$(dpkg -S /usr/lib/postgresql/15/lib/jwt.so 2>/dev/null | cut -d: -f1)" = "$package_installed" ]
check $? "/usr/lib/postgresql/15/lib/jwt.so belongs to $package_installed"

echo "== autopkgtest (debian/tests: the regression suites against the installed package)"
autopkgtest --no-built-binaries "$src/" -- null >"$work/autopkgtest.log" 2>&1
rc=$?
grep -E '^ All [0-9]+ tests passed|^### |^test .*(ok|FAILED)|^ok |^not ok |PASS|FAIL' "$work/autopkgtest.log" | sed 's/^/  /'
[ $rc -ne 0 ] && tail -40 "$work/autopkgtest.log"
check $rc "autopkgtest passes (exit $rc)"
grep -qE "^ All $nsuites tests passed" "$work/autopkgtest.log"
check $? "autopkgtest ran all $nsuites regression suites against the installed package, and all passed"
dpkg --verify "$package_installed"
check $? "the package's files were not changed while it was tested"

finish
