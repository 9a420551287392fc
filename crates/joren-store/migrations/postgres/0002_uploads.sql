-- Uploaded import files waiting between preview and run (kept in the database, not on local
-- disk, so several server processes can share them), with the report once run.
CREATE TABLE uploads (
    token TEXT PRIMARY KEY,
    user_id BIGINT REFERENCES users(id) ON DELETE CASCADE,
    kind TEXT NOT NULL,
    filename TEXT NOT NULL,
    content BYTEA NOT NULL,
    report TEXT,
    created_at BIGINT NOT NULL
);
