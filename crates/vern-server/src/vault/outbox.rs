//! The mail outbox as the vault sees it: sealing a message for the queue, listing and reading
//! queued mail for administrators, and delivering one message (the `mail.send` job).
//!
//! Callers that change state and send mail seal the message with [`Vault::seal_mail`] and hand
//! it to the store call that makes the change, so both commit together; mail that follows no
//! other write goes through [`Vault::enqueue_mail`]. The template is rendered once when the
//! message is sealed (a missing parameter is the caller's error, found at once) and again at
//! delivery from the sealed parameters.

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use time::OffsetDateTime;
use utoipa::ToSchema;
use uuid::Uuid;
use vern_core::access::Permission;
use vern_core::ids::new_id;
use vern_store::{NewOutboxMessage, OutboxRow, OutboxStore, outbox_state};

use super::{Principal, Vault, VaultError, VaultResult, time_of};
use crate::mail::{self, Mailer};

const FIELD_TO: &str = "to";
const FIELD_PARAMS: &str = "params";

/// A queued or sent message as the admin list shows it: no address, no content.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct OutboxView {
    pub id: Uuid,
    pub subject_id: Option<Uuid>,
    #[schema(example = "smtp_test")]
    pub template: String,
    #[schema(example = "nb")]
    pub lang: String,
    /// `queued`, `sent` or `failed`.
    #[schema(example = "queued")]
    pub state: String,
    pub attempts: i64,
    pub last_error: Option<String>,
    pub message_id: Option<String>,
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub created_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339::option")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub sent_at: Option<OffsetDateTime>,
}

/// One message with its content, for an administrator (an audited read). Sent messages have
/// no content any more: it is wiped at delivery.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct MailView {
    #[serde(flatten)]
    pub message: OutboxView,
    pub to: Option<String>,
    pub mail_subject: Option<String>,
    pub body: Option<String>,
}

fn view(r: OutboxRow) -> OutboxView {
    OutboxView {
        id: r.id,
        subject_id: r.subject_id,
        template: r.template,
        lang: r.lang,
        state: r.state,
        attempts: r.attempts,
        last_error: r.last_error,
        message_id: r.message_id,
        created_at: time_of(r.created_at),
        sent_at: r.sent_at.map(time_of),
    }
}

const STATES: [&str; 3] = [
    outbox_state::QUEUED,
    outbox_state::SENT,
    outbox_state::FAILED,
];

impl Vault {
    /// Seals a message for the outbox: checks the address and that the template renders in
    /// `lang` with `params`, then encrypts address and parameters under the outbox key.
    pub fn seal_mail(
        &self,
        to: &str,
        template: &str,
        lang: &str,
        params: Value,
        subject_id: Option<Uuid>,
        dedup_key: Option<String>,
    ) -> VaultResult<NewOutboxMessage> {
        if !mail::valid_address(to) {
            return Err(VaultError::field(
                "email",
                "invalid_email",
                "not a valid mail address",
            ));
        }
        mail::render(template, lang, &params).map_err(|e| VaultError::Internal(e.to_string()))?;
        let params =
            serde_json::to_vec(&params).map_err(|e| VaultError::Internal(e.to_string()))?;
        self.seal_checked(to, template, lang, &params, subject_id, dedup_key)
    }

    /// [`Vault::seal_mail`] for one of many recipients of the same message: the caller has
    /// rendered `template` in `lang` with these parameters (`params`, serialised JSON) once
    /// for all of them, so only the address is checked here.
    pub(crate) fn seal_checked(
        &self,
        to: &str,
        template: &str,
        lang: &str,
        params: &[u8],
        subject_id: Option<Uuid>,
        dedup_key: Option<String>,
    ) -> VaultResult<NewOutboxMessage> {
        if !mail::valid_address(to) {
            return Err(VaultError::field(
                "email",
                "invalid_email",
                "not a valid mail address",
            ));
        }
        let id = new_id();
        Ok(NewOutboxMessage {
            tenant_id: self.tenant,
            id,
            subject_id,
            template: template.to_owned(),
            lang: lang.to_owned(),
            to_ciphertext: self.outbox.seal(self.tenant, id, FIELD_TO, to.as_bytes())?,
            params_ciphertext: self.outbox.seal(self.tenant, id, FIELD_PARAMS, params)?,
            dedup_key,
        })
    }

    /// Queues sealed messages that follow no other write; returns how many were new.
    pub async fn enqueue_mail(&self, messages: Vec<NewOutboxMessage>) -> VaultResult<u64> {
        self.store
            .enqueue_mail(messages, self.now())
            .await
            .map_err(VaultError::store("outbox message"))
    }

    /// Queues a test message to `to` (checks the SMTP set-up end to end). Admins only.
    pub async fn send_test_mail(
        &self,
        who: &Principal,
        to: &str,
        lang: &str,
    ) -> VaultResult<OutboxView> {
        self.require(who, Permission::TokensManage)?;
        if !mail::templates::LANGUAGES.contains(&lang) {
            return Err(VaultError::field(
                "lang",
                "unknown_language",
                "one of nb, en",
            ));
        }
        let reference = new_id();
        let msg = self.seal_mail(
            to,
            "smtp_test",
            lang,
            json!({
                "controller": self.policy().raw.controller.name.get_ref(),
                "reference": reference.to_string(),
            }),
            None,
            None,
        )?;
        let id = msg.id;
        self.enqueue_mail(vec![msg]).await?;
        self.append_audit(vec![self.audit(
            who,
            "outbox.test",
            None,
            None,
            json!({ "message": id }),
        )])
        .await?;
        let row = self
            .store
            .get_mail(self.tenant, id)
            .await
            .map_err(VaultError::store("outbox message"))?;
        Ok(view(row))
    }

    /// The outbox, newest first. Administrative (`tokens.manage`); no addresses or content.
    pub async fn list_outbox(
        &self,
        who: &Principal,
        state: Option<&str>,
        subject: Option<Uuid>,
        limit: u32,
    ) -> VaultResult<Vec<OutboxView>> {
        self.require(who, Permission::TokensManage)?;
        if let Some(s) = state
            && !STATES.contains(&s)
        {
            return Err(VaultError::field(
                "state",
                "unknown_state",
                "one of queued, sent, failed",
            ));
        }
        if !(1..=1000).contains(&limit) {
            return Err(VaultError::field(
                "limit",
                "invalid_limit",
                "a page holds 1 to 1000 messages",
            ));
        }
        let rows = self
            .store
            .list_mail(self.tenant, state, subject, limit)
            .await
            .map_err(VaultError::store("outbox message"))?;
        Ok(rows.into_iter().map(view).collect())
    }

    /// One message with its address and rendered content while it waits (for an operator
    /// without SMTP, or to check a failure). Needs `tokens.manage` and `subjects.read`; audited.
    pub async fn read_mail(&self, who: &Principal, id: Uuid) -> VaultResult<MailView> {
        self.require(who, Permission::TokensManage)?;
        self.require(who, Permission::SubjectsRead)?;
        let row = self
            .store
            .get_mail(self.tenant, id)
            .await
            .map_err(VaultError::store("outbox message"))?;
        let opened = self.open_mail(&row)?;
        self.append_audit(vec![self.audit(
            who,
            "outbox.read",
            row.subject_id,
            None,
            json!({ "message": id, "content": opened.is_some() }),
        )])
        .await?;
        let (to, rendered) = match opened {
            Some((to, r)) => (Some(to), Some(r)),
            None => (None, None),
        };
        Ok(MailView {
            message: view(row),
            to,
            mail_subject: rendered.as_ref().map(|r| r.subject.clone()),
            body: rendered.map(|r| r.body),
        })
    }

    /// The address and rendered mail of a message still holding its sealed fields.
    fn open_mail(&self, row: &OutboxRow) -> VaultResult<Option<(String, mail::Rendered)>> {
        let (Some(to), Some(params)) = (&row.to_ciphertext, &row.params_ciphertext) else {
            return Ok(None);
        };
        let to = self.outbox.open(row.tenant_id, row.id, FIELD_TO, to)?;
        let to = String::from_utf8(to)
            .map_err(|_| VaultError::Internal("outbox address is not UTF-8".into()))?;
        let params = self
            .outbox
            .open(row.tenant_id, row.id, FIELD_PARAMS, params)?;
        let params: Value =
            serde_json::from_slice(&params).map_err(|e| VaultError::Internal(e.to_string()))?;
        let rendered = mail::render(&row.template, &row.lang, &params)
            .map_err(|e| VaultError::Internal(e.to_string()))?;
        Ok(Some((to, rendered)))
    }

    /// Delivers one message (the `mail.send` job). Idempotent: a message already sent is not
    /// sent again. `last_attempt` marks the message failed for good when this attempt fails.
    /// The error text names the failure, never the address.
    pub async fn deliver_mail(
        &self,
        tenant: Uuid,
        id: Uuid,
        mailer: &Mailer,
        last_attempt: bool,
    ) -> Result<(), String> {
        let row = self
            .store
            .get_mail(tenant, id)
            .await
            .map_err(|e| format!("outbox message {id}: {e}"))?;
        if row.state == outbox_state::SENT {
            return Ok(());
        }
        let opened = self.open_mail(&row).map_err(|e| e.to_string())?;
        let Some((to, rendered)) = opened else {
            return Err(format!("outbox message {id} has no content to send"));
        };
        match mailer.send_as(&to, &rendered, id).await {
            Ok(message_id) => {
                self.store
                    .mark_mail_sent(tenant, id, &message_id, self.now())
                    .await
                    .map_err(|e| e.to_string())?;
                metrics::counter!("vern_mail_sent_total", "template" => row.template.clone())
                    .increment(1);
                Ok(())
            }
            Err(e) => {
                let error = e.to_string();
                self.store
                    .mark_mail_attempt_failed(tenant, id, &error, last_attempt, self.now())
                    .await
                    .map_err(|e| e.to_string())?;
                metrics::counter!("vern_mail_failed_total", "template" => row.template.clone())
                    .increment(1);
                Err(error)
            }
        }
    }
}
