#!/usr/bin/python3
"""Interop with PyJWT (Debian's python3-jwt 2.6), both ways.

For HS256/384/512 (secrets as text, bytea and oct JWK) and for every
asymmetric algorithm PyJWT 2.6 implements (RS256/384/512, PS256/384/512,
ES256/384/512, ES256K, EdDSA over Ed25519 and Ed448), with keys made by
cryptography and by jwt_generate_key(), given to the other side as PEM and as
JWK (PyJWT's algorithms module: to_jwk, from_jwk, PyJWKSet):

- tokens signed by jwt_sign() verify in PyJWT with the same claims;
- tokens signed by PyJWT verify with jwt_verify() with the same claims, the
  key as SPKI PEM, PKCS#1 PEM, certificate, private PEM, JWK or a JWKS whose
  kid picks the key;
- the registered claims (exp, nbf, iat, aud, iss) are judged alike by both
  (HMAC);
- a token tampered with after signing is refused by the other side.

Run inside a throwaway cluster:

    pg_virtualenv -t -v 15 /usr/bin/python3 test/interop_pyjwt.py

The cluster's connection comes from the PG* environment.  The suite creates
the extension if it is missing, prints one line per failed check (FAIL ...)
and per skipped combination (SKIP ...: reason; a skip is not a pass), and
ends with "interop-pyjwt: N passed, N failed"; it exits 1 on any failure and
when it cannot run at all (then without a summary line).
"""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))   # test/, for suite.py
import suite      # noqa: E402: first, it keeps the repository root (jwt.so) off sys.path
from suite import SqlError, b64u, b64u_decode, parse_json, same_json   # noqa: E402

SUITE = "interop-pyjwt"
T = suite.Suite(SUITE, reexec_guard="JWT_INTEROP_REEXEC", one_line_reasons=True)

try:
    import jwt as pyjwt
    import psycopg2
    if not hasattr(pyjwt, "encode"):
        raise ImportError(f"'jwt' resolved to {pyjwt.__file__}, not PyJWT")
except ImportError as e:
    T.reexec_or_cannot_run(e, "Debian's python3-jwt and python3-psycopg2")

import hashlib                     # noqa: E402
import json                        # noqa: E402
import time                        # noqa: E402

import psycopg2.errors             # noqa: E402,F401
from jwt.algorithms import HMACAlgorithm   # noqa: E402

ALGS = ("HS256", "HS384", "HS512")
NOW = int(time.time())


# ---------------------------------------------------------------- keys

# Every secret is at least 64 bytes, so it serves all three algorithms.
TEXT_SECRET = ("Schlüssel — ключ — 鍵 — 🔑 — correct horse battery staple — "
               "interop with PyJWT")
BYTES_SECRET = (hashlib.sha512(b"jwt interop bytea secret").digest()
                + b"\x00\xff\xfe\x80\xc3\x28\xed\xa0\x80")
assert len(TEXT_SECRET.encode("utf-8")) >= 64
assert len(BYTES_SECRET) >= 64
try:
    BYTES_SECRET.decode("utf-8")
    raise AssertionError("BYTES_SECRET must not be valid UTF-8")
except UnicodeDecodeError:
    pass
JWK_BYTES = hashlib.sha512(b"jwt interop oct jwk").digest() + b"\x01\x80\xff"
JWK = {"kty": "oct", "k": b64u(JWK_BYTES)}
JWK_TEXT = json.dumps(JWK)


class Key:
    """One secret in the forms each side takes."""

    def __init__(self, label, sql_key, py_key):
        self.label = label
        self.sql = sql_key      # str -> the text overload, bytes -> bytea
        self.py = py_key        # what PyJWT takes


KEYS = [
    Key("text", TEXT_SECRET, TEXT_SECRET),
    Key("bytea", BYTES_SECRET, BYTES_SECRET),
    # PyJWT reads the same JWK, so the key bytes come from its own parser
    Key("jwk", JWK_TEXT, HMACAlgorithm.from_jwk(JWK_TEXT)),
]
TEXT_KEY = KEYS[0]


# ----------------------------------------------------------- the SQL side

CONN = T.connect()


def sql_one(query, params):
    return suite.sql_one(CONN, query, params)


def key_param(key):
    return "%s::bytea" if isinstance(key, bytes) else "%s::text"


def sql_sign(claims, key, alg, header=None):
    q = f"SELECT jwt_sign(%s::jsonb, {key_param(key)}, %s"
    params = [json.dumps(claims), key, alg]
    if header is not None:
        q += ", header => %s::jsonb"
        params.append(json.dumps(header))
    return sql_one(q + ")", params)


def verify_args(token, key, algorithms, audience, issuer, leeway):
    """The call's arguments by name; only those given, so defaults apply."""
    args = [f"%s, {key_param(key)}"]
    params = [token, key]
    for name, cast, value in (("algorithms", "text[]", algorithms),
                              ("audience", "text", audience),
                              ("issuer", "text", issuer),
                              ("leeway", "interval", leeway)):
        if value is not None:
            args.append(f"{name} => %s::{cast}")
            params.append(value)
    return ", ".join(args), params


def sql_verify(token, key, algorithms=None, audience=None, issuer=None, leeway=None):
    """The claims jwt_verify returns, parsed; raises SqlError."""
    args, params = verify_args(token, key, algorithms, audience, issuer, leeway)
    return parse_json(sql_one(f"SELECT jwt_verify({args})::text", params))


def sql_is_valid(token, key, algorithms=None, audience=None, issuer=None, leeway=None):
    args, params = verify_args(token, key, algorithms, audience, issuer, leeway)
    return sql_one(f"SELECT jwt_is_valid({args})", params)


def sql_decode(token):
    return parse_json(sql_one("SELECT jwt_decode(%s)::text", [token]))


# -------------------------------------------------------- the PyJWT side

class RawUtf8Encoder(json.JSONEncoder):
    """PyJWT's encoder, but writing non-ASCII characters as UTF-8."""

    def __init__(self, **kw):
        kw["ensure_ascii"] = False
        super().__init__(**kw)


def py_sign(claims, key, alg, headers=None, raw_utf8=False):
    return pyjwt.encode(claims, key, algorithm=alg, headers=headers,
                        json_encoder=RawUtf8Encoder if raw_utf8 else None)


def py_verify(token, key, alg, audience=None, issuer=None, leeway=0):
    """The claims PyJWT returns; raises PyJWT's InvalidTokenError family."""
    return pyjwt.decode(token, key, algorithms=[alg], audience=audience,
                        issuer=issuer, leeway=leeway)


# ------------------------------------------------------------- verdicts

def sql_verdict(token, key, **kw):
    """("ok", claims) or ("refused", error); a non-28000 error is "error"."""
    try:
        return "ok", sql_verify(token, key, **kw)
    except SqlError as e:
        return ("refused" if e.pgcode == "28000" else "error"), e


def py_verdict(token, key, alg, **kw):
    try:
        return "ok", py_verify(token, key, alg, **kw)
    except pyjwt.exceptions.InvalidTokenError as e:
        return "refused", e


def describe(verdict):
    kind, what = verdict
    if kind == "ok":
        return "accepted"
    return f"{kind}: {type(what).__name__}: {what}"


# ------------------------------------------------------------ the claims

RICH_CLAIMS = {
    "sub": "user-ü-漢字-🔑",
    "iss": "https://issuer.example/",
    "aud": "api",
    "iat": NOW - 5,
    "nbf": NOW - 5,
    "exp": NOW + 3600,
    "ключ": "значение",
    "nested": {"a": [1, 2.5, {"b": None, "c": True, "d": False}], "e": {}, "f": []},
    "float": 3.141592653589793,
    "small": 1e-7,
    "big_float": 6.02e23,
    "negative": -0.5,
    "bigint": 2 ** 63 + 7,
    "huge": 123456789012345678901234567890,
    "minus_big": -(2 ** 64),
    "escapes": "quote \" backslash \\ slash / newline \n tab \t bell \u0007",
    "empty": "",
    "supplementary": "𝄞 😀",
}
AUD = "api"
ISS = "https://issuer.example/"


def check_round_trips():
    for alg in ALGS:
        for key in KEYS:
            tag = f"{alg}/{key.label}"

            def sql_to_py():
                tok = sql_sign(RICH_CLAIMS, key.sql, alg)
                got = py_verify(tok, key.py, alg, audience=AUD, issuer=ISS)
                hdr = pyjwt.get_unverified_header(tok)
                if hdr.get("alg") != alg:
                    return False, f"header alg {hdr.get('alg')!r}"
                return same_json(got, RICH_CLAIMS), f"PyJWT gave {got!r}"
            T.run(f"{tag}: jwt_sign token verifies in PyJWT with the same claims",
                  sql_to_py)

            def py_to_sql():
                tok = py_sign(RICH_CLAIMS, key.py, alg,
                              headers={"kid": f"kid-{key.label}", "typ": "JWT"})
                got = sql_verify(tok, key.sql, algorithms=[alg], audience=AUD, issuer=ISS)
                return same_json(got, RICH_CLAIMS), f"jwt_verify gave {got!r}"
            T.run(f"{tag}: PyJWT token (kid, typ headers) verifies with jwt_verify "
                  "with the same claims", py_to_sql)

            def py_to_sql_is_valid():
                tok = py_sign(RICH_CLAIMS, key.py, alg, headers={"kid": "k"})
                v = sql_is_valid(tok, key.sql, algorithms=[alg], audience=AUD, issuer=ISS)
                return v is True, f"jwt_is_valid gave {v!r}"
            T.run(f"{tag}: jwt_is_valid is true for the PyJWT token", py_to_sql_is_valid)

    def raw_utf8():
        tok = py_sign(RICH_CLAIMS, TEXT_KEY.py, "HS256", raw_utf8=True)
        if "ключ".encode("utf-8") not in b64u_decode(tok.split(".")[1]):
            return False, "PyJWT still escaped non-ASCII characters"
        got = sql_verify(tok, TEXT_KEY.sql, audience=AUD, issuer=ISS)
        return same_json(got, RICH_CLAIMS), f"jwt_verify gave {got!r}"
    T.run("HS256/text: PyJWT token with raw UTF-8 (not \\u escapes) verifies with "
          "the same claims", raw_utf8)

    def escaped_payload():
        tok = py_sign(RICH_CLAIMS, TEXT_KEY.py, "HS256")
        if b"\\ud834\\udd1e" not in b64u_decode(tok.split(".")[1]):
            return False, "PyJWT did not write a surrogate pair"
        got = sql_verify(tok, TEXT_KEY.sql, audience=AUD, issuer=ISS)
        return got["supplementary"] == RICH_CLAIMS["supplementary"], \
            f"got {got['supplementary']!r}"
    T.run("HS256/text: surrogate-pair escapes from PyJWT decode to the right characters",
          escaped_payload)

    def sql_headers():
        tok = sql_sign({"sub": "x"}, TEXT_KEY.sql, "HS384",
                       header={"kid": "key-7", "typ": "at+jwt", "x-extra": [1, "two"]})
        hdr = pyjwt.get_unverified_header(tok)
        want = {"alg": "HS384", "kid": "key-7", "typ": "at+jwt", "x-extra": [1, "two"]}
        full = pyjwt.PyJWT().decode_complete(tok, TEXT_KEY.py, algorithms=["HS384"])
        return same_json(hdr, want) and same_json(full["header"], want), f"header {hdr!r}"
    T.run("HS384/text: jwt_sign's extra header members reach PyJWT", sql_headers)

    def jwk_kid():
        jwk = dict(JWK, kid="oct-key-1")
        tok = sql_sign({"sub": "x"}, json.dumps(jwk), "HS512")
        hdr = pyjwt.get_unverified_header(tok)
        ok = hdr.get("kid") == "oct-key-1"
        got = py_verify(tok, HMACAlgorithm.from_jwk(jwk), "HS512")
        return ok and got == {"sub": "x"}, f"header {hdr!r}, claims {got!r}"
    T.run("HS512/jwk: a JWK's kid goes into jwt_sign's header and PyJWT verifies",
          jwk_kid)

    def decode_agrees():
        tok = py_sign(RICH_CLAIMS, TEXT_KEY.py, "HS256", headers={"kid": "d"})
        d = sql_decode(tok)
        full = pyjwt.PyJWT().decode_complete(tok, options={"verify_signature": False})
        return (same_json(d["header"], full["header"])
                and same_json(d["payload"], full["payload"])), f"jwt_decode gave {d!r}"
    T.run("jwt_decode of a PyJWT token matches PyJWT's own header and payload",
          decode_agrees)


# ------------------------------------------------------ registered claims

class Scenario:
    def __init__(self, name, claims, expect, audience=None, issuer=None, leeway=0,
                 sql_can_sign=True):
        self.name = name
        self.claims = claims
        self.expect = expect            # "ok" or "refused"
        self.audience = audience
        self.issuer = issuer
        self.leeway = leeway            # seconds
        self.sql_can_sign = sql_can_sign


SCENARIOS = [
    Scenario("exp an hour ago", {"sub": "a", "exp": NOW - 3600}, "refused"),
    Scenario("exp an hour ahead", {"sub": "a", "exp": NOW + 3600}, "ok"),
    Scenario("exp 30 s ago, leeway 120 s", {"sub": "a", "exp": NOW - 30}, "ok", leeway=120),
    Scenario("exp 300 s ago, leeway 120 s", {"sub": "a", "exp": NOW - 300}, "refused",
             leeway=120),
    Scenario("exp a fractional number ahead", {"sub": "a", "exp": NOW + 3600.5}, "ok"),
    Scenario("nbf an hour ahead", {"sub": "a", "nbf": NOW + 3600}, "refused"),
    Scenario("nbf 30 s ahead, leeway 120 s", {"sub": "a", "nbf": NOW + 30}, "ok", leeway=120),
    Scenario("nbf in the past", {"sub": "a", "nbf": NOW - 60}, "ok"),
    Scenario("iat an hour ahead", {"sub": "a", "iat": NOW + 3600}, "refused"),
    Scenario("iat 30 s ahead, leeway 120 s", {"sub": "a", "iat": NOW + 30}, "ok", leeway=120),
    Scenario("iat in the past", {"sub": "a", "iat": NOW - 60}, "ok"),
    Scenario("aud string equal", {"aud": "api"}, "ok", audience="api"),
    Scenario("aud string different", {"aud": "other"}, "refused", audience="api"),
    Scenario("aud differs in case only", {"aud": "API"}, "refused", audience="api"),
    Scenario("aud list with the audience", {"aud": ["web", "api", "cli"]}, "ok",
             audience="api"),
    Scenario("aud list without the audience", {"aud": ["web", "cli"]}, "refused",
             audience="api"),
    Scenario("aud required but absent", {"sub": "a"}, "refused", audience="api"),
    Scenario("aud present, no audience expected", {"aud": "api"}, "refused"),
    Scenario("iss equal", {"iss": "https://a.example"}, "ok", issuer="https://a.example"),
    Scenario("iss different", {"iss": "https://b.example"}, "refused",
             issuer="https://a.example"),
    Scenario("iss required but absent", {"sub": "a"}, "refused", issuer="https://a.example"),
    Scenario("all claims good", {"iss": "i", "aud": ["x", "api"], "iat": NOW - 10,
                                 "nbf": NOW - 10, "exp": NOW + 600},
             "ok", audience="api", issuer="i"),
    # jwt_sign refuses wrongly typed registered claims, so only PyJWT signs these
    Scenario("exp not a number", {"sub": "a", "exp": "soon"}, "refused",
             sql_can_sign=False),
    Scenario("nbf not a number", {"sub": "a", "nbf": "later"}, "refused",
             sql_can_sign=False),
]


def check_scenarios():
    for sc in SCENARIOS:
        for alg in ("HS256", "HS512"):
            signers = [("PyJWT", lambda c=sc.claims, a=alg:
                        py_sign(c, TEXT_KEY.py, a))]
            if sc.sql_can_sign:
                signers.append(("jwt_sign", lambda c=sc.claims, a=alg:
                                sql_sign(c, TEXT_KEY.sql, a)))
            leeway_sql = f"{sc.leeway} seconds" if sc.leeway else None
            for signer, sign in signers:
                base = f"claims '{sc.name}' ({alg}, signed by {signer})"

                def by_sql(sign=sign):
                    v = sql_verdict(sign(), TEXT_KEY.sql, audience=sc.audience,
                                    issuer=sc.issuer, leeway=leeway_sql)
                    ok = v[0] == sc.expect
                    if ok and v[0] == "ok":
                        ok = same_json(v[1], sc.claims)
                    return ok, f"expected {sc.expect}, jwt_verify {describe(v)}"
                T.run(f"{base}: jwt_verify {sc.expect}", by_sql)

                def by_is_valid(sign=sign):
                    v = sql_is_valid(sign(), TEXT_KEY.sql, audience=sc.audience,
                                     issuer=sc.issuer, leeway=leeway_sql)
                    return v is (sc.expect == "ok"), f"jwt_is_valid gave {v!r}"
                T.run(f"{base}: jwt_is_valid agrees", by_is_valid)

                def by_py(sign=sign, alg=alg):
                    v = py_verdict(sign(), TEXT_KEY.py, alg, audience=sc.audience,
                                   issuer=sc.issuer, leeway=sc.leeway)
                    ok = v[0] == sc.expect
                    if ok and v[0] == "ok":
                        ok = same_json(v[1], sc.claims)
                    return ok, f"expected {sc.expect}, PyJWT {describe(v)}"
                # PyJWT on its own token checks PyJWT, not the extension
                if signer != "PyJWT":
                    T.run(f"{base}: PyJWT {sc.expect}", by_py)


# -------------------------------------------------------------- tampering

def with_payload(token, claims):
    h, _, s = token.split(".")
    body = json.dumps(claims, separators=(",", ":")).encode("utf-8")
    return f"{h}.{b64u(body)}.{s}"


def with_header_alg(token, alg):
    h, p, s = token.split(".")
    hdr = json.loads(b64u_decode(h))
    hdr["alg"] = alg
    return f"{b64u(json.dumps(hdr, separators=(',', ':')).encode())}.{p}.{s}"


def flip_signature_byte(token):
    h, p, s = token.split(".")
    sig = bytearray(b64u_decode(s))
    sig[len(sig) // 2] ^= 0x01
    return f"{h}.{p}.{b64u(bytes(sig))}"


def stray_signature_bits(token):
    """The same signature bytes, with the unused low bits of the last
    base64url character set: lenient decoders (Python's) read the same bytes."""
    h, p, s = token.split(".")
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    unused = {2: 4, 3: 2}[len(s) % 4]       # bits the last character does not carry
    last = alphabet.index(s[-1])
    if last & ((1 << unused) - 1):
        raise AssertionError("signature already has stray bits")
    return f"{h}.{p}.{s[:-1]}{alphabet[last | 1]}"


TAMPERS = [
    ("payload replaced, signature kept",
     lambda t: with_payload(t, {"sub": "admin", "exp": NOW + 3600})),
    ("one signature bit flipped", flip_signature_byte),
    ("header alg changed to another HMAC", lambda t: with_header_alg(
        t, {"HS256": "HS512", "HS384": "HS256", "HS512": "HS384"}[
            json.loads(b64u_decode(t.split(".")[0]))["alg"]])),
    ("header alg changed to none, signature dropped",
     lambda t: with_header_alg(t, "none").rsplit(".", 1)[0] + "."),
    ("signature dropped", lambda t: t.rsplit(".", 1)[0] + "."),
]
CLAIMS = {"sub": "alice", "role": "user", "exp": NOW + 3600}


def check_tampering():
    for alg in ALGS:
        for key in KEYS:
            tag = f"{alg}/{key.label}"
            for what, tamper in TAMPERS:
                def sql_signed(tamper=tamper, alg=alg, key=key):
                    tok = sql_sign(CLAIMS, key.sql, alg)
                    if py_verdict(tok, key.py, alg)[0] != "ok":
                        return False, "PyJWT refused the untampered token"
                    v = py_verdict(tamper(tok), key.py, alg)
                    return v[0] == "refused", f"PyJWT {describe(v)}"
                T.run(f"{tag}: jwt_sign token, {what}: PyJWT refuses", sql_signed)

                def py_signed(tamper=tamper, alg=alg, key=key):
                    tok = py_sign(CLAIMS, key.py, alg)
                    if sql_verdict(tok, key.sql)[0] != "ok":
                        return False, "jwt_verify refused the untampered token"
                    v = sql_verdict(tamper(tok), key.sql)
                    return v[0] == "refused", f"jwt_verify {describe(v)}"
                T.run(f"{tag}: PyJWT token, {what}: jwt_verify refuses (28000)", py_signed)

        # PyJWT's base64 decoder ignores stray bits; a strict verifier must not.
        # A 48-byte HS384 signature fills its last character: no stray bits.
        if alg == "HS384":
            continue

        def stray_bits(alg=alg):
            tok = stray_signature_bits(py_sign(CLAIMS, TEXT_KEY.py, alg))
            v = sql_verdict(tok, TEXT_KEY.sql)
            return v[0] == "refused", f"jwt_verify {describe(v)}"
        T.run(f"{alg}/text: PyJWT token with stray bits in the signature's last "
              "character: jwt_verify refuses (28000)", stray_bits)


# ------------------------------------------------- keys and algorithm lists

def check_keys_and_algorithms():
    def wrong_key_sql():
        tok = py_sign(CLAIMS, TEXT_KEY.py, "HS256")
        v = sql_verdict(tok, BYTES_SECRET)
        return v[0] == "refused", f"jwt_verify {describe(v)}"
    T.run("PyJWT token checked with another key: jwt_verify refuses (28000)", wrong_key_sql)

    def wrong_key_py():
        tok = sql_sign(CLAIMS, TEXT_KEY.sql, "HS256")
        v = py_verdict(tok, BYTES_SECRET, "HS256")
        return v[0] == "refused", f"PyJWT {describe(v)}"
    T.run("jwt_sign token checked with another key: PyJWT refuses", wrong_key_py)

    def text_vs_bytes():
        # the text key is its UTF-8 bytes: the bytea overload must agree
        tok = py_sign(CLAIMS, TEXT_KEY.py, "HS384")
        got = sql_verify(tok, TEXT_SECRET.encode("utf-8"))
        return same_json(got, CLAIMS), f"got {got!r}"
    T.run("PyJWT token for a text secret verifies with the bytea of its UTF-8 bytes",
          text_vs_bytes)

    def alg_outside_list_sql():
        tok = py_sign(CLAIMS, TEXT_KEY.py, "HS384")
        v = sql_verdict(tok, TEXT_KEY.sql, algorithms=["HS256", "HS512"])
        return v[0] == "refused", f"jwt_verify {describe(v)}"
    T.run("PyJWT HS384 token, algorithms {HS256,HS512}: jwt_verify refuses (28000)",
          alg_outside_list_sql)

    def alg_outside_list_py():
        tok = sql_sign(CLAIMS, TEXT_KEY.sql, "HS384")
        try:
            pyjwt.decode(tok, TEXT_KEY.py, algorithms=["HS256", "HS512"])
            return False, "PyJWT accepted"
        except pyjwt.exceptions.InvalidAlgorithmError:
            return True, ""
    T.run("jwt_sign HS384 token, algorithms [HS256, HS512]: PyJWT refuses",
          alg_outside_list_py)

    def jwk_alg_honoured():
        jwk = json.dumps(dict(JWK, alg="HS256"))
        tok = py_sign(CLAIMS, JWK_BYTES, "HS384")
        v = sql_verdict(tok, jwk)
        return v[0] == "refused", f"jwt_verify {describe(v)}"
    T.run("PyJWT HS384 token against a JWK with \"alg\":\"HS256\": jwt_verify refuses "
          "(28000)", jwk_alg_honoured)

    def jwk_alg_agrees():
        jwk = json.dumps(dict(JWK, alg="HS384"))
        tok = py_sign(CLAIMS, JWK_BYTES, "HS384")
        got = sql_verify(tok, jwk)
        return same_json(got, CLAIMS), f"got {got!r}"
    T.run("PyJWT HS384 token against a JWK with \"alg\":\"HS384\": jwt_verify accepts",
          jwk_alg_agrees)

# ------------------------------------------------ asymmetric algorithms
#
# Keys made with cryptography (what PyJWT signs with) and by
# jwt_generate_key(); each given to the other side as PEM and as JWK (through
# PyJWT's own algorithms module: to_jwk and from_jwk).

from cryptography import x509                                    # noqa: E402
from cryptography.hazmat.primitives import hashes, serialization  # noqa: E402
from cryptography.hazmat.primitives.asymmetric import ec, ed448, ed25519, rsa  # noqa: E402
from cryptography.x509.oid import NameOID                        # noqa: E402
import datetime                                                  # noqa: E402
import hmac                                                      # noqa: E402
from jwt.algorithms import ECAlgorithm, OKPAlgorithm, RSAAlgorithm  # noqa: E402
from jwt.api_jwk import PyJWK, PyJWKSet                          # noqa: E402


class AsymCase:
    def __init__(self, alg, kind, label=None, curve=None, gen_alg=None):
        self.alg = alg
        self.kind = kind              # rsa, ec, okp
        self.label = label or alg
        self.curve = curve            # a cryptography curve class, or ed25519/ed448
        self.gen_alg = gen_alg        # what jwt_generate_key is asked for

    @property
    def jwk_class(self):
        return {"rsa": RSAAlgorithm, "ec": ECAlgorithm, "okp": OKPAlgorithm}[self.kind]


# Every asymmetric algorithm of PyJWT 2.6 (get_default_algorithms()), but its
# "ES521", a non-standard alias of ES512 checked on its own below.
ASYM_CASES = (
    [AsymCase(a, "rsa") for a in ("RS256", "RS384", "RS512", "PS256", "PS384", "PS512")]
    + [AsymCase("ES256", "ec", curve=ec.SECP256R1),
       AsymCase("ES384", "ec", curve=ec.SECP384R1),
       AsymCase("ES512", "ec", curve=ec.SECP521R1),
       AsymCase("ES256K", "ec", curve=ec.SECP256K1),
       AsymCase("EdDSA", "okp", "EdDSA/Ed25519", curve=ed25519),
       AsymCase("EdDSA", "okp", "EdDSA/Ed448", curve=ed448, gen_alg="Ed448")]
)
ASYM_BY_LABEL = {c.label: c for c in ASYM_CASES}
PYJWT_LACKS = {
    "Ed25519": "PyJWT 2.6 does not implement the fully-specified \"Ed25519\" algorithm "
               "(RFC 9864), only \"EdDSA\"",
    "Ed448": "PyJWT 2.6 does not implement the fully-specified \"Ed448\" algorithm "
             "(RFC 9864), only \"EdDSA\"",
}
ASYM_SWAP = {
    "RS256": "RS384", "RS384": "RS512", "RS512": "RS256",
    "PS256": "RS256", "PS384": "PS512", "PS512": "PS384",
    "ES256": "ES256K", "ES384": "ES512", "ES512": "ES384", "ES256K": "ES256",
    "EdDSA": "Ed448",
}


def full_length_jwk(key):
    """Whether PyJWT 2.6's to_jwk writes this EC key's coordinates at full
    length: it writes them as minimal unsigned integers, dropping leading zero
    bytes, which RFC 7518 section 6.2.1.2 forbids (and its own from_jwk then
    refuses)."""
    if not isinstance(key, ec.EllipticCurvePrivateKey):
        return True
    size = (key.curve.key_size + 7) // 8
    n = key.public_key().public_numbers()
    return (n.x.bit_length() + 7) // 8 == size and (n.y.bit_length() + 7) // 8 == size \
        and (key.private_numbers().private_value.bit_length() + 7) // 8 == size


def short_public_jwk(key):
    """Whether PyJWT 2.6's to_jwk of the public key writes x or y short."""
    size = (key.curve.key_size + 7) // 8
    n = key.public_key().public_numbers()
    return (n.x.bit_length() + 7) // 8 < size or (n.y.bit_length() + 7) // 8 < size


def generate(case, full_length=True):
    """A private key of the case's type; EC keys whose JWK PyJWT writes at full
    length (or, full_length=False, one whose public JWK it writes short)."""
    while True:
        if case.kind == "rsa":
            key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        elif case.kind == "ec":
            key = ec.generate_private_key(case.curve())
        else:
            key = (ed25519.Ed25519PrivateKey if case.curve is ed25519
                   else ed448.Ed448PrivateKey).generate()
        if full_length_jwk(key) if full_length else short_public_jwk(key):
            return key


def certificate(key, name):
    """A self-signed X.509 certificate of the key, as PEM text."""
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, f"jwt interop {name}")])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (x509.CertificateBuilder()
            .subject_name(subject).issuer_name(subject)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(days=1))
            .not_valid_after(now + datetime.timedelta(days=2))
            .sign(key, None if isinstance(key, (ed25519.Ed25519PrivateKey, ed448.Ed448PrivateKey))
                  else hashes.SHA256()))
    return cert.public_bytes(serialization.Encoding.PEM).decode("ascii")


class AsymKeys:
    """One key pair in every form each side takes, and a decoy of its type."""

    def __init__(self, case):
        self.key = generate(case)
        self.decoy = generate(case)
        self.public = self.key.public_key()
        pem = serialization.Encoding.PEM
        self.pkcs8 = self.key.private_bytes(pem, serialization.PrivateFormat.PKCS8,
                                            serialization.NoEncryption()).decode("ascii")
        self.traditional = None
        self.pkcs1_public = None
        if case.kind in ("rsa", "ec"):
            # PKCS#1 RSAPrivateKey or SEC1 ECPrivateKey
            self.traditional = self.key.private_bytes(
                pem, serialization.PrivateFormat.TraditionalOpenSSL,
                serialization.NoEncryption()).decode("ascii")
        if case.kind == "rsa":
            self.pkcs1_public = self.public.public_bytes(
                pem, serialization.PublicFormat.PKCS1).decode("ascii")
        self.spki = self.public.public_bytes(
            pem, serialization.PublicFormat.SubjectPublicKeyInfo).decode("ascii")
        self.decoy_spki = self.decoy.public_key().public_bytes(
            pem, serialization.PublicFormat.SubjectPublicKeyInfo).decode("ascii")
        self.cert = certificate(self.key, case.label)
        cls = case.jwk_class
        self.private_jwk = json.loads(cls.to_jwk(self.key))
        self.public_jwk = json.loads(cls.to_jwk(self.public))
        self.decoy_jwk = json.loads(cls.to_jwk(self.decoy.public_key()))


_asym_keys = {}


def asym_keys(case):
    fam = (case.kind, case.curve)
    if fam not in _asym_keys:
        _asym_keys[fam] = AsymKeys(case)
    return _asym_keys[fam]


def py_verdict_any(token, key, alg, **kw):
    """Like py_verdict, but PyJWT's key errors (InvalidKeyError) refuse too."""
    try:
        return "ok", py_verify(token, key, alg, **kw)
    except pyjwt.exceptions.PyJWTError as e:
        return "refused", e


def sql_generate_key(alg):
    return json.loads(sql_one("SELECT jwt_generate_key(%s)::text", [alg]))


def sql_public_jwk(key_text):
    return json.loads(sql_one("SELECT jwt_public_jwk(%s)::text", [key_text]))


def hs256_with_key_text(token, key_text):
    """The key-confusion forgery: HS256 MACed with the public key's text."""
    h, p, _ = token.split(".")
    hdr = b64u(json.dumps(dict(json.loads(b64u_decode(h)), alg="HS256")).encode())
    mac = hmac.new(key_text.encode(), f"{hdr}.{p}".encode(), hashlib.sha256).digest()
    return f"{hdr}.{p}.{b64u(mac)}"


def ecdsa_as_der(token):
    """The R||S signature re-encoded as DER, which JWS does not allow."""
    h, p, s = token.split(".")
    raw = b64u_decode(s)
    half = len(raw) // 2

    def integer(b):
        b = b.lstrip(b"\x00") or b"\x00"
        if b[0] & 0x80:
            b = b"\x00" + b
        return bytes([0x02, len(b)]) + b
    body = integer(raw[:half]) + integer(raw[half:])
    length = bytes([len(body)]) if len(body) < 128 else bytes([0x81, len(body)])
    return f"{h}.{p}.{b64u(bytes([0x30]) + length + body)}"


def asym_tampers(case, public_text):
    t = [
        ("payload replaced, signature kept",
         lambda tok: with_payload(tok, dict(RICH_CLAIMS, sub="admin"))),
        ("one signature bit flipped", flip_signature_byte),
        (f"header alg changed to {ASYM_SWAP[case.alg]}",
         lambda tok: with_header_alg(tok, ASYM_SWAP[case.alg])),
        ("header alg none, signature dropped",
         lambda tok: with_header_alg(tok, "none").rsplit(".", 1)[0] + "."),
        ("signature dropped", lambda tok: tok.rsplit(".", 1)[0] + "."),
        ("alg HS256, MACed with the public key PEM",
         lambda tok: hs256_with_key_text(tok, public_text)),
    ]
    if case.kind == "ec":
        t.append(("signature re-encoded as DER", ecdsa_as_der))
    return t


def ok_same(verdict, who):
    if verdict[0] != "ok":
        return False, f"{who} {describe(verdict)}"
    return same_json(verdict[1], RICH_CLAIMS), f"{who} gave {verdict[1]!r}"


VERIFY_KW = {"audience": AUD, "issuer": ISS}


def check_asymmetric(case):
    alg, tag = case.alg, case.label
    k = asym_keys(case)
    cls = case.jwk_class
    kid = f"py-{tag}"

    # jwt_generate_key's key; EdDSA over Ed448 takes the "Ed448" key, alg removed
    gen = sql_generate_key(case.gen_alg or alg)
    if case.gen_alg and case.gen_alg != alg:
        gen.pop("alg", None)
    gen_public = sql_public_jwk(json.dumps(gen))
    gen_py_private = cls.from_jwk(json.dumps(gen))
    gen_py_public = cls.from_jwk(json.dumps(gen_public))

    def public_jwk_of_pem():
        mine = sql_public_jwk(k.spki)
        members = ("kty", "crv", "x", "y", "n", "e")
        pick = lambda j: {m: j[m] for m in members if m in j}   # noqa: E731
        return pick(mine) == pick(k.public_jwk) and "d" not in mine, \
            f"jwt_public_jwk gave {mine}, PyJWT to_jwk {k.public_jwk}"
    T.run(f"{tag}: jwt_public_jwk of the SPKI PEM equals PyJWT's to_jwk", public_jwk_of_pem)

    # --------------------------------------------- jwt_sign -> PyJWT verifies
    spki_verifiers = [("public key object", k.public), ("SPKI PEM", k.spki.encode()),
                      ("from_jwk of PyJWT's public JWK", cls.from_jwk(json.dumps(k.public_jwk)))]
    signers = [("PKCS#8 PEM", k.pkcs8, None, spki_verifiers)]
    if k.traditional:
        signers.append(("PKCS#1 RSA PEM" if case.kind == "rsa" else "SEC1 EC PEM",
                        k.traditional, None, spki_verifiers))
    signers += [
        ("PyJWT's private JWK (to_jwk)", json.dumps(k.private_jwk), None, spki_verifiers),
        ("PyJWT's private JWK with kid", json.dumps(dict(k.private_jwk, kid=kid)), kid,
         spki_verifiers),
        ("jwt_generate_key JWK", json.dumps(gen), gen["kid"],
         [("from_jwk of jwt_public_jwk", gen_py_public),
          ("public key of from_jwk of the private JWK", gen_py_private.public_key())]),
    ]
    for form, sql_key, want_kid, verifiers in signers:
        try:
            tok = sql_sign(RICH_CLAIMS, sql_key, alg)
        except SqlError as e:
            T.check(f"{tag}: jwt_sign with {form} signs", False, str(e))
            continue
        hdr = pyjwt.get_unverified_header(tok)
        T.check(f"{tag}: jwt_sign with {form}: header alg {alg}"
                + (", the JWK's kid" if want_kid else ", no kid"),
                hdr.get("alg") == alg and hdr.get("kid") == want_kid, f"header {hdr}")
        for vform, vkey in verifiers:
            T.run(f"{tag}: jwt_sign with {form}: PyJWT verifies ({vform}, algorithms [{alg}]) "
                  "with the same claims",
                  lambda tok=tok, vkey=vkey: ok_same(py_verdict_any(tok, vkey, alg, **VERIFY_KW),
                                                     "PyJWT"))
        if want_kid:
            # PyJWT's JWKS: PyJWKSet, the key picked by the token's kid
            decoy = dict(k.decoy_jwk, kid="decoy")
            jwks = sql_public_jwk(json.dumps({"keys": [decoy, json.loads(sql_key)]}))

            def by_jwks(tok=tok, jwks=jwks):
                if any("d" in j for j in jwks["keys"]):
                    return False, f"jwt_public_jwk left a private member: {jwks}"
                want = pyjwt.get_unverified_header(tok)["kid"]
                if case.curve is ed448:
                    # PyJWKSet cannot hold an Ed448 JWK: pick by kid by hand
                    picked = PyJWK([j for j in jwks["keys"] if j.get("kid") == want][0], "EdDSA")
                else:
                    picked = PyJWKSet.from_dict(jwks)[want]
                return ok_same(py_verdict_any(tok, picked.key, alg, **VERIFY_KW), "PyJWT")
            how = "PyJWK (EdDSA) picked by kid" if case.curve is ed448 else "PyJWKSet, kid picks the key"
            T.run(f"{tag}: jwt_sign with {form}: PyJWT verifies with jwt_public_jwk(JWKS) as {how}",
                  by_jwks)
            if case.curve is ed448:
                T.skip(f"{tag}: jwt_sign with {form}: PyJWT's PyJWKSet",
                       "PyJWT 2.6's PyJWK infers no algorithm for an Ed448 JWK (InvalidKeyError "
                       "\"Unsupported crv\"), so a PyJWKSet cannot hold one; picked by hand instead")

    # PEM given to PyJWT as text, for a certificate too: PyJWT 2.6 loads only
    # PUBLIC KEY and PRIVATE KEY PEM, so the certificate's key goes through
    # cryptography's x509 loader
    def cert_to_py():
        tok = sql_sign(RICH_CLAIMS, k.pkcs8, alg)
        pub = x509.load_pem_x509_certificate(k.cert.encode()).public_key()
        return ok_same(py_verdict_any(tok, pub, alg, **VERIFY_KW), "PyJWT")
    T.run(f"{tag}: jwt_sign token verifies in PyJWT with the certificate's public key",
          cert_to_py)

    # --------------------------------------------- PyJWT signs -> jwt_verify
    jwk_pub = dict(k.public_jwk, kid=kid)
    other = asym_keys(ASYM_BY_LABEL["RS256" if case.kind != "rsa" else "ES256"])
    jwks = {"keys": [dict(k.decoy_jwk, kid="decoy"), jwk_pub,
                     dict(other.public_jwk, kid="other-type")]}
    sql_keys = [("SPKI PEM", k.spki)]
    if k.pkcs1_public:
        sql_keys.append(("PKCS#1 RSA public PEM", k.pkcs1_public))
    sql_keys += [
        ("X.509 certificate PEM", k.cert),
        ("PKCS#8 private PEM", k.pkcs8),
        ("PyJWT's public JWK (to_jwk)", json.dumps(jwk_pub)),
        ("JWKS, kid picks the key", json.dumps(jwks)),
    ]
    py_signers = [
        ("PyJWT (private key object, kid)", k.key, kid, sql_keys),
        ("PyJWT (PKCS#8 PEM, kid)", k.pkcs8, kid, sql_keys),
        ("PyJWT (from_jwk of PyJWT's private JWK, kid)",
         cls.from_jwk(json.dumps(k.private_jwk)), kid, sql_keys),
        ("PyJWT (from_jwk of jwt_generate_key's JWK, kid)", gen_py_private, gen["kid"],
         [("jwt_public_jwk", json.dumps(gen_public)), ("the private JWK", json.dumps(gen)),
          ("JWKS, kid picks the key",
           json.dumps({"keys": [dict(k.decoy_jwk, kid="decoy"), gen_public]}))]),
    ]
    for sform, skey, skid, targets in py_signers:
        tok = py_sign(RICH_CLAIMS, skey, alg, headers={"kid": skid, "typ": "JWT"})
        for kform, sql_key in targets:
            T.run(f"{tag}: {sform} token verifies with jwt_verify ({kform}, algorithms "
                  f"[{alg}]) with the same claims",
                  lambda tok=tok, sql_key=sql_key: ok_same(
                      sql_verdict(tok, sql_key, algorithms=[alg], **VERIFY_KW), "jwt_verify"))

        def is_valid(tok=tok, sql_key=targets[0][1]):
            v = sql_is_valid(tok, sql_key, algorithms=[alg], **VERIFY_KW)
            return v is True, f"jwt_is_valid gave {v!r}"
        T.run(f"{tag}: jwt_is_valid is true for the {sform} token", is_valid)

    # ------------------------------------------------------------ refusals
    def refused(tok, sql_key, **kw):
        v = sql_verdict(tok, sql_key, **kw)
        return v[0] == "refused", f"jwt_verify {describe(v)}"

    T.run(f"{tag}: PyJWT token whose kid names the JWKS's decoy key: jwt_verify refuses "
          "(28000)", lambda: refused(py_sign(RICH_CLAIMS, k.key, alg, headers={"kid": "decoy"}),
                                     json.dumps(jwks), **VERIFY_KW))
    T.run(f"{tag}: PyJWT token whose kid is not in the JWKS: jwt_verify refuses (28000)",
          lambda: refused(py_sign(RICH_CLAIMS, k.key, alg, headers={"kid": "nope"}),
                          json.dumps(jwks), **VERIFY_KW))
    T.run(f"{tag}: PyJWT token checked against another key: jwt_verify refuses (28000)",
          lambda: refused(py_sign(RICH_CLAIMS, k.key, alg), k.decoy_spki, **VERIFY_KW))

    def wrong_key_py():
        v = py_verdict_any(sql_sign(RICH_CLAIMS, k.pkcs8, alg), k.decoy.public_key(), alg,
                           **VERIFY_KW)
        return v[0] == "refused", f"PyJWT {describe(v)}"
    T.run(f"{tag}: jwt_sign token checked against another key: PyJWT refuses", wrong_key_py)

    sql_tok = sql_sign(RICH_CLAIMS, k.pkcs8, alg)
    py_tok = py_sign(RICH_CLAIMS, k.key, alg, headers={"kid": kid})
    for what, tamper in asym_tampers(case, k.spki):
        def sql_signed(tamper=tamper):
            if py_verdict_any(sql_tok, k.public, alg, **VERIFY_KW)[0] != "ok":
                return False, "PyJWT refused the untampered token"
            v = py_verdict_any(tamper(sql_tok), k.public, alg, **VERIFY_KW)
            return v[0] == "refused", f"PyJWT {describe(v)}"
        T.run(f"{tag}: jwt_sign token, {what}: PyJWT refuses", sql_signed)

        def py_signed(tamper=tamper):
            if sql_verdict(py_tok, k.spki, **VERIFY_KW)[0] != "ok":
                return False, "jwt_verify refused the untampered token"
            return refused(tamper(py_tok), k.spki, **VERIFY_KW)
        T.run(f"{tag}: PyJWT token, {what}: jwt_verify refuses (28000)", py_signed)

    h, p, s = py_tok.split(".")
    if len(s) % 4:
        T.run(f"{tag}: PyJWT token with stray bits in the signature's last character: "
              "jwt_verify refuses (28000)",
              lambda: refused(stray_signature_bits(py_tok), k.spki, **VERIFY_KW))


def check_asymmetric_odds():
    p521 = ASYM_BY_LABEL["ES512"]
    k = asym_keys(p521)

    def es521():
        # PyJWT's "ES521" is its own alias of ES512, not a registered name
        tok = py_sign(RICH_CLAIMS, k.key, "ES521")
        if pyjwt.get_unverified_header(tok)["alg"] != "ES521":
            return False, "PyJWT did not write ES521"
        v = sql_verdict(tok, k.spki, **VERIFY_KW)
        return v[0] == "refused", f"jwt_verify {describe(v)}"
    T.run("PyJWT's non-standard \"ES521\" token: jwt_verify refuses (28000)", es521)

    def short_coordinates():
        # PyJWT 2.6's to_jwk drops leading zero bytes of EC coordinates;
        # RFC 7518 section 6.2.1.2 wants them at full length
        key = generate(p521, full_length=False)
        tok = py_sign(RICH_CLAIMS, key, "ES512")
        jwk_text = ECAlgorithm.to_jwk(key.public_key())
        v = sql_verdict(tok, jwk_text, **VERIFY_KW)
        return v[0] == "error" and v[1].pgcode == "22023", \
            f"jwt_verify {describe(v)} for {jwk_text}"
    T.run("ES512: PyJWT's to_jwk of a P-521 key with a short coordinate: jwt_verify "
          "refuses the JWK as a wrong call (22023)", short_coordinates)

    rsa_keys = asym_keys(ASYM_BY_LABEL["RS256"])

    def sign_only_jwk():
        # PyJWT writes "key_ops":["sign"] into a private RSA JWK
        tok = py_sign(RICH_CLAIMS, rsa_keys.key, "RS256")
        v = sql_verdict(tok, json.dumps(rsa_keys.private_jwk), **VERIFY_KW)
        return (rsa_keys.private_jwk.get("key_ops") == ["sign"] and v[0] == "error"
                and v[1].pgcode == "22023"), f"jwt_verify {describe(v)}"
    T.run("RS256: PyJWT's private RSA JWK (\"key_ops\":[\"sign\"]) cannot verify: a wrong "
          "call (22023)", sign_only_jwk)

    def pinned():
        tok = py_sign(RICH_CLAIMS, rsa_keys.key, "RS256")
        v = sql_verdict(tok, rsa_keys.spki, algorithms=["PS256", "RS512"], **VERIFY_KW)
        return v[0] == "refused", f"jwt_verify {describe(v)}"
    T.run("RS256 PyJWT token, algorithms {PS256,RS512}: jwt_verify refuses (28000)", pinned)

    def pinned_py():
        tok = sql_sign(RICH_CLAIMS, rsa_keys.pkcs8, "PS256")
        try:
            pyjwt.decode(tok, rsa_keys.public, algorithms=["RS256"], **VERIFY_KW)
            return False, "PyJWT accepted"
        except pyjwt.exceptions.InvalidAlgorithmError:
            return True, ""
    T.run("PS256 jwt_sign token, PyJWT algorithms [RS256]: PyJWT refuses", pinned_py)

    for alg, why in PYJWT_LACKS.items():
        T.skip(f"{alg} with PyJWT (both directions)", why)


def check_asymmetric_all():
    for case in ASYM_CASES:
        # a setup step that breaks (key generation, a helper) fails the case
        T.setup(f"{case.label}: the asymmetric checks run to their end",
                lambda case=case: check_asymmetric(case))
    T.setup("the asymmetric odd cases run to their end", check_asymmetric_odds)


def main():
    check_round_trips()
    check_scenarios()
    check_tampering()
    check_keys_and_algorithms()
    check_asymmetric_all()
    T.finish()


if __name__ == "__main__":
    main()
