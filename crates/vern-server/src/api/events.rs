//! `POST /v1/events`: behavioural events for profiling, enforced at the door; the derived
//! interest profile; the drop counters; and `/.well-known/gpc.json`.

use std::collections::BTreeMap;

use axum::extract::State;
use axum::http::HeaderMap;
use serde::Serialize;
use utoipa::ToSchema;

use super::SubjectPath;
use crate::AppState;
use crate::auth::Caller;
use crate::error::ApiError;
use crate::json::{ApiJson, ApiPath};
use crate::vault::{EventBatch, IngestSummary, ProfileView};

/// `Sec-GPC: 1` is the only value that means "set" (GPC spec); anything else is ignored.
fn gpc(headers: &HeaderMap) -> bool {
    headers
        .get("sec-gpc")
        .is_some_and(|v| v.as_bytes().trim_ascii() == b"1")
}

/// Ingests a batch of events for one profiling purpose. Events of subjects without the
/// consent it needs, with an objection, restricted or suppressed, and every event of a request
/// sent with `Sec-GPC: 1`, are dropped and counted.
#[utoipa::path(
    post,
    path = "/v1/events",
    tag = "events",
    operation_id = "ingestEvents",
    params(("Sec-GPC" = Option<String>, Header,
            description = "`1`: the Global Privacy Control signal; every event is dropped")),
    request_body = EventBatch,
    responses((status = 200, description = "Accepted and dropped counts", body = IngestSummary)),
)]
pub async fn ingest_events(
    State(state): State<AppState>,
    Caller(who): Caller,
    headers: HeaderMap,
    ApiJson(batch): ApiJson<EventBatch>,
) -> Result<ApiJson<IngestSummary>, ApiError> {
    Ok(ApiJson(
        state
            .vault()
            .ingest_events(&who, &batch, gpc(&headers))
            .await?,
    ))
}

/// Dropped events per reason since the start, across every node.
#[utoipa::path(
    get,
    path = "/v1/events/drops",
    tag = "events",
    operation_id = "eventDrops",
    responses((status = 200, description = "Counts per reason", body = BTreeMap<String, u64>)),
)]
pub async fn event_drops(
    State(state): State<AppState>,
    Caller(who): Caller,
) -> Result<ApiJson<BTreeMap<String, u64>>, ApiError> {
    Ok(ApiJson(state.vault().event_drops(&who).await?))
}

/// The interest profile derived from the subject's admitted events.
#[utoipa::path(
    get,
    path = "/v1/subjects/{subject_id}/profile",
    tag = "events",
    operation_id = "getProfile",
    params(SubjectPath),
    responses((status = 200, description = "The derived profile", body = ProfileView)),
)]
pub async fn get_profile(
    State(state): State<AppState>,
    Caller(who): Caller,
    ApiPath(p): ApiPath<SubjectPath>,
) -> Result<ApiJson<ProfileView>, ApiError> {
    Ok(ApiJson(state.vault().profile(&who, p.subject_id).await?))
}

/// The GPC support resource.
#[derive(Debug, Serialize, ToSchema)]
pub struct GpcSupport {
    pub gpc: bool,
    #[serde(rename = "lastUpdate")]
    pub last_update: String,
}

/// `/.well-known/gpc.json`: this site honours Global Privacy Control (`Sec-GPC: 1`).
#[utoipa::path(
    get,
    path = "/.well-known/gpc.json",
    tag = "events",
    operation_id = "gpcSupport",
    security(),
    responses((status = 200, description = "GPC is honoured", body = GpcSupport)),
)]
pub async fn gpc_json() -> ApiJson<GpcSupport> {
    ApiJson(GpcSupport {
        gpc: true,
        // When vern began honouring the signal on ingestion.
        last_update: "2026-11-29".to_owned(),
    })
}
