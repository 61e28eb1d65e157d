//! Inputs and views of consent, objections, restriction and decisions: what the API speaks.
//! Examples are valid against the bundled policy.

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use utoipa::ToSchema;
use uuid::Uuid;

use super::IdentifierInput;

/// A consent event to record: grant, withdraw or renew one consent scope.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({
    "scope": "marketing_email",
    "channel": "email",
    "action": "granted",
    "method": "double_opt_in",
    "collection_point": "form:newsletter-footer",
    "language": "nb"
}))]
pub struct ConsentInput {
    /// A consent scope id from the policy.
    pub scope: String,
    /// One of the scope's channels; omitted: every channel of the scope.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub channel: Option<String>,
    /// `granted`, `withdrawn` or `renewed`. Withdrawal needs nothing else (Art. 7(3)).
    pub action: String,
    /// `checkbox`, `double_opt_in`, `api` or `gpc` (withdrawal only).
    pub method: String,
    /// Where the consent was collected: form id, surface or API client.
    #[schema(min_length = 1, max_length = 200)]
    pub collection_point: String,
    /// The notice language the person saw; its consent text is hashed as proof.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub language: Option<String>,
    /// On withdrawal: also put the channel's addresses on the suppression list.
    #[serde(default)]
    pub unsubscribe: bool,
}

/// One ledger entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ConsentEventView {
    pub id: Uuid,
    pub seq: i64,
    pub subject_id: Uuid,
    pub scope: String,
    /// `""` for a scope without channels.
    pub channel: String,
    pub action: String,
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339::option")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub expires_at: Option<OffsetDateTime>,
    pub policy_hash: String,
    pub notice_hash: String,
    pub collection_point: String,
    pub method: String,
    pub ip_truncated: Option<String>,
    pub user_agent: Option<String>,
    pub idempotency_key: Option<String>,
    pub actor: String,
    /// This entry's chain hash, hex.
    pub hash: String,
}

/// What recording consent answers: the ledger entries and the signed receipt.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ConsentRecorded {
    pub events: Vec<ConsentEventView>,
    /// A Kantara Consent Receipt 1.1 as a compact JWS (EdDSA), verifiable with the keys at
    /// `/.well-known/jwks.json`.
    pub receipt: String,
}

/// The current state of one (scope, channel).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ConsentStateView {
    pub scope: String,
    pub channel: String,
    /// `granted`, `renewed`, `withdrawn`, `expired` (also when `valid_for` ran out), or
    /// `renewal_needed` (a policy version in force widened what the consent covers).
    pub status: String,
    /// Whether the consent stands now.
    pub active: bool,
    /// When a published policy version makes this consent need renewal (its effective date).
    #[serde(with = "time::serde::rfc3339::option")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub renewal_due_at: Option<OffsetDateTime>,
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub since: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339::option")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub expires_at: Option<OffsetDateTime>,
    pub event_id: Uuid,
}

/// Who is asking about consent, as the HTTP layer saw it: kept as proof, IP truncated.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ConsentRequestMeta {
    pub ip: Option<std::net::IpAddr>,
    pub user_agent: Option<String>,
    pub idempotency_key: Option<String>,
}

/// An objection (Art. 21).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"direct_marketing": true}))]
pub struct ObjectionInput {
    /// Objection to all direct marketing: absolute, stops marketing on every channel and
    /// marketing profiling at once.
    #[serde(default)]
    pub direct_marketing: bool,
    /// Objection to one purpose (legitimate interest or public task).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub purpose: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ObjectionView {
    pub id: Uuid,
    /// A purpose id, or `*direct_marketing`.
    pub target: String,
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub created_at: OffsetDateTime,
    /// Whether a DPO recorded compelling legitimate grounds (the text is not returned here).
    pub compelling_grounds: bool,
}

/// Compelling legitimate grounds that override an objection to one purpose (Art. 21(1)).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({
    "purpose": "support",
    "grounds": "Open support case 4711 about a failed delivery; closing it needs the contact."
}))]
pub struct GroundsInput {
    pub purpose: String,
    #[schema(min_length = 1, max_length = 4000)]
    pub grounds: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"restricted": true}))]
pub struct RestrictionInput {
    pub restricted: bool,
    /// Lifting a restriction tells the subject first (Art. 18(3)): vern mails every email
    /// address it holds for them, in the same transaction as the lift. A subject without an
    /// email address must be told another way; say how here (e.g. "phone", "letter"), or the
    /// lift is refused.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(example = "letter", max_length = 200)]
    pub informed_by: Option<String>,
    /// Language of the notice: `nb` (default) or `en`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(example = "nb")]
    pub lang: Option<String>,
}

/// A subject's consents, objections and restriction at a glance.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ConsentOverview {
    pub subject_id: Uuid,
    pub consents: Vec<ConsentStateView>,
    pub objections: Vec<ObjectionView>,
    pub restricted: bool,
}

/// May this be done? The subject by id, or by an email/phone identifier (which also finds
/// addresses on the suppression list that belong to no subject any more).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({
    "identifier": {"kind": "email", "value": "kari.nordmann@example.com"},
    "purpose": "marketing.send",
    "channel": "email",
    "message_class": "newsletter"
}))]
pub struct DecisionRequest {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subject_id: Option<Uuid>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub identifier: Option<IdentifierInput>,
    pub purpose: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub channel: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message_class: Option<String>,
}

/// The answer: `reason` is a stable code (`no_consent`, `suppressed`, `objected`, …).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[schema(example = json!({
    "allowed": false,
    "basis": "legitimate_interest",
    "reason": "no_consent",
    "policy_version": "0f3a…",
    "decision_id": "01936f5e-0000-7000-8000-000000000000"
}))]
pub struct DecisionView {
    pub allowed: bool,
    pub basis: Option<String>,
    pub reason: String,
    /// Content hash of the policy the decision was made under.
    pub policy_version: String,
    pub decision_id: Uuid,
    /// The subject the request resolved to, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subject_id: Option<Uuid>,
}
