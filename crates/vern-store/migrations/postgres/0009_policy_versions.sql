-- Policy versions, change notices, renewal-needed consents, processor customers and their
-- sub-processor notices and objections (PostgreSQL). Must stay in step with
-- ../sqlite/0009_policy_versions.sql (checked by the parity test).

-- Every policy the server has used or will use, with the text it was parsed from. The version
-- in force at time T is the one with the latest effective_at <= T (ties: latest published).
CREATE TABLE policy_versions (
    tenant_id      BYTEA   NOT NULL,
    id             BYTEA   NOT NULL,
    content_hash   TEXT    NOT NULL,
    source         TEXT    NOT NULL,
    published_at   BIGINT NOT NULL,
    effective_at   BIGINT NOT NULL,
    -- 'initial' | 'unchanged' | 'editorial' | 'material'
    class          TEXT    NOT NULL,
    -- JSON: the diff against the version it replaces, the consent scopes needing renewal and
    -- the subject types told in advance.
    changes        TEXT    NOT NULL,
    renewal_scopes TEXT    NOT NULL,
    notice_types   TEXT    NOT NULL,
    published_by   TEXT    NOT NULL,
    PRIMARY KEY (tenant_id, id)
);

CREATE INDEX policy_versions_effective_idx ON policy_versions (tenant_id, effective_at);

-- The fan-out needs the subjects of some types in id order.
CREATE INDEX subjects_type_idx ON subjects (tenant_id, subject_type, id);

-- One change notice per version and subject: the primary key makes a re-run fan-out (after a
-- crash) a no-op for subjects already queued. `channel` is 'email' (a message went to the
-- outbox, `outbox_id`) or 'website' (no address: the public notice is the announcement).
CREATE TABLE policy_notices (
    tenant_id    BYTEA   NOT NULL,
    version_id   BYTEA   NOT NULL,
    subject_id   BYTEA   NOT NULL,
    channel      TEXT    NOT NULL,
    queued_at    BIGINT NOT NULL,
    -- The outbox message that carries it (email): delivery is read from the outbox.
    outbox_id    BYTEA,
    PRIMARY KEY (tenant_id, version_id, subject_id),
    FOREIGN KEY (tenant_id, subject_id) REFERENCES subjects (tenant_id, id) ON DELETE CASCADE
);

CREATE INDEX policy_notices_subject_idx ON policy_notices (tenant_id, subject_id);

-- Where a fan-out got to: the last subject id queued, so a restarted job resumes after it.
CREATE TABLE policy_fanout (
    tenant_id   BYTEA   NOT NULL,
    version_id  BYTEA   NOT NULL,
    after_id    BYTEA,
    queued      BIGINT NOT NULL,
    finished_at BIGINT,
    updated_at  BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, version_id)
);

-- Consents given before a version that widened what they cover must be renewed: set when the
-- version is published, cleared by the next event on the key (the upsert).
ALTER TABLE consent_state ADD COLUMN renewal_due_at BIGINT;

-- Customers for whom the operator is a processor (their DPA with us). The notice address is
-- sealed by the vault.
CREATE TABLE processor_customers (
    tenant_id      BYTEA   NOT NULL,
    id             BYTEA   NOT NULL,
    name           TEXT    NOT NULL,
    dpa_signed_on  TEXT    NOT NULL,
    dpa_ref        TEXT,
    contact_ct     BYTEA   NOT NULL,
    objection_days BIGINT NOT NULL,
    created_at     BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, id)
);

-- Advance notice of a new sub-processor to one customer, with its objection window.
CREATE TABLE subprocessor_notices (
    tenant_id       BYTEA   NOT NULL,
    version_id      BYTEA   NOT NULL,
    customer_id     BYTEA   NOT NULL,
    recipient       TEXT    NOT NULL,
    queued_at       BIGINT NOT NULL,
    objection_until BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, version_id, customer_id, recipient)
);

-- A customer's objection to a new sub-processor.
CREATE TABLE subprocessor_objections (
    tenant_id   BYTEA   NOT NULL,
    id          BYTEA   NOT NULL,
    customer_id BYTEA   NOT NULL,
    version_id  BYTEA   NOT NULL,
    recipient   TEXT    NOT NULL,
    reason      TEXT    NOT NULL,
    at          BIGINT NOT NULL,
    recorded_by TEXT    NOT NULL,
    PRIMARY KEY (tenant_id, id)
);

CREATE UNIQUE INDEX subprocessor_objections_key
    ON subprocessor_objections (tenant_id, customer_id, recipient);
