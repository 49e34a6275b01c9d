DROP TABLE departements;
DROP TABLE regions;
