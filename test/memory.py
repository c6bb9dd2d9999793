#!/usr/bin/python3
"""Memory: one backend stays within its bounded caches.

Run inside a throwaway cluster, as root (to read the backend's /proc entry)
or as the cluster's owner:

    pg_virtualenv -t -v 15 /usr/bin/python3 test/memory.py

In its own database (jwt_memory, dropped at the end) and over ONE connection,
so that everything happens in one backend, it runs a warm-up (every statement
below at a hundredth of its size, twice, so that plans, catalog caches and
OpenSSL's tables exist before anything is measured), then three identical
rounds.  A round is

  * 1,000,000 verifications: HS256 with one secret; HS256/384/512 cycling
    through 120 distinct secrets (more than the key cache's 32 entries, so
    every row misses and parses); RS256 and PS256 against a PEM public key and
    a JWK; ES256 against a PEM and a JWK; EdDSA; RS256 and ES256 cycling
    through 40 distinct key texts each (the same key written 40 ways: a JWK
    with another kid, a PEM after another comment line); tokens refused
    through jwt_is_valid (bad signature, expired, malformed); errors raised
    and caught in PL/pgSQL (28000 bad tokens, 22023 unusable keys: a corrupt
    PEM, an off-curve JWK, a short secret); and 6,000 signatures;
  * 100,000 distinct session tokens: set_config('jwt.token', ..., true) then
    jwt_claim('sub') per token in a PL/pgSQL procedure that commits every
    1,000 tokens (an API backend makes one transaction per request), HS256
    and ES256 tokens against registry keys chosen by kid; then 20,000 tokens
    in ONE transaction through jwt_claim('sub') and 20,000 through
    jwt_claims(), measuring the memory contexts inside that transaction;
    2,000 session tokens refused (28000 caught); 300 registry changes (a key
    added, used by a session token and deleted: each a registry reload and a
    key parse by the trigger).

Measured after the warm-up, after every phase and after each round: the
backend's memory from /proc/<pg_backend_pid()>/status (VmRSS; RssAnon, its
private memory without the shared buffers it touched; VmHWM, reset at the
start of each round through /proc/<pid>/clear_refs when allowed), the sum of
total_bytes over pg_backend_memory_contexts, and the contexts "jwt key
cache", "jwt registry" and "jwt session claims".  A round's peak is the
highest value seen at the end of any of its phases: glibc may give memory
back after one phase and take it again in the next, so the end of a round
alone is a noisy sample.  Each phase's time and RssAnon growth is printed.

The bounds, and why:

  * each jwt context stays under 256 kB and the three under 512 kB, after
    every round: the key cache holds at most 32 key texts (the longest here a
    2 kB JWK), the registry a few keys, the session cache one token;
  * from the warm-up to round 1's peak, VmRSS and RssAnon grow by less than
    20 MB, and the memory contexts by less than 512 kB: room for 32 parsed
    keys in OpenSSL's memory (an RSA key with its prepared contexts is a few
    kB), glibc's free lists after a million short-lived allocations, and what
    PostgreSQL keeps between queries; a leak of 20 bytes per verification
    alone would exceed it;
  * inside one transaction, 20,000 distinct session tokens grow the memory
    contexts by less than 256 kB (13 bytes a token) through either function:
    the session cache keeps one token, so nothing should pile up until the
    commit;
  * round 2 lets glibc's heap reach its steady layout: its peak RssAnon is
    less than 2 MB above round 1's;
  * the leak check, round 3 against round 2 (identical work, so whatever it
    needs is there already): the peak RssAnon grows by less than 512 kB, the
    peak VmRSS and VmHWM by less than 1 MB (they also count shared buffers
    first touched, about 150 kB a round here), and the memory contexts by
    less than 64 kB (round 1 to 2 as well).  Measured: RssAnon peaks within
    100 kB of each other.  A leak shows in RSS once it outgrows the free space
    glibc keeps in the heap, which here is about 1 MB: a leak of 1.5 MB a
    round is caught, i.e. 1.5 bytes per HS verification (1,000,000 a round),
    12 bytes per key parse (120,000), 30 bytes per RSA or ECDSA operation
    (50,000), 15 bytes per session token (140,000) or 300 bytes per caught
    error (7,000).

It prints the figures, and ends with "memory: N passed, N failed" (exit 1 on
any failure, or without a summary when it cannot run at all).
"""

import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))   # test/, for suite.py
import suite                                                     # noqa: E402

SUITE = "memory"
T = suite.Suite(SUITE, reexec_guard="JWT_MEMORY_REEXEC")
cannot_run = T.cannot_run
note = T.note

try:
    import psycopg2
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
except ImportError as e:
    T.reexec_or_cannot_run(e, "Debian's python3-psycopg2 and python3-cryptography")

DB = "jwt_memory"
KEY_CACHE_SIZE = 32
KB = 1024
MB = 1024 * 1024

# the bounds (see the docstring)
JWT_CONTEXT_MAX = 256 * KB          # each jwt context
JWT_CONTEXTS_MAX = 512 * KB         # the three together
RSS_ROUND1_MAX = 20 * MB            # warm-up -> end of round 1, VmRSS and RssAnon
RSS_SETTLE_MAX = 2 * MB             # round 1's peak -> round 2's peak, RssAnon
RSS_LEAK_MAX = 512 * KB             # round 2's peak -> round 3's peak, RssAnon
VMRSS_LEAK_MAX = 1 * MB             # the same, VmRSS and VmHWM
CONTEXTS_LEAK_MAX = 64 * KB         # sum of total_bytes, round to round
TX_GROWTH_MAX = 256 * KB            # contexts, 20,000 session tokens in one transaction
JWT_CONTEXT_NAMES = ("jwt key cache", "jwt registry", "jwt session claims")

FAR_EXP = 4102444800                 # 2100-01-01

# (phase, rows) of one round's verifications; sums to 1,000,000
VERIFY_PHASES = (
    ("hs256 one secret", 804600),
    ("hs* 120 secrets", 120000),
    ("rs256 pem", 15000),
    ("rs256 jwk", 10000),
    ("ps256 pem", 5000),
    ("es256 pem", 8000),
    ("es256 jwk", 4000),
    ("eddsa jwk", 6000),
    ("rs256 40 key texts", 400),
    ("es256 40 key texts", 1000),
    ("refused hs256", 20000),
    ("refused es256", 1000),
    ("errors 28000", 4000),
    ("errors 22023", 1000),
)
SIGNS = (("sign hs256", 5000), ("sign es256", 1000))
SESSIONS = 100000
SESSIONS_ES = 5000
SESSIONS_BAD = 2000
SESSIONS_TX = 20000                 # tokens in one transaction, per function
REGISTRY_CHANGES = 300
ROUNDS = (1, 2, 3)


def fmt_bytes(n):
    sign = "-" if n < 0 else ""
    n = abs(n)
    if n >= MB:
        return f"{sign}{n / MB:.2f} MB"
    if n >= KB:
        return f"{sign}{n / KB:.1f} kB"
    return f"{sign}{n} B"


# ---------------------------------------------------------------- connection

def connect(dbname, **kw):
    params = {"dbname": dbname, "connect_timeout": 10}
    params.update(kw)
    conn = psycopg2.connect(**params)
    conn.autocommit = True
    return conn


def q1(conn, sql, args=None):
    with conn.cursor() as cur:
        cur.execute(sql, args)
        row = cur.fetchone()
    return row[0] if row is not None else None


def qall(conn, sql, args=None):
    with conn.cursor() as cur:
        cur.execute(sql, args)
        return cur.fetchall()


def run(conn, sql, args=None):
    with conn.cursor() as cur:
        cur.execute(sql, args)


# ---------------------------------------------------------------- keys

def pem_private(k):
    return k.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                           serialization.NoEncryption()).decode()


def pem_public(k):
    return k.public_key().public_bytes(serialization.Encoding.PEM,
                                       serialization.PublicFormat.SubjectPublicKeyInfo).decode()


def make_keys():
    """Private PEMs of one RSA, one P-256 and one Ed25519 key."""
    r = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    e = ec.generate_private_key(ec.SECP256R1())
    d = ed25519.Ed25519PrivateKey.generate()
    return {"rsa": (pem_private(r), pem_public(r)),
            "ec": (pem_private(e), pem_public(e)),
            "ed": (pem_private(d), pem_public(d))}


# ---------------------------------------------------------------- setup SQL

SETUP_SQL = r"""
CREATE EXTENSION jwt;
CREATE UNLOGGED TABLE mem_key (name text PRIMARY KEY, priv text, pub text);
-- one key per row; token signed by its key, bad: the same with its signature changed
CREATE UNLOGGED TABLE mem_set (grp text, i int, key text, alg text, token text, bad text,
                               PRIMARY KEY (grp, i));
CREATE FUNCTION mem_flip(tok text) RETURNS text LANGUAGE sql IMMUTABLE AS $$
    SELECT left(tok, length(tok) - 6) ||
           CASE WHEN substr(tok, length(tok) - 5, 1) = 'A' THEN 'B' ELSE 'A' END ||
           right(tok, 5)
$$;

-- the rows a verification phase runs over: one (token, key) per row
CREATE FUNCTION mem_verify(grp_ text, n int, tok_col text DEFAULT 'token')
RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE m int; c bigint;
BEGIN
    SELECT count(*) INTO m FROM mem_set WHERE grp = grp_;
    EXECUTE format('SELECT count(*) FILTER (WHERE jwt_is_valid(s.%I, s.key))
                    FROM generate_series(0, $1 - 1) g JOIN mem_set s
                      ON s.grp = $2 AND s.i = g %% $3', tok_col)
       INTO c USING n, grp_, m;
    RETURN c;
END $$;

-- errors raised and caught: n calls, each in its own subtransaction
CREATE FUNCTION mem_errors(grp_ text, n int, tok_col text, want text)
RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE m int; caught bigint := 0; r record;
BEGIN
    SELECT count(*) INTO m FROM mem_set WHERE grp = grp_;
    FOR r IN SELECT s.* FROM generate_series(0, n - 1) g JOIN mem_set s
             ON s.grp = grp_ AND s.i = g % m LOOP
        BEGIN
            IF tok_col = 'bad' THEN
                PERFORM jwt_verify(r.bad, r.key);
            ELSE
                PERFORM jwt_verify(r.token, r.key);
            END IF;
        EXCEPTION
            WHEN invalid_authorization_specification THEN
                IF want = '28000' THEN caught := caught + 1; END IF;
            WHEN invalid_parameter_value THEN
                IF want = '22023' THEN caught := caught + 1; END IF;
        END;
    END LOOP;
    RETURN caught;
END $$;

CREATE FUNCTION mem_sign(grp_ text, n int) RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE k text; a text; c bigint := 0;
BEGIN
    SELECT key, alg INTO k, a FROM mem_set WHERE grp = grp_ AND i = 0;
    FOR i IN 1..n LOOP
        IF length(jwt_sign(jsonb_build_object('sub', 'u' || i, 'exp', 4102444800), k, a)) > 0 THEN
            c := c + 1;
        END IF;
    END LOOP;
    RETURN c;
END $$;

-- the i-th session token of a round: every every-th an ES256 one
CREATE FUNCTION mem_token(i int, every int, rnd int, hs text, es text) RETURNS text
LANGUAGE sql AS $$
    SELECT CASE WHEN i % every = 0
        THEN jwt_sign(jsonb_build_object('sub', 'u' || i, 'exp', 4102444800, 'rnd', rnd),
                      es, 'ES256', '{"kid":"mem-es"}')
        ELSE jwt_sign(jsonb_build_object('sub', 'u' || i, 'exp', 4102444800, 'rnd', rnd),
                      hs, 'HS256', '{"kid":"mem-hs"}') END
$$;

-- n distinct session tokens, each set with set_config(..., true) and read
-- back with jwt_claim('sub'); a commit every 1,000 tokens, as an API backend
-- makes one transaction per request.  ok: how many gave back their own sub.
CREATE PROCEDURE mem_sessions(n int, n_es int, rnd int, INOUT ok bigint DEFAULT 0)
LANGUAGE plpgsql AS $$
DECLARE hs text; es text; every int := greatest(n / greatest(n_es, 1), 1);
BEGIN
    SELECT key INTO hs FROM mem_set WHERE grp = 'sess-hs' AND i = 0;
    SELECT key INTO es FROM mem_set WHERE grp = 'sess-es' AND i = 0;
    ok := 0;
    FOR i IN 1..n LOOP
        PERFORM set_config('jwt.token', mem_token(i, every, rnd, hs, es), true);
        IF jwt_claim('sub') = 'u' || i THEN
            ok := ok + 1;
        END IF;
        IF i % 1000 = 0 THEN
            COMMIT;
        END IF;
    END LOOP;
    COMMIT;
END $$;

-- the same in ONE transaction, through jwt_claim('sub') or jwt_claims():
-- how many gave back their own sub, and how much the backend's memory
-- contexts grew meanwhile
CREATE FUNCTION mem_sessions_tx(n int, n_es int, rnd int, fn text, OUT ok bigint, OUT grew bigint)
LANGUAGE plpgsql AS $$
DECLARE hs text; es text; every int := greatest(n / greatest(n_es, 1), 1); sub text;
        before bigint := (SELECT sum(total_bytes) FROM pg_backend_memory_contexts);
BEGIN
    SELECT key INTO hs FROM mem_set WHERE grp = 'sess-hs' AND i = 0;
    SELECT key INTO es FROM mem_set WHERE grp = 'sess-es' AND i = 0;
    ok := 0;
    FOR i IN 1..n LOOP
        PERFORM set_config('jwt.token', mem_token(i, every, rnd, hs, es), true);
        IF fn = 'jwt_claim' THEN
            sub := jwt_claim('sub');
        ELSE
            sub := jwt_claims() ->> 'sub';
        END IF;
        IF sub = 'u' || i THEN
            ok := ok + 1;
        END IF;
    END LOOP;
    grew := (SELECT sum(total_bytes) FROM pg_backend_memory_contexts) - before;
    PERFORM set_config('jwt.token', '', true);
END $$;

-- n session tokens that are refused (expired), 28000 caught
CREATE FUNCTION mem_sessions_bad(n int, rnd int) RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE hs text; caught bigint := 0;
BEGIN
    SELECT key INTO hs FROM mem_set WHERE grp = 'sess-hs' AND i = 0;
    FOR i IN 1..n LOOP
        PERFORM set_config('jwt.token',
            jwt_sign(jsonb_build_object('sub', 'x' || i, 'exp', 1000000000 + i, 'rnd', rnd),
                     hs, 'HS256', '{"kid":"mem-hs"}'), true);
        BEGIN
            PERFORM jwt_claims();
        EXCEPTION WHEN invalid_authorization_specification THEN
            caught := caught + 1;
        END;
    END LOOP;
    PERFORM set_config('jwt.token', '', true);
    RETURN caught;
END $$;
"""

# the registry changes run as separate statements (each its own transaction)
REGISTRY_CHANGE_SQL = """
SELECT jwt_add_key(s.key, 'HS256', 'mem-churn') FROM mem_set s WHERE s.grp = 'hs' AND s.i = %(i)s;
SELECT set_config('jwt.token', jwt_sign(jsonb_build_object('sub', 'churn', 'exp', 4102444800),
                                        s.key, 'HS256', '{"kid":"mem-churn"}'), false)
  FROM mem_set s WHERE s.grp = 'hs' AND s.i = %(i)s;
SELECT jwt_claim('sub');
DELETE FROM jwt_keys WHERE kid = 'mem-churn';
"""


def load_sets(conn, keys):
    """The (token, key) rows of every phase, tokens signed in SQL."""
    rsa_priv, rsa_pub = keys["rsa"]
    ec_priv, ec_pub = keys["ec"]
    ed_priv, ed_pub = keys["ed"]
    for name, (priv, pub) in keys.items():
        run(conn, "INSERT INTO mem_key VALUES (%s, %s, %s)", (name, priv, pub))
    claims = f'{{"sub":"mem","exp":{FAR_EXP}}}'
    # one row per (grp, i): the key that verifies, the key that signs, the alg
    rows = []
    rows.append(("hs256", 0, "mem-secret-" + "s" * 40, None, "HS256"))
    for i in range(120):
        alg = ("HS256", "HS384", "HS512")[i % 3]
        secret = f"mem-secret-{i:03d}-" + "x" * 60
        rows.append(("hs", i, secret, None, alg))
    rows.append(("rs256pem", 0, rsa_pub, rsa_priv, "RS256"))
    rows.append(("ps256pem", 0, rsa_pub, rsa_priv, "PS256"))
    rows.append(("es256pem", 0, ec_pub, ec_priv, "ES256"))
    for i in range(40):
        rows.append(("es40", i, f"# key text {i}\n" + ec_pub, ec_priv, "ES256"))
    rows.append(("short", 0, "too-short-secret", None, "HS256"))
    rows.append(("sess-hs", 0, "mem-session-secret-" + "z" * 40, None, "HS256"))
    rows.append(("sess-es", 0, ec_priv, None, "ES256"))
    for grp, i, key, signer, alg in rows:
        run(conn, "INSERT INTO mem_set (grp, i, key, alg) VALUES (%s, %s, %s, %s)",
            (grp, i, key, alg))
        if grp != "short":
            run(conn, """UPDATE mem_set SET token = jwt_sign(%s::jsonb, %s, alg)
                         WHERE grp = %s AND i = %s""", (claims, signer or key, grp, i))
    # JWKs: the public JWK of each private PEM, and 40 texts of one RSA key
    run(conn, """INSERT INTO mem_set (grp, i, key, alg, token)
                 SELECT 'rs256jwk', 0, jwt_public_jwk(priv)::text, 'RS256',
                        jwt_sign(%s::jsonb, priv, 'RS256') FROM mem_key WHERE name = 'rsa'""",
        (claims,))
    run(conn, """INSERT INTO mem_set (grp, i, key, alg, token)
                 SELECT 'es256jwk', 0, jwt_public_jwk(priv)::text, 'ES256',
                        jwt_sign(%s::jsonb, priv, 'ES256') FROM mem_key WHERE name = 'ec'""",
        (claims,))
    run(conn, """INSERT INTO mem_set (grp, i, key, alg, token)
                 SELECT 'eddsajwk', 0, jwt_public_jwk(priv)::text, 'EdDSA',
                        jwt_sign(%s::jsonb, priv, 'EdDSA') FROM mem_key WHERE name = 'ed'""",
        (claims,))
    run(conn, """INSERT INTO mem_set (grp, i, key, alg, token)
                 SELECT 'rs40', g, (jwt_public_jwk(priv) || jsonb_build_object('kid', 'k' || g))::text,
                        'RS256', jwt_sign(%s::jsonb, priv, 'RS256', '{"kid":null}')
                 FROM mem_key, generate_series(0, 39) g WHERE name = 'rsa'""", (claims,))
    # refused: the bad column, a changed signature (and an expired and a malformed token)
    run(conn, "UPDATE mem_set SET bad = mem_flip(token) WHERE token IS NOT NULL")
    run(conn, """INSERT INTO mem_set (grp, i, key, alg, token, bad)
                 SELECT 'hsbad', 0, key, alg, token,
                        jwt_sign('{"sub":"mem","exp":1000000000}', key, alg)
                 FROM mem_set WHERE grp = 'hs256'
                 UNION ALL
                 SELECT 'hsbad', 1, key, alg, token, 'not.a.token'
                 FROM mem_set WHERE grp = 'hs256'
                 UNION ALL
                 SELECT 'hsbad', 2, key, alg, token, bad
                 FROM mem_set WHERE grp = 'hs256'""")
    # unusable keys (22023): a corrupt PEM, an off-curve JWK, a short secret
    run(conn, """INSERT INTO mem_set (grp, i, key, alg, token, bad)
                 SELECT 'badkey', 0, replace(pub, substr(pub, 80, 8), 'AAAAAAAA'), 'ES256', t.token, t.bad
                   FROM mem_key, mem_set t WHERE name = 'ec' AND t.grp = 'es256pem'
                 UNION ALL
                 SELECT 'badkey', 1, jsonb_set(jwt_public_jwk(t.key), '{y}', to_jsonb(j.x))::text,
                        'ES256', t.token, t.bad
                   FROM mem_set t, LATERAL (SELECT jwt_public_jwk(t.key) ->> 'x' AS x) j
                  WHERE t.grp = 'es256pem'
                 UNION ALL
                 SELECT 'badkey', 2, 'too-short-secret', 'HS256', t.token, t.bad
                   FROM mem_set t WHERE t.grp = 'hs256'""")
    # the registry: session keys chosen by kid
    run(conn, "SELECT jwt_add_key(key, 'HS256', 'mem-hs') FROM mem_set WHERE grp = 'sess-hs'")
    run(conn, """SELECT jwt_add_key(jwt_public_jwk(key)::text, 'ES256', 'mem-es')
                 FROM mem_set WHERE grp = 'sess-es'""")


# phase name -> (sql, expected result as a function of rows)
def phase_sql(name):
    m = {
        "hs256 one secret": ("SELECT mem_verify('hs256', %s)", "all"),
        "hs* 120 secrets": ("SELECT mem_verify('hs', %s)", "all"),
        "rs256 pem": ("SELECT mem_verify('rs256pem', %s)", "all"),
        "rs256 jwk": ("SELECT mem_verify('rs256jwk', %s)", "all"),
        "ps256 pem": ("SELECT mem_verify('ps256pem', %s)", "all"),
        "es256 pem": ("SELECT mem_verify('es256pem', %s)", "all"),
        "es256 jwk": ("SELECT mem_verify('es256jwk', %s)", "all"),
        "eddsa jwk": ("SELECT mem_verify('eddsajwk', %s)", "all"),
        "rs256 40 key texts": ("SELECT mem_verify('rs40', %s)", "all"),
        "es256 40 key texts": ("SELECT mem_verify('es40', %s)", "all"),
        "refused hs256": ("SELECT mem_verify('hsbad', %s, 'bad')", "none"),
        "refused es256": ("SELECT mem_verify('es256pem', %s, 'bad')", "none"),
        "errors 28000": ("SELECT mem_errors('hsbad', %s, 'bad', '28000')", "all"),
        "errors 22023": ("SELECT mem_errors('badkey', %s, 'token', '22023')", "all"),
        "sign hs256": ("SELECT mem_sign('hs256', %s)", "all"),
        "sign es256": ("SELECT mem_sign('sess-es', %s)", "all"),
    }
    return m[name]


# ---------------------------------------------------------------- measuring

def proc_status(pid):
    out = {}
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            k, _, v = line.partition(":")
            if k in ("VmRSS", "RssAnon", "RssFile", "RssShmem", "VmHWM"):
                out[k] = int(v.split()[0]) * KB
    return out


def measure(conn, pid):
    ctx = dict(qall(conn, """SELECT name, sum(total_bytes)::bigint FROM pg_backend_memory_contexts
                             WHERE name = ANY(%s) GROUP BY name""", (list(JWT_CONTEXT_NAMES),)))
    by_name = dict(qall(conn, "SELECT name, sum(total_bytes)::bigint FROM pg_backend_memory_contexts "
                              "GROUP BY name"))
    total = sum(int(v) for v in by_name.values())
    stats = q1(conn, "SELECT jwt_cache_stats()")
    m = proc_status(pid)
    m["contexts"] = total
    m["by_name"] = {k: int(v) for k, v in by_name.items()}
    for n in JWT_CONTEXT_NAMES:
        m[n] = int(ctx.get(n, 0))
    m["jwt contexts"] = sum(m[n] for n in JWT_CONTEXT_NAMES)
    m["cache"] = stats
    return m


def show(label, m):
    note(f"{label}: VmRSS {fmt_bytes(m['VmRSS'])}, RssAnon {fmt_bytes(m['RssAnon'])}, "
         f"RssShmem {fmt_bytes(m['RssShmem'])}, memory contexts {fmt_bytes(m['contexts'])}; "
         + ", ".join(f"\"{n}\" {fmt_bytes(m[n])}" for n in JWT_CONTEXT_NAMES)
         + f"; key cache {m['cache']['keys_cached']}/{m['cache']['key_cache_size']} keys, "
           f"{m['cache']['key_parses']} parses, {m['cache']['key_lookups']} lookups")


def reset_peak(pid):
    """Reset the backend's VmHWM (Linux 4.0+, as root); False when not allowed."""
    try:
        with open(f"/proc/{pid}/clear_refs", "w") as f:
            f.write("5")
        return True
    except OSError:
        return False


def one_round(conn, pid, scale, rnd, label, check):
    """One round at scale (1 = full).

    Returns the phases (name, RssAnon growth, seconds), the number of
    verifications, and the round's peak: the highest VmRSS and RssAnon seen
    at the end of any phase (glibc may give memory back to the system after
    one phase and take it again in the next, so the end of a round alone is
    a noisy sample; the highest is not), and VmHWM when it could be reset.
    """
    growth = []
    tx_growth = []
    verifications = 0
    hwm = reset_peak(pid)
    peak = {"VmRSS": 0, "RssAnon": 0}

    def sample():
        s = proc_status(pid)
        for k in peak:
            peak[k] = max(peak[k], s[k])
        return s

    def phase(name, sql, args, expect_rows, expect):
        before = sample()["RssAnon"]
        t0 = time.monotonic()
        got = q1(conn, sql, args)
        dt = time.monotonic() - t0
        after = sample()["RssAnon"]
        growth.append((name, after - before, dt))
        want = expect_rows if expect == "all" else 0
        if check:
            T.check(f"{label}: {name}: {want} of {expect_rows}", got == want,
                    f"got {got}")

    for name, rows in VERIFY_PHASES + SIGNS:
        n = max(1, int(rows * scale))
        sql, expect = phase_sql(name)
        if not name.startswith("sign"):
            verifications += n
        phase(name, sql, (n,), n, expect)

    n = max(1, int(SESSIONS * scale))
    n_es = max(1, int(SESSIONS_ES * scale))
    phase(f"{n} session tokens", "CALL mem_sessions(%s, %s, %s)", (n, n_es, rnd), n, "all")
    # in one transaction: memory must not grow with the number of tokens
    nt = max(1, int(SESSIONS_TX * scale))
    for fn in ("jwt_claim", "jwt_claims"):
        before = sample()["RssAnon"]
        t0 = time.monotonic()
        ok, grew = qall(conn, "SELECT * FROM mem_sessions_tx(%s, %s, %s, %s)",
                        (nt, max(1, nt // 20), rnd, fn))[0]
        growth.append((f"{nt} tokens in one transaction, {fn}()", sample()["RssAnon"] - before,
                       time.monotonic() - t0))
        if check:
            T.check(f"{label}: {nt} session tokens in one transaction through {fn}(): "
                    f"{nt} of {nt}", ok == nt, f"got {ok}")
            tx_growth.append((fn, nt, grew))
    nb = max(1, int(SESSIONS_BAD * scale))
    phase(f"{nb} refused session tokens", "SELECT mem_sessions_bad(%s, %s)", (nb, rnd), nb, "all")

    nr = max(1, int(REGISTRY_CHANGES * scale))
    before = sample()["RssAnon"]
    t0 = time.monotonic()
    ok = 0
    for i in range(nr):
        with conn.cursor() as cur:
            for stmt in REGISTRY_CHANGE_SQL.strip().split(";\n"):
                cur.execute(stmt, {"i": i % 120})
                if stmt.startswith("SELECT jwt_claim"):
                    ok += cur.fetchone()[0] == "churn"
    run(conn, "RESET jwt.token")
    growth.append((f"{nr} registry changes", sample()["RssAnon"] - before,
                   time.monotonic() - t0))
    if check:
        T.check(f"{label}: {nr} registry changes each verified their session token",
                ok == nr, f"{ok} of {nr}")
    if hwm:
        peak["VmHWM"] = proc_status(pid)["VmHWM"]
    return growth, verifications, peak, tx_growth


def main():
    if not os.access("/proc/self/status", os.R_OK):
        cannot_run("no /proc")
    try:
        admin = connect("postgres")
    except psycopg2.Error as e:
        cannot_run(f"cannot connect to PostgreSQL ({str(e).strip()}); run under pg_virtualenv -v 15")
    started = time.monotonic()
    run(admin, f"DROP DATABASE IF EXISTS {DB} WITH (FORCE)")
    run(admin, f"CREATE DATABASE {DB}")
    conn = None
    try:
        conn = connect(DB)
        pid = q1(conn, "SELECT pg_backend_pid()")
        try:
            proc_status(pid)
        except OSError as e:
            cannot_run(f"cannot read /proc/{pid}/status of the backend ({e}); run as root "
                       "or as the cluster's owner, on the server's machine")
        keys = make_keys()
        run(conn, SETUP_SQL)
        load_sets(conn, keys)
        note(f"backend {pid}; set up in {time.monotonic() - started:.1f} s")

        t0 = time.monotonic()
        one_round(conn, pid, 0.01, 0, "warm-up", False)
        one_round(conn, pid, 0.01, 0, "warm-up", False)
        base = measure(conn, pid)
        note(f"warm-up in {time.monotonic() - t0:.1f} s")
        show("after warm-up", base)

        results = []
        for rnd in ROUNDS:
            t0 = time.monotonic()
            growth, nver, peak, tx_growth = one_round(conn, pid, 1, rnd, f"round {rnd}", True)
            m = measure(conn, pid)
            m["peak"] = peak
            results.append(m)
            note(f"round {rnd}: {nver} verifications, {SESSIONS} session tokens "
                 f"in {time.monotonic() - t0:.1f} s")
            for name, g, dt in growth:
                note(f"  {name:32s} {dt:6.2f} s  RssAnon {fmt_bytes(g):>10s}")
            show(f"after round {rnd}", m)
            note(f"round {rnd} peak: " + ", ".join(f"{k} {fmt_bytes(v)}" for k, v in peak.items()))
            for fn, nt, grew in tx_growth:
                note(f"round {rnd}: {nt} session tokens in one transaction through {fn}(): "
                     f"memory contexts grew {fmt_bytes(grew)} ({grew / nt:.1f} bytes a token)")
                if rnd == 1:
                    T.check(f"{nt} session tokens in one transaction through {fn}(): memory "
                            f"contexts grew {fmt_bytes(grew)} < {fmt_bytes(TX_GROWTH_MAX)}",
                            grew < TX_GROWTH_MAX)
        r1, r2, r3 = results

        # the caches are bounded, after every round
        for i, m in enumerate(results, 1):
            for n in JWT_CONTEXT_NAMES:
                T.check(f"round {i}: \"{n}\" {fmt_bytes(m[n])} < {fmt_bytes(JWT_CONTEXT_MAX)}",
                        m[n] < JWT_CONTEXT_MAX)
            T.check(f"round {i}: jwt contexts together {fmt_bytes(m['jwt contexts'])} "
                    f"< {fmt_bytes(JWT_CONTEXTS_MAX)}", m["jwt contexts"] < JWT_CONTEXTS_MAX)
            T.check(f"round {i}: the key cache holds {KEY_CACHE_SIZE} keys at most",
                    m["cache"]["keys_cached"] <= KEY_CACHE_SIZE == m["cache"]["key_cache_size"],
                    m["cache"])
        parses = r1["cache"]["key_parses"] - base["cache"]["key_parses"]
        T.check(f"round 1 churned the key cache: {parses} key parses > 100000", parses > 100000)

        # round 1: what a million verifications and 100,000 tokens cost at most
        p1, p2, p3 = r1["peak"], r2["peak"], r3["peak"]
        for what in ("VmRSS", "RssAnon"):
            g = p1[what] - base[what]
            T.check(f"{what} growth from warm-up to round 1's peak {fmt_bytes(g)} "
                    f"< {fmt_bytes(RSS_ROUND1_MAX)}", g < RSS_ROUND1_MAX)
        g = r1["contexts"] - base["contexts"]
        grew = sorted(((r1["by_name"].get(k, 0) - base["by_name"].get(k, 0), k)
                       for k in set(r1["by_name"]) | set(base["by_name"])), reverse=True)[:6]
        T.check(f"memory contexts growth from warm-up to round 1 {fmt_bytes(g)} "
                f"< {fmt_bytes(JWT_CONTEXTS_MAX)}", g < JWT_CONTEXTS_MAX,
                "most grown: " + ", ".join(f"{k} {fmt_bytes(d)}" for d, k in grew if d > 0))
        # round 2: glibc's heap settles
        g = p2["RssAnon"] - p1["RssAnon"]
        T.check(f"RssAnon peak growth from round 1 to round 2 {fmt_bytes(g)} "
                f"< {fmt_bytes(RSS_SETTLE_MAX)} (the heap settles)", g < RSS_SETTLE_MAX)
        # round 3: the leak check
        g = p3["RssAnon"] - p2["RssAnon"]
        T.check(f"RssAnon peak growth from round 2 to round 3 {fmt_bytes(g)} "
                f"< {fmt_bytes(RSS_LEAK_MAX)} (no leak)", g < RSS_LEAK_MAX)
        for what in ("VmRSS", "VmHWM"):
            if what in p2 and what in p3:
                g = p3[what] - p2[what]
                T.check(f"{what} peak growth from round 2 to round 3 {fmt_bytes(g)} "
                        f"< {fmt_bytes(VMRSS_LEAK_MAX)} (no leak; counts shared buffers "
                        "first touched too)", g < VMRSS_LEAK_MAX)
        for a, b, label in ((r1, r2, "round 1 to round 2"), (r2, r3, "round 2 to round 3")):
            g = b["contexts"] - a["contexts"]
            T.check(f"memory contexts growth from {label} {fmt_bytes(g)} "
                    f"< {fmt_bytes(CONTEXTS_LEAK_MAX)} (no leak)", g < CONTEXTS_LEAK_MAX)
    finally:
        if conn is not None:
            conn.close()
        try:
            run(admin, f"DROP DATABASE IF EXISTS {DB} WITH (FORCE)")
        finally:
            admin.close()
    note(f"done in {time.monotonic() - started:.1f} s")
    T.finish()


if __name__ == "__main__":
    main()
