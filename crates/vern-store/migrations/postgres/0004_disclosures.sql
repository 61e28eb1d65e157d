-- The disclosure register (GDPR Art. 15(1)(c), 19, 30(1)(d)): one row per subject per
-- disclosure, append-only. Holds no personal data: the subject appears by pseudonymous id.
CREATE TABLE disclosures (
    tenant_id           BYTEA  NOT NULL,
    id                  BYTEA  NOT NULL,
    disclosure_id       BYTEA  NOT NULL,
    subject_id          BYTEA  NOT NULL,
    recipient           TEXT   NOT NULL,
    categories          TEXT   NOT NULL,
    purpose             TEXT   NOT NULL,
    legal_basis         TEXT   NOT NULL,
    mechanism           TEXT   NOT NULL,
    transfer            TEXT,
    legal_decision      TEXT,
    nondisclosure_until BIGINT,
    recorded_by         TEXT   NOT NULL,
    disclosed_at        BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, id)
);

CREATE INDEX disclosures_by_subject ON disclosures (tenant_id, subject_id, disclosed_at);
CREATE INDEX disclosures_by_disclosure ON disclosures (tenant_id, disclosure_id);

CREATE TRIGGER disclosures_no_update BEFORE UPDATE ON disclosures
    FOR EACH ROW EXECUTE FUNCTION vern_refuse_change();
CREATE TRIGGER disclosures_no_delete BEFORE DELETE ON disclosures
    FOR EACH ROW EXECUTE FUNCTION vern_refuse_change();
CREATE TRIGGER disclosures_no_truncate BEFORE TRUNCATE ON disclosures
    FOR EACH STATEMENT EXECUTE FUNCTION vern_refuse_change();
