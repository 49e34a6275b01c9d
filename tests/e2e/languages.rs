//! Problem details in French when `Accept-Language` prefers it, English
//! otherwise (issue 20, item 6): titles and details translated, `type`,
//! `status`, field names and codes and the OAuth `error` code unchanged,
//! `Content-Language` and `Vary: Accept-Language` on every problem.

use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::{PASSWORD, TestApp, problem};

crate::both_backends!(
    problems_are_in_french_when_asked_and_english_otherwise,
    domain_rules_and_the_token_endpoint_speak_french_too,
);

/// Sends `method path` (with a token, and `Accept-Language` when given) and
/// checks the problem's status, type and `Content-Language`; returns it.
async fn ask(
    app: &TestApp,
    method: Method,
    path: &str,
    token: Option<&str>,
    language: Option<&str>,
    body: Option<Value>,
    (status, kind, content_language): (u16, &str, &str),
) -> Value {
    let mut request = app.request(method, path);
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    if let Some(language) = language {
        request = request.header("Accept-Language", language);
    }
    if let Some(body) = body {
        request = request.json(&body);
    }
    let response = request.send().await.expect("sent");
    let header = |name: &str| {
        response
            .headers()
            .get_all(name)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .collect::<Vec<_>>()
            .join(", ")
    };
    assert_eq!(header("content-language"), content_language, "{path}");
    assert!(
        header("vary")
            .to_ascii_lowercase()
            .contains("accept-language"),
        "{path}: Vary {}",
        header("vary")
    );
    problem(response, status, kind).await
}

async fn problems_are_in_french_when_asked_and_english_otherwise(app: TestApp) {
    let admin = app.bootstrap_admin().await;
    let token = Some(admin.access.as_str());

    // 401 without a token.
    let fr = ask(
        &app,
        Method::GET,
        "/api/v1/referrals",
        None,
        Some("fr"),
        None,
        (401, "unauthorized", "fr"),
    )
    .await;
    assert_eq!(fr["title"], "Authentification requise", "{fr}");
    assert_eq!(
        fr["detail"], "envoyez un jeton d'accès : Authorization: Bearer <jeton>",
        "{fr}"
    );
    let en = ask(
        &app,
        Method::GET,
        "/api/v1/referrals",
        None,
        None,
        None,
        (401, "unauthorized", "en"),
    )
    .await;
    assert_eq!(en["title"], "Unauthorized", "{en}");
    assert_eq!(
        en["detail"], "send an access token: Authorization: Bearer <token>",
        "{en}"
    );

    // 404 of the framework's fallback, with a region.
    let fr = ask(
        &app,
        Method::GET,
        "/api/v1/nowhere",
        token,
        Some("fr-FR"),
        None,
        (404, "not-found", "fr"),
    )
    .await;
    assert_eq!(fr["title"], "Introuvable", "{fr}");
    assert_eq!(fr["detail"], "aucune ressource à cette adresse", "{fr}");

    // 400 naming the field: quality values weigh, field and code stay.
    for (language, content_language) in [
        ("fr;q=0.9, en;q=0.8", "fr"),
        ("de, fr;q=0.5", "fr"),
        ("en;q=0.9, fr;q=0.8", "en"),
        ("fr;q=0, *", "en"),
    ] {
        let body = ask(
            &app,
            Method::GET,
            "/api/v1/departements?limit=0",
            token,
            Some(language),
            None,
            (400, "invalid-input", content_language),
        )
        .await;
        assert_eq!(body["errors"][0]["field"], "limit", "{body}");
        assert_eq!(body["errors"][0]["code"], "range", "{body}");
        if content_language == "fr" {
            assert_eq!(body["title"], "Données invalides", "{body}");
            assert_eq!(body["detail"], "1 champ est invalide", "{body}");
            assert_eq!(
                body["errors"][0]["message"], "limit doit être compris entre 1 et 200",
                "{body}"
            );
        } else {
            assert_eq!(body["title"], "Invalid input", "{body}");
            assert_eq!(body["detail"], "1 field is invalid", "{body}");
            assert_eq!(
                body["errors"][0]["message"], "limit must be from 1 to 200",
                "{body}"
            );
        }
    }

    // A body the validation rules refuse, field by field.
    let body = ask(
        &app,
        Method::POST,
        "/api/v1/organisations",
        token,
        Some("fr"),
        Some(json!({"name": "", "kind": "ase", "departement_code": "93", "shares_secrecy": true})),
        (400, "invalid-input", "fr"),
    )
    .await;
    assert_eq!(body["errors"][0]["field"], "name", "{body}");
    assert_eq!(
        body["errors"][0]["message"], "name doit compter de 1 à 200 caractères",
        "{body}"
    );

    // A success is not labelled: only problems depend on the header.
    let ok = app
        .authed(Method::GET, "/api/v1/me", &admin.access)
        .header("Accept-Language", "fr")
        .send()
        .await
        .expect("sent");
    assert_eq!(ok.status().as_u16(), 200);
    assert!(ok.headers().get("content-language").is_none());
}

async fn domain_rules_and_the_token_endpoint_speak_french_too(app: TestApp) {
    let world = app.world().await;
    let coordinator = world.account("coordinator");
    let token = Some(world.token("coordinator"));
    let call = |starts: &str, ends: &str| {
        json!({
            "mode": "phone", "title": "Appel", "departement_code": "93",
            "starts_at": starts, "ends_at": ends, "staff_ids": [coordinator],
        })
    };
    app.post_json(
        "/api/v1/appointments",
        world.token("coordinator"),
        call("2027-03-02T10:00:00Z", "2027-03-02T11:00:00Z"),
        201,
    )
    .await;

    // Scheduling: the staff member is already booked (409).
    let fr = ask(
        &app,
        Method::POST,
        "/api/v1/appointments",
        token,
        Some("fr"),
        Some(call("2027-03-02T10:30:00Z", "2027-03-02T11:30:00Z")),
        (409, "staff-double-booked", "fr"),
    )
    .await;
    assert_eq!(
        fr["title"], "Professionnel déjà occupé sur ce créneau",
        "{fr}"
    );
    assert_eq!(
        fr["detail"],
        "un membre de l'équipe a déjà un rendez-vous ou une séance collective à ce moment",
        "{fr}"
    );
    assert_eq!(fr["conflicting"]["kind"], "appointment", "{fr}");

    // A rule of the domain (422): its title is that of its type.
    let fr = ask(
        &app,
        Method::POST,
        "/api/v1/appointments",
        token,
        Some("fr"),
        Some(call("2027-03-03T10:00:00Z", "2027-03-03T10:02:00Z")),
        (422, "too-short", "fr"),
    )
    .await;
    assert_eq!(fr["title"], "Règle des rendez-vous", "{fr}");
    assert_eq!(
        fr["detail"], "un rendez-vous dure au moins 5 minutes",
        "{fr}"
    );

    // Not found.
    let fr = ask(
        &app,
        Method::GET,
        "/api/v1/referrals/0193a5c4-1f2e-7d3a-9b1c-2f4e5a6b7c8d",
        token,
        Some("fr"),
        None,
        (404, "not-found", "fr"),
    )
    .await;
    assert_eq!(
        fr["detail"], "aucune orientation n'a cet identifiant",
        "{fr}"
    );

    // The token endpoint: the OAuth code stays the RFC's, its description
    // is French in the characters RFC 6749 allows.
    let fr = ask(
        &app,
        Method::POST,
        "/api/v1/auth/token",
        None,
        Some("fr"),
        Some(json!({"grant_type": "password", "username": "coordinator@test.example", "password": format!("{PASSWORD}!")})),
        (401, "invalid-credentials", "fr"),
    )
    .await;
    assert_eq!(fr["title"], "Identifiants invalides", "{fr}");
    assert_eq!(fr["detail"], "les identifiants ne sont pas valides", "{fr}");
    assert_eq!(fr["error"], "invalid_grant", "{fr}");
    assert_eq!(
        fr["error_description"], "les identifiants ne sont pas valides",
        "{fr}"
    );
    let form = app
        .request(Method::POST, "/api/v1/auth/token")
        .header("Content-Type", "application/x-www-form-urlencoded")
        .header("Accept-Language", "fr")
        .body("grant_type=client_credentials")
        .send()
        .await
        .expect("sent");
    assert_eq!(
        form.headers()
            .get("content-language")
            .and_then(|v| v.to_str().ok()),
        Some("fr")
    );
    let body: Value = form.json().await.expect("json");
    let code = body["error"].as_str().unwrap_or_default();
    assert!(
        code.bytes().all(|b| b.is_ascii_lowercase() || b == b'_') && !code.is_empty(),
        "{body}"
    );
    let description = body["error_description"].as_str().unwrap_or_default();
    assert!(
        description
            .bytes()
            .all(|b| (0x20..=0x7e).contains(&b) && b != b'"' && b != b'\\'),
        "{body}"
    );
}
