-- Points ledger (joren_core::points). Lots hold points with their own expiry; entries are
-- append-only and every one moves points on one lot, so a lot's `remaining` always equals the
-- sum of its entries (`joren points verify` checks it). Days are shop-local calendar days
-- counted from 1970-01-01. Value kind 'free' (earned) is kept apart from 'paid' (bought).
CREATE TABLE point_lots (
    id INTEGER PRIMARY KEY,
    customer_id INTEGER NOT NULL REFERENCES customers(id),
    value_kind TEXT NOT NULL CHECK (value_kind IN ('free', 'paid')),
    source TEXT NOT NULL,
    order_id INTEGER REFERENCES orders(id),
    granted INTEGER NOT NULL CHECK (granted > 0),
    remaining INTEGER NOT NULL CHECK (remaining >= 0 AND remaining <= granted),
    earned_day INTEGER NOT NULL,
    available_day INTEGER NOT NULL,
    expires_day INTEGER,
    reason TEXT NOT NULL DEFAULT '',
    -- How an order's points were made up (a retried order request answers the same).
    earn_base INTEGER NOT NULL DEFAULT 0,
    earn_campaign INTEGER NOT NULL DEFAULT 0,
    earn_bonus INTEGER NOT NULL DEFAULT 0,
    created_by INTEGER REFERENCES users(id) ON DELETE SET NULL,
    created_at INTEGER NOT NULL
);
CREATE INDEX point_lots_customer ON point_lots(customer_id);
CREATE INDEX point_lots_order ON point_lots(order_id) WHERE order_id IS NOT NULL;
CREATE INDEX point_lots_live_expiry ON point_lots(expires_day) WHERE remaining > 0 AND expires_day IS NOT NULL;

CREATE TABLE point_redemptions (
    id INTEGER PRIMARY KEY,
    customer_id INTEGER NOT NULL REFERENCES customers(id),
    value_kind TEXT NOT NULL CHECK (value_kind IN ('free', 'paid')),
    points INTEGER NOT NULL CHECK (points > 0),
    purpose TEXT NOT NULL CHECK (purpose IN ('checkout', 'adjustment')),
    status TEXT NOT NULL CHECK (status IN ('reserved', 'confirmed', 'cancelled')),
    idempotency_key TEXT UNIQUE,
    request_hash TEXT NOT NULL,
    order_id INTEGER REFERENCES orders(id),
    reason TEXT NOT NULL DEFAULT '',
    hold_until INTEGER,
    created_by INTEGER REFERENCES users(id) ON DELETE SET NULL,
    created_at INTEGER NOT NULL,
    settled_at INTEGER
);
CREATE INDEX point_redemptions_customer ON point_redemptions(customer_id);
CREATE INDEX point_redemptions_held ON point_redemptions(hold_until) WHERE status = 'reserved';
CREATE INDEX point_redemptions_order ON point_redemptions(order_id) WHERE order_id IS NOT NULL;

CREATE TABLE point_entries (
    id INTEGER PRIMARY KEY,
    customer_id INTEGER NOT NULL REFERENCES customers(id),
    lot_id INTEGER NOT NULL REFERENCES point_lots(id),
    kind TEXT NOT NULL CHECK (kind IN ('earn', 'spend', 'restore', 'reverse', 'deduct', 'repay', 'expire')),
    points INTEGER NOT NULL,
    day INTEGER NOT NULL,
    redemption_id INTEGER REFERENCES point_redemptions(id),
    settles_lot_id INTEGER REFERENCES point_lots(id),
    created_at INTEGER NOT NULL
);
CREATE INDEX point_entries_customer ON point_entries(customer_id);
CREATE INDEX point_entries_lot ON point_entries(lot_id);

-- Points owed after a refund took back points already spent (ShortfallPolicy::RecordDebt);
-- repaid by later earnings ('repay' entries).
CREATE TABLE point_debts (
    id INTEGER PRIMARY KEY,
    customer_id INTEGER NOT NULL REFERENCES customers(id),
    lot_id INTEGER NOT NULL REFERENCES point_lots(id),
    value_kind TEXT NOT NULL CHECK (value_kind IN ('free', 'paid')),
    points INTEGER NOT NULL CHECK (points > 0),
    day INTEGER NOT NULL,
    created_at INTEGER NOT NULL
);
CREATE INDEX point_debts_customer ON point_debts(customer_id);
