-- Figures the dashboard shows, computed with each snapshot so a large shop's dashboard does
-- not read every order and every customer's metrics on each view:
-- - kind 'activity': what the period KPIs and cohorts need from the order log
--   (joren_analytics::activity, encoded), one row per acquisition source ('' for none);
-- - kind 'dashboard': segment sizes and the CLV histogram (JSON), grp ''.
CREATE TABLE snapshot_figures (
    snapshot_id INTEGER NOT NULL REFERENCES metric_snapshots(id) ON DELETE CASCADE,
    kind TEXT NOT NULL,
    grp TEXT NOT NULL,
    data BLOB NOT NULL,
    PRIMARY KEY (snapshot_id, kind, grp)
);
