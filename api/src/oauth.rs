//! OAuth 2.0 as client libraries speak it: the form encoding of the token
//! endpoint's grants (RFC 6749 §4.3 password, §4.4 client credentials, §6
//! refresh), client authentication by `client_secret_basic` and
//! `client_secret_post` (§2.3.1), the error codes of §5.2, revocation
//! (RFC 7009) and the authorization server's metadata (RFC 8414).
//!
//! Nothing here logs: parameters hold passwords, secrets and tokens.

use std::collections::BTreeMap;

use actix_web::http::StatusCode;
use actix_web::http::header;
use actix_web::{HttpMessage, HttpRequest};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;

use crate::problem::ApiError;
use crate::wire::SecretString;

/// The media type of OAuth 2.0 requests.
pub const FORM: &str = "application/x-www-form-urlencoded";

/// The `WWW-Authenticate` challenge of a failed client authentication.
pub const BASIC_CHALLENGE: &str = "Basic realm=\"adosexo\"";

/// The longest parameter value read, in characters (a token, a password):
/// longer is a 400.
const MAX_VALUE: usize = 4096;

/// The longest client id (they are UUIDs).
const MAX_CLIENT_ID: usize = 64;

/// Whether the request's body is form-encoded.
pub fn is_form(req: &HttpRequest) -> bool {
    matches!(req.mime_type(), Ok(Some(mime))
        if mime.type_() == "application" && mime.subtype() == "x-www-form-urlencoded")
}

/// 400 `invalid_request`, naming the parameter.
pub fn invalid_request(parameter: &str, message: impl Into<String>) -> ApiError {
    ApiError::invalid_field(parameter, "invalid", message).with_oauth("invalid_request")
}

/// The parameters of a form body (RFC 6749 §3.2): each at most once, an
/// empty one as if omitted, unknown ones kept and ignored by the caller.
#[derive(Default)]
pub struct Params(BTreeMap<String, String>);

impl std::fmt::Debug for Params {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Names only: values are secrets.
        f.debug_set().entries(self.0.keys()).finish()
    }
}

impl Params {
    /// Parses a form body, keeping the parameters named in `known` (the
    /// others are ignored, RFC 6749 §3.2, whatever they hold); a known one
    /// repeated, not UTF-8, holding NUL or too long is a 400
    /// `invalid_request`.
    pub fn parse(body: &[u8], known: &[&str]) -> Result<Self, ApiError> {
        let mut params = BTreeMap::new();
        for pair in body.split(|b| *b == b'&').filter(|p| !p.is_empty()) {
            let mut parts = pair.splitn(2, |b| *b == b'=');
            let Some(name) = decode_component(parts.next().unwrap_or_default())
                .filter(|name| known.contains(&name.as_str()))
            else {
                continue;
            };
            let value = decode_component(parts.next().unwrap_or_default())
                .ok_or_else(|| invalid_request(&name, "the value is not UTF-8"))?;
            if value.contains('\0') {
                return Err(invalid_request(&name, "the NUL character is not allowed"));
            }
            if value.chars().count() > MAX_VALUE {
                return Err(invalid_request(
                    &name,
                    format!("at most {MAX_VALUE} characters"),
                ));
            }
            if params.contains_key(&name) {
                return Err(invalid_request(&name, "the parameter is repeated"));
            }
            params.insert(name, value);
        }
        // An empty parameter counts as omitted (but not as repeatable).
        params.retain(|_, v: &mut String| !v.is_empty());
        Ok(Self(params))
    }

    /// A parameter, if present and not empty.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0.get(name).map(String::as_str)
    }

    /// A parameter that must be there (400 `invalid_request` otherwise).
    pub fn required(&self, name: &str) -> Result<&str, ApiError> {
        self.get(name)
            .ok_or_else(|| invalid_request(name, format!("{name} is required")))
    }
}

/// Percent-decoding of `application/x-www-form-urlencoded` (`+` is a
/// space); `None` when the bytes are not UTF-8. A `%` not followed by two
/// hexadecimal digits is kept as it is.
fn decode_component(raw: &[u8]) -> Option<String> {
    let hex = |b: u8| {
        char::from(b)
            .to_digit(16)
            .and_then(|d| u8::try_from(d).ok())
    };
    let mut out = Vec::with_capacity(raw.len());
    let mut i = 0;
    while let Some(&b) = raw.get(i) {
        match b {
            b'+' => out.push(b' '),
            b'%' => match (
                raw.get(i + 1).copied().and_then(hex),
                raw.get(i + 2).copied().and_then(hex),
            ) {
                (Some(h), Some(l)) => {
                    out.push(h * 16 + l);
                    i += 2;
                }
                _ => out.push(b'%'),
            },
            other => out.push(other),
        }
        i += 1;
    }
    String::from_utf8(out).ok()
}

/// How a client identified or authenticated itself.
#[derive(Debug, Default)]
pub struct ClientAuth {
    /// `client_id`, from the `Authorization: Basic` header or the body.
    pub id: Option<String>,
    /// `client_secret` (confidential clients only).
    pub secret: Option<SecretString>,
    /// Whether it came in `Authorization: Basic`.
    pub basic: bool,
}

impl ClientAuth {
    /// The id and secret of a confidential client, if both were given.
    pub fn credentials(&self) -> Option<(&str, &str)> {
        match (&self.id, &self.secret) {
            (Some(id), Some(secret)) => Some((id.as_str(), secret.expose())),
            _ => None,
        }
    }
}

/// The client's authentication (RFC 6749 §2.3.1): `client_secret_basic`
/// (id and secret form-encoded, then joined by `:` and base64-encoded in
/// `Authorization: Basic`) or `client_secret_post` (`client_id` and
/// `client_secret` in the body), never both; or a public client's
/// `client_id` alone. A Basic header that cannot be read is a 401
/// `invalid_client`.
pub fn client_auth(req: &HttpRequest, params: &Params) -> Result<ClientAuth, ApiError> {
    let basic = req
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| {
            let (scheme, rest) = v.trim().split_once(' ')?;
            scheme.eq_ignore_ascii_case("basic").then(|| rest.trim())
        });
    if params
        .get("client_id")
        .is_some_and(|id| id.chars().count() > MAX_CLIENT_ID)
    {
        return Err(invalid_request(
            "client_id",
            format!("at most {MAX_CLIENT_ID} characters"),
        ));
    }
    let Some(encoded) = basic else {
        return Ok(ClientAuth {
            id: params.get("client_id").map(str::to_owned),
            secret: params
                .get("client_secret")
                .map(|s| SecretString::new(s.to_owned())),
            basic: false,
        });
    };
    let unreadable = || {
        client_failure(
            ApiError::invalid_credentials()
                .with_detail("the Authorization header holds no readable client id and secret"),
            true,
        )
    };
    let decoded = STANDARD.decode(encoded).map_err(|_| unreadable())?;
    let mut halves = decoded.splitn(2, |b| *b == b':');
    let (id, secret) = (
        halves.next().unwrap_or_default(),
        halves.next().ok_or_else(unreadable)?,
    );
    let (id, secret) = (
        decode_component(id).ok_or_else(unreadable)?,
        decode_component(secret).ok_or_else(unreadable)?,
    );
    if id.is_empty() || id.contains('\0') || secret.contains('\0') {
        return Err(unreadable());
    }
    if params.get("client_secret").is_some() {
        return Err(invalid_request(
            "client_secret",
            "use one client authentication method: Authorization: Basic or client_secret, not both",
        ));
    }
    if params.get("client_id").is_some_and(|body_id| body_id != id) {
        return Err(invalid_request(
            "client_id",
            "client_id differs from the one in the Authorization header",
        ));
    }
    Ok(ClientAuth {
        id: Some(id),
        secret: Some(secret)
            .filter(|s| !s.is_empty())
            .map(SecretString::new),
        basic: true,
    })
}

/// A failed client authentication as `invalid_client`: 401 with a Basic
/// challenge on the form (RFC 6749 §5.2); the JSON form keeps its answer
/// and gains the code.
pub fn client_failure(error: ApiError, form: bool) -> ApiError {
    if error.oauth().is_some() || error.kind() != "invalid-credentials" {
        return request_failure(error);
    }
    let error = error.with_oauth("invalid_client");
    if form {
        error
            .with_status(StatusCode::UNAUTHORIZED)
            .with_header(header::WWW_AUTHENTICATE, BASIC_CHALLENGE)
    } else {
        error
    }
}

/// A refused grant (wrong password or code, a refresh token not valid) as
/// `invalid_grant`: 400 on the form as RFC 6749 §5.2 says; the JSON form
/// keeps its 401 and gains the code.
pub fn grant_failure(error: ApiError, form: bool) -> ApiError {
    if error.oauth().is_some() || !matches!(error.kind(), "invalid-credentials" | "totp-required") {
        return request_failure(error);
    }
    let error = error.with_oauth("invalid_grant");
    if form {
        error
            .with_status(StatusCode::BAD_REQUEST)
            .without_header(&header::WWW_AUTHENTICATE)
    } else {
        error
    }
}

/// Any other refusal of the request itself (malformed, too large, not the
/// media type) as `invalid_request`; throttling and server faults have no
/// OAuth code and stay plain problems.
pub fn request_failure(error: ApiError) -> ApiError {
    if error.oauth().is_some() {
        return error;
    }
    let status = error.problem().status;
    if matches!(status, 400 | 408 | 413 | 415 | 422) {
        error.with_oauth("invalid_request")
    } else {
        error
    }
}

/// The server's public address (`ADOSEXO_PUBLIC_URL`), or the one the
/// request was made to: scheme and host as the client (or the proxy in
/// front, by `Forwarded` / `X-Forwarded-*`) named them.
pub fn base_url(configured: Option<&str>, req: &HttpRequest) -> String {
    match configured {
        Some(url) => url.trim_end_matches('/').to_owned(),
        None => {
            let info = req.connection_info();
            format!("{}://{}", info.scheme(), info.host())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::test::TestRequest;

    #[test]
    fn form_values_are_decoded_once_and_checked() {
        let known = [
            "grant_type",
            "username",
            "password",
            "scope",
            "empty",
            "x",
            "a",
        ];
        let params = Params::parse(
            b"grant_type=password&username=a%40b.example&password=p+w%2Bx%25&empty=&x&other=1&other=%00",
            &known,
        )
        .expect("parses, unknown parameters ignored whatever they hold");
        assert_eq!(params.get("username"), Some("a@b.example"));
        assert_eq!(params.get("password"), Some("p w+x%"));
        assert_eq!(params.get("empty"), None);
        assert_eq!(params.get("x"), None);
        assert!(params.required("scope").is_err());
        let repeated = Params::parse(b"a=1&a=2", &known).expect_err("repeated");
        assert_eq!(repeated.oauth(), Some("invalid_request"));
        assert_eq!(repeated.problem().status, 400);
        assert!(Params::parse(b"a=%00", &known).is_err());
        assert!(Params::parse(b"a=%ff", &known).is_err());
        assert!(
            format!(
                "{:?}",
                Params::parse(b"password=hunter2", &known).expect("parses")
            )
            .contains("password")
        );
        assert!(
            !format!(
                "{:?}",
                Params::parse(b"password=hunter2", &known).expect("parses")
            )
            .contains("hunter2")
        );
    }

    #[test]
    fn basic_credentials_are_form_decoded() {
        // RFC 6749 §2.3.1: each part form-encoded before joining with ':'.
        let header = format!("Basic {}", STANDARD.encode("my%3Aapp:s%C3%A9cret+x%2B"));
        let req = TestRequest::default()
            .insert_header((header::AUTHORIZATION, header))
            .to_http_request();
        let auth = client_auth(&req, &Params::default()).expect("reads");
        assert_eq!(auth.credentials(), Some(("my:app", "sécret x+")));
        assert!(auth.basic);

        let both = client_auth(
            &req,
            &Params::parse(b"client_secret=x", &["client_secret"]).expect("parses"),
        )
        .expect_err("two methods");
        assert_eq!(both.oauth(), Some("invalid_request"));

        let garbage = TestRequest::default()
            .insert_header((header::AUTHORIZATION, "Basic %%%"))
            .to_http_request();
        let error = client_auth(&garbage, &Params::default()).expect_err("unreadable");
        assert_eq!(error.oauth(), Some("invalid_client"));
        assert_eq!(error.problem().status, 401);

        let post = TestRequest::default().to_http_request();
        let auth = client_auth(
            &post,
            &Params::parse(
                b"client_id=app&client_secret=s",
                &["client_id", "client_secret"],
            )
            .expect("parses"),
        )
        .expect("reads");
        assert_eq!(auth.credentials(), Some(("app", "s")));
        assert!(!auth.basic);
    }

    #[test]
    fn descriptions_keep_to_the_allowed_characters() {
        let error = invalid_request("scope", "a \"quoted\" \\ café");
        let problem = error.problem();
        assert_eq!(problem.error.as_deref(), Some("invalid_request"));
        assert_eq!(
            problem.error_description.as_deref(),
            Some("scope: a quoted  cafe")
        );
        let error = ApiError::invalid_credentials()
            .with_detail("it is \"wrong\" \\ é")
            .with_oauth("invalid_grant");
        assert_eq!(
            error.problem().error_description.as_deref(),
            Some("it is wrong  e")
        );
    }
}
