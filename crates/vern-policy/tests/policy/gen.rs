//! A proptest strategy for valid policy TOML, for property tests of anything that takes a
//! [`vern_policy::Policy`] (notice, RoPA, diff).
//!
//! The strategy draws a [`Spec`] of independent random choices and then writes TOML from it,
//! resolving every reference against what was actually declared. References are
//! [`Index`]es, which shrink well and never point outside a list, and each rule of
//! `validation-rules.md` is met by construction at resolution time (e.g. a `contract` purpose
//! only takes subject types with a contract, else it falls back to legitimate interest).
//! Texts are arbitrary Unicode, with Markdown/HTML specials, quotes, control characters and
//! line breaks, escaped into TOML basic strings; each contains at least one letter so that no
//! text is blank.

#![allow(dead_code)]

use proptest::collection::vec;
use proptest::option;
use proptest::prelude::*;
use proptest::sample::{Index, select, subsequence};

/// Valid policy TOML: parses, validates, and exercises every kind of declaration.
pub fn valid_policy_toml() -> impl Strategy<Value = String> {
    spec().prop_map(|s| s.to_toml())
}

/// Texts that have broken renderers before or that mean something in Markdown, HTML or TOML.
const NASTY: &[&str] = &[
    "<script>alert(1)</script>",
    "# heading",
    "- item",
    "1. item",
    "| a | b |",
    "**bold** _it_ `code`",
    "[x](javascript:alert(1))",
    "&amp; &lt; &",
    "\"double\" 'single' «guillemets»",
    "back\\slash\\",
    "line\nbreak",
    "\n\npara\n\n",
    "{controller} {purposes}",
    "<!-- comment -->",
    "---",
    "> quote",
    "    indented code",
    "tab\there",
    "ÆØÅ æøå",
    "🙂 emoji",
    "\u{202E}rtl override",
    "nul\u{0}byte",
    "]]> </section> </html>",
    "\r\ncrlf",
    "\u{FEFF}bom \u{FFFF}",
    "trailing two spaces  ",
];

/// One language-independent string with at least one letter in it.
fn plain() -> BoxedStrategy<String> {
    let body = prop_oneof![
        3 => vec(any::<char>(), 0..24).prop_map(|c| c.into_iter().collect::<String>()),
        3 => "[ -~]{0,30}",
        2 => select(NASTY).prop_map(str::to_owned),
        1 => "\\PC{0,20}",
    ];
    (body, "[A-Za-zÆØÅæøå]{1,8}", any::<bool>())
        .prop_map(|(body, word, front)| {
            if front {
                format!("{word} {body}")
            } else {
                format!("{body} {word}")
            }
        })
        .boxed()
}

/// A localized text: one string per possible language (only declared ones are written).
#[derive(Debug, Clone)]
pub struct LText {
    nb: String,
    en: String,
}

fn text() -> BoxedStrategy<LText> {
    (plain(), plain())
        .prop_map(|(nb, en)| LText { nb, en })
        .boxed()
}

/// An id segment of letters (and maybe one underscore); an index is appended to make it
/// unique, and since the segment has no digits the suffix cannot collide.
fn seg() -> impl Strategy<Value = String> {
    "[a-z]{1,4}(_[a-z]{1,4})?"
}

fn email() -> impl Strategy<Value = String> {
    "[a-z0-9._%+-]{1,10}@[a-z0-9-]{1,10}\\.example"
}

fn url() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => "https://[a-z0-9-]{1,10}\\.example(/[a-zA-Z0-9_~%&?=./-]{0,20})?",
        1 => "http://[a-z]{1,8}\\.example",
        // Valid by the rules (it starts with https://) but not a safe link target.
        1 => "https://[!-~]{1,20}",
    ]
}

#[derive(Debug, Clone, Copy)]
struct Dur {
    n: u32,
    unit: usize,
    singular: bool,
}

fn dur() -> impl Strategy<Value = Dur> {
    (1u32..=60, 0usize..3, any::<bool>()).prop_map(|(n, unit, singular)| Dur { n, unit, singular })
}

impl Dur {
    fn text(self) -> String {
        let units = [("day", "days"), ("month", "months"), ("year", "years")];
        let (one, many) = units[self.unit];
        let unit = if self.n == 1 && self.singular {
            one
        } else {
            many
        };
        format!("{} {unit}", self.n)
    }
}

const EEA: &[&str] = &["NO", "SE", "DK", "DE", "FI", "IE", "NL", "IS", "LI", "FR"];
/// Countries with an adequacy decision (the US only for DPF-certified recipients).
const ADEQUATE: &[&str] = &["CH", "GB", "JP", "NZ", "KR", "CA", "IL", "UY", "AR", "AD"];
const OTHER: &[&str] = &["IN", "SG", "AU", "ZA", "MX"];
const CHANNELS: &[&str] = &[
    "email", "sms", "phone", "post", "push", "in_app", "web_chat",
];
const BASES: &[&str] = &[
    "consent",
    "contract",
    "legal_obligation",
    "vital_interests",
    "public_task",
    "legitimate_interest",
];
const ART9: &[&str] = &[
    "explicit_consent",
    "employment_social_security",
    "vital_interests",
    "not_for_profit_body",
    "made_public_by_subject",
    "legal_claims",
    "substantial_public_interest",
    "health_or_social_care",
    "public_health",
    "archiving_research_statistics",
];
const SOURCE_KINDS: &[&str] = &[
    "direct",
    "via_customer",
    "tracking",
    "aggregator",
    "partner",
    "public",
    "social_network",
    "third_party_person",
    "inferred",
];
const RECIPIENT_KINDS: &[&str] = &[
    "group_company",
    "business_partner",
    "authority",
    "public",
    "processor",
    "sub_processor",
];

fn all_countries() -> Vec<&'static str> {
    let mut v = EEA.to_vec();
    v.extend_from_slice(ADEQUATE);
    v.push("US");
    v.extend_from_slice(OTHER);
    v
}

fn country() -> impl Strategy<Value = &'static str> {
    select(all_countries())
}

#[derive(Debug, Clone)]
struct Header {
    langs: Vec<&'static str>,
    version: String,
    channels: Vec<&'static str>,
    controller: (String, &'static str, Option<String>, String, String),
    controller_more: (Option<String>, String, u32, u32),
    dpc: (String, String, Option<String>, Option<String>),
    sa: (
        String,
        &'static str,
        String,
        Option<String>,
        Option<String>,
        Option<String>,
    ),
    notice: (LText, LText, Option<LText>, Option<LText>, Option<LText>),
    rights: (String, String),
    changes: (i64, Vec<&'static str>),
}

fn header() -> BoxedStrategy<Header> {
    let langs = select(vec![
        vec!["nb"],
        vec!["en"],
        vec!["nb", "en"],
        vec!["en", "nb"],
    ]);
    let controller = (plain(), country(), option::of(plain()), plain(), email());
    let controller_more = (option::of(plain()), url(), 1u32..=12, 1u32..=28);
    let dpc = (plain(), email(), option::of(plain()), option::of(plain()));
    let sa = (
        plain(),
        country(),
        url(),
        option::of(email()),
        option::of(plain()),
        option::of(plain()),
    );
    let notice = (
        text(),
        text(),
        option::of(text()),
        option::of(text()),
        option::of(text()),
    );
    let changes = (1i64..=120, subsequence(vec!["email", "website"], 1..=2));
    (
        (
            langs,
            plain(),
            subsequence(CHANNELS.to_vec(), 0..=CHANNELS.len()),
        ),
        (controller, controller_more, dpc, sa),
        (notice, (url(), email()), changes),
    )
        .prop_map(
            |(
                (langs, version, channels),
                (controller, controller_more, dpc, sa),
                (notice, rights, changes),
            )| {
                Header {
                    langs,
                    version,
                    channels,
                    controller,
                    controller_more,
                    dpc,
                    sa,
                    notice,
                    rights,
                    changes,
                }
            },
        )
        .boxed()
}

#[derive(Debug, Clone)]
struct Subject {
    seg: String,
    name: LText,
    description: LText,
    contract: usize,
    existing_customer: bool,
}

#[derive(Debug, Clone)]
struct Source {
    seg: String,
    kind: usize,
    name: LText,
}

#[derive(Debug, Clone)]
struct Category {
    seg: String,
    parent: Option<Index>,
    name: LText,
    description: Option<LText>,
    special: bool,
}

#[derive(Debug, Clone)]
struct Scope {
    seg: String,
    name: LText,
    text: LText,
    channels: Vec<Index>,
    valid_for: Option<Dur>,
}

#[derive(Debug, Clone)]
struct Gate {
    tracking: bool,
    scope: Index,
    channels: Vec<Index>,
    existing_customer_exception: bool,
}

#[derive(Debug, Clone)]
struct Purpose {
    seg: String,
    name: LText,
    description: LText,
    basis: usize,
    refs: (Option<String>, String),
    subjects: Vec<Index>,
    categories: Vec<Index>,
    sources: Vec<Index>,
    scope: Index,
    art9: usize,
    absolute: bool,
    flags: (bool, bool, bool),
    gates: Vec<Gate>,
}

#[derive(Debug, Clone)]
struct Transfer {
    mechanism: Index,
    scc_version: String,
    scc_module: Option<i64>,
    tia_ref: Option<String>,
    /// Written when the mechanism needs it (BCRs, derogations) or `with_reference` says so.
    reference: String,
    with_reference: bool,
}

#[derive(Debug, Clone)]
struct Recipient {
    seg: String,
    kind: usize,
    name: String,
    description: LText,
    country: Option<&'static str>,
    purposes: Vec<Index>,
    categories: Vec<Index>,
    dpa: (u32, u32, u32),
    processor: Index,
    transfer: Transfer,
}

#[derive(Debug, Clone)]
struct Trigger {
    seg: String,
    kind: usize,
    name: LText,
    categories: Vec<Index>,
}

#[derive(Debug, Clone)]
struct Retention {
    seg: String,
    description: LText,
    trigger: Index,
    categories: Vec<Index>,
    purposes: Vec<Index>,
    subjects: Vec<Index>,
    duration: Dur,
    anonymise: bool,
    legal_ref: String,
    consent_override: Option<(Index, Dur)>,
}

#[derive(Debug, Clone)]
struct Exception {
    seg: String,
    description: LText,
    categories: Vec<Index>,
    trigger: Index,
    duration: Dur,
    legal_ref: String,
    jurisdiction: &'static str,
}

#[derive(Debug, Clone)]
struct Message {
    seg: String,
    marketing: bool,
    name: LText,
    purpose: Index,
    channels: Vec<Index>,
}

#[derive(Debug, Clone)]
struct Role {
    seg: String,
    description: LText,
    all: bool,
    categories: Vec<Index>,
    admin: bool,
}

/// Every random choice behind one generated policy.
#[derive(Debug, Clone)]
pub struct Spec {
    header: Header,
    groups: Vec<(String, String, &'static str, Option<String>)>,
    subjects: Vec<Subject>,
    sources: Vec<Source>,
    categories: Vec<Category>,
    reverse_categories: bool,
    scopes: Vec<Scope>,
    purposes: Vec<Purpose>,
    recipients: Vec<Recipient>,
    triggers: Vec<Trigger>,
    retention: Vec<Retention>,
    exceptions: Vec<Exception>,
    messages: Vec<Message>,
    roles: Vec<Role>,
}

fn indices(range: std::ops::Range<usize>) -> impl Strategy<Value = Vec<Index>> {
    vec(any::<Index>(), range)
}

fn subject() -> BoxedStrategy<Subject> {
    (seg(), text(), text(), 0usize..3, any::<bool>())
        .prop_map(
            |(seg, name, description, contract, existing_customer)| Subject {
                seg,
                name,
                description,
                contract,
                existing_customer,
            },
        )
        .boxed()
}

fn source() -> BoxedStrategy<Source> {
    (seg(), 0..SOURCE_KINDS.len(), text())
        .prop_map(|(seg, kind, name)| Source { seg, kind, name })
        .boxed()
}

fn category() -> BoxedStrategy<Category> {
    (
        seg(),
        option::weighted(0.6, any::<Index>()),
        text(),
        option::of(text()),
        prop::bool::weighted(0.15),
    )
        .prop_map(|(seg, parent, name, description, special)| Category {
            seg,
            parent,
            name,
            description,
            special,
        })
        .boxed()
}

fn scope() -> BoxedStrategy<Scope> {
    (seg(), text(), text(), indices(0..3), option::of(dur()))
        .prop_map(|(seg, name, text, channels, valid_for)| Scope {
            seg,
            name,
            text,
            channels,
            valid_for,
        })
        .boxed()
}

fn gate() -> BoxedStrategy<Gate> {
    (any::<bool>(), any::<Index>(), indices(0..3), any::<bool>())
        .prop_map(
            |(tracking, scope, channels, existing_customer_exception)| Gate {
                tracking,
                scope,
                channels,
                existing_customer_exception,
            },
        )
        .boxed()
}

fn purpose() -> BoxedStrategy<Purpose> {
    (
        (seg(), text(), text(), 0..BASES.len()),
        (option::of(plain()), plain()),
        (indices(1..3), indices(1..4), indices(0..3)),
        (any::<Index>(), 0..ART9.len(), any::<bool>()),
        (any::<bool>(), any::<bool>(), any::<bool>()),
        vec(gate(), 0..3),
    )
        .prop_map(
            |(
                (seg, name, description, basis),
                refs,
                (subjects, categories, sources),
                (scope, art9, absolute),
                flags,
                gates,
            )| {
                Purpose {
                    seg,
                    name,
                    description,
                    basis,
                    refs,
                    subjects,
                    categories,
                    sources,
                    scope,
                    art9,
                    absolute,
                    flags,
                    gates,
                }
            },
        )
        .boxed()
}

fn transfer() -> BoxedStrategy<Transfer> {
    (
        any::<Index>(),
        prop_oneof![3 => Just("2021/914".to_owned()), 1 => plain()],
        option::of(1i64..=4),
        option::of(plain()),
        (plain(), any::<bool>()),
    )
        .prop_map(
            |(mechanism, scc_version, scc_module, tia_ref, (reference, with_reference))| Transfer {
                mechanism,
                scc_version,
                scc_module,
                tia_ref,
                reference,
                with_reference,
            },
        )
        .boxed()
}

fn recipient() -> BoxedStrategy<Recipient> {
    (
        (seg(), 0..RECIPIENT_KINDS.len(), plain(), text()),
        (
            option::weighted(0.8, country()),
            indices(1..3),
            indices(1..3),
        ),
        (
            (2018u32..=2030, 1u32..=12, 1u32..=28),
            any::<Index>(),
            transfer(),
        ),
    )
        .prop_map(
            |(
                (seg, kind, name, description),
                (country, purposes, categories),
                (dpa, processor, transfer),
            )| {
                Recipient {
                    seg,
                    kind,
                    name,
                    description,
                    country,
                    purposes,
                    categories,
                    dpa,
                    processor,
                    transfer,
                }
            },
        )
        .boxed()
}

fn trigger() -> BoxedStrategy<Trigger> {
    (seg(), 0usize..3, text(), indices(0..3))
        .prop_map(|(seg, kind, name, categories)| Trigger {
            seg,
            kind,
            name,
            categories,
        })
        .boxed()
}

fn retention() -> BoxedStrategy<Retention> {
    (
        (seg(), text(), any::<Index>(), indices(1..3)),
        (indices(0..3), indices(0..3), dur(), any::<bool>()),
        (plain(), option::of((any::<Index>(), dur()))),
    )
        .prop_map(
            |(
                (seg, description, trigger, categories),
                (purposes, subjects, duration, anonymise),
                (legal_ref, consent_override),
            )| {
                Retention {
                    seg,
                    description,
                    trigger,
                    categories,
                    purposes,
                    subjects,
                    duration,
                    anonymise,
                    legal_ref,
                    consent_override,
                }
            },
        )
        .boxed()
}

fn exception() -> BoxedStrategy<Exception> {
    (
        seg(),
        text(),
        indices(1..3),
        any::<Index>(),
        dur(),
        plain(),
        country(),
    )
        .prop_map(
            |(seg, description, categories, trigger, duration, legal_ref, jurisdiction)| {
                Exception {
                    seg,
                    description,
                    categories,
                    trigger,
                    duration,
                    legal_ref,
                    jurisdiction,
                }
            },
        )
        .boxed()
}

fn message() -> BoxedStrategy<Message> {
    (seg(), any::<bool>(), text(), any::<Index>(), indices(0..3))
        .prop_map(|(seg, marketing, name, purpose, channels)| Message {
            seg,
            marketing,
            name,
            purpose,
            channels,
        })
        .boxed()
}

fn role() -> BoxedStrategy<Role> {
    (seg(), text(), any::<bool>(), indices(1..3), any::<bool>())
        .prop_map(|(seg, description, all, categories, admin)| Role {
            seg,
            description,
            all,
            categories,
            admin,
        })
        .boxed()
}

fn spec() -> BoxedStrategy<Spec> {
    let group = (seg(), plain(), country(), option::of(plain()));
    (
        (
            header(),
            vec(group, 0..3),
            vec(subject(), 1..4),
            vec(source(), 0..4),
        ),
        (
            vec(category(), 1..9),
            any::<bool>(),
            vec(scope(), 0..3),
            vec(purpose(), 0..6),
        ),
        (
            vec(recipient(), 0..6),
            vec(trigger(), 0..4),
            vec(retention(), 0..5),
        ),
        (
            vec(exception(), 0..3),
            vec(message(), 0..4),
            vec(role(), 0..3),
        ),
    )
        .prop_map(
            |(
                (header, groups, subjects, sources),
                (categories, reverse_categories, scopes, purposes),
                (recipients, triggers, retention),
                (exceptions, messages, roles),
            )| {
                Spec {
                    header,
                    groups,
                    subjects,
                    sources,
                    categories,
                    reverse_categories,
                    scopes,
                    purposes,
                    recipients,
                    triggers,
                    retention,
                    exceptions,
                    messages,
                    roles,
                }
            },
        )
        .boxed()
}

mod write;
