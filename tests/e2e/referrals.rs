//! Referrals and follow-ups end to end: intake, idempotency, triage, the
//! danger rule, concurrency on ETags, partner views, sealed notes, audit.

use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::{TestApp, World, json, problem};

crate::both_backends!(
    partner_refers_staff_accept_partner_sees_the_outcome,
    minor_in_prostitution_needs_a_protection_decision,
    concurrent_accepts_with_one_etag_let_one_through,
    notes_are_sealed_and_only_for_the_follow_ups_staff,
    referral_input_errors_are_named,
    texts_of_white_space_only_are_refused_by_rule,
    staff_see_possible_duplicates_and_join_a_follow_up,
    reads_of_referrals_and_follow_ups_are_audited,
    notes_keys_rotate,
    overdue_protection_decisions_are_listed_for_the_supervisor,
);

fn referral(first_name: &str, context: &str, birth_date: &str, departement: &str) -> Value {
    json!({
        "public": "young_person",
        "context": context,
        "source": "partner_organisation",
        "referrer": {"name": "Mme Diallo, éducatrice", "contact": "01 23 45 67 89"},
        "person": {"first_name": first_name, "birth_date": birth_date, "departement_code": departement, "placement": "foyer"},
        "risk_indicators": ["runaway", "online_exposure"],
        "summary": "Fugues répétées, contacts en ligne avec des adultes.",
        "urgency": "urgent"
    })
}

async fn submit(app: &TestApp, token: &str, body: &Value, key: Option<&str>) -> reqwest::Response {
    let mut request = app
        .authed(Method::POST, "/api/v1/referrals", token)
        .json(body);
    if let Some(key) = key {
        request = request.header("Idempotency-Key", key);
    }
    request.send().await.expect("sent")
}

/// `POST path` with `If-Match: etag` and a JSON body.
async fn act(
    app: &TestApp,
    token: &str,
    path: &str,
    etag: &str,
    body: Option<Value>,
) -> reqwest::Response {
    let mut request = app
        .authed(Method::POST, path, token)
        .header("If-Match", etag);
    if let Some(body) = body {
        request = request.json(&body);
    }
    request.send().await.expect("sent")
}

fn etag(response: &reqwest::Response) -> String {
    response.headers()["etag"]
        .to_str()
        .expect("etag")
        .to_owned()
}

/// Staff accepting: the coordinator, leading.
async fn accept(app: &TestApp, world: &World, id: &str, etag: &str) -> reqwest::Response {
    act(
        app,
        world.token("coordinator"),
        &format!("/api/v1/referrals/{id}/accept"),
        etag,
        Some(json!({"lead_staff_id": world.account("coordinator")})),
    )
    .await
}

async fn partner_refers_staff_accept_partner_sees_the_outcome(app: TestApp) {
    let world = app.world().await;
    let body = referral("Lina", "pre_prostitution", "2011-04-02", "93");
    let first = submit(
        &app,
        world.token("partner_app"),
        &body,
        Some("ase93-lina-1"),
    )
    .await;
    let first_etag = etag(&first);
    let first = json(first, 201).await;
    let again = submit(
        &app,
        world.token("partner_app"),
        &body,
        Some("ase93-lina-1"),
    )
    .await;
    let again = json(again, 201).await;
    assert_eq!(
        first["id"], again["id"],
        "a retry never creates a second referral"
    );
    let reference = first["reference"].as_str().expect("reference");
    assert!(
        reference.starts_with("ORI-20") && reference.len() == "ORI-2026-000001".len(),
        "{reference}"
    );
    assert_eq!(first["status"], "submitted");
    assert!(
        first.get("lead_staff_id").is_none(),
        "partners never see staff fields"
    );
    let listed = app
        .get_json("/api/v1/referrals", world.token("partner_app"), 200)
        .await;
    assert_eq!(listed["items"].as_array().map(Vec::len), Some(1));

    let id = first["id"].as_str().expect("id").to_owned();
    // Staff triage: in review, then accepted with a lead and a new follow-up.
    let to_triage = app
        .get_json("/api/v1/me/referrals", world.token("coordinator"), 200)
        .await;
    assert!(
        to_triage["items"]
            .as_array()
            .expect("items")
            .iter()
            .any(|r| r["id"] == id.as_str())
    );
    let reviewed = act(
        &app,
        world.token("coordinator"),
        &format!("/api/v1/referrals/{id}/review"),
        &first_etag,
        None,
    )
    .await;
    let reviewed_etag = etag(&reviewed);
    assert_eq!(json(reviewed, 200).await["status"], "in_review");
    let accepted = accept(&app, &world, &id, &reviewed_etag).await;
    let accepted = json(accepted, 200).await;
    assert_eq!(accepted["status"], "accepted");
    let follow_up_id = accepted["follow_up_id"]
        .as_str()
        .expect("a new follow-up")
        .to_owned();
    assert_eq!(accepted["lead_staff_id"], world.account("coordinator"));

    // The partner sees "accepted", the timeline and whom to contact; nothing of the follow-up.
    let seen = app
        .get_json(
            &format!("/api/v1/referrals/{id}"),
            world.token("partner_app"),
            200,
        )
        .await;
    assert_eq!(seen["status"], "accepted");
    let steps: Vec<_> = seen["timeline"]
        .as_array()
        .expect("timeline")
        .iter()
        .map(|e| e["action"].as_str().expect("action"))
        .collect();
    assert_eq!(steps, ["submit", "review", "accept"]);
    assert_eq!(seen["timeline"][2]["by"], "staff");
    assert_eq!(seen["team_contact"]["email"], "coordinator@test.example");
    assert!(seen.get("follow_up_id").is_none() && seen.get("protection").is_none());
    let response = app
        .authed(
            Method::GET,
            &format!("/api/v1/follow-ups/{follow_up_id}"),
            world.token("partner_app"),
        )
        .send()
        .await
        .expect("sent");
    problem(response, 403, "forbidden").await;

    // Another organisation's referral is a 404 for the partner.
    let mut other = referral("Sam", "unknown", "2010-01-01", "75");
    other["source_organisation_id"] = json!(world.org_b);
    let other = json(
        submit(&app, world.token("supervisor"), &other, None).await,
        201,
    )
    .await;
    let response = app
        .authed(
            Method::GET,
            &format!("/api/v1/referrals/{}", other["id"].as_str().expect("id")),
            world.token("partner_app"),
        )
        .send()
        .await
        .expect("sent");
    problem(response, 404, "not-found").await;
    // ...and a regional referent of another territory does not see it either.
    let response = app
        .authed(
            Method::GET,
            &format!("/api/v1/referrals/{id}"),
            world.token("regional_referent"),
        )
        .send()
        .await
        .expect("sent");
    problem(response, 404, "not-found").await;
    // Actions after a decision are refused, forward only.
    let response = act(
        &app,
        world.token("coordinator"),
        &format!("/api/v1/referrals/{id}/review"),
        &format!("\"v{}\"", accepted["version"]),
        None,
    )
    .await;
    problem(response, 422, "referral-transition-not-allowed").await;
    // Polling: nothing changed since now.
    let since = chrono::Utc::now() + chrono::Duration::seconds(5);
    let polled = app
        .get_json(
            &format!(
                "/api/v1/referrals?updated_since={}",
                since.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
            ),
            world.token("partner_app"),
            200,
        )
        .await;
    assert_eq!(polled["items"], json!([]));
}

async fn minor_in_prostitution_needs_a_protection_decision(app: TestApp) {
    let world = app.world().await;
    let created = submit(
        &app,
        world.token("partner"),
        &referral("Inès", "prostitution", "2012-09-15", "93"),
        None,
    )
    .await;
    let tag = etag(&created);
    let created = json(created, 201).await;
    let id = created["id"].as_str().expect("id").to_owned();
    let staff_view = app
        .get_json(
            &format!("/api/v1/referrals/{id}"),
            world.token("coordinator"),
            200,
        )
        .await;
    assert_eq!(staff_view["protection"]["required"], true);
    assert!(staff_view["protection"]["due_at"].is_string());

    let refused = accept(&app, &world, &id, &tag).await;
    let body = problem(refused, 422, "child-protection-decision-missing").await;
    assert!(
        body["detail"]
            .as_str()
            .expect("detail")
            .contains("2002-305")
    );
    // Nothing changed: the same ETag still works.
    let decided = act(
        &app,
        world.token("coordinator"),
        &format!("/api/v1/referrals/{id}/protection-decision"),
        &tag,
        Some(json!({"kind": "information_preoccupante", "on": "2026-01-10", "details": "IP envoyée à la CRIP 93"})),
    )
    .await;
    let decided_tag = etag(&decided);
    let decided = json(decided, 200).await;
    assert_eq!(decided["protection"]["kind"], "information_preoccupante");
    let accepted = accept(&app, &world, &id, &decided_tag).await;
    assert_eq!(json(accepted, 200).await["status"], "accepted");

    // An adult in prostitution: no decision required.
    let adult = json(
        submit(
            &app,
            world.token("partner"),
            &referral("Maya", "prostitution", "2001-02-03", "93"),
            None,
        )
        .await,
        201,
    )
    .await;
    let adult_view = app
        .get_json(
            &format!("/api/v1/referrals/{}", adult["id"].as_str().expect("id")),
            world.token("coordinator"),
            200,
        )
        .await;
    assert_eq!(adult_view["protection"]["required"], false);
    // Overdue decisions are listed for the supervisor only.
    let response = app
        .authed(
            Method::GET,
            "/api/v1/protection-decisions/overdue",
            world.token("coordinator"),
        )
        .send()
        .await
        .expect("sent");
    problem(response, 403, "forbidden").await;
    let overdue = app
        .get_json(
            "/api/v1/protection-decisions/overdue",
            world.token("supervisor"),
            200,
        )
        .await;
    assert_eq!(overdue["items"], json!([]), "deadlines are 72 hours away");
}

async fn concurrent_accepts_with_one_etag_let_one_through(app: TestApp) {
    let world = app.world().await;
    let created = submit(
        &app,
        world.token("partner"),
        &referral("Noé", "pre_prostitution", "2010-05-05", "75"),
        None,
    )
    .await;
    let tag = etag(&created);
    let id = json(created, 201).await["id"]
        .as_str()
        .expect("id")
        .to_owned();
    let attempts: Vec<_> = (0..8).map(|_| accept(&app, &world, &id, &tag)).collect();
    let mut statuses = Vec::new();
    for response in crate::helpers::join_all(attempts).await {
        statuses.push(response.status().as_u16());
    }
    assert_eq!(
        statuses.iter().filter(|s| **s == 200).count(),
        1,
        "{statuses:?}"
    );
    assert_eq!(
        statuses.iter().filter(|s| **s == 412).count(),
        7,
        "{statuses:?}"
    );
    let follow_ups = app
        .get_json("/api/v1/me/follow-ups", world.token("coordinator"), 200)
        .await;
    assert_eq!(
        follow_ups["items"].as_array().map(Vec::len),
        Some(1),
        "one follow-up, not eight"
    );
}

async fn accepted_follow_up(
    app: &TestApp,
    world: &World,
    name: &str,
    birth: &str,
    departement: &str,
) -> (String, String) {
    let created = submit(
        app,
        world.token("partner"),
        &referral(name, "pre_prostitution", birth, departement),
        None,
    )
    .await;
    let tag = etag(&created);
    let id = json(created, 201).await["id"]
        .as_str()
        .expect("id")
        .to_owned();
    let accepted = json(accept(app, world, &id, &tag).await, 200).await;
    (
        id,
        accepted["follow_up_id"]
            .as_str()
            .expect("follow-up")
            .to_owned(),
    )
}

async fn notes_are_sealed_and_only_for_the_follow_ups_staff(app: TestApp) {
    let world = app.world().await;
    let (_, follow_up) = accepted_follow_up(&app, &world, "Jade", "2011-01-01", "93").await;
    let marker = "entretien-au-foyer-marqueur-7f3a9c";
    let note = app
        .post_json(
            &format!("/api/v1/follow-ups/{follow_up}/notes"),
            world.token("coordinator"),
            json!({"kind": "meeting", "body": format!("Premier {marker}: elle veut parler de son copain.")}),
            201,
        )
        .await;
    assert_eq!(note["kind"], "meeting");
    let notes = app
        .get_json(
            &format!("/api/v1/follow-ups/{follow_up}/notes"),
            world.token("coordinator"),
            200,
        )
        .await;
    assert!(
        notes["items"][0]["body"]
            .as_str()
            .expect("body")
            .contains(marker)
    );
    app.get_json(
        &format!("/api/v1/follow-ups/{follow_up}/notes"),
        world.token("supervisor"),
        200,
    )
    .await;
    for role in ["partner", "partner_app", "analyst", "admin"] {
        let response = app
            .authed(
                Method::GET,
                &format!("/api/v1/follow-ups/{follow_up}/notes"),
                world.token(role),
            )
            .send()
            .await
            .expect("sent");
        problem(response, 403, "forbidden").await;
    }
    // The plaintext is nowhere in storage.
    assert_eq!(
        adosexo_persistence::testing::notes_storing(&app.db(), marker)
            .await
            .expect("query"),
        0
    );
    assert_eq!(
        adosexo_persistence::testing::notes_storing(&app.db(), "copain")
            .await
            .expect("query"),
        0
    );
    if let Some(path) = app.database_url.strip_prefix("sqlite://") {
        for file in [path.to_owned(), format!("{path}-wal")] {
            if let Ok(bytes) = std::fs::read(&file) {
                let found = bytes.windows(marker.len()).any(|w| w == marker.as_bytes());
                assert!(!found, "{file} holds a note in clear");
            }
        }
    }
    // Relatives and professionals take part.
    let path = format!("/api/v1/follow-ups/{follow_up}");
    app.post_json(
        &format!("{path}/people"),
        world.token("coordinator"),
        json!({"kind": "relative", "first_name": "Karima", "relationship": "mère", "parental_authority": true}),
        201,
    )
    .await;
    let with_people = app
        .post_json(
            &format!("{path}/people"),
            world.token("coordinator"),
            json!({"kind": "professional", "first_name": "Paul", "organisation_name": "ASE 93", "professional_role": "éducateur"}),
            201,
        )
        .await;
    let kinds: Vec<_> = with_people["involved"]
        .as_array()
        .expect("involved")
        .iter()
        .map(|p| p["kind"].as_str().expect("kind"))
        .collect();
    assert_eq!(kinds, ["relative", "professional"]);
    assert_eq!(with_people["involved"][0]["parental_authority"], true);
    // Objectives keep their history; closing needs a reason.
    app.post_json(
        &format!("{path}/objectives"),
        world.token("coordinator"),
        json!({"objective": "health", "status": "in_progress"}),
        200,
    )
    .await;
    let view = app
        .post_json(
            &format!("{path}/objectives"),
            world.token("coordinator"),
            json!({"objective": "health", "status": "achieved"}),
            200,
        )
        .await;
    assert_eq!(view["objectives"][0]["status"], "achieved");
    assert_eq!(view["objective_history"].as_array().map(Vec::len), Some(2));
    let tag = format!("\"v{}\"", view["version"]);
    let response = act(
        &app,
        world.token("coordinator"),
        &format!("{path}/status"),
        &tag,
        Some(json!({"action": "close"})),
    )
    .await;
    let body = problem(response, 422, "invalid-value").await;
    assert_eq!(body["errors"][0]["field"], "closure_reason");
    let closed = act(
        &app,
        world.token("coordinator"),
        &format!("{path}/status"),
        &tag,
        Some(json!({"action": "close", "closure_reason": "goals_reached"})),
    )
    .await;
    assert_eq!(json(closed, 200).await["status"], "closed");
}

async fn referral_input_errors_are_named(app: TestApp) {
    let world = app.world().await;
    let mut body = referral("", "sometimes", "2011-13-01", "7");
    body["risk_indicators"] = json!(["runaway", "runaway"]);
    let response = submit(&app, world.token("partner"), &body, None).await;
    let problem_body = problem(response, 400, "invalid-input").await;
    assert!(
        problem_body["errors"][0]["field"].as_str().is_some(),
        "{problem_body}"
    );
    let body = {
        let mut b = referral("Léa", "pre_prostitution", "2011-01-01", "7");
        b["person"]["departement_code"] = json!("7");
        b
    };
    let response = submit(&app, world.token("partner"), &body, None).await;
    let problem_body = problem(response, 400, "invalid-input").await;
    assert_eq!(
        problem_body["errors"][0]["field"],
        "person.departement_code"
    );
    let future = referral("Léa", "pre_prostitution", "2099-01-01", "93");
    let problem_body = problem(
        submit(&app, world.token("partner"), &future, None).await,
        422,
        "invalid-value",
    )
    .await;
    assert_eq!(problem_body["errors"][0]["field"], "person.birth_date");
    // Partners refer for their own organisation.
    let mut parent = referral("Léa", "pre_prostitution", "2011-01-01", "93");
    parent["source"] = json!("parent");
    problem(
        submit(&app, world.token("partner"), &parent, None).await,
        422,
        "partner-source",
    )
    .await;
    // Analysts and admins do not refer.
    let response = submit(
        &app,
        world.token("analyst"),
        &referral("Léa", "unknown", "2011-01-01", "93"),
        None,
    )
    .await;
    problem(response, 403, "forbidden").await;
}

/// Names and titles of Unicode white space only pass the schema (JSON
/// Schema's `\s` is narrower) and say nothing: 422 `blank` naming the field,
/// and nothing stored.
async fn texts_of_white_space_only_are_refused_by_rule(app: TestApp) {
    let world = app.world().await;
    let admin = world.token("admin");
    let count = |path: &'static str, token: String| {
        let app = &app;
        async move {
            app.get_json(path, &token, 200).await["items"]
                .as_array()
                .expect("items")
                .len()
        }
    };
    let referrals_before = count(
        "/api/v1/referrals?limit=200",
        world.token("supervisor").to_owned(),
    )
    .await;
    let organisations_before = count("/api/v1/organisations?limit=200", admin.to_owned()).await;
    for blank in ["\u{3000}", "\u{85}\u{a0}", " \u{2028} "] {
        let mut body = referral(blank, "unknown", "2011-01-01", "93");
        let refused = problem(
            submit(&app, world.token("partner"), &body, None).await,
            422,
            "invalid-value",
        )
        .await;
        assert_eq!(
            refused["errors"][0]["field"], "person.first_name",
            "{refused}"
        );
        assert_eq!(refused["errors"][0]["code"], "blank", "{refused}");
        body["person"]["first_name"] = json!("Léa");
        body["referrer"]["name"] = json!(blank);
        let refused = problem(
            submit(&app, world.token("partner"), &body, None).await,
            422,
            "invalid-value",
        )
        .await;
        assert_eq!(refused["errors"][0]["field"], "referrer.name", "{refused}");
        let refused = problem(
            app.authed(Method::POST, "/api/v1/organisations", admin)
                .json(&json!({"name": blank, "kind": "ase", "departement_code": "13", "shares_secrecy": true}))
                .send()
                .await
                .expect("sent"),
            422,
            "invalid-value",
        )
        .await;
        assert_eq!(refused["errors"][0]["field"], "name", "{refused}");
        assert_eq!(refused["errors"][0]["code"], "blank", "{refused}");
    }
    assert_eq!(
        count(
            "/api/v1/referrals?limit=200",
            world.token("supervisor").to_owned()
        )
        .await,
        referrals_before
    );
    assert_eq!(
        count("/api/v1/organisations?limit=200", admin.to_owned()).await,
        organisations_before
    );
    // Surrounding white space of any kind is trimmed from what is kept.
    let mut body = referral("\u{3000}Léa\u{85}", "unknown", "2011-01-01", "93");
    body["referrer"]["name"] = json!("\u{a0}Mme Diallo ");
    let kept = json(submit(&app, world.token("partner"), &body, None).await, 201).await;
    assert_eq!(kept["person"]["first_name"], "Léa", "{kept}");
    assert_eq!(kept["referrer_name"], "Mme Diallo", "{kept}");
}

async fn staff_see_possible_duplicates_and_join_a_follow_up(app: TestApp) {
    let world = app.world().await;
    let (_, follow_up) = accepted_follow_up(&app, &world, "Élodie", "2010-07-14", "93").await;
    let second = submit(
        &app,
        world.token("partner"),
        &referral("ELODIE", "unknown", "2010-07-14", "93"),
        None,
    )
    .await;
    let tag = etag(&second);
    let second = json(second, 201).await;
    let id = second["id"].as_str().expect("id");
    let view = app
        .get_json(
            &format!("/api/v1/referrals/{id}"),
            world.token("coordinator"),
            200,
        )
        .await;
    let duplicates = view["possible_duplicates"].as_array().expect("duplicates");
    assert_eq!(duplicates.len(), 1, "{view}");
    assert_eq!(duplicates[0]["follow_up_id"], follow_up.as_str());
    let partner_view = app
        .get_json(
            &format!("/api/v1/referrals/{id}"),
            world.token("partner"),
            200,
        )
        .await;
    assert!(partner_view.get("possible_duplicates").is_none());
    let joined = act(
        &app,
        world.token("coordinator"),
        &format!("/api/v1/referrals/{id}/accept"),
        &tag,
        Some(json!({"lead_staff_id": world.account("coordinator"), "follow_up_id": follow_up})),
    )
    .await;
    assert_eq!(json(joined, 200).await["follow_up_id"], follow_up.as_str());
    let follow = app
        .get_json(
            &format!("/api/v1/follow-ups/{follow_up}"),
            world.token("coordinator"),
            200,
        )
        .await;
    assert_eq!(follow["referral_ids"].as_array().map(Vec::len), Some(2));
}

async fn reads_of_referrals_and_follow_ups_are_audited(app: TestApp) {
    let world = app.world().await;
    let (referral_id, follow_up) =
        accepted_follow_up(&app, &world, "Rose", "2011-03-03", "75").await;
    app.get_json(
        &format!("/api/v1/referrals/{referral_id}"),
        world.token("partner"),
        200,
    )
    .await;
    app.get_json(
        &format!("/api/v1/follow-ups/{follow_up}"),
        world.token("coordinator"),
        200,
    )
    .await;
    let audit = app
        .get_json(
            &format!("/api/v1/audit?resource_type=referral&resource_id={referral_id}"),
            world.token("supervisor"),
            200,
        )
        .await;
    let actions: Vec<_> = audit["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|e| e["action"].as_str().expect("action").to_owned())
        .collect();
    assert!(actions.contains(&"read_referral".to_owned()), "{actions:?}");
    assert!(
        actions.contains(&"create_referral".to_owned()),
        "{actions:?}"
    );
    assert!(
        actions.contains(&"accept_referral".to_owned()),
        "{actions:?}"
    );
    let audit = app
        .get_json(
            &format!("/api/v1/audit?resource_type=follow_up&resource_id={follow_up}"),
            world.token("supervisor"),
            200,
        )
        .await;
    assert!(
        audit["items"]
            .as_array()
            .expect("items")
            .iter()
            .any(|e| e["action"] == "read_follow_up")
    );
}

async fn notes_keys_rotate(app: TestApp) {
    use adosexo_api::crypto::{NotesKeys, Sealed};
    let world = app.world().await;
    let (_, follow_up) = accepted_follow_up(&app, &world, "Lou", "2011-02-02", "93").await;
    for text in ["première note", "seconde note"] {
        app.post_json(
            &format!("/api/v1/follow-ups/{follow_up}/notes"),
            world.token("coordinator"),
            json!({"kind": "phone", "body": text}),
            201,
        )
        .await;
    }
    let old = "test-1:c2l4dGVlbi1ieXRlLXRlc3Qtbm90ZXMta2V5IS4uLi4=";
    let new = NotesKeys::generate_entry("test-2").expect("key");
    let keys = NotesKeys::parse(&format!("{old},{new}"), "test-2").expect("keys");
    let db = app.db();
    assert_eq!(
        adosexo_api::cli::rotate_notes(&db, &keys)
            .await
            .expect("rotated"),
        2
    );
    assert_eq!(
        adosexo_api::cli::rotate_notes(&db, &keys)
            .await
            .expect("rotated"),
        0,
        "nothing left to re-seal"
    );
    // Every note opens with the new key alone.
    let only_new = NotesKeys::parse(&new, "test-2").expect("keys");
    let id = follow_up.clone();
    let rows = db
        .run(move |conn| adosexo_persistence::cases::notes_of(conn, &id))
        .await
        .expect("notes");
    let texts: Vec<String> = rows
        .iter()
        .map(|n| {
            let sealed = Sealed {
                key_id: n.key_id.clone(),
                nonce: n.nonce.clone(),
                ciphertext: n.ciphertext.clone(),
            };
            only_new
                .open(
                    &sealed,
                    &adosexo_api::routes::followups::note_context(&n.id, &n.follow_up_id),
                )
                .expect("opens")
        })
        .collect();
    assert_eq!(texts, ["première note", "seconde note"]);
}

async fn overdue_protection_decisions_are_listed_for_the_supervisor(app: TestApp) {
    let world = app.world().await;
    let created = json(
        submit(
            &app,
            world.token("partner"),
            &referral("Nour", "prostitution", "2012-06-06", "93"),
            None,
        )
        .await,
        201,
    )
    .await;
    let id = created["id"].as_str().expect("id").to_owned();
    // Four days later, the 72-hour deadline has passed.
    app.advance(chrono::Duration::days(4));
    let supervisor = app
        .login("supervisor@test.example", crate::helpers::PASSWORD)
        .await;
    let overdue = app
        .get_json(
            "/api/v1/protection-decisions/overdue",
            &supervisor.access,
            200,
        )
        .await;
    let ids: Vec<_> = overdue["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|r| r["id"].as_str().expect("id"))
        .collect();
    assert_eq!(ids, [id.as_str()]);
}
