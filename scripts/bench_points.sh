#!/usr/bin/env bash
# Order ingest with points through the API (issue #5's throughput target): `joren serve` on a
# fresh SQLite file with 1,000 customers; the load comes from a second process on loopback
# (`bench_points ingest`), CONCURRENCY connections for SECONDS, every order earning points in
# its own transaction, with rank evaluation. With FLOOD > 0, that many clients guess passwords
# on the login form at the same time (issue #16's load test: ingest must hold while a login
# flood runs). With SCENARIO=1 the ready post-purchase scenario is active (issue #17: ingest
# must hold while every order starts a follow-up timeline; mail in test mode, so the outbox is
# written and nothing is sent). Usage: scripts/bench_points.sh [SECONDS] [CONCURRENCY] [FLOOD] [SCENARIO]
set -euo pipefail
cd "$(dirname "$0")/.."
SECONDS_RUN=${1:-20}
CONCURRENCY=${2:-16}
FLOOD=${3:-0}
SCENARIO=${4:-0}
# JOREN_BIN runs another build of the server (e.g. an older commit's) under the same load.
cargo build -q --release -p joren-cli --bin joren --example bench_points
J=${JOREN_BIN:-./target/release/joren}
DIR=$(mktemp -d)
trap 'kill "${PID:-}" 2>/dev/null || true; rm -rf "$DIR"' EXIT
export JOREN_DATABASE_URL="sqlite://$DIR/joren.db"
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
$J serve --addr "127.0.0.1:$PORT" >/dev/null 2>&1 &
PID=$!
for _ in $(seq 1 100); do curl -sf "http://127.0.0.1:$PORT/healthz" >/dev/null && break; sleep 0.1; done
./target/release/examples/bench_points ingest "http://127.0.0.1:$PORT" "$TOKEN" 1000 "$SECONDS_RUN" "$CONCURRENCY" "$FLOOD"
curl -sf -H "Authorization: Bearer $TOKEN" "http://127.0.0.1:$PORT/api/v1/points/verify"; echo
if [ "$SCENARIO" = 1 ]; then
  sleep 3 # the worker's last pass
  $J scenarios show "$SID" | python3 -c 'import json,sys; r=json.load(sys.stdin); print("runs", {x["state"]+":"+str(x["step"]): x["count"] for x in r["runs"]}, "outbox", r["outbox"])'
fi
