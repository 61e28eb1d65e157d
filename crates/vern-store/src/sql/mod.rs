//! [`SqlStore`]: the one SQL implementation of [`Store`](crate::Store), serving SQLite and
//! PostgreSQL with the same SQL text through sqlx's `Any` driver.
//!
//! That works because only types `Any` carries on both backends cross the wire: ids as 16-byte
//! blobs, times as `BIGINT` Unix microseconds, text and integers. The few dialect differences
//! (connection set-up, how a write transaction begins, where the key tables live) are decided
//! by [`Backend`], from the URL.
//!
//! The guarantees callers rely on are documented on [`SqlStore`].

mod audit;
mod bulk;
mod changes;
mod consent;
mod decision_log;
mod disclosures;
mod erasure;
mod error;
mod events;
mod import;
mod jobs;
mod keys;
mod migrations;
mod outbox;
mod policy_versions;
mod requests;
mod retention;
mod rows;
mod store_impl;
mod subjects;
mod tokens;
mod url;

use std::path::{Path, PathBuf};

use sqlx::AnyPool;
use sqlx::any::{AnyPoolOptions, install_default_drivers};
use sqlx::{Any, Executor, Transaction};

pub use self::migrations::migration_versions;
pub use self::url::Backend;
use crate::{StoreError, StoreResult};

pub(crate) use self::error::db_err;

/// Readers on SQLite: enough to overlap reads with the one writer on a small machine.
const SQLITE_READERS: u32 = 4;
const PG_DATA_CONNECTIONS: u32 = 10;
const PG_KEY_CONNECTIONS: u32 = 4;

/// A pair of pools over one database: on SQLite a single-connection writer and a few
/// readers; on PostgreSQL both are the same pool.
#[derive(Debug, Clone)]
struct Db {
    read: AnyPool,
    write: AnyPool,
}

impl Db {
    async fn close(&self) {
        self.write.close().await;
        self.read.close().await;
    }
}

/// Where [`SqlStore::backup_sqlite`] wrote the copies.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SqliteBackup {
    pub data: PathBuf,
    pub keys: PathBuf,
}

/// The SQL store: SQLite or PostgreSQL, chosen from the URL. Cheap to clone (pools inside).
///
/// # Two stores
///
/// Data and keys are separate pools. On SQLite they are separate files (`vern.sqlite3`,
/// `keys.sqlite3`); on PostgreSQL the key tables live in the schema `vern_keys` of the same
/// database and key connections run with `search_path = vern_keys`, so the same SQL names
/// them and `pg_dump -n vern_keys` backs them up alone. (That `search_path` is session state:
/// behind pgbouncer, use session pooling.) A method that writes both writes the key first, in
/// its own transaction, then the data; if the data transaction was certainly rolled back (a
/// constraint refused it) the fresh key rows are deleted again, otherwise they stay unused.
///
/// # SQLite durability and locking
///
/// Connections run with WAL, `foreign_keys = ON`, `busy_timeout = 5000` and `secure_delete = ON`
/// (deleted rows are overwritten with zeros: an erased subject's wrapped key and blind indexes
/// must not linger in free pages of the file, or crypto-shredding would be undone by anyone
/// holding the file and the master key). The data file uses
/// `synchronous = NORMAL`: in WAL mode a committed transaction is in the WAL file (handed to the
/// OS) before the commit returns, so every acknowledged write survives `kill -9` of the
/// process; only an OS crash or power loss can lose the last transactions (never corrupt the
/// file). The key file uses `synchronous = FULL` (it is written rarely): a key is on disk
/// before the data that needs it is written, so even a power loss cannot leave data without
/// its key, only an unused key. Likewise an erasure is final once its key is gone: after a
/// power loss its (unreadable) rows may reappear, and erasing again finishes the job.
///
/// The data file is read through a memory map (`mmap_size`, 1 GiB of address space) with a
/// 32 MiB page cache per connection: scans such as a retention recompute otherwise spend most
/// of their time copying pages out of the OS cache with `pread` (measured in decision 0018).
///
/// SQLite has one writer. Writes go through a one-connection write pool and begin with
/// `BEGIN IMMEDIATE`, so writers queue in the pool instead of failing with `SQLITE_BUSY` when
/// a read lock would have to be upgraded; reads use a separate pool and see the last commit.
#[derive(Debug, Clone)]
pub struct SqlStore {
    backend: Backend,
    data: Db,
    keys: Db,
    /// The group-commit queue of consent appends, started on first use (see `consent.rs`).
    consent_queue: consent::Queue,
    /// Records per transaction of a scanned recompute class on SQLite (see `retention.rs`).
    scan_chunk: u64,
}

impl SqlStore {
    /// Opens the data store at `database_url` and the key store at `keys_url` (same backend:
    /// two SQLite files, or the same PostgreSQL database twice). Does not migrate.
    pub async fn open(database_url: &str, keys_url: &str) -> StoreResult<Self> {
        install_default_drivers();
        let backend = Backend::from_url(database_url)?;
        if Backend::from_url(keys_url)? != backend {
            return Err(StoreError::UnsupportedUrl(format!(
                "{}: the key store must use the same backend as the data store",
                url::redact(keys_url)
            )));
        }
        let (data, keys) = match backend {
            Backend::Sqlite => {
                if url::sqlite_path(database_url) == url::sqlite_path(keys_url) {
                    return Err(StoreError::UnsupportedUrl(format!(
                        "{}: the key store must be a separate file",
                        url::redact(keys_url)
                    )));
                }
                let data = sqlite_db(database_url, Role::Data).await?;
                let keys = sqlite_db(keys_url, Role::Keys).await?;
                (data, keys)
            }
            Backend::Postgres => {
                let data = pg_db(database_url, Role::Data).await?;
                let keys = pg_db(keys_url, Role::Keys).await?;
                (data, keys)
            }
        };
        tracing::debug!(?backend, "store opened");
        Ok(Self {
            backend,
            data,
            keys,
            consent_queue: consent::Queue::default(),
            scan_chunk: retention::SCAN_CHUNK,
        })
    }

    /// Opens `database_url`, deriving the key store from it: on SQLite the file
    /// `keys.sqlite3` next to the data file (with the same query parameters, so add
    /// `?mode=rwc` to create missing files), on PostgreSQL the same database.
    pub async fn open_url(database_url: &str) -> StoreResult<Self> {
        let keys_url = url::derive_keys_url(database_url)?;
        Self::open(database_url, &keys_url).await
    }

    /// The embedded default: `vern.sqlite3` and `keys.sqlite3` in `data_dir`, created if
    /// missing.
    pub async fn open_dir(data_dir: &Path) -> StoreResult<Self> {
        std::fs::create_dir_all(data_dir).map_err(|e| StoreError::Io(e.to_string()))?;
        let data = url::sqlite_url(&data_dir.join("vern.sqlite3"))?;
        let keys = url::sqlite_url(&data_dir.join("keys.sqlite3"))?;
        Self::open(&data, &keys).await
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// Applies pending migrations to the data store, then the key store.
    pub async fn run_migrations(&self) -> StoreResult<()> {
        let mig_err = |e: sqlx::migrate::MigrateError| StoreError::Migration(e.to_string());
        match self.backend {
            Backend::Sqlite => {
                let data = migrations::migrator(migrations::SQLITE_DATA);
                data.run(&self.data.write).await.map_err(mig_err)?;
                let keys = migrations::migrator(migrations::SQLITE_KEYS);
                keys.run(&self.keys.write).await.map_err(mig_err)?;
            }
            Backend::Postgres => {
                let data = migrations::migrator(migrations::POSTGRES_DATA);
                data.run(&self.data.write).await.map_err(mig_err)?;
                // The key store's history lives with its tables, so a dump of `vern_keys`
                // restores with its migration state.
                let mut keys = migrations::migrator(migrations::POSTGRES_KEYS);
                keys.dangerous_set_table_name("vern_keys._sqlx_migrations");
                keys.create_schema("vern_keys");
                keys.run(&self.keys.write).await.map_err(mig_err)?;
            }
        }
        Ok(())
    }

    /// Cheap liveness check of both stores.
    pub async fn check(&self) -> StoreResult<()> {
        self.data.read.execute("SELECT 1").await.map_err(db_err)?;
        self.keys.read.execute("SELECT 1").await.map_err(db_err)?;
        Ok(())
    }

    /// Copies both SQLite files into `dest_dir` (created if missing) as `vern.sqlite3` and
    /// `keys.sqlite3`, each a consistent snapshot taken while the server keeps running.
    ///
    /// The data file is copied first: keys are written before data, so a key snapshot taken
    /// after the data snapshot holds a key for every subject in it (a subject erased in
    /// between has no key, and its erasure is replayed from the ledger on restore).
    ///
    /// PostgreSQL is refused: back it up with `pg_dump` (and `pg_dump -n vern_keys` for the
    /// keys alone).
    pub async fn backup_sqlite(&self, dest_dir: &Path) -> StoreResult<SqliteBackup> {
        if self.backend != Backend::Sqlite {
            return Err(StoreError::Refused(
                "backup_sqlite works on SQLite only; back up PostgreSQL with pg_dump \
                 (pg_dump -n vern_keys for the key store alone)"
                    .into(),
            ));
        }
        std::fs::create_dir_all(dest_dir).map_err(|e| StoreError::Io(e.to_string()))?;
        let backup = SqliteBackup {
            data: dest_dir.join("vern.sqlite3"),
            keys: dest_dir.join("keys.sqlite3"),
        };
        for (db, dest) in [(&self.data, &backup.data), (&self.keys, &backup.keys)] {
            if dest.exists() {
                return Err(StoreError::Io(format!(
                    "{} already exists; back up into an empty directory",
                    dest.display()
                )));
            }
            let dest = dest
                .to_str()
                .ok_or_else(|| StoreError::Io("backup path is not UTF-8".into()))?;
            sqlx::query("VACUUM INTO $1")
                .bind(dest)
                .execute(&db.read)
                .await
                .map_err(db_err)?;
        }
        Ok(backup)
    }

    /// Closes every pool, waiting for connections in use to be returned.
    pub async fn close(&self) {
        self.data.close().await;
        self.keys.close().await;
    }

    /// Begins a write transaction on `db`: `BEGIN IMMEDIATE` on SQLite, so the write lock is
    /// taken up front rather than upgraded from a read lock mid-transaction.
    async fn begin(&self, db: &Db) -> StoreResult<Transaction<'static, Any>> {
        match self.backend {
            Backend::Sqlite => db.write.begin_with("BEGIN IMMEDIATE").await,
            Backend::Postgres => db.write.begin().await,
        }
        .map_err(db_err)
    }

    /// Sets how many records a scanned recompute class updates per transaction on SQLite, so
    /// tests can cross range boundaries with a few records.
    #[cfg(feature = "testsuite")]
    #[doc(hidden)]
    pub fn set_scan_chunk_for_tests(&mut self, records: u64) {
        self.scan_chunk = records.max(1);
    }

    /// Runs one statement on the data store, bypassing the store's rules. For tests that
    /// prove the database itself refuses tampering (append-only tables).
    #[cfg(feature = "testsuite")]
    #[doc(hidden)]
    pub async fn execute_raw_for_tests(&self, sql: &str) -> StoreResult<u64> {
        let sql = sqlx::AssertSqlSafe(sql.to_owned());
        let done = self.data.write.execute(sql).await.map_err(db_err)?;
        Ok(done.rows_affected())
    }

    /// Runs one statement on the key store, bypassing the store's rules: for tests that set up
    /// the state a crash would leave behind.
    #[cfg(feature = "testsuite")]
    #[doc(hidden)]
    pub async fn execute_raw_keys_for_tests(&self, sql: &str) -> StoreResult<u64> {
        let sql = sqlx::AssertSqlSafe(sql.to_owned());
        let done = self.keys.write.execute(sql).await.map_err(db_err)?;
        Ok(done.rows_affected())
    }

    /// Test support: the first column of every row of a raw query, as text, on the data
    /// (`keys = false`) or key store. For tests that inspect what the database really holds.
    #[cfg(feature = "testsuite")]
    #[doc(hidden)]
    pub async fn fetch_text_for_tests(&self, sql: &str, keys: bool) -> StoreResult<Vec<String>> {
        use sqlx::Row;
        let db = if keys { &self.keys } else { &self.data };
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql.to_owned()))
            .fetch_all(&db.write)
            .await
            .map_err(db_err)?;
        rows.iter()
            .map(|r| r.try_get::<String, _>(0).map_err(db_err))
            .collect()
    }
}

/// Which of the two stores a pool serves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Role {
    Data,
    Keys,
}

async fn sqlite_db(url: &str, role: Role) -> StoreResult<Db> {
    // busy_timeout first: the journal_mode switch may have to wait for another connection.
    // synchronous: see the module docs (NORMAL for data, FULL for keys).
    let pragmas: &'static str = match role {
        Role::Data => {
            "PRAGMA busy_timeout = 5000; PRAGMA journal_mode = WAL; \
             PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON; PRAGMA secure_delete = ON; \
             PRAGMA mmap_size = 1073741824; PRAGMA cache_size = -32768;"
        }
        Role::Keys => {
            "PRAGMA busy_timeout = 5000; PRAGMA journal_mode = WAL; \
             PRAGMA synchronous = FULL; PRAGMA foreign_keys = ON; PRAGMA secure_delete = ON;"
        }
    };
    let options = |max: u32| {
        AnyPoolOptions::new()
            .max_connections(max)
            .after_connect(move |conn, _meta| {
                Box::pin(async move {
                    conn.execute(pragmas).await?;
                    Ok(())
                })
            })
    };
    // The writer connects first, so it creates the file and switches it to WAL alone.
    let write = options(1).connect(url).await.map_err(db_err)?;
    let read = options(SQLITE_READERS).connect(url).await.map_err(db_err)?;
    Ok(Db { read, write })
}

// Known issue: sqlx 0.9.0 does not set TCP_NODELAY on its sockets (sqlx #4335, fixed upstream
// after the release), so over TCP a statement whose message spans more than one segment can
// wait ~40 ms for a delayed ACK: bulk imports and the test suite run several times slower than
// over a Unix socket (`postgres://user@localhost/db?host=/var/run/postgresql`).
async fn pg_db(url: &str, role: Role) -> StoreResult<Db> {
    let options = match role {
        Role::Data => AnyPoolOptions::new().max_connections(PG_DATA_CONNECTIONS),
        // Key connections see only the key schema: the same SQL text as on SQLite names the
        // key tables, and a stray data query on this pool fails instead of working by luck.
        Role::Keys => AnyPoolOptions::new()
            .max_connections(PG_KEY_CONNECTIONS)
            .after_connect(|conn, _meta| {
                Box::pin(async move {
                    conn.execute("SET search_path TO vern_keys").await?;
                    Ok(())
                })
            }),
    };
    let pool = options.connect(url).await.map_err(db_err)?;
    Ok(Db {
        read: pool.clone(),
        write: pool,
    })
}
