//! Every decision rule against the bundled Confect policy.

use time::macros::datetime;
use vern_policy::Policy;

use super::*;
use crate::consent::{ConsentAction, ConsentEvent, ConsentMethod, fold, plan_events};
use crate::ids::to_micros;

fn policy() -> Policy {
    Policy::bundled().unwrap()
}

const NOW: i64 = 1_780_000_000_000_000;

/// A lead being sent the newsletter by email: the canonical marketing question.
fn newsletter<'a>(c: &'a ConsentState, o: &'a Objections) -> DecisionInput<'a> {
    DecisionInput {
        purpose: "marketing.send",
        channel: Some("email"),
        message_class: Some("newsletter"),
        subject_type: Some("lead"),
        consent: c,
        objections: o,
        restricted: false,
        suppressed: false,
        address: AddressKind::Personal,
        now: NOW,
    }
}

fn events(p: &Policy, scope: &str, ch: Option<&str>, action: ConsentAction) -> Vec<ConsentEvent> {
    let at = crate::ids::from_micros(NOW - 1_000_000).unwrap();
    plan_events(
        p,
        &ConsentState::default(),
        scope,
        ch,
        action,
        ConsentMethod::Api,
        at,
    )
    .unwrap()
}

#[test]
fn marketing_email_to_a_lead_needs_consent_and_stops_on_withdrawal() {
    let p = policy();
    let none = Objections::default();
    let empty = ConsentState::default();
    let d = decide(&p, &newsletter(&empty, &none));
    assert_eq!((d.allowed, d.reason), (false, Reason::NoConsent));
    assert_eq!(d.reason.as_str(), "no_consent");
    assert_eq!(d.basis, Some("legitimate_interest"));

    let mut history = events(&p, "marketing_email", Some("email"), ConsentAction::Granted);
    let granted = fold(&history);
    let d = decide(&p, &newsletter(&granted, &none));
    assert_eq!((d.allowed, d.reason), (true, Reason::ConsentGiven));

    history.extend(events(
        &p,
        "marketing_email",
        None,
        ConsentAction::Withdrawn,
    ));
    let withdrawn = fold(&history);
    let d = decide(&p, &newsletter(&withdrawn, &none));
    assert_eq!((d.allowed, d.reason), (false, Reason::ConsentWithdrawn));
    assert_eq!(d.reason.bucket(), "no_consent");
}

#[test]
fn consent_on_one_channel_does_not_open_another() {
    let p = policy();
    let none = Objections::default();
    let email_only = fold(&events(&p, "marketing_email", None, ConsentAction::Granted));
    let mut input = newsletter(&email_only, &none);
    input.purpose = "marketing.send";
    input.message_class = Some("event_invitation");
    input.channel = Some("sms");
    assert_eq!(decide(&p, &input).reason, Reason::NoConsent);
}

#[test]
fn existing_customer_exception_applies_only_to_existing_customers() {
    let p = policy();
    let (empty, none) = (ConsentState::default(), Objections::default());
    let mut input = newsletter(&empty, &none);
    input.subject_type = Some("customer_contact");
    let d = decide(&p, &input);
    assert_eq!((d.allowed, d.reason), (true, Reason::ExistingCustomer));
    // The exception requires an easy opt-out, and an opt-out wins over it: a withdrawn
    // marketing consent…
    let withdrawn = fold(&events(
        &p,
        "marketing_email",
        None,
        ConsentAction::Withdrawn,
    ));
    input.consent = &withdrawn;
    assert_eq!(decide(&p, &input).reason, Reason::ConsentWithdrawn);
    input.address = AddressKind::Role;
    assert_eq!(decide(&p, &input).reason, Reason::ConsentWithdrawn);
    input.address = AddressKind::Personal;
    input.consent = &empty;
    // …and an objection to direct marketing.
    let objected = Objections {
        direct_marketing: true,
        purposes: vec![],
    };
    input.objections = &objected;
    assert_eq!(decide(&p, &input).reason, Reason::Objected);
}

#[test]
fn role_addresses_are_outside_the_marketing_consent_rule() {
    let p = policy();
    let (empty, none) = (ConsentState::default(), Objections::default());
    let mut input = newsletter(&empty, &none);
    input.address = AddressKind::Role;
    assert_eq!(decide(&p, &input).reason, Reason::RoleAddress);
    // A named work address is a natural person's: consent needed.
    input.address = AddressKind::Personal;
    assert_eq!(decide(&p, &input).reason, Reason::NoConsent);
}

#[test]
fn administrative_messages_ignore_marketing_opt_outs_but_not_restriction() {
    let p = policy();
    let objected = Objections {
        direct_marketing: true,
        purposes: vec![],
    };
    let empty = ConsentState::default();
    let mut input = newsletter(&empty, &objected);
    input.purpose = "sales.orders_agreements_payments";
    input.message_class = Some("order_confirmation");
    input.subject_type = Some("customer_contact");
    input.suppressed = true;
    let d = decide(&p, &input);
    assert_eq!((d.allowed, d.reason), (true, Reason::LegalBasis));
    input.restricted = true;
    assert_eq!(decide(&p, &input).reason, Reason::Restricted);
}

#[test]
fn suppression_and_objection_beat_consent() {
    let p = policy();
    let none = Objections::default();
    let granted = fold(&events(&p, "marketing_email", None, ConsentAction::Granted));
    let mut input = newsletter(&granted, &none);
    input.suppressed = true;
    assert_eq!(decide(&p, &input).reason, Reason::Suppressed);
    let objected = Objections {
        direct_marketing: true,
        purposes: vec![],
    };
    let input = newsletter(&granted, &objected);
    assert_eq!(decide(&p, &input).reason, Reason::Objected);
}

#[test]
fn profiling_after_an_objection_to_direct_marketing_is_denied() {
    let p = policy();
    let mut history = events(&p, "marketing_profiling", None, ConsentAction::Granted);
    history.extend(events(
        &p,
        "cookies_marketing",
        None,
        ConsentAction::Granted,
    ));
    let granted = fold(&history);
    let none = Objections::default();
    let mut input = newsletter(&granted, &none);
    input.purpose = "marketing.profiling";
    input.message_class = None;
    input.channel = None;
    let d = decide(&p, &input);
    assert_eq!((d.allowed, d.reason), (true, Reason::ConsentGiven));
    assert_eq!(d.basis, Some("consent"));
    let objected = Objections {
        direct_marketing: true,
        purposes: vec![],
    };
    input.objections = &objected;
    assert_eq!(decide(&p, &input).reason, Reason::Objected);
    // Firmographic segmentation is marketing profiling on legitimate interest: stopped too.
    input.purpose = "marketing.firmographic_segmentation";
    assert_eq!(decide(&p, &input).reason, Reason::Objected);
}

#[test]
fn profiling_consent_lapses_with_valid_for() {
    let p = policy();
    let mut history = events(&p, "marketing_profiling", None, ConsentAction::Granted);
    history.extend(events(
        &p,
        "cookies_marketing",
        None,
        ConsentAction::Granted,
    ));
    let granted = fold(&history);
    let none = Objections::default();
    let mut input = newsletter(&granted, &none);
    input.purpose = "marketing.profiling";
    input.message_class = None;
    input.channel = None;
    input.now = to_micros(datetime!(2040-01-01 00:00 UTC));
    assert_eq!(decide(&p, &input).reason, Reason::ConsentExpired);
}

#[test]
fn a_relative_objection_stops_the_purpose_until_compelling_grounds_are_recorded() {
    let p = policy();
    let empty = ConsentState::default();
    let objections = Objections {
        direct_marketing: false,
        purposes: vec![("support".into(), false)],
    };
    let overridden = Objections {
        direct_marketing: false,
        purposes: vec![("support".into(), true)],
    };
    let input = |o| DecisionInput {
        purpose: "support",
        channel: None,
        message_class: None,
        subject_type: Some("end_user"),
        consent: &empty,
        objections: o,
        restricted: false,
        suppressed: false,
        address: AddressKind::Personal,
        now: NOW,
    };
    assert_eq!(decide(&p, &input(&objections)).reason, Reason::Objected);
    let d = decide(&p, &input(&overridden));
    assert_eq!((d.allowed, d.reason), (true, Reason::CompellingGrounds));
    // Compelling grounds never outweigh an objection to an absolute-objection purpose.
    let o = Objections {
        direct_marketing: false,
        purposes: vec![("sales.offers".into(), true)],
    };
    let mut i = input(&o);
    i.purpose = "sales.offers";
    i.subject_type = Some("customer_contact");
    assert_eq!(decide(&p, &i).reason, Reason::Objected);
}

#[test]
fn a_restricted_subject_keeps_only_storage_and_legal_claims_purposes() {
    let p = policy();
    let (empty, none) = (ConsentState::default(), Objections::default());
    for purpose in &p.raw.purposes {
        let id = purpose.id.get_ref();
        let input = DecisionInput {
            purpose: id,
            channel: None,
            message_class: None,
            subject_type: None,
            consent: &empty,
            objections: &none,
            restricted: true,
            suppressed: false,
            address: AddressKind::Personal,
            now: NOW,
        };
        let d = decide(&p, &input);
        if purpose.allowed_under_restriction {
            assert_ne!(d.reason, Reason::Restricted, "{id}");
        } else {
            assert_eq!((d.allowed, d.reason), (false, Reason::Restricted), "{id}");
        }
    }
    // The purposes left are the compliance (storage, proof) and legal-claims ones.
    let left: Vec<_> = p
        .raw
        .purposes
        .iter()
        .filter(|p| p.allowed_under_restriction)
        .map(|p| p.id.get_ref().as_str())
        .collect();
    assert!(left.contains(&"compliance.legal_claims"), "{left:?}");
    assert!(
        !left.iter().any(|id| id.starts_with("marketing")),
        "{left:?}"
    );
}

#[test]
fn mismatched_inputs_are_named() {
    let p = policy();
    let (empty, none) = (ConsentState::default(), Objections::default());
    let base = newsletter(&empty, &none);
    let check = |f: &dyn Fn(&mut DecisionInput<'_>), want: Reason| {
        let mut i = base;
        f(&mut i);
        let d = decide(&p, &i);
        assert_eq!((d.allowed, d.reason), (false, want));
    };
    check(&|i| i.purpose = "nope", Reason::UnknownPurpose);
    check(&|i| i.channel = Some("fax"), Reason::UnknownChannel);
    check(
        &|i| i.message_class = Some("nope"),
        Reason::UnknownMessageClass,
    );
    check(
        &|i| i.message_class = Some("offer"),
        Reason::PurposeMismatch,
    );
    check(&|i| i.channel = Some("sms"), Reason::ChannelNotInClass);
    check(
        &|i| i.subject_type = Some("nope"),
        Reason::UnknownSubjectType,
    );
    check(
        &|i| i.subject_type = Some("job_applicant"),
        Reason::SubjectTypeNotCovered,
    );
}

#[test]
fn every_reason_has_a_bucket_by_its_code() {
    for r in ALL_REASONS {
        assert_eq!(bucket_of(r.as_str()), r.bucket(), "{}", r.as_str());
        let json = serde_json::to_value(r).unwrap();
        assert_eq!(json, r.as_str(), "serde name matches the code");
    }
    assert_eq!(bucket_of("no_consent"), "no_consent");
    assert_eq!(bucket_of("whatever"), "not_applicable");
}
