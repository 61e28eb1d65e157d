//! Crash safety: `vern serve` (SQLite) runs as a child process under concurrent load and is
//! killed with SIGKILL at random points, restarted on the same data, again and again; after the
//! last restart the invariants are checked:
//!
//! 1. consent: every acknowledged event is in the ledger, the ledger chain verifies and the
//!    projection equals a replay of the ledger;
//! 2. subjects, requests and disclosures: every acknowledged one is there, and no subject is
//!    half-written (its key, identifier and records all there, and no key without a subject);
//! 3. a retention sweep killed repeatedly: evidence always equals what is gone, the sweep
//!    completes after the restarts, and no record is deleted twice;
//! 4. mail jobs: each queued message's job completes once, every message arrives, and a
//!    repeated delivery (killed after sending, before marking sent) carries the same Message-ID;
//! 5. in every scenario, `vern audit verify` reports the audit chain intact.
//!
//! Kills per scenario: `VERN_CRASH_KILLS` (default 3, for CI; run locally with 20). The kill
//! points come from a seeded RNG: the seed is printed, and `VERN_CRASH_SEED=<seed>` replays it.
//! Retention records: `VERN_CRASH_RECORDS` (default 40,000; 200,000 locally).

use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use tokio::task::JoinHandle;
use uuid::Uuid;
use vern_core::ids::DEFAULT_TENANT;
use vern_store::jobs::state;
use vern_store::{ConsentStore, JobStore, RetentionStore, SqlStore};

use crate::support::{DataDir, Server, code, stderr, stdout};

use crate::serve_nodes::smtp_sink;

/// splitmix64: small, seeded, good enough for kill points.
pub struct Rng(u64);

impl Rng {
    pub fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `lo..=hi`.
    pub fn between(&mut self, lo: u64, hi: u64) -> u64 {
        lo + self.next() % (hi - lo + 1)
    }
}

fn env_u64(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// Kills per scenario.
pub fn kills() -> usize {
    env_u64("VERN_CRASH_KILLS", 3) as usize
}

/// Acknowledged writes, filled by the load tasks.
type Acked<T> = Arc<Mutex<Vec<T>>>;

/// One scenario's data directory, admin token, RNG and kill loop.
pub struct Harness {
    pub name: &'static str,
    pub dir: DataDir,
    /// The PostgreSQL database, when the scenario runs on one (else SQLite in `dir`).
    pub database: Option<String>,
    flags: Vec<String>,
    pub token: String,
    pub rng: Rng,
    pub seed: u64,
    pub client: reqwest::Client,
    pub kills: usize,
    began: Instant,
}

impl Harness {
    /// Starts `vern serve` on `dir` for the first time (it prints the admin token).
    pub fn new(name: &'static str, dir: DataDir, flags: &[&str]) -> (Harness, Server) {
        Self::on(name, dir, None, flags)
    }

    /// As [`Harness::new`], on the PostgreSQL database `database` when given.
    pub fn on(
        name: &'static str,
        dir: DataDir,
        database: Option<String>,
        flags: &[&str],
    ) -> (Harness, Server) {
        let seed = std::env::var("VERN_CRASH_SEED")
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or_else(|| {
                std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .unwrap()
                    .as_nanos() as u64
            });
        eprintln!("crash::{name}: seed {seed} (VERN_CRASH_SEED={seed} replays the kill points)");
        let mut flags: Vec<String> = flags.iter().map(|s| s.to_string()).collect();
        if let Some(url) = &database {
            flags.extend(["--database".to_owned(), url.clone()]);
        }
        let refs: Vec<&str> = flags.iter().map(String::as_str).collect();
        let server = Server::start(&dir, &refs);
        let token = server
            .token
            .clone()
            .expect("the first start prints the admin token");
        let client = reqwest::Client::builder()
            .timeout(Duration::from_secs(600))
            .build()
            .unwrap();
        let h = Harness {
            name,
            dir,
            database,
            flags,
            token,
            rng: Rng(seed),
            seed,
            client,
            kills: 0,
            began: Instant::now(),
        };
        (h, server)
    }

    /// `vern serve` on the same data again.
    pub fn start(&self) -> Server {
        let refs: Vec<&str> = self.flags.iter().map(String::as_str).collect();
        Server::start(&self.dir, &refs)
    }

    /// `kills()` crash cycles: start, run `load` (it spawns tasks that write until the server
    /// goes), SIGKILL after a random delay in `window` (ms), wait for the tasks, and
    /// `after_kill` (checks on the dead server's data). Returns the delays.
    pub async fn crash_cycles<L, A, F>(
        &mut self,
        window: (u64, u64),
        load: L,
        after_kill: A,
    ) -> Vec<u64>
    where
        L: FnMut(usize, String) -> Vec<JoinHandle<()>>,
        A: FnMut(usize, &DataDir) -> F,
        F: std::future::Future<Output = ()>,
    {
        self.crash_cycles_after(window, load, |_| async {}, after_kill)
            .await
    }

    /// As [`Harness::crash_cycles`], with the random delay counted from when `ready` returns
    /// (e.g. once the load has made progress).
    pub async fn crash_cycles_after<L, R, RF, A, F>(
        &mut self,
        window: (u64, u64),
        mut load: L,
        mut ready: R,
        mut after_kill: A,
    ) -> Vec<u64>
    where
        L: FnMut(usize, String) -> Vec<JoinHandle<()>>,
        R: FnMut(&DataDir) -> RF,
        RF: std::future::Future<Output = ()>,
        A: FnMut(usize, &DataDir) -> F,
        F: std::future::Future<Output = ()>,
    {
        let mut delays = Vec::new();
        for cycle in 0..kills() {
            let server = self.start();
            let tasks = load(cycle, server.base.clone());
            ready(&self.dir).await;
            let delay = self.rng.between(window.0, window.1);
            tokio::time::sleep(Duration::from_millis(delay)).await;
            server.stop(); // SIGKILL
            self.kills += 1;
            delays.push(delay);
            for t in tasks {
                tokio::time::timeout(Duration::from_secs(60), t)
                    .await
                    .expect("a load task hung after the kill")
                    .unwrap();
            }
            after_kill(cycle, &self.dir).await;
        }
        delays
    }

    /// Prints the figures for the report.
    pub fn report(&self, what: &str) {
        eprintln!(
            "crash::{}: {} kills in {:.1} s (seed {}); {what}",
            self.name,
            self.kills,
            self.began.elapsed().as_secs_f64(),
            self.seed
        );
    }

    pub async fn store(&self) -> SqlStore {
        match &self.database {
            Some(url) => SqlStore::open_url(url).await.unwrap(),
            None => SqlStore::open_dir(std::path::Path::new(&self.dir.data()))
                .await
                .unwrap(),
        }
    }

    /// `vern ARGS` on this scenario's data.
    pub fn vern(&self, args: &[&str]) -> std::process::Output {
        let mut all: Vec<&str> = args.to_vec();
        if let Some(url) = &self.database {
            all.extend(["--database", url.as_str()]);
        }
        self.dir.vern(&all)
    }

    /// `col` (bytes) as lower-case hex in this backend's SQL.
    pub fn hex_sql(&self, col: &str) -> String {
        match self.database {
            Some(_) => format!("encode({col}, 'hex')"),
            None => format!("lower(hex({col}))"),
        }
    }

    /// The audit chain verifies (`vern audit verify`), and so does the consent ledger.
    pub async fn assert_chains(&self) -> (String, u64) {
        let out = self.vern(&["audit", "verify"]);
        assert_eq!(code(&out), 0, "{}{}", stdout(&out), stderr(&out));
        let store = self.store().await;
        let consent = store
            .verify_consent_chain(DEFAULT_TENANT)
            .await
            .unwrap()
            .unwrap_or_else(|b| panic!("consent ledger broken: {b:?}"));
        store.close().await;
        (stdout(&out).trim().to_owned(), consent)
    }
}

/// Writes until the server is gone: `step(n)` returns `false` (a failed request) to stop.
fn until_gone<F, Fut>(mut step: F) -> JoinHandle<()>
where
    F: FnMut(u64) -> Fut + Send + 'static,
    Fut: std::future::Future<Output = bool> + Send,
{
    tokio::spawn(async move {
        let mut n = 0u64;
        while step(n).await {
            n += 1;
        }
    })
}

/// A 2xx answer's JSON body, or `None` (connection gone, or not acknowledged).
async fn acked_json(sent: Result<reqwest::Response, reqwest::Error>) -> Option<Value> {
    let r = sent.ok()?;
    if !r.status().is_success() {
        let status = r.status();
        // Not acknowledged is fine (it must then not be relied on); a 5xx while the server
        // is up is worth seeing.
        if status.is_server_error() {
            eprintln!("unexpected {status}: {:?}", r.text().await);
        }
        return None;
    }
    r.json::<Value>().await.ok()
}

fn hex(id: &str) -> String {
    Uuid::parse_str(id).unwrap().simple().to_string()
}

async fn texts(store: &SqlStore, sql: &str, keys: bool) -> Vec<String> {
    store.fetch_text_for_tests(sql, keys).await.unwrap()
}

/// A lead with one identifier and two records, written in one call.
fn lead(email: &str) -> Value {
    json!({
        "subject_type": "lead",
        "jurisdiction": "NO",
        "identifiers": [{"kind": "email", "value": email}],
        "records": [
            {"category": "contact.email.work_named", "value": email, "source": "direct",
             "purposes": ["marketing.send"], "legal_basis": "legitimate_interest"},
            {"category": "identity.name", "value": "Crash Test", "source": "direct",
             "purposes": ["marketing.send"]}
        ]
    })
}

/// Creates `n` leads before the kills start; their ids.
async fn create_leads(h: &Harness, server: &Server, prefix: &str, n: usize) -> Vec<String> {
    let mut ids = Vec::with_capacity(n);
    for i in 0..n {
        let v = acked_json(
            h.client
                .post(format!("{}/v1/subjects", server.base))
                .bearer_auth(&h.token)
                .json(&lead(&format!("{prefix}{i}@example.com")))
                .send()
                .await,
        )
        .await
        .expect("subject created");
        ids.push(v["id"].as_str().unwrap().to_owned());
    }
    ids
}

// ---------------------------------------------------------------------------------------------
// 1. Consent

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn consent_writes_survive_repeated_kill_9() {
    let (h, first) = Harness::new("consent", DataDir::new(), &["--no-jobs"]);
    consent_scenario(h, first).await;
}

async fn consent_scenario(mut h: Harness, first: Server) {
    let subjects = create_leads(&h, &first, "consent", 16).await;
    first.stop();

    let acked: Acked<String> = Arc::default();
    let (client, token) = (h.client.clone(), h.token.clone());
    let subjects2 = subjects.clone();
    let acked2 = acked.clone();
    let delays = h
        .crash_cycles(
            (150, 1500),
            move |cycle, base| {
                (0..16)
                    .map(|w| {
                        let (client, token, base, acked) =
                            (client.clone(), token.clone(), base.clone(), acked2.clone());
                        let subject = subjects2[(w + cycle) % subjects2.len()].clone();
                        until_gone(move |n| {
                            let (client, token, base, acked, subject) = (
                                client.clone(),
                                token.clone(),
                                base.clone(),
                                acked.clone(),
                                subject.clone(),
                            );
                            async move {
                                let action = if (n + w as u64).is_multiple_of(2) {
                                    "granted"
                                } else {
                                    "withdrawn"
                                };
                                let scope = if n % 3 == 0 {
                                    "marketing_sms"
                                } else {
                                    "marketing_email"
                                };
                                let sent = client
                                    .post(format!("{base}/v1/subjects/{subject}/consents"))
                                    .bearer_auth(&token)
                                    .json(&json!({"scope": scope, "action": action,
                                                  "method": "api", "collection_point": "crash"}))
                                    .send()
                                    .await;
                                let Some(v) = acked_json(sent).await else {
                                    return false;
                                };
                                let mut ids = acked.lock().unwrap();
                                for e in v["events"].as_array().unwrap() {
                                    ids.push(e["id"].as_str().unwrap().to_owned());
                                }
                                true
                            }
                        })
                    })
                    .collect()
            },
            |_, _| async {},
        )
        .await;

    // After the last restart: every acknowledged event is in a history.
    let server = h.start();
    let acked: BTreeSet<String> = acked.lock().unwrap().iter().cloned().collect();
    let mut stored = BTreeSet::new();
    for s in &subjects {
        let v = acked_json(
            h.client
                .get(format!("{}/v1/subjects/{s}/consents/history", server.base))
                .bearer_auth(&h.token)
                .send()
                .await,
        )
        .await
        .unwrap();
        for e in v.as_array().unwrap() {
            assert!(stored.insert(e["id"].as_str().unwrap().to_owned()));
        }
    }
    server.stop();
    let missing: Vec<_> = acked.difference(&stored).collect();
    assert!(
        missing.is_empty(),
        "{} of {} acknowledged consent events lost (seed {}): {missing:?}",
        missing.len(),
        acked.len(),
        h.seed
    );
    assert!(!acked.is_empty(), "no consent write was acknowledged");

    // The ledger chain verifies over every stored event; the projection equals the replay.
    let (audit, chained) = h.assert_chains().await;
    assert_eq!(chained, stored.len() as u64);
    let store = h.store().await;
    for s in &subjects {
        let s = Uuid::parse_str(s).unwrap();
        let history = store.consent_history(DEFAULT_TENANT, s).await.unwrap();
        let mut replay = BTreeMap::new();
        for row in &history {
            let e = &row.event;
            replay.insert(
                (e.scope.clone(), e.channel.clone()),
                (e.action.clone(), e.id, row.seq, e.at, e.expires_at),
            );
        }
        let projection: BTreeMap<_, _> = store
            .consent_state(DEFAULT_TENANT, s)
            .await
            .unwrap()
            .into_iter()
            .map(|r| {
                (
                    (r.scope, r.channel),
                    (r.action, r.event_id, r.seq, r.at, r.expires_at),
                )
            })
            .collect();
        assert_eq!(
            projection, replay,
            "projection of {s} differs from its ledger"
        );
    }
    store.close().await;
    h.report(&format!(
        "{} consent events acknowledged, {} in the ledger, chain ok; {audit}; kill delays (ms) {delays:?}",
        acked.len(),
        stored.len()
    ));
}

// ---------------------------------------------------------------------------------------------
// 2. Subjects, requests, disclosures

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn subjects_requests_and_disclosures_are_whole_after_repeated_kill_9() {
    let (h, first) = Harness::new("subjects", DataDir::new(), &["--no-jobs"]);
    subjects_scenario(h, first).await;
}

async fn subjects_scenario(mut h: Harness, first: Server) {
    // Subjects to disclose.
    let pool = create_leads(&h, &first, "pool", 8).await;
    first.stop();

    let subjects: Acked<String> = Arc::default();
    let requests: Acked<String> = Arc::default();
    let disclosures: Acked<(String, String)> = Arc::default();
    let (client, token) = (h.client.clone(), h.token.clone());
    let (s2, r2, d2, pool2) = (
        subjects.clone(),
        requests.clone(),
        disclosures.clone(),
        pool.clone(),
    );
    let delays = h
        .crash_cycles(
            (150, 1500),
            move |cycle, base| {
                let mut tasks = Vec::new();
                for w in 0..4 {
                    let (client, token, base, acked) =
                        (client.clone(), token.clone(), base.clone(), s2.clone());
                    tasks.push(until_gone(move |n| {
                        let (client, token, base, acked) =
                            (client.clone(), token.clone(), base.clone(), acked.clone());
                        async move {
                            let email = format!("c{cycle}w{w}n{n}@example.com");
                            let sent = client
                                .post(format!("{base}/v1/subjects"))
                                .bearer_auth(&token)
                                .json(&lead(&email))
                                .send()
                                .await;
                            let Some(v) = acked_json(sent).await else {
                                return false;
                            };
                            acked
                                .lock()
                                .unwrap()
                                .push(v["id"].as_str().unwrap().to_owned());
                            true
                        }
                    }));
                }
                for _ in 0..2 {
                    let (client, token, base, acked) =
                        (client.clone(), token.clone(), base.clone(), r2.clone());
                    tasks.push(until_gone(move |_| {
                        let (client, token, base, acked) =
                            (client.clone(), token.clone(), base.clone(), acked.clone());
                        async move {
                            let sent = client
                                .post(format!("{base}/v1/requests"))
                                .bearer_auth(&token)
                                .json(&json!({"rights": ["access"], "lang": "en",
                                    "channel": "phone",
                                    "identifiers": [{"kind": "phone", "value": "+47 912 34 567"}],
                                    "staff_verification": "called back on the number on file"}))
                                .send()
                                .await;
                            let Some(v) = acked_json(sent).await else {
                                return false;
                            };
                            acked
                                .lock()
                                .unwrap()
                                .push(v["id"].as_str().unwrap().to_owned());
                            true
                        }
                    }));
                }
                for w in 0..2 {
                    let (client, token, base, acked, pool) = (
                        client.clone(),
                        token.clone(),
                        base.clone(),
                        d2.clone(),
                        pool2.clone(),
                    );
                    tasks.push(until_gone(move |n| {
                        let (client, token, base, acked) =
                            (client.clone(), token.clone(), base.clone(), acked.clone());
                        let subject = pool[(n as usize * 2 + w) % pool.len()].clone();
                        async move {
                            let sent = client
                                .post(format!("{base}/v1/disclosures"))
                                .bearer_auth(&token)
                                .json(&json!({"recipient": "group.confect_sverige",
                                    "subjects": [subject], "categories": ["contact.email"],
                                    "purpose": "group.internal_admin", "mechanism": "sync"}))
                                .send()
                                .await;
                            let Some(v) = acked_json(sent).await else {
                                return false;
                            };
                            acked
                                .lock()
                                .unwrap()
                                .push((subject, v["disclosure_id"].as_str().unwrap().to_owned()));
                            true
                        }
                    }));
                }
                tasks
            },
            |_, _| async {},
        )
        .await;

    let subjects = subjects.lock().unwrap().clone();
    let requests = requests.lock().unwrap().clone();
    let disclosures = disclosures.lock().unwrap().clone();
    assert!(!subjects.is_empty() && !requests.is_empty() && !disclosures.is_empty());

    // Over the API: every acknowledged subject (with its two records), request, disclosure.
    let server = h.start();
    let get = |path: String| {
        let (client, token, base) = (h.client.clone(), h.token.clone(), server.base.clone());
        async move {
            let r = client
                .get(format!("{base}{path}"))
                .bearer_auth(&token)
                .send()
                .await
                .unwrap();
            assert_eq!(r.status(), 200, "GET {path}");
            r.json::<Value>().await.unwrap()
        }
    };
    for s in &subjects {
        let records = get(format!("/v1/subjects/{s}/records")).await;
        let n = records
            .as_array()
            .or_else(|| records["items"].as_array())
            .map(Vec::len);
        assert_eq!(n, Some(2), "acknowledged subject {s}: {records}");
    }
    for r in &requests {
        let v = get(format!("/v1/requests/{r}")).await;
        assert_eq!(v["id"].as_str(), Some(r.as_str()));
    }
    let mut by_subject: BTreeMap<&str, BTreeSet<String>> = BTreeMap::new();
    for s in &pool {
        let v = get(format!("/v1/subjects/{s}/disclosures")).await;
        by_subject.insert(
            s.as_str(),
            v.as_array()
                .unwrap()
                .iter()
                .map(|d| d["disclosure_id"].as_str().unwrap().to_owned())
                .collect(),
        );
    }
    for (s, d) in &disclosures {
        assert!(
            by_subject[s.as_str()].contains(d),
            "acknowledged disclosure {d} of {s} lost (seed {})",
            h.seed
        );
    }
    server.stop();

    // In the store: no half-written subject. Each has its key, its identifier and both records;
    // no key is left without its subject.
    let store = h.store().await;
    let keys_sql = format!("SELECT {} FROM subject_keys", h.hex_sql("subject_id"));
    let in_data: BTreeSet<String> = texts(
        &store,
        &format!("SELECT {} FROM subjects", h.hex_sql("id")),
        false,
    )
    .await
    .into_iter()
    .collect();
    let keys: BTreeSet<String> = texts(&store, &keys_sql, true).await.into_iter().collect();
    let shape: BTreeMap<String, String> = texts(
        &store,
        &format!(
            "SELECT {} || ' ' || \
             CAST((SELECT COUNT(*) FROM records r WHERE r.subject_id = s.id) AS TEXT) || ' ' || \
             CAST((SELECT COUNT(*) FROM identifiers i WHERE i.subject_id = s.id) AS TEXT) \
             FROM subjects s",
            h.hex_sql("s.id")
        ),
        false,
    )
    .await
    .into_iter()
    .map(|l| {
        let (id, rest) = l.split_once(' ').unwrap();
        (id.to_owned(), rest.to_owned())
    })
    .collect();
    store.close().await;
    for s in &subjects {
        assert!(in_data.contains(&hex(s)), "acknowledged subject {s} lost");
    }
    let without_key: Vec<_> = in_data.difference(&keys).collect();
    assert!(
        without_key.is_empty(),
        "subjects without a key: {without_key:?}"
    );
    for (id, counts) in &shape {
        assert_eq!(
            counts, "2 1",
            "subject {id} is half-written (records, identifiers)"
        );
    }
    // A create killed between its key commit and its data commit leaves a key without a
    // subject: it sealed nothing kept, and `vern keys prune` deletes exactly those.
    let key_only: BTreeSet<String> = keys.difference(&in_data).cloned().collect();
    let dry = h.vern(&["keys", "prune", "--min-age-secs", "0", "--dry-run"]);
    assert_eq!(code(&dry), 0, "{}", stderr(&dry));
    assert!(
        stdout(&dry).starts_with(&format!(
            "{} subject keys without a subject",
            key_only.len()
        )),
        "{} (expected {key_only:?})",
        stdout(&dry)
    );
    let pruned = h.vern(&["keys", "prune", "--min-age-secs", "0"]);
    assert_eq!(code(&pruned), 0, "{}", stderr(&pruned));
    let store = h.store().await;
    let keys_after: BTreeSet<String> = texts(&store, &keys_sql, true).await.into_iter().collect();
    store.close().await;
    assert_eq!(
        keys_after, in_data,
        "after the prune: one key per subject, no other"
    );
    let (audit, _) = h.assert_chains().await;
    h.report(&format!(
        "{} subjects ({} in the store), {} requests, {} disclosures acknowledged, all whole; \
         {} keys without a subject pruned; {audit}; kill delays (ms) {delays:?}",
        subjects.len(),
        in_data.len(),
        requests.len(),
        disclosures.len(),
        key_only.len()
    ));
}

// ---------------------------------------------------------------------------------------------
// The same two scenarios on PostgreSQL (`VERN_TEST_POSTGRES_URL`; skipped without it outside CI)

/// A fresh database on the test server; `None` (skip) without `VERN_TEST_POSTGRES_URL`.
async fn fresh_postgres() -> Option<(SqlStore, String, String)> {
    let admin_url = match std::env::var("VERN_TEST_POSTGRES_URL") {
        Ok(url) if !url.is_empty() => url,
        _ if std::env::var_os("CI").is_some() => {
            panic!("CI is set but VERN_TEST_POSTGRES_URL is not: the PostgreSQL tests must run")
        }
        _ => {
            eprintln!("VERN_TEST_POSTGRES_URL not set: skipping a PostgreSQL test");
            return None;
        }
    };
    let name = format!("t_{}", Uuid::new_v4().simple());
    let admin = SqlStore::open_url(&admin_url).await.unwrap();
    admin
        .execute_raw_for_tests(&format!("CREATE DATABASE {name}"))
        .await
        .unwrap();
    let (base, query) = admin_url.split_once('?').unwrap_or((&admin_url, ""));
    let url = format!("{}/{name}?{query}", base.rsplit_once('/').unwrap().0);
    Some((admin, name, url))
}

async fn drop_postgres(admin: SqlStore, name: &str) {
    let _ = admin
        .execute_raw_for_tests(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        .await;
    admin.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_consent_writes_survive_repeated_kill_9() {
    let Some((admin, name, url)) = fresh_postgres().await else {
        return;
    };
    let (h, first) = Harness::on("pg_consent", DataDir::new(), Some(url), &["--no-jobs"]);
    consent_scenario(h, first).await;
    drop_postgres(admin, &name).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_subjects_requests_and_disclosures_are_whole_after_repeated_kill_9() {
    let Some((admin, name, url)) = fresh_postgres().await else {
        return;
    };
    let (h, first) = Harness::on("pg_subjects", DataDir::new(), Some(url), &["--no-jobs"]);
    subjects_scenario(h, first).await;
    drop_postgres(admin, &name).await;
}

// ---------------------------------------------------------------------------------------------
// 3. Retention sweep

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_retention_sweep_killed_repeatedly_deletes_each_record_once() {
    use crate::retention_scale::{count, prepared};
    let n = env_u64("VERN_CRASH_RECORDS", 40_000);
    let dir = prepared(n, 1_000).await;
    let (mut h, first) = Harness::new("retention", dir, &["--no-jobs"]);
    first.stop();

    let (client, token) = (h.client.clone(), h.token.clone());
    let runs: Acked<u64> = Arc::default();
    let runs2 = runs.clone();
    let progress: Acked<(u64, u64)> = Arc::default();
    let progress2 = progress.clone();
    let delays = h
        .crash_cycles_after(
            (0, 1500),
            move |_, base| {
                let (client, token, runs) = (client.clone(), token.clone(), runs2.clone());
                vec![tokio::spawn(async move {
                    // A sweep now, over the API; it runs until done or killed (again after a
                    // 503: the request timeout cut it off, its committed batches stay).
                    loop {
                        let Ok(r) = client
                            .post(format!("{base}/v1/retention/run"))
                            .bearer_auth(&token)
                            .json(&json!({}))
                            .send()
                            .await
                        else {
                            return;
                        };
                        if r.status() == 503 {
                            continue;
                        }
                        if let Ok(v) = r.json::<Value>().await {
                            runs.lock().unwrap().push(v["deleted"].as_u64().unwrap());
                        }
                        return;
                    }
                })]
            },
            // The kill delay counts from the sweep's next committed batch (or its end), so
            // every cycle moves it on and the kill lands at a random point after that.
            move |dir| {
                let data = dir.data();
                async move {
                    let store = SqlStore::open_dir(std::path::Path::new(&data))
                        .await
                        .unwrap();
                    let start = store.evidence_total(DEFAULT_TENANT).await.unwrap();
                    let deadline = Instant::now() + Duration::from_secs(120);
                    while Instant::now() < deadline
                        && store.evidence_total(DEFAULT_TENANT).await.unwrap() == start
                        && count(&store, "records").await > 0
                    {
                        tokio::time::sleep(Duration::from_millis(20)).await;
                    }
                    store.close().await;
                }
            },
            move |_, dir| {
                let progress = progress2.clone();
                let data = dir.data();
                async move {
                    // After each kill: the evidence says exactly what is gone.
                    let store = SqlStore::open_dir(std::path::Path::new(&data))
                        .await
                        .unwrap();
                    let evidence = store.evidence_total(DEFAULT_TENANT).await.unwrap();
                    let left = count(&store, "records").await;
                    store.close().await;
                    assert_eq!(
                        evidence + left,
                        n,
                        "evidence {evidence} + left {left} != {n}"
                    );
                    progress.lock().unwrap().push((evidence, left));
                }
            },
        )
        .await;

    // The last restart finishes the sweep. A sweep longer than the server's request timeout
    // (30 s) is cut off with a 503 (its committed batches stay): ask again until one completes.
    let server = h.start();
    let store = h.store().await;
    let left = count(&store, "records").await;
    let mut timeouts = 0;
    let v = loop {
        let r = h
            .client
            .post(format!("{}/v1/retention/run", server.base))
            .bearer_auth(&h.token)
            .json(&json!({}))
            .send()
            .await
            .unwrap();
        if r.status() == 503 && timeouts < 50 {
            timeouts += 1;
            let evidence = store.evidence_total(DEFAULT_TENANT).await.unwrap();
            assert_eq!(evidence + count(&store, "records").await, n);
            continue;
        }
        assert_eq!(r.status(), 200, "the final sweep");
        break r.json::<Value>().await.unwrap();
    };
    server.stop();
    if timeouts == 0 {
        assert_eq!(v["deleted"].as_u64(), Some(left), "{v}");
    }
    assert_eq!(count(&store, "records").await, 0);
    assert_eq!(count(&store, "subjects").await, 0);
    assert_eq!(count(&store, "pending_key_shreds").await, 0);
    assert_eq!(store.evidence_total(DEFAULT_TENANT).await.unwrap(), n);
    // One evidence row per subject (each had one record), none twice; each erased once.
    assert_eq!(count(&store, "deletion_evidence").await, n);
    let distinct = texts(
        &store,
        "SELECT CAST(COUNT(DISTINCT subject_id) AS TEXT) FROM deletion_evidence",
        false,
    )
    .await;
    assert_eq!(distinct[0], n.to_string());
    assert_eq!(count(&store, "erasure_ledger").await, n);
    let keys = texts(
        &store,
        "SELECT CAST(COUNT(*) AS TEXT) FROM subject_keys",
        true,
    )
    .await;
    assert_eq!(keys[0], "0", "every erased subject's key is shredded");
    store.close().await;
    let (audit, _) = h.assert_chains().await;
    let progress = progress.lock().unwrap().clone();
    // Cycles in which the sweep committed at least one batch before the kill.
    let advanced = progress
        .iter()
        .scan(0, |before, (e, _)| {
            let moved = *e > *before;
            *before = *e;
            Some(moved)
        })
        .filter(|&m| m)
        .count();
    h.report(&format!(
        "{n} records; evidence after each kill {:?}; the sweep advanced in {advanced} of the cycles; \
         sweeps completed before a kill {:?}; {left} left at the last restart, swept in \
         {} requests ({timeouts} cut off by the request timeout); {audit}; \
         kill delays (ms) {delays:?}",
        progress.iter().map(|p| p.0).collect::<Vec<_>>(),
        runs.lock().unwrap(),
        timeouts + 1
    ));
}

// ---------------------------------------------------------------------------------------------
// 4. Mail jobs

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mail_jobs_complete_once_across_repeated_kill_9() {
    let Some(sink) = smtp_sink::SmtpSink::start() else {
        return;
    };
    let smtp = sink.url();
    let (mut h, first) = Harness::new(
        "mail_jobs",
        DataDir::new(),
        &[
            "--smtp-url",
            &smtp,
            "--job-poll-ms",
            "20",
            "--sweep-every-hours",
            "0",
        ],
    );
    first.stop();

    // (outbox id, recipient) of every acknowledged (202) message.
    let acked: Acked<(String, String)> = Arc::default();
    let (client, token, acked2) = (h.client.clone(), h.token.clone(), acked.clone());
    let delays = h
        .crash_cycles(
            (200, 2000),
            move |cycle, base| {
                (0..2)
                    .map(|w| {
                        let (client, token, base, acked) =
                            (client.clone(), token.clone(), base.clone(), acked2.clone());
                        until_gone(move |n| {
                            let (client, token, base, acked) =
                                (client.clone(), token.clone(), base.clone(), acked.clone());
                            async move {
                                let to = format!("m{cycle}w{w}n{n}@example.com");
                                let sent = client
                                    .post(format!("{base}/v1/outbox/test"))
                                    .bearer_auth(&token)
                                    .json(&json!({"to": to}))
                                    .send()
                                    .await;
                                let Some(v) = acked_json(sent).await else {
                                    return false;
                                };
                                acked
                                    .lock()
                                    .unwrap()
                                    .push((v["id"].as_str().unwrap().to_owned(), to));
                                // A steady trickle, so kills land while jobs run.
                                tokio::time::sleep(Duration::from_millis(25)).await;
                                true
                            }
                        })
                    })
                    .collect()
            },
            |_, _| async {},
        )
        .await;
    let acked = acked.lock().unwrap().clone();
    assert!(!acked.is_empty());

    // The last restart drains the queue.
    let server = h.start();
    let store = h.store().await;
    let deadline = Instant::now() + Duration::from_secs(180);
    let jobs = loop {
        let jobs = store.list_jobs(None, 100_000).await.unwrap();
        let open = jobs.iter().filter(|j| j.state != state::DONE).count();
        if open == 0 || Instant::now() > deadline {
            break jobs;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    // One job per queued message, each done; no message has two jobs.
    let mut job_of: BTreeMap<String, usize> = BTreeMap::new();
    let mut attempts_over_one = 0;
    for j in &jobs {
        assert_eq!(j.kind, vern_store::MAIL_SEND_JOB, "{j:?}");
        assert_eq!(j.state, state::DONE, "{j:?}");
        if j.attempts > 1 {
            attempts_over_one += 1;
        }
        let p: Value = serde_json::from_str(&j.payload).unwrap();
        *job_of
            .entry(hex(p["outbox_id"].as_str().unwrap()))
            .or_default() += 1;
    }
    assert!(job_of.values().all(|&c| c == 1), "a message with two jobs");
    for (id, _) in &acked {
        assert_eq!(
            job_of.get(&hex(id)),
            Some(&1),
            "acknowledged message {id} has no job"
        );
    }
    // Every message sent, under the Message-ID of its outbox id.
    for (id, _) in &acked {
        let v = acked_json(
            h.client
                .get(format!("{}/v1/outbox/{id}", server.base))
                .bearer_auth(&h.token)
                .send()
                .await,
        )
        .await
        .unwrap();
        assert_eq!(v["state"], "sent", "{v}");
        assert_eq!(v["message_id"], format!("<{}@vern>", hex(id)), "{v}");
    }
    server.stop();
    store.close().await;

    // Every acknowledged message arrived; a repeat carries the same Message-ID.
    let got = sink.wait_for(job_of.len(), Duration::from_secs(30)).await;
    let mut ids_by_to: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for m in &got {
        ids_by_to
            .entry(m.to.clone())
            .or_default()
            .insert(m.message_id.trim().to_owned());
    }
    for (id, to) in &acked {
        let ids = ids_by_to
            .get(to)
            .unwrap_or_else(|| panic!("no mail to {to}"));
        assert_eq!(
            ids,
            &BTreeSet::from([format!("<{}@vern>", hex(id))]),
            "mail to {to}"
        );
    }
    let distinct: usize = ids_by_to.values().map(BTreeSet::len).sum();
    assert_eq!(distinct, job_of.len(), "one Message-ID per message");
    let repeats = got.len() - distinct;
    let (audit, _) = h.assert_chains().await;
    h.report(&format!(
        "{} messages acknowledged, {} jobs all done once, {} delivered ({repeats} repeated \
         deliveries after a kill, same Message-ID), {attempts_over_one} jobs retried after a \
         kill; {audit}; kill delays (ms) {delays:?}",
        acked.len(),
        jobs.len(),
        got.len()
    ));
}
