//! The subject change log: what each node's decision cache polls to learn that another node
//! (or another process: the CLI, a retention sweep) changed something a decision depends on.
//!
//! Rows are written by database triggers in the same transaction as the change (migration
//! 0007), numbered per tenant in commit order, so "every row after the last one I saw" is a
//! complete answer. The log is not proof and is pruned.

use std::future::Future;

use uuid::Uuid;

use crate::StoreResult;

/// One change: a subject's decision state, an identifier or suppression hash, or an API token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SubjectChange {
    pub seq: i64,
    pub subject_id: Option<Uuid>,
    /// `email` / `phone` (identifier or suppression entry), `token` (API token), or none.
    pub kind: Option<String>,
    /// The blind index or token hash that `kind` names.
    pub hash: Option<Vec<u8>>,
}

pub trait ChangeLog: Send + Sync {
    /// The number of the tenant's last change (0 before the first).
    fn change_head(&self, tenant: Uuid) -> impl Future<Output = StoreResult<i64>> + Send;
    /// Changes numbered after `after`, in order, at most `limit`.
    fn changes_since(
        &self,
        tenant: Uuid,
        after: i64,
        limit: u32,
    ) -> impl Future<Output = StoreResult<Vec<SubjectChange>>> + Send;
    /// Deletes the changes numbered below `below`; returns how many.
    fn prune_changes(
        &self,
        tenant: Uuid,
        below: i64,
    ) -> impl Future<Output = StoreResult<u64>> + Send;
}
