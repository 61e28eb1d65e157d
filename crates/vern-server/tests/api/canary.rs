//! The log canary: a run that stores, reads, looks up and fails on a distinctive email and name
//! emits logs (captured at TRACE for every crate, spans included) that contain neither.
//!
//! The capture is the test binary's global subscriber (see `helpers::logs`): a thread-local one
//! misses events whose callsite interest another test thread cached first.

use reqwest::StatusCode;
use serde_json::json;

use crate::helpers::{id_of, lead, logs, spawn_app};

const EMAIL: &str = "canary.thistlewood.5521@example.com";
const NAME: &str = "Philippa Thistlewood-Marchetti";

#[tokio::test]
async fn logs_never_contain_personal_data() {
    let app = spawn_app().await;
    let t = app.admin_token.clone();
    let created = app.create_subject(&lead(EMAIL)).await;
    let id = id_of(&created);
    let r = app
        .post(
            &t,
            &format!("/v1/subjects/{id}/records"),
            &json!({"category": "identity.name", "value": NAME, "source": "direct",
                    "purposes": ["marketing.send"]}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::CREATED);
    app.get(&t, &format!("/v1/subjects/{id}")).await;
    app.post(&t, "/v1/lookup", &json!({"kind": "email", "value": EMAIL}))
        .await;
    // Failures with the data in awkward places: a duplicate, a wrong type, an unknown field
    // named after the person, a policy violation, and a query string.
    app.post(&t, "/v1/subjects", &lead(EMAIL)).await;
    app.post(&t, "/v1/subjects", &json!({"subject_type": EMAIL}))
        .await;
    app.post(
        &t,
        "/v1/subjects",
        &json!({"subject_type": "lead", NAME: EMAIL}),
    )
    .await;
    app.post(
        &t,
        &format!("/v1/subjects/{id}/records"),
        &json!({"category": NAME, "value": EMAIL, "source": "direct", "purposes": [EMAIL]}),
    )
    .await;
    app.get(&t, &format!("/v1/subjects?after={EMAIL}")).await;
    app.get(&t, &format!("/v1/nowhere/{EMAIL}")).await;
    drop(app);

    let logs = logs();
    assert!(logs.contains("answered"), "the capture works: {logs}");
    assert!(
        logs.contains("/v1/subjects/{subject_id}"),
        "routes are logged as templates"
    );
    for needle in [
        EMAIL,
        NAME,
        "thistlewood",
        "Thistlewood",
        "canary.thistlewood",
    ] {
        assert!(!logs.contains(needle), "{needle} leaked into the logs");
    }
}
