-- How far a bulk import got, committed in the same transaction as each batch, so a rerun after
-- a crash resumes exactly after the last committed batch (never twice, never a gap).
CREATE TABLE import_progress (
    tenant_id  BYTEA  NOT NULL,
    file_hash  TEXT   NOT NULL,
    done       BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, file_hash)
);
