//! Data-subject requests: the storage contract.
//!
//! A request row keeps in the clear only what the admin list sorts and filters on (state,
//! rights, deadlines, channel, language) and ids; the requester's identifiers and every free
//! text (reasons, decisions) live in `case_ct`, sealed by the vault. The history of a request
//! is an append-only table of transitions (actor, action, states; no free text).
//!
//! Every change is one transaction: the row (insert, or update guarded by `version`), its
//! history entry, its verification artefacts, the jobs it schedules, its letters (outbox) and
//! the audit entries.

use std::future::Future;

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::StoreResult;
use crate::jobs::JobRow;
use crate::model::NewAuditEntry;
use crate::outbox::NewOutboxMessage;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RequestRow {
    pub tenant_id: Uuid,
    pub id: Uuid,
    /// Human reference (`DSR-…`), unique per tenant.
    pub reference: String,
    pub state: String,
    /// Right names, sorted.
    pub rights: Vec<String>,
    pub channel: String,
    pub lang: String,
    /// The subject the requester was matched to, once known.
    pub subject_id: Option<Uuid>,
    /// Sealed JSON: requester identifiers, reasons, decisions.
    pub case_ct: Vec<u8>,
    pub received_at: i64,
    /// Local dates, `YYYY-MM-DD` (they sort as text).
    pub received_on: String,
    pub due_initial: String,
    pub due_max: String,
    pub due: String,
    /// The actor that submitted it (`token:<id>`).
    pub created_by: String,
    /// `Idempotency-Key` of the submission, unique per (tenant, created_by).
    pub idem_key: Option<String>,
    pub idem_digest: Option<Vec<u8>>,
    /// Keyed blind index of the requester's email (per-address rate limit).
    pub requester_index: Option<Vec<u8>>,
    pub closed_at: Option<i64>,
    pub updated_at: i64,
    /// Optimistic concurrency: each update bumps it.
    pub version: i64,
}

/// One transition in a request's history. No personal data, no free text.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RequestEventRow {
    pub tenant_id: Uuid,
    pub id: Uuid,
    pub request_id: Uuid,
    pub at: i64,
    pub actor: String,
    pub action: String,
    pub from_state: Option<String>,
    pub to_state: String,
}

/// A one-time verification link and code. Deleted once used, replaced or spent.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VerificationRow {
    pub tenant_id: Uuid,
    pub id: Uuid,
    pub request_id: Uuid,
    /// SHA-256 of the link token (256 random bits).
    pub token_hash: Vec<u8>,
    /// Keyed digest of the code.
    pub code_digest: Vec<u8>,
    pub expires_at: i64,
    pub attempts: i64,
    pub created_at: i64,
}

/// A change to a request, written in one transaction.
#[derive(Debug, Clone)]
pub struct RequestChange {
    /// The row as it must be after the change.
    pub row: RequestRow,
    /// `None` inserts; `Some(v)` updates only if the stored version is still `v`.
    pub expected_version: Option<i64>,
    pub event: RequestEventRow,
    /// Deletes the request's verification artefacts first (used, replaced or spent).
    pub clear_verifications: bool,
    pub verification: Option<VerificationRow>,
    /// Jobs to queue (reminders); a taken `unique_key` is skipped.
    pub jobs: Vec<JobRow>,
    /// Letters caused by the change, queued in the outbox in the same transaction.
    pub mail: Vec<NewOutboxMessage>,
    pub audit: Vec<NewAuditEntry>,
    /// The artefacts of a completed access or portability request, behind a download link.
    pub download: Option<DownloadRow>,
    /// A new link for an existing download (`id`, token hash): a resent closing letter
    /// carries a fresh link, and the old one stops working.
    pub reissue_download: Option<(Uuid, Vec<u8>)>,
}

/// The sealed artefacts of a completed request behind an expiring download link.
#[derive(Clone, PartialEq, Eq)]
pub struct DownloadRow {
    pub tenant_id: Uuid,
    pub id: Uuid,
    pub request_id: Uuid,
    /// `None` when the same request erased the subject.
    pub subject_id: Option<Uuid>,
    /// SHA-256 of the link's token.
    pub token_hash: Vec<u8>,
    pub lang: String,
    /// Sealed access report as HTML, JSON and CSV (access requests).
    pub html_ct: Option<Vec<u8>>,
    pub json_ct: Option<Vec<u8>>,
    pub csv_ct: Option<Vec<u8>>,
    /// Sealed portability ZIP (portability requests).
    pub zip_ct: Option<Vec<u8>>,
    pub expires_at: i64,
    pub max_downloads: i64,
    /// Downloads so far (counted when taken).
    pub downloads: i64,
    pub created_at: i64,
}

impl std::fmt::Debug for DownloadRow {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DownloadRow")
            .field("id", &self.id)
            .field("request_id", &self.request_id)
            .field("expires_at", &self.expires_at)
            .field("downloads", &self.downloads)
            .finish_non_exhaustive()
    }
}

/// An Art. 19 task: tell a recipient that received a subject's data of a rectification,
/// erasure or restriction. No personal data (recipient ids come from the policy).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecipientTaskRow {
    pub tenant_id: Uuid,
    pub id: Uuid,
    pub subject_id: Uuid,
    pub request_id: Option<Uuid>,
    /// `rectification`, `erasure`, `restriction` or `restriction_lifted`.
    pub action: String,
    pub recipient: String,
    pub categories: Vec<String>,
    /// `open` or `done`.
    pub state: String,
    pub created_at: i64,
    pub closed_at: Option<i64>,
    pub closed_by: Option<String>,
    /// How the recipient was told (`email`, `api`, `letter`, `other`).
    pub method: Option<String>,
}

/// Admin list filter and keyset position.
#[derive(Debug, Clone, Default)]
pub struct RequestFilter {
    pub state: Option<String>,
    pub right: Option<String>,
    /// Open requests only (not closed).
    pub open_only: bool,
    /// Keyset: after this (due, id).
    pub after: Option<(String, Uuid)>,
    pub limit: u32,
}

pub trait RequestStore: Send + Sync {
    /// Inserts a new request. With an idempotency key already used by the same submitter, the
    /// stored request is returned instead and nothing is written.
    fn insert_request(
        &self,
        change: RequestChange,
    ) -> impl Future<Output = StoreResult<Option<RequestRow>>> + Send;
    /// Applies a change to an existing request; `Conflict` if it changed in between.
    fn update_request(&self, change: RequestChange)
    -> impl Future<Output = StoreResult<()>> + Send;
    fn get_request(
        &self,
        tenant: Uuid,
        id: Uuid,
    ) -> impl Future<Output = StoreResult<RequestRow>> + Send;
    /// By deadline (then id), filtered.
    fn list_requests(
        &self,
        tenant: Uuid,
        filter: RequestFilter,
    ) -> impl Future<Output = StoreResult<Vec<RequestRow>>> + Send;
    fn request_events(
        &self,
        tenant: Uuid,
        request: Uuid,
    ) -> impl Future<Output = StoreResult<Vec<RequestEventRow>>> + Send;
    /// How many history entries of `action` the request got since `since` (rate limits).
    fn count_request_events_since(
        &self,
        tenant: Uuid,
        request: Uuid,
        action: &str,
        since: i64,
    ) -> impl Future<Output = StoreResult<u64>> + Send;
    /// The verification with this token hash, if any.
    fn find_verification(
        &self,
        token_hash: &[u8],
    ) -> impl Future<Output = StoreResult<Option<VerificationRow>>> + Send;
    /// Counts one failed code attempt; returns the attempts so far.
    fn add_verification_attempt(
        &self,
        tenant: Uuid,
        id: Uuid,
    ) -> impl Future<Output = StoreResult<i64>> + Send;
    /// Requests from the address with this blind index received since `since`.
    fn count_requests_from(
        &self,
        tenant: Uuid,
        requester_index: &[u8],
        since: i64,
    ) -> impl Future<Output = StoreResult<u64>> + Send;
    /// Number of requests of the tenant (tests and metrics).
    fn count_requests(&self, tenant: Uuid) -> impl Future<Output = StoreResult<u64>> + Send;
    /// Takes one download of the link with this token hash: counts it and returns the row if
    /// the link exists, has not expired at `now` and has downloads left; `None` otherwise
    /// (one answer for unknown, expired and used up).
    fn take_download(
        &self,
        token_hash: &[u8],
        now: i64,
    ) -> impl Future<Output = StoreResult<Option<DownloadRow>>> + Send;
    /// The expiry and the downloads left of a download that can still be taken at `now`.
    fn live_download(
        &self,
        tenant: Uuid,
        id: Uuid,
        now: i64,
    ) -> impl Future<Output = StoreResult<Option<(i64, i64)>>> + Send;
    /// Deletes a download (expiry job); `false` if it was gone already.
    fn delete_download(
        &self,
        tenant: Uuid,
        id: Uuid,
    ) -> impl Future<Output = StoreResult<bool>> + Send;
    /// Deletes every download expired at `now` (the safety net behind the per-link jobs).
    fn delete_expired_downloads(&self, now: i64) -> impl Future<Output = StoreResult<u64>> + Send;
    /// Ids of the subject's downloads (tests: none after an erasure).
    fn downloads_of_subject(
        &self,
        tenant: Uuid,
        subject: Uuid,
    ) -> impl Future<Output = StoreResult<Vec<Uuid>>> + Send;
    /// Stores Art. 19 tasks with their audit entries, in one transaction.
    fn insert_recipient_tasks(
        &self,
        tasks: Vec<RecipientTaskRow>,
        audit: Vec<NewAuditEntry>,
    ) -> impl Future<Output = StoreResult<()>> + Send;
    /// Tasks by creation time, optionally in one state, after the keyset `(created_at, id)`.
    fn list_recipient_tasks(
        &self,
        tenant: Uuid,
        state: Option<String>,
        after: Option<(i64, Uuid)>,
        limit: u32,
    ) -> impl Future<Output = StoreResult<Vec<RecipientTaskRow>>> + Send;
    fn get_recipient_task(
        &self,
        tenant: Uuid,
        id: Uuid,
    ) -> impl Future<Output = StoreResult<RecipientTaskRow>> + Send;
    /// Closes an open task; `Conflict` if it is closed already, `NotFound` if unknown.
    fn close_recipient_task(
        &self,
        tenant: Uuid,
        id: Uuid,
        closed_at: i64,
        closed_by: &str,
        method: &str,
        audit: Vec<NewAuditEntry>,
    ) -> impl Future<Output = StoreResult<()>> + Send;
}
