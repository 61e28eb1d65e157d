//! Rows as the store keeps them. Personal data appears only as ciphertext (`*_ct`) and keyed
//! blind indexes; times are Unix microseconds passed in by the caller.

use serde::{Deserialize, Serialize};
use uuid::Uuid;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SubjectRow {
    pub tenant_id: Uuid,
    pub id: Uuid,
    pub subject_type: String,
    /// ISO country hint for national rules (bookkeeping, marketing law), if known.
    pub jurisdiction: Option<String>,
    pub created_at: i64,
    pub updated_at: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IdentifierRow {
    pub tenant_id: Uuid,
    pub id: Uuid,
    pub subject_id: Uuid,
    /// `email`, `phone`, `login_id`, `username`, or `external:<system>`.
    pub kind: String,
    /// HMAC of the normalised value under the blind-index key.
    pub blind_index: Vec<u8>,
    /// The normalised value, sealed with the subject key.
    pub value_ct: Vec<u8>,
    pub created_at: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecordRow {
    pub tenant_id: Uuid,
    pub id: Uuid,
    pub subject_id: Uuid,
    pub category: String,
    /// The value (JSON), sealed with the subject key; AAD binds it to subject, record, field.
    pub value_ct: Vec<u8>,
    pub source: String,
    pub purposes: Vec<String>,
    pub legal_basis: String,
    pub collected_at: i64,
    pub last_activity_at: Option<i64>,
    pub originating_system: Option<String>,
    pub created_at: i64,
    pub updated_at: i64,
    /// Named event times (Unix microseconds) that retention triggers count from.
    #[serde(default)]
    pub event_times: std::collections::BTreeMap<String, i64>,
    /// When retention requires the record gone (`None`: no date yet); set by the vault.
    #[serde(default)]
    pub expires_at: Option<i64>,
    /// The policy rule (or erasure exception) behind `expires_at`.
    #[serde(default)]
    pub retention_rule: Option<String>,
}

/// A subject's data key, wrapped (encrypted) under a key-encryption key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SubjectKeyRow {
    pub tenant_id: Uuid,
    pub subject_id: Uuid,
    /// Identifies the key-encryption key that wraps this key.
    pub kek_id: Vec<u8>,
    pub wrapped_key: Vec<u8>,
    pub created_at: i64,
}

/// A named secret in the key store (e.g. `blind_index`), wrapped under a KEK.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct KeyringRow {
    pub name: String,
    pub kek_id: Vec<u8>,
    pub wrapped_key: Vec<u8>,
    pub created_at: i64,
}

/// A subject with everything stored about it at creation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewSubject {
    pub subject: SubjectRow,
    pub key: SubjectKeyRow,
    pub identifiers: Vec<IdentifierRow>,
    pub records: Vec<RecordRow>,
    pub audit: Vec<NewAuditEntry>,
}

/// An audit entry before it is chained: the store assigns `seq` and the hashes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewAuditEntry {
    pub tenant_id: Uuid,
    pub id: Uuid,
    pub at: i64,
    /// Who: `token:<uuid>`, `cli`, `system`. Never a person's name or email.
    pub actor: String,
    /// What: `subject.create`, `record.read`, `record.read_denied`, `token.create`, …
    pub action: String,
    /// The subject concerned, by pseudonymous id.
    pub subject_id: Option<Uuid>,
    pub purpose: Option<String>,
    /// Structured detail without personal data (ids, categories, counts, field names).
    pub detail: String,
}

/// An audit entry as chained: `hash = SHA-256(prev_hash ‖ seq ‖ canonical(entry))`, exactly as
/// [`crate::audit_chain`] specifies.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditRow {
    pub seq: i64,
    pub entry: NewAuditEntry,
    pub prev_hash: Vec<u8>,
    pub hash: Vec<u8>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TokenRow {
    pub tenant_id: Uuid,
    pub id: Uuid,
    pub name: String,
    pub role: String,
    /// SHA-256 of the secret token; the token itself is shown once and never stored.
    pub token_hash: Vec<u8>,
    pub created_at: i64,
    pub revoked_at: Option<i64>,
}

/// A stored response for an `Idempotency-Key`, replayed for a repeat of the same request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IdempotencyRow {
    pub tenant_id: Uuid,
    pub token_id: Uuid,
    pub key: String,
    /// SHA-256 of method, path and body: a reused key with a different request is a conflict.
    pub request_hash: Vec<u8>,
    pub status: u16,
    pub body: Vec<u8>,
    pub created_at: i64,
}
