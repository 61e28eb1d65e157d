//! `vern campaign filter`: the allowed list and the summary.

use crate::support::{DataDir, code, stderr, stdout};

#[test]
fn campaign_filter_writes_the_allowed_rows_and_a_summary() {
    let dir = DataDir::new();
    std::fs::write(
        dir.path().join("people.jsonl"),
        concat!(
            r#"{"subject_type":"lead","identifiers":[{"kind":"email","value":"lead@example.com"}]}"#,
            "\n",
            r#"{"subject_type":"customer_contact","identifiers":[{"kind":"email","value":"buyer@example.com"}]}"#,
            "\n",
        ),
    )
    .unwrap();
    let out = dir.vern(&["import", "people.jsonl", "--quiet"]);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    std::fs::write(
        dir.path().join("recipients.csv"),
        "name,email\nLea,lead@example.com\nBo,Buyer@Example.com\nNn,nobody@example.com\nXx,not-an-address\n",
    )
    .unwrap();
    let out = dir.vern(&[
        "campaign",
        "filter",
        "recipients.csv",
        "--purpose",
        "marketing.send",
        "--channel",
        "email",
        "--message-class",
        "newsletter",
        "--quiet",
    ]);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let text = stdout(&out);
    assert!(text.contains("4 recipients"), "{text}");
    for (bucket, n) in [
        ("allowed", 1),
        ("no_consent", 2),
        ("invalid", 1),
        ("suppressed", 0),
    ] {
        assert!(
            text.lines()
                .any(|l| l.split_whitespace().collect::<Vec<_>>() == [bucket, &n.to_string()]),
            "{bucket} {n}: {text}"
        );
    }
    assert!(
        !text.contains("@example.com"),
        "no addresses on the terminal: {text}"
    );
    let allowed = std::fs::read_to_string(dir.path().join("recipients.allowed.csv")).unwrap();
    assert_eq!(allowed, "name,email\nBo,Buyer@Example.com\n");
}
