-- Public information: the directory of professionals and resources, and
-- the team's contacts per département (key 'national' for the fallback).

CREATE TABLE directory_entries (
    id TEXT PRIMARY KEY NOT NULL,
    name TEXT NOT NULL,
    organisation TEXT,
    category TEXT NOT NULL,
    national BOOLEAN NOT NULL,
    departements TEXT NOT NULL,
    address TEXT,
    phone TEXT,
    email TEXT,
    website TEXT,
    last_verified TEXT,
    search_key TEXT NOT NULL,
    version BIGINT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE INDEX directory_entries_category_idx ON directory_entries (category, name, id);
CREATE INDEX directory_entries_name_idx ON directory_entries (name, id);

-- Which départements an entry serves (national entries serve all).
CREATE TABLE directory_departements (
    entry_id TEXT NOT NULL REFERENCES directory_entries (id),
    departement_code TEXT NOT NULL REFERENCES departements (code),
    PRIMARY KEY (entry_id, departement_code)
);
CREATE INDEX directory_departements_code_idx ON directory_departements (departement_code);

CREATE TABLE contacts (
    scope TEXT PRIMARY KEY NOT NULL,
    team TEXT NOT NULL,
    email TEXT NOT NULL,
    phone TEXT NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
