-- The artefacts of a completed access or portability request (access report as HTML, JSON and
-- CSV; the portability ZIP), sealed by the vault under the tenant's DSR key, fetched once or a
-- few times through an expiring link. Only the SHA-256 of the link's token is stored. Deleted
-- by the expiry job, and with the subject (foreign-key cascade on erasure; a partial erasure
-- deletes them explicitly). `subject_id` is NULL when the same request erased the subject.
CREATE TABLE dsr_downloads (
    tenant_id     BLOB    NOT NULL,
    id            BLOB    NOT NULL,
    request_id    BLOB    NOT NULL,
    subject_id    BLOB,
    token_hash    BLOB    NOT NULL,
    lang          TEXT    NOT NULL,
    html_ct       BLOB,
    json_ct       BLOB,
    csv_ct        BLOB,
    zip_ct        BLOB,
    expires_at    INTEGER NOT NULL,
    max_downloads INTEGER NOT NULL,
    downloads     INTEGER NOT NULL,
    created_at    INTEGER NOT NULL,
    PRIMARY KEY (tenant_id, id),
    FOREIGN KEY (tenant_id, subject_id) REFERENCES subjects (tenant_id, id) ON DELETE CASCADE
) STRICT;

CREATE UNIQUE INDEX dsr_downloads_token ON dsr_downloads (token_hash);
CREATE INDEX dsr_downloads_subject_idx ON dsr_downloads (tenant_id, subject_id);

-- Art. 19: one task per recipient that received data of a subject whose data was rectified,
-- erased or restricted. Recipient ids come from the policy; no personal data. Kept after the
-- subject's erasure (proof that the recipients were told), so no foreign key.
CREATE TABLE recipient_tasks (
    tenant_id   BLOB    NOT NULL,
    id          BLOB    NOT NULL,
    subject_id  BLOB    NOT NULL,
    request_id  BLOB,
    -- rectification, erasure, restriction or restriction_lifted
    action      TEXT    NOT NULL,
    recipient   TEXT    NOT NULL,
    -- JSON array of the categories the recipient received
    categories  TEXT    NOT NULL,
    state       TEXT    NOT NULL,
    created_at  INTEGER NOT NULL,
    closed_at   INTEGER,
    closed_by   TEXT,
    -- how the recipient was told: email, api, letter, other (no free text)
    method      TEXT,
    PRIMARY KEY (tenant_id, id)
) STRICT, WITHOUT ROWID;

CREATE INDEX recipient_tasks_by_state ON recipient_tasks (tenant_id, state, created_at, id);

-- Planner statistics for the per-subject table above (see 0008 and docs/decisions/0009).
INSERT INTO sqlite_stat1 (tbl, idx, stat)
SELECT v.column1, v.column2, v.column3 FROM (VALUES
    ('dsr_downloads', 'sqlite_autoindex_dsr_downloads_1', '1000000 1000000 1'),
    ('dsr_downloads', 'dsr_downloads_token', '1000000 1'),
    ('dsr_downloads', 'dsr_downloads_subject_idx', '1000000 1000000 2')
) AS v
WHERE NOT EXISTS (SELECT 1 FROM sqlite_stat1 s WHERE s.tbl = v.column1 AND s.idx = v.column2);
ANALYZE sqlite_schema;
