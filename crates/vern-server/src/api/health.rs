//! Unauthenticated operational endpoints: liveness, readiness, Prometheus metrics and the
//! OpenAPI document. None of them touches personal data.

use std::sync::Arc;

use axum::Extension;
use axum::extract::State;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use utoipa::ToSchema;
use vern_store::Store;

use crate::AppState;
use crate::error::{ApiError, ProblemKind};
use crate::json::ApiJson;

#[derive(Debug, Serialize, ToSchema)]
pub struct Health {
    #[schema(example = "ok")]
    pub status: &'static str,
}

/// Liveness: the process answers.
#[utoipa::path(
    get,
    path = "/healthz",
    tag = "operations",
    operation_id = "healthz",
    security(),
    responses((status = 200, description = "Alive", body = Health)),
)]
pub async fn healthz() -> ApiJson<Health> {
    ApiJson(Health { status: "ok" })
}

/// Readiness: the database answers and a policy is loaded.
#[utoipa::path(
    get,
    path = "/readyz",
    tag = "operations",
    operation_id = "readyz",
    security(),
    responses(
        (status = 200, description = "Ready", body = Health),
        (status = 503, description = "Not ready", body = crate::error::Problem,
         content_type = "application/problem+json"),
    ),
)]
pub async fn readyz(State(state): State<AppState>) -> Result<ApiJson<Health>, ApiError> {
    let vault = state.vault();
    if vault.policy().raw.roles.is_empty() {
        return Err(ApiError::new(
            ProblemKind::Unavailable,
            "no policy is loaded",
        ));
    }
    match vault.store().ping().await {
        Ok(()) => Ok(ApiJson(Health { status: "ready" })),
        Err(e) => {
            tracing::warn!(error = %e, "readiness check: the database does not answer");
            Err(ApiError::new(
                ProblemKind::Unavailable,
                "the database does not answer",
            ))
        }
    }
}

/// Prometheus text exposition: request counts and latencies by route template and status.
#[utoipa::path(
    get,
    path = "/metrics",
    tag = "operations",
    operation_id = "metrics",
    security(),
    responses((status = 200, description = "Prometheus metrics", body = String,
               content_type = "text/plain")),
)]
pub async fn metrics(State(state): State<AppState>) -> Response {
    let mut r = state.metrics.render().into_response();
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; version=0.0.4; charset=utf-8"),
    );
    r
}

/// The OpenAPI 3.1 document, generated from the handlers.
#[derive(Debug, Clone)]
pub struct OpenApiJson(pub Arc<String>);

/// This document.
#[utoipa::path(
    get,
    path = "/openapi.json",
    tag = "operations",
    operation_id = "openapi",
    security(),
    responses((status = 200, description = "The OpenAPI document", body = Object,
               content_type = "application/json")),
)]
pub async fn openapi_json(Extension(doc): Extension<OpenApiJson>) -> Response {
    let mut r = doc.0.as_str().to_owned().into_response();
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    r
}
