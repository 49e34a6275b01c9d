//! The language of problem details: English by default, French when the
//! request's `Accept-Language` prefers it (`fr`, `fr-FR`,
//! `fr;q=0.9, en;q=0.8`). The texts are in [`catalogue`].
//!
//! How the language reaches the problem: actix renders an error with
//! `ResponseError::error_response(&self)`, which has no request. The
//! [`negotiate`] middleware therefore reads `Accept-Language` once and runs
//! the rest of the request inside a task-local scope, as the request id
//! does (`request_id::observe`), and `ApiError::problem` asks [`current`]
//! when it renders. Handlers, extractors, the framework's errors turned into
//! problems (`routing::ensure_problem`) all render inside that scope. On the
//! way out the middleware labels every problem response with
//! `Content-Language` and `Vary: Accept-Language`; other responses are not
//! touched (their content does not depend on the header).

pub mod catalogue;

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{self, HeaderValue};
use actix_web::middleware::Next;

use crate::problem::PROBLEM_JSON;

/// A language problem details are written in.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Lang {
    /// English, the default.
    #[default]
    En,
    /// Français.
    Fr,
}

impl Lang {
    /// The BCP 47 tag (`Content-Language`).
    pub fn tag(self) -> &'static str {
        match self {
            Self::En => "en",
            Self::Fr => "fr",
        }
    }

    /// The language a language range names, if one we speak: `fr`,
    /// `fr-FR`, `FR-ca` are French, `en`, `en-GB` English.
    fn of_range(range: &str) -> Option<Self> {
        let primary = range.split('-').next().unwrap_or(range);
        if primary.eq_ignore_ascii_case("fr") {
            Some(Self::Fr)
        } else if primary.eq_ignore_ascii_case("en") {
            Some(Self::En)
        } else {
            None
        }
    }
}

tokio::task_local! {
    static LANG: Lang;
}

/// The language of the request being served on this task (English outside
/// any request).
pub fn current() -> Lang {
    LANG.try_with(|lang| *lang).unwrap_or_default()
}

/// Runs `future` with `lang` as the [`current`] language (tests, tools).
pub async fn scope<F: std::future::Future>(lang: Lang, future: F) -> F::Output {
    LANG.scope(lang, future).await
}

/// A quality value (RFC 9110 §12.4.2): `0` to `1` with at most three
/// decimals; anything else is not one.
fn quality(value: &str) -> Option<u16> {
    let value = value.trim();
    let (int, frac) = value.split_once('.').unwrap_or((value, ""));
    if frac.len() > 3 || !frac.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let thousandths = frac
        .bytes()
        .chain(std::iter::repeat(b'0'))
        .take(3)
        .fold(0u16, |acc, b| acc * 10 + u16::from(b - b'0'));
    match int {
        "0" => Some(thousandths),
        "1" if thousandths == 0 => Some(1000),
        _ => None,
    }
}

/// The language to answer in for an `Accept-Language` value (RFC 9110
/// §12.5.4): each language we speak takes the weight of the most specific
/// range naming it (`fr-FR` and `fr` name French; `*` names any language
/// not named otherwise); the heavier wins, the one named first on a tie;
/// weight 0 means "not this one". English when nothing we speak is wanted
/// or the header cannot be read. Malformed ranges are skipped, not fatal.
pub fn negotiate(accept_language: &str) -> Lang {
    // Per language: (weight, position) of the first range naming it.
    let mut en: Option<(u16, usize)> = None;
    let mut fr: Option<(u16, usize)> = None;
    let mut wildcard: Option<(u16, usize)> = None;
    for (position, item) in accept_language.split(',').enumerate() {
        let mut parts = item.split(';');
        let range = parts.next().unwrap_or("").trim();
        if range.is_empty() {
            continue;
        }
        let mut weight = Some(1000);
        for param in parts {
            let (name, value) = param.split_once('=').unwrap_or((param, ""));
            if name.trim().eq_ignore_ascii_case("q") {
                weight = quality(value);
            }
        }
        let Some(weight) = weight else { continue };
        // A range with a region (`fr-FR`) is as specific as we look: the
        // first range naming the language decides its weight.
        let slot = match range {
            "*" => &mut wildcard,
            _ => match Lang::of_range(range) {
                Some(Lang::En) => &mut en,
                Some(Lang::Fr) => &mut fr,
                None => continue,
            },
        };
        slot.get_or_insert((weight, position));
    }
    let wanted = |named: Option<(u16, usize)>| named.or(wildcard).filter(|(weight, _)| *weight > 0);
    match (wanted(en), wanted(fr)) {
        (_, None) => Lang::En,
        (None, Some(_)) => Lang::Fr,
        (Some((en_weight, en_at)), Some((fr_weight, fr_at))) => {
            if fr_weight > en_weight || (fr_weight == en_weight && fr_at < en_at) {
                Lang::Fr
            } else {
                Lang::En
            }
        }
    }
}

/// The language a request asks for.
pub fn of_request(req: &ServiceRequest) -> Lang {
    req.headers()
        .get(header::ACCEPT_LANGUAGE)
        .and_then(|value| value.to_str().ok())
        .map(negotiate)
        .unwrap_or_default()
}

/// Middleware: negotiates the language, serves the request in its scope,
/// and labels problem responses (`Content-Language`, `Vary:
/// Accept-Language`).
pub async fn language(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<impl MessageBody + 'static>, actix_web::Error> {
    let lang = of_request(&req);
    let mut response = LANG.scope(lang, next.call(req)).await?;
    let headers = response.headers_mut();
    let is_problem = headers
        .get(header::CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes().starts_with(PROBLEM_JSON.as_bytes()));
    if is_problem {
        headers.insert(
            header::CONTENT_LANGUAGE,
            HeaderValue::from_static(lang.tag()),
        );
        headers.append(header::VARY, HeaderValue::from_static("Accept-Language"));
    }
    Ok(response)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn french_when_preferred_english_otherwise() {
        for (header, expected) in [
            ("fr", Lang::Fr),
            ("fr-FR", Lang::Fr),
            ("FR-ca", Lang::Fr),
            ("fr;q=0.9, en;q=0.8", Lang::Fr),
            ("fr-FR,fr;q=0.9,en-US;q=0.8,en;q=0.7", Lang::Fr),
            ("en;q=0.8, fr;q=0.9", Lang::Fr),
            ("de, fr;q=0.5", Lang::Fr),
            ("*", Lang::En),
            ("en, fr", Lang::En),
            ("fr, en", Lang::Fr),
            ("en;q=0.5, fr;q=0.5", Lang::En),
            ("fr;q=0.5, en;q=0.5", Lang::Fr),
            ("en;q=0.9, fr;q=0.8", Lang::En),
            ("fr;q=0", Lang::En),
            ("fr;q=0, *", Lang::En),
            ("en;q=0, *;q=0.1", Lang::Fr),
            ("en;q=0", Lang::En),
            ("de, es", Lang::En),
            ("", Lang::En),
            ("fr;q=2", Lang::En),
            ("fr;q=0.1234, en;q=0.1", Lang::En),
            ("fr;q=abc", Lang::En),
            (" fr ; q = 0.7 , en ; q = 0.6 ", Lang::Fr),
            ("fr;q=1.000", Lang::Fr),
            ("frisian", Lang::En),
            (",,;, fr", Lang::Fr),
        ] {
            assert_eq!(negotiate(header), expected, "{header:?}");
        }
    }

    #[test]
    fn quality_values_are_read_as_the_rfc_says() {
        assert_eq!(quality("1"), Some(1000));
        assert_eq!(quality("1.0"), Some(1000));
        assert_eq!(quality("0.8"), Some(800));
        assert_eq!(quality("0.05"), Some(50));
        assert_eq!(quality("0"), Some(0));
        assert_eq!(quality("1.5"), None);
        assert_eq!(quality("0.0001"), None);
        assert_eq!(quality("-1"), None);
        assert_eq!(quality(""), None);
    }

    #[actix_web::test]
    async fn the_scope_sets_the_current_language() {
        assert_eq!(current(), Lang::En);
        assert_eq!(scope(Lang::Fr, async { current() }).await, Lang::Fr);
    }
}
