//! `/v1/subjects/{subject_id}/identifiers`: add, list, delete.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;

use super::idempotency::{self, IdempotencyKey, Outcome};
use super::subjects::created;
use super::{IdentifierPath, SubjectPath};
use crate::AppState;
use crate::auth::Caller;
use crate::error::ApiError;
use crate::json::{ApiJson, ApiPath, JsonBody};
use crate::vault::{IdentifierInput, IdentifierView, VaultError};

/// Adds an identifier (normalised, sealed and blind-indexed). One that already belongs to a
/// subject is a 409.
#[utoipa::path(
    post,
    path = "/v1/subjects/{subject_id}/identifiers",
    tag = "identifiers",
    operation_id = "addIdentifier",
    params(
        SubjectPath,
        ("Idempotency-Key" = Option<String>, Header,
         description = "Retrying with the same key and body replays the first outcome"),
    ),
    request_body = IdentifierInput,
    responses(
        (status = 201, description = "The identifier was added", body = IdentifierView,
         links(("DeleteIdentifier" = (operation_id = "deleteIdentifier", parameters(
            ("subject_id" = "$request.path.subject_id"),
            ("identifier_id" = "$response.body#/id")))))),
    ),
)]
pub async fn add_identifier(
    State(state): State<AppState>,
    Caller(who): Caller,
    ApiPath(p): ApiPath<SubjectPath>,
    key: IdempotencyKey,
    body: JsonBody<IdentifierInput>,
) -> Result<Response, ApiError> {
    let path = format!("/v1/subjects/{}/identifiers", p.subject_id);
    let outcome = idempotency::check(&state, &who, key, "POST", &path, &body.raw).await?;
    if let Outcome::Replay(status, id) = outcome {
        // Replays re-read the stored identifier, so a deleted one answers 404.
        let view = state
            .vault()
            .list_identifiers(&who, p.subject_id)
            .await?
            .into_iter()
            .find(|i| i.id == id)
            .ok_or(VaultError::NotFound("identifier"))?;
        return Ok(created(status, format!("{path}/{id}"), view));
    }
    let view = state
        .vault()
        .add_identifier(&who, p.subject_id, &body.value)
        .await?;
    idempotency::remember(&state, outcome, StatusCode::CREATED, view.id).await;
    Ok(created(
        StatusCode::CREATED,
        format!("{path}/{}", view.id),
        view,
    ))
}

/// The subject's identifiers, decrypted.
#[utoipa::path(
    get,
    path = "/v1/subjects/{subject_id}/identifiers",
    tag = "identifiers",
    operation_id = "listIdentifiers",
    params(SubjectPath),
    responses((status = 200, description = "The identifiers", body = Vec<IdentifierView>)),
)]
pub async fn list_identifiers(
    State(state): State<AppState>,
    Caller(who): Caller,
    ApiPath(p): ApiPath<SubjectPath>,
) -> Result<ApiJson<Vec<IdentifierView>>, ApiError> {
    Ok(ApiJson(
        state.vault().list_identifiers(&who, p.subject_id).await?,
    ))
}

#[utoipa::path(
    delete,
    path = "/v1/subjects/{subject_id}/identifiers/{identifier_id}",
    tag = "identifiers",
    operation_id = "deleteIdentifier",
    params(IdentifierPath),
    responses((status = 204, description = "The identifier was deleted")),
)]
pub async fn delete_identifier(
    State(state): State<AppState>,
    Caller(who): Caller,
    ApiPath(p): ApiPath<IdentifierPath>,
) -> Result<StatusCode, ApiError> {
    state
        .vault()
        .delete_identifier(&who, p.subject_id, p.identifier_id)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}
