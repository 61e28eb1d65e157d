//! The random choices behind each kind of declaration. References are [`Index`]es that
//! [`super::write`] resolves against what was actually declared.

use proptest::collection::vec;
use proptest::option;
use proptest::prelude::*;
use proptest::sample::Index;

use super::{
    ART9, BASES, Dur, LText, RECIPIENT_KINDS, SOURCE_KINDS, country, dur, plain, seg, text,
};

#[derive(Debug, Clone)]
pub(super) struct Subject {
    pub(super) seg: String,
    pub(super) name: LText,
    pub(super) description: LText,
    pub(super) contract: usize,
    pub(super) existing_customer: bool,
}

#[derive(Debug, Clone)]
pub(super) struct Source {
    pub(super) seg: String,
    pub(super) kind: usize,
    pub(super) name: LText,
}

#[derive(Debug, Clone)]
pub(super) struct Category {
    pub(super) seg: String,
    pub(super) parent: Option<Index>,
    pub(super) name: LText,
    pub(super) description: Option<LText>,
    pub(super) special: bool,
}

#[derive(Debug, Clone)]
pub(super) struct Scope {
    pub(super) seg: String,
    pub(super) name: LText,
    pub(super) text: LText,
    pub(super) channels: Vec<Index>,
    pub(super) valid_for: Option<Dur>,
}

#[derive(Debug, Clone)]
pub(super) struct Gate {
    pub(super) tracking: bool,
    pub(super) scope: Index,
    pub(super) channels: Vec<Index>,
    pub(super) existing_customer_exception: bool,
}

#[derive(Debug, Clone)]
pub(super) struct Purpose {
    pub(super) seg: String,
    pub(super) name: LText,
    pub(super) description: LText,
    pub(super) basis: usize,
    pub(super) refs: (Option<String>, String),
    pub(super) subjects: Vec<Index>,
    pub(super) categories: Vec<Index>,
    pub(super) sources: Vec<Index>,
    pub(super) scope: Index,
    pub(super) art9: usize,
    pub(super) absolute: bool,
    pub(super) flags: (bool, bool, bool),
    pub(super) gates: Vec<Gate>,
}

#[derive(Debug, Clone)]
pub(super) struct Transfer {
    pub(super) mechanism: Index,
    pub(super) scc_version: String,
    pub(super) scc_module: Option<i64>,
    pub(super) tia_ref: Option<String>,
    /// Written when the mechanism needs it (BCRs, derogations) or `with_reference` says so.
    pub(super) reference: String,
    pub(super) with_reference: bool,
}

#[derive(Debug, Clone)]
pub(super) struct Recipient {
    pub(super) seg: String,
    pub(super) kind: usize,
    pub(super) name: String,
    pub(super) description: LText,
    pub(super) country: Option<&'static str>,
    pub(super) purposes: Vec<Index>,
    pub(super) categories: Vec<Index>,
    pub(super) dpa: (u32, u32, u32),
    pub(super) processor: Index,
    pub(super) transfer: Transfer,
}

#[derive(Debug, Clone)]
pub(super) struct Trigger {
    pub(super) seg: String,
    pub(super) kind: usize,
    pub(super) name: LText,
    pub(super) categories: Vec<Index>,
}

#[derive(Debug, Clone)]
pub(super) struct Retention {
    pub(super) seg: String,
    pub(super) description: LText,
    pub(super) trigger: Index,
    pub(super) categories: Vec<Index>,
    pub(super) purposes: Vec<Index>,
    pub(super) subjects: Vec<Index>,
    pub(super) duration: Dur,
    pub(super) anonymise: bool,
    pub(super) legal_ref: String,
    pub(super) consent_override: Option<(Index, Dur)>,
}

#[derive(Debug, Clone)]
pub(super) struct Exception {
    pub(super) seg: String,
    pub(super) description: LText,
    pub(super) categories: Vec<Index>,
    pub(super) trigger: Index,
    pub(super) duration: Dur,
    pub(super) legal_ref: String,
    pub(super) jurisdiction: &'static str,
}

#[derive(Debug, Clone)]
pub(super) struct Message {
    pub(super) seg: String,
    pub(super) marketing: bool,
    pub(super) name: LText,
    pub(super) purpose: Index,
    pub(super) channels: Vec<Index>,
}

#[derive(Debug, Clone)]
pub(super) struct Role {
    pub(super) seg: String,
    pub(super) description: LText,
    pub(super) all: bool,
    pub(super) categories: Vec<Index>,
    pub(super) admin: bool,
}

pub(super) fn indices(range: std::ops::Range<usize>) -> impl Strategy<Value = Vec<Index>> {
    vec(any::<Index>(), range)
}

pub(super) fn subject() -> BoxedStrategy<Subject> {
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

pub(super) fn source() -> BoxedStrategy<Source> {
    (seg(), 0..SOURCE_KINDS.len(), text())
        .prop_map(|(seg, kind, name)| Source { seg, kind, name })
        .boxed()
}

pub(super) fn category() -> BoxedStrategy<Category> {
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

pub(super) fn scope() -> BoxedStrategy<Scope> {
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

pub(super) fn gate() -> BoxedStrategy<Gate> {
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

pub(super) fn purpose() -> BoxedStrategy<Purpose> {
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

pub(super) fn transfer() -> BoxedStrategy<Transfer> {
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

pub(super) fn recipient() -> BoxedStrategy<Recipient> {
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

pub(super) fn trigger() -> BoxedStrategy<Trigger> {
    (seg(), 0usize..3, text(), indices(0..3))
        .prop_map(|(seg, kind, name, categories)| Trigger {
            seg,
            kind,
            name,
            categories,
        })
        .boxed()
}

pub(super) fn retention() -> BoxedStrategy<Retention> {
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

pub(super) fn exception() -> BoxedStrategy<Exception> {
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

pub(super) fn message() -> BoxedStrategy<Message> {
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

pub(super) fn role() -> BoxedStrategy<Role> {
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
