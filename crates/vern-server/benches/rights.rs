//! Fulfilment of rights through the vault on SQLite, in a database of `VERN_BENCH_SUBJECTS`
//! subjects (default 1,000,000, each a lead with one record and one identifier):
//!
//! - the access report of a subject with 1,000 records (decrypt all, policy texts, disclosure
//!   register, audit append), against a baseline of the same rows read from the store;
//! - erasure on request of a customer contact with 10 records, one an invoice kept under
//!   bookkeeping law (partial: suppression, deletes, evidence, ledger, audit), and of a lead
//!   with 10 records (complete: key destroyed, erasure ledger).
//!
//! `cargo bench -p vern-server --bench rights` (`VERN_BENCH_SUBJECTS=100000` for a quick run).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::Arc;

use criterion::{BatchSize, Criterion, criterion_group, criterion_main};
use serde_json::json;
use vern_core::crypto::MasterKey;
use vern_core::ids::SystemClock;
use vern_policy::Policy;
use vern_server::Vault;
use vern_server::vault::{IdentifierInput, Principal, RecordInput, SubjectInput};
use vern_store::{SqlStore, Store};

fn record(category: &str, value: serde_json::Value, purpose: &str) -> RecordInput {
    RecordInput {
        category: category.to_owned(),
        value,
        source: "direct".to_owned(),
        purposes: vec![purpose.to_owned()],
        legal_basis: None,
        collected_at: None,
        last_activity_at: None,
        originating_system: None,
        event_times: Default::default(),
    }
}

fn lead(i: usize, records: usize) -> SubjectInput {
    SubjectInput {
        subject_type: "lead".to_owned(),
        jurisdiction: Some("NO".to_owned()),
        identifiers: vec![IdentifierInput {
            kind: "email".into(),
            value: format!("lead{i}@example.com"),
        }],
        records: (0..records)
            .map(|n| {
                record(
                    "contact.email.work_named",
                    json!(format!("lead{i}.{n}@example.com")),
                    "marketing.send",
                )
            })
            .collect(),
    }
}

fn customer(i: usize) -> SubjectInput {
    let p = "sales.orders_agreements_payments";
    let mut records: Vec<RecordInput> = (0..9)
        .map(|n| record("identity.name", json!(format!("Customer {i} {n}")), p))
        .collect();
    records.push(record(
        "finance.invoice",
        json!({"number": format!("F-{i}")}),
        p,
    ));
    SubjectInput {
        subject_type: "customer_contact".to_owned(),
        jurisdiction: Some("NO".to_owned()),
        identifiers: vec![IdentifierInput {
            kind: "email".into(),
            value: format!("customer{i}@example.com"),
        }],
        records,
    }
}

fn bench_rights(c: &mut Criterion) {
    let subjects: usize = std::env::var("VERN_BENCH_SUBJECTS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(1_000_000);
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let dir = std::env::temp_dir().join(format!("vern-bench-{}", uuid::Uuid::new_v4()));
    let who = Principal::cli_admin();
    let (vault, target) = rt.block_on(async {
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
        let started = std::time::Instant::now();
        let mut i = 0;
        while i < subjects {
            let n = (subjects - i).min(5000);
            let inputs: Vec<SubjectInput> = (i..i + n).map(|k| lead(k, 1)).collect();
            let batch = vault.build_import_batch(&who, &inputs).unwrap();
            vault.store().import_batch(batch).await.unwrap();
            i += n;
        }
        eprintln!("loaded {subjects} subjects in {:?}", started.elapsed());
        let big = vault
            .create_subject(&who, &lead(usize::MAX, 1000))
            .await
            .unwrap();
        (vault, big.subject.id)
    });
    let tenant = vault.tenant();

    let mut group = c.benchmark_group("rights");
    group.sample_size(30);
    group.bench_function("access_report_1000_records", |b| {
        b.iter(|| {
            rt.block_on(vault.access_report(&who, target, "en"))
                .unwrap()
        })
    });
    group.bench_function("store_rows_only_baseline_1000_records", |b| {
        let store = vault.store();
        b.iter(|| {
            rt.block_on(async {
                store.get_subject(tenant, target).await.unwrap();
                store.get_subject_key(tenant, target).await.unwrap();
                store.list_identifiers(tenant, target).await.unwrap();
                store.list_records(tenant, target).await.unwrap()
            })
        })
    });
    let mut n = 0usize;
    group.bench_function("erasure_partial_customer_10_records", |b| {
        b.iter_batched(
            || {
                n += 1;
                rt.block_on(vault.create_subject(&who, &customer(n)))
                    .unwrap()
                    .subject
                    .id
            },
            |id| {
                let out = rt
                    .block_on(vault.erase_on_request(&who, id, false))
                    .unwrap();
                assert_eq!(out.outcome, "partially_refused");
            },
            BatchSize::PerIteration,
        )
    });
    group.bench_function("erasure_complete_lead_10_records", |b| {
        b.iter_batched(
            || {
                n += 1;
                rt.block_on(vault.create_subject(&who, &lead(subjects + n, 10)))
                    .unwrap()
                    .subject
                    .id
            },
            |id| {
                let out = rt
                    .block_on(vault.erase_on_request(&who, id, false))
                    .unwrap();
                assert!(out.key_destroyed);
            },
            BatchSize::PerIteration,
        )
    });
    group.finish();
    drop(vault);
    let _ = std::fs::remove_dir_all(dir);
}

criterion_group!(benches, bench_rights);
criterion_main!(benches);
