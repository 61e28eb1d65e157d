-- The mail outbox: each message is written in the same transaction as the state change that
-- causes it, with a `mail.send` job that delivers it. Address and template parameters are
-- sealed under the outbox key and wiped once the message is sent; what stays is evidence
-- without personal data (template, language, times, the SMTP message id).
CREATE TABLE outbox (
    tenant_id         BLOB    NOT NULL,
    id                BLOB    NOT NULL,
    subject_id        BLOB,
    template          TEXT    NOT NULL,
    lang              TEXT    NOT NULL,
    to_ciphertext     BLOB,
    params_ciphertext BLOB,
    dedup_key         TEXT,
    state             TEXT    NOT NULL,
    attempts          INTEGER NOT NULL,
    last_error        TEXT,
    message_id        TEXT,
    created_at        INTEGER NOT NULL,
    updated_at        INTEGER NOT NULL,
    sent_at           INTEGER,
    PRIMARY KEY (tenant_id, id)
) STRICT;

CREATE INDEX outbox_by_state ON outbox (tenant_id, state, created_at);
CREATE INDEX outbox_by_subject ON outbox (tenant_id, subject_id);
CREATE UNIQUE INDEX outbox_dedup ON outbox (tenant_id, dedup_key);
