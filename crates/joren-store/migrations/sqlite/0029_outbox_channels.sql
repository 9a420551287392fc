-- The outbox carries LINE and SMS messages beside email: `channel` may be 'line' or 'sms',
-- and `payload` holds what the provider is sent when it is more than the text (LINE's message
-- objects: a card, quick replies). SQLite cannot change a CHECK in place: the table is copied.
CREATE TABLE outbox_new (
    id INTEGER PRIMARY KEY,
    run_id INTEGER REFERENCES scenario_runs(id) ON DELETE SET NULL,
    scenario_id INTEGER,
    version INTEGER,
    step INTEGER,
    customer_id INTEGER REFERENCES customers(id) ON DELETE CASCADE,
    occurrence TEXT NOT NULL,
    channel TEXT NOT NULL CHECK (channel IN ('email', 'line', 'sms')),
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
    payload TEXT,
    UNIQUE (scenario_id, version, step, customer_id, occurrence, channel)
);
INSERT INTO outbox_new (id, run_id, scenario_id, version, step, customer_id, occurrence, channel, marketing,
    recipient, subject, body_text, body_html, state, not_before, attempts, lease_until, last_error, test_mode,
    message_id, created_at, updated_at, sent_at)
SELECT id, run_id, scenario_id, version, step, customer_id, occurrence, channel, marketing,
    recipient, subject, body_text, body_html, state, not_before, attempts, lease_until, last_error, test_mode,
    message_id, created_at, updated_at, sent_at FROM outbox;
DROP TABLE outbox;
ALTER TABLE outbox_new RENAME TO outbox;
CREATE INDEX outbox_due ON outbox (not_before, id) WHERE state = 'queued';
CREATE INDEX outbox_leased ON outbox (lease_until, id) WHERE state = 'sending';
CREATE INDEX outbox_customer ON outbox (customer_id, id);
-- A message no scenario decided (a staff member's reply) is written once per customer,
-- channel and occurrence (the request's idempotency key): a resent form queues nothing new.
CREATE UNIQUE INDEX outbox_direct ON outbox (customer_id, channel, occurrence) WHERE scenario_id IS NULL;
