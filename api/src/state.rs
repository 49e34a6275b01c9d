//! What every handler can reach.

use std::sync::Arc;

use adosexo_persistence::Db;

use crate::audit::Auditor;
use crate::auth::keys::SigningKeys;
use crate::auth::tokens::{TokenSettings, VerifiedTokens};
use crate::config::ThrottleSettings;
use crate::context::Clock;
use crate::crypto::NotesKeys;

/// Shared application state (cheap to clone).
#[derive(Clone, Debug)]
pub struct AppState {
    /// The database.
    pub db: Db,
    /// Sessions and subjects read in the last second (`SESSION_CACHE_TTL`).
    pub sessions: Arc<crate::auth::extractor::SessionCache>,
    /// Token signing and verification keys.
    pub keys: Arc<SigningKeys>,
    /// Token issuer, audience and lifetimes.
    pub tokens: TokenSettings,
    /// Access tokens whose signature was already checked.
    pub verified_tokens: Arc<VerifiedTokens>,
    /// Login throttling.
    pub throttle: ThrottleSettings,
    /// The clock.
    pub clock: Clock,
    /// The audit trail's group-commit writer.
    pub auditor: Auditor,
    /// Keys sealing follow-up notes.
    pub notes: Arc<NotesKeys>,
    /// Time to record a mandatory child-protection decision.
    pub protection_deadline: std::time::Duration,
    /// How long an `Idempotency-Key` is remembered.
    pub idempotency_ttl: std::time::Duration,
    /// Per-address limit of the public endpoints.
    pub public_limiter: Arc<crate::rate_limit::RateLimiter>,
    /// Where statistics are read (`ANALYTICS_DATABASE_URL`, else `db`).
    pub analytics: Db,
    /// The smallest count statistics publish.
    pub stats_min_cell: adosexo_domain::stats::MinCell,
    /// Webhook targets and delivery.
    pub webhooks: crate::webhooks::WebhookSettings,
    /// The largest file of the resource library.
    pub library_max_bytes: usize,
    /// Where executed erasures are journaled (`ADOSEXO_ERASURE_JOURNAL`).
    pub erasure_journal: Option<Arc<std::path::Path>>,
}
