-- The records a list read returned, space-separated ids (one entry per
-- read, naming every record it showed). Covered by the hash chain.
ALTER TABLE audit_log ADD COLUMN resource_ids TEXT;
