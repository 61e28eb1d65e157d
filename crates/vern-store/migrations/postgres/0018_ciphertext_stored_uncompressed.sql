-- Columns that hold ciphertext or the decision log's blocks are stored out of line without
-- compression (decision 0028). PostgreSQL tries pglz on every value over about 2 KB; sealed
-- data never compresses, and a bulk call's decision block (blind indexes and subject ids,
-- megabytes) hardly does, so the attempt was pure CPU on the database server: 90 ms for a
-- 3.9 MB block that came out the same size. SQLite never compresses; it needs no change.
-- Only the storage strategy of new values changes; existing rows stay as they are.
ALTER TABLE decision_log  ALTER COLUMN body     SET STORAGE EXTERNAL;
ALTER TABLE events        ALTER COLUMN body_ct  SET STORAGE EXTERNAL;
ALTER TABLE records       ALTER COLUMN value_ct SET STORAGE EXTERNAL;
ALTER TABLE identifiers   ALTER COLUMN value_ct SET STORAGE EXTERNAL;
ALTER TABLE dsr_requests  ALTER COLUMN case_ct  SET STORAGE EXTERNAL;
ALTER TABLE dsr_downloads ALTER COLUMN html_ct  SET STORAGE EXTERNAL;
ALTER TABLE dsr_downloads ALTER COLUMN json_ct  SET STORAGE EXTERNAL;
ALTER TABLE dsr_downloads ALTER COLUMN csv_ct   SET STORAGE EXTERNAL;
ALTER TABLE dsr_downloads ALTER COLUMN zip_ct   SET STORAGE EXTERNAL;
ALTER TABLE outbox        ALTER COLUMN params_ciphertext SET STORAGE EXTERNAL;
