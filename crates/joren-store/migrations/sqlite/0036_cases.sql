-- Complaint cases: who, what about (a root-cause category), where it came from (staff, an
-- inbox conversation, an unhappy survey answer — each once, by its source key), the stage it
-- stands at, the first response's deadline counted on the shop's business days, when it was
-- answered and escalated, the promised date, and the prevention recorded at the end. Each
-- step taken is a row of its own: when and by whom.
CREATE TABLE cases (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    customer_id INTEGER REFERENCES customers(id),
    conversation_id INTEGER,
    response_id INTEGER,
    source TEXT NOT NULL,
    source_key TEXT NOT NULL UNIQUE,
    title TEXT NOT NULL,
    category TEXT NOT NULL DEFAULT '',
    stage TEXT NOT NULL,
    assignee_id INTEGER,
    opened_at INTEGER NOT NULL,
    due_at INTEGER,
    escalate_at INTEGER,
    first_response_at INTEGER,
    escalated_at INTEGER,
    promised_on TEXT,
    carried_out_at INTEGER,
    root_cause TEXT NOT NULL DEFAULT '',
    prevention TEXT NOT NULL DEFAULT '',
    closed_at INTEGER,
    created_by INTEGER,
    updated_at INTEGER NOT NULL
);
CREATE INDEX cases_customer ON cases(customer_id, opened_at);
CREATE INDEX cases_open ON cases(closed_at, escalate_at);
CREATE TABLE case_steps (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    case_id INTEGER NOT NULL REFERENCES cases(id),
    stage TEXT NOT NULL,
    note TEXT NOT NULL DEFAULT '',
    by_user_id INTEGER,
    by_name TEXT NOT NULL,
    at INTEGER NOT NULL,
    UNIQUE (case_id, stage)
);
