-- The W3C trace context (traceparent) of the request that caused the
-- delivery, sent with it so a partner's traces join ours. Ids only.
ALTER TABLE webhook_deliveries ADD COLUMN traceparent TEXT;
