-- What happened to a customer (joren_core::event::EventKind): written in the same transaction
-- as the change that caused it, so whatever reacts to events (the scenario engine, webhooks)
-- can neither miss nor double one. dispatched_at is set by the consumer in the transaction
-- that acts on the event; undispatched events are found by a partial index.
CREATE TABLE events (
    id INTEGER PRIMARY KEY,
    kind TEXT NOT NULL,
    customer_id INTEGER,
    entity TEXT NOT NULL,
    entity_id TEXT NOT NULL,
    payload TEXT NOT NULL DEFAULT '{}',
    occurred_at INTEGER NOT NULL,
    dispatched_at INTEGER
);
CREATE INDEX events_customer ON events (customer_id, id);
CREATE INDEX events_pending ON events (id) WHERE dispatched_at IS NULL;
