-- Outbound webhooks: URLs subscribed to customer events, and one delivery per (subscription,
-- event), written when the event is fanned out — in the transaction that marks the event
-- `hooked_at`, so an event is offered to every subscription once, never twice. Deliveries move
-- queued -> sending -> delivered | failed (after their last attempt, with the reason), claimed
-- with a lease and fenced by attempt like the outbox. Events from before this migration are
-- history: not sent.
ALTER TABLE events ADD COLUMN hooked_at INTEGER;
UPDATE events SET hooked_at = 0;
CREATE INDEX events_unhooked ON events (id) WHERE hooked_at IS NULL;
CREATE TABLE webhook_subscriptions (
    id INTEGER PRIMARY KEY,
    url TEXT NOT NULL,
    -- whsec_ and the base64 of the signing key (Standard Webhooks).
    secret TEXT NOT NULL,
    -- `*` or event kinds separated by commas.
    events TEXT NOT NULL,
    description TEXT NOT NULL DEFAULT '',
    active INTEGER NOT NULL DEFAULT 1,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
);
CREATE TABLE webhook_deliveries (
    id INTEGER PRIMARY KEY,
    subscription_id INTEGER NOT NULL REFERENCES webhook_subscriptions(id) ON DELETE CASCADE,
    event_id INTEGER,
    kind TEXT NOT NULL,
    payload TEXT NOT NULL,
    state TEXT NOT NULL CHECK (state IN ('queued', 'sending', 'delivered', 'failed')),
    attempts INTEGER NOT NULL DEFAULT 0,
    not_before INTEGER NOT NULL,
    lease_until INTEGER,
    last_status INTEGER,
    last_error TEXT,
    response_ms INTEGER,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    delivered_at INTEGER,
    UNIQUE (subscription_id, event_id)
);
CREATE INDEX webhook_deliveries_due ON webhook_deliveries (not_before, id) WHERE state = 'queued';
CREATE INDEX webhook_deliveries_leased ON webhook_deliveries (lease_until, id) WHERE state = 'sending';
CREATE INDEX webhook_deliveries_subscription ON webhook_deliveries (subscription_id, id);
