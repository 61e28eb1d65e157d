//! [`DecisionLogStore`] on SQL: multi-row inserts of decision blocks, and a key lookup.

use uuid::Uuid;

use super::bulk::insert_many_new;
use super::rows;
use super::{SqlStore, db_err};
use crate::StoreResult;
use crate::decision_log::{DecisionBlockRow, DecisionLogStore};

impl DecisionLogStore for SqlStore {
    async fn append_decision_blocks(&self, blocks: Vec<DecisionBlockRow>) -> StoreResult<()> {
        if blocks.is_empty() {
            return Ok(());
        }
        let mut tx = self.begin(&self.data).await?;
        insert_many_new(
            &mut tx,
            "INSERT INTO decision_log (tenant_id, id, created_at, n, body)",
            5,
            &blocks,
            |q, b| {
                q.bind(b.tenant_id.as_bytes().as_slice())
                    .bind(b.id.as_bytes().as_slice())
                    .bind(b.created_at)
                    .bind(b.n)
                    .bind(b.body.as_slice())
            },
        )
        .await?;
        tx.commit().await.map_err(db_err)
    }

    async fn prune_decision_blocks(
        &self,
        tenant: Uuid,
        before: i64,
        limit: u32,
    ) -> StoreResult<u64> {
        // The table is a block per bulk call or flush interval, not a row per decision, so
        // the scan by `created_at` stays small; batches keep each write lock short.
        let done = sqlx::query(
            "DELETE FROM decision_log WHERE tenant_id = $1 AND id IN (SELECT id FROM \
             decision_log WHERE tenant_id = $1 AND created_at < $2 ORDER BY created_at LIMIT $3)",
        )
        .bind(tenant.as_bytes().as_slice())
        .bind(before)
        .bind(i64::from(limit))
        .execute(&self.data.write)
        .await
        .map_err(db_err)?;
        Ok(done.rows_affected())
    }

    async fn decision_block(
        &self,
        tenant: Uuid,
        id: Uuid,
    ) -> StoreResult<Option<DecisionBlockRow>> {
        let found = sqlx::query(
            "SELECT tenant_id, id, created_at, n, body FROM decision_log \
             WHERE tenant_id = $1 AND id = $2",
        )
        .bind(tenant.as_bytes().as_slice())
        .bind(id.as_bytes().as_slice())
        .fetch_optional(&self.data.read)
        .await
        .map_err(db_err)?;
        found
            .map(|r| {
                Ok(DecisionBlockRow {
                    tenant_id: rows::uuid(&r, "tenant_id")?,
                    id: rows::uuid(&r, "id")?,
                    created_at: rows::get(&r, "created_at")?,
                    n: rows::get(&r, "n")?,
                    body: rows::get(&r, "body")?,
                })
            })
            .transpose()
    }
}
