//! Plaintext views and inputs of the vault: what the API speaks and the CLI builds.
//!
//! These are the only types that hold decrypted personal data, and only in memory for the
//! length of a request. Inputs deny unknown fields, so a typo is a 422 instead of silently
//! dropped data. Examples are valid against the bundled policy.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use utoipa::ToSchema;
use uuid::Uuid;

/// Who acts: written into every audit entry. Never a person's name or email.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Actor {
    /// An API token, by id.
    Token(Uuid),
    /// The command line on the server's host.
    Cli,
    /// vern itself (jobs, startup).
    System,
    /// A data subject through the Helsinki GDPR API, authenticated by an OIDC token (the
    /// subject id is in the audit entry's `subject_id`).
    GdprApi,
    /// A person using the self-service portal after proving control of an email address (the
    /// subject id is in the audit entry's `subject_id`).
    Portal,
}

impl std::fmt::Display for Actor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Actor::Token(id) => write!(f, "token:{id}"),
            Actor::Cli => f.write_str("cli"),
            Actor::System => f.write_str("system"),
            Actor::GdprApi => f.write_str("gdpr-api"),
            Actor::Portal => f.write_str("portal"),
        }
    }
}

/// An actor with the policy role it acts in; every vault operation takes one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    pub actor: Actor,
    /// A role id from the policy (`admin`, `dpo`, `support`, …).
    pub role: String,
}

impl Principal {
    pub fn new(actor: Actor, role: impl Into<String>) -> Self {
        Principal {
            actor,
            role: role.into(),
        }
    }

    /// The operator at the command line, with the role named `admin` (as in the bundled
    /// policy); `Vault::admin_principal(Actor::Cli)` finds the admin role of any policy.
    pub fn cli_admin() -> Self {
        Self::new(Actor::Cli, "admin")
    }
}

/// A new identifier: the value is normalised, blind-indexed and sealed before it is stored.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"kind": "email", "value": "kari.nordmann@example.com"}))]
pub struct IdentifierInput {
    /// `email`, `phone`, `login_id`, `username`, or `external:<system>`.
    #[schema(pattern = "^(email|phone|login_id|username|external:[a-z0-9_.-]{1,64})$")]
    pub kind: String,
    #[schema(min_length = 1, max_length = 256)]
    pub value: String,
}

/// A new personal-data record, checked against the policy before anything is stored.
#[derive(Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({
    "category": "contact.email.work_named",
    "value": "kari.nordmann@example.com",
    "source": "direct",
    "purposes": ["marketing.send"],
    "legal_basis": "legitimate_interest",
    "collected_at": "2026-01-15T10:00:00Z"
}))]
pub struct RecordInput {
    /// A category id from the policy.
    pub category: String,
    /// The personal data itself: any JSON value.
    pub value: serde_json::Value,
    /// A source id from the policy.
    pub source: String,
    /// Purpose ids from the policy; each must allow the category for the subject's type.
    pub purposes: Vec<String>,
    /// snake_case as in the policy; must match the purposes' basis, which it defaults to.
    #[serde(default)]
    pub legal_basis: Option<String>,
    /// When the data was collected; now if omitted.
    #[serde(default, with = "time::serde::rfc3339::option")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub collected_at: Option<OffsetDateTime>,
    #[serde(default, with = "time::serde::rfc3339::option")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub last_activity_at: Option<OffsetDateTime>,
    /// The system the data came from (`crm`, `webshop`…), if not vern.
    #[serde(default)]
    pub originating_system: Option<String>,
    /// Times of events that retention rules count from, by the policy's trigger id
    /// (`{"application_deadline": "2026-03-31T00:00:00Z"}`).
    #[serde(
        default,
        with = "event_times",
        skip_serializing_if = "BTreeMap::is_empty"
    )]
    #[schema(value_type = Option<BTreeMap<String, String>>)]
    pub event_times: BTreeMap<String, OffsetDateTime>,
}

/// Changes to a record; absent fields keep their value. The result is checked as a whole.
#[derive(Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"last_activity_at": "2026-02-01T09:30:00Z"}))]
pub struct RecordPatch {
    #[serde(default)]
    pub category: Option<String>,
    #[serde(default)]
    pub value: Option<serde_json::Value>,
    #[serde(default)]
    pub source: Option<String>,
    #[serde(default)]
    pub purposes: Option<Vec<String>>,
    #[serde(default)]
    pub legal_basis: Option<String>,
    #[serde(default, with = "time::serde::rfc3339::option")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub last_activity_at: Option<OffsetDateTime>,
    #[serde(default)]
    pub originating_system: Option<String>,
    /// Event times to set or move (a new application, a closed account); others are kept.
    #[serde(
        default,
        with = "event_times",
        skip_serializing_if = "BTreeMap::is_empty"
    )]
    #[schema(value_type = Option<BTreeMap<String, String>>)]
    pub event_times: BTreeMap<String, OffsetDateTime>,
}

/// A new data subject, optionally with identifiers and records, stored in one transaction.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({
    "subject_type": "lead",
    "jurisdiction": "NO",
    "identifiers": [{"kind": "email", "value": "kari.nordmann@example.com"}],
    "records": [{
        "category": "contact.email.work_named",
        "value": "kari.nordmann@example.com",
        "source": "direct",
        "purposes": ["marketing.send"],
        "legal_basis": "legitimate_interest"
    }]
}))]
pub struct SubjectInput {
    /// A subject type id from the policy.
    pub subject_type: String,
    /// ISO 3166-1 alpha-2 country hint for national rules.
    #[serde(default)]
    #[schema(pattern = "^[A-Z]{2}$")]
    pub jurisdiction: Option<String>,
    #[serde(default)]
    pub identifiers: Vec<IdentifierInput>,
    #[serde(default)]
    pub records: Vec<RecordInput>,
}

/// Changes to a subject; absent fields keep their value. `jurisdiction: null` clears it.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"jurisdiction": "SE"}))]
pub struct SubjectPatch {
    #[serde(default)]
    pub subject_type: Option<String>,
    /// Present and `null` clears the hint; absent keeps it.
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>, pattern = "^[A-Z]{2}$")]
    pub jurisdiction: Option<Option<String>>,
}

/// Tells an absent field (`None`) from an explicit `null` (`Some(None)`).
fn double_option<'de, D>(de: D) -> Result<Option<Option<String>>, D::Error>
where
    D: serde::Deserializer<'de>,
{
    Option::<String>::deserialize(de).map(Some)
}

#[derive(Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct IdentifierView {
    pub id: Uuid,
    #[schema(example = "email")]
    pub kind: String,
    /// The normalised value.
    #[schema(example = "kari.nordmann@example.com")]
    pub value: String,
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub created_at: OffsetDateTime,
}

#[derive(Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct RecordView {
    pub id: Uuid,
    pub subject_id: Uuid,
    #[schema(example = "contact.email.work_named")]
    pub category: String,
    pub value: serde_json::Value,
    #[schema(example = "direct")]
    pub source: String,
    pub purposes: Vec<String>,
    #[schema(example = "legitimate_interest")]
    pub legal_basis: String,
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub collected_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339::option")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub last_activity_at: Option<OffsetDateTime>,
    pub originating_system: Option<String>,
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub created_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub updated_at: OffsetDateTime,
}

/// A subject without its personal data: what lists show.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct SubjectSummary {
    pub id: Uuid,
    #[schema(example = "lead")]
    pub subject_type: String,
    #[schema(example = "NO")]
    pub jurisdiction: Option<String>,
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub created_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub updated_at: OffsetDateTime,
}

/// A subject with the identifiers and the records the caller's role may read. Records of
/// other categories are left out (and the denial audited).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct SubjectView {
    #[serde(flatten)]
    pub subject: SubjectSummary,
    pub identifiers: Vec<IdentifierView>,
    pub records: Vec<RecordView>,
}

/// One page of subjects in creation order; pass `next` as `after` for the following page.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct SubjectPage {
    pub items: Vec<SubjectSummary>,
    pub next: Option<Uuid>,
}

/// An API token as listed: never the secret.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct TokenView {
    pub id: Uuid,
    #[schema(example = "crm-sync")]
    pub name: String,
    #[schema(example = "service")]
    pub role: String,
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub created_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339::option")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub revoked_at: Option<OffsetDateTime>,
}

/// A token just created: the secret is shown this once and stored only as a hash.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct NewToken {
    #[serde(flatten)]
    pub token: TokenView,
    #[schema(example = "vern_3q2…")]
    pub secret: String,
}

/// The outcome of checking the audit hash chain.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct AuditVerification {
    pub ok: bool,
    /// Entries checked.
    pub entries: u64,
    /// The first entry whose link is broken.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub seq: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

/// `Debug` without the personal data: these types hold plaintext values, and a `{:?}` in a log
/// line must not be how they leak.
macro_rules! redacted_debug {
    ($ty:ident { $($field:ident),* } redact { $($secret:ident),* }) => {
        impl std::fmt::Debug for $ty {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.debug_struct(stringify!($ty))
                    $(.field(stringify!($field), &self.$field))*
                    $(.field(stringify!($secret), &"<redacted>"))*
                    .finish()
            }
        }
    };
}

redacted_debug!(IdentifierInput { kind } redact { value });
redacted_debug!(NewToken { token } redact { secret });
redacted_debug!(IdentifierView { id, kind, created_at } redact { value });
redacted_debug!(RecordInput {
    category, source, purposes, legal_basis, collected_at, last_activity_at, originating_system,
    event_times
} redact { value });
redacted_debug!(RecordPatch {
    category, source, purposes, legal_basis, last_activity_at, originating_system, event_times
} redact { value });
redacted_debug!(RecordView {
    id, subject_id, category, source, purposes, legal_basis, collected_at, last_activity_at,
    originating_system, created_at, updated_at
} redact { value });

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_output_holds_no_values() {
        let input = SubjectInput {
            subject_type: "lead".into(),
            jurisdiction: None,
            identifiers: vec![IdentifierInput {
                kind: "email".into(),
                value: "secret@example.com".into(),
            }],
            records: vec![RecordInput {
                category: "identity.name".into(),
                value: serde_json::json!("Secret Person"),
                source: "direct".into(),
                purposes: vec!["marketing.send".into()],
                legal_basis: None,
                collected_at: None,
                last_activity_at: None,
                event_times: BTreeMap::new(),
                originating_system: None,
            }],
        };
        let text = format!("{input:?}");
        assert!(
            !text.contains("secret@") && !text.contains("Secret Person"),
            "{text}"
        );
        assert!(text.contains("identity.name"));
    }
}

/// A map of RFC 3339 times, for `event_times`.
mod event_times {
    use std::collections::BTreeMap;

    use serde::{Deserialize, Deserializer, Serialize, Serializer};
    use time::OffsetDateTime;
    use time::format_description::well_known::Rfc3339;

    pub fn serialize<S: Serializer>(
        map: &BTreeMap<String, OffsetDateTime>,
        s: S,
    ) -> Result<S::Ok, S::Error> {
        let text: Result<BTreeMap<&str, String>, _> = map
            .iter()
            .map(|(k, v)| v.format(&Rfc3339).map(|t| (k.as_str(), t)))
            .collect();
        text.map_err(serde::ser::Error::custom)?.serialize(s)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(
        d: D,
    ) -> Result<BTreeMap<String, OffsetDateTime>, D::Error> {
        let text = BTreeMap::<String, String>::deserialize(d)?;
        text.into_iter()
            .map(|(k, v)| {
                OffsetDateTime::parse(&v, &Rfc3339)
                    .map(|t| (k, t))
                    .map_err(serde::de::Error::custom)
            })
            .collect()
    }
}
