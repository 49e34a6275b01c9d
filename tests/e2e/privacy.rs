//! Privacy at the door and on retries: text no database can store is
//! refused naming the field; a retry with the same `Idempotency-Key` never
//! creates twice and never brings back data that was erased.

use adosexo_persistence::testing::text_columns_holding;
use chrono::{Duration, Utc};
use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::{TestApp, World, json, problem};

crate::both_backends!(
    an_erased_person_does_not_come_back_through_a_replay,
    a_retry_with_one_key_stores_one_note_and_one_appointment,
    text_with_nul_is_refused_naming_the_field,
    a_list_read_names_every_record_it_returned,
);

fn referral_body(first_name: &str, last_name: &str, contact: &str) -> Value {
    json!({
        "public": "young_person",
        "context": "pre_prostitution",
        "source": "partner_organisation",
        "referrer": {"name": "Mme Diallo", "contact": "01 23 45 67 89"},
        "person": {"first_name": first_name, "last_name": last_name, "contact": contact,
                   "birth_date": "2010-05-04", "departement_code": "93"},
        "risk_indicators": ["runaway"],
        "summary": format!("Fugues répétées de {first_name}."),
        "urgency": "routine"
    })
}

async fn post_with_key(
    app: &TestApp,
    token: &str,
    path: &str,
    key: &str,
    body: &Value,
) -> reqwest::Response {
    app.authed(Method::POST, path, token)
        .header("Idempotency-Key", key)
        .json(body)
        .send()
        .await
        .expect("sent")
}

async fn decline(app: &TestApp, world: &World, referral: &Value) {
    let id = referral["id"].as_str().expect("id");
    let response = app
        .authed(
            Method::POST,
            &format!("/api/v1/referrals/{id}/decline"),
            world.token("coordinator"),
        )
        .header("If-Match", format!("\"v{}\"", referral["version"]))
        .json(&json!({"reason": "Hors du champ du programme."}))
        .send()
        .await
        .expect("sent");
    json(response, 200).await;
}

async fn an_erased_person_does_not_come_back_through_a_replay(app: TestApp) {
    let world = app.world().await;
    let partner = world.token("partner").to_owned();
    let supervisor = world.token("supervisor").to_owned();
    let body = referral_body("Erasmine", "Tobedeleted", "e@example.org");
    let first = post_with_key(&app, &partner, "/api/v1/referrals", "k-erase-1", &body).await;
    let first = json(first, 201).await;
    assert_eq!(first["person"]["first_name"], "Erasmine");
    // A replay before erasure: the same referral, not a second one.
    let replay = post_with_key(&app, &partner, "/api/v1/referrals", "k-erase-1", &body).await;
    assert_eq!(replay.headers()["idempotent-replayed"], "true");
    let replay = json(replay, 201).await;
    assert_eq!(replay["id"], first["id"]);

    decline(&app, &world, &first).await;
    let person = first["person"]["id"].as_str().expect("person").to_owned();
    let request = app
        .post_json(
            &format!("/api/v1/people/{person}/erasure-requests"),
            &supervisor,
            json!({"requested_by": "person", "received_at": Utc::now() - Duration::days(1)}),
            201,
        )
        .await;
    let executed = app
        .authed(
            Method::POST,
            &format!(
                "/api/v1/erasure-requests/{}/execute",
                request["id"].as_str().expect("id")
            ),
            &supervisor,
        )
        .send()
        .await
        .expect("sent");
    assert_eq!(json(executed, 200).await["status"], "executed");

    // The retry is still a replay (no second referral), and says nothing erased.
    let replay = post_with_key(&app, &partner, "/api/v1/referrals", "k-erase-1", &body).await;
    assert_eq!(replay.headers()["idempotent-replayed"], "true");
    let replay = json(replay, 201).await;
    assert_eq!(replay["id"], first["id"]);
    assert_eq!(
        replay["status"], "declined",
        "today's referral, not the stored one"
    );
    let text = replay.to_string();
    for erased in ["Erasmine", "Tobedeleted", "e@example.org"] {
        assert!(!text.contains(erased), "{erased} replayed: {text}");
        let holding = text_columns_holding(&app.db(), erased).await.expect("scan");
        assert!(holding.is_empty(), "{erased} still stored in {holding:?}");
    }
}

async fn a_retry_with_one_key_stores_one_note_and_one_appointment(app: TestApp) {
    let world = app.world().await;
    let coordinator = world.token("coordinator").to_owned();
    // A follow-up to write on: a referral accepted by the coordinator.
    let referral = app
        .post_json(
            "/api/v1/referrals",
            world.token("partner"),
            referral_body("Nora", "Retry", "n@example.org"),
            201,
        )
        .await;
    let id = referral["id"].as_str().expect("id");
    let accepted = app
        .authed(
            Method::POST,
            &format!("/api/v1/referrals/{id}/accept"),
            &coordinator,
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
    let notes = format!("/api/v1/follow-ups/{follow_up}/notes");
    let note = json!({"kind": "meeting", "body": "Premier échange au téléphone."});
    let first = json(
        post_with_key(&app, &coordinator, &notes, "note-1", &note).await,
        201,
    )
    .await;
    let again = post_with_key(&app, &coordinator, &notes, "note-1", &note).await;
    assert_eq!(again.headers()["idempotent-replayed"], "true");
    let again = json(again, 201).await;
    assert_eq!(again, first, "the replay is the note as written");
    let other = json!({"kind": "meeting", "body": "Autre chose."});
    problem(
        post_with_key(&app, &coordinator, &notes, "note-1", &other).await,
        422,
        "idempotency-key-reused",
    )
    .await;
    let listed = app.get_json(&notes, &coordinator, 200).await;
    assert_eq!(listed["items"].as_array().map(Vec::len), Some(1));

    let start = (Utc::now() + Duration::days(3))
        .date_naive()
        .and_hms_opt(10, 0, 0)
        .expect("time");
    let appointment = json!({
        "mode": "home",
        "title": "Point téléphonique",
        "follow_up_id": follow_up,
        "starts_at": format!("{}Z", start.format("%Y-%m-%dT%H:%M:%S")),
        "ends_at": format!("{}Z", (start + Duration::minutes(30)).format("%Y-%m-%dT%H:%M:%S")),
        "staff_ids": [world.account("coordinator")],
        "unaccompanied_reason": "Elle préfère venir seule.",
    });
    let path = "/api/v1/appointments";
    let first = post_with_key(&app, &coordinator, path, "appt-1", &appointment).await;
    assert_eq!(first.status(), 201, "{:?}", first.text().await);
    let location = first.headers()["location"]
        .to_str()
        .expect("location")
        .to_owned();
    let first = json(first, 201).await;
    let again = post_with_key(&app, &coordinator, path, "appt-1", &appointment).await;
    assert_eq!(again.headers()["location"], location.as_str());
    let again = json(again, 201).await;
    assert_eq!(
        again["id"], first["id"],
        "one appointment, not two (no double-booking 409)"
    );
    // The same key of another caller is another request.
    let supervisor = world.token("supervisor");
    let theirs = post_with_key(&app, supervisor, &notes, "note-1", &note).await;
    assert_ne!(json(theirs, 201).await["id"], first["id"]);
}

async fn text_with_nul_is_refused_naming_the_field(app: TestApp) {
    let world = app.world().await;
    let partner = world.token("partner").to_owned();
    let body = referral_body("A\u{0}B", "Nul", "x@example.org");
    let response = app
        .authed(Method::POST, "/api/v1/referrals", &partner)
        .json(&body)
        .send()
        .await
        .expect("sent");
    let p = problem(response, 400, "invalid-input").await;
    assert_eq!(p["errors"][0]["field"], "person.first_name");
    assert_eq!(p["errors"][0]["code"], "characters");
    let stored = text_columns_holding(&app.db(), "Nul").await.expect("scan");
    assert!(
        !stored.iter().any(|c| c.starts_with("people.")),
        "{stored:?}"
    );

    let admin = world.token("admin").to_owned();
    let response = app
        .authed(Method::POST, "/api/v1/organisations", &admin)
        .json(&json!({"name": "Foyer\u{0}", "kind": "ase", "departement_code": "93"}))
        .send()
        .await
        .expect("sent");
    let p = problem(response, 400, "invalid-input").await;
    assert_eq!(p["errors"][0]["field"], "name");

    let p = problem(
        app.get("/api/v1/public/directory?q=a%00b").await,
        400,
        "invalid-input",
    )
    .await;
    assert_eq!(p["errors"][0]["field"], "q");
    let response = app
        .authed(Method::GET, "/api/v1/referrals/a%00b", &partner)
        .send()
        .await
        .expect("sent");
    let p = problem(response, 400, "invalid-input").await;
    assert_eq!(p["errors"][0]["field"], "path");
}

/// "Who saw this young person's referral?" finds the lists that showed it:
/// a list read writes one audit entry naming every record it returned, in
/// the hash chain like any entry.
async fn a_list_read_names_every_record_it_returned(app: TestApp) {
    let world = app.world().await;
    let mut ids = Vec::new();
    for name in ["Lina", "Inès", "Maëlle"] {
        let response = app
            .authed(
                Method::POST,
                "/api/v1/referrals",
                world.token("partner_app"),
            )
            .json(&crate::helpers::partner_referral(name))
            .send()
            .await
            .expect("sent");
        ids.push(
            json(response, 201).await["id"]
                .as_str()
                .expect("id")
                .to_owned(),
        );
    }
    // A page of two, then the rest.
    let first = app
        .get_json("/api/v1/referrals?limit=2", world.token("coordinator"), 200)
        .await;
    let shown: Vec<String> = first["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|r| r["id"].as_str().expect("id").to_owned())
        .collect();
    assert_eq!(shown.len(), 2);
    let entries = |id: String| {
        let app = &app;
        let token = world.token("supervisor").to_owned();
        async move {
            app.get_json(
                &format!("/api/v1/audit?resource_id={id}&limit=200"),
                &token,
                200,
            )
            .await["items"]
                .as_array()
                .expect("items")
                .clone()
        }
    };
    for id in &ids {
        let found = entries(id.clone()).await;
        let lists: Vec<&Value> = found
            .iter()
            .filter(|e| e["action"] == "list_referrals")
            .collect();
        if shown.contains(id) {
            assert_eq!(lists.len(), 1, "{id}: {found:?}");
            let named: Vec<&str> = lists[0]["resource_ids"]
                .as_array()
                .expect("resource_ids")
                .iter()
                .map(|v| v.as_str().expect("id"))
                .collect();
            assert_eq!(named, shown.iter().map(String::as_str).collect::<Vec<_>>());
            assert_eq!(lists[0]["actor_id"], world.account("coordinator"));
            assert!(lists[0]["resource_id"].is_null());
        } else {
            assert!(lists.is_empty(), "{id} was not on the page: {found:?}");
        }
        // Its creation is found too, by its own id.
        assert!(found.iter().any(|e| e["action"] == "create_referral"));
    }
    // A part of an id matches nothing.
    let prefix: String = shown[0].chars().take(8).collect();
    assert!(entries(prefix).await.is_empty());
    // The chain still verifies with list entries in it.
    let db = app.db();
    let verification = db
        .run(adosexo_persistence::audit::verify_chain)
        .await
        .expect("verify");
    assert!(
        matches!(
            verification,
            adosexo_persistence::audit::Verification::Intact { .. }
        ),
        "{verification:?}"
    );
}
