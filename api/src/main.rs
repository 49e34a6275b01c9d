//! `adosexo`: the service and its administration commands.

use std::io::Write;
use std::process::ExitCode;

use adosexo_api::config::Config;
use adosexo_api::startup::Application;
use adosexo_api::{openapi, telemetry};
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

fn run(command: Command) -> Result<(), String> {
    match command {
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
