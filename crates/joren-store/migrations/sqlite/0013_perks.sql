-- Member-only perks (joren_core::perk): open to a customer who meets any gate — a rank level,
-- an active membership of a plan, or a saved segment.
CREATE TABLE perks (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL,
    description TEXT NOT NULL DEFAULT '',
    kind TEXT NOT NULL,
    min_rank_level INTEGER,
    membership_plan_id INTEGER REFERENCES membership_plans(id),
    segment_id INTEGER REFERENCES saved_segments(id) ON DELETE SET NULL,
    active INTEGER NOT NULL DEFAULT 1,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
);
