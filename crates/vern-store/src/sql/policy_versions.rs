//! `impl PolicyVersionStore for SqlStore`.

use sqlx::AssertSqlSafe;
use sqlx::any::AnyRow;
use uuid::Uuid;

use super::audit::append_in;
use super::bulk::insert_many_new;
use super::jobs::enqueue_in;
use super::rows::{get, opt_uuid, uuid};
use super::{SqlStore, db_err};
use crate::StoreResult;
use crate::jobs::JobRow;
use crate::model::NewAuditEntry;
use crate::policy_versions::{
    FanoutProgress, FanoutSubject, NoticeCounts, NoticeRow, PolicyVersionRow, PolicyVersionStore,
    ProcessorCustomerRow, RenewalMark, SubprocessorAnnouncement, SubprocessorNoticeRow,
    SubprocessorObjectionRow,
};

const VERSION_COLS: &str = "tenant_id, id, content_hash, source, published_at, effective_at, \
    class, changes, renewal_scopes, notice_types, published_by";
const CUSTOMER_COLS: &str =
    "tenant_id, id, name, dpa_signed_on, dpa_ref, contact_ct, objection_days, created_at";
const SP_NOTICE_COLS: &str = "n.tenant_id AS tenant_id, n.version_id AS version_id, \
    n.customer_id AS customer_id, n.recipient AS recipient, n.queued_at AS queued_at, \
    n.objection_until AS objection_until, n.outbox_id AS outbox_id, o.sent_at AS delivered_at";
const SP_OBJECTION_COLS: &str =
    "tenant_id, id, customer_id, version_id, recipient, reason, at, recorded_by";

/// `$first, $first+1, …` for an `IN` list of `n` values.
fn placeholders(first: usize, n: usize) -> String {
    (0..n)
        .map(|i| format!("${}", first + i))
        .collect::<Vec<_>>()
        .join(", ")
}

fn version_row(r: &AnyRow) -> StoreResult<PolicyVersionRow> {
    Ok(PolicyVersionRow {
        tenant_id: uuid(r, "tenant_id")?,
        id: uuid(r, "id")?,
        content_hash: get(r, "content_hash")?,
        source: get(r, "source")?,
        published_at: get(r, "published_at")?,
        effective_at: get(r, "effective_at")?,
        class: get(r, "class")?,
        changes: get(r, "changes")?,
        renewal_scopes: get(r, "renewal_scopes")?,
        notice_types: get(r, "notice_types")?,
        published_by: get(r, "published_by")?,
    })
}

fn customer_row(r: &AnyRow) -> StoreResult<ProcessorCustomerRow> {
    Ok(ProcessorCustomerRow {
        tenant_id: uuid(r, "tenant_id")?,
        id: uuid(r, "id")?,
        name: get(r, "name")?,
        dpa_signed_on: get(r, "dpa_signed_on")?,
        dpa_ref: get(r, "dpa_ref")?,
        contact_ct: get(r, "contact_ct")?,
        objection_days: get(r, "objection_days")?,
        created_at: get(r, "created_at")?,
    })
}

fn sp_notice_row(r: &AnyRow) -> StoreResult<SubprocessorNoticeRow> {
    Ok(SubprocessorNoticeRow {
        tenant_id: uuid(r, "tenant_id")?,
        version_id: uuid(r, "version_id")?,
        customer_id: uuid(r, "customer_id")?,
        recipient: get(r, "recipient")?,
        queued_at: get(r, "queued_at")?,
        objection_until: get(r, "objection_until")?,
        outbox_id: opt_uuid(r, "outbox_id")?,
        delivered_at: get(r, "delivered_at")?,
    })
}

fn sp_objection_row(r: &AnyRow) -> StoreResult<SubprocessorObjectionRow> {
    Ok(SubprocessorObjectionRow {
        tenant_id: uuid(r, "tenant_id")?,
        id: uuid(r, "id")?,
        customer_id: uuid(r, "customer_id")?,
        version_id: uuid(r, "version_id")?,
        recipient: get(r, "recipient")?,
        reason: get(r, "reason")?,
        at: get(r, "at")?,
        recorded_by: get(r, "recorded_by")?,
    })
}

/// Sub-processor notices on `conn` (inside the caller's transaction); a notice that exists
/// is skipped. Returns how many were new.
async fn insert_sp_notices(
    conn: &mut sqlx::AnyConnection,
    rows: &[SubprocessorNoticeRow],
) -> StoreResult<u64> {
    insert_many_new(
        conn,
        "INSERT INTO subprocessor_notices (tenant_id, version_id, customer_id, recipient, queued_at, objection_until, outbox_id)",
        7,
        rows,
        |q, r| {
            q.bind(r.tenant_id.as_bytes().to_vec())
                .bind(r.version_id.as_bytes().to_vec())
                .bind(r.customer_id.as_bytes().to_vec())
                .bind(r.recipient.clone())
                .bind(r.queued_at)
                .bind(r.objection_until)
                .bind(r.outbox_id.map(|o| o.as_bytes().to_vec()))
        },
    )
    .await
}

impl PolicyVersionStore for SqlStore {
    async fn publish_policy_version(
        &self,
        row: PolicyVersionRow,
        renewal: Option<RenewalMark>,
        job: Option<JobRow>,
        announce: SubprocessorAnnouncement,
        audit: Vec<NewAuditEntry>,
    ) -> StoreResult<()> {
        let mut tx = self.begin(&self.data).await?;
        sqlx::query(AssertSqlSafe(format!(
            "INSERT INTO policy_versions ({VERSION_COLS}) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)"
        )))
        .bind(row.tenant_id.as_bytes().as_slice())
        .bind(row.id.as_bytes().as_slice())
        .bind(row.content_hash.as_str())
        .bind(row.source.as_str())
        .bind(row.published_at)
        .bind(row.effective_at)
        .bind(row.class.as_str())
        .bind(row.changes.as_str())
        .bind(row.renewal_scopes.as_str())
        .bind(row.notice_types.as_str())
        .bind(row.published_by.as_str())
        .execute(&mut *tx)
        .await
        .map_err(db_err)?;
        if let Some(mark) = renewal.filter(|m| !m.scopes.is_empty()) {
            // An earlier due date (from an earlier version) is kept: that renewal is owed first.
            let sql = format!(
                "UPDATE consent_state SET renewal_due_at = $2 \
                 WHERE tenant_id = $1 AND action IN ('granted', 'renewed') AND at < $3 \
                 AND (renewal_due_at IS NULL OR renewal_due_at > $2) AND scope IN ({})",
                placeholders(4, mark.scopes.len())
            );
            let mut q = sqlx::query(AssertSqlSafe(sql))
                .bind(row.tenant_id.as_bytes().as_slice())
                .bind(mark.due_at)
                .bind(mark.before);
            for s in &mark.scopes {
                q = q.bind(s.clone());
            }
            q.execute(&mut *tx).await.map_err(db_err)?;
        }
        if let Some(job) = job {
            enqueue_in(&mut tx, &job).await?;
        }
        super::outbox::insert_in(&mut tx, &announce.mail, row.published_at).await?;
        insert_sp_notices(&mut tx, &announce.notices).await?;
        append_in(&mut tx, audit).await?;
        tx.commit().await.map_err(db_err)
    }

    async fn policy_versions(&self, tenant: Uuid) -> StoreResult<Vec<PolicyVersionRow>> {
        let rows = sqlx::query(AssertSqlSafe(format!(
            "SELECT {VERSION_COLS} FROM policy_versions WHERE tenant_id = $1 \
             ORDER BY effective_at, published_at, id"
        )))
        .bind(tenant.as_bytes().as_slice())
        .fetch_all(&self.data.read)
        .await
        .map_err(db_err)?;
        rows.iter().map(version_row).collect()
    }

    async fn fanout_subjects(
        &self,
        tenant: Uuid,
        types: &[String],
        after: Option<Uuid>,
        limit: u32,
    ) -> StoreResult<Vec<FanoutSubject>> {
        if types.is_empty() {
            return Ok(Vec::new());
        }
        // Two index range reads: the page of subjects (type, id), then the email identifiers
        // of the same id range (subject index), matched in memory. One joined query let
        // SQLite's planner scan every identifier of the tenant per subject.
        let sql = format!(
            "SELECT id FROM subjects WHERE tenant_id = $1 AND id > $2 \
             AND subject_type IN ({}) ORDER BY id LIMIT {limit}",
            placeholders(3, types.len())
        );
        let after = after.unwrap_or(Uuid::nil());
        let mut q = sqlx::query(AssertSqlSafe(sql))
            .bind(tenant.as_bytes().as_slice())
            .bind(after.as_bytes().as_slice());
        for t in types {
            q = q.bind(t.clone());
        }
        let rows = q.fetch_all(&self.data.read).await.map_err(db_err)?;
        let mut out: Vec<FanoutSubject> = rows
            .iter()
            .map(|r| {
                Ok(FanoutSubject {
                    subject_id: uuid(r, "id")?,
                    email: None,
                })
            })
            .collect::<StoreResult<_>>()?;
        let Some(last) = out.last().map(|s| s.subject_id) else {
            return Ok(out);
        };
        let emails = sqlx::query(
            "SELECT subject_id, id, value_ct FROM identifiers WHERE tenant_id = $1 \
             AND subject_id > $2 AND subject_id <= $3 AND kind = 'email' ORDER BY subject_id, id",
        )
        .bind(tenant.as_bytes().as_slice())
        .bind(after.as_bytes().as_slice())
        .bind(last.as_bytes().as_slice())
        .fetch_all(&self.data.read)
        .await
        .map_err(db_err)?;
        // Both lists are in subject order: one merge pass.
        let mut i = 0;
        for r in &emails {
            let sid = uuid(r, "subject_id")?;
            while i < out.len() && out[i].subject_id < sid {
                i += 1;
            }
            if let Some(s) = out.get_mut(i)
                && s.subject_id == sid
                && s.email.is_none()
            {
                s.email = Some((uuid(r, "id")?, get::<Vec<u8>>(r, "value_ct")?));
            }
        }
        Ok(out)
    }

    async fn fanout_progress(&self, tenant: Uuid, version: Uuid) -> StoreResult<FanoutProgress> {
        let row = sqlx::query(
            "SELECT after_id, queued, finished_at FROM policy_fanout \
             WHERE tenant_id = $1 AND version_id = $2",
        )
        .bind(tenant.as_bytes().as_slice())
        .bind(version.as_bytes().as_slice())
        .fetch_optional(&self.data.read)
        .await
        .map_err(db_err)?;
        match row {
            None => Ok(FanoutProgress::default()),
            Some(r) => Ok(FanoutProgress {
                after_id: opt_uuid(&r, "after_id")?,
                queued: get(&r, "queued")?,
                finished_at: get(&r, "finished_at")?,
            }),
        }
    }

    async fn queue_notices(
        &self,
        tenant: Uuid,
        version: Uuid,
        notices: Vec<NoticeRow>,
        mail: Vec<crate::outbox::NewOutboxMessage>,
        after: Option<Uuid>,
        finished: bool,
        now: i64,
    ) -> StoreResult<u64> {
        let mut tx = self.begin(&self.data).await?;
        // Mail first: a message whose dedup key exists (a page written twice) is skipped, and
        // the notice insert below skips its row the same way.
        super::outbox::insert_in(&mut tx, &mail, now).await?;
        let t = tenant.as_bytes().to_vec();
        let v = version.as_bytes().to_vec();
        let inserted = insert_many_new(
            &mut tx,
            "INSERT INTO policy_notices (tenant_id, version_id, subject_id, channel, queued_at, outbox_id)",
            6,
            &notices,
            |q, n| {
                q.bind(t.clone())
                    .bind(v.clone())
                    .bind(n.subject_id.as_bytes().to_vec())
                    .bind(n.channel.clone())
                    .bind(now)
                    .bind(n.outbox_id.map(|o| o.as_bytes().to_vec()))
            },
        )
        .await?;
        let queued = i64::try_from(inserted).unwrap_or(i64::MAX);
        sqlx::query(
            "INSERT INTO policy_fanout (tenant_id, version_id, after_id, queued, finished_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6) \
             ON CONFLICT (tenant_id, version_id) DO UPDATE SET \
             after_id = COALESCE(excluded.after_id, policy_fanout.after_id), \
             queued = policy_fanout.queued + excluded.queued, \
             finished_at = excluded.finished_at, updated_at = excluded.updated_at",
        )
        .bind(t.clone())
        .bind(v.clone())
        .bind(after.map(|a| a.as_bytes().to_vec()))
        .bind(queued)
        .bind(finished.then_some(now))
        .bind(now)
        .execute(&mut *tx)
        .await
        .map_err(db_err)?;
        tx.commit().await.map_err(db_err)?;
        Ok(inserted)
    }

    async fn notice_counts(&self, tenant: Uuid, version: Uuid) -> StoreResult<NoticeCounts> {
        let r = sqlx::query(
            "SELECT COUNT(*) AS queued, \
             COALESCE(SUM(CASE WHEN n.channel = 'email' THEN 1 ELSE 0 END), 0) AS email, \
             COALESCE(SUM(CASE WHEN n.channel = 'website' THEN 1 ELSE 0 END), 0) AS website, \
             COALESCE(SUM(CASE WHEN o.sent_at IS NOT NULL THEN 1 ELSE 0 END), 0) AS delivered \
             FROM policy_notices n LEFT JOIN outbox o ON o.tenant_id = n.tenant_id \
             AND o.id = n.outbox_id WHERE n.tenant_id = $1 AND n.version_id = $2",
        )
        .bind(tenant.as_bytes().as_slice())
        .bind(version.as_bytes().as_slice())
        .fetch_one(&self.data.read)
        .await
        .map_err(db_err)?;
        Ok(NoticeCounts {
            queued: get(&r, "queued")?,
            email: get(&r, "email")?,
            website: get(&r, "website")?,
            delivered: get(&r, "delivered")?,
        })
    }

    async fn subject_keys_in_range(
        &self,
        tenant: Uuid,
        after: Option<Uuid>,
        last: Uuid,
    ) -> StoreResult<Vec<crate::model::SubjectKeyRow>> {
        let rows = sqlx::query(
            "SELECT tenant_id, subject_id, kek_id, wrapped_key, created_at FROM subject_keys \
             WHERE tenant_id = $1 AND subject_id > $2 AND subject_id <= $3 ORDER BY subject_id",
        )
        .bind(tenant.as_bytes().as_slice())
        .bind(after.unwrap_or(Uuid::nil()).as_bytes().to_vec())
        .bind(last.as_bytes().as_slice())
        .fetch_all(&self.keys.read)
        .await
        .map_err(db_err)?;
        rows.iter().map(super::rows::subject_key).collect()
    }

    async fn notices_of_subject(
        &self,
        tenant: Uuid,
        subject: Uuid,
    ) -> StoreResult<Vec<crate::policy_versions::SubjectNotice>> {
        let rows = sqlx::query(
            "SELECT n.version_id AS version_id, n.channel AS channel, n.queued_at AS queued_at, \
             o.sent_at AS delivered_at FROM policy_notices n LEFT JOIN outbox o \
             ON o.tenant_id = n.tenant_id AND o.id = n.outbox_id \
             WHERE n.tenant_id = $1 AND n.subject_id = $2 ORDER BY n.queued_at, n.version_id",
        )
        .bind(tenant.as_bytes().as_slice())
        .bind(subject.as_bytes().as_slice())
        .fetch_all(&self.data.read)
        .await
        .map_err(db_err)?;
        rows.iter()
            .map(|r| {
                Ok((
                    uuid(r, "version_id")?,
                    get(r, "channel")?,
                    get(r, "queued_at")?,
                    get(r, "delivered_at")?,
                ))
            })
            .collect()
    }

    async fn add_processor_customer(
        &self,
        row: ProcessorCustomerRow,
        audit: Vec<NewAuditEntry>,
    ) -> StoreResult<()> {
        let mut tx = self.begin(&self.data).await?;
        sqlx::query(AssertSqlSafe(format!(
            "INSERT INTO processor_customers ({CUSTOMER_COLS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)"
        )))
        .bind(row.tenant_id.as_bytes().as_slice())
        .bind(row.id.as_bytes().as_slice())
        .bind(row.name.as_str())
        .bind(row.dpa_signed_on.as_str())
        .bind(row.dpa_ref.as_deref())
        .bind(row.contact_ct.as_slice())
        .bind(row.objection_days)
        .bind(row.created_at)
        .execute(&mut *tx)
        .await
        .map_err(db_err)?;
        append_in(&mut tx, audit).await?;
        tx.commit().await.map_err(db_err)
    }

    async fn processor_customers(&self, tenant: Uuid) -> StoreResult<Vec<ProcessorCustomerRow>> {
        let rows = sqlx::query(AssertSqlSafe(format!(
            "SELECT {CUSTOMER_COLS} FROM processor_customers WHERE tenant_id = $1 ORDER BY id"
        )))
        .bind(tenant.as_bytes().as_slice())
        .fetch_all(&self.data.read)
        .await
        .map_err(db_err)?;
        rows.iter().map(customer_row).collect()
    }

    async fn add_subprocessor_notices(&self, rows: Vec<SubprocessorNoticeRow>) -> StoreResult<u64> {
        let mut tx = self.begin(&self.data).await?;
        let n = insert_sp_notices(&mut tx, &rows).await?;
        tx.commit().await.map_err(db_err)?;
        Ok(n)
    }

    async fn subprocessor_notices(
        &self,
        tenant: Uuid,
        customer: Option<Uuid>,
    ) -> StoreResult<Vec<SubprocessorNoticeRow>> {
        let filter = if customer.is_some() {
            " AND n.customer_id = $2"
        } else {
            ""
        };
        let mut q = sqlx::query(AssertSqlSafe(format!(
            "SELECT {SP_NOTICE_COLS} FROM subprocessor_notices n LEFT JOIN outbox o \
             ON o.tenant_id = n.tenant_id AND o.id = n.outbox_id WHERE n.tenant_id = $1{filter} \
             ORDER BY n.queued_at, n.customer_id, n.recipient"
        )))
        .bind(tenant.as_bytes().as_slice());
        if let Some(c) = customer {
            q = q.bind(c.as_bytes().to_vec());
        }
        let rows = q.fetch_all(&self.data.read).await.map_err(db_err)?;
        rows.iter().map(sp_notice_row).collect()
    }

    async fn add_subprocessor_objection(
        &self,
        row: SubprocessorObjectionRow,
        audit: Vec<NewAuditEntry>,
    ) -> StoreResult<()> {
        let mut tx = self.begin(&self.data).await?;
        sqlx::query(AssertSqlSafe(format!(
            "INSERT INTO subprocessor_objections ({SP_OBJECTION_COLS}) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)"
        )))
        .bind(row.tenant_id.as_bytes().as_slice())
        .bind(row.id.as_bytes().as_slice())
        .bind(row.customer_id.as_bytes().as_slice())
        .bind(row.version_id.as_bytes().as_slice())
        .bind(row.recipient.as_str())
        .bind(row.reason.as_str())
        .bind(row.at)
        .bind(row.recorded_by.as_str())
        .execute(&mut *tx)
        .await
        .map_err(db_err)?;
        append_in(&mut tx, audit).await?;
        tx.commit().await.map_err(db_err)
    }

    async fn subprocessor_objections(
        &self,
        tenant: Uuid,
    ) -> StoreResult<Vec<SubprocessorObjectionRow>> {
        let rows = sqlx::query(AssertSqlSafe(format!(
            "SELECT {SP_OBJECTION_COLS} FROM subprocessor_objections WHERE tenant_id = $1 \
             ORDER BY at, id"
        )))
        .bind(tenant.as_bytes().as_slice())
        .fetch_all(&self.data.read)
        .await
        .map_err(db_err)?;
        rows.iter().map(sp_objection_row).collect()
    }
}
