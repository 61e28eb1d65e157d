//! Semantic validation: everything a policy must satisfy beyond being well-formed TOML.
//!
//! Every check reports at the exact spot it is about and keeps going, so one run lists every
//! problem. The rules are documented for policy authors in `docs/policy-format.md`; each has a
//! broken fixture under `tests/fixtures/` and a test asserting its message.

use std::collections::{HashMap, HashSet};
use std::ops::Range;

use crate::adequacy;
use crate::category_covers;
use crate::diagnostics::Diagnostics;
use crate::duration::CalendarDuration;
use crate::model::*;

/// Languages vern has notice templates for.
pub const SUPPORTED_LANGUAGES: &[&str] = &["nb", "en"];
/// What a role may be granted besides its categories.
pub const ROLE_PERMISSIONS: &[&str] = &[
    "subjects.read",
    "subjects.write",
    "subjects.erase",
    "audit.read",
    "tokens.manage",
    "disclosures.read",
    "disclosures.write",
    "disclosures.approve",
    "requests.read",
    "requests.write",
    "requests.manage",
    "requests.refuse",
];
/// How material changes can be announced.
const ANNOUNCE_CHANNELS: &[&str] = &["email", "website"];

pub(crate) fn validate(raw: &RawPolicy, source: &str) -> Diagnostics {
    let mut v = Validator {
        raw,
        source,
        d: Diagnostics::default(),
        languages: Vec::new(),
        categories: HashSet::new(),
    };
    v.header();
    v.identity();
    v.declarations();
    v.purposes();
    v.recipients();
    v.triggers_and_retention();
    v.message_classes();
    v.roles();
    v.coverage_warnings();
    v.d
}

struct Validator<'a> {
    raw: &'a RawPolicy,
    /// Only for "first declared on line N" in duplicate-id messages.
    source: &'a str,
    d: Diagnostics,
    languages: Vec<String>,
    categories: HashSet<&'a str>,
}

fn ids<T>(items: &[T], id: impl Fn(&T) -> &SStr) -> HashSet<&str> {
    items.iter().map(|t| id(t).get_ref().as_str()).collect()
}

impl<'a> Validator<'a> {
    fn err(&mut self, span: Range<usize>, message: impl Into<String>) {
        self.d.error(span, message);
    }

    // ---- top level -------------------------------------------------------------------------

    fn header(&mut self) {
        let raw = self.raw;
        if *raw.format.get_ref() != 1 {
            self.err(
                raw.format.span(),
                format!(
                    "unsupported policy format {}: this vern reads format 1",
                    raw.format.get_ref()
                ),
            );
        }
        if raw.version.get_ref().trim().is_empty() {
            self.err(raw.version.span(), "`version` must not be empty");
        }
        if raw.languages.get_ref().is_empty() {
            self.err(
                raw.languages.span(),
                "`languages` must name at least one notice language",
            );
        }
        let mut seen = HashSet::new();
        for lang in raw.languages.get_ref() {
            let l = lang.get_ref();
            if !SUPPORTED_LANGUAGES.contains(&l.as_str()) {
                self.err(
                    lang.span(),
                    format!(
                        "unsupported notice language `{l}` (supported: {})",
                        SUPPORTED_LANGUAGES.join(", ")
                    ),
                );
            } else if !seen.insert(l.clone()) {
                self.err(lang.span(), format!("language `{l}` is listed twice"));
            } else {
                self.languages.push(l.clone());
            }
        }
        let mut channels = HashSet::new();
        for c in &raw.channels {
            self.id_syntax(c, "channel");
            if !channels.insert(c.get_ref()) {
                self.err(c.span(), format!("duplicate channel `{}`", c.get_ref()));
            }
        }
        let changes = &raw.changes;
        if *changes.notice_days.get_ref() < 1 {
            self.err(
                changes.notice_days.span(),
                "`changes.notice_days` must be at least 1: material changes are announced before they take effect",
            );
        }
        for a in &changes.announce_by {
            if !ANNOUNCE_CHANNELS.contains(&a.get_ref().as_str()) {
                self.err(
                    a.span(),
                    format!(
                        "unknown announcement channel `{}` (expected email or website)",
                        a.get_ref()
                    ),
                );
            }
        }
        self.text(&raw.notice.title, "notice.title");
        self.text(&raw.notice.intro, "notice.intro");
        for (t, what) in [
            (
                &raw.notice.special_categories_statement,
                "notice.special_categories_statement",
            ),
            (&raw.notice.governance, "notice.governance"),
            (&raw.notice.processor_role, "notice.processor_role"),
        ] {
            if let Some(t) = t {
                self.text(t, what);
            }
        }
        self.url(&raw.rights.portal_url);
        self.email(&raw.rights.email);
    }

    fn identity(&mut self) {
        let raw = self.raw;
        let c = &raw.controller;
        self.nonempty(&c.name, "controller.name");
        self.nonempty(&c.address, "controller.address");
        self.country(&c.country);
        self.email(&c.email);
        self.url(&c.website);
        if parse_month_day(c.fiscal_year_end.get_ref()).is_none() {
            self.err(
                c.fiscal_year_end.span(),
                format!(
                    "`fiscal_year_end` must be a date as MM-DD, found {:?}",
                    c.fiscal_year_end.get_ref()
                ),
            );
        }
        self.nonempty(
            &raw.data_protection_contact.name,
            "data_protection_contact.name",
        );
        self.email(&raw.data_protection_contact.email);
        let sa = &raw.supervisory_authority;
        self.nonempty(&sa.name, "supervisory_authority.name");
        self.country(&sa.country);
        self.url(&sa.website);
        if let Some(e) = &sa.email {
            self.email(e);
        }
        let mut seen = HashMap::new();
        for g in &raw.group_entities {
            self.declare(&mut seen, &g.id, "group entity");
            self.country(&g.country);
        }
    }

    /// Ids, uniqueness, texts and hierarchy of every declared thing.
    fn declarations(&mut self) {
        let raw = self.raw;
        let mut seen = HashMap::new();
        for s in &raw.subject_types {
            self.declare(&mut seen, &s.id, "subject type");
            self.text(&s.name, "name");
            self.text(&s.description, "description");
        }
        let mut seen = HashMap::new();
        for s in &raw.sources {
            self.declare(&mut seen, &s.id, "source");
            self.text(&s.name, "name");
        }
        let mut seen = HashMap::new();
        for c in &raw.categories {
            self.declare(&mut seen, &c.id, "category");
            self.text(&c.name, "name");
            if let Some(d) = &c.description {
                self.text(d, "description");
            }
            self.categories.insert(c.id.get_ref());
        }
        for c in &raw.categories {
            let id = c.id.get_ref();
            if let Some((parent, _)) = id.rsplit_once('.')
                && !self.categories.contains(parent)
            {
                self.err(
                    c.id.span(),
                    format!("category `{id}` has no parent: declare category `{parent}` first"),
                );
            }
        }
        let mut seen = HashMap::new();
        for s in &raw.consent_scopes {
            self.declare(&mut seen, &s.id, "consent scope");
            self.text(&s.name, "name");
            self.text(&s.text, "text");
            self.channels(&s.channels);
            if let Some(v) = &s.valid_for {
                self.duration(v);
            }
        }
    }

    // ---- purposes ----------------------------------------------------------------------------

    fn purposes(&mut self) {
        let raw = self.raw;
        let mut seen = HashMap::new();
        let subject_types: HashMap<&str, &SubjectType> = raw
            .subject_types
            .iter()
            .map(|s| (s.id.get_ref().as_str(), s))
            .collect();
        let sources = ids(&raw.sources, |s| &s.id);
        let scopes = ids(&raw.consent_scopes, |s| &s.id);
        for p in &raw.purposes {
            let id = p.id.get_ref();
            self.declare(&mut seen, &p.id, "purpose");
            self.text(&p.name, "name");
            self.text(&p.description, "description");
            let basis = *p.legal_basis.get_ref();

            if p.subject_types.get_ref().is_empty() {
                self.err(
                    p.subject_types.span(),
                    format!("purpose `{id}` names no subject types"),
                );
            }
            for st in p.subject_types.get_ref() {
                match subject_types.get(st.get_ref().as_str()) {
                    None => self.unknown(st, "subject type"),
                    Some(t)
                        if basis == LegalBasis::Contract
                            && *t.contract.get_ref() == ContractRelation::None =>
                    {
                        self.err(
                            st.span(),
                            format!(
                                "purpose `{id}` has legal basis contract, but subject type `{}` has no contract with the controller (contract = \"none\"); use legitimate_interest or another basis",
                                st.get_ref()
                            ),
                        );
                    }
                    Some(_) => {}
                }
            }
            if p.categories.get_ref().is_empty() {
                self.err(
                    p.categories.span(),
                    format!("purpose `{id}` names no categories"),
                );
            }
            self.category_refs(p.categories.get_ref(), false);
            for s in &p.sources {
                if !sources.contains(s.get_ref().as_str()) {
                    self.unknown(s, "source");
                }
            }

            match (basis, &p.consent_scope) {
                (LegalBasis::Consent, None) => self.err(
                    p.legal_basis.span(),
                    format!("purpose `{id}` is based on consent but has no `consent_scope`"),
                ),
                (LegalBasis::Consent, Some(s)) => {
                    if !scopes.contains(s.get_ref().as_str()) {
                        self.unknown(s, "consent scope");
                    }
                }
                (_, Some(s)) => self.err(
                    s.span(),
                    format!(
                        "purpose `{id}` is not based on consent, so it cannot have a `consent_scope`; a consent required on top of another basis is a gate"
                    ),
                ),
                (_, None) => {}
            }
            if basis == LegalBasis::LegitimateInterest && p.lia_ref.is_none() {
                self.err(
                    p.legal_basis.span(),
                    format!("purpose `{id}` is based on legitimate interest but has no `lia_ref` (legitimate-interest assessment)"),
                );
            }
            if basis == LegalBasis::LegalObligation && p.legal_basis_ref.is_none() {
                self.err(
                    p.legal_basis.span(),
                    format!("purpose `{id}` is based on a legal obligation but has no `legal_basis_ref` naming the law"),
                );
            }

            if p.art9_ground.is_none() {
                let special: Vec<&str> = p
                    .categories
                    .get_ref()
                    .iter()
                    .flat_map(|r| {
                        raw.categories
                            .iter()
                            .filter(|c| c.special && category_covers(r.get_ref(), c.id.get_ref()))
                    })
                    .map(|c| c.id.get_ref().as_str())
                    .collect();
                if let Some(first) = special.first() {
                    self.err(
                        p.categories.span(),
                        format!(
                            "purpose `{id}` processes special category `{first}` (GDPR Art. 9) but declares no `art9_ground`"
                        ),
                    );
                }
            }

            let objection = *p.objection.get_ref();
            let expected: &[Objection] = if p.direct_marketing {
                &[Objection::Absolute]
            } else if matches!(
                basis,
                LegalBasis::LegitimateInterest | LegalBasis::PublicTask
            ) {
                &[Objection::Relative, Objection::Absolute]
            } else {
                &[Objection::NotApplicable]
            };
            if !expected.contains(&objection) {
                let why = if p.direct_marketing {
                    "objection to direct marketing is absolute (Art. 21(2)-(3))".to_owned()
                } else if expected.contains(&Objection::Relative) {
                    "people may object to processing based on legitimate interest or a public task (Art. 21(1))".to_owned()
                } else {
                    format!(
                        "the right to object does not apply to the basis {}",
                        basis_name(basis)
                    )
                };
                self.err(
                    p.objection.span(),
                    format!(
                        "purpose `{id}`: objection = {} is wrong: {why}",
                        objection_name(objection)
                    ),
                );
            }

            for g in &p.gates {
                if !scopes.contains(g.consent_scope.get_ref().as_str()) {
                    self.unknown(&g.consent_scope, "consent scope");
                }
                self.channels(&g.channels);
            }
        }
    }

    // ---- recipients and transfers ------------------------------------------------------------

    fn recipients(&mut self) {
        let raw = self.raw;
        let mut seen = HashMap::new();
        let purposes: HashMap<&str, &Purpose> = raw
            .purposes
            .iter()
            .map(|p| (p.id.get_ref().as_str(), p))
            .collect();
        let kinds: HashMap<&str, RecipientKind> = raw
            .recipients
            .iter()
            .map(|r| (r.id.get_ref().as_str(), *r.kind.get_ref()))
            .collect();
        for r in &raw.recipients {
            let id = r.id.get_ref();
            let kind = *r.kind.get_ref();
            self.declare(&mut seen, &r.id, "recipient");
            self.nonempty(&r.name, "name");
            self.text(&r.description, "description");
            if r.purposes.get_ref().is_empty() {
                self.err(
                    r.purposes.span(),
                    format!("recipient `{id}` names no purposes"),
                );
            }
            let mut own: Vec<&Purpose> = Vec::new();
            for p in r.purposes.get_ref() {
                match purposes.get(p.get_ref().as_str()) {
                    Some(p) => own.push(p),
                    None => self.unknown(p, "purpose"),
                }
            }
            self.category_refs(r.categories.get_ref(), false);
            for c in r.categories.get_ref() {
                let allowed = own.iter().any(|p| {
                    p.categories.get_ref().iter().any(|pc| {
                        category_covers(pc.get_ref(), c.get_ref())
                            || self.categories.iter().any(|leaf| {
                                category_covers(c.get_ref(), leaf)
                                    && category_covers(pc.get_ref(), leaf)
                            })
                    })
                });
                if !allowed && !own.is_empty() {
                    self.err(
                        c.span(),
                        format!("recipient `{id}` receives category `{}`, which none of its purposes processes", c.get_ref()),
                    );
                }
            }
            if let Some(country) = &r.country {
                self.country(country);
            }
            if matches!(kind, RecipientKind::Processor | RecipientKind::SubProcessor) {
                if r.country.is_none() {
                    self.err(
                        r.kind.span(),
                        format!("{} `{id}` needs `country`", kind_name(kind)),
                    );
                }
                if r.dpa_date.is_none() {
                    self.err(
                        r.kind.span(),
                        format!("{} `{id}` needs `dpa_date`: processors act only under a data processing agreement (Art. 28(3))", kind_name(kind)),
                    );
                }
            }
            if let Some(d) = &r.dpa_date
                && (d.get_ref().date.is_none() || d.get_ref().time.is_some())
            {
                self.err(d.span(), "`dpa_date` must be a date like 2024-05-01");
            }
            match (kind, &r.processor) {
                (RecipientKind::SubProcessor, None) => self.err(
                    r.kind.span(),
                    format!(
                        "sub-processor `{id}` needs `processor`: the processor that engages it"
                    ),
                ),
                (RecipientKind::SubProcessor, Some(p)) => match kinds.get(p.get_ref().as_str()) {
                    None => self.unknown(p, "recipient"),
                    Some(RecipientKind::Processor) => {}
                    Some(other) => self.err(
                        p.span(),
                        format!(
                            "`{}` is a {}, not a processor",
                            p.get_ref(),
                            kind_name(*other)
                        ),
                    ),
                },
                (_, Some(p)) => self.err(p.span(), "`processor` is only for sub-processors"),
                (_, None) => {}
            }
            if kind == RecipientKind::Authority && !r.legal_decision_required {
                self.err(
                    r.kind.span(),
                    format!("authority `{id}` must have `legal_decision_required = true`: data goes to authorities only on a legal decision"),
                );
            }
            self.transfer(r);
        }
    }

    fn transfer(&mut self, r: &Recipient) {
        let id = r.id.get_ref();
        let Some(country) = &r.country else {
            if let Some(t) = &r.transfer {
                self.err(
                    t.span(),
                    format!("recipient `{id}` has a transfer but no `country`"),
                );
            }
            return;
        };
        let code = country.get_ref().as_str();
        let Some(t) = &r.transfer else {
            if !adequacy::is_eea(code) && code.len() == 2 {
                self.err(
                    country.span(),
                    format!(
                        "recipient `{id}` in {code} is outside the EEA and has no `transfer` mechanism (adequacy, scc, bcr or derogation; GDPR Chapter V)"
                    ),
                );
            }
            return;
        };
        if adequacy::is_eea(code) {
            self.d.warning(
                t.span(),
                format!("recipient `{id}` is in the EEA ({code}); no transfer mechanism is needed"),
            );
            return;
        }
        let t = t.get_ref();
        match t.mechanism.get_ref() {
            TransferMechanism::Adequacy => match adequacy::adequacy(code) {
                None => self.err(
                    t.mechanism.span(),
                    format!("{code} has no EU adequacy decision; recipient `{id}` needs SCCs, BCRs or a derogation"),
                ),
                Some(a) if a.requires_dpf_certification && !t.dpf_certified => self.err(
                    t.mechanism.span(),
                    format!(
                        "the adequacy decision for {} covers only {}: set `dpf_certified = true` if `{id}` is certified, or use SCCs",
                        a.name, a.scope
                    ),
                ),
                Some(_) => {}
            },
            TransferMechanism::Scc => {
                if t.scc_version.is_none() {
                    self.err(
                        t.mechanism.span(),
                        format!("recipient `{id}`: standard contractual clauses need `scc_version` (e.g. \"2021/914\")"),
                    );
                }
                if let Some(m) = &t.scc_module
                    && !(1..=4).contains(m.get_ref()) {
                        self.err(m.span(), "`scc_module` must be 1, 2, 3 or 4");
                    }
            }
            TransferMechanism::Bcr | TransferMechanism::Derogation => {
                if t.reference.is_none() {
                    self.err(
                        t.mechanism.span(),
                        format!("recipient `{id}`: BCRs and derogations need `reference` (approval or Art. 49 ground)"),
                    );
                }
            }
        }
    }

    // ---- retention -------------------------------------------------------------------------

    fn triggers_and_retention(&mut self) {
        let raw = self.raw;
        let mut seen = HashMap::new();
        for t in &raw.triggers {
            self.declare(&mut seen, &t.id, "trigger");
            self.text(&t.name, "name");
            self.category_refs(&t.categories, false);
        }
        let triggers: HashMap<&str, &Trigger> = raw
            .triggers
            .iter()
            .map(|t| (t.id.get_ref().as_str(), t))
            .collect();
        let purposes = ids(&raw.purposes, |p| &p.id);
        let subject_types = ids(&raw.subject_types, |s| &s.id);
        let scopes = ids(&raw.consent_scopes, |s| &s.id);

        let mut seen = HashMap::new();
        for r in &raw.retention {
            self.declare(&mut seen, &r.id, "retention rule");
            self.text(&r.description, "description");
            self.nonempty(&r.legal_ref, "legal_ref");
            self.duration(&r.duration);
            if r.categories.get_ref().is_empty() {
                self.err(
                    r.categories.span(),
                    format!("retention rule `{}` names no categories", r.id.get_ref()),
                );
            }
            self.category_refs(r.categories.get_ref(), false);
            for p in &r.purposes {
                if !purposes.contains(p.get_ref().as_str()) {
                    self.unknown(p, "purpose");
                }
            }
            for s in &r.subject_types {
                if !subject_types.contains(s.get_ref().as_str()) {
                    self.unknown(s, "subject type");
                }
            }
            self.trigger_fits(
                &triggers,
                &r.trigger,
                r.categories.get_ref(),
                "retention rule",
                r.id.get_ref(),
            );
            if let Some(o) = &r.override_by_consent {
                if !scopes.contains(o.consent_scope.get_ref().as_str()) {
                    self.unknown(&o.consent_scope, "consent scope");
                }
                self.duration(&o.max);
            }
        }

        let mut seen = HashMap::new();
        for e in &raw.erasure_exceptions {
            self.declare(&mut seen, &e.id, "erasure exception");
            self.text(&e.description, "description");
            self.nonempty(&e.legal_ref, "legal_ref");
            self.country(&e.jurisdiction);
            self.duration(&e.duration);
            self.category_refs(e.categories.get_ref(), false);
            self.trigger_fits(
                &triggers,
                &e.trigger,
                e.categories.get_ref(),
                "erasure exception",
                e.id.get_ref(),
            );
        }
    }

    /// The trigger exists and can occur for every category in the rule's scope.
    fn trigger_fits(
        &mut self,
        triggers: &HashMap<&str, &Trigger>,
        trigger: &SStr,
        scope: &[SStr],
        what: &str,
        id: &str,
    ) {
        let Some(t) = triggers.get(trigger.get_ref().as_str()) else {
            self.unknown(trigger, "trigger");
            return;
        };
        if t.categories.is_empty() {
            return;
        }
        for c in scope {
            let fits = t.categories.iter().any(|tc| {
                category_covers(tc.get_ref(), c.get_ref())
                    || category_covers(c.get_ref(), tc.get_ref())
            });
            if !fits {
                self.err(
                    c.span(),
                    format!(
                        "{what} `{id}`: trigger `{}` never occurs for category `{}` (it occurs only for {})",
                        trigger.get_ref(),
                        c.get_ref(),
                        t.categories.iter().map(|c| format!("`{}`", c.get_ref())).collect::<Vec<_>>().join(", ")
                    ),
                );
            }
        }
    }

    // ---- message classes and roles -----------------------------------------------------------

    fn message_classes(&mut self) {
        let raw = self.raw;
        let purposes: HashMap<&str, &Purpose> = raw
            .purposes
            .iter()
            .map(|p| (p.id.get_ref().as_str(), p))
            .collect();
        let mut seen = HashMap::new();
        for m in &raw.message_classes {
            self.declare(&mut seen, &m.id, "message class");
            self.text(&m.name, "name");
            self.channels(&m.channels);
            let Some(p) = purposes.get(m.purpose.get_ref().as_str()) else {
                self.unknown(&m.purpose, "purpose");
                continue;
            };
            let basis = *p.legal_basis.get_ref();
            match m.kind.get_ref() {
                MessageKind::Marketing
                    if !matches!(basis, LegalBasis::Consent | LegalBasis::LegitimateInterest) =>
                {
                    self.err(
                        m.purpose.span(),
                        format!(
                            "marketing message class `{}` is routed through purpose `{}`, whose basis is {}; marketing needs consent or legitimate interest",
                            m.id.get_ref(),
                            p.id.get_ref(),
                            basis_name(basis)
                        ),
                    );
                }
                MessageKind::Administrative if p.direct_marketing => {
                    self.err(
                        m.purpose.span(),
                        format!(
                            "administrative message class `{}` is routed through the direct-marketing purpose `{}`; administrative messages must not carry marketing",
                            m.id.get_ref(),
                            p.id.get_ref()
                        ),
                    );
                }
                _ => {}
            }
        }
    }

    fn roles(&mut self) {
        let mut seen = HashMap::new();
        for r in &self.raw.roles {
            self.declare(&mut seen, &r.id, "role");
            self.text(&r.description, "description");
            self.category_refs(r.categories.get_ref(), true);
            for perm in &r.permissions {
                if !ROLE_PERMISSIONS.contains(&perm.get_ref().as_str()) {
                    self.err(
                        perm.span(),
                        format!(
                            "unknown permission `{}` (expected one of {})",
                            perm.get_ref(),
                            ROLE_PERMISSIONS.join(", ")
                        ),
                    );
                }
            }
        }
    }

    fn coverage_warnings(&mut self) {
        let raw = self.raw;
        // A leaf category that some purpose processes but no retention rule covers has no
        // defined storage limit (Art. 5(1)(e)); the notice would have to say "as long as needed".
        for c in &raw.categories {
            let leaf = c.id.get_ref().as_str();
            let is_leaf = !raw.categories.iter().any(|o| {
                o.id.get_ref().len() > leaf.len() && category_covers(leaf, o.id.get_ref())
            });
            let processed = raw.purposes.iter().any(|p| {
                p.categories
                    .get_ref()
                    .iter()
                    .any(|r| category_covers(r.get_ref(), leaf))
            });
            let covered = raw.retention.iter().any(|r| {
                r.categories
                    .get_ref()
                    .iter()
                    .any(|rc| category_covers(rc.get_ref(), leaf))
            });
            if is_leaf && processed && !covered {
                self.d.warning(
                    c.id.span(),
                    format!("no retention rule covers category `{leaf}`, which purposes process"),
                );
            }
        }
        for s in &raw.subject_types {
            let used = raw.purposes.iter().any(|p| {
                p.subject_types
                    .get_ref()
                    .iter()
                    .any(|t| t.get_ref() == s.id.get_ref())
            });
            if !used {
                self.d.warning(
                    s.id.span(),
                    format!("no purpose processes subject type `{}`", s.id.get_ref()),
                );
            }
        }
    }

    // ---- helpers -----------------------------------------------------------------------------

    /// Checks id syntax and uniqueness within one kind of thing.
    fn declare(&mut self, seen: &mut HashMap<String, Range<usize>>, id: &SStr, kind: &str) {
        self.id_syntax(id, kind);
        if let Some(first) = seen.get(id.get_ref()) {
            let (line, _) = crate::diagnostics::line_col(self.source, first.start);
            self.err(
                id.span(),
                format!(
                    "duplicate {kind} id `{}` (first declared on line {line})",
                    id.get_ref()
                ),
            );
        } else {
            seen.insert(id.get_ref().clone(), id.span());
        }
    }

    fn id_syntax(&mut self, id: &SStr, kind: &str) {
        let ok = !id.get_ref().is_empty()
            && id.get_ref().split('.').all(|seg| {
                let mut chars = seg.chars();
                chars.next().is_some_and(|c| c.is_ascii_lowercase())
                    && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
            });
        if !ok {
            self.err(
                id.span(),
                format!(
                    "invalid {kind} id {:?}: use lowercase segments of a-z, 0-9 and _ joined by dots",
                    id.get_ref()
                ),
            );
        }
    }

    fn unknown(&mut self, reference: &SStr, kind: &str) {
        self.err(
            reference.span(),
            format!("unknown {kind} `{}`", reference.get_ref()),
        );
    }

    fn category_refs(&mut self, refs: &[SStr], allow_all: bool) {
        for r in refs {
            let name = r.get_ref().as_str();
            if name == "*" {
                if !allow_all {
                    self.err(r.span(), "`*` (every category) is only allowed in roles");
                }
                continue;
            }
            if !self.categories.iter().any(|c| category_covers(name, c)) {
                self.unknown(r, "category");
            }
        }
    }

    fn channels(&mut self, channels: &[SStr]) {
        for c in channels {
            if !self.raw.channels.iter().any(|d| d.get_ref() == c.get_ref()) {
                self.err(
                    c.span(),
                    format!(
                        "unknown channel `{}` (declare it in the top-level `channels`)",
                        c.get_ref()
                    ),
                );
            }
        }
    }

    /// Every declared language present, no others, none blank.
    fn text(&mut self, text: &Text, what: &str) {
        let map = text.get_ref();
        let missing: Vec<&str> = self
            .languages
            .iter()
            .filter(|l| !map.contains_key(l.as_str()))
            .map(String::as_str)
            .collect();
        if !missing.is_empty() {
            self.err(
                text.span(),
                format!("`{what}` has no text in {}", missing.join(", ")),
            );
        }
        for (lang, value) in map {
            if !self.languages.contains(lang) && SUPPORTED_LANGUAGES.contains(&lang.as_str()) {
                self.err(
                    text.span(),
                    format!("`{what}` has text in `{lang}`, which is not in `languages`"),
                );
            } else if !SUPPORTED_LANGUAGES.contains(&lang.as_str()) {
                self.err(
                    text.span(),
                    format!("`{what}` has text in unknown language `{lang}`"),
                );
            } else if value.trim().is_empty() {
                self.err(text.span(), format!("`{what}` is empty in `{lang}`"));
            }
        }
    }

    fn duration(&mut self, d: &SStr) {
        if let Err(e) = CalendarDuration::parse(d.get_ref()) {
            self.err(d.span(), e.to_string());
        }
    }

    fn nonempty(&mut self, s: &SStr, what: &str) {
        if s.get_ref().trim().is_empty() {
            self.err(s.span(), format!("`{what}` must not be empty"));
        }
    }

    fn country(&mut self, c: &SStr) {
        let v = c.get_ref();
        if v.len() != 2 || !v.bytes().all(|b| b.is_ascii_uppercase()) {
            self.err(
                c.span(),
                format!("country must be an ISO 3166-1 alpha-2 code like \"NO\", found {v:?}"),
            );
        }
    }

    fn email(&mut self, e: &SStr) {
        let v = e.get_ref();
        let ok = v.split_once('@').is_some_and(|(local, domain)| {
            !local.is_empty() && domain.contains('.') && !v.contains(char::is_whitespace)
        });
        if !ok {
            self.err(e.span(), format!("not an email address: {v:?}"));
        }
    }

    fn url(&mut self, u: &SStr) {
        let v = u.get_ref();
        let rest = v
            .strip_prefix("https://")
            .or_else(|| v.strip_prefix("http://"));
        if !rest.is_some_and(|r| !r.is_empty() && !r.contains(char::is_whitespace)) {
            self.err(u.span(), format!("not an http(s) URL: {v:?}"));
        }
    }
}

fn parse_month_day(s: &str) -> Option<(u8, u8)> {
    let (m, d) = s.split_once('-')?;
    if m.len() != 2 || d.len() != 2 {
        return None;
    }
    let month: u8 = m.parse().ok()?;
    let day: u8 = d.parse().ok()?;
    let month = time::Month::try_from(month).ok()?;
    // A fiscal year end recurs every year, so 29 February is not allowed.
    (day >= 1 && day <= month.length(2025)).then_some((month as u8, day))
}

pub(crate) fn basis_name(b: LegalBasis) -> &'static str {
    match b {
        LegalBasis::Consent => "consent (Art. 6(1)(a))",
        LegalBasis::Contract => "contract (Art. 6(1)(b))",
        LegalBasis::LegalObligation => "legal obligation (Art. 6(1)(c))",
        LegalBasis::VitalInterests => "vital interests (Art. 6(1)(d))",
        LegalBasis::PublicTask => "public task (Art. 6(1)(e))",
        LegalBasis::LegitimateInterest => "legitimate interest (Art. 6(1)(f))",
    }
}

fn objection_name(o: Objection) -> &'static str {
    match o {
        Objection::Absolute => "\"absolute\"",
        Objection::Relative => "\"relative\"",
        Objection::NotApplicable => "\"not_applicable\"",
    }
}

fn kind_name(k: RecipientKind) -> &'static str {
    match k {
        RecipientKind::GroupCompany => "group company",
        RecipientKind::BusinessPartner => "business partner",
        RecipientKind::Authority => "authority",
        RecipientKind::Public => "public",
        RecipientKind::Processor => "processor",
        RecipientKind::SubProcessor => "sub-processor",
    }
}
