//! `Idempotency-Key` on creates: a retried request gets the original outcome instead of a
//! second resource.
//!
//! What is stored per (tenant, token, key) is a keyed digest of method, path and body, the
//! status, and the *id* of what was created — never the response body, which holds decrypted
//! personal data that must not sit unencrypted in the idempotency table. A replay reads the
//! resource again through the vault (so it is audited, and an erased subject stays erased).
//! The same key with a different request is a 422. Two concurrent first uses of one key can
//! both run; the second `put` then loses quietly, which is the usual at-least-once window.

use axum::extract::FromRequestParts;
use axum::http::StatusCode;
use axum::http::request::Parts;
use serde::{Deserialize, Serialize};
use uuid::Uuid;
use vern_store::{IdempotencyRow, Store};

use crate::AppState;
use crate::error::{ApiError, FieldError, ProblemKind};
use crate::vault::{Actor, Principal};

pub const HEADER: &str = "idempotency-key";

/// The optional `Idempotency-Key` header: 1–255 visible ASCII characters.
#[derive(Debug, Clone, Default)]
pub struct IdempotencyKey(pub Option<String>);

impl<S: Send + Sync> FromRequestParts<S> for IdempotencyKey {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, ApiError> {
        let Some(value) = parts.headers.get(HEADER) else {
            return Ok(IdempotencyKey(None));
        };
        let ok = !value.is_empty()
            && value.len() <= 255
            && value.as_bytes().iter().all(|b| b.is_ascii_graphic());
        match value.to_str() {
            Ok(s) if ok => Ok(IdempotencyKey(Some(s.to_owned()))),
            _ => Err(ApiError::validation(vec![FieldError::new(
                "Idempotency-Key",
                "invalid_header",
                "expected 1 to 255 visible ASCII characters",
            )])),
        }
    }
}

#[derive(Serialize, Deserialize)]
struct Stored {
    id: Uuid,
}

/// A request under an idempotency key, between the check and the remembering.
pub struct Pending {
    token: Uuid,
    key: String,
    digest: Vec<u8>,
}

/// What to do with a create request.
pub enum Outcome {
    /// No key (or not a token caller): just run it.
    Run,
    /// First use of the key: run it, then [`remember`] the result.
    First(Pending),
    /// A retry: answer with the resource created the first time, with this status.
    Replay(StatusCode, Uuid),
}

/// Looks the key up and decides how the request proceeds.
pub async fn check(
    state: &AppState,
    who: &Principal,
    key: IdempotencyKey,
    method: &str,
    path: &str,
    body: &[u8],
) -> Result<Outcome, ApiError> {
    let (Some(key), Actor::Token(token)) = (key.0, who.actor) else {
        return Ok(Outcome::Run);
    };
    let vault = state.vault();
    let digest = vault.request_digest(method, path, body);
    let stored = vault
        .store()
        .get_idempotent(vault.tenant(), token, &key)
        .await
        .map_err(ApiError::internal)?;
    match stored {
        None => Ok(Outcome::First(Pending { token, key, digest })),
        // The digest is compared in constant time: it is keyed by the server, but nothing about
        // a stored request should leak through how long a mismatch takes to answer.
        Some(row) if digest_matches(&row.request_hash, &digest) => {
            let stored: Stored = serde_json::from_slice(&row.body).map_err(ApiError::internal)?;
            let status = StatusCode::from_u16(row.status).unwrap_or(StatusCode::CREATED);
            Ok(Outcome::Replay(status, stored.id))
        }
        Some(_) => Err(ApiError::new(
            ProblemKind::IdempotencyKeyReused,
            "this Idempotency-Key was used for a different request",
        )),
    }
}

/// Whether a stored request digest equals the presented one (constant time).
fn digest_matches(stored: &[u8], given: &[u8]) -> bool {
    vern_core::crypto::constant_time_eq(stored, given)
}

/// Stores the outcome of a first use. A failure here is logged, not returned: the resource
/// exists, and the client should learn that.
pub async fn remember(state: &AppState, outcome: Outcome, status: StatusCode, id: Uuid) {
    let Outcome::First(p) = outcome else { return };
    let vault = state.vault();
    let row = IdempotencyRow {
        tenant_id: vault.tenant(),
        token_id: p.token,
        key: p.key,
        request_hash: p.digest,
        status: status.as_u16(),
        body: serde_json::to_vec(&Stored { id }).unwrap_or_default(),
        created_at: vern_core::ids::to_micros(vault.clock().now()),
    };
    if let Err(e) = vault.store().put_idempotent(row).await {
        tracing::warn!(error = %e, "could not store an idempotency key");
    }
}

#[cfg(test)]
mod tests {
    use super::digest_matches;

    #[test]
    fn digests_compare_by_content_and_length() {
        assert!(digest_matches(&[1, 2, 3], &[1, 2, 3]));
        assert!(!digest_matches(&[1, 2, 3], &[1, 2, 4]));
        assert!(!digest_matches(&[1, 2, 3], &[1, 2]));
        assert!(!digest_matches(&[], &[0]));
    }
}
