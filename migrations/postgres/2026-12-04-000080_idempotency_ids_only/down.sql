-- Nothing to restore: the emptied replies are not needed (replays re-read).
SELECT 1;
