//! Personal-data records: policy checks, sealing and opening, and the record operations.
//!
//! A record's value is sealed under the subject key with an AAD naming tenant, subject, record
//! and field, so a ciphertext moved to another row does not open. Reading needs the role to
//! cover the record's category; a refused read is audited with the category, never the value.

use serde_json::json;
use uuid::Uuid;
use vern_core::access::Permission;
use vern_core::crypto::{Aad, SubjectKey, open, seal};
use vern_core::ids::{new_id, to_micros};
use vern_core::records::{WriteError, check_record, legal_basis_name};
use vern_core::retention::ConsentFact;
use vern_store::{NewAuditEntry, RecordRow, Store, SubjectRow};

use super::{
    Principal, RecordInput, RecordPatch, RecordView, Vault, VaultError, VaultResult,
    categories_detail, time_of,
};
use crate::error::FieldError;

/// A policy rule broken by a write, as a field error under `prefix` (`records[2]`).
pub(crate) fn field_error(prefix: &str, e: WriteError) -> FieldError {
    FieldError::new(join(prefix, &e.field), e.code, e.reason)
}

/// The policy's view of a record input.
fn core_input(r: &RecordInput) -> vern_core::records::RecordInput {
    vern_core::records::RecordInput {
        category: r.category.clone(),
        value: r.value.clone(),
        source: r.source.clone(),
        purposes: r.purposes.clone(),
        legal_basis: r.legal_basis.clone(),
        collected_at: r.collected_at,
        last_activity_at: r.last_activity_at,
        originating_system: r.originating_system.clone(),
    }
}

impl Vault {
    /// Checks a record against the policy for this subject type; the accepted legal basis
    /// (given, or the purposes' common one) comes back as the policy names it.
    pub(crate) fn check_record_input(
        &self,
        subject_type: &str,
        prefix: &str,
        r: &RecordInput,
    ) -> Result<&'static str, FieldError> {
        let checked = check_record(&self.policy(), subject_type, &core_input(r))
            .map_err(|e| field_error(prefix, e))?;
        self.check_event_times(prefix, r)?;
        if let (Some(c), Some(l)) = (r.collected_at, r.last_activity_at)
            && l < c
        {
            return Err(FieldError::new(
                join(prefix, "last_activity_at"),
                "before_collection",
                "the last activity cannot be before the data was collected",
            ));
        }
        Ok(legal_basis_name(checked.legal_basis))
    }

    /// The same checks for a stored record under another subject type (the value is not
    /// decrypted: no rule that a type change can break looks at it).
    pub(crate) fn check_stored_record(&self, subject_type: &str, r: &RecordRow) -> bool {
        let input = vern_core::records::RecordInput {
            category: r.category.clone(),
            value: serde_json::Value::Null,
            source: r.source.clone(),
            purposes: r.purposes.clone(),
            legal_basis: Some(r.legal_basis.clone()),
            collected_at: None,
            last_activity_at: None,
            originating_system: None,
        };
        check_record(&self.policy(), subject_type, &input).is_ok()
    }

    /// Seals a record input into a row (and the plaintext view of it).
    pub(crate) fn seal_record(
        &self,
        key: &SubjectKey,
        (owner, consents): (&SubjectRow, &[ConsentFact]),
        id: Uuid,
        r: &RecordInput,
        legal_basis: &str,
        (created_at, now): (i64, i64),
    ) -> VaultResult<(RecordRow, RecordView)> {
        let subject = owner.id;
        let plaintext = serde_json::to_vec(&r.value)
            .map_err(|e| VaultError::Internal(format!("record value encoding: {e}")))?;
        let value_ct = seal(
            key,
            &Aad::record_value(self.tenant, subject, id),
            &plaintext,
        )?;
        let collected_at = r.collected_at.map_or(now, to_micros);
        let mut row = RecordRow {
            tenant_id: self.tenant,
            id,
            subject_id: subject,
            category: r.category.clone(),
            value_ct,
            source: r.source.clone(),
            purposes: r.purposes.clone(),
            legal_basis: legal_basis.to_owned(),
            collected_at,
            last_activity_at: r.last_activity_at.map(to_micros),
            originating_system: r.originating_system.clone(),
            created_at,
            updated_at: now,
            event_times: r
                .event_times
                .iter()
                .map(|(k, v)| (k.clone(), to_micros(*v)))
                .collect(),
            expires_at: None,
            retention_rule: None,
        };
        self.place_on_calendar(
            &mut row,
            &owner.subject_type,
            owner.jurisdiction.as_deref(),
            consents,
        );
        let view = view_of(&row, r.value.clone());
        Ok((row, view))
    }

    /// Opens a record row into its plaintext view.
    pub(crate) fn open_record(&self, key: &SubjectKey, row: &RecordRow) -> VaultResult<RecordView> {
        let plaintext = open(
            key,
            &Aad::record_value(self.tenant, row.subject_id, row.id),
            &row.value_ct,
        )?;
        let value = serde_json::from_slice(&plaintext)
            .map_err(|e| VaultError::Internal(format!("record {} value decoding: {e}", row.id)))?;
        Ok(view_of(row, value))
    }

    /// The records of a subject the role may read, opened, and the categories it may not.
    pub(crate) async fn open_readable_records(
        &self,
        who: &Principal,
        key: &SubjectKey,
        subject: Uuid,
    ) -> VaultResult<(Vec<RecordView>, Vec<NewAuditEntry>)> {
        let rows = self
            .store
            .list_records(self.tenant, subject)
            .await
            .map_err(VaultError::store("subject"))?;
        let (allowed, denied): (Vec<_>, Vec<_>) = rows
            .iter()
            .partition(|r| self.can_category(who, &r.category));
        let views = allowed
            .iter()
            .map(|r| self.open_record(key, r))
            .collect::<VaultResult<Vec<_>>>()?;
        let mut audit = Vec::new();
        if !views.is_empty() {
            audit.push(self.audit(
                who,
                "record.read",
                Some(subject),
                None,
                json!({
                    "records": views.iter().map(|v| v.id).collect::<Vec<_>>(),
                    "categories": categories_detail(views.iter().map(|v| v.category.as_str())),
                }),
            ));
        }
        if !denied.is_empty() {
            audit.push(self.audit(
                who,
                "record.read_denied",
                Some(subject),
                None,
                json!({
                    "count": denied.len(),
                    "categories": categories_detail(denied.iter().map(|r| r.category.as_str())),
                }),
            ));
        }
        Ok((views, audit))
    }

    /// The audit entry for a record write: ids, category and purposes, no value.
    pub(crate) fn record_write_audit(
        &self,
        who: &Principal,
        action: &str,
        r: &RecordRow,
    ) -> NewAuditEntry {
        self.audit(
            who,
            action,
            Some(r.subject_id),
            r.purposes.first().map(String::as_str),
            json!({
                "record": r.id,
                "category": r.category,
                "purposes": r.purposes,
                "legal_basis": r.legal_basis,
            }),
        )
    }

    /// Refuses (and audits) a write or read of a category the role does not cover.
    async fn require_category(
        &self,
        who: &Principal,
        action: &str,
        subject: Uuid,
        category: &str,
    ) -> VaultResult<()> {
        if self.can_category(who, category) {
            return Ok(());
        }
        Err(self
            .deny(
                who,
                action,
                Some(subject),
                json!({ "categories": [category] }),
                format!("the role `{}` may not access this category", who.role),
            )
            .await)
    }

    /// Adds a record to a subject after the policy and role checks.
    pub async fn add_record(
        &self,
        who: &Principal,
        subject: Uuid,
        input: &RecordInput,
    ) -> VaultResult<RecordView> {
        self.require(who, Permission::SubjectsWrite)?;
        let row = self.subject_row(subject).await?;
        let basis = self
            .check_record_input(&row.subject_type, "", input)
            .map_err(|e| VaultError::Validation(vec![e]))?;
        self.require_category(who, "record.write_denied", subject, &input.category)
            .await?;
        let key = self.subject_key(subject).await?;
        let consents = self.consents_of(subject).await?;
        let now = self.now();
        let (row, view) =
            self.seal_record(&key, (&row, &consents), new_id(), input, basis, (now, now))?;
        let audit = vec![self.record_write_audit(who, "record.create", &row)];
        self.store
            .add_record(row, audit)
            .await
            .map_err(VaultError::store("subject"))?;
        Ok(view)
    }

    pub(super) async fn record_row(&self, subject: Uuid, id: Uuid) -> VaultResult<RecordRow> {
        self.store
            .get_record(self.tenant, subject, id)
            .await
            .map_err(VaultError::store("record"))
    }

    /// One record, if the role covers its category (a refusal is audited).
    pub async fn get_record(
        &self,
        who: &Principal,
        subject: Uuid,
        id: Uuid,
    ) -> VaultResult<RecordView> {
        self.require(who, Permission::SubjectsRead)?;
        let row = self.record_row(subject, id).await?;
        self.require_category(who, "record.read_denied", subject, &row.category)
            .await?;
        let key = self.subject_key(subject).await?;
        let view = self.open_record(&key, &row)?;
        self.append_audit(vec![self.audit(
            who,
            "record.read",
            Some(subject),
            None,
            json!({ "records": [row.id], "categories": [row.category] }),
        )])
        .await?;
        Ok(view)
    }

    /// The subject's records the role may read; others are left out and the denial audited.
    pub async fn list_records(
        &self,
        who: &Principal,
        subject: Uuid,
    ) -> VaultResult<Vec<RecordView>> {
        self.require(who, Permission::SubjectsRead)?;
        self.subject_row(subject).await?;
        let key = self.subject_key(subject).await?;
        let (views, audit) = self.open_readable_records(who, &key, subject).await?;
        self.append_audit(audit).await?;
        Ok(views)
    }

    /// Changes a record; the result is checked against the policy as a whole, and the role
    /// must cover both the old and the new category.
    pub async fn update_record(
        &self,
        who: &Principal,
        subject: Uuid,
        id: Uuid,
        patch: &RecordPatch,
    ) -> VaultResult<RecordView> {
        self.require(who, Permission::SubjectsWrite)?;
        let subject_row = self.subject_row(subject).await?;
        let old = self.record_row(subject, id).await?;
        self.require_category(who, "record.write_denied", subject, &old.category)
            .await?;
        let key = self.subject_key(subject).await?;
        let current = self.open_record(&key, &old)?;
        let merged = RecordInput {
            category: patch.category.clone().unwrap_or(current.category),
            value: patch.value.clone().unwrap_or(current.value),
            source: patch.source.clone().unwrap_or(current.source),
            purposes: patch.purposes.clone().unwrap_or(current.purposes),
            // New purposes without a basis get theirs derived, not the old one kept.
            legal_basis: patch
                .legal_basis
                .clone()
                .or_else(|| patch.purposes.is_none().then_some(current.legal_basis)),
            collected_at: Some(current.collected_at),
            last_activity_at: patch.last_activity_at.or(current.last_activity_at),
            originating_system: patch
                .originating_system
                .clone()
                .or(current.originating_system),
            event_times: merged_event_times(&old, &patch.event_times),
        };
        let basis = self
            .check_record_input(&subject_row.subject_type, "", &merged)
            .map_err(|e| VaultError::Validation(vec![e]))?;
        self.require_category(who, "record.write_denied", subject, &merged.category)
            .await?;
        let consents = self.consents_of(subject).await?;
        let (row, view) = self.seal_record(
            &key,
            (&subject_row, &consents),
            id,
            &merged,
            basis,
            (old.created_at, self.now()),
        )?;
        let mut entry = self.record_write_audit(who, "record.update", &row);
        let fields = patch_fields(patch);
        entry.detail = json!({
            "record": row.id,
            "category": row.category,
            "purposes": row.purposes,
            "fields": fields,
        })
        .to_string();
        self.store
            .update_record(row, vec![entry])
            .await
            .map_err(VaultError::store("record"))?;
        Ok(view)
    }

    /// Deletes one record (the subject and its key stay).
    pub async fn delete_record(&self, who: &Principal, subject: Uuid, id: Uuid) -> VaultResult<()> {
        self.require(who, Permission::SubjectsWrite)?;
        let row = self.record_row(subject, id).await?;
        self.require_category(who, "record.write_denied", subject, &row.category)
            .await?;
        let audit = vec![self.record_write_audit(who, "record.delete", &row)];
        self.store
            .delete_record(self.tenant, subject, id, audit)
            .await
            .map_err(VaultError::store("record"))
    }
}

fn view_of(row: &RecordRow, value: serde_json::Value) -> RecordView {
    RecordView {
        id: row.id,
        subject_id: row.subject_id,
        category: row.category.clone(),
        value,
        source: row.source.clone(),
        purposes: row.purposes.clone(),
        legal_basis: row.legal_basis.clone(),
        collected_at: time_of(row.collected_at),
        last_activity_at: row.last_activity_at.map(time_of),
        originating_system: row.originating_system.clone(),
        created_at: time_of(row.created_at),
        updated_at: time_of(row.updated_at),
    }
}

fn patch_fields(p: &RecordPatch) -> Vec<&'static str> {
    let mut f = Vec::new();
    let mut add = |present: bool, name| {
        if present {
            f.push(name);
        }
    };
    add(p.category.is_some(), "category");
    add(p.value.is_some(), "value");
    add(p.source.is_some(), "source");
    add(p.purposes.is_some(), "purposes");
    add(p.legal_basis.is_some(), "legal_basis");
    add(p.last_activity_at.is_some(), "last_activity_at");
    add(p.originating_system.is_some(), "originating_system");
    add(!p.event_times.is_empty(), "event_times");
    f
}

pub(crate) fn join(prefix: &str, field: &str) -> String {
    if prefix.is_empty() {
        field.to_owned()
    } else {
        format!("{prefix}.{field}")
    }
}

/// The stored event times with the patch's laid over them.
fn merged_event_times(
    old: &RecordRow,
    patch: &std::collections::BTreeMap<String, time::OffsetDateTime>,
) -> std::collections::BTreeMap<String, time::OffsetDateTime> {
    let mut merged: std::collections::BTreeMap<_, _> = old
        .event_times
        .iter()
        .map(|(k, v)| (k.clone(), time_of(*v)))
        .collect();
    merged.extend(patch.iter().map(|(k, v)| (k.clone(), *v)));
    merged
}
