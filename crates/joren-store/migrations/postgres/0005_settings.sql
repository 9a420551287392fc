-- Shop-wide settings edited by the owner (e.g. the industry the dashboard compares with).
CREATE TABLE settings (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL,
    updated_at BIGINT NOT NULL
);
