-- The decision audit (decision 0017): one row per block of decisions, written behind the
-- answers. A block is one bulk call, or the single decisions a node made in one flush
-- interval. Its id is the decision ids' common prefix: a decision id is the block id with its
-- low 17 bits set to the decision's index in the block, so a decision is found by one key
-- lookup. `body` holds the compact decisions (encoding in `vern-server`'s
-- `vault/decision_log.rs`): subject id or the kind and blind index of the identifier asked
-- by, purpose, channel, message class, allowed, basis, reason, policy version and time. No
-- plaintext identifier. Rows are never updated.
CREATE TABLE decision_log (
    tenant_id  BYTEA   NOT NULL,
    id         BYTEA   NOT NULL,
    created_at BIGINT  NOT NULL,
    n          BIGINT  NOT NULL,
    body       BYTEA   NOT NULL,
    PRIMARY KEY (tenant_id, id)
);

-- vern_refuse_change() comes from 0001.
CREATE TRIGGER decision_log_no_update BEFORE UPDATE ON decision_log
    FOR EACH ROW EXECUTE FUNCTION vern_refuse_change();
