//! [`ConsentStore`] on SQL: the consent ledger is appended exactly like the audit chain (the
//! tenant's `consent_head` row serialises appenders and, on PostgreSQL, is row-locked until
//! commit), and the projection is upserted in the same transaction, so a reader never sees an
//! event without its state or the other way round.

use sqlx::any::AnyRow;
use uuid::Uuid;

use super::audit::append_in;
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
const STATE_COLS: &str =
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

fn state_row(r: &AnyRow) -> StoreResult<ConsentStateRow> {
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
        for r in &chained {
            let e = &r.event;
            sqlx::query(sqlx::AssertSqlSafe(format!(
                "INSERT INTO consent_events ({EVENT_COLS}) VALUES \
                 ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, \
                 $18, $19)"
            )))
            .bind(e.tenant_id.as_bytes().as_slice())
            .bind(r.seq)
            .bind(e.id.as_bytes().as_slice())
            .bind(e.subject_id.as_bytes().as_slice())
            .bind(e.scope.as_str())
            .bind(e.channel.as_str())
            .bind(e.action.as_str())
            .bind(e.at)
            .bind(e.expires_at)
            .bind(e.policy_hash.as_str())
            .bind(e.notice_hash.as_str())
            .bind(e.collection_point.as_str())
            .bind(e.method.as_str())
            .bind(e.ip_truncated.as_deref())
            .bind(e.user_agent.as_deref())
            .bind(e.idempotency_key.as_deref())
            .bind(e.actor.as_str())
            .bind(r.prev_hash.as_slice())
            .bind(r.hash.as_slice())
            .execute(&mut *tx)
            .await
            .map_err(db_err)?;
            // Last event per key wins: the same rule as vern_core::consent::fold.
            sqlx::query(sqlx::AssertSqlSafe(format!(
                "INSERT INTO consent_state ({STATE_COLS}) VALUES \
                 ($1, $2, $3, $4, $5, $6, $7, $8, $9, NULL) \
                 ON CONFLICT (tenant_id, subject_id, scope, channel) DO UPDATE SET \
                 action = excluded.action, at = excluded.at, expires_at = excluded.expires_at, \
                 event_id = excluded.event_id, seq = excluded.seq, renewal_due_at = NULL"
            )))
            .bind(e.tenant_id.as_bytes().as_slice())
            .bind(e.subject_id.as_bytes().as_slice())
            .bind(e.scope.as_str())
            .bind(e.channel.as_str())
            .bind(e.action.as_str())
            .bind(e.at)
            .bind(e.expires_at)
            .bind(e.id.as_bytes().as_slice())
            .bind(r.seq)
            .execute(&mut *tx)
            .await
            .map_err(db_err)?;
        }
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
        Ok(chained)
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
    ) -> StoreResult<()> {
        let mut tx = self.begin(&self.data).await?;
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
