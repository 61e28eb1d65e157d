//! Appending to, reading and verifying the per-tenant audit hash chain.
//!
//! Appends happen inside the caller's write transaction, after its data writes, so an audit
//! entry exists exactly when the write it describes does. The tenant's `audit_head` row is the
//! serialisation point: `UPDATE … RETURNING` reserves the sequence numbers and, on PostgreSQL,
//! row-locks the head until commit, so concurrent appenders for one tenant queue on it (on
//! SQLite the database write lock already serialises them). Taking the head last keeps that
//! lock short and always acquired in the same order, so appenders cannot deadlock.

use sqlx::AnyConnection;
use uuid::Uuid;

use super::bulk::insert_many;
use super::rows::{self, audit_cols};
use super::{SqlStore, db_err};
use crate::StoreResult;
use crate::audit_chain::{self, ChainBreak, ChainVerifier, GENESIS_HASH};
use crate::model::{AuditRow, NewAuditEntry};

/// Rows per page when walking a chain.
const VERIFY_PAGE: u32 = 1000;

/// Chains and inserts `entries` (any tenants, each tenant's in the given order).
pub(super) async fn append_in(
    conn: &mut AnyConnection,
    entries: Vec<NewAuditEntry>,
) -> StoreResult<()> {
    // Group by tenant, keeping first-appearance order; usually there is one tenant.
    let mut groups: Vec<(Uuid, Vec<NewAuditEntry>)> = Vec::new();
    for entry in entries {
        match groups.iter_mut().find(|(t, _)| *t == entry.tenant_id) {
            Some((_, group)) => group.push(entry),
            None => groups.push((entry.tenant_id, vec![entry])),
        }
    }
    for (tenant, group) in groups {
        append_tenant(conn, tenant, group).await?;
    }
    Ok(())
}

async fn append_tenant(
    conn: &mut AnyConnection,
    tenant: Uuid,
    entries: Vec<NewAuditEntry>,
) -> StoreResult<()> {
    let n = i64::try_from(entries.len()).unwrap_or(i64::MAX);
    sqlx::query(
        "INSERT INTO audit_head (tenant_id, seq, hash) VALUES ($1, 0, $2) \
         ON CONFLICT (tenant_id) DO NOTHING",
    )
    .bind(tenant.as_bytes().as_slice())
    .bind(GENESIS_HASH.as_slice())
    .execute(&mut *conn)
    .await
    .map_err(db_err)?;
    // RETURNING gives the new seq and the (unchanged) hash of the last entry.
    let head = sqlx::query(
        "UPDATE audit_head SET seq = seq + $2 WHERE tenant_id = $1 RETURNING seq, hash",
    )
    .bind(tenant.as_bytes().as_slice())
    .bind(n)
    .fetch_one(&mut *conn)
    .await
    .map_err(db_err)?;
    let last_seq: i64 = rows::get(&head, "seq")?;
    let prev_hash: Vec<u8> = rows::get(&head, "hash")?;

    let chained = audit_chain::chain_entries(last_seq - n, &prev_hash, entries);
    insert_many(
        conn,
        concat!("INSERT INTO audit_log (", audit_cols!(), ")"),
        11,
        &chained,
        |q, r| {
            q.bind(r.entry.tenant_id.as_bytes().as_slice())
                .bind(r.seq)
                .bind(r.entry.id.as_bytes().as_slice())
                .bind(r.entry.at)
                .bind(r.entry.actor.as_str())
                .bind(r.entry.action.as_str())
                .bind(r.entry.subject_id.as_ref().map(|s| s.as_bytes().as_slice()))
                .bind(r.entry.purpose.as_deref())
                .bind(r.entry.detail.as_str())
                .bind(r.prev_hash.as_slice())
                .bind(r.hash.as_slice())
        },
    )
    .await?;

    if let Some(last) = chained.last() {
        sqlx::query("UPDATE audit_head SET hash = $2 WHERE tenant_id = $1")
            .bind(tenant.as_bytes().as_slice())
            .bind(last.hash.as_slice())
            .execute(&mut *conn)
            .await
            .map_err(db_err)?;
    }
    Ok(())
}

impl SqlStore {
    pub(super) async fn append_audit_entries(
        &self,
        entries: Vec<NewAuditEntry>,
    ) -> StoreResult<()> {
        if entries.is_empty() {
            return Ok(());
        }
        let mut tx = self.begin(&self.data).await?;
        append_in(&mut tx, entries).await?;
        tx.commit().await.map_err(db_err)
    }

    pub(super) async fn read_audit_page(
        &self,
        tenant: Uuid,
        from: i64,
        limit: u32,
    ) -> StoreResult<Vec<AuditRow>> {
        let rows = sqlx::query(concat!(
            "SELECT ",
            audit_cols!(),
            " FROM audit_log WHERE tenant_id = $1 AND seq >= $2 ORDER BY seq LIMIT $3"
        ))
        .bind(tenant.as_bytes().as_slice())
        .bind(from)
        .bind(i64::from(limit))
        .fetch_all(&self.data.read)
        .await
        .map_err(db_err)?;
        rows.iter().map(rows::audit).collect()
    }

    /// Walks the tenant's whole chain in pages from the genesis hash and checks that it ends at
    /// the recorded head (so removing the newest entries is caught too). `Ok(Ok(n))`: `n`
    /// entries verified; `Ok(Err(_))`: the first broken link.
    pub async fn verify_audit(&self, tenant: Uuid) -> StoreResult<Result<u64, ChainBreak>> {
        // The head is read first: entries appended while we walk are beyond it and ignored.
        let head = sqlx::query("SELECT seq, hash FROM audit_head WHERE tenant_id = $1")
            .bind(tenant.as_bytes().as_slice())
            .fetch_optional(&self.data.read)
            .await
            .map_err(db_err)?;
        let (head_seq, head_hash) = match head {
            Some(row) => (
                rows::get::<i64>(&row, "seq")?,
                rows::get::<Vec<u8>>(&row, "hash")?,
            ),
            None => (0, GENESIS_HASH.to_vec()),
        };
        let mut verifier = ChainVerifier::from_genesis();
        let mut from = 1;
        while from <= head_seq {
            let page = self.read_audit_page(tenant, from, VERIFY_PAGE).await?;
            let Some(last) = page.last() else { break };
            from = last.seq + 1;
            for row in page.iter().take_while(|r| r.seq <= head_seq) {
                if let Err(e) = verifier.push(row) {
                    return Ok(Err(e));
                }
            }
        }
        Ok(verifier
            .finish_at_head(head_seq, &head_hash)
            .map(|()| verifier.count()))
    }
}
