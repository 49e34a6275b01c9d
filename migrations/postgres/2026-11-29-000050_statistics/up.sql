-- Statistics count by period over these instants (range scans, GROUP BY).
CREATE INDEX referrals_created_idx ON referrals (created_at, departement_code);
CREATE INDEX follow_ups_created_idx ON follow_ups (created_at, departement_code);
CREATE INDEX follow_ups_status_updated_idx ON follow_ups (status, updated_at);
