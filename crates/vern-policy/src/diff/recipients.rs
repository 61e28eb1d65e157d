//! Diffs of recipients and their third-country transfers: who else gets the data, and where.
//!
//! WP260 ¶30 names new recipients and new transfers as the typical material changes; the
//! classification of each field is argued in the parent module's documentation.

use super::ChangeClass::{Editorial, Material};
use super::{Differ, in_eea, opt, pairs, str_set};
use crate::model::{Recipient, Transfer, TransferMechanism};
use crate::ropa::labels;

impl Differ<'_> {
    pub(crate) fn recipients(&mut self) {
        let (o, n) = (&self.old.raw.recipients, &self.new.raw.recipients);
        for (id, o, n) in pairs(o, n, |r| &r.id) {
            let path = format!("recipient.{id}");
            match (o, n) {
                (None, Some(n)) => {
                    let mut summary = format!(
                        "new recipient {id} ({}",
                        labels::recipient_kind(*n.kind.get_ref())
                    );
                    if let Some(c) = &n.country {
                        summary.push_str(&format!(" in {}", c.get_ref()));
                    }
                    summary.push(')');
                    if let Some(t) = &n.transfer {
                        summary.push_str(&format!(
                            ", a third-country transfer under {}",
                            mechanism(t.get_ref())
                        ));
                    }
                    self.push(Material, &path, summary);
                }
                (Some(_), None) => self.push(Editorial, &path, format!("recipient {id} removed")),
                (Some(o), Some(n)) => self.recipient(&path, &id, o, n),
                (None, None) => {}
            }
        }
    }

    fn recipient(&mut self, path: &str, id: &str, o: &Recipient, n: &Recipient) {
        self.value(
            Material,
            &format!("{path}.name"),
            &format!("legal name of recipient {id} (check it is the same organisation)"),
            o.name.get_ref(),
            n.name.get_ref(),
        );
        self.text(
            &format!("{path}.description"),
            &format!("description of recipient {id}"),
            &o.description,
            &n.description,
        );
        self.value(
            Material,
            &format!("{path}.kind"),
            &format!("kind of recipient {id}"),
            labels::recipient_kind(*o.kind.get_ref()),
            labels::recipient_kind(*n.kind.get_ref()),
        );
        let (oc, nc) = (
            o.country.as_ref().map(|c| c.get_ref().as_str()),
            n.country.as_ref().map(|c| c.get_ref().as_str()),
        );
        if oc != nc {
            let third = |c: Option<&str>| c.is_some_and(|c| !in_eea(c));
            // Into a third country, or from one third country to another: different laws apply.
            let class = if third(nc) { Material } else { Editorial };
            let show = |c: Option<&str>| c.unwrap_or("unstated").to_owned();
            let mut summary = format!("recipient {id} moved from {} to {}", show(oc), show(nc));
            if third(nc) {
                summary.push_str(" (outside the EEA)");
            }
            self.push(class, &format!("{path}.country"), summary);
        }
        self.set(
            Material,
            &format!("{path}.purposes"),
            &format!("purposes recipient {id} receives data for"),
            &str_set(o.purposes.get_ref()),
            &str_set(n.purposes.get_ref()),
        );
        self.category_refs(
            &format!("{path}.categories"),
            &format!("recipient {id}"),
            o.categories.get_ref(),
            n.categories.get_ref(),
        );
        if o.legal_decision_required && !n.legal_decision_required {
            self.push(
                Material,
                &format!("{path}.legal_decision_required"),
                format!("recipient {id} no longer needs a legal decision before disclosure"),
            );
        } else if !o.legal_decision_required && n.legal_decision_required {
            self.push(
                Editorial,
                &format!("{path}.legal_decision_required"),
                format!("recipient {id} now needs a legal decision before disclosure"),
            );
        }
        let date = |r: &Recipient| r.dpa_date.as_ref().map(|d| d.get_ref().to_string());
        self.opt_value(
            Editorial,
            &format!("{path}.dpa_date"),
            &format!("DPA date of recipient {id}"),
            date(o).as_deref(),
            date(n).as_deref(),
        );
        self.opt_value(
            Editorial,
            &format!("{path}.processor"),
            &format!("processor engaging {id}"),
            opt(&o.processor),
            opt(&n.processor),
        );
        self.transfer(
            &format!("{path}.transfer"),
            id,
            nc,
            o.transfer.as_ref().map(|t| t.get_ref()),
            n.transfer.as_ref().map(|t| t.get_ref()),
        );
    }

    fn transfer(
        &mut self,
        path: &str,
        id: &str,
        country: Option<&str>,
        o: Option<&Transfer>,
        n: Option<&Transfer>,
    ) {
        let outside = country.is_some_and(|c| !in_eea(c));
        match (o, n) {
            (None, Some(n)) => {
                let class = if outside { Material } else { Editorial };
                self.push(
                    class,
                    path,
                    format!("new transfer to recipient {id} under {}", mechanism(n)),
                );
            }
            (Some(o), None) => {
                let summary = if outside {
                    format!(
                        "transfer safeguard {} of recipient {id} removed while it stays outside the EEA",
                        mechanism(o)
                    )
                } else {
                    format!("recipient {id} is no longer a third-country transfer")
                };
                self.push(if outside { Material } else { Editorial }, path, summary);
            }
            (Some(o), Some(n)) => {
                let (om, nm) = (
                    labels::transfer_mechanism(*o.mechanism.get_ref()),
                    labels::transfer_mechanism(*n.mechanism.get_ref()),
                );
                self.value(
                    Material,
                    &format!("{path}.mechanism"),
                    &format!("transfer mechanism of recipient {id}"),
                    om,
                    nm,
                );
                self.opt_value(
                    Editorial,
                    &format!("{path}.scc_version"),
                    &format!("SCC version of recipient {id}"),
                    opt(&o.scc_version),
                    opt(&n.scc_version),
                );
                let module = |t: &Transfer| t.scc_module.as_ref().map(|m| m.get_ref().to_string());
                self.opt_value(
                    Editorial,
                    &format!("{path}.scc_module"),
                    &format!("SCC module of recipient {id}"),
                    module(o).as_deref(),
                    module(n).as_deref(),
                );
                self.opt_value(
                    Editorial,
                    &format!("{path}.tia_ref"),
                    &format!("TIA reference of recipient {id}"),
                    opt(&o.tia_ref),
                    opt(&n.tia_ref),
                );
                if o.dpf_certified != n.dpf_certified {
                    let (class, summary) = if n.dpf_certified {
                        (
                            Editorial,
                            format!(
                                "recipient {id} is now certified under the EU-US Data Privacy Framework"
                            ),
                        )
                    } else {
                        (
                            Material,
                            format!(
                                "recipient {id} is no longer certified under the EU-US Data Privacy Framework"
                            ),
                        )
                    };
                    self.push(class, &format!("{path}.dpf_certified"), summary);
                }
                self.opt_value(
                    Editorial,
                    &format!("{path}.reference"),
                    &format!("transfer reference of recipient {id}"),
                    opt(&o.reference),
                    opt(&n.reference),
                );
            }
            (None, None) => {}
        }
    }
}

/// `"SCC 2021/914 (Art. 46(2)(c))"` for summaries.
fn mechanism(t: &Transfer) -> String {
    match (t.mechanism.get_ref(), &t.scc_version) {
        (TransferMechanism::Scc, Some(v)) => {
            format!("SCC {} (Art. 46(2)(c))", v.get_ref())
        }
        (m, _) => labels::transfer_mechanism(*m).to_owned(),
    }
}
