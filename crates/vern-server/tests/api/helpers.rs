//! `spawn_app()`: the real server on `127.0.0.1:0` over a fresh database (a unique SQLite
//! directory, or a fresh PostgreSQL database when `VERN_TEST_POSTGRES_URL` is set), the bundled
//! policy, a random master key and the first-start admin token.

use std::path::PathBuf;
use std::sync::{Arc, Mutex, OnceLock};

use reqwest::{Client, Method, Response, StatusCode};
use serde_json::{Value, json};
use tokio::sync::oneshot;
use uuid::Uuid;
use vern_core::crypto::MasterKey;
use vern_core::ids::SystemClock;
use vern_policy::Policy;
use vern_server::{AppState, ServerConfig, Vault, ensure_initial_admin_token};
use vern_store::{SqlStore, Store};

/// Every role of the bundled policy.
pub const ROLES: [&str; 6] = [
    "admin",
    "dpo",
    "support",
    "marketing",
    "recruiter",
    "service",
];

pub struct TestApp {
    pub address: String,
    pub admin_token: String,
    pub client: Client,
    pub vault: Arc<Vault>,
    /// The SQLite data directory (`None` on PostgreSQL).
    pub data_dir: Option<PathBuf>,
    /// The master key, as hex, for tests that open ciphertext themselves.
    pub master_hex: String,
    pg: Option<(String, String)>,
    shutdown: Option<oneshot::Sender<()>>,
}

#[derive(Default)]
pub struct Options {
    pub policy: Option<Policy>,
    pub config: Option<ServerConfig>,
    /// Tests that read the SQLite files need SQLite even when PostgreSQL is configured.
    pub sqlite: bool,
    /// The vault's clock (default: the system clock); tests that move time pass a `FixedClock`.
    pub clock: Option<Arc<dyn vern_core::ids::Clock>>,
    /// Enables the Helsinki GDPR API with these issuers and scopes.
    pub gdpr_api: Option<vern_server::api::gdpr_api::GdprApiConfig>,
}

pub async fn spawn_app() -> TestApp {
    spawn_app_with(Options::default()).await
}

pub async fn spawn_sqlite_app() -> TestApp {
    spawn_app_with(Options {
        sqlite: true,
        ..Options::default()
    })
    .await
}

pub fn bundled_policy() -> Policy {
    match Policy::bundled() {
        Ok(p) => p,
        Err(d) => panic!("the bundled policy does not load: {d:?}"),
    }
}

/// Everything every test has logged so far, at TRACE, spans included.
pub fn logs() -> String {
    let buf = capture()
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    String::from_utf8_lossy(&buf).into_owned()
}

fn capture() -> &'static Mutex<Vec<u8>> {
    static BUF: OnceLock<&'static Mutex<Vec<u8>>> = OnceLock::new();
    BUF.get_or_init(|| {
        let buf: &'static Mutex<Vec<u8>> = Box::leak(Box::new(Mutex::new(Vec::new())));
        let subscriber = tracing_subscriber::fmt()
            .with_max_level(tracing::Level::TRACE)
            .with_span_events(tracing_subscriber::fmt::format::FmtSpan::FULL)
            .with_ansi(false)
            .with_writer(move || Capture(buf))
            .finish();
        let _ = tracing::subscriber::set_global_default(subscriber);
        buf
    })
}

struct Capture(&'static Mutex<Vec<u8>>);

impl std::io::Write for Capture {
    fn write(&mut self, data: &[u8]) -> std::io::Result<usize> {
        self.0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .extend_from_slice(data);
        Ok(data.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

pub async fn spawn_app_with(options: Options) -> TestApp {
    capture();
    let policy = options.policy.unwrap_or_else(bundled_policy);
    let pg_url = std::env::var("VERN_TEST_POSTGRES_URL")
        .ok()
        .filter(|u| !u.is_empty() && !options.sqlite);
    let (store, data_dir, pg) = match pg_url {
        Some(admin_url) => {
            let name = format!("t_{}", Uuid::new_v4().simple());
            let admin = SqlStore::open_url(&admin_url)
                .await
                .expect("postgres admin");
            admin
                .execute_raw_for_tests(&format!("CREATE DATABASE {name}"))
                .await
                .expect("create test database");
            let url = replace_db(&admin_url, &name);
            let store = SqlStore::open_url(&url).await.expect("open postgres store");
            (store, None, Some((admin_url, name)))
        }
        None => {
            let dir = std::env::temp_dir().join(format!("vern-server-test-{}", Uuid::new_v4()));
            let store = SqlStore::open_dir(&dir).await.expect("open sqlite store");
            (store, Some(dir), None)
        }
    };
    store.migrate().await.expect("migrate");
    let master = MasterKey::generate();
    let master_hex = master.to_hex();
    let vault = Vault::open(
        store,
        Arc::new(policy),
        master,
        Vec::new(),
        options.clock.unwrap_or_else(|| Arc::new(SystemClock)),
    )
    .await
    .expect("open vault");
    let admin_token = ensure_initial_admin_token(&vault)
        .await
        .expect("initial token")
        .expect("an empty database gets an admin token");
    let vault = Arc::new(vault);
    // Every API test runs with the decision cache on, as `vern serve` does.
    tokio::spawn(vault.cache_poller());
    let mut state = AppState::from_arc(vault.clone(), options.config.unwrap_or_default());
    if let Some(g) = options.gdpr_api {
        state = state.with_gdpr_api(g);
    }
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let port = listener.local_addr().expect("addr").port();
    vault.set_public_url(&format!("http://127.0.0.1:{port}"));
    let (tx, rx) = oneshot::channel::<()>();
    tokio::spawn(vern_server::serve(listener, state, async {
        let _ = rx.await;
    }));
    TestApp {
        address: format!("http://127.0.0.1:{port}"),
        admin_token,
        client: Client::new(),
        vault,
        data_dir,
        master_hex,
        pg,
        shutdown: Some(tx),
    }
}

/// `postgres://h/db?x` with the database replaced.
fn replace_db(url: &str, name: &str) -> String {
    let (base, query) = url
        .split_once('?')
        .map_or((url, None), |(b, q)| (b, Some(q)));
    let head = base.rsplit_once('/').map_or(base, |(h, _)| h);
    match query {
        Some(q) => format!("{head}/{name}?{q}"),
        None => format!("{head}/{name}"),
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(dir) = self.data_dir.take() {
            let _ = std::fs::remove_dir_all(dir);
        }
        if let Some((admin_url, name)) = self.pg.take() {
            // Dropping needs async; a helper thread with its own runtime keeps `Drop` sync.
            let _ = std::thread::spawn(move || {
                let Ok(rt) = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                else {
                    return;
                };
                rt.block_on(async {
                    if let Ok(admin) = SqlStore::open_url(&admin_url).await {
                        let _ = admin
                            .execute_raw_for_tests(&format!(
                                "DROP DATABASE IF EXISTS {name} WITH (FORCE)"
                            ))
                            .await;
                    }
                });
            })
            .join();
        }
    }
}

impl TestApp {
    /// The URL of this app's PostgreSQL database (`None` on SQLite), for a second node.
    pub fn postgres_url(&self) -> Option<String> {
        self.pg
            .as_ref()
            .map(|(admin, name)| replace_db(admin, name))
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.address)
    }

    pub async fn request(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<&Value>,
    ) -> Response {
        let mut req = self.client.request(method, self.url(path));
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        if let Some(b) = body {
            req = req.json(b);
        }
        req.send().await.expect("request")
    }

    pub async fn get(&self, token: &str, path: &str) -> Response {
        self.request(Method::GET, path, Some(token), None).await
    }

    pub async fn post(&self, token: &str, path: &str, body: &Value) -> Response {
        self.request(Method::POST, path, Some(token), Some(body))
            .await
    }

    pub async fn patch(&self, token: &str, path: &str, body: &Value) -> Response {
        self.request(Method::PATCH, path, Some(token), Some(body))
            .await
    }

    pub async fn delete(&self, token: &str, path: &str) -> Response {
        self.request(Method::DELETE, path, Some(token), None).await
    }

    /// A token for `role`, created through the API by the admin.
    pub async fn token(&self, role: &str) -> String {
        self.token_with_id(role).await.0
    }

    /// A token's secret and id (the audit names actors as `token:<id>`).
    pub async fn token_with_id(&self, role: &str) -> (String, String) {
        let r = self
            .post(
                &self.admin_token,
                "/v1/tokens",
                &json!({"name": format!("test-{role}"), "role": role}),
            )
            .await;
        assert_eq!(r.status(), StatusCode::CREATED);
        let body: Value = r.json().await.expect("json");
        (
            body["secret"].as_str().expect("secret").to_owned(),
            id_of(&body),
        )
    }

    /// The whole audit chain of the default tenant.
    pub async fn audit_entries(&self) -> Vec<vern_store::AuditRow> {
        self.vault
            .store()
            .read_audit(self.vault.tenant(), 1, 100_000)
            .await
            .expect("read audit")
    }

    /// Creates a subject as the admin and returns the response body.
    pub async fn create_subject(&self, body: &Value) -> Value {
        let r = self.post(&self.admin_token, "/v1/subjects", body).await;
        let status = r.status();
        let v: Value = r.json().await.expect("json");
        assert_eq!(status, StatusCode::CREATED, "{v}");
        v
    }

    /// Erases a subject on request as the admin (`dry_run`: only what would happen), asserts
    /// 200 and returns the outcome.
    pub async fn erase(&self, subject: &str, dry_run: bool) -> Value {
        let q = if dry_run { "?dry_run=true" } else { "" };
        let r = self
            .request(
                reqwest::Method::POST,
                &format!("/v1/subjects/{subject}/erasure{q}"),
                Some(&self.admin_token),
                None,
            )
            .await;
        let status = r.status();
        let v: Value = r.json().await.expect("json");
        assert_eq!(status, StatusCode::OK, "{v}");
        v
    }

    /// How many subjects exist (through the admin's list).
    pub async fn subject_count(&self) -> usize {
        let r = self.get(&self.admin_token, "/v1/subjects?limit=500").await;
        assert_eq!(r.status(), StatusCode::OK);
        let v: Value = r.json().await.expect("json");
        v["items"].as_array().map_or(0, Vec::len)
    }
}

/// Asserts a problem+json answer with `status` and returns its body.
pub async fn problem(r: Response, status: StatusCode) -> Value {
    let got = r.status();
    let ct = r
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_owned();
    let text = r.text().await.expect("body");
    assert_eq!(got, status, "body: {text}");
    assert!(
        ct.starts_with("application/problem+json"),
        "content-type {ct:?}, body {text}"
    );
    let v: Value = serde_json::from_str(&text).expect("problem is JSON");
    assert!(
        v["type"]
            .as_str()
            .is_some_and(|t| t.starts_with("https://vern.dev/problems/"))
    );
    assert_eq!(v["status"], status.as_u16());
    assert!(v["title"].is_string() && v["detail"].is_string());
    v
}

/// A lead with a work email as identifier and as a record.
pub fn lead(email: &str) -> Value {
    json!({
        "subject_type": "lead",
        "jurisdiction": "NO",
        "identifiers": [{"kind": "email", "value": email}],
        "records": [{
            "category": "contact.email.work_named",
            "value": email,
            "source": "direct",
            "purposes": ["marketing.send"],
            "legal_basis": "legitimate_interest"
        }]
    })
}

/// A record body for a lead.
pub fn lead_record(category: &str, value: Value) -> Value {
    json!({
        "category": category,
        "value": value,
        "source": "direct",
        "purposes": ["marketing.send"],
    })
}

/// A job applicant with recruitment, contact and support data (for role × category reads).
pub fn applicant(email: &str) -> Value {
    json!({
        "subject_type": "job_applicant",
        "identifiers": [{"kind": "email", "value": email}],
        "records": [
            {"category": "recruitment.cv", "value": {"summary": "ten years of baking"},
             "source": "direct", "purposes": ["recruitment.process"]},
            {"category": "contact.email.personal", "value": email,
             "source": "direct", "purposes": ["compliance.legal_claims"]},
            {"category": "support.ticket", "value": {"subject": "login trouble"},
             "source": "direct", "purposes": ["compliance.legal_claims"]}
        ]
    })
}

pub fn id_of(v: &Value) -> String {
    v["id"].as_str().expect("id").to_owned()
}
