-- How many rows `orders` and `customers` held up to an id, refreshed with each nightly snapshot
-- and after an import: a page that says "N orders" counts only the rows added since
-- (a range of the primary key) instead of every row (0.2 s at ten million orders).
CREATE TABLE row_counts (
    tbl TEXT PRIMARY KEY,
    upto_id BIGINT NOT NULL,
    n BIGINT NOT NULL
);
INSERT INTO row_counts (tbl, upto_id, n) SELECT 'orders', COALESCE(MAX(id), 0), COUNT(*) FROM orders;
INSERT INTO row_counts (tbl, upto_id, n) SELECT 'customers', COALESCE(MAX(id), 0), COUNT(*) FROM customers;
