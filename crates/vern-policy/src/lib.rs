//! vern's policy layer: the single source of truth that every other part of vern derives from.
//!
//! A policy is one TOML file ([`model::RawPolicy`]). [`Policy::parse`] reads it and validates
//! it; problems come back as [`Diagnostics`] located by byte span, rendered as
//! `FILE:LINE:COL: error: …`. From a valid [`Policy`] this crate renders the public notice
//! ([`render`]), the Art. 30 record of processing ([`ropa`]) and the difference between two
//! versions ([`diff`]). It does no I/O but reading the file it is given.

pub mod adequacy;
pub mod diagnostics;
pub mod diff;
pub mod duration;
pub mod model;
pub mod render;
pub mod ropa;
pub mod validate;

use std::collections::HashMap;

/// The id → position maps. Their keys come from the policy file, not from requests, and a
/// lookup is made for every decision (several per decision), so they hash with foldhash
/// rather than SipHash: no request can add keys to collide.
type IdMap = HashMap<String, usize, foldhash::fast::FixedState>;
use std::path::Path;

use sha2::{Digest, Sha256};

pub use diagnostics::{Diagnostic, Diagnostics, Severity};
pub use duration::CalendarDuration;
pub use model::RawPolicy;

/// The policy vern ships with: Confect's privacy policy encoded completely.
pub const BUNDLED_SOURCE: &str = include_str!("../../../policies/confect.toml");
/// The name the bundled policy is reported under.
pub const BUNDLED_NAME: &str = "policies/confect.toml";

/// A validated policy. Every reference in it resolves and every rule in `validate` holds.
#[derive(Debug, Clone)]
pub struct Policy {
    pub raw: RawPolicy,
    /// SHA-256 of the file's bytes, hex: identifies this exact version.
    pub content_hash: String,
    /// The text it was parsed from (stored with each published version).
    pub source: std::sync::Arc<str>,
    index: Index,
}

#[derive(Debug, Clone, Default)]
struct Index {
    subject_types: IdMap,
    sources: IdMap,
    categories: IdMap,
    consent_scopes: IdMap,
    purposes: IdMap,
    recipients: IdMap,
    triggers: IdMap,
    retention: IdMap,
    message_classes: IdMap,
    roles: IdMap,
}

/// A policy file as read: its text and the outcome of parsing it.
#[derive(Debug)]
pub struct Loaded {
    pub source: String,
    pub result: Result<(Policy, Diagnostics), Diagnostics>,
}

/// Reading a policy file failed before it could be parsed.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    #[error("cannot read {path}: {source}")]
    Io {
        path: String,
        source: std::io::Error,
    },
}

impl Policy {
    /// Parses and validates policy text. `Ok` carries warnings, if any; `Err` has at least one
    /// error. Never panics, whatever the input.
    pub fn parse(source: &str) -> Result<(Policy, Diagnostics), Diagnostics> {
        let raw: RawPolicy = match toml::from_str(source) {
            Ok(raw) => raw,
            Err(e) => {
                let span = e.span().unwrap_or(0..0);
                let mut message = e.message().trim().replace('\n', " ");
                // toml says only "duplicate key"; name it, since the span may sit on a long line.
                if message == "duplicate key"
                    && let Some(key) = source.get(span.clone()).filter(|k| !k.contains('\n'))
                {
                    message = format!("duplicate key `{}`", key.trim());
                }
                let mut d = Diagnostics::default();
                d.error(span, message);
                return Err(d);
            }
        };
        let mut diagnostics = validate::validate(&raw, source);
        diagnostics.sort();
        if diagnostics.has_errors() {
            return Err(diagnostics);
        }
        let policy = Policy {
            index: Index::build(&raw),
            content_hash: hex(&Sha256::digest(source.as_bytes())),
            source: std::sync::Arc::from(source),
            raw,
        };
        Ok((policy, diagnostics))
    }

    /// Parses raw bytes: invalid UTF-8 is reported as a located error, not a panic.
    pub fn parse_bytes(bytes: &[u8]) -> Result<(Policy, Diagnostics), Diagnostics> {
        match std::str::from_utf8(bytes) {
            Ok(source) => Self::parse(source),
            Err(e) => {
                let at = e.valid_up_to();
                let mut d = Diagnostics::default();
                d.error(at..at + 1, "the policy file is not valid UTF-8");
                Err(d)
            }
        }
    }

    /// Reads a policy file. The outer error is I/O; the inner result is [`Policy::parse_bytes`]'s.
    /// The returned text (lossily decoded) is what diagnostics are located in.
    pub fn load(path: &Path) -> Result<Loaded, LoadError> {
        let bytes = std::fs::read(path).map_err(|source| LoadError::Io {
            path: path.display().to_string(),
            source,
        })?;
        let result = Self::parse_bytes(&bytes);
        Ok(Loaded {
            source: String::from_utf8_lossy(&bytes).into_owned(),
            result,
        })
    }

    /// The bundled Confect policy. It is checked by the test suite, so this cannot fail in a
    /// released build; the `Result` keeps that promise out of the type system's blind spot.
    pub fn bundled() -> Result<Policy, Diagnostics> {
        Self::parse(BUNDLED_SOURCE).map(|(p, _)| p)
    }

    pub fn subject_type(&self, id: &str) -> Option<&model::SubjectType> {
        self.index
            .subject_types
            .get(id)
            .map(|&i| &self.raw.subject_types[i])
    }
    pub fn source(&self, id: &str) -> Option<&model::Source> {
        self.index.sources.get(id).map(|&i| &self.raw.sources[i])
    }
    pub fn category(&self, id: &str) -> Option<&model::Category> {
        self.index
            .categories
            .get(id)
            .map(|&i| &self.raw.categories[i])
    }
    pub fn consent_scope(&self, id: &str) -> Option<&model::ConsentScope> {
        self.index
            .consent_scopes
            .get(id)
            .map(|&i| &self.raw.consent_scopes[i])
    }
    pub fn purpose(&self, id: &str) -> Option<&model::Purpose> {
        self.index.purposes.get(id).map(|&i| &self.raw.purposes[i])
    }
    pub fn recipient(&self, id: &str) -> Option<&model::Recipient> {
        self.index
            .recipients
            .get(id)
            .map(|&i| &self.raw.recipients[i])
    }
    pub fn trigger(&self, id: &str) -> Option<&model::Trigger> {
        self.index.triggers.get(id).map(|&i| &self.raw.triggers[i])
    }
    pub fn retention_rule(&self, id: &str) -> Option<&model::RetentionRule> {
        self.index
            .retention
            .get(id)
            .map(|&i| &self.raw.retention[i])
    }
    pub fn message_class(&self, id: &str) -> Option<&model::MessageClass> {
        self.index
            .message_classes
            .get(id)
            .map(|&i| &self.raw.message_classes[i])
    }
    pub fn role(&self, id: &str) -> Option<&model::Role> {
        self.index.roles.get(id).map(|&i| &self.raw.roles[i])
    }

    /// Leaf categories a reference covers: itself, or every category under it.
    pub fn categories_under<'a>(
        &'a self,
        reference: &'a str,
    ) -> impl Iterator<Item = &'a model::Category> + 'a {
        self.raw
            .categories
            .iter()
            .filter(move |c| category_covers(reference, c.id.get_ref()))
    }

    /// Purposes that a recipient may receive data for.
    pub fn recipients_for_purpose<'a>(
        &'a self,
        purpose: &'a str,
    ) -> impl Iterator<Item = &'a model::Recipient> + 'a {
        self.raw
            .recipients
            .iter()
            .filter(move |r| r.purposes.get_ref().iter().any(|p| p.get_ref() == purpose))
    }

    /// Text in `lang`, falling back to the first declared language (validation guarantees
    /// every declared language is present, so the fallback only matters for other languages).
    pub fn text<'a>(&self, text: &'a model::Text, lang: &str) -> &'a str {
        let map = text.get_ref();
        map.get(lang)
            .or_else(|| {
                self.raw
                    .languages
                    .get_ref()
                    .first()
                    .and_then(|l| map.get(l.get_ref()))
            })
            .or_else(|| map.values().next())
            .map_or("", String::as_str)
    }
}

/// Whether a category reference (`contact`, `contact.email`, `contact.email.work_named`)
/// covers a category id: the same id, or an id under it in the hierarchy.
pub fn category_covers(reference: &str, id: &str) -> bool {
    reference == "*"
        || id == reference
        || (id.len() > reference.len()
            && id.starts_with(reference)
            && id.as_bytes()[reference.len()] == b'.')
}

impl Index {
    fn build(raw: &RawPolicy) -> Self {
        fn ids<T>(items: &[T], id: impl Fn(&T) -> &str) -> IdMap {
            items
                .iter()
                .enumerate()
                .map(|(i, t)| (id(t).to_owned(), i))
                .collect()
        }
        Index {
            subject_types: ids(&raw.subject_types, |t| t.id.get_ref()),
            sources: ids(&raw.sources, |t| t.id.get_ref()),
            categories: ids(&raw.categories, |t| t.id.get_ref()),
            consent_scopes: ids(&raw.consent_scopes, |t| t.id.get_ref()),
            purposes: ids(&raw.purposes, |t| t.id.get_ref()),
            recipients: ids(&raw.recipients, |t| t.id.get_ref()),
            triggers: ids(&raw.triggers, |t| t.id.get_ref()),
            retention: ids(&raw.retention, |t| t.id.get_ref()),
            message_classes: ids(&raw.message_classes, |t| t.id.get_ref()),
            roles: ids(&raw.roles, |t| t.id.get_ref()),
        }
    }
}

fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write;
    bytes
        .iter()
        .fold(String::with_capacity(bytes.len() * 2), |mut s, b| {
            let _ = write!(s, "{b:02x}");
            s
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn category_references_cover_their_subtree_only() {
        assert!(category_covers("contact", "contact.email.work_named"));
        assert!(category_covers("contact.email", "contact.email"));
        assert!(!category_covers("contact.email", "contact.emailx"));
        assert!(!category_covers(
            "contact.email.work_named",
            "contact.email"
        ));
        assert!(category_covers("*", "anything"));
    }

    #[test]
    fn bundled_policy_parses() {
        let parsed = Policy::bundled();
        assert!(
            parsed.is_ok(),
            "bundled policy invalid:\n{}",
            parsed
                .as_ref()
                .err()
                .map(|d| d.render(BUNDLED_NAME, BUNDLED_SOURCE))
                .unwrap_or_default()
        );
    }

    #[test]
    fn minimal_fixture_deserialises() {
        let src = include_str!("../tests/fixtures/minimal.toml");
        let parsed = Policy::parse(src);
        assert!(parsed.is_ok(), "{:?}", parsed.err());
    }
}
