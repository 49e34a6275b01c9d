//! Sites, permanences, appointments and availability end to end: DST-proof
//! recurrences with exceptions, the rules of a booking, no double-booking
//! under concurrent requests, partners booking first meetings.

use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::{TestApp, World, join_all, json, problem};

crate::both_backends!(
    monthly_permanence_stays_at_local_time_across_dst_with_exceptions,
    split_changes_this_and_following_occurrences,
    appointment_rules_are_named_problems,
    concurrent_conflicting_bookings_let_exactly_one_through,
    partner_books_a_free_slot_for_its_own_referral_only,
    permanence_input_errors_say_what_is_wrong,
    a_failed_site_lookup_is_not_an_unknown_site,
);

pub async fn site(app: &TestApp, world: &World, name: &str, departement: &str) -> String {
    let body = app
        .post_json(
            "/api/v1/sites",
            world.token("coordinator"),
            json!({
                "name": name, "kind": "youth_centre", "address": "12 rue de la République",
                "postcode": "77100", "city": "Meaux", "departement_code": departement,
                "latitude": 48.96, "longitude": 2.88, "public": true
            }),
            201,
        )
        .await;
    body["id"].as_str().expect("id").to_owned()
}

/// A "2nd Tuesday, 14:00–17:00" permanence held by the coordinator.
pub async fn second_tuesdays(app: &TestApp, world: &World, site_id: &str) -> Value {
    app.post_json(
        "/api/v1/permanences",
        world.token("coordinator"),
        json!({
            "site_id": site_id, "title": "Permanence du 2e mardi",
            "rrule": "FREQ=MONTHLY;BYDAY=2TU", "dtstart": "2027-01-01",
            "part_of_day": "explicit", "start_time": "14:00", "end_time": "17:00",
            "audience": "all", "staff_ids": [world.account("coordinator")]
        }),
        201,
    )
    .await
}

async fn with_etag(
    app: &TestApp,
    method: Method,
    path: &str,
    token: &str,
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

fn etag(response: &reqwest::Response) -> String {
    response.headers()["etag"]
        .to_str()
        .expect("etag")
        .to_owned()
}

pub async fn occurrences(
    app: &TestApp,
    world: &World,
    id: &str,
    from: &str,
    to: &str,
) -> Vec<Value> {
    app.get_json(
        &format!("/api/v1/permanences/{id}/occurrences?from={from}&to={to}"),
        world.token("coordinator"),
        200,
    )
    .await
    .as_array()
    .expect("list")
    .clone()
}

async fn monthly_permanence_stays_at_local_time_across_dst_with_exceptions(app: TestApp) {
    let world = app.world().await;
    let site_id = site(&app, &world, "Maison des ados de Meaux", "93").await;
    let permanence = second_tuesdays(&app, &world, &site_id).await;
    let id = permanence["id"].as_str().expect("id");
    assert_eq!(permanence["rrule"], "FREQ=MONTHLY;BYDAY=2TU");

    // Cancel the March occurrence (the day-after of no DST change, but the
    // month of it) and move the October one by a day.
    let cancelled = with_etag(
        &app,
        Method::PUT,
        &format!("/api/v1/permanences/{id}/occurrences/2027-03-09"),
        world.token("coordinator"),
        "\"v1\"",
        json!({"status": "cancelled", "reason": "formation de l'équipe"}),
    )
    .await;
    let next = etag(&cancelled);
    json(cancelled, 200).await;
    let moved = with_etag(
        &app,
        Method::PUT,
        &format!("/api/v1/permanences/{id}/occurrences/2027-10-12"),
        world.token("coordinator"),
        &next,
        json!({"status": "moved", "starts_at": "2027-10-13T12:00:00Z", "ends_at": "2027-10-13T15:00:00Z"}),
    )
    .await;
    json(moved, 200).await;

    let all = occurrences(
        &app,
        &world,
        id,
        "2027-01-01T00:00:00Z",
        "2028-01-01T00:00:00Z",
    )
    .await;
    let by_date = |date: &str| {
        all.iter()
            .find(|o| o["original_date"] == date)
            .unwrap_or_else(|| panic!("occurrence {date} in {all:?}"))
            .clone()
    };
    assert_eq!(all.len(), 12, "one per month: {all:?}");
    // Winter: 14:00 at +01:00; summer: 14:00 at +02:00.
    let february = by_date("2027-02-09");
    assert_eq!(february["starts_at"], "2027-02-09T14:00:00+01:00");
    assert_eq!(february["ends_at"], "2027-02-09T17:00:00+01:00");
    assert_eq!(february["status"], "scheduled");
    let march = by_date("2027-03-09");
    assert_eq!(march["status"], "cancelled");
    assert_eq!(march["starts_at"], "2027-03-09T14:00:00+01:00");
    let april = by_date("2027-04-13");
    assert_eq!(april["starts_at"], "2027-04-13T14:00:00+02:00");
    let october = by_date("2027-10-12");
    assert_eq!(october["status"], "moved");
    assert_eq!(october["starts_at"], "2027-10-13T14:00:00+02:00");
    let november = by_date("2027-11-09");
    assert_eq!(november["starts_at"], "2027-11-09T14:00:00+01:00");
    // Every scheduled occurrence is a 2nd Tuesday at 14:00 local.
    for o in all.iter().filter(|o| o["status"] == "scheduled") {
        let start = chrono::DateTime::parse_from_rfc3339(o["starts_at"].as_str().expect("start"))
            .expect("rfc3339");
        assert_eq!(start.format("%H:%M %a").to_string(), "14:00 Tue", "{o}");
        assert!((8..=14).contains(&start.format("%d").to_string().parse::<u32>().expect("day")));
    }

    // Restoring March brings it back; a date that is not an occurrence is 404.
    let current = app
        .authed(
            Method::GET,
            &format!("/api/v1/permanences/{id}"),
            world.token("coordinator"),
        )
        .send()
        .await
        .expect("sent");
    let current_etag = etag(&current);
    let restored = app
        .authed(
            Method::DELETE,
            &format!("/api/v1/permanences/{id}/occurrences/2027-03-09"),
            world.token("coordinator"),
        )
        .header("If-Match", &current_etag)
        .send()
        .await
        .expect("sent");
    let restored = json(restored, 200).await;
    assert_eq!(restored["exceptions"].as_array().map(Vec::len), Some(1));
    let not_an_occurrence = with_etag(
        &app,
        Method::PUT,
        &format!("/api/v1/permanences/{id}/occurrences/2027-03-10"),
        world.token("coordinator"),
        &format!("\"v{}\"", restored["version"]),
        json!({"status": "cancelled"}),
    )
    .await;
    problem(not_an_occurrence, 404, "not-found").await;
    // A stale ETag is refused.
    let stale = with_etag(
        &app,
        Method::PUT,
        &format!("/api/v1/permanences/{id}/occurrences/2027-05-11"),
        world.token("coordinator"),
        "\"v1\"",
        json!({"status": "cancelled"}),
    )
    .await;
    problem(stale, 412, "precondition-failed").await;
}

async fn split_changes_this_and_following_occurrences(app: TestApp) {
    let world = app.world().await;
    let site_id = site(&app, &world, "Site de Melun", "93").await;
    let permanence = second_tuesdays(&app, &world, &site_id).await;
    let id = permanence["id"].as_str().expect("id");
    let split = with_etag(
        &app,
        Method::POST,
        &format!("/api/v1/permanences/{id}/split"),
        world.token("coordinator"),
        "\"v1\"",
        json!({"from_date": "2027-06-01", "changes": {"part_of_day": "morning"}}),
    )
    .await;
    let continuation = json(split, 201).await;
    assert_eq!(continuation["follows_id"], id);
    assert_eq!(continuation["start_time"], "09:00");
    let old = app
        .get_json(
            &format!("/api/v1/permanences/{id}"),
            world.token("coordinator"),
            200,
        )
        .await;
    assert_eq!(old["last_date"], "2027-05-11");
    let before = occurrences(
        &app,
        &world,
        id,
        "2027-01-01T00:00:00Z",
        "2028-01-01T00:00:00Z",
    )
    .await;
    assert_eq!(before.len(), 5, "January to May");
    let new_id = continuation["id"].as_str().expect("id");
    let after = occurrences(
        &app,
        &world,
        new_id,
        "2027-01-01T00:00:00Z",
        "2028-01-01T00:00:00Z",
    )
    .await;
    assert_eq!(after.len(), 7, "June to December");
    assert_eq!(after[0]["starts_at"], "2027-06-08T09:00:00+02:00");

    // Every other week, six times: split in an "off" week keeps the rhythm
    // and the total count.
    let fortnightly = app
        .post_json(
            "/api/v1/permanences",
            world.token("coordinator"),
            json!({
                "site_id": site_id, "title": "Quinzaine",
                "rrule": "FREQ=WEEKLY;INTERVAL=2;BYDAY=TU;COUNT=6", "dtstart": "2027-01-05",
                "part_of_day": "afternoon", "audience": "parents",
                "staff_ids": [world.account("coordinator")]
            }),
            201,
        )
        .await;
    let id = fortnightly["id"].as_str().expect("id");
    let split = with_etag(
        &app,
        Method::POST,
        &format!("/api/v1/permanences/{id}/split"),
        world.token("coordinator"),
        "\"v1\"",
        json!({"from_date": "2027-01-25", "changes": {"title": "Quinzaine (nouvelle salle)"}}),
    )
    .await;
    let continuation = json(split, 201).await;
    assert_eq!(continuation["dtstart"], "2027-02-02");
    let range = ("2027-01-01T00:00:00Z", "2027-12-31T00:00:00Z");
    let old = occurrences(&app, &world, id, range.0, range.1).await;
    let new_id = continuation["id"].as_str().expect("id");
    let new = occurrences(&app, &world, new_id, range.0, range.1).await;
    let dates = |list: &[Value]| -> Vec<String> {
        list.iter()
            .map(|o| o["original_date"].as_str().expect("date").to_owned())
            .collect()
    };
    assert_eq!(dates(&old), ["2027-01-05", "2027-01-19"]);
    assert_eq!(
        dates(&new),
        ["2027-02-02", "2027-02-16", "2027-03-02", "2027-03-16"]
    );
}

async fn appointment_rules_are_named_problems(app: TestApp) {
    let world = app.world().await;
    let site_id = site(&app, &world, "Maison des ados", "93").await;
    second_tuesdays(&app, &world, &site_id).await;
    let coordinator = world.account("coordinator");
    let base = |start: &str, end: &str| {
        json!({
            "mode": "permanence", "title": "Entretien", "site_id": site_id,
            "starts_at": start, "ends_at": end, "staff_ids": [coordinator],
        })
    };
    let token = world.token("coordinator");
    // Inside the 9 February occurrence (14:00–17:00 local = 13:00–16:00Z).
    let ok = app
        .post_json(
            "/api/v1/appointments",
            token,
            base("2027-02-09T13:00:00Z", "2027-02-09T14:00:00Z"),
            201,
        )
        .await;
    assert_eq!(ok["starts_at"], "2027-02-09T14:00:00+01:00");
    assert!(ok["permanence_id"].is_string());
    let app = &app;
    let send = |body: Value| {
        let request = app
            .authed(Method::POST, "/api/v1/appointments", token)
            .json(&body);
        async move { request.send().await.expect("sent") }
    };
    problem(
        send(base("2027-02-09T13:30:00Z", "2027-02-09T14:30:00Z")).await,
        409,
        "staff-double-booked",
    )
    .await;
    problem(
        send(base("2027-02-09T15:30:00Z", "2027-02-09T16:30:00Z")).await,
        422,
        "outside-permanence",
    )
    .await;
    problem(
        send(base("2027-02-10T13:00:00Z", "2027-02-10T14:00:00Z")).await,
        422,
        "outside-permanence",
    )
    .await;
    problem(
        send(base("2027-02-09T15:00:00Z", "2027-02-09T14:00:00Z")).await,
        422,
        "end-before-start",
    )
    .await;
    let mut home = base("2027-02-11T08:00:00Z", "2027-02-11T13:00:00Z");
    home["mode"] = json!("home");
    problem(send(home.clone()).await, 422, "too-long").await;

    // A first meeting with a young person needs a parent or referent professional.
    let referral = app
        .post_json(
            "/api/v1/referrals",
            world.token("partner_app"),
            json!({
                "public": "young_person", "context": "pre_prostitution", "source": "partner_organisation",
                "referrer": {"name": "Mme Diallo", "contact": "01 23 45 67 89"},
                "person": {"first_name": "Lina", "birth_date": "2011-04-02", "departement_code": "93"},
                "risk_indicators": ["runaway"], "summary": "Fugues.", "urgency": "urgent"
            }),
            201,
        )
        .await;
    let referral_id = referral["id"].as_str().expect("id");
    let mut first = base("2027-02-11T09:00:00Z", "2027-02-11T10:00:00Z");
    first["mode"] = json!("home");
    first["referral_id"] = json!(referral_id);
    first["attendees"] = json!([{"kind": "young_person"}]);
    problem(
        send(first.clone()).await,
        422,
        "first-meeting-unaccompanied",
    )
    .await;
    first["attendees"] = json!([{"kind": "young_person"}, {"kind": "parent"}]);
    let created = app
        .post_json("/api/v1/appointments", token, first.clone(), 201)
        .await;
    assert_eq!(created["first_meeting"], true);
    // The next one is not a first meeting.
    let mut second = first.clone();
    second["starts_at"] = json!("2027-02-18T09:00:00Z");
    second["ends_at"] = json!("2027-02-18T10:00:00Z");
    second["attendees"] = json!([{"kind": "young_person"}]);
    let later = app
        .post_json("/api/v1/appointments", token, second, 201)
        .await;
    assert_eq!(later["first_meeting"], false);

    // Forward only: cancelling frees the staff; a cancelled one stays cancelled.
    let id = ok["id"].as_str().expect("id");
    let cancel = with_etag(
        app,
        Method::POST,
        &format!("/api/v1/appointments/{id}/changes"),
        token,
        "\"v1\"",
        json!({"action": "cancel", "reason": "malade"}),
    )
    .await;
    let cancelled = json(cancel, 200).await;
    assert_eq!(cancelled["status"], "cancelled");
    assert_eq!(cancelled["cancelled_by"], coordinator);
    app.post_json(
        "/api/v1/appointments",
        token,
        base("2027-02-09T13:30:00Z", "2027-02-09T14:30:00Z"),
        201,
    )
    .await;
    let again = with_etag(
        app,
        Method::POST,
        &format!("/api/v1/appointments/{id}/changes"),
        token,
        "\"v2\"",
        json!({"action": "complete"}),
    )
    .await;
    problem(again, 409, "appointment-transition-not-allowed").await;
    // Completing needs the start to have passed.
    let later_id = later["id"].as_str().expect("id");
    let early = with_etag(
        app,
        Method::POST,
        &format!("/api/v1/appointments/{later_id}/changes"),
        token,
        "\"v1\"",
        json!({"action": "complete"}),
    )
    .await;
    problem(early, 409, "appointment-transition-not-allowed").await;
    // The analyst may not book; an unknown appointment is 404.
    let refused = app
        .authed(Method::POST, "/api/v1/appointments", world.token("analyst"))
        .json(&base("2027-02-09T15:00:00Z", "2027-02-09T15:30:00Z"))
        .send()
        .await
        .expect("sent");
    problem(refused, 403, "forbidden").await;
    let unknown = app
        .authed(
            Method::GET,
            "/api/v1/appointments/0190a5d6-0000-7000-8000-000000000000",
            token,
        )
        .send()
        .await
        .expect("sent");
    problem(unknown, 404, "not-found").await;
}

async fn concurrent_conflicting_bookings_let_exactly_one_through(app: TestApp) {
    let world = app.world().await;
    let coordinator = world.account("coordinator").to_owned();
    let token = world.token("coordinator").to_owned();
    // 60 requests for overlapping times of one staff member, all at once.
    let requests: Vec<_> = (0..60)
        .map(|i| {
            let body = json!({
                "mode": "phone", "title": "Appel", "departement_code": "93",
                "starts_at": format!("2027-03-02T10:{:02}:00Z", i % 30),
                "ends_at": "2027-03-02T11:00:00Z",
                "staff_ids": [coordinator],
            });
            let request = app
                .authed(Method::POST, "/api/v1/appointments", &token)
                .json(&body);
            async move { request.send().await.expect("sent") }
        })
        .collect();
    let responses = join_all(requests).await;
    let mut created = 0;
    let mut winner = Value::Null;
    let mut named = Vec::new();
    for response in responses {
        match response.status().as_u16() {
            201 => {
                created += 1;
                winner = json(response, 201).await["id"].clone();
            }
            409 => {
                let body = problem(response, 409, "staff-double-booked").await;
                // Even when the race was lost at the database's constraint,
                // the problem names the booking that won (its owner may
                // read it).
                named.push(body["conflicting"]["id"].clone());
            }
            other => panic!(
                "unexpected {other}: {}",
                response.text().await.unwrap_or_default()
            ),
        }
    }
    assert_eq!(created, 1, "exactly one booking wins");
    assert!(
        named.iter().all(|id| *id == winner),
        "{winner} vs {named:?}"
    );
    let listed = app
        .get_json(
            &format!("/api/v1/appointments?staff_id={coordinator}&from=2027-03-01T00:00:00Z&to=2027-03-03T00:00:00Z"),
            &token,
            200,
        )
        .await;
    assert_eq!(listed["items"].as_array().map(Vec::len), Some(1));
}

async fn partner_books_a_free_slot_for_its_own_referral_only(app: TestApp) {
    let world = app.world().await;
    let site_id = site(&app, &world, "Point écoute Bobigny", "93").await;
    second_tuesdays(&app, &world, &site_id).await;
    let partner = world.token("partner_app");
    let referral = |first_name: &str| {
        json!({
            "public": "young_person", "context": "pre_prostitution", "source": "partner_organisation",
            "referrer": {"name": "Mme Diallo", "contact": "01 23 45 67 89"},
            "person": {"first_name": first_name, "birth_date": "2011-04-02", "departement_code": "93"},
            "risk_indicators": ["runaway"], "summary": "Fugues.", "urgency": "urgent"
        })
    };
    let own = app
        .post_json("/api/v1/referrals", partner, referral("Lina"), 201)
        .await;
    let theirs = app
        .post_json(
            "/api/v1/referrals",
            world.token("supervisor"),
            json!({
                "public": "young_person", "context": "pre_prostitution", "source": "young_person",
                "person": {"first_name": "Sara", "birth_date": "2010-01-02", "departement_code": "93"},
                "risk_indicators": ["runaway"], "summary": "Appel.", "urgency": "routine"
            }),
            201,
        )
        .await;
    let path = "/api/v1/availability?departement=93&from=2027-04-01T00:00:00Z&to=2027-05-01T00:00:00Z&duration=60";
    let slots = app.get_json(path, partner, 200).await;
    let slots = slots.as_array().expect("slots").clone();
    // 13 April, 14:00–17:00 local: three one-hour slots.
    assert_eq!(slots.len(), 3, "{slots:?}");
    assert_eq!(slots[0]["starts_at"], "2027-04-13T14:00:00+02:00");
    let first = &slots[0];
    let starts_at =
        chrono::DateTime::parse_from_rfc3339(first["starts_at"].as_str().expect("start"))
            .expect("rfc3339")
            .with_timezone(&chrono::Utc)
            .to_rfc3339();
    let booking = |referral_id: &str| json!({"referral_id": referral_id, "permanence_id": first["permanence_id"], "starts_at": starts_at, "duration": 60});
    let other = app
        .authed(Method::POST, "/api/v1/availability/bookings", partner)
        .json(&booking(theirs["id"].as_str().expect("id")))
        .send()
        .await
        .expect("sent");
    problem(other, 404, "not-found").await;
    let booked = app
        .post_json(
            "/api/v1/availability/bookings",
            partner,
            booking(own["id"].as_str().expect("id")),
            201,
        )
        .await;
    assert_eq!(booked["confirmation"], "pending");
    assert_eq!(booked["first_meeting"], true);
    assert_eq!(booked["proposed_by_organisation_id"], world.org_a.as_str());
    // The partner reads what it booked; the slot is gone; booking it again is 409.
    let id = booked["id"].as_str().expect("id");
    app.get_json(&format!("/api/v1/appointments/{id}"), partner, 200)
        .await;
    let slots = app.get_json(path, partner, 200).await;
    assert_eq!(slots.as_array().map(Vec::len), Some(2));
    let again = app
        .authed(Method::POST, "/api/v1/availability/bookings", partner)
        .json(&booking(own["id"].as_str().expect("id")))
        .send()
        .await
        .expect("sent");
    problem(again, 409, "slot-taken").await;
    // The team confirms it.
    let confirmed = with_etag(
        &app,
        Method::POST,
        &format!("/api/v1/appointments/{id}/changes"),
        world.token("coordinator"),
        "\"v1\"",
        json!({"action": "confirm"}),
    )
    .await;
    assert_eq!(json(confirmed, 200).await["confirmation"], "confirmed");
    // Then cancels it; the partner's feed tells of both, without the reason.
    let cancelled = with_etag(
        &app,
        Method::POST,
        &format!("/api/v1/appointments/{id}/changes"),
        world.token("coordinator"),
        "\"v2\"",
        json!({"action": "cancel", "reason": "Jeune hospitalisée"}),
    )
    .await;
    assert_eq!(json(cancelled, 200).await["status"], "cancelled");
    let feed = app.get_json("/api/v1/events", partner, 200).await;
    let appointments: Vec<&Value> = feed["items"]
        .as_array()
        .expect("items")
        .iter()
        .filter(|e| e["type"] != "referral.status_changed")
        .collect();
    assert_eq!(appointments.len(), 2, "{feed}");
    assert_eq!(appointments[0]["type"], "appointment.booked");
    assert_eq!(appointments[0]["data"]["appointment_id"], id);
    assert_eq!(appointments[0]["data"]["referral_id"], own["id"]);
    assert_eq!(appointments[0]["data"]["confirmation"], "pending");
    assert_eq!(appointments[1]["type"], "appointment.cancelled");
    assert_eq!(appointments[1]["data"]["status"], "cancelled");
    assert!(!feed.to_string().contains("hospitalis"), "{feed}");
    // The supervisor's referral (no partner) produced no event for A.
    assert!(
        !feed
            .to_string()
            .contains(theirs["id"].as_str().expect("id"))
    );
}

async fn permanence_input_errors_say_what_is_wrong(app: TestApp) {
    let world = app.world().await;
    let site_id = site(&app, &world, "Site", "93").await;
    let token = world.token("coordinator");
    let attempt = |rrule: &str, extra: Value| {
        let mut body = json!({
            "site_id": site_id, "title": "P", "rrule": rrule, "dtstart": "2027-01-01",
            "part_of_day": "afternoon", "audience": "all", "staff_ids": [world.account("coordinator")]
        });
        if let (Some(target), Some(extra)) = (body.as_object_mut(), extra.as_object()) {
            target.extend(extra.clone());
        }
        app.authed(Method::POST, "/api/v1/permanences", token)
            .json(&body)
            .send()
    };
    let wrong = attempt("FREQ=MONTHLY;BYDAY=5TU", json!({}))
        .await
        .expect("sent");
    let body = problem(wrong, 422, "invalid-rrule").await;
    assert!(
        body["detail"].as_str().expect("detail").contains("BYDAY"),
        "{body}"
    );
    let daily = attempt("FREQ=DAILY", json!({})).await.expect("sent");
    let body = problem(daily, 422, "invalid-rrule").await;
    assert!(
        body["detail"].as_str().expect("detail").contains("FREQ"),
        "{body}"
    );
    let both = attempt("FREQ=WEEKLY;COUNT=3;UNTIL=20270301", json!({}))
        .await
        .expect("sent");
    problem(both, 422, "invalid-rrule").await;
    let explicit = attempt("FREQ=WEEKLY", json!({"part_of_day": "explicit"}))
        .await
        .expect("sent");
    problem(explicit, 422, "invalid-value").await;
    let outsider = attempt(
        "FREQ=WEEKLY",
        json!({"staff_ids": [world.account("analyst")]}),
    )
    .await
    .expect("sent");
    problem(outsider, 422, "invalid-value").await;
    let fine = attempt("FREQ=WEEKLY;BYDAY=WE;COUNT=4", json!({}))
        .await
        .expect("sent");
    let fine = json(fine, 201).await;
    assert_eq!(fine["start_time"], "13:30");
    assert_eq!(fine["last_date"], "2027-01-27");
    // A regional referent (13) may not manage a site of 93.
    let referent = app
        .authed(Method::POST, "/api/v1/permanences", world.token("regional_referent"))
        .json(&json!({
            "site_id": site_id, "title": "P", "rrule": "FREQ=WEEKLY", "dtstart": "2027-01-01",
            "part_of_day": "afternoon", "audience": "all", "staff_ids": [world.account("regional_referent")]
        }))
        .send()
        .await
        .expect("sent");
    problem(referent, 403, "forbidden").await;
}

/// A body's `site_id` that names no site is a 422 naming the field; when
/// the lookup itself fails (here: the table is gone), the answer is the
/// database's failure (500), never "no site has this id".
async fn a_failed_site_lookup_is_not_an_unknown_site(app: TestApp) {
    let world = app.world().await;
    let site_id = site(&app, &world, "Maison des ados", "93").await;
    let token = world.token("coordinator");
    let coordinator = world.account("coordinator");
    let appointment = |site: &str| {
        json!({"mode": "permanence", "title": "Entretien", "site_id": site,
               "starts_at": "2027-02-09T13:00:00Z", "ends_at": "2027-02-09T14:00:00Z",
               "staff_ids": [coordinator]})
    };
    let permanence = |site: &str| {
        json!({"site_id": site, "title": "Permanence", "rrule": "FREQ=MONTHLY;BYDAY=2TU",
               "dtstart": "2027-01-01", "part_of_day": "explicit", "start_time": "14:00",
               "end_time": "17:00", "audience": "all", "staff_ids": [coordinator]})
    };
    let send = |path: &'static str, body: Value| {
        let request = app.authed(Method::POST, path, token).json(&body);
        async move { request.send().await.expect("sent") }
    };
    let unknown = "01939f8e-0000-7000-8000-000000000001";
    for (path, body) in [
        ("/api/v1/appointments", appointment(unknown)),
        ("/api/v1/permanences", permanence(unknown)),
    ] {
        let refused = problem(send(path, body).await, 422, "invalid-value").await;
        assert_eq!(
            refused["errors"][0]["field"], "site_id",
            "{path}: {refused}"
        );
    }
    let db = app.db();
    adosexo_persistence::testing::execute_sql(&db, "ALTER TABLE sites RENAME TO sites_away")
        .await
        .expect("renamed");
    for (path, body) in [
        ("/api/v1/appointments", appointment(&site_id)),
        ("/api/v1/permanences", permanence(&site_id)),
    ] {
        problem(send(path, body).await, 500, "internal").await;
    }
    adosexo_persistence::testing::execute_sql(&db, "ALTER TABLE sites_away RENAME TO sites")
        .await
        .expect("renamed back");
    app.post_json("/api/v1/permanences", token, permanence(&site_id), 201)
        .await;
}
