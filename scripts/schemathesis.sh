#!/usr/bin/env bash
# Property-based and stateful API tests from vern's own OpenAPI document (schemathesis), against
# a real `vern serve` on loopback with a fresh data directory. Bounded in time. Exit 0 = no
# failures. Usage: scripts/schemathesis.sh [path/to/vern]
set -euo pipefail
cd "$(dirname "$0")/.."
VERN="${1:-target/debug/vern}"
VENV=target/st-venv
if [ ! -x "$VENV/bin/st" ]; then
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install --quiet 'schemathesis==4.32.5'
fi
DATA=$(mktemp -d)
OUT="$DATA/serve.out"
ERR="$DATA/serve.err"
VERN_LOG=warn "$VERN" serve --listen 127.0.0.1:0 --data "$DATA/data" >"$OUT" 2>"$ERR" &
PID=$!
cleanup() { kill "$PID" 2>/dev/null || true; wait "$PID" 2>/dev/null || true; rm -rf "$DATA"; }
trap cleanup EXIT
for _ in $(seq 1 100); do grep -q 'vern listening on' "$OUT" 2>/dev/null && break; sleep 0.1; done
BASE=$(sed -n 's/^vern listening on //p' "$OUT")
TOKEN=$(grep -o 'vern_[A-Za-z0-9_-]*' "$ERR" | head -n1)
[ -n "$BASE" ] && [ -n "$TOKEN" ] || { echo "vern serve did not start"; cat "$ERR"; exit 1; }
export PYTHONPATH="$PWD/scripts${PYTHONPATH:+:$PYTHONPATH}"
export SCHEMATHESIS_HOOKS=schemathesis_hooks
# Every check runs. `ensure_resource_availability` runs as the hooks'
# `resource_availability_after_erasure`, which also counts `POST /v1/subjects/{id}/erasure` as the
# removal it is (see scripts/schemathesis_hooks.py); everything else about the check is unchanged.
timeout 600 "$VENV/bin/st" --config-file crates/vern-server/schemathesis.toml run "$BASE/openapi.json" \
  -H "Authorization: Bearer $TOKEN" \
  --phases examples,coverage,fuzzing,stateful --checks all --exclude-checks ensure_resource_availability \
  -n 50 --max-time 120 --seed 42 --request-timeout 5 -w 1 --no-color
