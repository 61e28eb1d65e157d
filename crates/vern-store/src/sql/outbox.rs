//! `impl OutboxStore for SqlStore`, and [`insert_in`], which other store methods call inside
//! their own transaction so a message is queued exactly when its cause commits.

use sqlx::AnyConnection;
use sqlx::any::AnyRow;
use uuid::Uuid;

use super::bulk::insert_many_returning_ids;
use super::rows::{get, opt_uuid, uuid};
use super::{SqlStore, db_err};
use crate::jobs::{JobRow, state};
use crate::outbox::{
    MAIL_MAX_ATTEMPTS, MAIL_SEND_JOB, NewOutboxMessage, OutboxRow, OutboxStore, outbox_state,
};
use crate::{StoreError, StoreResult};

const COLS: &str = "tenant_id, id, subject_id, template, lang, to_ciphertext, params_ciphertext, \
    dedup_key, state, attempts, last_error, message_id, created_at, updated_at, sent_at";

fn row(r: &AnyRow) -> StoreResult<OutboxRow> {
    Ok(OutboxRow {
        tenant_id: uuid(r, "tenant_id")?,
        id: uuid(r, "id")?,
        subject_id: opt_uuid(r, "subject_id")?,
        template: get(r, "template")?,
        lang: get(r, "lang")?,
        to_ciphertext: get::<Option<Vec<u8>>>(r, "to_ciphertext")?,
        params_ciphertext: get::<Option<Vec<u8>>>(r, "params_ciphertext")?,
        dedup_key: get(r, "dedup_key")?,
        state: get(r, "state")?,
        attempts: get(r, "attempts")?,
        last_error: get(r, "last_error")?,
        message_id: get(r, "message_id")?,
        created_at: get(r, "created_at")?,
        updated_at: get(r, "updated_at")?,
        sent_at: get(r, "sent_at")?,
    })
}

/// Queues `messages` and one `mail.send` job each, on `conn` (inside the caller's
/// transaction). Returns how many were new; a used `dedup_key` skips its message and job.
///
/// Multi-row statements both ways (a fan-out page is thousands of messages): the outbox
/// insert returns the ids it actually wrote, and exactly those get their job.
pub(crate) async fn insert_in(
    conn: &mut AnyConnection,
    messages: &[NewOutboxMessage],
    now: i64,
) -> StoreResult<u64> {
    if messages.is_empty() {
        return Ok(0);
    }
    let inserted = insert_many_returning_ids(
        &mut *conn,
        "INSERT INTO outbox (tenant_id, id, subject_id, template, lang, to_ciphertext, \
         params_ciphertext, dedup_key, state, attempts, created_at, updated_at)",
        12,
        messages,
        |q, m| {
            q.bind(m.tenant_id.as_bytes().to_vec())
                .bind(m.id.as_bytes().to_vec())
                .bind(m.subject_id.map(|s| s.as_bytes().to_vec()))
                .bind(m.template.clone())
                .bind(m.lang.clone())
                .bind(m.to_ciphertext.clone())
                .bind(m.params_ciphertext.clone())
                .bind(m.dedup_key.clone())
                .bind(outbox_state::QUEUED)
                .bind(0_i64)
                .bind(now)
                .bind(now)
        },
    )
    .await?;
    if inserted.is_empty() {
        return Ok(0);
    }
    let new: std::collections::HashSet<Uuid> = inserted.iter().copied().collect();
    let jobs: Vec<JobRow> = messages
        .iter()
        .filter(|m| new.contains(&m.id))
        .map(|m| JobRow {
            id: m.id,
            kind: MAIL_SEND_JOB.to_owned(),
            payload: serde_json::json!({
                "tenant_id": m.tenant_id,
                "outbox_id": m.id,
            })
            .to_string(),
            state: state::QUEUED.to_owned(),
            run_at: now,
            attempts: 0,
            max_attempts: MAIL_MAX_ATTEMPTS,
            lease_owner: None,
            lease_until: None,
            last_error: None,
            unique_key: Some(format!("{MAIL_SEND_JOB}:{}", m.id)),
            created_at: now,
            updated_at: now,
        })
        .collect();
    super::jobs::enqueue_many_in(&mut *conn, &jobs).await?;
    Ok(u64::try_from(inserted.len()).unwrap_or(u64::MAX))
}

impl OutboxStore for SqlStore {
    async fn enqueue_mail(&self, messages: Vec<NewOutboxMessage>, now: i64) -> StoreResult<u64> {
        let mut tx = self.begin(&self.data).await?;
        let n = insert_in(&mut tx, &messages, now).await?;
        tx.commit().await.map_err(db_err)?;
        Ok(n)
    }

    async fn get_mail(&self, tenant: Uuid, id: Uuid) -> StoreResult<OutboxRow> {
        let r = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {COLS} FROM outbox WHERE tenant_id = $1 AND id = $2"
        )))
        .bind(tenant.as_bytes().as_slice())
        .bind(id.as_bytes().as_slice())
        .fetch_optional(&self.data.read)
        .await
        .map_err(db_err)?
        .ok_or(StoreError::NotFound)?;
        row(&r)
    }

    async fn list_mail(
        &self,
        tenant: Uuid,
        state: Option<&str>,
        subject: Option<Uuid>,
        limit: u32,
    ) -> StoreResult<Vec<OutboxRow>> {
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {COLS} FROM outbox WHERE tenant_id = $1 \
             AND ($2 IS NULL OR state = $2) AND ($3 IS NULL OR subject_id = $3) \
             ORDER BY created_at DESC, id DESC LIMIT $4"
        )))
        .bind(tenant.as_bytes().as_slice())
        .bind(state)
        .bind(subject.map(|s| s.as_bytes().to_vec()))
        .bind(i64::from(limit))
        .fetch_all(&self.data.read)
        .await
        .map_err(db_err)?;
        rows.iter().map(row).collect()
    }

    async fn mark_mail_sent(
        &self,
        tenant: Uuid,
        id: Uuid,
        message_id: &str,
        now: i64,
    ) -> StoreResult<bool> {
        let mut tx = self.begin(&self.data).await?;
        let done = sqlx::query(
            "UPDATE outbox SET state = $3, message_id = $4, to_ciphertext = NULL, \
             params_ciphertext = NULL, attempts = attempts + 1, last_error = NULL, \
             sent_at = $5, updated_at = $5 \
             WHERE tenant_id = $1 AND id = $2 AND state <> $3",
        )
        .bind(tenant.as_bytes().as_slice())
        .bind(id.as_bytes().as_slice())
        .bind(outbox_state::SENT)
        .bind(message_id)
        .bind(now)
        .execute(&mut *tx)
        .await
        .map_err(db_err)?;
        tx.commit().await.map_err(db_err)?;
        Ok(done.rows_affected() == 1)
    }

    async fn mark_mail_attempt_failed(
        &self,
        tenant: Uuid,
        id: Uuid,
        error: &str,
        dead: bool,
        now: i64,
    ) -> StoreResult<()> {
        let mut tx = self.begin(&self.data).await?;
        sqlx::query(
            "UPDATE outbox SET state = $3, attempts = attempts + 1, last_error = $4, updated_at = $5 \
             WHERE tenant_id = $1 AND id = $2 AND state <> $6",
        )
        .bind(tenant.as_bytes().as_slice())
        .bind(id.as_bytes().as_slice())
        .bind(if dead {
            outbox_state::FAILED
        } else {
            outbox_state::QUEUED
        })
        .bind(error)
        .bind(now)
        .bind(outbox_state::SENT)
        .execute(&mut *tx)
        .await
        .map_err(db_err)?;
        tx.commit().await.map_err(db_err)
    }
}
