//! Rendering the record's rows as RFC 4180 CSV or as Markdown.

use std::fmt::Write as _;

use super::{COLUMNS, RopaRow, SECURITY_MEASURES, SHARED_COLUMNS, Value, controller_facts};
use crate::Policy;

/// RFC 4180: CRLF line ends; a field is quoted when it holds a comma, quote, CR or LF, and
/// quotes inside are doubled.
pub(super) fn render_csv(rows: &[RopaRow]) -> String {
    let mut out = String::new();
    let header: Vec<String> = COLUMNS.iter().map(|(c, _)| csv_field(c)).collect();
    out.push_str(&header.join(","));
    out.push_str("\r\n");
    for row in rows {
        let cells: Vec<String> = row
            .values()
            .iter()
            .map(|v| match v {
                Value::One(s) => csv_field(s),
                Value::Many(items) => csv_field(&items.join("; ")),
            })
            .collect();
        out.push_str(&cells.join(","));
        out.push_str("\r\n");
    }
    out
}

fn csv_field(s: &str) -> String {
    if s.contains([',', '"', '\r', '\n']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_owned()
    }
}

/// A table cell: `|` would end the cell and a newline the row.
fn md_cell(s: &str) -> String {
    s.trim()
        .replace('|', "\\|")
        .replace("\r\n", "<br>")
        .replace(['\n', '\r'], "<br>")
}

fn md_value(v: &Value<'_>) -> String {
    match v {
        Value::One(s) => md_cell(s),
        Value::Many(items) => items
            .iter()
            .map(|i| md_cell(i))
            .collect::<Vec<_>>()
            .join("<br>"),
    }
}

pub(super) fn render_markdown(policy: &Policy, rows: &[RopaRow]) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "# Record of processing activities (GDPR Art. 30(1))\n");
    let _ = writeln!(
        out,
        "Generated from policy version {} (SHA-256 `{}`).\n",
        md_cell(policy.raw.version.get_ref()),
        policy.content_hash
    );

    let _ = writeln!(out, "## Controller and security measures\n");
    let _ = writeln!(out, "| Field | Value |\n|---|---|");
    let [controller, contact, dpo] = controller_facts(policy);
    let shared = [controller, contact, dpo, SECURITY_MEASURES.to_owned()];
    for (i, value) in SHARED_COLUMNS.iter().zip(shared) {
        let _ = writeln!(out, "| {} | {} |", COLUMNS[*i].1, md_cell(&value));
    }

    let _ = writeln!(out, "\n## Processing activities\n");
    if rows.is_empty() {
        out.push_str("_No processing activities are declared._\n");
        return out;
    }
    let _ = writeln!(
        out,
        "| # | Purpose | Data subjects | Legal basis |\n|---|---|---|---|"
    );
    for (n, row) in rows.iter().enumerate() {
        let _ = writeln!(
            out,
            "| {} | {} (`{}`) | {} (`{}`) | {} |",
            n + 1,
            md_cell(&row.purpose_name),
            md_cell(&row.purpose_id),
            md_cell(&row.subject_type_name),
            md_cell(&row.subject_type),
            md_cell(&row.legal_basis),
        );
    }

    for (n, row) in rows.iter().enumerate() {
        let _ = writeln!(
            out,
            "\n### {}. {} × {}\n",
            n + 1,
            md_cell(&row.purpose_name),
            md_cell(&row.subject_type_name)
        );
        let _ = writeln!(out, "| Field | Value |\n|---|---|");
        for (i, value) in row.values().iter().enumerate() {
            if SHARED_COLUMNS.contains(&i) {
                continue;
            }
            let text = md_value(value);
            let text = if text.is_empty() {
                "none".to_owned()
            } else {
                text
            };
            let _ = writeln!(out, "| {} | {} |", COLUMNS[i].1, text);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ropa::RopaFormat;

    #[test]
    fn csv_quotes_only_when_needed() {
        assert_eq!(csv_field("plain"), "plain");
        assert_eq!(csv_field("a, b"), "\"a, b\"");
        assert_eq!(csv_field("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(csv_field("two\nlines"), "\"two\nlines\"");
    }

    #[test]
    fn markdown_cells_cannot_break_the_table() {
        assert_eq!(md_cell("a | b\nc"), "a \\| b<br>c");
    }

    #[test]
    fn formats_parse() {
        assert_eq!("csv".parse(), Ok(RopaFormat::Csv));
        assert_eq!("md".parse(), Ok(RopaFormat::Markdown));
        assert!("xlsx".parse::<RopaFormat>().is_err());
    }
}
