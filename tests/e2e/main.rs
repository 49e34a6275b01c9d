//! End-to-end tests: real HTTP against the real app, each test on a fresh
//! SQLite database, and again on PostgreSQL when `TEST_DATABASE_URL` is set.
#![expect(
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic,
    reason = "test code: a failed expectation is a failed test"
)]

mod bench_data;
mod calendars;
mod contract;
mod foundation;
mod group_sessions;
mod helpers;
mod idempotency;
mod identity;
mod instances;
mod intruder;
mod languages;
mod logs;
mod markers;
mod oauth;
mod observability;
mod page;
mod privacy;
mod professionals;
mod public;
mod referrals;
mod retention;
mod scheduling;
mod sharing;
mod stats;
mod webhooks;
