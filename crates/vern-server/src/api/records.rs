//! `/v1/subjects/{subject_id}/records`: add, list, read, update, delete.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;

use super::idempotency::{self, IdempotencyKey, Outcome};
use super::subjects::created;
use super::{RecordPath, SubjectPath};
use crate::AppState;
use crate::auth::Caller;
use crate::error::ApiError;
use crate::json::{ApiJson, ApiPath, JsonBody};
use crate::vault::{RecordInput, RecordPatch, RecordView};

/// Adds a personal-data record after checking it against the policy and the caller's role.
#[utoipa::path(
    post,
    path = "/v1/subjects/{subject_id}/records",
    tag = "records",
    operation_id = "addRecord",
    params(
        SubjectPath,
        ("Idempotency-Key" = Option<String>, Header,
         description = "Retrying with the same key and body replays the first outcome"),
    ),
    request_body = RecordInput,
    responses(
        (status = 201, description = "The record was added", body = RecordView,
         links(
            ("GetRecord" = (operation_id = "getRecord", parameters(
                ("subject_id" = "$request.path.subject_id"),
                ("record_id" = "$response.body#/id")))),
            ("UpdateRecord" = (operation_id = "updateRecord", parameters(
                ("subject_id" = "$request.path.subject_id"),
                ("record_id" = "$response.body#/id")))),
            ("DeleteRecord" = (operation_id = "deleteRecord", parameters(
                ("subject_id" = "$request.path.subject_id"),
                ("record_id" = "$response.body#/id")))),
         )),
    ),
)]
pub async fn add_record(
    State(state): State<AppState>,
    Caller(who): Caller,
    ApiPath(p): ApiPath<SubjectPath>,
    key: IdempotencyKey,
    body: JsonBody<RecordInput>,
) -> Result<Response, ApiError> {
    let path = format!("/v1/subjects/{}/records", p.subject_id);
    let outcome = idempotency::check(&state, &who, key, "POST", &path, &body.raw).await?;
    if let Outcome::Replay(status, id) = outcome {
        let view = state.vault().get_record(&who, p.subject_id, id).await?;
        return Ok(created(status, format!("{path}/{id}"), view));
    }
    let view = state
        .vault()
        .add_record(&who, p.subject_id, &body.value)
        .await?;
    idempotency::remember(&state, outcome, StatusCode::CREATED, view.id).await;
    Ok(created(
        StatusCode::CREATED,
        format!("{path}/{}", view.id),
        view,
    ))
}

/// The subject's records the caller's role may read.
#[utoipa::path(
    get,
    path = "/v1/subjects/{subject_id}/records",
    tag = "records",
    operation_id = "listRecords",
    params(SubjectPath),
    responses((status = 200, description = "The readable records", body = Vec<RecordView>)),
)]
pub async fn list_records(
    State(state): State<AppState>,
    Caller(who): Caller,
    ApiPath(p): ApiPath<SubjectPath>,
) -> Result<ApiJson<Vec<RecordView>>, ApiError> {
    Ok(ApiJson(
        state.vault().list_records(&who, p.subject_id).await?,
    ))
}

/// One record; 403 (audited) if the role does not cover its category.
#[utoipa::path(
    get,
    path = "/v1/subjects/{subject_id}/records/{record_id}",
    tag = "records",
    operation_id = "getRecord",
    params(RecordPath),
    responses((status = 200, description = "The record", body = RecordView)),
)]
pub async fn get_record(
    State(state): State<AppState>,
    Caller(who): Caller,
    ApiPath(p): ApiPath<RecordPath>,
) -> Result<ApiJson<RecordView>, ApiError> {
    Ok(ApiJson(
        state
            .vault()
            .get_record(&who, p.subject_id, p.record_id)
            .await?,
    ))
}

/// Changes a record; the result is checked against the policy as a whole.
#[utoipa::path(
    patch,
    path = "/v1/subjects/{subject_id}/records/{record_id}",
    tag = "records",
    operation_id = "updateRecord",
    params(RecordPath),
    request_body = RecordPatch,
    responses((status = 200, description = "The updated record", body = RecordView)),
)]
pub async fn update_record(
    State(state): State<AppState>,
    Caller(who): Caller,
    ApiPath(p): ApiPath<RecordPath>,
    ApiJson(patch): ApiJson<RecordPatch>,
) -> Result<ApiJson<RecordView>, ApiError> {
    Ok(ApiJson(
        state
            .vault()
            .update_record(&who, p.subject_id, p.record_id, &patch)
            .await?,
    ))
}

#[utoipa::path(
    delete,
    path = "/v1/subjects/{subject_id}/records/{record_id}",
    tag = "records",
    operation_id = "deleteRecord",
    params(RecordPath),
    responses((status = 204, description = "The record was deleted")),
)]
pub async fn delete_record(
    State(state): State<AppState>,
    Caller(who): Caller,
    ApiPath(p): ApiPath<RecordPath>,
) -> Result<StatusCode, ApiError> {
    state
        .vault()
        .delete_record(&who, p.subject_id, p.record_id)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}
