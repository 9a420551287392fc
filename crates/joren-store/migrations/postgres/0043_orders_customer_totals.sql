-- A customer's orders with what their totals need (status, total, refunded) carried in the
-- index (INCLUDE): the customer 360's purchase totals, the rank's spend over twelve months
-- and the cross-sell's owned products can be answered from the index (an index-only scan
-- once the table is vacuumed). Replaces `orders_customer (customer_id, ordered_at)`.
DROP INDEX IF EXISTS orders_customer;
CREATE INDEX IF NOT EXISTS orders_customer_totals ON orders (customer_id, ordered_at) INCLUDE (status, total, refunded);
