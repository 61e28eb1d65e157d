//! `vern retention preview | run`: backdated imports, a dry run with its forecast, and a sweep
//! that deletes exactly what the preview said, once.

use crate::support::{DataDir, code, stderr, stdout};

const LEADS: &str = r#"{"subject_type":"lead","identifiers":[{"kind":"email","value":"old@example.com"}],"records":[{"category":"contact.email.work_named","value":"old@example.com","source":"direct","purposes":["marketing.send"],"collected_at":"2023-12-01T10:00:00Z","last_activity_at":"2024-01-10T10:00:00Z"}]}
{"subject_type":"lead","identifiers":[{"kind":"email","value":"new@example.com"}],"records":[{"category":"contact.email.work_named","value":"new@example.com","source":"direct","purposes":["marketing.send"],"collected_at":"2025-05-01T10:00:00Z","last_activity_at":"2025-06-01T10:00:00Z"}]}
"#;

#[test]
fn preview_forecasts_and_run_deletes_once() {
    let dir = DataDir::new();
    std::fs::write(dir.path().join("in.jsonl"), LEADS).unwrap();
    let out = dir.vern(&["import", "in.jsonl", "--quiet"]);
    assert_eq!(code(&out), 0, "{}", stderr(&out));

    let out = dir.vern(&[
        "retention",
        "preview",
        "--as-of",
        "2026-01-11",
        "--format",
        "json",
    ]);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let preview: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(preview["would_delete"], 1);
    assert_eq!(preview["by_rule"][0]["rule"], "marketing_contacts");
    let forecast = preview["forecast"].as_array().unwrap();
    assert_eq!(forecast.len(), 24);
    // The newer lead expires on 2027-06-01: in the 17th month after 2026-01-11.
    let month = forecast.iter().find(|m| m["total"] == 1).unwrap();
    assert_eq!(month["month"], "2027-05");

    let table = dir.vern(&["retention", "preview", "--as-of", "2026-01-11"]);
    assert!(
        stdout(&table).contains("marketing_contacts"),
        "{}",
        stdout(&table)
    );
    assert!(!stdout(&table).contains("example.com"));

    let out = dir.vern(&["retention", "run", "--as-of", "2026-01-11", "--quiet"]);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let report: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(report["deleted"], 1);
    assert_eq!(report["subjects_erased"], 1);
    assert_eq!(report["keys_shredded"], 1);
    let again = dir.vern(&["retention", "run", "--as-of", "2026-01-11", "--quiet"]);
    let report: serde_json::Value = serde_json::from_str(&stdout(&again)).unwrap();
    assert_eq!(report["deleted"], 0);

    let future = dir.vern(&["retention", "run", "--as-of", "2999-01-01", "--quiet"]);
    assert_eq!(code(&future), 1);
    assert!(stderr(&future).contains("future"));
    // The sweep is in the audit chain, which still verifies.
    let verify = dir.vern(&["audit", "verify"]);
    assert_eq!(code(&verify), 0, "{}", stdout(&verify));
}
