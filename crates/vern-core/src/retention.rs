//! Retention: when a record must go, and which rule says so. Pure: the caller passes the
//! record's facts, the subject's consents and the policy; nothing here reads a clock.
//!
//! # Which rule decides (docs/decisions/0007)
//!
//! A rule applies to a record when it covers the record's category (hierarchically), names one
//! of its purposes (or none, meaning every purpose) and names its subject type (or none). Each
//! rule states the *latest* date the data may be kept for its purposes ("at most 6 months
//! after…"). So:
//!
//! 1. **Per purpose, the earliest matching rule wins.** Two rules limiting the same purpose are
//!    both binding; keeping the data until the later one would break the earlier one.
//! 2. **Across purposes, the latest wins.** Storage limitation (Art. 5(1)(e)) allows keeping
//!    data as long as it is needed for *a* purpose it was lawfully collected for; a record kept
//!    for both recruitment and the talent pool stays while the talent pool still holds it.
//!    Purposes for which the policy states no rule add no limit of their own and do not keep a
//!    record alive: otherwise any unruled purpose would defeat every rule ("only as long as
//!    needed" cannot be enforced by a date, and the policy check flags such gaps).
//! 3. **A rule whose trigger has not happened yet** (account not closed, consent not withdrawn)
//!    sets no date: for that purpose the data is still needed.
//! 4. **An erasure exception is a floor**, not a rule: bookkeeping law (Art. 17(3)(b)) requires
//!    the covered categories be kept until its own end, so a rule's earlier date moves to the
//!    exception's end; items it does not cover are unaffected.
//! 5. **A consent override** (`override_by_consent`, the talent pool) extends its rule to the
//!    grant plus the override's maximum while the consent stands; once withdrawn the rule's own
//!    date applies again (and a `consent_withdrawn` rule bounds the purpose from the withdrawal).
//!
//! Legal holds are not evaluated here: they suspend the *sweep*, not the expiry, so that a
//! released hold lets the next sweep act on the dates already stored.
//!
//! Trigger times: `last_activity_at` is the record's last activity (its collection time when no
//! activity was recorded); `recorded_at` and `collected_at` are its collection time; a
//! `fiscal_year_end` trigger is the end of the controller's fiscal year containing the
//! collection time (midnight after the `MM-DD`); any other event trigger is read from the
//! record's named `event_times`. A consent-withdrawn trigger uses the consent scope of the
//! rule's purposes.

use std::collections::BTreeMap;

use serde::Serialize;
use time::{Date, Month, OffsetDateTime, Time};
use vern_policy::model::{RetentionAction, TriggerKind};
use vern_policy::{CalendarDuration, Policy, category_covers};

#[cfg(test)]
mod tests;

/// What is known about one record, enough to place it on the retention calendar.
#[derive(Debug, Clone)]
pub struct RecordFacts<'a> {
    pub category: &'a str,
    pub purposes: &'a [String],
    pub subject_type: &'a str,
    /// The subject's country hint; erasure exceptions of other countries do not apply.
    pub jurisdiction: Option<&'a str>,
    pub collected_at: OffsetDateTime,
    pub last_activity_at: Option<OffsetDateTime>,
    /// Named event times (`application_deadline`, `account_closed_at`, …).
    pub event_times: &'a BTreeMap<String, OffsetDateTime>,
}

/// The state of one of the subject's consents.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConsentFact {
    pub scope: String,
    /// The latest grant (or renewal) of the scope.
    pub granted_at: OffsetDateTime,
    /// When it was withdrawn (or recorded as expired); `None` while it stands.
    pub withdrawn_at: Option<OffsetDateTime>,
    /// When a standing consent runs out by itself (the scope's `valid_for`); `None`: never.
    /// Known in advance, so it bounds the override without a recomputation at that moment.
    pub expires_at: Option<OffsetDateTime>,
}

impl ConsentFact {
    /// When the consent stops standing, if it does: its withdrawal, else its own expiry.
    pub fn ends_at(&self) -> Option<OffsetDateTime> {
        self.withdrawn_at.or(self.expires_at)
    }
}

/// Why a record has (or lacks) an expiry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Basis {
    /// A retention rule sets the date.
    Rule,
    /// A rule's earlier date was moved to the end of an erasure exception.
    ErasureException,
    /// Rules apply, but the event they count from has not happened yet.
    AwaitingEvent,
    /// No rule covers the record: kept "as long as needed", never swept automatically.
    NoRule,
}

/// The expiry of one record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Expiry {
    /// When the record must be gone; `None` while no rule sets a date.
    #[serde(with = "time::serde::rfc3339::option")]
    pub expires_at: Option<OffsetDateTime>,
    /// The rule that decided, or the exception that moved its date.
    pub rule: Option<String>,
    pub action: Action,
    pub basis: Basis,
}

/// What the sweep does with an expired record.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    Delete,
    Anonymise,
}

impl Action {
    pub fn as_str(self) -> &'static str {
        match self {
            Action::Delete => "delete",
            Action::Anonymise => "anonymise",
        }
    }
}

/// When a rule's trigger fires.
#[derive(Debug, Clone)]
enum Anchor {
    LastActivity,
    Collected,
    FiscalYearEnd,
    Named(String),
    /// Withdrawal of this consent scope (`None`: the rule's purposes have no scope; never fires).
    ConsentWithdrawn(Option<String>),
}

#[derive(Debug, Clone)]
struct CompiledRule {
    id: String,
    categories: Vec<String>,
    purposes: Vec<String>,
    subject_types: Vec<String>,
    anchor: Anchor,
    duration: CalendarDuration,
    action: Action,
    /// (consent scope, longest extension from the grant)
    consent_override: Option<(String, CalendarDuration)>,
}

#[derive(Debug, Clone)]
struct CompiledException {
    id: String,
    categories: Vec<String>,
    jurisdiction: String,
    anchor: Anchor,
    duration: CalendarDuration,
}

/// A rule's trigger that is one of the record's own columns (docs/decisions/0020).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum OwnAnchor {
    /// `collected_at` (the `collected_at` and `recorded_at` triggers).
    Collected,
    /// `last_activity_at`, or `collected_at` when no activity was recorded.
    LastActivity,
}

/// One rule that may decide the expiry of a record class, counted from one of the record's own
/// columns.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClassCandidate {
    pub rule: String,
    pub anchor: OwnAnchor,
    pub duration: CalendarDuration,
}

/// The expiry of every record of one class (category and stored purposes) as a formula of the
/// record's own columns: for each purpose (in the record's order, purposes without a rule left
/// out) its candidate rules in policy order; the earliest candidate of a purpose wins (the
/// first on a tie), the latest purpose wins (the first on a tie). No purpose: no rule.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ClassFormula {
    pub purposes: Vec<Vec<ClassCandidate>>,
}

/// The policy's retention rules, parsed once so evaluating a record costs no string parsing.
#[derive(Debug, Clone)]
pub struct RetentionPlan {
    rules: Vec<CompiledRule>,
    exceptions: Vec<CompiledException>,
    /// Controller's fiscal year end (month, day).
    fiscal_year_end: (Month, u8),
    /// The controller's country: the jurisdiction of subjects without a hint.
    home: String,
}

/// A policy rule the plan could not use (the validator should have refused the policy).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("retention rule {rule}: {reason}")]
pub struct PlanError {
    pub rule: String,
    pub reason: String,
}

fn anchor_of(
    policy: &Policy,
    rule_id: &str,
    trigger: &str,
    purposes: &[String],
) -> Result<Anchor, PlanError> {
    let err = |reason: String| PlanError {
        rule: rule_id.to_owned(),
        reason,
    };
    let t = policy
        .trigger(trigger)
        .ok_or_else(|| err(format!("unknown trigger {trigger}")))?;
    Ok(match *t.kind.get_ref() {
        TriggerKind::FiscalYearEnd => Anchor::FiscalYearEnd,
        TriggerKind::ConsentWithdrawn => Anchor::ConsentWithdrawn(
            purposes
                .iter()
                .filter_map(|p| policy.purpose(p))
                .find_map(|p| p.consent_scope.as_ref().map(|s| s.get_ref().clone())),
        ),
        TriggerKind::Event => match trigger {
            "last_activity_at" => Anchor::LastActivity,
            "recorded_at" | "collected_at" => Anchor::Collected,
            other => Anchor::Named(other.to_owned()),
        },
    })
}

fn strings(v: &[vern_policy::model::SStr]) -> Vec<String> {
    v.iter().map(|s| s.get_ref().clone()).collect()
}

impl RetentionPlan {
    pub fn new(policy: &Policy) -> Result<Self, PlanError> {
        let raw = &policy.raw;
        let fye =
            parse_month_day(raw.controller.fiscal_year_end.get_ref()).ok_or_else(|| PlanError {
                rule: "controller.fiscal_year_end".into(),
                reason: "not MM-DD".into(),
            })?;
        let duration = |rule: &str, text: &str| {
            CalendarDuration::parse(text).map_err(|e| PlanError {
                rule: rule.to_owned(),
                reason: e.to_string(),
            })
        };
        let mut rules = Vec::with_capacity(raw.retention.len());
        for r in &raw.retention {
            let id = r.id.get_ref().clone();
            let purposes = strings(&r.purposes);
            rules.push(CompiledRule {
                anchor: anchor_of(policy, &id, r.trigger.get_ref(), &purposes)?,
                duration: duration(&id, r.duration.get_ref())?,
                categories: strings(r.categories.get_ref()),
                subject_types: strings(&r.subject_types),
                purposes,
                action: match *r.action.get_ref() {
                    RetentionAction::Delete => Action::Delete,
                    RetentionAction::Anonymise => Action::Anonymise,
                },
                consent_override: match &r.override_by_consent {
                    Some(o) => Some((
                        o.consent_scope.get_ref().clone(),
                        duration(&id, o.max.get_ref())?,
                    )),
                    None => None,
                },
                id,
            });
        }
        let mut exceptions = Vec::with_capacity(raw.erasure_exceptions.len());
        for e in &raw.erasure_exceptions {
            let id = e.id.get_ref().clone();
            exceptions.push(CompiledException {
                anchor: anchor_of(policy, &id, e.trigger.get_ref(), &[])?,
                duration: duration(&id, e.duration.get_ref())?,
                categories: strings(e.categories.get_ref()),
                jurisdiction: e.jurisdiction.get_ref().clone(),
                id,
            });
        }
        Ok(RetentionPlan {
            rules,
            exceptions,
            fiscal_year_end: fye,
            home: raw.controller.country.get_ref().clone(),
        })
    }

    /// What the sweep does with a record whose stored rule is `rule`: the rule's action, or
    /// delete for an erasure exception's id (its floor has passed) or an unknown id.
    /// The ids of the rules whose expired records are handled with `action`.
    pub fn rules_with(&self, action: Action) -> impl Iterator<Item = &str> {
        self.rules
            .iter()
            .filter(move |r| r.action == action)
            .map(|r| r.id.as_str())
    }

    pub fn action_of(&self, rule: &str) -> Action {
        self.rules
            .iter()
            .find(|r| r.id == rule)
            .map_or(Action::Delete, |r| r.action)
    }

    /// The erasure exception that obliges keeping this record at `now` despite an erasure
    /// request (Art. 17(3)(b)/(e)), with the date it ends: of the exceptions of the subject's
    /// jurisdiction (or the controller's) covering the category, the one ending last. `None`
    /// when no exception covers the record or every covering one has ended, or its trigger has
    /// not happened (a fiscal year that has not ended still binds: its end is computed).
    pub fn erasure_exception(
        &self,
        facts: &RecordFacts<'_>,
        consents: &[ConsentFact],
        now: OffsetDateTime,
    ) -> Option<(&str, OffsetDateTime)> {
        let jurisdiction = facts.jurisdiction.unwrap_or(&self.home);
        self.exceptions
            .iter()
            .filter(|e| {
                e.jurisdiction == jurisdiction
                    && e.categories
                        .iter()
                        .any(|c| category_covers(c, facts.category))
            })
            .filter_map(|e| {
                let end = self
                    .anchor_time(&e.anchor, facts, consents)
                    .and_then(|t| add(t, e.duration))?;
                (end > now).then_some((e.id.as_str(), end))
            })
            .max_by_key(|(_, end)| *end)
    }

    /// The ids of the rules, for validating rule names given by operators.
    pub fn rule_ids(&self) -> impl Iterator<Item = &str> {
        self.rules.iter().map(|r| r.id.as_str())
    }

    /// The expiry of every record with this category and these purposes as a formula of the
    /// record's own columns, or `None` when it may depend on anything else. Conservative: any
    /// rule that could apply (category and purpose match, whatever the subject type) with a
    /// subject-type list, a consent override, or a trigger other than `collected_at`,
    /// `recorded_at` or `last_activity_at` (event times, fiscal year ends, consent
    /// withdrawals), or any erasure exception covering the category in any jurisdiction,
    /// sends the class to [`RetentionPlan::evaluate`]. Otherwise the result equals
    /// `evaluate` for every record of the class, whatever its subject, consents and event
    /// times, as long as the anchors and the computed dates stay within the calendar (the
    /// caller bounds them).
    pub fn class_formula(&self, category: &str, purposes: &[String]) -> Option<ClassFormula> {
        if self
            .exceptions
            .iter()
            .any(|e| e.categories.iter().any(|c| category_covers(c, category)))
        {
            return None;
        }
        let no_purpose = [String::new()];
        let purposes: &[String] = if purposes.is_empty() {
            &no_purpose
        } else {
            purposes
        };
        let mut formula = ClassFormula::default();
        for purpose in purposes {
            let mut candidates: Vec<ClassCandidate> = Vec::new();
            for rule in self.rules.iter().filter(|r| {
                r.categories.iter().any(|c| category_covers(c, category))
                    && (r.purposes.is_empty() || r.purposes.iter().any(|p| p == purpose))
            }) {
                if !rule.subject_types.is_empty() || rule.consent_override.is_some() {
                    return None;
                }
                let anchor = match rule.anchor {
                    Anchor::Collected => OwnAnchor::Collected,
                    Anchor::LastActivity => OwnAnchor::LastActivity,
                    Anchor::FiscalYearEnd | Anchor::Named(_) | Anchor::ConsentWithdrawn(_) => {
                        return None;
                    }
                };
                // A later candidate with the same date never wins (the first wins a tie).
                if !candidates
                    .iter()
                    .any(|c| c.anchor == anchor && c.duration == rule.duration)
                {
                    candidates.push(ClassCandidate {
                        rule: rule.id.clone(),
                        anchor,
                        duration: rule.duration,
                    });
                }
            }
            // A purpose without a rule adds no limit; a repeated purpose never wins a tie.
            if !candidates.is_empty() && !formula.purposes.contains(&candidates) {
                formula.purposes.push(candidates);
            }
        }
        Some(formula)
    }

    /// Whether a change of consent `scope` can move any record's expiry: a rule's consent
    /// override or a `consent_withdrawn` trigger names it. [`RetentionPlan::evaluate`] reads
    /// the consents only there, so for any other scope the calendar stays where it is.
    pub fn reads_consent(&self, scope: &str) -> bool {
        let names = |a: &Anchor| matches!(a, Anchor::ConsentWithdrawn(Some(s)) if s == scope);
        self.rules.iter().any(|r| {
            names(&r.anchor) || r.consent_override.as_ref().is_some_and(|(s, _)| s == scope)
        }) || self.exceptions.iter().any(|e| names(&e.anchor))
    }

    /// The expiry of a record given the subject's consents. See the module docs for the rules.
    pub fn evaluate(&self, facts: &RecordFacts<'_>, consents: &[ConsentFact]) -> Expiry {
        let no_purpose = [String::new()];
        let purposes: &[String] = if facts.purposes.is_empty() {
            &no_purpose
        } else {
            facts.purposes
        };
        // Latest across purposes, where `None` (awaiting an event) is later than any date.
        let mut decided: Option<(Option<OffsetDateTime>, &CompiledRule)> = None;
        for purpose in purposes {
            let mut earliest: Option<(Option<OffsetDateTime>, &CompiledRule)> = None;
            for rule in self.rules.iter().filter(|r| r.applies(facts, purpose)) {
                let at = self.rule_expiry(rule, facts, consents);
                let earlier = match (&earliest, at) {
                    (None, _) => true,
                    (Some((None, _)), Some(_)) => true,
                    (Some((Some(cur), _)), Some(new)) => new < *cur,
                    (Some(_), None) => false,
                };
                if earlier {
                    earliest = Some((at, rule));
                }
            }
            let Some((at, rule)) = earliest else { continue };
            let later = match (&decided, at) {
                (None, _) => true,
                (Some((Some(_), _)), None) => true,
                (Some((Some(cur), _)), Some(new)) => new > *cur,
                (Some((None, _)), _) => false,
            };
            if later {
                decided = Some((at, rule));
            }
        }
        let Some((at, rule)) = decided else {
            return Expiry {
                expires_at: None,
                rule: None,
                action: Action::Delete,
                basis: Basis::NoRule,
            };
        };
        let Some(mut at) = at else {
            return Expiry {
                expires_at: None,
                rule: Some(rule.id.clone()),
                action: rule.action,
                basis: Basis::AwaitingEvent,
            };
        };
        let mut basis = Basis::Rule;
        let mut rule_id = rule.id.clone();
        // A country's retention law binds the books kept under it: the subject's country, or
        // the controller's own when unknown.
        let jurisdiction = facts.jurisdiction.unwrap_or(&self.home);
        for ex in self.exceptions.iter().filter(|e| {
            e.jurisdiction == jurisdiction
                && e.categories
                    .iter()
                    .any(|c| category_covers(c, facts.category))
        }) {
            if let Some(floor) = self
                .anchor_time(&ex.anchor, facts, consents)
                .and_then(|t| add(t, ex.duration))
                && floor > at
            {
                at = floor;
                basis = Basis::ErasureException;
                rule_id.clone_from(&ex.id);
            }
        }
        Expiry {
            expires_at: Some(at),
            rule: Some(rule_id),
            action: rule.action,
            basis,
        }
    }

    fn rule_expiry(
        &self,
        rule: &CompiledRule,
        facts: &RecordFacts<'_>,
        consents: &[ConsentFact],
    ) -> Option<OffsetDateTime> {
        let base = self
            .anchor_time(&rule.anchor, facts, consents)
            .and_then(|t| add(t, rule.duration))?;
        match &rule.consent_override {
            // While the consent stands the record may stay until the grant plus `max`, but
            // not past the consent's own expiry (which is known in advance).
            Some((scope, max)) => match standing_consent(consents, scope) {
                Some(c) => {
                    let limit =
                        add(c.granted_at, *max).map(|ext| c.expires_at.map_or(ext, |e| ext.min(e)));
                    Some(limit.map_or(base, |ext| ext.max(base)))
                }
                None => Some(base),
            },
            None => Some(base),
        }
    }

    fn anchor_time(
        &self,
        anchor: &Anchor,
        facts: &RecordFacts<'_>,
        consents: &[ConsentFact],
    ) -> Option<OffsetDateTime> {
        match anchor {
            Anchor::LastActivity => Some(facts.last_activity_at.unwrap_or(facts.collected_at)),
            Anchor::Collected => Some(facts.collected_at),
            Anchor::FiscalYearEnd => {
                fiscal_year_end_after(facts.collected_at, self.fiscal_year_end)
            }
            Anchor::Named(name) => facts.event_times.get(name).copied(),
            Anchor::ConsentWithdrawn(scope) => {
                let scope = scope.as_deref()?;
                // The latest grant decides: a re-grant after a withdrawal stands again.
                let latest = consents
                    .iter()
                    .filter(|c| c.scope == scope)
                    .max_by_key(|c| c.granted_at)?;
                // A consent that runs out by itself ends then as if withdrawn.
                latest.ends_at()
            }
        }
    }
}

impl CompiledRule {
    fn applies(&self, facts: &RecordFacts<'_>, purpose: &str) -> bool {
        self.categories
            .iter()
            .any(|c| category_covers(c, facts.category))
            && (self.purposes.is_empty() || self.purposes.iter().any(|p| p == purpose))
            && (self.subject_types.is_empty()
                || self.subject_types.iter().any(|t| t == facts.subject_type))
    }
}

/// The latest consent to `scope`, if it has not been withdrawn (it may still carry an expiry).
fn standing_consent<'c>(consents: &'c [ConsentFact], scope: &str) -> Option<&'c ConsentFact> {
    let latest = consents
        .iter()
        .filter(|c| c.scope == scope)
        .max_by_key(|c| c.granted_at)?;
    latest.withdrawn_at.is_none().then_some(latest)
}

/// `at` plus a calendar duration, keeping the time of day (UTC).
pub fn add(at: OffsetDateTime, d: CalendarDuration) -> Option<OffsetDateTime> {
    let at = at.to_offset(time::UtcOffset::UTC);
    let date = d.add_to(at.date())?;
    Some(date.with_time(at.time()).assume_utc())
}

fn parse_month_day(text: &str) -> Option<(Month, u8)> {
    let (m, d) = text.split_once('-')?;
    let month = Month::try_from(m.parse::<u8>().ok()?).ok()?;
    let day: u8 = d.parse().ok()?;
    // 29 February is accepted: in other years the month's last day stands in.
    (1..=31).contains(&day).then_some((month, day))
}

/// Midnight (UTC) after the last day of the fiscal year that contains `at`.
pub fn fiscal_year_end_after(
    at: OffsetDateTime,
    (month, day): (Month, u8),
) -> Option<OffsetDateTime> {
    let at = at.to_offset(time::UtcOffset::UTC);
    let end_in = |year: i32| {
        let d = day.min(month.length(year));
        Date::from_calendar_date(year, month, d).ok()
    };
    let this_year = end_in(at.year())?;
    let end = if at.date() <= this_year {
        this_year
    } else {
        end_in(at.year() + 1)?
    };
    Some(end.next_day()?.with_time(Time::MIDNIGHT).assume_utc())
}
