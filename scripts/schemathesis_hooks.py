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


# Erasure under Art. 17 is an action with an outcome (what was kept under an exception, whom to
# notify, a dry run), so the API spells it `POST /v1/subjects/{id}/erasure`, beside the plain
# `DELETE /v1/subjects/{id}`. A subject erased that way is gone, and every path below it answers
# 404. schemathesis' `ensure_resource_availability` only counts a DELETE (or an unsafe verb on the
# resource's own URI) as a removal, so a stateful scenario "create subject -> erase it on request
# -> read its consent history" was reported as "created resource not found". This check is that
# built-in check (run with `--exclude-checks ensure_resource_availability`), which first looks for
# a completed erasure of the same subject earlier in the scenario.
from schemathesis.specs.openapi import checks as _openapi_checks

_ERASURE_PATH = "/v1/subjects/{subject_id}/erasure"


def _erased_earlier(ctx, case):
    recorder = getattr(ctx.internals, "recorder", None)
    subject = (case.path_parameters or {}).get("subject_id")
    if recorder is None or subject is None:
        return False
    for prior in recorder.find_all_cases():
        if prior.id == case.id or prior.path != _ERASURE_PATH:
            continue
        if (prior.path_parameters or {}).get("subject_id") != subject:
            continue
        if str((prior.query or {}).get("dry_run", "false")).lower() in ("true", "1"):
            continue
        response = recorder.find_response(case_id=prior.id)
        if response is not None and 200 <= response.status_code < 300:
            return True
    return False


@schemathesis.check
def resource_availability_after_erasure(ctx, response, case):
    """`ensure_resource_availability`, with `POST .../erasure` counted as a removal."""
    if response.status_code == 404 and _erased_earlier(ctx, case):
        return None
    return _openapi_checks.ensure_resource_availability(ctx, response, case)
