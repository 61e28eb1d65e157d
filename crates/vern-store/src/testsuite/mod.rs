//! The conformance suite: what every [`Store`] must do, as scenarios generic over the
//! implementation, so SQLite and PostgreSQL (and any future backend) are held to the same
//! contract. Each scenario works in a tenant of its own, so scenarios can share one store.
//!
//! Enabled by the crate feature `testsuite`; this crate's `tests/store` runs it on both
//! backends. The fixtures (`new_subject`, `audit`, …) are public for other crates' tests.

// Test code: a failed expectation must stop the scenario loudly.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod consent;
mod data;
mod erasure;
mod other;

use std::sync::atomic::{AtomicI64, Ordering};

use uuid::Uuid;

pub use self::consent::*;
pub use self::data::*;
pub use self::erasure::*;
pub use self::other::*;
use crate::audit_chain::{GENESIS_HASH, verify_chain};
use crate::model::{
    IdentifierRow, NewAuditEntry, NewSubject, RecordRow, SubjectKeyRow, SubjectRow,
};
use crate::{Store, StoreError, StoreResult};

/// Runs every generic scenario against `store`, which must be migrated.
pub async fn run_all<S: Store + crate::ConsentStore + crate::EventStore + crate::ErasureStore>(
    store: &S,
) {
    subjects_create_get_update(store).await;
    subjects_list_keyset(store).await;
    identifiers_lifecycle(store).await;
    records_lifecycle(store).await;
    import_batch_roundtrip(store).await;
    import_batch_is_all_or_nothing(store).await;
    erase_shreds_key_and_rows(store).await;
    audit_chain_grows_with_writes(store).await;
    audit_concurrent_appends_stay_chained(store).await;
    tokens_lifecycle(store).await;
    idempotency_put_get(store).await;
    keyring_put_if_absent(store).await;
    rewrap_touches_only_old_kek(store).await;
    consent_ledger_and_projection(store).await;
    objections_restriction_and_suppression(store).await;
    events_ingest_count_and_purge(store).await;
    partial_erasure_replaces_the_key(store).await;
}

/// A moving clock: strictly increasing Unix microseconds, so every write has its own time.
pub fn now() -> i64 {
    static CLOCK: AtomicI64 = AtomicI64::new(1_767_225_600_000_000); // 2026-01-01
    CLOCK.fetch_add(1_000, Ordering::Relaxed)
}

/// Random bytes standing in for ciphertext, blind indexes and key material.
pub fn bytes(len: usize) -> Vec<u8> {
    let mut out = Vec::with_capacity(len + 16);
    while out.len() < len {
        out.extend_from_slice(Uuid::new_v4().as_bytes());
    }
    out.truncate(len);
    out
}

pub fn audit(tenant: Uuid, action: &str, subject: Option<Uuid>) -> NewAuditEntry {
    NewAuditEntry {
        tenant_id: tenant,
        id: Uuid::now_v7(),
        at: now(),
        actor: "system".into(),
        action: action.into(),
        subject_id: subject,
        purpose: Some("support".into()),
        detail: r#"{"fields":["email"]}"#.into(),
    }
}

pub fn identifier(tenant: Uuid, subject: Uuid, kind: &str) -> IdentifierRow {
    IdentifierRow {
        tenant_id: tenant,
        id: Uuid::now_v7(),
        subject_id: subject,
        kind: kind.into(),
        blind_index: bytes(32),
        value_ct: bytes(60),
        created_at: now(),
    }
}

pub fn record(tenant: Uuid, subject: Uuid, category: &str) -> RecordRow {
    let at = now();
    RecordRow {
        tenant_id: tenant,
        id: Uuid::now_v7(),
        subject_id: subject,
        category: category.into(),
        value_ct: bytes(80),
        source: "api".into(),
        purposes: vec!["support".into(), "billing".into()],
        legal_basis: "contract".into(),
        collected_at: at,
        last_activity_at: None,
        originating_system: Some("crm".into()),
        created_at: at,
        updated_at: at,
        event_times: [("ticket_closed_at".to_owned(), at)].into(),
        expires_at: Some(at + 1_000_000),
        retention_rule: Some("support_tickets".into()),
    }
}

/// A subject with a key wrapped by `kek_id`, one email identifier, two records and one
/// audit entry.
pub fn new_subject_with_kek(tenant: Uuid, kek_id: &[u8]) -> NewSubject {
    let id = Uuid::now_v7();
    let at = now();
    NewSubject {
        subject: SubjectRow {
            tenant_id: tenant,
            id,
            subject_type: "customer".into(),
            jurisdiction: Some("NO".into()),
            created_at: at,
            updated_at: at,
        },
        key: SubjectKeyRow {
            tenant_id: tenant,
            subject_id: id,
            kek_id: kek_id.to_vec(),
            wrapped_key: bytes(72),
            created_at: at,
        },
        identifiers: vec![identifier(tenant, id, "email")],
        records: vec![record(tenant, id, "contact"), record(tenant, id, "orders")],
        audit: vec![audit(tenant, "subject.create", Some(id))],
    }
}

pub fn new_subject(tenant: Uuid) -> NewSubject {
    new_subject_with_kek(tenant, b"kek-1")
}

/// A subject with one email identifier and `records` records, as an import brings them.
pub fn subject_with_records(tenant: Uuid, records: usize) -> NewSubject {
    let mut new = new_subject(tenant);
    let id = new.subject.id;
    new.records = (0..records)
        .map(|_| record(tenant, id, "contact"))
        .collect();
    new
}

/// Asserts `result` failed with `NotFound`.
pub fn assert_not_found<T: std::fmt::Debug>(result: StoreResult<T>, what: &str) {
    match result {
        Err(StoreError::NotFound) => {}
        other => panic!("{what}: expected NotFound, got {other:?}"),
    }
}

/// Asserts `result` failed with `Conflict` naming `table`.
pub fn assert_conflict<T: std::fmt::Debug>(result: StoreResult<T>, table: &str) {
    match result {
        Err(StoreError::Conflict(msg)) => {
            assert!(msg.contains(table), "conflict {msg:?} should name {table}")
        }
        other => panic!("{table}: expected Conflict, got {other:?}"),
    }
}

/// The tenant's whole audit chain, read in small pages, verified from the genesis hash.
pub async fn verified_audit<S: Store>(store: &S, tenant: Uuid) -> Vec<crate::model::AuditRow> {
    let mut all = Vec::new();
    loop {
        let from = all.last().map_or(1, |r: &crate::model::AuditRow| r.seq + 1);
        let page = store.read_audit(tenant, from, 7).await.unwrap();
        if page.is_empty() {
            break;
        }
        assert!(page.len() <= 7, "read_audit ignores its limit");
        all.extend(page);
    }
    if let Err(e) = verify_chain(all.iter(), &GENESIS_HASH) {
        panic!("audit chain of tenant {tenant} does not verify: {e}");
    }
    all
}

/// The actions in the tenant's audit chain, in order.
pub async fn audit_actions<S: Store>(store: &S, tenant: Uuid) -> Vec<String> {
    verified_audit(store, tenant)
        .await
        .into_iter()
        .map(|r| r.entry.action)
        .collect()
}
