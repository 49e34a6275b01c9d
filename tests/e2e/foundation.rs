//! The stack end to end: probes, reference data, problem details, request
//! ids, the published document and its documentation page.

use std::collections::BTreeSet;

use reqwest::Method;
use serde_json::Value;

use crate::helpers::{TestApp, json, problem};

crate::both_backends!(
    probes_answer,
    departements_are_all_there_across_pages,
    departements_filter_by_region,
    departement_by_code,
    departement_codes_malformed_or_unknown,
    etag_and_not_modified,
    paging_parameters_are_checked,
    unknown_route_and_wrong_method_are_problems,
    request_id_is_accepted_or_generated,
    openapi_document_is_served_as_committed,
    documentation_page_is_served,
);

async fn probes_answer(app: TestApp) {
    assert!(matches!(
        app.kind,
        crate::helpers::Kind::Sqlite | crate::helpers::Kind::Postgres
    ));
    let body = json(app.get("/healthz").await, 200).await;
    assert_eq!(body["status"], "ok");
    let body = json(app.get("/readyz").await, 200).await;
    assert_eq!(body["status"], "ready");
}

async fn departements_are_all_there_across_pages(app: TestApp) {
    let mut codes = Vec::new();
    let mut path = "/api/v1/departements".to_owned();
    let mut pages = 0;
    loop {
        let page = json(app.get(&path).await, 200).await;
        pages += 1;
        let items = page["items"].as_array().expect("items");
        assert!(items.len() <= 50, "default page size is 50");
        codes.extend(
            items
                .iter()
                .map(|d| d["code"].as_str().expect("code").to_owned()),
        );
        match page["next_cursor"].as_str() {
            Some(cursor) => path = format!("/api/v1/departements?cursor={cursor}"),
            None => break,
        }
    }
    assert_eq!(pages, 3);
    assert_eq!(codes.len(), 101, "all 101 départements");
    let unique: BTreeSet<_> = codes.iter().cloned().collect();
    assert_eq!(unique.len(), 101, "no département twice across pages");
    for code in [
        "01", "2A", "2B", "75", "93", "95", "971", "972", "973", "974", "976",
    ] {
        assert!(unique.contains(code), "{code} is listed");
    }
    assert!(!unique.contains("20"), "Corsica is 2A and 2B since 1976");

    let all = json(app.get("/api/v1/departements?limit=200").await, 200).await;
    assert_eq!(all["items"].as_array().map(Vec::len), Some(101));
    assert_eq!(all["next_cursor"], Value::Null);
}

async fn departements_filter_by_region(app: TestApp) {
    let page = json(app.get("/api/v1/departements?region=11").await, 200).await;
    let codes: Vec<_> = page["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|d| d["code"].as_str().expect("code"))
        .collect();
    assert_eq!(codes, ["75", "77", "78", "91", "92", "93", "94", "95"]);
    assert_eq!(page["items"][0]["region"]["name"], "Île-de-France");

    let empty = json(app.get("/api/v1/departements?region=99").await, 200).await;
    assert_eq!(empty["items"], serde_json::json!([]));
}

async fn departement_by_code(app: TestApp) {
    let d = json(app.get("/api/v1/departements/2A").await, 200).await;
    assert_eq!(d["name"], "Corse-du-Sud");
    assert_eq!(
        d["region"],
        serde_json::json!({"code": "94", "name": "Corse"})
    );
    let d = json(app.get("/api/v1/departements/2b").await, 200).await;
    assert_eq!(d["code"], "2B");
    let d = json(app.get("/api/v1/departements/976").await, 200).await;
    assert_eq!(d["name"], "Mayotte");
    let d = json(app.get("/api/v1/departements/93").await, 200).await;
    assert_eq!(d["name"], "Seine-Saint-Denis");
}

async fn departement_codes_malformed_or_unknown(app: TestApp) {
    for malformed in ["ABC", "7", "7501", "2C", "%C3%A9"] {
        let body = problem(
            app.get(&format!("/api/v1/departements/{malformed}")).await,
            400,
            "invalid-input",
        )
        .await;
        assert_eq!(body["errors"][0]["field"], "code", "{malformed}: {body}");
    }
    for unknown in ["20", "96", "975", "00"] {
        problem(
            app.get(&format!("/api/v1/departements/{unknown}")).await,
            404,
            "not-found",
        )
        .await;
    }
}

async fn etag_and_not_modified(app: TestApp) {
    let response = app.get("/api/v1/departements/75").await;
    let etag = response.headers()["etag"]
        .to_str()
        .expect("etag")
        .to_owned();
    assert!(
        response.headers()["cache-control"]
            .to_str()
            .expect("cc")
            .contains("max-age")
    );
    let again = app
        .request(Method::GET, "/api/v1/departements/75")
        .header("If-None-Match", &etag)
        .send()
        .await
        .expect("sent");
    assert_eq!(again.status(), 304);
    assert_eq!(again.headers()["etag"].to_str().ok(), Some(etag.as_str()));
    let other = app
        .request(Method::GET, "/api/v1/departements/93")
        .header("If-None-Match", &etag)
        .send()
        .await
        .expect("sent");
    assert_eq!(other.status(), 200);
}

async fn paging_parameters_are_checked(app: TestApp) {
    for (query, field) in [
        ("limit=0", "limit"),
        ("limit=201", "limit"),
        ("limit=abc", "limit"),
        ("limit=-1", "limit"),
        ("cursor=nonsense", "cursor"),
        ("region=ile", "region"),
        ("limt=10", "limt"),
    ] {
        let body = problem(
            app.get(&format!("/api/v1/departements?{query}")).await,
            400,
            "invalid-input",
        )
        .await;
        assert_eq!(body["errors"][0]["field"], field, "{query}: {body}");
    }
}

async fn unknown_route_and_wrong_method_are_problems(app: TestApp) {
    problem(app.get("/api/v1/nothing-here").await, 404, "not-found").await;
    problem(app.get("/nothing-here").await, 404, "not-found").await;
    // The root leads to the public page ("Où trouver de l'aide ?").
    let root = app.get("/").await;
    assert_eq!(root.status(), 303);
    assert_eq!(
        root.headers().get("location").and_then(|v| v.to_str().ok()),
        Some("/aide/")
    );

    for method in [
        Method::POST,
        Method::DELETE,
        Method::PUT,
        Method::PATCH,
        Method::TRACE,
    ] {
        let response = app
            .request(method.clone(), "/api/v1/departements/75")
            .send()
            .await
            .expect("sent");
        assert_eq!(
            response
                .headers()
                .get("allow")
                .and_then(|v| v.to_str().ok()),
            Some("GET"),
            "{method}"
        );
        problem(response, 405, "method-not-allowed").await;
    }
    let response = app
        .request(Method::POST, "/healthz")
        .send()
        .await
        .expect("sent");
    problem(response, 405, "method-not-allowed").await;
}

async fn request_id_is_accepted_or_generated(app: TestApp) {
    let response = app
        .request(Method::GET, "/healthz")
        .header("X-Request-Id", "partner-app.42")
        .send()
        .await
        .expect("sent");
    assert_eq!(response.headers()["x-request-id"], "partner-app.42");

    let response = app.get("/healthz").await;
    let generated = response.headers()["x-request-id"]
        .to_str()
        .expect("ascii")
        .to_owned();
    assert!(uuid::Uuid::parse_str(&generated).is_ok(), "{generated}");

    let response = app
        .request(Method::GET, "/api/v1/departements/XX")
        .header("X-Request-Id", "bad id with spaces")
        .send()
        .await
        .expect("sent");
    let replaced = response.headers()["x-request-id"]
        .to_str()
        .expect("ascii")
        .to_owned();
    assert_ne!(replaced, "bad id with spaces");
    let body = problem(response, 400, "invalid-input").await;
    assert_eq!(body["instance"], replaced);
}

async fn openapi_document_is_served_as_committed(app: TestApp) {
    let served = json(app.get("/api/v1/openapi.json").await, 200).await;
    let committed: Value =
        serde_json::from_str(include_str!("../../openapi/openapi.json")).expect("committed JSON");
    assert_eq!(served, committed);
    assert_eq!(served["openapi"], "3.1.0");
}

async fn documentation_page_is_served(app: TestApp) {
    let response = app.get("/docs").await;
    assert!(response.status().is_redirection(), "{}", response.status());
    assert_eq!(response.headers()["location"], "/docs/");
    let response = app.get("/docs/").await;
    assert_eq!(response.status(), 200);
    let html = response.text().await.expect("html");
    assert!(html.contains("swagger-ui"), "the page loads Swagger UI");
    assert!(html.contains("<title>adosexo API</title>"), "{html}");
    let config = app.get("/docs/swagger-initializer.js").await;
    assert_eq!(config.status(), 200);
    let script = config.text().await.expect("js");
    assert!(script.contains("/api/v1/openapi.json"), "{script}");
    // No validator: the page never sends the document's URL to Swagger's.
    assert!(script.contains(r#""validatorUrl": "none""#), "{script}");
    problem(app.get("/docs/no-such-file.js").await, 404, "not-found").await;
}
