//! The adosexo HTTP API: routes, problem details, telemetry, configuration
//! and start-up. Handlers decode, ask `adosexo-domain`, store through
//! `adosexo-persistence`, and encode; they decide nothing themselves.

pub mod audit;
pub mod auth;
pub mod backup;
pub mod bulk;
pub mod cli;
pub mod config;
pub mod context;
pub mod cors;
pub mod crypto;
pub mod demo;
pub mod extract;
pub mod guard;
pub mod http_cache;
pub mod i18n;
pub mod idempotency;
pub mod jobs;
pub mod metrics;
pub mod oauth;
pub mod openapi;
pub mod otlp;
pub mod page;
pub mod pagination;
pub mod problem;
pub mod rate_limit;
pub mod request_id;
pub mod retention;
pub mod routes;
pub mod routing;
pub mod startup;
pub mod state;
pub mod statistics;
pub mod telemetry;
pub mod webhooks;
pub mod wire;

pub use config::Config;
pub use startup::Application;
