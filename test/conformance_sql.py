#!/usr/bin/python3
"""RFC vectors through SQL.

Reads, at run time, the shared conformance vectors (never copied into the
project):
  - rfc/rfc7515_appendix_A.json: RFC 7515 Appendix A (A.1 HS256 is checked
    here; A.2 RS256, A.3 ES256, A.4 ES512 wait for the asymmetric algorithms;
    A.5 and E, both "alg":"none", must be refused);
  - cookbook/jws/4_4.hmac-sha2_integrity_protection.json: RFC 7520 section 4.4,
    HS256 over a plain-text payload, which jwt_verify must refuse as not a
    claims set.

The vectors folder is $JWT_VECTORS, by default <repo>/../shared/vectors.  When
it is absent the suite says it is skipped and exits 0 without a summary line:
a skip is not a pass.

Run inside a throwaway cluster:

    pg_virtualenv -v 15 python3 test/conformance_sql.py

It ends with "conformance-sql: N passed, N failed" and exits 1 on any failure,
or when it cannot run at all (then without a summary line).
"""

import base64
import json
import os
import sys
from decimal import Decimal

SUITE = "conformance-sql"
SYSTEM_PYTHON = "/usr/bin/python3"   # where Debian's python3-psycopg2 lives
REEXEC_GUARD = "JWT_CONFORMANCE_REEXEC"

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
VECTORS = os.path.abspath(os.environ.get("JWT_VECTORS")
                          or os.path.join(REPO, "..", "shared", "vectors"))
RFC7515 = os.path.join("rfc", "rfc7515_appendix_A.json")
COOKBOOK_4_4 = os.path.join("cookbook", "jws", "4_4.hmac-sha2_integrity_protection.json")

HMAC_ALGS = ("HS256", "HS384", "HS512")
FAR_LEEWAY = "100 years"     # enough to accept the 2011 expiry of the RFC tokens


def cannot_run(why):
    print(f"{SUITE}: cannot run: {why}", flush=True)
    sys.exit(1)


def import_psycopg2():
    """psycopg2, from the system Python if this one lacks it."""
    sys.path[:] = [p for p in sys.path if os.path.abspath(p or os.curdir) != REPO]
    try:
        import psycopg2
        return psycopg2
    except ImportError as e:
        if (os.environ.get(REEXEC_GUARD) is None and os.path.exists(SYSTEM_PYTHON)
                and os.path.realpath(sys.executable) != os.path.realpath(SYSTEM_PYTHON)):
            os.environ[REEXEC_GUARD] = "1"
            os.execv(SYSTEM_PYTHON, [SYSTEM_PYTHON, os.path.abspath(__file__)] + sys.argv[1:])
        cannot_run(f"{e} (needs Debian's python3-psycopg2; this is {sys.executable})")


# The skip comes first: without vectors there is nothing to run against.
if not os.path.isdir(VECTORS):
    print(f"{SUITE}: skipped: {VECTORS} not found", flush=True)
    sys.exit(0)

psycopg2 = import_psycopg2()


# ---------------------------------------------------------------- checks

class Tally:
    def __init__(self):
        self.passed = 0
        self.failed = 0

    def check(self, name, ok, detail=""):
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
        except Exception as e:
            ok, detail = False, f"unexpected {type(e).__name__}: {e}"
        return self.check(name, ok, detail)


T = Tally()


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


def b64u_decode(s):
    return base64.urlsafe_b64decode(s + "=" * (-len(s) % 4))


def load_vector(rel):
    with open(os.path.join(VECTORS, rel), encoding="utf-8") as f:
        return json.load(f)


# ----------------------------------------------------------- the SQL side

class SqlError(Exception):
    def __init__(self, e):
        super().__init__(e.pgerror)
        self.pgcode = e.pgcode
        self.message = e.diag.message_primary
        self.detail = e.diag.message_detail or ""

    def __str__(self):
        return f"SQLSTATE {self.pgcode}: {self.message}" + (
            f" ({self.detail})" if self.detail else "")


def connect():
    try:
        conn = psycopg2.connect("")
    except psycopg2.Error as e:
        cannot_run(f"cannot connect to PostgreSQL ({str(e).strip()}); "
                   "run under pg_virtualenv -v 15")
    conn.autocommit = True     # every statement its own transaction
    try:
        with conn.cursor() as cur:
            cur.execute("CREATE EXTENSION IF NOT EXISTS jwt")
    except psycopg2.Error as e:
        cannot_run(f"CREATE EXTENSION jwt failed ({str(e).strip()}); "
                   "run make install first")
    return conn


CONN = connect()


def sql_one(query, params):
    try:
        with CONN.cursor() as cur:
            cur.execute(query, params)
            return cur.fetchone()[0]
    except psycopg2.Error as e:
        raise SqlError(e) from None


def verify_args(token, key, algorithms, leeway):
    key_sql = "%s::bytea" if isinstance(key, bytes) else "%s::text"
    args, params = [f"%s, {key_sql}"], [token, key]
    if algorithms is not None:
        args.append("algorithms => %s::text[]")
        params.append(algorithms)
    if leeway is not None:
        args.append("leeway => %s::interval")
        params.append(leeway)
    return ", ".join(args), params


def verify(token, key, algorithms=None, leeway=None):
    """("ok", claims) or ("error", SqlError)."""
    args, params = verify_args(token, key, algorithms, leeway)
    try:
        return "ok", parse_json(sql_one(f"SELECT jwt_verify({args})::text", params))
    except SqlError as e:
        return "error", e


def is_valid(token, key, algorithms=None, leeway=None):
    args, params = verify_args(token, key, algorithms, leeway)
    return sql_one(f"SELECT jwt_is_valid({args})", params)


def describe(result):
    kind, what = result
    return f"accepted {what!r}" if kind == "ok" else str(what)


def expect_refused(result, sqlstate="28000", detail_words=()):
    """Refused with that SQLSTATE, and a detail naming the rule."""
    kind, what = result
    if kind != "error" or what.pgcode != sqlstate:
        return False, f"expected SQLSTATE {sqlstate}, got {describe(result)}"
    if detail_words and not any(w in what.detail.lower() for w in detail_words):
        return False, (f"refused for another reason than expected ({'/'.join(detail_words)}): "
                       f"{what}")
    return True, ""


# ------------------------------------------------------- RFC 7515 App. A

def check_hmac_case(case):
    cid, alg = case["id"], case["alg"]
    compact = case["compact"]
    key = json.dumps(case["jwk"])
    header = json.loads(case["protected_header_utf8"])
    payload = json.loads(case["payload_utf8"])
    secret = b64u_decode(case["jwk"]["k"])
    tag = f"{cid} ({alg})"

    T.run(f"{tag}: jwt_verify refuses the expired token (28000)",
          lambda: expect_refused(verify(compact, key), "28000", ("expired",)))

    def refused_is_false():
        v = is_valid(compact, key)
        return v is False, f"jwt_is_valid gave {v!r}"
    T.run(f"{tag}: jwt_is_valid is false for the expired token", refused_is_false)

    def accepted(algorithms=None, k=key):
        r = verify(compact, k, algorithms=algorithms, leeway=FAR_LEEWAY)
        if r[0] != "ok":
            return False, describe(r)
        return same_json(r[1], payload), f"claims {r[1]!r}, expected {payload!r}"
    T.run(f"{tag}: jwt_verify with leeway '{FAR_LEEWAY}' accepts and returns the payload",
          accepted)
    T.run(f"{tag}: jwt_verify with algorithms {{{alg}}} and leeway accepts",
          lambda: accepted([alg]))
    T.run(f"{tag}: jwt_verify with the JWK's secret as bytea accepts",
          lambda: accepted(None, secret))

    def valid_with_leeway():
        v = is_valid(compact, key, leeway=FAR_LEEWAY)
        return v is True, f"jwt_is_valid gave {v!r}"
    T.run(f"{tag}: jwt_is_valid with leeway is true", valid_with_leeway)

    # The key's bytes allow every HMAC algorithm they are long enough for; the
    # list only narrows which the token may use.  A list that leaves the
    # token's own algorithm out refuses the token (28000), whether or not the
    # key could do the listed ones.
    for other in (a for a in HMAC_ALGS if a != alg):
        if len(secret) * 8 < int(other[2:]):
            continue       # the key cannot do it: a different (22023) question
        T.run(f"{tag}: algorithms {{{other}}} leaves out the token's {alg}: "
              "refused (28000)",
              lambda o=other: expect_refused(verify(compact, key, algorithms=[o],
                                                    leeway=FAR_LEEWAY),
                                             "28000", ("allowed algorithms",)))

    def decoded():
        d = parse_json(sql_one("SELECT jwt_decode(%s)::text", [compact]))
        ok = (set(d) == {"header", "payload"} and same_json(d["header"], header)
              and same_json(d["payload"], payload))
        return ok, f"jwt_decode gave {d!r}"
    T.run(f"{tag}: jwt_decode gives the header and payload", decoded)

    def tampered():
        h, p, s = compact.split(".")
        sig = bytearray(b64u_decode(s))
        sig[0] ^= 0x80
        bad = f"{h}.{p}." + base64.urlsafe_b64encode(bytes(sig)).rstrip(b"=").decode()
        return expect_refused(verify(bad, key, leeway=FAR_LEEWAY), "28000", ("signature",))
    T.run(f"{tag}: a changed signature byte is refused (28000)", tampered)


def check_unsigned_case(case, key):
    """alg "none" (A.5, and E which also has crit): refused for any key."""
    cid = case["id"]
    for leeway in (None, FAR_LEEWAY):
        what = " with leeway" if leeway else ""
        T.run(f"{cid} (none): refused for the A.1 key{what} (28000)",
              lambda lw=leeway: expect_refused(verify(case["compact"], key, leeway=lw),
                                               "28000", ("none", "crit")))

    def invalid():
        v = is_valid(case["compact"], key, leeway=FAR_LEEWAY)
        return v is False, f"jwt_is_valid gave {v!r}"
    T.run(f"{cid} (none): jwt_is_valid is false", invalid)


def check_rfc7515(doc):
    cases = doc["cases"]
    hmac_keys = [c["jwk"] for c in cases if c["alg"] in HMAC_ALGS and c.get("jwk")]
    a1_key = json.dumps(hmac_keys[0]) if hmac_keys else None
    for case in cases:
        alg, expected = case["alg"], case["expected"]
        if alg in HMAC_ALGS and expected == "valid":
            check_hmac_case(case)
        elif alg == "none" or expected == "invalid":
            if a1_key is None:
                T.check(f"{case['id']}: an HMAC key to test it with", False,
                        "no HS* case with a JWK in the vector file")
                continue
            check_unsigned_case(case, a1_key)
        else:
            print(f"{SUITE}: deferred {case['id']} ({alg})", flush=True)


# ------------------------------------------------------- RFC 7520 4.4

def check_cookbook_4_4(doc):
    compact = doc["output"]["compact"]
    key = json.dumps(doc["input"]["key"])
    payload = doc["input"]["payload"]
    tag = "RFC7520-4.4 (HS256)"

    def precondition():
        # the payload really is plain text, so the refusal is about the claims set
        got = b64u_decode(compact.split(".")[1]).decode("utf-8")
        try:
            json.loads(got)
            return False, "the payload parses as JSON"
        except ValueError:
            return got == payload, "the token's payload is not the vector's input"
    if not T.run(f"{tag}: the vector's payload is plain text, not JSON", precondition):
        return

    T.run(f"{tag}: jwt_verify refuses a payload that is not a claims set (28000)",
          lambda: expect_refused(verify(compact, key), "28000", ("payload",)))
    T.run(f"{tag}: refused also with algorithms {{HS256}} (28000)",
          lambda: expect_refused(verify(compact, key, algorithms=["HS256"]),
                                 "28000", ("payload",)))

    def invalid():
        v = is_valid(compact, key)
        return v is False, f"jwt_is_valid gave {v!r}"
    T.run(f"{tag}: jwt_is_valid is false", invalid)

    # The JWK says "alg":"HS256" (and 32 bytes could not do HS384 anyway): a
    # list with only HS384 leaves the key nothing to verify with, so the call,
    # not the token, is wrong.
    T.run(f"{tag}: algorithms {{HS384}} with this HS256 JWK is a wrong call (22023)",
          lambda: expect_refused(verify(compact, key, algorithms=["HS384"]), "22023"))

    def wrong_key_first():
        # with a wrong key the signature, checked first, is what fails
        other = json.dumps(dict(doc["input"]["key"],
                                k=base64.urlsafe_b64encode(b"\x00" * 32).rstrip(b"=").decode()))
        return expect_refused(verify(compact, other), "28000", ("signature",))
    T.run(f"{tag}: with another key it is the signature that fails (28000)", wrong_key_first)


def main():
    vectors = {}
    for rel in (RFC7515, COOKBOOK_4_4):
        try:
            vectors[rel] = load_vector(rel)
        except (OSError, ValueError) as e:
            T.check(f"read {os.path.join(VECTORS, rel)}", False, str(e))
    if RFC7515 in vectors:
        check_rfc7515(vectors[RFC7515])
    if COOKBOOK_4_4 in vectors:
        check_cookbook_4_4(vectors[COOKBOOK_4_4])
    print(f"{SUITE}: {T.passed} passed, {T.failed} failed", flush=True)
    sys.exit(1 if T.failed else 0)


if __name__ == "__main__":
    main()
