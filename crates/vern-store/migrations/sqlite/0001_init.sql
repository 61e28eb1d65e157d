-- vern data store, SQLite dialect. Must stay in step with ../postgres/0001_init.sql: same
-- version numbers, tables, columns, nullability and index names (checked by the parity test).
--
-- Ids are UUIDv7 as 16-byte blobs, times are Unix microseconds passed in by the application.
-- Tables are STRICT so a value can never silently change class (a blob stays a blob), and
-- WITHOUT ROWID where rows are small, so the primary key is the only B-tree to write.

CREATE TABLE subjects (
    tenant_id    BLOB    NOT NULL,
    id           BLOB    NOT NULL,
    subject_type TEXT    NOT NULL,
    jurisdiction TEXT,
    created_at   INTEGER NOT NULL,
    updated_at   INTEGER NOT NULL,
    PRIMARY KEY (tenant_id, id)
) STRICT, WITHOUT ROWID;

CREATE TABLE identifiers (
    tenant_id   BLOB    NOT NULL,
    id          BLOB    NOT NULL,
    subject_id  BLOB    NOT NULL,
    kind        TEXT    NOT NULL,
    blind_index BLOB    NOT NULL,
    value_ct    BLOB    NOT NULL,
    created_at  INTEGER NOT NULL,
    PRIMARY KEY (tenant_id, id),
    FOREIGN KEY (tenant_id, subject_id) REFERENCES subjects (tenant_id, id) ON DELETE CASCADE
) STRICT, WITHOUT ROWID;

-- One subject per (kind, blind index) in a tenant: an email address names one person.
CREATE UNIQUE INDEX identifiers_blind_index_key ON identifiers (tenant_id, kind, blind_index);
CREATE INDEX identifiers_subject_idx ON identifiers (tenant_id, subject_id);

CREATE TABLE records (
    tenant_id          BLOB    NOT NULL,
    id                 BLOB    NOT NULL,
    subject_id         BLOB    NOT NULL,
    category           TEXT    NOT NULL,
    value_ct           BLOB    NOT NULL,
    source             TEXT    NOT NULL,
    -- JSON array of purpose keys; stored, never queried into.
    purposes           TEXT    NOT NULL,
    legal_basis        TEXT    NOT NULL,
    collected_at       INTEGER NOT NULL,
    last_activity_at   INTEGER,
    originating_system TEXT,
    created_at         INTEGER NOT NULL,
    updated_at         INTEGER NOT NULL,
    PRIMARY KEY (tenant_id, id),
    FOREIGN KEY (tenant_id, subject_id) REFERENCES subjects (tenant_id, id) ON DELETE CASCADE
) STRICT, WITHOUT ROWID;

CREATE INDEX records_subject_idx ON records (tenant_id, subject_id, id);

-- The audit chain. Clustered by (tenant_id, seq) because it is read and verified in seq order;
-- the entry id is unique as well.
CREATE TABLE audit_log (
    tenant_id  BLOB    NOT NULL,
    seq        INTEGER NOT NULL,
    id         BLOB    NOT NULL,
    at         INTEGER NOT NULL,
    actor      TEXT    NOT NULL,
    action     TEXT    NOT NULL,
    subject_id BLOB,
    purpose    TEXT,
    detail     TEXT    NOT NULL,
    prev_hash  BLOB    NOT NULL,
    hash       BLOB    NOT NULL,
    PRIMARY KEY (tenant_id, seq)
) STRICT, WITHOUT ROWID;

CREATE UNIQUE INDEX audit_log_id_key ON audit_log (tenant_id, id);
-- "Who touched my data": the audit trail of one subject, for access requests.
CREATE INDEX audit_log_subject_idx ON audit_log (tenant_id, subject_id);

-- The head of each tenant's chain: appenders serialise on this row.
CREATE TABLE audit_head (
    tenant_id BLOB    NOT NULL,
    seq       INTEGER NOT NULL,
    hash      BLOB    NOT NULL,
    PRIMARY KEY (tenant_id)
) STRICT, WITHOUT ROWID;

CREATE TABLE api_tokens (
    tenant_id  BLOB    NOT NULL,
    id         BLOB    NOT NULL,
    name       TEXT    NOT NULL,
    role       TEXT    NOT NULL,
    token_hash BLOB    NOT NULL,
    created_at INTEGER NOT NULL,
    revoked_at INTEGER,
    PRIMARY KEY (tenant_id, id)
) STRICT, WITHOUT ROWID;

CREATE UNIQUE INDEX api_tokens_token_hash_key ON api_tokens (token_hash);

-- Stored responses can be large, so this one keeps a rowid.
CREATE TABLE idempotency_keys (
    tenant_id    BLOB    NOT NULL,
    token_id     BLOB    NOT NULL,
    key          TEXT    NOT NULL,
    request_hash BLOB    NOT NULL,
    status       INTEGER NOT NULL,
    body         BLOB    NOT NULL,
    created_at   INTEGER NOT NULL,
    PRIMARY KEY (tenant_id, token_id, key)
) STRICT;

-- Every erased subject, so a restore from backup can erase them again.
CREATE TABLE erasure_ledger (
    tenant_id  BLOB    NOT NULL,
    subject_id BLOB    NOT NULL,
    erased_at  INTEGER NOT NULL,
    PRIMARY KEY (tenant_id, subject_id)
) STRICT, WITHOUT ROWID;

-- Append-only: the law needs proof, so the database itself refuses to rewrite history.
-- (A DELETE without WHERE cannot take the truncate shortcut while these triggers exist.)
CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
BEGIN
    SELECT RAISE(ABORT, 'append-only: audit_log cannot be updated');
END;

CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
BEGIN
    SELECT RAISE(ABORT, 'append-only: audit_log cannot be deleted from');
END;

CREATE TRIGGER erasure_ledger_no_update BEFORE UPDATE ON erasure_ledger
BEGIN
    SELECT RAISE(ABORT, 'append-only: erasure_ledger cannot be updated');
END;

CREATE TRIGGER erasure_ledger_no_delete BEFORE DELETE ON erasure_ledger
BEGIN
    SELECT RAISE(ABORT, 'append-only: erasure_ledger cannot be deleted from');
END;
