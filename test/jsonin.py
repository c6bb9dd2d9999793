#!/usr/bin/python3
"""The jsonb a token's claims become equals what jsonb_in makes of them.

Run inside a throwaway cluster (PG* naming a superuser), after make install:

    pg_virtualenv -t -v 15 /usr/bin/python3 test/jsonin.py

src/jsonin.c builds the jsonb of a payload that src/core has validated
without parsing it a second time through jsonb_in.  This suite is the
differential test of that shortcut: for every payload below, and for a few
thousand generated at random (seeded, so a failure repeats), the jsonb that
jwt_decode(), jwt_verify() and the session's jwt_claims() return is compared
with `convert_from(payload, 'UTF8')::jsonb`, jsonb_in's answer, as text and
as the stored bytes themselves: a cast from jsonb to bytea without a
function (binary coercion, made for this test and dropped after it) shows
the datum as src/jsonbwrite.c laid it out, its JEntries, offsets, padding
and numerics, which jsonb_send's text would not:

  1. numbers of every form: integers up to and past int64 and past the
     18 digits taken without text, signs, zeros (-0, 0.0, -0.0), fractions
     with trailing zeros (whose display scale jsonb keeps), exponents of
     both signs and cases, the largest and smallest a numeric holds;
  2. strings: every escape, \\u escapes of one and two UTF-16 units, raw
     UTF-8 of 2, 3 and 4 bytes, escaped and raw spellings of the same key;
  3. key order (jsonb sorts keys by length, then bytes), nesting to the
     core's depth limit, empty containers, whitespace everywhere;
  4. duplicate names, also when only their escapes differ: jsonb_in keeps the
     last; the token is refused (28000) before any jsonb is made, so the two
     never disagree silently;
  5. a LATIN1 and an SQL_ASCII database: characters the encoding has (raw and
     as \\u escapes) come out the same; one it lacks raises 22P05 on both
     paths.

Ends with "jsonin: N passed, N failed".
"""

import hashlib
import hmac
import json
import os
import random
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import suite  # noqa: E402

S = suite.Suite("jsonin", "JWT_JSONIN_REEXEC")
try:
    import psycopg2
except ImportError as e:
    S.reexec_or_cannot_run(e, "python3-psycopg2")

SECRET = b"jsonin-differential-test-secret-of-32+bytes"
EXP = int(time.time()) + 3600
HEADER = b'{"alg":"HS256","typ":"JWT"}'


b64u = suite.b64u


def token(payload):
    """An HS256 token whose payload is these exact bytes."""
    signing_input = b64u(HEADER) + "." + b64u(payload)
    sig = hmac.new(SECRET, signing_input.encode("ascii"), hashlib.sha256).digest()
    return signing_input + "." + b64u(sig)


# ------------------------------------------------------------ payloads

NUMBERS = [
    "0", "-0", "1", "-1", "7", "10", "100", "1700000000",
    # base-10000 digits: the last of a group, a zero group dropped at the end
    # and kept in the middle, the most an 18-digit integer has
    "9999", "10000", "-10000", "10001", "100000001", "100000000000000000",
    "-100000000000000000", "100000000000000001",
    "123456789012345678", "-123456789012345678", "999999999999999999",
    "-999999999999999999", "1234567890123456789", "9223372036854775807",
    "-9223372036854775808", "9223372036854775808", "99999999999999999999999999",
    "0.0", "-0.0", "0.000", "1.0", "1.50", "10.500", "-2.25", "3.14159265358979323846",
    "1e0", "1e3", "1E3", "1e+3", "1E+03", "1e-3", "-1e-3", "1.5e2", "1.25e-2", "0e0",
    "0e10", "-0e-10", "123.456e2", "5e-324", "1.7976931348623157e308",
    "1e131071", "1e-16383", "9.999e-16380", "-1e131071", "12e-2", "120e-3",
    "100e-2", "0.1e1",
]

STRINGS = [
    "", "a", "plain ascii with spaces", "quote \\\" backslash \\\\ slash \\/",
    "\\b\\f\\n\\r\\t", "\\u0001\\u001f\\u007f", "\\u0041\\u0062c", "\\u00e9t\\u00e9",
    "\\u20ac", "\\ud83d\\ude00", "\\uD83D\\uDE00 upper hex", "\\uffff\\ufffd",
    "\u00e9t\u00e9", "\u20ac\u2603", "\U0001F600\U0001F680", "mixed \u00e9 \\u00e9 \\n",
    "tab\\tinside", "x" * 300, "\u00e9" * 100,
]


def enc(text):
    return text.encode("utf-8")


def fixed_payloads():
    """(name, payload bytes): the cases of 1 to 3."""
    out = []
    for n in NUMBERS:
        out.append((f"number {n}", enc(f'{{"exp":{EXP},"n":{n},"a":[{n},{n}]}}')))
    for i, s in enumerate(STRINGS):
        out.append((f"string {i} {s[:20]!r}", enc(f'{{"exp":{EXP},"s":"{s}","k{i}":["{s}"]}}')))
        out.append((f"key {i} {s[:20]!r}", enc(f'{{"exp":{EXP},"{s}":1}}')))
    out.append(("key order by length then bytes",
                enc(f'{{"exp":{EXP},"bbb":1,"a":2,"cc":3,"b":4,"aa":5,"\u00e9":6,"Z":7,"":8,"aaa":9}}')))
    out.append(("escaped and raw spellings of different keys",
                enc(f'{{"exp":{EXP},"\\u00e9a":1,"\u00e9b":2,"\\u0061":3}}')))
    out.append(("empty containers", enc(f'{{"exp":{EXP},"o":{{}},"a":[],"n":[[],{{}},[[]]]}}')))
    out.append(("literals", enc(f'{{"exp":{EXP},"t":true,"f":false,"z":null,"a":[true,false,null]}}')))
    out.append(("whitespace everywhere",
                enc(f' \t\r\n{{ "exp" : {EXP} ,\n"a" :\t[ 1 , 2 ,\r{{ "b" : "c" }} ] , "d":{{}} }} \n')))
    # 63 containers inside the claims object: 64 deep, the core's limit, and
    # 65 inside jwt_decode's {"header": ..., "payload": ...}
    deep = "1"
    for i in range(63):
        deep = (f'{{"d{i}":{deep}}}' if i % 2 else f'[{deep},"x"]')
    out.append(("nesting at the core's depth limit (64)", enc(f'{{"exp":{EXP},"deep":{deep}}}')))
    out.append(("a large array", enc(f'{{"exp":{EXP},"a":[' + ",".join(str(i) for i in range(3000)) + "]}")))
    out.append(("many members",
                enc("{" + ",".join(f'"m{i:05d}":{i}' for i in range(2000)) + f',"exp":{EXP}}}')))
    out.append(("claims of a real token",
                enc(f'{{"iss":"{REAL_ISS}","sub":"user-42","aud":["api","web"],'
                    f'"role":"authenticated","iat":1700000000,"exp":{EXP},"jti":"a1b2c3",'
                    f'"scope":"openid profile","app_metadata":{{"provider":"email","roles":["a","b"]}},'
                    f'"amr":[{{"method":"password","timestamp":1700000000}}],"email_verified":true}}')))
    return out


def random_string(rng):
    parts = []
    for _ in range(rng.randint(0, 8)):
        r = rng.random()
        if r < 0.5:
            parts.append(rng.choice("abcXYZ019 _-:/.,"))
        elif r < 0.6:
            parts.append(rng.choice(["\\\"", "\\\\", "\\/", "\\b", "\\f", "\\n", "\\r", "\\t"]))
        elif r < 0.75:
            cp = rng.choice([rng.randint(1, 0x7f), rng.randint(0x80, 0x7ff),
                             rng.randint(0x800, 0xd7ff), rng.randint(0xe000, 0xffff)])
            parts.append(f"\\u{cp:04{rng.choice('xX')}}")
        elif r < 0.8:
            cp = rng.randint(0x10000, 0x10ffff) - 0x10000
            parts.append(f"\\u{0xd800 + (cp >> 10):04x}\\u{0xdc00 + (cp & 0x3ff):04x}")
        else:
            cp = rng.choice([rng.randint(0xa0, 0x7ff), rng.randint(0x800, 0xd7ff),
                             rng.randint(0xe000, 0xfffd), rng.randint(0x10000, 0x10ffff)])
            parts.append(chr(cp))
    return "".join(parts)


def random_number(rng):
    r = rng.random()
    if r < 0.3:
        return str(rng.randint(-10 ** rng.randint(1, 25), 10 ** rng.randint(1, 25)))
    sign = rng.choice(["", "-"])
    intpart = rng.choice(["0", str(rng.randint(1, 10 ** rng.randint(1, 20)))])
    frac = "." + "".join(rng.choice("0123456789") for _ in range(rng.randint(1, 12))) if rng.random() < 0.6 else ""
    exp = (rng.choice("eE") + rng.choice(["", "+", "-"]) + str(rng.randint(0, 40))) if rng.random() < 0.4 else ""
    return sign + intpart + frac + exp


def random_value(rng, depth):
    r = rng.random()
    if depth < 5 and r < 0.15:
        return "[" + ",".join(random_value(rng, depth + 1) for _ in range(rng.randint(0, 5))) + "]"
    if depth < 5 and r < 0.3:
        return random_object(rng, depth + 1)
    if r < 0.55:
        return '"' + random_string(rng) + '"'
    if r < 0.85:
        return random_number(rng)
    return rng.choice(["true", "false", "null"])


def random_object(rng, depth, exp=False):
    names = set()
    members = []
    for _ in range(rng.randint(0, 8)):
        name = random_string(rng)
        # distinct after decoding, as the core requires
        decoded = json.loads('"' + name + '"')
        if decoded in names or decoded == "exp":
            continue
        names.add(decoded)
        members.append(f'"{name}":{random_value(rng, depth)}')
    if exp:
        members.insert(rng.randint(0, len(members)), f'"exp":{EXP}')
    ws = rng.choice(["", " ", "\n", " \t "])
    return "{" + ws + ("," + ws).join(members) + ws + "}"


# ------------------------------------------------------------ checks

def connect(dbname=None):
    conn = psycopg2.connect(**({"dbname": dbname} if dbname else {}))
    conn.autocommit = True
    conn.set_client_encoding("UTF8")
    return conn


REAL_ISS = "https://idp.example.com/"


def raw_bytes_cast(cur):
    """jsonb::bytea as the datum's bytes: both are varlenas of int alignment."""
    cur.execute("DROP CAST IF EXISTS (jsonb AS bytea)")
    cur.execute("CREATE CAST (jsonb AS bytea) WITHOUT FUNCTION")
    cur.execute("SELECT '{\"b\":[1,true],\"a\":null}'::jsonb::bytea")
    raw = bytes(cur.fetchone()[0])
    # an object of two members: its header word is 2 | JB_FOBJECT
    S.check("the cast shows jsonb's stored bytes",
            int.from_bytes(raw[:4], sys.byteorder) == 2 | 0x20000000, raw.hex())


def answers(cur, payload, aud=None, iss=None):
    """What each path gives for this payload: (bytes, text) or the SQLSTATE."""
    tok = token(payload)
    out = {}
    for name, sql, args in [
        ("jsonb_in", "SELECT convert_from(%s::bytea, 'UTF8')::jsonb", (payload,)),
        ("jwt_decode", "SELECT jwt_decode(%s)->'payload'", (tok,)),
        ("jwt_verify", "SELECT jwt_verify(%s, %s, audience => %s, issuer => %s)",
         (tok, SECRET.decode(), aud, iss)),
    ]:
        try:
            cur.execute(f"SELECT j::bytea, j::text FROM ({sql}) AS q(j)", args)
            b, t = cur.fetchone()
            out[name] = (bytes(b), t)
        except psycopg2.Error as e:
            out[name] = ("error", e.pgcode)
    return out


def session_answer(cur, payload, aud=None, iss=None):
    """jwt_claims() with the token as the session's, the registry holding the key."""
    try:
        cur.execute("SELECT set_config('jwt.audience', %s, false), set_config('jwt.issuer', %s, false)",
                    (aud or "", iss or ""))
        cur.execute("SELECT set_config('jwt.token', %s, false)", (token(payload),))
        cur.execute("SELECT jwt_claims()::bytea, jwt_claims()::text")
        b, t = cur.fetchone()
        return (bytes(b), t)
    except psycopg2.Error as e:
        return ("error", e.pgcode)
    finally:
        cur.execute("RESET jwt.token")


def compare(name, cur, payload, session=False):
    # the token of a real identity provider names an audience and an issuer
    aud, iss = ("api", REAL_ISS) if REAL_ISS.encode() in payload else (None, None)
    got = answers(cur, payload, aud, iss)
    want = got.pop("jsonb_in")
    if session:
        got["jwt_claims"] = session_answer(cur, payload, aud, iss)
    for path, ans in got.items():
        S.check(f"{name}: {path} = jsonb_in", ans == want,
                f"jsonb_in gave {want[1]!r:.200}, {path} {ans[1]!r:.200}")


def main():
    conn = connect()
    cur = conn.cursor()
    cur.execute("CREATE EXTENSION IF NOT EXISTS jwt")
    raw_bytes_cast(cur)
    cur.execute("SET jwt.max_token_length = 65536")  # the large payloads below
    cur.execute("DELETE FROM jwt_keys WHERE kid = 'jsonin'")
    cur.execute("SELECT jwt_add_key(%s, 'HS256', 'jsonin')",
                (json.dumps({"kty": "oct", "alg": "HS256", "k": b64u(SECRET)}),))

    # 1-3
    for name, payload in fixed_payloads():
        compare(name, cur, payload, session=True)

    # the same, generated: every path against jsonb_in
    rng = random.Random(20261202)
    for i in range(1500):
        payload = random_object(rng, 0, exp=True).encode("utf-8")
        compare(f"random payload {i} (seed 20261202)", cur, payload, session=(i % 10 == 0))

    # 4. duplicates: jsonb_in keeps the last; the token is refused first
    for name, payload in [
        ("a duplicate name", enc(f'{{"exp":{EXP},"a":1,"a":2}}')),
        ("a duplicate told apart only by an escape", enc(f'{{"exp":{EXP},"a":1,"\\u0061":2}}')),
        ("a duplicate inside a nested object", enc(f'{{"exp":{EXP},"o":{{"x":1,"y":2,"x":3}}}}')),
    ]:
        got = answers(cur, payload)
        S.check(f"{name}: jsonb_in keeps one of them", got["jsonb_in"][0] != "error",
                str(got["jsonb_in"]))
        for path in ("jwt_decode", "jwt_verify"):
            S.check(f"{name}: {path} refuses the token (28000)", got[path] == ("error", "28000"),
                    str(got[path]))
        S.check(f"{name}: the session refuses the token (28000)",
                session_answer(cur, payload) == ("error", "28000"))

    # 5. databases that are not UTF8
    for db, encoding in [("jwt_jsonin_latin1", "LATIN1"), ("jwt_jsonin_sql_ascii", "SQL_ASCII")]:
        cur.execute(f"DROP DATABASE IF EXISTS {db}")
        cur.execute(f"CREATE DATABASE {db} ENCODING '{encoding}' LC_COLLATE 'C' LC_CTYPE 'C' "
                    "TEMPLATE template0")
        other = connect(db)
        ocur = other.cursor()
        ocur.execute("CREATE EXTENSION jwt")
        raw_bytes_cast(ocur)
        ocur.execute("SELECT jwt_add_key(%s, 'HS256', 'jsonin')",
                     (json.dumps({"kty": "oct", "alg": "HS256", "k": b64u(SECRET)}),))
        cases = [
            ("ascii", enc(f'{{"exp":{EXP},"s":"plain","n":1.50}}'), None),
            ("raw e-acute", enc(f'{{"exp":{EXP},"s":"\u00e9t\u00e9"}}'), None),
            ("escaped e-acute", enc(f'{{"exp":{EXP},"s":"\\u00e9t\\u00e9","\\u00e9":1}}'), None),
            ("raw euro sign", enc(f'{{"exp":{EXP},"s":"\u20ac"}}'), "22P05"),
            ("escaped euro sign", enc(f'{{"exp":{EXP},"s":"\\u20ac"}}'), "22P05"),
            ("raw emoji in a key", enc(f'{{"exp":{EXP},"\U0001F600":1}}'), "22P05"),
        ]
        for name, payload, want_error in cases:
            got = answers(ocur, payload)
            want = got.pop("jsonb_in")
            got["jwt_claims"] = session_answer(ocur, payload)
            if encoding == "LATIN1" and want_error:
                S.check(f"{encoding} {name}: jsonb_in raises {want_error}", want == ("error", want_error),
                        str(want))
            for path, ans in got.items():
                S.check(f"{encoding} {name}: {path} = jsonb_in", ans == want,
                        f"jsonb_in gave {want}, {path} {ans}")
        if encoding == "LATIN1":
            ocur.execute("SELECT jwt_decode(%s)->'payload'->>'s'",
                         (token(enc(f'{{"exp":{EXP},"s":"\\u00e9t\\u00e9"}}')),))
            S.check("LATIN1: an escaped e-acute reads back as the character",
                    ocur.fetchone()[0] == "\u00e9t\u00e9")
        other.close()
        cur.execute(f"DROP DATABASE {db}")

    cur.execute("DELETE FROM jwt_keys WHERE kid = 'jsonin'")
    cur.execute("DROP CAST (jsonb AS bytea)")
    conn.close()
    S.finish()


if __name__ == "__main__":
    main()
