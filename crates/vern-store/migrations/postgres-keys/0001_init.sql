-- vern key store, PostgreSQL dialect: the schema vern_keys in the data database, so it can be
-- dumped, restored and destroyed separately (pg_dump -n vern_keys). In step with
-- ../sqlite-keys/0001_init.sql. The store's key connections use search_path = vern_keys.

CREATE SCHEMA IF NOT EXISTS vern_keys;

-- One data key per subject, wrapped under a key-encryption key. Deleting the row is the
-- crypto-shred: the subject's ciphertext in the data store becomes unreadable.
CREATE TABLE vern_keys.subject_keys (
    tenant_id   BYTEA  NOT NULL,
    subject_id  BYTEA  NOT NULL,
    kek_id      BYTEA  NOT NULL,
    wrapped_key BYTEA  NOT NULL,
    created_at  BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, subject_id)
);

-- Rotation finds the keys still wrapped under an old KEK.
CREATE INDEX subject_keys_kek_idx ON vern_keys.subject_keys (kek_id);

-- Named secrets (e.g. the blind-index key), wrapped under a KEK.
CREATE TABLE vern_keys.keyring (
    name        TEXT   NOT NULL,
    kek_id      BYTEA  NOT NULL,
    wrapped_key BYTEA  NOT NULL,
    created_at  BIGINT NOT NULL,
    PRIMARY KEY (name)
);
