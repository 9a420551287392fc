-- Customer search at a million customers: an index of every three-character sequence of the
-- folded search text (FTS5's trigram tokenizer), so a word of three or more characters finds
-- its candidates without reading every customer. The text is indexed with a space in front,
-- so " 田中" (a space and a short word) is a trigram too: a word of one or two characters is
-- found where a name, kana, company, email or phone starts. Contentless (the text is
-- `customers.search_text`), no positions (a longer word is asked for as its trigrams ANDed,
-- then checked exactly against the text). Kept in step with the customers by triggers, so
-- every write path — forms, API, imports, merges — keeps it right.
CREATE VIRTUAL TABLE customer_search USING fts5(
    text, tokenize = 'trigram', content = '', contentless_delete = 1, detail = 'none'
);
INSERT INTO customer_search (rowid, text) SELECT id, ' ' || search_text FROM customers;
CREATE TRIGGER customers_search_insert AFTER INSERT ON customers BEGIN
    INSERT INTO customer_search (rowid, text) VALUES (new.id, ' ' || new.search_text);
END;
CREATE TRIGGER customers_search_update AFTER UPDATE OF search_text ON customers
WHEN old.search_text IS NOT new.search_text BEGIN
    DELETE FROM customer_search WHERE rowid = old.id;
    INSERT INTO customer_search (rowid, text) VALUES (new.id, ' ' || new.search_text);
END;
CREATE TRIGGER customers_search_delete AFTER DELETE ON customers BEGIN
    DELETE FROM customer_search WHERE rowid = old.id;
END;
