#!/usr/bin/env bash
# The partner's quickstarts (examples/): clients generated from
# openapi/openapi.json by openapi-python-client and openapi-typescript with no
# warning, type-checked (mypy --strict, tsc), then each scenario run against a
# server of its own on a temporary SQLite database.
#   .ci/quickstarts.sh BIN VENV OUT
set -euo pipefail
cd "$(dirname "$0")/.."
bin=$1 venv=$2 out=$3
work=$(mktemp -d)
server=""
cleanup() {
  if [ -n "$server" ]; then kill "$server" 2>/dev/null || true; wait "$server" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT

# `no_warning LOG`: fails when a generator's output mentions a warning.
no_warning() {
  if grep -qiE 'warn' "$1"; then
    echo "the generator warned:" >&2
    cat "$1" >&2
    exit 1
  fi
}

echo "-- Python client (openapi-python-client)"
"$venv/bin/openapi-python-client" generate --path openapi/openapi.json --meta none \
  --output-path "$work/python/adosexo_client" \
  --config examples/python/config.yaml --custom-template-path examples/python/templates \
  >"$work/python-generate.log" 2>&1 || { cat "$work/python-generate.log"; exit 1; }
cat "$work/python-generate.log"
no_warning "$work/python-generate.log"
MYPYPATH="$work/python" "$venv/bin/mypy" --strict --no-incremental --cache-dir=/dev/null \
  "$work/python/adosexo_client" examples/python/partner.py

echo "-- TypeScript client (openapi-typescript + openapi-fetch)"
(cd examples/typescript && npm ci --no-audit --no-fund --loglevel=error)
(cd examples/typescript && npx openapi-typescript ../../openapi/openapi.json -o generated/api.d.ts) \
  >"$work/ts-generate.log" 2>&1 || { cat "$work/ts-generate.log"; exit 1; }
cat "$work/ts-generate.log"
no_warning "$work/ts-generate.log"
(cd examples/typescript && npx tsc -p .)

echo "-- the scenarios against a server on SQLite"
export DATABASE_URL="sqlite://$work/quickstart.db"
ADOSEXO_BIND="127.0.0.1:0" RUST_LOG="warn,adosexo=info" "$bin" serve >"$out/server-quickstart.log" 2>&1 &
server=$!
port=""
for _ in $(seq 1 100); do
  port=$(grep -o 'listening on http://127.0.0.1:[0-9]*' "$out/server-quickstart.log" | head -n 1 | sed 's/.*://' || true)
  [ -n "$port" ] && break
  kill -0 "$server" 2>/dev/null || { cat "$out/server-quickstart.log"; exit 1; }
  sleep 0.2
done
[ -n "$port" ] || { echo "the server did not start" >&2; cat "$out/server-quickstart.log"; exit 1; }
export ADOSEXO_URL="http://127.0.0.1:$port"
ADOSEXO_ADMIN_PASSWORD=quickstart-admin-password "$bin" admin create --email admin@quickstart.example --name "Quickstart Admin" >/dev/null
for language in python typescript; do
  # A partner of its own for each (the operator's side).
  setup=$("$venv/bin/python" examples/operator_setup.py "$ADOSEXO_URL" admin@quickstart.example quickstart-admin-password)
  eval "$setup"
  export ADOSEXO_CLIENT_ID ADOSEXO_CLIENT_SECRET
  echo "-- $language"
  case $language in
    python) PYTHONPATH="$work/python" "$venv/bin/python" examples/python/partner.py ;;
    typescript) (cd examples/typescript && node build/partner.js) ;;
  esac
done
kill -TERM "$server"
wait "$server" || { echo "the server did not stop cleanly on SIGTERM" >&2; exit 1; }
server=""
