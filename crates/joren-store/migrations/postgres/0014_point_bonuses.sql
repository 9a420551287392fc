-- Bonuses granted once per period (the birthday bonus once a year): the row is written with
-- the bonus's lot, so a second run of the schedule finds it and grants nothing.
CREATE TABLE point_bonuses (
    customer_id BIGINT NOT NULL REFERENCES customers(id),
    kind TEXT NOT NULL,
    period BIGINT NOT NULL,
    lot_id BIGINT NOT NULL REFERENCES point_lots(id),
    created_at BIGINT NOT NULL,
    PRIMARY KEY (customer_id, kind, period)
);
