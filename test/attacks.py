#!/usr/bin/python3
"""Attack suite: tokens a verifier must refuse, beside controls it must accept.

Every key is generated fresh by this run (python3-cryptography), and every
token is crafted here, byte by byte: our own base64url and JSON, signatures
from the cryptography primitives, so that the malformed forms (raw R||S and
DER, high-S, r = n, PSS with another salt length, non-canonical base64url,
duplicate members, ...) are exactly what the case says.

Each case is checked through SQL in its own database, jwt_attacks:
  - an attack must be refused by jwt_verify with SQLSTATE 28000, with the
    detail naming the rule the case is about (a refusal for another rule
    means the case did not test what it says), and jwt_is_valid must return
    false;
  - a wrong call, where the category is about the call rather than the
    token, must be 22023 from jwt_verify and from jwt_is_valid alike
    (DESIGN.md, "Errors": the call is wrong, so jwt_is_valid raises too and a
    typo cannot make every token look merely invalid).  These are: verifying
    with algorithms => '{HS256}' against a public key, an algorithms list
    naming none or an unknown name, and an SSH public key (OpenSSH, RFC 4716):
    README, "Keys", says a public key's text is never taken for a secret, so
    such a key text is a wrong key argument, not a shared secret
    (CVE-2022-29217 in PyJWT was exactly an "ssh-ed25519 ..." public key taken
    for an HMAC secret); bare base64 DER of a public key is read as the key;
  - a control must be accepted, by jwt_verify with the claims that were
    signed and by jwt_is_valid;
  - the session path: every case whose key is one of the registry's keys
    (RSA/RS256 "rsa-1", P-256/ES256 "ec-1", Ed25519/EdDSA "ed-1", a secret
    for HS256 "hs-1") is also set as jwt.token, with its audience and issuer
    as jwt.audience and jwt.issuer, and jwt_claims() must give the same
    verdict (28000 for attacks, the claims for controls).  A few cases exist
    only there (a kid naming another registry key, SQL in the kid), and
    after them the registry must still hold its four keys.

Timing (CVE-2024-25189): a timing side channel cannot be measured reliably
through SQL in a few seconds; the cases named after it check the HMAC
comparison's outcomes (last byte wrong, first byte wrong, truncated,
extended), and the constant-time comparison itself is CRYPTO_memcmp in
src/core (checked by reading, not by timing).

Run inside a throwaway cluster:

    pg_virtualenv -t -v 15 /usr/bin/python3 test/attacks.py

One line per failure ("FAIL category/case: ..."), a tally per category, and
last, alone on its line, "attacks: N passed, N failed" (N counting cases,
attacks and controls).  Exits 1 on any failure, or when it cannot run at all
(then without the summary line).
"""

import base64
import datetime
import hashlib
import hmac
import itertools
import json
import os
import secrets
import sys
import time
import zlib
from collections import OrderedDict
from decimal import Decimal

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import suite                                                          # noqa: E402

S = suite.Suite("attacks", "JWT_ATTACKS_REEXEC")
DB = "jwt_attacks"
STARTED = time.monotonic()

try:
    import psycopg2
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec, ed448, ed25519, padding, rsa
    from cryptography.hazmat.primitives.asymmetric.utils import (
        decode_dss_signature, encode_dss_signature)
    from cryptography.x509.oid import NameOID
except ImportError as e:
    S.reexec_or_cannot_run(e, "Debian's python3-psycopg2 and python3-cryptography")

# ------------------------------------------------------------ encodings

B64URL = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"


b64u = suite.b64u


def b64u_int(n, size=None):
    size = size or (n.bit_length() + 7) // 8
    return b64u(n.to_bytes(size, "big"))


def cj(obj):
    """Compact JSON, as bytes; str and bytes are taken as already JSON."""
    if isinstance(obj, bytes):
        return obj
    if isinstance(obj, str):
        return obj.encode("utf-8")
    return json.dumps(obj, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def dirty_last(seg):
    """The same bytes with the unused low bits of the last character set."""
    rem = len(seg) % 4
    assert rem in (2, 3), "no unused bits in a segment of length 0 mod 4"
    c = B64URL.index(seg[-1])
    c |= 1
    return seg[:-1] + B64URL[c]


def std_b64(seg):
    return seg.replace("-", "+").replace("_", "/")


def jws(header, payload, signer=None, *, h64=None, p64=None, sig=None):
    """A compact JWS: header and payload as JSON (dict) or raw bytes/str,
    or given as segments; signer signs the exact signing input; sig, if
    given, is the signature segment's bytes."""
    h = h64 if h64 is not None else b64u(cj(header))
    p = p64 if p64 is not None else b64u(cj(payload))
    if sig is None:
        sig = signer((h + "." + p).encode("ascii")) if signer else b""
    return f"{h}.{p}.{b64u(sig)}"


def segments(token):
    return token.split(".")


def resign(token, signer):
    h, p, _ = segments(token)
    return f"{h}.{p}.{b64u(signer((h + '.' + p).encode('ascii')))}"


def with_sig(token, sig_segment):
    h, p, _ = segments(token)
    return f"{h}.{p}.{sig_segment}"


def sig_bytes(token):
    s = segments(token)[2]
    return base64.urlsafe_b64decode(s + "=" * (-len(s) % 4))


# ------------------------------------------------------------ keys

HASH = {256: hashes.SHA256, 384: hashes.SHA384, 512: hashes.SHA512}
HASHLIB = {256: hashlib.sha256, 384: hashlib.sha384, 512: hashlib.sha512}
CURVE_ORDER = {
    "P-256": 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551,
    "P-384": int("FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFC7634D81F4372DDF"
                 "581A0DB248B0A77AECEC196ACCC52973", 16),
    "P-521": int("01FF" + "FFFFFFFF" * 7 + "FFFFFFFA51868783BF2F966B7FCC0148F709A5D0"
                 "3BB5C9B8899C47AEBB6FB71E91386409", 16),
    "secp256k1": 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141,
}
CURVE_SIZE = {"P-256": 32, "P-384": 48, "P-521": 66, "secp256k1": 32}
ED25519_L = 2 ** 252 + 27742317777372353535851937790883648493


def pem_public(key, fmt=serialization.PublicFormat.SubjectPublicKeyInfo):
    return key.public_key().public_bytes(serialization.Encoding.PEM, fmt).decode()


def der_public(key):
    return key.public_key().public_bytes(serialization.Encoding.DER,
                                         serialization.PublicFormat.SubjectPublicKeyInfo)


def ssh_public(key):
    return key.public_key().public_bytes(serialization.Encoding.OpenSSH,
                                         serialization.PublicFormat.OpenSSH).decode()


def rfc4716_public(key):
    """The SSH2 public key file format (four dashes, not PEM's five)."""
    blob = ssh_public(key).split()[1]
    lines = [blob[i:i + 70] for i in range(0, len(blob), 70)]
    return "---- BEGIN SSH2 PUBLIC KEY ----\n" + "\n".join(lines) + "\n---- END SSH2 PUBLIC KEY ----\n"


def self_signed(key, cn):
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])
    now = datetime.datetime.utcnow()
    delta = datetime.timedelta
    builder = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
               .public_key(key.public_key()).serial_number(x509.random_serial_number())
               .not_valid_before(now - delta(days=1)).not_valid_after(now + delta(days=30)))
    return builder.sign(key, hashes.SHA256())


def cert_pem(cert):
    return cert.public_bytes(serialization.Encoding.PEM).decode()


def cert_der(cert):
    return cert.public_bytes(serialization.Encoding.DER)


def jwk_rsa(key, kid=None, private=False):
    pub = key.public_key().public_numbers()
    j = {"kty": "RSA", "n": b64u_int(pub.n), "e": b64u_int(pub.e)}
    if kid:
        j["kid"] = kid
    if private:
        pn = key.private_numbers()
        j.update(d=b64u_int(pn.d), p=b64u_int(pn.p), q=b64u_int(pn.q),
                 dp=b64u_int(pn.dmp1), dq=b64u_int(pn.dmq1), qi=b64u_int(pn.iqmp))
    return j


def jwk_ec(key, crv, kid=None):
    pub = key.public_key().public_numbers()
    size = CURVE_SIZE[crv]
    j = {"kty": "EC", "crv": crv, "x": b64u_int(pub.x, size), "y": b64u_int(pub.y, size)}
    if kid:
        j["kid"] = kid
    return j


def jwk_okp(key, crv, kid=None):
    raw = key.public_key().public_bytes(serialization.Encoding.Raw,
                                        serialization.PublicFormat.Raw)
    j = {"kty": "OKP", "crv": crv, "x": b64u(raw)}
    if kid:
        j["kid"] = kid
    return j


class Keys:
    """Every key of the run, generated now."""

    def __init__(self):
        self.rsa = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.rsa_att = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.p256 = ec.generate_private_key(ec.SECP256R1())
        self.p256_att = ec.generate_private_key(ec.SECP256R1())
        self.p384 = ec.generate_private_key(ec.SECP384R1())
        self.p521 = ec.generate_private_key(ec.SECP521R1())
        self.k256 = ec.generate_private_key(ec.SECP256K1())
        self.ed = ed25519.Ed25519PrivateKey.generate()
        self.ed_att = ed25519.Ed25519PrivateKey.generate()
        self.ed448 = ed448.Ed448PrivateKey.generate()
        # 64 characters: long enough for HS256, HS384 and HS512
        self.secret = secrets.token_urlsafe(48)
        self.secret_att = secrets.token_urlsafe(48)

        self.rsa_pem = pem_public(self.rsa)
        self.rsa_pkcs1 = pem_public(self.rsa, serialization.PublicFormat.PKCS1)
        self.rsa_cert = self_signed(self.rsa, "issuer.example")
        self.rsa_cert_pem = cert_pem(self.rsa_cert)
        self.rsa_jwk = jwk_rsa(self.rsa, "rsa-1")
        self.ec_pem = pem_public(self.p256)
        self.ec_cert = self_signed(self.p256, "issuer.example")
        self.ec_cert_pem = cert_pem(self.ec_cert)
        self.ec_jwk = jwk_ec(self.p256, "P-256", "ec-1")
        self.ed_pem = pem_public(self.ed)
        self.ed_jwk = jwk_okp(self.ed, "Ed25519", "ed-1")
        self.p384_pem = pem_public(self.p384)
        self.p521_pem = pem_public(self.p521)
        self.k256_pem = pem_public(self.k256)
        self.ed448_pem = pem_public(self.ed448)
        # the trusted party's public JWKS, and a JWKS of the shared secret
        self.jwks = json.dumps({"keys": [self.rsa_jwk, self.ec_jwk, self.ed_jwk]})
        self.hs_jwks = json.dumps({"keys": [{"kty": "oct", "kid": "hs-1",
                                             "k": b64u(self.secret.encode())}]})
        self.att_cert = self_signed(self.rsa_att, "issuer.example")


K = Keys()

# The registry of the session path: verify-key text -> (kid, algorithm)
REGISTRY = OrderedDict([
    (K.rsa_pem, ("rsa-1", "RS256")),
    (K.ec_pem, ("ec-1", "ES256")),
    (K.ed_pem, ("ed-1", "EdDSA")),
    (K.secret, ("hs-1", "HS256")),
])
REGISTRY_ONLY = object()     # a case checked through jwt_claims() only

# ------------------------------------------------------------ signers


def hs(secret, bits=256):
    key = secret.encode() if isinstance(secret, str) else secret
    return lambda data: hmac.new(key, data, HASHLIB[bits]).digest()


def rs(key, bits=256):
    return lambda data: key.sign(data, padding.PKCS1v15(), HASH[bits]())


def ps(key, bits=256, salt=None, mgf_bits=None):
    salt = bits // 8 if salt is None else salt
    mgf = HASH[mgf_bits or bits]()
    return lambda data: key.sign(data, padding.PSS(mgf=padding.MGF1(mgf), salt_length=salt),
                                 HASH[bits]())


def es_rs(key, bits, data):
    return decode_dss_signature(key.sign(data, ec.ECDSA(HASH[bits]())))


def es(key, bits=256, crv="P-256", form="raw", high_s=None):
    """ECDSA: raw R||S (JOSE) or DER; high_s True/False forces the half."""
    size, n = CURVE_SIZE[crv], CURVE_ORDER[crv]

    def f(data):
        r, s = es_rs(key, bits, data)
        if high_s is True and s <= n // 2:
            s = n - s
        if high_s is False and s > n // 2:
            s = n - s
        if form == "der":
            return encode_dss_signature(r, s)
        return r.to_bytes(size, "big") + s.to_bytes(size, "big")
    return f


def es_custom(key, bits, crv, fn):
    """ECDSA with (r, s) -> raw signature bytes chosen by fn(r, s, n, size)."""
    size, n = CURVE_SIZE[crv], CURVE_ORDER[crv]
    return lambda data: fn(*es_rs(key, bits, data), n, size)


def ed(key):
    return key.sign


# ------------------------------------------------------------ cases

NOW = int(time.time())
EXP = NOW + 3600
BASE = {"sub": "alice", "exp": EXP}
AUD = "api"
ISS = "https://issuer.example/"


class Case:
    def __init__(self, cat, name, token, key, expect="28000", *, detail=None, args=None,
                 settings=None, session=None, claims=None, keytype="text"):
        self.cat = cat
        self.name = name
        self.token = token
        self.key = key
        self.expect = expect            # "28000", "22023" or "ok"
        self.detail = (detail,) if isinstance(detail, str) else detail
        self.args = args or {}
        self.settings = settings or {}
        self.session = session          # None: when the key is a registry key
        self.claims = claims            # the claims a control must return
        self.keytype = keytype


CASES = []
CATEGORIES = OrderedDict()


def category(name, title):
    CATEGORIES[name] = title


def attack(cat, name, token, key, detail=None, **kw):
    CASES.append(Case(cat, name, token, key, "28000", detail=detail, **kw))


def wrong_call(cat, name, token, key, **kw):
    CASES.append(Case(cat, name, token, key, "22023", **kw))


def control(cat, name, token, key, claims=None, **kw):
    CASES.append(Case(cat, name, token, key, "ok", claims=claims, **kw))


D_SIG = "The signature does not verify."
D_RANGE = "The ECDSA signature's r or s is zero or not below the curve order."
D_NONE = 'The algorithm "none" is never accepted.'
D_UNKNOWN = "not a registered JWS signature algorithm"
D_NOALG = 'The header has no "alg" string.'
D_CANNOT = "The key cannot verify"
D_B64 = "not strict base64url"
D_FORM = "exactly three base64url segments"
D_HDR_JSON = "The header is not acceptable JSON"
D_PAY_JSON = "The payload is not acceptable JSON"
D_KID_UNKNOWN = 'No key has the token\'s "kid".'
D_AUD = "audience (aud) does not include the expected audience"
D_ISS = "The token's issuer (iss) does not match."


def build_cases():
    hs256 = hs(K.secret)
    rs256 = rs(K.rsa)
    es256 = es(K.p256)
    H = lambda alg, **m: dict({"alg": alg, "typ": "JWT"}, **m)   # noqa: E731

    # ---------------------------------------------------------- alg none
    c = "alg-none"
    category(c, "alg none in every casing, with and without a signature")
    for spelling in ("".join(t) for t in itertools.product(*zip("none", "NONE"))):
        attack(c, f'"{spelling}", no signature, against the RSA key',
               jws(H(spelling), BASE), K.rsa_pem, D_NONE)
        attack(c, f'"{spelling}", HMAC by the trusted secret, against the secret',
               jws(H(spelling), BASE, hs256), K.secret, D_NONE)
    attack(c, '"\\u006eone" (none spelt with an escape)',
           jws('{"alg":"\\u006eone","typ":"JWT"}', BASE), K.rsa_pem, D_NONE)
    attack(c, '"none", RS256 signature by the trusted key',
           jws(H("none"), BASE, rs256), K.rsa_pem, D_NONE)
    wrong_call(c, "algorithms => '{none}' (a wrong call: 22023)",
               jws(H("none"), BASE), K.secret, args={"algorithms": "{none}"})
    wrong_call(c, "algorithms => '{NONE}' (a wrong call: 22023)",
               jws(H("NONE"), BASE), K.secret, args={"algorithms": "{NONE}"})
    control(c, "HS256 by the trusted secret", jws(H("HS256"), BASE, hs256), K.secret, BASE)
    control(c, "RS256 by the trusted key", jws(H("RS256"), BASE, rs256), K.rsa_pem, BASE)

    # ---------------------------------------------------------- unknown alg
    c = "alg-unknown"
    category(c, "unknown, empty, missing and non-string alg")
    for alg in ("", "HS257", "hs256", "Hs256", "HS256 ", " HS256", "RS1", "RSA-OAEP",
                "dir", "ES256K1", "HMAC-SHA256", "EdDSA25519"):
        attack(c, f"alg {alg!r}, MAC by the trusted secret",
               jws(H(alg), BASE, hs256), K.secret, D_UNKNOWN)
    for raw, what in (('{"typ":"JWT"}', "missing"), ('{"alg":null}', "null"),
                      ('{"alg":256}', "a number"), ('{"alg":["HS256"]}', "an array"),
                      ('{"alg":{"name":"HS256"}}', "an object"), ('{"alg":true}', "true")):
        attack(c, f"alg {what}", jws(raw, BASE, hs256), K.secret, D_NOALG)
    attack(c, 'alg "HS256\\u0000"', jws('{"alg":"HS256\\u0000"}', BASE, hs256), K.secret,
           (D_HDR_JSON, D_UNKNOWN))
    wrong_call(c, "algorithms => '{hs256}' (unknown name: a wrong call, 22023)",
               jws(H("HS256"), BASE, hs256), K.secret, args={"algorithms": "{hs256}"})
    attack(c, "RS256 token, algorithms => '{PS256}' (downgrade the list does not allow)",
           jws(H("RS256"), BASE, rs256), K.rsa_pem, "not among the allowed algorithms",
           args={"algorithms": "{PS256}"})
    control(c, 'alg "\\u0048S256" is HS256 spelt with an escape',
            jws('{"alg":"\\u0048S256"}', BASE, hs256), K.secret, BASE)
    control(c, "RS256 token, algorithms => '{RS256,PS256}'",
            jws(H("RS256"), BASE, rs256), K.rsa_pem, BASE, args={"algorithms": "{RS256,PS256}"})

    # ---------------------------------------------------------- key confusion
    c = "key-confusion"
    category(c, "HS* keyed with the trusted public key (CVE-2015-9235, CVE-2016-5431, "
                "CVE-2022-29217)")
    cve = "(CVE-2015-9235, CVE-2016-5431)"
    rsa_der = der_public(K.rsa)
    rsa_jwk_text = json.dumps(K.rsa_jwk)
    for mac_key, form in ((K.rsa_pem, "RSA PEM"), (K.rsa_pem.rstrip("\n"), "RSA PEM, no newline"),
                          (K.rsa_pkcs1, "RSA PKCS#1 PEM"),
                          (base64.b64encode(rsa_der).decode(), "RSA base64 DER"),
                          (rsa_der, "RSA DER bytes"),
                          (rsa_jwk_text, "RSA JWK text"),
                          (K.rsa_cert_pem, "RSA certificate PEM"),
                          (K.rsa.public_key().public_numbers().n.to_bytes(256, "big"),
                           "RSA modulus bytes")):
        attack(c, f"HS256 MACed with the {form}, verified with the RSA PEM {cve}",
               jws(H("HS256"), BASE, hs(mac_key)), K.rsa_pem, D_CANNOT)
    for bits in (384, 512):
        attack(c, f"HS{bits} MACed with the RSA PEM {cve}",
               jws(H(f"HS{bits}"), BASE, hs(K.rsa_pem, bits)), K.rsa_pem, D_CANNOT)
    for key, form in ((K.rsa_pkcs1, "RSA PKCS#1 PEM"), (rsa_jwk_text, "RSA JWK"),
                      (K.rsa_cert_pem, "RSA certificate"), (K.jwks, "JWKS"),
                      (K.ec_pem, "EC PEM"), (json.dumps(K.ec_jwk), "EC JWK"),
                      (K.ec_cert_pem, "EC certificate"), (K.ed_pem, "Ed25519 PEM")):
        attack(c, f"HS256 MACed with the {form} text, verified with it {cve}",
               jws(H("HS256"), BASE, hs(key)), key, (D_CANNOT, D_KID_UNKNOWN))
    attack(c, f"HS256 MACed with the RSA PEM, algorithms => '{{HS256,RS256}}' {cve}",
           jws(H("HS256"), BASE, hs(K.rsa_pem)), K.rsa_pem, D_CANNOT,
           args={"algorithms": "{HS256,RS256}"})
    wrong_call(c, f"HS256 MACed with the RSA PEM, algorithms => '{{HS256}}' {cve}: "
                  "the key can do no allowed algorithm, a wrong call (22023)",
               jws(H("HS256"), BASE, hs(K.rsa_pem)), K.rsa_pem, args={"algorithms": "{HS256}"})
    wrong_call(c, f"HS256 MACed with the EC JWK, algorithms => '{{HS256}}' {cve}: 22023",
               jws(H("HS256"), BASE, hs(json.dumps(K.ec_jwk))), json.dumps(K.ec_jwk),
               args={"algorithms": "{HS256}"})
    # A public key in a form the extension does not read as a key must not
    # become a shared secret either (README "Keys": a public key's text is
    # never taken for a secret).  SSH keys are refused as a wrong key
    # argument, 22023 (CVE-2022-29217 in PyJWT was exactly an "ssh-ed25519
    # ..." public key taken for an HMAC secret).
    for text, form in ((ssh_public(K.ed), "an OpenSSH ssh-ed25519 public key (CVE-2022-29217)"),
                       (ssh_public(K.rsa), "an OpenSSH ssh-rsa public key (CVE-2022-29217)"),
                       (ssh_public(K.p256), "an OpenSSH ecdsa-sha2-nistp256 public key "
                                            "(CVE-2022-29217)"),
                       (rfc4716_public(K.rsa), "an RFC 4716 SSH2 public key (CVE-2022-29217)")):
        wrong_call(c, f"the trusted key given as {form}; HS256 MACed with that text",
                   jws(H("HS256"), BASE, hs(text)), text)
    # Bare base64 DER of a public key or certificate (Keycloak's public_key, a
    # JWKS x5c entry) is read as that key: the forgery meets an RSA key, 28000,
    # and a genuine RS256 token verifies with the same text.
    for text, form in ((base64.b64encode(rsa_der).decode(),
                        "the bare base64 DER SubjectPublicKeyInfo, as Keycloak publishes it"),
                       (base64.b64encode(cert_der(K.rsa_cert)).decode(),
                        "the bare base64 DER certificate of a JWKS x5c entry")):
        attack(c, f"the trusted key given as {form}; HS256 MACed with that text {cve}",
               jws(H("HS256"), BASE, hs(text)), text, D_CANNOT)
        control(c, f"RS256 verified with {form}", jws(H("RS256"), BASE, rs256), text, BASE)
    control(c, "RS256 verified with the RSA certificate",
            jws(H("RS256"), BASE, rs256), K.rsa_cert_pem, BASE)
    control(c, "ES256 verified with the EC JWK",
            jws(H("ES256"), BASE, es256), json.dumps(K.ec_jwk), BASE)

    # ---------------------------------------------------------- embedded keys
    c = "embedded-key"
    category(c, "jwk, x5c, jku, x5u headers carrying the attacker's key (CVE-2018-0114)")
    cve = "(CVE-2018-0114)"
    att_jwk = jwk_rsa(K.rsa_att)
    rs_att = rs(K.rsa_att)
    attack(c, f"RS256 by the attacker, header jwk = attacker's key {cve}",
           jws(H("RS256", jwk=att_jwk), BASE, rs_att), K.rsa_pem, D_SIG)
    attack(c, f"RS256 by the attacker, jwk and kid rsa-1, against the JWKS {cve}",
           jws(H("RS256", kid="rsa-1", jwk=dict(att_jwk, kid="rsa-1")), BASE, rs_att),
           K.jwks, D_SIG)
    attack(c, f"HS256 by the attacker, header jwk = oct key of its secret {cve}",
           jws(H("HS256", jwk={"kty": "oct", "k": b64u(K.secret_att.encode())}), BASE,
               hs(K.secret_att)), K.secret, D_SIG)
    attack(c, f"HS256 with an oct jwk header, against the RSA key {cve}",
           jws(H("HS256", jwk={"kty": "oct", "k": b64u(K.secret_att.encode())}), BASE,
               hs(K.secret_att)), K.rsa_pem, D_CANNOT)
    attack(c, f"ES256 by the attacker, header jwk = attacker's EC key {cve}",
           jws(H("ES256", jwk=jwk_ec(K.p256_att, "P-256")), BASE, es(K.p256_att)),
           K.ec_pem, D_SIG)
    attack(c, f"EdDSA by the attacker, header jwk = attacker's Ed25519 key {cve}",
           jws(H("EdDSA", jwk=jwk_okp(K.ed_att, "Ed25519")), BASE, ed(K.ed_att)),
           K.ed_pem, D_SIG)
    att_x5c = [base64.b64encode(cert_der(K.att_cert)).decode()]
    attack(c, "RS256 by the attacker, x5c = attacker's self-signed certificate",
           jws(H("RS256", x5c=att_x5c), BASE, rs_att), K.rsa_cert_pem, D_SIG)
    attack(c, "RS256 by the attacker, x5c = [attacker's cert, the trusted cert]",
           jws(H("RS256", x5c=att_x5c + [base64.b64encode(cert_der(K.rsa_cert)).decode()]),
               BASE, rs_att), K.rsa_pem, D_SIG)
    attack(c, "RS256 by the attacker, jku = attacker's JWKS URL, kid rsa-1",
           jws(H("RS256", jku="https://attacker.example/jwks.json", kid="rsa-1"), BASE, rs_att),
           K.jwks, D_SIG)
    attack(c, "RS256 by the attacker, x5u = attacker's certificate URL",
           jws(H("RS256", x5u="https://attacker.example/cert.pem"), BASE, rs_att),
           K.rsa_pem, D_SIG)
    attack(c, "RS256 by the attacker, jku pointing at localhost",
           jws(H("RS256", jku="http://127.0.0.1/jwks"), BASE, rs_att), K.rsa_pem, D_SIG)
    control(c, "RS256 by the trusted key, header jwk = the trusted key itself",
            jws(H("RS256", jwk=jwk_rsa(K.rsa)), BASE, rs256), K.rsa_pem, BASE)
    control(c, "RS256 by the trusted key with jku and x5u headers (ignored)",
            jws(H("RS256", jku="https://attacker.example/j", x5u="https://attacker.example/c"),
                BASE, rs256), K.rsa_pem, BASE)

    # ---------------------------------------------------------- kid
    c = "kid"
    category(c, "kid carrying SQL, path traversal, NUL, 10,000 characters, another key type")
    for kid in ("' OR '1'='1", "hs-1' OR kid IS NOT NULL --",
                "x'; DELETE FROM jwt_keys; --", "hs-1\" OR \"1\"=\"1"):
        attack(c, f"kid {kid!r}, MAC keyed with the empty string, against the registry",
               jws(H("HS256", kid=kid), BASE, hs(b"")), REGISTRY_ONLY, D_KID_UNKNOWN)
        attack(c, f"kid {kid!r}, MAC by the trusted secret, against the secret's JWKS",
               jws(H("HS256", kid=kid), BASE, hs256), K.hs_jwks, D_KID_UNKNOWN)
    for kid, mac in (("../../../../../../dev/null", b""), ("/dev/null", b""),
                     ("../../../../../../proc/self/environ", b"")):
        attack(c, f"kid {kid!r}, MAC keyed with the empty file, against the registry",
               jws(H("HS256", kid=kid), BASE, hs(mac)), REGISTRY_ONLY, D_KID_UNKNOWN)
        attack(c, f"kid {kid!r}, against the JWKS",
               jws(H("RS256", kid=kid), BASE, rs_att), K.jwks, D_KID_UNKNOWN)
    attack(c, 'kid "hs-1\\u0000x", MAC by the trusted secret, against the JWKS',
           jws('{"alg":"HS256","kid":"hs-1\\u0000x"}', BASE, hs256), K.hs_jwks, D_HDR_JSON)
    attack(c, 'kid "rsa-1\\u0000", RS256 by the trusted key, against the registry',
           jws('{"alg":"RS256","kid":"rsa-1\\u0000"}', BASE, rs256), REGISTRY_ONLY, D_HDR_JSON)
    attack(c, "kid with a raw NUL byte, against the JWKS",
           jws(b'{"alg":"RS256","kid":"rsa-1\x00"}', BASE, rs256), K.jwks, D_HDR_JSON)
    long_kid = "rsa-1" + "A" * 9995
    attack(c, "kid of 10,000 characters, RS256 by the trusted key, against the JWKS",
           jws(H("RS256", kid=long_kid), BASE, rs256), K.jwks, D_KID_UNKNOWN)
    attack(c, "kid of 10,000 characters, against the registry",
           jws(H("RS256", kid=long_kid), BASE, rs256), REGISTRY_ONLY, D_KID_UNKNOWN)
    attack(c, "kid ec-1 (an EC key) on an RS256 token by the trusted RSA key, JWKS",
           jws(H("RS256", kid="ec-1"), BASE, rs256), K.jwks, D_CANNOT)
    attack(c, "kid rsa-1 on HS256 MACed with the RSA PEM, JWKS",
           jws(H("HS256", kid="rsa-1"), BASE, hs(K.rsa_pem)), K.jwks, D_CANNOT)
    attack(c, "kid rsa-1 on HS256 by the trusted secret, registry",
           jws(H("HS256", kid="rsa-1"), BASE, hs256), REGISTRY_ONLY, D_CANNOT)
    attack(c, "kid rsa-1 on HS256 MACed with the RSA PEM, registry",
           jws(H("HS256", kid="rsa-1"), BASE, hs(K.rsa_pem)), REGISTRY_ONLY, D_CANNOT)
    attack(c, "kid hs-1 (a secret) on RS256 by the trusted RSA key, registry",
           jws(H("RS256", kid="hs-1"), BASE, rs256), REGISTRY_ONLY, D_CANNOT)
    attack(c, "kid ed-1 on ES256 by the attacker, JWKS",
           jws(H("ES256", kid="ed-1"), BASE, es(K.p256_att)), K.jwks, D_CANNOT)
    for raw, what in (('{"alg":"RS256","kid":1}', "a number"),
                      ('{"alg":"RS256","kid":null}', "null"),
                      ('{"alg":"RS256","kid":["rsa-1"]}', "an array")):
        attack(c, f"kid {what}, RS256 by the trusted key", jws(raw, BASE, rs256), K.jwks,
               'The header\'s "kid" is not a string.')
    attack(c, 'kid "RSA-1" (case differs), JWKS', jws(H("RS256", kid="RSA-1"), BASE, rs256),
           K.jwks, D_KID_UNKNOWN)
    control(c, 'kid "rsa\\u002d1" (rsa-1 spelt with an escape), JWKS',
            jws('{"alg":"RS256","kid":"rsa\\u002d1"}', BASE, rs256), K.jwks, BASE)
    control(c, "kid rsa-1, RS256 by the trusted key, JWKS",
            jws(H("RS256", kid="rsa-1"), BASE, rs256), K.jwks, BASE)
    control(c, "kid hs-1, HS256 by the trusted secret, registry",
            jws(H("HS256", kid="hs-1"), BASE, hs256), REGISTRY_ONLY, BASE)
    control(c, "kid ec-1, ES256 by the trusted key, registry",
            jws(H("ES256", kid="ec-1"), BASE, es256), REGISTRY_ONLY, BASE)

    # ---------------------------------------------------------- ECDSA
    c = "ecdsa"
    category(c, "ECDSA signature encodings and ranges (CVE-2022-21449)")
    cve = "(CVE-2022-21449)"
    n256 = CURVE_ORDER["P-256"]
    tok = lambda signer, alg="ES256": jws(H(alg), BASE, signer)   # noqa: E731
    p256 = lambda fn: es_custom(K.p256, 256, "P-256", fn)          # noqa: E731
    attack(c, f"r = s = 0, all-zero signature {cve}", tok(lambda d: bytes(64)), K.ec_pem, D_RANGE)
    attack(c, f"r = 0, s valid {cve}", tok(p256(lambda r, s, n, z: bytes(z) + s.to_bytes(z, "big"))),
           K.ec_pem, D_RANGE)
    attack(c, f"r valid, s = 0 {cve}", tok(p256(lambda r, s, n, z: r.to_bytes(z, "big") + bytes(z))),
           K.ec_pem, D_RANGE)
    attack(c, f"r = s = n {cve}", tok(lambda d: n256.to_bytes(32, "big") * 2), K.ec_pem, D_RANGE)
    attack(c, f"r = n, s valid {cve}",
           tok(p256(lambda r, s, n, z: n.to_bytes(z, "big") + s.to_bytes(z, "big"))), K.ec_pem, D_RANGE)
    attack(c, f"r valid, s = n {cve}",
           tok(p256(lambda r, s, n, z: r.to_bytes(z, "big") + n.to_bytes(z, "big"))), K.ec_pem, D_RANGE)
    attack(c, "r = s = 1", tok(lambda d: (1).to_bytes(32, "big") * 2), K.ec_pem, D_SIG)
    attack(c, "r, s = all ones (above n)", tok(lambda d: b"\xff" * 64), K.ec_pem, D_RANGE)
    attack(c, f"ES384: r = s = 0 {cve}", tok(lambda d: bytes(96), "ES384"), K.p384_pem, D_RANGE)
    attack(c, f"ES512: r = s = 0 {cve}", tok(lambda d: bytes(132), "ES512"), K.p521_pem, D_RANGE)
    attack(c, f"ES256K: r = s = 0 {cve}", tok(lambda d: bytes(64), "ES256K"), K.k256_pem, D_RANGE)
    attack(c, "ES512: r + n (fits in 66 bytes), s valid",
           tok(es_custom(K.p521, 512, "P-521",
                         lambda r, s, n, z: (r + n).to_bytes(z, "big") + s.to_bytes(z, "big")),
               "ES512"), K.p521_pem, D_RANGE)
    attack(c, "ES512: r valid, s + n",
           tok(es_custom(K.p521, 512, "P-521",
                         lambda r, s, n, z: r.to_bytes(z, "big") + (s + n).to_bytes(z, "big")),
               "ES512"), K.p521_pem, D_RANGE)
    attack(c, "DER signature instead of raw R||S", tok(es(K.p256, form="der")), K.ec_pem, D_SIG)
    attack(c, "ES384: DER signature instead of raw R||S",
           tok(es(K.p384, 384, "P-384", form="der"), "ES384"), K.p384_pem, D_SIG)
    good = tok(es256)
    sig = sig_bytes(good)
    attack(c, "one byte short (63 bytes)", with_sig(good, b64u(sig[:-1])), K.ec_pem, D_SIG)
    attack(c, "one byte long (65 bytes, 0x00 appended)", with_sig(good, b64u(sig + b"\0")),
           K.ec_pem, D_SIG)
    attack(c, "one byte long (65 bytes, 0x00 prepended)", with_sig(good, b64u(b"\0" + sig)),
           K.ec_pem, D_SIG)
    attack(c, "r and s swapped", with_sig(good, b64u(sig[32:] + sig[:32])), K.ec_pem, D_SIG)
    attack(c, "ES256 label on a P-384 signature, P-384 key", tok(es(K.p384, 256, "P-384")),
           K.p384_pem, D_CANNOT)
    attack(c, "ES384 label, P-256 key", tok(es(K.p256, 384, "P-256"), "ES384"), K.ec_pem, D_CANNOT)
    attack(c, "ES256K label, P-256 key", tok(es256, "ES256K"), K.ec_pem, D_CANNOT)
    attack(c, "ES256 label, secp256k1 key", tok(es(K.k256, 256, "secp256k1")), K.k256_pem, D_CANNOT)
    attack(c, "ES256 by the attacker's P-256 key", tok(es(K.p256_att)), K.ec_pem, D_SIG)
    control(c, "ES256, low-S", tok(es(K.p256, high_s=False)), K.ec_pem, BASE)
    control(c, "ES256, high-S (n - s): valid in JWS", tok(es(K.p256, high_s=True)), K.ec_pem, BASE)
    control(c, "ES384", tok(es(K.p384, 384, "P-384"), "ES384"), K.p384_pem, BASE)
    control(c, "ES512", tok(es(K.p521, 512, "P-521"), "ES512"), K.p521_pem, BASE)
    control(c, "ES256K, high-S", tok(es(K.k256, 256, "secp256k1", high_s=True), "ES256K"),
            K.k256_pem, BASE)

    # ---------------------------------------------------------- signatures
    c = "signature"
    category(c, "PSS salt, signatures stripped, truncated, extended, empty, of another algorithm")
    for salt in (0, 20, 64, 222):
        attack(c, f"PS256 with salt length {salt} (not 32)", jws(H("PS256"), BASE, ps(K.rsa, salt=salt)),
               K.rsa_pem, D_SIG)
    attack(c, "PS384 with salt length 32 (not 48)", jws(H("PS384"), BASE, ps(K.rsa, 384, salt=32)),
           K.rsa_pem, D_SIG)
    attack(c, "PS256 with MGF1-SHA1",
           jws(H("PS256"), BASE, lambda d: K.rsa.sign(
               d, padding.PSS(mgf=padding.MGF1(hashes.SHA1()), salt_length=32), hashes.SHA256())),
           K.rsa_pem, D_SIG)
    attack(c, "PS256 with MGF1-SHA512", jws(H("PS256"), BASE, ps(K.rsa, 256, mgf_bits=512)),
           K.rsa_pem, D_SIG)
    rgood = jws(H("RS256"), BASE, rs256)
    rsig = sig_bytes(rgood)
    h, p, s = segments(rgood)
    attack(c, "RS256, signature stripped (empty segment)", f"{h}.{p}.", K.rsa_pem, D_SIG)
    attack(c, "RS256, signature truncated by a byte", with_sig(rgood, b64u(rsig[:-1])), K.rsa_pem, D_SIG)
    attack(c, "RS256, signature truncated to half", with_sig(rgood, b64u(rsig[:128])), K.rsa_pem, D_SIG)
    attack(c, "RS256, signature extended by 0x00", with_sig(rgood, b64u(rsig + b"\0")), K.rsa_pem, D_SIG)
    attack(c, "RS256, signature with a leading 0x00", with_sig(rgood, b64u(b"\0" + rsig)),
           K.rsa_pem, D_SIG)
    nmod = K.rsa.public_key().public_numbers().n
    attack(c, "RS256, signature = 0", with_sig(rgood, b64u(bytes(256))), K.rsa_pem, D_SIG)
    attack(c, "RS256, signature = 1", with_sig(rgood, b64u((1).to_bytes(256, "big"))), K.rsa_pem, D_SIG)
    attack(c, "RS256, signature = n (the modulus)", with_sig(rgood, b64u(nmod.to_bytes(256, "big"))),
           K.rsa_pem, D_SIG)
    attack(c, "RS256, signature = n - 1", with_sig(rgood, b64u((nmod - 1).to_bytes(256, "big"))),
           K.rsa_pem, D_SIG)
    attack(c, "RS256 label on an RS512 signature", jws(H("RS256"), BASE, rs(K.rsa, 512)), K.rsa_pem, D_SIG)
    attack(c, "RS256 label on a PS256 signature", jws(H("RS256"), BASE, ps(K.rsa)), K.rsa_pem, D_SIG)
    attack(c, "PS256 label on an RS256 signature", jws(H("PS256"), BASE, rs256), K.rsa_pem, D_SIG)
    attack(c, "RS256 by the attacker's RSA key", jws(H("RS256"), BASE, rs_att), K.rsa_pem, D_SIG)
    attack(c, "RS256, payload changed after signing",
           f"{h}.{b64u(cj(dict(BASE, sub='admin')))}.{s}", K.rsa_pem, D_SIG)
    attack(c, "RS256, header changed after signing (alg kept, kid added)",
           f"{b64u(cj(H('RS256', kid='x')))}.{p}.{s}", K.rsa_pem, D_SIG)
    egood = jws(H("EdDSA"), BASE, ed(K.ed))
    esig = sig_bytes(egood)
    attack(c, "EdDSA, signature truncated", with_sig(egood, b64u(esig[:-1])), K.ed_pem, D_SIG)
    attack(c, "EdDSA, signature empty", with_sig(egood, ""), K.ed_pem, D_SIG)
    s_le = int.from_bytes(esig[32:], "little")
    attack(c, "EdDSA, S + L (non-canonical S, malleability)",
           with_sig(egood, b64u(esig[:32] + (s_le + ED25519_L).to_bytes(32, "little"))),
           K.ed_pem, D_SIG)
    attack(c, "EdDSA, all-zero signature", with_sig(egood, b64u(bytes(64))), K.ed_pem, D_SIG)
    attack(c, "Ed448 label on an Ed25519 signature", jws(H("Ed448"), BASE, ed(K.ed)), K.ed_pem, D_CANNOT)
    attack(c, "EdDSA by the attacker's Ed25519 key", jws(H("EdDSA"), BASE, ed(K.ed_att)), K.ed_pem, D_SIG)
    control(c, "PS256 with salt length 32", jws(H("PS256"), BASE, ps(K.rsa)), K.rsa_pem, BASE,
            session=False)
    control(c, "PS384 with salt length 48", jws(H("PS384"), BASE, ps(K.rsa, 384)), K.rsa_pem, BASE,
            session=False)
    control(c, "EdDSA", egood, K.ed_pem, BASE)
    control(c, "Ed25519 (fully-specified name)", jws(H("Ed25519"), BASE, ed(K.ed)), K.ed_pem, BASE,
            session=False)
    control(c, "Ed448", jws(H("Ed448"), BASE, ed(K.ed448)), K.ed448_pem, BASE)

    # ---------------------------------------------------------- HMAC comparison
    c = "hmac"
    category(c, "HMAC tags compared whole and in constant time (CVE-2024-25189)")
    cve = "(CVE-2024-25189)"
    hgood = jws(H("HS256"), BASE, hs256)
    tag = sig_bytes(hgood)
    attack(c, f"tag with the last byte wrong {cve}",
           with_sig(hgood, b64u(tag[:-1] + bytes([tag[-1] ^ 1]))), K.secret, D_SIG)
    attack(c, f"tag with the first byte wrong {cve}",
           with_sig(hgood, b64u(bytes([tag[0] ^ 0x80]) + tag[1:])), K.secret, D_SIG)
    attack(c, f"tag truncated to 16 bytes {cve}", with_sig(hgood, b64u(tag[:16])), K.secret, D_SIG)
    attack(c, f"tag truncated to 1 byte {cve}", with_sig(hgood, b64u(tag[:1])), K.secret, D_SIG)
    attack(c, f"tag extended by a byte {cve}", with_sig(hgood, b64u(tag + b"\0")), K.secret, D_SIG)
    attack(c, f"tag empty {cve}", with_sig(hgood, ""), K.secret, D_SIG)
    attack(c, "HS512 tag under an HS256 label", jws(H("HS256"), BASE, hs(K.secret, 512)), K.secret, D_SIG)
    attack(c, "HS256 tag under an HS384 label", jws(H("HS384"), BASE, hs256), K.secret, D_SIG)
    attack(c, "tag by another secret", jws(H("HS256"), BASE, hs(K.secret_att)), K.secret, D_SIG)
    attack(c, "tag keyed with the secret's prefix (32 characters)",
           jws(H("HS256"), BASE, hs(K.secret[:32])), K.secret, D_SIG)
    control(c, "HS256", hgood, K.secret, BASE)
    control(c, "HS512", jws(H("HS512"), BASE, hs(K.secret, 512)), K.secret, BASE, session=False)
    control(c, "HS256, key as bytea", hgood, K.secret.encode(), BASE, keytype="bytea")

    # ---------------------------------------------------------- base64url
    c = "base64url"
    category(c, "padding, + and /, whitespace, non-canonical trailing bits")
    # A header whose JSON length is 1 mod 3 (two pad characters, 4 spare bits)
    hdr = H("HS256")
    while len(cj(hdr)) % 3 != 1:
        hdr["x"] = hdr.get("x", "") + "x"
    h1 = b64u(cj(hdr))
    p1 = b64u(cj(BASE))
    attack(c, "header with '==' padding, MAC over the padded text",
           jws(None, BASE, hs256, h64=h1 + "=="), K.secret, D_B64)
    attack(c, "RS256 signature with '==' padding",
           with_sig(rgood, b64u(rsig) + "=" * (-len(b64u(rsig)) % 4)), K.rsa_pem, D_B64)
    hpad = jws(H("HS256"), BASE, hs256)
    attack(c, "HS256 tag with '=' padding", hpad + "=", K.secret, D_B64)
    # '+' and '/': find a tag and a payload whose base64url has '-' or '_'
    for i in range(1000):
        t = jws(H("HS256"), dict(BASE, n=i), hs256)
        if any(ch in segments(t)[2] for ch in "-_"):
            attack(c, "tag in standard base64 ('+', '/')",
                   with_sig(t, std_b64(segments(t)[2])), K.secret, D_B64)
            break
    for i in range(1000):
        pl = b64u(cj(dict(BASE, n=i, x="\u00fb\u00ff?>")))
        if any(ch in pl for ch in "-_"):
            attack(c, "payload in standard base64, MAC over that text",
                   jws(H("HS256"), None, hs256, p64=std_b64(pl)), K.secret, D_B64)
            break
    attack(c, "trailing newline after the token", hpad + "\n", K.secret, D_B64)
    attack(c, "leading space before the token", " " + hpad, K.secret, D_B64)
    attack(c, "signature split by a newline",
           with_sig(rgood, s[:64] + "\n" + s[64:]), K.rsa_pem, D_B64)
    attack(c, "space inside the payload, MAC over that text",
           jws(H("HS256"), None, hs256, p64=p1[:8] + " " + p1[8:]), K.secret, D_B64)
    attack(c, "tab inside the header, MAC over that text",
           jws(None, BASE, hs256, h64=h1[:4] + "\t" + h1[4:]), K.secret, D_B64)
    attack(c, "header with non-zero trailing bits, MAC over that text",
           jws(None, BASE, hs256, h64=dirty_last(h1)), K.secret, D_B64)
    assert len(s) % 4 in (2, 3)
    attack(c, "RS256 signature with non-zero trailing bits", with_sig(rgood, dirty_last(s)),
           K.rsa_pem, D_B64)
    hs_seg = segments(hpad)[2]
    attack(c, "HS256 tag with non-zero trailing bits", with_sig(hpad, dirty_last(hs_seg)),
           K.secret, D_B64)
    assert len(hs_seg) % 4 == 3
    attack(c, "signature of length 1 mod 4 (a stray character)", hpad + "AA", K.secret, D_B64)
    attack(c, "a '.'-free character outside the alphabet ('!') in the tag",
           with_sig(hpad, hs_seg[:-1] + "!"), K.secret, D_B64)
    attack(c, "percent-encoded '-' in the tag",
           with_sig(hpad, hs_seg.replace("-", "%2D") if "-" in hs_seg else "%2D" + hs_seg),
           K.secret, D_B64)
    control(c, "header of length 1 mod 3, canonical", jws(None, BASE, hs256, h64=h1), K.secret, BASE)

    # ---------------------------------------------------------- segments
    c = "segments"
    category(c, "two or four segments, other serialisations")
    attack(c, "two segments (signature and its dot stripped)", f"{h}.{p}", K.rsa_pem, D_FORM)
    attack(c, "four segments (an extra one)", rgood + ".AAAA", K.rsa_pem, D_FORM)
    attack(c, "four segments (a trailing dot)", rgood + ".", K.rsa_pem, D_FORM)
    attack(c, "five segments (JWE compact form)",
           f"{b64u(cj({'alg': 'RSA-OAEP', 'enc': 'A256GCM'}))}.AAAA.AAAA.AAAA.AAAA", K.rsa_pem, D_FORM)
    attack(c, "one segment", h, K.rsa_pem, D_FORM)
    attack(c, "empty token", "", K.rsa_pem, D_FORM)
    attack(c, "two dots only", "..", K.rsa_pem, (D_HDR_JSON, D_FORM))
    attack(c, "JWS JSON serialisation",
           json.dumps({"payload": p, "protected": h, "signature": s}), K.rsa_pem, D_FORM)
    attack(c, "empty header segment", f".{p}.{s}", K.rsa_pem, D_HDR_JSON)
    control(c, "three segments", rgood, K.rsa_pem, BASE)

    # ---------------------------------------------------------- extensions
    c = "extensions"
    category(c, "crit, b64: false, zip, a nested JWT (cty: JWT)")
    attack(c, 'crit ["exp"], signed by the trusted key',
           jws(H("RS256", crit=["exp"], exp=EXP), BASE, rs256), K.rsa_pem, '"crit"')
    attack(c, "crit [] (empty)", jws(H("RS256", crit=[]), BASE, rs256), K.rsa_pem, '"crit"')
    attack(c, 'crit ["b64"] with b64 false, payload unencoded (RFC 7797)',
           (lambda hh, raw: f"{hh}.{raw}.{b64u(K.rsa.sign((hh + '.' + raw).encode(), padding.PKCS1v15(), hashes.SHA256()))}")(
               b64u(cj({"alg": "RS256", "b64": False, "crit": ["b64"]})), json.dumps(BASE)),
           K.rsa_pem, ('"crit"', '"b64"', D_FORM, D_B64))
    attack(c, "b64 false without crit, payload detached (empty)",
           (lambda hh: f"{hh}..{b64u(K.rsa.sign((hh + '.' + json.dumps(BASE)).encode(), padding.PKCS1v15(), hashes.SHA256()))}")(
               b64u(cj({"alg": "RS256", "b64": False}))), K.rsa_pem, '"b64"')
    attack(c, "b64 true", jws(H("RS256", b64=True), BASE, rs256), K.rsa_pem, '"b64"')
    attack(c, "zip DEF, deflated payload",
           jws(H("RS256", zip="DEF"), zlib.compress(cj(BASE))[2:-4], rs256), K.rsa_pem, '"zip"')
    inner_none = jws(H("none"), dict(BASE, sub="admin"))
    inner_att = jws(H("RS256"), dict(BASE, sub="admin"), rs_att)
    attack(c, "nested JWT (cty JWT) wrapping an alg-none token, outer signed by the trusted key",
           jws(H("RS256", cty="JWT"), inner_none, rs256), K.rsa_pem, "The payload is not")
    attack(c, "nested JWT (cty JWT) wrapping the attacker's token",
           jws(H("RS256", cty="JWT"), inner_att, rs256), K.rsa_pem, "The payload is not")
    attack(c, "nested JWT as a JSON string payload",
           jws(H("RS256", cty="JWT"), json.dumps(inner_att), rs256), K.rsa_pem,
           "The payload is not a JSON object.")
    control(c, "typ and cty of a plain JWT, signed by the trusted key",
            jws(H("RS256", cty="json"), BASE, rs256), K.rsa_pem, BASE)

    # ---------------------------------------------------------- duplicates
    c = "duplicates"
    category(c, "duplicate claims and duplicate header members")
    hsig = lambda hdr_raw, pl: jws(hdr_raw, pl, hs256)            # noqa: E731
    D_PDUP = "The payload repeats a member name."
    D_HDUP = "The header repeats a member name."
    attack(c, 'payload "sub" twice', hsig(H("HS256"), f'{{"sub":"alice","sub":"admin","exp":{EXP}}}'),
           K.secret, D_PDUP)
    attack(c, 'payload "exp" twice (expired, then far future)',
           hsig(H("HS256"), f'{{"sub":"alice","exp":{NOW - 10},"exp":{EXP}}}'), K.secret, D_PDUP)
    attack(c, 'payload "aud" twice', hsig(H("HS256"), f'{{"aud":"other","aud":"api","exp":{EXP}}}'),
           K.secret, D_PDUP, args={"audience": AUD})
    attack(c, 'payload "sub" and "\\u0073ub" (the same name, escaped)',
           hsig(H("HS256"), f'{{"sub":"alice","\\u0073ub":"admin","exp":{EXP}}}'), K.secret, D_PDUP)
    attack(c, "payload duplicate at depth 2",
           hsig(H("HS256"), f'{{"sub":"alice","exp":{EXP},"app":{{"role":"u","role":"admin"}}}}'),
           K.secret, D_PDUP)
    attack(c, "payload duplicate inside an array's object",
           hsig(H("HS256"), f'{{"sub":"alice","exp":{EXP},"r":[{{"a":1,"a":2}}]}}'), K.secret, D_PDUP)
    attack(c, 'header "alg" twice (HS256, then none)', hsig('{"alg":"HS256","alg":"none"}', BASE),
           K.secret, D_HDUP)
    attack(c, 'header "alg" twice (none, then HS256)', hsig('{"alg":"none","alg":"HS256"}', BASE),
           K.secret, D_HDUP)
    attack(c, 'header "alg" twice (RS256, then HS256), against the RSA key',
           jws('{"alg":"RS256","alg":"HS256"}', BASE, hs(K.rsa_pem)), K.rsa_pem, D_HDUP)
    attack(c, 'header "kid" twice', hsig('{"alg":"HS256","kid":"x","kid":"hs-1"}', BASE),
           K.hs_jwks, D_HDUP)
    attack(c, 'header "alg" and "\\u0061lg"', hsig('{"alg":"HS256","\\u0061lg":"none"}', BASE),
           K.secret, D_HDUP)
    control(c, "same member names at different depths",
            hsig(H("HS256"), f'{{"sub":"alice","exp":{EXP},"app":{{"sub":"x","exp":1}}}}'),
            K.secret, {"sub": "alice", "exp": EXP, "app": {"sub": "x", "exp": 1}})

    # ---------------------------------------------------------- time claims
    c = "time-claims"
    category(c, "exp, nbf, iat as strings, booleans, floats, 1e400, negative")
    D_NUM = "must be a finite JSON number"
    for claim in ("exp", "nbf", "iat"):
        for raw, what in ((f'"{EXP}"', "a string"), ("true", "true"), ("false", "false"),
                          ("null", "null"), ("1e400", "1e400"), (f"[{EXP}]", "an array")):
            attack(c, f"{claim} {what}", hsig(H("HS256"), f'{{"sub":"alice","exp":{EXP},'
                                                          f'"{claim}":{raw}}}'
                                           if claim != "exp" else f'{{"sub":"alice","exp":{raw}}}'),
                   K.secret, (D_NUM, D_PAY_JSON))
    attack(c, "exp -1e400", hsig(H("HS256"), '{"sub":"alice","exp":-1e400}'), K.secret,
           (D_NUM, D_PAY_JSON))
    attack(c, "exp negative", hsig(H("HS256"), '{"sub":"alice","exp":-1}'), K.secret, "expired")
    attack(c, "exp 0", hsig(H("HS256"), '{"sub":"alice","exp":0}'), K.secret, "expired")
    attack(c, "exp a float a second ago", hsig(H("HS256"), f'{{"sub":"alice","exp":{NOW - 1}.5}}'),
           K.secret, "expired")
    attack(c, "exp a minute ago", hsig(H("HS256"), {"sub": "alice", "exp": NOW - 60}), K.secret,
           "expired")
    attack(c, "nbf in an hour", hsig(H("HS256"), dict(BASE, nbf=NOW + 3600)), K.secret, "not valid yet")
    attack(c, "nbf a float in an hour", hsig(H("HS256"), f'{{"sub":"alice","exp":{EXP},"nbf":{NOW + 3600}.25}}'),
           K.secret, "not valid yet")
    attack(c, "iat in an hour", hsig(H("HS256"), dict(BASE, iat=NOW + 3600)), K.secret,
           "issued in the future")
    attack(c, "exp NaN (not JSON)", hsig(H("HS256"), '{"sub":"alice","exp":NaN}'), K.secret, D_PAY_JSON)
    attack(c, "exp Infinity (not JSON)", hsig(H("HS256"), '{"sub":"alice","exp":Infinity}'), K.secret,
           D_PAY_JSON)
    attack(c, "exp with a leading zero (not JSON)", hsig(H("HS256"), f'{{"sub":"alice","exp":0{EXP}}}'),
           K.secret, D_PAY_JSON)
    attack(c, "exp with a leading '+' (not JSON)", hsig(H("HS256"), f'{{"sub":"alice","exp":+{EXP}}}'),
           K.secret, D_PAY_JSON)
    control(c, "exp a float in an hour", hsig(H("HS256"), f'{{"sub":"alice","exp":{EXP}.5}}'),
            K.secret, {"sub": "alice", "exp": Decimal(f"{EXP}.5")})
    control(c, "exp in exponent form (1e10)", hsig(H("HS256"), '{"sub":"alice","exp":1e10}'),
            K.secret, {"sub": "alice", "exp": Decimal("1e10")})
    control(c, "nbf and iat negative (before 1970, in the past)",
            hsig(H("HS256"), dict(BASE, nbf=-1, iat=-100)), K.secret, dict(BASE, nbf=-1, iat=-100))
    control(c, "nbf and iat now", hsig(H("HS256"), dict(BASE, nbf=NOW, iat=NOW)), K.secret,
            dict(BASE, nbf=NOW, iat=NOW))

    # ---------------------------------------------------------- audience
    c = "audience"
    category(c, "aud near-misses in arrays (CVE-2020-26160)")
    cve = "(CVE-2020-26160)"
    aud = {"audience": AUD}
    for value, what in ((["API"], '["API"]'), (["api "], '["api "]'), ([" api"], '[" api"]'),
                        (["apix"], '["apix"]'), (["ap"], '["ap"]'), (["https://api"], '["https://api"]'),
                        (["other", "API"], '["other","API"]'), ([], "[] " + cve),
                        ([""], '[""] ' + cve), ("api,other", '"api,other"'), ("", '"" ' + cve),
                        ("apI", '"apI"')):
        attack(c, f"aud {what}", hsig(H("HS256"), dict(BASE, aud=value)), K.secret, D_AUD, args=aud)
    for value, what in (([["api"]], '[["api"]]'), ([None], "[null]"), ([1], "[1]"),
                        ({"api": True}, '{"api":true}'), (True, "true"), (None, "null")):
        attack(c, f"aud {what} (not a string or array of strings)",
               hsig(H("HS256"), dict(BASE, aud=value)), K.secret,
               '"aud" must be a string or an array of strings', args=aud)
    attack(c, 'aud ["api\\u0000"]', hsig(H("HS256"), f'{{"sub":"alice","exp":{EXP},"aud":["api\\u0000"]}}'),
           K.secret, D_PAY_JSON, args=aud)
    attack(c, f"no aud when an audience is required {cve}", hsig(H("HS256"), BASE), K.secret, 'The required claim "aud" is missing',
           args=aud)
    attack(c, "aud present, no audience expected (RFC 7519 4.1.3)",
           hsig(H("HS256"), dict(BASE, aud=AUD)), K.secret, "no audience is expected")
    control(c, 'aud "api"', hsig(H("HS256"), dict(BASE, aud=AUD)), K.secret, dict(BASE, aud=AUD), args=aud)
    control(c, 'aud ["other","api"]', hsig(H("HS256"), dict(BASE, aud=["other", AUD])), K.secret,
            dict(BASE, aud=["other", AUD]), args=aud)

    # ---------------------------------------------------------- issuer
    c = "issuer"
    category(c, "iss prefixes and suffixes (CVE-2024-53861)")
    cve = "(CVE-2024-53861)"
    iss = {"issuer": ISS}
    for value, what in (("https://issuer.example", "prefix (no slash)"),
                        ("https://issuer.example/x", "suffix"),
                        (ISS + " ", "trailing space"),
                        ("issuer.example", f"substring of the issuer {cve}"),
                        ("https://", f"prefix {cve}"),
                        ("/", f"one character of the issuer {cve}"),
                        ("", f"empty {cve}"),
                        ("https://evil.example/" + ISS, "the issuer as a suffix"),
                        (ISS + ".evil.example", "the issuer as a prefix"),
                        ("HTTPS://ISSUER.EXAMPLE/", "upper case"),
                        ("https://issuer.example/?", "query mark appended")):
        attack(c, f"iss {what}", hsig(H("HS256"), dict(BASE, iss=value)), K.secret, D_ISS, args=iss)
    attack(c, f"iss [issuer] (an array) {cve}", hsig(H("HS256"), dict(BASE, iss=[ISS])), K.secret,
           '"iss" must be a string', args=iss)
    attack(c, "iss a number", hsig(H("HS256"), dict(BASE, iss=1)), K.secret, '"iss" must be a string',
           args=iss)
    attack(c, "no iss when an issuer is required", hsig(H("HS256"), BASE), K.secret, D_ISS, args=iss)
    control(c, "iss exact", hsig(H("HS256"), dict(BASE, iss=ISS)), K.secret, dict(BASE, iss=ISS), args=iss)
    control(c, "iss with escaped slashes (the same string)",
            hsig(H("HS256"), f'{{"sub":"alice","exp":{EXP},"iss":"https:\\/\\/issuer.example\\/"}}'),
            K.secret, dict(BASE, iss=ISS), args=iss)

    # ---------------------------------------------------------- payload shape
    c = "payload-shape"
    category(c, "a payload that is not an object")
    D_NOTOBJ = "The payload is not a JSON object."
    for raw, what in (("[]", "an array"), (f'[{{"sub":"alice","exp":{EXP}}}]', "an array of claims"),
                      ('"alice"', "a string"), ("1", "a number"), ("null", "null"), ("true", "true")):
        attack(c, f"payload {what}", hsig(H("HS256"), raw), K.secret, D_NOTOBJ)
    for raw, what in (("", "empty"), ("   ", "whitespace only"),
                      (f'{{"sub":"alice","exp":{EXP}}} x', "an object and trailing garbage"),
                      (f'{{"sub":"alice","exp":{EXP}}}{{}}', "two objects"),
                      (b"\xef\xbb\xbf" + cj(BASE), "a byte order mark first"),
                      (f'{{"sub":"alice","exp":{EXP},}}', "a trailing comma"),
                      ("{'sub':'alice'}", "single quotes")):
        attack(c, f"payload {what}", hsig(H("HS256"), raw), K.secret, (D_PAY_JSON, D_NOTOBJ))
    attack(c, "header an array", jws('["HS256"]', BASE, hs256), K.secret, "The header is not a JSON object.")
    attack(c, "header a string", jws('"HS256"', BASE, hs256), K.secret, "The header is not a JSON object.")
    control(c, "payload {} (no claims)", hsig(H("HS256"), "{}"), K.secret, {}, session=False)
    control(c, "payload with whitespace around", hsig(H("HS256"), f' {{ "sub" : "alice", "exp" : {EXP} }}\n'),
            K.secret, BASE)

    # ---------------------------------------------------------- JSON text
    c = "json"
    category(c, "invalid UTF-8, \\u0000, lone surrogates, nesting 10,000 deep")
    pre = f'{{"exp":{EXP},"sub":"'.encode()
    for raw, what in ((b"\xff", "byte 0xFF"), (b"\xc0\xaf", "overlong '/'"),
                      (b"\xed\xa0\x80", "UTF-8 encoded surrogate"), (b"\xe2\x82", "truncated sequence"),
                      (b"\xf4\x90\x80\x80", "above U+10FFFF"), (b"\x80", "a lone continuation byte")):
        attack(c, f"payload with invalid UTF-8: {what}", hsig(H("HS256"), pre + b"ali" + raw + b'"}'),
               K.secret, D_PAY_JSON)
    attack(c, "header with invalid UTF-8", jws(b'{"alg":"HS256","x":"\xff"}', BASE, hs256), K.secret,
           D_HDR_JSON)
    attack(c, 'claim "admin\\u0000"', hsig(H("HS256"), pre + b'admin\\u0000"}'), K.secret, D_PAY_JSON)
    attack(c, 'member name "sub\\u0000"', hsig(H("HS256"), f'{{"exp":{EXP},"sub\\u0000":"admin"}}'),
           K.secret, D_PAY_JSON)
    attack(c, "raw control character in a string", hsig(H("HS256"), pre + b'ali\x01ce"}'), K.secret,
           D_PAY_JSON)
    for esc, what in (("\\ud800", "lone high surrogate"), ("\\udc00", "lone low surrogate"),
                      ("\\ud800\\u0041", "high surrogate then a letter"),
                      ("\\udc00\\ud800", "surrogates in the wrong order"),
                      ("\\ud800\\ud800", "two high surrogates")):
        attack(c, f"payload with a {what}", hsig(H("HS256"), pre + esc.encode() + b'"}'), K.secret,
               D_PAY_JSON)
    attack(c, "header with a lone surrogate", jws('{"alg":"HS256","x":"\\udfff"}', BASE, hs256), K.secret,
           D_HDR_JSON)
    attack(c, "payload escape \\x41 (not JSON)", hsig(H("HS256"), pre + b'\\x41"}'), K.secret, D_PAY_JSON)
    deep = lambda n: "[" * n + "]" * n                             # noqa: E731
    big = {"jwt.max_token_length": "1048576"}
    attack(c, "payload nested 10,000 deep (size cap raised to 1 MB)",
           hsig(H("HS256"), f'{{"exp":{EXP},"x":{deep(10000)}}}'), K.secret, D_PAY_JSON, settings=big)
    attack(c, "header nested 10,000 deep (size cap raised to 1 MB)",
           jws(f'{{"alg":"HS256","x":{deep(10000)}}}', BASE, hs256), K.secret, D_HDR_JSON, settings=big)
    attack(c, "payload nested 100 deep", hsig(H("HS256"), f'{{"exp":{EXP},"x":{deep(100)}}}'), K.secret,
           D_PAY_JSON)
    attack(c, "payload nested 10,000 deep in objects (size cap raised)",
           hsig(H("HS256"), f'{{"exp":{EXP},"x":' + '{"a":' * 10000 + "1" + "}" * 10001), K.secret,
           D_PAY_JSON, settings=big)
    control(c, "a surrogate pair (U+1F600)", hsig(H("HS256"), pre + b'\\ud83d\\ude00"}'), K.secret,
            {"exp": EXP, "sub": "\U0001F600"})
    control(c, "UTF-8 text", hsig(H("HS256"), dict(BASE, name="Zoë 日本")), K.secret,
            dict(BASE, name="Zoë 日本"))
    control(c, "payload nested 20 deep", hsig(H("HS256"), f'{{"exp":{EXP},"x":{deep(20)}}}'), K.secret,
            {"exp": EXP, "x": json.loads(deep(20))})

    # ---------------------------------------------------------- size cap
    c = "size-cap"
    category(c, "a token over the size cap")

    def sized(target, signer=hs256, alg="HS256"):
        """A valid token of exactly target bytes."""
        for hpad_len in range(4):
            hdr = H(alg, **({"p": "x" * hpad_len} if hpad_len else {}))
            base_len = len(jws(hdr, dict(BASE, pad=""), signer))
            for extra in range(max(0, (target - base_len) * 3 // 4 - 4), (target - base_len) * 3 // 4 + 4):
                t = jws(hdr, dict(BASE, pad="x" * extra), signer)
                if len(t) == target:
                    return t, dict(BASE, pad="x" * extra)
        raise AssertionError(f"cannot make a token of {target} bytes")
    t16384, c16384 = sized(16384)
    t16385, _ = sized(16385)
    t1m, c1m = sized(1048577)
    attack(c, "16,385 bytes (cap 16,384), validly signed", t16385, K.secret, "jwt.max_token_length")
    attack(c, "16,385 bytes RS256, validly signed", sized(16385, rs256, "RS256")[0], K.rsa_pem,
           "jwt.max_token_length")
    attack(c, "1 MB + 1 with the cap at its maximum", t1m, K.secret, "jwt.max_token_length", settings=big)
    attack(c, "a 16,384-byte token with the cap lowered to 16,383", t16384, K.secret,
           "jwt.max_token_length", settings={"jwt.max_token_length": "16383"})
    attack(c, "a malformed 100,000-byte token", "A" * 100000, K.secret, "jwt.max_token_length")
    control(c, "exactly 16,384 bytes", t16384, K.secret, c16384)
    control(c, "16,385 bytes with the cap raised", t16385, K.secret, None, settings=big)


# ------------------------------------------------------------ the SQL side

class Outcome:
    def __init__(self, ok, value=None, code=None, message=None, detail=None):
        self.ok, self.value, self.code = ok, value, code
        self.message, self.detail = message, detail or ""

    def __str__(self):
        if self.ok:
            v = repr(self.value)
            return f"accepted, returned {v[:160]}{'...' if len(v) > 160 else ''}"
        return f"SQLSTATE {self.code}: {self.message}" + (f" ({self.detail})" if self.detail else "")


def connect_db():
    try:
        conn = psycopg2.connect(dbname=DB)
    except psycopg2.Error as e:
        S.cannot_run(f"cannot connect to {DB} ({str(e).strip()})")
    conn.autocommit = True
    return conn


def setup():
    """Its own database, so that the registry is this suite's alone."""
    admin = S.connect()
    try:
        with admin.cursor() as cur:
            cur.execute(f"DROP DATABASE IF EXISTS {DB} WITH (FORCE)")
            cur.execute(f"CREATE DATABASE {DB}")
    except psycopg2.Error as e:
        S.cannot_run(f"cannot create database {DB} ({str(e).strip()})")
    conn = connect_db()
    try:
        with conn.cursor() as cur:
            cur.execute("CREATE EXTENSION jwt")
            for key, (kid, alg) in REGISTRY.items():
                cur.execute("SELECT jwt_add_key(%s, %s, %s)", (key, alg, kid))
    except psycopg2.Error as e:
        S.cannot_run(f"cannot set up {DB} ({str(e).strip()}); run make install first")
    return admin, conn


def run_sql(conn, query, params, settings):
    """Outcome of one statement, in a transaction with settings set LOCAL."""
    cur = conn.cursor()
    try:
        if settings:
            cur.execute("BEGIN")
            for name, value in settings.items():
                cur.execute("SELECT set_config(%s, %s, true)", (name, value))
        cur.execute(query, params)
        out = Outcome(True, cur.fetchone()[0])
    except psycopg2.Error as e:
        out = Outcome(False, code=e.pgcode, message=e.diag.message_primary,
                      detail=e.diag.message_detail)
    finally:
        if settings:
            try:
                cur.execute("ROLLBACK")
            except psycopg2.Error:
                pass
        cur.close()
    return out


def verify_call(fn, case):
    key_sql = "%s::bytea" if case.keytype == "bytea" else "%s::text"
    args, params = [f"%s::text, {key_sql}"], [case.token, case.key]
    for name, cast in (("algorithms", "text[]"), ("audience", "text"), ("issuer", "text"),
                       ("leeway", "interval")):
        if name in case.args:
            args.append(f"{name} => %s::{cast}")
            params.append(case.args[name])
    suffix = "::text" if fn == "jwt_verify" else ""
    return f"SELECT {fn}({', '.join(args)}){suffix}", params


def header_alg(token):
    try:
        h = segments(token)[0]
        return json.loads(base64.urlsafe_b64decode(h + "=" * (-len(h) % 4))).get("alg")
    except Exception:
        return None


def session_eligible(case):
    if case.key is REGISTRY_ONLY:
        return True
    if case.token == "":
        return False        # an empty jwt.token means "no token": jwt_claims() is NULL
    if case.session is not None:
        return case.session
    if case.expect == "22023" or case.keytype != "text" or not isinstance(case.key, str):
        return False
    if case.key not in REGISTRY or "algorithms" in case.args or "leeway" in case.args:
        return False
    if case.expect == "ok":
        # a control must be one the registry key can accept: its algorithm,
        # and the exp every session token needs (jwt.required_claims)
        return (header_alg(case.token) == REGISTRY[case.key][1]
                and isinstance(case.claims, dict) and "exp" in case.claims)
    return True


def judge(case, what, out, check_detail=True):
    """Problems with one outcome, as a list of strings."""
    if case.expect == "ok":
        if not out.ok:
            return [f"{what}: refused a valid token: {out}"]
        if what.startswith("jwt_is_valid"):
            return [] if out.value is True else [f"{what}: returned {out.value!r}, not true"]
        if case.claims is not None and not suite.same_json(suite.parse_json(out.value), case.claims):
            return [f"{what}: returned claims {out.value[:200]} instead of the signed ones"]
        return []
    if what.startswith("jwt_is_valid") and case.expect == "28000":
        if out.ok and out.value is False:
            return []
        return [f"{what}: {'ACCEPTED' if out.ok and out.value else out}, not false"]
    if out.ok:
        return [f"{what}: ACCEPTED, expected SQLSTATE {case.expect}: {out}"]
    if out.code != case.expect:
        return [f"{what}: wrong SQLSTATE, expected {case.expect}: {out}"]
    if check_detail and case.expect == "28000" and case.detail and not any(d in out.detail for d in case.detail):
        return [f"{what}: refused for another rule than the case's ({' / '.join(case.detail)}): {out}"]
    return []


def run_case(conn, sess, case):
    problems = []
    if case.key is not REGISTRY_ONLY:
        for fn in ("jwt_verify", "jwt_is_valid"):
            q, params = verify_call(fn, case)
            problems += judge(case, fn, run_sql(conn, q, params, case.settings))
    if session_eligible(case):
        settings = OrderedDict(case.settings)
        if "audience" in case.args:
            settings["jwt.audience"] = case.args["audience"]
        if "issuer" in case.args:
            settings["jwt.issuer"] = case.args["issuer"]
        settings["jwt.token"] = case.token
        # Only a registry-only case is written for the registry's rules; a
        # case made for one key may fail another rule against the registry's
        # several keys (a token without kid is tried against each), so for
        # those only the SQLSTATE is judged.
        problems += judge(case, "jwt_claims() with jwt.token",
                          run_sql(sess, "SELECT jwt_claims()::text", [], settings),
                          check_detail=case.key is REGISTRY_ONLY)
    return problems


def main():
    build_cases()
    admin, conn = setup()
    sess = connect_db()
    # per category: attacks refused, attacks, controls accepted, controls,
    # cases also run through jwt_claims()
    tally = OrderedDict((c, [0, 0, 0, 0, 0]) for c in CATEGORIES)
    names = set()
    try:
        for case in CASES:
            full = f"{case.cat}/{case.name}"
            assert full not in names, f"two cases named {full}"
            names.add(full)
            try:
                problems = run_case(conn, sess, case)
            except Exception as e:       # a crash of the harness is a failure too
                problems = [f"unexpected {type(e).__name__}: {e}"]
            t = tally[case.cat]
            if case.expect == "ok":
                t[3] += 1
                t[2] += not problems
            else:
                t[1] += 1
                t[0] += not problems
            t[4] += session_eligible(case)
            S.check(full, not problems, "; ".join(problems))
        # the kid cases carried SQL: the registry must be as it was
        with conn.cursor() as cur:
            cur.execute("SELECT count(*) FROM jwt_keys")
            nkeys = cur.fetchone()[0]
        tally["kid"][3] += 1
        tally["kid"][2] += S.check("kid/registry intact after the kids carrying SQL",
                                   nkeys == len(REGISTRY), f"{nkeys} keys, not {len(REGISTRY)}")
    finally:
        sess.close()
        conn.close()
        try:
            with admin.cursor() as cur:
                cur.execute(f"DROP DATABASE IF EXISTS {DB} WITH (FORCE)")
        except psycopg2.Error:
            pass
        admin.close()

    attacks = sum(t[1] for t in tally.values())
    controls = sum(t[3] for t in tally.values())
    S.note("per category: attacks refused as expected, controls accepted, "
           "cases also run through jwt_claims()")
    for cat, (ap, an, cp, cn, sn) in tally.items():
        print(f"  {cat:14} attacks {ap:3}/{an:<3} controls {cp:2}/{cn:<2} session {sn:3}  "
              f"{CATEGORIES[cat]}")
    S.note(f"{attacks} attacks, {controls} controls, "
           f"{sum(t[4] for t in tally.values())} also through jwt_claims(); "
           f"{time.monotonic() - STARTED:.1f} s")
    S.finish()


if __name__ == "__main__":
    main()
