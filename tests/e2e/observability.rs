//! What an operator's Prometheus and OpenTelemetry collector see: `/metrics`
//! on its own listener, figures that move with the traffic, spans exported
//! over OTLP/HTTP as children of the caller's `traceparent`, and no personal
//! data in any label or span attribute. Both backends.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use actix_web::{App, HttpResponse, HttpServer, web};
use reqwest::Method;
use serde_json::Value;

use crate::helpers::{Kind, TestApp, json};

/// A name that must never reach a label or a span.
const SECRET_NAME: &str = "Zoé-Hélèna Marchetti";

fn metrics_config() -> Vec<(&'static str, String)> {
    vec![
        ("ADOSEXO_METRICS_BIND", "127.0.0.1:0".to_owned()),
        ("ADOSEXO_PUBLIC_RATE_LIMIT_PER_MINUTE", "3".to_owned()),
    ]
}

async fn spawn(kind: Kind, extra: &[(&'static str, String)]) -> TestApp {
    let pairs: Vec<(&str, &str)> = extra.iter().map(|(k, v)| (*k, v.as_str())).collect();
    TestApp::spawn_with(kind, &pairs).await
}

/// Whether `TEST_DATABASE_URL` is set (when it is not: said aloud, or a
/// failure under `ADOSEXO_TEST_REQUIRE_POSTGRES`).
fn postgres_configured() -> bool {
    adosexo_persistence::testing::TestDatabase::postgres()
        .expect("a PostgreSQL test database")
        .is_some()
}

#[actix_web::test]
async fn metrics_move_with_the_traffic_sqlite() {
    metrics_move_with_the_traffic(spawn(Kind::Sqlite, &metrics_config()).await).await;
}

#[actix_web::test]
async fn metrics_move_with_the_traffic_postgres() {
    if postgres_configured() {
        metrics_move_with_the_traffic(spawn(Kind::Postgres, &metrics_config()).await).await;
    }
}

#[actix_web::test]
async fn spans_reach_the_collector_sqlite() {
    spans_reach_the_collector(Kind::Sqlite).await;
}

#[actix_web::test]
async fn spans_reach_the_collector_postgres() {
    if postgres_configured() {
        spans_reach_the_collector(Kind::Postgres).await;
    }
}

/// One scrape: the text and its samples (`name{labels}` → value).
async fn scrape(app: &TestApp) -> (String, Vec<(String, f64)>) {
    let port = app.metrics_port.expect("metrics listener");
    let response = app
        .client
        .get(format!("http://127.0.0.1:{port}/metrics"))
        .send()
        .await
        .expect("scraped");
    assert_eq!(response.status(), 200);
    assert!(
        response.headers()["content-type"]
            .to_str()
            .expect("type")
            .starts_with("text/plain; version=0.0.4")
    );
    let text = response.text().await.expect("text");
    let samples = text
        .lines()
        .filter(|line| !line.starts_with('#') && !line.is_empty())
        .map(|line| {
            let (name, value) = line.rsplit_once(' ').expect("sample");
            (name.to_owned(), value.parse::<f64>().expect("number"))
        })
        .collect();
    (text, samples)
}

fn value(samples: &[(String, f64)], name: &str) -> f64 {
    samples
        .iter()
        .find(|(n, _)| n == name)
        .map_or(0.0, |(_, v)| *v)
}

async fn metrics_move_with_the_traffic(app: TestApp) {
    // Never on the API's own port.
    let public = app.get("/metrics").await;
    assert_eq!(public.status(), 404);

    let world = app.world().await;
    let (_, before) = scrape(&app).await;
    let directory = r#"adosexo_http_requests_total{method="GET",route="/api/v1/public/directory",status="200"}"#;
    let referral =
        r#"adosexo_http_requests_total{method="GET",route="/api/v1/referrals/{id}",status="404"}"#;
    let unknown_id = uuid::Uuid::new_v4().to_string();

    // Public reads with a name in the query, then past the rate limit.
    let query = format!("/api/v1/public/directory?q={}", urlencode(SECRET_NAME));
    let mut limited = 0;
    for _ in 0..5 {
        let response = app.get(&query).await;
        if response.status() == 429 {
            limited += 1;
        }
    }
    assert!(limited >= 1, "the rate limit of 3 a minute refused some");
    // An audited read (a 404 on an id that does not exist is audited too).
    let response = app
        .authed(
            Method::GET,
            &format!("/api/v1/referrals/{unknown_id}"),
            world.token("coordinator"),
        )
        .send()
        .await
        .expect("sent");
    json(response, 404).await;
    // A write.
    let response = app
        .authed(
            Method::POST,
            "/api/v1/referrals",
            world.token("partner_app"),
        )
        .json(&crate::helpers::partner_referral(SECRET_NAME))
        .send()
        .await
        .expect("sent");
    json(response, 201).await;

    let (text, after) = scrape(&app).await;
    assert!(
        value(&after, directory) >= value(&before, directory) + 3.0,
        "{text}"
    );
    assert_eq!(
        value(&after, referral),
        value(&before, referral) + 1.0,
        "{text}"
    );
    let limited_name =
        r#"adosexo_http_rate_limited_total{method="GET",route="/api/v1/public/directory"}"#;
    assert!(value(&after, limited_name) >= 1.0, "{text}");
    let latency = r#"adosexo_http_request_duration_seconds_count{method="GET",route="/api/v1/public/directory"}"#;
    assert!(value(&after, latency) >= 5.0, "{text}");
    // The audit writer committed the read's entry.
    assert!(
        value(&after, "adosexo_audit_batch_entries_count")
            > value(&before, "adosexo_audit_batch_entries_count"),
        "{text}"
    );
    assert!(value(&after, "adosexo_audit_commit_lag_seconds_count") >= 1.0);
    // The pool and the outbox.
    assert!(
        value(&after, "adosexo_db_pool_max_connections") >= 1.0,
        "{text}"
    );
    assert!(
        value(&after, "adosexo_db_pool_wait_seconds_count") > 0.0,
        "{text}"
    );
    assert_eq!(value(&after, "adosexo_webhook_outbox_up"), 1.0, "{text}");
    assert!(text.contains(r#"adosexo_webhook_deliveries{status="pending"}"#));
    assert!(text.contains(r#"adosexo_webhook_deliveries{status="dead"}"#));
    if app.kind == Kind::Sqlite {
        assert!(
            value(&after, "adosexo_db_group_commit_writes_count")
                > value(&before, "adosexo_db_group_commit_writes_count"),
            "{text}"
        );
    }
    // Nothing from a request: no name, no id, no token, no query.
    for secret in [
        SECRET_NAME,
        "Marchetti",
        &unknown_id,
        world.token("coordinator"),
        "q=",
    ] {
        assert!(!text.contains(secret), "{secret} in /metrics");
    }
}

fn urlencode(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// An OTLP/HTTP collector on 127.0.0.1: keeps every JSON body it gets.
async fn collector() -> (Arc<Mutex<Vec<Value>>>, String) {
    let received: Arc<Mutex<Vec<Value>>> = Arc::default();
    let shared = received.clone();
    let server = HttpServer::new(move || {
        let shared = shared.clone();
        App::new().route(
            "/v1/traces",
            web::post().to(move |req: actix_web::HttpRequest, body: web::Bytes| {
                let shared = shared.clone();
                async move {
                    assert_eq!(
                        req.headers()
                            .get("content-type")
                            .and_then(|v| v.to_str().ok()),
                        Some("application/json")
                    );
                    let value: Value = serde_json::from_slice(&body).expect("OTLP JSON");
                    shared.lock().expect("lock").push(value);
                    HttpResponse::Ok().json(serde_json::json!({}))
                }
            }),
        )
    })
    .workers(1)
    .bind("127.0.0.1:0")
    .expect("bind");
    let port = server.addrs().first().expect("address").port();
    actix_web::rt::spawn(server.run());
    (received, format!("http://127.0.0.1:{port}"))
}

fn spans_of(bodies: &[Value]) -> Vec<Value> {
    bodies
        .iter()
        .flat_map(|b| b["resourceSpans"].as_array().cloned().unwrap_or_default())
        .flat_map(|r| r["scopeSpans"].as_array().cloned().unwrap_or_default())
        .flat_map(|s| s["spans"].as_array().cloned().unwrap_or_default())
        .collect()
}

async fn spans_reach_the_collector(kind: Kind) {
    let (received, endpoint) = collector().await;
    let app = spawn(
        kind,
        &[
            ("OTEL_EXPORTER_OTLP_ENDPOINT", endpoint),
            ("OTEL_SERVICE_NAME", "adosexo-test".to_owned()),
            ("ADOSEXO_METRICS_BIND", "127.0.0.1:0".to_owned()),
        ],
    )
    .await;
    let trace_id = "4bf92f3577b34da6a3ce929d0e0e4736";
    let parent = "00f067aa0ba902b7";
    let response = app
        .client
        .get(format!(
            "{}/api/v1/public/directory?q={}",
            app.address,
            urlencode(SECRET_NAME)
        ))
        .header("traceparent", format!("00-{trace_id}-{parent}-01"))
        .send()
        .await
        .expect("sent");
    assert_eq!(response.status(), 200);
    // Not sampled by the caller: not exported.
    let unsampled = "0af7651916cd43dd8448eb211c80319c";
    let response = app
        .client
        .get(format!("{}/api/v1/public/contacts", app.address))
        .header("traceparent", format!("00-{unsampled}-b7ad6b7169203331-00"))
        .send()
        .await
        .expect("sent");
    assert!(response.status().is_success());
    // Without a traceparent: a trace of its own.
    let response = app.get("/healthz").await;
    assert_eq!(response.status(), 200);

    let mut spans = Vec::new();
    for _ in 0..100 {
        spans = spans_of(&received.lock().expect("lock"));
        if spans.len() >= 2 {
            break;
        }
        actix_web::rt::time::sleep(Duration::from_millis(100)).await;
    }
    let ours = spans
        .iter()
        .find(|s| s["traceId"] == trace_id)
        .unwrap_or_else(|| panic!("a span in the caller's trace: {spans:?}"));
    assert_eq!(ours["parentSpanId"], parent);
    assert_ne!(ours["spanId"], parent);
    assert_eq!(ours["name"], "GET /api/v1/public/directory");
    assert_eq!(ours["kind"], 2);
    let attributes = ours["attributes"].as_array().expect("attributes");
    let attribute = |key: &str| {
        attributes
            .iter()
            .find(|a| a["key"] == key)
            .map(|a| a["value"].clone())
    };
    assert_eq!(
        attribute("http.route"),
        Some(serde_json::json!({"stringValue": "/api/v1/public/directory"}))
    );
    assert_eq!(
        attribute("http.response.status_code"),
        Some(serde_json::json!({"intValue": "200"}))
    );
    let health = spans
        .iter()
        .find(|s| s["name"] == "GET /healthz")
        .unwrap_or_else(|| panic!("the health check's span: {spans:?}"));
    assert!(health.get("parentSpanId").is_none());
    assert_eq!(health["traceId"].as_str().map(str::len), Some(32));
    assert!(
        spans.iter().all(|s| s["traceId"] != unsampled),
        "an unsampled trace was exported"
    );
    let bodies = serde_json::to_string(&*received.lock().expect("lock")).expect("json");
    assert!(bodies.contains(r#""stringValue":"adosexo-test""#));
    for secret in [SECRET_NAME, "Marchetti", "Zo%C3%A9", "q="] {
        assert!(!bodies.contains(secret), "{secret} exported");
    }
    // The exporter counts what the collector accepted.
    let (text, samples) = scrape(&app).await;
    assert!(
        value(&samples, "adosexo_trace_spans_exported_total") >= 2.0,
        "{text}"
    );
}
