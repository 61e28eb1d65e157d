//! Subjects, identifiers and lookup over HTTP: the happy paths, pagination, idempotency,
//! erasure, and the operational endpoints.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{id_of, lead, problem, spawn_app};

#[tokio::test]
async fn create_read_update_erase_a_subject() {
    let app = spawn_app().await;
    let r = app
        .post(
            &app.admin_token,
            "/v1/subjects",
            &lead(" Kari.Nordmann@Example.COM "),
        )
        .await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let location = r.headers()["location"].to_str().unwrap().to_owned();
    let created: Value = r.json().await.unwrap();
    let id = id_of(&created);
    assert_eq!(location, format!("/v1/subjects/{id}"));
    assert_eq!(created["subject_type"], "lead");
    // Identifiers are stored normalised; record values exactly as sent.
    assert_eq!(
        created["identifiers"][0]["value"],
        "kari.nordmann@example.com"
    );
    assert_eq!(created["records"][0]["legal_basis"], "legitimate_interest");

    let got: Value = app
        .get(&app.admin_token, &location)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(got, created);

    let r = app
        .patch(&app.admin_token, &location, &json!({"jurisdiction": "SE"}))
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    let patched: Value = r.json().await.unwrap();
    assert_eq!(patched["jurisdiction"], "SE");
    assert_eq!(patched["subject_type"], "lead");

    // A type under which the stored record's purpose does not apply: refused, unchanged.
    let r = app
        .patch(
            &app.admin_token,
            &location,
            &json!({"subject_type": "job_applicant"}),
        )
        .await;
    let p = problem(r, StatusCode::UNPROCESSABLE_ENTITY).await;
    assert_eq!(p["errors"][0]["code"], "records_incompatible");
    let got: Value = app
        .get(&app.admin_token, &location)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(got["subject_type"], "lead");

    let r = app.delete(&app.admin_token, &location).await;
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    problem(
        app.get(&app.admin_token, &location).await,
        StatusCode::NOT_FOUND,
    )
    .await;
    problem(
        app.post(
            &app.admin_token,
            "/v1/lookup",
            &json!({"kind": "email", "value": "kari.nordmann@example.com"}),
        )
        .await,
        StatusCode::NOT_FOUND,
    )
    .await;
}

#[tokio::test]
async fn lookup_finds_a_subject_by_normalised_identifier() {
    let app = spawn_app().await;
    let created = app.create_subject(&lead("ola@example.com")).await;
    let r = app
        .post(
            &app.admin_token,
            "/v1/lookup",
            &json!({"kind": "email", "value": "  OLA@example.com"}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["subject_id"], created["id"]);
    problem(
        app.post(
            &app.admin_token,
            "/v1/lookup",
            &json!({"kind": "email", "value": "nobody@example.com"}),
        )
        .await,
        StatusCode::NOT_FOUND,
    )
    .await;
}

#[tokio::test]
async fn identifiers_can_be_added_listed_and_deleted_and_are_unique() {
    let app = spawn_app().await;
    let a = id_of(&app.create_subject(&lead("a@example.com")).await);
    let b = id_of(&app.create_subject(&lead("b@example.com")).await);
    let path = format!("/v1/subjects/{a}/identifiers");
    let r = app
        .post(
            &app.admin_token,
            &path,
            &json!({"kind": "phone", "value": "+47 22 33 44 55"}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let phone: Value = r.json().await.unwrap();
    assert_eq!(phone["value"], "+4722334455");

    let list: Value = app.get(&app.admin_token, &path).await.json().await.unwrap();
    assert_eq!(list.as_array().unwrap().len(), 2);

    // b's email cannot be given to a as well.
    let r = app
        .post(
            &app.admin_token,
            &path,
            &json!({"kind": "email", "value": "B@example.com"}),
        )
        .await;
    problem(r, StatusCode::CONFLICT).await;
    let _ = b;

    let r = app
        .delete(&app.admin_token, &format!("{path}/{}", id_of(&phone)))
        .await;
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    let list: Value = app.get(&app.admin_token, &path).await.json().await.unwrap();
    assert_eq!(list.as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn subjects_are_listed_a_keyset_page_at_a_time() {
    let app = spawn_app().await;
    let mut ids = Vec::new();
    for i in 0..5 {
        ids.push(id_of(
            &app.create_subject(&lead(&format!("p{i}@example.com")))
                .await,
        ));
    }
    let mut seen = Vec::new();
    let mut path = "/v1/subjects?limit=2".to_owned();
    loop {
        let page: Value = app.get(&app.admin_token, &path).await.json().await.unwrap();
        for item in page["items"].as_array().unwrap() {
            assert!(
                item.get("records").is_none(),
                "lists carry no personal data"
            );
            seen.push(id_of(item));
        }
        match page["next"].as_str() {
            Some(next) => path = format!("/v1/subjects?limit=2&after={next}"),
            None => break,
        }
    }
    assert_eq!(seen, ids);
}

#[tokio::test]
async fn idempotency_key_replays_the_first_outcome() {
    let app = spawn_app().await;
    let send = |body: Value| {
        app.client
            .post(app.url("/v1/subjects"))
            .bearer_auth(&app.admin_token)
            .header("Idempotency-Key", "create-42")
            .json(&body)
            .send()
    };
    let first = send(lead("idem@example.com")).await.unwrap();
    assert_eq!(first.status(), StatusCode::CREATED);
    let first: Value = first.json().await.unwrap();
    let again = send(lead("idem@example.com")).await.unwrap();
    assert_eq!(again.status(), StatusCode::CREATED);
    let again: Value = again.json().await.unwrap();
    assert_eq!(again["id"], first["id"]);
    assert_eq!(app.subject_count().await, 1);

    let other = send(lead("other@example.com")).await.unwrap();
    let p = problem(other, StatusCode::UNPROCESSABLE_ENTITY).await;
    assert_eq!(
        p["type"],
        "https://vern.dev/problems/idempotency-key-reused"
    );
    assert_eq!(app.subject_count().await, 1);
}

#[tokio::test]
async fn health_readiness_and_metrics() {
    let app = spawn_app().await;
    let r = app.client.get(app.url("/healthz")).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let r = app.client.get(app.url("/readyz")).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let created = app.create_subject(&lead("m@example.com")).await;
    let id = id_of(&created);
    app.get(&app.admin_token, &format!("/v1/subjects/{id}"))
        .await;
    let r = app.client.get(app.url("/metrics")).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let text = r.text().await.unwrap();
    assert!(text.contains("vern_http_requests_total"), "{text}");
    assert!(
        text.contains("route=\"/v1/subjects/{subject_id}\""),
        "{text}"
    );
    assert!(!text.contains(&id), "raw paths must not become labels");
}

#[tokio::test]
async fn initial_admin_token_is_created_once() {
    let app = spawn_app().await;
    let again = vern_server::ensure_initial_admin_token(&app.vault)
        .await
        .unwrap();
    assert_eq!(again, None);
    let tokens: Value = app
        .get(&app.admin_token, "/v1/tokens")
        .await
        .json()
        .await
        .unwrap();
    let tokens = tokens.as_array().unwrap();
    assert_eq!(tokens.len(), 1);
    assert_eq!(tokens[0]["name"], "initial-admin");
    assert_eq!(tokens[0]["role"], "admin");
    assert!(tokens[0].get("secret").is_none());
}

#[tokio::test]
async fn revoked_tokens_are_refused() {
    let app = spawn_app().await;
    let r = app
        .post(
            &app.admin_token,
            "/v1/tokens",
            &json!({"name": "tmp", "role": "support"}),
        )
        .await;
    let t: Value = r.json().await.unwrap();
    let secret = t["secret"].as_str().unwrap();
    assert!(secret.starts_with("vern_"));
    assert_eq!(
        app.get(secret, "/v1/subjects").await.status(),
        StatusCode::OK
    );
    let r = app
        .delete(&app.admin_token, &format!("/v1/tokens/{}", id_of(&t)))
        .await;
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    let r = app.get(secret, "/v1/subjects").await;
    assert!(r.headers().contains_key("www-authenticate"));
    problem(r, StatusCode::UNAUTHORIZED).await;
}

#[tokio::test]
async fn readiness_fails_when_the_database_is_gone() {
    let app = spawn_app().await;
    app.vault.store().close().await;
    let r = app.client.get(app.url("/readyz")).send().await.unwrap();
    problem(r, StatusCode::SERVICE_UNAVAILABLE).await;
    let r = app.client.get(app.url("/healthz")).send().await.unwrap();
    assert_eq!(
        r.status(),
        StatusCode::OK,
        "liveness does not depend on the database"
    );
}

#[tokio::test]
async fn slow_requests_time_out_as_problems() {
    let app = crate::helpers::spawn_app_with(crate::helpers::Options {
        config: Some(vern_server::ServerConfig {
            request_timeout: std::time::Duration::from_nanos(1),
            ..vern_server::ServerConfig::default()
        }),
        ..crate::helpers::Options::default()
    })
    .await;
    // Any request that waits on the database outlives a nanosecond.
    let r = app.get(&app.admin_token, "/v1/subjects").await;
    let p = problem(r, StatusCode::SERVICE_UNAVAILABLE).await;
    assert_eq!(p["type"], "https://vern.dev/problems/timeout");
}
