//! `vern policy check`: every broken fixture fails with its own located message; valid
//! policies pass.

use vern_policy::Policy;

use crate::support::{fixture_path, valid_fixture};

/// Renders every diagnostic of a fixture the way the CLI prints it.
fn problems(name: &str) -> String {
    let path = fixture_path(&format!("broken/{name}.toml"));
    let bytes = match std::fs::read(&path) {
        Ok(b) => b,
        Err(e) => panic!("{name}: {e}"),
    };
    let shown = format!("{name}.toml");
    match Policy::parse_bytes(&bytes) {
        Ok(_) => panic!("{name} should be rejected"),
        Err(d) => d.render(&shown, &String::from_utf8_lossy(&bytes)),
    }
}

fn assert_problem(name: &str, expected: &str) {
    let out = problems(name);
    assert!(
        out.lines().any(|l| l == expected),
        "{name}: expected the line\n  {expected}\nin\n{out}"
    );
    assert!(
        out.lines()
            .all(|l| l.contains(": error: ") || l.contains(": warning: ")),
        "{out}"
    );
}

#[test]
fn minimal_policy_is_valid_without_warnings() {
    let src = crate::support::fixture_source("minimal.toml");
    match Policy::parse(&src) {
        Ok((_, warnings)) => assert!(
            warnings.0.is_empty(),
            "{}",
            warnings.render("minimal.toml", &src)
        ),
        Err(d) => panic!("{}", d.render("minimal.toml", &src)),
    }
    let _ = valid_fixture("minimal.toml");
}

#[test]
fn bundled_policy_is_valid() {
    let p = crate::support::bundled();
    assert!(!p.raw.purposes.is_empty());
}

#[test]
fn a_toml_syntax_error_is_located() {
    assert_problem(
        "syntax_error",
        "syntax_error.toml:3:22: error: invalid basic string, expected `\"`",
    );
}

#[test]
fn an_unknown_key_is_named_with_the_keys_allowed_there() {
    assert_problem(
        "unknown_key",
        "unknown_key.toml:14:1: error: unknown field `fiscal_year_start`, expected one of `name`, `country`, `org_number`, `address`, `email`, `phone`, `website`, `fiscal_year_end`",
    );
}

#[test]
fn invalid_utf8_is_located() {
    assert_problem(
        "invalid_utf8",
        "invalid_utf8.toml:8:18: error: the policy file is not valid UTF-8",
    );
}

#[test]
fn a_duplicate_toml_key_is_named() {
    assert_problem(
        "duplicate_key",
        "duplicate_key.toml:9:1: error: duplicate key `name`",
    );
}

#[test]
fn a_duplicate_id_points_at_the_first_declaration() {
    assert_problem(
        "duplicate_id",
        "duplicate_id.toml:70:6: error: duplicate category id `recruitment.cv` (first declared on line 66)",
    );
}

#[test]
fn an_unknown_category_is_rejected() {
    assert_problem(
        "unknown_category",
        "unknown_category.toml:82:26: error: unknown category `contact.fax`",
    );
}

#[test]
fn an_unknown_purpose_is_rejected() {
    assert_problem(
        "unknown_purpose",
        "unknown_purpose.toml:104:13: error: unknown purpose `marketing.sned`",
    );
}

#[test]
fn an_unknown_subject_type_is_rejected() {
    assert_problem(
        "unknown_subject_type",
        "unknown_subject_type.toml:81:18: error: unknown subject type `leads`",
    );
}

#[test]
fn an_unknown_recipient_is_rejected() {
    assert_problem(
        "unknown_recipient",
        "unknown_recipient.toml:118:13: error: unknown recipient `mailer`",
    );
}

#[test]
fn an_unknown_trigger_is_rejected() {
    assert_problem(
        "unknown_trigger",
        "unknown_trigger.toml:135:11: error: unknown trigger `application_date`",
    );
}

#[test]
fn a_consent_purpose_needs_a_consent_scope() {
    assert_problem(
        "consent_without_scope",
        "consent_without_scope.toml:79:15: error: purpose `marketing.send` is based on consent but has no `consent_scope`",
    );
}

#[test]
fn a_special_category_needs_an_art9_ground() {
    assert_problem(
        "special_without_art9",
        "special_without_art9.toml:99:14: error: purpose `recruitment.process` processes special category `recruitment.health` (GDPR Art. 9) but declares no `art9_ground`",
    );
}

#[test]
fn a_non_eea_sub_processor_needs_a_transfer_mechanism() {
    assert_problem(
        "non_eea_without_transfer",
        "non_eea_without_transfer.toml:103:11: error: recipient `esp` in US is outside the EEA and has no `transfer` mechanism (adequacy, scc, bcr or derogation; GDPR Chapter V)",
    );
}

#[test]
fn adequacy_needs_a_commission_decision() {
    assert_problem(
        "adequacy_without_decision",
        "adequacy_without_decision.toml:107:26: error: IN has no EU adequacy decision; recipient `esp` needs SCCs, BCRs or a derogation",
    );
}

#[test]
fn a_retention_duration_must_be_positive() {
    assert_problem(
        "retention_non_positive",
        "retention_non_positive.toml:127:12: error: duration must be positive, found \"0 months\"",
    );
}

#[test]
fn a_retention_trigger_must_occur_for_its_categories() {
    assert_problem(
        "retention_trigger_mismatch",
        "retention_trigger_mismatch.toml:134:30: error: retention rule `recruitment`: trigger `application_deadline` never occurs for category `contact` (it occurs only for `recruitment`)",
    );
}

#[test]
fn a_marketing_message_needs_consent_or_legitimate_interest() {
    assert_problem(
        "marketing_wrong_basis",
        "marketing_wrong_basis.toml:144:11: error: marketing message class `newsletter` is routed through purpose `recruitment.process`, whose basis is contract (Art. 6(1)(b)); marketing needs consent or legitimate interest",
    );
}

#[test]
fn the_contract_basis_needs_a_contract_with_the_subject() {
    assert_problem(
        "contract_without_contract",
        "contract_without_contract.toml:93:35: error: purpose `recruitment.process` has legal basis contract, but subject type `lead` has no contract with the controller (contract = \"none\"); use legitimate_interest or another basis",
    );
}
