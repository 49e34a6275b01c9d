//! What happens to requests no handler took: 404, or 405 with `Allow` when
//! the path exists with other methods. The table is built from the OpenAPI
//! document, so routes and their documentation cannot disagree.

use actix_router::ResourceDef;
use actix_web::body::{EitherBody, MessageBody};
use actix_web::dev::ServiceResponse;
use actix_web::http::header;
use actix_web::middleware::ErrorHandlerResponse;
use actix_web::{HttpRequest, ResponseError, web};
use utoipa::openapi::OpenApi;

use crate::problem::{ApiError, PROBLEM_JSON};

/// Path templates and the methods each answers.
#[derive(Debug, Default)]
pub struct RouteTable {
    routes: Vec<(ResourceDef, String)>,
}

impl RouteTable {
    /// From the document's paths, plus routes it does not describe
    /// (documentation pages), each as `(template, "GET, POST")`.
    pub fn from_openapi(doc: &OpenApi, extra: &[(&str, &str)]) -> Self {
        let mut routes: Vec<(ResourceDef, String)> = doc
            .paths
            .paths
            .iter()
            .map(|(path, item)| {
                let methods: Vec<&str> = [
                    ("GET", item.get.is_some()),
                    ("PUT", item.put.is_some()),
                    ("POST", item.post.is_some()),
                    ("DELETE", item.delete.is_some()),
                    ("OPTIONS", item.options.is_some()),
                    ("HEAD", item.head.is_some()),
                    ("PATCH", item.patch.is_some()),
                    ("TRACE", item.trace.is_some()),
                ]
                .into_iter()
                .filter_map(|(m, present)| present.then_some(m))
                .collect();
                (ResourceDef::new(path.as_str()), methods.join(", "))
            })
            .collect();
        routes.extend(
            extra
                .iter()
                .map(|(path, methods)| (ResourceDef::new(*path), (*methods).to_owned())),
        );
        Self { routes }
    }

    /// The methods a path answers, if it is a known path.
    pub fn allowed(&self, path: &str) -> Option<&str> {
        self.routes
            .iter()
            .find(|(def, _)| def.is_match(path))
            .map(|(_, methods)| methods.as_str())
    }
}

/// Default service: 405 with `Allow` for a known path, 404 otherwise.
pub async fn fallback(
    req: HttpRequest,
    table: web::Data<RouteTable>,
) -> Result<actix_web::HttpResponse, ApiError> {
    Err(match table.allowed(req.path()) {
        Some(allow) => ApiError::method_not_allowed(allow.to_owned()),
        None => ApiError::not_found("no resource at this address"),
    })
}

/// Error handler of last resort: any 4xx/5xx that is not already problem
/// details (from the framework or the documentation pages) becomes one.
pub fn ensure_problem<B: MessageBody>(
    res: ServiceResponse<B>,
) -> actix_web::Result<ErrorHandlerResponse<B>> {
    let is_problem = res
        .headers()
        .get(header::CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes().starts_with(PROBLEM_JSON.as_bytes()));
    if is_problem {
        return Ok(ErrorHandlerResponse::Response(res.map_into_left_body()));
    }
    let status = res.status();
    let (req, _) = res.into_parts();
    let response = ApiError::from_status(status).error_response();
    Ok(ErrorHandlerResponse::Response(
        ServiceResponse::new(req, response).map_body(|_, body| EitherBody::right(body)),
    ))
}
