//! Extractors that turn every decoding failure into a problem naming the
//! field: `ApiJson` for bodies, `ApiQuery` for query strings.

use std::borrow::Cow;

use actix_web::dev::Payload;
use actix_web::http::StatusCode;
use actix_web::{FromRequest, HttpMessage, HttpRequest, web};
use futures_util::future::LocalBoxFuture;
use serde::de::DeserializeOwned;
use validator::{Validate, ValidationErrors, ValidationErrorsKind};

use crate::problem::{ApiError, FieldError};

/// The largest accepted body, in bytes (from configuration).
#[derive(Clone, Copy, Debug)]
pub struct BodyLimit(pub usize);

/// How long a body may take to arrive once the head is in (from
/// configuration): a client trickling bytes is answered 408.
#[derive(Clone, Copy, Debug)]
pub struct BodyTimeout(pub std::time::Duration);

/// A JSON body, decoded strictly (unknown fields are refused by the types)
/// and validated. Wrong media type: 415; too large: 413; malformed: 400
/// naming the field; rule broken: 400 with one entry per field.
///
/// The outcome is kept until the handler asks for it with `into_inner`,
/// after authentication and authorization: a caller who may not use an
/// operation learns nothing about its input rules.
#[derive(Debug)]
pub struct ApiJson<T>(Result<T, ApiError>);

impl<T> ApiJson<T> {
    /// The decoded body, or why it is refused.
    pub fn into_inner(self) -> Result<T, ApiError> {
        self.0
    }
}

impl<T> FromRequest for ApiJson<T>
where
    T: DeserializeOwned + Validate + 'static,
{
    type Error = ApiError;
    type Future = LocalBoxFuture<'static, Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let decoding = decode_body::<T>(req, payload);
        Box::pin(async move { Ok(Self(decoding.await)) })
    }
}

fn decode_body<T>(
    req: &HttpRequest,
    payload: &mut Payload,
) -> LocalBoxFuture<'static, Result<T, ApiError>>
where
    T: DeserializeOwned + Validate + 'static,
{
    {
        let limit = req
            .app_data::<BodyLimit>()
            .copied()
            .unwrap_or(BodyLimit(64 * 1024));
        let is_json = matches!(req.mime_type(), Ok(Some(mime))
            if mime.subtype() == "json" || mime.suffix().is_some_and(|s| s == "json"));
        let timeout = req
            .app_data::<BodyTimeout>()
            .copied()
            .unwrap_or(BodyTimeout(std::time::Duration::from_secs(10)));
        let body = web::Bytes::from_request(req, payload);
        Box::pin(async move {
            if !is_json {
                return Err(ApiError::unsupported_media_type());
            }
            let body = actix_web::rt::time::timeout(timeout.0, body)
                .await
                .map_err(|_| ApiError::request_timeout())?;
            let bytes = body.map_err(|e| {
                if e.as_response_error().status_code() == StatusCode::PAYLOAD_TOO_LARGE {
                    ApiError::payload_too_large(limit.0)
                } else {
                    ApiError::malformed_body("the request body could not be read")
                }
            })?;
            if bytes.len() > limit.0 {
                return Err(ApiError::payload_too_large(limit.0));
            }
            let value = decode_json::<T>(&bytes)?;
            value
                .validate()
                .map_err(|e| ApiError::invalid_input(field_errors(&e)))?;
            Ok(value)
        })
    }
}

/// Decodes JSON, naming the path of the first offending field.
pub fn decode_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    let mut deserializer = serde_json::Deserializer::from_slice(bytes);
    // serde_json refuses nesting beyond 128 levels by itself.
    let value = serde_path_to_error::deserialize(&mut deserializer).map_err(|e| json_error(&e))?;
    deserializer.end().map_err(|e| {
        ApiError::malformed_body(format!("trailing data after the JSON value: {e}"))
    })?;
    Ok(value)
}

fn json_error(error: &serde_path_to_error::Error<serde_json::Error>) -> ApiError {
    let inner = error.inner();
    match inner.classify() {
        serde_json::error::Category::Data => {
            let field = error.path().to_string();
            let message = inner.to_string();
            let code = if message.starts_with("unknown field") {
                "unknown"
            } else if message.starts_with("missing field") {
                "required"
            } else {
                "invalid"
            };
            let field = if field == "." {
                message
                    .strip_prefix("missing field `")
                    .or_else(|| message.strip_prefix("unknown field `"))
                    .and_then(|rest| rest.split('`').next())
                    .unwrap_or("body")
                    .to_owned()
            } else {
                field
            };
            ApiError::invalid_field(&field, code, strip_position(&message))
        }
        serde_json::error::Category::Syntax | serde_json::error::Category::Eof => {
            ApiError::malformed_body(format!("the body is not valid JSON: {inner}"))
        }
        serde_json::error::Category::Io => {
            ApiError::malformed_body("the request body could not be read")
        }
    }
}

fn strip_position(message: &str) -> String {
    match message.rfind(" at line ") {
        Some(at) => message.get(..at).unwrap_or(message).to_owned(),
        None => message.to_owned(),
    }
}

/// Query parameters, decoded strictly and validated; errors name the
/// parameter. Like `ApiJson`, the outcome waits for `into_inner`.
#[derive(Debug)]
pub struct ApiQuery<T>(Result<T, ApiError>);

impl<T> ApiQuery<T> {
    /// The decoded parameters, or why they are refused.
    pub fn into_inner(self) -> Result<T, ApiError> {
        self.0
    }
}

impl<T> FromRequest for ApiQuery<T>
where
    T: DeserializeOwned + Validate + 'static,
{
    type Error = ApiError;
    type Future = std::future::Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        std::future::ready(Ok(Self(decode_query(req.query_string()))))
    }
}

/// Decodes and validates a query string.
pub fn decode_query<T: DeserializeOwned + Validate>(query: &str) -> Result<T, ApiError> {
    let deserializer =
        serde_urlencoded::Deserializer::new(form_urlencoded::parse(query.as_bytes()));
    let value: T = serde_path_to_error::deserialize(deserializer).map_err(|e| {
        let message = e.inner().to_string();
        let field = match e.path().to_string() {
            path if path != "." => path,
            _ => message
                .strip_prefix("unknown field `")
                .or_else(|| message.strip_prefix("missing field `"))
                .or_else(|| message.strip_prefix("duplicate field `"))
                .and_then(|rest| rest.split('`').next())
                .unwrap_or("query")
                .to_owned(),
        };
        let code = if message.starts_with("unknown field") {
            "unknown"
        } else {
            "invalid"
        };
        ApiError::invalid_field(&field, code, message)
    })?;
    value
        .validate()
        .map_err(|e| ApiError::invalid_input(field_errors(&e)))?;
    Ok(value)
}

/// Flattens validator's nested errors into one entry per field, sorted.
pub fn field_errors(errors: &ValidationErrors) -> Vec<FieldError> {
    let mut out = Vec::new();
    flatten(errors, "", &mut out);
    out.sort_by(|a, b| a.field.cmp(&b.field));
    out
}

fn flatten(errors: &ValidationErrors, prefix: &str, out: &mut Vec<FieldError>) {
    for (field, kind) in errors.errors() {
        let path = if prefix.is_empty() {
            field.to_string()
        } else {
            format!("{prefix}.{field}")
        };
        match kind {
            ValidationErrorsKind::Field(list) => {
                for error in list {
                    let message = error.message.clone().unwrap_or_else(|| {
                        Cow::Owned(format!("{path} is invalid ({})", error.code))
                    });
                    out.push(FieldError::new(path.clone(), error.code.clone(), message));
                }
            }
            ValidationErrorsKind::Struct(inner) => flatten(inner, &path, out),
            ValidationErrorsKind::List(items) => {
                for (index, inner) in items {
                    flatten(inner, &format!("{path}[{index}]"), out);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;

    #[derive(Debug, Deserialize, Validate)]
    #[serde(deny_unknown_fields)]
    struct Body {
        #[validate(length(min = 1, max = 5, message = "name must have 1 to 5 characters"))]
        name: String,
        #[validate(range(min = 1, max = 10, message = "count must be from 1 to 10"))]
        count: u32,
        #[validate(nested)]
        inner: Option<Inner>,
    }

    #[derive(Debug, Deserialize, Validate)]
    #[serde(deny_unknown_fields)]
    struct Inner {
        #[validate(length(max = 2, message = "code is 2 characters at most"))]
        code: String,
    }

    fn problem(result: Result<Body, ApiError>) -> crate::problem::Problem {
        match result {
            Ok(body) => panic!("expected an error, got {body:?}"),
            Err(e) => e.problem(),
        }
    }

    fn json(input: &str) -> Result<Body, ApiError> {
        decode_json::<Body>(input.as_bytes()).and_then(|b: Body| {
            b.validate()
                .map_err(|e| ApiError::invalid_input(field_errors(&e)))?;
            Ok(b)
        })
    }

    #[test]
    fn malformed_json_is_a_malformed_body() {
        let p = problem(json("{\"name\": "));
        assert_eq!(p.status, 400);
        assert_eq!(p.problem_type, "urn:adosexo:problem:malformed-body");
    }

    #[test]
    fn wrong_type_names_the_field() {
        let p = problem(json(r#"{"name": "a", "count": "many"}"#));
        assert_eq!(p.problem_type, "urn:adosexo:problem:invalid-input");
        assert_eq!(p.errors.first().map(|e| e.field.as_str()), Some("count"));
    }

    #[test]
    fn unknown_and_missing_fields_are_named() {
        let p = problem(json(r#"{"name": "a", "count": 1, "colour": "red"}"#));
        assert_eq!(
            p.errors
                .first()
                .map(|e| (e.field.as_str(), e.code.as_str())),
            Some(("colour", "unknown"))
        );
        let p = problem(json(r#"{"name": "a"}"#));
        assert_eq!(
            p.errors
                .first()
                .map(|e| (e.field.as_str(), e.code.as_str())),
            Some(("count", "required"))
        );
        let p = problem(json(r#"{"name": "a", "count": 1, "inner": {"code": 1}}"#));
        assert_eq!(
            p.errors.first().map(|e| e.field.as_str()),
            Some("inner.code")
        );
    }

    #[test]
    fn every_rule_broken_gets_one_entry() {
        let p = problem(json(
            r#"{"name": "toolong", "count": 11, "inner": {"code": "abc"}}"#,
        ));
        let fields: Vec<_> = p
            .errors
            .iter()
            .map(|e| (e.field.as_str(), e.code.as_str()))
            .collect();
        assert_eq!(
            fields,
            [
                ("count", "range"),
                ("inner.code", "length"),
                ("name", "length")
            ]
        );
        assert_eq!(
            p.errors.first().map(|e| e.message.as_str()),
            Some("count must be from 1 to 10")
        );
    }

    #[test]
    fn deep_nesting_is_refused_not_a_crash() {
        let deep = format!("{}{}", "[".repeat(10_000), "]".repeat(10_000));
        let p = problem(json(&deep));
        assert_eq!(p.status, 400);
    }

    #[test]
    fn trailing_garbage_is_refused() {
        let p = problem(json(r#"{"name": "a", "count": 1} x"#));
        assert_eq!(p.problem_type, "urn:adosexo:problem:malformed-body");
    }

    #[derive(Debug, Deserialize, Validate)]
    #[serde(deny_unknown_fields)]
    struct Query {
        #[validate(range(min = 1, max = 200, message = "limit must be from 1 to 200"))]
        limit: Option<u32>,
        cursor: Option<String>,
    }

    #[test]
    fn query_errors_name_the_parameter() {
        let e = decode_query::<Query>("limit=abc")
            .err()
            .map(|e| e.problem());
        assert_eq!(
            e.as_ref()
                .and_then(|p| p.errors.first())
                .map(|e| e.field.as_str()),
            Some("limit")
        );
        let e = decode_query::<Query>("limit=0").err().map(|e| e.problem());
        assert_eq!(
            e.as_ref()
                .and_then(|p| p.errors.first())
                .map(|e| (e.field.as_str(), e.code.as_str())),
            Some(("limit", "range"))
        );
        let e = decode_query::<Query>("limt=5").err().map(|e| e.problem());
        assert_eq!(
            e.as_ref()
                .and_then(|p| p.errors.first())
                .map(|e| (e.field.as_str(), e.code.as_str())),
            Some(("limt", "unknown"))
        );
        let ok = decode_query::<Query>("limit=5&cursor=75").ok();
        assert_eq!(ok.as_ref().and_then(|q| q.limit), Some(5));
        assert_eq!(ok.and_then(|q| q.cursor).as_deref(), Some("75"));
    }
}

#[cfg(test)]
mod http_tests {
    use super::*;
    use actix_web::{App, HttpResponse, test};
    use serde::Deserialize;

    #[derive(Debug, Deserialize, Validate)]
    #[serde(deny_unknown_fields)]
    struct Note {
        #[validate(length(min = 1, message = "text must not be empty"))]
        text: String,
    }

    async fn echo(note: ApiJson<Note>) -> Result<HttpResponse, ApiError> {
        Ok(HttpResponse::Ok().body(note.into_inner()?.text))
    }

    async fn call(content_type: &str, body: Vec<u8>) -> (u16, String, serde_json::Value) {
        let app = test::init_service(
            App::new()
                .app_data(BodyLimit(1024))
                .app_data(web::PayloadConfig::new(1024))
                .route("/", web::post().to(echo)),
        )
        .await;
        let req = test::TestRequest::post()
            .uri("/")
            .insert_header(("content-type", content_type))
            .set_payload(body)
            .to_request();
        let res = test::call_service(&app, req).await;
        let status = res.status().as_u16();
        let ct = res
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned();
        let body = test::read_body(res).await;
        (
            status,
            ct,
            serde_json::from_slice(&body).unwrap_or(serde_json::Value::Null),
        )
    }

    #[actix_web::test]
    async fn json_bodies_fail_as_problems() {
        let (status, ct, _) = call("application/json", br#"{"text":"hello"}"#.to_vec()).await;
        assert_eq!((status, ct.as_str()), (200, ""));

        let (status, ct, p) = call("text/plain", br#"{"text":"hello"}"#.to_vec()).await;
        assert_eq!((status, ct.as_str()), (415, "application/problem+json"));
        assert_eq!(p["type"], "urn:adosexo:problem:unsupported-media-type");

        let big = format!(r#"{{"text":"{}"}}"#, "a".repeat(2000));
        let (status, _, p) = call("application/json", big.into_bytes()).await;
        assert_eq!(status, 413);
        assert_eq!(p["type"], "urn:adosexo:problem:payload-too-large");

        let (status, _, p) = call("application/json", b"{\"text\": ".to_vec()).await;
        assert_eq!(status, 400);
        assert_eq!(p["type"], "urn:adosexo:problem:malformed-body");

        let (status, _, p) = call("application/json", br#"{"text":""}"#.to_vec()).await;
        assert_eq!(status, 400);
        assert_eq!(p["errors"][0]["field"], "text");
        assert_eq!(p["errors"][0]["message"], "text must not be empty");

        let (status, _, p) = call("application/json", vec![b'"', 0xff, 0xfe, b'"']).await;
        assert_eq!(status, 400, "invalid UTF-8: {p}");

        let (status, _, _) =
            call("application/merge-patch+json", br#"{"text":"x"}"#.to_vec()).await;
        assert_eq!(status, 200, "+json media types are JSON");
    }
}

/// A required free text of a decoded body, trimmed; 422 `blank` naming
/// `field` when nothing but white space is left (the rule is the domain's:
/// [`adosexo_domain::text::meaningful`]).
pub fn text(field: &str, value: &str) -> Result<String, ApiError> {
    text_of_at_least(field, value, 1)
}

/// As [`text`], with at least `min` characters once trimmed.
pub fn text_of_at_least(field: &str, value: &str, min: usize) -> Result<String, ApiError> {
    adosexo_domain::text::meaningful(value, min)
        .map(str::to_owned)
        .map_err(|blank| ApiError::invalid_value(field, "blank", format!("{field} {blank}")))
}
