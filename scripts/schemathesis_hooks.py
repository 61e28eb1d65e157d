"""schemathesis hooks for vern: an NDJSON serializer, so the bulk decision endpoint, which
accepts `application/x-ndjson` as well as JSON, is exercised in both forms. Loaded through
SCHEMATHESIS_HOOKS by scripts/schemathesis.sh."""

import json

import schemathesis


@schemathesis.serializer("application/x-ndjson")
def ndjson(ctx, value):
    # The schema is an array of request objects, sent one object per line. A generated value
    # that is not an array is a negative case: keep it invalid on the wire (a lone object would
    # otherwise become one valid line) by sending it as a single JSON line of another shape.
    if isinstance(value, list):
        return "".join(json.dumps(item) + "\n" for item in value).encode()
    if isinstance(value, dict):
        return (json.dumps([value]) + "\n").encode()
    return (json.dumps(value) + "\n").encode()
