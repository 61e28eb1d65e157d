-- vern data store, PostgreSQL dialect. Must stay in step with ../sqlite/0001_init.sql: same
-- version numbers, tables, columns, nullability and index names (checked by the parity test).
--
-- Ids are UUIDv7 as 16-byte BYTEA (the sqlx Any driver cannot decode `uuid`), times are Unix
-- microseconds as BIGINT passed in by the application: no now(), no sequences. Every
-- per-subject table leads with tenant_id and every foreign key includes it, so the tables can
-- later be distributed and co-located by tenant.

CREATE TABLE subjects (
    tenant_id    BYTEA  NOT NULL,
    id           BYTEA  NOT NULL,
    subject_type TEXT   NOT NULL,
    jurisdiction TEXT,
    created_at   BIGINT NOT NULL,
    updated_at   BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, id)
);

CREATE TABLE identifiers (
    tenant_id   BYTEA  NOT NULL,
    id          BYTEA  NOT NULL,
    subject_id  BYTEA  NOT NULL,
    kind        TEXT   NOT NULL,
    blind_index BYTEA  NOT NULL,
    value_ct    BYTEA  NOT NULL,
    created_at  BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, id),
    FOREIGN KEY (tenant_id, subject_id) REFERENCES subjects (tenant_id, id) ON DELETE CASCADE
);

-- One subject per (kind, blind index) in a tenant: an email address names one person.
CREATE UNIQUE INDEX identifiers_blind_index_key ON identifiers (tenant_id, kind, blind_index);
CREATE INDEX identifiers_subject_idx ON identifiers (tenant_id, subject_id);

CREATE TABLE records (
    tenant_id          BYTEA  NOT NULL,
    id                 BYTEA  NOT NULL,
    subject_id         BYTEA  NOT NULL,
    category           TEXT   NOT NULL,
    value_ct           BYTEA  NOT NULL,
    source             TEXT   NOT NULL,
    -- JSON array of purpose keys; stored, never queried into.
    purposes           TEXT   NOT NULL,
    legal_basis        TEXT   NOT NULL,
    collected_at       BIGINT NOT NULL,
    last_activity_at   BIGINT,
    originating_system TEXT,
    created_at         BIGINT NOT NULL,
    updated_at         BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, id),
    FOREIGN KEY (tenant_id, subject_id) REFERENCES subjects (tenant_id, id) ON DELETE CASCADE
);

CREATE INDEX records_subject_idx ON records (tenant_id, subject_id, id);

-- The audit chain, keyed by (tenant_id, seq) because it is read and verified in seq order;
-- the entry id is unique as well.
CREATE TABLE audit_log (
    tenant_id  BYTEA  NOT NULL,
    seq        BIGINT NOT NULL,
    id         BYTEA  NOT NULL,
    at         BIGINT NOT NULL,
    actor      TEXT   NOT NULL,
    action     TEXT   NOT NULL,
    subject_id BYTEA,
    purpose    TEXT,
    detail     TEXT   NOT NULL,
    prev_hash  BYTEA  NOT NULL,
    hash       BYTEA  NOT NULL,
    PRIMARY KEY (tenant_id, seq)
);

CREATE UNIQUE INDEX audit_log_id_key ON audit_log (tenant_id, id);
-- "Who touched my data": the audit trail of one subject, for access requests.
CREATE INDEX audit_log_subject_idx ON audit_log (tenant_id, subject_id);

-- The head of each tenant's chain: appenders serialise on this row (UPDATE … RETURNING locks it).
CREATE TABLE audit_head (
    tenant_id BYTEA  NOT NULL,
    seq       BIGINT NOT NULL,
    hash      BYTEA  NOT NULL,
    PRIMARY KEY (tenant_id)
);

CREATE TABLE api_tokens (
    tenant_id  BYTEA  NOT NULL,
    id         BYTEA  NOT NULL,
    name       TEXT   NOT NULL,
    role       TEXT   NOT NULL,
    token_hash BYTEA  NOT NULL,
    created_at BIGINT NOT NULL,
    revoked_at BIGINT,
    PRIMARY KEY (tenant_id, id)
);

CREATE UNIQUE INDEX api_tokens_token_hash_key ON api_tokens (token_hash);

CREATE TABLE idempotency_keys (
    tenant_id    BYTEA  NOT NULL,
    token_id     BYTEA  NOT NULL,
    key          TEXT   NOT NULL,
    request_hash BYTEA  NOT NULL,
    status       BIGINT NOT NULL,
    body         BYTEA  NOT NULL,
    created_at   BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, token_id, key)
);

-- Every erased subject, so a restore from backup can erase them again.
CREATE TABLE erasure_ledger (
    tenant_id  BYTEA  NOT NULL,
    subject_id BYTEA  NOT NULL,
    erased_at  BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, subject_id)
);

-- Append-only: the law needs proof, so the database itself refuses to rewrite history. The
-- message starts with "append-only" so the store can report a refusal rather than a failure.
CREATE FUNCTION vern_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'append-only: % on % is refused', TG_OP, TG_TABLE_NAME
        USING ERRCODE = 'insufficient_privilege';
END;
$$;

CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
    FOR EACH ROW EXECUTE FUNCTION vern_refuse_change();
CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
    FOR EACH ROW EXECUTE FUNCTION vern_refuse_change();
-- TRUNCATE skips row triggers, so it needs its own (SQLite has no TRUNCATE).
CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log
    FOR EACH STATEMENT EXECUTE FUNCTION vern_refuse_change();

CREATE TRIGGER erasure_ledger_no_update BEFORE UPDATE ON erasure_ledger
    FOR EACH ROW EXECUTE FUNCTION vern_refuse_change();
CREATE TRIGGER erasure_ledger_no_delete BEFORE DELETE ON erasure_ledger
    FOR EACH ROW EXECUTE FUNCTION vern_refuse_change();
CREATE TRIGGER erasure_ledger_no_truncate BEFORE TRUNCATE ON erasure_ledger
    FOR EACH STATEMENT EXECUTE FUNCTION vern_refuse_change();
