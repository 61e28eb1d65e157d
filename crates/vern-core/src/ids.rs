//! Identifiers and time: UUIDv7 ids, the microsecond timestamps the store keeps, and the
//! injectable [`Clock`] that every time-dependent rule reads instead of the wall clock.

use std::sync::{Arc, Mutex, PoisonError};

use time::OffsetDateTime;
use uuid::Uuid;

/// The tenant of a single-tenant install: `00000000-0000-7000-8000-000000000001`.
///
/// Every per-subject row carries a tenant id so PostgreSQL can later be distributed by tenant;
/// installs with one tenant use this fixed id. It is a well-formed version-7 UUID (timestamp
/// zero) so it sorts before every generated id and can never collide with one.
pub const DEFAULT_TENANT: Uuid = Uuid::from_u128(0x0000_0000_0000_7000_8000_0000_0000_0001);

/// A new UUIDv7: time-ordered, so keyset pagination by id follows creation order.
///
/// This reads the system clock by design: ids need uniqueness and rough ordering, not the
/// injected business time, and tests that move the [`Clock`] must still get fresh ids.
pub fn new_id() -> Uuid {
    Uuid::now_v7()
}

/// Unix microseconds, the time representation the store keeps (a `BIGINT` both databases
/// compare natively). Sub-microsecond precision is floored, so ordering is preserved.
pub fn to_micros(at: OffsetDateTime) -> i64 {
    let micros = at.unix_timestamp_nanos().div_euclid(1_000);
    // `OffsetDateTime` spans at most ±9999 years, about ±3.2e17 µs, well inside `i64`; the
    // saturation only keeps the conversion total.
    i64::try_from(micros).unwrap_or(if micros < 0 { i64::MIN } else { i64::MAX })
}

/// The inverse of [`to_micros`]; `None` if the value is outside the representable years.
pub fn from_micros(micros: i64) -> Option<OffsetDateTime> {
    OffsetDateTime::from_unix_timestamp_nanos(i128::from(micros) * 1_000).ok()
}

/// Where "now" comes from. Rules take a clock (or a `now`) so tests and `--as-of` previews can
/// move time freely.
pub trait Clock: Send + Sync {
    fn now(&self) -> OffsetDateTime;
}

/// The real time, in UTC.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> OffsetDateTime {
        OffsetDateTime::now_utc()
    }
}

/// A clock that stands still until told otherwise: for tests and previews. Share it through an
/// `Arc` to move time for everything that holds it.
#[derive(Debug)]
pub struct FixedClock {
    now: Mutex<OffsetDateTime>,
}

impl FixedClock {
    pub fn new(at: OffsetDateTime) -> Self {
        Self {
            now: Mutex::new(at),
        }
    }

    /// Jumps to `at` (backwards too).
    pub fn set(&self, at: OffsetDateTime) {
        *self.now.lock().unwrap_or_else(PoisonError::into_inner) = at;
    }

    /// Moves time by `by` (negative durations go back).
    pub fn advance(&self, by: time::Duration) {
        let mut now = self.now.lock().unwrap_or_else(PoisonError::into_inner);
        *now = now.saturating_add(by);
    }
}

impl Clock for FixedClock {
    fn now(&self) -> OffsetDateTime {
        // A poisoned lock still holds a valid time: a panicking test thread cannot corrupt it.
        *self.now.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl<C: Clock + ?Sized> Clock for Arc<C> {
    fn now(&self) -> OffsetDateTime {
        (**self).now()
    }
}

impl<C: Clock + ?Sized> Clock for &C {
    fn now(&self) -> OffsetDateTime {
        (**self).now()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn ids_are_version_7_and_increase() {
        let a = new_id();
        let b = new_id();
        assert_eq!(a.get_version_num(), 7);
        assert!(b > a);
    }

    #[test]
    fn default_tenant_is_the_documented_v7_uuid() {
        assert_eq!(
            DEFAULT_TENANT.to_string(),
            "00000000-0000-7000-8000-000000000001"
        );
        assert_eq!(DEFAULT_TENANT.get_version_num(), 7);
        assert!(DEFAULT_TENANT < new_id());
    }

    #[test]
    fn micros_round_trip_and_floor() {
        let at = datetime!(2026-03-01 12:34:56.123456 UTC);
        assert_eq!(from_micros(to_micros(at)), Some(at));
        assert_eq!(to_micros(datetime!(1970-01-01 0:00 UTC)), 0);
        // Before the epoch, flooring keeps the order of instants.
        let before = datetime!(1969-12-31 23:59:59.999999999 UTC);
        assert_eq!(to_micros(before), -1);
        assert_eq!(
            to_micros(datetime!(2026-01-01 0:00:00.000000999 UTC)),
            to_micros(datetime!(2026-01-01 0:00 UTC))
        );
        assert_eq!(from_micros(i64::MAX), None);
    }

    #[test]
    fn fixed_clock_moves_only_when_told() {
        let clock = Arc::new(FixedClock::new(datetime!(2026-01-01 0:00 UTC)));
        let shared: Arc<dyn Clock> = clock.clone();
        assert_eq!(shared.now(), datetime!(2026-01-01 0:00 UTC));
        clock.advance(time::Duration::days(31));
        assert_eq!(shared.now(), datetime!(2026-02-01 0:00 UTC));
        clock.set(datetime!(2025-06-01 0:00 UTC));
        assert_eq!(shared.now(), datetime!(2025-06-01 0:00 UTC));
    }

    #[test]
    fn system_clock_is_utc() {
        assert!(SystemClock.now().offset().is_utc());
    }
}
