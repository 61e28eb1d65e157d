//! Bearer-token authentication: `Authorization: Bearer vern_…` → SHA-256 → token row → the
//! [`Principal`] the vault checks every operation against.
//!
//! Missing, malformed, unknown and revoked tokens all get the same 401 (with
//! `WWW-Authenticate: Bearer`), so a client cannot tell which it was. Permissions are not
//! checked here: the vault checks them per operation (403), where the category rules live too.
//! See `vault::tokens` for why the hash lookup needs no constant-time comparison.

use axum::extract::FromRequestParts;
use axum::http::header;
use axum::http::request::Parts;

use crate::AppState;
use crate::error::ApiError;
use crate::vault::{Principal, Vault, VaultResult};

/// The authenticated caller of a request.
#[derive(Debug, Clone)]
pub struct Caller(pub Principal);

impl FromRequestParts<AppState> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let secret = bearer(parts).ok_or_else(|| {
            ApiError::unauthorized("send an API token as `Authorization: Bearer vern_…`")
        })?;
        match state.vault().authenticate(secret).await? {
            Some(principal) => Ok(Caller(principal)),
            None => Err(ApiError::unauthorized(
                "the token is unknown, revoked, or its role is no longer in the policy",
            )),
        }
    }
}

/// The token of an `Authorization: Bearer …` header (scheme case-insensitive, RFC 7235).
fn bearer(parts: &Parts) -> Option<&str> {
    let value = parts.headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    let token = token.trim();
    (scheme.eq_ignore_ascii_case("bearer") && !token.is_empty()).then_some(token)
}

/// If no token exists yet, creates an `admin` token named `initial-admin` and returns the
/// secret, for `vern serve` to print once on first start.
pub async fn ensure_initial_admin_token(vault: &Vault) -> VaultResult<Option<String>> {
    vault.ensure_initial_admin_token().await
}
