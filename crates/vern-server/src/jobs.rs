//! The job runner: claims due jobs from the store's queue, runs their handler while renewing
//! the lease, and completes them, or schedules a retry with exponential backoff until the
//! attempts are spent and the job becomes a dead letter (listed by `GET /v1/jobs?state=dead`).
//!
//! Several nodes run a runner each against one PostgreSQL: a claim takes the job's lease with
//! `FOR UPDATE SKIP LOCKED`, and completing checks the lease owner, so no two nodes run a job at
//! once and a node that lost its lease cannot complete the job a second time. A node that dies
//! mid-job leaves a lease that runs out; another node then takes the job. Handlers must be
//! idempotent because of that (the sweep is: it deletes only what is still expired).
//!
//! Mail delivery (`mail.send`, one job per outbox message, queued by the store in the same
//! transaction as the message) runs on nodes that were given a [`Mailer`].
//!
//! The first job kind is the scheduled retention sweep: every node tries to enqueue the sweep
//! of the current period (default one day) under the unique key `retention.sweep:<period>`, so
//! exactly one sweep job exists per period however many nodes there are.

use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use vern_core::ids::{new_id, to_micros};
use vern_store::jobs::state;
use vern_store::{JobRow, JobStore, MAIL_SEND_JOB};

use crate::mail::Mailer;

use crate::vault::{Actor, Vault};

/// The payload of a `mail.send` job (written by the store with the outbox row).
#[derive(Debug, serde::Deserialize)]
struct MailJob {
    tenant_id: uuid::Uuid,
    outbox_id: uuid::Uuid,
}

/// The scheduled retention sweep.
pub const KIND_RETENTION_SWEEP: &str = "retention.sweep";
/// The scheduled consent expiry sweep (writes `expired` ledger events).
pub const KIND_CONSENT_EXPIRE: &str = "consent.expire";

/// The scheduled pruning of the decision audit (blocks older than the configured retention).
pub const KIND_DECISION_LOG_PRUNE: &str = "decision_log.prune";

/// A handler's future: `Err` carries a message for `last_error` (no personal data).
pub type HandlerFuture = Pin<Box<dyn Future<Output = Result<(), String>> + Send>>;
/// Runs one job of a kind.
pub type Handler = Arc<dyn Fn(Arc<Vault>, JobRow) -> HandlerFuture + Send + Sync>;

/// The decision audit's default retention: three years, the general limitation period for
/// claims under Norwegian law (foreldelsesloven § 2), so a complaint about a message can be
/// answered with the decision behind it.
pub const DECISION_LOG_KEEP: Duration = Duration::from_secs(3 * 365 * 24 * 3600);

#[derive(Debug, Clone)]
pub struct RunnerConfig {
    /// This node's name in leases: `node:pid:incarnation` by default ([`local_node`], the
    /// process id, a random id), which lets a restarted node release the jobs of the process
    /// that died ([`Runner::reclaim_orphans`]). Any other text works; it is never reclaimed
    /// early.
    pub owner: String,
    /// How long a claim holds a job before another node may take it; renewed while it runs.
    pub lease: Duration,
    /// Pause between polls when the queue is empty.
    pub poll: Duration,
    /// Period of the scheduled retention sweep (`None`: no scheduled sweeps).
    pub sweep_every: Option<Duration>,
    /// How long the decision audit keeps each decision (`None`: for ever); pruned with the
    /// retention sweep's period.
    pub decision_log_keep: Option<Duration>,
    /// Attempts before a job is a dead letter.
    pub max_attempts: i64,
    /// First retry delay; doubled per attempt, capped at an hour.
    pub backoff: Duration,
}

impl Default for RunnerConfig {
    fn default() -> Self {
        RunnerConfig {
            owner: format!(
                "{}:{}:{}",
                local_node(),
                std::process::id(),
                new_id().simple()
            ),
            lease: Duration::from_secs(60),
            poll: Duration::from_secs(5),
            sweep_every: Some(Duration::from_secs(24 * 3600)),
            decision_log_keep: Some(DECISION_LOG_KEEP),
            max_attempts: 5,
            backoff: Duration::from_secs(30),
        }
    }
}

/// This machine as lease owners name it: host name and PID namespace (`host/pid:[inode]`), so
/// that a process id in a lease can be checked against the processes it could belong to. Two
/// containers that share a host name but not a PID namespace get different names.
pub fn local_node() -> String {
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname")
        .ok()
        .or_else(|| std::env::var("HOSTNAME").ok())
        .map(|h| h.trim().replace([':', '/'], "_"))
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "localhost".to_owned());
    let ns = std::fs::read_link("/proc/self/ns/pid")
        .ok()
        .map(|p| p.to_string_lossy().replace(':', "="))
        .unwrap_or_default();
    format!("{host}/{ns}")
}

/// Whether the lease `owner` (`node:pid:incarnation`, see [`RunnerConfig`]) belongs to a
/// process that no longer runs, as far as this process can tell: same node, and either this
/// process id with another incarnation (this process reuses the id of one that died) or an id
/// no process has. Any other owner (another machine, an unknown format, no `/proc`) is left
/// to its lease.
pub fn is_orphaned_lease(owner: &str, me: &str) -> bool {
    let mut parts = owner.rsplitn(3, ':');
    let (Some(incarnation), Some(pid), Some(node)) = (parts.next(), parts.next(), parts.next())
    else {
        return false;
    };
    let mut mine = me.rsplitn(3, ':');
    let (Some(my_incarnation), Some(my_pid), Some(my_node)) =
        (mine.next(), mine.next(), mine.next())
    else {
        return false;
    };
    if node != my_node || pid.parse::<u32>().is_err() {
        return false;
    }
    if pid == my_pid {
        return incarnation != my_incarnation;
    }
    let proc = std::path::Path::new("/proc");
    proc.join("self").exists() && !proc.join(pid).exists()
}

fn micros(d: Duration) -> i64 {
    i64::try_from(d.as_micros()).unwrap_or(i64::MAX)
}

/// The delay before retry number `attempt` (1-based): `backoff · 2^(attempt-1)`, at most 1 h.
pub fn backoff_delay(backoff: Duration, attempt: i64) -> Duration {
    let exp = u32::try_from(attempt.saturating_sub(1).clamp(0, 20)).unwrap_or(20);
    backoff
        .saturating_mul(2u32.saturating_pow(exp))
        .min(Duration::from_secs(3600))
}

/// See the module documentation.
pub struct Runner {
    vault: Arc<Vault>,
    handlers: HashMap<String, Handler>,
    config: RunnerConfig,
}

impl Runner {
    /// A runner with the retention sweep handler registered.
    pub fn new(vault: Arc<Vault>, config: RunnerConfig) -> Self {
        let mut runner = Runner {
            vault,
            handlers: HashMap::new(),
            config,
        };
        runner.register(
            KIND_RETENTION_SWEEP,
            Arc::new(|vault: Arc<Vault>, _job: JobRow| {
                Box::pin(async move {
                    let who = vault
                        .admin_principal(Actor::System)
                        .map_err(|e| e.to_string())?;
                    let report = vault
                        .retention_run(&who, None, |_| {})
                        .await
                        .map_err(|e| e.to_string())?;
                    tracing::info!(
                        deleted = report.deleted,
                        held = report.held,
                        subjects_erased = report.subjects_erased,
                        "retention sweep done"
                    );
                    Ok(())
                }) as HandlerFuture
            }),
        );
        runner.register(
            crate::vault::KIND_POLICY_NOTICES,
            Arc::new(|vault: Arc<Vault>, job: JobRow| {
                Box::pin(async move {
                    let payload: serde_json::Value =
                        serde_json::from_str(&job.payload).map_err(|e| e.to_string())?;
                    let version = payload["version_id"]
                        .as_str()
                        .and_then(|s| uuid::Uuid::parse_str(s).ok())
                        .ok_or_else(|| "payload without version_id".to_owned())?;
                    let email = payload["email"].as_bool().unwrap_or(true);
                    let queued = vault
                        .fan_out_notices(version, email, crate::vault::NOTICE_BATCH, |_| {})
                        .await
                        .map_err(|e| e.to_string())?;
                    tracing::info!(%version, queued, "policy change notices queued");
                    Ok(())
                }) as HandlerFuture
            }),
        );
        runner.register(
            crate::vault::KIND_DSR_REMINDER,
            Arc::new(|vault: Arc<Vault>, job: JobRow| {
                Box::pin(async move {
                    #[derive(serde::Deserialize)]
                    struct Payload {
                        request: uuid::Uuid,
                    }
                    let p: Payload =
                        serde_json::from_str(&job.payload).map_err(|e| format!("payload: {e}"))?;
                    vault
                        .remind_request(p.request)
                        .await
                        .map_err(|e| e.to_string())
                }) as HandlerFuture
            }),
        );
        runner.register(
            crate::vault::KIND_DSR_DOWNLOAD_EXPIRY,
            Arc::new(|vault: Arc<Vault>, job: JobRow| {
                Box::pin(async move {
                    #[derive(serde::Deserialize)]
                    struct Payload {
                        download: uuid::Uuid,
                    }
                    let p: Payload =
                        serde_json::from_str(&job.payload).map_err(|e| format!("payload: {e}"))?;
                    vault
                        .expire_download(p.download)
                        .await
                        .map_err(|e| e.to_string())
                }) as HandlerFuture
            }),
        );
        runner.register(
            KIND_DECISION_LOG_PRUNE,
            Arc::new(|vault: Arc<Vault>, job: JobRow| {
                Box::pin(async move {
                    #[derive(serde::Deserialize)]
                    struct Payload {
                        keep_secs: u64,
                    }
                    let p: Payload =
                        serde_json::from_str(&job.payload).map_err(|e| format!("payload: {e}"))?;
                    let keep = time::Duration::seconds(
                        i64::try_from(p.keep_secs).map_err(|e| format!("payload: {e}"))?,
                    );
                    let who = vault
                        .admin_principal(Actor::System)
                        .map_err(|e| e.to_string())?;
                    let pruned = vault
                        .prune_decision_log(&who, keep)
                        .await
                        .map_err(|e| e.to_string())?;
                    tracing::info!(blocks = pruned, "decision log pruned");
                    Ok(())
                }) as HandlerFuture
            }),
        );
        runner.register(
            KIND_CONSENT_EXPIRE,
            Arc::new(|vault: Arc<Vault>, _job: JobRow| {
                Box::pin(async move {
                    let who = vault
                        .admin_principal(Actor::System)
                        .map_err(|e| e.to_string())?;
                    let done = vault
                        .expire_consents(&who)
                        .await
                        .map_err(|e| e.to_string())?;
                    tracing::info!(
                        expired = done.expired,
                        subjects = done.subjects,
                        "consent expiry sweep done"
                    );
                    Ok(())
                }) as HandlerFuture
            }),
        );
        runner
    }

    /// Delivers outbox mail with `mailer` (the `mail.send` job kind). Without this call the
    /// node leaves mail queued: the outbox lists it for administrators.
    pub fn register_mail(&mut self, mailer: Mailer) {
        let mailer = Arc::new(mailer);
        self.register(
            MAIL_SEND_JOB,
            Arc::new(move |vault: Arc<Vault>, job: JobRow| {
                let mailer = mailer.clone();
                Box::pin(async move {
                    let payload: MailJob = serde_json::from_str(&job.payload)
                        .map_err(|e| format!("malformed mail job payload: {e}"))?;
                    vault
                        .deliver_mail(
                            payload.tenant_id,
                            payload.outbox_id,
                            &mailer,
                            job.attempts >= job.max_attempts,
                        )
                        .await
                }) as HandlerFuture
            }),
        );
    }

    pub fn register(&mut self, kind: &str, handler: Handler) {
        self.handlers.insert(kind.to_owned(), handler);
    }

    pub fn config(&self) -> &RunnerConfig {
        &self.config
    }

    fn now(&self) -> i64 {
        to_micros(self.vault.clock().now())
    }

    /// Queues a job of `kind` to run at `run_at` (Unix µs); with a `unique_key` in use,
    /// nothing happens and `false` returns.
    pub async fn enqueue(
        &self,
        kind: &str,
        payload: serde_json::Value,
        run_at: i64,
        unique_key: Option<String>,
    ) -> Result<bool, vern_store::StoreError> {
        let now = self.now();
        self.vault
            .store()
            .enqueue(JobRow {
                id: new_id(),
                kind: kind.to_owned(),
                payload: payload.to_string(),
                state: state::QUEUED.to_owned(),
                run_at,
                attempts: 0,
                max_attempts: self.config.max_attempts,
                lease_owner: None,
                lease_until: None,
                last_error: None,
                unique_key,
                created_at: now,
                updated_at: now,
            })
            .await
    }

    /// Enqueues this period's retention sweep unless some node already did.
    pub async fn schedule_due(&self) -> Result<bool, vern_store::StoreError> {
        let Some(every) = self.config.sweep_every else {
            return Ok(false);
        };
        let every = micros(every).max(1);
        let now = self.now();
        let period = now.div_euclid(every);
        // Consent expiry runs with the same period, also once per period across nodes.
        self.enqueue(
            KIND_CONSENT_EXPIRE,
            serde_json::json!({ "period": period }),
            period.saturating_mul(every),
            Some(format!("{KIND_CONSENT_EXPIRE}:{period}")),
        )
        .await?;
        if let Some(keep) = self.config.decision_log_keep {
            self.enqueue(
                KIND_DECISION_LOG_PRUNE,
                serde_json::json!({ "period": period, "keep_secs": keep.as_secs() }),
                period.saturating_mul(every),
                Some(format!("{KIND_DECISION_LOG_PRUNE}:{period}")),
            )
            .await?;
        }
        self.enqueue(
            KIND_RETENTION_SWEEP,
            serde_json::json!({ "period": period }),
            period.saturating_mul(every),
            Some(format!("{KIND_RETENTION_SWEEP}:{period}")),
        )
        .await
    }

    /// Releases the jobs whose lease holder died on this node (see [`is_orphaned_lease`]):
    /// a node restarted after a crash takes its unfinished jobs back at once instead of
    /// waiting for their leases to run out. Returns how many were released.
    pub async fn reclaim_orphans(&self) -> Result<u64, vern_store::StoreError> {
        let store = self.vault.store();
        let running = store.list_jobs(Some(state::RUNNING), 1_000).await?;
        let now = self.now();
        let mut released = 0;
        for job in running {
            let Some(owner) = job.lease_owner.as_deref() else {
                continue;
            };
            if !is_orphaned_lease(owner, &self.config.owner) {
                continue;
            }
            // `fail` checks the dead owner still holds the lease, so a job another node took
            // meanwhile is left alone; the crashed attempt counts as one.
            if store
                .fail(job.id, owner, now, "the node running it stopped", now)
                .await?
            {
                tracing::warn!(job = %job.id, kind = %job.kind, "job of a stopped process on this node released");
                released += 1;
            }
        }
        Ok(released)
    }

    /// Claims and runs one due job. `Ok(None)`: nothing was due.
    pub async fn run_one(
        &self,
    ) -> Result<Option<(JobRow, Result<(), String>)>, vern_store::StoreError> {
        let store = self.vault.store();
        let kinds: Vec<&str> = self.handlers.keys().map(String::as_str).collect();
        let now = self.now();
        let lease = micros(self.config.lease);
        let Some(job) = store
            .claim(&self.config.owner, now, now.saturating_add(lease), &kinds)
            .await?
        else {
            return Ok(None);
        };
        let Some(handler) = self.handlers.get(&job.kind).cloned() else {
            return Ok(None);
        };
        let work = handler(self.vault.clone(), job.clone());
        tokio::pin!(work);
        // Renew the lease at a third of its length while the handler runs, in a task of its
        // own: a renewal waiting for the database (SQLite has one writer) must not stop the
        // handler from finishing the transaction it waits for. The task ends only when the
        // lease is lost (another node has the job): then stop without completing.
        let mut beat = {
            let vault = self.vault.clone();
            let owner = self.config.owner.clone();
            let every = self.config.lease / 3;
            let id = job.id;
            tokio::spawn(async move {
                let mut tick = tokio::time::interval(every);
                tick.tick().await;
                loop {
                    tick.tick().await;
                    let now = to_micros(vault.clock().now());
                    match vault
                        .store()
                        .heartbeat(id, &owner, now, now.saturating_add(lease))
                        .await
                    {
                        Ok(true) => {}
                        Ok(false) => return,
                        Err(e) => tracing::warn!(error = %e, job = %id, "lease renewal failed"),
                    }
                }
            })
        };
        let outcome = tokio::select! {
            out = &mut work => out,
            _ = &mut beat => Err("lease lost".to_owned()),
        };
        beat.abort();
        let now = self.now();
        match &outcome {
            Ok(()) => {
                store.complete(job.id, &self.config.owner, now).await?;
            }
            Err(e) => {
                tracing::warn!(job = %job.id, kind = %job.kind, attempt = job.attempts, error = %e, "job failed");
                let retry =
                    now.saturating_add(micros(backoff_delay(self.config.backoff, job.attempts)));
                store
                    .fail(job.id, &self.config.owner, now, e, retry)
                    .await?;
            }
        }
        Ok(Some((job, outcome)))
    }

    /// Schedules and runs jobs until `shutdown` resolves.
    pub async fn run_until(self: Arc<Self>, shutdown: impl Future<Output = ()> + Send) {
        tokio::pin!(shutdown);
        let mut refreshed = std::time::Instant::now();
        let mut reclaimed: Option<std::time::Instant> = None;
        loop {
            // At start (a restart after a crash resumes at once), then once a lease period.
            if reclaimed.is_none_or(|t| t.elapsed() >= self.config.lease) {
                reclaimed = Some(std::time::Instant::now());
                if let Err(e) = self.reclaim_orphans().await {
                    tracing::warn!(error = %e, "could not release jobs of stopped processes");
                }
            }
            // Versions published on another node become known here, at most once a poll
            // (they are published days ahead of taking effect, so the delay does not matter).
            if refreshed.elapsed() >= self.config.poll {
                refreshed = std::time::Instant::now();
                if let Err(e) = self.vault.refresh_policies().await {
                    tracing::warn!(error = %e, "could not refresh policy versions");
                }
            }
            if let Err(e) = self.schedule_due().await {
                tracing::warn!(error = %e, "could not schedule the retention sweep");
            }
            let worked = match self.run_one().await {
                Ok(found) => found.is_some(),
                Err(e) => {
                    tracing::warn!(error = %e, "job runner error");
                    false
                }
            };
            if worked {
                continue;
            }
            tokio::select! {
                () = &mut shutdown => return,
                () = tokio::time::sleep(self.config.poll) => {}
            }
        }
    }
}
