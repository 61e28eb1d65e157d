//! What the web layer (the portal and the admin console, `crate::web`) needs from the vault
//! beyond the API's operations. Nothing here returns personal data.

use serde_json::json;
use uuid::Uuid;
use vern_core::access::Permission;
use vern_core::crypto::hash_token;
use vern_store::{RequestStore, Store};

use super::{
    Actor, AuditVerification, IdentifierInput, Principal, RequestView, Vault, VaultError,
    VaultResult, time_of,
};

/// One audit entry as the console lists it: ids, action names and counts only (the audit log
/// holds no personal data by construction).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditEntryView {
    pub seq: i64,
    pub at: time::OffsetDateTime,
    pub actor: String,
    pub action: String,
    pub subject_id: Option<Uuid>,
    pub purpose: Option<String>,
    pub detail: String,
}

impl Vault {
    /// The principal the portal acts as: the policy's admin role, narrowed by the web layer to
    /// what a person may do for themselves (submit a request, read and change their own
    /// consents after proving control of the address). Audited as `portal`.
    pub fn portal_principal(&self) -> VaultResult<Principal> {
        self.admin_principal(Actor::Portal)
    }

    /// The principal behind a session that holds an API token's hash (not its secret): the
    /// token must still exist, be unrevoked and have a role the policy declares.
    pub async fn authenticate_hash(&self, hash: &[u8; 32]) -> VaultResult<Option<Principal>> {
        let row = self
            .store
            .find_token_by_hash(hash)
            .await
            .map_err(|e| VaultError::Internal(e.to_string()))?;
        // Keyed lookup by hash, re-checked in constant time (see `authenticate`).
        Ok(row
            .filter(|r| vern_core::crypto::constant_time_eq(&r.token_hash, hash))
            .filter(|r| r.revoked_at.is_none() && r.tenant_id == self.tenant)
            .filter(|r| self.role_exists(&r.role))
            .map(|r| Principal::new(Actor::Token(r.id), r.role)))
    }

    /// The request a verification link belongs to, if the link is live (the portal keeps it in
    /// the person's session to show the status after the code is confirmed).
    pub async fn verification_request(&self, token: &str) -> VaultResult<Option<Uuid>> {
        let presented = hash_token(token);
        let row = self
            .store
            .find_verification(&presented)
            .await
            .map_err(VaultError::store("verification link"))?;
        Ok(row
            .filter(|v| vern_core::crypto::constant_time_eq(&v.token_hash, &presented))
            .filter(|v| v.tenant_id == self.tenant && v.expires_at >= self.now())
            .map(|v| v.request_id))
    }

    /// A request's state and deadlines (no personal data), for the person who submitted it:
    /// the portal only asks for ids held in that person's session.
    pub async fn request_status(&self, id: Uuid) -> VaultResult<RequestView> {
        let row = self
            .store
            .get_request(self.tenant, id)
            .await
            .map_err(VaultError::store("request"))?;
        self.view_of(&row)
    }

    /// The subject an email address belongs to, for the portal's login link (audited as a
    /// `subject.lookup` by `portal`). `None` when unknown: the portal answers the same either way.
    pub async fn portal_lookup_email(&self, email: &str) -> VaultResult<Option<Uuid>> {
        let who = self.portal_principal()?;
        let input = IdentifierInput {
            kind: "email".into(),
            value: email.to_owned(),
        };
        match self.lookup(&who, &input).await {
            Ok(id) => Ok(Some(id)),
            Err(VaultError::NotFound(_) | VaultError::Validation(_)) => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// The chain status and the newest `limit` entries, newest first (`audit.read`).
    pub async fn recent_audit(
        &self,
        who: &Principal,
        limit: u32,
    ) -> VaultResult<(AuditVerification, Vec<AuditEntryView>)> {
        self.require(who, Permission::AuditRead)?;
        let limit = limit.clamp(1, 500);
        let verification = self.verify_audit(who).await?;
        let head = self
            .store
            .read_audit(self.tenant, 1, 1)
            .await
            .map_err(|e| VaultError::Internal(e.to_string()))?;
        let first = head.first().map_or(1, |r| r.seq);
        let last = first + i64::try_from(verification.entries).unwrap_or(0);
        let from = (last - i64::from(limit)).max(1);
        let mut rows = self
            .store
            .read_audit(self.tenant, from, limit + 5)
            .await
            .map_err(|e| VaultError::Internal(e.to_string()))?;
        rows.reverse();
        rows.truncate(limit as usize);
        self.append_audit(vec![self.audit(
            who,
            "audit.read",
            None,
            None,
            json!({ "entries": rows.len() }),
        )])
        .await?;
        Ok((
            verification,
            rows.into_iter()
                .map(|r| AuditEntryView {
                    seq: r.seq,
                    at: time_of(r.entry.at),
                    actor: r.entry.actor,
                    action: r.entry.action,
                    subject_id: r.entry.subject_id,
                    purpose: r.entry.purpose,
                    detail: r.entry.detail,
                })
                .collect(),
        ))
    }
}
