//! The public privacy notice (GDPR Art. 13 and 14), rendered from a validated policy.
//!
//! Everything policy-specific (names, purposes, periods, recipients) comes from the
//! [`Policy`]; the fixed wording is in [`strings`], in Norwegian bokmål and English. The notice
//! is first built as one format-neutral document ([`doc`]) and then written out as Markdown or
//! as a standalone HTML page, so the two formats always say the same thing.
//!
//! Sections, in order: introduction, data, sources, purposes and legal bases, sharing,
//! processors and transfers, retention, rights, marketing and profiling, changes, contact,
//! complaints. Order within a section is the policy file's order, so output is deterministic.

mod about;
mod doc;
mod html;
mod markdown;
mod rights;
mod sharing;
mod strings;
mod words;

use std::fmt;
use std::str::FromStr;

use crate::Policy;
use crate::model::{SStr, Text};

use doc::{Doc, Section, clean};
use strings::Phrases;

/// A notice language: the languages vern has fixed wording for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Lang {
    /// Norwegian bokmål.
    Nb,
    En,
}

impl Lang {
    pub const ALL: [Lang; 2] = [Lang::Nb, Lang::En];

    /// The language code, as in a policy's `languages` and in `<html lang>`.
    pub fn as_str(self) -> &'static str {
        match self {
            Lang::Nb => "nb",
            Lang::En => "en",
        }
    }

    fn phrases(self) -> &'static Phrases {
        match self {
            Lang::Nb => &strings::NB,
            Lang::En => &strings::EN,
        }
    }
}

impl fmt::Display for Lang {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown notice language {0:?}: expected nb or en")]
pub struct UnknownLang(pub String);

impl FromStr for Lang {
    type Err = UnknownLang;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "nb" => Ok(Lang::Nb),
            "en" => Ok(Lang::En),
            _ => Err(UnknownLang(s.to_owned())),
        }
    }
}

/// An output format of the notice.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Format {
    /// CommonMark with GitHub-style tables.
    Markdown,
    /// A standalone HTML5 page.
    Html,
}

impl Format {
    pub const ALL: [Format; 2] = [Format::Markdown, Format::Html];

    /// The name on the command line, which is also the usual file extension.
    pub fn as_str(self) -> &'static str {
        match self {
            Format::Markdown => "md",
            Format::Html => "html",
        }
    }
}

impl fmt::Display for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown notice format {0:?}: expected md or html")]
pub struct UnknownFormat(pub String);

impl FromStr for Format {
    type Err = UnknownFormat;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "md" | "markdown" => Ok(Format::Markdown),
            "html" => Ok(Format::Html),
            _ => Err(UnknownFormat(s.to_owned())),
        }
    }
}

/// Renders the public privacy notice. Texts in a language the policy does not declare fall
/// back to its first language (see [`Policy::text`]); callers should offer only declared ones.
pub fn render_notice(policy: &Policy, lang: Lang, format: Format) -> String {
    let doc = build(policy, lang);
    match format {
        Format::Markdown => markdown::emit(&doc),
        Format::Html => html::emit(&doc),
    }
}

/// The fixed headings of the notice's sections after the introduction (whose heading is the
/// policy's title), in order.
pub fn section_headings(lang: Lang) -> [&'static str; 11] {
    let p = lang.phrases();
    [
        p.h_data,
        p.h_sources,
        p.h_purposes,
        p.h_sharing,
        p.h_processors,
        p.h_retention,
        p.h_rights,
        p.h_marketing,
        p.h_changes,
        p.h_contact,
        p.h_complaint,
    ]
}

fn build(policy: &Policy, lang: Lang) -> Doc {
    let cx = Ctx {
        policy,
        lang,
        p: lang.phrases(),
    };
    let p = cx.p;
    let title = clean(cx.t(&policy.raw.notice.title));
    let controller = clean(policy.raw.controller.name.get_ref());
    let page_title = if controller.is_empty() {
        title.clone()
    } else {
        format!("{title} – {controller}")
    };
    let section = |id, heading: &str, blocks| Section {
        id,
        heading: heading.to_owned(),
        blocks,
    };
    Doc {
        lang: lang.as_str(),
        title,
        page_title,
        intro: about::intro(&cx),
        sections: vec![
            section("data", p.h_data, about::data(&cx)),
            section("sources", p.h_sources, about::sources(&cx)),
            section("purposes", p.h_purposes, about::purposes(&cx)),
            section("sharing", p.h_sharing, sharing::sharing(&cx)),
            section("processors", p.h_processors, sharing::processors(&cx)),
            section("retention", p.h_retention, sharing::retention(&cx)),
            section("rights", p.h_rights, rights::rights(&cx)),
            section("marketing", p.h_marketing, rights::marketing(&cx)),
            section("changes", p.h_changes, rights::changes(&cx)),
            section("contact", p.h_contact, rights::contact(&cx)),
            section("complaint", p.h_complaint, rights::complaint(&cx)),
        ],
    }
}

/// What every section builder needs: the policy, the language and its phrases.
pub(crate) struct Ctx<'a> {
    pub policy: &'a Policy,
    pub lang: Lang,
    pub p: &'static Phrases,
}

impl<'a> Ctx<'a> {
    /// A policy text in the notice language.
    pub fn t(&self, text: &'a Text) -> &'a str {
        self.policy.text(text, self.lang.as_str())
    }

    pub fn purpose_name(&self, id: &str) -> String {
        self.policy
            .purpose(id)
            .map_or_else(|| id.to_owned(), |x| clean(self.t(&x.name)))
    }

    pub fn category_name(&self, id: &str) -> String {
        self.policy
            .category(id)
            .map_or_else(|| id.to_owned(), |x| clean(self.t(&x.name)))
    }

    pub fn consent_scope_name(&self, id: &str) -> String {
        self.policy
            .consent_scope(id)
            .map_or_else(|| id.to_owned(), |x| clean(self.t(&x.name)))
    }

    /// Names of referenced purposes, comma-separated, each once, in reference order.
    pub fn purposes(&self, ids: &[SStr]) -> String {
        names(ids, |id| self.purpose_name(id))
    }

    pub fn categories(&self, refs: &[SStr]) -> String {
        names(refs, |id| self.category_name(id))
    }

    pub fn subject_types(&self, ids: &[SStr]) -> String {
        names(ids, |id| {
            self.policy
                .subject_type(id)
                .map_or_else(|| id.to_owned(), |x| clean(self.t(&x.name)))
        })
    }

    pub fn sources(&self, ids: &[SStr]) -> String {
        names(ids, |id| {
            self.policy
                .source(id)
                .map_or_else(|| id.to_owned(), |x| clean(self.t(&x.name)))
        })
    }

    pub fn country(&self, code: &str) -> String {
        words::country(code, self.lang)
    }

    /// Channel ids in words, joined with "og"/"and".
    pub fn channels(&self, ids: &[SStr]) -> String {
        let mut list: Vec<String> = Vec::new();
        for id in ids {
            let name = words::channel(id.get_ref(), self.p);
            if !list.contains(&name) {
                list.push(name);
            }
        }
        words::join_and(&list, self.p)
    }
}

fn names(ids: &[SStr], name: impl Fn(&str) -> String) -> String {
    let mut seen: Vec<&str> = Vec::new();
    let mut out: Vec<String> = Vec::new();
    for id in ids {
        let id = id.get_ref().as_str();
        if !seen.contains(&id) {
            seen.push(id);
            out.push(name(id));
        }
    }
    out.join(", ")
}

/// The link target if it is safe to emit in both formats: an http(s) or mailto URL with no
/// whitespace, quotes, brackets or backslashes (which would need escaping in a Markdown link
/// destination, and which no valid policy URL or email contains). Anything else is shown as
/// plain text, so a policy can never smuggle a `javascript:` link into the notice.
pub(crate) fn safe_href(href: &str) -> Option<&str> {
    let rest = ["https://", "http://", "mailto:"]
        .iter()
        .find_map(|scheme| href.strip_prefix(scheme))?;
    let bad = |c: char| {
        c.is_whitespace() || c.is_control() || matches!(c, '<' | '>' | '(' | ')' | '"' | '\\' | '`')
    };
    (!rest.is_empty() && !href.contains(bad)).then_some(href)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lang_and_format_parse() {
        assert_eq!("nb".parse::<Lang>(), Ok(Lang::Nb));
        assert_eq!("EN".parse::<Lang>(), Ok(Lang::En));
        assert!("no".parse::<Lang>().is_err());
        assert_eq!("md".parse::<Format>(), Ok(Format::Markdown));
        assert_eq!("html".parse::<Format>(), Ok(Format::Html));
        assert!("pdf".parse::<Format>().is_err());
        for l in Lang::ALL {
            assert_eq!(l.as_str().parse::<Lang>(), Ok(l));
        }
        for f in Format::ALL {
            assert_eq!(f.as_str().parse::<Format>(), Ok(f));
        }
    }

    #[test]
    fn only_plain_web_and_mail_links_are_safe() {
        assert!(safe_href("https://x.example/a?b=1&c=2").is_some());
        assert!(safe_href("mailto:a@b.example").is_some());
        assert!(safe_href("javascript:alert(1)").is_none());
        assert!(safe_href("https://x.example/a b").is_none());
        assert!(safe_href("https://x.example/\"onmouseover").is_none());
        assert!(safe_href("https://").is_none());
    }

    #[test]
    fn headings_are_distinct() {
        for lang in Lang::ALL {
            let mut h = section_headings(lang).to_vec();
            h.sort_unstable();
            h.dedup();
            assert_eq!(h.len(), 11);
        }
    }
}
