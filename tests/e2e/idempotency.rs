//! `Idempotency-Key` on every creating POST of the API, on both backends:
//! a retry with the same key and body replays the first answer (one
//! resource), the same key with another body is a 422, another caller's
//! same key is theirs, a malformed key is a 400; keys are forgotten after
//! `ADOSEXO_IDEMPOTENCY_TTL_HOURS`. The calendar feed is the documented
//! exception: every call gives a new secret.

use chrono::{Datelike, Duration, NaiveDate, Utc};
use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::{PASSWORD, TestApp, World, json, problem};

/// Webhooks to a loopback target (no worker: nothing is delivered); keys
/// remembered for one hour (the default 24 would do for the first test).
const CONFIG: &[(&str, &str)] = &[
    ("ADOSEXO_WEBHOOK_WORKER", "false"),
    ("ADOSEXO_WEBHOOK_ALLOW_INTERNAL_TARGETS", "true"),
    ("ADOSEXO_IDEMPOTENCY_TTL_HOURS", "1"),
];

crate::both_backends_with!(
    crate::idempotency::CONFIG,
    every_creating_post_honours_its_idempotency_key,
    keys_expire_after_their_time,
    a_retry_after_deletion_is_gone,
);

/// One creating operation, as a client retries it.
struct Case {
    /// Who calls it (a role of the world).
    role: &'static str,
    path: String,
    body: Value,
    /// Another valid body (sent with the same key: refused).
    other_body: Value,
    /// `If-Match`, if the operation needs it.
    if_match: Option<String>,
    /// Another caller who may call it too (their key is their own).
    other_caller: Option<&'static str>,
    /// Where the created resources are listed: (role, path, array field).
    list: Option<(&'static str, String, &'static str)>,
    /// What identifies the created resource in the answer.
    created: fn(&Value) -> String,
}

fn by_id(body: &Value) -> String {
    body["id"].as_str().expect("id").to_owned()
}

fn first_item(body: &Value) -> String {
    body["items"][0]["id"]
        .as_str()
        .expect("items[0].id")
        .to_owned()
}

/// The answer is the follow-up: how many people it involves.
fn involved(body: &Value) -> String {
    format!(
        "{} involved",
        body["involved"].as_array().map_or(0, Vec::len)
    )
}

impl Case {
    fn new(role: &'static str, path: impl Into<String>, body: Value, other_body: Value) -> Self {
        Self {
            role,
            path: path.into(),
            body,
            other_body,
            if_match: None,
            other_caller: None,
            list: None,
            created: by_id,
        }
    }

    fn listed(mut self, role: &'static str, path: impl Into<String>) -> Self {
        self.list = Some((role, path.into(), "items"));
        self
    }

    fn also_by(mut self, role: &'static str) -> Self {
        self.other_caller = Some(role);
        self
    }
}

/// `POST path` as `token` with an `Idempotency-Key`, an optional `If-Match`.
async fn post(
    app: &TestApp,
    token: &str,
    path: &str,
    key: &str,
    body: &Value,
    if_match: Option<&str>,
) -> reqwest::Response {
    let mut request = app
        .authed(Method::POST, path, token)
        .header("Idempotency-Key", key)
        .json(body);
    if let Some(etag) = if_match {
        request = request.header("If-Match", etag);
    }
    request.send().await.expect("sent")
}

fn replayed(response: &reqwest::Response) -> Option<String> {
    response
        .headers()
        .get("idempotent-replayed")
        .map(|v| v.to_str().expect("ascii").to_owned())
}

fn referral_body(first_name: &str, birth_date: &str) -> Value {
    json!({
        "public": "young_person",
        "context": "pre_prostitution",
        "source": "partner_organisation",
        "referrer": {"name": "Mme Diallo", "contact": "01 23 45 67 89"},
        "person": {"first_name": first_name, "birth_date": birth_date, "departement_code": "93"},
        "risk_indicators": ["runaway"],
        "summary": format!("Fugues répétées de {first_name}."),
        "urgency": "routine"
    })
}

/// Sixteen years ago today (Paris): consents are the young person's own.
fn sixteen_years_ago() -> String {
    let today = adosexo_domain::consent::paris_date(Utc::now());
    NaiveDate::from_ymd_opt(today.year() - 16, today.month(), today.day().min(28))
        .expect("date")
        .to_string()
}

/// A referral by the partner, accepted by the coordinator: (referral, follow-up id).
async fn follow_up(app: &TestApp, world: &World, name: &str) -> (Value, String) {
    let referral = app
        .post_json(
            "/api/v1/referrals",
            world.token("partner"),
            referral_body(name, &sixteen_years_ago()),
            201,
        )
        .await;
    let id = referral["id"].as_str().expect("id");
    let accepted = app
        .authed(
            Method::POST,
            &format!("/api/v1/referrals/{id}/accept"),
            world.token("coordinator"),
        )
        .header("If-Match", format!("\"v{}\"", referral["version"]))
        .json(&json!({"lead_staff_id": world.account("coordinator")}))
        .send()
        .await
        .expect("sent");
    let accepted = json(accepted, 200).await;
    let follow_up = accepted["follow_up_id"]
        .as_str()
        .expect("follow-up")
        .to_owned();
    (referral, follow_up)
}

/// Midnight UTC `days` from today, plus `hours`, as RFC 3339.
fn at(days: i64, hours: i64) -> String {
    ((Utc::now() + Duration::days(days))
        .date_naive()
        .and_hms_opt(0, 0, 0)
        .expect("midnight")
        .and_utc()
        + Duration::hours(hours))
    .to_rfc3339()
}

fn site_body(name: &str) -> Value {
    json!({
        "name": name, "kind": "youth_centre", "address": "12 rue de la République",
        "postcode": "93000", "city": "Bobigny", "departement_code": "93",
        "latitude": 48.91, "longitude": 2.44, "public": true
    })
}

fn permanence_body(world: &World, site: &str, title: &str, rrule: &str) -> Value {
    json!({
        "site_id": site, "title": title, "rrule": rrule, "dtstart": "2027-01-01",
        "part_of_day": "explicit", "start_time": "14:00", "end_time": "17:00",
        "audience": "all", "staff_ids": [world.account("coordinator")]
    })
}

fn group_session_body(world: &World, kind: &str, title: &str, day: i64) -> Value {
    json!({
        "kind": kind, "title": title, "mode": "in_person",
        "venue": "Maison des associations, salle 2", "departement_code": "93",
        "starts_at": at(day, 9), "ends_at": at(day, 12),
        "staff_ids": [world.account("coordinator")], "capacity": 10,
        "audience": if kind == "action_training" { "professionals" } else { "all" },
    })
}

/// Every creating POST of `openapi.json` but the calendar feed, with what
/// it needs created first.
async fn cases(app: &TestApp, world: &World) -> Vec<(&'static str, Case)> {
    let coordinator = world.token("coordinator");
    let (referral, fu) = follow_up(app, world, "Nora").await;
    let person = referral["person"]["id"]
        .as_str()
        .expect("person")
        .to_owned();
    // A referral of the partner app, to book a first meeting for.
    let own = app
        .post_json(
            "/api/v1/referrals",
            world.token("partner_app"),
            referral_body("Lina", "2011-04-02"),
            201,
        )
        .await;
    let own = own["id"].as_str().expect("id").to_owned();
    let site = app
        .post_json("/api/v1/sites", coordinator, site_body("Point écoute"), 201)
        .await;
    let site = site["id"].as_str().expect("id").to_owned();
    app.post_json(
        "/api/v1/permanences",
        coordinator,
        permanence_body(
            world,
            &site,
            "Permanence du 2e mardi",
            "FREQ=MONTHLY;BYDAY=2TU",
        ),
        201,
    )
    .await;
    let to_split = app
        .post_json(
            "/api/v1/permanences",
            coordinator,
            permanence_body(
                world,
                &site,
                "Permanence du 3e jeudi",
                "FREQ=MONTHLY;BYDAY=3TH",
            ),
            201,
        )
        .await;
    let to_split = to_split["id"].as_str().expect("id").to_owned();
    let slots = app
        .get_json(
            "/api/v1/availability?departement=93&from=2027-04-01T00:00:00Z&to=2027-05-01T00:00:00Z&duration=60",
            world.token("partner_app"),
            200,
        )
        .await;
    let slots = slots.as_array().expect("slots").clone();
    assert!(slots.len() >= 2, "{slots:?}");
    let booking = |slot: &Value| {
        let starts_at =
            chrono::DateTime::parse_from_rfc3339(slot["starts_at"].as_str().expect("start"))
                .expect("rfc3339")
                .with_timezone(&Utc)
                .to_rfc3339();
        json!({"referral_id": own, "permanence_id": slot["permanence_id"], "starts_at": starts_at, "duration": 60})
    };
    let training = app
        .post_json(
            "/api/v1/group-sessions",
            coordinator,
            group_session_body(world, "action_training", "Formation", 12),
            201,
        )
        .await;
    let training = training["id"].as_str().expect("id").to_owned();
    let group = app
        .post_json(
            "/api/v1/group-sessions",
            coordinator,
            group_session_body(world, "parent_group", "Groupe de parents", 13),
            201,
        )
        .await;
    let group = group["id"].as_str().expect("id").to_owned();

    let organisation = |name: &str| json!({"name": name, "kind": "health", "departement_code": "93", "shares_secrecy": true});
    let account = |email: &str| {
        json!({"email": email, "display_name": "Test", "organisation_id": world.org_a,
               "roles": ["partner"], "password": PASSWORD})
    };
    let client = |name: &str| json!({"name": name, "organisation_id": world.org_a, "scopes": ["referrals:read"]});
    let note = |text: &str| json!({"kind": "meeting", "body": text});
    let relative = |name: &str| json!({"kind": "relative", "first_name": name, "relationship": "mère", "parental_authority": true});
    let consent = |evidence: &str| {
        json!({"purpose": "research", "given_by": ["young_person"], "method": "written",
               "evidence_reference": evidence, "given_at": (Utc::now() - Duration::hours(1)).to_rfc3339()})
    };
    let share = |org: &str| json!({"organisation_id": org, "purpose": "continuity_of_care", "field_groups": ["measure"], "family_informed": "yes"});
    let erasure = |by: &str| json!({"requested_by": by, "received_at": (Utc::now() - Duration::days(1)).to_rfc3339()});
    let today = Utc::now().date_naive();
    let agreement = |title: &str| {
        json!({"organisation_id": world.org_a, "title": title, "departements": ["13"],
               "referent_ids": [world.account("regional_referent")],
               "starts_on": today.to_string(), "ends_on": (today + Duration::days(365)).to_string()})
    };
    let resource = |title: &str| {
        json!({"title": title, "description": "Pour les professionnels", "audience": "professionals",
               "kind": "guide", "language": "fr", "visibility": "public"})
    };
    let professionals = |name: &str| json!({"professionals": [{"name": name}]});
    let case_review = |situation: &str| json!({"departement_code": "93", "situation": situation, "fictional": true});
    let split = |from: &str| json!({"from_date": from, "changes": {"part_of_day": "morning"}});
    let appointment = |day: i64| {
        json!({"mode": "home", "title": "Point", "follow_up_id": fu,
               "starts_at": at(day, 10), "ends_at": at(day, 11),
               "staff_ids": [world.account("coordinator")],
               "unaccompanied_reason": "Elle préfère venir seule."})
    };
    let registration = |name: &str| json!({"participant_name": name, "category": "parents"});
    let directory = |name: &str| {
        json!({"name": name, "organisation": "Association", "category": "legal_aid",
               "national": false, "departements": ["93"], "phone": "01 02 03 04 05",
               "website": "https://example.org", "last_verified": "2026-11-01"})
    };
    let webhook = |port: u16| json!({"url": format!("http://127.0.0.1:{port}/hook"), "event_types": ["referral.status_changed"]});

    let mut people = Case::new(
        "coordinator",
        format!("/api/v1/follow-ups/{fu}/people"),
        relative("Karima"),
        relative("Sonia"),
    );
    people.created = involved;
    people.list = Some((
        "coordinator",
        format!("/api/v1/follow-ups/{fu}"),
        "involved",
    ));
    let mut training_registrations = Case::new(
        "partner",
        format!("/api/v1/trainings/{training}/registrations"),
        professionals("Ana"),
        professionals("Bruno"),
    )
    .listed("partner", "/api/v1/training-registrations?limit=200");
    training_registrations.created = first_item;
    let mut split_case = Case::new(
        "coordinator",
        format!("/api/v1/permanences/{to_split}/split"),
        split("2027-06-01"),
        split("2027-07-01"),
    )
    .listed("coordinator", "/api/v1/permanences?limit=200");
    split_case.if_match = Some("\"v1\"".to_owned());

    vec![
        (
            "/api/v1/organisations",
            Case::new(
                "admin",
                "/api/v1/organisations",
                organisation("MDA 93"),
                organisation("MDA 94"),
            )
            .listed("admin", "/api/v1/organisations?limit=200"),
        ),
        (
            "/api/v1/accounts",
            Case::new(
                "admin",
                "/api/v1/accounts",
                account("a1@test.example"),
                account("a2@test.example"),
            )
            .listed("admin", "/api/v1/accounts?limit=200"),
        ),
        (
            "/api/v1/clients",
            Case::new("admin", "/api/v1/clients", client("App 1"), client("App 2"))
                .listed("admin", "/api/v1/clients?limit=200"),
        ),
        (
            "/api/v1/referrals",
            Case::new(
                "partner_app",
                "/api/v1/referrals",
                referral_body("Inès", "2011-04-02"),
                referral_body("Maëlle", "2011-04-02"),
            )
            .listed("partner_app", "/api/v1/referrals?limit=200")
            .also_by("partner"),
        ),
        ("/api/v1/follow-ups/{id}/people", people),
        (
            "/api/v1/follow-ups/{id}/notes",
            Case::new(
                "coordinator",
                format!("/api/v1/follow-ups/{fu}/notes"),
                note("Premier échange."),
                note("Autre chose."),
            )
            .listed("coordinator", format!("/api/v1/follow-ups/{fu}/notes"))
            .also_by("supervisor"),
        ),
        (
            "/api/v1/follow-ups/{id}/consents",
            Case::new(
                "coordinator",
                format!("/api/v1/follow-ups/{fu}/consents"),
                consent("F-1"),
                consent("F-2"),
            )
            .listed("coordinator", format!("/api/v1/follow-ups/{fu}/consents")),
        ),
        (
            "/api/v1/follow-ups/{id}/shares",
            Case::new(
                "coordinator",
                format!("/api/v1/follow-ups/{fu}/shares"),
                share(&world.org_b),
                share(&world.org_a),
            )
            .listed("coordinator", format!("/api/v1/follow-ups/{fu}/shares")),
        ),
        (
            "/api/v1/people/{id}/erasure-requests",
            Case::new(
                "supervisor",
                format!("/api/v1/people/{person}/erasure-requests"),
                erasure("person"),
                erasure("parental_authority"),
            )
            .listed("supervisor", "/api/v1/erasure-requests?limit=200"),
        ),
        (
            "/api/v1/sites",
            Case::new(
                "coordinator",
                "/api/v1/sites",
                site_body("Site A"),
                site_body("Site B"),
            )
            .listed("coordinator", "/api/v1/sites?limit=200"),
        ),
        (
            "/api/v1/agreements",
            Case::new(
                "admin",
                "/api/v1/agreements",
                agreement("Convention 1"),
                agreement("Convention 2"),
            )
            .listed("admin", "/api/v1/agreements?limit=200"),
        ),
        (
            "/api/v1/resources",
            Case::new(
                "admin",
                "/api/v1/resources",
                resource("Guide"),
                resource("Mallette"),
            )
            .listed("admin", "/api/v1/resources?limit=200")
            .also_by("supervisor"),
        ),
        (
            "/api/v1/trainings/{id}/registrations",
            training_registrations,
        ),
        (
            "/api/v1/case-review-requests",
            Case::new(
                "partner_app",
                "/api/v1/case-review-requests",
                case_review("Une adolescente évoque des messages insistants."),
                case_review("Un adolescent évoque des photos partagées."),
            )
            .listed("partner_app", "/api/v1/case-review-requests?limit=200")
            .also_by("partner"),
        ),
        (
            "/api/v1/permanences",
            Case::new(
                "coordinator",
                "/api/v1/permanences",
                permanence_body(world, &site, "Permanence A", "FREQ=MONTHLY;BYDAY=1MO"),
                permanence_body(world, &site, "Permanence B", "FREQ=MONTHLY;BYDAY=1MO"),
            )
            .listed("coordinator", "/api/v1/permanences?limit=200"),
        ),
        (
            "/api/v1/appointments",
            Case::new(
                "coordinator",
                "/api/v1/appointments",
                appointment(3),
                appointment(4),
            )
            .listed(
                "coordinator",
                format!("/api/v1/appointments?follow_up_id={fu}&limit=200"),
            ),
        ),
        (
            "/api/v1/availability/bookings",
            Case::new(
                "partner_app",
                "/api/v1/availability/bookings",
                booking(&slots[0]),
                booking(&slots[1]),
            )
            .listed(
                "coordinator",
                format!("/api/v1/appointments?referral_id={own}&limit=200"),
            ),
        ),
        (
            "/api/v1/group-sessions",
            Case::new(
                "coordinator",
                "/api/v1/group-sessions",
                group_session_body(world, "parent_group", "Séance A", 20),
                group_session_body(world, "parent_group", "Séance B", 20),
            )
            .listed("coordinator", "/api/v1/group-sessions?limit=200"),
        ),
        (
            "/api/v1/group-sessions/{id}/registrations",
            Case::new(
                "coordinator",
                format!("/api/v1/group-sessions/{group}/registrations"),
                registration("Karima"),
                registration("Sonia"),
            )
            .listed(
                "coordinator",
                format!("/api/v1/group-sessions/{group}/registrations"),
            )
            .also_by("supervisor"),
        ),
        (
            "/api/v1/directory",
            Case::new(
                "admin",
                "/api/v1/directory",
                directory("CIDFF"),
                directory("Planning familial"),
            )
            .listed("admin", "/api/v1/public/directory?departement=93&limit=100"),
        ),
        (
            "/api/v1/webhooks",
            Case::new("partner_app", "/api/v1/webhooks", webhook(9), webhook(10))
                .listed("partner_app", "/api/v1/webhooks?limit=200"),
        ),
        // Last, so that every other operation is checked first: today a retry
        // of a split is refused (422 `from_date`), because the handler cuts the
        // already-cut series before it looks the key up.
        ("/api/v1/permanences/{id}/split", split_case),
    ]
}

async fn count(app: &TestApp, world: &World, list: &(&'static str, String, &'static str)) -> usize {
    let (role, path, field) = list;
    app.get_json(path, world.token(role), 200).await[*field]
        .as_array()
        .unwrap_or_else(|| panic!("{path}: no {field}"))
        .len()
}

async fn every_creating_post_honours_its_idempotency_key(app: TestApp) {
    let world = app.world().await;
    let cases = cases(&app, &world).await;
    // Every creating POST of the document is here, or is the calendar feed.
    let document: Value =
        serde_json::from_str(include_str!("../../openapi/openapi.json")).expect("openapi.json");
    let documented: Vec<String> = document["paths"]
        .as_object()
        .expect("paths")
        .iter()
        .filter(|(_, ops)| ops["post"]["responses"].get("201").is_some())
        .map(|(path, _)| path.clone())
        .collect();
    let mut tested: Vec<String> = cases.iter().map(|(path, _)| (*path).to_owned()).collect();
    tested.push("/api/v1/me/calendar-feed".to_owned());
    tested.sort();
    let mut documented = documented;
    documented.sort();
    assert_eq!(tested, documented, "one case per creating POST");

    // The calendar feed's secret is shown once: every call gives a new one.
    let coordinator = world.token("coordinator");
    let feed = |key: &'static str| {
        app.authed(Method::POST, "/api/v1/me/calendar-feed", coordinator)
            .header("Idempotency-Key", key)
            .send()
    };
    let first = json(feed("k-feed").await.expect("sent"), 201).await;
    let again = feed("k-feed").await.expect("sent");
    assert_eq!(replayed(&again), None);
    let again = json(again, 201).await;
    let (old, new) = (
        first["url"].as_str().expect("url"),
        again["url"].as_str().expect("url"),
    );
    assert_ne!(old, new);
    problem(app.get(old).await, 404, "not-found").await;
    assert_eq!(app.get(new).await.status(), 200);
    let bad = problem(feed("bad key").await.expect("sent"), 400, "invalid-input").await;
    assert_eq!(bad["errors"][0]["field"], "Idempotency-Key", "{bad}");

    for (name, case) in &cases {
        let token = world.token(case.role);
        let key = format!("k-{name}");
        let if_match = case.if_match.as_deref();
        let before = match &case.list {
            Some(list) => Some(count(&app, &world, list).await),
            None => None,
        };
        // 1. The first request creates.
        let first = post(&app, token, &case.path, &key, &case.body, if_match).await;
        assert_eq!(replayed(&first), None, "{name}: first is not a replay");
        let location = first.headers().get("location").cloned();
        let first = json(first, 201).await;
        let created = (case.created)(&first);
        // 2. The same key and body: the first answer, nothing more.
        let again = post(&app, token, &case.path, &key, &case.body, if_match).await;
        let status = again.status().as_u16();
        let header = replayed(&again);
        let replayed_location = again.headers().get("location").cloned();
        let text = again.text().await.expect("body");
        assert_eq!(status, 201, "{name}: a retry replays: {text}");
        assert_eq!(header.as_deref(), Some("true"), "{name}: {text}");
        assert_eq!(replayed_location, location, "{name}: the same Location");
        let again: Value = serde_json::from_str(&text).expect("JSON");
        assert_eq!((case.created)(&again), created, "{name}: the same resource");
        for secret in ["secret", "client_secret"] {
            assert!(
                again.get(secret).is_none(),
                "{name}: a shown-once secret is not replayed: {again}"
            );
        }
        if let (Some(list), Some(before)) = (&case.list, before) {
            let after = count(&app, &world, list).await;
            assert_eq!(after, before + 1, "{name}: one resource for two requests");
        }
        // 3. The same key, another body: refused.
        problem(
            post(&app, token, &case.path, &key, &case.other_body, if_match).await,
            422,
            "idempotency-key-reused",
        )
        .await;
        // 4. The same key of another caller is another request.
        if let Some(other) = case.other_caller {
            let theirs = post(
                &app,
                world.token(other),
                &case.path,
                &key,
                &case.body,
                if_match,
            )
            .await;
            assert_eq!(replayed(&theirs), None, "{name}: {other} replayed");
            let theirs = json(theirs, 201).await;
            assert_ne!((case.created)(&theirs), created, "{name}: {other}'s own");
        }
        // 5. A malformed key is named.
        let bad = post(
            &app,
            token,
            &case.path,
            "bad key",
            &case.other_body,
            if_match,
        )
        .await;
        let bad = problem(bad, 400, "invalid-input").await;
        assert_eq!(
            bad["errors"][0]["field"], "Idempotency-Key",
            "{name}: {bad}"
        );
    }
}

async fn keys_expire_after_their_time(app: TestApp) {
    let world = app.world().await;
    let (_, fu) = follow_up(&app, &world, "Nora").await;
    let notes = format!("/api/v1/follow-ups/{fu}/notes");
    let note = json!({"kind": "meeting", "body": "Premier échange."});
    let token = world.token("coordinator");
    let first = json(post(&app, token, &notes, "k-note", &note, None).await, 201).await;
    let again = post(&app, token, &notes, "k-note", &note, None).await;
    assert_eq!(replayed(&again).as_deref(), Some("true"));
    assert_eq!(json(again, 201).await["id"], first["id"]);
    // Kept one hour: replayed after 50 minutes, a new request after two hours.
    app.advance(Duration::minutes(50));
    let token = app.login("coordinator@test.example", PASSWORD).await.access;
    let still = post(&app, &token, &notes, "k-note", &note, None).await;
    assert_eq!(replayed(&still).as_deref(), Some("true"));
    assert_eq!(json(still, 201).await["id"], first["id"]);
    app.advance(Duration::minutes(70));
    let token = app.login("coordinator@test.example", PASSWORD).await.access;
    let later = post(&app, &token, &notes, "k-note", &note, None).await;
    assert_eq!(replayed(&later), None, "an expired key is not replayed");
    let later = json(later, 201).await;
    assert_ne!(later["id"], first["id"], "a new note");
    let listed = app.get_json(&notes, &token, 200).await;
    assert_eq!(listed["items"].as_array().map(Vec::len), Some(2));
    // A key names one request: on another operation it is refused.
    let consent = json!({"purpose": "research", "given_by": ["young_person"], "method": "written",
                         "evidence_reference": "F-1", "given_at": (Utc::now() - Duration::hours(1)).to_rfc3339()});
    let consents = format!("/api/v1/follow-ups/{fu}/consents");
    let response = post(&app, &token, &consents, "k-note", &consent, None).await;
    problem(response, 422, "idempotency-key-reused").await;
}

/// A stored answer is replayed only while its resource exists: a retry
/// after the directory entry or the webhook subscription was deleted is a
/// 410 naming it, never a 201 for something gone (and creates nothing).
async fn a_retry_after_deletion_is_gone(app: TestApp) {
    let world = app.world().await;
    let entry = json!({"name": "CIDFF", "organisation": "Association", "category": "legal_aid",
                       "national": false, "departements": ["93"], "phone": "01 02 03 04 05",
                       "website": "https://example.org", "last_verified": "2026-11-01"});
    let hook =
        json!({"url": "http://127.0.0.1:9/hook", "event_types": ["referral.status_changed"]});
    let cases = [
        (world.admin.access.as_str(), "/api/v1/directory", entry),
        (world.token("partner_app"), "/api/v1/webhooks", hook),
    ];
    for (token, path, body) in cases {
        let first = json(post(&app, token, path, "k-gone", &body, None).await, 201).await;
        let id = first["id"].as_str().expect("id").to_owned();
        let again = post(&app, token, path, "k-gone", &body, None).await;
        assert_eq!(replayed(&again).as_deref(), Some("true"), "{path}");
        assert_eq!(json(again, 201).await["id"], first["id"], "{path}");
        let entry = format!("{path}/{id}");
        let on_entry = |method| app.authed(method, &entry, token).send();
        let deleted = on_entry(Method::DELETE).await.expect("sent");
        assert_eq!(deleted.status(), 204, "{path}");
        let retry = post(&app, token, path, "k-gone", &body, None).await;
        let gone = problem(retry, 410, "gone").await;
        assert!(
            gone["detail"].as_str().is_some_and(|d| d.contains(&id)),
            "{path}: {gone}"
        );
        // Still gone, and nothing was created in its place.
        let read = on_entry(Method::GET).await.expect("sent");
        assert_eq!(read.status(), 404, "{path}");
    }
    let directory = app
        .get_json(
            "/api/v1/public/directory?departement=93&limit=100",
            &world.admin.access,
            200,
        )
        .await;
    assert!(
        directory["items"]
            .as_array()
            .is_some_and(|items| items.iter().all(|i| i["name"] != "CIDFF")),
        "{directory}"
    );
}
