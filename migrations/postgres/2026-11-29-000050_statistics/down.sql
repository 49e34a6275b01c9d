DROP INDEX follow_ups_status_updated_idx;
DROP INDEX follow_ups_created_idx;
DROP INDEX referrals_created_idx;
