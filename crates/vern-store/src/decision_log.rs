//! Storage for the decision audit: blocks of compact decisions, written behind the answers
//! (decision 0017). The store keeps the blocks as opaque bytes; `vern-server` encodes them.
//! [`DecisionLogStore`] is implemented by [`crate::SqlStore`].

use std::future::Future;

use uuid::Uuid;

use crate::StoreResult;

/// One block of decisions: a bulk call, or a node's single decisions of one flush interval.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DecisionBlockRow {
    pub tenant_id: Uuid,
    /// The block id: every decision id of the block is this id with its low bits set to the
    /// decision's index.
    pub id: Uuid,
    /// Time of the block's first decision (Unix µs).
    pub created_at: i64,
    /// Decisions in the block.
    pub n: i64,
    pub body: Vec<u8>,
}

pub trait DecisionLogStore: Send + Sync {
    /// Appends blocks in one transaction. A block whose id exists is left as it is.
    fn append_decision_blocks(
        &self,
        rows: Vec<DecisionBlockRow>,
    ) -> impl Future<Output = StoreResult<()>> + Send;
    /// Deletes up to `limit` of the tenant's blocks whose first decision is older than
    /// `before` (Unix µs), oldest first; returns how many went. The decision log's retention.
    fn prune_decision_blocks(
        &self,
        tenant: Uuid,
        before: i64,
        limit: u32,
    ) -> impl Future<Output = StoreResult<u64>> + Send;
    /// The block with this id, if written.
    fn decision_block(
        &self,
        tenant: Uuid,
        id: Uuid,
    ) -> impl Future<Output = StoreResult<Option<DecisionBlockRow>>> + Send;
}
