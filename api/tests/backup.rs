//! The restore drill (docs/OPERATIONS.md): `adosexo backup` while 500
//! creates run, `adosexo restore` into a new file, every write acknowledged
//! before the backup started read back, nothing half-written, the audit
//! chain verified, the restored server answering. A wrong key, a truncated
//! and a tampered file, an occupied target and a newer schema are refused
//! with one clear line and nothing written. On PostgreSQL (with
//! `TEST_DATABASE_URL`): the documented pg_dump / pg_restore round trip.
#![expect(
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "test code: a failed expectation is a failed test"
)]

use std::cell::RefCell;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::rc::Rc;
use std::time::{Duration, Instant};

use adosexo_persistence::testing::TestDatabase;
use futures_util::future::join_all;
use serde_json::{Value, json};

mod support;

use support::{Server, client, command as adosexo, coordinator, half_written, ok, prepare, staff};

/// A referral accepted into a follow-up with one sealed note: the
/// follow-up's id.
async fn follow_up_with_a_note(base: &str, token: &str, note: &str) -> String {
    let client = client();
    let me: Value = client
        .get(format!("{base}/api/v1/me"))
        .bearer_auth(token)
        .send()
        .await
        .expect("sent")
        .json()
        .await
        .expect("JSON");
    let created = client
        .post(format!("{base}/api/v1/referrals"))
        .bearer_auth(token)
        .json(&referral_body(100_000))
        .send()
        .await
        .expect("sent");
    assert_eq!(created.status().as_u16(), 201);
    let etag = created.headers()["etag"].to_str().expect("etag").to_owned();
    let created: Value = created.json().await.expect("JSON");
    let accepted: Value = client
        .post(format!(
            "{base}/api/v1/referrals/{}/accept",
            created["id"].as_str().expect("id")
        ))
        .bearer_auth(token)
        .header("If-Match", etag)
        .json(&json!({"lead_staff_id": me["id"]}))
        .send()
        .await
        .expect("sent")
        .json()
        .await
        .expect("JSON");
    let follow_up = accepted["follow_up_id"]
        .as_str()
        .unwrap_or_else(|| panic!("accepted: {accepted}"))
        .to_owned();
    let response = client
        .post(format!("{base}/api/v1/follow-ups/{follow_up}/notes"))
        .bearer_auth(token)
        .json(&json!({"kind": "meeting", "body": note}))
        .send()
        .await
        .expect("sent");
    assert_eq!(response.status().as_u16(), 201);
    follow_up
}

/// A referral declined by the coordinator: its person may be erased. The
/// referral as it stands.
async fn declined_referral(base: &str, token: &str) -> Value {
    let client = client();
    let created = client
        .post(format!("{base}/api/v1/referrals"))
        .bearer_auth(token)
        .json(&referral_body(200_000))
        .send()
        .await
        .expect("sent");
    assert_eq!(created.status().as_u16(), 201);
    let etag = created.headers()["etag"].to_str().expect("etag").to_owned();
    let created: Value = created.json().await.expect("JSON");
    let declined = client
        .post(format!(
            "{base}/api/v1/referrals/{}/decline",
            created["id"].as_str().expect("id")
        ))
        .bearer_auth(token)
        .header("If-Match", etag)
        .json(&json!({"reason": "Hors du champ du programme."}))
        .send()
        .await
        .expect("sent");
    assert_eq!(declined.status().as_u16(), 200);
    declined.json().await.expect("JSON")
}

/// The supervisor records an erasure request about `person` and executes it.
async fn erase(base: &str, supervisor: &str, person: &str) {
    let client = client();
    let request: Value = client
        .post(format!("{base}/api/v1/people/{person}/erasure-requests"))
        .bearer_auth(supervisor)
        .json(&json!({"requested_by": "person", "received_at": chrono::Utc::now()}))
        .send()
        .await
        .expect("sent")
        .json()
        .await
        .expect("JSON");
    let executed = client
        .post(format!(
            "{base}/api/v1/erasure-requests/{}/execute",
            request["id"]
                .as_str()
                .unwrap_or_else(|| panic!("{request}"))
        ))
        .bearer_auth(supervisor)
        .send()
        .await
        .expect("sent");
    let status = executed.status().as_u16();
    assert_eq!(status, 200, "{:?}", executed.text().await);
}

/// A person's first name as stored.
fn first_name(database_url: &str, person: &str) -> String {
    #[derive(diesel::QueryableByName)]
    struct Name {
        #[diesel(sql_type = diesel::sql_types::Text)]
        first_name: String,
    }
    use diesel::RunQueryDsl;
    let url = adosexo_persistence::DatabaseUrl::parse(database_url).expect("url");
    let db = adosexo_persistence::Db::connect(&url, adosexo_persistence::PoolOptions::default())
        .expect("connect");
    let sql = format!("SELECT first_name FROM people WHERE id = '{person}'");
    db.run_blocking(|conn| {
        let name: Name = diesel::sql_query(sql).get_result(conn)?;
        Ok::<_, adosexo_persistence::PersistenceError>(name.first_name)
    })
    .expect("query")
}

fn referral_body(i: usize) -> Value {
    json!({
        "public": "young_person", "context": "pre_prostitution", "source": "young_person",
        "person": {"first_name": format!("Backup{i}"), "birth_date": "2010-01-01", "departement_code": "93", "placement": "foyer"},
        "risk_indicators": ["runaway"], "summary": format!("backup-marker-{i}"), "urgency": "urgent"
    })
}

/// A create's body when acknowledged (2xx); `None` otherwise.
async fn create(client: &reqwest::Client, base: &str, token: &str, i: usize) -> Option<Value> {
    let response = client
        .post(format!("{base}/api/v1/referrals"))
        .bearer_auth(token)
        .json(&referral_body(i))
        .send()
        .await
        .ok()?;
    if !response.status().is_success() {
        return None;
    }
    response.json().await.ok()
}

/// Every referral acknowledged before the backup reads back as it was.
async fn assert_present(base: &str, token: &str, acknowledged: &[Value]) {
    let client = client();
    let reads = acknowledged.iter().map(|created| {
        let request = client
            .get(format!(
                "{base}/api/v1/referrals/{}",
                created["id"].as_str().expect("id")
            ))
            .bearer_auth(token);
        async move {
            let response = request.send().await.expect("sent");
            let status = response.status().as_u16();
            (
                status,
                response.json::<Value>().await.unwrap_or(Value::Null),
            )
        }
    });
    let mut missing = Vec::new();
    for (created, (status, read)) in acknowledged.iter().zip(join_all(reads).await) {
        if status != 200 {
            missing.push(format!("{}: {status}", created["id"]));
            continue;
        }
        for field in ["id", "reference", "summary", "person", "status", "version"] {
            assert_eq!(
                read[field], created[field],
                "referral {}: `{field}` differs from what was acknowledged",
                created["id"]
            );
        }
    }
    assert!(
        missing.is_empty(),
        "{} referrals acknowledged before the backup are missing: {:?}",
        missing.len(),
        &missing[..missing.len().min(10)]
    );
}

/// A new backup identity in `dir`: `(identity file, recipient)`.
fn identity(dir: &Path, name: &str) -> (PathBuf, String) {
    let file = dir.join(name);
    let stdout = ok(
        dir,
        "sqlite://unused.db",
        &[
            "keys",
            "generate-backup",
            "--out",
            file.to_str().expect("utf-8"),
        ],
        &[],
    );
    let recipient = stdout
        .lines()
        .find_map(|l| l.strip_prefix("recipient: "))
        .expect("a recipient line")
        .to_owned();
    assert!(recipient.starts_with("age1"), "{stdout}");
    let text = std::fs::read_to_string(&file).expect("identity file");
    assert!(
        !stdout.contains("AGE-SECRET-KEY"),
        "the secret is never printed"
    );
    assert!(text.contains("AGE-SECRET-KEY-1"));
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(&file).expect("meta").permissions().mode();
    assert_eq!(mode & 0o777, 0o600, "the identity file is private");
    (file, recipient)
}

/// The one backup file of a folder.
fn only_backup(dir: &Path) -> PathBuf {
    let files: Vec<PathBuf> = std::fs::read_dir(dir)
        .expect("backups folder")
        .map(|e| e.expect("entry").path())
        .collect();
    assert_eq!(files.len(), 1, "{files:?}");
    files.into_iter().next().expect("one")
}

fn entries(dir: &Path) -> Vec<String> {
    std::fs::read_dir(dir)
        .expect("folder")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect()
}

/// Runs `creates` concurrent referral creates and, once `backup_after` are
/// acknowledged, `backup` on a thread of its own while the rest go on.
/// Returns what was acknowledged before the backup started, the backup's
/// output and time, and how many creates were acknowledged in all.
async fn under_load(
    base: &str,
    token: &str,
    creates: usize,
    backup_after: usize,
    backup: impl FnOnce() -> Output + Send + 'static,
) -> (Vec<Value>, (Output, Duration), usize) {
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(60))
        .build()
        .expect("client");
    let acknowledged = Rc::new(RefCell::new(Vec::new()));
    let load = (0..creates).map(|i| {
        let (http, acknowledged) = (http.clone(), acknowledged.clone());
        async move {
            if let Some(body) = create(&http, base, token, i).await {
                acknowledged.borrow_mut().push(body);
            }
        }
    });
    let backup = {
        let acknowledged = acknowledged.clone();
        async move {
            let started = Instant::now();
            while acknowledged.borrow().len() < backup_after {
                assert!(
                    started.elapsed() < Duration::from_secs(120),
                    "only {} creates acknowledged in 120 s",
                    acknowledged.borrow().len()
                );
                actix_web::rt::time::sleep(Duration::from_millis(2)).await;
            }
            // Everything acknowledged now was committed before the backup starts.
            let before: Vec<Value> = acknowledged.borrow().clone();
            let done = actix_web::rt::task::spawn_blocking(move || {
                let started = Instant::now();
                let output = backup();
                (output, started.elapsed())
            })
            .await
            .expect("backup thread");
            (before, done)
        }
    };
    let (_, (before, done)) = futures_util::future::join(join_all(load), backup).await;
    let total = acknowledged.borrow().len();
    assert!(
        total > before.len(),
        "creates went on while the backup ran ({total} acknowledged in all)"
    );
    (before, done, total)
}

#[actix_web::test]
async fn sqlite_restore_drill_under_load() {
    let dir = tempfile::tempdir().expect("dir");
    let root = dir.path();
    std::fs::create_dir_all(root.join("live")).expect("live");
    std::fs::create_dir_all(root.join("backups")).expect("backups");
    std::fs::create_dir_all(root.join("restored")).expect("restored");
    let live = format!("sqlite://{}", root.join("live/adosexo.db").display());
    prepare(root, &live);
    let (identity_file, recipient) = identity(root, "backup-identity.txt");
    let journal = root.join("erasures.journal");
    let journal_env = [("ADOSEXO_ERASURE_JOURNAL", journal.to_str().expect("utf-8"))];
    let server = Server::start(root, &live, &journal_env);
    let (token, _) = coordinator(&server.base).await;
    let (supervisor, _) = staff(&server.base, "supervisor", &[]).await;
    let note = "note-marker-4c1e: premier entretien au foyer";
    let follow_up = follow_up_with_a_note(&server.base, &token, note).await;
    // Two people whose referral was declined: one erased before the
    // backup, one after it.
    let erased_before = declined_referral(&server.base, &token).await["person"]["id"]
        .as_str()
        .expect("person")
        .to_owned();
    erase(&server.base, &supervisor, &erased_before).await;
    let erased_after = declined_referral(&server.base, &token).await["person"]["id"]
        .as_str()
        .expect("person")
        .to_owned();

    let to = root.join("backups");
    let (before, (output, took), total) = under_load(&server.base, &token, 500, 150, {
        let (root, live, recipient) = (root.to_path_buf(), live.clone(), recipient.clone());
        move || {
            adosexo(
                &root,
                &live,
                &["backup", "--to", to.to_str().expect("utf-8"), "--keep", "3"],
                &[("ADOSEXO_BACKUP_RECIPIENT", &recipient)],
            )
        }
    })
    .await;
    assert!(
        output.status.success(),
        "backup under load: {}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    eprintln!(
        "backup under load took {took:?}: {} creates acknowledged before it started, {total} of 500 in all; {}",
        before.len(),
        String::from_utf8_lossy(&output.stdout).trim()
    );
    erase(&server.base, &supervisor, &erased_after).await;
    assert_eq!(first_name(&live, &erased_after), "pseudonymised");
    server.assert_no_panic();
    drop(server);

    // The backup is ciphertext: no marker, no name, no SQLite header.
    let backup = only_backup(&root.join("backups"));
    let bytes = std::fs::read(&backup).expect("backup");
    assert!(bytes.starts_with(b"age-encryption.org/v1\n"));
    for needle in [
        &b"SQLite format 3"[..],
        b"backup-marker-",
        b"Backup1",
        b"note-marker-4c1e",
    ] {
        assert!(
            !bytes.windows(needle.len()).any(|w| w == needle),
            "plaintext {:?} in the backup",
            String::from_utf8_lossy(needle)
        );
    }
    assert!(
        entries(&root.join("live"))
            .iter()
            .all(|name| !name.starts_with(".adosexo-backup-")),
        "the plaintext snapshot is deleted: {:?}",
        entries(&root.join("live"))
    );

    let restored = format!("sqlite://{}", root.join("restored/adosexo.db").display());
    let stdout = ok(
        root,
        "sqlite://unused.db",
        &[
            "restore",
            "--from",
            backup.to_str().expect("utf-8"),
            "--to",
            &restored,
            "--identity",
            identity_file.to_str().expect("utf-8"),
        ],
        &journal_env,
    );
    // The erasure executed after the backup is executed again; the one
    // before was in it already.
    assert!(
        stdout.contains("erasures: 1 decided since") && stdout.contains("1 older"),
        "{stdout}"
    );
    assert_eq!(first_name(&restored, &erased_after), "pseudonymised");
    assert_eq!(first_name(&restored, &erased_before), "pseudonymised");
    eprintln!("{stdout}");
    assert!(stdout.contains("audit chain intact"), "{stdout}");
    assert!(stdout.contains("0 migration(s) applied"), "{stdout}");
    assert!(stdout.contains("signing key"), "{stdout}");
    assert!(
        stdout.contains("ADOSEXO_NOTES_KEYS must hold the key(s) test-1"),
        "{stdout}"
    );
    assert!(!stdout.contains("MISSING"), "{stdout}");
    // Restored where the notes key is not configured: said so.
    let elsewhere = format!("sqlite://{}", root.join("restored/elsewhere.db").display());
    let stdout = ok(
        root,
        "sqlite://unused.db",
        &[
            "restore",
            "--from",
            backup.to_str().expect("utf-8"),
            "--to",
            &elsewhere,
            "--identity",
            identity_file.to_str().expect("utf-8"),
        ],
        &[("ADOSEXO_NOTES_KEYS", "other:AAAA")],
    );
    assert!(
        stdout.contains("MISSING here: notes key(s) test-1 are not in ADOSEXO_NOTES_KEYS"),
        "{stdout}"
    );
    // Without the journal the erasure after the backup comes back: said loudly.
    assert!(stdout.contains("erasures: NO JOURNAL GIVEN"), "{stdout}");
    let elsewhere_name = first_name(&elsewhere, &erased_after);
    assert!(elsewhere_name.starts_with("Backup"), "{elsewhere_name}");
    assert_eq!(half_written(&restored), Vec::<(String, i64)>::new());
    let verified = ok(root, &restored, &["audit", "verify"], &[]);
    assert!(verified.starts_with("audit chain intact"), "{verified}");

    let server = Server::start(root, &restored, &[]);
    let ready = client()
        .get(format!("{}/readyz", server.base))
        .send()
        .await
        .expect("sent");
    assert_eq!(ready.status().as_u16(), 200);
    // The session of the token was written before the backup: it still works.
    assert_present(&server.base, &token, &before).await;
    // The sealed note opens with the same notes key.
    let notes: Value = client()
        .get(format!(
            "{}/api/v1/follow-ups/{follow_up}/notes",
            server.base
        ))
        .bearer_auth(&token)
        .send()
        .await
        .expect("sent")
        .json()
        .await
        .expect("JSON");
    assert_eq!(notes["items"][0]["body"], note, "{notes}");
    server.assert_no_panic();
}

/// Runs a restore that must be refused: exit 1, one line naming
/// `expected`, and nothing left in the destination folder.
fn assert_refused(root: &Path, from: &Path, to_dir: &Path, identity: &Path, expected: &str) {
    let to = format!("sqlite://{}", to_dir.join("adosexo.db").display());
    let before = entries(to_dir);
    let output = adosexo(
        root,
        "sqlite://unused.db",
        &[
            "restore",
            "--from",
            from.to_str().expect("utf-8"),
            "--to",
            &to,
        ],
        &[(
            "ADOSEXO_BACKUP_IDENTITY_FILE",
            identity.to_str().expect("utf-8"),
        )],
    );
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(stderr.contains(expected), "expected `{expected}`: {stderr}");
    assert!(!stderr.contains("AGE-SECRET-KEY"), "{stderr}");
    assert_eq!(entries(to_dir), before, "a refused restore wrote something");
}

#[test]
fn sqlite_refusals_write_nothing() {
    let dir = tempfile::tempdir().expect("dir");
    let root = dir.path();
    std::fs::create_dir_all(root.join("backups")).expect("backups");
    std::fs::create_dir_all(root.join("target")).expect("target");
    let live = format!("sqlite://{}", root.join("live.db").display());
    prepare(root, &live);
    let (identity_file, recipient) = identity(root, "id.txt");
    let (other_identity, _) = identity(root, "other.txt");
    let backups = root.join("backups");
    // A killed backup left its plaintext snapshot folder: the next one deletes it.
    std::fs::create_dir_all(root.join(".adosexo-backup-killed")).expect("stale");
    std::fs::write(
        root.join(".adosexo-backup-killed/snapshot.db"),
        b"plaintext",
    )
    .expect("stale");
    ok(
        root,
        &live,
        &[
            "backup",
            "--to",
            backups.to_str().expect("utf-8"),
            "--recipient",
            &recipient,
        ],
        &[],
    );
    assert!(!root.join(".adosexo-backup-killed").exists());
    let good = only_backup(&backups);
    let bytes = std::fs::read(&good).expect("read");
    let target = root.join("target");

    assert_refused(
        root,
        &good,
        &target,
        &other_identity,
        "does not open this backup (wrong key",
    );
    let truncated = root.join("truncated.age");
    std::fs::write(&truncated, &bytes[..bytes.len() / 2]).expect("write");
    assert_refused(root, &truncated, &target, &identity_file, "truncated");
    let cut_end = root.join("cut-end.age");
    std::fs::write(&cut_end, &bytes[..bytes.len() - 1]).expect("write");
    assert_refused(
        root,
        &cut_end,
        &target,
        &identity_file,
        "nothing was restored",
    );
    let mut altered = bytes.clone();
    let middle = altered.len() / 2;
    altered[middle] ^= 0x01;
    let tampered = root.join("tampered.age");
    std::fs::write(&tampered, &altered).expect("write");
    assert_refused(root, &tampered, &target, &identity_file, "altered");
    let garbage = root.join("garbage.age");
    std::fs::write(&garbage, b"SQLite format 3\0 not a backup").expect("write");
    assert_refused(
        root,
        &garbage,
        &target,
        &identity_file,
        "no valid age header",
    );

    // A database already at the target is never replaced.
    std::fs::write(target.join("adosexo.db"), b"precious").expect("write");
    assert_refused(
        root,
        &good,
        &target,
        &identity_file,
        "a database is there already",
    );
    assert_eq!(
        std::fs::read(target.join("adosexo.db")).expect("read"),
        b"precious"
    );
    std::fs::remove_file(target.join("adosexo.db")).expect("remove");

    // PostgreSQL targets are pg_restore's.
    let output = adosexo(
        root,
        "sqlite://unused.db",
        &[
            "restore",
            "--from",
            good.to_str().expect("utf-8"),
            "--to",
            "postgres://u:hunter2@127.0.0.1:1/x",
            "--identity",
            identity_file.to_str().expect("utf-8"),
        ],
        &[],
    );
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("pg_restore"), "{stderr}");
    assert!(!stderr.contains("hunter2"), "{stderr}");

    // PostgreSQL is pg_dump's: refused before connecting, password unsaid.
    let output = adosexo(
        root,
        "postgres://u:hunter2@127.0.0.1:1/x",
        &[
            "backup",
            "--to",
            backups.to_str().expect("utf-8"),
            "--recipient",
            &recipient,
        ],
        &[],
    );
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("pg_dump"), "{stderr}");
    assert!(!stderr.contains("hunter2"), "{stderr}");
    assert_eq!(entries(&backups).len(), 1);

    // The good one still restores.
    let to = format!("sqlite://{}", target.join("adosexo.db").display());
    let stdout = ok(
        root,
        "sqlite://unused.db",
        &[
            "restore",
            "--from",
            good.to_str().expect("utf-8"),
            "--to",
            &to,
            "--identity",
            identity_file.to_str().expect("utf-8"),
        ],
        &[("ADOSEXO_NOTES_KEYS", "")],
    );
    assert!(stdout.contains("audit chain intact"), "{stdout}");
    assert_eq!(entries(&target), vec!["adosexo.db".to_owned()]);

    // A database whose audit trail was edited in SQL is not restored.
    let edited = format!("sqlite://{}", root.join("edited.db").display());
    prepare(root, &edited);
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime")
        .block_on(adosexo_persistence::testing::edit_audit_entry(&edited, 1))
        .expect("edited");
    let edited_backups = root.join("edited-backups");
    std::fs::create_dir_all(&edited_backups).expect("folder");
    let edited_target = root.join("edited-target");
    std::fs::create_dir_all(&edited_target).expect("folder");
    ok(
        root,
        &edited,
        &[
            "backup",
            "--to",
            edited_backups.to_str().expect("utf-8"),
            "--recipient",
            &recipient,
        ],
        &[],
    );
    assert_refused(
        root,
        &only_backup(&edited_backups),
        &edited_target,
        &identity_file,
        "fails the audit verification: audit chain broken at entry 1",
    );

    // Retention: --keep 2 leaves the two newest.
    for _ in 0..3 {
        std::thread::sleep(Duration::from_millis(5));
        ok(
            root,
            &live,
            &[
                "backup",
                "--to",
                backups.to_str().expect("utf-8"),
                "--keep",
                "2",
            ],
            &[("ADOSEXO_BACKUP_RECIPIENT", &recipient)],
        );
    }
    let mut kept = entries(&backups);
    kept.sort();
    assert_eq!(kept.len(), 2, "{kept:?}");
    assert!(
        !kept.contains(
            &good
                .file_name()
                .expect("name")
                .to_string_lossy()
                .into_owned()
        ),
        "the oldest is gone: {kept:?}"
    );
}

#[test]
fn sqlite_schemas_newer_are_refused_older_migrated() {
    use diesel::connection::SimpleConnection;
    use diesel::{Connection, SqliteConnection};
    use diesel_migrations::MigrationHarness;
    let dir = tempfile::tempdir().expect("dir");
    let root = dir.path();
    let (identity_file, recipient) = identity(root, "id.txt");
    for name in [
        "old",
        "new",
        "old-backup",
        "new-backup",
        "old-target",
        "new-target",
    ] {
        std::fs::create_dir_all(root.join(name)).expect("folder");
    }
    // An older database: every migration but the last.
    let old = root.join("old/adosexo.db");
    let mut conn = SqliteConnection::establish(old.to_str().expect("utf-8")).expect("open");
    let all = adosexo_persistence::backup::known_migrations(adosexo_persistence::Backend::Sqlite)
        .expect("known");
    for _ in 1..all.len() {
        conn.run_next_migration(adosexo_persistence::migrations::SQLITE)
            .expect("migration");
    }
    drop(conn);
    // A newer one: a migration this binary does not know.
    let new = root.join("new/adosexo.db");
    let new_url = format!("sqlite://{}", new.display());
    ok(root, &new_url, &["migrate"], &[]);
    let mut conn = SqliteConnection::establish(new.to_str().expect("utf-8")).expect("open");
    conn.batch_execute(
        "INSERT INTO __diesel_schema_migrations (version) VALUES ('20991231000000')",
    )
    .expect("future migration");
    drop(conn);

    for (source, backups) in [("old", "old-backup"), ("new", "new-backup")] {
        let url = format!(
            "sqlite://{}",
            root.join(source).join("adosexo.db").display()
        );
        ok(
            root,
            &url,
            &[
                "backup",
                "--to",
                root.join(backups).to_str().expect("utf-8"),
                "--recipient",
                &recipient,
            ],
            &[],
        );
    }
    assert_refused(
        root,
        &only_backup(&root.join("new-backup")),
        &root.join("new-target"),
        &identity_file,
        "is newer than this adosexo knows",
    );
    let to = format!("sqlite://{}", root.join("old-target/adosexo.db").display());
    let stdout = ok(
        root,
        "sqlite://unused.db",
        &[
            "restore",
            "--from",
            only_backup(&root.join("old-backup"))
                .to_str()
                .expect("utf-8"),
            "--to",
            &to,
            "--identity",
            identity_file.to_str().expect("utf-8"),
        ],
        &[],
    );
    assert!(stdout.contains("1 migration(s) applied"), "{stdout}");
    // Fully migrated: the server is ready on it.
    let migrated = ok(root, &to, &["migrate"], &[]);
    assert!(migrated.is_empty(), "{migrated}");
}

/// The documented PostgreSQL procedure: pg_dump -Fc while serving,
/// pg_restore into a new database, audit verify, serve, read back.
#[actix_web::test]
async fn postgres_pg_dump_restore_round_trip() {
    let Some(source) = TestDatabase::postgres().expect("database") else {
        eprintln!("TEST_DATABASE_URL is not set: skipped");
        return;
    };
    let target = TestDatabase::postgres()
        .expect("database")
        .expect("a second database");
    let dir = tempfile::tempdir().expect("dir");
    let root = dir.path();
    prepare(root, source.url());
    let journal = root.join("erasures.journal");
    let journal_env = [("ADOSEXO_ERASURE_JOURNAL", journal.to_str().expect("utf-8"))];
    let server = Server::start(root, source.url(), &journal_env);
    let (token, _) = coordinator(&server.base).await;
    let (supervisor, _) = staff(&server.base, "supervisor", &[]).await;
    let erased_after = declined_referral(&server.base, &token).await["person"]["id"]
        .as_str()
        .expect("person")
        .to_owned();
    let dump = root.join("adosexo.dump");
    let dump_started = chrono::Utc::now();
    let (acknowledged, (output, took), total) = under_load(&server.base, &token, 200, 60, {
        let (dump, url) = (dump.clone(), source.url().to_owned());
        move || {
            Command::new("pg_dump")
                .args(["--format=custom", "--file"])
                .arg(&dump)
                .arg("--dbname")
                .arg(&url)
                .output()
                .expect("pg_dump runs (apt-get install postgresql-client)")
        }
    })
    .await;
    assert!(
        output.status.success(),
        "pg_dump: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    eprintln!(
        "pg_dump -Fc under load: {took:?}, {} bytes; {} creates acknowledged before it started, {total} of 200 in all",
        std::fs::metadata(&dump).expect("dump").len(),
        acknowledged.len()
    );
    erase(&server.base, &supervisor, &erased_after).await;
    drop(server);
    let output = Command::new("pg_restore")
        .args(["--no-owner", "--exit-on-error", "--dbname"])
        .arg(target.url())
        .arg(&dump)
        .output()
        .expect("pg_restore runs");
    assert!(
        output.status.success(),
        "pg_restore: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    // The erasure executed after the dump began comes back with it…
    assert!(first_name(target.url(), &erased_after).starts_with("Backup"));
    // …until the journal is replayed.
    let since = dump_started.to_rfc3339();
    let replayed = ok(
        root,
        target.url(),
        &["erasures", "replay", "--since", &since],
        &journal_env,
    );
    assert!(replayed.starts_with("1 erasures replayed"), "{replayed}");
    assert_eq!(first_name(target.url(), &erased_after), "pseudonymised");
    let verified = ok(root, target.url(), &["audit", "verify"], &[]);
    assert!(verified.starts_with("audit chain intact"), "{verified}");
    assert_eq!(half_written(target.url()), Vec::<(String, i64)>::new());
    let server = Server::start(root, target.url(), &[]);
    assert_present(&server.base, &token, &acknowledged).await;
    server.assert_no_panic();
}

/// An erasure whose journal line cannot be written is not executed (a
/// restore could not replay it): 500, the person unchanged, and it
/// succeeds once the journal is writable.
#[actix_web::test]
async fn an_erasure_the_journal_cannot_record_is_rolled_back() {
    let dir = tempfile::tempdir().expect("dir");
    let root = dir.path();
    let live = format!("sqlite://{}", root.join("live.db").display());
    prepare(root, &live);
    let journal = root.join("missing-folder/erasures.journal");
    let journal_env = [("ADOSEXO_ERASURE_JOURNAL", journal.to_str().expect("utf-8"))];
    let server = Server::start(root, &live, &journal_env);
    let (token, _) = coordinator(&server.base).await;
    let (supervisor, _) = staff(&server.base, "supervisor", &[]).await;
    let person = declined_referral(&server.base, &token).await["person"]["id"]
        .as_str()
        .expect("person")
        .to_owned();
    let client = client();
    let request: Value = client
        .post(format!(
            "{}/api/v1/people/{person}/erasure-requests",
            server.base
        ))
        .bearer_auth(&supervisor)
        .json(&json!({"requested_by": "person", "received_at": chrono::Utc::now()}))
        .send()
        .await
        .expect("sent")
        .json()
        .await
        .expect("JSON");
    let execute = format!(
        "{}/api/v1/erasure-requests/{}/execute",
        server.base,
        request["id"].as_str().expect("id")
    );
    let refused = client
        .post(&execute)
        .bearer_auth(&supervisor)
        .send()
        .await
        .expect("sent");
    assert_eq!(refused.status().as_u16(), 500);
    let body = refused.text().await.expect("body");
    assert!(
        !body.contains("missing-folder"),
        "the cause is logged, not sent: {body}"
    );
    assert!(first_name(&live, &person).starts_with("Backup"));
    std::fs::create_dir_all(root.join("missing-folder")).expect("folder");
    let executed = client
        .post(&execute)
        .bearer_auth(&supervisor)
        .send()
        .await
        .expect("sent");
    assert_eq!(executed.status().as_u16(), 200);
    assert_eq!(first_name(&live, &person), "pseudonymised");
    let lines = std::fs::read_to_string(&journal).expect("journal");
    assert_eq!(lines.lines().count(), 1, "{lines}");
    assert!(
        lines.contains(&person) && !lines.contains("Backup"),
        "{lines}"
    );
    server.assert_no_panic();
}
