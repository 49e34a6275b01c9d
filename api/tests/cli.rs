//! The `adosexo` binary as an operator meets it: subcommands, start-up
//! errors on one line, graceful stop on SIGTERM.
#![expect(
    clippy::expect_used,
    reason = "test code: a failed expectation is a failed test"
)]

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_adosexo");

/// Runs the binary in a scratch folder (development mode writes `data/`).
fn adosexo(args: &[&str], env: &[(&str, &str)]) -> std::process::Output {
    let scratch = tempfile::tempdir().expect("scratch folder");
    let mut command = Command::new(BIN);
    command.args(args).env_clear().current_dir(scratch.path());
    for (k, v) in env {
        command.env(k, v);
    }
    command.output().expect("the binary runs")
}

#[test]
fn openapi_prints_the_committed_document() {
    let output = adosexo(&["openapi"], &[]);
    assert!(output.status.success());
    let committed = include_str!("../../openapi/openapi.json");
    assert_eq!(String::from_utf8_lossy(&output.stdout), committed);
}

#[test]
fn malformed_database_url_stops_with_one_line() {
    let output = adosexo(&["serve"], &[("DATABASE_URL", "mysql://u:hunter2@h/db")]);
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(
        stderr.starts_with("adosexo: DATABASE_URL: unsupported database URL scheme `mysql`"),
        "{stderr}"
    );
    assert!(!stderr.contains("hunter2"));
}

#[test]
fn unreachable_database_stops_with_one_line_and_no_password() {
    let output = adosexo(
        &["migrate"],
        &[
            (
                "DATABASE_URL",
                "postgres://adosexo:hunter2@127.0.0.1:1/adosexo",
            ),
            ("RUST_LOG", "off"),
        ],
    );
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(
        stderr.starts_with(
            "adosexo: cannot connect to PostgreSQL at postgres://adosexo:***@127.0.0.1:1/adosexo:"
        ),
        "{stderr}"
    );
    assert!(!stderr.contains("hunter2"));
}

#[test]
fn bad_setting_names_the_variable() {
    let output = adosexo(&["serve"], &[("ADOSEXO_BIND", "everywhere")]);
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.starts_with("adosexo: ADOSEXO_BIND: `everywhere` is not a socket address"),
        "{stderr}"
    );
}

#[test]
fn migrate_then_serve_then_stop_on_sigterm() {
    let dir = tempfile::tempdir().expect("dir");
    let url = format!("sqlite://{}", dir.path().join("data/adosexo.db").display());
    let output = adosexo(&["migrate"], &[("DATABASE_URL", &url)]);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );

    let mut child = Command::new(BIN)
        .current_dir(dir.path())
        .env_clear()
        .env("DATABASE_URL", &url)
        .env("ADOSEXO_BIND", "127.0.0.1:0")
        .env("ADOSEXO_LOG_FORMAT", "json")
        .env("ADOSEXO_SHUTDOWN_TIMEOUT_SECS", "5")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("serve starts");
    let stdout = child.stdout.take().expect("stdout");
    let mut lines = BufReader::new(stdout).lines();
    let started = Instant::now();
    let mut listening = None;
    for line in lines.by_ref() {
        let line = line.expect("utf-8 log line");
        let event: serde_json::Value =
            serde_json::from_str(&line).unwrap_or_else(|e| panic!("JSON logs ({e}): {line}"));
        if let Some(message) = event["message"]
            .as_str()
            .filter(|m| m.starts_with("listening on "))
        {
            listening = Some(message.to_owned());
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "never listened"
        );
    }
    let listening = listening.expect("a 'listening on' line");
    assert!(listening.contains("/docs/"), "{listening}");

    // A write (a failed sign-in is recorded for throttling), so the
    // write-ahead log holds pages when the stop comes.
    let address = listening
        .split("http://")
        .nth(1)
        .and_then(|rest| rest.split(|c: char| c == '/' || c.is_whitespace()).next())
        .expect("address")
        .to_owned();
    for _ in 0..3 {
        use std::io::{Read as _, Write as _};
        let body = r#"{"grant_type":"password","username":"walmarker@example.org","password":"wrong-password-123"}"#;
        let mut stream = std::net::TcpStream::connect(&address).expect("connects");
        write!(
            stream,
            "POST /api/v1/auth/token HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        )
        .expect("sent");
        let mut answer = String::new();
        stream.read_to_string(&mut answer).expect("answer");
        assert!(answer.starts_with("HTTP/1.1 4"), "{answer}");
    }
    let wal = dir.path().join("data/adosexo.db-wal");

    let status = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .expect("kill runs");
    assert!(status.success());
    let exit = child.wait().expect("exits");
    assert!(exit.success(), "graceful stop exits 0: {exit:?}");
    let rest: Vec<String> = lines.map_while(Result::ok).collect();
    assert!(rest.iter().any(|l| l.contains("\"stopped\"")), "{rest:?}");
    // Nothing written stays behind in the log once stopped (erased data
    // would have lingered in its old pages).
    let left = std::fs::metadata(&wal).map(|m| m.len()).unwrap_or(0);
    assert_eq!(
        left, 0,
        "{} bytes left in the write-ahead log after SIGTERM",
        left
    );
}

fn adosexo_with_stdin(args: &[&str], env: &[(&str, &str)], stdin: &str) -> std::process::Output {
    use std::io::Write as _;
    let scratch = tempfile::tempdir().expect("scratch folder");
    let mut command = Command::new(BIN);
    command
        .args(args)
        .env_clear()
        .current_dir(scratch.path())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    for (k, v) in env {
        command.env(k, v);
    }
    let mut child = command.spawn().expect("runs");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(stdin.as_bytes())
        .expect("written");
    child.wait_with_output().expect("exits")
}

#[test]
fn admin_from_stdin_then_audit_verify_names_an_edited_row() {
    let dir = tempfile::tempdir().expect("dir");
    let url = format!("sqlite://{}", dir.path().join("adosexo.db").display());
    let env = [("DATABASE_URL", url.as_str()), ("RUST_LOG", "warn")];

    let output = adosexo_with_stdin(
        &[
            "admin",
            "create",
            "--email",
            "Chief@Example.org",
            "--name",
            "Chief",
        ],
        &env,
        "a long enough password\n",
    );
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(String::from_utf8_lossy(&output.stdout).contains("created for chief@example.org"));

    let short = [
        ("DATABASE_URL", url.as_str()),
        ("ADOSEXO_ADMIN_PASSWORD", "short"),
    ];
    let output = adosexo(
        &["admin", "create", "--email", "b@example.org", "--name", "B"],
        &short,
    );
    assert_eq!(output.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&output.stderr).contains("a password has at least 12 characters")
    );

    let output = adosexo(&["demo"], &env);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let stdout = String::from_utf8_lossy(&output.stdout);
    for role in [
        "admin",
        "supervisor",
        "coordinator",
        "regional_referent",
        "partner",
        "analyst",
        "partner app",
    ] {
        assert!(stdout.contains(role), "{stdout}");
    }

    let output = adosexo(&["audit", "verify"], &env);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(String::from_utf8_lossy(&output.stdout).starts_with("audit chain intact: "));

    // Someone with database rights edits entry 4 directly in SQL.
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime")
        .block_on(adosexo_persistence::testing::edit_audit_entry(&url, 4))
        .expect("edited");
    let output = adosexo(&["audit", "verify"], &env);
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.starts_with("adosexo: audit chain broken at entry 4 ("),
        "{stderr}"
    );
}

#[test]
fn demo_is_refused_on_postgres_before_touching_it() {
    // Nothing listens on port 1: the answer is the refusal, not a connection error.
    let output = adosexo(
        &["demo"],
        &[("DATABASE_URL", "postgres://u:p@127.0.0.1:1/prod")],
    );
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("refusing to seed demo data into PostgreSQL"),
        "{stderr}"
    );
}

#[test]
fn production_refuses_to_start_without_a_signing_key() {
    let dir = tempfile::tempdir().expect("dir");
    let url = format!("sqlite://{}", dir.path().join("adosexo.db").display());
    let output = adosexo(
        &["serve"],
        &[
            ("DATABASE_URL", &url),
            ("ADOSEXO_ENV", "production"),
            ("RUST_LOG", "off"),
        ],
    );
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("ADOSEXO_JWT_PRIVATE_KEY_FILE"), "{stderr}");
}

#[test]
fn retention_dry_run_says_what_would_happen_and_checks_its_settings() {
    let scratch = tempfile::tempdir().expect("scratch folder");
    let url = format!("sqlite://{}/r.db", scratch.path().display());
    let output = adosexo(
        &["retention", "run", "--dry-run"],
        &[("DATABASE_URL", &url), ("RUST_LOG", "off")],
    );
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "{stdout}");
    assert!(
        stdout.starts_with(
            "retention (730 days active, 1095 days archived), dry run: nothing written: \
             0 follow-ups would be archived, 0 would be pseudonymised"
        ),
        "{stdout}"
    );
    let output = adosexo(
        &["retention", "run"],
        &[
            ("DATABASE_URL", &url),
            ("RUST_LOG", "off"),
            ("ADOSEXO_RETENTION_DAYS", "30"),
        ],
    );
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("ADOSEXO_RETENTION_DAYS"), "{stderr}");
}

/// `openssl` on PATH (the tests that compare with it say so and pass
/// without it).
fn openssl(args: &[&str]) -> Option<std::process::Output> {
    Command::new("openssl").args(args).output().ok()
}

#[test]
fn keys_are_pkcs8_v1_that_openssl_reads_and_give_the_same_public_key() {
    let dir = tempfile::tempdir().expect("dir");
    let generated = adosexo(&["keys", "generate"], &[]);
    assert!(generated.status.success());
    let private = String::from_utf8(generated.stdout).expect("utf-8");
    assert!(
        private.starts_with("-----BEGIN PRIVATE KEY-----\n"),
        "{private}"
    );
    let key = dir.path().join("jwt.pem");
    std::fs::write(&key, &private).expect("written");
    let key = key.to_str().expect("utf-8 path");

    let public = adosexo(&["keys", "public", "--key", key], &[]);
    assert!(
        public.status.success(),
        "{}",
        String::from_utf8_lossy(&public.stderr)
    );
    let public = String::from_utf8(public.stdout).expect("utf-8");
    assert!(
        public.starts_with("-----BEGIN PUBLIC KEY-----\n"),
        "{public}"
    );
    assert!(!public.contains("PRIVATE"));
    // The key file's variable is the default.
    let by_env = adosexo(
        &["keys", "public"],
        &[("ADOSEXO_JWT_PRIVATE_KEY_FILE", key)],
    );
    assert_eq!(String::from_utf8_lossy(&by_env.stdout), public);
    // A file that is not a key: one line, its content not echoed.
    let bad = dir.path().join("bad.pem");
    std::fs::write(&bad, "secret-looking-content\n").expect("written");
    let refused = adosexo(
        &["keys", "public", "--key", bad.to_str().expect("path")],
        &[],
    );
    assert_eq!(refused.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert!(!stderr.contains("secret-looking-content"), "{stderr}");
    assert_eq!(stderr.lines().count(), 1, "{stderr}");

    let Some(probe) = openssl(&["version"]) else {
        eprintln!("openssl is not on PATH: the comparison with it is skipped");
        return;
    };
    assert!(probe.status.success());
    // OpenSSL reads the generated key and derives the same public key.
    let derived = openssl(&["pkey", "-in", key, "-pubout"]).expect("openssl runs");
    assert!(
        derived.status.success(),
        "openssl pkey refused the key: {}",
        String::from_utf8_lossy(&derived.stderr)
    );
    assert_eq!(String::from_utf8_lossy(&derived.stdout), public);
    // And the rotation the README shows, with openssl alone: a key it
    // generates is read here, its public key the same as openssl's.
    let next = dir.path().join("next.pem");
    let next = next.to_str().expect("path");
    let made = openssl(&["genpkey", "-algorithm", "ed25519", "-out", next]).expect("runs");
    assert!(made.status.success());
    let ours = adosexo(&["keys", "public", "--key", next], &[]);
    assert!(
        ours.status.success(),
        "{}",
        String::from_utf8_lossy(&ours.stderr)
    );
    let theirs = openssl(&["pkey", "-in", next, "-pubout"]).expect("runs");
    assert_eq!(ours.stdout, theirs.stdout);
}
