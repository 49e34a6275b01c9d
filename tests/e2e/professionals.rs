//! Working with professionals end to end: partners sign professionals up
//! to trainings (capacity and waitlist, also under parallel requests), case
//! review requests, the resource library's uploads and downloads, and
//! permanences held under partnership agreements.

use chrono::{DateTime, Duration, Utc};
use reqwest::Method;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use crate::helpers::{TestApp, World, join_all, json, problem};

crate::both_backends!(
    partners_fill_places_then_the_waitlist_and_a_cancel_promotes,
    parallel_sign_ups_never_exceed_capacity,
    case_review_requests_are_scheduled_as_sessions,
    library_files_are_checked_and_partner_files_need_a_token,
    permanences_need_an_agreement_in_force,
    figures_count_professionals_reached_and_downloads,
);

/// The library limit of test apps (see `helpers::test_config`).
const LIBRARY_MAX: usize = 1024 * 1024;

fn at(days: i64, hour: i64) -> String {
    let day: DateTime<Utc> = (Utc::now() + Duration::days(days))
        .date_naive()
        .and_hms_opt(0, 0, 0)
        .expect("midnight")
        .and_utc();
    (day + Duration::hours(hour)).to_rfc3339()
}

/// A session of `kind` planned by the coordinator in 93, `capacity` places.
async fn planned(app: &TestApp, world: &World, kind: &str, d: i64, capacity: i64) -> String {
    let body = app
        .post_json(
            "/api/v1/group-sessions",
            world.token("coordinator"),
            json!({
                "kind": kind, "title": format!("Séance {kind}"), "mode": "in_person",
                "venue": "Salle 2", "departement_code": "93",
                "starts_at": at(d, 9), "ends_at": at(d, 12),
                "staff_ids": [world.account("coordinator")], "capacity": capacity,
                "audience": "professionals",
            }),
            201,
        )
        .await;
    body["id"].as_str().expect("id").to_owned()
}

async fn sign_up(app: &TestApp, token: &str, session: &str, names: &[&str]) -> reqwest::Response {
    let professionals: Vec<Value> = names.iter().map(|n| json!({"name": n})).collect();
    app.authed(
        Method::POST,
        &format!("/api/v1/trainings/{session}/registrations"),
        token,
    )
    .json(&json!({"professionals": professionals}))
    .send()
    .await
    .expect("sent")
}

async fn sign_up_one(app: &TestApp, token: &str, session: &str, name: String) -> reqwest::Response {
    sign_up(app, token, session, &[name.as_str()]).await
}

fn statuses(items: &Value) -> Vec<(String, String)> {
    items
        .as_array()
        .expect("items")
        .iter()
        .map(|r| {
            (
                r["participant_name"].as_str().expect("name").to_owned(),
                r["status"].as_str().expect("status").to_owned(),
            )
        })
        .collect()
}

async fn partners_fill_places_then_the_waitlist_and_a_cancel_promotes(app: TestApp) {
    let world = app.world().await;
    let session = planned(&app, &world, "action_training", 10, 3).await;
    // Staff register one participant: 2 places left.
    app.post_json(
        &format!("/api/v1/group-sessions/{session}/registrations"),
        world.token("coordinator"),
        json!({"participant_name": "Déjà inscrite", "category": "professionals"}),
        201,
    )
    .await;
    let open = app
        .get_json("/api/v1/trainings", world.token("partner"), 200)
        .await;
    let listed = open["items"]
        .as_array()
        .expect("items")
        .iter()
        .find(|s| s["id"] == session.as_str())
        .expect("the training is open");
    assert_eq!(listed["places_left"], 2);

    // A name of white space only (U+0085 is white space to the server, not to
    // JSON Schema's \s): 422 naming the entry, and nobody is registered.
    let refused = json(
        sign_up(&app, world.token("partner"), &session, &["Ana", "\u{85}"]).await,
        422,
    )
    .await;
    assert_eq!(refused["type"], "urn:adosexo:problem:invalid-value");
    assert_eq!(refused["errors"][0]["field"], "professionals[1].name");
    assert_eq!(refused["errors"][0]["code"], "blank");

    // A partner registers three of its professionals: two places, one waitlisted.
    let made = json(
        sign_up(
            &app,
            world.token("partner"),
            &session,
            &["Ana", "Bruno", "Chloé"],
        )
        .await,
        201,
    )
    .await;
    assert_eq!(
        statuses(&made["items"]),
        [
            ("Ana".to_owned(), "confirmed".to_owned()),
            ("Bruno".to_owned(), "confirmed".to_owned()),
            ("Chloé".to_owned(), "waitlisted".to_owned()),
        ]
    );
    assert_eq!(made["items"][0]["organisation_id"], world.org_a.as_str());

    // The partner (person or app of the organisation) sees its registrations.
    let mine = app
        .get_json(
            "/api/v1/training-registrations",
            world.token("partner_app"),
            200,
        )
        .await;
    assert_eq!(statuses(&mine["items"]).len(), 3);

    // Bruno cancels: Chloé is promoted.
    let bruno = made["items"][1]["id"].as_str().expect("id");
    let cancelled = app
        .post_json(
            &format!("/api/v1/training-registrations/{bruno}/cancel"),
            world.token("partner"),
            json!({}),
            200,
        )
        .await;
    assert_eq!(cancelled["status"], "cancelled");
    let mine = app
        .get_json(
            "/api/v1/training-registrations",
            world.token("partner"),
            200,
        )
        .await;
    assert_eq!(
        statuses(&mine["items"]),
        [
            ("Ana".to_owned(), "confirmed".to_owned()),
            ("Bruno".to_owned(), "cancelled".to_owned()),
            ("Chloé".to_owned(), "confirmed".to_owned()),
        ]
    );
    // The session agrees: 3 confirmed, no waitlist.
    let seen = app
        .get_json(
            &format!("/api/v1/group-sessions/{session}"),
            world.token("coordinator"),
            200,
        )
        .await;
    assert_eq!(
        (seen["confirmed"].as_u64(), seen["waitlisted"].as_u64()),
        (Some(3), Some(0))
    );
    // Cancelling twice is a conflict; staff's registrations are not the partner's.
    let again = app
        .authed(
            Method::POST,
            &format!("/api/v1/training-registrations/{bruno}/cancel"),
            world.token("partner"),
        )
        .send()
        .await
        .expect("sent");
    problem(again, 409, "registration-cancelled").await;
    let staff_made = app
        .get_json(
            &format!("/api/v1/group-sessions/{session}/registrations"),
            world.token("coordinator"),
            200,
        )
        .await;
    let staff_id = staff_made["items"][0]["id"].as_str().expect("id");
    let theirs = app
        .authed(
            Method::POST,
            &format!("/api/v1/training-registrations/{staff_id}/cancel"),
            world.token("partner"),
        )
        .send()
        .await
        .expect("sent");
    problem(theirs, 404, "not-found").await;

    // A parent group is not a training: 404 for partners.
    let parents = planned(&app, &world, "parent_group", 11, 5).await;
    problem(
        sign_up(&app, world.token("partner"), &parents, &["Ana"]).await,
        404,
        "not-found",
    )
    .await;
    // Staff do not use the partners' sign-up.
    assert_eq!(
        sign_up(&app, world.token("coordinator"), &session, &["X"])
            .await
            .status(),
        403
    );
}

async fn parallel_sign_ups_never_exceed_capacity(app: TestApp) {
    let world = app.world().await;
    let session = planned(&app, &world, "awareness_session", 12, 3).await;
    let names: Vec<String> = (0..8).map(|i| format!("Pro {i}")).collect();
    let requests = names
        .iter()
        .enumerate()
        .map(|(i, name)| {
            let token = if i % 2 == 0 { "partner" } else { "partner_app" };
            sign_up_one(&app, world.token(token), &session, name.clone())
        })
        .collect();
    for response in join_all(requests).await {
        assert_eq!(response.status(), 201);
    }
    let mine = app
        .get_json(
            "/api/v1/training-registrations",
            world.token("partner"),
            200,
        )
        .await;
    let all = statuses(&mine["items"]);
    let confirmed = all.iter().filter(|(_, s)| s == "confirmed").count();
    let waitlisted = all.iter().filter(|(_, s)| s == "waitlisted").count();
    assert_eq!((confirmed, waitlisted), (3, 5), "{all:?}");
}

async fn case_review_requests_are_scheduled_as_sessions(app: TestApp) {
    let world = app.world().await;
    let request = app
        .post_json(
            "/api/v1/case-review-requests",
            world.token("partner_app"),
            json!({
                "departement_code": "93",
                "situation": "Une adolescente de 14 ans évoque des messages insistants d'un adulte.",
                "fictional": true
            }),
            201,
        )
        .await;
    assert_eq!(request["status"], "requested");
    assert_eq!(request["organisation_id"], world.org_a.as_str());
    let id = request["id"].as_str().expect("id");
    let listed = app
        .get_json(
            "/api/v1/case-review-requests?status=requested",
            world.token("coordinator"),
            200,
        )
        .await;
    assert_eq!(listed["items"][0]["id"], id);

    let training = planned(&app, &world, "action_training", 14, 10).await;
    let review = planned(&app, &world, "case_review", 15, 10).await;
    let schedule = |session: String, etag: &'static str| {
        app.authed(
            Method::POST,
            &format!("/api/v1/case-review-requests/{id}/schedule"),
            world.token("coordinator"),
        )
        .header("If-Match", etag)
        .json(&json!({"group_session_id": session}))
        .send()
    };
    problem(
        schedule(training, "\"v1\"").await.expect("sent"),
        422,
        "case-review-session-kind",
    )
    .await;
    let scheduled = json(schedule(review.clone(), "\"v1\"").await.expect("sent"), 200).await;
    assert_eq!(scheduled["status"], "scheduled");
    assert_eq!(scheduled["group_session_id"], review.as_str());
    problem(
        schedule(review.clone(), "\"v2\"").await.expect("sent"),
        409,
        "case-review-already-scheduled",
    )
    .await;
    // The partner sees it scheduled, and signs its professionals up to it.
    let mine = app
        .get_json("/api/v1/case-review-requests", world.token("partner"), 200)
        .await;
    assert_eq!(mine["items"][0]["group_session_id"], review.as_str());
    json(
        sign_up(&app, world.token("partner"), &review, &["Ana"]).await,
        201,
    )
    .await;
}

fn pdf() -> Vec<u8> {
    let mut bytes = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\n".to_vec();
    bytes.extend(std::iter::repeat_n(b'x', 2000));
    bytes.extend_from_slice(b"\n%%EOF\n");
    bytes
}

async fn upload(
    app: &TestApp,
    token: &str,
    id: &str,
    content_type: &str,
    body: Vec<u8>,
) -> reqwest::Response {
    app.authed(Method::PUT, &format!("/api/v1/resources/{id}/file"), token)
        .header("Content-Type", content_type)
        .body(body)
        .send()
        .await
        .expect("sent")
}

async fn library_files_are_checked_and_partner_files_need_a_token(app: TestApp) {
    let world = app.world().await;
    let admin = world.token("admin");
    let resource = |title: &str, visibility: &str, kind: &str| {
        json!({
            "title": title, "description": "Pour les professionnels de l'enfance",
            "audience": "professionals", "kind": kind, "language": "fr",
            "visibility": visibility,
        })
    };
    let public = app
        .post_json(
            "/api/v1/resources",
            admin,
            resource("Guide de l'Éducation affective", "public", "guide"),
            201,
        )
        .await;
    let public = public["id"].as_str().expect("id").to_owned();
    let partners = app
        .post_json(
            "/api/v1/resources",
            world.token("supervisor"),
            resource("Mallette d'atelier", "partners", "workshop_kit"),
            201,
        )
        .await;
    let partners = partners["id"].as_str().expect("id").to_owned();

    // Before its upload the resource exists but its file does not: 409, not counted.
    problem(
        app.get(&format!("/api/v1/resources/{public}/file")).await,
        409,
        "no-file-yet",
    )
    .await;

    // A PDF: its type from the content, its SHA-256 stored.
    let bytes = pdf();
    let sha: String = Sha256::digest(&bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    let stored = json(
        upload(&app, admin, &public, "application/pdf", bytes.clone()).await,
        200,
    )
    .await;
    assert_eq!(stored["file"]["media_type"], "application/pdf");
    assert_eq!(stored["file"]["sha256"], sha.as_str());
    assert_eq!(stored["file"]["size"], bytes.len());
    json(
        upload(&app, admin, &partners, "application/octet-stream", pdf()).await,
        200,
    )
    .await;

    // Over the limit: 413; an executable named as a PDF: 422; a lie about the type: 422.
    problem(
        upload(
            &app,
            admin,
            &public,
            "application/pdf",
            vec![b'%'; LIBRARY_MAX + 1],
        )
        .await,
        413,
        "payload-too-large",
    )
    .await;
    let mut exe = b"MZ\x90\x00\x03\x00\x00\x00".to_vec();
    exe.extend(std::iter::repeat_n(0u8, 512));
    problem(
        upload(&app, admin, &public, "application/pdf", exe).await,
        422,
        "file-executable",
    )
    .await;
    problem(
        upload(&app, admin, &public, "image/png", pdf()).await,
        422,
        "file-type-mismatch",
    )
    .await;
    // Partners cannot upload; the JSON limit of other routes stays small.
    assert_eq!(
        upload(
            &app,
            world.token("partner"),
            &public,
            "application/pdf",
            pdf()
        )
        .await
        .status(),
        403
    );
    let big = json!({"title": "x".repeat(100 * 1024), "audience": "parents", "kind": "game",
                     "language": "fr", "visibility": "public"});
    let response = app
        .authed(Method::POST, "/api/v1/resources", admin)
        .json(&big)
        .send()
        .await
        .expect("sent");
    problem(response, 413, "payload-too-large").await;

    // Downloads: public without a token, partners-only with one (401 without).
    let response = app.get(&format!("/api/v1/resources/{public}/file")).await;
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["content-type"], "application/pdf");
    assert_eq!(response.bytes().await.expect("bytes").to_vec(), bytes);
    problem(
        app.get(&format!("/api/v1/resources/{partners}/file")).await,
        401,
        "unauthorized",
    )
    .await;
    let response = app
        .authed(
            Method::GET,
            &format!("/api/v1/resources/{partners}/file"),
            world.token("partner_app"),
        )
        .send()
        .await
        .expect("sent");
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["content-type"], "application/pdf");
    // A client that accepts only octet-stream (as the document allows) gets
    // the same bytes as application/octet-stream; one that also accepts the
    // stored type, or anything, gets the stored type.
    for (accept, expected) in [
        ("application/octet-stream", "application/octet-stream"),
        (
            "application/octet-stream, application/pdf",
            "application/pdf",
        ),
        (
            "application/octet-stream;q=0.5, */*;q=0.1",
            "application/pdf",
        ),
        ("application/*", "application/pdf"),
    ] {
        let response = app
            .authed(
                Method::GET,
                &format!("/api/v1/resources/{partners}/file"),
                world.token("partner_app"),
            )
            .header("Accept", accept)
            .send()
            .await
            .expect("sent");
        assert_eq!(response.status(), 200, "{accept}");
        assert_eq!(response.headers()["content-type"], expected, "{accept}");
        assert_eq!(response.bytes().await.expect("bytes").to_vec(), bytes);
    }
    // Counted.
    let seen = json(app.get(&format!("/api/v1/resources/{public}")).await, 200).await;
    assert_eq!(seen["downloads"], 1);

    // Search: accents and case ignored; anonymous callers see public resources only.
    let found = json(app.get("/api/v1/resources?q=EDUCATION").await, 200).await;
    assert_eq!(found["items"].as_array().map(Vec::len), Some(1));
    assert_eq!(found["items"][0]["id"], public.as_str());
    let anonymous = json(
        app.get("/api/v1/resources?audience=professionals").await,
        200,
    )
    .await;
    assert_eq!(anonymous["items"].as_array().map(Vec::len), Some(1));
    let partner = app
        .get_json(
            "/api/v1/resources?audience=professionals",
            world.token("partner"),
            200,
        )
        .await;
    assert_eq!(partner["items"].as_array().map(Vec::len), Some(2));
    let kits = app
        .get_json(
            "/api/v1/resources?kind=workshop_kit&limit=1",
            world.token("partner"),
            200,
        )
        .await;
    assert_eq!(kits["items"][0]["id"], partners.as_str());
    assert_eq!(kits["next_cursor"], Value::Null);
}

async fn permanences_need_an_agreement_in_force(app: TestApp) {
    let world = app.world().await;
    let admin = world.token("admin");
    let today = Utc::now().date_naive();
    let agreement = |starts: chrono::NaiveDate, ends: chrono::NaiveDate, deps: &[&str]| {
        json!({
            "organisation_id": world.org_a, "title": "Convention PACA",
            "departements": deps, "referent_ids": [world.account("regional_referent")],
            "starts_on": starts.to_string(), "ends_on": ends.to_string(),
        })
    };
    let expired = app
        .post_json(
            "/api/v1/agreements",
            admin,
            agreement(
                today - Duration::days(400),
                today - Duration::days(2),
                &["13"],
            ),
            201,
        )
        .await;
    let in_force = app
        .post_json(
            "/api/v1/agreements",
            admin,
            agreement(
                today - Duration::days(10),
                today + Duration::days(30),
                &["13"],
            ),
            201,
        )
        .await;
    let long = app
        .post_json(
            "/api/v1/agreements",
            admin,
            agreement(today, today + Duration::days(365), &["13", "84"]),
            201,
        )
        .await;
    assert_eq!(
        in_force["referent_ids"][0],
        world.account("regional_referent")
    );
    assert_eq!(
        (
            in_force["in_force"].as_bool(),
            in_force["ending_soon"].as_bool()
        ),
        (Some(true), Some(true))
    );
    assert_eq!(expired["in_force"], false);

    let site = app
        .post_json(
            "/api/v1/sites",
            admin,
            json!({
                "name": "Maison des jeunes", "kind": "youth_centre", "address": "1 cours Mirabeau",
                "postcode": "13100", "city": "Aix-en-Provence", "departement_code": "13",
                "latitude": 43.52, "longitude": 5.45, "public": true
            }),
            201,
        )
        .await;
    let permanence = |agreement: &Value| {
        json!({
            "site_id": site["id"], "title": "Permanence régionale",
            "rrule": "FREQ=WEEKLY;BYDAY=WE", "dtstart": (today + Duration::days(1)).to_string(),
            "part_of_day": "afternoon", "audience": "all",
            "staff_ids": [world.account("regional_referent")],
            "agreement_id": agreement["id"],
        })
    };
    let refused = app
        .authed(Method::POST, "/api/v1/permanences", admin)
        .json(&permanence(&expired))
        .send()
        .await
        .expect("sent");
    let body = problem(refused, 422, "agreement-expired").await;
    assert!(
        body["detail"].as_str().expect("detail").contains("ended"),
        "{body}"
    );
    let created = app
        .post_json("/api/v1/permanences", admin, permanence(&in_force), 201)
        .await;
    let id = in_force["id"].as_str().expect("id");
    let read = app
        .get_json(
            &format!("/api/v1/agreements/{id}"),
            world.token("regional_referent"),
            200,
        )
        .await;
    assert_eq!(read["permanence_ids"][0], created["id"]);

    // Suspended: refused too, naming the rule.
    let suspended = app
        .authed(
            Method::POST,
            &format!("/api/v1/agreements/{id}/status"),
            admin,
        )
        .header("If-Match", "\"v1\"")
        .json(&json!({"status": "suspended"}))
        .send()
        .await
        .expect("sent");
    assert_eq!(suspended.status(), 200);
    let refused = app
        .authed(Method::POST, "/api/v1/permanences", admin)
        .json(&permanence(&in_force))
        .send()
        .await
        .expect("sent");
    problem(refused, 422, "agreement-suspended").await;

    // Ending within 60 days: listed for admins (the suspended one no more).
    let soon = app
        .get_json("/api/v1/agreements/ending-soon", admin, 200)
        .await;
    assert_eq!(soon["items"].as_array().map(Vec::len), Some(0), "{soon}");
    let resumed = app
        .authed(
            Method::POST,
            &format!("/api/v1/agreements/{id}/status"),
            admin,
        )
        .header("If-Match", "\"v2\"")
        .json(&json!({"status": "active"}))
        .send()
        .await
        .expect("sent");
    assert_eq!(resumed.status(), 200);
    let soon = app
        .get_json("/api/v1/agreements/ending-soon", admin, 200)
        .await;
    let ids: Vec<&str> = soon["items"]
        .as_array()
        .expect("items")
        .iter()
        .filter_map(|a| a["id"].as_str())
        .collect();
    assert_eq!(ids, [id]);
    assert_eq!(
        app.authed(
            Method::GET,
            "/api/v1/agreements/ending-soon",
            world.token("coordinator")
        )
        .send()
        .await
        .expect("sent")
        .status(),
        403
    );
    let _ = long;
}

/// The figure of `column` in the row of `period`.
fn figure(table: &Value, period: &str, column: &str) -> Value {
    let index = table["columns"]
        .as_array()
        .expect("columns")
        .iter()
        .position(|c| c == column)
        .unwrap_or_else(|| panic!("no column {column}: {table}"));
    let row = table["rows"]
        .as_array()
        .expect("rows")
        .iter()
        .find(|r| r["period"] == period)
        .unwrap_or_else(|| panic!("no row {period}: {table}"));
    row["cells"][index].clone()
}

async fn figures_count_professionals_reached_and_downloads(app: TestApp) {
    let world = app.world().await;
    let session = planned(&app, &world, "action_training", 10, 20).await;
    let made = json(
        sign_up(
            &app,
            world.token("partner"),
            &session,
            &["P1", "P2", "P3", "P4", "P5"],
        )
        .await,
        201,
    )
    .await;
    // Two professionals of a school and two of the PJJ, registered by staff.
    for org in [&world.school, &world.org_b, &world.school, &world.org_b] {
        app.post_json(
            &format!("/api/v1/group-sessions/{session}/registrations"),
            world.token("coordinator"),
            json!({"participant_name": "Prof", "category": "professionals", "organisation_id": org}),
            201,
        )
        .await;
    }
    // Held, one ASE professional absent (seeded: the session lies in the future).
    let absent = made["items"][4]["id"].as_str().expect("id");
    adosexo_persistence::testing::execute_sql(
        &app.db(),
        &format!(
            "UPDATE group_sessions SET status = 'held' WHERE id = '{session}'; \
             UPDATE group_registrations SET present = FALSE WHERE id = '{absent}';"
        ),
    )
    .await
    .expect("held");
    let starts = (Utc::now() + Duration::days(10))
        .format("%Y-%m")
        .to_string();
    let table = app
        .get_json(
            &format!("/api/v1/stats/professionals?from={starts}&months=1&by=organisation_kind"),
            world.token("analyst"),
            200,
        )
        .await;
    assert_eq!(table["measure"], "reached");
    assert_eq!(figure(&table, &starts, "ase")["value"], 4, "{table}");
    // Two professionals: small cells, suppressed (each hidden by the other).
    let school = figure(&table, &starts, "school");
    assert_eq!(
        (school["value"].clone(), school["suppressed"].as_bool()),
        (Value::Null, Some(true))
    );
    let by_departement = app
        .get_json(
            &format!("/api/v1/stats/professionals?from={starts}&months=1&by=departement"),
            world.token("analyst"),
            200,
        )
        .await;
    assert_eq!(
        figure(&by_departement, &starts, "93")["value"],
        8,
        "{by_departement}"
    );

    // Downloads per kind of resource.
    let guide = app
        .post_json(
            "/api/v1/resources",
            world.token("admin"),
            json!({"title": "Guide", "audience": "parents", "kind": "guide", "language": "fr", "visibility": "public"}),
            201,
        )
        .await;
    let guide = guide["id"].as_str().expect("id");
    json(
        upload(&app, world.token("admin"), guide, "application/pdf", pdf()).await,
        200,
    )
    .await;
    for _ in 0..3 {
        assert_eq!(
            app.get(&format!("/api/v1/resources/{guide}/file"))
                .await
                .status(),
            200
        );
    }
    let this_month = Utc::now().format("%Y-%m").to_string();
    let table = app
        .get_json(
            &format!("/api/v1/stats/resources?from={this_month}&months=1&by=kind"),
            world.token("analyst"),
            200,
        )
        .await;
    assert_eq!(figure(&table, &this_month, "guide")["value"], 3, "{table}");
    // Downloads have no place: no département column.
    let response = app
        .authed(
            Method::GET,
            &format!("/api/v1/stats/resources?from={this_month}&by=departement"),
            world.token("analyst"),
        )
        .send()
        .await
        .expect("sent");
    assert_eq!(response.status(), 400);
}
