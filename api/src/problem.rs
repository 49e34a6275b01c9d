//! One error policy: every error leaves as RFC 9457 problem details
//! (`application/problem+json`). A 500 says nothing of its cause to the
//! client and logs it once, with the request id.

use std::fmt;

use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpResponse, ResponseError};
use adosexo_persistence::PersistenceError;
use serde::Serialize;
use utoipa::{ToResponse, ToSchema};

use crate::i18n::{self, Lang, catalogue};
use crate::request_id;

/// Media type of problem details.
pub const PROBLEM_JSON: &str = "application/problem+json";

/// Every problem `type` is this prefix followed by a stable kebab-case tag
/// (`urn:adosexo:problem:not-found`); the list is in `openapi/README.md`.
pub const PROBLEM_TYPE_PREFIX: &str = "urn:adosexo:problem:";

/// RFC 9457 problem details.
#[derive(Clone, Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "type": "urn:adosexo:problem:invalid-input",
    "title": "Invalid input",
    "status": 400,
    "detail": "1 field is invalid",
    "instance": "0193a5c4-1f2e-7d3a-9b1c-2f4e5a6b7c8d",
    "errors": [{"field": "limit", "code": "range", "message": "limit must be from 1 to 200"}]
}))]
pub struct Problem {
    /// Stable identifier of the kind of problem: `urn:adosexo:problem:` + a tag.
    #[serde(rename = "type")]
    pub problem_type: String,
    /// Short summary of the kind of problem.
    pub title: String,
    /// The HTTP status code.
    pub status: u16,
    /// What went wrong in this occurrence, for humans.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
    /// The request id (also in the `X-Request-Id` response header).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub instance: Option<String>,
    /// One entry per invalid field or parameter.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<FieldError>,
    /// With `staff-double-booked`: what the staff member is already booked
    /// for, present only when the caller may read it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub conflicting: Option<ConflictingBooking>,
    /// The OAuth 2.0 error code (RFC 6749 §5.2, RFC 7009 §2.2.1): given by
    /// the token and revocation endpoints only, for OAuth client libraries.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(example = "invalid_grant")]
    pub error: Option<String>,
    /// With `error`: `detail` in the characters RFC 6749 §5.2 allows.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error_description: Option<String>,
}

/// The appointment or group session a request collides with.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, ToSchema)]
pub struct ConflictingBooking {
    /// `appointment` or `group_session`.
    #[schema(pattern = "^(appointment|group_session)$", example = "appointment")]
    pub kind: String,
    /// Its id (`GET /api/v1/appointments/{id}` or `/api/v1/group-sessions/{id}`).
    #[schema(example = "0193a5c4-1f2e-7d3a-9b1c-2f4e5a6b7c8d")]
    pub id: String,
    /// When the staff member's booking for it starts.
    pub starts_at: chrono::DateTime<chrono::Utc>,
    /// When it ends.
    pub ends_at: chrono::DateTime<chrono::Utc>,
}

/// One invalid field of a request.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, ToSchema)]
pub struct FieldError {
    /// The field or parameter, as a path (`limit`, `address.postcode`, `items[2]`).
    pub field: String,
    /// A stable code for the rule (`required`, `range`, `length`, `format`, `invalid`, `unknown`).
    pub code: String,
    /// What is wrong, for humans.
    pub message: String,
}

impl FieldError {
    /// A field error.
    pub fn new(
        field: impl Into<String>,
        code: impl Into<String>,
        message: impl Into<String>,
    ) -> Self {
        Self {
            field: field.into(),
            code: code.into(),
            message: message.into(),
        }
    }
}

/// An error on its way to becoming a problem response (boxed: it travels
/// in every handler's `Result`).
#[derive(Debug)]
pub struct ApiError(Box<Details>);

#[derive(Debug)]
struct Details {
    status: StatusCode,
    kind: &'static str,
    title: &'static str,
    detail: Option<String>,
    errors: Vec<FieldError>,
    headers: Vec<(header::HeaderName, String)>,
    conflicting: Option<ConflictingBooking>,
    /// The OAuth 2.0 error code, on the token and revocation endpoints.
    oauth: Option<&'static str>,
    /// Logged (once), never sent.
    cause: Option<String>,
}

impl ApiError {
    fn new(status: StatusCode, kind: &'static str, title: &'static str) -> Self {
        Self(Box::new(Details {
            status,
            kind,
            title,
            detail: None,
            errors: Vec::new(),
            headers: Vec::new(),
            conflicting: None,
            oauth: None,
            cause: None,
        }))
    }

    /// Adds the OAuth 2.0 error code (`invalid_request`, `invalid_client`,
    /// `invalid_grant`, …) that OAuth client libraries read.
    #[must_use]
    pub fn with_oauth(mut self, code: &'static str) -> Self {
        self.0.oauth = Some(code);
        self
    }

    /// The OAuth 2.0 error code, if one was given.
    pub fn oauth(&self) -> Option<&'static str> {
        self.0.oauth
    }

    /// The same problem with another status (the OAuth 2.0 form of the
    /// token endpoint answers 400 where the JSON form answers 401).
    #[must_use]
    pub fn with_status(mut self, status: StatusCode) -> Self {
        self.0.status = status;
        self
    }

    /// Sets a response header, replacing one of the same name.
    #[must_use]
    pub fn with_header(mut self, name: header::HeaderName, value: impl Into<String>) -> Self {
        self.0.headers.retain(|(n, _)| *n != name);
        self.0.headers.push((name, value.into()));
        self
    }

    /// Removes a response header.
    #[must_use]
    pub fn without_header(mut self, name: &header::HeaderName) -> Self {
        self.0.headers.retain(|(n, _)| n != name);
        self
    }

    /// Adds a human explanation.
    #[must_use]
    pub fn with_detail(mut self, detail: impl Into<String>) -> Self {
        self.0.detail = Some(detail.into());
        self
    }

    /// Names what a 409 collides with (see [`ConflictingBooking`]).
    #[must_use]
    pub fn with_conflicting(mut self, conflicting: Option<ConflictingBooking>) -> Self {
        self.0.conflicting = conflicting;
        self
    }

    /// 400: malformed input, one entry per field.
    pub fn invalid_input(errors: Vec<FieldError>) -> Self {
        let detail = match errors.len() {
            1 => "1 field is invalid".to_owned(),
            n => format!("{n} fields are invalid"),
        };
        let mut error = Self::new(StatusCode::BAD_REQUEST, "invalid-input", "Invalid input")
            .with_detail(detail);
        error.0.errors = errors;
        error
    }

    /// 400: a single malformed field or parameter.
    pub fn invalid_field(field: &str, code: &str, message: impl Into<String>) -> Self {
        Self::invalid_input(vec![FieldError::new(field, code, message)])
    }

    /// 422: a field that has the right shape but a value the rules refuse
    /// (a date in the future, an end before its start).
    pub fn invalid_value(field: &str, code: &str, message: impl Into<String>) -> Self {
        let mut error = Self::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid-value",
            "Invalid value",
        )
        .with_detail("a field's value is not acceptable");
        error.0.errors = vec![FieldError::new(field, code, message)];
        error
    }

    /// 400: a body that is not the JSON expected.
    pub fn malformed_body(detail: impl Into<String>) -> Self {
        Self::new(
            StatusCode::BAD_REQUEST,
            "malformed-body",
            "Malformed request body",
        )
        .with_detail(detail)
    }

    /// 410: what the request refers to existed and was deleted since.
    pub fn gone(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::GONE, "gone", "Gone").with_detail(detail)
    }

    /// 404: no such resource, or one the caller may not know exists.
    pub fn not_found(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, "not-found", "Not found").with_detail(detail)
    }

    /// 405 with the methods the resource has.
    pub fn method_not_allowed(allow: String) -> Self {
        let mut error = Self::new(
            StatusCode::METHOD_NOT_ALLOWED,
            "method-not-allowed",
            "Method not allowed",
        )
        .with_detail(format!("this resource answers {allow}"));
        error.0.headers.push((header::ALLOW, allow));
        error
    }

    /// 401: no valid credentials; `WWW-Authenticate: Bearer`.
    pub fn unauthorized(detail: impl Into<String>) -> Self {
        let mut error =
            Self::new(StatusCode::UNAUTHORIZED, "unauthorized", "Unauthorized").with_detail(detail);
        error.0.headers.push((
            header::WWW_AUTHENTICATE,
            "Bearer realm=\"adosexo\"".to_owned(),
        ));
        error
    }

    /// 401 of a named kind (e.g. `totp-required`).
    pub fn unauthorized_kind(
        kind: &'static str,
        title: &'static str,
        detail: impl Into<String>,
    ) -> Self {
        let mut error = Self::new(StatusCode::UNAUTHORIZED, kind, title).with_detail(detail);
        error.0.headers.push((
            header::WWW_AUTHENTICATE,
            "Bearer realm=\"adosexo\"".to_owned(),
        ));
        error
    }

    /// 401 from the token endpoint: wrong identifier, password, code or
    /// secret — never which.
    pub fn invalid_credentials() -> Self {
        Self::new(
            StatusCode::UNAUTHORIZED,
            "invalid-credentials",
            "Invalid credentials",
        )
        .with_detail("the credentials are not valid")
    }

    /// 403: the caller's roles do not include this function.
    pub fn forbidden() -> Self {
        Self::new(StatusCode::FORBIDDEN, "forbidden", "Forbidden")
            .with_detail("your role does not allow this operation")
    }

    /// 409: the request conflicts with the current state.
    pub fn conflict(kind: &'static str, title: &'static str, detail: impl Into<String>) -> Self {
        Self::new(StatusCode::CONFLICT, kind, title).with_detail(detail)
    }

    /// 412: `If-Match` names a version that is no longer current.
    pub fn precondition_failed() -> Self {
        Self::new(
            StatusCode::PRECONDITION_FAILED,
            "precondition-failed",
            "Precondition failed",
        )
        .with_detail(
            "the resource changed since you read it; read it again and retry with its new ETag",
        )
    }

    /// 428: the change needs `If-Match`.
    pub fn precondition_required() -> Self {
        Self::new(
            StatusCode::PRECONDITION_REQUIRED,
            "precondition-required",
            "Precondition required",
        )
        .with_detail("send If-Match with the ETag of the version you read")
    }

    /// 422: a rule of the domain refuses the request; `kind` names the rule.
    pub fn rule(kind: &'static str, title: &'static str, detail: impl Into<String>) -> Self {
        Self::new(StatusCode::UNPROCESSABLE_ENTITY, kind, title).with_detail(detail)
    }

    /// 429 with `Retry-After`.
    pub fn too_many_requests(retry_after_secs: u64, detail: impl Into<String>) -> Self {
        let mut error = Self::new(
            StatusCode::TOO_MANY_REQUESTS,
            "too-many-requests",
            "Too many requests",
        )
        .with_detail(detail);
        error
            .0
            .headers
            .push((header::RETRY_AFTER, retry_after_secs.max(1).to_string()));
        error
    }

    /// 413: the body is larger than the configured limit.
    pub fn payload_too_large(limit: usize) -> Self {
        Self::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "payload-too-large",
            "Request body too large",
        )
        .with_detail(format!("request bodies are limited to {limit} bytes"))
    }

    /// 408: the client did not send its body within the client time-out.
    pub fn request_timeout() -> Self {
        Self::new(
            StatusCode::REQUEST_TIMEOUT,
            "request-timeout",
            "Request timeout",
        )
        .with_detail("the request body did not arrive in time")
    }

    /// 415: the body is not `application/json`.
    pub fn unsupported_media_type() -> Self {
        Self::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported-media-type",
            "Unsupported media type",
        )
        .with_detail("send the body as application/json")
    }

    /// 503: the database cannot be reached; retry later.
    pub fn unavailable(cause: impl Into<String>) -> Self {
        let mut error = Self::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "service-unavailable",
            "Service unavailable",
        )
        .with_detail("the service cannot reach its database; retry later");
        error.0.cause = Some(cause.into());
        error
    }

    /// 500: a bug. The cause is logged, the client learns nothing of it.
    pub fn internal(cause: impl Into<String>) -> Self {
        let mut error = Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            "Internal server error",
        )
        .with_detail("the request could not be completed; quote the instance when reporting it");
        error.0.cause = Some(cause.into());
        error
    }

    /// A problem for a status produced outside our handlers (the framework,
    /// the documentation pages).
    pub fn from_status(status: StatusCode) -> Self {
        let (kind, title) = match status.as_u16() {
            400 => ("bad-request", "Bad request"),
            401 => ("unauthorized", "Unauthorized"),
            403 => ("forbidden", "Forbidden"),
            404 => ("not-found", "Not found"),
            405 => ("method-not-allowed", "Method not allowed"),
            406 => ("not-acceptable", "Not acceptable"),
            408 => ("request-timeout", "Request timeout"),
            409 => ("conflict", "Conflict"),
            412 => ("precondition-failed", "Precondition failed"),
            413 => ("payload-too-large", "Request body too large"),
            414 => ("uri-too-long", "URI too long"),
            415 => ("unsupported-media-type", "Unsupported media type"),
            422 => ("unprocessable", "Unprocessable content"),
            428 => ("precondition-required", "Precondition required"),
            429 => ("too-many-requests", "Too many requests"),
            431 => ("headers-too-large", "Request headers too large"),
            503 => ("service-unavailable", "Service unavailable"),
            s if s >= 500 => ("internal", "Internal server error"),
            _ => ("bad-request", "Bad request"),
        };
        let status = if status.is_client_error() || status.is_server_error() {
            status
        } else {
            StatusCode::INTERNAL_SERVER_ERROR
        };
        Self::new(status, kind, title)
    }

    /// The problem `type` tag (after the prefix).
    pub fn kind(&self) -> &'static str {
        self.0.kind
    }

    /// The body this error renders, in the language of the request being
    /// served (`i18n::current`; English outside a request).
    pub fn problem(&self) -> Problem {
        self.problem_in(i18n::current())
    }

    /// The body this error renders in `lang`: the title is the catalogue's
    /// for the type, `detail` and the field messages are translated where
    /// the catalogue knows them; `type`, `status`, field names and codes
    /// and the OAuth `error` code never change.
    pub fn problem_in(&self, lang: Lang) -> Problem {
        let details = &self.0;
        let title = catalogue::title(details.kind, lang).unwrap_or(details.title);
        let detail = details
            .detail
            .as_deref()
            .map(|d| catalogue::translate(d, lang).into_owned());
        let errors: Vec<FieldError> = details
            .errors
            .iter()
            .map(|e| FieldError {
                message: catalogue::translate(&e.message, lang).into_owned(),
                ..e.clone()
            })
            .collect();
        let error_description = details.oauth.map(|_| {
            // The invalid fields say more than the count in `detail`.
            let text = if errors.is_empty() {
                detail.clone().unwrap_or_default()
            } else {
                errors
                    .iter()
                    .map(|e| format!("{}: {}", e.field, e.message))
                    .collect::<Vec<_>>()
                    .join("; ")
            };
            oauth_description(&text)
        });
        Problem {
            problem_type: format!("{PROBLEM_TYPE_PREFIX}{}", details.kind),
            title: title.to_owned(),
            status: details.status.as_u16(),
            detail,
            instance: request_id::current(),
            errors,
            conflicting: details.conflicting.clone(),
            error: details.oauth.map(str::to_owned),
            error_description,
        }
    }
}

/// `detail` as an RFC 6749 §5.2 `error_description`: only the characters
/// %x20-21 / %x23-5B / %x5D-7E (printable ASCII but `"` and `\`); French
/// letters lose their accents (`é` → `e`), other characters are left out.
fn oauth_description(detail: &str) -> String {
    let mut out = String::with_capacity(detail.len());
    for c in detail.chars() {
        let plain = match c {
            'à' | 'â' | 'ä' => "a",
            'À' | 'Â' | 'Ä' => "A",
            'é' | 'è' | 'ê' | 'ë' => "e",
            'É' | 'È' | 'Ê' | 'Ë' => "E",
            'î' | 'ï' => "i",
            'Î' | 'Ï' => "I",
            'ô' | 'ö' => "o",
            'Ô' | 'Ö' => "O",
            'ù' | 'û' | 'ü' => "u",
            'Ù' | 'Û' | 'Ü' => "U",
            'ç' => "c",
            'Ç' => "C",
            'œ' => "oe",
            'Œ' => "OE",
            '’' => "'",
            '\u{a0}' | '\u{202f}' => " ",
            c if matches!(c, ' '..='~') && c != '"' && c != '\\' => {
                out.push(c);
                continue;
            }
            _ => continue,
        };
        out.push_str(plain);
    }
    out
}

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.0.title)
    }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        self.0.status
    }

    fn error_response(&self) -> HttpResponse {
        let details = &self.0;
        if let Some(cause) = details
            .cause
            .as_deref()
            .filter(|_| details.status.is_server_error())
        {
            tracing::error!(error.kind = details.kind, error.cause = %cause, "request failed");
        }
        let mut response = HttpResponse::build(details.status);
        response.insert_header((header::CONTENT_TYPE, HeaderValue::from_static(PROBLEM_JSON)));
        response.insert_header((header::CACHE_CONTROL, HeaderValue::from_static("no-store")));
        for (name, value) in &details.headers {
            if let Ok(value) = HeaderValue::from_str(value) {
                response.insert_header((name.clone(), value));
            }
        }
        match serde_json::to_vec(&self.problem()) {
            Ok(body) => response.body(body),
            Err(_) => response.finish(),
        }
    }
}

impl From<PersistenceError> for ApiError {
    fn from(error: PersistenceError) -> Self {
        match error {
            PersistenceError::Unavailable(cause) => Self::unavailable(cause),
            other => Self::internal(other.to_string()),
        }
    }
}

/// `400 Bad Request` in the OpenAPI document: refers to [`Problem`], with an
/// example of its own.
#[derive(Debug, ToResponse)]
#[response(
    description = "Malformed input: the problem names each invalid field or parameter",
    content_type = "application/problem+json",
    example = json!({
        "type": "urn:adosexo:problem:invalid-input",
        "title": "Invalid input",
        "status": 400,
        "detail": "1 field is invalid",
        "instance": "0193a5c4-1f2e-7d3a-9b1c-2f4e5a6b7c8d",
        "errors": [{"field": "limit", "code": "range", "message": "limit must be from 1 to 200"}]
    })
)]
pub struct BadRequest(pub Problem);

/// `404 Not Found` in the OpenAPI document: refers to [`Problem`], with an
/// example of its own.
#[derive(Debug, ToResponse)]
#[response(
    description = "No such resource, or one the caller may not see",
    content_type = "application/problem+json",
    example = json!({
        "type": "urn:adosexo:problem:not-found",
        "title": "Not found",
        "status": 404,
        "detail": "no referral with this id",
        "instance": "0193a5c4-1f2e-7d3a-9b1c-2f4e5a6b7c8d"
    })
)]
pub struct NotFound(pub Problem);

/// `410 Gone` in the OpenAPI document: refers to [`Problem`], with an
/// example of its own.
#[derive(Debug, ToResponse)]
#[response(
    description = "A retry with the `Idempotency-Key` of a resource deleted since",
    content_type = "application/problem+json",
    example = json!({
        "type": "urn:adosexo:problem:gone",
        "title": "Gone",
        "status": 410,
        "detail": "this Idempotency-Key created 0193a5c4-1f2e-7d3a-9b1c-2f4e5a6b7c8d, which was deleted since; use a new key to create another",
        "instance": "0193a5c4-1f2e-7d3a-9b1c-2f4e5a6b7c8e"
    })
)]
pub struct Gone(pub Problem);

/// `503 Service Unavailable` in the OpenAPI document: refers to [`Problem`], with an
/// example of its own.
#[derive(Debug, ToResponse)]
#[response(
    description = "The database cannot be reached; retry later",
    content_type = "application/problem+json",
    example = json!({
        "type": "urn:adosexo:problem:service-unavailable",
        "title": "Service unavailable",
        "status": 503,
        "detail": "the service cannot reach its database; retry later",
        "instance": "0193a5c4-1f2e-7d3a-9b1c-2f4e5a6b7c8d"
    })
)]
pub struct Unavailable(pub Problem);

/// `500 Internal Server Error`: refers to [`Problem`], with an example of
/// its own. Not in the document's components (no operation lists a 500, so
/// it would be an unused component); kept for operations that would.
#[derive(Debug, ToResponse)]
#[response(
    description = "A fault on the server; the body says nothing of its cause",
    content_type = "application/problem+json",
    example = json!({
        "type": "urn:adosexo:problem:internal",
        "title": "Internal server error",
        "status": 500,
        "detail": "the request could not be completed; quote the instance when reporting it",
        "instance": "0193a5c4-1f2e-7d3a-9b1c-2f4e5a6b7c8d"
    })
)]
pub struct Internal(pub Problem);

/// `401 Unauthorized` in the OpenAPI document: refers to [`Problem`], with an
/// example of its own.
#[derive(Debug, ToResponse)]
#[response(
    description = "No valid access token (missing, invalid, expired, revoked session or disabled account)",
    content_type = "application/problem+json",
    example = json!({
        "type": "urn:adosexo:problem:unauthorized",
        "title": "Unauthorized",
        "status": 401,
        "detail": "send an access token: Authorization: Bearer <token>",
        "instance": "0193a5c4-1f2e-7d3a-9b1c-2f4e5a6b7c8d"
    })
)]
pub struct Unauthorized(pub Problem);

/// `403 Forbidden` in the OpenAPI document: refers to [`Problem`], with an
/// example of its own.
#[derive(Debug, ToResponse)]
#[response(
    description = "The caller's role does not allow this operation",
    content_type = "application/problem+json",
    example = json!({
        "type": "urn:adosexo:problem:forbidden",
        "title": "Forbidden",
        "status": 403,
        "detail": "your role does not allow this operation",
        "instance": "0193a5c4-1f2e-7d3a-9b1c-2f4e5a6b7c8d"
    })
)]
pub struct Forbidden(pub Problem);

/// `409 Conflict` in the OpenAPI document: refers to [`Problem`], with an
/// example of its own.
#[derive(Debug, ToResponse)]
#[response(
    description = "The request conflicts with the current state (e.g. a duplicate)",
    content_type = "application/problem+json",
    example = json!({
        "type": "urn:adosexo:problem:idempotency-key-reused",
        "title": "Idempotency key reused",
        "status": 409,
        "detail": "this Idempotency-Key was used for another request; use a new key",
        "instance": "0193a5c4-1f2e-7d3a-9b1c-2f4e5a6b7c8d"
    })
)]
pub struct Conflict(pub Problem);

/// `412 Precondition Failed` in the OpenAPI document: refers to [`Problem`], with an
/// example of its own.
#[derive(Debug, ToResponse)]
#[response(
    description = "`If-Match` names a version that is no longer current: nothing changed",
    content_type = "application/problem+json",
    example = json!({
        "type": "urn:adosexo:problem:precondition-failed",
        "title": "Precondition failed",
        "status": 412,
        "detail": "the resource changed since you read it; read it again and retry with its new ETag",
        "instance": "0193a5c4-1f2e-7d3a-9b1c-2f4e5a6b7c8d"
    })
)]
pub struct PreconditionFailed(pub Problem);

/// `428 Precondition Required` in the OpenAPI document: refers to [`Problem`], with an
/// example of its own.
#[derive(Debug, ToResponse)]
#[response(
    description = "The change needs `If-Match` with the ETag read",
    content_type = "application/problem+json",
    example = json!({
        "type": "urn:adosexo:problem:precondition-required",
        "title": "Precondition required",
        "status": 428,
        "detail": "send If-Match with the ETag of the version you read",
        "instance": "0193a5c4-1f2e-7d3a-9b1c-2f4e5a6b7c8d"
    })
)]
pub struct PreconditionRequired(pub Problem);

/// `413 Payload Too Large` in the OpenAPI document: refers to [`Problem`], with an
/// example of its own.
#[derive(Debug, ToResponse)]
#[response(
    description = "The request body is larger than the limit",
    content_type = "application/problem+json",
    example = json!({
        "type": "urn:adosexo:problem:payload-too-large",
        "title": "Request body too large",
        "status": 413,
        "detail": "request bodies are limited to 65536 bytes",
        "instance": "0193a5c4-1f2e-7d3a-9b1c-2f4e5a6b7c8d"
    })
)]
pub struct PayloadTooLarge(pub Problem);

/// `415 Unsupported Media Type` in the OpenAPI document: refers to [`Problem`], with an
/// example of its own.
#[derive(Debug, ToResponse)]
#[response(
    description = "The body is not JSON",
    content_type = "application/problem+json",
    example = json!({
        "type": "urn:adosexo:problem:unsupported-media-type",
        "title": "Unsupported media type",
        "status": 415,
        "detail": "send the body as application/json",
        "instance": "0193a5c4-1f2e-7d3a-9b1c-2f4e5a6b7c8d"
    })
)]
pub struct UnsupportedMediaType(pub Problem);

/// `422 Unprocessable Content` in the OpenAPI document: refers to [`Problem`], with an
/// example of its own.
#[derive(Debug, ToResponse)]
#[response(
    description = "A rule refuses the request; `type` names the rule",
    content_type = "application/problem+json",
    example = json!({
        "type": "urn:adosexo:problem:unknown-departement",
        "title": "Unknown département",
        "status": 422,
        "detail": "no département has the code 99",
        "instance": "0193a5c4-1f2e-7d3a-9b1c-2f4e5a6b7c8d"
    })
)]
pub struct Unprocessable(pub Problem);

/// `429 Too Many Requests` in the OpenAPI document: refers to [`Problem`], with an
/// example of its own.
#[derive(Debug, ToResponse)]
#[response(
    description = "Too many attempts; retry after `Retry-After` seconds",
    content_type = "application/problem+json",
    example = json!({
        "type": "urn:adosexo:problem:too-many-requests",
        "title": "Too many requests",
        "status": 429,
        "detail": "too many failed attempts; wait before trying again",
        "instance": "0193a5c4-1f2e-7d3a-9b1c-2f4e5a6b7c8d"
    }),
    headers(("Retry-After" = u64, description = "Seconds to wait"))
)]
pub struct TooManyRequests(pub Problem);
