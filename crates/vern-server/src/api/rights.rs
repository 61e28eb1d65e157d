//! Fulfilment of data-subject rights, for admins and for the request workflow:
//! `POST /v1/subjects/{subject_id}/erasure` (Art. 17, with exceptions and a dry run).

use axum::extract::State;
use serde::Deserialize;
use utoipa::IntoParams;

use super::SubjectPath;
use crate::AppState;
use crate::auth::Caller;
use crate::error::ApiError;
use crate::json::{ApiJson, ApiPath, ApiQuery};
use crate::vault::ErasureOutcome;

#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ErasureQuery {
    /// Compute the outcome without changing anything.
    #[serde(default)]
    pub dry_run: bool,
}

/// Erases the subject as far as the law allows: records under an erasure exception (e.g.
/// invoices under bookkeeping law) or a legal hold are kept and listed with their legal
/// reference and end date (`outcome = partially_refused`); everything else, the identifiers and,
/// when nothing remains, the key are destroyed; addresses go on the suppression list; the
/// recipients to notify come from the disclosure register.
#[utoipa::path(
    post,
    path = "/v1/subjects/{subject_id}/erasure",
    tag = "rights",
    operation_id = "eraseSubjectOnRequest",
    params(SubjectPath, ErasureQuery),
    responses((status = 200, description = "What was erased and what was kept, and why",
        body = ErasureOutcome)),
)]
pub async fn erase_on_request(
    State(state): State<AppState>,
    Caller(who): Caller,
    ApiPath(p): ApiPath<SubjectPath>,
    ApiQuery(q): ApiQuery<ErasureQuery>,
) -> Result<ApiJson<ErasureOutcome>, ApiError> {
    Ok(ApiJson(
        state
            .vault()
            .erase_on_request(&who, p.subject_id, q.dry_run)
            .await?,
    ))
}
