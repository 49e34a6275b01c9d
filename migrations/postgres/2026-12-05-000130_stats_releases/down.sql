DROP TABLE stats_releases;
