//! Partner integration: the events written with each change (the outbox),
//! their signed delivery to webhook subscriptions, and the delivery worker.
//!
//! Events carry ids, references, statuses and instants only — what the
//! partner reads through the API, never personal data. See docs/WEBHOOKS.md.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use adosexo_domain::webhooks::{EventType, Host, Target, retry_delay};
use adosexo_persistence::cases::ReferralRow;
use adosexo_persistence::schedule::AppointmentRow;
use adosexo_persistence::webhooks::{self, Attempt, DeliveryRow, EventRow, SubscriptionRow};
use adosexo_persistence::{Db, DbConnection, PersistenceError};
use chrono::{DateTime, Utc};
use hmac::{Hmac, Mac};
use serde_json::json;
use sha2::Sha256;

use crate::context::Clock;
use crate::crypto::{NotesKeys, Sealed};
use crate::wire::instant;

/// The signature header: `t=<unix seconds>,v1=<hex HMAC-SHA256>`.
pub const SIGNATURE_HEADER: &str = "Adosexo-Signature";
/// The event id header (receivers de-duplicate on it).
pub const EVENT_ID_HEADER: &str = "Adosexo-Event-Id";
/// The event type header.
pub const EVENT_TYPE_HEADER: &str = "Adosexo-Event-Type";

/// How the delivery worker behaves (`ADOSEXO_WEBHOOK_*`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct WebhookSettings {
    /// Pause between delivery passes.
    pub interval: Duration,
    /// Attempts before a delivery goes to the dead-letter list.
    pub max_attempts: u32,
    /// Delay before the first retry; doubled at each failure (with jitter).
    pub backoff_base: Duration,
    /// Longest delay between two attempts.
    pub backoff_cap: Duration,
    /// Time-out of one HTTP attempt.
    pub timeout: Duration,
    /// Plain `http://` targets (development only).
    pub allow_http: bool,
    /// Loopback, private and link-local targets (tests only).
    pub allow_internal: bool,
    /// Whether this instance runs the worker.
    pub worker: bool,
}

impl Default for WebhookSettings {
    fn default() -> Self {
        Self {
            interval: Duration::from_secs(5),
            max_attempts: 8,
            backoff_base: Duration::from_secs(30),
            backoff_cap: Duration::from_secs(6 * 3600),
            timeout: Duration::from_secs(10),
            allow_http: false,
            allow_internal: false,
            worker: true,
        }
    }
}

/// The associated data binding a sealed secret to its subscription.
pub fn secret_context(subscription_id: &str) -> String {
    format!("webhook_subscription:{subscription_id}")
}

/// The plaintext secret of a subscription.
pub fn open_secret(notes: &NotesKeys, row: &SubscriptionRow) -> Result<String, String> {
    notes.open(
        &Sealed {
            key_id: row.secret_key_id.clone(),
            nonce: row.secret_nonce.clone(),
            ciphertext: row.secret_ciphertext.clone(),
        },
        &secret_context(&row.id),
    )
}

/// A referral's status changed (or it was submitted): an event for the
/// referring organisation, if any. Call it in the change's transaction.
pub fn referral_status_changed(
    conn: &mut DbConnection,
    referral: &ReferralRow,
    from_status: Option<&str>,
    now: DateTime<Utc>,
) -> Result<(), PersistenceError> {
    let Some(organisation) = &referral.source_organisation_id else {
        return Ok(());
    };
    let data = json!({
        "referral_id": referral.id,
        "reference": referral.reference,
        "from_status": from_status,
        "status": referral.status,
        "version": referral.version,
        "changed_at": instant(referral.updated_at),
    });
    webhooks::record_event(
        conn,
        organisation,
        EventType::ReferralStatusChanged.as_str(),
        &referral.id,
        &data.to_string(),
        now,
    )?;
    Ok(())
}

/// An appointment a partner proposed for its referral was booked or
/// cancelled: an event for that partner (the only appointments it reads).
pub fn appointment_changed(
    conn: &mut DbConnection,
    appointment: &AppointmentRow,
    event: EventType,
    now: DateTime<Utc>,
) -> Result<(), PersistenceError> {
    let (Some(organisation), Some(referral_id)) = (
        &appointment.proposed_by_organisation_id,
        &appointment.referral_id,
    ) else {
        return Ok(());
    };
    let data = json!({
        "appointment_id": appointment.id,
        "referral_id": referral_id,
        "status": appointment.status,
        "confirmation": appointment.confirmation,
        "starts_at": instant(appointment.starts_at),
        "ends_at": instant(appointment.ends_at),
        "changed_at": instant(appointment.updated_at),
    });
    webhooks::record_event(
        conn,
        organisation,
        event.as_str(),
        referral_id,
        &data.to_string(),
        now,
    )?;
    Ok(())
}

/// A share decision with an organisation was granted or revoked: an event
/// for that organisation (ids and dates only; the shared fields are read at
/// `/shared/follow-ups/{id}` while the decision stands).
pub fn share_changed(
    conn: &mut DbConnection,
    share: &adosexo_persistence::consent::ShareRow,
    event: EventType,
    now: DateTime<Utc>,
) -> Result<(), PersistenceError> {
    let data = json!({
        "share_id": share.id,
        "follow_up_id": share.follow_up_id,
        "valid_from": share.valid_from,
        "valid_until": share.valid_until,
        "revoked_at": share.revoked_at.map(instant),
        "changed_at": instant(share.updated_at),
    });
    webhooks::record_event(
        conn,
        &share.organisation_id,
        event.as_str(),
        &share.follow_up_id,
        &data.to_string(),
        now,
    )?;
    Ok(())
}

/// The JSON of an event, as delivered and as listed in the feed.
pub fn envelope(event: &EventRow) -> serde_json::Value {
    let data: serde_json::Value =
        serde_json::from_str(&event.payload).unwrap_or(serde_json::Value::Null);
    json!({
        "id": event.id,
        "type": event.event_type,
        "seq": event.seq,
        "organisation_id": event.organisation_id,
        "occurred_at": instant(event.occurred_at),
        "data": data,
    })
}

/// `v1`: hex HMAC-SHA256 of `"{timestamp}.{body}"` under the secret.
pub fn signature(secret: &str, timestamp: i64, body: &[u8]) -> Result<String, String> {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes())
        .map_err(|_| "unusable webhook secret".to_owned())?;
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    Ok(mac
        .finalize()
        .into_bytes()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect())
}

/// What a delivery pass did (counts only: logs carry no payload).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct PassReport {
    /// Answered 2xx.
    pub delivered: usize,
    /// Failed, to be retried.
    pub retried: usize,
    /// Failed for the last time.
    pub dead: usize,
}

/// Everything the worker needs.
#[derive(Clone, Debug)]
pub struct Worker {
    /// The database.
    pub db: Db,
    /// The clock.
    pub clock: Clock,
    /// Keys that open subscription secrets.
    pub notes: Arc<NotesKeys>,
    /// Settings.
    pub settings: WebhookSettings,
    /// Where delivery spans go (each a child of the span of the request
    /// that caused the event, whose `traceparent` the delivery carries).
    pub spans: crate::otlp::Spans,
}

impl Worker {
    /// Runs delivery passes for as long as the server runs.
    pub async fn run(self) {
        loop {
            match self.pass().await {
                Ok(report) if report != PassReport::default() => tracing::info!(
                    job = "webhooks",
                    delivered = report.delivered,
                    retried = report.retried,
                    dead = report.dead,
                    "webhook pass done"
                ),
                Ok(_) => {}
                Err(e) => tracing::error!(job = "webhooks", error = %e, "webhook pass failed"),
            }
            actix_web::rt::time::sleep(self.settings.interval).await;
        }
    }

    /// One pass: claims due deliveries (several instances never claim the
    /// same one) and attempts each; returns what happened.
    pub async fn pass(&self) -> Result<PassReport, PersistenceError> {
        let mut report = PassReport::default();
        loop {
            let now = self.clock.now();
            // A lease longer than an attempt: a crashed worker's claims expire.
            let lease = chrono::Duration::from_std(self.settings.timeout * 3)
                .unwrap_or(chrono::Duration::seconds(60));
            let claimed = self
                .db
                .transaction(move |conn| webhooks::claim_due(conn, now, lease, 20))
                .await?;
            if claimed.is_empty() {
                return Ok(report);
            }
            for delivery in claimed {
                let attempt = self.attempt(&delivery).await?;
                match attempt {
                    Attempt::Delivered => report.delivered += 1,
                    Attempt::Retry { .. } => report.retried += 1,
                    Attempt::Dead { .. } => report.dead += 1,
                    Attempt::Cancelled => {}
                }
                let now = self.clock.now();
                self.db
                    .transaction(move |conn| {
                        webhooks::finish_delivery(conn, &delivery, &attempt, now)
                    })
                    .await?;
            }
        }
    }

    async fn attempt(&self, delivery: &DeliveryRow) -> Result<Attempt, PersistenceError> {
        let (subscription_id, event_id) =
            (delivery.subscription_id.clone(), delivery.event_id.clone());
        let (subscription, event) = self
            .db
            .run(move |conn| {
                Ok::<_, PersistenceError>((
                    webhooks::find_subscription(conn, &subscription_id)?,
                    webhooks::find_event(conn, &event_id)?,
                ))
            })
            .await?;
        let (Some(subscription), Some(event)) = (subscription, event) else {
            return Ok(Attempt::Cancelled);
        };
        if subscription.status != "active" {
            return Ok(Attempt::Cancelled);
        }
        let parent = delivery
            .traceparent
            .as_deref()
            .and_then(crate::otlp::TraceContext::parse);
        let trace = parent.map_or_else(crate::otlp::TraceContext::root, |p| p.child());
        let started = std::time::SystemTime::now();
        let sent = self.send(&subscription, &event, &trace).await;
        if self.spans.enabled() && trace.sampled {
            self.spans.record(crate::otlp::SpanRecord {
                context: trace,
                parent: parent.map(|p| p.span_id),
                name: "POST webhook".to_owned(),
                kind: crate::otlp::SpanKind::Client,
                start: started,
                end: std::time::SystemTime::now(),
                attributes: vec![
                    (
                        "http.request.method",
                        crate::otlp::AttributeValue::Text("POST".to_owned()),
                    ),
                    (
                        "adosexo.webhook.event_type",
                        crate::otlp::AttributeValue::Text(event.event_type.clone()),
                    ),
                ],
                error: sent.is_err(),
            });
        }
        let outcome = match sent {
            Ok(()) => return Ok(Attempt::Delivered),
            Err(cause) => cause,
        };
        tracing::warn!(
            job = "webhooks",
            webhook.subscription_id = %subscription.id,
            webhook.delivery_id = %delivery.id,
            webhook.attempt = delivery.attempts.saturating_add(1),
            error = %outcome,
            "webhook attempt failed"
        );
        let failed = u32::try_from(delivery.attempts.saturating_add(1)).unwrap_or(u32::MAX);
        if failed >= self.settings.max_attempts {
            return Ok(Attempt::Dead { error: outcome });
        }
        let jitter = crate::auth::secrets::random_bytes::<2>()
            .map(|b| f64::from(u16::from_le_bytes(b)) / f64::from(u16::MAX))
            .unwrap_or(0.5);
        let delay = retry_delay(
            self.settings.backoff_base,
            failed,
            jitter,
            self.settings.backoff_cap,
        );
        let at = self.clock.now() + chrono::Duration::from_std(delay).unwrap_or_default();
        Ok(Attempt::Retry { at, error: outcome })
    }

    /// Sends one event; the error is a short cause (never a body).
    async fn send(
        &self,
        subscription: &SubscriptionRow,
        event: &EventRow,
        trace: &crate::otlp::TraceContext,
    ) -> Result<(), String> {
        let settings = self.settings;
        let target = Target::parse(
            &subscription.url,
            settings.allow_http,
            settings.allow_internal,
        )
        .map_err(|e| e.tag().to_owned())?;
        let mut client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .timeout(settings.timeout)
            .no_proxy();
        // Resolved now, checked now, and connected to exactly these
        // addresses: a name that re-resolves to an internal address between
        // the check and the connection (DNS rebinding) is not followed.
        if let Host::Name(name) = target.host() {
            let addresses: Vec<SocketAddr> =
                tokio::net::lookup_host((name.as_str(), target.port()))
                    .await
                    .map_err(|_| "webhook-target-unresolvable".to_owned())?
                    .collect();
            let ips: Vec<IpAddr> = addresses.iter().map(SocketAddr::ip).collect();
            Target::check_resolved(&ips, settings.allow_internal)
                .map_err(|e| e.tag().to_owned())?;
            client = client.resolve_to_addrs(name, &addresses);
        }
        let client = client.build().map_err(|_| "client".to_owned())?;
        let secret = open_secret(&self.notes, subscription)?;
        let body = envelope(event).to_string();
        let timestamp = self.clock.now().timestamp();
        let signature = signature(&secret, timestamp, body.as_bytes())?;
        let response = client
            .post(target.url())
            .header("Content-Type", "application/json")
            .header("User-Agent", "adosexo-webhooks/1")
            .header(EVENT_ID_HEADER, &event.id)
            .header(EVENT_TYPE_HEADER, &event.event_type)
            .header(SIGNATURE_HEADER, format!("t={timestamp},v1={signature}"))
            .header("traceparent", trace.header())
            .body(body)
            .send()
            .await
            .map_err(|e| {
                if e.is_timeout() {
                    "timeout".to_owned()
                } else if e.is_connect() {
                    "connect".to_owned()
                } else {
                    "request".to_owned()
                }
            })?;
        let status = response.status();
        if status.is_success() {
            Ok(())
        } else {
            Err(format!("http {}", status.as_u16()))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signature_is_hmac_sha256_of_timestamp_dot_body() {
        // Computed independently (Python: hmac.new(b"secret",
        // b"1700000000.{}", hashlib.sha256).hexdigest()).
        let s = signature("secret", 1_700_000_000, b"{}").expect("signs");
        assert_eq!(
            s,
            "b8569b78799ff9e3cbff0fc2d63a33a2b57f3282abd07c37ae5e8e7d79a5f163"
        );
        assert_ne!(s, signature("secret", 1_700_000_001, b"{}").expect("signs"));
        assert_ne!(s, signature("other", 1_700_000_000, b"{}").expect("signs"));
    }
}
