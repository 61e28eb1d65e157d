-- The change log behind each node's decision cache (decision 0008). Every write that can change
-- a decision (consent state, objections, restriction, identifiers, suppression, a subject's
-- type or erasure, API tokens) appends a row here from a trigger, in the same transaction, so
-- no code path (API, CLI import, retention sweep, rights work) can forget it. `seq` counts per
-- tenant through subject_change_head, whose row a writer holds until commit: rows therefore
-- become visible in seq order, and a node that polls `seq > last seen` misses none.
-- Not proof: old rows are pruned by the nodes. (No INSERT OR IGNORE in the triggers: an outer
-- statement's conflict clause, e.g. an upsert, would override it.)
CREATE TABLE subject_change_head (
    tenant_id BLOB    NOT NULL,
    seq       INTEGER NOT NULL,
    PRIMARY KEY (tenant_id)
) STRICT, WITHOUT ROWID;

CREATE TABLE subject_changes (
    tenant_id  BLOB    NOT NULL,
    seq        INTEGER NOT NULL,
    -- The subject whose decision state changed, when there is one.
    subject_id BLOB,
    -- 'email' / 'phone' with the blind index of an identifier or suppression entry; 'token'
    -- with the token hash of an API token.
    kind       TEXT,
    hash       BLOB,
    PRIMARY KEY (tenant_id, seq)
) STRICT, WITHOUT ROWID;

-- The consent expiry sweep reads granted consents by expiry time.
CREATE INDEX consent_state_expiry_idx ON consent_state (tenant_id, expires_at);

CREATE TRIGGER subjects_changed_upd AFTER UPDATE ON subjects
BEGIN
    INSERT INTO subject_change_head (tenant_id, seq) SELECT NEW.tenant_id, 0
        WHERE NOT EXISTS (SELECT 1 FROM subject_change_head WHERE tenant_id = NEW.tenant_id);
    UPDATE subject_change_head SET seq = seq + 1 WHERE tenant_id = NEW.tenant_id;
    INSERT INTO subject_changes (tenant_id, seq, subject_id, kind, hash)
        SELECT NEW.tenant_id, seq, NEW.id, NULL, NULL FROM subject_change_head
        WHERE tenant_id = NEW.tenant_id;
END;

CREATE TRIGGER subjects_changed_del AFTER DELETE ON subjects
BEGIN
    INSERT INTO subject_change_head (tenant_id, seq) SELECT OLD.tenant_id, 0
        WHERE NOT EXISTS (SELECT 1 FROM subject_change_head WHERE tenant_id = OLD.tenant_id);
    UPDATE subject_change_head SET seq = seq + 1 WHERE tenant_id = OLD.tenant_id;
    INSERT INTO subject_changes (tenant_id, seq, subject_id, kind, hash)
        SELECT OLD.tenant_id, seq, OLD.id, NULL, NULL FROM subject_change_head
        WHERE tenant_id = OLD.tenant_id;
END;

CREATE TRIGGER identifiers_changed_ins AFTER INSERT ON identifiers
BEGIN
    INSERT INTO subject_change_head (tenant_id, seq) SELECT NEW.tenant_id, 0
        WHERE NOT EXISTS (SELECT 1 FROM subject_change_head WHERE tenant_id = NEW.tenant_id);
    UPDATE subject_change_head SET seq = seq + 1 WHERE tenant_id = NEW.tenant_id;
    INSERT INTO subject_changes (tenant_id, seq, subject_id, kind, hash)
        SELECT NEW.tenant_id, seq, NEW.subject_id, NEW.kind, NEW.blind_index
        FROM subject_change_head WHERE tenant_id = NEW.tenant_id;
END;

CREATE TRIGGER identifiers_changed_del AFTER DELETE ON identifiers
BEGIN
    INSERT INTO subject_change_head (tenant_id, seq) SELECT OLD.tenant_id, 0
        WHERE NOT EXISTS (SELECT 1 FROM subject_change_head WHERE tenant_id = OLD.tenant_id);
    UPDATE subject_change_head SET seq = seq + 1 WHERE tenant_id = OLD.tenant_id;
    INSERT INTO subject_changes (tenant_id, seq, subject_id, kind, hash)
        SELECT OLD.tenant_id, seq, OLD.subject_id, OLD.kind, OLD.blind_index
        FROM subject_change_head WHERE tenant_id = OLD.tenant_id;
END;

CREATE TRIGGER consent_state_changed_ins AFTER INSERT ON consent_state
BEGIN
    INSERT INTO subject_change_head (tenant_id, seq) SELECT NEW.tenant_id, 0
        WHERE NOT EXISTS (SELECT 1 FROM subject_change_head WHERE tenant_id = NEW.tenant_id);
    UPDATE subject_change_head SET seq = seq + 1 WHERE tenant_id = NEW.tenant_id;
    INSERT INTO subject_changes (tenant_id, seq, subject_id, kind, hash)
        SELECT NEW.tenant_id, seq, NEW.subject_id, NULL, NULL FROM subject_change_head
        WHERE tenant_id = NEW.tenant_id;
END;

CREATE TRIGGER consent_state_changed_upd AFTER UPDATE ON consent_state
BEGIN
    INSERT INTO subject_change_head (tenant_id, seq) SELECT NEW.tenant_id, 0
        WHERE NOT EXISTS (SELECT 1 FROM subject_change_head WHERE tenant_id = NEW.tenant_id);
    UPDATE subject_change_head SET seq = seq + 1 WHERE tenant_id = NEW.tenant_id;
    INSERT INTO subject_changes (tenant_id, seq, subject_id, kind, hash)
        SELECT NEW.tenant_id, seq, NEW.subject_id, NULL, NULL FROM subject_change_head
        WHERE tenant_id = NEW.tenant_id;
END;

CREATE TRIGGER consent_state_changed_del AFTER DELETE ON consent_state
BEGIN
    INSERT INTO subject_change_head (tenant_id, seq) SELECT OLD.tenant_id, 0
        WHERE NOT EXISTS (SELECT 1 FROM subject_change_head WHERE tenant_id = OLD.tenant_id);
    UPDATE subject_change_head SET seq = seq + 1 WHERE tenant_id = OLD.tenant_id;
    INSERT INTO subject_changes (tenant_id, seq, subject_id, kind, hash)
        SELECT OLD.tenant_id, seq, OLD.subject_id, NULL, NULL FROM subject_change_head
        WHERE tenant_id = OLD.tenant_id;
END;

CREATE TRIGGER objections_changed_ins AFTER INSERT ON objections
BEGIN
    INSERT INTO subject_change_head (tenant_id, seq) SELECT NEW.tenant_id, 0
        WHERE NOT EXISTS (SELECT 1 FROM subject_change_head WHERE tenant_id = NEW.tenant_id);
    UPDATE subject_change_head SET seq = seq + 1 WHERE tenant_id = NEW.tenant_id;
    INSERT INTO subject_changes (tenant_id, seq, subject_id, kind, hash)
        SELECT NEW.tenant_id, seq, NEW.subject_id, NULL, NULL FROM subject_change_head
        WHERE tenant_id = NEW.tenant_id;
END;

CREATE TRIGGER objections_changed_upd AFTER UPDATE ON objections
BEGIN
    INSERT INTO subject_change_head (tenant_id, seq) SELECT NEW.tenant_id, 0
        WHERE NOT EXISTS (SELECT 1 FROM subject_change_head WHERE tenant_id = NEW.tenant_id);
    UPDATE subject_change_head SET seq = seq + 1 WHERE tenant_id = NEW.tenant_id;
    INSERT INTO subject_changes (tenant_id, seq, subject_id, kind, hash)
        SELECT NEW.tenant_id, seq, NEW.subject_id, NULL, NULL FROM subject_change_head
        WHERE tenant_id = NEW.tenant_id;
END;

CREATE TRIGGER objections_changed_del AFTER DELETE ON objections
BEGIN
    INSERT INTO subject_change_head (tenant_id, seq) SELECT OLD.tenant_id, 0
        WHERE NOT EXISTS (SELECT 1 FROM subject_change_head WHERE tenant_id = OLD.tenant_id);
    UPDATE subject_change_head SET seq = seq + 1 WHERE tenant_id = OLD.tenant_id;
    INSERT INTO subject_changes (tenant_id, seq, subject_id, kind, hash)
        SELECT OLD.tenant_id, seq, OLD.subject_id, NULL, NULL FROM subject_change_head
        WHERE tenant_id = OLD.tenant_id;
END;

CREATE TRIGGER subject_flags_changed_ins AFTER INSERT ON subject_flags
BEGIN
    INSERT INTO subject_change_head (tenant_id, seq) SELECT NEW.tenant_id, 0
        WHERE NOT EXISTS (SELECT 1 FROM subject_change_head WHERE tenant_id = NEW.tenant_id);
    UPDATE subject_change_head SET seq = seq + 1 WHERE tenant_id = NEW.tenant_id;
    INSERT INTO subject_changes (tenant_id, seq, subject_id, kind, hash)
        SELECT NEW.tenant_id, seq, NEW.subject_id, NULL, NULL FROM subject_change_head
        WHERE tenant_id = NEW.tenant_id;
END;

CREATE TRIGGER subject_flags_changed_upd AFTER UPDATE ON subject_flags
BEGIN
    INSERT INTO subject_change_head (tenant_id, seq) SELECT NEW.tenant_id, 0
        WHERE NOT EXISTS (SELECT 1 FROM subject_change_head WHERE tenant_id = NEW.tenant_id);
    UPDATE subject_change_head SET seq = seq + 1 WHERE tenant_id = NEW.tenant_id;
    INSERT INTO subject_changes (tenant_id, seq, subject_id, kind, hash)
        SELECT NEW.tenant_id, seq, NEW.subject_id, NULL, NULL FROM subject_change_head
        WHERE tenant_id = NEW.tenant_id;
END;

CREATE TRIGGER subject_flags_changed_del AFTER DELETE ON subject_flags
BEGIN
    INSERT INTO subject_change_head (tenant_id, seq) SELECT OLD.tenant_id, 0
        WHERE NOT EXISTS (SELECT 1 FROM subject_change_head WHERE tenant_id = OLD.tenant_id);
    UPDATE subject_change_head SET seq = seq + 1 WHERE tenant_id = OLD.tenant_id;
    INSERT INTO subject_changes (tenant_id, seq, subject_id, kind, hash)
        SELECT OLD.tenant_id, seq, OLD.subject_id, NULL, NULL FROM subject_change_head
        WHERE tenant_id = OLD.tenant_id;
END;

CREATE TRIGGER suppression_changed_ins AFTER INSERT ON suppression
BEGIN
    INSERT INTO subject_change_head (tenant_id, seq) SELECT NEW.tenant_id, 0
        WHERE NOT EXISTS (SELECT 1 FROM subject_change_head WHERE tenant_id = NEW.tenant_id);
    UPDATE subject_change_head SET seq = seq + 1 WHERE tenant_id = NEW.tenant_id;
    INSERT INTO subject_changes (tenant_id, seq, subject_id, kind, hash)
        SELECT NEW.tenant_id, seq, NULL, NEW.kind, NEW.hash FROM subject_change_head
        WHERE tenant_id = NEW.tenant_id;
END;

CREATE TRIGGER api_tokens_changed_upd AFTER UPDATE ON api_tokens
BEGIN
    INSERT INTO subject_change_head (tenant_id, seq) SELECT NEW.tenant_id, 0
        WHERE NOT EXISTS (SELECT 1 FROM subject_change_head WHERE tenant_id = NEW.tenant_id);
    UPDATE subject_change_head SET seq = seq + 1 WHERE tenant_id = NEW.tenant_id;
    INSERT INTO subject_changes (tenant_id, seq, subject_id, kind, hash)
        SELECT NEW.tenant_id, seq, NULL, 'token', NEW.token_hash FROM subject_change_head
        WHERE tenant_id = NEW.tenant_id;
END;

CREATE TRIGGER api_tokens_changed_del AFTER DELETE ON api_tokens
BEGIN
    INSERT INTO subject_change_head (tenant_id, seq) SELECT OLD.tenant_id, 0
        WHERE NOT EXISTS (SELECT 1 FROM subject_change_head WHERE tenant_id = OLD.tenant_id);
    UPDATE subject_change_head SET seq = seq + 1 WHERE tenant_id = OLD.tenant_id;
    INSERT INTO subject_changes (tenant_id, seq, subject_id, kind, hash)
        SELECT OLD.tenant_id, seq, NULL, 'token', OLD.token_hash FROM subject_change_head
        WHERE tenant_id = OLD.tenant_id;
END;
