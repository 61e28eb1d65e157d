//! Records over HTTP: add, read, list, update, delete, with the policy checked on each write.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{id_of, lead, lead_record, problem, spawn_app};

#[tokio::test]
async fn records_round_trip_and_updates_are_policy_checked() {
    let app = spawn_app().await;
    let subject = id_of(&app.create_subject(&lead("r@example.com")).await);
    let base = format!("/v1/subjects/{subject}/records");

    let r = app
        .post(
            &app.admin_token,
            &base,
            &lead_record(
                "identity.name",
                json!({"given": "Kari", "family": "Nordmann"}),
            ),
        )
        .await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let rec: Value = r.json().await.unwrap();
    let path = format!("{base}/{}", id_of(&rec));
    assert_eq!(
        rec["legal_basis"], "legitimate_interest",
        "derived from the purpose"
    );
    assert_eq!(rec["value"]["given"], "Kari");

    let got: Value = app.get(&app.admin_token, &path).await.json().await.unwrap();
    assert_eq!(got, rec);

    let list: Value = app.get(&app.admin_token, &base).await.json().await.unwrap();
    assert_eq!(list.as_array().unwrap().len(), 2);

    let r = app
        .patch(
            &app.admin_token,
            &path,
            &json!({"last_activity_at": "2030-01-01T00:00:00Z", "value": {"given": "Kari"}}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    let upd: Value = r.json().await.unwrap();
    assert_eq!(upd["last_activity_at"], "2030-01-01T00:00:00Z");
    assert_eq!(upd["value"], json!({"given": "Kari"}));
    assert_eq!(upd["created_at"], rec["created_at"]);

    // A purpose that does not cover the category: refused, and the record is unchanged.
    let r = app
        .patch(
            &app.admin_token,
            &path,
            &json!({"purposes": ["recruitment.process"]}),
        )
        .await;
    let p = problem(r, StatusCode::UNPROCESSABLE_ENTITY).await;
    assert_eq!(p["errors"][0]["field"], "purposes[0]");
    let got: Value = app.get(&app.admin_token, &path).await.json().await.unwrap();
    assert_eq!(got, upd);

    assert_eq!(
        app.delete(&app.admin_token, &path).await.status(),
        StatusCode::NO_CONTENT
    );
    problem(
        app.get(&app.admin_token, &path).await,
        StatusCode::NOT_FOUND,
    )
    .await;
    problem(
        app.delete(&app.admin_token, &path).await,
        StatusCode::NOT_FOUND,
    )
    .await;
}

#[tokio::test]
async fn records_of_an_unknown_subject_are_404() {
    let app = spawn_app().await;
    let missing = uuid::Uuid::now_v7();
    let r = app
        .post(
            &app.admin_token,
            &format!("/v1/subjects/{missing}/records"),
            &lead_record("identity.name", json!("Kari")),
        )
        .await;
    problem(r, StatusCode::NOT_FOUND).await;
    let r = app
        .get(&app.admin_token, &format!("/v1/subjects/{missing}/records"))
        .await;
    problem(r, StatusCode::NOT_FOUND).await;
}
