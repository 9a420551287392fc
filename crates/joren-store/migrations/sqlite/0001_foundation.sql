-- Joren foundation schema (SQLite). Times are UTC milliseconds since the Unix epoch.
CREATE TABLE users (
    id INTEGER PRIMARY KEY,
    username TEXT NOT NULL UNIQUE,
    display_name TEXT NOT NULL DEFAULT '',
    role TEXT NOT NULL CHECK (role IN ('owner', 'staff', 'viewer')),
    password_hash TEXT NOT NULL,
    disabled INTEGER NOT NULL DEFAULT 0,
    created_at INTEGER NOT NULL
);

CREATE TABLE sessions (
    token_hash TEXT PRIMARY KEY,
    user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    csrf_token TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL
);

CREATE TABLE api_tokens (
    id INTEGER PRIMARY KEY,
    user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    token_hash TEXT NOT NULL UNIQUE,
    created_at INTEGER NOT NULL,
    last_used_at INTEGER,
    revoked_at INTEGER
);

CREATE TABLE customers (
    id INTEGER PRIMARY KEY,
    kind TEXT NOT NULL DEFAULT 'person' CHECK (kind IN ('person', 'account')),
    family_name TEXT NOT NULL DEFAULT '',
    given_name TEXT NOT NULL DEFAULT '',
    family_name_kana TEXT NOT NULL DEFAULT '',
    given_name_kana TEXT NOT NULL DEFAULT '',
    company_name TEXT NOT NULL DEFAULT '',
    email TEXT,
    phone TEXT,
    line_user_id TEXT,
    birthday TEXT,
    gender TEXT,
    postal_code TEXT,
    prefecture TEXT,
    city TEXT,
    street TEXT,
    building TEXT,
    notes TEXT NOT NULL DEFAULT '',
    preferences TEXT NOT NULL DEFAULT '',
    owner_user_id INTEGER REFERENCES users(id) ON DELETE SET NULL,
    acquisition_source TEXT,
    acquisition_campaign TEXT,
    search_text TEXT NOT NULL DEFAULT '',
    merged_into INTEGER REFERENCES customers(id),
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
);
CREATE INDEX customers_email ON customers(email);
CREATE INDEX customers_phone ON customers(phone);
CREATE INDEX customers_kana ON customers(family_name_kana, given_name_kana);
CREATE INDEX customers_line ON customers(line_user_id);

CREATE TABLE customer_tags (
    customer_id INTEGER NOT NULL REFERENCES customers(id) ON DELETE CASCADE,
    tag TEXT NOT NULL,
    PRIMARY KEY (customer_id, tag)
);
CREATE INDEX customer_tags_tag ON customer_tags(tag);

CREATE TABLE customer_external_ids (
    customer_id INTEGER NOT NULL REFERENCES customers(id) ON DELETE CASCADE,
    system TEXT NOT NULL,
    external_id TEXT NOT NULL,
    PRIMARY KEY (system, external_id)
);
CREATE INDEX customer_external_ids_customer ON customer_external_ids(customer_id);

CREATE TABLE consent_events (
    id INTEGER PRIMARY KEY,
    customer_id INTEGER NOT NULL REFERENCES customers(id) ON DELETE CASCADE,
    channel TEXT NOT NULL CHECK (channel IN ('email', 'sms', 'line', 'dm')),
    granted INTEGER NOT NULL,
    source TEXT NOT NULL,
    recorded_by INTEGER REFERENCES users(id) ON DELETE SET NULL,
    at INTEGER NOT NULL
);
CREATE INDEX consent_events_customer ON consent_events(customer_id, channel, at);

CREATE TABLE contacts (
    id INTEGER PRIMARY KEY,
    customer_id INTEGER NOT NULL REFERENCES customers(id) ON DELETE CASCADE,
    family_name TEXT NOT NULL,
    given_name TEXT NOT NULL DEFAULT '',
    family_name_kana TEXT NOT NULL DEFAULT '',
    given_name_kana TEXT NOT NULL DEFAULT '',
    department TEXT NOT NULL DEFAULT '',
    role TEXT NOT NULL DEFAULT '',
    email TEXT,
    phone TEXT,
    line_user_id TEXT,
    notes TEXT NOT NULL DEFAULT '',
    created_at INTEGER NOT NULL
);
CREATE INDEX contacts_customer ON contacts(customer_id);

CREATE TABLE customer_merges (
    id INTEGER PRIMARY KEY,
    survivor_id INTEGER NOT NULL REFERENCES customers(id),
    merged_id INTEGER NOT NULL REFERENCES customers(id),
    merged_by INTEGER REFERENCES users(id) ON DELETE SET NULL,
    snapshot TEXT NOT NULL,
    at INTEGER NOT NULL
);

CREATE TABLE orders (
    id INTEGER PRIMARY KEY,
    customer_id INTEGER NOT NULL REFERENCES customers(id),
    external_id TEXT UNIQUE,
    request_hash TEXT NOT NULL,
    ordered_at INTEGER NOT NULL,
    channel TEXT NOT NULL,
    currency TEXT NOT NULL,
    prices_include_tax INTEGER NOT NULL,
    subtotal INTEGER NOT NULL,
    shipping INTEGER NOT NULL,
    discount INTEGER NOT NULL,
    tax INTEGER NOT NULL,
    total INTEGER NOT NULL,
    refunded INTEGER NOT NULL DEFAULT 0,
    status TEXT NOT NULL,
    note TEXT NOT NULL DEFAULT '',
    created_at INTEGER NOT NULL
);
CREATE INDEX orders_customer ON orders(customer_id, ordered_at);
CREATE INDEX orders_ordered_at ON orders(ordered_at);

CREATE TABLE order_items (
    order_id INTEGER NOT NULL REFERENCES orders(id) ON DELETE CASCADE,
    line_no INTEGER NOT NULL,
    sku TEXT NOT NULL,
    name TEXT NOT NULL,
    category TEXT NOT NULL,
    quantity INTEGER NOT NULL,
    unit_price INTEGER NOT NULL,
    tax_rate INTEGER NOT NULL,
    amount INTEGER NOT NULL,
    PRIMARY KEY (order_id, line_no)
);

CREATE TABLE order_adjustments (
    id INTEGER PRIMARY KEY,
    order_id INTEGER NOT NULL REFERENCES orders(id),
    kind TEXT NOT NULL CHECK (kind IN ('refund', 'cancel')),
    amount INTEGER NOT NULL,
    reason TEXT NOT NULL DEFAULT '',
    created_by INTEGER REFERENCES users(id) ON DELETE SET NULL,
    at INTEGER NOT NULL
);
CREATE INDEX order_adjustments_order ON order_adjustments(order_id);

CREATE TABLE interactions (
    id INTEGER PRIMARY KEY,
    customer_id INTEGER NOT NULL REFERENCES customers(id),
    contact_id INTEGER REFERENCES contacts(id) ON DELETE SET NULL,
    kind TEXT NOT NULL,
    direction TEXT NOT NULL CHECK (direction IN ('in', 'out')),
    staff_user_id INTEGER REFERENCES users(id) ON DELETE SET NULL,
    subject TEXT NOT NULL DEFAULT '',
    body TEXT NOT NULL DEFAULT '',
    occurred_at INTEGER NOT NULL,
    created_at INTEGER NOT NULL
);
CREATE INDEX interactions_customer ON interactions(customer_id, occurred_at);

CREATE TABLE idempotency_keys (
    scope TEXT NOT NULL,
    key TEXT NOT NULL,
    request_hash TEXT NOT NULL,
    status INTEGER NOT NULL,
    response TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    PRIMARY KEY (scope, key)
);

CREATE TABLE audit_log (
    id INTEGER PRIMARY KEY,
    at INTEGER NOT NULL,
    user_id INTEGER REFERENCES users(id) ON DELETE SET NULL,
    actor TEXT NOT NULL,
    action TEXT NOT NULL,
    entity TEXT NOT NULL,
    entity_id TEXT NOT NULL,
    detail TEXT NOT NULL DEFAULT '{}'
);
CREATE INDEX audit_log_entity ON audit_log(entity, entity_id);
