//! Rectification (Art. 16): a typed correction of a record's value, validated against the
//! policy like any write, with the value before and after recorded in the audit log.
//!
//! The audit log must not hold personal data in the clear, yet the correction must be
//! provable. So the before and after values are **sealed under the subject's key**
//! (XChaCha20-Poly1305, AAD bound to the subject, the record and the audit entry's id) and
//! written into the audit entry's detail as base64: the audit chain hashes them (tamper
//! evidence), staff with the vault can open them ([`Vault::open_rectification`]) while the
//! subject exists, and erasure destroys the key, which makes them unreadable with the rest of
//! the subject's data (docs/decisions/0012). The recipients the record was disclosed to are
//! returned for the Art. 19 notification.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::ToSchema;
use uuid::Uuid;
use vern_core::access::Permission;
use vern_core::crypto::{Aad, open, seal};
use vern_core::ids::new_id;
use vern_store::{NewAuditEntry, Store};

use super::erasure::RecipientToNotify;
use super::{Principal, RecordInput, RecordView, Vault, VaultError, VaultResult};

/// A correction: the record's new value (any JSON, like the value it replaces).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"value": "kari.nordmann@example.com"}))]
pub struct Rectification {
    pub value: serde_json::Value,
}

/// What a rectification did, for the letter to the person (Art. 16, 19).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct RectificationOutcome {
    pub record: RecordView,
    pub before: serde_json::Value,
    pub after: serde_json::Value,
    /// The audit entry holding the sealed before/after values.
    pub audit_entry: Uuid,
    pub recipients_to_notify: Vec<RecipientToNotify>,
}

const BEFORE: &str = "rectification.before";
const AFTER: &str = "rectification.after";

impl Vault {
    /// Replaces the record's value after the policy check; see the module documentation.
    pub async fn rectify_record(
        &self,
        who: &Principal,
        subject: Uuid,
        record: Uuid,
        correction: &Rectification,
    ) -> VaultResult<RectificationOutcome> {
        self.rectify_for_request(who, subject, record, correction, None)
            .await
    }

    /// [`Vault::rectify_record`] for a request (its id goes on the Art. 19 tasks).
    pub(crate) async fn rectify_for_request(
        &self,
        who: &Principal,
        subject: Uuid,
        record: Uuid,
        correction: &Rectification,
        request: Option<Uuid>,
    ) -> VaultResult<RectificationOutcome> {
        self.require(who, Permission::SubjectsWrite)?;
        let owner = self.subject_row(subject).await?;
        let old = self.record_row(subject, record).await?;
        if !self.can_category(who, &old.category) {
            return Err(self
                .deny(
                    who,
                    "record.write_denied",
                    Some(subject),
                    json!({ "categories": [old.category] }),
                    format!("the role `{}` may not access this category", who.role),
                )
                .await);
        }
        let key = self.subject_key(subject).await?;
        let current = self.open_record(&key, &old)?;
        let input = RecordInput {
            category: current.category.clone(),
            value: correction.value.clone(),
            source: current.source.clone(),
            purposes: current.purposes.clone(),
            legal_basis: Some(current.legal_basis.clone()),
            collected_at: Some(current.collected_at),
            last_activity_at: current.last_activity_at,
            originating_system: current.originating_system.clone(),
            event_times: old
                .event_times
                .iter()
                .map(|(k, v)| (k.clone(), super::time_of(*v)))
                .collect(),
        };
        let basis = self
            .check_record_input(&owner.subject_type, "", &input)
            .map_err(|e| VaultError::Validation(vec![e]))?;
        let consents = self.consents_of(owner.id).await?;
        let (row, view) = self.seal_record(
            &key,
            (&owner, &consents),
            record,
            &input,
            basis,
            (old.created_at, self.now()),
        )?;
        let entry_id = new_id();
        let sealed = |field: &str, v: &serde_json::Value| -> VaultResult<String> {
            let aad = Aad {
                tenant: self.tenant,
                subject,
                record: entry_id,
                field,
            };
            let plain = serde_json::to_vec(v).map_err(|e| VaultError::Internal(e.to_string()))?;
            Ok(STANDARD.encode(seal(&key, &aad, &plain)?))
        };
        let mut entry: NewAuditEntry = self.audit(
            who,
            "record.rectify",
            Some(subject),
            None,
            json!({
                "record": record,
                "category": row.category,
                "before_sealed": sealed(BEFORE, &current.value)?,
                "after_sealed": sealed(AFTER, &correction.value)?,
            }),
        );
        entry.id = entry_id;
        self.store
            .update_record(row, vec![entry])
            .await
            .map_err(VaultError::store("record"))?;
        let recipients = self.recipients_of(subject).await?;
        self.create_recipient_tasks(who, subject, request, "rectification", &recipients)
            .await?;
        Ok(RectificationOutcome {
            record: view,
            before: current.value,
            after: correction.value.clone(),
            audit_entry: entry_id,
            recipients_to_notify: recipients,
        })
    }

    /// Opens the before/after values of a `record.rectify` audit entry (its id and detail), as
    /// proof of what was corrected. Fails once the subject is erased (the key is gone).
    pub async fn open_rectification(
        &self,
        subject: Uuid,
        entry_id: Uuid,
        detail: &serde_json::Value,
    ) -> VaultResult<(serde_json::Value, serde_json::Value)> {
        let key = self.subject_key(subject).await?;
        let open_field = |field: &str, name: &str| -> VaultResult<serde_json::Value> {
            let b64 = detail[name]
                .as_str()
                .ok_or(VaultError::NotFound("sealed value"))?;
            let sealed = STANDARD
                .decode(b64)
                .map_err(|_| VaultError::NotFound("sealed value"))?;
            let aad = Aad {
                tenant: self.tenant,
                subject,
                record: entry_id,
                field,
            };
            let plain = open(&key, &aad, &sealed)?;
            serde_json::from_slice(&plain).map_err(|e| VaultError::Internal(e.to_string()))
        };
        Ok((
            open_field(BEFORE, "before_sealed")?,
            open_field(AFTER, "after_sealed")?,
        ))
    }
}
