-- Record classes (docs/decisions/0020): a policy change recomputes the expiry of each
-- (category, purposes) class with one set-based UPDATE. This index finds the distinct classes
-- without reading the table, and lets each class's UPDATE visit only that class's rows.
CREATE INDEX records_class_idx ON records (tenant_id, category, purposes);
