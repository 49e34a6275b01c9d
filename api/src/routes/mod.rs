//! Every route, registered once: this builds both the router and the
//! OpenAPI document (see `openapi::document`).

pub mod departements;
pub mod health;
pub mod openapi_json;

use utoipa_actix_web::scope;
use utoipa_actix_web::service_config::ServiceConfig;

/// Registers all documented routes.
pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(health::healthz)
        .service(health::readyz)
        .service(
            scope("/api/v1")
                .service(openapi_json::get)
                .service(departements::list)
                .service(departements::get),
        );
}
