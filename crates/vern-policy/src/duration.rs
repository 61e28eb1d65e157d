//! Calendar durations as written in a policy: `"6 months"`, `"24 months"`, `"5 years"`.

use std::fmt;

use serde::Serialize;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Unit {
    Days,
    Months,
    Years,
}

/// A positive number of calendar units. Months and years are calendar arithmetic (31 January
/// plus one month is the last day of February), never a fixed number of days.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub struct CalendarDuration {
    pub amount: u32,
    pub unit: Unit,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DurationError {
    #[error("duration must be \"<number> days|months|years\", found {0:?}")]
    Syntax(String),
    #[error("duration must be positive, found {0:?}")]
    NotPositive(String),
    #[error("duration {0:?} is too long (at most 1000 years)")]
    TooLong(String),
}

impl CalendarDuration {
    pub fn parse(text: &str) -> Result<Self, DurationError> {
        let mut parts = text.split_whitespace();
        let (Some(number), Some(unit), None) = (parts.next(), parts.next(), parts.next()) else {
            return Err(DurationError::Syntax(text.to_owned()));
        };
        let amount: i64 = number
            .parse()
            .map_err(|_| DurationError::Syntax(text.to_owned()))?;
        let unit = match unit {
            "day" | "days" => Unit::Days,
            "month" | "months" => Unit::Months,
            "year" | "years" => Unit::Years,
            _ => return Err(DurationError::Syntax(text.to_owned())),
        };
        if amount <= 0 {
            return Err(DurationError::NotPositive(text.to_owned()));
        }
        let limit = match unit {
            Unit::Days => 366_000,
            Unit::Months => 12_000,
            Unit::Years => 1_000,
        };
        if amount > limit {
            return Err(DurationError::TooLong(text.to_owned()));
        }
        Ok(CalendarDuration {
            amount: u32::try_from(amount).map_err(|_| DurationError::TooLong(text.to_owned()))?,
            unit,
        })
    }

    /// A rough length in days, only for ordering durations of different units (policy diff).
    pub fn approx_days(&self) -> u64 {
        let per = match self.unit {
            Unit::Days => 1.0,
            Unit::Months => 30.436_875,
            Unit::Years => 365.2425,
        };
        (f64::from(self.amount) * per).round() as u64
    }

    /// Adds this duration to a date with calendar arithmetic, clamping to the month's end.
    pub fn add_to(&self, date: time::Date) -> Option<time::Date> {
        match self.unit {
            Unit::Days => date.checked_add(time::Duration::days(i64::from(self.amount))),
            Unit::Months => add_months(date, self.amount),
            Unit::Years => add_months(date, self.amount.checked_mul(12)?),
        }
    }
}

/// Calendar-month addition: the same day of month, or the month's last day if it is shorter.
pub fn add_months(date: time::Date, months: u32) -> Option<time::Date> {
    let zero_based = i64::from(date.month() as u8) - 1 + i64::from(months);
    let year = i32::try_from(i64::from(date.year()) + zero_based.div_euclid(12)).ok()?;
    let month = time::Month::try_from(u8::try_from(zero_based.rem_euclid(12) + 1).ok()?).ok()?;
    let day = date.day().min(month.length(year));
    time::Date::from_calendar_date(year, month, day).ok()
}

impl fmt::Display for CalendarDuration {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let unit = match (self.unit, self.amount == 1) {
            (Unit::Days, true) => "day",
            (Unit::Days, false) => "days",
            (Unit::Months, true) => "month",
            (Unit::Months, false) => "months",
            (Unit::Years, true) => "year",
            (Unit::Years, false) => "years",
        };
        write!(f, "{} {unit}", self.amount)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::date;

    #[test]
    fn parses_calendar_units() {
        assert_eq!(
            CalendarDuration::parse("6 months"),
            Ok(CalendarDuration {
                amount: 6,
                unit: Unit::Months
            })
        );
        assert_eq!(
            CalendarDuration::parse("1 year"),
            Ok(CalendarDuration {
                amount: 1,
                unit: Unit::Years
            })
        );
        assert!(matches!(
            CalendarDuration::parse("0 days"),
            Err(DurationError::NotPositive(_))
        ));
        assert!(matches!(
            CalendarDuration::parse("-3 months"),
            Err(DurationError::NotPositive(_))
        ));
        assert!(matches!(
            CalendarDuration::parse("six months"),
            Err(DurationError::Syntax(_))
        ));
        assert!(matches!(
            CalendarDuration::parse("6 fortnights"),
            Err(DurationError::Syntax(_))
        ));
        assert!(matches!(
            CalendarDuration::parse("99999 years"),
            Err(DurationError::TooLong(_))
        ));
    }

    #[test]
    fn month_arithmetic_clamps_to_month_end() {
        let one = CalendarDuration {
            amount: 1,
            unit: Unit::Months,
        };
        assert_eq!(
            one.add_to(date!(2026 - 01 - 31)),
            Some(date!(2026 - 02 - 28))
        );
        assert_eq!(
            one.add_to(date!(2028 - 01 - 31)),
            Some(date!(2028 - 02 - 29))
        );
        let five_years = CalendarDuration {
            amount: 5,
            unit: Unit::Years,
        };
        assert_eq!(
            five_years.add_to(date!(2024 - 02 - 29)),
            Some(date!(2029 - 02 - 28))
        );
        let six = CalendarDuration {
            amount: 6,
            unit: Unit::Months,
        };
        assert_eq!(
            six.add_to(date!(2026 - 08 - 31)),
            Some(date!(2027 - 02 - 28))
        );
    }
}
