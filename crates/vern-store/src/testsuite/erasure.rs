//! Partial erasure with a key replacement: the kept records are re-sealed under a fresh key
//! that replaces the subject's key; a value that changed since it was read stops the erasure
//! with nothing changed.

use uuid::Uuid;

use super::{audit, bytes, new_subject, now};
use crate::erasure::{ErasureStore, Keep, Rekey, Resealed, SettledSuccessors};
use crate::model::SubjectKeyRow;
use crate::{Store, StoreError};

fn successor(tenant: Uuid, subject: Uuid) -> SubjectKeyRow {
    SubjectKeyRow {
        tenant_id: tenant,
        subject_id: subject,
        kek_id: b"kek-1".to_vec(),
        wrapped_key: bytes(72),
        created_at: now(),
    }
}

pub async fn partial_erasure_replaces_the_key<S: Store + ErasureStore>(store: &S) {
    let tenant = Uuid::now_v7();
    let subject = new_subject(tenant);
    let id = subject.subject.id;
    let (gone, kept) = (subject.records[0].clone(), subject.records[1].clone());
    store.create_subject(subject.clone()).await.unwrap();

    // A kept value that changed since the vault read it: refused, nothing changed.
    let stale = Rekey {
        key: successor(tenant, id),
        records: vec![Resealed {
            id: kept.id,
            was: bytes(80),
            now: bytes(80),
        }],
        grounds: vec![],
    };
    let refused = store
        .erase_except(
            tenant,
            id,
            Keep {
                records: vec![kept.id],
                rekey: Some(stale),
            },
            now(),
            vec![],
            vec![audit(tenant, "subject.erase", Some(id))],
        )
        .await;
    assert!(
        matches!(refused, Err(StoreError::Conflict(_))),
        "{refused:?}"
    );
    assert_eq!(
        store.get_subject_key(tenant, id).await.unwrap(),
        subject.key
    );
    assert_eq!(store.list_records(tenant, id).await.unwrap().len(), 2);
    assert_eq!(store.list_identifiers(tenant, id).await.unwrap().len(), 1);
    assert_eq!(
        store.settle_key_successors(i64::MAX).await.unwrap(),
        SettledSuccessors::default(),
        "the refused attempt's successor key is gone"
    );

    let new_key = successor(tenant, id);
    let resealed = bytes(80);
    let deleted = store
        .erase_except(
            tenant,
            id,
            Keep {
                records: vec![kept.id],
                rekey: Some(Rekey {
                    key: new_key.clone(),
                    records: vec![Resealed {
                        id: kept.id,
                        was: kept.value_ct.clone(),
                        now: resealed.clone(),
                    }],
                    grounds: vec![],
                }),
            },
            now(),
            vec![],
            vec![audit(tenant, "subject.erase", Some(id))],
        )
        .await
        .unwrap();
    assert_eq!(deleted, 1);
    assert_eq!(store.get_subject_key(tenant, id).await.unwrap(), new_key);
    let left = store.list_records(tenant, id).await.unwrap();
    assert_eq!(left.len(), 1);
    assert_eq!(left[0].id, kept.id);
    assert_eq!(left[0].value_ct, resealed);
    assert!(store.get_record(tenant, id, gone.id).await.is_err());
    assert!(store.list_identifiers(tenant, id).await.unwrap().is_empty());
    let ledger = store.partial_erasures(tenant).await.unwrap();
    assert_eq!(ledger.len(), 1);
    assert_eq!(ledger[0].kept_records, vec![kept.id]);
    assert_eq!(
        store.settle_key_successors(i64::MAX).await.unwrap(),
        SettledSuccessors::default()
    );
}
