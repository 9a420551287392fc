-- Events of one kind in a period (the scenario editor's "who would have entered in the last
-- 30 days" preview) without scanning the whole log.
CREATE INDEX events_kind ON events (kind, occurred_at);
