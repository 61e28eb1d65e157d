//! Retention rules and erasure exceptions: can the new version keep someone's data longer?
//!
//! A field-by-field comparison is enough for a rule's duration, trigger and action. It is not
//! enough when rules are added, removed or re-scoped: splitting one rule into two, or moving a
//! category from one rule to another, changes the file without keeping anything longer. Those
//! changes are judged by their effect on the data the new policy processes: for every purpose
//! × subject type × leaf category cell the old and new rules that govern it are compared.
//! Data is kept longer if the cell had rules and now has none, or if some new rule is not
//! matched by an old rule with the same trigger that is at least as long. Rules with different
//! triggers are not comparable in length, so a new trigger always counts as longer. A cell that
//! had no rule had no limit, so nothing can keep it longer.

use super::ChangeClass::{Editorial, Material};
use super::{ChangeClass, Differ, days, pairs, str_set};
use crate::model::{RetentionAction, RetentionRule, SStr};
use crate::ropa::{duration_text, labels, leaf_categories, rule_applies};

/// One processed purpose × subject type × leaf category of the new policy.
struct Cell<'a> {
    purpose: &'a str,
    subject: &'a str,
    leaf: &'a str,
}

/// What a retention rule imposes on a cell: when the clock starts and how long it runs.
#[derive(Debug, Clone, Copy)]
struct Clock<'a> {
    trigger: &'a str,
    days: u64,
}

fn clock(rule: &RetentionRule) -> Clock<'_> {
    Clock {
        trigger: rule.trigger.get_ref(),
        days: days(rule.duration.get_ref()),
    }
}

fn applies(rule: &RetentionRule, cell: &Cell<'_>) -> bool {
    rule_applies(rule, cell.purpose, cell.subject, cell.leaf)
}

fn describe(rule: &RetentionRule) -> String {
    format!(
        "{} {} after {}",
        labels::retention_action(*rule.action.get_ref()),
        duration_text(rule.duration.get_ref()),
        rule.trigger.get_ref()
    )
}

/// `"; data of p × s × c may be kept longer"`, naming at most three cells.
fn longer_suffix(cells: &[String]) -> String {
    match cells.len() {
        0 => String::new(),
        1..=3 => format!("; data of {} may be kept longer", cells.join(", ")),
        n => format!(
            "; data of {} and {} more may be kept longer",
            cells[..3].join(", "),
            n - 3
        ),
    }
}

impl<'a> Differ<'a> {
    fn cells(&self) -> Vec<Cell<'a>> {
        let new = self.new;
        let mut cells = Vec::new();
        for p in &new.raw.purposes {
            let leaves = leaf_categories(
                new,
                p.categories.get_ref().iter().map(|c| c.get_ref().as_str()),
            );
            for s in p.subject_types.get_ref() {
                for leaf in &leaves {
                    cells.push(Cell {
                        purpose: p.id.get_ref(),
                        subject: s.get_ref(),
                        leaf,
                    });
                }
            }
        }
        cells
    }

    /// Whether data of `cell` may be kept longer under the new rules. `substitute` replaces the
    /// clock of one new rule, to judge a scope change apart from a duration change.
    fn kept_longer(&self, cell: &Cell<'_>, substitute: Option<(&str, Clock<'_>)>) -> bool {
        let old: Vec<Clock<'_>> = self
            .old
            .raw
            .retention
            .iter()
            .filter(|r| applies(r, cell))
            .map(clock)
            .collect();
        if old.is_empty() {
            return false;
        }
        let new: Vec<Clock<'_>> = self
            .new
            .raw
            .retention
            .iter()
            .filter(|r| applies(r, cell))
            .map(|r| match substitute {
                Some((id, c)) if id == r.id.get_ref() => c,
                _ => clock(r),
            })
            .collect();
        new.is_empty()
            || new.iter().any(|n| {
                !old.iter()
                    .any(|o| o.trigger == n.trigger && o.days >= n.days)
            })
    }

    /// The cells selected by `affected` whose data may now be kept longer, as `p × s × c`.
    fn longer_cells(
        &self,
        cells: &[Cell<'_>],
        affected: impl Fn(&Cell<'_>) -> bool,
        substitute: Option<(&str, Clock<'_>)>,
    ) -> Vec<String> {
        cells
            .iter()
            .filter(|c| affected(c) && self.kept_longer(c, substitute))
            .map(|c| format!("{} × {} × {}", c.purpose, c.subject, c.leaf))
            .collect()
    }

    pub(crate) fn retention_rules(&mut self) {
        let (old, new) = (self.old, self.new);
        let cells = self.cells();
        for (id, o, n) in pairs(&old.raw.retention, &new.raw.retention, |r| &r.id) {
            let path = format!("retention.{id}");
            match (o, n) {
                (None, Some(n)) => {
                    let longer = self.longer_cells(&cells, |c| applies(n, c), None);
                    let class = if longer.is_empty() {
                        Editorial
                    } else {
                        Material
                    };
                    let summary = format!(
                        "new retention rule {id}: {}{}",
                        describe(n),
                        longer_suffix(&longer)
                    );
                    self.push(class, &path, summary);
                }
                (Some(o), None) => {
                    // Data it governed falls to the remaining rules, or to none at all.
                    let longer = self.longer_cells(&cells, |c| applies(o, c), None);
                    let class = if longer.is_empty() {
                        Editorial
                    } else {
                        Material
                    };
                    let summary = format!(
                        "retention rule {id} ({}) removed{}",
                        describe(o),
                        longer_suffix(&longer)
                    );
                    self.push(class, &path, summary);
                }
                (Some(o), Some(n)) => self.retention_rule(&path, &id, o, n, &cells),
                (None, None) => {}
            }
        }
    }

    fn retention_rule(
        &mut self,
        path: &str,
        id: &str,
        o: &RetentionRule,
        n: &RetentionRule,
        cells: &[Cell<'_>],
    ) {
        self.text(
            &format!("{path}.description"),
            &format!("description of retention rule {id}"),
            &o.description,
            &n.description,
        );

        // Scope first: judged with the old clock, so a duration change is not counted twice.
        let scope_changed = str_set(o.categories.get_ref()) != str_set(n.categories.get_ref())
            || str_set(&o.purposes) != str_set(&n.purposes)
            || str_set(&o.subject_types) != str_set(&n.subject_types);
        if scope_changed {
            let longer = self.longer_cells(
                cells,
                |c| applies(o, c) || applies(n, c),
                Some((id, clock(o))),
            );
            let class = if longer.is_empty() {
                Editorial
            } else {
                Material
            };
            let suffix = longer_suffix(&longer);
            self.scope(
                class,
                &format!("{path}.categories"),
                &format!("categories of retention rule {id}"),
                o.categories.get_ref(),
                n.categories.get_ref(),
                &suffix,
            );
            self.scope(
                class,
                &format!("{path}.purposes"),
                &format!("purposes of retention rule {id}"),
                &o.purposes,
                &n.purposes,
                &suffix,
            );
            self.scope(
                class,
                &format!("{path}.subject_types"),
                &format!("subject types of retention rule {id}"),
                &o.subject_types,
                &n.subject_types,
                &suffix,
            );
        }

        self.value(
            Material,
            &format!("{path}.trigger"),
            &format!("trigger of retention rule {id}"),
            o.trigger.get_ref(),
            n.trigger.get_ref(),
        );
        self.duration(
            &format!("{path}.duration"),
            &format!("retention rule {id}"),
            o.duration.get_ref(),
            n.duration.get_ref(),
        );
        let (oa, na) = (*o.action.get_ref(), *n.action.get_ref());
        if oa != na {
            // Anonymised data can sometimes be re-identified; deleted data cannot.
            let class = if na == RetentionAction::Anonymise {
                Material
            } else {
                Editorial
            };
            let summary = format!(
                "retention rule {id} now ends with {} instead of {}",
                labels::retention_action(na),
                labels::retention_action(oa)
            );
            self.push(class, &format!("{path}.action"), summary);
        }
        self.value(
            Editorial,
            &format!("{path}.legal_ref"),
            &format!("legal reference of retention rule {id}"),
            o.legal_ref.get_ref(),
            n.legal_ref.get_ref(),
        );

        let opath = format!("{path}.override_by_consent");
        match (&o.override_by_consent, &n.override_by_consent) {
            (None, Some(c)) => {
                let summary = format!(
                    "retention rule {id} can now be extended by consent {} up to {}",
                    c.consent_scope.get_ref(),
                    duration_text(c.max.get_ref())
                );
                self.push(Material, &opath, summary);
            }
            (Some(_), None) => self.push(
                Editorial,
                &opath,
                format!("consent extension of retention rule {id} removed"),
            ),
            (Some(a), Some(b)) => {
                self.value(
                    Material,
                    &format!("{opath}.consent_scope"),
                    &format!("consent extending retention rule {id}"),
                    a.consent_scope.get_ref(),
                    b.consent_scope.get_ref(),
                );
                self.duration(
                    &format!("{opath}.max"),
                    &format!("consent extension of retention rule {id}"),
                    a.max.get_ref(),
                    b.max.get_ref(),
                );
            }
            (None, None) => {}
        }
    }

    fn scope(
        &mut self,
        class: ChangeClass,
        path: &str,
        what: &str,
        old: &[SStr],
        new: &[SStr],
        suffix: &str,
    ) {
        let (o, n) = (str_set(old), str_set(new));
        if o == n {
            return;
        }
        let all = |s: &std::collections::BTreeSet<&str>| {
            if s.is_empty() {
                "all".to_owned()
            } else {
                s.iter().copied().collect::<Vec<_>>().join(", ")
            }
        };
        self.push(
            class,
            path,
            format!("{what} changed from {} to {}{suffix}", all(&o), all(&n)),
        );
    }

    /// A duration that keeps data: longer is material, shorter or the same length (`24 months`
    /// → `2 years`) editorial.
    fn duration(&mut self, path: &str, what: &str, old: &str, new: &str) {
        if old == new {
            return;
        }
        let (od, nd) = (days(old), days(new));
        let (class, how) = match nd.cmp(&od) {
            std::cmp::Ordering::Greater => (Material, "longer"),
            std::cmp::Ordering::Less => (Editorial, "shorter"),
            std::cmp::Ordering::Equal => (Editorial, "same length"),
        };
        let summary = format!(
            "{what}: {} changed to {} ({how})",
            duration_text(old),
            duration_text(new)
        );
        self.push(class, path, summary);
    }

    pub(crate) fn erasure_exceptions(&mut self) {
        let (old, new) = (self.old, self.new);
        for (id, o, n) in pairs(
            &old.raw.erasure_exceptions,
            &new.raw.erasure_exceptions,
            |e| &e.id,
        ) {
            let path = format!("erasure_exception.{id}");
            match (o, n) {
                (None, Some(n)) => {
                    let summary = format!(
                        "new erasure exception {id}: {} kept {} after {} even when erasure is requested ({})",
                        n.categories
                            .get_ref()
                            .iter()
                            .map(|c| c.get_ref().as_str())
                            .collect::<Vec<_>>()
                            .join(", "),
                        duration_text(n.duration.get_ref()),
                        n.trigger.get_ref(),
                        n.legal_ref.get_ref()
                    );
                    self.push(Material, &path, summary);
                }
                (Some(o), None) => {
                    let summary = format!(
                        "erasure exception {id} removed: these data are now erased on request; check that {} no longer requires keeping them",
                        o.legal_ref.get_ref()
                    );
                    self.push(Editorial, &path, summary);
                }
                (Some(o), Some(n)) => {
                    let what = format!("erasure exception {id}");
                    self.text(
                        &format!("{path}.description"),
                        &format!("description of {what}"),
                        &o.description,
                        &n.description,
                    );
                    self.category_refs(
                        &format!("{path}.categories"),
                        &what,
                        o.categories.get_ref(),
                        n.categories.get_ref(),
                    );
                    self.value(
                        Material,
                        &format!("{path}.trigger"),
                        &format!("trigger of {what}"),
                        o.trigger.get_ref(),
                        n.trigger.get_ref(),
                    );
                    self.duration(
                        &format!("{path}.duration"),
                        &what,
                        o.duration.get_ref(),
                        n.duration.get_ref(),
                    );
                    self.value(
                        Editorial,
                        &format!("{path}.legal_ref"),
                        &format!("legal reference of {what}"),
                        o.legal_ref.get_ref(),
                        n.legal_ref.get_ref(),
                    );
                    self.value(
                        Editorial,
                        &format!("{path}.jurisdiction"),
                        &format!("jurisdiction of {what}"),
                        o.jurisdiction.get_ref(),
                        n.jurisdiction.get_ref(),
                    );
                }
                (None, None) => {}
            }
        }
    }
}
