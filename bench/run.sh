#!/usr/bin/env bash
# The benchmark of docs/PERFORMANCE.md: generates a programme's data at a
# scale (`adosexo demo --scale`), serves it with the release build and drives
# each endpoint with wrk on loopback; prints one table with throughput, p50,
# p99, errors, the server's peak RSS, and throughput as a ratio of /healthz
# measured in the same run (the framework's own limit on this machine).
#
# Usage: bench/run.sh [sqlite|postgres] [scale]      (default: sqlite 1)
# Env: DURATION (8s), CONNECTIONS (32), SEED (42), KEEP_DB=1 keeps the data;
#      ONLY="create_referral get_referral" runs those (and /healthz) alone;
#      DB_FILE=path (SQLite) or PG_DB=name (PostgreSQL) keep the data and
#      reuse it on the next run (generated at the first);
#      PERF_ON=get_referral PERF_OUT=file records the server's CPU profile
#      (perf, DWARF call graphs) during that line.
# Needs wrk, curl, python3 (and psql for postgres); release build.
set -euo pipefail
cd "$(dirname "$0")/.."
backend=${1:-sqlite}
scale=${2:-1}
duration=${DURATION:-8s}
connections=${CONNECTIONS:-32}
seed=${SEED:-42}
port=${PORT:-18182}
bin=${CARGO_TARGET_DIR:-target}/release/adosexo
[ -x "$bin" ] || cargo build --release -p adosexo-api --bin adosexo
work=$(mktemp -d)
if [ "$backend" = postgres ]; then
  db=${PG_DB:-adosexo_bench_$$}
  if [ -n "${PG_DB:-}" ]; then
    KEEP_DB=1
    psql -q -h 127.0.0.1 -U postgres -c "CREATE DATABASE $db" 2>/dev/null || true
  else
    psql -q -h 127.0.0.1 -U postgres -c "CREATE DATABASE $db"
  fi
  export DATABASE_URL="postgres://postgres@127.0.0.1:5432/$db"
  demo=(demo --allow-postgres)
else
  export DATABASE_URL="sqlite://${DB_FILE:-$work/bench.db}"
  demo=(demo)
fi
export RUST_LOG=warn ADOSEXO_BIND=127.0.0.1:$port ADOSEXO_JWT_PRIVATE_KEY_FILE=$work/key.pem
# The allocator settings of the Docker image (README, "Configure").
export MALLOC_ARENA_MAX=${MALLOC_ARENA_MAX:-2} MALLOC_MMAP_THRESHOLD_=${MALLOC_MMAP_THRESHOLD_:-131072}
"$bin" keys generate > "$work/key.pem"
server=
cleanup() {
  [ -n "$server" ] && kill "$server" 2>/dev/null && wait "$server" 2>/dev/null
  if [ "$backend" = postgres ] && [ -z "${KEEP_DB:-}" ]; then
    psql -q -h 127.0.0.1 -U postgres -c "DROP DATABASE IF EXISTS $db WITH (FORCE)"
  fi
  rm -rf "$work"
}
trap cleanup EXIT
if [ "$backend" = postgres ] && [ -n "${PG_DB:-}" ] &&
  [ "$(psql -tA -h 127.0.0.1 -U postgres "$db" -c "SELECT count(*) > 0 FROM referrals" 2>/dev/null)" = t ]; then
  : # generated before
elif [ "$backend" = sqlite ] && [ -s "${DB_FILE:-}" ]; then
  : # generated before
else
  "$bin" "${demo[@]}" --scale "$scale" --seed "$seed" | grep -A30 '^generated' >&2
fi
# Last year's statistics as the nightly job leaves them (frozen releases):
# their first computation is that job's (or `adosexo stats publish`'s), not a
# reader's; it is timed here (docs/STATISTICS.md, "Speed").
"$bin" stats publish --from $(($(date -u +%Y) - 1)) --to $(($(date -u +%Y) - 1)) >&2
"$bin" serve > "$work/server.log" 2>&1 &
server=$!
for _ in $(seq 100); do curl -fs "localhost:$port/readyz" >/dev/null && break; sleep 0.2; done
api=http://127.0.0.1:$port/api/v1
token=$(curl -fs "$api/auth/token" -H 'Content-Type: application/json' \
  -d '{"grant_type":"password","username":"supervisor@adosexo.example","password":"demo-password-2026"}' |
  python3 -c 'import json,sys; print(json.load(sys.stdin)["access_token"])')
auth="Authorization: Bearer $token"
get() { curl -fs "$api$1" -H "$auth"; }
year=$(date -u +%Y)
# A referral from the middle of the data, a cursor 90 % deep, a follow-up
# and two generated staff members.
ids=$(python3 - "$api" "$token" "$year" <<'PY'
import json, sys, urllib.request
from datetime import datetime
api, token, year = sys.argv[1], sys.argv[2], int(sys.argv[3])
def get(path):
    req = urllib.request.Request(api + path, headers={"Authorization": "Bearer " + token})
    return json.load(urllib.request.urlopen(req))
def at(years_back_fraction):
    # Referrals span the ten years to now; pick the one changed at that point.
    start = datetime(year - 9, 1, 1).timestamp()
    end = datetime.now().timestamp()
    t = datetime.utcfromtimestamp(start + (end - start) * years_back_fraction)
    return get("/referrals?limit=1&updated_since=" + t.strftime("%Y-%m-%dT%H:%M:%SZ"))["items"][0]
middle = at(0.5)
deep = at(0.9)
u = datetime.strptime(deep["updated_at"].replace("Z", "+0000"), "%Y-%m-%dT%H:%M:%S%z")
cursor = f"{int(u.timestamp()) * 1_000_000}_{deep['id']}"
fu = get("/follow-ups?limit=1")["items"][0]["id"]
staff = [a["id"] for a in get("/accounts?limit=100")["items"] if a["email"].startswith("staff")]
print(middle["id"], cursor, fu, staff[0], staff[1 % len(staff)])
PY
)
read -r referral cursor follow_up staff1 staff2 <<< "$ids"
month_from=$(date -u -d "$(date -u +%Y-%m-01) +1 month" +%Y-%m-%dT00:00:00Z)
month_to=$(date -u -d "$(date -u +%Y-%m-01) +2 month" +%Y-%m-%dT00:00:00Z)
# A week five years back: appointments on both sides of it.
window_from="$((year - 5))-06-01T00:00:00Z"
window_to="$((year - 5))-06-08T00:00:00Z"

cat > "$work/referral.lua" <<'LUA'
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.body = '{"public":"young_person","context":"unknown","source":"parent","referrer":{"name":"Mme Martin"},' ..
  '"person":{"first_name":"Bench","birth_date":"2010-05-04","departement_code":"93"},' ..
  '"risk_indicators":["runaway"],"summary":"Benchmark referral.","urgency":"routine"}'
LUA
# Each request books its own half hour (no conflicts), far in the future,
# alternately for two staff members with ten years of bookings.
cat > "$work/appointment.lua" <<LUA
local counter = 0
local next_id = 0
function setup(thread)
  thread:set("thread_id", next_id)
  next_id = next_id + 1
end
function request()
  counter = counter + 1
  local slot = (thread_id or 0) * 100000 + counter
  local staff = (counter % 2 == 0) and "$staff1" or "$staff2"
  local start = 1956528000 + slot * 3600 -- from 2032-01-01, one hour apart
  local body = string.format('{"mode":"phone","title":"Bench","follow_up_id":"$follow_up",' ..
    '"starts_at":"%s","ends_at":"%s","staff_ids":["%s"]}',
    os.date("!%Y-%m-%dT%H:%M:%SZ", start), os.date("!%Y-%m-%dT%H:%M:%SZ", start + 1800), staff)
  local headers = {}
  for k, v in pairs(wrk.headers) do headers[k] = v end
  headers["Content-Type"] = "application/json"
  return wrk.format("POST", nil, headers, body)
end
LUA

rss_now() { awk '/VmRSS/ {print $2}' "/proc/$server/status"; }
# run NAME CONNECTIONS PATH [LUA]: one line of raw figures.
run() {
  local name=$1 conns=$2 path=$3 script=${4:-}
  local peak=0 sampler
  if [ -n "${ONLY:-}" ] && [ "$name" != healthz ] && [[ " $ONLY " != *" $name "* ]]; then
    return
  fi
  ( while kill -0 "$server" 2>/dev/null; do rss_now; sleep 0.2; done ) > "$work/rss.$name" &
  sampler=$!
  local args=(-t2 -c"$conns" -d"$duration" --latency -H "$auth")
  [ -n "$script" ] && args+=(-s "$script")
  local profiler=
  if [ "${PERF_ON:-}" = "$name" ]; then
    # The server's CPU profile during this line (call graphs from DWARF
    # unwinding: release builds keep symbols and unwind tables).
    perf record -q -F "${PERF_FREQ:-499}" --call-graph dwarf,16384 -p "$server" \
      -o "${PERF_OUT:-perf.data}" -- sleep "${duration%s}" 2>/dev/null &
    profiler=$!
  fi
  wrk "${args[@]}" "http://127.0.0.1:$port$path" > "$work/wrk.$name" 2>&1 || true
  [ -n "$profiler" ] && wait "$profiler"
  kill "$sampler" 2>/dev/null; wait "$sampler" 2>/dev/null || true
  peak=$(sort -n "$work/rss.$name" | tail -1)
  echo "$name $conns ${peak:-0} $work/wrk.$name"
}
{
  run healthz "$connections" /healthz
  run get_referral "$connections" "/api/v1/referrals/$referral"
  run list_first_page "$connections" "/api/v1/referrals?limit=50"
  run list_deep_page "$connections" "/api/v1/referrals?limit=50&cursor=$cursor"
  run date_window "$connections" "/api/v1/appointments?from=$window_from&to=$window_to&limit=20"
  run create_referral "$connections" /api/v1/referrals "$work/referral.lua"
  run create_appointment "$connections" /api/v1/appointments "$work/appointment.lua"
  run availability_month "$connections" "/api/v1/availability?departement=93&from=$month_from&to=$month_to"
  # Val-d'Oise: the same permanences and bookings that month at every scale
  # (93 gains sites with the scale), so only the data around it grows.
  run availability_month_95 "$connections" "/api/v1/availability?departement=95&from=$month_from&to=$month_to"
  run year_statistics 4 "/api/v1/stats/report?year=$((year - 1))"
  run get_referral_256 256 "/api/v1/referrals/$referral"
} > "$work/runs"
hwm=$(awk '/VmHWM/ {print $2}' "/proc/$server/status")
python3 - "$backend" "$scale" "$hwm" "$work/runs" <<'PY'
import re, sys
backend, scale, hwm, runs = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
def ms(text):
    value, unit = re.match(r"([\d.]+)(us|ms|s|m)", text).groups()
    return float(value) * {"us": 0.001, "ms": 1, "s": 1000, "m": 60000}[unit]
rows = []
for line in open(runs):
    name, conns, peak, path = line.split()
    out = open(path).read()
    rps = re.search(r"Requests/sec:\s+([\d.]+)", out)
    p50 = re.search(r"^\s+50%\s+(\S+)", out, re.M)
    p99 = re.search(r"^\s+99%\s+(\S+)", out, re.M)
    total = re.search(r"(\d+) requests in", out)
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    sock = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    errors = (int(non2xx.group(1)) if non2xx else 0) + (sum(map(int, sock.groups())) if sock else 0)
    rows.append((name, int(conns), float(rps.group(1)) if rps else 0.0,
                 ms(p50.group(1)) if p50 else 0.0, ms(p99.group(1)) if p99 else 0.0,
                 errors, int(total.group(1)) if total else 0, int(peak) // 1024))
healthz = rows[0][2] or 1.0
print(f"backend {backend}, scale {scale}; server peak RSS (VmHWM) {hwm // 1024} MiB")
print("| endpoint | conns | req/s | % of /healthz | p50 ms | p99 ms | errors/requests | peak RSS MiB |")
print("|---|---|---|---|---|---|---|---|")
for name, conns, rps, p50, p99, errors, total, peak in rows:
    print(f"| {name} | {conns} | {rps:.0f} | {100 * rps / healthz:.1f} % | {p50:.2f} | {p99:.2f} | {errors}/{total} | {peak} |")
PY
grep -iE "error|panic" "$work/server.log" | head -5 >&2 || true
