#!/usr/bin/env bash
# SQLite's own floor for the 1M-order import: the same tables, pragmas and 100k-row batches as
# `joren import orders`, filled by `INSERT … SELECT` from a generated series (no CSV parsing, no
# binding), secondary order indexes built at the end. Needs the `sqlite3` shell.
#   bash scripts/sqlite_floor.sh [DIR]
set -euo pipefail
dir=${1:-/tmp/sqlite_floor}
mkdir -p "$dir" && cd "$dir" && rm -f t.db t.db-wal t.db-shm
sqlite3 t.db "PRAGMA journal_mode=WAL;" >/dev/null
sqlite3 t.db <<'SQL'
CREATE TABLE orders (
    id INTEGER PRIMARY KEY, customer_id INTEGER NOT NULL, external_id TEXT UNIQUE, request_hash TEXT NOT NULL,
    ordered_at INTEGER NOT NULL, channel TEXT NOT NULL, currency TEXT NOT NULL, prices_include_tax INTEGER NOT NULL,
    subtotal INTEGER NOT NULL, shipping INTEGER NOT NULL, discount INTEGER NOT NULL, tax INTEGER NOT NULL,
    total INTEGER NOT NULL, refunded INTEGER NOT NULL DEFAULT 0, status TEXT NOT NULL, note TEXT NOT NULL DEFAULT '',
    created_at INTEGER NOT NULL);
CREATE TABLE order_items (
    order_id INTEGER NOT NULL REFERENCES orders(id) ON DELETE CASCADE, line_no INTEGER NOT NULL, sku TEXT NOT NULL,
    name TEXT NOT NULL, category TEXT NOT NULL, quantity INTEGER NOT NULL, unit_price INTEGER NOT NULL,
    tax_rate INTEGER NOT NULL, amount INTEGER NOT NULL, PRIMARY KEY (order_id, line_no)) WITHOUT ROWID;
SQL
{
  echo "PRAGMA synchronous=FULL; PRAGMA cache_size=-65536; PRAGMA temp_store=MEMORY; PRAGMA mmap_size=268435456;"
  for b in 0 1 2 3 4 5 6 7 8 9; do
    echo "BEGIN IMMEDIATE;
WITH RECURSIVE s(i) AS (SELECT $b*100000+1 UNION ALL SELECT i+1 FROM s WHERE i < ($b+1)*100000)
INSERT INTO orders SELECT i, abs(random())%100000, printf('O%08d', i), randomblob(16), 1700000000000+i*1000,
  '通販', 'JPY', 1, 4500, 0, 0, 400, 4500, 0, 'completed', '', 1700000000000 FROM s;
WITH RECURSIVE s(i) AS (SELECT $b*150000+1 UNION ALL SELECT i+1 FROM s WHERE i < ($b+1)*150000)
INSERT INTO order_items SELECT (i*2/3)+1, i%3+1, 'SW-FIN', 'フィナンシェ 5個入', '焼き菓子', 1, 1200, 800, 1200 FROM s;
COMMIT;"
  done
  echo "CREATE INDEX orders_customer ON orders(customer_id, ordered_at); CREATE INDEX orders_ordered_at ON orders(ordered_at);"
} > go.sql
/usr/bin/time -f "SQLite alone: %e s wall (%U s user, %S s sys)" sqlite3 t.db < go.sql >/dev/null
echo "generating the values alone (random ids and hashes), to subtract:"
/usr/bin/time -f "  %e s" sqlite3 :memory: "WITH RECURSIVE s(i) AS (SELECT 1 UNION ALL SELECT i+1 FROM s WHERE i < 1000000)
  SELECT count(*), sum(length(randomblob(16))), sum(abs(random())%100000) FROM s;" >/dev/null
