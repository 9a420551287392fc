-- The referral programme: each customer's code (made when first asked for), and each referral
-- from the moment the new customer is recorded until their first order rewards both sides
-- (the lots granted are kept so a refund takes exactly them back).
CREATE TABLE referral_codes (
    customer_id INTEGER PRIMARY KEY REFERENCES customers(id),
    code TEXT NOT NULL UNIQUE,
    created_at INTEGER NOT NULL
);
CREATE TABLE referrals (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    referrer_id INTEGER NOT NULL REFERENCES customers(id),
    referred_id INTEGER NOT NULL UNIQUE REFERENCES customers(id),
    code TEXT NOT NULL,
    -- pending → rewarded → reversed
    status TEXT NOT NULL,
    -- page (the customer signed up by the link), staff, api
    via TEXT NOT NULL,
    by_name TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    order_id INTEGER REFERENCES orders(id),
    rewarded_at INTEGER,
    referrer_points INTEGER NOT NULL DEFAULT 0,
    referred_points INTEGER NOT NULL DEFAULT 0,
    referrer_lot_id INTEGER,
    referred_lot_id INTEGER,
    -- the referrer was at the monthly limit: the new customer was rewarded, they were not
    over_limit INTEGER NOT NULL DEFAULT 0,
    reversed_at INTEGER
);
CREATE INDEX referrals_referrer ON referrals(referrer_id, rewarded_at);
CREATE INDEX referrals_order ON referrals(order_id);
CREATE INDEX referrals_status ON referrals(status, created_at);
