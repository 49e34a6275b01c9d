//! The benchmark data generator (`adosexo demo --scale N --seed S`): the
//! volumes of the scale, the same rows from the same seed, other rows from
//! another, readable through the API, and an audit chain that still verifies.

use adosexo_api::bulk::{self, Volumes};
use adosexo_persistence::cases::{self, ReferralFilter};

use crate::helpers::{TestApp, json};

crate::both_backends!(generated_volumes_follow_the_scale_and_the_seed);

/// `(id, reference, status, updated_at)` of every referral, in list order.
async fn fingerprint(app: &TestApp) -> Vec<(String, String, String, String)> {
    app.db()
        .run(|conn| {
            cases::list_referrals(
                conn,
                &ReferralFilter {
                    limit: 1_000_000,
                    ..ReferralFilter::default()
                },
            )
        })
        .await
        .map(|rows| {
            rows.into_iter()
                .map(|r| (r.id, r.reference, r.status, r.updated_at.to_string()))
                .collect()
        })
        .expect("referrals")
}

async fn seeded(
    app: &TestApp,
    scale: f64,
    seed: u64,
    now: chrono::DateTime<chrono::Utc>,
) -> bulk::Generated {
    let db = app.db();
    adosexo_api::cli::seed_demo(&db, true, now)
        .await
        .expect("demo seeded");
    bulk::generate(&db, scale, seed, now)
        .await
        .expect("generated")
}

async fn generated_volumes_follow_the_scale_and_the_seed(app: TestApp) {
    let now = chrono::DateTime::parse_from_rfc3339("2026-11-29T12:00:00Z")
        .expect("instant")
        .to_utc();
    let scale = 0.01;
    let expected = Volumes::at(scale);
    let generated = seeded(&app, scale, 42, now).await;
    assert_eq!(generated.of("referrals"), expected.referrals);
    assert_eq!(generated.of("people"), expected.referrals);
    assert_eq!(generated.of("follow_ups"), expected.follow_ups);
    assert_eq!(
        generated.of("appointments") + generated.of("group_sessions"),
        expected.appointments + expected.group_sessions
    );
    assert_eq!(generated.of("group_sessions"), expected.group_sessions);
    assert_eq!(generated.of("organisations"), expected.organisations);
    assert_eq!(generated.of("accounts"), expected.staff);
    assert!(generated.of("staff_bookings") > expected.appointments / 2);
    let first = fingerprint(&app).await;
    assert_eq!(first.len(), expected.referrals);

    // Same seed, another database: the same rows, ids included.
    let again = TestApp::spawn(app.kind).await;
    seeded(&again, scale, 42, now).await;
    assert_eq!(fingerprint(&again).await, first);
    // Another seed: other rows.
    let other = TestApp::spawn(app.kind).await;
    seeded(&other, scale, 43, now).await;
    assert_ne!(fingerprint(&other).await, first);

    // Generated data is not audited, and the chain still verifies.
    let verified = adosexo_api::cli::verify_audit(&app.db())
        .await
        .expect("verify");
    assert!(verified.is_ok(), "{verified:?}");

    // Readable through the API, a deep page included.
    let token = app
        .login(
            "supervisor@adosexo.example",
            adosexo_api::cli::DEMO_PASSWORD,
        )
        .await
        .access;
    let page = json(
        app.authed(reqwest::Method::GET, "/api/v1/referrals?limit=200", &token)
            .send()
            .await
            .expect("sent"),
        200,
    )
    .await;
    let items = page["items"].as_array().expect("items");
    assert_eq!(items.len(), 200);
    let next = page["next_cursor"].as_str().expect("a next page");
    let deeper = json(
        app.authed(
            reqwest::Method::GET,
            &format!("/api/v1/referrals?limit=200&cursor={next}"),
            &token,
        )
        .send()
        .await
        .expect("sent"),
        200,
    )
    .await;
    assert_eq!(deeper["items"].as_array().expect("items").len(), 200);
    let id = items[7]["id"].as_str().expect("id");
    let one = json(
        app.authed(
            reqwest::Method::GET,
            &format!("/api/v1/referrals/{id}"),
            &token,
        )
        .send()
        .await
        .expect("sent"),
        200,
    )
    .await;
    assert_eq!(one["reference"], items[7]["reference"]);
    assert_eq!(one["timeline"], items[7]["timeline"]);
}
