#!/usr/bin/env bash
# LINE push benchmark (issue #19's target: ≥ 1,000 pushes/s to 100,000 linked customers through
# a local stand-in for the Messaging API, zero duplicates under injected 429s and 5xx): imports
# CUSTOMERS customers, each with a LINE user id and the tag LINE, into a fresh SQLite file, then
# runs `bench_line_push` (see crates/joren-cli/examples/bench_line_push.rs) with WORKERS
# `joren worker` processes.
# Usage: scripts/bench_line_push.sh [CUSTOMERS] [WORKERS]
set -euo pipefail
cd "$(dirname "$0")/.."
CUSTOMERS=${1:-100000}
WORKERS=${2:-1}
cargo build -q --release -p joren-cli --bin joren --example bench_line_push
J=${JOREN_BIN:-./target/release/joren}
DIR=$(mktemp -d)
trap 'rm -rf "$DIR"' EXIT
export JOREN_DATABASE_URL="sqlite://$DIR/joren.db"
export JOREN_LOG=warn
$J migrate 2>/dev/null
python3 - "$CUSTOMERS" > "$DIR/customers.csv" <<'PY'
import sys
n = int(sys.argv[1])
print("姓,名,LINE ID,タグ")
for i in range(1, n + 1):
    print(f"顧客{i},様,U{i:032x},LINE")
PY
start=$(date +%s.%N)
$J import customers "$DIR/customers.csv" >/dev/null 2>&1
echo "import: $CUSTOMERS customers in $(python3 -c "print(round($(date +%s.%N) - $start, 1))") s"
./target/release/examples/bench_line_push "$JOREN_DATABASE_URL" "$J" "$WORKERS"
