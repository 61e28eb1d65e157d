//! Resumable bulk import: each batch commits together with how far the import got.

use std::future::Future;

use uuid::Uuid;

use crate::StoreResult;
use crate::model::NewSubject;

/// How far the import of one file (identified by its SHA-256) has got, in subjects.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportProgress {
    pub tenant_id: Uuid,
    pub file_hash: String,
    pub done: u64,
    pub at: i64,
}

pub trait ImportStore: Send + Sync {
    /// Like `Store::import_batch`, and records `progress` in the same transaction.
    fn import_batch_tracked(
        &self,
        batch: Vec<NewSubject>,
        progress: ImportProgress,
    ) -> impl Future<Output = StoreResult<()>> + Send;
    /// Subjects of the file already imported (0 if never started).
    fn import_progress(
        &self,
        tenant: Uuid,
        file_hash: &str,
    ) -> impl Future<Output = StoreResult<u64>> + Send;
}
