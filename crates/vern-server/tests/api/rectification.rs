//! Rectification: a typed correction checked against the policy; the audit entry proves the
//! before and after values without holding them in the clear, and erasure makes the proof
//! unreadable with the rest of the subject's data.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{id_of, lead, problem, spawn_app};

#[tokio::test]
async fn a_correction_is_audited_with_sealed_before_and_after() {
    let app = spawn_app().await;
    let created = app.create_subject(&lead("old.address@example.com")).await;
    let s = id_of(&created);
    let rec = id_of(&created["records"][0]);
    let path = format!("/v1/subjects/{s}/records/{rec}/rectification");

    let r = app
        .post(
            &app.admin_token,
            &path,
            &json!({"value": "new.address@example.com"}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    let out: Value = r.json().await.unwrap();
    assert_eq!(out["before"], "old.address@example.com");
    assert_eq!(out["after"], "new.address@example.com");
    assert_eq!(out["record"]["value"], "new.address@example.com");
    let record: Value = app
        .get(&app.admin_token, &format!("/v1/subjects/{s}/records/{rec}"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(record["value"], "new.address@example.com");

    // The audit entry holds ciphertext only, and the vault opens it as proof.
    let audit = app.audit_entries().await;
    let entry = audit
        .iter()
        .find(|e| e.entry.action == "record.rectify")
        .unwrap();
    assert!(
        !entry.entry.detail.contains("address@example.com"),
        "{}",
        entry.entry.detail
    );
    let detail: Value = serde_json::from_str(&entry.entry.detail).unwrap();
    let subject = uuid::Uuid::parse_str(&s).unwrap();
    let (before, after) = app
        .vault
        .open_rectification(subject, entry.entry.id, &detail)
        .await
        .unwrap();
    assert_eq!(
        (before, after),
        (
            json!("old.address@example.com"),
            json!("new.address@example.com")
        )
    );
    // Bound to its entry: another entry id does not open it.
    assert!(
        app.vault
            .open_rectification(subject, uuid::Uuid::now_v7(), &detail)
            .await
            .is_err()
    );

    // Invalid input: unknown fields and extra keys are refused, nothing changes.
    let r = app
        .post(
            &app.admin_token,
            &path,
            &json!({"value": "x@example.com", "category": "identity.name"}),
        )
        .await;
    problem(r, StatusCode::UNPROCESSABLE_ENTITY).await;

    // After erasure the proof can no longer be opened.
    let r = app
        .delete(&app.admin_token, &format!("/v1/subjects/{s}"))
        .await;
    assert!(r.status().is_success());
    assert!(
        app.vault
            .open_rectification(subject, entry.entry.id, &detail)
            .await
            .is_err()
    );
}
