//! [`ChangeLog`] on SQL: reads of the trigger-written `subject_changes` table.

use uuid::Uuid;

use super::rows;
use super::{SqlStore, db_err};
use crate::StoreResult;
use crate::changes::{ChangeLog, SubjectChange};

impl ChangeLog for SqlStore {
    async fn change_head(&self, tenant: Uuid) -> StoreResult<i64> {
        let row = sqlx::query("SELECT seq FROM subject_change_head WHERE tenant_id = $1")
            .bind(tenant.as_bytes().as_slice())
            .fetch_optional(&self.data.read)
            .await
            .map_err(db_err)?;
        match row {
            Some(r) => rows::get(&r, "seq"),
            None => Ok(0),
        }
    }

    async fn changes_since(
        &self,
        tenant: Uuid,
        after: i64,
        limit: u32,
    ) -> StoreResult<Vec<SubjectChange>> {
        let found = sqlx::query(
            "SELECT seq, subject_id, kind, hash FROM subject_changes \
             WHERE tenant_id = $1 AND seq > $2 ORDER BY seq LIMIT $3",
        )
        .bind(tenant.as_bytes().as_slice())
        .bind(after)
        .bind(i64::from(limit))
        .fetch_all(&self.data.read)
        .await
        .map_err(db_err)?;
        found
            .iter()
            .map(|r| {
                Ok(SubjectChange {
                    seq: rows::get(r, "seq")?,
                    subject_id: rows::opt_uuid(r, "subject_id")?,
                    kind: rows::get(r, "kind")?,
                    hash: rows::get(r, "hash")?,
                })
            })
            .collect()
    }

    async fn prune_changes(&self, tenant: Uuid, below: i64) -> StoreResult<u64> {
        let done = sqlx::query("DELETE FROM subject_changes WHERE tenant_id = $1 AND seq < $2")
            .bind(tenant.as_bytes().as_slice())
            .bind(below)
            .execute(&self.data.write)
            .await
            .map_err(db_err)?;
        Ok(done.rows_affected())
    }
}
