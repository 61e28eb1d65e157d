//! The disclosure register's storage contract.

use std::future::Future;

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::StoreResult;
use crate::model::NewAuditEntry;

/// One subject's part of one disclosure. No personal data: ids, policy ids and references.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DisclosureRow {
    pub tenant_id: Uuid,
    pub id: Uuid,
    /// Shared by the rows of one disclosure of several subjects.
    pub disclosure_id: Uuid,
    pub subject_id: Uuid,
    pub recipient: String,
    pub categories: Vec<String>,
    pub purpose: String,
    pub legal_basis: String,
    pub mechanism: String,
    /// The transfer safeguard for a recipient outside the EEA.
    pub transfer: Option<String>,
    /// The legal decision (JSON) for a disclosure to an authority.
    pub legal_decision: Option<String>,
    /// Unix microseconds until which the subject is not told (non-disclosure order).
    pub nondisclosure_until: Option<i64>,
    /// The actor who recorded it (for an authority: the approving DPO's token).
    pub recorded_by: String,
    pub disclosed_at: i64,
}

/// Append-only storage of disclosures.
pub trait DisclosureStore: Send + Sync {
    /// Appends the rows of one disclosure and its audit entries in one transaction.
    fn record_disclosure(
        &self,
        rows: Vec<DisclosureRow>,
        audit: Vec<NewAuditEntry>,
    ) -> impl Future<Output = StoreResult<()>> + Send;
    /// Every disclosure of one subject, oldest first.
    fn disclosures_of_subject(
        &self,
        tenant: Uuid,
        subject: Uuid,
    ) -> impl Future<Output = StoreResult<Vec<DisclosureRow>>> + Send;
}
