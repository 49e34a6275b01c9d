-- Statistics releases: the figures of a closed period (a month, quarter
-- or year of one family of statistics) as first published — true counts
-- and whether each was published — so that a closed period reads the same
-- for ever (docs/STATISTICS.md). Only `adosexo stats-republish` (audited)
-- deletes rows.
CREATE TABLE stats_releases (
    family TEXT NOT NULL,
    period TEXT NOT NULL,
    min_cell BIGINT NOT NULL,
    figures TEXT NOT NULL,
    released_at TIMESTAMP NOT NULL,
    PRIMARY KEY (family, period, min_cell)
);
