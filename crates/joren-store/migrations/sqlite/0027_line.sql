-- LINE Official Account, inbound: the users who follow (or followed) the shop's account, the
-- webhook events already applied (LINE redelivers an event with the same webhookEventId), and
-- messages from users not yet linked to a customer (moved onto the customer's timeline when
-- staff link them). A linked user is `customers.line_user_id`.
CREATE TABLE line_users (
    line_user_id TEXT PRIMARY KEY,
    following INTEGER NOT NULL,
    -- When `following` was last set (a redelivered older follow does not undo a newer unfollow).
    following_at INTEGER NOT NULL,
    first_seen_at INTEGER NOT NULL,
    last_event_at INTEGER NOT NULL
);
CREATE TABLE line_webhook_events (
    event_id TEXT PRIMARY KEY,
    received_at INTEGER NOT NULL
);
CREATE TABLE line_unlinked_messages (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    line_user_id TEXT NOT NULL,
    kind TEXT NOT NULL,
    body TEXT NOT NULL,
    occurred_at INTEGER NOT NULL
);
CREATE INDEX line_unlinked_messages_user ON line_unlinked_messages(line_user_id, occurred_at);
