//! Data-subject requests in the store, on both backends: concurrent inserts under one
//! idempotency key make one request, a stale update is a conflict, and the history is
//! append-only.

use uuid::Uuid;
use vern_core::ids::{DEFAULT_TENANT, new_id};
use vern_store::{
    RequestChange, RequestEventRow, RequestFilter, RequestRow, RequestStore, SqlStore, StoreError,
};

use crate::harness::{with_postgres, with_sqlite};

fn change(id: Uuid, key: Option<&str>, digest: u8) -> RequestChange {
    let row = RequestRow {
        tenant_id: DEFAULT_TENANT,
        id,
        reference: format!("DSR-{}", id.simple()),
        state: "received".into(),
        rights: vec!["access".into()],
        channel: "api".into(),
        lang: "en".into(),
        subject_id: None,
        case_ct: vec![1, 2, 3],
        received_at: 1,
        received_on: "2026-01-31".into(),
        due_initial: "2026-02-28".into(),
        due_max: "2026-04-28".into(),
        due: "2026-02-28".into(),
        created_by: "token:x".into(),
        idem_key: key.map(str::to_owned),
        idem_digest: key.map(|_| vec![digest]),
        requester_index: None,
        closed_at: None,
        updated_at: 1,
        version: 1,
    };
    RequestChange {
        download: None,
        reissue_download: None,
        event: RequestEventRow {
            tenant_id: DEFAULT_TENANT,
            id: new_id(),
            request_id: id,
            at: 1,
            actor: "token:x".into(),
            action: "receive".into(),
            from_state: None,
            to_state: "received".into(),
        },
        row,
        expected_version: None,
        clear_verifications: false,
        verification: None,
        jobs: Vec::new(),
        mail: Vec::new(),
        audit: Vec::new(),
    }
}

async fn scenario(store: SqlStore) {
    // 50 concurrent inserts with one key: one row, and every caller learns its id.
    let mut tasks = Vec::new();
    for _ in 0..50 {
        let s = store.clone();
        tasks.push(tokio::spawn(async move {
            let id = new_id();
            match s.insert_request(change(id, Some("k1"), 7)).await.unwrap() {
                None => id,
                Some(existing) => existing.id,
            }
        }));
    }
    let mut ids = std::collections::BTreeSet::new();
    for t in tasks {
        ids.insert(t.await.unwrap());
    }
    assert_eq!(ids.len(), 1);
    assert_eq!(store.count_requests(DEFAULT_TENANT).await.unwrap(), 1);
    // Without a key, each insert is a request.
    for _ in 0..3 {
        assert!(
            store
                .insert_request(change(new_id(), None, 0))
                .await
                .unwrap()
                .is_none()
        );
    }
    assert_eq!(store.count_requests(DEFAULT_TENANT).await.unwrap(), 4);

    // A stale version is a conflict and changes nothing.
    let id = *ids.iter().next().unwrap();
    let mut c = change(id, Some("k1"), 7);
    c.row.state = "withdrawn".into();
    c.row.version = 2;
    c.expected_version = Some(1);
    store.update_request(c.clone()).await.unwrap();
    c.event.id = new_id();
    assert!(matches!(
        store.update_request(c).await,
        Err(StoreError::Conflict(_))
    ));
    assert_eq!(
        store
            .request_events(DEFAULT_TENANT, id)
            .await
            .unwrap()
            .len(),
        2
    );
    let listed = store
        .list_requests(
            DEFAULT_TENANT,
            RequestFilter {
                state: Some("withdrawn".into()),
                limit: 10,
                ..RequestFilter::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(listed.len(), 1);
    // The history refuses changes.
    assert!(
        store
            .execute_raw_for_tests("DELETE FROM dsr_request_events")
            .await
            .is_err()
    );
}

#[tokio::test]
async fn sqlite_requests() {
    with_sqlite(scenario).await;
}

#[tokio::test]
async fn postgres_requests() {
    with_postgres(scenario).await;
}
