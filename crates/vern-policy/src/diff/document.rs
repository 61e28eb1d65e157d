//! Diffs of the document-level sections: format, version, languages, channels, controller,
//! contacts, notice texts, rights, the change-notice promise and group entities.
//!
//! The classification of each field is argued in the parent module's documentation.

use super::ChangeClass::{Editorial, Material};
use super::{ChangeClass, Differ, list, opt, pairs, str_set};
use crate::model::{SStr, TriggerKind};

/// `(field, old, new)` of an optional or required string field.
type Field<'p> = (&'p str, Option<&'p str>, Option<&'p str>);

fn req(s: &SStr) -> Option<&str> {
    Some(s.get_ref().as_str())
}

impl Differ<'_> {
    /// Several string fields of one section, all of class `class`, at `section.field`.
    fn fields(&mut self, class: ChangeClass, section: &str, label: &str, fields: &[Field<'_>]) {
        for (field, old, new) in fields {
            let what = format!("{label} {}", field.replace('_', " "));
            self.opt_value(class, &format!("{section}.{field}"), &what, *old, *new);
        }
    }

    pub(crate) fn top_level(&mut self) {
        let (o, n) = (&self.old.raw, &self.new.raw);
        let (of, nf) = (
            o.format.get_ref().to_string(),
            n.format.get_ref().to_string(),
        );
        self.value(Editorial, "format", "file format", &of, &nf);
        self.value(
            Editorial,
            "version",
            "version label",
            o.version.get_ref(),
            n.version.get_ref(),
        );
        // A set: the order only picks the fallback language.
        let (ol, nl) = (
            str_set(o.languages.get_ref()),
            str_set(n.languages.get_ref()),
        );
        self.set(Editorial, "languages", "notice languages", &ol, &nl);
        let (oc, nc) = (str_set(&o.channels), str_set(&n.channels));
        self.set(Editorial, "channels", "declared channels", &oc, &nc);
    }

    pub(crate) fn controller(&mut self) {
        let (o, n) = (&self.old.raw.controller, &self.new.raw.controller);
        // Name, number and country are who the controller is (and which authority leads).
        self.fields(
            Material,
            "controller",
            "controller identity:",
            &[
                ("name", req(&o.name), req(&n.name)),
                ("org_number", opt(&o.org_number), opt(&n.org_number)),
                ("country", req(&o.country), req(&n.country)),
            ],
        );
        self.fields(
            Editorial,
            "controller",
            "controller",
            &[
                ("address", req(&o.address), req(&n.address)),
                ("email", req(&o.email), req(&n.email)),
                ("phone", opt(&o.phone), opt(&n.phone)),
                ("website", req(&o.website), req(&n.website)),
            ],
        );
        // Fiscal-year retention counts from this date: moving it moves deletion dates.
        let new = &self.new.raw;
        let fiscal_clock = new.triggers.iter().any(|t| {
            let id = t.id.get_ref();
            *t.kind.get_ref() == TriggerKind::FiscalYearEnd
                && (new.retention.iter().any(|r| r.trigger.get_ref() == id)
                    || new
                        .erasure_exceptions
                        .iter()
                        .any(|e| e.trigger.get_ref() == id))
        });
        let class = if fiscal_clock { Material } else { Editorial };
        self.value(
            class,
            "controller.fiscal_year_end",
            "fiscal year end (start of fiscal-year retention periods)",
            o.fiscal_year_end.get_ref(),
            n.fiscal_year_end.get_ref(),
        );
    }

    pub(crate) fn contacts(&mut self) {
        let (o, n) = (
            &self.old.raw.data_protection_contact,
            &self.new.raw.data_protection_contact,
        );
        self.fields(
            Editorial,
            "data_protection_contact",
            "data protection contact",
            &[
                ("name", req(&o.name), req(&n.name)),
                ("email", req(&o.email), req(&n.email)),
                ("phone", opt(&o.phone), opt(&n.phone)),
                ("address", opt(&o.address), opt(&n.address)),
            ],
        );
        let (o, n) = (
            &self.old.raw.supervisory_authority,
            &self.new.raw.supervisory_authority,
        );
        self.fields(
            Editorial,
            "supervisory_authority",
            "supervisory authority",
            &[
                ("name", req(&o.name), req(&n.name)),
                ("country", req(&o.country), req(&n.country)),
                ("website", req(&o.website), req(&n.website)),
                ("email", opt(&o.email), opt(&n.email)),
                ("phone", opt(&o.phone), opt(&n.phone)),
                ("address", opt(&o.address), opt(&n.address)),
            ],
        );
        let (o, n) = (&self.old.raw.rights, &self.new.raw.rights);
        self.fields(
            Editorial,
            "rights",
            "rights",
            &[
                ("portal_url", req(&o.portal_url), req(&n.portal_url)),
                ("email", req(&o.email), req(&n.email)),
            ],
        );
    }

    pub(crate) fn notice(&mut self) {
        let (o, n) = (&self.old.raw.notice, &self.new.raw.notice);
        self.text("notice.title", "notice title", &o.title, &n.title);
        self.text("notice.intro", "notice introduction", &o.intro, &n.intro);
        let optional = [
            (
                "special_categories_statement",
                &o.special_categories_statement,
                &n.special_categories_statement,
            ),
            ("governance", &o.governance, &n.governance),
            ("processor_role", &o.processor_role, &n.processor_role),
        ];
        for (field, old, new) in optional {
            let what = format!("notice {} text", field.replace('_', " "));
            self.opt_text(
                &format!("notice.{field}"),
                &what,
                old.as_ref(),
                new.as_ref(),
            );
        }
    }

    pub(crate) fn changes_section(&mut self) {
        let (o, n) = (&self.old.raw.changes, &self.new.raw.changes);
        let (od, nd) = (*o.notice_days.get_ref(), *n.notice_days.get_ref());
        if od != nd {
            // Less warning before future material changes weakens a promise to everyone.
            let class = if nd < od { Material } else { Editorial };
            let summary =
                format!("advance notice of material changes changed from {od} to {nd} days");
            self.push(class, "changes.notice_days", summary);
        }
        // Fewer announcement channels reach fewer people: here removals are material and
        // additions editorial, the reverse of the usual widening rule.
        let (oa, na) = (str_set(&o.announce_by), str_set(&n.announce_by));
        let removed: Vec<&str> = oa.difference(&na).copied().collect();
        let added: Vec<&str> = na.difference(&oa).copied().collect();
        if !removed.is_empty() {
            let summary = format!("material changes no longer announced by {}", list(&removed));
            self.push(Material, "changes.announce_by", summary);
        }
        if !added.is_empty() {
            let summary = format!("material changes also announced by {}", list(&added));
            self.push(Editorial, "changes.announce_by", summary);
        }
    }

    pub(crate) fn group_entities(&mut self) {
        let (old, new) = (self.old, self.new);
        let (o, n) = (&old.raw.group_entities, &new.raw.group_entities);
        for (id, o, n) in pairs(o, n, |g| &g.id) {
            let path = format!("group_entity.{id}");
            match (o, n) {
                // Data reaches a group company only as a recipient; that is classified there.
                (None, Some(_)) => self.push(Editorial, &path, format!("group entity {id} added")),
                (Some(_), None) => {
                    self.push(Editorial, &path, format!("group entity {id} removed"));
                }
                (Some(o), Some(n)) => self.fields(
                    Editorial,
                    &path,
                    &format!("group entity {id}"),
                    &[
                        ("name", req(&o.name), req(&n.name)),
                        ("country", req(&o.country), req(&n.country)),
                        ("org_number", opt(&o.org_number), opt(&n.org_number)),
                    ],
                ),
                (None, None) => {}
            }
        }
    }
}
