//! Bad input of every kind gets the right 4xx problem+json, stores nothing, and never a 500.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use vern_policy::Policy;
use vern_server::ServerConfig;

use crate::helpers::{Options, TestApp, id_of, lead, problem, spawn_app, spawn_app_with};

/// Sends raw bytes with a content type.
async fn raw(
    app: &TestApp,
    method: Method,
    path: &str,
    ct: Option<&str>,
    body: Vec<u8>,
) -> reqwest::Response {
    let mut req = app
        .client
        .request(method, app.url(path))
        .bearer_auth(&app.admin_token)
        .body(body);
    if let Some(ct) = ct {
        req = req.header("content-type", ct);
    }
    req.send().await.unwrap()
}

fn with_record(record: Value) -> Value {
    let mut body = lead("bad@example.com");
    body["records"] = json!([record]);
    body
}

fn record(category: &str, purposes: &[&str], basis: Option<&str>) -> Value {
    let mut r = json!({
        "category": category,
        "value": "bad@example.com",
        "source": "direct",
        "purposes": purposes,
    });
    if let Some(b) = basis {
        r["legal_basis"] = json!(b);
    }
    r
}

/// What, expected status, content type, body, and the expected (field, code) if validation.
type Case = (
    &'static str,
    StatusCode,
    Option<&'static str>,
    Vec<u8>,
    Option<(&'static str, &'static str)>,
);

#[tokio::test]
async fn every_kind_of_bad_input_is_a_4xx_problem_and_stores_nothing() {
    let app = spawn_app().await;
    let j = Some("application/json");
    // (what, status, content type, body, expected field/code if validation)
    let cases: Vec<Case> = vec![
        ("malformed JSON", StatusCode::BAD_REQUEST, j, b"{\"subject_type\": ".to_vec(), None),
        ("empty body", StatusCode::BAD_REQUEST, j, Vec::new(), None),
        ("trailing data", StatusCode::BAD_REQUEST, j, b"{\"subject_type\": \"lead\"} {}".to_vec(), None),
        ("invalid UTF-8", StatusCode::BAD_REQUEST, j, b"{\"subject_type\": \"le\xffad\"}".to_vec(), None),
        ("wrong type", StatusCode::UNPROCESSABLE_ENTITY, j,
            br#"{"subject_type": 42}"#.to_vec(), Some(("subject_type", "invalid_type"))),
        ("nested wrong type", StatusCode::UNPROCESSABLE_ENTITY, j,
            br#"{"subject_type": "lead", "identifiers": [{"kind": "email", "value": ["x"]}]}"#.to_vec(),
            Some(("identifiers[0].value", "invalid_type"))),
        ("unknown field", StatusCode::UNPROCESSABLE_ENTITY, j,
            br#"{"subject_type": "lead", "colour": "red"}"#.to_vec(), Some(("colour", "unknown_field"))),
        ("missing field", StatusCode::UNPROCESSABLE_ENTITY, j,
            br#"{"jurisdiction": "NO"}"#.to_vec(), Some(("subject_type", "missing_field"))),
        ("not an object", StatusCode::UNPROCESSABLE_ENTITY, j, b"[1, 2]".to_vec(), None),
        ("wrong content type", StatusCode::UNSUPPORTED_MEDIA_TYPE, Some("text/plain"),
            serde_json::to_vec(&lead("ct@example.com")).unwrap(), None),
        ("no content type", StatusCode::UNSUPPORTED_MEDIA_TYPE, None,
            serde_json::to_vec(&lead("ct@example.com")).unwrap(), None),
        ("form content type", StatusCode::UNSUPPORTED_MEDIA_TYPE, Some("application/x-www-form-urlencoded"),
            b"subject_type=lead".to_vec(), None),
        ("unknown subject type", StatusCode::UNPROCESSABLE_ENTITY, j,
            serde_json::to_vec(&json!({"subject_type": "alien"})).unwrap(),
            Some(("subject_type", "unknown_subject_type"))),
        ("bad jurisdiction", StatusCode::UNPROCESSABLE_ENTITY, j,
            serde_json::to_vec(&json!({"subject_type": "lead", "jurisdiction": "norway"})).unwrap(),
            Some(("jurisdiction", "invalid_jurisdiction"))),
        ("bad email", StatusCode::UNPROCESSABLE_ENTITY, j,
            serde_json::to_vec(&json!({"subject_type": "lead", "identifiers": [{"kind": "email", "value": "not-an-email"}]})).unwrap(),
            Some(("identifiers[0].value", "invalid_email"))),
        ("unknown identifier kind", StatusCode::UNPROCESSABLE_ENTITY, j,
            serde_json::to_vec(&json!({"subject_type": "lead", "identifiers": [{"kind": "fax", "value": "1"}]})).unwrap(),
            Some(("identifiers[0].kind", "unknown_identifier_kind"))),
        ("unknown category", StatusCode::UNPROCESSABLE_ENTITY, j,
            serde_json::to_vec(&with_record(record("contact.pigeon", &["marketing.send"], None))).unwrap(),
            Some(("records[0].category", "unknown_category"))),
        ("unknown purpose", StatusCode::UNPROCESSABLE_ENTITY, j,
            serde_json::to_vec(&with_record(record("contact.email.work_named", &["world.domination"], None))).unwrap(),
            Some(("records[0].purposes[0]", "unknown_purpose"))),
        ("category not allowed for purpose", StatusCode::UNPROCESSABLE_ENTITY, j,
            serde_json::to_vec(&with_record(record("support.ticket", &["marketing.send"], None))).unwrap(),
            Some(("records[0].purposes[0]", "category_not_allowed_for_purpose"))),
        ("basis does not match purpose", StatusCode::UNPROCESSABLE_ENTITY, j,
            serde_json::to_vec(&with_record(record("contact.email.work_named", &["marketing.send"], Some("consent")))).unwrap(),
            Some(("records[0].legal_basis", "legal_basis_mismatch"))),
        ("purpose not for this subject type", StatusCode::UNPROCESSABLE_ENTITY, j,
            serde_json::to_vec(&with_record(record("recruitment.cv", &["recruitment.process"], None))).unwrap(),
            Some(("records[0].purposes[0]", "subject_type_not_allowed"))),
        ("category not specific", StatusCode::UNPROCESSABLE_ENTITY, j,
            serde_json::to_vec(&with_record(record("contact.email", &["marketing.send"], None))).unwrap(),
            Some(("records[0].category", "category_not_specific"))),
        ("bad time", StatusCode::UNPROCESSABLE_ENTITY, j,
            serde_json::to_vec(&with_record(json!({
                "category": "contact.email.work_named", "value": "x", "source": "direct",
                "purposes": ["marketing.send"], "collected_at": "yesterday"}))).unwrap(),
            Some(("records[0].collected_at", "invalid_value"))),
    ];
    for (what, status, ct, body, expect) in cases {
        let r = raw(&app, Method::POST, "/v1/subjects", ct, body).await;
        assert_ne!(r.status(), StatusCode::INTERNAL_SERVER_ERROR, "{what}");
        let p = problem(r, status).await;
        if let Some((field, code)) = expect {
            let errors = p["errors"]
                .as_array()
                .unwrap_or_else(|| panic!("{what}: {p}"));
            assert!(
                errors
                    .iter()
                    .any(|e| e["field"] == field && e["code"] == code),
                "{what}: {p}"
            );
        }
        // The value sent is never echoed back.
        assert!(!p.to_string().contains("bad@example.com"), "{what}: {p}");
    }
    assert_eq!(app.subject_count().await, 0, "nothing was stored");
}

#[tokio::test]
async fn bad_paths_queries_methods_and_bodies_outside_subjects() {
    let app = spawn_app().await;
    let t = app.admin_token.clone();
    problem(
        app.get(&t, "/v1/subjects/not-a-uuid").await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    problem(
        app.get(&t, "/v1/subjects?limit=abc").await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    problem(
        app.get(&t, "/v1/subjects?limit=0").await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    problem(
        app.get(&t, "/v1/subjects?limit=501").await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    problem(
        app.get(&t, "/v1/subjects?after=nope").await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    problem(app.get(&t, "/v1/nowhere").await, StatusCode::NOT_FOUND).await;
    // `/` is the portal (web::portal); an unknown path outside /v1 is still a problem.
    problem(app.get(&t, "/nowhere").await, StatusCode::NOT_FOUND).await;

    for (method, path) in [
        (Method::TRACE, "/v1/subjects"),
        (Method::PUT, "/v1/subjects"),
        (Method::DELETE, "/v1/subjects"),
        (Method::POST, "/healthz"),
        (
            Method::PUT,
            "/v1/subjects/0190a6b2-1111-7000-8000-000000000000",
        ),
    ] {
        let r = app.request(method.clone(), path, Some(&t), None).await;
        let allow = r
            .headers()
            .get("allow")
            .map(|v| v.to_str().unwrap().to_owned());
        let p = problem(r, StatusCode::METHOD_NOT_ALLOWED).await;
        assert!(allow.is_some_and(|a| !a.is_empty()), "{method} {path}: {p}");
    }

    let subject = id_of(&app.create_subject(&lead("x@example.com")).await);
    let records = format!("/v1/subjects/{subject}/records");
    let r = app
        .post(
            &t,
            &records,
            &json!({"category": "contact.email.work_named", "value": 1}),
        )
        .await;
    let p = problem(r, StatusCode::UNPROCESSABLE_ENTITY).await;
    assert_eq!(p["errors"][0]["code"], "missing_field");
    let r = app
        .patch(
            &t,
            &format!("/v1/subjects/{subject}"),
            &json!({"subject_type": 7}),
        )
        .await;
    problem(r, StatusCode::UNPROCESSABLE_ENTITY).await;
    let r = app
        .post(&t, "/v1/tokens", &json!({"name": "x", "role": "overlord"}))
        .await;
    let p = problem(r, StatusCode::UNPROCESSABLE_ENTITY).await;
    assert_eq!(p["errors"][0]["code"], "unknown_role");
    let r = app.post(&t, "/v1/lookup", &json!({"kind": "email"})).await;
    problem(r, StatusCode::UNPROCESSABLE_ENTITY).await;
    let list: Value = app.get(&t, &records).await.json().await.unwrap();
    assert_eq!(
        list.as_array().unwrap().len(),
        1,
        "only the record made at creation"
    );
}

#[tokio::test]
async fn bodies_over_the_limit_are_413() {
    let app = spawn_app_with(Options {
        config: Some(ServerConfig {
            body_limit: 4 * 1024,
            ..ServerConfig::default()
        }),
        ..Options::default()
    })
    .await;
    let mut body = lead("big@example.com");
    body["records"][0]["value"] = json!("x".repeat(8 * 1024));
    let r = raw(
        &app,
        Method::POST,
        "/v1/subjects",
        Some("application/json"),
        serde_json::to_vec(&body).unwrap(),
    )
    .await;
    problem(r, StatusCode::PAYLOAD_TOO_LARGE).await;
    assert_eq!(app.subject_count().await, 0);
}

#[tokio::test]
async fn the_default_limit_is_one_mebibyte() {
    let app = spawn_app().await;
    let mut body = lead("big@example.com");
    body["records"][0]["value"] = json!("x".repeat(1024 * 1024 + 1));
    let r = raw(
        &app,
        Method::POST,
        "/v1/subjects",
        Some("application/json"),
        serde_json::to_vec(&body).unwrap(),
    )
    .await;
    problem(r, StatusCode::PAYLOAD_TOO_LARGE).await;
    assert_eq!(app.subject_count().await, 0);
}

/// The minimal policy plus a special category that one purpose lists without an Art. 9 ground.
fn special_policy() -> Policy {
    let minimal = include_str!("../../../vern-policy/tests/fixtures/minimal.toml");
    let extension = r#"
[[category]]
id = "health"
name = { nb = "Helse", en = "Health" }
special = true

[[category]]
id = "health.allergies"
name = { nb = "Allergier", en = "Allergies" }

[[purpose]]
id = "recruitment.screening"
name = { nb = "Utvelgelse", en = "Screening" }
description = { nb = "Velge kandidater.", en = "Select candidates." }
legal_basis = "contract"
subject_types = ["job_applicant"]
categories = ["recruitment", "health.allergies"]
objection = "not_applicable"
"#;
    match Policy::parse(&format!("{minimal}\n{extension}")) {
        Ok((p, _)) => p,
        Err(d) => panic!("test policy invalid: {d:?}"),
    }
}

#[tokio::test]
async fn special_category_data_without_an_art9_ground_is_refused() {
    let app = spawn_app_with(Options {
        policy: Some(special_policy()),
        ..Options::default()
    })
    .await;
    let body = json!({
        "subject_type": "job_applicant",
        "records": [{"category": "health.allergies", "value": {"nuts": true},
                     "source": "direct", "purposes": ["recruitment.screening"]}]
    });
    let p = problem(
        app.post(&app.admin_token, "/v1/subjects", &body).await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert_eq!(p["errors"][0]["code"], "special_category");
    assert_eq!(p["errors"][0]["field"], "records[0].purposes[0]");
    assert_eq!(app.subject_count().await, 0);
}
