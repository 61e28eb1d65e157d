-- The artefacts of a completed access or portability request (access report as HTML, JSON and
-- CSV; the portability ZIP), sealed by the vault under the tenant's DSR key, fetched once or a
-- few times through an expiring link. Only the SHA-256 of the link's token is stored. Deleted
-- by the expiry job, and with the subject (foreign-key cascade on erasure; a partial erasure
-- deletes them explicitly). `subject_id` is NULL when the same request erased the subject.
CREATE TABLE dsr_downloads (
    tenant_id     BYTEA   NOT NULL,
    id            BYTEA   NOT NULL,
    request_id    BYTEA   NOT NULL,
    subject_id    BYTEA,
    token_hash    BYTEA   NOT NULL,
    lang          TEXT    NOT NULL,
    html_ct       BYTEA,
    json_ct       BYTEA,
    csv_ct        BYTEA,
    zip_ct        BYTEA,
    expires_at    BIGINT  NOT NULL,
    max_downloads BIGINT  NOT NULL,
    downloads     BIGINT  NOT NULL,
    created_at    BIGINT  NOT NULL,
    PRIMARY KEY (tenant_id, id),
    FOREIGN KEY (tenant_id, subject_id) REFERENCES subjects (tenant_id, id) ON DELETE CASCADE
);

CREATE UNIQUE INDEX dsr_downloads_token ON dsr_downloads (token_hash);
CREATE INDEX dsr_downloads_subject_idx ON dsr_downloads (tenant_id, subject_id);

-- Art. 19: one task per recipient that received data of a subject whose data was rectified,
-- erased or restricted. Recipient ids come from the policy; no personal data. Kept after the
-- subject's erasure (proof that the recipients were told), so no foreign key.
CREATE TABLE recipient_tasks (
    tenant_id   BYTEA   NOT NULL,
    id          BYTEA   NOT NULL,
    subject_id  BYTEA   NOT NULL,
    request_id  BYTEA,
    -- rectification, erasure, restriction or restriction_lifted
    action      TEXT    NOT NULL,
    recipient   TEXT    NOT NULL,
    -- JSON array of the categories the recipient received
    categories  TEXT    NOT NULL,
    state       TEXT    NOT NULL,
    created_at  BIGINT  NOT NULL,
    closed_at   BIGINT,
    closed_by   TEXT,
    -- how the recipient was told: email, api, letter, other (no free text)
    method      TEXT,
    PRIMARY KEY (tenant_id, id)
);

CREATE INDEX recipient_tasks_by_state ON recipient_tasks (tenant_id, state, created_at, id);
