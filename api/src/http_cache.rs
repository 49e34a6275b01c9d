//! Strong `ETag`s from the response body, `If-None-Match` → 304.

use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpRequest, HttpResponse};
use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::problem::ApiError;

/// The entity tag of a body: its SHA-256, shortened.
pub fn etag_of(body: &[u8]) -> String {
    let digest = Sha256::digest(body);
    let hex: String = digest.iter().take(16).map(|b| format!("{b:02x}")).collect();
    format!("\"{hex}\"")
}

/// Whether `If-None-Match` names this tag (or `*`).
pub fn none_match(req: &HttpRequest, etag: &str) -> bool {
    req.headers()
        .get_all(header::IF_NONE_MATCH)
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(|t| t.trim().trim_start_matches("W/"))
        .any(|t| t == "*" || t == etag)
}

/// A JSON response with an `ETag` and the given `Cache-Control`, or a 304
/// when the client already holds it.
pub fn json_with_etag<T: Serialize>(
    req: &HttpRequest,
    value: &T,
    cache_control: &'static str,
) -> Result<HttpResponse, ApiError> {
    json_with_etag_as(req, value, cache_control, "application/json")
}

/// As [`json_with_etag`], with another JSON media type (`application/geo+json`).
pub fn json_with_etag_as<T: Serialize>(
    req: &HttpRequest,
    value: &T,
    cache_control: &'static str,
    content_type: &'static str,
) -> Result<HttpResponse, ApiError> {
    let body = serde_json::to_vec(value).map_err(|e| ApiError::internal(e.to_string()))?;
    let etag = etag_of(&body);
    let etag_value = HeaderValue::from_str(&etag).map_err(|e| ApiError::internal(e.to_string()))?;
    let not_modified = none_match(req, &etag);
    let mut response = if not_modified {
        HttpResponse::NotModified()
    } else {
        HttpResponse::Ok()
    };
    response
        .insert_header((header::ETAG, etag_value))
        .insert_header((
            header::CACHE_CONTROL,
            HeaderValue::from_static(cache_control),
        ));
    if not_modified {
        return Ok(response.finish());
    }
    Ok(response.content_type(content_type).body(body))
}

/// The strong ETag of a versioned resource.
pub fn version_etag(version: i64) -> String {
    format!("\"v{version}\"")
}

/// The version `If-Match` names: 428 when absent, 400 when it is not an
/// ETag this API gives (`"v<version>"`). Whether it is still current is
/// for the update to say (412).
pub fn if_match(req: &HttpRequest) -> Result<i64, ApiError> {
    let value = req
        .headers()
        .get(header::IF_MATCH)
        .ok_or_else(ApiError::precondition_required)?;
    value
        .to_str()
        .ok()
        .and_then(|v| v.trim().strip_prefix("\"v"))
        .and_then(|rest| rest.strip_suffix('"'))
        .filter(|n| (1..=18).contains(&n.len()) && n.bytes().all(|b| b.is_ascii_digit()))
        .and_then(|n| n.parse().ok())
        .ok_or_else(|| {
            ApiError::invalid_field(
                "If-Match",
                "format",
                "If-Match is the ETag of the version read, such as \"v3\"",
            )
        })
}

/// A JSON response of a versioned, private resource: `ETag` from its
/// version, never cached by intermediaries.
pub fn versioned_json<T: Serialize>(
    status: actix_web::http::StatusCode,
    value: &T,
    version: i64,
) -> HttpResponse {
    HttpResponse::build(status)
        .insert_header((header::ETAG, version_etag(version)))
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .json(value)
}

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::test::TestRequest;

    #[test]
    fn etag_is_stable_and_quoted() {
        assert_eq!(etag_of(b"{}"), etag_of(b"{}"));
        assert_ne!(etag_of(b"{}"), etag_of(b"[]"));
        let tag = etag_of(b"{}");
        assert!(
            tag.starts_with('"') && tag.ends_with('"') && tag.len() == 34,
            "{tag}"
        );
    }

    #[test]
    fn if_none_match_lists_and_weak_tags() {
        let tag = etag_of(b"x");
        let req = TestRequest::default()
            .insert_header((header::IF_NONE_MATCH, format!("\"other\", W/{tag}")))
            .to_http_request();
        assert!(none_match(&req, &tag));
        let req = TestRequest::default()
            .insert_header((header::IF_NONE_MATCH, "\"other\""))
            .to_http_request();
        assert!(!none_match(&req, &tag));
    }
}
