//! Retention in the store: the expired range of records, sweep batches with their deletion
//! evidence, legal holds, and the key shreds a sweep leaves for after its data commit.
//!
//! The store decides nothing: the vault computes expiries with `vern_core::retention` and
//! filters held records; the store reads `expires_at <= now` from its index and deletes what it
//! is told, re-checking the expiry in the deleting statement so two sweepers (or a sweep and a
//! record update) never delete a record twice or delete one whose expiry just moved.

use std::collections::{BTreeMap, BTreeSet};
use std::future::Future;

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::StoreResult;
use crate::model::NewAuditEntry;

/// An expired record, as much as a sweep needs (no ciphertext).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExpiredRecord {
    pub subject_id: Uuid,
    pub id: Uuid,
    pub category: String,
    pub retention_rule: Option<String>,
    pub expires_at: i64,
}

/// One record a sweep batch deletes, with the rule and action it is deleted under.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SweepItem {
    pub subject_id: Uuid,
    pub id: Uuid,
    pub category: String,
    pub rule: String,
    /// `delete` or `anonymise` (written into the evidence).
    pub action: String,
}

/// What one sweep batch did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct SweepOutcome {
    /// Records deleted (each exactly once, with its evidence).
    pub deleted: u64,
    /// Subjects left with no record: erased, their keys queued for shredding.
    pub subjects_erased: u64,
    /// Evidence rows written (one per subject, rule, category and action).
    pub evidence_rows: u64,
}

/// A row of deletion evidence: no personal data, the subject by its pseudonymous id.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EvidenceRow {
    pub tenant_id: Uuid,
    pub id: Uuid,
    pub at: i64,
    pub subject_id: Uuid,
    pub rule: String,
    pub category: String,
    pub action: String,
    pub count: i64,
}

/// A record with everything its expiry depends on (its subject's type and jurisdiction), for
/// recomputing expiries after a policy change. No ciphertext.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CalendarRow {
    pub subject_id: Uuid,
    pub id: Uuid,
    pub category: String,
    /// The purposes as stored (a JSON array): few distinct values, parsed once per value.
    pub purposes_json: String,
    pub collected_at: i64,
    pub last_activity_at: Option<i64>,
    /// The event times as stored (a JSON object), `None` when there are none.
    pub event_times_json: Option<String>,
    pub expires_at: Option<i64>,
    pub retention_rule: Option<String>,
    pub subject_type: String,
    pub jurisdiction: Option<String>,
}

/// Which of a record's own columns a rule counts from (docs/decisions/0020).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClassAnchor {
    /// `collected_at`.
    Collected,
    /// `last_activity_at`, or `collected_at` when it is NULL.
    LastActivity,
}

/// The calendar unit of a rule's duration (years are passed as 12 months each).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClassUnit {
    Days,
    Months,
}

/// One candidate rule of a record class: its id and `anchor + amount unit`, calendar arithmetic
/// keeping the time of day, a month's missing day clamped to its last.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClassRule {
    pub rule: String,
    pub anchor: ClassAnchor,
    pub amount: u32,
    pub unit: ClassUnit,
}

/// A record class whose expiry is a formula of the record's own columns, recomputed by one
/// set-based `UPDATE` ([`RetentionStore::apply_expiry_class`]). `purposes` holds, per purpose,
/// its candidate rules: the earliest candidate of a purpose wins (the first on a tie), the
/// latest purpose wins (the first on a tie); no purpose means no rule (`NULL`, `NULL`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExpiryClass {
    pub category: String,
    /// The purposes exactly as stored (a JSON array).
    pub purposes_json: String,
    pub purposes: Vec<Vec<ClassRule>>,
}

/// Anchors (µs) the set-based path evaluates: 1900-01-01 (inclusive) to 8000-01-01
/// (exclusive). With durations of at most 1000 years every date stays inside both backends'
/// calendars and `time`'s; records with an anchor outside are recomputed in the application.
pub const CLASS_ANCHOR_MIN: i64 = -2_208_988_800_000_000;
/// See [`CLASS_ANCHOR_MIN`].
pub const CLASS_ANCHOR_MAX: i64 = 190_288_396_800_000_000;

/// A record's new expiry: `(record id, expires_at, rule)`.
pub type ExpiryUpdate = (Uuid, Option<i64>, Option<String>);

/// What anonymised records leave: how many, by rule and bucket (nothing names a person).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AnonymisedCount {
    pub rule: String,
    pub category: String,
    /// The purposes as stored (a JSON array).
    pub purposes: String,
    pub source: String,
    /// `YYYY-MM` (UTC) of the collection time.
    pub collected_month: String,
    pub count: i64,
}

/// A page of [`CalendarRow`]s and the consent projection rows of their subjects.
#[derive(Debug, Clone, Default)]
pub struct CalendarPage {
    pub records: Vec<CalendarRow>,
    pub consents: Vec<crate::consent::ConsentStateRow>,
}

/// A legal hold: while unreleased, the sweep deletes nothing it covers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LegalHoldRow {
    pub tenant_id: Uuid,
    pub id: Uuid,
    /// The subject held; `None` for a matter-wide hold over every subject.
    pub subject_id: Option<Uuid>,
    /// The case or matter reference (no personal data).
    pub matter: Option<String>,
    /// Category references covered; empty means all.
    pub categories: Vec<String>,
    pub reason: String,
    /// When the hold must be reviewed.
    pub review_at: i64,
    /// Who approved it (an actor reference, not a name).
    pub approved_by: String,
    pub created_by: String,
    pub created_at: i64,
    pub released_at: Option<i64>,
    pub released_by: Option<String>,
    pub release_reason: Option<String>,
}

/// The retention part of the store.
pub trait RetentionStore: Send + Sync {
    /// Expired records (`expires_at <= now`) in (expires_at, id) order, after `after`.
    fn expired_records(
        &self,
        tenant: Uuid,
        now: i64,
        after: Option<(i64, Uuid)>,
        limit: u32,
    ) -> impl Future<Output = StoreResult<Vec<ExpiredRecord>>> + Send;

    /// Deletes a batch in one transaction: each record only if it is still expired at `now`
    /// (an item with action `anonymise` is also added to `anonymised_counts`: rule, category,
    /// purposes, source and month of collection, nothing that names the subject),
    /// evidence for exactly the records deleted, subjects left empty erased (identifiers,
    /// subject row, erasure ledger) and queued for key shredding, and the audit entries.
    fn sweep_batch(
        &self,
        tenant: Uuid,
        now: i64,
        items: Vec<SweepItem>,
        audit: Vec<NewAuditEntry>,
    ) -> impl Future<Output = StoreResult<SweepOutcome>> + Send;

    /// The ids of up to `limit` expired records (`expires_at <= now`), read from the expiry
    /// index alone, in no particular order.
    fn expired_ids(
        &self,
        tenant: Uuid,
        now: i64,
        limit: u32,
    ) -> impl Future<Output = StoreResult<Vec<Uuid>>> + Send;

    /// A sweep batch when no legal hold is active (docs/decisions/0027), in one transaction:
    /// deletes those of `ids` still expired at `now` and returns what it deleted, with, as
    /// [`RetentionStore::sweep_batch`], counts for records whose rule is in
    /// `anonymise_rules`, evidence per (subject, rule, category, action), subjects left empty
    /// erased and queued for key shredding, and the entries `audit` makes of the number of
    /// records deleted and their count per rule (not called when nothing was deleted). Give the
    /// ids sorted: consecutive batches then rewrite disjoint pages of the table.
    fn sweep_ids<F>(
        &self,
        tenant: Uuid,
        now: i64,
        ids: &[Uuid],
        anonymise_rules: &BTreeSet<String>,
        audit: F,
    ) -> impl Future<Output = StoreResult<SweepOutcome>> + Send
    where
        F: FnOnce(u64, &BTreeMap<String, u64>) -> Vec<NewAuditEntry> + Send;

    /// Shreds the keys of subjects queued by sweeps (key store first, then the queue rows).
    /// Returns how many queued subjects were processed (0: the queue is empty).
    fn shred_pending_keys(&self, limit: u32) -> impl Future<Output = StoreResult<u64>> + Send;

    /// Records after `after` in id order with their subjects' facts and consents, `limit` at
    /// most: one keyset page of the tenant (a policy change recomputes every record), leaving
    /// out the records that [`RetentionStore::apply_expiry_class`] recomputes for the classes
    /// `except` (category, purposes as stored), i.e. those with anchors in range.
    fn calendar_page(
        &self,
        tenant: Uuid,
        after: Option<Uuid>,
        limit: u32,
        except: &[(String, String)],
    ) -> impl Future<Output = StoreResult<CalendarPage>> + Send;

    /// The distinct (category, purposes as stored) of the tenant's records, with how many
    /// records each has.
    fn record_classes(
        &self,
        tenant: Uuid,
    ) -> impl Future<Output = StoreResult<Vec<(String, String, u64)>>> + Send;

    /// Recomputes the stored expiry of every record of one class with anchors in
    /// [`CLASS_ANCHOR_MIN`, `CLASS_ANCHOR_MAX`) in one set-based `UPDATE` that writes only the
    /// rows whose (expires_at, retention_rule) change. Returns how many changed. `share` is
    /// the class's part of the tenant's records (from [`RetentionStore::record_classes`]): a
    /// large class is read by scanning the table, a small one through its index.
    fn apply_expiry_class(
        &self,
        tenant: Uuid,
        class: &ExpiryClass,
        share: f64,
    ) -> impl Future<Output = StoreResult<u64>> + Send;

    /// Sets the stored expiry of many records at once, by record id: `(id, expires_at, rule)`
    /// (set-based: a few statements per thousand records).
    fn set_expiries_bulk(
        &self,
        tenant: Uuid,
        updates: Vec<ExpiryUpdate>,
    ) -> impl Future<Output = StoreResult<()>> + Send;

    /// Sets the stored expiry of records: `(subject, id, expires_at, rule)`.
    fn set_expiries(
        &self,
        tenant: Uuid,
        updates: Vec<(Uuid, Uuid, Option<i64>, Option<String>)>,
    ) -> impl Future<Output = StoreResult<()>> + Send;

    /// Counts of records expiring in `(from, to]`, by rule and category.
    fn expiring_counts(
        &self,
        tenant: Uuid,
        from: i64,
        to: i64,
    ) -> impl Future<Output = StoreResult<Vec<(Option<String>, String, u64)>>> + Send;

    fn evidence_for_subject(
        &self,
        tenant: Uuid,
        subject: Uuid,
    ) -> impl Future<Output = StoreResult<Vec<EvidenceRow>>> + Send;
    /// The counts anonymised records left, ordered by rule and bucket.
    fn anonymised_counts(
        &self,
        tenant: Uuid,
    ) -> impl Future<Output = StoreResult<Vec<AnonymisedCount>>> + Send;
    /// Total records deleted according to the evidence (the sum of counts).
    fn evidence_total(&self, tenant: Uuid) -> impl Future<Output = StoreResult<u64>> + Send;

    fn create_hold(
        &self,
        row: LegalHoldRow,
        audit: Vec<NewAuditEntry>,
    ) -> impl Future<Output = StoreResult<()>> + Send;
    /// Holds of the tenant, newest first; released ones only if asked.
    fn list_holds(
        &self,
        tenant: Uuid,
        include_released: bool,
    ) -> impl Future<Output = StoreResult<Vec<LegalHoldRow>>> + Send;
    fn get_hold(
        &self,
        tenant: Uuid,
        id: Uuid,
    ) -> impl Future<Output = StoreResult<LegalHoldRow>> + Send;
    /// Releases an active hold; `NotFound` if there is none (or it was released already).
    fn release_hold(
        &self,
        tenant: Uuid,
        id: Uuid,
        at: i64,
        by: &str,
        reason: &str,
        audit: Vec<NewAuditEntry>,
    ) -> impl Future<Output = StoreResult<()>> + Send;
}
