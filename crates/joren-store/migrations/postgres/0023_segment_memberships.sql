-- Who was in each saved segment at the last daily check, so a scenario can start when a
-- customer enters or leaves one; segment_checks marks a segment checked at least once (its
-- first check only records who is in it: nobody "entered" a segment that was just made).
CREATE TABLE segment_memberships (
    segment_id BIGINT NOT NULL REFERENCES saved_segments(id) ON DELETE CASCADE,
    customer_id BIGINT NOT NULL,
    since BIGINT NOT NULL,
    PRIMARY KEY (segment_id, customer_id)
);
CREATE TABLE segment_checks (
    segment_id BIGINT PRIMARY KEY REFERENCES saved_segments(id) ON DELETE CASCADE,
    checked_at BIGINT NOT NULL
);
