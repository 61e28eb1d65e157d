//! The API shapes of data-subject requests.

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use utoipa::ToSchema;
use uuid::Uuid;
use vern_core::dsr::{Right, State};

use super::IdentifierInput;

/// How a request reached the controller.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Channel {
    /// The self-service portal.
    Web,
    /// An integrated application, on behalf of its user.
    Api,
    /// An email to the privacy address, entered by staff.
    Email,
    /// A letter, entered by staff.
    Mail,
    /// A phone call, entered by staff.
    Phone,
    /// In person, entered by staff.
    InPerson,
}

impl Channel {
    pub fn as_str(self) -> &'static str {
        match self {
            Channel::Web => "web",
            Channel::Api => "api",
            Channel::Email => "email",
            Channel::Mail => "mail",
            Channel::Phone => "phone",
            Channel::InPerson => "in_person",
        }
    }

    /// Channels where a member of staff types the request in (and may give the arrival time).
    pub fn entered_by_staff(self) -> bool {
        matches!(
            self,
            Channel::Email | Channel::Mail | Channel::Phone | Channel::InPerson
        )
    }
}

/// The language of every letter about the request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Lang {
    Nb,
    En,
}

impl Lang {
    pub fn as_str(self) -> &'static str {
        match self {
            Lang::Nb => "nb",
            Lang::En => "en",
        }
    }

    pub fn parse(text: &str) -> Lang {
        if text == "nb" { Lang::Nb } else { Lang::En }
    }
}

/// A request to exercise one or more rights.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({
    "rights": ["access"],
    "identifiers": [{"kind": "email", "value": "kari.nordmann@example.com"}],
    "lang": "nb",
    "channel": "web"
}))]
pub struct RequestInput {
    /// 1 to 6 distinct rights.
    #[schema(value_type = Vec<String>, min_items = 1, max_items = 6, example = json!(["access"]))]
    pub rights: Vec<Right>,
    /// How the requester can be found and reached (1 to 10). The first email address gets the
    /// verification link and every letter.
    #[schema(min_items = 1, max_items = 10)]
    pub identifiers: Vec<IdentifierInput>,
    pub lang: Lang,
    pub channel: Channel,
    /// When the request arrived, for requests entered by staff (mail, phone, …); defaults to
    /// now, may not be in the future or more than 31 days back.
    #[serde(default, with = "time::serde::rfc3339::option")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub received_at: Option<OffsetDateTime>,
    /// Staff verified the requester's identity at entry (method (c)): the reason is required
    /// and recorded. Needs `requests.manage`.
    #[serde(default)]
    #[schema(max_length = 2000)]
    pub staff_verification: Option<String>,
    /// What the requester wrote (e.g. which data to correct); kept sealed.
    #[serde(default)]
    #[schema(max_length = 10000)]
    pub details: Option<String>,
    /// Identity by a signed token (method (b)): an ID or access token of the user, from a
    /// trusted OpenID Connect issuer, passed by the company's app the user is logged in to.
    /// Signature, issuer, audience and expiry are checked; the token's `sub` names the subject
    /// (by the configured identifier kind) and the request starts verified. The token is not
    /// stored.
    #[serde(default)]
    #[schema(max_length = 16384)]
    pub id_token: Option<String>,
}

impl std::fmt::Debug for RequestInput {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RequestInput")
            .field("rights", &self.rights)
            .field("channel", &self.channel)
            .finish_non_exhaustive()
    }
}

/// A request as the privacy team sees it in lists: no personal data.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct RequestView {
    pub id: Uuid,
    /// The reference quoted in every letter.
    #[schema(example = "DSR-7K2QM-XW4PA")]
    pub reference: String,
    #[schema(value_type = String, example = "awaiting_identity")]
    pub state: State,
    #[schema(value_type = Vec<String>)]
    pub rights: Vec<Right>,
    #[schema(value_type = String)]
    pub channel: Channel,
    #[schema(value_type = String)]
    pub lang: Lang,
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub received_at: OffsetDateTime,
    /// Local date of receipt (Europe/Oslo).
    #[schema(value_type = String, format = Date)]
    pub received_on: String,
    /// One month from receipt (Art. 12(3)).
    #[schema(value_type = String, format = Date)]
    pub due_initial: String,
    /// The furthest an extension can reach.
    #[schema(value_type = String, format = Date)]
    pub due_max: String,
    /// The deadline in force.
    #[schema(value_type = String, format = Date)]
    pub due: String,
    pub extended: bool,
    /// The deadline in force has passed and the request is still open.
    pub overdue: bool,
    /// Open, and the deadline is at most 5 days away.
    pub due_soon: bool,
    /// Days until the deadline in force (negative when overdue).
    pub days_left: i64,
    /// The deadline falls on a weekend: it does not move, act before it.
    pub due_on_weekend: bool,
    #[serde(with = "time::serde::rfc3339::option")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub closed_at: Option<OffsetDateTime>,
}

/// A page of requests, by deadline.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct RequestPage {
    pub items: Vec<RequestView>,
    /// Pass as `after` for the next page; absent on the last page.
    pub next: Option<String>,
}

/// How a right was fulfilled, or why not: the seam to the fulfilment of each right.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum FulfilmentStatus {
    /// Done in full.
    Done,
    /// Done in part; the rest kept or refused under an exception (with reason and basis).
    Partial,
    /// Refused under an exception (with reason and basis).
    Refused,
}

/// The outcome of one right of a request, as recorded by staff or by the fulfilment code.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Fulfilment {
    #[schema(value_type = String, example = "erasure")]
    pub right: Right,
    pub status: FulfilmentStatus,
    /// Required unless `done`: why (sent to the subject).
    #[serde(default)]
    #[schema(max_length = 2000)]
    pub reason: Option<String>,
    /// Required unless `done`: the article and national law relied on.
    #[serde(default)]
    #[schema(max_length = 500, example = "GDPR Art. 17(3)(b); bokføringsloven § 13")]
    pub legal_basis: Option<String>,
    /// Until when kept data stays (`YYYY-MM-DD`), when data was kept.
    #[serde(default)]
    #[schema(format = Date)]
    pub kept_until: Option<String>,
    /// A reference to the produced artefact (report id, package hash), if any.
    #[serde(default)]
    #[schema(max_length = 500)]
    pub artefact: Option<String>,
    /// What the closing letter says about this right (what was done, kept, notified); the
    /// fulfilment writes it, staff may give it with a recorded outcome.
    #[serde(default)]
    #[schema(max_length = 4000)]
    pub letter: Option<String>,
}

/// What staff can do with a request.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(tag = "action", rename_all = "snake_case", deny_unknown_fields)]
pub enum RequestAction {
    /// Identity confirmed by staff (method (c)); the reason is recorded.
    Verify { reason: String },
    /// Identity could not be confirmed.
    UnableToIdentify { reason: String },
    /// Extends the deadline by 1 or 2 months, before `due_initial`, with a reason sent to the
    /// subject (Art. 12(3)).
    Extend { months: u32, reason: String },
    /// Records the outcome of one right (replaces an earlier outcome of that right).
    RecordOutcome { outcome: Fulfilment },
    /// Fulfils every right whose outcome was not recorded by hand (access report and
    /// portability package behind a download link, rectification, erasure with exceptions,
    /// restriction, objection), then closes the request from the outcomes: completed,
    /// partially refused or refused. The closing letter says what was done for each right.
    Complete {
        /// Corrections, for a rectification request (required unless its outcome was
        /// recorded).
        #[serde(default)]
        rectifications: Vec<super::requests::RectificationItem>,
        /// For a restriction request: `set` (default) or `lift` (the subject is told first).
        #[serde(default)]
        restriction: Option<super::requests::RestrictionChoice>,
        /// For an objection request (required unless its outcome was recorded).
        #[serde(default)]
        objection: Option<super::ObjectionInput>,
    },
    /// Refuses the whole request as manifestly unfounded or excessive (Art. 12(5)): a DPO
    /// decision (`requests.refuse`) with a written reason and legal basis.
    Refuse { reason: String, legal_basis: String },
    /// The requester withdrew the request.
    Withdraw {
        #[serde(default)]
        reason: Option<String>,
    },
    /// Sends a fresh verification link (the old one stops working); at most 3 an hour.
    ResendVerification,
    /// Sends the letter of the current state again (receipt, extension, closing letter); at
    /// most 3 an hour.
    ResendLetter,
}

/// A request with its case file: for the privacy team (`requests.read` and the `dsr.case`
/// category). No `Debug`: it holds personal data.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct RequestDetail {
    #[serde(flatten)]
    pub request: RequestView,
    /// The subject the requester was matched to, if any.
    pub subject_id: Option<Uuid>,
    pub identifiers: Vec<super::IdentifierInput>,
    pub details: Option<String>,
    /// How identity was confirmed, when it was.
    pub verification: Option<VerificationNote>,
    pub extension_reason: Option<String>,
    pub outcomes: Vec<Fulfilment>,
    pub refusal: Option<Refusal>,
    pub withdrawal_reason: Option<String>,
    pub history: Vec<RequestEventView>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct VerificationNote {
    /// `email_link`, `staff` or `oidc`.
    pub method: String,
    pub reason: Option<String>,
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub at: OffsetDateTime,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Refusal {
    pub reason: String,
    pub legal_basis: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct RequestEventView {
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub at: OffsetDateTime,
    pub actor: String,
    pub action: String,
    pub from_state: Option<String>,
    pub to_state: String,
}

/// The code from the verification mail.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct VerificationInput {
    /// The 6 digits from the mail.
    #[schema(example = "123456", pattern = "^[0-9]{6}$")]
    pub code: String,
}

/// The answer to a verification attempt.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct VerificationResult {
    pub reference: String,
    #[schema(value_type = String)]
    pub state: State,
}
