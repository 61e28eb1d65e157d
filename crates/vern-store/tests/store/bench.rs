//! Bulk-import throughput of the store alone (rows are built before the clock starts), on
//! both backends. Benchmarks, so ignored by default; run in release:
//! `cargo test --release -p vern-store --test store -- --ignored import_throughput --nocapture`

use std::time::Instant;

use uuid::Uuid;
use vern_store::testsuite::subject_with_records;
use vern_store::{SqlStore, Store};

use crate::harness::{with_postgres, with_sqlite};

async fn import_throughput(store: SqlStore) {
    let tenant = Uuid::now_v7();
    let (subjects, per_subject, batch_size) = (20_000, 5, 1_000);
    let batches: Vec<Vec<_>> = (0..subjects / batch_size)
        .map(|_| {
            (0..batch_size)
                .map(|_| subject_with_records(tenant, per_subject))
                .collect()
        })
        .collect();
    let start = Instant::now();
    for batch in batches {
        store.import_batch(batch).await.unwrap();
    }
    let secs = start.elapsed().as_secs_f64();
    let records = subjects * per_subject;
    println!(
        "{:?}: imported {subjects} subjects, {records} records in {secs:.2}s: {:.0} records/s",
        store.backend(),
        records as f64 / secs
    );
    assert_eq!(
        store.verify_audit(tenant).await.unwrap(),
        Ok(subjects as u64)
    );
}

#[tokio::test]
#[ignore = "a benchmark: run explicitly, in release"]
async fn import_throughput_sqlite() {
    with_sqlite(import_throughput).await;
}

#[tokio::test]
#[ignore = "a benchmark: run explicitly, in release"]
async fn import_throughput_postgres() {
    with_postgres(import_throughput).await;
}
