//! Retention and jobs in the store, on SQLite and PostgreSQL: sweep batches delete each
//! record once with matching evidence, erase emptied subjects and shred their keys; holds;
//! job claims, leases, retries and dead letters.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::atomic::{AtomicUsize, Ordering};

use uuid::Uuid;
use vern_store::jobs::state;
use vern_store::testsuite::{audit, new_subject};
use vern_store::{
    JobRow, JobStore, LegalHoldRow, RetentionStore, SqlStore, Store, StoreError, SweepItem,
};

use crate::harness::{with_postgres, with_sqlite};

fn item(subject: Uuid, id: Uuid, category: &str) -> SweepItem {
    SweepItem {
        subject_id: subject,
        id,
        category: category.into(),
        rule: "r".into(),
        action: "delete".into(),
    }
}

async fn sweep_scenario(store: SqlStore) {
    let tenant = Uuid::now_v7();
    // Subject a: both records expired at 100; subject b: one expired, one at 1000.
    let mut a = new_subject(tenant);
    let mut b = new_subject(tenant);
    for r in &mut a.records {
        r.expires_at = Some(100);
    }
    b.records[0].expires_at = Some(100);
    b.records[1].expires_at = Some(1000);
    let (a_id, b_id) = (a.subject.id, b.subject.id);
    store
        .import_batch(vec![a.clone(), b.clone()])
        .await
        .unwrap();

    let expired = store.expired_records(tenant, 500, None, 10).await.unwrap();
    assert_eq!(expired.len(), 3);
    // Keyset paging gives the same rows in pages.
    let first = store.expired_records(tenant, 500, None, 2).await.unwrap();
    let last = first.last().map(|r| (r.expires_at, r.id));
    let rest = store.expired_records(tenant, 500, last, 2).await.unwrap();
    assert_eq!(first.len() + rest.len(), 3);

    let items: Vec<SweepItem> = expired
        .iter()
        .map(|r| item(r.subject_id, r.id, &r.category))
        .collect();
    let out = store
        .sweep_batch(
            tenant,
            500,
            items.clone(),
            vec![audit(tenant, "retention.sweep", None)],
        )
        .await
        .unwrap();
    assert_eq!(out.deleted, 3);
    assert_eq!(out.subjects_erased, 1);
    // The same batch again (a crashed sweep retried, a second node): nothing twice.
    let again = store
        .sweep_batch(
            tenant,
            500,
            items,
            vec![audit(tenant, "retention.sweep", None)],
        )
        .await
        .unwrap();
    assert_eq!(again.deleted, 0);
    assert_eq!(store.evidence_total(tenant).await.unwrap(), 3);

    assert!(matches!(
        store.get_subject(tenant, a_id).await,
        Err(StoreError::NotFound)
    ));
    assert_eq!(store.list_records(tenant, b_id).await.unwrap().len(), 1);
    assert_eq!(store.erased_subjects(tenant).await.unwrap(), vec![a_id]);
    // The emptied subject's key is shredded after the commit; b keeps its key.
    assert!(store.get_subject_key(tenant, a_id).await.is_ok());
    assert_eq!(store.shred_pending_keys(100).await.unwrap(), 1);
    assert!(matches!(
        store.get_subject_key(tenant, a_id).await,
        Err(StoreError::NotFound)
    ));
    assert!(store.get_subject_key(tenant, b_id).await.is_ok());
    assert_eq!(store.shred_pending_keys(100).await.unwrap(), 0);

    let evidence = store.evidence_for_subject(tenant, a_id).await.unwrap();
    assert_eq!(evidence.iter().map(|e| e.count).sum::<i64>(), 2);

    // A record whose expiry moved (new activity) after it was read is not deleted.
    let later = store.expired_records(tenant, 5000, None, 10).await.unwrap();
    assert_eq!(later.len(), 1);
    store
        .set_expiries(
            tenant,
            vec![(b_id, later[0].id, Some(9000), Some("r".into()))],
        )
        .await
        .unwrap();
    let stale = store
        .sweep_batch(
            tenant,
            5000,
            vec![item(b_id, later[0].id, "contact")],
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(stale.deleted, 0);
    assert_eq!(
        store
            .expiring_counts(tenant, 5000, 10_000)
            .await
            .unwrap()
            .len(),
        1
    );
}

/// The batches of a sweep without holds: expired ids, deletion of those still expired with
/// what was deleted, anonymising by rule, evidence, emptied subjects, audit only when something
/// went, other tenants untouched.
async fn sweep_ids_scenario(store: SqlStore) {
    let tenant = Uuid::now_v7();
    let other = Uuid::now_v7();
    // a: both records expired (at 100 and 200); b: one expired at 300 under an anonymising
    // rule, one at 1000; another tenant's record expired at 50.
    let mut a = new_subject(tenant);
    a.records[0].expires_at = Some(100);
    a.records[1].expires_at = Some(200);
    let mut b = new_subject(tenant);
    b.records[0].expires_at = Some(300);
    b.records[0].retention_rule = Some("anon".into());
    b.records[1].expires_at = Some(1000);
    let mut c = new_subject(other);
    c.records[0].expires_at = Some(50);
    let (a_id, b_id, c_id) = (a.subject.id, b.subject.id, c.subject.id);
    store.import_batch(vec![a, b]).await.unwrap();
    store.import_batch(vec![c]).await.unwrap();
    let anonymise: BTreeSet<String> = ["anon".to_owned()].into();
    let audits = AtomicUsize::new(0);
    let audit_of = |records: u64, rules: &BTreeMap<String, u64>| {
        audits.fetch_add(1, Ordering::SeqCst);
        assert_eq!(rules.values().sum::<u64>(), records);
        vec![audit(tenant, "retention.sweep", None)]
    };

    let mut ids = store.expired_ids(tenant, 500, 10).await.unwrap();
    assert_eq!(ids.len(), 3);
    assert_eq!(store.expired_ids(tenant, 500, 2).await.unwrap().len(), 2);
    ids.sort();
    let a_ids: Vec<Uuid> = store
        .list_records(tenant, a_id)
        .await
        .unwrap()
        .iter()
        .map(|r| r.id)
        .collect();
    let first = store
        .sweep_ids(tenant, 500, &a_ids, &anonymise, audit_of)
        .await
        .unwrap();
    assert_eq!(
        (first.deleted, first.subjects_erased, first.evidence_rows),
        (2, 1, 2)
    );
    assert_eq!(store.list_records(tenant, b_id).await.unwrap().len(), 2);
    // The whole list again (a retried batch, a second sweeper): only b's record is left to go.
    let second = store
        .sweep_ids(tenant, 500, &ids, &anonymise, audit_of)
        .await
        .unwrap();
    assert_eq!((second.deleted, second.subjects_erased), (1, 0));
    let none = store
        .sweep_ids(tenant, 500, &ids, &anonymise, audit_of)
        .await
        .unwrap();
    assert_eq!(none.deleted, 0);
    assert!(store.expired_ids(tenant, 500, 10).await.unwrap().is_empty());
    // An id that has not expired is not deleted: b's other record, and c's from another tenant.
    let not_due: Vec<Uuid> = store
        .list_records(tenant, b_id)
        .await
        .unwrap()
        .iter()
        .map(|r| r.id)
        .collect();
    let c_rec = store.list_records(other, c_id).await.unwrap()[0].id;
    let refused = store
        .sweep_ids(tenant, 500, &[not_due[0], c_rec], &anonymise, audit_of)
        .await
        .unwrap();
    assert_eq!(refused.deleted, 0);
    assert_eq!(audits.load(Ordering::SeqCst), 2);

    assert_eq!(store.evidence_total(tenant).await.unwrap(), 3);
    let kept = store.list_records(tenant, b_id).await.unwrap();
    assert_eq!(kept.len(), 1);
    assert_eq!(kept[0].expires_at, Some(1000));
    let evidence = store.evidence_for_subject(tenant, b_id).await.unwrap();
    assert_eq!(evidence.len(), 1);
    assert_eq!(evidence[0].action, "anonymise");
    assert_eq!(evidence[0].rule, "anon");
    let counts = store.anonymised_counts(tenant).await.unwrap();
    assert_eq!(counts.iter().map(|c| c.count).sum::<i64>(), 1);
    assert_eq!(counts[0].rule, "anon");
    assert!(matches!(
        store.get_subject(tenant, a_id).await,
        Err(StoreError::NotFound)
    ));
    assert_eq!(store.erased_subjects(tenant).await.unwrap(), vec![a_id]);
    // The other tenant's expired record is still there.
    assert_eq!(store.list_records(other, c_id).await.unwrap().len(), 2);
    assert_eq!(store.evidence_total(other).await.unwrap(), 0);
}

async fn holds_scenario(store: SqlStore) {
    let tenant = Uuid::now_v7();
    let hold = LegalHoldRow {
        tenant_id: tenant,
        id: Uuid::now_v7(),
        subject_id: Some(Uuid::now_v7()),
        matter: Some("case-17".into()),
        categories: vec!["finance".into()],
        reason: "pending dispute".into(),
        review_at: 10,
        approved_by: "token:x".into(),
        created_by: "token:x".into(),
        created_at: 1,
        released_at: None,
        released_by: None,
        release_reason: None,
    };
    store.create_hold(hold.clone(), vec![]).await.unwrap();
    assert_eq!(
        store.list_holds(tenant, false).await.unwrap(),
        vec![hold.clone()]
    );
    store
        .release_hold(tenant, hold.id, 5, "token:y", "settled", vec![])
        .await
        .unwrap();
    assert!(store.list_holds(tenant, false).await.unwrap().is_empty());
    let released = store.get_hold(tenant, hold.id).await.unwrap();
    assert_eq!(released.released_at, Some(5));
    assert!(matches!(
        store
            .release_hold(tenant, hold.id, 6, "token:y", "again", vec![])
            .await,
        Err(StoreError::NotFound)
    ));
}

fn job(kind: &str, run_at: i64, unique: Option<&str>) -> JobRow {
    JobRow {
        id: Uuid::now_v7(),
        kind: kind.into(),
        payload: "{}".into(),
        state: state::QUEUED.into(),
        run_at,
        attempts: 0,
        max_attempts: 2,
        lease_owner: None,
        lease_until: None,
        last_error: None,
        unique_key: unique.map(str::to_owned),
        created_at: 0,
        updated_at: 0,
    }
}

async fn jobs_scenario(store: SqlStore) {
    assert!(
        store
            .enqueue(job("sweep", 10, Some("sweep:1")))
            .await
            .unwrap()
    );
    assert!(
        !store
            .enqueue(job("sweep", 10, Some("sweep:1")))
            .await
            .unwrap()
    );
    // Not due yet.
    assert!(store.claim("n1", 5, 100, &[]).await.unwrap().is_none());
    let claimed = store
        .claim("n1", 10, 100, &["sweep"])
        .await
        .unwrap()
        .unwrap();
    assert_eq!(claimed.attempts, 1);
    // Leased: nobody else gets it until the lease runs out.
    assert!(store.claim("n2", 50, 150, &[]).await.unwrap().is_none());
    // n1 "crashed"; n2 takes it after the lease, and n1 can no longer finish it.
    let retaken = store.claim("n2", 100, 200, &[]).await.unwrap().unwrap();
    assert_eq!(retaken.id, claimed.id);
    assert_eq!(retaken.attempts, 2);
    assert!(!store.complete(claimed.id, "n1", 101).await.unwrap());
    // Two attempts spent: a failure makes it a dead letter.
    assert!(
        store
            .fail(claimed.id, "n2", 110, "boom", 120)
            .await
            .unwrap()
    );
    let dead = store.list_jobs(Some(state::DEAD), 10).await.unwrap();
    assert_eq!(dead.len(), 1);
    assert_eq!(dead[0].last_error.as_deref(), Some("boom"));
    store.retry_dead(claimed.id, 130).await.unwrap();
    let again = store.claim("n3", 130, 230, &[]).await.unwrap().unwrap();
    assert!(store.complete(again.id, "n3", 131).await.unwrap());
    assert_eq!(store.get_job(again.id).await.unwrap().state, state::DONE);
    // Kinds filter.
    store.enqueue(job("mail", 0, None)).await.unwrap();
    assert!(
        store
            .claim("n1", 200, 300, &["sweep"])
            .await
            .unwrap()
            .is_none()
    );
    assert!(
        store
            .claim("n1", 200, 300, &["mail"])
            .await
            .unwrap()
            .is_some()
    );
}

#[tokio::test]
async fn sqlite_sweep_batches_delete_once_with_evidence() {
    with_sqlite(sweep_scenario).await;
}

#[tokio::test]
async fn postgres_sweep_batches_delete_once_with_evidence() {
    with_postgres(sweep_scenario).await;
}

#[tokio::test]
async fn sqlite_sweep_ids_delete_what_is_still_expired_with_evidence() {
    with_sqlite(sweep_ids_scenario).await;
}

#[tokio::test]
async fn postgres_sweep_ids_delete_what_is_still_expired_with_evidence() {
    with_postgres(sweep_ids_scenario).await;
}

#[tokio::test]
async fn sqlite_legal_holds() {
    with_sqlite(holds_scenario).await;
}

#[tokio::test]
async fn postgres_legal_holds() {
    with_postgres(holds_scenario).await;
}

#[tokio::test]
async fn sqlite_jobs_lease_retry_dead_letter() {
    with_sqlite(jobs_scenario).await;
}

#[tokio::test]
async fn postgres_jobs_lease_retry_dead_letter() {
    with_postgres(jobs_scenario).await;
}

#[tokio::test]
async fn evidence_is_append_only() {
    with_sqlite(|store| async move {
        store
            .execute_raw_for_tests(
                "INSERT INTO deletion_evidence VALUES (x'00', x'01', 1, x'02', 'r', 'c', 'delete', 1)",
            )
            .await
            .unwrap();
        assert!(store.execute_raw_for_tests("DELETE FROM deletion_evidence").await.is_err());
        assert!(
            store
                .execute_raw_for_tests("UPDATE deletion_evidence SET count = 2")
                .await
                .is_err()
        );
    })
    .await;
}

/// A sweep batch that erases 5,000 emptied subjects is fast on SQLite. It used to take
/// seconds per thousand: without planner statistics SQLite ran each deleted subject's
/// foreign-key cascade into `records` as a scan of the tenant's records under the primary key
/// instead of a lookup in `records_subject_idx` (migration 0008, decision 0009).
#[tokio::test]
async fn sqlite_sweep_batch_over_many_subjects_is_fast() {
    with_sqlite(|store| async move {
        let tenant = Uuid::now_v7();
        let t = tenant.simple().to_string();
        let n = 20_000;
        store
            .execute_raw_for_tests(&format!(
                "WITH RECURSIVE s(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM s WHERE i < {n} - 1) \
                 INSERT INTO subjects (tenant_id, id, subject_type, jurisdiction, created_at, updated_at) \
                 SELECT x'{t}', unhex(printf('01900000000070008000%012x', i)), 'lead', NULL, 0, 0 FROM s"
            ))
            .await
            .unwrap();
        store
            .execute_raw_for_tests(&format!(
                "WITH RECURSIVE s(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM s WHERE i < {n} - 1) \
                 INSERT INTO records (tenant_id, id, subject_id, category, value_ct, source, purposes, \
                 legal_basis, collected_at, created_at, updated_at, expires_at, retention_rule) \
                 SELECT x'{t}', unhex(printf('01910000000070008000%012x', i)), \
                 unhex(printf('01900000000070008000%012x', i)), 'contact', x'00', 'direct', '[]', \
                 'consent', 0, 0, 0, 1000 + i, 'r' FROM s"
            ))
            .await
            .unwrap();
        let page = store.expired_records(tenant, i64::MAX, None, 5000).await.unwrap();
        let items: Vec<SweepItem> = page
            .iter()
            .map(|r| item(r.subject_id, r.id, &r.category))
            .collect();
        let started = std::time::Instant::now();
        let out = store.sweep_batch(tenant, i64::MAX, items, vec![]).await.unwrap();
        let took = started.elapsed();
        assert_eq!(out.deleted, 5000);
        assert_eq!(out.subjects_erased, 5000);
        assert!(took < std::time::Duration::from_secs(5), "took {took:?}");
    })
    .await;
}
