-- SMS, inbound: the gateway's messages already applied (a gateway retries a webhook call with
-- the same message id), and messages from numbers no customer has (kept for the inbox until
-- staff put the number on a customer).
CREATE TABLE sms_inbound (
    message_id TEXT PRIMARY KEY,
    received_at INTEGER NOT NULL
);
CREATE TABLE sms_unknown_messages (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    phone TEXT NOT NULL,
    body TEXT NOT NULL,
    occurred_at INTEGER NOT NULL
);
CREATE INDEX sms_unknown_messages_phone ON sms_unknown_messages(phone, occurred_at);
