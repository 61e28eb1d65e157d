//! Erasure on request that keeps what the law requires: the vault decides which records an
//! erasure exception or a legal hold keeps; the store deletes everything else of the subject
//! (identifiers and records) in one transaction with the deletion evidence, the audit entries
//! and a `partial_erasures` ledger row that a restore replays.

use std::future::Future;

use uuid::Uuid;

use crate::StoreResult;
use crate::model::{NewAuditEntry, SubjectKeyRow};
use crate::retention::EvidenceRow;

/// A recorded partial erasure: the subject and the records it kept.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PartialErasure {
    pub subject_id: Uuid,
    pub erased_at: i64,
    pub kept_records: Vec<Uuid>,
}

/// A sealed value re-sealed under a subject's successor key: `was` is the ciphertext the vault
/// read and opened, `now` the same plaintext under the new key. The store writes `now` only
/// where the row still holds `was`, so a change that raced the erasure is never overwritten.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Resealed {
    pub id: Uuid,
    pub was: Vec<u8>,
    pub now: Vec<u8>,
}

/// The fresh key that replaces a subject's key in a partial erasure, with everything of the
/// subject that stays re-sealed under it: kept records (`value_ct`) and the compelling grounds
/// recorded on objections (`grounds_ct`, by objection id).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rekey {
    pub key: SubjectKeyRow,
    pub records: Vec<Resealed>,
    pub grounds: Vec<Resealed>,
}

/// What a partial erasure keeps: these records, and, with `rekey`, the fresh key they are
/// re-sealed under.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Keep {
    pub records: Vec<Uuid>,
    pub rekey: Option<Rekey>,
}

/// What [`ErasureStore::settle_key_successors`] did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SettledSuccessors {
    /// Successor keys whose partial erasure had committed: promoted, old key destroyed.
    pub promoted: u64,
    /// Successor keys of partial erasures that never committed: deleted.
    pub discarded: u64,
}

pub trait ErasureStore: Send + Sync {
    /// Deletes the subject's identifiers and every record not in `keep.records`, writes
    /// `evidence`, `audit` and a ledger row; the subject row stays for the kept records. With
    /// `keep.rekey`, the
    /// kept records are re-sealed under the fresh key, which then replaces the subject's key:
    /// the old key, the one that opens every erased value in backups and replicas, is
    /// destroyed. In three steps, each atomic: the successor key is stored beside the current
    /// one; the data transaction re-seals, deletes and names the successor (by digest) in the
    /// ledger row; the successor replaces the key. A crash between the last two is finished by
    /// [`ErasureStore::settle_key_successors`]. Returns the number of records deleted.
    /// `NotFound` if the subject does not exist; `Conflict` if a kept value changed since it
    /// was read or another partial erasure of the subject is under way.
    fn erase_except(
        &self,
        tenant: Uuid,
        subject: Uuid,
        keep: Keep,
        at: i64,
        evidence: Vec<EvidenceRow>,
        audit: Vec<NewAuditEntry>,
    ) -> impl Future<Output = StoreResult<u64>> + Send;

    /// Finishes or undoes interrupted key replacements: a successor named by a committed
    /// partial erasure replaces the subject's key; one that no ledger row names and that was
    /// stored before `stale_before` (its erasure failed or never committed) is deleted. Younger
    /// unnamed successors are left alone: their erasure may still be running on another node.
    fn settle_key_successors(
        &self,
        stale_before: i64,
    ) -> impl Future<Output = StoreResult<SettledSuccessors>> + Send;

    /// Every partial erasure of the tenant, oldest first (for replay after a restore).
    fn partial_erasures(
        &self,
        tenant: Uuid,
    ) -> impl Future<Output = StoreResult<Vec<PartialErasure>>> + Send;
}
