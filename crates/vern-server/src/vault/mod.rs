//! The vault: the one place where personal data is encrypted, indexed, checked against the
//! policy and audited on its way to and from the store.
//!
//! Handlers and the CLI call the vault with a [`Principal`] (an actor and the policy role it
//! acts in); the vault decides nothing about the policy itself but asks `vern-core`
//! (`check_record`, `role_can`, …) and persists what was decided, always together with the
//! audit entries that describe it, in one store call. Reads are audited after decryption and
//! before the data is returned, so an unaudited read cannot leave the vault: if the audit append
//! fails, the read fails.
//!
//! Keys: each subject's data key is unwrapped from the key store for the operation at hand and
//! dropped (and zeroed) when it returns. There is deliberately no long-lived cache of plaintext
//! keys: erasure must take effect at once, and a process dump must not hold every subject's key.

mod access_report;
pub mod cache;
mod consent;
mod consent_types;
mod decision_log;
mod decisions;
mod disclosures;
mod erasure;
mod events;
mod identifiers;
mod jobs;
mod keyring;
mod keys;
mod objections;
mod outbox;
mod policy_versions;
pub mod policy_versions_types;
mod portability;
mod receipts;
mod records;
mod rectification;
mod requests;
pub mod requests_types;
mod retention;
mod retention_forecast;
pub mod retention_types;
mod subjects;
mod subprocessors;
mod tokens;
pub mod types;
mod web;

use std::sync::Arc;

use serde_json::json;
use uuid::Uuid;
use vern_core::access::{self, Permission};
use vern_core::crypto::{
    BlindIndexKey, CryptoError, MasterKey, OutboxKey, ReceiptSigningKey, SubjectKey,
};
use vern_core::ids::{Clock, DEFAULT_TENANT, from_micros, new_id, to_micros};
use vern_policy::Policy;
use vern_store::{NewAuditEntry, SqlStore, Store, StoreError, SubjectKeyRow};

use crate::error::FieldError;

pub use access_report::*;
pub use consent::ExpirySweep;
pub use consent_types::*;
pub use decision_log::{DecisionRecord, split_decision_id};
pub use decisions::{
    BodyStr, BulkDecisions, BulkIdentifier, BulkItem, Decided, DecidedChunk, MAX_BULK_DECISIONS,
};
pub use disclosures::{DisclosureInput, DisclosureReceipt, DisclosureView, LegalDecisionInput};
pub use erasure::{ERASURE_REQUEST_RULE, ErasureOutcome, KeptItem, RecipientToNotify};
pub use events::{EventBatch, EventInput, IngestSummary, MAX_EVENTS_PER_BATCH, ProfileView};
pub use jobs::JobView;
pub use outbox::{MailView, OutboxView};
pub use policy_versions::{KIND_POLICY_NOTICES, NOTICE_BATCH, PolicySet};
pub use policy_versions_types::*;
pub use portability::{PORTABILITY_SCHEMA, dpv_basis, dpv_category, dpv_purpose};
pub use receipts::RECEIPT_KEYRING_ENTRY;
pub use rectification::{Rectification, RectificationOutcome};
pub use requests::{
    DSR_KEYRING_ENTRY, Download, DownloadFormat, DsrSettings, FulfilInput,
    KIND_DSR_DOWNLOAD_EXPIRY, KIND_DSR_REMINDER, RecipientTaskPage, RecipientTaskView,
    RectificationItem, RequestOidc, RestrictionChoice, TaskClose, closing_action,
};
pub use requests_types::*;
pub use retention::SWEEP_BATCH;
pub use retention_types::*;
pub use types::*;
pub use web::AuditEntryView;

/// Name of the blind-index key in the key store's keyring.
pub const BLIND_INDEX_KEYRING_ENTRY: &str = "blind_index";
/// Name of the outbox key in the key store's keyring.
pub const OUTBOX_KEYRING_ENTRY: &str = "outbox";

/// Why a vault operation did not happen. Messages carry ids and rule names only.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum VaultError {
    /// The input breaks the policy or the schema; nothing was stored.
    #[error("{} invalid field(s)", .0.len())]
    Validation(Vec<FieldError>),
    /// The role may not do this (or not with this category).
    #[error("forbidden: {0}")]
    Forbidden(String),
    /// The named kind of thing does not exist (or was erased).
    #[error("no such {0}")]
    NotFound(&'static str),
    #[error("conflict: {0}")]
    Conflict(String),
    /// Too many attempts in a window; try later.
    #[error("rate limited: {0}")]
    RateLimited(String),
    /// Something vern depends on (a token issuer) cannot be reached; try again later.
    #[error("unavailable: {0}")]
    Unavailable(String),
    /// A fault of the server or the database; the text is for logs, not for clients.
    #[error("internal: {0}")]
    Internal(String),
}

impl VaultError {
    pub(crate) fn field(
        field: impl Into<String>,
        code: impl Into<String>,
        reason: impl Into<String>,
    ) -> Self {
        VaultError::Validation(vec![FieldError::new(field, code, reason)])
    }

    /// Maps a store error where `NotFound` means "no such `what`".
    pub(crate) fn store(what: &'static str) -> impl Fn(StoreError) -> VaultError {
        move |e| match e {
            StoreError::NotFound => VaultError::NotFound(what),
            StoreError::Conflict(_) => {
                VaultError::Conflict(format!("the {what} conflicts with stored data"))
            }
            other => VaultError::Internal(other.to_string()),
        }
    }
}

impl From<CryptoError> for VaultError {
    fn from(e: CryptoError) -> Self {
        VaultError::Internal(format!("crypto: {e}"))
    }
}

pub type VaultResult<T> = Result<T, VaultError>;

/// See the module documentation.
pub struct Vault {
    store: SqlStore,
    /// Every stored policy version, each with its compiled retention plan; the one in force at
    /// the vault's `now` answers (see `policy_versions`). Swapped whole on publish/refresh.
    versions: std::sync::RwLock<Arc<PolicySet>>,
    fallback: Arc<policy_versions::ActiveVersion>,
    master: MasterKey,
    /// Earlier master keys, to unwrap keys that rotation has not reached yet.
    previous: Vec<MasterKey>,
    blind: BlindIndexKey,
    /// Signs consent receipts.
    receipts: ReceiptSigningKey,
    /// Seals queued mail.
    outbox: OutboxKey,
    clock: Arc<dyn Clock>,
    tenant: Uuid,
    /// Seals data-subject request case files (see `requests`).
    dsr_key: requests::DsrCaseKey,
    /// Base URL of links in letters (`https://vern.example.com`).
    public_url: std::sync::RwLock<String>,
    /// Download links, staff address of the request workflow.
    dsr_settings: std::sync::RwLock<requests::DsrSettings>,
    /// Trusted token issuers for request verification (method (b)).
    request_oidc: std::sync::RwLock<Option<Arc<requests::RequestOidc>>>,
    /// Decision state per subject; answers only while [`Vault::cache_poller`] keeps it fresh.
    cache: Arc<cache::DecisionCache>,
    /// Decisions made on this node, written behind the answers (decision 0017).
    decision_log: Arc<decision_log::DecisionLog>,
}

impl std::fmt::Debug for Vault {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Vault")
            .field("tenant", &self.tenant)
            .finish_non_exhaustive()
    }
}

/// How old a successor key no partial erasure names must be before a starting node takes it
/// for the leftover of a failed erasure rather than one running on another node.
const SUCCESSOR_STALE_MICROS: i64 = 10 * 60 * 1_000_000;

impl Vault {
    /// Opens the vault over a migrated store: loads the blind-index key from the keyring, or
    /// creates it on first start. Two processes starting at once agree on one key, because the
    /// keyring insert keeps whichever row was stored first.
    ///
    /// The given policy becomes a stored version if no stored version has its text (see
    /// `policy_versions::load_or_record`); the version in force answers every request.
    pub async fn open(
        store: SqlStore,
        policy: Arc<Policy>,
        master: MasterKey,
        previous: Vec<MasterKey>,
        clock: Arc<dyn Clock>,
    ) -> VaultResult<Vault> {
        Self::open_inner(store, policy, master, previous, clock, true).await
    }

    /// Like [`Vault::open`], but the given policy is only recorded into an empty store: the
    /// stored versions are used as they are (for `vern policy publish`, which must not put the
    /// configured file in force on the way).
    pub async fn open_stored(
        store: SqlStore,
        policy: Arc<Policy>,
        master: MasterKey,
        previous: Vec<MasterKey>,
        clock: Arc<dyn Clock>,
    ) -> VaultResult<Vault> {
        Self::open_inner(store, policy, master, previous, clock, false).await
    }

    async fn open_inner(
        store: SqlStore,
        policy: Arc<Policy>,
        master: MasterKey,
        previous: Vec<MasterKey>,
        clock: Arc<dyn Clock>,
        record: bool,
    ) -> VaultResult<Vault> {
        let blind: BlindIndexKey = keyring::load(&store, &master, &previous, clock.now()).await?;
        let receipts: ReceiptSigningKey =
            keyring::load(&store, &master, &previous, clock.now()).await?;
        let outbox: OutboxKey = keyring::load(&store, &master, &previous, clock.now()).await?;
        let dsr_key: requests::DsrCaseKey =
            keyring::load(&store, &master, &previous, clock.now()).await?;
        // A node that stopped between a partial erasure's data commit and its key swap left a
        // successor key: finish (or, for an erasure that never committed, undo) that now.
        let stale_before = to_micros(clock.now()) - SUCCESSOR_STALE_MICROS;
        let settled = vern_store::ErasureStore::settle_key_successors(&store, stale_before)
            .await
            .map_err(VaultError::store("subject key"))?;
        if settled != vern_store::SettledSuccessors::default() {
            tracing::info!(
                promoted = settled.promoted,
                discarded = settled.discarded,
                "settled subject key successors left by interrupted erasures"
            );
        }
        let versions = policy_versions::load_or_record(
            &store,
            DEFAULT_TENANT,
            policy,
            to_micros(clock.now()),
            record,
        )
        .await?;
        Ok(Vault {
            fallback: policy_versions::fallback(&versions)?,
            versions: std::sync::RwLock::new(Arc::new(versions)),
            store,
            master,
            previous,
            blind,
            receipts,
            outbox,
            clock,
            tenant: DEFAULT_TENANT,
            dsr_key,
            public_url: std::sync::RwLock::new("http://127.0.0.1:8080".to_owned()),
            dsr_settings: std::sync::RwLock::new(requests::DsrSettings::default()),
            request_oidc: std::sync::RwLock::new(None),
            cache: Arc::new(cache::DecisionCache::new(cache::DEFAULT_CAPACITY)),
            decision_log: Arc::new(decision_log::DecisionLog::new()),
        })
    }

    /// The node's decision cache.
    pub fn cache(&self) -> &cache::DecisionCache {
        &self.cache
    }

    /// The task that keeps the decision cache fresh by polling the change log; spawn it once
    /// per vault (`vern serve` does). It ends when the vault is dropped. Without it the cache
    /// never answers and every decision reads the database.
    pub fn cache_poller(&self) -> impl std::future::Future<Output = ()> + Send + 'static {
        cache::run_poller(Arc::downgrade(&self.cache), self.store.clone(), self.tenant)
    }

    /// The same vault acting for another tenant.
    pub fn with_tenant(mut self, tenant: Uuid) -> Self {
        self.tenant = tenant;
        self.cache = Arc::new(cache::DecisionCache::new(cache::DEFAULT_CAPACITY));
        self.decision_log = Arc::new(decision_log::DecisionLog::new());
        self
    }

    /// Sets the base URL of links in letters (the server's public address).
    pub fn set_public_url(&self, url: &str) {
        let mut guard = self
            .public_url
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        *guard = url.trim_end_matches('/').to_owned();
    }

    pub(crate) fn public_url(&self) -> String {
        self.public_url
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone()
    }

    pub fn store(&self) -> &SqlStore {
        &self.store
    }

    /// The policy version in force now (the vault's clock).
    pub fn policy(&self) -> Arc<Policy> {
        self.policy_at(self.now())
    }

    pub fn tenant(&self) -> Uuid {
        self.tenant
    }

    pub fn clock(&self) -> &Arc<dyn Clock> {
        &self.clock
    }

    pub(crate) fn now(&self) -> i64 {
        to_micros(self.clock.now())
    }

    /// An audit entry by `who`; `detail` must hold ids, categories, counts and field names only.
    pub(crate) fn audit(
        &self,
        who: &Principal,
        action: &str,
        subject: Option<Uuid>,
        purpose: Option<&str>,
        detail: serde_json::Value,
    ) -> NewAuditEntry {
        NewAuditEntry {
            tenant_id: self.tenant,
            id: new_id(),
            at: self.now(),
            actor: who.actor.to_string(),
            action: action.to_owned(),
            subject_id: subject,
            purpose: purpose.map(str::to_owned),
            detail: detail.to_string(),
        }
    }

    /// Fails with 403 unless the role has `permission`.
    pub(crate) fn require(&self, who: &Principal, permission: Permission) -> VaultResult<()> {
        if access::role_can(&self.policy(), &who.role, permission) {
            Ok(())
        } else {
            Err(VaultError::Forbidden(format!(
                "the role `{}` lacks the permission `{}`",
                who.role,
                permission.as_str()
            )))
        }
    }

    pub(crate) fn can_category(&self, who: &Principal, category: &str) -> bool {
        access::role_can_access_category(&self.policy(), &who.role, category)
    }

    /// Whether the role may act at all: unknown roles (a token minted under an older policy)
    /// get nothing.
    pub fn role_exists(&self, role: &str) -> bool {
        self.policy().role(role).is_some()
    }

    fn master_for(&self, kek_id: &[u8]) -> Option<&MasterKey> {
        std::iter::once(&self.master)
            .chain(self.previous.iter())
            .find(|m| m.kek_id().as_slice() == kek_id)
    }

    /// The subject's data key, unwrapped for this operation only. A missing key means the
    /// subject was erased (crypto-shredded).
    pub(crate) async fn subject_key(&self, subject: Uuid) -> VaultResult<SubjectKey> {
        let row = self
            .store
            .get_subject_key(self.tenant, subject)
            .await
            .map_err(VaultError::store("subject"))?;
        self.unwrap_subject_key(&row)
    }

    /// Unwraps a stored subject key with the master key that wrapped it.
    pub(crate) fn unwrap_subject_key(&self, row: &SubjectKeyRow) -> VaultResult<SubjectKey> {
        let subject = row.subject_id;
        let master = self.master_for(&row.kek_id).ok_or_else(|| {
            VaultError::Internal(format!(
                "the key of subject {subject} is wrapped by an unknown master key"
            ))
        })?;
        Ok(SubjectKey::unwrap(
            master,
            self.tenant,
            subject,
            &row.wrapped_key,
        )?)
    }

    /// A fresh data key for a new subject, with its wrapped row for the key store.
    pub(crate) fn new_subject_key(
        &self,
        subject: Uuid,
    ) -> VaultResult<(SubjectKey, SubjectKeyRow)> {
        let key = SubjectKey::generate();
        let row = SubjectKeyRow {
            tenant_id: self.tenant,
            subject_id: subject,
            kek_id: self.master.kek_id().to_vec(),
            wrapped_key: key.wrap(&self.master, self.tenant, subject)?,
            created_at: self.now(),
        };
        Ok((key, row))
    }

    /// The keyed blind index of a normalised identifier.
    pub(crate) fn blind_index(&self, kind: &str, normalised: &str) -> Vec<u8> {
        self.blind.index(kind, normalised)
    }

    /// [`Self::blind_index`] without an allocation.
    pub(crate) fn blind_index_array(&self, kind: &str, normalised: &str) -> [u8; 32] {
        self.blind.index_array(kind, normalised)
    }

    /// A keyed digest of a request, for `Idempotency-Key` matching: keyed, because the body
    /// holds personal data and a plain hash of a short email is easy to reverse.
    pub fn request_digest(&self, method: &str, path: &str, body: &[u8]) -> Vec<u8> {
        use base64::Engine as _;
        use sha2::Digest as _;
        let mut h = sha2::Sha256::new();
        h.update(method.as_bytes());
        h.update([0]);
        h.update(path.as_bytes());
        h.update([0]);
        h.update(body);
        let plain = base64::engine::general_purpose::STANDARD_NO_PAD.encode(h.finalize());
        self.blind.index("vern/idempotency", &plain)
    }

    /// Appends audit entries on their own (reads, denials).
    pub(crate) async fn append_audit(&self, entries: Vec<NewAuditEntry>) -> VaultResult<()> {
        if entries.is_empty() {
            return Ok(());
        }
        self.store
            .append_audit(entries)
            .await
            .map_err(|e| VaultError::Internal(format!("audit append failed: {e}")))
    }

    /// Records that `who` was refused `action`; the refusal itself is the answer.
    pub(crate) async fn deny(
        &self,
        who: &Principal,
        action: &str,
        subject: Option<Uuid>,
        detail: serde_json::Value,
        message: String,
    ) -> VaultError {
        let entry = self.audit(who, action, subject, None, detail);
        match self.append_audit(vec![entry]).await {
            Ok(()) => VaultError::Forbidden(message),
            Err(e) => e,
        }
    }
}

/// Microseconds from the store as a time; out-of-range values (never written by vern) clamp to
/// the epoch rather than fail a read.
pub(crate) fn time_of(micros: i64) -> time::OffsetDateTime {
    from_micros(micros).unwrap_or(time::OffsetDateTime::UNIX_EPOCH)
}

/// `detail` for a set of categories: sorted and deduplicated, so entries compare cleanly.
pub(crate) fn categories_detail<'a>(cats: impl IntoIterator<Item = &'a str>) -> serde_json::Value {
    let set: std::collections::BTreeSet<&str> = cats.into_iter().collect();
    json!(set)
}
