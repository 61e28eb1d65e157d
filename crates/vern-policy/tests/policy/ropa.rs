//! The record of processing (Art. 30): one row per purpose × subject type, CSV that reads back
//! with the same shape, readable Markdown.

// A test fails by panicking; the workspace's `panic` lint is meant for library code.

use vern_policy::Policy;
use vern_policy::ropa::{COLUMNS, RopaFormat, render_ropa, ropa_rows};

use crate::support;

/// Every (purpose, subject type) pair the policy declares, in policy order.
fn declared_pairs(policy: &Policy) -> Vec<(String, String)> {
    policy
        .raw
        .purposes
        .iter()
        .flat_map(|p| {
            p.subject_types
                .get_ref()
                .iter()
                .map(move |s| (p.id.get_ref().clone(), s.get_ref().clone()))
        })
        .collect()
}

/// A small RFC 4180 reader: quoted fields with doubled quotes, CRLF record ends. Panics on
/// anything malformed so the test names the problem.
fn parse_csv(text: &str) -> Vec<Vec<String>> {
    let mut records = Vec::new();
    let mut record = Vec::new();
    let mut field = String::new();
    let mut quoted = false;
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        if quoted {
            match c {
                '"' if chars.peek() == Some(&'"') => {
                    field.push('"');
                    chars.next();
                }
                '"' => {
                    quoted = false;
                    let next = chars.peek().copied();
                    assert!(
                        matches!(next, None | Some(',' | '\r')),
                        "text after a closing quote: {next:?}"
                    );
                }
                _ => field.push(c),
            }
            continue;
        }
        match c {
            '"' => {
                assert!(
                    field.is_empty(),
                    "quote inside an unquoted field: {field:?}"
                );
                quoted = true;
            }
            ',' => record.push(std::mem::take(&mut field)),
            '\r' => {
                assert_eq!(chars.next(), Some('\n'), "CR not followed by LF");
                record.push(std::mem::take(&mut field));
                records.push(std::mem::take(&mut record));
            }
            '\n' => panic!("bare LF ends a record; RFC 4180 wants CRLF"),
            _ => field.push(c),
        }
    }
    assert!(!quoted, "unterminated quoted field");
    assert!(
        field.is_empty() && record.is_empty(),
        "last record lacks CRLF"
    );
    records
}

#[test]
fn minimal_lists_every_purpose_and_subject_type() {
    let policy = support::valid_fixture("minimal.toml");
    let rows = ropa_rows(&policy, "en");
    let got: Vec<(String, String)> = rows
        .iter()
        .map(|r| (r.purpose_id.clone(), r.subject_type.clone()))
        .collect();
    assert_eq!(got, declared_pairs(&policy));
    assert_eq!(got.len(), 2);
}

#[test]
fn minimal_rows_carry_the_art30_content() {
    let policy = support::valid_fixture("minimal.toml");
    let rows = ropa_rows(&policy, "en");
    let [marketing, recruitment] = &rows[..] else {
        panic!("expected two rows, got {}", rows.len());
    };

    assert_eq!(
        marketing.controller,
        "Eksempel AS, Storgata 1, 0155 Oslo, NO"
    );
    assert_eq!(marketing.purpose_name, "Marketing");
    assert_eq!(marketing.legal_basis, "Art. 6(1)(f) legitimate interest");
    assert!(
        marketing
            .legal_basis_detail
            .contains(&"LIA: LIA-1".to_owned())
    );
    // `contact` is a group: the record names the leaf it covers.
    assert_eq!(marketing.data_categories, ["contact.email"]);
    assert_eq!(marketing.recipients, ["esp (processor)"]);
    assert_eq!(
        marketing.transfers,
        ["esp: US, SCC 2021/914 module 3 (Art. 46(2)(c)), no TIA reference"]
    );
    assert_eq!(
        marketing.retention,
        ["leads (contact): delete 24 months after last registered activity"]
    );

    assert_eq!(recruitment.subject_type_name, "Job applicant");
    assert_eq!(
        recruitment.data_categories,
        ["contact.email", "recruitment.cv"]
    );
    // The leads rule is for leads only: applicants' email has no rule, and the record says so.
    assert_eq!(
        recruitment.retention,
        [
            "recruitment (recruitment): delete 6 months after last application date",
            "no retention rule applies to contact.email",
        ]
    );
    assert!(recruitment.recipients.is_empty());
    assert!(!recruitment.security_measures.is_empty());

    let nb = ropa_rows(&policy, "nb");
    assert_eq!(nb[0].purpose_name, "Markedsføring");
}

#[test]
fn csv_reads_back_with_the_same_columns_on_every_line() {
    let policy = support::valid_fixture("minimal.toml");
    let csv = render_ropa(&policy, RopaFormat::Csv, "en");
    let records = parse_csv(&csv);
    assert_eq!(records.len(), 1 + ropa_rows(&policy, "en").len());
    for (i, r) in records.iter().enumerate() {
        assert_eq!(r.len(), COLUMNS.len(), "line {i}: {r:?}");
    }
    let header: Vec<&str> = COLUMNS.iter().map(|(c, _)| *c).collect();
    assert_eq!(records[0], header);
}

#[test]
fn csv_and_markdown_survive_commas_quotes_pipes_and_newlines() {
    let source = support::fixture_source("minimal.toml").replace(
        r#"en = "Send marketing." }"#,
        r#"en = "Send \"news\", offers;\nand | more." }"#,
    );
    let policy = match Policy::parse(&source) {
        Ok((p, _)) => p,
        Err(d) => panic!("{}", d.render("minimal.toml", &source)),
    };
    let tricky = "Send \"news\", offers;\nand | more.";
    assert_eq!(ropa_rows(&policy, "en")[0].purpose_description, tricky);

    let records = parse_csv(&render_ropa(&policy, RopaFormat::Csv, "en"));
    assert!(records.iter().all(|r| r.len() == COLUMNS.len()));
    let Some(col) = COLUMNS
        .iter()
        .position(|(c, _)| *c == "purpose_description")
    else {
        panic!("no purpose_description column");
    };
    assert_eq!(records[1][col], tricky);

    let md = render_ropa(&policy, RopaFormat::Markdown, "en");
    assert!(
        md.contains(r#"Send "news", offers;<br>and \| more."#),
        "{md}"
    );
    // Every table row still has its two cells: no raw `|` or newline broke one.
    for line in md
        .lines()
        .filter(|l| l.starts_with("| ") && !l.starts_with("| #"))
    {
        let cells = line.replace(r"\|", "").matches('|').count();
        assert!(cells == 3 || cells == 5, "broken table row: {line}");
    }
}

#[test]
fn minimal_markdown_snapshot() {
    let policy = support::valid_fixture("minimal.toml");
    insta::assert_snapshot!(
        "ropa_minimal_md",
        render_ropa(&policy, RopaFormat::Markdown, "en")
    );
}

#[test]
fn minimal_csv_snapshot() {
    let policy = support::valid_fixture("minimal.toml");
    insta::assert_snapshot!(
        "ropa_minimal_csv",
        render_ropa(&policy, RopaFormat::Csv, "en")
    );
}

#[test]
fn bundled_ropa_lists_every_purpose() {
    let policy = support::bundled();
    let rows = ropa_rows(&policy, "nb");
    let got: Vec<(String, String)> = rows
        .iter()
        .map(|r| (r.purpose_id.clone(), r.subject_type.clone()))
        .collect();
    assert_eq!(got, declared_pairs(&policy));
    for purpose in &policy.raw.purposes {
        assert!(
            rows.iter().any(|r| &r.purpose_id == purpose.id.get_ref()),
            "purpose {} missing from the record",
            purpose.id.get_ref()
        );
    }
    let records = parse_csv(&render_ropa(&policy, RopaFormat::Csv, "nb"));
    assert!(records.iter().all(|r| r.len() == COLUMNS.len()));
}
