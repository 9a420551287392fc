-- Order lines are always read and written by (order_id, line_no): keep them in one b-tree
-- clustered on that key (WITHOUT ROWID) instead of a rowid table plus a separate primary-key
-- index. Bulk imports write half as many b-tree entries, and an order's lines sit together.
CREATE TABLE order_items_clustered (
    order_id INTEGER NOT NULL REFERENCES orders(id) ON DELETE CASCADE,
    line_no INTEGER NOT NULL,
    sku TEXT NOT NULL,
    name TEXT NOT NULL,
    category TEXT NOT NULL,
    quantity INTEGER NOT NULL,
    unit_price INTEGER NOT NULL,
    tax_rate INTEGER NOT NULL,
    amount INTEGER NOT NULL,
    PRIMARY KEY (order_id, line_no)
) WITHOUT ROWID;
INSERT INTO order_items_clustered
    SELECT order_id, line_no, sku, name, category, quantity, unit_price, tax_rate, amount FROM order_items;
DROP TABLE order_items;
ALTER TABLE order_items_clustered RENAME TO order_items;
