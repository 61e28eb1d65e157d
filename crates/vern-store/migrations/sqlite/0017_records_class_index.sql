-- Record classes (docs/decisions/0020): a policy change recomputes the expiry of each
-- (category, purposes) class with one set-based UPDATE. This index finds the distinct classes
-- without reading the table, and lets each class's UPDATE visit only that class's rows
-- instead of scanning the tenant once per class.
CREATE INDEX records_class_idx ON records (tenant_id, category, purposes);

-- Planner statistics in the shape of migration 0008 (one large tenant; a class holds many
-- records, far more than a subject), so per-subject lookups keep records_subject_idx. Kept if
-- a row exists already; a real ANALYZE replaces it.
INSERT INTO sqlite_stat1 (tbl, idx, stat)
SELECT 'records', 'records_class_idx', '1000000 1000000 50000 20000'
WHERE NOT EXISTS (SELECT 1 FROM sqlite_stat1 s WHERE s.tbl = 'records' AND s.idx = 'records_class_idx');
ANALYZE sqlite_schema;
