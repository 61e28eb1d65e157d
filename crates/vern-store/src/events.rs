//! Storage for behavioural events admitted for profiling, and the counts of those dropped at
//! the door. [`EventStore`] is implemented by [`crate::SqlStore`].

use std::future::Future;

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::StoreResult;
use crate::model::NewAuditEntry;

/// One admitted event; what happened is sealed in `body_ct`.
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
    /// Inserts admitted events and adds the drop counts, in one transaction. `NotFound` if an
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
    /// Deletes the subject's events (and so the profile derived from them); returns how many.
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
