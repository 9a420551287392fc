-- Cross-sell rules of a metrics snapshot (and, below, what segments over a million customers need): customers who bought the antecedent product also
-- bought the consequent (support, confidence, lift; see joren_analytics::cross_sell). A
-- product is its SKU, or its name when it has none.
CREATE TABLE product_associations (
    snapshot_id BIGINT NOT NULL REFERENCES metric_snapshots(id) ON DELETE CASCADE,
    antecedent TEXT NOT NULL,
    antecedent_name TEXT NOT NULL,
    consequent TEXT NOT NULL,
    consequent_name TEXT NOT NULL,
    pair_count BIGINT NOT NULL,
    support DOUBLE PRECISION NOT NULL,
    confidence DOUBLE PRECISION NOT NULL,
    lift DOUBLE PRECISION NOT NULL,
    PRIMARY KEY (snapshot_id, antecedent, consequent)
);

-- Segments over metrics alone read customer_metrics without the customers table: metrics of
-- records merged into another are dropped (merges do so from now on).
DELETE FROM customer_metrics WHERE customer_id IN (SELECT id FROM customers WHERE merged_into IS NOT NULL);
CREATE INDEX customers_prefecture ON customers(prefecture);
