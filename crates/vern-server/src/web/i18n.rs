//! The portal's and console's words in Norwegian bokmål and English. A unit test checks that
//! every key a template or handler uses exists here, in both languages.

/// A page language.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lang {
    Nb,
    En,
}

impl Lang {
    pub fn as_str(self) -> &'static str {
        match self {
            Lang::Nb => "nb",
            Lang::En => "en",
        }
    }

    pub fn parse(text: &str) -> Option<Lang> {
        match text {
            "nb" => Some(Lang::Nb),
            "en" => Some(Lang::En),
            _ => None,
        }
    }
}

/// `(key, nb, en)`.
const STRINGS: &[(&str, &str, &str)] = &[
    ("skip", "Hopp til innholdet", "Skip to content"),
    ("switch_lang", "English", "Norsk (bokmål)"),
    ("nav_label", "Hovedmeny", "Main menu"),
    (
        "footer",
        "Personvernsystemet vern. Ingen informasjonskapsler utover det som trengs for innlogging og skjemaer.",
        "The vern privacy system. No cookies beyond what sign-in and forms need.",
    ),
    ("portal_brand", "Personvern", "Privacy"),
    (
        "admin_brand",
        "Personvern – administrasjon",
        "Privacy – administration",
    ),
    ("portal_title", "Personvernportalen", "Privacy portal"),
    ("nav_home", "Forside", "Home"),
    ("nav_notice", "Personvernerklæring", "Privacy notice"),
    (
        "nav_rights",
        "Bruk rettighetene dine",
        "Exercise your rights",
    ),
    ("nav_status", "Status for forespørsel", "Request status"),
    (
        "nav_prefs",
        "Markedsføring og profilering",
        "Marketing and profiling",
    ),
    ("nav_sp", "Underleverandører", "Sub-processors"),
    (
        "home_intro",
        "Her kan du lese hvordan vi behandler personopplysninger, bruke rettighetene dine og styre samtykkene dine hos",
        "Here you can read how we process personal data, exercise your rights and manage your consents with",
    ),
    (
        "home_notice",
        "Hvilke opplysninger vi har, hvorfor, hvor lenge og hvem vi deler dem med.",
        "What data we hold, why, for how long and who we share it with.",
    ),
    (
        "home_rights",
        "Be om innsyn, en kopi av dataene dine, retting, sletting, begrensning eller protestere.",
        "Ask for access, a copy of your data, correction, erasure, restriction, or object.",
    ),
    (
        "home_prefs",
        "Se og endre samtykkene dine til markedsføring og profilering. Å trekke tilbake er like enkelt som å gi.",
        "See and change your consents to marketing and profiling. Withdrawing is as easy as giving.",
    ),
    (
        "home_sp",
        "Hvem som behandler opplysninger for oss, og hvor.",
        "Who processes data for us, and where.",
    ),
    (
        "versions_title",
        "Versjoner av personvernerklæringen",
        "Versions of the privacy notice",
    ),
    ("version_current", "Gjeldende versjon:", "Current version:"),
    (
        "versions_none",
        "Ingen endringer er kunngjort.",
        "No changes have been announced.",
    ),
    ("version_in_force", "Gjelder fra", "In force since"),
    (
        "version_upcoming",
        "Kommende endring, gjelder fra",
        "Upcoming change, in force from",
    ),
    ("version_changes", "Endringer:", "Changes:"),
    (
        "version_renewal",
        "Samtykker som må fornyes:",
        "Consents that must be renewed:",
    ),
    ("notice_title", "Personvernerklæring", "Privacy notice"),
    (
        "sp_title",
        "Underleverandører (databehandlere)",
        "Sub-processors",
    ),
    (
        "sp_intro",
        "Disse behandler personopplysninger på våre vegne. Utenfor EØS står overføringsgrunnlaget.",
        "These process personal data on our behalf. Outside the EEA the transfer safeguard is given.",
    ),
    ("sp_name", "Navn", "Name"),
    ("sp_service", "Tjeneste", "Service"),
    ("sp_country", "Land", "Country"),
    ("sp_transfer", "Overføringsgrunnlag", "Transfer safeguard"),
    ("sp_dpa", "Databehandleravtale", "Data processing agreement"),
    ("sp_in_eea", "innenfor EØS", "within the EEA"),
    ("sp_from", "fra", "from"),
    (
        "rights_title",
        "Bruk rettighetene dine",
        "Exercise your rights",
    ),
    (
        "rights_intro",
        "Velg hva du vil be om og oppgi e-postadressen din. Du får en e-post med en lenke og en kode for å bekrefte at adressen er din. Vi svarer innen én måned.",
        "Choose what you want to ask for and give your email address. You will receive an email with a link and a code to confirm the address is yours. We answer within one month.",
    ),
    (
        "rights_choose",
        "Hva vil du be om?",
        "What do you want to ask for?",
    ),
    ("right_access", "Innsyn", "Access"),
    (
        "right_access_hint",
        "Se hvilke opplysninger vi har om deg, hvorfor og hvor lenge.",
        "See what data we hold about you, why and for how long.",
    ),
    ("right_portability", "Dataportabilitet", "Data portability"),
    (
        "right_portability_hint",
        "Få opplysningene du har gitt oss i et maskinlesbart format.",
        "Get the data you gave us in a machine-readable format.",
    ),
    ("right_rectification", "Retting", "Rectification"),
    (
        "right_rectification_hint",
        "Få rettet uriktige opplysninger. Skriv hva som er feil nedenfor.",
        "Have wrong data corrected. Write what is wrong below.",
    ),
    ("right_erasure", "Sletting", "Erasure"),
    (
        "right_erasure_hint",
        "Få slettet opplysninger vi ikke må beholde.",
        "Have data deleted that we need not keep.",
    ),
    ("right_restriction", "Begrensning", "Restriction"),
    (
        "right_restriction_hint",
        "Få stanset behandlingen mens noe avklares.",
        "Have processing paused while something is settled.",
    ),
    ("right_objection", "Protest", "Objection"),
    (
        "right_objection_hint",
        "Protestere mot behandling vi gjør på grunnlag av berettiget interesse.",
        "Object to processing we do on the basis of legitimate interest.",
    ),
    ("email_label", "E-postadresse", "Email address"),
    (
        "email_hint",
        "Vi bruker adressen bare til å bekrefte og svare på forespørselen.",
        "We use the address only to confirm and answer the request.",
    ),
    (
        "details_label",
        "Utdypning (valgfritt)",
        "Details (optional)",
    ),
    ("rights_submit", "Send forespørselen", "Send the request"),
    (
        "rights_sent_title",
        "Sjekk e-posten din",
        "Check your email",
    ),
    (
        "rights_sent",
        "Hvis adressen er riktig, får du straks en e-post med en lenke og en kode. Åpne lenken og skriv inn koden for å bekrefte forespørselen. Lenken virker i 30 minutter.",
        "If the address is right, you will shortly receive an email with a link and a code. Open the link and enter the code to confirm the request. The link works for 30 minutes.",
    ),
    (
        "confirm_title",
        "Bekreft forespørselen",
        "Confirm your request",
    ),
    (
        "confirm_intro",
        "Skriv inn koden på seks sifre fra e-posten.",
        "Enter the six-digit code from the email.",
    ),
    ("code_label", "Kode fra e-posten", "Code from the email"),
    ("confirm_submit", "Bekreft", "Confirm"),
    (
        "status_title",
        "Status for forespørselen",
        "Status of your request",
    ),
    (
        "status_none",
        "Her ser du status for forespørsler du har bekreftet i denne nettleseren. Vi sender også brev om hvert steg til e-postadressen din.",
        "Here you see the status of requests you confirmed in this browser. We also send a letter about every step to your email address.",
    ),
    (
        "status_open",
        "Vi behandler forespørselen. Du får e-post når den er ferdig.",
        "We are handling the request. You will receive an email when it is done.",
    ),
    (
        "status_report",
        "Forespørselen er ferdig. Lenken til rapporten er sendt til e-postadressen din; den virker en begrenset tid.",
        "The request is done. The link to the report has been sent to your email address; it works for a limited time.",
    ),
    ("reference", "Referanse", "Reference"),
    ("rights_label", "Rettigheter", "Rights"),
    ("state_label", "Status", "Status"),
    ("received_label", "Mottatt", "Received"),
    ("due_label", "Frist", "Due"),
    ("extended_note", "forlenget", "extended"),
    ("st_received", "Mottatt", "Received"),
    (
        "st_awaiting_identity",
        "Venter på bekreftelse",
        "Awaiting confirmation",
    ),
    ("st_in_progress", "Under behandling", "In progress"),
    (
        "st_extended",
        "Under behandling (fristen er forlenget)",
        "In progress (deadline extended)",
    ),
    ("st_completed", "Fullført", "Completed"),
    (
        "st_partially_refused",
        "Delvis avslått",
        "Partially refused",
    ),
    ("st_refused", "Avslått", "Refused"),
    (
        "st_unable_to_identify",
        "Kunne ikke bekrefte identitet",
        "Identity could not be confirmed",
    ),
    ("st_withdrawn", "Trukket tilbake", "Withdrawn"),
    (
        "prefs_title",
        "Markedsføring og profilering",
        "Marketing and profiling",
    ),
    (
        "prefs_login_intro",
        "Oppgi e-postadressen din, så sender vi deg en lenke for å se og endre samtykkene dine. Lenken virker i 30 minutter.",
        "Give your email address and we will send you a link to see and change your consents. The link works for 30 minutes.",
    ),
    ("prefs_send_link", "Send meg en lenke", "Send me a link"),
    (
        "prefs_sent",
        "Hvis vi har adressen, har vi sendt en lenke til den. Sjekk e-posten din.",
        "If we have the address, we have sent a link to it. Check your email.",
    ),
    (
        "prefs_intro",
        "Du kan trekke tilbake eller gi samtykke med ett klikk. Endringen gjelder med en gang.",
        "You can withdraw or give consent with one click. The change applies at once.",
    ),
    (
        "prefs_saved",
        "Endringen er lagret.",
        "Your change has been saved.",
    ),
    ("withdraw", "Trekk tilbake", "Withdraw"),
    ("grant", "Gi samtykke", "Give consent"),
    ("cs_none", "Ikke gitt", "Not given"),
    ("cs_granted", "Gitt", "Given"),
    ("cs_withdrawn", "Trukket tilbake", "Withdrawn"),
    ("cs_expired", "Utløpt", "Expired"),
    ("cs_renewal", "Må fornyes", "Needs renewal"),
    (
        "objection_title",
        "Protest mot direkte markedsføring",
        "Objection to direct marketing",
    ),
    (
        "objection_text",
        "Du kan når som helst protestere mot all direkte markedsføring. Da stanser vi den på alle kanaler, og profilering for markedsføring.",
        "You can object to all direct marketing at any time. We then stop it on every channel, and profiling for marketing.",
    ),
    (
        "objection_recorded",
        "Du har protestert mot direkte markedsføring.",
        "You have objected to direct marketing.",
    ),
    (
        "object",
        "Protester mot direkte markedsføring",
        "Object to direct marketing",
    ),
    ("portal_logout", "Logg ut", "Sign out"),
    (
        "login_link_title",
        "Se samtykkene dine",
        "See your consents",
    ),
    (
        "login_link_intro",
        "Trykk på knappen for å fortsette til samtykkene dine.",
        "Press the button to continue to your consents.",
    ),
    ("continue", "Fortsett", "Continue"),
    ("error_title", "Noe gikk galt", "Something went wrong"),
    ("back_home", "Til forsiden", "Back to the start page"),
    (
        "err_csrf",
        "Skjemaet var utløpt eller kom fra et annet nettsted. Last siden på nytt og prøv igjen.",
        "The form had expired or came from another site. Reload the page and try again.",
    ),
    (
        "err_forbidden",
        "Du har ikke tilgang til dette.",
        "You do not have access to this.",
    ),
    (
        "err_not_found",
        "Fant ikke det du ba om.",
        "What you asked for was not found.",
    ),
    (
        "err_rate",
        "For mange forsøk. Vent litt og prøv igjen.",
        "Too many attempts. Wait a while and try again.",
    ),
    (
        "err_internal",
        "Serveren kunne ikke fullføre forespørselen. Feilen er logget.",
        "The server could not complete the request. The cause has been logged.",
    ),
    (
        "err_no_right",
        "Velg minst én rettighet.",
        "Choose at least one right.",
    ),
    (
        "err_email",
        "Skriv en gyldig e-postadresse.",
        "Enter a valid email address.",
    ),
    (
        "err_code",
        "Koden stemmer ikke. Prøv igjen; etter fem feil slutter lenken å virke.",
        "The code is wrong. Try again; after five wrong codes the link stops working.",
    ),
    (
        "err_link",
        "Lenken er ukjent, brukt eller utløpt.",
        "The link is unknown, used or expired.",
    ),
    (
        "err_action",
        "Ukjent handling eller manglende felt.",
        "Unknown action or missing field.",
    ),
    (
        "err_token",
        "Tokenet er ukjent eller tilbakekalt.",
        "The token is unknown or revoked.",
    ),
    (
        "err_subject_id",
        "Subjekt-ID må være en UUID.",
        "The subject id must be a UUID.",
    ),
    (
        "err_date",
        "Skriv en dato (ÅÅÅÅ-MM-DD).",
        "Enter a date (YYYY-MM-DD).",
    ),
    ("admin_login_title", "Logg inn", "Sign in"),
    (
        "admin_login_intro",
        "Logg inn med et API-token. Økten varer til du logger ut, i høyst åtte timer.",
        "Sign in with an API token. The session lasts until you sign out, at most eight hours.",
    ),
    ("token_label", "API-token", "API token"),
    ("login", "Logg inn", "Sign in"),
    ("logout", "Logg ut", "Sign out"),
    ("nav_queue", "Forespørsler", "Requests"),
    ("nav_subjects", "Søk etter person", "Find a person"),
    ("nav_retention", "Sletting", "Retention"),
    ("nav_holds", "Rettslige hold", "Legal holds"),
    ("nav_audit", "Revisjonslogg", "Audit log"),
    ("nav_outbox", "Utboks og jobber", "Outbox and jobs"),
    ("nav_consents", "Samtykkestatistikk", "Consent statistics"),
    (
        "queue_title",
        "Forespørsler etter frist",
        "Requests by deadline",
    ),
    (
        "queue_caption",
        "Forespørsler, nærmeste frist først",
        "Requests, nearest deadline first",
    ),
    ("queue_overdue", "Over fristen", "Overdue"),
    (
        "queue_due_soon",
        "Frist innen fem dager",
        "Due within five days",
    ),
    ("queue_all", "Vis også lukkede", "Show closed ones too"),
    ("queue_open_only", "Vis bare åpne", "Show open ones only"),
    ("queue_empty", "Ingen forespørsler.", "No requests."),
    ("days_left", "Dager igjen", "Days left"),
    ("badge_overdue", "Over fristen", "Overdue"),
    ("badge_due_soon", "Snart frist", "Due soon"),
    ("next_page", "Neste side", "Next page"),
    ("request_title", "Forespørsel", "Request"),
    ("action_done", "Utført.", "Done."),
    (
        "due_max",
        "Lengste mulige frist",
        "Latest possible deadline",
    ),
    ("identifiers_label", "Identifikatorer", "Identifiers"),
    ("subject_label", "Person", "Subject"),
    (
        "verification_label",
        "Identitet bekreftet",
        "Identity confirmed",
    ),
    (
        "extension_reason",
        "Grunn til forlengelse",
        "Reason for the extension",
    ),
    ("refusal_label", "Avslag", "Refusal"),
    ("outcomes_title", "Utfall", "Outcomes"),
    ("right_label", "Rettighet", "Right"),
    ("outcome_status", "Utfall", "Outcome"),
    ("outcome_done", "Utført", "Done"),
    ("outcome_partial", "Delvis (unntak)", "Partial (exception)"),
    ("outcome_refused", "Avslått (unntak)", "Refused (exception)"),
    ("reason_label", "Begrunnelse", "Reason"),
    ("legal_basis_label", "Rettslig grunnlag", "Legal basis"),
    (
        "exception_reason",
        "Begrunnelse for unntak",
        "Reason for the exception",
    ),
    ("kept_until_label", "Beholdes til", "Kept until"),
    ("timeline_title", "Tidslinje", "Timeline"),
    ("actions_title", "Handlinger", "Actions"),
    ("act_verify", "Bekreft identitet", "Verify identity"),
    ("act_extend", "Forleng fristen", "Extend the deadline"),
    ("months_label", "Måneder", "Months"),
    (
        "extend_reason_label",
        "Begrunnelse (sendes til personen)",
        "Reason (sent to the person)",
    ),
    ("act_outcome", "Registrer utfall", "Record outcome"),
    ("act_complete", "Fullfør", "Complete"),
    (
        "complete_hint",
        "Oppfyller hver rettighet uten registrert utfall (innsynsrapport og dataportabilitet bak en lenke som utløper, sletting, begrensning), lukker forespørselen og sender sluttbrevet. Retting og protest trenger utfall registrert først.",
        "Fulfils every right without a recorded outcome (access report and portability package behind an expiring link, erasure, restriction), closes the request and sends the closing letter. Rectification and objection need their outcome recorded first.",
    ),
    (
        "act_refuse",
        "Avslå hele forespørselen",
        "Refuse the whole request",
    ),
    ("act_resend", "Send på nytt", "Send again"),
    (
        "act_resend_letter",
        "Send siste brev på nytt",
        "Resend the latest letter",
    ),
    (
        "act_resend_verification",
        "Send ny bekreftelseslenke",
        "Send a new verification link",
    ),
    ("subjects_title", "Søk etter person", "Find a person"),
    (
        "subjects_intro",
        "Søk på en identifikator. Hvert søk logges i revisjonsloggen.",
        "Search by an identifier. Every search is recorded in the audit log.",
    ),
    ("kind_label", "Type", "Kind"),
    ("identifier_label", "Identifikator", "Identifier"),
    ("search", "Søk", "Search"),
    (
        "subject_not_found",
        "Ingen person har denne identifikatoren.",
        "No subject has this identifier.",
    ),
    ("subject_type", "Persontype", "Subject type"),
    (
        "restricted_label",
        "Behandling begrenset",
        "Processing restricted",
    ),
    ("yes", "Ja", "Yes"),
    ("no", "Nei", "No"),
    ("none", "Ingen.", "None."),
    ("records_title", "Opplysninger", "Records"),
    ("category_label", "Kategori", "Category"),
    ("value_label", "Verdi", "Value"),
    ("purposes_label", "Formål", "Purposes"),
    ("collected_label", "Innsamlet", "Collected"),
    ("expires_label", "Slettes", "Deleted on"),
    ("held", "holdt", "held"),
    ("consents_label", "Samtykker", "Consents"),
    ("scope_label", "Samtykke", "Consent"),
    ("channel_label", "Kanal", "Channel"),
    ("since_label", "Siden", "Since"),
    ("objections_label", "Protester", "Objections"),
    ("disclosures_label", "Utleveringer", "Disclosures"),
    ("recipient_label", "Mottaker", "Recipient"),
    ("categories_label", "Kategorier", "Categories"),
    ("when_label", "Tidspunkt", "When"),
    (
        "retention_title",
        "Sletting: forhåndsvisning og prognose",
        "Retention: preview and forecast",
    ),
    ("retention_as_of", "Beregnet", "Computed at"),
    (
        "would_delete",
        "Slettes ved neste kjøring",
        "Deleted by the next sweep",
    ),
    ("held_count", "Utløpt, men holdt", "Expired but held"),
    (
        "by_rule_caption",
        "Utløpt etter regel og kategori",
        "Expired by rule and category",
    ),
    ("rule_label", "Regel", "Rule"),
    ("count_label", "Antall", "Count"),
    (
        "forecast_chart",
        "Opplysninger som utløper per måned, de neste 24 månedene",
        "Records expiring per month, the next 24 months",
    ),
    (
        "forecast_table",
        "Tallene som tabell",
        "The numbers as a table",
    ),
    ("month_label", "Måned", "Month"),
    ("holds_title", "Rettslige hold", "Legal holds"),
    ("matter_label", "Sak", "Matter"),
    ("review_label", "Vurderes innen", "Review by"),
    ("all_subjects", "alle", "all"),
    ("released", "Opphevet", "Released"),
    ("release_reason", "Grunn", "Reason"),
    ("release", "Opphev", "Release"),
    ("hold_new", "Nytt hold", "New hold"),
    (
        "subject_id_label",
        "Person-ID (tom for hele saken)",
        "Subject id (empty for the whole matter)",
    ),
    (
        "approved_label",
        "Godkjent av (rolle)",
        "Approved by (role)",
    ),
    ("hold_create", "Opprett hold", "Place hold"),
    ("audit_title", "Revisjonslogg", "Audit log"),
    (
        "chain_ok",
        "Kjeden er hel: alle oppføringer er kontrollert",
        "The chain is intact: every entry checked",
    ),
    (
        "chain_broken",
        "Kjeden er brutt ved oppføring",
        "The chain is broken at entry",
    ),
    (
        "audit_recent",
        "De nyeste oppføringene",
        "The newest entries",
    ),
    ("actor_label", "Aktør", "Actor"),
    ("action_label", "Handling", "Action"),
    ("detail_label", "Detaljer", "Detail"),
    (
        "outbox_title",
        "Utboks og mislykkede jobber",
        "Outbox and failed jobs",
    ),
    ("failed_mail", "Mislykket e-post", "Failed mail"),
    ("dead_jobs", "Mislykkede jobber", "Failed jobs"),
    ("mail_title", "E-post", "Mail"),
    ("template_label", "Mal", "Template"),
    ("lang_label", "Språk", "Language"),
    ("attempts_label", "Forsøk", "Attempts"),
    ("error_label", "Feil", "Error"),
    ("retry", "Prøv igjen", "Retry"),
    (
        "consents_title",
        "Samtykker per formål over tid",
        "Consents per purpose over time",
    ),
    (
        "consents_intro",
        "Antall samtykker gitt og trukket tilbake per måned, de siste tolv månedene.",
        "Consents given and withdrawn per month, the last twelve months.",
    ),
    ("stats_granted", "gitt", "given"),
    ("stats_withdrawn", "trukket tilbake", "withdrawn"),
];

/// The text of `key` in `lang`; the key itself if missing (the unit test keeps that from
/// happening).
pub fn t(lang: Lang, key: &str) -> &'static str {
    for (k, nb, en) in STRINGS {
        if *k == key {
            return match lang {
                Lang::Nb => nb,
                Lang::En => en,
            };
        }
    }
    "?"
}

#[cfg(test)]
mod tests {
    use super::*;

    fn used_keys() -> Vec<String> {
        let root = concat!(env!("CARGO_MANIFEST_DIR"));
        let mut files = Vec::new();
        for dir in [
            "templates",
            "templates/portal",
            "templates/admin",
            "src/web",
        ] {
            for e in std::fs::read_dir(format!("{root}/{dir}")).unwrap() {
                let p = e.unwrap().path();
                if p.is_file() {
                    files.push(std::fs::read_to_string(p).unwrap());
                }
            }
        }
        let mut keys = Vec::new();
        for text in files {
            for part in text.split("t(\"").skip(1) {
                if let Some((k, _)) = part.split_once("\")")
                    && k.chars().all(|c| c.is_ascii_lowercase() || c == '_')
                {
                    keys.push(k.to_owned());
                }
            }
            for part in text
                .split('"')
                .filter(|s| s.starts_with("st_") || s.starts_with("cs_") || s.starts_with("right_"))
            {
                if part.chars().all(|c| c.is_ascii_lowercase() || c == '_') && !part.ends_with('_')
                {
                    keys.push(part.to_owned());
                }
            }
        }
        keys.sort();
        keys.dedup();
        keys
    }

    #[test]
    fn every_used_key_exists_in_both_languages() {
        let keys = used_keys();
        assert!(keys.len() > 100, "{}", keys.len());
        for k in keys {
            if [
                "right_access",
                "right_portability",
                "right_rectification",
                "right_erasure",
                "right_restriction",
                "right_objection",
            ]
            .contains(&k.as_str())
            {
                assert_ne!(t(Lang::Nb, &format!("{k}_hint")), "?", "{k}_hint");
            }
            assert_ne!(t(Lang::Nb, &k), "?", "missing key {k}");
        }
    }

    #[test]
    fn keys_are_unique_and_translated() {
        let mut seen = std::collections::HashSet::new();
        for (k, nb, en) in STRINGS {
            assert!(seen.insert(*k), "duplicate {k}");
            assert!(!nb.is_empty() && !en.is_empty(), "{k}");
        }
    }
}
