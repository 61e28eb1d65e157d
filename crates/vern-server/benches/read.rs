//! Single-subject read through the vault on SQLite (a subject with 10 records and 2
//! identifiers: key unwrap, decryption, role filtering and the audit append included), against
//! a baseline of the same rows read straight from the store without decryption or audit.
//!
//! `cargo bench -p vern-server --bench read`

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::Arc;

use criterion::{Criterion, criterion_group, criterion_main};
use serde_json::json;
use vern_core::crypto::MasterKey;
use vern_core::ids::SystemClock;
use vern_policy::Policy;
use vern_server::Vault;
use vern_server::vault::{IdentifierInput, Principal, RecordInput, SubjectInput};
use vern_store::{SqlStore, Store};

fn record(category: &str, value: serde_json::Value) -> RecordInput {
    RecordInput {
        category: category.to_owned(),
        value,
        source: "direct".to_owned(),
        purposes: vec!["marketing.send".to_owned()],
        legal_basis: None,
        collected_at: None,
        last_activity_at: None,
        originating_system: Some("crm".to_owned()),
        event_times: Default::default(),
    }
}

fn bench_read(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let dir = std::env::temp_dir().join(format!("vern-bench-{}", uuid::Uuid::new_v4()));
    let (vault, id) = rt.block_on(async {
        let store = SqlStore::open_dir(&dir).await.unwrap();
        store.migrate().await.unwrap();
        let vault = Vault::open(
            store,
            Arc::new(Policy::bundled().unwrap()),
            MasterKey::generate(),
            Vec::new(),
            Arc::new(SystemClock),
        )
        .await
        .unwrap();
        let mut records = vec![
            record("contact.email.work_named", json!("kari@example.com")),
            record(
                "identity.name",
                json!({"given": "Kari", "family": "Nordmann"}),
            ),
            record("contact.phone", json!("+4722334455")),
            record("employment.title", json!("Head of Baking")),
            record("employment.employer", json!("Eksempel AS")),
        ];
        for i in 0..5 {
            records.push(record(
                "contact.postal",
                json!({"street": format!("Gate {i}"), "city": "Oslo"}),
            ));
        }
        let input = SubjectInput {
            subject_type: "lead".to_owned(),
            jurisdiction: Some("NO".to_owned()),
            identifiers: vec![
                IdentifierInput {
                    kind: "email".into(),
                    value: "kari@example.com".into(),
                },
                IdentifierInput {
                    kind: "phone".into(),
                    value: "+47 22 33 44 55".into(),
                },
            ],
            records,
        };
        let view = vault
            .create_subject(&Principal::cli_admin(), &input)
            .await
            .unwrap();
        assert_eq!(view.records.len(), 10);
        (vault, view.subject.id)
    });
    let who = Principal::cli_admin();
    let tenant = vault.tenant();

    let mut group = c.benchmark_group("single_subject_read");
    group.bench_function("vault_get_subject_decrypt_and_audit", |b| {
        b.iter(|| rt.block_on(vault.get_subject(&who, id)).unwrap())
    });
    group.bench_function("store_rows_only_baseline", |b| {
        let store = vault.store();
        b.iter(|| {
            rt.block_on(async {
                store.get_subject(tenant, id).await.unwrap();
                store.get_subject_key(tenant, id).await.unwrap();
                store.list_identifiers(tenant, id).await.unwrap();
                store.list_records(tenant, id).await.unwrap()
            })
        })
    });
    group.finish();
    drop(vault);
    let _ = std::fs::remove_dir_all(dir);
}

criterion_group!(benches, bench_read);
criterion_main!(benches);
