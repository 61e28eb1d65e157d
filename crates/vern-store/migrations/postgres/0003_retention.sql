-- Retention (PostgreSQL dialect; must stay in step with ../sqlite/0003_retention.sql).
--
-- Each record carries its expiry, computed by the application from the policy on every write
-- and on a policy change, so a sweep reads the expired range of one index and nothing else.

ALTER TABLE records ADD COLUMN expires_at BIGINT;
ALTER TABLE records ADD COLUMN retention_rule TEXT;
ALTER TABLE records ADD COLUMN event_times TEXT;

CREATE INDEX records_expiry_idx ON records (tenant_id, expires_at);

CREATE TABLE legal_holds (
    tenant_id      BYTEA  NOT NULL,
    id             BYTEA  NOT NULL,
    subject_id     BYTEA,
    matter         TEXT,
    categories     TEXT   NOT NULL,
    reason         TEXT   NOT NULL,
    review_at      BIGINT NOT NULL,
    approved_by    TEXT   NOT NULL,
    created_by     TEXT   NOT NULL,
    created_at     BIGINT NOT NULL,
    released_at    BIGINT,
    released_by    TEXT,
    release_reason TEXT,
    PRIMARY KEY (tenant_id, id)
);

CREATE INDEX legal_holds_active_idx ON legal_holds (tenant_id, released_at);

CREATE TABLE deletion_evidence (
    tenant_id  BYTEA  NOT NULL,
    id         BYTEA  NOT NULL,
    at         BIGINT NOT NULL,
    subject_id BYTEA  NOT NULL,
    rule       TEXT   NOT NULL,
    category   TEXT   NOT NULL,
    action     TEXT   NOT NULL,
    count      BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, id)
);

CREATE INDEX deletion_evidence_subject_idx ON deletion_evidence (tenant_id, subject_id);

CREATE TRIGGER deletion_evidence_no_update BEFORE UPDATE ON deletion_evidence
    FOR EACH ROW EXECUTE FUNCTION vern_refuse_change();
CREATE TRIGGER deletion_evidence_no_delete BEFORE DELETE ON deletion_evidence
    FOR EACH ROW EXECUTE FUNCTION vern_refuse_change();
CREATE TRIGGER deletion_evidence_no_truncate BEFORE TRUNCATE ON deletion_evidence
    FOR EACH STATEMENT EXECUTE FUNCTION vern_refuse_change();

CREATE TABLE pending_key_shreds (
    tenant_id  BYTEA  NOT NULL,
    subject_id BYTEA  NOT NULL,
    at         BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, subject_id)
);

CREATE TABLE jobs (
    id           BYTEA  NOT NULL,
    kind         TEXT   NOT NULL,
    payload      TEXT   NOT NULL,
    state        TEXT   NOT NULL,
    run_at       BIGINT NOT NULL,
    attempts     BIGINT NOT NULL,
    max_attempts BIGINT NOT NULL,
    lease_owner  TEXT,
    lease_until  BIGINT,
    last_error   TEXT,
    unique_key   TEXT,
    created_at   BIGINT NOT NULL,
    updated_at   BIGINT NOT NULL,
    PRIMARY KEY (id)
);

CREATE INDEX jobs_due_idx ON jobs (state, run_at);
CREATE UNIQUE INDEX jobs_unique_key ON jobs (unique_key);
