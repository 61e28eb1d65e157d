//! Diffs of the declarations that purposes and retention refer to: subject types, sources,
//! categories, triggers, message classes and roles.
//!
//! The classification of each field is argued in the parent module's documentation.

use super::ChangeClass::{Editorial, Material};
use super::{Differ, pairs, str_set};
use crate::ropa::labels;

impl Differ<'_> {
    pub(crate) fn subject_types(&mut self) {
        let (o, n) = (&self.old.raw.subject_types, &self.new.raw.subject_types);
        for (id, o, n) in pairs(o, n, |t| &t.id) {
            let path = format!("subject_type.{id}");
            match (o, n) {
                (None, Some(_)) => {
                    self.push(Editorial, &path, format!("subject type {id} declared"))
                }
                (Some(_), None) => {
                    self.push(Editorial, &path, format!("subject type {id} removed"))
                }
                (Some(o), Some(n)) => {
                    self.text(
                        &format!("{path}.name"),
                        &format!("name of subject type {id}"),
                        &o.name,
                        &n.name,
                    );
                    self.text(
                        &format!("{path}.description"),
                        &format!("description of subject type {id}"),
                        &o.description,
                        &n.description,
                    );
                    // The contract relation only decides which bases are valid; a basis change
                    // itself shows up on the purpose.
                    self.value(
                        Editorial,
                        &format!("{path}.contract"),
                        &format!("contract relation of subject type {id}"),
                        labels::contract_relation(*o.contract.get_ref()),
                        labels::contract_relation(*n.contract.get_ref()),
                    );
                    self.flag(
                        Material,
                        &format!("{path}.existing_customer"),
                        &format!("existing-customer status of subject type {id} (marketing without consent where a gate allows it)"),
                        o.existing_customer,
                        n.existing_customer,
                    );
                }
                (None, None) => {}
            }
        }
    }

    pub(crate) fn sources(&mut self) {
        let (o, n) = (&self.old.raw.sources, &self.new.raw.sources);
        for (id, o, n) in pairs(o, n, |s| &s.id) {
            let path = format!("source.{id}");
            match (o, n) {
                (None, Some(_)) => self.push(Editorial, &path, format!("source {id} declared")),
                (Some(_), None) => self.push(Editorial, &path, format!("source {id} removed")),
                (Some(o), Some(n)) => {
                    self.text(
                        &format!("{path}.name"),
                        &format!("name of source {id}"),
                        &o.name,
                        &n.name,
                    );
                    self.value(
                        Material,
                        &format!("{path}.kind"),
                        &format!("kind of source {id} (decides Art. 13 or Art. 14 information)"),
                        labels::source_kind(*o.kind.get_ref()),
                        labels::source_kind(*n.kind.get_ref()),
                    );
                }
                (None, None) => {}
            }
        }
    }

    pub(crate) fn categories(&mut self) {
        let (o, n) = (&self.old.raw.categories, &self.new.raw.categories);
        for (id, o, n) in pairs(o, n, |c| &c.id) {
            let path = format!("category.{id}");
            match (o, n) {
                (None, Some(_)) => self.push(Editorial, &path, format!("category {id} declared")),
                (Some(_), None) => self.push(Editorial, &path, format!("category {id} removed")),
                (Some(o), Some(n)) => {
                    self.text(
                        &format!("{path}.name"),
                        &format!("name of category {id}"),
                        &o.name,
                        &n.name,
                    );
                    self.opt_text(
                        &format!("{path}.description"),
                        &format!("description of category {id}"),
                        o.description.as_ref(),
                        n.description.as_ref(),
                    );
                    if o.special != n.special {
                        let summary = if n.special {
                            format!("category {id} is now a special category (Art. 9)")
                        } else {
                            format!(
                                "category {id} is no longer treated as a special category (Art. 9 safeguards dropped)"
                            )
                        };
                        self.push(Material, &format!("{path}.special"), summary);
                    }
                }
                (None, None) => {}
            }
        }
    }

    pub(crate) fn triggers(&mut self) {
        let (o, n) = (&self.old.raw.triggers, &self.new.raw.triggers);
        for (id, o, n) in pairs(o, n, |t| &t.id) {
            let path = format!("trigger.{id}");
            match (o, n) {
                (None, Some(_)) => {
                    self.push(Editorial, &path, format!("retention trigger {id} declared"))
                }
                (Some(_), None) => {
                    self.push(Editorial, &path, format!("retention trigger {id} removed"))
                }
                (Some(o), Some(n)) => {
                    self.text(
                        &format!("{path}.name"),
                        &format!("name of retention trigger {id}"),
                        &o.name,
                        &n.name,
                    );
                    // A different kind of event starts every clock that uses it at another time.
                    self.value(
                        Material,
                        &format!("{path}.kind"),
                        &format!("kind of retention trigger {id}"),
                        labels::trigger_kind(*o.kind.get_ref()),
                        labels::trigger_kind(*n.kind.get_ref()),
                    );
                    self.set(
                        Editorial,
                        &format!("{path}.categories"),
                        &format!("categories retention trigger {id} can occur for"),
                        &str_set(&o.categories),
                        &str_set(&n.categories),
                    );
                }
                (None, None) => {}
            }
        }
    }

    pub(crate) fn message_classes(&mut self) {
        let (o, n) = (&self.old.raw.message_classes, &self.new.raw.message_classes);
        for (id, o, n) in pairs(o, n, |m| &m.id) {
            let path = format!("message_class.{id}");
            match (o, n) {
                (None, Some(_)) => {
                    self.push(Editorial, &path, format!("message class {id} declared"))
                }
                (Some(_), None) => {
                    self.push(Editorial, &path, format!("message class {id} removed"))
                }
                (Some(o), Some(n)) => {
                    self.text(
                        &format!("{path}.name"),
                        &format!("name of message class {id}"),
                        &o.name,
                        &n.name,
                    );
                    let (ok, nk) = (
                        labels::message_kind(*o.kind.get_ref()),
                        labels::message_kind(*n.kind.get_ref()),
                    );
                    if ok != nk {
                        // Administrative messages are sent despite marketing opt-outs.
                        let class = if nk == "administrative" {
                            Material
                        } else {
                            Editorial
                        };
                        self.push(
                            class,
                            &format!("{path}.kind"),
                            format!("message class {id} changed from {ok} to {nk}"),
                        );
                    }
                    self.value(
                        Material,
                        &format!("{path}.purpose"),
                        &format!("purpose of message class {id}"),
                        o.purpose.get_ref(),
                        n.purpose.get_ref(),
                    );
                    self.set(
                        Material,
                        &format!("{path}.channels"),
                        &format!("channels of message class {id}"),
                        &str_set(&o.channels),
                        &str_set(&n.channels),
                    );
                }
                (None, None) => {}
            }
        }
    }

    pub(crate) fn roles(&mut self) {
        let (o, n) = (&self.old.raw.roles, &self.new.raw.roles);
        for (id, o, n) in pairs(o, n, |r| &r.id) {
            let path = format!("role.{id}");
            match (o, n) {
                (None, Some(_)) => self.push(Editorial, &path, format!("role {id} added")),
                (Some(_), None) => self.push(Editorial, &path, format!("role {id} removed")),
                (Some(o), Some(n)) => {
                    self.text(
                        &format!("{path}.description"),
                        &format!("description of role {id}"),
                        &o.description,
                        &n.description,
                    );
                    self.set(
                        Editorial,
                        &format!("{path}.categories"),
                        &format!("categories role {id} may access"),
                        &str_set(o.categories.get_ref()),
                        &str_set(n.categories.get_ref()),
                    );
                    self.flag(
                        Editorial,
                        &format!("{path}.admin"),
                        &format!("admin rights of role {id}"),
                        o.admin,
                        n.admin,
                    );
                }
                (None, None) => {}
            }
        }
    }
}
