//! Information sharing and consent end to end: share decisions and the
//! partner's projection, consent rules by age, majority.

use chrono::{Datelike, Duration, NaiveDate, Utc};
use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::{PASSWORD, TestApp, World, json, problem};

crate::both_backends!(
    ase_partner_reads_only_what_is_shared_until_revoked,
    under_15_consent_takes_a_parental_authority_holder,
    parental_consent_lapses_on_the_18th_birthday,
    supervisor_exports_everything_held_on_a_person,
);

/// A follow-up of a young person referred by the ASE partner, accepted by
/// the coordinator.
async fn follow_up(app: &TestApp, world: &World, name: &str, birth: &str) -> String {
    let referral = app
        .post_json(
            "/api/v1/referrals",
            world.token("partner"),
            json!({
                "public": "young_person",
                "context": "pre_prostitution",
                "source": "partner_organisation",
                "referrer": {"name": "Mme Diallo, éducatrice", "contact": "01 23 45 67 89"},
                "person": {"first_name": name, "birth_date": birth, "departement_code": "93", "placement": "foyer"},
                "risk_indicators": ["runaway"],
                "summary": "Fugues répétées.",
                "urgency": "urgent"
            }),
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
    json(accepted, 200).await["follow_up_id"]
        .as_str()
        .expect("follow-up")
        .to_owned()
}

/// Involves a relative; returns their person id.
async fn relative(
    app: &TestApp,
    token: &str,
    follow_up: &str,
    name: &str,
    authority: bool,
) -> String {
    let body = app
        .post_json(
            &format!("/api/v1/follow-ups/{follow_up}/people"),
            token,
            json!({"kind": "relative", "first_name": name, "relationship": "mère", "parental_authority": authority}),
            201,
        )
        .await;
    body["involved"]
        .as_array()
        .expect("involved")
        .iter()
        .find(|p| p["first_name"] == name)
        .and_then(|p| p["id"].as_str())
        .expect("relative")
        .to_owned()
}

async fn post_if_match(
    app: &TestApp,
    token: &str,
    path: &str,
    version: &Value,
    body: Value,
) -> reqwest::Response {
    app.authed(Method::POST, path, token)
        .header("If-Match", format!("\"v{version}\""))
        .json(&body)
        .send()
        .await
        .expect("sent")
}

fn paris_today() -> NaiveDate {
    adosexo_domain::consent::paris_date(Utc::now())
}

fn years_before(date: NaiveDate, years: i32) -> NaiveDate {
    NaiveDate::from_ymd_opt(date.year() - years, date.month(), date.day().min(28)).expect("date")
}

async fn ase_partner_reads_only_what_is_shared_until_revoked(app: TestApp) {
    let world = app.world().await;
    let fu = follow_up(&app, &world, "Inès", "2011-05-04").await;
    let staff = world.token("coordinator");
    app.post_json(
        &format!("/api/v1/follow-ups/{fu}/notes"),
        staff,
        json!({"kind": "meeting", "body": "Secret de la note"}),
        201,
    )
    .await;
    app.post_json(
        &format!("/api/v1/follow-ups/{fu}/objectives"),
        staff,
        json!({"objective": "schooling_and_insertion", "status": "in_progress"}),
        200,
    )
    .await;
    let shared_path = format!("/api/v1/shared/follow-ups/{fu}");
    // No decision: nothing to read, and the partner is not told it exists.
    problem(
        app.authed(Method::GET, &shared_path, world.token("partner"))
            .send()
            .await
            .expect("sent"),
        404,
        "not-found",
    )
    .await;

    // The recipient must be bound by secrecy and work in child protection.
    let shares = format!("/api/v1/follow-ups/{fu}/shares");
    let share = |org: &str| {
        json!({
            "organisation_id": org, "purpose": "coordinated_support",
            "field_groups": ["follow_up_status", "objectives_progress"], "family_informed": "yes"
        })
    };
    let refused = app
        .authed(Method::POST, &shares, staff)
        .json(&share(&world.school))
        .send()
        .await
        .expect("sent");
    problem(refused, 422, "share-recipient-not-bound-by-secrecy").await;
    let refused = app
        .authed(Method::POST, &shares, staff)
        .json(&json!({
            "organisation_id": world.org_a, "purpose": "coordinated_support",
            "field_groups": ["follow_up_status"], "family_informed": "no_contrary_to_child_interest"
        }))
        .send()
        .await
        .expect("sent");
    problem(refused, 422, "share-family-justification-missing").await;

    let decision = app
        .post_json(&shares, staff, share(&world.org_a), 201)
        .await;
    assert_eq!(decision["active"], true, "{decision}");
    // PJJ 75's decision does not open anything to ASE 93; ASE 93's does.
    let projection = app
        .get_json(&shared_path, world.token("partner"), 200)
        .await;
    assert_eq!(projection["status"], "active", "{projection}");
    assert_eq!(
        projection["objectives"][0]["objective"], "schooling_and_insertion",
        "{projection}"
    );
    assert!(projection.get("next_appointment").is_none(), "{projection}");
    assert!(projection.get("measure").is_none(), "{projection}");
    let text = projection.to_string();
    for absent in ["Secret de la note", "notes", "staff", "involved", "Inès"] {
        assert!(!text.contains(absent), "{absent} leaked: {text}");
    }
    app.get_json(&shared_path, world.token("partner_app"), 200)
        .await;
    // Staff use the follow-up itself, not the partner view.
    problem(
        app.authed(Method::GET, &shared_path, staff)
            .send()
            .await
            .expect("sent"),
        403,
        "forbidden",
    )
    .await;
    // The partner still has no access to the follow-up or its notes.
    app.get_json(
        &format!("/api/v1/follow-ups/{fu}"),
        world.token("partner"),
        403,
    )
    .await;

    let listed = app.get_json(&shares, staff, 200).await;
    assert_eq!(listed["items"].as_array().expect("items").len(), 1);
    let id = decision["id"].as_str().expect("id");
    let revoked = post_if_match(
        &app,
        staff,
        &format!("{shares}/{id}/revoke"),
        &decision["version"],
        json!({"reason": "fin de la mesure"}),
    )
    .await;
    let revoked = json(revoked, 200).await;
    assert_eq!(revoked["active"], false);
    assert!(revoked["revoked_at"].is_string());
    problem(
        app.authed(Method::GET, &shared_path, world.token("partner"))
            .send()
            .await
            .expect("sent"),
        404,
        "not-found",
    )
    .await;

    // The partner's event feed tells of the referral's steps and of the
    // decision and its revocation, with ids and dates only.
    let feed = app
        .get_json("/api/v1/events?after=0", world.token("partner_app"), 200)
        .await;
    let kinds: Vec<&str> = feed["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|e| e["type"].as_str().expect("type"))
        .collect();
    assert_eq!(
        kinds,
        [
            "referral.status_changed",
            "referral.status_changed",
            "share.granted",
            "share.revoked"
        ],
        "{feed}"
    );
    assert_eq!(feed["items"][2]["data"]["share_id"], id);
    assert_eq!(feed["items"][3]["data"]["follow_up_id"], fu.as_str());
    assert!(feed["items"][3]["data"]["revoked_at"].is_string(), "{feed}");
    for absent in ["fin de la mesure", "Inès", "coordinated_support"] {
        assert!(!feed.to_string().contains(absent), "{absent} leaked");
    }

    let audit = app
        .get_json(
            &format!("/api/v1/audit?resource_type=follow_up&resource_id={fu}&limit=200"),
            world.token("supervisor"),
            200,
        )
        .await;
    let reads: Vec<_> = audit["items"]
        .as_array()
        .expect("items")
        .iter()
        .filter(|e| e["action"] == "read_shared_follow_up")
        .map(|e| e["outcome"].as_str().expect("outcome").to_owned())
        .collect();
    assert_eq!(
        reads.iter().filter(|o| *o == "success").count(),
        2,
        "{reads:?}"
    );
    assert!(reads.len() >= 4, "denied reads are audited too: {reads:?}");
    assert!(
        audit["items"]
            .as_array()
            .expect("items")
            .iter()
            .any(|e| e["action"] == "revoke_share_decision")
    );
}

async fn under_15_consent_takes_a_parental_authority_holder(app: TestApp) {
    let world = app.world().await;
    let birth = years_before(paris_today(), 13);
    let fu = follow_up(&app, &world, "Léa", &birth.to_string()).await;
    let staff = world.token("coordinator");
    let mother = relative(&app, staff, &fu, "Karima", true).await;
    let uncle = relative(&app, staff, &fu, "Omar", false).await;

    let purposes = app
        .get_json("/api/v1/processing-purposes", world.token("partner"), 200)
        .await;
    let basis = |p: &str| {
        purposes["items"]
            .as_array()
            .expect("items")
            .iter()
            .find(|i| i["purpose"] == p)
            .map(|i| i["legal_basis"].clone())
            .expect("purpose")
    };
    assert_eq!(basis("support_file"), "public_interest");
    assert_eq!(basis("phone_contact"), "consent");

    let consents = format!("/api/v1/follow-ups/{fu}/consents");
    let given_at = (Utc::now() - Duration::hours(1)).to_rfc3339();
    let consent = |given_by: Value, holder: Option<&str>| {
        json!({
            "purpose": "phone_contact", "given_by": given_by, "parental_authority_holder_id": holder,
            "method": "written", "evidence_reference": "Formulaire 2026-17", "given_at": given_at
        })
    };
    let alone = app
        .authed(Method::POST, &consents, staff)
        .json(&consent(json!(["young_person"]), None))
        .send()
        .await
        .expect("sent");
    let body = problem(
        alone,
        422,
        "consent-under-15-needs-minor-and-parental-authority",
    )
    .await;
    assert!(
        body["detail"]
            .as_str()
            .expect("detail")
            .contains("under 15"),
        "{body}"
    );
    let not_holder = app
        .authed(Method::POST, &consents, staff)
        .json(&consent(
            json!(["young_person", "parental_authority"]),
            Some(&uncle),
        ))
        .send()
        .await
        .expect("sent");
    problem(not_holder, 422, "not-a-parental-authority-holder").await;
    let mut support = consent(json!(["young_person", "parental_authority"]), Some(&mother));
    support["purpose"] = json!("support_file");
    let refused = app
        .authed(Method::POST, &consents, staff)
        .json(&support)
        .send()
        .await
        .expect("sent");
    problem(refused, 422, "purpose-not-consent-based").await;

    let created = app
        .post_json(
            &consents,
            staff,
            consent(json!(["young_person", "parental_authority"]), Some(&mother)),
            201,
        )
        .await;
    assert_eq!(created["state"], "effective", "{created}");
    assert_eq!(created["parental_authority_holder_id"], mother.as_str());
    let coverage = format!("/api/v1/follow-ups/{fu}/consent-coverage?purpose=phone_contact");
    let covered = app.get_json(&coverage, staff, 200).await;
    assert_eq!(covered["covered"], true, "{covered}");
    assert_eq!(covered["reason"], "effective_consent");
    assert_eq!(covered["consent_id"], created["id"]);
    let support = app
        .get_json(
            &format!("/api/v1/follow-ups/{fu}/consent-coverage?purpose=support_file"),
            staff,
            200,
        )
        .await;
    assert_eq!(support["covered"], true);
    assert_eq!(support["reason"], "public_interest_mission");
    let research = app
        .get_json(
            &format!("/api/v1/follow-ups/{fu}/consent-coverage?purpose=research"),
            staff,
            200,
        )
        .await;
    assert_eq!(research["covered"], false);

    // Withdrawal takes effect at once; the record stays.
    let id = created["id"].as_str().expect("id");
    let withdrawn = post_if_match(
        &app,
        staff,
        &format!("{consents}/{id}/withdraw"),
        &created["version"],
        json!({"withdrawn_by": "parental_authority"}),
    )
    .await;
    let withdrawn = json(withdrawn, 200).await;
    assert_eq!(withdrawn["state"], "withdrawn");
    let after = app.get_json(&coverage, staff, 200).await;
    assert_eq!(after["covered"], false, "{after}");
    assert_eq!(after["consents"][0]["state"], "withdrawn");
    // Invalidation is a separate action, also kept.
    let second = app
        .post_json(
            &consents,
            staff,
            consent(json!(["young_person", "parental_authority"]), Some(&mother)),
            201,
        )
        .await;
    let id = second["id"].as_str().expect("id");
    let stale = post_if_match(
        &app,
        staff,
        &format!("{consents}/{id}/invalidate"),
        &json!(7),
        json!({"reason": "saisi sur le mauvais dossier"}),
    )
    .await;
    problem(stale, 412, "precondition-failed").await;
    let invalidated = post_if_match(
        &app,
        staff,
        &format!("{consents}/{id}/invalidate"),
        &second["version"],
        json!({"reason": "saisi sur le mauvais dossier"}),
    )
    .await;
    assert_eq!(json(invalidated, 200).await["state"], "invalidated");
    let all = app.get_json(&consents, staff, 200).await;
    assert_eq!(all["items"].as_array().expect("items").len(), 2);
}

async fn parental_consent_lapses_on_the_18th_birthday(app: TestApp) {
    let world = app.world().await;
    let today = paris_today();
    let birthday = today + Duration::days(10);
    let birth = years_before(birthday, 18);
    let birthday = NaiveDate::from_ymd_opt(birthday.year(), birth.month(), birth.day()).expect("d");
    let days_to_birthday = (birthday - today).num_days();
    let fu = follow_up(&app, &world, "Sarah", &birth.to_string()).await;
    let staff = world.token("coordinator");
    let mother = relative(&app, staff, &fu, "Nadia", true).await;
    let consents = format!("/api/v1/follow-ups/{fu}/consents");
    let created = app
        .post_json(
            &consents,
            staff,
            json!({
                "purpose": "family_contact", "given_by": ["young_person", "parental_authority"],
                "parental_authority_holder_id": mother, "method": "oral",
                "evidence_reference": "Entretien du jour", "given_at": (Utc::now() - Duration::hours(1)).to_rfc3339()
            }),
            201,
        )
        .await;
    let renewals = app.get_json("/api/v1/consent-renewals", staff, 200).await;
    let item = renewals["items"]
        .as_array()
        .expect("items")
        .iter()
        .find(|i| i["consent_id"] == created["id"])
        .cloned()
        .expect("listed 10 days ahead");
    assert_eq!(item["status"], "due");
    assert_eq!(item["due_on"], birthday.to_string());
    // Outside the coordinator's territory, the regional referent sees nothing.
    let far = app
        .get_json(
            "/api/v1/consent-renewals",
            world.token("regional_referent"),
            200,
        )
        .await;
    assert!(far["items"].as_array().expect("items").is_empty());
    let near = app
        .get_json("/api/v1/consent-renewals?within_days=5", staff, 200)
        .await;
    assert!(near["items"].as_array().expect("items").is_empty());

    let coverage = format!("/api/v1/follow-ups/{fu}/consent-coverage?purpose=family_contact");
    // The day before the 18th birthday: effective.
    app.advance(Duration::days(days_to_birthday - 1));
    let staff = app.login("coordinator@test.example", PASSWORD).await.access;
    let before = app.get_json(&coverage, &staff, 200).await;
    assert_eq!(before["covered"], true, "{before}");
    let report = adosexo_api::cli::run_majority(
        &app.db(),
        Utc::now() + Duration::days(days_to_birthday - 1),
    )
    .await
    .expect("job");
    assert_eq!(report.lapsed, 0);

    // On the day: lapsed, listed for renewal.
    app.advance(Duration::days(1));
    let staff = app.login("coordinator@test.example", PASSWORD).await.access;
    let on = app.get_json(&coverage, &staff, 200).await;
    assert_eq!(on["covered"], false, "{on}");
    assert_eq!(on["consents"][0]["state"], "lapsed_at_majority");
    let report =
        adosexo_api::cli::run_majority(&app.db(), Utc::now() + Duration::days(days_to_birthday))
            .await
            .expect("job");
    assert_eq!(report.lapsed, 1);
    assert_eq!(report.to_recollect.len(), 1);
    assert_eq!(
        report.to_recollect[0].consent_id,
        created["id"].as_str().expect("id")
    );
    let listed = app.get_json("/api/v1/consent-renewals", &staff, 200).await;
    let item = listed["items"]
        .as_array()
        .expect("items")
        .iter()
        .find(|i| i["consent_id"] == created["id"])
        .cloned()
        .expect("still listed");
    assert_eq!(item["status"], "lapsed");

    // A parent can no longer consent nor withdraw; the young adult alone re-consents.
    let id = created["id"].as_str().expect("id");
    let by_parent = post_if_match(
        &app,
        &staff,
        &format!("{consents}/{id}/withdraw"),
        &created["version"],
        json!({"withdrawn_by": "parental_authority"}),
    )
    .await;
    problem(by_parent, 422, "consent-adult-alone").await;
    let renewed_at =
        (Utc::now() + Duration::days(days_to_birthday) - Duration::minutes(1)).to_rfc3339();
    let refused = app
        .authed(Method::POST, &consents, &staff)
        .json(&json!({
            "purpose": "family_contact", "given_by": ["young_person", "parental_authority"],
            "parental_authority_holder_id": mother, "method": "oral",
            "evidence_reference": "x", "given_at": renewed_at
        }))
        .send()
        .await
        .expect("sent");
    problem(refused, 422, "consent-adult-alone").await;
    app.post_json(
        &consents,
        &staff,
        json!({
            "purpose": "family_contact", "given_by": ["young_adult"], "method": "electronic",
            "evidence_reference": "Signature 42", "given_at": renewed_at
        }),
        201,
    )
    .await;
    let renewed = app.get_json(&coverage, &staff, 200).await;
    assert_eq!(renewed["covered"], true, "{renewed}");
    let listed = app.get_json("/api/v1/consent-renewals", &staff, 200).await;
    assert!(
        !listed["items"]
            .as_array()
            .expect("items")
            .iter()
            .any(|i| i["consent_id"] == created["id"]),
        "{listed}"
    );
}

async fn supervisor_exports_everything_held_on_a_person(app: TestApp) {
    let world = app.world().await;
    let birth = years_before(paris_today(), 16);
    let fu = follow_up(&app, &world, "Maëlle", &birth.to_string()).await;
    let staff = world.token("coordinator");
    app.post_json(
        &format!("/api/v1/follow-ups/{fu}/notes"),
        staff,
        json!({"kind": "phone", "body": "Appel du mardi"}),
        201,
    )
    .await;
    relative(&app, staff, &fu, "Sonia", true).await;
    app.post_json(
        &format!("/api/v1/follow-ups/{fu}/consents"),
        staff,
        json!({
            "purpose": "research", "given_by": ["young_person"], "method": "written",
            "evidence_reference": "F-1", "given_at": (Utc::now() - Duration::hours(1)).to_rfc3339()
        }),
        201,
    )
    .await;
    app.post_json(
        &format!("/api/v1/follow-ups/{fu}/shares"),
        staff,
        json!({"organisation_id": world.org_b, "purpose": "continuity_of_care", "field_groups": ["measure"], "family_informed": "yes"}),
        201,
    )
    .await;
    let person = app
        .get_json(&format!("/api/v1/follow-ups/{fu}"), staff, 200)
        .await["person_id"]
        .as_str()
        .expect("person")
        .to_owned();
    let path = format!("/api/v1/people/{person}/export");
    problem(
        app.authed(Method::GET, &path, staff)
            .send()
            .await
            .expect("sent"),
        403,
        "forbidden",
    )
    .await;
    let export = app.get_json(&path, world.token("supervisor"), 200).await;
    assert_eq!(export["person"]["first_name"], "Maëlle", "{export}");
    assert_eq!(export["referrals"].as_array().expect("referrals").len(), 1);
    assert!(
        !export["referrals"][0]["events"]
            .as_array()
            .expect("events")
            .is_empty()
    );
    let follow_up = &export["follow_ups"][0];
    assert_eq!(follow_up["follow_up"]["id"], fu.as_str());
    assert_eq!(follow_up["notes"][0]["body"], "Appel du mardi");
    assert_eq!(follow_up["involved"][0]["first_name"], "Sonia");
    assert_eq!(
        follow_up["share_decisions"]
            .as_array()
            .expect("shares")
            .len(),
        1
    );
    assert_eq!(export["consents"][0]["purpose"], "research");
    let audit = app
        .get_json(
            &format!("/api/v1/audit?resource_type=person&resource_id={person}"),
            world.token("supervisor"),
            200,
        )
        .await;
    let actions: Vec<_> = audit["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|e| (e["action"].clone(), e["outcome"].clone()))
        .collect();
    assert!(
        actions.contains(&(json!("export_person_data"), json!("success"))),
        "{actions:?}"
    );
    assert!(
        actions.contains(&(json!("export_person_data"), json!("denied"))),
        "{actions:?}"
    );
    problem(
        app.authed(
            Method::GET,
            &format!("/api/v1/people/{}/export", uuid::Uuid::new_v4()),
            world.token("supervisor"),
        )
        .send()
        .await
        .expect("sent"),
        404,
        "not-found",
    )
    .await;
}
