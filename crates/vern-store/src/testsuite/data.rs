//! Scenarios for subjects, identifiers, records, bulk import and erasure.

use uuid::Uuid;

use super::{
    assert_conflict, assert_not_found, audit, audit_actions, identifier, new_subject, now, record,
};
use crate::Store;

/// Create, read back, update; missing rows are `NotFound`, a repeated id a `Conflict`.
pub async fn subjects_create_get_update<S: Store>(store: &S) {
    let tenant = Uuid::now_v7();
    let new = new_subject(tenant);
    let id = new.subject.id;
    store.create_subject(new.clone()).await.unwrap();

    assert_eq!(store.get_subject(tenant, id).await.unwrap(), new.subject);
    assert_eq!(store.get_subject_key(tenant, id).await.unwrap(), new.key);
    assert_eq!(
        store.list_identifiers(tenant, id).await.unwrap(),
        new.identifiers
    );
    assert_eq!(store.list_records(tenant, id).await.unwrap(), new.records);
    // Tenants are isolated.
    assert_not_found(store.get_subject(Uuid::now_v7(), id).await, "other tenant");

    let mut changed = new.subject.clone();
    changed.subject_type = "employee".into();
    changed.jurisdiction = None;
    changed.updated_at = now();
    let entry = audit(tenant, "subject.update", Some(id));
    store
        .update_subject(changed.clone(), vec![entry])
        .await
        .unwrap();
    assert_eq!(store.get_subject(tenant, id).await.unwrap(), changed);

    let mut ghost = changed.clone();
    ghost.id = Uuid::now_v7();
    let entry = audit(tenant, "subject.update", Some(ghost.id));
    assert_not_found(
        store.update_subject(ghost, vec![entry]).await,
        "update missing",
    );
    assert_not_found(
        store.get_subject(tenant, Uuid::now_v7()).await,
        "get missing",
    );
    assert_conflict(store.create_subject(new).await, "subject_keys");
    // A refused write leaves no audit entry behind.
    assert_eq!(
        audit_actions(store, tenant).await,
        ["subject.create", "subject.update"]
    );
}

/// Keyset pages in id (creation) order, honouring `after` and `limit`, per tenant.
pub async fn subjects_list_keyset<S: Store>(store: &S) {
    let tenant = Uuid::now_v7();
    let mut ids = Vec::new();
    for _ in 0..5 {
        let new = new_subject(tenant);
        ids.push(new.subject.id);
        store.create_subject(new).await.unwrap();
    }
    store
        .create_subject(new_subject(Uuid::now_v7()))
        .await
        .unwrap();
    ids.sort();

    let page = |after, limit| async move {
        store
            .list_subjects(tenant, after, limit)
            .await
            .unwrap()
            .into_iter()
            .map(|s| s.id)
            .collect::<Vec<_>>()
    };
    assert_eq!(page(None, 100).await, ids);
    assert_eq!(page(None, 2).await, ids[..2]);
    assert_eq!(page(Some(ids[1]), 2).await, ids[2..4]);
    assert_eq!(page(Some(ids[3]), 2).await, ids[4..]);
    assert!(page(Some(ids[4]), 2).await.is_empty());
    assert!(page(None, 0).await.is_empty());
    // `after` need not exist: pages continue from where it would be.
    assert_eq!(page(Some(Uuid::nil()), 1).await, ids[..1]);
}

/// Identifiers: add, list, find by blind index, uniqueness per (tenant, kind, index), delete.
pub async fn identifiers_lifecycle<S: Store>(store: &S) {
    let tenant = Uuid::now_v7();
    let a = new_subject(tenant);
    let b = new_subject(tenant);
    let (sa, sb) = (a.subject.id, b.subject.id);
    let email = a.identifiers[0].clone();
    store.create_subject(a).await.unwrap();
    store.create_subject(b).await.unwrap();

    let phone = identifier(tenant, sa, "phone");
    store
        .add_identifier(
            phone.clone(),
            vec![audit(tenant, "identifier.add", Some(sa))],
        )
        .await
        .unwrap();
    assert_eq!(
        store.list_identifiers(tenant, sa).await.unwrap(),
        vec![email.clone(), phone.clone()]
    );
    let find = |kind: &'static str, index: Vec<u8>| async move {
        store
            .find_by_blind_index(tenant, kind, &index)
            .await
            .unwrap()
    };
    assert_eq!(find("email", email.blind_index.clone()).await, Some(sa));
    assert_eq!(find("phone", phone.blind_index.clone()).await, Some(sa));
    // The same index under another kind is another identifier.
    assert_eq!(find("phone", email.blind_index.clone()).await, None);

    // Another subject cannot take the same email…
    let mut taken = identifier(tenant, sb, "email");
    taken.blind_index = email.blind_index.clone();
    let entry = audit(tenant, "identifier.add", Some(sb));
    assert_conflict(
        store.add_identifier(taken.clone(), vec![entry]).await,
        "identifiers",
    );
    // …but the same kind with that index is fine in another tenant.
    let other = new_subject(Uuid::now_v7());
    let mut elsewhere = other.identifiers[0].clone();
    elsewhere.blind_index = email.blind_index.clone();
    let mut other = other;
    other.identifiers = vec![elsewhere];
    store.create_subject(other).await.unwrap();

    // An identifier for a subject that does not exist.
    let orphan = identifier(tenant, Uuid::now_v7(), "email");
    assert_not_found(
        store.add_identifier(orphan, vec![]).await,
        "orphan identifier",
    );

    let entry = audit(tenant, "identifier.delete", Some(sa));
    store
        .delete_identifier(tenant, sa, phone.id, vec![entry])
        .await
        .unwrap();
    assert_eq!(find("phone", phone.blind_index.clone()).await, None);
    assert_eq!(
        store.list_identifiers(tenant, sa).await.unwrap(),
        vec![email]
    );
    assert_not_found(
        store.delete_identifier(tenant, sa, phone.id, vec![]).await,
        "delete twice",
    );
    // Deleting needs the right subject too.
    assert_not_found(
        store.delete_identifier(tenant, sb, taken.id, vec![]).await,
        "delete never added",
    );
}

/// Records: add, get, list in id order, update, delete.
pub async fn records_lifecycle<S: Store>(store: &S) {
    let tenant = Uuid::now_v7();
    let new = new_subject(tenant);
    let sid = new.subject.id;
    let mut expected = new.records.clone();
    store.create_subject(new).await.unwrap();

    let mut extra = record(tenant, sid, "preferences");
    extra.purposes = vec![];
    extra.last_activity_at = Some(now());
    extra.originating_system = None;
    store
        .add_record(extra.clone(), vec![audit(tenant, "record.add", Some(sid))])
        .await
        .unwrap();
    expected.push(extra.clone());
    assert_eq!(
        store.get_record(tenant, sid, extra.id).await.unwrap(),
        extra
    );
    assert_eq!(store.list_records(tenant, sid).await.unwrap(), expected);

    let mut changed = extra.clone();
    changed.value_ct = vec![0, 1, 2, 255];
    changed.purposes = vec!["marketing".into()];
    changed.legal_basis = "consent".into();
    changed.last_activity_at = None;
    changed.originating_system = Some("shop".into());
    changed.updated_at = now();
    store
        .update_record(
            changed.clone(),
            vec![audit(tenant, "record.update", Some(sid))],
        )
        .await
        .unwrap();
    assert_eq!(
        store.get_record(tenant, sid, extra.id).await.unwrap(),
        changed
    );

    let mut ghost = changed.clone();
    ghost.id = Uuid::now_v7();
    assert_not_found(store.update_record(ghost, vec![]).await, "update missing");
    assert_not_found(
        store.get_record(tenant, Uuid::now_v7(), extra.id).await,
        "wrong subject",
    );
    let orphan = record(tenant, Uuid::now_v7(), "contact");
    assert_not_found(store.add_record(orphan, vec![]).await, "orphan record");

    store
        .delete_record(
            tenant,
            sid,
            extra.id,
            vec![audit(tenant, "record.delete", Some(sid))],
        )
        .await
        .unwrap();
    assert_not_found(store.get_record(tenant, sid, extra.id).await, "deleted");
    assert_not_found(
        store.delete_record(tenant, sid, extra.id, vec![]).await,
        "delete twice",
    );
    expected.pop();
    assert_eq!(store.list_records(tenant, sid).await.unwrap(), expected);
    assert_eq!(
        audit_actions(store, tenant).await,
        [
            "subject.create",
            "record.add",
            "record.update",
            "record.delete"
        ]
    );
}

/// A batch lands whole: subjects, keys, identifiers, records and audit entries.
pub async fn import_batch_roundtrip<S: Store>(store: &S) {
    let tenant = Uuid::now_v7();
    let batch: Vec<_> = (0..120).map(|_| new_subject(tenant)).collect();
    store.import_batch(batch.clone()).await.unwrap();
    store.import_batch(vec![]).await.unwrap();
    let listed = store.list_subjects(tenant, None, 1000).await.unwrap();
    assert_eq!(listed.len(), batch.len());
    for new in &batch {
        let id = new.subject.id;
        assert_eq!(store.get_subject(tenant, id).await.unwrap(), new.subject);
        assert_eq!(store.get_subject_key(tenant, id).await.unwrap(), new.key);
        assert_eq!(
            store.list_identifiers(tenant, id).await.unwrap(),
            new.identifiers
        );
        assert_eq!(store.list_records(tenant, id).await.unwrap(), new.records);
    }
    assert_eq!(audit_actions(store, tenant).await.len(), batch.len());
}

/// A batch with one bad row leaves nothing behind: no subject, no key, no audit entry.
pub async fn import_batch_is_all_or_nothing<S: Store>(store: &S) {
    let tenant = Uuid::now_v7();
    let existing = new_subject(tenant);
    store.create_subject(existing.clone()).await.unwrap();

    // Duplicate inside the batch.
    let mut batch: Vec<_> = (0..10).map(|_| new_subject(tenant)).collect();
    let dup = batch[2].identifiers[0].blind_index.clone();
    batch[7].identifiers[0].blind_index = dup;
    assert_conflict(store.import_batch(batch.clone()).await, "identifiers");
    assert_nothing_left(store, tenant, &batch).await;

    // Duplicate of a stored identifier.
    let mut batch: Vec<_> = (0..10).map(|_| new_subject(tenant)).collect();
    batch[9].identifiers[0].blind_index = existing.identifiers[0].blind_index.clone();
    assert_conflict(store.import_batch(batch.clone()).await, "identifiers");
    assert_nothing_left(store, tenant, &batch).await;

    // A subject that already exists.
    let mut batch: Vec<_> = (0..3).map(|_| new_subject(tenant)).collect();
    batch.push(existing.clone());
    assert_conflict(store.import_batch(batch.clone()).await, "subject_keys");
    assert_nothing_left(store, tenant, &batch[..3]).await;

    assert_eq!(
        store.list_subjects(tenant, None, 100).await.unwrap(),
        vec![existing.subject]
    );
    assert_eq!(audit_actions(store, tenant).await, ["subject.create"]);
}

async fn assert_nothing_left<S: Store>(store: &S, tenant: Uuid, batch: &[crate::NewSubject]) {
    for new in batch {
        let id = new.subject.id;
        assert_not_found(
            store.get_subject(tenant, id).await,
            "subject of failed batch",
        );
        assert_not_found(
            store.get_subject_key(tenant, id).await,
            "key of failed batch",
        );
        assert!(store.list_records(tenant, id).await.unwrap().is_empty());
        assert!(store.list_identifiers(tenant, id).await.unwrap().is_empty());
    }
}

/// Erasure destroys the key and every row, records the subject in the ledger, is audited,
/// and leaves other subjects alone.
pub async fn erase_shreds_key_and_rows<S: Store>(store: &S) {
    let tenant = Uuid::now_v7();
    let gone = new_subject(tenant);
    let kept = new_subject(tenant);
    let id = gone.subject.id;
    store.create_subject(gone.clone()).await.unwrap();
    store.create_subject(kept.clone()).await.unwrap();
    assert!(store.erased_subjects(tenant).await.unwrap().is_empty());

    let at = now();
    store
        .erase_subject(
            tenant,
            id,
            at,
            vec![audit(tenant, "subject.erase", Some(id))],
        )
        .await
        .unwrap();
    assert_not_found(store.get_subject(tenant, id).await, "erased subject");
    assert_not_found(store.get_subject_key(tenant, id).await, "erased key");
    assert!(store.list_identifiers(tenant, id).await.unwrap().is_empty());
    assert!(store.list_records(tenant, id).await.unwrap().is_empty());
    let email = &gone.identifiers[0].blind_index;
    assert_eq!(
        store
            .find_by_blind_index(tenant, "email", email)
            .await
            .unwrap(),
        None
    );
    for r in &gone.records {
        assert_not_found(store.get_record(tenant, id, r.id).await, "erased record");
    }
    assert_eq!(store.erased_subjects(tenant).await.unwrap(), vec![id]);
    assert_not_found(
        store.erase_subject(tenant, id, now(), vec![]).await,
        "erase twice",
    );

    // The other subject is untouched, and the email is free for a new subject.
    let kid = kept.subject.id;
    assert_eq!(store.get_subject(tenant, kid).await.unwrap(), kept.subject);
    assert_eq!(store.get_subject_key(tenant, kid).await.unwrap(), kept.key);
    assert_eq!(store.list_records(tenant, kid).await.unwrap(), kept.records);
    let mut again = new_subject(tenant);
    again.identifiers[0].blind_index = email.clone();
    store.create_subject(again).await.unwrap();

    assert_eq!(
        audit_actions(store, tenant).await,
        [
            "subject.create",
            "subject.create",
            "subject.erase",
            "subject.create"
        ]
    );
    assert_not_found(
        store
            .erase_subject(Uuid::now_v7(), kid, now(), vec![])
            .await,
        "erase in another tenant",
    );
    assert_eq!(store.get_subject(tenant, kid).await.unwrap(), kept.subject);
}
