-- Conversations (受信箱): what a customer — or a LINE friend not linked yet — wrote on a channel,
-- from their first message until staff close it. At most one open conversation per channel and
-- address (a LINE user id, an email address, a phone number): a new message joins it, or opens a
-- new one once the last was closed. Written in the transaction that stores the message; a staff
-- reply sets `first_response_at` once. Response and resolution times are read from these.
CREATE TABLE conversations (
    id INTEGER PRIMARY KEY,
    channel TEXT NOT NULL CHECK (channel IN ('line', 'email', 'sms')),
    address TEXT NOT NULL,
    customer_id INTEGER REFERENCES customers(id) ON DELETE CASCADE,
    state TEXT NOT NULL CHECK (state IN ('open', 'closed')),
    assignee_id INTEGER REFERENCES users(id) ON DELETE SET NULL,
    opened_at INTEGER NOT NULL,
    first_response_at INTEGER,
    closed_at INTEGER,
    last_inbound_at INTEGER NOT NULL,
    last_message_at INTEGER NOT NULL,
    -- The newest message's first words, for the list, and its kind when it is not text (a
    -- sticker, a photo: the pages word it).
    last_text TEXT NOT NULL,
    last_kind TEXT NOT NULL DEFAULT '',
    messages INTEGER NOT NULL DEFAULT 0,
    updated_at INTEGER NOT NULL
);
CREATE UNIQUE INDEX conversations_open ON conversations (channel, address) WHERE state = 'open';
CREATE INDEX conversations_list ON conversations (state, last_message_at, id);
CREATE INDEX conversations_customer ON conversations (customer_id, id);
