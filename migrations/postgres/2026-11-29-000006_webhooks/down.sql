DROP TABLE webhook_deliveries;
DROP TABLE partner_events;
DROP TABLE partner_event_counters;
DROP TABLE webhook_subscriptions;
