//! Completing a request fulfils it: an access and portability request produces the access
//! report (HTML, JSON, CSV in the request's language) and the ZIP behind an expiring,
//! limited download link in the closing letter (delivered through SMTP and followed here);
//! erasure, rectification, restriction and objection run on completion, each with its text in
//! the closing letter; Art. 19 tasks are created per recipient and closed through the API.

use std::time::Duration;

use reqwest::StatusCode;
use serde_json::{Value, json};
use vern_server::jobs::{Runner, RunnerConfig};
use vern_server::mail::Mailer;
use vern_server::vault::DsrSettings;
use vern_store::RequestStore;

use crate::helpers::{TestApp, id_of, problem, spawn_app};
use crate::smtp_sink::{ReceivedMail, SmtpSink};

pub async fn deliver(app: &TestApp, sink: &SmtpSink) {
    let mut runner = Runner::new(
        app.vault.clone(),
        RunnerConfig {
            owner: "dsr-fulfil-test".into(),
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

pub fn code_in(mail: &ReceivedMail) -> String {
    let at = mail
        .body
        .find("Kode: ")
        .or_else(|| mail.body.find("Code: "))
        .unwrap();
    mail.body[at + 6..at + 12].to_owned()
}

pub fn one<'a>(mails: &'a [ReceivedMail], subject_part: &str) -> &'a ReceivedMail {
    let found: Vec<&ReceivedMail> = mails
        .iter()
        .filter(|m| m.subject.contains(subject_part))
        .collect();
    assert_eq!(found.len(), 1, "{subject_part}: {mails:#?}");
    found[0]
}

/// A customer contact with data in several categories, an invoice, and a disclosure to a
/// group company (a recipient actually disclosed to).
pub async fn customer(app: &TestApp, email: &str) -> String {
    let s = app
        .create_subject(&json!({
            "subject_type": "customer_contact",
            "jurisdiction": "NO",
            "identifiers": [{"kind": "email", "value": email},
                            {"kind": "phone", "value": "+47 912 34 567"}],
            "records": [
                {"category": "contact.email.work_named", "value": email,
                 "source": "direct", "purposes": ["sales.orders_agreements_payments"]},
                {"category": "identity.name", "value": "Kari Nordmann",
                 "source": "direct", "purposes": ["sales.orders_agreements_payments"]},
                {"category": "finance.invoice", "value": {"number": "F-1001", "to": "Kari Nordmann"},
                 "source": "direct", "purposes": ["sales.orders_agreements_payments"],
                 "collected_at": "2026-03-10T12:00:00Z"}
            ]
        }))
        .await;
    let id = id_of(&s);
    let r = app
        .post(
            &app.admin_token,
            "/v1/disclosures",
            &json!({"recipient": "group.confect_sverige", "subjects": [id],
                    "categories": ["contact.email"], "purpose": "group.internal_admin",
                    "mechanism": "sync"}),
        )
        .await;
    assert!(r.status().is_success(), "{}", r.text().await.unwrap());
    id
}

/// Submits through the portal, follows the emailed link and types the code.
pub async fn submit_and_verify(
    app: &TestApp,
    sink: &SmtpSink,
    rights: Value,
    email: &str,
    lang: &str,
) -> String {
    let r = app
        .post(
            &app.admin_token,
            "/v1/requests",
            &json!({"rights": rights, "lang": lang, "channel": "web",
                    "identifiers": [{"kind": "email", "value": email}]}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let id = id_of(&r.json::<Value>().await.unwrap());
    deliver(app, sink).await;
    let mails = sink.messages();
    let mail = mails
        .iter()
        .rev()
        .find(|m| m.to == email && (m.subject.contains("Bekreft") || m.subject.contains("Confirm")))
        .expect("the verification mail");
    let link = mail.links().into_iter().next().unwrap();
    let r = app
        .client
        .post(&link)
        .json(&json!({"code": code_in(mail)}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK, "{}", r.text().await.unwrap());
    id
}

pub async fn complete(app: &TestApp, id: &str, extra: Value) -> reqwest::Response {
    let mut body = json!({"action": "complete"});
    if let (Some(b), Some(e)) = (body.as_object_mut(), extra.as_object()) {
        for (k, v) in e {
            b.insert(k.clone(), v.clone());
        }
    }
    app.post(
        &app.admin_token,
        &format!("/v1/requests/{id}/actions"),
        &body,
    )
    .await
}

fn download_link(mail: &ReceivedMail) -> String {
    mail.links()
        .into_iter()
        .find(|l| l.contains("/v1/public/downloads/"))
        .unwrap_or_else(|| panic!("no download link in {}", mail.body))
}

#[tokio::test]
async fn an_access_and_portability_request_mails_a_link_to_the_report_and_the_package() {
    let Some(sink) = SmtpSink::start() else {
        return;
    };
    let app = spawn_app().await;
    app.vault.set_dsr_settings(DsrSettings {
        download_ttl: time::Duration::days(7),
        download_limit: 5,
        staff_address: None,
    });
    let subject = customer(&app, "kari@customer.example").await;
    let id = submit_and_verify(
        &app,
        &sink,
        json!(["access", "portability"]),
        "kari@customer.example",
        "nb",
    )
    .await;
    let r = complete(&app, &id, json!({})).await;
    assert_eq!(r.status(), StatusCode::OK, "{}", r.text().await.unwrap());
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["state"], "completed");
    deliver(&app, &sink).await;
    let mails = sink.messages();
    let letter = one(&mails, "er behandlet");
    assert_eq!(letter.to, "kari@customer.example");
    assert!(letter.body.contains("innsyn: utført"), "{}", letter.body);
    assert!(letter.body.contains("dataportabilitet: utført"));
    assert!(letter.body.contains("Innsynsrapporten viser"));
    let link = download_link(letter);
    assert!(link.starts_with(&app.address), "{link}");

    // The HTML report by default, in the request's language, with every Art. 15 item.
    let r = app.client.get(&link).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert!(
        r.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/html")
    );
    assert_eq!(r.headers()["cache-control"], "no-store");
    let html = r.text().await.unwrap();
    assert!(html.contains("lang=\"nb\""), "{html}");
    assert!(html.contains("Kari Nordmann"));
    assert!(html.contains("F-1001"));
    // JSON: the data, purposes, categories, recipients disclosed to, retention, sources,
    // profiling, transfers, the other rights and the supervisory authority.
    let r = app
        .client
        .get(format!("{link}?format=json"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let report: Value = r.json().await.unwrap();
    assert_eq!(report["subject_id"], subject.as_str());
    assert_eq!(report["language"], "nb");
    for key in [
        "identifiers",
        "records",
        "purposes",
        "categories",
        "recipients",
        "sources",
        "profiling",
        "transfers",
        "rights",
        "supervisory_authority",
        "controller",
    ] {
        assert!(!report[key].is_null(), "{key}");
    }
    assert_eq!(report["records"].as_array().unwrap().len(), 3);
    let recipients = report["recipients"].to_string();
    assert!(recipients.contains("group.confect_sverige"), "{recipients}");
    let r = app
        .client
        .get(format!("{link}?format=csv"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert!(r.text().await.unwrap().contains("F-1001"));
    let r = app
        .client
        .get(format!("{link}?format=zip"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(r.headers()["content-type"], "application/zip");
    let zip = r.bytes().await.unwrap();
    assert_eq!(&zip[..2], b"PK");
    // The artefacts are sealed at rest: no plaintext in the database.
    if let Some(dir) = &app.data_dir {
        let db = std::fs::read(dir.join("vern.sqlite3")).unwrap();
        let wal = std::fs::read(dir.join("vern.sqlite3-wal")).unwrap_or_default();
        for bytes in [&db, &wal] {
            assert!(
                !bytes.windows(6).any(|w| w == b"F-1001"),
                "invoice number in the clear"
            );
        }
    }

    // Four downloads used of five: the fifth works, the sixth is the same 404 as an unknown
    // link (no enumeration).
    let r = app.client.get(&link).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let used_up = problem(
        app.client.get(&link).send().await.unwrap(),
        StatusCode::NOT_FOUND,
    )
    .await;
    let unknown = problem(
        app.client
            .get(app.url("/v1/public/downloads/vern_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"))
            .send()
            .await
            .unwrap(),
        StatusCode::NOT_FOUND,
    )
    .await;
    let malformed = problem(
        app.client
            .get(app.url("/v1/public/downloads/not%20a%20token"))
            .send()
            .await
            .unwrap(),
        StatusCode::NOT_FOUND,
    )
    .await;
    for p in [&unknown, &malformed] {
        assert_eq!(p["title"], used_up["title"]);
        assert_eq!(p["detail"], used_up["detail"]);
    }
    // Every download is audited without personal data.
    let downloads: Vec<_> = app
        .audit_entries()
        .await
        .into_iter()
        .filter(|e| e.entry.action == "dsr.download")
        .collect();
    assert_eq!(downloads.len(), 5);
    assert!(downloads.iter().all(|e| !e.entry.detail.contains("kari")));
}

#[tokio::test]
async fn download_links_expire_and_the_job_deletes_the_artefacts() {
    let Some(sink) = SmtpSink::start() else {
        return;
    };
    let app = spawn_app().await;
    app.vault.set_dsr_settings(DsrSettings {
        download_ttl: time::Duration::seconds(1),
        download_limit: 5,
        staff_address: None,
    });
    let subject = customer(&app, "ola@customer.example").await;
    let id = submit_and_verify(&app, &sink, json!(["access"]), "ola@customer.example", "en").await;
    let r = complete(&app, &id, json!({})).await;
    assert_eq!(r.status(), StatusCode::OK, "{}", r.text().await.unwrap());
    deliver(&app, &sink).await;
    let mails = sink.messages();
    let letter = one(&mails, "is completed");
    let link = download_link(letter);
    assert!(letter.body.contains("access: done"), "{}", letter.body);
    let tenant = app.vault.tenant();
    let store = app.vault.store();
    let subject_id = uuid::Uuid::parse_str(&subject).unwrap();
    assert_eq!(
        store
            .downloads_of_subject(tenant, subject_id)
            .await
            .unwrap()
            .len(),
        1
    );
    let r = app.client.get(&link).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    tokio::time::sleep(Duration::from_millis(1_200)).await;
    // Expired: the same 404 as unknown, even before the job ran.
    problem(
        app.client.get(&link).send().await.unwrap(),
        StatusCode::NOT_FOUND,
    )
    .await;
    // The expiry job (queued with the link) deletes the artefacts.
    deliver(&app, &sink).await;
    assert!(
        store
            .downloads_of_subject(tenant, subject_id)
            .await
            .unwrap()
            .is_empty()
    );
    assert!(
        app.audit_entries()
            .await
            .iter()
            .any(|e| e.entry.action == "dsr.download_expired")
    );
}

#[tokio::test]
async fn erasing_the_subject_destroys_its_downloads() {
    let Some(sink) = SmtpSink::start() else {
        return;
    };
    let app = spawn_app().await;
    let subject = customer(&app, "per@customer.example").await;
    let id = submit_and_verify(&app, &sink, json!(["access"]), "per@customer.example", "en").await;
    assert_eq!(
        complete(&app, &id, json!({})).await.status(),
        StatusCode::OK
    );
    deliver(&app, &sink).await;
    let link = download_link(one(&sink.messages(), "is completed"));
    let tenant = app.vault.tenant();
    let subject_id = uuid::Uuid::parse_str(&subject).unwrap();
    assert_eq!(
        app.vault
            .store()
            .downloads_of_subject(tenant, subject_id)
            .await
            .unwrap()
            .len(),
        1
    );
    // A partial erasure (the invoice stays) deletes the report that copies erased data.
    let r = app
        .request(
            reqwest::Method::POST,
            &format!("/v1/subjects/{subject}/erasure"),
            Some(&app.admin_token),
            None,
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    assert!(
        app.vault
            .store()
            .downloads_of_subject(tenant, subject_id)
            .await
            .unwrap()
            .is_empty()
    );
    problem(
        app.client.get(&link).send().await.unwrap(),
        StatusCode::NOT_FOUND,
    )
    .await;

    // A complete erasure (a lead: nothing kept) cascades too.
    let lead = app
        .create_subject(&crate::helpers::lead("lead@example.com"))
        .await;
    let lead_id = id_of(&lead);
    let id = submit_and_verify(&app, &sink, json!(["access"]), "lead@example.com", "en").await;
    assert_eq!(
        complete(&app, &id, json!({})).await.status(),
        StatusCode::OK
    );
    let lead_uuid = uuid::Uuid::parse_str(&lead_id).unwrap();
    assert_eq!(
        app.vault
            .store()
            .downloads_of_subject(tenant, lead_uuid)
            .await
            .unwrap()
            .len(),
        1
    );
    let r = app
        .request(
            reqwest::Method::POST,
            &format!("/v1/subjects/{lead_id}/erasure"),
            Some(&app.admin_token),
            None,
        )
        .await;
    let out: Value = r.json().await.unwrap();
    assert_eq!(out["key_destroyed"], true);
    assert!(
        app.vault
            .store()
            .downloads_of_subject(tenant, lead_uuid)
            .await
            .unwrap()
            .is_empty()
    );
}
