//! The contract as outside testing tried it (issue 24): one problem type for
//! one situation on both backends, a conflict that says with what, time
//! errors that say the form expected, partner scopes as a table, and no
//! `Location` a creator cannot read.

use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::{TestApp, World, join_all, json, problem, tokens};
use crate::scheduling::{occurrences, second_tuesdays, site};

crate::both_backends!(
    parallel_bookings_of_one_slot_all_lose_as_slot_taken,
    a_double_booking_names_what_it_collides_with_only_to_who_may_read_it,
    time_errors_say_the_form_expected,
    partner_app_scopes_as_a_table,
    no_creator_is_sent_to_a_location_it_cannot_read,
    permanence_hours_in_a_change_of_time_keep_their_length,
    the_directory_coverage_rule_is_in_the_schema_and_the_server_agrees,
);

fn referral(first_name: &str, departement: &str, source: &str) -> Value {
    json!({
        "public": "young_person", "context": "pre_prostitution", "source": source,
        "person": {"first_name": first_name, "birth_date": "2011-04-02", "departement_code": departement},
        "risk_indicators": ["runaway"], "summary": "Fugues.", "urgency": "urgent"
    })
}

/// 40 partner bookings of one free slot at once: one 201, and every loser
/// `slot-taken` (on PostgreSQL, those that lost the race at the database's
/// exclusion constraint too).
async fn parallel_bookings_of_one_slot_all_lose_as_slot_taken(app: TestApp) {
    let world = app.world().await;
    let site_id = site(&app, &world, "Point écoute", "93").await;
    let permanence = second_tuesdays(&app, &world, &site_id).await;
    let partner = world.token("partner_app").to_owned();
    let own = app
        .post_json(
            "/api/v1/referrals",
            &partner,
            referral("Lina", "93", "partner_organisation"),
            201,
        )
        .await;
    // 13 April 2027, 14:00 Paris = 12:00Z: the first slot of the occurrence.
    let body = json!({
        "referral_id": own["id"], "permanence_id": permanence["id"],
        "starts_at": "2027-04-13T12:00:00Z", "duration": 60
    });
    let requests: Vec<_> = (0..40)
        .map(|_| {
            let request = app
                .authed(Method::POST, "/api/v1/availability/bookings", &partner)
                .json(&body);
            async move { request.send().await.expect("sent") }
        })
        .collect();
    let mut created = 0;
    let mut kinds = Vec::new();
    for response in join_all(requests).await {
        match response.status().as_u16() {
            201 => created += 1,
            status => {
                let body: Value = response.json().await.expect("problem");
                kinds.push((status, body["type"].as_str().unwrap_or_default().to_owned()));
            }
        }
    }
    assert_eq!(created, 1, "one booking wins: {kinds:?}");
    assert!(
        kinds
            .iter()
            .all(|(status, kind)| *status == 409 && kind == "urn:adosexo:problem:slot-taken"),
        "every loser is a 409 slot-taken: {kinds:?}"
    );
}

async fn phone_call(
    app: &TestApp,
    token: &str,
    departement: &str,
    staff: &str,
) -> reqwest::Response {
    app.authed(Method::POST, "/api/v1/appointments", token)
        .json(&json!({
            "mode": "phone", "title": "Appel", "departement_code": departement,
            "starts_at": "2027-03-02T10:30:00Z", "ends_at": "2027-03-02T11:30:00Z",
            "staff_ids": [staff],
        }))
        .send()
        .await
        .expect("sent")
}

/// The 409 names the appointment the staff member is already booked for
/// (id, start, end) when the caller may read it, and only then.
async fn a_double_booking_names_what_it_collides_with_only_to_who_may_read_it(app: TestApp) {
    let world = app.world().await;
    let coordinator = world.account("coordinator");
    let first = app
        .post_json(
            "/api/v1/appointments",
            world.token("coordinator"),
            json!({
                "mode": "phone", "title": "Appel", "departement_code": "93",
                "starts_at": "2027-03-02T10:00:00Z", "ends_at": "2027-03-02T11:00:00Z",
                "staff_ids": [coordinator],
            }),
            201,
        )
        .await;
    // Its owner, who may read it: named.
    let seen = problem(
        phone_call(&app, world.token("coordinator"), "93", coordinator).await,
        409,
        "staff-double-booked",
    )
    .await;
    assert_eq!(seen["conflicting"]["kind"], "appointment", "{seen}");
    assert_eq!(seen["conflicting"]["id"], first["id"], "{seen}");
    assert_eq!(seen["conflicting"]["starts_at"], "2027-03-02T10:00:00Z");
    assert_eq!(seen["conflicting"]["ends_at"], "2027-03-02T11:00:00Z");
    // The supervisor (all territories): named too.
    let supervisor = problem(
        phone_call(&app, world.token("supervisor"), "13", coordinator).await,
        409,
        "staff-double-booked",
    )
    .await;
    assert_eq!(supervisor["conflicting"]["id"], first["id"]);
    // A referent of 13, who may not read an appointment of 93 they do not
    // attend: the same problem, nothing named.
    let unseen = problem(
        phone_call(&app, world.token("regional_referent"), "13", coordinator).await,
        409,
        "staff-double-booked",
    )
    .await;
    assert!(unseen.get("conflicting").is_none(), "{unseen}");
    assert!(
        !unseen
            .to_string()
            .contains(first["id"].as_str().expect("id")),
        "{unseen}"
    );
    let read = app
        .authed(
            Method::GET,
            &format!("/api/v1/appointments/{}", first["id"].as_str().expect("id")),
            world.token("regional_referent"),
        )
        .send()
        .await
        .expect("sent");
    assert_eq!(
        read.status().as_u16(),
        404,
        "the referent indeed may not read it"
    );
}

fn first_error(body: &Value) -> (String, String) {
    let error = &body["errors"][0];
    (
        error["field"].as_str().unwrap_or_default().to_owned(),
        error["message"].as_str().unwrap_or_default().to_owned(),
    )
}

/// A date-time without an offset, a date that does not exist: the problem
/// names the field and says the form expected, in bodies and queries.
async fn time_errors_say_the_form_expected(app: TestApp) {
    let world = app.world().await;
    let token = world.token("coordinator");
    let no_offset = app
        .authed(Method::POST, "/api/v1/appointments", token)
        .json(&json!({
            "mode": "phone", "title": "Appel", "departement_code": "93",
            "starts_at": "2027-03-28T02:30:00", "ends_at": "2027-03-28T03:30:00Z",
            "staff_ids": [world.account("coordinator")],
        }))
        .send()
        .await
        .expect("sent");
    let body = problem(no_offset, 400, "invalid-input").await;
    let (field, message) = first_error(&body);
    assert_eq!(field, "starts_at");
    assert!(
        message.contains("an offset (or Z) is required"),
        "{message}"
    );
    assert!(message.contains("2027-03-28T02:30:00+01:00"), "{message}");
    assert!(!message.contains("premature end of input"), "{message}");

    let query = app
        .authed(
            Method::GET,
            "/api/v1/appointments?from=2027-03-28T02:30:00&to=2027-03-29T00:00:00Z",
            token,
        )
        .send()
        .await
        .expect("sent");
    let body = problem(query, 400, "invalid-input").await;
    let (field, message) = first_error(&body);
    assert_eq!(field, "from");
    assert!(
        message.contains("an offset (or Z) is required"),
        "{message}"
    );

    let mut impossible = referral("Nour", "93", "young_person");
    impossible["person"]["birth_date"] = json!("2011-13-02");
    let response = app
        .authed(Method::POST, "/api/v1/referrals", token)
        .json(&impossible)
        .send()
        .await
        .expect("sent");
    let body = problem(response, 400, "invalid-input").await;
    let (field, message) = first_error(&body);
    assert_eq!(field, "person.birth_date");
    assert!(message.contains("no such date"), "{message}");
    assert!(message.contains("2027-03-28"), "{message}");
}

/// A partner app of organisation A holding exactly `scopes`.
async fn app_with(app: &TestApp, world: &World, scopes: &[&str]) -> String {
    let client = app
        .post_json(
            "/api/v1/clients",
            &world.admin.access,
            json!({"name": format!("app {scopes:?}"), "organisation_id": world.org_a, "scopes": scopes}),
            201,
        )
        .await;
    tokens(
        app.token_request(json!({
            "grant_type": "client_credentials", "client_id": client["id"],
            "client_secret": client["client_secret"],
        }))
        .await,
    )
    .await
    .access
}

/// Every operation a partner app can call, against an app holding each
/// scope alone: 403 exactly when the operation needs another scope.
async fn partner_app_scopes_as_a_table(app: TestApp) {
    let world = app.world().await;
    let own = app
        .post_json(
            "/api/v1/referrals",
            world.token("partner_app"),
            referral("Inès", "93", "partner_organisation"),
            201,
        )
        .await;
    let own = own["id"].as_str().expect("id").to_owned();
    let unknown = "0190a5d6-0000-7000-8000-000000000000";
    // (method, path, body, the scopes it needs; none: any partner app).
    let operations: Vec<(Method, String, Option<Value>, &[&str])> = vec![
        (Method::GET, "/api/v1/me".into(), None, &[]),
        (
            Method::GET,
            format!("/api/v1/organisations/{}", world.org_a),
            None,
            &[],
        ),
        (Method::GET, "/api/v1/resources".into(), None, &[]),
        (
            Method::GET,
            "/api/v1/referrals".into(),
            None,
            &["referrals:read"],
        ),
        (
            Method::GET,
            format!("/api/v1/referrals/{own}"),
            None,
            &["referrals:read"],
        ),
        (
            Method::GET,
            format!("/api/v1/referrals/{unknown}"),
            None,
            &["referrals:read"],
        ),
        (
            Method::POST,
            "/api/v1/referrals".into(),
            Some(referral("Awa", "93", "partner_organisation")),
            &["referrals:write"],
        ),
        (
            Method::POST,
            format!("/api/v1/referrals/{unknown}/withdraw"),
            Some(json!({"reason": "doublon"})),
            &["referrals:write"],
        ),
        (
            Method::GET,
            format!("/api/v1/shared/follow-ups/{unknown}"),
            None,
            &["follow-ups:read"],
        ),
        (
            Method::GET,
            "/api/v1/availability?departement=93&from=2027-04-01T00:00:00Z&to=2027-04-08T00:00:00Z"
                .into(),
            None,
            &["appointments:read"],
        ),
        (
            Method::GET,
            format!("/api/v1/appointments/{unknown}"),
            None,
            &["appointments:read"],
        ),
        (
            Method::POST,
            "/api/v1/availability/bookings".into(),
            Some(
                json!({"referral_id": unknown, "permanence_id": unknown, "starts_at": "2027-04-13T12:00:00Z"}),
            ),
            // Booking for a referral reads it.
            &["appointments:write", "referrals:read"],
        ),
        (Method::GET, "/api/v1/events".into(), None, &["events:read"]),
        (
            Method::GET,
            "/api/v1/webhooks".into(),
            None,
            &["events:read"],
        ),
        (
            Method::GET,
            "/api/v1/trainings".into(),
            None,
            &["trainings:write"],
        ),
        (
            Method::GET,
            "/api/v1/training-registrations".into(),
            None,
            &["trainings:write"],
        ),
        (
            Method::POST,
            format!("/api/v1/training-registrations/{unknown}/cancel"),
            None,
            &["trainings:write"],
        ),
        (
            Method::GET,
            "/api/v1/case-review-requests".into(),
            None,
            &["trainings:write"],
        ),
        (
            Method::POST,
            "/api/v1/case-review-requests".into(),
            Some(json!({})),
            &["trainings:write"],
        ),
    ];
    let grants: [&[&str]; 8] = [
        &["referrals:read"],
        &["referrals:write"],
        &["follow-ups:read"],
        &["appointments:read"],
        &["appointments:write"],
        &["events:read"],
        &["trainings:write"],
        &["appointments:write", "referrals:read"],
    ];
    let mut wrong = Vec::new();
    for scope in grants {
        let token = app_with(&app, &world, scope).await;
        for (method, path, body, needs) in &operations {
            let mut request = app.authed(method.clone(), path, &token);
            if let Some(body) = body {
                request = request.json(body);
            }
            let response = request.send().await.expect("sent");
            let status = response.status().as_u16();
            let allowed = needs.iter().all(|needed| scope.contains(needed));
            if (status == 403) == allowed || status >= 500 {
                wrong.push(format!("{scope:?} × {method} {path}: {status}"));
            }
        }
    }
    assert!(wrong.is_empty(), "scope × operation:\n{}", wrong.join("\n"));
}

/// A coordinator of 75/93 may not submit a referral for 13 (403, nothing
/// written); a supervisor may and is sent to it; an app that may write
/// referrals but not read them gets its 201 without `Location`.
async fn no_creator_is_sent_to_a_location_it_cannot_read(app: TestApp) {
    let world = app.world().await;
    let count = |app: &TestApp, world: &World| {
        let request = app.authed(
            Method::GET,
            "/api/v1/referrals?limit=200",
            world.token("supervisor"),
        );
        async move {
            let body = json(request.send().await.expect("sent"), 200).await;
            body["items"].as_array().map_or(0, Vec::len)
        }
    };
    let before = count(&app, &world).await;
    let refused = app
        .authed(
            Method::POST,
            "/api/v1/referrals",
            world.token("coordinator"),
        )
        .json(&referral("Yasmine", "13", "young_person"))
        .send()
        .await
        .expect("sent");
    assert!(refused.headers().get("location").is_none());
    let body = problem(refused, 403, "forbidden").await;
    assert!(
        body["detail"]
            .as_str()
            .unwrap_or_default()
            .contains("75, 93"),
        "{body}"
    );
    assert_eq!(count(&app, &world).await, before, "nothing was written");

    for (token, departement) in [
        (world.token("coordinator").to_owned(), "93"),
        (world.token("supervisor").to_owned(), "13"),
        (world.token("partner_app").to_owned(), "13"),
    ] {
        let created = app
            .authed(Method::POST, "/api/v1/referrals", &token)
            .json(&referral(
                "Maya",
                departement,
                if token == world.token("partner_app") {
                    "partner_organisation"
                } else {
                    "young_person"
                },
            ))
            .send()
            .await
            .expect("sent");
        assert_eq!(created.status().as_u16(), 201);
        let location = created
            .headers()
            .get("location")
            .and_then(|v| v.to_str().ok())
            .expect("Location")
            .to_owned();
        app.get_json(&location, &token, 200).await;
    }

    let write_only = app_with(&app, &world, &["referrals:write"]).await;
    let created = app
        .authed(Method::POST, "/api/v1/referrals", &write_only)
        .header("Idempotency-Key", "write-only-1")
        .json(&referral("Sofia", "93", "partner_organisation"))
        .send()
        .await
        .expect("sent");
    assert_eq!(created.status().as_u16(), 201);
    assert!(
        created.headers().get("location").is_none(),
        "no Location it cannot read"
    );
    let body = json(created, 201).await;
    let id = body["id"].as_str().expect("id");
    let read = app
        .authed(Method::GET, &format!("/api/v1/referrals/{id}"), &write_only)
        .send()
        .await
        .expect("sent");
    assert_eq!(read.status().as_u16(), 403, "it indeed may not read it");
}

/// A weekly Sunday permanence at 02:00–03:00 local: on 28 March 2027 (the
/// hour does not exist) it is 03:00–04:00 summer time, on 31 October (it
/// happens twice) the first 02:00–03:00; always an hour, in the feed too.
async fn permanence_hours_in_a_change_of_time_keep_their_length(app: TestApp) {
    let world = app.world().await;
    let site_id = site(&app, &world, "Maison des ados", "93").await;
    let permanence = app
        .post_json(
            "/api/v1/permanences",
            world.token("coordinator"),
            json!({
                "site_id": site_id, "title": "Permanence de nuit",
                "rrule": "FREQ=WEEKLY;BYDAY=SU", "dtstart": "2027-03-21",
                "part_of_day": "explicit", "start_time": "02:00", "end_time": "03:00",
                "audience": "all", "staff_ids": [world.account("coordinator")]
            }),
            201,
        )
        .await;
    let id = permanence["id"].as_str().expect("id");
    let spring = occurrences(
        &app,
        &world,
        id,
        "2027-03-27T00:00:00Z",
        "2027-03-29T00:00:00Z",
    )
    .await;
    assert_eq!(spring.len(), 1, "{spring:?}");
    assert_eq!(spring[0]["starts_at"], "2027-03-28T03:00:00+02:00");
    assert_eq!(spring[0]["ends_at"], "2027-03-28T04:00:00+02:00");
    let autumn = occurrences(
        &app,
        &world,
        id,
        "2027-10-30T00:00:00Z",
        "2027-11-01T00:00:00Z",
    )
    .await;
    assert_eq!(autumn.len(), 1, "{autumn:?}");
    assert_eq!(autumn[0]["starts_at"], "2027-10-31T02:00:00+02:00");
    assert_eq!(autumn[0]["ends_at"], "2027-10-31T02:00:00+01:00");
    // And a first meeting can be booked in the spring occurrence.
    let slots = app
        .get_json(
            "/api/v1/availability?departement=93&from=2027-03-28T00:00:00Z&to=2027-03-29T00:00:00Z&duration=60",
            world.token("coordinator"),
            200,
        )
        .await;
    assert_eq!(slots.as_array().map(Vec::len), Some(1), "{slots}");
    assert_eq!(slots[0]["starts_at"], "2027-03-28T03:00:00+02:00");
}

/// Whether `body` satisfies the directory's coverage rule as the published
/// document states it (its `if`/`then`/`else`, evaluated for the keywords
/// it uses).
fn coverage_rule_holds(rule: &Value, body: &Value) -> bool {
    let matches = |schema: &Value| {
        let required = schema["required"].as_array().cloned().unwrap_or_default();
        if !required
            .iter()
            .all(|f| body.get(f.as_str().unwrap_or_default()).is_some())
        {
            return false;
        }
        let properties = schema["properties"]
            .as_object()
            .cloned()
            .unwrap_or_default();
        properties.iter().all(|(field, constraint)| {
            let Some(value) = body.get(field) else {
                return true;
            };
            let length = value.as_array().map_or(0, Vec::len) as u64;
            constraint.get("const").is_none_or(|c| c == value)
                && constraint["minItems"]
                    .as_u64()
                    .is_none_or(|min| length >= min)
                && constraint["maxItems"]
                    .as_u64()
                    .is_none_or(|max| length <= max)
        })
    };
    if matches(&rule["if"]) {
        matches(&rule["then"])
    } else {
        matches(&rule["else"])
    }
}

/// `national` and `departements`: the document says the rule (OpenAPI 3.1
/// `if`/`then`/`else`) and the server answers every combination as the
/// rule says (201 when it holds, 422 naming `departements` otherwise).
async fn the_directory_coverage_rule_is_in_the_schema_and_the_server_agrees(app: TestApp) {
    let admin = app.bootstrap_admin().await;
    let document = app
        .get_json("/api/v1/openapi.json", &admin.access, 200)
        .await;
    let rule = &document["components"]["schemas"]["DirectoryEntryInput"];
    assert!(
        rule.get("if").is_some() && rule.get("then").is_some() && rule.get("else").is_some(),
        "{rule}"
    );
    let mut seen = (0, 0);
    for national in [None, Some(false), Some(true)] {
        for departements in [
            None,
            Some(json!([])),
            Some(json!(["93"])),
            Some(json!(["75", "93"])),
        ] {
            let mut body =
                json!({"name": "Service", "category": "helpline", "phone": "01 02 03 04 05"});
            if let Some(national) = national {
                body["national"] = json!(national);
            }
            if let Some(departements) = &departements {
                body["departements"] = departements.clone();
            }
            let holds = coverage_rule_holds(rule, &body);
            let response = app
                .authed(Method::POST, "/api/v1/directory", &admin.access)
                .json(&body)
                .send()
                .await
                .expect("sent");
            if holds {
                seen.0 += 1;
                json(response, 201).await;
            } else {
                seen.1 += 1;
                let problem = problem(response, 422, "invalid-value").await;
                assert_eq!(problem["errors"][0]["field"], "departements", "{body}");
            }
        }
    }
    assert_eq!(seen, (6, 6), "both branches tried");
}
