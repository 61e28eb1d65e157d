//! The access report (Art. 15(1)-(2), EDPB 01/2022): everything the subject is entitled to,
//! assembled from the stored data and the policy, in the request's language (`nb` or `en`):
//! the data itself (identifiers and records), the purposes with their legal basis, the
//! categories, the recipients the data was actually disclosed to (the disclosure register,
//! without entries under a standing non-disclosure order), the retention of each category as a
//! date or the rule, the sources, whether profiling exists with meaningful information about
//! it, transfers outside the EEA and their safeguards, the other rights, and the supervisory
//! authority's contact from the policy.
//!
//! A report must be complete, so a role that may not read every category the subject has is
//! refused (403) rather than given a partial report. The read is audited (counts only).

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;
use serde_json::json;
use time::OffsetDateTime;
use utoipa::ToSchema;
use uuid::Uuid;
use vern_core::access::Permission;
use vern_store::Store;

use super::{Principal, Vault, VaultError, VaultResult, time_of};

/// Languages a report can be written in.
pub const REPORT_LANGUAGES: [&str; 2] = ["nb", "en"];

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct AccessReport {
    pub subject_id: Uuid,
    pub language: String,
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub generated_at: OffsetDateTime,
    pub controller: ReportController,
    pub subject_type: NamedItem,
    pub jurisdiction: Option<String>,
    /// Art. 15(3): the data itself.
    pub identifiers: Vec<ReportIdentifier>,
    pub records: Vec<ReportRecord>,
    /// Art. 15(1)(a): purposes, with their legal basis.
    pub purposes: Vec<ReportPurpose>,
    /// Art. 15(1)(b): categories, with (Art. 15(1)(d)) how long each is kept.
    pub categories: Vec<ReportCategory>,
    /// Art. 15(1)(c): recipients the data was actually disclosed to.
    pub recipients: Vec<ReportRecipient>,
    /// Art. 15(1)(g): where the data came from.
    pub sources: Vec<ReportSource>,
    /// Art. 15(1)(h): profiling, with meaningful information about the logic.
    pub profiling: ReportProfiling,
    /// Art. 15(2): transfers outside the EEA and their safeguards.
    pub transfers: Vec<ReportTransfer>,
    /// Art. 15(1)(e)-(f): the other rights and the right to complain.
    pub rights: Vec<String>,
    pub supervisory_authority: ReportAuthority,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ReportController {
    pub name: String,
    pub country: String,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct NamedItem {
    pub id: String,
    pub name: String,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ReportIdentifier {
    pub kind: String,
    pub value: String,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ReportRecord {
    pub id: Uuid,
    pub category: String,
    pub value: serde_json::Value,
    pub source: String,
    pub purposes: Vec<String>,
    pub legal_basis: String,
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub collected_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339::option")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub expires_at: Option<OffsetDateTime>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ReportPurpose {
    pub id: String,
    pub name: String,
    pub description: String,
    pub legal_basis: String,
    pub legal_basis_ref: Option<String>,
    /// The subject's categories processed for it.
    pub categories: Vec<String>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ReportCategory {
    pub id: String,
    pub name: String,
    pub records: u64,
    /// The latest date a record of the category is kept until, when rules set one.
    #[serde(with = "time::serde::rfc3339::option")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub kept_until: Option<OffsetDateTime>,
    /// The rule (or erasure exception) that decides, with its text: the criterion when no date
    /// is set yet (e.g. "24 months after the last activity").
    pub retention_rule: Option<String>,
    pub retention: Option<String>,
    pub legal_ref: Option<String>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ReportRecipient {
    pub id: String,
    pub name: String,
    pub kind: String,
    pub country: Option<String>,
    pub categories: Vec<String>,
    pub purpose: String,
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub disclosed_at: OffsetDateTime,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ReportSource {
    pub id: String,
    pub name: String,
    pub records: u64,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ReportProfiling {
    pub exists: bool,
    /// The profiling purposes that may use the subject's data, with their description (the
    /// logic) and basis.
    pub purposes: Vec<ReportPurpose>,
    pub information: String,
    /// The interest profile derived from the stored events (inferred data), if any is held.
    pub profile: Option<ReportInterestProfile>,
    /// Art. 15(3): the tracking events held about the subject, oldest first, each with the
    /// purpose it was admitted for. IP addresses were truncated before storage.
    pub events: Vec<ReportEvent>,
}

/// The derived interest profile: what the events add up to, and from what.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ReportInterestProfile {
    /// How many events it was derived from.
    pub events: u64,
    /// Events per topic.
    pub topics: BTreeMap<String, u64>,
    #[serde(with = "time::serde::rfc3339::option")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub last_seen: Option<OffsetDateTime>,
    /// The purposes its events were admitted for.
    pub purposes: Vec<String>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ReportEvent {
    pub purpose: String,
    pub kind: String,
    pub topic: Option<String>,
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub at: OffsetDateTime,
    pub channel: Option<String>,
    pub ip_truncated: Option<String>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ReportTransfer {
    pub recipient: String,
    pub name: String,
    pub country: Option<String>,
    /// `adequacy`, `scc`, `bcr` or `derogation`, with the details the policy gives.
    pub safeguard: String,
    pub details: Option<String>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ReportAuthority {
    pub name: String,
    pub country: String,
    pub website: String,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub address: Option<String>,
}

impl Vault {
    /// The access report of `subject` in `lang` (see the module documentation).
    pub async fn access_report(
        &self,
        who: &Principal,
        subject: Uuid,
        lang: &str,
    ) -> VaultResult<AccessReport> {
        self.require(who, Permission::SubjectsRead)?;
        if !REPORT_LANGUAGES.contains(&lang) {
            return Err(VaultError::field(
                "lang",
                "unsupported_language",
                "the report can be written in `nb` or `en`",
            ));
        }
        let srow = self.subject_row(subject).await?;
        let key = self.subject_key(subject).await?;
        let rows = self
            .store
            .list_records(self.tenant, subject)
            .await
            .map_err(VaultError::store("subject"))?;
        if let Some(r) = rows.iter().find(|r| !self.can_category(who, &r.category)) {
            return Err(self
                .deny(
                    who,
                    "subject.access_report",
                    Some(subject),
                    json!({ "categories": [r.category] }),
                    format!(
                        "the role `{}` may not read every category of this subject; an access report must be complete",
                        who.role
                    ),
                )
                .await);
        }
        let (identifiers, _) = self.open_readable_identifiers(who, &key, subject).await?;
        let policy = self.policy();
        let text = |t: &vern_policy::model::Text| policy.text(t, lang).to_owned();

        let mut records = Vec::with_capacity(rows.len());
        let mut by_category: BTreeMap<&str, (u64, Option<i64>, Option<&str>)> = BTreeMap::new();
        let mut by_source: BTreeMap<&str, u64> = BTreeMap::new();
        let mut by_purpose: BTreeMap<&str, BTreeSet<&str>> = BTreeMap::new();
        for r in &rows {
            let view = self.open_record(&key, r)?;
            let e = by_category.entry(&r.category).or_default();
            e.0 += 1;
            if let Some(at) = r.expires_at
                && e.1.is_none_or(|cur| at > cur)
            {
                e.1 = Some(at);
                e.2 = r.retention_rule.as_deref();
            }
            if e.2.is_none() {
                e.2 = r.retention_rule.as_deref();
            }
            *by_source.entry(&r.source).or_default() += 1;
            for p in &r.purposes {
                by_purpose.entry(p).or_default().insert(&r.category);
            }
            records.push(ReportRecord {
                id: r.id,
                category: r.category.clone(),
                value: view.value,
                source: r.source.clone(),
                purposes: r.purposes.clone(),
                legal_basis: r.legal_basis.clone(),
                collected_at: time_of(r.collected_at),
                expires_at: r.expires_at.map(time_of),
            });
        }

        let purpose_view = |id: &str, cats: Vec<String>| -> Option<ReportPurpose> {
            let p = policy.purpose(id)?;
            Some(ReportPurpose {
                id: id.to_owned(),
                name: text(&p.name),
                description: text(&p.description),
                legal_basis: vern_core::records::legal_basis_name(*p.legal_basis.get_ref())
                    .to_owned(),
                legal_basis_ref: p.legal_basis_ref.as_ref().map(|s| s.get_ref().clone()),
                categories: cats,
            })
        };
        let purposes: Vec<ReportPurpose> = by_purpose
            .iter()
            .filter_map(|(id, cats)| {
                purpose_view(id, cats.iter().map(|c| (*c).to_owned()).collect())
            })
            .collect();

        let categories = by_category
            .iter()
            .map(|(id, (n, until, rule))| {
                let (retention, legal_ref) = rule
                    .and_then(|rule| self.rule_text(rule, lang))
                    .map_or((None, None), |(t, l)| (Some(t), Some(l)));
                ReportCategory {
                    id: (*id).to_owned(),
                    name: policy
                        .category(id)
                        .map(|c| text(&c.name))
                        .unwrap_or_default(),
                    records: *n,
                    kept_until: until.map(time_of),
                    retention_rule: rule.map(str::to_owned),
                    retention,
                    legal_ref,
                }
            })
            .collect();

        let sources = by_source
            .iter()
            .map(|(id, n)| ReportSource {
                id: (*id).to_owned(),
                name: policy.source(id).map(|s| text(&s.name)).unwrap_or_default(),
                records: *n,
            })
            .collect();

        let disclosures = self.disclosures_for_access_report(subject).await?;
        let mut recipients = Vec::with_capacity(disclosures.len());
        let mut transfers: BTreeMap<String, ReportTransfer> = BTreeMap::new();
        for d in disclosures {
            let r = policy.recipient(&d.recipient);
            if let Some(t) = r.and_then(|r| r.transfer.as_ref()) {
                let t = t.get_ref();
                let safeguard = format!("{:?}", t.mechanism.get_ref()).to_lowercase();
                let details = [
                    t.scc_version
                        .as_ref()
                        .map(|v| format!("SCC {}", v.get_ref())),
                    t.scc_module
                        .as_ref()
                        .map(|m| format!("module {}", m.get_ref())),
                    t.dpf_certified
                        .then(|| "EU-US Data Privacy Framework".to_owned()),
                    t.reference.as_ref().map(|r| r.get_ref().clone()),
                ]
                .into_iter()
                .flatten()
                .collect::<Vec<_>>();
                transfers
                    .entry(d.recipient.clone())
                    .or_insert_with(|| ReportTransfer {
                        recipient: d.recipient.clone(),
                        name: r.map(|r| r.name.get_ref().clone()).unwrap_or_default(),
                        country: r.and_then(|r| r.country.as_ref().map(|c| c.get_ref().clone())),
                        safeguard,
                        details: (!details.is_empty()).then(|| details.join(", ")),
                    });
            }
            recipients.push(ReportRecipient {
                name: r.map(|r| r.name.get_ref().clone()).unwrap_or_default(),
                kind: r
                    .map(|r| format!("{:?}", r.kind.get_ref()))
                    .unwrap_or_default(),
                country: r.and_then(|r| r.country.as_ref().map(|c| c.get_ref().clone())),
                id: d.recipient,
                categories: d.categories,
                purpose: d.purpose,
                disclosed_at: d.disclosed_at,
            });
        }

        // Profiling: every profiling purpose of the policy that covers this subject type.
        let profiling_purposes: Vec<ReportPurpose> = policy
            .raw
            .purposes
            .iter()
            .filter(|p| {
                p.profiling
                    && p.subject_types
                        .get_ref()
                        .iter()
                        .any(|t| t.get_ref() == &srow.subject_type)
            })
            .filter_map(|p| {
                purpose_view(
                    p.id.get_ref(),
                    p.categories
                        .get_ref()
                        .iter()
                        .map(|c| c.get_ref().clone())
                        .collect(),
                )
            })
            .collect();
        let held = self.open_events(subject).await?;
        let profile = (!held.is_empty()).then(|| {
            let mut topics: BTreeMap<String, u64> = BTreeMap::new();
            for e in &held {
                if let Some(t) = &e.topic {
                    *topics.entry(t.clone()).or_default() += 1;
                }
            }
            ReportInterestProfile {
                events: held.len() as u64,
                topics,
                last_seen: held.iter().map(|e| e.at).max().map(time_of),
                purposes: held
                    .iter()
                    .map(|e| e.purpose.clone())
                    .collect::<BTreeSet<_>>()
                    .into_iter()
                    .collect(),
            }
        });
        let events = held
            .into_iter()
            .map(|e| ReportEvent {
                purpose: e.purpose,
                kind: e.kind,
                topic: e.topic,
                at: time_of(e.at),
                channel: e.channel,
                ip_truncated: e.ip_truncated,
            })
            .collect();
        let profiling = ReportProfiling {
            exists: !profiling_purposes.is_empty() || profile.is_some(),
            information: profiling_information(
                lang,
                !profiling_purposes.is_empty() || profile.is_some(),
            ),
            purposes: profiling_purposes,
            profile,
            events,
        };

        let sa = &policy.raw.supervisory_authority;
        let report = AccessReport {
            subject_id: subject,
            language: lang.to_owned(),
            generated_at: time_of(self.now()),
            controller: ReportController {
                name: policy.raw.controller.name.get_ref().clone(),
                country: policy.raw.controller.country.get_ref().clone(),
            },
            subject_type: NamedItem {
                id: srow.subject_type.clone(),
                name: policy
                    .raw
                    .subject_types
                    .iter()
                    .find(|t| t.id.get_ref() == &srow.subject_type)
                    .map(|t| text(&t.name))
                    .unwrap_or_default(),
            },
            jurisdiction: srow.jurisdiction.clone(),
            identifiers: identifiers
                .into_iter()
                .map(|i| ReportIdentifier {
                    kind: i.kind,
                    value: i.value,
                })
                .collect(),
            records,
            purposes,
            categories,
            recipients,
            sources,
            profiling,
            transfers: transfers.into_values().collect(),
            rights: rights_text(lang, sa.name.get_ref()),
            supervisory_authority: ReportAuthority {
                name: sa.name.get_ref().clone(),
                country: sa.country.get_ref().clone(),
                website: sa.website.get_ref().clone(),
                email: sa.email.as_ref().map(|s| s.get_ref().clone()),
                phone: sa.phone.as_ref().map(|s| s.get_ref().clone()),
                address: sa.address.as_ref().map(|s| s.get_ref().clone()),
            },
        };
        self.append_audit(vec![self.audit(
            who,
            "subject.access_report",
            Some(subject),
            None,
            json!({
                "records": report.records.len(),
                "identifiers": report.identifiers.len(),
                "recipients": report.recipients.len(),
                "language": lang,
            }),
        )])
        .await?;
        Ok(report)
    }

    /// The text and legal reference of a retention rule or erasure exception.
    fn rule_text(&self, id: &str, lang: &str) -> Option<(String, String)> {
        let policy = self.policy();
        let raw = &policy.raw;
        if let Some(r) = raw.retention.iter().find(|r| r.id.get_ref() == id) {
            return Some((
                policy.text(&r.description, lang).to_owned(),
                r.legal_ref.get_ref().clone(),
            ));
        }
        raw.erasure_exceptions
            .iter()
            .find(|e| e.id.get_ref() == id)
            .map(|e| {
                (
                    policy.text(&e.description, lang).to_owned(),
                    e.legal_ref.get_ref().clone(),
                )
            })
    }
}

fn profiling_information(lang: &str, exists: bool) -> String {
    match (lang, exists) {
        ("nb", true) => "Vi lager profiler for formålene nedenfor. Beskrivelsen av hvert formål forklarer hvilke opplysninger som brukes og hvordan. Profilene brukes ikke til avgjørelser som har rettsvirkning for deg eller på tilsvarende måte påvirker deg i betydelig grad (art. 22). Du kan når som helst protestere mot profilering for direkte markedsføring.".into(),
        ("nb", false) => "Vi bruker ikke opplysningene om deg til profilering.".into(),
        (_, true) => "We build profiles for the purposes below. The description of each purpose explains which data is used and how. The profiles are not used for decisions that have legal effects on you or similarly significantly affect you (Art. 22). You can object to profiling for direct marketing at any time.".into(),
        (_, false) => "We do not use the data about you for profiling.".into(),
    }
}

fn rights_text(lang: &str, authority: &str) -> Vec<String> {
    if lang == "nb" {
        vec![
            "Du kan be om å få rettet uriktige opplysninger (art. 16).".into(),
            "Du kan be om at opplysninger slettes (art. 17).".into(),
            "Du kan be om at behandlingen begrenses (art. 18).".into(),
            "Du kan protestere mot behandling basert på berettiget interesse og mot direkte markedsføring (art. 21).".into(),
            "Du kan be om å få utlevert opplysninger du har gitt oss, i et maskinlesbart format (art. 20).".into(),
            "Du kan trekke tilbake samtykker når som helst, uten at det påvirker behandlingen før tilbaketrekkingen (art. 7(3)).".into(),
            format!("Du kan klage til {authority} og bringe saken inn for domstolene (art. 77 og 79)."),
        ]
    } else {
        vec![
            "You can ask us to correct inaccurate data (Art. 16).".into(),
            "You can ask us to erase data (Art. 17).".into(),
            "You can ask us to restrict the processing (Art. 18).".into(),
            "You can object to processing based on legitimate interests and to direct marketing (Art. 21).".into(),
            "You can ask for the data you provided to us in a machine-readable format (Art. 20).".into(),
            "You can withdraw consent at any time, without affecting the processing before the withdrawal (Art. 7(3)).".into(),
            format!("You can complain to {authority} and seek a judicial remedy (Art. 77 and 79)."),
        ]
    }
}
