-- Retention, continued (SQLite dialect; must stay in step with
-- ../postgres/0008_retention_anonymise_and_planner.sql).

-- What a rule with `action = "anonymise"` leaves of the records it removes: counts by rule,
-- category, purposes, source and month of collection. No subject, no record id, no value:
-- the record row (its ciphertext under the subject key) is deleted, and nothing here can be
-- linked back to a person. Counts only grow.
CREATE TABLE anonymised_counts (
    tenant_id       BLOB    NOT NULL,
    rule            TEXT    NOT NULL,
    category        TEXT    NOT NULL,
    -- JSON array of purpose keys, as on the record.
    purposes        TEXT    NOT NULL,
    source          TEXT    NOT NULL,
    -- 'YYYY-MM' (UTC) of the collection time.
    collected_month TEXT    NOT NULL,
    count           INTEGER NOT NULL,
    updated_at      INTEGER NOT NULL,
    PRIMARY KEY (tenant_id, rule, category, purposes, source, collected_month)
) STRICT, WITHOUT ROWID;

-- Planner statistics (docs/decisions/0009). Without sqlite_stat1 rows SQLite prefers, on a
-- WITHOUT ROWID table keyed (tenant_id, id), the primary key with `tenant_id = ?` alone over an
-- index on (tenant_id, subject_id): every per-subject lookup, and every foreign-key cascade
-- when a subject is deleted, then scans all the tenant's rows (a sweep erasing 2,000
-- subjects among 20,000 records took 15 s instead of 50 ms). These rows describe the shape the
-- tables have in use (one large tenant, few rows per subject) so the subject indexes win. A
-- real ANALYZE later replaces them with measured figures. Rows already present are kept.
ANALYZE audit_head;
INSERT INTO sqlite_stat1 (tbl, idx, stat)
SELECT v.column1, v.column2, v.column3 FROM (VALUES
    ('subjects', 'subjects', '1000000 1000000 1'),
    ('identifiers', 'identifiers', '1000000 1000000 1'),
    ('identifiers', 'identifiers_subject_idx', '1000000 1000000 2'),
    ('identifiers', 'identifiers_blind_index_key', '1000000 1000000 500000 1'),
    ('records', 'records', '1000000 1000000 1'),
    ('records', 'records_subject_idx', '1000000 1000000 10 1'),
    ('records', 'records_expiry_idx', '1000000 1000000 10'),
    ('audit_log', 'audit_log', '1000000 1000000 1'),
    ('audit_log', 'audit_log_id_key', '1000000 1000000 1'),
    ('audit_log', 'audit_log_subject_idx', '1000000 1000000 20'),
    ('consent_events', 'consent_events', '1000000 1000000 1'),
    ('consent_events', 'consent_events_id_key', '1000000 1000000 1'),
    ('consent_events', 'consent_events_subject_idx', '1000000 1000000 5 1'),
    ('consent_state', 'consent_state', '1000000 1000000 3 2 1'),
    ('objections', 'objections', '1000000 1000000 1'),
    ('objections', 'objections_subject_target_key', '1000000 1000000 2 1'),
    ('subject_flags', 'subject_flags', '1000000 1000000 1'),
    ('events', 'events', '1000000 1000000 1'),
    ('events', 'events_subject_idx', '1000000 1000000 50 1'),
    ('deletion_evidence', 'deletion_evidence', '1000000 1000000 1'),
    ('deletion_evidence', 'deletion_evidence_subject_idx', '1000000 1000000 3')
) AS v
WHERE NOT EXISTS (SELECT 1 FROM sqlite_stat1 s WHERE s.tbl = v.column1 AND s.idx = v.column2);
-- Load the statistics into this connection (other connections reload with the schema).
ANALYZE sqlite_schema;
