UPDATE api_clients
SET scopes = TRIM(REPLACE(' ' || scopes || ' ', ' follow-ups:read ', ' '));
