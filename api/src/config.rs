//! Typed configuration from the environment, with defaults that run with
//! nothing set. Values that could hold secrets are never echoed in errors.

use std::net::SocketAddr;
use std::time::Duration;

use adosexo_persistence::{DatabaseUrl, PoolOptions};

use crate::auth::tokens::TokenSettings;
use crate::telemetry::LogFormat;

/// Where the SQLite file goes when `DATABASE_URL` is not set.
pub const DEFAULT_DATABASE_URL: &str = "sqlite://data/adosexo.db";

/// Everything the service reads from its environment.
#[derive(Clone, Debug)]
pub struct Config {
    /// `ADOSEXO_BIND`: address and port to listen on.
    pub bind: SocketAddr,
    /// `DATABASE_URL`: SQLite file or PostgreSQL server.
    pub database_url: DatabaseUrl,
    /// `ADOSEXO_DB_POOL_SIZE`, `ADOSEXO_DB_TIMEOUT_SECS`.
    pub pool: PoolOptions,
    /// `ADOSEXO_LOG_FORMAT`: `text` (default) or `json`.
    pub log_format: LogFormat,
    /// `RUST_LOG`: which events to log.
    pub log_filter: String,
    /// `ADOSEXO_BODY_LIMIT_BYTES`: largest accepted request body.
    pub body_limit: usize,
    /// `ADOSEXO_LIBRARY_MAX_BYTES`: largest file of the resource library
    /// (default 20 MiB; only its upload route accepts bodies this large).
    pub library_max_bytes: usize,
    /// `ADOSEXO_SHUTDOWN_TIMEOUT_SECS`: how long in-flight requests may run
    /// after SIGINT/SIGTERM.
    pub shutdown_timeout: Duration,
    /// `ADOSEXO_CLIENT_TIMEOUT_SECS`: how long a client may take to send a
    /// request's head, and then its body (slow clients are cut off).
    pub client_timeout: Duration,
    /// `ADOSEXO_MAX_CONNECTIONS`: open connections per worker; past it the
    /// server stops accepting until some close.
    pub max_connections: usize,
    /// `ADOSEXO_WORKERS`: HTTP worker threads (default: one per core).
    pub workers: Option<usize>,
    /// `ADOSEXO_ENV`: `development` (default) or `production`.
    pub environment: Environment,
    /// Token keys: `ADOSEXO_JWT_PRIVATE_KEY_FILE` (or `ADOSEXO_JWT_PRIVATE_KEY`,
    /// the PEM itself) and `ADOSEXO_JWT_PREVIOUS_PUBLIC_KEY_FILE`.
    pub jwt_keys: JwtKeySource,
    /// `ADOSEXO_JWT_ISSUER`, `ADOSEXO_JWT_AUDIENCE`,
    /// `ADOSEXO_ACCESS_TOKEN_TTL_SECS`, `ADOSEXO_REFRESH_TOKEN_TTL_SECS`.
    pub tokens: TokenSettings,
    /// `ADOSEXO_LOGIN_MAX_FAILURES`, `ADOSEXO_LOGIN_MAX_FAILURES_PER_ADDRESS`,
    /// `ADOSEXO_LOGIN_WINDOW_SECS`.
    pub throttle: ThrottleSettings,
    /// `ADOSEXO_AUDIT_RETENTION_DAYS`: 183 to 1095 (default 365).
    pub audit_retention_days: u32,
    /// `ADOSEXO_RETENTION_DAYS` (days after the last contact before a
    /// follow-up is archived: 365 to 3650, default 730) and
    /// `ADOSEXO_ARCHIVE_DAYS` (days in the archive before pseudonymisation:
    /// 0 to 7300, default 1095).
    pub retention: adosexo_domain::retention::RetentionPolicy,
    /// `ADOSEXO_NOTES_KEYS` (`kid:base64,…`) and `ADOSEXO_NOTES_KEY_ID` (the
    /// sealing one). Never printed.
    pub notes_keys: Option<NotesKeySource>,
    /// `ADOSEXO_PROTECTION_DEADLINE_HOURS`: time to record the mandatory
    /// child-protection decision (default 72).
    pub protection_deadline: Duration,
    /// `ADOSEXO_IDEMPOTENCY_TTL_HOURS` (1 to 720, default 24): how long an
    /// `Idempotency-Key` is remembered; later, the key is free again.
    pub idempotency_ttl: Duration,
    /// `ADOSEXO_PUBLIC_RATE_LIMIT_PER_MINUTE`: requests per minute and client
    /// address on the public endpoints (default 300).
    pub public_rate_limit: u32,
    /// `ADOSEXO_STATS_MIN_CELL`: the smallest count statistics publish
    /// (default 11, at least 3; smaller counts are suppressed).
    pub stats_min_cell: adosexo_domain::stats::MinCell,
    /// `ANALYTICS_DATABASE_URL`: where statistics are read (a read replica,
    /// same backend and schema); default: `DATABASE_URL`.
    pub analytics_database_url: Option<DatabaseUrl>,
    /// `ADOSEXO_WEBHOOK_*`: the delivery worker (interval, attempts,
    /// back-off, time-out; internal targets for tests only). `http://`
    /// targets are accepted in development only.
    pub webhooks: crate::webhooks::WebhookSettings,
    /// `ADOSEXO_ERASURE_JOURNAL`: a file outside the database where every
    /// executed erasure appends its ids, replayed by `adosexo restore`
    /// (docs/OPERATIONS.md). Unset: no journal.
    pub erasure_journal: Option<std::path::PathBuf>,
    /// `ADOSEXO_CORS_ORIGINS`: origins (`https://host[:port]`, comma
    /// separated) whose pages may call the authenticated endpoints from a
    /// browser. The public endpoints answer every origin.
    pub cors_origins: Vec<String>,
    /// `ADOSEXO_EMBED_ORIGINS`: origins whose pages may frame the embeddable
    /// public page (`/aide/embed/`); none by default.
    pub embed_origins: Vec<String>,
    /// `ADOSEXO_MAP_TILES_URL` and `ADOSEXO_MAP_ATTRIBUTION`: the map's tile
    /// server; without it the public page shows the list alone.
    pub map_tiles: Option<MapTiles>,
    /// `ADOSEXO_PUBLIC_URL`: the origin clients reach the service at
    /// (`https://adosexo.example.org`), the issuer and base of the OAuth 2.0
    /// server metadata; unset, the metadata is built on each request's
    /// scheme and host.
    pub public_url: Option<String>,
    /// `ADOSEXO_METRICS_BIND`: where `/metrics` (Prometheus text format)
    /// listens, apart from the API so that it is never public; off when
    /// unset.
    pub metrics_bind: Option<SocketAddr>,
    /// `OTEL_EXPORTER_OTLP_ENDPOINT` (or `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`),
    /// `OTEL_EXPORTER_OTLP_HEADERS`, `OTEL_SERVICE_NAME`: where request spans
    /// are exported (OTLP/HTTP, JSON); off when unset.
    pub otlp: Option<crate::otlp::OtlpSettings>,
}

/// The operator's tile server for the public page's map.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MapTiles {
    /// A template with `{z}`, `{x}` and `{y}` on one origin (no `{s}`
    /// subdomains: the CSP names that origin), e.g.
    /// `https://tiles.example.org/{z}/{x}/{y}.png`.
    pub url: String,
    /// Its origin (`https://tiles.example.org`), allowed in the page's
    /// Content Security Policy (`img-src`).
    pub origin: String,
    /// The attribution the tiles' licence requires (plain text).
    pub attribution: String,
}

/// Where the service runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Environment {
    /// A developer's machine: missing keys are generated (loudly).
    Development,
    /// Production: every secret must be configured.
    Production,
}

/// Where the token signing keys come from. `Debug` never shows a key.
#[derive(Clone, Default)]
pub struct JwtKeySource {
    /// The private key (PKCS#8 PEM), if configured.
    pub private_pem: Option<String>,
    /// Previous public keys (SPKI PEM) still accepted.
    pub previous_public_pems: Vec<String>,
}

impl std::fmt::Debug for JwtKeySource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("JwtKeySource")
            .field(
                "private_pem",
                &self.private_pem.as_ref().map(|_| "[redacted]"),
            )
            .field("previous_public_pems", &self.previous_public_pems.len())
            .finish()
    }
}

/// The notes keys as configured. `Debug` shows only the current key id.
#[derive(Clone)]
pub struct NotesKeySource {
    /// `kid:base64,…`.
    pub keys: String,
    /// The sealing key's id.
    pub current: String,
}

impl std::fmt::Debug for NotesKeySource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NotesKeySource")
            .field("current", &self.current)
            .finish_non_exhaustive()
    }
}

/// Login throttling: failures allowed per account and per client address
/// within a window, before 429.
#[derive(Clone, Copy, Debug)]
pub struct ThrottleSettings {
    /// Failures per account (e-mail) within the window.
    pub max_failures: i64,
    /// Failures per client address within the window.
    pub max_failures_per_address: i64,
    /// The window.
    pub window: Duration,
}

/// A variable that is set but unusable.
#[derive(Debug, thiserror::Error)]
#[error("{var}: {message}")]
pub struct ConfigError {
    /// The variable's name.
    pub var: &'static str,
    /// What is wrong with it.
    pub message: String,
}

impl Config {
    /// Reads the process environment.
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// Reads configuration through `lookup` (the environment, or a map in tests).
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let get = |name: &str| lookup(name).filter(|v| !v.trim().is_empty());
        let database_url = get("DATABASE_URL").unwrap_or_else(|| DEFAULT_DATABASE_URL.to_owned());
        let database_url = DatabaseUrl::parse(&database_url).map_err(|e| ConfigError {
            var: "DATABASE_URL",
            message: e.to_string(),
        })?;
        Ok(Self {
            bind: parse(
                &get,
                "ADOSEXO_BIND",
                "127.0.0.1:8080".parse().ok(),
                "a socket address such as 127.0.0.1:8080",
            )?,
            database_url,
            pool: PoolOptions {
                max_size: parse_range(&get, "ADOSEXO_DB_POOL_SIZE", 8, 1..=256)?,
                connection_timeout: Duration::from_secs(parse_range(
                    &get,
                    "ADOSEXO_DB_TIMEOUT_SECS",
                    5,
                    1..=300,
                )?),
            },
            log_format: match get("ADOSEXO_LOG_FORMAT").as_deref().map(str::trim) {
                None | Some("text") => LogFormat::Text,
                Some("json") => LogFormat::Json,
                Some(_) => {
                    return Err(ConfigError {
                        var: "ADOSEXO_LOG_FORMAT",
                        message: "expected `text` or `json`".into(),
                    });
                }
            },
            log_filter: get("RUST_LOG").unwrap_or_else(|| "info".to_owned()),
            body_limit: parse_range(
                &get,
                "ADOSEXO_BODY_LIMIT_BYTES",
                64 * 1024,
                1024..=16 * 1024 * 1024,
            )?,
            library_max_bytes: parse_range(
                &get,
                "ADOSEXO_LIBRARY_MAX_BYTES",
                20 * 1024 * 1024,
                1024..=512 * 1024 * 1024,
            )?,
            shutdown_timeout: Duration::from_secs(parse_range(
                &get,
                "ADOSEXO_SHUTDOWN_TIMEOUT_SECS",
                30,
                0..=3600,
            )?),
            client_timeout: Duration::from_secs(parse_range(
                &get,
                "ADOSEXO_CLIENT_TIMEOUT_SECS",
                10,
                1..=300,
            )?),
            max_connections: parse_range(&get, "ADOSEXO_MAX_CONNECTIONS", 1024, 16..=65_536)?,
            workers: match get("ADOSEXO_WORKERS") {
                None => None,
                Some(_) => Some(parse_range(&get, "ADOSEXO_WORKERS", 1, 1..=256)?),
            },
            environment: match get("ADOSEXO_ENV").as_deref().map(str::trim) {
                None | Some("development") => Environment::Development,
                Some("production") => Environment::Production,
                Some(_) => {
                    return Err(ConfigError {
                        var: "ADOSEXO_ENV",
                        message: "expected `development` or `production`".into(),
                    });
                }
            },
            jwt_keys: JwtKeySource {
                private_pem: match (
                    get("ADOSEXO_JWT_PRIVATE_KEY_FILE"),
                    get("ADOSEXO_JWT_PRIVATE_KEY"),
                ) {
                    (Some(path), _) => Some(read_file("ADOSEXO_JWT_PRIVATE_KEY_FILE", &path)?),
                    (None, Some(pem)) => Some(pem),
                    (None, None) => None,
                },
                previous_public_pems: get("ADOSEXO_JWT_PREVIOUS_PUBLIC_KEY_FILE")
                    .map(|path| read_file("ADOSEXO_JWT_PREVIOUS_PUBLIC_KEY_FILE", &path))
                    .transpose()?
                    .into_iter()
                    .collect(),
            },
            tokens: TokenSettings {
                issuer: get("ADOSEXO_JWT_ISSUER").unwrap_or_else(|| "adosexo".to_owned()),
                audience: get("ADOSEXO_JWT_AUDIENCE").unwrap_or_else(|| "adosexo-api".to_owned()),
                access_ttl: Duration::from_secs(parse_range(
                    &get,
                    "ADOSEXO_ACCESS_TOKEN_TTL_SECS",
                    900,
                    60..=3600,
                )?),
                refresh_ttl: Duration::from_secs(parse_range(
                    &get,
                    "ADOSEXO_REFRESH_TOKEN_TTL_SECS",
                    30 * 86_400,
                    3600..=90 * 86_400,
                )?),
            },
            throttle: ThrottleSettings {
                max_failures: parse_range(&get, "ADOSEXO_LOGIN_MAX_FAILURES", 5, 1..=1000)?,
                max_failures_per_address: parse_range(
                    &get,
                    "ADOSEXO_LOGIN_MAX_FAILURES_PER_ADDRESS",
                    50,
                    1..=100_000,
                )?,
                window: Duration::from_secs(parse_range(
                    &get,
                    "ADOSEXO_LOGIN_WINDOW_SECS",
                    900,
                    1..=86_400,
                )?),
            },
            audit_retention_days: parse_range(
                &get,
                "ADOSEXO_AUDIT_RETENTION_DAYS",
                365,
                183..=1095,
            )?,
            retention: adosexo_domain::retention::RetentionPolicy {
                active_days: parse_range(&get, "ADOSEXO_RETENTION_DAYS", 730, 365..=3650)?,
                archive_days: parse_range(&get, "ADOSEXO_ARCHIVE_DAYS", 1095, 0..=7300)?,
            },
            notes_keys: match (get("ADOSEXO_NOTES_KEYS"), get("ADOSEXO_NOTES_KEY_ID")) {
                (Some(keys), Some(current)) => Some(NotesKeySource { keys, current }),
                (None, None) => None,
                _ => {
                    return Err(ConfigError {
                        var: "ADOSEXO_NOTES_KEYS",
                        message: "set both ADOSEXO_NOTES_KEYS and ADOSEXO_NOTES_KEY_ID".into(),
                    });
                }
            },
            idempotency_ttl: Duration::from_secs(
                3600 * parse_range(&get, "ADOSEXO_IDEMPOTENCY_TTL_HOURS", 24, 1..=720)?,
            ),
            protection_deadline: Duration::from_secs(
                3600 * parse_range(&get, "ADOSEXO_PROTECTION_DEADLINE_HOURS", 72, 1..=720)?,
            ),
            public_rate_limit: parse_range(
                &get,
                "ADOSEXO_PUBLIC_RATE_LIMIT_PER_MINUTE",
                300,
                1..=1_000_000,
            )?,
            stats_min_cell: adosexo_domain::stats::MinCell::new(parse_range(
                &get,
                "ADOSEXO_STATS_MIN_CELL",
                adosexo_domain::stats::MinCell::DEFAULT.get(),
                adosexo_domain::stats::MinCell::FLOOR..=1000,
            )?)
            .map_err(|e| ConfigError {
                var: "ADOSEXO_STATS_MIN_CELL",
                message: e.to_string(),
            })?,
            webhooks: webhook_settings(&get)?,
            erasure_journal: get("ADOSEXO_ERASURE_JOURNAL")
                .map(|path| path.trim().to_owned())
                .filter(|path| !path.is_empty())
                .map(std::path::PathBuf::from),
            analytics_database_url: get("ANALYTICS_DATABASE_URL")
                .map(|url| {
                    DatabaseUrl::parse(&url).map_err(|e| ConfigError {
                        var: "ANALYTICS_DATABASE_URL",
                        message: e.to_string(),
                    })
                })
                .transpose()?,
            cors_origins: origins(&get, "ADOSEXO_CORS_ORIGINS")?,
            embed_origins: origins(&get, "ADOSEXO_EMBED_ORIGINS")?,
            map_tiles: map_tiles(&get)?,
            metrics_bind: get("ADOSEXO_METRICS_BIND")
                .map(|addr| {
                    addr.trim().parse().map_err(|_| ConfigError {
                        var: "ADOSEXO_METRICS_BIND",
                        message: "a socket address such as 127.0.0.1:9464".into(),
                    })
                })
                .transpose()?,
            otlp: crate::otlp::OtlpSettings::from_lookup(&get)
                .map_err(|(var, message)| ConfigError { var, message })?,
            public_url: match get("ADOSEXO_PUBLIC_URL").map(|u| u.trim().to_owned()) {
                None => None,
                Some(url) => Some(
                    origin_of(&url)
                        .filter(|o| o.as_str() == url.trim_end_matches('/'))
                        .ok_or_else(|| ConfigError {
                            var: "ADOSEXO_PUBLIC_URL",
                            message: "expected an origin such as https://adosexo.example.org (https, or http on localhost; no path)".into(),
                        })?,
                ),
            },
        })
    }
}

/// A web origin as browsers send it in `Origin`: `scheme://host[:port]`,
/// nothing after; `https`, or `http` for a loopback host (development).
fn origin_of(value: &str) -> Option<String> {
    let url = reqwest::Url::parse(value).ok()?;
    let origin = url.origin().ascii_serialization();
    let loopback = matches!(url.host_str(), Some("localhost" | "127.0.0.1" | "[::1]"));
    let scheme_ok = url.scheme() == "https" || (url.scheme() == "http" && loopback);
    (scheme_ok && url.username().is_empty() && url.password().is_none()).then_some(origin)
}

fn origins(
    get: &impl Fn(&str) -> Option<String>,
    var: &'static str,
) -> Result<Vec<String>, ConfigError> {
    let Some(list) = get(var) else {
        return Ok(Vec::new());
    };
    let mut out = Vec::new();
    for item in list.split(',').map(str::trim).filter(|s| !s.is_empty()) {
        let origin = origin_of(item)
            .filter(|o| o.as_str() == item.trim_end_matches('/'))
            .ok_or_else(|| ConfigError {
                var,
                message: format!(
                    "`{item}` is not an origin such as https://www.example.org (https, or http on localhost; no path, no `*`)"
                ),
            })?;
        if !out.contains(&origin) {
            out.push(origin);
        }
    }
    Ok(out)
}

fn map_tiles(get: &impl Fn(&str) -> Option<String>) -> Result<Option<MapTiles>, ConfigError> {
    let Some(url) = get("ADOSEXO_MAP_TILES_URL").map(|u| u.trim().to_owned()) else {
        return Ok(None);
    };
    let bad = |message: &str| ConfigError {
        var: "ADOSEXO_MAP_TILES_URL",
        message: message.to_owned(),
    };
    if !["{z}", "{x}", "{y}"].iter().all(|p| url.contains(p)) {
        return Err(bad(
            "expected a template with {z}, {x} and {y}, e.g. https://tiles.example.org/{z}/{x}/{y}.png",
        ));
    }
    if url.contains(['"', '\'', '<', '>', ' ', ';']) {
        return Err(bad("the template has characters a URL cannot hold"));
    }
    let probe = url
        .replace("{z}", "0")
        .replace("{x}", "0")
        .replace("{y}", "0")
        .replace("{r}", "");
    if probe.contains(['{', '}']) {
        return Err(bad(
            "only {z}, {x}, {y} and {r} are replaced: one tile server, no {s} subdomains (the page's CSP names its origin)",
        ));
    }
    let origin =
        origin_of(&probe).ok_or_else(|| bad("expected an https URL (http only on localhost)"))?;
    let attribution = get("ADOSEXO_MAP_ATTRIBUTION")
        .map(|a| a.trim().to_owned())
        .ok_or_else(|| ConfigError {
            var: "ADOSEXO_MAP_ATTRIBUTION",
            message: "is required with ADOSEXO_MAP_TILES_URL: the tiles' licence names whom to credit (e.g. © OpenStreetMap contributors)".into(),
        })?;
    Ok(Some(MapTiles {
        url,
        origin,
        attribution,
    }))
}

fn webhook_settings(
    get: &impl Fn(&str) -> Option<String>,
) -> Result<crate::webhooks::WebhookSettings, ConfigError> {
    let flag = |var: &'static str, default: bool| match get(var).as_deref().map(str::trim) {
        None => Ok(default),
        Some("true" | "1" | "yes") => Ok(true),
        Some("false" | "0" | "no") => Ok(false),
        Some(_) => Err(ConfigError {
            var,
            message: "expected `true` or `false`".into(),
        }),
    };
    let development = !matches!(
        get("ADOSEXO_ENV").as_deref().map(str::trim),
        Some("production")
    );
    let allow_internal = flag("ADOSEXO_WEBHOOK_ALLOW_INTERNAL_TARGETS", false)?;
    if allow_internal && !development {
        return Err(ConfigError {
            var: "ADOSEXO_WEBHOOK_ALLOW_INTERNAL_TARGETS",
            message: "internal webhook targets are for tests; refused in production".into(),
        });
    }
    Ok(crate::webhooks::WebhookSettings {
        interval: Duration::from_millis(parse_range(
            get,
            "ADOSEXO_WEBHOOK_INTERVAL_MS",
            5000,
            10..=3_600_000,
        )?),
        max_attempts: parse_range(get, "ADOSEXO_WEBHOOK_MAX_ATTEMPTS", 8, 1..=50)?,
        backoff_base: Duration::from_millis(parse_range(
            get,
            "ADOSEXO_WEBHOOK_BACKOFF_BASE_MS",
            30_000,
            1..=86_400_000,
        )?),
        backoff_cap: Duration::from_secs(6 * 3600),
        timeout: Duration::from_secs(parse_range(
            get,
            "ADOSEXO_WEBHOOK_TIMEOUT_SECS",
            10,
            1..=120,
        )?),
        allow_http: development,
        allow_internal,
        worker: flag("ADOSEXO_WEBHOOK_WORKER", true)?,
    })
}

fn read_file(var: &'static str, path: &str) -> Result<String, ConfigError> {
    std::fs::read_to_string(path.trim()).map_err(|e| ConfigError {
        var,
        message: format!("cannot read {}: {e}", path.trim()),
    })
}

fn parse<T: std::str::FromStr>(
    get: &impl Fn(&str) -> Option<String>,
    var: &'static str,
    default: Option<T>,
    expected: &str,
) -> Result<T, ConfigError> {
    match get(var) {
        Some(value) => value.trim().parse().map_err(|_| ConfigError {
            var,
            message: format!("`{}` is not {expected}", value.trim()),
        }),
        None => default.ok_or_else(|| ConfigError {
            var,
            message: "is required".into(),
        }),
    }
}

fn parse_range<T>(
    get: &impl Fn(&str) -> Option<String>,
    var: &'static str,
    default: T,
    range: std::ops::RangeInclusive<T>,
) -> Result<T, ConfigError>
where
    T: std::str::FromStr + PartialOrd + std::fmt::Display + Copy,
{
    let expected = format!("a whole number from {} to {}", range.start(), range.end());
    let value = parse(get, var, Some(default), &expected)?;
    if range.contains(&value) {
        Ok(value)
    } else {
        Err(ConfigError {
            var,
            message: format!("`{value}` is not {expected}"),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn config(vars: &[(&str, &str)]) -> Result<Config, ConfigError> {
        let map: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        Config::from_lookup(|k| map.get(k).cloned())
    }

    #[test]
    fn statistics_threshold_has_a_floor() {
        assert_eq!(config(&[]).map(|c| c.stats_min_cell.get()).ok(), Some(11));
        assert_eq!(
            config(&[("ADOSEXO_STATS_MIN_CELL", "5")])
                .map(|c| c.stats_min_cell.get())
                .ok(),
            Some(5)
        );
        let error = config(&[("ADOSEXO_STATS_MIN_CELL", "2")]).err();
        assert_eq!(error.map(|e| e.var), Some("ADOSEXO_STATS_MIN_CELL"));
        assert!(config(&[("ANALYTICS_DATABASE_URL", "mysql://x")]).is_err());
        assert!(
            config(&[])
                .map(|c| c.analytics_database_url.is_none())
                .unwrap_or(false)
        );
    }

    #[test]
    fn public_url_is_an_origin() {
        let c = config(&[("ADOSEXO_PUBLIC_URL", "https://adosexo.example.org/")]).ok();
        assert_eq!(
            c.and_then(|c| c.public_url),
            Some("https://adosexo.example.org".to_owned())
        );
        for bad in [
            "http://adosexo.example.org",
            "https://adosexo.example.org/api",
            "adosexo.example.org",
        ] {
            let e = config(&[("ADOSEXO_PUBLIC_URL", bad)]).err().map(|e| e.var);
            assert_eq!(e, Some("ADOSEXO_PUBLIC_URL"), "{bad}");
        }
    }

    #[test]
    fn origins_and_tiles_are_checked() {
        let c = config(&[(
            "ADOSEXO_CORS_ORIGINS",
            "https://www.acpe-asso.org, http://localhost:3000,https://www.acpe-asso.org/",
        )])
        .ok();
        assert_eq!(
            c.map(|c| c.cors_origins),
            Some(vec![
                "https://www.acpe-asso.org".to_owned(),
                "http://localhost:3000".to_owned()
            ])
        );
        for bad in [
            "*",
            "http://example.org",
            "https://example.org/path",
            "example.org",
        ] {
            let e = config(&[("ADOSEXO_CORS_ORIGINS", bad)])
                .err()
                .map(|e| e.var);
            assert_eq!(e, Some("ADOSEXO_CORS_ORIGINS"), "{bad}");
        }
        let tiles = config(&[
            (
                "ADOSEXO_MAP_TILES_URL",
                "https://tiles.example.org/osm/{z}/{x}/{y}.png",
            ),
            ("ADOSEXO_MAP_ATTRIBUTION", "© OpenStreetMap"),
        ])
        .ok()
        .and_then(|c| c.map_tiles);
        assert_eq!(
            tiles.map(|t| t.origin),
            Some("https://tiles.example.org".to_owned())
        );
        let e = config(&[(
            "ADOSEXO_MAP_TILES_URL",
            "https://tiles.example.org/{z}/{x}/{y}.png",
        )])
        .err()
        .map(|e| e.var);
        assert_eq!(e, Some("ADOSEXO_MAP_ATTRIBUTION"));
        let e = config(&[
            (
                "ADOSEXO_MAP_TILES_URL",
                "https://tiles.example.org/tile.png",
            ),
            ("ADOSEXO_MAP_ATTRIBUTION", "x"),
        ])
        .err()
        .map(|e| e.var);
        assert_eq!(e, Some("ADOSEXO_MAP_TILES_URL"));
        let e = config(&[
            (
                "ADOSEXO_MAP_TILES_URL",
                "https://{s}.tile.example.org/{z}/{x}/{y}.png",
            ),
            ("ADOSEXO_MAP_ATTRIBUTION", "x"),
        ])
        .err()
        .map(|e| e.var);
        assert_eq!(e, Some("ADOSEXO_MAP_TILES_URL"));
        assert!(config(&[]).is_ok_and(|c| c.map_tiles.is_none() && c.embed_origins.is_empty()));
    }

    #[test]
    fn runs_with_nothing_set() {
        let config = config(&[]).ok();
        let config = config.as_ref();
        assert_eq!(
            config.map(|c| c.bind.to_string()).as_deref(),
            Some("127.0.0.1:8080")
        );
        assert_eq!(
            config
                .and_then(|c| c.database_url.sqlite_path())
                .map(|p| p.to_string_lossy().into_owned())
                .as_deref(),
            Some("data/adosexo.db")
        );
        assert_eq!(config.map(|c| c.body_limit), Some(65536));
        assert!(matches!(
            config.map(|c| c.log_format),
            Some(LogFormat::Text)
        ));
    }

    #[test]
    fn errors_name_the_variable() {
        let err = config(&[("ADOSEXO_BIND", "nowhere")])
            .err()
            .map(|e| e.to_string());
        assert_eq!(
            err.as_deref(),
            Some("ADOSEXO_BIND: `nowhere` is not a socket address such as 127.0.0.1:8080")
        );
        let err = config(&[("ADOSEXO_DB_POOL_SIZE", "0")])
            .err()
            .map(|e| e.to_string());
        assert_eq!(
            err.as_deref(),
            Some("ADOSEXO_DB_POOL_SIZE: `0` is not a whole number from 1 to 256")
        );
        let err = config(&[("ADOSEXO_LOG_FORMAT", "xml")])
            .err()
            .map(|e| e.var);
        assert_eq!(err, Some("ADOSEXO_LOG_FORMAT"));
    }

    #[test]
    fn database_url_errors_never_echo_the_value() {
        let err = config(&[("DATABASE_URL", "mysql://u:hunter2@h/db")])
            .err()
            .map(|e| e.to_string());
        let err = err.unwrap_or_default();
        assert!(
            err.starts_with("DATABASE_URL: unsupported database URL scheme `mysql`"),
            "{err}"
        );
        assert!(!err.contains("hunter2"));
    }
}
