"""How cost grows (section 4 of bench/results.md, bench/growth.png).

bench/bench.py runs these with the others, or alone (bash bench/run
--only=growth).  Each line should stay flat where the work does not grow:

 - jwt_verify against the claims' size, 200 B to 16 KB (this one rises: the
   work is linear in the token);
 - a fresh session token per row against a registry of 1 to 10,000 keys, and
   jwt_issue(claims, kid) and jwt_issue(claims) with the same registry;
 - jwt_verify against a JWKS argument of 1 to 1,000 keys (RS256 and HS256);
 - jwt_issue against jwt_sign with the key's text.

Helpers and sizes (timed, log, median, ROWS, ...) come from bench.py, bound
here as the module bench by bind().
"""

import base64
import json
import math
import os
import subprocess
import time

import psycopg2

bench = None            # bench.py, which runs these (bind)


def bind(module):
    global bench
    bench = module


def claims(conn, keys):
    """jwt_verify with claims of about 200 bytes to 16 KB (CLAIMS_SIZES).
    Every round measures every size, so a ratio to the smallest pairs
    figures of one round."""
    cur = conn.cursor()
    # 16 KB of claims make a token of about 22 KB, over the default limit
    cur.execute("SET jwt.max_token_length = '64kB'")
    out, cases = {}, {}
    for alg in ("HS256", "ES256"):
        priv, pub = keys[alg]
        for target in bench.CLAIMS_SIZES:
            rows = bench.GROWTH_ROWS if target <= 4000 else bench.GROWTH_ROWS // 2
            # a "groups" array of short strings, as identity providers send
            # (the claims without groups are 159 bytes; "groups" adds 11,
            # each element 18)
            ngroups = max(1, round((target - 170) / 18))
            extra = (f", 'groups', (SELECT jsonb_agg('group-' || lpad(i::text, 6, '0') || '-' || g) "
                     f"FROM generate_series(1, {ngroups}) g)") if ngroups else ""
            t = f"bench_size_{alg.lower()}_{target}"
            cur.execute(f"DROP TABLE IF EXISTS {t}")
            cur.execute(f"CREATE TABLE {t} (id int, tok text)")
            cur.execute(f"ALTER TABLE {t} ALTER tok SET STORAGE EXTERNAL")
            cur.execute(f"INSERT INTO {t} SELECT i, jwt_sign({bench.claims_sql(extra)}, %s, %s) "
                        f"FROM generate_series(1, {rows}) i", (priv, alg))
            cur.execute(f"VACUUM ANALYZE {t}")
            out[(alg, target)] = {
                "claims_bytes": bench.q1(cur, f"SELECT avg(length(split_part(tok, '.', 2)) * 3 / 4)::int FROM {t}"),
                "token_bytes": bench.q1(cur, f"SELECT avg(octet_length(tok))::int FROM {t}"), "rows": rows}
            cases[(alg, target)] = (
                f"SELECT count(jwt_verify(tok, %s, audience => %s, issuer => %s)) FROM {t}",
                f"SELECT count(left(tok, 1)) FROM {t}",      # reads (detoasts) every token
                rows)
    own = {k: [] for k in cases}
    vts = {k: [] for k in cases}
    for r in range(bench.RUNS + 1):               # round 0 warms up
        for key, (vsql, bsql, rows) in cases.items():
            b = bench.timed(cur, bsql)[0]
            s, n = bench.timed(cur, vsql, (keys[key[0]][1], bench.AUDIENCE, bench.ISSUER))
            if n != rows:
                raise SystemExit(f"claims {key[0]} {key[1]}: {n} of {rows} tokens verified")
            if r > 0:
                vts[key].append(s)
                own[key].append((s - b) / rows * 1e6)
    cur.execute("RESET jwt.max_token_length")
    for (alg, target), g in out.items():
        g["us"] = bench.median(vts[(alg, target)]) / g["rows"] * 1e6
        g["own_us"] = bench.median(own[(alg, target)])
        g["own_runs"] = own[(alg, target)]
        g["ratio"] = bench.median([x / y for x, y in zip(own[(alg, target)], own[(alg, bench.CLAIMS_SIZES[0])])])
        bench.log(f"growth: claims {alg} {g['claims_bytes']} B: {g['own_us']:.1f} us/token, {g['ratio']:.2f}x")
    return out


def claims_slope(gc, alg):
    """µs per additional KB of claims, between the smallest and the largest point."""
    a, z = gc[(alg, bench.CLAIMS_SIZES[0])], gc[(alg, bench.CLAIMS_SIZES[-1])]
    return (z["own_us"] - a["own_us"]) / max((z["claims_bytes"] - a["claims_bytes"]) / 1024, 1e-9)


def registry_secret_sql(k):
    """The HS256 secret of the growth registry's key k (an SQL expression)."""
    return f"'bench-registry-secret-' || lpad(({k})::text, 5, '0') || '-0123456789'"


def registry(conn):
    """A fresh session token per row, verified against a registry of N keys:
    set_config('jwt.token', ...) then jwt_claim('sub'), in one SELECT; and
    jwt_issue(claims, kid) with the same registry.  Every round fills the
    registry up through every size in turn (keys 1 to N), so a ratio to one
    key pairs figures of one round."""
    cur = conn.cursor()
    cur.execute("DROP TABLE IF EXISTS bench_saved_keys")
    cur.execute("CREATE TABLE bench_saved_keys AS SELECT * FROM jwt_keys")
    cur.execute(f"CREATE TEMP TABLE rc AS SELECT i, "
                f"{bench.session_claims_sql(chr(39) + 'user' + chr(39) + ' || i', 'web_user')} AS c "
                f"FROM generate_series(1, {bench.ROWS}) i")
    cur.execute("ANALYZE rc")
    for nkeys in bench.REGISTRY_SIZES:
        t = f"bench_reg_{nkeys}"
        cur.execute(f"DROP TABLE IF EXISTS {t}")
        # token i is signed by key (i % nkeys) + 1: every key is used; and
        # every token's header is its own (x-token), one key's as much as
        # 10,000's, so that the header memo, which saves a run of identical
        # headers their parse, helps no size: the figures compare lookups
        cur.execute(f"CREATE TABLE {t} AS SELECT i, jwt_sign(c, {registry_secret_sql(f'(i % {nkeys}) + 1')}, "
                    f"'HS256', jsonb_build_object('kid', 'k' || ((i % {nkeys}) + 1), 'x-token', i)) AS tok FROM rc")
        cur.execute(f"VACUUM ANALYZE {t}")
    isql = "SELECT count(jwt_issue(c, %s)) FROM rc WHERE i <= %s"
    nsql = "SELECT count(jwt_issue(c)) FROM rc WHERE i <= %s"
    ibase = "SELECT count(pg_column_size(c)) FROM rc WHERE i <= %s"
    R = {n: {"vt": [], "own": [], "load_ms": [], "add_s": [], "issue": [], "issue_t": [], "newest": []}
         for n in bench.REGISTRY_SIZES}
    irows = {}
    for r in range(bench.GROWTH_RUNS):
        cur.execute("DELETE FROM jwt_keys")
        cur.execute("VACUUM jwt_keys")      # no dead rows for the registry's loads to pass
        # the registry's first load after VACUUM (which invalidates its plans)
        # is not one key's: an empty registry pays it
        cur.execute("SELECT jwt_jwks()")
        have = 0
        for nkeys in bench.REGISTRY_SIZES:
            t0 = time.perf_counter()
            cur.execute(f"SELECT count(jwt_add_key({registry_secret_sql('k')}, 'HS256', 'k' || k)) "
                        f"FROM generate_series({have + 1}, {nkeys}) k")
            R[nkeys]["add_s"].append(time.perf_counter() - t0)
            have = nkeys
            t = f"bench_reg_{nkeys}"
            sql = (f"SELECT count(*) FILTER (WHERE s IS NOT NULL AND x IS NOT NULL) FROM "
                   f"(SELECT set_config('jwt.token', tok, true) AS s, jwt_claim('sub') AS x FROM {t}) q")
            base = (f"SELECT count(*) FILTER (WHERE s IS NOT NULL) FROM "
                    f"(SELECT set_config('jwt.token', tok, true) AS s FROM {t}) q")
            first, _ = bench.timed(cur, sql)      # loads the registry
            b = bench.timed_steady(cur, base)[0]
            s, _, n = bench.timed_steady(cur, sql)
            if n != bench.ROWS:
                raise SystemExit(f"registry {nkeys}: {n} of {bench.ROWS}")
            R[nkeys]["vt"].append(s)
            R[nkeys]["own"].append((s - b) / bench.ROWS * 1e6)
            R[nkeys]["load_ms"].append((first - s) * 1000)
            # jwt_issue(claims, kid) with this registry, the kid of its middle
            # key: as many rows as fit in about 0.2 s (at most ROWS)
            kid = f"k{(nkeys + 1) // 2}"
            if nkeys not in irows:
                probe, _ = bench.timed(cur, isql, (kid, 200))
                irows[nkeys] = int(min(bench.ROWS, max(200, 0.2 / max(probe / 200, 1e-9))) // 100 * 100)
            ir = irows[nkeys]
            b = bench.timed(cur, ibase, (ir,))[0]
            s, n = bench.timed(cur, isql, (kid, ir))
            if n != ir:
                raise SystemExit(f"registry {nkeys}: jwt_issue signed {n} of {ir}")
            R[nkeys]["issue_t"].append(s / ir * 1e6)
            R[nkeys]["issue"].append((s - b) / ir * 1e6)
            # jwt_issue(claims): the newest key that can sign, from the list
            # of signing keys made on the first signature after a load
            bench.timed(cur, nsql, (1,))
            s, n = bench.timed(cur, nsql, (ir,))
            if n != ir:
                raise SystemExit(f"registry {nkeys}: jwt_issue(claims) signed {n} of {ir}")
            R[nkeys]["newest"].append((s - b) / ir * 1e6)
        bench.log(f"growth: registry round {r + 1}/{bench.GROWTH_RUNS}: " +
            ", ".join(f"{n:,} {v['own'][-1]:.2f} us" for n, v in R.items()))
    cur.execute("DELETE FROM jwt_keys")
    cur.execute("INSERT INTO jwt_keys SELECT * FROM bench_saved_keys")
    cur.execute("DROP TABLE bench_saved_keys, rc")
    out = {}
    one = R[bench.REGISTRY_SIZES[0]]
    for nkeys, v in R.items():
        g = out[nkeys] = {
            "us": bench.median(v["vt"]) / bench.ROWS * 1e6, "own_us": bench.median(v["own"]), "own_runs": v["own"],
            "ratio": bench.median([x / y for x, y in zip(v["own"], one["own"])]),
            "load_ms": bench.median(v["load_ms"]), "add_s": bench.median(v["add_s"]),
            "issue_rows": irows[nkeys], "issue_us": bench.median(v["issue_t"]), "issue_own_us": bench.median(v["issue"]),
            "issue_ratio": bench.median([x / y for x, y in zip(v["issue"], one["issue"])]),
            "newest_own_us": bench.median(v["newest"]),
            "newest_ratio": bench.median([x / y for x, y in zip(v["newest"], one["newest"])])}
        bench.log(f"growth: registry of {nkeys:,}: {g['own_us']:.2f} us per fresh token, {g['ratio']:.3f}x one key "
            f"(load {g['load_ms']:.1f} ms); jwt_issue {g['issue_own_us']:.2f} us, {g['issue_ratio']:.2f}x; "
            f"without kid {g['newest_own_us']:.2f} us, {g['newest_ratio']:.2f}x")
    return out


def b64u_uint(x):
    """A Base64urlUInt (RFC 7518 section 2): big-endian, no leading zero octets."""
    return base64.urlsafe_b64encode(x.to_bytes((x.bit_length() + 7) // 8, "big")).rstrip(b"=").decode()


def rsa_primes(count):
    """count 1024-bit primes (`openssl prime -generate`, one per CPU at a
    time), kept in bench/out/rsa-primes.txt for the next run; and the seconds
    spent making the missing ones."""
    primes = []
    path = os.path.join(bench.OUT, "rsa-primes.txt")
    if os.path.exists(path):
        with open(path) as f:
            primes = [p for p in (int(x, 16) for x in f.read().split()) if p.bit_length() == 1024]
    t0 = time.time()
    while len(primes) < count:
        procs = [subprocess.Popen(["openssl", "prime", "-generate", "-bits", "1024", "-hex"],
                                  stdout=subprocess.PIPE, text=True)
                 for _ in range(min(os.cpu_count() or 1, count - len(primes)))]
        for p in procs:
            out, _ = p.communicate()
            if p.returncode != 0:
                raise SystemExit("openssl prime -generate failed")
            primes.append(int(out.strip(), 16))
    made = time.time() - t0
    with open(path, "w") as f:
        f.write("".join(f"{p:x}\n" for p in primes))
    return primes[:count], made


def rsa_pool(count):
    """count RS256 private JWKs, each a distinct 2048-bit modulus: the
    products of pairs of 1024-bit primes.  Generating 1,000 RSA keys would
    take minutes; some 46 primes take seconds.  Keys that share a prime are
    no use to anyone outside a benchmark (a gcd finds it), but each is a key
    of its own to OpenSSL: its own modulus, Montgomery context and blinding,
    as 1,000 independent keys would be."""
    m = 2
    while m * (m - 1) // 2 < count + 8:       # a few spare pairs
        m += 1
    primes, made = rsa_primes(m)
    e = 65537
    keys = []
    for i in range(m):
        for j in range(i + 1, m):
            p, q = primes[i], primes[j]
            n = p * q
            lam = math.lcm(p - 1, q - 1)
            if n.bit_length() != 2048 or math.gcd(e, lam) != 1:
                continue
            d = pow(e, -1, lam)
            keys.append({"kty": "RSA", "alg": "RS256", "kid": f"bench-rsa-{len(keys) + 1:04d}",
                         "n": b64u_uint(n), "e": b64u_uint(e), "d": b64u_uint(d),
                         "p": b64u_uint(p), "q": b64u_uint(q), "dp": b64u_uint(d % (p - 1)),
                         "dq": b64u_uint(d % (q - 1)), "qi": b64u_uint(pow(q, -1, p))})
            if len(keys) == count:
                return keys, {"primes": m, "primes_made_s": made}
    raise SystemExit(f"rsa_pool: {m} primes gave only {len(keys)} keys")


JWKS_STMTS = {}         # (alg, keys): (sql, args), for a profile if a target is missed


def jwks(conn):
    """jwt_verify against a JWKS argument of 1 to 1,000 keys (JWKS_SIZES;
    tokens with kid, every key of the set used), RS256 and HS256.  Every
    round measures every set, so a ratio to one key pairs figures of one
    round."""
    cur = conn.cursor()
    top = max(bench.JWKS_SIZES)
    rsa, made = rsa_pool(top)
    # for scale: what generating the RSA keys would have cost
    keygen = bench.median([bench.timed(cur, "SELECT jwt_generate_key('RS256') IS NOT NULL")[0] for _ in range(3)])
    info = dict(made, rsa_keygen_s=keygen)
    bench.log(f"growth: {top:,} RSA keys from {made['primes']} primes ({made['primes_made_s']:.1f} s to make "
        f"the missing ones); jwt_generate_key('RS256') takes {keygen:.2f} s a key")
    cur.execute("DROP TABLE IF EXISTS jwks_pool")
    cur.execute("CREATE TEMP TABLE jwks_pool (alg text, k int, jwk jsonb, PRIMARY KEY (alg, k))")
    cur.execute("INSERT INTO jwks_pool SELECT 'RS256', k, jwk "
                "FROM jsonb_array_elements(%s::jsonb) WITH ORDINALITY AS a(jwk, k)", (json.dumps(rsa),))
    cur.execute("INSERT INTO jwks_pool SELECT 'HS256', k, jwt_generate_key('HS256') "
                "FROM generate_series(1, %s) k", (top,))
    cases = {}
    out = {}
    for alg in ("RS256", "HS256"):
        rows = bench.JWKS_RSA_ROWS if alg == "RS256" else bench.ROWS
        for nkeys in bench.JWKS_SIZES:
            # secrets have no public form; 1,000 private RSA keys are over a
            # key text's 1 MiB, so each key's public form on its own
            vkey = bench.q1(cur, "SELECT jsonb_build_object('keys', jsonb_agg(" +
                      ("jwk" if alg == "HS256" else "jwt_public_jwk(jwk::text)") + " ORDER BY k))::text "
                      "FROM jwks_pool WHERE alg = %s AND k <= %s", (alg, nkeys))
            t = f"bench_jwks_{alg.lower()}_{nkeys}"
            cur.execute(f"DROP TABLE IF EXISTS {t}")
            # token i is signed by key (i % nkeys) + 1, whose kid it carries,
            # under a header of its own (x-token), as in registry() above
            cur.execute(f"CREATE TABLE {t} AS SELECT i, jwt_sign({bench.claims_sql()}, p.jwk::text, %s, "
                        f"jsonb_build_object('x-token', i)) AS tok "
                        f"FROM generate_series(1, {rows}) i JOIN jwks_pool p "
                        f"ON p.alg = %s AND p.k = (i %% {nkeys}) + 1", (alg, alg))
            cur.execute(f"VACUUM ANALYZE {t}")
            sql = f"SELECT count(jwt_verify(tok, %s, audience => %s, issuer => %s)) FROM {t}"
            args = (vkey, bench.AUDIENCE, bench.ISSUER)
            JWKS_STMTS[(alg, nkeys)] = (sql, args)
            cases[(alg, nkeys)] = (sql, args, f"SELECT count(octet_length(tok)) FROM {t}", rows)
            out[(alg, nkeys)] = {"jwks_bytes": len(vkey), "rows": rows}
    cur.execute("DROP TABLE jwks_pool")
    times = {k: ([], []) for k in cases}
    for r in range(bench.GROWTH_RUNS + 1):        # round 0: each set parsed, once per backend
        for key, (sql, args, base, rows) in cases.items():
            if out[key].get("error"):
                continue
            b = bench.timed(cur, base)[0]
            try:
                s, n = bench.timed(cur, sql, args)
            except psycopg2.Error as e:
                bench.log(f"growth: JWKS {key[0]} x{key[1]}: {str(e).strip()}")
                out[key]["error"] = str(e).strip().splitlines()[0]
                continue
            if n != rows:
                raise SystemExit(f"JWKS {key[0]} x{key[1]}: {n} of {rows} tokens verified")
            if r == 0:
                out[key]["first_s"] = s
            else:
                times[key][0].append(s)
                times[key][1].append(b)
    for key, (vt, bt) in times.items():
        g = out[key]
        if g.get("error"):
            continue
        rows = g["rows"]
        g["own_runs"] = [(v - b) / rows * 1e6 for v, b in zip(vt, bt)]
        g["us"] = bench.median(vt) / rows * 1e6
        g["own_us"] = bench.median(g["own_runs"])
        # the first statement's extra time: the set's parse
        g["parse_ms"] = (g.pop("first_s") - bench.median(vt)) * 1000
    for (alg, nkeys), g in out.items():
        one = out.get((alg, 1))
        if g.get("error") or one is None or one.get("error"):
            continue
        g["ratio"] = bench.median([x / y for x, y in zip(g["own_runs"], one["own_runs"])])
        bench.log(f"growth: JWKS {alg} x{nkeys}: {g['own_us']:.2f} us/token, {g['ratio']:.3f}x one key "
            f"(parse {g['parse_ms']:.1f} ms)")
    out["info"] = info
    return out


def sign_vs_issue(conn, regkeys):
    """jwt_sign with a key's text against jwt_issue with its kid (the same
    key, in the registry), over section 1's claims (which have iat, exp and
    jti, so jwt_issue adds nothing to them).  Each round measures every
    statement; the ratio is the median of the rounds' ratios."""
    cur = conn.cursor()
    stmts = {}
    for alg in ("HS256", "ES256"):
        key, kid = regkeys[alg]
        stmts[(alg, "sign")] = ("SELECT count(jwt_sign(c, %s, %s, %s::jsonb)) FROM bench_claims",
                                (key, alg, json.dumps({"kid": kid})))
        stmts[(alg, "issue")] = ("SELECT count(jwt_issue(c, %s)) FROM bench_claims", (kid,))
    base = "SELECT count(pg_column_size(c)) FROM bench_claims"
    hs, hs_kid = regkeys["HS256"]
    same = bench.q1(cur, "SELECT jwt_sign(c, %s, 'HS256', %s::jsonb) = jwt_issue(c, %s) FROM bench_claims "
                   "WHERE id = 1", (hs, json.dumps({"kid": hs_kid}), hs_kid))
    times = {k: [] for k in stmts}
    bases = []
    for r in range(bench.RUNS + 1):               # round 0 warms up
        b = bench.timed(cur, base)[0]
        for k, (sql, args) in stmts.items():
            s, n = bench.timed(cur, sql, args)
            if n != bench.ROWS:
                raise SystemExit(f"{k[0]} {k[1]}: {n} of {bench.ROWS} tokens")
            if r > 0:
                times[k].append(s)
        if r > 0:
            bases.append(b)
    out = {"rows": bench.ROWS, "hs256_identical": same, "algs": {}}
    for alg in ("HS256", "ES256"):
        a = {}
        for what in ("sign", "issue"):
            ts = times[(alg, what)]
            a[what] = {"us": bench.median(ts) / bench.ROWS * 1e6,
                       "own_us": bench.median([(t - b) / bench.ROWS * 1e6 for t, b in zip(ts, bases)]),
                       "own_runs": [(t - b) / bench.ROWS * 1e6 for t, b in zip(ts, bases)]}
        a["ratio"] = bench.median([i / s for i, s in zip(a["issue"]["own_runs"], a["sign"]["own_runs"])])
        out["algs"][alg] = a
        bench.log(f"growth: {alg} jwt_issue {a['issue']['own_us']:.2f} us vs jwt_sign {a['sign']['own_us']:.2f} us "
            f"with the key's text: {a['ratio']:.3f}x")
    return out


def section(w, gc, gr, gj, gs):
    w("## 4. How cost grows\n")
    w("![cost per token against the claims' size, the registry's size and the JWKS's; jwt_issue "
      "against jwt_sign](growth.png)\n")
    w("Each line of the plot (`growth.png`, drawn by every run) is the cost per token, *own µs* "
      "(the statement's time less that of the same statement without the call, per token), divided "
      "by its value at the line's smallest point: 1.0x is flat. Every round measures every point of a "
      "line, and a point's ratio is the median of the rounds' ratios, so that it pairs figures taken "
      "seconds apart. The x axes are logarithmic. Where the work per token does not grow, the line "
      "should stay at 1.0x.\n")
    hs, es = claims_slope(gc, "HS256"), claims_slope(gc, "ES256")
    w(f"**Claims size** (should rise). `jwt_verify` over {bench.GROWTH_ROWS:,} tokens per size "
      f"({bench.GROWTH_ROWS // 2:,} over 4 KB), {bench.RUNS} rounds, whose claims carry a `groups` array of short strings; "
      "*own µs* leaves out reading the token (`count(left(tok, 1))`, stored uncompressed out of line); "
      "`jwt.max_token_length` is raised to 64 kB for these (its default, 16 kB, refuses the tokens of "
      "claims over about 11 KB). "
      "Everything but the signature's arithmetic grows with the token: base64url decoding, the MAC "
      "or hash of the signing input, the strict JSON parse and the `jsonb` built from it are each "
      "linear in its length. So this line rises: HS256's, whose fixed cost is small, nearly in "
      "proportion to the size; ES256's slowly, its fixed ECDSA verification dominating up to several "
      "KB. Both pay the same linear work, so both should add about the same per KB: here "
      f"HS256 {hs:.2f} µs and ES256 {es:.2f} µs per KB of claims (the slope between the smallest and "
      "the largest point).\n")
    w("| alg | claims bytes | token bytes | tokens | µs per token | own µs | own µs vs the smallest |")
    w("|---|---|---|---|---|---|---|")
    for alg in ("HS256", "ES256"):
        for target in bench.CLAIMS_SIZES:
            g = gc[(alg, target)]
            w(f"| {alg} | {g['claims_bytes']:,} | {g['token_bytes']:,} | {g['rows']:,} | {g['us']:.2f} | "
              f"{g['own_us']:.2f} | {g['ratio']:.2f}x |")
    w("")
    w(f"**Registry size** (should stay flat). {bench.ROWS:,} distinct HS256 session tokens, each with the "
      "`kid` of one of the registry's keys (every key used) and a header of its own (a member "
      "`x-token`, so that the header memo, which spares a run of identical headers their parse, "
      "helps one key no more than 10,000), in one `SELECT set_config('jwt.token', "
      "tok, true), jwt_claim('sub')`: every row verifies a new token. *own µs* leaves out the same "
      f"statement without `jwt_claim`. Each of {bench.GROWTH_RUNS} rounds empties the registry and fills it "
      "up through the sizes in turn, measuring at each (each statement run again until its runs add up to "
      f"{bench.STEADY_SECONDS} s, their median taken, as in section 1). The key is found by the registry's kid index (a binary search whose steps take no branch: 14 steps "
      "for 10,000 keys), so nothing per token should grow with the registry but the cache misses of "
      "a larger index. What does grow is the registry's load, once per backend and after every "
      "change to `jwt_keys`: *load ms* is the first statement's extra time. *jwt_issue* is "
      "`jwt_issue(claims, kid)` (the kid of the registry's middle key) with the same registry, "
      "per token less a scan of its claims; *without kid* is `jwt_issue(claims)`, which signs with "
      "the newest key valid now that can sign (all of them here: each size's keys were added in one "
      "statement, so they share a `valid_from`, and the first kid in order signs). The kid given is "
      "found by the same kid index; the newest key, in a list of the signing keys sorted by "
      "`valid_from` (made on the first signature after each load of the registry, and timed apart from it) "
      "by a binary search for now. So both should stay flat.\n")
    w("| keys in jwt_keys | µs per token | own µs | own µs vs one key | target | load ms | "
      "jwt_issue own µs (tokens) | jwt_issue vs one key | without kid, own µs | without kid vs one key |")
    w("|---|---|---|---|---|---|---|---|---|---|")
    for n, g in gr.items():
        tcell = f"≤ {bench.REGISTRY_TARGET:.2f}x: {bench.verdict(g['ratio'], 'max', bench.REGISTRY_TARGET)[0]}" if n == 1000 else ""
        w(f"| {n:,} | {g['us']:.2f} | {g['own_us']:.2f} | {g['ratio']:.3f}x | {tcell} | "
          f"{max(g['load_ms'], 0):.1f} | {g['issue_own_us']:.2f} ({g['issue_rows']:,}) | {g['issue_ratio']:.2f}x | "
          f"{g['newest_own_us']:.2f} | {g['newest_ratio']:.2f}x |")
    w("")
    info = gj.get("info", {})
    w(f"**JWKS argument** (should stay flat). `jwt_verify(tok, jwks)`, the JWKS a constant, over "
      f"{bench.JWKS_RSA_ROWS:,} RS256 and {bench.ROWS:,} HS256 tokens per set whose `kid` picks one of the set's keys "
      f"(every key used), each under a header of its own (`x-token`, as above); every round measures every set, the ratio is the median of the rounds' ratios "
      f"to one key ({bench.GROWTH_RUNS} rounds). A JWKS argument is parsed once per backend (its keys kept in "
      "the key cache) and its keys indexed by kid, so per token nothing should grow with the set "
      "but cache misses; the parse itself grows (*parse ms*: the first statement's extra time, paid "
      "once per backend). "
      f"The RS256 keys are {max(bench.JWKS_SIZES):,} distinct 2048-bit moduli, the products of pairs of "
      f"{info.get('primes', '?')} 1024-bit primes from `openssl prime -generate`, kept in "
      "`bench/out/rsa-primes.txt` for later runs"
      + (f" ({info['primes_made_s']:.0f} s to make them in this run)" if info.get("primes_made_s", 0) >= 0.5
         else " (made by an earlier run)") +
      f"; generating 1,000 RSA keys would take about {info.get('rsa_keygen_s', 0) * 1000 / 60:.0f} "
      f"minutes here (`jwt_generate_key('RS256')`: {info.get('rsa_keygen_s', 0):.2f} s a key). Each is "
      "a key of its own to OpenSSL (its own modulus, Montgomery context and blinding), as independent "
      "keys would be; keys sharing a prime are worthless outside a benchmark. The HS256 keys are "
      "`jwt_generate_key('HS256')`.\n")
    w("| alg | keys in the JWKS | JWKS bytes | tokens | µs per token | own µs | vs one key | target | parse ms |")
    w("|---|---|---|---|---|---|---|---|---|")
    for alg in ("RS256", "HS256"):
        for n in bench.JWKS_SIZES:
            g = gj.get((alg, n))
            if g is None:
                continue
            if g.get("error"):
                w(f"| {alg} | {n:,} | {g['jwks_bytes']:,} | {g['rows']:,} | {g['error']} | | | | |")
                continue
            ratio = f"{g['ratio']:.3f}x" if "ratio" in g else ""
            tcell = (f"≤ {bench.JWKS_TARGET:.2f}x: {bench.verdict(g['ratio'], 'max', bench.JWKS_TARGET)[0]}"
                     if n == bench.JWKS_TARGET_KEYS and alg in bench.JWKS_TARGET_ALGS and "ratio" in g else "")
            w(f"| {alg} | {n:,} | {g['jwks_bytes']:,} | {g['rows']:,} | {g['us']:.2f} | {g['own_us']:.2f} | "
              f"{ratio} | {tcell} | {max(g['parse_ms'], 0):.1f} |")
    w("")
    w(f"**jwt_issue against jwt_sign.** Section 1's {gs['rows']:,} claims (which carry `iat`, `exp` and "
      "`jti`, so `jwt_issue` adds none) signed by `jwt_sign(claims, key, alg, '{\"kid\": …}')` with the "
      "key's text, a constant, and by `jwt_issue(claims, kid)` with the same key in the registry "
      "(of the few keys the earlier sections leave there). *own µs* leaves out a scan of the claims "
      "(`count(pg_column_size(c))`); the ratio is the median of the rounds' ratios of own µs. "
      "What `jwt_issue` adds: the registry's check for the statement, the lookup of its key, the "
      "random `jti` it draws (even when the claims have one) and the merge of its defaults into the "
      "claims. "
      + ("The HS256 tokens of the two are byte-identical. " if gs["hs256_identical"] else
         "(The HS256 tokens of the two differ: their headers are not the same.) ") + "\n")
    w("| alg | jwt_sign µs per token | own µs | jwt_issue µs per token | own µs | jwt_issue / jwt_sign (own) |")
    w("|---|---|---|---|---|---|")
    for alg, a in gs["algs"].items():
        w(f"| {alg} | {a['sign']['us']:.2f} | {a['sign']['own_us']:.2f} | {a['issue']['us']:.2f} | "
          f"{a['issue']['own_us']:.2f} | {a['ratio']:.3f}x |")
    w("")


def plot(gc, gr, gj, gs):
    """growth.png: section 4's lines, each cost per token (own µs) over its
    value at the line's smallest point, against the size on a log axis."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(2, 2, figsize=(13, 9))
    colors = {"HS256": "#1f77b4", "ES256": "#d62728", "RS256": "#2ca02c", "issue": "#9467bd",
              "newest": "#8c564b"}

    def line(ax, xs, ys, us, label, color):
        """ys: the ratios to the first point (each the median of the rounds'
        ratios); us: own µs, for the legend."""
        ax.plot(xs, ys, marker="o", color=color, label=f"{label} ({us[0]:.2f} → {us[-1]:.2f} µs)")
        return list(ys)

    def frame(ax, title, xlabel, ys_all, target=None):
        ax.set_xscale("log")
        top = max(ys_all + ([target[1]] if target else []))
        if top > 3:
            ax.set_yscale("log")
        else:
            ax.set_ylim(0, max(1.5, top * 1.1))
        ax.axhline(1.0, color="#9e9e9e", lw=1, ls="--")
        if target:
            x, t = target
            ax.plot([x / 1.4, x * 1.4], [t, t], color="black", lw=2)
            ax.annotate(f"target ≤ {t:.2f}x", (x * 1.45, t), fontsize=8, va="center")
        ax.set_title(title, fontsize=10)
        ax.set_xlabel(xlabel, fontsize=9)
        ax.set_ylabel("cost per token / at the smallest point", fontsize=9)
        ax.legend(fontsize=8, loc="upper left")
        ax.grid(True, which="both", alpha=0.25)

    ax = axes[0][0]
    ys_all = []
    for alg in ("HS256", "ES256"):
        pts = [gc[(alg, t)] for t in bench.CLAIMS_SIZES]
        xs = [p["claims_bytes"] for p in pts]
        ys_all += line(ax, xs, [p["ratio"] for p in pts], [p["own_us"] for p in pts], f"{alg} jwt_verify",
                       colors[alg])
    xs = [gc[("HS256", t)]["claims_bytes"] for t in bench.CLAIMS_SIZES]
    ax.plot(xs, [x / xs[0] for x in xs], color="#9e9e9e", ls=":", label="in proportion to the size")
    frame(ax, "Claims size: expected to rise (the work is linear in the token)", "claims bytes", ys_all)

    ax = axes[0][1]
    xs = list(gr)
    ys_all = line(ax, xs, [gr[n]["ratio"] for n in xs], [gr[n]["own_us"] for n in xs],
                  "HS256 jwt_claim, a new token per row", colors["HS256"])
    ys_all += line(ax, xs, [gr[n]["issue_ratio"] for n in xs], [gr[n]["issue_own_us"] for n in xs],
                   "HS256 jwt_issue(claims, kid)", colors["issue"])
    ys_all += line(ax, xs, [gr[n]["newest_ratio"] for n in xs], [gr[n]["newest_own_us"] for n in xs],
                   "HS256 jwt_issue(claims), the newest key", colors["newest"])
    frame(ax, "Registry size: should stay flat (kid index)", "keys in jwt_keys", ys_all,
          (1000, bench.REGISTRY_TARGET))

    ax = axes[1][0]
    ys_all = []
    for alg in ("RS256", "HS256"):
        pts = [(n, gj.get((alg, n))) for n in bench.JWKS_SIZES]
        pts = [(n, g) for n, g in pts if g and "ratio" in g]
        if pts:
            ys_all += line(ax, [n for n, _ in pts], [g["ratio"] for _, g in pts], [g["own_us"] for _, g in pts],
                           f"{alg} jwt_verify", colors[alg])
    frame(ax, "JWKS argument size: should stay flat (parsed once, kid index)", "keys in the JWKS",
          ys_all or [1.0], (bench.JWKS_TARGET_KEYS, bench.JWKS_TARGET))

    ax = axes[1][1]
    algs = list(gs["algs"])
    ratios = [gs["algs"][a]["ratio"] for a in algs]
    ax.bar(range(len(algs)), ratios, color=[colors.get(a, "#9e9e9e") for a in algs], width=0.5)
    for i, a in enumerate(algs):
        g = gs["algs"][a]
        ax.text(i, ratios[i], f"{ratios[i]:.2f}x\n{g['issue']['own_us']:.2f} vs {g['sign']['own_us']:.2f} µs",
                ha="center", va="bottom", fontsize=8)
    ax.axhline(1.0, color="#9e9e9e", lw=1, ls="--")
    ax.set_xticks(range(len(algs)))
    ax.set_xticklabels(algs)
    ax.set_ylim(0, max(1.5, max(ratios) * 1.3))
    ax.set_ylabel("jwt_issue / jwt_sign, own µs per token", fontsize=9)
    ax.set_title("jwt_sign with a registry key (jwt_issue) vs with the key's text", fontsize=10)
    fig.suptitle("jwt for PostgreSQL: how cost per token grows (1.0x: flat; log-scale x)", fontsize=11)
    fig.tight_layout(rect=(0, 0, 1, 0.96))
    path = os.path.join(bench.RESULTS_DIR, "growth.png")
    fig.savefig(path, dpi=90)
    plt.close(fig)
    bench.log(f"wrote {path}")
