//! The job queue: durable, leased, retried with backoff, dead letters kept for operators.
//!
//! A job is claimed by taking a lease: `FOR UPDATE SKIP LOCKED` on PostgreSQL, so several nodes
//! claim different jobs without waiting on each other, and the `BEGIN IMMEDIATE` write lock on
//! SQLite. A claim stamps the owner and the lease's end; completing or failing a job checks the
//! owner, so a node whose lease ran out (and whose job another node took) cannot finish it a
//! second time. Handlers must still be idempotent: a node can crash after the work and before
//! `complete`, and the job then runs again when its lease runs out.

use std::future::Future;

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::StoreResult;

/// Job states as stored.
pub mod state {
    pub const QUEUED: &str = "queued";
    pub const RUNNING: &str = "running";
    pub const DONE: &str = "done";
    /// Attempts exhausted: kept for operators (the admin API), retried only by hand.
    pub const DEAD: &str = "dead";
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct JobRow {
    pub id: Uuid,
    /// `retention.sweep`, `mail.send`, …
    pub kind: String,
    /// JSON; no personal data (ids only).
    pub payload: String,
    pub state: String,
    pub run_at: i64,
    pub attempts: i64,
    pub max_attempts: i64,
    pub lease_owner: Option<String>,
    pub lease_until: Option<i64>,
    pub last_error: Option<String>,
    /// At most one job per key (e.g. `retention.sweep:2026-11-29`).
    pub unique_key: Option<String>,
    pub created_at: i64,
    pub updated_at: i64,
}

pub trait JobStore: Send + Sync {
    /// Queues a job; with a `unique_key` already used, nothing happens and `false` returns.
    fn enqueue(&self, job: JobRow) -> impl Future<Output = StoreResult<bool>> + Send;
    /// Claims the next due job (queued and due, or running with an expired lease) of one of
    /// `kinds` (all when empty) for `owner` until `lease_until`.
    fn claim(
        &self,
        owner: &str,
        now: i64,
        lease_until: i64,
        kinds: &[&str],
    ) -> impl Future<Output = StoreResult<Option<JobRow>>> + Send;
    /// Extends the lease of a job the owner still holds; `false` if it lost it.
    fn heartbeat(
        &self,
        id: Uuid,
        owner: &str,
        now: i64,
        lease_until: i64,
    ) -> impl Future<Output = StoreResult<bool>> + Send;
    /// Marks the job done if `owner` still holds it; `false` otherwise.
    fn complete(
        &self,
        id: Uuid,
        owner: &str,
        now: i64,
    ) -> impl Future<Output = StoreResult<bool>> + Send;
    /// Records a failure: back to the queue at `retry_at`, or dead when attempts are spent.
    fn fail(
        &self,
        id: Uuid,
        owner: &str,
        now: i64,
        error: &str,
        retry_at: i64,
    ) -> impl Future<Output = StoreResult<bool>> + Send;
    /// Jobs in `state` (all states when `None`), newest first.
    fn list_jobs(
        &self,
        state: Option<&str>,
        limit: u32,
    ) -> impl Future<Output = StoreResult<Vec<JobRow>>> + Send;
    fn get_job(&self, id: Uuid) -> impl Future<Output = StoreResult<JobRow>> + Send;
    /// Puts a dead job back in the queue with fresh attempts (an operator's retry).
    fn retry_dead(&self, id: Uuid, now: i64) -> impl Future<Output = StoreResult<()>> + Send;
}
