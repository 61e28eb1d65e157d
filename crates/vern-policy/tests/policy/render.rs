//! The public notice: snapshots on the minimal fixture, structure and escaping in both formats,
//! and every section present in the bundled policy's notice.

use vern_policy::Policy;
use vern_policy::render::{Format, Lang, render_notice, section_headings};

use crate::support;

/// The fixed section headings as a reader sees them (not via the crate, so a wording change
/// shows up here as well as in the snapshots).
const HEADINGS_NB: [&str; 11] = [
    "Hvilke personopplysninger vi behandler",
    "Hvor vi får opplysningene fra",
    "Hvorfor vi behandler opplysningene, og på hvilket rettslig grunnlag",
    "Hvem vi deler opplysningene med",
    "Databehandlere og overføring til land utenfor EU/EØS",
    "Hvor lenge vi lagrer opplysningene",
    "Dine rettigheter og hvordan du bruker dem",
    "Markedsføring og profilering, og hvordan du reserverer deg",
    "Endringer i denne erklæringen",
    "Kontakt oss",
    "Klage til tilsynsmyndigheten",
];
const HEADINGS_EN: [&str; 11] = [
    "What personal data we process",
    "Where we get the data from",
    "Why we process the data and on what legal basis",
    "Who we share the data with",
    "Processors and transfers outside the EU/EEA",
    "How long we keep the data",
    "Your rights and how to use them",
    "Marketing and profiling, and how to opt out",
    "Changes to this notice",
    "Contact us",
    "Complaints to the supervisory authority",
];

fn headings(lang: Lang) -> [&'static str; 11] {
    match lang {
        Lang::Nb => HEADINGS_NB,
        Lang::En => HEADINGS_EN,
    }
}

fn minimal() -> Policy {
    support::valid_fixture("minimal.toml")
}

/// The minimal fixture with some texts replaced (each `from` must occur in it).
fn minimal_with(replacements: &[(&str, &str)]) -> Policy {
    let mut source = support::fixture_source("minimal.toml");
    for (from, to) in replacements {
        assert!(source.contains(from), "fixture lacks {from:?}");
        source = source.replacen(from, to, 1);
    }
    support::parse_valid("minimal.toml (modified)", &source)
}

/// Level-2 headings of a Markdown notice, in order.
fn md_sections(md: &str) -> Vec<&str> {
    md.lines().filter_map(|l| l.strip_prefix("## ")).collect()
}

/// Level-2 headings of an HTML notice, in order.
fn html_sections(html: &str) -> Vec<&str> {
    html.split("<h2>")
        .skip(1)
        .filter_map(|rest| rest.split_once("</h2>").map(|(h, _)| h))
        .collect()
}

#[test]
fn minimal_nb_markdown() {
    insta::assert_snapshot!(render_notice(&minimal(), Lang::Nb, Format::Markdown));
}

#[test]
fn minimal_en_markdown() {
    insta::assert_snapshot!(render_notice(&minimal(), Lang::En, Format::Markdown));
}

#[test]
fn every_section_heading_is_present_in_order() {
    let policy = minimal();
    for lang in Lang::ALL {
        assert_eq!(section_headings(lang), headings(lang));
        let md = render_notice(&policy, lang, Format::Markdown);
        assert_eq!(md_sections(&md), headings(lang), "{lang} md");
        let title = match lang {
            Lang::Nb => "# Personvernerklæring\n",
            Lang::En => "# Privacy notice\n",
        };
        assert!(md.starts_with(title), "{lang} md title");
        let html = render_notice(&policy, lang, Format::Html);
        assert_eq!(html_sections(&html), headings(lang), "{lang} html");
    }
}

#[test]
fn notice_says_what_the_minimal_policy_says() {
    let md = render_notice(&minimal(), Lang::Nb, Format::Markdown);
    for expected in [
        "Eksempel AS",
        "Versjon: 2026-01-01.",
        "Vi behandler ikke særlige kategorier av personopplysninger",
        "personvernforordningen artikkel 6 nr. 1 bokstav f",
        "nødvendig for å gjennomføre tiltak du har bedt om før en avtale inngås",
        "EUs standardkontraktsklausuler (2021/914, modul 3)",
        "Slettes senest 24 måneder etter siste registrerte aktivitet.",
        "Slettes senest 6 måneder etter siste søknadsdato.",
        "senest innen én måned",
        "to måneder til",
        "minst 30 dager før de trer i kraft",
        "<https://eksempel.example/personvern>",
        "Datatilsynet",
    ] {
        assert!(md.contains(expected), "missing {expected:?} in:\n{md}");
    }
    let en = render_notice(&minimal(), Lang::En, Format::Markdown);
    for expected in [
        "EU standard contractual clauses (2021/914, module 3)",
        "to you or to others",
        "Deleted at the latest 6 months after last application date.",
        "by email and on our website at least 30 days before they take effect",
    ] {
        assert!(en.contains(expected), "missing {expected:?} in:\n{en}");
    }
}

#[test]
fn special_categories_are_listed_with_their_art9_ground() {
    let policy = minimal_with(&[
        (
            "[[category]]\nid = \"recruitment.cv\"",
            "[[category]]\nid = \"recruitment.health\"\nname = { nb = \"Helseopplysninger\", en = \"Health data\" }\nspecial = true\n\n[[category]]\nid = \"recruitment.cv\"",
        ),
        (
            "objection = \"not_applicable\"",
            "objection = \"not_applicable\"\nart9_ground = \"employment_social_security\"",
        ),
    ]);
    let md = render_notice(&policy, Lang::En, Format::Markdown);
    assert!(!md.contains("We do not process special categories"), "{md}");
    assert!(
        md.contains(
            "**Health data**: Recruitment: obligations and rights under employment, social security and social protection law (Article 9(2)(b) GDPR)."
        ),
        "{md}"
    );
}

/// Tags in order, checked for nesting; void elements and the doctype need no end tag.
fn assert_well_nested(html: &str) {
    const VOID: [&str; 2] = ["meta", "br"];
    let mut stack: Vec<String> = Vec::new();
    let mut rest = html;
    while let Some(start) = rest.find('<') {
        let after = &rest[start + 1..];
        let end = after.find('>').expect("unclosed tag");
        let tag = &after[..end];
        rest = &after[end + 1..];
        if tag.starts_with('!') {
            continue;
        }
        if let Some(name) = tag.strip_prefix('/') {
            let open = stack.pop();
            assert_eq!(open.as_deref(), Some(name), "mismatched </{name}>");
        } else {
            let name = tag.split_whitespace().next().unwrap_or_default();
            if !VOID.contains(&name) {
                stack.push(name.to_owned());
            }
        }
    }
    assert!(stack.is_empty(), "unclosed: {stack:?}");
}

#[test]
fn html_is_a_standalone_page_with_everything_escaped() {
    let policy = minimal_with(&[
        (
            "Slik behandler vi personopplysninger.",
            "<script>alert(\\\"x\\\")</script> Fisk & vilt",
        ),
        ("How we process personal data.", "Fish & <b>game</b>"),
        (
            "name = \"Mailer Inc.\"",
            "name = \"Mailer <i>Inc</i> & Co\"",
        ),
        (
            "portal_url = \"https://eksempel.example/personvern\"",
            "portal_url = \"https://eksempel.example/p?a=1&b=\\\"2\\\"\"",
        ),
    ]);
    for lang in Lang::ALL {
        let html = render_notice(&policy, lang, Format::Html);
        assert!(html.starts_with("<!DOCTYPE html>\n"), "{html}");
        assert!(html.contains(&format!("<html lang=\"{lang}\">")));
        assert!(html.contains("<meta charset=\"utf-8\">"));
        assert!(html.contains("<title>") && html.contains("</title>"));
        assert!(html.trim_end().ends_with("</html>"));
        for forbidden in [
            "<script", "<b>", "<i>", "<style", "<link", "<img", " style=", " src=",
        ] {
            assert!(!html.contains(forbidden), "{lang}: found {forbidden:?}");
        }
        match lang {
            Lang::Nb => {
                assert!(
                    html.contains(
                        "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; Fisk &amp; vilt"
                    )
                );
            }
            Lang::En => assert!(html.contains("Fish &amp; &lt;b&gt;game&lt;/b&gt;")),
        }
        assert!(html.contains("Mailer &lt;i&gt;Inc&lt;/i&gt; &amp; Co"));
        // A URL with a quote is not a safe link target: shown as text, not as an attribute.
        assert!(!html.contains("href=\"https://eksempel.example/p?"));
        assert_well_nested(&html);
    }
}

#[test]
fn markdown_special_characters_in_policy_text_do_not_change_structure() {
    let nasty = "# not a heading | a | b | *em* _u_ `code` [link](x) <b>";
    let policy = minimal_with(&[
        (
            "Slik behandler vi personopplysninger.",
            "- not a list item\\n\\n1. nor this",
        ),
        (
            "description = { nb = \"E-postutsendelse.\"",
            &format!("description = {{ nb = \"{nasty}\""),
        ),
        (
            "name = { nb = \"Markedsføring\"",
            "name = { nb = \"## Markedsføring |\"",
        ),
        (
            "name = { nb = \"E-postadresse\"",
            "name = { nb = \"- E-post **adresse**\"",
        ),
    ]);
    let md = render_notice(&policy, Lang::Nb, Format::Markdown);
    let heading_lines: Vec<&str> = md.lines().filter(|l| l.starts_with('#')).collect();
    // Title, eleven sections, and one sub-heading per purpose.
    assert_eq!(heading_lines.len(), 1 + 11 + 2, "{md}");
    assert!(md.contains("### \\#\\# Markedsføring \\|"), "{md}");
    assert!(md.contains("\\- not a list item"), "{md}");
    assert!(md.contains("1\\. nor this"), "{md}");
    assert!(md.contains("  - **- E-post \\*\\*adresse\\*\\***"), "{md}");
    // Every table row keeps its five columns: six unescaped pipes.
    let rows: Vec<&str> = md.lines().filter(|l| l.starts_with('|')).collect();
    assert_eq!(rows.len(), 3, "{md}");
    for row in rows {
        let pipes = row
            .match_indices('|')
            .filter(|(i, _)| !row[..*i].ends_with('\\'))
            .count();
        assert_eq!(pipes, 6, "{row}");
    }
    assert!(!md.contains("<b>"));
}

#[test]
fn bundled_notice_has_every_section() {
    let policy = support::bundled();
    for lang in Lang::ALL {
        let md = render_notice(&policy, lang, Format::Markdown);
        assert_eq!(md_sections(&md), headings(lang), "{lang} md");
        let html = render_notice(&policy, lang, Format::Html);
        assert_eq!(html_sections(&html), headings(lang), "{lang} html");
        assert_well_nested(&html);
    }
}

/// The bundled notice is what Confect publishes: any change to it must be reviewed as text.
#[test]
fn bundled_notice_nb_markdown() {
    insta::assert_snapshot!(render_notice(
        &crate::support::bundled(),
        Lang::Nb,
        Format::Markdown
    ));
}

#[test]
fn bundled_notice_en_markdown() {
    insta::assert_snapshot!(render_notice(
        &crate::support::bundled(),
        Lang::En,
        Format::Markdown
    ));
}
