-- Replies of creations about people in care are no longer stored: a replay
-- re-reads the resource through today's authorization (only its id is
-- kept). Replies stored before this version are emptied.
UPDATE idempotency_keys SET response_body = ''
WHERE operation IN ('create_referral', 'create_erasure_request');
