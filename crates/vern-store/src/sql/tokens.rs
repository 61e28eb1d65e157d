//! API tokens (stored as hashes only), idempotency records, and the erasure ledger.

use uuid::Uuid;

use super::audit::append_in;
use super::rows::{self, idempotency_cols, token_cols};
use super::{SqlStore, db_err};
use crate::model::{IdempotencyRow, NewAuditEntry, TokenRow};
use crate::{StoreError, StoreResult};

impl SqlStore {
    pub(super) async fn insert_token(
        &self,
        row: TokenRow,
        audit: Vec<NewAuditEntry>,
    ) -> StoreResult<()> {
        let mut tx = self.begin(&self.data).await?;
        sqlx::query(concat!(
            "INSERT INTO api_tokens (",
            token_cols!(),
            ") VALUES ($1, $2, $3, $4, $5, $6, $7)"
        ))
        .bind(row.tenant_id.as_bytes().as_slice())
        .bind(row.id.as_bytes().as_slice())
        .bind(row.name.as_str())
        .bind(row.role.as_str())
        .bind(row.token_hash.as_slice())
        .bind(row.created_at)
        .bind(row.revoked_at)
        .execute(&mut *tx)
        .await
        .map_err(db_err)?;
        append_in(&mut tx, audit).await?;
        tx.commit().await.map_err(db_err)
    }

    pub(super) async fn token_by_hash(&self, hash: &[u8]) -> StoreResult<Option<TokenRow>> {
        let row = sqlx::query(concat!(
            "SELECT ",
            token_cols!(),
            " FROM api_tokens WHERE token_hash = $1"
        ))
        .bind(hash)
        .fetch_optional(&self.data.read)
        .await
        .map_err(db_err)?;
        row.as_ref().map(rows::token).transpose()
    }

    pub(super) async fn tokens_of(&self, tenant: Uuid) -> StoreResult<Vec<TokenRow>> {
        let rows = sqlx::query(concat!(
            "SELECT ",
            token_cols!(),
            " FROM api_tokens WHERE tenant_id = $1 ORDER BY id"
        ))
        .bind(tenant.as_bytes().as_slice())
        .fetch_all(&self.data.read)
        .await
        .map_err(db_err)?;
        rows.iter().map(rows::token).collect()
    }

    /// Revokes a token. Revoking twice keeps the first revocation time.
    pub(super) async fn revoke(
        &self,
        tenant: Uuid,
        id: Uuid,
        at: i64,
        audit: Vec<NewAuditEntry>,
    ) -> StoreResult<()> {
        let mut tx = self.begin(&self.data).await?;
        let done = sqlx::query(
            "UPDATE api_tokens SET revoked_at = COALESCE(revoked_at, $3) \
             WHERE tenant_id = $1 AND id = $2",
        )
        .bind(tenant.as_bytes().as_slice())
        .bind(id.as_bytes().as_slice())
        .bind(at)
        .execute(&mut *tx)
        .await
        .map_err(db_err)?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound);
        }
        append_in(&mut tx, audit).await?;
        tx.commit().await.map_err(db_err)
    }

    /// All tokens of all tenants, revoked ones included: zero means a fresh installation.
    pub(super) async fn token_count(&self) -> StoreResult<u64> {
        let row = sqlx::query("SELECT COUNT(*) AS n FROM api_tokens")
            .fetch_one(&self.data.read)
            .await
            .map_err(db_err)?;
        let n: i64 = rows::get(&row, "n")?;
        Ok(u64::try_from(n).unwrap_or(0))
    }

    pub(super) async fn idempotent(
        &self,
        tenant: Uuid,
        token: Uuid,
        key: &str,
    ) -> StoreResult<Option<IdempotencyRow>> {
        let row = sqlx::query(concat!(
            "SELECT ",
            idempotency_cols!(),
            " FROM idempotency_keys WHERE tenant_id = $1 AND token_id = $2 AND key = $3"
        ))
        .bind(tenant.as_bytes().as_slice())
        .bind(token.as_bytes().as_slice())
        .bind(key)
        .fetch_optional(&self.data.read)
        .await
        .map_err(db_err)?;
        row.as_ref().map(rows::idempotency).transpose()
    }

    /// Stores a response; a second response for the same key is a conflict (the first wins).
    pub(super) async fn put_idempotent_row(&self, row: IdempotencyRow) -> StoreResult<()> {
        sqlx::query(concat!(
            "INSERT INTO idempotency_keys (",
            idempotency_cols!(),
            ") VALUES ($1, $2, $3, $4, $5, $6, $7)"
        ))
        .bind(row.tenant_id.as_bytes().as_slice())
        .bind(row.token_id.as_bytes().as_slice())
        .bind(row.key.as_str())
        .bind(row.request_hash.as_slice())
        .bind(i64::from(row.status))
        .bind(row.body.as_slice())
        .bind(row.created_at)
        .execute(&self.data.write)
        .await
        .map_err(db_err)?;
        Ok(())
    }

    pub(super) async fn erased(&self, tenant: Uuid) -> StoreResult<Vec<Uuid>> {
        let rows = sqlx::query(
            "SELECT subject_id FROM erasure_ledger WHERE tenant_id = $1 ORDER BY subject_id",
        )
        .bind(tenant.as_bytes().as_slice())
        .fetch_all(&self.data.read)
        .await
        .map_err(db_err)?;
        rows.iter().map(|r| rows::uuid(r, "subject_id")).collect()
    }
}
