//! `/v1/tokens`: create (the secret is shown once), list, revoke. Needs `tokens.manage`.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use serde::Deserialize;
use utoipa::ToSchema;

use super::TokenPath;
use super::subjects::created;
use crate::AppState;
use crate::auth::Caller;
use crate::error::ApiError;
use crate::json::{ApiJson, ApiPath};
use crate::vault::{NewToken, TokenView};

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"name": "crm-sync", "role": "service"}))]
pub struct TokenInput {
    /// A label for operators (1–100 characters).
    #[schema(
        min_length = 1,
        max_length = 100,
        pattern = r"^[^\u0000-\u001F\u007F-\u009F]*[^\s\u0000-\u001F\u007F-\u009F][^\u0000-\u001F\u007F-\u009F]*$"
    )]
    pub name: String,
    /// A role id from the policy.
    pub role: String,
}

/// Creates an API token. The secret is in this response only; vern keeps its hash.
#[utoipa::path(
    post,
    path = "/v1/tokens",
    tag = "tokens",
    operation_id = "createToken",
    request_body = TokenInput,
    responses(
        (status = 201, description = "The token; keep the secret, it is not shown again",
         body = NewToken,
         links(("RevokeToken" = (operation_id = "revokeToken",
            parameters(("token_id" = "$response.body#/id")))))),
    ),
)]
pub async fn create_token(
    State(state): State<AppState>,
    Caller(who): Caller,
    ApiJson(input): ApiJson<TokenInput>,
) -> Result<Response, ApiError> {
    let token = state
        .vault()
        .create_token(&who, &input.name, &input.role)
        .await?;
    let location = format!("/v1/tokens/{}", token.token.id);
    Ok(created(StatusCode::CREATED, location, token))
}

#[utoipa::path(
    get,
    path = "/v1/tokens",
    tag = "tokens",
    operation_id = "listTokens",
    responses((status = 200, description = "All tokens, without secrets", body = Vec<TokenView>)),
)]
pub async fn list_tokens(
    State(state): State<AppState>,
    Caller(who): Caller,
) -> Result<ApiJson<Vec<TokenView>>, ApiError> {
    Ok(ApiJson(state.vault().list_tokens(&who).await?))
}

/// Revokes a token; requests with it are refused from now on.
#[utoipa::path(
    delete,
    path = "/v1/tokens/{token_id}",
    tag = "tokens",
    operation_id = "revokeToken",
    params(TokenPath),
    responses((status = 204, description = "The token was revoked")),
)]
pub async fn revoke_token(
    State(state): State<AppState>,
    Caller(who): Caller,
    ApiPath(p): ApiPath<TokenPath>,
) -> Result<StatusCode, ApiError> {
    state.vault().revoke_token(&who, p.token_id).await?;
    Ok(StatusCode::NO_CONTENT)
}
