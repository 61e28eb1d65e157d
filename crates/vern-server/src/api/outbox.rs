//! `/v1/outbox`: queued and sent mail for administrators, and a test message to check the SMTP
//! set-up. Without SMTP configured, mail waits here.

use axum::extract::State;
use axum::http::StatusCode;
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::AppState;
use crate::auth::Caller;
use crate::error::ApiError;
use crate::json::{ApiJson, ApiPath, ApiQuery};
use crate::vault::{MailView, OutboxView};

/// `/v1/outbox/{message_id}`
#[derive(Debug, Clone, Copy, Deserialize, IntoParams)]
#[into_params(parameter_in = Path)]
pub struct MessagePath {
    pub message_id: Uuid,
}

#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct OutboxQuery {
    /// `queued`, `sent` or `failed`; all when absent.
    #[serde(default)]
    pub state: Option<String>,
    /// Only mail about this subject.
    #[serde(default)]
    pub subject_id: Option<Uuid>,
    /// At most this many, newest first (default 100, 1 to 1000).
    #[serde(default)]
    #[param(minimum = 1, maximum = 1000)]
    pub limit: Option<u32>,
}

/// A test message.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TestMailRequest {
    /// Where to send it.
    #[schema(example = "privacy-team@example.com")]
    pub to: String,
    /// `nb` or `en` (default `en`).
    #[serde(default)]
    #[schema(example = "nb")]
    pub lang: Option<String>,
}

/// The outbox, newest first: no addresses or content.
#[utoipa::path(
    get,
    path = "/v1/outbox",
    tag = "outbox",
    operation_id = "listOutbox",
    params(OutboxQuery),
    responses((status = 200, description = "Messages", body = Vec<OutboxView>)),
)]
pub async fn list_outbox(
    State(state): State<AppState>,
    Caller(who): Caller,
    ApiQuery(q): ApiQuery<OutboxQuery>,
) -> Result<ApiJson<Vec<OutboxView>>, ApiError> {
    Ok(ApiJson(
        state
            .vault()
            .list_outbox(
                &who,
                q.state.as_deref(),
                q.subject_id,
                q.limit.unwrap_or(100),
            )
            .await?,
    ))
}

/// One message with its address and content while it waits (an audited read).
#[utoipa::path(
    get,
    path = "/v1/outbox/{message_id}",
    tag = "outbox",
    operation_id = "getOutboxMessage",
    params(MessagePath),
    responses((status = 200, description = "The message", body = MailView)),
)]
pub async fn get_message(
    State(state): State<AppState>,
    Caller(who): Caller,
    ApiPath(p): ApiPath<MessagePath>,
) -> Result<ApiJson<MailView>, ApiError> {
    Ok(ApiJson(state.vault().read_mail(&who, p.message_id).await?))
}

/// Queues a test message (checks SMTP end to end).
#[utoipa::path(
    post,
    path = "/v1/outbox/test",
    tag = "outbox",
    operation_id = "sendTestMail",
    request_body = TestMailRequest,
    responses((status = 202, description = "Queued", body = OutboxView)),
)]
pub async fn send_test(
    State(state): State<AppState>,
    Caller(who): Caller,
    ApiJson(body): ApiJson<TestMailRequest>,
) -> Result<(StatusCode, ApiJson<OutboxView>), ApiError> {
    let lang = body.lang.as_deref().unwrap_or("en");
    let view = state.vault().send_test_mail(&who, &body.to, lang).await?;
    Ok((StatusCode::ACCEPTED, ApiJson(view)))
}
