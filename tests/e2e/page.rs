//! The public page (`/aide/`, `/aide/embed/`) and cross-origin reads
//! (CORS): what a browser on the programme's website, or a young person's
//! phone, receives. The page in a real browser: `tests/browser/`.

use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::{TestApp, json};

/// The programme's website, allowed to call the API and to frame the page.
const WEBSITE: &str = "https://www.acpe-asso.org";

const CONFIG: &[(&str, &str)] = &[
    ("ADOSEXO_CORS_ORIGINS", "https://www.acpe-asso.org"),
    ("ADOSEXO_EMBED_ORIGINS", "https://www.acpe-asso.org"),
    (
        "ADOSEXO_MAP_TILES_URL",
        "https://tiles.example.org/osm/{z}/{x}/{y}.png",
    ),
    ("ADOSEXO_MAP_ATTRIBUTION", "© OpenStreetMap <contributors>"),
];

crate::both_backends_with!(
    crate::page::CONFIG,
    public_endpoints_are_readable_from_any_origin,
    the_api_answers_only_listed_origins,
    the_page_lists_the_demo_sites_in_french_without_javascript,
    the_page_filters_by_departement_on_the_server,
    the_page_escapes_what_it_shows,
    the_page_can_be_embedded_by_listed_origins,
);

mod without_configuration {
    crate::both_backends!(the_page_shows_the_list_alone_without_a_tile_server);
    use super::*;
}

async fn seed_demo(app: &TestApp) {
    adosexo_api::cli::seed_demo(&app.db(), true, chrono::Utc::now())
        .await
        .expect("demo data");
}

fn header<'a>(response: &'a reqwest::Response, name: &str) -> Option<&'a str> {
    response.headers().get(name).and_then(|v| v.to_str().ok())
}

/// As the page escapes text.
fn esc(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&#39;")
}

async fn page(app: &TestApp, path: &str) -> (reqwest::header::HeaderMap, String) {
    let response = app.get(path).await;
    assert_eq!(response.status(), 200, "{path}");
    let headers = response.headers().clone();
    (headers, response.text().await.expect("body"))
}

async fn public_endpoints_are_readable_from_any_origin(app: TestApp) {
    seed_demo(&app).await;
    for path in [
        "/api/v1/public/sites?departement=93",
        "/api/v1/public/directory?q=avocat",
        "/api/v1/public/contacts?departement=93",
        "/api/v1/public/calendars/departements/93",
        // Errors too: the page of another site can read the problem.
        "/api/v1/public/contacts?departement=X1",
    ] {
        let response = app
            .request(Method::GET, path)
            .header("Origin", "https://any-site.example")
            .send()
            .await
            .expect("sent");
        assert_eq!(
            header(&response, "access-control-allow-origin"),
            Some("*"),
            "{path}"
        );
        let exposed = header(&response, "access-control-expose-headers").unwrap_or_default();
        assert!(exposed.contains("ETag"), "{path}: {exposed}");
        assert_eq!(
            header(&response, "access-control-allow-credentials"),
            None,
            "{path}"
        );
    }
    // A preflight (a page sending If-None-Match): allowed, cached two hours.
    let preflight = app
        .request(Method::OPTIONS, "/api/v1/public/sites")
        .header("Origin", "https://any-site.example")
        .header("Access-Control-Request-Method", "GET")
        .header("Access-Control-Request-Headers", "if-none-match")
        .send()
        .await
        .expect("sent");
    assert_eq!(preflight.status(), 204);
    assert_eq!(header(&preflight, "access-control-allow-origin"), Some("*"));
    assert_eq!(header(&preflight, "access-control-max-age"), Some("7200"));
    let methods = header(&preflight, "access-control-allow-methods").unwrap_or_default();
    assert!(
        methods.contains("GET") && methods.contains("HEAD"),
        "{methods}"
    );
    assert!(!methods.contains("POST"), "{methods}");
    assert!(
        header(&preflight, "access-control-allow-headers")
            .unwrap_or_default()
            .contains("If-None-Match")
    );
    assert_eq!(header(&preflight, "access-control-allow-credentials"), None);
    // Without Origin (not a browser's cross-origin call): no CORS header.
    let plain = app.get("/api/v1/public/sites").await;
    assert_eq!(header(&plain, "access-control-allow-origin"), None);
}

async fn the_api_answers_only_listed_origins(app: TestApp) {
    let admin = app.bootstrap_admin().await;
    // The listed origin: preflight of a creating POST, then the call.
    let preflight = app
        .request(Method::OPTIONS, "/api/v1/organisations")
        .header("Origin", WEBSITE)
        .header("Access-Control-Request-Method", "POST")
        .header(
            "Access-Control-Request-Headers",
            "authorization,content-type,idempotency-key",
        )
        .send()
        .await
        .expect("sent");
    assert_eq!(preflight.status(), 204);
    assert_eq!(
        header(&preflight, "access-control-allow-origin"),
        Some(WEBSITE)
    );
    assert!(
        header(&preflight, "vary")
            .unwrap_or_default()
            .contains("Origin")
    );
    let allowed = header(&preflight, "access-control-allow-headers").unwrap_or_default();
    for name in [
        "Authorization",
        "Content-Type",
        "If-Match",
        "Idempotency-Key",
    ] {
        assert!(allowed.contains(name), "{name} in {allowed}");
    }
    let methods = header(&preflight, "access-control-allow-methods").unwrap_or_default();
    assert!(methods.contains("PATCH") && methods.contains("DELETE"));
    assert!(header(&preflight, "access-control-max-age").is_some());
    assert_eq!(header(&preflight, "access-control-allow-credentials"), None);

    let me = app
        .authed(Method::GET, "/api/v1/me", &admin.access)
        .header("Origin", WEBSITE)
        .send()
        .await
        .expect("sent");
    assert_eq!(me.status(), 200);
    assert_eq!(header(&me, "access-control-allow-origin"), Some(WEBSITE));
    let exposed = header(&me, "access-control-expose-headers").unwrap_or_default();
    for name in ["ETag", "Location", "Retry-After"] {
        assert!(exposed.contains(name), "{name} in {exposed}");
    }
    assert_eq!(header(&me, "access-control-allow-credentials"), None);
    assert!(header(&me, "vary").unwrap_or_default().contains("Origin"));

    // Another origin: nothing, so its page cannot read the answer.
    for origin in [
        "https://evil.example",
        "https://www.acpe-asso.org.evil.example",
        "http://www.acpe-asso.org",
        "null",
    ] {
        let response = app
            .authed(Method::GET, "/api/v1/me", &admin.access)
            .header("Origin", origin)
            .send()
            .await
            .expect("sent");
        assert_eq!(
            header(&response, "access-control-allow-origin"),
            None,
            "{origin}"
        );
        let preflight = app
            .request(Method::OPTIONS, "/api/v1/me")
            .header("Origin", origin)
            .header("Access-Control-Request-Method", "GET")
            .header("Access-Control-Request-Headers", "authorization")
            .send()
            .await
            .expect("sent");
        assert_ne!(preflight.status(), 204, "{origin}");
        assert_eq!(
            header(&preflight, "access-control-allow-origin"),
            None,
            "{origin}"
        );
        assert_eq!(
            header(&preflight, "access-control-allow-headers"),
            None,
            "{origin}"
        );
    }
}

async fn the_page_lists_the_demo_sites_in_french_without_javascript(app: TestApp) {
    seed_demo(&app).await;
    let root = app.get("/?departement=93").await;
    assert_eq!(root.status(), 303);
    assert_eq!(header(&root, "location"), Some("/aide/?departement=93"));

    let (headers, html) = page(&app, "/aide/").await;
    let get = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned()
    };
    assert!(get("content-type").starts_with("text/html"));
    assert_eq!(get("content-language"), "fr");
    assert!(html.starts_with("<!doctype html>\n<html lang=\"fr\">"));
    assert!(html.contains("Où trouver de l’aide ?"));
    // The emergency numbers.
    for number in ["tel:119", "tel:17", "tel:112"] {
        assert!(html.contains(&format!("href=\"{number}\"")), "{number}");
    }
    // Every site of the map, with its calendar feed and a directions link.
    let map = json(app.get("/api/v1/public/sites").await, 200).await;
    let features = map["features"].as_array().expect("features");
    assert_eq!(features.len(), 26);
    assert_eq!(html.matches("<li class=\"site\"").count(), features.len());
    for f in features {
        let name = f["properties"]["name"].as_str().expect("name");
        assert!(html.contains(&format!(">{}</h4>", esc(name))), "{name}");
        let id = f["id"].as_str().expect("id");
        assert!(html.contains(&format!("/api/v1/public/calendars/sites/{id}\"")));
        if let Some(next) = f["properties"]["next_occurrences"][0]["starts_at"].as_str() {
            assert!(
                html.contains(&format!("<time datetime=\"{next}\">")),
                "{next}"
            );
        }
    }
    // Every contact, and the directory.
    let contacts = json(app.get("/api/v1/public/contacts").await, 200).await;
    for c in contacts["items"].as_array().expect("items") {
        let email = c["email"].as_str().expect("email");
        assert!(html.contains(&format!("mailto:{email}")), "{email}");
    }
    assert!(html.contains("06 70 16 89 68"));
    assert!(html.contains("<section id=\"annuaire\""));

    // Private and strict: no cookie, the policy, not framable.
    assert!(headers.get("set-cookie").is_none());
    let csp = get("content-security-policy");
    for directive in [
        "default-src 'none'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data: https://tiles.example.org;",
        "connect-src 'self'",
        "frame-ancestors 'none'",
    ] {
        assert!(csp.contains(directive), "{directive} in {csp}");
    }
    assert_eq!(get("referrer-policy"), "no-referrer");
    assert_eq!(get("x-frame-options"), "DENY");
    assert_eq!(get("x-content-type-options"), "nosniff");
    // The map: Leaflet from this server only, the operator's tiles.
    assert!(html.contains("data-tiles=\"https://tiles.example.org/osm/{z}/{x}/{y}.png\""));
    assert!(html.contains("data-attribution=\"© OpenStreetMap &lt;contributors&gt;\""));
    for src in html.split("src=\"").skip(1) {
        assert!(src.starts_with("/aide/static/"), "{src:.60}");
    }
    assert!(!html.contains("http://"));

    // Revalidation, and the assets: long-lived, compressed on request.
    let etag = get("etag");
    let again = app
        .request(Method::GET, "/aide/")
        .header("If-None-Match", &etag)
        .send()
        .await
        .expect("sent");
    assert_eq!(again.status(), 304);
    let css = html
        .split("href=\"")
        .find(|s| s.contains("aide.css"))
        .and_then(|s| s.split('"').next())
        .expect("the style sheet's address");
    let asset = app
        .request(Method::GET, css)
        .header("Accept-Encoding", "gzip")
        .send()
        .await
        .expect("sent");
    assert_eq!(asset.status(), 200);
    assert_eq!(
        header(&asset, "cache-control"),
        Some("public, max-age=31536000, immutable")
    );
    assert_eq!(header(&asset, "content-encoding"), Some("gzip"));
    assert!(header(&asset, "content-type").is_some_and(|t| t.starts_with("text/css")));
    let missing = app.get("/aide/static/0/none.js").await;
    assert_eq!(missing.status(), 404);
    let post = app
        .request(Method::POST, "/aide/")
        .send()
        .await
        .expect("sent");
    assert_eq!(post.status(), 405);
    assert_eq!(header(&post, "allow"), Some("GET"));

    // English second.
    let (headers, html) = page(&app, "/aide/?lang=en").await;
    assert!(html.starts_with("<!doctype html>\n<html lang=\"en\">"));
    assert!(html.contains("Where to find help"));
    assert_eq!(
        headers
            .get("content-language")
            .and_then(|v| v.to_str().ok()),
        Some("en")
    );
}

async fn the_page_filters_by_departement_on_the_server(app: TestApp) {
    seed_demo(&app).await;
    let (_, html) = page(&app, "/aide/?departement=93").await;
    let map = json(app.get("/api/v1/public/sites?departement=93").await, 200).await;
    let expected = map["features"].as_array().expect("features").len();
    assert!(expected >= 2);
    assert_eq!(html.matches("<li class=\"site\"").count(), expected);
    assert_eq!(
        html.matches("data-departement=\"93\"").count(),
        expected,
        "only Seine-Saint-Denis"
    );
    assert!(html.contains("<option value=\"93\" selected>"));
    assert!(html.contains("/api/v1/public/calendars/departements/93"));
    // The team of the 93, as the API says.
    let contact = json(app.get("/api/v1/public/contacts?departement=93").await, 200).await;
    let email = contact["items"][0]["email"].as_str().expect("email");
    assert_eq!(email, "adosexo75@acpe-asso.org");
    assert!(html.contains(&format!("href=\"mailto:{email}\"")));
    assert!(html.contains("href=\"tel:0656673970\""));
    assert_eq!(html.matches("<li class=\"contact\"").count(), 1);
    // A département without a team: the national contact, said so.
    let (_, html) = page(&app, "/aide/?departement=13").await;
    assert!(html.contains("mailto:adosexo@acpe-asso.org"));
    assert!(html.contains("le contact national vous répond"));
    // A département without a site.
    let (_, html) = page(&app, "/aide/?departement=2A").await;
    assert_eq!(html.matches("<li class=\"site\"").count(), 0);
    assert!(html.contains("Pas encore de permanence dans ce département"));
    // A mistyped one: every site, and a notice (not an error page).
    let (_, html) = page(&app, "/aide/?departement=zz&unknown=1").await;
    assert_eq!(html.matches("<li class=\"site\"").count(), 26);
    assert!(html.contains("role=\"alert\""));
    // The directory search, accent- and case-blind as the API's.
    let (_, html) = page(&app, "/aide/?departement=93&q=AVOCATS").await;
    let found = json(
        app.get("/api/v1/public/directory?departement=93&q=AVOCATS")
            .await,
        200,
    )
    .await;
    let names: Vec<&str> = found["items"]
        .as_array()
        .expect("items")
        .iter()
        .filter_map(|e| e["name"].as_str())
        .collect();
    assert!(!names.is_empty());
    assert_eq!(
        html.matches("<li class=\"entry\"").count(),
        names.len(),
        "{names:?}"
    );
    assert!(html.contains("value=\"AVOCATS\""));
}

async fn the_page_escapes_what_it_shows(app: TestApp) {
    let admin = app.bootstrap_admin().await;
    let hostile = "<script>alert(1)</script> & \"Cie\"";
    let entry: Value = json!({
        "name": hostile, "organisation": "<img src=x onerror=alert(2)>", "category": "association",
        "national": true, "departements": [], "phone": "01 02 03 04 05",
        "website": "https://example.org/?a=1&b=\"2\"", "last_verified": "2026-11-01"
    });
    app.post_json("/api/v1/directory", &admin.access, entry, 201)
        .await;
    let (_, html) = page(&app, "/aide/?q=%3Cscript%3E%22%27").await;
    assert!(!html.contains("<script>alert"));
    assert!(!html.contains("<img src=x"));
    assert!(html.contains("&lt;script&gt;alert(1)&lt;/script&gt; &amp; &quot;Cie&quot;"));
    assert!(html.contains("value=\"&lt;script&gt;&quot;&#39;\""));
    assert!(html.contains("href=\"https://example.org/?a=1&amp;b=&quot;2&quot;\""));
}

async fn the_page_can_be_embedded_by_listed_origins(app: TestApp) {
    seed_demo(&app).await;
    let response = app.get("/aide/embed/?departement=93").await;
    assert_eq!(response.status(), 200);
    let csp = header(&response, "content-security-policy")
        .unwrap_or_default()
        .to_owned();
    assert!(
        csp.ends_with(&format!("frame-ancestors {WEBSITE}")),
        "{csp}"
    );
    assert_eq!(header(&response, "x-frame-options"), None);
    let html = response.text().await.expect("body");
    assert!(html.contains("<body class=\"embed\">"));
    assert!(html.contains("<option value=\"93\" selected>"));
    assert!(html.contains("action=\"/aide/embed/#permanences\""));
    assert!(html.contains("href=\"/aide/?departement=93\" target=\"_blank\""));
    // The emergency numbers stay, even embedded.
    assert!(html.contains("href=\"tel:119\""));
    // Only the directory, when asked.
    let (_, html) = page(&app, "/aide/embed/?section=annuaire").await;
    assert!(html.contains("<section id=\"annuaire\""));
    assert!(!html.contains("<section id=\"permanences\""));
    assert!(!html.contains("<section id=\"contacts\""));
    assert!(!html.contains("leaflet"));
    let redirect = app.get("/aide/embed?departement=75").await;
    assert_eq!(redirect.status(), 303);
    assert_eq!(
        header(&redirect, "location"),
        Some("/aide/embed/?departement=75")
    );
}

async fn the_page_shows_the_list_alone_without_a_tile_server(app: TestApp) {
    seed_demo(&app).await;
    let (headers, html) = page(&app, "/aide/").await;
    assert!(!html.contains("leaflet"));
    assert!(!html.contains("id=\"map\""));
    assert_eq!(html.matches("<li class=\"site\"").count(), 26);
    let csp = headers
        .get("content-security-policy")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    assert!(csp.contains("img-src 'self' data:;"), "{csp}");
    // No embedding origin configured: framed by this server's pages only.
    let embed = app.get("/aide/embed/").await;
    assert!(
        header(&embed, "content-security-policy")
            .unwrap_or_default()
            .ends_with("frame-ancestors 'self'")
    );
    // And the API answers no origin but the public endpoints.
    let response = app
        .request(Method::GET, "/api/v1/departements")
        .header("Origin", WEBSITE)
        .send()
        .await
        .expect("sent");
    assert_eq!(header(&response, "access-control-allow-origin"), None);
}
