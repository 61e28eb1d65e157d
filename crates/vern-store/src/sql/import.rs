//! `impl ImportStore for SqlStore`.

use sqlx::Row;
use uuid::Uuid;

use super::{SqlStore, db_err};
use crate::StoreResult;
use crate::import::{ImportProgress, ImportStore};
use crate::model::NewSubject;

impl ImportStore for SqlStore {
    async fn import_batch_tracked(
        &self,
        batch: Vec<NewSubject>,
        progress: ImportProgress,
    ) -> StoreResult<()> {
        self.create_subjects_tracked(batch, Some(&progress)).await
    }

    async fn import_progress(&self, tenant: Uuid, file_hash: &str) -> StoreResult<u64> {
        let row =
            sqlx::query("SELECT done FROM import_progress WHERE tenant_id = $1 AND file_hash = $2")
                .bind(tenant.as_bytes().as_slice())
                .bind(file_hash)
                .fetch_optional(&self.data.read)
                .await
                .map_err(db_err)?;
        match row {
            None => Ok(0),
            Some(r) => {
                let done: i64 = r.try_get("done").map_err(db_err)?;
                Ok(u64::try_from(done).unwrap_or(0))
            }
        }
    }
}
