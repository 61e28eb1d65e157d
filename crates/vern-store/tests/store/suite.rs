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
