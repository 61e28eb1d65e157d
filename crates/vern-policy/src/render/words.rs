//! Turning the policy's codes into words: countries, durations, dates, channels and lists.
//!
//! The country table is general vocabulary, not policy content: it names the EEA states and the
//! countries a policy is likely to transfer to. A code it does not know is shown as the code.

use crate::duration::{CalendarDuration, Unit};

use super::Lang;
use super::strings::{MONTHS_EN, MONTHS_NB, Phrases};

/// `(ISO 3166-1 alpha-2, bokmål, English)`.
const COUNTRIES: &[(&str, &str, &str)] = &[
    ("AT", "Østerrike", "Austria"),
    ("BE", "Belgia", "Belgium"),
    ("BG", "Bulgaria", "Bulgaria"),
    ("HR", "Kroatia", "Croatia"),
    ("CY", "Kypros", "Cyprus"),
    ("CZ", "Tsjekkia", "Czechia"),
    ("DK", "Danmark", "Denmark"),
    ("EE", "Estland", "Estonia"),
    ("FI", "Finland", "Finland"),
    ("FR", "Frankrike", "France"),
    ("DE", "Tyskland", "Germany"),
    ("GR", "Hellas", "Greece"),
    ("HU", "Ungarn", "Hungary"),
    ("IE", "Irland", "Ireland"),
    ("IT", "Italia", "Italy"),
    ("LV", "Latvia", "Latvia"),
    ("LT", "Litauen", "Lithuania"),
    ("LU", "Luxembourg", "Luxembourg"),
    ("MT", "Malta", "Malta"),
    ("NL", "Nederland", "Netherlands"),
    ("PL", "Polen", "Poland"),
    ("PT", "Portugal", "Portugal"),
    ("RO", "Romania", "Romania"),
    ("SK", "Slovakia", "Slovakia"),
    ("SI", "Slovenia", "Slovenia"),
    ("ES", "Spania", "Spain"),
    ("SE", "Sverige", "Sweden"),
    ("IS", "Island", "Iceland"),
    ("LI", "Liechtenstein", "Liechtenstein"),
    ("NO", "Norge", "Norway"),
    ("AD", "Andorra", "Andorra"),
    ("AR", "Argentina", "Argentina"),
    ("AU", "Australia", "Australia"),
    ("BR", "Brasil", "Brazil"),
    ("CA", "Canada", "Canada"),
    ("CH", "Sveits", "Switzerland"),
    ("CN", "Kina", "China"),
    ("FO", "Færøyene", "Faroe Islands"),
    ("GB", "Storbritannia", "United Kingdom"),
    ("GG", "Guernsey", "Guernsey"),
    ("IL", "Israel", "Israel"),
    ("IM", "Man", "Isle of Man"),
    ("IN", "India", "India"),
    ("JE", "Jersey", "Jersey"),
    ("JP", "Japan", "Japan"),
    ("KR", "Sør-Korea", "South Korea"),
    ("MX", "Mexico", "Mexico"),
    ("NZ", "New Zealand", "New Zealand"),
    ("SG", "Singapore", "Singapore"),
    ("UA", "Ukraina", "Ukraine"),
    ("US", "USA", "United States"),
    ("UY", "Uruguay", "Uruguay"),
    ("ZA", "Sør-Afrika", "South Africa"),
];

/// The country's name, or the code itself when the table does not know it.
pub(crate) fn country(code: &str, lang: Lang) -> String {
    COUNTRIES.iter().find(|(c, ..)| *c == code).map_or_else(
        || code.to_owned(),
        |(_, nb, en)| {
            match lang {
                Lang::Nb => nb,
                Lang::En => en,
            }
            .to_string()
        },
    )
}

/// Whether the country is in the EEA (the one list in `adequacy`).
pub(crate) fn is_eea(code: &str) -> bool {
    crate::adequacy::is_eea(code)
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
        // Every EEA state has a name in both languages.
        for code in crate::adequacy::EEA {
            assert_ne!(country(code, Lang::Nb), *code);
            assert_ne!(country(code, Lang::En), *code);
        }
    }
}
