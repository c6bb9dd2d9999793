#!/usr/bin/env python3
"""The README's list of bad-token errors and the code agree.

Every detail the extension can give with SQLSTATE 28000 "invalid token" is
collected from the code:

- src/core/status.c: the detail of every status of the token class (the
  codes from JOSE_E_TOO_LARGE to JOSE_E_TOKEN_LAST_ in src/core/jose.h),
  unless src/errors.c's jwt_token_detail() writes its own for that code;
- src/errors.c, jwt_token_detail(): the details it writes, as formats;
- src/session.c and src/issuers.c: the details of their own 28000 errors
  (the session path's, and a token routed to a registered issuer's);
- src/core/json.c: what "it has R" can say.

Each must stand in README.md's "Errors" section (a format's %s/%d/%zu match
the placeholders the README uses), and each detail row of the README must
match something in the code: a list that says more than the code is as wrong
as one that says less.  Ends with "errors-doc: N passed, N failed".
"""
import os
import re
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
passed = failed = 0


def check(name, ok, why=""):
    global passed, failed
    if ok:
        passed += 1
    else:
        failed += 1
        print(f"FAIL {name}" + (f": {why}" if why else ""))


def read(rel):
    with open(os.path.join(ROOT, rel), encoding="utf-8") as f:
        return f.read()


def c_string(lit):
    """The value of a C string literal's body."""
    return bytes(lit, "utf-8").decode("unicode_escape")


def body_of(src, signature):
    """The body of the C function whose definition starts with signature."""
    i = src.index(signature)
    j = src.index("\n{", i)
    depth, k = 0, j + 1
    while True:
        if src[k] == "{":
            depth += 1
        elif src[k] == "}":
            depth -= 1
            if depth == 0:
                return src[j + 1:k + 1]
        k += 1


jose_h = read("src/core/jose.h")
enum = jose_h[jose_h.index("JOSE_E_TOO_LARGE"):jose_h.index("JOSE_E_TOKEN_LAST_")]
token_codes = re.findall(r"\b(JOSE_E_[A-Z0-9_]+)\b", enum)
check("jose.h lists the token codes", len(token_codes) >= 25, f"found {len(token_codes)}")

status = body_of(read("src/core/status.c"), "jose_status_detail(jose_status st)")
generic = dict(re.findall(r'case (JOSE_E_[A-Z0-9_]+):\s*return "((?:[^"\\]|\\.)*)";', status))

errors_body = body_of(read("src/errors.c"), "jwt_token_detail(jose_status st, const JwtErrorContext *ctx)")
overridden = set(re.findall(r"case (JOSE_E_[A-Z0-9_]+):", errors_body))
override_formats = [c_string(m) for m in re.findall(r'"(The (?:[^"\\]|\\.)*)"', errors_body)]

session_src = read("src/session.c") + read("src/issuers.c")
session_details = [c_string(m) for m in re.findall(
    r'errcode\(ERRCODE_INVALID_AUTHORIZATION_SPECIFICATION\)[^;]*?errdetail\("((?:[^"\\]|\\.)*)"\)',
    session_src, re.S)]
check("session.c and issuers.c have 28000 details of their own", len(session_details) >= 7,
      f"found {len(session_details)}")

# OK, NOT_OBJECT (its own sentence), NOMEM and INTERRUPTED (the glue raises
# out-of-memory or the cancel first) never appear in a detail.
json_texts = [c_string(m) for m in re.findall(
    r'case JOSE_JSON_(?!OK|NOT_OBJECT|NOMEM|INTERRUPTED)[A-Z_]+:\s*return "((?:[^"\\]|\\.)*)";',
    body_of(read("src/core/json.c"), "jose_json_error_text(jose_json_error err)"))]

code_details = []
for code in token_codes:
    if code in overridden:
        continue
    check(f"status.c describes {code}", code in generic)
    if code in generic:
        code_details.append(c_string(generic[code]))
code_details += override_formats + session_details

readme = read("README.md")
errors = readme[readme.index("## Errors"):]
errors = errors[:errors.index("\n## ", 5)]
table = errors[errors.index("The details of `invalid token`"):errors.index("`R`, what is wrong")]
rows = [m.strip() for m in re.findall(r"^\| [a-z][a-z0-9 ]* \| (.+?) \|$", table, re.M)]
rows = [r for r in rows if r != "detail"]
check("README has the details table", len(rows) >= 30, f"{len(rows)} rows")
rows = [re.sub(r" \((?:exp, nbf, iat)\)$", "", r) for r in rows]
documented_r = errors[errors.index("`R`, what is wrong"):]


def as_regex(fmt):
    """A code format as a pattern over the README's wording of it."""
    out, i = "", 0
    for m in re.finditer(r"%(?:zu|d|s)", fmt):
        out += re.escape(fmt[i:m.start()]) + "[A-Z]+"
        i = m.end()
    return "^" + out + re.escape(fmt[i:]) + "$"


# the "The %s is not acceptable JSON" format stands for a header and a payload row
expanded = []
for d in code_details:
    if d.startswith("The %s is not acceptable JSON"):
        expanded += [d.replace("%s", "header", 1), d.replace("%s", "payload", 1)]
    else:
        expanded.append(d)

for d in expanded:
    pattern = as_regex(d)
    check(f"README lists: {d}", any(re.match(pattern, r) for r in rows))
for r in rows:
    check(f"code writes the README's: {r}", any(re.match(as_regex(d), r) for d in expanded))
for t in json_texts:
    check(f"README lists the JSON fault: {t}", t in documented_r.replace("\\\\", "\\"))
check("README names SQLSTATE 28000 and the message", "`28000`" in errors and "`invalid token`" in errors)

print(f"errors-doc: {passed} passed, {failed} failed")
sys.exit(1 if failed else 0)
