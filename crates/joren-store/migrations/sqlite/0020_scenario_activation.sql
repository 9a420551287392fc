-- When a scenario last became active (the store's clock, like events.occurred_at): an event
-- that happened before it triggers nothing, so activating a scenario on a shop with a history
-- of undispatched events does not answer old orders.
ALTER TABLE scenarios ADD COLUMN activated_at INTEGER;
