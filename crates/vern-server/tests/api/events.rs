//! Profiling events over HTTP: enforcement at the door, GPC, the derived profile and its
//! deletion on opting out.

use reqwest::StatusCode;
use serde_json::{Value, json};
use vern_store::events::EventStore;

use crate::helpers::{TestApp, id_of, lead, spawn_app};

async fn ingest(app: &TestApp, body: &Value, gpc: bool) -> Value {
    let mut req = app
        .client
        .post(app.url("/v1/events"))
        .bearer_auth(&app.admin_token)
        .json(body);
    if gpc {
        req = req.header("Sec-GPC", "1");
    }
    let r = req.send().await.unwrap();
    let status = r.status();
    let v: Value = r.json().await.unwrap();
    assert_eq!(status, StatusCode::OK, "{v}");
    v
}

fn batch(subject: &str, topics: &[&str]) -> Value {
    let events: Vec<Value> = topics
        .iter()
        .map(|t| {
            json!({"subject_id": subject, "kind": "page_view", "topic": t,
                        "channel": "website", "ip": "198.51.100.23"})
        })
        .collect();
    json!({"purpose": "marketing.profiling", "events": events})
}

async fn grant(app: &TestApp, subject: &str, scope: &str) {
    let r = app
        .post(
            &app.admin_token,
            &format!("/v1/subjects/{subject}/consents"),
            &json!({"scope": scope, "action": "granted", "method": "checkbox",
                      "collection_point": "cookie-banner"}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::CREATED);
}

async fn profile(app: &TestApp, subject: &str) -> Value {
    app.get(&app.admin_token, &format!("/v1/subjects/{subject}/profile"))
        .await
        .json()
        .await
        .unwrap()
}

#[tokio::test]
async fn events_need_consent_and_gpc_drops_them_all() {
    let app = spawn_app().await;
    let subject = id_of(&app.create_subject(&lead("ev@example.com")).await);
    let v = ingest(&app, &batch(&subject, &["pricing", "blog"]), false).await;
    assert_eq!(v, json!({"accepted": 0, "dropped": {"no_consent": 2}}));

    grant(&app, &subject, "marketing_profiling").await;
    grant(&app, &subject, "cookies_marketing").await;
    let v = ingest(
        &app,
        &batch(&subject, &["pricing", "pricing", "blog"]),
        false,
    )
    .await;
    assert_eq!(v["accepted"], 3, "{v}");
    let p = profile(&app, &subject).await;
    assert_eq!(p["topics"], json!({"pricing": 2, "blog": 1}));
    assert!(p["last_seen"].is_string(), "{p}");

    // Sec-GPC: 1 drops every event of the request, consent or not, and counts them.
    let v = ingest(&app, &batch(&subject, &["pricing", "blog"]), true).await;
    assert_eq!(v, json!({"accepted": 0, "dropped": {"gpc": 2}}));
    let drops: Value = app
        .get(&app.admin_token, "/v1/events/drops")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(drops, json!({"gpc": 2, "no_consent": 2}));
    assert_eq!(profile(&app, &subject).await["events"], 3);

    // Stored: one sealed segment per subject and batch; nothing readable outside it.
    let tenant = app.vault.tenant();
    let subject_id = subject.parse().unwrap();
    let stored = app
        .vault
        .store()
        .subject_events(tenant, subject_id)
        .await
        .unwrap();
    assert_eq!(stored.len(), 1, "one segment for the one accepted batch");
    assert!(stored[0].ip_truncated.is_none() && stored[0].channel.is_none());
    assert!(!String::from_utf8_lossy(&stored[0].body_ct).contains("pricing"));
    let opened = app.vault.open_events(subject_id).await.unwrap();
    assert_eq!(opened.len(), 3);
    assert!(
        opened
            .iter()
            .all(|e| e.ip_truncated.as_deref() == Some("198.51.100.0")
                && e.channel.as_deref() == Some("website")
                && e.kind == "page_view")
    );
    assert_eq!(
        opened
            .iter()
            .filter(|e| e.topic.as_deref() == Some("pricing"))
            .count(),
        2
    );
    let unknown = ingest(
        &app,
        &batch("01936f5e-0000-7000-8000-000000000000", &["x"]),
        false,
    )
    .await;
    assert_eq!(unknown["dropped"], json!({"unknown_subject": 1}));

    let r = app
        .client
        .get(app.url("/.well-known/gpc.json"))
        .send()
        .await
        .unwrap();
    let gpc: Value = r.json().await.unwrap();
    assert_eq!(gpc["gpc"], true);
    assert!(gpc["lastUpdate"].is_string());
}

#[tokio::test]
async fn opting_out_deletes_the_profile_and_stops_profiling() {
    let app = spawn_app().await;
    let subject = id_of(&app.create_subject(&lead("opt@example.com")).await);
    grant(&app, &subject, "marketing_profiling").await;
    grant(&app, &subject, "cookies_marketing").await;
    assert_eq!(
        ingest(&app, &batch(&subject, &["a", "b"]), false).await["accepted"],
        2
    );

    let r = app
        .post(
            &app.admin_token,
            &format!("/v1/subjects/{subject}/objections"),
            &json!({"direct_marketing": true}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let p = profile(&app, &subject).await;
    assert_eq!(
        (p["events"].clone(), p["topics"].clone()),
        (json!(0), json!({})),
        "profile gone"
    );
    let v = ingest(&app, &batch(&subject, &["a"]), false).await;
    assert_eq!(v["accepted"], 0, "{v}");
    let d: Value = app
        .post(
            &app.admin_token,
            "/v1/decisions",
            &json!({"subject_id": subject, "purpose": "marketing.profiling"}),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(d["allowed"], false, "{d}");
    let audit: Vec<_> = app
        .audit_entries()
        .await
        .into_iter()
        .map(|r| r.entry.action)
        .collect();
    assert!(audit.contains(&"profile.delete".to_owned()));

    // Withdrawing the profiling consent deletes the profile as well.
    let other = id_of(&app.create_subject(&lead("opt2@example.com")).await);
    grant(&app, &other, "marketing_profiling").await;
    grant(&app, &other, "cookies_marketing").await;
    assert_eq!(
        ingest(&app, &batch(&other, &["a"]), false).await["accepted"],
        1
    );
    let r = app
        .post(
            &app.admin_token,
            &format!("/v1/subjects/{other}/consents"),
            &json!({"scope": "marketing_profiling", "action": "withdrawn", "method": "api",
                      "collection_point": "privacy-center"}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::CREATED);
    assert_eq!(profile(&app, &other).await["events"], 0);
    let v = ingest(&app, &batch(&other, &["a"]), false).await;
    assert_eq!(v["dropped"], json!({"consent_withdrawn": 1}));
}

/// Art. 15(3) covers observed and inferred data: the access report lists the stored events
/// (with truncated IPs and their purpose) and the profile derived from them, and no longer does
/// once the subject opts out.
#[tokio::test]
async fn the_access_report_shows_the_events_and_the_derived_profile() {
    let app = spawn_app().await;
    let subject = id_of(&app.create_subject(&lead("seen@example.com")).await);
    let path = format!("/v1/subjects/{subject}/access-report");
    let before: Value = app.get(&app.admin_token, &path).await.json().await.unwrap();
    assert_eq!(before["profiling"]["events"], json!([]), "{before}");
    assert!(before["profiling"]["profile"].is_null(), "{before}");

    grant(&app, &subject, "marketing_profiling").await;
    grant(&app, &subject, "cookies_marketing").await;
    let v = ingest(
        &app,
        &batch(&subject, &["pricing", "blog", "pricing"]),
        false,
    )
    .await;
    assert_eq!(v["accepted"], 3, "{v}");

    let report: Value = app.get(&app.admin_token, &path).await.json().await.unwrap();
    let events = report["profiling"]["events"].as_array().unwrap();
    assert_eq!(events.len(), 3, "{report}");
    for e in events {
        assert_eq!(e["purpose"], "marketing.profiling");
        assert_eq!(e["kind"], "page_view");
        assert_eq!(e["channel"], "website");
        assert_eq!(e["ip_truncated"], "198.51.100.0", "stored truncated");
        assert!(e["at"].is_string());
    }
    let p = &report["profiling"]["profile"];
    assert_eq!(p["events"], 3);
    assert_eq!(p["topics"], json!({"blog": 1, "pricing": 2}));
    assert_eq!(p["purposes"], json!(["marketing.profiling"]));
    assert!(p["last_seen"].is_string());
    assert_eq!(report["profiling"]["exists"], true);
    assert!(!report.to_string().contains("198.51.100.23"));

    let html = app
        .get(&app.admin_token, &format!("{path}?format=html"))
        .await
        .text()
        .await
        .unwrap();
    assert!(
        html.contains("Recorded events") && html.contains("pricing"),
        "{html}"
    );
    assert!(html.contains("198.51.100.0") && !html.contains("198.51.100.23"));
    let csv = app
        .get(&app.admin_token, &format!("{path}?format=csv"))
        .await
        .text()
        .await
        .unwrap();
    assert!(csv.contains("profiling.profile.topics.pricing,2"), "{csv}");

    // Opting out deletes them, and the report says so.
    let r = app
        .post(
            &app.admin_token,
            &format!("/v1/subjects/{subject}/consents"),
            &json!({"scope": "marketing_profiling", "action": "withdrawn", "method": "api",
                      "collection_point": "privacy-center"}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let after: Value = app.get(&app.admin_token, &path).await.json().await.unwrap();
    assert_eq!(after["profiling"]["events"], json!([]), "{after}");
    assert!(after["profiling"]["profile"].is_null(), "{after}");
}

/// Art. 20 covers observed data: events admitted under consent are in the portability
/// package (data.json and events.csv), as `observed`, with their purpose and basis.
#[tokio::test]
async fn consented_events_are_in_the_portability_package() {
    let app = spawn_app().await;
    let subject = id_of(&app.create_subject(&lead("port@example.com")).await);
    grant(&app, &subject, "marketing_profiling").await;
    grant(&app, &subject, "cookies_marketing").await;
    let v = ingest(&app, &batch(&subject, &["pricing", "blog"]), false).await;
    assert_eq!(v["accepted"], 2, "{v}");

    let r = app
        .get(
            &app.admin_token,
            &format!("/v1/subjects/{subject}/portability"),
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    let files = crate::portability::unzip(&r.bytes().await.unwrap());
    let data: Value = serde_json::from_str(files["data.json"].as_str().unwrap()).unwrap();
    let events = data["events"].as_array().unwrap();
    assert_eq!(events.len(), 2, "{data}");
    for e in events {
        assert_eq!(e["kind"], "observed");
        assert_eq!(e["event"], "page_view");
        assert_eq!(e["purpose"], "marketing.profiling");
        assert_eq!(e["legal_basis"], "consent");
        assert_eq!(e["dpv:hasLegalBasis"], "dpv:Consent");
        assert_eq!(e["ip_truncated"], "198.51.100.0");
    }
    let csv = files["events.csv"].as_str().unwrap();
    assert!(csv.starts_with("at,kind,topic,channel,ip_truncated,purpose,legal_basis"));
    assert_eq!(csv.lines().count(), 3, "{csv}");
    assert!(csv.contains(",page_view,pricing,website,198.51.100.0,marketing.profiling,consent"));
    assert!(files["README.txt"].as_str().unwrap().contains("events.csv"));
}
