//! Retention and erasure end to end: follow-ups past their retention move to
//! the restricted archive, later lose their personal fields, and statistics
//! stay identical; erasure requests are executed or refused with the legal
//! reason.

use adosexo_domain::retention::RetentionPolicy;
use adosexo_persistence::testing::execute_sql;
use chrono::{Datelike, Duration, NaiveDateTime, Utc};
use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::{PASSWORD, TestApp, World, json, problem};

crate::both_backends!(
    retention_archives_exactly_the_follow_ups_past_their_retention,
    erasure_is_executed_or_refused_with_the_legal_reason,
    rectification_corrects_a_record_through_an_ordinary_update,
);

fn ts(t: NaiveDateTime) -> String {
    t.format("%Y-%m-%d %H:%M:%S").to_string()
}

/// One generated follow-up: when it was opened and its contacts, in days
/// before now, and whether retention must archive it.
struct Case {
    opened: i64,
    note: Option<i64>,
    appointment: Option<(i64, &'static str)>,
    archived: bool,
}

/// Last contacts on both sides of the 730-day threshold, through every kind
/// of contact: opening, notes, appointments (cancelled ones do not count).
fn cases() -> Vec<Case> {
    let mut cases = Vec::new();
    for i in 0..48_i64 {
        let case = match i % 8 {
            0 => Case {
                opened: 100 + i,
                note: None,
                appointment: None,
                archived: false,
            },
            1 => Case {
                opened: 729,
                note: None,
                appointment: None,
                archived: false,
            },
            2 => Case {
                opened: 732 + i,
                note: None,
                appointment: None,
                archived: true,
            },
            3 => Case {
                opened: 1600,
                note: Some(300),
                appointment: None,
                archived: false,
            },
            4 => Case {
                opened: 1600,
                note: Some(900),
                appointment: None,
                archived: true,
            },
            5 => Case {
                opened: 1500,
                note: None,
                appointment: Some((20, "cancelled")),
                archived: true,
            },
            6 => Case {
                opened: 1500,
                note: Some(1400),
                appointment: Some((200, "completed")),
                archived: false,
            },
            _ => Case {
                opened: 1000,
                note: None,
                appointment: Some((-10, "scheduled")),
                archived: false,
            },
        };
        cases.push(case);
    }
    cases
}

/// Inserts people, referrals, follow-ups, notes and appointments as they
/// would have been written over the past years; returns follow-up ids.
async fn generate(app: &TestApp, world: &World, now: NaiveDateTime) -> Vec<String> {
    let lead = world.account("supervisor");
    let mut sql = String::new();
    let mut ids = Vec::new();
    for (i, case) in cases().iter().enumerate() {
        let opened = now - Duration::days(case.opened);
        let referred = opened - Duration::days(3);
        let person = format!("00000000-0000-4000-8000-{i:012}");
        let relative = format!("00000000-0000-4000-9000-{i:012}");
        let follow_up = format!("20000000-0000-4000-8000-{i:012}");
        let gender = ["female", "male", "female"][i % 3];
        let (birth_date, birth_year) = if i % 2 == 0 {
            (
                format!("'{}-0{}-1{}'", 2006 + i % 5, 1 + i % 9, i % 10),
                "NULL".to_owned(),
            )
        } else {
            ("NULL".to_owned(), (2007 + i % 4).to_string())
        };
        let departement = ["93", "75", "13"][i % 3];
        sql.push_str(&format!(
            "INSERT INTO people (id, kind, first_name, last_name, name_key, birth_date, birth_year, \
             gender, departement_code, placement, contact, created_at, updated_at) VALUES \
             ('{person}', 'young_person', 'Prénom{i}', 'Nom{i}', 'prenom{i}', {birth_date}, \
             {birth_year}, '{gender}', '{departement}', 'foyer', '06 00 00 00 {i:02}', '{r}', '{r}');\n\
             INSERT INTO people (id, kind, first_name, name_key, relationship, parental_authority, \
             contact, created_at, updated_at) VALUES ('{relative}', 'relative', 'Parent{i}', \
             'parent{i}', 'mère', TRUE, 'parent{i}@example.org', '{r}', '{r}');\n\
             INSERT INTO follow_ups (id, reference, person_id, departement_code, lead_staff_id, \
             status, version, created_at, updated_at) VALUES ('{follow_up}', 'SUI-T-{i}', \
             '{person}', '{departement}', '{lead}', 'active', 1, '{o}', '{o}');\n\
             INSERT INTO follow_up_staff (follow_up_id, account_id) VALUES ('{follow_up}', '{lead}');\n\
             INSERT INTO follow_up_people (follow_up_id, person_id, added_at) VALUES \
             ('{follow_up}', '{relative}', '{o}');\n\
             INSERT INTO referrals (id, reference, public, context, source_kind, referrer_name, \
             submitted_by_id, submitted_by_kind, person_id, departement_code, risk_indicators, \
             summary, urgency, status, follow_up_id, protection_required, version, created_at, \
             updated_at) VALUES ('10000000-0000-4000-8000-{i:012}', 'ORI-T-{i}', 'young_person', \
             'pre_prostitution', 'partner_organisation', 'Mme Référente', 'x', 'account', \
             '{person}', '{departement}', 'runaway', 'Fugues de Prénom{i}.', 'routine', \
             'accepted', '{follow_up}', FALSE, 1, '{r}', '{r}');\n",
            r = ts(referred),
            o = ts(opened),
        ));
        if let Some(days) = case.note {
            sql.push_str(&format!(
                "INSERT INTO follow_up_notes (id, follow_up_id, kind, author_id, created_at, key_id, \
                 nonce, ciphertext) VALUES ('30000000-0000-4000-8000-{i:012}', '{follow_up}', \
                 'meeting', '{lead}', '{}', 'k', 'n', 'c');\n",
                ts(now - Duration::days(days)),
            ));
        }
        if let Some((days, status)) = case.appointment {
            let starts = now - Duration::days(days);
            sql.push_str(&format!(
                "INSERT INTO appointments (id, mode, title, follow_up_id, person_id, \
                 departement_code, starts_at, ends_at, status, confirmation, first_meeting, \
                 created_by, version, created_at, updated_at) VALUES \
                 ('40000000-0000-4000-8000-{i:012}', 'phone', 'Appel avec Prénom{i}', \
                 '{follow_up}', '{person}', '{departement}', '{}', '{}', '{status}', 'confirmed', \
                 FALSE, '{lead}', 1, '{o}', '{o}');\n",
                ts(starts),
                ts(starts + Duration::hours(1)),
                o = ts(opened),
            ));
        }
        ids.push(follow_up);
    }
    execute_sql(&app.db(), &sql).await.expect("generated data");
    ids
}

/// Every statistics table that reads follow-ups, referrals (age bands from
/// birth dates) and appointments, over the five years of the data.
async fn statistics(app: &TestApp, token: &str, now: NaiveDateTime) -> Vec<Value> {
    let start = now - Duration::days(1750);
    let from = format!("{:04}-{:02}", start.year(), start.month());
    let mut tables = Vec::new();
    for path in [
        "/api/v1/stats/follow-ups?measure=opened&period=year&by=gender",
        "/api/v1/stats/follow-ups?measure=active&period=quarter&by=departement",
        "/api/v1/stats/follow-ups?measure=opened&period=month",
        "/api/v1/stats/referrals?measure=received&period=year&by=age_band",
        "/api/v1/stats/referrals?measure=accepted&period=quarter&by=age_band",
        "/api/v1/stats/referrals?measure=received&period=year&by=gender",
        "/api/v1/stats/appointments?period=year&by=status",
    ] {
        let mut table = app
            .get_json(&format!("{path}&from={from}&months=60"), token, 200)
            .await;
        if let Some(object) = table.as_object_mut() {
            object.remove("generated_at");
        }
        tables.push(table);
    }
    tables
}

async fn retention_archives_exactly_the_follow_ups_past_their_retention(app: TestApp) {
    let world = app.world().await;
    let supervisor = world.token("supervisor").to_owned();
    let analyst = world.token("analyst").to_owned();
    let now = Utc::now();
    let ids = generate(&app, &world, now.naive_utc()).await;
    let expected: Vec<&String> = ids
        .iter()
        .zip(cases())
        .filter(|(_, c)| c.archived)
        .map(|(id, _)| id)
        .collect();
    let kept: Vec<&String> = ids
        .iter()
        .zip(cases())
        .filter(|(_, c)| !c.archived)
        .map(|(id, _)| id)
        .collect();
    assert!(expected.len() >= 10 && kept.len() >= 10);
    let before = statistics(&app, &analyst, now.naive_utc()).await;
    let policy = RetentionPolicy::default();

    // A dry run names exactly those past the threshold and writes nothing.
    let dry = adosexo_api::retention::run(&app.db(), policy, now, true)
        .await
        .expect("dry run");
    let mut named: Vec<&String> = dry.archived.iter().map(|i| &i.follow_up_id).collect();
    named.sort();
    assert_eq!(named, expected);
    assert!(dry.pseudonymised.is_empty());
    app.get_json(
        &format!("/api/v1/follow-ups/{}", expected[0]),
        &supervisor,
        200,
    )
    .await;

    let report = adosexo_api::retention::run(&app.db(), policy, now, false)
        .await
        .expect("retention");
    let mut moved: Vec<&String> = report.archived.iter().map(|i| &i.follow_up_id).collect();
    moved.sort();
    assert_eq!(moved, expected);
    for id in &expected {
        // Gone from the active base for everyone, the supervisor included.
        for role in ["supervisor", "coordinator"] {
            let response = app
                .authed(
                    Method::GET,
                    &format!("/api/v1/follow-ups/{id}"),
                    world.token(role),
                )
                .send()
                .await
                .expect("sent");
            problem(response, 404, "not-found").await;
        }
        let archived = app
            .get_json(
                &format!("/api/v1/archive/follow-ups/{id}"),
                &supervisor,
                200,
            )
            .await;
        assert_eq!(archived["follow_up"]["id"], json!(id));
        assert!(archived["archive"]["pseudonymised_at"].is_null());
    }
    for id in &kept {
        app.get_json(&format!("/api/v1/follow-ups/{id}"), &supervisor, 200)
            .await;
        let response = app
            .authed(
                Method::GET,
                &format!("/api/v1/archive/follow-ups/{id}"),
                &supervisor,
            )
            .send()
            .await
            .expect("sent");
        problem(response, 404, "not-found").await;
    }
    // What hangs on an archived follow-up left the active base with it: its
    // referral, its appointments, its person's record; not what hangs on a
    // kept one.
    for (i, case) in cases().iter().enumerate() {
        let referral = format!("/api/v1/referrals/10000000-0000-4000-8000-{i:012}");
        let person = format!("/api/v1/people/00000000-0000-4000-8000-{i:012}");
        let appointment = format!("/api/v1/appointments/40000000-0000-4000-8000-{i:012}");
        let mut paths = vec![referral, person];
        if case.appointment.is_some() {
            paths.push(appointment);
        }
        for path in paths {
            let status = app
                .authed(Method::GET, &path, &supervisor)
                .send()
                .await
                .expect("sent")
                .status()
                .as_u16();
            assert_eq!(status, if case.archived { 404 } else { 200 }, "{path}");
        }
    }
    let listed = app
        .get_json("/api/v1/follow-ups?limit=200", &supervisor, 200)
        .await;
    let listed: Vec<&str> = listed["items"]
        .as_array()
        .expect("items")
        .iter()
        .filter_map(|f| f["id"].as_str())
        .collect();
    assert!(expected.iter().all(|id| !listed.contains(&id.as_str())));
    assert!(kept.iter().all(|id| listed.contains(&id.as_str())));
    let page = app
        .get_json("/api/v1/archive/follow-ups?limit=200", &supervisor, 200)
        .await;
    assert_eq!(
        page["items"].as_array().expect("items").len(),
        expected.len()
    );
    assert_eq!(statistics(&app, &analyst, now.naive_utc()).await, before);

    // Only the supervisor and archivists read the archive.
    for role in ["coordinator", "analyst", "partner"] {
        let response = app
            .authed(Method::GET, "/api/v1/archive/follow-ups", world.token(role))
            .send()
            .await
            .expect("sent");
        problem(response, 403, "forbidden").await;
    }
    app.post_json(
        "/api/v1/accounts",
        &world.admin.access,
        json!({
            "email": "archives@test.example", "display_name": "Archiviste",
            "organisation_id": world.programme_id, "roles": ["archivist"], "password": PASSWORD
        }),
        201,
    )
    .await;
    let archivist = app.login("archives@test.example", PASSWORD).await.access;
    app.get_json(
        &format!("/api/v1/archive/follow-ups/{}", expected[0]),
        &archivist,
        200,
    )
    .await;
    let response = app
        .authed(Method::GET, "/api/v1/follow-ups", &archivist)
        .send()
        .await
        .expect("sent");
    problem(response, 403, "forbidden").await;

    // A rerun the same day changes nothing.
    let again = adosexo_api::retention::run(&app.db(), policy, now, false)
        .await
        .expect("rerun");
    assert!(again.archived.is_empty() && again.pseudonymised.is_empty());

    // After the archive period: personal fields go, statistics stay.
    let later = now + Duration::days(i64::from(policy.archive_days) + 1);
    let report = adosexo_api::retention::run(&app.db(), policy, later, false)
        .await
        .expect("pseudonymisation");
    let mut cleared: Vec<&String> = report
        .pseudonymised
        .iter()
        .map(|i| &i.follow_up_id)
        .collect();
    cleared.sort();
    assert_eq!(cleared, expected);
    assert_eq!(report.people_pseudonymised, 2 * expected.len());
    assert_eq!(statistics(&app, &analyst, now.naive_utc()).await, before);
    let archived = app
        .get_json(
            &format!("/api/v1/archive/follow-ups/{}", expected[0]),
            &supervisor,
            200,
        )
        .await;
    assert!(archived["archive"]["pseudonymised_at"].is_string());
    let involved = &archived["follow_up"]["involved"][0];
    assert_eq!(involved["first_name"], "pseudonymised", "{involved}");
    assert!(involved["contact"].is_null(), "{involved}");
    let export = app
        .get_json(
            &format!(
                "/api/v1/people/{}/export",
                archived["follow_up"]["person_id"].as_str().expect("person")
            ),
            &supervisor,
            200,
        )
        .await;
    let text = export.to_string();
    for personal in [
        "Prénom",
        "Nom",
        "06 00 00 00",
        "Fugues",
        "Mme Référente",
        "Appel avec",
    ] {
        assert!(!text.contains(personal), "{personal} left in {text}");
    }
    assert_eq!(export["follow_ups"][0]["notes"], json!([]));
}

/// A referral about a new person, from the ASE partner.
async fn referral(app: &TestApp, world: &World, name: &str) -> Value {
    app.post_json(
        "/api/v1/referrals",
        world.token("partner"),
        json!({
            "public": "young_person",
            "context": "pre_prostitution",
            "source": "partner_organisation",
            "referrer": {"name": "Mme Diallo", "contact": "01 23 45 67 89"},
            "person": {"first_name": name, "birth_date": "2010-05-04", "departement_code": "93"},
            "risk_indicators": ["runaway"],
            "summary": format!("Fugues répétées de {name}."),
            "urgency": "routine"
        }),
        201,
    )
    .await
}

async fn act(app: &TestApp, world: &World, referral: &Value, action: &str, body: Value) -> Value {
    let id = referral["id"].as_str().expect("id");
    let response = app
        .authed(
            Method::POST,
            &format!("/api/v1/referrals/{id}/{action}"),
            world.token("coordinator"),
        )
        .header("If-Match", format!("\"v{}\"", referral["version"]))
        .json(&body)
        .send()
        .await
        .expect("sent");
    json(response, 200).await
}

async fn request_erasure(app: &TestApp, token: &str, person: &str) -> Value {
    app.post_json(
        &format!("/api/v1/people/{person}/erasure-requests"),
        token,
        json!({"requested_by": "person", "received_at": Utc::now() - Duration::days(2)}),
        201,
    )
    .await
}

async fn execute(app: &TestApp, token: &str, request: &Value) -> reqwest::Response {
    app.authed(
        Method::POST,
        &format!(
            "/api/v1/erasure-requests/{}/execute",
            request["id"].as_str().expect("id")
        ),
        token,
    )
    .send()
    .await
    .expect("sent")
}

async fn erasure_is_executed_or_refused_with_the_legal_reason(app: TestApp) {
    let world = app.world().await;
    let supervisor = world.token("supervisor").to_owned();

    // Under review: the mission needs the data.
    let pending = referral(&app, &world, "Inès").await;
    let person = pending["person"]["id"].as_str().expect("person").to_owned();
    let response = app
        .authed(
            Method::POST,
            &format!("/api/v1/people/{person}/erasure-requests"),
            world.token("coordinator"),
        )
        .json(&json!({"requested_by": "person", "received_at": Utc::now()}))
        .send()
        .await
        .expect("sent");
    problem(response, 403, "forbidden").await;
    let request = request_erasure(&app, &supervisor, &person).await;
    assert_eq!(request["status"], "pending");
    let refused = problem(
        execute(&app, &supervisor, &request).await,
        409,
        "erasure-refused",
    )
    .await;
    let detail = refused["detail"].as_str().expect("detail");
    assert!(detail.starts_with("referral_in_progress"), "{detail}");
    assert!(detail.contains("RGPD art. 17(3)(b)"), "{detail}");
    let stored = app
        .get_json(
            &format!(
                "/api/v1/erasure-requests/{}",
                request["id"].as_str().expect("id")
            ),
            &supervisor,
            200,
        )
        .await;
    assert_eq!(stored["status"], "refused");
    assert_eq!(stored["refusal"], "referral_in_progress");
    assert!(
        stored["legal_reason"]
            .as_str()
            .is_some_and(|r| !r.is_empty())
    );

    // Accepted into a follow-up: the child-protection mission.
    let accepted = act(
        &app,
        &world,
        &pending,
        "accept",
        json!({"lead_staff_id": world.account("coordinator")}),
    )
    .await;
    assert!(accepted["follow_up_id"].is_string());
    let refused = problem(
        execute(&app, &supervisor, &request).await,
        409,
        "erasure-refused",
    )
    .await;
    assert!(
        refused["detail"]
            .as_str()
            .is_some_and(|d| d.starts_with("child_protection_mission")),
        "{refused}"
    );

    // Declined, nothing else held: executed, and the person is no longer
    // recognisable anywhere while their referral still counts.
    let declined = referral(&app, &world, "Yasmine").await;
    let declined = act(
        &app,
        &world,
        &declined,
        "decline",
        json!({"reason": "Hors du champ du programme : suivi par Mme Diallo."}),
    )
    .await;
    let person = declined["person"]["id"]
        .as_str()
        .expect("person")
        .to_owned();
    let request = request_erasure(&app, &supervisor, &person).await;
    let executed = json(execute(&app, &supervisor, &request).await, 200).await;
    assert_eq!(executed["status"], "executed");
    assert!(executed["refusal"].is_null());
    // Executing again answers as it stands.
    let again = json(execute(&app, &supervisor, &request).await, 200).await;
    assert_eq!(again["status"], "executed");
    let export = app
        .get_json(&format!("/api/v1/people/{person}/export"), &supervisor, 200)
        .await;
    let text = export.to_string();
    for personal in [
        "Yasmine",
        "2010-05-04",
        "Mme Diallo",
        "01 23 45 67 89",
        "Fugues",
    ] {
        assert!(!text.contains(personal), "{personal} left in {text}");
    }
    assert_eq!(export["referrals"][0]["referral"]["status"], "declined");
    // Not filled in again by a rectification.
    let response = app
        .authed(
            Method::PATCH,
            &format!("/api/v1/people/{person}"),
            &supervisor,
        )
        .header("If-Match", format!("\"v{}\"", export["person"]["version"]))
        .json(&json!({"first_name": "Yasmine"}))
        .send()
        .await
        .expect("sent");
    problem(response, 409, "person-erased").await;
    let listed = app
        .get_json("/api/v1/erasure-requests?status=executed", &supervisor, 200)
        .await;
    assert_eq!(listed["items"].as_array().expect("items").len(), 1);
    let audit = app
        .get_json(
            "/api/v1/audit?resource_type=erasure_request",
            &supervisor,
            200,
        )
        .await
        .to_string();
    assert!(
        audit.contains("execute_erasure") && audit.contains("refuse_erasure"),
        "{audit}"
    );

    // Bad input: a reception in the future, an unknown requester, no such person.
    let response = app
        .authed(
            Method::POST,
            &format!("/api/v1/people/{person}/erasure-requests"),
            &supervisor,
        )
        .json(&json!({"requested_by": "person", "received_at": Utc::now() + Duration::days(3)}))
        .send()
        .await
        .expect("sent");
    problem(response, 422, "received-in-future").await;
    let response = app
        .authed(
            Method::POST,
            &format!("/api/v1/people/{person}/erasure-requests"),
            &supervisor,
        )
        .json(&json!({"requested_by": "neighbour", "received_at": Utc::now()}))
        .send()
        .await
        .expect("sent");
    problem(response, 400, "invalid-input").await;
    let response = app
        .authed(
            Method::POST,
            &format!("/api/v1/people/{}/erasure-requests", uuid::Uuid::new_v4()),
            &supervisor,
        )
        .json(&json!({"requested_by": "person", "received_at": Utc::now()}))
        .send()
        .await
        .expect("sent");
    problem(response, 404, "not-found").await;
}

async fn patch(
    app: &TestApp,
    token: &str,
    person: &str,
    etag: Option<&str>,
    body: Value,
) -> reqwest::Response {
    let mut request = app
        .authed(Method::PATCH, &format!("/api/v1/people/{person}"), token)
        .json(&body);
    if let Some(etag) = etag {
        request = request.header("If-Match", etag);
    }
    request.send().await.expect("sent")
}

async fn rectification_corrects_a_record_through_an_ordinary_update(app: TestApp) {
    let world = app.world().await;
    let coordinator = world.token("coordinator").to_owned();
    let submitted = referral(&app, &world, "Ines").await;
    let person = submitted["person"]["id"]
        .as_str()
        .expect("person")
        .to_owned();

    let response = app
        .authed(
            Method::GET,
            &format!("/api/v1/people/{person}"),
            &coordinator,
        )
        .send()
        .await
        .expect("sent");
    assert_eq!(response.headers()["etag"], "\"v1\"");
    let record = json(response, 200).await;
    assert_eq!(record["birth_date"], "2010-05-04");
    // Outside the referent's territory: not theirs to know; partners: not their function.
    let response = app
        .authed(
            Method::GET,
            &format!("/api/v1/people/{person}"),
            world.token("regional_referent"),
        )
        .send()
        .await
        .expect("sent");
    problem(response, 404, "not-found").await;
    problem(
        patch(
            &app,
            world.token("partner"),
            &person,
            Some("\"v1\""),
            json!({"first_name": "X"}),
        )
        .await,
        403,
        "forbidden",
    )
    .await;

    problem(
        patch(
            &app,
            &coordinator,
            &person,
            None,
            json!({"last_name": "Martin"}),
        )
        .await,
        428,
        "precondition-required",
    )
    .await;
    let response = patch(
        &app,
        &coordinator,
        &person,
        Some("\"v1\""),
        json!({"first_name": "Inès", "last_name": "Martin", "birth_date": "2010-06-04", "placement": "famille d'accueil"}),
    )
    .await;
    assert_eq!(response.headers()["etag"], "\"v2\"");
    let record = json(response, 200).await;
    assert_eq!(record["first_name"], "Inès");
    assert_eq!(record["last_name"], "Martin");
    assert_eq!(record["birth_date"], "2010-06-04");
    assert_eq!(record["birth_year"], 2010);
    assert_eq!(record["gender"], Value::Null);
    problem(
        patch(
            &app,
            &coordinator,
            &person,
            Some("\"v1\""),
            json!({"last_name": null}),
        )
        .await,
        412,
        "precondition-failed",
    )
    .await;
    // A year replaces the date; null clears; absent keeps.
    let record = json(
        patch(
            &app,
            &coordinator,
            &person,
            Some("\"v2\""),
            json!({"birth_year": 2009, "last_name": null}),
        )
        .await,
        200,
    )
    .await;
    assert_eq!(record["birth_date"], Value::Null);
    assert_eq!(record["birth_year"], 2009);
    assert_eq!(record["last_name"], Value::Null);
    assert_eq!(record["placement"], "famille d'accueil");
    let future = (Utc::now() + Duration::days(2)).date_naive().to_string();
    problem(
        patch(
            &app,
            &coordinator,
            &person,
            Some("\"v3\""),
            json!({"birth_date": future}),
        )
        .await,
        422,
        "birth-date-in-future",
    )
    .await;
    problem(
        patch(
            &app,
            &coordinator,
            &person,
            Some("\"v3\""),
            json!({"first_name": ""}),
        )
        .await,
        400,
        "invalid-input",
    )
    .await;
    // The referral shows the rectified record.
    let seen = app
        .get_json(
            &format!(
                "/api/v1/referrals/{}",
                submitted["id"].as_str().expect("id")
            ),
            &coordinator,
            200,
        )
        .await;
    assert_eq!(seen["person"]["first_name"], "Inès");
    let audit = app
        .get_json(
            "/api/v1/audit?resource_type=person",
            world.token("supervisor"),
            200,
        )
        .await
        .to_string();
    assert!(
        audit.contains("rectify_person") && audit.contains("read_person"),
        "{audit}"
    );
}
