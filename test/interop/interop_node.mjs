// Interop of the jwt extension with node's `jose` and `jsonwebtoken`, both ways.
//
// For every algorithm each library supports:
//  - tokens signed by jwt_sign() (keys as PEM, as private JWK, and as the
//    private JWK of jwt_generate_key()) verify in jose (jwtVerify, algorithms
//    pinned, the public key as a KeyObject from PEM and from JWK, and through a
//    JWKS by kid) and in jsonwebtoken (PEM), with the same claims;
//  - tokens signed by jose (SignJWT, with kid; node keys and jwt_generate_key's
//    private JWK) and by jsonwebtoken verify with jwt_verify() with the same
//    claims, the key given as SPKI PEM, PKCS#1 PEM, X.509 certificate, private
//    PEM, public JWK (jose exportJWK) and a JWKS whose kid picks the key;
//  - a token tampered with after signing is refused by the other side.
//
// Run inside a throwaway cluster, after `npm ci` in this directory:
//
//     pg_virtualenv -t -v 15 node test/interop/interop_node.mjs
//
// The connection comes from the PG* environment.  Prints one line per failed
// check (FAIL ...) and per skipped combination (SKIP ...: reason; a skip is
// not a pass), and ends with "interop-node: N passed, N failed"; exits 1 on
// any failure and when it cannot run at all (then without a summary line).

import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawnSync } from 'node:child_process';

const SUITE = 'interop-node';

function cannotRun(why) {
  console.log(`${SUITE}: cannot run: ${why}`);
  process.exit(1);
}

let jose, jsonwebtoken, pg;
try {
  jose = await import('jose');
  jsonwebtoken = (await import('jsonwebtoken')).default;
  pg = (await import('pg')).default;
} catch (e) {
  cannotRun(`${e.message} (run "npm ci" in test/interop first)`);
}

const NOW = Math.floor(Date.now() / 1000);

// ------------------------------------------------------------------ tally

let passed = 0;
let failed = 0;
let skipped = 0;

function oneLine(s) {
  return String(s).replace(/\s+/g, ' ').trim();
}

function check(name, ok, detail = '') {
  if (ok) {
    passed++;
  } else {
    failed++;
    detail = oneLine(detail);
    console.log(`FAIL ${name}${detail ? `: ${detail}` : ''}`);
  }
  return ok;
}

// A check whose body returns [ok, detail] and may throw: a throw is a failure.
async function run(name, fn) {
  let ok;
  let detail;
  try {
    [ok, detail] = await fn();
  } catch (e) {
    ok = false;
    detail = `unexpected ${e?.name ?? typeof e}: ${e?.code ? `[${e.code}] ` : ''}${e?.message ?? e}`;
  }
  return check(name, ok, detail);
}

function skip(what, why) {
  skipped++;
  console.log(`SKIP ${what}: ${why}`);
}

// --------------------------------------------------------- JSON and bytes

function canon(v) {
  if (Array.isArray(v)) return v.map(canon);
  if (v && typeof v === 'object') {
    const o = {};
    for (const k of Object.keys(v).sort()) o[k] = canon(v[k]);
    return o;
  }
  return v;
}

function sameJson(a, b) {
  return JSON.stringify(canon(a)) === JSON.stringify(canon(b));
}

const b64u = (buf) => Buffer.from(buf).toString('base64url');
const b64uDecode = (s) => Buffer.from(s, 'base64url');
const b64uJson = (s) => JSON.parse(b64uDecode(s).toString('utf8'));

// --------------------------------------------------------- the SQL side

const client = new pg.Client();
try {
  await client.connect();
} catch (e) {
  cannotRun(`cannot connect to PostgreSQL (${e.message}); run under pg_virtualenv -t -v 15`);
}
try {
  await client.query('SET client_min_messages = warning');
  await client.query('CREATE EXTENSION IF NOT EXISTS jwt');
} catch (e) {
  cannotRun(`CREATE EXTENSION jwt failed (${e.message}); run make install first`);
}

class SqlError extends Error {
  constructor(e) {
    super(`SQLSTATE ${e.code}: ${e.message}${e.detail ? ` (${e.detail})` : ''}`);
    this.name = 'SqlError';
    this.code = e.code;
  }
}

async function sql(text, params) {
  try {
    const r = await client.query(text, params);
    return r.rows[0]?.v;
  } catch (e) {
    if (e.code) throw new SqlError(e);
    throw e;
  }
}

// a Buffer goes to the bytea overload, anything else as text
const keyCast = (key) => (Buffer.isBuffer(key) ? 'bytea' : 'text');
const keyText = (key) => (Buffer.isBuffer(key) || typeof key === 'string' ? key : JSON.stringify(key));

async function sqlSign(claims, key, alg, header) {
  const params = [JSON.stringify(claims), keyText(key), alg];
  let q = `SELECT jwt_sign($1::jsonb, $2::${keyCast(key)}, $3::text`;
  if (header) {
    q += ', header => $4::jsonb';
    params.push(JSON.stringify(header));
  }
  return sql(`${q}) AS v`, params);
}

async function sqlVerify(token, key, { algorithms, audience, issuer } = {}) {
  const params = [token, keyText(key)];
  let q = `SELECT jwt_verify($1::text, $2::${keyCast(key)}`;
  for (const [name, cast, value] of [['algorithms', 'text[]', algorithms],
    ['audience', 'text', audience], ['issuer', 'text', issuer]]) {
    if (value !== undefined) {
      params.push(value);
      q += `, ${name} => $${params.length}::${cast}`;
    }
  }
  return JSON.parse(await sql(`${q})::text AS v`, params));
}

// ["ok", claims] | ["refused", error] (28000) | ["error", error] (anything else)
async function sqlVerdict(token, key, opts) {
  try {
    return ['ok', await sqlVerify(token, key, opts)];
  } catch (e) {
    if (e instanceof SqlError) return [e.code === '28000' ? 'refused' : 'error', e];
    throw e;
  }
}

const sqlGenerateKey = async (alg) => JSON.parse(await sql('SELECT jwt_generate_key($1)::text AS v', [alg]));
const sqlPublicJwk = async (key) => JSON.parse(await sql('SELECT jwt_public_jwk($1)::text AS v', [keyText(key)]));
const sqlThumbprint = async (jwk) => sql('SELECT jwt_jwk_thumbprint($1::jsonb) AS v', [JSON.stringify(jwk)]);

function describe([kind, what]) {
  if (kind === 'ok') return 'accepted';
  return `${kind}: ${what?.name ?? ''} ${what?.code ? `[${what.code}] ` : ''}${what?.message ?? what}`;
}

// ------------------------------------------------------- the node side

async function joseVerdict(token, key, alg, opts = {}) {
  try {
    const { payload, protectedHeader } = await jose.jwtVerify(token, key, { algorithms: [alg], ...opts });
    return ['ok', payload, protectedHeader];
  } catch (e) {
    if (e instanceof jose.errors.JOSEError) return ['refused', e];
    return ['error', e];
  }
}

function jsonwebtokenVerdict(token, key, alg, opts = {}) {
  try {
    return ['ok', jsonwebtoken.verify(token, key, { algorithms: [alg], ...opts })];
  } catch (e) {
    // jsonwebtoken lets some errors of its helpers through (a DER ECDSA
    // signature raises ecdsa-sig-formatter's TypeError): still a refusal
    return ['refused', e];
  }
}

// ------------------------------------------------------------- algorithms

// Support of the pinned versions, read from their sources: jose 5.10 signs and
// verifies every algorithm here through node:crypto except the fully-specified
// "Ed448" (it knows "Ed25519" only); jsonwebtoken 9 (through jwa) knows
// HS/RS/PS/ES 256/384/512 and nothing else.
const JSONWEBTOKEN_ALGS = new Set(['HS256', 'HS384', 'HS512', 'RS256', 'RS384', 'RS512',
  'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512']);
const JOSE_LACKS = new Map([['Ed448', 'jose 5.10 does not implement the fully-specified "Ed448" algorithm (RFC 9864), only "Ed25519"']]);

const CASES = [
  ...['HS256', 'HS384', 'HS512'].map((alg) => ({ alg, kind: 'hmac', label: alg })),
  ...['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512'].map((alg) => ({ alg, kind: 'rsa', label: alg })),
  { alg: 'ES256', kind: 'ec', curve: 'prime256v1', label: 'ES256' },
  { alg: 'ES384', kind: 'ec', curve: 'secp384r1', label: 'ES384' },
  { alg: 'ES512', kind: 'ec', curve: 'secp521r1', label: 'ES512' },
  { alg: 'ES256K', kind: 'ec', curve: 'secp256k1', label: 'ES256K' },
  { alg: 'EdDSA', kind: 'okp', curve: 'ed25519', label: 'EdDSA/Ed25519' },
  { alg: 'EdDSA', kind: 'okp', curve: 'ed448', label: 'EdDSA/Ed448', genAlg: 'Ed448' },
  { alg: 'Ed25519', kind: 'okp', curve: 'ed25519', label: 'Ed25519' },
  { alg: 'Ed448', kind: 'okp', curve: 'ed448', label: 'Ed448' },
];

// the same family's other algorithm, for "header alg changed"
const SWAP_ALG = {
  HS256: 'HS512', HS384: 'HS256', HS512: 'HS384',
  RS256: 'RS384', RS384: 'RS512', RS512: 'RS256',
  PS256: 'RS256', PS384: 'PS512', PS512: 'PS384',
  ES256: 'ES256K', ES384: 'ES512', ES512: 'ES384', ES256K: 'ES256',
  EdDSA: 'Ed448', Ed25519: 'Ed448', Ed448: 'Ed25519',
};

// ------------------------------------------------------------------- keys

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'jwt-interop-node-'));
process.on('exit', () => fs.rmSync(tmp, { recursive: true, force: true }));

let haveOpenssl = spawnSync('openssl', ['version']).status === 0;
if (!haveOpenssl) skip('X.509 certificate keys', 'no openssl command to make a certificate');

function certificateFor(privateKey, label) {
  if (!haveOpenssl) return null;
  const kf = path.join(tmp, `${label.replace(/\W/g, '_')}.key`);
  const cf = path.join(tmp, `${label.replace(/\W/g, '_')}.crt`);
  fs.writeFileSync(kf, privateKey.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600 });
  const r = spawnSync('openssl', ['req', '-x509', '-new', '-key', kf, '-subj', `/CN=jwt interop ${label}`,
    '-days', '2', '-out', cf], { encoding: 'utf8' });
  if (r.status !== 0) {
    check(`${label}: openssl makes a self-signed certificate`, false, r.stderr);
    return null;
  }
  return fs.readFileSync(cf, 'utf8');
}

const familyKeys = new Map();

// One node key pair per family and curve, in every form each side takes.
function nodeKeys(c) {
  const id = c.kind === 'rsa' ? 'rsa' : c.curve;
  if (familyKeys.has(id)) return familyKeys.get(id);
  const gen = () => (c.kind === 'rsa'
    ? crypto.generateKeyPairSync('rsa', { modulusLength: 2048 })
    : c.kind === 'ec'
      ? crypto.generateKeyPairSync('ec', { namedCurve: c.curve })
      : crypto.generateKeyPairSync(c.curve));
  const { publicKey, privateKey } = gen();
  const decoy = gen();     // same type, another key: JWKS neighbour and "wrong key"
  const k = {
    id,
    publicKey,
    privateKey,
    decoy,
    spki: publicKey.export({ type: 'spki', format: 'pem' }),
    pkcs8: privateKey.export({ type: 'pkcs8', format: 'pem' }),
    pkcs1Public: c.kind === 'rsa' ? publicKey.export({ type: 'pkcs1', format: 'pem' }) : null,
    traditional: c.kind === 'rsa' ? privateKey.export({ type: 'pkcs1', format: 'pem' })
      : c.kind === 'ec' ? privateKey.export({ type: 'sec1', format: 'pem' }) : null,
    publicJwk: publicKey.export({ format: 'jwk' }),
    privateJwk: privateKey.export({ format: 'jwk' }),
    decoySpki: decoy.publicKey.export({ type: 'spki', format: 'pem' }),
    decoyJwk: decoy.publicKey.export({ format: 'jwk' }),
    cert: certificateFor(privateKey, id),
  };
  familyKeys.set(id, k);
  return k;
}

// HMAC secrets: all at least 64 bytes, so each serves HS256, HS384 and HS512.
const TEXT_SECRET = 'Schlüssel — ключ — 鍵 — 🔑 — correct horse battery staple — interop with node jose';
const BYTES_SECRET = Buffer.concat([crypto.createHash('sha512').update('jwt interop node bytea').digest(),
  Buffer.from([0x00, 0xff, 0xfe, 0x80, 0xc3, 0x28])]);
const OCT_BYTES = crypto.createHash('sha512').update('jwt interop node oct jwk').digest();
const OCT_JWK = { kty: 'oct', k: b64u(OCT_BYTES), kid: 'oct-1' };

// ------------------------------------------------------------------- claims

const AUD = 'api';
const ISS = 'https://issuer.example/';
const CLAIMS = {
  sub: 'user-ü-漢字-🔑',
  iss: ISS,
  aud: [AUD, 'other'],
  iat: NOW - 5,
  nbf: NOW - 5,
  exp: NOW + 3600,
  jti: crypto.randomUUID(),
  'ключ': 'значение',
  nested: { a: [1, 2.5, { b: null, c: true, d: false }], e: {}, f: [] },
  float: 3.141592653589793,
  small: 1e-7,
  negative: -0.5,
  int53: 9007199254740991,
  escapes: 'quote " backslash \\ slash / newline \n tab \t bell \u0007',
  empty: '',
  supplementary: '𝄞 😀',
};
const VERIFY_OPTS = { audience: AUD, issuer: ISS };

// ---------------------------------------------------------------- tampering

function withPayload(token, claims) {
  const [h, , s] = token.split('.');
  return `${h}.${b64u(JSON.stringify(claims))}.${s}`;
}

function withHeader(token, change) {
  const [h, p, s] = token.split('.');
  const hdr = { ...b64uJson(h), ...change };
  return `${b64u(JSON.stringify(hdr))}.${p}.${s}`;
}

function flipSignatureBit(token) {
  const [h, p, s] = token.split('.');
  const sig = b64uDecode(s);
  sig[sig.length >> 1] ^= 0x01;
  return `${h}.${p}.${b64u(sig)}`;
}

// An HS256 token MACed with the verifier's public key text: the classic
// key-confusion forgery.
function hsWithKeyText(token, keyText) {
  const [h, p] = token.split('.');
  const hdr = b64u(JSON.stringify({ ...b64uJson(h), alg: 'HS256' }));
  const mac = crypto.createHmac('sha256', keyText).update(`${hdr}.${p}`).digest();
  return `${hdr}.${p}.${b64u(mac)}`;
}

// An ECDSA signature re-encoded as DER, which JWS does not allow.
function ecdsaAsDer(token) {
  const [h, p, s] = token.split('.');
  const raw = b64uDecode(s);
  const half = raw.length / 2;
  const int = (b) => {
    let i = 0;
    while (i < b.length - 1 && b[i] === 0) i++;
    b = b.subarray(i);
    if (b[0] & 0x80) b = Buffer.concat([Buffer.from([0]), b]);
    return Buffer.concat([Buffer.from([0x02, b.length]), b]);
  };
  const body = Buffer.concat([int(raw.subarray(0, half)), int(raw.subarray(half))]);
  const len = body.length < 128 ? Buffer.from([body.length]) : Buffer.from([0x81, body.length]);
  return `${h}.${p}.${b64u(Buffer.concat([Buffer.from([0x30]), len, body]))}`;
}

// The same signature bytes with the unused low bits of the last base64url
// character set; node's decoder ignores them, a strict verifier must not.
function strayBits(token) {
  const [h, p, s] = token.split('.');
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
  if (s.length % 4 === 0) return null;
  const last = alphabet.indexOf(s.at(-1));
  return `${h}.${p}.${s.slice(0, -1)}${alphabet[last | 1]}`;
}

function tampers(c, publicKeyText) {
  const t = [
    ['payload replaced, signature kept', (tok) => withPayload(tok, { ...CLAIMS, sub: 'admin' })],
    ['one signature bit flipped', flipSignatureBit],
    [`header alg changed to ${SWAP_ALG[c.alg]}`, (tok) => withHeader(tok, { alg: SWAP_ALG[c.alg] })],
    ['header alg none, signature dropped', (tok) => withHeader(tok, { alg: 'none' }).replace(/\.[^.]*$/, '.')],
    ['signature dropped', (tok) => tok.replace(/\.[^.]*$/, '.')],
  ];
  if (c.kind !== 'hmac') {
    t.push(['alg HS256, MACed with the public key PEM', (tok) => hsWithKeyText(tok, publicKeyText)]);
  }
  if (c.kind === 'ec') t.push(['signature re-encoded as DER', ecdsaAsDer]);
  return t;
}

// ------------------------------------------------------------ HMAC suite

async function hmacCase(c) {
  const { alg } = c;
  const forms = [
    // label, SQL key, jose key, jsonwebtoken key
    ['text secret', TEXT_SECRET, new TextEncoder().encode(TEXT_SECRET), TEXT_SECRET],
    ['bytea secret', BYTES_SECRET, new Uint8Array(BYTES_SECRET), BYTES_SECRET],
    ['oct JWK', OCT_JWK, await jose.importJWK(OCT_JWK, alg), OCT_BYTES],
  ];
  for (const [label, sqlKey, joseKey, jwtKey] of forms) {
    const tag = `${alg}/${label}`;
    await run(`${tag}: jwt_sign token verifies in jose with the same claims`, async () => {
      const tok = await sqlSign(CLAIMS, sqlKey, alg);
      const v = await joseVerdict(tok, joseKey, alg, VERIFY_OPTS);
      if (v[0] !== 'ok') return [false, `jose ${describe(v)}`];
      if (v[2].alg !== alg) return [false, `header ${JSON.stringify(v[2])}`];
      if (label === 'oct JWK' && v[2].kid !== OCT_JWK.kid) return [false, `header kid ${v[2].kid}`];
      return [sameJson(v[1], CLAIMS), `jose gave ${JSON.stringify(v[1])}`];
    });
    await run(`${tag}: jwt_sign token verifies in jsonwebtoken with the same claims`, async () => {
      const tok = await sqlSign(CLAIMS, sqlKey, alg);
      const v = jsonwebtokenVerdict(tok, jwtKey, alg, VERIFY_OPTS);
      return [v[0] === 'ok' && sameJson(v[1], CLAIMS), v[0] === 'ok' ? `gave ${JSON.stringify(v[1])}` : `jsonwebtoken ${describe(v)}`];
    });
    await run(`${tag}: jose token (kid) verifies with jwt_verify with the same claims`, async () => {
      const tok = await new jose.SignJWT(CLAIMS).setProtectedHeader({ alg, kid: OCT_JWK.kid, typ: 'JWT' }).sign(joseKey);
      const v = await sqlVerdict(tok, sqlKey, { algorithms: [alg], ...VERIFY_OPTS });
      return [v[0] === 'ok' && sameJson(v[1], CLAIMS), v[0] === 'ok' ? `gave ${JSON.stringify(v[1])}` : `jwt_verify ${describe(v)}`];
    });
    await run(`${tag}: jsonwebtoken token (keyid) verifies with jwt_verify with the same claims`, async () => {
      const tok = jsonwebtoken.sign(CLAIMS, jwtKey, { algorithm: alg, keyid: OCT_JWK.kid });
      const v = await sqlVerdict(tok, sqlKey, { algorithms: [alg], ...VERIFY_OPTS });
      return [v[0] === 'ok' && sameJson(v[1], CLAIMS), v[0] === 'ok' ? `gave ${JSON.stringify(v[1])}` : `jwt_verify ${describe(v)}`];
    });
  }
  const [, sqlKey, joseKey, jwtKey] = forms[0];
  await tamperChecks(c, {
    sqlSign: () => sqlSign(CLAIMS, sqlKey, alg),
    joseKey,
    jwtKey,
    nodeSign: () => new jose.SignJWT(CLAIMS).setProtectedHeader({ alg }).sign(joseKey),
    sqlKey,
    publicKeyText: TEXT_SECRET,
  });
  await run(`${alg}: jose token checked against another secret: jwt_verify refuses (28000)`, async () => {
    const tok = await new jose.SignJWT(CLAIMS).setProtectedHeader({ alg }).sign(joseKey);
    const v = await sqlVerdict(tok, BYTES_SECRET, VERIFY_OPTS);
    return [v[0] === 'refused', `jwt_verify ${describe(v)}`];
  });
  await run(`${alg}: jwt_sign token checked against another secret: jose refuses`, async () => {
    const tok = await sqlSign(CLAIMS, sqlKey, alg);
    const v = await joseVerdict(tok, new Uint8Array(BYTES_SECRET), alg, VERIFY_OPTS);
    return [v[0] === 'refused', `jose ${describe(v)}`];
  });
}

// ----------------------------------------------------------- tamper checks

async function tamperChecks(c, { sqlSign: signSql, joseKey, jwtKey, nodeSign, sqlKey, publicKeyText }) {
  const { alg, label } = c;
  const jwtOk = JSONWEBTOKEN_ALGS.has(alg);
  const joseOk = !JOSE_LACKS.has(alg);
  const sqlTok = await signSql();
  const nodeTok = joseOk ? await nodeSign() : null;
  for (const [what, tamper] of tampers(c, publicKeyText)) {
    if (joseOk) {
      await run(`${label}: jwt_sign token, ${what}: jose refuses`, async () => {
        const good = await joseVerdict(sqlTok, joseKey, alg, VERIFY_OPTS);
        if (good[0] !== 'ok') return [false, `jose ${describe(good)} the untampered token`];
        const v = await joseVerdict(tamper(sqlTok), joseKey, alg, VERIFY_OPTS);
        return [v[0] === 'refused', `jose ${describe(v)}`];
      });
      await run(`${label}: jose token, ${what}: jwt_verify refuses (28000)`, async () => {
        const good = await sqlVerdict(nodeTok, sqlKey, VERIFY_OPTS);
        if (good[0] !== 'ok') return [false, `jwt_verify ${describe(good)} the untampered token`];
        const v = await sqlVerdict(tamper(nodeTok), sqlKey, VERIFY_OPTS);
        return [v[0] === 'refused', `jwt_verify ${describe(v)}`];
      });
    }
    if (jwtOk) {
      await run(`${label}: jwt_sign token, ${what}: jsonwebtoken refuses`, async () => {
        const good = jsonwebtokenVerdict(sqlTok, jwtKey, alg, VERIFY_OPTS);
        if (good[0] !== 'ok') return [false, `jsonwebtoken ${describe(good)} the untampered token`];
        const v = jsonwebtokenVerdict(tamper(sqlTok), jwtKey, alg, VERIFY_OPTS);
        return [v[0] === 'refused', `jsonwebtoken ${describe(v)}`];
      });
    }
  }
  // node's base64url decoder ignores stray bits (so jose would take these);
  // jwt_verify must not.
  if (joseOk) {
    const stray = strayBits(nodeTok);
    if (stray) {
      await run(`${label}: jose token with stray bits in the signature's last character: jwt_verify refuses (28000)`, async () => {
        const v = await sqlVerdict(stray, sqlKey, VERIFY_OPTS);
        return [v[0] === 'refused', `jwt_verify ${describe(v)}`];
      });
    }
  }
}

// ------------------------------------------------------- asymmetric suite

async function asymmetricCase(c) {
  const { alg, label } = c;
  const k = nodeKeys(c);
  const joseOk = !JOSE_LACKS.has(alg);
  const jwtOk = JSONWEBTOKEN_ALGS.has(alg);
  if (!joseOk) skip(`${label} with jose (both directions)`, JOSE_LACKS.get(alg));
  if (!jwtOk) skip(`${label} with jsonwebtoken (both directions)`, `jsonwebtoken 9 supports only ${[...JSONWEBTOKEN_ALGS].join(', ')}`);

  // The SQL-generated key: jwt_generate_key's private JWK and its public JWK.
  // EdDSA over Ed448 has no generator of its own: the "Ed448" key, alg removed.
  let gen = await sqlGenerateKey(c.genAlg ?? alg);
  if (c.genAlg && c.genAlg !== alg) {
    const { alg: _, ...rest } = gen;
    gen = rest;
  }
  const genPublic = await sqlPublicJwk(gen);

  await run(`${label}: jwt_generate_key's key: kid is its RFC 7638 thumbprint as jose computes it`, async () => {
    const tp = await jose.calculateJwkThumbprint(genPublic, 'sha256');
    const sqlTp = await sqlThumbprint(gen);
    return [gen.kid === tp && sqlTp === tp, `kid ${gen.kid}, jwt_jwk_thumbprint ${sqlTp}, jose ${tp}`];
  });
  await run(`${label}: jwt_public_jwk of the SPKI PEM equals jose's exportJWK`, async () => {
    const mine = await sqlPublicJwk(k.spki);
    const theirs = await jose.exportJWK(k.publicKey);
    const pick = (j) => Object.fromEntries(['kty', 'crv', 'x', 'y', 'n', 'e'].filter((m) => m in j).map((m) => [m, j[m]]));
    return [sameJson(pick(mine), pick(theirs)) && !('d' in mine), `jwt_public_jwk gave ${JSON.stringify(mine)}`];
  });

  // Where jose lacks the algorithm name (Ed448), node:crypto checks the
  // EdDSA signature itself, both ways: the JWS signing input, one shot.
  if (!joseOk && c.kind === 'okp') {
    await run(`${label}: jwt_sign token's signature verifies with node:crypto (jose lacks ${alg})`, async () => {
      const tok = await sqlSign(CLAIMS, k.pkcs8, alg);
      const [h, p, s] = tok.split('.');
      const ok = crypto.verify(null, Buffer.from(`${h}.${p}`), k.publicKey, b64uDecode(s));
      return [ok && b64uJson(h).alg === alg && sameJson(b64uJson(p), CLAIMS), `verify ${ok}, header ${b64uDecode(h)}`];
    });
    for (const [kform, sqlKey] of [['SPKI PEM', k.spki], ['public JWK', k.publicJwk], ['X.509 certificate PEM', k.cert]]) {
      if (!sqlKey) continue;
      await run(`${label}: token signed with node:crypto verifies with jwt_verify (${kform}, algorithms [${alg}]) with the same claims`, async () => {
        const input = `${b64u(JSON.stringify({ alg, kid: 'n', typ: 'JWT' }))}.${b64u(JSON.stringify(CLAIMS))}`;
        const tok = `${input}.${b64u(crypto.sign(null, Buffer.from(input), k.privateKey))}`;
        const v = await sqlVerdict(tok, sqlKey, { algorithms: [alg], ...VERIFY_OPTS });
        return [v[0] === 'ok' && sameJson(v[1], CLAIMS), v[0] === 'ok' ? `gave ${JSON.stringify(v[1])}` : `jwt_verify ${describe(v)}`];
      });
    }
    await run(`${label}: node:crypto token, one signature bit flipped: jwt_verify refuses (28000)`, async () => {
      const input = `${b64u(JSON.stringify({ alg }))}.${b64u(JSON.stringify(CLAIMS))}`;
      const tok = `${input}.${b64u(crypto.sign(null, Buffer.from(input), k.privateKey))}`;
      const v = await sqlVerdict(flipSignatureBit(tok), k.spki, VERIFY_OPTS);
      return [v[0] === 'refused', `jwt_verify ${describe(v)}`];
    });
  }

  // ---------------------------------------------- jwt_sign -> node verifies
  const sqlSigners = [
    ['PKCS#8 PEM', k.pkcs8, k],
    ...(k.traditional ? [[c.kind === 'rsa' ? 'PKCS#1 RSA PEM' : 'SEC1 EC PEM', k.traditional, k]] : []),
    ['private JWK (node export)', k.privateJwk, k],
    ['private JWK with kid', { ...k.privateJwk, kid: `node-${k.id}` }, k],
    ['jwt_generate_key JWK', gen, null],
  ];
  for (const [form, sqlKey, nk] of sqlSigners) {
    const tag = `${label}: jwt_sign with ${form}`;
    const kid = sqlKey.kid;
    // the public key as each node library takes it
    const verifiers = nk
      ? [['KeyObject from SPKI PEM', crypto.createPublicKey(k.spki)],
        ['KeyObject from JWK', crypto.createPublicKey({ key: k.publicJwk, format: 'jwk' })]]
      : [['jose importJWK of jwt_public_jwk', joseOk ? await jose.importJWK(genPublic, alg) : null],
        ['KeyObject from jwt_public_jwk', crypto.createPublicKey({ key: genPublic, format: 'jwk' })]];
    let tok;
    await run(`${tag}: signs, header alg ${alg}${kid ? ' and the JWK kid' : ''}`, async () => {
      tok = await sqlSign(CLAIMS, sqlKey, alg);
      const hdr = b64uJson(tok.split('.')[0]);
      return [hdr.alg === alg && hdr.kid === kid, `header ${JSON.stringify(hdr)}`];
    });
    if (!tok) continue;
    if (joseOk) {
      for (const [vform, key] of verifiers) {
        await run(`${tag}: jose jwtVerify (${vform}, algorithms [${alg}]) gives the same claims`, async () => {
          const v = await joseVerdict(tok, key, alg, VERIFY_OPTS);
          return [v[0] === 'ok' && sameJson(v[1], CLAIMS), v[0] === 'ok' ? `jose gave ${JSON.stringify(v[1])}` : `jose ${describe(v)}`];
        });
      }
      if (kid) {
        await run(`${tag}: jose createLocalJWKSet of jwt_public_jwk(JWKS) picks the key by kid`, async () => {
          const decoy = { ...k.decoyJwk, kid: 'decoy' };
          const jwks = await sqlPublicJwk({ keys: [decoy, sqlKey] });
          if (jwks.keys?.some((j) => 'd' in j)) return [false, `jwt_public_jwk left a private member: ${JSON.stringify(jwks)}`];
          const v = await joseVerdict(tok, jose.createLocalJWKSet(jwks), alg, VERIFY_OPTS);
          return [v[0] === 'ok' && sameJson(v[1], CLAIMS), v[0] === 'ok' ? `jose gave ${JSON.stringify(v[1])}` : `jose ${describe(v)}`];
        });
      }
    }
    if (jwtOk) {
      const pems = nk
        ? [['SPKI PEM', k.spki], ...(k.cert ? [['certificate PEM', k.cert]] : [])]
        : [['SPKI PEM of jwt_public_jwk', crypto.createPublicKey({ key: genPublic, format: 'jwk' }).export({ type: 'spki', format: 'pem' })]];
      for (const [pform, pem] of pems) {
        await run(`${tag}: jsonwebtoken verify (${pform}, algorithms [${alg}]) gives the same claims`, async () => {
          const v = jsonwebtokenVerdict(tok, pem, alg, VERIFY_OPTS);
          return [v[0] === 'ok' && sameJson(v[1], CLAIMS), v[0] === 'ok' ? `gave ${JSON.stringify(v[1])}` : `jsonwebtoken ${describe(v)}`];
        });
      }
    }
  }

  // ---------------------------------------------- node signs -> jwt_verify
  const kid = `kid-${label}`;
  const jwk = { ...(await jose.exportJWK(k.publicKey)), kid };
  const jwks = {
    keys: [
      { ...(await jose.exportJWK(k.decoy.publicKey)), kid: 'decoy' },
      jwk,
      { ...(await jose.exportJWK(familyKeys.get('rsa')?.publicKey ?? nodeKeys({ kind: 'rsa' }).publicKey)), kid: 'rsa-other' },
    ],
  };
  const sqlKeys = [
    ['SPKI PEM', k.spki],
    ...(k.pkcs1Public ? [['PKCS#1 RSA public PEM', k.pkcs1Public]] : []),
    ...(k.cert ? [['X.509 certificate PEM', k.cert]] : []),
    ['PKCS#8 private PEM', k.pkcs8],
    ['public JWK (jose exportJWK)', jwk],
    ['JWKS, kid picks the key', jwks],
  ];
  const nodeSigners = [];
  if (joseOk) {
    nodeSigners.push(['jose SignJWT (KeyObject, kid)',
      () => new jose.SignJWT(CLAIMS).setProtectedHeader({ alg, kid, typ: 'JWT' }).sign(k.privateKey)]);
    nodeSigners.push(['jose SignJWT (importJWK of node private JWK, kid)',
      async () => new jose.SignJWT(CLAIMS).setProtectedHeader({ alg, kid })
        .sign(await jose.importJWK({ ...k.privateJwk, kid }, alg))]);
  }
  if (jwtOk) {
    nodeSigners.push(['jsonwebtoken sign (PKCS#8 PEM, keyid)',
      () => jsonwebtoken.sign(CLAIMS, k.pkcs8, { algorithm: alg, keyid: kid })]);
  }
  for (const [sform, signer] of nodeSigners) {
    const tok = await signer();
    for (const [kform, sqlKey] of sqlKeys) {
      await run(`${label}: ${sform} token verifies with jwt_verify (${kform}, algorithms [${alg}]) with the same claims`, async () => {
        const v = await sqlVerdict(tok, sqlKey, { algorithms: [alg], ...VERIFY_OPTS });
        return [v[0] === 'ok' && sameJson(v[1], CLAIMS), v[0] === 'ok' ? `gave ${JSON.stringify(v[1])}` : `jwt_verify ${describe(v)}`];
      });
    }
    await run(`${label}: ${sform} token against the JWKS without the signer's key (wrong kid): jwt_verify refuses (28000)`, async () => {
      const v = await sqlVerdict(tok, { keys: jwks.keys.filter((j) => j.kid !== kid) }, VERIFY_OPTS);
      return [v[0] === 'refused', `jwt_verify ${describe(v)}`];
    });
  }

  // The private JWK of jwt_generate_key, fed to jose; verified with its
  // public JWK, its JWKS and the private JWK itself.
  if (joseOk) {
    const genJwks = { keys: [{ ...(await jose.exportJWK(k.decoy.publicKey)), kid: 'decoy' }, genPublic] };
    let tok;
    await run(`${label}: jose signs with jwt_generate_key's private JWK (importJWK, kid ${'kid' in gen ? 'its thumbprint' : ''})`, async () => {
      tok = await new jose.SignJWT(CLAIMS).setProtectedHeader({ alg, kid: gen.kid }).sign(await jose.importJWK(gen, alg));
      return [true, ''];
    });
    if (tok) {
      for (const [kform, sqlKey] of [['jwt_public_jwk', genPublic], ['the private JWK', gen], ['JWKS, kid picks the key', genJwks]]) {
        await run(`${label}: jose token signed with jwt_generate_key's JWK verifies with jwt_verify (${kform}) with the same claims`, async () => {
          const v = await sqlVerdict(tok, sqlKey, { algorithms: [alg], ...VERIFY_OPTS });
          return [v[0] === 'ok' && sameJson(v[1], CLAIMS), v[0] === 'ok' ? `gave ${JSON.stringify(v[1])}` : `jwt_verify ${describe(v)}`];
        });
      }
    }
  }

  // A JWKS whose kid names another key of the same type: refused.
  if (joseOk) {
    await run(`${label}: jose token whose kid names the decoy key of the JWKS: jwt_verify refuses (28000)`, async () => {
      const tok = await new jose.SignJWT(CLAIMS).setProtectedHeader({ alg, kid: 'decoy' }).sign(k.privateKey);
      const v = await sqlVerdict(tok, jwks, VERIFY_OPTS);
      return [v[0] === 'refused', `jwt_verify ${describe(v)}`];
    });
    await run(`${label}: jose token checked against another key (SPKI PEM): jwt_verify refuses (28000)`, async () => {
      const tok = await new jose.SignJWT(CLAIMS).setProtectedHeader({ alg }).sign(k.privateKey);
      const v = await sqlVerdict(tok, k.decoySpki, VERIFY_OPTS);
      return [v[0] === 'refused', `jwt_verify ${describe(v)}`];
    });
    await run(`${label}: jwt_sign token checked against another key: jose refuses`, async () => {
      const tok = await sqlSign(CLAIMS, k.pkcs8, alg);
      const v = await joseVerdict(tok, k.decoy.publicKey, alg, VERIFY_OPTS);
      return [v[0] === 'refused', `jose ${describe(v)}`];
    });
  }

  await tamperChecks(c, {
    sqlSign: () => sqlSign(CLAIMS, k.pkcs8, alg),
    joseKey: k.publicKey,
    jwtKey: k.spki,
    nodeSign: () => new jose.SignJWT(CLAIMS).setProtectedHeader({ alg, kid }).sign(k.privateKey),
    sqlKey: k.spki,
    publicKeyText: k.spki,
  });
}

// ------------------------------------------------- algorithm restrictions

async function restrictionChecks() {
  const k = nodeKeys(CASES.find((c) => c.alg === 'ES256'));
  const k384 = nodeKeys(CASES.find((c) => c.alg === 'ES384'));
  const ecJwks = { keys: [{ ...k.publicJwk, kid: 'p256' }, { ...k384.publicJwk, kid: 'p384' }] };
  await run('ES256 jose token (kid of the P-256 key), JWKS of P-256 and P-384 keys, algorithms {ES384,RS256}: jwt_verify refuses (28000)', async () => {
    const tok = await new jose.SignJWT(CLAIMS).setProtectedHeader({ alg: 'ES256', kid: 'p256' }).sign(k.privateKey);
    const ok = await sqlVerdict(tok, ecJwks, { algorithms: ['ES256'], ...VERIFY_OPTS });
    if (ok[0] !== 'ok') return [false, `jwt_verify ${describe(ok)} with algorithms {ES256}`];
    const v = await sqlVerdict(tok, ecJwks, { algorithms: ['ES384', 'RS256'], ...VERIFY_OPTS });
    return [v[0] === 'refused', `jwt_verify ${describe(v)}`];
  });
  await run('ES256 jose token, a P-256 SPKI PEM, algorithms {ES384,RS256} (none the key can do): a wrong call (22023)', async () => {
    const tok = await new jose.SignJWT(CLAIMS).setProtectedHeader({ alg: 'ES256' }).sign(k.privateKey);
    const v = await sqlVerdict(tok, k.spki, { algorithms: ['ES384', 'RS256'], ...VERIFY_OPTS });
    return [v[0] === 'error' && v[1].code === '22023', `jwt_verify ${describe(v)}`];
  });
  const rsa = nodeKeys({ kind: 'rsa' });
  await run('PS256 jose token against a public JWK with "alg":"RS256": jwt_verify refuses (28000)', async () => {
    const tok = await new jose.SignJWT(CLAIMS).setProtectedHeader({ alg: 'PS256' }).sign(rsa.privateKey);
    const v = await sqlVerdict(tok, { ...rsa.publicJwk, alg: 'RS256' }, VERIFY_OPTS);
    return [v[0] === 'refused', `jwt_verify ${describe(v)}`];
  });
  // "EdDSA" on Ed25519 and the fully-specified "Ed25519" are the same
  // signatures (RFC 9864); the extension lets a JWK pinned to one verify the other
  const ed = nodeKeys(CASES.find((c) => c.alg === 'Ed25519'));
  await run('EdDSA jose token against an Ed25519 public JWK with "alg":"Ed25519": jwt_verify accepts (same signatures)', async () => {
    const tok = await new jose.SignJWT(CLAIMS).setProtectedHeader({ alg: 'EdDSA' }).sign(ed.privateKey);
    const v = await sqlVerdict(tok, { ...ed.publicJwk, alg: 'Ed25519' }, VERIFY_OPTS);
    return [v[0] === 'ok', `jwt_verify ${describe(v)}`];
  });
  await run('EdDSA jose token, JWKS of Ed25519 and RSA keys, algorithms {Ed25519,RS256}: jwt_verify refuses (28000)', async () => {
    const tok = await new jose.SignJWT(CLAIMS).setProtectedHeader({ alg: 'EdDSA' }).sign(ed.privateKey);
    const jw = { keys: [{ ...ed.publicJwk, kid: 'a' }, { ...rsa.publicJwk, kid: 'b' }] };
    const v = await sqlVerdict(tok, jw, { algorithms: ['Ed25519', 'RS256'], ...VERIFY_OPTS });
    return [v[0] === 'refused', `jwt_verify ${describe(v)}`];
  });
  await run('ES256 jwt_sign token, jose algorithms [ES384]: jose refuses', async () => {
    const tok = await sqlSign(CLAIMS, k.pkcs8, 'ES256');
    try {
      await jose.jwtVerify(tok, k.publicKey, { algorithms: ['ES384'], ...VERIFY_OPTS });
      return [false, 'jose accepted'];
    } catch (e) {
      return [e instanceof jose.errors.JOSEAlgNotAllowed, `jose ${e.name}: ${e.message}`];
    }
  });
  const r = nodeKeys({ kind: 'rsa' });
  await run('RS256 jsonwebtoken token, verified as PS256 only: jwt_verify refuses (28000)', async () => {
    const tok = jsonwebtoken.sign(CLAIMS, r.pkcs8, { algorithm: 'RS256' });
    const v = await sqlVerdict(tok, r.spki, { algorithms: ['PS256'], ...VERIFY_OPTS });
    return [v[0] === 'refused', `jwt_verify ${describe(v)}`];
  });
}

// ----------------------------------------------------------------- main

const started = Date.now();
try {
  for (const c of CASES) {
    if (c.kind === 'hmac') await hmacCase(c);
    else await asymmetricCase(c);
  }
  await restrictionChecks();
} catch (e) {
  // a failure of the harness itself, outside any check
  check('the suite runs to its end', false, `${e?.name}: ${e?.message}`);
} finally {
  await client.end().catch(() => {});
}
if (skipped) console.log(`${SUITE}: ${skipped} combinations skipped (see SKIP lines), in ${((Date.now() - started) / 1000).toFixed(1)} s`);
console.log(`${SUITE}: ${passed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
