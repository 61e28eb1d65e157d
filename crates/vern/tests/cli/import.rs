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

/// `kill -9` in the middle of an import, twice, then a rerun: every subject is there exactly
/// once (the identifier index would refuse a duplicate; the audit chain counts them).
#[tokio::test]
async fn an_import_killed_mid_way_resumes_without_duplicates_or_gaps() {
    use sha2::Digest;
    let dir = DataDir::new();
    let n = 20_000usize;
    let mut text = String::with_capacity(n * 200);
    for i in 0..n {
        text.push_str(&format!(
            "{{\"subject_type\":\"lead\",\"identifiers\":[{{\"kind\":\"email\",\"value\":\"k{i}@kill.example\"}}],\
             \"records\":[{{\"category\":\"identity.name\",\"value\":\"K {i}\",\"source\":\"direct\",\"purposes\":[\"marketing.send\"]}}]}}\n"
        ));
    }
    std::fs::write(dir.path().join("big.jsonl"), &text).unwrap();
    let hash: String = sha2::Sha256::digest(text.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();

    let mut last = 0u64;
    for _kill in 0..2 {
        let mut child = std::process::Command::new(crate::support::bin())
            .args([
                "import",
                "big.jsonl",
                "--quiet",
                "--batch",
                "250",
                "--data",
                &dir.data(),
            ])
            .current_dir(dir.path())
            .env("VERN_LOG", "warn")
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        // Wait until at least one more batch has committed, then kill without warning.
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(120);
        loop {
            assert!(
                std::time::Instant::now() < deadline,
                "the import made no progress"
            );
            let db = dir.path().join("data/vern.sqlite3");
            if db.exists()
                && let Ok(store) = vern_store::SqlStore::open_dir(&dir.path().join("data")).await
            {
                use vern_store::ImportStore;
                let done = store
                    .import_progress(vern_core::ids::DEFAULT_TENANT, &hash)
                    .await
                    .unwrap_or(0);
                store.close().await;
                if done > last {
                    last = done;
                    break;
                }
            }
            if let Ok(Some(_)) = child.try_wait() {
                break;
            }
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
        let _ = child.kill();
        let _ = child.wait();
    }
    assert!(
        last > 0 && (last as usize) < n,
        "killed mid-way (at {last} of {n})"
    );

    let finish = dir.vern(&["import", "big.jsonl", "--quiet", "--batch", "250"]);
    assert_eq!(code(&finish), 0, "{}", stderr(&finish));
    assert!(
        stdout(&finish).contains("resumed after"),
        "{}",
        stdout(&finish)
    );
    let verify = dir.vern(&["audit", "verify"]);
    // One subject.create and one record.create per subject, each exactly once.
    assert!(
        stdout(&verify).contains(&format!("audit log ok: {} entries", 2 * n)),
        "{}",
        stdout(&verify)
    );
    // A batch killed between its key commit and its data commit left keys without subjects
    // (the rerun made new ones); `vern keys prune` removes exactly those.
    let prune = dir.vern(&["keys", "prune", "--min-age-secs", "0"]);
    assert_eq!(code(&prune), 0, "{}", stderr(&prune));
    eprintln!("import after two kills: {}", stdout(&prune).trim());
    let store = vern_store::SqlStore::open_dir(&dir.path().join("data"))
        .await
        .unwrap();
    let ids = |keys: bool| {
        let store = store.clone();
        async move {
            let sql = if keys {
                "SELECT lower(hex(subject_id)) FROM subject_keys ORDER BY 1"
            } else {
                "SELECT lower(hex(id)) FROM subjects ORDER BY 1"
            };
            store.fetch_text_for_tests(sql, keys).await.unwrap()
        }
    };
    let subjects = ids(false).await;
    assert_eq!(subjects.len(), n);
    assert_eq!(ids(true).await, subjects, "{}", stdout(&prune));
    store.close().await;
}
