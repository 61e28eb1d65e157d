//! The canary scan (issue 9, security checks): unique identifiers — an email, a phone number, a
//! name and a record value — are seeded through the API and driven through most endpoints:
//! subject, records, identifiers, lookup, consent, decisions, events, data-subject requests
//! (with bad input and errors), rectification, access report, portability and erasure. Then
//! every log line (TRACE, spans included), every audit entry, the `/metrics` output, every error
//! body, every list and every answer that is not the person's own data are scanned, and so are
//! the raw bytes of the SQLite files: the canaries may appear only in the subject's own data
//! views (subject, records, report, export), and in storage only encrypted.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::helpers::{TestApp, id_of, logs, spawn_sqlite_app};

const EMAIL: &str = "canary.quillfeather.7731@example.com";
const PHONE: &str = "+47 415 77 319";
const PHONE_DIGITS: &str = "41577319";
const NAME: &str = "Ottoline Quillfeather-Barsby";
const VALUE: &str = "Zephyrine-lighthouse-4471";

/// Every spelling in which a canary could leak.
const NEEDLES: &[&str] = &[
    EMAIL,
    "canary.quillfeather",
    "quillfeather",
    "Quillfeather",
    PHONE,
    PHONE_DIGITS,
    "415 77 319",
    NAME,
    "Ottoline",
    "Barsby",
    VALUE,
    "Zephyrine",
];

fn leaks(text: &str) -> Vec<&'static str> {
    NEEDLES
        .iter()
        .copied()
        .filter(|n| text.contains(n) || text.to_lowercase().contains(&n.to_lowercase()))
        .collect()
}

/// One call and its answer; `own` marks an answer that is the subject's own data (allowed to
/// carry the canaries: it is what the caller asked for).
struct Seen {
    what: String,
    status: StatusCode,
    body: String,
    own: bool,
}

struct Driver<'a> {
    app: &'a TestApp,
    seen: Vec<Seen>,
}

impl Driver<'_> {
    async fn call(
        &mut self,
        method: Method,
        path: &str,
        body: Option<Value>,
        own: bool,
    ) -> (StatusCode, Value) {
        let r = self
            .app
            .request(
                method.clone(),
                path,
                Some(&self.app.admin_token),
                body.as_ref(),
            )
            .await;
        self.record(format!("{method} {path}"), r, own).await
    }

    async fn raw(&mut self, what: &str, req: reqwest::RequestBuilder) -> (StatusCode, Value) {
        let r = req.send().await.unwrap();
        self.record(what.to_owned(), r, false).await
    }

    async fn record(
        &mut self,
        what: String,
        r: reqwest::Response,
        own: bool,
    ) -> (StatusCode, Value) {
        let status = r.status();
        let body = r.text().await.unwrap_or_default();
        let v = serde_json::from_str(&body).unwrap_or(Value::Null);
        self.seen.push(Seen {
            what,
            status,
            body,
            own,
        });
        (status, v)
    }
}

fn subject_body() -> Value {
    json!({
        "subject_type": "lead",
        "jurisdiction": "NO",
        "identifiers": [{"kind": "email", "value": EMAIL}, {"kind": "phone", "value": PHONE}],
        "records": [
            {"category": "contact.email.work_named", "value": EMAIL, "source": "direct",
             "purposes": ["marketing.send"]},
            {"category": "identity.name", "value": NAME, "source": "direct",
             "purposes": ["marketing.send"]},
        ],
    })
}

#[tokio::test]
async fn canaries_appear_only_in_the_subjects_own_data_and_encrypted_storage() {
    let app = spawn_sqlite_app().await;
    let mut d = Driver {
        app: &app,
        seen: Vec::new(),
    };
    // Subject, records, identifiers.
    let (s, v) = d
        .call(Method::POST, "/v1/subjects", Some(subject_body()), true)
        .await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    let id = id_of(&v);
    let (s, v) = d
        .call(
            Method::POST,
            &format!("/v1/subjects/{id}/records"),
            Some(
                json!({"category": "contact.phone", "value": PHONE, "source": "direct",
                        "purposes": ["marketing.send"]}),
            ),
            true,
        )
        .await;
    let phone_record = (s == StatusCode::CREATED).then(|| id_of(&v));
    let (s, v) = d
        .call(
            Method::POST,
            &format!("/v1/subjects/{id}/records"),
            Some(
                json!({"category": "identity.name", "value": VALUE, "source": "direct",
                        "purposes": ["marketing.send"]}),
            ),
            true,
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    let value_record = id_of(&v);
    d.call(Method::GET, &format!("/v1/subjects/{id}"), None, true)
        .await;
    d.call(
        Method::GET,
        &format!("/v1/subjects/{id}/records"),
        None,
        true,
    )
    .await;
    d.call(
        Method::GET,
        &format!("/v1/subjects/{id}/identifiers"),
        None,
        true,
    )
    .await;
    let (s, _) = d
        .call(
            Method::POST,
            "/v1/lookup",
            Some(json!({"kind": "email", "value": EMAIL})),
            false,
        )
        .await;
    assert_eq!(s, StatusCode::OK);
    d.call(
        Method::POST,
        "/v1/lookup",
        Some(json!({"kind": "phone", "value": PHONE})),
        false,
    )
    .await;
    // Consent, decisions, events.
    for scope in ["marketing_profiling", "cookies_marketing", "newsletter"] {
        d.call(
            Method::POST,
            &format!("/v1/subjects/{id}/consents"),
            Some(
                json!({"scope": scope, "action": "granted", "method": "checkbox",
                        "collection_point": "cookie-banner"}),
            ),
            false,
        )
        .await;
    }
    d.call(
        Method::GET,
        &format!("/v1/subjects/{id}/consents"),
        None,
        false,
    )
    .await;
    d.call(
        Method::GET,
        &format!("/v1/subjects/{id}/consents/history"),
        None,
        false,
    )
    .await;
    let (s, v) = d
        .call(
            Method::POST,
            "/v1/decisions",
            Some(
                json!({"subject_id": id, "purpose": "marketing.send", "channel": "email",
                        "message_class": "newsletter"}),
            ),
            false,
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    d.call(
        Method::POST,
        "/v1/decisions/bulk",
        Some(json!([{"subject_id": id, "purpose": "marketing.send"},
                    {"subject_id": id, "purpose": "marketing.profiling"}])),
        false,
    )
    .await;
    let (s, v) = d
        .call(
            Method::POST,
            "/v1/events",
            Some(json!({"purpose": "marketing.profiling", "events": [
                {"subject_id": id, "kind": "page_view", "topic": "pricing",
                 "channel": "website", "ip": "198.51.100.23"}]})),
            false,
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    d.call(
        Method::GET,
        &format!("/v1/subjects/{id}/profile"),
        None,
        false,
    )
    .await;
    // Rectification of the value record.
    d.call(
        Method::POST,
        &format!("/v1/subjects/{id}/records/{value_record}/rectification"),
        Some(json!({"value": format!("{VALUE}-fixed"), "reason": "typo"})),
        true,
    )
    .await;
    // Data-subject requests: a good one, and bad ones with the canaries in odd places.
    let (s, v) = d
        .call(
            Method::POST,
            "/v1/requests",
            Some(json!({"rights": ["access"], "lang": "en", "channel": "web",
                        "identifiers": [{"kind": "email", "value": EMAIL}],
                        "details": format!("I am {NAME}, call {PHONE}")})),
            false,
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    let request = id_of(&v);
    for bad in [
        json!({"rights": [NAME], "lang": "en", "channel": "web",
               "identifiers": [{"kind": "email", "value": EMAIL}]}),
        json!({"rights": ["access"], "lang": "en", "channel": "web",
               "identifiers": [{"kind": PHONE, "value": EMAIL}]}),
        json!({"rights": ["access"], "lang": VALUE, "channel": "web",
               "identifiers": [{"kind": "email", "value": format!("not an address {NAME}")}]}),
        json!({"rights": ["access"], "lang": "en", "channel": "web",
               "identifiers": [{"kind": "phone", "value": format!("{PHONE}{PHONE}x")}]}),
        json!({EMAIL: NAME}),
    ] {
        let (s, _) = d.call(Method::POST, "/v1/requests", Some(bad), false).await;
        assert!(s.is_client_error(), "{s}");
    }
    d.call(Method::GET, "/v1/requests?open=true", None, false)
        .await;
    // The case file: the requester's own identifiers and words, for staff with `dsr.case`.
    d.call(Method::GET, &format!("/v1/requests/{request}"), None, true)
        .await;
    d.call(
        Method::GET,
        &format!("/v1/requests?state={EMAIL}&after={PHONE}"),
        None,
        false,
    )
    .await;
    // Errors with canaries in bodies, paths and queries.
    d.call(
        Method::POST,
        "/v1/subjects",
        Some(
            json!({"subject_type": "lead", "identifiers": [{"kind": "email", "value": EMAIL}],
                    "records": []}),
        ),
        false,
    )
    .await;
    d.call(
        Method::POST,
        &format!("/v1/subjects/{id}/records"),
        Some(json!({"category": NAME, "value": VALUE, "source": EMAIL, "purposes": [PHONE]})),
        false,
    )
    .await;
    d.call(
        Method::POST,
        &format!("/v1/subjects/{id}/records"),
        Some(
            json!({"category": "contact.phone", "value": {"nested": PHONE}, "source": "direct",
                    "purposes": ["marketing.send"]}),
        ),
        // Stored if the policy allows an object value: then the answer is the record.
        true,
    )
    .await;
    d.call(
        Method::POST,
        &format!("/v1/subjects/{id}/identifiers"),
        Some(json!({"kind": "email", "value": EMAIL})),
        false,
    )
    .await;
    d.call(
        Method::POST,
        &format!("/v1/subjects/{id}/consents"),
        Some(json!({"scope": NAME, "action": "granted", "method": EMAIL})),
        false,
    )
    .await;
    d.call(
        Method::POST,
        "/v1/events",
        Some(
            json!({"purpose": VALUE, "events": [{"subject_id": id, "kind": EMAIL,
                    "topic": NAME, "channel": PHONE}]}),
        ),
        false,
    )
    .await;
    d.call(
        Method::POST,
        "/v1/decisions",
        Some(json!({"subject_id": id, "purpose": EMAIL, "channel": NAME})),
        false,
    )
    .await;
    d.call(
        Method::GET,
        &format!("/v1/subjects?after={EMAIL}"),
        None,
        false,
    )
    .await;
    d.call(Method::GET, &format!("/v1/nowhere/{NAME}"), None, false)
        .await;
    d.call(
        Method::PATCH,
        &format!("/v1/subjects/{id}"),
        Some(json!({NAME: VALUE})),
        false,
    )
    .await;
    let malformed = format!("{{\"subject_type\": \"{EMAIL}");
    d.raw(
        "POST /v1/subjects (malformed)",
        app.client
            .post(app.url("/v1/subjects"))
            .bearer_auth(&app.admin_token)
            .header("content-type", "application/json")
            .body(malformed),
    )
    .await;
    d.raw(
        "POST /v1/subjects (wrong token)",
        app.client
            .post(app.url("/v1/subjects"))
            .bearer_auth(EMAIL)
            .json(&subject_body()),
    )
    .await;
    d.raw(
        "POST /v1/request-verifications (code)",
        app.client
            .post(app.url("/v1/request-verifications/vern_canary"))
            .json(&json!({"code": PHONE_DIGITS, "name": NAME})),
    )
    .await;
    // The person's own report and export.
    let (s, _) = d
        .call(
            Method::GET,
            &format!("/v1/subjects/{id}/access-report"),
            None,
            true,
        )
        .await;
    assert_eq!(s, StatusCode::OK);
    d.call(
        Method::GET,
        &format!("/v1/subjects/{id}/portability"),
        None,
        true,
    )
    .await;
    // Administrative views: none of these is the person's data.
    for path in [
        "/v1/subjects?limit=50",
        "/v1/audit/verify",
        "/v1/outbox?limit=100",
        "/v1/jobs",
        "/v1/events/drops",
        "/v1/retention/preview",
        "/v1/recipient-tasks",
        "/v1/consents/export",
    ] {
        d.call(Method::GET, path, None, false).await;
    }
    if let Some(r) = phone_record {
        d.call(
            Method::DELETE,
            &format!("/v1/subjects/{id}/records/{r}"),
            None,
            false,
        )
        .await;
    }
    // Erasure, then everything after it.
    let (s, v) = d
        .call(
            Method::POST,
            &format!("/v1/subjects/{id}/erasure"),
            None,
            false,
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    d.call(
        Method::POST,
        "/v1/lookup",
        Some(json!({"kind": "email", "value": EMAIL})),
        false,
    )
    .await;
    d.call(Method::GET, &format!("/v1/subjects/{id}"), None, false)
        .await;
    let metrics = app
        .client
        .get(app.url("/metrics"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();

    // Answers: the subject's own views may carry the data; nothing else may.
    let mut problems = Vec::new();
    let mut errors = 0;
    for seen in &d.seen {
        if seen.status.is_client_error() || seen.status.is_server_error() {
            errors += 1;
        }
        let allowed = seen.own && seen.status.is_success();
        let found = leaks(&seen.body);
        if !allowed && !found.is_empty() {
            problems.push(format!(
                "{} ({}): {found:?} in {}",
                seen.what, seen.status, seen.body
            ));
        }
    }
    assert!(errors >= 15, "the run exercises errors: {errors}");
    let audit = app.audit_entries().await;
    assert!(audit.len() > 10);
    for row in &audit {
        let text = format!("{row:?} {}", serde_json::to_string(&row.entry).unwrap());
        let found = leaks(&text);
        if !found.is_empty() {
            problems.push(format!("audit #{}: {found:?} in {text}", row.seq));
        }
    }
    let found = leaks(&metrics);
    if !found.is_empty() {
        problems.push(format!("/metrics: {found:?}"));
    }
    // The decision log is written behind the answers: write it before reading the files.
    app.vault.flush_decisions().await.unwrap();
    let dir = app.data_dir.clone().expect("sqlite");
    // Storage: the raw bytes of every file (main databases, WAL, key store).
    for entry in std::fs::read_dir(&dir).unwrap().flatten() {
        let Ok(bytes) = std::fs::read(entry.path()) else {
            continue;
        };
        let text = String::from_utf8_lossy(&bytes);
        let found = leaks(&text);
        if !found.is_empty() {
            problems.push(format!(
                "storage {}: {found:?} in plaintext",
                entry.file_name().to_string_lossy()
            ));
        }
    }
    drop(app);
    // Logs: every line any test in this binary wrote so far.
    let log = logs();
    for line in log.lines() {
        let found = leaks(line);
        if !found.is_empty() {
            problems.push(format!("log: {found:?} in {line}"));
        }
    }
    assert!(
        problems.is_empty(),
        "canaries leaked:\n{}",
        problems.join("\n")
    );
}
