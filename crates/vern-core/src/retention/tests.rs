//! Table-driven tests of the retention rules against the bundled policy.

use std::collections::BTreeMap;

use time::OffsetDateTime;
use time::macros::datetime;

use super::*;

fn plan() -> RetentionPlan {
    let policy = Policy::bundled().unwrap();
    RetentionPlan::new(&policy).unwrap()
}

struct Case {
    name: &'static str,
    category: &'static str,
    purposes: &'static [&'static str],
    subject_type: &'static str,
    collected_at: OffsetDateTime,
    last_activity_at: Option<OffsetDateTime>,
    events: &'static [(&'static str, OffsetDateTime)],
    consents: Vec<ConsentFact>,
    expect_at: Option<OffsetDateTime>,
    expect_rule: Option<&'static str>,
    expect_basis: Basis,
}

fn talent(granted: OffsetDateTime, withdrawn: Option<OffsetDateTime>) -> Vec<ConsentFact> {
    vec![ConsentFact {
        scope: "talent_pool".into(),
        granted_at: granted,
        withdrawn_at: withdrawn,
        expires_at: None,
    }]
}

fn cases() -> Vec<Case> {
    let t0 = datetime!(2026-03-10 12:00 UTC);
    vec![
        Case {
            name: "applicant: 6 months after the application deadline",
            category: "recruitment.cv",
            purposes: &["recruitment.process"],
            subject_type: "job_applicant",
            collected_at: t0,
            last_activity_at: None,
            events: &[("application_deadline", datetime!(2026-03-31 00:00 UTC))],
            consents: vec![],
            expect_at: Some(datetime!(2026-09-30 00:00 UTC)),
            expect_rule: Some("recruitment_process"),
            expect_basis: Basis::Rule,
        },
        Case {
            name: "applicant without a deadline yet: awaiting the event",
            category: "recruitment.cv",
            purposes: &["recruitment.process"],
            subject_type: "job_applicant",
            collected_at: t0,
            last_activity_at: None,
            events: &[],
            consents: vec![],
            expect_at: None,
            expect_rule: Some("recruitment_process"),
            expect_basis: Basis::AwaitingEvent,
        },
        Case {
            name: "talent pool with standing consent: grant + 24 months",
            category: "recruitment.cv",
            purposes: &["recruitment.talent_pool"],
            subject_type: "job_applicant",
            collected_at: t0,
            last_activity_at: None,
            events: &[("application_deadline", datetime!(2026-03-31 00:00 UTC))],
            consents: talent(datetime!(2026-04-02 08:00 UTC), None),
            expect_at: Some(datetime!(2028-04-02 08:00 UTC)),
            expect_rule: Some("recruitment_talent_pool"),
            expect_basis: Basis::Rule,
        },
        Case {
            name: "talent pool, consent that runs out after 14 months: kept until it does",
            category: "recruitment.cv",
            purposes: &["recruitment.talent_pool"],
            subject_type: "job_applicant",
            collected_at: t0,
            last_activity_at: None,
            events: &[("application_deadline", datetime!(2026-03-31 00:00 UTC))],
            consents: vec![ConsentFact {
                scope: "talent_pool".into(),
                granted_at: datetime!(2026-04-02 08:00 UTC),
                withdrawn_at: None,
                expires_at: Some(datetime!(2027-06-02 08:00 UTC)),
            }],
            expect_at: Some(datetime!(2027-06-02 08:00 UTC)),
            expect_rule: Some("recruitment_talent_pool"),
            expect_basis: Basis::Rule,
        },
        Case {
            name: "talent pool, consent withdrawn after the base date: base date again",
            category: "recruitment.cv",
            purposes: &["recruitment.talent_pool"],
            subject_type: "job_applicant",
            collected_at: t0,
            last_activity_at: None,
            events: &[("application_deadline", datetime!(2026-03-31 00:00 UTC))],
            consents: talent(
                datetime!(2026-04-02 08:00 UTC),
                Some(datetime!(2027-01-05 10:00 UTC)),
            ),
            expect_at: Some(datetime!(2026-09-30 00:00 UTC)),
            expect_rule: Some("recruitment_talent_pool"),
            expect_basis: Basis::Rule,
        },
        Case {
            name: "talent pool, withdrawn early: 7 days after withdrawal",
            category: "recruitment.cv",
            purposes: &["recruitment.talent_pool"],
            subject_type: "job_applicant",
            collected_at: t0,
            last_activity_at: None,
            events: &[("application_deadline", datetime!(2026-03-31 00:00 UTC))],
            consents: talent(
                datetime!(2026-04-02 08:00 UTC),
                Some(datetime!(2026-05-01 10:00 UTC)),
            ),
            expect_at: Some(datetime!(2026-05-08 10:00 UTC)),
            expect_rule: Some("talent_pool_withdrawn"),
            expect_basis: Basis::Rule,
        },
        Case {
            name: "lead: 24 months after the last activity",
            category: "contact.email.work_named",
            purposes: &["marketing.send"],
            subject_type: "lead",
            collected_at: t0,
            last_activity_at: Some(datetime!(2026-06-01 09:30 UTC)),
            events: &[],
            consents: vec![],
            expect_at: Some(datetime!(2028-06-01 09:30 UTC)),
            expect_rule: Some("marketing_contacts"),
            expect_basis: Basis::Rule,
        },
        Case {
            name: "lead without activity: counts from collection",
            category: "contact.email.work_named",
            purposes: &["marketing.send"],
            subject_type: "lead",
            collected_at: t0,
            last_activity_at: None,
            events: &[],
            consents: vec![],
            expect_at: Some(datetime!(2028-03-10 12:00 UTC)),
            expect_rule: Some("marketing_contacts"),
            expect_basis: Basis::Rule,
        },
        Case {
            name: "invoice: 5 years after the end of the fiscal year of collection",
            category: "finance.invoice",
            purposes: &["sales.orders_agreements_payments"],
            subject_type: "customer_contact",
            collected_at: t0,
            last_activity_at: Some(datetime!(2026-06-01 09:30 UTC)),
            events: &[],
            consents: vec![],
            expect_at: Some(datetime!(2032-01-01 00:00 UTC)),
            expect_rule: Some("bookkeeping_primary"),
            expect_basis: Basis::Rule,
        },
        Case {
            name: "customer contact's email: 24 months after activity",
            category: "contact.email.work_named",
            purposes: &["sales.orders_agreements_payments"],
            subject_type: "customer_contact",
            collected_at: t0,
            last_activity_at: Some(datetime!(2026-06-01 09:30 UTC)),
            events: &[],
            consents: vec![],
            expect_at: Some(datetime!(2028-06-01 09:30 UTC)),
            expect_rule: Some("customer_contacts"),
            expect_basis: Basis::Rule,
        },
        Case {
            name: "order: 42 months after fiscal year end",
            category: "commercial.order",
            purposes: &["sales.orders_agreements_payments"],
            subject_type: "customer_contact",
            collected_at: t0,
            last_activity_at: None,
            events: &[],
            consents: vec![],
            expect_at: Some(datetime!(2030-07-01 00:00 UTC)),
            expect_rule: Some("bookkeeping_secondary"),
            expect_basis: Basis::Rule,
        },
        Case {
            name: "two purposes: the later purpose keeps the record",
            category: "contact.email.work_named",
            purposes: &["marketing.send", "sales.orders_agreements_payments"],
            subject_type: "customer_contact",
            collected_at: t0,
            last_activity_at: None,
            events: &[],
            consents: vec![],
            // Both rules say 24 months after activity: the same date, the first rule found.
            expect_at: Some(datetime!(2028-03-10 12:00 UTC)),
            expect_rule: Some("marketing_contacts"),
            expect_basis: Basis::Rule,
        },
        Case {
            name: "no rule for the category: none",
            category: "marketing.suppression",
            purposes: &["nonexistent.purpose"],
            subject_type: "lead",
            collected_at: t0,
            last_activity_at: None,
            events: &[],
            consents: vec![],
            // The suppression rule has no purpose list: it applies to every purpose, and waits
            // for its event.
            expect_at: None,
            expect_rule: Some("suppression"),
            expect_basis: Basis::AwaitingEvent,
        },
        Case {
            name: "category outside every rule",
            category: "no.such.category",
            purposes: &["marketing.send"],
            subject_type: "lead",
            collected_at: t0,
            last_activity_at: None,
            events: &[],
            consents: vec![],
            expect_at: None,
            expect_rule: None,
            expect_basis: Basis::NoRule,
        },
    ]
}

/// A case's purposes and event times, owned, for [`facts_of`].
fn owned(c: &Case) -> (Vec<String>, BTreeMap<String, OffsetDateTime>) {
    let purposes = c.purposes.iter().map(|p| (*p).to_owned()).collect();
    let events = c
        .events
        .iter()
        .map(|(k, v)| ((*k).to_owned(), *v))
        .collect();
    (purposes, events)
}

fn facts_of<'a>(
    c: &'a Case,
    purposes: &'a [String],
    events: &'a BTreeMap<String, OffsetDateTime>,
) -> RecordFacts<'a> {
    RecordFacts {
        category: c.category,
        purposes,
        subject_type: c.subject_type,
        jurisdiction: None,
        collected_at: c.collected_at,
        last_activity_at: c.last_activity_at,
        event_times: events,
    }
}

#[test]
fn table() {
    let plan = plan();
    for c in cases() {
        let (purposes, events) = owned(&c);
        let facts = facts_of(&c, &purposes, &events);
        let got = plan.evaluate(&facts, &c.consents);
        assert_eq!(got.expires_at, c.expect_at, "{}", c.name);
        assert_eq!(got.rule.as_deref(), c.expect_rule, "{}", c.name);
        assert_eq!(got.basis, c.expect_basis, "{}", c.name);
    }
}

#[test]
fn fiscal_year_end_is_midnight_after_the_last_day() {
    let dec31 = (Month::December, 31);
    assert_eq!(
        fiscal_year_end_after(datetime!(2026-03-10 12:00 UTC), dec31),
        Some(datetime!(2027-01-01 00:00 UTC))
    );
    assert_eq!(
        fiscal_year_end_after(datetime!(2026-12-31 23:59 UTC), dec31),
        Some(datetime!(2027-01-01 00:00 UTC))
    );
    let jun30 = (Month::June, 30);
    assert_eq!(
        fiscal_year_end_after(datetime!(2026-07-01 00:00 UTC), jun30),
        Some(datetime!(2027-07-01 00:00 UTC))
    );
    assert_eq!(
        fiscal_year_end_after(datetime!(2026-06-30 10:00 UTC), jun30),
        Some(datetime!(2026-07-01 00:00 UTC))
    );
    // A 29 February year end in a common year ends on the 28th.
    assert_eq!(
        fiscal_year_end_after(datetime!(2027-01-10 00:00 UTC), (Month::February, 29)),
        Some(datetime!(2027-03-01 00:00 UTC))
    );
}

#[test]
fn calendar_months_clamp_to_month_end() {
    let six = CalendarDuration::parse("6 months").unwrap();
    assert_eq!(
        add(datetime!(2026-08-31 10:00 UTC), six),
        Some(datetime!(2027-02-28 10:00 UTC))
    );
}

#[test]
fn a_regrant_after_withdrawal_stands_again() {
    let plan = plan();
    let purposes = vec!["recruitment.talent_pool".to_owned()];
    let events = BTreeMap::from([(
        "application_deadline".to_owned(),
        datetime!(2026-03-31 00:00 UTC),
    )]);
    let facts = RecordFacts {
        category: "recruitment.cv",
        purposes: &purposes,
        subject_type: "job_applicant",
        jurisdiction: None,
        collected_at: datetime!(2026-03-10 12:00 UTC),
        last_activity_at: None,
        event_times: &events,
    };
    let mut consents = talent(
        datetime!(2026-04-02 08:00 UTC),
        Some(datetime!(2026-05-01 10:00 UTC)),
    );
    consents.push(ConsentFact {
        scope: "talent_pool".into(),
        granted_at: datetime!(2026-06-01 08:00 UTC),
        withdrawn_at: None,
        expires_at: None,
    });
    let got = plan.evaluate(&facts, &consents);
    assert_eq!(got.expires_at, Some(datetime!(2028-06-01 08:00 UTC)));
}

#[test]
fn a_swedish_invoice_is_kept_until_the_swedish_exception_ends() {
    let plan = plan();
    let purposes = vec!["sales.orders_agreements_payments".to_owned()];
    let events = BTreeMap::new();
    let facts = RecordFacts {
        category: "finance.invoice",
        purposes: &purposes,
        subject_type: "customer_contact",
        jurisdiction: Some("SE"),
        collected_at: datetime!(2026-03-10 12:00 UTC),
        last_activity_at: None,
        event_times: &events,
    };
    let got = plan.evaluate(&facts, &[]);
    // The rule says 5 years; Swedish bookkeeping law (7 years) is a floor.
    assert_eq!(got.expires_at, Some(datetime!(2034-01-01 00:00 UTC)));
    assert_eq!(got.basis, Basis::ErasureException);
    assert_eq!(got.rule.as_deref(), Some("bookkeeping_se"));
}

#[test]
fn erasure_exceptions_bind_invoices_until_their_end_and_not_other_categories() {
    let plan = plan();
    let purposes = vec!["sales.orders_agreements_payments".to_owned()];
    let events = BTreeMap::new();
    let facts = |category: &'static str, jurisdiction: Option<&'static str>| RecordFacts {
        category,
        purposes: &purposes,
        subject_type: "customer_contact",
        jurisdiction,
        collected_at: datetime!(2026-03-10 12:00 UTC),
        last_activity_at: None,
        event_times: &events,
    };
    let now = datetime!(2026-06-01 00:00 UTC);
    // Norwegian primary documentation: 5 years after the fiscal year end (2027-01-01).
    assert_eq!(
        plan.erasure_exception(&facts("finance.invoice", None), &[], now),
        Some(("bookkeeping_no_primary", datetime!(2032-01-01 00:00 UTC)))
    );
    assert_eq!(
        plan.erasure_exception(&facts("commercial.order", Some("NO")), &[], now),
        Some(("bookkeeping_no_secondary", datetime!(2030-07-01 00:00 UTC)))
    );
    assert_eq!(
        plan.erasure_exception(&facts("finance.invoice", Some("SE")), &[], now),
        Some(("bookkeeping_se", datetime!(2034-01-01 00:00 UTC)))
    );
    assert_eq!(
        plan.erasure_exception(&facts("identity.name", None), &[], now),
        None
    );
    // Once the exception has ended, nothing keeps the invoice.
    assert_eq!(
        plan.erasure_exception(
            &facts("finance.invoice", None),
            &[],
            datetime!(2032-01-01 00:00 UTC)
        ),
        None
    );
}

/// The classifier sends every class that depends on more than the record's own columns to the
/// application (decision 0020), and compiles the rest.
#[test]
fn class_formula_is_conservative() {
    let plan = plan();
    let p = |v: &[&str]| v.iter().map(|s| (*s).to_owned()).collect::<Vec<String>>();
    // Consent override (talent pool) and event trigger (application deadline).
    assert!(
        plan.class_formula("recruitment.cv", &p(&["recruitment.talent_pool"]))
            .is_none()
    );
    assert!(
        plan.class_formula("recruitment.cv", &p(&["recruitment.process"]))
            .is_none()
    );
    // Erasure exceptions and fiscal-year triggers.
    assert!(plan.class_formula("finance.invoice", &p(&[])).is_none());
    assert!(plan.class_formula("commercial.order", &p(&[])).is_none());
    // A consent-withdrawn rule for one of the purposes.
    assert!(
        plan.class_formula(
            "contact.email",
            &p(&["marketing.send", "marketing.profiling"])
        )
        .is_none()
    );
    // Own columns only: last activity + 24 months.
    let f = plan
        .class_formula("contact.email.work_named", &p(&["marketing.send"]))
        .unwrap();
    assert_eq!(f.purposes.len(), 1);
    assert_eq!(f.purposes[0][0].rule, "marketing_contacts");
    assert_eq!(f.purposes[0][0].anchor, OwnAnchor::LastActivity);
    // No rule at all: an empty formula (no expiry).
    assert_eq!(
        plan.class_formula("contact.email", &p(&[])),
        Some(ClassFormula::default())
    );
}

#[test]
fn only_scopes_the_rules_name_can_move_the_calendar() {
    let plan = plan();
    let policy = Policy::bundled().unwrap();
    assert!(
        plan.reads_consent("talent_pool"),
        "the talent pool override"
    );
    assert!(
        plan.reads_consent("marketing_profiling"),
        "a consent_withdrawn trigger"
    );
    assert!(!plan.reads_consent("marketing_email"));
    assert!(!plan.reads_consent("no_such_scope"));
    // For every scope the plan does not read, adding its grant or withdrawal to any case of the
    // table leaves the expiry, the rule and the basis as they were.
    let unread: Vec<String> = policy
        .raw
        .consent_scopes
        .iter()
        .map(|s| s.id.get_ref().clone())
        .filter(|s| !plan.reads_consent(s))
        .collect();
    assert!(!unread.is_empty());
    for c in cases() {
        let (purposes, events) = owned(&c);
        let facts = facts_of(&c, &purposes, &events);
        let before = plan.evaluate(&facts, &c.consents);
        for scope in &unread {
            for withdrawn in [None, Some(datetime!(2026-06-01 0:00 UTC))] {
                let mut consents = c.consents.clone();
                consents.push(ConsentFact {
                    scope: scope.clone(),
                    granted_at: datetime!(2025-01-01 0:00 UTC),
                    withdrawn_at: withdrawn,
                    expires_at: None,
                });
                let after = plan.evaluate(&facts, &consents);
                assert_eq!(
                    (after.expires_at, after.rule, after.basis),
                    (before.expires_at, before.rule.clone(), before.basis),
                    "{} with {scope}",
                    c.name
                );
            }
        }
    }
}
