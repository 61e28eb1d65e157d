//! The record of processing activities (GDPR Art. 30(1)), generated from the policy.
//!
//! R-52 asks for the record to come from live configuration, never from a separate
//! spreadsheet, so every value here is derived from the [`Policy`] and nothing is typed twice.
//! One row is one purpose × one subject type: Art. 30(1)(c) asks for the categories of data
//! subjects per processing, and retention rules can differ per subject type (leads vs.
//! applicants), so a row per purpose alone would blur exactly what a supervisory authority
//! reads the record for.
//!
//! The columns cover Art. 30(1)(a)-(g): (a) controller and data protection contact; (b)
//! purpose and, beyond the letter of the article, its legal basis and Art. 9 ground (the
//! authority will ask); (c) subject type and data categories; (d) recipients; (e) third-country
//! transfers with their safeguards; (f) every retention rule and erasure exception that
//! applies; (g) the security measures, which are fixed properties of vern itself
//! ([`SECURITY_MEASURES`]).
//!
//! Data categories are listed as the *leaf* categories a purpose's references cover: a
//! reference to a group (`contact`) is shorthand, and the record should name what is actually
//! processed. Ids, not names, are used in lists so the record can be checked against the policy
//! file mechanically; names and descriptions are given in the requested language.
//!
//! Two renderings: CSV (RFC 4180, for spreadsheets and auditors' tools; lists joined with
//! `"; "`, and list items are built so that they never contain `"; "` themselves) and Markdown
//! (controller facts once, an index table, then one subsection per row, because nineteen
//! columns in one Markdown table are unreadable). CSV cells are not defused against spreadsheet
//! formula injection: the policy is written by the controller, not by data subjects.

pub(crate) mod labels;
mod output;

use std::fmt::Write as _;
use std::str::FromStr;

use serde::Serialize;

use crate::model::{Purpose, RecipientKind, RetentionRule, TransferMechanism};
use crate::{CalendarDuration, Policy, category_covers};

/// Art. 30(1)(g): vern's own technical and organisational measures. They hold for every
/// processing activity vern enforces because they are how vern stores data, not settings.
pub const SECURITY_MEASURES: &str = "Per-subject encryption at rest (XChaCha20-Poly1305) with \
    crypto-shredding of the subject's key on erasure, hash-chained append-only audit log, \
    role-based access control per data category";

/// Output format of the record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RopaFormat {
    Csv,
    Markdown,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown record format {0:?}: expected \"csv\" or \"md\"")]
pub struct UnknownRopaFormat(pub String);

impl FromStr for RopaFormat {
    type Err = UnknownRopaFormat;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "csv" => Ok(RopaFormat::Csv),
            "md" => Ok(RopaFormat::Markdown),
            other => Err(UnknownRopaFormat(other.to_owned())),
        }
    }
}

/// One processing activity: a purpose applied to one subject type.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RopaRow {
    pub controller: String,
    pub controller_contact: String,
    pub dpo_contact: String,
    pub purpose_id: String,
    pub purpose_name: String,
    pub purpose_description: String,
    pub legal_basis: String,
    /// Legal basis reference, LIA reference, consent scope and marketing/tracking gates.
    pub legal_basis_detail: Vec<String>,
    pub art9_ground: String,
    pub subject_type: String,
    pub subject_type_name: String,
    /// Leaf category ids covered by the purpose's category references.
    pub data_categories: Vec<String>,
    /// The subset of `data_categories` that are Art. 9 special categories.
    pub special_categories: Vec<String>,
    pub sources: Vec<String>,
    pub recipients: Vec<String>,
    pub transfers: Vec<String>,
    pub retention: Vec<String>,
    pub erasure_exceptions: Vec<String>,
    pub security_measures: String,
}

/// CSV header names and Markdown labels, in column order.
pub const COLUMNS: [(&str, &str); 19] = [
    ("controller", "Controller (Art. 30(1)(a))"),
    ("controller_contact", "Controller contact"),
    ("dpo_contact", "Data protection contact"),
    ("purpose_id", "Purpose id"),
    ("purpose_name", "Purpose (Art. 30(1)(b))"),
    ("purpose_description", "Description"),
    ("legal_basis", "Legal basis"),
    ("legal_basis_detail", "Basis details"),
    ("art9_ground", "Art. 9 ground"),
    ("subject_type", "Subject type id"),
    ("subject_type_name", "Data subjects (Art. 30(1)(c))"),
    ("data_categories", "Data categories (Art. 30(1)(c))"),
    ("special_categories", "Special categories (Art. 9)"),
    ("sources", "Sources"),
    ("recipients", "Recipients (Art. 30(1)(d))"),
    ("transfers", "Third-country transfers (Art. 30(1)(e))"),
    ("retention", "Retention (Art. 30(1)(f))"),
    ("erasure_exceptions", "Erasure exceptions (Art. 17(3))"),
    ("security_measures", "Security measures (Art. 30(1)(g))"),
];

/// Columns that are the same on every row; Markdown states them once, above the activities.
const SHARED_COLUMNS: [usize; 4] = [0, 1, 2, 18];

/// A cell before rendering: lists are joined differently per format.
enum Value<'a> {
    One(&'a str),
    Many(&'a [String]),
}

impl RopaRow {
    /// Values in [`COLUMNS`] order.
    fn values(&self) -> [Value<'_>; 19] {
        use Value::{Many, One};
        [
            One(&self.controller),
            One(&self.controller_contact),
            One(&self.dpo_contact),
            One(&self.purpose_id),
            One(&self.purpose_name),
            One(&self.purpose_description),
            One(&self.legal_basis),
            Many(&self.legal_basis_detail),
            One(&self.art9_ground),
            One(&self.subject_type),
            One(&self.subject_type_name),
            Many(&self.data_categories),
            Many(&self.special_categories),
            Many(&self.sources),
            Many(&self.recipients),
            Many(&self.transfers),
            Many(&self.retention),
            Many(&self.erasure_exceptions),
            One(&self.security_measures),
        ]
    }
}

/// The record's rows, in policy order: purposes as declared, then their subject types as
/// listed on the purpose.
pub fn ropa_rows(policy: &Policy, lang: &str) -> Vec<RopaRow> {
    let raw = &policy.raw;
    let [controller, controller_contact, dpo_contact] = controller_facts(policy);

    let mut rows = Vec::new();
    for purpose in &raw.purposes {
        let pid = purpose.id.get_ref();
        let leaves = leaf_categories(
            policy,
            purpose
                .categories
                .get_ref()
                .iter()
                .map(|c| c.get_ref().as_str()),
        );
        let special: Vec<String> = leaves
            .iter()
            .filter(|l| is_special(policy, l))
            .map(|l| (*l).to_owned())
            .collect();
        let recipients = policy.recipients_for_purpose(pid).collect::<Vec<_>>();
        let recipient_list = recipients.iter().map(|r| recipient_line(r)).collect();
        let transfers = recipients.iter().filter_map(|r| transfer_line(r)).collect();
        let erasure_exceptions = raw
            .erasure_exceptions
            .iter()
            .filter(|e| {
                e.categories
                    .get_ref()
                    .iter()
                    .any(|c| leaves.iter().any(|l| category_covers(c.get_ref(), l)))
            })
            .map(|e| {
                format!(
                    "{} ({}): kept {} after {}, {} ({})",
                    e.id.get_ref(),
                    ids(&e.categories.get_ref()[..]).join(", "),
                    duration_text(e.duration.get_ref()),
                    trigger_name(policy, e.trigger.get_ref(), lang),
                    e.legal_ref.get_ref(),
                    e.jurisdiction.get_ref(),
                )
            })
            .collect();
        let sources = purpose
            .sources
            .iter()
            .map(|s| match policy.source(s.get_ref()) {
                Some(src) => format!(
                    "{} ({})",
                    s.get_ref(),
                    labels::source_kind(*src.kind.get_ref())
                ),
                None => s.get_ref().clone(),
            })
            .collect();

        for subject in purpose.subject_types.get_ref() {
            let sid = subject.get_ref();
            let mut retention: Vec<String> = raw
                .retention
                .iter()
                .filter(|r| leaves.iter().any(|l| rule_applies(r, pid, sid, l)))
                .map(|r| retention_line(policy, r, lang))
                .collect();
            // a processing activity without a time limit must be visible in the record,
            // not silently absent from it.
            let unlimited: Vec<&str> = leaves
                .iter()
                .filter(|l| !raw.retention.iter().any(|r| rule_applies(r, pid, sid, l)))
                .copied()
                .collect();
            if !unlimited.is_empty() {
                retention.push(format!(
                    "no retention rule applies to {}",
                    unlimited.join(", ")
                ));
            }
            rows.push(RopaRow {
                controller: controller.clone(),
                controller_contact: controller_contact.clone(),
                dpo_contact: dpo_contact.clone(),
                purpose_id: pid.clone(),
                purpose_name: policy.text(&purpose.name, lang).to_owned(),
                purpose_description: policy.text(&purpose.description, lang).to_owned(),
                legal_basis: labels::legal_basis(*purpose.legal_basis.get_ref()).to_owned(),
                legal_basis_detail: basis_detail(purpose),
                art9_ground: purpose
                    .art9_ground
                    .as_ref()
                    .map(|g| labels::art9_ground(*g.get_ref()).to_owned())
                    .unwrap_or_default(),
                subject_type: sid.clone(),
                subject_type_name: policy
                    .subject_type(sid)
                    .map(|t| policy.text(&t.name, lang).to_owned())
                    .unwrap_or_default(),
                data_categories: leaves.iter().map(|l| (*l).to_owned()).collect(),
                special_categories: special.clone(),
                sources: Vec::clone(&sources),
                recipients: Vec::clone(&recipient_list),
                transfers: Vec::clone(&transfers),
                retention,
                erasure_exceptions: Vec::clone(&erasure_exceptions),
                security_measures: SECURITY_MEASURES.to_owned(),
            });
        }
    }
    rows
}

/// The record in `format`, texts in `lang` (falling back to the policy's first language).
pub fn render_ropa(policy: &Policy, format: RopaFormat, lang: &str) -> String {
    let rows = ropa_rows(policy, lang);
    match format {
        RopaFormat::Csv => output::render_csv(&rows),
        RopaFormat::Markdown => output::render_markdown(policy, &rows),
    }
}

/// Leaf categories (declared categories with no declared sub-category) that any of `refs`
/// covers, in declaration order, each once.
pub fn leaf_categories<'a>(
    policy: &'a Policy,
    refs: impl IntoIterator<Item = &'a str>,
) -> Vec<&'a str> {
    let refs: Vec<&str> = refs.into_iter().collect();
    policy
        .raw
        .categories
        .iter()
        .map(|c| c.id.get_ref().as_str())
        .filter(|id| refs.iter().any(|r| category_covers(r, id)))
        .filter(|id| is_leaf(policy, id))
        .collect()
}

fn is_leaf(policy: &Policy, id: &str) -> bool {
    !policy
        .raw
        .categories
        .iter()
        .any(|d| d.id.get_ref() != id && category_covers(id, d.id.get_ref()))
}

/// A category is special if it or any declared ancestor is marked `special`: a sub-category
/// of health data is health data.
pub(crate) fn is_special(policy: &Policy, id: &str) -> bool {
    policy
        .raw
        .categories
        .iter()
        .any(|c| c.special && category_covers(c.id.get_ref(), id))
}

/// Whether a retention rule governs data of `leaf` processed for `purpose` about `subject`.
/// Empty purpose and subject-type lists mean "all", as the format says.
pub(crate) fn rule_applies(rule: &RetentionRule, purpose: &str, subject: &str, leaf: &str) -> bool {
    (rule.purposes.is_empty() || rule.purposes.iter().any(|p| p.get_ref() == purpose))
        && (rule.subject_types.is_empty()
            || rule.subject_types.iter().any(|s| s.get_ref() == subject))
        && rule
            .categories
            .get_ref()
            .iter()
            .any(|c| category_covers(c.get_ref(), leaf))
}

/// `"24 months"` normalised through [`CalendarDuration`]; the raw text if it does not parse
/// (validation rejects that, but the record should still show what the file says).
pub(crate) fn duration_text(raw: &str) -> String {
    CalendarDuration::parse(raw).map_or_else(|_| raw.to_owned(), |d| d.to_string())
}

fn ids(items: &[crate::model::SStr]) -> Vec<&str> {
    items.iter().map(|s| s.get_ref().as_str()).collect()
}

fn join_present(parts: &[Option<&str>]) -> String {
    parts
        .iter()
        .flatten()
        .copied()
        .collect::<Vec<_>>()
        .join(", ")
}

/// Controller identity, controller contact, data protection contact: the same on every row.
fn controller_facts(policy: &Policy) -> [String; 3] {
    let c = &policy.raw.controller;
    let name = match &c.org_number {
        Some(org) => format!("{} (org. no. {})", c.name.get_ref(), org.get_ref()),
        None => c.name.get_ref().clone(),
    };
    let controller = format!("{name}, {}, {}", c.address.get_ref(), c.country.get_ref());
    let contact = join_present(&[
        Some(c.email.get_ref().as_str()),
        c.phone.as_ref().map(|p| p.get_ref().as_str()),
        Some(c.website.get_ref().as_str()),
    ]);
    let dpc = &policy.raw.data_protection_contact;
    let dpo = join_present(&[
        Some(dpc.name.get_ref().as_str()),
        Some(dpc.email.get_ref().as_str()),
        dpc.phone.as_ref().map(|p| p.get_ref().as_str()),
        dpc.address.as_ref().map(|a| a.get_ref().as_str()),
    ]);
    [controller, contact, dpo]
}

fn basis_detail(purpose: &Purpose) -> Vec<String> {
    let mut out = Vec::new();
    if let Some(r) = &purpose.legal_basis_ref {
        out.push(format!("reference: {}", r.get_ref()));
    }
    if let Some(r) = &purpose.lia_ref {
        out.push(format!("LIA: {}", r.get_ref()));
    }
    if let Some(s) = &purpose.consent_scope {
        out.push(format!("consent scope: {}", s.get_ref()));
    }
    for gate in &purpose.gates {
        let mut line = format!(
            "gate: {} by consent scope {}",
            labels::gate_kind(*gate.kind.get_ref()),
            gate.consent_scope.get_ref()
        );
        if !gate.channels.is_empty() {
            let _ = write!(line, " on {}", ids(&gate.channels).join(", "));
        }
        if gate.existing_customer_exception {
            line.push_str(", existing-customer exception enabled");
        }
        out.push(line);
    }
    out
}

fn recipient_line(r: &crate::model::Recipient) -> String {
    let kind = labels::recipient_kind(*r.kind.get_ref());
    let mut line = format!("{} ({kind}", r.id.get_ref());
    if let Some(p) = &r.processor {
        let _ = write!(line, " of {}", p.get_ref());
    }
    if *r.kind.get_ref() == RecipientKind::Authority && r.legal_decision_required {
        line.push_str(", on legal decision only");
    }
    line.push(')');
    line
}

/// The recipient's transfer and its safeguards, if it has one.
fn transfer_line(r: &crate::model::Recipient) -> Option<String> {
    let t = r.transfer.as_ref()?.get_ref();
    let mut parts = vec![
        r.country
            .as_ref()
            .map_or_else(|| "country not stated".to_owned(), |c| c.get_ref().clone()),
    ];
    let mechanism = *t.mechanism.get_ref();
    let mut m = labels::transfer_mechanism(mechanism).to_owned();
    if mechanism == TransferMechanism::Scc {
        let version = t.scc_version.as_ref().map(|v| v.get_ref().as_str());
        m = format!(
            "SCC{}",
            version.map(|v| format!(" {v}")).unwrap_or_default()
        );
        if let Some(module) = &t.scc_module {
            let _ = write!(m, " module {}", module.get_ref());
        }
        m.push_str(" (Art. 46(2)(c))");
    }
    parts.push(m);
    if t.dpf_certified {
        parts.push("EU-US Data Privacy Framework certified".to_owned());
    }
    match &t.tia_ref {
        Some(tia) => parts.push(format!("TIA: {}", tia.get_ref())),
        // Schrems II: SCCs without a transfer impact assessment are a finding; say so.
        None if mechanism == TransferMechanism::Scc => parts.push("no TIA reference".to_owned()),
        None => {}
    }
    if let Some(reference) = &t.reference {
        parts.push(format!("reference: {}", reference.get_ref()));
    }
    Some(format!("{}: {}", r.id.get_ref(), parts.join(", ")))
}

/// The trigger's name in `lang`; its id if it does not resolve.
fn trigger_name(policy: &Policy, id: &str, lang: &str) -> String {
    policy
        .trigger(id)
        .map_or_else(|| id.to_owned(), |t| policy.text(&t.name, lang).to_owned())
}

fn retention_line(policy: &Policy, rule: &RetentionRule, lang: &str) -> String {
    let mut line = format!(
        "{} ({}): {} {} after {}",
        rule.id.get_ref(),
        ids(&rule.categories.get_ref()[..]).join(", "),
        labels::retention_action(*rule.action.get_ref()),
        duration_text(rule.duration.get_ref()),
        trigger_name(policy, rule.trigger.get_ref(), lang),
    );
    if let Some(o) = &rule.override_by_consent {
        let _ = write!(
            line,
            ", extendable by consent {} to at most {} from the grant",
            o.consent_scope.get_ref(),
            duration_text(o.max.get_ref())
        );
    }
    line
}
