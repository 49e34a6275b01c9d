//! Proof by markers: a unique marker in every free-text and identifying
//! field a client can set for one person (through the API only); the
//! subject-access export shows every one; after erasure, or after
//! retention's pseudonymisation, no text column of any table holds one, and
//! on SQLite no file of the database (write-ahead log included) does.

use adosexo_domain::retention::RetentionPolicy;
use adosexo_persistence::testing::text_columns_holding;
use chrono::{Duration, Utc};
use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::{Kind, TestApp, World, json};

crate::both_backends!(
    erasure_leaves_no_marker_anywhere,
    retention_leaves_no_marker_anywhere,
);

/// Markers of letters only (names are checked for meaning, not spelling).
struct Markers {
    prefix: String,
    made: Vec<String>,
}

impl Markers {
    fn new() -> Self {
        let letters: String = uuid::Uuid::new_v4()
            .simple()
            .to_string()
            .chars()
            .take(10)
            .map(|c| char::from(b'a' + (c.to_digit(16).unwrap_or(0) as u8)))
            .collect();
        Self {
            prefix: format!("Mk{letters}"),
            made: Vec::new(),
        }
    }

    /// A new marker naming the field it goes in.
    fn at(&mut self, field: &str) -> String {
        let tag: String = field.chars().filter(char::is_ascii_alphabetic).collect();
        let marker = format!("{}{}", self.prefix, tag);
        self.made.push(marker.clone());
        marker
    }
}

async fn send(
    app: &TestApp,
    method: Method,
    path: &str,
    token: &str,
    etag: Option<String>,
    body: Value,
) -> Value {
    let mut request = app.authed(method, path, token).json(&body);
    if let Some(etag) = etag {
        request = request.header("If-Match", etag);
    }
    let response = request.send().await.expect("sent");
    let status = response.status().as_u16();
    let text = response.text().await.expect("body");
    assert!((200..300).contains(&status), "{path}: {status} {text}");
    serde_json::from_str(&text).unwrap_or(Value::Null)
}

fn version(value: &Value) -> Option<String> {
    Some(format!("\"v{}\"", value["version"]))
}

/// A referral by the partner with markers in every field about the person.
async fn marked_referral(app: &TestApp, world: &World, m: &mut Markers) -> Value {
    let body = json!({
        "public": "young_person",
        "context": "prostitution",
        "source": "partner_organisation",
        "referrer": {"name": m.at("referrer.name"), "contact": m.at("referrer.contact")},
        "person": {
            "first_name": m.at("first_name"), "last_name": m.at("last_name"),
            "contact": m.at("contact"), "placement": m.at("placement"), "measure": m.at("measure"),
            "birth_date": "2010-05-04", "departement_code": "93", "gender": "female",
        },
        "risk_indicators": ["runaway"],
        "summary": m.at("summary"),
        "urgency": "urgent"
    });
    let response = app
        .authed(Method::POST, "/api/v1/referrals", world.token("partner"))
        .header("Idempotency-Key", m.at("key").to_lowercase())
        .json(&body)
        .send()
        .await
        .expect("sent");
    json(response, 201).await
}

/// The protection decision (details marked): erasure waits for it.
async fn protection_decision(
    app: &TestApp,
    world: &World,
    referral: &Value,
    m: &mut Markers,
) -> Value {
    let id = referral["id"].as_str().expect("id");
    send(
        app,
        Method::POST,
        &format!("/api/v1/referrals/{id}/protection-decision"),
        world.token("coordinator"),
        version(referral),
        json!({"kind": "information_preoccupante", "on": Utc::now().date_naive(), "details": m.at("protection.details")}),
    )
    .await
}

/// An appointment about the referral or follow-up, then cancelled: title and
/// reasons marked.
async fn marked_appointment(app: &TestApp, world: &World, about: Value, m: &mut Markers) {
    let start = (Utc::now() + Duration::days(5))
        .date_naive()
        .and_hms_opt(9, 0, 0)
        .expect("time")
        .and_utc();
    let mut body = json!({
        "mode": "home", "title": m.at("appointment.title"),
        "starts_at": start, "ends_at": start + Duration::minutes(45),
        "staff_ids": [world.account("coordinator")],
        "unaccompanied_reason": m.at("unaccompanied_reason"),
    });
    if let (Some(target), Some(source)) = (body.as_object_mut(), about.as_object()) {
        target.extend(source.clone());
    }
    let coordinator = world.token("coordinator");
    let created = send(
        app,
        Method::POST,
        "/api/v1/appointments",
        coordinator,
        None,
        body,
    )
    .await;
    let id = created["id"].as_str().expect("id");
    send(
        app,
        Method::POST,
        &format!("/api/v1/appointments/{id}/changes"),
        coordinator,
        version(&created),
        json!({"action": "cancel", "reason": m.at("cancel_reason")}),
    )
    .await;
}

/// Every marker that must appear in the export does, and after removal no
/// column and (SQLite) no file holds any marker.
async fn assert_gone(app: &TestApp, markers: &Markers) {
    for marker in &markers.made {
        let holding = text_columns_holding(&app.db(), marker).await.expect("scan");
        assert!(holding.is_empty(), "{marker} still stored in {holding:?}");
    }
    if app.kind == Kind::Sqlite {
        let path = app
            .database_url
            .strip_prefix("sqlite://")
            .unwrap_or(&app.database_url)
            .to_owned();
        let path = std::path::Path::new(&path);
        let name = path
            .file_name()
            .expect("file")
            .to_string_lossy()
            .into_owned();
        let folder = path.parent().expect("folder");
        for entry in std::fs::read_dir(folder).expect("folder") {
            let entry = entry.expect("entry");
            if !entry.file_name().to_string_lossy().starts_with(&name) {
                continue;
            }
            let bytes = std::fs::read(entry.path()).expect("read");
            for marker in &markers.made {
                let found = bytes.windows(marker.len()).any(|w| w == marker.as_bytes());
                assert!(
                    !found,
                    "{marker} still in the bytes of {:?}",
                    entry.file_name()
                );
            }
        }
    }
}

/// Whether `path` (`a.b[].c`: `[]` in each element) leads somewhere.
fn resolves(value: &Value, path: &str) -> bool {
    let mut current = vec![value];
    for part in path.split('.') {
        let (key, each) = match part.strip_suffix("[]") {
            Some(key) => (key, true),
            None => (part, false),
        };
        let mut next = Vec::new();
        for found in current.into_iter().filter_map(|v| v.get(key)) {
            match (each, found.as_array()) {
                (true, Some(items)) => next.extend(items.iter()),
                (true, None) => {}
                (false, _) => next.push(found),
            }
        }
        if next.is_empty() {
            return false;
        }
        current = next;
    }
    true
}

async fn exported(app: &TestApp, world: &World, person: &str) -> String {
    app.get_json(
        &format!("/api/v1/people/{person}/export"),
        world.token("supervisor"),
        200,
    )
    .await
    .to_string()
}

async fn erasure_leaves_no_marker_anywhere(app: TestApp) {
    let world = app.world().await;
    let mut m = Markers::new();
    let referral = marked_referral(&app, &world, &mut m).await;
    let person = referral["person"]["id"]
        .as_str()
        .expect("person")
        .to_owned();
    let id = referral["id"].as_str().expect("id").to_owned();
    protection_decision(&app, &world, &referral, &mut m).await;
    marked_appointment(&app, &world, json!({"referral_id": id}), &mut m).await;
    let referral = app
        .get_json(
            &format!("/api/v1/referrals/{id}"),
            world.token("coordinator"),
            200,
        )
        .await;
    send(
        &app,
        Method::POST,
        &format!("/api/v1/referrals/{id}/decline"),
        world.token("coordinator"),
        version(&referral),
        json!({"reason": m.at("decline.reason")}),
    )
    .await;

    // Subject access shows every marker but the idempotency key (not data
    // about the person).
    let export = exported(&app, &world, &person).await;
    for marker in m.made.iter().filter(|k| !k.ends_with("key")) {
        assert!(
            export.contains(marker.as_str()),
            "{marker} missing from the export"
        );
    }
    let supervisor = world.token("supervisor");
    let request = send(
        &app,
        Method::POST,
        &format!("/api/v1/people/{person}/erasure-requests"),
        supervisor,
        None,
        json!({"requested_by": "person", "received_at": Utc::now() - Duration::days(1)}),
    )
    .await;
    let executed = send(
        &app,
        Method::POST,
        &format!(
            "/api/v1/erasure-requests/{}/execute",
            request["id"].as_str().expect("id")
        ),
        supervisor,
        None,
        Value::Null,
    )
    .await;
    assert_eq!(executed["status"], "executed");
    // The key chosen by the partner is the partner's, not the person's.
    m.made.retain(|k| !k.ends_with("key"));
    assert_gone(&app, &m).await;
}

async fn retention_leaves_no_marker_anywhere(app: TestApp) {
    let world = app.world().await;
    let mut m = Markers::new();
    let coordinator = world.token("coordinator").to_owned();
    let referral = marked_referral(&app, &world, &mut m).await;
    let person = referral["person"]["id"]
        .as_str()
        .expect("person")
        .to_owned();
    let id = referral["id"].as_str().expect("id").to_owned();
    let referral = protection_decision(&app, &world, &referral, &mut m).await;
    let accepted = send(
        &app,
        Method::POST,
        &format!("/api/v1/referrals/{id}/accept"),
        &coordinator,
        version(&referral),
        json!({"lead_staff_id": world.account("coordinator")}),
    )
    .await;
    let fu = accepted["follow_up_id"]
        .as_str()
        .expect("follow-up")
        .to_owned();
    let with_relative = send(
        &app,
        Method::POST,
        &format!("/api/v1/follow-ups/{fu}/people"),
        &coordinator,
        None,
        json!({"kind": "relative", "first_name": m.at("relative.first_name"),
               "last_name": m.at("relative.last_name"), "relationship": m.at("relationship"),
               "parental_authority": true, "contact": m.at("relative.contact")}),
    )
    .await;
    let relative = with_relative["involved"]
        .as_array()
        .and_then(|p| p.first())
        .map(|p| p["id"].clone())
        .expect("the relative");
    let consent = send(
        &app,
        Method::POST,
        &format!("/api/v1/follow-ups/{fu}/consents"),
        &coordinator,
        None,
        json!({"purpose": "phone_contact", "given_by": ["young_person", "parental_authority"],
               "parental_authority_holder_id": relative, "method": "written",
               "evidence_reference": m.at("evidence"), "given_at": Utc::now() - Duration::hours(1)}),
    )
    .await;
    send(
        &app,
        Method::POST,
        &format!(
            "/api/v1/follow-ups/{fu}/consents/{}/invalidate",
            consent["id"].as_str().expect("id")
        ),
        &coordinator,
        version(&consent),
        json!({"reason": m.at("invalidation")}),
    )
    .await;
    let share = send(
        &app,
        Method::POST,
        &format!("/api/v1/follow-ups/{fu}/shares"),
        &coordinator,
        None,
        json!({"organisation_id": world.org_b, "purpose": "continuity_of_care", "field_groups": ["measure"],
               "family_informed": "no_contrary_to_child_interest", "justification": m.at("justification")}),
    )
    .await;
    send(
        &app,
        Method::POST,
        &format!(
            "/api/v1/follow-ups/{fu}/shares/{}/revoke",
            share["id"].as_str().expect("id")
        ),
        &coordinator,
        version(&share),
        json!({"reason": m.at("revocation")}),
    )
    .await;
    send(
        &app,
        Method::POST,
        &format!("/api/v1/follow-ups/{fu}/notes"),
        &coordinator,
        None,
        json!({"kind": "meeting", "body": m.at("note")}),
    )
    .await;
    marked_appointment(&app, &world, json!({"follow_up_id": fu}), &mut m).await;

    let export = exported(&app, &world, &person).await;
    let relative_id = relative.as_str().expect("id");
    let relative_export = exported(&app, &world, relative_id).await;
    for marker in m.made.iter().filter(|k| !k.ends_with("key")) {
        assert!(
            export.contains(marker.as_str()) || relative_export.contains(marker.as_str()),
            "{marker} missing from the exports"
        );
    }
    // The export shows every table the inventory says it shows.
    let document: Value = serde_json::from_str(&export).expect("export JSON");
    for table in adosexo_persistence::inventory::TABLES {
        if let adosexo_persistence::inventory::Export::At(path) = table.export {
            assert!(
                resolves(&document, path),
                "the inventory says {} is exported at {path}, which the export lacks",
                table.name
            );
        }
    }
    // Ten years without contact: archived, then pseudonymised.
    let policy = RetentionPolicy::default();
    let later = Utc::now() + Duration::days(3650);
    let archived = adosexo_api::retention::run(&app.db(), policy, later, false)
        .await
        .expect("archive");
    assert_eq!(archived.archived.len(), 1);
    let report =
        adosexo_api::retention::run(&app.db(), policy, later + Duration::days(3650), false)
            .await
            .expect("pseudonymise");
    assert_eq!(report.pseudonymised.len(), 1);
    m.made.retain(|k| !k.ends_with("key"));
    assert_gone(&app, &m).await;
}
