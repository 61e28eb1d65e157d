//! Consent through the vault: checked by `vern_core::consent`, proof assembled here (policy
//! hash, notice-text hash, truncated IP), persisted with its audit entries in one store call.
//! Objections, restriction and suppression are in `objections.rs`.
//!
//! Suppression entries are blind indexes of the subject's email and phone identifiers: they
//! are read from the identifier rows as stored, so no plaintext is opened to suppress.

use serde_json::json;
use sha2::{Digest, Sha256};
use uuid::Uuid;
use vern_core::access::Permission;
use vern_core::consent::{
    self as rules, ConsentAction, ConsentEntry, ConsentMethod, ConsentState, ConsentStatus,
    truncate_ip,
};
use vern_core::decision::Objections;
use vern_core::ids::new_id;
use vern_store::consent::{
    ConsentEventRow, ConsentStateRow, ConsentStore, DIRECT_MARKETING, NewConsentEvent, ObjectionRow,
};

use super::{
    ConsentEventView, ConsentInput, ConsentOverview, ConsentRecorded, ConsentRequestMeta,
    ConsentStateView, ObjectionView, Principal, Vault, VaultError, VaultResult, time_of,
};

/// Identifier kinds a suppression entry is made of.
pub(crate) const SUPPRESSIBLE: [&str; 2] = ["email", "phone"];

pub(crate) fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The projection rows as the core's state.
pub(crate) fn core_state(rows: &[ConsentStateRow]) -> ConsentState {
    ConsentState::from_entries(
        rows.iter()
            .filter_map(|r| {
                Some(ConsentEntry {
                    scope: r.scope.clone(),
                    channel: r.channel.clone(),
                    status: ConsentStatus {
                        action: ConsentAction::parse(&r.action)?,
                        at: r.at,
                        expires_at: r.expires_at,
                        event_id: r.event_id,
                        renewal_due_at: r.renewal_due_at,
                    },
                })
            })
            .collect(),
    )
}

pub(crate) fn core_objections(rows: &[ObjectionRow]) -> Objections {
    Objections {
        direct_marketing: rows.iter().any(|o| o.target == DIRECT_MARKETING),
        purposes: rows
            .iter()
            .filter(|o| o.target != DIRECT_MARKETING)
            .map(|o| (o.target.clone(), o.grounds_at.is_some()))
            .collect(),
    }
}

fn event_view(r: &ConsentEventRow) -> ConsentEventView {
    let e = &r.event;
    ConsentEventView {
        id: e.id,
        seq: r.seq,
        subject_id: e.subject_id,
        scope: e.scope.clone(),
        channel: e.channel.clone(),
        action: e.action.clone(),
        at: time_of(e.at),
        expires_at: e.expires_at.map(time_of),
        policy_hash: e.policy_hash.clone(),
        notice_hash: e.notice_hash.clone(),
        collection_point: e.collection_point.clone(),
        method: e.method.clone(),
        ip_truncated: e.ip_truncated.clone(),
        user_agent: e.user_agent.clone(),
        idempotency_key: e.idempotency_key.clone(),
        actor: e.actor.clone(),
        hash: hex(&r.hash),
    }
}

/// Whether the events first recorded under an idempotency key answer this request: same scope,
/// action, method and collection point, and the named channel (if any) is the one recorded.
fn same_request(earlier: &[ConsentEventView], input: &ConsentInput) -> bool {
    earlier.iter().all(|e| {
        e.scope == input.scope
            && e.action == input.action
            && e.method == input.method
            && e.collection_point == input.collection_point.trim()
            && input.channel.as_ref().is_none_or(|c| &e.channel == c)
    })
}

impl Vault {
    /// Records a grant, withdrawal or renewal. A retry with the same `Idempotency-Key` returns
    /// the events first recorded under it instead of recording again.
    pub async fn record_consent(
        &self,
        who: &Principal,
        subject: Uuid,
        input: &ConsentInput,
        meta: &ConsentRequestMeta,
    ) -> VaultResult<ConsentRecorded> {
        self.require(who, Permission::SubjectsWrite)?;
        if let Some(key) = &meta.idempotency_key {
            let history = self.consent_rows(subject).await?;
            let earlier: Vec<_> = history
                .iter()
                .filter(|r| r.event.idempotency_key.as_deref() == Some(key.as_str()))
                .map(event_view)
                .collect();
            if !earlier.is_empty() {
                // The ledger outlives an erased subject (it is the proof), so a retry must not
                // replay its events as if the subject were still there: a subject that is gone
                // answers 404, as a first request for it does further on.
                self.subject_row(subject).await?;
                if !same_request(&earlier, input) {
                    return Err(VaultError::field(
                        "Idempotency-Key",
                        "idempotency_key_reused",
                        "this Idempotency-Key was used for a different request",
                    ));
                }
                return self.recorded(earlier);
            }
        }
        let action = match ConsentAction::parse(&input.action) {
            Some(
                a @ (ConsentAction::Granted | ConsentAction::Withdrawn | ConsentAction::Renewed),
            ) => a,
            _ => {
                return Err(VaultError::field(
                    "action",
                    "invalid_action",
                    "expected `granted`, `withdrawn` or `renewed`",
                ));
            }
        };
        let method = ConsentMethod::parse(&input.method).ok_or_else(|| {
            VaultError::field(
                "method",
                "invalid_method",
                "expected `checkbox`, `double_opt_in`, `api` or `gpc`",
            )
        })?;
        let point = input.collection_point.trim();
        if point.is_empty() || point.len() > 200 {
            return Err(VaultError::field(
                "collection_point",
                "invalid_collection_point",
                "expected 1 to 200 characters naming the form, surface or API client",
            ));
        }
        let policy = self.policy();
        let scope = policy.consent_scope(&input.scope).ok_or_else(|| {
            VaultError::field(
                "scope",
                "unknown_consent_scope",
                "not a consent scope of the policy",
            )
        })?;
        let lang = input
            .language
            .clone()
            .or_else(|| {
                self.policy()
                    .raw
                    .languages
                    .get_ref()
                    .first()
                    .map(|l| l.get_ref().clone())
            })
            .unwrap_or_default();
        if !scope.text.get_ref().contains_key(&lang) {
            return Err(VaultError::field(
                "language",
                "unknown_language",
                "the consent text is not published in this language",
            ));
        }
        let notice_hash = hex(&Sha256::digest(self.policy().text(&scope.text, &lang)));
        let rows = self
            .store
            .consent_state(self.tenant, subject)
            .await
            .map_err(VaultError::store("subject"))?;
        let planned = rules::plan_events(
            &self.policy(),
            &core_state(&rows),
            &input.scope,
            input.channel.as_deref(),
            action,
            method,
            self.clock.now(),
        )
        .map_err(|e| {
            let field = match e {
                rules::ConsentError::ChannelNotInScope { .. } => "channel",
                rules::ConsentError::GpcCannotGrant => "method",
                rules::ConsentError::UnknownScope(_) => "scope",
                _ => "action",
            };
            VaultError::field(field, e.code(), e.to_string())
        })?;
        let user_agent = meta
            .user_agent
            .as_ref()
            .map(|ua| ua.chars().take(256).collect::<String>());
        let events: Vec<NewConsentEvent> = planned
            .into_iter()
            .map(|e| NewConsentEvent {
                tenant_id: self.tenant,
                id: e.id,
                subject_id: subject,
                scope: e.scope,
                channel: e.channel,
                action: e.action.as_str().to_owned(),
                at: e.at,
                expires_at: e.expires_at,
                policy_hash: self.policy().content_hash.clone(),
                notice_hash: notice_hash.clone(),
                collection_point: point.to_owned(),
                method: method.as_str().to_owned(),
                ip_truncated: meta.ip.map(truncate_ip),
                user_agent: user_agent.clone(),
                idempotency_key: meta.idempotency_key.clone(),
                actor: who.actor.to_string(),
            })
            .collect();
        let channels: Vec<&str> = events.iter().map(|e| e.channel.as_str()).collect();
        let audit = vec![self.audit(
            who,
            &format!("consent.{}", action.as_str()),
            Some(subject),
            None,
            json!({ "scope": input.scope, "channels": channels, "method": method.as_str() }),
        )];
        let suppress_kinds: Vec<&str> = if action == ConsentAction::Withdrawn && input.unsubscribe {
            events
                .iter()
                .filter_map(|e| match e.channel.as_str() {
                    "email" => Some("email"),
                    "sms" | "phone" => Some("phone"),
                    _ => None,
                })
                .collect()
        } else {
            Vec::new()
        };
        let stored = self.store.append_consent(events, audit).await;
        // Evicted whether or not the commit is known to have happened: never stale.
        self.cache.evict_subject(subject);
        let stored = stored.map_err(VaultError::store("subject"))?;
        // The subject's records move on the retention calendar (talent-pool override).
        self.consent_changed(subject, &input.scope).await?;
        if !suppress_kinds.is_empty() {
            self.suppress_subject(who, subject, &suppress_kinds, "unsubscribe")
                .await?;
        }
        // Opting out of profiling deletes the profile and the events it was built from.
        if action == ConsentAction::Withdrawn && self.scope_feeds_profiling(&input.scope) {
            self.purge_profile(who, subject, "consent.withdrawn")
                .await?;
        }
        self.recorded(stored.iter().map(event_view).collect())
    }

    fn recorded(&self, events: Vec<ConsentEventView>) -> VaultResult<ConsentRecorded> {
        let receipt = self
            .receipt(&events)
            .ok_or_else(|| VaultError::Internal("no receipt for recorded consent".into()))?;
        Ok(ConsentRecorded { events, receipt })
    }

    async fn consent_rows(&self, subject: Uuid) -> VaultResult<Vec<ConsentEventRow>> {
        self.store
            .consent_history(self.tenant, subject)
            .await
            .map_err(VaultError::store("subject"))
    }

    /// The subject's ledger entries in order (proof for the person or an auditor).
    pub async fn consent_history(
        &self,
        who: &Principal,
        subject: Uuid,
    ) -> VaultResult<Vec<ConsentEventView>> {
        self.require(who, Permission::SubjectsRead)?;
        self.subject_row(subject).await?;
        let rows = self.consent_rows(subject).await?;
        self.append_audit(vec![self.audit(
            who,
            "consent.history.read",
            Some(subject),
            None,
            json!({ "events": rows.len() }),
        )])
        .await?;
        Ok(rows.iter().map(event_view).collect())
    }

    /// Current consents (expiry applied at the vault's `now`), objections and restriction.
    pub async fn consent_overview(
        &self,
        who: &Principal,
        subject: Uuid,
    ) -> VaultResult<ConsentOverview> {
        self.require(who, Permission::SubjectsRead)?;
        self.subject_row(subject).await?;
        let ctx = self
            .store
            .consent_context(self.tenant, subject)
            .await
            .map_err(VaultError::store("subject"))?;
        let now = self.now();
        let consents = core_state(&ctx.state)
            .entries()
            .iter()
            .map(|e| ConsentStateView {
                scope: e.scope.clone(),
                channel: e.channel.clone(),
                status: if e.status.needs_renewal(now) {
                    "renewal_needed".to_owned()
                } else {
                    e.status.effective_action(now).as_str().to_owned()
                },
                active: e.status.is_active(now),
                renewal_due_at: e.status.renewal_due_at.map(time_of),
                since: time_of(e.status.at),
                expires_at: e.status.expires_at.map(time_of),
                event_id: e.status.event_id,
            })
            .collect();
        let objections = ctx
            .objections
            .iter()
            .map(|o| ObjectionView {
                id: o.id,
                target: o.target.clone(),
                created_at: time_of(o.created_at),
                compelling_grounds: o.grounds_at.is_some(),
            })
            .collect();
        Ok(ConsentOverview {
            subject_id: subject,
            consents,
            objections,
            restricted: ctx.restricted,
        })
    }

    /// The tenant's whole ledger, in order, for auditors (`audit.read`).
    pub async fn export_consent(&self, who: &Principal) -> VaultResult<Vec<ConsentEventView>> {
        self.require(who, Permission::AuditRead)?;
        let mut out = Vec::new();
        loop {
            let from = out.last().map_or(1, |v: &ConsentEventView| v.seq + 1);
            let page = self
                .store
                .consent_ledger_page(self.tenant, from, 1000)
                .await
                .map_err(VaultError::store("consent ledger"))?;
            if page.is_empty() {
                break;
            }
            out.extend(page.iter().map(event_view));
        }
        self.append_audit(vec![self.audit(
            who,
            "consent.export",
            None,
            None,
            json!({ "events": out.len() }),
        )])
        .await?;
        Ok(out)
    }
}

/// Consent rows handled per page of the expiry sweep.
const EXPIRY_PAGE: u32 = 1000;

/// What an expiry sweep did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
pub struct ExpirySweep {
    /// `expired` events written.
    pub expired: u64,
    /// Subjects they belonged to.
    pub subjects: u64,
}

impl Vault {
    /// Writes an `expired` ledger event for every granted or renewed consent whose validity
    /// (`valid_for`) has ended by now, so the ledger shows when each consent stopped, not only
    /// the decisions. Decisions already treat such consent as absent (reason
    /// `consent_expired`); this records it. Idempotent: an expired consent's projection says
    /// `expired`, so a rerun (or a sweep on another node) finds nothing more to do.
    pub async fn expire_consents(&self, who: &Principal) -> VaultResult<ExpirySweep> {
        self.require(who, Permission::SubjectsWrite)?;
        let now = self.now();
        let mut done = ExpirySweep::default();
        loop {
            let rows = self
                .store
                .expired_consents(self.tenant, now, EXPIRY_PAGE)
                .await
                .map_err(VaultError::store("consent"))?;
            if rows.is_empty() {
                return Ok(done);
            }
            let mut by_subject: std::collections::BTreeMap<Uuid, Vec<ConsentStateRow>> =
                std::collections::BTreeMap::new();
            for r in rows {
                by_subject.entry(r.subject_id).or_default().push(r);
            }
            let mut progressed = false;
            for (subject, rows) in by_subject {
                let events: Vec<NewConsentEvent> = rows
                    .iter()
                    .map(|r| NewConsentEvent {
                        tenant_id: self.tenant,
                        id: new_id(),
                        subject_id: subject,
                        scope: r.scope.clone(),
                        channel: r.channel.clone(),
                        action: ConsentAction::Expired.as_str().to_owned(),
                        // When the validity ended, which is what the proof is about.
                        at: r.expires_at.unwrap_or(now),
                        expires_at: None,
                        policy_hash: self.policy().content_hash.clone(),
                        // No text was shown: the hash of nothing.
                        notice_hash: hex(&Sha256::digest(b"")),
                        collection_point: "vern:expiry-sweep".to_owned(),
                        method: "expiry".to_owned(),
                        ip_truncated: None,
                        user_agent: None,
                        idempotency_key: None,
                        actor: who.actor.to_string(),
                    })
                    .collect();
                let scopes: Vec<&str> = rows.iter().map(|r| r.scope.as_str()).collect();
                let audit = vec![self.audit(
                    who,
                    "consent.expired",
                    Some(subject),
                    None,
                    json!({ "scopes": scopes }),
                )];
                let n = events.len() as u64;
                let stored = self.store.append_consent(events, audit).await;
                self.cache.evict_subject(subject);
                match stored {
                    Ok(_) => {
                        done.expired += n;
                        done.subjects += 1;
                        progressed = true;
                    }
                    // Erased meanwhile: its projection went with it.
                    Err(vern_store::StoreError::NotFound) => {}
                    Err(e) => return Err(VaultError::store("consent")(e)),
                }
            }
            if !progressed {
                return Ok(done);
            }
        }
    }
}
