-- A partial erasure re-seals the kept records under a fresh subject key and destroys the old
-- one; the ledger row names the fresh key by the SHA-256 of its wrapped bytes (no key material),
-- so a node restarted between the data commit and the key promotion can finish it. NULL for
-- rows written before this migration and for replays after a restore.
ALTER TABLE partial_erasures ADD COLUMN successor_key BYTEA;
