//! Identity by a signed token (method (b)): a user logged in to one of the company's apps is
//! identified by the app passing the user's token from a trusted OpenID Connect issuer. The
//! token is checked by [`crate::oidc::OidcVerifier`] (discovery and JWKS fetched and cached by
//! `kid`; RS256/ES256 only; issuer, audience, expiry and not-before checked at the vault's
//! clock); its `sub` is looked up as an identifier of the configured kind. The token is never
//! stored: the case file records only the method and the issuer, so nothing is left to delete.

use std::sync::Arc;

use vern_store::Store;

use crate::oidc::{OidcError, OidcVerifier};

use super::super::{IdentifierInput, Vault, VaultError, VaultResult};

/// Trusted issuers for request verification, and the identifier kind holding `sub`.
#[derive(Clone)]
pub struct RequestOidc {
    pub verifier: OidcVerifier,
    /// E.g. `external:app_login`: subjects carry the issuer's `sub` under this kind.
    pub identifier_kind: String,
}

/// What a verified token establishes.
pub(super) struct TokenIdentity {
    pub issuer: String,
    /// The subject holding the token's `sub`, if vern knows one.
    pub subject: Option<uuid::Uuid>,
}

impl Vault {
    /// Enables identity verification by OIDC tokens at submission.
    pub fn set_request_oidc(&self, config: Option<RequestOidc>) {
        let mut guard = self
            .request_oidc
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        *guard = config.map(Arc::new);
    }

    pub(super) async fn verify_request_token(&self, token: &str) -> VaultResult<TokenIdentity> {
        let config = self
            .request_oidc
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone();
        let Some(config) = config else {
            return Err(VaultError::field(
                "id_token",
                "oidc_not_configured",
                "this server trusts no token issuer for requests; verify by email link or staff",
            ));
        };
        let verified = match config.verifier.verify(token, self.clock().now()).await {
            Ok(v) => v,
            Err(OidcError::Unavailable(e)) => {
                return Err(VaultError::Unavailable(format!(
                    "the token issuer's keys are unavailable: {e}"
                )));
            }
            Err(e) => {
                return Err(VaultError::field(
                    "id_token",
                    "invalid_token",
                    e.to_string(),
                ));
            }
        };
        let (kind, value) = self
            .normalise_identifier(
                "id_token.sub",
                &IdentifierInput {
                    kind: config.identifier_kind.clone(),
                    value: verified.subject.clone(),
                },
            )
            .map_err(|e| VaultError::Validation(vec![e]))?;
        let subject = self
            .store
            .find_by_blind_index(self.tenant, &kind, &self.blind_index(&kind, &value))
            .await
            .map_err(VaultError::store("subject"))?;
        Ok(TokenIdentity {
            issuer: verified.issuer,
            subject,
        })
    }
}
