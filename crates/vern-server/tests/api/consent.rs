//! Consent, objections, restriction, suppression and decisions over HTTP: the scenarios the
//! consent issue must show, against the bundled policy.

use reqwest::StatusCode;
use serde_json::{Value, json};
use vern_store::consent::ConsentStore;

use crate::helpers::{TestApp, id_of, lead, problem, spawn_app};

pub(crate) fn newsletter_to(email: &str) -> Value {
    json!({
        "identifier": {"kind": "email", "value": email},
        "purpose": "marketing.send",
        "channel": "email",
        "message_class": "newsletter"
    })
}

pub(crate) async fn decide(app: &TestApp, body: &Value) -> Value {
    let r = app.post(&app.admin_token, "/v1/decisions", body).await;
    let status = r.status();
    let v: Value = r.json().await.unwrap();
    assert_eq!(status, StatusCode::OK, "{v}");
    assert!(
        v["decision_id"].is_string() && v["policy_version"].is_string(),
        "{v}"
    );
    v
}

pub(crate) async fn consent(app: &TestApp, subject: &str, body: Value) -> Value {
    let r = app
        .post(
            &app.admin_token,
            &format!("/v1/subjects/{subject}/consents"),
            &body,
        )
        .await;
    let status = r.status();
    let v: Value = r.json().await.unwrap();
    assert_eq!(status, StatusCode::CREATED, "{v}");
    v
}

pub(crate) fn grant(scope: &str, channel: Option<&str>) -> Value {
    let mut v = json!({
        "scope": scope,
        "action": "granted",
        "method": "double_opt_in",
        "collection_point": "form:newsletter-footer",
        "language": "nb"
    });
    if let Some(c) = channel {
        v["channel"] = json!(c);
    }
    v
}

pub(crate) fn customer(email: &str) -> Value {
    json!({
        "subject_type": "customer_contact",
        "identifiers": [{"kind": "email", "value": email}]
    })
}

#[tokio::test]
async fn marketing_email_to_a_lead_needs_consent_and_stops_at_withdrawal() {
    let app = spawn_app().await;
    let email = "kari@example.com";
    let subject = id_of(&app.create_subject(&lead(email)).await);

    let d = decide(&app, &newsletter_to(email)).await;
    assert_eq!(
        (d["allowed"].clone(), d["reason"].clone()),
        (json!(false), json!("no_consent"))
    );
    assert_eq!(d["subject_id"], subject.as_str());
    assert_eq!(d["basis"], "legitimate_interest");

    let recorded = consent(&app, &subject, grant("marketing_email", Some("email"))).await;
    assert!(recorded["receipt"].as_str().unwrap().split('.').count() == 3);
    let e = &recorded["events"][0];
    assert_eq!(
        (e["scope"].as_str(), e["channel"].as_str()),
        (Some("marketing_email"), Some("email"))
    );
    assert_eq!(
        e["ip_truncated"], "127.0.0.0",
        "the client IP is kept truncated"
    );
    assert_eq!(e["policy_hash"], app.vault.policy().content_hash.as_str());
    assert_eq!(e["notice_hash"].as_str().unwrap().len(), 64);
    let d = decide(&app, &newsletter_to(email)).await;
    assert_eq!(
        (d["allowed"].clone(), d["reason"].clone()),
        (json!(true), json!("consent_given"))
    );

    // Withdrawal: one call, nothing else asked (Art. 7(3)).
    let withdraw = json!({"scope": "marketing_email", "action": "withdrawn", "method": "api",
                          "collection_point": "unsubscribe-link"});
    consent(&app, &subject, withdraw).await;
    let d = decide(&app, &newsletter_to(email)).await;
    assert_eq!(
        (d["allowed"].clone(), d["reason"].clone()),
        (json!(false), json!("consent_withdrawn"))
    );

    let state: Value = app
        .get(
            &app.admin_token,
            &format!("/v1/subjects/{subject}/consents"),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(state["consents"][0]["status"], "withdrawn", "{state}");
    assert_eq!(state["consents"][0]["active"], false);
    let history: Value = app
        .get(
            &app.admin_token,
            &format!("/v1/subjects/{subject}/consents/history"),
        )
        .await
        .json()
        .await
        .unwrap();
    let actions: Vec<_> = history
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].clone())
        .collect();
    assert_eq!(actions, [json!("granted"), json!("withdrawn")]);
    let store = app.vault.store();
    assert_eq!(
        store
            .verify_consent_chain(app.vault.tenant())
            .await
            .unwrap(),
        Ok(2)
    );
    let audit: Vec<_> = app
        .audit_entries()
        .await
        .into_iter()
        .map(|r| r.entry.action)
        .collect();
    assert!(audit.contains(&"consent.granted".to_owned()), "{audit:?}");
    assert!(audit.contains(&"consent.withdrawn".to_owned()), "{audit:?}");
}

#[tokio::test]
async fn a_retry_with_the_same_idempotency_key_records_once() {
    let app = spawn_app().await;
    let subject = id_of(&app.create_subject(&lead("retry@example.com")).await);
    let send = || {
        app.client
            .post(app.url(&format!("/v1/subjects/{subject}/consents")))
            .bearer_auth(&app.admin_token)
            .header("Idempotency-Key", "grant-1")
            .json(&grant("marketing_email", None))
            .send()
    };
    let first: Value = send().await.unwrap().json().await.unwrap();
    let second: Value = send().await.unwrap().json().await.unwrap();
    assert_eq!(first, second);
    assert_eq!(first["events"][0]["idempotency_key"], "grant-1");
    let tenant = app.vault.tenant();
    assert_eq!(
        app.vault
            .store()
            .verify_consent_chain(tenant)
            .await
            .unwrap(),
        Ok(1)
    );
}

#[tokio::test]
async fn an_idempotency_key_replays_only_the_same_request_of_a_subject_still_there() {
    let app = spawn_app().await;
    let subject = id_of(&app.create_subject(&lead("replay@example.com")).await);
    let send = |body: Value| {
        app.client
            .post(app.url(&format!("/v1/subjects/{subject}/consents")))
            .bearer_auth(&app.admin_token)
            .header("Idempotency-Key", "grant-2")
            .json(&body)
            .send()
    };
    let first = send(grant("marketing_email", Some("email"))).await.unwrap();
    assert_eq!(first.status(), StatusCode::CREATED);

    // The same key with another action (even one that is not valid) is not a retry.
    let mut other = grant("marketing_email", Some("email"));
    other["action"] = json!("withdrawn");
    let p = problem(send(other).await.unwrap(), StatusCode::UNPROCESSABLE_ENTITY).await;
    assert_eq!(p["errors"][0]["code"], "idempotency_key_reused", "{p}");
    let mut other = grant("marketing_email", Some("sms"));
    other["action"] = json!("verify");
    let p = problem(send(other).await.unwrap(), StatusCode::UNPROCESSABLE_ENTITY).await;
    assert_eq!(p["errors"][0]["code"], "idempotency_key_reused", "{p}");
    assert_eq!(
        app.vault
            .store()
            .verify_consent_chain(app.vault.tenant())
            .await
            .unwrap(),
        Ok(1)
    );

    // The ledger outlives erasure as proof, but a retry after it must not answer 201 for a
    // subject that is gone.
    app.erase(&subject, false).await;
    let p = problem(
        send(grant("marketing_email", Some("email"))).await.unwrap(),
        StatusCode::NOT_FOUND,
    )
    .await;
    assert_eq!(p["detail"], "no such subject", "{p}");
}

#[tokio::test]
async fn an_order_confirmation_reaches_a_customer_who_objected_to_marketing() {
    let app = spawn_app().await;
    let email = "ola@example.com";
    let subject = id_of(&app.create_subject(&customer(email)).await);
    // An existing customer: the policy enables marketing law's existing-customer exception.
    let d = decide(&app, &newsletter_to(email)).await;
    assert_eq!(d["reason"], "existing_customer", "{d}");

    let r = app
        .post(
            &app.admin_token,
            &format!("/v1/subjects/{subject}/objections"),
            &json!({"direct_marketing": true}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let d = decide(&app, &newsletter_to(email)).await;
    assert_eq!(d["allowed"], false);
    // The objection also put the address on the suppression list; either way, no marketing.
    assert!(
        ["suppressed", "objected"].contains(&d["reason"].as_str().unwrap()),
        "{d}"
    );

    let order = json!({
        "subject_id": subject,
        "purpose": "sales.orders_agreements_payments",
        "channel": "email",
        "message_class": "order_confirmation"
    });
    let d = decide(&app, &order).await;
    assert_eq!(
        (d["allowed"].clone(), d["reason"].clone()),
        (json!(true), json!("legal_basis"))
    );
}

#[tokio::test]
async fn profiling_is_denied_after_an_objection() {
    let app = spawn_app().await;
    let subject = id_of(&app.create_subject(&lead("p@example.com")).await);
    consent(&app, &subject, grant("marketing_profiling", None)).await;
    consent(&app, &subject, grant("cookies_marketing", None)).await;
    let profiling = json!({"subject_id": subject, "purpose": "marketing.profiling"});
    let d = decide(&app, &profiling).await;
    assert_eq!(
        (d["allowed"].clone(), d["basis"].clone()),
        (json!(true), json!("consent"))
    );
    let r = app
        .post(
            &app.admin_token,
            &format!("/v1/subjects/{subject}/objections"),
            &json!({"purpose": "marketing.profiling"}),
        )
        .await;
    let v: Value = r.json().await.unwrap();
    assert_eq!(
        v["target"], "*direct_marketing",
        "an objection to marketing is to all of it"
    );
    let d = decide(&app, &profiling).await;
    assert_eq!(d["allowed"], false, "{d}");
}

#[tokio::test]
async fn compelling_grounds_are_for_the_dpo_and_audited() {
    let app = spawn_app().await;
    let subject = id_of(&app.create_subject(&customer("g@example.com")).await);
    let base = format!("/v1/subjects/{subject}/objections");
    let r = app
        .post(&app.admin_token, &base, &json!({"purpose": "support"}))
        .await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let support = json!({"subject_id": subject, "purpose": "support"});
    assert_eq!(decide(&app, &support).await["reason"], "objected");

    let grounds = json!({"purpose": "support", "grounds": "Open case about a failed delivery."});
    let marketing = app.token("marketing").await;
    problem(
        app.post(&marketing, &format!("{base}/grounds"), &grounds)
            .await,
        StatusCode::FORBIDDEN,
    )
    .await;
    let dpo = app.token("dpo").await;
    let r = app.post(&dpo, &format!("{base}/grounds"), &grounds).await;
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    let d = decide(&app, &support).await;
    assert_eq!(
        (d["allowed"].clone(), d["reason"].clone()),
        (json!(true), json!("compelling_grounds"))
    );
    // Never against direct marketing.
    let p = problem(
        app.post(
            &dpo,
            &format!("{base}/grounds"),
            &json!({"purpose": "marketing.send", "grounds": "x"}),
        )
        .await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert!(p.to_string().contains("grounds_not_applicable"), "{p}");
    let audit: Vec<_> = app
        .audit_entries()
        .await
        .into_iter()
        .map(|r| r.entry)
        .collect();
    let entry = audit
        .iter()
        .find(|e| e.action == "objection.compelling_grounds")
        .unwrap();
    assert!(
        !entry.detail.contains("delivery"),
        "the grounds text stays out of the audit log"
    );
}

#[tokio::test]
async fn the_ledger_exports_as_json_and_csv_for_auditors() {
    let app = spawn_app().await;
    let subject = id_of(&app.create_subject(&lead("x@example.com")).await);
    consent(&app, &subject, grant("cookies_marketing", None)).await;
    let json: Value = app
        .get(&app.admin_token, "/v1/consents/export")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        json.as_array().unwrap().len(),
        3,
        "one event per channel of the scope"
    );
    let r = app
        .get(&app.admin_token, "/v1/consents/export?format=csv")
        .await;
    assert!(
        r.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/csv")
    );
    let csv = r.text().await.unwrap();
    assert_eq!(csv.lines().count(), 4);
    assert!(csv.starts_with("seq,id,subject_id,scope"));
    let support = app.token("support").await;
    problem(
        app.get(&support, "/v1/consents/export").await,
        StatusCode::FORBIDDEN,
    )
    .await;
}

#[tokio::test]
async fn consent_input_is_checked_against_the_policy() {
    let app = spawn_app().await;
    let subject = id_of(&app.create_subject(&lead("c@example.com")).await);
    let path = format!("/v1/subjects/{subject}/consents");
    for (body, code) in [
        (grant("nope", None), "unknown_consent_scope"),
        (
            grant("marketing_email", Some("sms")),
            "channel_not_in_scope",
        ),
        (
            json!({"scope": "marketing_email", "action": "granted", "method": "gpc",
                "collection_point": "browser"}),
            "gpc_cannot_grant",
        ),
        (
            json!({"scope": "marketing_email", "action": "renewed", "method": "api",
                "collection_point": "crm"}),
            "nothing_to_renew",
        ),
    ] {
        let p = problem(
            app.post(&app.admin_token, &path, &body).await,
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
        assert!(p.to_string().contains(code), "{code}: {p}");
    }
    let r = app
        .post(
            &app.admin_token,
            "/v1/subjects/01936f5e-0000-7000-8000-000000000000/consents",
            &grant("marketing_email", None),
        )
        .await;
    problem(r, StatusCode::NOT_FOUND).await;
}

#[tokio::test]
async fn the_spec_examples_work_against_the_bundled_policy() {
    let app = spawn_app().await;
    let spec: Value = app
        .client
        .get(app.url("/openapi.json"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let example = |name: &str| spec["components"]["schemas"][name]["example"].clone();
    let subject = id_of(&app.create_subject(&lead("kari.nordmann@example.com")).await);
    let base = format!("/v1/subjects/{subject}");
    let r = app
        .post(
            &app.admin_token,
            &format!("{base}/consents"),
            &example("ConsentInput"),
        )
        .await;
    assert_eq!(
        r.status(),
        StatusCode::CREATED,
        "{}",
        r.text().await.unwrap()
    );
    let d = decide(&app, &example("DecisionRequest")).await;
    assert_eq!(d["allowed"], true, "{d}");
    let r = app
        .post(
            &app.admin_token,
            &format!("{base}/objections"),
            &example("ObjectionInput"),
        )
        .await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let r = app
        .request(
            reqwest::Method::PUT,
            &format!("{base}/restriction"),
            Some(&app.admin_token),
            Some(&example("RestrictionInput")),
        )
        .await;
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    // The grounds example names `support`: object to it first, then the DPO records them.
    let c = id_of(&app.create_subject(&customer("dpo-case@example.com")).await);
    let r = app
        .post(
            &app.admin_token,
            &format!("/v1/subjects/{c}/objections"),
            &json!({"purpose": "support"}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let r = app
        .post(
            &app.admin_token,
            &format!("/v1/subjects/{c}/objections/grounds"),
            &example("GroundsInput"),
        )
        .await;
    assert_eq!(
        r.status(),
        StatusCode::NO_CONTENT,
        "{}",
        r.text().await.unwrap()
    );
}
