//! `adosexo`: the service and its administration commands.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use adosexo_api::config::Config;
use adosexo_api::startup::Application;
use adosexo_api::{backup, cli, openapi, telemetry};
use adosexo_persistence::Db;
use clap::{Parser, Subcommand};

/// The adosexo API server and its administration commands.
#[derive(Debug, Parser)]
#[command(name = "adosexo", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Apply migrations and serve the API (the default).
    Serve,
    /// Apply pending migrations and exit.
    Migrate,
    /// Print the OpenAPI document.
    Openapi,
    /// Accounts administration.
    #[command(subcommand)]
    Admin(AdminCommand),
    /// Seed demo data: one account per role and a partner app (SQLite only
    /// unless --allow-postgres).
    Demo {
        /// Allow seeding a PostgreSQL database.
        #[arg(long)]
        allow_postgres: bool,
        /// Also generate benchmark volumes: 1 = ten years of a programme
        /// (100 000 referrals, 1 000 000 appointments…), 0.1 a tenth.
        #[arg(long)]
        scale: Option<f64>,
        /// Seed of the generated volumes (same seed, same rows).
        #[arg(long, default_value_t = 1)]
        seed: u64,
    },
    /// The audit trail.
    #[command(subcommand)]
    Audit(AuditCommand),
    /// Published statistics.
    #[command(subcommand)]
    Stats(StatsCommand),
    /// Token signing keys.
    #[command(subcommand)]
    Keys(KeysCommand),
    /// Scheduled jobs, run once now.
    #[command(subcommand)]
    Jobs(JobsCommand),
    /// Retention of follow-ups (also run daily by the server).
    #[command(subcommand)]
    Retention(RetentionCommand),
    /// Copy the SQLite database while it serves, encrypted for age
    /// recipients (PostgreSQL: pg_dump, see docs/OPERATIONS.md).
    Backup {
        /// A folder (the file is named adosexo-<UTC time>.backup.age) or a
        /// new file.
        #[arg(long)]
        to: PathBuf,
        /// An age X25519 recipient (age1…), repeatable; or
        /// ADOSEXO_BACKUP_RECIPIENT (comma-separated).
        #[arg(
            long = "recipient",
            env = "ADOSEXO_BACKUP_RECIPIENT",
            value_delimiter = ','
        )]
        recipients: Vec<String>,
        /// A file of recipients, one per line.
        #[arg(long = "recipients-file")]
        recipients_files: Vec<PathBuf>,
        /// Keep the newest N backups of the folder, delete older ones.
        #[arg(long)]
        keep: Option<usize>,
    },
    /// Restore a backup into a new SQLite file: decrypt, check, migrate,
    /// verify the audit chain; then say what else to bring back.
    Restore {
        /// The backup file.
        #[arg(long)]
        from: PathBuf,
        /// The new database: sqlite://PATH (must not exist).
        #[arg(long)]
        to: String,
        /// The age identity file (never the key itself on the command
        /// line); or ADOSEXO_BACKUP_IDENTITY_FILE.
        #[arg(long, env = "ADOSEXO_BACKUP_IDENTITY_FILE")]
        identity: Option<PathBuf>,
        /// The erasure journal (ADOSEXO_ERASURE_JOURNAL): erasures decided
        /// since the backup are executed again before the file is written.
        #[arg(long, env = "ADOSEXO_ERASURE_JOURNAL")]
        erasure_journal: Option<PathBuf>,
    },
    /// Erasures.
    #[command(subcommand)]
    Erasures(ErasuresCommand),
}

#[derive(Debug, Subcommand)]
enum ErasuresCommand {
    /// Execute again, on DATABASE_URL (a restored database, e.g. after
    /// pg_restore), the erasures of the journal decided at or after --since.
    Replay {
        /// The erasure journal (ADOSEXO_ERASURE_JOURNAL).
        #[arg(long, env = "ADOSEXO_ERASURE_JOURNAL")]
        journal: PathBuf,
        /// The backup's time (RFC 3339), e.g. the dump's.
        #[arg(long)]
        since: chrono::DateTime<chrono::Utc>,
    },
}

#[derive(Debug, Subcommand)]
enum RetentionCommand {
    /// Archive follow-ups whose last contact is older than
    /// ADOSEXO_RETENTION_DAYS; pseudonymise those archived for longer than
    /// ADOSEXO_ARCHIVE_DAYS (statistics stay the same).
    Run {
        /// Say what would happen; write nothing.
        #[arg(long)]
        dry_run: bool,
    },
}

#[derive(Debug, Subcommand)]
enum JobsCommand {
    /// Run a job once.
    #[command(subcommand)]
    Run(Job),
}

#[derive(Debug, Subcommand)]
enum Job {
    /// Majority: lapse consents given by parents on the 18th birthday and list
    /// what must be re-collected from the young adult (daily).
    Majority,
}

#[derive(Debug, Subcommand)]
enum AdminCommand {
    /// Create an admin account (and the programme's organisation if missing).
    /// The password is read from ADOSEXO_ADMIN_PASSWORD, or else from the
    /// first line of standard input; never from the command line.
    Create {
        /// E-mail address (sign-in identifier).
        #[arg(long)]
        email: String,
        /// Name shown to others.
        #[arg(long)]
        name: String,
    },
}

#[derive(Debug, Subcommand)]
enum StatsCommand {
    /// Withdraw the frozen releases from a month on (and every later one):
    /// the next read computes and freezes them again from the data as it
    /// stands. For a correction of past data; audited.
    Republish {
        /// The first month withdrawn, YYYY-MM.
        #[arg(long)]
        from: String,
        /// One family (referrals, follow_ups, appointments, permanences,
        /// group_sessions, professionals, resources); all when absent.
        #[arg(long)]
        family: Option<String>,
    },
    /// Compute and freeze releases now (every closed month of the years),
    /// so that no reader waits for their first computation: what the
    /// server does every night at 01:00 UTC for the previous and the
    /// current year. After loading past data, or before a benchmark.
    /// Prints each family-year's time; audited.
    Publish {
        /// The first year (default: last year).
        #[arg(long)]
        from: Option<i32>,
        /// The last year (default: this year).
        #[arg(long)]
        to: Option<i32>,
        /// One family; all when absent.
        #[arg(long)]
        family: Option<String>,
    },
}

#[derive(Debug, Subcommand)]
enum AuditCommand {
    /// Check the hash chain; names the first broken entry (exit 1).
    Verify,
    /// Delete entries older than ADOSEXO_AUDIT_RETENTION_DAYS; the rest stays verifiable.
    Purge,
}

#[derive(Debug, Subcommand)]
enum KeysCommand {
    /// Print a new Ed25519 private key (PKCS#8 v1 PEM, as `openssl genpkey
    /// -algorithm ed25519` writes) for ADOSEXO_JWT_PRIVATE_KEY_FILE.
    Generate,
    /// Print the public key (SPKI PEM) of a private key file, for
    /// ADOSEXO_JWT_PREVIOUS_PUBLIC_KEY_FILE after a rotation (same as
    /// `openssl pkey -in KEY -pubout`).
    Public {
        /// The private key file (PKCS#8 PEM); default
        /// ADOSEXO_JWT_PRIVATE_KEY_FILE.
        #[arg(long, env = "ADOSEXO_JWT_PRIVATE_KEY_FILE")]
        key: PathBuf,
    },
    /// Print a new notes key entry `kid:base64` to add to ADOSEXO_NOTES_KEYS.
    GenerateNotes {
        /// The new key's id.
        #[arg(long)]
        id: String,
    },
    /// Re-seal every note with the current notes key (ADOSEXO_NOTES_KEY_ID);
    /// the old keys must still be in ADOSEXO_NOTES_KEYS.
    Rotate,
    /// Write a new age identity for backups into a new file (mode 0600) and
    /// print its public recipient (age1…) for `backup --recipient`.
    GenerateBackup {
        /// The identity file to create; keep it off the server.
        #[arg(long)]
        out: PathBuf,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli.command.unwrap_or(Command::Serve)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            // One line, naming the problem; never a secret (errors redact them).
            let _ = writeln!(std::io::stderr(), "adosexo: {message}");
            ExitCode::FAILURE
        }
    }
}

fn out(text: &str) -> Result<(), String> {
    writeln!(std::io::stdout().lock(), "{text}").map_err(|e| e.to_string())
}

/// Configuration, logs to stderr, a migrated database.
fn database() -> Result<(Config, Db), String> {
    let config = Config::from_env().map_err(|e| e.to_string())?;
    telemetry::init(config.log_format, &config.log_filter, std::io::stderr)?;
    let db = Db::connect(&config.database_url, config.pool).map_err(|e| e.to_string())?;
    db.migrate().map_err(|e| e.to_string())?;
    Ok((config, db))
}

fn block_on<T>(future: impl std::future::Future<Output = T>) -> Result<T, String> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map(|rt| rt.block_on(future))
        .map_err(|e| e.to_string())
}

fn admin_password() -> Result<String, String> {
    if let Ok(password) = std::env::var("ADOSEXO_ADMIN_PASSWORD") {
        return Ok(password);
    }
    let mut line = String::new();
    std::io::stdin()
        .read_line(&mut line)
        .map_err(|e| e.to_string())?;
    let password = line.trim_end_matches(['\r', '\n']).to_owned();
    if password.is_empty() {
        return Err(
            "no password: set ADOSEXO_ADMIN_PASSWORD or write it on standard input".to_owned(),
        );
    }
    Ok(password)
}

fn run(command: Command) -> Result<(), String> {
    match command {
        Command::Admin(AdminCommand::Create { email, name }) => {
            let password = admin_password()?;
            let (_, db) = database()?;
            let id = block_on(cli::create_admin(
                &db,
                &email,
                &name,
                &password,
                chrono::Utc::now(),
            ))??;
            out(&format!(
                "admin account {id} created for {}",
                email.trim().to_lowercase()
            ))
        }
        Command::Demo {
            allow_postgres,
            scale,
            seed,
        } => {
            // Decide before touching the database: not even migrations.
            let config = Config::from_env().map_err(|e| e.to_string())?;
            if config.database_url.backend() == adosexo_persistence::Backend::Postgres
                && !allow_postgres
            {
                return Err(cli::DEMO_ON_POSTGRES.to_owned());
            }
            let (_, db) = database()?;
            let demo = block_on(cli::seed_demo(&db, allow_postgres, chrono::Utc::now()))??;
            out(&format!(
                "demo data created; every account's password is {}",
                cli::DEMO_PASSWORD
            ))?;
            for (role, email) in &demo.accounts {
                out(&format!("  {role:<18} {email}"))?;
            }
            out(&format!(
                "  partner app        client_id {} client_secret {} (shown once)",
                demo.client.0, demo.client.1
            ))?;
            if let Some(scale) = scale {
                let started = std::time::Instant::now();
                let generated = block_on(adosexo_api::bulk::generate(
                    &db,
                    scale,
                    seed,
                    chrono::Utc::now(),
                ))??;
                out(&format!(
                    "generated scale {scale} seed {seed} in {:.1} s:",
                    started.elapsed().as_secs_f64()
                ))?;
                for (table, count) in &generated.counts {
                    out(&format!("  {table:<22} {count}"))?;
                }
            }
            Ok(())
        }
        Command::Jobs(JobsCommand::Run(Job::Majority)) => {
            let (_, db) = database()?;
            let report = block_on(cli::run_majority(&db, chrono::Utc::now()))??;
            out(&format!(
                "majority: {} consents lapsed now; {} to re-collect from young adults",
                report.lapsed,
                report.to_recollect.len()
            ))?;
            for item in &report.to_recollect {
                out(&format!(
                    "  follow-up {} person {} purpose {} (18 on {})",
                    item.follow_up_id,
                    item.person_id,
                    item.purpose.0.as_str(),
                    item.due_on
                ))?;
            }
            Ok(())
        }
        Command::Retention(RetentionCommand::Run { dry_run }) => {
            let (config, db) = database()?;
            let report = block_on(adosexo_api::retention::run(
                &db,
                config.retention,
                chrono::Utc::now(),
                dry_run,
            ))?
            .map_err(|e| e.to_string())?;
            let verb = if dry_run { "would be" } else { "were" };
            out(&format!(
                "retention ({} days active, {} days archived){}: {} follow-ups {verb} archived, {} {verb} pseudonymised",
                config.retention.active_days,
                config.retention.archive_days,
                if dry_run {
                    ", dry run: nothing written"
                } else {
                    ""
                },
                report.archived.len(),
                report.pseudonymised.len(),
            ))?;
            for (step, items) in [
                ("archive", &report.archived),
                ("pseudonymise", &report.pseudonymised),
            ] {
                for item in items {
                    out(&format!(
                        "  {step} {} {} ({}, last contact {})",
                        item.reference,
                        item.follow_up_id,
                        item.status,
                        item.last_contact.format("%Y-%m-%d")
                    ))?;
                }
            }
            if !dry_run {
                out(&format!(
                    "{} people pseudonymised with them",
                    report.people_pseudonymised
                ))?;
            }
            Ok(())
        }
        Command::Audit(AuditCommand::Verify) => {
            let (_, db) = database()?;
            match block_on(cli::verify_audit(&db))?? {
                Ok(checked) => out(&format!("audit chain intact: {checked} entries checked")),
                Err(broken) => Err(broken),
            }
        }
        Command::Stats(StatsCommand::Republish { from, family }) => {
            let (_, db) = database()?;
            let withdrawn = block_on(cli::republish_statistics(
                &db,
                family.as_deref(),
                &from,
                chrono::Utc::now(),
            ))??;
            out(&format!(
                "{withdrawn} period releases withdrawn from {from}; the next read publishes them again"
            ))
        }
        Command::Stats(StatsCommand::Publish { from, to, family }) => {
            let (config, db) = database()?;
            let analytics = match &config.analytics_database_url {
                Some(url) => Db::connect(url, config.pool).map_err(|e| e.to_string())?,
                None => db.clone(),
            };
            let this_year = chrono::Datelike::year(&chrono::Utc::now());
            let publisher = adosexo_api::statistics::Publisher {
                db,
                analytics,
                clock: adosexo_api::context::Clock::system(),
                k: config.stats_min_cell,
            };
            let done = block_on(cli::publish_statistics(
                &publisher,
                family.as_deref(),
                from.unwrap_or(this_year - 1),
                to.unwrap_or(this_year),
            ))??;
            let lines: Vec<String> = done
                .iter()
                .map(|(family, year, seconds)| format!("{family} {year}: {seconds:.1} s"))
                .collect();
            out(&lines.join("\n"))
        }
        Command::Audit(AuditCommand::Purge) => {
            let (config, db) = database()?;
            let purged = block_on(cli::purge_audit(
                &db,
                config.audit_retention_days,
                chrono::Utc::now(),
            ))??;
            out(&format!(
                "{purged} audit entries older than {} days purged; the chain still verifies from its new anchor",
                config.audit_retention_days
            ))
        }
        Command::Keys(KeysCommand::Generate) => {
            out(adosexo_api::auth::keys::generate_private_pem()?.trim_end())
        }
        Command::Keys(KeysCommand::Public { key }) => {
            // The file's content is never echoed, even in an error.
            let private = std::fs::read_to_string(&key)
                .map_err(|e| format!("--key {}: {e}", key.display()))?;
            let public = adosexo_api::auth::keys::public_pem(&private)
                .map_err(|e| format!("--key {}: {e}", key.display()))?;
            out(public.trim_end())
        }
        Command::Keys(KeysCommand::GenerateNotes { id }) => {
            if id.is_empty()
                || !id
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
            {
                return Err("--id: letters, digits, - and _ only".to_owned());
            }
            out(&adosexo_api::crypto::NotesKeys::generate_entry(&id)?)
        }
        Command::Keys(KeysCommand::Rotate) => {
            let (config, db) = database()?;
            let keys = adosexo_api::startup::notes_keys(&config).map_err(|e| e.to_string())?;
            let resealed = block_on(cli::rotate_notes(&db, &keys))??;
            out(&format!(
                "{resealed} notes re-sealed with key {}",
                keys.current_id()
            ))
        }
        Command::Keys(KeysCommand::GenerateBackup { out: path }) => {
            let recipient = adosexo_api::backup::generate_identity(&path, chrono::Utc::now())?;
            out(&format!(
                "backup identity written to {} (keep it off the server, with a copy in a safe place)",
                path.display()
            ))?;
            out(&format!("recipient: {recipient}"))
        }
        Command::Backup {
            to,
            recipients,
            recipients_files,
            keep,
        } => {
            let recipients = backup::parse_recipients(&recipients, &recipients_files)?;
            let config = Config::from_env().map_err(|e| e.to_string())?;
            telemetry::init(config.log_format, &config.log_filter, std::io::stderr)?;
            let started = std::time::Instant::now();
            let report = backup::backup(&backup::BackupRequest {
                database: config.database_url,
                to,
                recipients,
                keep,
            })?;
            let manifest = &report.manifest;
            let counts = &manifest.contents.counts;
            out(&format!(
                "backup written to {}: {} bytes (database {} bytes) in {} ms; schema {}, audit head #{}, \
                 {} referrals, {} follow-ups, {} notes",
                report.path.display(),
                report.bytes,
                manifest.database_bytes,
                started.elapsed().as_millis(),
                manifest.schema_version,
                manifest.contents.audit_head_seq,
                counts.get("referrals").copied().unwrap_or_default(),
                counts.get("follow_ups").copied().unwrap_or_default(),
                counts.get("follow_up_notes").copied().unwrap_or_default(),
            ))?;
            for removed in &report.removed {
                out(&format!("  removed older backup {}", removed.display()))?;
            }
            Ok(())
        }
        Command::Erasures(ErasuresCommand::Replay { journal, since }) => {
            let entries = backup::read_journal(&journal)?;
            let (_, db) = database()?;
            // The outer error: no connection; the inner one: a replay failed.
            let replayed = db
                .run_blocking(|conn| {
                    Ok::<_, adosexo_persistence::PersistenceError>(backup::replay_erasures(
                        conn,
                        &entries,
                        since,
                        chrono::Utc::now(),
                    ))
                })
                .map_err(|e| e.to_string())??;
            out(&format!(
                "{} erasures replayed; {} of people this database does not hold; {} older than {}",
                replayed.erased,
                replayed.absent,
                replayed.older,
                since.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
            ))
        }
        Command::Restore {
            from,
            to,
            identity,
            erasure_journal,
        } => {
            let identity = identity
                .ok_or("no identity: give --identity FILE or ADOSEXO_BACKUP_IDENTITY_FILE")?;
            let identities = backup::read_identities(&identity)?;
            let to =
                adosexo_persistence::DatabaseUrl::parse(&to).map_err(|e| format!("--to: {e}"))?;
            let report = backup::restore(&backup::RestoreRequest {
                from,
                to,
                identities,
                erasure_journal,
            })?;
            let manifest = &report.manifest;
            out(&format!(
                "restored the backup taken {} (schema {}, adosexo {}) to {}; {} migration(s) applied; \
                 audit chain intact: {} entries checked",
                manifest
                    .created_at
                    .to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
                manifest.schema_version,
                manifest.adosexo_version,
                report.path.display(),
                report.migrated,
                report.audit_checked,
            ))?;
            for (table, count) in &manifest.contents.counts {
                out(&format!("  {table:<18} {count}"))?;
            }
            out("Bring back besides the database:")?;
            let configured = backup::configured_notes_key_ids(
                std::env::var("ADOSEXO_NOTES_KEYS").ok().as_deref(),
            );
            for line in backup::what_else(manifest, &configured, report.replayed) {
                out(&format!("  {line}"))?;
            }
            Ok(())
        }
        Command::Openapi => {
            let json = openapi::document_json().map_err(|e| e.to_string())?;
            std::io::stdout()
                .lock()
                .write_all(json.as_bytes())
                .map_err(|e| e.to_string())
        }
        Command::Migrate => {
            let config = Config::from_env().map_err(|e| e.to_string())?;
            telemetry::init(config.log_format, &config.log_filter, std::io::stderr)?;
            let db = Db::connect(&config.database_url, config.pool).map_err(|e| e.to_string())?;
            let applied = db.migrate().map_err(|e| e.to_string())?;
            tracing::info!(db.backend = %db.backend(), db.migrations_applied = applied, "migrations applied");
            Ok(())
        }
        Command::Serve => {
            let config = Config::from_env().map_err(|e| e.to_string())?;
            telemetry::init(config.log_format, &config.log_filter, std::io::stdout)?;
            let app = Application::build(&config).map_err(|e| e.to_string())?;
            let url = format!("http://{}:{}", config.bind.ip(), app.port());
            actix_web::rt::System::new()
                .block_on(async move {
                    let server = actix_web::rt::spawn(app.run_until_stopped());
                    // The server's first poll binds its workers and installs the
                    // SIGINT/SIGTERM handlers; only then is it ready to announce.
                    tokio::task::yield_now().await;
                    tracing::info!(
                        "listening on {url} — documentation at {url}/docs/, OpenAPI at {url}/api/v1/openapi.json"
                    );
                    server.await.map_err(std::io::Error::other)?
                })
                .map_err(|e| e.to_string())?;
            tracing::info!("stopped");
            Ok(())
        }
    }
}
