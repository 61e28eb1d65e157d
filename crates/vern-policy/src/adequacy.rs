//! Where personal data may flow without further safeguards: the EEA, and the countries with a
//! European Commission adequacy decision under GDPR Art. 45 (or Directive 95/46 Art. 25(6),
//! kept in force by Art. 45(9)). This is data, with its dates, so that a transfer check can ask
//! "was this adequate on that day?".
//!
//! Source: the Commission's list of adequacy decisions. Last reviewed 2026-11-29. Decisions can
//! be amended, suspended or annulled (Schrems I and II annulled the US Safe Harbour and Privacy
//! Shield decisions): review this table whenever the list changes.

use time::Date;
use time::macros::date;

/// The EU member states and the EEA EFTA states (Iceland, Liechtenstein, Norway), ISO 3166-1
/// alpha-2 (Greece is `GR`, not the EU's `EL`).
pub const EEA: &[&str] = &[
    "AT", "BE", "BG", "HR", "CY", "CZ", "DK", "EE", "FI", "FR", "DE", "GR", "HU", "IE", "IT", "LV",
    "LT", "LU", "MT", "NL", "PL", "PT", "RO", "SK", "SI", "ES", "SE", "IS", "LI", "NO",
];

pub fn is_eea(country: &str) -> bool {
    EEA.contains(&country)
}

/// One adequacy decision.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Adequacy {
    pub country: &'static str,
    pub name: &'static str,
    /// Date of the Commission decision.
    pub decided: Date,
    /// Limits of the decision's scope that a transfer must respect.
    pub scope: &'static str,
    /// Only organisations certified under the EU-US Data Privacy Framework are covered.
    pub requires_dpf_certification: bool,
}

const fn decision(
    country: &'static str,
    name: &'static str,
    decided: Date,
    scope: &'static str,
) -> Adequacy {
    Adequacy {
        country,
        name,
        decided,
        scope,
        requires_dpf_certification: false,
    }
}

pub const ADEQUACY: &[Adequacy] = &[
    decision("AD", "Andorra", date!(2010 - 10 - 19), "full"),
    decision("AR", "Argentina", date!(2003 - 06 - 30), "full"),
    decision(
        "CA",
        "Canada",
        date!(2001 - 12 - 20),
        "commercial organisations subject to PIPEDA",
    ),
    decision("CH", "Switzerland", date!(2000 - 07 - 26), "full"),
    decision("FO", "Faroe Islands", date!(2010 - 03 - 05), "full"),
    decision(
        "GB",
        "United Kingdom",
        date!(2021 - 06 - 28),
        "UK GDPR (decision with a sunset clause, renewed; verify the current expiry)",
    ),
    decision("GG", "Guernsey", date!(2003 - 11 - 21), "full"),
    decision(
        "IL",
        "Israel",
        date!(2011 - 01 - 31),
        "automated processing",
    ),
    decision("IM", "Isle of Man", date!(2004 - 04 - 28), "full"),
    decision("JE", "Jersey", date!(2008 - 05 - 08), "full"),
    decision(
        "JP",
        "Japan",
        date!(2019 - 01 - 23),
        "private sector under the APPI, with supplementary rules",
    ),
    decision(
        "KR",
        "Republic of Korea",
        date!(2021 - 12 - 17),
        "entities under the PIPA",
    ),
    decision("NZ", "New Zealand", date!(2012 - 12 - 19), "full"),
    decision("UY", "Uruguay", date!(2012 - 08 - 21), "full"),
    Adequacy {
        country: "US",
        name: "United States",
        decided: date!(2023 - 07 - 10),
        scope: "organisations certified under the EU-US Data Privacy Framework",
        requires_dpf_certification: true,
    },
];

/// The adequacy decision covering `country` on `on`, if any.
pub fn adequacy_on(country: &str, on: Date) -> Option<&'static Adequacy> {
    ADEQUACY
        .iter()
        .find(|a| a.country == country && a.decided <= on)
}

/// The adequacy decision covering `country` today or at any time since it was adopted.
pub fn adequacy(country: &str) -> Option<&'static Adequacy> {
    ADEQUACY.iter().find(|a| a.country == country)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn eea_has_thirty_states_and_no_duplicates() {
        let mut v = EEA.to_vec();
        v.sort_unstable();
        v.dedup();
        assert_eq!(v.len(), 30);
        assert!(is_eea("NO") && is_eea("SE") && !is_eea("GB") && !is_eea("US"));
    }

    #[test]
    fn adequacy_respects_the_decision_date() {
        assert!(adequacy_on("US", date!(2023 - 07 - 09)).is_none());
        assert!(
            adequacy_on("US", date!(2023 - 07 - 10)).is_some_and(|a| a.requires_dpf_certification)
        );
        assert!(adequacy_on("KR", date!(2020 - 01 - 01)).is_none());
        assert!(adequacy("IN").is_none());
    }
}
