//! The rules for disclosing personal data to a recipient, all derived from the policy.
//!
//! A disclosure goes only to a recipient the policy names, only for a purpose that recipient is
//! registered for, and only of categories the recipient may receive. A recipient outside the EEA
//! needs a transfer mechanism that holds on the day of the disclosure (an adequacy decision in
//! force then, or SCCs/BCRs/a derogation). An authority receives data only on a legal decision
//! (court or authority, case number, date, scope — seed S33), and recording such a disclosure
//! is itself the DPO's approval, so it needs the `disclosures.approve` permission (checked by
//! the caller, who knows the role). A non-disclosure order may accompany an authority's
//! decision; while it stands the subject's access report leaves the disclosure out.

use serde::{Deserialize, Serialize};
use time::Date;
use vern_policy::model::{RecipientKind, TransferMechanism};
use vern_policy::{Policy, adequacy, category_covers};

use crate::records::{WriteError, legal_basis_name, parse_legal_basis};

/// Most subjects one disclosure may name; larger exports are several disclosures.
pub const MAX_SUBJECTS: usize = 10_000;

/// How the data left.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Mechanism {
    Api,
    Export,
    Sync,
    Other,
}

impl Mechanism {
    pub fn as_str(self) -> &'static str {
        match self {
            Mechanism::Api => "api",
            Mechanism::Export => "export",
            Mechanism::Sync => "sync",
            Mechanism::Other => "other",
        }
    }
}

/// The legal decision that obliges disclosure to an authority.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LegalDecision {
    /// The court or authority that decided.
    pub issued_by: String,
    pub case_number: String,
    /// Date of the decision (`YYYY-MM-DD`).
    pub decided_on: String,
    /// What the decision covers, in words.
    pub scope: String,
    /// End of a non-disclosure order that came with the decision (`YYYY-MM-DD`), if any.
    #[serde(default)]
    pub nondisclosure_until: Option<String>,
}

/// What the caller wants to record, before checks.
pub struct DisclosureRequest<'a> {
    pub recipient: &'a str,
    pub purpose: &'a str,
    pub categories: &'a [String],
    pub legal_basis: Option<&'a str>,
    pub subjects: usize,
    pub legal_decision: Option<&'a LegalDecision>,
    /// The day of the disclosure, for the transfer check.
    pub on: Date,
}

/// A disclosure that passed every rule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckedDisclosure {
    pub legal_basis: &'static str,
    /// An authority's decision is required: recording needs `disclosures.approve`.
    pub needs_dpo_approval: bool,
    pub nondisclosure_until: Option<Date>,
    /// The transfer safeguard, for recipients outside the EEA.
    pub transfer: Option<String>,
}

fn err(code: &'static str, field: impl Into<String>, reason: impl Into<String>) -> WriteError {
    WriteError {
        code,
        field: field.into(),
        reason: reason.into(),
    }
}

/// Checks a disclosure against the policy; every problem found is returned.
pub fn check_disclosure(
    policy: &Policy,
    req: &DisclosureRequest<'_>,
) -> Result<CheckedDisclosure, Vec<WriteError>> {
    let mut errors = Vec::new();
    let Some(recipient) = policy.recipient(req.recipient) else {
        return Err(vec![err(
            "unknown_recipient",
            "recipient",
            "the policy names no recipient with this id; data goes only to registered recipients",
        )]);
    };
    if req.subjects == 0 || req.subjects > MAX_SUBJECTS {
        errors.push(err(
            "invalid_subjects",
            "subjects",
            format!("name between 1 and {MAX_SUBJECTS} subjects"),
        ));
    }
    let purpose = policy.purpose(req.purpose);
    let registered = recipient
        .purposes
        .get_ref()
        .iter()
        .any(|p| p.get_ref() == req.purpose);
    match purpose {
        None => errors.push(err(
            "unknown_purpose",
            "purpose",
            "the policy declares no purpose with this id",
        )),
        Some(_) if !registered => errors.push(err(
            "purpose_not_allowed_for_recipient",
            "purpose",
            "the recipient is not registered for this purpose in the policy",
        )),
        Some(_) => {}
    }
    if req.categories.is_empty() {
        errors.push(err(
            "invalid_categories",
            "categories",
            "name at least one category",
        ));
    }
    for (i, c) in req.categories.iter().enumerate() {
        let field = format!("categories[{i}]");
        if policy.categories_under(c).next().is_none() {
            errors.push(err(
                "unknown_category",
                field,
                "the policy declares no category with this id",
            ));
            continue;
        }
        // Every leaf the reference covers must be one the recipient may receive.
        let allowed = policy.categories_under(c).all(|leaf| {
            recipient
                .categories
                .get_ref()
                .iter()
                .any(|rc| category_covers(rc.get_ref(), leaf.id.get_ref()))
        });
        if !allowed {
            errors.push(err(
                "category_not_allowed_for_recipient",
                field,
                "the policy does not allow this recipient to receive this category",
            ));
        }
    }
    let basis = purpose.map(|p| *p.legal_basis.get_ref());
    if let (Some(given), Some(expected)) = (req.legal_basis, basis) {
        match parse_legal_basis(given) {
            None => errors.push(err(
                "unknown_legal_basis",
                "legal_basis",
                "not a legal basis of GDPR Art. 6(1)",
            )),
            Some(b) if b != expected => errors.push(err(
                "legal_basis_mismatch",
                "legal_basis",
                format!(
                    "the purpose's legal basis is {}",
                    legal_basis_name(expected)
                ),
            )),
            Some(_) => {}
        }
    }

    let is_authority =
        *recipient.kind.get_ref() == RecipientKind::Authority || recipient.legal_decision_required;
    let mut nondisclosure_until = None;
    match (is_authority, req.legal_decision) {
        (true, None) => errors.push(err(
            "legal_decision_required",
            "legal_decision",
            "data goes to an authority only on a legal decision: give the court or authority, case number, date and scope",
        )),
        (true, Some(d)) => {
            for (field, value) in [
                ("legal_decision.issued_by", &d.issued_by),
                ("legal_decision.case_number", &d.case_number),
                ("legal_decision.scope", &d.scope),
            ] {
                if value.trim().is_empty() {
                    errors.push(err("invalid_legal_decision", field, "must not be empty"));
                }
            }
            match parse_date(&d.decided_on) {
                Some(day) if day > req.on => errors.push(err(
                    "invalid_legal_decision",
                    "legal_decision.decided_on",
                    "the decision cannot be dated after the disclosure",
                )),
                Some(_) => {}
                None => errors.push(err("invalid_legal_decision", "legal_decision.decided_on", "a date as YYYY-MM-DD")),
            }
            if let Some(until) = &d.nondisclosure_until {
                match parse_date(until) {
                    Some(day) => nondisclosure_until = Some(day),
                    None => errors.push(err(
                        "invalid_legal_decision",
                        "legal_decision.nondisclosure_until",
                        "a date as YYYY-MM-DD",
                    )),
                }
            }
        }
        (false, Some(_)) => errors.push(err(
            "legal_decision_not_applicable",
            "legal_decision",
            "only disclosures to authorities carry a legal decision",
        )),
        (false, None) => {}
    }

    let transfer = match transfer_safeguard(recipient, req.on) {
        Ok(t) => t,
        Err(reason) => {
            errors.push(err("transfer_not_allowed", "recipient", reason));
            None
        }
    };

    if !errors.is_empty() {
        return Err(errors);
    }
    Ok(CheckedDisclosure {
        legal_basis: basis.map_or("", legal_basis_name),
        needs_dpo_approval: is_authority,
        nondisclosure_until,
        transfer,
    })
}

/// The safeguard that allows a transfer to this recipient on `on`, `None` inside the EEA, or why
/// the transfer is not allowed that day.
pub fn transfer_safeguard(
    recipient: &vern_policy::model::Recipient,
    on: Date,
) -> Result<Option<String>, String> {
    let Some(country) = recipient.country.as_ref().map(|c| c.get_ref().as_str()) else {
        return Ok(None);
    };
    if adequacy::is_eea(country) {
        return Ok(None);
    }
    let Some(t) = recipient.transfer.as_ref().map(|t| t.get_ref()) else {
        return Err(format!(
            "{country} is outside the EEA and the policy gives no transfer mechanism"
        ));
    };
    match t.mechanism.get_ref() {
        TransferMechanism::Adequacy => match adequacy::adequacy_on(country, on) {
            Some(a) if a.requires_dpf_certification && !t.dpf_certified => Err(format!(
                "the adequacy decision for {} covers only {}",
                a.name, a.scope
            )),
            Some(a) => Ok(Some(format!(
                "adequacy decision for {} of {}",
                a.name, a.decided
            ))),
            None => Err(format!(
                "{country} had no adequacy decision in force on {on}"
            )),
        },
        TransferMechanism::Scc => Ok(Some(format!(
            "standard contractual clauses {}",
            t.scc_version.as_ref().map_or("", |v| v.get_ref().as_str())
        ))),
        TransferMechanism::Bcr => Ok(Some("binding corporate rules".into())),
        TransferMechanism::Derogation => Ok(Some(format!(
            "Art. 49 derogation: {}",
            t.reference.as_ref().map_or("", |r| r.get_ref().as_str())
        ))),
    }
}

pub fn parse_date(text: &str) -> Option<Date> {
    Date::parse(text, &time::format_description::well_known::Iso8601::DATE).ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::date;

    fn policy() -> Policy {
        let src = include_str!("../../../policies/confect.toml");
        Policy::parse(src).map(|(p, _)| p).unwrap()
    }

    fn first_recipient(p: &Policy, kind: RecipientKind) -> &vern_policy::model::Recipient {
        p.raw
            .recipients
            .iter()
            .find(|r| *r.kind.get_ref() == kind)
            .unwrap()
    }

    fn request<'a>(
        r: &'a vern_policy::model::Recipient,
        cats: &'a [String],
        d: Option<&'a LegalDecision>,
    ) -> DisclosureRequest<'a> {
        DisclosureRequest {
            recipient: r.id.get_ref(),
            purpose: r.purposes.get_ref()[0].get_ref(),
            categories: cats,
            legal_basis: None,
            subjects: 1,
            legal_decision: d,
            on: date!(2026 - 11 - 29),
        }
    }

    fn decision() -> LegalDecision {
        LegalDecision {
            issued_by: "Oslo tingrett".into(),
            case_number: "26-123456TVI-OTIR/01".into(),
            decided_on: "2026-11-20".into(),
            scope: "account and log data of one user".into(),
            nondisclosure_until: Some("2027-05-20".into()),
        }
    }

    fn codes(r: Result<CheckedDisclosure, Vec<WriteError>>) -> Vec<&'static str> {
        r.err().unwrap_or_default().iter().map(|e| e.code).collect()
    }

    #[test]
    fn an_authority_gets_data_only_on_a_legal_decision() {
        let p = policy();
        let authority = first_recipient(&p, RecipientKind::Authority);
        let cats = vec![authority.categories.get_ref()[0].get_ref().clone()];
        assert_eq!(
            codes(check_disclosure(&p, &request(authority, &cats, None))),
            ["legal_decision_required"]
        );
        let d = decision();
        let ok = check_disclosure(&p, &request(authority, &cats, Some(&d))).unwrap();
        assert!(ok.needs_dpo_approval);
        assert_eq!(ok.nondisclosure_until, Some(date!(2027 - 05 - 20)));
        let mut future = decision();
        future.decided_on = "2026-12-01".into();
        assert_eq!(
            codes(check_disclosure(
                &p,
                &request(authority, &cats, Some(&future))
            )),
            ["invalid_legal_decision"]
        );
    }

    #[test]
    fn a_category_the_recipient_may_not_receive_is_refused() {
        let p = policy();
        let group = first_recipient(&p, RecipientKind::GroupCompany);
        let cats = vec!["recruitment.interview_notes".to_owned()];
        let got = codes(check_disclosure(&p, &request(group, &cats, None)));
        assert!(
            got.contains(&"category_not_allowed_for_recipient"),
            "{got:?}"
        );
        let unknown = vec!["shoe.size".to_owned()];
        assert_eq!(
            codes(check_disclosure(&p, &request(group, &unknown, None))),
            ["unknown_category"]
        );
    }

    #[test]
    fn unknown_recipients_and_foreign_decisions_are_refused() {
        let p = policy();
        let group = first_recipient(&p, RecipientKind::GroupCompany);
        let cats = vec![group.categories.get_ref()[0].get_ref().clone()];
        let mut req = request(group, &cats, None);
        req.recipient = "someone.else";
        assert_eq!(codes(check_disclosure(&p, &req)), ["unknown_recipient"]);
        let d = decision();
        assert_eq!(
            codes(check_disclosure(&p, &request(group, &cats, Some(&d)))),
            ["legal_decision_not_applicable"]
        );
    }

    #[test]
    fn adequacy_counts_only_from_the_decision_date() {
        let p = policy();
        let mut r = first_recipient(&p, RecipientKind::GroupCompany).clone();
        r.country = Some(serde_spanned::Spanned::new(0..0, "KR".to_owned()));
        r.transfer = Some(serde_spanned::Spanned::new(
            0..0,
            toml::from_str("mechanism = \"adequacy\"").unwrap(),
        ));
        assert!(transfer_safeguard(&r, date!(2021 - 12 - 16)).is_err());
        assert!(
            transfer_safeguard(&r, date!(2021 - 12 - 17))
                .unwrap()
                .is_some()
        );
    }
}
