//! Browser journeys (`tests/browser/journeys.js`): each on a fresh server with a real SMTP
//! sink (aiosmtpd) and the mail runner delivering, driven by playwright-core in Debian's
//! Chromium, with axe-core on every page. Screenshots go to `target/browser-screenshots/`.
//!
//! `.ci/run` installs chromium and the npm packages (into `target/browser-node`); outside CI a
//! machine without them skips these tests, in CI they must run.

use std::path::PathBuf;
use std::sync::OnceLock;
use std::time::Duration;

use serde_json::{Value, json};
use time::OffsetDateTime;
use vern_server::jobs::{Runner, RunnerConfig};
use vern_server::mail::Mailer;

use crate::helpers::{TestApp, id_of, lead, spawn_app};
use crate::smtp_sink::SmtpSink;

fn workspace() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// Node, the npm packages and Chromium, or `None` (skipped) outside CI.
fn tools() -> Option<(PathBuf, PathBuf)> {
    let modules = std::env::var_os("VERN_BROWSER_NODE_MODULES")
        .map(PathBuf::from)
        .unwrap_or_else(|| workspace().join("target/browser-node/node_modules"));
    let chromium = std::env::var_os("CHROMIUM")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/usr/bin/chromium"));
    let node = std::process::Command::new("node")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    let ok = node
        && chromium.exists()
        && modules.join("playwright-core").exists()
        && modules.join("axe-core").exists();
    if !ok {
        assert!(
            std::env::var_os("CI").is_none(),
            "CI needs node, {} and playwright-core + axe-core in {}",
            chromium.display(),
            modules.display()
        );
        eprintln!("skipping: node, chromium or the npm packages are not installed");
        return None;
    }
    Some((modules, chromium))
}

/// One browser at a time: the machine has two cores.
fn browser_lock() -> &'static tokio::sync::Mutex<()> {
    static LOCK: OnceLock<tokio::sync::Mutex<()>> = OnceLock::new();
    LOCK.get_or_init(|| tokio::sync::Mutex::new(()))
}

/// Delivers queued mail to the sink until aborted (what `vern serve`'s runner does).
fn deliver_forever(app: &TestApp, sink: &SmtpSink) -> tokio::task::JoinHandle<()> {
    let mut runner = Runner::new(
        app.vault.clone(),
        RunnerConfig {
            owner: "browser-test".into(),
            poll: Duration::from_millis(10),
            sweep_every: None,
            backoff: Duration::ZERO,
            ..RunnerConfig::default()
        },
    );
    runner.register_mail(Mailer::new(&sink.url(), "Personvern <personvern@example.com>").unwrap());
    tokio::spawn(async move {
        loop {
            match runner.run_one().await {
                Ok(Some(_)) => {}
                _ => tokio::time::sleep(Duration::from_millis(50)).await,
            }
        }
    })
}

async fn journey(name: &str, app: &TestApp, sink: &SmtpSink, extra: &[(&str, String)]) {
    let Some((modules, chromium)) = tools() else {
        return;
    };
    let _one = browser_lock().lock().await;
    let delivery = deliver_forever(app, sink);
    let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/browser/journeys.js");
    let mut cmd = std::process::Command::new("node");
    cmd.arg(&script)
        .arg(name)
        .env("NODE_PATH", &modules)
        .env("BASE_URL", &app.address)
        .env("ADMIN_TOKEN", &app.admin_token)
        .env("MAILDIR", &sink.dir)
        .env("READ_MAILDIR", workspace().join("scripts/read-maildir.py"))
        .env(
            "SCREENSHOT_DIR",
            workspace().join("target/browser-screenshots"),
        )
        .env("CHROMIUM", &chromium);
    for (k, v) in extra {
        cmd.env(k, v);
    }
    let out = tokio::task::spawn_blocking(move || cmd.output())
        .await
        .unwrap()
        .unwrap();
    delivery.abort();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    println!("{stdout}");
    assert!(
        out.status.success(),
        "journey {name} failed:\n{stdout}\n{stderr}"
    );
    assert!(
        stdout.contains(&format!("{name}: 1 passed, 0 failed")),
        "{stdout}"
    );
}

fn rfc(t: OffsetDateTime) -> String {
    t.format(&time::format_description::well_known::Rfc3339)
        .unwrap()
}

/// `at` moved back by whole calendar months (day clamped).
fn months_ago(at: OffsetDateTime, months: u32) -> OffsetDateTime {
    let zero = i64::from(at.month() as u8) - 1 - i64::from(months);
    let year = at.year() + i32::try_from(zero.div_euclid(12)).unwrap();
    let month = time::Month::try_from(u8::try_from(zero.rem_euclid(12) + 1).unwrap()).unwrap();
    let day = at.day().min(month.length(year));
    time::Date::from_calendar_date(year, month, day)
        .unwrap()
        .with_time(at.time())
        .assume_utc()
}

#[tokio::test]
async fn journey_1_access_request_in_nb_end_to_end() {
    let Some(sink) = SmtpSink::start() else {
        return;
    };
    let app = spawn_app().await;
    let email = "kari.nordmann@example.com";
    app.create_subject(&lead(email)).await;
    let download = std::env::var("VERN_BROWSER_DOWNLOAD").unwrap_or_else(|_| "1".into());
    journey(
        "access",
        &app,
        &sink,
        &[
            ("SUBJECT_EMAIL", email.into()),
            ("EXPECT_DOWNLOAD", download),
        ],
    )
    .await;
}

#[tokio::test]
async fn journey_2_withdrawing_marketing_consent_denies_at_once() {
    let Some(sink) = SmtpSink::start() else {
        return;
    };
    let app = spawn_app().await;
    let email = "ola.nordmann@example.com";
    let subject = app.create_subject(&lead(email)).await;
    let r = app
        .post(
            &app.admin_token,
            &format!("/v1/subjects/{}/consents", id_of(&subject)),
            &json!({"scope": "marketing_email", "channel": "email", "action": "granted",
                    "method": "double_opt_in", "collection_point": "form:newsletter-footer",
                    "language": "en"}),
        )
        .await;
    assert!(r.status().is_success(), "{}", r.text().await.unwrap());
    journey("marketing", &app, &sink, &[("SUBJECT_EMAIL", email.into())]).await;
}

#[tokio::test]
async fn journey_3_an_extension_with_a_reason_reaches_the_person() {
    let Some(sink) = SmtpSink::start() else {
        return;
    };
    let app = spawn_app().await;
    let email = "per.hansen@example.com";
    let r = app
        .post(
            &app.admin_token,
            "/v1/requests",
            &json!({"rights": ["access"], "lang": "nb", "channel": "email",
                    "identifiers": [{"kind": "email", "value": email}],
                    "staff_verification": "the request came from the address on file"}),
        )
        .await;
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["state"], "in_progress", "{v}");
    journey("extension", &app, &sink, &[("SUBJECT_EMAIL", email.into())]).await;
}

#[tokio::test]
async fn journey_4_the_forecast_chart_has_the_seeded_bars() {
    let Some(sink) = SmtpSink::start() else {
        return;
    };
    let app = spawn_app().await;
    let now = OffsetDateTime::now_utc();
    // Leads are kept 24 months after their last activity: activity 24 − k months (+10 days)
    // ago expires in forecast month k.
    let seed: [(u32, u32); 3] = [(2, 3), (5, 1), (10, 2)];
    let mut n = 0;
    for (month, count) in seed {
        for _ in 0..count {
            n += 1;
            let email = format!("lead{n}@example.com");
            let activity = months_ago(now, 24 - month) + time::Duration::days(10);
            app.create_subject(&json!({
                "subject_type": "lead",
                "jurisdiction": "NO",
                "identifiers": [{"kind": "email", "value": email}],
                "records": [{
                    "category": "contact.email.work_named",
                    "value": email,
                    "source": "direct",
                    "purposes": ["marketing.send"],
                    "collected_at": rfc(activity - time::Duration::days(30)),
                    "last_activity_at": rfc(activity)
                }]
            }))
            .await;
        }
    }
    let nonzero: serde_json::Map<String, Value> = seed
        .iter()
        .map(|(m, c)| (m.to_string(), json!(c)))
        .collect();
    journey(
        "forecast",
        &app,
        &sink,
        &[
            ("SUBJECT_EMAIL", "lead1@example.com".into()),
            ("EXPECTED", json!({ "nonzero": nonzero }).to_string()),
        ],
    )
    .await;
}
