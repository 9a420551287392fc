-- Bonuses granted once per period (the birthday bonus once a year): the row is written with
-- the bonus's lot, so a second run of the schedule finds it and grants nothing.
CREATE TABLE point_bonuses (
    customer_id INTEGER NOT NULL REFERENCES customers(id),
    kind TEXT NOT NULL,
    period INTEGER NOT NULL,
    lot_id INTEGER NOT NULL REFERENCES point_lots(id),
    created_at INTEGER NOT NULL,
    PRIMARY KEY (customer_id, kind, period)
);
