-- The shop's own saved messages (subject and body with variables), picked in the scenario
-- editor: picking copies the text into the step, so a scenario version never changes when a
-- saved message is edited later.
CREATE TABLE message_templates (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    subject TEXT NOT NULL,
    body TEXT NOT NULL,
    marketing INTEGER NOT NULL DEFAULT 1,
    created_by INTEGER,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
);
