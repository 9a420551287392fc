-- Pairs of customers staff said are different people (a family sharing a phone or an email):
-- the duplicate suggestions leave them out. The lower id first.
CREATE TABLE duplicate_dismissals (
    first_id INTEGER NOT NULL REFERENCES customers(id) ON DELETE CASCADE,
    second_id INTEGER NOT NULL REFERENCES customers(id) ON DELETE CASCADE,
    user_id INTEGER,
    created_at INTEGER NOT NULL,
    PRIMARY KEY (first_id, second_id)
);
