//! The notice's fixed wording in Norwegian bokmål and English, side by side.
//!
//! Nothing here names a company, a purpose or a period: those come from the policy. Phrases
//! with `{name}` placeholders are filled by [`super::doc::fill`], which never rescans inserted
//! policy text, so a policy string containing `{…}` is printed as written.
//! Legal references follow each language's convention: "artikkel 6 nr. 1 bokstav f" in
//! Norwegian (as in Lovdata's translation of the GDPR), "Article 6(1)(f) GDPR" in English.

/// Declares the phrase table once, so a phrase cannot exist in one language only.
macro_rules! phrases {
    ($($name:ident: $nb:literal, $en:literal;)*) => {
        /// Every fixed phrase of the notice in one language.
        pub(crate) struct Phrases {
            $(pub $name: &'static str,)*
        }
        pub(crate) const NB: Phrases = Phrases { $($name: $nb,)* };
        pub(crate) const EN: Phrases = Phrases { $($name: $en,)* };
        /// `(name, nb, en)` for every phrase: lets a test compare the placeholders.
        #[cfg(test)]
        pub(crate) const ALL: &[(&str, &str, &str)] = &[$((stringify!($name), $nb, $en),)*];
    };
}

phrases! {
    // Section headings, in notice order.
    h_data: "Hvilke personopplysninger vi behandler", "What personal data we process";
    h_sources: "Hvor vi får opplysningene fra", "Where we get the data from";
    h_purposes: "Hvorfor vi behandler opplysningene, og på hvilket rettslig grunnlag",
        "Why we process the data and on what legal basis";
    h_sharing: "Hvem vi deler opplysningene med", "Who we share the data with";
    h_processors: "Databehandlere og overføring til land utenfor EU/EØS",
        "Processors and transfers outside the EU/EEA";
    h_retention: "Hvor lenge vi lagrer opplysningene", "How long we keep the data";
    h_rights: "Dine rettigheter og hvordan du bruker dem", "Your rights and how to use them";
    h_marketing: "Markedsføring og profilering, og hvordan du reserverer deg",
        "Marketing and profiling, and how to opt out";
    h_changes: "Endringer i denne erklæringen", "Changes to this notice";
    h_contact: "Kontakt oss", "Contact us";
    h_complaint: "Klage til tilsynsmyndigheten", "Complaints to the supervisory authority";

    // Introduction.
    intro_controller: "Behandlingsansvarlig for personopplysningene som beskrives i denne erklæringen, er {controller}.",
        "The controller responsible for the personal data described in this notice is {controller}.";
    org_number: "org.nr. {org}", "organisation number {org}";
    intro_group: "Erklæringen gjelder også for disse selskapene i konsernet:",
        "This notice also covers these companies in our group:";
    intro_subjects: "Erklæringen gjelder disse gruppene av personer:",
        "This notice covers these groups of people:";
    intro_version: "Versjon: {version}.", "Version: {version}.";

    // What data.
    data_lead: "Vi behandler disse personopplysningene, gruppert etter type:",
        "We process the following personal data, grouped by type:";
    data_none: "Ingen typer personopplysninger er oppført.", "No types of personal data are listed.";
    special_none: "Vi behandler ikke særlige kategorier av personopplysninger (sensitive personopplysninger) om deg, som opplysninger om helse, etnisk opprinnelse, politisk oppfatning, religion eller filosofisk overbevisning, fagforeningsmedlemskap, seksuelle forhold eller seksuell orientering, eller genetiske og biometriske opplysninger (personvernforordningen artikkel 9).",
        "We do not process special categories of personal data (sensitive data) about you, such as data about your health, racial or ethnic origin, political opinions, religious or philosophical beliefs, trade union membership, sex life or sexual orientation, or genetic or biometric data (Article 9 GDPR).";
    special_some: "Vi behandler disse særlige kategoriene av personopplysninger (personvernforordningen artikkel 9):",
        "We process the following special categories of personal data (Article 9 GDPR):";
    special_use: "{purpose}: {ground} (artikkel 9 nr. 2 bokstav {letter})",
        "{purpose}: {ground} (Article 9(2)({letter}) GDPR)";
    special_unused: "ikke brukt til noe formål", "not used for any purpose";
    art9_a: "ditt uttrykkelige samtykke", "your explicit consent";
    art9_b: "plikter og rettigheter etter arbeidsretten, trygderetten og sosialretten",
        "obligations and rights under employment, social security and social protection law";
    art9_c: "vern av dine eller andres vitale interesser når du ikke kan samtykke",
        "protecting your or another person's vital interests when you cannot consent";
    art9_d: "berettigede aktiviteter i en ideell organisasjon",
        "legitimate activities of a not-for-profit body";
    art9_e: "opplysninger du selv åpenbart har offentliggjort",
        "data you have manifestly made public yourself";
    art9_f: "fastsettelse, utøvelse eller forsvar av rettskrav",
        "establishing, exercising or defending legal claims";
    art9_g: "viktige allmenne interesser", "reasons of substantial public interest";
    art9_h: "forebyggende medisin, arbeidsmedisin, helsetjenester eller sosiale tjenester",
        "preventive or occupational medicine, health care or social care";
    art9_i: "allmenne interesser på folkehelseområdet",
        "reasons of public interest in the area of public health";
    art9_j: "arkivformål i allmennhetens interesse, forskning eller statistikk",
        "archiving in the public interest, research or statistics";

    // Sources.
    sources_lead: "Vi får personopplysninger fra disse kildene:", "We get personal data from these sources:";
    sources_none: "Ingen kilder er oppført.", "No sources are listed.";
    sources_elsewhere: "Under hvert formål nedenfor står det hvilke av disse kildene vi bruker til formålet.",
        "For each purpose below we state which of these sources we use for it.";

    // Purposes and legal bases.
    purposes_lead: "Vi behandler personopplysninger for formålene nedenfor. For hvert formål står det hvilket rettslig grunnlag i personvernforordningen (GDPR) vi bygger på.",
        "We process personal data for the purposes below. For each purpose we state the legal basis in the General Data Protection Regulation (GDPR) that we rely on.";
    purposes_none: "Ingen formål er oppført.", "No purposes are listed.";
    basis_line: "Rettslig grunnlag: {basis} (personvernforordningen artikkel 6 nr. 1 bokstav {letter}).",
        "Legal basis: {basis} (Article 6(1)({letter}) GDPR).";
    basis_consent: "ditt samtykke", "your consent";
    basis_contract: "nødvendig for å oppfylle en avtale med deg", "necessary to perform a contract with you";
    basis_pre_contract: "nødvendig for å gjennomføre tiltak du har bedt om før en avtale inngås",
        "necessary to take steps at your request before entering into a contract";
    basis_contract_either: "nødvendig for å oppfylle en avtale med deg, eller for å gjennomføre tiltak du har bedt om før en avtale inngås",
        "necessary to perform a contract with you, or to take steps at your request before entering into one";
    basis_legal_obligation: "nødvendig for å oppfylle en rettslig forpliktelse som påhviler oss",
        "necessary to comply with a legal obligation we are subject to";
    basis_vital: "nødvendig for å beskytte dine eller andres vitale interesser",
        "necessary to protect your vital interests or those of another person";
    basis_public_task: "nødvendig for å utføre en oppgave i allmennhetens interesse eller utøve offentlig myndighet",
        "necessary to perform a task in the public interest or in the exercise of official authority";
    basis_li: "vår berettigede interesse", "our legitimate interests";
    basis_ref_obligation: "Plikten følger av {ref}.", "The obligation follows from {ref}.";
    basis_ref: "Henvisning: {ref}.", "Reference: {ref}.";
    lia: "Vi har gjort en interesseavveining ({lia}) og kommet til at vår berettigede interesse veier tyngre enn hensynet til ditt personvern. Du kan be om å få vite mer om avveiningen.",
        "We have carried out a balancing test ({lia}) and concluded that our legitimate interest outweighs the impact on your privacy. You can ask us for more information about it.";
    applies_to: "Gjelder: {subjects}.", "Applies to: {subjects}.";
    data_used: "Personopplysninger: {categories}.", "Personal data: {categories}.";
    sources_used: "Kilder: {sources}.", "Sources: {sources}.";
    consent_scope: "Vi ber om samtykket ditt: «{scope}».", "We ask for your consent: “{scope}”.";
    consent_valid_for: "Samtykket gjelder i {duration} og må deretter fornyes.",
        "The consent lasts for {duration} and must then be renewed.";
    consent_withdraw: "Du kan når som helst trekke samtykket ditt tilbake. Det påvirker ikke lovligheten av behandlingen før du trakk det tilbake.",
        "You can withdraw your consent at any time. This does not affect the lawfulness of processing before you withdrew it.";
    objection_relative: "Du kan protestere mot behandlingen ut fra din særlige situasjon (artikkel 21 nr. 1).",
        "You can object to this processing on grounds relating to your particular situation (Article 21(1) GDPR).";
    objection_absolute: "Du kan når som helst protestere mot behandlingen, og da stanser vi den (artikkel 21).",
        "You can object to this processing at any time, and we will then stop it (Article 21 GDPR).";
    objection_absolute_dm: "Du kan når som helst protestere mot behandlingen, og da stanser vi den (artikkel 21 nr. 2 og 3).",
        "You can object to this processing at any time, and we will then stop it (Article 21(2) and (3) GDPR).";
    note_dm: "Dette er direkte markedsføring; se «{section}».", "This is direct marketing; see “{section}”.";
    note_profiling: "Behandlingen omfatter profilering; se «{section}».",
        "This processing includes profiling; see “{section}”.";
    note_dm_profiling: "Dette er direkte markedsføring og omfatter profilering; se «{section}».",
        "This is direct marketing and includes profiling; see “{section}”.";
    gate_marketing: "Markedsføring via {channels} sender vi bare med ditt samtykke («{scope}») der markedsføringsloven krever det.",
        "We send marketing via {channels} only with your consent (“{scope}”) where marketing law requires it.";
    gate_marketing_any: "Elektronisk markedsføring sender vi bare med ditt samtykke («{scope}») der markedsføringsloven krever det.",
        "We send electronic marketing only with your consent (“{scope}”) where marketing law requires it.";
    gate_existing_customer: "Har vi fått kontaktopplysningene dine i forbindelse med et kjøp, kan vi likevel sende deg markedsføring om egne, tilsvarende produkter og tjenester uten samtykke. Du kan når som helst reservere deg mot dette, også i hver henvendelse.",
        "If we got your contact details when you bought something from us, we may send you marketing about our own similar products and services without consent. You can opt out of this at any time, including in every message.";
    gate_tracking: "Informasjonskapsler og annen sporing bruker vi bare med ditt samtykke («{scope}»).",
        "We use cookies and other tracking only with your consent (“{scope}”).";

    // Sharing.
    sharing_lead: "Vi utleverer personopplysninger bare til mottakerne som er beskrevet nedenfor.",
        "We disclose personal data only to the recipients described below.";
    sharing_none: "Vi utleverer ikke personopplysninger til andre.", "We do not disclose personal data to anyone else.";
    sharing_only_processors: "Vi utleverer ikke personopplysninger til andre enn databehandlerne i neste avsnitt.",
        "We do not disclose personal data to anyone other than the processors in the next section.";
    sharing_processors: "I tillegg bruker vi databehandlere som behandler opplysninger på våre vegne; de er oppført i neste avsnitt.",
        "We also use processors that process data on our behalf; they are listed in the next section.";
    h_group: "Selskaper i konsernet", "Companies in our group";
    group_lead: "Vi kan dele personopplysninger med andre selskaper i konsernet:",
        "We may share personal data with other companies in our group:";
    h_partners: "Forretningspartnere", "Business partners";
    partners_lead: "Vi kan dele personopplysninger med disse forretningspartnerne:",
        "We may share personal data with these business partners:";
    h_authorities: "Myndigheter", "Public authorities";
    authorities_lead: "Offentlige myndigheter kan be oss om å utlevere personopplysninger:",
        "Public authorities may ask us to hand over personal data:";
    legal_decision: "Vi utleverer opplysninger bare hvis en rettslig avgjørelse krever det.",
        "We hand over data only if a legal decision requires it.";
    h_public: "Innhold du gjør offentlig", "Content you make public";
    public_lead: "Noe av det du deler med oss, blir synlig for andre:",
        "Some of what you share with us becomes visible to others:";
    public_note: "Det du legger ut her, kan leses og brukes av andre som har tilgang.",
        "What you post here can be read and used by others who have access.";
    recipient_purposes: "Formål: {purposes}.", "Purposes: {purposes}.";
    recipient_transfer: "Overføring ut av EU/EØS: {mechanism}.", "Transfer outside the EU/EEA: {mechanism}.";

    // Processors and transfers.
    processors_lead: "Vi bruker leverandører som behandler personopplysninger på våre vegne (databehandlere). De får bare behandle opplysningene etter våre instrukser.",
        "We use suppliers that process personal data on our behalf (processors). They may only process the data on our instructions.";
    processors_dpa_all: "Vi har inngått databehandleravtale med hver av dem (personvernforordningen artikkel 28).",
        "We have a data processing agreement with each of them (Article 28 GDPR).";
    processors_none: "Vi bruker ingen databehandlere.", "We do not use any processors.";
    col_name: "Leverandør", "Supplier";
    col_service: "Tjeneste", "Service";
    col_country: "Land", "Country";
    col_dpa: "Databehandleravtale", "Data processing agreement";
    col_transfer: "Overføringsgrunnlag", "Transfer safeguard";
    sub_processor_of: "underleverandør til {processor}", "sub-processor of {processor}";
    dpa_signed: "Inngått {date}", "Signed {date}";
    not_stated: "Ikke oppgitt", "Not stated";
    within_eea: "Ikke nødvendig (innenfor EU/EØS)", "Not needed (within the EU/EEA)";
    mech_adequacy: "beslutning om tilstrekkelig beskyttelsesnivå (personvernforordningen artikkel 45)",
        "adequacy decision (Article 45 GDPR)";
    mech_dpf: "sertifisert under EU–US Data Privacy Framework",
        "certified under the EU–US Data Privacy Framework";
    mech_scc: "EUs standardkontraktsklausuler ({version}) (artikkel 46 nr. 2 bokstav c)",
        "EU standard contractual clauses ({version}) (Article 46(2)(c) GDPR)";
    mech_scc_plain: "EUs standardkontraktsklausuler (artikkel 46 nr. 2 bokstav c)",
        "EU standard contractual clauses (Article 46(2)(c) GDPR)";
    mech_scc_module: "modul {module}", "module {module}";
    mech_bcr: "bindende virksomhetsregler (artikkel 47)", "binding corporate rules (Article 47 GDPR)";
    mech_derogation: "unntak for særlige situasjoner (artikkel 49)",
        "derogation for specific situations (Article 49 GDPR)";
    mech_tia: "vurdering av overføringen: {tia}", "transfer impact assessment: {tia}";
    processors_overview: "Du kan når som helst be om en oversikt over og mer informasjon om underleverandørene våre.",
        "You can always ask us for an overview of and more information about our sub-processors.";
    safeguards_copy: "Du kan også be om en kopi av garantiene vi bruker ved overføring ut av EU/EØS.",
        "You can also ask for a copy of the safeguards we use for transfers outside the EU/EEA.";
    h_processor_role: "Når vi er databehandler", "When we act as a processor";

    // Retention.
    retention_lead: "Vi lagrer personopplysninger bare så lenge vi trenger dem til formålet de ble samlet inn for. Deretter sletter eller anonymiserer vi dem etter disse reglene:",
        "We keep personal data only for as long as we need it for the purpose it was collected for. After that we delete or anonymise it according to these rules:";
    retention_none: "Denne erklæringen fastsetter ingen faste lagringstider.",
        "This notice does not set out any fixed retention periods.";
    retention_delete: "Slettes senest {duration} etter {trigger}", "Deleted at the latest {duration} after {trigger}";
    retention_anonymise: "Anonymiseres senest {duration} etter {trigger}",
        "Anonymised at the latest {duration} after {trigger}";
    unless_agreed: ", med mindre annet er avtalt med deg", ", unless otherwise agreed with you";
    override_detail: "Har du samtykket til at vi lagrer dem lenger («{scope}»), lagrer vi dem i inntil {max} fra samtykket.",
        "If you have agreed to let us keep them longer (“{scope}”), we keep them for up to {max} from your consent.";
    retention_basis: "Grunnlag: {ref}.", "Basis: {ref}.";
    trigger_fiscal: "utgangen av regnskapsåret da opplysningene ble registrert",
        "the end of the financial year in which the data was recorded";
    fiscal_year_note: " (regnskapsåret vårt slutter {date})", " (our financial year ends on {date})";
    h_exceptions: "Opplysninger vi må ta vare på", "Data we must keep";
    exceptions_lead: "Noen opplysninger kan vi ikke slette når du ber om det, fordi loven pålegger oss å ta vare på dem. Vi lagrer dem da bare så lenge plikten gjelder:",
        "Some data we cannot erase when you ask us to, because the law requires us to keep it. We then keep it only for as long as that obligation applies:";
    exception_kept: "Oppbevares i {duration} etter {trigger}.", "Kept for {duration} after {trigger}.";
    exception_law: "Lovgrunnlag: {ref} ({country}).", "Legal basis: {ref} ({country}).";
    retention_more: "Vil du vite mer om sletting, er du velkommen til å kontakte oss.",
        "If you would like to know more about erasure, you are welcome to contact us.";

    // Rights.
    rights_lead: "Du har disse rettighetene etter personvernforordningen:",
        "You have the following rights under the GDPR:";
    right_access: "Rett til innsyn", "Right of access";
    right_access_text: "Du kan be om en kopi av personopplysningene vi behandler om deg, og om informasjon om hvordan vi behandler dem (artikkel 15).",
        "You can ask for a copy of the personal data we process about you and for information about how we process it (Article 15).";
    right_rectification: "Rett til retting", "Right to rectification";
    right_rectification_text: "Du kan be oss rette uriktige opplysninger om deg og supplere ufullstendige opplysninger (artikkel 16).",
        "You can ask us to correct inaccurate data about you and to complete incomplete data (Article 16).";
    right_erasure: "Rett til sletting", "Right to erasure";
    right_erasure_text: "Du kan be oss slette opplysninger om deg (artikkel 17).",
        "You can ask us to erase data about you (Article 17).";
    right_restriction: "Rett til begrensning", "Right to restriction";
    right_restriction_text: "Du kan be oss begrense behandlingen av opplysningene dine, slik at vi bare lagrer dem (artikkel 18).",
        "You can ask us to restrict the processing of your data so that we only store it (Article 18).";
    right_portability: "Rett til dataportabilitet", "Right to data portability";
    right_portability_text: "Du kan be oss utlevere opplysningene dine til deg eller til andre i et strukturert, alminnelig anvendt og maskinlesbart format (artikkel 20).",
        "You can ask us to give your data to you or to others in a structured, commonly used and machine-readable format (Article 20).";
    right_object: "Rett til å protestere", "Right to object";
    right_object_text: "Du kan protestere mot behandling som bygger på vår berettigede interesse, ut fra din særlige situasjon. Da stanser vi behandlingen, med mindre vi har tvingende berettigede grunner som går foran dine interesser, eller behandlingen er nødvendig for å fastsette, gjøre gjeldende eller forsvare rettskrav. Mot direkte markedsføring kan du alltid protestere (artikkel 21).",
        "You can object to processing based on our legitimate interests on grounds relating to your particular situation. We then stop, unless we have compelling legitimate grounds that override your interests, or the processing is necessary to establish, exercise or defend legal claims. You can always object to direct marketing (Article 21).";
    applies_purposes: "Dette gjelder: {purposes}.", "This applies to: {purposes}.";
    right_withdraw: "Rett til å trekke tilbake samtykke", "Right to withdraw consent";
    right_withdraw_text: "Har du gitt samtykke, kan du når som helst trekke det tilbake, like enkelt som du ga det (artikkel 7 nr. 3).",
        "If you have given consent, you can withdraw it at any time, as easily as you gave it (Article 7(3)).";
    rights_how: "Du kan bruke rettighetene dine i personvernportalen vår, {portal}, eller ved å sende e-post til {email}. Det er som hovedregel gratis.",
        "You can exercise your rights in our privacy portal, {portal}, or by emailing {email}. As a rule, this is free of charge.";
    rights_identity: "Hvis vi er i tvil om hvem du er, kan vi be deg bekrefte identiteten din.",
        "If we are unsure who you are, we may ask you to confirm your identity.";
    rights_deadline: "Vi svarer uten ugrunnet opphold og senest innen én måned etter at vi mottok forespørselen. Er forespørselen komplisert, eller får vi mange forespørsler, kan fristen forlenges med inntil to måneder til. I så fall sier vi fra innen én måned og forklarer hvorfor.",
        "We respond without undue delay and at the latest within one month of receiving your request. If the request is complex or we receive many requests, this can be extended by up to two further months. If so, we will tell you within one month and explain why.";
    rights_exceptions: "Noen rettigheter har unntak eller begrensninger, for eksempel når loven pålegger oss å ta vare på opplysninger. Gjelder et unntak, gir vi deg detaljert informasjon om hvilket unntak det er og hvorfor, og vi hjelper deg å bruke rettighetene dine så langt det er mulig.",
        "Some rights have exceptions or limitations, for example where the law requires us to keep data. If an exception applies, we give you detailed information about which exception it is and why, and help you exercise your rights as far as possible.";

    // Marketing and profiling.
    marketing_none: "Vi bruker ikke personopplysninger til direkte markedsføring eller profilering.",
        "We do not use personal data for direct marketing or profiling.";
    marketing_lead: "Vi bruker personopplysninger til markedsføring og profilering for disse formålene:",
        "We use personal data for marketing and profiling for these purposes:";
    label_dm: "Direkte markedsføring", "Direct marketing";
    label_profiling: "Profilering", "Profiling";
    profiling_def: "Profilering betyr at vi bruker opplysninger om deg til å vurdere for eksempel interessene eller preferansene dine.",
        "Profiling means that we use data about you to evaluate, for example, your interests or preferences.";
    marketing_messages: "Markedsføringen vi sender:", "Marketing messages we send:";
    marketing_consent: "Noe av dette gjør vi bare med ditt samtykke:", "Some of this we do only with your consent:";
    optout_both: "Du kan når som helst reservere deg mot markedsføring og profilering: i personvernportalen vår ({portal}), ved å sende e-post til {email}, eller direkte fra hver markedsføringshenvendelse du får fra oss.",
        "You can opt out of marketing and profiling at any time: in our privacy portal ({portal}), by emailing {email}, or directly from every marketing message you receive from us.";
    optout_marketing: "Du kan når som helst reservere deg mot markedsføring: i personvernportalen vår ({portal}), ved å sende e-post til {email}, eller direkte fra hver markedsføringshenvendelse du får fra oss.",
        "You can opt out of marketing at any time: in our privacy portal ({portal}), by emailing {email}, or directly from every marketing message you receive from us.";
    optout_profiling: "Du kan når som helst reservere deg mot profilering: i personvernportalen vår ({portal}) eller ved å sende e-post til {email}.",
        "You can opt out of profiling at any time: in our privacy portal ({portal}) or by emailing {email}.";
    objection_dm: "Protesterer du mot direkte markedsføring, stanser vi den uten videre vurdering, og vi stanser også profilering som brukes til markedsføringen (artikkel 21 nr. 2 og 3).",
        "If you object to direct marketing, we stop it without any further assessment, and we also stop any profiling used for that marketing (Article 21(2) and (3) GDPR).";
    admin_messages: "Selv om du reserverer deg mot markedsføring, kan du fortsatt få administrative meldinger fra oss:",
        "Even if you opt out of marketing, you may still receive administrative messages from us:";

    // Changes.
    changes_text: "Vi oppdaterer denne erklæringen når vi endrer hvordan vi behandler personopplysninger.",
        "We update this notice when we change how we process personal data.";
    changes_announce: "Vesentlige endringer varsler vi {by} minst {days} før de trer i kraft.",
        "We announce material changes {by} at least {days} before they take effect.";
    changes_announce_plain: "Vesentlige endringer varsler vi minst {days} før de trer i kraft.",
        "We announce material changes at least {days} before they take effect.";
    announce_email: "på e-post", "by email";
    announce_website: "på nettstedet vårt", "on our website";
    changes_version: "Gjeldende versjon: {version}.", "Current version: {version}.";

    // Contact and complaint.
    label_controller: "Behandlingsansvarlig", "Controller";
    label_dpc: "Personvernkontakt", "Data protection contact";
    label_rights: "Bruk av rettighetene dine", "Exercising your rights";
    label_email: "E-post", "Email";
    label_phone: "Telefon", "Phone";
    label_website: "Nettsted", "Website";
    label_address: "Adresse", "Address";
    label_portal: "Personvernportal", "Privacy portal";
    complaint_lead: "Mener du at behandlingen av personopplysningene dine er i strid med personvernregelverket, har du rett til å klage til tilsynsmyndigheten:",
        "If you believe that the processing of your personal data breaches data protection law, you have the right to lodge a complaint with the supervisory authority:";
    complaint_local: "Bor eller arbeider du i et annet land i EU/EØS, kan du også klage til tilsynsmyndigheten der.",
        "If you live or work in another EU/EEA country, you can also complain to the supervisory authority there.";

    // Words.
    and: "og", "and";
    day: "dag", "day";
    days: "dager", "days";
    month: "måned", "month";
    months: "måneder", "months";
    year: "år", "year";
    years: "år", "years";
    ch_email: "e-post", "email";
    ch_sms: "SMS", "SMS";
    ch_phone: "telefon", "phone";
    ch_post: "post", "post";
    ch_push: "push-varsler", "push notifications";
    ch_in_app: "meldinger i appen", "in-app messages";
    ch_social: "sosiale medier", "social media";
}

/// Month names for dates written out in full ("15. januar 2025", "15 January 2025").
pub(crate) const MONTHS_NB: [&str; 12] = [
    "januar",
    "februar",
    "mars",
    "april",
    "mai",
    "juni",
    "juli",
    "august",
    "september",
    "oktober",
    "november",
    "desember",
];
pub(crate) const MONTHS_EN: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];

#[cfg(test)]
mod tests {
    use super::ALL;

    fn placeholders(s: &str) -> Vec<&str> {
        let mut out: Vec<&str> = s
            .split('{')
            .skip(1)
            .filter_map(|rest| rest.split_once('}').map(|(name, _)| name))
            .collect();
        out.sort_unstable();
        out
    }

    #[test]
    fn both_languages_have_the_same_placeholders() {
        for (name, nb, en) in ALL {
            assert_eq!(placeholders(nb), placeholders(en), "phrase {name}");
        }
    }

    #[test]
    fn no_phrase_is_blank() {
        for (name, nb, en) in ALL {
            assert!(
                !nb.trim().is_empty() && !en.trim().is_empty(),
                "phrase {name}"
            );
        }
    }
}
