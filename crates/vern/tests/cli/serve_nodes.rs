//! Two `vern serve` OS processes on one PostgreSQL database run the job queue at the same
//! time: every job runs exactly once (claimed once, completed by the node that claimed it, its
//! handler run once across both processes), and the sweeps they race on delete each expired
//! record exactly once with evidence equal to the deletions.
//!
//! The queue holds both kinds `vern serve` runs: retention sweeps and `mail.send` (delivered to
//! a real SMTP server, aiosmtpd, which must receive each message exactly once).

use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::json;
use vern_core::ids::SystemClock;
use vern_server::Vault;

use uuid::Uuid;
use vern_core::ids::DEFAULT_TENANT;
use vern_store::jobs::state;
use vern_store::{JobRow, JobStore, RetentionStore, SqlStore};

use crate::support::{DataDir, Server};

#[path = "../../../vern-server/tests/api/smtp_sink.rs"]
pub(crate) mod smtp_sink;

fn postgres_admin_url() -> Option<String> {
    match std::env::var("VERN_TEST_POSTGRES_URL") {
        Ok(url) if !url.is_empty() => Some(url),
        _ if std::env::var_os("CI").is_some() => {
            panic!("CI is set but VERN_TEST_POSTGRES_URL is not: the PostgreSQL tests must run")
        }
        _ => {
            eprintln!("VERN_TEST_POSTGRES_URL not set: skipping a PostgreSQL test");
            None
        }
    }
}

fn handler_runs(servers: &[&Server]) -> usize {
    servers
        .iter()
        .map(|s| {
            s.later
                .lock()
                .unwrap()
                .iter()
                .filter(|l| l.contains("retention sweep done"))
                .count()
        })
        .sum()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_serve_processes_on_one_postgres_run_every_job_exactly_once() {
    let Some(admin_url) = postgres_admin_url() else {
        return;
    };
    let Some(sink) = smtp_sink::SmtpSink::start() else {
        return;
    };
    let name = format!("t_{}", Uuid::new_v4().simple());
    let admin = SqlStore::open_url(&admin_url).await.unwrap();
    admin
        .execute_raw_for_tests(&format!("CREATE DATABASE {name}"))
        .await
        .unwrap();
    let (base, query) = admin_url.split_once('?').unwrap_or((&admin_url, ""));
    let url = format!("{}/{name}?{query}", base.rsplit_once('/').unwrap().0);

    // One data directory holds the shared master key; the data is in PostgreSQL.
    let dir = DataDir::new();
    let smtp = sink.url();
    let flags = [
        "--database",
        url.as_str(),
        "--sweep-every-hours",
        "0",
        "--smtp-url",
        smtp.as_str(),
        "--job-poll-ms",
        "50",
    ];
    let a = Server::start(&dir, &flags);
    let b = Server::start(&dir, &flags);

    // Expired records (one lead, one record each) and many sweep jobs, queued at once.
    const RECORDS: u64 = 20_000;
    const JOBS: usize = 60;
    let store = SqlStore::open_url(&url).await.unwrap();
    let t = DEFAULT_TENANT.simple().to_string();
    store
        .execute_raw_for_tests(&format!(
            "INSERT INTO subjects (tenant_id, id, subject_type, jurisdiction, created_at, updated_at) \
             SELECT decode('{t}', 'hex'), decode('a' || lpad(to_hex(i), 31, '0'), 'hex'), 'lead', \
             NULL, 0, 0 FROM generate_series(0, {RECORDS} - 1) AS i"
        ))
        .await
        .unwrap();
    store
        .execute_raw_for_tests(&format!(
            "INSERT INTO records (tenant_id, id, subject_id, category, value_ct, source, purposes, \
             legal_basis, collected_at, created_at, updated_at, expires_at, retention_rule) \
             SELECT decode('{t}', 'hex'), decode('b' || lpad(to_hex(i), 31, '0'), 'hex'), \
             decode('a' || lpad(to_hex(i), 31, '0'), 'hex'), 'contact.email.work_named', '\\x00', \
             'direct', '[\"marketing.send\"]', 'legitimate_interest', 0, 0, 0, 1000 + i, \
             'marketing_contacts' FROM generate_series(0, {RECORDS} - 1) AS i"
        ))
        .await
        .unwrap();
    let mut ids = Vec::new();
    for i in 0..JOBS {
        let id = Uuid::now_v7();
        ids.push(id);
        let queued = store
            .enqueue(JobRow {
                id,
                kind: "retention.sweep".to_owned(),
                payload: format!("{{\"n\":{i}}}"),
                state: state::QUEUED.to_owned(),
                run_at: 0,
                attempts: 0,
                max_attempts: 5,
                lease_owner: None,
                lease_until: None,
                last_error: None,
                unique_key: None,
                created_at: 0,
                updated_at: 0,
            })
            .await
            .unwrap();
        assert!(queued);
    }

    // And mail, sealed and queued as the vault does (a `mail.send` job per message).
    const MAILS: usize = 120;
    let key =
        std::fs::read_to_string(std::path::Path::new(&dir.data()).join("master.key")).unwrap();
    let vault = Vault::open(
        SqlStore::open_url(&url).await.unwrap(),
        Arc::new(vern_policy::Policy::bundled().unwrap()),
        vern_core::crypto::MasterKey::parse(key.trim()).unwrap(),
        Vec::new(),
        Arc::new(SystemClock),
    )
    .await
    .unwrap();
    let mut messages = Vec::new();
    for i in 0..MAILS {
        messages.push(
            vault
                .seal_mail(
                    &format!("node-test-{i}@example.com"),
                    "smtp_test",
                    "en",
                    json!({ "controller": "C", "reference": format!("r{i}") }),
                    None,
                    None,
                )
                .unwrap(),
        );
    }
    assert_eq!(vault.enqueue_mail(messages).await.unwrap(), MAILS as u64);
    const ALL: usize = JOBS + MAILS;

    // Both processes drain the queue.
    let deadline = Instant::now() + Duration::from_secs(240);
    loop {
        let done = store.list_jobs(Some(state::DONE), 1000).await.unwrap();
        if done.len() == ALL || Instant::now() > deadline {
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let jobs = store.list_jobs(None, 1000).await.unwrap();
    assert_eq!(jobs.len(), ALL);
    let mut owners = std::collections::BTreeMap::new();
    for job in &jobs {
        assert_eq!(job.state, state::DONE, "{job:?}");
        assert_eq!(job.attempts, 1, "claimed once: {job:?}");
        assert!(job.last_error.is_none(), "{job:?}");
        *owners
            .entry(job.lease_owner.clone().unwrap())
            .or_insert(0usize) += 1;
    }
    assert_eq!(owners.len(), 2, "both processes ran jobs: {owners:?}");

    let mail_jobs = jobs.iter().filter(|j| j.kind == "mail.send").count();
    assert_eq!(mail_jobs, MAILS);

    // Each message arrived once.
    let got = sink.wait_for(MAILS, Duration::from_secs(30)).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let got = if got.len() < MAILS {
        got
    } else {
        sink.messages()
    };
    let mut to: Vec<String> = got.iter().map(|m| m.to.clone()).collect();
    to.sort();
    let mut expected: Vec<String> = (0..MAILS)
        .map(|i| format!("node-test-{i}@example.com"))
        .collect();
    expected.sort();
    assert_eq!(to, expected, "every message delivered exactly once");

    // Each sweep handler ran once across the two processes (their logs say so).
    let deadline = Instant::now() + Duration::from_secs(10);
    while handler_runs(&[&a, &b]) < JOBS && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(handler_runs(&[&a, &b]), JOBS);

    // The racing sweeps deleted every expired record once, with evidence for each.
    assert_eq!(store.evidence_total(DEFAULT_TENANT).await.unwrap(), RECORDS);
    let left = store
        .fetch_text_for_tests("SELECT CAST(COUNT(*) AS TEXT) FROM records", false)
        .await
        .unwrap();
    assert_eq!(left[0], "0");
    let evidence_rows = store
        .fetch_text_for_tests(
            "SELECT CAST(COUNT(*) AS TEXT) || ' ' || CAST(COUNT(DISTINCT subject_id) AS TEXT) \
             FROM deletion_evidence",
            false,
        )
        .await
        .unwrap();
    assert_eq!(evidence_rows[0], format!("{RECORDS} {RECORDS}"));

    a.stop();
    b.stop();
    store.close().await;
    let _ = admin
        .execute_raw_for_tests(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        .await;
}
