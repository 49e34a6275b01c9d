DROP TABLE contacts;
DROP TABLE directory_departements;
DROP TABLE directory_entries;
