//! Policy versions over HTTP: publishing, change notices to the affected subjects only,
//! editorial changes without notices, consents needing renewal from the effective date, the
//! fan-out surviving an interruption, and sub-processors added as policy changes.

use std::sync::Arc;

use reqwest::StatusCode;
use serde_json::{Value, json};
use time::OffsetDateTime;
use uuid::Uuid;
use vern_core::ids::{Clock, FixedClock};
use vern_server::jobs::{Runner, RunnerConfig};
use vern_store::PolicyVersionStore;

use vern_server::mail::Mailer;

use crate::consent::{consent, grant};
use crate::helpers::{
    Options, TestApp, applicant, id_of, lead, problem, spawn_app, spawn_app_with,
};
use crate::smtp_sink::SmtpSink;

const SOCIAL: &str = "id = \"marketing.social_audiences\"";

/// The bundled policy with a new consent purpose for leads only, relying on `social_ads`.
fn with_lead_purpose() -> String {
    let src = vern_policy::BUNDLED_SOURCE;
    let at = src.find(SOCIAL).expect("social purpose");
    let block = r#"id = "marketing.lead_events"
name = { nb = "Invitasjoner til arrangementer", en = "Event invitations" }
description.nb = "Med ditt samtykke inviterer vi deg til arrangementer i sosiale medier."
description.en = "With your consent we invite you to events on social media."
legal_basis = "consent"
consent_scope = "social_ads"
subject_types = ["lead"]
categories = ["contact.email"]
sources = ["direct"]
objection = "absolute"
direct_marketing = true

[[purpose]]
"#;
    format!("{}{block}{}", &src[..at], &src[at..])
}

/// The bundled policy with one purpose name reworded.
fn reworded() -> String {
    vern_policy::BUNDLED_SOURCE.replacen(
        "en = \"Marketing on social media\" }\ndescription.nb",
        "en = \"Marketing in social media\" }\ndescription.nb",
        1,
    )
}

fn iso(t: OffsetDateTime) -> String {
    t.format(&time::format_description::well_known::Rfc3339)
        .unwrap()
}

async fn publish(
    app: &TestApp,
    source: &str,
    effective: Option<OffsetDateTime>,
) -> reqwest::Response {
    let mut body = json!({ "source": source });
    if let Some(e) = effective {
        body["effective_at"] = json!(iso(e));
    }
    app.post(&app.admin_token, "/v1/policy/versions", &body)
        .await
}

/// Runs queued jobs until none is due.
async fn run_jobs(app: &TestApp) -> usize {
    let runner = Runner::new(app.vault.clone(), RunnerConfig::default());
    let mut n = 0;
    while runner.run_one().await.unwrap().is_some() {
        n += 1;
    }
    n
}

async fn notices_of(app: &TestApp, version: Uuid) -> Vec<(Uuid, String)> {
    // Straight from the table: what the fan-out wrote, duplicates would show.
    let mut out = Vec::new();
    for s in app.subject_ids().await {
        for (v, channel, _, _) in app
            .vault
            .store()
            .notices_of_subject(app.vault.tenant(), s)
            .await
            .unwrap()
        {
            if v == version {
                out.push((s, channel));
            }
        }
    }
    out
}

impl TestApp {
    async fn subject_ids(&self) -> Vec<Uuid> {
        let r = self.get(&self.admin_token, "/v1/subjects?limit=500").await;
        let v: Value = r.json().await.unwrap();
        v["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| s["id"].as_str().unwrap().parse().unwrap())
            .collect()
    }
}

async fn clocked() -> (TestApp, Arc<FixedClock>) {
    let clock = Arc::new(FixedClock::new(OffsetDateTime::now_utc()));
    let app = spawn_app_with(Options {
        clock: Some(clock.clone()),
        ..Options::default()
    })
    .await;
    (app, clock)
}

#[tokio::test]
async fn a_purpose_added_for_leads_notifies_each_lead_once_and_no_applicant() {
    let (app, clock) = clocked().await;
    let mut leads = Vec::new();
    for i in 0..3 {
        leads.push(id_of(
            &app.create_subject(&lead(&format!("lead{i}@example.com")))
                .await,
        ));
    }
    for i in 0..2 {
        app.create_subject(&applicant(&format!("cand{i}@example.com")))
            .await;
    }
    // A lead without an email address still gets the website notice.
    let quiet = id_of(
        &app.create_subject(&json!({"subject_type": "lead", "jurisdiction": "NO"}))
            .await,
    );

    // Material: too early is refused, with the earliest date named.
    let now = clock.now();
    let r = publish(
        &app,
        &with_lead_purpose(),
        Some(now + time::Duration::days(3)),
    )
    .await;
    let p = problem(r, StatusCode::UNPROCESSABLE_ENTITY).await;
    assert_eq!(p["errors"][0]["code"], "too_early", "{p}");

    let effective = now + time::Duration::days(31);
    let r = publish(&app, &with_lead_purpose(), Some(effective)).await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["class"], "material", "{v}");
    assert_eq!(v["notice_subject_types"], json!(["lead"]), "{v}");
    assert_eq!(v["renewal_scopes"], json!(["social_ads"]), "{v}");
    assert_eq!(v["in_force"], false);
    let version: Uuid = v["id"].as_str().unwrap().parse().unwrap();

    // The fan-out runs as a job; running the queue again queues nothing more.
    assert!(run_jobs(&app).await >= 1);
    run_jobs(&app).await;
    let notices = notices_of(&app, version).await;
    let mut who: Vec<Uuid> = notices.iter().map(|(s, _)| *s).collect();
    who.sort();
    let mut expected: Vec<Uuid> = leads
        .iter()
        .chain(std::iter::once(&quiet))
        .map(|s| s.parse().unwrap())
        .collect();
    expected.sort();
    assert_eq!(who, expected, "one notice per lead, none to applicants");
    let quiet_id: Uuid = quiet.parse().unwrap();
    for (s, channel) in &notices {
        let want = if *s == quiet_id { "website" } else { "email" };
        assert_eq!(channel, want);
    }

    let list: Value = app
        .get(&app.admin_token, "/v1/policy/versions")
        .await
        .json()
        .await
        .unwrap();
    let last = list.as_array().unwrap().last().unwrap().clone();
    assert_eq!(last["notices"]["queued"], 4, "{last}");
    assert_eq!(last["notices"]["email"], 3, "{last}");
    assert_eq!(last["notices"]["finished"], true, "{last}");

    // The emails reach a real SMTP server, well before the effective date.
    if let Some(sink) = SmtpSink::start() {
        let mailer = Mailer::new(&sink.url(), "Personvern <personvern@example.com>").unwrap();
        let mut runner = Runner::new(app.vault.clone(), RunnerConfig::default());
        runner.register_mail(mailer);
        while runner.run_one().await.unwrap().is_some() {}
        let got = sink.wait_for(3, std::time::Duration::from_secs(20)).await;
        let mut to: Vec<String> = got.iter().map(|m| m.to.clone()).collect();
        to.sort();
        assert_eq!(
            to,
            [
                "lead0@example.com",
                "lead1@example.com",
                "lead2@example.com"
            ],
            "one mail per lead with an address"
        );
        assert!(
            got[0].body.contains("marketing.lead_events"),
            "{}",
            got[0].body
        );
        assert!(clock.now() < effective);
        let list: Value = app
            .get(&app.admin_token, "/v1/policy/versions")
            .await
            .json()
            .await
            .unwrap();
        let last = list.as_array().unwrap().last().unwrap().clone();
        assert_eq!(last["notices"]["delivered"], 3, "{last}");
    }

    // The website notice is public, and the server keeps the old version until the date.
    let r = app
        .request(reqwest::Method::GET, "/v1/public/notices", None, None)
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    let pub_: Value = r.json().await.unwrap();
    assert_eq!(pub_[0]["version_id"], json!(version.to_string()));
    assert_eq!(pub_[0]["subject_types"], json!(["lead"]));
    assert!(
        app.vault
            .policy()
            .purpose("marketing.lead_events")
            .is_none()
    );
    clock.set(effective + time::Duration::seconds(1));
    assert!(
        app.vault
            .policy()
            .purpose("marketing.lead_events")
            .is_some()
    );
}

#[tokio::test]
async fn an_editorial_change_publishes_at_once_without_notices() {
    let app = spawn_app().await;
    for i in 0..2 {
        app.create_subject(&lead(&format!("ed{i}@example.com")))
            .await;
    }
    let r = publish(&app, &reworded(), None).await;
    let status = r.status();
    let v: Value = r.json().await.unwrap();
    assert_eq!(status, StatusCode::CREATED, "{v}");
    assert_eq!(v["class"], "editorial", "{v}");
    assert_eq!(v["in_force"], true, "{v}");
    assert_eq!(v["notice_subject_types"], json!([]));
    assert_eq!(run_jobs(&app).await, 0, "no fan-out job");
    let version: Uuid = v["id"].as_str().unwrap().parse().unwrap();
    assert!(notices_of(&app, version).await.is_empty());
    let pub_: Value = app
        .request(reqwest::Method::GET, "/v1/public/notices", None, None)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(pub_, json!([]));

    // Publishing the same meaning again is a conflict; a broken file is a located 422.
    let r = publish(&app, &reworded(), None).await;
    problem(r, StatusCode::CONFLICT).await;
    let r = publish(&app, "[controller\nname = 1", None).await;
    let p = problem(r, StatusCode::UNPROCESSABLE_ENTITY).await;
    assert_eq!(p["errors"][0]["field"], "source");
    // Only admin roles publish.
    let dpo = app.token("marketing").await;
    let r = app
        .post(&dpo, "/v1/policy/versions", &json!({"source": reworded()}))
        .await;
    problem(r, StatusCode::FORBIDDEN).await;
}

#[tokio::test]
async fn a_widened_consent_reads_as_renewal_needed_from_the_effective_date() {
    let (app, clock) = clocked().await;
    let s = id_of(&app.create_subject(&lead("widen@example.com")).await);
    consent(&app, &s, grant("social_ads", Some("social_media"))).await;
    let ask = json!({
        "subject_id": s,
        "purpose": "marketing.social_audiences",
        "channel": "social_media"
    });
    let d = crate::consent::decide(&app, &ask).await;
    assert_eq!(d["allowed"], true, "{d}");

    let effective = clock.now() + time::Duration::days(30) + time::Duration::hours(1);
    let r = publish(&app, &with_lead_purpose(), Some(effective)).await;
    assert_eq!(r.status(), StatusCode::CREATED);

    // Before the effective date the consent still counts.
    let d = crate::consent::decide(&app, &ask).await;
    assert_eq!(d["allowed"], true, "{d}");

    clock.set(effective + time::Duration::minutes(1));
    let d = crate::consent::decide(&app, &ask).await;
    assert_eq!(d["allowed"], false, "{d}");
    assert_eq!(d["reason"], "consent_renewal_needed", "{d}");
    let c: Value = app
        .get(&app.admin_token, &format!("/v1/subjects/{s}/consents"))
        .await
        .json()
        .await
        .unwrap();
    let entry = c["consents"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["scope"] == "social_ads")
        .unwrap()
        .clone();
    assert_eq!(entry["status"], "renewal_needed", "{c}");
    assert_eq!(entry["active"], false);

    // Renewing brings it back.
    let mut renew = grant("social_ads", Some("social_media"));
    renew["action"] = json!("renewed");
    consent(&app, &s, renew).await;
    let d = crate::consent::decide(&app, &ask).await;
    assert_eq!(d["allowed"], true, "{d}");
}

#[tokio::test]
async fn an_interrupted_fan_out_resumes_without_duplicates() {
    let (app, clock) = clocked().await;
    for i in 0..23 {
        app.create_subject(&lead(&format!("int{i}@example.com")))
            .await;
    }
    let effective = clock.now() + time::Duration::days(40);
    let r = publish(&app, &with_lead_purpose(), Some(effective)).await;
    let v: Value = r.json().await.unwrap();
    let version: Uuid = v["id"].as_str().unwrap().parse().unwrap();

    // First run stops after two pages of five (the task is dropped mid-run, as a crash would).
    let vault = app.vault.clone();
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    let mut tx = Some(tx);
    let task = tokio::spawn(async move {
        let mut pages = 0;
        vault
            .fan_out_notices(version, true, 5, move |_| {
                pages += 1;
                if pages == 2
                    && let Some(tx) = tx.take()
                {
                    let _ = tx.send(());
                }
            })
            .await
    });
    rx.await.unwrap();
    task.abort();
    let _ = task.await;
    let partial = notices_of(&app, version).await.len();
    assert!((10..23).contains(&partial), "{partial}");

    // A lost cursor (the worst case) re-reads from the start: the key still forbids doubles.
    app.vault
        .store()
        .execute_raw_for_tests("DELETE FROM policy_fanout")
        .await
        .unwrap();
    run_jobs(&app).await;
    let all = notices_of(&app, version).await;
    assert_eq!(all.len(), 23);
    let mut ids: Vec<Uuid> = all.iter().map(|(s, _)| *s).collect();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), 23, "no subject told twice");
}

#[tokio::test]
async fn a_subprocessor_outside_the_eea_needs_a_safeguard_and_customers_are_told() {
    let app = spawn_app().await;
    let r = app
        .post(
            &app.admin_token,
            "/v1/processor-customers",
            &json!({"name": "Bakeri AS", "dpa_signed_on": "2026-01-15", "notice_email": "dpo@bakeri.example", "objection_days": 30}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let customer: Value = r.json().await.unwrap();

    let mut sp = json!({
        "id": "subprocessor.analytics",
        "name": "Example Analytics LLC",
        "service": "Usage analytics for the CRM",
        "processor": "processor.crm",
        "purposes": ["sales.offers"],
        "categories": ["identity.name"],
        "country": "IN",
        "dpa_date": "2026-11-01"
    });
    let r = app.post(&app.admin_token, "/v1/subprocessors", &sp).await;
    let p = problem(r, StatusCode::UNPROCESSABLE_ENTITY).await;
    assert!(p.to_string().contains("subprocessor.analytics"), "{p}");
    // Nothing was published.
    let list: Value = app
        .get(&app.admin_token, "/v1/policy/versions")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(list.as_array().unwrap().len(), 1);

    sp["transfer"] = json!({"mechanism": "scc", "reference": "SCC-2026-7", "scc_version": "2021/914", "scc_module": 3});
    let r = app.post(&app.admin_token, "/v1/subprocessors", &sp).await;
    let status = r.status();
    let added: Value = r.json().await.unwrap();
    assert_eq!(status, StatusCode::CREATED, "{added}");
    assert_eq!(added["version"]["class"], "material");
    assert_eq!(added["notices"][0]["customer_id"], customer["id"]);
    assert_eq!(added["notices"][0]["email"], true, "{added}");
    let effective = added["version"]["effective_at"]
        .as_str()
        .unwrap()
        .to_owned();
    let until = added["notices"][0]["objection_until"]
        .as_str()
        .unwrap()
        .to_owned();

    // The customer's contact gets the notice by email through the outbox, with the window.
    if let Some(sink) = SmtpSink::start() {
        let mailer = Mailer::new(&sink.url(), "Personvern <personvern@example.com>").unwrap();
        let mut runner = Runner::new(app.vault.clone(), RunnerConfig::default());
        runner.register_mail(mailer);
        while runner.run_one().await.unwrap().is_some() {}
        let got = sink.wait_for(1, std::time::Duration::from_secs(20)).await;
        assert_eq!(got.len(), 1);
        let mail = &got[0];
        assert_eq!(mail.to, "dpo@bakeri.example");
        assert!(
            mail.subject.contains("Example Analytics LLC"),
            "{}",
            mail.subject
        );
        for needle in [
            "Bakeri AS",
            "Usage analytics for the CRM",
            "IN",
            "scc (SCC-2026-7)",
            &until[..10],
            &effective[..10],
        ] {
            assert!(mail.body.contains(needle), "{needle:?} in {}", mail.body);
        }
        // In the policy's first language (nb here): the window in days.
        assert!(
            mail.body.contains("innen 30 dager") || mail.body.contains("within 30 days"),
            "{}",
            mail.body
        );
        let notices: Value = app
            .get(&app.admin_token, "/v1/processor-customers/notices")
            .await
            .json()
            .await
            .unwrap();
        assert!(notices[0]["delivered_at"].is_string(), "{notices}");
    }

    // The public overview lists it, with the date it starts.
    let r = app
        .request(reqwest::Method::GET, "/v1/public/subprocessors", None, None)
        .await;
    let overview: Value = r.json().await.unwrap();
    let entry = overview
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["id"] == "subprocessor.analytics")
        .unwrap_or_else(|| panic!("{overview}"))
        .clone();
    assert!(entry["starts_at"].is_string(), "{entry}");

    // The customer objects within the window; a second objection is a conflict.
    let objection = json!({"customer_id": customer["id"], "recipient": "subprocessor.analytics", "reason": "Data may not leave the EEA under our contract."});
    let r = app
        .post(
            &app.admin_token,
            "/v1/processor-customers/objections",
            &objection,
        )
        .await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let r = app
        .post(
            &app.admin_token,
            "/v1/processor-customers/objections",
            &objection,
        )
        .await;
    problem(r, StatusCode::CONFLICT).await;
    let objections: Value = app
        .get(&app.admin_token, "/v1/processor-customers/objections")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(objections.as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn a_subprocessor_whose_publish_fails_leaves_no_notice_and_no_mail() {
    let app = spawn_app().await;
    let r = app
        .post(
            &app.admin_token,
            "/v1/processor-customers",
            &json!({"name": "Bakeri AS", "dpa_signed_on": "2026-01-15", "notice_email": "dpo@bakeri.example"}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let sp = json!({
        "id": "subprocessor.hosting",
        "name": "Nordic Hosting AS",
        "service": "Hosting",
        "processor": "processor.crm",
        "purposes": ["sales.offers"],
        "categories": ["identity.name"],
        "country": "NO",
        "dpa_date": "2026-11-01"
    });
    // The publish fails inside its transaction: the version row is written, then the
    // notices' insert finds no table. Nothing of it may remain.
    let store = app.vault.store();
    store
        .execute_raw_for_tests("ALTER TABLE subprocessor_notices RENAME TO sp_notices_away")
        .await
        .unwrap();
    let r = app.post(&app.admin_token, "/v1/subprocessors", &sp).await;
    assert!(r.status().is_server_error(), "{}", r.status());
    store
        .execute_raw_for_tests("ALTER TABLE sp_notices_away RENAME TO subprocessor_notices")
        .await
        .unwrap();
    let versions: Value = app
        .get(&app.admin_token, "/v1/policy/versions")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        versions.as_array().unwrap().len(),
        1,
        "no version: {versions}"
    );
    let outbox: Value = app
        .get(&app.admin_token, "/v1/outbox")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        outbox.as_array().map_or(0, Vec::len),
        0,
        "no mail: {outbox}"
    );

    // With the table back, the same addition commits version, notice and mail together.
    let r = app.post(&app.admin_token, "/v1/subprocessors", &sp).await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let versions: Value = app
        .get(&app.admin_token, "/v1/policy/versions")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(versions.as_array().unwrap().len(), 2);
    let notices: Value = app
        .get(&app.admin_token, "/v1/processor-customers/notices")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(notices.as_array().unwrap().len(), 1, "{notices}");
    let outbox: Value = app
        .get(&app.admin_token, "/v1/outbox")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(outbox.as_array().unwrap().len(), 1, "{outbox}");
    assert_eq!(outbox[0]["template"], "subprocessor_notice");
}
