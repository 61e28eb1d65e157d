//! Diffs of purposes, their gates, and the consent scopes they rely on: why data is processed
//! and on what basis.
//!
//! The classification of each field is argued in the parent module's documentation.

use std::collections::{BTreeMap, BTreeSet};

use super::ChangeClass::{Editorial, Material};
use super::{Differ, days, opt, pairs, str_set};
use crate::model::{Gate, Purpose};
use crate::ropa::labels;

impl Differ<'_> {
    pub(crate) fn consent_scopes(&mut self) {
        let (o, n) = (&self.old.raw.consent_scopes, &self.new.raw.consent_scopes);
        for (id, o, n) in pairs(o, n, |s| &s.id) {
            let path = format!("consent_scope.{id}");
            match (o, n) {
                (None, Some(_)) => {
                    self.push(
                        Material,
                        &path,
                        format!("new consent scope {id}: people are asked to agree to new wording"),
                    );
                }
                (Some(_), None) => {
                    self.push(Editorial, &path, format!("consent scope {id} removed"))
                }
                (Some(o), Some(n)) => {
                    self.text(
                        &format!("{path}.name"),
                        &format!("name of consent scope {id}"),
                        &o.name,
                        &n.name,
                    );
                    if o.text.get_ref() != n.text.get_ref() {
                        let summary = format!(
                            "consent text of {id} changed: consents given to the old wording do not cover the new one and must be renewed"
                        );
                        self.push(Material, &format!("{path}.text"), summary);
                    }
                    self.set(
                        Material,
                        &format!("{path}.channels"),
                        &format!("channels covered by consent {id}"),
                        &str_set(&o.channels),
                        &str_set(&n.channels),
                    );
                    let (ov, nv) = (
                        o.valid_for.as_ref().map(|v| v.get_ref()),
                        n.valid_for.as_ref().map(|v| v.get_ref()),
                    );
                    if ov != nv {
                        // No `valid_for` means the consent never lapses: the longest of all.
                        let longer = match (ov, nv) {
                            (Some(a), Some(b)) => days(b) > days(a),
                            (Some(_), None) => true,
                            _ => false,
                        };
                        let show = |v: Option<&String>| {
                            v.map_or_else(
                                || "no limit".to_owned(),
                                |v| crate::ropa::duration_text(v),
                            )
                        };
                        let summary = format!(
                            "validity of consent {id} changed from {} to {}",
                            show(ov),
                            show(nv)
                        );
                        self.push(
                            if longer { Material } else { Editorial },
                            &format!("{path}.valid_for"),
                            summary,
                        );
                    }
                }
                (None, None) => {}
            }
        }
    }

    pub(crate) fn purposes(&mut self) {
        let (o, n) = (&self.old.raw.purposes, &self.new.raw.purposes);
        for (id, o, n) in pairs(o, n, |p| &p.id) {
            let path = format!("purpose.{id}");
            match (o, n) {
                (None, Some(n)) => {
                    let summary = format!(
                        "new purpose {id} on {} for {}",
                        labels::legal_basis(*n.legal_basis.get_ref()),
                        n.subject_types
                            .get_ref()
                            .iter()
                            .map(|s| s.get_ref().as_str())
                            .collect::<Vec<_>>()
                            .join(", ")
                    );
                    self.push(Material, &path, summary);
                }
                (Some(_), None) => self.push(Editorial, &path, format!("purpose {id} removed")),
                (Some(o), Some(n)) => self.purpose(&path, &id, o, n),
                (None, None) => {}
            }
        }
    }

    fn purpose(&mut self, path: &str, id: &str, o: &Purpose, n: &Purpose) {
        self.text(
            &format!("{path}.name"),
            &format!("name of purpose {id}"),
            &o.name,
            &n.name,
        );
        self.text(
            &format!("{path}.description"),
            &format!("description of purpose {id}"),
            &o.description,
            &n.description,
        );
        self.value(
            Material,
            &format!("{path}.legal_basis"),
            &format!("legal basis of purpose {id}"),
            labels::legal_basis(*o.legal_basis.get_ref()),
            labels::legal_basis(*n.legal_basis.get_ref()),
        );
        self.opt_value(
            Editorial,
            &format!("{path}.legal_basis_ref"),
            &format!("legal basis reference of purpose {id}"),
            opt(&o.legal_basis_ref),
            opt(&n.legal_basis_ref),
        );
        self.opt_value(
            Editorial,
            &format!("{path}.lia_ref"),
            &format!("LIA reference of purpose {id}"),
            opt(&o.lia_ref),
            opt(&n.lia_ref),
        );
        self.opt_value(
            Material,
            &format!("{path}.consent_scope"),
            &format!("consent scope of purpose {id}"),
            opt(&o.consent_scope),
            opt(&n.consent_scope),
        );
        self.set(
            Material,
            &format!("{path}.subject_types"),
            &format!("subject types of purpose {id}"),
            &str_set(o.subject_types.get_ref()),
            &str_set(n.subject_types.get_ref()),
        );
        self.category_refs(
            &format!("{path}.categories"),
            &format!("purpose {id}"),
            o.categories.get_ref(),
            n.categories.get_ref(),
        );
        self.set(
            Material,
            &format!("{path}.sources"),
            &format!("sources of purpose {id}"),
            &str_set(&o.sources),
            &str_set(&n.sources),
        );
        let ground = |p: &Purpose| {
            p.art9_ground
                .as_ref()
                .map(|g| labels::art9_ground(*g.get_ref()))
        };
        match (ground(o), ground(n)) {
            (Some(a), Some(b)) if a != b => {
                self.push(
                    Material,
                    &format!("{path}.art9_ground"),
                    format!("Art. 9 ground of purpose {id} changed from {a} to {b}"),
                );
            }
            (None, Some(b)) => {
                self.push(
                    Material,
                    &format!("{path}.art9_ground"),
                    format!("purpose {id} now processes special categories under {b}"),
                );
            }
            // Validation only allows dropping the ground once no special category is covered.
            (Some(a), None) => {
                self.push(
                    Editorial,
                    &format!("{path}.art9_ground"),
                    format!("Art. 9 ground {a} of purpose {id} removed"),
                );
            }
            _ => {}
        }
        let (oo, no) = (*o.objection.get_ref(), *n.objection.get_ref());
        if oo != no {
            let weaker = labels::objection_strength(no) < labels::objection_strength(oo);
            let summary = format!(
                "right to object to purpose {id} changed from {} to {}",
                labels::objection(oo),
                labels::objection(no)
            );
            self.push(
                if weaker { Material } else { Editorial },
                &format!("{path}.objection"),
                summary,
            );
        }
        self.flag(
            Material,
            &format!("{path}.direct_marketing"),
            &format!("direct marketing for purpose {id}"),
            o.direct_marketing,
            n.direct_marketing,
        );
        self.flag(
            Material,
            &format!("{path}.profiling"),
            &format!("profiling for purpose {id}"),
            o.profiling,
            n.profiling,
        );
        self.flag(
            Material,
            &format!("{path}.allowed_under_restriction"),
            &format!("processing of restricted data for purpose {id}"),
            o.allowed_under_restriction,
            n.allowed_under_restriction,
        );
        self.gates(&format!("{path}.gates"), id, &o.gates, &n.gates);
    }

    /// Gates keyed by kind (a second gate of the same kind gets `#2`…): a gate is protection,
    /// so removing or loosening one is material and adding or tightening one is editorial.
    fn gates(&mut self, path: &str, id: &str, old: &[Gate], new: &[Gate]) {
        fn keyed(gates: &[Gate]) -> Vec<(String, &Gate)> {
            let mut seen: BTreeMap<&str, usize> = BTreeMap::new();
            gates
                .iter()
                .map(|g| {
                    let kind = labels::gate_kind(*g.kind.get_ref());
                    let n = seen.entry(kind).or_default();
                    *n += 1;
                    let key = if *n == 1 {
                        kind.to_owned()
                    } else {
                        format!("{kind}#{n}")
                    };
                    (key, g)
                })
                .collect()
        }
        fn find<'g>(gates: &[(String, &'g Gate)], key: &str) -> Option<&'g Gate> {
            gates.iter().find(|(k, _)| k == key).map(|(_, g)| *g)
        }
        let (old, new) = (keyed(old), keyed(new));
        let keys: BTreeSet<&String> = old.iter().chain(new.iter()).map(|(k, _)| k).collect();
        for key in keys {
            let (o, n) = (find(&old, key), find(&new, key));
            let gpath = format!("{path}.{key}");
            let what = format!("{key} gate of purpose {id}");
            match (o, n) {
                (None, Some(_)) => self.push(Editorial, &gpath, format!("{what} added")),
                (Some(_), None) => self.push(
                    Material,
                    &gpath,
                    format!("{what} removed: processing no longer waits for consent"),
                ),
                (Some(o), Some(n)) => {
                    self.value(
                        Material,
                        &format!("{gpath}.consent_scope"),
                        &format!("consent scope of {what}"),
                        o.consent_scope.get_ref(),
                        n.consent_scope.get_ref(),
                    );
                    // Empty channels means every channel is gated.
                    let (oc, nc) = (str_set(&o.channels), str_set(&n.channels));
                    if oc != nc {
                        let looser = !nc.is_empty() && (oc.is_empty() || !nc.is_superset(&oc));
                        let show = |c: &BTreeSet<&str>| {
                            if c.is_empty() {
                                "all channels".to_owned()
                            } else {
                                c.iter().copied().collect::<Vec<_>>().join(", ")
                            }
                        };
                        let summary = format!(
                            "channels of {what} changed from {} to {}",
                            show(&oc),
                            show(&nc)
                        );
                        self.push(
                            if looser { Material } else { Editorial },
                            &format!("{gpath}.channels"),
                            summary,
                        );
                    }
                    self.flag(
                        Material,
                        &format!("{gpath}.existing_customer_exception"),
                        &format!("existing-customer exception on {what}"),
                        o.existing_customer_exception,
                        n.existing_customer_exception,
                    );
                }
                (None, None) => {}
            }
        }
    }
}
