//! Fresh stores for tests: a new SQLite directory or a new PostgreSQL database per test,
//! removed afterwards even when the test fails.

use std::future::Future;
use std::path::PathBuf;

use sqlx::{AnyConnection, AssertSqlSafe, Connection, Executor};
use uuid::Uuid;
use vern_store::{SqlStore, Store};

/// A fresh directory under the system temp dir, removed on drop.
pub struct TempDir(pub PathBuf);

impl TempDir {
    pub fn new() -> Self {
        let path = std::env::temp_dir().join(format!("vern-store-{}", Uuid::new_v4().simple()));
        std::fs::create_dir_all(&path).unwrap();
        Self(path)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Runs `test` on a migrated SQLite store in a fresh directory.
pub async fn with_sqlite<F, Fut>(test: F)
where
    F: FnOnce(SqlStore) -> Fut,
    Fut: Future<Output = ()>,
{
    let dir = TempDir::new();
    let store = SqlStore::open_dir(&dir.0).await.unwrap();
    store.migrate().await.unwrap();
    test(store.clone()).await;
    store.close().await;
}

/// The PostgreSQL admin URL, or `None` to skip. In CI a missing URL fails the test: the
/// PostgreSQL half of the suite must never be skipped silently there.
pub fn postgres_admin_url() -> Option<String> {
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

/// A database `t_<uuid>` created for one test and dropped after it.
pub struct PgDatabase {
    admin_url: String,
    pub name: String,
    pub url: String,
}

impl PgDatabase {
    pub async fn create(admin_url: &str) -> Self {
        sqlx::any::install_default_drivers();
        let name = format!("t_{}", Uuid::new_v4().simple());
        let mut admin = AnyConnection::connect(admin_url).await.unwrap();
        admin
            .execute(AssertSqlSafe(format!("CREATE DATABASE {name}")))
            .await
            .unwrap();
        admin.close().await.unwrap();
        let (base, query) = match admin_url.split_once('?') {
            Some((b, q)) => (b, format!("?{q}")),
            None => (admin_url, String::new()),
        };
        let (server, _) = base.rsplit_once('/').unwrap();
        let url = format!("{server}/{name}{query}");
        Self {
            admin_url: admin_url.to_owned(),
            name,
            url,
        }
    }

    pub async fn drop_now(self) {
        let mut admin = AnyConnection::connect(&self.admin_url).await.unwrap();
        admin
            .execute(AssertSqlSafe(format!(
                "DROP DATABASE IF EXISTS {} WITH (FORCE)",
                self.name
            )))
            .await
            .unwrap();
        admin.close().await.unwrap();
    }
}

/// Runs `test` with the URL of a fresh, empty PostgreSQL database, if PostgreSQL is
/// configured. The test runs in its own task so that a failure still drops the database.
pub async fn with_postgres_url<F, Fut>(test: F)
where
    F: FnOnce(String) -> Fut + Send + 'static,
    Fut: Future<Output = ()> + Send + 'static,
{
    let Some(admin_url) = postgres_admin_url() else {
        return;
    };
    let db = PgDatabase::create(&admin_url).await;
    let outcome = tokio::spawn(test(db.url.clone())).await;
    db.drop_now().await;
    if let Err(e) = outcome {
        std::panic::resume_unwind(e.into_panic());
    }
}

/// Runs `test` on a migrated PostgreSQL store in a fresh database, if PostgreSQL is
/// configured.
pub async fn with_postgres<F, Fut>(test: F)
where
    F: FnOnce(SqlStore) -> Fut + Send + 'static,
    Fut: Future<Output = ()> + Send + 'static,
{
    with_postgres_url(|url| async move {
        let store = SqlStore::open_url(&url).await.unwrap();
        store.migrate().await.unwrap();
        test(store.clone()).await;
        store.close().await;
    })
    .await;
}
