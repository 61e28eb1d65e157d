//! Subjects with their identifiers and records: creation (one or a batch), reads, updates and
//! erasure. Every write appends its audit entries in the same data transaction.

use sqlx::AnyConnection;
use uuid::Uuid;

use super::audit::append_in;
use super::bulk::insert_many;
use super::rows::{self, identifier_cols, record_cols, subject_cols};
use super::{SqlStore, db_err};
use crate::model::{IdentifierRow, NewAuditEntry, NewSubject, RecordRow, SubjectRow};
use crate::{StoreError, StoreResult};

/// Refuses a subject whose parts name another subject or tenant: a bug in the caller that
/// would otherwise attach data to the wrong person.
fn check_consistent(new: &NewSubject) -> StoreResult<()> {
    let (tenant, id) = (new.subject.tenant_id, new.subject.id);
    let ok = new.key.tenant_id == tenant
        && new.key.subject_id == id
        && new
            .identifiers
            .iter()
            .all(|i| i.tenant_id == tenant && i.subject_id == id)
        && new
            .records
            .iter()
            .all(|r| r.tenant_id == tenant && r.subject_id == id);
    if ok {
        Ok(())
    } else {
        Err(StoreError::Database(
            "a key, identifier or record of a new subject names another subject".into(),
        ))
    }
}

/// Whether a failed data write was certainly rolled back, so the keys written for it can be
/// removed. After an I/O error the commit may have happened; the key then stays (an unused
/// key is harmless, data without its key is lost).
fn certainly_rolled_back(e: &StoreError) -> bool {
    matches!(
        e,
        StoreError::Conflict(_) | StoreError::NotFound | StoreError::Refused(_)
    )
}

async fn insert_subjects(conn: &mut AnyConnection, batch: &[NewSubject]) -> StoreResult<()> {
    let subjects: Vec<&SubjectRow> = batch.iter().map(|n| &n.subject).collect();
    insert_many(
        conn,
        concat!("INSERT INTO subjects (", subject_cols!(), ")"),
        6,
        &subjects,
        |q, s| {
            q.bind(s.tenant_id.as_bytes().as_slice())
                .bind(s.id.as_bytes().as_slice())
                .bind(s.subject_type.as_str())
                .bind(s.jurisdiction.as_deref())
                .bind(s.created_at)
                .bind(s.updated_at)
        },
    )
    .await?;
    let identifiers: Vec<&IdentifierRow> = batch.iter().flat_map(|n| &n.identifiers).collect();
    insert_identifiers(conn, &identifiers).await?;
    let records: Vec<&RecordRow> = batch.iter().flat_map(|n| &n.records).collect();
    insert_records(conn, &records).await
}

async fn insert_identifiers(conn: &mut AnyConnection, rows: &[&IdentifierRow]) -> StoreResult<()> {
    insert_many(
        conn,
        concat!("INSERT INTO identifiers (", identifier_cols!(), ")"),
        7,
        rows,
        |q, i| {
            q.bind(i.tenant_id.as_bytes().as_slice())
                .bind(i.id.as_bytes().as_slice())
                .bind(i.subject_id.as_bytes().as_slice())
                .bind(i.kind.as_str())
                .bind(i.blind_index.as_slice())
                .bind(i.value_ct.as_slice())
                .bind(i.created_at)
        },
    )
    .await
}

async fn insert_records(conn: &mut AnyConnection, rows: &[&RecordRow]) -> StoreResult<()> {
    insert_many(
        conn,
        concat!("INSERT INTO records (", record_cols!(), ")"),
        16,
        rows,
        |q, r| {
            q.bind(r.tenant_id.as_bytes().as_slice())
                .bind(r.id.as_bytes().as_slice())
                .bind(r.subject_id.as_bytes().as_slice())
                .bind(r.category.as_str())
                .bind(r.value_ct.as_slice())
                .bind(r.source.as_str())
                .bind(rows::purposes_json(&r.purposes))
                .bind(r.legal_basis.as_str())
                .bind(r.collected_at)
                .bind(r.last_activity_at)
                .bind(r.originating_system.as_deref())
                .bind(r.created_at)
                .bind(r.updated_at)
                .bind(rows::event_times_json(&r.event_times))
                .bind(r.expires_at)
                .bind(r.retention_rule.as_deref())
        },
    )
    .await
}

/// `NotFound` unless a statement changed a row.
fn changed_one(rows_affected: u64) -> StoreResult<()> {
    if rows_affected == 0 {
        Err(StoreError::NotFound)
    } else {
        Ok(())
    }
}

impl SqlStore {
    /// Creates subjects: keys first (one key transaction), then subjects, identifiers,
    /// records and audit entries in one data transaction. All or nothing.
    pub(super) async fn create_subjects(&self, batch: Vec<NewSubject>) -> StoreResult<()> {
        self.create_subjects_tracked(batch, None).await
    }

    /// Creates subjects; with `progress`, records in the same transaction how far an import
    /// got, so the batch and its progress are committed together or not at all.
    pub(super) async fn create_subjects_tracked(
        &self,
        mut batch: Vec<NewSubject>,
        progress: Option<&crate::import::ImportProgress>,
    ) -> StoreResult<()> {
        if batch.is_empty() && progress.is_none() {
            return Ok(());
        }
        batch.iter().try_for_each(check_consistent)?;
        let keys: Vec<_> = batch.iter().map(|n| &n.key).collect();
        self.insert_subject_keys(&keys).await?;

        let audit: Vec<NewAuditEntry> = batch
            .iter_mut()
            .flat_map(|n| std::mem::take(&mut n.audit))
            .collect();
        let written = async {
            let mut tx = self.begin(&self.data).await?;
            insert_subjects(&mut tx, &batch).await?;
            append_in(&mut tx, audit).await?;
            if let Some(p) = progress {
                sqlx::query(
                    "INSERT INTO import_progress (tenant_id, file_hash, done, updated_at) \
                     VALUES ($1, $2, $3, $4) ON CONFLICT (tenant_id, file_hash) \
                     DO UPDATE SET done = excluded.done, updated_at = excluded.updated_at",
                )
                .bind(p.tenant_id.as_bytes().as_slice())
                .bind(p.file_hash.as_str())
                .bind(i64::try_from(p.done).unwrap_or(i64::MAX))
                .bind(p.at)
                .execute(&mut *tx)
                .await
                .map_err(db_err)?;
            }
            tx.commit().await.map_err(db_err)
        }
        .await;

        if let Err(e) = written {
            if certainly_rolled_back(&e) {
                let ids: Vec<_> = batch
                    .iter()
                    .map(|n| (n.subject.tenant_id, n.subject.id))
                    .collect();
                if let Err(undo) = self.delete_subject_keys(&ids).await {
                    tracing::warn!(error = %undo, "could not remove the keys of a failed create");
                }
            }
            return Err(e);
        }
        Ok(())
    }

    pub(super) async fn subject(&self, tenant: Uuid, id: Uuid) -> StoreResult<SubjectRow> {
        let row = sqlx::query(concat!(
            "SELECT ",
            subject_cols!(),
            " FROM subjects WHERE tenant_id = $1 AND id = $2"
        ))
        .bind(tenant.as_bytes().as_slice())
        .bind(id.as_bytes().as_slice())
        .fetch_one(&self.data.read)
        .await
        .map_err(db_err)?;
        rows::subject(&row)
    }

    pub(super) async fn subjects_page(
        &self,
        tenant: Uuid,
        after: Option<Uuid>,
        limit: u32,
    ) -> StoreResult<Vec<SubjectRow>> {
        // Ids are UUIDv7 compared bytewise (memcmp on both backends): creation order.
        let query = match after {
            None => sqlx::query(concat!(
                "SELECT ",
                subject_cols!(),
                " FROM subjects WHERE tenant_id = $1 ORDER BY id LIMIT $2"
            ))
            .bind(tenant.as_bytes().as_slice())
            .bind(i64::from(limit)),
            Some(after) => sqlx::query(concat!(
                "SELECT ",
                subject_cols!(),
                " FROM subjects WHERE tenant_id = $1 AND id > $3 ORDER BY id LIMIT $2"
            ))
            .bind(tenant.as_bytes().as_slice())
            .bind(i64::from(limit))
            .bind(after.as_bytes().as_slice()),
        };
        let rows = query.fetch_all(&self.data.read).await.map_err(db_err)?;
        rows.iter().map(rows::subject).collect()
    }

    pub(super) async fn update_subject_row(
        &self,
        row: SubjectRow,
        audit: Vec<NewAuditEntry>,
    ) -> StoreResult<()> {
        let mut tx = self.begin(&self.data).await?;
        let done = sqlx::query(
            "UPDATE subjects SET subject_type = $3, jurisdiction = $4, updated_at = $5 \
             WHERE tenant_id = $1 AND id = $2",
        )
        .bind(row.tenant_id.as_bytes().as_slice())
        .bind(row.id.as_bytes().as_slice())
        .bind(row.subject_type.as_str())
        .bind(row.jurisdiction.as_deref())
        .bind(row.updated_at)
        .execute(&mut *tx)
        .await
        .map_err(db_err)?;
        changed_one(done.rows_affected())?;
        append_in(&mut tx, audit).await?;
        tx.commit().await.map_err(db_err)
    }

    /// Erasure. The key goes first: from that moment the subject's ciphertext is unreadable
    /// whatever happens next. If the data transaction then fails, a retry finds the subject
    /// without a key and finishes the job.
    pub(super) async fn erase(
        &self,
        tenant: Uuid,
        id: Uuid,
        at: i64,
        audit: Vec<NewAuditEntry>,
    ) -> StoreResult<()> {
        // Checked before shredding, so erasing a wrong id destroys nothing.
        self.subject(tenant, id).await?;
        self.delete_subject_keys(&[(tenant, id)]).await?;

        let (t, s) = (tenant.as_bytes().as_slice(), id.as_bytes().as_slice());
        let mut tx = self.begin(&self.data).await?;
        for sql in [
            "DELETE FROM identifiers WHERE tenant_id = $1 AND subject_id = $2",
            "DELETE FROM records WHERE tenant_id = $1 AND subject_id = $2",
        ] {
            sqlx::query(sql)
                .bind(t)
                .bind(s)
                .execute(&mut *tx)
                .await
                .map_err(db_err)?;
        }
        let done = sqlx::query("DELETE FROM subjects WHERE tenant_id = $1 AND id = $2")
            .bind(t)
            .bind(s)
            .execute(&mut *tx)
            .await
            .map_err(db_err)?;
        changed_one(done.rows_affected())?;
        // Idempotent: replaying a ledger after a restore may erase a subject twice.
        sqlx::query(
            "INSERT INTO erasure_ledger (tenant_id, subject_id, erased_at) VALUES ($1, $2, $3) \
             ON CONFLICT (tenant_id, subject_id) DO NOTHING",
        )
        .bind(t)
        .bind(s)
        .bind(at)
        .execute(&mut *tx)
        .await
        .map_err(db_err)?;
        append_in(&mut tx, audit).await?;
        tx.commit().await.map_err(db_err)
    }

    pub(super) async fn insert_identifier(
        &self,
        row: IdentifierRow,
        audit: Vec<NewAuditEntry>,
    ) -> StoreResult<()> {
        let mut tx = self.begin(&self.data).await?;
        insert_identifiers(&mut tx, &[&row]).await?;
        append_in(&mut tx, audit).await?;
        tx.commit().await.map_err(db_err)
    }

    pub(super) async fn identifiers_of(
        &self,
        tenant: Uuid,
        subject: Uuid,
    ) -> StoreResult<Vec<IdentifierRow>> {
        let rows = sqlx::query(concat!(
            "SELECT ",
            identifier_cols!(),
            " FROM identifiers WHERE tenant_id = $1 AND subject_id = $2 ORDER BY id"
        ))
        .bind(tenant.as_bytes().as_slice())
        .bind(subject.as_bytes().as_slice())
        .fetch_all(&self.data.read)
        .await
        .map_err(db_err)?;
        rows.iter().map(rows::identifier).collect()
    }

    /// Deletes one row of `table` (`identifiers` or `records`) of a subject, with its audit.
    pub(super) async fn delete_child(
        &self,
        sql: &'static str,
        tenant: Uuid,
        subject: Uuid,
        id: Uuid,
        audit: Vec<NewAuditEntry>,
    ) -> StoreResult<()> {
        let mut tx = self.begin(&self.data).await?;
        let done = sqlx::query(sql)
            .bind(tenant.as_bytes().as_slice())
            .bind(subject.as_bytes().as_slice())
            .bind(id.as_bytes().as_slice())
            .execute(&mut *tx)
            .await
            .map_err(db_err)?;
        changed_one(done.rows_affected())?;
        append_in(&mut tx, audit).await?;
        tx.commit().await.map_err(db_err)
    }

    pub(super) async fn subject_by_blind_index(
        &self,
        tenant: Uuid,
        kind: &str,
        blind_index: &[u8],
    ) -> StoreResult<Option<Uuid>> {
        let row = sqlx::query(
            "SELECT subject_id FROM identifiers \
             WHERE tenant_id = $1 AND kind = $2 AND blind_index = $3",
        )
        .bind(tenant.as_bytes().as_slice())
        .bind(kind)
        .bind(blind_index)
        .fetch_optional(&self.data.read)
        .await
        .map_err(db_err)?;
        row.map(|r| rows::uuid(&r, "subject_id")).transpose()
    }

    pub(super) async fn insert_record(
        &self,
        row: RecordRow,
        audit: Vec<NewAuditEntry>,
    ) -> StoreResult<()> {
        let mut tx = self.begin(&self.data).await?;
        insert_records(&mut tx, &[&row]).await?;
        append_in(&mut tx, audit).await?;
        tx.commit().await.map_err(db_err)
    }

    pub(super) async fn record(
        &self,
        tenant: Uuid,
        subject: Uuid,
        id: Uuid,
    ) -> StoreResult<RecordRow> {
        let row = sqlx::query(concat!(
            "SELECT ",
            record_cols!(),
            " FROM records WHERE tenant_id = $1 AND subject_id = $2 AND id = $3"
        ))
        .bind(tenant.as_bytes().as_slice())
        .bind(subject.as_bytes().as_slice())
        .bind(id.as_bytes().as_slice())
        .fetch_one(&self.data.read)
        .await
        .map_err(db_err)?;
        rows::record(&row)
    }

    pub(super) async fn records_of(
        &self,
        tenant: Uuid,
        subject: Uuid,
    ) -> StoreResult<Vec<RecordRow>> {
        let rows = sqlx::query(concat!(
            "SELECT ",
            record_cols!(),
            " FROM records WHERE tenant_id = $1 AND subject_id = $2 ORDER BY id"
        ))
        .bind(tenant.as_bytes().as_slice())
        .bind(subject.as_bytes().as_slice())
        .fetch_all(&self.data.read)
        .await
        .map_err(db_err)?;
        rows.iter().map(rows::record).collect()
    }

    pub(super) async fn update_record_row(
        &self,
        row: RecordRow,
        audit: Vec<NewAuditEntry>,
    ) -> StoreResult<()> {
        let mut tx = self.begin(&self.data).await?;
        let done = sqlx::query(
            "UPDATE records SET category = $4, value_ct = $5, source = $6, purposes = $7, \
             legal_basis = $8, collected_at = $9, last_activity_at = $10, \
             originating_system = $11, updated_at = $12, event_times = $13, expires_at = $14, \
             retention_rule = $15 \
             WHERE tenant_id = $1 AND subject_id = $2 AND id = $3",
        )
        .bind(row.tenant_id.as_bytes().as_slice())
        .bind(row.subject_id.as_bytes().as_slice())
        .bind(row.id.as_bytes().as_slice())
        .bind(row.category.as_str())
        .bind(row.value_ct.as_slice())
        .bind(row.source.as_str())
        .bind(rows::purposes_json(&row.purposes))
        .bind(row.legal_basis.as_str())
        .bind(row.collected_at)
        .bind(row.last_activity_at)
        .bind(row.originating_system.as_deref())
        .bind(row.updated_at)
        .bind(rows::event_times_json(&row.event_times))
        .bind(row.expires_at)
        .bind(row.retention_rule.as_deref())
        .execute(&mut *tx)
        .await
        .map_err(db_err)?;
        changed_one(done.rows_affected())?;
        append_in(&mut tx, audit).await?;
        tx.commit().await.map_err(db_err)
    }
}
