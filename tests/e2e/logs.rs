//! Logs of a full scenario carry request ids and never a password, a token,
//! a secret or a person's name or e-mail.

use std::io::Write;
use std::sync::{Arc, Mutex, OnceLock};

use reqwest::Method;
use serde_json::json;
use tracing_subscriber::fmt::MakeWriter;

use crate::helpers::{ADMIN_PASSWORD, PASSWORD, TestApp, tokens};

#[derive(Clone, Default)]
struct Capture(Arc<Mutex<Vec<u8>>>);

struct CaptureWriter(Arc<Mutex<Vec<u8>>>);

impl Write for CaptureWriter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().expect("lock").extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> MakeWriter<'a> for Capture {
    type Writer = CaptureWriter;
    fn make_writer(&'a self) -> CaptureWriter {
        CaptureWriter(self.0.clone())
    }
}

/// Installs (once per test process) a JSON subscriber at debug level that
/// writes into a buffer every test's logs share.
fn captured() -> Capture {
    static CAPTURE: OnceLock<Capture> = OnceLock::new();
    CAPTURE
        .get_or_init(|| {
            let capture = Capture::default();
            adosexo_api::telemetry::init(
                adosexo_api::telemetry::LogFormat::Json,
                "debug",
                capture.clone(),
            )
            .expect("the only subscriber of this process");
            capture
        })
        .clone()
}

crate::both_backends!(
    a_full_scenario_logs_no_secret_and_no_person,
    query_strings_and_positions_are_not_logged,
);

/// The page's and the public endpoints' query strings (a département, a
/// search, a position) never reach the log: routes are logged as patterns.
async fn query_strings_and_positions_are_not_logged(app: TestApp) {
    let capture = captured();
    let search = "motcleunique7331";
    let position = "48.123457,2.654321";
    for path in [
        format!("/aide/?departement=93&q={search}"),
        format!("/aide/embed/?q={search}"),
        format!("/api/v1/public/sites?near={position}"),
        format!("/api/v1/public/directory?q={search}"),
        format!("/?q={search}"),
    ] {
        let response = app.get(&path).await;
        assert!(response.status().as_u16() < 400, "{path}");
    }
    let logs = String::from_utf8(capture.0.lock().expect("lock").clone()).expect("utf-8");
    let aide: Vec<&str> = logs.lines().filter(|l| l.contains("/aide")).collect();
    assert!(
        aide.iter().any(|l| l.contains("\"/aide/\"")),
        "the page's route is logged: {aide:?}"
    );
    assert!(!logs.contains(search), "a search reached the log");
    assert!(!logs.contains("48.123457"), "a position reached the log");
}

async fn a_full_scenario_logs_no_secret_and_no_person(app: TestApp) {
    let capture = captured();
    let world = app.world().await;
    let mut secrets: Vec<String> = vec![
        PASSWORD.into(),
        ADMIN_PASSWORD.into(),
        "wrong password!".into(),
        world.client_secret.clone(),
        world.admin.access.clone(),
        world.client.access.clone(),
    ];
    for (role, _, t) in &world.people {
        secrets.push(t.access.clone());
        secrets.extend(t.refresh.clone());
        secrets.push(format!("Test {role}"));
        secrets.push(format!("{role}@test.example"));
    }
    // Failures, throttling, refresh, logout, a 500-free error path, audit reads.
    for _ in 0..3 {
        app.token_request(json!({"grant_type": "password", "username": "partner@test.example", "password": "wrong password!"}))
            .await;
    }
    let refreshed = tokens(
        app.token_request(json!({"grant_type": "refresh_token", "refresh_token": world.people[0].2.refresh.clone()}))
            .await,
    )
    .await;
    secrets.push(refreshed.access.clone());
    secrets.extend(refreshed.refresh.clone());
    app.get_json(
        &format!("/api/v1/accounts/{}?", world.account("partner")),
        &refreshed.access,
        200,
    )
    .await;
    app.get_json("/api/v1/audit", &refreshed.access, 200).await;
    let response = app
        .authed(
            Method::GET,
            "/api/v1/me",
            &format!("{}x", world.admin.access),
        )
        .send()
        .await
        .expect("sent");
    assert_eq!(response.status(), 401);
    app.authed(Method::POST, "/api/v1/auth/logout", &refreshed.access)
        .send()
        .await
        .expect("sent");

    let logs = String::from_utf8(capture.0.lock().expect("lock").clone()).expect("utf-8");
    assert!(logs.contains("\"request_id\""), "request spans are logged");
    assert!(
        logs.contains("request completed"),
        "completion lines are logged"
    );
    assert!(
        logs.contains("/api/v1/accounts/{id}"),
        "routes are logged as patterns"
    );
    for secret in &secrets {
        assert!(
            !logs.contains(secret.as_str()),
            "a log line contains a secret or personal datum: {secret:.12}…"
        );
    }
    assert!(
        !logs.contains(world.account("partner")),
        "path values are not logged"
    );
}
