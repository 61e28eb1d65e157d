//! Seeding many rows with one SQL statement each, on SQLite or PostgreSQL.
//!
//! Records are written straight into the tables (one lead per subject, ciphertext a
//! placeholder): the sweep and the recompute read only ids, categories, rules and expiry, so
//! they do the same work as on imported data, and seeding a million rows takes seconds instead
//! of an import's encryption.

use vern_core::ids::DEFAULT_TENANT;
use vern_store::SqlStore;

use crate::db::Backend;

/// SQL fragments that differ between the dialects.
struct Dialect(Backend);

impl Dialect {
    /// `FROM …` yielding `i` from 0 to `last`.
    fn series(&self, last: u64) -> String {
        match self.0 {
            Backend::Sqlite => format!(
                "FROM (WITH RECURSIVE s(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM s WHERE i < {last}) SELECT i FROM s)"
            ),
            Backend::Postgres => format!("FROM generate_series(0::BIGINT, {last}::BIGINT) AS s(i)"),
        }
    }

    /// A 16-byte id: `prefix` (20 hex digits) followed by `expr` as 12 hex digits.
    fn id(&self, prefix: &str, expr: &str) -> String {
        match self.0 {
            Backend::Sqlite => format!("unhex(printf('{prefix}%012x', {expr}))"),
            Backend::Postgres => {
                format!("decode('{prefix}' || lpad(to_hex({expr}), 12, '0'), 'hex')")
            }
        }
    }

    /// 32 bytes from `expr` (a blind index).
    fn digest(&self, expr: &str) -> String {
        match self.0 {
            Backend::Sqlite => format!("unhex(printf('%064x', {expr}))"),
            Backend::Postgres => format!("decode(lpad(to_hex({expr}), 64, '0'), 'hex')"),
        }
    }

    /// A literal byte string from hex.
    fn bytes(&self, hex: &str) -> String {
        match self.0 {
            Backend::Sqlite => format!("x'{hex}'"),
            Backend::Postgres => format!("'\\x{hex}'::BYTEA"),
        }
    }
}

pub fn tenant_bytes(backend: Backend) -> String {
    Dialect(backend).bytes(&DEFAULT_TENANT.simple().to_string())
}

const SUBJECT: &str = "01900000000070008000";
const RECORD: &str = "01910000000070008000";
const KEPT: &str = "01920000000070008000";
const IDENTIFIER: &str = "01930000000070008000";

/// Seeds `subjects` leads with `per_subject` records each (category
/// `contact.email.work_named`, rule `marketing_contacts`), expiring at `expires_at + i` (µs),
/// and with `keep` one more record per subject that never expires (an invoice), so that a
/// sweep deletes records without erasing subjects.
pub async fn records(
    store: &SqlStore,
    backend: Backend,
    subjects: u64,
    per_subject: u64,
    expires_at: i64,
    keep: bool,
) -> anyhow::Result<()> {
    let d = Dialect(backend);
    let t = tenant_bytes(backend);
    let subject_id = d.id(SUBJECT, "i");
    store
        .execute_raw_for_tests(&format!(
            "INSERT INTO subjects (tenant_id, id, subject_type, jurisdiction, created_at, updated_at) \
             SELECT {t}, {subject_id}, 'lead', NULL, 0, 0 {}",
            d.series(subjects - 1)
        ))
        .await?;
    let record_id = d.id(RECORD, "i");
    let owner = d.id(SUBJECT, &format!("i / {per_subject}"));
    let ct = d.bytes("00");
    store
        .execute_raw_for_tests(&format!(
            "INSERT INTO records (tenant_id, id, subject_id, category, value_ct, source, purposes, \
             legal_basis, collected_at, last_activity_at, originating_system, created_at, updated_at, \
             event_times, expires_at, retention_rule) \
             SELECT {t}, {record_id}, {owner}, 'contact.email.work_named', {ct}, 'direct', \
             '[\"marketing.send\"]', 'legitimate_interest', 0, NULL, NULL, 0, 0, NULL, \
             {expires_at} + i, 'marketing_contacts' {}",
            d.series(subjects * per_subject - 1)
        ))
        .await?;
    if keep {
        let kept_id = d.id(KEPT, "i");
        store
            .execute_raw_for_tests(&format!(
                "INSERT INTO records (tenant_id, id, subject_id, category, value_ct, source, purposes, \
                 legal_basis, collected_at, created_at, updated_at, expires_at, retention_rule) \
                 SELECT {t}, {kept_id}, {subject_id}, 'finance.invoice', {ct}, 'direct', '[]', \
                 'legal_obligation', 0, 0, 0, NULL, NULL {}",
                d.series(subjects - 1)
            ))
            .await?;
    }
    analyze(store, backend).await
}

/// Seeds `leads` leads and `others` job applicants, each with an email identifier whose
/// ciphertext is a placeholder (for work that reads only ids, types and whether an email
/// identifier exists).
pub async fn subjects_with_email(
    store: &SqlStore,
    backend: Backend,
    leads: u64,
    others: u64,
) -> anyhow::Result<()> {
    let d = Dialect(backend);
    let t = tenant_bytes(backend);
    let last = leads + others - 1;
    store
        .execute_raw_for_tests(&format!(
            "INSERT INTO subjects (tenant_id, id, subject_type, jurisdiction, created_at, updated_at) \
             SELECT {t}, {}, CASE WHEN i < {leads} THEN 'lead' ELSE 'job_applicant' END, NULL, 0, 0 {}",
            d.id(SUBJECT, "i"),
            d.series(last)
        ))
        .await?;
    store
        .execute_raw_for_tests(&format!(
            "INSERT INTO identifiers (tenant_id, id, subject_id, kind, blind_index, value_ct, created_at) \
             SELECT {t}, {}, {}, 'email', {}, {}, 0 {}",
            d.id(IDENTIFIER, "i"),
            d.id(SUBJECT, "i"),
            d.digest("i"),
            d.bytes("00"),
            d.series(last)
        ))
        .await?;
    analyze(store, backend).await
}

/// Fresh planner statistics after a bulk load on PostgreSQL (autovacuum would get there later;
/// a run should not depend on when). SQLite keeps the statistics its migrations wrote, as a
/// production database does.
pub async fn analyze(store: &SqlStore, backend: Backend) -> anyhow::Result<()> {
    if backend == Backend::Postgres {
        store.execute_raw_for_tests("ANALYZE").await?;
    }
    Ok(())
}

/// Row count of a query returning one integer (cast to text in SQL).
pub async fn count(store: &SqlStore, sql: &str) -> anyhow::Result<u64> {
    let rows = store.fetch_text_for_tests(sql, false).await?;
    let first = rows
        .first()
        .ok_or_else(|| anyhow::anyhow!("no row from {sql}"))?;
    Ok(first.parse()?)
}
