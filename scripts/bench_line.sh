#!/usr/bin/env bash
# LINE inbound (issue #19's target: 1,000 webhook events/s verified and stored, p99 < 50 ms on
# SQLite): `joren serve` on a fresh SQLite file with 1,000 customers, LINE_USERS LINE users of
# whom the first half are linked to customers; the load comes from a second process on loopback
# (`bench_line`), CONCURRENCY connections posting signed webhook calls for SECONDS, one text
# message each, every tenth a redelivery. Afterwards the stored counts are checked: every
# distinct event once (on a timeline or waiting), no redelivery stored twice.
# Usage: scripts/bench_line.sh [SECONDS] [CONCURRENCY] [LINE_USERS]
set -euo pipefail
cd "$(dirname "$0")/.."
SECONDS_RUN=${1:-15}
CONCURRENCY=${2:-16}
LINE_USERS=${3:-1000}
cargo build -q --release -p joren-cli --bin joren --example bench_line
J=${JOREN_BIN:-./target/release/joren}
DIR=$(mktemp -d)
trap 'kill "${PID:-}" 2>/dev/null || true; rm -rf "$DIR"' EXIT
export JOREN_DATABASE_URL="sqlite://$DIR/joren.db"
export JOREN_LOG=warn
export JOREN_LINE_CHANNEL_SECRET="bench-channel-secret-$RANDOM"
$J migrate 2>/dev/null
echo "load-passphrase-4471" | $J user create bench --role owner --password-stdin >/dev/null 2>&1
TOKEN=$($J token create --user bench --name bench 2>/dev/null)
{ echo "姓,名,電話番号"; for i in $(seq 1 1000); do printf '顧客%d,様,090-%04d-%04d\n' "$i" $((1000 + i / 10000)) $((i % 10000)); done; } > "$DIR/customers.csv"
$J import customers "$DIR/customers.csv" >/dev/null 2>&1
PORT=18$((RANDOM % 900 + 100))
$J serve --addr "127.0.0.1:$PORT" >/dev/null 2>&1 &
PID=$!
for _ in $(seq 1 100); do curl -sf "http://127.0.0.1:$PORT/healthz" >/dev/null && break; sleep 0.1; done
for i in $(seq 1 $((LINE_USERS / 2))); do
  curl -sf -X PUT -H "Authorization: Bearer $TOKEN" -H 'content-type: application/json' \
    -d "{\"line_user_id\": \"U$(printf '%032x' "$i")\"}" "http://127.0.0.1:$PORT/api/v1/customers/$i/line-user" >/dev/null
done
./target/release/examples/bench_line "http://127.0.0.1:$PORT" "$JOREN_LINE_CHANNEL_SECRET" "$LINE_USERS" "$SECONDS_RUN" "$CONCURRENCY"
kill "$PID"; wait "$PID" 2>/dev/null || true
python3 - "$DIR/joren.db" <<'PY'
import sqlite3, sys
db = sqlite3.connect(sys.argv[1])
events = db.execute("SELECT COUNT(*) FROM line_webhook_events").fetchone()[0]
on_timeline = db.execute("SELECT COUNT(*) FROM interactions WHERE kind = 'line'").fetchone()[0]
waiting = db.execute("SELECT COUNT(*) FROM line_unlinked_messages").fetchone()[0]
print(f"stored: {events} distinct events, {on_timeline} on timelines + {waiting} waiting = {on_timeline + waiting}",
      "ok" if events == on_timeline + waiting else "MISMATCH")
PY
