//! The consent ledger as pure rules: what a consent event is, which events the policy allows,
//! and how a subject's events fold into their current consent state.
//!
//! Consent is kept per subject × consent scope × channel. A scope that names channels in the
//! policy (`marketing_email` → `email`) is granted and withdrawn per channel, so a person can
//! keep SMS and stop email; a scope without channels uses the empty channel `""`. A grant that
//! names no channel for a channel-specific scope is expanded into one event per channel by
//! [`plan_events`], so the ledger and its projection only ever hold concrete keys.
//!
//! The projection is deliberately "last event per key wins": every event carries everything its
//! key's state needs (action, time, expiry computed from the scope's `valid_for` when it was
//! recorded). The SQL store can therefore keep the projection with one upsert in the same
//! transaction as the append, and [`fold`] is the reference it must agree with (property test).
//! Expiry is computed at record time on purpose: a later policy change must not silently
//! extend or shorten consents already given; renewing is an explicit event.

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use uuid::Uuid;
use vern_policy::{CalendarDuration, Policy};

use crate::ids::{from_micros, to_micros};

#[cfg(test)]
mod tests;

/// What happened to a consent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ConsentAction {
    Granted,
    Withdrawn,
    /// The scope's `valid_for` ran out (recorded by a sweep, or implied on read).
    Expired,
    /// A standing consent confirmed again, restarting its `valid_for`.
    Renewed,
}

impl ConsentAction {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Granted => "granted",
            Self::Withdrawn => "withdrawn",
            Self::Expired => "expired",
            Self::Renewed => "renewed",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "granted" => Self::Granted,
            "withdrawn" => Self::Withdrawn,
            "expired" => Self::Expired,
            "renewed" => Self::Renewed,
            _ => return None,
        })
    }

    /// Whether the consent stands after this event (before any expiry).
    pub fn grants(self) -> bool {
        matches!(self, Self::Granted | Self::Renewed)
    }
}

/// How the consent was collected (part of the proof, Art. 7(1)).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ConsentMethod {
    Checkbox,
    DoubleOptIn,
    Api,
    /// A Global Privacy Control signal (`Sec-GPC: 1`): only ever a withdrawal.
    Gpc,
}

impl ConsentMethod {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Checkbox => "checkbox",
            Self::DoubleOptIn => "double_opt_in",
            Self::Api => "api",
            Self::Gpc => "gpc",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "checkbox" => Self::Checkbox,
            "double_opt_in" => Self::DoubleOptIn,
            "api" => Self::Api,
            "gpc" => Self::Gpc,
            _ => return None,
        })
    }
}

/// One ledger entry as the domain sees it (the store adds chain fields).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConsentEvent {
    pub id: Uuid,
    pub scope: String,
    /// `""` for a scope without channels.
    pub channel: String,
    pub action: ConsentAction,
    /// Unix microseconds.
    pub at: i64,
    /// When a grant or renewal lapses, from the scope's `valid_for`; `None`: no expiry.
    pub expires_at: Option<i64>,
}

/// The current state of one (scope, channel) key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ConsentStatus {
    pub action: ConsentAction,
    /// Time of the last event.
    pub at: i64,
    pub expires_at: Option<i64>,
    pub event_id: Uuid,
    /// From this time the consent needs renewal: a published policy version widened what it
    /// covers (its effective date). Cleared by the key's next event.
    pub renewal_due_at: Option<i64>,
}

impl ConsentStatus {
    /// Whether the consent counts at `now`: granted or renewed, not past its expiry, and not
    /// waiting for a renewal that a policy change made necessary.
    pub fn is_active(&self, now: i64) -> bool {
        self.is_standing(now) && !self.needs_renewal(now)
    }

    /// Granted or renewed and not past its expiry: what can be renewed, and what an expiry
    /// sweep leaves alone (a consent waiting for renewal has not lapsed).
    pub fn is_standing(&self, now: i64) -> bool {
        self.action.grants() && self.expires_at.is_none_or(|e| now < e)
    }

    /// A standing consent whose purpose widened with a policy version in force at `now`.
    pub fn needs_renewal(&self, now: i64) -> bool {
        self.is_standing(now) && self.renewal_due_at.is_some_and(|r| now >= r)
    }

    /// What a reader should report at `now`: an expired grant reads as `expired` even before a
    /// sweep has recorded the event. (A grant needing renewal still reads as granted here;
    /// [`Self::needs_renewal`] says it does not count.)
    pub fn effective_action(&self, now: i64) -> ConsentAction {
        if self.action.grants() && !self.is_standing(now) {
            ConsentAction::Expired
        } else {
            self.action
        }
    }
}

/// One key of a subject's projection.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConsentEntry {
    pub scope: String,
    pub channel: String,
    pub status: ConsentStatus,
}

/// A subject's current consents. A subject has a handful of keys, so a vector scanned linearly
/// beats a map and lets lookups take `&str` without allocating (decisions are hot).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ConsentState {
    entries: Vec<ConsentEntry>,
}

impl ConsentState {
    pub fn from_entries(mut entries: Vec<ConsentEntry>) -> Self {
        entries.sort_by(|a, b| (&a.scope, &a.channel).cmp(&(&b.scope, &b.channel)));
        entries.dedup_by(|a, b| a.scope == b.scope && a.channel == b.channel);
        Self { entries }
    }

    pub fn entries(&self) -> &[ConsentEntry] {
        &self.entries
    }

    pub fn get(&self, scope: &str, channel: &str) -> Option<&ConsentStatus> {
        self.entries
            .iter()
            .find(|e| e.scope == scope && e.channel == channel)
            .map(|e| &e.status)
    }

    /// Applies one event: the event's key takes the event's state.
    pub fn apply(&mut self, event: &ConsentEvent) {
        let status = ConsentStatus {
            action: event.action,
            at: event.at,
            expires_at: event.expires_at,
            event_id: event.id,
            renewal_due_at: None,
        };
        match self
            .entries
            .iter_mut()
            .find(|e| e.scope == event.scope && e.channel == event.channel)
        {
            Some(e) => e.status = status,
            None => {
                self.entries.push(ConsentEntry {
                    scope: event.scope.clone(),
                    channel: event.channel.clone(),
                    status,
                });
                self.entries
                    .sort_by(|a, b| (&a.scope, &a.channel).cmp(&(&b.scope, &b.channel)));
            }
        }
    }
}

/// Folds a history, in ledger order, into the current state: the reference projection.
pub fn fold<'a>(events: impl IntoIterator<Item = &'a ConsentEvent>) -> ConsentState {
    let mut state = ConsentState::default();
    for e in events {
        state.apply(e);
    }
    state
}

/// Why a consent event is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConsentError {
    // Neither message repeats the client's string: it could be anything, personal data too.
    #[error("the consent scope is not declared in the policy")]
    UnknownScope(String),
    #[error("the channel is not one of the channels of this consent scope")]
    ChannelNotInScope { scope: String, channel: String },
    #[error("a Global Privacy Control signal can only withdraw consent")]
    GpcCannotGrant,
    #[error("only a standing consent can be renewed; grant it instead")]
    NothingToRenew,
    #[error("the consent is not granted, so it cannot expire")]
    NothingToExpire,
}

impl ConsentError {
    /// Stable code for the API's problem type.
    pub fn code(&self) -> &'static str {
        match self {
            Self::UnknownScope(_) => "unknown_consent_scope",
            Self::ChannelNotInScope { .. } => "channel_not_in_scope",
            Self::GpcCannotGrant => "gpc_cannot_grant",
            Self::NothingToRenew => "nothing_to_renew",
            Self::NothingToExpire => "nothing_to_expire",
        }
    }
}

/// The concrete events one request to the ledger produces, checked against the policy and the
/// subject's current state. `channel = None` on a channel-specific scope means every channel of
/// the scope. Withdrawal has no preconditions (Art. 7(3)): withdrawing what was never granted
/// is recorded too, because the person's wish is the evidence.
pub fn plan_events(
    policy: &Policy,
    current: &ConsentState,
    scope: &str,
    channel: Option<&str>,
    action: ConsentAction,
    method: ConsentMethod,
    at: OffsetDateTime,
) -> Result<Vec<ConsentEvent>, ConsentError> {
    let def = policy
        .consent_scope(scope)
        .ok_or_else(|| ConsentError::UnknownScope(scope.to_owned()))?;
    if method == ConsentMethod::Gpc && action.grants() {
        return Err(ConsentError::GpcCannotGrant);
    }
    let channels: Vec<String> = if def.channels.is_empty() {
        // A channel on a channel-less scope is ignored rather than refused: the scope covers
        // every channel, and a form that always sends one must still work.
        vec![String::new()]
    } else {
        match channel {
            None => def.channels.iter().map(|c| c.get_ref().clone()).collect(),
            Some(c) if def.channels.iter().any(|d| d.get_ref() == c) => vec![c.to_owned()],
            Some(c) => {
                return Err(ConsentError::ChannelNotInScope {
                    scope: scope.to_owned(),
                    channel: c.to_owned(),
                });
            }
        }
    };
    let now = to_micros(at);
    let expires_at = match (&def.valid_for, action.grants()) {
        (Some(v), true) => expiry(v.get_ref(), at),
        _ => None,
    };
    let mut events = Vec::with_capacity(channels.len());
    for channel in channels {
        // A consent waiting for renewal after a policy change is exactly what may be renewed.
        let active = current
            .get(scope, &channel)
            .is_some_and(|s| s.is_standing(now));
        match action {
            ConsentAction::Renewed if !active => return Err(ConsentError::NothingToRenew),
            ConsentAction::Expired if !active => return Err(ConsentError::NothingToExpire),
            _ => {}
        }
        events.push(ConsentEvent {
            id: crate::ids::new_id(),
            scope: scope.to_owned(),
            channel,
            action,
            at: now,
            expires_at,
        });
    }
    Ok(events)
}

/// `at + valid_for` in microseconds. The policy validated the duration; an unparsable one
/// yields "expires now" rather than "never", so a bad value can only shorten consent.
fn expiry(valid_for: &str, at: OffsetDateTime) -> Option<i64> {
    let Ok(d) = CalendarDuration::parse(valid_for) else {
        return Some(to_micros(at));
    };
    let date = d.add_to(at.date()).unwrap_or(time::Date::MAX);
    Some(to_micros(at.replace_date(date)))
}

/// Keys of the state whose grant has lapsed at `now` and has no `expired` event yet: what an
/// expiry sweep records.
pub fn lapsed(state: &ConsentState, now: i64) -> impl Iterator<Item = &ConsentEntry> {
    state
        .entries()
        .iter()
        .filter(move |e| e.status.action.grants() && !e.status.is_standing(now))
}

/// RFC 3339 for an optional microsecond time (reports and receipts).
pub fn micros_rfc3339(at: i64) -> Option<String> {
    from_micros(at).and_then(|t| {
        t.format(&time::format_description::well_known::Rfc3339)
            .ok()
    })
}

/// An IP address cut to its network, as kept with consent proof and events: IPv4 to /24,
/// IPv6 to /48. Enough to show roughly where a request came from, not which device.
pub fn truncate_ip(ip: std::net::IpAddr) -> String {
    match ip {
        std::net::IpAddr::V4(v4) => {
            let [a, b, c, _] = v4.octets();
            std::net::Ipv4Addr::new(a, b, c, 0).to_string()
        }
        std::net::IpAddr::V6(v6) => {
            if let Some(v4) = v6.to_ipv4_mapped() {
                return truncate_ip(std::net::IpAddr::V4(v4));
            }
            let s = v6.segments();
            std::net::Ipv6Addr::new(s[0], s[1], s[2], 0, 0, 0, 0, 0).to_string()
        }
    }
}
