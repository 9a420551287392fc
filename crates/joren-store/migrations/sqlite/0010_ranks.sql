-- Ranks (joren_core::rank). A customer without a row holds the base tier (level 0). Levels
-- index the programme's tiers; names are kept as they were at each change. Days are shop-local
-- calendar days counted from 1970-01-01.
CREATE TABLE customer_ranks (
    customer_id INTEGER PRIMARY KEY REFERENCES customers(id),
    level INTEGER NOT NULL CHECK (level >= 0),
    tier_name TEXT NOT NULL,
    since_day INTEGER NOT NULL,
    -- The last review date applied (the next review is the first review date after it).
    reviewed_day INTEGER NOT NULL,
    -- Failing reviews used from the grace allowance.
    grace_used INTEGER NOT NULL DEFAULT 0,
    updated_at INTEGER NOT NULL
);
CREATE INDEX customer_ranks_level ON customer_ranks(level);

-- Every change of rank, and every review kept on grace: the history shown to staff and the
-- events the automation reads (by id, in order).
CREATE TABLE rank_changes (
    id INTEGER PRIMARY KEY,
    customer_id INTEGER NOT NULL REFERENCES customers(id),
    from_level INTEGER NOT NULL,
    to_level INTEGER NOT NULL,
    from_name TEXT NOT NULL,
    to_name TEXT NOT NULL,
    -- order, evaluation (daily run), review, grace, manual
    cause TEXT NOT NULL,
    -- The measured value that decided (yen, orders or points).
    value INTEGER NOT NULL,
    day INTEGER NOT NULL,
    reason TEXT NOT NULL DEFAULT '',
    order_id INTEGER REFERENCES orders(id),
    created_by INTEGER REFERENCES users(id) ON DELETE SET NULL,
    created_at INTEGER NOT NULL
);
CREATE INDEX rank_changes_customer ON rank_changes(customer_id, id);
CREATE INDEX rank_changes_day ON rank_changes(day);
