//! The adosexo HTTP API: routes, problem details, telemetry, configuration
//! and start-up. Handlers decode, ask `adosexo-domain`, store through
//! `adosexo-persistence`, and encode; they decide nothing themselves.

pub mod config;
pub mod extract;
pub mod http_cache;
pub mod openapi;
pub mod pagination;
pub mod problem;
pub mod request_id;
pub mod routes;
pub mod routing;
pub mod startup;
pub mod state;
pub mod telemetry;

pub use config::Config;
pub use startup::Application;
