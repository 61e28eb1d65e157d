//! Parse + validate of the bundled policy: `vern serve` loads it at start-up, so it must be
//! effectively instant (target: under 5 ms).

use criterion::{Criterion, criterion_group, criterion_main};
use std::hint::black_box;
use vern_policy::{BUNDLED_SOURCE, Policy};

fn parse_bundled(c: &mut Criterion) {
    // The baseline in the same run: TOML deserialisation alone, without validation.
    c.bench_function("deserialize_bundled_policy", |b| {
        b.iter(|| toml::from_str::<vern_policy::RawPolicy>(black_box(BUNDLED_SOURCE)).is_ok())
    });
    c.bench_function("parse_and_validate_bundled_policy", |b| {
        b.iter(|| Policy::parse(black_box(BUNDLED_SOURCE)).is_ok())
    });
}

criterion_group!(benches, parse_bundled);
criterion_main!(benches);
