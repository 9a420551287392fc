-- One-time codes that link a LINE user to a customer: the shop shows a customer their code
-- (at the counter, on the customer page), the customer sends it to the shop's LINE account,
-- and the webhook links whoever sent it. A code works once and for a short time.
CREATE TABLE line_link_codes (
    code TEXT PRIMARY KEY,
    customer_id INTEGER NOT NULL REFERENCES customers(id) ON DELETE CASCADE,
    expires_at INTEGER NOT NULL,
    used_at INTEGER,
    created_at INTEGER NOT NULL
);
CREATE INDEX line_link_codes_customer ON line_link_codes(customer_id);
