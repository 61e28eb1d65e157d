//! API tokens (random secrets, stored as SHA-256, shown once) and the audit-chain check.
//!
//! Why no constant-time comparison: a presented token is hashed and looked up by its hash with
//! an exact index match. Timing can at most reveal how much of a *hash* matched a stored one,
//! which says nothing useful about any secret (finding a token with a chosen hash prefix is a
//! preimage search). The secrets themselves are 256-bit random, so guessing is hopeless too.

use serde_json::json;
use uuid::Uuid;
use vern_core::access::Permission;
use vern_core::crypto::{generate_token, hash_token};
use vern_core::ids::new_id;
use vern_store::{Store, TokenRow};

use super::{
    Actor, AuditVerification, NewToken, Principal, TokenView, Vault, VaultError, VaultResult,
    time_of,
};

/// Name of the token `vern serve` creates on an empty database.
pub const INITIAL_ADMIN_TOKEN_NAME: &str = "initial-admin";

fn view(row: &TokenRow) -> TokenView {
    TokenView {
        id: row.id,
        name: row.name.clone(),
        role: row.role.clone(),
        created_at: time_of(row.created_at),
        revoked_at: row.revoked_at.map(time_of),
    }
}

impl Vault {
    /// `actor` in the policy's admin role (the first role with `admin = true`), e.g. the CLI
    /// operator: `vault.admin_principal(Actor::Cli)`.
    pub fn admin_principal(&self, actor: Actor) -> VaultResult<Principal> {
        self.policy()
            .raw
            .roles
            .iter()
            .find(|r| r.admin)
            .map(|r| Principal::new(actor, r.id.get_ref().clone()))
            .ok_or_else(|| VaultError::Internal("the policy declares no admin role".into()))
    }

    /// The principal a presented secret stands for: a known, unrevoked token whose role the
    /// loaded policy still declares. `None` for anything else (the caller answers 401).
    pub async fn authenticate(&self, secret: &str) -> VaultResult<Option<Principal>> {
        let hash = hash_token(secret);
        if let Some(who) = self.cache.token(&hash) {
            return Ok(Some(who));
        }
        let started = self.cache.begin_fill();
        let row = self
            .store
            .find_token_by_hash(&hash)
            .await
            .map_err(|e| VaultError::Internal(e.to_string()))?;
        // The row was found by an index match on the hash (see the module comment); the
        // constant-time re-check guards against a store that matched loosely (collation, prefix).
        let who = row
            .filter(|r| vern_core::crypto::constant_time_eq(&r.token_hash, &hash))
            .filter(|r| r.revoked_at.is_none() && r.tenant_id == self.tenant)
            .filter(|r| self.role_exists(&r.role))
            .map(|r| Principal::new(Actor::Token(r.id), r.role));
        // Only valid tokens are remembered; a revocation anywhere clears them all.
        if let Some(who) = &who {
            self.cache.put_token(started, hash.to_vec(), who.clone());
        }
        Ok(who)
    }

    /// Creates a token for a policy role; the secret is in the result and nowhere else.
    pub async fn create_token(
        &self,
        who: &Principal,
        name: &str,
        role: &str,
    ) -> VaultResult<NewToken> {
        self.require(who, Permission::TokensManage)?;
        self.create_token_unchecked(who, name, role).await
    }

    async fn create_token_unchecked(
        &self,
        who: &Principal,
        name: &str,
        role: &str,
    ) -> VaultResult<NewToken> {
        let mut errors = Vec::new();
        if name.trim().is_empty()
            || name.chars().count() > 100
            || name.chars().any(char::is_control)
        {
            errors.push(crate::error::FieldError::new(
                "name",
                "invalid_name",
                "the name must be 1 to 100 printable characters",
            ));
        }
        if !self.role_exists(role) {
            errors.push(crate::error::FieldError::new(
                "role",
                "unknown_role",
                "the policy declares no role with this id",
            ));
        }
        if !errors.is_empty() {
            return Err(VaultError::Validation(errors));
        }
        let secret = generate_token();
        let row = TokenRow {
            tenant_id: self.tenant,
            id: new_id(),
            name: name.to_owned(),
            role: role.to_owned(),
            token_hash: hash_token(&secret).to_vec(),
            created_at: self.now(),
            revoked_at: None,
        };
        // The name is the operator's label, left out of the audit in case it names a person.
        let audit = vec![self.audit(
            who,
            "token.create",
            None,
            None,
            json!({ "token": row.id, "role": row.role }),
        )];
        self.store
            .create_token(row.clone(), audit)
            .await
            .map_err(VaultError::store("token"))?;
        Ok(NewToken {
            token: view(&row),
            secret,
        })
    }

    pub async fn list_tokens(&self, who: &Principal) -> VaultResult<Vec<TokenView>> {
        self.require(who, Permission::TokensManage)?;
        let rows = self
            .store
            .list_tokens(self.tenant)
            .await
            .map_err(VaultError::store("token"))?;
        Ok(rows.iter().map(view).collect())
    }

    pub async fn revoke_token(&self, who: &Principal, id: Uuid) -> VaultResult<()> {
        self.require(who, Permission::TokensManage)?;
        let audit = vec![self.audit(who, "token.revoke", None, None, json!({ "token": id }))];
        let done = self
            .store
            .revoke_token(self.tenant, id, self.now(), audit)
            .await;
        self.cache.evict_tokens();
        done.map_err(VaultError::store("token"))
    }

    /// On an empty token table, creates an `admin` token named `initial-admin` and returns its
    /// secret for `vern serve` to print once. Two nodes starting together on one empty
    /// PostgreSQL may each create one; both are listed and can be revoked.
    pub async fn ensure_initial_admin_token(&self) -> VaultResult<Option<String>> {
        let count = self
            .store
            .count_tokens()
            .await
            .map_err(VaultError::store("token"))?;
        if count > 0 {
            return Ok(None);
        }
        let system = self.admin_principal(Actor::System)?;
        let token = self
            .create_token_unchecked(&system, INITIAL_ADMIN_TOKEN_NAME, &system.role)
            .await?;
        Ok(Some(token.secret))
    }

    /// Checks the tenant's audit hash chain from the start.
    pub async fn verify_audit(&self, who: &Principal) -> VaultResult<AuditVerification> {
        self.require(who, Permission::AuditRead)?;
        let outcome = self
            .store
            .verify_audit(self.tenant)
            .await
            .map_err(|e| VaultError::Internal(e.to_string()))?;
        let report = match outcome {
            Ok(entries) => AuditVerification {
                ok: true,
                entries,
                seq: None,
                reason: None,
            },
            Err(broken) => AuditVerification {
                ok: false,
                entries: u64::try_from(broken.seq.saturating_sub(1)).unwrap_or(0),
                seq: Some(broken.seq),
                reason: Some(broken.reason.to_string()),
            },
        };
        // The check itself is an admin action; it is logged after it ran, so it never checks
        // its own entry.
        self.append_audit(vec![self.audit(
            who,
            "audit.verify",
            None,
            None,
            json!({ "ok": report.ok, "entries": report.entries, "seq": report.seq }),
        )])
        .await?;
        Ok(report)
    }
}
