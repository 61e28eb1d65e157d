-- Retention (SQLite dialect; must stay in step with ../postgres/0003_retention.sql).
--
-- Each record carries its expiry, computed by the application from the policy on every write
-- and on a policy change, so a sweep reads the expired range of one index and nothing else.

ALTER TABLE records ADD COLUMN expires_at INTEGER;
-- The rule (or erasure exception) that set expires_at, by policy id.
ALTER TABLE records ADD COLUMN retention_rule TEXT;
-- Named event times as a JSON object of Unix microseconds ({"application_deadline": …});
-- stored for recomputation, never queried into.
ALTER TABLE records ADD COLUMN event_times TEXT;

CREATE INDEX records_expiry_idx ON records (tenant_id, expires_at);

-- Legal holds suspend deletion for a subject, or for a matter across subjects (optionally only
-- some categories). Released holds stay, with who released them and why.
CREATE TABLE legal_holds (
    tenant_id      BLOB    NOT NULL,
    id             BLOB    NOT NULL,
    subject_id     BLOB,
    matter         TEXT,
    -- JSON array of category references; empty means every category.
    categories     TEXT    NOT NULL,
    reason         TEXT    NOT NULL,
    review_at      INTEGER NOT NULL,
    approved_by    TEXT    NOT NULL,
    created_by     TEXT    NOT NULL,
    created_at     INTEGER NOT NULL,
    released_at    INTEGER,
    released_by    TEXT,
    release_reason TEXT,
    PRIMARY KEY (tenant_id, id)
) STRICT, WITHOUT ROWID;

CREATE INDEX legal_holds_active_idx ON legal_holds (tenant_id, released_at);

-- Proof of every retention deletion: rule, category, subject pseudonym (its id), count. No
-- personal data. Append-only; each sweep batch is also summarised in the audit hash chain.
CREATE TABLE deletion_evidence (
    tenant_id  BLOB    NOT NULL,
    id         BLOB    NOT NULL,
    at         INTEGER NOT NULL,
    subject_id BLOB    NOT NULL,
    rule       TEXT    NOT NULL,
    category   TEXT    NOT NULL,
    action     TEXT    NOT NULL,
    count      INTEGER NOT NULL,
    PRIMARY KEY (tenant_id, id)
) STRICT, WITHOUT ROWID;

CREATE INDEX deletion_evidence_subject_idx ON deletion_evidence (tenant_id, subject_id);

CREATE TRIGGER deletion_evidence_no_update BEFORE UPDATE ON deletion_evidence
BEGIN
    SELECT RAISE(ABORT, 'append-only: deletion_evidence cannot be updated');
END;

CREATE TRIGGER deletion_evidence_no_delete BEFORE DELETE ON deletion_evidence
BEGIN
    SELECT RAISE(ABORT, 'append-only: deletion_evidence cannot be deleted from');
END;

-- Subjects whose last record a sweep deleted: their key (in the key store, another database)
-- is shredded after the data commit, and the row removed then. A crash in between leaves the
-- row, and the next sweep finishes the shredding.
CREATE TABLE pending_key_shreds (
    tenant_id  BLOB    NOT NULL,
    subject_id BLOB    NOT NULL,
    at         INTEGER NOT NULL,
    PRIMARY KEY (tenant_id, subject_id)
) STRICT, WITHOUT ROWID;

-- The job queue: sweeps, mail, reminders. A job is claimed by taking a lease (lease_owner,
-- lease_until); a lease that runs out (a crashed node) makes the job claimable again.
-- state: queued | running | done | dead (dead letters: attempts exhausted).
CREATE TABLE jobs (
    id           BLOB    NOT NULL,
    kind         TEXT    NOT NULL,
    payload      TEXT    NOT NULL,
    state        TEXT    NOT NULL,
    run_at       INTEGER NOT NULL,
    attempts     INTEGER NOT NULL,
    max_attempts INTEGER NOT NULL,
    lease_owner  TEXT,
    lease_until  INTEGER,
    last_error   TEXT,
    -- At most one job per key (a day's sweep): scheduling twice is a no-op.
    unique_key   TEXT,
    created_at   INTEGER NOT NULL,
    updated_at   INTEGER NOT NULL,
    PRIMARY KEY (id)
) STRICT, WITHOUT ROWID;

CREATE INDEX jobs_due_idx ON jobs (state, run_at);
CREATE UNIQUE INDEX jobs_unique_key ON jobs (unique_key);
