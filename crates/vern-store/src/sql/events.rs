//! [`EventStore`] on SQL. Events go in with the multi-row insert of imports; drop counts are
//! upserted as increments, so several nodes add to the same counters without losing any.

use uuid::Uuid;

use super::audit::append_in;
use super::bulk::insert_many;
use super::rows;
use super::{SqlStore, db_err};
use crate::StoreResult;
use crate::events::{EventRow, EventStore};
use crate::model::NewAuditEntry;

const EVENT_COLS: &str =
    "tenant_id, id, subject_id, purpose, channel, at, ip_truncated, body_ct, created_at";

impl EventStore for SqlStore {
    async fn ingest_events(
        &self,
        tenant: Uuid,
        rows: Vec<EventRow>,
        drops: Vec<(String, u64)>,
    ) -> StoreResult<()> {
        let mut tx = self.begin(&self.data).await?;
        insert_many(
            &mut tx,
            "INSERT INTO events (tenant_id, id, subject_id, purpose, channel, at, ip_truncated, \
             body_ct, created_at)",
            9,
            &rows,
            |q, r| {
                q.bind(r.tenant_id.as_bytes().as_slice())
                    .bind(r.id.as_bytes().as_slice())
                    .bind(r.subject_id.as_bytes().as_slice())
                    .bind(r.purpose.clone())
                    .bind(r.channel.clone())
                    .bind(r.at)
                    .bind(r.ip_truncated.clone())
                    .bind(r.body_ct.clone())
                    .bind(r.created_at)
            },
        )
        .await?;
        for (reason, n) in drops.iter().filter(|(_, n)| *n > 0) {
            sqlx::query(
                "INSERT INTO event_drops (tenant_id, reason, n) VALUES ($1, $2, $3) \
                 ON CONFLICT (tenant_id, reason) DO UPDATE SET n = event_drops.n + excluded.n",
            )
            .bind(tenant.as_bytes().as_slice())
            .bind(reason.as_str())
            .bind(i64::try_from(*n).unwrap_or(i64::MAX))
            .execute(&mut *tx)
            .await
            .map_err(db_err)?;
        }
        tx.commit().await.map_err(db_err)
    }

    async fn subject_events(&self, tenant: Uuid, subject: Uuid) -> StoreResult<Vec<EventRow>> {
        let found = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {EVENT_COLS} FROM events WHERE tenant_id = $1 AND subject_id = $2 ORDER BY id"
        )))
        .bind(tenant.as_bytes().as_slice())
        .bind(subject.as_bytes().as_slice())
        .fetch_all(&self.data.read)
        .await
        .map_err(db_err)?;
        found
            .iter()
            .map(|r| {
                Ok(EventRow {
                    tenant_id: rows::uuid(r, "tenant_id")?,
                    id: rows::uuid(r, "id")?,
                    subject_id: rows::uuid(r, "subject_id")?,
                    purpose: rows::get(r, "purpose")?,
                    channel: rows::get(r, "channel")?,
                    at: rows::get(r, "at")?,
                    ip_truncated: rows::get(r, "ip_truncated")?,
                    body_ct: rows::get(r, "body_ct")?,
                    created_at: rows::get(r, "created_at")?,
                })
            })
            .collect()
    }

    async fn purge_events(
        &self,
        tenant: Uuid,
        subject: Uuid,
        audit: Vec<NewAuditEntry>,
    ) -> StoreResult<u64> {
        let mut tx = self.begin(&self.data).await?;
        let done = sqlx::query("DELETE FROM events WHERE tenant_id = $1 AND subject_id = $2")
            .bind(tenant.as_bytes().as_slice())
            .bind(subject.as_bytes().as_slice())
            .execute(&mut *tx)
            .await
            .map_err(db_err)?;
        append_in(&mut tx, audit).await?;
        tx.commit().await.map_err(db_err)?;
        Ok(done.rows_affected())
    }

    async fn event_drop_counts(&self, tenant: Uuid) -> StoreResult<Vec<(String, u64)>> {
        let found =
            sqlx::query("SELECT reason, n FROM event_drops WHERE tenant_id = $1 ORDER BY reason")
                .bind(tenant.as_bytes().as_slice())
                .fetch_all(&self.data.read)
                .await
                .map_err(db_err)?;
        found
            .iter()
            .map(|r| {
                let n: i64 = rows::get(r, "n")?;
                Ok((rows::get(r, "reason")?, u64::try_from(n).unwrap_or(0)))
            })
            .collect()
    }
}
