-- Consent ledger, objections, restriction and suppression (PostgreSQL). Must stay in step
-- with ../sqlite/0002_consent.sql (checked by the parity test).

-- The consent ledger: append-only and hash-chained per tenant like audit_log. No foreign key
-- to subjects on purpose: the proof of consent outlives the subject (Art. 7(1), 5(2)), and an
-- erasure must not be refused by the append-only guard cascading into this table.
CREATE TABLE consent_events (
    tenant_id        BYTEA    NOT NULL,
    seq              BIGINT  NOT NULL,
    id               BYTEA    NOT NULL,
    subject_id       BYTEA    NOT NULL,
    scope            TEXT    NOT NULL,
    -- '' for a consent scope without channels.
    channel          TEXT    NOT NULL,
    action           TEXT    NOT NULL,
    at               BIGINT  NOT NULL,
    expires_at       BIGINT,
    policy_hash      TEXT    NOT NULL,
    notice_hash      TEXT    NOT NULL,
    collection_point TEXT    NOT NULL,
    method           TEXT    NOT NULL,
    ip_truncated     TEXT,
    user_agent       TEXT,
    idempotency_key  TEXT,
    actor            TEXT    NOT NULL,
    prev_hash        BYTEA    NOT NULL,
    hash             BYTEA    NOT NULL,
    PRIMARY KEY (tenant_id, seq)
);

CREATE UNIQUE INDEX consent_events_id_key ON consent_events (tenant_id, id);
CREATE INDEX consent_events_subject_idx ON consent_events (tenant_id, subject_id, seq);

CREATE TABLE consent_head (
    tenant_id BYTEA    NOT NULL,
    seq       BIGINT  NOT NULL,
    hash      BYTEA    NOT NULL,
    PRIMARY KEY (tenant_id)
);

-- The current state: the last event per (subject, scope, channel), written in the same
-- transaction as the event. Goes with the subject on erasure (the ledger keeps the proof).
CREATE TABLE consent_state (
    tenant_id  BYTEA    NOT NULL,
    subject_id BYTEA    NOT NULL,
    scope      TEXT    NOT NULL,
    channel    TEXT    NOT NULL,
    action     TEXT    NOT NULL,
    at         BIGINT  NOT NULL,
    expires_at BIGINT,
    event_id   BYTEA    NOT NULL,
    seq        BIGINT  NOT NULL,
    PRIMARY KEY (tenant_id, subject_id, scope, channel),
    FOREIGN KEY (tenant_id, subject_id) REFERENCES subjects (tenant_id, id) ON DELETE CASCADE
);

-- Objections (Art. 21): target is a purpose id, or '*direct_marketing' for an objection to all
-- direct marketing. Compelling grounds (relative objections only) are sealed text, set once.
CREATE TABLE objections (
    tenant_id  BYTEA    NOT NULL,
    id         BYTEA    NOT NULL,
    subject_id BYTEA    NOT NULL,
    target     TEXT    NOT NULL,
    created_at BIGINT  NOT NULL,
    grounds_ct BYTEA,
    grounds_at BIGINT,
    grounds_by TEXT,
    PRIMARY KEY (tenant_id, id),
    FOREIGN KEY (tenant_id, subject_id) REFERENCES subjects (tenant_id, id) ON DELETE CASCADE
);

CREATE UNIQUE INDEX objections_subject_target_key ON objections (tenant_id, subject_id, target);

-- Restriction of processing (Art. 18): restricted while restricted_at is set.
CREATE TABLE subject_flags (
    tenant_id     BYTEA    NOT NULL,
    subject_id    BYTEA    NOT NULL,
    restricted_at BIGINT,
    updated_at    BIGINT  NOT NULL,
    PRIMARY KEY (tenant_id, subject_id),
    FOREIGN KEY (tenant_id, subject_id) REFERENCES subjects (tenant_id, id) ON DELETE CASCADE
);

-- Addresses that must never receive marketing again: keyed hashes (the blind-index key) of the
-- normalised email or phone, no plaintext and no subject, so the entry survives erasure.
CREATE TABLE suppression (
    tenant_id  BYTEA    NOT NULL,
    kind       TEXT    NOT NULL,
    hash       BYTEA    NOT NULL,
    reason     TEXT    NOT NULL,
    created_at BIGINT  NOT NULL,
    PRIMARY KEY (tenant_id, kind, hash)
);

-- Behavioural events admitted for profiling (after the consent check at the door). The event
-- itself (kind, topic) is sealed with the subject key; the interest profile is derived from
-- these rows, so deleting them deletes the profile.
CREATE TABLE events (
    tenant_id    BYTEA   NOT NULL,
    id           BYTEA   NOT NULL,
    subject_id   BYTEA   NOT NULL,
    purpose      TEXT    NOT NULL,
    channel      TEXT,
    at           BIGINT  NOT NULL,
    ip_truncated TEXT,
    body_ct      BYTEA   NOT NULL,
    created_at   BIGINT  NOT NULL,
    PRIMARY KEY (tenant_id, id),
    FOREIGN KEY (tenant_id, subject_id) REFERENCES subjects (tenant_id, id) ON DELETE CASCADE
);

CREATE INDEX events_subject_idx ON events (tenant_id, subject_id, id);

-- Events dropped at the door, counted per reason (shared by every node).
CREATE TABLE event_drops (
    tenant_id BYTEA   NOT NULL,
    reason    TEXT    NOT NULL,
    n         BIGINT  NOT NULL,
    PRIMARY KEY (tenant_id, reason)
);

-- vern_refuse_change() comes from 0001.
CREATE TRIGGER consent_events_no_update BEFORE UPDATE ON consent_events
    FOR EACH ROW EXECUTE FUNCTION vern_refuse_change();
CREATE TRIGGER consent_events_no_delete BEFORE DELETE ON consent_events
    FOR EACH ROW EXECUTE FUNCTION vern_refuse_change();
CREATE TRIGGER consent_events_no_truncate BEFORE TRUNCATE ON consent_events
    FOR EACH STATEMENT EXECUTE FUNCTION vern_refuse_change();

CREATE TRIGGER suppression_no_update BEFORE UPDATE ON suppression
    FOR EACH ROW EXECUTE FUNCTION vern_refuse_change();
CREATE TRIGGER suppression_no_delete BEFORE DELETE ON suppression
    FOR EACH ROW EXECUTE FUNCTION vern_refuse_change();
CREATE TRIGGER suppression_no_truncate BEFORE TRUNCATE ON suppression
    FOR EACH STATEMENT EXECUTE FUNCTION vern_refuse_change();
