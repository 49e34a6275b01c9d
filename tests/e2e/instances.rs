//! Several instances on one database (scale-out): what one instance
//! changes, the other honours. A logout on one refuses the token on the
//! other within the session cache's bound (1 s); an idempotent create sent
//! to both happens once. Both backends.

use std::time::{Duration, Instant};

use adosexo_api::Application;
use reqwest::Method;

use crate::helpers::{PASSWORD, TestApp, json, test_config_with};

crate::both_backends!(a_logout_on_one_instance_is_honoured_by_the_other_within_a_second,);

#[test]
fn two_instances_starting_at_once_migrate_one_database_sqlite() {
    let database = adosexo_persistence::testing::TestDatabase::sqlite().expect("database");
    start_two_at_once(database.url());
}

#[test]
fn two_instances_starting_at_once_migrate_one_database_postgres() {
    if let Some(database) =
        adosexo_persistence::testing::TestDatabase::postgres().expect("database")
    {
        start_two_at_once(database.url());
    }
}

/// Two instances of a new release start together on a database that has
/// none of its tables: both start, the migrations ran once, and each
/// instance serves.
fn start_two_at_once(url: &str) {
    let barrier = std::sync::Arc::new(std::sync::Barrier::new(2));
    let starts: Vec<_> = (0..2)
        .map(|_| {
            let (url, barrier) = (url.to_owned(), barrier.clone());
            std::thread::spawn(move || {
                let config = test_config_with(&url, &[]);
                barrier.wait();
                actix_web::rt::System::new().block_on(async move {
                    let app = Application::build(&config)
                        .unwrap_or_else(|e| panic!("an instance starts: {e}"));
                    let port = app.port();
                    let handle = app.handle();
                    let served = actix_web::rt::spawn(app.run_until_stopped());
                    let status = reqwest::get(format!("http://127.0.0.1:{port}/readyz"))
                        .await
                        .expect("sent")
                        .status();
                    handle.stop(true).await;
                    let _ = served.await;
                    status.as_u16()
                })
            })
        })
        .collect();
    for start in starts {
        assert_eq!(start.join().expect("the instance's thread"), 200);
    }
    // Every migration recorded once.
    let db = adosexo_persistence::Db::connect(
        &adosexo_persistence::DatabaseUrl::parse(url).expect("url"),
        adosexo_persistence::PoolOptions::default(),
    )
    .expect("connect");
    assert_eq!(db.migrate().expect("migrate"), 0, "nothing left to apply");
}

/// A second instance of the application on `app`'s database; its address.
async fn second_instance(app: &TestApp) -> String {
    let config = test_config_with(&app.database_url, &[]);
    let other =
        Application::build(&config).unwrap_or_else(|e| panic!("the second instance starts: {e}"));
    let address = format!("http://127.0.0.1:{}", other.port());
    actix_web::rt::spawn(other.run_until_stopped());
    address
}

async fn status_at(app: &TestApp, base: &str, token: &str) -> u16 {
    app.client
        .get(format!("{base}/api/v1/me"))
        .bearer_auth(token)
        .send()
        .await
        .expect("sent")
        .status()
        .as_u16()
}

async fn a_logout_on_one_instance_is_honoured_by_the_other_within_a_second(app: TestApp) {
    let world = app.world().await;
    let other = second_instance(&app).await;
    let session = app.login("supervisor@test.example", PASSWORD).await;
    // Both instances know the session (and the other caches it).
    assert_eq!(status_at(&app, &app.address, &session.access).await, 200);
    assert_eq!(status_at(&app, &other, &session.access).await, 200);
    assert_eq!(status_at(&app, &other, &session.access).await, 200);
    let response = app
        .authed(Method::POST, "/api/v1/auth/logout", &session.access)
        .send()
        .await
        .expect("sent");
    assert_eq!(response.status(), 204);
    let logged_out = Instant::now();
    // At once on the instance that revoked.
    assert_eq!(status_at(&app, &app.address, &session.access).await, 401);
    // Within the bound on the other.
    loop {
        let status = status_at(&app, &other, &session.access).await;
        if status == 401 {
            break;
        }
        assert_eq!(status, 200);
        assert!(
            logged_out.elapsed() < Duration::from_millis(1500),
            "the other instance still accepts the token {:?} after the logout",
            logged_out.elapsed()
        );
        actix_web::rt::time::sleep(Duration::from_millis(50)).await;
    }
    // A disabled account: at once on the instance that disabled it.
    let coordinator = world.account("coordinator").to_owned();
    let token = world.token("coordinator").to_owned();
    assert_eq!(status_at(&app, &app.address, &token).await, 200);
    let response = app
        .authed(
            Method::GET,
            &format!("/api/v1/accounts/{coordinator}"),
            world.token("admin"),
        )
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
            &format!("/api/v1/accounts/{coordinator}/disable"),
            world.token("admin"),
        )
        .header("If-Match", etag)
        .send()
        .await
        .expect("sent");
    assert!(response.status().is_success(), "{}", response.status());
    assert_eq!(status_at(&app, &app.address, &token).await, 401);
    // An idempotent create sent to both instances happens once.
    let body = crate::helpers::partner_referral("Lina");
    let send = |base: String| {
        let client = app.client.clone();
        let token = world.token("partner_app").to_owned();
        let body = body.clone();
        async move {
            client
                .post(format!("{base}/api/v1/referrals"))
                .bearer_auth(token)
                .header("Idempotency-Key", "two-instances-1")
                .json(&body)
                .send()
                .await
                .expect("sent")
        }
    };
    let (first, second) = tokio::join!(send(app.address.clone()), send(other.clone()));
    let mut ids = Vec::new();
    for response in [first, second] {
        let status = response.status().as_u16();
        let value: serde_json::Value = response.json().await.expect("json");
        match status {
            201 => ids.push(value["id"].as_str().expect("id").to_owned()),
            // The same key still in flight on the other instance.
            409 => assert_eq!(
                value["type"], "urn:adosexo:problem:idempotency-in-progress",
                "{value}"
            ),
            other => panic!("{other}: {value}"),
        }
    }
    ids.dedup();
    assert_eq!(ids.len(), 1, "one referral: {ids:?}");
}
