//! The audit log: writes and reads are recorded without personal data, the chain verifies,
//! and a tampered row is reported at its exact sequence number.

use reqwest::StatusCode;
use serde_json::Value;

use crate::helpers::{id_of, lead, spawn_app, spawn_sqlite_app};

const EMAIL: &str = "audit.trail.person@example.net";

#[tokio::test]
async fn reads_and_writes_are_audited_without_personal_data() {
    let app = spawn_app().await;
    let created = app.create_subject(&lead(EMAIL)).await;
    let id = id_of(&created);
    app.get(&app.admin_token, &format!("/v1/subjects/{id}"))
        .await;
    app.delete(&app.admin_token, &format!("/v1/subjects/{id}"))
        .await;

    let entries = app.audit_entries().await;
    let actions: Vec<&str> = entries.iter().map(|e| e.entry.action.as_str()).collect();
    for a in [
        "token.create",
        "subject.create",
        "record.create",
        "subject.read",
        "record.read",
        "subject.erase",
    ] {
        assert!(actions.contains(&a), "{a} missing from {actions:?}");
    }
    let create = entries
        .iter()
        .find(|e| e.entry.action == "record.create")
        .unwrap();
    assert_eq!(create.entry.purpose.as_deref(), Some("marketing.send"));
    assert_eq!(
        create.entry.subject_id.map(|u| u.to_string()),
        Some(id.clone())
    );
    assert!(create.entry.actor.starts_with("token:"));
    for e in &entries {
        let text = format!("{:?}", e.entry);
        assert!(
            !text.contains(EMAIL) && !text.contains("audit.trail"),
            "{text}"
        );
    }

    let r = app.get(&app.admin_token, "/v1/audit/verify").await;
    assert_eq!(r.status(), StatusCode::OK);
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["ok"], true, "{v}");
    assert_eq!(v["entries"].as_u64().unwrap() as usize, entries.len());
}

#[tokio::test]
async fn a_tampered_entry_is_reported_at_its_sequence_number() {
    let app = spawn_sqlite_app().await;
    for i in 0..3 {
        app.create_subject(&lead(&format!("t{i}@example.net")))
            .await;
    }
    let entries = app.audit_entries().await;
    assert!(entries.len() >= 5);
    let target = entries[3].seq;
    let store = app.vault.store();
    store
        .execute_raw_for_tests("DROP TRIGGER audit_log_no_update")
        .await
        .unwrap();
    let changed = store
        .execute_raw_for_tests(&format!(
            "UPDATE audit_log SET action = 'subject.nothing_to_see' WHERE seq = {target}"
        ))
        .await
        .unwrap();
    assert_eq!(changed, 1);

    let v: Value = app
        .get(&app.admin_token, "/v1/audit/verify")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(v["ok"], false, "{v}");
    assert_eq!(v["seq"], target, "{v}");
    assert!(v["reason"].is_string());
}
