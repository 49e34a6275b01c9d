-- Retention, erasure and rectification (data-protection duties).

-- People are rectified with If-Match like every other record.
ALTER TABLE people ADD COLUMN version BIGINT NOT NULL DEFAULT 1;

-- The restricted archive: a follow-up listed here has left the active base
-- (404 on every ordinary route; readable by the supervisor and archivists).
-- Its rows stay where they are so that statistics keep counting them.
CREATE TABLE follow_up_archive (
    follow_up_id TEXT PRIMARY KEY NOT NULL REFERENCES follow_ups (id),
    last_contact_at TIMESTAMP NOT NULL,
    archived_at TIMESTAMP NOT NULL,
    pseudonymised_at TIMESTAMP
);
CREATE INDEX follow_up_archive_archived_idx ON follow_up_archive (archived_at, follow_up_id);

-- The age band of a referral's person at the referral, fixed before the
-- birth date is removed: statistics by age band stay the same.
CREATE TABLE referral_age_bands (
    referral_id TEXT PRIMARY KEY NOT NULL REFERENCES referrals (id),
    age_band TEXT NOT NULL
);

-- Erasure requests (RGPD art. 17): recorded, then executed or refused with
-- the legal reason. Never deleted.
CREATE TABLE erasure_requests (
    id TEXT PRIMARY KEY NOT NULL,
    person_id TEXT NOT NULL REFERENCES people (id),
    requested_by TEXT NOT NULL,
    received_at TIMESTAMP NOT NULL,
    status TEXT NOT NULL,
    refusal TEXT,
    recorded_by TEXT NOT NULL,
    decided_by TEXT,
    decided_at TIMESTAMP,
    version BIGINT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE INDEX erasure_requests_list_idx ON erasure_requests (created_at, id);
CREATE INDEX erasure_requests_person_idx ON erasure_requests (person_id);

-- The retention job reads each follow-up's latest appointment and linked
-- referral: without these it scans every appointment per follow-up.
CREATE INDEX appointments_follow_up_idx ON appointments (follow_up_id, starts_at);
CREATE INDEX referrals_follow_up_idx ON referrals (follow_up_id, created_at);
