//! Storage for behavioural events admitted for profiling, and the counts of those dropped at
//! the door. [`EventStore`] is implemented by [`crate::SqlStore`].

use std::future::Future;

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::StoreResult;
use crate::model::NewAuditEntry;

/// A stored row of admitted events: since decision 0024 a *segment* (the events of one subject
/// from one batch, all sealed in `body_ct`; `at` the earliest, `channel` and `ip_truncated`
/// NULL); rows written before hold one event each.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EventRow {
    pub tenant_id: Uuid,
    pub id: Uuid,
    pub subject_id: Uuid,
    pub purpose: String,
    pub channel: Option<String>,
    pub at: i64,
    pub ip_truncated: Option<String>,
    pub body_ct: Vec<u8>,
    pub created_at: i64,
}

pub trait EventStore: Send + Sync {
    /// Inserts rows of admitted events and adds the drop counts, in one transaction. `NotFound` if an
    /// event's subject does not exist (erased meanwhile): nothing is stored then.
    fn ingest_events(
        &self,
        tenant: Uuid,
        rows: Vec<EventRow>,
        drops: Vec<(String, u64)>,
    ) -> impl Future<Output = StoreResult<()>> + Send;
    fn subject_events(
        &self,
        tenant: Uuid,
        subject: Uuid,
    ) -> impl Future<Output = StoreResult<Vec<EventRow>>> + Send;
    /// Deletes the subject's event rows (and so the profile derived from them); returns how
    /// many rows.
    fn purge_events(
        &self,
        tenant: Uuid,
        subject: Uuid,
        audit: Vec<NewAuditEntry>,
    ) -> impl Future<Output = StoreResult<u64>> + Send;
    /// Dropped events per reason since the start.
    fn event_drop_counts(
        &self,
        tenant: Uuid,
    ) -> impl Future<Output = StoreResult<Vec<(String, u64)>>> + Send;
}
