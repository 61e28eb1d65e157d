//! Data-subject request letters delivered to a real SMTP server (aiosmtpd): the requester
//! follows the link in the received mail and types the code; the extension and closing letters
//! say what they must (reason, new date, legal basis, the supervisory authority).

use std::time::Duration;

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use vern_server::jobs::{Runner, RunnerConfig};
use vern_server::mail::Mailer;

use crate::helpers::{TestApp, id_of, problem, spawn_app};
use crate::smtp_sink::{ReceivedMail, SmtpSink};

async fn deliver(app: &TestApp, sink: &SmtpSink) {
    let mut runner = Runner::new(
        app.vault.clone(),
        RunnerConfig {
            owner: "dsr-mail-test".into(),
            poll: Duration::from_millis(10),
            sweep_every: None,
            backoff: Duration::ZERO,
            ..RunnerConfig::default()
        },
    );
    runner.register_mail(Mailer::new(&sink.url(), "Personvern <personvern@example.com>").unwrap());
    while let Some((_, outcome)) = runner.run_one().await.unwrap() {
        outcome.unwrap();
    }
}

fn code_in(mail: &ReceivedMail) -> String {
    let at = mail
        .body
        .find("Kode: ")
        .or_else(|| mail.body.find("Code: "))
        .unwrap();
    mail.body[at + 6..at + 12].to_owned()
}

fn one<'a>(mails: &'a [ReceivedMail], subject_part: &str) -> &'a ReceivedMail {
    let found: Vec<&ReceivedMail> = mails
        .iter()
        .filter(|m| m.subject.contains(subject_part))
        .collect();
    assert_eq!(found.len(), 1, "{subject_part}: {mails:#?}");
    found[0]
}

async fn verify(app: &TestApp, link: &str, code: &str) -> reqwest::Response {
    app.client
        .post(link)
        .json(&json!({"code": code}))
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn the_requester_follows_the_link_in_the_mail_and_gets_the_letters() {
    let Some(sink) = SmtpSink::start() else {
        return;
    };
    let app = spawn_app().await;
    let r = app
        .post(
            &app.admin_token,
            "/v1/requests",
            &json!({"rights": ["erasure", "access"], "lang": "nb", "channel": "web",
                    "identifiers": [{"kind": "email", "value": "kari@example.com"}]}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let v: Value = r.json().await.unwrap();
    let id = id_of(&v);
    let reference = v["reference"].as_str().unwrap().to_owned();
    deliver(&app, &sink).await;
    let mails = sink.wait_for(2, Duration::from_secs(10)).await;
    let receipt = one(&mails, "Vi har mottatt");
    assert_eq!(receipt.to, "kari@example.com");
    assert!(receipt.body.contains(&reference));
    assert!(receipt.body.contains(v["due_initial"].as_str().unwrap()));
    assert!(receipt.body.contains("innsyn, sletting"));
    let mail = one(&mails, "Bekreft");
    assert!(
        !mail.body.contains("legitimasjon:"),
        "no ID documents asked for"
    );
    let link = mail.links().into_iter().next().unwrap();
    assert!(link.starts_with(&app.address), "{link}");
    let code = code_in(mail);

    // Following the link shows a form and changes nothing.
    let r = app.client.get(&link).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert!(r.text().await.unwrap().contains("name=\"code\""));
    // A wrong code counts an attempt; the right one verifies.
    let wrong = if code == "000000" { "111111" } else { "000000" };
    let p = problem(
        verify(&app, &link, wrong).await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert_eq!(p["errors"][0]["code"], "wrong_code");
    let r = verify(&app, &link, &code).await;
    assert_eq!(r.status(), StatusCode::OK);
    let ok: Value = r.json().await.unwrap();
    assert_eq!(ok["state"], "in_progress");
    assert_eq!(ok["reference"], reference.as_str());
    // Used: the artefact is gone.
    problem(verify(&app, &link, &code).await, StatusCode::NOT_FOUND).await;
    let detail: Value = app
        .get(&app.admin_token, &format!("/v1/requests/{id}"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(detail["verification"]["method"], "email_link");

    // Extension: the letter carries the reason and the new date.
    let r = app
        .post(
            &app.admin_token,
            &format!("/v1/requests/{id}/actions"),
            &json!({"action": "extend", "months": 2, "reason": "Saken gjelder mange systemer"}),
        )
        .await;
    let e: Value = r.json().await.unwrap();
    // Erasure kept invoices: partially refused, with reason, basis, end date and the authority.
    for outcome in [
        json!({"right": "access", "status": "done"}),
        json!({"right": "erasure", "status": "partial",
               "reason": "fakturaer oppbevares etter bokføringsloven",
               "legal_basis": "GDPR art. 17(3)(b); bokføringsloven § 13",
               "kept_until": "2031-12-31"}),
    ] {
        let r = app
            .post(
                &app.admin_token,
                &format!("/v1/requests/{id}/actions"),
                &json!({"action": "record_outcome", "outcome": outcome}),
            )
            .await;
        assert_eq!(r.status(), StatusCode::OK);
    }
    let r = app
        .post(
            &app.admin_token,
            &format!("/v1/requests/{id}/actions"),
            &json!({"action": "complete"}),
        )
        .await;
    assert_eq!(
        r.json::<Value>().await.unwrap()["state"],
        "partially_refused"
    );
    deliver(&app, &sink).await;
    let mails = sink.wait_for(4, Duration::from_secs(10)).await;
    let ext = one(&mails, "mer tid");
    assert!(ext.body.contains("Saken gjelder mange systemer"));
    assert!(ext.body.contains(e["due"].as_str().unwrap()));
    let close = one(&mails, "Svar på henvendelsen");
    // Staff can send the closing letter again (a fresh copy, not deduplicated away).
    let r = app
        .post(
            &app.admin_token,
            &format!("/v1/requests/{id}/actions"),
            &json!({"action": "resend_letter"}),
        )
        .await;
    assert_eq!(
        r.json::<Value>().await.unwrap()["state"],
        "partially_refused"
    );
    deliver(&app, &sink).await;
    let again = sink.wait_for(5, Duration::from_secs(10)).await;
    assert_eq!(
        again
            .iter()
            .filter(|m| m.subject.contains("Svar på henvendelsen"))
            .count(),
        2
    );
    for part in [
        "bokføringsloven § 13",
        "2031-12-31",
        "fakturaer oppbevares",
        "Datatilsynet",
        "domstolene",
    ] {
        assert!(close.body.contains(part), "{part}: {}", close.body);
    }
}

#[tokio::test]
async fn a_link_stops_after_five_wrong_codes_and_staff_can_resend() {
    let Some(sink) = SmtpSink::start() else {
        return;
    };
    let app = spawn_app().await;
    let r = app
        .post(
            &app.admin_token,
            "/v1/requests",
            &json!({"rights": ["access"], "lang": "en", "channel": "api",
                    "identifiers": [{"kind": "email", "value": "ola@example.com"}]}),
        )
        .await;
    let v: Value = r.json().await.unwrap();
    let id = id_of(&v);
    deliver(&app, &sink).await;
    let mails = sink.wait_for(2, Duration::from_secs(10)).await;
    let mail = one(&mails, "Confirm");
    let link = mail.links().into_iter().next().unwrap();
    let code = code_in(mail);
    let wrong = if code == "000000" { "111111" } else { "000000" };
    for _ in 0..5 {
        problem(
            verify(&app, &link, wrong).await,
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
    }
    // Spent: even the right code no longer works, and the request still waits.
    problem(verify(&app, &link, &code).await, StatusCode::NOT_FOUND).await;
    let detail: Value = app
        .get(&app.admin_token, &format!("/v1/requests/{id}"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(detail["state"], "awaiting_identity");
    assert!(
        detail["history"]
            .as_array()
            .unwrap()
            .iter()
            .any(|h| h["action"] == "verification_spent")
    );
    // A fresh link (the first one counts: 3 an hour).
    let path = format!("/v1/requests/{id}/actions");
    let body = json!({"action": "resend_verification"});
    let resend = || app.request(Method::POST, &path, Some(&app.admin_token), Some(&body));
    assert_eq!(resend().await.status(), StatusCode::OK);
    assert_eq!(resend().await.status(), StatusCode::OK);
    problem(resend().await, StatusCode::TOO_MANY_REQUESTS).await;
    deliver(&app, &sink).await;
    let mails = sink.wait_for(4, Duration::from_secs(10)).await;
    let links: Vec<&ReceivedMail> = mails
        .iter()
        .filter(|m| m.subject.contains("Confirm"))
        .collect();
    assert_eq!(links.len(), 3);
    // Only the newest link works.
    let mut ok = 0;
    for m in &links {
        let l = m.links().into_iter().next().unwrap();
        if verify(&app, &l, &code_in(m)).await.status() == StatusCode::OK {
            ok += 1;
        }
    }
    assert_eq!(ok, 1);
}
