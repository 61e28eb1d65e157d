//! What the retention API speaks: holds, a subject's retention status, preview and sweep
//! reports. No personal data: ids, categories, rule names, times and counts.

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use utoipa::ToSchema;
use uuid::Uuid;

/// A new legal hold: a subject, or a matter over every subject; optionally some categories.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({
    "subject_id": "01930000-0000-7000-8000-000000000001",
    "matter": "case-2026-17",
    "reason": "pending labour dispute",
    "review_at": "2027-01-01T00:00:00Z",
    "approved_by": "dpo"
}))]
pub struct HoldInput {
    /// The subject held; absent for a matter-wide hold over every subject.
    #[serde(default)]
    pub subject_id: Option<Uuid>,
    /// The case or matter reference; required for a matter-wide hold. No personal data.
    #[serde(default)]
    #[schema(max_length = 200)]
    pub matter: Option<String>,
    /// Category references held (`finance`, `recruitment.cv`); empty holds every category.
    #[serde(default)]
    pub categories: Vec<String>,
    /// Why deletion is suspended. No personal data.
    #[schema(min_length = 1, max_length = 500)]
    pub reason: String,
    /// When the hold must be reviewed; must be in the future.
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub review_at: OffsetDateTime,
    /// Who approved the hold (a role or reference, not a name).
    #[schema(min_length = 1, max_length = 200)]
    pub approved_by: String,
}

/// Releasing a hold: the reason is kept with it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"reason": "dispute settled"}))]
pub struct HoldRelease {
    #[schema(min_length = 1, max_length = 500)]
    pub reason: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct HoldView {
    pub id: Uuid,
    pub subject_id: Option<Uuid>,
    pub matter: Option<String>,
    pub categories: Vec<String>,
    pub reason: String,
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub review_at: OffsetDateTime,
    pub approved_by: String,
    pub created_by: String,
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub created_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339::option")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub released_at: Option<OffsetDateTime>,
    pub released_by: Option<String>,
    pub release_reason: Option<String>,
}

/// One record on the retention calendar.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct RecordRetention {
    pub record_id: Uuid,
    #[schema(example = "recruitment.cv")]
    pub category: String,
    /// When the record will be deleted; absent while no rule sets a date.
    #[serde(with = "time::serde::rfc3339::option")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub expires_at: Option<OffsetDateTime>,
    /// The retention rule (or erasure exception) behind the date.
    #[schema(example = "recruitment_process")]
    pub rule: Option<String>,
    /// `rule`, `erasure_exception`, `awaiting_event` or `no_rule`.
    #[schema(example = "rule")]
    pub basis: String,
    /// A legal hold suspends its deletion.
    pub held: bool,
}

/// Each record's expiry and the rule behind it; also part of the access report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct SubjectRetention {
    pub subject_id: Uuid,
    /// Active holds covering the subject.
    pub holds: Vec<Uuid>,
    pub records: Vec<RecordRetention>,
}

/// Records by rule and category.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct RuleCount {
    pub rule: String,
    pub category: String,
    pub count: u64,
}

/// What expires in one calendar month after the preview date.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ForecastMonth {
    /// `YYYY-MM` of the month's start (months count from the preview date).
    #[schema(example = "2027-01")]
    pub month: String,
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub from: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub to: OffsetDateTime,
    pub total: u64,
    pub by_rule: Vec<RuleCount>,
}

/// A dry run: what a sweep at `as_of` would delete, and a 24-month forecast.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct RetentionPreview {
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub as_of: OffsetDateTime,
    pub would_delete: u64,
    /// Expired but suspended by a legal hold.
    pub held: u64,
    pub by_rule: Vec<RuleCount>,
    pub forecast: Vec<ForecastMonth>,
}

/// What a sweep did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct SweepReport {
    #[serde(with = "time::serde::rfc3339::option")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub as_of: Option<OffsetDateTime>,
    pub deleted: u64,
    pub held: u64,
    pub subjects_erased: u64,
    pub keys_shredded: u64,
    pub evidence_rows: u64,
    pub batches: u64,
}
