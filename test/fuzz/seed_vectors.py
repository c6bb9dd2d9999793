#!/usr/bin/env python3
"""Extra fuzz seeds from the conformance vectors, into a temporary corpus.

Usage: seed_vectors.py VECTORS_DIR OUT_DIR

Walks every JSON file under VECTORS_DIR (../shared/vectors, read in place,
never copied into the repository) and writes into OUT_DIR/fuzz_verify the
compact tokens it finds, into OUT_DIR/fuzz_keys the JWKs, JWK Sets and PEM
blocks, and into OUT_DIR/fuzz_json the keys and the decoded token headers
and payloads.  A few per file, deduplicated, so no one file dominates.
"""
import base64
import hashlib
import json
import os
import re
import sys

COMPACT = re.compile(r"^[A-Za-z0-9_-]*\.[A-Za-z0-9_-]*\.[A-Za-z0-9_=?+/-]*$")
PER_FILE = {"fuzz_verify": 400, "fuzz_keys": 40, "fuzz_json": 40}
MAX_LEN = 8192


def b64d(s):
    try:
        return base64.urlsafe_b64decode(s + "=" * (-len(s) % 4))
    except Exception:
        return None


def main():
    vectors, out = sys.argv[1], sys.argv[2]
    seen = set()
    counts = {}

    def put(harness, data, file_counts):
        if isinstance(data, str):
            data = data.encode("utf-8", "surrogatepass")
        if not data or len(data) > MAX_LEN or file_counts.get(harness, 0) >= PER_FILE[harness]:
            return
        digest = hashlib.sha1(data).hexdigest()
        if (harness, digest) in seen:
            return
        seen.add((harness, digest))
        file_counts[harness] = file_counts.get(harness, 0) + 1
        counts[harness] = counts.get(harness, 0) + 1
        d = os.path.join(out, harness)
        os.makedirs(d, exist_ok=True)
        with open(os.path.join(d, "vec-" + digest), "wb") as f:
            f.write(data)

    def walk(o, fc):
        if isinstance(o, dict):
            if "kty" in o or isinstance(o.get("keys"), list):
                text = json.dumps(o, separators=(",", ":"))
                put("fuzz_keys", text, fc)
                put("fuzz_json", text, fc)
            for v in o.values():
                walk(v, fc)
        elif isinstance(o, list):
            for v in o:
                walk(v, fc)
        elif isinstance(o, str):
            if o.startswith("-----BEGIN"):
                put("fuzz_keys", o, fc)
            elif "." in o and COMPACT.match(o):
                put("fuzz_verify", o, fc)
                for seg in o.split(".")[:2]:
                    raw = b64d(seg)
                    if raw:
                        put("fuzz_json", raw, fc)

    for root, dirs, files in os.walk(vectors):
        dirs.sort()
        for name in sorted(files):
            if not name.endswith(".json"):
                continue
            try:
                with open(os.path.join(root, name), encoding="utf-8") as f:
                    doc = json.load(f)
            except (OSError, ValueError):
                continue
            walk(doc, {})
    print(" ".join("%s=%d" % kv for kv in sorted(counts.items())))


if __name__ == "__main__":
    main()
