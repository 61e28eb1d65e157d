//! One test per write rule, against the minimal fixture policy and a small extension of it.

use serde_json::json;

use super::*;

const MINIMAL: &str = include_str!("../../../vern-policy/tests/fixtures/minimal.toml");

/// Additions to the minimal policy: a special category with a sub-category, purposes with and
/// without an Art. 9 ground, a purpose with no source list, and two bases on one category.
const EXTENSION: &str = r#"
[[source]]
id = "partner_list"
kind = "partner"
name = { nb = "Partnerliste", en = "Partner list" }

[[category]]
id = "health"
name = { nb = "Helse", en = "Health" }
special = true

[[category]]
id = "health.allergies"
name = { nb = "Allergier", en = "Allergies" }

[[purpose]]
id = "recruitment.adaptation"
name = { nb = "Tilrettelegging", en = "Adaptation" }
description = { nb = "Tilrettelegge intervju.", en = "Adapt the interview." }
legal_basis = "legal_obligation"
legal_basis_ref = "Arbeidsmiljøloven § 4-6"
art9_ground = "employment_social_security"
subject_types = ["job_applicant"]
categories = ["health"]
objection = "not_applicable"

[[purpose]]
id = "recruitment.screening"
name = { nb = "Utvelgelse", en = "Screening" }
description = { nb = "Velge kandidater.", en = "Select candidates." }
legal_basis = "contract"
subject_types = ["job_applicant"]
categories = ["recruitment", "health.allergies"]
objection = "not_applicable"

[[purpose]]
id = "recruitment.records"
name = { nb = "Arkiv", en = "Records" }
description = { nb = "Arkivplikt.", en = "Archiving duty." }
legal_basis = "legal_obligation"
legal_basis_ref = "Arkivloven"
subject_types = ["job_applicant"]
categories = ["recruitment"]
objection = "not_applicable"
"#;

fn minimal() -> Policy {
    Policy::parse(MINIMAL).unwrap().0
}

fn extended() -> Policy {
    match Policy::parse(&format!("{MINIMAL}\n{EXTENSION}")) {
        Ok((policy, _warnings)) => policy,
        Err(d) => panic!("test policy invalid: {d:?}"),
    }
}

fn input(category: &str, purposes: &[&str]) -> RecordInput {
    RecordInput {
        category: category.into(),
        value: json!("ada@example.com"),
        source: "direct".into(),
        purposes: purposes.iter().map(|p| (*p).to_owned()).collect(),
        legal_basis: None,
        collected_at: None,
        last_activity_at: None,
        originating_system: None,
    }
}

fn lead_email() -> RecordInput {
    input("contact.email", &["marketing.send"])
}

#[track_caller]
fn refused(result: Result<CheckedRecord, WriteError>, code: &str, field: &str) -> WriteError {
    let err = result.unwrap_err();
    assert_eq!(
        (err.code, err.field.as_str()),
        (code, field),
        "{}",
        err.reason
    );
    assert!(!err.reason.contains("ada@example.com"));
    err
}

#[test]
fn a_valid_record_gets_the_purposes_basis() {
    let checked = check_record(&minimal(), "lead", &lead_email()).unwrap();
    assert_eq!(checked.legal_basis, LegalBasis::LegitimateInterest);
}

#[test]
fn subject_type_must_be_declared() {
    assert!(check_subject_type(&minimal(), "lead").is_ok());
    let err = check_subject_type(&minimal(), "customer").unwrap_err();
    assert_eq!(
        (err.code, err.field.as_str()),
        (code::UNKNOWN_SUBJECT_TYPE, "subject_type")
    );
    refused(
        check_record(&minimal(), "customer", &lead_email()),
        code::UNKNOWN_SUBJECT_TYPE,
        "subject_type",
    );
}

#[test]
fn category_must_be_a_declared_leaf() {
    let policy = minimal();
    let mut record = lead_email();
    record.category = "contact.phone".into();
    refused(
        check_record(&policy, "lead", &record),
        code::UNKNOWN_CATEGORY,
        "category",
    );
    record.category = "contact".into();
    refused(
        check_record(&policy, "lead", &record),
        code::CATEGORY_NOT_SPECIFIC,
        "category",
    );
}

#[test]
fn unknown_names_are_echoed_only_when_they_look_like_policy_ids() {
    let mut record = lead_email();
    record.category = format!("{}\n", "x".repeat(500));
    let err = refused(
        check_record(&minimal(), "lead", &record),
        code::UNKNOWN_CATEGORY,
        "category",
    );
    assert!(err.reason.len() < 150, "{}", err.reason);
    assert!(!err.reason.contains('\n'));
    record.category = "contact.fax\n".into();
    let err = refused(
        check_record(&minimal(), "lead", &record),
        code::UNKNOWN_CATEGORY,
        "category",
    );
    assert!(!err.reason.contains("contact.fax"), "{}", err.reason);
    // A typo of an id is shown, to help; personal data in the wrong field never is.
    record.category = "contact.fax".into();
    let err = refused(
        check_record(&minimal(), "lead", &record),
        code::UNKNOWN_CATEGORY,
        "category",
    );
    assert!(err.reason.contains("`contact.fax`"), "{}", err.reason);
    for personal in ["ola@example.com", "Ola Nordmann", "+47 415 77 319"] {
        record.category = personal.into();
        let err = refused(
            check_record(&minimal(), "lead", &record),
            code::UNKNOWN_CATEGORY,
            "category",
        );
        assert!(!err.reason.contains(personal), "{}", err.reason);
    }
}

#[test]
fn purposes_must_be_given_and_declared() {
    let policy = minimal();
    let mut record = lead_email();
    record.purposes.clear();
    refused(
        check_record(&policy, "lead", &record),
        code::UNKNOWN_PURPOSE,
        "purposes",
    );
    record.purposes = vec!["marketing.send".into(), "marketing.spam".into()];
    refused(
        check_record(&policy, "lead", &record),
        code::UNKNOWN_PURPOSE,
        "purposes[1]",
    );
}

#[test]
fn each_purpose_must_allow_the_subject_type() {
    let record = input("contact.email", &["recruitment.process"]);
    let err = refused(
        check_record(&minimal(), "lead", &record),
        code::SUBJECT_TYPE_NOT_ALLOWED,
        "purposes[0]",
    );
    assert!(err.reason.contains("recruitment.process"));
}

#[test]
fn each_purpose_must_cover_the_category() {
    // Marketing covers `contact` only.
    let record = input("recruitment.cv", &["marketing.send"]);
    refused(
        check_record(&minimal(), "lead", &record),
        code::CATEGORY_NOT_ALLOWED_FOR_PURPOSE,
        "purposes[0]",
    );
    // Covering through a parent reference is enough.
    let record = input("recruitment.cv", &["recruitment.process"]);
    assert!(check_record(&minimal(), "job_applicant", &record).is_ok());
}

#[test]
fn a_given_legal_basis_must_be_known_and_match_every_purpose() {
    let policy = minimal();
    let mut record = lead_email();
    record.legal_basis = Some("legitimate_interest".into());
    assert!(check_record(&policy, "lead", &record).is_ok());
    record.legal_basis = Some("Legitimate interest".into());
    refused(
        check_record(&policy, "lead", &record),
        code::UNKNOWN_LEGAL_BASIS,
        "legal_basis",
    );
    record.legal_basis = Some("consent".into());
    let err = refused(
        check_record(&policy, "lead", &record),
        code::LEGAL_BASIS_MISMATCH,
        "legal_basis",
    );
    assert!(err.reason.contains("marketing.send"), "{}", err.reason);
}

#[test]
fn purposes_on_different_bases_need_separate_records() {
    let policy = extended();
    let record = input(
        "recruitment.cv",
        &["recruitment.process", "recruitment.records"],
    );
    refused(
        check_record(&policy, "job_applicant", &record),
        code::LEGAL_BASIS_MISMATCH,
        "purposes",
    );
    let mut record = record;
    record.legal_basis = Some("contract".into());
    refused(
        check_record(&policy, "job_applicant", &record),
        code::LEGAL_BASIS_MISMATCH,
        "legal_basis",
    );
    // Same basis on several purposes is fine.
    let record = input(
        "recruitment.cv",
        &["recruitment.process", "recruitment.screening"],
    );
    let checked = check_record(&policy, "job_applicant", &record).unwrap();
    assert_eq!(checked.legal_basis, LegalBasis::Contract);
}

#[test]
fn special_category_needs_an_art9_ground_for_every_purpose() {
    let policy = extended();
    let mut record = input("health.allergies", &["recruitment.adaptation"]);
    record.value = json!({"nuts": true});
    let checked = check_record(&policy, "job_applicant", &record).unwrap();
    assert_eq!(checked.legal_basis, LegalBasis::LegalObligation);
    // The sub-category is special through its parent, and screening has no Art. 9 ground.
    record.purposes = vec!["recruitment.screening".into()];
    let err = refused(
        check_record(&policy, "job_applicant", &record),
        code::SPECIAL_CATEGORY,
        "purposes[0]",
    );
    assert!(err.reason.contains("Art. 9"));
}

#[test]
fn source_must_be_declared_and_allowed_by_purposes_that_list_sources() {
    let policy = extended();
    let mut record = lead_email();
    record.source = "dumpster".into();
    refused(
        check_record(&policy, "lead", &record),
        code::UNKNOWN_SOURCE,
        "source",
    );
    record.source = "partner_list".into();
    let err = refused(
        check_record(&policy, "lead", &record),
        code::SOURCE_NOT_ALLOWED,
        "source",
    );
    assert!(err.reason.contains("marketing.send"));
    // A purpose without a source list accepts any declared source.
    let mut record = input("recruitment.cv", &["recruitment.screening"]);
    record.source = "partner_list".into();
    assert!(check_record(&policy, "job_applicant", &record).is_ok());
}

#[test]
fn value_must_not_be_null_or_too_large() {
    let policy = minimal();
    let mut record = lead_email();
    record.value = serde_json::Value::Null;
    refused(
        check_record(&policy, "lead", &record),
        code::INVALID_VALUE,
        "value",
    );
    // 64 KiB exactly (with the two quotes) is accepted; one byte more is not.
    record.value = json!("x".repeat(MAX_VALUE_BYTES - 2));
    assert!(check_record(&policy, "lead", &record).is_ok());
    record.value = json!("x".repeat(MAX_VALUE_BYTES - 1));
    refused(
        check_record(&policy, "lead", &record),
        code::INVALID_VALUE,
        "value",
    );
    record.value = json!({"nested": [1, 2, {"ok": false}]});
    assert!(check_record(&policy, "lead", &record).is_ok());
}

#[test]
fn input_deserialises_strictly_with_rfc3339_times() {
    let record: RecordInput = serde_json::from_value(json!({
        "category": "contact.email",
        "value": "ada@example.com",
        "source": "direct",
        "purposes": ["marketing.send"],
        "collected_at": "2026-01-02T03:04:05Z",
        "last_activity_at": "2026-02-01T00:00:00+01:00",
        "originating_system": "crm"
    }))
    .unwrap();
    assert_eq!(
        record.collected_at,
        Some(time::macros::datetime!(2026-01-02 03:04:05 UTC))
    );
    assert!(record.last_activity_at.is_some());
    assert_eq!(record.legal_basis, None);
    // Round-trips.
    let again: RecordInput =
        serde_json::from_value(serde_json::to_value(&record).unwrap()).unwrap();
    assert_eq!(again, record);

    let unknown_field = serde_json::from_value::<RecordInput>(json!({
        "category": "contact.email", "value": 1, "source": "direct",
        "purposes": ["marketing.send"], "colour": "blue"
    }));
    assert!(unknown_field.is_err());
    let bad_time = serde_json::from_value::<RecordInput>(json!({
        "category": "contact.email", "value": 1, "source": "direct",
        "purposes": ["marketing.send"], "collected_at": "yesterday"
    }));
    assert!(bad_time.is_err());
}

#[test]
fn debug_output_hides_the_value() {
    let shown = format!("{:?}", lead_email());
    assert!(!shown.contains("ada@example.com"), "{shown}");
    assert!(shown.contains("contact.email"));
}

#[test]
fn legal_basis_names_round_trip_through_the_policy_parser() {
    for basis in [
        LegalBasis::Consent,
        LegalBasis::Contract,
        LegalBasis::LegalObligation,
        LegalBasis::VitalInterests,
        LegalBasis::PublicTask,
        LegalBasis::LegitimateInterest,
    ] {
        assert_eq!(parse_legal_basis(legal_basis_name(basis)), Some(basis));
    }
    assert_eq!(parse_legal_basis("Consent"), None);
    assert_eq!(parse_legal_basis(""), None);
}
