-- Consents of a follow-up's young person per processing purpose, and share
-- decisions with partner organisations (shared professional secrecy).
-- Nothing is deleted: withdrawal, invalidation and revocation are columns.

CREATE TABLE consents (
    id TEXT PRIMARY KEY NOT NULL,
    person_id TEXT NOT NULL REFERENCES people (id),
    follow_up_id TEXT NOT NULL REFERENCES follow_ups (id),
    purpose TEXT NOT NULL,
    given_by TEXT NOT NULL,
    parental_authority_holder_id TEXT REFERENCES people (id),
    method TEXT NOT NULL,
    evidence_reference TEXT NOT NULL,
    given_at TIMESTAMP NOT NULL,
    valid_until TEXT,
    recorded_by TEXT NOT NULL,
    withdrawn_at TIMESTAMP,
    withdrawn_by TEXT,
    withdrawal_recorded_by TEXT,
    invalidated_at TIMESTAMP,
    invalidated_by TEXT,
    invalidation_reason TEXT,
    lapsed_at TIMESTAMP,
    version BIGINT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE INDEX consents_person_idx ON consents (person_id, purpose, given_at);
CREATE INDEX consents_follow_up_idx ON consents (follow_up_id, given_at);

CREATE TABLE share_decisions (
    id TEXT PRIMARY KEY NOT NULL,
    follow_up_id TEXT NOT NULL REFERENCES follow_ups (id),
    organisation_id TEXT NOT NULL REFERENCES organisations (id),
    purpose TEXT NOT NULL,
    field_groups TEXT NOT NULL,
    family_informed TEXT NOT NULL,
    justification TEXT,
    valid_from TEXT NOT NULL,
    valid_until TEXT,
    decided_by TEXT NOT NULL,
    decided_at TIMESTAMP NOT NULL,
    revoked_at TIMESTAMP,
    revoked_by TEXT,
    revocation_reason TEXT,
    version BIGINT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE INDEX share_decisions_follow_up_idx ON share_decisions (follow_up_id, decided_at);
CREATE INDEX share_decisions_organisation_idx ON share_decisions (organisation_id, follow_up_id);
