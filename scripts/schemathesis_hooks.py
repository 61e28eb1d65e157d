"""schemathesis hooks for vern: an NDJSON serializer, so the bulk decision endpoint, which
accepts `application/x-ndjson` as well as JSON, is exercised in both forms. Loaded through
SCHEMATHESIS_HOOKS by scripts/schemathesis.sh."""

import json

import schemathesis


@schemathesis.serializer("application/x-ndjson")
def ndjson(ctx, value):
    items = value if isinstance(value, list) else [value]
    return "".join(json.dumps(item) + "\n" for item in items).encode()
