//! SQL for [`ErasureStore`].

use std::collections::BTreeSet;

use sqlx::AssertSqlSafe;
use uuid::Uuid;

use super::audit::append_in;
use super::bulk::insert_many;
use super::error::corrupt;
use super::retention::{bind_ids, in_list, p};
use super::{SqlStore, db_err, rows};
use crate::StoreResult;
use crate::erasure::{ErasureStore, PartialErasure};
use crate::model::NewAuditEntry;
use crate::retention::EvidenceRow;

const IN_CHUNK: usize = 2000;

impl ErasureStore for SqlStore {
    async fn erase_except(
        &self,
        tenant: Uuid,
        subject: Uuid,
        keep: Vec<Uuid>,
        at: i64,
        evidence: Vec<EvidenceRow>,
        audit: Vec<NewAuditEntry>,
    ) -> StoreResult<u64> {
        let (t, s) = (tenant.as_bytes().to_vec(), subject.as_bytes().to_vec());
        let mut tx = self.begin(&self.data).await?;
        let exists = sqlx::query("SELECT id FROM subjects WHERE tenant_id = $1 AND id = $2")
            .bind(t.clone())
            .bind(s.clone())
            .fetch_optional(&mut *tx)
            .await
            .map_err(db_err)?;
        if exists.is_none() {
            return Err(crate::StoreError::NotFound);
        }
        for sql in [
            "DELETE FROM identifiers WHERE tenant_id = $1 AND subject_id = $2",
            // Access reports and portability packages hold erased data.
            "DELETE FROM dsr_downloads WHERE tenant_id = $1 AND subject_id = $2",
        ] {
            sqlx::query(sql)
                .bind(t.clone())
                .bind(s.clone())
                .execute(&mut *tx)
                .await
                .map_err(db_err)?;
        }
        let keep: BTreeSet<Uuid> = keep.into_iter().collect();
        let ids = sqlx::query("SELECT id FROM records WHERE tenant_id = $1 AND subject_id = $2")
            .bind(t.clone())
            .bind(s.clone())
            .fetch_all(&mut *tx)
            .await
            .map_err(db_err)?
            .iter()
            .map(|r| rows::uuid(r, "id"))
            .collect::<StoreResult<Vec<Uuid>>>()?;
        let doomed: Vec<Uuid> = ids.into_iter().filter(|id| !keep.contains(id)).collect();
        let mut deleted = 0;
        for chunk in doomed.chunks(IN_CHUNK) {
            let head = format!(
                "DELETE FROM records WHERE tenant_id = {} AND subject_id = {} AND id IN ",
                p(&tx, 1),
                p(&tx, 2)
            );
            let sql = in_list(&tx, &head, 3, chunk.len(), "");
            let q = sqlx::query(AssertSqlSafe(sql))
                .bind(t.clone())
                .bind(s.clone());
            deleted += bind_ids(q, chunk)
                .execute(&mut *tx)
                .await
                .map_err(db_err)?
                .rows_affected();
        }
        insert_many(
            &mut tx,
            "INSERT INTO deletion_evidence (tenant_id, id, at, subject_id, rule, category, \
             action, count)",
            8,
            &evidence,
            |q, e| {
                q.bind(e.tenant_id.as_bytes().to_vec())
                    .bind(e.id.as_bytes().to_vec())
                    .bind(e.at)
                    .bind(e.subject_id.as_bytes().to_vec())
                    .bind(e.rule.clone())
                    .bind(e.category.clone())
                    .bind(e.action.clone())
                    .bind(e.count)
            },
        )
        .await?;
        let kept: Vec<String> = keep.iter().map(Uuid::to_string).collect();
        let kept = serde_json::to_string(&kept).map_err(|e| corrupt(&e.to_string()))?;
        sqlx::query(
            "INSERT INTO partial_erasures (tenant_id, id, subject_id, erased_at, kept_records) \
             VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(t)
        .bind(Uuid::now_v7().as_bytes().to_vec())
        .bind(s)
        .bind(at)
        .bind(kept)
        .execute(&mut *tx)
        .await
        .map_err(db_err)?;
        append_in(&mut tx, audit).await?;
        tx.commit().await.map_err(db_err)?;
        Ok(deleted)
    }

    async fn partial_erasures(&self, tenant: Uuid) -> StoreResult<Vec<PartialErasure>> {
        let found = sqlx::query(
            "SELECT subject_id, erased_at, kept_records FROM partial_erasures \
             WHERE tenant_id = $1 ORDER BY erased_at, id",
        )
        .bind(tenant.as_bytes().to_vec())
        .fetch_all(&self.data.read)
        .await
        .map_err(db_err)?;
        found
            .iter()
            .map(|r| {
                let kept: String = rows::get(r, "kept_records")?;
                let kept: Vec<Uuid> =
                    serde_json::from_str(&kept).map_err(|e| corrupt(&e.to_string()))?;
                Ok(PartialErasure {
                    subject_id: rows::uuid(r, "subject_id")?,
                    erased_at: rows::get(r, "erased_at")?,
                    kept_records: kept,
                })
            })
            .collect()
    }
}
