//! SQL for [`JobStore`]. The claim is one `UPDATE … WHERE id = (SELECT … LIMIT 1) RETURNING`:
//! on PostgreSQL the subquery locks its row `FOR UPDATE SKIP LOCKED`, so concurrent claimers
//! each get a different job and never block; on SQLite the statement runs in a
//! `BEGIN IMMEDIATE` transaction, which holds the database's single write lock.

use sqlx::AssertSqlSafe;
use sqlx::any::AnyRow;
use uuid::Uuid;

use super::{Backend, SqlStore, db_err, rows};
use crate::jobs::{JobRow, JobStore, state};
use crate::{StoreError, StoreResult};

macro_rules! job_cols {
    () => {
        "id, kind, payload, state, run_at, attempts, max_attempts, lease_owner, lease_until, \
         last_error, unique_key, created_at, updated_at"
    };
}

fn job(row: &AnyRow) -> StoreResult<JobRow> {
    Ok(JobRow {
        id: rows::uuid(row, "id")?,
        kind: rows::get(row, "kind")?,
        payload: rows::get(row, "payload")?,
        state: rows::get(row, "state")?,
        run_at: rows::get(row, "run_at")?,
        attempts: rows::get(row, "attempts")?,
        max_attempts: rows::get(row, "max_attempts")?,
        lease_owner: rows::get(row, "lease_owner")?,
        lease_until: rows::get(row, "lease_until")?,
        last_error: rows::get(row, "last_error")?,
        unique_key: rows::get(row, "unique_key")?,
        created_at: rows::get(row, "created_at")?,
        updated_at: rows::get(row, "updated_at")?,
    })
}

/// Kinds are few and fixed names; they are matched in Rust-built `IN` lists of placeholders.
fn kinds_clause(kinds: &[&str], first: usize, backend: Backend) -> String {
    if kinds.is_empty() {
        return String::new();
    }
    let list: Vec<String> = (0..kinds.len())
        .map(|i| match backend {
            Backend::Postgres => format!("${}", first + i),
            Backend::Sqlite => format!("${}", first + i),
        })
        .collect();
    format!(" AND kind IN ({})", list.join(", "))
}

/// Inserts a job inside the caller's transaction (a job queued together with the state change
/// that needs it); `false` if its `unique_key` is already taken.
pub(super) async fn enqueue_in(conn: &mut sqlx::AnyConnection, job: &JobRow) -> StoreResult<bool> {
    let done = sqlx::query(concat!(
        "INSERT INTO jobs (",
        job_cols!(),
        ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13) \
         ON CONFLICT (unique_key) DO NOTHING"
    ))
    .bind(job.id.as_bytes().as_slice())
    .bind(job.kind.as_str())
    .bind(job.payload.as_str())
    .bind(job.state.as_str())
    .bind(job.run_at)
    .bind(job.attempts)
    .bind(job.max_attempts)
    .bind(job.lease_owner.as_deref())
    .bind(job.lease_until)
    .bind(job.last_error.as_deref())
    .bind(job.unique_key.as_deref())
    .bind(job.created_at)
    .bind(job.updated_at)
    .execute(&mut *conn)
    .await
    .map_err(db_err)?;
    Ok(done.rows_affected() == 1)
}

/// [`enqueue_in`] for many jobs: multi-row inserts; a job whose `unique_key` (or id) is taken
/// is skipped. Returns how many were queued.
pub(super) async fn enqueue_many_in(
    conn: &mut sqlx::AnyConnection,
    jobs: &[JobRow],
) -> StoreResult<u64> {
    super::bulk::insert_many_new(
        conn,
        concat!("INSERT INTO jobs (", job_cols!(), ")"),
        13,
        jobs,
        |q, job| {
            q.bind(job.id.as_bytes().to_vec())
                .bind(job.kind.clone())
                .bind(job.payload.clone())
                .bind(job.state.clone())
                .bind(job.run_at)
                .bind(job.attempts)
                .bind(job.max_attempts)
                .bind(job.lease_owner.clone())
                .bind(job.lease_until)
                .bind(job.last_error.clone())
                .bind(job.unique_key.clone())
                .bind(job.created_at)
                .bind(job.updated_at)
        },
    )
    .await
}

impl JobStore for SqlStore {
    async fn enqueue(&self, job: JobRow) -> StoreResult<bool> {
        let mut tx = self.begin(&self.data).await?;
        let queued = enqueue_in(&mut tx, &job).await?;
        tx.commit().await.map_err(db_err)?;
        Ok(queued)
    }

    async fn claim(
        &self,
        owner: &str,
        now: i64,
        lease_until: i64,
        kinds: &[&str],
    ) -> StoreResult<Option<JobRow>> {
        let lock = match self.backend {
            Backend::Postgres => " FOR UPDATE SKIP LOCKED",
            Backend::Sqlite => "",
        };
        // Built from fixed text and placeholders only.
        let sql = format!(
            "UPDATE jobs SET state = '{running}', lease_owner = $1, lease_until = $2, \
             attempts = attempts + 1, updated_at = $3 \
             WHERE id = (SELECT id FROM jobs WHERE \
             ((state = '{queued}' AND run_at <= $3) OR (state = '{running}' AND lease_until <= $3))\
             {kinds} ORDER BY run_at, id LIMIT 1{lock}) RETURNING {cols}",
            running = state::RUNNING,
            queued = state::QUEUED,
            kinds = kinds_clause(kinds, 4, self.backend),
            cols = job_cols!(),
        );
        let mut q = sqlx::query(AssertSqlSafe(sql))
            .bind(owner.to_owned())
            .bind(lease_until)
            .bind(now);
        for k in kinds {
            q = q.bind((*k).to_owned());
        }
        let mut tx = self.begin(&self.data).await?;
        let row = q.fetch_optional(&mut *tx).await.map_err(db_err)?;
        tx.commit().await.map_err(db_err)?;
        row.as_ref().map(job).transpose()
    }

    async fn heartbeat(
        &self,
        id: Uuid,
        owner: &str,
        now: i64,
        lease_until: i64,
    ) -> StoreResult<bool> {
        let mut tx = self.begin(&self.data).await?;
        let done = sqlx::query(
            "UPDATE jobs SET lease_until = $3, updated_at = $4 \
             WHERE id = $1 AND lease_owner = $2 AND state = 'running'",
        )
        .bind(id.as_bytes().as_slice())
        .bind(owner)
        .bind(lease_until)
        .bind(now)
        .execute(&mut *tx)
        .await
        .map_err(db_err)?;
        tx.commit().await.map_err(db_err)?;
        Ok(done.rows_affected() == 1)
    }

    async fn complete(&self, id: Uuid, owner: &str, now: i64) -> StoreResult<bool> {
        let mut tx = self.begin(&self.data).await?;
        let done = sqlx::query(
            "UPDATE jobs SET state = 'done', lease_until = NULL, updated_at = $3 \
             WHERE id = $1 AND lease_owner = $2 AND state = 'running'",
        )
        .bind(id.as_bytes().as_slice())
        .bind(owner)
        .bind(now)
        .execute(&mut *tx)
        .await
        .map_err(db_err)?;
        tx.commit().await.map_err(db_err)?;
        Ok(done.rows_affected() == 1)
    }

    async fn fail(
        &self,
        id: Uuid,
        owner: &str,
        now: i64,
        error: &str,
        retry_at: i64,
    ) -> StoreResult<bool> {
        let mut tx = self.begin(&self.data).await?;
        let done = sqlx::query(
            "UPDATE jobs SET \
             state = CASE WHEN attempts >= max_attempts THEN 'dead' ELSE 'queued' END, \
             run_at = $4, last_error = $5, lease_owner = NULL, lease_until = NULL, \
             updated_at = $3 \
             WHERE id = $1 AND lease_owner = $2 AND state = 'running'",
        )
        .bind(id.as_bytes().as_slice())
        .bind(owner)
        .bind(now)
        .bind(retry_at)
        .bind(error)
        .execute(&mut *tx)
        .await
        .map_err(db_err)?;
        tx.commit().await.map_err(db_err)?;
        Ok(done.rows_affected() == 1)
    }

    async fn list_jobs(&self, state: Option<&str>, limit: u32) -> StoreResult<Vec<JobRow>> {
        let rows = match state {
            Some(s) => sqlx::query(concat!(
                "SELECT ",
                job_cols!(),
                " FROM jobs WHERE state = $1 ORDER BY id DESC LIMIT $2"
            ))
            .bind(s.to_owned())
            .bind(i64::from(limit)),
            None => sqlx::query(concat!(
                "SELECT ",
                job_cols!(),
                " FROM jobs ORDER BY id DESC LIMIT $1"
            ))
            .bind(i64::from(limit)),
        }
        .fetch_all(&self.data.read)
        .await
        .map_err(db_err)?;
        rows.iter().map(job).collect()
    }

    async fn get_job(&self, id: Uuid) -> StoreResult<JobRow> {
        let row = sqlx::query(concat!("SELECT ", job_cols!(), " FROM jobs WHERE id = $1"))
            .bind(id.as_bytes().as_slice())
            .fetch_one(&self.data.read)
            .await
            .map_err(db_err)?;
        job(&row)
    }

    async fn retry_dead(&self, id: Uuid, now: i64) -> StoreResult<()> {
        let mut tx = self.begin(&self.data).await?;
        let done = sqlx::query(
            "UPDATE jobs SET state = 'queued', attempts = 0, run_at = $2, updated_at = $2 \
             WHERE id = $1 AND state = 'dead'",
        )
        .bind(id.as_bytes().as_slice())
        .bind(now)
        .execute(&mut *tx)
        .await
        .map_err(db_err)?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound);
        }
        tx.commit().await.map_err(db_err)
    }
}
