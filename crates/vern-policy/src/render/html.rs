//! The notice as one standalone HTML5 page: no scripts, no styles, no external resources, so it
//! can be published as is or wrapped by a site's own template.

use super::doc::{Block, Doc, Inline, Item};
use super::safe_href;

pub(crate) fn emit(doc: &Doc) -> String {
    let mut out = String::new();
    out.push_str("<!DOCTYPE html>\n");
    out.push_str(&format!("<html lang=\"{}\">\n", escape(doc.lang)));
    out.push_str("<head>\n<meta charset=\"utf-8\">\n");
    out.push_str("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n");
    out.push_str(&format!("<title>{}</title>\n", escape(&doc.page_title)));
    out.push_str("</head>\n<body>\n<main>\n<header>\n");
    out.push_str(&format!("<h1>{}</h1>\n", escape(&doc.title)));
    blocks(&mut out, &doc.intro);
    out.push_str("</header>\n");
    for section in &doc.sections {
        out.push_str(&format!("<section id=\"{}\">\n", escape(section.id)));
        out.push_str(&format!("<h2>{}</h2>\n", escape(&section.heading)));
        blocks(&mut out, &section.blocks);
        out.push_str("</section>\n");
    }
    out.push_str("</main>\n</body>\n</html>\n");
    out
}

fn blocks(out: &mut String, blocks: &[Block]) {
    for block in blocks {
        match block {
            Block::Subheading(text) => out.push_str(&format!("<h3>{}</h3>\n", escape(text))),
            Block::Para(content) => out.push_str(&format!("<p>{}</p>\n", inlines(content))),
            Block::List(items) => list(out, items),
            Block::Table { head, rows } => {
                out.push_str("<table>\n<thead>\n<tr>");
                for h in head {
                    out.push_str(&format!("<th scope=\"col\">{}</th>", escape(h)));
                }
                out.push_str("</tr>\n</thead>\n<tbody>\n");
                for row in rows {
                    out.push_str("<tr>");
                    for cell in row {
                        out.push_str(&format!("<td>{}</td>", inlines(cell)));
                    }
                    out.push_str("</tr>\n");
                }
                out.push_str("</tbody>\n</table>\n");
            }
        }
    }
}

fn list(out: &mut String, items: &[Item]) {
    out.push_str("<ul>\n");
    for item in items {
        out.push_str("<li>");
        out.push_str(&inlines(&item.content));
        if !item.children.is_empty() {
            out.push('\n');
            list(out, &item.children);
        }
        out.push_str("</li>\n");
    }
    out.push_str("</ul>\n");
}

fn inlines(content: &[Inline]) -> String {
    let mut out = String::new();
    for piece in content {
        match piece {
            Inline::Text(t) => out.push_str(&escape(t)),
            Inline::Strong(t) => out.push_str(&format!("<strong>{}</strong>", escape(t))),
            Inline::Link { text, href } => match safe_href(href) {
                Some(href) => {
                    out.push_str(&format!(
                        "<a href=\"{}\">{}</a>",
                        escape(href),
                        escape(text)
                    ));
                }
                None => out.push_str(&escape(text)),
            },
        }
    }
    out
}

/// Escapes text for element content and double-quoted attribute values alike.
pub(crate) fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_markup_and_quotes() {
        assert_eq!(
            escape(r#"<a href="x">'&'</a>"#),
            "&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;"
        );
    }

    #[test]
    fn links_are_escaped_or_dropped() {
        let ok = inlines(&[Inline::Link {
            text: "a&b".into(),
            href: "https://x.example/?a=1&b=2".into(),
        }]);
        assert_eq!(ok, "<a href=\"https://x.example/?a=1&amp;b=2\">a&amp;b</a>");
        let bad = inlines(&[Inline::Link {
            text: "<x>".into(),
            href: "javascript:alert(1)".into(),
        }]);
        assert_eq!(bad, "&lt;x&gt;");
    }
}
