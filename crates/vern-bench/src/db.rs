//! A fresh database per benchmark: a temporary directory on SQLite, a new database on
//! PostgreSQL (created from the admin URL and dropped afterwards), and a vault over it.

use std::path::PathBuf;
use std::sync::Arc;

use anyhow::Context as _;
use vern_core::crypto::MasterKey;
use vern_core::ids::SystemClock;
use vern_policy::Policy;
use vern_server::Vault;
use vern_server::vault::{Actor, Principal};
use vern_store::{SqlStore, Store};

/// The default PostgreSQL admin URL (the project machines' local server, over its socket).
pub const DEFAULT_POSTGRES_URL: &str =
    "postgres://root@localhost/postgres?host=/var/run/postgresql";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl Backend {
    pub fn name(self) -> &'static str {
        match self {
            Backend::Sqlite => "sqlite",
            Backend::Postgres => "postgres",
        }
    }
}

/// One fresh database; [`Db::drop_all`] removes it.
pub struct Db {
    pub backend: Backend,
    dir: PathBuf,
    /// PostgreSQL: the admin URL and the database's name.
    pg: Option<(String, String)>,
}

/// `postgres://h/db?x` with the database replaced.
pub fn replace_db(url: &str, name: &str) -> String {
    let (base, query) = url
        .split_once('?')
        .map_or((url, None), |(b, q)| (b, Some(q)));
    let head = base.rsplit_once('/').map_or(base, |(h, _)| h);
    match query {
        Some(q) => format!("{head}/{name}?{q}"),
        None => format!("{head}/{name}"),
    }
}

impl Db {
    pub async fn fresh(backend: Backend, postgres_url: &str) -> anyhow::Result<Db> {
        let id = uuid::Uuid::new_v4().simple().to_string();
        let dir = std::env::temp_dir().join(format!("vern-bench-{id}"));
        let pg = match backend {
            Backend::Sqlite => None,
            Backend::Postgres => {
                let name = format!("vern_bench_{id}");
                let admin = SqlStore::open_url(postgres_url)
                    .await
                    .context("PostgreSQL is not reachable (--postgres-url)")?;
                admin
                    .execute_raw_for_tests(&format!("CREATE DATABASE {name}"))
                    .await?;
                admin.close().await;
                Some((postgres_url.to_owned(), name))
            }
        };
        Ok(Db { backend, dir, pg })
    }

    /// The store over this database, migrated.
    pub async fn store(&self) -> anyhow::Result<SqlStore> {
        let store = match &self.pg {
            None => SqlStore::open_dir(&self.dir).await?,
            Some((admin, name)) => SqlStore::open_url(&replace_db(admin, name)).await?,
        };
        store.migrate().await?;
        Ok(store)
    }

    /// A vault over a new store of this database, with the bundled policy and a fresh key.
    pub async fn vault(&self) -> anyhow::Result<Vault> {
        let store = self.store().await?;
        Ok(Vault::open(
            store,
            Arc::new(bundled_policy()?),
            MasterKey::generate(),
            Vec::new(),
            Arc::new(SystemClock),
        )
        .await?)
    }

    pub async fn drop_all(self) {
        let _ = std::fs::remove_dir_all(&self.dir);
        if let Some((admin, name)) = self.pg
            && let Ok(admin) = SqlStore::open_url(&admin).await
        {
            let _ = admin
                .execute_raw_for_tests(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                .await;
            admin.close().await;
        }
    }
}

/// The administrator the CLI acts as.
pub fn admin(vault: &Vault) -> anyhow::Result<Principal> {
    Ok(vault.admin_principal(Actor::Cli)?)
}

/// The bundled policy (it always parses; the error is for completeness).
pub fn bundled_policy() -> anyhow::Result<Policy> {
    Policy::bundled().map_err(|_| anyhow::anyhow!("the bundled policy does not parse"))
}
