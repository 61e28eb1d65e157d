//! The job runner: retries with backoff into a dead letter the admin API shows and can
//! retry; and two nodes on one PostgreSQL running sweeps and mail jobs at once, each job
//! exactly once.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use reqwest::StatusCode;
use serde_json::{Value, json};
use uuid::Uuid;
use vern_core::crypto::MasterKey;
use vern_core::ids::SystemClock;
use vern_server::Vault;
use vern_server::jobs::{
    Handler, HandlerFuture, Runner, RunnerConfig, backoff_delay, is_orphaned_lease, local_node,
};
use vern_store::jobs::state;
use vern_store::{JobStore, RetentionStore, SqlStore, Store};

use crate::helpers::{bundled_policy, spawn_app};

fn config(owner: &str) -> RunnerConfig {
    RunnerConfig {
        owner: owner.to_owned(),
        lease: Duration::from_secs(30),
        poll: Duration::from_millis(10),
        sweep_every: Some(Duration::from_secs(24 * 3600)),
        decision_log_keep: None,
        max_attempts: 2,
        backoff: Duration::ZERO,
    }
}

#[test]
fn backoff_doubles_up_to_an_hour() {
    let base = Duration::from_secs(30);
    assert_eq!(backoff_delay(base, 1), Duration::from_secs(30));
    assert_eq!(backoff_delay(base, 3), Duration::from_secs(120));
    assert_eq!(backoff_delay(base, 50), Duration::from_secs(3600));
}

#[tokio::test]
async fn a_failing_job_becomes_a_dead_letter_the_admin_api_shows_and_retries() {
    let app = spawn_app().await;
    let mut runner = Runner::new(app.vault.clone(), config("n1"));
    let failing: Handler =
        Arc::new(|_v, _j| Box::pin(async { Err("smtp refused".to_owned()) }) as HandlerFuture);
    runner.register("mail.send", failing);
    assert!(
        runner
            .enqueue("mail.send", json!({"message": 1}), 0, None)
            .await
            .unwrap()
    );
    for _ in 0..2 {
        let (_, outcome) = runner.run_one().await.unwrap().unwrap();
        assert!(outcome.is_err());
    }
    assert!(runner.run_one().await.unwrap().is_none());
    let dead: Value = app
        .get(&app.admin_token, "/v1/jobs?state=dead")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(dead.as_array().unwrap().len(), 1);
    assert_eq!(dead[0]["last_error"], "smtp refused");
    assert_eq!(dead[0]["attempts"], 2);
    let id = dead[0]["id"].as_str().unwrap();
    let support = app.token("support").await;
    let r = app.get(&support, "/v1/jobs").await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    let r = app
        .post(
            &app.admin_token,
            &format!("/v1/jobs/{id}/retry"),
            &json!({}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    let again: Value = r.json().await.unwrap();
    assert_eq!(again["state"], "queued");
    assert_eq!(again["attempts"], 0);
}

#[test]
fn a_lease_held_by_a_process_that_died_on_this_node_is_orphaned() {
    let node = local_node();
    let pid = std::process::id();
    let me = format!("{node}:{pid}:aaaa");
    assert!(!is_orphaned_lease(&me, &me), "its own lease");
    // This process id with another incarnation: the process that had the id died.
    assert!(is_orphaned_lease(&format!("{node}:{pid}:bbbb"), &me));
    // No process has an id above Linux's largest pid_max.
    assert!(is_orphaned_lease(&format!("{node}:4194305:bbbb"), &me));
    // A live process on this node (init), another node, an owner of another format: left to
    // their leases.
    assert!(!is_orphaned_lease(&format!("{node}:1:bbbb"), &me));
    assert!(!is_orphaned_lease("elsewhere/pid=[1]:4194305:bbbb", &me));
    assert!(!is_orphaned_lease("n1", &me));
}

#[tokio::test]
async fn a_restarted_node_takes_back_the_job_of_its_dead_process_at_once() {
    let app = spawn_app().await;
    let ran = Arc::new(Mutex::new(0));
    let counter = ran.clone();
    let handler: Handler = Arc::new(move |_v, _j| {
        let counter = counter.clone();
        Box::pin(async move {
            *counter.lock().unwrap() += 1;
            Ok(())
        }) as HandlerFuture
    });
    let store = app.vault.store();
    let mut runner = Runner::new(app.vault.clone(), RunnerConfig::default());
    runner.register("test.work", handler);
    runner
        .enqueue("test.work", json!({}), 0, None)
        .await
        .unwrap();
    // A process of this node that no longer exists claimed it, with an hour's lease.
    let now = vern_core::ids::to_micros(time::OffsetDateTime::now_utc());
    let dead = format!("{}:4194305:{}", local_node(), Uuid::new_v4().simple());
    let hour = 3_600_000_000;
    let claimed = store
        .claim(&dead, now, now + hour, &["test.work"])
        .await
        .unwrap()
        .unwrap();
    assert!(runner.run_one().await.unwrap().is_none(), "leased");
    // So did a live node elsewhere: that lease stands.
    runner
        .enqueue("test.work", json!({"n": 2}), 0, None)
        .await
        .unwrap();
    store
        .claim("elsewhere/x:1:y", now, now + hour, &["test.work"])
        .await
        .unwrap()
        .unwrap();
    assert_eq!(runner.reclaim_orphans().await.unwrap(), 1);
    let (job, outcome) = runner.run_one().await.unwrap().unwrap();
    assert_eq!(job.id, claimed.id);
    assert!(outcome.is_ok());
    assert_eq!(*ran.lock().unwrap(), 1);
    assert!(runner.run_one().await.unwrap().is_none());
    assert_eq!(runner.reclaim_orphans().await.unwrap(), 0);
}

async fn node(
    url: &str,
    master: &str,
    name: &str,
    log: Arc<Mutex<Vec<(Uuid, String)>>>,
) -> Arc<Runner> {
    let store = SqlStore::open_url(url).await.unwrap();
    store.migrate().await.unwrap();
    let vault = Vault::open(
        store,
        Arc::new(bundled_policy()),
        MasterKey::parse(master).unwrap(),
        Vec::new(),
        Arc::new(SystemClock),
    )
    .await
    .unwrap();
    let mut runner = Runner::new(Arc::new(vault), config(name));
    let node = name.to_owned();
    let mail: Handler = Arc::new(move |_v, job| {
        let (log, node) = (log.clone(), node.clone());
        Box::pin(async move {
            // Long enough for the other node's claims to overlap.
            tokio::time::sleep(Duration::from_millis(2)).await;
            log.lock().unwrap().push((job.id, node));
            Ok(())
        }) as HandlerFuture
    });
    runner.register("mail.send", mail);
    Arc::new(runner)
}

#[tokio::test]
async fn two_nodes_on_one_postgres_run_every_job_exactly_once() {
    let Ok(admin_url) = std::env::var("VERN_TEST_POSTGRES_URL") else {
        eprintln!("VERN_TEST_POSTGRES_URL not set: skipping");
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

    let master = MasterKey::generate().to_hex();
    let log = Arc::new(Mutex::new(Vec::new()));
    let a = node(&url, &master, "a", log.clone()).await;
    let b = node(&url, &master, "b", log.clone()).await;

    // Both nodes schedule today's sweeps at once: one job of each kind.
    let (x, y) = tokio::join!(a.schedule_due(), b.schedule_due());
    assert_eq!(u8::from(x.unwrap()) + u8::from(y.unwrap()), 1);
    const MAILS: usize = 300;
    for i in 0..MAILS {
        a.enqueue("mail.send", json!({ "message": i }), 0, None)
            .await
            .unwrap();
    }

    // Three workers per node until the queue is empty.
    let mut workers = Vec::new();
    for runner in [
        a.clone(),
        a.clone(),
        a.clone(),
        b.clone(),
        b.clone(),
        b.clone(),
    ] {
        workers.push(tokio::spawn(async move {
            let mut ran = 0;
            while runner.run_one().await.unwrap().is_some() {
                ran += 1;
            }
            ran
        }));
    }
    let mut total = 0;
    for w in workers {
        total += w.await.unwrap();
    }
    // + today's retention sweep and consent expiry sweep, one of each.
    assert_eq!(total, MAILS + 2, "every job ran once");

    let log = log.lock().unwrap().clone();
    let mut seen: BTreeMap<Uuid, usize> = BTreeMap::new();
    for (id, _) in &log {
        *seen.entry(*id).or_default() += 1;
    }
    assert_eq!(seen.len(), MAILS);
    assert!(seen.values().all(|n| *n == 1), "a mail job ran twice");
    let by_a = log.iter().filter(|(_, n)| n == "a").count();
    assert!(by_a > 0 && by_a < MAILS, "both nodes worked: a ran {by_a}");

    let store = SqlStore::open_url(&url).await.unwrap();
    let done = store.list_jobs(Some(state::DONE), 1000).await.unwrap();
    assert_eq!(done.len(), MAILS + 2);
    assert_eq!(
        store
            .evidence_total(vern_core::ids::DEFAULT_TENANT)
            .await
            .unwrap(),
        0
    );
    store.close().await;
    drop((a, b));
    let _ = admin
        .execute_raw_for_tests(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        .await;
}
