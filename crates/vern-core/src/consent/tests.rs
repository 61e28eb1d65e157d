//! Ledger rules and the fold: event planning against the bundled policy, expiry, and a
//! property test that the incremental projection equals a from-scratch replay.

use proptest::prelude::*;
use time::macros::datetime;

use super::*;

fn policy() -> Policy {
    Policy::bundled().unwrap()
}

const T0: OffsetDateTime = datetime!(2026-01-31 12:00 UTC);

#[test]
fn a_grant_without_channel_covers_every_channel_of_the_scope() {
    let p = policy();
    let events = plan_events(
        &p,
        &ConsentState::default(),
        "cookies_marketing",
        None,
        ConsentAction::Granted,
        ConsentMethod::Checkbox,
        T0,
    )
    .unwrap();
    let channels: Vec<_> = events.iter().map(|e| e.channel.as_str()).collect();
    assert_eq!(channels, ["website", "email", "social_media"]);
    let one = plan_events(
        &p,
        &ConsentState::default(),
        "marketing_email",
        Some("email"),
        ConsentAction::Granted,
        ConsentMethod::DoubleOptIn,
        T0,
    )
    .unwrap();
    assert_eq!(one.len(), 1);
    assert_eq!(one[0].expires_at, None, "marketing_email has no valid_for");
}

#[test]
fn valid_for_is_calendar_arithmetic_from_the_grant() {
    let p = policy();
    let e = plan_events(
        &p,
        &ConsentState::default(),
        "marketing_profiling",
        None,
        ConsentAction::Granted,
        ConsentMethod::Checkbox,
        T0,
    )
    .unwrap();
    assert_eq!(e[0].channel, "");
    // 12 months after 31 January 2026.
    assert_eq!(
        e[0].expires_at,
        Some(to_micros(datetime!(2027-01-31 12:00 UTC)))
    );
    let state = fold(&e);
    let status = state.get("marketing_profiling", "").unwrap();
    assert!(status.is_active(to_micros(datetime!(2027-01-31 11:59 UTC))));
    assert!(!status.is_active(to_micros(datetime!(2027-01-31 12:00 UTC))));
    assert_eq!(
        status.effective_action(to_micros(datetime!(2027-02-01 00:00 UTC))),
        ConsentAction::Expired
    );
    assert_eq!(
        lapsed(&state, to_micros(datetime!(2027-06-01 00:00 UTC))).count(),
        1
    );
}

#[test]
fn bad_requests_are_refused_with_stable_codes() {
    let p = policy();
    let s = ConsentState::default();
    let plan = |scope, ch, action, method| plan_events(&p, &s, scope, ch, action, method, T0);
    let code = |r: Result<Vec<ConsentEvent>, ConsentError>| r.unwrap_err().code();
    use ConsentAction as A;
    use ConsentMethod as M;
    assert_eq!(
        code(plan("nope", None, A::Granted, M::Api)),
        "unknown_consent_scope"
    );
    assert_eq!(
        code(plan("marketing_email", Some("sms"), A::Granted, M::Api)),
        "channel_not_in_scope"
    );
    assert_eq!(
        code(plan("marketing_email", None, A::Granted, M::Gpc)),
        "gpc_cannot_grant"
    );
    assert_eq!(
        code(plan("marketing_email", None, A::Renewed, M::Api)),
        "nothing_to_renew"
    );
    assert_eq!(
        code(plan("marketing_email", None, A::Expired, M::Api)),
        "nothing_to_expire"
    );
    // Art. 7(3): withdrawal needs nothing, not even a prior grant.
    assert_eq!(
        plan("marketing_email", None, A::Withdrawn, M::Gpc)
            .unwrap()
            .len(),
        1
    );
}

#[test]
fn actions_and_methods_round_trip_their_names() {
    for a in [
        ConsentAction::Granted,
        ConsentAction::Withdrawn,
        ConsentAction::Expired,
        ConsentAction::Renewed,
    ] {
        assert_eq!(ConsentAction::parse(a.as_str()), Some(a));
    }
    for m in [
        ConsentMethod::Checkbox,
        ConsentMethod::DoubleOptIn,
        ConsentMethod::Api,
        ConsentMethod::Gpc,
    ] {
        assert_eq!(ConsentMethod::parse(m.as_str()), Some(m));
    }
}

fn arb_event() -> impl Strategy<Value = ConsentEvent> {
    (
        prop::sample::select(vec!["a", "b", "c"]),
        prop::sample::select(vec!["", "email", "sms"]),
        prop::sample::select(vec![
            ConsentAction::Granted,
            ConsentAction::Withdrawn,
            ConsentAction::Expired,
            ConsentAction::Renewed,
        ]),
        0i64..1_000_000,
        prop::option::of(0i64..2_000_000),
        any::<u128>(),
    )
        .prop_map(
            |(scope, channel, action, at, expires_at, id)| ConsentEvent {
                id: Uuid::from_u128(id),
                scope: scope.into(),
                channel: channel.into(),
                action,
                at,
                expires_at,
            },
        )
}

proptest! {
    /// The projection is "last event per key": folding any history equals taking, for each key,
    /// its last event, whatever the interleaving of keys.
    #[test]
    fn folding_equals_last_event_per_key(events in prop::collection::vec(arb_event(), 0..60)) {
        let folded = fold(&events);
        let mut expected: Vec<ConsentEntry> = Vec::new();
        for e in events.iter().rev() {
            if !expected.iter().any(|x| x.scope == e.scope && x.channel == e.channel) {
                expected.push(ConsentEntry {
                    scope: e.scope.clone(),
                    channel: e.channel.clone(),
                    status: ConsentStatus {
                        action: e.action,
                        at: e.at,
                        expires_at: e.expires_at,
                        event_id: e.id,
                        renewal_due_at: None,
                    },
                });
            }
        }
        prop_assert_eq!(folded, ConsentState::from_entries(expected));
    }

    /// Folding a history in two halves (a stored projection, then newer events) equals folding it
    /// at once: the store can keep the projection incrementally.
    #[test]
    fn folding_is_incremental(events in prop::collection::vec(arb_event(), 0..60), cut in 0usize..60) {
        let cut = cut.min(events.len());
        let mut state = fold(&events[..cut]);
        for e in &events[cut..] {
            state.apply(e);
        }
        prop_assert_eq!(state, fold(&events));
    }
}

#[test]
fn ips_are_truncated_to_their_network() {
    let t = |s: &str| truncate_ip(s.parse().unwrap());
    assert_eq!(t("192.0.2.77"), "192.0.2.0");
    assert_eq!(t("2001:db8:abcd:12:1:2:3:4"), "2001:db8:abcd::");
    assert_eq!(t("::ffff:198.51.100.9"), "198.51.100.0");
}
