//! `TestApp`: the real application on port 0 with a fresh database of its
//! own — a temporary SQLite file, or a PostgreSQL database created for the
//! test on the server `TEST_DATABASE_URL` names and dropped afterwards.

use adosexo_api::{Application, Config};
use adosexo_persistence::testing::TestDatabase;

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

/// As `both_backends!`, on apps started with extra configuration:
/// `both_backends_with!(CONFIG, name, …)` where `CONFIG: &[(&str, &str)]`.
#[macro_export]
macro_rules! both_backends_with {
    ($config:expr, $($name:ident),+ $(,)?) => {
        mod sqlite {
            $(
                #[actix_web::test]
                async fn $name() {
                    let app = $crate::helpers::TestApp::spawn_with($crate::helpers::Kind::Sqlite, $config).await;
                    super::$name(app).await;
                }
            )+
        }
        mod postgres {
            $(
                #[actix_web::test]
                async fn $name() {
                    if let Some(app) = $crate::helpers::TestApp::spawn_postgres_with($config).await {
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
    /// The database's URL, for direct access (CLI functions, tampering).
    pub database_url: String,
    /// The `/metrics` listener's port, when `ADOSEXO_METRICS_BIND` is set.
    pub metrics_port: Option<u16>,
    /// Seconds the app's clock is ahead of the real one.
    offset: std::sync::Arc<std::sync::atomic::AtomicI64>,
    /// Dropped after the app's client: deletes the database.
    _database: TestDatabase,
}

impl TestApp {
    /// Starts the app on `kind`; panics with the reason if it cannot.
    pub async fn spawn(kind: Kind) -> Self {
        Self::spawn_with(kind, &[]).await
    }

    /// As `spawn`, with more configuration (`(variable, value)`).
    pub async fn spawn_with(kind: Kind, extra: &[(&str, &str)]) -> Self {
        let database = match kind {
            Kind::Sqlite => TestDatabase::sqlite().expect("a SQLite test database"),
            Kind::Postgres => TestDatabase::postgres()
                .expect("a PostgreSQL test database")
                .expect("TEST_DATABASE_URL is set"),
        };
        Self::spawn_on(database, kind, extra)
    }

    /// On PostgreSQL with more configuration when `TEST_DATABASE_URL` is
    /// set; `None` (said aloud, or a failure under
    /// `ADOSEXO_TEST_REQUIRE_POSTGRES`) when it is not.
    pub async fn spawn_postgres_with(extra: &[(&str, &str)]) -> Option<Self> {
        let database = TestDatabase::postgres().expect("a PostgreSQL test database")?;
        Some(Self::spawn_on(database, Kind::Postgres, extra))
    }

    fn spawn_on(database: TestDatabase, kind: Kind, extra: &[(&str, &str)]) -> Self {
        let config = test_config_with(database.url(), extra);
        let offset = std::sync::Arc::new(std::sync::atomic::AtomicI64::new(0));
        let shift = offset.clone();
        let clock = adosexo_api::context::Clock::from_fn(move || {
            chrono::Utc::now()
                + chrono::Duration::seconds(shift.load(std::sync::atomic::Ordering::SeqCst))
        });
        let app = Application::build_with_clock(&config, clock)
            .unwrap_or_else(|e| panic!("the app starts: {e}"));
        let address = format!("http://127.0.0.1:{}", app.port());
        let metrics_port = app.metrics_port();
        actix_web::rt::spawn(app.run_until_stopped());
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .expect("client");
        Self {
            address,
            kind,
            client,
            database_url: database.url().to_owned(),
            metrics_port,
            offset,
            _database: database,
        }
    }

    /// On PostgreSQL when `TEST_DATABASE_URL` is set, `None` otherwise (see
    /// [`TestApp::spawn_postgres_with`]).
    pub async fn spawn_postgres() -> Option<Self> {
        Self::spawn_postgres_with(&[]).await
    }

    /// Moves the app's clock forward (tokens issued before may expire).
    pub fn advance(&self, by: chrono::Duration) {
        self.offset
            .fetch_add(by.num_seconds(), std::sync::atomic::Ordering::SeqCst);
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

/// The token signing key of test apps (tests forge tokens with it).
pub const TEST_JWT_KEY: &str = "-----BEGIN PRIVATE KEY-----
MFECAQEwBQYDK2VwBCIEIDxe2Gc7ztFI8zMJNfe+aMDokkOuRHPf0d47AV3Ie/YF
gSEAdV4U1EXkX/igl8HR3rKB1FbCkbRvNc4GcAgDuXDFAMs=
-----END PRIVATE KEY-----
";

/// A configuration for tests: port 0, one worker, a small pool, the test
/// key; `extra` variables take precedence.
pub fn test_config_with(database_url: &str, extra: &[(&str, &str)]) -> Config {
    let url = database_url.to_owned();
    let extra: Vec<(String, String)> = extra
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
    Config::from_lookup(move |name| {
        if let Some((_, value)) = extra.iter().find(|(k, _)| k == name) {
            return Some(value.clone());
        }
        match name {
            "DATABASE_URL" => Some(url.clone()),
            "ADOSEXO_JWT_PRIVATE_KEY" => Some(TEST_JWT_KEY.into()),
            "ADOSEXO_NOTES_KEYS" => {
                Some("test-1:c2l4dGVlbi1ieXRlLXRlc3Qtbm90ZXMta2V5IS4uLi4=".into())
            }
            "ADOSEXO_NOTES_KEY_ID" => Some("test-1".into()),
            "ADOSEXO_BIND" => Some("127.0.0.1:0".into()),
            "ADOSEXO_WORKERS" => Some("1".into()),
            "ADOSEXO_DB_POOL_SIZE" => Some("4".into()),
            "ADOSEXO_SHUTDOWN_TIMEOUT_SECS" => Some("1".into()),
            // Small tables in tests: suppress counts 1 and 2 only.
            "ADOSEXO_STATS_MIN_CELL" => Some("3".into()),
            // A small library limit, so that a test sends just over it.
            "ADOSEXO_LIBRARY_MAX_BYTES" => Some("1048576".into()),
            _ => None,
        }
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

/// Tokens from `createToken`.
#[derive(Clone, Debug)]
pub struct Tokens {
    pub access: String,
    pub refresh: Option<String>,
    pub body: serde_json::Value,
}

impl TestApp {
    /// A database handle on the app's database.
    pub fn db(&self) -> adosexo_persistence::Db {
        let url = adosexo_persistence::DatabaseUrl::parse(&self.database_url).expect("url");
        adosexo_persistence::Db::connect(&url, adosexo_persistence::PoolOptions::default())
            .expect("connect")
    }

    /// `method path` with `Authorization: Bearer token`.
    pub fn authed(
        &self,
        method: reqwest::Method,
        path: &str,
        token: &str,
    ) -> reqwest::RequestBuilder {
        self.request(method, path).bearer_auth(token)
    }

    /// Posts a token request; returns the raw response.
    pub async fn token_request(&self, body: serde_json::Value) -> reqwest::Response {
        self.request(reqwest::Method::POST, "/api/v1/auth/token")
            .json(&body)
            .send()
            .await
            .expect("sent")
    }

    /// Signs in with a password (and TOTP code), expecting success.
    pub async fn login(&self, email: &str, password: &str) -> Tokens {
        let response = self
            .token_request(serde_json::json!({"grant_type": "password", "username": email, "password": password}))
            .await;
        tokens(response).await
    }

    /// Creates the first admin through the command-line function; returns its tokens.
    pub async fn bootstrap_admin(&self) -> Tokens {
        adosexo_api::cli::create_admin(
            &self.db(),
            "admin@test.example",
            "Test Admin",
            ADMIN_PASSWORD,
            chrono::Utc::now(),
        )
        .await
        .expect("admin created");
        self.login("admin@test.example", ADMIN_PASSWORD).await
    }

    /// POST JSON as `token`, expecting `status`; returns the body.
    pub async fn post_json(
        &self,
        path: &str,
        token: &str,
        body: serde_json::Value,
        status: u16,
    ) -> serde_json::Value {
        let response = self
            .authed(reqwest::Method::POST, path, token)
            .json(&body)
            .send()
            .await
            .expect("sent");
        json(response, status).await
    }

    /// GET as `token`, expecting `status`; returns the body.
    pub async fn get_json(&self, path: &str, token: &str, status: u16) -> serde_json::Value {
        let response = self
            .authed(reqwest::Method::GET, path, token)
            .send()
            .await
            .expect("sent");
        json(response, status).await
    }
}

/// The bootstrap admin's password.
pub const ADMIN_PASSWORD: &str = "admin-password-for-tests";

/// Tokens from a successful token response.
pub async fn tokens(response: reqwest::Response) -> Tokens {
    let body = json(response, 200).await;
    Tokens {
        access: body["access_token"]
            .as_str()
            .expect("access_token")
            .to_owned(),
        refresh: body["refresh_token"].as_str().map(str::to_owned),
        body,
    }
}

/// Everyone of a small world: the programme, two partner organisations,
/// one account per role and a partner app of organisation A.
pub struct World {
    pub admin: Tokens,
    pub programme_id: String,
    pub org_a: String,
    pub org_b: String,
    pub school: String,
    /// `(role, account id, tokens)` for supervisor, coordinator,
    /// regional_referent, partner (person of A), analyst.
    pub people: Vec<(&'static str, String, Tokens)>,
    pub client_id: String,
    pub client_secret: String,
    pub client: Tokens,
}

impl World {
    /// Tokens of the person with `role`.
    pub fn token(&self, role: &str) -> &str {
        if role == "admin" {
            return &self.admin.access;
        }
        if role == "partner_app" {
            return &self.client.access;
        }
        self.people
            .iter()
            .find(|(r, _, _)| *r == role)
            .map(|(_, _, t)| t.access.as_str())
            .expect("role in the world")
    }

    /// The account id of the person with `role`.
    pub fn account(&self, role: &str) -> &str {
        self.people
            .iter()
            .find(|(r, _, _)| *r == role)
            .map(|(_, id, _)| id.as_str())
            .expect("role")
    }
}

/// The password of every person in the world.
pub const PASSWORD: &str = "correct horse battery staple";

impl TestApp {
    /// Builds the world through the API, as an admin would.
    pub async fn world(&self) -> World {
        let admin = self.bootstrap_admin().await;
        let me = self.get_json("/api/v1/me", &admin.access, 200).await;
        let programme_id = me["organisation_id"].as_str().expect("org").to_owned();
        let org = |name: &str, kind: &str, dep: &str, secrecy: bool| serde_json::json!({"name": name, "kind": kind, "departement_code": dep, "shares_secrecy": secrecy});
        let org_a = self
            .post_json(
                "/api/v1/organisations",
                &admin.access,
                org("ASE 93", "ase", "93", true),
                201,
            )
            .await;
        let org_b = self
            .post_json(
                "/api/v1/organisations",
                &admin.access,
                org("PJJ 75", "pjj", "75", true),
                201,
            )
            .await;
        let school = self
            .post_json(
                "/api/v1/organisations",
                &admin.access,
                org("Collège", "school", "93", false),
                201,
            )
            .await;
        let org_a = org_a["id"].as_str().expect("id").to_owned();
        let org_b = org_b["id"].as_str().expect("id").to_owned();
        let school = school["id"].as_str().expect("id").to_owned();
        let mut people = Vec::new();
        for (role, org_id, territory) in [
            ("supervisor", programme_id.clone(), vec![]),
            ("coordinator", programme_id.clone(), vec!["75", "93"]),
            ("regional_referent", programme_id.clone(), vec!["13"]),
            ("partner", org_a.clone(), vec![]),
            ("analyst", programme_id.clone(), vec![]),
        ] {
            let email = format!("{role}@test.example");
            let account = self
                .post_json(
                    "/api/v1/accounts",
                    &admin.access,
                    serde_json::json!({
                        "email": email, "display_name": format!("Test {role}"), "organisation_id": org_id,
                        "roles": [role], "territory": territory, "password": PASSWORD
                    }),
                    201,
                )
                .await;
            let tokens = self.login(&email, PASSWORD).await;
            people.push((role, account["id"].as_str().expect("id").to_owned(), tokens));
        }
        let client = self
            .post_json(
                "/api/v1/clients",
                &admin.access,
                serde_json::json!({"name": "ASE 93 app", "organisation_id": org_a, "scopes": ["referrals:read", "referrals:write", "follow-ups:read", "appointments:read", "appointments:write", "events:read", "trainings:write"]}),
                201,
            )
            .await;
        let client_id = client["id"].as_str().expect("id").to_owned();
        let client_secret = client["client_secret"]
            .as_str()
            .expect("secret shown once")
            .to_owned();
        let client_tokens = tokens(
            self.token_request(serde_json::json!({
                "grant_type": "client_credentials", "client_id": client_id, "client_secret": client_secret
            }))
            .await,
        )
        .await;
        World {
            admin,
            programme_id,
            org_a,
            org_b,
            school,
            people,
            client_id,
            client_secret,
            client: client_tokens,
        }
    }
}

/// Drives `futures` concurrently on this task and returns their outputs in
/// order (requests in flight together, for concurrency tests).
pub async fn join_all<F: std::future::Future>(futures: Vec<F>) -> Vec<F::Output> {
    let mut pending: Vec<_> = futures.into_iter().map(Box::pin).map(Some).collect();
    let mut results: Vec<Option<F::Output>> = pending.iter().map(|_| None).collect();
    std::future::poll_fn(|cx| {
        let mut done = true;
        for (slot, result) in pending.iter_mut().zip(results.iter_mut()) {
            if let Some(future) = slot {
                match future.as_mut().poll(cx) {
                    std::task::Poll::Ready(value) => {
                        *result = Some(value);
                        *slot = None;
                    }
                    std::task::Poll::Pending => done = false,
                }
            }
        }
        if done {
            std::task::Poll::Ready(())
        } else {
            std::task::Poll::Pending
        }
    })
    .await;
    results.into_iter().map(|r| r.expect("completed")).collect()
}

/// A referral as a partner app submits it (young person in 93, urgent).
pub fn partner_referral(first_name: &str) -> serde_json::Value {
    serde_json::json!({
        "public": "young_person",
        "context": "pre_prostitution",
        "source": "partner_organisation",
        "referrer": {"name": "Mme Diallo", "contact": "01 23 45 67 89"},
        "person": {"first_name": first_name, "birth_date": "2011-04-02", "departement_code": "93"},
        "risk_indicators": ["runaway"],
        "summary": "Fugues répétées.",
        "urgency": "urgent"
    })
}
