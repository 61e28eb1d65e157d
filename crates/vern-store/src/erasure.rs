//! Erasure on request that keeps what the law requires: the vault decides which records an
//! erasure exception or a legal hold keeps; the store deletes everything else of the subject
//! (identifiers and records) in one transaction with the deletion evidence, the audit entries
//! and a `partial_erasures` ledger row that a restore replays.

use std::future::Future;

use uuid::Uuid;

use crate::StoreResult;
use crate::model::NewAuditEntry;
use crate::retention::EvidenceRow;

/// A recorded partial erasure: the subject and the records it kept.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PartialErasure {
    pub subject_id: Uuid,
    pub erased_at: i64,
    pub kept_records: Vec<Uuid>,
}

pub trait ErasureStore: Send + Sync {
    /// Deletes the subject's identifiers and every record not in `keep`, writes `evidence`,
    /// `audit` and a ledger row; the subject row and its key stay (the kept records are
    /// encrypted with it). Returns the number of records deleted. `NotFound` if the subject
    /// does not exist.
    fn erase_except(
        &self,
        tenant: Uuid,
        subject: Uuid,
        keep: Vec<Uuid>,
        at: i64,
        evidence: Vec<EvidenceRow>,
        audit: Vec<NewAuditEntry>,
    ) -> impl Future<Output = StoreResult<u64>> + Send;

    /// Every partial erasure of the tenant, oldest first (for replay after a restore).
    fn partial_erasures(
        &self,
        tenant: Uuid,
    ) -> impl Future<Output = StoreResult<Vec<PartialErasure>>> + Send;
}
