-- Complaint cases: who, what about (a root-cause category), where it came from (staff, an
-- inbox conversation, an unhappy survey answer — each once, by its source key), the stage it
-- stands at, the first response's deadline counted on the shop's business days, when it was
-- answered and escalated, the promised date, and the prevention recorded at the end. Each
-- step taken is a row of its own: when and by whom.
CREATE TABLE cases (
    id BIGSERIAL PRIMARY KEY,
    customer_id BIGINT REFERENCES customers(id),
    conversation_id BIGINT,
    response_id BIGINT,
    source TEXT NOT NULL,
    source_key TEXT NOT NULL UNIQUE,
    title TEXT NOT NULL,
    category TEXT NOT NULL DEFAULT '',
    stage TEXT NOT NULL,
    assignee_id BIGINT,
    opened_at BIGINT NOT NULL,
    due_at BIGINT,
    escalate_at BIGINT,
    first_response_at BIGINT,
    escalated_at BIGINT,
    promised_on TEXT,
    carried_out_at BIGINT,
    root_cause TEXT NOT NULL DEFAULT '',
    prevention TEXT NOT NULL DEFAULT '',
    closed_at BIGINT,
    created_by BIGINT,
    updated_at BIGINT NOT NULL
);
CREATE INDEX cases_customer ON cases(customer_id, opened_at);
CREATE INDEX cases_open ON cases(closed_at, escalate_at);
CREATE TABLE case_steps (
    id BIGSERIAL PRIMARY KEY,
    case_id BIGINT NOT NULL REFERENCES cases(id),
    stage TEXT NOT NULL,
    note TEXT NOT NULL DEFAULT '',
    by_user_id BIGINT,
    by_name TEXT NOT NULL,
    at BIGINT NOT NULL,
    UNIQUE (case_id, stage)
);
