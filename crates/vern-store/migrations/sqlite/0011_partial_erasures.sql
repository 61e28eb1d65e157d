-- Erasures on request that kept records under an erasure exception or legal hold (the subject
-- and its key stay for those). A restore replays them like the erasure ledger: everything of
-- the subject but the kept records goes again, so a backup taken before the request cannot
-- bring the erased records or identifiers back. Ids only, no personal data; append-only.
CREATE TABLE partial_erasures (
    tenant_id    BLOB    NOT NULL,
    id           BLOB    NOT NULL,
    subject_id   BLOB    NOT NULL,
    erased_at    INTEGER NOT NULL,
    -- JSON array of the record ids that were kept.
    kept_records TEXT    NOT NULL,
    PRIMARY KEY (tenant_id, id)
) STRICT, WITHOUT ROWID;

CREATE INDEX partial_erasures_subject ON partial_erasures (tenant_id, subject_id);

CREATE TRIGGER partial_erasures_no_update BEFORE UPDATE ON partial_erasures
BEGIN
    SELECT RAISE(ABORT, 'append-only: partial_erasures cannot be updated');
END;

CREATE TRIGGER partial_erasures_no_delete BEFORE DELETE ON partial_erasures
BEGIN
    SELECT RAISE(ABORT, 'append-only: partial_erasures cannot be deleted from');
END;
