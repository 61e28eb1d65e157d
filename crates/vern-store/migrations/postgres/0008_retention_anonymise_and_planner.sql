-- Retention, continued (PostgreSQL dialect; must stay in step with
-- ../sqlite/0008_retention_anonymise_and_planner.sql). PostgreSQL keeps its own planner
-- statistics (autovacuum's ANALYZE); the SQLite file's statistics part has no counterpart.

-- What a rule with `action = "anonymise"` leaves of the records it removes: counts only, no
-- subject, no record id, no value.
CREATE TABLE anonymised_counts (
    tenant_id       BYTEA  NOT NULL,
    rule            TEXT   NOT NULL,
    category        TEXT   NOT NULL,
    purposes        TEXT   NOT NULL,
    source          TEXT   NOT NULL,
    collected_month TEXT   NOT NULL,
    count           BIGINT NOT NULL,
    updated_at      BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, rule, category, purposes, source, collected_month)
);
