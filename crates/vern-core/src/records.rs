//! The write rules for records, all derived from the policy: what may be stored about whom,
//! for which purposes, on which legal basis and from which source.
//!
//! Nothing here names a purpose, category or basis; every fact comes from [`Policy`]. A write
//! that breaks a rule is refused with a [`WriteError`] (a stable code, the offending field and
//! a sentence) and nothing is stored. Checks run in a fixed order and the first failure is
//! reported, so the same input always gets the same answer.

use std::fmt;
use std::io;

use serde::de::IntoDeserializer as _;
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use vern_policy::model::{self, LegalBasis};
use vern_policy::{Policy, category_covers};

/// Largest record value accepted, as compact JSON. Records hold facts about a person, not
/// documents; the cap keeps one request from filling memory or the database.
pub const MAX_VALUE_BYTES: usize = 64 * 1024;

/// The stable codes of [`WriteError`], for mapping to API problem types.
pub mod code {
    pub const UNKNOWN_SUBJECT_TYPE: &str = "unknown_subject_type";
    pub const UNKNOWN_CATEGORY: &str = "unknown_category";
    pub const CATEGORY_NOT_SPECIFIC: &str = "category_not_specific";
    pub const UNKNOWN_PURPOSE: &str = "unknown_purpose";
    pub const SUBJECT_TYPE_NOT_ALLOWED: &str = "subject_type_not_allowed";
    pub const CATEGORY_NOT_ALLOWED_FOR_PURPOSE: &str = "category_not_allowed_for_purpose";
    pub const UNKNOWN_LEGAL_BASIS: &str = "unknown_legal_basis";
    pub const LEGAL_BASIS_MISMATCH: &str = "legal_basis_mismatch";
    pub const SPECIAL_CATEGORY: &str = "special_category";
    pub const UNKNOWN_SOURCE: &str = "unknown_source";
    pub const SOURCE_NOT_ALLOWED: &str = "source_not_allowed";
    pub const INVALID_VALUE: &str = "invalid_value";
}

/// A record as a client submits it (JSON, times in RFC 3339).
#[derive(Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RecordInput {
    /// A leaf category id, e.g. `contact.email`.
    pub category: String,
    pub value: serde_json::Value,
    pub source: String,
    pub purposes: Vec<String>,
    /// snake_case as in the policy (`legitimate_interest`); defaults to the purposes' basis.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub legal_basis: Option<String>,
    #[serde(
        default,
        with = "time::serde::rfc3339::option",
        skip_serializing_if = "Option::is_none"
    )]
    pub collected_at: Option<OffsetDateTime>,
    #[serde(
        default,
        with = "time::serde::rfc3339::option",
        skip_serializing_if = "Option::is_none"
    )]
    pub last_activity_at: Option<OffsetDateTime>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub originating_system: Option<String>,
}

// By hand so that `value`, which is personal data, never reaches a log through `{:?}`.
impl fmt::Debug for RecordInput {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RecordInput")
            .field("category", &self.category)
            .field("value", &"<redacted>")
            .field("source", &self.source)
            .field("purposes", &self.purposes)
            .field("legal_basis", &self.legal_basis)
            .field("collected_at", &self.collected_at)
            .field("last_activity_at", &self.last_activity_at)
            .field("originating_system", &self.originating_system)
            .finish()
    }
}

/// What the checks established about an accepted record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CheckedRecord {
    /// The basis to store: the one given, or the purposes' common basis.
    pub legal_basis: LegalBasis,
}

/// A refused write: `code` is stable (see [`code`]), `field` points into the input
/// (`category`, `purposes[1]`, `legal_basis`), `reason` is a sentence for people. None of them
/// contains the record's value.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{reason}")]
pub struct WriteError {
    pub code: &'static str,
    pub field: String,
    pub reason: String,
}

impl WriteError {
    fn new(code: &'static str, field: impl Into<String>, reason: impl Into<String>) -> Self {
        Self {
            code,
            field: field.into(),
            reason: reason.into(),
        }
    }
}

/// The snake_case name of a basis, as the policy writes it and the store keeps it.
pub fn legal_basis_name(basis: LegalBasis) -> &'static str {
    match basis {
        LegalBasis::Consent => "consent",
        LegalBasis::Contract => "contract",
        LegalBasis::LegalObligation => "legal_obligation",
        LegalBasis::VitalInterests => "vital_interests",
        LegalBasis::PublicTask => "public_task",
        LegalBasis::LegitimateInterest => "legitimate_interest",
    }
}

/// Parses a basis the way the policy file does, so the accepted names cannot drift from it.
pub fn parse_legal_basis(name: &str) -> Option<LegalBasis> {
    let deserializer: serde::de::value::StrDeserializer<'_, serde::de::value::Error> =
        name.into_deserializer();
    LegalBasis::deserialize(deserializer).ok()
}

/// The subject type must be declared in the policy.
pub fn check_subject_type(policy: &Policy, subject_type: &str) -> Result<(), WriteError> {
    match policy.subject_type(subject_type) {
        Some(_) => Ok(()),
        None => Err(WriteError::new(
            code::UNKNOWN_SUBJECT_TYPE,
            "subject_type",
            format!(
                "the policy declares no subject type `{}`",
                Shown(subject_type)
            ),
        )),
    }
}

/// Checks a record against the policy for a subject of `subject_type`.
pub fn check_record(
    policy: &Policy,
    subject_type: &str,
    input: &RecordInput,
) -> Result<CheckedRecord, WriteError> {
    check_subject_type(policy, subject_type)?;
    let category = check_category(policy, &input.category)?;
    let purposes = check_purposes(policy, subject_type, &input.category, &input.purposes)?;
    let legal_basis = check_legal_basis(&purposes, input.legal_basis.as_deref())?;
    check_special_category(policy, category, &purposes)?;
    check_source(policy, &input.source, &purposes)?;
    check_value(&input.value)?;
    Ok(CheckedRecord { legal_basis })
}

fn check_category<'p>(policy: &'p Policy, id: &str) -> Result<&'p model::Category, WriteError> {
    let Some(category) = policy.category(id) else {
        return Err(WriteError::new(
            code::UNKNOWN_CATEGORY,
            "category",
            format!("the policy declares no category `{}`", Shown(id)),
        ));
    };
    // `categories_under` includes the category itself; anything more means it has children.
    if policy.categories_under(id).nth(1).is_some() {
        return Err(WriteError::new(
            code::CATEGORY_NOT_SPECIFIC,
            "category",
            format!(
                "category `{id}` has sub-categories; store the value under the specific one it belongs to"
            ),
        ));
    }
    Ok(category)
}

/// Each purpose with its index in the input, resolved.
type Purposes<'p> = Vec<(usize, &'p model::Purpose)>;

fn check_purposes<'p>(
    policy: &'p Policy,
    subject_type: &str,
    category: &str,
    ids: &[String],
) -> Result<Purposes<'p>, WriteError> {
    if ids.is_empty() {
        return Err(WriteError::new(
            code::UNKNOWN_PURPOSE,
            "purposes",
            "a record needs at least one purpose from the policy",
        ));
    }
    let mut purposes = Vec::with_capacity(ids.len());
    for (i, id) in ids.iter().enumerate() {
        let field = format!("purposes[{i}]");
        let Some(purpose) = policy.purpose(id) else {
            return Err(WriteError::new(
                code::UNKNOWN_PURPOSE,
                field,
                format!("the policy declares no purpose `{}`", Shown(id)),
            ));
        };
        if !purpose
            .subject_types
            .get_ref()
            .iter()
            .any(|t| t.get_ref() == subject_type)
        {
            return Err(WriteError::new(
                code::SUBJECT_TYPE_NOT_ALLOWED,
                field,
                format!(
                    "purpose `{id}` does not process data about subjects of type `{subject_type}`"
                ),
            ));
        }
        if !purpose
            .categories
            .get_ref()
            .iter()
            .any(|c| category_covers(c.get_ref(), category))
        {
            return Err(WriteError::new(
                code::CATEGORY_NOT_ALLOWED_FOR_PURPOSE,
                field,
                format!("purpose `{id}` does not cover category `{category}`"),
            ));
        }
        purposes.push((i, purpose));
    }
    Ok(purposes)
}

fn check_legal_basis(
    purposes: &Purposes<'_>,
    given: Option<&str>,
) -> Result<LegalBasis, WriteError> {
    match given {
        Some(name) => {
            let Some(basis) = parse_legal_basis(name) else {
                return Err(WriteError::new(
                    code::UNKNOWN_LEGAL_BASIS,
                    "legal_basis",
                    format!(
                        "`{}` is not a legal basis; use consent, contract, legal_obligation, vital_interests, public_task or legitimate_interest",
                        Shown(name)
                    ),
                ));
            };
            for (_, purpose) in purposes {
                let expected = *purpose.legal_basis.get_ref();
                if expected != basis {
                    return Err(WriteError::new(
                        code::LEGAL_BASIS_MISMATCH,
                        "legal_basis",
                        format!(
                            "purpose `{}` is based on {}, not {}",
                            purpose.id.get_ref(),
                            legal_basis_name(expected),
                            legal_basis_name(basis)
                        ),
                    ));
                }
            }
            Ok(basis)
        }
        None => {
            let mut bases = purposes.iter().map(|(_, p)| *p.legal_basis.get_ref());
            let Some(first) = bases.next() else {
                // Unreachable after `check_purposes`, but answered as the same error it gives.
                return Err(WriteError::new(
                    code::UNKNOWN_PURPOSE,
                    "purposes",
                    "a record needs at least one purpose from the policy",
                ));
            };
            if bases.any(|b| b != first) {
                return Err(WriteError::new(
                    code::LEGAL_BASIS_MISMATCH,
                    "purposes",
                    "these purposes rest on different legal bases; a record has one basis, so store it once per basis",
                ));
            }
            Ok(first)
        }
    }
}

/// Art. 9 data needs a ground for every purpose it is processed for. A category counts as
/// special if it or any category above it is marked special: "health.allergies" is health
/// data whether or not the policy repeats the flag on the sub-category.
fn check_special_category(
    policy: &Policy,
    category: &model::Category,
    purposes: &Purposes<'_>,
) -> Result<(), WriteError> {
    let id = category.id.get_ref();
    let special = policy
        .raw
        .categories
        .iter()
        .any(|c| c.special && category_covers(c.id.get_ref(), id));
    if !special {
        return Ok(());
    }
    match purposes.iter().find(|(_, p)| p.art9_ground.is_none()) {
        None => Ok(()),
        Some((i, purpose)) => Err(WriteError::new(
            code::SPECIAL_CATEGORY,
            format!("purposes[{i}]"),
            format!(
                "category `{id}` is special-category data (GDPR Art. 9) and purpose `{}` declares no Art. 9 ground",
                purpose.id.get_ref()
            ),
        )),
    }
}

fn check_source(policy: &Policy, source: &str, purposes: &Purposes<'_>) -> Result<(), WriteError> {
    if policy.source(source).is_none() {
        return Err(WriteError::new(
            code::UNKNOWN_SOURCE,
            "source",
            format!("the policy declares no source `{}`", Shown(source)),
        ));
    }
    for (_, purpose) in purposes {
        let allowed = &purpose.sources;
        if !allowed.is_empty() && !allowed.iter().any(|s| s.get_ref() == source) {
            return Err(WriteError::new(
                code::SOURCE_NOT_ALLOWED,
                "source",
                format!(
                    "purpose `{}` does not collect data from source `{source}`",
                    purpose.id.get_ref()
                ),
            ));
        }
    }
    Ok(())
}

fn check_value(value: &serde_json::Value) -> Result<(), WriteError> {
    if value.is_null() {
        return Err(WriteError::new(
            code::INVALID_VALUE,
            "value",
            "the value is null; to remove data, delete the record",
        ));
    }
    // Measure by writing into a counter that gives up at the limit: no copy of a huge value.
    let mut counter = CappedCounter(0);
    if serde_json::to_writer(&mut counter, value).is_err() {
        return Err(WriteError::new(
            code::INVALID_VALUE,
            "value",
            format!("the value is larger than {MAX_VALUE_BYTES} bytes as JSON"),
        ));
    }
    Ok(())
}

struct Shown<'a>(&'a str);

/// A client's string in an error message: shown only when it looks like a policy id (lower-case
/// ASCII, digits, `_ . : -`, at most 64 bytes), so a typo is easy to spot, while an email
/// address or a name sent in the wrong field is never repeated back (or logged).
impl fmt::Display for Shown<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let id_like = (1..=64).contains(&self.0.len())
            && self.0.bytes().all(|b| {
                b.is_ascii_lowercase()
                    || b.is_ascii_digit()
                    || matches!(b, b'_' | b'.' | b':' | b'-')
            });
        if id_like {
            f.write_str(self.0)
        } else {
            f.write_str("(value not shown: not a policy id)")
        }
    }
}

/// Counts bytes written and fails once more than [`MAX_VALUE_BYTES`] have been.
struct CappedCounter(usize);

impl io::Write for CappedCounter {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0 = self.0.saturating_add(buf.len());
        if self.0 > MAX_VALUE_BYTES {
            return Err(io::Error::other("value too large"));
        }
        Ok(buf.len())
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

#[cfg(test)]
mod tests;
