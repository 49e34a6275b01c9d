#!/usr/bin/env bash
# Backup and restore of the embedded SQLite database at a benchmark scale,
# idle and while wrk creates referrals (docs/OPERATIONS.md, "Measured").
#
#   cargo build --release -p adosexo-api --bin adosexo
#   bench/backup.sh 1            # scale 1 (ten years); 0.1 a tenth
#   DB_FILE=/tmp/s1.db bench/backup.sh 1   # keep / reuse the generated data
#
# Prints: database size, backup time and size idle and under load, the
# write load's throughput and latency, restore time.
set -euo pipefail
scale=${1:-1}
bin=${BIN:-${CARGO_TARGET_DIR:-target}/release/adosexo}
port=${PORT:-18481}
duration=${DURATION:-40}
work=$(mktemp -d)
db=${DB_FILE:-$work/adosexo.db}
export DATABASE_URL="sqlite://$db" ADOSEXO_BIND="127.0.0.1:$port" RUST_LOG=warn
export ADOSEXO_JWT_PRIVATE_KEY_FILE="$work/key.pem"
export MALLOC_ARENA_MAX=2 MALLOC_MMAP_THRESHOLD_=131072
server=
cleanup() {
  [ -n "$server" ] && kill "$server" 2>/dev/null && wait "$server" 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT
"$bin" keys generate > "$work/key.pem"
if [ ! -s "$db" ]; then
  "$bin" demo --scale "$scale" --seed 42 | grep -A30 '^generated'
fi
"$bin" keys generate-backup --out "$work/identity.txt" > /dev/null
recipient=$(awk '/public key/ {print $4}' "$work/identity.txt")
mkdir -p "$work/idle" "$work/load" "$work/restored"
echo "database: $(du -b "$db" | cut -f1) bytes"
"$bin" serve > "$work/server.log" 2>&1 &
server=$!
for _ in $(seq 100); do curl -fs "localhost:$port/readyz" > /dev/null && break; sleep 0.2; done
token=$(curl -fs "http://127.0.0.1:$port/api/v1/auth/token" -H 'Content-Type: application/json' \
  -d '{"grant_type":"password","username":"coordinator@adosexo.example","password":"demo-password-2026"}' |
  python3 -c 'import json,sys; print(json.load(sys.stdin)["access_token"])')
cat > "$work/referral.lua" <<'LUA'
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.body = '{"public":"young_person","context":"unknown","source":"parent","referrer":{"name":"Mme Martin"},' ..
  '"person":{"first_name":"Bench","birth_date":"2010-05-04","departement_code":"93"},' ..
  '"risk_indicators":["runaway"],"summary":"Benchmark referral.","urgency":"routine"}'
LUA
echo "== backup, server idle"
ADOSEXO_BACKUP_RECIPIENT=$recipient "$bin" backup --to "$work/idle"
echo "== write load alone (wrk -t2 -c32 -d${duration}s POST /referrals)"
wrk -t2 -c32 -d"${duration}s" --latency -s "$work/referral.lua" -H "Authorization: Bearer $token" \
  "http://127.0.0.1:$port/api/v1/referrals" | grep -E 'Requests/sec|50%|99%|Non-2xx|Socket'
echo "== backup under the same write load (started 5 s in)"
wrk -t2 -c32 -d"${duration}s" --latency -s "$work/referral.lua" -H "Authorization: Bearer $token" \
  "http://127.0.0.1:$port/api/v1/referrals" > "$work/wrk.txt" 2>&1 &
load=$!
sleep 5
ADOSEXO_BACKUP_RECIPIENT=$recipient "$bin" backup --to "$work/load"
wait "$load"
grep -E 'Requests/sec|50%|99%|Non-2xx|Socket' "$work/wrk.txt" || true
echo "== restore"
start=$(date +%s.%N)
"$bin" restore --from "$work"/load/*.backup.age --to "sqlite://$work/restored/adosexo.db" \
  --identity "$work/identity.txt" | head -1
echo "restore took $(echo "$(date +%s.%N) - $start" | bc) s"
