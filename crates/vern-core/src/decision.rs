//! May this subject's data be used for this purpose, on this channel, for this message? The
//! decision function, pure and derived from the policy.
//!
//! Rules are checked in a fixed order and the first that denies answers, so the same input
//! always gets the same reason:
//!
//! 1. the purpose, message class and channel must exist and fit together;
//! 2. restriction (Art. 18): only purposes marked `allowed_under_restriction` remain;
//! 3. suppression: an address on the suppression list never receives marketing;
//! 4. objection (Art. 21): to direct marketing it is absolute and covers every direct-marketing
//!    purpose (so marketing profiling too); to another purpose it stops that purpose unless a
//!    DPO has recorded compelling legitimate grounds (and never for an absolute-objection
//!    purpose);
//! 5. the legal basis: a consent purpose needs its scope granted and unexpired;
//! 6. the purpose's gates: electronic-marketing law needs consent on the channel, unless the
//!    policy enables the existing-customer exception and the subject is an existing customer,
//!    or the address is a role address (not a natural person's) — but never over a withdrawal
//!    of that consent; tracking law needs its consent.
//!
//! Administrative messages (order confirmations) are decided on their own purpose, which is not
//! direct marketing, so marketing opt-outs and suppression do not touch them; restriction and an
//! objection to that very purpose still do. The function does not allocate: it runs on every
//! recipient of a campaign.

use serde::Serialize;
use vern_policy::Policy;
use vern_policy::model::{GateKind, LegalBasis, MessageKind, Objection, Purpose};

use crate::consent::{ConsentAction, ConsentState};
use crate::records::legal_basis_name;

#[cfg(test)]
mod tests;

/// Why a decision came out as it did: stable snake_case codes for clients and reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Reason {
    // ---- allowed ----
    /// The purpose's legal basis carries it and no gate applies.
    LegalBasis,
    /// The consent the basis or gate needs is granted.
    ConsentGiven,
    /// Electronic-marketing law's existing-customer exception, enabled by the policy.
    ExistingCustomer,
    /// A role address (post@…): marketing law's consent rule protects natural persons.
    RoleAddress,
    /// An objection is on record, but a DPO recorded compelling legitimate grounds.
    CompellingGrounds,
    // ---- denied ----
    UnknownPurpose,
    UnknownMessageClass,
    UnknownChannel,
    /// The message class is not sent on this channel.
    ChannelNotInClass,
    /// The message class serves another purpose than the one asked about.
    PurposeMismatch,
    UnknownSubjectType,
    /// The purpose does not cover this kind of person.
    SubjectTypeNotCovered,
    Restricted,
    Suppressed,
    Objected,
    NoConsent,
    ConsentWithdrawn,
    ConsentExpired,
    /// A policy change widened the consent's purpose; it must be renewed.
    ConsentRenewalNeeded,
}

impl Reason {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::LegalBasis => "legal_basis",
            Self::ConsentGiven => "consent_given",
            Self::ExistingCustomer => "existing_customer",
            Self::RoleAddress => "role_address",
            Self::CompellingGrounds => "compelling_grounds",
            Self::UnknownPurpose => "unknown_purpose",
            Self::UnknownMessageClass => "unknown_message_class",
            Self::UnknownChannel => "unknown_channel",
            Self::ChannelNotInClass => "channel_not_in_class",
            Self::PurposeMismatch => "purpose_mismatch",
            Self::UnknownSubjectType => "unknown_subject_type",
            Self::SubjectTypeNotCovered => "subject_type_not_covered",
            Self::Restricted => "restricted",
            Self::Suppressed => "suppressed",
            Self::Objected => "objected",
            Self::NoConsent => "no_consent",
            Self::ConsentWithdrawn => "consent_withdrawn",
            Self::ConsentExpired => "consent_expired",
            Self::ConsentRenewalNeeded => "consent_renewal_needed",
        }
    }

    /// The summary bucket of a campaign filter: allowed, suppressed, no consent, objected,
    /// restricted or not applicable.
    pub fn bucket(self) -> &'static str {
        match self {
            Self::LegalBasis
            | Self::ConsentGiven
            | Self::ExistingCustomer
            | Self::RoleAddress
            | Self::CompellingGrounds => "allowed",
            Self::Suppressed => "suppressed",
            Self::Objected => "objected",
            Self::Restricted => "restricted",
            Self::NoConsent
            | Self::ConsentWithdrawn
            | Self::ConsentExpired
            | Self::ConsentRenewalNeeded => "no_consent",
            _ => "not_applicable",
        }
    }
}

/// The summary bucket of a reason given by its code (as the API returns it).
pub fn bucket_of(code: &str) -> &'static str {
    ALL_REASONS
        .iter()
        .find(|r| r.as_str() == code)
        .map_or("not_applicable", |r| r.bucket())
}

const ALL_REASONS: [Reason; 19] = [
    Reason::LegalBasis,
    Reason::ConsentGiven,
    Reason::ExistingCustomer,
    Reason::RoleAddress,
    Reason::CompellingGrounds,
    Reason::UnknownPurpose,
    Reason::UnknownMessageClass,
    Reason::UnknownChannel,
    Reason::ChannelNotInClass,
    Reason::PurposeMismatch,
    Reason::UnknownSubjectType,
    Reason::SubjectTypeNotCovered,
    Reason::Restricted,
    Reason::Suppressed,
    Reason::Objected,
    Reason::NoConsent,
    Reason::ConsentWithdrawn,
    Reason::ConsentExpired,
    Reason::ConsentRenewalNeeded,
];

/// A subject's objections (Art. 21) as the decision needs them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Objections {
    /// Objection to direct marketing: absolute, covers every direct-marketing purpose.
    pub direct_marketing: bool,
    /// Objections to single purposes: `(purpose, compelling grounds recorded)`.
    pub purposes: Vec<(String, bool)>,
}

impl Objections {
    fn to_purpose(&self, purpose: &str) -> Option<bool> {
        self.purposes
            .iter()
            .find(|(p, _)| p == purpose)
            .map(|(_, overridden)| *overridden)
    }
}

/// How the recipient address is known to be used, where the caller knows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum AddressKind {
    /// A natural person's address, private or named at work (`kari.nordmann@firma.no`): the
    /// default, because marketing law protects it.
    #[default]
    Personal,
    /// A role address (`post@firma.no`) that names no person.
    Role,
}

/// Everything a decision looks at. Borrowed, so a bulk decision builds no copies.
#[derive(Debug, Clone, Copy)]
pub struct DecisionInput<'a> {
    pub purpose: &'a str,
    pub channel: Option<&'a str>,
    pub message_class: Option<&'a str>,
    /// The subject's type; `None` for an address not known as a subject (a lead to be).
    pub subject_type: Option<&'a str>,
    pub consent: &'a ConsentState,
    pub objections: &'a Objections,
    pub restricted: bool,
    pub suppressed: bool,
    pub address: AddressKind,
    /// Unix microseconds: consent expiry is judged at this time.
    pub now: i64,
}

/// The answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Decision {
    pub allowed: bool,
    /// The legal basis the purpose rests on, if the purpose is known.
    pub basis: Option<&'static str>,
    pub reason: Reason,
}

/// Decides. See the module docs for the order of the rules.
pub fn decide(policy: &Policy, input: &DecisionInput<'_>) -> Decision {
    let deny = |basis, reason| Decision {
        allowed: false,
        basis,
        reason,
    };
    let Some(purpose) = policy.purpose(input.purpose) else {
        return deny(None, Reason::UnknownPurpose);
    };
    let basis = Some(legal_basis_name(*purpose.legal_basis.get_ref()));
    if let Some(channel) = input.channel
        && !policy.raw.channels.iter().any(|c| c.get_ref() == channel)
    {
        return deny(basis, Reason::UnknownChannel);
    }
    let mut marketing = purpose.direct_marketing;
    if let Some(class_id) = input.message_class {
        let Some(class) = policy.message_class(class_id) else {
            return deny(basis, Reason::UnknownMessageClass);
        };
        if class.purpose.get_ref() != input.purpose {
            return deny(basis, Reason::PurposeMismatch);
        }
        if let Some(channel) = input.channel
            && !class.channels.is_empty()
            && !class.channels.iter().any(|c| c.get_ref() == channel)
        {
            return deny(basis, Reason::ChannelNotInClass);
        }
        marketing |= *class.kind.get_ref() == MessageKind::Marketing;
    }
    let mut existing_customer = false;
    if let Some(t) = input.subject_type {
        let Some(subject_type) = policy.subject_type(t) else {
            return deny(basis, Reason::UnknownSubjectType);
        };
        if !purpose
            .subject_types
            .get_ref()
            .iter()
            .any(|s| s.get_ref() == t)
        {
            return deny(basis, Reason::SubjectTypeNotCovered);
        }
        existing_customer = subject_type.existing_customer;
    }
    if input.restricted && !purpose.allowed_under_restriction {
        return deny(basis, Reason::Restricted);
    }
    if input.suppressed && marketing {
        return deny(basis, Reason::Suppressed);
    }
    let mut allowed_reason = Reason::LegalBasis;
    match objection_blocks(purpose, input.objections) {
        Some(true) => return deny(basis, Reason::Objected),
        Some(false) => allowed_reason = Reason::CompellingGrounds,
        None => {}
    }
    if *purpose.legal_basis.get_ref() == LegalBasis::Consent {
        let scope = purpose.consent_scope.as_ref().map_or("", |s| s.get_ref());
        if let Err(reason) = consent_holds(policy, input, scope) {
            return deny(basis, reason);
        }
        allowed_reason = Reason::ConsentGiven;
    }
    for gate in &purpose.gates {
        let applies = gate.channels.is_empty()
            || input
                .channel
                .is_some_and(|c| gate.channels.iter().any(|g| g.get_ref() == c));
        if !applies {
            continue;
        }
        let scope = gate.consent_scope.get_ref();
        match gate.kind.get_ref() {
            GateKind::ElectronicMarketingConsent => {
                // The law is about electronic messages: with no channel there is nothing to send.
                if input.channel.is_none() {
                    continue;
                }
                // The exceptions never override a withdrawal: opting out is exactly what the
                // existing-customer exception requires be honoured.
                match consent_holds(policy, input, scope) {
                    Ok(()) => allowed_reason = Reason::ConsentGiven,
                    Err(Reason::ConsentWithdrawn) => {
                        return deny(basis, Reason::ConsentWithdrawn);
                    }
                    Err(_) if input.address == AddressKind::Role => {
                        allowed_reason = Reason::RoleAddress;
                    }
                    Err(_) if gate.existing_customer_exception && existing_customer => {
                        allowed_reason = Reason::ExistingCustomer;
                    }
                    Err(reason) => return deny(basis, reason),
                }
            }
            GateKind::TrackingConsent => {
                if let Err(reason) = consent_holds(policy, input, scope) {
                    return deny(basis, reason);
                }
                allowed_reason = Reason::ConsentGiven;
            }
        }
    }
    Decision {
        allowed: true,
        basis,
        reason: allowed_reason,
    }
}

/// `Some(true)`: an objection stops the purpose; `Some(false)`: an objection is overridden by
/// compelling grounds; `None`: no objection applies.
fn objection_blocks(purpose: &Purpose, objections: &Objections) -> Option<bool> {
    let rule = *purpose.objection.get_ref();
    if rule == Objection::NotApplicable {
        return None;
    }
    if purpose.direct_marketing && objections.direct_marketing {
        return Some(true);
    }
    let overridden = objections.to_purpose(purpose.id.get_ref())?;
    // Art. 21(3): compelling grounds never outweigh an objection to direct marketing.
    Some(rule == Objection::Absolute || !overridden)
}

/// Whether `scope` is granted for the input's channel. A channel-specific scope asked about
/// without a channel needs every one of its channels: the conservative reading.
fn consent_holds(policy: &Policy, input: &DecisionInput<'_>, scope: &str) -> Result<(), Reason> {
    let Some(def) = policy.consent_scope(scope) else {
        return Err(Reason::NoConsent);
    };
    let check = |channel: &str| -> Result<(), Reason> {
        match input.consent.get(scope, channel) {
            None => Err(Reason::NoConsent),
            // A policy version widened what this consent covers: it counts again once renewed.
            Some(s) if s.needs_renewal(input.now) => Err(Reason::ConsentRenewalNeeded),
            Some(s) => match s.effective_action(input.now) {
                ConsentAction::Granted | ConsentAction::Renewed => Ok(()),
                ConsentAction::Withdrawn => Err(Reason::ConsentWithdrawn),
                ConsentAction::Expired => Err(Reason::ConsentExpired),
            },
        }
    };
    if def.channels.is_empty() {
        return check("");
    }
    match input.channel {
        Some(c) if def.channels.iter().any(|d| d.get_ref() == c) => check(c),
        // The scope does not cover this channel at all: nothing could have been granted.
        Some(_) => Err(Reason::NoConsent),
        None => def.channels.iter().try_for_each(|c| check(c.get_ref())),
    }
}
