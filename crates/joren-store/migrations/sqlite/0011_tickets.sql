-- Prepaid tickets (回数券) and visit passes (joren_core::ticket). A sold ticket keeps a copy of
-- its plan's terms; every use is a row; `used` is the count of uses (CHECK keeps it within the
-- visits, so concurrent uses can never overspend). Days are shop-local days since 1970-01-01.
CREATE TABLE ticket_plans (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL,
    visits INTEGER NOT NULL CHECK (visits > 0),
    price INTEGER NOT NULL CHECK (price >= 0),
    valid_months INTEGER NOT NULL CHECK (valid_months >= 0),
    active INTEGER NOT NULL DEFAULT 1,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
);

CREATE TABLE tickets (
    id INTEGER PRIMARY KEY,
    customer_id INTEGER NOT NULL REFERENCES customers(id),
    plan_id INTEGER NOT NULL REFERENCES ticket_plans(id),
    name TEXT NOT NULL,
    visits INTEGER NOT NULL CHECK (visits > 0),
    price INTEGER NOT NULL,
    used INTEGER NOT NULL DEFAULT 0 CHECK (used >= 0 AND used <= visits),
    sold_day INTEGER NOT NULL,
    -- Last usable day; NULL: no expiry.
    last_day INTEGER,
    -- active or refunded (expiry is read from last_day).
    status TEXT NOT NULL CHECK (status IN ('active', 'refunded')),
    refunded_amount INTEGER NOT NULL DEFAULT 0,
    refund_reason TEXT NOT NULL DEFAULT '',
    idempotency_key TEXT UNIQUE,
    request_hash TEXT NOT NULL DEFAULT '',
    created_by INTEGER REFERENCES users(id) ON DELETE SET NULL,
    created_at INTEGER NOT NULL
);
CREATE INDEX tickets_customer ON tickets(customer_id);
CREATE INDEX tickets_live ON tickets(last_day) WHERE status = 'active';

CREATE TABLE ticket_uses (
    id INTEGER PRIMARY KEY,
    ticket_id INTEGER NOT NULL REFERENCES tickets(id),
    customer_id INTEGER NOT NULL REFERENCES customers(id),
    day INTEGER NOT NULL,
    note TEXT NOT NULL DEFAULT '',
    idempotency_key TEXT UNIQUE,
    created_by INTEGER REFERENCES users(id) ON DELETE SET NULL,
    created_at INTEGER NOT NULL
);
CREATE INDEX ticket_uses_ticket ON ticket_uses(ticket_id, id);
