//! Data-subject requests over HTTP: receipt and deadlines, staff entry, the admin list, the
//! state machine's refusals, outcomes and closing, idempotency, no enumeration, and 1,000
//! concurrent submissions.

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use vern_store::RequestStore;

use crate::helpers::{TestApp, id_of, lead, problem, spawn_app};

fn web_request(email: &str, rights: &[&str]) -> Value {
    json!({"rights": rights, "lang": "nb", "channel": "web",
           "identifiers": [{"kind": "email", "value": email}]})
}

async fn submit(app: &TestApp, token: &str, body: &Value) -> Value {
    let r = app.post(token, "/v1/requests", body).await;
    assert_eq!(r.status(), StatusCode::CREATED, "{:?}", r.text().await);
    r.json().await.unwrap()
}

async fn act(app: &TestApp, id: &str, body: Value) -> reqwest::Response {
    app.post(
        &app.admin_token,
        &format!("/v1/requests/{id}/actions"),
        &body,
    )
    .await
}

/// Staff-entered and verified at entry: in progress at once.
async fn in_progress(app: &TestApp, rights: &[&str]) -> Value {
    submit(
        app,
        &app.admin_token,
        &json!({"rights": rights, "lang": "en", "channel": "phone",
                "identifiers": [{"kind": "phone", "value": "+47 912 34 567"}],
                "staff_verification": "called back on the number on file"}),
    )
    .await
}

#[tokio::test]
async fn a_web_request_waits_for_identity_with_its_deadlines() {
    let app = spawn_app().await;
    let v = submit(
        &app,
        &app.admin_token,
        &web_request("kari@example.com", &["erasure", "access"]),
    )
    .await;
    assert_eq!(v["state"], "awaiting_identity");
    assert_eq!(v["rights"], json!(["access", "erasure"]));
    assert!(v["reference"].as_str().unwrap().starts_with("DSR-"));
    assert_eq!(v["extended"], false);
    assert_eq!(v["overdue"], false);
    let received = time::Date::parse(
        v["received_on"].as_str().unwrap(),
        &time::format_description::well_known::Iso8601::DATE,
    )
    .unwrap();
    let d = vern_core::dsr::Deadlines::for_date(received).unwrap();
    assert_eq!(v["due_initial"], d.due_initial.to_string());
    assert_eq!(v["due_max"], d.due_max.to_string());
    assert_eq!(v["due"], v["due_initial"]);
    // No personal data and no match information in the answer.
    assert!(v.get("subject_id").is_none());
    assert!(!v.to_string().contains("kari@"));

    // The case file: identifiers, history; the row holds only ciphertext.
    let id = id_of(&v);
    let detail: Value = app
        .get(&app.admin_token, &format!("/v1/requests/{id}"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(detail["identifiers"][0]["value"], "kari@example.com");
    assert_eq!(detail["history"][0]["action"], "receive");
    assert_eq!(detail["history"][0]["to_state"], "awaiting_identity");
    let row = app
        .vault
        .store()
        .get_request(app.vault.tenant(), id.parse().unwrap())
        .await
        .unwrap();
    assert!(!row.case_ct.windows(b"kari@".len()).any(|w| w == b"kari@"));
    // A reminder job is queued for 5 days before the deadline.
    let jobs: Value = app
        .get(&app.admin_token, "/v1/jobs?limit=100")
        .await
        .json()
        .await
        .unwrap();
    assert!(
        jobs.as_array()
            .unwrap_or(&vec![])
            .iter()
            .chain(jobs["items"].as_array().unwrap_or(&vec![]).iter())
            .any(|j| j["kind"] == "dsr.reminder"),
        "{jobs}"
    );
    // The audit entry names ids and rights only.
    let audit = app.audit_entries().await;
    let entry = audit
        .iter()
        .find(|e| e.entry.action == "dsr.receive")
        .unwrap();
    assert!(!entry.entry.detail.contains("kari"));
}

#[tokio::test]
async fn staff_enter_a_phoned_request_with_its_arrival_time() {
    let app = spawn_app().await;
    let arrived = time::OffsetDateTime::now_utc() - time::Duration::days(10);
    let v = submit(
        &app,
        &app.admin_token,
        &json!({"rights": ["access"], "lang": "en", "channel": "phone",
                "identifiers": [{"kind": "phone", "value": "+47 912 34 567"}],
                "received_at": arrived.format(&time::format_description::well_known::Rfc3339).unwrap(),
                "staff_verification": "caller answered from the number on file"}),
    )
    .await;
    assert_eq!(v["state"], "in_progress");
    let on = vern_core::dsr::LocalZone::EuropeCentral.date_of(arrived);
    assert_eq!(v["received_on"], on.to_string());
    let d = vern_core::dsr::Deadlines::for_date(on).unwrap();
    assert_eq!(v["due_initial"], d.due_initial.to_string());
    assert_eq!(
        v["days_left"],
        json!(
            (d.due_initial
                - vern_core::dsr::LocalZone::EuropeCentral
                    .date_of(time::OffsetDateTime::now_utc()))
            .whole_days()
        )
    );
    let detail: Value = app
        .get(&app.admin_token, &format!("/v1/requests/{}", id_of(&v)))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(detail["verification"]["method"], "staff");
    assert_eq!(
        detail["verification"]["reason"],
        "caller answered from the number on file"
    );

    // Only staff channels carry an arrival time; never in the future or > 31 days back.
    for (channel, at, field) in [
        ("web", arrived, "received_at"),
        (
            "phone",
            time::OffsetDateTime::now_utc() + time::Duration::hours(2),
            "received_at",
        ),
        (
            "mail",
            time::OffsetDateTime::now_utc() - time::Duration::days(40),
            "received_at",
        ),
    ] {
        let r = app
            .post(
                &app.admin_token,
                "/v1/requests",
                &json!({"rights": ["access"], "lang": "en", "channel": channel,
                        "identifiers": [{"kind": "email", "value": "a@example.com"}],
                        "received_at": at.format(&time::format_description::well_known::Rfc3339).unwrap()}),
            )
            .await;
        let p = problem(r, StatusCode::UNPROCESSABLE_ENTITY).await;
        assert_eq!(p["errors"][0]["field"], field);
    }
    // Staff verification needs `requests.manage`: the service role may submit, not verify.
    let service = app.token("service").await;
    let r = app
        .post(
            &service,
            "/v1/requests",
            &json!({"rights": ["access"], "lang": "en", "channel": "api",
                    "identifiers": [{"kind": "email", "value": "a@example.com"}],
                    "staff_verification": "trust me"}),
        )
        .await;
    problem(r, StatusCode::FORBIDDEN).await;
}

#[tokio::test]
async fn bad_submissions_are_refused_and_nothing_is_stored() {
    let app = spawn_app().await;
    let bad = [
        json!({"rights": [], "lang": "nb", "channel": "web",
               "identifiers": [{"kind": "email", "value": "a@example.com"}]}),
        json!({"rights": ["access", "access"], "lang": "nb", "channel": "web",
               "identifiers": [{"kind": "email", "value": "a@example.com"}]}),
        json!({"rights": ["access"], "lang": "nb", "channel": "web", "identifiers": []}),
        json!({"rights": ["access"], "lang": "nb", "channel": "web",
               "identifiers": [{"kind": "email", "value": "not an email"}]}),
        json!({"rights": ["access"], "lang": "nb", "channel": "web",
               "identifiers": [{"kind": "email", "value": "a@example.com"}],
               "staff_verification": "   "}),
    ];
    for body in bad {
        let r = app.post(&app.admin_token, "/v1/requests", &body).await;
        let p = problem(r, StatusCode::UNPROCESSABLE_ENTITY).await;
        assert!(!p.to_string().contains("not an email"), "{p}");
    }
    for body in [
        json!({"rights": ["access"], "lang": "nb", "channel": "web", "extra": 1,
               "identifiers": [{"kind": "email", "value": "a@example.com"}]}),
        json!({"rights": ["forget_me"], "lang": "nb", "channel": "web",
               "identifiers": [{"kind": "email", "value": "a@example.com"}]}),
        json!({"rights": ["access"], "lang": "de", "channel": "web",
               "identifiers": [{"kind": "email", "value": "a@example.com"}]}),
        json!({"rights": ["access"], "lang": "nb", "channel": "fax",
               "identifiers": [{"kind": "email", "value": "a@example.com"}]}),
    ] {
        let r = app.post(&app.admin_token, "/v1/requests", &body).await;
        assert!(r.status().is_client_error(), "{body}");
    }
    assert_eq!(
        app.vault
            .store()
            .count_requests(app.vault.tenant())
            .await
            .unwrap(),
        0
    );
    // List filters are checked too.
    for q in ["state=nope", "right=nope", "limit=0", "after=garbage"] {
        let r = app
            .get(&app.admin_token, &format!("/v1/requests?{q}"))
            .await;
        problem(r, StatusCode::UNPROCESSABLE_ENTITY).await;
    }
    // An unknown request is a 404, an unknown action a 4xx.
    let r = app
        .get(
            &app.admin_token,
            "/v1/requests/0190a6b2-0000-7000-8000-000000000001",
        )
        .await;
    problem(r, StatusCode::NOT_FOUND).await;
    let v = in_progress(&app, &["access"]).await;
    let r = act(&app, &id_of(&v), json!({"action": "explode"})).await;
    assert!(r.status().is_client_error());
}

#[tokio::test]
async fn extension_needs_a_reason_and_happens_once() {
    let app = spawn_app().await;
    let v = in_progress(&app, &["access"]).await;
    let id = id_of(&v);
    let r = act(
        &app,
        &id,
        json!({"action": "extend", "months": 2, "reason": " "}),
    )
    .await;
    problem(r, StatusCode::UNPROCESSABLE_ENTITY).await;
    let r = act(
        &app,
        &id,
        json!({"action": "extend", "months": 3, "reason": "complex"}),
    )
    .await;
    problem(r, StatusCode::UNPROCESSABLE_ENTITY).await;
    let r = act(
        &app,
        &id,
        json!({"action": "extend", "months": 2, "reason": "many requests from one person"}),
    )
    .await;
    assert_eq!(r.status(), StatusCode::OK);
    let e: Value = r.json().await.unwrap();
    assert_eq!(e["state"], "extended");
    assert_eq!(e["extended"], true);
    assert_eq!(e["due"], v["due_max"]);
    // Not twice.
    let r = act(
        &app,
        &id,
        json!({"action": "extend", "months": 1, "reason": "again"}),
    )
    .await;
    problem(r, StatusCode::CONFLICT).await;
    let detail: Value = app
        .get(&app.admin_token, &format!("/v1/requests/{id}"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(detail["extension_reason"], "many requests from one person");
}

#[tokio::test]
async fn the_state_machine_refuses_invalid_transitions_over_http() {
    let app = spawn_app().await;
    // Awaiting identity: no extension, no outcome, no completion, no refusal.
    let w = submit(
        &app,
        &app.admin_token,
        &web_request("x@example.com", &["access"]),
    )
    .await;
    let wid = id_of(&w);
    for body in [
        json!({"action": "extend", "months": 1, "reason": "complex"}),
        json!({"action": "complete"}),
        json!({"action": "refuse", "reason": "r", "legal_basis": "GDPR Art. 12(5)"}),
        json!({"action": "record_outcome", "outcome": {"right": "access", "status": "done"}}),
    ] {
        let r = act(&app, &wid, body.clone()).await;
        problem(r, StatusCode::CONFLICT).await;
    }
    // Withdrawn: nothing more.
    let r = act(&app, &wid, json!({"action": "withdraw"})).await;
    assert_eq!(r.status(), StatusCode::OK);
    for body in [
        json!({"action": "verify", "reason": "r"}),
        json!({"action": "withdraw"}),
        json!({"action": "resend_verification"}),
        json!({"action": "unable_to_identify", "reason": "r"}),
    ] {
        let r = act(&app, &wid, body.clone()).await;
        problem(r, StatusCode::CONFLICT).await;
    }
    // In progress: no identity actions.
    let v = in_progress(&app, &["access"]).await;
    let id = id_of(&v);
    for body in [
        json!({"action": "verify", "reason": "again"}),
        json!({"action": "unable_to_identify", "reason": "r"}),
        json!({"action": "resend_verification"}),
    ] {
        let r = act(&app, &id, body.clone()).await;
        problem(r, StatusCode::CONFLICT).await;
    }
    // Refusal of the whole request is the DPO's: support may not.
    let support = app.token("support").await;
    let r = app
        .post(
            &support,
            &format!("/v1/requests/{id}/actions"),
            &json!({"action": "refuse", "reason": "r", "legal_basis": "GDPR Art. 12(5)"}),
        )
        .await;
    problem(r, StatusCode::FORBIDDEN).await;
    // Completion fulfils a right whose outcome was not recorded (here: no subject matched, so
    // the answer is that nothing is held); but a rectification of a known subject needs the
    // corrections, and a bad input changes nothing.
    app.create_subject(&crate::helpers::lead("known@example.com"))
        .await;
    let v = submit(
        &app,
        &app.admin_token,
        &json!({"rights": ["rectification"], "lang": "en", "channel": "phone",
                "identifiers": [{"kind": "email", "value": "known@example.com"}],
                "staff_verification": "called back on the number on file"}),
    )
    .await;
    let rid = id_of(&v);
    let r = act(&app, &rid, json!({"action": "complete"})).await;
    let p = problem(r, StatusCode::UNPROCESSABLE_ENTITY).await;
    assert_eq!(p["errors"][0]["code"], "rectification_missing");
    let r = act(
        &app,
        &rid,
        json!({"action": "complete", "objection": {"direct_marketing": true}}),
    )
    .await;
    let p = problem(r, StatusCode::UNPROCESSABLE_ENTITY).await;
    assert!(p.to_string().contains("right_not_requested"), "{p}");
    let r = act(&app, &id, json!({"action": "complete"})).await;
    let done: Value = r.json().await.unwrap();
    assert_eq!(done["state"], "completed");
    // Closed: completing again is refused.
    let r = act(&app, &id, json!({"action": "complete"})).await;
    problem(r, StatusCode::CONFLICT).await;
}

#[tokio::test]
async fn outcomes_decide_how_a_request_closes() {
    let app = spawn_app().await;
    // Every right done: completed.
    let v = in_progress(&app, &["access"]).await;
    let id = id_of(&v);
    let r = act(
        &app,
        &id,
        json!({"action": "record_outcome",
               "outcome": {"right": "access", "status": "done", "artefact": "report:1"}}),
    )
    .await;
    assert_eq!(r.status(), StatusCode::OK);
    let r = act(&app, &id, json!({"action": "complete"})).await;
    let done: Value = r.json().await.unwrap();
    assert_eq!(done["state"], "completed");
    assert!(done["closed_at"].is_string());

    // Erasure with invoices kept: partially refused, with reason, basis and end date.
    let v = in_progress(&app, &["erasure", "access"]).await;
    let id = id_of(&v);
    // An outcome for a right not asked for, or a refusal without reason/basis: 422.
    for outcome in [
        json!({"right": "portability", "status": "done"}),
        json!({"right": "erasure", "status": "partial"}),
        json!({"right": "erasure", "status": "refused", "reason": "kept"}),
        json!({"right": "erasure", "status": "partial", "reason": "r", "legal_basis": "b",
               "kept_until": "31.12.2030"}),
    ] {
        let r = act(
            &app,
            &id,
            json!({"action": "record_outcome", "outcome": outcome}),
        )
        .await;
        problem(r, StatusCode::UNPROCESSABLE_ENTITY).await;
    }
    for outcome in [
        json!({"right": "access", "status": "done"}),
        json!({"right": "erasure", "status": "partial",
               "reason": "invoices are kept under bookkeeping law",
               "legal_basis": "GDPR Art. 17(3)(b); bokføringsloven § 13",
               "kept_until": "2031-12-31"}),
    ] {
        let r = act(
            &app,
            &id,
            json!({"action": "record_outcome", "outcome": outcome}),
        )
        .await;
        assert_eq!(r.status(), StatusCode::OK);
    }
    let r = act(&app, &id, json!({"action": "complete"})).await;
    let closed: Value = r.json().await.unwrap();
    assert_eq!(closed["state"], "partially_refused");
    let detail: Value = app
        .get(&app.admin_token, &format!("/v1/requests/{id}"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(detail["outcomes"][1]["kept_until"], "2031-12-31");
    let actions: Vec<&str> = detail["history"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["action"].as_str().unwrap())
        .collect();
    assert_eq!(
        actions,
        ["receive", "record_outcome", "record_outcome", "complete"]
    );
    // Closed: no further outcome.
    let r = act(
        &app,
        &id,
        json!({"action": "record_outcome", "outcome": {"right": "access", "status": "done"}}),
    )
    .await;
    problem(r, StatusCode::CONFLICT).await;

    // The DPO refuses a manifestly excessive request with a reason and basis.
    let v = in_progress(&app, &["access"]).await;
    let dpo = app.token("dpo").await;
    let r = app
        .post(
            &dpo,
            &format!("/v1/requests/{}/actions", id_of(&v)),
            &json!({"action": "refuse", "reason": "the tenth identical request this month",
                    "legal_basis": "GDPR Art. 12(5)(b)"}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(r.json::<Value>().await.unwrap()["state"], "refused");
}

#[tokio::test]
async fn the_admin_list_sorts_by_deadline_and_filters() {
    let app = spawn_app().await;
    let old = time::OffsetDateTime::now_utc() - time::Duration::days(30);
    let oldest = submit(
        &app,
        &app.admin_token,
        &json!({"rights": ["erasure"], "lang": "nb", "channel": "mail",
                "identifiers": [{"kind": "email", "value": "old@example.com"}],
                "received_at": old.format(&time::format_description::well_known::Rfc3339).unwrap(),
                "staff_verification": "signed letter matches the address on file"}),
    )
    .await;
    let fresh = submit(
        &app,
        &app.admin_token,
        &web_request("new@example.com", &["access"]),
    )
    .await;
    let page: Value = app
        .get(&app.admin_token, "/v1/requests")
        .await
        .json()
        .await
        .unwrap();
    let items = page["items"].as_array().unwrap();
    assert_eq!(items.len(), 2);
    assert_eq!(items[0]["id"], oldest["id"]);
    // Received 30 days ago: due in 0 or 1 days (month length), so due soon, not yet overdue.
    assert_eq!(items[0]["due_soon"], true, "{}", items[0]);
    assert_eq!(items[0]["overdue"], false);
    assert_eq!(items[1]["id"], fresh["id"]);
    assert_eq!(items[1]["due_soon"], false);
    let page: Value = app
        .get(&app.admin_token, "/v1/requests?right=access")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(page["items"].as_array().unwrap().len(), 1);
    assert_eq!(page["items"][0]["id"], fresh["id"]);
    let page: Value = app
        .get(&app.admin_token, "/v1/requests?state=in_progress")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(page["items"][0]["id"], oldest["id"]);
    assert_eq!(page["items"].as_array().unwrap().len(), 1);
    // Keyset pages.
    let page: Value = app
        .get(&app.admin_token, "/v1/requests?limit=1")
        .await
        .json()
        .await
        .unwrap();
    let next = page["next"].as_str().unwrap();
    let page2: Value = app
        .get(
            &app.admin_token,
            &format!("/v1/requests?limit=1&after={next}"),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(page2["items"][0]["id"], fresh["id"]);
    // Closed requests drop out of the open list.
    act(
        &app,
        &id_of(&fresh),
        json!({"action": "withdraw", "reason": "changed my mind"}),
    )
    .await;
    let page: Value = app
        .get(&app.admin_token, "/v1/requests?open=true")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(page["items"].as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn an_idempotency_key_gives_one_request() {
    let app = spawn_app().await;
    let body = web_request("idem@example.com", &["access"]);
    let send = |b: Value| {
        let app = &app;
        async move {
            app.client
                .post(app.url("/v1/requests"))
                .bearer_auth(&app.admin_token)
                .header("Idempotency-Key", "form-submit-1")
                .json(&b)
                .send()
                .await
                .unwrap()
        }
    };
    let a: Value = send(body.clone()).await.json().await.unwrap();
    let r = send(body.clone()).await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let b: Value = r.json().await.unwrap();
    assert_eq!(a["id"], b["id"]);
    assert_eq!(a["reference"], b["reference"]);
    let r = send(web_request("other@example.com", &["access"])).await;
    problem(r, StatusCode::UNPROCESSABLE_ENTITY).await;
    assert_eq!(
        app.vault
            .store()
            .count_requests(app.vault.tenant())
            .await
            .unwrap(),
        1
    );
}

/// A known and an unknown address get answers of the same shape and state, in similar time.
#[tokio::test]
async fn an_unknown_identifier_gets_the_same_answer() {
    let app = spawn_app().await;
    for i in 0..16 {
        app.create_subject(&lead(&format!("known{i}@example.com")))
            .await;
    }
    let service = app.token("service").await;
    let shape = |v: &Value| -> (BTreeSet<String>, Value, Value) {
        (
            v.as_object().unwrap().keys().cloned().collect(),
            v["state"].clone(),
            v["due"].clone(),
        )
    };
    let mut known_ms = Vec::new();
    let mut unknown_ms = Vec::new();
    for i in 0..15 {
        for (email, times) in [
            (format!("known{i}@example.com"), &mut known_ms),
            (format!("nobody{i}@example.com"), &mut unknown_ms),
        ] {
            let t = Instant::now();
            let r = app
                .post(&service, "/v1/requests", &web_request(&email, &["access"]))
                .await;
            times.push(t.elapsed());
            assert_eq!(r.status(), StatusCode::CREATED);
            let v: Value = r.json().await.unwrap();
            assert_eq!(shape(&v).1, "awaiting_identity");
            assert!(v.get("subject_id").is_none());
        }
    }
    let a = submit(
        &app,
        &service,
        &web_request("known15@example.com", &["access"]),
    )
    .await;
    let b = submit(
        &app,
        &service,
        &web_request("nobody@example.com", &["access"]),
    )
    .await;
    assert_eq!(shape(&a), shape(&b));
    // Staff see the match; the submitter never does.
    let detail: Value = app
        .get(&app.admin_token, &format!("/v1/requests/{}", id_of(&a)))
        .await
        .json()
        .await
        .unwrap();
    assert!(detail["subject_id"].is_string());
    known_ms.sort();
    unknown_ms.sort();
    let (k, u) = (known_ms[7], unknown_ms[7]);
    eprintln!("median submit: known {k:?}, unknown {u:?}");
    // The same work either way: medians within a factor 2 (plus scheduler noise).
    let slack = Duration::from_millis(15);
    assert!(k <= u * 2 + slack && u <= k * 2 + slack, "{k:?} vs {u:?}");
}

/// 1,000 submissions at once (100 in flight), each with its own idempotency key, plus a
/// retry of every tenth: exactly 1,000 requests, none lost, none doubled.
#[tokio::test]
async fn a_thousand_concurrent_submissions() {
    let app = spawn_app().await;
    let service = app.token("service").await;
    let started = Instant::now();
    let sem = std::sync::Arc::new(tokio::sync::Semaphore::new(100));
    let mut tasks = Vec::new();
    for i in 0..1100usize {
        let n = if i < 1000 { i } else { (i - 1000) * 10 };
        let client = app.client.clone();
        let url = app.url("/v1/requests");
        let token = service.clone();
        let sem = sem.clone();
        tasks.push(tokio::spawn(async move {
            let _permit = sem.acquire_owned().await.unwrap();
            let r = client
                .post(url)
                .bearer_auth(token)
                .header("Idempotency-Key", format!("k{n}"))
                .json(&web_request(&format!("p{n}@example.com"), &["access"]))
                .send()
                .await
                .unwrap();
            assert_eq!(r.status(), StatusCode::CREATED);
            let v: Value = r.json().await.unwrap();
            (n, v["id"].as_str().unwrap().to_owned())
        }));
    }
    let mut by_n = std::collections::HashMap::new();
    for t in tasks {
        let (n, id) = t.await.unwrap();
        let prev = by_n.insert(n, id.clone());
        if let Some(p) = prev {
            assert_eq!(p, id, "a retry of submission {n} made a second request");
        }
    }
    let elapsed = started.elapsed();
    eprintln!(
        "1,000 requests (+100 retries) in {elapsed:?}: {:.0} submissions/s",
        1100.0 / elapsed.as_secs_f64()
    );
    assert_eq!(by_n.len(), 1000);
    let stored = app
        .vault
        .store()
        .count_requests(app.vault.tenant())
        .await
        .unwrap();
    assert_eq!(stored, 1000);
    // Every stored request is listed once.
    let mut seen = BTreeSet::new();
    let mut after: Option<String> = None;
    loop {
        let path = match &after {
            Some(a) => format!("/v1/requests?limit=500&after={a}"),
            None => "/v1/requests?limit=500".to_owned(),
        };
        let page: Value = app.get(&app.admin_token, &path).await.json().await.unwrap();
        for it in page["items"].as_array().unwrap() {
            assert!(seen.insert(it["id"].as_str().unwrap().to_owned()));
        }
        match page["next"].as_str() {
            Some(n) => after = Some(n.to_owned()),
            None => break,
        }
    }
    assert_eq!(seen.len(), 1000);
    let ids: BTreeSet<&String> = by_n.values().collect();
    assert_eq!(ids.len(), 1000);
}

/// One address gets letters for 5 requests an hour; further requests are stored without
/// letters and wait for staff (nobody can use vern to flood a mailbox).
#[tokio::test]
async fn letters_to_one_address_are_rate_limited() {
    let app = spawn_app().await;
    let mut states = Vec::new();
    for _ in 0..7 {
        let v = submit(
            &app,
            &app.admin_token,
            &web_request("flood@example.com", &["access"]),
        )
        .await;
        states.push(v["state"].as_str().unwrap().to_owned());
    }
    assert_eq!(
        states,
        [
            "awaiting_identity",
            "awaiting_identity",
            "awaiting_identity",
            "awaiting_identity",
            "awaiting_identity",
            "received",
            "received"
        ]
    );
    assert_eq!(
        app.vault
            .store()
            .count_requests(app.vault.tenant())
            .await
            .unwrap(),
        7
    );
    // Two letters (receipt, link) for each of the first five: ten in the outbox.
    let outbox: Value = app
        .get(&app.admin_token, "/v1/outbox?limit=100")
        .await
        .json()
        .await
        .unwrap();
    let n = outbox
        .as_array()
        .or_else(|| outbox["items"].as_array())
        .map(Vec::len)
        .unwrap_or_default();
    assert_eq!(n, 10, "{outbox}");
}

#[tokio::test]
async fn verification_links_are_public_and_checked() {
    let app = spawn_app().await;
    // The page changes nothing and is served without a token.
    let r = app
        .request(
            Method::GET,
            "/v1/request-verifications/vern_abc",
            None,
            None,
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    let html = r.text().await.unwrap();
    assert!(html.contains("name=\"code\""));
    // An unknown link: 404, the same for any code.
    let r = app
        .request(
            Method::POST,
            "/v1/request-verifications/vern_abc",
            None,
            Some(&json!({"code": "123456"})),
        )
        .await;
    problem(r, StatusCode::NOT_FOUND).await;
    let r = app
        .request(
            Method::POST,
            "/v1/request-verifications/vern_abc",
            None,
            Some(&json!({"code": "123456", "extra": true})),
        )
        .await;
    assert!(r.status().is_client_error());
}
