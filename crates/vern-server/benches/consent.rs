//! Consent and decision throughput on SQLite, printed as figures (a fixed workload, not
//! criterion: what matters here is throughput under concurrency and tail latency).
//!
//! `cargo bench -p vern-server --bench consent`
//!
//! 1. durable consent writes (grant/withdraw through the vault) from 64 concurrent clients;
//! 2. single decisions over HTTP from 64 concurrent clients, with p50/p99 latency;
//! 3. bulk decisions through the vault (one call of 100,000 recipients by email, after one
//!    call that fills the node's decision cache);
//! 4. event ingestion (batches of 1,000 events over 100 consenting subjects).
//!
//! `VERN_BENCH_NO_GROUP_COMMIT=1`: each consent write in its own transaction (baseline of 1.)
//! The decision cache's poller runs unless `VERN_BENCH_NO_CACHE=1` (the same-run baseline:
//! every decision reads the database, as before the cache). `VERN_BENCH_ONLY=writes|http|bulk|events`
//! runs one part (for profiling); `VERN_BENCH_EVENT_ROUNDS` sets the event batches (50).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::json;
use uuid::Uuid;
use vern_core::crypto::MasterKey;
use vern_core::ids::SystemClock;
use vern_policy::Policy;
use vern_server::vault::{
    ConsentInput, ConsentRequestMeta, DecisionRequest, EventBatch, EventInput, IdentifierInput,
    Principal, SubjectInput,
};
use vern_server::{AppState, ServerConfig, Vault, ensure_initial_admin_token};
use vern_store::{SqlStore, Store};

const CLIENTS: usize = 64;
const SUBJECTS: usize = 640;

fn grant(action: &str) -> ConsentInput {
    ConsentInput {
        scope: "marketing_email".into(),
        channel: Some("email".into()),
        action: action.into(),
        method: "api".into(),
        collection_point: "bench".into(),
        language: None,
        unsubscribe: false,
    }
}

fn main() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(run());
}

async fn run() {
    let dir = std::env::temp_dir().join(format!("vern-bench-{}", Uuid::new_v4()));
    let mut store = SqlStore::open_dir(&dir).await.unwrap();
    store.migrate().await.unwrap();
    if std::env::var("VERN_BENCH_NO_GROUP_COMMIT").is_ok() {
        store = store.without_group_commit();
    }
    let vault = Arc::new(
        Vault::open(
            store,
            Arc::new(Policy::bundled().unwrap()),
            MasterKey::generate(),
            Vec::new(),
            Arc::new(SystemClock),
        )
        .await
        .unwrap(),
    );
    if std::env::var("VERN_BENCH_NO_CACHE").is_err() {
        tokio::spawn(vault.cache_poller());
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
    let who = Principal::cli_admin();
    let mut ids = Vec::new();
    for i in 0..SUBJECTS {
        let input = SubjectInput {
            subject_type: "lead".into(),
            jurisdiction: None,
            identifiers: vec![IdentifierInput {
                kind: "email".into(),
                value: format!("bench{i}@example.com"),
            }],
            records: vec![],
        };
        ids.push(vault.create_subject(&who, &input).await.unwrap().subject.id);
    }

    let only = std::env::var("VERN_BENCH_ONLY").unwrap_or_default();
    let part = |name: &str| only.is_empty() || only == name;

    // 1. Durable consent writes, 64 clients, alternating grant/withdraw per subject.
    let per_client = if part("writes") { 100 } else { 0 };
    let started = Instant::now();
    let mut tasks = Vec::new();
    for c in 0..CLIENTS {
        let (vault, who) = (vault.clone(), who.clone());
        let mine: Vec<Uuid> = ids.iter().copied().skip(c).step_by(CLIENTS).collect();
        tasks.push(tokio::spawn(async move {
            for n in 0..per_client {
                let subject = mine[n % mine.len()];
                let action = if (n / mine.len()).is_multiple_of(2) {
                    "granted"
                } else {
                    "withdrawn"
                };
                vault
                    .record_consent(
                        &who,
                        subject,
                        &grant(action),
                        &ConsentRequestMeta::default(),
                    )
                    .await
                    .unwrap();
            }
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    let writes = (CLIENTS * per_client) as f64;
    let secs = started.elapsed().as_secs_f64();
    if part("writes") {
        println!(
            "consent writes (SQLite, {CLIENTS} clients): {:.0}/s ({writes} in {secs:.2}s)",
            writes / secs
        );
    }
    // Leave every subject granted for the decision runs.
    for id in &ids {
        vault
            .record_consent(&who, *id, &grant("granted"), &ConsentRequestMeta::default())
            .await
            .unwrap();
    }

    // 2. HTTP single decisions.
    let token = ensure_initial_admin_token(&vault).await.unwrap().unwrap();
    let state = AppState::from_arc(vault.clone(), ServerConfig::default());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/v1/decisions", listener.local_addr().unwrap());
    tokio::spawn(vern_server::serve(listener, state, std::future::pending()));
    let client = reqwest::Client::new();
    let deadline = Instant::now() + Duration::from_secs(if part("http") { 5 } else { 0 });
    let mut tasks = Vec::new();
    for c in 0..CLIENTS {
        let (client, url, token, ids) = (client.clone(), url.clone(), token.clone(), ids.clone());
        tasks.push(tokio::spawn(async move {
            let mut lat = Vec::new();
            let mut n = c;
            while Instant::now() < deadline {
                let body = json!({"subject_id": ids[n % ids.len()], "purpose": "marketing.send",
                                  "channel": "email", "message_class": "newsletter"});
                let t = Instant::now();
                let r = client
                    .post(&url)
                    .bearer_auth(&token)
                    .json(&body)
                    .send()
                    .await
                    .unwrap();
                assert!(r.status().is_success());
                let _ = r.bytes().await.unwrap();
                lat.push(t.elapsed());
                n += CLIENTS;
            }
            lat
        }));
    }
    let mut lat: Vec<Duration> = Vec::new();
    for t in tasks {
        lat.extend(t.await.unwrap());
    }
    lat.sort();
    if lat.is_empty() {
        lat.push(Duration::ZERO);
    }
    let pct = |p: f64| lat[((lat.len() as f64 * p) as usize).min(lat.len() - 1)];
    if part("http") {
        println!(
            "HTTP single decisions ({CLIENTS} clients): {:.0}/s, p50 {:?}, p99 {:?}",
            lat.len() as f64 / 5.0,
            pct(0.50),
            pct(0.99)
        );
    }

    if !part("bulk") && !part("events") {
        return;
    }
    // 3. Bulk decisions through the vault.
    let reqs: Vec<DecisionRequest> = (0..100_000)
        .map(|i| DecisionRequest {
            subject_id: None,
            identifier: Some(IdentifierInput {
                kind: "email".into(),
                value: format!("bench{}@example.com", i % (SUBJECTS * 2)),
            }),
            purpose: "marketing.send".into(),
            channel: Some("email".into()),
            message_class: Some("newsletter".into()),
        })
        .collect();
    vault.decide_bulk(&who, &reqs).await.unwrap();
    let t = Instant::now();
    let out = vault.decide_bulk(&who, &reqs).await.unwrap();
    println!(
        "bulk decisions (vault, one call of {}): {:.0}/s",
        out.len(),
        out.len() as f64 / t.elapsed().as_secs_f64()
    );

    // 4. Event ingestion over 100 consenting subjects.
    for id in ids.iter().take(100) {
        for scope in ["marketing_profiling", "cookies_marketing"] {
            let input = ConsentInput {
                scope: scope.into(),
                channel: None,
                ..grant("granted")
            };
            vault
                .record_consent(&who, *id, &input, &ConsentRequestMeta::default())
                .await
                .unwrap();
        }
    }
    let batch = EventBatch {
        purpose: "marketing.profiling".into(),
        events: (0..1_000)
            .map(|i| EventInput {
                subject_id: ids[i % 100],
                kind: "page_view".into(),
                topic: Some(format!("topic{}", i % 7)),
                channel: Some("website".into()),
                at: None,
                ip: Some("198.51.100.23".into()),
            })
            .collect(),
    };
    let t = Instant::now();
    let rounds: usize = std::env::var("VERN_BENCH_EVENT_ROUNDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(50);
    for _ in 0..rounds {
        let s = vault.ingest_events(&who, &batch, false).await.unwrap();
        assert_eq!(s.accepted, 1_000);
    }
    println!(
        "event ingestion (batches of 1,000): {:.0} events/s",
        (rounds * 1_000) as f64 / t.elapsed().as_secs_f64()
    );
    let _ = std::fs::remove_dir_all(&dir);
}
