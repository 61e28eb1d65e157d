-- Consent ledger, objections, restriction and suppression (SQLite). Must stay in step with
-- ../postgres/0002_consent.sql (checked by the parity test).

-- The consent ledger: append-only and hash-chained per tenant like audit_log. No foreign key
-- to subjects on purpose: the proof of consent outlives the subject (Art. 7(1), 5(2)), and an
-- erasure must not be refused by the append-only guard cascading into this table.
CREATE TABLE consent_events (
    tenant_id        BLOB    NOT NULL,
    seq              INTEGER NOT NULL,
    id               BLOB    NOT NULL,
    subject_id       BLOB    NOT NULL,
    scope            TEXT    NOT NULL,
    -- '' for a consent scope without channels.
    channel          TEXT    NOT NULL,
    action           TEXT    NOT NULL,
    at               INTEGER NOT NULL,
    expires_at       INTEGER,
    policy_hash      TEXT    NOT NULL,
    notice_hash      TEXT    NOT NULL,
    collection_point TEXT    NOT NULL,
    method           TEXT    NOT NULL,
    ip_truncated     TEXT,
    user_agent       TEXT,
    idempotency_key  TEXT,
    actor            TEXT    NOT NULL,
    prev_hash        BLOB    NOT NULL,
    hash             BLOB    NOT NULL,
    PRIMARY KEY (tenant_id, seq)
) STRICT, WITHOUT ROWID;

CREATE UNIQUE INDEX consent_events_id_key ON consent_events (tenant_id, id);
CREATE INDEX consent_events_subject_idx ON consent_events (tenant_id, subject_id, seq);

CREATE TABLE consent_head (
    tenant_id BLOB    NOT NULL,
    seq       INTEGER NOT NULL,
    hash      BLOB    NOT NULL,
    PRIMARY KEY (tenant_id)
) STRICT, WITHOUT ROWID;

-- The current state: the last event per (subject, scope, channel), written in the same
-- transaction as the event. Goes with the subject on erasure (the ledger keeps the proof).
CREATE TABLE consent_state (
    tenant_id  BLOB    NOT NULL,
    subject_id BLOB    NOT NULL,
    scope      TEXT    NOT NULL,
    channel    TEXT    NOT NULL,
    action     TEXT    NOT NULL,
    at         INTEGER NOT NULL,
    expires_at INTEGER,
    event_id   BLOB    NOT NULL,
    seq        INTEGER NOT NULL,
    PRIMARY KEY (tenant_id, subject_id, scope, channel),
    FOREIGN KEY (tenant_id, subject_id) REFERENCES subjects (tenant_id, id) ON DELETE CASCADE
) STRICT, WITHOUT ROWID;

-- Objections (Art. 21): target is a purpose id, or '*direct_marketing' for an objection to all
-- direct marketing. Compelling grounds (relative objections only) are sealed text, set once.
CREATE TABLE objections (
    tenant_id  BLOB    NOT NULL,
    id         BLOB    NOT NULL,
    subject_id BLOB    NOT NULL,
    target     TEXT    NOT NULL,
    created_at INTEGER NOT NULL,
    grounds_ct BLOB,
    grounds_at INTEGER,
    grounds_by TEXT,
    PRIMARY KEY (tenant_id, id),
    FOREIGN KEY (tenant_id, subject_id) REFERENCES subjects (tenant_id, id) ON DELETE CASCADE
) STRICT, WITHOUT ROWID;

CREATE UNIQUE INDEX objections_subject_target_key ON objections (tenant_id, subject_id, target);

-- Restriction of processing (Art. 18): restricted while restricted_at is set.
CREATE TABLE subject_flags (
    tenant_id     BLOB    NOT NULL,
    subject_id    BLOB    NOT NULL,
    restricted_at INTEGER,
    updated_at    INTEGER NOT NULL,
    PRIMARY KEY (tenant_id, subject_id),
    FOREIGN KEY (tenant_id, subject_id) REFERENCES subjects (tenant_id, id) ON DELETE CASCADE
) STRICT, WITHOUT ROWID;

-- Addresses that must never receive marketing again: keyed hashes (the blind-index key) of the
-- normalised email or phone, no plaintext and no subject, so the entry survives erasure.
CREATE TABLE suppression (
    tenant_id  BLOB    NOT NULL,
    kind       TEXT    NOT NULL,
    hash       BLOB    NOT NULL,
    reason     TEXT    NOT NULL,
    created_at INTEGER NOT NULL,
    PRIMARY KEY (tenant_id, kind, hash)
) STRICT, WITHOUT ROWID;

CREATE TRIGGER consent_events_no_update BEFORE UPDATE ON consent_events
BEGIN
    SELECT RAISE(ABORT, 'append-only: consent_events cannot be updated');
END;

CREATE TRIGGER consent_events_no_delete BEFORE DELETE ON consent_events
BEGIN
    SELECT RAISE(ABORT, 'append-only: consent_events cannot be deleted from');
END;

CREATE TRIGGER suppression_no_update BEFORE UPDATE ON suppression
BEGIN
    SELECT RAISE(ABORT, 'append-only: suppression cannot be updated');
END;

CREATE TRIGGER suppression_no_delete BEFORE DELETE ON suppression
BEGIN
    SELECT RAISE(ABORT, 'append-only: suppression cannot be deleted from');
END;

-- Behavioural events admitted for profiling (after the consent check at the door). The event
-- itself (kind, topic) is sealed with the subject key; the interest profile is derived from
-- these rows, so deleting them deletes the profile.
CREATE TABLE events (
    tenant_id    BLOB    NOT NULL,
    id           BLOB    NOT NULL,
    subject_id   BLOB    NOT NULL,
    purpose      TEXT    NOT NULL,
    channel      TEXT,
    at           INTEGER NOT NULL,
    ip_truncated TEXT,
    body_ct      BLOB    NOT NULL,
    created_at   INTEGER NOT NULL,
    PRIMARY KEY (tenant_id, id),
    FOREIGN KEY (tenant_id, subject_id) REFERENCES subjects (tenant_id, id) ON DELETE CASCADE
) STRICT, WITHOUT ROWID;

CREATE INDEX events_subject_idx ON events (tenant_id, subject_id, id);

-- Events dropped at the door, counted per reason (shared by every node).
CREATE TABLE event_drops (
    tenant_id BLOB    NOT NULL,
    reason    TEXT    NOT NULL,
    n         INTEGER NOT NULL,
    PRIMARY KEY (tenant_id, reason)
) STRICT, WITHOUT ROWID;
