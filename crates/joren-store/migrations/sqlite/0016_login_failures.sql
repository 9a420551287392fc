-- Failed logins per account ('user:NAME') and per client address ('ip:ADDR'): a key with too
-- many recent failures is locked for a while (exponentially longer, at most 15 minutes), so a
-- flood of guesses is refused before any password hashing. Shared by every process.
CREATE TABLE login_failures (
    key TEXT PRIMARY KEY,
    failures INTEGER NOT NULL,
    locked_until INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
);
