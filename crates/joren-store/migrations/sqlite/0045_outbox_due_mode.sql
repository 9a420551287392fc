-- Due messages by mode: a delivery worker claims test-mode messages (kept in the outbox, nothing
-- leaves the machine) in large batches and live ones in small batches (a crash can send the
-- live ones it had claimed twice), each on its own part of this index.
DROP INDEX outbox_due;
CREATE INDEX outbox_due ON outbox (test_mode, not_before, id) WHERE state = 'queued';
