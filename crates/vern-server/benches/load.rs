//! HTTP load generator for decisions: a real `vern_server::serve` on loopback (SQLite, the
//! node's decision cache and its poller running) and a keep-alive HTTP/1.1 client written on
//! hyper, each on its own 2-thread runtime, so both share the machine's cores as they would
//! with an external load generator on the same box. Bounded in time.
//!
//! `cargo bench -p vern-server --bench load`
//! Environment: `VERN_LOAD_SECS` (default 10), `VERN_LOAD_CONNS` (default 64),
//! `VERN_LOAD_SUBJECTS` (default 2000), `VERN_LOAD_NO_CACHE=1` (no poller: every decision
//! reads the database, as before the cache), `VERN_LOAD_ONLY=single|bulk`.
//!
//! Prints: single decisions/s with p50/p99/p99.9 latency; bulk decisions/s over HTTP for
//! 100,000 recipients per call as a JSON array and as NDJSON (by subject id and by email), the
//! median of 5 calls each.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::Arc;
use std::time::{Duration, Instant};

use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;
use hyper::{Request, StatusCode};
use hyper_util::rt::TokioIo;
use uuid::Uuid;
use vern_core::crypto::MasterKey;
use vern_core::ids::SystemClock;
use vern_policy::Policy;
use vern_server::vault::{
    ConsentInput, ConsentRequestMeta, IdentifierInput, Principal, SubjectInput,
};
use vern_server::{AppState, ServerConfig, Vault, ensure_initial_admin_token};
use vern_store::{SqlStore, Store};

fn env_num(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// CPU seconds (user + system) this process has used, from `/proc/self/stat`; 0 elsewhere.
/// The machine is shared, so wall-clock rates depend on the neighbours; CPU per request does
/// not, and says what two dedicated cores would sustain.
fn cpu_secs() -> f64 {
    let Ok(stat) = std::fs::read_to_string("/proc/self/stat") else {
        return 0.0;
    };
    // Fields after the command name (which is in parentheses and may contain spaces).
    let Some(rest) = stat.rsplit_once(')').map(|(_, r)| r) else {
        return 0.0;
    };
    let f: Vec<&str> = rest.split_whitespace().collect();
    let ticks = |i: usize| f.get(i).and_then(|v| v.parse::<f64>().ok()).unwrap_or(0.0);
    // utime and stime are fields 14 and 15 of the whole line: 11 and 12 after the name.
    (ticks(11) + ticks(12)) / 100.0
}

fn runtime(threads: usize) -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(threads)
        .enable_all()
        .build()
        .unwrap()
}

struct Setup {
    addr: std::net::SocketAddr,
    token: String,
    ids: Vec<Uuid>,
    dir: std::path::PathBuf,
}

fn main() {
    let secs = env_num("VERN_LOAD_SECS", 10);
    let conns = env_num("VERN_LOAD_CONNS", 64) as usize;
    let subjects = env_num("VERN_LOAD_SUBJECTS", 2000) as usize;
    let cache = std::env::var("VERN_LOAD_NO_CACHE").is_err();
    let only = std::env::var("VERN_LOAD_ONLY").unwrap_or_default();

    let server_rt = runtime(2);
    let setup = server_rt.block_on(start_server(subjects, cache));
    println!(
        "setup: {subjects} subjects (half with marketing_email consent), cache {}",
        if cache { "on" } else { "off" }
    );
    let client_rt = runtime(2);
    if only.is_empty() || only == "single" {
        client_rt.block_on(single(&setup, conns, Duration::from_secs(secs)));
    }
    if only.is_empty() || only == "bulk" {
        client_rt.block_on(bulk(&setup));
    }
    drop(client_rt);
    drop(server_rt);
    let _ = std::fs::remove_dir_all(&setup.dir);
}

async fn start_server(subjects: usize, cache: bool) -> Setup {
    let dir = std::env::temp_dir().join(format!("vern-load-{}", Uuid::new_v4()));
    let store = SqlStore::open_dir(&dir).await.unwrap();
    store.migrate().await.unwrap();
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
    let who = Principal::cli_admin();
    let mut ids = Vec::with_capacity(subjects);
    for i in 0..subjects {
        let input = SubjectInput {
            subject_type: "lead".into(),
            jurisdiction: None,
            identifiers: vec![IdentifierInput {
                kind: "email".into(),
                value: format!("load{i}@example.com"),
            }],
            records: vec![],
        };
        let id = vault.create_subject(&who, &input).await.unwrap().subject.id;
        if i % 2 == 0 {
            let grant = ConsentInput {
                scope: "marketing_email".into(),
                channel: Some("email".into()),
                action: "granted".into(),
                method: "api".into(),
                collection_point: "bench".into(),
                language: None,
                unsubscribe: false,
            };
            vault
                .record_consent(&who, id, &grant, &ConsentRequestMeta::default())
                .await
                .unwrap();
        }
        ids.push(id);
    }
    let token = ensure_initial_admin_token(&vault).await.unwrap().unwrap();
    if cache {
        tokio::spawn(vault.cache_poller());
        // Let the first poll establish trust.
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
    let state = AppState::from_arc(vault, ServerConfig::default());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(vern_server::serve(listener, state, std::future::pending()));
    Setup {
        addr,
        token,
        ids,
        dir,
    }
}

type Sender = hyper::client::conn::http1::SendRequest<Full<Bytes>>;

async fn connect(addr: std::net::SocketAddr) -> Sender {
    let stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    stream.set_nodelay(true).unwrap();
    let (sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
        .await
        .unwrap();
    tokio::spawn(conn);
    sender
}

async fn post(
    sender: &mut Sender,
    setup: &Setup,
    path: &str,
    content_type: &str,
    body: Bytes,
) -> (StatusCode, Bytes) {
    let req = Request::post(path)
        .header("host", setup.addr.to_string())
        .header("authorization", format!("Bearer {}", setup.token))
        .header("content-type", content_type)
        .body(Full::new(body))
        .unwrap();
    sender.ready().await.unwrap();
    let res = sender.send_request(req).await.unwrap();
    let status = res.status();
    let bytes = res.into_body().collect().await.unwrap().to_bytes();
    (status, bytes)
}

async fn single(setup: &Setup, conns: usize, secs: Duration) {
    let bodies: Arc<Vec<Bytes>> = Arc::new(
        setup
            .ids
            .iter()
            .map(|id| {
                Bytes::from(format!(
                    r#"{{"subject_id":"{id}","purpose":"marketing.send","channel":"email","message_class":"newsletter"}}"#
                ))
            })
            .collect(),
    );
    let setup = Arc::new(Setup {
        addr: setup.addr,
        token: setup.token.clone(),
        ids: Vec::new(),
        dir: setup.dir.clone(),
    });
    // Warm-up (fills the cache), then the measured run.
    for (label, dur) in [("warm-up", Duration::from_secs(1)), ("measured", secs)] {
        let deadline = Instant::now() + dur;
        let mut tasks = Vec::new();
        for c in 0..conns {
            let (bodies, setup) = (bodies.clone(), setup.clone());
            tasks.push(tokio::spawn(async move {
                let mut sender = connect(setup.addr).await;
                let mut lat = Vec::with_capacity(100_000);
                let mut n = c;
                while Instant::now() < deadline {
                    let body = bodies[n % bodies.len()].clone();
                    let t = Instant::now();
                    let (status, _) = post(
                        &mut sender,
                        &setup,
                        "/v1/decisions",
                        "application/json",
                        body,
                    )
                    .await;
                    assert_eq!(status, StatusCode::OK);
                    lat.push(t.elapsed());
                    n += conns;
                }
                lat
            }));
        }
        let started = Instant::now();
        let cpu0 = cpu_secs();
        let mut lat: Vec<Duration> = Vec::new();
        for t in tasks {
            lat.extend(t.await.unwrap());
        }
        let elapsed = started.elapsed().as_secs_f64();
        let cpu = cpu_secs() - cpu0;
        if label == "warm-up" {
            continue;
        }
        lat.sort();
        let pct = |p: f64| lat[((lat.len() as f64 * p) as usize).min(lat.len() - 1)];
        println!(
            "HTTP single decisions ({conns} keep-alive connections, {:.0}s): {:.0}/s, p50 {:.2} ms, p99 {:.2} ms, p99.9 {:.2} ms",
            elapsed,
            lat.len() as f64 / elapsed,
            pct(0.50).as_secs_f64() * 1e3,
            pct(0.99).as_secs_f64() * 1e3,
            pct(0.999).as_secs_f64() * 1e3,
        );
        let per = cpu / lat.len() as f64;
        println!(
            "  CPU (server + load generator): {:.1} µs per request, {:.2} cores busy on average; \
             two dedicated cores would sustain about {:.0}/s",
            per * 1e6,
            cpu / elapsed,
            2.0 / per
        );
    }
}

async fn bulk(setup: &Setup) {
    const N: usize = 100_000;
    let n_ids = setup.ids.len();
    let by_id = |i: usize| {
        format!(
            r#"{{"subject_id":"{}","purpose":"marketing.send","channel":"email","message_class":"newsletter"}}"#,
            setup.ids[i % n_ids]
        )
    };
    // Twice as many addresses as subjects: half are nobody's (a lead list).
    let by_email = |i: usize| {
        format!(
            r#"{{"identifier":{{"kind":"email","value":"load{}@example.com"}},"purpose":"marketing.send","channel":"email","message_class":"newsletter"}}"#,
            i % (n_ids * 2)
        )
    };
    let array = |f: &dyn Fn(usize) -> String| {
        let items: Vec<String> = (0..N).map(f).collect();
        Bytes::from(format!("[{}]", items.join(",")))
    };
    let ndjson = |f: &dyn Fn(usize) -> String| {
        let items: Vec<String> = (0..N).map(f).collect();
        Bytes::from(items.join("\n"))
    };
    let cases = [
        (
            "JSON array, by subject id",
            "application/json",
            array(&by_id),
        ),
        (
            "NDJSON, by subject id",
            "application/x-ndjson",
            ndjson(&by_id),
        ),
        ("JSON array, by email", "application/json", array(&by_email)),
        (
            "NDJSON, by email",
            "application/x-ndjson",
            ndjson(&by_email),
        ),
    ];
    let mut sender = connect(setup.addr).await;
    for (label, ct, body) in cases {
        // One call to fill the cache, then five measured.
        let (status, _) = post(&mut sender, setup, "/v1/decisions/bulk", ct, body.clone()).await;
        assert_eq!(status, StatusCode::OK);
        let mut rates = Vec::new();
        let cpu0 = cpu_secs();
        for _ in 0..5 {
            let t = Instant::now();
            let (status, out) =
                post(&mut sender, setup, "/v1/decisions/bulk", ct, body.clone()).await;
            let secs = t.elapsed().as_secs_f64();
            assert_eq!(status, StatusCode::OK);
            assert!(out.len() > N * 50);
            rates.push(N as f64 / secs);
        }
        let cpu_per = (cpu_secs() - cpu0) / (5 * N) as f64;
        rates.sort_by(f64::total_cmp);
        println!(
            "HTTP bulk decisions ({label}, {N} per call, {} MB): median {:.0}/s (min {:.0}, max {:.0}); CPU {:.2} µs per decision",
            body.len() / 1_000_000,
            rates[2],
            rates[0],
            rates[4],
            cpu_per * 1e6
        );
    }
}
