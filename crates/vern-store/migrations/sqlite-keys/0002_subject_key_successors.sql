-- The key that replaces a subject's key when an erasure on request keeps some records (e.g.
-- invoices under bookkeeping law): the kept records are re-sealed under it in the data store and
-- the old key, which opened everything that was erased (in backups too), is then destroyed.
-- The successor is written here before the data changes, and promoted over subject_keys once
-- the data transaction has committed; the data store's partial_erasures row names it by the
-- SHA-256 of its wrapped bytes, which is how a restarted node finishes an interrupted promotion.
-- In step with ../postgres-keys/0002_subject_key_successors.sql.
CREATE TABLE subject_key_successors (
    tenant_id   BLOB    NOT NULL,
    subject_id  BLOB    NOT NULL,
    kek_id      BLOB    NOT NULL,
    wrapped_key BLOB    NOT NULL,
    created_at  INTEGER NOT NULL,
    PRIMARY KEY (tenant_id, subject_id)
) STRICT, WITHOUT ROWID;
