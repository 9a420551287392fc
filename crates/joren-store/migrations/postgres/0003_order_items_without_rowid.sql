-- SQLite's 0003 clusters order_items on (order_id, line_no). PostgreSQL tables have no rowid
-- and already keep that primary key as their only index: nothing to change. The step exists
-- so both backends share one migration history.
SELECT 1;
