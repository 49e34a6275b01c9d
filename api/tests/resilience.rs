//! The `adosexo` binary under faults and abuse (docs/SECURITY.md, "What the
//! tests prove"): killed with SIGKILL in the middle of a thousand creates,
//! cut from PostgreSQL under load, and fed hostile input by slow and greedy
//! clients. Each test drives the real binary as a child process.
#![expect(
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "test code: a failed expectation is a failed test"
)]

use std::cell::RefCell;
use std::collections::HashMap;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::rc::Rc;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use adosexo_persistence::testing::TestDatabase;
use futures_util::future::join_all;
use serde_json::{Value, json};

mod support;

use support::{Server, client, coordinator, half_written, prepare};

/// Runs a subcommand that must succeed.
fn run(dir: &Path, database_url: &str, args: &[&str], env: &[(&str, &str)]) {
    support::ok(dir, database_url, args, env);
}

impl Server {
    fn addr(&self) -> String {
        self.base.trim_start_matches("http://").to_owned()
    }

    /// Peak resident memory of the child (VmHWM), in KiB.
    fn peak_kib(&self) -> u64 {
        proc_status_kib(self.child.id(), "VmHWM:")
    }

    /// Resident memory now (VmRSS), in KiB.
    fn rss_kib(&self) -> u64 {
        proc_status_kib(self.child.id(), "VmRSS:")
    }

    fn kill(&mut self) {
        // SIGKILL: no shutdown, no flush, no goodbye.
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    fn is_alive(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(None))
    }
}

fn proc_status_kib(pid: u32, field: &str) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).expect("/proc status");
    status
        .lines()
        .find_map(|line| line.strip_prefix(field))
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|kib| kib.parse().ok())
        .expect("field in /proc status")
}

fn referral_body(i: usize) -> Value {
    json!({
        "public": "young_person", "context": "pre_prostitution", "source": "young_person",
        "person": {"first_name": format!("Durable{i}"), "birth_date": "2010-01-01", "departement_code": "93", "placement": "foyer"},
        "risk_indicators": ["runaway"], "summary": format!("marker-{i}"), "urgency": "urgent"
    })
}

fn appointment_body(i: usize, staff: &str) -> Value {
    let start = chrono::DateTime::parse_from_rfc3339("2027-03-01T08:00:00Z").expect("time")
        + chrono::Duration::hours(i64::try_from(i).expect("small"));
    let end = start + chrono::Duration::minutes(30);
    json!({
        "mode": "phone", "title": format!("Appel {i}"), "departement_code": "93",
        "starts_at": start.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        "ends_at": end.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        "staff_ids": [staff],
    })
}

/// What a create answered.
enum Outcome {
    /// 2xx: the body the server acknowledged.
    Acknowledged(Value),
    /// Any other status (not acknowledged).
    Refused(u16, String),
    /// No answer (the connection died).
    Lost,
}

async fn create(client: &reqwest::Client, url: String, token: &str, body: Value) -> Outcome {
    match client.post(url).bearer_auth(token).json(&body).send().await {
        Ok(response) => {
            let status = response.status().as_u16();
            match response.text().await {
                Ok(text) if (200..300).contains(&status) => match serde_json::from_str(&text) {
                    Ok(value) => Outcome::Acknowledged(value),
                    Err(_) => Outcome::Lost,
                },
                Ok(text) => Outcome::Refused(status, text),
                Err(_) => Outcome::Lost,
            }
        }
        Err(_) => Outcome::Lost,
    }
}

/// The referral and appointment read back equal what was acknowledged.
async fn assert_intact(base: &str, token: &str, acknowledged: &[(&'static str, Value)]) {
    let client = client();
    let reads = acknowledged.iter().map(|(kind, created)| {
        let id = created["id"].as_str().expect("id").to_owned();
        let request = client
            .get(format!("{base}/api/v1/{kind}/{id}"))
            .bearer_auth(token);
        async move {
            let response = request.send().await.expect("sent");
            let status = response.status().as_u16();
            let body: Value = response.json().await.unwrap_or(Value::Null);
            (status, body)
        }
    });
    let reads = join_all(reads).await;
    let mut missing = Vec::new();
    for ((kind, created), (status, read)) in acknowledged.iter().zip(reads) {
        if status != 200 {
            missing.push(format!("{kind} {}: {status}", created["id"]));
            continue;
        }
        let fields: &[&str] = if *kind == "referrals" {
            &[
                "id",
                "reference",
                "summary",
                "person",
                "risk_indicators",
                "status",
                "version",
            ]
        } else {
            &[
                "id",
                "title",
                "starts_at",
                "ends_at",
                "staff_ids",
                "status",
                "version",
            ]
        };
        for field in fields {
            assert_eq!(
                read[*field], created[*field],
                "{kind} {}: `{field}` differs from what was acknowledged",
                created["id"]
            );
        }
    }
    assert!(
        missing.is_empty(),
        "{} acknowledged creates are missing after the restart: {:?}",
        missing.len(),
        &missing[..missing.len().min(10)]
    );
}

/// ≥ 1000 concurrent creates, SIGKILL once some hundreds are acknowledged,
/// restart: every acknowledged create is there and intact, nothing is
/// half-written, the audit chain verifies.
async fn survives_sigkill_during_concurrent_creates(database_url: &str) {
    const CREATES: usize = 1200;
    const KILL_AFTER: usize = 300;
    let dir = tempfile::tempdir().expect("dir");
    prepare(dir.path(), database_url);
    let server = Rc::new(RefCell::new(Server::start(dir.path(), database_url, &[])));
    let base = server.borrow().base.clone();
    let (token, staff) = coordinator(&base).await;
    adosexo_api::startup::install_tls_provider();
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(60))
        .pool_max_idle_per_host(0)
        .build()
        .expect("client");
    let acknowledged = Rc::new(RefCell::new(0_usize));
    let creates = (0..CREATES).map(|i| {
        let (kind, body) = if i % 2 == 0 {
            ("referrals", referral_body(i))
        } else {
            ("appointments", appointment_body(i, &staff))
        };
        let request = create(&client, format!("{base}/api/v1/{kind}"), &token, body);
        let acknowledged = acknowledged.clone();
        async move {
            let outcome = request.await;
            if matches!(outcome, Outcome::Acknowledged(_)) {
                *acknowledged.borrow_mut() += 1;
            }
            (kind, outcome)
        }
    });
    let killer = {
        let server = server.clone();
        let acknowledged = acknowledged.clone();
        async move {
            let started = Instant::now();
            while *acknowledged.borrow() < KILL_AFTER {
                assert!(
                    started.elapsed() < Duration::from_secs(120),
                    "only {} creates acknowledged in 120 s",
                    acknowledged.borrow()
                );
                actix_web::rt::time::sleep(Duration::from_millis(2)).await;
            }
            server.borrow_mut().kill();
            *acknowledged.borrow()
        }
    };
    let (outcomes, killed_at) = futures_util::future::join(join_all(creates), killer).await;
    let mut kept = Vec::new();
    let (mut lost, mut refused) = (0, HashMap::new());
    for (kind, outcome) in outcomes {
        match outcome {
            Outcome::Acknowledged(body) => kept.push((kind, body)),
            Outcome::Refused(status, body) => {
                assert!(
                    status == 503 || status == 429,
                    "a create answered {status} before the kill: {body}"
                );
                *refused.entry(status).or_insert(0) += 1;
            }
            Outcome::Lost => lost += 1,
        }
    }
    eprintln!(
        "{CREATES} creates: killed after {killed_at} acknowledged; {} acknowledged in all, {lost} lost in flight, refused {refused:?}",
        kept.len()
    );
    assert!(kept.len() >= KILL_AFTER, "the kill came too early");
    assert!(lost > 0, "the kill came after every create had finished");
    server.borrow().assert_no_panic();

    let restarted = Server::start(dir.path(), database_url, &[]);
    assert_intact(&restarted.base, &token, &kept).await;
    let broken = half_written(database_url);
    assert!(broken.is_empty(), "half-written rows: {broken:?}");
    run(dir.path(), database_url, &["audit", "verify"], &[]);
    // And it serves writes again.
    match create(
        &client,
        format!("{}/api/v1/referrals", restarted.base),
        &token,
        referral_body(CREATES),
    )
    .await
    {
        Outcome::Acknowledged(_) => {}
        Outcome::Refused(status, body) => panic!("after the restart: {status} {body}"),
        Outcome::Lost => panic!("after the restart: no answer"),
    }
    restarted.assert_no_panic();
}

#[actix_web::test]
async fn sqlite_survives_sigkill_during_concurrent_creates() {
    let database = TestDatabase::sqlite().expect("database");
    survives_sigkill_during_concurrent_creates(database.url()).await;
}

#[actix_web::test]
async fn postgres_survives_sigkill_during_concurrent_creates() {
    let Some(database) = TestDatabase::postgres().expect("database") else {
        eprintln!("TEST_DATABASE_URL is not set: skipped");
        return;
    };
    survives_sigkill_during_concurrent_creates(database.url()).await;
}

/// A TCP proxy between the server and PostgreSQL that can be cut (every
/// connection closed, new ones refused, like a stopped server) and restored.
/// It runs on a thread of its own: the test's thread blocks at times.
struct Proxy {
    addr: String,
    up: Arc<std::sync::atomic::AtomicBool>,
    connections: Arc<Mutex<Vec<tokio::task::AbortHandle>>>,
}

impl Proxy {
    fn start(upstream: String) -> Self {
        let up = Arc::new(std::sync::atomic::AtomicBool::new(true));
        let connections = Arc::new(Mutex::new(Vec::new()));
        let (flag, handles) = (up.clone(), connections.clone());
        let (addr_tx, addr_rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            actix_web::rt::System::new().block_on(async move {
                let listener = actix_web::rt::net::TcpListener::bind("127.0.0.1:0")
                    .await
                    .expect("bind");
                let _ = addr_tx.send(listener.local_addr().expect("addr").to_string());
                while let Ok((mut inbound, _)) = listener.accept().await {
                    if !flag.load(std::sync::atomic::Ordering::SeqCst) {
                        drop(inbound);
                        continue;
                    }
                    let upstream = upstream.clone();
                    let handle = actix_web::rt::spawn(async move {
                        if let Ok(mut outbound) =
                            actix_web::rt::net::TcpStream::connect(upstream).await
                        {
                            let _ =
                                tokio::io::copy_bidirectional(&mut inbound, &mut outbound).await;
                        }
                    });
                    handles.lock().expect("lock").push(handle.abort_handle());
                }
            });
        });
        let addr = addr_rx
            .recv_timeout(Duration::from_secs(10))
            .expect("the proxy listens");
        Self {
            addr,
            up,
            connections,
        }
    }

    /// Closes every connection and refuses new ones.
    fn cut(&self) {
        self.up.store(false, std::sync::atomic::Ordering::SeqCst);
        for handle in self.connections.lock().expect("lock").drain(..) {
            handle.abort();
        }
    }

    fn restore(&self) {
        self.up.store(true, std::sync::atomic::Ordering::SeqCst);
    }
}

/// `postgres://user:pass@host:port/db` → (`host:port`, the URL through `addr`).
fn through(url: &str, addr: &str) -> (String, String) {
    let (scheme, rest) = url.split_once("://").expect("scheme");
    let (credentials, rest) = rest.rsplit_once('@').map_or(("", rest), |(c, r)| (c, r));
    let (host, path) = rest.split_once('/').expect("database name");
    let host = if host.contains(':') {
        host.to_owned()
    } else {
        format!("{host}:5432")
    };
    let at = if credentials.is_empty() { "" } else { "@" };
    (host, format!("{scheme}://{credentials}{at}{addr}/{path}"))
}

/// A request's outcome during the outage test.
struct Answer {
    status: u16,
    content_type: String,
    body: String,
    took: Duration,
}

async fn timed(request: reqwest::RequestBuilder) -> Answer {
    let started = Instant::now();
    let response = request.send().await.expect("the server answers");
    let status = response.status().as_u16();
    let content_type = response
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    let body = response.text().await.unwrap_or_default();
    Answer {
        status,
        content_type,
        body,
        took: started.elapsed(),
    }
}

/// PostgreSQL goes away under load: requests answer 503 problems within the
/// pool time-out, `/readyz` fails; it comes back: the service recovers by
/// itself and no acknowledged write is missing.
#[actix_web::test]
async fn postgres_outage_answers_503_and_recovers_by_itself() {
    const POOL_TIMEOUT_SECS: u64 = 2;
    let Some(database) = TestDatabase::postgres().expect("database") else {
        eprintln!("TEST_DATABASE_URL is not set: skipped");
        return;
    };
    let dir = tempfile::tempdir().expect("dir");
    prepare(dir.path(), database.url());
    let (upstream, _) = through(database.url(), "unused");
    let proxy = Proxy::start(upstream);
    let (_, proxied) = through(database.url(), &proxy.addr);
    let timeout = POOL_TIMEOUT_SECS.to_string();
    let mut server = Server::start(
        dir.path(),
        &proxied,
        &[
            ("ADOSEXO_DB_TIMEOUT_SECS", &timeout),
            ("ADOSEXO_DB_POOL_SIZE", "4"),
        ],
    );
    let base = server.base.clone();
    let (token, staff) = coordinator(&base).await;
    let client = client();
    let acknowledged: Rc<RefCell<Vec<(&'static str, Value)>>> = Rc::default();
    let phase = Rc::new(RefCell::new("before"));
    let answers: Rc<RefCell<Vec<(&'static str, Answer)>>> = Rc::default();
    let running = Rc::new(RefCell::new(true));
    // Load: four clients creating referrals and appointments in turn.
    let load = (0..4).map(|worker| {
        let (client, base, token, staff) =
            (client.clone(), base.clone(), token.clone(), staff.clone());
        let (acknowledged, phase, answers, running) = (
            acknowledged.clone(),
            phase.clone(),
            answers.clone(),
            running.clone(),
        );
        async move {
            let mut i = worker;
            while *running.borrow() {
                let (kind, body) = if i % 2 == 0 {
                    ("referrals", referral_body(i))
                } else {
                    ("appointments", appointment_body(i, &staff))
                };
                let started_in = *phase.borrow();
                let answer = timed(
                    client
                        .post(format!("{base}/api/v1/{kind}"))
                        .bearer_auth(&token)
                        .json(&body),
                )
                .await;
                if answer.status == 201 {
                    let created: Value = serde_json::from_str(&answer.body).expect("JSON");
                    acknowledged.borrow_mut().push((kind, created));
                }
                answers.borrow_mut().push((started_in, answer));
                i += 4;
                actix_web::rt::time::sleep(Duration::from_millis(20)).await;
            }
        }
    });
    let script = {
        let (phase, running, base, client) =
            (phase.clone(), running.clone(), base.clone(), client.clone());
        let proxy = &proxy;
        async move {
            actix_web::rt::time::sleep(Duration::from_secs(1)).await;
            proxy.cut();
            *phase.borrow_mut() = "during";
            actix_web::rt::time::sleep(Duration::from_millis(200)).await;
            let ready = timed(client.get(format!("{base}/readyz"))).await;
            actix_web::rt::time::sleep(Duration::from_secs(4)).await;
            proxy.restore();
            *phase.borrow_mut() = "after";
            let restored = Instant::now();
            let recovered = loop {
                let answer = timed(client.get(format!("{base}/readyz"))).await;
                if answer.status == 200 {
                    break restored.elapsed();
                }
                assert!(
                    restored.elapsed() < Duration::from_secs(30),
                    "not ready 30 s after PostgreSQL came back: {} {}",
                    answer.status,
                    answer.body
                );
                actix_web::rt::time::sleep(Duration::from_millis(100)).await;
            };
            actix_web::rt::time::sleep(Duration::from_secs(1)).await;
            *running.borrow_mut() = false;
            (ready, recovered)
        }
    };
    let (_, (ready, recovered)) = futures_util::future::join(join_all(load), script).await;
    assert!(server.is_alive(), "the server died");
    server.assert_no_panic();

    assert_eq!(
        ready.status, 503,
        "/readyz during the outage: {}",
        ready.body
    );
    let answers = std::mem::take(&mut *answers.borrow_mut());
    let during: Vec<_> = answers.iter().filter(|(p, _)| *p == "during").collect();
    let after: Vec<_> = answers.iter().filter(|(p, _)| *p == "after").collect();
    let before_ok = answers
        .iter()
        .filter(|(p, a)| *p == "before" && a.status == 201)
        .count();
    eprintln!(
        "before: {before_ok} created; during: {} requests, slowest {:?}; ready again {recovered:?} after the restore; after: {} requests",
        during.len(),
        during.iter().map(|(_, a)| a.took).max(),
        after.len()
    );
    assert!(before_ok > 0, "nothing was created before the outage");
    let unavailable = during.iter().filter(|(_, a)| a.status == 503).count();
    assert!(unavailable > 0, "no 503 during the outage");
    let limit = Duration::from_secs(POOL_TIMEOUT_SECS + 2);
    for (_, answer) in &during {
        assert!(
            answer.took < limit,
            "a request took {:?} during the outage (pool time-out {POOL_TIMEOUT_SECS} s)",
            answer.took
        );
        if answer.status != 201 {
            assert_eq!(answer.status, 503, "during the outage: {}", answer.body);
            assert_eq!(answer.content_type, "application/problem+json");
            let problem: Value = serde_json::from_str(&answer.body).expect("problem JSON");
            assert_eq!(problem["type"], "urn:adosexo:problem:service-unavailable");
        }
    }
    assert!(
        after.iter().any(|(_, a)| a.status == 201),
        "no create succeeded after the restore"
    );
    let late_failures: Vec<_> = after
        .iter()
        .filter(|(_, a)| a.status != 201)
        .map(|(_, a)| a.status)
        .collect();
    assert!(
        late_failures.len() <= 8,
        "still failing after the restore: {late_failures:?}"
    );
    let acknowledged = std::mem::take(&mut *acknowledged.borrow_mut());
    assert_intact(&base, &token, &acknowledged).await;
    drop(server);
}

/// Sends raw bytes on a new connection; returns what came back until the
/// server closed it or `wait` passed.
fn raw(addr: &str, request: &[u8], wait: Duration) -> (String, Duration) {
    let started = Instant::now();
    let mut stream = TcpStream::connect(addr).expect("connect");
    stream.set_read_timeout(Some(wait)).expect("timeout");
    let _ = stream.write_all(request);
    let mut answer = Vec::new();
    let _ = stream.read_to_end(&mut answer);
    (
        String::from_utf8_lossy(&answer).into_owned(),
        started.elapsed(),
    )
}

fn status_of(answer: &str) -> u16 {
    answer
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0)
}

/// Hostile input: clean 4xx or time-outs, bounded memory, others served.
#[actix_web::test]
async fn hostile_input_gets_clean_refusals_with_bounded_memory() {
    const CLIENT_TIMEOUT_SECS: u64 = 2;
    let database = TestDatabase::sqlite().expect("database");
    let dir = tempfile::tempdir().expect("dir");
    prepare(dir.path(), database.url());
    let timeout = CLIENT_TIMEOUT_SECS.to_string();
    let mut server = Server::start(
        dir.path(),
        database.url(),
        &[
            ("ADOSEXO_CLIENT_TIMEOUT_SECS", &timeout),
            ("ADOSEXO_WORKERS", "2"),
        ],
    );
    let base = server.base.clone();
    let addr = server.addr();
    let (token, _) = coordinator(&base).await;
    let client = client();
    let post = |body: Vec<u8>| {
        client
            .post(format!("{base}/api/v1/referrals"))
            .bearer_auth(&token)
            .header("content-type", "application/json")
            .body(body)
            .send()
    };
    let problem = |response: reqwest::Response, expected: u16| async move {
        let status = response.status().as_u16();
        let content_type = response
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned();
        let body = response.text().await.unwrap_or_default();
        assert_eq!(status, expected, "{body}");
        assert_eq!(content_type, "application/problem+json", "{body}");
        body
    };
    let baseline = server.rss_kib();

    // Bodies over the limit (64 KiB), with and without Content-Length:
    // refused without being kept in memory.
    // Twenty at once: a server that read them before refusing would hold
    // 160 MiB.
    let oversized = join_all((0..20).map(|_| post(vec![b'a'; 8 * 1024 * 1024]))).await;
    for response in oversized {
        problem(response.expect("sent"), 413).await;
    }
    let peak = server.peak_kib();
    assert!(
        peak < baseline + 64 * 1024,
        "20 oversized bodies at once: memory grew from {baseline} KiB to a peak of {peak} KiB"
    );
    // Chunked, without Content-Length: cut off at the limit too.
    let (answer, _) = {
        let mut stream = TcpStream::connect(&addr).expect("connect");
        stream
            .set_read_timeout(Some(Duration::from_secs(10)))
            .expect("timeout");
        let head = format!(
            "POST /api/v1/referrals HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {token}\r\n\
             Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"
        );
        let _ = stream.write_all(head.as_bytes());
        let chunk = format!("4000\r\n{}\r\n", " ".repeat(0x4000));
        for _ in 0..512 {
            if stream.write_all(chunk.as_bytes()).is_err() {
                break;
            }
        }
        let mut answer = Vec::new();
        let _ = stream.read_to_end(&mut answer);
        (String::from_utf8_lossy(&answer).into_owned(), ())
    };
    assert_eq!(status_of(&answer), 413, "8 MiB chunked: {answer}");
    // Deeply nested JSON within the limit.
    let mut nested = vec![b'['; 30_000];
    nested.extend(vec![b']'; 30_000]);
    problem(post(nested).await.expect("sent"), 400).await;
    let mut nested_objects = b"{\"summary\":".repeat(5000);
    nested_objects.extend(b"1");
    nested_objects.extend(vec![b'}'; 5000]);
    problem(post(nested_objects).await.expect("sent"), 400).await;
    // Huge strings: one within the body limit (a bound in the schema), one
    // past it.
    let mut huge = referral_body(1);
    huge["summary"] = json!("x".repeat(60 * 1024));
    problem(
        post(serde_json::to_vec(&huge).expect("JSON"))
            .await
            .expect("sent"),
        400,
    )
    .await;
    huge["summary"] = json!("x".repeat(10 * 1024 * 1024));
    problem(
        post(serde_json::to_vec(&huge).expect("JSON"))
            .await
            .expect("sent"),
        413,
    )
    .await;
    // Invalid UTF-8 inside a JSON string.
    let mut invalid = serde_json::to_vec(&referral_body(2)).expect("JSON");
    let at = invalid
        .windows(8)
        .position(|w| w == b"marker-2")
        .expect("marker");
    invalid[at] = 0xff;
    invalid[at + 1] = 0xfe;
    problem(post(invalid).await.expect("sent"), 400).await;
    // Thousands of query parameters.
    let query: Vec<String> = (0..5000).map(|i| format!("p{i}=1")).collect();
    let response = client
        .get(format!("{base}/api/v1/referrals?{}", query.join("&")))
        .bearer_auth(&token)
        .send()
        .await
        .expect("sent");
    problem(response, 400).await;
    let repeated: Vec<&str> = (0..5000).map(|_| "limit=1").collect();
    let response = client
        .get(format!("{base}/api/v1/referrals?{}", repeated.join("&")))
        .bearer_auth(&token)
        .send()
        .await
        .expect("sent");
    problem(response, 400).await;
    // Headers past the limits: too many, too large.
    let many: String = (0..200).map(|i| format!("X-H{i}: v\r\n")).collect();
    let (answer, _) = raw(
        &addr,
        format!("GET /healthz HTTP/1.1\r\nHost: x\r\n{many}\r\n").as_bytes(),
        Duration::from_secs(10),
    );
    assert!(
        matches!(status_of(&answer), 400 | 431),
        "200 headers: {answer}"
    );
    let large = "v".repeat(256 * 1024);
    let (answer, _) = raw(
        &addr,
        format!("GET /healthz HTTP/1.1\r\nHost: x\r\nX-Large: {large}\r\n\r\n").as_bytes(),
        Duration::from_secs(10),
    );
    assert_eq!(status_of(&answer), 431, "a 256 KiB header: {answer}");

    // Slow clients: 200 connections trickling their head, 50 trickling
    // their body; meanwhile another client is served promptly.
    // Each sends `head` at once, then `drip` one byte at a time.
    let trickle = |head: String, drip: &'static [u8], pause: Duration| {
        let addr = addr.clone();
        std::thread::spawn(move || {
            let started = Instant::now();
            let mut stream = TcpStream::connect(&addr).expect("connect");
            let _ = stream.set_read_timeout(Some(Duration::from_millis(50)));
            let _ = stream.write_all(head.as_bytes());
            let mut answer = Vec::new();
            for byte in drip.iter().cycle() {
                if stream.write_all(&[*byte]).is_err() {
                    break;
                }
                let mut buffer = [0_u8; 1024];
                match stream.read(&mut buffer) {
                    Ok(0) => break,
                    Ok(n) => {
                        answer.extend_from_slice(&buffer[..n]);
                        break;
                    }
                    Err(e)
                        if e.kind() == std::io::ErrorKind::WouldBlock
                            || e.kind() == std::io::ErrorKind::TimedOut => {}
                    Err(_) => break,
                }
                if started.elapsed() > Duration::from_secs(60) {
                    break;
                }
                std::thread::sleep(pause);
            }
            (
                String::from_utf8_lossy(&answer).into_owned(),
                started.elapsed(),
            )
        })
    };
    let slow_heads: Vec<_> = (0..200)
        .map(|_| {
            trickle(
                "GET /api/v1/referrals HTTP/1.1\r\nHost: x\r\nX-Slow: ".to_owned(),
                b"a",
                Duration::from_millis(200),
            )
        })
        .collect();
    let slow_bodies: Vec<_> = (0..50)
        .map(|_| {
            trickle(
                format!(
                    "POST /api/v1/referrals HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {token}\r\n\
                     Content-Type: application/json\r\nContent-Length: 60000\r\n\r\n"
                ),
                b"{\"summary\":\"",
                Duration::from_millis(200),
            )
        })
        .collect();
    actix_web::rt::time::sleep(Duration::from_millis(500)).await;
    let mut slowest = Duration::ZERO;
    for _ in 0..20 {
        let started = Instant::now();
        let response = client
            .get(format!("{base}/readyz"))
            .send()
            .await
            .expect("served");
        assert_eq!(response.status().as_u16(), 200);
        slowest = slowest.max(started.elapsed());
        actix_web::rt::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(
        slowest < Duration::from_secs(1),
        "another client waited {slowest:?} while slow clients held connections"
    );
    let cut_off = Duration::from_secs(CLIENT_TIMEOUT_SECS + 3);
    for handle in slow_heads {
        let (answer, took) = handle.join().expect("thread");
        assert!(
            took < cut_off,
            "a client trickling its head was kept {took:?}: {answer}"
        );
        assert!(
            answer.is_empty() || matches!(status_of(&answer), 408 | 400),
            "a client trickling its head: {answer}"
        );
    }
    for handle in slow_bodies {
        let (answer, took) = handle.join().expect("thread");
        assert!(
            took < cut_off,
            "a client trickling its body was kept {took:?}: {answer}"
        );
        assert_eq!(
            status_of(&answer),
            408,
            "a client trickling its body: {answer}"
        );
    }

    let peak = server.peak_kib();
    eprintln!("resident memory: {baseline} KiB at the start, peak {peak} KiB (VmHWM)");
    assert!(
        peak < baseline + 64 * 1024,
        "memory grew from {baseline} KiB to a peak of {peak} KiB"
    );
    // Still serving, nothing panicked.
    let response = client
        .get(format!("{base}/api/v1/referrals"))
        .bearer_auth(&token)
        .send()
        .await
        .expect("served");
    assert_eq!(response.status().as_u16(), 200);
    assert!(server.is_alive());
    server.assert_no_panic();
}

/// A client's malformed request (a control character in a header, a bad
/// method, URI or version) is refused with 400 and logged as a WARN naming
/// the kind of fault, never as an ERROR (it would page an operator for
/// nothing) and never with the bytes received.
async fn malformed_requests_are_client_faults_in_the_log(database_url: &str) {
    let dir = tempfile::tempdir().expect("dir");
    prepare(dir.path(), database_url);
    let server = Server::start(dir.path(), database_url, &[]);
    let addr = server.addr();
    let marker = "secret-marker-4f1c";
    let heads = [
        format!("GET /healthz HTTP/1.1\r\nHost: x\r\nX-Bad\x01{marker}: v\r\n\r\n"),
        format!("GET /healthz HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {marker}\x01\r\n\r\n"),
        format!("GE(T /healthz?{marker} HTTP/1.1\r\nHost: x\r\n\r\n"),
        format!("GET /he althz?{marker} HTTP/1.1\r\nHost: x\r\n\r\n"),
        format!("GET /healthz?{marker} HTXP/1.1\r\nHost: x\r\n\r\n"),
    ];
    for head in &heads {
        let (answer, _) = raw(&addr, head.as_bytes(), Duration::from_secs(5));
        assert_eq!(status_of(&answer), 400, "{head:?}: {answer}");
    }
    // The server still serves, and its log has had time to be read.
    let response = client()
        .get(format!("{}/healthz", server.base))
        .send()
        .await
        .expect("served");
    assert_eq!(response.status().as_u16(), 200);
    std::thread::sleep(Duration::from_millis(300));
    let log = server.output();
    let lines: Vec<Value> = log
        .lines()
        .filter_map(|line| serde_json::from_str(line).ok())
        .collect();
    let errors: Vec<&Value> = lines.iter().filter(|l| l["level"] == "ERROR").collect();
    assert!(
        errors.is_empty(),
        "client faults logged as errors: {errors:?}"
    );
    let faults: Vec<&str> = lines
        .iter()
        .filter(|l| l["level"] == "WARN" && l["target"] == "adosexo_api::http")
        .filter_map(|l| l["fault"].as_str())
        .collect();
    assert!(
        faults.len() >= heads.len() && faults.contains(&"header"),
        "one WARN per malformed request, with its kind: {faults:?}\n{log}"
    );
    assert!(
        !log.contains(marker),
        "the bytes received reached the log:\n{log}"
    );
    server.assert_no_panic();
}

#[actix_web::test]
async fn sqlite_malformed_requests_are_client_faults_in_the_log() {
    let database = TestDatabase::sqlite().expect("database");
    malformed_requests_are_client_faults_in_the_log(database.url()).await;
}

#[actix_web::test]
async fn postgres_malformed_requests_are_client_faults_in_the_log() {
    let Some(database) = TestDatabase::postgres().expect("database") else {
        eprintln!("TEST_DATABASE_URL is not set: skipped");
        return;
    };
    malformed_requests_are_client_faults_in_the_log(database.url()).await;
}
