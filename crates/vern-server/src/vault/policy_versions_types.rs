//! Inputs and views of policy versions, change notices and processor customers.

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use utoipa::ToSchema;
use uuid::Uuid;

/// A policy to publish as a new version.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PolicyPublishInput {
    /// The complete policy file (TOML).
    pub source: String,
    /// When the version takes effect. Default: now for editorial changes; a material change
    /// needs a date at least the policy's `changes.notice_days` ahead.
    #[serde(default, with = "time::serde::rfc3339::option")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub effective_at: Option<OffsetDateTime>,
}

/// One change of a version against the one it replaces.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct PolicyChangeView {
    /// `material` or `editorial`.
    pub class: String,
    pub path: String,
    pub summary: String,
}

/// Counts of a version's change notices.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct NoticeCountsView {
    /// Notices queued (one per affected subject).
    pub queued: i64,
    /// Of those, sent by email through the outbox.
    pub email: i64,
    /// Of those, announced on the website only (the subject has no email address).
    pub website: i64,
    /// Emails delivered to the SMTP server.
    pub delivered: i64,
    /// Whether the fan-out has finished.
    pub finished: bool,
}

/// A stored policy version.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct PolicyVersionView {
    pub id: Uuid,
    /// SHA-256 of the policy text.
    pub content_hash: String,
    /// `initial`, `editorial` or `material`.
    pub class: String,
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub published_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub effective_at: OffsetDateTime,
    /// Whether this is the version in force now.
    pub in_force: bool,
    pub changes: Vec<PolicyChangeView>,
    /// Subject types told in advance (material changes only).
    pub notice_subject_types: Vec<String>,
    /// Consent scopes whose earlier consents need renewal from the effective date.
    pub renewal_scopes: Vec<String>,
    pub notices: NoticeCountsView,
}

/// A change notice as published on the website.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct PublicNoticeView {
    pub version_id: Uuid,
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub published_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub effective_at: OffsetDateTime,
    /// Whether the change has taken effect.
    pub in_force: bool,
    /// Subject types the change concerns.
    pub subject_types: Vec<String>,
    /// The material changes, as sentences.
    pub changes: Vec<String>,
    /// Consent scopes whose consents must be renewed to keep counting.
    pub renewal_scopes: Vec<String>,
}

/// A sub-processor to add (each addition publishes a new policy version).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({
    "id": "subprocessor.analytics",
    "name": "Example Analytics LLC",
    "service": "Product analytics for the CRM",
    "processor": "processor.crm",
    "purposes": ["sales.offers"],
    "categories": ["identity.name"],
    "country": "US",
    "dpa_date": "2026-11-01",
    "transfer": {"mechanism": "scc", "reference": "SCC-2026-7", "scc_version": "2021/914", "scc_module": 3}
}))]
pub struct SubprocessorInput {
    /// A new recipient id (`subprocessor.…`).
    pub id: String,
    pub name: String,
    /// What it does for us (shown in the overview, nb and en alike).
    pub service: String,
    /// The processor that engages it (a processor id from the policy).
    pub processor: String,
    /// Purposes it serves (each must be one its processor serves).
    pub purposes: Vec<String>,
    pub categories: Vec<String>,
    /// ISO 3166-1 alpha-2.
    pub country: String,
    /// `YYYY-MM-DD`: when its DPA was signed.
    pub dpa_date: String,
    /// Required outside the EEA: an adequacy decision valid on the DPA date, SCCs or BCRs.
    #[serde(default)]
    pub transfer: Option<TransferInput>,
    /// When it may start (default: the longest customer objection window from now, and at
    /// least the policy's notice period).
    #[serde(default, with = "time::serde::rfc3339::option")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub effective_at: Option<OffsetDateTime>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TransferInput {
    /// `adequacy`, `scc` or `bcr`.
    pub mechanism: String,
    /// The reference of the safeguard (SCC contract, BCR approval).
    #[serde(default)]
    pub reference: Option<String>,
    #[serde(default)]
    pub scc_version: Option<String>,
    #[serde(default)]
    pub scc_module: Option<i64>,
    #[serde(default)]
    pub tia_ref: Option<String>,
    #[serde(default)]
    pub dpf_certified: bool,
}

/// A customer for whom we are a processor (their DPA with us).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ProcessorCustomerInput {
    pub name: String,
    /// `YYYY-MM-DD`.
    pub dpa_signed_on: String,
    #[serde(default)]
    pub dpa_ref: Option<String>,
    /// Where sub-processor notices go.
    pub notice_email: String,
    /// Days to object to a new sub-processor (default 30).
    #[serde(default)]
    pub objection_days: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ProcessorCustomerView {
    pub id: Uuid,
    pub name: String,
    pub dpa_signed_on: String,
    pub dpa_ref: Option<String>,
    pub objection_days: i64,
}

/// Advance notice of a new sub-processor to a customer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct SubprocessorNoticeView {
    pub customer_id: Uuid,
    pub version_id: Uuid,
    pub recipient: String,
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub queued_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub objection_until: OffsetDateTime,
    /// Whether the notice went out by email (through the outbox) to the customer's address.
    pub email: bool,
    /// When that email was delivered; `null` while it waits in the outbox.
    #[serde(with = "time::serde::rfc3339::option")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub delivered_at: Option<OffsetDateTime>,
}

/// A customer's objection to a new sub-processor.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SubprocessorObjectionInput {
    pub customer_id: Uuid,
    /// The sub-processor's recipient id.
    pub recipient: String,
    pub reason: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct SubprocessorObjectionView {
    pub id: Uuid,
    pub customer_id: Uuid,
    pub version_id: Uuid,
    pub recipient: String,
    pub reason: String,
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub at: OffsetDateTime,
}

/// What adding a sub-processor did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct SubprocessorAdded {
    pub version: PolicyVersionView,
    /// Customers notified, with their objection deadline.
    pub notices: Vec<SubprocessorNoticeView>,
}
