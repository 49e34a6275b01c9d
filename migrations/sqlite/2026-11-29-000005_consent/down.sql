DROP TABLE share_decisions;
DROP TABLE consents;
