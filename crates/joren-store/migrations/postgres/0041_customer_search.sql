-- Customer search at a million customers: a trigram index (pg_trgm, a trusted extension that
-- managed PostgreSQL services offer) over the folded search text with a space in front, so
-- `LIKE '%word%'` finds a word of three or more characters anywhere and `LIKE '% 田中%'` a
-- short word where a name, kana, company, email or phone starts, without reading every
-- customer.
CREATE EXTENSION IF NOT EXISTS pg_trgm;
CREATE INDEX customers_search_trgm ON customers USING gin ((' ' || search_text) gin_trgm_ops);
