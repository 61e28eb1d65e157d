//! Writing a [`Spec`] as TOML, resolving its references so that every validation rule holds.

use std::fmt::Write as _;

use proptest::sample::Index;

use super::{ADEQUATE, ART9, BASES, EEA, LText, RECIPIENT_KINDS, SOURCE_KINDS, Spec};

/// A TOML basic string: quotes, backslashes and control characters escaped.
pub fn toml_str(v: &str) -> String {
    let mut out = String::with_capacity(v.len() + 2);
    out.push('"');
    for c in v.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if u32::from(c) < 0x20 || c == '\u{7f}' => {
                let _ = write!(out, "\\u{:04X}", u32::from(c));
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

fn arr<S: AsRef<str>>(items: &[S]) -> String {
    let items: Vec<String> = items.iter().map(|i| toml_str(i.as_ref())).collect();
    format!("[{}]", items.join(", "))
}

/// Distinct picks from `from`, in the order drawn; none if `from` is empty.
fn pick<'a, T>(indices: &[Index], from: &'a [T]) -> Vec<&'a T> {
    if from.is_empty() {
        return Vec::new();
    }
    let mut seen = Vec::new();
    for i in indices {
        let at = i.index(from.len());
        if !seen.contains(&at) {
            seen.push(at);
        }
    }
    seen.into_iter().map(|at| &from[at]).collect()
}

/// `reference` covers `id`: the same category or one under it.
fn covers(reference: &str, id: &str) -> bool {
    id == reference
        || (id.len() > reference.len()
            && id.starts_with(reference)
            && id.as_bytes()[reference.len()] == b'.')
}

struct W {
    out: String,
    langs: Vec<&'static str>,
}

impl W {
    fn text(&self, t: &LText) -> String {
        let parts: Vec<String> = self
            .langs
            .iter()
            .map(|l| {
                let v = if *l == "nb" { &t.nb } else { &t.en };
                format!("{l} = {}", toml_str(v))
            })
            .collect();
        format!("{{ {} }}", parts.join(", "))
    }
    fn raw(&mut self, key: &str, value: impl AsRef<str>) {
        let _ = writeln!(self.out, "{key} = {}", value.as_ref());
    }
    fn str(&mut self, key: &str, value: &str) {
        self.raw(key, toml_str(value));
    }
    fn opt(&mut self, key: &str, value: Option<&String>) {
        if let Some(v) = value {
            self.str(key, v);
        }
    }
    fn t(&mut self, key: &str, value: &LText) {
        let v = self.text(value);
        self.raw(key, v);
    }
    fn table(&mut self, header: &str) {
        let _ = writeln!(self.out, "\n{header}");
    }
}

/// What later declarations need to know about a purpose.
struct Resolved {
    id: String,
    basis: &'static str,
    direct_marketing: bool,
    categories: Vec<String>,
}

impl Spec {
    pub fn to_toml(&self) -> String {
        let h = &self.header;
        let mut w = W {
            out: String::new(),
            langs: h.langs.clone(),
        };
        w.raw("format", "1");
        w.str("version", &h.version);
        w.raw("languages", arr(&h.langs));
        w.raw("channels", arr(&h.channels));

        let (name, country, org, address, email) = &h.controller;
        let (phone, website, month, day) = &h.controller_more;
        w.table("[controller]");
        w.str("name", name);
        w.str("country", country);
        w.opt("org_number", org.as_ref());
        w.str("address", address);
        w.str("email", email);
        w.opt("phone", phone.as_ref());
        w.str("website", website);
        w.str("fiscal_year_end", &format!("{month:02}-{day:02}"));

        let (name, email, phone, address) = &h.dpc;
        w.table("[data_protection_contact]");
        w.str("name", name);
        w.str("email", email);
        w.opt("phone", phone.as_ref());
        w.opt("address", address.as_ref());

        let (name, country, website, email, phone, address) = &h.sa;
        w.table("[supervisory_authority]");
        w.str("name", name);
        w.str("country", country);
        w.str("website", website);
        w.opt("email", email.as_ref());
        w.opt("phone", phone.as_ref());
        w.opt("address", address.as_ref());

        let (title, intro, special, governance, processor_role) = &h.notice;
        w.table("[notice]");
        w.t("title", title);
        w.t("intro", intro);
        for (key, value) in [
            ("special_categories_statement", special),
            ("governance", governance),
            ("processor_role", processor_role),
        ] {
            if let Some(v) = value {
                w.t(key, v);
            }
        }

        w.table("[rights]");
        w.str("portal_url", &h.rights.0);
        w.str("email", &h.rights.1);

        w.table("[changes]");
        w.raw("notice_days", h.changes.0.to_string());
        w.raw("announce_by", arr(&h.changes.1));

        for (i, (seg, name, country, org)) in self.groups.iter().enumerate() {
            w.table("[[group_entity]]");
            w.str("id", &format!("{seg}{i}"));
            w.str("name", name);
            w.str("country", country);
            w.opt("org_number", org.as_ref());
        }

        let subject_ids: Vec<String> = ids(self.subjects.iter().map(|s| &s.seg));
        let contracts = ["none", "pre_contract", "contract"];
        for (s, id) in self.subjects.iter().zip(&subject_ids) {
            w.table("[[subject_type]]");
            w.str("id", id);
            w.t("name", &s.name);
            w.t("description", &s.description);
            w.str("contract", contracts[s.contract]);
            w.raw("existing_customer", s.existing_customer.to_string());
        }

        let source_ids = ids(self.sources.iter().map(|s| &s.seg));
        for (s, id) in self.sources.iter().zip(&source_ids) {
            w.table("[[source]]");
            w.str("id", id);
            w.str("kind", SOURCE_KINDS[s.kind]);
            w.t("name", &s.name);
        }

        let (cat_ids, special) = self.categories(&mut w);

        let channels = &h.channels;
        let scope_ids = ids(self.scopes.iter().map(|s| &s.seg));
        for (s, id) in self.scopes.iter().zip(&scope_ids) {
            w.table("[[consent_scope]]");
            w.str("id", id);
            w.t("name", &s.name);
            w.t("text", &s.text);
            w.raw("channels", arr(&pick(&s.channels, channels)));
            if let Some(d) = s.valid_for {
                w.str("valid_for", &d.text());
            }
        }

        let purposes = self.purposes(
            &mut w,
            &subject_ids,
            &source_ids,
            &cat_ids,
            &special,
            &scope_ids,
        );
        self.recipients(&mut w, &purposes, &cat_ids);
        let triggers = self.triggers(&mut w, &cat_ids);
        self.retention(
            &mut w,
            &triggers,
            &cat_ids,
            &purposes,
            &subject_ids,
            &scope_ids,
        );
        self.messages(&mut w, &purposes);

        for (i, r) in self.roles.iter().enumerate() {
            w.table("[[role]]");
            w.str("id", &format!("{}{i}", r.seg));
            w.t("description", &r.description);
            if r.all {
                w.raw("categories", arr(&["*"]));
            } else {
                w.raw("categories", arr(&pick(&r.categories, &cat_ids)));
            }
            w.raw("admin", r.admin.to_string());
        }
        w.out
    }

    /// Categories form a tree at most four levels deep; a parent is always an earlier
    /// category, but the file may list them in reverse (a parent need not come first).
    fn categories(&self, w: &mut W) -> (Vec<String>, Vec<bool>) {
        let mut ids: Vec<String> = Vec::new();
        let mut depth: Vec<usize> = Vec::new();
        for (i, c) in self.categories.iter().enumerate() {
            let parent = c
                .parent
                .filter(|_| i > 0)
                .map(|p| p.index(i))
                .filter(|&p| depth[p] < 3);
            ids.push(match parent {
                Some(p) => format!("{}.{}{i}", ids[p], c.seg),
                None => format!("{}{i}", c.seg),
            });
            depth.push(parent.map_or(0, |p| depth[p] + 1));
        }
        let mut order: Vec<usize> = (0..ids.len()).collect();
        if self.reverse_categories {
            order.reverse();
        }
        for i in order {
            let c = &self.categories[i];
            w.table("[[category]]");
            w.str("id", &ids[i]);
            w.t("name", &c.name);
            if let Some(d) = &c.description {
                w.t("description", d);
            }
            w.raw("special", c.special.to_string());
        }
        let special = self.categories.iter().map(|c| c.special).collect();
        (ids, special)
    }

    fn purposes(
        &self,
        w: &mut W,
        subject_ids: &[String],
        source_ids: &[String],
        cat_ids: &[String],
        special: &[bool],
        scope_ids: &[String],
    ) -> Vec<Resolved> {
        let with_contract: Vec<String> = self
            .subjects
            .iter()
            .zip(subject_ids)
            .filter(|(s, _)| s.contract != 0)
            .map(|(_, id)| id.clone())
            .collect();
        let mut out = Vec::new();
        for (i, p) in self.purposes.iter().enumerate() {
            let id = format!("{}{i}", p.seg);
            let mut basis = BASES[p.basis];
            if (basis == "contract" && with_contract.is_empty())
                || (basis == "consent" && scope_ids.is_empty())
            {
                basis = "legitimate_interest";
            }
            // Rule 13: the contract basis only for people who have (or seek) a contract.
            let pool = if basis == "contract" {
                &with_contract[..]
            } else {
                subject_ids
            };
            let categories: Vec<String> =
                pick(&p.categories, cat_ids).into_iter().cloned().collect();
            let (direct_marketing, profiling, restriction) = p.flags;
            let objection = if direct_marketing {
                "absolute"
            } else if basis == "legitimate_interest" || basis == "public_task" {
                if p.absolute { "absolute" } else { "relative" }
            } else {
                "not_applicable"
            };
            w.table("[[purpose]]");
            w.str("id", &id);
            w.t("name", &p.name);
            w.t("description", &p.description);
            w.str("legal_basis", basis);
            match (basis, &p.refs.0) {
                ("legal_obligation", None) => w.str("legal_basis_ref", &p.refs.1),
                (_, r) => w.opt("legal_basis_ref", r.as_ref()),
            }
            if basis == "legitimate_interest" {
                w.str("lia_ref", &p.refs.1);
            }
            if basis == "consent" {
                w.str("consent_scope", pick(&[p.scope], scope_ids)[0]);
            }
            w.raw("subject_types", arr(&pick(&p.subjects, pool)));
            w.raw("categories", arr(&categories));
            w.raw("sources", arr(&pick(&p.sources, source_ids)));
            let covers_special = cat_ids
                .iter()
                .zip(special)
                .any(|(c, s)| *s && categories.iter().any(|r| covers(r, c)));
            if covers_special {
                w.str("art9_ground", ART9[p.art9]);
            }
            w.str("objection", objection);
            w.raw("direct_marketing", direct_marketing.to_string());
            w.raw("profiling", profiling.to_string());
            w.raw("allowed_under_restriction", restriction.to_string());
            if !scope_ids.is_empty() {
                let gates: Vec<String> = p
                    .gates
                    .iter()
                    .map(|g| {
                        let kind = if g.tracking {
                            "tracking_consent"
                        } else {
                            "electronic_marketing_consent"
                        };
                        format!(
                            "{{ kind = \"{kind}\", consent_scope = {}, channels = {}, existing_customer_exception = {} }}",
                            toml_str(pick(&[g.scope], scope_ids)[0]),
                            arr(&pick(&g.channels, &self.header.channels)),
                            g.existing_customer_exception
                        )
                    })
                    .collect();
                w.raw("gates", format!("[{}]", gates.join(", ")));
            }
            out.push(Resolved {
                id,
                basis,
                direct_marketing,
                categories,
            });
        }
        out
    }

    fn recipients(&self, w: &mut W, purposes: &[Resolved], cat_ids: &[String]) {
        if purposes.is_empty() {
            return;
        }
        // A sub-processor needs a processor to work for; without one it is a processor.
        let has_processor = self.recipients.iter().any(|r| r.kind == 4);
        let kinds: Vec<&str> = self
            .recipients
            .iter()
            .map(|r| match r.kind {
                5 if !has_processor => "processor",
                k => RECIPIENT_KINDS[k],
            })
            .collect();
        let processor_ids: Vec<String> = self
            .recipients
            .iter()
            .enumerate()
            .filter(|(i, _)| kinds[*i] == "processor")
            .map(|(i, r)| format!("{}{i}", r.seg))
            .collect();
        for (i, r) in self.recipients.iter().enumerate() {
            let kind = kinds[i];
            let is_processor = kind == "processor" || kind == "sub_processor";
            w.table("[[recipient]]");
            w.str("id", &format!("{}{i}", r.seg));
            w.str("kind", kind);
            w.str("name", &r.name);
            w.t("description", &r.description);
            let country = if is_processor {
                Some(r.country.unwrap_or("SE"))
            } else {
                r.country
            };
            if let Some(c) = country {
                w.str("country", c);
            }
            let chosen = pick(&r.purposes, purposes);
            w.raw(
                "purposes",
                arr(&chosen.iter().map(|p| &p.id).collect::<Vec<_>>()),
            );
            // Rule 15: only categories that one of its purposes covers.
            let allowed: Vec<&String> = cat_ids
                .iter()
                .filter(|c| {
                    chosen
                        .iter()
                        .any(|p| p.categories.iter().any(|r| covers(r, c)))
                })
                .collect();
            w.raw("categories", arr(&pick(&r.categories, &allowed)));
            if kind == "authority" {
                w.raw("legal_decision_required", "true");
            }
            if is_processor {
                let (y, m, d) = r.dpa;
                w.raw("dpa_date", format!("{y}-{m:02}-{d:02}"));
            }
            if kind == "sub_processor" {
                w.str("processor", pick(&[r.processor], &processor_ids)[0]);
            }
            if let Some(c) = country.filter(|c| !EEA.contains(c)) {
                w.raw("transfer", transfer(r, c));
            }
        }
    }

    fn triggers(&self, w: &mut W, cat_ids: &[String]) -> Vec<(String, Vec<String>)> {
        let kinds = ["event", "fiscal_year_end", "consent_withdrawn"];
        let mut out = Vec::new();
        for (i, t) in self.triggers.iter().enumerate() {
            let id = format!("{}{i}", t.seg);
            let categories: Vec<String> =
                pick(&t.categories, cat_ids).into_iter().cloned().collect();
            w.table("[[trigger]]");
            w.str("id", &id);
            w.str("kind", kinds[t.kind]);
            w.t("name", &t.name);
            w.raw("categories", arr(&categories));
            out.push((id, categories));
        }
        out
    }

    fn retention(
        &self,
        w: &mut W,
        triggers: &[(String, Vec<String>)],
        cat_ids: &[String],
        purposes: &[Resolved],
        subject_ids: &[String],
        scope_ids: &[String],
    ) {
        if triggers.is_empty() {
            return;
        }
        // Rule 17: a rule's categories must be ones its trigger can occur for.
        let fitting = |trigger: &(String, Vec<String>)| -> Vec<&String> {
            cat_ids
                .iter()
                .filter(|c| trigger.1.is_empty() || trigger.1.iter().any(|t| covers(t, c)))
                .collect()
        };
        for (i, r) in self.retention.iter().enumerate() {
            let trigger = pick(&[r.trigger], triggers)[0];
            w.table("[[retention]]");
            w.str("id", &format!("{}{i}", r.seg));
            w.t("description", &r.description);
            w.raw("categories", arr(&pick(&r.categories, &fitting(trigger))));
            let purpose_ids: Vec<&String> = purposes.iter().map(|p| &p.id).collect();
            w.raw("purposes", arr(&pick(&r.purposes, &purpose_ids)));
            w.raw("subject_types", arr(&pick(&r.subjects, subject_ids)));
            w.str("trigger", &trigger.0);
            w.str("duration", &r.duration.text());
            w.str("action", if r.anonymise { "anonymise" } else { "delete" });
            w.str("legal_ref", &r.legal_ref);
            if let (Some((scope, max)), false) = (&r.consent_override, scope_ids.is_empty()) {
                w.raw(
                    "override_by_consent",
                    format!(
                        "{{ consent_scope = {}, max = {} }}",
                        toml_str(pick(&[*scope], scope_ids)[0]),
                        toml_str(&max.text())
                    ),
                );
            }
        }
        for (i, e) in self.exceptions.iter().enumerate() {
            let trigger = pick(&[e.trigger], triggers)[0];
            w.table("[[erasure_exception]]");
            w.str("id", &format!("{}{i}", e.seg));
            w.t("description", &e.description);
            w.raw("categories", arr(&pick(&e.categories, &fitting(trigger))));
            w.str("trigger", &trigger.0);
            w.str("duration", &e.duration.text());
            w.str("legal_ref", &e.legal_ref);
            w.str("jurisdiction", e.jurisdiction);
        }
    }

    fn messages(&self, w: &mut W, purposes: &[Resolved]) {
        // Rule 18: marketing only through a consent or legitimate-interest purpose;
        // administrative messages never through a direct-marketing purpose.
        let marketing: Vec<&String> = purposes
            .iter()
            .filter(|p| p.basis == "consent" || p.basis == "legitimate_interest")
            .map(|p| &p.id)
            .collect();
        let administrative: Vec<&String> = purposes
            .iter()
            .filter(|p| !p.direct_marketing)
            .map(|p| &p.id)
            .collect();
        for (i, m) in self.messages.iter().enumerate() {
            let (kind, pool) = match (m.marketing, marketing.is_empty(), administrative.is_empty())
            {
                (true, false, _) | (false, false, true) => ("marketing", &marketing),
                (_, _, false) => ("administrative", &administrative),
                (_, true, true) => continue,
            };
            w.table("[[message_class]]");
            w.str("id", &format!("{}{i}", m.seg));
            w.str("kind", kind);
            w.t("name", &m.name);
            w.str("purpose", pick(&[m.purpose], pool)[0]);
            w.raw("channels", arr(&pick(&m.channels, &self.header.channels)));
        }
    }
}

/// Ids `<segment><position>`: unique because segments hold no digits.
fn ids<'a>(segs: impl Iterator<Item = &'a String>) -> Vec<String> {
    segs.enumerate().map(|(i, s)| format!("{s}{i}")).collect()
}

/// Rule 16: a transfer tool that the destination allows.
fn transfer(r: &super::Recipient, country: &str) -> String {
    let t = &r.transfer;
    let mechanisms: &[&str] = if ADEQUATE.contains(&country) || country == "US" {
        &["adequacy", "scc", "bcr", "derogation"]
    } else {
        &["scc", "bcr", "derogation"]
    };
    let mechanism = mechanisms[t.mechanism.index(mechanisms.len())];
    let mut parts = vec![format!("mechanism = \"{mechanism}\"")];
    if mechanism == "scc" {
        parts.push(format!("scc_version = {}", toml_str(&t.scc_version)));
        if let Some(m) = t.scc_module {
            parts.push(format!("scc_module = {m}"));
        }
    }
    if mechanism == "adequacy" && country == "US" {
        parts.push("dpf_certified = true".to_owned());
    }
    if let Some(tia) = &t.tia_ref {
        parts.push(format!("tia_ref = {}", toml_str(tia)));
    }
    // BCRs need their approval and derogations their Art. 49 ground.
    if t.with_reference || mechanism == "bcr" || mechanism == "derogation" {
        parts.push(format!("reference = {}", toml_str(&t.reference)));
    }
    format!("{{ {} }}", parts.join(", "))
}
