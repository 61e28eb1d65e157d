//! Turning the policy's codes into words: countries, durations, dates, channels and lists.
//!
//! The country table is general vocabulary, not policy content: it names the EEA states and the
//! countries a policy is likely to transfer to. A code it does not know is shown as the code.

use crate::duration::{CalendarDuration, Unit};

use super::Lang;
use super::strings::{MONTHS_EN, MONTHS_NB, Phrases};

/// `(ISO 3166-1 alpha-2, bokmål, English, in the EEA)`.
const COUNTRIES: &[(&str, &str, &str, bool)] = &[
    ("AT", "Østerrike", "Austria", true),
    ("BE", "Belgia", "Belgium", true),
    ("BG", "Bulgaria", "Bulgaria", true),
    ("HR", "Kroatia", "Croatia", true),
    ("CY", "Kypros", "Cyprus", true),
    ("CZ", "Tsjekkia", "Czechia", true),
    ("DK", "Danmark", "Denmark", true),
    ("EE", "Estland", "Estonia", true),
    ("FI", "Finland", "Finland", true),
    ("FR", "Frankrike", "France", true),
    ("DE", "Tyskland", "Germany", true),
    ("GR", "Hellas", "Greece", true),
    ("HU", "Ungarn", "Hungary", true),
    ("IE", "Irland", "Ireland", true),
    ("IT", "Italia", "Italy", true),
    ("LV", "Latvia", "Latvia", true),
    ("LT", "Litauen", "Lithuania", true),
    ("LU", "Luxembourg", "Luxembourg", true),
    ("MT", "Malta", "Malta", true),
    ("NL", "Nederland", "Netherlands", true),
    ("PL", "Polen", "Poland", true),
    ("PT", "Portugal", "Portugal", true),
    ("RO", "Romania", "Romania", true),
    ("SK", "Slovakia", "Slovakia", true),
    ("SI", "Slovenia", "Slovenia", true),
    ("ES", "Spania", "Spain", true),
    ("SE", "Sverige", "Sweden", true),
    ("IS", "Island", "Iceland", true),
    ("LI", "Liechtenstein", "Liechtenstein", true),
    ("NO", "Norge", "Norway", true),
    ("AD", "Andorra", "Andorra", false),
    ("AR", "Argentina", "Argentina", false),
    ("AU", "Australia", "Australia", false),
    ("BR", "Brasil", "Brazil", false),
    ("CA", "Canada", "Canada", false),
    ("CH", "Sveits", "Switzerland", false),
    ("CN", "Kina", "China", false),
    ("FO", "Færøyene", "Faroe Islands", false),
    ("GB", "Storbritannia", "United Kingdom", false),
    ("GG", "Guernsey", "Guernsey", false),
    ("IL", "Israel", "Israel", false),
    ("IM", "Man", "Isle of Man", false),
    ("IN", "India", "India", false),
    ("JE", "Jersey", "Jersey", false),
    ("JP", "Japan", "Japan", false),
    ("KR", "Sør-Korea", "South Korea", false),
    ("MX", "Mexico", "Mexico", false),
    ("NZ", "New Zealand", "New Zealand", false),
    ("SG", "Singapore", "Singapore", false),
    ("UA", "Ukraina", "Ukraine", false),
    ("US", "USA", "United States", false),
    ("UY", "Uruguay", "Uruguay", false),
    ("ZA", "Sør-Afrika", "South Africa", false),
];

/// The country's name, or the code itself when the table does not know it.
pub(crate) fn country(code: &str, lang: Lang) -> String {
    COUNTRIES.iter().find(|(c, ..)| *c == code).map_or_else(
        || code.to_owned(),
        |(_, nb, en, _)| {
            match lang {
                Lang::Nb => nb,
                Lang::En => en,
            }
            .to_string()
        },
    )
}

/// Whether the country is in the EEA (unknown codes are not).
pub(crate) fn is_eea(code: &str) -> bool {
    COUNTRIES.iter().any(|(c, .., eea)| *c == code && *eea)
}

/// `"24 months"` as "24 måneder" / "24 months"; text that is not a duration is shown as written.
pub(crate) fn duration(text: &str, p: &Phrases) -> String {
    match CalendarDuration::parse(text) {
        Ok(d) => {
            let one = d.amount == 1;
            let unit = match d.unit {
                Unit::Days if one => p.day,
                Unit::Days => p.days,
                Unit::Months if one => p.month,
                Unit::Months => p.months,
                Unit::Years if one => p.year,
                Unit::Years => p.years,
            };
            format!("{} {unit}", d.amount)
        }
        Err(_) => text.to_owned(),
    }
}

/// A number of days: "1 dag", "30 dager".
pub(crate) fn days(n: i64, p: &Phrases) -> String {
    format!("{n} {}", if n == 1 { p.day } else { p.days })
}

/// A calendar date written out: "15. januar 2025" / "15 January 2025".
pub(crate) fn date(day: u8, month: u8, year: Option<u16>, lang: Lang) -> Option<String> {
    let index = usize::from(month.checked_sub(1)?);
    let name = match lang {
        Lang::Nb => MONTHS_NB.get(index)?,
        Lang::En => MONTHS_EN.get(index)?,
    };
    if !(1..=31).contains(&day) {
        return None;
    }
    Some(match (lang, year) {
        (Lang::Nb, Some(y)) => format!("{day}. {name} {y}"),
        (Lang::Nb, None) => format!("{day}. {name}"),
        (Lang::En, Some(y)) => format!("{day} {name} {y}"),
        (Lang::En, None) => format!("{day} {name}"),
    })
}

/// A TOML date (or date-time) as a written-out date; other values as written.
pub(crate) fn toml_date(value: &toml::value::Datetime, lang: Lang) -> String {
    value
        .date
        .and_then(|d| date(d.day, d.month, Some(d.year), lang))
        .unwrap_or_else(|| value.to_string())
}

/// `MM-DD` (the fiscal year end) as a day and month, if it is one.
pub(crate) fn month_day(text: &str, lang: Lang) -> Option<String> {
    let (m, d) = text.split_once('-')?;
    let (month, day) = (m.parse::<u8>().ok()?, d.parse::<u8>().ok()?);
    date(day, month, None, lang)
}

/// A communication channel id in words; unknown ids are shown with spaces for underscores.
pub(crate) fn channel(id: &str, p: &Phrases) -> String {
    match id {
        "email" => p.ch_email,
        "sms" => p.ch_sms,
        "phone" | "telephone" => p.ch_phone,
        "post" | "mail" | "letter" => p.ch_post,
        "push" => p.ch_push,
        "in_app" | "app" => p.ch_in_app,
        "social" | "social_media" => p.ch_social,
        other => return other.replace('_', " "),
    }
    .to_owned()
}

/// "a, b og c" / "a, b and c".
pub(crate) fn join_and(items: &[String], p: &Phrases) -> String {
    match items {
        [] => String::new(),
        [one] => one.clone(),
        [rest @ .., last] => format!("{} {} {last}", rest.join(", "), p.and),
    }
}

/// The first letter in upper case (for a phrase that starts a table cell).
pub(crate) fn capitalize(s: &str) -> String {
    let mut chars = s.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::render::strings::{EN, NB};

    #[test]
    fn durations_in_words() {
        assert_eq!(duration("24 months", &NB), "24 måneder");
        assert_eq!(duration("1 year", &NB), "1 år");
        assert_eq!(duration("1 day", &EN), "1 day");
        assert_eq!(duration("soon", &EN), "soon");
    }

    #[test]
    fn dates_in_words() {
        assert_eq!(
            date(15, 1, Some(2025), Lang::Nb).as_deref(),
            Some("15. januar 2025")
        );
        assert_eq!(month_day("12-31", Lang::En).as_deref(), Some("31 December"));
        assert_eq!(month_day("13-01", Lang::En), None);
    }

    #[test]
    fn lists_and_countries() {
        let items = ["a".to_owned(), "b".to_owned(), "c".to_owned()];
        assert_eq!(join_and(&items, &NB), "a, b og c");
        assert_eq!(join_and(&items[..1], &EN), "a");
        assert_eq!(country("SE", Lang::Nb), "Sverige");
        assert_eq!(country("XX", Lang::En), "XX");
        assert!(is_eea("NO") && !is_eea("US"));
        let eea = COUNTRIES.iter().filter(|c| c.3).count();
        assert_eq!(eea, 30);
    }
}
