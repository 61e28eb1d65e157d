//! The access report over HTTP: every Art. 15(1)-(2) item for a customer contact with data in
//! several categories, a disclosure to a group company and one to a US processor (SCC), as
//! JSON, CSV and HTML in nb and en.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{TestApp, id_of, spawn_app};

async fn customer(app: &TestApp) -> String {
    let s = app
        .create_subject(&json!({
            "subject_type": "customer_contact",
            "jurisdiction": "NO",
            "identifiers": [{"kind": "email", "value": "ola@customer.example"}],
            "records": [
                {"category": "contact.email.work_named", "value": "ola@customer.example",
                 "source": "direct", "purposes": ["sales.orders_agreements_payments"]},
                {"category": "identity.name", "value": "Ola <Nordmann>",
                 "source": "direct", "purposes": ["sales.orders_agreements_payments"]},
                {"category": "employment.title", "value": "Buyer",
                 "source": "direct", "purposes": ["sales.orders_agreements_payments"]},
                {"category": "finance.invoice", "value": {"number": "F-42"},
                 "source": "direct", "purposes": ["sales.orders_agreements_payments"],
                 "collected_at": "2026-03-10T12:00:00Z"}
            ]
        }))
        .await;
    id_of(&s)
}

async fn disclose(app: &TestApp, s: &str, recipient: &str, purpose: &str) {
    let r = app
        .post(
            &app.admin_token,
            "/v1/disclosures",
            &json!({"recipient": recipient, "subjects": [s], "categories": ["contact.email"],
                    "purpose": purpose, "mechanism": "sync"}),
        )
        .await;
    assert!(r.status().is_success(), "{}", r.text().await.unwrap());
}

async fn report(app: &TestApp, s: &str, query: &str) -> reqwest::Response {
    app.get(
        &app.admin_token,
        &format!("/v1/subjects/{s}/access-report{query}"),
    )
    .await
}

#[tokio::test]
async fn the_report_holds_every_article_15_item() {
    let app = spawn_app().await;
    let s = customer(&app).await;
    disclose(&app, &s, "group.confect_sverige", "group.internal_admin").await;
    disclose(
        &app,
        &s,
        "processor.crm",
        "sales.orders_agreements_payments",
    )
    .await;

    let r = report(&app, &s, "?lang=en").await;
    assert_eq!(r.status(), StatusCode::OK);
    let v: Value = r.json().await.unwrap();
    // The data itself.
    assert_eq!(v["identifiers"][0]["value"], "ola@customer.example");
    assert_eq!(v["records"].as_array().unwrap().len(), 4);
    // (a) purposes with their basis.
    let purpose = &v["purposes"][0];
    assert_eq!(purpose["id"], "sales.orders_agreements_payments");
    assert_eq!(purpose["legal_basis"], "legitimate_interest");
    assert!(purpose["description"].as_str().unwrap().len() > 10);
    // (b) categories, (d) retention as date or rule.
    let cats = v["categories"].as_array().unwrap();
    assert_eq!(cats.len(), 4);
    let invoice = cats.iter().find(|c| c["id"] == "finance.invoice").unwrap();
    assert!(invoice["kept_until"].is_string(), "{invoice}");
    assert!(invoice["retention"].is_string() && invoice["legal_ref"].is_string());
    for c in cats {
        assert!(c["retention_rule"].is_string(), "{c}");
        assert!(c["name"].as_str().is_some_and(|n| !n.is_empty()), "{c}");
    }
    // (c) recipients actually disclosed to.
    let recipients: Vec<&str> = v["recipients"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["id"].as_str().unwrap())
        .collect();
    assert_eq!(recipients.len(), 2, "{recipients:?}");
    assert!(recipients.contains(&"group.confect_sverige") && recipients.contains(&"processor.crm"));
    // 15(2): the US transfer and its safeguard.
    assert_eq!(v["transfers"][0]["recipient"], "processor.crm");
    assert_eq!(v["transfers"][0]["safeguard"], "scc");
    assert!(
        v["transfers"][0]["details"]
            .as_str()
            .unwrap()
            .contains("2021/914")
    );
    // (g) source, (h) profiling, (e)-(f) rights and the authority.
    assert_eq!(v["sources"][0]["id"], "direct");
    assert!(v["profiling"]["exists"].is_boolean());
    assert!(v["profiling"]["information"].as_str().unwrap().len() > 10);
    assert!(v["rights"].as_array().unwrap().len() >= 6);
    assert_eq!(v["supervisory_authority"]["name"], "Datatilsynet");
    assert!(v["supervisory_authority"]["address"].is_string());

    // Norwegian, CSV and HTML.
    let nb: Value = report(&app, &s, "?lang=nb").await.json().await.unwrap();
    assert_eq!(nb["language"], "nb");
    assert!(nb["rights"][0].as_str().unwrap().starts_with("Du kan"));
    let r = report(&app, &s, "?format=csv").await;
    assert!(
        r.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/csv")
    );
    let csv = r.text().await.unwrap();
    assert!(csv.starts_with("field,value"));
    assert!(csv.contains("records.3.value.number,F-42") || csv.contains("F-42"));
    let r = report(&app, &s, "?format=html&lang=nb").await;
    assert!(
        r.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/html")
    );
    let html = r.text().await.unwrap();
    assert!(html.contains("Ola &lt;Nordmann&gt;"), "values are escaped");
    assert!(!html.contains("<Nordmann>"));
    assert!(html.contains("Datatilsynet") && html.contains("lang=\"nb\""));

    // Bad input: 422, and the read is audited without values.
    let r = report(&app, &s, "?lang=fi").await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let audit = app.audit_entries().await;
    let e = audit
        .iter()
        .find(|e| e.entry.action == "subject.access_report")
        .unwrap();
    assert!(!e.entry.detail.contains("Ola") && !e.entry.detail.contains("customer.example"));
}

#[tokio::test]
async fn a_role_that_cannot_see_everything_gets_no_partial_report() {
    let app = spawn_app().await;
    let s = customer(&app).await;
    let recruiter = app.token("recruiter").await;
    let r = app
        .get(&recruiter, &format!("/v1/subjects/{s}/access-report"))
        .await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
}
