-- The job queue (joren_store::jobs): scheduled and triggered work shared by every process on
-- the database. A job with a dedupe key is enqueued once however many processes (or retries)
-- ask for it. A worker claims a job with a lease; a lease that runs out is reclaimed by
-- another worker, and the first worker's late completion is refused because the attempt
-- number moved on (fencing). A failure is retried with backoff until max_attempts, then the
-- job is dead with its reason until someone retries it.
CREATE TABLE jobs (
    id INTEGER PRIMARY KEY,
    kind TEXT NOT NULL,
    dedupe_key TEXT UNIQUE,
    payload TEXT NOT NULL DEFAULT '{}',
    state TEXT NOT NULL CHECK (state IN ('queued', 'running', 'done', 'dead')),
    run_at INTEGER NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    max_attempts INTEGER NOT NULL,
    lease_until INTEGER,
    worker TEXT,
    last_error TEXT,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    finished_at INTEGER
);
CREATE INDEX jobs_due ON jobs (run_at) WHERE state = 'queued';
CREATE INDEX jobs_leased ON jobs (lease_until) WHERE state = 'running';
CREATE INDEX jobs_state ON jobs (state, updated_at);
