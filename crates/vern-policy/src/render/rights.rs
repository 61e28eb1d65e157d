//! The second half of the notice: rights, marketing opt-out, changes, contact and complaints.

use crate::model::{LegalBasis, MessageClass, MessageKind, Objection, Purpose, SStr};

use super::Ctx;
use super::about::gate_lines;
use super::doc::{Block, Inline, Item, append, clean, fill, fill_text, paragraphs};
use super::words;

fn para(text: &str) -> Block {
    Block::Para(vec![Inline::text(text)])
}

fn labelled(label: &str, text: &str) -> Item {
    Item::new(vec![
        Inline::strong(label),
        Inline::Text(format!(": {text}")),
    ])
}

/// The data subject rights (S43–S50), how to use them and the deadline for answers.
pub(crate) fn rights(cx: &Ctx<'_>) -> Vec<Block> {
    let (raw, p) = (&cx.policy.raw, cx.p);
    let mut items = vec![
        labelled(p.right_access, p.right_access_text),
        labelled(p.right_rectification, p.right_rectification_text),
        labelled(p.right_erasure, p.right_erasure_text),
        labelled(p.right_restriction, p.right_restriction_text),
        labelled(p.right_portability, p.right_portability_text),
    ];
    let mut object = labelled(p.right_object, p.right_object_text);
    let objectable: Vec<SStr> = raw
        .purposes
        .iter()
        .filter(|x| *x.objection.get_ref() != Objection::NotApplicable)
        .map(|x| x.id.clone())
        .collect();
    if !objectable.is_empty() {
        let line = fill_text(
            p.applies_purposes,
            &[("purposes", &cx.purposes(&objectable))],
        );
        append(&mut object.content, vec![Inline::Text(line)]);
    }
    items.push(object);
    let uses_consent = !raw.consent_scopes.is_empty()
        || raw
            .purposes
            .iter()
            .any(|x| *x.legal_basis.get_ref() == LegalBasis::Consent || !x.gates.is_empty());
    if uses_consent {
        items.push(labelled(p.right_withdraw, p.right_withdraw_text));
    }

    let how = fill(
        p.rights_how,
        &[
            ("portal", Inline::url(raw.rights.portal_url.get_ref())),
            ("email", Inline::email(raw.rights.email.get_ref())),
        ],
    );
    vec![
        para(p.rights_lead),
        Block::List(items),
        Block::Para(how),
        para(p.rights_identity),
        para(p.rights_deadline),
        para(p.rights_exceptions),
    ]
}

fn message_items(cx: &Ctx<'_>, kind: MessageKind) -> Vec<Item> {
    cx.policy
        .raw
        .message_classes
        .iter()
        .filter(|m| *m.kind.get_ref() == kind)
        .map(|m: &MessageClass| {
            let mut text = clean(cx.t(&m.name));
            if !m.channels.is_empty() {
                text.push_str(&format!(" ({})", cx.channels(&m.channels)));
            }
            Item::new(vec![Inline::Text(text)])
        })
        .collect()
}

/// Direct marketing and profiling, consent gates, opt-out and objection (S51–S56).
pub(crate) fn marketing(cx: &Ctx<'_>) -> Vec<Block> {
    let (raw, p) = (&cx.policy.raw, cx.p);
    let dm: Vec<&Purpose> = raw.purposes.iter().filter(|x| x.direct_marketing).collect();
    let prof: Vec<&Purpose> = raw.purposes.iter().filter(|x| x.profiling).collect();
    if dm.is_empty() && prof.is_empty() {
        return vec![para(p.marketing_none)];
    }
    let ids = |v: &[&Purpose]| -> Vec<SStr> { v.iter().map(|x| x.id.clone()).collect() };
    let mut kinds = Vec::new();
    if !dm.is_empty() {
        kinds.push(labelled(
            p.label_dm,
            &format!("{}.", cx.purposes(&ids(&dm))),
        ));
    }
    if !prof.is_empty() {
        let text = format!("{}. {}", cx.purposes(&ids(&prof)), p.profiling_def);
        kinds.push(labelled(p.label_profiling, &text));
    }
    let mut blocks = vec![para(p.marketing_lead), Block::List(kinds)];

    let marketing_messages = message_items(cx, MessageKind::Marketing);
    if !marketing_messages.is_empty() {
        blocks.push(para(p.marketing_messages));
        blocks.push(Block::List(marketing_messages));
    }

    // The consent gates of marketing and profiling purposes: each rule once, with the
    // purposes it applies to (several purposes usually share the same email gate).
    let mut gates: Vec<(Vec<Inline>, Vec<SStr>)> = Vec::new();
    for x in raw
        .purposes
        .iter()
        .filter(|x| x.direct_marketing || x.profiling)
    {
        for gate in &x.gates {
            let mut rule = Vec::new();
            for line in gate_lines(cx, gate) {
                append(&mut rule, line);
            }
            match gates.iter_mut().find(|(r, _)| *r == rule) {
                Some((_, purposes)) => purposes.push(x.id.clone()),
                None => gates.push((rule, vec![x.id.clone()])),
            }
        }
    }
    if !gates.is_empty() {
        blocks.push(para(p.marketing_consent));
        let items = gates.into_iter().map(|(mut rule, purposes)| {
            let applies = fill_text(p.applies_purposes, &[("purposes", &cx.purposes(&purposes))]);
            append(&mut rule, vec![Inline::Text(applies)]);
            Item::new(rule)
        });
        blocks.push(Block::List(items.collect()));
    }

    let optout = match (dm.is_empty(), prof.is_empty()) {
        (false, false) => p.optout_both,
        (false, true) => p.optout_marketing,
        _ => p.optout_profiling,
    };
    blocks.push(Block::Para(fill(
        optout,
        &[
            ("portal", Inline::url(raw.rights.portal_url.get_ref())),
            ("email", Inline::email(raw.rights.email.get_ref())),
        ],
    )));
    if !dm.is_empty() {
        blocks.push(para(p.objection_dm));
        let admin = message_items(cx, MessageKind::Administrative);
        if !admin.is_empty() {
            blocks.push(para(p.admin_messages));
            blocks.push(Block::List(admin));
        }
    }
    blocks
}

/// How material changes are announced, and how far ahead (S57).
pub(crate) fn changes(cx: &Ctx<'_>) -> Vec<Block> {
    let (raw, p) = (&cx.policy.raw, cx.p);
    let days = words::days(*raw.changes.notice_days.get_ref(), p);
    let mut by: Vec<String> = Vec::new();
    for channel in &raw.changes.announce_by {
        let words = match channel.get_ref().as_str() {
            "email" => p.announce_email.to_owned(),
            "website" => p.announce_website.to_owned(),
            other => clean(other),
        };
        if !words.is_empty() && !by.contains(&words) {
            by.push(words);
        }
    }
    let announce = if by.is_empty() {
        fill_text(p.changes_announce_plain, &[("days", &days)])
    } else {
        let by = words::join_and(&by, p);
        fill_text(p.changes_announce, &[("by", &by), ("days", &days)])
    };
    let mut first = vec![Inline::text(p.changes_text)];
    append(&mut first, vec![Inline::Text(announce)]);
    vec![
        Block::Para(first),
        Block::Para(vec![Inline::Text(fill_text(
            p.changes_version,
            &[("version", raw.version.get_ref())],
        ))]),
    ]
}

/// One contact detail line "Label: value", the value a link where it is one.
fn detail(label: &str, value: Inline) -> Item {
    Item::new(vec![Inline::Text(format!("{label}: ")), value])
}

/// Controller, data protection contact, where to use rights, and who decides (S58).
pub(crate) fn contact(cx: &Ctx<'_>) -> Vec<Block> {
    let (raw, p) = (&cx.policy.raw, cx.p);
    let c = &raw.controller;
    let mut name = clean(c.name.get_ref());
    if let Some(org) = &c.org_number {
        name.push_str(&format!(
            " ({})",
            fill_text(p.org_number, &[("org", org.get_ref())])
        ));
    }
    let mut controller = labelled(p.label_controller, &name);
    controller
        .children
        .push(detail(p.label_address, Inline::text(c.address.get_ref())));
    controller
        .children
        .push(detail(p.label_email, Inline::email(c.email.get_ref())));
    if let Some(phone) = &c.phone {
        controller
            .children
            .push(detail(p.label_phone, Inline::text(phone.get_ref())));
    }
    controller
        .children
        .push(detail(p.label_website, Inline::url(c.website.get_ref())));

    let d = &raw.data_protection_contact;
    let mut dpc = labelled(p.label_dpc, &clean(d.name.get_ref()));
    dpc.children
        .push(detail(p.label_email, Inline::email(d.email.get_ref())));
    if let Some(phone) = &d.phone {
        dpc.children
            .push(detail(p.label_phone, Inline::text(phone.get_ref())));
    }
    if let Some(address) = &d.address {
        dpc.children
            .push(detail(p.label_address, Inline::text(address.get_ref())));
    }

    let mut rights = Item::new(vec![Inline::strong(p.label_rights)]);
    rights.children = vec![
        detail(p.label_portal, Inline::url(raw.rights.portal_url.get_ref())),
        detail(p.label_email, Inline::email(raw.rights.email.get_ref())),
    ];

    let mut blocks = vec![Block::List(vec![controller, dpc, rights])];
    if let Some(governance) = &raw.notice.governance {
        blocks.extend(paragraphs(cx.t(governance)));
    }
    blocks
}

/// The right to complain and the supervisory authority's contact details (Art. 13(2)(d)).
pub(crate) fn complaint(cx: &Ctx<'_>) -> Vec<Block> {
    let (raw, p) = (&cx.policy.raw, cx.p);
    let sa = &raw.supervisory_authority;
    let mut item = Item::new(vec![
        Inline::strong(sa.name.get_ref()),
        Inline::Text(format!(" ({})", cx.country(sa.country.get_ref()))),
    ]);
    item.children
        .push(detail(p.label_website, Inline::url(sa.website.get_ref())));
    if let Some(email) = &sa.email {
        item.children
            .push(detail(p.label_email, Inline::email(email.get_ref())));
    }
    if let Some(phone) = &sa.phone {
        item.children
            .push(detail(p.label_phone, Inline::text(phone.get_ref())));
    }
    if let Some(address) = &sa.address {
        item.children
            .push(detail(p.label_address, Inline::text(address.get_ref())));
    }
    vec![
        para(p.complaint_lead),
        Block::List(vec![item]),
        para(p.complaint_local),
    ]
}
