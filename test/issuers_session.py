#!/usr/bin/python3
"""Identity providers on the session path, across sessions and plans.

Run inside a throwaway cluster (PG* naming a superuser), after make install:

    pg_virtualenv -t -v 15 /usr/bin/python3 test/issuers_session.py

sql/issuers.sql checks the routing rules one token at a time in one
session; this suite checks what needs more than that, with keys written
straight into jwt_issuers.jwks as a fetch stores them (the fetcher has a
suite of its own, test/issuers_fetch.py):

  1. another session's change to jwt_issuers reaches an open session from
     its next statement, inside an open READ COMMITTED transaction: a new
     issuer's tokens verify, a key removed stops verifying (rotation), a
     dropped issuer's tokens go to the registry, which refuses them; also
     when the change is written as a logical replication apply worker
     writes it (session_replication_role = replica: the row triggers);
  2. in REPEATABLE READ the transaction's snapshot decides, as for jwt_keys:
     an issuer added after the snapshot is seen from the next transaction;
  3. a parallel plan (force_parallel_mode / debug_parallel_query) gives what
     a serial one gives: jwt_claim, jwt_scopes, jwt_has_scope and
     jwt_issuer_jwks in workers, and the refusal of an unknown kid;
  4. the WARNINGs a load gives for an issuer it cannot use (a shared secret
     in the set, a set that does not parse, an unknown or symmetric
     algorithm, a spelling two issuers claim) name the issuer and the
     reason, never a key; the issuer's tokens are refused;
  5. a role with no privilege on jwt_issuers (which it cannot read) has its
     issuer tokens verified, and calls jwt_issuer_jwks, jwt_scopes and
     jwt_has_scope, which are open to PUBLIC;
  6. one session verifying tokens of 20 issuers in turn, and of issuers
     with several aliases each, gives each token its own issuer's answer.

Ends with "issuers-session: N passed, N failed".
"""

import json
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import suite  # noqa: E402

S = suite.Suite("issuers-session", "JWT_ISSUERS_SESSION_REEXEC")
try:
    import psycopg2
    import psycopg2.extensions
except ImportError as e:
    S.reexec_or_cannot_run(e, "python3-psycopg2")

DB = "jwt_issuers_session"
ROLE = "jwt_issuers_session_web"
EXP = int(time.time()) + 3600


def connect(db=DB, isolation=None, **kw):
    conn = psycopg2.connect(dbname=db, **kw)
    if isolation is None:
        conn.autocommit = True
    else:
        conn.set_session(isolation_level=isolation, autocommit=False)
    return conn


def q1(conn, sql, params=None):
    with conn.cursor() as cur:
        cur.execute(sql, params)
        row = cur.fetchone() if cur.description else None
        return row[0] if row else None


def outcome(conn, sql, params=None):
    """The value, or ('error', SQLSTATE, detail)."""
    try:
        return q1(conn, sql, params)
    except psycopg2.Error as e:
        if not conn.autocommit:
            conn.rollback()
        return ("error", e.pgcode, e.diag.message_detail or "")


def claim(conn, token, name="sub"):
    """jwt_claim(name) of the token in conn's session (set for the session)."""
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT set_config('jwt.token', %s, false)", (token,))
            cur.execute("SELECT jwt_claim(%s)", (name,))
            return cur.fetchone()[0]
    except psycopg2.Error as e:
        if not conn.autocommit:
            conn.rollback()
        return ("error", e.pgcode, e.diag.message_detail or "")


class Keys:
    """Key pairs made by the extension, tokens signed with them."""

    def __init__(self, conn):
        self.conn = conn
        self.private = {}

    def new(self, name, alg="ES256", kid=None):
        jwk = json.loads(q1(self.conn, "SELECT jwt_generate_key(%s)::text", (alg,)))
        jwk["kid"] = kid or name
        self.private[name] = (jwk, alg)
        return jwk

    def public(self, *names):
        return json.dumps({"keys": [json.loads(q1(self.conn, "SELECT jwt_public_jwk(%s::jsonb)::text",
                                                  (json.dumps(self.private[n][0]),)))
                                    for n in names]})

    def token(self, name, claims):
        jwk, alg = self.private[name]
        return q1(self.conn, "SELECT jwt_sign(%s::jsonb, %s::jsonb, %s)",
                  (json.dumps(claims), json.dumps(jwk), alg))


def add_issuer(conn, issuer, audience, jwks, algorithms=None, aliases=()):
    q1(conn, "INSERT INTO jwt_issuers (issuer, aliases, audience, algorithms, jwks, jwks_fetched_at, added_at) "
             "VALUES (%s, %s, %s, %s, %s::jsonb, now(), now())",
       (issuer, list(aliases), audience, algorithms, jwks))


def main():
    try:
        admin = psycopg2.connect("")
        admin.autocommit = True
    except psycopg2.Error as e:
        S.cannot_run(f"cannot connect ({str(e).strip()}); run under pg_virtualenv -v 15")
    q1(admin, f"DROP DATABASE IF EXISTS {DB}")
    q1(admin, f"CREATE DATABASE {DB}")
    if q1(admin, "SELECT count(*) FROM pg_roles WHERE rolname = %s", (ROLE,)):
        q1(admin, f"DROP ROLE {ROLE}")
    q1(admin, f"CREATE ROLE {ROLE} LOGIN PASSWORD 'web'")
    try:
        su = connect()
        q1(su, "CREATE EXTENSION jwt")
        keys = Keys(su)
        S.setup("across sessions", lambda: across_sessions(su, keys))
        S.setup("repeatable read", lambda: repeatable_read(su, keys))
        S.setup("parallel plans", lambda: parallel(su, keys))
        S.setup("warnings", lambda: warnings(su, keys))
        S.setup("an ordinary role", lambda: ordinary_role(su, keys))
        S.setup("many issuers", lambda: many_issuers(su, keys))
        su.close()
    finally:
        q1(admin, f"DROP DATABASE IF EXISTS {DB} WITH (FORCE)")
        q1(admin, f"DROP ROLE IF EXISTS {ROLE}")
        admin.close()
    S.finish()


def across_sessions(su, keys):
    q1(su, "DELETE FROM jwt_issuers")
    keys.new("x1", "ES256", "x-1")
    keys.new("x2", "EdDSA", "x-2")
    keys.new("reg", "ES256", "x-1")
    q1(su, "SELECT jwt_add_key(%s::jsonb, 'ES256', 'x-1')",
       (q1(su, "SELECT jwt_public_jwk(%s::jsonb)::text", (json.dumps(keys.private["reg"][0]),)),))
    claims = {"iss": "https://x.example/", "sub": "xena", "aud": "api", "exp": EXP}
    t1 = keys.token("x1", claims)
    t2 = keys.token("x2", dict(claims, sub="xavier"))

    s = connect(isolation=psycopg2.extensions.ISOLATION_LEVEL_READ_COMMITTED)
    q1(s, "SELECT 1")          # the transaction is open from here on
    S.check("before the issuer is registered, its token takes the registry path (same kid, "
            "another key: refused)", claim(s, t1) == ("error", "28000", "The signature does not verify."),
            claim(s, t1))
    add_issuer(su, "https://x.example/", ["api"], keys.public("x1"))
    S.check("another session registers the issuer: the open transaction verifies its token "
            "from its next statement", claim(s, t1) == "xena", claim(s, t1))
    S.check("... a key the issuer does not have yet: refused, naming the kid",
            claim(s, t2) == ("error", "28000", 'No key of the token\'s issuer has the token\'s "kid".'),
            claim(s, t2))
    q1(su, "UPDATE jwt_issuers SET jwks = %s::jsonb WHERE issuer = 'https://x.example/'",
       (keys.public("x1", "x2"),))
    S.check("rotation, step 1: the new key published, both tokens verify",
            (claim(s, t2), claim(s, t1)) == ("xavier", "xena"), (claim(s, t2), claim(s, t1)))
    q1(su, "UPDATE jwt_issuers SET jwks = %s::jsonb WHERE issuer = 'https://x.example/'",
       (keys.public("x2"),))
    S.check("rotation, step 2: the old key removed stops verifying at the next statement "
            "(a cached token too)",
            (claim(s, t1), claim(s, t2)) == (("error", "28000",
                                              'No key of the token\'s issuer has the token\'s "kid".'),
                                             "xavier"), (claim(s, t1), claim(s, t2)))
    # the row triggers, as a logical replication apply worker fires them
    r = connect()
    q1(r, "SET session_replication_role = replica")
    q1(r, "UPDATE jwt_issuers SET jwks = %s::jsonb WHERE issuer = 'https://x.example/'",
       (keys.public("x1"),))
    S.check("a change written with session_replication_role = replica (an apply worker's "
            "row triggers) reaches the open transaction too",
            (claim(s, t1), claim(s, t2)[0]) == ("xena", "error"), (claim(s, t1), claim(s, t2)))
    q1(r, "DELETE FROM jwt_issuers WHERE issuer = 'https://x.example/'")
    r.close()
    S.check("the issuer dropped: its token goes to the registry, whose key with the same kid "
            "refuses it", claim(s, t1) == ("error", "28000", "The signature does not verify."),
            claim(s, t1))
    s.rollback()
    s.close()
    q1(su, "DELETE FROM jwt_keys")


def repeatable_read(su, keys):
    q1(su, "DELETE FROM jwt_issuers")
    keys.new("rr", "ES256", "rr-1")
    t = keys.token("rr", {"iss": "https://rr.example", "sub": "rita", "exp": EXP})
    s = connect(isolation=psycopg2.extensions.ISOLATION_LEVEL_REPEATABLE_READ)
    q1(s, "SELECT 1")          # the snapshot is taken
    add_issuer(su, "https://rr.example", None, keys.public("rr"))
    got = claim(s, t)
    S.check("REPEATABLE READ: an issuer added after the snapshot is not seen in the transaction "
            "(the registry, now empty, says the token names none)",
            got == ("error", "28000", "The key registry jwt_keys holds no key."), got)
    s.rollback()
    S.check("... and is seen from the next transaction", claim(s, t) == "rita", claim(s, t))
    s.rollback()
    s.close()


def parallel_setting(conn):
    for name in ("debug_parallel_query", "force_parallel_mode"):
        if q1(conn, "SELECT count(*) FROM pg_settings WHERE name = %s", (name,)):
            return name
    return None


def parallel(su, keys):
    q1(su, "DELETE FROM jwt_issuers")
    keys.new("p", "ES256", "p-1")
    add_issuer(su, "https://p.example", ["api"], keys.public("p"), aliases=["p.example"])
    good = keys.token("p", {"iss": "p.example", "sub": "pat", "aud": "api", "exp": EXP,
                            "scp": ["orders:read", "openid"]})
    keys.new("p-unknown", "ES256", "p-9")
    unknown = keys.token("p-unknown", {"iss": "https://p.example", "sub": "pat", "aud": "api", "exp": EXP})
    q1(su, "CREATE TABLE IF NOT EXISTS par (id int, owner text)")
    q1(su, "TRUNCATE par")
    q1(su, "INSERT INTO par SELECT i, CASE WHEN i % 3 = 0 THEN 'pat' ELSE 'other' END "
           "FROM generate_series(1, 3000) i")
    q1(su, "ANALYZE par")
    setting = parallel_setting(su)
    if setting is None:
        S.skip("parallel plans", "no force_parallel_mode or debug_parallel_query")
        return
    query = ("SELECT count(*) FILTER (WHERE owner = jwt_claim('sub')) || ' ' || "
             "count(*) FILTER (WHERE jwt_has_scope('orders:read')) || ' ' || "
             "count(*) FILTER (WHERE jwt_has_scope('orders:write')) || ' ' || "
             "min(array_to_string(jwt_scopes(), ',')) || ' ' || "
             "min(jsonb_array_length(jwt_issuer_jwks('https://p.example') -> 'keys')) FROM par")
    answers = {}
    for mode in ("off", "on"):
        c = connect()
        q1(c, f"SET {setting} = {mode}")
        q1(c, "SET parallel_setup_cost = 0; SET parallel_tuple_cost = 0; "
              "SET min_parallel_table_scan_size = 0; SET max_parallel_workers_per_gather = %s",
           (2 if mode == "on" else 0,))
        q1(c, "SELECT set_config('jwt.token', %s, false)", (good,))
        with c.cursor() as cur:
            cur.execute("EXPLAIN (COSTS OFF) " + query)
            plan = " ".join(r[0] for r in cur.fetchall())
        answers[mode] = (outcome(c, query), "Gather" in plan)
        q1(c, "SELECT set_config('jwt.token', %s, false)", (unknown,))
        answers[mode] += (outcome(c, query),)
        c.close()
    S.check("a serial plan: the claim, the scopes and the issuer's keys",
            answers["off"][0] == "1000 3000 0 orders:read,openid 1" and not answers["off"][1],
            answers["off"])
    S.check("a parallel plan (Gather) gives the same answer",
            answers["on"][1] and answers["on"][0] == answers["off"][0], answers["on"])
    S.check("a parallel plan refuses an unknown kid as a serial one does",
            answers["on"][2] == answers["off"][2] == (
                "error", "28000", 'No key of the token\'s issuer has the token\'s "kid".'),
            (answers["off"][2], answers["on"][2]))
    q1(su, "DROP TABLE par")


def warnings(su, keys):
    q1(su, "DELETE FROM jwt_issuers")
    keys.new("w", "ES256", "w-1")
    secret_set = json.dumps({"keys": [json.loads(q1(su, "SELECT jwt_generate_key('HS256')::text"))]})
    secret = json.loads(secret_set)["keys"][0]["k"]
    add_issuer(su, "https://secret.example", None, secret_set)
    add_issuer(su, "https://broken.example", None, json.dumps({"keys": [{"kty": "EC", "crv": "P-256",
                                                                        "x": "AAAA", "y": "AAAA"}]}))
    add_issuer(su, "https://alg.example", None, keys.public("w"), algorithms=["ES256", "es256"])
    add_issuer(su, "https://hs.example", None, keys.public("w"), algorithms=["HS256"])
    add_issuer(su, "https://one.example", None, keys.public("w"), aliases=["shared.example"])
    add_issuer(su, "https://two.example", None, keys.public("w"), aliases=["shared.example", "two.example",
                                                                           "two.example"])
    c = connect()
    c.notices.clear()
    q1(c, "SELECT jwt_issuer_jwks('https://one.example')")      # loads the registry
    notices = [n.strip() for n in c.notices]
    c.close()
    text = "\n".join(notices)

    def has(*parts):
        return any(all(p in n for p in parts) for n in notices)

    S.check("a shared secret in an issuer's set: a WARNING naming the issuer and why",
            has('WARNING:  jwt issuers: the key set of the issuer "https://secret.example" is not used',
                "It holds a shared secret; an issuer's keys are public keys."), text)
    S.check("a set that does not import: a WARNING naming the issuer and the core's reason",
            has('the key set of the issuer "https://broken.example" is not used', "DETAIL:"), text)
    S.check("an unknown algorithm name: a WARNING naming it",
            has('the issuer "https://alg.example" is not used', '"es256", which is not a JWS algorithm'), text)
    S.check("only HMAC algorithms: a WARNING",
            has('the issuer "https://hs.example" is not used', "no asymmetric algorithm"), text)
    S.check("a spelling two issuers claim: one WARNING naming it, none for an issuer that lists "
            "its own spelling twice",
            has('"shared.example" names more than one issuer') and
            sum('names more than one issuer' in n for n in notices) == 1, text)
    S.check("no WARNING shows key material", secret not in text and '"k"' not in text
            and '"d"' not in text, text)
    tokens = {
        "https://secret.example": keys.token("w", {"iss": "https://secret.example", "exp": EXP}),
        "https://broken.example": keys.token("w", {"iss": "https://broken.example", "exp": EXP}),
        "https://alg.example": keys.token("w", {"iss": "https://alg.example", "exp": EXP}),
        "https://hs.example": keys.token("w", {"iss": "https://hs.example", "exp": EXP}),
    }
    c = connect()
    q1(c, "SET client_min_messages = error")
    for issuer, tok in tokens.items():
        got = claim(c, tok, "iss")
        S.check(f"the tokens of {issuer} are refused (no usable key)",
                got == ("error", "28000", "The token's issuer has no key: no usable key set is stored for it."),
                got)
    got = claim(c, keys.token("w", {"iss": "shared.example", "exp": EXP}), "iss")
    S.check("a token naming the spelling two issuers claim is refused",
            got == ("error", "28000",
                    "The token's issuer (iss) is the name or an alias of more than one registered issuer."), got)
    got = claim(c, keys.token("w", {"iss": "two.example", "exp": EXP}), "iss")
    S.check("... while the issuer's other spellings still route to it", got == "two.example", got)
    c.close()
    q1(su, "DELETE FROM jwt_issuers")


def ordinary_role(su, keys):
    q1(su, "DELETE FROM jwt_issuers")
    keys.new("o", "EdDSA", "o-1")
    add_issuer(su, "https://o.example", ["web"], keys.public("o"))
    t = keys.token("o", {"iss": "https://o.example", "sub": "olga", "aud": "web", "exp": EXP,
                         "scope": "notes:read"})
    w = connect(user=ROLE, password="web", host=os.environ.get("PGHOST"))
    S.check("an ordinary role cannot read jwt_issuers", outcome(w, "SELECT count(*) FROM jwt_issuers")[:2]
            == ("error", "42501"), outcome(w, "SELECT count(*) FROM jwt_issuers"))
    S.check("... nor jwt_issuer_fetches",
            outcome(w, "SELECT count(*) FROM jwt_issuer_fetches")[:2] == ("error", "42501"))
    S.check("... yet its issuer token verifies", claim(w, t) == "olga", claim(w, t))
    S.check("... and it calls jwt_scopes and jwt_has_scope",
            outcome(w, "SELECT array_to_string(jwt_scopes(), ',') || jwt_has_scope('notes:read')::text")
            == "notes:readtrue")
    S.check("... and jwt_issuer_jwks, which gives the public key only",
            outcome(w, "SELECT jwt_issuer_jwks('https://o.example') -> 'keys' -> 0 ->> 'kid' || ' ' || "
                       "(jwt_issuer_jwks('https://o.example') @? '$.keys[*].d')::text") == "o-1 false")
    w.close()


def many_issuers(su, keys):
    q1(su, "DELETE FROM jwt_issuers")
    tokens = []
    for i in range(20):
        name = f"m{i}"
        keys.new(name, "ES256", "same-kid")
        add_issuer(su, f"https://idp{i}.example/", [f"aud-{i}"], keys.public(name),
                   aliases=[f"idp{i}.example", f"https://idp{i}.example/v1"])
    for i in range(20):
        for spelling in (f"https://idp{i}.example/", f"idp{i}.example", f"https://idp{i}.example/v1"):
            own = keys.token(f"m{i}", {"iss": spelling, "sub": f"u{i}", "aud": f"aud-{i}", "exp": EXP})
            other = keys.token(f"m{(i + 1) % 20}", {"iss": spelling, "sub": f"u{i}", "aud": f"aud-{i}",
                                                    "exp": EXP})
            tokens.append((i, spelling, own, other))
    c = connect()
    wrong = [(i, s, claim(c, own)) for i, s, own, _ in tokens if claim(c, own) != f"u{i}"]
    S.check("20 issuers, 3 spellings each, every one with the kid 'same-kid': each token "
            "verifies with its own issuer's key", not wrong, wrong[:3])
    wrong = [(i, s, claim(c, other)) for i, s, _, other in tokens
             if claim(c, other) != ("error", "28000", "The signature does not verify.")]
    S.check("... and none with the next issuer's key of the same kid", not wrong, wrong[:3])
    bad_aud = keys.token("m3", {"iss": "https://idp3.example/", "sub": "u3", "aud": "aud-4", "exp": EXP})
    S.check("... nor with another issuer's audience",
            claim(c, bad_aud) == ("error", "28000",
                                  "The token's audience (aud) does not include the expected audience."),
            claim(c, bad_aud))
    c.close()
    q1(su, "DELETE FROM jwt_issuers")


if __name__ == "__main__":
    main()
