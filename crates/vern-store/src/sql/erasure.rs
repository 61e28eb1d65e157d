//! SQL for [`ErasureStore`].

use std::collections::BTreeSet;

use sha2::{Digest as _, Sha256};
use sqlx::{Any, AssertSqlSafe, Transaction};
use uuid::Uuid;

use super::audit::append_in;
use super::error::corrupt;
use super::retention::{bind_ids, in_list, insert_evidence, p};
use super::rows::subject_key_cols;
use super::{SqlStore, db_err, rows};
use crate::erasure::{ErasureStore, Keep, PartialErasure, Rekey, Resealed, SettledSuccessors};
use crate::model::{NewAuditEntry, SubjectKeyRow};
use crate::retention::EvidenceRow;
use crate::{StoreError, StoreResult};

const IN_CHUNK: usize = 2000;

/// How long an unnamed successor key of the subject being erased is taken for a live erasure
/// on another node rather than the leftover of a failed one (microseconds).
const SUCCESSOR_GRACE: i64 = 5 * 60 * 1_000_000;

/// The digest that names a successor key in the data store's `partial_erasures` row: the
/// SHA-256 of the wrapped bytes, which identifies the key without holding any key material.
fn successor_digest(key: &SubjectKeyRow) -> Vec<u8> {
    Sha256::digest(&key.wrapped_key).to_vec()
}

impl ErasureStore for SqlStore {
    async fn erase_except(
        &self,
        tenant: Uuid,
        subject: Uuid,
        keep: Keep,
        at: i64,
        evidence: Vec<EvidenceRow>,
        audit: Vec<NewAuditEntry>,
    ) -> StoreResult<u64> {
        let Keep {
            records: keep,
            rekey,
        } = keep;
        let digest = match &rekey {
            Some(r) => {
                self.settle_successors(Some((tenant, subject)), at - SUCCESSOR_GRACE)
                    .await?;
                self.stage_successor(&r.key).await?;
                Some(successor_digest(&r.key))
            }
            None => None,
        };
        let staged = self
            .erase_except_tx(
                tenant,
                subject,
                keep,
                at,
                evidence,
                audit,
                rekey.as_ref(),
                digest.clone(),
            )
            .await;
        let (tx, deleted) = match staged {
            Ok(done) => done,
            Err(e) => {
                // Nothing of the data changed: the successor must not outlive the attempt.
                if let Some(r) = &rekey {
                    self.discard_successor(&r.key).await?;
                }
                return Err(e);
            }
        };
        // If the commit fails without an answer the ledger row may or may not exist: the
        // successor stays, and settling decides by the ledger.
        tx.commit().await.map_err(db_err)?;
        if rekey.is_some() {
            self.promote_successor(tenant, subject).await?;
        }
        Ok(deleted)
    }

    async fn settle_key_successors(&self, stale_before: i64) -> StoreResult<SettledSuccessors> {
        self.settle_successors(None, stale_before).await
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

impl SqlStore {
    /// The data transaction of [`ErasureStore::erase_except`], uncommitted.
    #[allow(clippy::too_many_arguments)]
    async fn erase_except_tx(
        &self,
        tenant: Uuid,
        subject: Uuid,
        keep: Vec<Uuid>,
        at: i64,
        evidence: Vec<EvidenceRow>,
        audit: Vec<NewAuditEntry>,
        rekey: Option<&Rekey>,
        successor: Option<Vec<u8>>,
    ) -> StoreResult<(Transaction<'static, Any>, u64)> {
        let (t, s) = (tenant.as_bytes().to_vec(), subject.as_bytes().to_vec());
        let mut tx = self.begin(&self.data).await?;
        let exists = sqlx::query("SELECT id FROM subjects WHERE tenant_id = $1 AND id = $2")
            .bind(t.clone())
            .bind(s.clone())
            .fetch_optional(&mut *tx)
            .await
            .map_err(db_err)?;
        if exists.is_none() {
            return Err(StoreError::NotFound);
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
        insert_evidence(&mut tx, &evidence).await?;
        if let Some(r) = rekey {
            reseal_in(
                &mut tx,
                "UPDATE records SET value_ct = $5 WHERE tenant_id = $1 AND subject_id = $2 \
                 AND id = $3 AND value_ct = $4",
                (&t, &s),
                &r.records,
            )
            .await?;
            reseal_in(
                &mut tx,
                "UPDATE objections SET grounds_ct = $5 WHERE tenant_id = $1 \
                 AND subject_id = $2 AND id = $3 AND grounds_ct = $4",
                (&t, &s),
                &r.grounds,
            )
            .await?;
        }
        let kept: Vec<String> = keep.iter().map(Uuid::to_string).collect();
        let kept = serde_json::to_string(&kept).map_err(|e| corrupt(&e.to_string()))?;
        sqlx::query(
            "INSERT INTO partial_erasures (tenant_id, id, subject_id, erased_at, kept_records, \
             successor_key) VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(t)
        .bind(Uuid::now_v7().as_bytes().to_vec())
        .bind(s)
        .bind(at)
        .bind(kept)
        .bind(successor)
        .execute(&mut *tx)
        .await
        .map_err(db_err)?;
        append_in(&mut tx, audit).await?;
        Ok((tx, deleted))
    }

    /// Stores `key` as the subject's successor key (key store). `Conflict` if one is there:
    /// another partial erasure of the subject is under way.
    async fn stage_successor(&self, key: &SubjectKeyRow) -> StoreResult<()> {
        let mut tx = self.begin(&self.keys).await?;
        let present = sqlx::query(
            "SELECT subject_id FROM subject_key_successors WHERE tenant_id = $1 AND subject_id = $2",
        )
        .bind(key.tenant_id.as_bytes().as_slice())
        .bind(key.subject_id.as_bytes().as_slice())
        .fetch_optional(&mut *tx)
        .await
        .map_err(db_err)?;
        if present.is_some() {
            return Err(StoreError::Conflict(
                "another erasure of this subject is under way".into(),
            ));
        }
        sqlx::query(
            "INSERT INTO subject_key_successors (tenant_id, subject_id, kek_id, wrapped_key, \
             created_at) VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(key.tenant_id.as_bytes().as_slice())
        .bind(key.subject_id.as_bytes().as_slice())
        .bind(key.kek_id.as_slice())
        .bind(key.wrapped_key.as_slice())
        .bind(key.created_at)
        .execute(&mut *tx)
        .await
        .map_err(db_err)?;
        tx.commit().await.map_err(db_err)
    }

    /// Deletes the successor key `key` (only that one: a later attempt's stays).
    async fn discard_successor(&self, key: &SubjectKeyRow) -> StoreResult<()> {
        sqlx::query(
            "DELETE FROM subject_key_successors WHERE tenant_id = $1 AND subject_id = $2 \
             AND wrapped_key = $3",
        )
        .bind(key.tenant_id.as_bytes().as_slice())
        .bind(key.subject_id.as_bytes().as_slice())
        .bind(key.wrapped_key.as_slice())
        .execute(&self.keys.write)
        .await
        .map_err(db_err)?;
        Ok(())
    }

    /// Replaces the subject's key by its successor in one key-store transaction; the old
    /// key's row is deleted (with `secure_delete` on SQLite, its bytes are overwritten).
    /// Returns whether there was a successor.
    async fn promote_successor(&self, tenant: Uuid, subject: Uuid) -> StoreResult<bool> {
        let (t, s) = (tenant.as_bytes().as_slice(), subject.as_bytes().as_slice());
        let mut tx = self.begin(&self.keys).await?;
        let moved = sqlx::query(
            "SELECT subject_id FROM subject_key_successors WHERE tenant_id = $1 AND subject_id = $2",
        )
        .bind(t)
        .bind(s)
        .fetch_optional(&mut *tx)
        .await
        .map_err(db_err)?;
        if moved.is_none() {
            return Ok(false);
        }
        for sql in [
            "DELETE FROM subject_keys WHERE tenant_id = $1 AND subject_id = $2",
            "INSERT INTO subject_keys (tenant_id, subject_id, kek_id, wrapped_key, created_at) \
             SELECT tenant_id, subject_id, kek_id, wrapped_key, created_at \
             FROM subject_key_successors WHERE tenant_id = $1 AND subject_id = $2",
            "DELETE FROM subject_key_successors WHERE tenant_id = $1 AND subject_id = $2",
        ] {
            sqlx::query(sql)
                .bind(t)
                .bind(s)
                .execute(&mut *tx)
                .await
                .map_err(db_err)?;
        }
        tx.commit().await.map_err(db_err)?;
        Ok(true)
    }

    /// [`ErasureStore::settle_key_successors`], for every subject or one.
    async fn settle_successors(
        &self,
        only: Option<(Uuid, Uuid)>,
        stale_before: i64,
    ) -> StoreResult<SettledSuccessors> {
        let found = match only {
            Some((t, s)) => sqlx::query(concat!(
                "SELECT ",
                subject_key_cols!(),
                " FROM subject_key_successors WHERE tenant_id = $1 AND subject_id = $2"
            ))
            .bind(t.as_bytes().to_vec())
            .bind(s.as_bytes().to_vec())
            .fetch_all(&self.keys.read)
            .await
            .map_err(db_err)?,
            None => sqlx::query(concat!(
                "SELECT ",
                subject_key_cols!(),
                " FROM subject_key_successors"
            ))
            .fetch_all(&self.keys.read)
            .await
            .map_err(db_err)?,
        };
        let mut done = SettledSuccessors::default();
        for row in &found {
            let key = rows::subject_key(row)?;
            let named = sqlx::query(
                "SELECT id FROM partial_erasures WHERE tenant_id = $1 AND subject_id = $2 \
                 AND successor_key = $3",
            )
            .bind(key.tenant_id.as_bytes().to_vec())
            .bind(key.subject_id.as_bytes().to_vec())
            .bind(successor_digest(&key))
            .fetch_optional(&self.data.read)
            .await
            .map_err(db_err)?;
            if named.is_some() {
                if self
                    .promote_successor(key.tenant_id, key.subject_id)
                    .await?
                {
                    done.promoted += 1;
                }
            } else if key.created_at < stale_before {
                self.discard_successor(&key).await?;
                done.discarded += 1;
            }
        }
        Ok(done)
    }
}

/// Writes re-sealed values (`sql` binds tenant, subject, id, was, now) and fails with
/// `Conflict` unless every row still held what was read.
async fn reseal_in(
    tx: &mut Transaction<'static, Any>,
    sql: &'static str,
    (t, s): (&[u8], &[u8]),
    values: &[Resealed],
) -> StoreResult<()> {
    for v in values {
        let hit = sqlx::query(sql)
            .bind(t.to_vec())
            .bind(s.to_vec())
            .bind(v.id.as_bytes().to_vec())
            .bind(v.was.clone())
            .bind(v.now.clone())
            .execute(&mut **tx)
            .await
            .map_err(db_err)?
            .rows_affected();
        if hit != 1 {
            return Err(StoreError::Conflict(
                "a kept item changed during the erasure; try again".into(),
            ));
        }
    }
    Ok(())
}
