-- Data-subject requests (GDPR Art. 12, 15-21). The requester's identifiers and every free
-- text live in case_ct (sealed by the vault); in the clear: state, rights, deadlines (local
-- dates, YYYY-MM-DD), channel, language and ids, which the admin list sorts and filters on.
CREATE TABLE dsr_requests (
    tenant_id    BLOB    NOT NULL,
    id           BLOB    NOT NULL,
    reference    TEXT    NOT NULL,
    state        TEXT    NOT NULL,
    rights       TEXT    NOT NULL,
    channel      TEXT    NOT NULL,
    lang         TEXT    NOT NULL,
    subject_id   BLOB,
    case_ct      BLOB    NOT NULL,
    received_at  INTEGER NOT NULL,
    received_on  TEXT    NOT NULL,
    due_initial  TEXT    NOT NULL,
    due_max      TEXT    NOT NULL,
    due          TEXT    NOT NULL,
    created_by   TEXT    NOT NULL,
    idem_key     TEXT,
    idem_digest  BLOB,
    -- Keyed blind index of the requester's email: rate limits per address, no plaintext.
    requester_index BLOB,
    closed_at    INTEGER,
    updated_at   INTEGER NOT NULL,
    version      INTEGER NOT NULL,
    PRIMARY KEY (tenant_id, id)
) STRICT;

CREATE UNIQUE INDEX dsr_requests_reference ON dsr_requests (tenant_id, reference);
CREATE UNIQUE INDEX dsr_requests_idempotency ON dsr_requests (tenant_id, created_by, idem_key);
CREATE INDEX dsr_requests_by_due ON dsr_requests (tenant_id, due, id);
CREATE INDEX dsr_requests_by_subject ON dsr_requests (tenant_id, subject_id);
CREATE INDEX dsr_requests_by_requester ON dsr_requests (tenant_id, requester_index, received_at);

-- The history of each request: who moved it from which state to which. Append-only; no
-- free text (reasons are in the sealed case file).
CREATE TABLE dsr_request_events (
    tenant_id  BLOB    NOT NULL,
    id         BLOB    NOT NULL,
    request_id BLOB    NOT NULL,
    at         INTEGER NOT NULL,
    actor      TEXT    NOT NULL,
    action     TEXT    NOT NULL,
    from_state TEXT,
    to_state   TEXT    NOT NULL,
    PRIMARY KEY (tenant_id, id)
) STRICT;

CREATE INDEX dsr_request_events_by_request ON dsr_request_events (tenant_id, request_id, at);

CREATE TRIGGER dsr_request_events_no_update BEFORE UPDATE ON dsr_request_events
BEGIN
    SELECT RAISE(ABORT, 'append-only: dsr_request_events cannot be updated');
END;

CREATE TRIGGER dsr_request_events_no_delete BEFORE DELETE ON dsr_request_events
BEGIN
    SELECT RAISE(ABORT, 'append-only: dsr_request_events cannot be deleted from');
END;

-- One-time verification links with a code: hashes only, deleted once used, replaced or spent.
CREATE TABLE dsr_verifications (
    tenant_id   BLOB    NOT NULL,
    id          BLOB    NOT NULL,
    request_id  BLOB    NOT NULL,
    token_hash  BLOB    NOT NULL,
    code_digest BLOB    NOT NULL,
    expires_at  INTEGER NOT NULL,
    attempts    INTEGER NOT NULL,
    created_at  INTEGER NOT NULL,
    PRIMARY KEY (tenant_id, id)
) STRICT;

CREATE UNIQUE INDEX dsr_verifications_token ON dsr_verifications (token_hash);
CREATE INDEX dsr_verifications_by_request ON dsr_verifications (tenant_id, request_id);
