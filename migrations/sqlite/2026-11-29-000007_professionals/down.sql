DROP INDEX group_registrations_organisation_idx;
DROP TABLE case_review_requests;
DROP TABLE library_downloads;
DROP TABLE library_files;
DROP TABLE library_resources;
DROP TABLE agreement_permanences;
DROP TABLE agreement_referents;
DROP TABLE partnership_agreements;
