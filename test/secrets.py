#!/usr/bin/python3
"""Secrets: no key material in an error, a notice, the server log or a plan.

Run inside a throwaway cluster, as root or as the cluster's owner, on the
server's machine (it reads the server log):

    pg_virtualenv -t -v 15 /usr/bin/python3 test/secrets.py

For the length of the suite it sets, with ALTER SYSTEM and a reload (undone
at the end):

    log_min_messages = debug5, log_error_verbosity = verbose,
    log_min_error_statement = error, log_statement = none

and its connections use client_min_messages = debug5, so that every message
the server makes reaches both the log and the client.  The suite's own
connection loads auto_explain (log_min_duration 0, log_nested_statements,
log_verbose), so the plans of the statements the extension runs itself, with
whatever constants they hold, reach the log too.

Fresh key material is made for the run: an HS256 secret (text), an HS512
"oct" JWK, a binary secret (bytea), a registry secret, RSA 2048 (PKCS#8 and
PKCS#1 PEM, JWK), RSA 1024, EC P-256 (PKCS#8 and SEC1 PEM, JWK), EC P-224,
Ed25519 (PEM, JWK), an encrypted PEM and its password, and an ES384 JWK that
jwt_generate_key() makes in the server.  The keys reach the server only by
COPY into a table (COPY data is never logged), and every statement names
them through a subquery on that table; so a key can reach the log, a notice,
an error or a plan only through what the extension (or PostgreSQL on its
behalf) writes.  Bad keys are made from the secrets too (a truncated or
corrupted PEM, a JWK with a syntax error after "d", mismatched members, a
JWKS with private keys...), since those are the texts an error is tempted to
quote.

Then it drives every error path it could find in src/errors.c, alg.c,
verify.c, sign.c, keys.c, keycache.c, decode.c and session.c and in the
registry's SQL (jwt_add_key and its trigger, jwt_issue, jwt_jwks,
jwt_revoke_token), each checked to raise what it should: every 28000 rule of
the token (size cap, form, base64url, header JSON, duplicate, alg missing,
none, unknown, crit, b64, zip, kid type, algorithm not allowed, key cannot
verify, unknown kid, retired key, signature, payload JSON, duplicate, not an
object, claim types, expired, nbf, iat, audience, unexpected audience,
issuer, required claim, maximum age, revoked), every 22023 of a wrong call
(algorithm names, algorithm arrays, empty and unusable keys of every kind,
JWKS faults, signing faults, header and claims faults, leeway, audience,
issuer, the key helpers), the registry trigger's refusals, the policy
settings' checks, the registry's warning for a key that no longer imports,
the fallback setting, and two misuses (a key passed where the algorithm
goes, to jwt_sign and to jwt_add_key).  It keeps every error's fields
(message, detail, hint, context, and the rest of what libpq reports), every
notice and warning (and DEBUG message), and the output of EXPLAIN VERBOSE of
failing calls (and the errors of EXPLAIN ANALYZE VERBOSE of them).

Finally it looks for each secret, in several forms, in each of the four
sources (errors, notices, the server log written during the run, plans):
the raw text, base64 and base64url of the secret's bytes, hex (either
case), each PEM body line but the first (which holds only ASN.1 framing and
public values), and the JWK members d, k, p, q, dp, dq, qi.  A form is found
when any 12-character piece of it (16 for hex), taken every 4 characters,
occurs: any leak of 15 characters or more in a row is caught.  Pieces that
also occur in the public keys are left out.

Checks: one per secret form per source, one per error path (it raised what
it should: the SQLSTATE and a part of the message), and that each source was
really captured (the log holds the run's DEBUG lines and its errors).  It
ends with "secrets: N passed, N failed" (exit 1 on any failure, or without a
summary when it cannot run at all).  A failure names the form, the source and
where it was found, with the secret itself masked.
"""

import importlib.util
import os
import sys

if __name__ != "__main__":
    # Imported, not run: a suite that has test/ on sys.path asked for the
    # standard module "secrets" and found this file.  Hand it the real one.
    import sysconfig
    _std_spec = importlib.util.spec_from_file_location(
        __name__, os.path.join(sysconfig.get_paths()["stdlib"], "secrets.py"))
    _std = importlib.util.module_from_spec(_std_spec)
    _std_spec.loader.exec_module(_std)
    sys.modules[__name__] = _std
    globals().update({k: v for k, v in vars(_std).items() if not k.startswith("__")})
else:
    # Run: this folder must not be on sys.path, where it would shadow the
    # standard module "secrets" (nor the repository root, whose jwt.so Python
    # would take for the module "jwt").  suite.py is loaded from its file.
    _HERE = os.path.dirname(os.path.abspath(__file__))
    sys.path[:] = [p for p in sys.path
                   if os.path.abspath(p or os.curdir) not in (_HERE, os.path.dirname(_HERE))]

import base64              # noqa: E402
import csv                 # noqa: E402
import glob                # noqa: E402
import hashlib             # noqa: E402
import hmac                # noqa: E402
import io                  # noqa: E402
import json                # noqa: E402
import re                  # noqa: E402
import secrets as pysecrets  # noqa: E402
import time                # noqa: E402

if __name__ == "__main__":
    _spec = importlib.util.spec_from_file_location("suite", os.path.join(_HERE, "suite.py"))
    suite = importlib.util.module_from_spec(_spec)
    sys.modules["suite"] = suite
    _spec.loader.exec_module(suite)

    SUITE = "secrets"
    T = suite.Suite(SUITE, reexec_guard="JWT_SECRETS_REEXEC")
    cannot_run = T.cannot_run
    note = T.note
    b64u = suite.b64u

    try:
        import psycopg2
        from cryptography.hazmat.primitives import hashes, serialization
        from cryptography.hazmat.primitives.asymmetric import ec, ed25519, padding, rsa
    except ImportError as e:
        T.reexec_or_cannot_run(e, "Debian's python3-psycopg2 and python3-cryptography")

DB = "jwt_secrets"
PIECE = 12          # base64 and text forms
PIECE_HEX = 16
STEP = 4
FAR_EXP = 4102444800
LOG_SETTINGS = (
    ("log_min_messages", "debug5"),
    ("log_error_verbosity", "verbose"),
    ("log_min_error_statement", "error"),
    ("log_statement", "none"),
)


def b64(b):
    return base64.b64encode(b).decode()


def int_bytes(n, size=None):
    size = size or (n.bit_length() + 7) // 8
    return n.to_bytes(size, "big")


def jdump(obj):
    return json.dumps(obj, separators=(",", ":"))


# ---------------------------------------------------------------- key material

class Secret:
    """A secret and the forms it could leak in: form name -> list of strings."""

    def __init__(self, name):
        self.name = name
        self.forms = {}

    def add(self, form, *texts, hex_form=False):
        self.forms[form] = ([t.lower() for t in texts], True) if hex_form else (list(texts), False)


def pem_body_lines(pem):
    lines = [ln for ln in pem.strip().splitlines() if ln and not ln.startswith("-----")]
    lines = [ln for ln in lines if ":" not in ln]      # "Proc-Type:" headers
    return lines[1:]


def pem(k, fmt, enc=None):
    return k.private_bytes(serialization.Encoding.PEM, fmt,
                           enc or serialization.NoEncryption()).decode()


def spki(k):
    return k.public_key().public_bytes(serialization.Encoding.PEM,
                                       serialization.PublicFormat.SubjectPublicKeyInfo).decode()


def rsa_jwk(k, private=True, **extra):
    pn = k.private_numbers()
    j = {"kty": "RSA", "n": b64u(int_bytes(pn.public_numbers.n)),
         "e": b64u(int_bytes(pn.public_numbers.e))}
    if private:
        j.update({"d": b64u(int_bytes(pn.d)), "p": b64u(int_bytes(pn.p)),
                  "q": b64u(int_bytes(pn.q)), "dp": b64u(int_bytes(pn.dmp1)),
                  "dq": b64u(int_bytes(pn.dmq1)), "qi": b64u(int_bytes(pn.iqmp))})
    j.update(extra)
    return j


def ec_jwk(k, crv, size, private=True, **extra):
    pn = k.private_numbers()
    j = {"kty": "EC", "crv": crv, "x": b64u(int_bytes(pn.public_numbers.x, size)),
         "y": b64u(int_bytes(pn.public_numbers.y, size))}
    if private:
        j["d"] = b64u(int_bytes(pn.private_value, size))
    j.update(extra)
    return j


def ed_raw(k):
    d = k.private_bytes(serialization.Encoding.Raw, serialization.PrivateFormat.Raw,
                        serialization.NoEncryption())
    x = k.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return d, x


class Material:
    """Every key of the run: texts for the server (name -> text or bytes),
    the secrets to look for, and the public texts to leave out of the search."""

    def __init__(self):
        self.texts = {}          # name -> str (a key text) or bytes (a bytea secret)
        self.secrets = []
        self.public = []
        P8 = serialization.PrivateFormat.PKCS8
        TRAD = serialization.PrivateFormat.TraditionalOpenSSL

        # shared secrets
        hs = pysecrets.token_urlsafe(36)                   # 48 characters: HS256 and HS384
        self.texts["hs"] = hs
        s = Secret("HS256 secret")
        s.add("raw text", hs)
        s.add("base64", b64(hs.encode()))
        s.add("base64url", b64u(hs.encode()))
        s.add("hex", hs.encode().hex(), hex_form=True)
        self.secrets.append(s)
        self.texts["short"] = hs[:20]                      # too short, and part of the secret
        self.texts["with_kty"] = f'secret {hs} "kty"'      # a secret that looks like a JWK

        reg = pysecrets.token_urlsafe(48)
        self.texts["reg"] = reg
        s = Secret("registry secret")
        s.add("raw text", reg)
        s.add("base64", b64(reg.encode()))
        s.add("hex", reg.encode().hex(), hex_form=True)
        self.secrets.append(s)

        okb = pysecrets.token_bytes(64)
        oct_jwk = {"kty": "oct", "k": b64u(okb), "alg": "HS512", "kid": "oct1"}
        self.texts["oct"] = jdump(oct_jwk)
        self.texts["oct_kty"] = jdump({"kty": "XYZ", "k": b64u(okb)})
        self.texts["oct_nokty"] = jdump({"k": b64u(okb), "alg": "HS512"})
        s = Secret("HS512 oct JWK")
        s.add("k", b64u(okb))
        s.add("base64", b64(okb))
        s.add("hex", okb.hex(), hex_form=True)
        self.secrets.append(s)

        binkey = pysecrets.token_bytes(32)
        self.texts["bin"] = binkey
        s = Secret("bytea secret")
        s.add("hex", binkey.hex(), hex_form=True)
        s.add("base64", b64(binkey))
        s.add("base64url", b64u(binkey))
        self.secrets.append(s)

        # RSA 2048
        r = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        r2 = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.rsa = r
        rp8, rp1 = pem(r, P8), pem(r, TRAD)
        self.texts["rsa_pem"] = rp8
        self.texts["rsa_pem1"] = rp1
        self.texts["rsa_pub"] = spki(r)
        rj = rsa_jwk(r, kid="rsa1")
        self.texts["rsa_jwk"] = jdump(rj)
        lines = rp8.strip().splitlines()
        self.texts["rsa_pem_trunc"] = "\n".join(lines[:-4] + lines[-1:]) + "\n"
        mid = len(rp8) // 2
        self.texts["rsa_pem_corrupt"] = rp8[:mid] + ("A" if rp8[mid] != "A" else "B") + rp8[mid + 1:]
        self.texts["rsa_pem_in_text"] = "my notes\n" + self.texts["rsa_pem_trunc"] + "more notes\n"
        # bare base64 of the private key's DER, as some tools print it: not a
        # public key nor a certificate, so it is taken for a secret
        self.texts["rsa_der_b64"] = "".join(ln for ln in rp8.strip().splitlines()
                                            if not ln.startswith("-----"))
        bad = dict(rj)
        bad["q"] = rsa_jwk(r2)["q"]
        self.texts["rsa_jwk_mismatch"] = jdump(bad)
        s = Secret("RSA 2048 key")
        s.add("PKCS#8 PEM body", *pem_body_lines(rp8))
        s.add("PKCS#1 PEM body", *pem_body_lines(rp1))
        for m in ("d", "p", "q", "dp", "dq", "qi"):
            s.add(f"JWK {m}", rj[m])
        s.add("hex d", int_bytes(r.private_numbers().d).hex(), hex_form=True)
        s.add("hex p", int_bytes(r.private_numbers().p).hex(), hex_form=True)
        self.secrets.append(s)
        self.public += [self.texts["rsa_pub"], rj["n"], rj["e"], spki(r2)]

        r1024 = rsa.generate_private_key(public_exponent=65537, key_size=1024)
        self.texts["rsa1024_pem"] = pem(r1024, P8)
        s = Secret("RSA 1024 key")
        s.add("PKCS#8 PEM body", *pem_body_lines(self.texts["rsa1024_pem"]))
        s.add("JWK d", b64u(int_bytes(r1024.private_numbers().d)))
        self.secrets.append(s)
        self.public.append(spki(r1024))

        password = pysecrets.token_urlsafe(18)
        enc = pem(r, P8, serialization.BestAvailableEncryption(password.encode()))
        self.texts["rsa_pem_encrypted"] = enc
        s = Secret("encrypted PEM")
        s.add("password", password)
        s.add("PEM body", *pem_body_lines(enc))
        self.secrets.append(s)

        # EC P-256
        e = ec.generate_private_key(ec.SECP256R1())
        e2 = ec.generate_private_key(ec.SECP256R1())
        self.ec = e
        ep8, esec1 = pem(e, P8), pem(e, TRAD)
        self.texts["ec_pem"] = ep8
        self.texts["ec_sec1"] = esec1
        self.texts["ec_pub"] = spki(e)
        ej = ec_jwk(e, "P-256", 32, kid="ec1")
        self.texts["ec_jwk"] = jdump(ej)
        self.texts["ec_jwk_pub"] = jdump(ec_jwk(e, "P-256", 32, private=False, kid="ec1"))
        self.texts["ec_jwk_badjson"] = jdump(ej)[:-1] + ",}"
        off = dict(ej)
        yb = bytearray(int_bytes(e.private_numbers().public_numbers.y, 32))
        yb[-1] ^= 1
        off["y"] = b64u(bytes(yb))
        self.texts["ec_jwk_offcurve"] = jdump(off)
        mis = dict(ej)
        other = ec_jwk(e2, "P-256", 32, private=False)
        mis["x"], mis["y"] = other["x"], other["y"]
        self.texts["ec_jwk_mismatch"] = jdump(mis)
        self.texts["ec_jwk_enc"] = jdump(dict(ej, use="enc"))
        self.texts["ec_jwk_verifyonly"] = jdump(dict(ej, key_ops=["verify"]))
        self.texts["ec_jwk_es384"] = jdump(dict(ej, alg="ES384"))
        s = Secret("EC P-256 key")
        s.add("PKCS#8 PEM body", *pem_body_lines(ep8))
        s.add("SEC1 PEM body", *pem_body_lines(esec1))
        s.add("JWK d", ej["d"])
        s.add("base64 d", b64(int_bytes(e.private_numbers().private_value, 32)))
        s.add("hex d", int_bytes(e.private_numbers().private_value, 32).hex(), hex_form=True)
        self.secrets.append(s)
        self.public += [self.texts["ec_pub"], ej["x"], ej["y"], spki(e2), other["x"], other["y"]]

        p224 = ec.generate_private_key(ec.SECP224R1())
        self.texts["p224_pem"] = pem(p224, P8)
        s = Secret("EC P-224 key")
        s.add("PKCS#8 PEM body", *pem_body_lines(self.texts["p224_pem"]))
        s.add("hex d", int_bytes(p224.private_numbers().private_value, 28).hex(), hex_form=True)
        self.secrets.append(s)
        self.public.append(spki(p224))

        # Ed25519
        d = ed25519.Ed25519PrivateKey.generate()
        d2 = ed25519.Ed25519PrivateKey.generate()
        draw, dx = ed_raw(d)
        _, d2x = ed_raw(d2)
        self.texts["ed_pem"] = pem(d, P8)
        dj = {"kty": "OKP", "crv": "Ed25519", "d": b64u(draw), "x": b64u(dx), "kid": "ed1"}
        self.texts["ed_jwk"] = jdump(dj)
        self.texts["ed_jwk_mismatch"] = jdump(dict(dj, x=b64u(d2x)))
        self.texts["ed_openssh"] = pem(d, serialization.PrivateFormat.OpenSSH)
        self.texts["ssh_pub"] = d.public_key().public_bytes(
            serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH).decode()
        s = Secret("Ed25519 key")
        s.add("PKCS#8 PEM body", *pem_body_lines(self.texts["ed_pem"]))
        s.add("OpenSSH private key body", *pem_body_lines(self.texts["ed_openssh"]))
        s.add("JWK d", dj["d"])
        s.add("hex d", draw.hex(), hex_form=True)
        self.secrets.append(s)
        self.public += [spki(d), dj["x"], b64u(d2x)]

        # a control: put into every source on purpose, to prove the search finds
        self.control_text = "control-" + pysecrets.token_urlsafe(30)
        self.texts["control"] = self.control_text
        self.control = Secret("control secret (planted on purpose)")
        self.control.add("raw text", self.control_text)
        self.control.add("hex", self.control_text.encode().hex(), hex_form=True)

        # key sets made of the secrets
        self.texts["jwks_private"] = jdump({"keys": [ej, rj]})
        self.texts["jwks_dup"] = jdump({"keys": [ej, dict(rj, kid="ec1")]})
        self.texts["jwks_mixed"] = jdump({"keys": [oct_jwk, ec_jwk(e, "P-256", 32, private=False,
                                                                   kid="ec1")]})
        self.texts["jwks_public"] = jdump({"keys": [rsa_jwk(r, private=False, kid="rsa1"),
                                                    ec_jwk(e, "P-256", 32, private=False,
                                                           kid="ec1")]})
        self.public.append(self.texts["jwks_public"])

    def add_generated(self, jwk_text):
        """The JWK jwt_generate_key() made in the server."""
        j = json.loads(jwk_text)
        s = Secret(f"server-generated {j.get('crv', '?')} key")
        s.add("JWK d", j["d"])
        s.add("hex d", base64.urlsafe_b64decode(j["d"] + "=" * (-len(j["d"]) % 4)).hex(),
              hex_form=True)
        self.secrets.append(s)
        self.public += [j["x"], j["y"]]


# ---------------------------------------------------------------- tokens

def hs_token(secret, header, payload):
    """A compact JWS MACed with the secret's UTF-8 bytes (HS256)."""
    h = b64u(header if isinstance(header, bytes) else jdump(header).encode())
    p = b64u(payload if isinstance(payload, bytes) else jdump(payload).encode())
    mac = hmac.new(secret, f"{h}.{p}".encode(), hashlib.sha256).digest()
    return f"{h}.{p}.{b64u(mac)}"


def rs_token(key, header, payload):
    h = b64u(jdump(header).encode())
    p = b64u(jdump(payload).encode())
    sig = key.sign(f"{h}.{p}".encode(), padding.PKCS1v15(), hashes.SHA256())
    return f"{h}.{p}.{b64u(sig)}"


def flip(tok):
    h, p, s = tok.split(".")
    return f"{h}.{p}.{s[:10]}{'A' if s[10] != 'A' else 'B'}{s[11:]}"


# ---------------------------------------------------------------- server

class Notices(list):
    """psycopg2 appends each notice here (its own list keeps only 50)."""


def connect(dbname, debug=True):
    conn = psycopg2.connect(dbname=dbname, connect_timeout=10)
    conn.autocommit = True
    conn.notices = Notices()
    if debug:
        # set once connected: messages before psycopg2's notice hook would go to stderr
        run(conn, "SET client_min_messages = debug5")
    return conn


def q1(conn, sql, args=None):
    with conn.cursor() as cur:
        cur.execute(sql, args)
        row = cur.fetchone()
    return row[0] if row is not None else None


def qall(conn, sql, args=None):
    with conn.cursor() as cur:
        cur.execute(sql, args)
        return cur.fetchall() if cur.description is not None else []


def run(conn, sql, args=None):
    with conn.cursor() as cur:
        cur.execute(sql, args)


DIAG_FIELDS = ("severity", "severity_nonlocalized", "sqlstate", "message_primary",
               "message_detail", "message_hint", "context", "statement_position",
               "internal_position", "internal_query", "schema_name", "table_name",
               "column_name", "datatype_name", "constraint_name", "source_file",
               "source_line", "source_function")


def error_text(e):
    """Everything libpq reports of an error."""
    parts = [e.pgerror or "", str(e)]
    for f in DIAG_FIELDS:
        v = getattr(e.diag, f, None)
        if v:
            parts.append(f"{f}: {v}")
    return "\n".join(parts)


def K(name):
    """A key, by name, from the table it was copied into."""
    return f"(SELECT val FROM secret_keys WHERE name = '{name}')"


def B(name):
    return f"(SELECT bin FROM secret_keys WHERE name = '{name}')"


def find_log(conn):
    """The file the server writes its log to, and how long it is now."""
    path = None
    if q1(conn, "SHOW logging_collector") == "on":
        f = q1(conn, "SELECT pg_current_logfile()")
        if f:
            path = f if os.path.isabs(f) else os.path.join(q1(conn, "SHOW data_directory"), f)
    if path is None:
        pid = q1(conn, "SELECT pg_backend_pid()")
        try:
            target = os.readlink(f"/proc/{pid}/fd/2")
            if os.path.isfile(target):
                path = target
        except OSError:
            pass
    if path is None:
        conf_root = os.environ.get("PG_CLUSTER_CONF_ROOT")
        cands = []
        if conf_root:
            cands += glob.glob(os.path.join(os.path.dirname(conf_root), "log", "*.log"))
        cands += glob.glob("/var/log/postgresql/postgresql-*-regress.log")
        if cands:
            path = max(cands, key=os.path.getmtime)
    if path is None:
        return None, 0
    return path, os.path.getsize(path)


def read_from(path, offset):
    with open(path, "rb") as f:
        f.seek(offset)
        return f.read().decode("utf-8", "replace")


# ---------------------------------------------------------------- the error paths

class Run:
    """Runs error paths and keeps what every source says."""

    def __init__(self):
        self.errors = []        # (path, text)
        self.notices = []       # (path, text)
        self.plans = []         # (path, text)
        self.raised = {}

    def collect_notices(self, conn, path):
        for n in conn.notices:
            self.notices.append((path, n))
        del conn.notices[:]

    def expect(self, conn, name, sql, args=None, state="22023", fragment=None):
        """Run sql; it must raise state with fragment in its message."""
        err = None
        try:
            qall(conn, sql, args)
        except psycopg2.Error as e:
            err = e
        self.collect_notices(conn, name)
        if err is None:
            T.check(f"error path {name}: raises {state}", False, "it succeeded")
            return None
        text = error_text(err)
        self.errors.append((name, text))
        msg = err.diag.message_primary or ""
        ok = err.pgcode == state and (fragment is None or fragment.lower() in
                                      (msg + " " + (err.diag.message_detail or "")).lower())
        T.check(f"error path {name}: raises {state}"
                + (f" \"{fragment}\"" if fragment else ""), ok,
                f"got {err.pgcode} {msg!r} ({err.diag.message_detail})")
        return err

    def ok(self, conn, name, sql, args=None):
        """A statement that must succeed (setup); its notices are kept too."""
        try:
            rows = qall(conn, sql, args)
        except psycopg2.Error as e:
            self.errors.append((name, error_text(e)))
            self.collect_notices(conn, name)
            T.check(f"setup {name}", False, f"{e.pgcode} {e.diag.message_primary}")
            return None
        self.collect_notices(conn, name)
        return rows

    def explain(self, conn, name, sql, state="22023", fragment=None):
        """EXPLAIN VERBOSE of a failing call (kept), then EXPLAIN ANALYZE VERBOSE (must fail)."""
        rows = self.ok(conn, f"explain {name}", "EXPLAIN (VERBOSE, COSTS OFF) " + sql)
        if rows is not None:
            self.plans.append((name, "\n".join(r[0] for r in rows)))
        self.expect(conn, f"explain analyze {name}",
                    "EXPLAIN (ANALYZE, VERBOSE, COSTS OFF, TIMING OFF) " + sql, None, state, fragment)


def token_paths(R, c, m):
    """Every rule of a token, through jwt_verify, jws_verify, jwt_is_valid, jwt_decode."""
    hs = m.texts["hs"].encode()
    good_claims = {"sub": "alice", "exp": FAR_EXP}
    H = {"alg": "HS256", "typ": "JWT"}
    now = int(time.time())

    def v(name, tok, fragment, extra="", state="28000", key=K("hs")):
        R.expect(c, name, f"SELECT jwt_verify(%s, {key}{extra})", (tok,), state, fragment)

    R.expect(c, "token: over the size cap",
             f"SELECT jwt_verify(repeat('a', 20000), {K('hs')})", None, "28000", "max_token_length")
    v("token: not three segments", "abc.def", "three base64url segments")
    v("token: not base64url", "ab!c.def.ghi", "strict base64url")
    v("token: header not JSON", f"{b64u(b'nope')}.{b64u(b'{}')}.AAAA", "header is not")
    v("token: header not an object", f"{b64u(b'[1]')}.{b64u(b'{}')}.AAAA", "not a JSON object")
    dup_header = b64u(b'{"alg":"HS256","alg":"HS256"}')
    v("token: header repeats a member", f"{dup_header}.{b64u(b'{}')}.AAAA", "repeat")
    v("token: no alg", hs_token(hs, {"typ": "JWT"}, good_claims), "no \"alg\"")
    v("token: alg none", hs_token(hs, {"alg": "none"}, good_claims), "none")
    v("token: unknown alg", hs_token(hs, {"alg": "XX999"}, good_claims), "not a registered")
    v("token: crit", hs_token(hs, dict(H, crit=["exp"]), good_claims), "crit")
    v("token: b64", hs_token(hs, dict(H, b64=False), good_claims), "b64")
    v("token: zip", hs_token(hs, dict(H, zip="DEF"), good_claims), "zip")
    v("token: kid not a string", hs_token(hs, dict(H, kid=1), good_claims), "kid")
    v("token: algorithm not allowed", hs_token(hs, H, good_claims), "not among the allowed",
      ", algorithms => '{HS384}'")
    v("token: key cannot verify its alg", rs_token(m.rsa, {"alg": "RS256"}, good_claims),
      "cannot verify RS256")
    v("token: unknown kid in a JWKS", rs_token(m.rsa, {"alg": "RS256", "kid": "nope"}, good_claims),
      "kid", key=K("jwks_public"))
    v("token: bad signature", flip(hs_token(hs, H, good_claims)), "signature does not verify")
    v("token: bad signature, PEM key", flip(rs_token(m.rsa, {"alg": "RS256"}, good_claims)),
      "signature", key=K("rsa_pem"))
    v("token: bad signature, private JWK", flip(rs_token(m.rsa, {"alg": "RS256"}, good_claims)),
      "signature", key=K("rsa_jwk"))
    v("token: HS256 against a bare base64 private key, which is read as that RSA key",
      flip(hs_token(hs, H, good_claims)), "cannot verify HS256", key=K("rsa_der_b64"))
    v("token: bad signature, bare base64 private key",
      flip(rs_token(m.rsa, {"alg": "RS256"}, good_claims)), "signature", key=K("rsa_der_b64"))
    v("token: payload not JSON", hs_token(hs, H, b"nope"), "payload is not")
    v("token: payload repeats a member", hs_token(hs, H, b'{"a":1,"a":2}'), "repeat")
    v("token: payload not an object", hs_token(hs, H, b"[1]"), "not a JSON object")
    v("token: exp not a number", hs_token(hs, H, {"exp": "x"}), "exp")
    v("token: aud mistyped", hs_token(hs, H, {"aud": 1, "exp": FAR_EXP}), "aud")
    v("token: iss mistyped", hs_token(hs, H, {"iss": 1, "exp": FAR_EXP}), "iss")
    v("token: expired", hs_token(hs, H, {"exp": now - 3600}), "expired")
    v("token: not yet valid", hs_token(hs, H, {"nbf": now + 3600, "exp": FAR_EXP}), "nbf")
    v("token: issued in the future", hs_token(hs, H, {"iat": now + 3600, "exp": FAR_EXP}), "iat")
    v("token: wrong audience", hs_token(hs, H, {"aud": "other", "exp": FAR_EXP}), "audience",
      ", audience => 'api'")
    v("token: unexpected audience", hs_token(hs, H, {"aud": "api", "exp": FAR_EXP}), "audience")
    v("token: wrong issuer", hs_token(hs, H, {"iss": "b", "exp": FAR_EXP}), "issuer",
      ", issuer => 'a'")
    R.expect(c, "token: bad signature, bytea key",
             f"SELECT jwt_verify(%s, {B('bin')})", (flip(hs_token(hs, H, good_claims)),),
             "28000", "signature")
    R.expect(c, "token: jws_verify, bad signature",
             f"SELECT jws_verify(%s, {K('ec_pem')})",
             (b64u(b'{"alg":"ES256"}') + "." + b64u(b"x") + "." + b64u(bytes(64)),), "28000",
             "signature")
    R.expect(c, "token: jwt_decode of a malformed token", "SELECT jwt_decode('x.y')", None,
             "28000", "three")
    R.expect(c, "token: jwt_is_valid with a short key still raises",
             f"SELECT jwt_is_valid(%s, {K('short')})", (hs_token(hs, H, good_claims),),
             "22023", "too short")


def call_paths(R, c, m):
    """Every wrong call: algorithms, keys, key sets, signing, arguments, helpers."""
    hs = m.texts["hs"].encode()
    tok = hs_token(hs, {"alg": "HS256"}, {"sub": "a", "exp": FAR_EXP})
    claims = "'{\"sub\":\"a\"}'::jsonb"

    def sign(name, key, alg, fragment, header="NULL", state="22023", claims=claims):
        R.expect(c, name, f"SELECT jwt_sign({claims}, {key}, '{alg}', {header})", None, state,
                 fragment)

    def verify(name, key, fragment, extra="", state="22023"):
        R.expect(c, name, f"SELECT jwt_verify(%s, {key}{extra})", (tok,), state, fragment)

    sign("call: unknown algorithm", K("hs"), "HS257", "unrecognized JWS algorithm")
    sign("call: algorithm none", K("hs"), "none", "none")
    verify("call: unknown algorithm in algorithms", K("hs"), "unrecognized", ", algorithms => '{XX1}'")
    verify("call: algorithms two-dimensional", K("hs"), "one-dimensional",
           ", algorithms => '{{HS256}}'")
    verify("call: algorithms empty", K("hs"), "must not be empty", ", algorithms => '{}'")
    verify("call: algorithms with NULL", K("hs"), "NULL", ", algorithms => '{NULL}'")
    verify("call: negative leeway", K("hs"), "leeway", ", leeway => '-1 second'")
    verify("call: empty audience", K("hs"), "audience", ", audience => ''")
    verify("call: empty issuer", K("hs"), "issuer", ", issuer => ''")
    verify("call: empty key", "''", "key is empty")
    R.expect(c, "call: empty bytea key", "SELECT jwt_verify(%s, ''::bytea)", (tok,), "22023",
             "key is empty")
    verify("call: short secret", K("short"), "too short")
    sign("call: short secret, signing", K("short"), "HS256", "too short")
    verify("call: secret holding \"kty\"", K("with_kty"), "invalid key")
    verify("call: truncated private PEM", K("rsa_pem_trunc"), "invalid key")
    verify("call: corrupted private PEM", K("rsa_pem_corrupt"), None)
    verify("call: truncated PEM inside text", K("rsa_pem_in_text"), "invalid key")
    verify("call: JWK syntax error after d", K("ec_jwk_badjson"), "invalid key")
    verify("call: JWK of unknown kty", K("oct_kty"), "unsupported key type")
    verify("call: SSH public key", K("ssh_pub"), "SSH public keys")
    verify("call: OpenSSH private key", K("ed_openssh"), None)
    sign("call: OpenSSH private key, signing", K("ed_openssh"), "EdDSA", None)
    verify("call: JWK without kty", K("oct_nokty"), None)
    verify("call: RSA key too short", K("rsa1024_pem"), "too short")
    sign("call: RSA key too short, signing", K("rsa1024_pem"), "RS256", "too short")
    verify("call: encrypted PEM", K("rsa_pem_encrypted"), "encrypted")
    verify("call: unsupported curve", K("p224_pem"), "curve")
    verify("call: EC JWK off the curve", K("ec_jwk_offcurve"), None)
    verify("call: EC JWK d not matching x, y", K("ec_jwk_mismatch"), None)
    verify("call: RSA JWK members not together", K("rsa_jwk_mismatch"), None)
    verify("call: Ed25519 JWK d not matching x", K("ed_jwk_mismatch"), None)
    verify("call: empty JWKS", "'{\"keys\":[]}'", "invalid JWKS")
    verify("call: JWKS with a kid twice", K("jwks_dup"), "invalid JWKS")
    verify("call: JWKS mixing a secret and a public key", K("jwks_mixed"), "invalid JWKS")
    verify("call: RSA key for an HS token", K("rsa_pem"), "cannot be used",
           ", algorithms => '{HS256}'")
    verify("call: EC key for RS256", K("ec_jwk"), "cannot be used", ", algorithms => '{RS256}'")
    sign("call: secret for RS256", K("hs"), "RS256", "cannot be used")
    sign("call: HS512 JWK for HS256", K("oct"), "HS256", "cannot be used")
    sign("call: P-256 JWK pinned to ES384", K("ec_jwk_es384"), "ES256", "cannot be used")
    sign("call: JWK for encryption", K("ec_jwk_enc"), "ES256", "may not be used")
    sign("call: JWK for verifying only", K("ec_jwk_verifyonly"), "ES256", "may not be used")
    sign("call: signing with a JWKS", K("jwks_private"), "ES256", "JWKS")
    sign("call: signing with a public key", K("ec_pub"), "ES256", "private key")
    sign("call: signing with a public JWK", K("ec_jwk_pub"), "ES256", "private key")
    sign("call: corrupted PEM, signing", K("rsa_pem_corrupt"), "RS256", None)
    sign("call: PKCS#1 PEM for ES256", K("rsa_pem1"), "ES256", "cannot be used")
    sign("call: SEC1 PEM for RS256", K("ec_sec1"), "RS256", "cannot be used")
    sign("call: Ed25519 PEM for ES256", K("ed_pem"), "ES256", "cannot be used")
    sign("call: Ed25519 JWK for RS256", K("ed_jwk"), "RS256", "cannot be used")
    sign("call: header not an object", K("hs"), "HS256", "header", header="'[1]'::jsonb")
    sign("call: header alg disagrees", K("hs"), "HS256", "disagrees",
         header="'{\"alg\":\"HS512\"}'::jsonb")
    sign("call: header crit", K("ec_jwk"), "ES256", "crit", header="'{\"crit\":[\"x\"]}'::jsonb")
    sign("call: header kid not a string", K("rsa_pem"), "RS256", "kid",
         header="'{\"kid\":1}'::jsonb")
    sign("call: claims not an object", K("hs"), "HS256", "claims", claims="'[1]'::jsonb")
    sign("call: claim exp of the wrong type", K("ed_jwk"), "EdDSA", "wrong type",
         claims="'{\"exp\":\"soon\"}'::jsonb")
    sign("call: bytea secret for ES256", B("bin"), "ES256", "cannot be used")
    R.expect(c, "call: jws_sign with a short secret",
             f"SELECT jws_sign('\\x01'::bytea, {K('short')}, 'HS256')", None, "22023", "too short")
    R.expect(c, "call: jws_sign with an encrypted PEM",
             f"SELECT jws_sign('\\x01'::bytea, {K('rsa_pem_encrypted')}, 'RS256')", None, "22023",
             "encrypted")
    R.expect(c, "helper: public JWK of a secret", f"SELECT jwt_public_jwk({K('hs')})", None,
             "22023", "no public JWK")
    R.expect(c, "helper: public JWK of a corrupted PEM",
             f"SELECT jwt_public_jwk({K('rsa_pem_corrupt')})", None, "22023", None)
    R.expect(c, "helper: public JWK of a JWKS with a secret",
             f"SELECT jwt_public_jwk({K('jwks_mixed')})", None, "22023", "invalid JWKS")
    R.expect(c, "helper: thumbprint of an array", "SELECT jwt_jwk_thumbprint('[1]')", None,
             "22023", "JSON object")
    R.expect(c, "helper: thumbprint of a JWKS",
             f"SELECT jwt_jwk_thumbprint({K('jwks_private')}::jsonb)", None, "22023",
             "no single thumbprint")
    R.expect(c, "helper: thumbprint of a mismatched private JWK",
             f"SELECT jwt_jwk_thumbprint({K('ec_jwk_mismatch')}::jsonb)", None, "22023", None)
    R.expect(c, "helper: thumbprint of an off-curve private JWK",
             f"SELECT jwt_jwk_thumbprint({K('ec_jwk_offcurve')}::jsonb)", None, "22023", None)
    R.expect(c, "helper: generate a key for an unknown algorithm",
             "SELECT jwt_generate_key('HS257')", None, "22023", "unrecognized")
    # misuse: the key where the algorithm goes
    R.expect(c, "misuse: jwt_sign(claims, 'HS256', key), arguments swapped",
             f"SELECT jwt_sign({claims}, 'HS256', {K('hs')})", None, "22023", None)


def registry_paths(R, c, m, dbname):
    """The registry's trigger and functions, and session tokens (jwt_claims, jwt_claim)."""
    reg = m.texts["reg"].encode()
    now = int(time.time())

    def stok(claims, kid="reg1", secret=reg):
        return hs_token(secret, {"alg": "HS256", "kid": kid}, claims)

    good = {"sub": "alice", "exp": FAR_EXP}

    def session(name, tok, fragment, fn="jwt_claims()", state="28000"):
        R.expect(c, name, f"SELECT set_config('jwt.token', %s, false), {fn}", (tok,), state,
                 fragment)

    session("session: no key in the registry", stok(good), "holds no key")

    def add(name, key, alg, fragment, state="22023", extra=""):
        R.expect(c, name, f"SELECT jwt_add_key({key}, {alg}{extra})", None, state, fragment)

    add("registry: a JWKS", K("jwks_private"), "'ES256'", "not a JWKS")
    add("registry: a truncated private PEM", K("rsa_pem_trunc"), "'RS256'", "invalid key")
    add("registry: a corrupted private PEM", K("rsa_pem_corrupt"), "'RS256'", None)
    add("registry: a JWK with a syntax error", K("ec_jwk_badjson"), "'ES256'", "invalid key")
    add("registry: a mismatched private JWK", K("ec_jwk_mismatch"), "'ES256'", None)
    add("registry: an encrypted PEM", K("rsa_pem_encrypted"), "'RS256'", "encrypted")
    add("registry: a secret for RS256", K("reg"), "'RS256'", "cannot be used")
    add("registry: a private key for the wrong curve", K("ec_pem"), "'ES384'", "cannot be used")
    add("registry: a short secret", K("short"), "'HS256'", "too short")
    add("registry: an unknown algorithm", K("reg"), "'HS257'", "unrecognized")
    add("registry: algorithm none", K("reg"), "'none'", "none")
    add("registry: a JWK for encryption", K("ec_jwk_enc"), "'ES256'", "may not be used")
    # what the table's constraints refuse (whose own errors would show the
    # failing row, key included) is refused by the trigger first
    add("registry: an empty kid", K("reg"), "'HS256'", "invalid registry key", extra=", ''")
    add("registry: valid_until before valid_from", K("reg"), "'HS256'", "invalid registry key",
        extra=", 'r-range', now(), now() - interval '1 day'")
    add("registry: no algorithm", K("reg"), "NULL", "invalid registry key")
    R.expect(c, "registry: no key", "SELECT jwt_add_key(NULL, 'HS256', 'r-null')", None,
             "22023", "invalid registry key")
    R.expect(c, "registry: INSERT with added_at NULL",
             "INSERT INTO jwt_keys (kid, key, algorithm, added_at) "
             f"VALUES ('r-added', {K('reg')}, 'HS256', NULL)", None, "22023",
             "invalid registry key")
    R.expect(c, "registry: INSERT with valid_from NULL",
             "INSERT INTO jwt_keys (kid, key, algorithm, valid_from) "
             f"VALUES ('r-from', {K('ec_jwk')}, 'ES256', NULL)", None, "22023",
             "invalid registry key")
    # misuse: the key where the algorithm goes
    add("misuse: jwt_add_key('HS256', key), arguments swapped", "'HS256'", K("reg"), None)

    # the keys session tokens are verified with
    R.ok(c, "registry: add reg1", f"SELECT jwt_add_key({K('reg')}, 'HS256', 'reg1')")
    R.ok(c, "registry: add es1", f"SELECT jwt_add_key({K('ec_jwk')}, 'ES256', 'es1')")
    R.ok(c, "registry: add ret1", f"SELECT jwt_add_key({K('hs')}, 'HS256', 'ret1')")
    R.ok(c, "registry: retire ret1", "SELECT jwt_retire_key('ret1')")
    add("registry: a kid twice", K("reg"), "'HS256'", "already holds a key", "23505", ", 'reg1'")
    R.expect(c, "registry: UPDATE to an empty kid", "UPDATE jwt_keys SET kid = '' WHERE kid = 'reg1'",
             None, "22023", "invalid registry key")
    R.expect(c, "registry: UPDATE valid_until before valid_from",
             "UPDATE jwt_keys SET valid_until = valid_from - interval '1 day' WHERE kid = 'es1'",
             None, "22023", "invalid registry key")
    R.expect(c, "registry: UPDATE to a key for another algorithm",
             "UPDATE jwt_keys SET algorithm = 'ES384' WHERE kid = 'es1'", None, "22023",
             "cannot be used")
    R.expect(c, "registry: UPDATE to a corrupt key",
             f"UPDATE jwt_keys SET key = {K('ec_jwk_mismatch')} WHERE kid = 'es1'", None, "22023",
             None)

    session("session: bad signature", flip(stok(good)), "signature")
    session("session: unknown kid", stok(good, kid="nope"), "kid")
    session("session: retired key", stok(good, kid="ret1", secret=m.texts["hs"].encode()),
            "retired")
    session("session: expired", stok({"sub": "a", "exp": now - 60}), "expired")
    session("session: expired, jwt_claim", stok({"sub": "a", "exp": now - 60}), "expired",
            fn="jwt_claim('sub')")
    session("session: no exp (required)", stok({"sub": "a"}), "required claim")
    session("session: malformed", "not-a-token", "three")
    session("session: alg none", hs_token(reg, {"alg": "none", "kid": "reg1"}, good), "none")
    R.ok(c, "session: jti revoked", "SELECT jwt_revoke('j-1', NULL)")
    session("session: revoked jti", stok(dict(good, jti="j-1")), "revoked")
    R.ok(c, "session: max_age", "SET jwt.max_age = 60")
    session("session: older than max_age", stok(dict(good, iat=now - 3600)), "maximum age")
    R.ok(c, "session: max_age reset", "RESET jwt.max_age")
    R.ok(c, "session: audience", "SET jwt.audience = 'api'")
    session("session: wrong audience", stok(dict(good, aud="other")), "audience")
    R.ok(c, "session: audience reset", "RESET jwt.audience")
    R.ok(c, "session: issuer", "SET jwt.issuer = 'https://a.example/'")
    session("session: wrong issuer", stok(dict(good, iss="https://b.example/")), "issuer")
    R.ok(c, "session: issuer reset", "RESET jwt.issuer")
    R.ok(c, "session: algorithms", "SET jwt.algorithms = 'ES256'")
    session("session: algorithm not allowed", stok(good), "not among the allowed")
    R.ok(c, "session: algorithms reset", "RESET jwt.algorithms")
    R.expect(c, "setting: jwt.algorithms with an unknown name",
             "SET jwt.algorithms = 'HS256, XX1'", None, "22023", "jwt.algorithms")
    R.expect(c, "setting: jwt.required_claims with 65 claims",
             "SELECT set_config('jwt.required_claims', "
             "(SELECT string_agg('c' || g, ',') FROM generate_series(1, 65) g), false)",
             None, "22023", "jwt.required_claims")
    R.ok(c, "session: fallback", "SET jwt.fallback_request_claims = on")
    R.ok(c, "session: fallback claims", "SELECT set_config('request.jwt.claims', '[1]', false)")
    R.expect(c, "session: fallback claims not an object",
             "SELECT set_config('jwt.token', '', false), jwt_claims()", None, "28000",
             "not a JSON object")
    R.ok(c, "session: fallback reset", "RESET jwt.fallback_request_claims")
    R.ok(c, "session: token reset", "RESET jwt.token")

    # jwt_issue and revocation, whose errors come from inside SQL functions
    R.expect(c, "registry: jwt_issue with an unknown kid", "SELECT jwt_issue('{}', 'nope')",
             None, "22023", "no registry key can sign")
    R.expect(c, "registry: jwt_issue with a mistyped claim",
             "SELECT jwt_issue('{\"exp\":\"x\"}', 'reg1')", None, "22023", "wrong type")
    R.expect(c, "registry: jwt_issue with claims that are no object",
             "SELECT jwt_issue('[1]', 'es1')", None, "22023", "claims")
    R.expect(c, "registry: revoking a token without jti",
             "SELECT jwt_revoke_token(%s)", (stok(good),), "22023", "jti")
    R.expect(c, "registry: revoking a malformed token", "SELECT jwt_revoke_token('x')", None,
             "28000", None)

    # a registry row that no longer imports: a WARNING when the registry loads,
    # and left out of what jwt_jwks() publishes
    R.ok(c, "registry: bypass the trigger", "ALTER TABLE jwt_keys DISABLE TRIGGER jwt_keys_check")
    R.ok(c, "registry: a corrupt row",
         f"INSERT INTO jwt_keys (kid, key, algorithm) VALUES ('broken', {K('rsa_pem_corrupt')}, 'RS256')")
    R.ok(c, "registry: a truncated row",
         f"INSERT INTO jwt_keys (kid, key, algorithm) VALUES ('broken2', {K('ec_jwk_badjson')}, 'ES256')")
    R.ok(c, "registry: trigger back", "ALTER TABLE jwt_keys ENABLE TRIGGER jwt_keys_check")
    c2 = connect(dbname)
    try:
        before = len(R.notices)
        R.ok(c2, "registry: load with broken rows",
             "SELECT set_config('jwt.token', %s, false), jwt_claims()", (stok(good),))
        warned = [t for p, t in R.notices[before:] if "WARNING" in t and "is skipped" in t]
        T.check("error path registry: a row that no longer imports is skipped with a WARNING "
                "(twice)", len(warned) >= 2, f"{len(warned)} warnings")
        # jwt_jwks() publishes from the same loaded registry: the broken rows
        # are left out (their WARNING above), the others still published
        R.ok(c2, "registry: jwt_jwks() over broken rows publishes the others", "SELECT jwt_jwks()")
    finally:
        c2.close()
    R.ok(c, "registry: remove the broken rows", "DELETE FROM jwt_keys WHERE kid LIKE 'broken%'")


def explain_paths(R, c, m):
    hs = m.texts["hs"].encode()
    bad = flip(hs_token(hs, {"alg": "HS256"}, {"sub": "a", "exp": FAR_EXP}))
    R.explain(c, "jwt_verify, bad signature",
              f"SELECT jwt_verify('{bad}', k.val) FROM secret_keys k WHERE k.name = 'hs'",
              "28000", "invalid token")
    R.explain(c, "jwt_verify, truncated PEM",
              "SELECT jwt_verify('a.b.c', k.val) FROM secret_keys k WHERE k.name = 'rsa_pem_trunc'",
              "22023", "invalid key")
    R.explain(c, "jwt_sign, secret for RS256",
              "SELECT jwt_sign('{}', k.val, 'RS256') FROM secret_keys k WHERE k.name = 'hs'",
              "22023", "cannot be used")
    R.explain(c, "jwt_sign, key in a CTE and an InitPlan",
              "WITH k AS (SELECT val FROM secret_keys WHERE name = 'ec_jwk_enc') "
              "SELECT jwt_sign('{}', (SELECT val FROM k), 'ES256')", "22023", "may not be used")
    R.explain(c, "jwt_public_jwk, mismatched JWK",
              "SELECT jwt_public_jwk(k.val) FROM secret_keys k WHERE k.name = 'ec_jwk_mismatch'",
              "22023", None)
    R.explain(c, "jwt_verify, bytea key",
              f"SELECT jwt_verify('{bad}', k.bin) FROM secret_keys k WHERE k.name = 'bin'",
              "28000", "invalid token")
    R.explain(c, "jwt_add_key, empty kid",
              "SELECT jwt_add_key(k.val, 'HS256', '') FROM secret_keys k WHERE k.name = 'reg'",
              "22023", "invalid registry key")
    R.ok(c, "explain: prepare", "PREPARE secret_verify(text) AS "
         "SELECT jwt_verify($1, k.val) FROM secret_keys k WHERE k.name = 'hs'")
    R.explain(c, "prepared jwt_verify", f"EXECUTE secret_verify('{bad}')", "28000", "invalid token")
    R.ok(c, "explain: session token", "SELECT set_config('jwt.token', %s, false)", (bad,))
    R.explain(c, "jwt_claims, bad session token", "SELECT jwt_claims()", "28000", "invalid token")
    R.ok(c, "explain: session token reset", "RESET jwt.token")


# ---------------------------------------------------------------- the search

def pieces(text, hex_form):
    n = PIECE_HEX if hex_form else PIECE
    if len(text) <= n:
        return [text] if len(text) >= 8 else []
    out = [text[i:i + n] for i in range(0, len(text) - n + 1, STEP)]
    if (len(text) - n) % STEP:
        out.append(text[-n:])
    return out


def needles(secret, public):
    """form -> (set of pieces, hex_form), leaving out pieces found in public texts."""
    pub = "\n".join(public)
    pub_l = pub.lower()
    out = {}
    for form, (texts, hex_form) in secret.forms.items():
        ps = set()
        for t in texts:
            for p in pieces(t, hex_form):
                if p not in (pub_l if hex_form else pub):
                    ps.add(p)
        out[form] = (ps, hex_form)
    return out


def mask(line, ps, hex_form):
    """The line with every stretch covered by a piece of the secret masked."""
    hay = line.lower() if hex_form else line
    covered = [False] * len(hay)
    for p in ps:
        i = hay.find(p)
        while i >= 0:
            for j in range(i, i + len(p)):
                covered[j] = True
            i = hay.find(p, i + 1)
    out, i = [], 0
    while i < len(line):
        if covered[i]:
            while i < len(line) and covered[i]:
                i += 1
            out.append("«secret»")
        else:
            out.append(line[i])
            i += 1
    return "".join(out)[:300]


def found_in(items, ps, hex_form):
    """Where any piece occurs: "[path] line", the secret masked."""
    where = []
    for path, text in items:
        hay = text.lower() if hex_form else text
        hit = next((p for p in ps if p in hay), None)
        if hit is not None:
            line = next((ln for ln in text.splitlines()
                         if hit in (ln.lower() if hex_form else ln)), "")
            where.append(f"[{path}] {mask(line, ps, hex_form)}")
    return where


def search(source_name, items, secret, forms):
    """One check per form: no piece of it in any item of the source."""
    for form, (ps, hex_form) in forms.items():
        where = found_in(items, ps, hex_form)
        T.check(f"{secret.name}, {form}: not in {source_name} ({len(ps)} pieces)", not where,
                f"found {len(where)} time(s): " + " | ".join(where[:4]))


def control_paths(R, c, m):
    """Plant the control secret in every source, as the extension must never do."""
    R.ok(c, "control: notice",
         "DO $$ BEGIN RAISE NOTICE 'control % %', "
         "(SELECT val FROM secret_keys WHERE name = 'control'), "
         "upper(encode(convert_to((SELECT val FROM secret_keys WHERE name = 'control'), 'UTF8'), 'hex')); "
         "END $$")
    R.expect(c, "control: error",
             "DO $$ BEGIN RAISE EXCEPTION 'control' USING DETAIL = "
             "(SELECT val FROM secret_keys WHERE name = 'control'); END $$", None, "P0001", "control")
    rows = R.ok(c, "control: plan", "EXPLAIN (VERBOSE, COSTS OFF) SELECT %s::text || random()",
                (m.control_text,))
    if rows is not None:
        R.plans.append(("control: plan", "\n".join(r[0] for r in rows)))


# ---------------------------------------------------------------- main

def main():
    started = time.monotonic()
    try:
        admin = connect("postgres", debug=False)
    except psycopg2.Error as e:
        cannot_run(f"cannot connect to PostgreSQL ({str(e).strip()}); run under pg_virtualenv -v 15")
    if not q1(admin, "SELECT rolsuper FROM pg_roles WHERE rolname = current_user"):
        cannot_run("the suite needs a superuser connection (pg_virtualenv gives one)")
    log_path, log_offset = find_log(admin)
    if log_path is None:
        cannot_run("cannot find the server log (logging_collector off and no log file on "
                   "the backend's stderr); run on the server's machine")
    try:
        read_from(log_path, log_offset)
    except OSError as e:
        cannot_run(f"cannot read the server log {log_path} ({e}); run as root or the cluster's owner")
    note(f"server log {log_path}, from byte {log_offset}")

    m = Material()
    R = Run()
    saved = {k: q1(admin, "SELECT setting FROM pg_settings WHERE name = %s", (k,))
             for k, _ in LOG_SETTINGS}
    run(admin, f"DROP DATABASE IF EXISTS {DB} WITH (FORCE)")
    c = None
    try:
        for k, v in LOG_SETTINGS:
            run(admin, f"ALTER SYSTEM SET {k} = '{v}'")
        run(admin, "SELECT pg_reload_conf()")
        for _ in range(100):        # the reload reaches new backends once the postmaster has it
            probe = connect("postgres", debug=False)
            level = q1(probe, "SHOW log_min_messages")
            probe.close()
            if level == "debug5":
                break
            time.sleep(0.05)
        T.check("log_min_messages is debug5 for the suite", level == "debug5", level)
        run(admin, f"CREATE DATABASE {DB}")
        c = connect(DB)
        T.check("the suite's connection has client_min_messages = debug5",
                q1(c, "SHOW client_min_messages") == "debug5")
        # auto_explain on the suite's connection: the plans of the statements the
        # extension runs itself (its registry writes) reach the log, verbose
        R.ok(c, "setup", "LOAD 'auto_explain'")
        for k, v in (("log_min_duration", "0"), ("log_nested_statements", "on"),
                     ("log_verbose", "on")):
            R.ok(c, "setup", f"SET auto_explain.{k} = {v}")
        R.ok(c, "setup", "CREATE EXTENSION jwt")
        R.ok(c, "setup", "CREATE TABLE secret_keys (name text PRIMARY KEY, val text, bin bytea)")
        R.ok(c, "setup", "REVOKE ALL ON secret_keys FROM PUBLIC")
        # COPY: the key texts travel as COPY data, which no log setting writes out
        buf = io.StringIO()
        w = csv.writer(buf)
        for name, val in m.texts.items():
            if isinstance(val, bytes):
                w.writerow([name, "", "\\x" + val.hex()])
            else:
                w.writerow([name, val, ""])
        buf.seek(0)
        with c.cursor() as cur:
            cur.copy_expert("COPY secret_keys (name, val, bin) FROM STDIN WITH (FORMAT csv)", buf)
        R.collect_notices(c, "copy")
        R.ok(c, "setup", "UPDATE secret_keys SET val = NULL WHERE val = ''")
        R.ok(c, "setup", "UPDATE secret_keys SET bin = NULL WHERE name <> 'bin'")
        R.ok(c, "setup", "INSERT INTO secret_keys SELECT 'gen_es384', jwt_generate_key('ES384')::text")
        # the server-made key is read back (a result, never a message) to know what to look for
        m.add_generated(q1(c, "SELECT val FROM secret_keys WHERE name = 'gen_es384'"))
        R.expect(c, "call: server-made ES384 key for ES256",
                 f"SELECT jwt_sign('{{}}', {K('gen_es384')}, 'ES256')", None, "22023",
                 "cannot be used")
        R.expect(c, "call: server-made ES384 key, bad signature",
                 f"SELECT jws_verify(%s, {K('gen_es384')})",
                 (b64u(b'{"alg":"ES384"}') + "." + b64u(b"x") + "." + b64u(bytes(96)),), "28000",
                 "signature")
        # a valid call of each kind, so that successful paths log their DEBUG lines too
        R.ok(c, "valid calls", f"""SELECT jwt_verify(jwt_sign('{{"sub":"a"}}', {K('rsa_pem')}, 'PS256'),
                                                     {K('rsa_pub')}),
                                          jwt_verify(jwt_sign('{{"sub":"a"}}', {K('ed_jwk')}, 'EdDSA'),
                                                     jwt_public_jwk({K('ed_pem')})::text),
                                          jwt_public_jwk({K('rsa_pem1')}), jwt_public_jwk({K('ec_sec1')}),
                                          jwt_jwk_thumbprint({K('rsa_jwk')}::jsonb)""")

        token_paths(R, c, m)
        call_paths(R, c, m)
        registry_paths(R, c, m, DB)
        explain_paths(R, c, m)
        control_paths(R, c, m)
    finally:
        if c is not None:
            R.collect_notices(c, "end")
            c.close()
        for k, _ in LOG_SETTINGS:
            run(admin, f"ALTER SYSTEM RESET {k}")
        run(admin, "SELECT pg_reload_conf()")
        run(admin, f"DROP DATABASE IF EXISTS {DB} WITH (FORCE)")
    # the last backend's exit lines: wait until every other backend of the
    # suite is gone, then for a line of our own written after them
    deadline = time.monotonic() + 10
    while q1(admin, "SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'client backend' "
                    "AND pid <> pg_backend_pid() AND usename = current_user "
                    "AND datname IN (%s, 'postgres')", (DB,)) > 0 and time.monotonic() < deadline:
        time.sleep(0.02)
    end_mark = f"jwt-secrets-end-{os.getpid()}"
    run(admin, f"DO $$ BEGIN RAISE LOG '{end_mark}'; END $$")
    log = read_from(log_path, log_offset)
    while end_mark not in log and time.monotonic() < deadline:
        time.sleep(0.02)
        log = read_from(log_path, log_offset)
    if end_mark not in log:
        note("the suite's end line did not reach the server log within 10 s")
    admin.close()

    # each source was really captured
    n_paths = sum(1 for _ in R.errors)
    T.check(f"errors captured ({n_paths})", n_paths >= 150, n_paths)
    T.check(f"notices captured, DEBUG ones among them ({len(R.notices)})",
            any(t.startswith("DEBUG") for _, t in R.notices), len(R.notices))
    T.check(f"plans captured ({len(R.plans)})", len(R.plans) >= 8, len(R.plans))
    T.check(f"the server log holds the run's DEBUG lines ({len(log)} bytes)",
            "DEBUG:" in log)
    logged_errors = log.count("ERROR:  ")
    T.check(f"the server log holds the run's errors ({logged_errors} ERROR lines)",
            logged_errors >= n_paths * 0.9 and "invalid token" in log and "invalid key" in log,
            f"{logged_errors} ERROR lines for {n_paths} errors")
    T.check("the server log holds the verbose LOCATION lines", "LOCATION:" in log)
    T.check("the server log holds auto_explain's verbose plan of jwt_add_key's own INSERT",
            re.search(r"Query Text: INSERT INTO \S*jwt_keys", log) is not None
            and "Output: " in log)

    sources = (("errors", R.errors), ("notices", R.notices),
               ("the server log", [("server log", log)]), ("EXPLAIN VERBOSE", R.plans))
    keep = os.environ.get("JWT_SECRETS_KEEP")
    if keep:                    # for a human: what each source held (secrets included)
        os.makedirs(keep, exist_ok=True)
        for source_name, items in sources:
            with open(os.path.join(keep, source_name.replace(" ", "_") + ".txt"), "w") as f:
                for path, text in items:
                    f.write(f"===== {path}\n{text}\n")
        note(f"sources written to {keep}")
    for secret in m.secrets:
        forms = needles(secret, m.public)
        for source_name, items in sources:
            search(source_name, items, secret, forms)
    # the control is found wherever it was planted: the search works on each source
    forms = needles(m.control, m.public)
    for source_name, items in sources:
        for form, (ps, hex_form) in forms.items():
            if hex_form and source_name in ("errors", "EXPLAIN VERBOSE"):
                continue            # planted in its hex form in the notice only
            T.check(f"control: the {form} planted in {source_name} is found",
                    bool(found_in(items, ps, hex_form)))

    note(f"{len(m.secrets)} secrets in {sum(len(s.forms) for s in m.secrets)} forms; "
         f"{len(R.errors)} errors, {len(R.notices)} notices, {len(R.plans)} plans, "
         f"{len(log)} bytes of server log; {time.monotonic() - started:.1f} s")
    saved_note = ", ".join(f"{k}={v}" for k, v in saved.items())
    note(f"log settings restored to the cluster's own ({saved_note})")
    T.finish()


if __name__ == "__main__":
    main()
