//! The two migration trees must describe the same schema: same versions, tables, columns,
//! nullability, type classes, keys, indexes and append-only triggers.

use std::collections::BTreeSet;

use sqlx::any::AnyRow;
use sqlx::{AnyConnection, Connection, Row};
use vern_store::{SqlStore, Store};

use crate::harness::{TempDir, postgres_admin_url, with_postgres_url};

#[test]
fn migration_trees_have_identical_versions() {
    let trees = vern_store::migration_versions();
    let versions = |name: &str| {
        trees
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, v)| v.clone())
            .unwrap()
    };
    for (sqlite, postgres) in [("sqlite", "postgres"), ("sqlite-keys", "postgres-keys")] {
        let v = versions(sqlite);
        assert!(!v.is_empty(), "{sqlite} has no migrations");
        assert!(
            v.windows(2).all(|w| w[0] < w[1]),
            "{sqlite}: versions not increasing"
        );
        assert_eq!(v, versions(postgres), "{sqlite} vs {postgres}");
    }
}

/// Everything the parity test compares, per store (`data` or `keys`).
#[derive(Debug, Default, PartialEq, Eq)]
struct Schema {
    /// (store, table, column, nullable, type class)
    columns: BTreeSet<(String, String, String, bool, &'static str)>,
    /// (table, primary-key columns)
    primary_keys: BTreeSet<(String, String)>,
    /// (table, index, unique, columns)
    indexes: BTreeSet<(String, String, bool, String)>,
    /// (table, trigger)
    triggers: BTreeSet<(String, String)>,
}

/// What is in one set but not the other (empty when they agree).
fn diff<T: Ord + std::fmt::Debug>(a: &BTreeSet<T>, b: &BTreeSet<T>) -> Vec<String> {
    a.symmetric_difference(b)
        .map(|x| format!("{x:?}"))
        .collect()
}

fn type_class(ty: &str) -> &'static str {
    match ty.to_ascii_lowercase().as_str() {
        "blob" | "bytea" => "bytes",
        "integer" | "bigint" | "smallint" => "integer",
        "text" => "text",
        "boolean" => "boolean",
        other => panic!("column type {other:?} has no class: add it to the parity map"),
    }
}

fn s(row: &AnyRow, col: &str) -> String {
    row.try_get::<String, _>(col).unwrap()
}

fn i(row: &AnyRow, col: &str) -> i64 {
    row.try_get::<i64, _>(col).unwrap()
}

async fn sqlite_schema(schema: &mut Schema, store: &str, path: &std::path::Path) {
    let mut conn = AnyConnection::connect(&format!("sqlite://{}", path.display()))
        .await
        .unwrap();
    let tables = "m.type = 'table' AND m.name NOT LIKE 'sqlite_%' AND m.name <> '_sqlx_migrations'";
    let columns = sqlx::query(sqlx::AssertSqlSafe(format!(
        "SELECT m.name AS tbl, p.name AS col, p.type AS ty, p.\"notnull\" AS nn, p.pk AS pk \
         FROM sqlite_master m JOIN pragma_table_info(m.name) p WHERE {tables} \
         ORDER BY m.name, p.pk"
    )))
    .fetch_all(&mut conn)
    .await
    .unwrap();
    let mut pks: std::collections::BTreeMap<String, Vec<String>> = Default::default();
    for r in &columns {
        let (tbl, col) = (s(r, "tbl"), s(r, "col"));
        schema.columns.insert((
            store.to_owned(),
            tbl.clone(),
            col.clone(),
            i(r, "nn") == 0,
            type_class(&s(r, "ty")),
        ));
        if i(r, "pk") > 0 {
            pks.entry(tbl).or_default().push(col);
        }
    }
    schema
        .primary_keys
        .extend(pks.into_iter().map(|(t, c)| (t, c.join(","))));

    let indexes = sqlx::query(sqlx::AssertSqlSafe(format!(
        "SELECT m.name AS tbl, il.name AS idx, il.\"unique\" AS uniq, \
         (SELECT group_concat(name, ',') FROM \
            (SELECT ii.name FROM pragma_index_info(il.name) ii ORDER BY ii.seqno)) AS cols \
         FROM sqlite_master m JOIN pragma_index_list(m.name) il \
         WHERE {tables} AND il.origin = 'c'"
    )))
    .fetch_all(&mut conn)
    .await
    .unwrap();
    for r in &indexes {
        schema
            .indexes
            .insert((s(r, "tbl"), s(r, "idx"), i(r, "uniq") == 1, s(r, "cols")));
    }

    let triggers =
        sqlx::query("SELECT tbl_name AS tbl, name FROM sqlite_master WHERE type = 'trigger'")
            .fetch_all(&mut conn)
            .await
            .unwrap();
    for r in &triggers {
        schema.triggers.insert((s(r, "tbl"), s(r, "name")));
    }
    conn.close().await.unwrap();
}

async fn postgres_schema(url: &str) -> Schema {
    let mut schema = Schema::default();
    let mut conn = AnyConnection::connect(url).await.unwrap();
    let columns = sqlx::query(
        "SELECT CASE table_schema WHEN 'vern_keys' THEN 'keys' ELSE 'data' END AS store, \
                table_name::text AS tbl, column_name::text AS col, data_type::text AS ty, \
                is_nullable::text AS nullable \
         FROM information_schema.columns \
         WHERE table_schema IN ('public', 'vern_keys') AND table_name <> '_sqlx_migrations'",
    )
    .fetch_all(&mut conn)
    .await
    .unwrap();
    for r in &columns {
        schema.columns.insert((
            s(r, "store"),
            s(r, "tbl"),
            s(r, "col"),
            s(r, "nullable") == "YES",
            type_class(&s(r, "ty")),
        ));
    }

    let indexes = sqlx::query(
        "SELECT t.relname::text AS tbl, i.relname::text AS idx, ix.indisunique AS uniq, \
                ix.indisprimary AS pk, \
                (SELECT string_agg(a.attname::text, ',' ORDER BY k.ord) \
                   FROM unnest(ix.indkey::int2[]) WITH ORDINALITY AS k(attnum, ord) \
                   JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = k.attnum) AS cols \
         FROM pg_index ix \
         JOIN pg_class i ON i.oid = ix.indexrelid \
         JOIN pg_class t ON t.oid = ix.indrelid \
         JOIN pg_namespace n ON n.oid = t.relnamespace \
         WHERE n.nspname IN ('public', 'vern_keys') AND t.relname <> '_sqlx_migrations'",
    )
    .fetch_all(&mut conn)
    .await
    .unwrap();
    for r in &indexes {
        if r.try_get::<bool, _>("pk").unwrap() {
            schema.primary_keys.insert((s(r, "tbl"), s(r, "cols")));
        } else {
            let unique = r.try_get::<bool, _>("uniq").unwrap();
            schema
                .indexes
                .insert((s(r, "tbl"), s(r, "idx"), unique, s(r, "cols")));
        }
    }

    // TRUNCATE guards exist only on PostgreSQL (SQLite has no TRUNCATE).
    let triggers = sqlx::query(
        "SELECT c.relname::text AS tbl, tg.tgname::text AS name \
         FROM pg_trigger tg JOIN pg_class c ON c.oid = tg.tgrelid \
         JOIN pg_namespace n ON n.oid = c.relnamespace \
         WHERE NOT tg.tgisinternal AND n.nspname IN ('public', 'vern_keys') \
           AND tg.tgname NOT LIKE '%\\_no\\_truncate'",
    )
    .fetch_all(&mut conn)
    .await
    .unwrap();
    for r in &triggers {
        schema.triggers.insert((s(r, "tbl"), s(r, "name")));
    }
    conn.close().await.unwrap();
    schema
}

async fn migrated_sqlite_schema() -> Schema {
    let dir = TempDir::new();
    let store = SqlStore::open_dir(&dir.0).await.unwrap();
    store.migrate().await.unwrap();
    store.close().await;
    let mut schema = Schema::default();
    sqlite_schema(&mut schema, "data", &dir.0.join("vern.sqlite3")).await;
    sqlite_schema(&mut schema, "keys", &dir.0.join("keys.sqlite3")).await;
    schema
}

#[tokio::test]
async fn sqlite_schema_is_introspectable() {
    let schema = migrated_sqlite_schema().await;
    let tables: BTreeSet<_> = schema
        .columns
        .iter()
        .map(|c| (c.0.as_str(), c.1.as_str()))
        .collect();
    for table in [
        "subjects",
        "identifiers",
        "records",
        "audit_log",
        "audit_head",
        "api_tokens",
    ] {
        assert!(tables.contains(&("data", table)), "{table}");
    }
    assert!(tables.contains(&("keys", "subject_keys")));
    assert!(tables.contains(&("keys", "keyring")));
    // Key material never sits in the data file.
    assert!(!tables.contains(&("data", "subject_keys")));
    assert!(!tables.contains(&("data", "keyring")));
    // Append-only tables refuse UPDATE and DELETE: 0001 audit_log, erasure_ledger; 0002
    // consent_events, suppression; 0003 deletion_evidence; 0004 disclosures; 0010
    // dsr_request_events; 0011 partial_erasures. 0007: 16 triggers that write the subject
    // change log. 0015: decision_log refuses UPDATE (old blocks may be deleted).
    assert_eq!(schema.triggers.len(), 33);
}

#[tokio::test]
async fn schema_parity_between_sqlite_and_postgres() {
    if postgres_admin_url().is_none() {
        return;
    }
    let sqlite = migrated_sqlite_schema().await;

    let (tx, rx) = tokio::sync::oneshot::channel();
    with_postgres_url(|url| async move {
        let store = SqlStore::open_url(&url).await.unwrap();
        store.migrate().await.unwrap();
        // Migrating twice is a no-op.
        store.migrate().await.unwrap();
        store.close().await;
        let _ = tx.send(postgres_schema(&url).await);
    })
    .await;
    let postgres = rx.await.unwrap();

    // Guard against comparing two empty introspections.
    assert_eq!(
        postgres.primary_keys.len(),
        42,
        "{:?}",
        postgres.primary_keys
    );
    assert_eq!(postgres.indexes.len(), 39, "{:?}", postgres.indexes);
    assert_eq!(postgres.triggers.len(), 33, "{:?}", postgres.triggers);

    assert_eq!(
        diff(&sqlite.columns, &postgres.columns),
        Vec::<String>::new(),
        "columns"
    );
    assert_eq!(
        diff(&sqlite.primary_keys, &postgres.primary_keys),
        Vec::<String>::new(),
        "keys"
    );
    assert_eq!(
        diff(&sqlite.indexes, &postgres.indexes),
        Vec::<String>::new(),
        "indexes"
    );
    assert_eq!(
        diff(&sqlite.triggers, &postgres.triggers),
        Vec::<String>::new(),
        "triggers"
    );
}

/// PostgreSQL would try to compress every value over about 2 KB; ciphertext and the decision
/// log's blocks do not compress, so those columns are stored out of line as they are (0018).
#[tokio::test]
async fn postgres_stores_ciphertext_and_decision_blocks_uncompressed() {
    with_postgres_url(|url| async move {
        let store = SqlStore::open_url(&url).await.unwrap();
        store.migrate().await.unwrap();
        store.close().await;
        let mut conn = AnyConnection::connect(&url).await.unwrap();
        let rows = sqlx::query(
            "SELECT c.relname::text AS tbl, a.attname::text AS col, a.attstorage::text AS storage
               FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid
               JOIN pg_namespace n ON n.oid = c.relnamespace
              WHERE n.nspname = current_schema() AND c.relkind = 'r' AND a.attnum > 0
                AND NOT a.attisdropped
                AND (a.attname LIKE '%\\_ct' OR a.attname IN ('body', 'params_ciphertext'))",
        )
        .fetch_all(&mut conn)
        .await
        .unwrap();
        let storage: BTreeSet<(String, String, String)> = rows
            .iter()
            .map(|r| (s(r, "tbl"), s(r, "col"), s(r, "storage")))
            .collect();
        for (table, column) in [
            ("decision_log", "body"),
            ("events", "body_ct"),
            ("records", "value_ct"),
            ("identifiers", "value_ct"),
            ("dsr_downloads", "zip_ct"),
            ("outbox", "params_ciphertext"),
        ] {
            assert!(
                storage.contains(&(table.into(), column.into(), "e".into())),
                "{table}.{column} is not EXTERNAL: {storage:?}"
            );
        }
        conn.close().await.unwrap();
    })
    .await;
}
