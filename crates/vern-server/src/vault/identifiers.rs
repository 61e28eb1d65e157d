//! Identifiers: normalised, sealed under the subject key, and findable only through a keyed
//! blind index, so the plaintext is never stored or queried.

use std::borrow::Cow;

use serde_json::json;
use uuid::Uuid;
use vern_core::access::Permission;
use vern_core::crypto::{Aad, SubjectKey, open, seal};
use vern_core::identifier::{IdentifierKind, normalise};
use vern_core::ids::new_id;
use vern_store::{IdentifierRow, Store};

use super::records::join;
use super::{IdentifierInput, IdentifierView, Principal, Vault, VaultError, VaultResult, time_of};
use crate::error::FieldError;

impl Vault {
    /// `(kind, normalised value)`, or a field error under `prefix` naming the rule (never the
    /// value).
    pub(crate) fn normalise_identifier(
        &self,
        prefix: &str,
        input: &IdentifierInput,
    ) -> Result<(String, String), FieldError> {
        self.normalise_kind_value(prefix, &input.kind, &input.value)
    }

    /// [`Self::normalise_identifier`] of a borrowed kind and value.
    pub(crate) fn normalise_kind_value(
        &self,
        prefix: &str,
        kind: &str,
        value: &str,
    ) -> Result<(String, String), FieldError> {
        self.normalise_kind_value_static(prefix, kind, value)
            .map(|(kind, value)| (kind.into_owned(), value))
    }

    /// [`Self::normalise_kind_value`] with the kind borrowed from `'static` where it is one of
    /// the fixed kinds, for paths that look up many addresses (no allocation for the kind).
    pub(crate) fn normalise_kind_value_static(
        &self,
        prefix: &str,
        kind: &str,
        value: &str,
    ) -> Result<(Cow<'static, str>, String), FieldError> {
        let kind = IdentifierKind::parse(kind)
            .map_err(|e| FieldError::new(join(prefix, "kind"), e.code(), e.to_string()))?;
        let value = normalise(&kind, value)
            .map_err(|e| FieldError::new(join(prefix, "value"), e.code(), e.to_string()))?;
        let name = match kind {
            IdentifierKind::Email => Cow::Borrowed("email"),
            IdentifierKind::Phone => Cow::Borrowed("phone"),
            IdentifierKind::LoginId => Cow::Borrowed("login_id"),
            IdentifierKind::Username => Cow::Borrowed("username"),
            IdentifierKind::External(_) => Cow::Owned(kind.as_str().into_owned()),
        };
        Ok((name, value))
    }

    /// Seals a normalised identifier into a row (and its plaintext view).
    pub(crate) fn seal_identifier(
        &self,
        key: &SubjectKey,
        subject: Uuid,
        kind: String,
        value: String,
        now: i64,
    ) -> VaultResult<(IdentifierRow, IdentifierView)> {
        let id = new_id();
        let row = IdentifierRow {
            tenant_id: self.tenant,
            id,
            subject_id: subject,
            blind_index: self.blind_index(&kind, &value),
            value_ct: seal(
                key,
                &Aad::identifier_value(self.tenant, subject, id),
                value.as_bytes(),
            )?,
            kind: kind.clone(),
            created_at: now,
        };
        let view = IdentifierView {
            id,
            kind,
            value,
            created_at: time_of(now),
        };
        Ok((row, view))
    }

    pub(super) fn open_identifier(
        &self,
        key: &SubjectKey,
        row: &IdentifierRow,
    ) -> VaultResult<IdentifierView> {
        let plain = open(
            key,
            &Aad::identifier_value(self.tenant, row.subject_id, row.id),
            &row.value_ct,
        )?;
        let value = String::from_utf8(plain)
            .map_err(|_| VaultError::Internal(format!("identifier {} is not UTF-8", row.id)))?;
        Ok(IdentifierView {
            id: row.id,
            kind: row.kind.clone(),
            value,
            created_at: time_of(row.created_at),
        })
    }

    /// Whether the role may read identifiers of `kind`.
    ///
    /// Identifiers carry no category of their own, so they are matched to the policy's
    /// categories by name: kind `email` to the categories whose last segment is `email`
    /// (`contact.email`), `phone` to `contact.phone`, `login_id` and `username` to
    /// `account.login_id` and `account.username`. A role sees a kind if it covers such a
    /// category or one under it — so a recruiter (recruitment data only) sees no customer's
    /// email. External system ids are pseudonymous foreign keys, visible to every role that may
    /// read subjects. A kind the policy has no category for is visible to `*` roles only.
    pub(crate) fn can_read_identifier_kind(&self, who: &Principal, kind: &str) -> bool {
        if kind.starts_with("external:") {
            return true;
        }
        let policy = self.policy();
        let mut named = policy
            .raw
            .categories
            .iter()
            .map(|c| c.id.get_ref().as_str())
            .filter(|id| id.rsplit('.').next() == Some(kind))
            .peekable();
        if named.peek().is_none() {
            return policy
                .role(&who.role)
                .is_some_and(|r| r.categories.get_ref().iter().any(|c| c.get_ref() == "*"));
        }
        named.any(|id| {
            policy
                .categories_under(id)
                .any(|c| self.can_category(who, c.id.get_ref()))
        })
    }

    /// The subject's identifiers the role may read, opened, and the audit entries for the read
    /// (and for the kinds withheld, if any).
    pub(crate) async fn open_readable_identifiers(
        &self,
        who: &Principal,
        key: &SubjectKey,
        subject: Uuid,
    ) -> VaultResult<(Vec<IdentifierView>, Vec<vern_store::NewAuditEntry>)> {
        let rows = self
            .store
            .list_identifiers(self.tenant, subject)
            .await
            .map_err(VaultError::store("subject"))?;
        let (allowed, denied): (Vec<_>, Vec<_>) = rows
            .iter()
            .partition(|r| self.can_read_identifier_kind(who, &r.kind));
        let views = allowed
            .iter()
            .map(|r| self.open_identifier(key, r))
            .collect::<VaultResult<Vec<_>>>()?;
        let mut audit = Vec::new();
        if !views.is_empty() {
            audit.push(self.audit(
                who,
                "identifier.read",
                Some(subject),
                None,
                json!({ "identifiers": views.iter().map(|v| v.id).collect::<Vec<_>>() }),
            ));
        }
        if !denied.is_empty() {
            audit.push(self.audit(
                who,
                "identifier.read_denied",
                Some(subject),
                None,
                json!({
                    "count": denied.len(),
                    "kinds": super::categories_detail(denied.iter().map(|r| r.kind.as_str())),
                }),
            ));
        }
        Ok((views, audit))
    }

    /// Adds an identifier; one already held by any subject is a conflict. Any role that may
    /// write subjects may register an identifier (so, e.g., the recruitment system can make an
    /// applicant findable), even of a kind it cannot read back; the answer only repeats what
    /// the caller sent, normalised.
    pub async fn add_identifier(
        &self,
        who: &Principal,
        subject: Uuid,
        input: &IdentifierInput,
    ) -> VaultResult<IdentifierView> {
        self.require(who, Permission::SubjectsWrite)?;
        let (kind, value) = self
            .normalise_identifier("", input)
            .map_err(|e| VaultError::Validation(vec![e]))?;
        self.subject_row(subject).await?;
        let key = self.subject_key(subject).await?;
        let (row, view) = self.seal_identifier(&key, subject, kind, value, self.now())?;
        let audit = vec![self.audit(
            who,
            "identifier.create",
            Some(subject),
            None,
            json!({ "identifier": row.id, "kind": row.kind }),
        )];
        let (kind, hash) = (row.kind.clone(), row.blind_index.clone());
        let done = self.store.add_identifier(row, audit).await;
        self.cache.evict_hash(&kind, &hash);
        self.cache.evict_subject(subject);
        done.map_err(|e| match e {
            vern_store::StoreError::Conflict(_) => {
                VaultError::Conflict("this identifier is already registered".to_owned())
            }
            other => VaultError::store("subject")(other),
        })?;
        Ok(view)
    }

    /// The subject's identifiers, decrypted; the read is audited.
    pub async fn list_identifiers(
        &self,
        who: &Principal,
        subject: Uuid,
    ) -> VaultResult<Vec<IdentifierView>> {
        self.require(who, Permission::SubjectsRead)?;
        self.subject_row(subject).await?;
        let key = self.subject_key(subject).await?;
        let (views, audit) = self.open_readable_identifiers(who, &key, subject).await?;
        self.append_audit(audit).await?;
        Ok(views)
    }

    /// Deletes an identifier of a kind the role may read.
    pub async fn delete_identifier(
        &self,
        who: &Principal,
        subject: Uuid,
        id: Uuid,
    ) -> VaultResult<()> {
        self.require(who, Permission::SubjectsWrite)?;
        let row = self
            .store
            .list_identifiers(self.tenant, subject)
            .await
            .map_err(VaultError::store("identifier"))?
            .into_iter()
            .find(|r| r.id == id)
            .ok_or(VaultError::NotFound("identifier"))?;
        if !self.can_read_identifier_kind(who, &row.kind) {
            return Err(self
                .deny(
                    who,
                    "identifier.write_denied",
                    Some(subject),
                    json!({ "identifier": id, "kind": row.kind }),
                    format!(
                        "the role `{}` may not access identifiers of this kind",
                        who.role
                    ),
                )
                .await);
        }
        let audit = vec![self.audit(
            who,
            "identifier.delete",
            Some(subject),
            None,
            json!({ "identifier": id }),
        )];
        let done = self
            .store
            .delete_identifier(self.tenant, subject, id, audit)
            .await;
        self.cache.evict_hash(&row.kind, &row.blind_index);
        self.cache.evict_subject(subject);
        done.map_err(VaultError::store("identifier"))
    }

    /// The subject holding an identifier: normalise, blind-index, look up. Audited whether
    /// found or not (kind and outcome only).
    pub async fn lookup(&self, who: &Principal, input: &IdentifierInput) -> VaultResult<Uuid> {
        self.require(who, Permission::SubjectsRead)?;
        let (kind, value) = self
            .normalise_identifier("", input)
            .map_err(|e| VaultError::Validation(vec![e]))?;
        let found = self
            .store
            .find_by_blind_index(self.tenant, &kind, &self.blind_index(&kind, &value))
            .await
            .map_err(VaultError::store("subject"))?;
        self.append_audit(vec![self.audit(
            who,
            "subject.lookup",
            found,
            None,
            json!({ "kind": kind, "found": found.is_some() }),
        )])
        .await?;
        found.ok_or(VaultError::NotFound("subject with this identifier"))
    }
}
