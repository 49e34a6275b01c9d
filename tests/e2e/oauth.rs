//! OAuth 2.0 as client libraries speak it: the `oauth2` crate discovers the
//! endpoints (RFC 8414), gets tokens by client credentials (Basic and post),
//! password and refresh token, reads RFC 6749 §5.2 errors and revokes
//! tokens (RFC 7009); then the form's error cases one by one.

use std::future::Future;
use std::pin::Pin;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use oauth2::basic::{BasicClient, BasicErrorResponseType, BasicRevocationErrorResponse};
use oauth2::{
    AuthType, ClientId, ClientSecret, RefreshToken, RequestTokenError, ResourceOwnerPassword,
    ResourceOwnerUsername, RevocationErrorResponseType, RevocationUrl, Scope,
    StandardRevocableToken, TokenResponse, TokenUrl,
};
use reqwest::Method;
use serde_json::Value;

use crate::helpers::{PASSWORD, TestApp, json};

crate::both_backends!(
    the_oauth2_crate_gets_refreshes_and_revokes_tokens,
    form_errors_are_rfc_6749_errors
);

type HttpFuture = Pin<Box<dyn Future<Output = Result<oauth2::HttpResponse, reqwest::Error>>>>;

/// The `oauth2` crate's HTTP client: requests go through reqwest as sent,
/// but for the scheme: the crate refuses a revocation endpoint that is not
/// `https`, so the test hands it one and plays the TLS-terminating proxy,
/// forwarding to the test server's plain HTTP.
fn http_client(client: reqwest::Client) -> impl Fn(oauth2::HttpRequest) -> HttpFuture {
    move |request: oauth2::HttpRequest| {
        let client = client.clone();
        Box::pin(async move {
            let (parts, body) = request.into_parts();
            let url = parts
                .uri
                .to_string()
                .replacen("https://127.0.0.1:", "http://127.0.0.1:", 1);
            let response = client
                .request(parts.method, url)
                .headers(parts.headers)
                .body(body)
                .send()
                .await?;
            let mut builder = http::Response::builder().status(response.status());
            for (name, value) in response.headers() {
                builder = builder.header(name, value);
            }
            let body = response.bytes().await?.to_vec();
            Ok(builder.body(body).expect("a response"))
        })
    }
}

async fn metadata(app: &TestApp) -> Value {
    json(
        app.get("/.well-known/oauth-authorization-server").await,
        200,
    )
    .await
}

async fn status_with(app: &TestApp, path: &str, token: &str) -> u16 {
    app.authed(Method::GET, path, token)
        .send()
        .await
        .expect("sent")
        .status()
        .as_u16()
}

async fn the_oauth2_crate_gets_refreshes_and_revokes_tokens(app: TestApp) {
    let world = app.world().await;
    let http = http_client(app.client.clone());

    // Discovery: absolute addresses on the address the document came from.
    let meta = metadata(&app).await;
    assert_eq!(meta["issuer"], app.address.as_str(), "{meta}");
    assert_eq!(
        meta["token_endpoint"],
        format!("{}/api/v1/auth/token", app.address)
    );
    for method in ["client_secret_basic", "client_secret_post"] {
        assert!(
            meta["token_endpoint_auth_methods_supported"]
                .as_array()
                .expect("methods")
                .iter()
                .any(|m| m == method),
            "{meta}"
        );
    }
    let token_url =
        TokenUrl::new(meta["token_endpoint"].as_str().expect("url").to_owned()).expect("url");
    let revocation_url = RevocationUrl::new(
        meta["revocation_endpoint"]
            .as_str()
            .expect("url")
            .replacen("http://", "https://", 1),
    )
    .expect("url");

    // A partner app, client_secret_basic (the crate's default).
    let app_client = BasicClient::new(ClientId::new(world.client_id.clone()))
        .set_client_secret(ClientSecret::new(world.client_secret.clone()))
        .set_token_uri(token_url.clone())
        .set_revocation_url(revocation_url.clone());
    let full = app_client
        .exchange_client_credentials()
        .request_async(&http)
        .await
        .expect("client credentials by Basic");
    assert!(full.refresh_token().is_none());
    let referrals = "/api/v1/referrals";
    assert_eq!(
        status_with(&app, referrals, full.access_token().secret()).await,
        200
    );
    // A narrower scope: the token acts with that scope only.
    let narrow = app_client
        .exchange_client_credentials()
        .add_scope(Scope::new("appointments:read".into()))
        .request_async(&http)
        .await
        .expect("a narrower scope");
    assert_eq!(
        narrow
            .scopes()
            .map(|s| s.iter().map(|s| s.to_string()).collect::<Vec<_>>()),
        Some(vec!["appointments:read".to_owned()])
    );
    assert_eq!(
        status_with(&app, referrals, narrow.access_token().secret()).await,
        403
    );
    let refused = app_client
        .exchange_client_credentials()
        .add_scope(Scope::new("accounts:admin".into()))
        .request_async(&http)
        .await
        .expect_err("a scope the client does not have");
    match refused {
        RequestTokenError::ServerResponse(e) => {
            assert_eq!(*e.error(), BasicErrorResponseType::InvalidScope);
        }
        other => panic!("{other:?}"),
    }

    // client_secret_post.
    let post_client = app_client.clone().set_auth_type(AuthType::RequestBody);
    let posted = post_client
        .exchange_client_credentials()
        .request_async(&http)
        .await
        .expect("client credentials in the body");
    assert_eq!(
        status_with(&app, "/api/v1/me", posted.access_token().secret()).await,
        200
    );

    // A wrong secret: invalid_client, by Basic and by post.
    for auth_type in [AuthType::BasicAuth, AuthType::RequestBody] {
        let error = BasicClient::new(ClientId::new(world.client_id.clone()))
            .set_client_secret(ClientSecret::new("wrong".into()))
            .set_auth_type(auth_type.clone())
            .set_token_uri(token_url.clone())
            .exchange_client_credentials()
            .request_async(&http)
            .await
            .expect_err("wrong secret");
        match error {
            RequestTokenError::ServerResponse(e) => {
                assert_eq!(
                    *e.error(),
                    BasicErrorResponseType::InvalidClient,
                    "{auth_type:?}"
                );
                assert!(e.error_description().is_some());
            }
            other => panic!("{auth_type:?}: {other:?}"),
        }
    }

    // A person through a public client: password, then refresh.
    let staff_app = BasicClient::new(ClientId::new("staff-app".into()))
        .set_token_uri(token_url.clone())
        .set_revocation_url(revocation_url.clone());
    let username = ResourceOwnerUsername::new("coordinator@test.example".into());
    let first = staff_app
        .exchange_password(&username, &ResourceOwnerPassword::new(PASSWORD.into()))
        .request_async(&http)
        .await
        .expect("password grant");
    let refresh = first.refresh_token().expect("a refresh token").clone();
    let wrong = staff_app
        .exchange_password(
            &username,
            &ResourceOwnerPassword::new("not the password".into()),
        )
        .request_async(&http)
        .await
        .expect_err("wrong password");
    match wrong {
        RequestTokenError::ServerResponse(e) => {
            assert_eq!(*e.error(), BasicErrorResponseType::InvalidGrant);
        }
        other => panic!("{other:?}"),
    }
    let second = staff_app
        .exchange_refresh_token(&refresh)
        .request_async(&http)
        .await
        .expect("refresh grant");
    assert_eq!(
        status_with(&app, "/api/v1/me", second.access_token().secret()).await,
        200
    );
    let next_refresh = second.refresh_token().expect("rotated").clone();

    // Revoking the refresh token ends its session: its access token too.
    staff_app
        .revoke_token(StandardRevocableToken::RefreshToken(next_refresh.clone()))
        .expect("revocation configured")
        .request_async(&http)
        .await
        .expect("revoked");
    assert_eq!(
        status_with(&app, "/api/v1/me", second.access_token().secret()).await,
        401
    );
    let spent = staff_app
        .exchange_refresh_token(&next_refresh)
        .request_async(&http)
        .await
        .expect_err("revoked refresh token");
    match spent {
        RequestTokenError::ServerResponse(e) => {
            assert_eq!(*e.error(), BasicErrorResponseType::InvalidGrant);
        }
        other => panic!("{other:?}"),
    }
    // Unknown or already revoked tokens: 200 all the same (RFC 7009 §2.2).
    for token in [next_refresh, RefreshToken::new("never-issued".into())] {
        staff_app
            .revoke_token(StandardRevocableToken::RefreshToken(token))
            .expect("revocation configured")
            .request_async(&http)
            .await
            .expect("nothing to revoke is not an error");
    }

    // A partner app's access token: only that app, authenticated, revokes it.
    let anonymous: Result<(), RequestTokenError<_, BasicRevocationErrorResponse>> = staff_app
        .revoke_token(StandardRevocableToken::AccessToken(
            full.access_token().clone(),
        ))
        .expect("revocation configured")
        .request_async(&http)
        .await;
    match anonymous {
        Err(RequestTokenError::ServerResponse(e)) => assert_eq!(
            *e.error(),
            RevocationErrorResponseType::Basic(BasicErrorResponseType::InvalidClient)
        ),
        other => panic!("{other:?}"),
    }
    assert_eq!(
        status_with(&app, referrals, full.access_token().secret()).await,
        200
    );
    app_client
        .revoke_token(StandardRevocableToken::AccessToken(
            full.access_token().clone(),
        ))
        .expect("revocation configured")
        .request_async(&http)
        .await
        .expect("revoked by its app");
    assert_eq!(
        status_with(&app, referrals, full.access_token().secret()).await,
        401
    );
}

async fn form(app: &TestApp, path: &str, body: &str, basic: Option<&str>) -> reqwest::Response {
    let mut request = app
        .request(Method::POST, path)
        .header("Content-Type", "application/x-www-form-urlencoded")
        .body(body.to_owned());
    if let Some(credentials) = basic {
        request = request.header(
            "Authorization",
            format!("Basic {}", STANDARD.encode(credentials)),
        );
    }
    request.send().await.expect("sent")
}

/// Status, `error` and the problem `type` of an answer.
async fn oauth_error(response: reqwest::Response) -> (u16, String, String, Option<String>) {
    let status = response.status().as_u16();
    let challenge = response
        .headers()
        .get("WWW-Authenticate")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let body: Value = response.json().await.expect("json");
    assert!(body["error_description"].is_string(), "{body}");
    assert!(body["title"].is_string(), "problem fields stay: {body}");
    (
        status,
        body["error"].as_str().unwrap_or_default().to_owned(),
        body["type"].as_str().unwrap_or_default().to_owned(),
        challenge,
    )
}

async fn form_errors_are_rfc_6749_errors(app: TestApp) {
    let world = app.world().await;
    let token = "/api/v1/auth/token";
    let basic = format!("{}:{}", world.client_id, world.client_secret);
    let cases: Vec<(&str, String, Option<String>, u16, &str)> = vec![
        (
            "no grant_type",
            "scope=x".into(),
            None,
            400,
            "invalid_request",
        ),
        (
            "unknown grant",
            "grant_type=magic".into(),
            None,
            400,
            "unsupported_grant_type",
        ),
        (
            "repeated parameter",
            "grant_type=password&grant_type=password".into(),
            None,
            400,
            "invalid_request",
        ),
        (
            "missing password",
            "grant_type=password&username=a%40b.example".into(),
            None,
            400,
            "invalid_request",
        ),
        (
            "two client authentications",
            format!(
                "grant_type=client_credentials&client_secret={}",
                world.client_secret
            ),
            Some(basic.clone()),
            400,
            "invalid_request",
        ),
        (
            "no client authentication",
            "grant_type=client_credentials".into(),
            None,
            401,
            "invalid_client",
        ),
        (
            "wrong password",
            "grant_type=password&username=coordinator%40test.example&password=nope".into(),
            None,
            400,
            "invalid_grant",
        ),
        (
            "unknown refresh token",
            "grant_type=refresh_token&refresh_token=unknown".into(),
            None,
            400,
            "invalid_grant",
        ),
        (
            "wrong client secret with a password grant",
            format!("grant_type=password&username=coordinator%40test.example&password={PASSWORD}"),
            Some(format!("{}:wrong", world.client_id)),
            401,
            "invalid_client",
        ),
    ];
    for (what, body, basic, status, error) in cases {
        let (got, code, _, challenge) =
            oauth_error(form(&app, token, &body, basic.as_deref()).await).await;
        assert_eq!((got, code.as_str()), (status, error), "{what}");
        if error == "invalid_client" {
            assert_eq!(
                challenge.as_deref(),
                Some("Basic realm=\"adosexo\""),
                "{what}"
            );
        }
    }
    // Unknown parameters are ignored; Basic with the id and secret works.
    let ok = form(
        &app,
        token,
        "grant_type=client_credentials&vendor_extension=1",
        Some(&basic),
    )
    .await;
    let body = json(ok, 200).await;
    assert_eq!(body["token_type"], "Bearer");

    // The JSON form answers as it always did, with the code beside.
    let response = app
        .token_request(serde_json::json!({"grant_type": "password", "username": "coordinator@test.example", "password": "nope"}))
        .await;
    let (status, code, kind, _) = oauth_error(response).await;
    assert_eq!(
        (status, code.as_str(), kind.as_str()),
        (
            401,
            "invalid_grant",
            "urn:adosexo:problem:invalid-credentials"
        )
    );

    // Revocation: form only, token required, client authenticated if it tries.
    let revoke = "/api/v1/auth/revoke";
    let (status, code, _, _) =
        oauth_error(form(&app, revoke, "token_type_hint=access_token", None).await).await;
    assert_eq!((status, code.as_str()), (400, "invalid_request"));
    let (status, code, _, challenge) = oauth_error(
        form(
            &app,
            revoke,
            "token=x",
            Some(&format!("{}:wrong", world.client_id)),
        )
        .await,
    )
    .await;
    assert_eq!((status, code.as_str()), (401, "invalid_client"));
    assert!(challenge.is_some());
    let json_revoke = app
        .request(Method::POST, revoke)
        .json(&serde_json::json!({"token": "x"}))
        .send()
        .await
        .expect("sent");
    assert_eq!(json_revoke.status().as_u16(), 415);
    // Revoking by the other app is refused: the token is not its own.
    let other = app
        .post_json(
            "/api/v1/clients",
            &world.admin.access,
            serde_json::json!({"name": "Other app", "organisation_id": world.org_b, "scopes": ["referrals:read"]}),
            201,
        )
        .await;
    let other_basic = format!(
        "{}:{}",
        other["id"].as_str().expect("id"),
        other["client_secret"].as_str().expect("secret")
    );
    let (status, code, _, _) = oauth_error(
        form(
            &app,
            revoke,
            &format!("token={}", world.client.access),
            Some(&other_basic),
        )
        .await,
    )
    .await;
    assert_eq!((status, code.as_str()), (400, "unauthorized_client"));
    assert_eq!(
        status_with(&app, "/api/v1/me", &world.client.access).await,
        200
    );
}
