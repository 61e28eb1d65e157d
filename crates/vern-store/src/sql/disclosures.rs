//! `impl DisclosureStore for SqlStore`.

use sqlx::any::AnyRow;
use uuid::Uuid;

use super::audit::append_in;
use super::rows::{get, uuid};
use super::{SqlStore, db_err};
use crate::StoreResult;
use crate::disclosures::{DisclosureRow, DisclosureStore};
use crate::model::NewAuditEntry;

const COLS: &str = "tenant_id, id, disclosure_id, subject_id, recipient, categories, purpose, \
    legal_basis, mechanism, transfer, legal_decision, nondisclosure_until, recorded_by, disclosed_at";

impl DisclosureStore for SqlStore {
    async fn record_disclosure(
        &self,
        rows: Vec<DisclosureRow>,
        audit: Vec<NewAuditEntry>,
    ) -> StoreResult<()> {
        let mut tx = self.begin(&self.data).await?;
        let sql = format!(
            "INSERT INTO disclosures ({COLS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)"
        );
        for r in &rows {
            sqlx::query(sqlx::AssertSqlSafe(sql.clone()))
                .bind(r.tenant_id.as_bytes().as_slice())
                .bind(r.id.as_bytes().as_slice())
                .bind(r.disclosure_id.as_bytes().as_slice())
                .bind(r.subject_id.as_bytes().as_slice())
                .bind(r.recipient.as_str())
                .bind(serde_json::to_string(&r.categories).unwrap_or_else(|_| "[]".into()))
                .bind(r.purpose.as_str())
                .bind(r.legal_basis.as_str())
                .bind(r.mechanism.as_str())
                .bind(r.transfer.clone())
                .bind(r.legal_decision.clone())
                .bind(r.nondisclosure_until)
                .bind(r.recorded_by.as_str())
                .bind(r.disclosed_at)
                .execute(&mut *tx)
                .await
                .map_err(db_err)?;
        }
        append_in(&mut tx, audit).await?;
        tx.commit().await.map_err(db_err)
    }

    async fn disclosures_of_subject(
        &self,
        tenant: Uuid,
        subject: Uuid,
    ) -> StoreResult<Vec<DisclosureRow>> {
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {COLS} FROM disclosures WHERE tenant_id = $1 AND subject_id = $2 ORDER BY disclosed_at, id"
        )))
        .bind(tenant.as_bytes().as_slice())
        .bind(subject.as_bytes().as_slice())
        .fetch_all(&self.data.read)
        .await
        .map_err(db_err)?;
        rows.iter().map(row).collect()
    }
}

fn row(r: &AnyRow) -> StoreResult<DisclosureRow> {
    let categories: String = get(r, "categories")?;
    Ok(DisclosureRow {
        tenant_id: uuid(r, "tenant_id")?,
        id: uuid(r, "id")?,
        disclosure_id: uuid(r, "disclosure_id")?,
        subject_id: uuid(r, "subject_id")?,
        recipient: get(r, "recipient")?,
        categories: serde_json::from_str(&categories)
            .map_err(|_| super::error::corrupt("disclosures.categories"))?,
        purpose: get(r, "purpose")?,
        legal_basis: get(r, "legal_basis")?,
        mechanism: get(r, "mechanism")?,
        transfer: get(r, "transfer")?,
        legal_decision: get(r, "legal_decision")?,
        nondisclosure_until: get(r, "nondisclosure_until")?,
        recorded_by: get(r, "recorded_by")?,
        disclosed_at: get(r, "disclosed_at")?,
    })
}
