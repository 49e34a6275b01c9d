DROP INDEX referrals_follow_up_idx;
DROP INDEX appointments_follow_up_idx;
DROP TABLE erasure_requests;
DROP TABLE referral_age_bands;
DROP TABLE follow_up_archive;
ALTER TABLE people DROP COLUMN version;
