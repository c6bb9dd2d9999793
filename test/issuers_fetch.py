#!/usr/bin/python3
"""Identity providers' keys fetched over HTTPS: jwt_add_issuer, jwt_refresh_issuers,
jwt_drop_issuer, the status view and the background worker, against a real server.

Run inside a throwaway cluster (the PG* environment of pg_virtualenv or
tmp/pgenv/pgx, whose user is a superuser), as root or as the postgres user,
with PG_CONFIG (or pg_config on PATH) naming the PostgreSQL where jwt is
installed:

    pg_virtualenv -t -v 15 /usr/bin/python3 test/issuers_fetch.py

The test makes its own certificate authority with openssl (and a second
one no setting trusts), and runs identity providers on 127.0.0.1: Python's
http.server with ssl, serving discovery documents and key sets whose
answers each check sets (a status, a body, headers, a delay, a redirect).
Keys are made by the extension (jwt_generate_key) and, for a weak RSA key,
by python3-cryptography.

  1. in the cluster it runs in (no background worker there):
     - discovery: OpenID Connect's /.well-known/openid-configuration, then
       RFC 8414's /.well-known/oauth-authorization-server inserted between
       host and path; a registered jwks_uri; the keys taken, and a token of
       each verified through the session path (SET jwt.token, jwt_claim)
       while one naming the issuer signed by another key is refused;
     - the ETag: a refresh sends If-None-Match, a 304 is "not modified"
       and writes no jwt_issuers row (its xmin stays); an unchanged set
       writes none either; Cache-Control max-age within the bounds;
     - rotation by jwt_refresh_issuers(): a new key, then the old one gone
       (its token, set in an open session, refused from the next statement);
     - every failure: provider down, slow (timeout), 500, malformed JSON,
       an oversized body (with and without Content-Length), a redirect to
       another host (and one within the origin, followed), a shared secret
       and a private key in the set, an empty set, a wrong issuer in
       discovery, a certificate from an unknown CA: each leaves the last
       good keys as they were (their tokens still verify through the
       session path), the status view says what happened, the call
       returns (a WARNING), and a concurrent session is never kept waiting
       (a slow fetch holds no row lock); a weak key inside a good set is
       left out and counted;
     - the URL policy: a role that is not a superuser cannot register an
       issuer (42501), except under jwt.issuer_url_prefixes, where a prefix
       is an origin and a path ending at a segment boundary
       (https://h/allowed covers neither https://h/allowedx nor
       https://h@evil/); a discovered jwks_uri and a redirect outside the
       prefixes are refused; in a database whose extension a database owner
       (not a superuser) installed, a URL the owner writes into jwt_issuers
       is refused even when a superuser calls jwt_refresh_issuers();
     - a cancel and statement_timeout stop jwt_refresh_issuers() within 2 s;
     - the calls' own errors: NULLs, empty values, an array literal given
       as one audience, HMAC or unknown algorithms, a spelling registered
       twice, an unknown issuer;
     - two issuers publishing the same kid: each token verifies with its
       own issuer's fetched key only, and a registry key with that kid
       verifies no token naming either;
     - tokens shaped as Auth0's (scope, permissions, aud an array),
       Keycloak's (a realm, azp, realm roles, an encryption key in the
       set), Google's (the accounts.google.com alias, no scope, hd),
       Entra's (scp, the v1 sts.windows.net alias) and Supabase's
       (authenticated, ES256; the anon key on the registry path, HS256),
       signed by the provider's issuers, through row-level security
       policies on jwt_claim and jwt_has_scope read by an ordinary role;
  2. in a cluster of its own with shared_preload_libraries = 'jwt' (initdb
     and pg_ctl of PG_CONFIG's bindir, on a Unix socket in a private
     directory): the status view says a worker runs (and, in 1, that none
     does); rotation (a key published, then the old one removed) reaches
     jwt_issuers with no SQL call, in two databases; jwt_wake_issuer()
     fetches an issuer now, and a second wake within 30 s is dropped; the
     rotation seen by sessions open in both databases (the new key's token
     verifies once fetched, the removed key's is refused from the next
     statement); a kid miss: a token with a kid the stored set lacks is
     refused now ("being refreshed"), wakes the worker through the session
     path and is accepted by a later statement, and a second miss within
     30 s fetches nothing; a
     fetch stalled at the provider keeps neither DROP DATABASE nor CREATE
     DATABASE ... TEMPLATE waiting; the keys survive a restart, and the
     worker runs again after it; on a streaming hot standby no worker runs,
     jwt_refresh_issuers() is refused, and the primary's fetches arrive by
     replication;
  3. a single-user backend under valgrind reaches every outcome (one fetch
     cancelled by statement_timeout): nothing of jwt_fetch.so, libcurl or
     OpenSSL is definitely lost, and no invalid access is made in them.

What a fetch stored is read from jwt_issuers.jwks (as a superuser may),
and what it means is checked through the session path: Issuer.token()
signs a token with one of an issuer's keys (or another key), and Session
verifies it in a session of its own, open across the checks.  Every wait
is a poll of the condition with a deadline.  Ends with
"issuers-fetch: N passed, N failed".
"""

import json
import os
import pwd
import re
import shutil
import socket
import ssl
import subprocess
import sys
import tempfile
import threading
import time
import traceback
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))   # test/, for suite.py
import suite                                                     # noqa: E402

T = suite.Suite("issuers-fetch", reexec_guard="JWT_ISSUERS_FETCH_REEXEC")

try:
    import psycopg2
    from cryptography.hazmat.primitives.asymmetric import rsa
except ImportError as e:
    T.reexec_or_cannot_run(e, "Debian's python3-psycopg2 and python3-cryptography")

DEADLINE = 30.0         # seconds any awaited condition may take
WALL = 2.0              # seconds a cancelled refresh may take to end
b64u = suite.b64u


# the roles it makes log in with a password: pg_virtualenv asks for one over TCP
ROLE_PW = "jwt-issuers-test-pw"

def pg_config(flag):
    r = subprocess.run([os.environ.get("PG_CONFIG", "pg_config"), flag],
                       capture_output=True, text=True, timeout=10)
    if r.returncode != 0:
        T.cannot_run(f"pg_config {flag} failed: {r.stderr.strip()}")
    return r.stdout.strip()


BIN = pg_config("--bindir")


def owner_ids():
    """The uid and gid the private cluster runs as: postgres when root, else ourselves."""
    if os.geteuid() == 0:
        try:
            pw = pwd.getpwnam("postgres")
        except KeyError:
            T.cannot_run("run as root needs a postgres user to own the cluster")
        return pw.pw_uid, pw.pw_gid
    return os.geteuid(), os.getegid()


UID, GID = owner_ids()


# ------------------------------------------------------------------ SQL helpers

def q1(conn, sql, args=None):
    with conn.cursor() as cur:
        cur.execute(sql, args)
        row = cur.fetchone() if cur.description else None
    return row[0] if row is not None else None


def qall(conn, sql, args=None):
    with conn.cursor() as cur:
        cur.execute(sql, args)
        return cur.fetchall() if cur.description else []


def run(conn, sql, args=None):
    with conn.cursor() as cur:
        cur.execute(sql, args)


def outcome_of(conn, sql, args=None):
    """(value, SQLSTATE, message, notices) of one statement."""
    del conn.notices[:]
    try:
        v = q1(conn, sql, args)
        return v, None, "", list(conn.notices)
    except psycopg2.Error as e:
        return None, e.pgcode, e.diag.message_primary or "", list(conn.notices)


def wait_for(probe, want, deadline=DEADLINE):
    """Poll probe() until want(its answer), or the deadline; the last answer."""
    end = time.monotonic() + deadline
    while True:
        got = probe()
        if want(got) or time.monotonic() > end:
            return got
        time.sleep(0.05)        # between two polls of the condition


def kids(conn, issuer):
    """The kids of the issuer's stored key set, sorted; None when it has none."""
    v = q1(conn, "SELECT jwks FROM jwt_issuers WHERE issuer = %s", (issuer,))
    if v is None:
        return None
    return sorted(k.get("kid", "") for k in v["keys"])


def status(conn, issuer):
    rows = qall(conn, "SELECT row_to_json(s) FROM jwt_issuers_status s WHERE issuer = %s", (issuer,))
    return rows[0][0] if rows else None


# ------------------------------------------------------------------ the session path

NO_KID = 'No key of the token\'s issuer has the token\'s "kid".'
NO_KID_REFRESHING = ('No key of the token\'s issuer has the token\'s "kid"; '
                     'the issuer\'s key set is being refreshed.')
NO_KEYS = "The token's issuer has no key: no usable key set is stored for it."
BAD_SIGNATURE = "The signature does not verify."
BAD_AUDIENCE = "The token's audience (aud) does not include the expected audience."


class Session:
    """A session of its own, open across the checks, whose tokens go through
    the session path: SET jwt.token (set_config), then jwt_claim()."""

    def __init__(self, conn):
        self.conn = conn

    def set(self, token):
        run(self.conn, "SELECT set_config('jwt.token', %s, false)", (token,))

    def claim(self, name="sub"):
        """jwt_claim(name) of the token set, or ('error', SQLSTATE, detail)."""
        try:
            return q1(self.conn, "SELECT jwt_claim(%s)", (name,))
        except psycopg2.Error as e:
            return ("error", e.pgcode, e.diag.message_detail or "")

    def verify(self, token, name="sub"):
        self.set(token)
        return self.claim(name)

    def hint(self, token):
        """The hint of the error jwt_claim() raises for the token (None: none, or no error)."""
        self.set(token)
        try:
            q1(self.conn, "SELECT jwt_claim('sub')")
            return None
        except psycopg2.Error as e:
            return e.diag.message_hint


def refused(detail):
    return ("error", "28000", detail)


# ------------------------------------------------------------------ certificates

class Pki:
    """A CA the test trusts, a server certificate for 127.0.0.1 and localhost
    signed by it, and a second CA no setting trusts, with its own server
    certificate."""

    def __init__(self, folder):
        self.dir = folder
        self.ca = self.make_ca("trusted")
        self.cert, self.key = self.make_server("trusted")
        self.rogue_ca = self.make_ca("rogue")
        self.rogue_cert, self.rogue_key = self.make_server("rogue")
        for name in os.listdir(folder):
            os.chmod(os.path.join(folder, name), 0o644)

    def openssl(self, *args):
        r = subprocess.run(["openssl", *args], capture_output=True, text=True, cwd=self.dir, timeout=60)
        if r.returncode != 0:
            raise RuntimeError(f"openssl {' '.join(args[:2])}: {r.stderr.strip()[-300:]}")

    def make_ca(self, name):
        self.openssl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                     "-keyout", f"{name}-ca.key", "-out", f"{name}-ca.pem", "-days", "2",
                     "-subj", f"/CN=jwt issuers-fetch test CA {name}",
                     "-addext", "basicConstraints=critical,CA:TRUE",
                     "-addext", "keyUsage=critical,keyCertSign,cRLSign")
        return os.path.join(self.dir, f"{name}-ca.pem")

    def make_server(self, name):
        with open(os.path.join(self.dir, f"{name}.ext"), "w") as f:
            f.write("subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n"
                    "basicConstraints=CA:FALSE\n")
        self.openssl("req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                     "-keyout", f"{name}.key", "-out", f"{name}.csr", "-subj", "/CN=127.0.0.1")
        self.openssl("x509", "-req", "-in", f"{name}.csr", "-CA", f"{name}-ca.pem", "-CAkey", f"{name}-ca.key",
                     "-CAcreateserial", "-out", f"{name}.pem", "-days", "2", "-extfile", f"{name}.ext")
        return os.path.join(self.dir, f"{name}.pem"), os.path.join(self.dir, f"{name}.key")


# ------------------------------------------------------------------ the provider

class Route:
    """What one path answers: status, body, headers, and optionally a delay
    (released early by release()), a redirect, no Content-Length."""

    def __init__(self, body=b"", status=200, headers=None, etag=None, delay=0.0, chunked=False):
        self.body = body if isinstance(body, bytes) else json.dumps(body).encode()
        self.status = status
        self.headers = dict(headers or {})
        self.etag = etag
        self.delay = delay
        self.chunked = chunked
        self.hold = threading.Event()
        self.started = threading.Event()
        self.finished = threading.Event()

    def release(self):
        self.hold.set()


class Provider:
    """An HTTPS identity provider on 127.0.0.1: routes by path, a log of requests."""

    def __init__(self, cert, key):
        provider = self
        self.routes = {}
        self.log = []           # (path, If-None-Match)
        self.injected = []      # requests with an X-Injected header
        self.lock = threading.Lock()

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def do_GET(self):
                with provider.lock:
                    provider.log.append((self.path, self.headers.get("If-None-Match")))
                    if self.headers.get("X-Injected") is not None:
                        provider.injected.append(self.path)
                    route = provider.routes.get(self.path)
                if route is None:
                    self.send_response(404)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                route.started.set()
                try:
                    if route.delay:
                        route.hold.wait(route.delay)
                    if route.etag is not None and self.headers.get("If-None-Match") == route.etag:
                        self.send_response(304)
                        self.send_header("ETag", route.etag)
                        for k, v in route.headers.items():
                            self.send_header(k, v)
                        self.send_header("Content-Length", "0")
                        self.end_headers()
                        return
                    self.send_response(route.status)
                    self.send_header("Content-Type", "application/json")
                    if route.etag is not None:
                        self.send_header("ETag", route.etag)
                    for k, v in route.headers.items():
                        self.send_header(k, v)
                    if route.chunked:
                        self.send_header("Transfer-Encoding", "chunked")
                        self.end_headers()
                        for i in range(0, len(route.body), 1000):
                            part = route.body[i:i + 1000]
                            self.wfile.write(f"{len(part):x}\r\n".encode() + part + b"\r\n")
                        self.wfile.write(b"0\r\n\r\n")
                    else:
                        self.send_header("Content-Length", str(len(route.body)))
                        self.end_headers()
                        self.wfile.write(route.body)
                except (BrokenPipeError, ConnectionResetError, ssl.SSLError, OSError):
                    pass            # the client gave up: what a timeout looks like from here
                finally:
                    route.finished.set()

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(cert, key)
        self.server.socket = ctx.wrap_socket(self.server.socket, server_side=True)
        self.port = self.server.server_address[1]
        self.base = f"https://127.0.0.1:{self.port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def route(self, path, *args, **kw):
        r = Route(*args, **kw)
        with self.lock:
            self.routes[path] = r
        return r

    def requests(self, path):
        with self.lock:
            return [h for p, h in self.log if p == path]

    def stop(self):
        with self.lock:
            for r in self.routes.values():
                r.release()
        self.server.shutdown()
        self.server.server_close()


class Issuer:
    """An issuer at a provider: its URL, its discovery document, its keys (made
    by the extension), its JWKS route."""

    def __init__(self, conn, provider, path, algs=("ES256", "RS256"), discovery=True,
                 doc_issuer=None, max_age=None, etag="v1"):
        self.conn = conn
        self.provider = provider
        self.url = provider.base + path
        self.jwks_path = path.rstrip("/") + "/jwks"
        self.jwks_uri = provider.base + self.jwks_path
        self.private = [self.new_key(a) for a in algs]
        self.max_age = max_age
        self.etag = etag
        self.serial = 0
        if discovery:
            provider.route(path.rstrip("/") + "/.well-known/openid-configuration",
                           {"issuer": doc_issuer or self.url, "jwks_uri": self.jwks_uri,
                            "id_token_signing_alg_values_supported": list(algs)})
        self.publish()

    def new_key(self, alg):
        return json.loads(q1(self.conn, "SELECT jwt_generate_key(%s)::text", (alg,)))

    def public(self, jwk):
        return json.loads(q1(self.conn, "SELECT jwt_public_jwk(%s::jsonb)::text", (json.dumps(jwk),)))

    def kids(self):
        return sorted(k["kid"] for k in self.private)

    def document(self, extra=()):
        return {"keys": [self.public(k) for k in self.private] + list(extra)}

    def publish(self, body=None, **kw):
        """Serve the current keys (or body) at the JWKS path, a new ETag each time."""
        self.serial += 1
        headers = kw.pop("headers", {})
        if self.max_age is not None:
            headers.setdefault("Cache-Control", f"public, max-age={self.max_age}")
        etag = kw.pop("etag", f'"{self.etag}-{self.serial}"')
        return self.provider.route(self.jwks_path, self.document() if body is None else body,
                                   headers=headers, etag=etag, **kw)

    def rotate_in(self, alg="ES256"):
        self.private.append(self.new_key(alg))
        self.publish()

    def rotate_out(self):
        self.private.pop(0)
        self.publish()

    def token(self, claims, index=-1, key=None):
        """A token naming the issuer, signed with one of its keys (kid in the
        header), or with another key given."""
        key = key or self.private[index]
        full = {"iss": self.url, "exp": int(time.time()) + 600, **claims}
        return q1(self.conn, "SELECT jwt_sign(%s::jsonb, %s::jsonb, %s)",
                  (json.dumps(full), json.dumps(key), key["alg"]))


def weak_rsa_jwk(kid):
    """An RSA-1024 public JWK: a key the core refuses (under 2048 bits)."""
    n = rsa.generate_private_key(public_exponent=65537, key_size=1024).public_key().public_numbers()

    def b(i):
        return b64u(i.to_bytes((i.bit_length() + 7) // 8, "big"))
    return {"kty": "RSA", "kid": kid, "alg": "RS256", "use": "sig", "n": b(n.n), "e": b(n.e)}


def rsa16384_jwk(kid):
    """The public JWK of test/timeouts-rsa16384.TEST-ONLY.pem: a key over the 8192 bits a fetched key may have."""
    from cryptography.hazmat.primitives import serialization
    with open(os.path.join(os.path.dirname(os.path.abspath(__file__)), "timeouts-rsa16384.TEST-ONLY.pem"), "rb") as f:
        n = serialization.load_pem_private_key(f.read(), password=None).public_key().public_numbers()

    def b(i):
        return b64u(i.to_bytes((i.bit_length() + 7) // 8, "big"))
    return {"kty": "RSA", "kid": kid, "alg": "RS256", "use": "sig", "n": b(n.n), "e": b(n.e)}


def closed_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


# ------------------------------------------------------------------ 1. in this cluster

def settings(conn, pki, **extra):
    run(conn, "SET jwt.issuer_ca_file = %s", (pki.ca,))
    run(conn, "SET jwt.issuer_timeout = '5s'")
    run(conn, "SET client_min_messages = warning")
    for k, v in extra.items():
        run(conn, f"SET jwt.{k} = %s", (v,))


def check_keys_stay(name, conn, iss, before_kids, before_xmin):
    T.check(f"{name}: the last good keys stay", kids(conn, iss.url) == before_kids,
            f"{kids(conn, iss.url)} vs {before_kids}")
    T.check(f"{name}: jwt_issuers is not written",
            q1(conn, "SELECT xmin::text FROM jwt_issuers WHERE issuer = %s", (iss.url,)) == before_xmin)


def still_verify(name, sess, iss, stored):
    """Each of the last good keys still verifies a token through the session path."""
    got = {k["kid"]: sess.verify(iss.token({"sub": f"user-{k['kid']}", "aud": "api"}, key=k))
           for k in iss.private if k["kid"] in (stored or [])}
    T.check(f"{name}: a token of each of the last good keys still verifies through the session path",
            len(got) == len(stored or [None]) and all(v == f"user-{kid}" for kid, v in got.items()), got)


def failure_case(conn, sess, iss, name, arrange, want_outcome, want_status=None, detail_has=None, restore=None):
    """Arrange a failure at the provider, refresh, and check what stays and what the view says."""
    before_kids = kids(conn, iss.url)
    before_xmin = q1(conn, "SELECT xmin::text FROM jwt_issuers WHERE issuer = %s", (iss.url,))
    before_failures = (status(conn, iss.url) or {}).get("failures", 0)
    arrange()
    v, state, msg, notices = outcome_of(conn, "SELECT jwt_refresh_issuers(%s)", (iss.url,))
    T.check(f"{name}: jwt_refresh_issuers returns (no error)", state is None and v == 1, f"{state} {msg}")
    T.check(f"{name}: a WARNING names the outcome",
            any(f": {want_outcome}" in n for n in notices), notices)
    st = status(conn, iss.url) or {}
    T.check(f"{name}: the status view says {want_outcome!r}", st.get("last_outcome") == want_outcome, st)
    if want_status is not None:
        T.check(f"{name}: the status view has HTTP status {want_status}", st.get("http_status") == want_status, st)
    if detail_has is not None:
        T.check(f"{name}: the detail says {detail_has!r}", detail_has in (st.get("detail") or ""), st.get("detail"))
    T.check(f"{name}: failures counted", st.get("failures") == before_failures + 1, st)
    T.check(f"{name}: the next fetch is scheduled", st.get("next_fetch_at") is not None, st)
    check_keys_stay(name, conn, iss, before_kids, before_xmin)
    still_verify(name, sess, iss, before_kids)
    if restore:
        restore()
    else:
        iss.publish()
    v, state, msg, _ = outcome_of(conn, "SELECT jwt_refresh_issuers(%s)", (iss.url,))
    T.check(f"{name}: once repaired, the next fetch succeeds and failures reset",
            state is None and (status(conn, iss.url) or {}).get("failures") == 0, f"{state} {msg}")


def hostile(conn, sess, pki, prov):
    """What a provider sends that must not get into the tables, and two
    fetches of one issuer that overlap."""
    settings(conn, pki)
    iss = Issuer(conn, prov, "/hostile/")
    T.check("setup: a discovered issuer is registered", q1(conn, "SELECT jwt_add_issuer(%s, 'api')", (iss.url,)) == 2)
    doc_path = "/hostile/.well-known/openid-configuration"

    def discovery(jwks_uri=None, issuer=None):
        return lambda: prov.route(doc_path, {"issuer": issuer or iss.url, "jwks_uri": jwks_uri or iss.jwks_uri})

    def discovered():
        return q1(conn, "SELECT discovered_jwks_uri FROM jwt_issuer_fetches WHERE issuer = %s", (iss.url,))

    # a jwks_uri of 300 kB: neither fetched nor kept (the worker's plan of the
    # next fetch would have carried it, and no plan holds it)
    failure_case(conn, sess, iss, "a discovered jwks_uri of 300 kB", discovery(iss.jwks_uri + "/" + "a" * 300000),
                 "url refused", detail_has="longer than 2048 bytes", restore=discovery())
    T.check("a discovered jwks_uri refused is not kept: the last good one stays",
            discovered() == iss.jwks_uri, (discovered() or "")[:80])
    failure_case(conn, sess, iss, "a discovered jwks_uri with a byte that is not ASCII",
                 discovery(iss.jwks_uri + "/cl\u00e9"), "url refused", detail_has="not printable ASCII",
                 restore=discovery())
    T.check("... nor kept", discovered() == iss.jwks_uri, discovered())
    discovery(iss.jwks_uri + "/gone")()
    v, state, msg, _ = outcome_of(conn, "SELECT jwt_refresh_issuers(%s)", (iss.url,))
    T.check("a discovered jwks_uri that answers 404 is not kept (nor the ETag sent to it): the one a set "
            "came from stays", state is None and (status(conn, iss.url) or {}).get("http_status") == 404
            and discovered() == iss.jwks_uri, (state, msg, discovered()))
    discovery()()
    q1(conn, "SELECT jwt_refresh_issuers(%s)", (iss.url,))

    # a detail quoting the provider is printable ASCII: valid text in every
    # encoding (the cut at 200 bytes falls inside an "é"), read back by any client
    failure_case(conn, sess, iss, "a discovery document naming another issuer, in UTF-8",
                 discovery(issuer="x" * 151 + "\u00e9" * 30), "issuer mismatch", restore=discovery())
    prov.route(doc_path, {"issuer": "x" * 151 + "\u00e9" * 30, "jwks_uri": iss.jwks_uri})
    q1(conn, "SELECT jwt_refresh_issuers(%s)", (iss.url,))
    detail = q1(conn, "SELECT detail FROM jwt_issuers_status WHERE issuer = %s", (iss.url,))
    T.check("the detail of a mismatch shows the issuer named as printable ASCII, each other byte '?'",
            detail is not None and re.fullmatch(r"[ -~]*", detail) is not None and "x" * 151 + "?" * 49 + '"' in detail,
            detail)
    discovery()()
    q1(conn, "SELECT jwt_refresh_issuers(%s)", (iss.url,))

    # the tables bound a URL as url_parse does
    for table, column in (("jwt_issuers", "jwks_uri"), ("jwt_issuer_fetches", "discovered_jwks_uri")):
        v, state, msg, _ = outcome_of(conn, f"UPDATE {table} SET {column} = %s WHERE issuer = %s",
                                      ("https://x.example/" + "a" * 2100, iss.url))
        T.check(f"{table}.{column} takes no URL over 2048 bytes (23514)", state == "23514", f"{state} {msg}")

    # a failure count the owner wrote: not a negative shift
    run(conn, "UPDATE jwt_issuer_fetches SET failures = %s WHERE issuer = %s", (-5, iss.url))
    prov.route(iss.jwks_path, b"", status=500)
    v, state, msg, _ = outcome_of(conn, "SELECT jwt_refresh_issuers(%s)", (iss.url,))
    st = status(conn, iss.url) or {}
    T.check("a negative failure count in the table is taken as none: the next fetch after refresh_min",
            state is None and st.get("failures") == 1 and
            q1(conn, "SELECT next_fetch_at - last_fetch_at BETWEEN interval '299 s' AND interval '301 s' "
                     "FROM jwt_issuers_status WHERE issuer = %s", (iss.url,)) is True, (state, msg, st))
    iss.publish()
    q1(conn, "SELECT jwt_refresh_issuers(%s)", (iss.url,))

    # a next fetch further away than refresh_max (a clock set back since, or
    # the owner's edit) is due now: it cannot hold the keys as they are
    others = q1(conn, "SELECT count(*) FROM jwt_issuers WHERE issuer <> %s", (iss.url,))
    run(conn, "UPDATE jwt_issuer_fetches SET next_fetch_at = now() + interval '10 years'")
    run(conn, "UPDATE jwt_issuer_fetches SET next_fetch_at = now() + interval '59 minutes' WHERE issuer <> %s",
        (iss.url,))
    got = q1(conn, "SELECT jwt_refresh_issuers(only_due => true)")
    T.check("a next fetch 10 years away is due now (jwt_refresh_issuers(only_due => true)); one within "
            f"refresh_max is not ({others} others)", got == 1, got)

    # the settings the worker hands to its fetches are bounded, so that a plan
    # (256 kB) always holds them and an issuer
    v, state, msg, _ = outcome_of(conn, "SET jwt.issuer_url_prefixes = %s", ("https://x.example/" + "a" * 70000,))
    T.check("jwt.issuer_url_prefixes is at most 64 kB (22023)", state == "22023", f"{state} {msg}")
    v, state, msg, _ = outcome_of(conn, "SET jwt.issuer_url_prefixes = %s", ("https://x.example/" + "a" * 60000,))
    T.check("... and 60 kB of it is taken", state is None, f"{state} {msg}")
    run(conn, "RESET jwt.issuer_url_prefixes")
    v, state, msg, _ = outcome_of(conn, "SET jwt.issuer_ca_file = %s", ("/" + "a" * 1100,))
    T.check("jwt.issuer_ca_file is shorter than MAXPGPATH (22023)", state == "22023", f"{state} {msg}")
    settings(conn, pki)

    # two refreshes overlap: the one begun first ends last, with the set the
    # provider has since replaced; it must not put the removed key back
    before = iss.kids()
    slow = iss.publish(delay=30)
    other = T.connect()
    settings(other, pki)
    box = {}
    first = threading.Thread(target=lambda: box.update(r=outcome_of(other, "SELECT jwt_refresh_issuers(%s)", (iss.url,))))
    first.start()
    T.check("setup: the first refresh waits at the provider", slow.started.wait(DEADLINE))
    removed_key = iss.private[0]
    removed = removed_key["kid"]
    iss.rotate_in()
    iss.rotate_out()
    v, state, msg, _ = outcome_of(conn, "SELECT jwt_refresh_issuers(%s)", (iss.url,))
    T.check("setup: the second refresh stores the new set", state is None and kids(conn, iss.url) == iss.kids(),
            (state, msg, kids(conn, iss.url)))
    slow.release()
    first.join(DEADLINE)
    other.close()
    T.check("setup: the first refresh ends without an error", box.get("r", (None, "?"))[1] is None, box)
    T.check("the refresh begun first and ended last does not put back the set it fetched (a removed key)",
            kids(conn, iss.url) == iss.kids() and removed not in (kids(conn, iss.url) or []) and before != iss.kids(),
            (kids(conn, iss.url), iss.kids()))
    got = sess.verify(iss.token({"sub": "old", "aud": "api"}, key=removed_key))
    T.check("... and a token of the removed key is refused through the session path", got == refused(NO_KID), got)
    run(conn, "SELECT jwt_drop_issuer(%s)", (iss.url,))


def in_backend(conn, sess, pki, prov, rogue):
    settings(conn, pki)

    # -- the status view says no worker runs here
    T.check("without shared_preload_libraries no worker runs", q1(conn, "SELECT jwt_issuers_worker_running()") is False)
    T.check("without a worker, jwt_wake_issuer() says so", q1(conn, "SELECT jwt_wake_issuer('x')") is False)

    # -- discovery: OpenID Connect
    oidc = Issuer(conn, prov, "/realms/oidc/", max_age=1000)
    v, state, msg, notices = outcome_of(conn, "SELECT jwt_add_issuer(%s, 'api')", (oidc.url,))
    T.check("discovery (OIDC): jwt_add_issuer takes both keys", v == 2 and state is None, f"{v} {state} {msg} {notices}")
    T.check("discovery (OIDC): the document was read from <issuer without '/'>/.well-known/openid-configuration",
            len(prov.requests("/realms/oidc/.well-known/openid-configuration")) == 1)
    T.check("discovery (OIDC): jwt_issuers holds the keys, by kid", kids(conn, oidc.url) == oidc.kids(),
            kids(conn, oidc.url))
    st = status(conn, oidc.url) or {}
    T.check("discovery (OIDC): the status view shows the discovered jwks_uri, 2 keys, ok, the ETag",
            st.get("jwks_uri") == oidc.jwks_uri and st.get("discovered") is True and st.get("keys") == 2
            and st.get("last_outcome") == "ok" and st.get("etag") == '"v1-1"' and st.get("refused_keys") == 0, st)
    T.check("the stored keys are public JWKs (no \"d\")",
            q1(conn, "SELECT bool_and(NOT k ? 'd') FROM jwt_issuers, jsonb_array_elements(jwks -> 'keys') k "
                     "WHERE issuer = %s", (oidc.url,)) is True)
    T.check("an issuer a superuser registers (the extension a superuser's) is not url_prefixed",
            outcome_of(conn, "SELECT url_prefixed FROM jwt_issuers WHERE issuer = %s", (oidc.url,))[0] is False)
    T.check("audience given as text is stored as a one-element array",
            q1(conn, "SELECT audience FROM jwt_issuers WHERE issuer = %s", (oidc.url,)) == ["api"])
    # the session path: the fetched keys verify the issuer's tokens, and only they
    got = [sess.verify(oidc.token({"sub": "olivia", "aud": "api"}, index=i)) for i in (0, 1)]
    T.check("discovery: a token of each fetched key (ES256, RS256) verifies through the session path",
            got == ["olivia", "olivia"], got)
    T.check("... jwt_claims() has the issuer's iss", sess.claim("iss") == oidc.url, sess.claim("iss"))
    forged = oidc.new_key("ES256")
    forged["kid"] = oidc.private[0]["kid"]
    got = sess.verify(oidc.token({"sub": "mallory", "aud": "api"}, key=forged))
    T.check("discovery: a token naming the issuer, signed by another key with the issuer's kid, is refused",
            got == refused(BAD_SIGNATURE), got)
    got = sess.verify(oidc.token({"sub": "mallory", "aud": "api"}, key=oidc.new_key("ES256")))
    T.check("discovery: ... and signed by another key with a kid of its own: refused, the kid unknown",
            got == refused(NO_KID), got)
    got = sess.verify(oidc.token({"sub": "olivia", "aud": "other-api"}))
    T.check("discovery: the issuer's key, another audience: refused", got == refused(BAD_AUDIENCE), got)
    T.check("Cache-Control max-age=1000 within [300 s, 3600 s] sets the next fetch",
            q1(conn, "SELECT next_fetch_at - last_fetch_at BETWEEN interval '999 s' AND interval '1001 s' "
                     "FROM jwt_issuers_status WHERE issuer = %s", (oidc.url,)) is True)

    # -- ETag: If-None-Match, 304, nothing written
    xmin = q1(conn, "SELECT xmin::text FROM jwt_issuers WHERE issuer = %s", (oidc.url,))
    fetched_at = q1(conn, "SELECT jwks_fetched_at FROM jwt_issuers WHERE issuer = %s", (oidc.url,))
    T.check("a refresh fetches one issuer", q1(conn, "SELECT jwt_refresh_issuers(%s)", (oidc.url,)) == 1)
    T.check("the refresh sent If-None-Match with the stored ETag",
            prov.requests(oidc.jwks_path)[-1] == '"v1-1"', prov.requests(oidc.jwks_path))
    st = status(conn, oidc.url) or {}
    T.check("a 304 is 'not modified'", st.get("last_outcome") == "not modified" and st.get("http_status") == 304, st)
    T.check("'not modified' writes no jwt_issuers row (no invalidation)",
            q1(conn, "SELECT xmin::text FROM jwt_issuers WHERE issuer = %s", (oidc.url,)) == xmin)
    T.check("'not modified' keeps the ETag", st.get("etag") == '"v1-1"', st)
    oidc.publish(etag=None)           # the same keys, no ETag: a full 200
    q1(conn, "SELECT jwt_refresh_issuers(%s)", (oidc.url,))
    st = status(conn, oidc.url) or {}
    T.check("an unchanged set (200) is 'ok' and writes no jwt_issuers row",
            st.get("last_outcome") == "ok" and
            q1(conn, "SELECT xmin::text FROM jwt_issuers WHERE issuer = %s", (oidc.url,)) == xmin
            and q1(conn, "SELECT jwks_fetched_at FROM jwt_issuers WHERE issuer = %s", (oidc.url,)) == fetched_at, st)
    T.check("without an ETag in the response, none is kept", st.get("etag") is None, st)
    q1(conn, "SELECT jwt_refresh_issuers(%s)", (oidc.url,))
    T.check("without a stored ETag, no If-None-Match is sent", prov.requests(oidc.jwks_path)[-1] is None)
    # the owner writes jwt_issuer_fetches: an ETag with CR LF would add header lines to the request
    oidc.publish()
    q1(conn, "SELECT jwt_refresh_issuers(%s)", (oidc.url,))
    v, state, msg, _ = outcome_of(conn, "UPDATE jwt_issuer_fetches SET etag = %s WHERE issuer = %s",
                                  ('"x"\r\nX-Injected: 1', oidc.url))
    T.check("an ETag that is not one (CR LF in it) cannot be stored (23514)", state == "23514", f"{state} {msg}")
    run(conn, "BEGIN")
    try:
        run(conn, "ALTER TABLE jwt_issuer_fetches DROP CONSTRAINT IF EXISTS jwt_issuer_fetches_etag_check")
        run(conn, "UPDATE jwt_issuer_fetches SET etag = %s WHERE issuer = %s", ('"x"\r\nX-Injected: 1', oidc.url))
        q1(conn, "SELECT jwt_refresh_issuers(%s)", (oidc.url,))
    finally:
        run(conn, "ROLLBACK")
    T.check("... and one stored anyway (the constraint dropped) is not sent: no If-None-Match, no header added",
            prov.requests(oidc.jwks_path)[-1] is None and not prov.injected, (prov.requests(oidc.jwks_path)[-1:], prov.injected))

    # -- rotation by jwt_refresh_issuers()
    removed = oidc.private[0]["kid"]
    old_token = oidc.token({"sub": "old-key", "aud": "api"}, index=0)
    oidc.rotate_in()
    new_token = oidc.token({"sub": "new-key", "aud": "api"})
    T.check("rotation: a token of a key published but not fetched yet is refused, the kid unknown",
            sess.verify(new_token) == refused(NO_KID), sess.claim())
    q1(conn, "SELECT jwt_refresh_issuers(%s)", (oidc.url,))
    T.check("rotation: once fetched, the new key's token verifies through the session path",
            sess.verify(new_token) == "new-key", sess.claim())
    T.check("rotation: a key published is taken at the next fetch", kids(conn, oidc.url) == oidc.kids()
            and len(oidc.kids()) == 3, kids(conn, oidc.url))
    T.check("rotation: a changed set writes jwt_issuers (and its jwks_fetched_at)",
            q1(conn, "SELECT jwks_fetched_at > %s FROM jwt_issuers WHERE issuer = %s", (fetched_at, oidc.url)) is True)
    sess.set(old_token)
    after_removal = (sess.claim(),)
    oidc.rotate_out()
    q1(conn, "SELECT jwt_refresh_issuers(%s)", (oidc.url,))
    after_removal += (sess.claim(),)
    T.check("rotation: a key removed by the provider is gone at the next fetch",
            kids(conn, oidc.url) == oidc.kids() and removed not in (kids(conn, oidc.url) or [])
            and len(oidc.kids()) == 2, kids(conn, oidc.url))
    T.check("rotation: in the already-open session, the removed key's token (set before the fetch) is "
            "refused from the next statement", after_removal == ("old-key", refused(NO_KID)), after_removal)
    T.check("rotation: ... and the new key's token still verifies", sess.verify(new_token) == "new-key",
            sess.claim())

    # -- discovery: RFC 8414 after a 404
    r8414 = Issuer(conn, prov, "/tenants/t2", discovery=False, max_age=5)
    prov.route("/.well-known/oauth-authorization-server/tenants/t2",
               {"issuer": r8414.url, "jwks_uri": r8414.jwks_uri})
    v, state, msg, _ = outcome_of(conn, "SELECT jwt_add_issuer(%s, ARRAY['a1', 'a2'])", (r8414.url,))
    T.check("discovery (RFC 8414): after a 404 for OIDC's URL, the well-known URI between host and path",
            v == 2 and kids(conn, r8414.url) == r8414.kids()
            and len(prov.requests("/tenants/t2/.well-known/openid-configuration")) == 1, f"{v} {state} {msg}")
    T.check("audience given as text[] is stored as given",
            q1(conn, "SELECT audience FROM jwt_issuers WHERE issuer = %s", (r8414.url,)) == ["a1", "a2"])
    T.check("max-age=5 is raised to jwt.issuer_refresh_min (300 s)",
            q1(conn, "SELECT next_fetch_at - last_fetch_at BETWEEN interval '299 s' AND interval '301 s' "
                     "FROM jwt_issuers_status WHERE issuer = %s", (r8414.url,)) is True)

    # -- a registered jwks_uri: no discovery; no max-age: the maximum
    direct = Issuer(conn, prov, "/direct", discovery=False)
    v, state, msg, _ = outcome_of(conn, "SELECT jwt_add_issuer(%s, NULL, jwks_uri => %s, "
                                        "algorithms => '{ES256,RS256}', aliases => '{direct-alias}')",
                                  (direct.url, direct.jwks_uri))
    T.check("a registered jwks_uri is fetched without discovery", v == 2 and state is None
            and not prov.requests("/direct/.well-known/openid-configuration"), f"{v} {state} {msg}")
    T.check("audience NULL, algorithms and aliases stored",
            qall(conn, "SELECT audience IS NULL, algorithms, aliases, jwks_uri FROM jwt_issuers WHERE issuer = %s",
                 (direct.url,)) == [(True, ["ES256", "RS256"], ["direct-alias"], direct.jwks_uri)])
    T.check("without max-age the next fetch is jwt.issuer_refresh_max (3600 s) away",
            q1(conn, "SELECT next_fetch_at - last_fetch_at BETWEEN interval '3599 s' AND interval '3601 s' "
                     "FROM jwt_issuers_status WHERE issuer = %s", (direct.url,)) is True)

    # -- a weak key inside a good set: left out, counted; an encryption key: left out
    enc = oidc.public(oidc.new_key("RS256"))
    enc.update(use="enc", alg="RSA-OAEP", kid="enc-key")
    direct.publish(body={"keys": [direct.public(k) for k in direct.private] + [weak_rsa_jwk("weak"), enc]})
    q1(conn, "SELECT jwt_refresh_issuers(%s)", (direct.url,))
    st = status(conn, direct.url) or {}
    T.check("a weak RSA-1024 key in a good set is left out and counted, the others taken",
            st.get("last_outcome") == "ok" and st.get("refused_keys") == 1 and kids(conn, direct.url) == direct.kids()
            and "weak" in (st.get("detail") or ""), st)
    T.check("an encryption key (use enc) is left out and not counted",
            "enc-key" not in (kids(conn, direct.url) or []) and st.get("refused_keys") == 1, st)
    # an RSA key over 8192 bits (16384: every backend's load would import it): left out, counted
    direct.publish(body={"keys": [direct.public(k) for k in direct.private] + [rsa16384_jwk("huge")]})
    q1(conn, "SELECT jwt_refresh_issuers(%s)", (direct.url,))
    st = status(conn, direct.url) or {}
    T.check("an RSA-16384 key in a good set is left out and counted (over 8192 bits), the others taken",
            st.get("last_outcome") == "ok" and st.get("refused_keys") == 1 and kids(conn, direct.url) == direct.kids()
            and "16384 bits" in (st.get("detail") or ""), st)
    direct.publish()
    q1(conn, "SELECT jwt_refresh_issuers(%s)", (direct.url,))

    # -- every failure: the last good keys stay, the view says what happened
    case = Issuer(conn, prov, "/case", discovery=False)
    T.check("setup: the failure cases' issuer is registered",
            q1(conn, "SELECT jwt_add_issuer(%s, 'api', %s)", (case.url, case.jwks_uri)) == 2)
    failure_case(conn, sess, case, "HTTP 500", lambda: case.publish(body=b"oops", status=500), "http status", 500)
    failure_case(conn, sess, case, "HTTP 404", lambda: prov.route(case.jwks_path, b"", status=404), "http status", 404)
    failure_case(conn, sess, case, "malformed JSON", lambda: case.publish(body=b'{"keys": [{"kty": "EC",'), "parse")
    failure_case(conn, sess, case, "duplicate member names", lambda: case.publish(body=b'{"keys": [], "keys": []}'),
                 "parse")
    failure_case(conn, sess, case, "not a JWKS", lambda: case.publish(body={"jwks": []}), "parse", detail_has="keys")
    failure_case(conn, sess, case, "an empty set", lambda: case.publish(body={"keys": []}), "empty")
    failure_case(conn, sess, case, "only refused keys", lambda: case.publish(body={"keys": [weak_rsa_jwk("w")]}),
                 "empty", detail_has="1 refused")
    secret = {"kty": "oct", "kid": "s", "k": b64u(os.urandom(32))}
    failure_case(conn, sess, case, "a shared secret in the set",
                 lambda: case.publish(body=case.document(extra=[secret])), "secret")
    failure_case(conn, sess, case, "a private key in the set",
                 lambda: case.publish(body={"keys": [case.private[0]]}), "secret")
    failure_case(conn, sess, case, "two keys with one kid",
                 lambda: case.publish(body={"keys": [case.public(case.private[0])] * 2}), "parse")
    many = [dict(case.public(case.private[0]), kid=f"many-{i}") for i in range(101)]
    failure_case(conn, sess, case, "a set of 101 keys (more than 100)", lambda: case.publish(body={"keys": many}),
                 "too large", detail_has="more than 100 keys")
    run(conn, "SET jwt.issuer_max_response_size = 4096")
    big = case.document(extra=[{"kty": "EC", "use": "enc", "crv": "P-256", "x": "A" * 43, "y": "B" * 43,
                                "kid": "pad" + "x" * 6000}])
    failure_case(conn, sess, case, "an oversized body with Content-Length", lambda: case.publish(body=big), "too large")
    failure_case(conn, sess, case, "an oversized body without Content-Length",
                 lambda: case.publish(body=big, chunked=True), "too large")
    run(conn, "RESET jwt.issuer_max_response_size")
    failure_case(conn, sess, case, "a redirect to another host",
                 lambda: prov.route(case.jwks_path, b"", status=302,
                                    headers={"Location": f"https://localhost:{prov.port}/case/jwks2"}),
                 "redirect", 302, detail_has="another origin")
    failure_case(conn, sess, case, "a redirect to another host, its Location with a query",
                 lambda: prov.route(case.jwks_path, b"", status=302,
                                    headers={"Location": f"https://localhost:{prov.port}/case/jwks2?access_token=SeCrEt"}),
                 "redirect", 302, detail_has="another origin")
    T.check("a URL's query is never shown (the status view, the WARNING, the log)",
            "SeCrEt" not in json.dumps(status(conn, case.url)), status(conn, case.url))
    prov.route(case.jwks_path, b"", status=302, headers={"Location": "/case/jwks-bad\u0001x?access_token=SeCrEt"})
    v, state, msg, notices = outcome_of(conn, "SELECT jwt_refresh_issuers(%s)", (case.url,))
    T.check("a redirect's Location is shown without its query, control bytes as '?'",
            "SeCrEt" not in " ".join(notices) + json.dumps(status(conn, case.url))
            and "\\u0001" not in json.dumps(status(conn, case.url)), notices)
    case.publish()
    q1(conn, "SELECT jwt_refresh_issuers(%s)", (case.url,))
    prov.route("/case/jwks-moved", case.document())
    prov.route(case.jwks_path, b"", status=301, headers={"Location": "/case/jwks-moved"})
    q1(conn, "SELECT jwt_refresh_issuers(%s)", (case.url,))
    T.check("a redirect within the origin is followed",
            (status(conn, case.url) or {}).get("last_outcome") == "ok" and len(prov.requests("/case/jwks-moved")) == 1)
    case.publish()

    # slow: the timeout; meanwhile another session updates the row without waiting
    run(conn, "SET jwt.issuer_timeout = '1s'")
    other = T.connect()
    run(other, "SET lock_timeout = '1s'")
    waited = {}

    def slow():
        r = case.publish(delay=10)

        def concurrent():
            r.started.wait(10)
            try:
                q1(other, "SELECT issuer FROM jwt_issuers WHERE issuer = %s FOR UPDATE NOWAIT", (case.url,))
                waited["update"] = "ok"
            except psycopg2.Error as e:
                waited["update"] = e.pgcode
            try:
                # well within the fetch's 1 s: a lock the fetch held would make it time out
                run(other, "SET lock_timeout = '200ms'")
                run(other, "BEGIN; LOCK TABLE jwt_issuers, jwt_issuer_fetches IN ACCESS EXCLUSIVE MODE; COMMIT")
                waited["lock"] = "ok"
            except psycopg2.Error as e:
                run(other, "ROLLBACK")
                waited["lock"] = e.pgcode
        waited["thread"] = threading.Thread(target=concurrent)
        waited["thread"].start()
    failure_case(conn, sess, case, "a slow provider (jwt.issuer_timeout = 1s)", slow, "timeout")
    waited["thread"].join(15)
    T.check("a slow fetch holds no lock on the issuer's row (FOR UPDATE NOWAIT meanwhile)", waited.get("update") == "ok",
            waited.get("update"))
    T.check("a slow fetch in a backend holds no lock on the tables (LOCK TABLE ... ACCESS EXCLUSIVE meanwhile, "
            "lock_timeout 200 ms)", waited.get("lock") == "ok", waited.get("lock"))
    other.close()

    # a deadline per issuer: 2 x jwt.issuer_timeout for all its requests, redirects included
    hops = ["/case/dl1", "/case/dl2", "/case/dl3"]
    for here, there in zip([case.jwks_path] + hops[:-1], hops):
        prov.route(here, b"", status=302, headers={"Location": there}, delay=0.7)
    prov.route(hops[-1], case.document(), delay=0.7)
    t0 = time.monotonic()
    v, state, msg, notices = outcome_of(conn, "SELECT jwt_refresh_issuers(%s)", (case.url,))
    took = time.monotonic() - t0
    st = status(conn, case.url) or {}
    T.check(f"an issuer's requests, each within jwt.issuer_timeout (1 s), end at 2 x jwt.issuer_timeout "
            f"all told: 'timeout' (took {took:.1f} s)",
            st.get("last_outcome") == "timeout" and took < 2.6, f"{st} {notices}")
    case.publish()
    q1(conn, "SELECT jwt_refresh_issuers(%s)", (case.url,))
    run(conn, "SET jwt.issuer_timeout = '5s'")

    # down: a provider that stops listening
    gone = Provider(pki.cert, pki.key)
    down = Issuer(conn, gone, "/down", discovery=False)
    T.check("setup: an issuer at a provider that will stop",
            q1(conn, "SELECT jwt_add_issuer(%s, 'api', %s)", (down.url, down.jwks_uri)) == 2)
    failure_case(conn, sess, down, "the provider down", gone.stop, "connect",
                 restore=lambda: run(conn, "UPDATE jwt_issuers SET jwks_uri = %s WHERE issuer = %s",
                                     (case.jwks_uri, down.url)))

    # a certificate from a CA no setting trusts
    unknown = Issuer(conn, rogue, "/rogue", discovery=False)
    run(conn, "SET jwt.issuer_ca_file = %s", (pki.rogue_ca,))
    T.check("setup: an issuer whose certificate a second CA signed",
            q1(conn, "SELECT jwt_add_issuer(%s, 'api', %s)", (unknown.url, unknown.jwks_uri)) == 2)
    run(conn, "SET jwt.issuer_ca_file = %s", (pki.ca,))
    failure_case(conn, sess, unknown, "a certificate from an unknown CA", lambda: None, "tls",
                 restore=lambda: run(conn, "SET jwt.issuer_ca_file = %s", (pki.rogue_ca,)))
    run(conn, "SET jwt.issuer_ca_file = %s", (pki.ca,))
    run(conn, "RESET jwt.issuer_ca_file")
    v, state, msg, notices = outcome_of(conn, "SELECT jwt_add_issuer('https://127.0.0.1:%s/sys', 'api', %s)",
                                        (prov.port, case.jwks_uri))
    T.check("the system's store (jwt.issuer_ca_file empty) does not trust the test CA: 'tls'",
            v == 0 and any(": tls" in n for n in notices), f"{v} {state} {msg} {notices}")
    run(conn, "SELECT jwt_drop_issuer('https://127.0.0.1:%s/sys')", (prov.port,))
    run(conn, "SET jwt.issuer_ca_file = %s", (pki.ca,))

    # a wrong issuer in discovery, at registration and later
    wrong = Issuer(conn, prov, "/wrong", doc_issuer=f"{prov.base}/someone-else")
    v, state, msg, notices = outcome_of(conn, "SELECT jwt_add_issuer(%s, 'api')", (wrong.url,))
    T.check("a wrong issuer in discovery: registered with no keys and a WARNING",
            v == 0 and state is None and kids(conn, wrong.url) is None and any("issuer mismatch" in n for n in notices),
            f"{v} {state} {msg} {notices}")
    T.check("a wrong issuer in discovery: the view says 'issuer mismatch' and names what the document said",
            (status(conn, wrong.url) or {}).get("last_outcome") == "issuer mismatch"
            and "someone-else" in ((status(conn, wrong.url) or {}).get("detail") or ""))
    got = sess.verify(wrong.token({"sub": "w", "aud": "api"}))
    T.check("a wrong issuer in discovery: its tokens are refused (no key stored), never handed to the registry",
            got == refused(NO_KEYS), got)
    good = Issuer(conn, prov, "/later")
    T.check("setup: an issuer discovered right", q1(conn, "SELECT jwt_add_issuer(%s, 'api')", (good.url,)) == 2)
    failure_case(conn, sess, good, "discovery later naming another issuer",
                 lambda: prov.route("/later/.well-known/openid-configuration",
                                    {"issuer": good.url + "/", "jwks_uri": good.jwks_uri}),
                 "issuer mismatch",
                 restore=lambda: prov.route("/later/.well-known/openid-configuration",
                                            {"issuer": good.url, "jwks_uri": good.jwks_uri}))

    # -- jwt_refresh_issuers() over all, only_due
    n = q1(conn, "SELECT count(*) FROM jwt_issuers")
    T.check("jwt_refresh_issuers() fetches every issuer", q1(conn, "SELECT jwt_refresh_issuers()") == n, n)
    T.check("jwt_refresh_issuers(only_due => true) fetches none when none is due",
            q1(conn, "SELECT jwt_refresh_issuers(only_due => true)") == 0)
    run(conn, "UPDATE jwt_issuer_fetches SET next_fetch_at = now() - interval '1 s' WHERE issuer = %s", (oidc.url,))
    T.check("jwt_refresh_issuers(only_due => true) fetches the one due",
            q1(conn, "SELECT jwt_refresh_issuers(only_due => true)") == 1)

    # -- cancel and statement_timeout stop a refresh
    run(conn, "SET jwt.issuer_timeout = '60s'")
    for how in ("statement_timeout", "pg_cancel_backend"):
        r = case.publish(delay=30)
        other = T.connect()
        pid = q1(conn, "SELECT pg_backend_pid()")
        if how == "statement_timeout":
            run(conn, "SET statement_timeout = '1s'")
        else:
            def cancel():
                r.started.wait(10)
                q1(other, "SELECT pg_cancel_backend(%s)", (pid,))
            threading.Thread(target=cancel).start()
        t0 = time.monotonic()
        v, state, msg, _ = outcome_of(conn, "SELECT jwt_refresh_issuers(%s)", (case.url,))
        took = time.monotonic() - t0
        run(conn, "RESET statement_timeout")
        T.check(f"{how} stops jwt_refresh_issuers() with 57014 within {WALL} s (took {took:.2f} s)",
                state == "57014" and took < WALL + (1.0 if how == "statement_timeout" else 0.0), f"{state} {msg}")
        T.check(f"after {how}, no backend is left fetching and the keys are as they were",
                kids(conn, case.url) == case.kids()
                and q1(other, "SELECT count(*) FROM pg_stat_activity WHERE pid = %s AND state = 'active'", (pid,)) == 0)
        r.release()
        other.close()
    run(conn, "SET jwt.issuer_timeout = '5s'")
    case.publish()

    # -- the calls' own errors
    errors = [
        ("issuer NULL", "SELECT jwt_add_issuer(NULL, 'api')", "22023"),
        ("issuer empty", "SELECT jwt_add_issuer('', 'api')", "22023"),
        ("audience empty", f"SELECT jwt_add_issuer('{prov.base}/e1', '')", "22023"),
        ("an array literal given as one audience", f"SELECT jwt_add_issuer('{prov.base}/e1', '{{a,b}}')", "22023"),
        ("an empty audience array", f"SELECT jwt_add_issuer('{prov.base}/e1', '{{}}'::text[])", "22023"),
        ("a NULL in the audience array", f"SELECT jwt_add_issuer('{prov.base}/e1', ARRAY['a', NULL])", "22023"),
        ("algorithms HS256", f"SELECT jwt_add_issuer('{prov.base}/e1', 'api', algorithms => '{{HS256}}')", "22023"),
        ("algorithms none", f"SELECT jwt_add_issuer('{prov.base}/e1', 'api', algorithms => '{{none}}')", "22023"),
        ("an unknown algorithm", f"SELECT jwt_add_issuer('{prov.base}/e1', 'api', algorithms => '{{RS999}}')", "22023"),
        ("empty algorithms", f"SELECT jwt_add_issuer('{prov.base}/e1', 'api', algorithms => '{{}}')", "22023"),
        ("an alias that is the issuer",
         f"SELECT jwt_add_issuer('{prov.base}/e1', 'api', aliases => '{{{prov.base}/e1}}')", "22023"),
        ("an http issuer to discover", f"SELECT jwt_add_issuer('http://127.0.0.1:{prov.port}/e1', 'api')", "22023"),
        ("a non-URL issuer without jwks_uri", "SELECT jwt_add_issuer('accounts.example.com', 'api')", "22023"),
        ("an http jwks_uri", f"SELECT jwt_add_issuer('x', 'api', 'http://127.0.0.1:{prov.port}/jwks')", "22023"),
        ("a jwks_uri with a user", "SELECT jwt_add_issuer('x', 'api', 'https://127.0.0.1@evil.example/jwks')",
         "22023"),
        ("an issuer registered twice", "SELECT jwt_add_issuer(%s, 'api')", "23505"),
        ("an alias registered for another issuer",
         f"SELECT jwt_add_issuer('{prov.base}/e2', 'api', aliases => '{{direct-alias}}')", "23505"),
        ("a spelling that is another issuer's alias", "SELECT jwt_add_issuer('direct-alias', 'api', %s)", "23505"),
        ("jwt_refresh_issuers of an unknown issuer", "SELECT jwt_refresh_issuers('https://nobody.example/')", "42704"),
        ("jwt_drop_issuer(NULL)", "SELECT jwt_drop_issuer(NULL)", "22023"),
    ]
    for name, sql, want in errors:
        args = None
        if "%s" in sql:
            args = (oidc.url,) if "twice" in name else (case.jwks_uri,)
        v, state, msg, _ = outcome_of(conn, sql, args)
        T.check(f"refused with {want}: {name}", state == want, f"{state} {msg}")
    T.check("nothing was registered by the refused calls",
            q1(conn, "SELECT count(*) FROM jwt_issuers WHERE issuer IN (%s, 'x', 'accounts.example.com', "
                     "'direct-alias')", (f"{prov.base}/e1",)) == 0)
    T.check("jwt_add_issuer('iss', NULL) resolves to the text overload (NULL: no audience)",
            q1(conn, "SELECT jwt_add_issuer(%s, NULL, %s)", (f"{prov.base}/nullaud", case.jwks_uri)) == 2
            and q1(conn, "SELECT audience IS NULL FROM jwt_issuers WHERE issuer = %s", (f"{prov.base}/nullaud",)))

    # -- jwt_drop_issuer
    T.check("jwt_drop_issuer() removes an issuer and its fetch state",
            q1(conn, "SELECT jwt_drop_issuer(%s)", (f"{prov.base}/nullaud",)) is True
            and q1(conn, "SELECT count(*) FROM jwt_issuer_fetches WHERE issuer = %s", (f"{prov.base}/nullaud",)) == 0)
    T.check("jwt_drop_issuer() of an unknown issuer is false",
            q1(conn, "SELECT jwt_drop_issuer('https://nobody.example/')") is False)
    return oidc, case


def same_kid(conn, sess, prov):
    """Two issuers publishing the same kid (and a registry key with it too):
    each token verifies with its own issuer's fetched key only."""
    a = Issuer(conn, prov, "/same/a", algs=("ES256",))
    b = Issuer(conn, prov, "/same/b", algs=("ES256",))
    for iss in (a, b):
        iss.private[0]["kid"] = "shared-kid"
        iss.publish()
        T.check(f"setup: {iss.url} is registered with its one key",
                q1(conn, "SELECT jwt_add_issuer(%s, 'api')", (iss.url,)) == 1)
    T.check("same kid: both issuers' stored sets have the kid 'shared-kid', with their own keys",
            kids(conn, a.url) == kids(conn, b.url) == ["shared-kid"]
            and q1(conn, "SELECT jwt_issuer_jwks(%s) -> 'keys' -> 0 ->> 'x'", (a.url,)) == a.public(a.private[0])["x"]
            and q1(conn, "SELECT jwt_issuer_jwks(%s) -> 'keys' -> 0 ->> 'x'", (b.url,)) == b.public(b.private[0])["x"])
    got = (sess.verify(a.token({"sub": "a-user", "aud": "api"})), sess.verify(b.token({"sub": "b-user", "aud": "api"})))
    T.check("same kid: each issuer's token verifies with its own issuer's key", got == ("a-user", "b-user"), got)
    got = (sess.verify(a.token({"sub": "a-user", "aud": "api"}, key=b.private[0])),
           sess.verify(b.token({"sub": "b-user", "aud": "api"}, key=a.private[0])))
    T.check("same kid: A's token signed with B's key is refused, and B's with A's",
            got == (refused(BAD_SIGNATURE), refused(BAD_SIGNATURE)), got)
    reg = a.new_key("ES256")
    reg["kid"] = "shared-kid"
    run(conn, "SELECT jwt_add_key(%s::jsonb, 'ES256', 'shared-kid')", (json.dumps(a.public(reg)),))
    try:
        got = sess.verify(a.token({"sub": "a-user", "aud": "api"}, key=reg))
        T.check("same kid: a registry key with the kid never verifies a token naming a registered issuer",
                got == refused(BAD_SIGNATURE), got)
        got = sess.verify(a.token({"iss": "https://unregistered.example/", "sub": "reg-user"}, key=reg))
        T.check("... while a token naming no registered issuer takes the registry path, where it verifies",
                got == "reg-user", got)
    finally:
        run(conn, "DELETE FROM jwt_keys WHERE kid = 'shared-kid'")
    for iss in (a, b):
        run(conn, "SELECT jwt_drop_issuer(%s)", (iss.url,))


SUPABASE_SECRET = "e2e-supabase-project-jwt-secret-0123456789abcdef"
SUPABASE_USER = "aaaaaaaa-0000-0000-0000-000000000007"


def shapes(conn, sess, prov):
    """Tokens shaped as Auth0's, Keycloak's, Google's, Entra's and Supabase's,
    signed by issuers of the test provider and verified with the keys fetched
    from it, through row-level security policies on jwt_claim and jwt_has_scope
    read by an ordinary role (SET ROLE)."""
    tenant = "11111111-2222-3333-4444-555555555555"
    sts = f"https://sts.windows.net/{tenant}/"
    auth0 = Issuer(conn, prov, "/shapes/auth0/", algs=("RS256",))
    keycloak = Issuer(conn, prov, "/shapes/realms/shop", algs=("RS256",))
    google = Issuer(conn, prov, "/shapes/google", algs=("RS256",))
    entra = Issuer(conn, prov, f"/shapes/{tenant}/v2.0", algs=("RS256",))
    supabase = Issuer(conn, prov, "/shapes/abcdefghijklmnop/auth/v1", algs=("ES256",), discovery=False)
    enc = keycloak.public(keycloak.new_key("RS256"))
    enc.update(use="enc", alg="RSA-OAEP", kid="kc-enc")
    keycloak.publish(body=keycloak.document(extra=[enc]))      # Keycloak publishes an encryption key too
    registrations = [
        (auth0, "SELECT jwt_add_issuer(%s, 'https://api.example.com', algorithms => '{RS256}')", ()),
        (keycloak, "SELECT jwt_add_issuer(%s, ARRAY['shop-api', 'account'], algorithms => '{RS256}')", ()),
        (google, "SELECT jwt_add_issuer(%s, 'client-1.apps.googleusercontent.com', algorithms => '{RS256}', "
                 "aliases => '{accounts.google.com}')", ()),
        (entra, "SELECT jwt_add_issuer(%s, ARRAY['api://shop', 'client-5'], algorithms => '{RS256}', "
                "aliases => ARRAY[%s])", (sts,)),
        (supabase, "SELECT jwt_add_issuer(%s, 'authenticated', %s, algorithms => '{ES256}')", (supabase.jwks_uri,)),
    ]
    for iss, sql, args in registrations:
        T.check(f"shapes: setup: {iss.url} registered, its one signing key fetched",
                q1(conn, sql, (iss.url,) + args) == 1, status(conn, iss.url))
    run(conn, "SELECT jwt_add_key(%s, 'HS256', 'supabase-anon-e2e')", (SUPABASE_SECRET,))
    run(sess.conn, "SET jwt.issuer = 'supabase'")     # the registry path's: the anon key's iss

    def anon(claims):
        return q1(conn, "SELECT jwt_sign(%s::jsonb, %s, 'HS256')",
                  (json.dumps({"exp": int(time.time()) + 600, **claims}), SUPABASE_SECRET))

    tokens = [
        ("Auth0 (scope and permissions)", auth0.token({
            "sub": "auth0|u1", "aud": ["https://api.example.com", auth0.url + "userinfo"], "azp": "client-1",
            "scope": "openid profile read:orders", "permissions": ["read:orders", "write:orders"],
            "iat": int(time.time()) - 10})),
        ("Auth0 (permissions only)", auth0.token({
            "sub": "auth0|u2", "aud": "https://api.example.com", "permissions": ["read:orders", "write:orders"]})),
        ("Keycloak", keycloak.token({
            "sub": "kc-u3", "aud": "account", "typ": "Bearer", "azp": "shop-web", "scope": "openid email profile",
            "realm_access": {"roles": ["offline_access", "shop-admin"]}})),
        ("Google (accounts.google.com)", google.token({
            "iss": "accounts.google.com", "sub": "1234567890", "aud": "client-1.apps.googleusercontent.com",
            "email": "u4@example.com", "email_verified": True, "hd": "example.com"})),
        ("Entra v2.0 (scp)", entra.token({
            "sub": "entra-u5", "aud": "api://shop", "tid": tenant, "oid": "oid-u5",
            "scp": "Orders.Read Orders.Write", "roles": ["Shop.Admin"], "ver": "2.0"})),
        ("Entra v1.0 (sts.windows.net)", entra.token({
            "iss": sts, "sub": "entra-u6", "aud": "client-5", "scp": "Orders.Read", "ver": "1.0"})),
        ("Supabase authenticated", supabase.token({
            "sub": SUPABASE_USER, "aud": "authenticated", "role": "authenticated", "aal": "aal1",
            "session_id": "s-7", "is_anonymous": False})),
        ("Supabase anon (the registry, HS256)", anon({"iss": "supabase", "ref": "abcdefghijklmnop", "role": "anon"})),
    ]
    want_scopes = [["openid", "profile", "read:orders"], ["read:orders", "write:orders"],
                   ["openid", "email", "profile"], [], ["Orders.Read", "Orders.Write"], ["Orders.Read"], [], []]
    got = []
    for (shape, tok), want in zip(tokens, want_scopes):
        sess.set(tok)
        try:
            got.append((shape, q1(sess.conn, "SELECT jwt_scopes()")))
        except psycopg2.Error as e:
            got.append((shape, e.pgcode, e.diag.message_detail))
    T.check("shapes: each verifies through the session path, with its scopes (scope, scp, permissions, none)",
            got == [(shape, want) for (shape, _), want in zip(tokens, want_scopes)], got)
    sess.set(tokens[0][1])
    T.check("shapes: Auth0's permissions beside a scope are read with jwt_claims()",
            q1(sess.conn, "SELECT jwt_claims() -> 'permissions' ? 'write:orders' AND NOT jwt_has_scope('write:orders')")
            is True)
    sess.set(tokens[2][1])
    T.check("shapes: Keycloak's azp and realm roles are claims",
            q1(sess.conn, "SELECT jwt_claim('azp') || ' ' || "
                          "(jwt_claims() -> 'realm_access' -> 'roles' ? 'shop-admin')") == "shop-web true")

    run(conn, "DROP TABLE IF EXISTS e2e_orders")
    run(conn, "DROP ROLE IF EXISTS jwt_e2e_reader")
    run(conn, "CREATE ROLE jwt_e2e_reader NOLOGIN")
    run(conn, "CREATE TABLE e2e_orders (id int PRIMARY KEY, iss text NOT NULL, owner text NOT NULL, "
              "tenant text NOT NULL)")
    rows = [(1, auth0.url, "auth0|u2", "shop"), (2, keycloak.url, "kc-u3", "shop"),
            (3, "accounts.google.com", "1234567890", "shop"), (4, entra.url, "entra-u5", "shop"),
            (5, supabase.url, SUPABASE_USER, "shop"), (6, auth0.url, "kc-u3", "shop"),
            (7, "other", "someone", "public"), (8, "other", "someone", "example.com")]
    for r in rows:
        run(conn, "INSERT INTO e2e_orders VALUES (%s, %s, %s, %s)", r)
    run(conn, "ALTER TABLE e2e_orders ENABLE ROW LEVEL SECURITY")
    # readers with the scope see every order, others their own (a sub is unique
    # per issuer only), a Workspace's verified users its tenant's, the anon key the public ones
    run(conn, "CREATE POLICY reading ON e2e_orders FOR SELECT TO jwt_e2e_reader USING ("
              "jwt_has_scope('read:orders') OR jwt_has_scope('Orders.Read') "
              "OR (iss = jwt_claim('iss') AND owner = jwt_claim('sub')) "
              "OR (tenant = jwt_claim('hd') AND jwt_claim('email_verified') = 'true') "
              "OR (jwt_claim('role') = 'anon' AND tenant = 'public'))")
    run(conn, "CREATE POLICY writing ON e2e_orders FOR INSERT TO jwt_e2e_reader WITH CHECK ("
              "jwt_has_scope('write:orders') AND iss = jwt_claim('iss') AND owner = jwt_claim('sub'))")
    run(conn, "CREATE POLICY admins ON e2e_orders FOR UPDATE TO jwt_e2e_reader USING ("
              "jwt_claims() -> 'roles' ? 'Shop.Admin' OR jwt_claims() -> 'realm_access' -> 'roles' ? 'shop-admin')")
    run(conn, "GRANT SELECT, INSERT, UPDATE ON e2e_orders TO jwt_e2e_reader")

    def as_reader(token, sql, args=None):
        """What the reader role gets for one statement with the token set, or ('error', SQLSTATE, detail)."""
        sess.set(token)
        run(sess.conn, "SET ROLE jwt_e2e_reader")
        try:
            return q1(sess.conn, sql, args)
        except psycopg2.Error as e:
            return ("error", e.pgcode, e.diag.message_detail or "")
        finally:
            run(sess.conn, "RESET ROLE")

    def visible(token):
        ids = as_reader(token, "SELECT coalesce(string_agg(id::text, ',' ORDER BY id), '-') FROM e2e_orders")
        n = as_reader(token, "WITH u AS (UPDATE e2e_orders SET tenant = tenant RETURNING id) SELECT count(*) FROM u")
        return ids if isinstance(ids, tuple) else f"{ids} / {n}"

    every = "1,2,3,4,5,6,7,8"
    want = [f"{every} / 0", f"{every} / 0", "2 / 1", "3,8 / 0", f"{every} / 8", f"{every} / 0", "5 / 0", "7 / 0"]
    got = [(shape, visible(tok)) for shape, tok in tokens]
    T.check("shapes: through the policies each sees its rows: the scope every one, the others their own "
            "(of their own issuer), Google's Workspace users their domain's, the anon key the public ones; "
            "the Entra role and the Keycloak realm role may update",
            got == [(shape, w) for (shape, _), w in zip(tokens, want)], got)
    got = (as_reader(tokens[0][1], "INSERT INTO e2e_orders VALUES (9, %s, 'auth0|u1', 'shop') RETURNING id",
                     (auth0.url,)),
           as_reader(tokens[1][1], "INSERT INTO e2e_orders VALUES (10, %s, 'auth0|u2', 'shop') RETURNING id",
                     (auth0.url,)),
           as_reader(tokens[1][1], "INSERT INTO e2e_orders VALUES (11, %s, 'auth0|u2', 'shop') RETURNING id",
                     (keycloak.url,)))
    T.check("shapes: only the Auth0 token whose permissions are its scopes inserts, its own row, of its issuer",
            got[0][:2] == ("error", "42501") and got[1] == 10 and got[2][:2] == ("error", "42501"), got)
    bad = [
        ("a Keycloak token for another client (aud)", keycloak.token({"sub": "kc-u3", "aud": "other-client"}),
         refused(BAD_AUDIENCE)),
        ("Google's alias signed with Auth0's key", google.token({"iss": "accounts.google.com", "sub": "1234567890",
                                                                "aud": "client-1.apps.googleusercontent.com"},
                                                               key=auth0.private[0]), refused(NO_KID)),
        ("Entra's v1 alias with Entra's key, Google's audience", entra.token(
            {"iss": sts, "sub": "entra-u6", "aud": "client-1.apps.googleusercontent.com"}), refused(BAD_AUDIENCE)),
    ]
    for shape, tok, want_refusal in bad:
        got = visible(tok)
        T.check(f"shapes: {shape}: refused (28000), no row read", got == want_refusal, got)
    got = visible(anon({"iss": supabase.url, "sub": SUPABASE_USER, "aud": "authenticated", "role": "authenticated"}))
    T.check("shapes: a token naming the Supabase Auth issuer signed with the project's HS256 secret "
            "(a registry key) is refused", isinstance(got, tuple) and got[:2] == ("error", "28000"), got)

    run(sess.conn, "RESET jwt.issuer")
    run(conn, "DROP TABLE e2e_orders")
    run(conn, "DROP ROLE jwt_e2e_reader")
    run(conn, "DELETE FROM jwt_keys WHERE kid = 'supabase-anon-e2e'")
    for iss, _, _ in registrations:
        run(conn, "SELECT jwt_drop_issuer(%s)", (iss.url,))


def policy(conn, pki, prov):
    """Who may make the server fetch what."""
    allowed = f"{prov.base}/allowed"
    run(conn, "DROP ROLE IF EXISTS jwt_issuers_admin")
    run(conn, f"CREATE ROLE jwt_issuers_admin LOGIN PASSWORD '{ROLE_PW}'")
    run(conn, "GRANT EXECUTE ON FUNCTION jwt_add_issuer(text, text, text, text[], text[]), "
              "jwt_add_issuer(text, text[], text, text[], text[]), jwt_drop_issuer(text), "
              "jwt_refresh_issuers(text, boolean) TO jwt_issuers_admin")
    run(conn, "DROP ROLE IF EXISTS jwt_issuers_nobody")
    run(conn, f"CREATE ROLE jwt_issuers_nobody LOGIN PASSWORD '{ROLE_PW}'")
    for path in ("/allowed/realm", "/allowed", "/allowedx", "/other", "/allowed/outside-doc", "/allowed/redir"):
        Issuer(conn, prov, path)
    prov.route("/allowed/outside-doc/.well-known/openid-configuration",
               {"issuer": f"{prov.base}/allowed/outside-doc", "jwks_uri": f"{prov.base}/other/jwks"})

    def as_role(role, sql, args=None, prefixes=None):
        c = psycopg2.connect("", user=role, password=ROLE_PW)
        c.autocommit = True
        try:
            if prefixes is not None:
                run(conn, f"ALTER ROLE {role} SET jwt.issuer_url_prefixes = %s", (prefixes,))
                c.close()
                c = psycopg2.connect("", user=role, password=ROLE_PW)
                c.autocommit = True
            run(c, "SET client_min_messages = warning")
            return outcome_of(c, sql, args)
        finally:
            c.close()

    # the CA file: set for the roles by the superuser
    for role in ("jwt_issuers_admin", "jwt_issuers_nobody"):
        run(conn, f"ALTER ROLE {role} SET jwt.issuer_ca_file = %s", (pki.ca,))
    v, state, msg, _ = as_role("jwt_issuers_nobody", "SELECT jwt_add_issuer(%s, 'api')", (f"{allowed}/realm",))
    T.check("a role without EXECUTE cannot call jwt_add_issuer (42501)", state == "42501", f"{state} {msg}")
    v, state, msg, _ = as_role("jwt_issuers_admin", "SELECT jwt_add_issuer(%s, 'api')", (f"{allowed}/realm",))
    T.check("a non-superuser with EXECUTE, no prefixes: refused (42501)", state == "42501"
            and "permission denied to make the server fetch" in msg, f"{state} {msg}")
    T.check("... and nothing was fetched", not prov.requests("/allowed/realm/.well-known/openid-configuration"))
    # (jwt.so loaded first: before, the name is a placeholder, and the value a
    # role without the privilege gave it is dropped with a WARNING when it loads)
    v, state, msg, _ = as_role("jwt_issuers_admin", "SELECT jwt_issuers_worker_running(); "
                                                    "SET jwt.issuer_url_prefixes = 'https://x/'")
    T.check("a non-superuser cannot set jwt.issuer_url_prefixes (42501)", state == "42501", f"{state} {msg}")
    cases = [
        ("under the prefix", f"{allowed}/realm", None, 2),
        ("the prefix itself", allowed, None, 2),
        ("a longer segment (https://h/allowedx)", f"{prov.base}/allowedx", "42501", None),
        ("another path", f"{prov.base}/other", "42501", None),
        ("dot segments out of the prefix", f"{allowed}/../other", "42501", None),
        ("an encoded dot segment", f"{allowed}/%2e%2e/other", "22023", None),
        ("a user@host URL (the host is what follows @)", f"https://127.0.0.1:{prov.port}@evil.example/allowed",
         "22023", None),
        ("another port", f"https://127.0.0.1:{closed_port()}/allowed", "42501", None),
        ("another host name for the same address", f"https://localhost:{prov.port}/allowed", "42501", None),
        # forms some servers decode into another path (Tomcat's "..;", overlong UTF-8, NUL, CR LF)
        ("a '..;' segment", f"{allowed}/..;/other", "22023", None),
        ("a ';' in a segment (path parameters)", f"{allowed}/realm;jsessionid=1", "22023", None),
        ("an overlong UTF-8 dot (%c0%ae)", f"{allowed}/%c0%ae%c0%ae/other", "22023", None),
        ("an overlong UTF-8 lead (%e0%80%ae)", f"{allowed}/%e0%80%ae/other", "22023", None),
        ("an escaped NUL", f"{allowed}/realm%00", "22023", None),
        ("an escaped CR LF", f"{allowed}/realm%0d%0aX-Injected:%201", "22023", None),
    ]
    for name, url, want, nkeys in cases:
        v, state, msg, _ = as_role("jwt_issuers_admin", "SELECT jwt_add_issuer(%s, 'api')", (url,),
                                   prefixes=allowed)
        T.check(f"prefix {allowed}: {name}: " + ("registered" if want is None else f"refused ({want})"),
                state == want and (nkeys is None or v == nkeys), f"{v} {state} {msg}")
    T.check("the prefix may list several, comma-separated",
            as_role("jwt_issuers_admin", "SELECT jwt_add_issuer(%s, 'api')", (f"{prov.base}/other",),
                    prefixes=f"https://nowhere.example/, {prov.base}/other")[0] == 2)
    v, state, msg, notices = as_role("jwt_issuers_admin", "SELECT jwt_add_issuer(%s, 'api')",
                                     (f"{allowed}/outside-doc",), prefixes=allowed)
    T.check("a discovered jwks_uri outside the prefixes is refused ('url refused'), nothing fetched there",
            v == 0 and state is None and any("url refused" in n for n in notices)
            and (status(conn, f"{allowed}/outside-doc") or {}).get("last_outcome") == "url refused", f"{v} {state} {notices}")
    prov.route("/allowed/redir/jwks", b"", status=302, headers={"Location": "/other/jwks"})
    v, state, msg, notices = as_role("jwt_issuers_admin", "SELECT jwt_add_issuer(%s, 'api')",
                                     (f"{allowed}/redir",), prefixes=allowed)
    T.check("a redirect within the origin but outside the prefixes is refused ('redirect')",
            v == 0 and (status(conn, f"{allowed}/redir") or {}).get("last_outcome") == "redirect", f"{v} {state} {notices}")
    v, state, msg, _ = as_role("jwt_issuers_admin", "SELECT jwt_refresh_issuers(%s)", (f"{allowed}/realm",))
    T.check("with EXECUTE, a non-superuser refreshes what a superuser's tables name", v == 1, f"{state} {msg}")
    # what a non-superuser registered stays under the prefix rule, whoever fetches it later
    T.check("an issuer a non-superuser registered is marked url_prefixed; one a superuser registered is not",
            outcome_of(conn, "SELECT array_agg(url_prefixed ORDER BY issuer) FROM jwt_issuers WHERE issuer IN (%s, %s)",
                       (f"{allowed}/realm", f"{prov.base}/other"))[0] == [True, True])
    prov.route("/allowed/realm/.well-known/openid-configuration",
               {"issuer": f"{allowed}/realm", "jwks_uri": f"{prov.base}/other/jwks"})
    before = len(prov.requests("/other/jwks"))
    run(conn, "SET jwt.issuer_url_prefixes = %s", (allowed,))
    v, state, msg, notices = outcome_of(conn, "SELECT jwt_refresh_issuers(%s)", (f"{allowed}/realm",))
    run(conn, "RESET jwt.issuer_url_prefixes")
    T.check("a superuser's refresh of an issuer a non-superuser registered applies the prefixes: its discovered "
            "jwks_uri outside them is refused ('url refused')",
            v == 1 and (status(conn, f"{allowed}/realm") or {}).get("last_outcome") == "url refused"
            and len(prov.requests("/other/jwks")) == before, f"{v} {state} {notices}")
    v, state, msg, _ = as_role("jwt_issuers_admin", "SELECT jwt_drop_issuer(%s)", (f"{allowed}/realm",))
    T.check("with EXECUTE, a non-superuser drops an issuer", v is True, f"{state} {msg}")
    v, state, msg, _ = as_role("jwt_issuers_admin", "SELECT count(*) FROM jwt_issuers")
    T.check("EXECUTE gives no privilege on jwt_issuers", state == "42501", f"{state} {msg}")
    v, state, msg, _ = as_role("jwt_issuers_admin", "SELECT count(*) FROM jwt_issuers_status")
    T.check("nor on the status view", state == "42501", f"{state} {msg}")
    for path in ("/allowed", "/other", "/allowed/outside-doc", "/allowed/redir"):
        run(conn, "SELECT jwt_drop_issuer(%s)", (prov.base + path,))
    for role in ("jwt_issuers_admin", "jwt_issuers_nobody"):
        run(conn, f"REVOKE ALL ON FUNCTION jwt_add_issuer(text, text, text, text[], text[]), "
                  f"jwt_add_issuer(text, text[], text, text[], text[]), jwt_drop_issuer(text), "
                  f"jwt_refresh_issuers(text, boolean) FROM {role}")
        run(conn, f"DROP ROLE {role}")


def trusted_install(conn, pki, prov):
    """A database owner (not a superuser) installs jwt: it can make the server
    fetch nothing unless a superuser allowed the URL."""
    owner, db = "jwt_issuers_dbowner", "jwt_issuers_trusted"
    run(conn, f"DROP DATABASE IF EXISTS {db} WITH (FORCE)")
    run(conn, f"DROP ROLE IF EXISTS {owner}")
    run(conn, f"CREATE ROLE {owner} LOGIN CREATEDB PASSWORD '{ROLE_PW}'")
    c = psycopg2.connect("", user=owner, password=ROLE_PW)
    c.autocommit = True
    run(c, f"CREATE DATABASE {db}")
    c.close()
    own = psycopg2.connect("", user=owner, password=ROLE_PW, dbname=db)
    own.autocommit = True
    run(own, "CREATE EXTENSION jwt")
    run(own, "SET client_min_messages = warning")
    su = psycopg2.connect("", dbname=db)
    su.autocommit = True
    settings(su, pki)
    iss = Issuer(conn, prov, "/trusted/realm")
    Issuer(conn, prov, "/internal")
    v, state, msg, _ = outcome_of(own, "SELECT jwt_add_issuer(%s, 'api')", (iss.url,))
    T.check("trusted install: the owner cannot register an issuer without a prefix (42501)",
            state == "42501", f"{state} {msg}")
    v, state, msg, _ = outcome_of(su, "SELECT jwt_add_issuer(%s, 'api')", (iss.url,))
    T.check("trusted install: nor can a superuser, for URLs outside the prefixes (the owner writes the tables)",
            state == "42501", f"{state} {msg}")
    run(conn, f"ALTER DATABASE {db} SET jwt.issuer_url_prefixes = %s", (f"{prov.base}/trusted",))
    run(conn, f"ALTER DATABASE {db} SET jwt.issuer_ca_file = %s", (pki.ca,))
    own.close()
    own = psycopg2.connect("", user=owner, password=ROLE_PW, dbname=db)
    own.autocommit = True
    run(own, "SET client_min_messages = warning")
    v, state, msg, _ = outcome_of(own, "SELECT jwt_add_issuer(%s, 'api')", (iss.url,))
    T.check("trusted install: under the prefix a superuser set for the database, the owner registers",
            v == 2, f"{v} {state} {msg}")
    T.check("trusted install: what the owner registers is url_prefixed",
            outcome_of(own, "SELECT url_prefixed FROM jwt_issuers WHERE issuer = %s", (iss.url,))[0] is True)
    # the owner may UPDATE its tables: url_prefixed set false changes nothing for an owner not a superuser
    run(own, "UPDATE jwt_issuers SET jwks_uri = %s, url_prefixed = false WHERE issuer = %s",
        (f"{prov.base}/internal/jwks", iss.url))
    before = len(prov.requests("/internal/jwks"))
    su.close()
    su = psycopg2.connect("", dbname=db)
    su.autocommit = True
    run(su, "SET client_min_messages = warning")
    v, state, msg, notices = outcome_of(su, "SELECT jwt_refresh_issuers()")
    T.check("trusted install: a URL the owner wrote into jwt_issuers is refused, even when a superuser refreshes",
            v == 1 and any("url refused" in n for n in notices), f"{v} {state} {notices}")
    T.check("... and the server never fetched it", len(prov.requests("/internal/jwks")) == before)
    T.check("... and the keys stay", kids(su, iss.url) == iss.kids())
    su.close()
    own.close()
    run(conn, f"DROP DATABASE {db} WITH (FORCE)")
    run(conn, f"DROP ROLE {owner}")


# ------------------------------------------------------------------ 2. the background worker

class Cluster:
    """A private cluster with shared_preload_libraries = 'jwt', on a Unix socket."""

    def __init__(self, conf):
        self.dir = tempfile.mkdtemp(prefix="jwt-issuers-fetch.")
        os.chmod(self.dir, 0o755)
        if os.geteuid() == 0:
            os.chown(self.dir, UID, GID)
        self.data = os.path.join(self.dir, "data")
        self.log = os.path.join(self.dir, "log")
        self.started = False
        r = self.sh([os.path.join(BIN, "initdb"), "-D", self.data, "-U", "postgres", "-A", "trust",
                     "--no-sync"], 120)
        if r.returncode != 0:
            raise RuntimeError(f"initdb: {r.stderr.strip()[-300:]}")
        with open(os.path.join(self.data, "postgresql.conf"), "a") as f:
            f.write("\n".join([f"unix_socket_directories = '{self.dir}'", "port = 5432",
                               "listen_addresses = ''", "fsync = off", "shared_buffers = 16MB",
                               "shared_preload_libraries = 'jwt'"] + conf) + "\n")
        self.start()

    def sh(self, args, timeout):
        env = {k: v for k, v in os.environ.items() if not k.startswith("PG")}
        kw = {"user": UID, "group": GID, "extra_groups": []} if os.geteuid() == 0 else {}
        return subprocess.run(args, capture_output=True, text=True, timeout=timeout, cwd=self.dir, env=env, **kw)

    def start(self):
        r = self.sh([os.path.join(BIN, "pg_ctl"), "-D", self.data, "-l", self.log, "-w", "-t", "60", "start"], 90)
        self.started = True
        if r.returncode != 0:
            raise RuntimeError(f"pg_ctl start: {r.stderr.strip()[-300:]} {self.tail()}")

    def restart(self):
        r = self.sh([os.path.join(BIN, "pg_ctl"), "-D", self.data, "-l", self.log, "-m", "fast", "-w", "-t", "60",
                     "restart"], 90)
        if r.returncode != 0:
            raise RuntimeError(f"pg_ctl restart: {r.stderr.strip()[-300:]} {self.tail()}")

    def tail(self):
        try:
            with open(self.log) as f:
                return " ".join(f.read()[-1500:].split())
        except OSError:
            return ""

    def connect(self, dbname="postgres"):
        conn = psycopg2.connect(host=self.dir, port=5432, user="postgres", dbname=dbname, connect_timeout=10)
        conn.autocommit = True
        return conn

    def stop(self):
        if self.started:
            self.sh([os.path.join(BIN, "pg_ctl"), "-D", self.data, "-m", "immediate", "-w", "stop"], 60)
        shutil.rmtree(self.dir, ignore_errors=True)

    def standby(self):
        """A streaming hot standby of this cluster, with the same preload."""
        sb = Cluster.__new__(Cluster)
        sb.dir = tempfile.mkdtemp(prefix="jwt-issuers-fetch-standby.")
        os.chmod(sb.dir, 0o755)
        if os.geteuid() == 0:
            os.chown(sb.dir, UID, GID)
        sb.data = os.path.join(sb.dir, "data")
        sb.log = os.path.join(sb.dir, "log")
        sb.started = False
        r = sb.sh([os.path.join(BIN, "pg_basebackup"), "-h", self.dir, "-p", "5432", "-U", "postgres",
                   "-D", sb.data, "-R", "-X", "stream"], 120)
        if r.returncode != 0:
            raise RuntimeError(f"pg_basebackup: {r.stderr.strip()[-300:]}")
        with open(os.path.join(sb.data, "postgresql.conf"), "a") as f:
            f.write(f"unix_socket_directories = '{sb.dir}'\nhot_standby = on\n")
        sb.start()
        return sb


def on_standby(node, prov, rot):
    """A hot standby verifies with what its primary fetched: no worker runs
    there, the keys arrive by replication, a refresh there is refused."""
    sb = node.standby()
    try:
        c = sb.connect("jwt_w1")
        T.check("setup: the standby is in recovery", q1(c, "SELECT pg_is_in_recovery()") is True)
        T.check("on a hot standby no worker runs (it starts once recovery has finished)",
                q1(c, "SELECT jwt_issuers_worker_running()") is False
                and q1(c, "SELECT count(*) FROM pg_stat_activity WHERE backend_type LIKE 'jwt issuers%%'") == 0)
        v, state, msg, _ = outcome_of(c, "SELECT jwt_refresh_issuers()")
        T.check("on a hot standby jwt_refresh_issuers() is refused (25006), nothing fetched", state == "25006",
                f"{state} {msg}")
        rot.rotate_in()
        got = wait_for(lambda: kids(c, rot.url), lambda k: k == rot.kids())
        T.check("on a hot standby the keys the primary's worker fetched arrive by replication",
                got == rot.kids(), got)
        s = Session(c)
        got = s.verify(rot.token({"sub": "on-standby", "aud": "api"}))
        T.check("on a hot standby the new key's token verifies through the session path", got == "on-standby", got)
        stranger = rot.token({"sub": "on-standby", "aud": "api"}, key=rot.new_key("ES256"))
        got = (s.verify(stranger), s.hint(stranger))
        T.check("on a hot standby a kid miss is refused, its hint naming the primary (neither a worker nor "
                "jwt_refresh_issuers() can fetch there)",
                got[0] == refused(NO_KID) and "primary" in (got[1] or "")
                and "jwt_refresh_issuers" not in got[1] and "shared_preload_libraries" not in got[1], got)
        c.close()
    finally:
        sb.stop()


def kid_miss(node, cw, prov):
    """A token with a kid its issuer's stored set lacks, in a database whose
    schedule is hourly: the session path wakes the worker (jwt_issuers_wake,
    no SQL call asks), the token is refused now and accepted by a later
    statement; a second miss within 30 s fetches nothing."""
    km = Issuer(cw, prov, "/worker/kid-miss")
    T.check("setup: the kid miss's issuer is registered", q1(cw, "SELECT jwt_add_issuer(%s, 'api')", (km.url,)) == 2)
    s = Session(node.connect("jwt_wake"))
    try:
        T.check("setup: a token of its stored keys verifies through the session path",
                s.verify(km.token({"sub": "known", "aud": "api"})) == "known", s.claim())
        km.rotate_in()
        fetches = len(prov.requests(km.jwks_path))
        t0 = time.monotonic()
        got = s.verify(km.token({"sub": "newcomer", "aud": "api"}))
        T.check("kid miss: the token is refused now (28000), the detail saying the key set is being refreshed",
                got == refused(NO_KID_REFRESHING), got)
        got = wait_for(s.claim, lambda v: v == "newcomer")
        took = time.monotonic() - t0
        T.check(f"kid miss: a later statement accepts the token, once the worker fetched (took {took:.1f} s)",
                got == "newcomer", f"{got} {node.tail()}")
        T.check("kid miss: the session path woke the worker for that issuer: one fetch, and the issuer is in its "
                "cooldown (jwt_wake_issuer() is dropped)",
                len(prov.requests(km.jwks_path)) == fetches + 1
                and q1(cw, "SELECT jwt_wake_issuer(%s)", (km.url,)) is False, prov.requests(km.jwks_path))
        km.rotate_in()
        got = s.verify(km.token({"sub": "second", "aud": "api"}))
        T.check("kid miss: a second unknown kid within 30 s is refused too", got == refused(NO_KID_REFRESHING), got)
        # Whether it fetched: another issuer of the database woken after it is
        # fetched in the same round or a later one; once that one is stored, a
        # fetch the second miss asked for would have been made.
        after = Issuer(cw, prov, "/worker/after-miss")
        T.check("setup: a second issuer in the database",
                q1(cw, "SELECT jwt_add_issuer(%s, 'api')", (after.url,)) == 2)
        after.rotate_in()
        T.check("setup: the second issuer is woken", q1(cw, "SELECT jwt_wake_issuer(%s)", (after.url,)) is True)
        got = wait_for(lambda: kids(cw, after.url), lambda k: k == after.kids())
        took = time.monotonic() - t0
        T.check(f"kid miss: a second miss within 30 s of the first (here {took:.1f} s) does not fetch again "
                "(the cooldown), though the worker has fetched since",
                got == after.kids() and took < 30 and len(prov.requests(km.jwks_path)) == fetches + 1,
                f"{got} {prov.requests(km.jwks_path)}")
        got = s.claim()
        T.check("kid miss: ... so the second token stays refused", got == refused(NO_KID_REFRESHING), got)
    finally:
        s.conn.close()


def worker_no_loop(node, c1, c2, prov):
    """What the worker cannot do is tried again after refresh_min, never at
    once in a loop: a result it cannot store, a plan it cannot make.  (This
    cluster logs at log_min_messages = log, which leaves WARNINGs out: what
    is checked is what the worker does.)"""
    def attempted(c, url):
        return q1(c, "SELECT attempted_at FROM jwt_issuer_fetches WHERE issuer = %s", (url,))

    def log_text():
        with open(node.log) as f:
            return f.read()

    def workers_seen(db, seconds):
        pids, end = set(), time.monotonic() + seconds
        while time.monotonic() < end:
            pids.update(r[0] for r in qall(c1, "SELECT pid FROM pg_stat_activity WHERE backend_type = "
                                               "'jwt issuers worker' AND datname = %s", (db,)))
            time.sleep(0.005)   # the sampling interval: a worker lives some milliseconds
        return len(pids)

    # a result that cannot be stored (here a trigger refuses it): the issuer
    # stays due, and is fetched again after refresh_min (1 s here)
    sf = Issuer(c1, prov, "/worker/store-fails", max_age=1)
    T.check("setup: an issuer whose fetches will not be stored",
            q1(c1, "SELECT jwt_add_issuer(%s, 'api')", (sf.url,)) == 2)
    run(c1, "CREATE FUNCTION public.refuse_fetch() RETURNS trigger LANGUAGE plpgsql "
            "AS $$BEGIN RAISE EXCEPTION 'refused by the test'; END$$")
    run(c1, "CREATE TRIGGER refuse_fetch BEFORE INSERT OR UPDATE ON jwt_issuer_fetches FOR EACH ROW "
            f"WHEN (NEW.issuer = '{sf.url}') EXECUTE FUNCTION public.refuse_fetch()")
    try:
        stored = attempted(c1, sf.url)
        sf.publish()
        n0 = len(prov.requests(sf.jwks_path))
        got = wait_for(lambda: len(prov.requests(sf.jwks_path)), lambda n: n > n0)
        T.check("setup: the worker fetches the issuer whose result it cannot store", got > n0, node.tail())
        n0 = len(prov.requests(sf.jwks_path))
        time.sleep(4)
        n = len(prov.requests(sf.jwks_path)) - n0
        T.check("setup: ... and stores none of its results", attempted(c1, sf.url) == stored)
        T.check(f"a result the worker cannot store: its issuer is fetched again after refresh_min, not at once "
                f"for ever ({n} fetches in 4 s)", 1 <= n <= 8, n)
    finally:
        run(c1, "DROP TRIGGER refuse_fetch ON jwt_issuer_fetches")
        run(c1, "DROP FUNCTION public.refuse_fetch()")
    got = wait_for(lambda: attempted(c1, sf.url), lambda v: v != stored)
    T.check("once it can be stored, the next fetch is", got != stored, got)
    run(c1, "SELECT jwt_drop_issuer(%s)", (sf.url,))

    # the largest settings the check hooks take, and an issuer of the largest
    # row the tables take: the worker's plan holds them (it held neither
    # settings over 256 kB, which overflowed it, nor, planning nothing,
    # waited: it planned again at once)
    db = c2.info.dbname
    own = Issuer(c2, prov, f"/worker/{db}-" + "n" * 1900, max_age=1)   # fetched by this database alone
    T.check("setup: the database has an issuer of its own with a name of 1,900 bytes, fetched every second",
            q1(c2, "SELECT jwt_add_issuer(%s, 'api')", (own.url,)) == 2)
    paths = [own.jwks_path]
    big = ", ".join(["https://x.example/" + "a" * 1000] * 64)[:64 * 1024]
    run(c2, f"ALTER DATABASE {db} SET jwt.issuer_url_prefixes = %s", (big,))
    run(c2, f"ALTER DATABASE {db} SET jwt.issuer_ca_file = %s", (q1(c2, "SHOW jwt.issuer_ca_file"),))
    try:
        time.sleep(1)
        n0 = sum(len(prov.requests(p)) for p in paths)
        seen = workers_seen(db, 4)
        n = sum(len(prov.requests(p)) for p in paths) - n0
        T.check(f"with 64 kB of jwt.issuer_url_prefixes the worker plans and fetches the database's issuer "
                f"({n} fetches and {seen} workers in 4 s), and crashes nowhere",
                1 <= n <= 8 and seen <= 20 and "terminated by signal" not in log_text(), (n, seen, node.tail()))
    finally:
        run(c2, f"ALTER DATABASE {db} RESET jwt.issuer_url_prefixes")
        run(c2, f"ALTER DATABASE {db} RESET jwt.issuer_ca_file")
    run(c2, "SELECT jwt_drop_issuer(%s)", (own.url,))

def with_worker(pki, prov):
    node = Cluster([f"jwt.issuer_ca_file = '{pki.ca}'", "jwt.issuer_refresh_min = 1",
                    "jwt.issuer_timeout = 5", "log_min_messages = log"])
    try:
        admin = node.connect()
        for db in ("jwt_w1", "jwt_w2", "jwt_w3", "jwt_wake"):
            run(admin, f"CREATE DATABASE {db}")
        # the wake database refreshes on schedule only hourly: what it fetches early, a wake fetched
        run(admin, "ALTER DATABASE jwt_wake SET jwt.issuer_refresh_min = 3600")
        run(admin, "ALTER DATABASE jwt_wake SET jwt.issuer_refresh_max = 3600")
        conns = {}
        for db in ("jwt_w1", "jwt_w2", "jwt_w3", "jwt_wake"):
            conns[db] = node.connect(db)
            run(conns[db], "CREATE EXTENSION jwt")
            run(conns[db], "SET client_min_messages = warning")
        c1, c2 = conns["jwt_w1"], conns["jwt_w2"]
        T.check("with shared_preload_libraries = 'jwt' the worker runs (status view, jwt_issuers_worker_running)",
                wait_for(lambda: q1(c1, "SELECT jwt_issuers_worker_running()"), lambda v: v is True) is True,
                node.tail())
        T.check("the launcher is connected to no database",
                q1(c1, "SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'jwt issuers launcher' "
                       "AND datid IS NULL") == 1,
                qall(c1, "SELECT backend_type, datname FROM pg_stat_activity"))

        # rotation with no SQL call, in two databases
        rot = Issuer(c1, prov, "/worker/rot", max_age=1)
        for c in (c1, c2):
            T.check(f"setup: {c.info.dbname} registers the issuer", q1(c, "SELECT jwt_add_issuer(%s, 'api')", (rot.url,)) == 2)
        T.check("the status view says a worker runs", (status(c1, rot.url) or {}).get("worker_running") is True)
        # sessions open across the rotation, one per database: the session path
        sessions = {db: Session(node.connect(db)) for db in ("jwt_w1", "jwt_w2")}
        for db, s in sessions.items():
            T.check(f"setup: in {db} a token of the registered keys verifies through the session path",
                    s.verify(rot.token({"sub": "before", "aud": "api"})) == "before", s.claim())
        rot.rotate_in()
        tokens = {k["kid"]: rot.token({"sub": f"user-{k['kid']}", "aud": "api"}, key=k) for k in rot.private}
        newest = rot.private[-1]["kid"]
        for c in (c1, c2):
            got = wait_for(lambda: kids(c, rot.url), lambda k: k == rot.kids())
            T.check(f"rotation in: the new key reaches {c.info.dbname} with no SQL call", got == rot.kids(),
                    f"{got} vs {rot.kids()} {node.tail()}")
        for db, s in sessions.items():
            got = s.verify(tokens[newest])
            T.check(f"rotation in: once the worker fetched it, the new key's token verifies in {db}'s open session",
                    got == f"user-{newest}", got)
        removed = rot.private[0]["kid"]        # the oldest key
        for db, s in sessions.items():
            s.set(tokens[removed])
            T.check(f"setup: in {db} the token of the key to be removed verifies (set once, in the open session)",
                    s.claim() == f"user-{removed}", s.claim())
        rot.private = [k for k in rot.private if k["kid"] != removed]
        rot.publish()
        for c in (c1, c2):
            got = wait_for(lambda: kids(c, rot.url), lambda k: k == rot.kids())
            T.check(f"rotation out: the removed key is gone from {c.info.dbname} with no SQL call",
                    got == rot.kids() and removed not in (got or []), got)
        for db, s in sessions.items():
            got = s.claim()
            T.check(f"rotation out: in {db}'s open session the removed key's token is refused from the next "
                    "statement", got == refused(NO_KID_REFRESHING), got)
            got = s.verify(tokens[newest])
            T.check(f"rotation out: ... and the new key's token still verifies in {db}", got == f"user-{newest}", got)
        T.check("the worker fetches with If-None-Match (304s in between)",
                any(h is not None for h in prov.requests(rot.jwks_path)))
        T.check("the worker's fetches are in the status view",
                (status(c1, rot.url) or {}).get("last_outcome") in ("ok", "not modified"), status(c1, rot.url))
        on_standby(node, prov, rot)

        # a wake: fetched now, then a cooldown of 30 s
        cw = conns["jwt_wake"]
        wk = Issuer(cw, prov, "/worker/wake")
        T.check("setup: the wake database registers its issuer", q1(cw, "SELECT jwt_add_issuer(%s, 'api')", (wk.url,)) == 2)
        T.check("setup: its next scheduled fetch is an hour away",
                q1(cw, "SELECT next_fetch_at > now() + interval '50 minutes' FROM jwt_issuers_status") is True)
        wk.rotate_in()
        t0 = time.monotonic()
        T.check("jwt_wake_issuer() asks the worker", q1(cw, "SELECT jwt_wake_issuer(%s)", (wk.url,)) is True)
        got = wait_for(lambda: kids(cw, wk.url), lambda k: k == wk.kids())
        took = time.monotonic() - t0
        T.check(f"a wake is fetched well within the 30 s cooldown (took {took:.1f} s)",
                got == wk.kids() and took < 30, f"{got} {node.tail()}")
        T.check("a second wake within 30 s is dropped", q1(cw, "SELECT jwt_wake_issuer(%s)", (wk.url,)) is False)
        wa = Issuer(cw, prov, "/worker/wake-alias", discovery=False)
        T.check("setup: an issuer with an alias", q1(cw, "SELECT jwt_add_issuer(%s, 'api', %s, aliases => "
                                                         "'{wake-alias}')", (wa.url, wa.jwks_uri)) == 2)
        wa.rotate_in()
        T.check("a wake by the issuer's alias is passed on", q1(cw, "SELECT jwt_wake_issuer('wake-alias')") is True)
        got = wait_for(lambda: kids(cw, wa.url), lambda k: k == wa.kids())
        T.check("a wake by an alias fetches that issuer", got == wa.kids(), got)
        # made-up names: never passed on, so they neither fill the cooldowns nor make every issuer due
        before = len(prov.requests(wk.jwks_path)) + len(prov.requests(wa.jwks_path))
        made_up = [q1(cw, "SELECT jwt_wake_issuer(%s)", (f"https://made-up.example/{i}",)) for i in range(40)]
        T.check("jwt_wake_issuer() of a name no issuer has is not passed on (false)",
                made_up == [False] * 40, made_up)
        time.sleep(3)
        T.check("... and 40 of them fetch none of the database's issuers (not 'every issuer woken')",
                len(prov.requests(wk.jwks_path)) + len(prov.requests(wa.jwks_path)) == before,
                (prov.requests(wk.jwks_path), prov.requests(wa.jwks_path)))
        kid_miss(node, cw, prov)
        worker_no_loop(node, c1, conns["jwt_w2"], prov)

        # DROP DATABASE and CREATE DATABASE ... TEMPLATE while a fetch is stalled
        c3 = conns["jwt_w3"]
        st = Issuer(c1, prov, "/worker/stall", max_age=1)     # keys made in c1: c3 closes
        T.check("setup: the stalling database registers its issuer", q1(c3, "SELECT jwt_add_issuer(%s, 'api')", (st.url,)) == 2)
        c3.close()
        stall = st.publish(delay=20)
        T.check("setup: the worker's fetch is stalled at the provider", stall.started.wait(DEADLINE), node.tail())
        v, state, msg, _ = outcome_of(admin, "CREATE DATABASE jwt_w3_copy TEMPLATE jwt_w3")
        T.check("CREATE DATABASE ... TEMPLATE is not kept waiting by a stalled fetch",
                state is None and not stall.finished.is_set(), f"{state} {msg}")
        v, state, msg, _ = outcome_of(admin, "DROP DATABASE jwt_w3")
        T.check("DROP DATABASE (without FORCE) is not kept waiting by a stalled fetch",
                state is None and not stall.finished.is_set(), f"{state} {msg}")
        stall.release()
        run(admin, "DROP DATABASE IF EXISTS jwt_w3_copy")
        T.check("after the dropped database's fetch ends, the worker runs on",
                wait_for(lambda: q1(c1, "SELECT jwt_issuers_worker_running()"), lambda v: v is True) is True)

        # more databases than the worker's 64 slots: those without the extension give theirs up
        for i in range(62):
            run(admin, f"CREATE DATABASE jwt_idle_{i}")

        # a restart keeps the keys, and the worker runs again
        before = kids(c1, rot.url)
        for c in list(conns.values()) + [s.conn for s in sessions.values()] + [admin]:
            try:
                c.close()
            except psycopg2.Error:
                pass
        node.restart()
        c1 = node.connect("jwt_w1")
        rot.conn = c1
        T.check("after a restart the keys are still there (stored, not only cached)", kids(c1, rot.url) == before,
                kids(c1, rot.url))
        got = Session(c1).verify(tokens[newest])
        T.check("after a restart a token of the stored keys verifies through the session path",
                got == f"user-{newest}", got)
        T.check("after a restart the worker runs again",
                wait_for(lambda: q1(c1, "SELECT jwt_issuers_worker_running()"), lambda v: v is True) is True)
        rot.rotate_in()
        got = wait_for(lambda: kids(c1, rot.url), lambda k: k == rot.kids())
        T.check("after a restart rotation still reaches the database", got == rot.kids(), got)

        def log_text():
            with open(node.log) as f:
                return f.read()
        unserved = wait_for(lambda: re.findall(r"cannot serve database (\d+)", log_text()), lambda v: len(v) > 0)
        T.check("66 databases, 64 slots: a database the worker cannot serve is logged", len(unserved) > 0,
                node.tail())
        run(c1, "CREATE DATABASE jwt_late")
        cl = node.connect("jwt_late")
        run(cl, "CREATE EXTENSION jwt")
        run(cl, "SET client_min_messages = warning")
        late = Issuer(cl, prov, "/worker/late", max_age=1)
        T.check("setup: a database made after 62 without the extension registers an issuer",
                q1(cl, "SELECT jwt_add_issuer(%s, 'api')", (late.url,)) == 2)
        late.rotate_in()
        got = wait_for(lambda: kids(cl, late.url), lambda k: k == late.kids(), deadline=100)
        T.check("... and the worker serves it: a slot of a database without the extension was given up to it",
                got == late.kids(), f"{got} {node.tail()}")
        counts = {db: re.findall(r"cannot serve database (\d+)", log_text()).count(db) for db in set(unserved)}
        T.check("each database the worker cannot serve is logged once", all(n == 1 for n in counts.values()), counts)
        cl.close()
        c1.close()
        T.check("the server log has no crash and no worker error",
                "terminated by signal" not in node.tail() and "was terminated" not in node.tail(), node.tail())
    finally:
        node.stop()


# ------------------------------------------------------------------ 3. under valgrind

def ec_jwk(kid):
    from cryptography.hazmat.primitives.asymmetric import ec
    n = ec.generate_private_key(ec.SECP256R1()).public_key().public_numbers()
    return {"kty": "EC", "crv": "P-256", "kid": kid, "alg": "ES256",
            "x": b64u(n.x.to_bytes(32, "big")), "y": b64u(n.y.to_bytes(32, "big"))}


def under_valgrind(pki, prov, rogue):
    """A single-user backend under valgrind fetches every outcome, one of them
    cancelled by statement_timeout: no block of jwt_fetch.so's or libcurl's is
    definitely lost, and no invalid access is made in them."""
    if shutil.which("valgrind") is None:
        T.skip("valgrind", "valgrind is not installed")
        return
    good = {"keys": [ec_jwk("a"), ec_jwk("b"), weak_rsa_jwk("weak")]}
    prov.route("/vg/.well-known/openid-configuration", {"issuer": prov.base + "/vg", "jwks_uri": prov.base + "/vg/jwks"})
    prov.route("/vg/jwks", good, etag='"vg"', headers={"Cache-Control": "max-age=600"})
    prov.route("/vg/e500", b"x", status=500)
    prov.route("/vg/bad", b"{nope")
    prov.route("/vg/big", b"x" * 5000, chunked=True)
    prov.route("/vg/secret", {"keys": [{"kty": "oct", "k": b64u(os.urandom(32))}]})
    prov.route("/vg/redir", b"", status=302, headers={"Location": f"https://localhost:{prov.port}/x"})
    prov.route("/vg/moved", b"", status=301, headers={"Location": "/vg/jwks"})
    prov.route("/vg/slow", good, delay=30)
    prov.route("/vg2/.well-known/openid-configuration", {"issuer": prov.base + "/vg2", "jwks_uri": "http://127.0.0.1/"})
    rogue.route("/vg/jwks", good)
    u = prov.base
    sql = f"""
CREATE EXTENSION jwt;
SET jwt.issuer_ca_file = '{pki.ca}';
SET jwt.issuer_max_response_size = 4096;
SET client_min_messages = error;
SELECT jwt_add_issuer('{u}/vg', 'api');
SELECT jwt_add_issuer('e500', 'api', '{u}/vg/e500');
SELECT jwt_add_issuer('bad', 'api', '{u}/vg/bad');
SELECT jwt_add_issuer('big', 'api', '{u}/vg/big');
SELECT jwt_add_issuer('secret', 'api', '{u}/vg/secret');
SELECT jwt_add_issuer('redir', 'api', '{u}/vg/redir');
SELECT jwt_add_issuer('moved', 'api', '{u}/vg/moved');
SELECT jwt_add_issuer('rogue', 'api', '{rogue.base}/vg/jwks');
SELECT jwt_add_issuer('down', 'api', 'https://127.0.0.1:{closed_port()}/jwks');
SELECT jwt_add_issuer('{u}/vg2', 'api');
SELECT jwt_refresh_issuers();
SET jwt.issuer_timeout = 1;
SELECT jwt_add_issuer('slow', 'api', '{u}/vg/slow');
SET jwt.issuer_timeout = 60;
SET statement_timeout = '1500ms';
SELECT jwt_refresh_issuers('slow');
SET statement_timeout = 0;
SELECT 'outcomes', string_agg(DISTINCT outcome, ',' ORDER BY outcome) FROM jwt_issuer_fetches;
"""
    work = tempfile.mkdtemp(prefix="jwt-issuers-valgrind.")
    os.chmod(work, 0o755)
    if os.geteuid() == 0:
        os.chown(work, UID, GID)
    try:
        kw = {"user": UID, "group": GID, "extra_groups": []} if os.geteuid() == 0 else {}
        env = {k: v for k, v in os.environ.items() if not k.startswith("PG")}
        r = subprocess.run([os.path.join(BIN, "initdb"), "-D", os.path.join(work, "data"), "-U", "postgres",
                            "-A", "trust", "--no-sync"], capture_output=True, text=True, timeout=120, env=env, **kw)
        if r.returncode != 0:
            raise RuntimeError(f"initdb: {r.stderr.strip()[-300:]}")
        log = os.path.join(work, "valgrind.log")
        r = subprocess.run(["valgrind", "--leak-check=full", "--show-leak-kinds=definite", "--num-callers=40",
                            f"--log-file={log}", os.path.join(BIN, "postgres"), "--single", "-D",
                            os.path.join(work, "data"), "postgres"],
                           input=sql, capture_output=True, text=True, timeout=900, env=env, **kw)
        out = r.stdout + r.stderr
        missing = [o for o in ("connect", "http status", "parse", "redirect", "secret", "timeout", "tls",
                               "too large", "url refused") if f": {o}" not in out]
        T.check("under valgrind: every failing outcome was reached", not missing, missing)
        T.check("under valgrind: the good issuer's two keys were taken", 'jwt_add_issuer = "2"' in out, out[-600:])
        T.check("under valgrind: statement_timeout cancelled the stalled refresh",
                "canceling statement due to statement timeout" in out, out[-800:])
        with open(log) as f:
            # each line is "==PID== text"; a record ends at an empty text
            text = "\n".join(line.split("== ", 1)[-1] if line.startswith("==") else line
                             for line in f.read().splitlines())
        ours = ("jwt_fetch.so", "libcurl", "libssl", "libcrypto", "libnghttp2")
        bad = [rec.strip()[:600] for rec in re.split(r"\n\s*\n", text)
               if ("definitely lost" in rec or "Invalid read" in rec or "Invalid write" in rec
                   or "uninitialised value" in rec) and any(o in rec for o in ours)]
        T.check("under valgrind: no block of jwt_fetch.so, libcurl or OpenSSL definitely lost, no invalid access",
                not bad, bad[:3])
    finally:
        shutil.rmtree(work, ignore_errors=True)


# ------------------------------------------------------------------ main

def main():
    folder = tempfile.mkdtemp(prefix="jwt-issuers-pki.")
    os.chmod(folder, 0o755)
    provs = []
    try:
        pki = Pki(folder)
        prov = Provider(pki.cert, pki.key)
        rogue = Provider(pki.rogue_cert, pki.rogue_key)
        provs += [prov, rogue]
        conn = T.connect(virtualenv="pg_virtualenv -v 15 or tmp/pgenv/pgx")
        run(conn, "DELETE FROM jwt_issuers")
        sess = Session(T.connect())
        for name, fn in (("in this backend", lambda: in_backend(conn, sess, pki, prov, rogue)),
                         ("a hostile provider", lambda: hostile(conn, sess, pki, prov)),
                         ("two issuers, one kid", lambda: same_kid(conn, sess, prov)),
                         ("providers' shapes", lambda: shapes(conn, sess, prov)),
                         ("the URL policy", lambda: policy(conn, pki, prov)),
                         ("a trusted install", lambda: trusted_install(conn, pki, prov)),
                         ("the background worker", lambda: with_worker(pki, prov)),
                         ("valgrind", lambda: under_valgrind(pki, prov, rogue))):
            try:
                fn()
            except Exception as e:     # noqa: BLE001: report, go on with the next part
                where = [f for f in traceback.extract_tb(e.__traceback__)
                         if f.name not in ("q1", "qall", "run", "outcome_of", "wait_for", "<lambda>")][-1]
                T.check(f"{name}: runs to its end", False,
                        f"{type(e).__name__}: {e} (line {where.lineno}: {where.line})")
        run(conn, "DELETE FROM jwt_issuers")
        sess.conn.close()
        conn.close()
    finally:
        for p in provs:
            p.stop()
        shutil.rmtree(folder, ignore_errors=True)
    T.finish()


if __name__ == "__main__":
    main()
