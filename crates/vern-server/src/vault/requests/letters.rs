//! The letters about a request (requirements §3.3), built as [`PendingMail`] and sealed into
//! the outbox in the same transaction as the change that causes them.

use serde_json::json;
use uuid::Uuid;
use vern_core::dsr::{Deadlines, Right, State};

use super::super::requests_types::{FulfilmentStatus, Lang};
use super::super::{Vault, VaultResult};
use super::{Loaded, date_text};
use vern_store::RequestChange;

/// A letter to queue with a change. The outbox seals it (address and parameters) in the same
/// transaction as the change.
#[derive(Clone)]
pub(crate) struct PendingMail {
    pub to: String,
    pub template: &'static str,
    pub lang: Lang,
    pub params: serde_json::Value,
    pub dedup_key: Option<String>,
}

/// A right's name in a letter.
pub(super) fn right_label(right: Right, lang: Lang) -> &'static str {
    match (right, lang) {
        (Right::Access, Lang::Nb) => "innsyn",
        (Right::Access, Lang::En) => "access",
        (Right::Rectification, Lang::Nb) => "retting",
        (Right::Rectification, Lang::En) => "rectification",
        (Right::Erasure, Lang::Nb) => "sletting",
        (Right::Erasure, Lang::En) => "erasure",
        (Right::Restriction, Lang::Nb) => "begrensning av behandling",
        (Right::Restriction, Lang::En) => "restriction of processing",
        (Right::Portability, Lang::Nb) => "dataportabilitet",
        (Right::Portability, Lang::En) => "data portability",
        (Right::Objection, Lang::Nb) => "protest",
        (Right::Objection, Lang::En) => "objection",
    }
}

pub(super) fn rights_label(rights: &[Right], lang: Lang) -> String {
    rights
        .iter()
        .map(|r| right_label(*r, lang))
        .collect::<Vec<_>>()
        .join(", ")
}

pub(super) fn status_label(s: FulfilmentStatus, lang: Lang) -> &'static str {
    match (s, lang) {
        (FulfilmentStatus::Done, Lang::Nb) => "utført",
        (FulfilmentStatus::Done, Lang::En) => "done",
        (FulfilmentStatus::Partial, Lang::Nb) => "delvis utført",
        (FulfilmentStatus::Partial, Lang::En) => "partly done",
        (FulfilmentStatus::Refused, Lang::Nb) => "avslått",
        (FulfilmentStatus::Refused, Lang::En) => "refused",
    }
}

/// The acknowledgement (requirements §3.3): reference, rights understood, `due_initial`.
pub(super) fn receipt_mail(
    to: &str,
    reference: &str,
    rights: &[Right],
    lang: Lang,
    d: &Deadlines,
    id: Uuid,
) -> PendingMail {
    PendingMail {
        to: to.to_owned(),
        template: "dsr_receipt",
        lang,
        params: json!({
            "reference": reference,
            "rights": rights_label(rights, lang),
            "received_on": date_text(d.received_on),
            "due": date_text(d.due_initial),
        }),
        dedup_key: Some(format!("dsr_receipt:{id}")),
    }
}

impl Vault {
    /// Seals letters into the change: they are queued in the outbox in its transaction.
    pub(super) fn with_mail(
        &self,
        mut change: RequestChange,
        mails: Vec<PendingMail>,
    ) -> VaultResult<RequestChange> {
        for m in mails {
            change.mail.push(self.seal_mail(
                &m.to,
                m.template,
                m.lang.as_str(),
                m.params,
                change.row.subject_id,
                m.dedup_key,
            )?);
        }
        Ok(change)
    }

    /// The closing letter: each right's outcome with what was done (the fulfilment's text),
    /// reason, legal basis and end date; `download` is the text with the download link.
    pub(super) fn completion_mail(
        &self,
        l: &Loaded,
        to: &str,
        state: State,
        download: Option<&str>,
    ) -> PendingMail {
        let (reason_w, basis_w, kept_w) = match l.lang {
            Lang::Nb => ("begrunnelse", "rettslig grunnlag", "oppbevares til"),
            Lang::En => ("reason", "legal basis", "kept until"),
        };
        let lines: Vec<String> = l
            .case
            .outcomes
            .iter()
            .map(|o| {
                let mut line = format!(
                    "- {}: {}",
                    right_label(o.right, l.lang),
                    status_label(o.status, l.lang)
                );
                if let Some(r) = &o.reason {
                    line.push_str(&format!("\n  {reason_w}: {r}"));
                }
                if let Some(b) = &o.legal_basis {
                    line.push_str(&format!("\n  {basis_w}: {b}"));
                }
                if let Some(k) = &o.kept_until {
                    line.push_str(&format!("\n  {kept_w}: {k}"));
                }
                if let Some(text) = &o.letter {
                    for l in text.lines() {
                        line.push_str(&format!("\n  {l}"));
                    }
                }
                line
            })
            .collect();
        let mut lines = lines;
        if let Some(d) = download {
            lines.push(String::new());
            lines.push(d.to_owned());
        }
        let policy = self.policy();
        let sa = &policy.raw.supervisory_authority;
        let template = if state == State::Completed {
            "dsr_completed"
        } else {
            "dsr_refused"
        };
        PendingMail {
            to: to.to_owned(),
            template,
            lang: l.lang,
            params: json!({
                "reference": l.row.reference,
                "outcomes": lines.join("\n"),
                "details": lines.join("\n"),
                "authority": sa.name.get_ref(),
                "authority_website": sa.website.get_ref(),
            }),
            dedup_key: Some(format!("dsr_close:{}", l.row.id)),
        }
    }

    pub(super) fn refusal_mail(
        &self,
        l: &Loaded,
        to: &str,
        kind: &str,
        reason: &str,
        basis: &str,
    ) -> PendingMail {
        let policy = self.policy();
        let sa = &policy.raw.supervisory_authority;
        let details = match l.lang {
            Lang::Nb => format!("Begrunnelse: {reason}\nRettslig grunnlag: {basis}"),
            Lang::En => format!("Reason: {reason}\nLegal basis: {basis}"),
        };
        PendingMail {
            to: to.to_owned(),
            template: "dsr_refused",
            lang: l.lang,
            params: json!({
                "reference": l.row.reference,
                "details": details,
                "authority": sa.name.get_ref(),
                "authority_website": sa.website.get_ref(),
            }),
            dedup_key: Some(format!("dsr_{kind}:{}", l.row.id)),
        }
    }
}
