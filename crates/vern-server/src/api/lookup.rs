//! `POST /v1/lookup`: find a subject by identifier. The identifier travels in the body, so it
//! never appears in URLs, access logs or proxy caches.

use axum::extract::State;
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::AppState;
use crate::auth::Caller;
use crate::error::ApiError;
use crate::json::ApiJson;
use crate::vault::IdentifierInput;

#[derive(Debug, Serialize, ToSchema)]
pub struct LookupResult {
    pub subject_id: Uuid,
}

/// The subject holding an identifier (normalised, then matched by blind index only).
#[utoipa::path(
    post,
    path = "/v1/lookup",
    tag = "subjects",
    operation_id = "lookupSubject",
    request_body = IdentifierInput,
    responses(
        (status = 200, description = "The subject holding the identifier", body = LookupResult,
         links(("GetSubject" = (operation_id = "getSubject",
            parameters(("subject_id" = "$response.body#/subject_id")))))),
    ),
)]
pub async fn lookup(
    State(state): State<AppState>,
    Caller(who): Caller,
    ApiJson(input): ApiJson<IdentifierInput>,
) -> Result<ApiJson<LookupResult>, ApiError> {
    let subject_id = state.vault().lookup(&who, &input).await?;
    Ok(ApiJson(LookupResult { subject_id }))
}
