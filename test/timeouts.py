#!/usr/bin/python3
"""Timeouts suite: no argument of any size outruns statement_timeout.

Every public function that takes input of the caller's size gets its worst
input at the largest size the caps allow (README, "Security notes": a key
text is at most JOSE_MAX_KEY_TEXT = 1 MiB, a JWKS at most JOSE_MAX_KEYS =
1,000 keys), under SET statement_timeout = '1s', and each call must end
within 2 s of wall time: with its answer, with its clear error (22023 for a
key argument past a cap, with a hint; 28000 for a token), or cancelled by
the timeout (57014).  Then pg_cancel_backend and pg_terminate_backend, from
another connection, must end a long call within half a second.

The inputs:
  - JWKS at the key cap: all-duplicate kids, all-distinct kids (RSA-4096,
    a token whose kid is the last key), 25,000 distinct kids (past the key
    cap, under the size cap: refused at once; before the fix the duplicate
    check alone was quadratic), 1,001 keys, a text one byte past 1 MiB, the
    issue's 100,000-key set (2.6 MB);
  - an RSA-16384 private key (test/timeouts-rsa16384.TEST-ONLY.pem, made
    for this test and nothing else) to jwt_public_jwk and jwt_sign: checking
    that its halves belong together must not prove its factors prime;
  - a JWKS of RSA-16384 public keys (a synthetic modulus with no factor below
    2^16) as large as 1 MiB allows, against a token without kid, so that
    every key is tried (the longest call the caps allow);
  - JSON nested 64 deep (accepted depth) and 65 deep, a JWK of 1 MiB of
    members;
  - jwt_decode with a token of 1 MiB (its cap) of members, and past it;
    jwt_sign and jws_sign with 16 MB payloads (one pass per byte; no cap,
    as the caller sends every byte), jwt_claims with a
    token past jwt.max_token_length, jwt_jwk_thumbprint and jwt_add_key with
    texts past the cap;
  - [issuers] a registered issuer whose stored set is the 1,000 RSA-4096
    keys (read when the registry loads: jwt_issuer_jwks, and a session token
    naming the issuer), and a session token of 1 MiB whose scope claim holds
    90,000 scopes (jwt_scopes, jwt_has_scope, also per row).

Each key text is made distinct per call (trailing whitespace) so that the
backend's key cache cannot answer from an earlier parse.

Run inside a throwaway cluster:

    pg_virtualenv -t -v 15 /usr/bin/python3 test/timeouts.py

Prints "timeouts: N passed, N failed"; exits 1 on any failure.
"""

import base64
import json
import math
import os
import secrets
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import suite  # noqa: E402

T = suite.Suite("timeouts", reexec_guard="JWT_TIMEOUTS_REEXEC")
try:
    import psycopg2
    from cryptography.hazmat.primitives.asymmetric import rsa
except ImportError as e:
    T.reexec_or_cannot_run(e, "Debian's python3-psycopg2 and python3-cryptography")

b64u = suite.b64u
WALL = 2.0              # seconds a call may take under a 1 s statement_timeout
ACT = 0.5               # seconds a cancel or terminate may take to act
MAX_KEYS = 1000
MAX_TEXT = 1024 * 1024
unique = iter(range(1, 1 << 30))
slowest = []            # (seconds, call, outcome) of every timed call


def fresh(text):
    """The same key text, spelled so that no cache has seen it."""
    return text + " " * next(unique)


def int_b64u(n):
    return b64u(n.to_bytes((n.bit_length() + 7) // 8, "big"))


def connect():
    conn = T.connect()
    with conn.cursor() as cur:
        cur.execute("SET statement_timeout = '1s'")
    return conn


def timed(conn, query, params):
    """(seconds, result, sqlstate, message, hint) of one statement."""
    t0 = time.monotonic()
    try:
        with conn.cursor() as cur:
            cur.execute(query, params)
            row = cur.fetchone()
        return time.monotonic() - t0, row[0] if row else None, None, "", ""
    except psycopg2.Error as e:
        return (time.monotonic() - t0, None, e.pgcode, e.diag.message_primary or "",
                e.diag.message_hint or "")


def check_call(conn, name, query, params, want=("ok", "28000", "57014")):
    """The call ends within WALL with one of the wanted outcomes."""
    secs, _, code, msg, hint = timed(conn, query, params)
    outcome = code or "ok"
    slowest.append((secs, name, outcome))
    T.check(f"{name}/outcome", outcome in want,
            f"got {outcome} ({msg}), wanted one of {', '.join(want)}")
    T.check(f"{name}/within {WALL:.0f} s", secs <= WALL, f"took {secs:.2f} s")
    return outcome, msg, hint


def check_cap(conn, name, query, params, hint_word):
    """A key argument past a cap: 22023 at once, with a hint saying the cap."""
    outcome, msg, hint = check_call(conn, name, query, params, want=("22023",))
    T.check(f"{name}/hint", hint_word in hint, f"message {msg!r}, hint {hint!r}")


def token(header, payload, sig):
    return ".".join([b64u(json.dumps(header).encode()), b64u(json.dumps(payload).encode()),
                     b64u(sig)])


def jwks(keys):
    return json.dumps({"keys": keys}, separators=(",", ":"))


def rsa_jwk(n, e, kid=None):
    k = {"kty": "RSA", "n": int_b64u(n), "e": int_b64u(e)}
    if kid is not None:
        k["kid"] = kid
    return k


def synthetic_modulus(bits):
    """An odd number of exactly bits bits with no prime factor below 2^16:
    every check an RSA public key gets here passes, at the largest size."""
    sieve = bytearray([1]) * 65536
    sieve[0:2] = b"\0\0"
    for i in range(2, 256):
        if sieve[i]:
            sieve[i * i::i] = bytearray(len(sieve[i * i::i]))
    primorial = math.prod(p for p in range(3, 65536, 2) if sieve[p])
    while True:
        n = secrets.randbits(bits) | (1 << (bits - 1)) | 1
        if math.gcd(n, primorial) == 1:
            return n


def main():
    conn = connect()
    hs_secret = secrets.token_bytes(32)
    hs_tok = token({"alg": "HS256", "typ": "JWT"}, {"sub": "x"}, secrets.token_bytes(32))
    oct_key = {"kty": "oct", "k": b64u(hs_secret)}

    # ---------------------------------------------------------- the caps
    dup = jwks([dict(oct_key, kid="same") for _ in range(MAX_KEYS)])
    for fn in ("jwt_verify", "jwt_is_valid", "jws_verify"):
        check_cap(conn, f"{fn}/1000 keys, all one kid",
                  f"SELECT {fn}(%s, %s)::text", (hs_tok, fresh(dup)), "kid")
    check_cap(conn, "jwt_public_jwk/1000 keys, all one kid",
              "SELECT jwt_public_jwk(%s)::text", (fresh(dup),), "kid")

    over = jwks([dict(oct_key, kid=str(i)) for i in range(MAX_KEYS + 1)])
    many = jwks([{"kty": "oct", "k": "AAAA", "kid": str(i)} for i in range(25000)])
    issue = jwks([{"kty": "oct", "k": "AAAA", "kid": str(i)} for i in range(100000)])
    T.check("inputs/25,000 keys fit 1 MiB", len(many) < MAX_TEXT, f"{len(many)} bytes")
    for label, text, word in (("1001 keys", over, "1000"), ("25,000 keys", many, "1000"),
                              ("100,000 keys", issue, "1048576"),
                              ("1 MiB + 1 byte", jwks([oct_key]) + " " * MAX_TEXT, "1048576")):
        for fn in ("jwt_verify", "jwt_is_valid", "jws_verify"):
            check_cap(conn, f"{fn}/{label}", f"SELECT {fn}(%s, %s)::text",
                      (hs_tok, text + " " * next(unique)), word)
        check_cap(conn, f"jwt_public_jwk/{label}", "SELECT jwt_public_jwk(%s)::text",
                  (text + " " * next(unique),), word)
    check_cap(conn, "jwt_verify/bytea secret of 1 MiB + 1 byte",
              "SELECT jwt_verify(%s, %s::bytea)::text", (hs_tok, b"\x01" * (MAX_TEXT + 1)),
              "1048576")
    check_cap(conn, "jwt_sign/key of 1 MiB + 1 byte", "SELECT jwt_sign('{}', %s)",
              ("k" * (MAX_TEXT + 1),), "1048576")
    check_cap(conn, "jwt_jwk_thumbprint/1 MiB of members",
              "SELECT jwt_jwk_thumbprint(%s::jsonb)",
              (json.dumps(dict({"kty": "oct", "k": b64u(hs_secret)},
                               **{f"m{i}": i for i in range(MAX_TEXT // 10)})),), "1048576")

    # ------------------------------------------ the largest sets allowed
    priv = rsa.generate_private_key(public_exponent=65537, key_size=4096)
    pub = priv.public_key().public_numbers()
    distinct = [rsa_jwk(pub.n, pub.e, kid=f"k{i:04d}") for i in range(MAX_KEYS)]
    distinct_text = jwks(distinct)
    T.check("inputs/1000 RSA-4096 keys fit 1 MiB", len(distinct_text) <= MAX_TEXT,
            f"{len(distinct_text)} bytes")
    rs_tok = token({"alg": "RS256", "kid": "k0999"}, {"sub": "x"}, secrets.token_bytes(512))
    for fn in ("jwt_verify", "jwt_is_valid", "jws_verify"):
        check_call(conn, f"{fn}/1000 distinct kids", f"SELECT {fn}(%s, %s)::text",
                   (rs_tok, fresh(distinct_text)))
    check_call(conn, "jwt_public_jwk/1000 distinct kids", "SELECT jwt_public_jwk(%s)::text",
               (fresh(distinct_text),), want=("ok", "57014"))

    n16 = synthetic_modulus(16384)
    one = json.dumps(rsa_jwk(n16, (1 << 63) + 1), separators=(",", ":"))
    big_text = jwks([json.loads(one)] * ((MAX_TEXT - 20) // (len(one) + 1)))
    T.check("inputs/RSA-16384 set within 1 MiB", len(big_text) <= MAX_TEXT,
            f"{len(big_text)} bytes")
    nokid_tok = token({"alg": "RS256"}, {"sub": "x"}, secrets.token_bytes(2048))
    for fn in ("jwt_verify", "jwt_is_valid", "jws_verify"):
        check_call(conn, f"{fn}/RSA-16384 set, token without kid",
                   f"SELECT {fn}(%s, %s)::text", (nokid_tok, fresh(big_text)))

    # a private key at the size cap: its check must not prove p and q prime
    # (OpenSSL's pairwise check does: 40 s in one uninterruptible call)
    with open(os.path.join(os.path.dirname(os.path.abspath(__file__)),
                           "timeouts-rsa16384.TEST-ONLY.pem")) as f:
        rsa16k = f.read()
    for name, query in (("jwt_public_jwk", "SELECT jwt_public_jwk(%s)::text"),
                        ("jwt_sign", "SELECT jwt_sign('{}', %s, 'RS512')")):
        check_call(conn, f"{name}/RSA-16384 private key", query, (fresh(rsa16k),),
                   want=("ok",))

    # ------------------------------------------------------------- JSON
    deep64 = '{"keys":[' + json.dumps(oct_key)[:-1] + ',"x":' + "[" * 61 + "]" * 61 + "}]}"
    deep65 = '{"keys":[' + json.dumps(oct_key)[:-1] + ',"x":' + "[" * 62 + "]" * 62 + "}]}"
    check_call(conn, "jwt_verify/JSON 64 deep", "SELECT jwt_verify(%s, %s)::text",
               (hs_tok, fresh(deep64)))
    check_call(conn, "jwt_verify/JSON 65 deep", "SELECT jwt_verify(%s, %s)::text",
               (hs_tok, fresh(deep65)), want=("22023",))
    members = json.dumps(dict(oct_key, **{f"m{i}": 0 for i in range(80000)}))
    T.check("inputs/members fit 1 MiB", len(members) <= MAX_TEXT, f"{len(members)} bytes")
    check_call(conn, "jwt_verify/JWK of 80,000 members", "SELECT jwt_verify(%s, %s)::text",
               (hs_tok, fresh(members)))

    # ---------------------------------------- tokens and payloads by size
    huge_payload = {f"c{i}": i for i in range(200_000)}
    huge_tok = token({"alg": "HS256"}, huge_payload, b"\0" * 32)
    check_call(conn, f"jwt_decode/{len(huge_tok) >> 20} MB token of 200,000 members",
               "SELECT length(jwt_decode(%s)::text)", (huge_tok,), want=("28000",))
    n = 60000
    while True:
        cap_tok = token({"alg": "HS256"}, {f"c{i}": i for i in range(n)}, b"\0" * 32)
        if len(cap_tok) <= MAX_TEXT:
            break
        n -= 2000
    T.check("inputs/decode token near 1 MiB", len(cap_tok) > MAX_TEXT - 64 * 1024,
            f"{len(cap_tok)} bytes")
    check_call(conn, f"jwt_decode/1 MiB token of {n} members",
               "SELECT length(jwt_decode(%s)::text)", (cap_tok,), want=("ok",))
    check_call(conn, "jwt_decode/1 MiB + 1 byte", "SELECT length(jwt_decode(%s)::text)",
               (cap_tok + "A" * (MAX_TEXT + 1 - len(cap_tok)),), want=("28000",))
    check_call(conn, "jwt_verify/token past jwt.max_token_length",
               "SELECT jwt_verify(%s, %s)::text", (huge_tok, fresh(jwks([oct_key]))))
    secret = b64u(secrets.token_bytes(32))
    check_call(conn, "jwt_sign/16 MB of claims",
               "SELECT length(jwt_sign(jsonb_build_object('d', repeat('x', 16 << 20)), %s))",
               (secret,))
    check_call(conn, "jws_sign/16 MB payload",
               "SELECT length(jws_sign(convert_to(repeat('x', 16 << 20), 'UTF8'), %s, 'HS256'))",
               (secret,))
    with conn.cursor() as cur:
        cur.execute("SET jwt.token = %s", (huge_tok,))
    check_call(conn, "jwt_claims/token past jwt.max_token_length",
               "SELECT jwt_claims()::text", (), want=("28000", "57014"))
    with conn.cursor() as cur:
        cur.execute("RESET jwt.token")
    check_call(conn, "jwt_add_key/key of 1 MiB + 1 byte",
               "SELECT jwt_add_key(%s, 'HS256', 'timeouts')::text",
               ("k" * (MAX_TEXT + 1),), want=("22023",))
    check_call(conn, "jwt_add_key/1000 keys, all one kid",
               "SELECT jwt_add_key(%s, 'HS256', 'timeouts')::text", (fresh(dup),),
               want=("22023",))

    # ---------------------------------------------- [issuers] and scopes
    with conn.cursor() as cur:
        cur.execute("INSERT INTO jwt_issuers (issuer, jwks, added_at) VALUES "
                    "('https://timeouts.example', %s::jsonb, now())", (distinct_text,))
    for label, query in (("jwt_issuer_jwks", "SELECT jwt_issuer_jwks('https://timeouts.example')::text"),
                         ("jwt_claims", "SELECT set_config('jwt.token', %s, true) IS NOT NULL "
                                        "AND jwt_claims() IS NOT NULL")):
        c = connect()           # a new backend: the registry, and its issuer's 1,000 keys, load
        check_call(c, f"{label}/an issuer's stored set of 1000 RSA-4096 keys", query,
                   () if "%s" not in query else
                   (token({"alg": "RS256", "kid": "k0999"},
                          {"iss": "https://timeouts.example", "exp": 4102444800}, secrets.token_bytes(512)),))
        c.close()
    with conn.cursor() as cur:
        cur.execute("DELETE FROM jwt_issuers WHERE issuer = 'https://timeouts.example'")
    import hmac
    import hashlib
    scope_secret = b64u(secrets.token_bytes(32))
    with conn.cursor() as cur:
        cur.execute("SELECT jwt_add_key(%s, 'HS256', 'timeouts-scope')", (scope_secret,))
    n = 90000
    scopes = " ".join(f"s{i:06d}" for i in range(n))
    head = b64u(json.dumps({"alg": "HS256", "kid": "timeouts-scope"}).encode())
    body = b64u(json.dumps({"scope": scopes, "exp": 4102444800}).encode())
    scope_tok = f"{head}.{body}." + b64u(hmac.new(scope_secret.encode(), f"{head}.{body}".encode(),
                                                   hashlib.sha256).digest())
    T.check("inputs/scope token within 1 MiB", len(scope_tok) <= MAX_TEXT, f"{len(scope_tok)} bytes")
    c = connect()
    with c.cursor() as cur:
        cur.execute("SET jwt.max_token_length = 1048576")
        cur.execute("SET jwt.token = %s", (scope_tok,))
    for label, query in (("jwt_scopes", "SELECT cardinality(jwt_scopes())"),
                         ("jwt_has_scope", "SELECT jwt_has_scope('s089999')"),
                         ("jwt_has_scope per row", "SELECT count(*) FROM generate_series(1, 100000) i "
                                                   "WHERE jwt_has_scope('s' || lpad((i %% 1000)::text, 6, '0'))")):
        check_call(c, f"{label}/a 1 MiB token of {n:,} scopes", query, (), want=("ok", "57014"))
    c.close()
    with conn.cursor() as cur:
        cur.execute("DELETE FROM jwt_keys WHERE kid = 'timeouts-scope'")

    # ----------------------------------- cancel and terminate from outside
    for how in ("pg_cancel_backend", "pg_terminate_backend"):
        victim = T.connect()
        with victim.cursor() as cur:
            cur.execute("SELECT pg_backend_pid()")
            pid = cur.fetchone()[0]
        done = {}

        def run():
            # one long call: every key of the RSA-16384 set tried, many times over
            done["r"] = timed(victim, "SELECT count(*) FROM generate_series(1, 1000) i "
                              "WHERE jwt_is_valid(%s, %s)", (nokid_tok, fresh(big_text)))
            done["t"] = time.monotonic()

        th = threading.Thread(target=run)
        th.start()
        # a wait on the condition itself: the victim's statement is running
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            with conn.cursor() as cur:
                cur.execute("SELECT state = 'active' AND query LIKE '%%jwt_is_valid%%' "
                            "FROM pg_stat_activity WHERE pid = %s", (pid,))
                row = cur.fetchone()
            if row and row[0]:
                break
            time.sleep(0.01)     # between two polls of the condition
        with conn.cursor() as cur:
            cur.execute(f"SELECT {how}(%s)", (pid,))
            sent = time.monotonic()
        th.join(30)
        T.check(f"{how}/acts", "t" in done, "the call did not end within 30 s")
        if "t" in done:
            code = done["r"][2]
            T.check(f"{how}/error", code in ("57014", "57P01") or
                    (how == "pg_terminate_backend" and code is None and done["r"][1] is None),
                    f"got {code}")
            T.check(f"{how}/within {ACT} s", done["t"] - sent <= ACT,
                    f"took {done['t'] - sent:.2f} s")
        try:
            victim.close()
        except psycopg2.Error:
            pass

    for secs, name, outcome in sorted(slowest, reverse=True)[:5]:
        T.note(f"slow: {secs:.2f} s {name} ({outcome})")
    T.finish()


if __name__ == "__main__":
    main()
