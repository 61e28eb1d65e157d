//! Scenarios for the audit chain, tokens, idempotency, the keyring and key rotation, and the
//! database-level append-only guard.

use uuid::Uuid;

use super::{
    assert_conflict, assert_not_found, audit, audit_actions, bytes, new_subject,
    new_subject_with_kek, now, verified_audit,
};
use crate::audit_chain::GENESIS_HASH;
use crate::model::{IdempotencyRow, KeyringRow, SubjectKeyRow, TokenRow};
use crate::{SqlStore, Store, StoreError};

/// Every write appends its entries; the chain starts at seq 1 on the genesis hash, has no
/// gaps, and pages by `from`/`limit`.
pub async fn audit_chain_grows_with_writes<S: Store>(store: &S) {
    let tenant = Uuid::now_v7();
    assert!(store.read_audit(tenant, 1, 10).await.unwrap().is_empty());
    let new = new_subject(tenant);
    let sid = new.subject.id;
    store.create_subject(new).await.unwrap();
    let entries = vec![
        audit(tenant, "record.read", Some(sid)),
        audit(tenant, "record.read_denied", None),
    ];
    store.append_audit(entries.clone()).await.unwrap();
    store.append_audit(vec![]).await.unwrap();

    let rows = verified_audit(store, tenant).await;
    assert_eq!(rows.len(), 3);
    assert_eq!(rows[0].seq, 1);
    assert_eq!(rows[0].prev_hash, GENESIS_HASH.to_vec());
    assert_eq!(rows[1].entry, entries[0]);
    assert_eq!(rows[2].entry, entries[1]);
    assert_eq!(rows[2].prev_hash, rows[1].hash);

    let window = store.read_audit(tenant, 2, 1).await.unwrap();
    assert_eq!(window, rows[1..2]);
    assert!(store.read_audit(tenant, 4, 10).await.unwrap().is_empty());

    // Chains are per tenant: another tenant starts at 1, and one append may span tenants.
    let other = Uuid::now_v7();
    store
        .append_audit(vec![
            audit(other, "token.create", None),
            audit(tenant, "record.read", Some(sid)),
            audit(other, "token.revoke", None),
        ])
        .await
        .unwrap();
    let other_rows = verified_audit(store, other).await;
    assert_eq!(other_rows.iter().map(|r| r.seq).collect::<Vec<_>>(), [1, 2]);
    assert_eq!(verified_audit(store, tenant).await.len(), 4);
}

/// Concurrent appenders for one tenant queue on the chain head: no seq is lost or repeated.
pub async fn audit_concurrent_appends_stay_chained<S: Store>(store: &S) {
    let tenant = Uuid::now_v7();
    let writer = |n: usize| async move {
        for _ in 0..n {
            let entries = vec![audit(tenant, "record.read", None), audit(tenant, "x", None)];
            store.append_audit(entries).await.unwrap();
        }
    };
    tokio::join!(writer(8), writer(8), writer(8), writer(8));
    let rows = verified_audit(store, tenant).await;
    assert_eq!(rows.len(), 64);
    assert_eq!(rows.last().map(|r| r.seq), Some(64));
}

fn token(tenant: Uuid, name: &str) -> TokenRow {
    TokenRow {
        tenant_id: tenant,
        id: Uuid::now_v7(),
        name: name.into(),
        role: "admin".into(),
        token_hash: bytes(32),
        created_at: now(),
        revoked_at: None,
    }
}

/// Tokens: create, find by hash, list, revoke (once), count; hashes are unique.
pub async fn tokens_lifecycle<S: Store>(store: &S) {
    let tenant = Uuid::now_v7();
    let before = store.count_tokens().await.unwrap();
    let a = token(tenant, "ci");
    let b = token(tenant, "ops");
    for t in [&a, &b] {
        let entry = audit(tenant, "token.create", None);
        store.create_token(t.clone(), vec![entry]).await.unwrap();
    }
    assert!(store.count_tokens().await.unwrap() >= before + 2);
    assert_eq!(
        store.find_token_by_hash(&a.token_hash).await.unwrap(),
        Some(a.clone())
    );
    assert_eq!(store.find_token_by_hash(&bytes(32)).await.unwrap(), None);
    assert_eq!(
        store.list_tokens(tenant).await.unwrap(),
        vec![a.clone(), b.clone()]
    );
    assert!(store.list_tokens(Uuid::now_v7()).await.unwrap().is_empty());

    let mut same_hash = token(tenant, "copy");
    same_hash.token_hash = a.token_hash.clone();
    assert_conflict(store.create_token(same_hash, vec![]).await, "api_tokens");

    let at = now();
    let entry = audit(tenant, "token.revoke", None);
    store
        .revoke_token(tenant, a.id, at, vec![entry])
        .await
        .unwrap();
    store
        .revoke_token(tenant, a.id, now(), vec![])
        .await
        .unwrap();
    let found = store
        .find_token_by_hash(&a.token_hash)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        found.revoked_at,
        Some(at),
        "a second revoke keeps the first time"
    );
    assert_not_found(
        store
            .revoke_token(tenant, Uuid::now_v7(), now(), vec![])
            .await,
        "revoke missing",
    );
    assert_eq!(
        audit_actions(store, tenant).await,
        ["token.create", "token.create", "token.revoke"]
    );
}

/// Idempotency: nothing, then the stored response; the first response wins.
pub async fn idempotency_put_get<S: Store>(store: &S) {
    let tenant = Uuid::now_v7();
    let token = Uuid::now_v7();
    assert_eq!(
        store.get_idempotent(tenant, token, "k-1").await.unwrap(),
        None
    );
    let row = IdempotencyRow {
        tenant_id: tenant,
        token_id: token,
        key: "k-1".into(),
        request_hash: bytes(32),
        status: 201,
        body: br#"{"id":"x"}"#.to_vec(),
        created_at: now(),
    };
    store.put_idempotent(row.clone()).await.unwrap();
    assert_eq!(
        store.get_idempotent(tenant, token, "k-1").await.unwrap(),
        Some(row.clone())
    );
    assert_eq!(
        store
            .get_idempotent(tenant, Uuid::now_v7(), "k-1")
            .await
            .unwrap(),
        None
    );
    let mut second = row.clone();
    second.status = 500;
    assert_conflict(store.put_idempotent(second).await, "idempotency_keys");
    assert_eq!(
        store.get_idempotent(tenant, token, "k-1").await.unwrap(),
        Some(row)
    );
}

/// Keyring: put-if-absent returns what is stored; updates need the current KEK.
pub async fn keyring_put_if_absent<S: Store>(store: &S) {
    let name = format!("blind_index-{}", Uuid::now_v7());
    assert_eq!(store.get_keyring_entry(&name).await.unwrap(), None);
    let first = KeyringRow {
        name: name.clone(),
        kek_id: b"kek-1".to_vec(),
        wrapped_key: bytes(72),
        created_at: now(),
    };
    assert_eq!(
        store
            .put_keyring_entry_if_absent(first.clone())
            .await
            .unwrap(),
        first
    );
    let mut second = first.clone();
    second.wrapped_key = bytes(72);
    assert_eq!(
        store.put_keyring_entry_if_absent(second).await.unwrap(),
        first
    );
    assert_eq!(
        store.get_keyring_entry(&name).await.unwrap(),
        Some(first.clone())
    );

    let mut rotated = first.clone();
    rotated.kek_id = b"kek-2".to_vec();
    rotated.wrapped_key = bytes(72);
    assert_conflict(
        store.update_keyring_entry(rotated.clone(), b"kek-0").await,
        "keyring",
    );
    store
        .update_keyring_entry(rotated.clone(), b"kek-1")
        .await
        .unwrap();
    assert_eq!(
        store.get_keyring_entry(&name).await.unwrap(),
        Some(rotated.clone())
    );
    let mut missing = rotated;
    missing.name = format!("missing-{}", Uuid::now_v7());
    assert_not_found(
        store.update_keyring_entry(missing, b"kek-2").await,
        "missing",
    );
}

/// Rotation: lists keys under other KEKs and rewraps only rows still under the old one.
pub async fn rewrap_touches_only_old_kek<S: Store>(store: &S) {
    let tenant = Uuid::now_v7();
    let (old, new, other) = (bytes(16), bytes(16), bytes(16));
    let under_old: Vec<_> = (0..3).map(|_| new_subject_with_kek(tenant, &old)).collect();
    let under_other = new_subject_with_kek(tenant, &other);
    store.import_batch(under_old.clone()).await.unwrap();
    store.create_subject(under_other.clone()).await.unwrap();

    let mine = |rows: Vec<SubjectKeyRow>| -> Vec<SubjectKeyRow> {
        rows.into_iter().filter(|k| k.tenant_id == tenant).collect()
    };
    let pending = mine(store.keys_not_wrapped_by(&new, 100_000).await.unwrap());
    assert_eq!(pending.len(), 4);
    assert!(store.keys_not_wrapped_by(&new, 2).await.unwrap().len() <= 2);

    let rewrapped: Vec<SubjectKeyRow> = pending
        .iter()
        .map(|k| SubjectKeyRow {
            kek_id: new.clone(),
            wrapped_key: bytes(72),
            ..k.clone()
        })
        .collect();
    // Only the three rows under `old` change; the one under `other` is left alone.
    assert_eq!(store.rewrap_keys(rewrapped.clone(), &old).await.unwrap(), 3);
    assert_eq!(store.rewrap_keys(rewrapped.clone(), &old).await.unwrap(), 0);
    let sid = under_other.subject.id;
    assert_eq!(
        store.get_subject_key(tenant, sid).await.unwrap(),
        under_other.key
    );
    for new_row in rewrapped.iter().filter(|k| k.subject_id != sid) {
        let stored = store
            .get_subject_key(tenant, new_row.subject_id)
            .await
            .unwrap();
        assert_eq!(&stored, new_row);
    }
    let pending = mine(store.keys_not_wrapped_by(&new, 100_000).await.unwrap());
    assert_eq!(pending, vec![under_other.key]);
}

/// The database itself refuses UPDATE and DELETE on the append-only tables, whoever asks;
/// the store reports that as `Refused`. (SQL-store specific: it needs raw statements.)
pub async fn append_only_is_enforced_by_the_database(store: &SqlStore) {
    let tenant = Uuid::now_v7();
    let new = new_subject(tenant);
    let id = new.subject.id;
    store.create_subject(new).await.unwrap();
    store
        .erase_subject(tenant, id, now(), vec![])
        .await
        .unwrap();

    for sql in [
        "UPDATE audit_log SET detail = 'x'",
        "DELETE FROM audit_log",
        "UPDATE erasure_ledger SET erased_at = 0",
        "DELETE FROM erasure_ledger",
    ] {
        match store.execute_raw_for_tests(sql).await {
            Err(StoreError::Refused(msg)) => assert!(msg.starts_with("append-only"), "{msg}"),
            other => panic!("{sql}: expected Refused, got {other:?}"),
        }
    }
    if store.backend() == crate::Backend::Postgres {
        for sql in ["TRUNCATE audit_log", "TRUNCATE erasure_ledger"] {
            let result = store.execute_raw_for_tests(sql).await;
            assert!(
                matches!(result, Err(StoreError::Refused(_))),
                "{sql}: {result:?}"
            );
        }
    }
    assert_eq!(audit_actions(store, tenant).await, ["subject.create"]);
    assert_eq!(store.erased_subjects(tenant).await.unwrap(), vec![id]);
    assert_eq!(store.verify_audit(tenant).await.unwrap(), Ok(1));
}

/// Disclosures: recorded with their audit entry, read back per subject in order, never
/// rewritten (the database refuses UPDATE and DELETE).
pub async fn disclosures_are_recorded_and_append_only(store: &SqlStore) {
    use crate::{DisclosureRow, DisclosureStore};
    let tenant = Uuid::now_v7();
    let (a, b) = (Uuid::now_v7(), Uuid::now_v7());
    let disclosure_id = Uuid::now_v7();
    let row = |subject: Uuid, at: i64| DisclosureRow {
        tenant_id: tenant,
        id: Uuid::now_v7(),
        disclosure_id,
        subject_id: subject,
        recipient: "group.confect_se".into(),
        categories: vec!["contact.email".into(), "identity.name".into()],
        purpose: "group.internal_admin".into(),
        legal_basis: "legitimate_interest".into(),
        mechanism: "sync".into(),
        transfer: None,
        legal_decision: None,
        nondisclosure_until: Some(at + 1),
        recorded_by: "token:test".into(),
        disclosed_at: at,
    };
    let rows = vec![row(a, now()), row(b, now())];
    store
        .record_disclosure(rows.clone(), vec![audit(tenant, "disclosure.record", None)])
        .await
        .unwrap();
    assert_eq!(
        store.disclosures_of_subject(tenant, a).await.unwrap(),
        vec![rows[0].clone()]
    );
    assert_eq!(
        store.disclosures_of_subject(tenant, b).await.unwrap(),
        vec![rows[1].clone()]
    );
    assert!(
        store
            .disclosures_of_subject(tenant, Uuid::now_v7())
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(audit_actions(store, tenant).await, ["disclosure.record"]);
    for sql in [
        "UPDATE disclosures SET recipient = 'x'",
        "DELETE FROM disclosures",
    ] {
        match store.execute_raw_for_tests(sql).await {
            Err(StoreError::Refused(msg)) => assert!(msg.starts_with("append-only"), "{msg}"),
            other => panic!("{sql}: expected Refused, got {other:?}"),
        }
    }
}
