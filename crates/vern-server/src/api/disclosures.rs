//! `/v1/disclosures`: the disclosure register. Recording needs `disclosures.write` (and
//! `disclosures.approve` for authorities); reading a subject's entries needs
//! `disclosures.read`.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;

use super::SubjectPath;
use super::subjects::created;
use crate::AppState;
use crate::auth::Caller;
use crate::error::ApiError;
use crate::json::{ApiJson, ApiPath};
use crate::vault::{DisclosureInput, DisclosureReceipt, DisclosureView};

/// Records a disclosure of subjects' data to a recipient named in the policy. Refused (422)
/// for an unknown recipient, a purpose the recipient is not registered for, a category it may
/// not receive, a transfer without a valid safeguard, or an authority without a legal decision.
#[utoipa::path(
    post,
    path = "/v1/disclosures",
    tag = "disclosures",
    operation_id = "recordDisclosure",
    request_body = DisclosureInput,
    responses(
        (status = 201, description = "Recorded", body = DisclosureReceipt),
    ),
)]
pub async fn record_disclosure(
    State(state): State<AppState>,
    Caller(who): Caller,
    ApiJson(input): ApiJson<DisclosureInput>,
) -> Result<Response, ApiError> {
    let receipt = state.vault().record_disclosure(&who, &input).await?;
    let location = format!("/v1/disclosures/{}", receipt.disclosure_id);
    Ok(created(StatusCode::CREATED, location, receipt))
}

/// Every disclosure of one subject's data, oldest first, including those under a
/// non-disclosure order (the privacy team's view).
#[utoipa::path(
    get,
    path = "/v1/subjects/{subject_id}/disclosures",
    tag = "disclosures",
    operation_id = "listSubjectDisclosures",
    params(SubjectPath),
    responses(
        (status = 200, description = "The subject's entries in the register", body = Vec<DisclosureView>),
    ),
)]
pub async fn list_subject_disclosures(
    State(state): State<AppState>,
    Caller(who): Caller,
    ApiPath(path): ApiPath<SubjectPath>,
) -> Result<ApiJson<Vec<DisclosureView>>, ApiError> {
    Ok(ApiJson(
        state
            .vault()
            .subject_disclosures(&who, path.subject_id)
            .await?,
    ))
}
