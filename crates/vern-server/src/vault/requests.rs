//! Data-subject requests: receipt, identity verification, deadlines, decisions and closing.
//!
//! The rules (deadlines, which transition is allowed) are `vern_core::dsr`; this module
//! applies them, seals the case file (requester identifiers and every free text) under the
//! tenant's DSR key, and writes each change with its history entry, verification artefacts,
//! reminder job, mail and audit entries in one store call.
//!
//! No enumeration: a submission does the same work whether or not an identifier matches a
//! subject (one blind-index lookup per identifier, one insert, the same mails to the address
//! given) and answers with the same body, which never says whether it matched.

use serde::{Deserialize, Serialize};
use serde_json::json;
use time::Date;
use uuid::Uuid;
use vern_core::access::Permission;
use vern_core::crypto::{
    Aad, CryptoError, MasterKey, SubjectKey, generate_token, hash_token, open, seal,
};
use vern_core::dsr::{
    self, Action, DeadlineError, Deadlines, LocalZone, Right, State, TransitionError,
};
use vern_core::ids::{new_id, to_micros};
use vern_store::jobs::state as job_state;
use vern_store::{
    JobRow, RequestChange, RequestEventRow, RequestFilter, RequestRow, RequestStore, Store,
    StoreError,
};

mod fulfil;
mod letters;
mod oidc;
mod tasks;
mod verify;

pub use fulfil::{
    Download, DownloadFormat, DsrSettings, FulfilInput, KIND_DSR_DOWNLOAD_EXPIRY,
    RectificationItem, RestrictionChoice,
};
pub use oidc::RequestOidc;
pub use tasks::{RecipientTaskPage, RecipientTaskView, TaskClose};

pub(crate) use letters::PendingMail;
use letters::receipt_mail;

use super::requests_types::*;
use super::{IdentifierInput, Principal, Vault, VaultError, VaultResult, time_of};
use crate::error::FieldError;

/// Name of the key that seals DSR case files, in the key store's keyring.
pub const DSR_KEYRING_ENTRY: &str = "dsr_case";
/// The job that reminds the privacy team of a deadline.
pub const KIND_DSR_REMINDER: &str = "dsr.reminder";
/// How long a verification link works.
pub const VERIFICATION_TTL: time::Duration = time::Duration::minutes(30);
/// Wrong codes before a link stops working.
pub const VERIFICATION_MAX_ATTEMPTS: i64 = 5;
/// Verification links per request and hour (the first one included).
pub const VERIFICATION_LINKS_PER_HOUR: u64 = 3;
/// Requests per address and hour that get letters (receipt, verification link); further
/// requests are stored and wait for staff.
pub const MAIL_PER_ADDRESS_PER_HOUR: u64 = 5;
/// How far back staff may date a request they enter.
pub const MAX_BACKDATE: time::Duration = time::Duration::days(31);
/// The zone deadlines are counted in: the controller's establishment (Oslo).
pub const ZONE: LocalZone = LocalZone::EuropeCentral;

const CASE_FIELD: &str = "dsr.case";
const MAX_REASON: usize = 2_000;
const MAX_DETAILS: usize = 10_000;

/// The sealed part of a request.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
struct CaseFile {
    /// (kind, normalised value)
    identifiers: Vec<(String, String)>,
    details: Option<String>,
    verification: Option<CaseVerification>,
    extension_reason: Option<String>,
    outcomes: Vec<Fulfilment>,
    refusal: Option<Refusal>,
    withdrawal_reason: Option<String>,
    unable_reason: Option<String>,
    /// The download link of a completed access or portability request.
    #[serde(default)]
    download: Option<CaseDownload>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct CaseDownload {
    id: Uuid,
    expires_at: i64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct CaseVerification {
    method: String,
    reason: Option<String>,
    at: i64,
}

impl CaseFile {
    fn email(&self) -> Option<&str> {
        self.identifiers
            .iter()
            .find(|(k, _)| k == "email")
            .map(|(_, v)| v.as_str())
    }
}

/// The key that seals case files: a keyring key (loaded, created and re-wrapped on rotation
/// like the outbox key). A request may name no subject, and its case outlives an erasure it
/// asks for, so a subject key does not fit.
pub(crate) struct DsrCaseKey(SubjectKey);

impl super::keyring::KeyringKey for DsrCaseKey {
    const NAME: &'static str = DSR_KEYRING_ENTRY;
    const WHAT: &'static str = "DSR case key";
    fn generate() -> Result<Self, CryptoError> {
        Ok(DsrCaseKey(SubjectKey::generate()))
    }
    fn wrap(&self, master: &MasterKey) -> Result<Vec<u8>, CryptoError> {
        self.0.wrap(master, Uuid::nil(), Uuid::nil())
    }
    fn unwrap(master: &MasterKey, wrapped: &[u8]) -> Result<Self, CryptoError> {
        SubjectKey::unwrap(master, Uuid::nil(), Uuid::nil(), wrapped).map(DsrCaseKey)
    }
}

fn date_text(d: Date) -> String {
    format!("{:04}-{:02}-{:02}", d.year(), u8::from(d.month()), d.day())
}

fn parse_date(text: &str) -> Option<Date> {
    let format = time::macros::format_description!("[year]-[month]-[day]");
    Date::parse(text, &format).ok()
}

fn transition_error(e: TransitionError) -> VaultError {
    VaultError::Conflict(e.to_string())
}

fn reason_field(field: &str, text: &str) -> Result<String, FieldError> {
    let t = text.trim();
    if t.is_empty() || t.chars().count() > MAX_REASON {
        return Err(FieldError::new(
            field,
            "reason_required",
            format!("a reason of 1 to {MAX_REASON} characters is required"),
        ));
    }
    Ok(t.to_owned())
}

fn right_names(rights: &[Right]) -> Vec<&'static str> {
    rights.iter().map(|r| r.as_str()).collect()
}

struct Loaded {
    row: RequestRow,
    case: CaseFile,
    state: State,
    rights: Vec<Right>,
    lang: Lang,
}

impl Vault {
    fn case_aad(&self, request: Uuid) -> Aad<'static> {
        Aad {
            tenant: self.tenant,
            subject: request,
            record: request,
            field: CASE_FIELD,
        }
    }

    fn seal_case(&self, request: Uuid, case: &CaseFile) -> VaultResult<Vec<u8>> {
        let plain = serde_json::to_vec(case).map_err(|e| VaultError::Internal(e.to_string()))?;
        Ok(seal(&self.dsr_key.0, &self.case_aad(request), &plain)?)
    }

    fn open_case(&self, row: &RequestRow) -> VaultResult<CaseFile> {
        let plain = open(&self.dsr_key.0, &self.case_aad(row.id), &row.case_ct)?;
        serde_json::from_slice(&plain).map_err(|e| VaultError::Internal(format!("case file: {e}")))
    }

    fn today(&self) -> Date {
        ZONE.date_of(self.clock().now())
    }

    fn deadlines_of(&self, row: &RequestRow) -> VaultResult<Deadlines> {
        let received = parse_date(&row.received_on)
            .ok_or_else(|| VaultError::Internal("stored received_on".into()))?;
        let due = parse_date(&row.due).ok_or_else(|| VaultError::Internal("stored due".into()))?;
        Deadlines::restore(received, due).map_err(|e| VaultError::Internal(e.to_string()))
    }

    pub(super) fn view_of(&self, row: &RequestRow) -> VaultResult<RequestView> {
        let state =
            State::parse(&row.state).ok_or_else(|| VaultError::Internal("stored state".into()))?;
        let d = self.deadlines_of(row)?;
        let today = self.today();
        let open = !state.is_terminal();
        Ok(RequestView {
            id: row.id,
            reference: row.reference.clone(),
            state,
            rights: row.rights.iter().filter_map(|r| Right::parse(r)).collect(),
            channel: channel_of(&row.channel),
            lang: Lang::parse(&row.lang),
            received_at: time_of(row.received_at),
            received_on: row.received_on.clone(),
            due_initial: row.due_initial.clone(),
            due_max: row.due_max.clone(),
            due: row.due.clone(),
            extended: d.extended,
            overdue: open && d.overdue(today),
            due_soon: open && d.due_soon(today),
            days_left: d.days_left(today),
            due_on_weekend: dsr::falls_on_weekend(d.due),
            closed_at: row.closed_at.map(time_of),
        })
    }

    fn event(
        &self,
        who: &Principal,
        request: Uuid,
        action: &str,
        from: Option<State>,
        to: State,
    ) -> RequestEventRow {
        RequestEventRow {
            tenant_id: self.tenant,
            id: new_id(),
            request_id: request,
            at: self.now(),
            actor: who.actor.to_string(),
            action: action.to_owned(),
            from_state: from.map(|s| s.as_str().to_owned()),
            to_state: to.as_str().to_owned(),
        }
    }

    /// The reminder job for the deadline in force (unique per request and deadline).
    fn reminder_job(&self, request: Uuid, d: &Deadlines) -> Option<JobRow> {
        let on = d.reminder_on()?;
        // 07:00 UTC: 08:00 or 09:00 in Oslo, at the start of the working day.
        let at = on
            .with_time(time::Time::from_hms(7, 0, 0).ok()?)
            .assume_utc();
        let now = self.now();
        Some(JobRow {
            id: new_id(),
            kind: KIND_DSR_REMINDER.to_owned(),
            payload: json!({ "tenant": self.tenant, "request": request }).to_string(),
            state: job_state::QUEUED.to_owned(),
            run_at: to_micros(at).max(now),
            attempts: 0,
            max_attempts: 5,
            lease_owner: None,
            lease_until: None,
            last_error: None,
            unique_key: Some(format!(
                "{KIND_DSR_REMINDER}:{request}:{}",
                date_text(d.due)
            )),
            created_at: now,
            updated_at: now,
        })
    }

    /// Receives a request (see the module documentation).
    pub async fn submit_request(
        &self,
        who: &Principal,
        input: &RequestInput,
        idem: Option<(String, Vec<u8>)>,
    ) -> VaultResult<RequestView> {
        self.require(who, Permission::RequestsWrite)?;
        let mut errors = Vec::new();
        let mut rights = input.rights.clone();
        rights.sort();
        rights.dedup();
        if rights.is_empty() || rights.len() != input.rights.len() {
            errors.push(FieldError::new(
                "rights",
                "invalid_rights",
                "1 to 6 distinct rights are required",
            ));
        }
        if input.identifiers.is_empty() || input.identifiers.len() > 10 {
            errors.push(FieldError::new(
                "identifiers",
                "invalid_identifiers",
                "1 to 10 identifiers are required",
            ));
        }
        let mut identifiers = Vec::new();
        for (i, ident) in input.identifiers.iter().enumerate() {
            match self.normalise_identifier(&format!("identifiers[{i}]"), ident) {
                Ok(pair) => identifiers.push(pair),
                Err(e) => errors.push(e),
            }
        }
        let now = self.clock().now();
        let received = match input.received_at {
            None => now,
            Some(at) if !input.channel.entered_by_staff() => {
                errors.push(FieldError::new(
                    "received_at",
                    "not_allowed",
                    "only requests entered by staff (email, mail, phone, in person) carry an arrival time",
                ));
                at
            }
            Some(at) if at > now || at < now - MAX_BACKDATE => {
                errors.push(FieldError::new(
                    "received_at",
                    "out_of_range",
                    "the arrival time may not be in the future or more than 31 days back",
                ));
                at
            }
            Some(at) => at,
        };
        let staff_reason = match &input.staff_verification {
            None => None,
            Some(text) => match reason_field("staff_verification", text) {
                Ok(t) => Some(t),
                Err(e) => {
                    errors.push(e);
                    None
                }
            },
        };
        if input
            .details
            .as_ref()
            .is_some_and(|d| d.chars().count() > MAX_DETAILS)
        {
            errors.push(FieldError::new(
                "details",
                "too_long",
                format!("at most {MAX_DETAILS} characters"),
            ));
        }
        if !errors.is_empty() {
            return Err(VaultError::Validation(errors));
        }
        if staff_reason.is_some() {
            self.require(who, Permission::RequestsManage)?;
        }
        // Method (b): a signed token names and verifies the subject.
        let oidc = match &input.id_token {
            None => None,
            Some(token) => Some(self.verify_request_token(token).await?),
        };
        let deadlines = Deadlines::compute(received, ZONE)
            .map_err(|e| VaultError::field("received_at", "out_of_range", e.to_string()))?;

        // The same lookups whether or not anything matches.
        let mut subject = None;
        for (kind, value) in &identifiers {
            let found = self
                .store
                .find_by_blind_index(self.tenant, kind, &self.blind_index(kind, value))
                .await
                .map_err(VaultError::store("subject"))?;
            if subject.is_none() {
                subject = found;
            }
        }
        if let Some(v) = &oidc {
            // Only the verified identity links a subject: an unverified identifier in the
            // same request must not.
            subject = v.subject;
        }

        let id = new_id();
        let reference = dsr::new_reference();
        let lang = input.lang;
        let mut case = CaseFile {
            identifiers,
            details: input.details.clone(),
            ..CaseFile::default()
        };
        let email = case.email().map(str::to_owned);
        // Per-address limit on letters: the request is always stored, but an address that
        // already got MAIL_PER_ADDRESS_PER_HOUR requests' letters this hour gets no more.
        let requester_index = email
            .as_deref()
            .map(|e| self.blind_index("vern/dsr-requester", e));
        let mut letters_suppressed = false;
        if let Some(index) = &requester_index {
            let since = to_micros(now - time::Duration::hours(1));
            let recent = self
                .store
                .count_requests_from(self.tenant, index, since)
                .await
                .map_err(VaultError::store("request"))?;
            letters_suppressed = recent >= MAIL_PER_ADDRESS_PER_HOUR;
        }
        let email_for_letters = email.clone().filter(|_| !letters_suppressed);
        let mut mails = Vec::new();
        let mut verification = None;
        let (state, action) = if let Some(v) = &oidc {
            case.verification = Some(CaseVerification {
                method: "oidc".into(),
                reason: Some(format!("token of {}", v.issuer)),
                at: self.now(),
            });
            (State::InProgress, Action::Verify)
        } else if let Some(reason) = staff_reason {
            case.verification = Some(CaseVerification {
                method: "staff".into(),
                reason: Some(reason),
                at: self.now(),
            });
            (State::InProgress, Action::Verify)
        } else if let Some(to) = &email_for_letters {
            let (row, mail) = self.new_verification(id, &reference, lang, to)?;
            verification = Some(row);
            mails.push(mail);
            (State::AwaitingIdentity, Action::RequestIdentity)
        } else {
            (State::Received, Action::RequestIdentity)
        };
        if let Some(to) = &email_for_letters {
            mails.insert(
                0,
                receipt_mail(to, &reference, &rights, lang, &deadlines, id),
            );
        }
        let now_us = self.now();
        let row = RequestRow {
            tenant_id: self.tenant,
            id,
            reference,
            state: state.as_str().to_owned(),
            rights: right_names(&rights)
                .into_iter()
                .map(str::to_owned)
                .collect(),
            channel: input.channel.as_str().to_owned(),
            lang: lang.as_str().to_owned(),
            subject_id: subject,
            case_ct: self.seal_case(id, &case)?,
            received_at: to_micros(received),
            received_on: date_text(deadlines.received_on),
            due_initial: date_text(deadlines.due_initial),
            due_max: date_text(deadlines.due_max),
            due: date_text(deadlines.due),
            created_by: who.actor.to_string(),
            idem_key: idem.as_ref().map(|(k, _)| k.clone()),
            idem_digest: idem.as_ref().map(|(_, d)| d.clone()),
            requester_index,
            closed_at: None,
            updated_at: now_us,
            version: 1,
        };
        let audit = vec![self.audit(
            who,
            "dsr.receive",
            subject,
            Some("compliance.dsr_handling"),
            json!({
                "request": id,
                "rights": right_names(&rights),
                "channel": input.channel.as_str(),
                "state": state.as_str(),
                "action": action.as_str(),
                "letters_suppressed": letters_suppressed,
            }),
        )];
        let event = self.event(who, id, "receive", None, state);
        let jobs = self.reminder_job(id, &deadlines).into_iter().collect();
        let change = RequestChange {
            download: None,
            reissue_download: None,
            row: row.clone(),
            expected_version: None,
            event,
            clear_verifications: false,
            verification,
            jobs,
            mail: Vec::new(),
            audit,
        };
        let change = self.with_mail(change, mails)?;
        match self
            .store
            .insert_request(change)
            .await
            .map_err(VaultError::store("request"))?
        {
            None => self.view_of(&row),
            Some(existing) => {
                if !optional_digests_equal(
                    existing.idem_digest.as_deref(),
                    row.idem_digest.as_deref(),
                ) {
                    return Err(VaultError::field(
                        "Idempotency-Key",
                        "idempotency_key_reused",
                        "this Idempotency-Key was used for a different request",
                    ));
                }
                self.view_of(&existing)
            }
        }
    }

    async fn load(&self, id: Uuid) -> VaultResult<Loaded> {
        let row = self
            .store
            .get_request(self.tenant, id)
            .await
            .map_err(VaultError::store("request"))?;
        let case = self.open_case(&row)?;
        let state =
            State::parse(&row.state).ok_or_else(|| VaultError::Internal("stored state".into()))?;
        let rights = row.rights.iter().filter_map(|r| Right::parse(r)).collect();
        let lang = Lang::parse(&row.lang);
        Ok(Loaded {
            row,
            case,
            state,
            rights,
            lang,
        })
    }

    /// Lists requests by deadline, with overdue and due-soon flags.
    pub async fn list_requests(
        &self,
        who: &Principal,
        state: Option<&str>,
        right: Option<&str>,
        open_only: bool,
        after: Option<&str>,
        limit: u32,
    ) -> VaultResult<RequestPage> {
        self.require(who, Permission::RequestsRead)?;
        let mut errors = Vec::new();
        if state.is_some_and(|s| State::parse(s).is_none()) {
            errors.push(FieldError::new(
                "state",
                "unknown_state",
                "no such request state",
            ));
        }
        if right.is_some_and(|r| Right::parse(r).is_none()) {
            errors.push(FieldError::new("right", "unknown_right", "no such right"));
        }
        let after = match after {
            None => None,
            Some(text) => match text
                .split_once('_')
                .and_then(|(d, i)| Some((parse_date(d)?, Uuid::parse_str(i).ok()?)))
            {
                Some((d, i)) => Some((date_text(d), i)),
                None => {
                    errors.push(FieldError::new(
                        "after",
                        "invalid_cursor",
                        "pass the `next` value of the previous page",
                    ));
                    None
                }
            },
        };
        if !(1..=500).contains(&limit) {
            errors.push(FieldError::new("limit", "out_of_range", "1 to 500"));
        }
        if !errors.is_empty() {
            return Err(VaultError::Validation(errors));
        }
        let rows = self
            .store
            .list_requests(
                self.tenant,
                RequestFilter {
                    state: state.map(str::to_owned),
                    right: right.map(str::to_owned),
                    open_only,
                    after,
                    limit,
                },
            )
            .await
            .map_err(VaultError::store("request"))?;
        let items = rows
            .iter()
            .map(|r| self.view_of(r))
            .collect::<VaultResult<Vec<_>>>()?;
        let next = (rows.len() == limit as usize)
            .then(|| rows.last().map(|r| format!("{}_{}", r.due, r.id)))
            .flatten();
        Ok(RequestPage { items, next })
    }

    /// A request with its case file and history.
    pub async fn get_request(&self, who: &Principal, id: Uuid) -> VaultResult<RequestDetail> {
        self.require(who, Permission::RequestsRead)?;
        if !self.can_category(who, CASE_FIELD) {
            return Err(VaultError::Forbidden(format!(
                "the role `{}` may not read the category `{CASE_FIELD}`",
                who.role
            )));
        }
        let l = self.load(id).await?;
        let events = self
            .store
            .request_events(self.tenant, id)
            .await
            .map_err(VaultError::store("request"))?;
        let entry = self.audit(
            who,
            "dsr.read",
            l.row.subject_id,
            Some("compliance.dsr_handling"),
            json!({ "request": id }),
        );
        self.append_audit(vec![entry]).await?;
        let view = self.view_of(&l.row)?;
        Ok(RequestDetail {
            request: view,
            subject_id: l.row.subject_id,
            identifiers: l
                .case
                .identifiers
                .iter()
                .map(|(k, v)| IdentifierInput {
                    kind: k.clone(),
                    value: v.clone(),
                })
                .collect(),
            details: l.case.details.clone(),
            verification: l.case.verification.as_ref().map(|v| VerificationNote {
                method: v.method.clone(),
                reason: v.reason.clone(),
                at: time_of(v.at),
            }),
            extension_reason: l.case.extension_reason.clone(),
            outcomes: l.case.outcomes.clone(),
            refusal: l.case.refusal.clone(),
            withdrawal_reason: l.case.withdrawal_reason.clone(),
            history: events
                .into_iter()
                .map(|e| RequestEventView {
                    at: time_of(e.at),
                    actor: e.actor,
                    action: e.action,
                    from_state: e.from_state,
                    to_state: e.to_state,
                })
                .collect(),
        })
    }

    /// Applies a staff action (see [`RequestAction`]).
    pub async fn act_on_request(
        &self,
        who: &Principal,
        id: Uuid,
        action: &RequestAction,
    ) -> VaultResult<RequestView> {
        match action {
            RequestAction::Refuse { .. } => self.require(who, Permission::RequestsRefuse)?,
            _ => self.require(who, Permission::RequestsManage)?,
        }
        let mut l = self.load(id).await?;
        let from = l.state;
        let mut mails = Vec::new();
        let mut jobs = Vec::new();
        let mut verification = None;
        let mut clear = false;
        let mut download = None;
        let mut reissue_download = None;
        let mut row = l.row.clone();
        let email = l.case.email().map(str::to_owned);
        let (name, to) = match action {
            RequestAction::Verify { reason } => {
                let reason =
                    reason_field("reason", reason).map_err(|e| VaultError::Validation(vec![e]))?;
                let to = dsr::transition(from, Action::Verify).map_err(transition_error)?;
                l.case.verification = Some(CaseVerification {
                    method: "staff".into(),
                    reason: Some(reason),
                    at: self.now(),
                });
                clear = true;
                ("verify", to)
            }
            RequestAction::UnableToIdentify { reason } => {
                let reason =
                    reason_field("reason", reason).map_err(|e| VaultError::Validation(vec![e]))?;
                let to = dsr::transition(from, Action::FailIdentity).map_err(transition_error)?;
                l.case.unable_reason = Some(reason.clone());
                clear = true;
                if let Some(to) = &email {
                    mails.push(self.refusal_mail(
                        &l,
                        to,
                        "unable_to_identify",
                        &reason,
                        "GDPR Art. 11(2), 12(2)",
                    ));
                }
                ("unable_to_identify", to)
            }
            RequestAction::Extend { months, reason } => {
                let to = dsr::transition(from, Action::Extend).map_err(transition_error)?;
                let d = self.deadlines_of(&l.row)?;
                let e = d
                    .extend(*months, reason, self.today())
                    .map_err(|e| match e {
                        DeadlineError::ReasonRequired => {
                            VaultError::field("reason", "reason_required", e.to_string())
                        }
                        DeadlineError::BadMonths => {
                            VaultError::field("months", "out_of_range", e.to_string())
                        }
                        DeadlineError::TooLate(_) | DeadlineError::AlreadyExtended => {
                            VaultError::Conflict(e.to_string())
                        }
                        DeadlineError::OutOfRange => VaultError::Internal(e.to_string()),
                    })?;
                row.due = date_text(e.due);
                l.case.extension_reason = Some(reason.trim().to_owned());
                jobs.extend(self.reminder_job(id, &e));
                if let Some(to) = &email {
                    mails.push(PendingMail {
                        to: to.clone(),
                        template: "dsr_extended",
                        lang: l.lang,
                        params: json!({
                            "reference": l.row.reference,
                            "due": row.due,
                            "reason": reason.trim(),
                        }),
                        dedup_key: Some(format!("dsr_extended:{id}")),
                    });
                }
                ("extend", to)
            }
            RequestAction::RecordOutcome { outcome } => {
                if !matches!(from, State::InProgress | State::Extended) {
                    return Err(VaultError::Conflict(format!(
                        "a request in state `{from}` takes no outcomes (verify it first)"
                    )));
                }
                let outcome = check_outcome(outcome, &l.rights)?;
                l.case.outcomes.retain(|o| o.right != outcome.right);
                l.case.outcomes.push(outcome);
                l.case.outcomes.sort_by_key(|o| o.right);
                ("record_outcome", from)
            }
            RequestAction::Complete {
                rectifications,
                restriction,
                objection,
            } => {
                if !matches!(from, State::InProgress | State::Extended) {
                    // The transition table gives the precise refusal.
                    let to = dsr::transition(from, Action::Complete).map_err(transition_error)?;
                    return Err(VaultError::Conflict(format!(
                        "a request in state `{from}` cannot be completed (to `{to}`)"
                    )));
                }
                let input = FulfilInput {
                    rectifications: rectifications.clone(),
                    restriction: *restriction,
                    objection: objection.clone(),
                };
                self.check_fulfil_input(&l, &input)?;
                let done = self.fulfil_rights(who, &l, &input).await?;
                l.case.outcomes = done.outcomes;
                let act = closing_action(&l.case.outcomes);
                let to = dsr::transition(from, act).map_err(transition_error)?;
                let sealed = self.seal_download(&l, done.artefacts, done.subject_left)?;
                let mut extra = None;
                if let Some((row, job, link, expires)) = sealed {
                    l.case.download = Some(CaseDownload {
                        id: row.id,
                        expires_at: row.expires_at,
                    });
                    extra = Some(Self::download_lines(
                        l.lang,
                        &link,
                        expires,
                        row.max_downloads,
                    ));
                    jobs.push(job);
                    download = Some(row);
                }
                if let Some(addr) = &email {
                    mails.push(self.completion_mail(&l, addr, to, extra.as_deref()));
                }
                ("complete", to)
            }
            RequestAction::Refuse {
                reason,
                legal_basis,
            } => {
                let reason =
                    reason_field("reason", reason).map_err(|e| VaultError::Validation(vec![e]))?;
                let basis = reason_field("legal_basis", legal_basis)
                    .map_err(|e| VaultError::Validation(vec![e]))?;
                let to = dsr::transition(from, Action::Refuse).map_err(transition_error)?;
                if let Some(addr) = &email {
                    mails.push(self.refusal_mail(&l, addr, "refused", &reason, &basis));
                }
                l.case.refusal = Some(Refusal {
                    reason,
                    legal_basis: basis,
                });
                ("refuse", to)
            }
            RequestAction::Withdraw { reason } => {
                let to = dsr::transition(from, Action::Withdraw).map_err(transition_error)?;
                if let Some(r) = reason {
                    l.case.withdrawal_reason = Some(
                        reason_field("reason", r).map_err(|e| VaultError::Validation(vec![e]))?,
                    );
                }
                clear = true;
                ("withdraw", to)
            }
            RequestAction::ResendVerification => {
                let to =
                    dsr::transition(from, Action::RequestIdentity).map_err(transition_error)?;
                let Some(addr) = &email else {
                    return Err(VaultError::Conflict(
                        "the request has no email address to send a link to; verify it by staff"
                            .into(),
                    ));
                };
                let since = to_micros(self.clock().now() - time::Duration::hours(1));
                let sent = self
                    .store
                    .count_request_events_since(self.tenant, id, "request_identity", since)
                    .await
                    .map_err(VaultError::store("request"))?
                    + self
                        .store
                        .count_request_events_since(self.tenant, id, "receive", since)
                        .await
                        .map_err(VaultError::store("request"))?;
                if sent >= VERIFICATION_LINKS_PER_HOUR {
                    return Err(VaultError::RateLimited(format!(
                        "at most {VERIFICATION_LINKS_PER_HOUR} verification links an hour"
                    )));
                }
                let (v, mail) = self.new_verification(id, &l.row.reference, l.lang, addr)?;
                verification = Some(v);
                mails.push(mail);
                clear = true;
                ("request_identity", to)
            }
            RequestAction::ResendLetter => {
                let Some(addr) = &email else {
                    return Err(VaultError::Conflict(
                        "the request has no email address to write to".into(),
                    ));
                };
                let since = to_micros(self.clock().now() - time::Duration::hours(1));
                let sent = self
                    .store
                    .count_request_events_since(self.tenant, id, "resend_letter", since)
                    .await
                    .map_err(VaultError::store("request"))?;
                if sent >= VERIFICATION_LINKS_PER_HOUR {
                    return Err(VaultError::RateLimited(format!(
                        "at most {VERIFICATION_LINKS_PER_HOUR} letters an hour"
                    )));
                }
                let d = self.deadlines_of(&l.row)?;
                let mut letter = match from {
                    State::Received | State::AwaitingIdentity | State::InProgress => {
                        receipt_mail(addr, &l.row.reference, &l.rights, l.lang, &d, id)
                    }
                    State::Extended => PendingMail {
                        to: addr.clone(),
                        template: "dsr_extended",
                        lang: l.lang,
                        params: json!({
                            "reference": l.row.reference,
                            "due": l.row.due,
                            "reason": l.case.extension_reason.clone().unwrap_or_default(),
                        }),
                        dedup_key: None,
                    },
                    State::Completed | State::PartiallyRefused => {
                        // Only the hash of the download link's token is kept: a resent letter
                        // carries a fresh link to the same files (the old one stops working),
                        // while they can still be taken; otherwise the letter has none.
                        let live = match &l.case.download {
                            Some(d) => self
                                .store
                                .live_download(self.tenant, d.id, self.now())
                                .await
                                .map_err(VaultError::store("request"))?
                                .map(|live| (d.id, live)),
                            None => None,
                        };
                        let lines = live.map(|(download_id, (expires_at, left))| {
                            let token = generate_token();
                            reissue_download = Some((download_id, hash_token(&token).to_vec()));
                            let link = format!("{}/v1/public/downloads/{token}", self.public_url());
                            Self::download_lines(l.lang, &link, time_of(expires_at), left)
                        });
                        self.completion_mail(&l, addr, from, lines.as_deref())
                    }
                    State::Refused => match &l.case.refusal {
                        Some(r) => {
                            self.refusal_mail(&l, addr, "refused", &r.reason, &r.legal_basis)
                        }
                        None => self.completion_mail(&l, addr, from, None),
                    },
                    State::UnableToIdentify => self.refusal_mail(
                        &l,
                        addr,
                        "unable_to_identify",
                        l.case.unable_reason.as_deref().unwrap_or_default(),
                        "GDPR Art. 11(2), 12(2)",
                    ),
                    State::Withdrawn => {
                        return Err(VaultError::Conflict(
                            "a withdrawn request has no letter to send again".into(),
                        ));
                    }
                };
                letter.dedup_key = Some(format!("dsr_resend:{id}:{}", new_id()));
                mails.push(letter);
                ("resend_letter", from)
            }
        };
        row.state = to.as_str().to_owned();
        if to.is_terminal() && !from.is_terminal() {
            row.closed_at = Some(self.now());
            clear = true;
        }
        row.case_ct = self.seal_case(id, &l.case)?;
        row.updated_at = self.now();
        row.version = l.row.version + 1;
        let audit = vec![self.audit(
            who,
            &format!("dsr.{name}"),
            l.row.subject_id,
            Some("compliance.dsr_handling"),
            json!({ "request": id, "from": from.as_str(), "to": to.as_str() }),
        )];
        let change = RequestChange {
            download,
            reissue_download,
            event: self.event(who, id, name, Some(from), to),
            row: row.clone(),
            expected_version: Some(l.row.version),
            clear_verifications: clear,
            verification,
            jobs,
            mail: Vec::new(),
            audit,
        };
        let change = self.with_mail(change, mails)?;
        self.store
            .update_request(change)
            .await
            .map_err(VaultError::store("request"))?;
        self.view_of(&row)
    }

    /// The reminder job: mails the privacy team (the staff address, or the policy's
    /// data-protection contact) through the outbox that a deadline is near for an open request,
    /// and audits it. Idempotent: the mail's dedup key is the request and the deadline.
    pub async fn remind_request(&self, id: Uuid) -> VaultResult<()> {
        let row = match self.store.get_request(self.tenant, id).await {
            Ok(r) => r,
            Err(StoreError::NotFound) => return Ok(()),
            Err(e) => return Err(VaultError::Internal(e.to_string())),
        };
        let view = self.view_of(&row)?;
        if view.state.is_terminal() {
            return Ok(());
        }
        let system = Principal::new(super::Actor::System, "system");
        let m = self.reminder_mail(&row.reference, &row.due, view.days_left, id);
        let msg = self.seal_mail(
            &m.to,
            m.template,
            m.lang.as_str(),
            m.params,
            None,
            m.dedup_key,
        )?;
        let queued = self.enqueue_mail(vec![msg]).await?;
        let entry = self.audit(
            &system,
            "dsr.reminder",
            row.subject_id,
            Some("compliance.dsr_handling"),
            json!({ "request": id, "due": row.due, "days_left": view.days_left, "mailed": queued }),
        );
        self.append_audit(vec![entry]).await
    }
}

fn channel_of(text: &str) -> Channel {
    match text {
        "web" => Channel::Web,
        "api" => Channel::Api,
        "email" => Channel::Email,
        "mail" => Channel::Mail,
        "phone" => Channel::Phone,
        _ => Channel::InPerson,
    }
}

/// Completed when every right was done in full; refused when every right was refused;
/// partially refused otherwise.
pub fn closing_action(outcomes: &[Fulfilment]) -> Action {
    if outcomes.iter().all(|o| o.status == FulfilmentStatus::Done) {
        Action::Complete
    } else if outcomes
        .iter()
        .all(|o| o.status == FulfilmentStatus::Refused)
    {
        Action::Refuse
    } else {
        Action::PartiallyRefuse
    }
}

fn check_outcome(o: &Fulfilment, rights: &[Right]) -> VaultResult<Fulfilment> {
    let mut errors = Vec::new();
    if !rights.contains(&o.right) {
        errors.push(FieldError::new(
            "outcome.right",
            "right_not_requested",
            "the request does not ask for this right",
        ));
    }
    let mut out = o.clone();
    if o.status != FulfilmentStatus::Done {
        match o
            .reason
            .as_deref()
            .map(|r| reason_field("outcome.reason", r))
        {
            Some(Ok(r)) => out.reason = Some(r),
            Some(Err(e)) => errors.push(e),
            None => errors.push(FieldError::new(
                "outcome.reason",
                "reason_required",
                "a refusal or partial outcome needs the reason sent to the subject",
            )),
        }
        match o
            .legal_basis
            .as_deref()
            .map(|r| reason_field("outcome.legal_basis", r))
        {
            Some(Ok(r)) => out.legal_basis = Some(r),
            Some(Err(e)) => errors.push(e),
            None => errors.push(FieldError::new(
                "outcome.legal_basis",
                "legal_basis_required",
                "a refusal or partial outcome needs its legal basis (article and national law)",
            )),
        }
    }
    if o.kept_until
        .as_deref()
        .is_some_and(|d| parse_date(d).is_none())
    {
        errors.push(FieldError::new(
            "outcome.kept_until",
            "invalid_date",
            "expected YYYY-MM-DD",
        ));
    }
    if o.letter.as_ref().is_some_and(|a| a.chars().count() > 4_000) {
        errors.push(FieldError::new(
            "outcome.letter",
            "too_long",
            "at most 4000 characters",
        ));
    }
    if o.artefact.as_ref().is_some_and(|a| a.chars().count() > 500) {
        errors.push(FieldError::new(
            "outcome.artefact",
            "too_long",
            "at most 500 characters",
        ));
    }
    if errors.is_empty() {
        Ok(out)
    } else {
        Err(VaultError::Validation(errors))
    }
}

/// Whether two optional idempotency digests are the same: both absent, or both present and equal
/// byte for byte, compared in constant time.
fn optional_digests_equal(a: Option<&[u8]>, b: Option<&[u8]>) -> bool {
    match (a, b) {
        (None, None) => true,
        (Some(a), Some(b)) => vern_core::crypto::constant_time_eq(a, b),
        _ => false,
    }
}

#[cfg(test)]
mod digest_tests {
    use super::optional_digests_equal;

    #[test]
    fn optional_digests_compare_presence_and_content() {
        assert!(optional_digests_equal(None, None));
        assert!(optional_digests_equal(Some(b"ab"), Some(b"ab")));
        assert!(!optional_digests_equal(Some(b"ab"), Some(b"ac")));
        assert!(!optional_digests_equal(Some(b"ab"), None));
        assert!(!optional_digests_equal(None, Some(b"")));
    }
}
