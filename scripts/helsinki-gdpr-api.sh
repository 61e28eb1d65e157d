#!/usr/bin/env bash
# Runs the unmodified Helsinki `gdpr-api-tester` (via ../shared/tools/helsinki/acceptance.py)
# against a real `vern serve` on loopback with a fresh data directory, trusting the tester's
# OIDC simulator as issuer. Fixtures: a lead (deletable), a customer contact with an invoice
# (bookkeeping law: not deletable), and an unknown user. Exit 0 = "15 passed, 0 failed".
# Usage: scripts/helsinki-gdpr-api.sh [path/to/vern]
set -euo pipefail
cd "$(dirname "$0")/.."
VERN="${1:-target/debug/vern}"
TOOLS="${HELSINKI_TOOLS:-../shared/tools/helsinki}"
VENV=target/helsinki-venv
if [ ! -x "$VENV/bin/gdpr_api_tester" ]; then
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install --quiet 'gdpr-api-tester==0.1.0'
fi
export TESTER_PORT="${TESTER_PORT:-8888}"
ISSUER="http://127.0.0.1:$TESTER_PORT/"
AUDIENCE=http://localhost:8050/exampleapi
AUTH_FIELD=http://localhost:8050
PRESENT_UUID=9e14df7c-81f6-4c41-8578-6aa7b9d0e5c0
UNDELETABLE_UUID=11111111-2222-4333-8444-555555555555
ABSENT_UUID=00000000-0000-4000-8000-00000000dead

DATA=$(mktemp -d)
OUT="$DATA/serve.out"
ERR="$DATA/serve.err"
# Tunnistamo puts the scopes in a claim named after the API's URL; Keycloak nests them under
# authorization.permissions.scopes with only the part after the last dot.
VERN_LOG=warn "$VERN" serve --listen 127.0.0.1:0 --data "$DATA/data" --no-jobs \
  --gdpr-api-issuer "$ISSUER" --gdpr-api-audience "$AUDIENCE" \
  --gdpr-api-scope-claims "$AUTH_FIELD,authorization.permissions.scopes" \
  --gdpr-api-query-scopes exampleapi.gdprquery,gdprquery \
  --gdpr-api-delete-scopes exampleapi.gdprdelete,gdprdelete \
  >"$OUT" 2>"$ERR" &
PID=$!
cleanup() { kill "$PID" 2>/dev/null || true; wait "$PID" 2>/dev/null || true; rm -rf "$DATA"; }
trap cleanup EXIT
for _ in $(seq 1 100); do grep -q 'vern listening on' "$OUT" 2>/dev/null && break; sleep 0.1; done
BASE=$(sed -n 's/^vern listening on //p' "$OUT")
TOKEN=$(grep -o 'vern_[A-Za-z0-9_-]*' "$ERR" | head -n1)
[ -n "$BASE" ] && [ -n "$TOKEN" ] || { echo "vern serve did not start"; cat "$ERR"; exit 1; }

create() {
  curl -sf -o /dev/null -X POST "$BASE/v1/subjects" -H "Authorization: Bearer $TOKEN" \
    -H 'Content-Type: application/json' -d "$1"
}
create '{"subject_type": "lead", "jurisdiction": "NO",
  "identifiers": [{"kind": "external:helsinki_profile", "value": "'$PRESENT_UUID'"},
                  {"kind": "email", "value": "present@example.org"}],
  "records": [{"category": "contact.email.work_named", "value": "present@example.org",
               "source": "direct", "purposes": ["marketing.send"]}]}'
create '{"subject_type": "customer_contact", "jurisdiction": "NO",
  "identifiers": [{"kind": "external:helsinki_profile", "value": "'$UNDELETABLE_UUID'"}],
  "records": [{"category": "contact.email.work_named", "value": "buyer@example.org",
               "source": "direct", "purposes": ["sales.orders_agreements_payments"]},
              {"category": "finance.invoice", "value": {"number": "F-1001"},
               "source": "direct", "purposes": ["sales.orders_agreements_payments"]}]}'

SERVICE_BASE="$BASE" URL_TEMPLATE="$BASE/gdpr-api/v1/user/\$user_uuid" \
AUDIENCE="$AUDIENCE" AUTH_FIELD="$AUTH_FIELD" \
QUERY_SCOPE=exampleapi.gdprquery DELETE_SCOPE=exampleapi.gdprdelete \
PRESENT_UUID="$PRESENT_UUID" UNDELETABLE_UUID="$UNDELETABLE_UUID" ABSENT_UUID="$ABSENT_UUID" \
  "$VENV/bin/python" "$TOOLS/acceptance.py"
