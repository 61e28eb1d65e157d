//! `vern audit verify` on a clean chain, and after a row is tampered with through a raw
//! connection that first drops the append-only trigger (as an attacker with file access would).

use crate::support::{DataDir, code, stderr, stdout};

#[tokio::test]
async fn audit_verify_passes_clean_and_names_the_tampered_entry() {
    let dir = DataDir::new();
    std::fs::write(
        dir.path().join("in.jsonl"),
        r#"{"subject_type":"lead","identifiers":[{"kind":"email","value":"audit@example.com"}],"records":[{"category":"identity.name","value":"Aud It","source":"direct","purposes":["marketing.send"]},{"category":"contact.email.work_named","value":"audit@example.com","source":"direct","purposes":["marketing.send"]}]}
"#,
    )
    .unwrap();
    let import = dir.vern(&["import", "in.jsonl", "--quiet"]);
    assert_eq!(code(&import), 0, "{}", stderr(&import));
    let clean = dir.vern(&["audit", "verify"]);
    assert_eq!(code(&clean), 0, "{}", stdout(&clean));
    assert!(
        stdout(&clean).contains("audit log ok: 3 entries"),
        "{}",
        stdout(&clean)
    );

    let store = vern_store::SqlStore::open_dir(&dir.path().join("data"))
        .await
        .unwrap();
    // The database refuses the change while its trigger stands…
    assert!(
        store
            .execute_raw_for_tests("UPDATE audit_log SET action = 'x' WHERE seq = 2")
            .await
            .is_err()
    );
    // …so the tamperer drops it first.
    store
        .execute_raw_for_tests("DROP TRIGGER audit_log_no_update")
        .await
        .unwrap();
    store
        .execute_raw_for_tests("UPDATE audit_log SET action = 'record.nothing' WHERE seq = 2")
        .await
        .unwrap();
    store.close().await;

    let broken = dir.vern(&["audit", "verify"]);
    assert_eq!(code(&broken), 1);
    assert!(
        stdout(&broken).contains("BROKEN at entry 2"),
        "{}",
        stdout(&broken)
    );
}
