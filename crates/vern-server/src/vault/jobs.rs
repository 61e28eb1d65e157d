//! The job queue as administrators see it: list (dead letters included), one job, retry a
//! dead job. Administrative: the role needs `tokens.manage` (the admin role).

use serde::{Deserialize, Serialize};
use serde_json::json;
use time::OffsetDateTime;
use utoipa::ToSchema;
use uuid::Uuid;
use vern_core::access::Permission;
use vern_store::{JobRow, JobStore};

use super::{Principal, Vault, VaultError, VaultResult, time_of};

/// A job as the admin API shows it. Payloads hold ids only, never personal data.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct JobView {
    pub id: Uuid,
    #[schema(example = "retention.sweep")]
    pub kind: String,
    pub payload: serde_json::Value,
    /// `queued`, `running`, `done` or `dead`.
    #[schema(example = "dead")]
    pub state: String,
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub run_at: OffsetDateTime,
    pub attempts: i64,
    pub max_attempts: i64,
    pub lease_owner: Option<String>,
    #[serde(with = "time::serde::rfc3339::option")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub lease_until: Option<OffsetDateTime>,
    pub last_error: Option<String>,
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub created_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub updated_at: OffsetDateTime,
}

fn view(j: JobRow) -> JobView {
    JobView {
        id: j.id,
        kind: j.kind,
        payload: serde_json::from_str(&j.payload).unwrap_or(serde_json::Value::Null),
        state: j.state,
        run_at: time_of(j.run_at),
        attempts: j.attempts,
        max_attempts: j.max_attempts,
        lease_owner: j.lease_owner,
        lease_until: j.lease_until.map(time_of),
        last_error: j.last_error,
        created_at: time_of(j.created_at),
        updated_at: time_of(j.updated_at),
    }
}

const STATES: [&str; 4] = ["queued", "running", "done", "dead"];

impl Vault {
    pub async fn list_jobs(
        &self,
        who: &Principal,
        state: Option<&str>,
        limit: u32,
    ) -> VaultResult<Vec<JobView>> {
        self.require(who, Permission::TokensManage)?;
        if let Some(s) = state
            && !STATES.contains(&s)
        {
            return Err(VaultError::field(
                "state",
                "unknown_state",
                "one of queued, running, done, dead",
            ));
        }
        if !(1..=1000).contains(&limit) {
            return Err(VaultError::field(
                "limit",
                "invalid_limit",
                "a page holds 1 to 1000 jobs",
            ));
        }
        let rows = self
            .store
            .list_jobs(state, limit)
            .await
            .map_err(VaultError::store("job"))?;
        Ok(rows.into_iter().map(view).collect())
    }

    pub async fn get_job(&self, who: &Principal, id: Uuid) -> VaultResult<JobView> {
        self.require(who, Permission::TokensManage)?;
        let row = self
            .store
            .get_job(id)
            .await
            .map_err(VaultError::store("job"))?;
        Ok(view(row))
    }

    /// Puts a dead letter back in the queue with fresh attempts.
    pub async fn retry_job(&self, who: &Principal, id: Uuid) -> VaultResult<JobView> {
        self.require(who, Permission::TokensManage)?;
        self.store
            .retry_dead(id, self.now())
            .await
            .map_err(|e| match e {
                vern_store::StoreError::NotFound => {
                    VaultError::Conflict("only a dead job can be retried".into())
                }
                other => VaultError::Internal(other.to_string()),
            })?;
        self.append_audit(vec![self.audit(
            who,
            "job.retry",
            None,
            None,
            json!({ "job": id }),
        )])
        .await?;
        self.get_job(who, id).await
    }
}
