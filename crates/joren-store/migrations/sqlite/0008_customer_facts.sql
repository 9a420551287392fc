-- One narrow row per live customer holding every field a segment filter reads: the newest
-- complete snapshot's metrics and the customer's filterable attributes and current consents.
-- A segment over a million customers is then one scan of one table. The store keeps it in step
-- in the same transaction as every write of a customer, consent or snapshot; rows are filled
-- by `Store::migrate` (it rebuilds the table when it is empty and customers exist).
CREATE TABLE customer_facts (
    customer_id INTEGER PRIMARY KEY REFERENCES customers(id) ON DELETE CASCADE,
    segment TEXT,
    churn_band TEXT,
    churn_score INTEGER,
    p_alive REAL,
    clv_12m REAL,
    expected_purchases_90d REAL,
    recency_days INTEGER,
    frequency INTEGER,
    total_spent INTEGER,
    birthday_month INTEGER,
    prefecture TEXT,
    acquisition_source TEXT,
    acquisition_campaign TEXT,
    owner_user_id INTEGER,
    consent_email INTEGER NOT NULL DEFAULT 0,
    consent_sms INTEGER NOT NULL DEFAULT 0,
    consent_line INTEGER NOT NULL DEFAULT 0,
    consent_dm INTEGER NOT NULL DEFAULT 0
);

-- Segments no longer read `customers` (migration 0007 indexed it for them).
DROP INDEX IF EXISTS customers_prefecture;
