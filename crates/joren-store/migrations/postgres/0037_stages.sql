-- Customer-success stages: where each customer stands (set by the nightly rules, or by staff —
-- then it stays until staff change it) and every change, from which the funnel's time per
-- stage is read.
CREATE TABLE customer_stages (
    customer_id BIGINT PRIMARY KEY REFERENCES customers(id),
    stage TEXT NOT NULL,
    since_at BIGINT NOT NULL,
    by_staff INTEGER NOT NULL DEFAULT 0,
    updated_at BIGINT NOT NULL
);
CREATE INDEX customer_stages_stage ON customer_stages(stage);
CREATE TABLE stage_changes (
    id BIGSERIAL PRIMARY KEY,
    customer_id BIGINT NOT NULL REFERENCES customers(id),
    from_stage TEXT,
    to_stage TEXT NOT NULL,
    by_staff INTEGER NOT NULL DEFAULT 0,
    by_name TEXT NOT NULL,
    at BIGINT NOT NULL
);
CREATE INDEX stage_changes_customer ON stage_changes(customer_id, at);
