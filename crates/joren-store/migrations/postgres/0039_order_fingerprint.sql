-- Orders keep the 16-byte fingerprint of their request (joren_core::fingerprint: the first half
-- of the SHA-256 they kept in 64 hex digits, so a retry sent before the upgrade still matches)
-- instead of the hex text: 48 bytes less per order. The key records of orders keep the same
-- half as text.
ALTER TABLE orders ALTER COLUMN request_hash TYPE BYTEA USING
    CASE WHEN request_hash ~ '^[0-9a-f]{32}' THEN decode(substr(request_hash, 1, 32), 'hex')
         ELSE convert_to(request_hash, 'UTF8') END;
UPDATE idempotency_keys SET request_hash = substr(request_hash, 1, 32)
WHERE scope = 'orders.create' AND length(request_hash) = 64;
