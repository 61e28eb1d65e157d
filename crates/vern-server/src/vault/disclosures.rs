//! The disclosure register: recording what went to which recipient, checked against the
//! policy, and reading it back — in full for the privacy team, and as the subject may see it
//! (without disclosures under a standing non-disclosure order) for the access report.

use serde::{Deserialize, Serialize};
use serde_json::json;
use time::OffsetDateTime;
use utoipa::ToSchema;
use uuid::Uuid;
use vern_core::access::Permission;
use vern_core::disclosure::{self, DisclosureRequest, Mechanism};
use vern_core::ids::{from_micros, new_id, to_micros};
use vern_store::{DisclosureRow, DisclosureStore, Store};

use super::{Principal, Vault, VaultError, VaultResult};
use crate::error::FieldError;

/// The legal decision behind a disclosure to an authority (seed S33: only on a legal decision).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LegalDecisionInput {
    /// The court or authority that decided.
    #[schema(example = "Oslo tingrett")]
    pub issued_by: String,
    #[schema(example = "26-123456TVI-OTIR/01")]
    pub case_number: String,
    /// `YYYY-MM-DD`.
    #[schema(example = "2026-11-20")]
    pub decided_on: String,
    #[schema(example = "account and log data of one user")]
    pub scope: String,
    /// End of a non-disclosure order (`YYYY-MM-DD`): until then the subject is not told.
    #[serde(default)]
    pub nondisclosure_until: Option<String>,
}

/// A disclosure to record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({
    "recipient": "group.confect_sverige",
    "subjects": ["01a22682-e287-7407-8fba-5054239d2ea3"],
    "categories": ["identity.name", "contact.email.work_named"],
    "purpose": "group.internal_admin",
    "mechanism": "sync"
}))]
pub struct DisclosureInput {
    /// A recipient id from the policy.
    pub recipient: String,
    /// The subjects whose data went, by id (1 to 10,000).
    pub subjects: Vec<Uuid>,
    /// Category ids (or groups) from the policy that the recipient may receive.
    pub categories: Vec<String>,
    /// A purpose the recipient is registered for.
    pub purpose: String,
    /// Defaults to the purpose's basis; must match it if given.
    #[serde(default)]
    pub legal_basis: Option<String>,
    #[schema(value_type = String, example = "sync")]
    pub mechanism: Mechanism,
    /// Required for authorities; not allowed otherwise.
    #[serde(default)]
    pub legal_decision: Option<LegalDecisionInput>,
}

/// One subject's entry in the register.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct DisclosureView {
    pub id: Uuid,
    pub disclosure_id: Uuid,
    pub subject_id: Uuid,
    pub recipient: String,
    pub categories: Vec<String>,
    pub purpose: String,
    pub legal_basis: String,
    pub mechanism: String,
    /// The safeguard for a transfer outside the EEA.
    pub transfer: Option<String>,
    #[schema(value_type = Option<Object>)]
    pub legal_decision: Option<serde_json::Value>,
    #[serde(with = "time::serde::rfc3339::option")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub nondisclosure_until: Option<OffsetDateTime>,
    pub recorded_by: String,
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub disclosed_at: OffsetDateTime,
}

/// What was recorded.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct DisclosureReceipt {
    pub disclosure_id: Uuid,
    pub subjects: usize,
    pub transfer: Option<String>,
}

impl Vault {
    /// Records a disclosure after every policy check; a disclosure to an authority also needs
    /// `disclosures.approve` (the DPO approves by recording it).
    pub async fn record_disclosure(
        &self,
        who: &Principal,
        input: &DisclosureInput,
    ) -> VaultResult<DisclosureReceipt> {
        self.require(who, Permission::DisclosuresWrite)?;
        let now = self.clock().now();
        let decision = input
            .legal_decision
            .as_ref()
            .map(|d| disclosure::LegalDecision {
                issued_by: d.issued_by.clone(),
                case_number: d.case_number.clone(),
                decided_on: d.decided_on.clone(),
                scope: d.scope.clone(),
                nondisclosure_until: d.nondisclosure_until.clone(),
            });
        let request = DisclosureRequest {
            recipient: &input.recipient,
            purpose: &input.purpose,
            categories: &input.categories,
            legal_basis: input.legal_basis.as_deref(),
            subjects: input.subjects.len(),
            legal_decision: decision.as_ref(),
            on: now.date(),
        };
        let checked = disclosure::check_disclosure(&self.policy(), &request).map_err(|errors| {
            VaultError::Validation(
                errors
                    .into_iter()
                    .map(|e| FieldError::new(e.field, e.code, e.reason))
                    .collect(),
            )
        })?;
        if checked.needs_dpo_approval {
            self.require(who, Permission::DisclosuresApprove)?;
        }
        let mut missing = Vec::new();
        for (i, subject) in input.subjects.iter().enumerate() {
            match self.store().get_subject(self.tenant(), *subject).await {
                Ok(_) => {}
                Err(vern_store::StoreError::NotFound) => missing.push(FieldError::new(
                    format!("subjects[{i}]"),
                    "unknown_subject",
                    "no such subject (or it was erased)",
                )),
                Err(e) => return Err(VaultError::Internal(e.to_string())),
            }
        }
        if !missing.is_empty() {
            return Err(VaultError::Validation(missing));
        }

        let disclosure_id = new_id();
        let at = to_micros(now);
        let nondisclosure_until = checked
            .nondisclosure_until
            .map(|d| to_micros(d.with_hms(0, 0, 0).map_or(now, |t| t.assume_utc())));
        let legal_decision = decision
            .as_ref()
            .and_then(|d| serde_json::to_string(d).ok());
        let rows: Vec<DisclosureRow> = input
            .subjects
            .iter()
            .map(|subject| DisclosureRow {
                tenant_id: self.tenant(),
                id: new_id(),
                disclosure_id,
                subject_id: *subject,
                recipient: input.recipient.clone(),
                categories: input.categories.clone(),
                purpose: input.purpose.clone(),
                legal_basis: checked.legal_basis.to_owned(),
                mechanism: input.mechanism.as_str().to_owned(),
                transfer: checked.transfer.clone(),
                legal_decision: legal_decision.clone(),
                nondisclosure_until,
                recorded_by: who.actor.to_string(),
                disclosed_at: at,
            })
            .collect();
        let audit = rows
            .iter()
            .map(|r| {
                self.audit(
                    who,
                    "disclosure.record",
                    Some(r.subject_id),
                    Some(&r.purpose),
                    json!({
                        "disclosure_id": disclosure_id,
                        "recipient": r.recipient,
                        "categories": r.categories,
                        "mechanism": r.mechanism,
                        "authority": checked.needs_dpo_approval,
                    }),
                )
            })
            .collect();
        self.store()
            .record_disclosure(rows, audit)
            .await
            .map_err(VaultError::store("disclosure"))?;
        Ok(DisclosureReceipt {
            disclosure_id,
            subjects: input.subjects.len(),
            transfer: checked.transfer,
        })
    }

    /// The full register for one subject (privacy team; `disclosures.read`), audited.
    pub async fn subject_disclosures(
        &self,
        who: &Principal,
        subject: Uuid,
    ) -> VaultResult<Vec<DisclosureView>> {
        self.require(who, Permission::DisclosuresRead)?;
        // An unknown or erased subject is "no such subject", like every other per-subject
        // route (the register keeps its pseudonymous rows; they are not served from here).
        self.store()
            .get_subject(self.tenant(), subject)
            .await
            .map_err(VaultError::store("subject"))?;
        let rows = self
            .store()
            .disclosures_of_subject(self.tenant(), subject)
            .await
            .map_err(VaultError::store("disclosure"))?;
        self.append_audit(vec![self.audit(
            who,
            "disclosure.read",
            Some(subject),
            None,
            json!({ "entries": rows.len() }),
        )])
        .await?;
        rows.into_iter().map(view).collect()
    }

    /// What the subject is told (Art. 15(1)(c)): every disclosure except those under a
    /// non-disclosure order that still stands at `now`.
    pub async fn disclosures_for_access_report(
        &self,
        subject: Uuid,
    ) -> VaultResult<Vec<DisclosureView>> {
        let now = self.now();
        let rows = self
            .store()
            .disclosures_of_subject(self.tenant(), subject)
            .await
            .map_err(VaultError::store("disclosure"))?;
        rows.into_iter()
            .filter(|r| r.nondisclosure_until.is_none_or(|until| until <= now))
            .map(view)
            .collect()
    }
}

fn view(r: DisclosureRow) -> VaultResult<DisclosureView> {
    let time = |micros: i64| {
        from_micros(micros)
            .ok_or_else(|| VaultError::Internal("a stored time is out of range".into()))
    };
    Ok(DisclosureView {
        id: r.id,
        disclosure_id: r.disclosure_id,
        subject_id: r.subject_id,
        recipient: r.recipient,
        categories: r.categories,
        purpose: r.purpose,
        legal_basis: r.legal_basis,
        mechanism: r.mechanism,
        transfer: r.transfer,
        legal_decision: r.legal_decision.and_then(|d| serde_json::from_str(&d).ok()),
        nondisclosure_until: r.nondisclosure_until.map(time).transpose()?,
        recorded_by: r.recorded_by,
        disclosed_at: time(r.disclosed_at)?,
    })
}
