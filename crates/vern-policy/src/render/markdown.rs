//! The notice as CommonMark with GitHub-style tables.
//!
//! Policy text is escaped so that it can only ever be literal text: every character with an
//! inline meaning is backslash-escaped, and the characters that only mean something at the
//! start of a line (`-`, `+`, `=`, `1.`) are escaped there. Text never contains a line break
//! (see [`super::doc::clean`]), so escaping the start of each block is enough.

use super::doc::{Block, Doc, Inline, Item};
use super::safe_href;

pub(crate) fn emit(doc: &Doc) -> String {
    let mut out = String::new();
    out.push_str("# ");
    out.push_str(&escape(&doc.title, false));
    out.push_str("\n\n");
    blocks(&mut out, &doc.intro);
    for section in &doc.sections {
        out.push_str("## ");
        out.push_str(&escape(&section.heading, false));
        out.push_str("\n\n");
        blocks(&mut out, &section.blocks);
    }
    // One trailing newline, not a blank line.
    while out.ends_with("\n\n") {
        out.pop();
    }
    out
}

fn blocks(out: &mut String, blocks: &[Block]) {
    let mut previous_list_marker = None;
    for block in blocks {
        let marker = match (block, previous_list_marker) {
            // Two lists in a row would merge into one; a new bullet character starts a new list.
            (Block::List(_), Some('-')) => '*',
            _ => '-',
        };
        previous_list_marker = matches!(block, Block::List(_)).then_some(marker);
        match block {
            Block::Subheading(text) => {
                out.push_str("### ");
                out.push_str(&escape(text, false));
                out.push_str("\n\n");
            }
            Block::Para(content) => {
                out.push_str(&inlines(content));
                out.push_str("\n\n");
            }
            Block::List(items) => {
                list(out, items, 0, marker);
                out.push('\n');
            }
            Block::Table { head, rows } => table(out, head, rows),
        }
    }
}

fn list(out: &mut String, items: &[Item], depth: usize, marker: char) {
    for item in items {
        // Two spaces per level: the width of the "- " marker, which CommonMark requires.
        out.push_str(&"  ".repeat(depth));
        out.push(marker);
        out.push(' ');
        out.push_str(&inlines(&item.content));
        out.push('\n');
        list(out, &item.children, depth + 1, marker);
    }
}

fn table(out: &mut String, head: &[String], rows: &[Vec<Vec<Inline>>]) {
    out.push('|');
    for h in head {
        out.push(' ');
        out.push_str(&escape(h, false));
        out.push_str(" |");
    }
    out.push_str("\n|");
    for _ in head {
        out.push_str(" --- |");
    }
    out.push('\n');
    for row in rows {
        out.push('|');
        for cell in row {
            out.push(' ');
            out.push_str(&inlines(cell));
            out.push_str(" |");
        }
        out.push('\n');
    }
    out.push('\n');
}

/// Inline pieces of one block; the first piece is at the start of a line.
fn inlines(content: &[Inline]) -> String {
    let mut out = String::new();
    for piece in content {
        let at_start = out.is_empty();
        match piece {
            Inline::Text(t) => out.push_str(&escape(t, at_start)),
            // An empty `****` could read as a thematic break; there is nothing to show anyway.
            Inline::Strong(t) if t.is_empty() => {}
            Inline::Strong(t) => {
                out.push_str("**");
                out.push_str(&escape(t, false));
                out.push_str("**");
            }
            Inline::Link { text, href } => match safe_href(href) {
                // A bare URL as an autolink; safe_href already excludes what would end one.
                Some(href) if text == href && !href.starts_with("mailto:") => {
                    out.push('<');
                    out.push_str(href);
                    out.push('>');
                }
                Some(href) if !text.is_empty() => {
                    out.push('[');
                    out.push_str(&escape(text, false));
                    out.push_str("](");
                    out.push_str(href);
                    out.push(')');
                }
                _ => out.push_str(&escape(text, at_start)),
            },
        }
    }
    out
}

/// Escapes text so that Markdown shows it literally. `line_start`: the text begins a line.
pub(crate) fn escape(text: &str, line_start: bool) -> String {
    let mut out = String::with_capacity(text.len() + 8);
    let leading_digits = text.bytes().take_while(u8::is_ascii_digit).count();
    for (i, c) in text.char_indices() {
        let escape = match c {
            // Inline syntax (emphasis, code, links, autolinks/HTML, tables, entities,
            // strikethrough, headings) anywhere in the line.
            '\\' | '`' | '*' | '_' | '[' | ']' | '<' | '>' | '|' | '&' | '~' | '#' => true,
            // List markers and setext underlines only at the start of a line.
            '-' | '+' | '=' => line_start && i == 0,
            // Ordered-list markers: "1." or "1)" at the start of a line.
            '.' | ')' => line_start && i > 0 && i == leading_digits && leading_digits <= 9,
            _ => false,
        };
        if escape {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_inline_syntax_everywhere() {
        assert_eq!(escape("a*b_c`d", false), "a\\*b\\_c\\`d");
        assert_eq!(escape("<script>&amp;", false), "\\<script\\>\\&amp;");
        assert_eq!(escape("x | y # z", false), "x \\| y \\# z");
        assert_eq!(escape("[a](b)", false), "\\[a\\](b)");
    }

    #[test]
    fn escapes_block_syntax_only_at_line_start() {
        assert_eq!(escape("- item", true), "\\- item");
        assert_eq!(escape("e-post", true), "e-post");
        assert_eq!(escape("1. x", true), "1\\. x");
        assert_eq!(escape("12) x", true), "12\\) x");
        assert_eq!(escape("1.5 x", false), "1.5 x");
        assert_eq!(escape("v1. x", true), "v1. x");
    }

    #[test]
    fn adjacent_lists_stay_apart() {
        let item = |t: &str| Item::new(vec![Inline::Text(t.into())]);
        let mut out = String::new();
        blocks(
            &mut out,
            &[Block::List(vec![item("a")]), Block::List(vec![item("b")])],
        );
        assert_eq!(out, "- a\n\n* b\n\n");
    }

    #[test]
    fn unsafe_links_become_text() {
        let line = inlines(&[Inline::Link {
            text: "x".into(),
            href: "javascript:alert(1)".into(),
        }]);
        assert_eq!(line, "x");
    }
}
