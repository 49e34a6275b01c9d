-- Working with professionals: partnership agreements with regional
-- structures, the resource library (files stored in the database, so that a
-- database backup restores them), case review requests.
-- Dates are TEXT 'YYYY-MM-DD'; instants TIMESTAMP holding UTC.

CREATE TABLE partnership_agreements (
    id TEXT PRIMARY KEY NOT NULL,
    organisation_id TEXT NOT NULL REFERENCES organisations (id),
    title TEXT NOT NULL,
    departements TEXT NOT NULL,
    starts_on TEXT NOT NULL,
    ends_on TEXT NOT NULL,
    status TEXT NOT NULL,
    created_by TEXT NOT NULL,
    version BIGINT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    CHECK (ends_on >= starts_on)
);
CREATE INDEX partnership_agreements_ends_idx ON partnership_agreements (status, ends_on);
CREATE INDEX partnership_agreements_organisation_idx ON partnership_agreements (organisation_id);

CREATE TABLE agreement_referents (
    agreement_id TEXT NOT NULL REFERENCES partnership_agreements (id),
    account_id TEXT NOT NULL REFERENCES accounts (id),
    PRIMARY KEY (agreement_id, account_id)
);

CREATE TABLE agreement_permanences (
    permanence_id TEXT PRIMARY KEY NOT NULL REFERENCES permanences (id),
    agreement_id TEXT NOT NULL REFERENCES partnership_agreements (id)
);
CREATE INDEX agreement_permanences_agreement_idx ON agreement_permanences (agreement_id);

CREATE TABLE library_resources (
    id TEXT PRIMARY KEY NOT NULL,
    title TEXT NOT NULL,
    description TEXT NOT NULL,
    search_key TEXT NOT NULL,
    audience TEXT NOT NULL,
    kind TEXT NOT NULL,
    language TEXT NOT NULL,
    visibility TEXT NOT NULL,
    external_url TEXT,
    media_type TEXT,
    file_size BIGINT,
    sha256 TEXT,
    downloads BIGINT NOT NULL,
    created_by TEXT NOT NULL,
    version BIGINT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE INDEX library_resources_created_idx ON library_resources (created_at, id);

CREATE TABLE library_files (
    resource_id TEXT PRIMARY KEY NOT NULL REFERENCES library_resources (id),
    content BLOB NOT NULL
);

CREATE TABLE library_downloads (
    id TEXT PRIMARY KEY NOT NULL,
    resource_id TEXT NOT NULL REFERENCES library_resources (id),
    kind TEXT NOT NULL,
    downloaded_at TIMESTAMP NOT NULL
);
CREATE INDEX library_downloads_at_idx ON library_downloads (downloaded_at, kind);

CREATE TABLE case_review_requests (
    id TEXT PRIMARY KEY NOT NULL,
    organisation_id TEXT NOT NULL REFERENCES organisations (id),
    requested_by TEXT NOT NULL,
    departement_code TEXT NOT NULL REFERENCES departements (code),
    situation TEXT NOT NULL,
    fictional BOOLEAN NOT NULL,
    status TEXT NOT NULL,
    group_session_id TEXT REFERENCES group_sessions (id),
    version BIGINT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE INDEX case_review_requests_organisation_idx ON case_review_requests (organisation_id, created_at);
CREATE INDEX case_review_requests_created_idx ON case_review_requests (created_at, id);

-- A partner's registrations (its professionals), and professionals reached.
CREATE INDEX group_registrations_organisation_idx ON group_registrations (organisation_id, created_at);
