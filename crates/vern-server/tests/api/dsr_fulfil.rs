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
    app.erase(&subject, false).await;
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
    let out = app.erase(&lead_id, false).await;
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

async fn staff_request(app: &TestApp, rights: Value, email: &str) -> String {
    let r = app
        .post(
            &app.admin_token,
            "/v1/requests",
            &json!({"rights": rights, "lang": "en", "channel": "phone",
                    "identifiers": [{"kind": "email", "value": email}],
                    "staff_verification": "called back on the number on file"}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::CREATED);
    id_of(&r.json::<Value>().await.unwrap())
}

async fn open_tasks(app: &TestApp) -> Vec<Value> {
    let r = app
        .get(&app.admin_token, "/v1/recipient-tasks?state=open")
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    let page: Value = r.json().await.unwrap();
    page["items"].as_array().unwrap().clone()
}

/// Must show: erasure of a customer contact with invoices, through a request verified by the
/// emailed link → everything else gone, the invoice kept with its legal reference and end
/// date, the outcome partially refused with the explanation in the letter, the address
/// suppressed; an Art. 19 task for the recipient, closed through the API and audited.
#[tokio::test]
async fn completing_an_erasure_request_keeps_the_invoice_and_says_why() {
    let Some(sink) = SmtpSink::start() else {
        return;
    };
    let app = spawn_app().await;
    let s = customer(&app, "erase.me@customer.example").await;
    let id = submit_and_verify(
        &app,
        &sink,
        json!(["erasure"]),
        "erase.me@customer.example",
        "en",
    )
    .await;
    let r = complete(&app, &id, json!({})).await;
    assert_eq!(r.status(), StatusCode::OK, "{}", r.text().await.unwrap());
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["state"], "partially_refused");

    // Everything but the invoice is gone.
    let subject: Value = app
        .get(&app.admin_token, &format!("/v1/subjects/{s}"))
        .await
        .json()
        .await
        .unwrap();
    let records = subject["records"].as_array().unwrap();
    assert_eq!(records.len(), 1, "{subject}");
    assert_eq!(records[0]["category"], "finance.invoice");
    assert!(subject["identifiers"].as_array().unwrap().is_empty());
    // The address is suppressed: marketing to it is denied even without a subject.
    let d = crate::consent::decide(
        &app,
        &json!({"identifier": {"kind": "email", "value": "erase.me@customer.example"},
                "purpose": "marketing.send", "channel": "email", "message_class": "newsletter"}),
    )
    .await;
    assert_eq!(d["allowed"], false, "{d}");

    // The case file: partial, with the legal basis and the end date.
    let detail: Value = app
        .get(&app.admin_token, &format!("/v1/requests/{id}"))
        .await
        .json()
        .await
        .unwrap();
    let o = &detail["outcomes"][0];
    assert_eq!(o["right"], "erasure");
    assert_eq!(o["status"], "partial");
    assert!(
        o["legal_basis"]
            .as_str()
            .unwrap()
            .to_lowercase()
            .contains("17(3)(b)"),
        "{o}"
    );
    let until = o["kept_until"].as_str().unwrap().to_owned();
    assert!(until.as_str() > "2030-01-01", "{until}");

    // The letter: per item, the legal reference and the end date, the recipients told, the
    // right to complain.
    deliver(&app, &sink).await;
    let msgs = sink.messages();
    let letter = one(&msgs, "Answer to your request");
    assert_eq!(letter.to, "erase.me@customer.example");
    for part in [
        "erasure: partly done",
        "finance.invoice",
        until.as_str(),
        "group.confect_sverige",
        "supervisory authority",
    ] {
        assert!(letter.body.contains(part), "{part}: {}", letter.body);
    }

    // Art. 19: one task for the recipient, tied to the request.
    let tasks = open_tasks(&app).await;
    assert_eq!(tasks.len(), 1, "{tasks:?}");
    let t = &tasks[0];
    assert_eq!(t["action"], "erasure");
    assert_eq!(t["recipient"], "group.confect_sverige");
    assert_eq!(t["request_id"], id.as_str());
    assert_eq!(t["subject_id"], s.as_str());
    let tid = id_of(t);
    let marketing = app.token("marketing").await;
    let r = app
        .post(
            &marketing,
            &format!("/v1/recipient-tasks/{tid}/close"),
            &json!({"method": "email"}),
        )
        .await;
    problem(r, StatusCode::FORBIDDEN).await;
    let support = app.token("support").await;
    let r = app
        .post(
            &support,
            &format!("/v1/recipient-tasks/{tid}/close"),
            &json!({"method": "carrier pigeon"}),
        )
        .await;
    problem(r, StatusCode::UNPROCESSABLE_ENTITY).await;
    let r = app
        .post(
            &support,
            &format!("/v1/recipient-tasks/{tid}/close"),
            &json!({"method": "email"}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    let closed: Value = r.json().await.unwrap();
    assert_eq!(closed["state"], "done");
    assert_eq!(closed["method"], "email");
    let r = app
        .post(
            &support,
            &format!("/v1/recipient-tasks/{tid}/close"),
            &json!({"method": "email"}),
        )
        .await;
    problem(r, StatusCode::CONFLICT).await;
    assert!(open_tasks(&app).await.is_empty());
    let audit = app.audit_entries().await;
    for action in ["recipient_task.create", "recipient_task.close"] {
        let e = audit
            .iter()
            .find(|e| e.entry.action == action)
            .unwrap_or_else(|| panic!("{action}"));
        assert!(!e.entry.detail.contains("erase.me"), "{action}");
    }
}

/// Must show: restriction → decisions denied (store only), through the request workflow;
/// lifting it mails the subject first (Art. 18(3)); each creates an Art. 19 task.
#[tokio::test]
async fn restriction_by_request_denies_decisions_and_lifting_tells_the_subject_first() {
    let Some(sink) = SmtpSink::start() else {
        return;
    };
    let app = spawn_app().await;
    let s = customer(&app, "restrict@customer.example").await;
    let ask = json!({"subject_id": s, "purpose": "sales.orders_agreements_payments"});
    assert_eq!(crate::consent::decide(&app, &ask).await["allowed"], true);
    let id = staff_request(&app, json!(["restriction"]), "restrict@customer.example").await;
    let r = complete(&app, &id, json!({})).await;
    assert_eq!(r.status(), StatusCode::OK, "{}", r.text().await.unwrap());
    let d = crate::consent::decide(&app, &ask).await;
    assert_eq!(
        (d["allowed"].clone(), d["reason"].clone()),
        (json!(false), json!("restricted"))
    );
    let claims = crate::consent::decide(
        &app,
        &json!({"subject_id": s, "purpose": "compliance.legal_claims"}),
    )
    .await;
    assert_ne!(claims["reason"], "restricted");
    deliver(&app, &sink).await;
    let msgs = sink.messages();
    let letter = one(&msgs, "is completed");
    assert!(letter.body.contains("Article 18(2)"), "{}", letter.body);
    assert!(letter.body.contains("before the restriction is lifted"));

    let lift = staff_request(&app, json!(["restriction"]), "restrict@customer.example").await;
    let r = complete(&app, &lift, json!({"restriction": "lift"})).await;
    assert_eq!(r.status(), StatusCode::OK, "{}", r.text().await.unwrap());
    assert_eq!(crate::consent::decide(&app, &ask).await["allowed"], true);
    // The notice was queued, in the lift's own transaction.
    let outbox: Value = app
        .get(&app.admin_token, "/v1/outbox")
        .await
        .json()
        .await
        .unwrap();
    assert!(
        outbox.to_string().contains("dsr_restriction_lift"),
        "{outbox}"
    );
    deliver(&app, &sink).await;
    let msgs = sink.messages();
    let notice = one(&msgs, "will be lifted");
    assert_eq!(notice.to, "restrict@customer.example");
    assert!(notice.body.contains("Article 18(3)"));
    let actions: Vec<String> = open_tasks(&app)
        .await
        .iter()
        .map(|t| t["action"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(actions, ["restriction", "restriction_lifted"]);
}

/// Must show: rectification → the audit shows before and after (sealed under the subject key,
/// opened here as proof); the letter says what changed; an Art. 19 task per recipient.
/// Objection to direct marketing by request: suppressed, with its letter.
#[tokio::test]
async fn rectification_and_objection_by_request() {
    let Some(sink) = SmtpSink::start() else {
        return;
    };
    let app = spawn_app().await;
    let s = customer(&app, "fix@customer.example").await;
    let subject: Value = app
        .get(&app.admin_token, &format!("/v1/subjects/{s}"))
        .await
        .json()
        .await
        .unwrap();
    let name = subject["records"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["category"] == "identity.name")
        .unwrap();
    let record = id_of(name);
    let id = staff_request(
        &app,
        json!(["rectification", "objection"]),
        "fix@customer.example",
    )
    .await;
    // A bad correction changes nothing and closes nothing.
    let r = complete(
        &app,
        &id,
        json!({"rectifications": [{"record_id": "0190a6b2-0000-7000-8000-000000000001", "value": "x"}],
               "objection": {"direct_marketing": true}}),
    )
    .await;
    assert!(r.status().is_client_error(), "{}", r.status());
    let r = complete(
        &app,
        &id,
        json!({"rectifications": [{"record_id": record, "value": "Kari Hansen"}],
               "objection": {"direct_marketing": true}}),
    )
    .await;
    assert_eq!(r.status(), StatusCode::OK, "{}", r.text().await.unwrap());
    assert_eq!(r.json::<Value>().await.unwrap()["state"], "completed");
    let audit = app.audit_entries().await;
    let entry = audit
        .iter()
        .find(|e| e.entry.action == "record.rectify")
        .expect("the rectification is audited");
    assert!(
        !entry.entry.detail.contains("Kari"),
        "no plaintext in the log"
    );
    let detail: Value = serde_json::from_str(&entry.entry.detail).unwrap();
    let (before, after) = app
        .vault
        .open_rectification(uuid::Uuid::parse_str(&s).unwrap(), entry.entry.id, &detail)
        .await
        .unwrap();
    assert_eq!(
        (before, after),
        (json!("Kari Nordmann"), json!("Kari Hansen"))
    );
    let d = crate::consent::decide(
        &app,
        &json!({"subject_id": s, "purpose": "marketing.send", "channel": "email",
                "message_class": "newsletter"}),
    )
    .await;
    assert_eq!(d["allowed"], false, "{d}");
    deliver(&app, &sink).await;
    let msgs = sink.messages();
    let letter = one(&msgs, "is completed");
    for part in [
        "rectification: done",
        "Kari Nordmann → Kari Hansen",
        "group.confect_sverige",
        "supplementary statement",
        "objection: done",
        "suppression list",
    ] {
        assert!(letter.body.contains(part), "{part}: {}", letter.body);
    }
    let tasks = open_tasks(&app).await;
    assert_eq!(tasks.len(), 1);
    assert_eq!(tasks[0]["action"], "rectification");
}

/// Reminders mail the privacy team through the outbox (the staff address), not only audit.
#[tokio::test]
async fn a_reminder_mails_the_staff_address() {
    let Some(sink) = SmtpSink::start() else {
        return;
    };
    let app = spawn_app().await;
    app.vault.set_dsr_settings(DsrSettings {
        staff_address: Some("privacy-team@example.com".into()),
        ..DsrSettings::default()
    });
    let id = staff_request(&app, json!(["access"]), "someone@example.com").await;
    let r: Value = app
        .get(&app.admin_token, "/v1/jobs?limit=500")
        .await
        .json()
        .await
        .unwrap();
    assert!(
        r.to_string().contains(&id),
        "the reminder job is queued: {r}"
    );
    // The job's handler, run now (its time is 5 days before the deadline); twice: one mail.
    let rid = uuid::Uuid::parse_str(&id).unwrap();
    app.vault.remind_request(rid).await.unwrap();
    app.vault.remind_request(rid).await.unwrap();
    deliver(&app, &sink).await;
    let mails: Vec<ReceivedMail> = sink
        .messages()
        .into_iter()
        .filter(|m| m.to == "privacy-team@example.com")
        .collect();
    assert_eq!(mails.len(), 1, "{mails:#?}");
    assert!(mails[0].subject.contains("Deadline near") || mails[0].subject.contains("Frist"));
    assert!(mails[0].body.contains(&format!("/v1/requests/{id}")));
}

/// One person's download link serves only that person's report: each link is bound to its
/// own request, and a link altered to reach someone else's (another token, a changed
/// character, another request's format) answers the same 404 as an unknown one.
#[tokio::test]
async fn one_persons_download_link_does_not_work_for_another() {
    let Some(sink) = SmtpSink::start() else {
        return;
    };
    let app = spawn_app().await;
    customer(&app, "kari@customer.example").await;
    // The second person shares no identifier with the first (`customer` fixes a phone number).
    app.create_subject(&json!({
        "subject_type": "customer_contact",
        "jurisdiction": "NO",
        "identifiers": [{"kind": "email", "value": "per@other.example"}],
        "records": [
            {"category": "contact.email.work_named", "value": "per@other.example",
             "source": "direct", "purposes": ["sales.orders_agreements_payments"]},
            {"category": "identity.name", "value": "Per Hansen",
             "source": "direct", "purposes": ["sales.orders_agreements_payments"]}
        ]
    }))
    .await;
    let mut links = Vec::new();
    for email in ["kari@customer.example", "per@other.example"] {
        let id = submit_and_verify(&app, &sink, json!(["access"]), email, "en").await;
        let r = complete(&app, &id, json!({})).await;
        assert_eq!(r.status(), StatusCode::OK, "{}", r.text().await.unwrap());
        deliver(&app, &sink).await;
        let mails = sink.messages();
        let letter = mails
            .iter()
            .rev()
            .find(|m| m.to == email && m.subject.contains("is completed"))
            .expect("the closing letter");
        links.push(download_link(letter));
    }
    assert_ne!(links[0], links[1]);
    for (link, own, other) in [
        (&links[0], "kari@customer.example", "per@other.example"),
        (&links[1], "per@other.example", "kari@customer.example"),
    ] {
        for format in ["", "?format=json", "?format=csv"] {
            let r = app
                .client
                .get(format!("{link}{format}"))
                .send()
                .await
                .unwrap();
            assert_eq!(r.status(), StatusCode::OK);
            let body = r.text().await.unwrap();
            assert!(body.contains(own), "{format}: own data missing");
            assert!(!body.contains(other), "{format}: another person's data");
        }
    }
    // A changed character, or one person's token under another's path prefix, opens nothing.
    let token_of = |l: &str| l.rsplit('/').next().unwrap().to_owned();
    let mut altered = token_of(&links[0]);
    let last = altered.pop().unwrap();
    altered.push(if last == 'A' { 'B' } else { 'A' });
    let base = links[0].trim_end_matches(&token_of(&links[0])).to_owned();
    for bad in [
        format!("{base}{altered}"),
        format!("{base}{}{}", token_of(&links[0]), token_of(&links[1])),
        format!("{base}{}", &token_of(&links[1])[..10]),
    ] {
        problem(
            app.client.get(&bad).send().await.unwrap(),
            StatusCode::NOT_FOUND,
        )
        .await;
    }
}

/// Staff resend a closing letter (the person lost it): it carries a fresh link to the same
/// files, and the link of the first letter stops working (only one live link per download).
/// Once the files are gone, a resent letter has no link.
#[tokio::test]
async fn a_resent_closing_letter_carries_a_fresh_link_and_the_old_one_stops() {
    let Some(sink) = SmtpSink::start() else {
        return;
    };
    let app = spawn_app().await;
    app.vault.set_dsr_settings(DsrSettings {
        download_ttl: time::Duration::days(7),
        download_limit: 2,
        staff_address: None,
    });
    customer(&app, "kari@customer.example").await;
    let id = submit_and_verify(
        &app,
        &sink,
        json!(["access"]),
        "kari@customer.example",
        "en",
    )
    .await;
    let r = complete(&app, &id, json!({})).await;
    assert_eq!(r.status(), StatusCode::OK, "{}", r.text().await.unwrap());
    deliver(&app, &sink).await;
    let first = download_link(one(&sink.messages(), "is completed"));
    let r = app.client.get(&first).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);

    let (path, body) = (
        format!("/v1/requests/{id}/actions"),
        json!({"action": "resend_letter"}),
    );
    let resend = || app.post(&app.admin_token, &path, &body);
    let r = resend().await;
    assert_eq!(r.status(), StatusCode::OK, "{}", r.text().await.unwrap());
    deliver(&app, &sink).await;
    let mails = sink.messages();
    let letters: Vec<_> = mails
        .iter()
        .filter(|m| m.subject.contains("is completed"))
        .collect();
    assert_eq!(letters.len(), 2);
    let second = download_link(letters[1]);
    assert_ne!(first, second);
    // One download was used of two: the new letter says one is left.
    assert!(letters[1].body.contains("1 times"), "{}", letters[1].body);
    problem(
        app.client.get(&first).send().await.unwrap(),
        StatusCode::NOT_FOUND,
    )
    .await;
    let r = app.client.get(&second).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert!(r.text().await.unwrap().contains("Kari Nordmann"));

    // Used up: a third letter has no link.
    let r = resend().await;
    assert_eq!(r.status(), StatusCode::OK, "{}", r.text().await.unwrap());
    deliver(&app, &sink).await;
    let mails = sink.messages();
    let third = mails
        .iter()
        .filter(|m| m.subject.contains("is completed"))
        .nth(2)
        .expect("the third letter");
    assert!(
        !third.body.contains("/v1/public/downloads/"),
        "{}",
        third.body
    );
}
