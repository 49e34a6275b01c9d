//! `/metrics` in Prometheus' text format (version 0.0.4), on a listener of
//! its own (`ADOSEXO_METRICS_BIND`, off by default) so it is never public.
//!
//! Labels are closed sets: the method (`OTHER` beyond the usual ones), the
//! route's *pattern* (`/api/v1/referrals/{id}`, never the id), the status
//! code. No value from a request, a row or a token is ever a label.

use std::collections::{BTreeMap, HashMap};
use std::fmt::Write as _;
use std::sync::Mutex;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};

use actix_web::http::Method;
use actix_web::{HttpResponse, web};
use adosexo_persistence::metrics::{BATCH, Histogram, HistogramSnapshot, SECONDS};

use crate::state::AppState;

/// The media type of the text exposition format.
pub const CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

/// What the HTTP layer counts, per method and route pattern.
#[derive(Debug, Default)]
pub struct HttpMetrics {
    routes: Mutex<HashMap<(&'static str, String), RouteFigures>>,
}

#[derive(Debug)]
struct RouteFigures {
    statuses: BTreeMap<u16, u64>,
    latency: Histogram,
}

/// The method as a label: the usual ones by name, anything else `OTHER`.
pub fn method_label(method: &Method) -> &'static str {
    match *method {
        Method::GET => "GET",
        Method::HEAD => "HEAD",
        Method::POST => "POST",
        Method::PUT => "PUT",
        Method::PATCH => "PATCH",
        Method::DELETE => "DELETE",
        Method::OPTIONS => "OPTIONS",
        _ => "OTHER",
    }
}

impl HttpMetrics {
    /// Counts one answered request. `route` is the matched pattern (or
    /// `(unmatched)`), never the path.
    pub fn observe(&self, method: &Method, route: &str, status: u16, seconds: f64) {
        let mut routes = self
            .routes
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let figures = routes
            .entry((method_label(method), route.to_owned()))
            .or_insert_with(|| RouteFigures {
                statuses: BTreeMap::new(),
                latency: Histogram::new(SECONDS),
            });
        *figures.statuses.entry(status).or_default() += 1;
        figures.latency.observe(seconds);
    }

    fn snapshot(&self) -> Vec<RouteSnapshot> {
        let routes = self
            .routes
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let mut all: Vec<RouteSnapshot> = routes
            .iter()
            .map(|((method, route), figures)| RouteSnapshot {
                method,
                route: route.clone(),
                statuses: figures.statuses.clone(),
                latency: figures.latency.snapshot(),
            })
            .collect();
        all.sort_by(|a, b| (&a.route, a.method).cmp(&(&b.route, b.method)));
        all
    }
}

struct RouteSnapshot {
    method: &'static str,
    route: String,
    statuses: BTreeMap<u16, u64>,
    latency: HistogramSnapshot,
}

/// What the audit writer counts.
#[derive(Debug)]
pub struct AuditMetrics {
    /// Entries queued and not yet committed.
    pub waiting: AtomicI64,
    /// From a request handing its entries over to their commit.
    pub commit_lag: Histogram,
    /// Entries per commit.
    pub batch_entries: Histogram,
    /// Commits that failed (every request of the batch failed with them).
    pub failures: AtomicU64,
}

impl Default for AuditMetrics {
    fn default() -> Self {
        Self {
            waiting: AtomicI64::new(0),
            commit_lag: Histogram::new(SECONDS),
            batch_entries: Histogram::new(BATCH),
            failures: AtomicU64::new(0),
        }
    }
}

/// What the trace exporter counts.
#[derive(Debug, Default)]
pub struct TraceMetrics {
    /// Spans the collector accepted.
    pub exported: AtomicU64,
    /// Spans dropped: the queue was full or the collector refused them.
    pub dropped: AtomicU64,
}

/// The text a scrape answers.
struct Exposition(String);

impl Exposition {
    fn header(&mut self, name: &str, kind: &str, help: &str) {
        let _ = writeln!(self.0, "# HELP {name} {help}\n# TYPE {name} {kind}");
    }

    fn sample(&mut self, name: &str, labels: &[(&str, &str)], value: impl std::fmt::Display) {
        self.0.push_str(name);
        if !labels.is_empty() {
            self.0.push('{');
            for (i, (key, label)) in labels.iter().enumerate() {
                if i > 0 {
                    self.0.push(',');
                }
                let _ = write!(self.0, "{key}=\"{}\"", escape(label));
            }
            self.0.push('}');
        }
        let _ = writeln!(self.0, " {value}");
    }

    fn one(&mut self, name: &str, kind: &str, help: &str, value: impl std::fmt::Display) {
        self.header(name, kind, help);
        self.sample(name, &[], value);
    }

    fn histogram(&mut self, name: &str, labels: &[(&str, &str)], snapshot: &HistogramSnapshot) {
        let bucket = format!("{name}_bucket");
        for (bound, count) in &snapshot.buckets {
            let le = if bound.is_infinite() {
                "+Inf".to_owned()
            } else {
                bound.to_string()
            };
            let mut with_le: Vec<(&str, &str)> = labels.to_vec();
            with_le.push(("le", &le));
            self.sample(&bucket, &with_le, count);
        }
        self.sample(&format!("{name}_sum"), labels, snapshot.sum);
        self.sample(&format!("{name}_count"), labels, snapshot.count);
    }
}

/// A label value as the text format wants it.
fn escape(value: &str) -> String {
    value
        .replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

/// Everything, as one exposition.
async fn render(state: &AppState, http: &HttpMetrics, traces: &TraceMetrics) -> String {
    let mut out = Exposition(String::new());
    let routes = http.snapshot();
    out.header(
        "adosexo_http_requests_total",
        "counter",
        "Requests answered, by method, route pattern and status.",
    );
    for route in &routes {
        for (status, count) in &route.statuses {
            let status = status.to_string();
            out.sample(
                "adosexo_http_requests_total",
                &[
                    ("method", route.method),
                    ("route", &route.route),
                    ("status", &status),
                ],
                count,
            );
        }
    }
    out.header(
        "adosexo_http_request_duration_seconds",
        "histogram",
        "Time from the request's arrival to its response, by method and route pattern.",
    );
    for route in &routes {
        out.histogram(
            "adosexo_http_request_duration_seconds",
            &[("method", route.method), ("route", &route.route)],
            &route.latency,
        );
    }
    out.header(
        "adosexo_http_rate_limited_total",
        "counter",
        "Requests refused with 429 (public rate limit, sign-in throttle), by route pattern.",
    );
    for route in &routes {
        if let Some(count) = route.statuses.get(&429) {
            out.sample(
                "adosexo_http_rate_limited_total",
                &[("method", route.method), ("route", &route.route)],
                count,
            );
        }
    }

    let db = &state.db;
    let pool = db.pool_state();
    out.header(
        "adosexo_db_pool_connections",
        "gauge",
        "Open connections of the pool, by state.",
    );
    out.sample(
        "adosexo_db_pool_connections",
        &[("state", "in_use")],
        pool.connections.saturating_sub(pool.idle),
    );
    out.sample(
        "adosexo_db_pool_connections",
        &[("state", "idle")],
        pool.idle,
    );
    out.one(
        "adosexo_db_pool_max_connections",
        "gauge",
        "The most connections the pool opens.",
        pool.max,
    );
    let figures = db.metrics();
    out.header(
        "adosexo_db_pool_wait_seconds",
        "histogram",
        "Time spent waiting for a pooled connection.",
    );
    out.histogram(
        "adosexo_db_pool_wait_seconds",
        &[],
        &figures.checkout_wait.snapshot(),
    );
    out.one(
        "adosexo_db_pool_timeouts_total",
        "counter",
        "Waits for a connection that gave up (503).",
        figures.checkout_failures.load(Ordering::Relaxed),
    );
    out.one(
        "adosexo_db_group_commit_waiting",
        "gauge",
        "Writes queued for the writer thread, not yet in a commit.",
        figures.writes_waiting.load(Ordering::Relaxed).max(0),
    );
    out.header(
        "adosexo_db_group_commit_writes",
        "histogram",
        "Writes per group commit.",
    );
    out.histogram(
        "adosexo_db_group_commit_writes",
        &[],
        &figures.batch_writes.snapshot(),
    );
    out.header(
        "adosexo_db_group_commit_seconds",
        "histogram",
        "Time each group commit took, from its first write to its commit.",
    );
    out.histogram(
        "adosexo_db_group_commit_seconds",
        &[],
        &figures.batch_seconds.snapshot(),
    );

    let audit = state.auditor.metrics();
    out.one(
        "adosexo_audit_queue_entries",
        "gauge",
        "Audit entries handed to the audit writer and not yet committed.",
        audit.waiting.load(Ordering::Relaxed).max(0),
    );
    out.header(
        "adosexo_audit_commit_lag_seconds",
        "histogram",
        "Time from a request handing over its audit entries to their commit.",
    );
    out.histogram(
        "adosexo_audit_commit_lag_seconds",
        &[],
        &audit.commit_lag.snapshot(),
    );
    out.header(
        "adosexo_audit_batch_entries",
        "histogram",
        "Audit entries per commit.",
    );
    out.histogram(
        "adosexo_audit_batch_entries",
        &[],
        &audit.batch_entries.snapshot(),
    );
    out.one(
        "adosexo_audit_commit_failures_total",
        "counter",
        "Audit commits that failed (their requests failed too).",
        audit.failures.load(Ordering::Relaxed),
    );

    // Read from the outbox at each scrape: every instance sees the same
    // figures (the outbox is shared).
    let backlog = db
        .run(adosexo_persistence::webhooks::delivery_backlog)
        .await;
    out.one(
        "adosexo_webhook_outbox_up",
        "gauge",
        "1 when the webhook figures below could be read from the database.",
        u8::from(backlog.is_ok()),
    );
    if let Ok((pending, dead)) = backlog {
        out.header(
            "adosexo_webhook_deliveries",
            "gauge",
            "Webhook deliveries in the outbox: pending (backlog) and dead (given up).",
        );
        out.sample(
            "adosexo_webhook_deliveries",
            &[("status", "pending")],
            pending,
        );
        out.sample("adosexo_webhook_deliveries", &[("status", "dead")], dead);
    }

    out.one(
        "adosexo_trace_spans_exported_total",
        "counter",
        "Spans the OTLP collector accepted.",
        traces.exported.load(Ordering::Relaxed),
    );
    out.one(
        "adosexo_trace_spans_dropped_total",
        "counter",
        "Spans dropped (queue full, collector unreachable or refusing).",
        traces.dropped.load(Ordering::Relaxed),
    );
    out.0
}

/// `GET /metrics` on the metrics listener.
pub async fn scrape(
    state: web::Data<AppState>,
    http: web::Data<HttpMetrics>,
    traces: web::Data<TraceMetrics>,
) -> HttpResponse {
    let body = render(&state, &http, &traces).await;
    HttpResponse::Ok()
        .insert_header(("Content-Type", CONTENT_TYPE))
        .insert_header(("Cache-Control", "no-store"))
        .body(body)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn routes_are_counted_by_pattern_method_and_status() {
        let http = HttpMetrics::default();
        http.observe(&Method::GET, "/api/v1/referrals/{id}", 200, 0.003);
        http.observe(&Method::GET, "/api/v1/referrals/{id}", 404, 0.002);
        http.observe(&Method::GET, "/api/v1/referrals/{id}", 200, 2.0);
        http.observe(
            &Method::from_bytes(b"BREW").expect("method"),
            "(unmatched)",
            404,
            0.001,
        );
        let routes = http.snapshot();
        assert_eq!(routes.len(), 2);
        let referral = routes
            .iter()
            .find(|r| r.route == "/api/v1/referrals/{id}")
            .expect("route");
        assert_eq!(referral.statuses.get(&200), Some(&2));
        assert_eq!(referral.statuses.get(&404), Some(&1));
        assert_eq!(referral.latency.count, 3);
        assert!(routes.iter().any(|r| r.method == "OTHER"));
    }

    #[test]
    fn label_values_are_escaped() {
        let mut out = Exposition(String::new());
        out.sample("m", &[("route", "a\"b\\c\nd")], 1);
        assert_eq!(out.0, "m{route=\"a\\\"b\\\\c\\nd\"} 1\n");
    }
}
