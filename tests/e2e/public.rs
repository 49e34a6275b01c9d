//! Public information end to end: the map as GeoJSON checked by an
//! independent parser, distances checked independently, the directory's
//! accent-blind search, contacts per département, caching and the rate
//! limit.

use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::{TestApp, json, problem};

crate::both_backends!(
    demo_map_is_valid_geojson_in_france_ordered_by_distance,
    contacts_follow_the_programmes_page,
    directory_search_ignores_accents_and_case,
    public_responses_are_cacheable_and_rate_limited,
);

async fn seed_demo(app: &TestApp) {
    adosexo_api::cli::seed_demo(&app.db(), true, chrono::Utc::now())
        .await
        .expect("demo data");
}

/// Haversine with the mean Earth radius, written here independently.
fn distance_km(a: (f64, f64), b: (f64, f64)) -> f64 {
    let r = 6371.0088_f64;
    let (la1, la2) = (a.0.to_radians(), b.0.to_radians());
    let dla = la2 - la1;
    let dlo = (b.1 - a.1).to_radians();
    let h = (dla / 2.0).sin().powi(2) + la1.cos() * la2.cos() * (dlo / 2.0).sin().powi(2);
    2.0 * r * h.sqrt().asin()
}

async fn demo_map_is_valid_geojson_in_france_ordered_by_distance(app: TestApp) {
    seed_demo(&app).await;
    let response = app.get("/api/v1/public/sites").await;
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["content-type"], "application/geo+json");
    let text = response.text().await.expect("body");
    let parsed: geojson::GeoJson = text.parse().expect("valid GeoJSON");
    let geojson::GeoJson::FeatureCollection(collection) = parsed else {
        panic!("a FeatureCollection");
    };
    assert_eq!(
        collection.features.len(),
        26,
        "14 in Île-de-France, 12 in the regions"
    );
    let mut names = Vec::new();
    for feature in &collection.features {
        let geometry = feature.geometry.as_ref().expect("geometry");
        let geojson::Value::Point(point) = &geometry.value else {
            panic!("a point");
        };
        let (lon, lat) = (point[0], point[1]);
        // Metropolitan France, longitude first.
        assert!(
            (-5.2..=9.6).contains(&lon) && (41.3..=51.1).contains(&lat),
            "{lon},{lat}"
        );
        let properties = feature.properties.as_ref().expect("properties");
        names.push(properties["city"].as_str().expect("city").to_owned());
        let next = properties["next_occurrences"].as_array().expect("next");
        assert!(
            !next.is_empty(),
            "every demo site has a next date: {properties:?}"
        );
        let start =
            chrono::DateTime::parse_from_rfc3339(next[0]["starts_at"].as_str().expect("start"))
                .expect("with offset");
        let offset = start.offset().local_minus_utc();
        assert!(offset == 3600 || offset == 7200, "Paris time: {start}");
    }
    assert!(names.iter().any(|n| n == "Meaux") && names.iter().any(|n| n == "Melun"));

    // Région Île-de-France (11) only.
    let idf = app.get("/api/v1/public/sites?region=11").await;
    let idf = json(idf, 200).await;
    let features = idf["features"].as_array().expect("features");
    assert_eq!(features.len(), 14);
    for f in features {
        let code = f["properties"]["departement_code"].as_str().expect("code");
        assert!(
            ["75", "77", "78", "91", "92", "93", "94", "95"].contains(&code),
            "{code}"
        );
        assert_eq!(f["properties"]["region_code"], "11");
    }
    let seine_et_marne = json(app.get("/api/v1/public/sites?departement=77").await, 200).await;
    assert_eq!(seine_et_marne["features"].as_array().map(Vec::len), Some(2));

    // `near`: ordered by great-circle distance, computed independently.
    let lyon = (45.7578, 4.8320);
    let near = json(
        app.get("/api/v1/public/sites?near=45.7578,4.8320").await,
        200,
    )
    .await;
    let features = near["features"].as_array().expect("features");
    let mut previous = -1.0;
    for f in features {
        let coordinates = f["geometry"]["coordinates"]
            .as_array()
            .expect("coordinates");
        let (lon, lat) = (
            coordinates[0].as_f64().expect("lon"),
            coordinates[1].as_f64().expect("lat"),
        );
        let expected = distance_km(lyon, (lat, lon));
        let given = f["properties"]["distance_km"].as_f64().expect("distance");
        assert!((given - expected).abs() < 0.01, "{given} vs {expected}");
        assert!(expected >= previous, "ordered by distance");
        previous = expected;
    }
    assert_eq!(features[0]["properties"]["city"], "Lyon");
    assert_eq!(
        json(
            app.get("/api/v1/public/sites?near=45.7,4.8&limit=3").await,
            200
        )
        .await["features"]
            .as_array()
            .map(Vec::len),
        Some(3)
    );
    problem(
        app.get("/api/v1/public/sites?near=95,4").await,
        400,
        "invalid-input",
    )
    .await;
    problem(
        app.get("/api/v1/public/sites?limit=501").await,
        400,
        "invalid-input",
    )
    .await;
}

async fn contacts_follow_the_programmes_page(app: TestApp) {
    seed_demo(&app).await;
    let contact = |code: &'static str| {
        let app = &app;
        async move {
            let body = json(
                app.get(&format!("/api/v1/public/contacts?departement={code}"))
                    .await,
                200,
            )
            .await;
            body["items"][0].clone()
        }
    };
    for code in ["75", "93", "92", "78"] {
        let c = contact(code).await;
        assert_eq!(c["email"], "adosexo75@acpe-asso.org", "{code}");
        assert_eq!(c["phone"], "06 56 67 39 70");
        assert_eq!(c["fallback"], false);
    }
    assert_eq!(contact("77").await["email"], "adosexo77@acpe-asso.org");
    assert_eq!(contact("94").await["email"], "adosexo94@acpe-asso.org");
    assert_eq!(contact("95").await["email"], "adosexo95@acpe-asso.org");
    assert_eq!(contact("95").await["phone"], "07 52 08 31 65");
    for code in ["13", "69", "971", "2A"] {
        let c = contact(code).await;
        assert_eq!(c["email"], "adosexo@acpe-asso.org", "{code}");
        assert_eq!(c["scope"], "national");
        assert_eq!(c["fallback"], true);
    }
    let all = json(app.get("/api/v1/public/contacts").await, 200).await;
    assert_eq!(all["items"].as_array().map(Vec::len), Some(8));
    // Corsica is 2A and 2B: 20 is well-formed but names no département.
    problem(
        app.get("/api/v1/public/contacts?departement=20").await,
        404,
        "not-found",
    )
    .await;
    problem(
        app.get("/api/v1/public/contacts?departement=X1").await,
        400,
        "invalid-input",
    )
    .await;

    // An admin sets the contact of the Nord; it answers from then on.
    let admin = app.bootstrap_admin().await;
    let set = app
        .authed(Method::PUT, "/api/v1/contacts/59", &admin.access)
        .json(&json!({"team": "Ado Sexo Nord", "email": "adosexo59@acpe-asso.org", "phone": "03 20 00 00 00"}))
        .send()
        .await
        .expect("sent");
    json(set, 200).await;
    assert_eq!(contact("59").await["team"], "Ado Sexo Nord");
}

async fn directory_search_ignores_accents_and_case(app: TestApp) {
    let admin = app.bootstrap_admin().await;
    let entry = |name: &str, category: &str, departements: Value, national: bool| {
        json!({
            "name": name, "organisation": "Association", "category": category,
            "national": national, "departements": departements,
            "phone": "01 02 03 04 05", "website": "https://example.org",
            "last_verified": "2026-11-01"
        })
    };
    let cidff = app
        .post_json(
            "/api/v1/directory",
            &admin.access,
            entry("CIDFF Bobigny", "legal_aid", json!(["93"]), false),
            201,
        )
        .await;
    app.post_json(
        "/api/v1/directory",
        &admin.access,
        entry("Écoute Santé Évry", "health", json!(["91"]), false),
        201,
    )
    .await;
    app.post_json(
        "/api/v1/directory",
        &admin.access,
        entry("Ligne nationale", "helpline", json!([]), true),
        201,
    )
    .await;
    let search = |query: &str| {
        let app = &app;
        let path = format!("/api/v1/public/directory?{query}");
        async move { json(app.get(&path).await, 200).await }
    };
    let names = |page: &Value| -> Vec<String> {
        page["items"]
            .as_array()
            .expect("items")
            .iter()
            .map(|i| i["name"].as_str().expect("name").to_owned())
            .collect()
    };
    // The département's name is searchable, whatever its accents and case.
    assert_eq!(
        names(&search("q=seine%20saint%20denis").await),
        ["CIDFF Bobigny"]
    );
    assert_eq!(
        names(&search("q=SEINE-SAINT-DENIS").await),
        ["CIDFF Bobigny"]
    );
    assert_eq!(
        names(&search("q=ecoute%20evry").await),
        ["Écoute Santé Évry"]
    );
    assert_eq!(names(&search("q=%C3%89COUTE").await), ["Écoute Santé Évry"]);
    // By département: its own entries and the national ones.
    assert_eq!(
        names(&search("departement=93").await),
        ["CIDFF Bobigny", "Ligne nationale"]
    );
    assert_eq!(
        names(&search("category=health").await),
        ["Écoute Santé Évry"]
    );
    // Pages.
    let first = search("limit=2").await;
    assert_eq!(names(&first), ["CIDFF Bobigny", "Ligne nationale"]);
    let cursor = first["next_cursor"].as_str().expect("cursor");
    let second = search(&format!("limit=2&cursor={cursor}")).await;
    assert_eq!(names(&second), ["Écoute Santé Évry"]);
    assert!(second["next_cursor"].is_null());
    problem(
        app.get("/api/v1/public/directory?limit=101").await,
        400,
        "invalid-input",
    )
    .await;
    // A cursor spelling a NUL character is not one this API gave: 400, on
    // PostgreSQL too (which cannot compare a text holding one).
    for cursor in [
        "00.00000000-0000-0000-0000-000000000000",
        "4100.00000000-0000-0000-0000-000000000000",
    ] {
        let body = problem(
            app.get(&format!("/api/v1/public/directory?cursor={cursor}"))
                .await,
            400,
            "invalid-input",
        )
        .await;
        assert_eq!(body["errors"][0]["field"], "cursor", "{body}");
    }
    // Invalid UTF-8 is still a position.
    let after_invalid = search("limit=2&cursor=ff.00000000-0000-0000-0000-000000000000").await;
    assert!(after_invalid["items"].is_array());
    // Rules on writing: national or départements, never both; unknown codes named.
    let both = app
        .authed(Method::POST, "/api/v1/directory", &admin.access)
        .json(&entry("X", "other", json!(["93"]), true))
        .send()
        .await
        .expect("sent");
    problem(both, 422, "invalid-value").await;
    let neither = app
        .authed(Method::POST, "/api/v1/directory", &admin.access)
        .json(&entry("X", "other", json!([]), false))
        .send()
        .await
        .expect("sent");
    problem(neither, 422, "invalid-value").await;
    // Replace with If-Match, then delete.
    let id = cidff["id"].as_str().expect("id");
    let replaced = app
        .authed(
            Method::PUT,
            &format!("/api/v1/directory/{id}"),
            &admin.access,
        )
        .header("If-Match", "\"v1\"")
        .json(&entry(
            "CIDFF Seine-Saint-Denis",
            "legal_aid",
            json!(["93"]),
            false,
        ))
        .send()
        .await
        .expect("sent");
    assert_eq!(json(replaced, 200).await["version"], 2);
    let stale = app
        .authed(
            Method::PUT,
            &format!("/api/v1/directory/{id}"),
            &admin.access,
        )
        .header("If-Match", "\"v1\"")
        .json(&entry("CIDFF", "legal_aid", json!(["93"]), false))
        .send()
        .await
        .expect("sent");
    problem(stale, 412, "precondition-failed").await;
    let deleted = app
        .authed(
            Method::DELETE,
            &format!("/api/v1/directory/{id}"),
            &admin.access,
        )
        .send()
        .await
        .expect("sent");
    assert_eq!(deleted.status(), 204);
    assert_eq!(names(&search("departement=93").await), ["Ligne nationale"]);
}

async fn public_responses_are_cacheable_and_rate_limited(app: TestApp) {
    seed_demo(&app).await;
    for path in [
        "/api/v1/public/sites",
        "/api/v1/public/directory",
        "/api/v1/public/contacts?departement=93",
    ] {
        let first = app.get(path).await;
        assert_eq!(first.status(), 200, "{path}");
        assert_eq!(
            first.headers()["cache-control"],
            "public, max-age=300",
            "{path}"
        );
        let etag = first.headers()["etag"].to_str().expect("etag").to_owned();
        let again = app
            .request(Method::GET, path)
            .header("If-None-Match", &etag)
            .send()
            .await
            .expect("sent");
        assert_eq!(again.status(), 304, "{path}");
    }
    // The allowance per address and minute (300 by default), then 429.
    let mut limited = None;
    for _ in 0..400 {
        let response = app.get("/api/v1/public/contacts?departement=75").await;
        if response.status() == 429 {
            limited = Some(response);
            break;
        }
        assert_eq!(response.status(), 200);
    }
    let limited = limited.expect("the limit is reached within 400 requests");
    let retry: u64 = limited.headers()["retry-after"]
        .to_str()
        .expect("retry-after")
        .parse()
        .expect("seconds");
    assert!((1..=60).contains(&retry));
    problem(limited, 429, "too-many-requests").await;
    // Staff endpoints are not counted against it.
    assert_eq!(app.get("/healthz").await.status(), 200);
}
