//! `/v1/subjects`: create (with identifiers and records), list, read, update, erase.

use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use utoipa::IntoParams;
use uuid::Uuid;

use super::SubjectPath;
use super::idempotency::{self, IdempotencyKey, Outcome};
use crate::AppState;
use crate::auth::Caller;
use crate::error::ApiError;
use crate::json::{ApiJson, ApiPath, ApiQuery, JsonBody};
use crate::vault::{SubjectInput, SubjectPage, SubjectPatch, SubjectSummary, SubjectView};

/// Page size when none is asked for.
const DEFAULT_PAGE: u32 = 50;

/// `201 Created` with a `Location` header and a JSON body.
pub(crate) fn created<T: serde::Serialize>(
    status: StatusCode,
    location: String,
    body: T,
) -> Response {
    let mut headers = HeaderMap::new();
    if let Ok(v) = HeaderValue::from_str(&location) {
        headers.insert(header::LOCATION, v);
    }
    (status, headers, ApiJson(body)).into_response()
}

/// Creates a subject with optional identifiers and records, in one transaction. Every record
/// is checked against the policy; any violation answers 422 and stores nothing.
#[utoipa::path(
    post,
    path = "/v1/subjects",
    tag = "subjects",
    operation_id = "createSubject",
    params(
        ("Idempotency-Key" = Option<String>, Header,
         description = "Retrying with the same key and body replays the first outcome"),
    ),
    request_body = SubjectInput,
    responses(
        (status = 201, description = "The subject was created", body = SubjectView,
         headers(("Location" = String, description = "URL of the new subject")),
         links(
            ("GetSubject" = (operation_id = "getSubject",
                parameters(("subject_id" = "$response.body#/id")))),
            ("UpdateSubject" = (operation_id = "updateSubject",
                parameters(("subject_id" = "$response.body#/id")))),
            ("EraseSubject" = (operation_id = "eraseSubject",
                parameters(("subject_id" = "$response.body#/id")))),
            ("ListRecords" = (operation_id = "listRecords",
                parameters(("subject_id" = "$response.body#/id")))),
            ("AddRecord" = (operation_id = "addRecord",
                parameters(("subject_id" = "$response.body#/id")))),
            ("ListIdentifiers" = (operation_id = "listIdentifiers",
                parameters(("subject_id" = "$response.body#/id")))),
            ("AddIdentifier" = (operation_id = "addIdentifier",
                parameters(("subject_id" = "$response.body#/id")))),
         )),
    ),
)]
pub async fn create_subject(
    State(state): State<AppState>,
    Caller(who): Caller,
    key: IdempotencyKey,
    body: JsonBody<SubjectInput>,
) -> Result<Response, ApiError> {
    let outcome = idempotency::check(&state, &who, key, "POST", "/v1/subjects", &body.raw).await?;
    if let Outcome::Replay(status, id) = outcome {
        let view = state.vault().get_subject(&who, id).await?;
        return Ok(created(status, location(id), view));
    }
    let view = state.vault().create_subject(&who, &body.value).await?;
    let id = view.subject.id;
    idempotency::remember(&state, outcome, StatusCode::CREATED, id).await;
    Ok(created(StatusCode::CREATED, location(id), view))
}

fn location(id: Uuid) -> String {
    format!("/v1/subjects/{id}")
}

/// Keyset pagination parameters.
#[derive(Debug, Clone, Copy, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListParams {
    /// Page size, 1 to 500 (default 50).
    #[param(minimum = 1, maximum = 500)]
    pub limit: Option<u32>,
    /// The `next` value of the previous page.
    pub after: Option<Uuid>,
}

/// Lists subjects in creation order, a page at a time (no personal data in the items).
#[utoipa::path(
    get,
    path = "/v1/subjects",
    tag = "subjects",
    operation_id = "listSubjects",
    params(ListParams),
    responses((status = 200, description = "A page of subjects", body = SubjectPage)),
)]
pub async fn list_subjects(
    State(state): State<AppState>,
    Caller(who): Caller,
    ApiQuery(q): ApiQuery<ListParams>,
) -> Result<ApiJson<SubjectPage>, ApiError> {
    let page = state
        .vault()
        .list_subjects(&who, q.after, q.limit.unwrap_or(DEFAULT_PAGE))
        .await?;
    Ok(ApiJson(page))
}

/// A subject with its identifiers and the records the caller's role may read.
#[utoipa::path(
    get,
    path = "/v1/subjects/{subject_id}",
    tag = "subjects",
    operation_id = "getSubject",
    params(SubjectPath),
    responses((status = 200, description = "The subject", body = SubjectView)),
)]
pub async fn get_subject(
    State(state): State<AppState>,
    Caller(who): Caller,
    ApiPath(p): ApiPath<SubjectPath>,
) -> Result<ApiJson<SubjectView>, ApiError> {
    Ok(ApiJson(
        state.vault().get_subject(&who, p.subject_id).await?,
    ))
}

/// Changes the subject type or the jurisdiction hint.
#[utoipa::path(
    patch,
    path = "/v1/subjects/{subject_id}",
    tag = "subjects",
    operation_id = "updateSubject",
    params(SubjectPath),
    request_body = SubjectPatch,
    responses((status = 200, description = "The updated subject", body = SubjectSummary)),
)]
pub async fn update_subject(
    State(state): State<AppState>,
    Caller(who): Caller,
    ApiPath(p): ApiPath<SubjectPath>,
    ApiJson(patch): ApiJson<SubjectPatch>,
) -> Result<ApiJson<SubjectSummary>, ApiError> {
    Ok(ApiJson(
        state
            .vault()
            .update_subject(&who, p.subject_id, &patch)
            .await?,
    ))
}

/// Erases a subject by destroying its key (crypto-shredding) and deleting its data.
#[utoipa::path(
    delete,
    path = "/v1/subjects/{subject_id}",
    tag = "subjects",
    operation_id = "eraseSubject",
    params(SubjectPath),
    responses((status = 204, description = "The subject was erased")),
)]
pub async fn erase_subject(
    State(state): State<AppState>,
    Caller(who): Caller,
    ApiPath(p): ApiPath<SubjectPath>,
) -> Result<StatusCode, ApiError> {
    state.vault().erase_subject(&who, p.subject_id).await?;
    Ok(StatusCode::NO_CONTENT)
}
