//! What changed between two versions of a policy, and whether people must be told in advance.
//!
//! R-48 (WP260 rev.01 ¶30) requires *material* changes to be announced to the people
//! affected well before they take effect (`changes.notice_days`), while editorial ones are
//! only logged. The classifier therefore asks one question of every change: **could this
//! change make the processing of someone's data broader, longer, less protected, or different
//! from what they were told or agreed to?** If yes, it is [`ChangeClass::Material`]; if it only
//! rewords, narrows or shortens, it is [`ChangeClass::Editorial`]. When in doubt it is
//! material: a needless notice costs a delay, a missed one breaks Art. 13/14 and WP260.
//!
//! Entities are matched by id in every section, so reordering the file, reformatting it or
//! reordering a list (categories, subject types, channels) is no change at all. Lists of
//! category references are compared by the *leaf* categories they cover in each version, so
//! `["contact"]` and `["contact.email"]` are the same when `contact` has only that child, and a
//! new sub-category under a referenced group widens every purpose that references the group.
//!
//! Material:
//! - a new purpose; a changed legal basis or consent scope of a purpose; new subject types,
//!   covered leaf categories or sources of a purpose; `direct_marketing`, `profiling` or
//!   `allowed_under_restriction` switched on; an Art. 9 ground added or changed;
//! - the right to object weakened (absolute → relative → not applicable);
//! - a gate removed, its consent scope changed, fewer channels gated, or the existing-customer
//!   exception enabled (on a gate, or `existing_customer` on a subject type);
//! - a new recipient; a recipient's kind or legal name changed (the name is its identity in
//!   the notice; a rename may hide a different organisation), more purposes or categories, the
//!   authority court-decision requirement dropped; a new transfer, a changed mechanism, DPF
//!   certification lost, or a safeguard removed while the country stays outside the EEA; a
//!   recipient moved to a non-EEA country or between third countries;
//! - retention that can keep some data longer: a longer duration (by
//!   [`CalendarDuration::approx_days`]), a changed trigger or trigger kind, delete → anonymise,
//!   a longer or new consent override, and rules added, removed or re-scoped such that some
//!   processed purpose × subject type × category now has a rule that no old rule with the same
//!   trigger matched in length, or has lost all its rules. The fiscal year end counts when a
//!   retention rule or erasure exception uses a fiscal-year trigger: moving it moves deletion;
//! - erasure exceptions added, widened, lengthened or re-triggered (they restrict Art. 17);
//! - a category's `special` flag changed either way (declassifying removes Art. 9 safeguards
//!   from the same data); a source's kind changed (it decides Art. 13 vs. Art. 14 duties);
//! - consent scopes added or their text changed (what people agree to; old consents do not
//!   cover new words and need renewal), their channels widened or validity lengthened;
//! - a message class turned from marketing into administrative (sent despite opt-outs), moved
//!   to another purpose, or sent on more channels;
//! - the controller's name, org number or country (its identity, and with it the lead
//!   supervisory authority); a shorter notice period or fewer announcement channels for
//!   material changes (the promise that protects people from all the rest).
//!
//! Editorial: every reworded text (names, descriptions, notice texts, consent scope names),
//! contact details (controller, data protection contact, authority, rights), the version label,
//! documentation references (LIA, TIA, legal refs, DPA dates, SCC version/module), and every
//! narrowing: removed purposes, recipients, sources, categories, subject types, consent scopes,
//! shorter retention, gates added, stronger objection.
//!
//! A removed erasure exception is editorial. An exception only ever blocks an erasure people
//! asked for; removing it means more erasure, never more processing, so nothing needs an
//! advance notice. The summary still warns that a statutory duty (bookkeeping law) may continue
//! to require the data: that is a compliance question for the controller, not a notice one.
//! By the same reasoning, adding an entity that nothing uses yet (a subject type, source,
//! category, trigger, role, channel or group entity) is editorial: its first use by a purpose
//! or recipient is where it becomes material, and that use is classified there. Roles are
//! internal access control (Art. 32), not something the notice promises, so role changes are
//! editorial but still listed for review.

mod audience;
mod document;
mod entities;
mod purposes;
mod recipients;
mod retention;

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use serde::Serialize;

use crate::model::{SStr, Text};
use crate::ropa::leaf_categories;
use crate::{CalendarDuration, Policy, category_covers};

use ChangeClass::{Editorial, Material};

pub use audience::{Audience, audience};

/// How a change must be published.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ChangeClass {
    /// Logged with the new version; no advance notice needed.
    Editorial,
    /// Announced to affected people `changes.notice_days` before it takes effect.
    Material,
}

impl fmt::Display for ChangeClass {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            ChangeClass::Editorial => "editorial",
            ChangeClass::Material => "material",
        })
    }
}

/// One change between two policy versions.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Change {
    pub class: ChangeClass,
    /// Where in the policy: `section.id.field`, e.g. `purpose.marketing.send.categories`.
    pub path: String,
    /// A sentence a person can read in a change log or a change notice.
    pub summary: String,
}

/// Every change between two versions, in policy order (sections as in the file format, ids
/// sorted within a section, fields in model order).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct PolicyDiff {
    pub changes: Vec<Change>,
}

impl PolicyDiff {
    /// `None` if nothing changed, else the strongest class of any change.
    pub fn class(&self) -> Option<ChangeClass> {
        self.changes.iter().map(|c| c.class).max()
    }

    /// For `vern policy diff`: 0 no change, 1 editorial only, 2 material.
    pub fn exit_code(&self) -> i32 {
        match self.class() {
            None => 0,
            Some(ChangeClass::Editorial) => 1,
            Some(ChangeClass::Material) => 2,
        }
    }

    pub fn is_empty(&self) -> bool {
        self.changes.is_empty()
    }

    /// One line per change, material ones first (they are what needs acting on), each group
    /// in policy order.
    pub fn render_text(&self) -> String {
        if self.changes.is_empty() {
            return "no changes\n".to_owned();
        }
        let mut out = String::new();
        for class in [ChangeClass::Material, ChangeClass::Editorial] {
            for c in self.changes.iter().filter(|c| c.class == class) {
                out.push_str(&format!("{class}: {} ({})\n", c.summary, c.path));
            }
        }
        out
    }
}

/// Compares two validated policies. Deterministic: the same inputs give the same output,
/// whatever the order of entities in either file.
pub fn diff(old: &Policy, new: &Policy) -> PolicyDiff {
    let mut d = Differ {
        old,
        new,
        changes: Vec::new(),
    };
    d.top_level();
    d.controller();
    d.contacts();
    d.notice();
    d.changes_section();
    d.group_entities();
    d.subject_types();
    d.sources();
    d.categories();
    d.consent_scopes();
    d.purposes();
    d.recipients();
    d.triggers();
    d.retention_rules();
    d.erasure_exceptions();
    d.message_classes();
    d.roles();
    PolicyDiff { changes: d.changes }
}

pub(crate) struct Differ<'a> {
    pub(crate) old: &'a Policy,
    pub(crate) new: &'a Policy,
    changes: Vec<Change>,
}

/// Entities of one section matched by id, sorted by id.
pub(crate) type Pairs<'a, T> = Vec<(String, Option<&'a T>, Option<&'a T>)>;

pub(crate) fn pairs<'a, T>(old: &'a [T], new: &'a [T], id: impl Fn(&T) -> &SStr) -> Pairs<'a, T> {
    let mut map: BTreeMap<String, (Option<&'a T>, Option<&'a T>)> = BTreeMap::new();
    for o in old {
        map.entry(id(o).get_ref().clone()).or_default().0 = Some(o);
    }
    for n in new {
        map.entry(id(n).get_ref().clone()).or_default().1 = Some(n);
    }
    map.into_iter().map(|(k, (o, n))| (k, o, n)).collect()
}

pub(crate) fn str_set(items: &[SStr]) -> BTreeSet<&str> {
    items.iter().map(|s| s.get_ref().as_str()).collect()
}

pub(crate) fn opt(s: &Option<SStr>) -> Option<&str> {
    s.as_ref().map(|s| s.get_ref().as_str())
}

/// Days for ordering durations. Validation guarantees they parse; one that does not counts as
/// unbounded rather than aborting the diff.
pub(crate) fn days(raw: &str) -> u64 {
    CalendarDuration::parse(raw).map_or(u64::MAX, |d| d.approx_days())
}

pub(crate) fn in_eea(country: &str) -> bool {
    crate::adequacy::is_eea(country)
}

fn list(items: &[&str]) -> String {
    items.join(", ")
}

impl<'a> Differ<'a> {
    pub(crate) fn push(&mut self, class: ChangeClass, path: &str, summary: String) {
        self.changes.push(Change {
            class,
            path: path.to_owned(),
            summary,
        });
    }

    /// A reworded text: always editorial.
    pub(crate) fn text(&mut self, path: &str, what: &str, old: &Text, new: &Text) {
        if old.get_ref() != new.get_ref() {
            self.push(Editorial, path, format!("{what} reworded"));
        }
    }

    pub(crate) fn opt_text(
        &mut self,
        path: &str,
        what: &str,
        old: Option<&Text>,
        new: Option<&Text>,
    ) {
        match (old, new) {
            (Some(o), Some(n)) => self.text(path, what, o, n),
            (None, Some(_)) => self.push(Editorial, path, format!("{what} added")),
            (Some(_), None) => self.push(Editorial, path, format!("{what} removed")),
            (None, None) => {}
        }
    }

    /// A changed value of class `class`.
    pub(crate) fn value(
        &mut self,
        class: ChangeClass,
        path: &str,
        what: &str,
        old: &str,
        new: &str,
    ) {
        if old != new {
            self.push(
                class,
                path,
                format!("{what} changed from \"{old}\" to \"{new}\""),
            );
        }
    }

    pub(crate) fn opt_value(
        &mut self,
        class: ChangeClass,
        path: &str,
        what: &str,
        old: Option<&str>,
        new: Option<&str>,
    ) {
        match (old, new) {
            (Some(o), Some(n)) => self.value(class, path, what, o, n),
            (None, Some(n)) => self.push(class, path, format!("{what} set to \"{n}\"")),
            (Some(o), None) => self.push(class, path, format!("{what} \"{o}\" removed")),
            (None, None) => {}
        }
    }

    /// A boolean whose `true` allows more processing: switching it on is `on_class`, off is
    /// editorial.
    pub(crate) fn flag(
        &mut self,
        on_class: ChangeClass,
        path: &str,
        what: &str,
        old: bool,
        new: bool,
    ) {
        match (old, new) {
            (false, true) => self.push(on_class, path, format!("{what} switched on")),
            (true, false) => self.push(Editorial, path, format!("{what} switched off")),
            _ => {}
        }
    }

    /// A set where additions widen processing (`widen_class`) and removals narrow it.
    pub(crate) fn set(
        &mut self,
        widen_class: ChangeClass,
        path: &str,
        what: &str,
        old: &BTreeSet<&str>,
        new: &BTreeSet<&str>,
    ) {
        let added: Vec<&str> = new.difference(old).copied().collect();
        let removed: Vec<&str> = old.difference(new).copied().collect();
        let summary = match (added.is_empty(), removed.is_empty()) {
            (true, true) => return,
            (false, true) => format!("{what}: added {}", list(&added)),
            (true, false) => format!("{what}: removed {}", list(&removed)),
            (false, false) => format!("{what}: added {}; removed {}", list(&added), list(&removed)),
        };
        let class = if added.is_empty() {
            Editorial
        } else {
            widen_class
        };
        self.push(class, path, summary);
    }

    /// Category references compared by the leaf categories they cover in each version. A new
    /// leaf under a leaf the old version covered (a split of that category) is not a widening.
    pub(crate) fn category_refs(&mut self, path: &str, what: &str, old: &[SStr], new: &[SStr]) {
        let old_leaves = leaf_categories(self.old, old.iter().map(|s| s.get_ref().as_str()));
        let new_leaves = leaf_categories(self.new, new.iter().map(|s| s.get_ref().as_str()));
        let mut added: Vec<&str> = new_leaves
            .iter()
            .filter(|n| !old_leaves.iter().any(|o| category_covers(o, n)))
            .copied()
            .collect();
        let mut removed: Vec<&str> = old_leaves
            .iter()
            .filter(|o| {
                !new_leaves
                    .iter()
                    .any(|n| category_covers(n, o) || category_covers(o, n))
            })
            .copied()
            .collect();
        added.sort_unstable();
        removed.sort_unstable();
        if added.is_empty() && removed.is_empty() {
            if str_set(old) != str_set(new) {
                self.push(
                    Editorial,
                    path,
                    format!("{what}: references rewritten, the same categories are covered"),
                );
            }
            return;
        }
        let mut parts = Vec::new();
        if !added.is_empty() {
            let shown: Vec<String> = added
                .iter()
                .map(|c| match crate::ropa::is_special(self.new, c) {
                    true => format!("{c} (special category, Art. 9)"),
                    false => (*c).to_owned(),
                })
                .collect();
            parts.push(format!("now also covers {}", shown.join(", ")));
        }
        if !removed.is_empty() {
            parts.push(format!("no longer covers {}", list(&removed)));
        }
        let class = if added.is_empty() {
            Editorial
        } else {
            Material
        };
        self.push(class, path, format!("{what} {}", parts.join("; ")));
    }
}
