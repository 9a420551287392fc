-- The nightly run records a lot's first expiry on the lot itself (one row write a lot instead
-- of an entry row plus the lot's update): `expired_points` left it on `expired_day`. A lot
-- that expires again (points restored to it after it expired) gets an 'expire' entry as
-- before. `point_ledger` is every entry, those on lots included: read it, not
-- `point_entries`, wherever the whole ledger matters (a lot's `remaining` is the sum of its
-- ledger rows).
ALTER TABLE point_lots ADD COLUMN expired_points BIGINT NOT NULL DEFAULT 0 CHECK (expired_points >= 0);
ALTER TABLE point_lots ADD COLUMN expired_day BIGINT;
ALTER TABLE point_lots ADD COLUMN expired_at BIGINT;

CREATE VIEW point_ledger AS
    SELECT id, customer_id, lot_id, kind, points, day, redemption_id, settles_lot_id, created_at FROM point_entries
    UNION ALL
    SELECT -id, customer_id, id, 'expire', -expired_points, expired_day, CAST(NULL AS BIGINT), CAST(NULL AS BIGINT), expired_at FROM point_lots
    WHERE expired_points > 0;
