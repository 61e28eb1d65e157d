//! Storage contract for policy versions, change notices and processor customers.
//!
//! A policy version is stored with the text it was parsed from, so every node (and a restart)
//! rebuilds the same set of versions and answers with the one in force at the request's time.
//! Publishing a version writes, in one transaction: the version, the consents it puts in need
//! of renewal, the fan-out job that queues the change notices, and the audit entry. The
//! fan-out then writes notices page by page; a notice's primary key is (version, subject), so
//! a job that crashed and runs again never queues a second notice for anyone.

use std::future::Future;

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::StoreResult;
use crate::jobs::JobRow;
use crate::model::NewAuditEntry;

/// One stored policy version.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PolicyVersionRow {
    pub tenant_id: Uuid,
    pub id: Uuid,
    /// SHA-256 of the policy text, hex.
    pub content_hash: String,
    /// The policy text (TOML) itself.
    pub source: String,
    pub published_at: i64,
    pub effective_at: i64,
    /// `initial`, `unchanged`, `editorial` or `material`.
    pub class: String,
    /// JSON array of the diff's changes against the version it replaces.
    pub changes: String,
    /// JSON array of consent scope ids whose consents need renewal from `effective_at`.
    pub renewal_scopes: String,
    /// JSON array of subject type ids told in advance.
    pub notice_types: String,
    /// Pseudonymous actor (token id, `system`, `cli`).
    pub published_by: String,
}

/// Consents to mark "renewal needed" when a version is published: every standing consent in
/// one of `scopes` whose last event is older than `before`, from `due_at` on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RenewalMark {
    pub scopes: Vec<String>,
    pub before: i64,
    pub due_at: i64,
}

/// A subject the fan-out tells, with its email identifier (sealed with the subject key) if any.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FanoutSubject {
    pub subject_id: Uuid,
    /// `(identifier id, value ciphertext)` of one email identifier.
    pub email: Option<(Uuid, Vec<u8>)>,
}

/// One queued change notice.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NoticeRow {
    pub subject_id: Uuid,
    /// `email` or `website`.
    pub channel: String,
    /// The outbox message carrying it (`email`).
    pub outbox_id: Option<Uuid>,
}

/// A subject's change notice: (version, channel, queued at, delivered at).
pub type SubjectNotice = (Uuid, String, i64, Option<i64>);

/// Where a fan-out got to.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct FanoutProgress {
    pub after_id: Option<Uuid>,
    pub queued: i64,
    pub finished_at: Option<i64>,
}

/// Counts of one version's notices.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct NoticeCounts {
    pub queued: i64,
    pub email: i64,
    pub website: i64,
    pub delivered: i64,
}

/// A customer for whom the operator is a processor.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProcessorCustomerRow {
    pub tenant_id: Uuid,
    pub id: Uuid,
    pub name: String,
    /// `YYYY-MM-DD`.
    pub dpa_signed_on: String,
    pub dpa_ref: Option<String>,
    /// The notice address, sealed by the vault.
    pub contact_ct: Vec<u8>,
    pub objection_days: i64,
    pub created_at: i64,
}

/// Advance notice of a new sub-processor to one customer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SubprocessorNoticeRow {
    pub tenant_id: Uuid,
    pub version_id: Uuid,
    pub customer_id: Uuid,
    pub recipient: String,
    pub queued_at: i64,
    pub objection_until: i64,
    /// The email carrying the notice (written with it).
    pub outbox_id: Option<Uuid>,
    /// When that email was delivered (read only: from the outbox).
    pub delivered_at: Option<i64>,
}

/// What a sub-processor addition writes with its policy version, in the same transaction.
#[derive(Debug, Clone, Default)]
pub struct SubprocessorAnnouncement {
    pub notices: Vec<SubprocessorNoticeRow>,
    /// The notices' emails (sealed; one per notice with an address).
    pub mail: Vec<crate::outbox::NewOutboxMessage>,
}

/// A customer's objection to a new sub-processor.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SubprocessorObjectionRow {
    pub tenant_id: Uuid,
    pub id: Uuid,
    pub customer_id: Uuid,
    pub version_id: Uuid,
    pub recipient: String,
    pub reason: String,
    pub at: i64,
    pub recorded_by: String,
}

pub trait PolicyVersionStore: Send + Sync {
    /// Stores a version; marks consents for renewal and queues `job` (the fan-out), the
    /// sub-processor notices and their mail (`announce`) and `audit` in the same transaction.
    fn publish_policy_version(
        &self,
        row: PolicyVersionRow,
        renewal: Option<RenewalMark>,
        job: Option<JobRow>,
        announce: SubprocessorAnnouncement,
        audit: Vec<NewAuditEntry>,
    ) -> impl Future<Output = StoreResult<()>> + Send;
    /// Every version of the tenant, by effective time then publication time.
    fn policy_versions(
        &self,
        tenant: Uuid,
    ) -> impl Future<Output = StoreResult<Vec<PolicyVersionRow>>> + Send;
    /// Subjects of `types` after `after`, in id order, with one email identifier each.
    fn fanout_subjects(
        &self,
        tenant: Uuid,
        types: &[String],
        after: Option<Uuid>,
        limit: u32,
    ) -> impl Future<Output = StoreResult<Vec<FanoutSubject>>> + Send;
    fn fanout_progress(
        &self,
        tenant: Uuid,
        version: Uuid,
    ) -> impl Future<Output = StoreResult<FanoutProgress>> + Send;
    /// Queues one page of notices (existing ones are kept as they are), their outbox mail
    /// (deduplicated by key) and moves the fan-out's cursor to `after`, in one transaction.
    /// Returns how many notices were new.
    #[allow(clippy::too_many_arguments)]
    fn queue_notices(
        &self,
        tenant: Uuid,
        version: Uuid,
        notices: Vec<NoticeRow>,
        mail: Vec<crate::outbox::NewOutboxMessage>,
        after: Option<Uuid>,
        finished: bool,
        now: i64,
    ) -> impl Future<Output = StoreResult<u64>> + Send;
    fn notice_counts(
        &self,
        tenant: Uuid,
        version: Uuid,
    ) -> impl Future<Output = StoreResult<NoticeCounts>> + Send;
    /// Wrapped keys of the subjects in the id range `(after, last]` (the fan-out's page).
    fn subject_keys_in_range(
        &self,
        tenant: Uuid,
        after: Option<Uuid>,
        last: Uuid,
    ) -> impl Future<Output = StoreResult<Vec<crate::model::SubjectKeyRow>>> + Send;
    /// The versions of the change notices queued for one subject: (version, channel, queued
    /// at, delivered at — when its mail was sent).
    fn notices_of_subject(
        &self,
        tenant: Uuid,
        subject: Uuid,
    ) -> impl Future<Output = StoreResult<Vec<SubjectNotice>>> + Send;

    // ---- processor customers ----

    fn add_processor_customer(
        &self,
        row: ProcessorCustomerRow,
        audit: Vec<NewAuditEntry>,
    ) -> impl Future<Output = StoreResult<()>> + Send;
    fn processor_customers(
        &self,
        tenant: Uuid,
    ) -> impl Future<Output = StoreResult<Vec<ProcessorCustomerRow>>> + Send;
    fn add_subprocessor_notices(
        &self,
        rows: Vec<SubprocessorNoticeRow>,
    ) -> impl Future<Output = StoreResult<u64>> + Send;
    fn subprocessor_notices(
        &self,
        tenant: Uuid,
        customer: Option<Uuid>,
    ) -> impl Future<Output = StoreResult<Vec<SubprocessorNoticeRow>>> + Send;
    /// `Conflict` if the customer already objected to this sub-processor.
    fn add_subprocessor_objection(
        &self,
        row: SubprocessorObjectionRow,
        audit: Vec<NewAuditEntry>,
    ) -> impl Future<Output = StoreResult<()>> + Send;
    fn subprocessor_objections(
        &self,
        tenant: Uuid,
    ) -> impl Future<Output = StoreResult<Vec<SubprocessorObjectionRow>>> + Send;
}
