//! Data-subject requests: the GDPR Art. 12(3) deadlines and the request state machine.
//!
//! Pure rules: the caller passes `received_at` and `now`; nothing here reads a clock.
//!
//! # Deadlines
//!
//! Months are calendar months (Reg. 1182/71): the day of receipt is not counted, the period
//! ends on the same date one month later, or on the month's last day when that date does not
//! exist (31 January → 28/29 February). Dates are taken in the controller's local time
//! ([`LocalZone`]), so a request arriving at 23:30 UTC on 31 March counts from 1 April in Oslo.
//!
//! - `due_initial` = receipt date + 1 month;
//! - `due_max` = min(`due_initial` + 2 months, receipt date + 3 months): 31 January gives
//!   28 February and 28 April, not 30 April (the conservative reading of the ceiling);
//! - an extension is allowed once, by 1 or 2 months, only with a reason, only while
//!   `today ≤ due_initial`, and never past `due_max`.
//!
//! A deadline is a date: the request is overdue from the day after it. The internal target
//! (`received + 25 days`) and the reminders are alerts, never deadlines.
//!
//! # States
//!
//! ```text
//! received ──► awaiting_identity ──► in_progress ──► extended
//!    │  └──────────(verify)──────────►  │   │           │
//!    │                  │               ▼   ▼           ▼
//!    │                  ▼        completed / partially_refused / refused
//!    │          unable_to_identify
//!    └──► withdrawn ◄── (from every non-terminal state)
//! ```
//!
//! Terminal states accept nothing. Every (state, action) pair not listed in
//! [`transition`] is refused with [`TransitionError`].

use std::fmt;

use serde::{Deserialize, Serialize};
use time::{Date, Duration, Month, OffsetDateTime, UtcOffset, Weekday};
use vern_policy::duration::add_months;

#[cfg(test)]
mod tests;

/// Days before a deadline at which a reminder is due (requirements §3.2).
pub const REMINDER_DAYS_BEFORE_DUE: i64 = 5;
/// Days before `due_max` at which the last reminder is due.
pub const REMINDER_DAYS_BEFORE_MAX: i64 = 10;
/// The internal target: answer within 25 days of receipt.
pub const INTERNAL_TARGET_DAYS: i64 = 25;
/// A request is "due soon" this many days (or fewer) before its deadline.
pub const DUE_SOON_DAYS: i64 = 5;
/// The longest extension reason kept (it is sent to the subject).
pub const MAX_REASON_LEN: usize = 2_000;

/// The rights a request can ask for (Art. 15-18, 20, 21, and withdrawal of consent).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Right {
    Access,
    Rectification,
    Erasure,
    Restriction,
    Portability,
    Objection,
}

impl Right {
    pub const ALL: [Right; 6] = [
        Right::Access,
        Right::Rectification,
        Right::Erasure,
        Right::Restriction,
        Right::Portability,
        Right::Objection,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Right::Access => "access",
            Right::Rectification => "rectification",
            Right::Erasure => "erasure",
            Right::Restriction => "restriction",
            Right::Portability => "portability",
            Right::Objection => "objection",
        }
    }

    pub fn parse(text: &str) -> Option<Right> {
        Self::ALL.into_iter().find(|r| r.as_str() == text)
    }
}

/// The controller's local time, in which deadline dates are counted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum LocalZone {
    /// Central European Time with the EU summer-time rule (Oslo, Stockholm, Copenhagen):
    /// UTC+1, UTC+2 from 01:00 UTC on the last Sunday of March to 01:00 UTC on the last
    /// Sunday of October (Directive 2000/84/EC).
    #[default]
    EuropeCentral,
    /// A fixed offset (tests, controllers elsewhere).
    Fixed(UtcOffset),
}

impl LocalZone {
    /// The local calendar date of an instant.
    pub fn date_of(self, at: OffsetDateTime) -> Date {
        let utc = at.to_offset(UtcOffset::UTC);
        let offset = match self {
            LocalZone::Fixed(o) => o,
            LocalZone::EuropeCentral => {
                let hours = if eu_summer_time(utc) { 2 } else { 1 };
                UtcOffset::from_hms(hours, 0, 0).unwrap_or(UtcOffset::UTC)
            }
        };
        utc.to_offset(offset).date()
    }
}

/// The last Sunday of a month.
fn last_sunday(year: i32, month: Month) -> Option<Date> {
    let last = Date::from_calendar_date(year, month, month.length(year)).ok()?;
    let back = i64::from(last.weekday().number_days_from_sunday());
    last.checked_sub(Duration::days(back))
}

fn eu_summer_time(utc: OffsetDateTime) -> bool {
    let year = utc.year();
    let (Some(start), Some(end)) = (
        last_sunday(year, Month::March),
        last_sunday(year, Month::October),
    ) else {
        return false;
    };
    let one = time::Time::from_hms(1, 0, 0).unwrap_or(time::Time::MIDNIGHT);
    let start = start.with_time(one).assume_utc();
    let end = end.with_time(one).assume_utc();
    utc >= start && utc < end
}

/// A request's deadlines, as local dates.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Deadlines {
    /// The local date of receipt.
    pub received_on: Date,
    /// One month from receipt (Art. 12(3), first sentence).
    pub due_initial: Date,
    /// The furthest an extension may reach.
    pub due_max: Date,
    /// The deadline in force: `due_initial`, or the extended date.
    pub due: Date,
    pub extended: bool,
}

/// Why a deadline could not be computed or extended.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DeadlineError {
    #[error("the date is outside the supported calendar")]
    OutOfRange,
    #[error("an extension needs a reason (Art. 12(3)), at most {MAX_REASON_LEN} characters")]
    ReasonRequired,
    #[error("an extension is 1 or 2 further months")]
    BadMonths,
    #[error("an extension must be decided and sent on or before the initial deadline {0}")]
    TooLate(Date),
    #[error("the request was already extended")]
    AlreadyExtended,
}

impl Deadlines {
    /// The deadlines of a request received at `received_at`.
    pub fn compute(received_at: OffsetDateTime, zone: LocalZone) -> Result<Self, DeadlineError> {
        Self::for_date(zone.date_of(received_at))
    }

    /// The deadlines of a request received on the local date `received_on`.
    pub fn for_date(received_on: Date) -> Result<Self, DeadlineError> {
        let due_initial = add_months(received_on, 1).ok_or(DeadlineError::OutOfRange)?;
        let by_extension = add_months(due_initial, 2).ok_or(DeadlineError::OutOfRange)?;
        let by_receipt = add_months(received_on, 3).ok_or(DeadlineError::OutOfRange)?;
        Ok(Self {
            received_on,
            due_initial,
            due_max: by_extension.min(by_receipt),
            due: due_initial,
            extended: false,
        })
    }

    /// The deadlines after extending by `months` (1 or 2) with `reason`, decided on the local
    /// date `today`.
    pub fn extend(&self, months: u32, reason: &str, today: Date) -> Result<Self, DeadlineError> {
        let reason = reason.trim();
        if reason.is_empty() || reason.chars().count() > MAX_REASON_LEN {
            return Err(DeadlineError::ReasonRequired);
        }
        if !(1..=2).contains(&months) {
            return Err(DeadlineError::BadMonths);
        }
        if self.extended {
            return Err(DeadlineError::AlreadyExtended);
        }
        if today > self.due_initial {
            return Err(DeadlineError::TooLate(self.due_initial));
        }
        let wanted = add_months(self.due_initial, months).ok_or(DeadlineError::OutOfRange)?;
        Ok(Self {
            due: wanted.min(self.due_max),
            extended: true,
            ..*self
        })
    }

    /// Rebuilds stored deadlines (the extension is whatever `due` says).
    pub fn restore(received_on: Date, due: Date) -> Result<Self, DeadlineError> {
        let base = Self::for_date(received_on)?;
        Ok(Self {
            due,
            extended: due != base.due_initial,
            ..base
        })
    }

    /// The internal target date (an alert, not a deadline).
    pub fn internal_target(&self) -> Option<Date> {
        self.received_on
            .checked_add(Duration::days(INTERNAL_TARGET_DAYS))
    }

    /// The date a reminder about the deadline in force is due.
    pub fn reminder_on(&self) -> Option<Date> {
        let days = if self.extended {
            REMINDER_DAYS_BEFORE_MAX
        } else {
            REMINDER_DAYS_BEFORE_DUE
        };
        self.due.checked_sub(Duration::days(days))
    }

    /// Overdue from the day after the deadline in force.
    pub fn overdue(&self, today: Date) -> bool {
        today > self.due
    }

    /// Not overdue, and the deadline is at most [`DUE_SOON_DAYS`] away.
    pub fn due_soon(&self, today: Date) -> bool {
        !self.overdue(today) && (self.due - today).whole_days() <= DUE_SOON_DAYS
    }

    /// Whole days left until the deadline (negative when overdue).
    pub fn days_left(&self, today: Date) -> i64 {
        (self.due - today).whole_days()
    }
}

/// Whether a date is a Saturday or Sunday: the deadline is not moved to the next working day
/// (that rule is unverified for the GDPR), but the admin list says so, to act before it.
pub fn falls_on_weekend(date: Date) -> bool {
    matches!(date.weekday(), Weekday::Saturday | Weekday::Sunday)
}

/// Where a request stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum State {
    Received,
    AwaitingIdentity,
    InProgress,
    Extended,
    Completed,
    PartiallyRefused,
    Refused,
    UnableToIdentify,
    Withdrawn,
}

impl State {
    pub const ALL: [State; 9] = [
        State::Received,
        State::AwaitingIdentity,
        State::InProgress,
        State::Extended,
        State::Completed,
        State::PartiallyRefused,
        State::Refused,
        State::UnableToIdentify,
        State::Withdrawn,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            State::Received => "received",
            State::AwaitingIdentity => "awaiting_identity",
            State::InProgress => "in_progress",
            State::Extended => "extended",
            State::Completed => "completed",
            State::PartiallyRefused => "partially_refused",
            State::Refused => "refused",
            State::UnableToIdentify => "unable_to_identify",
            State::Withdrawn => "withdrawn",
        }
    }

    pub fn parse(text: &str) -> Option<State> {
        Self::ALL.into_iter().find(|s| s.as_str() == text)
    }

    /// No further transition: the case is closed.
    pub fn is_terminal(self) -> bool {
        matches!(
            self,
            State::Completed
                | State::PartiallyRefused
                | State::Refused
                | State::UnableToIdentify
                | State::Withdrawn
        )
    }
}

impl fmt::Display for State {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What can happen to a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    /// Identity must be confirmed (a one-time link was sent).
    RequestIdentity,
    /// Identity confirmed (link and code, a trusted token, or staff with a reason).
    Verify,
    /// Identity could not be confirmed (attempts spent, or no proof by the deadline).
    FailIdentity,
    /// Deadline extended with a reason (Art. 12(3)).
    Extend,
    /// Every right fulfilled.
    Complete,
    /// Some elements refused under an exception, with reasons.
    PartiallyRefuse,
    /// The whole request refused (Art. 12(5)), with a reason.
    Refuse,
    /// The requester withdrew it.
    Withdraw,
}

impl Action {
    pub const ALL: [Action; 8] = [
        Action::RequestIdentity,
        Action::Verify,
        Action::FailIdentity,
        Action::Extend,
        Action::Complete,
        Action::PartiallyRefuse,
        Action::Refuse,
        Action::Withdraw,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Action::RequestIdentity => "request_identity",
            Action::Verify => "verify",
            Action::FailIdentity => "fail_identity",
            Action::Extend => "extend",
            Action::Complete => "complete",
            Action::PartiallyRefuse => "partially_refuse",
            Action::Refuse => "refuse",
            Action::Withdraw => "withdraw",
        }
    }
}

/// A transition the state machine does not allow.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("a request in state `{}` cannot `{}`", from.as_str(), action.as_str())]
pub struct TransitionError {
    pub from: State,
    pub action: Action,
}

/// The next state, or why not.
pub fn transition(from: State, action: Action) -> Result<State, TransitionError> {
    use Action as A;
    use State as S;
    let to = match (from, action) {
        (S::Received, A::RequestIdentity) => S::AwaitingIdentity,
        // A fresh link replaces the old one (resend).
        (S::AwaitingIdentity, A::RequestIdentity) => S::AwaitingIdentity,
        (S::Received | S::AwaitingIdentity, A::Verify) => S::InProgress,
        (S::AwaitingIdentity, A::FailIdentity) => S::UnableToIdentify,
        (S::InProgress, A::Extend) => S::Extended,
        (S::InProgress | S::Extended, A::Complete) => S::Completed,
        (S::InProgress | S::Extended, A::PartiallyRefuse) => S::PartiallyRefused,
        (S::InProgress | S::Extended, A::Refuse) => S::Refused,
        (S::Received | S::AwaitingIdentity | S::InProgress | S::Extended, A::Withdraw) => {
            S::Withdrawn
        }
        _ => return Err(TransitionError { from, action }),
    };
    Ok(to)
}

/// A request reference people can read out on the phone: `DSR-` and 10 characters of
/// Crockford base32 (no I, L, O, U), from 50 random bits.
pub fn new_reference() -> String {
    const ALPHABET: &[u8; 32] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";
    let mut bytes = [0u8; 8];
    crate::crypto::random_bytes(&mut bytes);
    let mut n = u64::from_le_bytes(bytes);
    let mut out = String::from("DSR-");
    for i in 0..10 {
        if i == 5 {
            out.push('-');
        }
        out.push(char::from(ALPHABET[(n & 31) as usize]));
        n >>= 5;
    }
    out
}
