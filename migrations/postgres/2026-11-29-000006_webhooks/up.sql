-- Partner integration: webhook subscriptions, the event outbox (one feed per
-- partner organisation, numbered without gaps visible to readers) and one
-- delivery per (event, subscription). Written in the same transaction as the
-- change that causes the event.

CREATE TABLE webhook_subscriptions (
    id TEXT PRIMARY KEY NOT NULL,
    organisation_id TEXT NOT NULL REFERENCES organisations (id),
    url TEXT NOT NULL,
    event_types TEXT NOT NULL,
    secret_key_id TEXT NOT NULL,
    secret_nonce TEXT NOT NULL,
    secret_ciphertext TEXT NOT NULL,
    status TEXT NOT NULL,
    created_by TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE INDEX webhook_subscriptions_organisation_idx ON webhook_subscriptions (organisation_id, status);

-- The next feed position of each organisation; the row stays locked until the
-- writing transaction ends, so positions become visible in order.
CREATE TABLE partner_event_counters (
    organisation_id TEXT PRIMARY KEY NOT NULL REFERENCES organisations (id),
    next_seq BIGINT NOT NULL
);

CREATE TABLE partner_events (
    id TEXT PRIMARY KEY NOT NULL,
    organisation_id TEXT NOT NULL REFERENCES organisations (id),
    seq BIGINT NOT NULL,
    event_type TEXT NOT NULL,
    subject_id TEXT NOT NULL,
    payload TEXT NOT NULL,
    occurred_at TIMESTAMP NOT NULL
);
CREATE UNIQUE INDEX partner_events_feed_idx ON partner_events (organisation_id, seq);

CREATE TABLE webhook_deliveries (
    id TEXT PRIMARY KEY NOT NULL,
    event_id TEXT NOT NULL REFERENCES partner_events (id),
    subscription_id TEXT NOT NULL REFERENCES webhook_subscriptions (id),
    subject_id TEXT NOT NULL,
    seq BIGINT NOT NULL,
    status TEXT NOT NULL,
    attempts INTEGER NOT NULL,
    next_attempt_at TIMESTAMP NOT NULL,
    claimed_until TIMESTAMP,
    claim_token TEXT,
    last_error TEXT,
    delivered_at TIMESTAMP,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE INDEX webhook_deliveries_due_idx ON webhook_deliveries (status, next_attempt_at, seq);
CREATE INDEX webhook_deliveries_order_idx ON webhook_deliveries (subscription_id, subject_id, status, seq);
