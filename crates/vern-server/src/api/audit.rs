//! `GET /v1/audit/verify`: checks the audit log's hash chain. Needs `audit.read`.

use axum::extract::State;

use crate::AppState;
use crate::auth::Caller;
use crate::error::ApiError;
use crate::json::ApiJson;
use crate::vault::AuditVerification;

/// Walks the hash chain; reports the first broken link, if any.
#[utoipa::path(
    get,
    path = "/v1/audit/verify",
    tag = "audit",
    operation_id = "verifyAudit",
    responses(
        (status = 200, description = "The outcome (`ok: false` names the first broken entry)",
         body = AuditVerification,
         example = json!({"ok": true, "entries": 42})),
    ),
)]
pub async fn verify_audit(
    State(state): State<AppState>,
    Caller(who): Caller,
) -> Result<ApiJson<AuditVerification>, ApiError> {
    Ok(ApiJson(state.vault().verify_audit(&who).await?))
}
