//! A proptest strategy for valid policy TOML, for property tests of anything that takes a
//! [`vern_policy::Policy`] (notice, RoPA, diff).
//!
//! The strategy draws a [`Spec`] of independent random choices and then writes TOML from it,
//! resolving every reference against what was actually declared. References are
//! [`proptest::sample::Index`]es, which shrink well and never point outside a list, and each
//! rule of `validation-rules.md` is met by construction at resolution time (e.g. a `contract`
//! purpose only takes subject types with a contract, else it falls back to legitimate
//! interest). Beyond the written rules it also meets the validator's: BCRs and derogations
//! carry a `reference`, URLs have no whitespace.
//! Texts are arbitrary Unicode, with Markdown/HTML specials, quotes, control characters and
//! line breaks, escaped into TOML basic strings; each contains at least one letter so that no
//! text is blank.

use proptest::collection::vec;
use proptest::option;
use proptest::prelude::*;
use proptest::sample::{select, subsequence};

mod items;
mod write;

use items::{
    Category, Exception, Message, Purpose, Recipient, Retention, Role, Scope, Source, Subject,
    Trigger, category, exception, message, purpose, recipient, retention, role, scope, source,
    subject, trigger,
};

/// Valid policy TOML: parses, validates, and exercises every kind of declaration.
pub fn valid_policy_toml() -> impl Strategy<Value = String> {
    spec().prop_map(|s| s.to_toml())
}

/// Texts that mean something in Markdown, HTML or TOML, or that renderers easily get wrong.
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
