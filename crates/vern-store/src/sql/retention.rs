//! SQL for [`RetentionStore`]: the expired range, sweep batches with evidence, legal holds.
//!
//! Batches use `IN (…)` lists built from placeholders only (never values), chunked below the
//! parameter limits; `DELETE … RETURNING id` tells exactly which records this transaction
//! deleted, so evidence is written for those and no others even when two sweepers race.

use std::collections::{BTreeMap, BTreeSet};

use sqlx::any::AnyRow;
use sqlx::{AnyConnection, AssertSqlSafe};
use uuid::Uuid;

use super::audit::append_in;
use super::bulk::{Q, insert_many};
use super::error::corrupt;
use super::{SqlStore, db_err, rows};
use crate::model::NewAuditEntry;
use crate::retention::{
    AnonymisedCount, CLASS_ANCHOR_MAX, CLASS_ANCHOR_MIN, CalendarPage, CalendarRow, ClassAnchor,
    ClassRule, ClassUnit, EvidenceRow, ExpiredRecord, ExpiryClass, ExpiryUpdate, LegalHoldRow,
    RetentionStore, SweepItem, SweepOutcome,
};
use crate::{StoreError, StoreResult};

/// Ids per `IN (…)` list.
const IN_CHUNK: usize = 2000;

/// `head` followed by `(p, p, …)` for `n` values, numbered from `first` on PostgreSQL.
pub(super) fn in_list(
    conn: &AnyConnection,
    head: &str,
    first: usize,
    n: usize,
    tail: &str,
) -> String {
    let numbered = conn.backend_name() != <sqlx::Sqlite as sqlx::Database>::NAME;
    let mut sql = String::with_capacity(head.len() + tail.len() + n * 7);
    sql.push_str(head);
    sql.push('(');
    for i in 0..n {
        if i > 0 {
            sql.push(',');
        }
        if numbered {
            sql.push('$');
            sql.push_str(&(first + i).to_string());
        } else {
            sql.push('?');
        }
    }
    sql.push(')');
    sql.push_str(tail);
    sql
}

/// `$n` on PostgreSQL, `?` on SQLite (anonymous parameters bind in order).
pub(super) fn p(conn: &AnyConnection, n: usize) -> String {
    if conn.backend_name() == <sqlx::Sqlite as sqlx::Database>::NAME {
        "?".to_owned()
    } else {
        format!("${n}")
    }
}

pub(super) fn bind_ids(mut q: Q, ids: &[Uuid]) -> Q {
    for id in ids {
        q = q.bind(id.as_bytes().to_vec());
    }
    q
}

fn expired(row: &AnyRow) -> StoreResult<ExpiredRecord> {
    Ok(ExpiredRecord {
        subject_id: rows::uuid(row, "subject_id")?,
        id: rows::uuid(row, "id")?,
        category: rows::get(row, "category")?,
        retention_rule: rows::get(row, "retention_rule")?,
        expires_at: rows::get(row, "expires_at")?,
    })
}

macro_rules! hold_cols {
    () => {
        "tenant_id, id, subject_id, matter, categories, reason, review_at, approved_by, \
         created_by, created_at, released_at, released_by, release_reason"
    };
}

fn hold(row: &AnyRow) -> StoreResult<LegalHoldRow> {
    let categories: &str = rows::get(row, "categories")?;
    Ok(LegalHoldRow {
        tenant_id: rows::uuid(row, "tenant_id")?,
        id: rows::uuid(row, "id")?,
        subject_id: rows::opt_uuid(row, "subject_id")?,
        matter: rows::get(row, "matter")?,
        categories: serde_json::from_str(categories).map_err(|_| corrupt("categories"))?,
        reason: rows::get(row, "reason")?,
        review_at: rows::get(row, "review_at")?,
        approved_by: rows::get(row, "approved_by")?,
        created_by: rows::get(row, "created_by")?,
        created_at: rows::get(row, "created_at")?,
        released_at: rows::get(row, "released_at")?,
        released_by: rows::get(row, "released_by")?,
        release_reason: rows::get(row, "release_reason")?,
    })
}

/// What an anonymised record leaves: the bucket it is counted in.
type Bucket = (String, String, String, String);

/// Deletes the batch's still-expired records; returns the ids actually deleted and, for those
/// in `anonymise`, the (category, purposes, source, collection month) they are counted under.
async fn delete_expired(
    conn: &mut AnyConnection,
    tenant: Uuid,
    now: i64,
    ids: &[Uuid],
    anonymise: &BTreeSet<Uuid>,
) -> StoreResult<(BTreeSet<Uuid>, BTreeMap<Uuid, Bucket>)> {
    let mut deleted = BTreeSet::new();
    let mut buckets = BTreeMap::new();
    // The extra columns only when the batch anonymises: a plain delete returns ids alone.
    let returning = if anonymise.is_empty() {
        " RETURNING id"
    } else {
        " RETURNING id, category, purposes, source, collected_at"
    };
    for chunk in ids.chunks(IN_CHUNK) {
        // `+expires_at` keeps the planner off the expiry index: the ids name the rows, and a
        // range scan of every expired row per chunk made a large sweep quadratic.
        let head = format!(
            "DELETE FROM records WHERE tenant_id = {} AND +expires_at <= {} AND id IN ",
            p(conn, 1),
            p(conn, 2)
        );
        let sql = in_list(conn, &head, 3, chunk.len(), returning);
        let q = sqlx::query(AssertSqlSafe(sql))
            .bind(tenant.as_bytes().to_vec())
            .bind(now);
        let rows = bind_ids(q, chunk)
            .fetch_all(&mut *conn)
            .await
            .map_err(db_err)?;
        for row in &rows {
            let id = rows::uuid(row, "id")?;
            if anonymise.contains(&id) {
                let collected: i64 = rows::get(row, "collected_at")?;
                buckets.insert(
                    id,
                    (
                        rows::get(row, "category")?,
                        rows::get(row, "purposes")?,
                        rows::get(row, "source")?,
                        month_of(collected)?,
                    ),
                );
            }
            deleted.insert(id);
        }
    }
    Ok((deleted, buckets))
}

/// `YYYY-MM` (UTC) of a time in Unix microseconds.
fn month_of(micros: i64) -> StoreResult<String> {
    let at = time::OffsetDateTime::from_unix_timestamp(micros.div_euclid(1_000_000))
        .map_err(|_| corrupt("collected_at"))?;
    Ok(format!("{:04}-{:02}", at.year(), u8::from(at.month())))
}

/// Adds anonymised records to their counts (`rule` and bucket → count).
async fn count_anonymised(
    conn: &mut AnyConnection,
    tenant: Uuid,
    now: i64,
    counts: BTreeMap<(String, Bucket), i64>,
) -> StoreResult<()> {
    let sql = format!(
        "INSERT INTO anonymised_counts (tenant_id, rule, category, purposes, source, \
         collected_month, count, updated_at) VALUES ({}, {}, {}, {}, {}, {}, {}, {}) \
         ON CONFLICT (tenant_id, rule, category, purposes, source, collected_month) \
         DO UPDATE SET count = anonymised_counts.count + excluded.count, \
         updated_at = excluded.updated_at",
        p(conn, 1),
        p(conn, 2),
        p(conn, 3),
        p(conn, 4),
        p(conn, 5),
        p(conn, 6),
        p(conn, 7),
        p(conn, 8)
    );
    for ((rule, (category, purposes, source, month)), count) in counts {
        sqlx::query(AssertSqlSafe(sql.clone()))
            .bind(tenant.as_bytes().to_vec())
            .bind(rule)
            .bind(category)
            .bind(purposes)
            .bind(source)
            .bind(month)
            .bind(count)
            .bind(now)
            .execute(&mut *conn)
            .await
            .map_err(db_err)?;
    }
    Ok(())
}

/// Of `subjects`, those with no record left: erased in this transaction and queued for
/// key shredding.
async fn erase_emptied(
    conn: &mut AnyConnection,
    tenant: Uuid,
    now: i64,
    subjects: &[Uuid],
) -> StoreResult<u64> {
    let mut empty = Vec::new();
    for chunk in subjects.chunks(IN_CHUNK) {
        let head = format!(
            "SELECT s.id FROM subjects s WHERE s.tenant_id = {} AND NOT EXISTS \
             (SELECT 1 FROM records r WHERE r.tenant_id = s.tenant_id AND r.subject_id = s.id) \
             AND s.id IN ",
            p(conn, 1)
        );
        let sql = in_list(conn, &head, 2, chunk.len(), "");
        let q = sqlx::query(AssertSqlSafe(sql)).bind(tenant.as_bytes().to_vec());
        for row in bind_ids(q, chunk)
            .fetch_all(&mut *conn)
            .await
            .map_err(db_err)?
        {
            empty.push(rows::uuid(&row, "id")?);
        }
    }
    for chunk in empty.chunks(IN_CHUNK) {
        for head in [
            "DELETE FROM identifiers WHERE tenant_id = {} AND subject_id IN ",
            "DELETE FROM subjects WHERE tenant_id = {} AND id IN ",
        ] {
            let head = head.replace("{}", &p(conn, 1));
            let sql = in_list(conn, &head, 2, chunk.len(), "");
            let q = sqlx::query(AssertSqlSafe(sql)).bind(tenant.as_bytes().to_vec());
            bind_ids(q, chunk)
                .execute(&mut *conn)
                .await
                .map_err(db_err)?;
        }
    }
    let pairs: Vec<Uuid> = empty.clone();
    insert_many(
        conn,
        "INSERT INTO erasure_ledger (tenant_id, subject_id, erased_at)",
        3,
        &pairs,
        |q, s| {
            q.bind(tenant.as_bytes().to_vec())
                .bind(s.as_bytes().to_vec())
                .bind(now)
        },
    )
    .await?;
    insert_many(
        conn,
        "INSERT INTO pending_key_shreds (tenant_id, subject_id, at)",
        3,
        &pairs,
        |q, s| {
            q.bind(tenant.as_bytes().to_vec())
                .bind(s.as_bytes().to_vec())
                .bind(now)
        },
    )
    .await?;
    Ok(empty.len() as u64)
}

/// Evidence groups of a batch: (subject, rule, category, action) → records deleted.
type Groups = BTreeMap<(Uuid, String, String, String), i64>;

/// Anonymised records of a batch: (rule, bucket) → count.
type AnonCounts = BTreeMap<(String, Bucket), i64>;

/// Groups the deleted items of a batch for [`account_batch`].
fn group_items(deleted: &[SweepItem], buckets: &BTreeMap<Uuid, Bucket>) -> (Groups, AnonCounts) {
    let mut groups = Groups::new();
    let mut anon = AnonCounts::new();
    for item in deleted {
        *groups
            .entry((
                item.subject_id,
                item.rule.clone(),
                item.category.clone(),
                item.action.clone(),
            ))
            .or_default() += 1;
        if item.action == "anonymise"
            && let Some(bucket) = buckets.get(&item.id)
        {
            *anon.entry((item.rule.clone(), bucket.clone())).or_default() += 1;
        }
    }
    (groups, anon)
}

/// Appends deletion evidence rows (sweeps and erasures).
pub(super) async fn insert_evidence(
    conn: &mut AnyConnection,
    evidence: &[EvidenceRow],
) -> StoreResult<()> {
    insert_many(
        conn,
        "INSERT INTO deletion_evidence (tenant_id, id, at, subject_id, rule, category, \
         action, count)",
        8,
        evidence,
        |q, e| {
            q.bind(e.tenant_id.as_bytes().to_vec())
                .bind(e.id.as_bytes().to_vec())
                .bind(e.at)
                .bind(e.subject_id.as_bytes().to_vec())
                .bind(e.rule.clone())
                .bind(e.category.clone())
                .bind(e.action.clone())
                .bind(e.count)
        },
    )
    .await
}

/// What follows the deletion of a sweep batch, in its transaction: counts of anonymised
/// records, one evidence row per (subject, rule, category, action) group, subjects left empty
/// erased and queued for key shredding, and the audit entries.
async fn account_batch(
    conn: &mut AnyConnection,
    tenant: Uuid,
    now: i64,
    groups: Groups,
    anon: AnonCounts,
    audit: Vec<NewAuditEntry>,
) -> StoreResult<SweepOutcome> {
    let deleted: i64 = groups.values().sum();
    if !anon.is_empty() {
        count_anonymised(conn, tenant, now, anon).await?;
    }
    let evidence: Vec<EvidenceRow> = groups
        .into_iter()
        .map(|((subject, rule, category, action), count)| EvidenceRow {
            tenant_id: tenant,
            id: Uuid::now_v7(),
            at: now,
            subject_id: subject,
            rule,
            category,
            action,
            count,
        })
        .collect();
    insert_evidence(conn, &evidence).await?;
    let subjects: Vec<Uuid> = evidence
        .iter()
        .map(|e| e.subject_id)
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    let subjects_erased = erase_emptied(conn, tenant, now, &subjects).await?;
    if !audit.is_empty() {
        append_in(conn, audit).await?;
    }
    Ok(SweepOutcome {
        deleted: u64::try_from(deleted).unwrap_or(0),
        subjects_erased,
        evidence_rows: evidence.len() as u64,
    })
}

/// `HEAD FROM records WHERE tenant_id = ? AND +expires_at <= ? AND id IN (…) TAIL` for one
/// chunk of ids, bound. `+expires_at` re-checks each row as it is read or deleted and keeps the
/// planner on the primary key: a record whose expiry moved since its id was read stays.
fn still_expired(
    conn: &AnyConnection,
    head: &str,
    tail: &str,
    tenant: Uuid,
    now: i64,
    chunk: &[Uuid],
) -> Q {
    let head = format!(
        "{head} FROM records WHERE tenant_id = {} AND +expires_at <= {} AND id IN ",
        p(conn, 1),
        p(conn, 2)
    );
    let sql = in_list(conn, &head, 3, chunk.len(), tail);
    let q = sqlx::query(AssertSqlSafe(sql))
        .bind(tenant.as_bytes().to_vec())
        .bind(now);
    bind_ids(q, chunk)
}

/// The rule of a row (`''` for none) and whether it anonymises.
fn rule_of(row: &AnyRow, anonymise_rules: &BTreeSet<String>) -> StoreResult<(String, bool)> {
    let rule: Option<String> = rows::get(row, "retention_rule")?;
    let rule = rule.unwrap_or_default();
    let anonymise = anonymise_rules.contains(&rule);
    Ok((rule, anonymise))
}

fn action(anonymise: bool) -> String {
    if anonymise { "anonymise" } else { "delete" }.to_owned()
}

/// PostgreSQL: deletes the still-expired of `ids`, returning each deleted record's facts.
async fn delete_returning(
    conn: &mut AnyConnection,
    tenant: Uuid,
    now: i64,
    ids: &[Uuid],
    anonymise_rules: &BTreeSet<String>,
) -> StoreResult<(Vec<SweepItem>, BTreeMap<Uuid, Bucket>)> {
    let mut items = Vec::with_capacity(ids.len());
    let mut buckets = BTreeMap::new();
    for chunk in ids.chunks(IN_CHUNK) {
        let q = still_expired(
            conn,
            "DELETE",
            " RETURNING subject_id, id, category, retention_rule, purposes, source, collected_at",
            tenant,
            now,
            chunk,
        );
        for row in q.fetch_all(&mut *conn).await.map_err(db_err)? {
            let (rule, anonymise) = rule_of(&row, anonymise_rules)?;
            let id = rows::uuid(&row, "id")?;
            let category: String = rows::get(&row, "category")?;
            if anonymise {
                buckets.insert(id, bucket_of(&row, &category)?);
            }
            items.push(SweepItem {
                subject_id: rows::uuid(&row, "subject_id")?,
                id,
                category,
                rule,
                action: action(anonymise),
            });
        }
    }
    Ok((items, buckets))
}

/// The anonymised-count bucket of a row that has `purposes`, `source` and `collected_at`.
fn bucket_of(row: &AnyRow, category: &str) -> StoreResult<Bucket> {
    let collected: i64 = rows::get(row, "collected_at")?;
    Ok((
        category.to_owned(),
        rows::get(row, "purposes")?,
        rows::get(row, "source")?,
        month_of(collected)?,
    ))
}

/// SQLite: counts the still-expired of `ids` by (subject, category, rule) inside the database,
/// reads the records of anonymising rules one by one for their buckets, then deletes the same
/// rows. The transaction holds SQLite's only write lock, so nothing changes in between; the
/// deleted count is checked against the counted one all the same. Returning every deleted row
/// instead cost more than the deletion itself (each row crosses from SQLite's worker thread).
async fn delete_counted(
    conn: &mut AnyConnection,
    tenant: Uuid,
    now: i64,
    ids: &[Uuid],
    anonymise_rules: &BTreeSet<String>,
) -> StoreResult<(Groups, AnonCounts)> {
    let mut groups = Groups::new();
    let mut anon = AnonCounts::new();
    let mut counted = 0i64;
    let mut deleted = 0u64;
    for chunk in ids.chunks(IN_CHUNK) {
        let q = still_expired(
            conn,
            "SELECT subject_id, category, retention_rule, COUNT(*) AS n",
            " GROUP BY subject_id, category, retention_rule",
            tenant,
            now,
            chunk,
        );
        let mut anonymising = false;
        for row in q.fetch_all(&mut *conn).await.map_err(db_err)? {
            let (rule, anonymise) = rule_of(&row, anonymise_rules)?;
            let n: i64 = rows::get(&row, "n")?;
            anonymising |= anonymise;
            counted += n;
            *groups
                .entry((
                    rows::uuid(&row, "subject_id")?,
                    rule,
                    rows::get(&row, "category")?,
                    action(anonymise),
                ))
                .or_default() += n;
        }
        if anonymising {
            let q = still_expired(
                conn,
                "SELECT category, retention_rule, purposes, source, collected_at",
                "",
                tenant,
                now,
                chunk,
            );
            for row in q.fetch_all(&mut *conn).await.map_err(db_err)? {
                let (rule, anonymise) = rule_of(&row, anonymise_rules)?;
                if anonymise {
                    let category: String = rows::get(&row, "category")?;
                    *anon.entry((rule, bucket_of(&row, &category)?)).or_default() += 1;
                }
            }
        }
        deleted += still_expired(conn, "DELETE", "", tenant, now, chunk)
            .execute(&mut *conn)
            .await
            .map_err(db_err)?
            .rows_affected();
    }
    if u64::try_from(counted).ok() != Some(deleted) {
        return Err(StoreError::Conflict(format!(
            "a sweep batch counted {counted} expired records and deleted {deleted}"
        )));
    }
    Ok((groups, anon))
}

/// Ids written as 32 hex digits each, one after the other.
fn ids_from_hex(hex: &str) -> StoreResult<Vec<Uuid>> {
    let bytes = hex.as_bytes();
    if !bytes.len().is_multiple_of(32) {
        return Err(corrupt("records.id"));
    }
    bytes
        .chunks_exact(32)
        .map(|digits| Uuid::try_parse_ascii(digits).map_err(|_| corrupt("records.id")))
        .collect()
}

/// A policy identifier as an SQL string literal (ids come from the validated policy; quotes
/// are doubled all the same, so no id can end the literal).
fn literal(text: &str) -> String {
    format!("'{}'", text.replace('\'', "''"))
}

/// The date of one candidate rule for the row being updated, in µs: calendar arithmetic on the
/// anchor's whole seconds (floored, so a pre-1970 anchor splits correctly), its microseconds
/// added back, as `vern_core::retention::add` keeps the time of day. Month arithmetic clamps a
/// missing day to the month's last, as `add_months` does: SQLite's `'+N months'` alone would
/// overflow 31 January + 1 month into March, the `'floor'` modifier (SQLite >= 3.46; 3.51 is
/// bundled) clamps it; PostgreSQL's interval arithmetic on a `timestamp` clamps by itself and
/// has no time zone (no daylight-saving hour).
pub(super) fn candidate_sql(sqlite: bool, c: &ClassRule, prefix: &str) -> String {
    let a = match c.anchor {
        ClassAnchor::Collected => format!("{prefix}collected_at"),
        ClassAnchor::LastActivity => {
            format!("COALESCE({prefix}last_activity_at, {prefix}collected_at)")
        }
    };
    let us = format!("(({a} % 1000000 + 1000000) % 1000000)");
    let secs = format!("(({a} - {us}) / 1000000)");
    let n = c.amount;
    if sqlite {
        let modifier = match c.unit {
            ClassUnit::Days => format!("'+{n} days'"),
            ClassUnit::Months => format!("'+{n} months', 'floor'"),
        };
        format!("(unixepoch({secs}, 'unixepoch', {modifier}) * 1000000 + {us})")
    } else {
        let interval = match c.unit {
            ClassUnit::Days => format!("make_interval(days => {n})"),
            ClassUnit::Months => format!("make_interval(months => {n})"),
        };
        format!(
            "(CAST(EXTRACT(EPOCH FROM (to_timestamp({secs}) AT TIME ZONE 'UTC') + {interval}) \
             AS BIGINT) * 1000000 + {us})"
        )
    }
}

/// `min`/`max` of SQL expressions (`None`: none), the value itself for one.
fn extreme(sqlite: bool, least: bool, items: &[String]) -> Option<String> {
    match items {
        [] => None,
        [one] => Some(one.clone()),
        many => {
            let f = match (sqlite, least) {
                (true, true) => "min",
                (true, false) => "max",
                (false, true) => "LEAST",
                (false, false) => "GREATEST",
            };
            Some(format!("{f}({})", many.join(", ")))
        }
    }
}

/// `CASE WHEN value = e1 THEN r1 … ELSE rn END`: the first item equal to the extreme, which is
/// the one `vern_core::retention` keeps (it replaces only on a strictly earlier or later date).
fn first_equal(value: &str, items: &[(String, String)]) -> String {
    match items {
        [] => "NULL".to_owned(),
        [(_, rule)] => rule.clone(),
        many => {
            let mut sql = String::from("CASE");
            for (e, rule) in &many[..many.len() - 1] {
                sql.push_str(&format!(" WHEN {value} = {e} THEN {rule}"));
            }
            if let Some((_, rule)) = many.last() {
                sql.push_str(&format!(" ELSE {rule} END"));
            }
            sql
        }
    }
}

/// The class's (expires_at, retention_rule) as SQL expressions over the row's columns: per
/// purpose the earliest candidate, across purposes the latest (decision 0007).
pub(super) fn class_sql(sqlite: bool, class: &ExpiryClass, prefix: &str) -> (String, String) {
    let mut per_purpose: Vec<(String, String)> = Vec::with_capacity(class.purposes.len());
    for candidates in &class.purposes {
        let dated: Vec<(String, String)> = candidates
            .iter()
            .map(|c| (candidate_sql(sqlite, c, prefix), literal(&c.rule)))
            .collect();
        let dates: Vec<String> = dated.iter().map(|(e, _)| e.clone()).collect();
        if let Some(m) = extreme(sqlite, true, &dates) {
            let rule = first_equal(&m, &dated);
            per_purpose.push((m, rule));
        }
    }
    let dates: Vec<String> = per_purpose.iter().map(|(m, _)| m.clone()).collect();
    match extreme(sqlite, false, &dates) {
        None => ("NULL".to_owned(), "NULL".to_owned()),
        Some(e) => {
            let rule = first_equal(&e, &per_purpose);
            (e, rule)
        }
    }
}

/// The rows whose anchors the set-based path evaluates (see [`CLASS_ANCHOR_MIN`]).
fn anchors_in_range(prefix: &str) -> String {
    format!(
        "{prefix}collected_at >= {CLASS_ANCHOR_MIN} AND {prefix}collected_at < {CLASS_ANCHOR_MAX} \
         AND ({prefix}last_activity_at IS NULL OR ({prefix}last_activity_at >= {CLASS_ANCHOR_MIN} \
         AND {prefix}last_activity_at < {CLASS_ANCHOR_MAX}))"
    )
}

/// The share of a tenant's records from which a class's `UPDATE` scans the table on SQLite.
const SCAN_SHARE: f64 = 0.25;

/// Records per transaction when a scanned class is recomputed on SQLite.
pub(super) const SCAN_CHUNK: u64 = 100_000;

/// Rows per bulk expiry update (3 parameters each).
const UPDATE_CHUNK: usize = 1000;

fn calendar_row(row: &AnyRow) -> StoreResult<CalendarRow> {
    Ok(CalendarRow {
        subject_id: rows::uuid(row, "subject_id")?,
        id: rows::uuid(row, "id")?,
        category: rows::get(row, "category")?,
        purposes_json: rows::get(row, "purposes")?,
        collected_at: rows::get(row, "collected_at")?,
        last_activity_at: rows::get(row, "last_activity_at")?,
        event_times_json: rows::get(row, "event_times")?,
        expires_at: rows::get(row, "expires_at")?,
        retention_rule: rows::get(row, "retention_rule")?,
        subject_type: rows::get(row, "subject_type")?,
        jurisdiction: rows::get(row, "jurisdiction")?,
    })
}

/// One chunk of a bulk expiry update. PostgreSQL joins a `VALUES` list; SQLite's planner
/// would scan the tenant's records for `UPDATE … FROM (VALUES …)`, so the chunk goes through
/// a temporary table keyed by id and is applied by primary-key lookups.
async fn update_chunk(
    conn: &mut AnyConnection,
    tenant: Uuid,
    chunk: &[ExpiryUpdate],
) -> StoreResult<()> {
    if conn.backend_name() == <sqlx::Sqlite as sqlx::Database>::NAME {
        sqlx::query(
            "CREATE TEMP TABLE IF NOT EXISTS expiry_updates \
             (id BLOB PRIMARY KEY, expires_at INTEGER, retention_rule TEXT) WITHOUT ROWID",
        )
        .execute(&mut *conn)
        .await
        .map_err(db_err)?;
        insert_many(
            conn,
            "INSERT INTO temp.expiry_updates (id, expires_at, retention_rule)",
            3,
            chunk,
            |q, (id, at, rule)| q.bind(id.as_bytes().to_vec()).bind(*at).bind(rule.clone()),
        )
        .await?;
        sqlx::query(
            "UPDATE records SET (expires_at, retention_rule) = \
             (SELECT u.expires_at, u.retention_rule FROM temp.expiry_updates u \
              WHERE u.id = records.id) \
             WHERE tenant_id = ?1 AND id IN (SELECT id FROM temp.expiry_updates)",
        )
        .bind(tenant.as_bytes().to_vec())
        .execute(&mut *conn)
        .await
        .map_err(db_err)?;
        sqlx::query("DELETE FROM temp.expiry_updates")
            .execute(&mut *conn)
            .await
            .map_err(db_err)?;
        return Ok(());
    }
    let mut sql = String::with_capacity(200 + chunk.len() * 40);
    sql.push_str("UPDATE records SET expires_at = v.e, retention_rule = v.r FROM (VALUES ");
    for i in 0..chunk.len() {
        if i > 0 {
            sql.push(',');
        }
        let n = 2 + i * 3;
        sql.push_str(&format!(
            "(${}::bytea, ${}::bigint, ${}::text)",
            n,
            n + 1,
            n + 2
        ));
    }
    sql.push_str(") AS v(id, e, r) WHERE records.tenant_id = $1 AND records.id = v.id");
    let mut q = sqlx::query(AssertSqlSafe(sql)).bind(tenant.as_bytes().to_vec());
    for (id, at, rule) in chunk {
        q = q.bind(id.as_bytes().to_vec()).bind(*at).bind(rule.clone());
    }
    q.execute(&mut *conn).await.map_err(db_err)?;
    Ok(())
}

impl RetentionStore for SqlStore {
    async fn calendar_page(
        &self,
        tenant: Uuid,
        after: Option<Uuid>,
        limit: u32,
        except: &[(String, String)],
    ) -> StoreResult<CalendarPage> {
        let after = after.unwrap_or(Uuid::nil());
        let sqlite = self.backend == super::Backend::Sqlite;
        // On SQLite `CROSS JOIN` keeps records as the outer loop: the page is then a range of
        // the primary key read in order and stopped at the limit. With a plain JOIN the
        // bundled SQLite (3.51) drove the join from subjects and sorted every remaining
        // record of the tenant for each page (`USE TEMP B-TREE FOR ORDER BY`). PostgreSQL
        // does not allow `ON` after `CROSS JOIN` and plans the join by itself.
        let join = if sqlite { "CROSS JOIN" } else { "JOIN" };
        let mut sql = format!(
            "SELECT r.subject_id, r.id, r.category, r.purposes, r.collected_at, \
             r.last_activity_at, r.event_times, r.expires_at, r.retention_rule, \
             s.subject_type, s.jurisdiction \
             FROM records r {join} subjects s ON s.tenant_id = r.tenant_id AND s.id = r.subject_id \
             WHERE r.tenant_id = $1 AND r.id > $2",
        );
        if !except.is_empty() {
            // Exactly the complement of what `apply_expiry_class` updates for these classes.
            // The classes travel as one JSON parameter: there may be thousands, more than an
            // `OR` chain's depth or the parameter limit allows.
            let classes = if sqlite {
                "SELECT j.value ->> 0, j.value ->> 1 FROM json_each($4) j"
            } else {
                "SELECT j ->> 0, j ->> 1 FROM json_array_elements($4::json) j"
            };
            sql.push_str(&format!(
                " AND NOT ({} AND (r.category, r.purposes) IN ({classes}))",
                anchors_in_range("r.")
            ));
        }
        sql.push_str(" ORDER BY r.id LIMIT $3");
        let mut q = sqlx::query(AssertSqlSafe(sql))
            .bind(tenant.as_bytes().to_vec())
            .bind(after.as_bytes().to_vec())
            .bind(i64::from(limit));
        if !except.is_empty() {
            let json = serde_json::to_string(except)
                .map_err(|e| StoreError::Database(format!("expiry classes: {e}")))?;
            q = q.bind(json);
        }
        let rows = q.fetch_all(&self.data.read).await.map_err(db_err)?;
        let records = rows
            .iter()
            .map(calendar_row)
            .collect::<StoreResult<Vec<_>>>()?;
        let subjects: Vec<Uuid> = records
            .iter()
            .map(|r| r.subject_id)
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect();
        let mut consents = Vec::new();
        let mut conn = self.data.read.acquire().await.map_err(db_err)?;
        for chunk in subjects.chunks(IN_CHUNK) {
            let head = format!(
                "SELECT {} FROM consent_state WHERE tenant_id = {} AND subject_id IN ",
                super::consent::STATE_COLS,
                p(&conn, 1)
            );
            let sql = in_list(&conn, &head, 2, chunk.len(), "");
            let q = sqlx::query(AssertSqlSafe(sql)).bind(tenant.as_bytes().to_vec());
            for row in bind_ids(q, chunk)
                .fetch_all(&mut *conn)
                .await
                .map_err(db_err)?
            {
                consents.push(super::consent::state_row(&row)?);
            }
        }
        Ok(CalendarPage { records, consents })
    }

    async fn record_classes(&self, tenant: Uuid) -> StoreResult<Vec<(String, String, u64)>> {
        // Read from `records_class_idx` alone (migration 0017): no table page is touched.
        let rows = sqlx::query(
            "SELECT category, purposes, COUNT(*) AS n FROM records WHERE tenant_id = $1 \
             GROUP BY category, purposes ORDER BY category, purposes",
        )
        .bind(tenant.as_bytes().as_slice())
        .fetch_all(&self.data.read)
        .await
        .map_err(db_err)?;
        rows.iter()
            .map(|r| {
                let n: i64 = rows::get(r, "n")?;
                Ok((
                    rows::get(r, "category")?,
                    rows::get(r, "purposes")?,
                    u64::try_from(n).unwrap_or(0),
                ))
            })
            .collect()
    }

    async fn apply_expiry_class(
        &self,
        tenant: Uuid,
        class: &ExpiryClass,
        share: f64,
    ) -> StoreResult<u64> {
        let sqlite = self.backend == super::Backend::Sqlite;
        let (expires, rule) = class_sql(sqlite, class, "");
        let differs = if sqlite { "IS NOT" } else { "IS DISTINCT FROM" };
        // SQLite's planner has no statistics of the class sizes (migration 0017 assumes small
        // classes). Reading a class through the index costs a primary-key search per row,
        // about four times a row of a table scan (measured: 1.34 s against 0.35 s for
        // 1,000,000 rows), so a class of a quarter of the records or more scans the tenant's
        // range of the table (its primary key, which SQLite names `sqlite_autoindex_records_1`
        // on a WITHOUT ROWID table; `NOT INDEXED` still picked the class index). PostgreSQL
        // plans from its own statistics.
        let scan = sqlite && share >= SCAN_SHARE;
        let hint = match (sqlite, scan) {
            (false, _) => "",
            (true, true) => " INDEXED BY sqlite_autoindex_records_1",
            (true, false) => " INDEXED BY records_class_idx",
        };
        // The new values appear in SET and again in WHERE (so only changed rows are written);
        // SQLite and PostgreSQL evaluate SET only for the rows the WHERE keeps.
        let update = |id_range: &str| {
            format!(
                "UPDATE records{hint} SET expires_at = {expires}, retention_rule = {rule} \
                 WHERE tenant_id = $1 AND category = $2 AND purposes = $3 AND {range}{id_range} \
                 AND (expires_at {differs} {expires} OR retention_rule {differs} {rule})",
                range = anchors_in_range("")
            )
        };
        let bind = |sql: String| {
            sqlx::query(AssertSqlSafe(sql))
                .bind(tenant.as_bytes().to_vec())
                .bind(class.category.clone())
                .bind(class.purposes_json.clone())
        };
        if !scan {
            let mut conn = self.data.write.acquire().await.map_err(db_err)?;
            let done = bind(update("")).execute(&mut *conn).await.map_err(db_err)?;
            return Ok(done.rows_affected());
        }
        // A scanned class is updated in ranges of the primary key of SCAN_CHUNK records, each
        // its own transaction: dirty pages then fit the page cache instead of spilling into a
        // write-ahead log that grows by gigabytes (10,000,000 records, every expiry moved:
        // 27.6 and 26.4 s against 29.2 and 28.8 s in one statement, decision 0020), and other
        // writers wait for one range, not for the whole recompute (the write connection is
        // taken per range). A crash between ranges leaves some records recomputed and the
        // rest as they were, which the next recompute finishes, as on the application path.
        let mut changed = 0;
        let mut after: Vec<u8> = Vec::new();
        loop {
            let mut conn = self.data.write.acquire().await.map_err(db_err)?;
            let next: Option<Vec<u8>> = sqlx::query_scalar(AssertSqlSafe(format!(
                "SELECT id FROM records{hint} WHERE tenant_id = $1 AND id > $2 \
                 ORDER BY id LIMIT 1 OFFSET {}",
                self.scan_chunk - 1
            )))
            .bind(tenant.as_bytes().to_vec())
            .bind(after.clone())
            .fetch_optional(&mut *conn)
            .await
            .map_err(db_err)?;
            let done = match &next {
                Some(last) => bind(update(" AND id > $4 AND id <= $5"))
                    .bind(after.clone())
                    .bind(last.clone()),
                None => bind(update(" AND id > $4")).bind(after.clone()),
            }
            .execute(&mut *conn)
            .await
            .map_err(db_err)?;
            changed += done.rows_affected();
            match next {
                Some(last) => after = last,
                None => return Ok(changed),
            }
        }
    }

    async fn set_expiries_bulk(&self, tenant: Uuid, updates: Vec<ExpiryUpdate>) -> StoreResult<()> {
        if updates.is_empty() {
            return Ok(());
        }
        let mut tx = self.begin(&self.data).await?;
        for chunk in updates.chunks(UPDATE_CHUNK) {
            update_chunk(&mut tx, tenant, chunk).await?;
        }
        tx.commit().await.map_err(db_err)
    }

    async fn expired_records(
        &self,
        tenant: Uuid,
        now: i64,
        after: Option<(i64, Uuid)>,
        limit: u32,
    ) -> StoreResult<Vec<ExpiredRecord>> {
        const COLS: &str = "SELECT subject_id, id, category, retention_rule, expires_at \
                            FROM records WHERE tenant_id = $1 AND expires_at <= $2";
        let (at, id) = after.unwrap_or((i64::MIN, Uuid::nil()));
        // Keyset on (expires_at, id), written without row values so SQLite uses the index.
        let rows = sqlx::query(AssertSqlSafe(format!(
            "{COLS} AND (expires_at > $3 OR (expires_at = $3 AND id > $4)) \
             ORDER BY expires_at, id LIMIT $5"
        )))
        .bind(tenant.as_bytes().as_slice())
        .bind(now)
        .bind(at)
        .bind(id.as_bytes().as_slice())
        .bind(i64::from(limit))
        .fetch_all(&self.data.read)
        .await
        .map_err(db_err)?;
        rows.iter().map(expired).collect()
    }

    async fn sweep_batch(
        &self,
        tenant: Uuid,
        now: i64,
        items: Vec<SweepItem>,
        audit: Vec<NewAuditEntry>,
    ) -> StoreResult<SweepOutcome> {
        if items.is_empty() {
            return Ok(SweepOutcome::default());
        }
        let ids: Vec<Uuid> = items.iter().map(|i| i.id).collect();
        let anonymise: BTreeSet<Uuid> = items
            .iter()
            .filter(|i| i.action == "anonymise")
            .map(|i| i.id)
            .collect();
        let mut tx = self.begin(&self.data).await?;
        let (deleted, buckets) = delete_expired(&mut tx, tenant, now, &ids, &anonymise).await?;
        let items: Vec<SweepItem> = items
            .into_iter()
            .filter(|i| deleted.contains(&i.id))
            .collect();
        let audit = if items.is_empty() { Vec::new() } else { audit };
        let (groups, anon) = group_items(&items, &buckets);
        let out = account_batch(&mut tx, tenant, now, groups, anon, audit).await?;
        tx.commit().await.map_err(db_err)?;
        Ok(out)
    }

    async fn expired_ids(&self, tenant: Uuid, now: i64, limit: u32) -> StoreResult<Vec<Uuid>> {
        // The ids come back as one hex string: a row per id cost more than deleting the
        // record (decision 0027).
        let concat = if self.backend == super::Backend::Sqlite {
            "group_concat(hex(id), '')"
        } else {
            "string_agg(encode(id, 'hex'), '')"
        };
        let row = sqlx::query(AssertSqlSafe(format!(
            "SELECT {concat} AS ids FROM (SELECT id FROM records \
             WHERE tenant_id = $1 AND expires_at <= $2 LIMIT $3) AS expired"
        )))
        .bind(tenant.as_bytes().as_slice())
        .bind(now)
        .bind(i64::from(limit))
        .fetch_one(&self.data.read)
        .await
        .map_err(db_err)?;
        let hex: Option<String> = rows::get(&row, "ids")?;
        hex.map_or(Ok(Vec::new()), |h| ids_from_hex(&h))
    }

    async fn sweep_ids<F>(
        &self,
        tenant: Uuid,
        now: i64,
        ids: &[Uuid],
        anonymise_rules: &BTreeSet<String>,
        audit: F,
    ) -> StoreResult<SweepOutcome>
    where
        F: FnOnce(u64, &BTreeMap<String, u64>) -> Vec<NewAuditEntry> + Send,
    {
        if ids.is_empty() {
            return Ok(SweepOutcome::default());
        }
        let mut tx = self.begin(&self.data).await?;
        let sqlite = tx.backend_name() == <sqlx::Sqlite as sqlx::Database>::NAME;
        let (groups, anon) = if sqlite {
            delete_counted(&mut tx, tenant, now, ids, anonymise_rules).await?
        } else {
            let (items, buckets) =
                delete_returning(&mut tx, tenant, now, ids, anonymise_rules).await?;
            group_items(&items, &buckets)
        };
        if groups.is_empty() {
            return Ok(SweepOutcome::default());
        }
        let mut per_rule: BTreeMap<String, u64> = BTreeMap::new();
        let mut total = 0u64;
        for ((_, rule, _, _), n) in &groups {
            let n = u64::try_from(*n).unwrap_or(0);
            *per_rule.entry(rule.clone()).or_default() += n;
            total += n;
        }
        let entries = audit(total, &per_rule);
        let out = account_batch(&mut tx, tenant, now, groups, anon, entries).await?;
        tx.commit().await.map_err(db_err)?;
        Ok(out)
    }

    async fn shred_pending_keys(&self, limit: u32) -> StoreResult<u64> {
        let rows = sqlx::query("SELECT tenant_id, subject_id FROM pending_key_shreds LIMIT $1")
            .bind(i64::from(limit))
            .fetch_all(&self.data.read)
            .await
            .map_err(db_err)?;
        let pairs = rows
            .iter()
            .map(|r| Ok((rows::uuid(r, "tenant_id")?, rows::uuid(r, "subject_id")?)))
            .collect::<StoreResult<Vec<_>>>()?;
        if pairs.is_empty() {
            return Ok(0);
        }
        // Keys first: if the process dies now, the queue rows remain and the next sweep
        // deletes the (already missing) keys again, which is harmless.
        self.delete_subject_keys(&pairs).await?;
        let mut tx = self.begin(&self.data).await?;
        for (tenant, subject) in &pairs {
            sqlx::query("DELETE FROM pending_key_shreds WHERE tenant_id = $1 AND subject_id = $2")
                .bind(tenant.as_bytes().as_slice())
                .bind(subject.as_bytes().as_slice())
                .execute(&mut *tx)
                .await
                .map_err(db_err)?;
        }
        tx.commit().await.map_err(db_err)?;
        // Subjects processed, not keys found: a retried shred finds its key already gone.
        Ok(pairs.len() as u64)
    }

    async fn set_expiries(
        &self,
        tenant: Uuid,
        updates: Vec<(Uuid, Uuid, Option<i64>, Option<String>)>,
    ) -> StoreResult<()> {
        let mut tx = self.begin(&self.data).await?;
        for (subject, id, at, rule) in &updates {
            sqlx::query(
                "UPDATE records SET expires_at = $4, retention_rule = $5 \
                 WHERE tenant_id = $1 AND subject_id = $2 AND id = $3",
            )
            .bind(tenant.as_bytes().as_slice())
            .bind(subject.as_bytes().as_slice())
            .bind(id.as_bytes().as_slice())
            .bind(*at)
            .bind(rule.as_deref())
            .execute(&mut *tx)
            .await
            .map_err(db_err)?;
        }
        tx.commit().await.map_err(db_err)
    }

    async fn expiring_counts(
        &self,
        tenant: Uuid,
        from: i64,
        to: i64,
    ) -> StoreResult<Vec<(Option<String>, String, u64)>> {
        let rows = sqlx::query(
            "SELECT retention_rule, category, COUNT(*) AS n FROM records \
             WHERE tenant_id = $1 AND expires_at > $2 AND expires_at <= $3 \
             GROUP BY retention_rule, category ORDER BY retention_rule, category",
        )
        .bind(tenant.as_bytes().as_slice())
        .bind(from)
        .bind(to)
        .fetch_all(&self.data.read)
        .await
        .map_err(db_err)?;
        rows.iter()
            .map(|r| {
                let n: i64 = rows::get(r, "n")?;
                Ok((
                    rows::get(r, "retention_rule")?,
                    rows::get(r, "category")?,
                    u64::try_from(n).map_err(|_| corrupt("n"))?,
                ))
            })
            .collect()
    }

    async fn evidence_for_subject(
        &self,
        tenant: Uuid,
        subject: Uuid,
    ) -> StoreResult<Vec<EvidenceRow>> {
        let rows = sqlx::query(
            "SELECT tenant_id, id, at, subject_id, rule, category, action, count \
             FROM deletion_evidence WHERE tenant_id = $1 AND subject_id = $2 ORDER BY id",
        )
        .bind(tenant.as_bytes().as_slice())
        .bind(subject.as_bytes().as_slice())
        .fetch_all(&self.data.read)
        .await
        .map_err(db_err)?;
        rows.iter()
            .map(|r| {
                Ok(EvidenceRow {
                    tenant_id: rows::uuid(r, "tenant_id")?,
                    id: rows::uuid(r, "id")?,
                    at: rows::get(r, "at")?,
                    subject_id: rows::uuid(r, "subject_id")?,
                    rule: rows::get(r, "rule")?,
                    category: rows::get(r, "category")?,
                    action: rows::get(r, "action")?,
                    count: rows::get(r, "count")?,
                })
            })
            .collect()
    }

    async fn anonymised_counts(&self, tenant: Uuid) -> StoreResult<Vec<AnonymisedCount>> {
        let rows = sqlx::query(
            "SELECT rule, category, purposes, source, collected_month, count \
             FROM anonymised_counts WHERE tenant_id = $1 \
             ORDER BY rule, category, purposes, source, collected_month",
        )
        .bind(tenant.as_bytes().as_slice())
        .fetch_all(&self.data.read)
        .await
        .map_err(db_err)?;
        rows.iter()
            .map(|r| {
                Ok(AnonymisedCount {
                    rule: rows::get(r, "rule")?,
                    category: rows::get(r, "category")?,
                    purposes: rows::get(r, "purposes")?,
                    source: rows::get(r, "source")?,
                    collected_month: rows::get(r, "collected_month")?,
                    count: rows::get(r, "count")?,
                })
            })
            .collect()
    }

    async fn evidence_total(&self, tenant: Uuid) -> StoreResult<u64> {
        let row = sqlx::query(
            // SUM of BIGINT is NUMERIC on PostgreSQL, which the Any driver cannot decode.
            "SELECT CAST(COALESCE(SUM(count), 0) AS BIGINT) AS n FROM deletion_evidence \
             WHERE tenant_id = $1",
        )
        .bind(tenant.as_bytes().as_slice())
        .fetch_one(&self.data.read)
        .await
        .map_err(db_err)?;
        let n: i64 = rows::get(&row, "n")?;
        u64::try_from(n).map_err(|_| corrupt("n"))
    }

    async fn create_hold(&self, row: LegalHoldRow, audit: Vec<NewAuditEntry>) -> StoreResult<()> {
        let categories = serde_json::to_string(&row.categories)
            .map_err(|e| StoreError::Database(e.to_string()))?;
        let mut tx = self.begin(&self.data).await?;
        sqlx::query(concat!(
            "INSERT INTO legal_holds (",
            hold_cols!(),
            ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)"
        ))
        .bind(row.tenant_id.as_bytes().as_slice())
        .bind(row.id.as_bytes().as_slice())
        .bind(row.subject_id.as_ref().map(|s| s.as_bytes().as_slice()))
        .bind(row.matter.as_deref())
        .bind(categories)
        .bind(row.reason.as_str())
        .bind(row.review_at)
        .bind(row.approved_by.as_str())
        .bind(row.created_by.as_str())
        .bind(row.created_at)
        .bind(row.released_at)
        .bind(row.released_by.as_deref())
        .bind(row.release_reason.as_deref())
        .execute(&mut *tx)
        .await
        .map_err(db_err)?;
        append_in(&mut tx, audit).await?;
        tx.commit().await.map_err(db_err)
    }

    async fn list_holds(
        &self,
        tenant: Uuid,
        include_released: bool,
    ) -> StoreResult<Vec<LegalHoldRow>> {
        let sql = if include_released {
            concat!(
                "SELECT ",
                hold_cols!(),
                " FROM legal_holds WHERE tenant_id = $1 ORDER BY id DESC"
            )
        } else {
            concat!(
                "SELECT ",
                hold_cols!(),
                " FROM legal_holds WHERE tenant_id = $1 AND released_at IS NULL ORDER BY id DESC"
            )
        };
        let rows = sqlx::query(sql)
            .bind(tenant.as_bytes().as_slice())
            .fetch_all(&self.data.read)
            .await
            .map_err(db_err)?;
        rows.iter().map(hold).collect()
    }

    async fn get_hold(&self, tenant: Uuid, id: Uuid) -> StoreResult<LegalHoldRow> {
        let row = sqlx::query(concat!(
            "SELECT ",
            hold_cols!(),
            " FROM legal_holds WHERE tenant_id = $1 AND id = $2"
        ))
        .bind(tenant.as_bytes().as_slice())
        .bind(id.as_bytes().as_slice())
        .fetch_one(&self.data.read)
        .await
        .map_err(db_err)?;
        hold(&row)
    }

    async fn release_hold(
        &self,
        tenant: Uuid,
        id: Uuid,
        at: i64,
        by: &str,
        reason: &str,
        audit: Vec<NewAuditEntry>,
    ) -> StoreResult<()> {
        let mut tx = self.begin(&self.data).await?;
        let done = sqlx::query(
            "UPDATE legal_holds SET released_at = $3, released_by = $4, release_reason = $5 \
             WHERE tenant_id = $1 AND id = $2 AND released_at IS NULL",
        )
        .bind(tenant.as_bytes().as_slice())
        .bind(id.as_bytes().as_slice())
        .bind(at)
        .bind(by)
        .bind(reason)
        .execute(&mut *tx)
        .await
        .map_err(db_err)?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound);
        }
        append_in(&mut tx, audit).await?;
        tx.commit().await.map_err(db_err)
    }
}

#[cfg(test)]
mod hex_tests {
    use super::ids_from_hex;
    use uuid::Uuid;

    #[test]
    fn ids_round_trip_from_either_case_and_bad_text_is_refused() {
        let ids = [Uuid::now_v7(), Uuid::new_v4(), Uuid::nil(), Uuid::max()];
        let lower: String = ids.iter().map(|i| i.simple().to_string()).collect();
        assert_eq!(ids_from_hex(&lower).unwrap(), ids);
        assert_eq!(ids_from_hex(&lower.to_uppercase()).unwrap(), ids);
        assert!(ids_from_hex("").unwrap().is_empty());
        assert!(ids_from_hex(&lower[1..]).is_err());
        assert!(ids_from_hex(&lower.replacen('0', "g", 1)).is_err());
    }
}
