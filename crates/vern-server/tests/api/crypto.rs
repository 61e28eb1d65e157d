//! Encryption at rest and crypto-shredding, checked on the raw SQLite files and on what
//! PostgreSQL holds (every row of every table as text, and the tables' files on disk).

use reqwest::StatusCode;
use serde_json::{Value, json};
use uuid::Uuid;
use vern_core::crypto::{Aad, MasterKey, SubjectKey, open};
use vern_store::{Store, StoreError};

use crate::helpers::{id_of, lead, spawn_app, spawn_sqlite_app};

const EMAIL: &str = "zebulon.quarterfield.7731@example.org";
const NAME: &str = "Zebulon Quarterfield-Okonkwo";

fn contains(haystack: &[u8], needle: &str) -> bool {
    let needle = needle.as_bytes();
    haystack.windows(needle.len()).any(|w| w == needle)
}

#[tokio::test]
async fn plaintext_never_reaches_the_database_files() {
    let app = spawn_sqlite_app().await;
    let created = app.create_subject(&lead(EMAIL)).await;
    let id = id_of(&created);
    let r = app
        .post(
            &app.admin_token,
            &format!("/v1/subjects/{id}/records"),
            &json!({"category": "identity.name", "value": NAME, "source": "direct",
                    "purposes": ["marketing.send"]}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::CREATED);
    // Reads, lookups and a failed write leave no plaintext either (idempotency, audit).
    app.get(&app.admin_token, &format!("/v1/subjects/{id}"))
        .await;
    app.post(
        &app.admin_token,
        "/v1/lookup",
        &json!({"kind": "email", "value": EMAIL}),
    )
    .await;
    let r = app
        .client
        .post(app.url("/v1/subjects"))
        .bearer_auth(&app.admin_token)
        .header("Idempotency-Key", "k1")
        .json(&lead(&EMAIL.replace("zebulon", "xebulon")))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::CREATED);

    app.vault
        .store()
        .execute_raw_for_tests("PRAGMA wal_checkpoint(TRUNCATE)")
        .await
        .unwrap();
    let dir = app.data_dir.clone().unwrap();
    let mut scanned = 0;
    for file in [
        "vern.sqlite3",
        "vern.sqlite3-wal",
        "keys.sqlite3",
        "keys.sqlite3-wal",
    ] {
        let Ok(bytes) = std::fs::read(dir.join(file)) else {
            continue;
        };
        scanned += bytes.len();
        for needle in [EMAIL, NAME, "Quarterfield", "xebulon", "zebulon"] {
            assert!(!contains(&bytes, needle), "{needle} found in {file}");
        }
    }
    assert!(scanned > 0, "the database files were read");
}

fn hex(s: &str) -> String {
    s.bytes().map(|b| format!("{b:02x}")).collect()
}

#[tokio::test]
async fn plaintext_never_reaches_postgres_tables() {
    if std::env::var("VERN_TEST_POSTGRES_URL").map_or(true, |u| u.is_empty()) {
        assert!(
            std::env::var("CI").is_err(),
            "CI must run the PostgreSQL tests: set VERN_TEST_POSTGRES_URL"
        );
        return;
    }
    let app = spawn_app().await;
    assert!(app.data_dir.is_none(), "this test runs on PostgreSQL");
    let created = app.create_subject(&lead(EMAIL)).await;
    let id = id_of(&created);
    let r = app
        .post(
            &app.admin_token,
            &format!("/v1/subjects/{id}/records"),
            &json!({"category": "identity.name", "value": NAME, "source": "direct",
                    "purposes": ["marketing.send"]}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::CREATED);
    app.post(
        &app.admin_token,
        "/v1/lookup",
        &json!({"kind": "email", "value": EMAIL}),
    )
    .await;

    let store = app.vault.store();
    let needles = [EMAIL, NAME, "Quarterfield", "zebulon"];
    // Every row of every table of both schemas, as PostgreSQL renders it (bytea as hex).
    for (schema, keys) in [("public", false), ("vern_keys", true)] {
        let tables = store
            .fetch_text_for_tests(
                &format!("SELECT table_name::text FROM information_schema.tables WHERE table_schema = '{schema}'"),
                keys,
            )
            .await
            .unwrap();
        assert!(!tables.is_empty(), "{schema} has tables");
        for table in tables {
            let rows = store
                .fetch_text_for_tests(&format!("SELECT t::text FROM {schema}.\"{table}\" t"), keys)
                .await
                .unwrap();
            for row in rows {
                for n in needles {
                    assert!(
                        !row.contains(n) && !row.contains(&hex(n)),
                        "{n} found in {schema}.{table}"
                    );
                }
            }
        }
    }
    // And the bytes on disk, after a checkpoint, where the test can read the data directory.
    store.execute_raw_for_tests("CHECKPOINT").await.unwrap();
    let dir = store
        .fetch_text_for_tests("SELECT current_setting('data_directory')", false)
        .await
        .unwrap();
    let files = store
        .fetch_text_for_tests(
            "SELECT pg_relation_filepath(c.oid)::text FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace \
             WHERE n.nspname IN ('public', 'vern_keys') AND pg_relation_filepath(c.oid) IS NOT NULL",
            false,
        )
        .await
        .unwrap();
    let mut scanned = 0usize;
    for f in files {
        let Ok(bytes) = std::fs::read(std::path::Path::new(&dir[0]).join(&f)) else {
            continue;
        };
        scanned += bytes.len();
        for n in needles {
            assert!(!contains(&bytes, n), "{n} found in the file of {f}");
        }
    }
    eprintln!("scanned {scanned} bytes of PostgreSQL relation files");
}

#[tokio::test]
async fn erasure_shreds_one_subject_and_leaves_the_others_readable() {
    let app = spawn_sqlite_app().await;
    let tenant = app.vault.tenant();
    let victim = app.create_subject(&lead(EMAIL)).await;
    let other = app.create_subject(&lead("bystander@example.org")).await;
    let victim_id: Uuid = id_of(&victim).parse().unwrap();
    let other_id: Uuid = id_of(&other).parse().unwrap();
    let store = app.vault.store();

    // Keep what a backup would keep: the victim's record ciphertext and wrapped key.
    let sealed = store.list_records(tenant, victim_id).await.unwrap();
    assert_eq!(sealed.len(), 1);
    let master = MasterKey::parse(&app.master_hex).unwrap();
    let old_key_row = store.get_subject_key(tenant, victim_id).await.unwrap();
    let old_key = SubjectKey::unwrap(&master, tenant, victim_id, &old_key_row.wrapped_key).unwrap();
    let aad = Aad::record_value(tenant, victim_id, sealed[0].id);
    assert!(
        open(&old_key, &aad, &sealed[0].value_ct).is_ok(),
        "readable before erasure"
    );

    let r = app
        .delete(&app.admin_token, &format!("/v1/subjects/{victim_id}"))
        .await;
    assert_eq!(r.status(), StatusCode::NO_CONTENT);

    // The key is gone from the key store, and no other key opens the ciphertext.
    assert!(matches!(
        store.get_subject_key(tenant, victim_id).await,
        Err(StoreError::NotFound)
    ));
    let other_row = store.get_subject_key(tenant, other_id).await.unwrap();
    let other_key = SubjectKey::unwrap(&master, tenant, other_id, &other_row.wrapped_key).unwrap();
    assert!(open(&other_key, &aad, &sealed[0].value_ct).is_err());
    assert!(
        store
            .list_records(tenant, victim_id)
            .await
            .unwrap()
            .is_empty()
    );
    assert!(
        store
            .erased_subjects(tenant)
            .await
            .unwrap()
            .contains(&victim_id)
    );

    // The bystander is untouched.
    let got: Value = app
        .get(&app.admin_token, &format!("/v1/subjects/{other_id}"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(got["records"][0]["value"], "bystander@example.org");
}

#[tokio::test]
async fn master_key_rotation_rewraps_keys_without_touching_data() {
    use std::sync::Arc;
    use vern_core::ids::SystemClock;
    use vern_server::Vault;
    use vern_server::vault::Principal;

    let app = spawn_sqlite_app().await;
    let created = app.create_subject(&lead(EMAIL)).await;
    let id: Uuid = id_of(&created).parse().unwrap();
    let policy = Arc::new(crate::helpers::bundled_policy());
    let open = |master: MasterKey, previous: Vec<MasterKey>| {
        Vault::open(
            app.vault.store().clone(),
            policy.clone(),
            master,
            previous,
            Arc::new(SystemClock),
        )
    };
    let new_master = MasterKey::generate();
    let new_hex = new_master.to_hex();
    // A new master key alone cannot open the old keyring.
    assert!(
        open(MasterKey::parse(&new_hex).unwrap(), vec![])
            .await
            .is_err()
    );

    let rotating = open(
        MasterKey::parse(&new_hex).unwrap(),
        vec![MasterKey::parse(&app.master_hex).unwrap()],
    )
    .await
    .unwrap();
    let admin = Principal::cli_admin();
    // Readable during rotation (old keys open with `previous`), and lookups still match.
    assert_eq!(
        rotating
            .get_subject(&admin, id)
            .await
            .unwrap()
            .records
            .len(),
        1
    );
    let moved = rotating.rotate_keys(&admin, 1).await.unwrap();
    assert!(moved >= 1);
    assert_eq!(
        rotating.rotate_keys(&admin, 10).await.unwrap(),
        0,
        "idempotent"
    );

    let rotated = open(MasterKey::parse(&new_hex).unwrap(), vec![])
        .await
        .unwrap();
    let view = rotated.get_subject(&admin, id).await.unwrap();
    assert_eq!(view.records[0].value, EMAIL);
    let input = vern_server::vault::IdentifierInput {
        kind: "email".into(),
        value: EMAIL.into(),
    };
    assert_eq!(rotated.lookup(&admin, &input).await.unwrap(), id);
    let support = Principal::new(vern_server::vault::Actor::Cli, "support");
    assert!(matches!(
        rotated.rotate_keys(&support, 10).await,
        Err(vern_server::vault::VaultError::Forbidden(_))
    ));
}
