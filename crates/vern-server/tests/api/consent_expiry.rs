//! The consent expiry sweep: a consent past its `valid_for` gets an `expired` ledger event,
//! once, through the vault (moved clock) and on demand through the API.

use std::sync::Arc;

use reqwest::StatusCode;
use serde_json::{Value, json};
use vern_core::crypto::MasterKey;
use vern_core::ids::FixedClock;
use vern_server::Vault;
use vern_server::vault::{
    ConsentInput, ConsentRequestMeta, IdentifierInput, Principal, SubjectInput,
};

use crate::helpers::{bundled_policy, spawn_app};

#[tokio::test]
async fn consents_past_their_validity_are_recorded_as_expired_once() {
    let app = spawn_app().await;
    let clock = Arc::new(FixedClock::new(
        time::OffsetDateTime::from_unix_timestamp(1_767_225_600).unwrap(),
    ));
    let vault = Vault::open(
        app.vault.store().clone(),
        Arc::new(bundled_policy()),
        MasterKey::parse(&app.master_hex).unwrap(),
        Vec::new(),
        clock.clone(),
    )
    .await
    .unwrap();
    let who = Principal::cli_admin();
    let subject = vault
        .create_subject(
            &who,
            &SubjectInput {
                subject_type: "lead".into(),
                jurisdiction: None,
                identifiers: vec![IdentifierInput {
                    kind: "email".into(),
                    value: "expiring@example.com".into(),
                }],
                records: vec![],
            },
        )
        .await
        .unwrap()
        .subject
        .id;
    let grant = |scope: &str| ConsentInput {
        scope: scope.into(),
        channel: None,
        action: "granted".into(),
        method: "api".into(),
        collection_point: "test".into(),
        language: None,
        unsubscribe: false,
    };
    // 12 months' validity, and one without a limit (marketing_email).
    for scope in ["marketing_profiling", "marketing_email"] {
        vault
            .record_consent(&who, subject, &grant(scope), &ConsentRequestMeta::default())
            .await
            .unwrap();
    }
    assert_eq!(vault.expire_consents(&who).await.unwrap().expired, 0);

    clock.advance(time::Duration::days(400));
    let done = vault.expire_consents(&who).await.unwrap();
    assert_eq!((done.expired, done.subjects), (1, 1));
    assert_eq!(
        vault.expire_consents(&who).await.unwrap().expired,
        0,
        "once"
    );

    let r = app
        .get(
            &app.admin_token,
            &format!("/v1/subjects/{subject}/consents/history"),
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    let history: Value = r.json().await.unwrap();
    let text = history.to_string();
    assert!(text.contains("\"expired\""), "{text}");
    assert!(text.contains("marketing_profiling"), "{text}");

    // On demand through the API: nothing more to do at the real time.
    let r = app
        .post(&app.admin_token, "/v1/consents/expire", &json!(null))
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["expired"], 0, "{v}");
}
