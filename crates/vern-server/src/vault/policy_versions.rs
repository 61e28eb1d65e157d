//! Policy versions: which policy is in force at a given time, publishing a new one (validate,
//! diff, classify, schedule), and the fan-out of change notices through the job runner.
//!
//! Every version is stored with its text; the vault keeps them all parsed, each with its
//! compiled retention plan, and answers every request with the version whose effective time
//! is the latest not after the request's time (the vault's clock: time is a parameter). Nodes
//! pick up versions published elsewhere on `refresh_policies` (the job runner calls it every
//! poll); a material version is published at least `changes.notice_days` ahead, so every node
//! knows it long before it takes effect.
//!
//! Publishing runs the policy diff against the latest version. Material changes need an
//! effective date at least the notice period ahead; in one transaction the store then keeps the
//! version, marks the consents it widens as needing renewal from the effective date, and
//! queues the `policy.notices` job. The job writes one notice per affected subject (subject
//! types from [`vern_policy::diff::audience`]) a page at a time; each page is one transaction
//! that also moves the job's cursor, and the notice key (version, subject) makes a page that
//! is written twice (a crash between the commit and the cursor read) a no-op.

use std::sync::Arc;

use serde_json::json;
use time::OffsetDateTime;
use uuid::Uuid;
use vern_core::crypto::{Aad, SubjectKey, open};
use vern_core::ids::{new_id, to_micros};
use vern_core::retention::RetentionPlan;
use vern_policy::Policy;
use vern_policy::diff::{ChangeClass, audience, diff};
use vern_store::jobs::state;
use vern_store::{
    JobRow, NoticeRow, PolicyVersionRow, PolicyVersionStore, RenewalMark, SqlStore, StoreError,
    SubprocessorAnnouncement,
};

use super::{
    NoticeCountsView, PolicyChangeView, PolicyPublishInput, PolicyVersionView, Principal,
    PublicNoticeView, Vault, VaultError, VaultResult, time_of,
};

/// The job that queues a version's change notices.
pub const KIND_POLICY_NOTICES: &str = "policy.notices";
/// Subjects per fan-out page (one transaction each).
pub const NOTICE_BATCH: u32 = 5_000;
const DAY_MICROS: i64 = 86_400_000_000;
/// The notice period when a policy names none (it always does: the field is required).
pub const DEFAULT_NOTICE_DAYS: i64 = 30;

/// One version, parsed, with what the server needs of it.
#[derive(Debug, Clone)]
pub struct ActiveVersion {
    pub row: PolicyVersionRow,
    pub policy: Arc<Policy>,
    pub retention: Arc<RetentionPlan>,
}

/// Every version, ordered by effective time then publication time.
#[derive(Debug, Clone, Default)]
pub struct PolicySet {
    pub versions: Vec<ActiveVersion>,
}

impl PolicySet {
    /// The version in force at `at`: the last one whose effective time is not after it. Before
    /// the first version (never, as the first is effective from the epoch), the first.
    pub fn at(&self, at: i64) -> Option<&ActiveVersion> {
        self.versions
            .iter()
            .rev()
            .find(|v| v.row.effective_at <= at)
            .or_else(|| self.versions.first())
    }

    /// The version published last in effect order: what a new version replaces.
    pub fn latest(&self) -> Option<&ActiveVersion> {
        self.versions.last()
    }

    fn find(&self, id: Uuid) -> Option<&ActiveVersion> {
        self.versions.iter().find(|v| v.row.id == id)
    }
}

fn internal(e: impl std::fmt::Display) -> VaultError {
    VaultError::Internal(e.to_string())
}

fn activate(row: PolicyVersionRow) -> VaultResult<ActiveVersion> {
    let (policy, _) = Policy::parse(&row.source).map_err(|_| {
        VaultError::Internal(format!("stored policy version {} no longer parses", row.id))
    })?;
    let retention = RetentionPlan::new(&policy).map_err(internal)?;
    Ok(ActiveVersion {
        row,
        policy: Arc::new(policy),
        retention: Arc::new(retention),
    })
}

async fn load(store: &SqlStore, tenant: Uuid) -> VaultResult<PolicySet> {
    load_reusing(store, tenant, &PolicySet::default()).await
}

/// Loads the stored versions, reusing the parsed policies of `known` (versions never change
/// once stored), so a refresh only parses what is new.
async fn load_reusing(store: &SqlStore, tenant: Uuid, known: &PolicySet) -> VaultResult<PolicySet> {
    let rows = store
        .policy_versions(tenant)
        .await
        .map_err(VaultError::store("policy version"))?;
    let versions = rows
        .into_iter()
        .map(|row| match known.find(row.id) {
            Some(v) => Ok(v.clone()),
            None => activate(row),
        })
        .collect::<VaultResult<_>>()?;
    Ok(PolicySet { versions })
}

fn json_list<'a>(items: impl IntoIterator<Item = &'a str>) -> String {
    serde_json::to_string(&items.into_iter().collect::<Vec<_>>()).unwrap_or_else(|_| "[]".into())
}

fn parse_list(text: &str) -> Vec<String> {
    serde_json::from_str(text).unwrap_or_default()
}

/// Loads the stored versions; the policy the server was started with becomes a version if
/// no stored version has its text: the first one in force since the epoch, a later one (an
/// operator edited the file and restarted) from now, with the diff recorded but no notices:
/// `vern policy publish` is the way to announce a material change.
/// The version the vault was opened with, for the (unreachable) case of an empty set.
pub(super) fn fallback(set: &PolicySet) -> VaultResult<Arc<ActiveVersion>> {
    set.versions
        .last()
        .cloned()
        .map(Arc::new)
        .ok_or_else(|| VaultError::Internal("no policy version is loaded".into()))
}

pub(super) async fn load_or_record(
    store: &SqlStore,
    tenant: Uuid,
    given: Arc<Policy>,
    now: i64,
    record: bool,
) -> VaultResult<PolicySet> {
    let mut set = load(store, tenant).await?;
    if set
        .versions
        .iter()
        .any(|v| v.row.content_hash == given.content_hash)
        || (!record && !set.versions.is_empty())
    {
        return Ok(set);
    }
    let (class, changes, effective_at) = match set.at(now) {
        None => ("initial".to_owned(), "[]".to_owned(), 0),
        Some(current) => {
            let d = diff(&current.policy, &given);
            let class = d.class().map_or("unchanged".to_owned(), |c| c.to_string());
            if d.class() == Some(ChangeClass::Material) {
                tracing::warn!(
                    "the configured policy has material changes against the stored version in force and takes effect now without advance notice; use `vern policy publish` to announce changes"
                );
            }
            (class, change_json(&d), now)
        }
    };
    let row = PolicyVersionRow {
        tenant_id: tenant,
        id: new_id(),
        content_hash: given.content_hash.clone(),
        source: given.source.to_string(),
        published_at: now,
        effective_at,
        class,
        changes,
        renewal_scopes: "[]".into(),
        notice_types: "[]".into(),
        published_by: "startup".into(),
    };
    store
        .publish_policy_version(
            row.clone(),
            None,
            None,
            SubprocessorAnnouncement::default(),
            Vec::new(),
        )
        .await
        .map_err(VaultError::store("policy version"))?;
    let retention = RetentionPlan::new(&given).map_err(internal)?;
    set.versions.push(ActiveVersion {
        row,
        policy: given,
        retention: Arc::new(retention),
    });
    set.versions
        .sort_by_key(|v| (v.row.effective_at, v.row.published_at));
    Ok(set)
}

fn change_json(d: &vern_policy::diff::PolicyDiff) -> String {
    serde_json::to_string(&d.changes).unwrap_or_else(|_| "[]".into())
}

fn changes_of(row: &PolicyVersionRow) -> Vec<PolicyChangeView> {
    serde_json::from_str::<Vec<serde_json::Value>>(&row.changes)
        .unwrap_or_default()
        .into_iter()
        .map(|c| PolicyChangeView {
            class: c["class"].as_str().unwrap_or_default().to_owned(),
            path: c["path"].as_str().unwrap_or_default().to_owned(),
            summary: c["summary"].as_str().unwrap_or_default().to_owned(),
        })
        .collect()
}

impl Vault {
    fn snapshot(&self) -> Arc<PolicySet> {
        match self.versions.read() {
            Ok(g) => g.clone(),
            Err(poisoned) => poisoned.into_inner().clone(),
        }
    }

    /// The policy version in force at `at` (Unix µs).
    pub fn policy_at(&self, at: i64) -> Arc<Policy> {
        let set = self.snapshot();
        // `open` always leaves at least one version; the fallback is the policy it was given.
        set.at(at)
            .map_or_else(|| self.fallback.policy.clone(), |v| v.policy.clone())
    }

    /// The retention plan of the version in force now.
    pub(crate) fn retention_plan(&self) -> Arc<RetentionPlan> {
        let set = self.snapshot();
        set.at(self.now())
            .map_or_else(|| self.fallback.retention.clone(), |v| v.retention.clone())
    }

    /// Published versions not yet in force, soonest first, with their effective time.
    pub fn scheduled_policies(&self) -> Vec<(Arc<Policy>, OffsetDateTime)> {
        let now = self.now();
        self.snapshot()
            .versions
            .iter()
            .filter(|v| v.row.effective_at > now)
            .map(|v| (v.policy.clone(), time_of(v.row.effective_at)))
            .collect()
    }

    /// Re-reads the stored versions (another node may have published one).
    pub async fn refresh_policies(&self) -> VaultResult<()> {
        let known = self.snapshot();
        let set = load_reusing(&self.store, self.tenant, &known).await?;
        if set.versions.is_empty() {
            return Ok(());
        }
        match self.versions.write() {
            Ok(mut g) => *g = Arc::new(set),
            Err(poisoned) => *poisoned.into_inner() = Arc::new(set),
        }
        Ok(())
    }

    fn require_admin(&self, who: &Principal, what: &str) -> VaultResult<()> {
        if self.policy().role(&who.role).is_some_and(|r| r.admin) {
            Ok(())
        } else {
            Err(VaultError::Forbidden(format!(
                "the role `{}` may not {what}",
                who.role
            )))
        }
    }

    /// Validates, diffs and schedules a new policy version; see the module docs.
    pub async fn publish_policy(
        &self,
        who: &Principal,
        input: &PolicyPublishInput,
    ) -> VaultResult<PolicyVersionView> {
        self.require_admin(who, "publish policy versions")?;
        let (policy, _warnings) = Policy::parse(&input.source).map_err(|d| {
            VaultError::Validation(
                d.errors()
                    .take(50)
                    .map(|x| {
                        crate::error::FieldError::new(
                            "source",
                            "invalid_policy",
                            x.render("policy", &input.source),
                        )
                    })
                    .collect(),
            )
        })?;
        let now = self.now();
        self.publish_parsed(
            who,
            policy,
            input.effective_at.map(to_micros),
            now,
            "publish",
            new_id(),
            SubprocessorAnnouncement::default(),
        )
        .await
    }

    /// Publishes an already validated policy as version `id` (shared with sub-processor
    /// additions, whose customer notices and their mail, `announce`, commit with it).
    #[allow(clippy::too_many_arguments)]
    pub(crate) async fn publish_parsed(
        &self,
        who: &Principal,
        policy: Policy,
        effective_at: Option<i64>,
        now: i64,
        action: &str,
        id: Uuid,
        announce: SubprocessorAnnouncement,
    ) -> VaultResult<PolicyVersionView> {
        let set = self.snapshot();
        let base = set
            .latest()
            .ok_or_else(|| VaultError::Internal("no policy version is loaded".into()))?;
        let d = diff(&base.policy, &policy);
        let Some(class) = d.class() else {
            return Err(VaultError::Conflict(
                "the policy is identical in meaning to the latest version: nothing to publish"
                    .into(),
            ));
        };
        let notice_days = policy.raw.changes.notice_days.get_ref().max(&0).to_owned();
        let notice_days = if notice_days == 0 {
            DEFAULT_NOTICE_DAYS
        } else {
            notice_days
        };
        let earliest = match class {
            ChangeClass::Material => now.saturating_add(notice_days.saturating_mul(DAY_MICROS)),
            ChangeClass::Editorial => now,
        };
        let effective_at = effective_at.unwrap_or(earliest);
        if effective_at < earliest {
            let field = "effective_at";
            let reason = match class {
                ChangeClass::Material => format!(
                    "material changes take effect at least {notice_days} days after they are announced: the earliest date is {}",
                    time_of(earliest).date()
                ),
                ChangeClass::Editorial => "the effective time must not be in the past".into(),
            };
            return Err(VaultError::field(field, "too_early", reason));
        }
        if effective_at < base.row.effective_at {
            return Err(VaultError::field(
                "effective_at",
                "before_scheduled_version",
                format!(
                    "a version taking effect on {} is already scheduled; a new one cannot take effect before it",
                    time_of(base.row.effective_at).date()
                ),
            ));
        }
        let aud = match class {
            ChangeClass::Material => audience(&base.policy, &policy, &d),
            ChangeClass::Editorial => Default::default(),
        };
        let announce_email = policy
            .raw
            .changes
            .announce_by
            .iter()
            .any(|c| c.get_ref() == "email");
        let row = PolicyVersionRow {
            tenant_id: self.tenant,
            id,
            content_hash: policy.content_hash.clone(),
            source: policy.source.to_string(),
            published_at: now,
            effective_at,
            class: class.to_string(),
            changes: change_json(&d),
            renewal_scopes: json_list(aud.renewal_scopes.iter().map(String::as_str)),
            notice_types: json_list(aud.subject_types.iter().map(String::as_str)),
            published_by: who.actor.to_string(),
        };
        let renewal = (!aud.renewal_scopes.is_empty()).then(|| RenewalMark {
            scopes: aud.renewal_scopes.iter().cloned().collect(),
            before: now.saturating_add(1),
            due_at: effective_at,
        });
        let job = (!aud.subject_types.is_empty()).then(|| JobRow {
            id: new_id(),
            kind: KIND_POLICY_NOTICES.to_owned(),
            payload: json!({ "version_id": id, "email": announce_email }).to_string(),
            state: state::QUEUED.to_owned(),
            run_at: now,
            attempts: 0,
            max_attempts: 10,
            lease_owner: None,
            lease_until: None,
            last_error: None,
            unique_key: Some(format!("{KIND_POLICY_NOTICES}:{id}")),
            created_at: now,
            updated_at: now,
        });
        let audit = self.audit(
            who,
            &format!("policy.{action}"),
            None,
            None,
            json!({
                "version_id": id,
                "content_hash": policy.content_hash,
                "class": class.to_string(),
                "effective_at": effective_at,
                "notice_subject_types": aud.subject_types,
                "renewal_scopes": aud.renewal_scopes,
            }),
        );
        self.store
            .publish_policy_version(row, renewal.clone(), job, announce, vec![audit])
            .await
            .map_err(VaultError::store("policy version"))?;
        if renewal.is_some() {
            // The renewal marks touched consents of any number of subjects: this node's
            // decision cache forgets them all now (others follow their change-log poll).
            self.cache.clear();
        }
        self.refresh_policies().await?;
        self.version_view(id).await
    }

    async fn version_view(&self, id: Uuid) -> VaultResult<PolicyVersionView> {
        let set = self.snapshot();
        let v = set.find(id).ok_or(VaultError::NotFound("policy version"))?;
        let in_force = set.at(self.now()).is_some_and(|c| c.row.id == id);
        self.version_view_of(&v.row, in_force).await
    }

    async fn version_view_of(
        &self,
        row: &PolicyVersionRow,
        in_force: bool,
    ) -> VaultResult<PolicyVersionView> {
        let counts = self
            .store
            .notice_counts(self.tenant, row.id)
            .await
            .map_err(VaultError::store("policy version"))?;
        let progress = self
            .store
            .fanout_progress(self.tenant, row.id)
            .await
            .map_err(VaultError::store("policy version"))?;
        let types = parse_list(&row.notice_types);
        Ok(PolicyVersionView {
            id: row.id,
            content_hash: row.content_hash.clone(),
            class: row.class.clone(),
            published_at: time_of(row.published_at),
            effective_at: time_of(row.effective_at),
            in_force,
            changes: changes_of(row),
            renewal_scopes: parse_list(&row.renewal_scopes),
            notices: NoticeCountsView {
                queued: counts.queued,
                email: counts.email,
                website: counts.website,
                delivered: counts.delivered,
                finished: types.is_empty() || progress.finished_at.is_some(),
            },
            notice_subject_types: types,
        })
    }

    /// Every version, oldest first.
    pub async fn policy_versions(&self, who: &Principal) -> VaultResult<Vec<PolicyVersionView>> {
        self.require_admin(who, "read policy versions")?;
        self.refresh_policies().await?;
        let set = self.snapshot();
        let current = set.at(self.now()).map(|v| v.row.id);
        let mut out = Vec::with_capacity(set.versions.len());
        for v in &set.versions {
            out.push(
                self.version_view_of(&v.row, Some(v.row.id) == current)
                    .await?,
            );
        }
        Ok(out)
    }

    /// The website notices: every published material version, newest first.
    pub fn public_notices(&self) -> Vec<PublicNoticeView> {
        let now = self.now();
        let set = self.snapshot();
        let mut out: Vec<PublicNoticeView> = set
            .versions
            .iter()
            .filter(|v| v.row.class == "material" && v.row.published_at <= now)
            .map(|v| PublicNoticeView {
                version_id: v.row.id,
                published_at: time_of(v.row.published_at),
                effective_at: time_of(v.row.effective_at),
                in_force: v.row.effective_at <= now,
                subject_types: parse_list(&v.row.notice_types),
                changes: changes_of(&v.row)
                    .into_iter()
                    .filter(|c| c.class == "material")
                    .map(|c| c.summary)
                    .collect(),
                renewal_scopes: parse_list(&v.row.renewal_scopes),
            })
            .collect();
        out.reverse();
        out
    }

    /// The `policy.notices` job: queues the version's notices page by page from where an
    /// earlier run stopped. Returns how many notices this run queued. `on_page` sees the
    /// running total (benchmarks, progress).
    pub async fn fan_out_notices(
        &self,
        version: Uuid,
        email: bool,
        batch: u32,
        mut on_page: impl FnMut(u64),
    ) -> VaultResult<u64> {
        let set = self.snapshot();
        let v = match set.find(version) {
            Some(v) => v.clone(),
            None => {
                self.refresh_policies().await?;
                self.snapshot()
                    .find(version)
                    .cloned()
                    .ok_or(VaultError::NotFound("policy version"))?
            }
        };
        let types = parse_list(&v.row.notice_types);
        let store_err = |e: StoreError| VaultError::Internal(format!("notice fan-out: {e}"));
        let progress = self
            .store
            .fanout_progress(self.tenant, version)
            .await
            .map_err(store_err)?;
        if progress.finished_at.is_some() {
            return Ok(0);
        }
        let mut after = progress.after_id;
        let mut total = 0u64;
        // What every mail of this version says: rendered once, sealed per recipient.
        let lang = mail_lang(&v.policy);
        let params = json!({
            "controller": v.policy.raw.controller.name.get_ref(),
            "effective_date": time_of(v.row.effective_at).date().to_string(),
            "changes": changes_of(&v.row)
                .into_iter()
                .filter(|c| c.class == "material")
                .map(|c| format!("- {}", c.summary))
                .collect::<Vec<_>>()
                .join("\n"),
            "notice_url": "/v1/public/notices",
        });
        // Rendered once here (a broken template fails the job before any page); every
        // recipient's message seals the same serialised parameters.
        crate::mail::render(NOTICE_TEMPLATE, &lang, &params)
            .map_err(|e| VaultError::Internal(e.to_string()))?;
        let params =
            serde_json::to_vec(&params).map_err(|e| VaultError::Internal(e.to_string()))?;
        loop {
            let page = self
                .store
                .fanout_subjects(self.tenant, &types, after, batch.max(1))
                .await
                .map_err(store_err)?;
            let Some(last) = page.last().map(|s| s.subject_id) else {
                self.store
                    .queue_notices(
                        self.tenant,
                        version,
                        Vec::new(),
                        Vec::new(),
                        None,
                        true,
                        self.now(),
                    )
                    .await
                    .map_err(store_err)?;
                return Ok(total);
            };
            let keys = if email {
                self.store
                    .subject_keys_in_range(self.tenant, after, last)
                    .await
                    .map_err(store_err)?
            } else {
                Vec::new()
            };
            let (notices, mail) = self.seal_page(&page, &keys, email, version, &lang, &params)?;
            total += self
                .store
                .queue_notices(
                    self.tenant,
                    version,
                    notices,
                    mail,
                    Some(last),
                    false,
                    self.now(),
                )
                .await
                .map_err(store_err)?;
            after = Some(last);
            on_page(total);
        }
    }
}

/// The language of mail sent for the whole controller (notices): the policy's first
/// language when mail templates exist in it, else English.
pub(crate) fn mail_lang(policy: &Policy) -> String {
    policy
        .raw
        .languages
        .get_ref()
        .first()
        .map(|l| l.get_ref().clone())
        .filter(|l| crate::mail::templates::LANGUAGES.contains(&l.as_str()))
        .unwrap_or_else(|| "en".to_owned())
}

/// Subjects per sealing thread: below this a page is sealed on the calling thread.
const SEAL_CHUNK: usize = 1_024;
const NOTICE_TEMPLATE: &str = "policy_notice";

impl Vault {
    /// Builds a page's notice rows and sealed mail. The page's CPU work (unwrap each subject
    /// key, open the address, seal address and parameters: four AEAD operations per subject)
    /// is split over the machine's cores with scoped threads; on a multi-threaded runtime
    /// the calling worker is handed over first (`block_in_place`) so other tasks keep running.
    fn seal_page(
        &self,
        page: &[vern_store::FanoutSubject],
        keys: &[vern_store::SubjectKeyRow],
        email: bool,
        version: Uuid,
        lang: &str,
        params: &[u8],
    ) -> VaultResult<(Vec<NoticeRow>, Vec<vern_store::NewOutboxMessage>)> {
        type Sealed = (NoticeRow, Option<vern_store::NewOutboxMessage>);
        let one = |s: &vern_store::FanoutSubject| -> VaultResult<Sealed> {
            let address = match (&s.email, email) {
                (Some((iid, ct)), true) => self
                    .open_address(keys, s.subject_id, *iid, ct)
                    .filter(|a| crate::mail::valid_address(a)),
                _ => None,
            };
            let msg = match address {
                Some(to) => Some(self.seal_checked(
                    &to,
                    NOTICE_TEMPLATE,
                    lang,
                    params,
                    Some(s.subject_id),
                    Some(format!("policy-notice:{version}:{}", s.subject_id)),
                )?),
                None => None,
            };
            let notice = NoticeRow {
                subject_id: s.subject_id,
                channel: if msg.is_some() { "email" } else { "website" }.to_owned(),
                outbox_id: msg.as_ref().map(|m| m.id),
            };
            Ok((notice, msg))
        };
        let chunk = |part: &[vern_store::FanoutSubject]| -> VaultResult<Vec<Sealed>> {
            part.iter().map(one).collect()
        };
        let threads = std::thread::available_parallelism()
            .map_or(1, usize::from)
            .clamp(1, 8)
            .min(page.len().div_ceil(SEAL_CHUNK).max(1));
        let sealed: Vec<Sealed> = if threads <= 1 || !email {
            chunk(page)?
        } else {
            let per = page.len().div_ceil(threads);
            let run = || {
                std::thread::scope(|scope| {
                    let mut parts = page.chunks(per);
                    let first = parts.next().unwrap_or(&[]);
                    let handles: Vec<_> = parts.map(|p| scope.spawn(move || chunk(p))).collect();
                    let mut out = chunk(first)?;
                    for h in handles {
                        out.extend(h.join().map_err(|_| {
                            VaultError::Internal("a sealing thread panicked".into())
                        })??);
                    }
                    Ok::<_, VaultError>(out)
                })
            };
            match tokio::runtime::Handle::try_current().map(|h| h.runtime_flavor()) {
                Ok(tokio::runtime::RuntimeFlavor::MultiThread) => tokio::task::block_in_place(run),
                _ => run(),
            }?
        };
        let mut notices = Vec::with_capacity(sealed.len());
        let mut mail = Vec::with_capacity(sealed.len());
        for (n, m) in sealed {
            notices.push(n);
            mail.extend(m);
        }
        Ok((notices, mail))
    }

    /// A subject's email address from its identifier, with the subject key from `keys` (the
    /// page's keys). `None` when the key is gone (erased meanwhile) or does not open: that
    /// subject gets the website notice only.
    fn open_address(
        &self,
        keys: &[vern_store::SubjectKeyRow],
        subject: Uuid,
        identifier: Uuid,
        ct: &[u8],
    ) -> Option<String> {
        let row = keys
            .binary_search_by(|k| k.subject_id.cmp(&subject))
            .ok()
            .and_then(|i| keys.get(i))?;
        let master = self.master_for(&row.kek_id)?;
        let key = SubjectKey::unwrap(master, self.tenant, subject, &row.wrapped_key).ok()?;
        let plain = open(
            &key,
            &Aad::identifier_value(self.tenant, subject, identifier),
            ct,
        )
        .ok()?;
        String::from_utf8(plain).ok()
    }
}

/// Parses `YYYY-MM-DD` to midnight UTC.
pub fn date_start(text: &str) -> Option<OffsetDateTime> {
    let fmt = time::macros::format_description!("[year]-[month]-[day]");
    time::Date::parse(text, &fmt)
        .ok()
        .map(|d| d.midnight().assume_utc())
}
