//! Policy diff: each fixture variant gets the expected class at the expected path; reordering
//! is no change; the output does not depend on the order of either file.

// A test fails by panicking; the workspace's `panic` lint is meant for library code.

use vern_policy::Policy;
use vern_policy::diff::{ChangeClass, PolicyDiff, diff};

use crate::support;

use ChangeClass::{Editorial, Material};

const VARIANTS: [&str; 7] = [
    "base.toml",
    "added_purpose.toml",
    "reworded.toml",
    "retention_36.toml",
    "new_non_eea_subprocessor.toml",
    "shorter_retention.toml",
    "reordered.toml",
];

fn fixture(name: &str) -> Policy {
    support::valid_fixture(&format!("diff/{name}"))
}

fn against_base(name: &str) -> PolicyDiff {
    diff(&fixture("base.toml"), &fixture(name))
}

/// `base.toml` with each `(from, to)` replaced; each `from` must occur exactly once.
fn edited(edits: &[(&str, &str)]) -> Policy {
    let mut source = support::fixture_source("diff/base.toml");
    for (from, to) in edits {
        assert_eq!(source.matches(from).count(), 1, "{from:?} must occur once");
        source = source.replace(from, to);
    }
    match Policy::parse(&source) {
        Ok((p, _)) => p,
        Err(d) => panic!("edited base invalid:\n{}", d.render("base.toml", &source)),
    }
}

fn paths(d: &PolicyDiff) -> Vec<(&str, ChangeClass)> {
    d.changes
        .iter()
        .map(|c| (c.path.as_str(), c.class))
        .collect()
}

#[track_caller]
fn assert_has(d: &PolicyDiff, path: &str, class: ChangeClass) {
    assert!(
        d.changes.iter().any(|c| c.path == path && c.class == class),
        "expected {class} change at {path}, got:\n{}",
        d.render_text()
    );
}

#[test]
fn added_purpose_is_material() {
    let d = against_base("added_purpose.toml");
    assert_eq!(paths(&d), [("purpose.sales.offers", Material)]);
    assert_eq!(d.class(), Some(Material));
    assert_eq!(d.exit_code(), 2);
    assert!(d.changes[0].summary.contains("legitimate interest"));
}

#[test]
fn reworded_description_is_editorial() {
    let d = against_base("reworded.toml");
    assert_eq!(
        paths(&d),
        [("purpose.marketing.send.description", Editorial)]
    );
    assert_eq!(d.class(), Some(Editorial));
    assert_eq!(d.exit_code(), 1);
}

#[test]
fn longer_retention_is_material() {
    let d = against_base("retention_36.toml");
    assert_eq!(paths(&d), [("retention.leads.duration", Material)]);
    assert!(
        d.changes[0]
            .summary
            .contains("24 months changed to 36 months")
    );
}

#[test]
fn shorter_retention_is_editorial() {
    let d = against_base("shorter_retention.toml");
    assert_eq!(paths(&d), [("retention.leads.duration", Editorial)]);
    assert_eq!(d.exit_code(), 1);
}

#[test]
fn new_non_eea_sub_processor_is_material() {
    let d = against_base("new_non_eea_subprocessor.toml");
    assert_eq!(paths(&d), [("recipient.esp_analytics", Material)]);
    let summary = &d.changes[0].summary;
    assert!(
        summary.contains("in IN") && summary.contains("SCC 2021/914"),
        "{summary}"
    );
}

#[test]
fn reordering_and_layout_are_no_change() {
    let d = against_base("reordered.toml");
    assert!(d.is_empty(), "{}", d.render_text());
    assert_eq!(d.class(), None);
    assert_eq!(d.exit_code(), 0);
    assert_eq!(d.render_text(), "no changes\n");
}

#[test]
fn every_fixture_diffed_with_itself_is_empty() {
    for name in VARIANTS {
        let p = fixture(name);
        let d = diff(&p, &p);
        assert!(d.is_empty(), "{name}: {}", d.render_text());
    }
    let minimal = support::valid_fixture("minimal.toml");
    assert!(diff(&minimal, &minimal).is_empty());
}

#[test]
fn diff_is_deterministic_and_ignores_file_order() {
    let base = fixture("base.toml");
    let reordered = fixture("reordered.toml");
    for name in VARIANTS {
        let new = fixture(name);
        let first = diff(&base, &new);
        assert_eq!(first, diff(&base, &new), "{name}: not repeatable");
        assert_eq!(
            first,
            diff(&reordered, &new),
            "{name}: depends on the old file's order"
        );
        assert_eq!(first.render_text(), diff(&base, &new).render_text());
    }
}

#[test]
fn narrowing_back_is_editorial() {
    // Each material variant, undone, only narrows.
    for name in [
        "added_purpose.toml",
        "retention_36.toml",
        "new_non_eea_subprocessor.toml",
    ] {
        let d = diff(&fixture(name), &fixture("base.toml"));
        assert_eq!(
            d.class(),
            Some(Editorial),
            "{name} undone:\n{}",
            d.render_text()
        );
    }
}

#[test]
fn render_text_lists_material_changes_first() {
    let new = edited(&[
        ("version = \"2026-01-01\"", "version = \"2026-02-01\""),
        ("duration = \"24 months\"", "duration = \"3 years\""),
    ]);
    let d = diff(&fixture("base.toml"), &new);
    let text = d.render_text();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 2, "{text}");
    assert!(lines[0].starts_with("material: ") && lines[0].ends_with("(retention.leads.duration)"));
    assert!(lines[1].starts_with("editorial: ") && lines[1].ends_with("(version)"));
}

#[test]
fn purpose_widening_and_basis_changes_are_material() {
    let base = fixture("base.toml");

    // A new sub-category under a referenced group widens the purpose that references it.
    let phone = edited(&[(
        "[[category]]\nid = \"recruitment\"\n",
        "[[category]]\nid = \"contact.phone\"\nname = { nb = \"Telefon\", en = \"Phone\" }\n\n[[category]]\nid = \"recruitment\"\n",
    )]);
    let d = diff(&base, &phone);
    assert_has(&d, "purpose.marketing.send.categories", Material);
    assert_has(&d, "category.contact.phone", Editorial);

    let more_subjects = edited(&[(
        "subject_types = [\"lead\"]\ncategories = [\"contact\"]",
        "subject_types = [\"lead\", \"job_applicant\"]\ncategories = [\"contact\"]",
    )]);
    assert_has(
        &diff(&base, &more_subjects),
        "purpose.marketing.send.subject_types",
        Material,
    );

    let basis = edited(&[
        (
            "legal_basis = \"contract\"",
            "legal_basis = \"legitimate_interest\"\nlia_ref = \"LIA-9\"",
        ),
        ("objection = \"not_applicable\"", "objection = \"relative\""),
    ]);
    let d = diff(&base, &basis);
    assert_has(&d, "purpose.recruitment.process.legal_basis", Material);
    assert_has(&d, "purpose.recruitment.process.lia_ref", Editorial);
    // not_applicable → relative gives people a right they did not have.
    assert_has(&d, "purpose.recruitment.process.objection", Editorial);

    let special = edited(&[
        (
            "id = \"recruitment.cv\"\n",
            "id = \"recruitment.cv\"\nspecial = true\n",
        ),
        (
            "legal_basis = \"contract\"",
            "legal_basis = \"contract\"\nart9_ground = \"employment_social_security\"",
        ),
    ]);
    let d = diff(&base, &special);
    assert_has(&d, "category.recruitment.cv.special", Material);
    assert_has(&d, "purpose.recruitment.process.art9_ground", Material);
}

#[test]
fn weaker_objection_and_gates_are_material() {
    let base = fixture("base.toml");
    let relative = edited(&[(
        "objection = \"absolute\"\ndirect_marketing = true",
        "objection = \"relative\"",
    )]);
    let d = diff(&base, &relative);
    assert_has(&d, "purpose.marketing.send.objection", Material);
    assert_has(&d, "purpose.marketing.send.direct_marketing", Editorial);

    let gate = "gates = [{ kind = \"electronic_marketing_consent\", consent_scope = \"marketing_email\", channels = [\"email\"] }]";
    let no_gate = edited(&[(gate, "")]);
    assert_eq!(
        paths(&diff(&base, &no_gate)),
        [(
            "purpose.marketing.send.gates.electronic_marketing_consent",
            Material
        )]
    );
    assert_eq!(diff(&no_gate, &base).class(), Some(Editorial));

    let exception = edited(&[(
        "channels = [\"email\"] }]",
        "channels = [\"email\"], existing_customer_exception = true }]",
    )]);
    assert_eq!(
        paths(&diff(&base, &exception)),
        [(
            "purpose.marketing.send.gates.electronic_marketing_consent.existing_customer_exception",
            Material
        )]
    );
}

#[test]
fn consent_text_and_controller_identity_are_material_contacts_editorial() {
    let base = fixture("base.toml");
    let text = edited(&[(
        "en = \"Yes, send me news by email.\"",
        "en = \"Yes, send me news and offers by email.\"",
    )]);
    assert_eq!(
        paths(&diff(&base, &text)),
        [("consent_scope.marketing_email.text", Material)]
    );

    let renamed = edited(&[("name = \"Eksempel AS\"", "name = \"Eksempel Holding AS\"")]);
    assert_eq!(
        paths(&diff(&base, &renamed)),
        [("controller.name", Material)]
    );

    let contact = edited(&[
        (
            "email = \"post@eksempel.example\"",
            "email = \"hei@eksempel.example\"",
        ),
        ("name = \"Personvernombud\"", "name = \"Personvernteamet\""),
    ]);
    assert_eq!(
        paths(&diff(&base, &contact)),
        [
            ("controller.email", Editorial),
            ("data_protection_contact.name", Editorial)
        ]
    );

    let shorter_notice = edited(&[("notice_days = 30", "notice_days = 14")]);
    assert_eq!(
        paths(&diff(&base, &shorter_notice)),
        [("changes.notice_days", Material)]
    );
    assert_eq!(diff(&shorter_notice, &base).class(), Some(Editorial));
}

#[test]
fn transfers_and_recipient_moves() {
    let base = fixture("base.toml");
    let dpf = edited(&[(
        "transfer = { mechanism = \"scc\", scc_version = \"2021/914\", scc_module = 3 }",
        "transfer = { mechanism = \"adequacy\", dpf_certified = true }",
    )]);
    let d = diff(&base, &dpf);
    assert_has(&d, "recipient.esp.transfer.mechanism", Material);
    assert_has(&d, "recipient.esp.transfer.scc_version", Editorial);

    let in_eea = edited(&[
        ("country = \"US\"", "country = \"DE\""),
        (
            "\ntransfer = { mechanism = \"scc\", scc_version = \"2021/914\", scc_module = 3 }",
            "",
        ),
    ]);
    let d = diff(&base, &in_eea);
    assert_eq!(d.class(), Some(Editorial), "{}", d.render_text());
    // Back to the US: the recipient leaves the EEA and a transfer begins.
    let d = diff(&in_eea, &base);
    assert_has(&d, "recipient.esp.country", Material);
    assert_has(&d, "recipient.esp.transfer", Material);

    let wider = edited(&[(
        "categories = [\"contact.email\"]\ndpa_date",
        "categories = [\"contact\"]\ndpa_date",
    )]);
    // `contact` has only `contact.email` below it: the same data, reworded.
    assert_eq!(
        paths(&diff(&base, &wider)),
        [("recipient.esp.categories", Editorial)]
    );
}

#[test]
fn retention_structure_is_judged_by_effect() {
    let base = fixture("base.toml");
    // Renaming a rule (remove + add with the same clock) keeps nothing longer.
    let renamed = edited(&[("id = \"leads\"", "id = \"lead_contacts\"")]);
    let d = diff(&base, &renamed);
    assert_eq!(
        paths(&d),
        [
            ("retention.lead_contacts", Editorial),
            ("retention.leads", Editorial)
        ]
    );

    // Removing the only rule for leads' contact data leaves it without a limit.
    let leads_rule = "[[retention]]\nid = \"leads\"\ndescription = { nb = \"Leads slettes.\", en = \"Leads are deleted.\" }\ncategories = [\"contact\"]\nsubject_types = [\"lead\"]\ntrigger = \"last_activity_at\"\nduration = \"24 months\"\naction = \"delete\"\nlegal_ref = \"GDPR Art. 5(1)(e)\"\n";
    let removed = edited(&[(leads_rule, "")]);
    assert_eq!(
        paths(&diff(&base, &removed)),
        [("retention.leads", Material)]
    );

    // The other clock must be able to occur for contact data, or the policy is invalid.
    let trigger = edited(&[
        (
            "trigger = \"last_activity_at\"",
            "trigger = \"application_deadline\"",
        ),
        (
            "en = \"last application date\" }\ncategories = [\"recruitment\"]",
            "en = \"last application date\" }\ncategories = [\"recruitment\", \"contact\"]",
        ),
    ]);
    assert_has(&diff(&base, &trigger), "retention.leads.trigger", Material);

    let anonymise = edited(&[(
        "action = \"delete\"\nlegal_ref = \"GDPR Art. 5(1)(e)\"\n\n[[retention]]\nid = \"recruitment\"",
        "action = \"anonymise\"\nlegal_ref = \"GDPR Art. 5(1)(e)\"\n\n[[retention]]\nid = \"recruitment\"",
    )]);
    assert_eq!(
        paths(&diff(&base, &anonymise)),
        [("retention.leads.action", Material)]
    );

    // Widening the leads rule to every subject type with the same clock: applicants' email had
    // no rule, so nothing is kept longer than before.
    let all_subjects = edited(&[("subject_types = [\"lead\"]\ntrigger", "trigger")]);
    assert_eq!(
        paths(&diff(&base, &all_subjects)),
        [("retention.leads.subject_types", Editorial)]
    );

    let same_length = edited(&[("duration = \"24 months\"", "duration = \"2 years\"")]);
    assert_eq!(
        paths(&diff(&base, &same_length)),
        [("retention.leads.duration", Editorial)]
    );
}

#[test]
fn erasure_exceptions_added_are_material_removed_editorial() {
    let base = fixture("base.toml");
    let with_exception = edited(&[(
        "[[message_class]]",
        "[[erasure_exception]]\nid = \"recruitment_claims\"\ndescription = { nb = \"Krav.\", en = \"Claims.\" }\ncategories = [\"recruitment\"]\ntrigger = \"application_deadline\"\nduration = \"3 years\"\nlegal_ref = \"foreldelsesloven § 2, GDPR Art. 17(3)(e)\"\njurisdiction = \"NO\"\n\n[[message_class]]",
    )]);
    assert_eq!(
        paths(&diff(&base, &with_exception)),
        [("erasure_exception.recruitment_claims", Material)]
    );
    let d = diff(&with_exception, &base);
    assert_eq!(
        paths(&d),
        [("erasure_exception.recruitment_claims", Editorial)]
    );
    assert!(d.changes[0].summary.contains("foreldelsesloven"));
}

#[test]
fn message_class_turned_administrative_is_material() {
    let base = fixture("base.toml");
    // An administrative class may not ride on a direct-marketing purpose, so it moves too.
    let admin = edited(&[
        ("kind = \"marketing\"", "kind = \"administrative\""),
        (
            "purpose = \"marketing.send\"\nchannels",
            "purpose = \"recruitment.process\"\nchannels",
        ),
    ]);
    assert_has(
        &diff(&base, &admin),
        "message_class.newsletter.kind",
        Material,
    );
}
