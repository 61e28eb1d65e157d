//! Who a material change must be announced to, and which consents it puts in need of renewal.
//!
//! Each material change is traced to the purposes it touches; the people affected are the
//! subject types those purposes cover. Changes that no purpose bounds (the controller's
//! identity, the notice promise, retention or erasure rules without a subject-type scope, a
//! category's or source's nature) reach every subject type the new policy declares: when in
//! doubt, tell more people, as the classifier does.
//!
//! A consent needs renewal when what it covers widened: its own wording or channels changed,
//! or a purpose relying on it (as its legal basis or through a gate) changed materially, or a
//! recipient of such a purpose did. Consents given before the version was published no longer
//! count from its effective date until renewed.

use std::collections::BTreeSet;

use serde::Serialize;

use super::{ChangeClass, PolicyDiff};
use crate::Policy;
use crate::model::Purpose;

/// The consequences of a version's material changes.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Audience {
    /// Subject types to notify in advance.
    pub subject_types: BTreeSet<String>,
    /// Consent scopes whose existing consents need renewal.
    pub renewal_scopes: BTreeSet<String>,
}

fn purpose_scopes(p: &Purpose) -> impl Iterator<Item = &str> {
    p.consent_scope
        .iter()
        .map(|s| s.get_ref().as_str())
        .chain(p.gates.iter().map(|g| g.consent_scope.get_ref().as_str()))
}

fn purpose_types(p: &Purpose) -> impl Iterator<Item = String> + '_ {
    p.subject_types
        .get_ref()
        .iter()
        .map(|s| s.get_ref().clone())
}

/// The ids of a section's entities in either version.
fn entity_ids(old: &Policy, new: &Policy, section: &str) -> Vec<String> {
    let mut ids = Vec::new();
    for p in [old, new] {
        let r = &p.raw;
        match section {
            "purpose" => ids.extend(r.purposes.iter().map(|x| x.id.get_ref().clone())),
            "consent_scope" => ids.extend(r.consent_scopes.iter().map(|x| x.id.get_ref().clone())),
            "recipient" => ids.extend(r.recipients.iter().map(|x| x.id.get_ref().clone())),
            "message_class" => ids.extend(r.message_classes.iter().map(|x| x.id.get_ref().clone())),
            "subject_type" => ids.extend(r.subject_types.iter().map(|x| x.id.get_ref().clone())),
            "retention" => ids.extend(r.retention.iter().map(|x| x.id.get_ref().clone())),
            _ => {}
        }
    }
    ids
}

/// See the module documentation.
pub fn audience(old: &Policy, new: &Policy, diff: &PolicyDiff) -> Audience {
    let mut out = Audience::default();
    let all_types = || {
        new.raw
            .subject_types
            .iter()
            .map(|t| t.id.get_ref().clone())
            .collect::<Vec<_>>()
    };
    // A purpose as it is now, or as it was if it is gone.
    let purpose = |id: &str| new.purpose(id).or_else(|| old.purpose(id));
    for change in diff
        .changes
        .iter()
        .filter(|c| c.class == ChangeClass::Material)
    {
        // Ids contain dots (`marketing.send`): the id is the longest known id the rest of the
        // path starts with.
        let (section, rest) = change.path.split_once('.').unwrap_or((&change.path, ""));
        let ids = entity_ids(old, new, section);
        let id = ids
            .iter()
            .filter(|id| rest == id.as_str() || rest.starts_with(&format!("{id}.")))
            .max_by_key(|id| id.len())
            .map_or(rest, String::as_str);
        let field = rest
            .get(id.len()..)
            .unwrap_or_default()
            .trim_start_matches('.')
            .split('.')
            .next()
            .unwrap_or_default();
        match section {
            "purpose" => {
                let Some(p) = purpose(id) else { continue };
                if field == "subject_types" {
                    // Only the newly covered people learn something new.
                    let before: BTreeSet<String> = old
                        .purpose(id)
                        .map(|o| purpose_types(o).collect())
                        .unwrap_or_default();
                    out.subject_types
                        .extend(purpose_types(p).filter(|t| !before.contains(t)));
                } else {
                    out.subject_types.extend(purpose_types(p));
                }
                out.renewal_scopes
                    .extend(purpose_scopes(p).map(str::to_owned));
            }
            "consent_scope" => {
                out.renewal_scopes.insert(id.to_owned());
                for p in new
                    .raw
                    .purposes
                    .iter()
                    .filter(|p| purpose_scopes(p).any(|s| s == id))
                {
                    out.subject_types.extend(purpose_types(p));
                }
            }
            "recipient" => {
                let r = new.recipient(id).or_else(|| old.recipient(id));
                for pid in r.iter().flat_map(|r| r.purposes.get_ref()) {
                    if let Some(p) = purpose(pid.get_ref()) {
                        out.subject_types.extend(purpose_types(p));
                        out.renewal_scopes
                            .extend(purpose_scopes(p).map(str::to_owned));
                    }
                }
            }
            "message_class" => {
                let m = new.message_class(id).or_else(|| old.message_class(id));
                if let Some(p) = m.and_then(|m| purpose(m.purpose.get_ref())) {
                    out.subject_types.extend(purpose_types(p));
                }
            }
            "subject_type" => {
                out.subject_types.insert(id.to_owned());
            }
            "retention" => {
                let rule = new.retention_rule(id).or_else(|| old.retention_rule(id));
                match rule.filter(|r| !r.subject_types.is_empty()) {
                    Some(r) => out
                        .subject_types
                        .extend(r.subject_types.iter().map(|t| t.get_ref().clone())),
                    None => out.subject_types.extend(all_types()),
                }
            }
            _ => out.subject_types.extend(all_types()),
        }
    }
    // Only types the new version still knows can be told anything.
    out.subject_types.retain(|t| new.subject_type(t).is_some());
    out.renewal_scopes
        .retain(|s| new.consent_scope(s).is_some());
    out
}
