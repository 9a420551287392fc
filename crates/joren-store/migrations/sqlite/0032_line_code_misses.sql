-- Link codes sent by a LINE user that matched no live code, counted per hour: after
-- 10 misses in an hour the user's codes are not looked up until the hour is over, so the
-- hundred million 8-digit codes cannot be walked through from one account.
ALTER TABLE line_users ADD COLUMN code_misses INTEGER NOT NULL DEFAULT 0;
ALTER TABLE line_users ADD COLUMN code_misses_since INTEGER NOT NULL DEFAULT 0;
