//! Consent, objections, restriction, suppression and decisions over HTTP: the scenarios the
//! consent issue must show, against the bundled policy.

use reqwest::StatusCode;
use serde_json::{Value, json};
use vern_store::consent::ConsentStore;

use crate::helpers::{TestApp, id_of, lead, problem, spawn_app};

fn newsletter_to(email: &str) -> Value {
    json!({
        "identifier": {"kind": "email", "value": email},
        "purpose": "marketing.send",
        "channel": "email",
        "message_class": "newsletter"
    })
}

async fn decide(app: &TestApp, body: &Value) -> Value {
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

async fn consent(app: &TestApp, subject: &str, body: Value) -> Value {
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

fn grant(scope: &str, channel: Option<&str>) -> Value {
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

fn customer(email: &str) -> Value {
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
async fn a_restricted_subject_is_left_with_storage_and_legal_claims_only() {
    let app = spawn_app().await;
    let subject = id_of(&app.create_subject(&lead("r@example.com")).await);
    let r = app
        .request(
            reqwest::Method::PUT,
            &format!("/v1/subjects/{subject}/restriction"),
            Some(&app.admin_token),
            Some(&json!({"restricted": true})),
        )
        .await;
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    let policy = app.vault.policy();
    let reqs: Vec<Value> = policy
        .raw
        .purposes
        .iter()
        .map(|p| json!({"subject_id": subject, "purpose": p.id.get_ref()}))
        .collect();
    let r = app
        .post(&app.admin_token, "/v1/decisions/bulk", &json!(reqs))
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    let answers: Vec<Value> = r.json().await.unwrap();
    for (p, d) in policy.raw.purposes.iter().zip(&answers) {
        if p.allowed_under_restriction {
            assert_ne!(d["reason"], "restricted", "{}", p.id.get_ref());
        } else {
            assert_eq!(d["allowed"], false, "{}", p.id.get_ref());
            // Purposes that do not cover leads at all say so first.
            let covers_leads = p
                .subject_types
                .get_ref()
                .iter()
                .any(|t| t.get_ref() == "lead");
            if covers_leads {
                assert_eq!(d["reason"], "restricted", "{}", p.id.get_ref());
            }
        }
    }
    let restricted = answers
        .iter()
        .filter(|d| d["reason"] == "restricted")
        .count();
    assert!(restricted >= 5, "{answers:?}");
    let state: Value = app
        .get(
            &app.admin_token,
            &format!("/v1/subjects/{subject}/consents"),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(state["restricted"], true);
}

#[tokio::test]
async fn an_erased_then_reimported_address_is_suppressed() {
    let app = spawn_app().await;
    let email = "gone@example.com";
    let subject = id_of(&app.create_subject(&lead(email)).await);
    let r = app
        .delete(&app.admin_token, &format!("/v1/subjects/{subject}"))
        .await;
    assert!(r.status().is_success(), "{}", r.status());
    // The address alone is known as suppressed, though its subject is gone.
    let d = decide(&app, &newsletter_to(email)).await;
    assert_eq!(
        (d["reason"].clone(), d["subject_id"].clone()),
        (json!("suppressed"), Value::Null)
    );

    let again = id_of(&app.create_subject(&lead("Gone@Example.com")).await);
    consent(&app, &again, grant("marketing_email", None)).await;
    let d = decide(
        &app,
        &json!({"subject_id": again, "purpose": "marketing.send",
                                 "channel": "email", "message_class": "newsletter"}),
    )
    .await;
    assert_eq!(
        (d["allowed"].clone(), d["reason"].clone()),
        (json!(false), json!("suppressed"))
    );
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
async fn bulk_decisions_take_ndjson_and_keep_order() {
    let app = spawn_app().await;
    let subject = id_of(&app.create_subject(&lead("b@example.com")).await);
    consent(&app, &subject, grant("marketing_email", None)).await;
    let lines = [
        newsletter_to("b@example.com"),
        newsletter_to("nobody@example.com"),
    ]
    .iter()
    .map(Value::to_string)
    .collect::<Vec<_>>()
    .join("\n");
    let r = app
        .client
        .post(app.url("/v1/decisions/bulk"))
        .bearer_auth(&app.admin_token)
        .header("content-type", "application/x-ndjson")
        .body(lines)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let v: Vec<Value> = r.json().await.unwrap();
    assert_eq!(v[0]["allowed"], true);
    assert_eq!(
        (v[1]["allowed"].clone(), v[1]["reason"].clone()),
        (json!(false), json!("no_consent"))
    );
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

/// Runs `scripts/verify-receipt.py` (joserfc) on a receipt; `None` if joserfc is missing and
/// this is not CI (where it must be installed).
fn verify_with_joserfc(jwks: &str, receipt: &str) -> Option<(bool, String)> {
    let has_joserfc = std::process::Command::new("python3")
        .args(["-c", "import joserfc"])
        .status()
        .is_ok_and(|s| s.success());
    if !has_joserfc {
        assert!(
            std::env::var_os("CI").is_none(),
            "CI needs python3 with joserfc"
        );
        eprintln!("skipping: python3 with joserfc is not installed");
        return None;
    }
    let dir = std::env::temp_dir().join(format!("vern-receipt-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("jwks.json"), jwks).unwrap();
    std::fs::write(dir.join("receipt.jws"), receipt).unwrap();
    let script = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../scripts/verify-receipt.py"
    );
    let out = std::process::Command::new("python3")
        .arg(script)
        .arg(dir.join("jwks.json"))
        .arg(dir.join("receipt.jws"))
        .output()
        .unwrap();
    let _ = std::fs::remove_dir_all(&dir);
    let text = String::from_utf8_lossy(if out.status.success() {
        &out.stdout
    } else {
        &out.stderr
    });
    Some((out.status.success(), text.into_owned()))
}

#[tokio::test]
async fn receipts_verify_with_an_independent_jose_library() {
    let app = spawn_app().await;
    let subject = id_of(&app.create_subject(&lead("receipt@example.com")).await);
    let recorded = consent(&app, &subject, grant("marketing_email", None)).await;
    let receipt = recorded["receipt"].as_str().unwrap().to_owned();
    let r = app
        .client
        .get(app.url("/.well-known/jwks.json"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(r.headers()["content-type"], "application/jwk-set+json");
    let jwks = r.text().await.unwrap();

    let Some((ok, out)) = verify_with_joserfc(&jwks, &receipt) else {
        return;
    };
    assert!(ok, "{out}");
    let claims: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(claims["version"], "KI-CR-v1.1.0");
    assert_eq!(claims["piiPrincipalId"], subject.as_str());
    assert_eq!(claims["vern"]["action"], "granted");
    assert_eq!(
        claims["services"][0]["purposes"][0]["consentType"],
        "explicit"
    );
    assert!(claims["consentTimestamp"].is_i64());

    // A withdrawal gets its receipt too; a forged payload does not verify.
    let withdrawn = consent(
        &app,
        &subject,
        json!({"scope": "marketing_email",
        "action": "withdrawn", "method": "api", "collection_point": "crm"}),
    )
    .await;
    let (ok, out) = verify_with_joserfc(&jwks, withdrawn["receipt"].as_str().unwrap()).unwrap();
    assert!(ok && out.contains("\"withdrawn\""), "{out}");
    let mut parts: Vec<String> = receipt.split('.').map(str::to_owned).collect();
    parts[1] = parts[1].replace('A', "B");
    let (ok, _) = verify_with_joserfc(&jwks, &parts.join(".")).unwrap();
    assert!(!ok, "a tampered receipt must not verify");
}

/// A second `vern serve` on the same PostgreSQL database, with the same master key.
async fn second_node(app: &TestApp, url: &str) -> (String, tokio::sync::oneshot::Sender<()>) {
    use std::sync::Arc;
    let store = vern_store::SqlStore::open_url(url).await.unwrap();
    let vault = vern_server::Vault::open(
        store,
        Arc::new(crate::helpers::bundled_policy()),
        vern_core::crypto::MasterKey::parse(&app.master_hex).unwrap(),
        Vec::new(),
        Arc::new(vern_core::ids::SystemClock),
    )
    .await
    .unwrap();
    let state = vern_server::AppState::new(vault, vern_server::ServerConfig::default());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = format!("http://{}", listener.local_addr().unwrap());
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(vern_server::serve(listener, state, async {
        let _ = rx.await;
    }));
    (address, tx)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_nodes_on_postgres_honour_a_withdrawal_and_an_objection_at_once() {
    let app = spawn_app().await;
    let Some(url) = app.postgres_url() else {
        return; // Needs VERN_TEST_POSTGRES_URL.
    };
    let (node2, _stop) = second_node(&app, &url).await;
    let on_node2 = |body: Value| {
        let client = app.client.clone();
        let token = app.admin_token.clone();
        let url = format!("{node2}/v1/decisions");
        async move {
            let r = client
                .post(url)
                .bearer_auth(token)
                .json(&body)
                .send()
                .await
                .unwrap();
            assert_eq!(r.status(), StatusCode::OK);
            r.json::<Value>().await.unwrap()
        }
    };
    let email = "two-nodes@example.com";
    let subject = id_of(&app.create_subject(&lead(email)).await);
    consent(&app, &subject, grant("marketing_email", None)).await;
    assert_eq!(on_node2(newsletter_to(email)).await["allowed"], true);

    // Withdrawn on node 1: the very next decision on node 2 sees it (no per-node cache).
    let t = std::time::Instant::now();
    consent(
        &app,
        &subject,
        json!({"scope": "marketing_email", "action": "withdrawn",
        "method": "api", "collection_point": "crm"}),
    )
    .await;
    let d = on_node2(newsletter_to(email)).await;
    assert_eq!(
        (d["allowed"].clone(), d["reason"].clone()),
        (json!(false), json!("consent_withdrawn"))
    );
    assert!(
        t.elapsed() < std::time::Duration::from_secs(1),
        "{:?}",
        t.elapsed()
    );

    // Objection recorded on node 2: node 1 honours it at once.
    let other = id_of(&app.create_subject(&customer("objector@example.com")).await);
    let order = json!({"subject_id": other, "purpose": "sales.offers", "channel": "email",
                       "message_class": "offer"});
    assert_eq!(
        decide(&app, &order).await["allowed"],
        true,
        "existing customer"
    );
    let r = app
        .client
        .post(format!("{node2}/v1/subjects/{other}/objections"))
        .bearer_auth(&app.admin_token)
        .json(&json!({"direct_marketing": true}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::CREATED);
    assert_eq!(decide(&app, &order).await["allowed"], false);
}

#[tokio::test]
async fn a_bulk_call_takes_bodies_beyond_the_server_limit_but_not_beyond_100k_items() {
    let app = spawn_app().await;
    let item = json!({"subject_id": "01936f5e-0000-7000-8000-000000000000", "purpose": "support"});
    let too_many = Value::Array(vec![item; 100_001]);
    let r = app
        .post(&app.admin_token, "/v1/decisions/bulk", &too_many)
        .await;
    // Several megabytes: past the 1 MiB server-wide limit, so this 422 (not 413) shows the
    // bulk route's own limit; the count is what is refused.
    let p = problem(r, StatusCode::UNPROCESSABLE_ENTITY).await;
    assert!(p.to_string().contains("too_many_items"), "{p}");
}
