//! Calendar feeds and the mobile agenda, end to end: feeds are read back
//! with the independent `icalendar` parser.

use adosexo_persistence::schedule::{self, AppointmentRow, GroupSessionRow};
use adosexo_persistence::time::to_db;
use chrono::{DateTime, Datelike, Duration, NaiveDate, NaiveDateTime, TimeZone, Utc, Weekday};
use icalendar::{CalendarDateTime, Component, DatePerhapsTime, EventLike};
use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::{TestApp, World, problem};

crate::both_backends!(
    staff_feed_parses_with_paris_local_times,
    public_calendars_show_public_sites_only,
    agenda_merges_and_filters_by_update,
);

const SITE_NAME: &str = "Maison des ados de Bobigny";
const ADDRESS: &str = "12 rue de la République";

/// Moves the app's clock to the next 1 December (noon UTC) and returns the
/// year after it: its permanences from January to May then fall in the
/// feeds' window (30 days back, 180 ahead), on both sides of the spring
/// change to summer time.
fn to_december(app: &TestApp) -> i32 {
    let now = Utc::now();
    let december = |year: i32| {
        Utc.with_ymd_and_hms(year, 12, 1, 12, 0, 0)
            .single()
            .expect("a date")
    };
    let mut target = december(now.year());
    if target < now + Duration::hours(1) {
        target = december(now.year() + 1);
    }
    app.advance(target - now);
    target.year() + 1
}

/// The app's clock now (as moved by `to_december`).
fn server_now(year: i32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(year - 1, 12, 1, 12, 0, 0)
        .single()
        .expect("a date")
}

/// The second Tuesday of a month.
fn second_tuesday(year: i32, month: u32) -> NaiveDate {
    NaiveDate::from_weekday_of_month_opt(year, month, Weekday::Tue, 2).expect("a date")
}

async fn create_site(app: &TestApp, world: &World, name: &str, public: bool) -> String {
    let site = app
        .post_json(
            "/api/v1/sites",
            world.token("supervisor"),
            json!({
                "name": name, "kind": "youth_centre", "address": ADDRESS, "postcode": "93000",
                "city": "Bobigny", "departement_code": "93", "latitude": 48.9, "longitude": 2.44,
                "public": public
            }),
            201,
        )
        .await;
    site["id"].as_str().expect("id").to_owned()
}

/// A monthly permanence (second Tuesday, 14:00–17:00) from 1 January of
/// `year`, held by the coordinator, with its March occurrence cancelled.
async fn create_permanence(app: &TestApp, world: &World, site_id: &str, year: i32) -> String {
    let permanence = app
        .post_json(
            "/api/v1/permanences",
            world.token("supervisor"),
            json!({
                "site_id": site_id, "title": "Permanence du mardi", "rrule": "FREQ=MONTHLY;BYDAY=2TU",
                "dtstart": format!("{year}-01-01"), "part_of_day": "explicit",
                "start_time": "14:00", "end_time": "17:00", "audience": "all",
                "staff_ids": [world.account("coordinator")]
            }),
            201,
        )
        .await;
    let id = permanence["id"].as_str().expect("id").to_owned();
    let response = app
        .authed(
            Method::PUT,
            &format!(
                "/api/v1/permanences/{id}/occurrences/{}",
                second_tuesday(year, 3)
            ),
            world.token("supervisor"),
        )
        .header("If-Match", "\"v1\"")
        .json(&json!({"status": "cancelled", "reason": "Formation de l'équipe"}))
        .send()
        .await
        .expect("sent");
    assert_eq!(response.status(), 200);
    id
}

fn at(date: NaiveDate, hour: u32) -> NaiveDateTime {
    date.and_hms_opt(hour, 0, 0).expect("a time")
}

/// An appointment of the coordinator awaiting confirmation, with a title
/// naming the young person (which no feed may show), and a cancelled
/// three-day course; inserted directly (their routes are not this test's).
fn insert_appointment_and_course(
    app: &TestApp,
    world: &World,
    year: i32,
    appointment_updated: NaiveDateTime,
    course_updated: NaiveDateTime,
) -> (String, String) {
    let coordinator = world.account("coordinator").to_owned();
    let appointment_id = uuid::Uuid::now_v7().to_string();
    let course_id = uuid::Uuid::now_v7().to_string();
    let day = NaiveDate::from_ymd_opt(year, 2, 3).expect("a date");
    let appointment = AppointmentRow {
        id: appointment_id.clone(),
        mode: "phone".to_owned(),
        title: "Entretien avec Léa Martin".to_owned(),
        referral_id: None,
        follow_up_id: None,
        person_id: None,
        site_id: None,
        permanence_id: None,
        departement_code: "93".to_owned(),
        starts_at: at(day, 9),
        ends_at: at(day, 10),
        status: "scheduled".to_owned(),
        confirmation: "pending".to_owned(),
        first_meeting: false,
        unaccompanied_reason: None,
        cancelled_by: None,
        cancel_reason: None,
        proposed_by_organisation_id: None,
        created_by: coordinator.clone(),
        version: 1,
        created_at: appointment_updated,
        updated_at: appointment_updated,
    };
    let first = NaiveDate::from_ymd_opt(year, 4, 20).expect("a date");
    let course = GroupSessionRow {
        id: course_id.clone(),
        kind: "perpetrator_course".to_owned(),
        title: "Stage d'avril".to_owned(),
        mode: "in_person".to_owned(),
        site_id: None,
        venue: Some("Salle polyvalente".to_owned()),
        remote_link: None,
        partner_organisation_id: None,
        departement_code: "93".to_owned(),
        starts_at: at(first, 7),
        ends_at: at(first, 15),
        days: 3,
        capacity: Some(12),
        audience: "all".to_owned(),
        status: "cancelled".to_owned(),
        created_by: coordinator.clone(),
        version: 2,
        created_at: course_updated,
        updated_at: course_updated,
    };
    app.db()
        .run_blocking(|conn| {
            schedule::insert_appointment(
                conn,
                &appointment,
                std::slice::from_ref(&coordinator),
                &[],
            )?;
            schedule::insert_group_session(conn, &course, &[coordinator])
        })
        .expect("inserted");
    (appointment_id, course_id)
}

fn parse(text: &str) -> icalendar::Calendar {
    text.parse()
        .unwrap_or_else(|e| panic!("not iCalendar ({e}): {text}"))
}

fn paris(local: NaiveDateTime) -> DatePerhapsTime {
    DatePerhapsTime::DateTime(CalendarDateTime::WithTimezone {
        date_time: local,
        tzid: "Europe/Paris".to_owned(),
    })
}

fn event<'a>(calendar: &'a icalendar::Calendar, uid: &str) -> &'a icalendar::Event {
    calendar
        .events()
        .find(|e| e.get_uid() == Some(uid))
        .unwrap_or_else(|| panic!("no event {uid}"))
}

/// `GET path` without credentials, with `If-None-Match` if given.
async fn fetch(app: &TestApp, path: &str, etag: Option<&str>) -> reqwest::Response {
    let mut request = app.request(Method::GET, path);
    if let Some(etag) = etag {
        request = request.header("If-None-Match", etag);
    }
    request.send().await.expect("sent")
}

/// A 200 feed: its body and `ETag`, after checking its media type.
async fn feed(response: reqwest::Response) -> (String, String, String) {
    assert_eq!(response.status(), 200);
    let headers = response.headers().clone();
    assert_eq!(
        headers["content-type"].to_str().expect("type"),
        "text/calendar; charset=utf-8"
    );
    let etag = headers["etag"].to_str().expect("etag").to_owned();
    let cache = headers["cache-control"]
        .to_str()
        .expect("cache-control")
        .to_owned();
    (response.text().await.expect("body"), etag, cache)
}

async fn staff_feed_parses_with_paris_local_times(app: TestApp) {
    let year = to_december(&app);
    let world = app.world().await;
    let site = create_site(&app, &world, SITE_NAME, true).await;
    let permanence = create_permanence(&app, &world, &site, year).await;
    let now = to_db(server_now(year));
    let (appointment, course) = insert_appointment_and_course(&app, &world, year, now, now);
    let coordinator = world.token("coordinator");

    let created = app
        .post_json("/api/v1/me/calendar-feed", coordinator, json!({}), 201)
        .await;
    let token = created["token"].as_str().expect("token").to_owned();
    assert_eq!(token.len(), 43);
    let url = created["url"].as_str().expect("url").to_owned();
    assert_eq!(url, format!("/api/v1/calendars/staff/{token}"));

    let (body, etag, cache) = feed(fetch(&app, &url, None).await).await;
    assert!(cache.contains("private"), "{cache}");
    let calendar = parse(&body);
    assert_eq!(calendar.get_timezone(), Some("Europe/Paris"));
    assert!(body.contains("BEGIN:VTIMEZONE"));
    // Five permanence occurrences, one appointment, three course days.
    assert_eq!(calendar.events().count(), 9, "{body}");

    let occurrence = |month: u32| {
        let date = second_tuesday(year, month);
        let uid = format!("permanence-{permanence}-{}@adosexo", date.format("%Y%m%d"));
        (event(&calendar, &uid), date)
    };
    // 14:00 in Paris in winter (UTC+1) and in summer (UTC+2) alike.
    for month in 1..=5 {
        let (read, date) = occurrence(month);
        assert_eq!(read.get_start(), Some(paris(at(date, 14))), "{month}");
        assert_eq!(read.get_end(), Some(paris(at(date, 17))), "{month}");
        assert_eq!(
            read.get_summary(),
            Some(format!("Permanence — {SITE_NAME}").as_str())
        );
        let expected = if month == 3 {
            icalendar::EventStatus::Cancelled
        } else {
            icalendar::EventStatus::Confirmed
        };
        assert_eq!(read.get_status(), Some(expected), "{month}");
        assert_eq!(read.get_sequence(), Some(1), "version 2 after the cancel");
    }
    assert!(body.contains("DTSTART;TZID=Europe/Paris:"));

    let read = event(&calendar, &format!("appointment-{appointment}@adosexo"));
    assert_eq!(read.get_summary(), Some("Rendez-vous (téléphone)"));
    assert_eq!(read.get_status(), Some(icalendar::EventStatus::Tentative));
    let day = NaiveDate::from_ymd_opt(year, 2, 3).expect("a date");
    assert_eq!(read.get_start(), Some(paris(at(day, 10))), "09:00 UTC");

    for (offset, date) in [(0, 20), (1, 21), (2, 22)] {
        let day = NaiveDate::from_ymd_opt(year, 4, date).expect("a date");
        let read = event(
            &calendar,
            &format!("group-{course}-{}@adosexo", day.format("%Y%m%d")),
        );
        assert_eq!(
            read.get_summary(),
            Some("Stage de responsabilisation: Stage d'avril"),
            "day {offset}"
        );
        assert_eq!(read.get_status(), Some(icalendar::EventStatus::Cancelled));
        assert_eq!(
            read.get_start(),
            Some(paris(at(day, 9))),
            "07:00 UTC in summer"
        );
    }

    // No personal data: neither the staff member nor the young person.
    for secret in [
        "coordinator@test.example",
        "Test coordinator",
        world.account("coordinator"),
        "Léa",
        "Martin",
        &token,
    ] {
        assert!(!body.contains(secret), "the feed shows {secret}");
    }

    // Unchanged: 304 on its tag.
    let response = fetch(&app, &url, Some(&etag)).await;
    assert_eq!(response.status(), 304);
    assert_eq!(response.headers()["etag"].to_str().expect("etag"), etag);
    let (again, _, _) = feed(fetch(&app, &url, Some("\"other\"")).await).await;
    assert_eq!(again, body, "the same data renders the same body");

    // Rotated: the old URL is gone, the new one works.
    let rotated = app
        .post_json("/api/v1/me/calendar-feed", coordinator, json!({}), 201)
        .await;
    let new_url = rotated["url"].as_str().expect("url").to_owned();
    assert_ne!(new_url, url);
    problem(fetch(&app, &url, None).await, 404, "not-found").await;
    feed(fetch(&app, &new_url, None).await).await;

    // Revoked: gone too.
    let response = app
        .authed(Method::DELETE, "/api/v1/me/calendar-feed", coordinator)
        .send()
        .await
        .expect("sent");
    assert_eq!(response.status(), 204);
    problem(fetch(&app, &new_url, None).await, 404, "not-found").await;
    problem(
        fetch(&app, "/api/v1/calendars/staff/not-a-token", None).await,
        404,
        "not-found",
    )
    .await;

    // Only staff accounts have a feed.
    for role in ["analyst", "partner", "partner_app"] {
        let response = app
            .authed(Method::POST, "/api/v1/me/calendar-feed", world.token(role))
            .send()
            .await
            .expect("sent");
        problem(response, 403, "forbidden").await;
    }

    // Creating, rotating, revoking and reading are audited, without the secret.
    let audit = app
        .get_json(
            "/api/v1/audit?resource_type=calendar",
            world.token("supervisor"),
            200,
        )
        .await;
    let text = audit.to_string();
    for action in [
        "create_calendar_feed",
        "revoke_calendar_feed",
        "read_calendar_feed",
    ] {
        assert!(text.contains(action), "{action} in {text}");
    }
    assert!(!text.contains(&token));
}

async fn public_calendars_show_public_sites_only(app: TestApp) {
    let year = to_december(&app);
    let world = app.world().await;
    let site = create_site(&app, &world, SITE_NAME, true).await;
    let permanence = create_permanence(&app, &world, &site, year).await;
    let hidden = create_site(&app, &world, "Bureau de l'équipe", false).await;
    create_permanence(&app, &world, &hidden, year).await;

    let path = format!("/api/v1/public/calendars/sites/{site}");
    let (body, etag, cache) = feed(fetch(&app, &path, None).await).await;
    assert_eq!(cache, "public, max-age=300");
    let calendar = parse(&body);
    assert_eq!(calendar.events().count(), 5, "{body}");
    let march = second_tuesday(year, 3);
    let read = event(
        &calendar,
        &format!("permanence-{permanence}-{}@adosexo", march.format("%Y%m%d")),
    );
    assert_eq!(read.get_status(), Some(icalendar::EventStatus::Cancelled));
    assert_eq!(read.get_start(), Some(paris(at(march, 14))));
    assert_eq!(
        read.get_summary(),
        Some(format!("Permanence Ado Sexo — {SITE_NAME}").as_str())
    );
    assert_eq!(
        read.get_location(),
        Some(format!("{ADDRESS}, 93000 Bobigny").as_str())
    );
    let may = second_tuesday(year, 5);
    let read = event(
        &calendar,
        &format!("permanence-{permanence}-{}@adosexo", may.format("%Y%m%d")),
    );
    assert_eq!(read.get_start(), Some(paris(at(may, 14))));
    for secret in [world.account("coordinator"), "Test coordinator", "équipe"] {
        assert!(!body.contains(secret), "the feed shows {secret}");
    }
    let response = fetch(&app, &path, Some(&etag)).await;
    assert_eq!(response.status(), 304);

    // Closed: the coming occurrences are sent as cancelled, not dropped.
    let response = app
        .authed(
            Method::PATCH,
            &format!("/api/v1/permanences/{permanence}"),
            world.token("supervisor"),
        )
        .header("If-Match", "\"v2\"")
        .json(&json!({"status": "closed"}))
        .send()
        .await
        .expect("sent");
    assert_eq!(response.status(), 200);
    let (closed, closed_etag, _) = feed(fetch(&app, &path, Some(&etag)).await).await;
    assert_ne!(closed_etag, etag);
    let calendar = parse(&closed);
    assert_eq!(calendar.events().count(), 5, "{closed}");
    assert!(
        calendar
            .events()
            .all(|e| e.get_status() == Some(icalendar::EventStatus::Cancelled)),
        "{closed}"
    );
    assert!(
        calendar.events().all(|e| e.get_sequence() == Some(2)),
        "{closed}"
    );

    // A site that is not public is not found.
    problem(
        fetch(
            &app,
            &format!("/api/v1/public/calendars/sites/{hidden}"),
            None,
        )
        .await,
        404,
        "not-found",
    )
    .await;
    problem(
        fetch(&app, "/api/v1/public/calendars/sites/nope", None).await,
        400,
        "invalid-input",
    )
    .await;

    // The département's feed: the public site's permanences only.
    let (body, etag, cache) =
        feed(fetch(&app, "/api/v1/public/calendars/departements/93", None).await).await;
    assert_eq!(cache, "public, max-age=300");
    let calendar = parse(&body);
    assert_eq!(calendar.events().count(), 5, "{body}");
    assert!(calendar.events().all(|e| {
        e.get_uid()
            .is_some_and(|u| u.starts_with(&format!("permanence-{permanence}-")))
    }));
    let response = fetch(
        &app,
        "/api/v1/public/calendars/departements/93",
        Some(&etag),
    )
    .await;
    assert_eq!(response.status(), 304);
    let (empty, _, _) =
        feed(fetch(&app, "/api/v1/public/calendars/departements/2A", None).await).await;
    assert_eq!(parse(&empty).events().count(), 0);
    problem(
        fetch(&app, "/api/v1/public/calendars/departements/XX", None).await,
        400,
        "invalid-input",
    )
    .await;
}

async fn agenda_merges_and_filters_by_update(app: TestApp) {
    let year = to_december(&app);
    let world = app.world().await;
    let site = create_site(&app, &world, SITE_NAME, true).await;
    let permanence = create_permanence(&app, &world, &site, year).await;
    let now = server_now(year);
    let (appointment, course) = insert_appointment_and_course(
        &app,
        &world,
        year,
        to_db(now - Duration::days(10)),
        to_db(now + Duration::hours(1)),
    );
    let coordinator = world.token("coordinator");
    let range = format!("from={year}-01-01T00:00:00Z&to={year}-06-01T00:00:00Z");

    let items = app
        .get_json(&format!("/api/v1/me/agenda?{range}"), coordinator, 200)
        .await;
    let items = items.as_array().expect("a list");
    let kinds: Vec<(&str, &str)> = items
        .iter()
        .map(|i| {
            (
                i["kind"].as_str().expect("kind"),
                i["id"].as_str().expect("id"),
            )
        })
        .collect();
    // January and February permanences, the appointment (3 Feb) between
    // them in time, March to April, the course (20–22 April), May.
    let p = permanence.as_str();
    let (a, c) = (appointment.as_str(), course.as_str());
    assert_eq!(
        kinds,
        vec![
            ("permanence", p),
            ("appointment", a),
            ("permanence", p),
            ("permanence", p),
            ("permanence", p),
            ("group_session", c),
            ("group_session", c),
            ("group_session", c),
            ("permanence", p),
        ],
        "{items:?}"
    );
    let starts: Vec<&str> = items
        .iter()
        .map(|i| i["starts_at"].as_str().expect("starts_at"))
        .collect();
    let january = second_tuesday(year, 1);
    let may = second_tuesday(year, 5);
    assert_eq!(starts[0], format!("{january}T14:00:00+01:00"));
    assert_eq!(starts[8], format!("{may}T14:00:00+02:00"));
    assert_eq!(items[3]["status"], "cancelled");
    let item: &Value = &items[1];
    assert_eq!(item["status"], "scheduled");
    assert_eq!(item["mode"], "phone");
    assert_eq!(item["title"], "Rendez-vous (téléphone)");
    assert!(!item.to_string().contains("Léa"), "{item}");
    assert_eq!(items[5]["status"], "cancelled");
    assert_eq!(items[0]["site_id"], site.as_str());

    // Changed since yesterday: the permanence (cancelled today) and the
    // course, not the appointment (changed ten days ago).
    let since = (now - Duration::days(1)).to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    let items = app
        .get_json(
            &format!("/api/v1/me/agenda?{range}&updated_since={since}"),
            coordinator,
            200,
        )
        .await;
    let items = items.as_array().expect("a list");
    assert_eq!(items.len(), 8, "{items:?}");
    assert!(items.iter().all(|i| i["kind"] != "appointment"));
    let since = (now + Duration::days(1)).to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    let items = app
        .get_json(
            &format!("/api/v1/me/agenda?{range}&updated_since={since}"),
            coordinator,
            200,
        )
        .await;
    assert_eq!(items, json!([]));

    // Someone else's agenda is theirs: the supervisor holds nothing.
    let items = app
        .get_json(
            &format!("/api/v1/me/agenda?{range}"),
            world.token("supervisor"),
            200,
        )
        .await;
    assert_eq!(items, json!([]));

    // Analysts and partners have no agenda; ranges are bounded.
    for role in ["analyst", "partner", "partner_app"] {
        let response = app
            .authed(
                Method::GET,
                &format!("/api/v1/me/agenda?{range}"),
                world.token(role),
            )
            .send()
            .await
            .expect("sent");
        problem(response, 403, "forbidden").await;
    }
    let response = app
        .authed(
            Method::GET,
            &format!(
                "/api/v1/me/agenda?from={year}-01-01T00:00:00Z&to={}-06-01T00:00:00Z",
                year + 1
            ),
            coordinator,
        )
        .send()
        .await
        .expect("sent");
    problem(response, 422, "invalid-value").await;
    let response = app
        .authed(Method::GET, "/api/v1/me/agenda", coordinator)
        .send()
        .await
        .expect("sent");
    problem(response, 400, "invalid-input").await;
}
