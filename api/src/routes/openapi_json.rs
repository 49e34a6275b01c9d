//! The published OpenAPI document.

use actix_web::http::header;
use actix_web::{HttpResponse, get, web};

/// The document, serialised once at start.
#[derive(Clone, Debug)]
pub struct OpenApiJson(pub std::sync::Arc<str>);

/// The OpenAPI 3.1 document of this API (the same as `openapi/openapi.json`).
#[utoipa::path(
    operation_id = "getOpenApiDocument",
    tag = "operations",
    summary = "OpenAPI document",
    description = "The OpenAPI 3.1 description of this API, from which clients are generated.",
    security(()),
    responses((status = 200, description = "The OpenAPI document", body = Object, content_type = "application/json")),
)]
#[get("/openapi.json")]
pub async fn get(doc: web::Data<OpenApiJson>) -> HttpResponse {
    HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, "public, max-age=300"))
        .content_type("application/json")
        .body(doc.0.to_string())
}
