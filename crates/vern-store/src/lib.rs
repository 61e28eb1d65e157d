//! vern's storage layer: the [`Store`] trait, its SQL implementation for SQLite (embedded
//! default) and PostgreSQL (production, several nodes), migrations for both, and a conformance
//! suite that runs the same tests against either.
//!
//! The store persists what `vern-core` decided; it never decides policy questions. It holds
//! only ciphertext and keyed blind indexes of personal data: encryption happens above it. The
//! wrapped subject keys live in a separate key store (a separate SQLite file, or the
//! `vern_keys` schema on PostgreSQL) so they can be backed up, and expire, separately.
//!
//! Portable SQL rules: ids are app-generated UUIDv7 stored as 16-byte blobs; times are passed in
//! from the application as Unix microseconds (`BIGINT`), never `now()`; `$n` parameters; upserts
//! with `ON CONFLICT`; keyset pagination. Every per-subject table has `tenant_id`.
//!
//! - [`SqlStore`]: the implementation, one code path for both backends (sqlx `Any`), chosen
//!   from the URL ([`Backend`]); its docs say what it guarantees (durability, locking).
//! - [`audit_chain`]: the audit log's hash chain as pure functions, for verifying exports.
//! - [`consent`]: the consent ledger (hash-chained), objections, restriction, suppression.
//! - [`decision_log`]: the decision audit, blocks of compact decisions.
//! - [`events`]: behavioural events admitted for profiling, and drop counts.
//! - `testsuite` (feature `testsuite`): the conformance scenarios every `Store` must pass.

pub mod audit_chain;
pub mod changes;
pub mod consent;
pub mod decision_log;
pub mod disclosures;
pub mod erasure;
pub mod events;
pub mod import;
pub mod jobs;
pub mod model;
pub mod outbox;
pub mod policy_versions;
pub mod requests;
pub mod retention;
mod sql;
#[cfg(feature = "testsuite")]
pub mod testsuite;

pub use audit_chain::{BreakReason, ChainBreak};
pub use changes::{ChangeLog, SubjectChange};
pub use consent::ConsentStore;
pub use decision_log::{DecisionBlockRow, DecisionLogStore};
pub use disclosures::{DisclosureRow, DisclosureStore};
pub use erasure::{ErasureStore, Keep, PartialErasure, Rekey, Resealed, SettledSuccessors};
pub use events::EventStore;
pub use import::{ImportProgress, ImportStore};
pub use jobs::{JobRow, JobStore};
pub use model::*;
pub use outbox::{
    MAIL_MAX_ATTEMPTS, MAIL_SEND_JOB, NewOutboxMessage, OutboxRow, OutboxStore, outbox_state,
};
pub use policy_versions::{
    FanoutProgress, FanoutSubject, NoticeCounts, NoticeRow, PolicyVersionRow, PolicyVersionStore,
    ProcessorCustomerRow, RenewalMark, SubprocessorAnnouncement, SubprocessorNoticeRow,
    SubprocessorObjectionRow,
};
pub use requests::{
    DownloadRow, RecipientTaskRow, RequestChange, RequestEventRow, RequestFilter, RequestRow,
    RequestStore, VerificationRow,
};
pub use retention::{
    AnonymisedCount, CLASS_ANCHOR_MAX, CLASS_ANCHOR_MIN, CalendarPage, CalendarRow, ClassAnchor,
    ClassRule, ClassUnit, EvidenceRow, ExpiredRecord, ExpiryClass, ExpiryUpdate, LegalHoldRow,
    RetentionStore, SweepItem, SweepOutcome,
};
pub use sql::{Backend, SqlStore, SqliteBackup, migration_versions};

use std::future::Future;

use uuid::Uuid;

/// Errors from the store. Constraint violations are told apart so callers can answer 409.
#[derive(Debug, Clone, thiserror::Error)]
pub enum StoreError {
    #[error("not found")]
    NotFound,
    #[error("conflict: {0}")]
    Conflict(String),
    #[error("the database refused: {0}")]
    Refused(String),
    #[error("unsupported database URL {0:?}: use sqlite://PATH or postgres://…")]
    UnsupportedUrl(String),
    #[error("database error: {0}")]
    Database(String),
    #[error("migration failed: {0}")]
    Migration(String),
    #[error("I/O error: {0}")]
    Io(String),
}

pub type StoreResult<T> = Result<T, StoreError>;

/// Everything vern persists. Implementations must make each method atomic: after a crash,
/// either all of its writes are there or none.
///
/// Subject keys live in the key store; a method that writes both writes the key first, so a
/// crash can leave an unused key (harmless, swept later) but never data without its key.
pub trait Store: Send + Sync {
    /// Applies pending migrations to the data and key stores.
    fn migrate(&self) -> impl Future<Output = StoreResult<()>> + Send;
    /// Cheap liveness query for `/readyz`.
    fn ping(&self) -> impl Future<Output = StoreResult<()>> + Send;

    // ---- subjects, identifiers, records ----

    /// Stores a new subject with its wrapped key, identifiers, records and the audit entries
    /// describing the write, in one transaction (after the key).
    fn create_subject(&self, new: NewSubject) -> impl Future<Output = StoreResult<()>> + Send;
    fn get_subject(
        &self,
        tenant: Uuid,
        id: Uuid,
    ) -> impl Future<Output = StoreResult<SubjectRow>> + Send;
    /// Keyset page ordered by id (UUIDv7: creation order), after `after` if given.
    fn list_subjects(
        &self,
        tenant: Uuid,
        after: Option<Uuid>,
        limit: u32,
    ) -> impl Future<Output = StoreResult<Vec<SubjectRow>>> + Send;
    fn update_subject(
        &self,
        row: SubjectRow,
        audit: Vec<NewAuditEntry>,
    ) -> impl Future<Output = StoreResult<()>> + Send;
    /// Erasure: destroys the subject key, deletes identifiers, records and the subject, and
    /// appends the subject to the erasure ledger, so a restore can replay it.
    fn erase_subject(
        &self,
        tenant: Uuid,
        id: Uuid,
        at: i64,
        audit: Vec<NewAuditEntry>,
    ) -> impl Future<Output = StoreResult<()>> + Send;

    fn add_identifier(
        &self,
        row: IdentifierRow,
        audit: Vec<NewAuditEntry>,
    ) -> impl Future<Output = StoreResult<()>> + Send;
    fn list_identifiers(
        &self,
        tenant: Uuid,
        subject: Uuid,
    ) -> impl Future<Output = StoreResult<Vec<IdentifierRow>>> + Send;
    fn delete_identifier(
        &self,
        tenant: Uuid,
        subject: Uuid,
        id: Uuid,
        audit: Vec<NewAuditEntry>,
    ) -> impl Future<Output = StoreResult<()>> + Send;
    /// The subject owning an identifier, found by kind and keyed blind index only.
    fn find_by_blind_index(
        &self,
        tenant: Uuid,
        kind: &str,
        blind_index: &[u8],
    ) -> impl Future<Output = StoreResult<Option<Uuid>>> + Send;

    fn add_record(
        &self,
        row: RecordRow,
        audit: Vec<NewAuditEntry>,
    ) -> impl Future<Output = StoreResult<()>> + Send;
    fn get_record(
        &self,
        tenant: Uuid,
        subject: Uuid,
        id: Uuid,
    ) -> impl Future<Output = StoreResult<RecordRow>> + Send;
    fn list_records(
        &self,
        tenant: Uuid,
        subject: Uuid,
    ) -> impl Future<Output = StoreResult<Vec<RecordRow>>> + Send;
    fn update_record(
        &self,
        row: RecordRow,
        audit: Vec<NewAuditEntry>,
    ) -> impl Future<Output = StoreResult<()>> + Send;
    fn delete_record(
        &self,
        tenant: Uuid,
        subject: Uuid,
        id: Uuid,
        audit: Vec<NewAuditEntry>,
    ) -> impl Future<Output = StoreResult<()>> + Send;

    /// Bulk import: many subjects in one transaction (keys first, in one key-store
    /// transaction). All or nothing.
    fn import_batch(&self, batch: Vec<NewSubject>) -> impl Future<Output = StoreResult<()>> + Send;

    // ---- keys ----

    fn get_subject_key(
        &self,
        tenant: Uuid,
        subject: Uuid,
    ) -> impl Future<Output = StoreResult<SubjectKeyRow>> + Send;
    /// Keys wrapped under a key-encryption key other than `current_kek_id`, a page at a time.
    fn keys_not_wrapped_by(
        &self,
        current_kek_id: &[u8],
        limit: u32,
    ) -> impl Future<Output = StoreResult<Vec<SubjectKeyRow>>> + Send;
    /// Replaces wrapped keys (rotation), only where the row still has the old `kek_id`.
    fn rewrap_keys(
        &self,
        rows: Vec<SubjectKeyRow>,
        old_kek_id: &[u8],
    ) -> impl Future<Output = StoreResult<u64>> + Send;
    /// Named keys held in the key store (e.g. the blind-index key), wrapped by the KEK.
    fn get_keyring_entry(
        &self,
        name: &str,
    ) -> impl Future<Output = StoreResult<Option<KeyringRow>>> + Send;
    /// Inserts a keyring entry unless one exists; returns the stored one.
    fn put_keyring_entry_if_absent(
        &self,
        row: KeyringRow,
    ) -> impl Future<Output = StoreResult<KeyringRow>> + Send;
    fn update_keyring_entry(
        &self,
        row: KeyringRow,
        old_kek_id: &[u8],
    ) -> impl Future<Output = StoreResult<()>> + Send;

    // ---- audit ----

    /// Appends entries to the tenant's hash chain in one transaction.
    fn append_audit(
        &self,
        entries: Vec<NewAuditEntry>,
    ) -> impl Future<Output = StoreResult<()>> + Send;
    /// A page of the chain in order, from sequence number `from` (inclusive).
    fn read_audit(
        &self,
        tenant: Uuid,
        from: i64,
        limit: u32,
    ) -> impl Future<Output = StoreResult<Vec<AuditRow>>> + Send;

    // ---- tokens ----

    fn create_token(
        &self,
        row: TokenRow,
        audit: Vec<NewAuditEntry>,
    ) -> impl Future<Output = StoreResult<()>> + Send;
    fn find_token_by_hash(
        &self,
        hash: &[u8],
    ) -> impl Future<Output = StoreResult<Option<TokenRow>>> + Send;
    fn list_tokens(&self, tenant: Uuid) -> impl Future<Output = StoreResult<Vec<TokenRow>>> + Send;
    fn revoke_token(
        &self,
        tenant: Uuid,
        id: Uuid,
        at: i64,
        audit: Vec<NewAuditEntry>,
    ) -> impl Future<Output = StoreResult<()>> + Send;
    fn count_tokens(&self) -> impl Future<Output = StoreResult<u64>> + Send;

    // ---- idempotency ----

    /// Looks up a stored response for (tenant, token, key).
    fn get_idempotent(
        &self,
        tenant: Uuid,
        token: Uuid,
        key: &str,
    ) -> impl Future<Output = StoreResult<Option<IdempotencyRow>>> + Send;
    fn put_idempotent(&self, row: IdempotencyRow) -> impl Future<Output = StoreResult<()>> + Send;

    // ---- erasure ledger ----

    fn erased_subjects(&self, tenant: Uuid) -> impl Future<Output = StoreResult<Vec<Uuid>>> + Send;
}
