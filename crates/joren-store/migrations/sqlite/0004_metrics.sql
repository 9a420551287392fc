-- Per-customer metrics computed by the analytics engine from the order log. Each refresh writes
-- a new snapshot in one transaction and marks it complete last, so readers (who always read the
-- newest complete snapshot) never see a half-written one. Old snapshots are pruned.
CREATE TABLE metric_snapshots (
    id INTEGER PRIMARY KEY,
    computed_at INTEGER NOT NULL,
    observation_end TEXT NOT NULL,
    orders INTEGER NOT NULL,
    customers INTEGER NOT NULL,
    -- The models used, their fit and validation, or why a model was not fitted (JSON).
    diagnostics TEXT NOT NULL,
    complete INTEGER NOT NULL DEFAULT 0
);

CREATE TABLE customer_metrics (
    snapshot_id INTEGER NOT NULL REFERENCES metric_snapshots(id) ON DELETE CASCADE,
    customer_id INTEGER NOT NULL REFERENCES customers(id) ON DELETE CASCADE,
    recency_days INTEGER NOT NULL,
    frequency INTEGER NOT NULL,
    monetary INTEGER NOT NULL,
    r_score INTEGER NOT NULL,
    f_score INTEGER NOT NULL,
    m_score INTEGER NOT NULL,
    segment TEXT NOT NULL,
    p_alive REAL,
    expected_purchases_90d REAL,
    expected_order_value REAL,
    clv_12m REAL,
    churn_score INTEGER,
    churn_band TEXT,
    expected_next_purchase TEXT,
    PRIMARY KEY (snapshot_id, customer_id)
) WITHOUT ROWID;

-- Segment moves between consecutive snapshots (triggers for the automation issue).
CREATE TABLE segment_changes (
    id INTEGER PRIMARY KEY,
    customer_id INTEGER NOT NULL REFERENCES customers(id) ON DELETE CASCADE,
    from_segment TEXT,
    to_segment TEXT NOT NULL,
    snapshot_id INTEGER NOT NULL,
    at INTEGER NOT NULL
);
CREATE INDEX segment_changes_customer ON segment_changes(customer_id, at);
