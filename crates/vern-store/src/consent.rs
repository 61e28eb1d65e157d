//! Storage for consent and the rights that override it: the hash-chained consent ledger with
//! its current-state projection, objections (Art. 21), restriction (Art. 18) and the
//! suppression list. [`ConsentStore`] is kept apart from [`crate::Store`] so the two grow
//! independently; [`crate::SqlStore`] implements both.
//!
//! The ledger chain uses the audit chain's construction with its own domain string, so a
//! consent event can never verify as an audit entry or the other way round. With
//! `lp(x) = be64(len x) ‖ x`, `opt(None) = 0x00`, `opt(Some x) = 0x01 ‖ x`:
//!
//! ```text
//! hash = SHA-256( lp("vern-consent-v1") ‖ lp(prev_hash) ‖ be64(seq) ‖ tenant_id[16] ‖ id[16]
//!               ‖ subject_id[16] ‖ lp(scope) ‖ lp(channel) ‖ lp(action) ‖ be64(at)
//!               ‖ opt(be64(expires_at)) ‖ lp(policy_hash) ‖ lp(notice_hash)
//!               ‖ lp(collection_point) ‖ lp(method) ‖ opt(lp(ip_truncated))
//!               ‖ opt(lp(user_agent)) ‖ opt(lp(idempotency_key)) ‖ lp(actor) )
//! ```

use std::future::Future;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use uuid::Uuid;

use crate::StoreResult;
use crate::audit_chain::{BreakReason, ChainBreak};
use crate::model::NewAuditEntry;

/// The `target` of an objection to all direct marketing (purpose ids never start with `*`).
pub const DIRECT_MARKETING: &str = "*direct_marketing";

/// A consent event as the vault hands it to the store; the store chains it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewConsentEvent {
    pub tenant_id: Uuid,
    pub id: Uuid,
    pub subject_id: Uuid,
    pub scope: String,
    /// `""` for a scope without channels.
    pub channel: String,
    /// `granted`, `withdrawn`, `expired`, `renewed`.
    pub action: String,
    pub at: i64,
    pub expires_at: Option<i64>,
    /// Content hash of the policy version in force.
    pub policy_hash: String,
    /// SHA-256 of the consent text shown, hex.
    pub notice_hash: String,
    /// Form id, surface or API client.
    pub collection_point: String,
    /// `checkbox`, `double_opt_in`, `api`, `gpc`.
    pub method: String,
    /// IPv4 /24 or IPv6 /48, never a full address.
    pub ip_truncated: Option<String>,
    pub user_agent: Option<String>,
    pub idempotency_key: Option<String>,
    /// Pseudonymous actor (token id), as in the audit log.
    pub actor: String,
}

/// A chained ledger row.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConsentEventRow {
    pub seq: i64,
    pub event: NewConsentEvent,
    pub prev_hash: Vec<u8>,
    pub hash: Vec<u8>,
}

/// One key of the projection: the last event for (subject, scope, channel).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConsentStateRow {
    pub tenant_id: Uuid,
    pub subject_id: Uuid,
    pub scope: String,
    pub channel: String,
    pub action: String,
    pub at: i64,
    pub expires_at: Option<i64>,
    pub event_id: Uuid,
    pub seq: i64,
    /// Set when a published policy version widened what this consent covers: from this time
    /// (the version's effective date) the consent no longer counts until the key's next event.
    #[serde(default)]
    pub renewal_due_at: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ObjectionRow {
    pub tenant_id: Uuid,
    pub id: Uuid,
    pub subject_id: Uuid,
    /// A purpose id, or [`DIRECT_MARKETING`].
    pub target: String,
    pub created_at: i64,
    /// The DPO's compelling legitimate grounds, sealed with the subject key.
    pub grounds_ct: Option<Vec<u8>>,
    pub grounds_at: Option<i64>,
    pub grounds_by: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SuppressionRow {
    pub tenant_id: Uuid,
    /// `email` or `phone`.
    pub kind: String,
    /// Blind index of the normalised address.
    pub hash: Vec<u8>,
    /// `objection`, `unsubscribe`, `erasure`.
    pub reason: String,
    pub created_at: i64,
}

/// A DPO's compelling legitimate grounds for continuing despite an objection (Art. 21(1)).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CompellingGrounds {
    pub tenant_id: Uuid,
    pub subject_id: Uuid,
    /// The purpose objected to.
    pub target: String,
    /// The grounds as text, sealed with the subject key.
    pub grounds_ct: Vec<u8>,
    pub at: i64,
    /// Pseudonymous actor (token id).
    pub by: String,
}

/// What a decision needs to know about one subject, read together.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ConsentContext {
    pub state: Vec<ConsentStateRow>,
    pub objections: Vec<ObjectionRow>,
    pub restricted: bool,
}

/// Consent, objections, restriction and suppression. Every write is one transaction with the
/// audit entries that describe it.
pub trait ConsentStore: Send + Sync {
    /// Chains and appends events (one subject's, in order), upserts the projection for each,
    /// and appends `audit`, atomically. `NotFound` if the subject does not exist.
    fn append_consent(
        &self,
        events: Vec<NewConsentEvent>,
        audit: Vec<NewAuditEntry>,
    ) -> impl Future<Output = StoreResult<Vec<ConsentEventRow>>> + Send;
    fn consent_state(
        &self,
        tenant: Uuid,
        subject: Uuid,
    ) -> impl Future<Output = StoreResult<Vec<ConsentStateRow>>> + Send;
    /// The subject's ledger entries in order.
    fn consent_history(
        &self,
        tenant: Uuid,
        subject: Uuid,
    ) -> impl Future<Output = StoreResult<Vec<ConsentEventRow>>> + Send;
    /// A page of the tenant's ledger from `from` (inclusive), for exports and verification.
    fn consent_ledger_page(
        &self,
        tenant: Uuid,
        from: i64,
        limit: u32,
    ) -> impl Future<Output = StoreResult<Vec<ConsentEventRow>>> + Send;
    /// Walks the tenant's ledger from genesis to the recorded head.
    fn verify_consent_chain(
        &self,
        tenant: Uuid,
    ) -> impl Future<Output = StoreResult<Result<u64, ChainBreak>>> + Send;

    /// Records an objection unless one for the same target exists; returns the stored row.
    fn add_objection(
        &self,
        row: ObjectionRow,
        audit: Vec<NewAuditEntry>,
    ) -> impl Future<Output = StoreResult<ObjectionRow>> + Send;
    /// Records compelling grounds on an existing objection, once (`Conflict` if already set).
    fn set_compelling_grounds(
        &self,
        grounds: CompellingGrounds,
        audit: Vec<NewAuditEntry>,
    ) -> impl Future<Output = StoreResult<()>> + Send;
    /// Sets or lifts the restriction; `mail` (the notice that tells the subject of a lift,
    /// Art. 18(3)) is queued in the same transaction, so the lift never happens untold.
    fn set_restricted(
        &self,
        tenant: Uuid,
        subject: Uuid,
        restricted: bool,
        at: i64,
        audit: Vec<NewAuditEntry>,
        mail: Vec<crate::outbox::NewOutboxMessage>,
    ) -> impl Future<Output = StoreResult<()>> + Send;
    /// Projection rows of granted or renewed consents whose validity ended at or before `now`,
    /// oldest first, at most `limit`: what the expiry sweep records as `expired`.
    fn expired_consents(
        &self,
        tenant: Uuid,
        now: i64,
        limit: u32,
    ) -> impl Future<Output = StoreResult<Vec<ConsentStateRow>>> + Send;
    /// State, objections and restriction flag of one subject.
    fn consent_context(
        &self,
        tenant: Uuid,
        subject: Uuid,
    ) -> impl Future<Output = StoreResult<ConsentContext>> + Send;

    /// Adds entries; ones already listed are kept as they are.
    fn add_suppression(
        &self,
        rows: Vec<SuppressionRow>,
        audit: Vec<NewAuditEntry>,
    ) -> impl Future<Output = StoreResult<()>> + Send;
    /// Which of `hashes` (of `kind`) are suppressed.
    fn suppressed_among(
        &self,
        tenant: Uuid,
        kind: &str,
        hashes: Vec<Vec<u8>>,
    ) -> impl Future<Output = StoreResult<Vec<Vec<u8>>>> + Send;
}

const DOMAIN: &[u8] = b"vern-consent-v1";

/// The hash of `e` at position `seq`, chained to `prev_hash`.
pub fn consent_event_hash(prev_hash: &[u8], seq: i64, e: &NewConsentEvent) -> Vec<u8> {
    let mut h = Sha256::new();
    let lp = |h: &mut Sha256, b: &[u8]| {
        h.update((b.len() as u64).to_be_bytes());
        h.update(b);
    };
    let opt = |h: &mut Sha256, b: Option<&[u8]>| match b {
        None => h.update([0u8]),
        Some(b) => {
            h.update([1u8]);
            lp(h, b);
        }
    };
    lp(&mut h, DOMAIN);
    lp(&mut h, prev_hash);
    h.update(seq.to_be_bytes());
    h.update(e.tenant_id.as_bytes());
    h.update(e.id.as_bytes());
    h.update(e.subject_id.as_bytes());
    lp(&mut h, e.scope.as_bytes());
    lp(&mut h, e.channel.as_bytes());
    lp(&mut h, e.action.as_bytes());
    h.update(e.at.to_be_bytes());
    match e.expires_at {
        None => h.update([0u8]),
        Some(x) => {
            h.update([1u8]);
            h.update(x.to_be_bytes());
        }
    }
    lp(&mut h, e.policy_hash.as_bytes());
    lp(&mut h, e.notice_hash.as_bytes());
    lp(&mut h, e.collection_point.as_bytes());
    lp(&mut h, e.method.as_bytes());
    opt(&mut h, e.ip_truncated.as_deref().map(str::as_bytes));
    opt(&mut h, e.user_agent.as_deref().map(str::as_bytes));
    opt(&mut h, e.idempotency_key.as_deref().map(str::as_bytes));
    lp(&mut h, e.actor.as_bytes());
    h.finalize().to_vec()
}

/// Chains `events` after `(prev_seq, prev_hash)`.
pub fn chain_consent(
    prev_seq: i64,
    prev_hash: &[u8],
    events: Vec<NewConsentEvent>,
) -> Vec<ConsentEventRow> {
    let mut prev = prev_hash.to_vec();
    let mut seq = prev_seq;
    events
        .into_iter()
        .map(|event| {
            seq += 1;
            let hash = consent_event_hash(&prev, seq, &event);
            let prev_hash = std::mem::replace(&mut prev, hash.clone());
            ConsentEventRow {
                seq,
                event,
                prev_hash,
                hash,
            }
        })
        .collect()
}

/// Checks rows in order from `(next_seq - 1, prev_hash)`; returns the last hash and seq.
pub fn verify_consent_rows<'a>(
    rows: impl IntoIterator<Item = &'a ConsentEventRow>,
    mut next_seq: i64,
    prev_hash: &mut Vec<u8>,
) -> Result<i64, ChainBreak> {
    for row in rows {
        let fail = |reason| ChainBreak {
            seq: row.seq,
            reason,
        };
        if row.seq != next_seq {
            return Err(fail(BreakReason::SeqGap { expected: next_seq }));
        }
        if row.prev_hash != *prev_hash {
            return Err(fail(BreakReason::PrevHashMismatch));
        }
        if consent_event_hash(&row.prev_hash, row.seq, &row.event) != row.hash {
            return Err(fail(BreakReason::HashMismatch));
        }
        prev_hash.clone_from(&row.hash);
        next_seq += 1;
    }
    Ok(next_seq)
}
