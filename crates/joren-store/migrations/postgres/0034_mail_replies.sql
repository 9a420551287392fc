-- Replies by email, read from the shop's mailbox over IMAP: each mail applied once (by its
-- Message-ID), the mailbox read from where the last poll stopped (its UIDVALIDITY and the last
-- UID seen, written in the transaction that stores the mail), mail from addresses no customer
-- has kept for the inbox, and each email conversation's thread (the customer's last mail's
-- Message-ID, its References and subject) so a staff answer threads under it.
CREATE TABLE mail_inbound (
    message_id TEXT PRIMARY KEY,
    received_at BIGINT NOT NULL
);
CREATE TABLE mailbox_cursors (
    mailbox TEXT PRIMARY KEY,
    uid_validity BIGINT NOT NULL,
    last_uid BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE TABLE mail_unknown_messages (
    id BIGSERIAL PRIMARY KEY,
    address TEXT NOT NULL,
    subject TEXT NOT NULL,
    body TEXT NOT NULL,
    occurred_at BIGINT NOT NULL
);
CREATE INDEX mail_unknown_messages_address ON mail_unknown_messages(address, occurred_at);
ALTER TABLE conversations ADD COLUMN thread_message_id TEXT NOT NULL DEFAULT '';
ALTER TABLE conversations ADD COLUMN thread_references TEXT NOT NULL DEFAULT '';
ALTER TABLE conversations ADD COLUMN thread_subject TEXT NOT NULL DEFAULT '';
