//! Erasure on request (Art. 17): everything of the subject goes except what an erasure
//! exception of the policy (bookkeeping law, Art. 17(3)(b)) or an active legal hold (Art.
//! 17(3)(e)) requires keeping; those items are kept and named with their legal reference and
//! end date, and the outcome is then *partially refused*. Before anything is deleted the
//! subject's addresses go on the suppression list (the only way not to contact them again if a
//! list brings them back). When nothing remains, the subject key is destroyed and the erasure
//! ledger remembers the id; otherwise a `partial_erasures` row does, and a restore replays
//! both. The recipients the data was disclosed to (disclosure register) are listed for the
//! Art. 19 notification.
//!
//! A dry run computes the same outcome and changes nothing (the Helsinki GDPR API asks first).

use std::collections::BTreeMap;

use serde::Serialize;
use serde_json::json;
use time::OffsetDateTime;
use utoipa::ToSchema;
use uuid::Uuid;
use vern_core::access::Permission;
use vern_core::crypto::{Aad, open, seal};
use vern_core::ids::new_id;
use vern_core::retention::RecordFacts;
use vern_store::consent::ConsentStore;
use vern_store::{DisclosureStore, ErasureStore, EvidenceRow, Rekey, Resealed, Store};

use super::retention::held;
use super::{Principal, Vault, VaultError, VaultResult, time_of};

/// The evidence rule name of erasures on request.
pub const ERASURE_REQUEST_RULE: &str = "erasure_request";

/// What an erasure did (or, for a dry run, would do).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ErasureOutcome {
    pub subject_id: Uuid,
    pub dry_run: bool,
    /// `completed` when everything went, `partially_refused` when something is kept.
    #[schema(example = "partially_refused")]
    pub outcome: String,
    /// Records erased, by category.
    pub erased: BTreeMap<String, u64>,
    pub identifiers_erased: u64,
    /// What is kept, each with its reason, legal reference and end date.
    pub kept: Vec<KeptItem>,
    /// Whether the subject key that sealed the erased data was destroyed: always, once the
    /// erasure is carried out. When items are kept they are first re-sealed under a fresh key,
    /// so no copy of the erased data (backups, replicas) can be opened again.
    pub key_destroyed: bool,
    /// Suppression entries added (email and phone addresses), kept so the person is not
    /// contacted again; they can ask for their removal.
    pub suppression_entries: u64,
    /// Recipients the data was disclosed to, to be told of the erasure (Art. 19).
    pub recipients_to_notify: Vec<RecipientToNotify>,
    /// The explanation for the person, by language (`nb`, `en`).
    pub explanation: BTreeMap<String, String>,
}

/// A record kept despite the request.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct KeptItem {
    pub record_id: Uuid,
    pub category: String,
    /// `erasure_exception` or `legal_hold`.
    pub reason: String,
    /// The policy's erasure exception id (for `erasure_exception`).
    pub exception: Option<String>,
    /// The law that requires keeping it and the GDPR article that allows it.
    pub legal_ref: String,
    /// When the obligation ends (the record is then deleted by retention); `None` for a hold,
    /// which ends when released.
    #[serde(with = "time::serde::rfc3339::option")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub until: Option<OffsetDateTime>,
    /// The exception's description from the policy, by language.
    pub description: BTreeMap<String, String>,
}

/// A recipient that received some of the subject's data.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct RecipientToNotify {
    pub recipient: String,
    pub categories: Vec<String>,
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub last_disclosed_at: OffsetDateTime,
}

const HOLD_LEGAL_REF: &str =
    "GDPR art. 17(3)(e): establishment, exercise or defence of legal claims";

impl Vault {
    /// Erases the subject as far as the law allows (see the module documentation). `dry_run`
    /// changes nothing. 404 if the subject does not exist (or was erased already).
    pub async fn erase_on_request(
        &self,
        who: &Principal,
        subject: Uuid,
        dry_run: bool,
    ) -> VaultResult<ErasureOutcome> {
        self.erase(who, subject, dry_run, false, None).await
    }

    /// [`Vault::erase_on_request`] for a request (its id goes on the Art. 19 tasks).
    pub(crate) async fn erase_for_request(
        &self,
        who: &Principal,
        subject: Uuid,
        request: Option<Uuid>,
    ) -> VaultResult<ErasureOutcome> {
        self.erase(who, subject, false, false, request).await
    }

    /// Erases the subject only if nothing must be kept (the Helsinki GDPR API's all-or-nothing
    /// DELETE); otherwise changes nothing and returns the outcome (`dry_run = true`,
    /// `partially_refused`) with what would be kept and why. Decided in one pass, so nothing
    /// added between a check and the deletion can be half-erased.
    pub async fn erase_all_or_nothing(
        &self,
        who: &Principal,
        subject: Uuid,
        dry_run: bool,
    ) -> VaultResult<ErasureOutcome> {
        self.erase(who, subject, dry_run, true, None).await
    }

    async fn erase(
        &self,
        who: &Principal,
        subject: Uuid,
        dry_run: bool,
        all_or_nothing: bool,
        request: Option<Uuid>,
    ) -> VaultResult<ErasureOutcome> {
        self.require(who, Permission::SubjectsErase)?;
        let srow = self.subject_row(subject).await?;
        let now = self.now();
        let now_t = time_of(now);
        let plan = self.retention_plan();
        let policy = self.policy();
        let records = self
            .store
            .list_records(self.tenant, subject)
            .await
            .map_err(VaultError::store("subject"))?;
        let identifiers = self
            .store
            .list_identifiers(self.tenant, subject)
            .await
            .map_err(VaultError::store("subject"))?;
        let holds: Vec<_> = self
            .active_holds()
            .await?
            .into_iter()
            .filter(|h| h.subject_id.is_none_or(|s| s == subject))
            .collect();

        let mut kept = Vec::new();
        let mut erased: BTreeMap<String, u64> = BTreeMap::new();
        for r in &records {
            let events: BTreeMap<String, OffsetDateTime> = r
                .event_times
                .iter()
                .map(|(k, v)| (k.clone(), time_of(*v)))
                .collect();
            let facts = RecordFacts {
                category: &r.category,
                purposes: &r.purposes,
                subject_type: &srow.subject_type,
                jurisdiction: srow.jurisdiction.as_deref(),
                collected_at: time_of(r.collected_at),
                last_activity_at: r.last_activity_at.map(time_of),
                event_times: &events,
            };
            if let Some((ex_id, until)) = plan.erasure_exception(&facts, &[], now_t) {
                let ex = policy
                    .raw
                    .erasure_exceptions
                    .iter()
                    .find(|e| e.id.get_ref() == ex_id);
                kept.push(KeptItem {
                    record_id: r.id,
                    category: r.category.clone(),
                    reason: "erasure_exception".into(),
                    exception: Some(ex_id.to_owned()),
                    legal_ref: ex
                        .map(|e| e.legal_ref.get_ref().clone())
                        .unwrap_or_default(),
                    until: Some(until),
                    description: ex
                        .map(|e| e.description.get_ref().clone())
                        .unwrap_or_default(),
                });
            } else if held(&holds, subject, &r.category) {
                kept.push(KeptItem {
                    record_id: r.id,
                    category: r.category.clone(),
                    reason: "legal_hold".into(),
                    exception: None,
                    legal_ref: HOLD_LEGAL_REF.into(),
                    until: None,
                    description: BTreeMap::from([
                        ("nb".into(), "Opplysningene trengs for å fastsette, gjøre gjeldende eller forsvare et rettskrav, og beholdes til saken er avsluttet.".into()),
                        ("en".into(), "The data is needed to establish, exercise or defend a legal claim and is kept until the matter is closed.".into()),
                    ]),
                });
            } else {
                *erased.entry(r.category.clone()).or_default() += 1;
            }
        }
        let suppressible = identifiers
            .iter()
            .filter(|i| super::consent::SUPPRESSIBLE.contains(&i.kind.as_str()))
            .count() as u64;
        let recipients = self.recipients_of(subject).await?;
        let partial = !kept.is_empty();
        let mut outcome = ErasureOutcome {
            subject_id: subject,
            dry_run,
            outcome: if partial {
                "partially_refused"
            } else {
                "completed"
            }
            .into(),
            identifiers_erased: identifiers.len() as u64,
            key_destroyed: !(all_or_nothing && partial),
            suppression_entries: suppressible,
            recipients_to_notify: recipients,
            explanation: explanation(partial, &kept),
            erased,
            kept,
        };
        if dry_run || (all_or_nothing && partial) {
            outcome.dry_run = true;
            self.append_audit(vec![self.audit(
                who,
                "subject.erase_dry_run",
                Some(subject),
                None,
                json!({ "outcome": outcome.outcome, "kept": outcome.kept.len() }),
            )])
            .await?;
            return Ok(outcome);
        }

        // Addresses first, while their blind indexes still exist.
        self.suppress_subject(who, subject, &super::consent::SUPPRESSIBLE, "erasure")
            .await?;
        self.purge_profile(who, subject, "erasure").await?;
        let detail = json!({
            "outcome": outcome.outcome,
            "erased": outcome.erased,
            "identifiers": outcome.identifiers_erased,
            "kept": outcome.kept.iter().map(|k| json!({
                "record": k.record_id, "category": k.category, "reason": k.reason,
                "exception": k.exception,
            })).collect::<Vec<_>>(),
            "recipients": outcome.recipients_to_notify.iter().map(|r| &r.recipient).collect::<Vec<_>>(),
        });
        let audit = vec![self.audit(who, "subject.erase", Some(subject), None, detail)];
        if partial {
            let evidence = outcome
                .erased
                .iter()
                .map(|(category, count)| EvidenceRow {
                    tenant_id: self.tenant,
                    id: new_id(),
                    at: now,
                    subject_id: subject,
                    rule: ERASURE_REQUEST_RULE.into(),
                    category: category.clone(),
                    action: "delete".into(),
                    count: i64::try_from(*count).unwrap_or(i64::MAX),
                })
                .collect();
            let keep: Vec<Uuid> = outcome.kept.iter().map(|k| k.record_id).collect();
            let rekey = self.rekey(subject, &records, &keep).await?;
            self.store
                .erase_except(
                    self.tenant,
                    subject,
                    vern_store::Keep {
                        records: keep,
                        rekey: Some(rekey),
                    },
                    now,
                    evidence,
                    audit,
                )
                .await
                .map_err(VaultError::store("subject"))?;
        } else {
            self.store
                .erase_subject(self.tenant, subject, now, audit)
                .await
                .map_err(VaultError::store("subject"))?;
        }
        outcome.dry_run = false;
        self.create_recipient_tasks(
            who,
            subject,
            request,
            "erasure",
            &outcome.recipients_to_notify,
        )
        .await?;
        Ok(outcome)
    }

    /// A fresh key for the subject with everything that stays re-sealed under it: the kept
    /// records and the compelling grounds on objections (sealed under the subject key too).
    async fn rekey(
        &self,
        subject: Uuid,
        records: &[vern_store::model::RecordRow],
        keep: &[Uuid],
    ) -> VaultResult<Rekey> {
        let old = self.subject_key(subject).await?;
        let (new, key) = self.new_subject_key(subject)?;
        let mut resealed = Vec::with_capacity(keep.len());
        for r in records.iter().filter(|r| keep.contains(&r.id)) {
            let aad = Aad::record_value(self.tenant, subject, r.id);
            let plain = open(&old, &aad, &r.value_ct)?;
            resealed.push(Resealed {
                id: r.id,
                was: r.value_ct.clone(),
                now: seal(&new, &aad, &plain)?,
            });
        }
        let context = self
            .store
            .consent_context(self.tenant, subject)
            .await
            .map_err(VaultError::store("subject"))?;
        let mut grounds = Vec::new();
        for o in &context.objections {
            let Some(ct) = &o.grounds_ct else { continue };
            let aad = Aad {
                tenant: self.tenant,
                subject,
                record: o.id,
                field: super::objections::GROUNDS_FIELD,
            };
            let plain = open(&old, &aad, ct)?;
            grounds.push(Resealed {
                id: o.id,
                was: ct.clone(),
                now: seal(&new, &aad, &plain)?,
            });
        }
        Ok(Rekey {
            key,
            records: resealed,
            grounds,
        })
    }

    /// Every recipient in the disclosure register for the subject, with the categories and the
    /// last time (the whole register: recipients under a non-disclosure order are notified too,
    /// though the subject is not told of them).
    pub(super) async fn recipients_of(&self, subject: Uuid) -> VaultResult<Vec<RecipientToNotify>> {
        let rows = self
            .store
            .disclosures_of_subject(self.tenant, subject)
            .await
            .map_err(VaultError::store("disclosure"))?;
        let mut by: BTreeMap<String, (std::collections::BTreeSet<String>, i64)> = BTreeMap::new();
        for r in rows {
            let e = by.entry(r.recipient).or_default();
            e.0.extend(r.categories);
            e.1 = e.1.max(r.disclosed_at);
        }
        Ok(by
            .into_iter()
            .map(|(recipient, (cats, at))| RecipientToNotify {
                recipient,
                categories: cats.into_iter().collect(),
                last_disclosed_at: time_of(at),
            })
            .collect())
    }
}

fn explanation(partial: bool, kept: &[KeptItem]) -> BTreeMap<String, String> {
    if !partial {
        return BTreeMap::from([
            ("nb".into(), "Alle personopplysninger om deg er slettet. Vi beholder bare en reservasjon mot markedsføring for e-postadressen og telefonnummeret ditt, slik at vi ikke kontakter deg igjen; du kan be oss fjerne den. Mottakere som har fått opplysningene, blir varslet.".into()),
            ("en".into(), "All personal data about you has been erased. We keep only a marketing opt-out for your email address and phone number, so that we do not contact you again; you can ask us to remove it. Recipients that received the data are being notified.".into()),
        ]);
    }
    let mut nb = String::from(
        "Vi har slettet personopplysningene om deg, unntatt følgende, som loven pålegger oss å beholde:",
    );
    let mut en = String::from(
        "We have erased the personal data about you, except the following, which the law requires us to keep:",
    );
    for k in kept {
        let until = k
            .until
            .map(|t| t.date().to_string())
            .unwrap_or_else(|| "-".into());
        nb.push_str(&format!(
            "\n- {} ({}), til {}: {}",
            k.category,
            k.legal_ref,
            until,
            k.description.get("nb").map(String::as_str).unwrap_or("")
        ));
        en.push_str(&format!(
            "\n- {} ({}), until {}: {}",
            k.category,
            k.legal_ref,
            until,
            k.description.get("en").map(String::as_str).unwrap_or("")
        ));
    }
    nb.push_str("\nDet som beholdes, brukes bare til formålet unntaket gjelder, og slettes når fristen er ute. Du kan klage til tilsynsmyndigheten og gå til domstolene.");
    en.push_str("\nWhat is kept is used only for the purpose of the exception and is deleted when the period ends. You can complain to the supervisory authority and seek a judicial remedy.");
    BTreeMap::from([("nb".into(), nb), ("en".into(), en)])
}
