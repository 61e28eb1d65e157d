//! Completing a request runs the fulfilment of each right before the outcome is recorded
//! (docs/decisions/0014):
//!
//! - **access**: the access report (`Vault::access_report`) rendered as HTML, JSON and CSV in
//!   the request's language; **portability**: the ZIP (`Vault::portability_package`). Both are
//!   sealed under the tenant's DSR key (AAD bound to the download and the format) and stored
//!   behind one download link (`{public_url}/v1/public/downloads/{token}`: 256-bit token,
//!   SHA-256 stored, [`DsrSettings::download_ttl`], [`DsrSettings::download_limit`] downloads).
//!   A job deletes the artefacts at expiry; the subject's erasure deletes them too.
//! - **rectification**: each correction given with the `complete` action, through
//!   `Vault::rectify_record` (before/after sealed in the audit log).
//! - **erasure**: `Vault::erase_on_request`; kept items make the outcome *partial* with the
//!   legal reference and end date of each.
//! - **restriction**: set, or lifted after the subject has been told (Art. 18(3)).
//! - **objection**: `Vault::object` (direct marketing or one purpose).
//!
//! Rectification, erasure and restriction create an Art. 19 task per recipient (see
//! `recipient_tasks`). A right whose outcome staff recorded by hand is not fulfilled again
//! (staff handled or refused it), except that access and portability still get their
//! artefacts unless refused.

use std::fmt::Write as _;

use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::ToSchema;
use uuid::Uuid;
use vern_core::crypto::{Aad, generate_token, hash_token, open, seal};
use vern_core::dsr::Right;
use vern_core::ids::{new_id, to_micros};
use vern_store::jobs::state as job_state;
use vern_store::{DownloadRow, JobRow, RequestStore};

use super::super::requests_types::{Fulfilment, FulfilmentStatus, Lang};
use super::super::{
    Actor, ObjectionInput, Principal, Rectification, Vault, VaultError, VaultResult,
};
use super::Loaded;
use super::letters::PendingMail;
use crate::error::FieldError;

/// The job that deletes a download's artefacts when its link expires.
pub const KIND_DSR_DOWNLOAD_EXPIRY: &str = "dsr.download_expiry";

/// Settings of the request workflow (`vern serve` flags).
#[derive(Debug, Clone)]
pub struct DsrSettings {
    /// How long a download link works.
    pub download_ttl: time::Duration,
    /// How many times a download link can be used (each format counts).
    pub download_limit: i64,
    /// Where reminders of deadlines go; default: the policy's data-protection contact.
    pub staff_address: Option<String>,
}

impl Default for DsrSettings {
    fn default() -> Self {
        DsrSettings {
            download_ttl: time::Duration::days(7),
            download_limit: 5,
            staff_address: None,
        }
    }
}

/// A correction to make when a rectification request is completed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RectificationItem {
    pub record_id: Uuid,
    /// The record's new value (checked against the policy like any write).
    pub value: serde_json::Value,
}

/// What to do for a restriction request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum RestrictionChoice {
    /// Restrict processing to storage and legal claims (Art. 18(1)-(2)).
    #[default]
    Set,
    /// Lift the restriction: the subject is told first (Art. 18(3)).
    Lift,
}

/// What the `complete` action needs to fulfil rights that cannot be done without it.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FulfilInput {
    /// Corrections, for a rectification request (required unless its outcome was recorded).
    #[serde(default)]
    pub rectifications: Vec<RectificationItem>,
    /// For a restriction request; default `set`.
    #[serde(default)]
    pub restriction: Option<RestrictionChoice>,
    /// For an objection request (required unless its outcome was recorded).
    #[serde(default)]
    pub objection: Option<ObjectionInput>,
}

/// One of the formats behind a download link.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum DownloadFormat {
    /// The access report as a page (default; the ZIP when only portability was asked).
    #[default]
    Html,
    Json,
    Csv,
    Zip,
}

impl DownloadFormat {
    fn as_str(self) -> &'static str {
        match self {
            DownloadFormat::Html => "html",
            DownloadFormat::Json => "json",
            DownloadFormat::Csv => "csv",
            DownloadFormat::Zip => "zip",
        }
    }
}

/// An opened artefact.
pub struct Download {
    pub format: DownloadFormat,
    pub content: Vec<u8>,
    pub request_id: Uuid,
}

/// Artefacts in the clear, before sealing.
#[derive(Default)]
pub(super) struct Artefacts {
    html: Option<String>,
    json: Option<Vec<u8>>,
    csv: Option<String>,
    zip: Option<Vec<u8>>,
}

impl Artefacts {
    fn is_empty(&self) -> bool {
        self.html.is_none() && self.zip.is_none()
    }
}

/// The result of fulfilling the rights of a request: outcomes, artefacts, letters to send
/// before the closing letter.
pub(super) struct Fulfilled {
    pub outcomes: Vec<Fulfilment>,
    pub artefacts: Artefacts,
    /// The subject still exists (for the download's cascade).
    pub subject_left: Option<Uuid>,
}

fn not_found_is_gone(e: VaultError) -> VaultResult<()> {
    match e {
        VaultError::NotFound(_) => Ok(()),
        other => Err(other),
    }
}

impl Vault {
    /// Sets the request workflow's settings.
    pub fn set_dsr_settings(&self, settings: DsrSettings) {
        let mut guard = self
            .dsr_settings
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        *guard = settings;
    }

    pub(crate) fn dsr_settings(&self) -> DsrSettings {
        self.dsr_settings
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone()
    }

    /// Checks the fulfilment input against the rights before anything is done, so a bad
    /// input changes nothing.
    pub(super) fn check_fulfil_input(&self, l: &Loaded, input: &FulfilInput) -> VaultResult<()> {
        let recorded = |r: Right| l.case.outcomes.iter().any(|o| o.right == r);
        let asks = |r: Right| l.rights.contains(&r);
        let mut errors = Vec::new();
        if !input.rectifications.is_empty() && !asks(Right::Rectification) {
            errors.push(FieldError::new(
                "rectifications",
                "right_not_requested",
                "the request does not ask for rectification",
            ));
        }
        if input.rectifications.len() > 100 {
            errors.push(FieldError::new(
                "rectifications",
                "too_many",
                "at most 100 corrections",
            ));
        }
        if input.restriction.is_some() && !asks(Right::Restriction) {
            errors.push(FieldError::new(
                "restriction",
                "right_not_requested",
                "the request does not ask for restriction",
            ));
        }
        if input.objection.is_some() && !asks(Right::Objection) {
            errors.push(FieldError::new(
                "objection",
                "right_not_requested",
                "the request does not ask for objection",
            ));
        }
        if l.row.subject_id.is_some() {
            if asks(Right::Rectification)
                && !recorded(Right::Rectification)
                && input.rectifications.is_empty()
            {
                errors.push(FieldError::new(
                    "rectifications",
                    "rectification_missing",
                    "give the corrections to make, or record the outcome of the rectification",
                ));
            }
            if asks(Right::Objection) && !recorded(Right::Objection) && input.objection.is_none() {
                errors.push(FieldError::new(
                    "objection",
                    "objection_missing",
                    "give what the objection is to (`direct_marketing` or a `purpose`), or record its outcome",
                ));
            }
        }
        if errors.is_empty() {
            Ok(())
        } else {
            Err(VaultError::Validation(errors))
        }
    }

    /// Runs the fulfilment of every right of the request (see the module documentation).
    /// `who` is the member of staff completing it: the fulfilment acts under their actor with
    /// the policy's admin role (an access report must be complete whatever their role).
    pub(super) async fn fulfil_rights(
        &self,
        who: &Principal,
        l: &Loaded,
        input: &FulfilInput,
    ) -> VaultResult<Fulfilled> {
        let acting = self.admin_principal(who.actor)?;
        let lang = l.lang;
        let recorded = |r: Right| l.case.outcomes.iter().find(|o| o.right == r).cloned();
        let mut outcomes: Vec<Fulfilment> = Vec::new();
        let mut artefacts = Artefacts::default();
        let Some(subject) = l.row.subject_id else {
            // No subject matched: nothing is held; every right is answered as such.
            for r in &l.rights {
                outcomes.push(recorded(*r).unwrap_or_else(|| nothing_held(*r, lang)));
            }
            return Ok(Fulfilled {
                outcomes,
                artefacts,
                subject_left: None,
            });
        };
        // The subject may have gone meanwhile (erased by another request or retention).
        if let Err(e) = self.subject_row(subject).await {
            not_found_is_gone(e)?;
            for r in &l.rights {
                outcomes.push(recorded(*r).unwrap_or_else(|| nothing_held(*r, lang)));
            }
            return Ok(Fulfilled {
                outcomes,
                artefacts,
                subject_left: None,
            });
        }
        let refused = |r: Right| recorded(r).is_some_and(|o| o.status == FulfilmentStatus::Refused);
        // Copies first: erasure (last) removes what they copy.
        if l.rights.contains(&Right::Access) && !refused(Right::Access) {
            let report = self.access_report(&acting, subject, lang.as_str()).await?;
            artefacts.json = Some(
                serde_json::to_vec_pretty(&report)
                    .map_err(|e| VaultError::Internal(e.to_string()))?,
            );
            artefacts.csv =
                Some(crate::api::report_render::csv(&report).map_err(VaultError::Internal)?);
            artefacts.html = Some(crate::api::report_render::html(&report));
            outcomes.push(recorded(Right::Access).unwrap_or_else(|| Fulfilment {
                right: Right::Access,
                status: FulfilmentStatus::Done,
                reason: None,
                legal_basis: None,
                kept_until: None,
                artefact: Some(format!("access-report:{}", report.generated_at)),
                letter: Some(match lang {
                    Lang::Nb => format!(
                        "Innsynsrapporten viser alle opplysningene vi har om deg ({} opplysninger i {} kategorier), formålene, mottakerne, hvor lenge vi lagrer dem, hvor de kommer fra, profilering, overføringer og rettighetene dine. Du kan laste den ned som nettside, JSON eller CSV fra lenken nedenfor.",
                        report.records.len(),
                        report.categories.len()
                    ),
                    Lang::En => format!(
                        "The access report shows all data we hold about you ({} items in {} categories), the purposes, recipients, how long we keep it, where it came from, profiling, transfers and your rights. Download it as a web page, JSON or CSV from the link below.",
                        report.records.len(),
                        report.categories.len()
                    ),
                }),
            }));
        }
        if l.rights.contains(&Right::Portability) && !refused(Right::Portability) {
            let zip = self.portability_package(&acting, subject).await?;
            let digest = hex(&hash_token_bytes(&zip));
            artefacts.zip = Some(zip);
            outcomes.push(recorded(Right::Portability).unwrap_or_else(|| Fulfilment {
                right: Right::Portability,
                status: FulfilmentStatus::Done,
                reason: None,
                legal_basis: None,
                kept_until: None,
                artefact: Some(format!("portability-zip:sha256:{digest}")),
                letter: Some(match lang {
                    Lang::Nb => "Dataportabilitetspakken er en ZIP-fil med opplysningene du har gitt oss og opplysninger vi har registrert om din bruk, som JSON (data.json, med W3C DPV-begreper) og CSV (records.csv); README.txt beskriver formatet. Last den ned med lenken nedenfor (format=zip).".to_owned(),
                    Lang::En => "The portability package is a ZIP file with the data you gave us and the data we observed about your use, as JSON (data.json, with W3C DPV terms) and CSV (records.csv); README.txt describes the format. Download it with the link below (format=zip).".to_owned(),
                }),
            }));
        }
        if l.rights.contains(&Right::Rectification) {
            match recorded(Right::Rectification) {
                Some(o) => outcomes.push(o),
                None => {
                    let mut lines = Vec::new();
                    let mut notified = std::collections::BTreeSet::new();
                    for item in &input.rectifications {
                        let done = self
                            .rectify_for_request(
                                &acting,
                                subject,
                                item.record_id,
                                &Rectification {
                                    value: item.value.clone(),
                                },
                                Some(l.row.id),
                            )
                            .await?;
                        notified.extend(
                            done.recipients_to_notify
                                .iter()
                                .map(|r| r.recipient.clone()),
                        );
                        lines.push(format!(
                            "{}: {} → {}",
                            done.record.category,
                            short_json(&done.before),
                            short_json(&done.after)
                        ));
                    }
                    let recipients = notified.into_iter().collect::<Vec<_>>().join(", ");
                    outcomes.push(Fulfilment {
                        right: Right::Rectification,
                        status: FulfilmentStatus::Done,
                        reason: None,
                        legal_basis: None,
                        kept_until: None,
                        artefact: None,
                        letter: Some(match lang {
                            Lang::Nb => format!(
                                "Vi har rettet:\n    {}\nMottakere som har fått opplysningene og blir varslet: {}.\nDu kan sende oss en supplerende erklæring som vi lagrer sammen med opplysningene.",
                                lines.join("\n    "),
                                if recipients.is_empty() { "ingen".into() } else { recipients }
                            ),
                            Lang::En => format!(
                                "We corrected:\n    {}\nRecipients that received the data and are being told: {}.\nYou can send us a supplementary statement, which we keep with the data.",
                                lines.join("\n    "),
                                if recipients.is_empty() { "none".into() } else { recipients }
                            ),
                        }),
                    });
                }
            }
        }
        if l.rights.contains(&Right::Restriction) {
            match recorded(Right::Restriction) {
                Some(o) => outcomes.push(o),
                None => {
                    let choice = input.restriction.unwrap_or_default();
                    let email = l.case.email().map(str::to_owned);
                    let mut notices = Vec::new();
                    if choice == RestrictionChoice::Lift {
                        // Art. 18(3): the subject is told before the restriction is lifted
                        // (queued in the lift's own transaction).
                        if let Some(to) = &email {
                            notices.push(self.seal_mail(
                                to,
                                "dsr_restriction_lift",
                                lang.as_str(),
                                json!({ "reference": l.row.reference }),
                                Some(subject),
                                Some(format!("dsr_restriction_lift:{}", l.row.id)),
                            )?);
                        }
                    }
                    let restricted = choice == RestrictionChoice::Set;
                    let informed =
                        (!restricted && notices.is_empty()).then_some("the request's channel");
                    self.restrict_for_request(
                        &acting,
                        subject,
                        restricted,
                        Some(l.row.id),
                        notices,
                        informed,
                    )
                    .await?;
                    outcomes.push(Fulfilment {
                        right: Right::Restriction,
                        status: FulfilmentStatus::Done,
                        reason: None,
                        legal_basis: None,
                        kept_until: None,
                        artefact: None,
                        letter: Some(restriction_letter(restricted, lang)),
                    });
                }
            }
        }
        if l.rights.contains(&Right::Objection) {
            match (recorded(Right::Objection), &input.objection) {
                (Some(o), _) => outcomes.push(o),
                (None, Some(obj)) => {
                    let view = self.object(&acting, subject, obj).await?;
                    let at = view.created_at;
                    let dm = view.target == vern_store::consent::DIRECT_MARKETING;
                    outcomes.push(Fulfilment {
                        right: Right::Objection,
                        status: FulfilmentStatus::Done,
                        reason: None,
                        legal_basis: None,
                        kept_until: None,
                        artefact: None,
                        letter: Some(match (dm, lang) {
                            (true, Lang::Nb) => format!("All direkte markedsføring til deg er stanset i alle kanaler, også profilering for markedsføring, med virkning fra {at}. E-postadressen og telefonnummeret ditt står på reservasjonslisten vår, slik at vi ikke kontakter deg med markedsføring igjen."),
                            (true, Lang::En) => format!("All direct marketing to you has stopped on every channel, including profiling for marketing, with effect from {at}. Your email address and phone number are on our suppression list, so we do not contact you with marketing again."),
                            (false, Lang::Nb) => format!("Behandlingen for formålet «{}» er stanset fra {at}.", view.target),
                            (false, Lang::En) => format!("Processing for the purpose \"{}\" has stopped from {at}.", view.target),
                        }),
                    });
                }
                (None, None) => {
                    return Err(VaultError::field(
                        "objection",
                        "objection_missing",
                        "give what the objection is to, or record its outcome",
                    ));
                }
            }
        }
        let mut subject_left = Some(subject);
        if l.rights.contains(&Right::Erasure) {
            match recorded(Right::Erasure) {
                Some(o) => outcomes.push(o),
                None => {
                    let e = self
                        .erase_for_request(&acting, subject, Some(l.row.id))
                        .await?;
                    // Nothing kept: the subject is gone (a partial erasure keeps the subject
                    // for its kept items, under a fresh key).
                    if e.kept.is_empty() {
                        subject_left = None;
                    }
                    let text = e
                        .explanation
                        .get(lang.as_str())
                        .cloned()
                        .unwrap_or_default();
                    let mut letter = text.clone();
                    let erased: u64 = e.erased.values().sum();
                    let _ = match lang {
                        Lang::Nb => write!(
                            letter,
                            "\nSlettet: {erased} opplysninger ({}) og {} identifikatorer. Sikkerhetskopier slettes etter sin vanlige lagringstid; gjenoppretting fra en eldre kopi sletter deg på nytt. Mottakere som blir varslet: {}.",
                            e.erased.keys().cloned().collect::<Vec<_>>().join(", "),
                            e.identifiers_erased,
                            names(&e.recipients_to_notify, "ingen")
                        ),
                        Lang::En => write!(
                            letter,
                            "\nErased: {erased} items ({}) and {} identifiers. Backups expire after their usual retention; a restore from an older copy erases you again. Recipients being told: {}.",
                            e.erased.keys().cloned().collect::<Vec<_>>().join(", "),
                            e.identifiers_erased,
                            names(&e.recipients_to_notify, "none")
                        ),
                    };
                    let partial = !e.kept.is_empty();
                    let mut refs: Vec<String> =
                        e.kept.iter().map(|k| k.legal_ref.clone()).collect();
                    refs.sort();
                    refs.dedup();
                    let until = e
                        .kept
                        .iter()
                        .filter_map(|k| k.until)
                        .max()
                        .map(|t| super::date_text(t.date()));
                    outcomes.push(Fulfilment {
                        right: Right::Erasure,
                        status: if partial {
                            FulfilmentStatus::Partial
                        } else {
                            FulfilmentStatus::Done
                        },
                        reason: partial.then(|| truncate(&text, 2_000)),
                        legal_basis: partial.then(|| truncate(&refs.join("; "), 2_000)),
                        kept_until: until.filter(|_| partial),
                        artefact: None,
                        letter: Some(letter),
                    });
                }
            }
        }
        outcomes.sort_by_key(|o| o.right);
        Ok(Fulfilled {
            outcomes,
            artefacts,
            subject_left,
        })
    }

    /// The download row (sealed artefacts) and the expiry job for a completed request; the
    /// link goes into the closing letter. `None` when there is nothing to download.
    pub(super) fn seal_download(
        &self,
        l: &Loaded,
        artefacts: Artefacts,
        subject_left: Option<Uuid>,
    ) -> VaultResult<Option<(DownloadRow, JobRow, String, time::OffsetDateTime)>> {
        if artefacts.is_empty() {
            return Ok(None);
        }
        let settings = self.dsr_settings();
        let id = new_id();
        let token = generate_token();
        let now = self.clock().now();
        let expires = now + settings.download_ttl;
        let seal_one = |format: DownloadFormat, bytes: &[u8]| -> VaultResult<Vec<u8>> {
            Ok(seal(
                &self.dsr_key.0,
                &self.download_aad(id, format),
                bytes,
            )?)
        };
        let row = DownloadRow {
            tenant_id: self.tenant,
            id,
            request_id: l.row.id,
            subject_id: subject_left,
            token_hash: hash_token(&token).to_vec(),
            lang: l.lang.as_str().to_owned(),
            html_ct: artefacts
                .html
                .as_deref()
                .map(|h| seal_one(DownloadFormat::Html, h.as_bytes()))
                .transpose()?,
            json_ct: artefacts
                .json
                .as_deref()
                .map(|j| seal_one(DownloadFormat::Json, j))
                .transpose()?,
            csv_ct: artefacts
                .csv
                .as_deref()
                .map(|c| seal_one(DownloadFormat::Csv, c.as_bytes()))
                .transpose()?,
            zip_ct: artefacts
                .zip
                .as_deref()
                .map(|z| seal_one(DownloadFormat::Zip, z))
                .transpose()?,
            expires_at: to_micros(expires),
            max_downloads: settings.download_limit,
            downloads: 0,
            created_at: to_micros(now),
        };
        let job = JobRow {
            id: new_id(),
            kind: KIND_DSR_DOWNLOAD_EXPIRY.to_owned(),
            payload: json!({ "tenant": self.tenant, "download": id }).to_string(),
            state: job_state::QUEUED.to_owned(),
            run_at: to_micros(expires),
            attempts: 0,
            max_attempts: 5,
            lease_owner: None,
            lease_until: None,
            last_error: None,
            unique_key: Some(format!("{KIND_DSR_DOWNLOAD_EXPIRY}:{id}")),
            created_at: to_micros(now),
            updated_at: to_micros(now),
        };
        let link = format!("{}/v1/public/downloads/{token}", self.public_url());
        Ok(Some((row, job, link, expires)))
    }

    fn download_aad(&self, id: Uuid, format: DownloadFormat) -> Aad<'static> {
        Aad {
            tenant: self.tenant,
            subject: id,
            record: id,
            field: match format {
                DownloadFormat::Html => "dsr.download.html",
                DownloadFormat::Json => "dsr.download.json",
                DownloadFormat::Csv => "dsr.download.csv",
                DownloadFormat::Zip => "dsr.download.zip",
            },
        }
    }

    /// Opens one artefact behind a download link (public: the link is the credential). Counts
    /// a download. Unknown, expired, used up and "no such format" are one answer (404), so the
    /// link cannot be probed.
    pub async fn take_download(
        &self,
        token: &str,
        format: Option<DownloadFormat>,
    ) -> VaultResult<Download> {
        let gone = || VaultError::NotFound("download (unknown, expired or used up)");
        if token.len() > 100 {
            return Err(gone());
        }
        // A keyed lookup by the token's SHA-256 in an indexed column (see `verify_request_link`
        // for why that is not a timing oracle); the constant-time re-check guards loose matches.
        let presented = hash_token(token);
        let Some(row) = self
            .store
            .take_download(&presented, self.now())
            .await
            .map_err(VaultError::store("download"))?
        else {
            return Err(gone());
        };
        if row.tenant_id != self.tenant
            || !vern_core::crypto::constant_time_eq(&row.token_hash, &presented)
        {
            return Err(gone());
        }
        let format = format.unwrap_or(if row.html_ct.is_some() {
            DownloadFormat::Html
        } else {
            DownloadFormat::Zip
        });
        let sealed = match format {
            DownloadFormat::Html => row.html_ct.as_ref(),
            DownloadFormat::Json => row.json_ct.as_ref(),
            DownloadFormat::Csv => row.csv_ct.as_ref(),
            DownloadFormat::Zip => row.zip_ct.as_ref(),
        }
        .ok_or_else(gone)?;
        let content = open(&self.dsr_key.0, &self.download_aad(row.id, format), sealed)?;
        let system = Principal::new(Actor::System, "system");
        self.append_audit(vec![self.audit(
            &system,
            "dsr.download",
            row.subject_id,
            Some("compliance.dsr_handling"),
            json!({
                "request": row.request_id,
                "download": row.id,
                "format": format.as_str(),
                "downloads": row.downloads,
            }),
        )])
        .await?;
        Ok(Download {
            format,
            content,
            request_id: row.request_id,
        })
    }

    /// The expiry job: deletes the download's artefacts (idempotent), and any other expired.
    pub async fn expire_download(&self, id: Uuid) -> VaultResult<()> {
        let deleted = self
            .store
            .delete_download(self.tenant, id)
            .await
            .map_err(VaultError::store("download"))?;
        let others = self
            .store
            .delete_expired_downloads(self.now())
            .await
            .map_err(VaultError::store("download"))?;
        if deleted || others > 0 {
            let system = Principal::new(Actor::System, "system");
            self.append_audit(vec![self.audit(
                &system,
                "dsr.download_expired",
                None,
                Some("compliance.dsr_handling"),
                json!({ "download": id, "deleted": u64::from(deleted) + others }),
            )])
            .await?;
        }
        Ok(())
    }

    /// The closing letter's text about the download link.
    pub(super) fn download_lines(
        lang: Lang,
        link: &str,
        expires: time::OffsetDateTime,
        limit: i64,
    ) -> String {
        let date = super::date_text(expires.date());
        match lang {
            Lang::Nb => format!(
                "Last ned: {link}\n  (nettside; legg til ?format=json, ?format=csv eller ?format=zip for de andre formatene). Lenken virker til {date} og kan brukes {limit} ganger; deretter slettes filene."
            ),
            Lang::En => format!(
                "Download: {link}\n  (web page; add ?format=json, ?format=csv or ?format=zip for the other formats). The link works until {date} and can be used {limit} times; the files are then deleted."
            ),
        }
    }

    /// A reminder to the privacy team (staff address, or the policy's data-protection contact).
    pub(super) fn reminder_mail(
        &self,
        reference: &str,
        due: &str,
        days_left: i64,
        request: Uuid,
    ) -> PendingMail {
        let to = self.dsr_settings().staff_address.unwrap_or_else(|| {
            self.policy()
                .raw
                .data_protection_contact
                .email
                .get_ref()
                .clone()
        });
        PendingMail {
            to,
            template: "dsr_reminder",
            lang: Lang::parse(
                self.policy()
                    .raw
                    .languages
                    .get_ref()
                    .first()
                    .map_or("en", |l| l.get_ref().as_str()),
            ),
            params: json!({
                "reference": reference,
                "due": due,
                "days_left": days_left,
                "link": format!("{}/v1/requests/{request}", self.public_url()),
            }),
            dedup_key: Some(format!("dsr_reminder:{request}:{due}")),
        }
    }
}

fn nothing_held(right: Right, lang: Lang) -> Fulfilment {
    Fulfilment {
        right,
        status: FulfilmentStatus::Done,
        reason: None,
        legal_basis: None,
        kept_until: None,
        artefact: None,
        letter: Some(
            match lang {
                Lang::Nb => {
                    "Vi har ingen personopplysninger om deg knyttet til opplysningene du oppga."
                }
                Lang::En => "We hold no personal data about you under the details you gave.",
            }
            .to_owned(),
        ),
    }
}

fn restriction_letter(restricted: bool, lang: Lang) -> String {
    match (restricted, lang) {
        (true, Lang::Nb) => "Behandlingen av alle opplysningene om deg er begrenset: vi lagrer dem, men bruker dem ikke til noe annet enn det artikkel 18 nr. 2 tillater (med ditt samtykke, for rettskrav, for å verne andres rettigheter eller av viktige allmenne interesser). Vi gir deg beskjed før begrensningen oppheves.".to_owned(),
        (true, Lang::En) => "Processing of all data about you is restricted: we store it but use it for nothing but what Article 18(2) allows (with your consent, for legal claims, to protect the rights of others or for important public interest). We will tell you before the restriction is lifted.".to_owned(),
        (false, Lang::Nb) => "Begrensningen av behandlingen er opphevet, etter at vi ga deg beskjed om det.".to_owned(),
        (false, Lang::En) => "The restriction of processing has been lifted, after we told you so.".to_owned(),
    }
}

fn names(recipients: &[super::super::RecipientToNotify], none: &str) -> String {
    if recipients.is_empty() {
        none.to_owned()
    } else {
        recipients
            .iter()
            .map(|r| r.recipient.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    }
}

fn short_json(v: &serde_json::Value) -> String {
    let s = match v {
        serde_json::Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    truncate(&s, 200)
}

fn truncate(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        s.to_owned()
    } else {
        let mut t: String = s.chars().take(max.saturating_sub(1)).collect();
        t.push('…');
        t
    }
}

fn hash_token_bytes(bytes: &[u8]) -> [u8; 32] {
    use sha2::Digest as _;
    sha2::Sha256::digest(bytes).into()
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().fold(String::new(), |mut s, b| {
        let _ = write!(s, "{b:02x}");
        s
    })
}
