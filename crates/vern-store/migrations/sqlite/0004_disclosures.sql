-- The disclosure register (GDPR Art. 15(1)(c), 19, 30(1)(d)): one row per subject per
-- disclosure, append-only. Holds no personal data: the subject appears by pseudonymous id.
CREATE TABLE disclosures (
    tenant_id           BLOB    NOT NULL,
    id                  BLOB    NOT NULL,
    disclosure_id       BLOB    NOT NULL,
    subject_id          BLOB    NOT NULL,
    recipient           TEXT    NOT NULL,
    categories          TEXT    NOT NULL,
    purpose             TEXT    NOT NULL,
    legal_basis         TEXT    NOT NULL,
    mechanism           TEXT    NOT NULL,
    transfer            TEXT,
    legal_decision      TEXT,
    nondisclosure_until INTEGER,
    recorded_by         TEXT    NOT NULL,
    disclosed_at        INTEGER NOT NULL,
    PRIMARY KEY (tenant_id, id)
) STRICT;

CREATE INDEX disclosures_by_subject ON disclosures (tenant_id, subject_id, disclosed_at);
CREATE INDEX disclosures_by_disclosure ON disclosures (tenant_id, disclosure_id);

CREATE TRIGGER disclosures_no_update BEFORE UPDATE ON disclosures
BEGIN
    SELECT RAISE(ABORT, 'append-only: disclosures cannot be updated');
END;

CREATE TRIGGER disclosures_no_delete BEFORE DELETE ON disclosures
BEGIN
    SELECT RAISE(ABORT, 'append-only: disclosures cannot be deleted from');
END;
