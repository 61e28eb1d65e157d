//! Decisions over HTTP: restriction, suppression after erasure, bulk calls, and two nodes on
//! one PostgreSQL database.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::consent::{consent, customer, decide, grant, newsletter_to};
use crate::helpers::{TestApp, id_of, lead, problem, spawn_app};

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

    // Brought back as a marketing lead: refused, nothing stored.
    let r = app
        .post(&app.admin_token, "/v1/subjects", &lead("Gone@Example.com"))
        .await;
    let p = problem(r, StatusCode::UNPROCESSABLE_ENTITY).await;
    assert!(p.to_string().contains("suppressed_address"), "{p}");
    let r = app
        .post(
            &app.admin_token,
            "/v1/lookup",
            &json!({"kind": "email", "value": "gone@example.com"}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::NOT_FOUND);

    // Known again for another reason (a customer contact, no marketing records): stored, and
    // marketing to it is still suppressed.
    let again = id_of(&app.create_subject(&customer("Gone@Example.com")).await);
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
async fn a_role_address_the_policy_lists_needs_no_marketing_consent() {
    let app = spawn_app().await;
    let role = id_of(&app.create_subject(&lead("Post@Firma.example")).await);
    id_of(
        &app.create_subject(&lead("kari.nordmann@firma.example"))
            .await,
    );
    let d = decide(&app, &newsletter_to("post@firma.example")).await;
    assert_eq!(
        (d["allowed"].clone(), d["reason"].clone()),
        (json!(true), json!("role_address"))
    );
    let d = decide(&app, &newsletter_to("kari.nordmann@firma.example")).await;
    assert_eq!(d["reason"], "no_consent");
    // An address of nobody known yet, too.
    let d = decide(&app, &newsletter_to("info@other.example")).await;
    assert_eq!(d["reason"], "role_address");
    // Never over an opt-out: a withdrawal wins.
    consent(&app, &role, grant("marketing_email", None)).await;
    consent(
        &app,
        &role,
        json!({"scope": "marketing_email", "action": "withdrawn", "method": "api",
               "collection_point": "crm"}),
    )
    .await;
    let d = decide(&app, &newsletter_to("post@firma.example")).await;
    assert_eq!(d["reason"], "consent_withdrawn");
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
    let vault = Arc::new(vault);
    tokio::spawn(vault.cache_poller());
    let state = vern_server::AppState::from_arc(vault, vern_server::ServerConfig::default());
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

    // Withdrawn on node 1: node 1 at once, node 2 (its own cache) within 1 s.
    consent(
        &app,
        &subject,
        json!({"scope": "marketing_email", "action": "withdrawn",
        "method": "api", "collection_point": "crm"}),
    )
    .await;
    let t = std::time::Instant::now();
    assert_eq!(decide(&app, &newsletter_to(email)).await["allowed"], false);
    let mut d = on_node2(newsletter_to(email)).await;
    while d["allowed"] == true && t.elapsed() < std::time::Duration::from_secs(2) {
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
        d = on_node2(newsletter_to(email)).await;
    }
    assert_eq!(
        (d["allowed"].clone(), d["reason"].clone()),
        (json!(false), json!("consent_withdrawn"))
    );
    assert!(
        t.elapsed() < std::time::Duration::from_secs(1),
        "{:?}",
        t.elapsed()
    );

    // Objection recorded on node 2: node 1 honours it within 1 s.
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
    let t = std::time::Instant::now();
    while decide(&app, &order).await["allowed"] == true {
        assert!(
            t.elapsed() < std::time::Duration::from_secs(1),
            "node 1 never saw it"
        );
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
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

#[tokio::test]
async fn an_unknown_subject_id_is_a_denial_not_an_error() {
    let app = spawn_app().await;
    let gone = id_of(&app.create_subject(&lead("stale@example.com")).await);
    let r = app
        .delete(&app.admin_token, &format!("/v1/subjects/{gone}"))
        .await;
    assert!(r.status().is_success());
    let reqs = json!([
        {"subject_id": gone, "purpose": "marketing.send", "channel": "email"},
        newsletter_to("someone@example.com"),
    ]);
    let r = app
        .post(&app.admin_token, "/v1/decisions/bulk", &reqs)
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    let v: Vec<Value> = r.json().await.unwrap();
    assert_eq!(
        (v[0]["allowed"].clone(), v[0]["reason"].clone()),
        (json!(false), json!("unknown_subject"))
    );
    assert_eq!(v[1]["reason"], "no_consent");
}

/// A bulk call large enough to be decided on several threads, asked twice (the second time
/// from the cache), answers exactly as single decisions do, in order, with unique ids.
#[tokio::test]
async fn a_large_bulk_call_answers_like_single_decisions() {
    let app = spawn_app().await;
    let mut subjects = Vec::new();
    for i in 0..12 {
        let s = id_of(
            &app.create_subject(&lead(&format!("bulk{i}@example.com")))
                .await,
        );
        if i % 3 == 0 {
            consent(&app, &s, grant("marketing_email", None)).await;
        }
        subjects.push(s);
    }
    let r = app
        .post(
            &app.admin_token,
            &format!("/v1/subjects/{}/objections", subjects[1]),
            &json!({"direct_marketing": true}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::CREATED);
    // By id, by email (known, unknown, a role address), and an id of nobody.
    let nobody = "01936f5e-0000-7000-8000-00000000dead";
    // Item i is item i % 60: the first 60 are asked one by one for the expected answers.
    let item = |i: usize| {
        let j = i % 60;
        match j % 5 {
            0 => json!({"subject_id": subjects[j % 12], "purpose": "marketing.send",
                        "channel": "email", "message_class": "newsletter"}),
            1 => newsletter_to(&format!("Bulk{}@Example.com", j % 12)),
            2 => newsletter_to(&format!("stranger{}@example.com", j % 7)),
            3 => newsletter_to("post@firma.example"),
            _ => json!({"subject_id": nobody, "purpose": "support"}),
        }
    };
    let reqs: Vec<Value> = (0..9000).map(item).collect();
    let mut expected = Vec::new();
    for r in reqs.iter().take(60) {
        let d = decide(&app, r).await;
        expected.push((
            d["allowed"].clone(),
            d["reason"].clone(),
            d["subject_id"].clone(),
        ));
    }
    for round in 0..2 {
        let r = app
            .post(&app.admin_token, "/v1/decisions/bulk", &json!(reqs))
            .await;
        assert_eq!(r.status(), StatusCode::OK);
        let v: Vec<Value> = r.json().await.unwrap();
        assert_eq!(v.len(), reqs.len());
        for (i, d) in v.iter().enumerate() {
            let (allowed, reason, subject) = &expected[i % 60];
            assert_eq!(
                (&d["allowed"], &d["reason"], &d["subject_id"]),
                (allowed, reason, subject),
                "round {round}, item {i}: {d}"
            );
            assert!(d["basis"].is_string() || d["basis"].is_null(), "{d}");
            assert_eq!(d["policy_version"], v[0]["policy_version"]);
        }
        let ids: std::collections::BTreeSet<&str> = v
            .iter()
            .map(|d| d["decision_id"].as_str().unwrap())
            .collect();
        assert_eq!(ids.len(), v.len(), "decision ids are unique");
    }
    // A bad item deep in the list fails the call and is named.
    let mut bad = reqs.clone();
    bad[8123] = json!({"identifier": {"kind": "email", "value": "not an address"},
                       "purpose": "marketing.send"});
    let r = app
        .post(&app.admin_token, "/v1/decisions/bulk", &json!(bad))
        .await;
    let p = problem(r, StatusCode::UNPROCESSABLE_ENTITY).await;
    assert_eq!(p["errors"][0]["field"], "[8123].identifier.value", "{p}");
    bad[8123] = json!({"purpose": "marketing.send"});
    let r = app
        .post(&app.admin_token, "/v1/decisions/bulk", &json!(bad))
        .await;
    let p = problem(r, StatusCode::UNPROCESSABLE_ENTITY).await;
    assert_eq!(p["errors"][0]["field"], "[8123].subject_id", "{p}");
}

/// The decision audit: every answer, single or bulk, is found by its `decision_id` with what
/// was asked and why; an address asked by is kept as its kind only; `audit.read` is needed.
#[tokio::test]
async fn every_decision_is_found_by_its_id_with_its_reason() {
    let app = spawn_app().await;
    let email = "audit-me@example.com";
    let subject = id_of(&app.create_subject(&lead(email)).await);
    consent(&app, &subject, grant("marketing_email", None)).await;
    let by_id = json!({"subject_id": subject, "purpose": "marketing.send", "channel": "email",
                       "message_class": "newsletter"});
    let granted = decide(&app, &by_id).await;
    consent(
        &app,
        &subject,
        json!({"scope": "marketing_email", "action": "withdrawn", "method": "api",
               "collection_point": "crm"}),
    )
    .await;
    let withdrawn = decide(&app, &newsletter_to(email)).await;
    let bulk: Vec<Value> = app
        .post(
            &app.admin_token,
            "/v1/decisions/bulk",
            &json!([by_id, newsletter_to("nobody-known@example.com"),
                    {"subject_id": subject, "purpose": "support"}]),
        )
        .await
        .json()
        .await
        .unwrap();

    let record = |id: Value| {
        let app = &app;
        async move {
            let r = app
                .get(
                    &app.admin_token,
                    &format!("/v1/decisions/{}", id.as_str().unwrap()),
                )
                .await;
            let status = r.status();
            let text = r.text().await.unwrap();
            assert_eq!(status, StatusCode::OK, "{text}");
            assert!(
                !text.contains("@example.com"),
                "no address in the audit: {text}"
            );
            serde_json::from_str::<Value>(&text).unwrap()
        }
    };
    let r = record(granted["decision_id"].clone()).await;
    assert_eq!(r["decision_id"], granted["decision_id"]);
    assert_eq!(
        (
            &r["allowed"],
            &r["reason"],
            &r["subject_id"],
            &r["asked_by"]
        ),
        (
            &json!(true),
            &json!("consent_given"),
            &json!(subject),
            &json!("subject_id")
        )
    );
    assert_eq!(
        (&r["purpose"], &r["channel"], &r["message_class"]),
        (
            &json!("marketing.send"),
            &json!("email"),
            &json!("newsletter")
        )
    );
    assert_eq!(r["policy_version"], granted["policy_version"]);
    assert!(r["decided_at"].is_string());
    let r = record(withdrawn["decision_id"].clone()).await;
    assert_eq!(
        (&r["allowed"], &r["reason"], &r["asked_by"]),
        (&json!(false), &json!("consent_withdrawn"), &json!("email"))
    );
    for d in &bulk {
        let r = record(d["decision_id"].clone()).await;
        assert_eq!(
            (&r["allowed"], &r["reason"], &r["basis"], &r["subject_id"]),
            (
                &d["allowed"],
                &d["reason"],
                &d["basis"],
                &d.get("subject_id").cloned().unwrap_or(Value::Null)
            ),
        );
    }

    // Unknown ids are 404; a malformed one is 422; other roles than audit readers get 403.
    let unknown = "01936f5e-0000-7000-8000-000000000000";
    let r = app
        .get(&app.admin_token, &format!("/v1/decisions/{unknown}"))
        .await;
    problem(r, StatusCode::NOT_FOUND).await;
    let mut past_the_block = uuid::Uuid::parse_str(bulk[0]["decision_id"].as_str().unwrap())
        .unwrap()
        .as_u128();
    past_the_block += 5;
    let r = app
        .get(
            &app.admin_token,
            &format!("/v1/decisions/{}", uuid::Uuid::from_u128(past_the_block)),
        )
        .await;
    problem(r, StatusCode::NOT_FOUND).await;
    let r = app.get(&app.admin_token, "/v1/decisions/nope").await;
    problem(r, StatusCode::UNPROCESSABLE_ENTITY).await;
    let marketing = app.token("marketing").await;
    let r = app
        .get(
            &marketing,
            &format!("/v1/decisions/{}", granted["decision_id"].as_str().unwrap()),
        )
        .await;
    problem(r, StatusCode::FORBIDDEN).await;
}

/// Decisions are written behind the answers, and still written when the server stops.
#[tokio::test]
async fn pending_decisions_are_written_by_the_flusher() {
    let app = spawn_app().await;
    let subject = id_of(&app.create_subject(&lead("flush@example.com")).await);
    let d = decide(&app, &json!({"subject_id": subject, "purpose": "support"})).await;
    let id = uuid::Uuid::parse_str(d["decision_id"].as_str().unwrap()).unwrap();
    let (block, index) = vern_server::vault::split_decision_id(id);
    assert!(index < 1 << 17);
    // Without any lookup, the flusher writes it within a few of its intervals.
    let t = std::time::Instant::now();
    loop {
        use vern_store::DecisionLogStore;
        let row = app
            .vault
            .store()
            .decision_block(app.vault.tenant(), block)
            .await
            .unwrap();
        if row.is_some_and(|r| r.n > i64::from(index)) {
            break;
        }
        assert!(
            t.elapsed() < std::time::Duration::from_secs(5),
            "never written"
        );
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
}

/// The decision audit is kept for the configured time (default three years), then the
/// scheduled `decision_log.prune` job deletes it: an old decision is no longer found, a recent
/// one is, and the pruning is audited.
#[tokio::test]
async fn the_decision_audit_is_pruned_after_its_retention() {
    use std::sync::Arc;
    use vern_core::ids::FixedClock;
    use vern_server::jobs::{Runner, RunnerConfig};
    let clock = Arc::new(FixedClock::new(time::OffsetDateTime::now_utc()));
    let app = crate::helpers::spawn_app_with(crate::helpers::Options {
        clock: Some(clock.clone()),
        ..crate::helpers::Options::default()
    })
    .await;
    let subject = id_of(&app.create_subject(&lead("old-proof@example.com")).await);
    let ask = json!({"subject_id": subject, "purpose": "marketing.send", "channel": "email",
                     "message_class": "newsletter"});
    let old = decide(&app, &ask).await["decision_id"].clone();
    let found = |id: Value| {
        let app = &app;
        async move {
            app.get(
                &app.admin_token,
                &format!("/v1/decisions/{}", id.as_str().unwrap()),
            )
            .await
            .status()
        }
    };
    assert_eq!(found(old.clone()).await, StatusCode::OK);

    clock.advance(time::Duration::days(3 * 365 + 1));
    let recent = decide(&app, &ask).await["decision_id"].clone();
    assert_eq!(found(recent.clone()).await, StatusCode::OK);
    let runner = Runner::new(app.vault.clone(), RunnerConfig::default());
    runner.schedule_due().await.unwrap();
    while runner.run_one().await.unwrap().is_some() {}

    assert_eq!(found(old).await, StatusCode::NOT_FOUND);
    assert_eq!(found(recent).await, StatusCode::OK);
    let audit = app.audit_entries().await;
    let prune = audit
        .iter()
        .find(|e| e.entry.action == "decision_log.prune")
        .expect("the pruning is audited");
    assert!(
        prune.entry.detail.contains("\"blocks\":1"),
        "{}",
        prune.entry.detail
    );
}
