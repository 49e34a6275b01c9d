//! Webhooks end to end: a receiver on loopback gets every status change of
//! a referral in order, signed; failures are retried with back-off, then
//! dead-lettered and redelivered on request; internal targets are refused
//! at subscription and again at delivery; concurrent workers never deliver
//! one event twice; the pull feed holds the same events.

use std::collections::{BTreeMap, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use actix_web::{App, HttpRequest, HttpResponse, HttpServer, web};
use hmac::{Hmac, Mac};
use reqwest::Method;
use serde_json::{Value, json};
use sha2::Sha256;

use crate::helpers::{TestApp, World, json, problem};

/// Fast worker, internal targets allowed (the receiver is on loopback).
const FAST: &[(&str, &str)] = &[
    ("ADOSEXO_WEBHOOK_INTERVAL_MS", "20"),
    ("ADOSEXO_WEBHOOK_BACKOFF_BASE_MS", "20"),
    ("ADOSEXO_WEBHOOK_MAX_ATTEMPTS", "4"),
    ("ADOSEXO_WEBHOOK_TIMEOUT_SECS", "2"),
    ("ADOSEXO_WEBHOOK_ALLOW_INTERNAL_TARGETS", "true"),
];

/// Fast worker, internal targets refused (the production rule).
const GUARDED: &[(&str, &str)] = &[
    ("ADOSEXO_WEBHOOK_INTERVAL_MS", "20"),
    ("ADOSEXO_WEBHOOK_BACKOFF_BASE_MS", "20"),
    ("ADOSEXO_WEBHOOK_MAX_ATTEMPTS", "2"),
];

/// No worker in the app: the test runs passes itself.
const NO_WORKER: &[(&str, &str)] = &[
    ("ADOSEXO_WEBHOOK_WORKER", "false"),
    ("ADOSEXO_WEBHOOK_ALLOW_INTERNAL_TARGETS", "true"),
];

mod fast {
    use super::*;
    crate::both_backends_with!(
        crate::webhooks::FAST,
        status_changes_arrive_in_order_with_valid_signatures,
        a_failing_receiver_gets_the_event_once_after_retries,
        a_receiver_that_stays_down_dead_letters_then_redelivery,
        deliveries_carry_the_trace_of_the_request,
    );
}

mod guarded {
    use super::*;
    crate::both_backends_with!(
        crate::webhooks::GUARDED,
        internal_targets_are_refused,
        delivery_checks_the_address_again,
    );
}

mod manual {
    use super::*;
    crate::both_backends_with!(
        crate::webhooks::NO_WORKER,
        concurrent_workers_deliver_each_event_once_in_order,
    );
}

/// One request the receiver got.
#[derive(Clone, Debug)]
struct Received {
    headers: BTreeMap<String, String>,
    body: String,
    answered: u16,
}

/// A webhook receiver on 127.0.0.1: answers from `script`, then `then`.
#[derive(Clone, Default)]
struct Receiver {
    received: Arc<Mutex<Vec<Received>>>,
    script: Arc<Mutex<VecDeque<u16>>>,
    then: Arc<Mutex<u16>>,
}

impl Receiver {
    async fn start(script: &[u16], then: u16) -> (Self, String) {
        let receiver = Self {
            received: Arc::default(),
            script: Arc::new(Mutex::new(script.iter().copied().collect())),
            then: Arc::new(Mutex::new(then)),
        };
        let shared = receiver.clone();
        let server = HttpServer::new(move || {
            let shared = shared.clone();
            App::new().default_service(web::to(move |req: HttpRequest, body: String| {
                let shared = shared.clone();
                async move {
                    let status = shared
                        .script
                        .lock()
                        .expect("lock")
                        .pop_front()
                        .unwrap_or(*shared.then.lock().expect("lock"));
                    let headers = req
                        .headers()
                        .iter()
                        .map(|(k, v)| {
                            (
                                k.as_str().to_owned(),
                                v.to_str().unwrap_or_default().to_owned(),
                            )
                        })
                        .collect();
                    shared.received.lock().expect("lock").push(Received {
                        headers,
                        body,
                        answered: status,
                    });
                    HttpResponse::build(
                        actix_web::http::StatusCode::from_u16(status).expect("status"),
                    )
                    .finish()
                }
            }))
        })
        .workers(1)
        .bind("127.0.0.1:0")
        .expect("bind");
        let port = server.addrs().first().expect("address").port();
        actix_web::rt::spawn(server.run());
        (receiver, format!("http://127.0.0.1:{port}/hook"))
    }

    fn received(&self) -> Vec<Received> {
        self.received.lock().expect("lock").clone()
    }

    fn answer(&self, status: u16) {
        *self.then.lock().expect("lock") = status;
    }

    /// Waits until `n` requests arrived (at most 15 s).
    async fn wait_for(&self, n: usize) -> Vec<Received> {
        for _ in 0..1500 {
            let got = self.received();
            if got.len() >= n {
                return got;
            }
            actix_web::rt::time::sleep(Duration::from_millis(10)).await;
        }
        panic!("expected {n} deliveries, got {}", self.received().len());
    }
}

/// Checks the signature header the way a receiver must.
fn verify(received: &Received, secret: &str) -> Value {
    let header = &received.headers["adosexo-signature"];
    let (t, v1) = header
        .split_once(',')
        .and_then(|(t, v)| Some((t.strip_prefix("t=")?, v.strip_prefix("v1=")?)))
        .expect("t=…,v1=…");
    let t: i64 = t.parse().expect("timestamp");
    assert!(
        (chrono::Utc::now().timestamp() - t).abs() <= 300,
        "inside the replay window"
    );
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("key");
    mac.update(format!("{t}.{}", received.body).as_bytes());
    let expected: String = mac
        .finalize()
        .into_bytes()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    assert_eq!(v1, expected, "valid signature");
    let body: Value = serde_json::from_str(&received.body).expect("JSON body");
    assert_eq!(
        received.headers["adosexo-event-id"],
        body["id"].as_str().expect("id")
    );
    assert_eq!(
        received.headers["adosexo-event-type"],
        body["type"].as_str().expect("type")
    );
    assert_eq!(received.headers["content-type"], "application/json");
    body
}

async fn subscribe(app: &TestApp, world: &World, url: &str) -> (String, String) {
    let created = app
        .post_json(
            "/api/v1/webhooks",
            world.token("partner_app"),
            json!({"url": url, "event_types": ["referral.status_changed"]}),
            201,
        )
        .await;
    assert_eq!(created["organisation_id"], world.org_a.as_str());
    let secret = created["secret"].as_str().expect("secret shown once");
    assert!(secret.len() >= 32);
    let id = created["id"].as_str().expect("id").to_owned();
    let again = app
        .get_json(
            &format!("/api/v1/webhooks/{id}"),
            world.token("partner_app"),
            200,
        )
        .await;
    assert!(again.get("secret").is_none(), "never shown again: {again}");
    (id, secret.to_owned())
}

/// Submits a referral as the partner app; returns (id, etag).
async fn submit(app: &TestApp, world: &World, first_name: &str) -> (String, String) {
    let response = app
        .authed(
            Method::POST,
            "/api/v1/referrals",
            world.token("partner_app"),
        )
        .json(&crate::helpers::partner_referral(first_name))
        .send()
        .await
        .expect("sent");
    let etag = response.headers()["etag"]
        .to_str()
        .expect("etag")
        .to_owned();
    let body = json(response, 201).await;
    (body["id"].as_str().expect("id").to_owned(), etag)
}

/// Review then decline as the coordinator.
async fn review_and_decline(app: &TestApp, world: &World, id: &str, etag: &str) {
    let response = app
        .authed(
            Method::POST,
            &format!("/api/v1/referrals/{id}/review"),
            world.token("coordinator"),
        )
        .header("If-Match", etag)
        .send()
        .await
        .expect("sent");
    let etag = response.headers()["etag"]
        .to_str()
        .expect("etag")
        .to_owned();
    json(response, 200).await;
    let response = app
        .authed(
            Method::POST,
            &format!("/api/v1/referrals/{id}/decline"),
            world.token("coordinator"),
        )
        .header("If-Match", etag)
        .json(&json!({"reason": "Hors périmètre"}))
        .send()
        .await
        .expect("sent");
    json(response, 200).await;
}

async fn status_changes_arrive_in_order_with_valid_signatures(app: TestApp) {
    let world = app.world().await;
    let (receiver, url) = Receiver::start(&[], 200).await;
    let (_, secret) = subscribe(&app, &world, &url).await;
    let (id, etag) = submit(&app, &world, "Lina").await;
    review_and_decline(&app, &world, &id, &etag).await;
    let got = receiver.wait_for(3).await;
    let bodies: Vec<Value> = got.iter().map(|r| verify(r, &secret)).collect();
    let statuses: Vec<&str> = bodies
        .iter()
        .map(|b| b["data"]["status"].as_str().expect("status"))
        .collect();
    assert_eq!(statuses, ["submitted", "in_review", "declined"]);
    assert_eq!(bodies[1]["data"]["from_status"], "submitted");
    for (n, body) in bodies.iter().enumerate() {
        assert_eq!(body["type"], "referral.status_changed");
        assert_eq!(body["seq"], n as i64 + 1);
        assert_eq!(body["data"]["referral_id"], id.as_str());
        assert!(
            body["data"]["reference"]
                .as_str()
                .expect("ref")
                .starts_with("ORI-")
        );
        // Ids, reference, statuses and instants only: no personal data.
        for word in ["Lina", "Diallo", "Fugues", "Hors périmètre", "2011-04-02"] {
            assert!(!body.to_string().contains(word), "{word} leaked: {body}");
        }
    }
    // The pull feed holds the same events, from a position.
    let feed = app
        .get_json("/api/v1/events?after=0", world.token("partner_app"), 200)
        .await;
    let ids: Vec<&Value> = feed["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|e| &e["id"])
        .collect();
    let delivered: Vec<&Value> = bodies.iter().map(|b| &b["id"]).collect();
    assert_eq!(ids, delivered);
    assert_eq!(feed["next_after"], 3);
    assert_eq!(
        feed["items"][2], bodies[2],
        "feed and webhook bodies are the same"
    );
    let rest = app
        .get_json(
            "/api/v1/events?after=2&limit=10",
            world.token("partner_app"),
            200,
        )
        .await;
    assert_eq!(rest["items"].as_array().expect("items").len(), 1);
    let none = app
        .get_json("/api/v1/events?after=3", world.token("partner_app"), 200)
        .await;
    assert_eq!(none["items"], json!([]));
    assert_eq!(none["next_after"], 3);
    // Organisation B's partner sees none of A's events; staff have no feed.
    problem(
        app.authed(Method::GET, "/api/v1/events", world.token("coordinator"))
            .send()
            .await
            .expect("sent"),
        403,
        "forbidden",
    )
    .await;
    problem(
        app.authed(
            Method::GET,
            "/api/v1/events?after=-1",
            world.token("partner_app"),
        )
        .send()
        .await
        .expect("sent"),
        400,
        "invalid-input",
    )
    .await;
    // Nothing more arrives: each event once.
    actix_web::rt::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(receiver.received().len(), 3);
}

async fn a_failing_receiver_gets_the_event_once_after_retries(app: TestApp) {
    let world = app.world().await;
    let (receiver, url) = Receiver::start(&[500, 500, 500], 200).await;
    let (_, secret) = subscribe(&app, &world, &url).await;
    submit(&app, &world, "Noé").await;
    let got = receiver.wait_for(4).await;
    let answered: Vec<u16> = got.iter().map(|r| r.answered).collect();
    assert_eq!(answered, [500, 500, 500, 200]);
    let ids: Vec<String> = got
        .iter()
        .map(|r| verify(r, &secret)["id"].to_string())
        .collect();
    assert!(
        ids.iter().all(|id| *id == ids[0]),
        "the same event each time"
    );
    actix_web::rt::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(
        receiver.received().len(),
        4,
        "acknowledged once: not sent again"
    );
    let dead = app
        .get_json(
            "/api/v1/webhooks/dead-letters",
            world.token("partner_app"),
            200,
        )
        .await;
    assert_eq!(dead["items"], json!([]));
}

async fn a_receiver_that_stays_down_dead_letters_then_redelivery(app: TestApp) {
    let world = app.world().await;
    let (receiver, url) = Receiver::start(&[], 503).await;
    let (subscription, secret) = subscribe(&app, &world, &url).await;
    submit(&app, &world, "Inès").await;
    // Four attempts (ADOSEXO_WEBHOOK_MAX_ATTEMPTS), then the dead-letter list.
    receiver.wait_for(4).await;
    let mut dead = Value::Null;
    for _ in 0..500 {
        dead = app
            .get_json(
                "/api/v1/webhooks/dead-letters",
                world.token("partner_app"),
                200,
            )
            .await;
        if !dead["items"].as_array().expect("items").is_empty() {
            break;
        }
        actix_web::rt::time::sleep(Duration::from_millis(10)).await;
    }
    let item = &dead["items"][0];
    assert_eq!(item["status"], "dead", "{dead}");
    assert_eq!(item["attempts"], 4);
    assert_eq!(item["last_error"], "http 503");
    assert_eq!(item["subscription_id"], subscription.as_str());
    actix_web::rt::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(receiver.received().len(), 4, "no attempt after the last");
    // The admin sees it too; another organisation's partner cannot redeliver it.
    let all = app
        .get_json("/api/v1/webhooks/dead-letters", &world.admin.access, 200)
        .await;
    assert_eq!(all["items"][0]["id"], item["id"]);
    let delivery = item["id"].as_str().expect("id");
    // Back up: redelivered on request, once.
    receiver.answer(200);
    let queued = app
        .post_json(
            &format!("/api/v1/webhooks/deliveries/{delivery}/redeliver"),
            world.token("partner_app"),
            json!({}),
            202,
        )
        .await;
    assert_eq!(queued["status"], "pending");
    assert_eq!(queued["attempts"], 0);
    let got = receiver.wait_for(5).await;
    assert_eq!(got[4].answered, 200);
    assert_eq!(verify(&got[4], &secret)["id"], item["event_id"]);
    for _ in 0..500 {
        let dead = app
            .get_json(
                "/api/v1/webhooks/dead-letters",
                world.token("partner_app"),
                200,
            )
            .await;
        if dead["items"] == json!([]) {
            break;
        }
        actix_web::rt::time::sleep(Duration::from_millis(10)).await;
    }
    problem(
        app.authed(
            Method::POST,
            &format!("/api/v1/webhooks/deliveries/{delivery}/redeliver"),
            world.token("partner_app"),
        )
        .send()
        .await
        .expect("sent"),
        409,
        "delivery-not-dead",
    )
    .await;
    // Deleting the subscription stops everything.
    let deleted = app
        .authed(
            Method::DELETE,
            &format!("/api/v1/webhooks/{subscription}"),
            world.token("partner_app"),
        )
        .send()
        .await
        .expect("sent");
    assert_eq!(deleted.status().as_u16(), 204);
    submit(&app, &world, "Sami").await;
    actix_web::rt::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(receiver.received().len(), 5);
}

async fn internal_targets_are_refused(app: TestApp) {
    let world = app.world().await;
    for url in [
        "https://127.0.0.1/hook",
        "https://10.0.0.1/hook",
        "https://169.254.169.254/latest/meta-data/",
        "https://[::1]/hook",
        "https://localhost/hook",
        "http://127.0.0.1:9/hook",
    ] {
        let response = app
            .authed(Method::POST, "/api/v1/webhooks", world.token("partner_app"))
            .json(&json!({"url": url, "event_types": ["referral.status_changed"]}))
            .send()
            .await
            .expect("sent");
        problem(response, 422, "webhook-target-internal").await;
    }
    let response = app
        .authed(Method::POST, "/api/v1/webhooks", world.token("partner_app"))
        .json(&json!({"url": "ftp://example.org/hook", "event_types": ["referral.status_changed"]}))
        .send()
        .await
        .expect("sent");
    let body = problem(response, 400, "invalid-input").await;
    assert_eq!(body["errors"][0]["field"], "url");
    // A partner subscribes for its own organisation only (404 for another);
    // an admin names the organisation.
    let response = app
        .authed(Method::POST, "/api/v1/webhooks", world.token("partner_app"))
        .json(&json!({"organisation_id": world.org_b, "url": "https://93.184.216.34/h", "event_types": ["share.granted"]}))
        .send()
        .await
        .expect("sent");
    problem(response, 404, "not-found").await;
    let response = app
        .authed(Method::POST, "/api/v1/webhooks", &world.admin.access)
        .json(&json!({"url": "https://93.184.216.34/h", "event_types": ["share.granted"]}))
        .send()
        .await
        .expect("sent");
    let body = problem(response, 422, "invalid-value").await;
    assert_eq!(body["errors"][0]["field"], "organisation_id");
    let response = app
        .authed(Method::POST, "/api/v1/webhooks", world.token("partner_app"))
        .json(&json!({"url": "https://user@example.org/h", "event_types": ["share.granted"]}))
        .send()
        .await
        .expect("sent");
    problem(response, 422, "invalid-value").await;
    let created = app
        .post_json(
            "/api/v1/webhooks",
            &world.admin.access,
            json!({"organisation_id": world.org_b, "url": "https://93.184.216.34/h", "event_types": ["share.granted", "share.revoked"], "secret": "a-secret-of-our-own-with-32-chars!!"}),
            201,
        )
        .await;
    assert!(
        created.get("secret").is_none(),
        "a supplied secret is not echoed"
    );
    let id = created["id"].as_str().expect("id");
    // Partner A does not see B's subscription.
    problem(
        app.authed(
            Method::GET,
            &format!("/api/v1/webhooks/{id}"),
            world.token("partner_app"),
        )
        .send()
        .await
        .expect("sent"),
        404,
        "not-found",
    )
    .await;
    let mine = app
        .get_json("/api/v1/webhooks", world.token("partner_app"), 200)
        .await;
    assert_eq!(mine["items"], json!([]));
    let all = app
        .get_json("/api/v1/webhooks", &world.admin.access, 200)
        .await;
    assert_eq!(all["items"][0]["id"], id);
}

/// A subscription whose host name resolves to an internal address by the
/// time of delivery (DNS rebinding) gets nothing.
async fn delivery_checks_the_address_again(app: TestApp) {
    let world = app.world().await;
    let (receiver, url) = Receiver::start(&[], 200).await;
    // Stored as if `localhost` had resolved to a public address when it was
    // created: the worker resolves it again and refuses.
    let url = url.replace("127.0.0.1", "localhost");
    let keys = adosexo_api::crypto::NotesKeys::parse(
        "test-1:c2l4dGVlbi1ieXRlLXRlc3Qtbm90ZXMta2V5IS4uLi4=",
        "test-1",
    )
    .expect("keys");
    let id = uuid::Uuid::now_v7().to_string();
    let sealed = keys
        .seal(
            "s3cret-s3cret-s3cret-s3cret-s3cret",
            &adosexo_api::webhooks::secret_context(&id),
        )
        .expect("sealed");
    let now = adosexo_persistence::time::to_db(chrono::Utc::now());
    let row = adosexo_persistence::webhooks::SubscriptionRow {
        id,
        organisation_id: world.org_a.clone(),
        url,
        event_types: "referral.status_changed".into(),
        secret_key_id: sealed.key_id,
        secret_nonce: sealed.nonce,
        secret_ciphertext: sealed.ciphertext,
        status: "active".into(),
        created_by: world.account("partner").to_owned(),
        created_at: now,
        updated_at: now,
    };
    app.db()
        .run(move |conn| adosexo_persistence::webhooks::insert_subscription(conn, &row))
        .await
        .expect("inserted");
    submit(&app, &world, "Yanis").await;
    let mut dead = Value::Null;
    for _ in 0..500 {
        dead = app
            .get_json(
                "/api/v1/webhooks/dead-letters",
                world.token("partner_app"),
                200,
            )
            .await;
        if !dead["items"].as_array().expect("items").is_empty() {
            break;
        }
        actix_web::rt::time::sleep(Duration::from_millis(10)).await;
    }
    assert_eq!(
        dead["items"][0]["last_error"], "webhook-target-internal",
        "{dead}"
    );
    assert!(
        receiver.received().is_empty(),
        "nothing reached the internal address"
    );
}

/// Several workers on one database, each with its own pool and writer as
/// several instances have: each event is delivered exactly once (claims:
/// `FOR UPDATE SKIP LOCKED` on PostgreSQL, write transactions on SQLite)
/// and in order per referral.
async fn concurrent_workers_deliver_each_event_once_in_order(app: TestApp) {
    let world = app.world().await;
    let (receiver, url) = Receiver::start(&[], 200).await;
    let (_, secret) = subscribe(&app, &world, &url).await;
    let mut referrals = Vec::new();
    for name in ["Ana", "Bilal", "Chloé", "Dylan"] {
        let (id, etag) = submit(&app, &world, name).await;
        referrals.push((id, etag));
    }
    for (id, etag) in &referrals {
        review_and_decline(&app, &world, id, etag).await;
    }
    let keys = adosexo_api::crypto::NotesKeys::parse(
        "test-1:c2l4dGVlbi1ieXRlLXRlc3Qtbm90ZXMta2V5IS4uLi4=",
        "test-1",
    )
    .expect("keys");
    let notes = Arc::new(keys);
    let instance = |_| adosexo_api::webhooks::Worker {
        db: adosexo_persistence::Db::connect(
            &adosexo_persistence::DatabaseUrl::parse(&app.database_url).expect("url"),
            adosexo_persistence::PoolOptions::default(),
        )
        .expect("another instance's connections"),
        clock: adosexo_api::context::Clock::system(),
        notes: notes.clone(),
        settings: adosexo_api::webhooks::WebhookSettings {
            allow_http: true,
            allow_internal: true,
            ..Default::default()
        },
        spans: adosexo_api::otlp::Spans::disabled(Default::default()),
    };
    // Six workers, three per instance, each looping passes until nothing is
    // left.
    let instances: Vec<_> = (0..2).map(instance).collect();
    let mut tasks = Vec::new();
    for n in 0..6 {
        let worker = instances[n % 2].clone();
        tasks.push(actix_web::rt::spawn(async move {
            for _ in 0..20 {
                worker.pass().await.expect("pass");
            }
        }));
    }
    for task in tasks {
        task.await.expect("worker");
    }
    let got = receiver.wait_for(12).await;
    let bodies: Vec<Value> = got.iter().map(|r| verify(r, &secret)).collect();
    let mut ids: Vec<String> = bodies.iter().map(|b| b["id"].to_string()).collect();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), 12, "each of the 12 events once");
    assert_eq!(got.len(), 12, "no event twice");
    for (id, _) in &referrals {
        let statuses: Vec<&str> = bodies
            .iter()
            .filter(|b| b["data"]["referral_id"] == id.as_str())
            .map(|b| b["data"]["status"].as_str().expect("status"))
            .collect();
        assert_eq!(
            statuses,
            ["submitted", "in_review", "declined"],
            "in order per referral"
        );
    }
}

/// The delivery carries a W3C `traceparent` in the trace of the request
/// that caused the event (a span of its own), so a partner's traces join
/// ours.
async fn deliveries_carry_the_trace_of_the_request(app: TestApp) {
    let world = app.world().await;
    let (receiver, url) = Receiver::start(&[], 200).await;
    subscribe(&app, &world, &url).await;
    let trace_id = "4bf92f3577b34da6a3ce929d0e0e4736";
    let parent = "00f067aa0ba902b7";
    let response = app
        .authed(
            Method::POST,
            "/api/v1/referrals",
            world.token("partner_app"),
        )
        .header("traceparent", format!("00-{trace_id}-{parent}-01"))
        .json(&crate::helpers::partner_referral("Lina"))
        .send()
        .await
        .expect("sent");
    json(response, 201).await;
    let got = receiver.wait_for(1).await;
    let traceparent = got[0].headers.get("traceparent").expect("traceparent");
    let parts: Vec<&str> = traceparent.split('-').collect();
    assert_eq!(parts.len(), 4, "{traceparent}");
    assert_eq!(parts[0], "00");
    assert_eq!(parts[1], trace_id, "the request's trace");
    assert_ne!(parts[2], parent, "a span of its own");
    assert_eq!(parts[2].len(), 16);
    assert_eq!(parts[3], "01");
}
