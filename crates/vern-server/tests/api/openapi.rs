//! The OpenAPI document matches the router: every documented operation is served, every served
//! route is documented, security is declared, and create responses carry links.

use std::collections::BTreeSet;

use reqwest::{Method, StatusCode};
use serde_json::Value;

use crate::helpers::{problem, spawn_app};

/// What the server serves, written out independently of the spec.
const SERVED: &[(&str, &str)] = &[
    ("get", "/healthz"),
    ("get", "/metrics"),
    ("get", "/openapi.json"),
    ("get", "/readyz"),
    ("get", "/v1/audit/verify"),
    ("post", "/v1/lookup"),
    ("get", "/v1/subjects"),
    ("post", "/v1/subjects"),
    ("delete", "/v1/subjects/{subject_id}"),
    ("get", "/v1/subjects/{subject_id}"),
    ("patch", "/v1/subjects/{subject_id}"),
    ("post", "/v1/subjects/{subject_id}/erasure"),
    ("get", "/v1/subjects/{subject_id}/access-report"),
    ("get", "/v1/subjects/{subject_id}/portability"),
    (
        "post",
        "/v1/subjects/{subject_id}/records/{record_id}/rectification",
    ),
    // The Helsinki profile GDPR API (OIDC tokens; its 403/500 use the protocol's error body).
    ("get", "/gdpr-api/v1/user/{user_uuid}"),
    ("delete", "/gdpr-api/v1/user/{user_uuid}"),
    ("get", "/v1/subjects/{subject_id}/identifiers"),
    ("post", "/v1/subjects/{subject_id}/identifiers"),
    (
        "delete",
        "/v1/subjects/{subject_id}/identifiers/{identifier_id}",
    ),
    ("get", "/v1/subjects/{subject_id}/records"),
    ("post", "/v1/subjects/{subject_id}/records"),
    ("delete", "/v1/subjects/{subject_id}/records/{record_id}"),
    ("get", "/v1/subjects/{subject_id}/records/{record_id}"),
    ("patch", "/v1/subjects/{subject_id}/records/{record_id}"),
    ("get", "/v1/tokens"),
    ("post", "/v1/tokens"),
    ("delete", "/v1/tokens/{token_id}"),
    ("post", "/v1/disclosures"),
    ("get", "/v1/subjects/{subject_id}/disclosures"),
    ("get", "/v1/public/subprocessors"),
    ("get", "/public/subprocessors"),
    ("post", "/v1/policy/versions"),
    ("get", "/v1/policy/versions"),
    ("get", "/v1/public/notices"),
    ("post", "/v1/subprocessors"),
    ("post", "/v1/processor-customers"),
    ("get", "/v1/processor-customers"),
    ("get", "/v1/processor-customers/notices"),
    ("post", "/v1/processor-customers/objections"),
    ("get", "/v1/processor-customers/objections"),
    // Consent, objections, restriction, decisions.
    ("get", "/v1/subjects/{subject_id}/consents"),
    ("post", "/v1/subjects/{subject_id}/consents"),
    ("get", "/v1/subjects/{subject_id}/consents/history"),
    ("get", "/v1/consents/export"),
    ("post", "/v1/consents/expire"),
    ("post", "/v1/subjects/{subject_id}/objections"),
    ("post", "/v1/subjects/{subject_id}/objections/grounds"),
    ("put", "/v1/subjects/{subject_id}/restriction"),
    ("post", "/v1/decisions"),
    ("post", "/v1/decisions/bulk"),
    ("get", "/v1/decisions/{decision_id}"),
    ("get", "/.well-known/jwks.json"),
    ("post", "/v1/events"),
    ("get", "/v1/events/drops"),
    ("get", "/v1/subjects/{subject_id}/profile"),
    ("get", "/.well-known/gpc.json"),
    ("get", "/v1/retention/holds"),
    ("post", "/v1/retention/holds"),
    ("post", "/v1/retention/holds/{hold_id}/release"),
    ("get", "/v1/retention/preview"),
    ("post", "/v1/retention/run"),
    ("get", "/v1/subjects/{subject_id}/retention"),
    ("get", "/v1/jobs"),
    ("get", "/v1/jobs/{job_id}"),
    ("post", "/v1/jobs/{job_id}/retry"),
    ("get", "/v1/outbox"),
    ("get", "/v1/outbox/{message_id}"),
    ("post", "/v1/outbox/test"),
    ("get", "/v1/requests"),
    ("post", "/v1/requests"),
    ("get", "/v1/requests/{request_id}"),
    ("post", "/v1/requests/{request_id}/actions"),
    ("get", "/v1/request-verifications/{token}"),
    ("post", "/v1/request-verifications/{token}"),
    ("get", "/v1/public/downloads/{token}"),
    ("get", "/v1/recipient-tasks"),
    ("post", "/v1/recipient-tasks/{task_id}/close"),
];

const UNAUTHENTICATED: &[&str] = &[
    "/healthz",
    "/readyz",
    "/metrics",
    "/openapi.json",
    "/v1/public/subprocessors",
    "/public/subprocessors",
    "/v1/public/notices",
    "/.well-known/jwks.json",
    "/.well-known/gpc.json",
    // The link in a verification mail is the credential (a POST checks the code).
    "/v1/request-verifications/{token}",
    // The link in a closing letter is the credential for the artefacts.
    "/v1/public/downloads/{token}",
];

async fn spec(app: &crate::helpers::TestApp) -> Value {
    let r = app
        .client
        .get(app.url("/openapi.json"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    r.json().await.unwrap()
}

fn operations(spec: &Value) -> BTreeSet<(String, String)> {
    let mut ops = BTreeSet::new();
    for (path, item) in spec["paths"].as_object().unwrap() {
        for method in [
            "get", "post", "put", "patch", "delete", "head", "options", "trace",
        ] {
            if item.get(method).is_some() {
                ops.insert((method.to_owned(), path.clone()));
            }
        }
    }
    ops
}

#[tokio::test]
async fn spec_and_router_agree() {
    let app = spawn_app().await;
    let spec = spec(&app).await;
    assert_eq!(spec["openapi"], "3.1.0");
    let documented = operations(&spec);
    let served: BTreeSet<(String, String)> = SERVED
        .iter()
        .map(|(m, p)| ((*m).to_owned(), (*p).to_owned()))
        .collect();
    assert_eq!(documented, served);

    // Every documented operation is routed: without a token it is a 401 (not 404/405), and the
    // unauthenticated ones answer.
    let id = "0190a6b2-0000-7000-8000-000000000001";
    for (method, path) in &documented {
        let concrete = path
            .replace("{subject_id}", id)
            .replace("{record_id}", id)
            .replace("{identifier_id}", id)
            .replace("{token_id}", id)
            .replace("{request_id}", id)
            .replace("{decision_id}", id)
            .replace("{token}", "vern_nosuchtoken")
            .replace("{user_uuid}", id);
        let m = Method::from_bytes(method.to_uppercase().as_bytes()).unwrap();
        let r = app.request(m, &concrete, None, None).await;
        if UNAUTHENTICATED.contains(&path.as_str()) {
            if path.contains("/downloads/") {
                // A download link is the credential: an unknown one is a 404.
                problem(r, StatusCode::NOT_FOUND).await;
            } else if method == "get" {
                assert_eq!(r.status(), StatusCode::OK, "{method} {path}");
            } else {
                // Public writes answer without a token (here: no body, so not 2xx).
                assert_ne!(r.status(), StatusCode::UNAUTHORIZED, "{method} {path}");
            }
        } else {
            problem(r, StatusCode::UNAUTHORIZED).await;
        }
    }
}

#[tokio::test]
async fn spec_declares_security_errors_and_links() {
    let app = spawn_app().await;
    let spec = spec(&app).await;
    let scheme = &spec["components"]["securitySchemes"]["bearer"];
    assert_eq!(scheme["type"], "http");
    assert_eq!(scheme["scheme"], "bearer");
    assert_eq!(spec["security"][0]["bearer"], serde_json::json!([]));
    for path in UNAUTHENTICATED {
        assert_eq!(
            spec["paths"][path]["get"]["security"],
            serde_json::json!([]),
            "{path}"
        );
    }
    for (method, path) in operations(&spec) {
        let op = &spec["paths"][&path][&method];
        assert!(op["operationId"].is_string(), "{method} {path}");
        if !UNAUTHENTICATED.contains(&path.as_str()) {
            for code in ["401", "403", "500"] {
                // The GDPR API answers 403 and 500 in the Helsinki protocol's own format.
                if path.starts_with("/gdpr-api/") && code != "401" {
                    let content = &op["responses"][code]["content"]["application/json"];
                    assert!(content.is_object(), "{method} {path} lacks {code}");
                    continue;
                }
                let content = &op["responses"][code]["content"]["application/problem+json"];
                assert!(content.is_object(), "{method} {path} lacks {code}");
            }
        }
    }
    let created = &spec["paths"]["/v1/subjects"]["post"]["responses"]["201"];
    for link in ["GetSubject", "EraseSubject"] {
        assert_eq!(
            created["links"][link]["parameters"]["subject_id"], "$response.body#/id",
            "{link}"
        );
    }
    let link_target = created["links"]["GetSubject"]["operationId"]
        .as_str()
        .unwrap();
    assert_eq!(
        spec["paths"]["/v1/subjects/{subject_id}"]["get"]["operationId"],
        link_target
    );
    let record_links =
        &spec["paths"]["/v1/subjects/{subject_id}/records"]["post"]["responses"]["201"]["links"];
    assert_eq!(
        record_links["GetRecord"]["parameters"]["record_id"],
        "$response.body#/id"
    );
}

#[tokio::test]
async fn spec_examples_are_valid_against_the_bundled_policy() {
    let app = spawn_app().await;
    let spec = spec(&app).await;
    let example = spec["components"]["schemas"]["SubjectInput"]["example"].clone();
    assert!(example.is_object(), "SubjectInput has an example");
    let r = app.post(&app.admin_token, "/v1/subjects", &example).await;
    assert_eq!(
        r.status(),
        StatusCode::CREATED,
        "{}",
        r.text().await.unwrap()
    );
}

#[tokio::test]
async fn spec_lists_the_policy_values() {
    let app = spawn_app().await;
    let spec = spec(&app).await;
    let schemas = &spec["components"]["schemas"];
    let has = |schema: &str, field: &str, value: &str| {
        schemas[schema]["properties"][field]["enum"]
            .as_array()
            .is_some_and(|e| e.iter().any(|v| v == value))
    };
    assert!(has("SubjectInput", "subject_type", "lead"));
    assert!(has("RecordInput", "category", "contact.email.work_named"));
    assert!(
        !has("RecordInput", "category", "contact.email"),
        "leaf categories only"
    );
    assert!(has("RecordInput", "source", "direct"));
    assert!(has("TokenInput", "role", "recruiter"));
    let purposes = &schemas["RecordInput"]["properties"]["purposes"]["items"]["enum"];
    assert!(
        purposes
            .as_array()
            .unwrap()
            .iter()
            .any(|p| p == "marketing.send")
    );
    // Post-processing must not invent members: no `parameters: null` anywhere.
    assert!(!spec.to_string().contains("\"parameters\":null"));
}
