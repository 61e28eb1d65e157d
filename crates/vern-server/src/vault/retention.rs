//! Retention in the vault: every record write is placed on the retention calendar
//! (`expires_at`, `retention_rule`), legal holds, a subject's retention status, the preview
//! with its forecast, and the sweep.
//!
//! The sweep reads the expired range of the `(tenant_id, expires_at)` index page by page, so
//! with nothing expired it costs one index probe. Held records are skipped (their expiry is
//! kept, so a release lets the next sweep act). Each batch is one store transaction: the
//! records still expired are deleted, evidence for exactly those is written, subjects left
//! without records are erased and queued for key shredding, and one audit entry summarises the
//! batch in the hash chain. Keys are shredded after the commit; a crash in between leaves the
//! queue row and the next sweep shreds the key. A crashed sweep simply runs again: what it
//! deleted is gone, and what it did not is still expired.
//!
//! Rules with `action = "anonymise"` anonymise: the record row (its value, sealed under the
//! subject key) is deleted as for `delete`, and the record is counted in `anonymised_counts`
//! by rule, category, purposes, source and month of collection, which names no one; the
//! evidence says `anonymise` (docs/decisions/0009).

use std::collections::{BTreeMap, BTreeSet, HashMap};

use serde_json::json;
use time::OffsetDateTime;
use uuid::Uuid;
use vern_core::access::Permission;
use vern_core::ids::{new_id, to_micros};
use vern_core::retention::{Action, Basis, ClassFormula, ConsentFact, OwnAnchor, RecordFacts};
use vern_policy::category_covers;
use vern_policy::duration::Unit;
use vern_policy::model::TriggerKind;
use vern_store::consent::{ConsentStateRow, ConsentStore};
use vern_store::{
    CalendarPage, ClassAnchor, ClassRule, ClassUnit, ExpiryClass, ExpiryUpdate, LegalHoldRow,
    RecordRow, RetentionStore, Store, SweepItem,
};

use super::{
    HoldInput, HoldView, Principal, RecordInput, RecordRetention, RetentionPreview, RuleCount,
    SubjectRetention, SweepReport, Vault, VaultError, VaultResult, time_of,
};
use crate::error::FieldError;

/// Records per sweep batch (one transaction each).
pub const SWEEP_BATCH: u32 = 5000;

/// Expired ids a sweep without holds reads at a time (16 bytes each), to sort and delete.
pub const SWEEP_SCAN: u32 = 200_000;

/// Scans in a row a sweep repeats when it deleted nothing of what had expired.
const MAX_IDLE_ROUNDS: u32 = 10;

/// Records per page when recomputing every expiry.
pub const RECOMPUTE_PAGE: u32 = 10_000;

fn basis_name(b: Basis) -> &'static str {
    match b {
        Basis::Rule => "rule",
        Basis::ErasureException => "erasure_exception",
        Basis::AwaitingEvent => "awaiting_event",
        Basis::NoRule => "no_rule",
    }
}

/// Whether an active hold covers a record of `subject` in `category`.
pub(super) fn held(holds: &[LegalHoldRow], subject: Uuid, category: &str) -> bool {
    holds.iter().any(|h| {
        h.subject_id.is_none_or(|s| s == subject)
            && (h.categories.is_empty()
                || h.categories.iter().any(|c| category_covers(c, category)))
    })
}

/// One fact per consent scope from the projection rows (see [`Vault::consents_of`]).
pub(crate) fn consent_facts(rows: &[ConsentStateRow]) -> Vec<ConsentFact> {
    let mut by_scope: BTreeMap<&str, Vec<&ConsentStateRow>> = BTreeMap::new();
    for r in rows {
        by_scope.entry(r.scope.as_str()).or_default().push(r);
    }
    let mut facts = Vec::with_capacity(by_scope.len());
    for (scope, rows) in by_scope {
        let standing: Vec<&&ConsentStateRow> = rows
            .iter()
            .filter(|r| matches!(r.action.as_str(), "granted" | "renewed"))
            .collect();
        let fact = if let Some(latest) = standing.iter().map(|r| r.at).max() {
            let expires_at = if standing.iter().any(|r| r.expires_at.is_none()) {
                None
            } else {
                standing.iter().filter_map(|r| r.expires_at).max()
            };
            ConsentFact {
                scope: scope.to_owned(),
                granted_at: time_of(latest),
                withdrawn_at: None,
                expires_at: expires_at.map(time_of),
            }
        } else {
            let Some(ended) = rows.iter().map(|r| r.at).max() else {
                continue;
            };
            ConsentFact {
                scope: scope.to_owned(),
                granted_at: time_of(ended),
                withdrawn_at: Some(time_of(ended)),
                expires_at: None,
            }
        };
        facts.push(fact);
    }
    facts
}

/// The store's form of a class formula (years as 12 months each, as `add_to` counts them).
pub(crate) fn expiry_class(
    category: String,
    purposes_json: String,
    formula: &ClassFormula,
) -> ExpiryClass {
    ExpiryClass {
        category,
        purposes_json,
        purposes: formula
            .purposes
            .iter()
            .map(|candidates| {
                candidates
                    .iter()
                    .map(|c| {
                        let (amount, unit) = match c.duration.unit {
                            Unit::Days => (c.duration.amount, ClassUnit::Days),
                            Unit::Months => (c.duration.amount, ClassUnit::Months),
                            Unit::Years => (c.duration.amount * 12, ClassUnit::Months),
                        };
                        ClassRule {
                            rule: c.rule.clone(),
                            anchor: match c.anchor {
                                OwnAnchor::Collected => ClassAnchor::Collected,
                                OwnAnchor::LastActivity => ClassAnchor::LastActivity,
                            },
                            amount,
                            unit,
                        }
                    })
                    .collect()
            })
            .collect(),
    }
}

fn hold_view(h: LegalHoldRow) -> HoldView {
    HoldView {
        id: h.id,
        subject_id: h.subject_id,
        matter: h.matter,
        categories: h.categories,
        reason: h.reason,
        review_at: time_of(h.review_at),
        approved_by: h.approved_by,
        created_by: h.created_by,
        created_at: time_of(h.created_at),
        released_at: h.released_at.map(time_of),
        released_by: h.released_by,
        release_reason: h.release_reason,
    }
}

impl Vault {
    /// The subject's consents as retention sees them, one fact per scope from the current
    /// consent projection: a scope stands while any of its channels stands (its latest grant
    /// or renewal, and the latest of their expiries); otherwise it ended at its latest
    /// withdrawal or recorded expiry.
    pub(crate) async fn consents_of(&self, subject: Uuid) -> VaultResult<Vec<ConsentFact>> {
        let rows = self
            .store
            .consent_state(self.tenant, subject)
            .await
            .map_err(VaultError::store("subject"))?;
        Ok(consent_facts(&rows))
    }

    /// Evaluates a record's expiry from its facts and stores it on the row.
    pub(crate) fn place_on_calendar(
        &self,
        row: &mut RecordRow,
        subject_type: &str,
        jurisdiction: Option<&str>,
        consents: &[ConsentFact],
    ) {
        let events: BTreeMap<String, OffsetDateTime> = row
            .event_times
            .iter()
            .map(|(k, v)| (k.clone(), time_of(*v)))
            .collect();
        let facts = RecordFacts {
            category: &row.category,
            purposes: &row.purposes,
            subject_type,
            jurisdiction,
            collected_at: time_of(row.collected_at),
            last_activity_at: row.last_activity_at.map(time_of),
            event_times: &events,
        };
        let expiry = self.retention_plan().evaluate(&facts, consents);
        row.expires_at = expiry.expires_at.map(to_micros);
        row.retention_rule = expiry.rule;
    }

    /// Called after a consent change of `subject` has committed (grant, withdrawal, renewal,
    /// recorded expiry): the subject's records move on the retention calendar. A consent's
    /// own expiry needs no call: it is known at the grant and bounds the override from then.
    /// A scope no retention rule reads (`RetentionPlan::reads_consent`) moves nothing, so the
    /// records are not read at all: most consent writes (marketing by email) cost no extra
    /// queries.
    pub(crate) async fn consent_changed(&self, subject: Uuid, scope: &str) -> VaultResult<()> {
        if !self.retention_plan().reads_consent(scope) {
            return Ok(());
        }
        let row = self.subject_row(subject).await?;
        self.recompute_subject_expiries(&row).await
    }

    /// Event times must name event triggers of the policy that the record's category can carry.
    pub(crate) fn check_event_times(
        &self,
        prefix: &str,
        r: &RecordInput,
    ) -> Result<(), FieldError> {
        let policy = self.policy();
        for name in r.event_times.keys() {
            let field = super::records::join(prefix, &format!("event_times.{name}"));
            let Some(trigger) = policy.trigger(name) else {
                return Err(FieldError::new(
                    field,
                    "unknown_event",
                    "the policy declares no trigger with this id",
                ));
            };
            let fits = *trigger.kind.get_ref() == TriggerKind::Event
                && (trigger.categories.is_empty()
                    || trigger
                        .categories
                        .iter()
                        .any(|c| category_covers(c.get_ref(), &r.category)));
            if !fits {
                return Err(FieldError::new(
                    field,
                    "event_not_allowed",
                    "this trigger is not a dated event of the record's category",
                ));
            }
        }
        Ok(())
    }

    pub(super) async fn active_holds(&self) -> VaultResult<Vec<LegalHoldRow>> {
        self.store
            .list_holds(self.tenant, false)
            .await
            .map_err(VaultError::store("legal hold"))
    }

    /// Places a legal hold (`subjects.erase`: who may erase may suspend erasure).
    pub async fn create_hold(&self, who: &Principal, input: &HoldInput) -> VaultResult<HoldView> {
        self.require(who, Permission::SubjectsErase)?;
        let mut errors = Vec::new();
        let text = |field: &str, v: &str, max: usize, errors: &mut Vec<FieldError>| {
            if v.trim().is_empty() || v.chars().count() > max {
                errors.push(FieldError::new(
                    field,
                    "invalid_length",
                    format!("must be 1 to {max} characters"),
                ));
            }
        };
        text("reason", &input.reason, 500, &mut errors);
        text("approved_by", &input.approved_by, 200, &mut errors);
        match (&input.subject_id, &input.matter) {
            (None, None) => errors.push(FieldError::new(
                "matter",
                "hold_scope_missing",
                "a hold names a subject, or a matter for a hold over every subject",
            )),
            (_, Some(m)) => text("matter", m, 200, &mut errors),
            _ => {}
        }
        for (i, c) in input.categories.iter().enumerate() {
            let known = self
                .policy()
                .raw
                .categories
                .iter()
                .any(|k| category_covers(c, k.id.get_ref()));
            if !known {
                errors.push(FieldError::new(
                    format!("categories[{i}]"),
                    "unknown_category",
                    "the policy declares no category with this id",
                ));
            }
        }
        if to_micros(input.review_at) <= self.now() {
            errors.push(FieldError::new(
                "review_at",
                "not_in_future",
                "the review date must be in the future",
            ));
        }
        if !errors.is_empty() {
            return Err(VaultError::Validation(errors));
        }
        if let Some(s) = input.subject_id {
            self.subject_row(s).await?;
        }
        let now = self.now();
        let row = LegalHoldRow {
            tenant_id: self.tenant,
            id: new_id(),
            subject_id: input.subject_id,
            matter: input.matter.clone(),
            categories: input.categories.clone(),
            reason: input.reason.clone(),
            review_at: to_micros(input.review_at),
            approved_by: input.approved_by.clone(),
            created_by: who.actor.to_string(),
            created_at: now,
            released_at: None,
            released_by: None,
            release_reason: None,
        };
        // The reason is free text an operator writes: kept on the hold, not copied to audit.
        let audit = vec![self.audit(
            who,
            "legal_hold.create",
            input.subject_id,
            None,
            json!({ "hold": row.id, "categories": row.categories, "matter_wide": row.subject_id.is_none() }),
        )];
        self.store
            .create_hold(row.clone(), audit)
            .await
            .map_err(VaultError::store("legal hold"))?;
        Ok(hold_view(row))
    }

    pub async fn list_holds(
        &self,
        who: &Principal,
        include_released: bool,
    ) -> VaultResult<Vec<HoldView>> {
        self.require(who, Permission::SubjectsErase)?;
        let rows = self
            .store
            .list_holds(self.tenant, include_released)
            .await
            .map_err(VaultError::store("legal hold"))?;
        Ok(rows.into_iter().map(hold_view).collect())
    }

    /// Releases a hold; the next sweep deletes what it no longer protects.
    pub async fn release_hold(
        &self,
        who: &Principal,
        id: Uuid,
        reason: &str,
    ) -> VaultResult<HoldView> {
        self.require(who, Permission::SubjectsErase)?;
        if reason.trim().is_empty() || reason.chars().count() > 500 {
            return Err(VaultError::field(
                "reason",
                "invalid_length",
                "must be 1 to 500 characters",
            ));
        }
        let hold = self
            .store
            .get_hold(self.tenant, id)
            .await
            .map_err(VaultError::store("legal hold"))?;
        let audit = vec![self.audit(
            who,
            "legal_hold.release",
            hold.subject_id,
            None,
            json!({ "hold": id }),
        )];
        let by = who.actor.to_string();
        self.store
            .release_hold(self.tenant, id, self.now(), &by, reason, audit)
            .await
            .map_err(|e| match e {
                vern_store::StoreError::NotFound => {
                    VaultError::Conflict("the hold is already released".into())
                }
                other => VaultError::store("legal hold")(other),
            })?;
        let released = self
            .store
            .get_hold(self.tenant, id)
            .await
            .map_err(VaultError::store("legal hold"))?;
        Ok(hold_view(released))
    }

    /// Each record's expiry and the rule behind it (metadata only: nothing is decrypted).
    pub async fn retention_status(
        &self,
        who: &Principal,
        subject: Uuid,
    ) -> VaultResult<SubjectRetention> {
        self.require(who, Permission::SubjectsRead)?;
        let srow = self.subject_row(subject).await?;
        let rows = self
            .store
            .list_records(self.tenant, subject)
            .await
            .map_err(VaultError::store("subject"))?;
        let holds: Vec<LegalHoldRow> = self
            .active_holds()
            .await?
            .into_iter()
            .filter(|h| h.subject_id.is_none_or(|s| s == subject))
            .collect();
        let consents = self.consents_of(subject).await?;
        let records = rows
            .iter()
            .map(|r| {
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
                let basis = self.retention_plan().evaluate(&facts, &consents).basis;
                RecordRetention {
                    record_id: r.id,
                    category: r.category.clone(),
                    expires_at: r.expires_at.map(time_of),
                    rule: r.retention_rule.clone(),
                    basis: basis_name(basis).to_owned(),
                    held: held(&holds, subject, &r.category),
                }
            })
            .collect();
        self.append_audit(vec![self.audit(
            who,
            "retention.status",
            Some(subject),
            None,
            json!({ "records": rows.len() }),
        )])
        .await?;
        Ok(SubjectRetention {
            subject_id: subject,
            holds: holds.iter().map(|h| h.id).collect(),
            records,
        })
    }

    /// A dry run at `as_of` (now if absent): what would go by rule and category, what is
    /// held, and month by month what expires in the next 24 months.
    pub async fn retention_preview(
        &self,
        who: &Principal,
        as_of: Option<OffsetDateTime>,
    ) -> VaultResult<RetentionPreview> {
        self.require(who, Permission::AuditRead)?;
        let as_of = as_of.unwrap_or_else(|| self.clock.now());
        let now = to_micros(as_of);
        let holds = self.active_holds().await?;
        let mut counts: BTreeMap<(String, String), u64> = BTreeMap::new();
        let (mut would, mut held_n) = (0u64, 0u64);
        let mut after = None;
        loop {
            let page = self
                .store
                .expired_records(self.tenant, now, after, SWEEP_BATCH)
                .await
                .map_err(VaultError::store("record"))?;
            let Some(last) = page.last() else { break };
            after = Some((last.expires_at, last.id));
            for r in &page {
                if held(&holds, r.subject_id, &r.category) {
                    held_n += 1;
                } else {
                    would += 1;
                    let rule = r.retention_rule.clone().unwrap_or_default();
                    *counts.entry((rule, r.category.clone())).or_default() += 1;
                }
            }
        }
        let forecast = super::retention_forecast::forecast(self, as_of).await?;
        Ok(RetentionPreview {
            as_of,
            would_delete: would,
            held: held_n,
            by_rule: counts
                .into_iter()
                .map(|((rule, category), count)| RuleCount {
                    rule,
                    category,
                    count,
                })
                .collect(),
            forecast,
        })
    }

    /// Runs a sweep at `as_of` (now if absent), calling `progress` after each batch.
    pub async fn retention_run(
        &self,
        who: &Principal,
        as_of: Option<OffsetDateTime>,
        mut progress: impl FnMut(&SweepReport) + Send,
    ) -> VaultResult<SweepReport> {
        self.require(who, Permission::SubjectsErase)?;
        let as_of = as_of.unwrap_or_else(|| self.clock.now());
        let now = to_micros(as_of);
        let mut report = SweepReport {
            as_of: Some(as_of),
            ..SweepReport::default()
        };
        // Finish the key shredding of an interrupted sweep first.
        report.keys_shredded += self.shred_pending().await?;
        let holds = self.active_holds().await?;
        if holds.is_empty() {
            self.sweep_unheld(who, now, &mut report, &mut progress)
                .await?;
        } else {
            self.sweep_held(who, now, &holds, &mut report, &mut progress)
                .await?;
        }
        report.keys_shredded += self.shred_pending().await?;
        progress(&report);
        Ok(report)
    }

    /// The sweep while a legal hold is active: the expired range page by page in expiry order,
    /// held records left out before each batch is deleted.
    async fn sweep_held(
        &self,
        who: &Principal,
        now: i64,
        holds: &[LegalHoldRow],
        report: &mut SweepReport,
        progress: &mut (impl FnMut(&SweepReport) + Send),
    ) -> VaultResult<()> {
        let mut after = None;
        loop {
            let page = self
                .store
                .expired_records(self.tenant, now, after, SWEEP_BATCH)
                .await
                .map_err(VaultError::store("record"))?;
            let Some(last) = page.last() else { break };
            after = Some((last.expires_at, last.id));
            let mut items = Vec::with_capacity(page.len());
            let mut rules: BTreeMap<&str, u64> = BTreeMap::new();
            for r in &page {
                if held(holds, r.subject_id, &r.category) {
                    report.held += 1;
                    continue;
                }
                let rule = r.retention_rule.as_deref().unwrap_or("");
                *rules.entry(rule).or_default() += 1;
                items.push(SweepItem {
                    subject_id: r.subject_id,
                    id: r.id,
                    category: r.category.clone(),
                    rule: rule.to_owned(),
                    action: self.retention_plan().action_of(rule).as_str().to_owned(),
                });
            }
            let audit = vec![self.audit(
                who,
                "retention.sweep",
                None,
                None,
                json!({ "as_of": now, "records": items.len(), "rules": rules }),
            )];
            let out = self
                .store
                .sweep_batch(self.tenant, now, items, audit)
                .await
                .map_err(VaultError::store("record"))?;
            report.deleted += out.deleted;
            report.subjects_erased += out.subjects_erased;
            report.evidence_rows += out.evidence_rows;
            report.batches += 1;
            progress(report);
        }
        Ok(())
    }

    /// The sweep with no legal hold active (docs/decisions/0027): the expired ids are read
    /// from the expiry index, up to [`SWEEP_SCAN`] at a time, sorted, and deleted in batches of
    /// [`SWEEP_BATCH`] that each say what they deleted, so no record is read before it goes and
    /// consecutive batches rewrite disjoint parts of the table.
    async fn sweep_unheld(
        &self,
        who: &Principal,
        now: i64,
        report: &mut SweepReport,
        progress: &mut (impl FnMut(&SweepReport) + Send),
    ) -> VaultResult<()> {
        let anonymise: BTreeSet<String> = self
            .retention_plan()
            .rules_with(Action::Anonymise)
            .map(str::to_owned)
            .collect();
        // A scan whose records were all gone or moved by the time they were deleted lost them
        // to another sweeper or to new activity: scan again, a bounded number of times (the
        // next scheduled sweep resumes whatever is left).
        let mut idle_rounds = 0;
        loop {
            let mut ids = self
                .store
                .expired_ids(self.tenant, now, SWEEP_SCAN)
                .await
                .map_err(VaultError::store("record"))?;
            if ids.is_empty() {
                return Ok(());
            }
            ids.sort_unstable();
            let mut deleted = 0;
            for batch in ids.chunks(SWEEP_BATCH as usize) {
                let out = self
                    .store
                    .sweep_ids(self.tenant, now, batch, &anonymise, |records, rules| {
                        vec![self.audit(
                            who,
                            "retention.sweep",
                            None,
                            None,
                            json!({ "as_of": now, "records": records, "rules": rules }),
                        )]
                    })
                    .await
                    .map_err(VaultError::store("record"))?;
                if out.deleted == 0 {
                    continue;
                }
                deleted += out.deleted;
                report.deleted += out.deleted;
                report.subjects_erased += out.subjects_erased;
                report.evidence_rows += out.evidence_rows;
                report.batches += 1;
                progress(report);
            }
            if deleted == 0 {
                idle_rounds += 1;
                if idle_rounds > MAX_IDLE_ROUNDS {
                    return Ok(());
                }
                tokio::task::yield_now().await;
            } else {
                idle_rounds = 0;
            }
        }
    }

    async fn shred_pending(&self) -> VaultResult<u64> {
        let mut total = 0;
        loop {
            let n = self
                .store
                .shred_pending_keys(1000)
                .await
                .map_err(VaultError::store("subject key"))?;
            if n == 0 {
                return Ok(total);
            }
            total += n;
        }
    }

    /// Recomputes the expiries of one subject's records (its type or jurisdiction changed).
    pub(crate) async fn recompute_subject_expiries(
        &self,
        subject: &vern_store::SubjectRow,
    ) -> VaultResult<()> {
        let rows = self
            .store
            .list_records(self.tenant, subject.id)
            .await
            .map_err(VaultError::store("subject"))?;
        let consents = self.consents_of(subject.id).await?;
        let mut updates = Vec::new();
        for mut r in rows {
            let before = (r.expires_at, r.retention_rule.clone());
            self.place_on_calendar(
                &mut r,
                &subject.subject_type,
                subject.jurisdiction.as_deref(),
                &consents,
            );
            if before != (r.expires_at, r.retention_rule.clone()) {
                updates.push((subject.id, r.id, r.expires_at, r.retention_rule));
            }
        }
        if updates.is_empty() {
            return Ok(());
        }
        self.store
            .set_expiries(self.tenant, updates)
            .await
            .map_err(VaultError::store("record"))
    }

    /// Recomputes every record's expiry (after a policy change); returns how many changed.
    ///
    /// Two paths (docs/decisions/0020). Record classes (category, stored purposes) whose expiry
    /// is a formula of the record's own columns ([`RetentionPlan::class_formula`]) are
    /// recomputed inside the database, one set-based `UPDATE` per class that writes only the
    /// rows that change. Every other record (consent overrides, erasure exceptions, event and
    /// fiscal-year triggers, anchors outside the SQL calendar range) is read in pages of
    /// [`RECOMPUTE_PAGE`] in id order with its subject's type and jurisdiction and the
    /// consents of the page's subjects, evaluated in memory, and the changed expiries written
    /// back with bulk updates; the next page is read while the previous one is written.
    ///
    /// [`RetentionPlan::class_formula`]: vern_core::retention::RetentionPlan::class_formula
    pub async fn recompute_expiries(&self, who: &Principal) -> VaultResult<u64> {
        self.require(who, Permission::SubjectsErase)?;
        self.recompute_all(|_| {}).await
    }

    /// The classes of the tenant's records whose expiry the database can compute exactly,
    /// each with its share of the tenant's records.
    async fn sql_classes(&self) -> VaultResult<Vec<(ExpiryClass, f64)>> {
        let classes = self
            .store
            .record_classes(self.tenant)
            .await
            .map_err(VaultError::store("record"))?;
        let plan = self.retention_plan();
        let total = classes.iter().map(|(_, _, n)| *n).sum::<u64>().max(1) as f64;
        let mut out = Vec::new();
        for (category, purposes_json, n) in classes {
            // Unparseable purposes stay on the application path, which reports them.
            let Ok(purposes) = serde_json::from_str::<Vec<String>>(&purposes_json) else {
                continue;
            };
            if let Some(formula) = plan.class_formula(&category, &purposes) {
                out.push((
                    expiry_class(category, purposes_json, &formula),
                    n as f64 / total,
                ));
            }
        }
        Ok(out)
    }

    /// [`Vault::recompute_expiries`] without the permission check, reporting progress (classes
    /// recomputed in the database count their changed records; pages count records seen).
    pub(crate) async fn recompute_all(
        &self,
        mut progress: impl FnMut(u64) + Send,
    ) -> VaultResult<u64> {
        let mut changed = 0u64;
        let classes = self.sql_classes().await?;
        for (class, share) in &classes {
            changed += self
                .store
                .apply_expiry_class(self.tenant, class, *share)
                .await
                .map_err(VaultError::store("record"))?;
            progress(changed);
        }
        let except: Vec<(String, String)> = classes
            .into_iter()
            .map(|(c, _)| (c.category, c.purposes_json))
            .collect();
        let mut seen = changed;
        let mut purposes: HashMap<String, Vec<String>> = HashMap::new();
        let mut page = self
            .store
            .calendar_page(self.tenant, None, RECOMPUTE_PAGE, &except)
            .await
            .map_err(VaultError::store("record"))?;
        while let Some(last) = page.records.last().map(|r| r.id) {
            seen += page.records.len() as u64;
            let updates = self.recompute_page(&page, &mut purposes)?;
            changed += updates.len() as u64;
            // Read the next page while this one's updates are written.
            let (next, written) = tokio::join!(
                self.store
                    .calendar_page(self.tenant, Some(last), RECOMPUTE_PAGE, &except),
                self.store.set_expiries_bulk(self.tenant, updates)
            );
            written.map_err(VaultError::store("record"))?;
            page = next.map_err(VaultError::store("record"))?;
            progress(seen);
        }
        Ok(changed)
    }

    /// The changed expiries of one page: `(record, expires_at, rule)`.
    fn recompute_page(
        &self,
        page: &CalendarPage,
        purposes: &mut HashMap<String, Vec<String>>,
    ) -> VaultResult<Vec<ExpiryUpdate>> {
        let mut by_subject: HashMap<Uuid, Vec<ConsentStateRow>> = HashMap::new();
        for c in &page.consents {
            by_subject.entry(c.subject_id).or_default().push(c.clone());
        }
        let facts_of: HashMap<Uuid, Vec<ConsentFact>> = by_subject
            .into_iter()
            .map(|(s, rows)| (s, consent_facts(&rows)))
            .collect();
        let no_events = BTreeMap::new();
        let mut updates = Vec::new();
        for r in &page.records {
            if !purposes.contains_key(&r.purposes_json) {
                let parsed: Vec<String> = serde_json::from_str(&r.purposes_json)
                    .map_err(|_| VaultError::Internal(format!("record {} purposes", r.id)))?;
                purposes.insert(r.purposes_json.clone(), parsed);
            }
            let record_purposes = purposes
                .get(&r.purposes_json)
                .map_or(&[][..], Vec::as_slice);
            let parsed_events: BTreeMap<String, OffsetDateTime>;
            let events = match &r.event_times_json {
                None => &no_events,
                Some(text) => {
                    let raw: BTreeMap<String, i64> = serde_json::from_str(text).map_err(|_| {
                        VaultError::Internal(format!("record {} event times", r.id))
                    })?;
                    parsed_events = raw.into_iter().map(|(k, v)| (k, time_of(v))).collect();
                    &parsed_events
                }
            };
            let facts = RecordFacts {
                category: &r.category,
                purposes: record_purposes,
                subject_type: &r.subject_type,
                jurisdiction: r.jurisdiction.as_deref(),
                collected_at: time_of(r.collected_at),
                last_activity_at: r.last_activity_at.map(time_of),
                event_times: events,
            };
            let consents = facts_of.get(&r.subject_id).map_or(&[][..], Vec::as_slice);
            let expiry = self.retention_plan().evaluate(&facts, consents);
            let at = expiry.expires_at.map(to_micros);
            if at != r.expires_at || expiry.rule != r.retention_rule {
                updates.push((r.id, at, expiry.rule));
            }
        }
        Ok(updates)
    }
}
