//! Who gets the data (recipients, processors, transfers) and how long it is kept.

use crate::model::{
    Recipient, RecipientKind, RetentionAction, SStr, Transfer, TransferMechanism, TriggerKind,
};

use super::Ctx;
use super::about::named;
use super::doc::{Block, Inline, Item, append, clean, fill_text, paragraphs, sentence};
use super::words;

fn is_processor(r: &Recipient) -> bool {
    matches!(
        r.kind.get_ref(),
        RecipientKind::Processor | RecipientKind::SubProcessor
    )
}

/// Recipients other than processors, grouped by kind (S30–S33).
pub(crate) fn sharing(cx: &Ctx<'_>) -> Vec<Block> {
    let (raw, p) = (&cx.policy.raw, cx.p);
    let has_processors = raw.recipients.iter().any(is_processor);
    if raw.recipients.iter().all(is_processor) {
        let text = if has_processors {
            p.sharing_only_processors
        } else {
            p.sharing_none
        };
        return vec![Block::Para(vec![Inline::text(text)])];
    }
    let mut blocks = vec![Block::Para(vec![Inline::text(p.sharing_lead)])];
    let groups = [
        (RecipientKind::GroupCompany, p.h_group, p.group_lead),
        (
            RecipientKind::BusinessPartner,
            p.h_partners,
            p.partners_lead,
        ),
        (
            RecipientKind::Authority,
            p.h_authorities,
            p.authorities_lead,
        ),
        (RecipientKind::Public, p.h_public, p.public_lead),
    ];
    for (kind, heading, lead) in groups {
        let of_kind: Vec<&Recipient> = raw
            .recipients
            .iter()
            .filter(|r| *r.kind.get_ref() == kind)
            .collect();
        if of_kind.is_empty() {
            continue;
        }
        blocks.push(Block::Subheading(heading.to_owned()));
        blocks.push(Block::Para(vec![Inline::text(lead)]));
        let items = of_kind.iter().map(|r| recipient_item(cx, r));
        blocks.push(Block::List(items.collect()));
    }
    if has_processors {
        blocks.push(Block::Para(vec![Inline::text(p.sharing_processors)]));
    }
    blocks
}

fn recipient_item(cx: &Ctx<'_>, r: &Recipient) -> Item {
    let p = cx.p;
    let mut content = vec![Inline::strong(r.name.get_ref())];
    if let Some(country) = &r.country {
        content.push(Inline::Text(format!(
            " ({})",
            cx.country(country.get_ref())
        )));
    }
    let description = sentence(cx.t(&r.description));
    if !description.is_empty() {
        content.push(Inline::Text(format!(": {description}")));
    }
    let mut more = Vec::new();
    match r.kind.get_ref() {
        RecipientKind::Authority if r.legal_decision_required => more.push(p.legal_decision.into()),
        RecipientKind::Public => more.push(p.public_note.into()),
        _ => {}
    }
    let purposes = cx.purposes(r.purposes.get_ref());
    if !purposes.is_empty() {
        more.push(fill_text(p.recipient_purposes, &[("purposes", &purposes)]));
    }
    let categories = cx.categories(r.categories.get_ref());
    if !categories.is_empty() {
        more.push(fill_text(p.data_used, &[("categories", &categories)]));
    }
    if let Some(t) = &r.transfer {
        let mechanism = mechanism(cx, t.get_ref());
        more.push(fill_text(
            p.recipient_transfer,
            &[("mechanism", &mechanism)],
        ));
    }
    for line in more {
        append(&mut content, vec![Inline::Text(line)]);
    }
    Item::new(content)
}

/// The transfer tool in words, e.g. "EU standard contractual clauses (2021/914, module 3)".
fn mechanism(cx: &Ctx<'_>, t: &Transfer) -> String {
    let p = cx.p;
    let mut text = match t.mechanism.get_ref() {
        TransferMechanism::Adequacy if t.dpf_certified => {
            format!("{}, {}", p.mech_adequacy, p.mech_dpf)
        }
        TransferMechanism::Adequacy => p.mech_adequacy.to_owned(),
        TransferMechanism::Scc => {
            let mut details: Vec<String> =
                t.scc_version.iter().map(|v| clean(v.get_ref())).collect();
            if let Some(module) = &t.scc_module {
                let module = module.get_ref().to_string();
                details.push(fill_text(p.mech_scc_module, &[("module", &module)]));
            }
            if details.is_empty() {
                p.mech_scc_plain.to_owned()
            } else {
                fill_text(p.mech_scc, &[("version", &details.join(", "))])
            }
        }
        TransferMechanism::Bcr => p.mech_bcr.to_owned(),
        TransferMechanism::Derogation => p.mech_derogation.to_owned(),
    };
    if let Some(reference) = &t.reference {
        text.push_str("; ");
        text.push_str(&clean(reference.get_ref()));
    }
    if let Some(tia) = &t.tia_ref {
        text.push_str("; ");
        text.push_str(&fill_text(p.mech_tia, &[("tia", tia.get_ref())]));
    }
    text
}

/// The processor table with DPA and transfer safeguard (S34–S36), and the processor role (S24).
pub(crate) fn processors(cx: &Ctx<'_>) -> Vec<Block> {
    let (raw, p) = (&cx.policy.raw, cx.p);
    let procs: Vec<&Recipient> = raw.recipients.iter().filter(|r| is_processor(r)).collect();
    let mut blocks = Vec::new();
    if procs.is_empty() {
        blocks.push(Block::Para(vec![Inline::text(p.processors_none)]));
    } else {
        let mut lead = vec![Inline::text(p.processors_lead)];
        if procs.iter().all(|r| r.dpa_date.is_some()) {
            append(&mut lead, vec![Inline::text(p.processors_dpa_all)]);
        }
        blocks.push(Block::Para(lead));
        let rows = procs.iter().map(|r| processor_row(cx, r)).collect();
        blocks.push(Block::Table {
            head: [
                p.col_name,
                p.col_service,
                p.col_country,
                p.col_dpa,
                p.col_transfer,
            ]
            .map(str::to_owned)
            .to_vec(),
            rows,
        });
        let mut overview = vec![Inline::text(p.processors_overview)];
        if raw.recipients.iter().any(|r| r.transfer.is_some()) {
            append(&mut overview, vec![Inline::text(p.safeguards_copy)]);
        }
        blocks.push(Block::Para(overview));
    }
    if let Some(role) = &raw.notice.processor_role {
        blocks.push(Block::Subheading(p.h_processor_role.to_owned()));
        blocks.extend(paragraphs(cx.t(role)));
    }
    blocks
}

fn processor_row(cx: &Ctx<'_>, r: &Recipient) -> Vec<Vec<Inline>> {
    let p = cx.p;
    let mut name = clean(r.name.get_ref());
    if *r.kind.get_ref() == RecipientKind::SubProcessor {
        let of = r.processor.as_ref().map_or_else(String::new, |id| {
            cx.policy
                .recipient(id.get_ref())
                .map_or_else(|| clean(id.get_ref()), |x| clean(x.name.get_ref()))
        });
        if !of.is_empty() {
            name.push_str(&format!(
                " ({})",
                fill_text(p.sub_processor_of, &[("processor", &of)])
            ));
        }
    }
    let country = r
        .country
        .as_ref()
        .map_or_else(|| p.not_stated.to_owned(), |c| cx.country(c.get_ref()));
    let dpa = r.dpa_date.as_ref().map_or_else(
        || p.not_stated.to_owned(),
        |d| {
            let date = words::toml_date(d.get_ref(), cx.lang);
            fill_text(p.dpa_signed, &[("date", &date)])
        },
    );
    let transfer = match (&r.transfer, &r.country) {
        (Some(t), _) => words::capitalize(&mechanism(cx, t.get_ref())),
        (None, Some(c)) if words::is_eea(c.get_ref()) => p.within_eea.to_owned(),
        (None, _) => p.not_stated.to_owned(),
    };
    [name, clean(cx.t(&r.description)), country, dpa, transfer]
        .into_iter()
        .map(|cell| vec![Inline::Text(clean(&cell))])
        .collect()
}

/// Retention rules in words, erasure exceptions, and where to ask (S38–S42).
pub(crate) fn retention(cx: &Ctx<'_>) -> Vec<Block> {
    let (raw, p) = (&cx.policy.raw, cx.p);
    let mut blocks = Vec::new();
    if raw.retention.is_empty() {
        blocks.push(Block::Para(vec![Inline::text(p.retention_none)]));
    } else {
        blocks.push(Block::Para(vec![Inline::text(p.retention_lead)]));
        let items = raw.retention.iter().map(|rule| {
            let mut item = named(
                &cx.categories(rule.categories.get_ref()),
                cx.t(&rule.description),
            );
            let mut lines = Vec::new();
            if !rule.subject_types.is_empty() {
                let subjects = cx.subject_types(&rule.subject_types);
                lines.push(fill_text(p.applies_to, &[("subjects", &subjects)]));
            }
            if !rule.purposes.is_empty() {
                let purposes = cx.purposes(&rule.purposes);
                lines.push(fill_text(p.recipient_purposes, &[("purposes", &purposes)]));
            }
            let template = match rule.action.get_ref() {
                RetentionAction::Delete => p.retention_delete,
                RetentionAction::Anonymise => p.retention_anonymise,
            };
            let mut when = fill_text(
                template,
                &[
                    ("duration", &words::duration(rule.duration.get_ref(), p)),
                    ("trigger", &trigger(cx, &rule.trigger)),
                ],
            );
            if let Some(o) = &rule.override_by_consent {
                when.push_str(p.unless_agreed);
                when.push('.');
                let scope = cx.consent_scope_name(o.consent_scope.get_ref());
                let max = words::duration(o.max.get_ref(), p);
                when.push(' ');
                when.push_str(&fill_text(
                    p.override_detail,
                    &[("scope", &scope), ("max", &max)],
                ));
            } else {
                when.push('.');
            }
            lines.push(when);
            lines.push(fill_text(
                p.retention_basis,
                &[("ref", rule.legal_ref.get_ref())],
            ));
            item.children = lines
                .into_iter()
                .map(|l| Item::new(vec![Inline::Text(clean(&l))]))
                .collect();
            item
        });
        blocks.push(Block::List(items.collect()));
    }

    if !raw.erasure_exceptions.is_empty() {
        blocks.push(Block::Subheading(p.h_exceptions.to_owned()));
        blocks.push(Block::Para(vec![Inline::text(p.exceptions_lead)]));
        let items = raw.erasure_exceptions.iter().map(|e| {
            let mut item = named(&cx.categories(e.categories.get_ref()), cx.t(&e.description));
            let kept = fill_text(
                p.exception_kept,
                &[
                    ("duration", &words::duration(e.duration.get_ref(), p)),
                    ("trigger", &trigger(cx, &e.trigger)),
                ],
            );
            let law = fill_text(
                p.exception_law,
                &[
                    ("ref", e.legal_ref.get_ref()),
                    ("country", &cx.country(e.jurisdiction.get_ref())),
                ],
            );
            item.children = vec![
                Item::new(vec![Inline::Text(kept)]),
                Item::new(vec![Inline::Text(law)]),
            ];
            item
        });
        blocks.push(Block::List(items.collect()));
    }
    blocks.push(Block::Para(vec![Inline::text(p.retention_more)]));
    blocks
}

/// The event a period counts from, in words that follow "etter"/"after".
fn trigger(cx: &Ctx<'_>, id: &SStr) -> String {
    let p = cx.p;
    match cx.policy.trigger(id.get_ref()) {
        Some(t) if *t.kind.get_ref() == TriggerKind::FiscalYearEnd => {
            let fye = cx.policy.raw.controller.fiscal_year_end.get_ref();
            let mut text = p.trigger_fiscal.to_owned();
            // Only a fiscal year other than the calendar year needs saying.
            if fye != "12-31"
                && let Some(date) = words::month_day(fye, cx.lang)
            {
                text.push_str(&fill_text(p.fiscal_year_note, &[("date", &date)]));
            }
            text
        }
        Some(t) => clean(cx.t(&t.name)),
        None => clean(id.get_ref()),
    }
}
