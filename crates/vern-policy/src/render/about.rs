//! The first half of the notice: who we are, what data, from where, and why (with legal basis).

use crate::category_covers;
use crate::model::{
    Art9Ground, Category, ContractRelation, Gate, GateKind, LegalBasis, Objection, Purpose,
};

use super::Ctx;
use super::doc::{Block, Inline, Item, append, clean, fill, fill_text, paragraphs, sentence};

/// Intro text, controller, group companies, who the notice is for, and the policy version.
pub(crate) fn intro(cx: &Ctx<'_>) -> Vec<Block> {
    let (raw, p) = (&cx.policy.raw, cx.p);
    let mut blocks = paragraphs(cx.t(&raw.notice.intro));

    let c = &raw.controller;
    let mut controller = clean(c.name.get_ref());
    if let Some(org) = &c.org_number {
        controller.push_str(&format!(
            " ({})",
            fill_text(p.org_number, &[("org", org.get_ref())])
        ));
    }
    let address = clean(c.address.get_ref());
    if !address.is_empty() {
        controller.push_str(", ");
        controller.push_str(&address);
    }
    blocks.push(Block::Para(vec![Inline::Text(fill_text(
        p.intro_controller,
        &[("controller", &controller)],
    ))]));

    if !raw.group_entities.is_empty() {
        blocks.push(Block::Para(vec![Inline::text(p.intro_group)]));
        let items = raw.group_entities.iter().map(|g| {
            let mut details = vec![cx.country(g.country.get_ref())];
            if let Some(org) = &g.org_number {
                details.push(fill_text(p.org_number, &[("org", org.get_ref())]));
            }
            Item::new(vec![
                Inline::strong(g.name.get_ref()),
                Inline::Text(format!(" ({})", clean(&details.join(", ")))),
            ])
        });
        blocks.push(Block::List(items.collect()));
    }

    if !raw.subject_types.is_empty() {
        blocks.push(Block::Para(vec![Inline::text(p.intro_subjects)]));
        let items = raw
            .subject_types
            .iter()
            .map(|s| named(cx.t(&s.name), cx.t(&s.description)));
        blocks.push(Block::List(items.collect()));
    }

    blocks.push(Block::Para(vec![Inline::Text(fill_text(
        p.intro_version,
        &[("version", raw.version.get_ref())],
    ))]));
    blocks
}

/// A list item "**name**: description".
pub(crate) fn named(name: &str, description: &str) -> Item {
    let mut content = vec![Inline::strong(name)];
    let description = sentence(description);
    if !description.is_empty() {
        content.push(Inline::Text(format!(": {description}")));
    }
    Item::new(content)
}

/// The category tree, top-level groups first, and the Art. 9 statement (seed S07).
pub(crate) fn data(cx: &Ctx<'_>) -> Vec<Block> {
    let (raw, p) = (&cx.policy.raw, cx.p);
    let mut blocks = Vec::new();
    if raw.categories.is_empty() {
        blocks.push(Block::Para(vec![Inline::text(p.data_none)]));
    } else {
        blocks.push(Block::Para(vec![Inline::text(p.data_lead)]));
        // A category whose parent is not declared is shown at the top level rather than lost.
        let roots = raw
            .categories
            .iter()
            .filter(|c| parent(c.id.get_ref()).is_none_or(|p| cx.policy.category(p).is_none()));
        blocks.push(Block::List(roots.map(|c| category_item(cx, c)).collect()));
    }

    if let Some(statement) = &raw.notice.special_categories_statement {
        blocks.extend(paragraphs(cx.t(statement)));
    }
    let special: Vec<&Category> = raw.categories.iter().filter(|c| c.special).collect();
    if special.is_empty() {
        blocks.push(Block::Para(vec![Inline::text(p.special_none)]));
    } else {
        blocks.push(Block::Para(vec![Inline::text(p.special_some)]));
        let items = special.iter().map(|c| {
            let uses: Vec<String> = raw
                .purposes
                .iter()
                .filter(|purpose| {
                    purpose.categories.get_ref().iter().any(|r| {
                        category_covers(r.get_ref(), c.id.get_ref())
                            || category_covers(c.id.get_ref(), r.get_ref())
                    })
                })
                .filter_map(|purpose| {
                    let ground = purpose.art9_ground.as_ref()?;
                    let (letter, words) = art9(*ground.get_ref(), cx);
                    Some(fill_text(
                        p.special_use,
                        &[
                            ("purpose", &cx.purpose_name(purpose.id.get_ref())),
                            ("ground", words),
                            ("letter", letter),
                        ],
                    ))
                })
                .collect();
            let uses = if uses.is_empty() {
                p.special_unused.to_owned()
            } else {
                uses.join("; ")
            };
            named(cx.t(&c.name), &uses)
        });
        blocks.push(Block::List(items.collect()));
    }
    blocks
}

fn parent(id: &str) -> Option<&str> {
    id.rsplit_once('.').map(|(parent, _)| parent)
}

fn category_item(cx: &Ctx<'_>, c: &Category) -> Item {
    let description = c.description.as_ref().map_or("", |d| cx.t(d));
    let mut item = named(cx.t(&c.name), description);
    item.children = cx
        .policy
        .raw
        .categories
        .iter()
        .filter(|child| parent(child.id.get_ref()) == Some(c.id.get_ref().as_str()))
        .map(|child| category_item(cx, child))
        .collect();
    item
}

fn art9(ground: Art9Ground, cx: &Ctx<'_>) -> (&'static str, &'static str) {
    let p = cx.p;
    match ground {
        Art9Ground::ExplicitConsent => ("a", p.art9_a),
        Art9Ground::EmploymentSocialSecurity => ("b", p.art9_b),
        Art9Ground::VitalInterests => ("c", p.art9_c),
        Art9Ground::NotForProfitBody => ("d", p.art9_d),
        Art9Ground::MadePublicBySubject => ("e", p.art9_e),
        Art9Ground::LegalClaims => ("f", p.art9_f),
        Art9Ground::SubstantialPublicInterest => ("g", p.art9_g),
        Art9Ground::HealthOrSocialCare => ("h", p.art9_h),
        Art9Ground::PublicHealth => ("i", p.art9_i),
        Art9Ground::ArchivingResearchStatistics => ("j", p.art9_j),
    }
}

/// Where the data comes from (S08–S10); each purpose names the sources it uses.
pub(crate) fn sources(cx: &Ctx<'_>) -> Vec<Block> {
    let (raw, p) = (&cx.policy.raw, cx.p);
    if raw.sources.is_empty() {
        return vec![Block::Para(vec![Inline::text(p.sources_none)])];
    }
    // The source's own name says what it is ("Offentlige kilder"); its kind adds nothing a
    // reader needs, and the purposes below say which source feeds what.
    let items = raw
        .sources
        .iter()
        .map(|s| Item::new(vec![Inline::text(cx.t(&s.name))]));
    let mut blocks = vec![
        Block::Para(vec![Inline::text(p.sources_lead)]),
        Block::List(items.collect()),
    ];
    if raw.purposes.iter().any(|x| !x.sources.is_empty()) {
        blocks.push(Block::Para(vec![Inline::text(p.sources_elsewhere)]));
    }
    blocks
}

/// Each purpose with its description, legal basis and what follows from it.
pub(crate) fn purposes(cx: &Ctx<'_>) -> Vec<Block> {
    let (raw, p) = (&cx.policy.raw, cx.p);
    if raw.purposes.is_empty() {
        return vec![Block::Para(vec![Inline::text(p.purposes_none)])];
    }
    let mut blocks = vec![Block::Para(vec![Inline::text(p.purposes_lead)])];
    for purpose in &raw.purposes {
        blocks.push(Block::Subheading(clean(cx.t(&purpose.name))));
        blocks.extend(paragraphs(cx.t(&purpose.description)));
        let lines: Vec<Item> = purpose_lines(cx, purpose)
            .into_iter()
            .filter(|l| !l.is_empty())
            .map(Item::new)
            .collect();
        blocks.push(Block::List(lines));
    }
    blocks
}

fn text_line(s: String) -> Vec<Inline> {
    vec![Inline::Text(clean(&s))]
}

fn purpose_lines(cx: &Ctx<'_>, x: &Purpose) -> Vec<Vec<Inline>> {
    let p = cx.p;
    let basis = *x.legal_basis.get_ref();
    let (letter, words) = match basis {
        LegalBasis::Consent => ("a", p.basis_consent),
        LegalBasis::Contract => ("b", contract_words(cx, x)),
        LegalBasis::LegalObligation => ("c", p.basis_legal_obligation),
        LegalBasis::VitalInterests => ("d", p.basis_vital),
        LegalBasis::PublicTask => ("e", p.basis_public_task),
        LegalBasis::LegitimateInterest => ("f", p.basis_li),
    };
    let mut lines = vec![text_line(fill_text(
        p.basis_line,
        &[("basis", words), ("letter", letter)],
    ))];
    if let Some(r) = &x.legal_basis_ref {
        let template = if basis == LegalBasis::LegalObligation {
            p.basis_ref_obligation
        } else {
            p.basis_ref
        };
        lines.push(text_line(fill_text(template, &[("ref", r.get_ref())])));
    }
    let subjects = cx.subject_types(x.subject_types.get_ref());
    if !subjects.is_empty() {
        lines.push(text_line(fill_text(
            p.applies_to,
            &[("subjects", &subjects)],
        )));
    }
    let categories = cx.categories(x.categories.get_ref());
    if !categories.is_empty() {
        lines.push(text_line(fill_text(
            p.data_used,
            &[("categories", &categories)],
        )));
    }
    if !x.sources.is_empty() {
        let sources = cx.sources(&x.sources);
        lines.push(text_line(fill_text(
            p.sources_used,
            &[("sources", &sources)],
        )));
    }
    if basis == LegalBasis::LegitimateInterest
        && let Some(lia) = &x.lia_ref
    {
        lines.push(text_line(fill_text(p.lia, &[("lia", lia.get_ref())])));
    }
    let mut consent = false;
    if basis == LegalBasis::Consent
        && let Some(scope) = &x.consent_scope
    {
        consent = true;
        let mut line = text_line(fill_text(
            p.consent_scope,
            &[("scope", &cx.consent_scope_name(scope.get_ref()))],
        ));
        if let Some(valid_for) = cx
            .policy
            .consent_scope(scope.get_ref())
            .and_then(|s| s.valid_for.as_ref())
        {
            let duration = super::words::duration(valid_for.get_ref(), p);
            append(
                &mut line,
                text_line(fill_text(p.consent_valid_for, &[("duration", &duration)])),
            );
        }
        lines.push(line);
    }
    for gate in &x.gates {
        consent = true;
        // Two gates (email, SMS) share the existing-customer sentence: say it once.
        for line in gate_lines(cx, gate) {
            if !lines.contains(&line) {
                lines.push(line);
            }
        }
    }
    if consent {
        lines.push(text_line(p.consent_withdraw.to_owned()));
    }
    match x.objection.get_ref() {
        Objection::Relative => lines.push(text_line(p.objection_relative.to_owned())),
        Objection::Absolute if x.direct_marketing => {
            lines.push(text_line(p.objection_absolute_dm.to_owned()));
        }
        Objection::Absolute => lines.push(text_line(p.objection_absolute.to_owned())),
        Objection::NotApplicable => {}
    }
    let note = match (x.direct_marketing, x.profiling) {
        (true, true) => Some(p.note_dm_profiling),
        (true, false) => Some(p.note_dm),
        (false, true) => Some(p.note_profiling),
        (false, false) => None,
    };
    if let Some(note) = note {
        lines.push(text_line(fill_text(note, &[("section", p.h_marketing)])));
    }
    lines
}

/// The contract basis in words, from the purpose's subject types (seed S26: an applicant has
/// no contract yet, so the basis is steps taken at their request before one).
fn contract_words(cx: &Ctx<'_>, x: &Purpose) -> &'static str {
    let relations: Vec<ContractRelation> = x
        .subject_types
        .get_ref()
        .iter()
        .filter_map(|id| cx.policy.subject_type(id.get_ref()))
        .map(|s| *s.contract.get_ref())
        .collect();
    let p = cx.p;
    if !relations.is_empty()
        && relations
            .iter()
            .all(|r| *r == ContractRelation::PreContract)
    {
        p.basis_pre_contract
    } else if !relations.is_empty() && relations.iter().all(|r| *r == ContractRelation::Contract) {
        p.basis_contract
    } else {
        p.basis_contract_either
    }
}

/// What a consent gate means for the person, in one or two sentences.
pub(crate) fn gate_lines(cx: &Ctx<'_>, gate: &Gate) -> Vec<Vec<Inline>> {
    let p = cx.p;
    let scope = cx.consent_scope_name(gate.consent_scope.get_ref());
    match gate.kind.get_ref() {
        GateKind::ElectronicMarketingConsent => {
            let line = if gate.channels.is_empty() {
                fill(p.gate_marketing_any, &[("scope", Inline::text(&scope))])
            } else {
                fill(
                    p.gate_marketing,
                    &[
                        ("channels", Inline::text(&cx.channels(&gate.channels))),
                        ("scope", Inline::text(&scope)),
                    ],
                )
            };
            let mut lines = vec![line];
            if gate.existing_customer_exception {
                lines.push(text_line(p.gate_existing_customer.to_owned()));
            }
            lines
        }
        GateKind::TrackingConsent => {
            vec![fill(p.gate_tracking, &[("scope", Inline::text(&scope))])]
        }
    }
}
