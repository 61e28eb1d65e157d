-- Policy versions, change notices, renewal-needed consents, processor customers and their
-- sub-processor notices and objections (SQLite). Must stay in step with
-- ../postgres/0009_policy_versions.sql (checked by the parity test).

-- Every policy the server has used or will use, with the text it was parsed from. The version
-- in force at time T is the one with the latest effective_at <= T (ties: latest published).
CREATE TABLE policy_versions (
    tenant_id      BLOB    NOT NULL,
    id             BLOB    NOT NULL,
    content_hash   TEXT    NOT NULL,
    source         TEXT    NOT NULL,
    published_at   INTEGER NOT NULL,
    effective_at   INTEGER NOT NULL,
    -- 'initial' | 'unchanged' | 'editorial' | 'material'
    class          TEXT    NOT NULL,
    -- JSON: the diff against the version it replaces, the consent scopes needing renewal and
    -- the subject types told in advance.
    changes        TEXT    NOT NULL,
    renewal_scopes TEXT    NOT NULL,
    notice_types   TEXT    NOT NULL,
    published_by   TEXT    NOT NULL,
    PRIMARY KEY (tenant_id, id)
) STRICT, WITHOUT ROWID;

CREATE INDEX policy_versions_effective_idx ON policy_versions (tenant_id, effective_at);

-- The fan-out needs the subjects of some types in id order.
CREATE INDEX subjects_type_idx ON subjects (tenant_id, subject_type, id);

-- One change notice per version and subject: the primary key makes a re-run fan-out (after a
-- crash) a no-op for subjects already queued. `channel` is 'email' (a message went to the
-- outbox, `outbox_id`) or 'website' (no address: the public notice is the announcement).
CREATE TABLE policy_notices (
    tenant_id    BLOB    NOT NULL,
    version_id   BLOB    NOT NULL,
    subject_id   BLOB    NOT NULL,
    channel      TEXT    NOT NULL,
    queued_at    INTEGER NOT NULL,
    -- The outbox message that carries it (email): delivery is read from the outbox.
    outbox_id    BLOB,
    PRIMARY KEY (tenant_id, version_id, subject_id),
    FOREIGN KEY (tenant_id, subject_id) REFERENCES subjects (tenant_id, id) ON DELETE CASCADE
) STRICT, WITHOUT ROWID;

CREATE INDEX policy_notices_subject_idx ON policy_notices (tenant_id, subject_id);

-- Where a fan-out got to: the last subject id queued, so a restarted job resumes after it.
CREATE TABLE policy_fanout (
    tenant_id   BLOB    NOT NULL,
    version_id  BLOB    NOT NULL,
    after_id    BLOB,
    queued      INTEGER NOT NULL,
    finished_at INTEGER,
    updated_at  INTEGER NOT NULL,
    PRIMARY KEY (tenant_id, version_id)
) STRICT, WITHOUT ROWID;

-- Consents given before a version that widened what they cover must be renewed: set when the
-- version is published, cleared by the next event on the key (the upsert).
ALTER TABLE consent_state ADD COLUMN renewal_due_at INTEGER;

-- Customers for whom the operator is a processor (their DPA with us). The notice address is
-- sealed by the vault.
CREATE TABLE processor_customers (
    tenant_id      BLOB    NOT NULL,
    id             BLOB    NOT NULL,
    name           TEXT    NOT NULL,
    dpa_signed_on  TEXT    NOT NULL,
    dpa_ref        TEXT,
    contact_ct     BLOB    NOT NULL,
    objection_days INTEGER NOT NULL,
    created_at     INTEGER NOT NULL,
    PRIMARY KEY (tenant_id, id)
) STRICT, WITHOUT ROWID;

-- Advance notice of a new sub-processor to one customer, with its objection window.
CREATE TABLE subprocessor_notices (
    tenant_id       BLOB    NOT NULL,
    version_id      BLOB    NOT NULL,
    customer_id     BLOB    NOT NULL,
    recipient       TEXT    NOT NULL,
    queued_at       INTEGER NOT NULL,
    objection_until INTEGER NOT NULL,
    PRIMARY KEY (tenant_id, version_id, customer_id, recipient)
) STRICT, WITHOUT ROWID;

-- A customer's objection to a new sub-processor.
CREATE TABLE subprocessor_objections (
    tenant_id   BLOB    NOT NULL,
    id          BLOB    NOT NULL,
    customer_id BLOB    NOT NULL,
    version_id  BLOB    NOT NULL,
    recipient   TEXT    NOT NULL,
    reason      TEXT    NOT NULL,
    at          INTEGER NOT NULL,
    recorded_by TEXT    NOT NULL,
    PRIMARY KEY (tenant_id, id)
) STRICT, WITHOUT ROWID;

CREATE UNIQUE INDEX subprocessor_objections_key
    ON subprocessor_objections (tenant_id, customer_id, recipient);

-- Planner statistics for the per-subject table above (see 0008 and docs/decisions/0009): without
-- them SQLite answers a subject's lookups and the cascade on its deletion from the primary key
-- with `tenant_id = ?` alone, scanning every notice of the tenant.
INSERT INTO sqlite_stat1 (tbl, idx, stat)
SELECT v.column1, v.column2, v.column3 FROM (VALUES
    ('policy_notices', 'policy_notices', '1000000 1000000 100000 1'),
    ('policy_notices', 'policy_notices_subject_idx', '1000000 1000000 2 1')
) AS v
WHERE NOT EXISTS (SELECT 1 FROM sqlite_stat1 s WHERE s.tbl = v.column1 AND s.idx = v.column2);
ANALYZE sqlite_schema;
