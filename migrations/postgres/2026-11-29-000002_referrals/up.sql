-- People, referrals and their timeline, follow-ups, objectives and notes.
-- Dates are TEXT 'YYYY-MM-DD'; instants TIMESTAMP holding UTC.

CREATE TABLE people (
    id TEXT PRIMARY KEY NOT NULL,
    kind TEXT NOT NULL,
    first_name TEXT NOT NULL,
    last_name TEXT,
    name_key TEXT NOT NULL,
    birth_date TEXT,
    birth_year INTEGER,
    gender TEXT,
    departement_code TEXT REFERENCES departements (code),
    placement TEXT,
    measure TEXT,
    relationship TEXT,
    parental_authority BOOLEAN,
    organisation_name TEXT,
    professional_role TEXT,
    contact TEXT,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE INDEX people_duplicates_idx ON people (name_key, birth_date, departement_code);

CREATE TABLE reference_counters (
    kind TEXT NOT NULL,
    year INTEGER NOT NULL,
    next_value BIGINT NOT NULL,
    PRIMARY KEY (kind, year)
);

CREATE TABLE follow_ups (
    id TEXT PRIMARY KEY NOT NULL,
    reference TEXT NOT NULL UNIQUE,
    person_id TEXT NOT NULL REFERENCES people (id),
    departement_code TEXT NOT NULL REFERENCES departements (code),
    lead_staff_id TEXT NOT NULL REFERENCES accounts (id),
    status TEXT NOT NULL,
    closure_reason TEXT,
    measure_kind TEXT,
    measure_start TEXT,
    measure_end TEXT,
    version BIGINT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE INDEX follow_ups_lead_idx ON follow_ups (lead_staff_id, updated_at);
CREATE INDEX follow_ups_departement_idx ON follow_ups (departement_code, updated_at);

CREATE TABLE follow_up_staff (
    follow_up_id TEXT NOT NULL REFERENCES follow_ups (id),
    account_id TEXT NOT NULL REFERENCES accounts (id),
    PRIMARY KEY (follow_up_id, account_id)
);
CREATE INDEX follow_up_staff_account_idx ON follow_up_staff (account_id);

-- Relatives and partner professionals involved in a follow-up.
CREATE TABLE follow_up_people (
    follow_up_id TEXT NOT NULL REFERENCES follow_ups (id),
    person_id TEXT NOT NULL REFERENCES people (id),
    added_at TIMESTAMP NOT NULL,
    PRIMARY KEY (follow_up_id, person_id)
);

CREATE TABLE follow_up_objectives (
    id TEXT PRIMARY KEY NOT NULL,
    follow_up_id TEXT NOT NULL REFERENCES follow_ups (id),
    objective TEXT NOT NULL,
    status TEXT NOT NULL,
    changed_at TIMESTAMP NOT NULL,
    changed_by TEXT NOT NULL
);
CREATE INDEX follow_up_objectives_idx ON follow_up_objectives (follow_up_id, changed_at);

-- Notes are the most sensitive data: only ciphertext is stored (AEAD),
-- with the id of the key that sealed it.
CREATE TABLE follow_up_notes (
    id TEXT PRIMARY KEY NOT NULL,
    follow_up_id TEXT NOT NULL REFERENCES follow_ups (id),
    kind TEXT NOT NULL,
    author_id TEXT NOT NULL REFERENCES accounts (id),
    created_at TIMESTAMP NOT NULL,
    key_id TEXT NOT NULL,
    nonce TEXT NOT NULL,
    ciphertext TEXT NOT NULL
);
CREATE INDEX follow_up_notes_idx ON follow_up_notes (follow_up_id, created_at);

CREATE TABLE referrals (
    id TEXT PRIMARY KEY NOT NULL,
    reference TEXT NOT NULL UNIQUE,
    public TEXT NOT NULL,
    context TEXT NOT NULL,
    source_kind TEXT NOT NULL,
    source_organisation_id TEXT REFERENCES organisations (id),
    referrer_name TEXT,
    referrer_contact TEXT,
    submitted_by_id TEXT NOT NULL,
    submitted_by_kind TEXT NOT NULL,
    person_id TEXT NOT NULL REFERENCES people (id),
    departement_code TEXT NOT NULL REFERENCES departements (code),
    risk_indicators TEXT NOT NULL,
    summary TEXT NOT NULL,
    urgency TEXT NOT NULL,
    status TEXT NOT NULL,
    decision_reason TEXT,
    redirected_to TEXT,
    lead_staff_id TEXT REFERENCES accounts (id),
    follow_up_id TEXT REFERENCES follow_ups (id),
    protection_required BOOLEAN NOT NULL,
    protection_due_at TIMESTAMP,
    protection_kind TEXT,
    protection_details TEXT,
    protection_on TEXT,
    protection_recorded_at TIMESTAMP,
    version BIGINT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE INDEX referrals_organisation_idx ON referrals (source_organisation_id, updated_at, id);
CREATE INDEX referrals_triage_idx ON referrals (status, departement_code, urgency);
CREATE INDEX referrals_updated_idx ON referrals (updated_at, id);
CREATE INDEX referrals_protection_idx ON referrals (protection_required, protection_recorded_at, protection_due_at);

CREATE TABLE referral_events (
    id TEXT PRIMARY KEY NOT NULL,
    referral_id TEXT NOT NULL REFERENCES referrals (id),
    at TIMESTAMP NOT NULL,
    actor_id TEXT NOT NULL,
    actor_kind TEXT NOT NULL,
    action TEXT NOT NULL,
    from_status TEXT,
    to_status TEXT NOT NULL,
    reason TEXT
);
CREATE INDEX referral_events_idx ON referral_events (referral_id, at);
