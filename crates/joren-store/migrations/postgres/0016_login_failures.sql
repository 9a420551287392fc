-- Failed logins per account ('user:NAME') and per client address ('ip:ADDR'): a key with too
-- many recent failures is locked for a while (exponentially longer, at most 15 minutes), so a
-- flood of guesses is refused before any password hashing. Shared by every process.
CREATE TABLE login_failures (
    key TEXT PRIMARY KEY,
    failures BIGINT NOT NULL,
    locked_until BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
