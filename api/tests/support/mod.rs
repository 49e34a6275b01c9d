//! What the process-level tests share (`resilience.rs`, `backup.rs`): the
//! binary with its keys, a server on a port of its own, a first admin, and
//! the rows only a half-written create could leave.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Output, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::{Value, json};

/// The binary under test.
pub const BIN: &str = env!("CARGO_BIN_EXE_adosexo");

/// The signing key of the test servers (tokens survive a restart).
const JWT_KEY: &str = "-----BEGIN PRIVATE KEY-----
MFECAQEwBQYDK2VwBCIEIDxe2Gc7ztFI8zMJNfe+aMDokkOuRHPf0d47AV3Ie/YF
gSEAdV4U1EXkX/igl8HR3rKB1FbCkbRvNc4GcAgDuXDFAMs=
-----END PRIVATE KEY-----
";
/// The notes key of the test servers.
pub const NOTES_KEYS: &str = "test-1:c2l4dGVlbi1ieXRlLXRlc3Qtbm90ZXMta2V5IS4uLi4=";
/// The first admin's e-mail and password ([`prepare`]).
pub const ADMIN_EMAIL: &str = "admin@process.example";
pub const ADMIN_PASSWORD: &str = "admin-password-for-process-tests";

/// The environment every run of the binary gets.
pub fn base_env(database_url: &str) -> Vec<(String, String)> {
    [
        ("DATABASE_URL", database_url),
        ("ADOSEXO_JWT_PRIVATE_KEY", JWT_KEY),
        ("ADOSEXO_NOTES_KEYS", NOTES_KEYS),
        ("ADOSEXO_NOTES_KEY_ID", "test-1"),
        ("RUST_LOG", "warn"),
    ]
    .iter()
    .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
    .collect()
}

/// Runs a subcommand to completion.
pub fn command(dir: &Path, database_url: &str, args: &[&str], env: &[(&str, &str)]) -> Output {
    Command::new(BIN)
        .args(args)
        .current_dir(dir)
        .env_clear()
        .envs(base_env(database_url))
        .envs(env.iter().copied())
        .output()
        .expect("the binary runs")
}

/// Runs a subcommand that must succeed; its standard output.
pub fn ok(dir: &Path, database_url: &str, args: &[&str], env: &[(&str, &str)]) -> String {
    let output = command(dir, database_url, args, env);
    assert!(
        output.status.success(),
        "adosexo {args:?}: {}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// Migrates the database and creates the first admin ([`ADMIN_EMAIL`]).
pub fn prepare(dir: &Path, database_url: &str) {
    ok(dir, database_url, &["migrate"], &[]);
    ok(
        dir,
        database_url,
        &["admin", "create", "--email", ADMIN_EMAIL, "--name", "Admin"],
        &[("ADOSEXO_ADMIN_PASSWORD", ADMIN_PASSWORD)],
    );
}

/// The binary serving on a port of its own; killed when dropped.
pub struct Server {
    pub child: Child,
    /// `http://127.0.0.1:port`.
    pub base: String,
    /// Everything it printed (stdout and stderr), for panics and errors.
    output: Arc<Mutex<String>>,
}

impl Server {
    /// Serves `database_url` with the base environment and `env`.
    pub fn start(dir: &Path, database_url: &str, env: &[(&str, &str)]) -> Self {
        let mut child = Command::new(BIN)
            .arg("serve")
            .current_dir(dir)
            .env_clear()
            .envs(base_env(database_url))
            .env("RUST_LOG", "warn,adosexo=info")
            .env("ADOSEXO_BIND", "127.0.0.1:0")
            .env("ADOSEXO_LOG_FORMAT", "json")
            .env("ADOSEXO_SHUTDOWN_TIMEOUT_SECS", "1")
            .envs(env.iter().copied())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("serve starts");
        let output = Arc::new(Mutex::new(String::new()));
        let stderr = child.stderr.take().expect("stderr");
        let sink = output.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                let mut all = sink.lock().expect("lock");
                all.push_str(&line);
                all.push('\n');
            }
        });
        let stdout = child.stdout.take().expect("stdout");
        let (port_tx, port_rx) = std::sync::mpsc::channel();
        let sink = output.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if let Some(rest) = line.split("listening on http://127.0.0.1:").nth(1) {
                    let port: String = rest.chars().take_while(char::is_ascii_digit).collect();
                    let _ = port_tx.send(port);
                }
                let mut all = sink.lock().expect("lock");
                all.push_str(&line);
                all.push('\n');
            }
        });
        let port = port_rx
            .recv_timeout(Duration::from_secs(60))
            .unwrap_or_else(|_| {
                let printed = output.lock().map(|o| o.clone()).unwrap_or_default();
                panic!("the server never listened: {printed}")
            });
        Self {
            child,
            base: format!("http://127.0.0.1:{port}"),
            output,
        }
    }

    /// Everything it printed so far.
    pub fn output(&self) -> String {
        self.output.lock().expect("lock").clone()
    }

    pub fn assert_no_panic(&self) {
        let output = self.output();
        assert!(
            !output.contains("panicked"),
            "the server panicked:\n{output}"
        );
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A client for the test servers.
pub fn client() -> reqwest::Client {
    // reqwest is built with rustls without a default provider (webhooks).
    adosexo_api::startup::install_tls_provider();
    reqwest::Client::builder()
        .timeout(Duration::from_secs(60))
        .build()
        .expect("client")
}

/// An access token by password.
pub async fn token(base: &str, email: &str, password: &str) -> String {
    let body: Value = client()
        .post(format!("{base}/api/v1/auth/token"))
        .json(&json!({"grant_type": "password", "username": email, "password": password}))
        .send()
        .await
        .expect("sent")
        .json()
        .await
        .expect("token JSON");
    body["access_token"]
        .as_str()
        .unwrap_or_else(|| panic!("no token: {body}"))
        .to_owned()
}

/// A coordinator of département 93, created by the first admin:
/// `(token, account id)`.
pub async fn coordinator(base: &str) -> (String, String) {
    staff(base, "coordinator", &["93"]).await
}

/// A staff account of the programme with one role, created by the first
/// admin: `(token, account id)`.
pub async fn staff(base: &str, role: &str, territory: &[&str]) -> (String, String) {
    let email = format!("{role}@process.example");
    let password = format!("{role}-password-for-process-tests");
    let admin = token(base, ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let client = client();
    let me: Value = client
        .get(format!("{base}/api/v1/me"))
        .bearer_auth(&admin)
        .send()
        .await
        .expect("sent")
        .json()
        .await
        .expect("JSON");
    let account: Value = client
        .post(format!("{base}/api/v1/accounts"))
        .bearer_auth(&admin)
        .json(&json!({
            "email": email, "display_name": role,
            "organisation_id": me["organisation_id"], "roles": [role],
            "territory": territory, "password": password
        }))
        .send()
        .await
        .expect("sent")
        .json()
        .await
        .expect("JSON");
    let id = account["id"]
        .as_str()
        .unwrap_or_else(|| panic!("account: {account}"))
        .to_owned();
    (token(base, &email, &password).await, id)
}

/// Counts rows a query returns as `n`.
#[derive(diesel::QueryableByName)]
struct Count {
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    n: i64,
}

/// Rows that only a half-written create could leave behind, with how many
/// (only the kinds found).
pub fn half_written(database_url: &str) -> Vec<(String, i64)> {
    use diesel::RunQueryDsl;
    let url = adosexo_persistence::DatabaseUrl::parse(database_url).expect("url");
    let db = adosexo_persistence::Db::connect(&url, adosexo_persistence::PoolOptions::default())
        .expect("connect");
    let checks = [
        (
            "referrals without their person",
            "SELECT COUNT(*) AS n FROM referrals r WHERE NOT EXISTS (SELECT 1 FROM people p WHERE p.id = r.person_id)",
        ),
        (
            "referrals without their submit event",
            "SELECT COUNT(*) AS n FROM referrals r WHERE NOT EXISTS (SELECT 1 FROM referral_events e WHERE e.referral_id = r.id)",
        ),
        (
            "people without a referral",
            "SELECT COUNT(*) AS n FROM people p WHERE NOT EXISTS (SELECT 1 FROM referrals r WHERE r.person_id = p.id)",
        ),
        (
            "appointments without staff",
            "SELECT COUNT(*) AS n FROM appointments a WHERE NOT EXISTS (SELECT 1 FROM appointment_staff s WHERE s.appointment_id = a.id)",
        ),
        (
            "appointments without a staff booking",
            "SELECT COUNT(*) AS n FROM appointments a WHERE NOT EXISTS (SELECT 1 FROM staff_bookings b WHERE b.appointment_id = a.id)",
        ),
        (
            "staff bookings of no appointment",
            "SELECT COUNT(*) AS n FROM staff_bookings b WHERE b.appointment_id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM appointments a WHERE a.id = b.appointment_id)",
        ),
    ];
    db.run_blocking(|conn| {
        let mut found = Vec::new();
        for (name, sql) in checks {
            let count: Count = diesel::sql_query(sql).get_result(conn)?;
            if count.n > 0 {
                found.push((name.to_owned(), count.n));
            }
        }
        Ok::<_, adosexo_persistence::PersistenceError>(found)
    })
    .expect("queries")
}
