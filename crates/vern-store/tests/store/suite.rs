//! The conformance suite, one test per scenario and backend, each on a fresh store.

macro_rules! conformance {
    ($($scenario:ident),* $(,)?) => {
        mod on_sqlite {
            $(
                #[tokio::test]
                async fn $scenario() {
                    crate::harness::with_sqlite(|store| async move {
                        vern_store::testsuite::$scenario(&store).await;
                    })
                    .await;
                }
            )*
        }

        mod on_postgres {
            $(
                #[tokio::test]
                async fn $scenario() {
                    crate::harness::with_postgres(|store| async move {
                        vern_store::testsuite::$scenario(&store).await;
                    })
                    .await;
                }
            )*
        }
    };
}

conformance!(
    subjects_create_get_update,
    subjects_list_keyset,
    identifiers_lifecycle,
    records_lifecycle,
    import_batch_roundtrip,
    import_batch_is_all_or_nothing,
    erase_shreds_key_and_rows,
    audit_chain_grows_with_writes,
    audit_concurrent_appends_stay_chained,
    tokens_lifecycle,
    idempotency_put_get,
    keyring_put_if_absent,
    rewrap_touches_only_old_kek,
    append_only_is_enforced_by_the_database,
    disclosures_are_recorded_and_append_only,
    consent_ledger_and_projection,
    objections_restriction_and_suppression,
    consent_tables_are_append_only,
    events_ingest_count_and_purge,
    partial_erasure_replaces_the_key,
    // All scenarios in one store: none may depend on an empty database.
    run_all,
);

mod sql_specific {
    use std::path::Path;

    use uuid::Uuid;
    use vern_store::testsuite::audit;
    use vern_store::{Backend, BreakReason, ChainBreak, SqlStore, Store, StoreError};

    use crate::harness::{with_postgres, with_postgres_url, with_sqlite};

    /// `verify_audit` finds a forged entry and a removed tail, once the guard is lifted.
    async fn tampering_is_found(store: SqlStore) {
        let tenant = Uuid::now_v7();
        for _ in 0..5 {
            let entry = audit(tenant, "record.read", None);
            store.append_audit(vec![entry]).await.unwrap();
        }
        assert_eq!(store.verify_audit(tenant).await.unwrap(), Ok(5));
        assert_eq!(store.verify_audit(Uuid::now_v7()).await.unwrap(), Ok(0));

        let lift_guard: &[&str] = match store.backend() {
            Backend::Sqlite => &[
                "DROP TRIGGER audit_log_no_update",
                "DROP TRIGGER audit_log_no_delete",
            ],
            Backend::Postgres => &["ALTER TABLE audit_log DISABLE TRIGGER USER"],
        };
        for sql in lift_guard {
            store.execute_raw_for_tests(sql).await.unwrap();
        }
        let forge = "UPDATE audit_log SET detail = 'forged' WHERE seq = 3";
        assert_eq!(store.execute_raw_for_tests(forge).await.unwrap(), 1);
        assert_eq!(
            store.verify_audit(tenant).await.unwrap(),
            Err(ChainBreak {
                seq: 3,
                reason: BreakReason::HashMismatch
            })
        );
        let undo = r#"UPDATE audit_log SET detail = '{"fields":["email"]}' WHERE seq = 3"#;
        store.execute_raw_for_tests(undo).await.unwrap();
        assert_eq!(store.verify_audit(tenant).await.unwrap(), Ok(5));

        let cut = "DELETE FROM audit_log WHERE seq = 5";
        assert_eq!(store.execute_raw_for_tests(cut).await.unwrap(), 1);
        assert_eq!(
            store.verify_audit(tenant).await.unwrap(),
            Err(ChainBreak {
                seq: 4,
                reason: BreakReason::HeadMismatch { head_seq: 5 }
            })
        );
        let gap = "DELETE FROM audit_log WHERE seq = 2";
        store.execute_raw_for_tests(gap).await.unwrap();
        assert_eq!(
            store.verify_audit(tenant).await.unwrap(),
            Err(ChainBreak {
                seq: 3,
                reason: BreakReason::SeqGap { expected: 2 }
            })
        );
    }

    /// The state a node leaves when it dies between a partial erasure's data commit and its key
    /// swap (a successor key that the ledger names) is finished by settling; a successor no
    /// ledger row names is deleted once stale and left alone while it may still be in use.
    async fn interrupted_key_swaps_are_settled(store: SqlStore) {
        use sha2::Digest as _;
        use vern_store::{ErasureStore, SettledSuccessors};
        let tenant = Uuid::now_v7();
        let subject = vern_store::testsuite::new_subject(tenant);
        let id = subject.subject.id;
        store.create_subject(subject.clone()).await.unwrap();
        let blob = |b: &[u8]| {
            let hex: String = b.iter().map(|x| format!("{x:02x}")).collect();
            match store.backend() {
                Backend::Sqlite => format!("X'{hex}'"),
                Backend::Postgres => format!("'\\x{hex}'::bytea"),
            }
        };
        let stage = |wrapped: &[u8], created_at: i64| {
            format!(
                "INSERT INTO subject_key_successors (tenant_id, subject_id, kek_id, wrapped_key, \
                 created_at) VALUES ({}, {}, {}, {}, {created_at})",
                blob(tenant.as_bytes()),
                blob(id.as_bytes()),
                blob(b"kek-1"),
                blob(wrapped),
            )
        };

        // Committed erasure, key not swapped yet.
        let wrapped = vern_store::testsuite::bytes(72);
        store
            .execute_raw_keys_for_tests(&stage(&wrapped, 10))
            .await
            .unwrap();
        let digest = sha2::Sha256::digest(&wrapped).to_vec();
        store
            .execute_raw_for_tests(&format!(
                "INSERT INTO partial_erasures (tenant_id, id, subject_id, erased_at, \
                 kept_records, successor_key) VALUES ({}, {}, {}, 10, '[]', {})",
                blob(tenant.as_bytes()),
                blob(Uuid::now_v7().as_bytes()),
                blob(id.as_bytes()),
                blob(&digest),
            ))
            .await
            .unwrap();
        assert_ne!(
            store.get_subject_key(tenant, id).await.unwrap().wrapped_key,
            wrapped
        );
        let done = store.settle_key_successors(0).await.unwrap();
        assert_eq!(
            done,
            SettledSuccessors {
                promoted: 1,
                discarded: 0
            }
        );
        assert_eq!(
            store.get_subject_key(tenant, id).await.unwrap().wrapped_key,
            wrapped
        );

        // An erasure that never committed: kept while it may still run, deleted once stale.
        let orphan = vern_store::testsuite::bytes(72);
        store
            .execute_raw_keys_for_tests(&stage(&orphan, 1_000))
            .await
            .unwrap();
        let young = store.settle_key_successors(500).await.unwrap();
        assert_eq!(young, SettledSuccessors::default());
        let stale = store.settle_key_successors(2_000).await.unwrap();
        assert_eq!(
            stale,
            SettledSuccessors {
                promoted: 0,
                discarded: 1
            }
        );
        // The subject keeps the key it had.
        assert_eq!(
            store.get_subject_key(tenant, id).await.unwrap().wrapped_key,
            wrapped
        );
        assert_eq!(
            store.settle_key_successors(i64::MAX).await.unwrap(),
            SettledSuccessors::default()
        );
    }

    #[tokio::test]
    async fn interrupted_key_swaps_are_settled_on_sqlite() {
        with_sqlite(interrupted_key_swaps_are_settled).await;
    }

    #[tokio::test]
    async fn interrupted_key_swaps_are_settled_on_postgres() {
        with_postgres(interrupted_key_swaps_are_settled).await;
    }

    #[tokio::test]
    async fn tampering_is_found_on_sqlite() {
        with_sqlite(tampering_is_found).await;
    }

    #[tokio::test]
    async fn tampering_is_found_on_postgres() {
        with_postgres(tampering_is_found).await;
    }

    /// Two stores on one database (two processes on one SQLite file, or two nodes on one
    /// PostgreSQL) append to one tenant's chain at once: writers serialise, the chain holds.
    async fn two_stores_share_one_database(first: SqlStore, second: SqlStore) {
        let tenant = Uuid::now_v7();
        let writer = |store: SqlStore| async move {
            for _ in 0..20 {
                let new = vern_store::testsuite::new_subject(tenant);
                store.create_subject(new).await.unwrap();
                let entry = audit(tenant, "record.read", None);
                store.append_audit(vec![entry]).await.unwrap();
            }
        };
        tokio::join!(writer(first.clone()), writer(second.clone()));
        assert_eq!(second.verify_audit(tenant).await.unwrap(), Ok(80));
        assert_eq!(
            first.list_subjects(tenant, None, 100).await.unwrap().len(),
            40
        );
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn two_stores_share_one_sqlite_database() {
        let dir = crate::harness::TempDir::new();
        let first = SqlStore::open_dir(&dir.0).await.unwrap();
        first.migrate().await.unwrap();
        let second = SqlStore::open_dir(&dir.0).await.unwrap();
        two_stores_share_one_database(first.clone(), second.clone()).await;
        first.close().await;
        second.close().await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn two_stores_share_one_postgres_database() {
        with_postgres_url(|url| async move {
            let first = SqlStore::open_url(&url).await.unwrap();
            first.migrate().await.unwrap();
            let second = SqlStore::open_url(&url).await.unwrap();
            // Both nodes migrate at start-up: the second finds nothing to do.
            second.migrate().await.unwrap();
            two_stores_share_one_database(first.clone(), second.clone()).await;
            first.close().await;
            second.close().await;
        })
        .await;
    }

    #[tokio::test]
    async fn postgres_refuses_sqlite_backup() {
        with_postgres(|store| async move {
            assert_eq!(store.backend(), Backend::Postgres);
            let result = store.backup_sqlite(Path::new("/nonexistent")).await;
            match result {
                Err(StoreError::Refused(msg)) => assert!(msg.contains("pg_dump"), "{msg}"),
                other => panic!("expected Refused, got {other:?}"),
            }
            assert!(!Path::new("/nonexistent").exists());
        })
        .await;
    }
}
