#!/usr/bin/env bash
# Order ingest with points through the API (issue #5's throughput target): `joren serve` on a
# fresh SQLite file with 1,000 customers; the load comes from a second process on loopback
# (`bench_points ingest`), CONCURRENCY connections for SECONDS, every order earning points in
# its own transaction, with rank evaluation. With FLOOD > 0, that many clients guess passwords
# on the login form at the same time (issue #16's load test: ingest must hold while a login
# flood runs). With SCENARIO=1 the ready post-purchase scenario is active (issue #17: ingest
# must hold while every order starts a follow-up timeline; mail in test mode, so the outbox is
# written and nothing is sent). With SERVERS=2, two `joren serve` processes share the database
# (issue #21: the load split between them, every fifth order resent to the other one; nothing
# may be stored twice, and every scheduled job runs once) — on PostgreSQL when
# JOREN_BENCH_POSTGRES names a database to recreate (e.g. postgres://postgres@127.0.0.1:5432/joren_two).
# Usage: scripts/bench_points.sh [SECONDS] [CONCURRENCY] [FLOOD] [SCENARIO] [SERVERS]
set -euo pipefail
cd "$(dirname "$0")/.."
SECONDS_RUN=${1:-20}
CONCURRENCY=${2:-16}
FLOOD=${3:-0}
SCENARIO=${4:-0}
SERVERS=${5:-1}
# JOREN_BIN runs another build of the server (e.g. an older commit's) under the same load.
cargo build -q --release -p joren-cli --bin joren --example bench_points
J=${JOREN_BIN:-./target/release/joren}
DIR=$(mktemp -d)
trap 'kill ${PIDS:-} 2>/dev/null || true; rm -rf "$DIR"' EXIT
export JOREN_DATABASE_URL="sqlite://$DIR/joren.db"
if [ -n "${JOREN_BENCH_POSTGRES:-}" ]; then
  export JOREN_DATABASE_URL="$JOREN_BENCH_POSTGRES"
  DB=${JOREN_BENCH_POSTGRES##*/}
  psql "${JOREN_BENCH_POSTGRES%/*}/postgres" -qc "DROP DATABASE IF EXISTS $DB" -c "CREATE DATABASE $DB" 2>/dev/null
fi
export JOREN_LOG=warn
$J migrate 2>/dev/null
# Ranks on (12 months' spend, the default tiers): every order also reads the customer's rank,
# earns at its multiplier and is checked for an upgrade, in the order's transaction.
$J points settings | python3 -c 'import json,sys; p=json.load(sys.stdin); p["ranks"]["enabled"]=True; print(json.dumps(p))' > "$DIR/programme.json"
$J points settings --set "$DIR/programme.json" >/dev/null
echo "load-passphrase-4471" | $J user create bench --role owner --password-stdin >/dev/null 2>&1
TOKEN=$($J token create --user bench --name bench 2>/dev/null)
{ echo "姓,名,電話番号,メール"; for i in $(seq 1 1000); do printf '顧客%d,様,090-%04d-%04d,c%d@example.jp\n' "$i" $((1000 + i / 10000)) $((i % 10000)) "$i"; done; } > "$DIR/customers.csv"
$J import customers "$DIR/customers.csv" >/dev/null 2>&1
if [ "$SCENARIO" = 1 ]; then
  SID=$($J scenarios create --template post_purchase | python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])')
  $J scenarios activate "$SID" >/dev/null
fi
PORT=18$((RANDOM % 900 + 100))
BASES=""
PIDS=""
for i in $(seq 1 "$SERVERS"); do
  P=$((PORT + i - 1))
  # JOREN_BENCH_SERVER_LOG=FILE keeps the server's log, e.g. with
  # JOREN_BENCH_SERVER_FILTER=warn,joren_store::writer_time=debug: the writer's time by kind of work.
  JOREN_LOG=${JOREN_BENCH_SERVER_FILTER:-warn} $J serve --addr "127.0.0.1:$P" >>"${JOREN_BENCH_SERVER_LOG:-/dev/null}" 2>&1 &
  PIDS="$PIDS $!"
  for _ in $(seq 1 100); do curl -sf "http://127.0.0.1:$P/healthz" >/dev/null && break; sleep 0.1; done
  BASES="${BASES:+$BASES,}http://127.0.0.1:$P"
done
./target/release/examples/bench_points ingest "$BASES" "$TOKEN" 1000 "$SECONDS_RUN" "$CONCURRENCY" "$FLOOD"
curl -sf -H "Authorization: Bearer $TOKEN" "http://127.0.0.1:$PORT/api/v1/points/verify"; echo
curl -sf -H "Authorization: Bearer $TOKEN" "http://127.0.0.1:$PORT/api/v1/orders?limit=1" | python3 -c 'import json,sys; print("orders stored", json.load(sys.stdin)["total"])'
if [ -n "${JOREN_BENCH_POSTGRES:-}" ]; then
  psql "$JOREN_BENCH_POSTGRES" -Atc "SELECT 'orders ' || count(*) || ', distinct order numbers ' || count(DISTINCT external_id) FROM orders" \
    -c "SELECT 'points lots ' || count(*) || ' for ' || count(DISTINCT order_id) || ' orders' FROM point_lots WHERE order_id IS NOT NULL" \
    -c "SELECT 'jobs ' || kind || ' ' || state || ' attempts ' || attempts || ': ' || count(*) FROM jobs GROUP BY kind, state, attempts ORDER BY 1"
fi
if [ "$SCENARIO" = 1 ]; then
  sleep 3 # the worker's last pass
  if [ -n "${JOREN_BENCH_POSTGRES:-}" ]; then
    psql "$JOREN_BENCH_POSTGRES" -Atc "SELECT 'thank-you mails ' || count(*) || ' for ' || count(DISTINCT run_id) || ' runs' FROM outbox WHERE step = 0"
  fi
  $J scenarios show "$SID" | python3 -c 'import json,sys; r=json.load(sys.stdin); print("runs", {x["state"]+":"+str(x["step"]): x["count"] for x in r["runs"]}, "outbox", r["outbox"])'
fi
