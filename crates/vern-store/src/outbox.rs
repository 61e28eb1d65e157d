//! The mail outbox's storage contract.
//!
//! A message is queued in the same transaction as the state change that causes it (other
//! store methods call the SQL helper inside their own transaction), together with the
//! `mail.send` job that delivers it; a standalone [`OutboxStore::enqueue_mail`] serves mail
//! that follows no other write. Delivery wipes the sealed address and parameters.

use std::future::Future;

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::StoreResult;

/// The job kind that delivers one outbox message (payload `{"outbox_id": "<uuid>"}`).
pub const MAIL_SEND_JOB: &str = "mail.send";

/// Delivery attempts before a message is failed for good (its job's `max_attempts`); with the
/// runner's backoff (30 s doubling, capped at an hour) that spans about three hours.
pub const MAIL_MAX_ATTEMPTS: i64 = 8;

/// Outbox states as stored.
pub mod outbox_state {
    /// Waiting for delivery (or for SMTP to be configured).
    pub const QUEUED: &str = "queued";
    pub const SENT: &str = "sent";
    /// Delivery attempts spent; the job is a dead letter.
    pub const FAILED: &str = "failed";
}

/// A message to queue. The address and parameters are sealed by the vault.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewOutboxMessage {
    pub tenant_id: Uuid,
    pub id: Uuid,
    /// The subject the mail concerns, when there is one (never required).
    pub subject_id: Option<Uuid>,
    pub template: String,
    pub lang: String,
    pub to_ciphertext: Vec<u8>,
    pub params_ciphertext: Vec<u8>,
    /// At most one message per key and tenant (e.g. `notice:<version>:<subject>`); a second
    /// insert with the same key is a no-op.
    pub dedup_key: Option<String>,
}

/// A stored message. The sealed fields are `None` once it was sent.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OutboxRow {
    pub tenant_id: Uuid,
    pub id: Uuid,
    pub subject_id: Option<Uuid>,
    pub template: String,
    pub lang: String,
    #[serde(skip)]
    pub to_ciphertext: Option<Vec<u8>>,
    #[serde(skip)]
    pub params_ciphertext: Option<Vec<u8>>,
    pub dedup_key: Option<String>,
    pub state: String,
    pub attempts: i64,
    pub last_error: Option<String>,
    pub message_id: Option<String>,
    pub created_at: i64,
    pub updated_at: i64,
    pub sent_at: Option<i64>,
}

pub trait OutboxStore: Send + Sync {
    /// Queues messages (and their delivery jobs) in one transaction; returns how many were new
    /// (messages whose `dedup_key` was already used are skipped).
    fn enqueue_mail(
        &self,
        messages: Vec<NewOutboxMessage>,
        now: i64,
    ) -> impl Future<Output = StoreResult<u64>> + Send;
    fn get_mail(
        &self,
        tenant: Uuid,
        id: Uuid,
    ) -> impl Future<Output = StoreResult<OutboxRow>> + Send;
    /// Messages in `state` (all when `None`), newest first.
    fn list_mail(
        &self,
        tenant: Uuid,
        state: Option<&str>,
        subject: Option<Uuid>,
        limit: u32,
    ) -> impl Future<Output = StoreResult<Vec<OutboxRow>>> + Send;
    /// Records a delivery: state `sent`, the SMTP message id, sealed fields wiped. A message
    /// already sent stays as it was (`false`).
    fn mark_mail_sent(
        &self,
        tenant: Uuid,
        id: Uuid,
        message_id: &str,
        now: i64,
    ) -> impl Future<Output = StoreResult<bool>> + Send;
    /// Records a failed attempt; `dead` marks the message failed for good.
    fn mark_mail_attempt_failed(
        &self,
        tenant: Uuid,
        id: Uuid,
        error: &str,
        dead: bool,
        now: i64,
    ) -> impl Future<Output = StoreResult<()>> + Send;
}
