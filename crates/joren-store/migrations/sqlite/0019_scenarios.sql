-- Scenarios (joren_core::scenario): a name and a status, and every version of the definition
-- (JSON) kept, so a run finishes the version it entered. A run is one customer's way through
-- one occurrence (an order, a birthday year, a broadcast) and is unique per (scenario,
-- customer, occurrence): an event dispatched twice enrols once. A run in the control group
-- (holdout) is recorded and acts on nothing.
CREATE TABLE scenarios (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('draft', 'active', 'paused')),
    version INTEGER NOT NULL,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
);
CREATE TABLE scenario_versions (
    scenario_id INTEGER NOT NULL REFERENCES scenarios(id) ON DELETE CASCADE,
    version INTEGER NOT NULL,
    definition TEXT NOT NULL,
    created_by INTEGER,
    created_at INTEGER NOT NULL,
    PRIMARY KEY (scenario_id, version)
);
CREATE TABLE scenario_runs (
    id INTEGER PRIMARY KEY,
    scenario_id INTEGER NOT NULL REFERENCES scenarios(id) ON DELETE CASCADE,
    version INTEGER NOT NULL,
    customer_id INTEGER NOT NULL REFERENCES customers(id) ON DELETE CASCADE,
    occurrence TEXT NOT NULL,
    order_id INTEGER,
    control INTEGER NOT NULL DEFAULT 0,
    step INTEGER NOT NULL DEFAULT 0,
    state TEXT NOT NULL CHECK (state IN ('waiting', 'done', 'exited', 'failed', 'control')),
    due_at INTEGER,
    waiting_for_order INTEGER NOT NULL DEFAULT 0,
    exit_reason TEXT,
    last_error TEXT,
    entered_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    UNIQUE (scenario_id, customer_id, occurrence)
);
CREATE INDEX scenario_runs_due ON scenario_runs (due_at) WHERE state = 'waiting';
CREATE INDEX scenario_runs_customer ON scenario_runs (customer_id, scenario_id);

-- Messages to send (joren_app::outbox): written in the transaction that decides to send, at
-- most one per (scenario version, step, customer, occurrence, channel). A row moves
-- queued -> sending -> sent | failed, or to suppressed when a check at send time says no
-- (no consent, unsubscribed, undeliverable); a deferral (quiet hours, caps) moves not_before.
CREATE TABLE outbox (
    id INTEGER PRIMARY KEY,
    run_id INTEGER REFERENCES scenario_runs(id) ON DELETE SET NULL,
    scenario_id INTEGER,
    version INTEGER,
    step INTEGER,
    customer_id INTEGER REFERENCES customers(id) ON DELETE CASCADE,
    occurrence TEXT NOT NULL,
    channel TEXT NOT NULL CHECK (channel IN ('email')),
    marketing INTEGER NOT NULL,
    recipient TEXT NOT NULL,
    subject TEXT NOT NULL,
    body_text TEXT NOT NULL,
    body_html TEXT NOT NULL,
    state TEXT NOT NULL CHECK (state IN ('queued', 'sending', 'sent', 'failed', 'suppressed')),
    not_before INTEGER NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    lease_until INTEGER,
    last_error TEXT,
    test_mode INTEGER NOT NULL DEFAULT 0,
    message_id TEXT,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    sent_at INTEGER,
    UNIQUE (scenario_id, version, step, customer_id, occurrence, channel)
);
CREATE INDEX outbox_due ON outbox (not_before) WHERE state = 'queued';
CREATE INDEX outbox_leased ON outbox (lease_until) WHERE state = 'sending';
CREATE INDEX outbox_customer ON outbox (customer_id, id);

-- Tasks for people (今日の連絡): a call, a letter or a visit, from a scenario step (one per run
-- and step) or by hand; done or skipped with an outcome that lands on the customer's timeline.
CREATE TABLE tasks (
    id INTEGER PRIMARY KEY,
    run_id INTEGER REFERENCES scenario_runs(id) ON DELETE SET NULL,
    step INTEGER,
    scenario_id INTEGER,
    customer_id INTEGER NOT NULL REFERENCES customers(id) ON DELETE CASCADE,
    kind TEXT NOT NULL CHECK (kind IN ('call', 'letter', 'visit')),
    title TEXT NOT NULL,
    due_on TEXT NOT NULL,
    assignee_id INTEGER REFERENCES users(id) ON DELETE SET NULL,
    state TEXT NOT NULL CHECK (state IN ('open', 'done', 'skipped')),
    outcome TEXT,
    done_by INTEGER REFERENCES users(id) ON DELETE SET NULL,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    done_at INTEGER,
    UNIQUE (run_id, step)
);
CREATE INDEX tasks_open ON tasks (due_on) WHERE state = 'open';
CREATE INDEX tasks_customer ON tasks (customer_id, id);

-- Addresses that must not get mail again (a permanent SMTP rejection).
CREATE TABLE undeliverable_addresses (
    address TEXT PRIMARY KEY,
    reason TEXT NOT NULL,
    at INTEGER NOT NULL
);
