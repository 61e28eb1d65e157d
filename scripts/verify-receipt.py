#!/usr/bin/env python3
"""Verify a vern consent receipt with an independent JOSE library (joserfc).

Usage: verify-receipt.py JWKS_FILE RECEIPT_FILE

Prints the receipt's claims as JSON and exits 0 if the compact JWS verifies against a key in
the JWK set (selected by `kid`, algorithm EdDSA) and carries the Kantara Consent Receipt 1.1
required fields; exits 1 otherwise. Used by vern-server's API tests; needs `pip install joserfc`.
"""

import json
import sys

from joserfc import jws
from joserfc.jwk import KeySet

REQUIRED = [
    "version", "jurisdiction", "consentTimestamp", "collectionMethod", "consentReceiptID",
    "piiPrincipalId", "piiControllers", "policyUrl", "services", "sensitive", "spiCat",
]


def main() -> int:
    with open(sys.argv[1], encoding="utf-8") as f:
        keys = KeySet.import_key_set(json.load(f))
    with open(sys.argv[2], encoding="utf-8") as f:
        token = f.read().strip()
    try:
        obj = jws.deserialize_compact(token, keys, algorithms=["EdDSA"])
    except Exception as e:  # noqa: BLE001 - any failure is "does not verify"
        print(f"receipt does not verify: {type(e).__name__}: {e}", file=sys.stderr)
        return 1
    claims = json.loads(obj.payload)
    missing = [k for k in REQUIRED if k not in claims]
    if missing or claims.get("version") != "KI-CR-v1.1.0":
        print(f"not a KCR 1.1 receipt; missing {missing}", file=sys.stderr)
        return 1
    print(json.dumps(claims))
    return 0


if __name__ == "__main__":
    sys.exit(main())
