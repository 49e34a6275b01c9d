//! Cross-origin reads (CORS). The public endpoints (`/api/v1/public/*`, the
//! public calendars among them) answer every origin: they hold no personal
//! data and take no credentials. Every other endpoint answers only the
//! origins the operator lists (`ADOSEXO_CORS_ORIGINS`), with the headers the
//! API uses. Credentials (cookies) are never allowed: the API authenticates
//! with a bearer token, which a page sends itself.

use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{self, HeaderMap, HeaderValue};
use actix_web::http::{Method, StatusCode};
use actix_web::middleware::Next;
use actix_web::{HttpResponse, web};

/// Paths every origin may read.
pub const PUBLIC_PREFIX: &str = "/api/v1/public/";

/// How long a browser may keep a preflight's answer (seconds; Chromium
/// caps it at two hours).
pub const PREFLIGHT_MAX_AGE: &str = "7200";

/// Methods of the public endpoints.
const PUBLIC_METHODS: &str = "GET, HEAD";
/// Request headers the public endpoints read.
const PUBLIC_HEADERS: &str = "If-None-Match, X-Request-Id";
/// Response headers a public caller may read.
const PUBLIC_EXPOSED: &str = "ETag, Retry-After, X-Request-Id";

/// Methods of the authenticated API.
const API_METHODS: &str = "GET, HEAD, POST, PUT, PATCH, DELETE";
/// Request headers the authenticated API reads.
const API_HEADERS: &str =
    "Authorization, Content-Type, If-Match, If-None-Match, Idempotency-Key, X-Request-Id";
/// Response headers an allowed origin may read.
const API_EXPOSED: &str = "ETag, Location, Retry-After, X-Request-Id, Content-Disposition";

/// The origins allowed on the authenticated endpoints.
#[derive(Clone, Debug, Default)]
pub struct CorsPolicy {
    origins: Vec<String>,
}

impl CorsPolicy {
    /// From the configured origins (`scheme://host[:port]`, already checked).
    pub fn new(origins: Vec<String>) -> Self {
        Self { origins }
    }

    fn allows(&self, origin: &str) -> bool {
        self.origins.iter().any(|o| o == origin)
    }
}

/// What a request's origin is granted.
enum Grant {
    /// Any origin (public endpoints): `*`.
    Public,
    /// This listed origin.
    Listed(HeaderValue),
    /// Nothing: no CORS header.
    None,
}

fn grant(req: &ServiceRequest, origin: Option<&HeaderValue>) -> Grant {
    let Some(origin) = origin else {
        return Grant::None;
    };
    if req.path().starts_with(PUBLIC_PREFIX) {
        return Grant::Public;
    }
    let listed = req
        .app_data::<web::Data<CorsPolicy>>()
        .is_some_and(|p| origin.to_str().is_ok_and(|o| p.allows(o)));
    if listed && req.path().starts_with("/api/") {
        Grant::Listed(origin.clone())
    } else {
        Grant::None
    }
}

fn put(headers: &mut HeaderMap, name: header::HeaderName, value: &'static str) {
    headers.insert(name, HeaderValue::from_static(value));
}

/// Middleware: answers preflights of allowed requests (204), adds the
/// response headers of allowed origins, and nothing for others (the browser
/// then refuses to hand the response to the page).
pub async fn cors(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    let origin = req.headers().get(header::ORIGIN).cloned();
    let grant = grant(&req, origin.as_ref());
    let preflight = req.method() == Method::OPTIONS
        && req
            .headers()
            .contains_key(header::ACCESS_CONTROL_REQUEST_METHOD);
    let api = req.path().starts_with("/api/") && !req.path().starts_with(PUBLIC_PREFIX);
    if preflight && !matches!(grant, Grant::None) {
        let mut response = HttpResponse::new(StatusCode::NO_CONTENT);
        let headers = response.headers_mut();
        match &grant {
            Grant::Public => {
                put(headers, header::ACCESS_CONTROL_ALLOW_ORIGIN, "*");
                put(
                    headers,
                    header::ACCESS_CONTROL_ALLOW_METHODS,
                    PUBLIC_METHODS,
                );
                put(
                    headers,
                    header::ACCESS_CONTROL_ALLOW_HEADERS,
                    PUBLIC_HEADERS,
                );
            }
            Grant::Listed(origin) => {
                headers.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, origin.clone());
                put(headers, header::VARY, "Origin");
                put(headers, header::ACCESS_CONTROL_ALLOW_METHODS, API_METHODS);
                put(headers, header::ACCESS_CONTROL_ALLOW_HEADERS, API_HEADERS);
            }
            Grant::None => {}
        }
        put(headers, header::ACCESS_CONTROL_MAX_AGE, PREFLIGHT_MAX_AGE);
        return Ok(req.into_response(response));
    }
    let mut response = next.call(req).await?.map_into_boxed_body();
    let headers = response.headers_mut();
    match grant {
        Grant::Public => {
            put(headers, header::ACCESS_CONTROL_ALLOW_ORIGIN, "*");
            put(
                headers,
                header::ACCESS_CONTROL_EXPOSE_HEADERS,
                PUBLIC_EXPOSED,
            );
        }
        Grant::Listed(origin) => {
            headers.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, origin);
            put(headers, header::ACCESS_CONTROL_EXPOSE_HEADERS, API_EXPOSED);
        }
        Grant::None => {}
    }
    // The answer of an API path depends on the origin when some are listed:
    // caches must not hand one origin's answer to another.
    if api {
        headers.append(header::VARY, HeaderValue::from_static("Origin"));
    }
    Ok(response)
}
