use time::macros::{date, datetime};

use super::*;

/// (received on, due_initial, due_max) for the Art. 12(3) arithmetic.
const TABLE: &[(Date, Date, Date)] = &[
    // The plain case: same date next month, +2 months.
    (
        date!(2026 - 03 - 10),
        date!(2026 - 04 - 10),
        date!(2026 - 06 - 10),
    ),
    // 31 January: clamps to 28 February; max is 28 April (not 30 April).
    (
        date!(2025 - 01 - 31),
        date!(2025 - 02 - 28),
        date!(2025 - 04 - 28),
    ),
    // ... and to 29 February in a leap year; max 29 April.
    (
        date!(2024 - 01 - 31),
        date!(2024 - 02 - 29),
        date!(2024 - 04 - 29),
    ),
    (
        date!(2024 - 01 - 30),
        date!(2024 - 02 - 29),
        date!(2024 - 04 - 29),
    ),
    (
        date!(2024 - 01 - 29),
        date!(2024 - 02 - 29),
        date!(2024 - 04 - 29),
    ),
    (
        date!(2025 - 01 - 29),
        date!(2025 - 02 - 28),
        date!(2025 - 04 - 28),
    ),
    (
        date!(2025 - 01 - 28),
        date!(2025 - 02 - 28),
        date!(2025 - 04 - 28),
    ),
    // 29 February: 29 March; +3 months from receipt = 29 May.
    (
        date!(2024 - 02 - 29),
        date!(2024 - 03 - 29),
        date!(2024 - 05 - 29),
    ),
    // 28 February of a common year.
    (
        date!(2025 - 02 - 28),
        date!(2025 - 03 - 28),
        date!(2025 - 05 - 28),
    ),
    // 30 November: 30 December; max 28 February (Dec 30 + 2 = Feb 28; receipt + 3 = Feb 28).
    (
        date!(2026 - 11 - 30),
        date!(2026 - 12 - 30),
        date!(2027 - 02 - 28),
    ),
    // 30 November before a leap year: max 29 February.
    (
        date!(2027 - 11 - 30),
        date!(2027 - 12 - 30),
        date!(2028 - 02 - 29),
    ),
    // 31 March: 30 April; 30 April + 2 = 30 June; receipt + 3 = 30 June.
    (
        date!(2026 - 03 - 31),
        date!(2026 - 04 - 30),
        date!(2026 - 06 - 30),
    ),
    // 31 May: 30 June; 30 June + 2 = 30 August; receipt + 3 = 31 August: the minimum wins.
    (
        date!(2026 - 05 - 31),
        date!(2026 - 06 - 30),
        date!(2026 - 08 - 30),
    ),
    // 31 July: 31 August; 31 October.
    (
        date!(2026 - 07 - 31),
        date!(2026 - 08 - 31),
        date!(2026 - 10 - 31),
    ),
    // 31 August: 30 September; 30 November.
    (
        date!(2026 - 08 - 31),
        date!(2026 - 09 - 30),
        date!(2026 - 11 - 30),
    ),
    // 31 October: 30 November; 30 January (not 31 January).
    (
        date!(2026 - 10 - 31),
        date!(2026 - 11 - 30),
        date!(2027 - 01 - 30),
    ),
    // 31 December: across the year; 31 January; 31 March.
    (
        date!(2026 - 12 - 31),
        date!(2027 - 01 - 31),
        date!(2027 - 03 - 31),
    ),
    // 30 December: 30 January; 30 March.
    (
        date!(2026 - 12 - 30),
        date!(2027 - 01 - 30),
        date!(2027 - 03 - 30),
    ),
    // 1 January.
    (
        date!(2027 - 01 - 01),
        date!(2027 - 02 - 01),
        date!(2027 - 04 - 01),
    ),
    // 31 December 2023 into a leap February: 31 Jan; 31 Mar.
    (
        date!(2023 - 12 - 31),
        date!(2024 - 01 - 31),
        date!(2024 - 03 - 31),
    ),
    // 30 June: 30 July; 30 September.
    (
        date!(2026 - 06 - 30),
        date!(2026 - 07 - 30),
        date!(2026 - 09 - 30),
    ),
    // 29 January 2100 (not a leap year: century rule).
    (
        date!(2100 - 01 - 29),
        date!(2100 - 02 - 28),
        date!(2100 - 04 - 28),
    ),
    // 29 January 2000 (a leap year: 400 rule).
    (
        date!(2000 - 01 - 29),
        date!(2000 - 02 - 29),
        date!(2000 - 04 - 29),
    ),
    // 15 February: 15 March; 15 May.
    (
        date!(2026 - 02 - 15),
        date!(2026 - 03 - 15),
        date!(2026 - 05 - 15),
    ),
];

#[test]
fn deadline_table() {
    assert!(TABLE.len() >= 20);
    for &(received, initial, max) in TABLE {
        let d = Deadlines::for_date(received).unwrap();
        assert_eq!(d.due_initial, initial, "due_initial for {received}");
        assert_eq!(d.due_max, max, "due_max for {received}");
        assert_eq!(d.due, initial);
        assert!(!d.extended);
        // The invariants, whatever the date.
        assert!(d.due_max <= add_months(received, 3).unwrap());
        assert!(d.due_max >= d.due_initial);
    }
}

/// Receipt instants near midnight and on DST change days, in Oslo's local time.
#[test]
fn local_date_of_receipt() {
    let z = LocalZone::EuropeCentral;
    // 23:30 UTC on 31 March 2026 is 01:30 on 1 April in Oslo (summer time, UTC+2).
    assert_eq!(
        z.date_of(datetime!(2026-03-31 23:30 UTC)),
        date!(2026 - 04 - 01)
    );
    // 22:59 UTC on 31 January is 23:59 in Oslo (winter, UTC+1): still 31 January.
    let d = Deadlines::compute(datetime!(2025-01-31 22:59 UTC), z).unwrap();
    assert_eq!(d.received_on, date!(2025 - 01 - 31));
    assert_eq!(d.due_initial, date!(2025 - 02 - 28));
    // 23:00 UTC on 31 January is midnight in Oslo: 1 February, due 1 March.
    let d = Deadlines::compute(datetime!(2025-01-31 23:00 UTC), z).unwrap();
    assert_eq!(d.received_on, date!(2025 - 02 - 01));
    assert_eq!(d.due_initial, date!(2025 - 03 - 01));
    // DST starts 29 March 2026 at 01:00 UTC: 22:30 UTC the day before is 23:30 local (+1).
    assert_eq!(
        z.date_of(datetime!(2026-03-28 22:30 UTC)),
        date!(2026 - 03 - 28)
    );
    // 22:30 UTC on the change day is 00:30 the next day (+2).
    assert_eq!(
        z.date_of(datetime!(2026-03-29 22:30 UTC)),
        date!(2026 - 03 - 30)
    );
    // DST ends 25 October 2026 at 01:00 UTC: 22:30 UTC that day is 23:30 local (+1).
    assert_eq!(
        z.date_of(datetime!(2026-10-25 22:30 UTC)),
        date!(2026 - 10 - 25)
    );
    // 22:30 UTC on 24 October is 00:30 on the 25th (still summer time).
    assert_eq!(
        z.date_of(datetime!(2026-10-24 22:30 UTC)),
        date!(2026 - 10 - 25)
    );
    // A fixed zone.
    let utc = LocalZone::Fixed(UtcOffset::UTC);
    assert_eq!(
        utc.date_of(datetime!(2026-03-31 23:30 UTC)),
        date!(2026 - 03 - 31)
    );
}

#[test]
fn extension_rules() {
    let d = Deadlines::for_date(date!(2025 - 01 - 31)).unwrap();
    // Two months reach due_max (28 April), never 30 April.
    let e = d.extend(2, "many requests", date!(2025 - 02 - 10)).unwrap();
    assert_eq!(e.due, date!(2025 - 04 - 28));
    assert!(e.extended);
    // One month: 28 March.
    let e1 = d.extend(1, "complex", date!(2025 - 02 - 28)).unwrap();
    assert_eq!(e1.due, date!(2025 - 03 - 28));
    // On due_initial itself it is still allowed; the day after it is not.
    assert_eq!(
        d.extend(1, "complex", date!(2025 - 03 - 01)),
        Err(DeadlineError::TooLate(date!(2025 - 02 - 28)))
    );
    // No reason, or only blanks: refused.
    assert_eq!(
        d.extend(1, "  ", date!(2025 - 02 - 01)),
        Err(DeadlineError::ReasonRequired)
    );
    let long = "x".repeat(MAX_REASON_LEN + 1);
    assert_eq!(
        d.extend(1, &long, date!(2025 - 02 - 01)),
        Err(DeadlineError::ReasonRequired)
    );
    // 0 or 3 months: refused.
    assert_eq!(
        d.extend(0, "r", date!(2025 - 02 - 01)),
        Err(DeadlineError::BadMonths)
    );
    assert_eq!(
        d.extend(3, "r", date!(2025 - 02 - 01)),
        Err(DeadlineError::BadMonths)
    );
    // Only once.
    assert_eq!(
        e1.extend(1, "again", date!(2025 - 02 - 28)),
        Err(DeadlineError::AlreadyExtended)
    );
    // Restored from storage.
    let r = Deadlines::restore(date!(2025 - 01 - 31), date!(2025 - 04 - 28)).unwrap();
    assert!(r.extended);
    assert_eq!(r, e);
    let r = Deadlines::restore(date!(2025 - 01 - 31), date!(2025 - 02 - 28)).unwrap();
    assert_eq!(r, d);
}

#[test]
fn extension_never_passes_three_months_from_receipt() {
    let mut day = date!(2023 - 01 - 01);
    while day < date!(2029 - 01 - 01) {
        let d = Deadlines::for_date(day).unwrap();
        for months in 1..=2 {
            let e = d.extend(months, "complex", day).unwrap();
            assert!(e.due <= add_months(day, 3).unwrap(), "{day} +{months}");
            assert!(e.due > d.due_initial, "{day} +{months}");
            assert!(e.due <= d.due_max);
        }
        day = day.next_day().unwrap();
    }
}

#[test]
fn flags_and_reminders() {
    let d = Deadlines::for_date(date!(2026 - 03 - 10)).unwrap();
    assert_eq!(d.internal_target(), Some(date!(2026 - 04 - 04)));
    assert_eq!(d.reminder_on(), Some(date!(2026 - 04 - 05)));
    assert!(!d.due_soon(date!(2026 - 04 - 04)));
    assert!(d.due_soon(date!(2026 - 04 - 05)));
    assert!(d.due_soon(date!(2026 - 04 - 10)));
    assert!(!d.overdue(date!(2026 - 04 - 10)));
    assert!(d.overdue(date!(2026 - 04 - 11)));
    assert!(!d.due_soon(date!(2026 - 04 - 11)));
    assert_eq!(d.days_left(date!(2026 - 04 - 12)), -2);
    let e = d.extend(2, "complex", date!(2026 - 04 - 01)).unwrap();
    assert_eq!(e.reminder_on(), Some(date!(2026 - 05 - 31)));
    assert!(falls_on_weekend(date!(2026 - 11 - 29)));
    assert!(!falls_on_weekend(date!(2026 - 11 - 30)));
}

/// The allowed transitions, and nothing else.
const ALLOWED: &[(State, Action, State)] = &[
    (
        State::Received,
        Action::RequestIdentity,
        State::AwaitingIdentity,
    ),
    (
        State::AwaitingIdentity,
        Action::RequestIdentity,
        State::AwaitingIdentity,
    ),
    (State::Received, Action::Verify, State::InProgress),
    (State::AwaitingIdentity, Action::Verify, State::InProgress),
    (
        State::AwaitingIdentity,
        Action::FailIdentity,
        State::UnableToIdentify,
    ),
    (State::InProgress, Action::Extend, State::Extended),
    (State::InProgress, Action::Complete, State::Completed),
    (State::Extended, Action::Complete, State::Completed),
    (
        State::InProgress,
        Action::PartiallyRefuse,
        State::PartiallyRefused,
    ),
    (
        State::Extended,
        Action::PartiallyRefuse,
        State::PartiallyRefused,
    ),
    (State::InProgress, Action::Refuse, State::Refused),
    (State::Extended, Action::Refuse, State::Refused),
    (State::Received, Action::Withdraw, State::Withdrawn),
    (State::AwaitingIdentity, Action::Withdraw, State::Withdrawn),
    (State::InProgress, Action::Withdraw, State::Withdrawn),
    (State::Extended, Action::Withdraw, State::Withdrawn),
];

#[test]
fn every_transition_is_allowed_or_refused_as_specified() {
    let mut refused = 0;
    for from in State::ALL {
        for action in Action::ALL {
            let expected = ALLOWED
                .iter()
                .find(|(f, a, _)| *f == from && *a == action)
                .map(|(_, _, to)| *to);
            match (transition(from, action), expected) {
                (Ok(to), Some(want)) => assert_eq!(to, want, "{from} {action:?}"),
                (Err(e), None) => {
                    assert_eq!(e, TransitionError { from, action });
                    refused += 1;
                }
                (got, want) => panic!("{from} {action:?}: got {got:?}, want {want:?}"),
            }
        }
    }
    // 9 states × 8 actions, minus the allowed ones: every one of them was tried.
    assert_eq!(refused, 9 * 8 - ALLOWED.len());
    // Terminal states accept nothing at all.
    for from in State::ALL.into_iter().filter(|s| s.is_terminal()) {
        for action in Action::ALL {
            assert!(transition(from, action).is_err());
        }
    }
}

#[test]
fn names_round_trip() {
    for s in State::ALL {
        assert_eq!(State::parse(s.as_str()), Some(s));
        assert_eq!(
            serde_json::to_value(s).unwrap(),
            serde_json::json!(s.as_str())
        );
    }
    for r in Right::ALL {
        assert_eq!(Right::parse(r.as_str()), Some(r));
    }
    assert_eq!(State::parse("nope"), None);
}

#[test]
fn references_are_readable_and_distinct() {
    let a = new_reference();
    let b = new_reference();
    assert_ne!(a, b);
    assert_eq!(a.len(), "DSR-XXXXX-XXXXX".len());
    assert!(a.starts_with("DSR-"));
    assert!(
        a[4..]
            .chars()
            .all(|c| c == '-' || (c.is_ascii_alphanumeric() && !"ILOU".contains(c)))
    );
}
