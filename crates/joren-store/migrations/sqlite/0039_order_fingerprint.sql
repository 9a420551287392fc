-- Orders keep the 16-byte fingerprint of their request (joren_core::fingerprint: the first half
-- of the SHA-256 they kept in 64 hex digits, so a retry sent before the upgrade still matches)
-- instead of the hex text: 48 bytes less per order. The column keeps its declared type; a TEXT
-- column stores a BLOB as it is given. The key records of orders keep the same half as text.
UPDATE orders SET request_hash = COALESCE(unhex(substr(request_hash, 1, 32)), CAST(request_hash AS BLOB))
WHERE typeof(request_hash) = 'text';
UPDATE idempotency_keys SET request_hash = substr(request_hash, 1, 32)
WHERE scope = 'orders.create' AND length(request_hash) = 64;
