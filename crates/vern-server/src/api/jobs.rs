//! `/v1/jobs`: the job queue for administrators, dead letters included.

use axum::extract::State;
use serde::Deserialize;
use utoipa::IntoParams;
use uuid::Uuid;

use crate::AppState;
use crate::auth::Caller;
use crate::error::ApiError;
use crate::json::{ApiJson, ApiPath, ApiQuery};
use crate::vault::JobView;

/// `/v1/jobs/{job_id}`
#[derive(Debug, Clone, Copy, Deserialize, IntoParams)]
#[into_params(parameter_in = Path)]
pub struct JobPath {
    pub job_id: Uuid,
}

#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct JobListQuery {
    /// `queued`, `running`, `done` or `dead`; all when absent.
    #[serde(default)]
    pub state: Option<String>,
    /// At most this many, newest first (default 100, 1 to 1000).
    #[serde(default)]
    #[param(minimum = 1, maximum = 1000)]
    pub limit: Option<u32>,
}

/// Jobs, newest first; `?state=dead` lists the dead letters.
#[utoipa::path(
    get,
    path = "/v1/jobs",
    tag = "jobs",
    operation_id = "listJobs",
    params(JobListQuery),
    responses((status = 200, description = "The jobs", body = Vec<JobView>)),
)]
pub async fn list_jobs(
    State(state): State<AppState>,
    Caller(who): Caller,
    ApiQuery(q): ApiQuery<JobListQuery>,
) -> Result<ApiJson<Vec<JobView>>, ApiError> {
    Ok(ApiJson(
        state
            .vault()
            .list_jobs(&who, q.state.as_deref(), q.limit.unwrap_or(100))
            .await?,
    ))
}

#[utoipa::path(
    get,
    path = "/v1/jobs/{job_id}",
    tag = "jobs",
    operation_id = "getJob",
    params(JobPath),
    responses((status = 200, description = "The job", body = JobView)),
)]
pub async fn get_job(
    State(state): State<AppState>,
    Caller(who): Caller,
    ApiPath(p): ApiPath<JobPath>,
) -> Result<ApiJson<JobView>, ApiError> {
    Ok(ApiJson(state.vault().get_job(&who, p.job_id).await?))
}

/// Puts a dead letter back in the queue with fresh attempts.
#[utoipa::path(
    post,
    path = "/v1/jobs/{job_id}/retry",
    tag = "jobs",
    operation_id = "retryJob",
    params(JobPath),
    responses((status = 200, description = "The job, queued again", body = JobView)),
)]
pub async fn retry_job(
    State(state): State<AppState>,
    Caller(who): Caller,
    ApiPath(p): ApiPath<JobPath>,
) -> Result<ApiJson<JobView>, ApiError> {
    Ok(ApiJson(state.vault().retry_job(&who, p.job_id).await?))
}
