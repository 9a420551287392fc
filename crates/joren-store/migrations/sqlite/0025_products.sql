-- The shop's product list (joren_core::product) for the counter screen: a sale copies name,
-- price and tax rate into the order's line, so a later price change leaves past orders alone.
CREATE TABLE products (
    id INTEGER PRIMARY KEY,
    sku TEXT NOT NULL DEFAULT '',
    name TEXT NOT NULL,
    category TEXT NOT NULL DEFAULT '',
    unit_price INTEGER NOT NULL,
    tax_rate INTEGER NOT NULL DEFAULT 10,
    active INTEGER NOT NULL DEFAULT 1,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
);
-- A SKU names one product (an empty SKU is allowed on many).
CREATE UNIQUE INDEX products_sku ON products (sku) WHERE sku <> '';
