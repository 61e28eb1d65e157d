-- The email that carries a sub-processor notice to a processor customer: the outbox message
-- written in the same transaction as the notice (NULL for notices from before this migration).
ALTER TABLE subprocessor_notices ADD COLUMN outbox_id BYTEA;
