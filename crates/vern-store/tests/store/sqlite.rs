//! SQLite specifics: files and URLs, WAL, backups, reopening.

use sqlx::{AnyConnection, Connection, Row};
use uuid::Uuid;
use vern_store::testsuite::subject_with_records;
use vern_store::{Backend, SqlStore, Store, StoreError};

use crate::harness::{TempDir, with_sqlite};

async fn pragma(path: &std::path::Path, name: &str) -> String {
    let mut conn = AnyConnection::connect(&format!("sqlite://{}", path.display()))
        .await
        .unwrap();
    let sql = sqlx::AssertSqlSafe(format!("PRAGMA {name}"));
    let row = sqlx::query(sql).fetch_one(&mut conn).await.unwrap();
    let value = row
        .try_get::<String, _>(0)
        .or_else(|_| row.try_get::<i64, _>(0).map(|v| v.to_string()))
        .unwrap();
    conn.close().await.unwrap();
    value
}

#[tokio::test]
async fn open_dir_creates_two_wal_files() {
    let dir = TempDir::new();
    let nested = dir.0.join("a").join("b");
    let store = SqlStore::open_dir(&nested).await.unwrap();
    assert_eq!(store.backend(), Backend::Sqlite);
    store.migrate().await.unwrap();
    store.migrate().await.unwrap();
    store.ping().await.unwrap();
    store.close().await;
    for file in ["vern.sqlite3", "keys.sqlite3"] {
        let path = nested.join(file);
        assert!(path.exists(), "{file}");
        assert_eq!(pragma(&path, "journal_mode").await, "wal", "{file}");
    }
}

#[tokio::test]
async fn open_url_puts_the_key_store_beside_the_data_file() {
    let dir = TempDir::new();
    let url = format!("sqlite://{}/data.db?mode=rwc", dir.0.display());
    let store = SqlStore::open_url(&url).await.unwrap();
    store.migrate().await.unwrap();
    store.close().await;
    assert!(dir.0.join("data.db").exists());
    assert!(dir.0.join("keys.sqlite3").exists());
}

#[tokio::test]
async fn bad_urls_are_refused() {
    for url in [
        "mysql://localhost/vern",
        "sqlite::memory:",
        "/plain/path.db",
    ] {
        let result = SqlStore::open_url(url).await;
        assert!(
            matches!(result, Err(StoreError::UnsupportedUrl(_))),
            "{url}"
        );
    }
    let dir = TempDir::new();
    let same = format!("sqlite://{}/x.db?mode=rwc", dir.0.display());
    let result = SqlStore::open(&same, &same).await;
    assert!(matches!(result, Err(StoreError::UnsupportedUrl(_))));
    let result = SqlStore::open(&same, "postgres://localhost/vern").await;
    assert!(matches!(result, Err(StoreError::UnsupportedUrl(_))));
}

#[tokio::test]
async fn data_survives_reopening() {
    let dir = TempDir::new();
    let tenant = Uuid::now_v7();
    let new = subject_with_records(tenant, 2);
    {
        let store = SqlStore::open_dir(&dir.0).await.unwrap();
        store.migrate().await.unwrap();
        store.create_subject(new.clone()).await.unwrap();
        // No close: the pools are just dropped, as when the process dies.
    }
    let store = SqlStore::open_dir(&dir.0).await.unwrap();
    store.migrate().await.unwrap();
    let id = new.subject.id;
    assert_eq!(store.get_subject(tenant, id).await.unwrap(), new.subject);
    assert_eq!(store.get_subject_key(tenant, id).await.unwrap(), new.key);
    assert_eq!(store.verify_audit(tenant).await.unwrap(), Ok(1));
    store.close().await;
}

#[tokio::test]
async fn backup_copies_both_files_and_restores() {
    let backup_dir = TempDir::new();
    let tenant = Uuid::now_v7();
    let batch: Vec<_> = (0..20).map(|_| subject_with_records(tenant, 2)).collect();
    let dest = backup_dir.0.join("snapshot");
    let (b, d) = (batch.clone(), dest.clone());
    with_sqlite(|store| async move {
        store.import_batch(b).await.unwrap();
        let backup = store.backup_sqlite(&d).await.unwrap();
        assert!(backup.data.exists() && backup.keys.exists());
        // Never overwrites an earlier backup.
        assert!(matches!(
            store.backup_sqlite(&d).await,
            Err(StoreError::Io(_))
        ));
    })
    .await;

    let restored = SqlStore::open_dir(&dest).await.unwrap();
    restored.migrate().await.unwrap();
    for new in &batch {
        let id = new.subject.id;
        assert_eq!(restored.get_subject(tenant, id).await.unwrap(), new.subject);
        assert_eq!(restored.get_subject_key(tenant, id).await.unwrap(), new.key);
    }
    assert_eq!(restored.verify_audit(tenant).await.unwrap(), Ok(20));
    restored.close().await;
}

/// Every table that hangs off `subjects` is read by subject through an index, not by scanning
/// the tenant's rows under the primary key: that is what a subject's deletion (its foreign-key
/// cascades) and every per-subject read do. Without planner statistics SQLite picks the
/// primary key's `tenant_id = ?` prefix on WITHOUT ROWID tables (migration 0008 writes
/// `sqlite_stat1` rows; a new per-subject table needs its rows there too).
#[tokio::test]
async fn per_subject_lookups_use_the_subject_index() {
    let dir = TempDir::new();
    let store = SqlStore::open_dir(&dir.0).await.unwrap();
    store.migrate().await.unwrap();
    store.close().await;
    let path = dir.0.join("vern.sqlite3");
    let mut conn = AnyConnection::connect(&format!("sqlite://{}", path.display()))
        .await
        .unwrap();
    let children: Vec<String> = sqlx::query(
        "SELECT DISTINCT m.name FROM sqlite_master m, pragma_foreign_key_list(m.name) f \
         WHERE m.type = 'table' AND f.\"table\" = 'subjects' ORDER BY m.name",
    )
    .fetch_all(&mut conn)
    .await
    .unwrap()
    .iter()
    .map(|r| r.try_get::<String, _>(0).unwrap())
    .collect();
    assert!(children.len() >= 6, "{children:?}");
    for table in children {
        let sql = sqlx::AssertSqlSafe(format!(
            "EXPLAIN QUERY PLAN SELECT * FROM {table} WHERE tenant_id = x'01' AND subject_id = x'02'"
        ));
        let plan: Vec<String> = sqlx::query(sql)
            .fetch_all(&mut conn)
            .await
            .unwrap()
            .iter()
            .map(|r| r.try_get::<String, _>(3).unwrap())
            .collect();
        let plan = plan.join("; ");
        assert!(plan.contains("subject_id=?"), "{table}: {plan}");
    }
    conn.close().await.unwrap();
}
