//! `vern import`: bad lines reported with numbers and nothing stored; good files imported;
//! a rerun resumes instead of duplicating.

use crate::support::{DataDir, code, stderr, stdout};

const GOOD: &str = r#"{"subject_type":"lead","identifiers":[{"kind":"email","value":"a1@example.com"}],"records":[{"category":"contact.email.work_named","value":"a1@example.com","source":"direct","purposes":["marketing.send"]}]}
{"subject_type":"lead","identifiers":[{"kind":"email","value":"a2@example.com"}],"records":[{"category":"identity.name","value":"Ada","source":"direct","purposes":["marketing.send"]}]}
"#;

#[test]
fn a_file_with_bad_lines_is_rejected_whole_with_line_numbers() {
    let dir = DataDir::new();
    let file = dir.path().join("in.jsonl");
    let bad = format!(
        "{GOOD}{}\nnot json\n{}\n",
        r#"{"subject_type":"lead","records":[{"category":"recruitment.cv","value":"x","source":"direct","purposes":["marketing.send"]}]}"#,
        r#"{"subject_type":"lead","identifiers":[{"kind":"email","value":"A1@Example.com"}]}"#
    );
    std::fs::write(&file, bad).unwrap();
    let out = dir.vern(&["import", "in.jsonl", "--quiet"]);
    assert_eq!(code(&out), 1);
    let err = stderr(&out);
    assert!(
        err.contains("in.jsonl:3: error: records[0].purposes[0]"),
        "{err}"
    );
    assert!(err.contains("in.jsonl:4: error: not valid JSON"), "{err}");
    assert!(
        err.contains("in.jsonl:5: error: a email identifier appears twice"),
        "{err}"
    );
    assert!(err.contains("nothing was imported"), "{err}");
    assert!(
        !err.contains("a1@example.com") && !err.contains("A1@Example.com"),
        "no values in errors: {err}"
    );
    let verify = dir.vern(&["audit", "verify"]);
    assert!(
        stdout(&verify).contains("0 entries"),
        "nothing written: {}",
        stdout(&verify)
    );
}

#[test]
fn a_good_file_is_imported_once_and_a_rerun_is_a_no_op() {
    let dir = DataDir::new();
    std::fs::write(dir.path().join("in.jsonl"), GOOD).unwrap();
    let out = dir.vern(&["import", "in.jsonl", "--quiet"]);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    assert!(
        stdout(&out).contains("imported 2 subjects"),
        "{}",
        stdout(&out)
    );
    let again = dir.vern(&["import", "in.jsonl", "--quiet"]);
    assert_eq!(code(&again), 0);
    assert!(
        stdout(&again).contains("already imported"),
        "{}",
        stdout(&again)
    );
}

#[test]
fn a_csv_file_groups_rows_by_subject_ref() {
    let dir = DataDir::new();
    std::fs::write(
        dir.path().join("in.csv"),
        "subject_ref,subject_type,email,category,value,source,purposes\n\
         r1,lead,c1@example.com,contact.email.work_named,c1@example.com,direct,marketing.send\n\
         r1,lead,,identity.name,Carla,direct,marketing.send\n\
         r2,lead,c2@example.com,contact.email.work_named,c2@example.com,direct,marketing.send\n",
    )
    .unwrap();
    let out = dir.vern(&["import", "in.csv", "--quiet"]);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    assert!(
        stdout(&out).contains("imported 2 subjects (3 records"),
        "{}",
        stdout(&out)
    );
}

#[test]
fn an_unknown_csv_column_is_reported_on_line_1() {
    let dir = DataDir::new();
    std::fs::write(
        dir.path().join("in.csv"),
        "subject_ref,subject_type,shoe_size\n",
    )
    .unwrap();
    let out = dir.vern(&["import", "in.csv", "--quiet"]);
    assert_eq!(code(&out), 1);
    assert!(
        stderr(&out).contains("in.csv:1: error: unknown column `shoe_size`"),
        "{}",
        stderr(&out)
    );
}
