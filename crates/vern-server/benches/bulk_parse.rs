//! Decoding the body of `POST /v1/decisions/bulk`: 100,000 requests in the shapes
//! `vern-bench` sends (by subject id and by email address, as a JSON array and as NDJSON),
//! through the endpoint's own parser (`parse_bulk_body`). Compare builds with criterion's
//! baselines: `cargo bench -p vern-server --bench bulk_parse -- --save-baseline before`, then
//! on the other build `-- --baseline before`.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use vern_server::api::decisions::parse_bulk_body;

const ITEMS: usize = 100_000;

fn by_id(i: usize) -> String {
    format!(
        r#"{{"subject_id":"{}","purpose":"marketing.send","channel":"email","message_class":"newsletter"}}"#,
        uuid::Uuid::from_u128(0x67e5_5044_10b1_426f_9247_bb68_0000_0000 + i as u128 % 2_000)
    )
}

fn by_email(i: usize) -> String {
    format!(
        r#"{{"identifier":{{"kind":"email","value":"lead{}@example.com"}},"purpose":"marketing.send","channel":"email","message_class":"newsletter"}}"#,
        i % 4_000
    )
}

fn bench_parse(c: &mut Criterion) {
    let mut group = c.benchmark_group("bulk_parse");
    group.sample_size(30);
    group.throughput(Throughput::Elements(ITEMS as u64));
    for (name, item) in [
        ("by_id", by_id as fn(usize) -> String),
        ("by_email", by_email),
    ] {
        let items: Vec<String> = (0..ITEMS).map(item).collect();
        let array = format!("[{}]", items.join(","));
        let ndjson = items.join("\n");
        group.bench_function(format!("json_{name}"), |b| {
            b.iter(|| assert_eq!(parse_bulk_body(array.as_bytes(), false).unwrap(), ITEMS))
        });
        group.bench_function(format!("ndjson_{name}"), |b| {
            b.iter(|| assert_eq!(parse_bulk_body(ndjson.as_bytes(), true).unwrap(), ITEMS))
        });
    }
    group.finish();
}

criterion_group!(benches, bench_parse);
criterion_main!(benches);
