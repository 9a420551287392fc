-- Segments saved from the builder: a name and a filter (JSON, see joren_core::segment_filter).
CREATE TABLE saved_segments (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    description TEXT NOT NULL DEFAULT '',
    filter TEXT NOT NULL,
    created_by INTEGER REFERENCES users(id) ON DELETE SET NULL,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
);

-- Segments over metrics alone read customer_metrics without the customers table: metrics of
-- records merged into another are dropped (merges do so from now on).
DELETE FROM customer_metrics WHERE customer_id IN (SELECT id FROM customers WHERE merged_into IS NOT NULL);
CREATE INDEX customers_prefecture ON customers(prefecture);
