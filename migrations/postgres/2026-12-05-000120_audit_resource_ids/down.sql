ALTER TABLE audit_log DROP COLUMN resource_ids;
