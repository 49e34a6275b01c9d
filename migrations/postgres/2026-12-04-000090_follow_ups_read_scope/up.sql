-- Reading a follow-up shared with a partner needs its own scope,
-- `follow-ups:read` (it needed `referrals:read`). Apps that could read shared
-- follow-ups keep that right: the scope is granted to every client holding
-- `referrals:read`; new clients are given it explicitly.
UPDATE api_clients
SET scopes = scopes || ' follow-ups:read'
WHERE (' ' || scopes || ' ') LIKE '% referrals:read %'
  AND (' ' || scopes || ' ') NOT LIKE '% follow-ups:read %';
