-- vern key store, SQLite dialect: a file of its own (keys.sqlite3) so it can be backed up,
-- restored and destroyed separately from the data. In step with ../postgres-keys/0001_init.sql.

-- One data key per subject, wrapped under a key-encryption key. Deleting the row is the
-- crypto-shred: the subject's ciphertext in the data store becomes unreadable.
CREATE TABLE subject_keys (
    tenant_id   BLOB    NOT NULL,
    subject_id  BLOB    NOT NULL,
    kek_id      BLOB    NOT NULL,
    wrapped_key BLOB    NOT NULL,
    created_at  INTEGER NOT NULL,
    PRIMARY KEY (tenant_id, subject_id)
) STRICT, WITHOUT ROWID;

-- Rotation finds the keys still wrapped under an old KEK.
CREATE INDEX subject_keys_kek_idx ON subject_keys (kek_id);

-- Named secrets (e.g. the blind-index key), wrapped under a KEK.
CREATE TABLE keyring (
    name        TEXT    NOT NULL,
    kek_id      BLOB    NOT NULL,
    wrapped_key BLOB    NOT NULL,
    created_at  INTEGER NOT NULL,
    PRIMARY KEY (name)
) STRICT, WITHOUT ROWID;
