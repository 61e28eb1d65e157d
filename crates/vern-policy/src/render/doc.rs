//! The notice as a small format-neutral document: sections of paragraphs, lists and tables.
//!
//! Policy text enters here and is normalised once: runs of whitespace (including line breaks)
//! become one space and control characters are dropped. That is what keeps a policy string
//! from breaking the structure of either output: no Markdown line can start inside a policy
//! text, and HTML never sees a character that is a parse error. Escaping itself is the
//! emitters' job, since each format escapes differently.

/// A whole notice.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Doc {
    /// The `<html lang>` value.
    pub lang: &'static str,
    /// The main heading.
    pub title: String,
    /// The browser tab title (HTML only).
    pub page_title: String,
    /// Blocks between the main heading and the first section.
    pub intro: Vec<Block>,
    pub sections: Vec<Section>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Section {
    /// Stable anchor for links into the notice (`#rights`).
    pub id: &'static str,
    pub heading: String,
    pub blocks: Vec<Block>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Block {
    /// A heading one level below the section's.
    Subheading(String),
    Para(Vec<Inline>),
    List(Vec<Item>),
    Table {
        head: Vec<String>,
        rows: Vec<Vec<Vec<Inline>>>,
    },
}

/// A list item, possibly with a nested list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Item {
    pub content: Vec<Inline>,
    pub children: Vec<Item>,
}

impl Item {
    pub fn new(content: Vec<Inline>) -> Self {
        Item {
            content,
            children: Vec::new(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Inline {
    Text(String),
    Strong(String),
    /// A link; emitters fall back to plain text when `href` is not a safe http(s) or mailto URL.
    Link {
        text: String,
        href: String,
    },
}

impl Inline {
    pub fn text(s: &str) -> Self {
        Inline::Text(clean(s))
    }
    pub fn strong(s: &str) -> Self {
        Inline::Strong(clean(s))
    }
    pub fn url(url: &str) -> Self {
        let url = clean(url);
        Inline::Link {
            text: url.clone(),
            href: url,
        }
    }
    pub fn email(address: &str) -> Self {
        let address = clean(address);
        Inline::Link {
            href: format!("mailto:{address}"),
            text: address,
        }
    }
}

/// One line of policy text: whitespace runs collapsed to a space, control characters and
/// Unicode noncharacters dropped, trimmed.
pub(crate) fn clean(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut space = false;
    for c in s.chars() {
        if c.is_whitespace() {
            space = true;
        } else if c.is_control() || is_noncharacter(c) {
            // Dropped: C0/C1 controls and noncharacters are parse errors in HTML and invisible
            // in Markdown, so they can carry no meaning a reader could see.
        } else {
            if space && !out.is_empty() {
                out.push(' ');
            }
            space = false;
            out.push(c);
        }
    }
    out
}

fn is_noncharacter(c: char) -> bool {
    let n = u32::from(c);
    (0xFDD0..=0xFDEF).contains(&n) || (n & 0xFFFE) == 0xFFFE
}

/// Policy prose as paragraphs: a blank line separates paragraphs, other line breaks are
/// spaces (the usual reading of a TOML multi-line string).
pub(crate) fn paragraphs(text: &str) -> Vec<Block> {
    let mut blocks = Vec::new();
    let mut current = String::new();
    for line in text.lines() {
        if line.trim().is_empty() {
            push_para(&mut blocks, &current);
            current.clear();
        } else {
            current.push(' ');
            current.push_str(line);
        }
    }
    push_para(&mut blocks, &current);
    blocks
}

fn push_para(blocks: &mut Vec<Block>, text: &str) {
    let text = clean(text);
    if !text.is_empty() {
        blocks.push(Block::Para(vec![Inline::Text(text)]));
    }
}

/// Fills `{name}` placeholders of a fixed phrase with inline pieces. Only the template is
/// scanned, so braces inside inserted policy text stay as they are. An unknown placeholder is
/// left as written (a unit test keeps the phrase table free of those).
pub(crate) fn fill(template: &str, args: &[(&str, Inline)]) -> Vec<Inline> {
    let mut out = Vec::new();
    let mut text = String::new();
    let mut rest = template;
    while let Some(open) = rest.find('{') {
        let (before, after) = rest.split_at(open);
        text.push_str(before);
        let found = after.find('}').and_then(|close| {
            let name = &after[1..close];
            args.iter()
                .find(|(n, _)| *n == name)
                .map(|(_, v)| (v, close))
        });
        match found {
            Some((value, close)) => {
                match value {
                    Inline::Text(t) => text.push_str(t),
                    other => {
                        if !text.is_empty() {
                            out.push(Inline::Text(std::mem::take(&mut text)));
                        }
                        out.push(other.clone());
                    }
                }
                rest = &after[close + 1..];
            }
            None => {
                text.push('{');
                rest = &after[1..];
            }
        }
    }
    text.push_str(rest);
    if !text.is_empty() {
        out.push(Inline::Text(text));
    }
    out
}

/// [`fill`] with text-only arguments, as one string.
pub(crate) fn fill_text(template: &str, args: &[(&str, &str)]) -> String {
    let args: Vec<(&str, Inline)> = args
        .iter()
        .map(|(n, v)| (*n, Inline::Text(clean(v))))
        .collect();
    fill(template, &args)
        .into_iter()
        .map(|i| match i {
            Inline::Text(t) | Inline::Strong(t) => t,
            Inline::Link { text, .. } => text,
        })
        .collect()
}

/// `text` as a sentence: a full stop is added unless it already ends in one (or `!`/`?`).
pub(crate) fn sentence(text: &str) -> String {
    let text = clean(text);
    if text.is_empty() || text.ends_with(['.', '!', '?', '…']) {
        text
    } else {
        format!("{text}.")
    }
}

/// Appends inline pieces to a line, with one space between sentences.
pub(crate) fn append(line: &mut Vec<Inline>, more: Vec<Inline>) {
    if more.is_empty() {
        return;
    }
    if !line.is_empty() {
        line.push(Inline::Text(" ".to_owned()));
    }
    line.extend(more);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clean_collapses_whitespace_and_drops_controls() {
        assert_eq!(clean("  a\n\n b\tc\u{0}d\u{85}e\u{FFFF} "), "a b cd e");
        assert_eq!(clean("\u{7}"), "");
    }

    #[test]
    fn paragraphs_split_on_blank_lines() {
        let blocks = paragraphs("one\ntwo\n\n  \nthree");
        assert_eq!(
            blocks,
            vec![
                Block::Para(vec![Inline::Text("one two".into())]),
                Block::Para(vec![Inline::Text("three".into())]),
            ]
        );
    }

    #[test]
    fn fill_does_not_rescan_inserted_text() {
        let out = fill_text("a {x} b {y}", &[("x", "{y}"), ("y", "Y")]);
        assert_eq!(out, "a {y} b Y");
        assert_eq!(fill_text("{unknown} {", &[]), "{unknown} {");
    }

    #[test]
    fn fill_keeps_links_as_pieces() {
        let out = fill("see {u}.", &[("u", Inline::url("https://x.example"))]);
        assert_eq!(out.len(), 3);
        assert!(matches!(&out[1], Inline::Link { href, .. } if href == "https://x.example"));
    }

    #[test]
    fn sentence_adds_one_full_stop() {
        assert_eq!(sentence("Hei"), "Hei.");
        assert_eq!(sentence("Hei."), "Hei.");
        assert_eq!(sentence(""), "");
    }
}
