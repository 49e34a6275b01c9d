//! Liveness and readiness probes.

use actix_web::{HttpResponse, get, web};
use serde::Serialize;
use utoipa::ToSchema;

use crate::problem::ApiError;
use crate::state::AppState;

/// Probe answer.
#[derive(Debug, Serialize, ToSchema)]
pub struct Health {
    /// `ok` (alive) or `ready` (database reachable, migrations current).
    #[schema(example = "ok")]
    pub status: &'static str,
}

/// Liveness: the process answers.
#[utoipa::path(
    operation_id = "healthz",
    tag = "operations",
    summary = "Liveness probe",
    description = "Answers 200 while the process runs; touches nothing else.",
    security(()),
    responses((status = 200, description = "The process is alive", body = Health)),
)]
#[get("/healthz")]
pub async fn healthz() -> HttpResponse {
    HttpResponse::Ok().json(Health { status: "ok" })
}

/// Readiness: the database answers and every migration is applied.
#[utoipa::path(
    operation_id = "readyz",
    tag = "operations",
    summary = "Readiness probe",
    description = "Answers 200 when the database answers and all migrations are applied, 503 otherwise.",
    security(()),
    responses(
        (status = 200, description = "Ready to serve", body = Health),
        (status = 503, response = crate::problem::Unavailable),
    ),
)]
#[get("/readyz")]
pub async fn readyz(state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    state.db.readiness().await?;
    Ok(HttpResponse::Ok().json(Health { status: "ready" }))
}
