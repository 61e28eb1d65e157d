//! Objections (Art. 21), compelling grounds, restriction (Art. 18) and the suppression list,
//! through the vault.

use serde_json::json;
use uuid::Uuid;
use vern_core::access::Permission;
use vern_core::crypto::{Aad, seal};
use vern_core::ids::new_id;
use vern_policy::model::Objection;
use vern_store::Store;
use vern_store::consent::{
    CompellingGrounds, ConsentStore, DIRECT_MARKETING, ObjectionRow, SuppressionRow,
};

use super::consent::SUPPRESSIBLE;
use super::{
    GroundsInput, ObjectionInput, ObjectionView, Principal, RestrictionInput, Vault, VaultError,
    VaultResult, time_of,
};

/// The AAD field under which compelling grounds are sealed (row: the objection).
pub(super) const GROUNDS_FIELD: &str = "objection.grounds";

impl Vault {
    /// Records an objection. To direct marketing (or to any direct-marketing purpose) it is
    /// absolute: recorded as an objection to all direct marketing, and the subject's email and
    /// phone go on the suppression list at once.
    pub async fn object(
        &self,
        who: &Principal,
        subject: Uuid,
        input: &ObjectionInput,
    ) -> VaultResult<ObjectionView> {
        self.require(who, Permission::SubjectsWrite)?;
        self.subject_row(subject).await?;
        let target = match (&input.purpose, input.direct_marketing) {
            (None, true) => DIRECT_MARKETING.to_owned(),
            (Some(p), false) => {
                let policy = self.policy();
                let purpose = policy.purpose(p).ok_or_else(|| {
                    VaultError::field("purpose", "unknown_purpose", "not a purpose of the policy")
                })?;
                if *purpose.objection.get_ref() == Objection::NotApplicable {
                    return Err(VaultError::field(
                        "purpose",
                        "objection_not_applicable",
                        "the purpose's legal basis gives no right to object; withdraw consent \
                         or ask for erasure instead",
                    ));
                }
                if purpose.direct_marketing {
                    DIRECT_MARKETING.to_owned()
                } else {
                    p.clone()
                }
            }
            _ => {
                return Err(VaultError::field(
                    "purpose",
                    "invalid_objection",
                    "give either `direct_marketing: true` or one `purpose`",
                ));
            }
        };
        let row = ObjectionRow {
            tenant_id: self.tenant,
            id: new_id(),
            subject_id: subject,
            target: target.clone(),
            created_at: self.now(),
            grounds_ct: None,
            grounds_at: None,
            grounds_by: None,
        };
        let audit = vec![self.audit(
            who,
            "objection.record",
            Some(subject),
            (target != DIRECT_MARKETING).then_some(target.as_str()),
            json!({ "target": target }),
        )];
        let stored = self.store.add_objection(row, audit).await;
        self.cache.evict_subject(subject);
        let stored = stored.map_err(VaultError::store("subject"))?;
        if target == DIRECT_MARKETING {
            self.suppress_subject(who, subject, &SUPPRESSIBLE, "objection")
                .await?;
        }
        let stops_profiling = target == DIRECT_MARKETING
            || self.policy().purpose(&target).is_some_and(|p| p.profiling);
        if stops_profiling {
            self.purge_profile(who, subject, "objection").await?;
        }
        Ok(ObjectionView {
            id: stored.id,
            target: stored.target,
            created_at: time_of(stored.created_at),
            compelling_grounds: stored.grounds_at.is_some(),
        })
    }

    /// A DPO records compelling legitimate grounds against an objection to one purpose. Needs
    /// both `subjects.write` and `audit.read` (the DPO's and admin's combination in the
    /// bundled policy); never possible for an absolute-objection purpose (Art. 21(3)).
    pub async fn record_compelling_grounds(
        &self,
        who: &Principal,
        subject: Uuid,
        input: &GroundsInput,
    ) -> VaultResult<()> {
        self.require(who, Permission::SubjectsWrite)?;
        self.require(who, Permission::AuditRead)?;
        let policy = self.policy();
        let purpose = policy.purpose(&input.purpose).ok_or_else(|| {
            VaultError::field("purpose", "unknown_purpose", "not a purpose of the policy")
        })?;
        if *purpose.objection.get_ref() != Objection::Relative || purpose.direct_marketing {
            return Err(VaultError::field(
                "purpose",
                "grounds_not_applicable",
                "compelling grounds can only outweigh an objection to a relative-objection \
                 purpose (Art. 21(1)), never to direct marketing",
            ));
        }
        let text = input.grounds.trim();
        if text.is_empty() || text.len() > 4000 {
            return Err(VaultError::field(
                "grounds",
                "invalid_grounds",
                "expected 1 to 4000 characters of reasoning",
            ));
        }
        let ctx = self
            .store
            .consent_context(self.tenant, subject)
            .await
            .map_err(VaultError::store("subject"))?;
        let objection = ctx
            .objections
            .iter()
            .find(|o| o.target == input.purpose)
            .ok_or_else(|| {
                VaultError::Conflict(
                    "the subject has not objected to this purpose: there is nothing to weigh grounds against"
                        .into(),
                )
            })?;
        let key = self.subject_key(subject).await?;
        let aad = Aad {
            tenant: self.tenant,
            subject,
            record: objection.id,
            field: GROUNDS_FIELD,
        };
        let grounds = CompellingGrounds {
            tenant_id: self.tenant,
            subject_id: subject,
            target: input.purpose.clone(),
            grounds_ct: seal(&key, &aad, text.as_bytes())?,
            at: self.now(),
            by: who.actor.to_string(),
        };
        let audit = vec![self.audit(
            who,
            "objection.compelling_grounds",
            Some(subject),
            Some(&input.purpose),
            json!({ "objection": objection.id }),
        )];
        let done = self.store.set_compelling_grounds(grounds, audit).await;
        self.cache.evict_subject(subject);
        done.map_err(VaultError::store("objection"))
    }

    /// Restricts processing (Art. 18) or lifts the restriction. A lift tells the subject first
    /// (Art. 18(3)): a notice to each of their email addresses is queued with the lift, or,
    /// for a subject without one, `informed_by` must say how they were told.
    pub async fn set_restriction(
        &self,
        who: &Principal,
        subject: Uuid,
        input: &RestrictionInput,
    ) -> VaultResult<()> {
        self.require(who, Permission::SubjectsWrite)?;
        let informed_by = match input.informed_by.as_deref().map(str::trim) {
            Some("") => {
                return Err(VaultError::field(
                    "informed_by",
                    "empty",
                    "say how the subject was told, or leave it out",
                ));
            }
            Some(t) if t.chars().count() > 200 => {
                return Err(VaultError::field(
                    "informed_by",
                    "too_long",
                    "at most 200 characters",
                ));
            }
            other => other,
        };
        let lang = match input.lang.as_deref() {
            None | Some("nb") => "nb",
            Some("en") => "en",
            Some(_) => {
                return Err(VaultError::field(
                    "lang",
                    "unknown_language",
                    "one of nb, en",
                ));
            }
        };
        self.subject_row(subject).await?;
        let mut notices = Vec::new();
        if !input.restricted {
            let context = self
                .store
                .consent_context(self.tenant, subject)
                .await
                .map_err(VaultError::store("subject"))?;
            if context.restricted {
                let key = self.subject_key(subject).await?;
                let rows = self
                    .store
                    .list_identifiers(self.tenant, subject)
                    .await
                    .map_err(VaultError::store("subject"))?;
                let lifted = new_id();
                for row in rows.iter().filter(|r| r.kind == "email") {
                    let address = self.open_identifier(&key, row)?.value;
                    notices.push(self.seal_mail(
                        &address,
                        "restriction_lift",
                        lang,
                        json!({}),
                        Some(subject),
                        Some(format!("restriction_lift:{lifted}:{}", row.id)),
                    )?);
                }
                if notices.is_empty() && informed_by.is_none() {
                    return Err(VaultError::field(
                        "informed_by",
                        "subject_not_told",
                        "the subject must be told before the restriction is lifted (GDPR art. 18(3)) and vern holds no email address for them: tell them another way and say how in informed_by",
                    ));
                }
            }
        }
        self.restrict_for_request(who, subject, input.restricted, None, notices, informed_by)
            .await
    }

    /// [`Vault::set_restriction`] for a request; both create an Art. 19 task per recipient.
    /// `notices` (the letters telling the subject of a lift) are queued in the same
    /// transaction as the change.
    pub(crate) async fn restrict_for_request(
        &self,
        who: &Principal,
        subject: Uuid,
        restricted: bool,
        request: Option<Uuid>,
        notices: Vec<vern_store::NewOutboxMessage>,
        informed_by: Option<&str>,
    ) -> VaultResult<()> {
        self.require(who, Permission::SubjectsWrite)?;
        self.subject_row(subject).await?;
        let action = if restricted {
            "subject.restrict"
        } else {
            "subject.unrestrict"
        };
        let detail = if restricted {
            json!({})
        } else {
            json!({ "subject_notices": notices.len(), "informed_by": informed_by })
        };
        let audit = vec![self.audit(who, action, Some(subject), None, detail)];
        let done = self
            .store
            .set_restricted(self.tenant, subject, restricted, self.now(), audit, notices)
            .await;
        self.cache.evict_subject(subject);
        done.map_err(VaultError::store("subject"))?;
        let recipients = self.recipients_of(subject).await?;
        let task = if restricted {
            "restriction"
        } else {
            "restriction_lifted"
        };
        self.create_recipient_tasks(who, subject, request, task, &recipients)
            .await
    }

    /// Puts the subject's identifiers of `kinds` on the suppression list (by their stored
    /// blind indexes). Called on objection, unsubscribe and before erasure.
    pub(crate) async fn suppress_subject(
        &self,
        who: &Principal,
        subject: Uuid,
        kinds: &[&str],
        reason: &str,
    ) -> VaultResult<()> {
        let identifiers = self
            .store
            .list_identifiers(self.tenant, subject)
            .await
            .map_err(VaultError::store("subject"))?;
        let now = self.now();
        let rows: Vec<SuppressionRow> = identifiers
            .into_iter()
            .filter(|i| kinds.contains(&i.kind.as_str()))
            .map(|i| SuppressionRow {
                tenant_id: self.tenant,
                kind: i.kind,
                hash: i.blind_index,
                reason: reason.to_owned(),
                created_at: now,
            })
            .collect();
        if rows.is_empty() {
            return Ok(());
        }
        let audit = vec![self.audit(
            who,
            "suppression.add",
            Some(subject),
            None,
            json!({ "reason": reason, "entries": rows.len() }),
        )];
        let hashes: Vec<(String, Vec<u8>)> = rows
            .iter()
            .map(|r| (r.kind.clone(), r.hash.clone()))
            .collect();
        let done = self.store.add_suppression(rows, audit).await;
        self.cache.evict_subject(subject);
        for (kind, hash) in &hashes {
            self.cache.evict_hash(kind, hash);
        }
        done.map_err(VaultError::store("subject"))
    }
}
