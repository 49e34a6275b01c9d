//! The public page "Où trouver de l'aide ?" (`/aide/`) and its embeddable
//! variant (`/aide/embed/`): the permanences (list, and a map when the
//! operator configured a tile server), the team's contacts, the directory
//! and the emergency numbers. Server-rendered from the data the public
//! endpoints serve, so it works without JavaScript; `aide.js` adds "near
//! me" (computed in the browser) and the map.
//!
//! Private by construction: no cookie, no third-party request (tiles only
//! from the operator's server), a strict Content Security Policy, and the
//! request log names the route, never the query string.

pub mod assets;
pub mod render;
pub mod text;

use actix_web::http::header::{self, HeaderValue};
use actix_web::middleware::Compress;
use actix_web::{HttpRequest, HttpResponse, web};
use adosexo_domain::DepartementCode;
use adosexo_persistence::public::{self as store, DirectoryFilter};
use adosexo_persistence::territory::{self, DepartementFilter};

use crate::config::MapTiles;
use crate::http_cache::{etag_of, none_match};
use crate::problem::ApiError;
use crate::routes::public::{
    ContactView, contact_for, entry_view, limit_rate, public_sites, search_words,
};
use crate::state::AppState;
use render::{PageData, Sections};
use text::Lang;

/// How many directory entries the page lists.
const DIRECTORY_LIMIT: usize = 50;

/// What the page needs from configuration.
#[derive(Clone, Debug, Default)]
pub struct PageSettings {
    /// The operator's tile server, if any.
    pub tiles: Option<MapTiles>,
    /// Origins allowed to frame `/aide/embed/`.
    pub embed_origins: Vec<String>,
}

impl PageSettings {
    /// The Content Security Policy of the page (`embed`: of its framed
    /// variant).
    pub fn csp(&self, embed: bool) -> String {
        let tiles = self
            .tiles
            .as_ref()
            .map(|t| format!(" {}", t.origin))
            .unwrap_or_default();
        let ancestors = if embed && !self.embed_origins.is_empty() {
            self.embed_origins.join(" ")
        } else if embed {
            "'self'".to_owned()
        } else {
            "'none'".to_owned()
        };
        format!(
            "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:{tiles}; \
             connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors {ancestors}"
        )
    }
}

/// Registers the page's routes (outside the API document: they are not
/// API). Responses are compressed.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(get("/", root))
        .service(get("/aide", root))
        .service(
            web::scope("/aide")
                .wrap(Compress::default())
                .service(get("/", full))
                .service(get("/embed/", embed))
                .service(get("/embed", embed_slash))
                .service(get("/static/{version}/{path:.*}", asset)),
        );
}

/// A resource answering GET (and HEAD); other methods get the API's 405
/// with `Allow`.
fn get<F, Args>(path: &str, handler: F) -> actix_web::Resource
where
    F: actix_web::Handler<Args> + Clone,
    Args: actix_web::FromRequest + 'static,
    F::Output: actix_web::Responder + 'static,
{
    web::resource(path)
        .route(web::get().to(handler.clone()))
        .route(web::head().to(handler))
        .default_service(web::to(crate::routing::fallback))
}

/// Routes the page adds to the API's, for 405 answers (see `routing`).
pub const ROUTES: &[(&str, &str)] = &[
    ("/", "GET"),
    ("/aide", "GET"),
    ("/aide/", "GET"),
    ("/aide/embed", "GET"),
    ("/aide/embed/", "GET"),
    ("/aide/static/{version}/{path}*", "GET"),
];

async fn root(req: HttpRequest) -> HttpResponse {
    // The query (a département, a language) is carried over.
    let location = match req.query_string() {
        "" => "/aide/".to_owned(),
        q => format!("/aide/?{q}"),
    };
    HttpResponse::SeeOther()
        .insert_header((header::LOCATION, location))
        .insert_header((header::CACHE_CONTROL, "public, max-age=300"))
        .finish()
}

async fn embed_slash(req: HttpRequest) -> HttpResponse {
    let location = match req.query_string() {
        "" => "/aide/embed/".to_owned(),
        q => format!("/aide/embed/?{q}"),
    };
    HttpResponse::SeeOther()
        .insert_header((header::LOCATION, location))
        .finish()
}

async fn full(
    req: HttpRequest,
    state: web::Data<AppState>,
    settings: web::Data<PageSettings>,
) -> Result<HttpResponse, ApiError> {
    serve(req, state, settings, false).await
}

async fn embed(
    req: HttpRequest,
    state: web::Data<AppState>,
    settings: web::Data<PageSettings>,
) -> Result<HttpResponse, ApiError> {
    serve(req, state, settings, true).await
}

/// The page's parameters, read leniently: a person who mistyped a
/// département gets the whole list, not an error.
#[derive(Debug, Default)]
struct PageQuery {
    departement: Option<String>,
    q: String,
    lang: Option<String>,
    section: Option<String>,
}

fn page_query(query: &str) -> PageQuery {
    let mut out = PageQuery::default();
    for (key, value) in form_urlencoded::parse(query.as_bytes()) {
        let value = value.trim();
        match key.as_ref() {
            "departement" if !value.is_empty() => out.departement = Some(value.to_owned()),
            "q" => out.q = value.chars().take(200).collect(),
            "lang" => out.lang = Some(value.to_owned()),
            "section" => out.section = Some(value.to_owned()),
            _ => {}
        }
    }
    out
}

/// Which sections an embedding asked for (`section=permanences,annuaire`).
fn sections(asked: Option<&str>) -> Sections {
    let Some(asked) = asked.filter(|s| !s.is_empty()) else {
        return Sections::ALL;
    };
    let has = |name: &str| asked.split(',').any(|s| s.trim() == name);
    let picked = Sections {
        permanences: has("permanences"),
        contacts: has("contacts"),
        directory: has("annuaire"),
    };
    if picked
        == (Sections {
            permanences: false,
            contacts: false,
            directory: false,
        })
    {
        Sections::ALL
    } else {
        picked
    }
}

async fn serve(
    req: HttpRequest,
    state: web::Data<AppState>,
    settings: web::Data<PageSettings>,
    embed: bool,
) -> Result<HttpResponse, ApiError> {
    limit_rate(&state, &req)?;
    let query = page_query(req.query_string());
    let lang = match query.lang.as_deref() {
        Some("en") => Lang::En,
        _ => Lang::Fr,
    };
    let shown = if embed {
        sections(query.section.as_deref())
    } else {
        Sections::ALL
    };
    let asked = query.departement.as_deref().map(DepartementCode::parse);
    let now = state.clock.now();
    let q = query.q.clone();
    let tiles = settings.tiles.clone();
    let data = state
        .db
        .run(move |conn| {
            let departements: Vec<(String, String)> = territory::list_departements(
                conn,
                &DepartementFilter {
                    region: None,
                    after: None,
                    limit: 500,
                },
            )?
            .into_iter()
            .map(|d| (d.code, d.name))
            .collect();
            let code = match &asked {
                Some(Ok(code)) => departements
                    .iter()
                    .find(|(c, _)| c == code.as_str())
                    .map(|_| code.clone()),
                _ => None,
            };
            let departement = code
                .as_ref()
                .and_then(|c| departements.iter().find(|(d, _)| d == c.as_str()).cloned());
            let sites = public_sites(conn, now, code.clone(), None, None, 500)?.features;
            // The département exists: only a missing contact (none
            // configured yet) can fail, and the page goes on without.
            let contact = code.as_ref().and_then(|c| contact_for(conn, c).ok());
            // Every contact: the list without a département, and each
            // site's "call the team".
            let contacts = store::list_contacts(conn)?
                .into_iter()
                .map(|c| ContactView {
                    departement_code: None,
                    scope: c.scope,
                    team: c.team,
                    email: c.email,
                    phone: c.phone,
                    fallback: false,
                })
                .collect();
            let mut rows = store::search_entries(
                conn,
                &DirectoryFilter {
                    departement: code.as_ref().map(|c| c.as_str().to_owned()),
                    category: None,
                    words: search_words(&q),
                    after: None,
                    limit: i64::try_from(DIRECTORY_LIMIT).unwrap_or(50) + 1,
                },
            )?;
            let more_entries = rows.len() > DIRECTORY_LIMIT;
            rows.truncate(DIRECTORY_LIMIT);
            let entries = rows.into_iter().map(entry_view).collect::<Result<_, _>>()?;
            Ok::<_, ApiError>(PageData {
                lang,
                embed,
                sections: shown,
                unknown_departement: asked.is_some() && code.is_none(),
                departements,
                departement,
                sites,
                contact,
                contacts,
                q,
                entries,
                more_entries,
                tiles,
            })
        })
        .await?;
    let body = render::page(&data);
    // Weak: the same tag for the compressed and the plain body.
    let tag = etag_of(body.as_bytes());
    let not_modified = none_match(&req, &tag);
    let etag = format!("W/{tag}");
    let mut response = if not_modified {
        HttpResponse::NotModified()
    } else {
        HttpResponse::Ok()
    };
    response
        .insert_header((header::ETAG, etag))
        .insert_header((header::CACHE_CONTROL, "public, max-age=300"))
        .insert_header((header::VARY, "Accept-Encoding"))
        .insert_header((header::CONTENT_LANGUAGE, lang.tag()))
        .insert_header(("Content-Security-Policy", settings.csp(embed)))
        .insert_header((
            "Permissions-Policy",
            "geolocation=(self), camera=(), microphone=(), payment=(), usb=()",
        ))
        .insert_header(("Cross-Origin-Opener-Policy", "same-origin"));
    if !embed {
        response.insert_header(("X-Frame-Options", "DENY"));
    }
    if not_modified {
        return Ok(response.finish());
    }
    Ok(response.content_type("text/html; charset=utf-8").body(body))
}

async fn asset(
    req: HttpRequest,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, ApiError> {
    let (version, name) = path.into_inner();
    let asset = assets::find(&name).ok_or_else(|| ApiError::not_found("no such file"))?;
    let tag = asset.tag();
    // Weak: the same tag for the compressed and the plain body.
    let etag = format!("W/{tag}");
    // Current addresses never change content; an old address (a page
    // cached across a deployment) gets today's file, revalidated.
    let cache = if version == *assets::VERSION {
        "public, max-age=31536000, immutable"
    } else {
        "no-cache"
    };
    let not_modified = none_match(&req, &tag);
    let mut response = if not_modified {
        HttpResponse::NotModified()
    } else {
        HttpResponse::Ok()
    };
    response
        .insert_header((header::ETAG, etag))
        .insert_header((header::CACHE_CONTROL, cache))
        .insert_header((header::VARY, "Accept-Encoding"))
        .insert_header((
            "Cross-Origin-Resource-Policy",
            HeaderValue::from_static("same-origin"),
        ));
    if not_modified {
        return Ok(response.finish());
    }
    response.content_type(asset.content_type);
    let gzip = req
        .headers()
        .get(header::ACCEPT_ENCODING)
        .and_then(|v| v.to_str().ok())
        .is_some_and(assets::accepts_gzip);
    // Already compressed: the `Compress` middleware leaves a response with
    // a `Content-Encoding` alone.
    match asset.gzipped().filter(|_| gzip) {
        Some(body) => Ok(response
            .insert_header((header::CONTENT_ENCODING, "gzip"))
            .body(body)),
        None => Ok(response.body(asset.bytes)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_query_is_read_leniently() {
        let q = page_query("departement=93&q=avocat%20bobigny&lang=en&x=1&near=48.1,2.2");
        assert_eq!(q.departement.as_deref(), Some("93"));
        assert_eq!(q.q, "avocat bobigny");
        assert_eq!(q.lang.as_deref(), Some("en"));
        assert!(!sections(Some("annuaire")).permanences);
        assert_eq!(sections(Some("nothing")), Sections::ALL);
    }

    #[test]
    fn the_policy_names_only_the_tile_server_and_the_embedders() {
        let mut settings = PageSettings::default();
        assert!(settings.csp(false).contains("frame-ancestors 'none'"));
        assert!(settings.csp(false).contains("img-src 'self' data:;"));
        settings.tiles = Some(MapTiles {
            url: "https://t.example/{z}/{x}/{y}.png".into(),
            origin: "https://t.example".into(),
            attribution: "x".into(),
        });
        settings.embed_origins = vec!["https://www.acpe-asso.org".into()];
        assert!(
            settings
                .csp(false)
                .contains("img-src 'self' data: https://t.example;")
        );
        assert!(
            settings
                .csp(true)
                .ends_with("frame-ancestors https://www.acpe-asso.org")
        );
        assert!(settings.csp(false).ends_with("frame-ancestors 'none'"));
    }
}
