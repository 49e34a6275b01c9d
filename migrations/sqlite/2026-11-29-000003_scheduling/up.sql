-- Scheduling: sites, permanences and their exceptions, appointments, group
-- sessions, the staff bookings that forbid double-booking, calendar feeds.
-- Dates are TEXT 'YYYY-MM-DD', local times TEXT 'HH:MM' (Europe/Paris);
-- instants TIMESTAMP holding UTC.

CREATE TABLE sites (
    id TEXT PRIMARY KEY NOT NULL,
    name TEXT NOT NULL,
    kind TEXT NOT NULL,
    address TEXT NOT NULL,
    postcode TEXT NOT NULL,
    city TEXT NOT NULL,
    departement_code TEXT NOT NULL REFERENCES departements (code),
    latitude DOUBLE NOT NULL,
    longitude DOUBLE NOT NULL,
    host_organisation_id TEXT REFERENCES organisations (id),
    public BOOLEAN NOT NULL,
    accessibility TEXT,
    status TEXT NOT NULL,
    version BIGINT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE INDEX sites_departement_idx ON sites (departement_code, public, status);
CREATE INDEX sites_updated_idx ON sites (updated_at, id);

CREATE TABLE permanences (
    id TEXT PRIMARY KEY NOT NULL,
    site_id TEXT NOT NULL REFERENCES sites (id),
    title TEXT NOT NULL,
    rrule TEXT NOT NULL,
    dtstart TEXT NOT NULL,
    last_date TEXT,
    part_of_day TEXT NOT NULL,
    start_time TEXT NOT NULL,
    end_time TEXT NOT NULL,
    audience TEXT NOT NULL,
    status TEXT NOT NULL,
    follows_id TEXT REFERENCES permanences (id),
    version BIGINT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE INDEX permanences_site_idx ON permanences (site_id, status);
CREATE INDEX permanences_updated_idx ON permanences (updated_at, id);

CREATE TABLE permanence_staff (
    permanence_id TEXT NOT NULL REFERENCES permanences (id),
    account_id TEXT NOT NULL REFERENCES accounts (id),
    PRIMARY KEY (permanence_id, account_id)
);
CREATE INDEX permanence_staff_account_idx ON permanence_staff (account_id);

CREATE TABLE permanence_exceptions (
    permanence_id TEXT NOT NULL REFERENCES permanences (id),
    original_date TEXT NOT NULL,
    kind TEXT NOT NULL,
    starts_at TIMESTAMP,
    ends_at TIMESTAMP,
    reason TEXT,
    created_by TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    PRIMARY KEY (permanence_id, original_date)
);

CREATE TABLE appointments (
    id TEXT PRIMARY KEY NOT NULL,
    mode TEXT NOT NULL,
    title TEXT NOT NULL,
    referral_id TEXT REFERENCES referrals (id),
    follow_up_id TEXT REFERENCES follow_ups (id),
    person_id TEXT REFERENCES people (id),
    site_id TEXT REFERENCES sites (id),
    permanence_id TEXT REFERENCES permanences (id),
    departement_code TEXT NOT NULL REFERENCES departements (code),
    starts_at TIMESTAMP NOT NULL,
    ends_at TIMESTAMP NOT NULL,
    status TEXT NOT NULL,
    confirmation TEXT NOT NULL,
    first_meeting BOOLEAN NOT NULL,
    unaccompanied_reason TEXT,
    cancelled_by TEXT,
    cancel_reason TEXT,
    proposed_by_organisation_id TEXT REFERENCES organisations (id),
    created_by TEXT NOT NULL,
    version BIGINT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    CHECK (ends_at > starts_at)
);
CREATE INDEX appointments_starts_idx ON appointments (starts_at);
CREATE INDEX appointments_person_idx ON appointments (person_id, starts_at);
CREATE INDEX appointments_referral_idx ON appointments (referral_id);
CREATE INDEX appointments_departement_idx ON appointments (departement_code, starts_at);

CREATE TABLE appointment_staff (
    appointment_id TEXT NOT NULL REFERENCES appointments (id),
    account_id TEXT NOT NULL REFERENCES accounts (id),
    PRIMARY KEY (appointment_id, account_id)
);
CREATE INDEX appointment_staff_account_idx ON appointment_staff (account_id);

CREATE TABLE appointment_attendees (
    appointment_id TEXT NOT NULL REFERENCES appointments (id),
    position INTEGER NOT NULL,
    kind TEXT NOT NULL,
    person_id TEXT REFERENCES people (id),
    organisation_id TEXT REFERENCES organisations (id),
    PRIMARY KEY (appointment_id, position)
);

CREATE TABLE group_sessions (
    id TEXT PRIMARY KEY NOT NULL,
    kind TEXT NOT NULL,
    title TEXT NOT NULL,
    mode TEXT NOT NULL,
    site_id TEXT REFERENCES sites (id),
    venue TEXT,
    remote_link TEXT,
    partner_organisation_id TEXT REFERENCES organisations (id),
    departement_code TEXT NOT NULL REFERENCES departements (code),
    starts_at TIMESTAMP NOT NULL,
    ends_at TIMESTAMP NOT NULL,
    days INTEGER NOT NULL,
    capacity INTEGER,
    audience TEXT NOT NULL,
    status TEXT NOT NULL,
    created_by TEXT NOT NULL,
    version BIGINT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    CHECK (ends_at > starts_at)
);
CREATE INDEX group_sessions_starts_idx ON group_sessions (starts_at);
CREATE INDEX group_sessions_departement_idx ON group_sessions (departement_code, starts_at);

CREATE TABLE group_session_staff (
    group_session_id TEXT NOT NULL REFERENCES group_sessions (id),
    account_id TEXT NOT NULL REFERENCES accounts (id),
    PRIMARY KEY (group_session_id, account_id)
);
CREATE INDEX group_session_staff_account_idx ON group_session_staff (account_id);

CREATE TABLE group_registrations (
    id TEXT PRIMARY KEY NOT NULL,
    group_session_id TEXT NOT NULL REFERENCES group_sessions (id),
    participant_name TEXT NOT NULL,
    category TEXT NOT NULL,
    organisation_id TEXT REFERENCES organisations (id),
    status TEXT NOT NULL,
    present BOOLEAN,
    registered_by TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE INDEX group_registrations_session_idx ON group_registrations (group_session_id, status, created_at);

CREATE TABLE group_headcounts (
    group_session_id TEXT NOT NULL REFERENCES group_sessions (id),
    category TEXT NOT NULL,
    age_band TEXT NOT NULL,
    head_count INTEGER NOT NULL,
    PRIMARY KEY (group_session_id, category, age_band)
);

-- The periods each staff member is busy: one row per staff member per
-- appointment, per day of a group session. Two rows of one staff member
-- never overlap — the database enforces it, so the rule holds under
-- concurrent requests (SQLite serialises writers; the triggers check
-- inside the writing transaction).
CREATE TABLE staff_bookings (
    id TEXT PRIMARY KEY NOT NULL,
    account_id TEXT NOT NULL REFERENCES accounts (id),
    starts_at TIMESTAMP NOT NULL,
    ends_at TIMESTAMP NOT NULL,
    appointment_id TEXT REFERENCES appointments (id),
    group_session_id TEXT REFERENCES group_sessions (id),
    CHECK (ends_at > starts_at)
);
CREATE INDEX staff_bookings_account_idx ON staff_bookings (account_id, starts_at);
CREATE INDEX staff_bookings_appointment_idx ON staff_bookings (appointment_id);
CREATE INDEX staff_bookings_group_idx ON staff_bookings (group_session_id);
CREATE TRIGGER staff_bookings_no_overlap_insert BEFORE INSERT ON staff_bookings
WHEN EXISTS (
    SELECT 1 FROM staff_bookings b
    WHERE b.account_id = NEW.account_id
      AND b.starts_at < NEW.ends_at AND NEW.starts_at < b.ends_at
)
BEGIN
    SELECT RAISE(ABORT, 'staff_bookings_no_overlap');
END;
CREATE TRIGGER staff_bookings_no_overlap_update BEFORE UPDATE ON staff_bookings
WHEN EXISTS (
    SELECT 1 FROM staff_bookings b
    WHERE b.account_id = NEW.account_id AND b.id <> NEW.id
      AND b.starts_at < NEW.ends_at AND NEW.starts_at < b.ends_at
)
BEGIN
    SELECT RAISE(ABORT, 'staff_bookings_no_overlap');
END;

-- A staff member's calendar feed: the secret in the URL is stored hashed.
CREATE TABLE calendar_feeds (
    account_id TEXT PRIMARY KEY NOT NULL REFERENCES accounts (id),
    token_hash TEXT NOT NULL UNIQUE,
    created_at TIMESTAMP NOT NULL
);
