//! In-process decisions for a subject whose state is already in memory: the inner loop of a
//! campaign filter (target: at least 5,000,000 decisions per second on one core).

use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use vern_core::consent::{ConsentAction, ConsentMethod, ConsentState, fold, plan_events};
use vern_core::decision::{AddressKind, DecisionInput, Objections, decide};
use vern_policy::Policy;

fn decisions(c: &mut Criterion) {
    let Ok(policy) = Policy::bundled() else {
        return;
    };
    let at = time::OffsetDateTime::UNIX_EPOCH + time::Duration::days(20_000);
    let events = plan_events(
        &policy,
        &ConsentState::default(),
        "marketing_email",
        None,
        ConsentAction::Granted,
        ConsentMethod::DoubleOptIn,
        at,
    )
    .unwrap_or_default();
    let granted = fold(&events);
    let none = Objections::default();
    let input = DecisionInput {
        purpose: "marketing.send",
        channel: Some("email"),
        message_class: Some("newsletter"),
        subject_type: Some("lead"),
        consent: &granted,
        objections: &none,
        restricted: false,
        suppressed: false,
        address: AddressKind::Personal,
        now: 1_800_000_000_000_000,
    };
    let mut g = c.benchmark_group("decide");
    g.throughput(Throughput::Elements(1));
    g.bench_function("newsletter_email_with_consent", |b| {
        b.iter(|| decide(black_box(&policy), black_box(&input)))
    });
    let empty = ConsentState::default();
    let denied = DecisionInput {
        consent: &empty,
        ..input
    };
    g.bench_function("newsletter_email_no_consent", |b| {
        b.iter(|| decide(black_box(&policy), black_box(&denied)))
    });
    g.finish();
}

criterion_group!(benches, decisions);
criterion_main!(benches);
