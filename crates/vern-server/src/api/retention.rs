//! `/v1/retention`: legal holds, a subject's retention status, the preview (dry run with a
//! 24-month forecast) and an on-demand sweep.

use axum::extract::State;
use axum::http::StatusCode;
use serde::Deserialize;
use time::OffsetDateTime;
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use super::SubjectPath;
use crate::AppState;
use crate::auth::Caller;
use crate::error::{ApiError, FieldError};
use crate::json::{ApiJson, ApiPath, ApiQuery};
use crate::vault::{
    HoldInput, HoldRelease, HoldView, RetentionPreview, SubjectRetention, SweepReport, VaultError,
};

/// `/v1/retention/holds/{hold_id}`
#[derive(Debug, Clone, Copy, Deserialize, IntoParams)]
#[into_params(parameter_in = Path)]
pub struct HoldPath {
    pub hold_id: Uuid,
}

#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct HoldListQuery {
    /// Include released holds.
    #[serde(default)]
    pub include_released: bool,
}

#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct PreviewQuery {
    /// The date to preview (RFC 3339); now if absent.
    #[serde(default, with = "time::serde::rfc3339::option")]
    #[param(value_type = Option<String>, format = DateTime)]
    pub as_of: Option<OffsetDateTime>,
}

/// Runs a sweep now, or at an earlier date (never a later one: that would delete early).
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RunInput {
    #[serde(default, with = "time::serde::rfc3339::option")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub as_of: Option<OffsetDateTime>,
}

/// Places a legal hold: deletion of what it covers is suspended until it is released.
#[utoipa::path(
    post,
    path = "/v1/retention/holds",
    tag = "retention",
    operation_id = "createHold",
    request_body = HoldInput,
    responses((status = 201, description = "The hold", body = HoldView)),
)]
pub async fn create_hold(
    State(state): State<AppState>,
    Caller(who): Caller,
    ApiJson(input): ApiJson<HoldInput>,
) -> Result<(StatusCode, ApiJson<HoldView>), ApiError> {
    let view = state.vault().create_hold(&who, &input).await?;
    Ok((StatusCode::CREATED, ApiJson(view)))
}

/// Legal holds, newest first.
#[utoipa::path(
    get,
    path = "/v1/retention/holds",
    tag = "retention",
    operation_id = "listHolds",
    params(HoldListQuery),
    responses((status = 200, description = "The holds", body = Vec<HoldView>)),
)]
pub async fn list_holds(
    State(state): State<AppState>,
    Caller(who): Caller,
    ApiQuery(q): ApiQuery<HoldListQuery>,
) -> Result<ApiJson<Vec<HoldView>>, ApiError> {
    Ok(ApiJson(
        state.vault().list_holds(&who, q.include_released).await?,
    ))
}

/// Releases a hold, with the reason; the next sweep acts on what it protected.
#[utoipa::path(
    post,
    path = "/v1/retention/holds/{hold_id}/release",
    tag = "retention",
    operation_id = "releaseHold",
    params(HoldPath),
    request_body = HoldRelease,
    responses((status = 200, description = "The released hold", body = HoldView)),
)]
pub async fn release_hold(
    State(state): State<AppState>,
    Caller(who): Caller,
    ApiPath(p): ApiPath<HoldPath>,
    ApiJson(input): ApiJson<HoldRelease>,
) -> Result<ApiJson<HoldView>, ApiError> {
    Ok(ApiJson(
        state
            .vault()
            .release_hold(&who, p.hold_id, &input.reason)
            .await?,
    ))
}

/// Each record's expiry and the rule behind it.
#[utoipa::path(
    get,
    path = "/v1/subjects/{subject_id}/retention",
    tag = "retention",
    operation_id = "getSubjectRetention",
    params(SubjectPath),
    responses((status = 200, description = "The subject's retention status", body = SubjectRetention)),
)]
pub async fn subject_retention(
    State(state): State<AppState>,
    Caller(who): Caller,
    ApiPath(p): ApiPath<SubjectPath>,
) -> Result<ApiJson<SubjectRetention>, ApiError> {
    Ok(ApiJson(
        state.vault().retention_status(&who, p.subject_id).await?,
    ))
}

/// A dry run: what a sweep would delete by rule and category, and a 24-month forecast.
#[utoipa::path(
    get,
    path = "/v1/retention/preview",
    tag = "retention",
    operation_id = "previewRetention",
    params(PreviewQuery),
    responses((status = 200, description = "The preview", body = RetentionPreview)),
)]
pub async fn preview(
    State(state): State<AppState>,
    Caller(who): Caller,
    ApiQuery(q): ApiQuery<PreviewQuery>,
) -> Result<ApiJson<RetentionPreview>, ApiError> {
    Ok(ApiJson(
        state.vault().retention_preview(&who, q.as_of).await?,
    ))
}

/// Runs a retention sweep now and reports what it did.
#[utoipa::path(
    post,
    path = "/v1/retention/run",
    tag = "retention",
    operation_id = "runRetention",
    request_body = RunInput,
    responses((status = 200, description = "What the sweep did", body = SweepReport)),
)]
pub async fn run(
    State(state): State<AppState>,
    Caller(who): Caller,
    ApiJson(input): ApiJson<RunInput>,
) -> Result<ApiJson<SweepReport>, ApiError> {
    let vault = state.vault();
    if let Some(at) = input.as_of
        && at > vault.clock().now()
    {
        return Err(VaultError::Validation(vec![FieldError::new(
            "as_of",
            "in_future",
            "a sweep cannot run at a future date: it would delete data early",
        )])
        .into());
    }
    Ok(ApiJson(
        vault.retention_run(&who, input.as_of, |_| {}).await?,
    ))
}
