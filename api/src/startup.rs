//! Builds the HTTP server from a configuration; binds port 0 in tests.

use std::net::TcpListener;
use std::sync::Arc;

use actix_web::dev::{Server, ServerHandle};
use actix_web::middleware::{DefaultHeaders, ErrorHandlers, from_fn};
use actix_web::{App, HttpServer, web};
use adosexo_persistence::Db;
use utoipa_actix_web::AppExt;
use utoipa_swagger_ui::SwaggerUi;

use crate::audit::Auditor;
use crate::auth::keys::SigningKeys;
use crate::auth::tokens::VerifiedTokens;
use crate::config::{Config, Environment};
use crate::context::Clock;
use crate::crypto::NotesKeys;
use crate::extract::{BodyLimit, BodyTimeout};
use crate::problem::ApiError;
use crate::routes::openapi_json::OpenApiJson;
use crate::routing::{RouteTable, ensure_problem, fallback};
use crate::state::AppState;
use crate::{openapi, request_id, routes};

/// The documentation page (`/docs/`): Swagger UI's own page, titled with
/// the product's name. Everything it loads is served from `/docs/`.
const DOCS_INDEX: &str = r#"<!DOCTYPE html>
<html lang="en">
  <head>
    <meta charset="UTF-8">
    <title>adosexo API</title>
    <link rel="stylesheet" type="text/css" href="./swagger-ui.css" />
    <link rel="stylesheet" type="text/css" href="index.css" />
    <link rel="icon" type="image/png" href="./favicon-32x32.png" sizes="32x32" />
    <link rel="icon" type="image/png" href="./favicon-16x16.png" sizes="16x16" />
  </head>
  <body>
    <div id="swagger-ui"></div>
    <script src="./swagger-ui-bundle.js" charset="UTF-8"> </script>
    <script src="./swagger-ui-standalone-preset.js" charset="UTF-8"> </script>
    <script src="./swagger-initializer.js" charset="UTF-8"> </script>
  </body>
</html>
"#;

async fn docs_index() -> actix_web::HttpResponse {
    actix_web::HttpResponse::Ok()
        .content_type("text/html; charset=utf-8")
        .body(DOCS_INDEX)
}

/// Why the service could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartupError {
    /// Database problem (unreachable, malformed URL, migrations).
    #[error(transparent)]
    Database(#[from] adosexo_persistence::StartupError),
    /// The address cannot be listened on.
    #[error("cannot listen on {addr}: {reason}")]
    Bind {
        /// The configured address.
        addr: String,
        /// What the OS said.
        reason: String,
    },
    /// The audit writer thread could not start.
    #[error("cannot start the audit writer: {0}")]
    AuditWriter(String),
    /// Token keys missing or unusable.
    #[error("{0}")]
    Keys(String),
    /// The OpenAPI document could not be serialised (a bug).
    #[error("cannot serialise the OpenAPI document: {0}")]
    OpenApi(String),
}

/// A bound, not yet running, server.
pub struct Application {
    server: Server,
    port: u16,
    jobs: (
        adosexo_persistence::Db,
        Clock,
        adosexo_domain::retention::RetentionPolicy,
        std::time::Duration,
    ),
    /// The nightly statistics releases.
    publisher: crate::statistics::Publisher,
    webhooks: Option<crate::webhooks::Worker>,
    /// The `/metrics` listener, when configured, and its port.
    metrics: Option<(Server, u16)>,
    /// The task exporting spans, when a collector is configured.
    exporter: Option<crate::otlp::Exporter>,
}

impl std::fmt::Debug for Application {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Application")
            .field("port", &self.port)
            .finish_non_exhaustive()
    }
}

impl Application {
    /// Connects to the database, applies migrations and binds.
    pub fn build(config: &Config) -> Result<Self, StartupError> {
        Self::build_with_clock(config, Clock::system())
    }

    /// As `build`, with another clock (tests).
    pub fn build_with_clock(config: &Config, clock: Clock) -> Result<Self, StartupError> {
        install_tls_provider();
        let keys = signing_keys(config)?;
        let notes = notes_keys(config)?;
        let db = Db::connect(&config.database_url, config.pool)?;
        let applied = db.migrate()?;
        tracing::info!(
            db.backend = %db.backend(),
            db.migrations_applied = applied,
            "database ready"
        );
        let analytics = match &config.analytics_database_url {
            // A read replica: already migrated by its primary.
            Some(url) => Db::connect(url, config.pool)?,
            None => db.clone(),
        };
        let auditor =
            Auditor::start(db.clone()).map_err(|e| StartupError::AuditWriter(e.to_string()))?;
        let state = AppState {
            auditor,
            db,
            sessions: Arc::default(),
            keys: Arc::new(keys),
            tokens: config.tokens.clone(),
            verified_tokens: Arc::new(VerifiedTokens::new(VERIFIED_TOKENS)),
            throttle: config.throttle,
            clock,
            notes: Arc::new(notes),
            protection_deadline: config.protection_deadline,
            idempotency_ttl: config.idempotency_ttl,
            public_limiter: Arc::new(crate::rate_limit::RateLimiter::new(
                config.public_rate_limit,
                std::time::Duration::from_secs(60),
            )),
            analytics,
            stats_min_cell: config.stats_min_cell,
            webhooks: config.webhooks,
            library_max_bytes: config.library_max_bytes,
            erasure_journal: config.erasure_journal.as_deref().map(Arc::from),
        };
        Self::build_with_state(config, state)
    }

    /// Binds a server on an already migrated database.
    pub fn build_with_state(config: &Config, state: AppState) -> Result<Self, StartupError> {
        let listener = TcpListener::bind(config.bind).map_err(|e| StartupError::Bind {
            addr: config.bind.to_string(),
            reason: e.to_string(),
        })?;
        let port = listener
            .local_addr()
            .map_err(|e| StartupError::Bind {
                addr: config.bind.to_string(),
                reason: e.to_string(),
            })?
            .port();

        let doc = openapi::document();
        let doc_json =
            openapi::document_json().map_err(|e| StartupError::OpenApi(e.to_string()))?;
        let mut extra_routes = vec![("/docs", "GET"), ("/docs/{tail}*", "GET")];
        extra_routes.extend_from_slice(crate::page::ROUTES);
        let routes_table = web::Data::new(RouteTable::from_openapi(&doc, &extra_routes));
        let cors = web::Data::new(crate::cors::CorsPolicy::new(config.cors_origins.clone()));
        let page = web::Data::new(crate::page::PageSettings {
            tiles: config.map_tiles.clone(),
            embed_origins: config.embed_origins.clone(),
        });
        let doc_json = web::Data::new(OpenApiJson(Arc::from(doc_json)));
        let public_url = web::Data::new(routes::auth::PublicUrl(config.public_url.clone()));
        let publisher = crate::statistics::Publisher::from(&state);
        let jobs = (
            state.db.clone(),
            state.clock.clone(),
            config.retention,
            config.idempotency_ttl,
        );
        let trace_metrics = Arc::new(crate::metrics::TraceMetrics::default());
        let (spans, exporter) = match &config.otlp {
            Some(settings) => {
                let (spans, exporter) =
                    crate::otlp::Spans::exporting(settings.clone(), trace_metrics.clone());
                (spans, Some(exporter))
            }
            None => (crate::otlp::Spans::disabled(trace_metrics.clone()), None),
        };
        let webhooks = config.webhooks.worker.then(|| crate::webhooks::Worker {
            db: state.db.clone(),
            clock: state.clock.clone(),
            notes: state.notes.clone(),
            settings: config.webhooks,
            spans: spans.clone(),
        });
        let spans = web::Data::new(spans);
        let trace_metrics = web::Data::from(trace_metrics);
        let http_metrics = web::Data::new(crate::metrics::HttpMetrics::default());
        let state = web::Data::new(state);
        let metrics = match config.metrics_bind {
            Some(addr) => Some(metrics_server(
                addr,
                state.clone(),
                http_metrics.clone(),
                trace_metrics.clone(),
            )?),
            None => None,
        };
        let body_limit = config.body_limit;
        let client_timeout = config.client_timeout;

        let mut server = HttpServer::new(move || {
            let (app, _) = App::new()
                .into_utoipa_app()
                .app_data(state.clone())
                .app_data(routes_table.clone())
                .app_data(doc_json.clone())
                .app_data(cors.clone())
                .app_data(page.clone())
                .app_data(public_url.clone())
                .app_data(http_metrics.clone())
                .app_data(spans.clone())
                .app_data(BodyLimit(body_limit))
                .app_data(BodyTimeout(client_timeout))
                .app_data(web::PayloadConfig::new(body_limit))
                .app_data(web::PathConfig::default().error_handler(|e, _| {
                    ApiError::invalid_field("path", "invalid", e.to_string()).into()
                }))
                .app_data(web::QueryConfig::default().error_handler(|e, _| {
                    ApiError::invalid_field("query", "invalid", e.to_string()).into()
                }))
                .app_data(web::JsonConfig::default().limit(body_limit))
                .configure(routes::configure)
                .split_for_parts();
            app.service(web::redirect("/docs", "/docs/"))
                .service(
                    web::resource(["/docs/", "/docs/index.html"]).route(web::get().to(docs_index)),
                )
                .service(SwaggerUi::new("/docs/{_:.*}").config(
                    // No validator: Swagger UI would otherwise send the
                    // document's URL (and the visitor's address) to
                    // Swagger's public validator.
                    utoipa_swagger_ui::Config::new(["/api/v1/openapi.json"]).validator_url("none"),
                ))
                .configure(crate::page::configure)
                .default_service(web::to(fallback))
                .wrap(from_fn(crate::extract::refuse_unstorable_url))
                .wrap(ErrorHandlers::new().default_handler(ensure_problem))
                .wrap(from_fn(crate::cors::cors))
                .wrap(
                    DefaultHeaders::new()
                        .add(("Cache-Control", "no-store"))
                        .add(("X-Content-Type-Options", "nosniff"))
                        .add(("Referrer-Policy", "no-referrer")),
                )
                .wrap(from_fn(crate::i18n::language))
                .wrap(from_fn(request_id::observe))
        })
        .shutdown_timeout(config.shutdown_timeout.as_secs())
        // Limits against slow or greedy clients. Heads are capped by
        // actix-http itself: 96 headers and 128 KiB (431 past that).
        .client_request_timeout(config.client_timeout)
        .client_disconnect_timeout(std::time::Duration::from_secs(2))
        .keep_alive(std::time::Duration::from_secs(30))
        .max_connections(config.max_connections)
        .listen(listener)
        .map_err(|e| StartupError::Bind {
            addr: config.bind.to_string(),
            reason: e.to_string(),
        })?;
        if let Some(workers) = config.workers {
            server = server.workers(workers);
        }
        // A worker's blocking threads mostly wait for one of the pool's
        // connections: more of them than connections only cost memory (under
        // 256 connections tokio's default of 512 spawned ~170 threads).
        server = server.worker_max_blocking_threads(
            usize::try_from(config.pool.max_size)
                .unwrap_or(usize::MAX)
                .saturating_add(BLOCKING_THREADS_BEYOND_POOL),
        );
        Ok(Self {
            server: server.run(),
            port,
            jobs,
            publisher,
            webhooks,
            metrics,
            exporter,
        })
    }

    /// The port `/metrics` listens on, when configured.
    pub fn metrics_port(&self) -> Option<u16> {
        self.metrics.as_ref().map(|(_, port)| *port)
    }

    /// The port actually bound (useful with port 0).
    pub fn port(&self) -> u16 {
        self.port
    }

    /// A handle to stop the server gracefully.
    pub fn handle(&self) -> ServerHandle {
        self.server.handle()
    }

    /// Serves until SIGINT/SIGTERM or `handle().stop(true)`; in-flight
    /// requests get the shutdown time-out to finish.
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        let (db, clock, retention, idempotency_ttl) = self.jobs;
        let db_for_shutdown = db.clone();
        actix_web::rt::spawn(crate::jobs::daily(db, clock, retention, idempotency_ttl));
        actix_web::rt::spawn(crate::statistics::nightly(self.publisher));
        if let Some(worker) = self.webhooks {
            actix_web::rt::spawn(worker.run());
        }
        if let Some(exporter) = self.exporter {
            actix_web::rt::spawn(exporter.run());
        }
        let metrics = self.metrics.map(|(server, _)| {
            let handle = server.handle();
            actix_web::rt::spawn(server);
            handle
        });
        let served = self.server.await;
        if let Some(metrics) = metrics {
            metrics.stop(true).await;
        }
        // Nothing of what was written stays in the write-ahead log once
        // stopped (SQLite; PostgreSQL's VACUUM is skipped at shutdown).
        if db_for_shutdown.backend() == adosexo_persistence::Backend::Sqlite {
            crate::retention::scrub(&db_for_shutdown).await;
        }
        served
    }
}

/// The `/metrics` listener: one worker, nothing else served.
fn metrics_server(
    addr: std::net::SocketAddr,
    state: web::Data<AppState>,
    http: web::Data<crate::metrics::HttpMetrics>,
    traces: web::Data<crate::metrics::TraceMetrics>,
) -> Result<(Server, u16), StartupError> {
    let bind_error = |e: std::io::Error| StartupError::Bind {
        addr: addr.to_string(),
        reason: e.to_string(),
    };
    let listener = TcpListener::bind(addr).map_err(bind_error)?;
    let port = listener.local_addr().map_err(bind_error)?.port();
    let server = HttpServer::new(move || {
        App::new()
            .app_data(state.clone())
            .app_data(http.clone())
            .app_data(traces.clone())
            .route("/metrics", web::get().to(crate::metrics::scrape))
    })
    .workers(1)
    .disable_signals()
    .listen(listener)
    .map_err(bind_error)?
    .run();
    tracing::info!(%addr, port, "metrics listening");
    Ok((server, port))
}

/// The token keys from configuration; in development only, a generated key
/// with a loud warning when none is configured.
pub fn signing_keys(config: &Config) -> Result<SigningKeys, StartupError> {
    match (&config.jwt_keys.private_pem, config.environment) {
        (Some(pem), _) => SigningKeys::from_pem(pem, &config.jwt_keys.previous_public_pems).map_err(StartupError::Keys),
        (None, Environment::Development) => {
            tracing::warn!(
                "NO TOKEN SIGNING KEY CONFIGURED: generated a temporary one (development mode). Tokens \
                 will not survive a restart and other instances will refuse them. Set \
                 ADOSEXO_JWT_PRIVATE_KEY_FILE (see `adosexo keys generate`); production refuses to start without it."
            );
            SigningKeys::generate().map_err(StartupError::Keys)
        }
        (None, Environment::Production) => Err(StartupError::Keys(
            "ADOSEXO_JWT_PRIVATE_KEY_FILE (or ADOSEXO_JWT_PRIVATE_KEY) is required when ADOSEXO_ENV=production; \
             create one with `adosexo keys generate`"
                .to_owned(),
        )),
    }
}

/// Where development keeps its generated notes key.
const DEV_NOTES_KEY_FILE: &str = "data/dev-notes.key";

/// Blocking threads per worker beyond the database pool's size (password
/// hashing, file checks).
const BLOCKING_THREADS_BEYOND_POOL: usize = 4;

/// Access tokens whose verified claims are kept (about 400 bytes each).
const VERIFIED_TOKENS: usize = 4096;

/// The TLS crypto provider of outgoing requests (webhooks): ring, through
/// rustls. Installing it twice is harmless.
pub fn install_tls_provider() {
    // Err only when a provider is installed already.
    let _ = rustls::crypto::ring::default_provider().install_default();
}

/// The notes keys from configuration; in development only, a key generated
/// once into `data/dev-notes.key` (loudly), so notes survive restarts.
pub fn notes_keys(config: &Config) -> Result<NotesKeys, StartupError> {
    match (&config.notes_keys, config.environment) {
        (Some(source), _) => NotesKeys::parse(&source.keys, &source.current)
            .map_err(|e| StartupError::Keys(format!("ADOSEXO_NOTES_KEYS: {e}"))),
        (None, Environment::Development) => {
            let path = std::path::Path::new(DEV_NOTES_KEY_FILE);
            let entry = match std::fs::read_to_string(path) {
                Ok(entry) => entry.trim().to_owned(),
                Err(_) => {
                    let entry = NotesKeys::generate_entry("dev").map_err(StartupError::Keys)?;
                    if let Some(dir) = path.parent() {
                        std::fs::create_dir_all(dir).map_err(|e| StartupError::Keys(e.to_string()))?;
                    }
                    std::fs::write(path, &entry).map_err(|e| StartupError::Keys(format!("{DEV_NOTES_KEY_FILE}: {e}")))?;
                    entry
                }
            };
            tracing::warn!(
                "NO NOTES KEY CONFIGURED: notes are sealed with the development key in {DEV_NOTES_KEY_FILE}. \
                 Set ADOSEXO_NOTES_KEYS and ADOSEXO_NOTES_KEY_ID; production refuses to start without them."
            );
            NotesKeys::parse(&entry, "dev").map_err(StartupError::Keys)
        }
        (None, Environment::Production) => Err(StartupError::Keys(
            "ADOSEXO_NOTES_KEYS and ADOSEXO_NOTES_KEY_ID are required when ADOSEXO_ENV=production; \
             create a key with `adosexo keys generate-notes`"
                .to_owned(),
        )),
    }
}
