//! The mail outbox: delivery to a real SMTP server (aiosmtpd), content wiped once sent, mail
//! waiting visibly without SMTP, failures recorded without the address, bad input refused.

use std::time::Duration;

use reqwest::StatusCode;
use serde_json::{Value, json};
use vern_server::jobs::{Runner, RunnerConfig};
use vern_server::mail::Mailer;
use vern_store::OutboxStore;

use crate::helpers::{TestApp, problem, spawn_app};
use crate::smtp_sink::SmtpSink;

fn runner(app: &TestApp, mailer: Option<Mailer>) -> Runner {
    let mut runner = Runner::new(
        app.vault.clone(),
        RunnerConfig {
            owner: "mail-test".into(),
            poll: Duration::from_millis(10),
            sweep_every: None,
            max_attempts: 2,
            backoff: Duration::ZERO,
            ..RunnerConfig::default()
        },
    );
    if let Some(m) = mailer {
        runner.register_mail(m);
    }
    runner
}

async fn drain(runner: &Runner) -> Vec<Result<(), String>> {
    let mut outcomes = Vec::new();
    while let Some((_, outcome)) = runner.run_one().await.unwrap() {
        outcomes.push(outcome);
    }
    outcomes
}

async fn send_test(app: &TestApp, to: &str, lang: &str) -> Value {
    let r = app
        .post(
            &app.admin_token,
            "/v1/outbox/test",
            &json!({ "to": to, "lang": lang }),
        )
        .await;
    assert_eq!(r.status(), StatusCode::ACCEPTED);
    r.json().await.unwrap()
}

#[tokio::test]
async fn mail_reaches_a_real_smtp_server_once_and_its_content_is_wiped() {
    let Some(sink) = SmtpSink::start() else {
        return;
    };
    let app = spawn_app().await;
    let queued = send_test(&app, "ops.team@example.com", "nb").await;
    assert_eq!(queued["state"], "queued");
    assert_eq!(queued["template"], "smtp_test");
    let id = queued["id"].as_str().unwrap().to_owned();

    let mailer = Mailer::new(&sink.url(), "Personvern <personvern@example.com>").unwrap();
    let runner = runner(&app, Some(mailer.clone()));
    assert_eq!(drain(&runner).await, vec![Ok(())]);

    let got = sink.wait_for(1, Duration::from_secs(10)).await;
    assert_eq!(got.len(), 1);
    assert!(got[0].to.contains("ops.team@example.com"));
    assert!(
        got[0].subject.starts_with("Testmelding"),
        "{}",
        got[0].subject
    );
    assert!(got[0].body.contains("Referanse:"), "{}", got[0].body);
    assert!(
        got[0].body.contains("utgående e-post"),
        "non-ASCII text survives: {}",
        got[0].body
    );

    let sent: Value = app
        .get(&app.admin_token, "/v1/outbox?state=sent")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(sent.as_array().unwrap().len(), 1);
    assert_eq!(sent[0]["id"], id.as_str());
    assert_eq!(sent[0]["message_id"].as_str().unwrap(), got[0].message_id);
    assert!(sent[0]["sent_at"].is_string());

    // The sent message keeps evidence, not content.
    let one: Value = app
        .get(&app.admin_token, &format!("/v1/outbox/{id}"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(one["state"], "sent");
    assert!(one["to"].is_null() && one["body"].is_null());
    let row = app
        .vault
        .store()
        .get_mail(app.vault.tenant(), id.parse().unwrap())
        .await
        .unwrap();
    assert!(row.to_ciphertext.is_none() && row.params_ciphertext.is_none());

    // Delivery is idempotent: running the job again sends nothing more.
    app.vault
        .deliver_mail(app.vault.tenant(), id.parse().unwrap(), &mailer, false)
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(sink.messages().len(), 1);
}

#[tokio::test]
async fn without_smtp_mail_waits_sealed_and_admins_can_read_it() {
    let app = spawn_app().await;
    let queued = send_test(&app, "waiting@example.com", "en").await;
    let id = queued["id"].as_str().unwrap();
    // A node without a mailer does not take mail jobs.
    assert!(drain(&runner(&app, None)).await.is_empty());

    let list: Value = app
        .get(&app.admin_token, "/v1/outbox?state=queued")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(list.as_array().unwrap().len(), 1);
    assert!(list[0].get("to").is_none(), "the list shows no addresses");

    let one: Value = app
        .get(&app.admin_token, &format!("/v1/outbox/{id}"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(one["to"], "waiting@example.com");
    assert!(
        one["mail_subject"]
            .as_str()
            .unwrap()
            .starts_with("Test message")
    );
    assert!(one["body"].as_str().unwrap().contains("Reference:"));
    let audit = app.audit_entries().await;
    assert!(audit.iter().any(|e| e.entry.action == "outbox.read"));
    assert!(
        audit
            .iter()
            .all(|e| !e.entry.detail.contains("waiting@example.com"))
    );

    // Sealed at rest: the address is nowhere in the outbox table.
    let raw = app
        .vault
        .store()
        .get_mail(app.vault.tenant(), id.parse().unwrap())
        .await
        .unwrap();
    let ct = raw.to_ciphertext.unwrap();
    assert!(!ct.windows(7).any(|w| w == b"waiting"));

    // Other roles see nothing of it.
    let support = app.token("support").await;
    assert_eq!(
        app.get(&support, "/v1/outbox").await.status(),
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        app.get(&support, &format!("/v1/outbox/{id}"))
            .await
            .status(),
        StatusCode::FORBIDDEN
    );
    let dpo = app.token("dpo").await;
    assert_eq!(
        app.post(&dpo, "/v1/outbox/test", &json!({ "to": "a@example.com" }))
            .await
            .status(),
        StatusCode::FORBIDDEN
    );
}

#[tokio::test]
async fn an_unreachable_smtp_server_fails_attempts_without_naming_the_address() {
    let app = spawn_app().await;
    let queued = send_test(&app, "unlucky@example.com", "en").await;
    let id = queued["id"].as_str().unwrap();
    // A port nothing listens on.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mailer = Mailer::new(&format!("smtp://127.0.0.1:{port}"), "x@example.com").unwrap();
    let outcomes = drain(&runner(&app, Some(mailer))).await;
    let attempts = usize::try_from(vern_store::MAIL_MAX_ATTEMPTS).unwrap();
    assert_eq!(
        outcomes.len(),
        attempts,
        "every attempt, then a dead letter"
    );
    assert!(outcomes.iter().all(Result::is_err));
    let one: Value = app
        .get(&app.admin_token, &format!("/v1/outbox/{id}"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(one["state"], "failed");
    assert_eq!(one["attempts"], vern_store::MAIL_MAX_ATTEMPTS);
    let error = one["last_error"].as_str().unwrap();
    assert!(!error.contains("unlucky"), "{error}");
    let dead: Value = app
        .get(&app.admin_token, "/v1/jobs?state=dead")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(dead[0]["kind"], "mail.send");
    assert!(!dead[0]["last_error"].as_str().unwrap().contains("unlucky"));
}

#[tokio::test]
async fn bad_test_mail_requests_are_refused_and_queue_nothing() {
    let app = spawn_app().await;
    for body in [
        json!({ "to": "not an address" }),
        json!({ "to": "a@example.com", "lang": "sv" }),
        json!({ "to": "a@example.com", "cc": "b@example.com" }),
        json!({ "to": 42 }),
    ] {
        let r = app.post(&app.admin_token, "/v1/outbox/test", &body).await;
        let status = r.status();
        assert!(status.is_client_error(), "{body}: {status}");
        problem(r, status).await;
    }
    let r = app.get(&app.admin_token, "/v1/outbox?limit=0").await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let r = app.get(&app.admin_token, "/v1/outbox?state=lost").await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let all: Value = app
        .get(&app.admin_token, "/v1/outbox")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(all.as_array().unwrap().len(), 0);
}

#[tokio::test]
async fn a_dedup_key_queues_a_message_once() {
    let app = spawn_app().await;
    let seal = || {
        app.vault
            .seal_mail(
                "once@example.com",
                "smtp_test",
                "en",
                json!({ "controller": "C", "reference": "r" }),
                None,
                Some("notice:v2:subject-1".into()),
            )
            .unwrap()
    };
    assert_eq!(app.vault.enqueue_mail(vec![seal()]).await.unwrap(), 1);
    assert_eq!(app.vault.enqueue_mail(vec![seal()]).await.unwrap(), 0);
    let jobs: Value = app
        .get(&app.admin_token, "/v1/jobs?state=queued")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        jobs.as_array()
            .unwrap()
            .iter()
            .filter(|j| j["kind"] == "mail.send")
            .count(),
        1
    );
    // A template missing a parameter is refused when sealed, not at delivery.
    assert!(
        app.vault
            .seal_mail("a@example.com", "smtp_test", "en", json!({}), None, None)
            .is_err()
    );
}
