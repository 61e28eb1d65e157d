//! The key store: wrapped subject keys and the keyring. Every statement here runs on the key
//! pools, whose connections name the key tables without a schema (a separate SQLite file, or
//! `search_path = vern_keys` on PostgreSQL).

use uuid::Uuid;

use super::bulk::insert_many;
use super::rows::{self, keyring_cols, subject_key_cols};
use super::{SqlStore, db_err};
use crate::model::{KeyringRow, SubjectKeyRow};
use crate::{StoreError, StoreResult};

impl SqlStore {
    /// Inserts subject keys in one key-store transaction. A subject that already has a key is
    /// a conflict: keys are never silently replaced (that would orphan its ciphertext).
    pub(super) async fn insert_subject_keys(&self, keys: &[&SubjectKeyRow]) -> StoreResult<()> {
        let mut tx = self.begin(&self.keys).await?;
        insert_many(
            &mut tx,
            concat!("INSERT INTO subject_keys (", subject_key_cols!(), ")"),
            5,
            keys,
            |q, k| {
                q.bind(k.tenant_id.as_bytes().as_slice())
                    .bind(k.subject_id.as_bytes().as_slice())
                    .bind(k.kek_id.as_slice())
                    .bind(k.wrapped_key.as_slice())
                    .bind(k.created_at)
            },
        )
        .await?;
        tx.commit().await.map_err(db_err)
    }

    /// Deletes subject keys: the crypto-shred of erasure, and the undo of a failed create.
    pub(super) async fn delete_subject_keys(&self, keys: &[(Uuid, Uuid)]) -> StoreResult<u64> {
        let mut tx = self.begin(&self.keys).await?;
        let mut deleted = 0;
        for (tenant, subject) in keys {
            deleted +=
                sqlx::query("DELETE FROM subject_keys WHERE tenant_id = $1 AND subject_id = $2")
                    .bind(tenant.as_bytes().as_slice())
                    .bind(subject.as_bytes().as_slice())
                    .execute(&mut *tx)
                    .await
                    .map_err(db_err)?
                    .rows_affected();
        }
        tx.commit().await.map_err(db_err)?;
        Ok(deleted)
    }

    /// Deletes the subject keys that have no subject in the data store and were created before
    /// `created_before` (µs); returns how many went. A create writes the key first and the
    /// subject second (so no committed subject is ever without its key); a process killed
    /// between the two commits leaves a key that sealed nothing that was kept. `created_before`
    /// must leave room for creates still in flight in other processes (`vern keys prune` uses
    /// an hour). With `delete` false, only counts them. Never run automatically: pointed at the
    /// wrong data store, it would shred every key. Walks the key store in pages of 500.
    pub async fn prune_orphan_subject_keys(
        &self,
        created_before: i64,
        delete: bool,
    ) -> StoreResult<u64> {
        const PAGE: i64 = 500;
        let numbered = self.backend == super::Backend::Postgres;
        let mut after: Option<(Uuid, Uuid)> = None;
        let mut pruned = 0;
        loop {
            let page = match after {
                None => sqlx::query(
                    "SELECT tenant_id, subject_id, created_at FROM subject_keys \
                     ORDER BY tenant_id, subject_id LIMIT $1",
                )
                .bind(PAGE),
                Some((t, s)) => sqlx::query(
                    "SELECT tenant_id, subject_id, created_at FROM subject_keys \
                     WHERE tenant_id > $1 OR (tenant_id = $2 AND subject_id > $3) \
                     ORDER BY tenant_id, subject_id LIMIT $4",
                )
                .bind(t.as_bytes().to_vec())
                .bind(t.as_bytes().to_vec())
                .bind(s.as_bytes().to_vec())
                .bind(PAGE),
            }
            .fetch_all(&self.keys.read)
            .await
            .map_err(db_err)?;
            let mut old = Vec::new();
            for r in &page {
                let key = (rows::uuid(r, "tenant_id")?, rows::uuid(r, "subject_id")?);
                after = Some(key);
                let at: i64 = rows::get(r, "created_at")?;
                if at < created_before {
                    old.push(key);
                }
            }
            if !old.is_empty() {
                // Which of them have their subject (placeholders only: no value in the text).
                let mut sql =
                    String::from("SELECT tenant_id, id AS subject_id FROM subjects WHERE id IN (");
                for i in 0..old.len() {
                    if i > 0 {
                        sql.push(',');
                    }
                    if numbered {
                        sql.push('$');
                        sql.push_str(&(i + 1).to_string());
                    } else {
                        sql.push('?');
                    }
                }
                sql.push(')');
                let query = old
                    .iter()
                    .fold(sqlx::query(sqlx::AssertSqlSafe(sql)), |q, k| {
                        q.bind(k.1.as_bytes().to_vec())
                    });
                let found = query.fetch_all(&self.data.read).await.map_err(db_err)?;
                let mut present = std::collections::HashSet::new();
                for r in &found {
                    present.insert((rows::uuid(r, "tenant_id")?, rows::uuid(r, "subject_id")?));
                }
                let orphans: Vec<_> = old.into_iter().filter(|k| !present.contains(k)).collect();
                if delete && !orphans.is_empty() {
                    pruned += self.delete_subject_keys(&orphans).await?;
                } else {
                    pruned += orphans.len() as u64;
                }
            }
            if (page.len() as i64) < PAGE {
                return Ok(pruned);
            }
        }
    }

    pub(super) async fn subject_key(
        &self,
        tenant: Uuid,
        subject: Uuid,
    ) -> StoreResult<SubjectKeyRow> {
        let row = sqlx::query(concat!(
            "SELECT ",
            subject_key_cols!(),
            " FROM subject_keys WHERE tenant_id = $1 AND subject_id = $2"
        ))
        .bind(tenant.as_bytes().as_slice())
        .bind(subject.as_bytes().as_slice())
        .fetch_one(&self.keys.read)
        .await
        .map_err(db_err)?;
        rows::subject_key(&row)
    }

    /// The wrapped keys of `subjects` (those that have one), in one query per 500 subjects:
    /// an event batch names up to thousands of subjects, and one round trip per subject
    /// dominated ingestion.
    pub async fn subject_keys_of(
        &self,
        tenant: Uuid,
        subjects: &[Uuid],
    ) -> StoreResult<Vec<SubjectKeyRow>> {
        const PER_QUERY: usize = 500;
        let numbered = self.backend == super::Backend::Postgres;
        let mut out = Vec::with_capacity(subjects.len());
        for chunk in subjects.chunks(PER_QUERY) {
            // Placeholders only: no value enters the text.
            let mut sql = String::from(concat!(
                "SELECT ",
                subject_key_cols!(),
                " FROM subject_keys WHERE tenant_id = "
            ));
            sql.push_str(if numbered { "$1" } else { "?" });
            sql.push_str(" AND subject_id IN (");
            for i in 0..chunk.len() {
                if i > 0 {
                    sql.push(',');
                }
                if numbered {
                    sql.push('$');
                    sql.push_str(&(i + 2).to_string());
                } else {
                    sql.push('?');
                }
            }
            sql.push(')');
            let query = chunk.iter().fold(
                sqlx::query(sqlx::AssertSqlSafe(sql)).bind(tenant.as_bytes().to_vec()),
                |q, id| q.bind(id.as_bytes().to_vec()),
            );
            let found = query.fetch_all(&self.keys.read).await.map_err(db_err)?;
            for r in &found {
                out.push(rows::subject_key(r)?);
            }
        }
        Ok(out)
    }

    pub(super) async fn keys_wrapped_by_other(
        &self,
        current_kek_id: &[u8],
        limit: u32,
    ) -> StoreResult<Vec<SubjectKeyRow>> {
        // Two ranges instead of `<>`, so both backends can use the kek_id index: rotation
        // calls this repeatedly while rows move to the new KEK.
        let rows = sqlx::query(concat!(
            "SELECT ",
            subject_key_cols!(),
            " FROM subject_keys WHERE kek_id < $1 OR kek_id > $1 LIMIT $2"
        ))
        .bind(current_kek_id)
        .bind(i64::from(limit))
        .fetch_all(&self.keys.read)
        .await
        .map_err(db_err)?;
        rows.iter().map(rows::subject_key).collect()
    }

    /// Replaces wrapped keys in one transaction, each only if still wrapped by `old_kek_id`
    /// (a concurrent rotation or an erasure wins). Returns how many rows changed.
    pub(super) async fn rewrap(
        &self,
        rows: Vec<SubjectKeyRow>,
        old_kek_id: &[u8],
    ) -> StoreResult<u64> {
        let mut tx = self.begin(&self.keys).await?;
        let mut changed = 0;
        for k in &rows {
            changed += sqlx::query(
                "UPDATE subject_keys SET kek_id = $3, wrapped_key = $4 \
                 WHERE tenant_id = $1 AND subject_id = $2 AND kek_id = $5",
            )
            .bind(k.tenant_id.as_bytes().as_slice())
            .bind(k.subject_id.as_bytes().as_slice())
            .bind(k.kek_id.as_slice())
            .bind(k.wrapped_key.as_slice())
            .bind(old_kek_id)
            .execute(&mut *tx)
            .await
            .map_err(db_err)?
            .rows_affected();
        }
        tx.commit().await.map_err(db_err)?;
        Ok(changed)
    }

    pub(super) async fn keyring_entry(&self, name: &str) -> StoreResult<Option<KeyringRow>> {
        let row = sqlx::query(concat!(
            "SELECT ",
            keyring_cols!(),
            " FROM keyring WHERE name = $1"
        ))
        .bind(name)
        .fetch_optional(&self.keys.read)
        .await
        .map_err(db_err)?;
        row.as_ref().map(rows::keyring).transpose()
    }

    /// Inserts unless present, then returns what is stored: when two nodes race to create the
    /// blind-index key, both end up using the same one.
    pub(super) async fn keyring_put_if_absent(&self, row: KeyringRow) -> StoreResult<KeyringRow> {
        let mut tx = self.begin(&self.keys).await?;
        sqlx::query(concat!(
            "INSERT INTO keyring (",
            keyring_cols!(),
            ") VALUES ($1, $2, $3, $4) ON CONFLICT (name) DO NOTHING"
        ))
        .bind(row.name.as_str())
        .bind(row.kek_id.as_slice())
        .bind(row.wrapped_key.as_slice())
        .bind(row.created_at)
        .execute(&mut *tx)
        .await
        .map_err(db_err)?;
        let stored = sqlx::query(concat!(
            "SELECT ",
            keyring_cols!(),
            " FROM keyring WHERE name = $1"
        ))
        .bind(row.name.as_str())
        .fetch_one(&mut *tx)
        .await
        .map_err(db_err)?;
        let stored = rows::keyring(&stored)?;
        tx.commit().await.map_err(db_err)?;
        Ok(stored)
    }

    /// Rewraps a keyring entry if it is still wrapped by `old_kek_id`: `NotFound` if there is
    /// no such entry, `Conflict` if it was rewrapped meanwhile.
    pub(super) async fn keyring_update(
        &self,
        row: KeyringRow,
        old_kek_id: &[u8],
    ) -> StoreResult<()> {
        let mut tx = self.begin(&self.keys).await?;
        let changed = sqlx::query(
            "UPDATE keyring SET kek_id = $2, wrapped_key = $3 WHERE name = $1 AND kek_id = $4",
        )
        .bind(row.name.as_str())
        .bind(row.kek_id.as_slice())
        .bind(row.wrapped_key.as_slice())
        .bind(old_kek_id)
        .execute(&mut *tx)
        .await
        .map_err(db_err)?
        .rows_affected();
        if changed == 0 {
            let exists = sqlx::query("SELECT 1 FROM keyring WHERE name = $1")
                .bind(row.name.as_str())
                .fetch_optional(&mut *tx)
                .await
                .map_err(db_err)?
                .is_some();
            return Err(if exists {
                StoreError::Conflict("keyring entry is wrapped by another key".into())
            } else {
                StoreError::NotFound
            });
        }
        tx.commit().await.map_err(db_err)
    }
}
