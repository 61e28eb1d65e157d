//! [`ConsentStore`] on SQL: the consent ledger is appended exactly like the audit chain (the
//! tenant's `consent_head` row serialises appenders and, on PostgreSQL, is row-locked until
//! commit), and the projection is upserted in the same transaction, so a reader never sees an
//! event without its state or the other way round.

use std::sync::{Arc, OnceLock};

use sqlx::any::AnyRow;
use tokio::sync::{mpsc, oneshot};
use uuid::Uuid;

use super::audit::append_in;
use super::bulk::{insert_many, insert_many_then};
use super::rows;
use super::{SqlStore, db_err};
use crate::audit_chain::{ChainBreak, GENESIS_HASH};
use crate::consent::{
    CompellingGrounds, ConsentContext, ConsentEventRow, ConsentStateRow, ConsentStore,
    NewConsentEvent, ObjectionRow, SuppressionRow, chain_consent, verify_consent_rows,
};
use crate::model::NewAuditEntry;
use crate::{StoreError, StoreResult};

const EVENT_COLS: &str = "tenant_id, seq, id, subject_id, scope, channel, action, at, \
     expires_at, policy_hash, notice_hash, collection_point, method, ip_truncated, user_agent, \
     idempotency_key, actor, prev_hash, hash";
pub(super) const STATE_COLS: &str =
    "tenant_id, subject_id, scope, channel, action, at, expires_at, event_id, seq, renewal_due_at";
const OBJECTION_COLS: &str =
    "tenant_id, id, subject_id, target, created_at, grounds_ct, grounds_at, grounds_by";

/// Rows per page when walking the ledger.
const VERIFY_PAGE: u32 = 1000;

fn event_row(r: &AnyRow) -> StoreResult<ConsentEventRow> {
    Ok(ConsentEventRow {
        seq: rows::get(r, "seq")?,
        event: NewConsentEvent {
            tenant_id: rows::uuid(r, "tenant_id")?,
            id: rows::uuid(r, "id")?,
            subject_id: rows::uuid(r, "subject_id")?,
            scope: rows::get(r, "scope")?,
            channel: rows::get(r, "channel")?,
            action: rows::get(r, "action")?,
            at: rows::get(r, "at")?,
            expires_at: rows::get(r, "expires_at")?,
            policy_hash: rows::get(r, "policy_hash")?,
            notice_hash: rows::get(r, "notice_hash")?,
            collection_point: rows::get(r, "collection_point")?,
            method: rows::get(r, "method")?,
            ip_truncated: rows::get(r, "ip_truncated")?,
            user_agent: rows::get(r, "user_agent")?,
            idempotency_key: rows::get(r, "idempotency_key")?,
            actor: rows::get(r, "actor")?,
        },
        prev_hash: rows::get(r, "prev_hash")?,
        hash: rows::get(r, "hash")?,
    })
}

pub(super) fn state_row(r: &AnyRow) -> StoreResult<ConsentStateRow> {
    Ok(ConsentStateRow {
        tenant_id: rows::uuid(r, "tenant_id")?,
        subject_id: rows::uuid(r, "subject_id")?,
        scope: rows::get(r, "scope")?,
        channel: rows::get(r, "channel")?,
        action: rows::get(r, "action")?,
        at: rows::get(r, "at")?,
        expires_at: rows::get(r, "expires_at")?,
        event_id: rows::uuid(r, "event_id")?,
        seq: rows::get(r, "seq")?,
        renewal_due_at: rows::get(r, "renewal_due_at")?,
    })
}

fn objection_row(r: &AnyRow) -> StoreResult<ObjectionRow> {
    Ok(ObjectionRow {
        tenant_id: rows::uuid(r, "tenant_id")?,
        id: rows::uuid(r, "id")?,
        subject_id: rows::uuid(r, "subject_id")?,
        target: rows::get(r, "target")?,
        created_at: rows::get(r, "created_at")?,
        grounds_ct: rows::get(r, "grounds_ct")?,
        grounds_at: rows::get(r, "grounds_at")?,
        grounds_by: rows::get(r, "grounds_by")?,
    })
}

/// Most appends committed together.
const MAX_GROUP: usize = 256;

/// One queued append and where its answer goes.
struct Job {
    events: Vec<NewConsentEvent>,
    audit: Vec<NewAuditEntry>,
    reply: oneshot::Sender<StoreResult<Vec<ConsentEventRow>>>,
}

/// Group commit of consent appends: appends arriving while a transaction runs wait in this
/// queue and are then written by one writer task in one transaction (one chain-head update,
/// one multi-row insert per table, one commit), and each caller is answered only after that
/// commit. If the group's transaction fails (e.g. one append names a subject that does not
/// exist), each append of the group is retried in its own transaction, so one bad append
/// never fails the others. The task holds a store without a queue, so it ends when the last
/// handle on the store's queue is dropped.
#[derive(Debug, Clone, Default)]
pub(super) struct Queue {
    sender: Arc<OnceLock<mpsc::UnboundedSender<Job>>>,
    /// Each append in its own transaction (benchmark baseline).
    off: bool,
}

impl std::fmt::Debug for Job {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Job")
            .field("events", &self.events.len())
            .finish()
    }
}

impl Queue {
    /// The queue's sender, starting the writer on first use; `None` outside a Tokio runtime.
    fn sender(&self, store: &SqlStore) -> Option<&mpsc::UnboundedSender<Job>> {
        if self.off {
            return None;
        }
        if let Some(s) = self.sender.get() {
            return Some(s);
        }
        let handle = tokio::runtime::Handle::try_current().ok()?;
        Some(self.sender.get_or_init(|| {
            let (tx, rx) = mpsc::unbounded_channel();
            let mut writer = store.clone();
            writer.consent_queue = Queue::default();
            handle.spawn(writer.write_groups(rx));
            tx
        }))
    }
}

impl SqlStore {
    /// The same store with every consent append in its own transaction (no group commit):
    /// the baseline of the consent benchmark.
    pub fn without_group_commit(mut self) -> Self {
        self.consent_queue = Queue {
            sender: Arc::default(),
            off: true,
        };
        self
    }

    async fn write_groups(self, mut rx: mpsc::UnboundedReceiver<Job>) {
        while let Some(first) = rx.recv().await {
            let mut group = vec![first];
            while group.len() < MAX_GROUP {
                match rx.try_recv() {
                    Ok(job) => group.push(job),
                    Err(_) => break,
                }
            }
            if group.len() == 1 {
                // Each caller has been answered with its own result.
                let _ = self.append_jobs_alone(group).await;
                continue;
            }
            let batch: Vec<(Vec<NewConsentEvent>, Vec<NewAuditEntry>)> = group
                .iter()
                .map(|j| (j.events.clone(), j.audit.clone()))
                .collect();
            match self.append_group(batch).await {
                Ok(results) => {
                    for (job, rows) in group.into_iter().zip(results) {
                        let _ = job.reply.send(Ok(rows));
                    }
                }
                Err(_) => {
                    // Each caller has been answered with its own result.
                    let _ = self.append_jobs_alone(group).await;
                }
            }
        }
    }

    /// Each job in its own transaction; answers each.
    async fn append_jobs_alone(&self, jobs: Vec<Job>) -> StoreResult<Vec<ConsentEventRow>> {
        let mut last = Ok(Vec::new());
        for job in jobs {
            let result = self
                .append_group(vec![(job.events, job.audit)])
                .await
                .map(|mut r| r.pop().unwrap_or_default());
            let answer = match &result {
                Ok(rows) => Ok(rows.clone()),
                Err(e) => Err(e.clone()),
            };
            let _ = job.reply.send(answer);
            last = result;
        }
        last
    }

    /// Appends several callers' events in one transaction: chained in order, one head update,
    /// multi-row inserts, the projection upserted with the last event per key.
    async fn append_group(
        &self,
        group: Vec<(Vec<NewConsentEvent>, Vec<NewAuditEntry>)>,
    ) -> StoreResult<Vec<Vec<ConsentEventRow>>> {
        let Some(tenant) = group
            .iter()
            .find_map(|(e, _)| e.first().map(|e| e.tenant_id))
        else {
            return Ok(group.iter().map(|_| Vec::new()).collect());
        };
        if group
            .iter()
            .flat_map(|(e, _)| e)
            .any(|e| e.tenant_id != tenant)
        {
            return Err(StoreError::Conflict("events of several tenants".into()));
        }
        let counts: Vec<usize> = group.iter().map(|(e, _)| e.len()).collect();
        let mut events = Vec::new();
        let mut audit = Vec::new();
        for (e, a) in group {
            events.extend(e);
            audit.extend(a);
        }
        let mut tx = self.begin(&self.data).await?;
        // A subject that does not exist is refused by the projection's foreign key, which rolls
        // the whole transaction back (chain head included): no ledger row is kept for nobody.
        let n = i64::try_from(events.len()).unwrap_or(i64::MAX);
        sqlx::query(
            "INSERT INTO consent_head (tenant_id, seq, hash) VALUES ($1, 0, $2) \
             ON CONFLICT (tenant_id) DO NOTHING",
        )
        .bind(tenant.as_bytes().as_slice())
        .bind(GENESIS_HASH.as_slice())
        .execute(&mut *tx)
        .await
        .map_err(db_err)?;
        let head = sqlx::query(
            "UPDATE consent_head SET seq = seq + $2 WHERE tenant_id = $1 RETURNING seq, hash",
        )
        .bind(tenant.as_bytes().as_slice())
        .bind(n)
        .fetch_one(&mut *tx)
        .await
        .map_err(db_err)?;
        let last_seq: i64 = rows::get(&head, "seq")?;
        let prev_hash: Vec<u8> = rows::get(&head, "hash")?;
        let chained = chain_consent(last_seq - n, &prev_hash, events);
        insert_many(
            &mut tx,
            "INSERT INTO consent_events (tenant_id, seq, id, subject_id, scope, channel, action, \
             at, expires_at, policy_hash, notice_hash, collection_point, method, ip_truncated, \
             user_agent, idempotency_key, actor, prev_hash, hash)",
            19,
            &chained,
            |q, r| {
                let e = &r.event;
                q.bind(e.tenant_id.as_bytes().to_vec())
                    .bind(r.seq)
                    .bind(e.id.as_bytes().to_vec())
                    .bind(e.subject_id.as_bytes().to_vec())
                    .bind(e.scope.clone())
                    .bind(e.channel.clone())
                    .bind(e.action.clone())
                    .bind(e.at)
                    .bind(e.expires_at)
                    .bind(e.policy_hash.clone())
                    .bind(e.notice_hash.clone())
                    .bind(e.collection_point.clone())
                    .bind(e.method.clone())
                    .bind(e.ip_truncated.clone())
                    .bind(e.user_agent.clone())
                    .bind(e.idempotency_key.clone())
                    .bind(e.actor.clone())
                    .bind(r.prev_hash.clone())
                    .bind(r.hash.clone())
            },
        )
        .await?;
        // Last event per key wins: the same rule as vern_core::consent::fold. One row per key
        // (an upsert may not touch a row twice in one statement).
        let mut last: Vec<&ConsentEventRow> = Vec::with_capacity(chained.len());
        for r in chained.iter().rev() {
            let e = &r.event;
            if !last.iter().any(|l| {
                l.event.subject_id == e.subject_id
                    && l.event.scope == e.scope
                    && l.event.channel == e.channel
            }) {
                last.push(r);
            }
        }
        last.reverse();
        insert_many_then(
            &mut tx,
            "INSERT INTO consent_state (tenant_id, subject_id, scope, channel, action, at, \
             expires_at, event_id, seq)",
            9,
            &last,
            " ON CONFLICT (tenant_id, subject_id, scope, channel) DO UPDATE SET \
             action = excluded.action, at = excluded.at, expires_at = excluded.expires_at, \
             event_id = excluded.event_id, seq = excluded.seq, renewal_due_at = NULL",
            |q, r| {
                let e = &r.event;
                q.bind(e.tenant_id.as_bytes().to_vec())
                    .bind(e.subject_id.as_bytes().to_vec())
                    .bind(e.scope.clone())
                    .bind(e.channel.clone())
                    .bind(e.action.clone())
                    .bind(e.at)
                    .bind(e.expires_at)
                    .bind(e.id.as_bytes().to_vec())
                    .bind(r.seq)
            },
        )
        .await?;
        if let Some(last) = chained.last() {
            sqlx::query("UPDATE consent_head SET hash = $2 WHERE tenant_id = $1")
                .bind(tenant.as_bytes().as_slice())
                .bind(last.hash.as_slice())
                .execute(&mut *tx)
                .await
                .map_err(db_err)?;
        }
        append_in(&mut tx, audit).await?;
        tx.commit().await.map_err(db_err)?;
        let mut rest = chained.into_iter();
        Ok(counts
            .into_iter()
            .map(|c| rest.by_ref().take(c).collect())
            .collect())
    }
}

impl ConsentStore for SqlStore {
    async fn append_consent(
        &self,
        events: Vec<NewConsentEvent>,
        audit: Vec<NewAuditEntry>,
    ) -> StoreResult<Vec<ConsentEventRow>> {
        let Some(first) = events.first() else {
            return Ok(Vec::new());
        };
        let tenant = first.tenant_id;
        if events.iter().any(|e| e.tenant_id != tenant) {
            return Err(StoreError::Conflict("events of several tenants".into()));
        }
        let (reply, answer) = oneshot::channel();
        let job = Job {
            events,
            audit,
            reply,
        };
        match self.consent_queue.sender(self) {
            Some(queue) => match queue.send(job) {
                Ok(()) => answer
                    .await
                    .map_err(|_| StoreError::Database("the consent writer stopped".into()))?,
                Err(mpsc::error::SendError(job)) => self.append_jobs_alone(vec![job]).await,
            },
            None => self.append_jobs_alone(vec![job]).await,
        }
    }

    async fn consent_state(
        &self,
        tenant: Uuid,
        subject: Uuid,
    ) -> StoreResult<Vec<ConsentStateRow>> {
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {STATE_COLS} FROM consent_state WHERE tenant_id = $1 AND subject_id = $2 \
             ORDER BY scope, channel"
        )))
        .bind(tenant.as_bytes().as_slice())
        .bind(subject.as_bytes().as_slice())
        .fetch_all(&self.data.read)
        .await
        .map_err(db_err)?;
        rows.iter().map(state_row).collect()
    }

    async fn expired_consents(
        &self,
        tenant: Uuid,
        now: i64,
        limit: u32,
    ) -> StoreResult<Vec<ConsentStateRow>> {
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {STATE_COLS} FROM consent_state WHERE tenant_id = $1 \
             AND action IN ('granted', 'renewed') AND expires_at IS NOT NULL \
             AND expires_at <= $2 ORDER BY expires_at, subject_id LIMIT $3"
        )))
        .bind(tenant.as_bytes().as_slice())
        .bind(now)
        .bind(i64::from(limit))
        .fetch_all(&self.data.read)
        .await
        .map_err(db_err)?;
        rows.iter().map(state_row).collect()
    }

    async fn consent_history(
        &self,
        tenant: Uuid,
        subject: Uuid,
    ) -> StoreResult<Vec<ConsentEventRow>> {
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {EVENT_COLS} FROM consent_events WHERE tenant_id = $1 AND subject_id = $2 \
             ORDER BY seq"
        )))
        .bind(tenant.as_bytes().as_slice())
        .bind(subject.as_bytes().as_slice())
        .fetch_all(&self.data.read)
        .await
        .map_err(db_err)?;
        rows.iter().map(event_row).collect()
    }

    async fn consent_ledger_page(
        &self,
        tenant: Uuid,
        from: i64,
        limit: u32,
    ) -> StoreResult<Vec<ConsentEventRow>> {
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {EVENT_COLS} FROM consent_events WHERE tenant_id = $1 AND seq >= $2 \
             ORDER BY seq LIMIT $3"
        )))
        .bind(tenant.as_bytes().as_slice())
        .bind(from)
        .bind(i64::from(limit))
        .fetch_all(&self.data.read)
        .await
        .map_err(db_err)?;
        rows.iter().map(event_row).collect()
    }

    async fn verify_consent_chain(&self, tenant: Uuid) -> StoreResult<Result<u64, ChainBreak>> {
        let head = sqlx::query("SELECT seq, hash FROM consent_head WHERE tenant_id = $1")
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
        let mut prev = GENESIS_HASH.to_vec();
        let mut next = 1;
        while next <= head_seq {
            let page = self.consent_ledger_page(tenant, next, VERIFY_PAGE).await?;
            if page.is_empty() {
                break;
            }
            let within = page.iter().take_while(|r| r.seq <= head_seq);
            match verify_consent_rows(within, next, &mut prev) {
                Ok(n) if n == next => break,
                Ok(n) => next = n,
                Err(e) => return Ok(Err(e)),
            }
        }
        if next - 1 != head_seq || prev != head_hash {
            return Ok(Err(ChainBreak {
                seq: next - 1,
                reason: crate::BreakReason::HeadMismatch { head_seq },
            }));
        }
        Ok(Ok(u64::try_from(head_seq).unwrap_or(0)))
    }

    async fn add_objection(
        &self,
        row: ObjectionRow,
        audit: Vec<NewAuditEntry>,
    ) -> StoreResult<ObjectionRow> {
        let mut tx = self.begin(&self.data).await?;
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "INSERT INTO objections ({OBJECTION_COLS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) \
             ON CONFLICT (tenant_id, subject_id, target) DO NOTHING"
        )))
        .bind(row.tenant_id.as_bytes().as_slice())
        .bind(row.id.as_bytes().as_slice())
        .bind(row.subject_id.as_bytes().as_slice())
        .bind(row.target.as_str())
        .bind(row.created_at)
        .bind(row.grounds_ct.as_deref())
        .bind(row.grounds_at)
        .bind(row.grounds_by.as_deref())
        .execute(&mut *tx)
        .await
        .map_err(db_err)?;
        let stored = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {OBJECTION_COLS} FROM objections \
             WHERE tenant_id = $1 AND subject_id = $2 AND target = $3"
        )))
        .bind(row.tenant_id.as_bytes().as_slice())
        .bind(row.subject_id.as_bytes().as_slice())
        .bind(row.target.as_str())
        .fetch_one(&mut *tx)
        .await
        .map_err(db_err)?;
        let stored = objection_row(&stored)?;
        append_in(&mut tx, audit).await?;
        tx.commit().await.map_err(db_err)?;
        Ok(stored)
    }

    async fn set_compelling_grounds(
        &self,
        g: CompellingGrounds,
        audit: Vec<NewAuditEntry>,
    ) -> StoreResult<()> {
        let (tenant, subject, target) = (g.tenant_id, g.subject_id, g.target.as_str());
        let mut tx = self.begin(&self.data).await?;
        let done = sqlx::query(
            "UPDATE objections SET grounds_ct = $4, grounds_at = $5, grounds_by = $6 \
             WHERE tenant_id = $1 AND subject_id = $2 AND target = $3 AND grounds_at IS NULL",
        )
        .bind(tenant.as_bytes().as_slice())
        .bind(subject.as_bytes().as_slice())
        .bind(target)
        .bind(g.grounds_ct.as_slice())
        .bind(g.at)
        .bind(g.by.as_str())
        .execute(&mut *tx)
        .await
        .map_err(db_err)?;
        if done.rows_affected() == 0 {
            let exists = sqlx::query(
                "SELECT id FROM objections WHERE tenant_id = $1 AND subject_id = $2 AND target = $3",
            )
            .bind(tenant.as_bytes().as_slice())
            .bind(subject.as_bytes().as_slice())
            .bind(target)
            .fetch_optional(&mut *tx)
            .await
            .map_err(db_err)?;
            return Err(match exists {
                Some(_) => StoreError::Conflict("compelling grounds already recorded".into()),
                None => StoreError::NotFound,
            });
        }
        append_in(&mut tx, audit).await?;
        tx.commit().await.map_err(db_err)
    }

    async fn set_restricted(
        &self,
        tenant: Uuid,
        subject: Uuid,
        restricted: bool,
        at: i64,
        audit: Vec<NewAuditEntry>,
        mail: Vec<crate::outbox::NewOutboxMessage>,
    ) -> StoreResult<()> {
        let mut tx = self.begin(&self.data).await?;
        super::outbox::insert_in(&mut tx, &mail, at).await?;
        sqlx::query(
            "INSERT INTO subject_flags (tenant_id, subject_id, restricted_at, updated_at) \
             VALUES ($1, $2, $3, $4) ON CONFLICT (tenant_id, subject_id) DO UPDATE SET \
             restricted_at = excluded.restricted_at, updated_at = excluded.updated_at",
        )
        .bind(tenant.as_bytes().as_slice())
        .bind(subject.as_bytes().as_slice())
        .bind(restricted.then_some(at))
        .bind(at)
        .execute(&mut *tx)
        .await
        .map_err(db_err)?;
        append_in(&mut tx, audit).await?;
        tx.commit().await.map_err(db_err)
    }

    async fn consent_context(&self, tenant: Uuid, subject: Uuid) -> StoreResult<ConsentContext> {
        let state = self.consent_state(tenant, subject).await?;
        let objections = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {OBJECTION_COLS} FROM objections WHERE tenant_id = $1 AND subject_id = $2 \
             ORDER BY target"
        )))
        .bind(tenant.as_bytes().as_slice())
        .bind(subject.as_bytes().as_slice())
        .fetch_all(&self.data.read)
        .await
        .map_err(db_err)?;
        let objections = objections
            .iter()
            .map(objection_row)
            .collect::<StoreResult<_>>()?;
        let flag = sqlx::query(
            "SELECT restricted_at FROM subject_flags WHERE tenant_id = $1 AND subject_id = $2",
        )
        .bind(tenant.as_bytes().as_slice())
        .bind(subject.as_bytes().as_slice())
        .fetch_optional(&self.data.read)
        .await
        .map_err(db_err)?;
        let restricted = match flag {
            Some(r) => rows::get::<Option<i64>>(&r, "restricted_at")?.is_some(),
            None => false,
        };
        Ok(ConsentContext {
            state,
            objections,
            restricted,
        })
    }

    async fn add_suppression(
        &self,
        rows: Vec<SuppressionRow>,
        audit: Vec<NewAuditEntry>,
    ) -> StoreResult<()> {
        let mut tx = self.begin(&self.data).await?;
        for r in &rows {
            sqlx::query(
                "INSERT INTO suppression (tenant_id, kind, hash, reason, created_at) \
                 VALUES ($1, $2, $3, $4, $5) ON CONFLICT (tenant_id, kind, hash) DO NOTHING",
            )
            .bind(r.tenant_id.as_bytes().as_slice())
            .bind(r.kind.as_str())
            .bind(r.hash.as_slice())
            .bind(r.reason.as_str())
            .bind(r.created_at)
            .execute(&mut *tx)
            .await
            .map_err(db_err)?;
        }
        append_in(&mut tx, audit).await?;
        tx.commit().await.map_err(db_err)
    }

    async fn suppressed_among(
        &self,
        tenant: Uuid,
        kind: &str,
        hashes: Vec<Vec<u8>>,
    ) -> StoreResult<Vec<Vec<u8>>> {
        let mut out = Vec::new();
        // One indexed point query per hash: bulk callers batch above this; an IN list would
        // need a dialect-specific array bind.
        for h in hashes {
            let hit = sqlx::query(
                "SELECT hash FROM suppression WHERE tenant_id = $1 AND kind = $2 AND hash = $3",
            )
            .bind(tenant.as_bytes().as_slice())
            .bind(kind)
            .bind(h.as_slice())
            .fetch_optional(&self.data.read)
            .await
            .map_err(db_err)?;
            if hit.is_some() {
                out.push(h);
            }
        }
        Ok(out)
    }
}
