//! `TestApp`: the real application on port 0 with a fresh database of its
//! own — a temporary SQLite file, or a PostgreSQL database created for the
//! test on the server `TEST_DATABASE_URL` names and dropped afterwards.

use adosexo_api::{Application, Config};
use adosexo_persistence::testing::{TEST_DATABASE_URL, TestDatabase};

/// Which backend a test runs on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Sqlite,
    Postgres,
}

/// Runs a test body on SQLite, and on PostgreSQL when `TEST_DATABASE_URL`
/// is set: `both_backends!(name, …)` where each `name` is an
/// `async fn name(app: TestApp)`.
#[macro_export]
macro_rules! both_backends {
    ($($name:ident),+ $(,)?) => {
        mod sqlite {
            $(
                #[actix_web::test]
                async fn $name() {
                    let app = $crate::helpers::TestApp::spawn($crate::helpers::Kind::Sqlite).await;
                    super::$name(app).await;
                }
            )+
        }
        mod postgres {
            $(
                #[actix_web::test]
                async fn $name() {
                    if let Some(app) = $crate::helpers::TestApp::spawn_postgres().await {
                        super::$name(app).await;
                    }
                }
            )+
        }
    };
}

/// A running application and a client for it.
pub struct TestApp {
    /// `http://127.0.0.1:port`.
    pub address: String,
    /// Which backend.
    pub kind: Kind,
    /// A client without redirects.
    pub client: reqwest::Client,
    /// Dropped after the app's client: deletes the database.
    _database: TestDatabase,
}

impl TestApp {
    /// Starts the app on `kind`; panics with the reason if it cannot.
    pub async fn spawn(kind: Kind) -> Self {
        let database = match kind {
            Kind::Sqlite => TestDatabase::sqlite().expect("a SQLite test database"),
            Kind::Postgres => TestDatabase::postgres()
                .expect("a PostgreSQL test database")
                .expect("TEST_DATABASE_URL is set"),
        };
        let config = test_config(database.url());
        let app = Application::build(&config).unwrap_or_else(|e| panic!("the app starts: {e}"));
        let address = format!("http://127.0.0.1:{}", app.port());
        actix_web::rt::spawn(app.run_until_stopped());
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .expect("client");
        Self {
            address,
            kind,
            client,
            _database: database,
        }
    }

    /// On PostgreSQL when `TEST_DATABASE_URL` is set, `None` otherwise.
    pub async fn spawn_postgres() -> Option<Self> {
        match std::env::var(TEST_DATABASE_URL) {
            Ok(url) if !url.trim().is_empty() => Some(Self::spawn(Kind::Postgres).await),
            _ => None,
        }
    }

    /// `GET {address}{path}`.
    pub async fn get(&self, path: &str) -> reqwest::Response {
        self.client
            .get(format!("{}{path}", self.address))
            .send()
            .await
            .expect("request sent")
    }

    /// A request builder for `method {address}{path}`.
    pub fn request(&self, method: reqwest::Method, path: &str) -> reqwest::RequestBuilder {
        self.client
            .request(method, format!("{}{path}", self.address))
    }
}

/// A configuration for tests: port 0, one worker, a small pool.
pub fn test_config(database_url: &str) -> Config {
    let url = database_url.to_owned();
    Config::from_lookup(move |name| match name {
        "DATABASE_URL" => Some(url.clone()),
        "ADOSEXO_BIND" => Some("127.0.0.1:0".into()),
        "ADOSEXO_WORKERS" => Some("1".into()),
        "ADOSEXO_DB_POOL_SIZE" => Some("4".into()),
        "ADOSEXO_SHUTDOWN_TIMEOUT_SECS" => Some("1".into()),
        _ => None,
    })
    .expect("test configuration is valid")
}

/// The body as JSON, after checking the status.
pub async fn json(response: reqwest::Response, status: u16) -> serde_json::Value {
    let actual = response.status().as_u16();
    let body = response.text().await.expect("body");
    assert_eq!(actual, status, "unexpected status; body: {body}");
    serde_json::from_str(&body).unwrap_or_else(|e| panic!("not JSON ({e}): {body}"))
}

/// Checks that a response is problem details with this status and type tag,
/// whose `instance` is the request id; returns the body.
pub async fn problem(response: reqwest::Response, status: u16, kind: &str) -> serde_json::Value {
    let content_type = response
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    let request_id = response
        .headers()
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let body = json(response, status).await;
    assert_eq!(content_type, "application/problem+json", "{body}");
    assert_eq!(
        body["type"],
        format!("urn:adosexo:problem:{kind}"),
        "{body}"
    );
    assert_eq!(body["status"], status, "{body}");
    assert!(body["title"].is_string(), "{body}");
    assert_eq!(
        body["instance"].as_str(),
        request_id.as_deref(),
        "instance is the request id: {body}"
    );
    body
}
