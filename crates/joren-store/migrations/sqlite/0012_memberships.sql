-- Memberships and subscriptions (joren_core::membership). A membership keeps a copy of its
-- plan's terms; `renewals` counts the periods paid after the first; every status change is an
-- event (the status history the churn-reason report and the sBG model read).
CREATE TABLE membership_plans (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL,
    price INTEGER NOT NULL CHECK (price >= 0),
    period_months INTEGER NOT NULL CHECK (period_months > 0),
    active INTEGER NOT NULL DEFAULT 1,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
);

CREATE TABLE memberships (
    id INTEGER PRIMARY KEY,
    customer_id INTEGER NOT NULL REFERENCES customers(id),
    plan_id INTEGER NOT NULL REFERENCES membership_plans(id),
    name TEXT NOT NULL,
    price INTEGER NOT NULL,
    period_months INTEGER NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('active', 'paused', 'cancelled')),
    started_day INTEGER NOT NULL,
    renewals INTEGER NOT NULL DEFAULT 0,
    -- Last day paid for.
    paid_until_day INTEGER NOT NULL,
    cancelled_day INTEGER,
    cancel_reason TEXT,
    cancel_note TEXT NOT NULL DEFAULT '',
    idempotency_key TEXT UNIQUE,
    request_hash TEXT NOT NULL DEFAULT '',
    created_at INTEGER NOT NULL
);
CREATE INDEX memberships_customer ON memberships(customer_id);
CREATE INDEX memberships_plan_start ON memberships(plan_id, started_day);

CREATE TABLE membership_events (
    id INTEGER PRIMARY KEY,
    membership_id INTEGER NOT NULL REFERENCES memberships(id),
    customer_id INTEGER NOT NULL REFERENCES customers(id),
    -- start, renew, pause, resume, cancel
    kind TEXT NOT NULL,
    day INTEGER NOT NULL,
    note TEXT NOT NULL DEFAULT '',
    idempotency_key TEXT UNIQUE,
    created_by INTEGER REFERENCES users(id) ON DELETE SET NULL,
    created_at INTEGER NOT NULL
);
CREATE INDEX membership_events_membership ON membership_events(membership_id, id);
