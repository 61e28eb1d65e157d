//! Art. 19 tasks: a rectification, erasure or restriction (and lifting it) creates one open
//! task per recipient that received the subject's data (from the whole disclosure register),
//! which staff close once the recipient was told, saying how. Creating and closing are
//! audited. The tasks hold ids, recipient ids from the policy and categories: no personal
//! data, so they outlive an erasure as proof that the recipients were told.

use serde::{Deserialize, Serialize};
use serde_json::json;
use time::OffsetDateTime;
use utoipa::ToSchema;
use uuid::Uuid;
use vern_core::access::Permission;
use vern_core::ids::new_id;
use vern_store::{RecipientTaskRow, RequestStore};

use super::super::erasure::RecipientToNotify;
use super::super::{Principal, Vault, VaultError, VaultResult, time_of};
use crate::error::FieldError;

const STATE_OPEN: &str = "open";
const STATE_DONE: &str = "done";
const METHODS: [&str; 4] = ["email", "api", "letter", "other"];

/// An Art. 19 task as the privacy team sees it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct RecipientTaskView {
    pub id: Uuid,
    pub subject_id: Uuid,
    /// The request that caused it, when it came from one.
    pub request_id: Option<Uuid>,
    /// `rectification`, `erasure`, `restriction` or `restriction_lifted`.
    #[schema(example = "erasure")]
    pub action: String,
    /// The recipient's id in the policy.
    pub recipient: String,
    /// The categories the recipient received.
    pub categories: Vec<String>,
    /// `open` or `done`.
    #[schema(example = "open")]
    pub state: String,
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub created_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339::option")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub closed_at: Option<OffsetDateTime>,
    pub closed_by: Option<String>,
    /// How the recipient was told.
    pub method: Option<String>,
}

/// A page of tasks, oldest first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct RecipientTaskPage {
    pub items: Vec<RecipientTaskView>,
    /// Pass as `after` for the next page; absent on the last page.
    pub next: Option<String>,
}

/// Closing a task: how the recipient was told.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TaskClose {
    /// `email`, `api`, `letter` or `other`.
    #[schema(example = "email")]
    pub method: String,
}

fn view(r: RecipientTaskRow) -> RecipientTaskView {
    RecipientTaskView {
        id: r.id,
        subject_id: r.subject_id,
        request_id: r.request_id,
        action: r.action,
        recipient: r.recipient,
        categories: r.categories,
        state: r.state,
        created_at: time_of(r.created_at),
        closed_at: r.closed_at.map(time_of),
        closed_by: r.closed_by,
        method: r.method,
    }
}

impl Vault {
    /// One open task per recipient, with an audit entry naming them (ids only).
    pub(crate) async fn create_recipient_tasks(
        &self,
        who: &Principal,
        subject: Uuid,
        request: Option<Uuid>,
        action: &str,
        recipients: &[RecipientToNotify],
    ) -> VaultResult<()> {
        if recipients.is_empty() {
            return Ok(());
        }
        let now = self.now();
        let tasks: Vec<RecipientTaskRow> = recipients
            .iter()
            .map(|r| RecipientTaskRow {
                tenant_id: self.tenant,
                id: new_id(),
                subject_id: subject,
                request_id: request,
                action: action.to_owned(),
                recipient: r.recipient.clone(),
                categories: r.categories.clone(),
                state: STATE_OPEN.to_owned(),
                created_at: now,
                closed_at: None,
                closed_by: None,
                method: None,
            })
            .collect();
        let audit = vec![self.audit(
            who,
            "recipient_task.create",
            Some(subject),
            Some("compliance.dsr_handling"),
            json!({
                "action": action,
                "request": request,
                "tasks": tasks.iter().map(|t| json!({"task": t.id, "recipient": t.recipient})).collect::<Vec<_>>(),
            }),
        )];
        self.store
            .insert_recipient_tasks(tasks, audit)
            .await
            .map_err(VaultError::store("recipient task"))
    }

    /// Tasks oldest first, optionally `open` or `done` only.
    pub async fn list_recipient_tasks(
        &self,
        who: &Principal,
        state: Option<&str>,
        after: Option<&str>,
        limit: u32,
    ) -> VaultResult<RecipientTaskPage> {
        self.require(who, Permission::RequestsRead)?;
        let mut errors = Vec::new();
        if state.is_some_and(|s| s != STATE_OPEN && s != STATE_DONE) {
            errors.push(FieldError::new(
                "state",
                "unknown_state",
                "`open` or `done`",
            ));
        }
        let after = match after {
            None => None,
            Some(text) => match text
                .split_once('_')
                .and_then(|(a, i)| Some((a.parse::<i64>().ok()?, Uuid::parse_str(i).ok()?)))
            {
                Some(k) => Some(k),
                None => {
                    errors.push(FieldError::new(
                        "after",
                        "invalid_cursor",
                        "pass the `next` value of the previous page",
                    ));
                    None
                }
            },
        };
        if !(1..=500).contains(&limit) {
            errors.push(FieldError::new("limit", "out_of_range", "1 to 500"));
        }
        if !errors.is_empty() {
            return Err(VaultError::Validation(errors));
        }
        let rows = self
            .store
            .list_recipient_tasks(self.tenant, state.map(str::to_owned), after, limit)
            .await
            .map_err(VaultError::store("recipient task"))?;
        let next = (rows.len() == limit as usize)
            .then(|| rows.last().map(|r| format!("{}_{}", r.created_at, r.id)))
            .flatten();
        Ok(RecipientTaskPage {
            items: rows.into_iter().map(view).collect(),
            next,
        })
    }

    /// Closes an open task: the recipient was told (by `method`). 409 if closed already.
    pub async fn close_recipient_task(
        &self,
        who: &Principal,
        id: Uuid,
        input: &TaskClose,
    ) -> VaultResult<RecipientTaskView> {
        self.require(who, Permission::RequestsManage)?;
        if !METHODS.contains(&input.method.as_str()) {
            return Err(VaultError::field(
                "method",
                "unknown_method",
                "`email`, `api`, `letter` or `other`",
            ));
        }
        let task = self
            .store
            .get_recipient_task(self.tenant, id)
            .await
            .map_err(VaultError::store("recipient task"))?;
        let audit = vec![self.audit(
            who,
            "recipient_task.close",
            Some(task.subject_id),
            Some("compliance.dsr_handling"),
            json!({ "task": id, "recipient": task.recipient, "method": input.method }),
        )];
        self.store
            .close_recipient_task(
                self.tenant,
                id,
                self.now(),
                &who.actor.to_string(),
                &input.method,
                audit,
            )
            .await
            .map_err(|e| match e {
                vern_store::StoreError::Conflict(_) => {
                    VaultError::Conflict("the task is closed already".into())
                }
                other => VaultError::store("recipient task")(other),
            })?;
        let row = self
            .store
            .get_recipient_task(self.tenant, id)
            .await
            .map_err(VaultError::store("recipient task"))?;
        Ok(view(row))
    }
}
