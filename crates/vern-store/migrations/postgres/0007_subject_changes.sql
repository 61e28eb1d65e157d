-- The change log behind each node's decision cache (decision 0008). Must stay in step with
-- ../sqlite/0007_subject_changes.sql (same tables and trigger names; checked by the parity test).
-- Every write that can change a decision appends a row here from a trigger, in the same
-- transaction. `seq` counts per tenant through subject_change_head, whose row a writer locks
-- until commit: rows become visible in seq order, so a node polling `seq > last seen` misses
-- none. Not proof: old rows are pruned by the nodes.
CREATE TABLE subject_change_head (
    tenant_id BYTEA  NOT NULL,
    seq       BIGINT NOT NULL,
    PRIMARY KEY (tenant_id)
);

CREATE TABLE subject_changes (
    tenant_id  BYTEA  NOT NULL,
    seq        BIGINT NOT NULL,
    subject_id BYTEA,
    kind       TEXT,
    hash       BYTEA,
    PRIMARY KEY (tenant_id, seq)
);

-- The consent expiry sweep reads granted consents by expiry time.
CREATE INDEX consent_state_expiry_idx ON consent_state (tenant_id, expires_at);

CREATE FUNCTION vern_subject_changed() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    r    RECORD;
    s    BIGINT;
    subj BYTEA;
    k    TEXT;
    h    BYTEA;
BEGIN
    IF TG_OP = 'DELETE' THEN r := OLD; ELSE r := NEW; END IF;
    IF TG_TABLE_NAME = 'subjects' THEN
        subj := r.id;
    ELSIF TG_TABLE_NAME = 'identifiers' THEN
        subj := r.subject_id; k := r.kind; h := r.blind_index;
    ELSIF TG_TABLE_NAME = 'suppression' THEN
        k := r.kind; h := r.hash;
    ELSIF TG_TABLE_NAME = 'api_tokens' THEN
        k := 'token'; h := r.token_hash;
    ELSE
        subj := r.subject_id;
    END IF;
    INSERT INTO subject_change_head AS head (tenant_id, seq) VALUES (r.tenant_id, 1)
        ON CONFLICT (tenant_id) DO UPDATE SET seq = head.seq + 1
        RETURNING head.seq INTO s;
    INSERT INTO subject_changes (tenant_id, seq, subject_id, kind, hash)
        VALUES (r.tenant_id, s, subj, k, h);
    RETURN NULL;
END
$$;

CREATE TRIGGER subjects_changed_upd AFTER UPDATE ON subjects
    FOR EACH ROW EXECUTE FUNCTION vern_subject_changed();
CREATE TRIGGER subjects_changed_del AFTER DELETE ON subjects
    FOR EACH ROW EXECUTE FUNCTION vern_subject_changed();
CREATE TRIGGER identifiers_changed_ins AFTER INSERT ON identifiers
    FOR EACH ROW EXECUTE FUNCTION vern_subject_changed();
CREATE TRIGGER identifiers_changed_del AFTER DELETE ON identifiers
    FOR EACH ROW EXECUTE FUNCTION vern_subject_changed();
CREATE TRIGGER consent_state_changed_ins AFTER INSERT ON consent_state
    FOR EACH ROW EXECUTE FUNCTION vern_subject_changed();
CREATE TRIGGER consent_state_changed_upd AFTER UPDATE ON consent_state
    FOR EACH ROW EXECUTE FUNCTION vern_subject_changed();
CREATE TRIGGER consent_state_changed_del AFTER DELETE ON consent_state
    FOR EACH ROW EXECUTE FUNCTION vern_subject_changed();
CREATE TRIGGER objections_changed_ins AFTER INSERT ON objections
    FOR EACH ROW EXECUTE FUNCTION vern_subject_changed();
CREATE TRIGGER objections_changed_upd AFTER UPDATE ON objections
    FOR EACH ROW EXECUTE FUNCTION vern_subject_changed();
CREATE TRIGGER objections_changed_del AFTER DELETE ON objections
    FOR EACH ROW EXECUTE FUNCTION vern_subject_changed();
CREATE TRIGGER subject_flags_changed_ins AFTER INSERT ON subject_flags
    FOR EACH ROW EXECUTE FUNCTION vern_subject_changed();
CREATE TRIGGER subject_flags_changed_upd AFTER UPDATE ON subject_flags
    FOR EACH ROW EXECUTE FUNCTION vern_subject_changed();
CREATE TRIGGER subject_flags_changed_del AFTER DELETE ON subject_flags
    FOR EACH ROW EXECUTE FUNCTION vern_subject_changed();
CREATE TRIGGER suppression_changed_ins AFTER INSERT ON suppression
    FOR EACH ROW EXECUTE FUNCTION vern_subject_changed();
CREATE TRIGGER api_tokens_changed_upd AFTER UPDATE ON api_tokens
    FOR EACH ROW EXECUTE FUNCTION vern_subject_changed();
CREATE TRIGGER api_tokens_changed_del AFTER DELETE ON api_tokens
    FOR EACH ROW EXECUTE FUNCTION vern_subject_changed();
