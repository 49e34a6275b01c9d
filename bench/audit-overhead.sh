#!/usr/bin/env bash
# Measures what the audit trail costs reads of personal data: throughput of
# an audited read (GET /accounts/{id}: auth + one row + one audit append)
# against an unaudited read of the same shape (GET /organisations/{id}:
# auth + one row), both against /healthz, in one run.
# Usage: bench/audit-overhead.sh [sqlite|postgres] (needs wrk; release build).
set -euo pipefail
cd "$(dirname "$0")/.."
backend=${1:-sqlite}
duration=${DURATION:-10s}
connections=${CONNECTIONS:-32}
port=18181
bin=${CARGO_TARGET_DIR:-target}/release/adosexo
[ -x "$bin" ] || cargo build --release -p adosexo-api --bin adosexo
work=$(mktemp -d)
if [ "$backend" = postgres ]; then
  db=adosexo_bench_$$
  psql -q -h 127.0.0.1 -U postgres -c "CREATE DATABASE $db"
  export DATABASE_URL="postgres://postgres@127.0.0.1:5432/$db"
  seed=(demo --allow-postgres)
else
  export DATABASE_URL="sqlite://$work/bench.db"
  seed=(demo)
fi
export RUST_LOG=warn ADOSEXO_BIND=127.0.0.1:$port ADOSEXO_JWT_PRIVATE_KEY_FILE=$work/key.pem
"$bin" keys generate > "$work/key.pem"
"$bin" "${seed[@]}" > "$work/demo.txt"
"$bin" serve > "$work/server.log" 2>&1 &
server=$!
cleanup() {
  kill "$server" 2>/dev/null || true
  wait "$server" 2>/dev/null || true
  [ "$backend" = postgres ] && psql -q -h 127.0.0.1 -U postgres -c "DROP DATABASE IF EXISTS $db WITH (FORCE)"
  rm -rf "$work"
}
trap cleanup EXIT
for _ in $(seq 50); do curl -fs "localhost:$port/readyz" >/dev/null && break; sleep 0.2; done
token=$(curl -fs "localhost:$port/api/v1/auth/token" -H 'Content-Type: application/json' \
  -d '{"grant_type":"password","username":"supervisor@adosexo.example","password":"demo-password-2026"}' |
  python3 -c 'import json,sys; print(json.load(sys.stdin)["access_token"])')
auth="Authorization: Bearer $token"
org=$(curl -fs "localhost:$port/api/v1/organisations?limit=1" -H "$auth" | python3 -c 'import json,sys; print(json.load(sys.stdin)["items"][0]["id"])')
acct=$(curl -fs "localhost:$port/api/v1/accounts?limit=1" -H "$auth" | python3 -c 'import json,sys; print(json.load(sys.stdin)["items"][0]["id"])')
run() { wrk -t2 -c"$connections" -d"$duration" -H "$auth" "http://127.0.0.1:$port$1" | awk '/Requests\/sec/ {print $2}'; }
healthz=$(run /healthz)
plain=$(run "/api/v1/organisations/$org")
audited=$(run "/api/v1/accounts/$acct")
python3 - "$backend" "$healthz" "$plain" "$audited" <<'PY'
import sys
backend, h, p, a = sys.argv[1], *map(float, sys.argv[2:])
print(f"backend {backend}: healthz {h:.0f} req/s; unaudited read {p:.0f} req/s ({p/h:.0%} of healthz); "
      f"audited read {a:.0f} req/s ({a/h:.0%} of healthz); audit costs {1 - a/p:.0%} of read throughput")
PY
