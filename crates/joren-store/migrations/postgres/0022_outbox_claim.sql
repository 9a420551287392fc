-- Claiming due mail reads the queue in (not_before, id) order: the index holds both, so a
-- claim of 20 reads 20 entries however long the queue is.
DROP INDEX outbox_due;
CREATE INDEX outbox_due ON outbox (not_before, id) WHERE state = 'queued';
DROP INDEX outbox_leased;
CREATE INDEX outbox_leased ON outbox (lease_until, id) WHERE state = 'sending';
