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
    let is_json = matches!(req.mime_type(), Ok(Some(mime))
        if mime.subtype() == "json" || mime.suffix().is_some_and(|s| s == "json"));
    if !is_json {
        return Box::pin(async { Err(ApiError::unsupported_media_type()) });
    }
    let body = read_body(req, payload);
    Box::pin(async move {
        let bytes = body.await?;
        refuse_unstorable_text(&bytes)?;
        let value = decode_json::<T>(&bytes)?;
        value
            .validate()
            .map_err(|e| ApiError::invalid_input(field_errors(&e)))?;
        Ok(value)
    })
}

/// The request body, within the body limit (413) and the client time-out
/// (408), whatever its media type.
pub fn read_body(
    req: &HttpRequest,
    payload: &mut Payload,
) -> LocalBoxFuture<'static, Result<web::Bytes, ApiError>> {
    let limit = req
        .app_data::<BodyLimit>()
        .copied()
        .unwrap_or(BodyLimit(64 * 1024));
    let timeout = req
        .app_data::<BodyTimeout>()
        .copied()
        .unwrap_or(BodyTimeout(std::time::Duration::from_secs(10)));
    let body = web::Bytes::from_request(req, payload);
    Box::pin(async move {
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
        Ok(bytes)
    })
}

/// Refuses a JSON body holding text no database here can store: the NUL
/// character (`\u0000`; PostgreSQL refuses it in text, SQLite would keep it
/// and cut strings at it elsewhere). The only way to write it in JSON is
/// the escape, so bodies without `\u0000` are passed over without parsing;
/// otherwise the first string or key holding it is named (400
/// `invalid-input`, code `characters`). Every JSON body goes through this
/// one rule, whatever its type.
pub fn refuse_unstorable_text(bytes: &[u8]) -> Result<(), ApiError> {
    if !bytes.windows(6).any(|w| w == b"\\u0000") {
        return Ok(());
    }
    // Possibly an escaped backslash followed by `u0000`: parse to be sure.
    let Ok(value) = serde_json::from_slice::<serde_json::Value>(bytes) else {
        return Ok(()); // the typed decoding names the syntax error
    };
    match path_to_unstorable(&value, String::new()) {
        Some(field) => Err(unstorable(&field)),
        None => Ok(()),
    }
}

/// Whether a text holds a character no database here can store.
pub fn is_unstorable(text: &str) -> bool {
    text.contains('\0')
}

fn unstorable(field: &str) -> ApiError {
    ApiError::invalid_field(
        field,
        "characters",
        format!("{field} contains the NUL character (U+0000), which cannot be stored"),
    )
}

fn path_to_unstorable(value: &serde_json::Value, path: String) -> Option<String> {
    match value {
        serde_json::Value::String(s) => is_unstorable(s).then_some(path),
        serde_json::Value::Array(items) => items
            .iter()
            .enumerate()
            .find_map(|(i, v)| path_to_unstorable(v, format!("{path}[{i}]"))),
        serde_json::Value::Object(map) => map.iter().find_map(|(key, v)| {
            // A key is named with its NUL written out (`\u0000`): an
            // answer never carries the character it refuses.
            let name = key.replace('\0', "\\u0000");
            let here = if path.is_empty() {
                name
            } else {
                format!("{path}.{name}")
            };
            if is_unstorable(key) {
                Some(here)
            } else {
                path_to_unstorable(v, here)
            }
        }),
        _ => None,
    }
    .map(|p| if p.is_empty() { "body".to_owned() } else { p })
}

/// Refuses a request whose path or query string holds a NUL character
/// (`%00`), naming `path` or the parameter: the same rule as for bodies,
/// once for every route (middleware).
pub async fn refuse_unstorable_url(
    req: actix_web::dev::ServiceRequest,
    next: actix_web::middleware::Next<impl actix_web::body::MessageBody + 'static>,
) -> Result<
    actix_web::dev::ServiceResponse<actix_web::body::EitherBody<impl actix_web::body::MessageBody>>,
    actix_web::Error,
> {
    if let Some(field) = unstorable_in_url(req.uri().path(), req.query_string()) {
        let response = actix_web::ResponseError::error_response(&unstorable(&field));
        return Ok(req.into_response(response).map_into_right_body());
    }
    next.call(req)
        .await
        .map(actix_web::dev::ServiceResponse::map_into_left_body)
}

/// The part of a URL holding a NUL character: `path`, or the query parameter.
pub fn unstorable_in_url(path: &str, query: &str) -> Option<String> {
    let encoded_nul = |s: &str| {
        s.as_bytes()
            .windows(3)
            .any(|w| w.eq_ignore_ascii_case(b"%00"))
    };
    if encoded_nul(path) {
        return Some("path".to_owned());
    }
    if !encoded_nul(query) {
        return None;
    }
    form_urlencoded::parse(query.as_bytes())
        .find(|(k, v)| is_unstorable(k) || is_unstorable(v))
        .map(|(k, _)| {
            if is_unstorable(&k) || k.is_empty() {
                "query".to_owned()
            } else {
                k.into_owned()
            }
        })
}

/// Decodes JSON, naming the path of the first offending field.
pub fn decode_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    let mut deserializer = serde_json::Deserializer::from_slice(bytes);
    // serde_json refuses nesting beyond 128 levels by itself.
    let value =
        serde_path_to_error::deserialize(&mut deserializer).map_err(|e| json_error(&e, bytes))?;
    deserializer.end().map_err(|e| {
        ApiError::malformed_body(format!("trailing data after the JSON value: {e}"))
    })?;
    Ok(value)
}

fn json_error(error: &serde_path_to_error::Error<serde_json::Error>, bytes: &[u8]) -> ApiError {
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
            let message = strip_position(&message);
            let message = time_hint(&message, || string_at(bytes, error.path())).unwrap_or(message);
            ApiError::invalid_field(&field, code, message)
        }
        serde_json::error::Category::Syntax | serde_json::error::Category::Eof => {
            ApiError::malformed_body(format!("the body is not valid JSON: {inner}"))
        }
        serde_json::error::Category::Io => {
            ApiError::malformed_body("the request body could not be read")
        }
    }
}

/// chrono's parse errors ("premature end of input") say what is wrong with
/// a date or date-time, not what is expected: this says it, from the value
/// sent when it can be found.
fn time_hint(message: &str, value: impl FnOnce() -> Option<String>) -> Option<String> {
    const CHRONO: [&str; 7] = [
        "input is out of range",
        "no possible date and time matching input",
        "input is not enough for unique date and time",
        "input contains invalid characters",
        "premature end of input",
        "trailing input",
        "bad or unsupported format string",
    ];
    if !CHRONO.contains(&message) {
        return None;
    }
    let value = value().unwrap_or_default();
    let bytes = value.as_bytes();
    let digits = |range: std::ops::Range<usize>| {
        bytes
            .get(range)
            .is_some_and(|b| b.iter().all(u8::is_ascii_digit))
    };
    let is_date = bytes.len() >= 10
        && digits(0..4)
        && bytes.get(4) == Some(&b'-')
        && digits(5..7)
        && bytes.get(7) == Some(&b'-')
        && digits(8..10);
    let rest = value.get(10..).unwrap_or_default();
    let local_time = rest.len() >= 6
        && (rest.starts_with('T') || rest.starts_with('t') || rest.starts_with(' '))
        && rest.get(1..).is_some_and(|t| {
            t.chars()
                .all(|c| c.is_ascii_digit() || c == ':' || c == '.')
        });
    const FORM: &str = "a date-time is RFC 3339 with an offset, as in \
                        2027-03-28T02:30:00+01:00 or 2027-03-28T01:30:00Z; a date is 2027-03-28";
    Some(if is_date && local_time {
        format!("an offset (or Z) is required: {FORM}")
    } else if is_date && rest.is_empty() && message == "input is out of range" {
        format!("no such date: {FORM}")
    } else {
        format!("{message}: {FORM}")
    })
}

/// The string at `path` in a JSON body, if there is one.
fn string_at(bytes: &[u8], path: &serde_path_to_error::Path) -> Option<String> {
    use serde_path_to_error::Segment;
    let mut value: serde_json::Value = serde_json::from_slice(bytes).ok()?;
    for segment in path.iter() {
        value = match segment {
            Segment::Seq { index } => value.get_mut(*index)?.take(),
            Segment::Map { key } => value.get_mut(key.as_str())?.take(),
            Segment::Enum { .. } | Segment::Unknown => return None,
        };
    }
    value.as_str().map(str::to_owned)
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
        let message = time_hint(&message, || {
            form_urlencoded::parse(query.as_bytes())
                .find(|(key, _)| *key == field)
                .map(|(_, value)| value.into_owned())
        })
        .unwrap_or(message);
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
mod unstorable_tests {
    use super::*;
    use proptest::prelude::*;
    use serde_json::{Value, json};

    fn field_of(bytes: &[u8]) -> Option<String> {
        refuse_unstorable_text(bytes).err().map(|e| {
            let p = e.problem();
            assert_eq!(
                (p.status, p.problem_type.as_str()),
                (400, "urn:adosexo:problem:invalid-input")
            );
            let error = p.errors.first().cloned().expect("one field named");
            assert_eq!(error.code, "characters");
            assert!(
                !error.field.contains('\0') && !error.message.contains('\0'),
                "the answer repeats the NUL: {error:?}"
            );
            error.field
        })
    }

    #[test]
    fn nul_in_a_value_or_key_is_named() {
        assert_eq!(
            field_of(br#"{"person":{"first_name":"A\u0000B"}}"#).as_deref(),
            Some("person.first_name")
        );
        assert_eq!(
            field_of(br#"{"names":["ok","\u0000"]}"#).as_deref(),
            Some("names[1]")
        );
        // The key's NUL is written out: the answer holds no NUL itself.
        assert_eq!(field_of(br#"{"a\u0000":1}"#).as_deref(), Some("a\\u0000"));
        assert_eq!(field_of(br#""\u0000""#).as_deref(), Some("body"));
    }

    #[test]
    fn an_escaped_backslash_before_u0000_is_text_not_nul() {
        assert_eq!(field_of(br#"{"name":"C:\\u0000"}"#), None);
        assert_eq!(field_of(br#"{"name":"plain"}"#), None);
    }

    #[test]
    fn urls_with_nul_name_the_part() {
        assert_eq!(
            unstorable_in_url("/api/v1/people/a%00b", "").as_deref(),
            Some("path")
        );
        assert_eq!(
            unstorable_in_url("/api/v1/directory", "q=a%00&limit=2").as_deref(),
            Some("q")
        );
        assert_eq!(
            unstorable_in_url("/api/v1/directory", "q=%2500").as_deref(),
            None
        );
        assert_eq!(
            unstorable_in_url("/api/v1/directory", "q=ok").as_deref(),
            None
        );
    }

    fn json_tree() -> impl Strategy<Value = Value> {
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::Bool),
            any::<i64>().prop_map(|n| json!(n)),
            "[^\\x00]{0,8}".prop_map(Value::String),
        ];
        leaf.prop_recursive(4, 32, 4, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
                prop::collection::btree_map("[a-z_]{1,6}", inner, 0..4)
                    .prop_map(|m| Value::Object(m.into_iter().collect())),
            ]
        })
    }

    /// Every string of a tree, with its path.
    fn strings(value: &Value, path: String, out: &mut Vec<String>) {
        match value {
            Value::String(_) => out.push(if path.is_empty() { "body".into() } else { path }),
            Value::Array(items) => {
                for (i, v) in items.iter().enumerate() {
                    strings(v, format!("{path}[{i}]"), out);
                }
            }
            Value::Object(map) => {
                for (k, v) in map {
                    strings(
                        v,
                        if path.is_empty() {
                            k.clone()
                        } else {
                            format!("{path}.{k}")
                        },
                        out,
                    );
                }
            }
            _ => {}
        }
    }

    fn put_nul(value: &mut Value, target: usize, seen: &mut usize) {
        match value {
            Value::String(s) => {
                if *seen == target {
                    s.insert(0, '\0');
                }
                *seen += 1;
            }
            Value::Array(items) => items.iter_mut().for_each(|v| put_nul(v, target, seen)),
            Value::Object(map) => map.values_mut().for_each(|v| put_nul(v, target, seen)),
            _ => {}
        }
    }

    proptest! {
        /// Any body without NUL passes; the same body with a NUL put in any
        /// one of its strings is refused naming exactly that string's path.
        #[test]
        fn the_string_holding_nul_is_named(tree in json_tree(), pick in any::<prop::sample::Index>()) {
            let clean = serde_json::to_vec(&tree).expect("json");
            prop_assert_eq!(field_of(&clean), None);
            let mut paths = Vec::new();
            strings(&tree, String::new(), &mut paths);
            prop_assume!(!paths.is_empty());
            let target = pick.index(paths.len());
            let mut dirty = tree.clone();
            put_nul(&mut dirty, target, &mut 0);
            let bytes = serde_json::to_vec(&dirty).expect("json");
            prop_assert_eq!(field_of(&bytes), Some(paths[target].clone()));
        }
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
