//! `impl RequestStore for SqlStore`.
//!
//! Idempotent inserts: the unique index on (tenant, created_by, idem_key) decides, inside the
//! database, which of two concurrent submissions with one key wins; the loser's transaction
//! inserts nothing (`ON CONFLICT DO NOTHING`) and returns the winner's row. So no retry, on
//! any number of nodes, creates a second request.

use sqlx::any::AnyRow;
use sqlx::{AnyConnection, AssertSqlSafe};
use uuid::Uuid;

use super::audit::append_in;
use super::error::corrupt;
use super::rows::{get, opt_uuid, uuid};
use super::{SqlStore, db_err};
use crate::jobs::JobRow;
use crate::model::NewAuditEntry;
use crate::requests::{
    DownloadRow, RecipientTaskRow, RequestChange, RequestEventRow, RequestFilter, RequestRow,
    RequestStore, VerificationRow,
};
use crate::{StoreError, StoreResult};

macro_rules! request_cols {
    () => {
        "tenant_id, id, reference, state, rights, channel, lang, subject_id, case_ct, \
         received_at, received_on, due_initial, due_max, due, created_by, idem_key, idem_digest, \
         requester_index, closed_at, updated_at, version"
    };
}
macro_rules! event_cols {
    () => {
        "tenant_id, id, request_id, at, actor, action, from_state, to_state"
    };
}
macro_rules! verification_cols {
    () => {
        "tenant_id, id, request_id, token_hash, code_digest, expires_at, attempts, created_at"
    };
}

fn request(r: &AnyRow) -> StoreResult<RequestRow> {
    let rights: String = get(r, "rights")?;
    Ok(RequestRow {
        tenant_id: uuid(r, "tenant_id")?,
        id: uuid(r, "id")?,
        reference: get(r, "reference")?,
        state: get(r, "state")?,
        rights: serde_json::from_str(&rights).map_err(|_| corrupt("dsr_requests.rights"))?,
        channel: get(r, "channel")?,
        lang: get(r, "lang")?,
        subject_id: opt_uuid(r, "subject_id")?,
        case_ct: get(r, "case_ct")?,
        received_at: get(r, "received_at")?,
        received_on: get(r, "received_on")?,
        due_initial: get(r, "due_initial")?,
        due_max: get(r, "due_max")?,
        due: get(r, "due")?,
        created_by: get(r, "created_by")?,
        idem_key: get(r, "idem_key")?,
        idem_digest: get(r, "idem_digest")?,
        requester_index: get(r, "requester_index")?,
        closed_at: get(r, "closed_at")?,
        updated_at: get(r, "updated_at")?,
        version: get(r, "version")?,
    })
}

fn event(r: &AnyRow) -> StoreResult<RequestEventRow> {
    Ok(RequestEventRow {
        tenant_id: uuid(r, "tenant_id")?,
        id: uuid(r, "id")?,
        request_id: uuid(r, "request_id")?,
        at: get(r, "at")?,
        actor: get(r, "actor")?,
        action: get(r, "action")?,
        from_state: get(r, "from_state")?,
        to_state: get(r, "to_state")?,
    })
}

fn verification(r: &AnyRow) -> StoreResult<VerificationRow> {
    Ok(VerificationRow {
        tenant_id: uuid(r, "tenant_id")?,
        id: uuid(r, "id")?,
        request_id: uuid(r, "request_id")?,
        token_hash: get(r, "token_hash")?,
        code_digest: get(r, "code_digest")?,
        expires_at: get(r, "expires_at")?,
        attempts: get(r, "attempts")?,
        created_at: get(r, "created_at")?,
    })
}

macro_rules! download_cols {
    () => {
        "tenant_id, id, request_id, subject_id, token_hash, lang, html_ct, json_ct, csv_ct, \
         zip_ct, expires_at, max_downloads, downloads, created_at"
    };
}
macro_rules! task_cols {
    () => {
        "tenant_id, id, subject_id, request_id, action, recipient, categories, state, \
         created_at, closed_at, closed_by, method"
    };
}

fn download(r: &AnyRow) -> StoreResult<DownloadRow> {
    Ok(DownloadRow {
        tenant_id: uuid(r, "tenant_id")?,
        id: uuid(r, "id")?,
        request_id: uuid(r, "request_id")?,
        subject_id: opt_uuid(r, "subject_id")?,
        token_hash: get(r, "token_hash")?,
        lang: get(r, "lang")?,
        html_ct: get(r, "html_ct")?,
        json_ct: get(r, "json_ct")?,
        csv_ct: get(r, "csv_ct")?,
        zip_ct: get(r, "zip_ct")?,
        expires_at: get(r, "expires_at")?,
        max_downloads: get(r, "max_downloads")?,
        downloads: get(r, "downloads")?,
        created_at: get(r, "created_at")?,
    })
}

fn task(r: &AnyRow) -> StoreResult<RecipientTaskRow> {
    let categories: String = get(r, "categories")?;
    Ok(RecipientTaskRow {
        tenant_id: uuid(r, "tenant_id")?,
        id: uuid(r, "id")?,
        subject_id: uuid(r, "subject_id")?,
        request_id: opt_uuid(r, "request_id")?,
        action: get(r, "action")?,
        recipient: get(r, "recipient")?,
        categories: serde_json::from_str(&categories)
            .map_err(|_| corrupt("recipient_tasks.categories"))?,
        state: get(r, "state")?,
        created_at: get(r, "created_at")?,
        closed_at: get(r, "closed_at")?,
        closed_by: get(r, "closed_by")?,
        method: get(r, "method")?,
    })
}

fn rights_json(row: &RequestRow) -> String {
    serde_json::to_string(&row.rights).unwrap_or_else(|_| "[]".into())
}

/// Everything of a change except the request row itself.
async fn write_rest(conn: &mut AnyConnection, change: RequestChange) -> StoreResult<()> {
    let e = &change.event;
    sqlx::query(concat!(
        "INSERT INTO dsr_request_events (",
        event_cols!(),
        ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8)"
    ))
    .bind(e.tenant_id.as_bytes().as_slice())
    .bind(e.id.as_bytes().as_slice())
    .bind(e.request_id.as_bytes().as_slice())
    .bind(e.at)
    .bind(e.actor.as_str())
    .bind(e.action.as_str())
    .bind(e.from_state.as_deref())
    .bind(e.to_state.as_str())
    .execute(&mut *conn)
    .await
    .map_err(db_err)?;
    if change.clear_verifications {
        sqlx::query("DELETE FROM dsr_verifications WHERE tenant_id = $1 AND request_id = $2")
            .bind(change.row.tenant_id.as_bytes().as_slice())
            .bind(change.row.id.as_bytes().as_slice())
            .execute(&mut *conn)
            .await
            .map_err(db_err)?;
    }
    if let Some(v) = &change.verification {
        sqlx::query(concat!(
            "INSERT INTO dsr_verifications (",
            verification_cols!(),
            ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8)"
        ))
        .bind(v.tenant_id.as_bytes().as_slice())
        .bind(v.id.as_bytes().as_slice())
        .bind(v.request_id.as_bytes().as_slice())
        .bind(v.token_hash.as_slice())
        .bind(v.code_digest.as_slice())
        .bind(v.expires_at)
        .bind(v.attempts)
        .bind(v.created_at)
        .execute(&mut *conn)
        .await
        .map_err(db_err)?;
    }
    for job in &change.jobs {
        insert_job(conn, job).await?;
    }
    if let Some(d) = &change.download {
        sqlx::query(concat!(
            "INSERT INTO dsr_downloads (",
            download_cols!(),
            ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)"
        ))
        .bind(d.tenant_id.as_bytes().as_slice())
        .bind(d.id.as_bytes().as_slice())
        .bind(d.request_id.as_bytes().as_slice())
        .bind(d.subject_id.map(|s| s.as_bytes().to_vec()))
        .bind(d.token_hash.as_slice())
        .bind(d.lang.as_str())
        .bind(d.html_ct.clone())
        .bind(d.json_ct.clone())
        .bind(d.csv_ct.clone())
        .bind(d.zip_ct.clone())
        .bind(d.expires_at)
        .bind(d.max_downloads)
        .bind(d.downloads)
        .bind(d.created_at)
        .execute(&mut *conn)
        .await
        .map_err(db_err)?;
    }
    if let Some((id, token_hash)) = &change.reissue_download {
        sqlx::query("UPDATE dsr_downloads SET token_hash = $3 WHERE tenant_id = $1 AND id = $2")
            .bind(change.row.tenant_id.as_bytes().as_slice())
            .bind(id.as_bytes().as_slice())
            .bind(token_hash.as_slice())
            .execute(&mut *conn)
            .await
            .map_err(db_err)?;
    }
    super::outbox::insert_in(conn, &change.mail, change.event.at).await?;
    append_in(conn, change.audit).await
}

async fn insert_job(conn: &mut AnyConnection, job: &JobRow) -> StoreResult<()> {
    super::jobs::enqueue_in(conn, job).await.map(|_| ())
}

impl RequestStore for SqlStore {
    async fn insert_request(&self, change: RequestChange) -> StoreResult<Option<RequestRow>> {
        let mut tx = self.begin(&self.data).await?;
        let r = &change.row;
        let done = sqlx::query(concat!(
            "INSERT INTO dsr_requests (",
            request_cols!(),
            ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, \
             $17, $18, $19, $20, $21) ON CONFLICT (tenant_id, created_by, idem_key) DO NOTHING"
        ))
        .bind(r.tenant_id.as_bytes().as_slice())
        .bind(r.id.as_bytes().as_slice())
        .bind(r.reference.as_str())
        .bind(r.state.as_str())
        .bind(rights_json(r))
        .bind(r.channel.as_str())
        .bind(r.lang.as_str())
        .bind(r.subject_id.map(|s| s.as_bytes().to_vec()))
        .bind(r.case_ct.as_slice())
        .bind(r.received_at)
        .bind(r.received_on.as_str())
        .bind(r.due_initial.as_str())
        .bind(r.due_max.as_str())
        .bind(r.due.as_str())
        .bind(r.created_by.as_str())
        .bind(r.idem_key.as_deref())
        .bind(r.idem_digest.clone())
        .bind(r.requester_index.clone())
        .bind(r.closed_at)
        .bind(r.updated_at)
        .bind(r.version)
        .execute(&mut *tx)
        .await
        .map_err(db_err)?;
        if done.rows_affected() == 0 {
            // The idempotency key is taken: answer with the stored request.
            let existing = sqlx::query(concat!(
                "SELECT ",
                request_cols!(),
                " FROM dsr_requests WHERE tenant_id = $1 AND created_by = $2 AND idem_key = $3"
            ))
            .bind(r.tenant_id.as_bytes().as_slice())
            .bind(r.created_by.as_str())
            .bind(r.idem_key.as_deref())
            .fetch_one(&mut *tx)
            .await
            .map_err(db_err)?;
            tx.rollback().await.map_err(db_err)?;
            return request(&existing).map(Some);
        }
        write_rest(&mut tx, change).await?;
        tx.commit().await.map_err(db_err)?;
        Ok(None)
    }

    async fn update_request(&self, change: RequestChange) -> StoreResult<()> {
        let expected = change
            .expected_version
            .ok_or_else(|| StoreError::Database("update without an expected version".into()))?;
        let mut tx = self.begin(&self.data).await?;
        let r = &change.row;
        let done = sqlx::query(
            "UPDATE dsr_requests SET state = $3, rights = $4, subject_id = $5, case_ct = $6, \
             due = $7, closed_at = $8, updated_at = $9, version = $10 \
             WHERE tenant_id = $1 AND id = $2 AND version = $11",
        )
        .bind(r.tenant_id.as_bytes().as_slice())
        .bind(r.id.as_bytes().as_slice())
        .bind(r.state.as_str())
        .bind(rights_json(r))
        .bind(r.subject_id.map(|s| s.as_bytes().to_vec()))
        .bind(r.case_ct.as_slice())
        .bind(r.due.as_str())
        .bind(r.closed_at)
        .bind(r.updated_at)
        .bind(r.version)
        .bind(expected)
        .execute(&mut *tx)
        .await
        .map_err(db_err)?;
        if done.rows_affected() != 1 {
            tx.rollback().await.map_err(db_err)?;
            return Err(StoreError::Conflict(
                "the request changed in the meantime".into(),
            ));
        }
        write_rest(&mut tx, change).await?;
        tx.commit().await.map_err(db_err)
    }

    async fn get_request(&self, tenant: Uuid, id: Uuid) -> StoreResult<RequestRow> {
        let row = sqlx::query(concat!(
            "SELECT ",
            request_cols!(),
            " FROM dsr_requests WHERE tenant_id = $1 AND id = $2"
        ))
        .bind(tenant.as_bytes().as_slice())
        .bind(id.as_bytes().as_slice())
        .fetch_one(&self.data.read)
        .await
        .map_err(db_err)?;
        request(&row)
    }

    async fn list_requests(
        &self,
        tenant: Uuid,
        filter: RequestFilter,
    ) -> StoreResult<Vec<RequestRow>> {
        // Built from fixed text and numbered placeholders only.
        let mut sql = format!(
            "SELECT {} FROM dsr_requests WHERE tenant_id = $1",
            request_cols!()
        );
        let mut n = 1;
        if filter.state.is_some() {
            n += 1;
            sql.push_str(&format!(" AND state = ${n}"));
        }
        if filter.right.is_some() {
            // `rights` is a JSON array of fixed names: match the quoted name.
            n += 1;
            sql.push_str(&format!(" AND rights LIKE ${n}"));
        }
        if filter.open_only {
            sql.push_str(" AND closed_at IS NULL");
        }
        if filter.after.is_some() {
            sql.push_str(&format!(
                " AND (due > ${a} OR (due = ${a} AND id > ${b}))",
                a = n + 1,
                b = n + 2
            ));
            n += 2;
        }
        sql.push_str(&format!(" ORDER BY due, id LIMIT ${}", n + 1));
        let mut q = sqlx::query(AssertSqlSafe(sql)).bind(tenant.as_bytes().as_slice());
        if let Some(s) = &filter.state {
            q = q.bind(s.clone());
        }
        if let Some(r) = &filter.right {
            q = q.bind(format!("%\"{r}\"%"));
        }
        if let Some((due, id)) = &filter.after {
            q = q.bind(due.clone()).bind(id.as_bytes().to_vec());
        }
        q = q.bind(i64::from(filter.limit));
        let rows = q.fetch_all(&self.data.read).await.map_err(db_err)?;
        rows.iter().map(request).collect()
    }

    async fn request_events(
        &self,
        tenant: Uuid,
        request_id: Uuid,
    ) -> StoreResult<Vec<RequestEventRow>> {
        let rows = sqlx::query(concat!(
            "SELECT ",
            event_cols!(),
            " FROM dsr_request_events WHERE tenant_id = $1 AND request_id = $2 ORDER BY at, id"
        ))
        .bind(tenant.as_bytes().as_slice())
        .bind(request_id.as_bytes().as_slice())
        .fetch_all(&self.data.read)
        .await
        .map_err(db_err)?;
        rows.iter().map(event).collect()
    }

    async fn count_request_events_since(
        &self,
        tenant: Uuid,
        request_id: Uuid,
        action: &str,
        since: i64,
    ) -> StoreResult<u64> {
        let n: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM dsr_request_events \
             WHERE tenant_id = $1 AND request_id = $2 AND action = $3 AND at >= $4",
        )
        .bind(tenant.as_bytes().as_slice())
        .bind(request_id.as_bytes().as_slice())
        .bind(action.to_owned())
        .bind(since)
        .fetch_one(&self.data.write)
        .await
        .map_err(db_err)?;
        Ok(u64::try_from(n).unwrap_or(0))
    }

    async fn find_verification(&self, token_hash: &[u8]) -> StoreResult<Option<VerificationRow>> {
        let row = sqlx::query(concat!(
            "SELECT ",
            verification_cols!(),
            " FROM dsr_verifications WHERE token_hash = $1"
        ))
        .bind(token_hash.to_vec())
        .fetch_optional(&self.data.write)
        .await
        .map_err(db_err)?;
        row.as_ref().map(verification).transpose()
    }

    async fn add_verification_attempt(&self, tenant: Uuid, id: Uuid) -> StoreResult<i64> {
        let mut tx = self.begin(&self.data).await?;
        let n: Option<i64> = sqlx::query_scalar(
            "UPDATE dsr_verifications SET attempts = attempts + 1 \
             WHERE tenant_id = $1 AND id = $2 RETURNING attempts",
        )
        .bind(tenant.as_bytes().as_slice())
        .bind(id.as_bytes().as_slice())
        .fetch_optional(&mut *tx)
        .await
        .map_err(db_err)?;
        tx.commit().await.map_err(db_err)?;
        n.ok_or(StoreError::NotFound)
    }

    async fn count_requests_from(
        &self,
        tenant: Uuid,
        requester_index: &[u8],
        since: i64,
    ) -> StoreResult<u64> {
        let n: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM dsr_requests \
             WHERE tenant_id = $1 AND requester_index = $2 AND received_at >= $3",
        )
        .bind(tenant.as_bytes().as_slice())
        .bind(requester_index.to_vec())
        .bind(since)
        .fetch_one(&self.data.write)
        .await
        .map_err(db_err)?;
        Ok(u64::try_from(n).unwrap_or(0))
    }

    async fn count_requests(&self, tenant: Uuid) -> StoreResult<u64> {
        let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM dsr_requests WHERE tenant_id = $1")
            .bind(tenant.as_bytes().as_slice())
            .fetch_one(&self.data.read)
            .await
            .map_err(db_err)?;
        Ok(u64::try_from(n).unwrap_or(0))
    }

    async fn take_download(&self, token_hash: &[u8], now: i64) -> StoreResult<Option<DownloadRow>> {
        let mut tx = self.begin(&self.data).await?;
        let row = sqlx::query(concat!(
            "UPDATE dsr_downloads SET downloads = downloads + 1 \
             WHERE token_hash = $1 AND expires_at > $2 AND downloads < max_downloads \
             RETURNING ",
            download_cols!()
        ))
        .bind(token_hash.to_vec())
        .bind(now)
        .fetch_optional(&mut *tx)
        .await
        .map_err(db_err)?;
        tx.commit().await.map_err(db_err)?;
        row.as_ref().map(download).transpose()
    }

    async fn live_download(
        &self,
        tenant: Uuid,
        id: Uuid,
        now: i64,
    ) -> StoreResult<Option<(i64, i64)>> {
        let row = sqlx::query(
            "SELECT expires_at, max_downloads - downloads AS left_over FROM dsr_downloads \
             WHERE tenant_id = $1 AND id = $2 AND expires_at > $3 AND downloads < max_downloads",
        )
        .bind(tenant.as_bytes().as_slice())
        .bind(id.as_bytes().as_slice())
        .bind(now)
        .fetch_optional(&self.data.read)
        .await
        .map_err(db_err)?;
        row.map(|r| Ok((get(&r, "expires_at")?, get(&r, "left_over")?)))
            .transpose()
    }

    async fn delete_download(&self, tenant: Uuid, id: Uuid) -> StoreResult<bool> {
        let done = sqlx::query("DELETE FROM dsr_downloads WHERE tenant_id = $1 AND id = $2")
            .bind(tenant.as_bytes().as_slice())
            .bind(id.as_bytes().as_slice())
            .execute(&self.data.write)
            .await
            .map_err(db_err)?;
        Ok(done.rows_affected() > 0)
    }

    async fn delete_expired_downloads(&self, now: i64) -> StoreResult<u64> {
        let done = sqlx::query("DELETE FROM dsr_downloads WHERE expires_at <= $1")
            .bind(now)
            .execute(&self.data.write)
            .await
            .map_err(db_err)?;
        Ok(done.rows_affected())
    }

    async fn downloads_of_subject(&self, tenant: Uuid, subject: Uuid) -> StoreResult<Vec<Uuid>> {
        let rows =
            sqlx::query("SELECT id FROM dsr_downloads WHERE tenant_id = $1 AND subject_id = $2")
                .bind(tenant.as_bytes().as_slice())
                .bind(subject.as_bytes().as_slice())
                .fetch_all(&self.data.write)
                .await
                .map_err(db_err)?;
        rows.iter().map(|r| uuid(r, "id")).collect()
    }

    async fn insert_recipient_tasks(
        &self,
        tasks: Vec<RecipientTaskRow>,
        audit: Vec<NewAuditEntry>,
    ) -> StoreResult<()> {
        let mut tx = self.begin(&self.data).await?;
        for t in &tasks {
            let categories = serde_json::to_string(&t.categories).unwrap_or_else(|_| "[]".into());
            sqlx::query(concat!(
                "INSERT INTO recipient_tasks (",
                task_cols!(),
                ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)"
            ))
            .bind(t.tenant_id.as_bytes().as_slice())
            .bind(t.id.as_bytes().as_slice())
            .bind(t.subject_id.as_bytes().as_slice())
            .bind(t.request_id.map(|r| r.as_bytes().to_vec()))
            .bind(t.action.as_str())
            .bind(t.recipient.as_str())
            .bind(categories)
            .bind(t.state.as_str())
            .bind(t.created_at)
            .bind(t.closed_at)
            .bind(t.closed_by.as_deref())
            .bind(t.method.as_deref())
            .execute(&mut *tx)
            .await
            .map_err(db_err)?;
        }
        append_in(&mut tx, audit).await?;
        tx.commit().await.map_err(db_err)
    }

    async fn list_recipient_tasks(
        &self,
        tenant: Uuid,
        state: Option<String>,
        after: Option<(i64, Uuid)>,
        limit: u32,
    ) -> StoreResult<Vec<RecipientTaskRow>> {
        // Built from fixed text and numbered placeholders only.
        let mut sql = format!(
            "SELECT {} FROM recipient_tasks WHERE tenant_id = $1",
            task_cols!()
        );
        let mut n = 1;
        if state.is_some() {
            n += 1;
            sql.push_str(&format!(" AND state = ${n}"));
        }
        if after.is_some() {
            sql.push_str(&format!(
                " AND (created_at > ${a} OR (created_at = ${a} AND id > ${b}))",
                a = n + 1,
                b = n + 2
            ));
            n += 2;
        }
        sql.push_str(&format!(" ORDER BY created_at, id LIMIT ${}", n + 1));
        let mut q = sqlx::query(AssertSqlSafe(sql)).bind(tenant.as_bytes().as_slice());
        if let Some(s) = state {
            q = q.bind(s);
        }
        if let Some((at, id)) = after {
            q = q.bind(at).bind(id.as_bytes().to_vec());
        }
        q = q.bind(i64::from(limit));
        let rows = q.fetch_all(&self.data.read).await.map_err(db_err)?;
        rows.iter().map(task).collect()
    }

    async fn get_recipient_task(&self, tenant: Uuid, id: Uuid) -> StoreResult<RecipientTaskRow> {
        let row = sqlx::query(concat!(
            "SELECT ",
            task_cols!(),
            " FROM recipient_tasks WHERE tenant_id = $1 AND id = $2"
        ))
        .bind(tenant.as_bytes().as_slice())
        .bind(id.as_bytes().as_slice())
        .fetch_one(&self.data.write)
        .await
        .map_err(db_err)?;
        task(&row)
    }

    async fn close_recipient_task(
        &self,
        tenant: Uuid,
        id: Uuid,
        closed_at: i64,
        closed_by: &str,
        method: &str,
        audit: Vec<NewAuditEntry>,
    ) -> StoreResult<()> {
        let mut tx = self.begin(&self.data).await?;
        let done = sqlx::query(
            "UPDATE recipient_tasks SET state = 'done', closed_at = $3, closed_by = $4, \
             method = $5 WHERE tenant_id = $1 AND id = $2 AND state = 'open'",
        )
        .bind(tenant.as_bytes().as_slice())
        .bind(id.as_bytes().as_slice())
        .bind(closed_at)
        .bind(closed_by.to_owned())
        .bind(method.to_owned())
        .execute(&mut *tx)
        .await
        .map_err(db_err)?;
        if done.rows_affected() != 1 {
            let exists: Option<i64> = sqlx::query_scalar(
                "SELECT 1 FROM recipient_tasks WHERE tenant_id = $1 AND id = $2",
            )
            .bind(tenant.as_bytes().as_slice())
            .bind(id.as_bytes().as_slice())
            .fetch_optional(&mut *tx)
            .await
            .map_err(db_err)?;
            tx.rollback().await.map_err(db_err)?;
            return Err(match exists {
                Some(_) => StoreError::Conflict("the task is closed already".into()),
                None => StoreError::NotFound,
            });
        }
        append_in(&mut tx, audit).await?;
        tx.commit().await.map_err(db_err)
    }
}
