//! Identity, access control and the audit trail, end to end.

use std::collections::BTreeMap;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::{PASSWORD, TEST_JWT_KEY, TestApp, json, problem, tokens};

crate::both_backends!(
    each_role_gets_tokens_and_its_identity,
    token_attacks_are_refused,
    partner_sees_only_its_own_organisation,
    logout_and_disabling_revoke_at_once,
    refresh_tokens_rotate_and_reuse_revokes_the_session,
    client_credentials_and_revocation,
    login_throttling_does_not_reveal_accounts,
    totp_enrolment_and_second_factor,
    audit_trail_records_and_detects_tampering,
    idempotent_creation,
    if_match_guards_changes,
    account_rules_are_named,
    admins_cannot_lock_themselves_out,
    bodies_fail_as_problems,
    every_operation_is_authorized_as_the_table_says,
    password_checks_do_not_hold_up_the_http_worker,
);

fn claims_of(token: &str) -> (Value, Value) {
    let mut parts = token.split('.');
    let header = URL_SAFE_NO_PAD
        .decode(parts.next().expect("header"))
        .expect("b64");
    let payload = URL_SAFE_NO_PAD
        .decode(parts.next().expect("payload"))
        .expect("b64");
    (
        serde_json::from_slice(&header).expect("json"),
        serde_json::from_slice(&payload).expect("json"),
    )
}

fn sign(header: Header, claims: &Value) -> String {
    let key = EncodingKey::from_ed_pem(TEST_JWT_KEY.as_bytes()).expect("test key");
    jsonwebtoken::encode(&header, claims, &key).expect("signs")
}

fn ed_header(kid: &str) -> Header {
    let mut header = Header::new(Algorithm::EdDSA);
    header.kid = Some(kid.to_owned());
    header
}

async fn unauthorized(app: &TestApp, token: &str, what: &str) {
    let response = app
        .authed(Method::GET, "/api/v1/me", token)
        .send()
        .await
        .expect("sent");
    assert_eq!(response.status(), 401, "{what}");
    assert!(
        response.headers().contains_key("www-authenticate"),
        "{what}"
    );
    problem(response, 401, "unauthorized").await;
}

async fn each_role_gets_tokens_and_its_identity(app: TestApp) {
    let world = app.world().await;
    let me = app.get_json("/api/v1/me", world.token("admin"), 200).await;
    assert_eq!(me["roles"], json!(["admin"]));
    assert_eq!(me["kind"], "account");
    let me = app
        .get_json("/api/v1/me", world.token("coordinator"), 200)
        .await;
    assert_eq!(me["roles"], json!(["coordinator"]));
    assert_eq!(me["territory"], json!(["75", "93"]));
    assert_eq!(me["email"], "coordinator@test.example");
    let me = app
        .get_json("/api/v1/me", world.token("partner_app"), 200)
        .await;
    assert_eq!(me["kind"], "client");
    assert_eq!(me["organisation_id"], world.org_a.as_str());
    assert_eq!(
        me["scopes"],
        json!([
            "referrals:read",
            "referrals:write",
            "follow-ups:read",
            "appointments:read",
            "appointments:write",
            "events:read",
            "trainings:write"
        ])
    );
    assert_eq!(me["email"], Value::Null);
    // The access token carries what the issue asks, and names its key.
    let (header, claims) = claims_of(world.token("coordinator"));
    assert_eq!(header["alg"], "EdDSA");
    assert!(header["kid"].is_string());
    for claim in [
        "iss", "aud", "sub", "exp", "iat", "nbf", "jti", "roles", "org",
    ] {
        assert!(!claims[claim].is_null(), "claim {claim}");
    }
    assert_eq!(
        claims["exp"].as_i64().expect("exp") - claims["iat"].as_i64().expect("iat"),
        900
    );
    // The published keys verify it.
    let jwks = json(app.get("/.well-known/jwks.json").await, 200).await;
    assert_eq!(jwks["keys"][0]["kid"], header["kid"]);
    assert_eq!(jwks["keys"][0]["crv"], "Ed25519");
    let school = app
        .get_json(
            &format!("/api/v1/organisations/{}", world.school),
            world.token("coordinator"),
            200,
        )
        .await;
    assert_eq!(
        (school["kind"].as_str(), school["shares_secrecy"].as_bool()),
        (Some("school"), Some(false))
    );
    // A client secret is never shown again.
    let clients = app
        .get_json("/api/v1/clients", world.token("admin"), 200)
        .await;
    assert!(clients["items"][0].get("client_secret").is_none());
}

async fn token_attacks_are_refused(app: TestApp) {
    let world = app.world().await;
    let real = world.token("coordinator").to_owned();
    let (header, claims) = claims_of(&real);
    let kid = header["kid"].as_str().expect("kid").to_owned();
    let now = chrono::Utc::now().timestamp();

    // Sanity: a token forged with the real key and real claims works.
    app.get_json("/api/v1/me", &sign(ed_header(&kid), &claims), 200)
        .await;

    let mut expired = claims.clone();
    expired["exp"] = json!(now - 60);
    expired["iat"] = json!(now - 1000);
    expired["nbf"] = json!(now - 1000);
    unauthorized(&app, &sign(ed_header(&kid), &expired), "expired").await;

    let mut tampered = real.clone();
    let at = tampered.len() - 10;
    let replacement = if &tampered[at..=at] == "A" { "B" } else { "A" };
    tampered.replace_range(at..=at, replacement);
    unauthorized(&app, &tampered, "bad signature").await;

    let none_header =
        URL_SAFE_NO_PAD.encode(json!({"alg": "none", "typ": "JWT", "kid": kid}).to_string());
    let payload = URL_SAFE_NO_PAD.encode(claims.to_string());
    unauthorized(&app, &format!("{none_header}.{payload}."), "alg none").await;

    let jwks = json(app.get("/.well-known/jwks.json").await, 200).await;
    let public = URL_SAFE_NO_PAD
        .decode(jwks["keys"][0]["x"].as_str().expect("x"))
        .expect("b64");
    for secret in [
        public.clone(),
        jwks["keys"][0]["x"]
            .as_str()
            .expect("x")
            .as_bytes()
            .to_vec(),
    ] {
        let mut hs = Header::new(Algorithm::HS256);
        hs.kid = Some(kid.clone());
        let token = jsonwebtoken::encode(
            &hs,
            &claims,
            &EncodingKey::from_secret(&secret).expect("hmac key"),
        )
        .expect("signs");
        unauthorized(&app, &token, "HS256 with the public key").await;
    }

    let mut no_aud = claims.clone();
    no_aud.as_object_mut().expect("object").remove("aud");
    unauthorized(&app, &sign(ed_header(&kid), &no_aud), "missing aud").await;

    let mut wrong_iss = claims.clone();
    wrong_iss["iss"] = json!("https://evil.example");
    unauthorized(&app, &sign(ed_header(&kid), &wrong_iss), "wrong iss").await;

    let mut no_sub = claims.clone();
    no_sub.as_object_mut().expect("object").remove("sub");
    unauthorized(&app, &sign(ed_header(&kid), &no_sub), "missing sub").await;

    unauthorized(
        &app,
        &sign(ed_header("0000000000000000"), &claims),
        "unknown kid",
    )
    .await;
    unauthorized(
        &app,
        &sign(Header::new(Algorithm::EdDSA), &claims),
        "no kid",
    )
    .await;

    // A token naming another subject than its session's.
    let mut other_subject = claims.clone();
    other_subject["sub"] = json!(world.account("supervisor"));
    unauthorized(
        &app,
        &sign(ed_header(&kid), &other_subject),
        "subject swapped",
    )
    .await;

    unauthorized(&app, "not-a-jwt", "garbage").await;
    let response = app
        .request(Method::GET, "/api/v1/me")
        .send()
        .await
        .expect("sent");
    problem(response, 401, "unauthorized").await;
    let response = app
        .request(Method::GET, "/api/v1/me")
        .header("Authorization", format!("Basic {real}"))
        .send()
        .await
        .expect("sent");
    problem(response, 401, "unauthorized").await;

    // A disabled account's token stops at once.
    let admin = world.token("admin");
    let account = app
        .get(&format!(
            "/api/v1/accounts/{}",
            world.account("coordinator")
        ))
        .await;
    assert_eq!(account.status(), 401, "anonymous");
    let response = app
        .authed(
            Method::GET,
            &format!("/api/v1/accounts/{}", world.account("coordinator")),
            admin,
        )
        .send()
        .await
        .expect("sent");
    let etag = response.headers()["etag"]
        .to_str()
        .expect("etag")
        .to_owned();
    let response = app
        .authed(
            Method::POST,
            &format!("/api/v1/accounts/{}/disable", world.account("coordinator")),
            admin,
        )
        .header("If-Match", etag)
        .send()
        .await
        .expect("sent");
    assert_eq!(json(response, 200).await["status"], "disabled");
    unauthorized(&app, &real, "disabled account").await;
    let response = app
        .token_request(json!({"grant_type": "password", "username": "coordinator@test.example", "password": PASSWORD}))
        .await;
    problem(response, 401, "invalid-credentials").await;
}

async fn partner_sees_only_its_own_organisation(app: TestApp) {
    let world = app.world().await;
    for role in ["partner", "partner_app"] {
        let own = app
            .get_json(
                &format!("/api/v1/organisations/{}", world.org_a),
                world.token(role),
                200,
            )
            .await;
        assert_eq!(own["name"], "ASE 93");
        let response = app
            .authed(
                Method::GET,
                &format!("/api/v1/organisations/{}", world.org_b),
                world.token(role),
            )
            .send()
            .await
            .expect("sent");
        problem(response, 404, "not-found").await;
        let response = app
            .authed(Method::GET, "/api/v1/organisations", world.token(role))
            .send()
            .await
            .expect("sent");
        problem(response, 403, "forbidden").await;
    }
    // An analyst asking for personal data: 403.
    let response = app
        .authed(
            Method::GET,
            &format!("/api/v1/accounts/{}", world.account("partner")),
            world.token("analyst"),
        )
        .send()
        .await
        .expect("sent");
    problem(response, 403, "forbidden").await;
}

async fn logout_and_disabling_revoke_at_once(app: TestApp) {
    let world = app.world().await;
    let session = app.login("supervisor@test.example", PASSWORD).await;
    app.get_json("/api/v1/me", &session.access, 200).await;
    let response = app
        .authed(Method::POST, "/api/v1/auth/logout", &session.access)
        .send()
        .await
        .expect("sent");
    assert_eq!(response.status(), 204);
    unauthorized(&app, &session.access, "after logout").await;
    let response = app
        .token_request(json!({"grant_type": "refresh_token", "refresh_token": session.refresh.expect("refresh")}))
        .await;
    problem(response, 401, "invalid-credentials").await;
    // Other sessions of the same person go on.
    app.get_json("/api/v1/me", world.token("supervisor"), 200)
        .await;
}

async fn refresh_tokens_rotate_and_reuse_revokes_the_session(app: TestApp) {
    let world = app.world().await;
    let first = world
        .people
        .iter()
        .find(|(r, _, _)| *r == "coordinator")
        .expect("coordinator")
        .2
        .clone();
    let r1 = first.refresh.clone().expect("refresh token");
    let second = tokens(
        app.token_request(json!({"grant_type": "refresh_token", "refresh_token": r1}))
            .await,
    )
    .await;
    let r2 = second.refresh.clone().expect("rotated");
    assert_ne!(r1, r2);
    app.get_json("/api/v1/me", &second.access, 200).await;
    // Replaying the spent token: refused, and the whole session ends.
    let response = app
        .token_request(json!({"grant_type": "refresh_token", "refresh_token": r1}))
        .await;
    problem(response, 401, "invalid-credentials").await;
    let response = app
        .token_request(json!({"grant_type": "refresh_token", "refresh_token": r2}))
        .await;
    problem(response, 401, "invalid-credentials").await;
    unauthorized(&app, &second.access, "session revoked by reuse").await;
    unauthorized(&app, &first.access, "session revoked by reuse").await;
    let response = app
        .token_request(json!({"grant_type": "refresh_token", "refresh_token": "unknown"}))
        .await;
    problem(response, 401, "invalid-credentials").await;
}

async fn client_credentials_and_revocation(app: TestApp) {
    let world = app.world().await;
    assert!(world.client.refresh.is_none(), "apps get no refresh token");
    assert_eq!(
        world.client.body["scope"],
        "referrals:read referrals:write follow-ups:read appointments:read appointments:write events:read trainings:write"
    );
    let response = app
        .token_request(json!({"grant_type": "client_credentials", "client_id": world.client_id, "client_secret": "wrong"}))
        .await;
    problem(response, 401, "invalid-credentials").await;
    let response = app
        .authed(
            Method::POST,
            &format!("/api/v1/clients/{}/revoke", world.client_id),
            world.token("admin"),
        )
        .send()
        .await
        .expect("sent");
    assert_eq!(json(response, 200).await["status"], "disabled");
    unauthorized(&app, world.token("partner_app"), "revoked client").await;
    let response = app
        .token_request(json!({"grant_type": "client_credentials", "client_id": world.client_id, "client_secret": world.client_secret}))
        .await;
    problem(response, 401, "invalid-credentials").await;
    // A client of the programme itself is refused.
    let response = app
        .authed(Method::POST, "/api/v1/clients", world.token("admin"))
        .json(
            &json!({"name": "x", "organisation_id": world.programme_id, "scopes": ["events:read"]}),
        )
        .send()
        .await
        .expect("sent");
    problem(response, 422, "client-inside-programme").await;
}

async fn login_throttling_does_not_reveal_accounts(app: TestApp) {
    let _world = app.world().await;
    let mut answers = BTreeMap::new();
    for username in ["partner@test.example", "nobody@test.example"] {
        let mut seen = Vec::new();
        for _ in 0..6 {
            let response = app
                .token_request(json!({"grant_type": "password", "username": username, "password": "wrong password!"}))
                .await;
            let status = response.status().as_u16();
            let retry_after = response
                .headers()
                .get("retry-after")
                .map(|v| v.to_str().expect("ascii").to_owned());
            let body = json(response, status).await;
            seen.push((
                status,
                body["type"].clone(),
                body["detail"].clone(),
                retry_after.is_some(),
            ));
        }
        answers.insert(username, seen);
    }
    let existing = &answers["partner@test.example"];
    assert_eq!(
        existing, &answers["nobody@test.example"],
        "same answers whether or not the account exists"
    );
    assert!(
        existing[..5]
            .iter()
            .all(|(s, t, _, _)| *s == 401 && t == "urn:adosexo:problem:invalid-credentials")
    );
    assert_eq!(existing[5].0, 429);
    assert!(existing[5].3, "Retry-After");
    // Even the right password waits now.
    let response = app
        .token_request(json!({"grant_type": "password", "username": "partner@test.example", "password": PASSWORD}))
        .await;
    assert_eq!(response.status(), 429);
    // Another account from the same address is not blocked yet.
    app.login("analyst@test.example", PASSWORD).await;
}

async fn totp_enrolment_and_second_factor(app: TestApp) {
    let world = app.world().await;
    let response = app
        .authed(
            Method::PUT,
            "/api/v1/settings/security",
            world.token("admin"),
        )
        .json(&json!({"totp_required": true}))
        .send()
        .await
        .expect("sent");
    assert_eq!(json(response, 200).await["totp_required"], true);

    let limited = app.login("coordinator@test.example", PASSWORD).await;
    assert_eq!(limited.body["enrolment_only"], true);
    assert!(limited.refresh.is_none());
    let response = app
        .authed(Method::GET, "/api/v1/organisations", &limited.access)
        .send()
        .await
        .expect("sent");
    problem(response, 403, "forbidden").await;
    assert_eq!(
        app.get_json("/api/v1/me", &limited.access, 200).await["enrolment_only"],
        true
    );

    let enrolment = app
        .post_json("/api/v1/me/totp", &limited.access, json!(null), 200)
        .await;
    let secret = enrolment["secret"].as_str().expect("secret").to_owned();
    assert!(
        enrolment["otpauth_uri"]
            .as_str()
            .expect("uri")
            .starts_with("otpauth://totp/")
    );
    let wrong = app
        .authed(Method::POST, "/api/v1/me/totp/confirm", &limited.access)
        .json(&json!({"code": "000000"}))
        .send()
        .await
        .expect("sent");
    // 000000 could be the real code once in a million runs.
    if wrong.status() != 204 {
        problem(wrong, 422, "totp-code-invalid").await;
        let code = adosexo_api::auth::totp::current_code(&secret, chrono::Utc::now().timestamp())
            .expect("code");
        let response = app
            .authed(Method::POST, "/api/v1/me/totp/confirm", &limited.access)
            .json(&json!({"code": code}))
            .send()
            .await
            .expect("sent");
        assert_eq!(response.status(), 204);
    }
    unauthorized(&app, &limited.access, "enrolment session ends").await;

    let response = app
        .token_request(json!({"grant_type": "password", "username": "coordinator@test.example", "password": PASSWORD}))
        .await;
    problem(response, 401, "totp-required").await;
    let code = adosexo_api::auth::totp::current_code(&secret, chrono::Utc::now().timestamp())
        .expect("code");
    let wrong_code = if code == "123456" { "654321" } else { "123456" };
    let response = app
        .token_request(json!({"grant_type": "password", "username": "coordinator@test.example", "password": PASSWORD, "totp": wrong_code}))
        .await;
    problem(response, 401, "invalid-credentials").await;
    let full = tokens(
        app.token_request(json!({"grant_type": "password", "username": "coordinator@test.example", "password": PASSWORD, "totp": code}))
            .await,
    )
    .await;
    assert_eq!(full.body["enrolment_only"], false);
    app.get_json("/api/v1/organisations", &full.access, 200)
        .await;
    // Not staff: no second factor asked.
    let partner = app.login("partner@test.example", PASSWORD).await;
    assert_eq!(partner.body["enrolment_only"], false);
}

async fn audit_trail_records_and_detects_tampering(app: TestApp) {
    let world = app.world().await;
    let target = world.account("partner").to_owned();
    let response = app
        .authed(
            Method::GET,
            &format!("/api/v1/accounts/{target}"),
            world.token("supervisor"),
        )
        .header("X-Request-Id", "audit-test-read")
        .send()
        .await
        .expect("sent");
    assert_eq!(response.status(), 200);
    let response = app
        .authed(
            Method::GET,
            &format!("/api/v1/accounts/{target}"),
            world.token("analyst"),
        )
        .send()
        .await
        .expect("sent");
    assert_eq!(response.status(), 403);

    let page = app
        .get_json(
            &format!("/api/v1/audit?resource_type=account&resource_id={target}"),
            world.token("supervisor"),
            200,
        )
        .await;
    let items = page["items"].as_array().expect("items");
    let read = items
        .iter()
        .find(|e| e["action"] == "read_account" && e["outcome"] == "success")
        .expect("read audited");
    assert_eq!(read["actor_id"], world.account("supervisor"));
    assert_eq!(read["actor_role"], "supervisor");
    assert_eq!(read["request_id"], "audit-test-read");
    assert_eq!(read["client_addr"], "127.0.0.1");
    let denied = items
        .iter()
        .find(|e| e["outcome"] == "denied")
        .expect("denial audited");
    assert_eq!(denied["actor_id"], world.account("analyst"));
    let logins = app
        .get_json(
            "/api/v1/audit?resource_type=session&limit=200",
            world.token("supervisor"),
            200,
        )
        .await;
    assert!(
        logins["items"]
            .as_array()
            .expect("items")
            .iter()
            .any(|e| e["action"] == "login" && e["outcome"] == "success")
    );

    let db = app.db();
    let checked = adosexo_api::cli::verify_audit(&db)
        .await
        .expect("runs")
        .expect("intact");
    assert!(checked > 10, "{checked}");

    // The log refuses changes...
    let refused = adosexo_persistence::testing::execute_sql(
        &db,
        "UPDATE audit_log SET outcome = 'success' WHERE seq = 3",
    )
    .await;
    assert!(refused.is_err(), "append-only");
    let refused =
        adosexo_persistence::testing::execute_sql(&db, "DELETE FROM audit_log WHERE seq = 3").await;
    assert!(refused.is_err(), "append-only");
    // ...and when someone with database rights changes one anyway, verify names it.
    db.run(adosexo_persistence::audit::disable_guard_for_tests)
        .await
        .expect("guard dropped");
    adosexo_persistence::testing::execute_sql(
        &db,
        "UPDATE audit_log SET actor_id = 'someone-else' WHERE seq = 5",
    )
    .await
    .expect("tampered");
    let broken = adosexo_api::cli::verify_audit(&db)
        .await
        .expect("runs")
        .expect_err("broken");
    assert!(
        broken.starts_with("audit chain broken at entry 5 "),
        "{broken}"
    );
}

async fn idempotent_creation(app: TestApp) {
    let world = app.world().await;
    let admin = world.token("admin");
    let body = json!({"name": "Maison des ados 93", "kind": "health", "departement_code": "93", "shares_secrecy": true});
    let send = |body: Value| {
        app.authed(Method::POST, "/api/v1/organisations", admin)
            .header("Idempotency-Key", "create-mda-93")
            .json(&body)
            .send()
    };
    let first = send(body.clone()).await.expect("sent");
    let location = first.headers()["location"]
        .to_str()
        .expect("ascii")
        .to_owned();
    let first = json(first, 201).await;
    let again = send(body.clone()).await.expect("sent");
    assert_eq!(again.headers()["idempotent-replayed"], "true");
    assert_eq!(
        again.headers()["location"].to_str().ok(),
        Some(location.as_str())
    );
    let again = json(again, 201).await;
    assert_eq!(first["id"], again["id"]);
    let all = app
        .get_json("/api/v1/organisations?limit=200", admin, 200)
        .await;
    let named = all["items"]
        .as_array()
        .expect("items")
        .iter()
        .filter(|o| o["name"] == "Maison des ados 93")
        .count();
    assert_eq!(named, 1, "one organisation for two requests");
    let mut other = body.clone();
    other["name"] = json!("Another name");
    problem(
        send(other).await.expect("sent"),
        422,
        "idempotency-key-reused",
    )
    .await;
    // There is one programme organisation, and it stays one.
    let mut programme = body.clone();
    programme["name"] = json!("Second programme");
    programme["kind"] = json!("programme");
    let response = app
        .authed(Method::POST, "/api/v1/organisations", admin)
        .json(&programme)
        .send()
        .await
        .expect("sent");
    problem(response, 422, "programme-exists").await;
    let path = format!("/api/v1/organisations/{}", world.programme_id);
    let response = app
        .authed(Method::PATCH, &path, admin)
        .header("If-Match", "\"v1\"")
        .json(&json!({"kind": "ase"}))
        .send()
        .await
        .expect("sent");
    problem(response, 422, "programme-kind-fixed").await;
    // Without a key, a duplicate name is a conflict, not a second row.
    let response = app
        .authed(Method::POST, "/api/v1/organisations", admin)
        .json(&body)
        .send()
        .await
        .expect("sent");
    problem(response, 409, "name-taken").await;
    let response = app
        .authed(Method::POST, "/api/v1/organisations", admin)
        .header("Idempotency-Key", "bad key with spaces")
        .json(&body)
        .send()
        .await
        .expect("sent");
    problem(response, 400, "invalid-input").await;
}

async fn if_match_guards_changes(app: TestApp) {
    let world = app.world().await;
    let admin = world.token("admin").to_owned();
    let path = format!("/api/v1/organisations/{}", world.org_b);
    let response = app
        .authed(Method::GET, &path, &admin)
        .send()
        .await
        .expect("sent");
    let etag = response.headers()["etag"]
        .to_str()
        .expect("etag")
        .to_owned();
    let patch = |body: Value, if_match: Option<&str>| {
        let mut request = app.authed(Method::PATCH, &path, &admin).json(&body);
        if let Some(tag) = if_match {
            request = request.header("If-Match", tag);
        }
        request.send()
    };
    problem(
        patch(json!({"name": "PJJ Paris"}), None)
            .await
            .expect("sent"),
        428,
        "precondition-required",
    )
    .await;
    let changed = patch(json!({"name": "PJJ Paris"}), Some(&etag))
        .await
        .expect("sent");
    let new_etag = changed.headers()["etag"].to_str().expect("etag").to_owned();
    assert_ne!(new_etag, etag);
    assert_eq!(json(changed, 200).await["name"], "PJJ Paris");
    problem(
        patch(json!({"name": "x"}), Some("W/\"v1\""))
            .await
            .expect("sent"),
        400,
        "invalid-input",
    )
    .await;
    problem(
        patch(json!({"name": "x"}), Some("")).await.expect("sent"),
        400,
        "invalid-input",
    )
    .await;
    problem(
        patch(json!({"name": "Stale"}), Some(&etag))
            .await
            .expect("sent"),
        412,
        "precondition-failed",
    )
    .await;
    assert_eq!(
        app.get_json(&path, &admin, 200).await["name"],
        "PJJ Paris",
        "nothing changed"
    );

    // Concurrent changes from the same version: exactly one wins.
    let attempts = (0..8).map(|i| patch(json!({"name": format!("PJJ {i}")}), Some(&new_etag)));
    let results = crate::helpers::join_all(attempts.collect()).await;
    let statuses: Vec<u16> = results
        .iter()
        .map(|r| r.as_ref().expect("sent").status().as_u16())
        .collect();
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
}

async fn account_rules_are_named(app: TestApp) {
    let world = app.world().await;
    let admin = world.token("admin");
    let create = |body: Value| {
        app.authed(Method::POST, "/api/v1/accounts", admin)
            .json(&body)
            .send()
    };
    let base = |org: &str, roles: Value, territory: Value| {
        json!({"email": format!("x{}@test.example", uuid::Uuid::new_v4().simple()), "display_name": "X",
               "organisation_id": org, "roles": roles, "territory": territory})
    };
    problem(
        create(base(&world.org_a, json!(["coordinator"]), json!(["93"])))
            .await
            .expect("sent"),
        422,
        "staff-outside-programme",
    )
    .await;
    problem(
        create(base(&world.programme_id, json!(["partner"]), json!([])))
            .await
            .expect("sent"),
        422,
        "partner-inside-programme",
    )
    .await;
    problem(
        create(base(
            &world.programme_id,
            json!(["regional_referent"]),
            json!([]),
        ))
        .await
        .expect("sent"),
        422,
        "territory-required",
    )
    .await;
    problem(
        create(base(&world.programme_id, json!(["admin"]), json!(["75"])))
            .await
            .expect("sent"),
        422,
        "territory-not-applicable",
    )
    .await;
    let body = problem(
        create(base(
            &world.programme_id,
            json!(["coordinator"]),
            json!(["75", "20"]),
        ))
        .await
        .expect("sent"),
        422,
        "unknown-departement",
    )
    .await;
    assert!(
        body["detail"].as_str().expect("detail").contains("20"),
        "{body}"
    );
    let body = problem(
        create(base(
            &world.programme_id,
            json!(["coordinator"]),
            json!(["75", "XX"]),
        ))
        .await
        .expect("sent"),
        400,
        "invalid-input",
    )
    .await;
    assert_eq!(body["errors"][0]["field"], "territory");
    problem(
        create(base(
            &world.programme_id,
            json!(["partner", "coordinator"]),
            json!([]),
        ))
        .await
        .expect("sent"),
        422,
        "incompatible-roles",
    )
    .await;
    let mut taken = base(&world.programme_id, json!(["analyst"]), json!([]));
    taken["email"] = json!("ANALYST@test.example");
    problem(create(taken).await.expect("sent"), 409, "email-taken").await;
    let mut weak = base(&world.programme_id, json!(["analyst"]), json!([]));
    weak["password"] = json!("short");
    let body = problem(create(weak).await.expect("sent"), 400, "invalid-input").await;
    assert_eq!(body["errors"][0]["field"], "password");
}

async fn admins_cannot_lock_themselves_out(app: TestApp) {
    let world = app.world().await;
    let admin = world.token("admin").to_owned();
    let me = app.get_json("/api/v1/me", &admin, 200).await;
    let path = format!("/api/v1/accounts/{}", me["id"].as_str().expect("id"));
    let etag = |response: &reqwest::Response| {
        response.headers()["etag"]
            .to_str()
            .expect("etag")
            .to_owned()
    };
    let current = app
        .authed(Method::GET, &path, &admin)
        .send()
        .await
        .expect("sent");
    let tag = etag(&current);
    let response = app
        .authed(Method::POST, &format!("{path}/disable"), &admin)
        .header("If-Match", &tag)
        .send()
        .await
        .expect("sent");
    problem(response, 422, "cannot-disable-self").await;
    let response = app
        .authed(Method::PATCH, &path, &admin)
        .header("If-Match", &tag)
        .json(&json!({"roles": ["supervisor"]}))
        .send()
        .await
        .expect("sent");
    problem(response, 422, "cannot-drop-own-admin").await;
    // Changing one's own password ends one's other sessions, not this one.
    let other = app
        .login("admin@test.example", crate::helpers::ADMIN_PASSWORD)
        .await;
    let response = app
        .authed(Method::PATCH, &path, &admin)
        .header("If-Match", &tag)
        .json(&json!({"password": "a brand new password"}))
        .send()
        .await
        .expect("sent");
    assert_eq!(response.status(), 200);
    app.get_json("/api/v1/me", &admin, 200).await;
    unauthorized(&app, &other.access, "other session after a password change").await;
    app.login("admin@test.example", "a brand new password")
        .await;
}

async fn bodies_fail_as_problems(app: TestApp) {
    let token = |body: &str, content_type: &str| {
        app.request(Method::POST, "/api/v1/auth/token")
            .header("Content-Type", content_type)
            .body(body.to_owned())
            .send()
    };
    problem(
        token("{}", "text/plain").await.expect("sent"),
        415,
        "unsupported-media-type",
    )
    .await;
    let huge = format!(
        r#"{{"grant_type":"password","username":"{}","password":"x"}}"#,
        "a".repeat(70_000)
    );
    problem(
        token(&huge, "application/json").await.expect("sent"),
        413,
        "payload-too-large",
    )
    .await;
    problem(
        token("{\"grant_type\": ", "application/json")
            .await
            .expect("sent"),
        400,
        "malformed-body",
    )
    .await;
    let body = problem(
        token(r#"{"grant_type":"magic"}"#, "application/json")
            .await
            .expect("sent"),
        400,
        "invalid-input",
    )
    .await;
    assert!(
        body["errors"][0]["message"]
            .as_str()
            .expect("message")
            .contains("magic"),
        "{body}"
    );
    let body = problem(
        token(
            r#"{"grant_type":"password","username":"a@b.example"}"#,
            "application/json",
        )
        .await
        .expect("sent"),
        400,
        "invalid-input",
    )
    .await;
    assert_eq!(body["errors"][0]["field"], "password");
    let body = problem(
        token(
            r#"{"grant_type":"password","username":"a@b.example","password":"x","extra":1}"#,
            "application/json",
        )
        .await
        .expect("sent"),
        400,
        "invalid-input",
    )
    .await;
    assert_eq!(body["errors"][0]["code"], "unknown", "{body}");
}

/// Expected outcome of every operation of the published document for each
/// caller: `P` public (anyone), `A` allowed, `F` 403, `H` 404 (object not
/// theirs), `U` 401. Columns: anonymous, admin, supervisor, coordinator,
/// regional_referent, partner (person), partner app, analyst.
const TABLE: &[(&str, &str)] = &[
    ("healthz", "PPPPPPPP"),
    ("readyz", "PPPPPPPP"),
    ("getOpenApiDocument", "PPPPPPPP"),
    ("listDepartements", "PPPPPPPP"),
    ("getDepartement", "PPPPPPPP"),
    ("getJwks", "PPPPPPPP"),
    ("createToken", "PPPPPPPP"),
    ("revokeToken", "PPPPPPPP"),
    ("getOAuthMetadata", "PPPPPPPP"),
    ("getMe", "UAAAAAAA"),
    ("startTotpEnrolment", "UAAAAAFA"),
    ("confirmTotpEnrolment", "UAAAAAFA"),
    ("listOrganisations", "UAAAAFFF"),
    ("createOrganisation", "UAFFFFFF"),
    ("getOrganisation", "UAAAAHHF"),
    ("updateOrganisation", "UAFFFFFF"),
    ("listAccounts", "UAAFFFFF"),
    ("createAccount", "UAFFFFFF"),
    ("getAccount", "UAAFFFFF"),
    ("updateAccount", "UAFFFFFF"),
    ("disableAccount", "UAFFFFFF"),
    ("enableAccount", "UAFFFFFF"),
    ("listClients", "UAAFFFFF"),
    ("createClient", "UAFFFFFF"),
    ("revokeClient", "UAFFFFFF"),
    ("getSecuritySettings", "UAFFFFFF"),
    ("putSecuritySettings", "UAFFFFFF"),
    ("listAuditEntries", "UFAFFFFF"),
    ("createReferral", "UFAAAAAF"),
    ("listReferrals", "UFAAAAAF"),
    ("listMyReferralsToTriage", "UFAAAFFF"),
    ("listOverdueProtectionDecisions", "UFAFFFFF"),
    ("getReferral", "UFHHHHHF"),
    ("reviewReferral", "UFHHHFFF"),
    ("acceptReferral", "UFHHHFFF"),
    ("declineReferral", "UFHHHFFF"),
    ("redirectReferral", "UFHHHFFF"),
    ("withdrawReferral", "UFHHHHHF"),
    ("recordProtectionDecision", "UFHHHFFF"),
    ("listFollowUps", "UFAAAFFF"),
    ("listMyFollowUps", "UFAAAFFF"),
    ("getFollowUp", "UFHHHFFF"),
    ("updateFollowUp", "UFHHHFFF"),
    ("changeFollowUpStatus", "UFHHHFFF"),
    ("setFollowUpObjective", "UFHHHFFF"),
    ("listFollowUpNotes", "UFHHHFFF"),
    ("createFollowUpNote", "UFHHHFFF"),
    ("addFollowUpPerson", "UFHHHFFF"),
    ("listProcessingPurposes", "UAAAAAAA"),
    ("listConsentRenewals", "UFAAAFFF"),
    ("listFollowUpConsents", "UFHHHFFF"),
    ("createFollowUpConsent", "UFHHHFFF"),
    ("withdrawConsent", "UFHHHFFF"),
    ("invalidateConsent", "UFHHHFFF"),
    ("getConsentCoverage", "UFHHHFFF"),
    ("listShareDecisions", "UFHHHFFF"),
    ("createShareDecision", "UFHHHFFF"),
    ("revokeShareDecision", "UFHHHFFF"),
    ("getSharedFollowUp", "UFFFFHHF"),
    ("exportPersonData", "UFAFFFFF"),
    ("getPerson", "UFAHHFFF"),
    ("rectifyPerson", "UFAHHFFF"),
    ("listArchivedFollowUps", "UFAFFFFF"),
    ("getArchivedFollowUp", "UFAFFFFF"),
    ("createErasureRequest", "UFAFFFFF"),
    ("listErasureRequests", "UFAFFFFF"),
    ("getErasureRequest", "UFAFFFFF"),
    ("executeErasureRequest", "UFAFFFFF"),
    ("createSite", "UAAAAFFF"),
    ("listSites", "UAAAAFFF"),
    ("getSite", "UAAAAFFF"),
    ("updateSite", "UAAAAFFF"),
    ("createPermanence", "UAAAAFFF"),
    ("listPermanences", "UAAAAFFF"),
    ("getPermanence", "UAAAAFFF"),
    ("updatePermanence", "UAAAAFFF"),
    ("splitPermanence", "UAAAAFFF"),
    ("listPermanenceOccurrences", "UAAAAFFF"),
    ("changePermanenceOccurrence", "UAAAAFFF"),
    ("restorePermanenceOccurrence", "UAAAAFFF"),
    ("createAppointment", "UFAAAFFF"),
    ("listAppointments", "UFAAAFFF"),
    ("getAppointment", "UFHHHHHF"),
    ("changeAppointment", "UFHHHFFF"),
    ("getAvailability", "UFAAAAAF"),
    ("bookFirstMeeting", "UFAAAAAF"),
    ("createGroupSession", "UFAAAFFF"),
    ("listGroupSessions", "UAAAAFFF"),
    ("getGroupSession", "UHHHHFFF"),
    ("changeGroupSessionStatus", "UFHHHFFF"),
    ("listGroupRegistrations", "UFHHHFFF"),
    ("createGroupRegistration", "UFHHHFFF"),
    ("cancelGroupRegistration", "UFHHHFFF"),
    ("recordGroupAttendance", "UFHHHFFF"),
    ("listPublicSites", "PPPPPPPP"),
    ("searchDirectory", "PPPPPPPP"),
    ("getPublicContacts", "PPPPPPPP"),
    ("createCalendarFeed", "UAAAAFFF"),
    ("revokeCalendarFeed", "UAAAAFFF"),
    ("getMyAgenda", "UAAAAFFF"),
    ("getStaffCalendar", "PPPPPPPP"),
    ("getSiteCalendar", "PPPPPPPP"),
    ("getDepartementCalendar", "PPPPPPPP"),
    ("createDirectoryEntry", "UAFFFFFF"),
    ("getDirectoryEntry", "UAFFFFFF"),
    ("replaceDirectoryEntry", "UAFFFFFF"),
    ("deleteDirectoryEntry", "UAFFFFFF"),
    ("putContact", "UAFFFFFF"),
    ("deleteContact", "UAFFFFFF"),
    ("referralStatistics", "UFAFFFFA"),
    ("followUpStatistics", "UFAFFFFA"),
    ("appointmentStatistics", "UFAFFFFA"),
    ("groupSessionStatistics", "UFAFFFFA"),
    ("permanenceStatistics", "UFAFFFFA"),
    ("professionalStatistics", "UFAFFFFA"),
    ("resourceStatistics", "UFAFFFFA"),
    ("getStatisticsReport", "UFAFFFFA"),
    ("createWebhookSubscription", "UAFFFAAF"),
    ("listWebhookSubscriptions", "UAFFFAAF"),
    ("listDeadWebhookDeliveries", "UAFFFAAF"),
    ("getWebhookSubscription", "UAFFFHHF"),
    ("deleteWebhookSubscription", "UAFFFHHF"),
    ("redeliverWebhook", "UAFFFHHF"),
    ("listEvents", "UFFFFAAF"),
    ("createAgreement", "UAFFFFFF"),
    ("listAgreements", "UAAAAFFF"),
    ("listAgreementsEndingSoon", "UAFFFFFF"),
    ("getAgreement", "UAAAAFFF"),
    ("changeAgreementStatus", "UAFFFFFF"),
    ("createResource", "UAAFFFFF"),
    ("searchResources", "PPPPPPPP"),
    ("getResource", "PPPPPPPP"),
    ("uploadResourceFile", "UAAFFFFF"),
    ("downloadResourceFile", "PPPPPPPP"),
    ("listOpenTrainings", "UAAAAAAF"),
    ("registerProfessionals", "UFFFFAAF"),
    ("listMyTrainingRegistrations", "UFFFFAAF"),
    ("cancelTrainingRegistration", "UFFFFHHF"),
    ("createCaseReviewRequest", "UFFFFAAF"),
    ("listCaseReviewRequests", "UFAAAAAF"),
    ("scheduleCaseReviewRequest", "UFAAAFFF"),
    ("logout", "UAAAAAAA"),
];

const CALLERS: [&str; 8] = [
    "anonymous",
    "admin",
    "supervisor",
    "coordinator",
    "regional_referent",
    "partner",
    "partner_app",
    "analyst",
];

async fn every_operation_is_authorized_as_the_table_says(app: TestApp) {
    let world = app.world().await;
    let doc = serde_json::to_value(adosexo_api::openapi::document()).expect("json");
    let mut operations = Vec::new();
    for (path, item) in doc["paths"].as_object().expect("paths") {
        for (method, operation) in item.as_object().expect("item") {
            let id = operation["operationId"]
                .as_str()
                .expect("operationId")
                .to_owned();
            operations.push((id, method.to_uppercase(), path.clone()));
        }
    }
    for (id, _, _) in &operations {
        assert!(
            TABLE.iter().any(|(op, _)| op == id),
            "operation {id} has no row in the authorization table"
        );
    }
    // Logout last: it ends the caller's session.
    for (op, row) in TABLE {
        let (_, method, path) = operations
            .iter()
            .find(|(id, _, _)| id == op)
            .expect("row names a real operation");
        let path = path
            .replace("{code}", "93")
            .replace("{date}", "2027-03-09")
            .replace("{scope}", "976")
            .replace("{registration_id}", &uuid::Uuid::new_v4().to_string())
            .replace("{consent_id}", &uuid::Uuid::new_v4().to_string())
            .replace("{share_id}", &uuid::Uuid::new_v4().to_string())
            .replace(
                "{id}",
                &match *op {
                    "getOrganisation" => world.org_b.clone(),
                    "getAccount" => world.account("partner").to_owned(),
                    _ => uuid::Uuid::new_v4().to_string(),
                },
            );
        for (caller, expected) in CALLERS.iter().zip(row.chars()) {
            let method = Method::from_bytes(method.as_bytes()).expect("method");
            let mut request = app.request(method.clone(), &path);
            if *caller != "anonymous" {
                request = request.bearer_auth(world.token(caller));
            }
            if matches!(method, Method::POST | Method::PUT | Method::PATCH) {
                request = request.json(&json!({}));
            }
            let status = request.send().await.expect("sent").status().as_u16();
            let ok = match expected {
                'P' | 'A' => !matches!(status, 401 | 403) && status < 500,
                'F' => status == 403,
                'H' => status == 404,
                _ => status == 401,
            };
            assert!(ok, "{op} as {caller}: expected {expected}, got {status}");
        }
    }
}

/// Checking a password (argon2id: 19 MiB, tens of milliseconds) runs off
/// the HTTP worker. The test app has one worker: while four sign-ins are
/// being checked, a request sent after them is answered before any of them
/// (it would wait for a whole password check on the worker).
async fn password_checks_do_not_hold_up_the_http_worker(app: TestApp) {
    app.bootstrap_admin().await;
    let started = std::time::Instant::now();
    let sign_in = || async {
        let response = app
            .token_request(json!({"grant_type": "password", "username": "admin@test.example", "password": crate::helpers::ADMIN_PASSWORD}))
            .await;
        (response.status().as_u16(), started.elapsed())
    };
    let probe = async {
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
        let response = app.get("/healthz").await;
        (response.status().as_u16(), started.elapsed())
    };
    let (sign_ins, (probe_status, probe_done)) = tokio::join!(
        crate::helpers::join_all((0..4).map(|_| sign_in()).collect()),
        probe
    );
    assert_eq!(probe_status, 200);
    for (status, done) in &sign_ins {
        assert_eq!(*status, 200);
        assert!(
            probe_done < *done,
            "a sign-in ({done:?}) was answered before the request sent after it ({probe_done:?})"
        );
    }
}
