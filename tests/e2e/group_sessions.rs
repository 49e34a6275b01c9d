//! Group sessions end to end: staff booked on every day of a course,
//! partner and venue rules, capacity with a waitlist (also under concurrent
//! registrations), status changes, attendance, authorization.

use chrono::{DateTime, Duration, Utc};
use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::{PASSWORD, TestApp, World, join_all, json, problem};

crate::both_backends!(
    a_course_occupies_its_staff_on_all_three_days,
    session_rules_are_named,
    a_freed_place_goes_to_the_waitlist,
    concurrent_registrations_never_exceed_capacity,
    held_after_start_attendance_and_cancelling_frees_staff,
    sessions_are_listed_and_guarded,
);

/// Midnight UTC `days` from today.
fn day(days: i64) -> DateTime<Utc> {
    (Utc::now() + Duration::days(days))
        .date_naive()
        .and_hms_opt(0, 0, 0)
        .expect("midnight")
        .and_utc()
}

fn at(days: i64, hour: i64) -> String {
    (day(days) + Duration::hours(hour)).to_rfc3339()
}

/// A session body: `kind` on day `d`, `from`–`to` o'clock UTC, in person.
fn session(kind: &str, d: i64, from: i64, to: i64, staff: &[&str], departement: &str) -> Value {
    json!({
        "kind": kind,
        "title": format!("Séance {kind}"),
        "mode": "in_person",
        "venue": "Maison des associations, salle 2",
        "departement_code": departement,
        "starts_at": at(d, from),
        "ends_at": at(d, to),
        "staff_ids": staff,
        "audience": "all",
    })
}

async fn create(app: &TestApp, token: &str, body: Value) -> reqwest::Response {
    app.authed(Method::POST, "/api/v1/group-sessions", token)
        .json(&body)
        .send()
        .await
        .expect("sent")
}

fn etag(response: &reqwest::Response) -> String {
    response.headers()["etag"]
        .to_str()
        .expect("etag")
        .to_owned()
}

fn id_of(body: &Value) -> String {
    body["id"].as_str().expect("id").to_owned()
}

/// `method path` with `If-Match` and a JSON body.
async fn with_etag(
    app: &TestApp,
    method: Method,
    token: &str,
    path: &str,
    etag: &str,
    body: Value,
) -> reqwest::Response {
    app.authed(method, path, token)
        .header("If-Match", etag)
        .json(&body)
        .send()
        .await
        .expect("sent")
}

async fn register(app: &TestApp, token: &str, session: &str, name: &str) -> reqwest::Response {
    app.authed(
        Method::POST,
        &format!("/api/v1/group-sessions/{session}/registrations"),
        token,
    )
    .json(&json!({"participant_name": name, "category": "parents"}))
    .send()
    .await
    .expect("sent")
}

async fn registrations(app: &TestApp, token: &str, session: &str) -> Vec<Value> {
    app.get_json(
        &format!("/api/v1/group-sessions/{session}/registrations"),
        token,
        200,
    )
    .await["items"]
        .as_array()
        .expect("items")
        .clone()
}

fn course(world: &World, partner: &str, d: i64) -> Value {
    let mut body = session(
        "perpetrator_course",
        d,
        8,
        16,
        &[
            world.account("coordinator"),
            world.account("regional_referent"),
        ],
        "75",
    );
    body["partner_organisation_id"] = json!(partner);
    body["audience"] = json!("young_people");
    body
}

async fn a_course_occupies_its_staff_on_all_three_days(app: TestApp) {
    let world = app.world().await;
    let supervisor = world.token("supervisor");
    let response = create(&app, supervisor, course(&world, &world.org_b, 10)).await;
    assert_eq!(etag(&response), "\"v1\"");
    let created = json(response, 201).await;
    assert_eq!(created["status"], "planned");
    assert_eq!(created["partner_organisation_id"], world.org_b);
    let days = created["days"].as_array().expect("days");
    assert_eq!(days.len(), 3, "{created}");
    for (i, d) in days.iter().enumerate() {
        let i = i64::try_from(i).expect("small");
        assert_eq!(
            d["starts_at"]
                .as_str()
                .map(|s| s.parse::<DateTime<Utc>>().expect("instant")),
            Some(day(10 + i) + Duration::hours(8))
        );
        assert_eq!(
            d["ends_at"]
                .as_str()
                .map(|s| s.parse::<DateTime<Utc>>().expect("instant")),
            Some(day(10 + i) + Duration::hours(16))
        );
    }
    let mut staff = vec![
        world.account("coordinator"),
        world.account("regional_referent"),
    ];
    staff.sort();
    assert_eq!(created["staff_ids"], json!(staff));

    // The third day of the course, for one of its staff: refused.
    let review = |d: i64| {
        session(
            "case_review",
            d,
            10,
            12,
            &[world.account("regional_referent")],
            "75",
        )
    };
    problem(
        create(&app, supervisor, review(12)).await,
        409,
        "staff-double-booked",
    )
    .await;
    // The second day too; the day after the course is free.
    problem(
        create(&app, supervisor, review(11)).await,
        409,
        "staff-double-booked",
    )
    .await;
    json(create(&app, supervisor, review(13)).await, 201).await;
    // Someone else on day 3: fine.
    json(
        create(
            &app,
            supervisor,
            session(
                "case_review",
                12,
                10,
                12,
                &[world.account("supervisor")],
                "75",
            ),
        )
        .await,
        201,
    )
    .await;
    // A refused session leaves nothing behind.
    let listed = app
        .get_json("/api/v1/group-sessions?kind=case_review", supervisor, 200)
        .await;
    assert_eq!(listed["items"].as_array().expect("items").len(), 2);
}

async fn session_rules_are_named(app: TestApp) {
    let world = app.world().await;
    let supervisor = world.token("supervisor");
    // A course is organised with a justice or PJJ organisation.
    problem(
        create(&app, supervisor, course(&world, &world.school, 10)).await,
        422,
        "course-partner-missing",
    )
    .await;
    let mut no_partner = course(&world, &world.org_b, 10);
    no_partner["partner_organisation_id"] = Value::Null;
    problem(
        create(&app, supervisor, no_partner).await,
        422,
        "course-partner-missing",
    )
    .await;
    // Parent groups meet in person.
    let mut remote = session(
        "parent_group",
        10,
        17,
        19,
        &[world.account("coordinator")],
        "93",
    );
    remote["mode"] = json!("remote");
    remote["venue"] = Value::Null;
    remote["remote_link"] = json!("https://visio.example.fr/groupe");
    problem(
        create(&app, supervisor, remote.clone()).await,
        422,
        "remote-not-allowed",
    )
    .await;
    // A remote case review needs an https link.
    remote["kind"] = json!("case_review");
    remote["remote_link"] = json!("http://visio.example.fr/groupe");
    let body = problem(
        create(&app, supervisor, remote.clone()).await,
        400,
        "invalid-input",
    )
    .await;
    assert_eq!(body["errors"][0]["field"], "remote_link", "{body}");
    remote["remote_link"] = Value::Null;
    problem(
        create(&app, supervisor, remote.clone()).await,
        422,
        "venue-missing",
    )
    .await;
    remote["remote_link"] = json!("https://visio.example.fr/groupe");
    let created = json(create(&app, supervisor, remote).await, 201).await;
    assert_eq!(created["mode"], "remote");
    // Ends before it starts; a day longer than 10 hours.
    problem(
        create(
            &app,
            supervisor,
            session(
                "parent_group",
                10,
                19,
                17,
                &[world.account("coordinator")],
                "93",
            ),
        )
        .await,
        422,
        "end-before-start",
    )
    .await;
    problem(
        create(
            &app,
            supervisor,
            session(
                "parent_group",
                10,
                7,
                18,
                &[world.account("coordinator")],
                "93",
            ),
        )
        .await,
        422,
        "too-long",
    )
    .await;
    // Staff are active staff accounts.
    for staff in [
        uuid::Uuid::new_v4().to_string(),
        world.account("analyst").to_owned(),
    ] {
        let body = problem(
            create(
                &app,
                supervisor,
                session("parent_group", 10, 17, 19, &[staff.as_str()], "93"),
            )
            .await,
            422,
            "invalid-value",
        )
        .await;
        assert_eq!(body["errors"][0]["field"], "staff_ids", "{body}");
    }
    // Unknown fields and a capacity out of range are malformed.
    let mut extra = session(
        "parent_group",
        10,
        17,
        19,
        &[world.account("coordinator")],
        "93",
    );
    extra["colour"] = json!("blue");
    problem(create(&app, supervisor, extra).await, 400, "invalid-input").await;
    let mut big = session(
        "parent_group",
        10,
        17,
        19,
        &[world.account("coordinator")],
        "93",
    );
    big["capacity"] = json!(501);
    let body = problem(create(&app, supervisor, big).await, 400, "invalid-input").await;
    assert_eq!(body["errors"][0]["field"], "capacity", "{body}");
    // Territory: a coordinator (75, 93) plans in 13 only when on its staff.
    let coordinator = world.token("coordinator");
    let elsewhere = session(
        "parent_group",
        20,
        17,
        19,
        &[world.account("regional_referent")],
        "13",
    );
    problem(create(&app, coordinator, elsewhere).await, 403, "forbidden").await;
    let staffed = session(
        "parent_group",
        20,
        17,
        19,
        &[world.account("coordinator")],
        "13",
    );
    json(create(&app, coordinator, staffed).await, 201).await;
    // Analysts and admins do not plan sessions.
    for role in ["analyst", "admin"] {
        problem(
            create(
                &app,
                world.token(role),
                session(
                    "parent_group",
                    21,
                    17,
                    19,
                    &[world.account("coordinator")],
                    "93",
                ),
            )
            .await,
            403,
            "forbidden",
        )
        .await;
    }
}

async fn a_freed_place_goes_to_the_waitlist(app: TestApp) {
    let world = app.world().await;
    let coordinator = world.token("coordinator");
    let mut body = session(
        "parent_group",
        10,
        17,
        19,
        &[world.account("coordinator")],
        "93",
    );
    body["capacity"] = json!(2);
    let created = json(create(&app, coordinator, body).await, 201).await;
    let id = id_of(&created);
    let mut places = Vec::new();
    let mut ids = Vec::new();
    for name in ["Mme Martin", "M. Benali", "Mme Kone"] {
        let registration = json(register(&app, coordinator, &id, name).await, 201).await;
        places.push(registration["status"].as_str().expect("status").to_owned());
        ids.push(id_of(&registration));
    }
    assert_eq!(places, ["confirmed", "confirmed", "waitlisted"]);
    let read = app
        .get_json(&format!("/api/v1/group-sessions/{id}"), coordinator, 200)
        .await;
    assert_eq!(
        (read["confirmed"].clone(), read["waitlisted"].clone()),
        (json!(2), json!(1))
    );

    // Cancelling a waitlisted registration promotes no one.
    let fourth = json(register(&app, coordinator, &id, "M. Petit").await, 201).await;
    assert_eq!(fourth["status"], "waitlisted");
    let cancel = |registration: &str| {
        app.authed(
            Method::POST,
            &format!("/api/v1/group-sessions/{id}/registrations/{registration}/cancel"),
            coordinator,
        )
        .send()
    };
    let cancelled = json(cancel(&id_of(&fourth)).await.expect("sent"), 200).await;
    assert_eq!(cancelled["status"], "cancelled");
    // Cancelling a confirmed one promotes the oldest waitlisted.
    json(cancel(&ids[0]).await.expect("sent"), 200).await;
    let items = registrations(&app, coordinator, &id).await;
    let status_of = |rid: &str| {
        items
            .iter()
            .find(|r| r["id"] == rid)
            .map(|r| r["status"].as_str().expect("status").to_owned())
            .expect("listed")
    };
    assert_eq!(status_of(&ids[0]), "cancelled");
    assert_eq!(status_of(&ids[1]), "confirmed");
    assert_eq!(status_of(&ids[2]), "confirmed");
    assert_eq!(status_of(&id_of(&fourth)), "cancelled");
    assert_eq!(items[1]["participant_name"], "M. Benali");
    // Twice: a conflict; an unknown registration: 404.
    problem(
        cancel(&ids[0]).await.expect("sent"),
        409,
        "registration-cancelled",
    )
    .await;
    problem(
        cancel(&uuid::Uuid::new_v4().to_string())
            .await
            .expect("sent"),
        404,
        "not-found",
    )
    .await;
    let read = app
        .get_json(&format!("/api/v1/group-sessions/{id}"), coordinator, 200)
        .await;
    assert_eq!(
        (read["confirmed"].clone(), read["waitlisted"].clone()),
        (json!(2), json!(0))
    );

    // Participants' names: not for analysts, nor for a referent of another
    // territory; supervisors see them.
    problem(
        app.authed(
            Method::GET,
            &format!("/api/v1/group-sessions/{id}/registrations"),
            world.token("analyst"),
        )
        .send()
        .await
        .expect("sent"),
        403,
        "forbidden",
    )
    .await;
    problem(
        register(&app, world.token("regional_referent"), &id, "X").await,
        403,
        "forbidden",
    )
    .await;
    assert_eq!(
        registrations(&app, world.token("supervisor"), &id)
            .await
            .len(),
        4
    );
    // Registration reads and writes are audited.
    let audit = app
        .get_json(
            &format!("/api/v1/audit?resource_id={id}"),
            world.token("supervisor"),
            200,
        )
        .await;
    let actions: Vec<&str> = audit["items"]
        .as_array()
        .expect("items")
        .iter()
        .filter_map(|e| e["action"].as_str())
        .collect();
    for action in [
        "create_group_session",
        "create_group_registration",
        "cancel_group_registration",
        "read_group_registrations",
        "read_group_session",
    ] {
        assert!(actions.contains(&action), "{action} in {actions:?}");
    }
}

async fn concurrent_registrations_never_exceed_capacity(app: TestApp) {
    let world = app.world().await;
    let coordinator = world.token("coordinator");
    let mut body = session(
        "prevention_workshop",
        10,
        9,
        12,
        &[world.account("coordinator")],
        "93",
    );
    body["capacity"] = json!(5);
    let id = id_of(&json(create(&app, coordinator, body).await, 201).await);
    let names: Vec<String> = (0..24).map(|i| format!("Élève {i}")).collect();
    let responses = join_all(
        names
            .iter()
            .map(|name| register(&app, coordinator, &id, name))
            .collect(),
    )
    .await;
    let mut confirmed = 0;
    let mut waitlisted = 0;
    for response in responses {
        let registration = json(response, 201).await;
        match registration["status"].as_str() {
            Some("confirmed") => confirmed += 1,
            Some("waitlisted") => waitlisted += 1,
            other => panic!("unexpected status {other:?}"),
        }
    }
    assert_eq!((confirmed, waitlisted), (5, 19));
    let read = app
        .get_json(&format!("/api/v1/group-sessions/{id}"), coordinator, 200)
        .await;
    assert_eq!(
        (read["confirmed"].clone(), read["waitlisted"].clone()),
        (json!(5), json!(19))
    );
    // The waitlist is in order of registration: the five oldest are confirmed.
    let items = registrations(&app, coordinator, &id).await;
    let statuses: Vec<&str> = items
        .iter()
        .map(|r| r["status"].as_str().expect("status"))
        .collect();
    assert_eq!(statuses[..5], ["confirmed"; 5], "{statuses:?}");
}

async fn held_after_start_attendance_and_cancelling_frees_staff(app: TestApp) {
    let world = app.world().await;
    let supervisor = world.token("supervisor").to_owned();
    let soon = Utc::now() + Duration::minutes(10);
    let mut body = session(
        "awareness_session",
        0,
        0,
        1,
        &[world.account("regional_referent")],
        "13",
    );
    body["starts_at"] = json!(soon.to_rfc3339());
    body["ends_at"] = json!((soon + Duration::hours(2)).to_rfc3339());
    let response = create(&app, &supervisor, body).await;
    let version = etag(&response);
    let id = id_of(&json(response, 201).await);
    let first = id_of(&json(register(&app, &supervisor, &id, "Mme Martin").await, 201).await);
    let second = id_of(&json(register(&app, &supervisor, &id, "M. Benali").await, 201).await);
    let read = app
        .authed(
            Method::GET,
            &format!("/api/v1/group-sessions/{id}"),
            &supervisor,
        )
        .send()
        .await
        .expect("sent");
    let current = etag(&read);
    assert_ne!(current, version, "registrations change the version");
    let status = format!("/api/v1/group-sessions/{id}/status");
    let attendance = format!("/api/v1/group-sessions/{id}/attendance");
    let record = json!({
        "present": [first],
        "absent": [second],
        "headcounts": [
            {"category": "young_people", "age_band": "13_14", "count": 12.0},
            {"category": "professionals", "age_band": "22_and_over", "count": 3},
        ],
    });
    // Not yet started: not held, no attendance.
    problem(
        with_etag(
            &app,
            Method::POST,
            &supervisor,
            &status,
            &current,
            json!({"status": "held"}),
        )
        .await,
        409,
        "group-session-transition-not-allowed",
    )
    .await;
    problem(
        with_etag(
            &app,
            Method::PUT,
            &supervisor,
            &attendance,
            &current,
            record.clone(),
        )
        .await,
        422,
        "group-session-not-started",
    )
    .await;

    app.advance(Duration::minutes(20));
    let supervisor = app.login("supervisor@test.example", PASSWORD).await.access;
    // If-Match is needed and must be current.
    problem(
        app.authed(Method::PUT, &attendance, &supervisor)
            .json(&record)
            .send()
            .await
            .expect("sent"),
        428,
        "precondition-required",
    )
    .await;
    problem(
        with_etag(
            &app,
            Method::PUT,
            &supervisor,
            &attendance,
            &version,
            record.clone(),
        )
        .await,
        412,
        "precondition-failed",
    )
    .await;
    // Unknown registrations are named.
    let body = problem(
        with_etag(
            &app,
            Method::PUT,
            &supervisor,
            &attendance,
            &current,
            json!({"present": [uuid::Uuid::new_v4().to_string()]}),
        )
        .await,
        422,
        "invalid-value",
    )
    .await;
    assert_eq!(body["errors"][0]["field"], "present", "{body}");
    let response = with_etag(
        &app,
        Method::PUT,
        &supervisor,
        &attendance,
        &current,
        record,
    )
    .await;
    let current = etag(&response);
    let recorded = json(response, 200).await;
    assert_eq!(
        recorded["headcounts"],
        json!([
            {"category": "professionals", "age_band": "22_and_over", "count": 3},
            {"category": "young_people", "age_band": "13_14", "count": 12},
        ]),
        "{recorded}"
    );
    let items = registrations(&app, &supervisor, &id).await;
    let presence: Vec<(&str, &Value)> = items
        .iter()
        .map(|r| (r["id"].as_str().expect("id"), &r["present"]))
        .collect();
    assert_eq!(
        presence,
        [
            (first.as_str(), &json!(true)),
            (second.as_str(), &json!(false))
        ]
    );
    let read = app
        .get_json(&format!("/api/v1/group-sessions/{id}"), &supervisor, 200)
        .await;
    assert_eq!(read["headcounts"], recorded["headcounts"]);

    // Started: held; then no more registrations, no cancelling.
    let response = with_etag(
        &app,
        Method::POST,
        &supervisor,
        &status,
        &current,
        json!({"status": "held"}),
    )
    .await;
    let current = etag(&response);
    assert_eq!(json(response, 200).await["status"], "held");
    problem(
        register(&app, &supervisor, &id, "En retard").await,
        409,
        "group-session-not-planned",
    )
    .await;
    problem(
        with_etag(
            &app,
            Method::POST,
            &supervisor,
            &status,
            &current,
            json!({"status": "cancelled"}),
        )
        .await,
        409,
        "group-session-transition-not-allowed",
    )
    .await;

    // Cancelling frees the staff: a new session at the same time then fits.
    let staff = [world.account("coordinator")];
    let planned = session("action_training", 15, 9, 17, &staff, "93");
    let response = create(&app, &supervisor, planned.clone()).await;
    let version = etag(&response);
    let planned_id = id_of(&json(response, 201).await);
    problem(
        create(&app, &supervisor, planned.clone()).await,
        409,
        "staff-double-booked",
    )
    .await;
    let cancelled = json(
        with_etag(
            &app,
            Method::POST,
            &supervisor,
            &format!("/api/v1/group-sessions/{planned_id}/status"),
            &version,
            json!({"status": "cancelled"}),
        )
        .await,
        200,
    )
    .await;
    assert_eq!(cancelled["status"], "cancelled");
    json(create(&app, &supervisor, planned).await, 201).await;
    problem(
        register(&app, &supervisor, &planned_id, "Trop tard").await,
        409,
        "group-session-not-planned",
    )
    .await;
}

async fn sessions_are_listed_and_guarded(app: TestApp) {
    let world = app.world().await;
    let coordinator = world.token("coordinator");
    let first = json(
        create(
            &app,
            coordinator,
            session(
                "parent_group",
                5,
                17,
                19,
                &[world.account("coordinator")],
                "93",
            ),
        )
        .await,
        201,
    )
    .await;
    let second = json(
        create(
            &app,
            coordinator,
            session(
                "prevention_workshop",
                40,
                9,
                12,
                &[world.account("coordinator")],
                "75",
            ),
        )
        .await,
        201,
    )
    .await;
    // Every staff member sees every session; the window is bounded.
    let listed = app
        .get_json(
            &format!(
                "/api/v1/group-sessions?from={}&to={}&limit=1",
                urlencode(&at(0, 0)),
                urlencode(&at(60, 0))
            ),
            world.token("regional_referent"),
            200,
        )
        .await;
    assert_eq!(listed["items"][0]["id"], first["id"], "{listed}");
    let cursor = listed["next_cursor"].as_str().expect("a next page");
    let next = app
        .get_json(
            &format!(
                "/api/v1/group-sessions?from={}&to={}&limit=1&cursor={cursor}",
                urlencode(&at(0, 0)),
                urlencode(&at(60, 0))
            ),
            world.token("admin"),
            200,
        )
        .await;
    assert_eq!(next["items"][0]["id"], second["id"], "{next}");
    assert!(next["next_cursor"].is_null());
    let by_departement = app
        .get_json("/api/v1/group-sessions?departement=75", coordinator, 200)
        .await;
    assert_eq!(by_departement["items"].as_array().expect("items").len(), 1);
    assert_eq!(by_departement["items"][0]["id"], second["id"]);
    let late = app
        .get_json(
            &format!("/api/v1/group-sessions?from={}", urlencode(&at(10, 0))),
            coordinator,
            200,
        )
        .await;
    assert_eq!(late["items"].as_array().expect("items").len(), 1);
    let body = problem(
        app.authed(
            Method::GET,
            &format!(
                "/api/v1/group-sessions?from={}&to={}",
                urlencode(&at(0, 0)),
                urlencode(&at(400, 0))
            ),
            coordinator,
        )
        .send()
        .await
        .expect("sent"),
        422,
        "invalid-value",
    )
    .await;
    assert_eq!(body["errors"][0]["field"], "to", "{body}");
    // Analysts and partners: 403; an unknown id: 404.
    for role in ["analyst", "partner"] {
        problem(
            app.authed(Method::GET, "/api/v1/group-sessions", world.token(role))
                .send()
                .await
                .expect("sent"),
            403,
            "forbidden",
        )
        .await;
    }
    problem(
        app.authed(
            Method::GET,
            &format!("/api/v1/group-sessions/{}", id_of(&first)),
            world.token("analyst"),
        )
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
            &format!("/api/v1/group-sessions/{}", uuid::Uuid::new_v4()),
            coordinator,
        )
        .send()
        .await
        .expect("sent"),
        404,
        "not-found",
    )
    .await;
    problem(
        register(&app, coordinator, &uuid::Uuid::new_v4().to_string(), "X").await,
        404,
        "not-found",
    )
    .await;
    // A referent of another territory reads but does not change it.
    let read = app
        .authed(
            Method::GET,
            &format!("/api/v1/group-sessions/{}", id_of(&first)),
            world.token("regional_referent"),
        )
        .send()
        .await
        .expect("sent");
    let version = etag(&read);
    json(read, 200).await;
    problem(
        with_etag(
            &app,
            Method::POST,
            world.token("regional_referent"),
            &format!("/api/v1/group-sessions/{}/status", id_of(&first)),
            &version,
            json!({"status": "cancelled"}),
        )
        .await,
        403,
        "forbidden",
    )
    .await;
}

/// Percent-encodes the `+` and `:` of an RFC 3339 instant for a query.
fn urlencode(value: &str) -> String {
    value.replace('+', "%2B").replace(':', "%3A")
}
