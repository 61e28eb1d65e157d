//! Subjects: create (with identifiers and records, atomically), read, list, update, erase, and
//! the import helper that prepares many subjects for one store batch.

use serde_json::json;
use uuid::Uuid;
use vern_core::access::Permission;
use vern_core::ids::new_id;
use vern_store::consent::ConsentStore;
use vern_store::{NewSubject, Store, SubjectRow};

use super::{
    Principal, SubjectInput, SubjectPage, SubjectPatch, SubjectSummary, SubjectView, Vault,
    VaultError, VaultResult, categories_detail, time_of,
};
use crate::error::FieldError;

/// Largest page a list may ask for.
pub const MAX_PAGE: u32 = 500;

impl Vault {
    /// Stores a new subject with its identifiers and records in one transaction, with the
    /// audit entries describing it. Every record is checked against the policy first; any
    /// problem means nothing is stored.
    pub async fn create_subject(
        &self,
        who: &Principal,
        input: &SubjectInput,
    ) -> VaultResult<SubjectView> {
        self.require(who, Permission::SubjectsWrite)?;
        let (new, view) = self.build_new_subject(who, input)?;
        let denied: Vec<&str> = input
            .records
            .iter()
            .map(|r| r.category.as_str())
            .filter(|c| !self.can_category(who, c))
            .collect();
        if !denied.is_empty() {
            return Err(self
                .deny(
                    who,
                    "record.write_denied",
                    None,
                    json!({ "categories": categories_detail(denied.iter().copied()) }),
                    format!("the role `{}` may not write these categories", who.role),
                )
                .await);
        }
        if self.suppressed_lead(&new).await? {
            return Err(VaultError::field(
                "identifiers",
                "suppressed_address",
                "this address is on the suppression list (objection, unsubscribe or erasure) \
                 and cannot be added again as a marketing lead; store it without direct-marketing \
                 purposes if it is needed for something else",
            ));
        }
        self.store
            .create_subject(new)
            .await
            .map_err(VaultError::store("subject"))?;
        // The answer shows what a read would show: identifiers the role may read.
        let mut view = view;
        view.identifiers
            .retain(|i| self.can_read_identifier_kind(who, &i.kind));
        Ok(view)
    }

    /// Every policy and syntax check of a new subject, without encrypting or writing anything:
    /// the normalised identifiers (kind, value) and each record's legal basis.
    pub fn check_subject_input(&self, input: &SubjectInput) -> VaultResult<CheckedSubject> {
        let mut errors = Vec::new();
        errors.extend(self.check_subject_type("subject_type", &input.subject_type));
        if let Some(j) = &input.jurisdiction {
            errors.extend(check_jurisdiction("jurisdiction", j));
        }
        let mut normalised = Vec::with_capacity(input.identifiers.len());
        for (i, ident) in input.identifiers.iter().enumerate() {
            match self.normalise_identifier(&format!("identifiers[{i}]"), ident) {
                Ok(n) => {
                    if normalised.iter().any(|(k, v)| (k, v) == (&n.0, &n.1)) {
                        errors.push(FieldError::new(
                            format!("identifiers[{i}]"),
                            "duplicate_identifier",
                            "the same identifier appears twice in the request",
                        ));
                    }
                    normalised.push(n);
                }
                Err(e) => errors.push(e),
            }
        }
        let mut bases = Vec::with_capacity(input.records.len());
        if errors.is_empty() {
            for (i, record) in input.records.iter().enumerate() {
                match self.check_record_input(&input.subject_type, &format!("records[{i}]"), record)
                {
                    Ok(basis) => bases.push(basis),
                    Err(e) => errors.push(e),
                }
            }
        }
        if !errors.is_empty() {
            return Err(VaultError::Validation(errors));
        }
        Ok(CheckedSubject { normalised, bases })
    }

    /// Validates, encrypts and blind-indexes a subject for storage, without storing it: the
    /// CLI import collects these into batches for `Store::import_batch`. The view is the
    /// plaintext the caller sent, normalised, with the ids it was given.
    ///
    /// Category access is not checked here (the import runs as the operator); the API path
    /// checks it in [`Vault::create_subject`].
    pub fn build_new_subject(
        &self,
        who: &Principal,
        input: &SubjectInput,
    ) -> VaultResult<(NewSubject, SubjectView)> {
        let CheckedSubject { normalised, bases } = self.check_subject_input(input)?;
        let id = new_id();
        let now = self.now();
        let (key, key_row) = self.new_subject_key(id)?;
        let subject = SubjectRow {
            tenant_id: self.tenant,
            id,
            subject_type: input.subject_type.clone(),
            jurisdiction: input.jurisdiction.clone(),
            created_at: now,
            updated_at: now,
        };
        let mut identifiers = Vec::with_capacity(normalised.len());
        let mut identifier_views = Vec::with_capacity(normalised.len());
        for (kind, value) in normalised {
            let (row, view) = self.seal_identifier(&key, id, kind, value, now)?;
            identifiers.push(row);
            identifier_views.push(view);
        }
        let mut records = Vec::with_capacity(input.records.len());
        let mut record_views = Vec::with_capacity(input.records.len());
        for (r, basis) in input.records.iter().zip(bases) {
            // A new subject has no consents yet.
            let (row, view) =
                self.seal_record(&key, (&subject, &[]), new_id(), r, basis, (now, now))?;
            records.push(row);
            record_views.push(view);
        }
        let mut audit = vec![self.audit(
            who,
            "subject.create",
            Some(id),
            None,
            json!({
                "subject_type": input.subject_type,
                "identifiers": identifiers.iter().map(|i| json!({"id": i.id, "kind": i.kind})).collect::<Vec<_>>(),
            }),
        )];
        audit.extend(
            records
                .iter()
                .map(|r| self.record_write_audit(who, "record.create", r)),
        );
        let view = SubjectView {
            subject: summary(&subject),
            identifiers: identifier_views,
            records: record_views,
        };
        Ok((
            NewSubject {
                subject,
                key: key_row,
                identifiers,
                records,
                audit,
            },
            view,
        ))
    }

    /// Whether `new` is a marketing lead (a record for a direct-marketing purpose) with an
    /// email or phone on the suppression list: such a subject is refused, not stored.
    pub(crate) async fn suppressed_lead(&self, new: &NewSubject) -> VaultResult<bool> {
        let marketing = new.records.iter().any(|r| {
            r.purposes
                .iter()
                .any(|p| self.policy().purpose(p).is_some_and(|p| p.direct_marketing))
        });
        if !marketing {
            return Ok(false);
        }
        for i in &new.identifiers {
            if !super::consent::SUPPRESSIBLE.contains(&i.kind.as_str()) {
                continue;
            }
            let hits = self
                .store
                .suppressed_among(self.tenant, &i.kind, vec![i.blind_index.clone()])
                .await
                .map_err(VaultError::store("suppression"))?;
            if !hits.is_empty() {
                return Ok(true);
            }
        }
        Ok(false)
    }

    /// Drops from an import batch the marketing leads whose address is suppressed (see
    /// [`Vault::suppressed_lead`]); returns how many were dropped.
    pub async fn drop_suppressed_leads(&self, batch: &mut Vec<NewSubject>) -> VaultResult<usize> {
        let mut keep = Vec::with_capacity(batch.len());
        let before = batch.len();
        for n in batch.drain(..) {
            if !self.suppressed_lead(&n).await? {
                keep.push(n);
            }
        }
        *batch = keep;
        Ok(before - batch.len())
    }

    /// Prepares a batch for `Store::import_batch`; the error names the index of the first
    /// subject that failed, so the CLI can report the input line.
    pub fn build_import_batch(
        &self,
        who: &Principal,
        inputs: &[SubjectInput],
    ) -> Result<Vec<NewSubject>, (usize, VaultError)> {
        inputs
            .iter()
            .enumerate()
            .map(|(i, input)| {
                self.build_new_subject(who, input)
                    .map(|(n, _)| n)
                    .map_err(|e| (i, e))
            })
            .collect()
    }

    /// A subject with its identifiers and the records the role may read; records of other
    /// categories are left out and the denial is audited (categories only, no values).
    pub async fn get_subject(&self, who: &Principal, id: Uuid) -> VaultResult<SubjectView> {
        self.require(who, Permission::SubjectsRead)?;
        let row = self
            .store
            .get_subject(self.tenant, id)
            .await
            .map_err(VaultError::store("subject"))?;
        let key = self.subject_key(id).await?;
        let (identifiers, id_audit) = self.open_readable_identifiers(who, &key, id).await?;
        let (records, record_audit) = self.open_readable_records(who, &key, id).await?;
        let mut audit = vec![self.audit(
            who,
            "subject.read",
            Some(id),
            None,
            json!({ "identifiers": identifiers.len(), "records": records.len() }),
        )];
        audit.extend(id_audit);
        audit.extend(record_audit);
        self.append_audit(audit).await?;
        Ok(SubjectView {
            subject: summary(&row),
            identifiers,
            records,
        })
    }

    /// A keyset page of subjects (no personal data beyond type and jurisdiction).
    pub async fn list_subjects(
        &self,
        who: &Principal,
        after: Option<Uuid>,
        limit: u32,
    ) -> VaultResult<SubjectPage> {
        self.require(who, Permission::SubjectsRead)?;
        if limit == 0 || limit > MAX_PAGE {
            return Err(VaultError::field(
                "limit",
                "out_of_range",
                format!("the limit must be between 1 and {MAX_PAGE}"),
            ));
        }
        let mut rows = self
            .store
            .list_subjects(self.tenant, after, limit + 1)
            .await
            .map_err(VaultError::store("subject"))?;
        let more = rows.len() > limit as usize;
        rows.truncate(limit as usize);
        let next = if more {
            rows.last().map(|r| r.id)
        } else {
            None
        };
        self.append_audit(vec![self.audit(
            who,
            "subject.list",
            None,
            None,
            json!({ "count": rows.len(), "after": after }),
        )])
        .await?;
        Ok(SubjectPage {
            items: rows.iter().map(summary).collect(),
            next,
        })
    }

    /// Changes the subject type or jurisdiction. A new type must still fit every stored record
    /// under its purposes, or nothing changes.
    pub async fn update_subject(
        &self,
        who: &Principal,
        id: Uuid,
        patch: &SubjectPatch,
    ) -> VaultResult<SubjectSummary> {
        self.require(who, Permission::SubjectsWrite)?;
        let mut row = self
            .store
            .get_subject(self.tenant, id)
            .await
            .map_err(VaultError::store("subject"))?;
        let mut errors = Vec::new();
        let mut fields = Vec::new();
        if let Some(t) = &patch.subject_type {
            errors.extend(self.check_subject_type("subject_type", t));
            if errors.is_empty() && *t != row.subject_type {
                let records = self
                    .store
                    .list_records(self.tenant, id)
                    .await
                    .map_err(VaultError::store("subject"))?;
                for r in &records {
                    if !self.check_stored_record(t, r) {
                        errors.push(FieldError::new(
                            "subject_type",
                            "records_incompatible",
                            format!(
                                "record {} ({}) is not allowed for this subject type under its purposes",
                                r.id, r.category
                            ),
                        ));
                    }
                }
            }
            row.subject_type = t.clone();
            fields.push("subject_type");
        }
        if let Some(j) = &patch.jurisdiction {
            if let Some(j) = j {
                errors.extend(check_jurisdiction("jurisdiction", j));
            }
            row.jurisdiction = j.clone();
            fields.push("jurisdiction");
        }
        if !errors.is_empty() {
            return Err(VaultError::Validation(errors));
        }
        row.updated_at = self.now();
        let audit = vec![self.audit(
            who,
            "subject.update",
            Some(id),
            None,
            json!({ "fields": fields }),
        )];
        let done = self.store.update_subject(row.clone(), audit).await;
        self.cache.evict_subject(id);
        done.map_err(VaultError::store("subject"))?;
        // Type and jurisdiction decide which retention rules and exceptions apply.
        self.recompute_subject_expiries(&row).await?;
        Ok(summary(&row))
    }

    /// Erasure by crypto-shredding: the key store forgets the subject's key, the data store
    /// drops its rows, and the erasure ledger remembers the id so a restore can replay it.
    pub async fn erase_subject(&self, who: &Principal, id: Uuid) -> VaultResult<()> {
        self.require(who, Permission::SubjectsErase)?;
        self.store
            .get_subject(self.tenant, id)
            .await
            .map_err(VaultError::store("subject"))?;
        // The addresses go on the suppression list first, while their blind indexes still
        // exist: an erased person must not be marketed to again if a list brings them back.
        self.suppress_subject(who, id, &super::consent::SUPPRESSIBLE, "erasure")
            .await?;
        let audit = vec![self.audit(who, "subject.erase", Some(id), None, json!({}))];
        let done = self
            .store
            .erase_subject(self.tenant, id, self.now(), audit)
            .await;
        self.cache.evict_subject(id);
        done.map_err(VaultError::store("subject"))
    }

    /// The subject's row, or 404; for handlers that only need to know it exists.
    pub(crate) async fn subject_row(&self, id: Uuid) -> VaultResult<SubjectRow> {
        self.store
            .get_subject(self.tenant, id)
            .await
            .map_err(VaultError::store("subject"))
    }

    fn check_subject_type(&self, field: &str, subject_type: &str) -> Vec<FieldError> {
        match vern_core::records::check_subject_type(&self.policy(), subject_type) {
            Ok(()) => Vec::new(),
            Err(e) => vec![FieldError::new(field, e.code, e.reason)],
        }
    }
}

/// ISO 3166-1 alpha-2: two ASCII capital letters. The list of countries is not checked (a
/// hint for national rules, which name the countries they know).
fn check_jurisdiction(field: &str, j: &str) -> Vec<FieldError> {
    if j.len() == 2 && j.bytes().all(|b| b.is_ascii_uppercase()) {
        Vec::new()
    } else {
        vec![FieldError::new(
            field,
            "invalid_jurisdiction",
            "expected an ISO 3166-1 alpha-2 country code such as `NO`",
        )]
    }
}

pub(crate) fn summary(row: &SubjectRow) -> SubjectSummary {
    SubjectSummary {
        id: row.id,
        subject_type: row.subject_type.clone(),
        jurisdiction: row.jurisdiction.clone(),
        created_at: time_of(row.created_at),
        updated_at: time_of(row.updated_at),
    }
}

/// A new subject that passed every check: its identifiers normalised (kind, value) and the
/// legal basis of each record, in input order.
#[derive(Debug, Clone)]
pub struct CheckedSubject {
    pub normalised: Vec<(String, String)>,
    /// snake_case legal basis names as stored.
    pub bases: Vec<&'static str>,
}
