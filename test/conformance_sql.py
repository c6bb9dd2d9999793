#!/usr/bin/python3
"""Conformance vectors through SQL.

Reads, at run time, the shared conformance vectors (never copied into the
project):
  - rfc/rfc7515_appendix_A.json: RFC 7515 Appendix A.  A.1 HS256, A.2 RS256,
    A.3 ES256 and A.4 ES512 must be accepted: the JWT ones (expired in 2011)
    by jwt_verify with a large leeway, all of them by jws_verify, which checks
    no claims.  A.5 and E, both "alg":"none", must be refused.  A.2 (RSA
    PKCS#1 v1.5 is deterministic) must be reproduced byte for byte by
    jws_sign; A.1 cannot be (its header puts "typ" first, with CRLF), and
    ECDSA is randomised (A.3, A.4: sign, then verify);
  - cookbook/: RFC 7520 4.1 RS256, 4.2 PS384, 4.3 ES512, 4.4 HS256 and the
    curve25519 Ed25519 example, verified by jws_verify with the files' JWKs;
    the "reproducible" ones signed byte-exact by jws_sign.  4.4 is also
    refused by jwt_verify, its payload being plain text;
  - rfc/rfc8037_appendix_A.json: the RFC 7638 thumbprint of A.3 by
    jwt_jwk_thumbprint, the deterministic Ed25519 token of A.4 by jws_sign;
  - wycheproof/testvectors_v1/json_web_signature_test.json,
    json_web_key_test.json and the JWS groups of json_web_crypto_test.json:
    each "jws" through jws_verify with the group's "public" key, else its
    "private" one.  "valid" must be accepted, "invalid" refused (28000, or
    22023 when the key itself is refused), "acceptable" is counted.  The only
    disagreements allowed are those of vectors/README.md, listed below in
    WYCHEPROOF_STRICT and WYCHEPROOF_GAPS.

The vectors folder is $JWT_VECTORS, by default <repo>/../shared/vectors.  When
it is absent the suite says so and exits 0 without a summary line; test/run
prints its skip line with the count recorded in test/vector-counts (a skip is
not a pass).

Run inside a throwaway cluster:

    pg_virtualenv -t -v 15 /usr/bin/python3 test/conformance_sql.py

It ends with "conformance-sql: N passed, N failed" and exits 1 on any failure,
or when it cannot run at all (then without a summary line).
"""

import base64
import json
import os
import sys
from collections import Counter

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))   # test/, for suite.py
import suite                                                     # noqa: E402
from suite import SqlError, b64u, b64u_decode, parse_json, same_json   # noqa: E402

SUITE = "conformance-sql"
T = suite.Suite(SUITE, reexec_guard="JWT_CONFORMANCE_REEXEC")
note = T.note

VECTORS = os.path.abspath(os.environ.get("JWT_VECTORS")
                          or os.path.join(suite.REPO, "..", "shared", "vectors"))
RFC7515 = os.path.join("rfc", "rfc7515_appendix_A.json")
RFC8037 = os.path.join("rfc", "rfc8037_appendix_A.json")
COOKBOOK_4_4 = os.path.join("cookbook", "jws", "4_4.hmac-sha2_integrity_protection.json")
COOKBOOK_JWS = (      # (file, section name), all verified; "reproducible" ones signed
    (os.path.join("cookbook", "jws", "4_1.rsa_v15_signature.json"), "RFC7520-4.1"),
    (os.path.join("cookbook", "jws", "4_2.rsa-pss_signature.json"), "RFC7520-4.2"),
    (os.path.join("cookbook", "jws", "4_3.ecdsa_signature.json"), "RFC7520-4.3"),
    (COOKBOOK_4_4, "RFC7520-4.4"),
    (os.path.join("cookbook", "curve25519", "jws.json"), "cookbook-Ed25519"),
)
WYCHEPROOF_DIR = os.path.join("wycheproof", "testvectors_v1")
WYCHEPROOF_FILES = ("json_web_signature_test.json", "json_web_key_test.json",
                    "json_web_crypto_test.json")

# The disagreements with Wycheproof's labels that vectors/README.md allows
# ("Entries a strict verifier must disagree with"): (file, tcId) -> the
# strict verdict, and why.  Each passes only when the extension gives that
# verdict; any other disagreement is a failure.
WS = "json_web_signature_test.json"
_BYTE_IDENTICAL = ("byte-identical to the valid tc 357 but labelled invalid "
                   "(upstream Wycheproof issue 236)")
_QUESTION_MARK = ("labelled valid but carries a '?' that the MAC does not cover; "
                  "a strict base64url decoder rejects it")
_PS256_KEY = ("RFC 7520 figure 20: the JWK says \"alg\":\"PS256\" for a PS384 token; "
              "the key's alg is enforced")
_ES521_KEY = ("RFC 7520 figure 27: the JWK says the unregistered \"alg\":\"ES521\" for "
              "an ES512 token; the key's alg is enforced")
WYCHEPROOF_STRICT = {
    (WS, 367): ("valid", _BYTE_IDENTICAL),
    (WS, 370): ("valid", _BYTE_IDENTICAL),
    (WS, 372): ("invalid", _QUESTION_MARK),
    (WS, 373): ("invalid", _QUESTION_MARK),
    (WS, 346): ("invalid", _PS256_KEY),
    (WS, 347): ("invalid", _ES521_KEY),
    (WS, 350): ("invalid", _PS256_KEY),
    (WS, 351): ("invalid", _ES521_KEY),
}
# Known gaps: the label is right, the extension lacks the check.  Refused,
# they pass; accepted, they are reported as a gap, neither passed nor failed.
# None is left: the ROCA keys (json_web_key_test tc 7, json_web_crypto_test
# tc 46) are refused by the ROCA fingerprint check, and judged by their label.
WYCHEPROOF_GAPS = {}

HMAC_ALGS = ("HS256", "HS384", "HS512")
FAR_LEEWAY = "100 years"     # enough to accept the 2011 expiry of the RFC tokens


# The skip comes first: without vectors there is nothing to run against.
if not os.path.isdir(VECTORS):
    print(f"{SUITE}: {VECTORS} not found: not run (test/run prints the skip line)", flush=True)
    sys.exit(0)

try:
    import psycopg2     # noqa: F401: for suite.py's connection
except ImportError as e:
    T.reexec_or_cannot_run(e, "Debian's python3-psycopg2")


# ---------------------------------------------------------------- checks

PRIVATE_MEMBERS = ("d", "p", "q", "dp", "dq", "qi", "oth", "k")


def public_of(jwk):
    """The public half of an asymmetric JWK, as a new dict."""
    return {k: v for k, v in jwk.items() if k not in PRIVATE_MEMBERS}


def compact_header(alg, kid=None):
    """The protected header jws_sign builds: {"alg":...} then "kid"."""
    h = {"alg": alg}
    if kid is not None:
        h["kid"] = kid
    return json.dumps(h, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def flip_signature(compact):
    """The token with one bit of its signature's middle byte changed."""
    h, p, s = compact.split(".")
    sig = bytearray(b64u_decode(s))
    sig[len(sig) // 2] ^= 0x01
    return f"{h}.{p}.{b64u(bytes(sig))}"


def flip_payload(compact):
    """The token with one bit of its payload's first byte changed."""
    h, p, s = compact.split(".")
    payload = bytearray(b64u_decode(p))
    payload[0] ^= 0x01
    return f"{h}.{b64u(bytes(payload))}.{s}"


def load_vector(rel):
    with open(os.path.join(VECTORS, rel), encoding="utf-8") as f:
        return json.load(f)


# ----------------------------------------------------------- the SQL side

CONN = T.connect()


def sql_one(query, params):
    return suite.sql_one(CONN, query, params)


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


def jws_verify(token, key, algorithms=None):
    """("ok", payload bytes) or ("error", SqlError)."""
    args, params = ["%s, %s::text"], [token, key]
    if algorithms is not None:
        args.append("algorithms => %s::text[]")
        params.append(algorithms)
    try:
        got = sql_one(f"SELECT jws_verify({', '.join(args)})", params)
        return "ok", bytes(got)
    except SqlError as e:
        return "error", e


def jws_sign(payload, key, algorithm, header=None):
    if header is None:
        return sql_one("SELECT jws_sign(%s::bytea, %s::text, %s::text)",
                       [payload, key, algorithm])
    return sql_one("SELECT jws_sign(%s::bytea, %s::text, %s::text, %s::jsonb)",
                   [payload, key, algorithm, json.dumps(header)])


def describe(result):
    kind, what = result
    if kind == "ok" and isinstance(what, bytes):
        shown = what if len(what) <= 60 else what[:60] + b"..."
        return f"accepted, payload {shown!r}"
    return f"accepted {what!r}" if kind == "ok" else str(what)


def expect_payload(result, payload):
    """jws_verify accepted and returned exactly these bytes."""
    kind, what = result
    if kind != "ok":
        return False, describe(result)
    return what == payload, f"returned {len(what)} bytes that differ from the payload"


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


def check_unsigned_case(case, keys):
    """alg "none" (A.5, and E which also has crit): refused for any key."""
    cid = case["id"]
    for kid_name, jwk in keys:
        key = json.dumps(jwk)
        for leeway in (None, FAR_LEEWAY):
            what = " with leeway" if leeway else ""
            T.run(f"{cid} (none): jwt_verify refuses it with the {kid_name} key{what} (28000)",
                  lambda lw=leeway, k=key: expect_refused(
                      verify(case["compact"], k, leeway=lw), "28000", ("none", "crit")))
        T.run(f"{cid} (none): jws_verify refuses it with the {kid_name} key (28000)",
              lambda k=key: expect_refused(jws_verify(case["compact"], k),
                                           "28000", ("none", "crit")))

    def invalid():
        v = is_valid(case["compact"], json.dumps(keys[0][1]), leeway=FAR_LEEWAY)
        return v is False, f"jwt_is_valid gave {v!r}"
    T.run(f"{cid} (none): jwt_is_valid is false", invalid)


def check_asymmetric_jwt_case(case):
    """A.2-A.4 through jwt_verify: the expired claims sets with a leeway."""
    cid, alg = case["id"], case["alg"]
    compact, jwk = case["compact"], case["jwk"]
    tag = f"{cid} ({alg})"
    try:
        payload = json.loads(case["payload_utf8"])
    except ValueError:
        payload = None
    if not isinstance(payload, dict):
        # A.4 signs the word "Payload": a JWS, not a JWT
        T.run(f"{tag}: jwt_verify refuses a payload that is not a claims set (28000)",
              lambda: expect_refused(verify(compact, json.dumps(jwk), leeway=FAR_LEEWAY),
                                     "28000", ("payload",)))
        return

    T.run(f"{tag}: jwt_verify refuses the expired token (28000)",
          lambda: expect_refused(verify(compact, json.dumps(jwk)), "28000", ("expired",)))

    def accepted(k, algorithms=None):
        r = verify(compact, json.dumps(k), algorithms=algorithms, leeway=FAR_LEEWAY)
        if r[0] != "ok":
            return False, describe(r)
        return same_json(r[1], payload), f"claims {r[1]!r}, expected {payload!r}"
    T.run(f"{tag}: jwt_verify with leeway '{FAR_LEEWAY}' and the private JWK accepts",
          lambda: accepted(jwk))
    T.run(f"{tag}: jwt_verify with leeway and the public JWK accepts",
          lambda: accepted(public_of(jwk)))
    T.run(f"{tag}: jwt_verify with algorithms {{{alg}}} and leeway accepts",
          lambda: accepted(public_of(jwk), [alg]))

    def valid_with_leeway():
        v = is_valid(compact, json.dumps(public_of(jwk)), leeway=FAR_LEEWAY)
        return v is True, f"jwt_is_valid gave {v!r}"
    T.run(f"{tag}: jwt_is_valid with leeway is true", valid_with_leeway)
    T.run(f"{tag}: jwt_verify refuses a changed signature (28000)",
          lambda: expect_refused(verify(flip_signature(compact), json.dumps(public_of(jwk)),
                                        leeway=FAR_LEEWAY), "28000", ("signature",)))


def check_jws_verify(tag, compact, jwk, alg, payload):
    """jws_verify accepts the token with its JWK and returns the payload."""
    key = json.dumps(jwk)
    T.run(f"{tag}: jws_verify with the vector's JWK returns the payload",
          lambda: expect_payload(jws_verify(compact, key), payload))
    if jwk.get("kty") != "oct":
        T.run(f"{tag}: jws_verify with the public JWK returns the payload",
              lambda: expect_payload(jws_verify(compact, json.dumps(public_of(jwk))), payload))

        def via_public_jwk():
            pub = sql_one("SELECT jwt_public_jwk(%s::text)::text", [key])
            return expect_payload(jws_verify(compact, pub), payload)
        T.run(f"{tag}: jws_verify with jwt_public_jwk() of the JWK returns the payload",
              via_public_jwk)
    T.run(f"{tag}: jws_verify with algorithms {{{alg}}} returns the payload",
          lambda: expect_payload(jws_verify(compact, key, [alg]), payload))
    T.run(f"{tag}: jws_verify refuses a changed signature (28000)",
          lambda: expect_refused(jws_verify(flip_signature(compact), key),
                                 "28000", ("signature",)))
    T.run(f"{tag}: jws_verify refuses a changed payload (28000)",
          lambda: expect_refused(jws_verify(flip_payload(compact), key),
                                 "28000", ("signature",)))


def check_signing(tag, compact, jwk, alg, payload, reproducible):
    """jws_sign: byte-exact where the vector allows it, else a round trip.

    jws_sign writes {"alg":...} then the key's "kid", as compact JSON; a
    vector whose protected header is written otherwise cannot be reproduced,
    and the suite says so instead of forcing it.
    """
    key = json.dumps(jwk)
    vector_header = b64u_decode(compact.split(".")[0])
    built_header = compact_header(alg, jwk.get("kid"))
    same_header = vector_header == built_header

    if reproducible and same_header:
        def exact():
            got = jws_sign(payload, key, alg)
            return got == compact, f"jws_sign gave {got!r}, the vector is {compact!r}"
        T.run(f"{tag}: jws_sign reproduces the vector byte for byte", exact)
        if "kid" in jwk:
            def kid_from_header():
                bare = {k: v for k, v in jwk.items() if k != "kid"}
                got = jws_sign(payload, json.dumps(bare), alg, {"kid": jwk["kid"]})
                return got == compact, f"jws_sign gave {got!r}, the vector is {compact!r}"
            T.run(f"{tag}: jws_sign with the kid in the header argument, not the key, "
                  "reproduces it too", kid_from_header)
    elif reproducible:
        note(f"{tag}: not byte-reproducible by jws_sign: the vector's protected header "
             f"{vector_header.decode('utf-8', 'replace')!r} is not "
             f"{built_header.decode()!r}, the header jws_sign builds; round trip only")

    def round_trip():
        got = jws_sign(payload, key, alg)
        header = b64u_decode(got.split(".")[0])
        if header != built_header:
            return False, f"jws_sign wrote the header {header!r}, expected {built_header!r}"
        verifier = key if jwk.get("kty") == "oct" else json.dumps(public_of(jwk))
        return expect_payload(jws_verify(got, verifier), payload)
    T.run(f"{tag}: jws_sign output verifies with jws_verify and the expected header",
          round_trip)


def check_rfc7515(doc):
    cases = doc["cases"]
    keys = [(c["id"], c["jwk"]) for c in cases
            if c.get("jwk") and c["expected"] == "valid"]
    for case in cases:
        cid, alg, expected = case["id"], case["alg"], case["expected"]
        if alg == "none" or expected == "invalid":
            if not keys:
                T.check(f"{cid}: a key to test it with", False,
                        "no valid case with a JWK in the vector file")
                continue
            check_unsigned_case(case, keys)
            continue
        if not case.get("jwk"):
            T.check(f"{cid}: a JWK to verify it with", False, "a valid case without a JWK")
            continue
        if alg in HMAC_ALGS:
            check_hmac_case(case)
        else:
            check_asymmetric_jwt_case(case)
        tag = f"{cid} ({alg})"
        payload = case["payload_utf8"].encode("utf-8")
        check_jws_verify(tag, case["compact"], case["jwk"], alg, payload)
        # HMAC and RSASSA-PKCS1-v1_5 are deterministic, ECDSA is not
        check_signing(tag, case["compact"], case["jwk"], alg, payload,
                      reproducible=alg[:2] in ("HS", "RS"))


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


# ------------------------------------------------------- RFC 7520 and Ed25519

def check_cookbook(doc, name):
    inp = doc["input"]
    jwk, alg = inp["key"], inp["alg"]
    payload = inp["payload"].encode("utf-8")
    compact = doc["output"]["compact"]
    tag = f"{name} ({alg})"

    def precondition():
        h, p, _ = compact.split(".")
        if h != doc["signing"]["protected_b64u"]:
            return False, "the compact token's header is not signing.protected_b64u"
        if json.loads(b64u_decode(h)).get("alg") != alg:
            return False, "the token's alg is not input.alg"
        return b64u_decode(p) == payload, "the token's payload is not input.payload"
    # the fixture checking itself: a failure fails, a success counts nothing
    try:
        consistent, why = precondition()
    except Exception as e:        # noqa: BLE001
        consistent, why = False, f"unexpected {type(e).__name__}: {e}"
    if not consistent:
        T.check(f"{tag}: the vector is self-consistent", False, why)
        return

    key_alg = jwk.get("alg")
    if key_alg is not None and key_alg != alg:
        # refused by design; which one is right is for the report
        note(f"{tag}: the vector's JWK says \"alg\":\"{key_alg}\" for a {alg} token")

        def refused():
            r = jws_verify(compact, json.dumps(jwk))
            return verdict_of(wycheproof_outcome(r)) == "invalid", describe(r)
        T.run(f"{tag}: jws_verify refuses it, the JWK's alg being {key_alg} (28000 or 22023)",
              refused)
        return

    check_jws_verify(tag, compact, jwk, alg, payload)
    check_signing(tag, compact, jwk, alg, payload, bool(doc.get("reproducible")))


# ------------------------------------------------------- RFC 8037 App. A

def check_rfc8037(doc):
    priv, pub = doc["private_jwk"], doc["public_jwk"]
    thumb = doc["public_jwk_thumbprint_sha256"]

    def thumbprint(jwk):
        got = sql_one("SELECT jwt_jwk_thumbprint(%s::jsonb)", [json.dumps(jwk)])
        return got == thumb, f"jwt_jwk_thumbprint gave {got!r}, expected {thumb!r}"
    T.run("RFC8037-A.3: jwt_jwk_thumbprint of the public key", lambda: thumbprint(pub))
    T.run("RFC8037-A.3: jwt_jwk_thumbprint of the private key is the same "
          "(RFC 7638 hashes only crv, kty, x)", lambda: thumbprint(priv))

    def public_jwk():
        got = parse_json(sql_one("SELECT jwt_public_jwk(%s::text)::text", [json.dumps(priv)]))
        ok = "d" not in got and all(same_json(got.get(k), v) for k, v in pub.items())
        return ok, f"jwt_public_jwk gave {got!r}, expected the members of {pub!r}"
    T.run("RFC8037-A.2: jwt_public_jwk of the private key is the public key", public_jwk)

    for case in doc["cases"]:
        cid, alg = case["id"], case["alg"]
        tag = f"{cid} ({alg})"
        payload = case["payload_utf8"].encode("utf-8")
        compact = case["compact"]
        if case.get("expected") != "valid":
            T.check(f"{tag}: a case this suite knows", False,
                    f"expected {case.get('expected')!r}")
            continue

        def header_matches(c=case):
            got = json.loads(b64u_decode(c["compact"].split(".")[0]))
            return got == c["protected_header"], f"the token's header is {got!r}"
        T.run(f"{tag}: the token's header is the vector's protected_header", header_matches)
        check_jws_verify(tag, compact, pub, alg, payload)
        T.run(f"{tag}: jws_verify with the private JWK returns the payload",
              lambda: expect_payload(jws_verify(compact, json.dumps(priv)), payload))
        check_signing(tag, compact, priv, alg, payload, reproducible=True)


# ------------------------------------------------------- Wycheproof JWS

def wycheproof_outcome(result):
    """accepted, refused-28000, refused-22023, or error-<SQLSTATE>."""
    kind, what = result
    if kind == "ok":
        return "accepted"
    if what.pgcode in ("28000", "22023"):
        return f"refused-{what.pgcode}"
    return f"error-{what.pgcode}"


def verdict_of(outcome):
    if outcome == "accepted":
        return "valid"
    return "invalid" if outcome.startswith("refused-") else None


def strict_reason_holds(test, by_id, group_key):
    """Whether the README's reason for a disagreement holds for this vector."""
    tc, jws = test["tcId"], test["jws"]
    valid_357 = by_id.get(357, {}).get("jws")
    if tc in (367, 370):
        return jws == valid_357, "not byte-identical to tc 357"
    if tc in (372, 373):
        return ("?" in jws and jws.replace("?", "") == valid_357,
                "not tc 357 with a '?' inserted")
    # 346, 347, 350, 351: the key's alg is not the token's
    token_alg = json.loads(b64u_decode(jws.split(".")[0])).get("alg")
    key_alg = (group_key or {}).get("alg")
    return (key_alg is not None and key_alg != token_alg,
            f"the JWK's alg {key_alg!r} is the token's {token_alg!r}")


def check_wycheproof(fname, doc):
    n = Counter()
    passed_before, failed_before = T.passed, T.failed
    by_id = {t["tcId"]: t for g in doc["testGroups"] for t in g["tests"]}
    for group in doc["testGroups"]:
        # "public" when present, else "private" (a JWK, or a JWKS {"keys":[...]})
        group_key = group["public"] if "public" in group else group.get("private")
        for test in group["tests"]:
            if "jws" not in test:
                n["jwe"] += 1          # JWE groups of json_web_crypto_test
                continue
            tc, label, comment = test["tcId"], test["result"], test.get("comment", "")
            name = f"wycheproof {fname} tc {tc} ({comment}, labelled {label})"
            if group_key is None:
                T.check(name, False, "the group has neither a public nor a private key")
                continue
            # JSON serialization (an object): the compact-only verifier gets it as text
            token = test["jws"] if isinstance(test["jws"], str) else json.dumps(test["jws"])
            n["jws"] += 1
            n[f"label {label}"] += 1
            try:
                r = jws_verify(token, json.dumps(group_key))
            except Exception as e:
                T.check(name, False, f"unexpected {type(e).__name__}: {e}")
                continue
            outcome = wycheproof_outcome(r)
            n[outcome] += 1
            verdict = verdict_of(outcome)
            got = (f"got {describe(r)}; flags {','.join(test.get('flags', [])) or 'none'}; "
                   f"group {group.get('comment', '?')!r}")

            if (fname, tc) in WYCHEPROOF_STRICT:
                strict, why = WYCHEPROOF_STRICT[(fname, tc)]
                n["strict"] += 1
                holds, broken = strict_reason_holds(
                    test, by_id, None if "keys" in group_key else group_key)
                if not T.check(f"{name}: README reason holds ({why})", holds, broken):
                    continue
                if T.check(f"{name}: README disagreement, strict verdict {strict} ({why})",
                           verdict == strict, f"expected the strict verdict {strict}; {got}"):
                    n["strict given"] += 1
            elif (fname, tc) in WYCHEPROOF_GAPS:
                why = WYCHEPROOF_GAPS[(fname, tc)]
                if verdict == "invalid":
                    T.check(f"{name}: refused ({why}: gap closed)", True)
                elif verdict == "valid":
                    n["gap"] += 1
                    note(f"known gap: {fname} tc {tc} ({comment}): labelled invalid, "
                         f"accepted: {why}")
                else:
                    T.check(name, False, got)
            elif label == "acceptable":
                T.check(name, verdict is not None, got)
            elif label == "valid":
                def accepted_payload():
                    if verdict != "valid":
                        return False, got
                    want = b64u_decode(token.split(".")[1])
                    return r[1] == want, "the returned bytes are not the token's payload"
                T.run(name, accepted_payload)
            elif label == "invalid":
                T.check(name, verdict == "invalid", got)
            else:
                T.check(name, False, f"unknown result label {label!r}")

    label_counts = ", ".join(f"{k[6:]} {v}" for k, v in sorted(n.items())
                             if k.startswith("label "))
    note(f"{os.path.join(WYCHEPROOF_DIR, fname)}: {n['jws']} JWS ({label_counts})"
         + (f", {n['jwe']} JWE skipped" if n["jwe"] else "")
         + f"; accepted {n['accepted']}, refused {n['refused-28000'] + n['refused-22023']} "
           f"({n['refused-28000']} 28000, {n['refused-22023']} 22023)"
         + "".join(f", {k} {v}" for k, v in sorted(n.items()) if k.startswith("error-"))
         + f"; README disagreements {n['strict']} ({n['strict given']} given the strict "
           f"verdict); known gaps {n['gap']}; "
         f"{T.passed - passed_before} passed, {T.failed - failed_before} failed")


def per_file(rel, fn, *args):
    """Run one file's checks and print its count."""
    passed, failed = T.passed, T.failed
    fn(*args)
    note(f"{rel}: {T.passed - passed} passed, {T.failed - failed} failed")


def main():
    vectors = {}
    rels = ([RFC7515, RFC8037] + [rel for rel, _ in COOKBOOK_JWS]
            + [os.path.join(WYCHEPROOF_DIR, f) for f in WYCHEPROOF_FILES])
    for rel in rels:
        try:
            vectors[rel] = load_vector(rel)
        except (OSError, ValueError) as e:
            T.check(f"read {os.path.join(VECTORS, rel)}", False, str(e))
    if RFC7515 in vectors:
        per_file(RFC7515, check_rfc7515, vectors[RFC7515])
    for rel, name in COOKBOOK_JWS:
        if rel in vectors:
            def cookbook(doc=vectors[rel], name=name, rel=rel):
                check_cookbook(doc, name)
                if rel == COOKBOOK_4_4:
                    check_cookbook_4_4(doc)
            per_file(rel, cookbook)
    if RFC8037 in vectors:
        per_file(RFC8037, check_rfc8037, vectors[RFC8037])
    for f in WYCHEPROOF_FILES:
        rel = os.path.join(WYCHEPROOF_DIR, f)
        if rel in vectors:
            check_wycheproof(f, vectors[rel])
    T.finish()


if __name__ == "__main__":
    main()
