-- The outbox carries LINE and SMS messages beside email: `channel` may be 'line' or 'sms',
-- and `payload` holds what the provider is sent when it is more than the text (LINE's message
-- objects: a card, quick replies).
ALTER TABLE outbox DROP CONSTRAINT outbox_channel_check;
ALTER TABLE outbox ADD CONSTRAINT outbox_channel_check CHECK (channel IN ('email', 'line', 'sms'));
ALTER TABLE outbox ADD COLUMN payload TEXT;
-- A message no scenario decided (a staff member's reply) is written once per customer,
-- channel and occurrence (the request's idempotency key): a resent form queues nothing new.
CREATE UNIQUE INDEX outbox_direct ON outbox (customer_id, channel, occurrence) WHERE scenario_id IS NULL;
