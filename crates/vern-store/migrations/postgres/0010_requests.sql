-- Data-subject requests (GDPR Art. 12, 15-21). The requester's identifiers and every free
-- text live in case_ct (sealed by the vault); in the clear: state, rights, deadlines (local
-- dates, YYYY-MM-DD), channel, language and ids, which the admin list sorts and filters on.
CREATE TABLE dsr_requests (
    tenant_id    BYTEA   NOT NULL,
    id           BYTEA   NOT NULL,
    reference    TEXT    NOT NULL,
    state        TEXT    NOT NULL,
    rights       TEXT    NOT NULL,
    channel      TEXT    NOT NULL,
    lang         TEXT    NOT NULL,
    subject_id   BYTEA,
    case_ct      BYTEA   NOT NULL,
    received_at  BIGINT  NOT NULL,
    received_on  TEXT    NOT NULL,
    due_initial  TEXT    NOT NULL,
    due_max      TEXT    NOT NULL,
    due          TEXT    NOT NULL,
    created_by   TEXT    NOT NULL,
    idem_key     TEXT,
    idem_digest  BYTEA,
    -- Keyed blind index of the requester's email: rate limits per address, no plaintext.
    requester_index BYTEA,
    closed_at    BIGINT,
    updated_at   BIGINT  NOT NULL,
    version      BIGINT  NOT NULL,
    PRIMARY KEY (tenant_id, id)
);

CREATE UNIQUE INDEX dsr_requests_reference ON dsr_requests (tenant_id, reference);
CREATE UNIQUE INDEX dsr_requests_idempotency ON dsr_requests (tenant_id, created_by, idem_key);
CREATE INDEX dsr_requests_by_due ON dsr_requests (tenant_id, due, id);
CREATE INDEX dsr_requests_by_subject ON dsr_requests (tenant_id, subject_id);
CREATE INDEX dsr_requests_by_requester ON dsr_requests (tenant_id, requester_index, received_at);

-- The history of each request: who moved it from which state to which. Append-only; no
-- free text (reasons are in the sealed case file).
CREATE TABLE dsr_request_events (
    tenant_id  BYTEA   NOT NULL,
    id         BYTEA   NOT NULL,
    request_id BYTEA   NOT NULL,
    at         BIGINT  NOT NULL,
    actor      TEXT    NOT NULL,
    action     TEXT    NOT NULL,
    from_state TEXT,
    to_state   TEXT    NOT NULL,
    PRIMARY KEY (tenant_id, id)
);

CREATE INDEX dsr_request_events_by_request ON dsr_request_events (tenant_id, request_id, at);

CREATE TRIGGER dsr_request_events_no_update BEFORE UPDATE ON dsr_request_events
    FOR EACH ROW EXECUTE FUNCTION vern_refuse_change();
CREATE TRIGGER dsr_request_events_no_delete BEFORE DELETE ON dsr_request_events
    FOR EACH ROW EXECUTE FUNCTION vern_refuse_change();
CREATE TRIGGER dsr_request_events_no_truncate BEFORE TRUNCATE ON dsr_request_events
    FOR EACH STATEMENT EXECUTE FUNCTION vern_refuse_change();

-- One-time verification links with a code: hashes only, deleted once used, replaced or spent.
CREATE TABLE dsr_verifications (
    tenant_id   BYTEA   NOT NULL,
    id          BYTEA   NOT NULL,
    request_id  BYTEA   NOT NULL,
    token_hash  BYTEA   NOT NULL,
    code_digest BYTEA   NOT NULL,
    expires_at  BIGINT  NOT NULL,
    attempts    BIGINT  NOT NULL,
    created_at  BIGINT  NOT NULL,
    PRIMARY KEY (tenant_id, id)
);

CREATE UNIQUE INDEX dsr_verifications_token ON dsr_verifications (token_hash);
CREATE INDEX dsr_verifications_by_request ON dsr_verifications (tenant_id, request_id);
