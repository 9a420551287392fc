-- Surveys (the voice of the customer): a survey's questions (JSON, checked by the app), the
-- invitations sent (each with its own token for the public page, where it came from — a
-- scenario's run and step, staff by hand, a closed case — and until when it may be
-- answered), and one response per invitation: the answers as given (JSON by question key),
-- the standard scores pulled out for reporting (NPS 0–10, CSAT 1–5, CES 1–7; NULL when the
-- survey does not ask or the customer skipped) and the free text joined for searching.
CREATE TABLE surveys (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    name TEXT NOT NULL UNIQUE,
    title TEXT NOT NULL,
    intro TEXT NOT NULL DEFAULT '',
    thanks TEXT NOT NULL DEFAULT '',
    questions TEXT NOT NULL,
    valid_days INTEGER NOT NULL DEFAULT 30,
    archived INTEGER NOT NULL DEFAULT 0,
    created_by INTEGER,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
);
CREATE TABLE survey_invitations (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    survey_id INTEGER NOT NULL REFERENCES surveys(id),
    customer_id INTEGER NOT NULL REFERENCES customers(id),
    token TEXT NOT NULL UNIQUE,
    channel TEXT NOT NULL,
    source TEXT NOT NULL,
    source_key TEXT NOT NULL UNIQUE,
    scenario_id INTEGER,
    order_id INTEGER,
    created_by INTEGER,
    sent_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL
);
CREATE INDEX survey_invitations_survey ON survey_invitations(survey_id, sent_at);
CREATE INDEX survey_invitations_customer ON survey_invitations(customer_id, sent_at);
CREATE TABLE survey_responses (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    invitation_id INTEGER NOT NULL UNIQUE REFERENCES survey_invitations(id),
    survey_id INTEGER NOT NULL REFERENCES surveys(id),
    customer_id INTEGER NOT NULL REFERENCES customers(id),
    answers TEXT NOT NULL,
    nps INTEGER,
    csat INTEGER,
    ces INTEGER,
    free_text TEXT NOT NULL DEFAULT '',
    complete INTEGER NOT NULL DEFAULT 1,
    answered_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
);
CREATE INDEX survey_responses_survey ON survey_responses(survey_id, answered_at);
CREATE INDEX survey_responses_customer ON survey_responses(customer_id, answered_at);
