-- One narrow row per live customer holding every field a segment filter reads: the newest
-- complete snapshot's metrics and the customer's filterable attributes and current consents.
-- A segment over a million customers is then one scan of one table. The store keeps it in step
-- in the same transaction as every write of a customer, consent or snapshot; rows are filled
-- by `Store::migrate` (it rebuilds the table when it is empty and customers exist).
CREATE TABLE customer_facts (
    customer_id BIGINT PRIMARY KEY REFERENCES customers(id) ON DELETE CASCADE,
    segment TEXT,
    churn_band TEXT,
    churn_score BIGINT,
    p_alive DOUBLE PRECISION,
    clv_12m DOUBLE PRECISION,
    expected_purchases_90d DOUBLE PRECISION,
    recency_days BIGINT,
    frequency BIGINT,
    total_spent BIGINT,
    birthday_month BIGINT,
    prefecture TEXT,
    acquisition_source TEXT,
    acquisition_campaign TEXT,
    owner_user_id BIGINT,
    consent_email BIGINT NOT NULL DEFAULT 0,
    consent_sms BIGINT NOT NULL DEFAULT 0,
    consent_line BIGINT NOT NULL DEFAULT 0,
    consent_dm BIGINT NOT NULL DEFAULT 0
) WITH (fillfactor = 50); -- room on each page: a snapshot rewrites every row, in place (HOT)

-- Segments no longer read `customers` (migration 0007 indexed it for them).
DROP INDEX IF EXISTS customers_prefecture;
