//! Sub-processors added over the API, and the processor customers told about them.
//!
//! An addition is a policy change: the recipient is appended to the latest policy text, the
//! result is validated like any policy file (the validator's transfer rules apply: outside the
//! EEA an adequacy decision, SCCs or BCRs) and published as a new version, so the public
//! overview, the RoPA and the diff all see it. On top of the validator, vern refuses
//! derogations for a sub-processor and checks that an adequacy decision was in force on the DPA
//! date. Every processor customer then gets advance notice with its objection window; the new
//! version takes effect no earlier than the longest window and the policy's notice period.
//!
//! A customer's notice address is personal data of a contact person: it is sealed with a key
//! of its own, wrapped by the master key and stored with the ciphertext (`len ‖ wrapped ‖
//! sealed`), so a master-key rotation or loss treats it like subject data.

use serde_json::json;
use vern_core::crypto::SubjectKey;
use vern_core::crypto::{Aad, seal};
use vern_core::ids::new_id;
use vern_policy::Policy;
use vern_store::{
    PolicyVersionStore, ProcessorCustomerRow, SubprocessorAnnouncement, SubprocessorNoticeRow,
    SubprocessorObjectionRow,
};

use super::policy_versions::date_start;
use super::{
    Principal, ProcessorCustomerInput, ProcessorCustomerView, SubprocessorAdded, SubprocessorInput,
    SubprocessorNoticeView, SubprocessorObjectionInput, SubprocessorObjectionView, Vault,
    VaultError, VaultResult, time_of,
};

const DAY_MICROS: i64 = 86_400_000_000;
/// The objection window when a customer's DPA names none.
pub const DEFAULT_OBJECTION_DAYS: i64 = 30;

fn toml_str(s: &str) -> String {
    // A JSON string is a valid TOML basic string (same escapes).
    serde_json::to_string(s).unwrap_or_else(|_| "\"\"".to_owned())
}

fn toml_list(items: &[String]) -> String {
    let parts: Vec<String> = items.iter().map(|s| toml_str(s)).collect();
    format!("[{}]", parts.join(", "))
}

fn bad(field: &str, code: &str, reason: impl Into<String>) -> VaultError {
    VaultError::field(field, code, reason)
}

/// The `[[recipient]]` table for the input, after checks that keep the text well-formed.
fn recipient_toml(input: &SubprocessorInput) -> VaultResult<String> {
    let dpa = date_start(&input.dpa_date)
        .ok_or_else(|| bad("dpa_date", "invalid_date", "expected YYYY-MM-DD"))?;
    let country = input.country.trim().to_ascii_uppercase();
    if country.len() != 2 || !country.bytes().all(|b| b.is_ascii_uppercase()) {
        return Err(bad(
            "country",
            "invalid_country",
            "expected an ISO 3166-1 alpha-2 code",
        ));
    }
    for (field, value) in [
        ("id", &input.id),
        ("name", &input.name),
        ("service", &input.service),
    ] {
        if value.trim().is_empty() || value.len() > 200 {
            return Err(bad(field, "invalid_length", "expected 1 to 200 characters"));
        }
    }
    let mut t = String::from("\n[[recipient]]\n");
    t.push_str(&format!("id = {}\n", toml_str(&input.id)));
    t.push_str("kind = \"sub_processor\"\n");
    t.push_str(&format!("name = {}\n", toml_str(&input.name)));
    t.push_str(&format!(
        "description = {{ nb = {s}, en = {s} }}\n",
        s = toml_str(&input.service)
    ));
    t.push_str(&format!("country = {}\n", toml_str(&country)));
    t.push_str(&format!("dpa_date = {}\n", dpa.date()));
    t.push_str(&format!("processor = {}\n", toml_str(&input.processor)));
    t.push_str(&format!("purposes = {}\n", toml_list(&input.purposes)));
    t.push_str(&format!("categories = {}\n", toml_list(&input.categories)));
    if let Some(tr) = &input.transfer {
        if !matches!(tr.mechanism.as_str(), "adequacy" | "scc" | "bcr") {
            return Err(bad(
                "transfer.mechanism",
                "invalid_mechanism",
                "a sub-processor outside the EEA needs `adequacy`, `scc` or `bcr`",
            ));
        }
        if matches!(tr.mechanism.as_str(), "scc" | "bcr")
            && tr.reference.as_deref().is_none_or(|r| r.trim().is_empty())
        {
            return Err(bad(
                "transfer.reference",
                "missing_reference",
                "SCCs and BCRs need the reference of the signed clauses or the approval",
            ));
        }
        if tr.mechanism == "adequacy"
            && vern_policy::adequacy::adequacy_on(&country, dpa.date()).is_none()
        {
            return Err(bad(
                "transfer.mechanism",
                "no_adequacy",
                format!(
                    "no adequacy decision for {country} was in force on {}",
                    dpa.date()
                ),
            ));
        }
        let mut parts = vec![format!("mechanism = {}", toml_str(&tr.mechanism))];
        if let Some(r) = &tr.reference {
            parts.push(format!("reference = {}", toml_str(r)));
        }
        if let Some(v) = &tr.scc_version {
            parts.push(format!("scc_version = {}", toml_str(v)));
        }
        if let Some(m) = tr.scc_module {
            parts.push(format!("scc_module = {m}"));
        }
        if let Some(r) = &tr.tia_ref {
            parts.push(format!("tia_ref = {}", toml_str(r)));
        }
        if tr.dpf_certified {
            parts.push("dpf_certified = true".into());
        }
        t.push_str(&format!("transfer = {{ {} }}\n", parts.join(", ")));
    }
    Ok(t)
}

impl Vault {
    fn require_admin_role(&self, who: &Principal, what: &str) -> VaultResult<()> {
        if self.policy().role(&who.role).is_some_and(|r| r.admin) {
            Ok(())
        } else {
            Err(VaultError::Forbidden(format!(
                "the role `{}` may not {what}",
                who.role
            )))
        }
    }

    /// See the module documentation.
    pub async fn add_subprocessor(
        &self,
        who: &Principal,
        input: &SubprocessorInput,
    ) -> VaultResult<SubprocessorAdded> {
        self.require_admin_role(who, "add sub-processors")?;
        let base = self.latest_policy();
        if base.recipient(&input.id).is_some() {
            return Err(VaultError::Conflict(format!(
                "the policy already has a recipient `{}`",
                input.id
            )));
        }
        let mut source = base.source.to_string();
        if !source.ends_with('\n') {
            source.push('\n');
        }
        source.push_str(&recipient_toml(input)?);
        let (policy, _) = Policy::parse(&source).map_err(|d| {
            VaultError::Validation(
                d.errors()
                    .map(|e| crate::error::FieldError::new("", "invalid_subprocessor", &e.message))
                    .collect(),
            )
        })?;
        let customers = self
            .store
            .processor_customers(self.tenant)
            .await
            .map_err(VaultError::store("processor customer"))?;
        let now = self.now();
        let window = customers
            .iter()
            .map(|c| c.objection_days)
            .max()
            .unwrap_or(0)
            .max(*policy.raw.changes.notice_days.get_ref());
        let earliest = now.saturating_add(window.saturating_mul(DAY_MICROS));
        let effective = input
            .effective_at
            .map(vern_core::ids::to_micros)
            .unwrap_or(earliest);
        if effective < earliest {
            return Err(bad(
                "effective_at",
                "too_early",
                format!(
                    "customers may object for {window} days: the earliest date is {}",
                    time_of(earliest).date()
                ),
            ));
        }
        // The version, each customer's notice and its email commit in one transaction: a
        // failed publish leaves no notice, and no notice exists without its version.
        let version_id = new_id();
        let announce = self.announcement(&policy, input, &customers, version_id, effective, now)?;
        let version = self
            .publish_parsed(
                who,
                policy,
                Some(effective),
                now,
                "subprocessor.add",
                version_id,
                announce.clone(),
            )
            .await?;
        Ok(SubprocessorAdded {
            version,
            notices: announce.notices.iter().map(sp_notice_view).collect(),
        })
    }

    /// One notice per processor customer with its objection deadline, and the email telling
    /// the customer's contact address (sealed for the outbox) what is added and until when
    /// the customer may object.
    fn announcement(
        &self,
        policy: &Policy,
        input: &SubprocessorInput,
        customers: &[ProcessorCustomerRow],
        version_id: uuid::Uuid,
        effective: i64,
        now: i64,
    ) -> VaultResult<SubprocessorAnnouncement> {
        let lang = super::policy_versions::mail_lang(policy);
        let controller = &policy.raw.controller;
        let transfer = match &input.transfer {
            None => "none (within the EU/EEA)".to_owned(),
            Some(t) => match &t.reference {
                Some(r) => format!("{} ({r})", t.mechanism),
                None => t.mechanism.clone(),
            },
        };
        let mut out = SubprocessorAnnouncement::default();
        for c in customers {
            let objection_until = now.saturating_add(c.objection_days.saturating_mul(DAY_MICROS));
            let msg = match self.customer_address(c) {
                Some(to) => Some(self.seal_mail(
                    &to,
                    "subprocessor_notice",
                    &lang,
                    json!({
                        "controller": controller.name.get_ref(),
                        "controller_email": controller.email.get_ref(),
                        "customer": c.name,
                        "subprocessor": input.name,
                        "service": input.service,
                        "country": input.country.trim().to_ascii_uppercase(),
                        "transfer": transfer,
                        "categories": input.categories.join(", "),
                        "effective_date": time_of(effective).date().to_string(),
                        "objection_days": c.objection_days,
                        "objection_until": time_of(objection_until).date().to_string(),
                        "overview_url": "/v1/public/subprocessors",
                    }),
                    None,
                    Some(format!("subprocessor-notice:{version_id}:{}", c.id)),
                )?),
                None => {
                    tracing::warn!(customer = %c.id, "processor customer's notice address does not open: notice recorded without email");
                    None
                }
            };
            out.notices.push(SubprocessorNoticeRow {
                tenant_id: self.tenant,
                version_id,
                customer_id: c.id,
                recipient: input.id.clone(),
                queued_at: now,
                objection_until,
                outbox_id: msg.as_ref().map(|m| m.id),
                delivered_at: None,
            });
            out.mail.extend(msg);
        }
        Ok(out)
    }

    /// A customer's notice address (`len ‖ wrapped key ‖ sealed address`, see the module
    /// documentation), opened with the current or an earlier master key.
    fn customer_address(&self, c: &ProcessorCustomerRow) -> Option<String> {
        let (&len, rest) = c.contact_ct.split_first()?;
        let (wrapped, sealed) = rest.split_at_checked(usize::from(len))?;
        let key = std::iter::once(&self.master)
            .chain(self.previous.iter())
            .find_map(|m| SubjectKey::unwrap(m, self.tenant, c.id, wrapped).ok())?;
        let plain = vern_core::crypto::open(
            &key,
            &Aad::identifier_value(self.tenant, c.id, c.id),
            sealed,
        )
        .ok()?;
        String::from_utf8(plain)
            .ok()
            .filter(|a| crate::mail::valid_address(a))
    }

    fn latest_policy(&self) -> std::sync::Arc<Policy> {
        let set = match self.versions.read() {
            Ok(g) => g.clone(),
            Err(p) => p.into_inner().clone(),
        };
        set.latest()
            .map_or_else(|| self.fallback.policy.clone(), |v| v.policy.clone())
    }

    pub async fn add_processor_customer(
        &self,
        who: &Principal,
        input: &ProcessorCustomerInput,
    ) -> VaultResult<ProcessorCustomerView> {
        self.require_admin_role(who, "manage processor customers")?;
        if input.name.trim().is_empty() || input.name.len() > 200 {
            return Err(bad(
                "name",
                "invalid_length",
                "expected 1 to 200 characters",
            ));
        }
        if date_start(&input.dpa_signed_on).is_none() {
            return Err(bad("dpa_signed_on", "invalid_date", "expected YYYY-MM-DD"));
        }
        let email = input.notice_email.trim();
        let at = email.find('@');
        if email.len() > 254 || at.is_none_or(|i| i == 0 || i + 1 == email.len()) {
            return Err(bad(
                "notice_email",
                "invalid_email",
                "expected an email address",
            ));
        }
        let days = input.objection_days.unwrap_or(DEFAULT_OBJECTION_DAYS);
        if !(1..=365).contains(&days) {
            return Err(bad(
                "objection_days",
                "out_of_range",
                "expected 1 to 365 days",
            ));
        }
        let id = new_id();
        let key = SubjectKey::generate();
        let wrapped = key.wrap(&self.master, self.tenant, id)?;
        let sealed = seal(
            &key,
            &Aad::identifier_value(self.tenant, id, id),
            email.as_bytes(),
        )?;
        let mut contact_ct = Vec::with_capacity(1 + wrapped.len() + sealed.len());
        contact_ct.push(u8::try_from(wrapped.len()).unwrap_or(u8::MAX));
        contact_ct.extend_from_slice(&wrapped);
        contact_ct.extend_from_slice(&sealed);
        let row = ProcessorCustomerRow {
            tenant_id: self.tenant,
            id,
            name: input.name.trim().to_owned(),
            dpa_signed_on: input.dpa_signed_on.clone(),
            dpa_ref: input.dpa_ref.clone(),
            contact_ct,
            objection_days: days,
            created_at: self.now(),
        };
        let audit = self.audit(
            who,
            "processor_customer.add",
            None,
            None,
            json!({ "customer_id": id, "objection_days": days }),
        );
        self.store
            .add_processor_customer(row.clone(), vec![audit])
            .await
            .map_err(VaultError::store("processor customer"))?;
        Ok(customer_view(&row))
    }

    pub async fn processor_customers(
        &self,
        who: &Principal,
    ) -> VaultResult<Vec<ProcessorCustomerView>> {
        self.require_admin_role(who, "read processor customers")?;
        let rows = self
            .store
            .processor_customers(self.tenant)
            .await
            .map_err(VaultError::store("processor customer"))?;
        Ok(rows.iter().map(customer_view).collect())
    }

    pub async fn subprocessor_notices(
        &self,
        who: &Principal,
    ) -> VaultResult<Vec<SubprocessorNoticeView>> {
        self.require_admin_role(who, "read sub-processor notices")?;
        let rows = self
            .store
            .subprocessor_notices(self.tenant, None)
            .await
            .map_err(VaultError::store("sub-processor notice"))?;
        Ok(rows.iter().map(sp_notice_view).collect())
    }

    /// Records an objection within the customer's window for that sub-processor.
    pub async fn record_subprocessor_objection(
        &self,
        who: &Principal,
        input: &SubprocessorObjectionInput,
    ) -> VaultResult<SubprocessorObjectionView> {
        self.require_admin_role(who, "record objections")?;
        if input.reason.trim().is_empty() || input.reason.len() > 2000 {
            return Err(bad(
                "reason",
                "invalid_length",
                "expected 1 to 2000 characters",
            ));
        }
        let notices = self
            .store
            .subprocessor_notices(self.tenant, Some(input.customer_id))
            .await
            .map_err(VaultError::store("sub-processor notice"))?;
        let notice = notices
            .iter()
            .rev()
            .find(|n| n.recipient == input.recipient)
            .ok_or_else(|| {
                bad(
                    "recipient",
                    "no_notice",
                    "this customer was not notified of that sub-processor",
                )
            })?;
        let now = self.now();
        if now > notice.objection_until {
            return Err(bad(
                "recipient",
                "window_closed",
                format!(
                    "the objection window closed on {}",
                    time_of(notice.objection_until).date()
                ),
            ));
        }
        let row = SubprocessorObjectionRow {
            tenant_id: self.tenant,
            id: new_id(),
            customer_id: input.customer_id,
            version_id: notice.version_id,
            recipient: input.recipient.clone(),
            reason: input.reason.trim().to_owned(),
            at: now,
            recorded_by: who.actor.to_string(),
        };
        let audit = self.audit(
            who,
            "subprocessor.objection",
            None,
            None,
            json!({ "customer_id": row.customer_id, "recipient": row.recipient, "version_id": row.version_id }),
        );
        self.store
            .add_subprocessor_objection(row.clone(), vec![audit])
            .await
            .map_err(VaultError::store("sub-processor objection"))?;
        Ok(objection_view(&row))
    }

    pub async fn subprocessor_objections(
        &self,
        who: &Principal,
    ) -> VaultResult<Vec<SubprocessorObjectionView>> {
        self.require_admin_role(who, "read objections")?;
        let rows = self
            .store
            .subprocessor_objections(self.tenant)
            .await
            .map_err(VaultError::store("sub-processor objection"))?;
        Ok(rows.iter().map(objection_view).collect())
    }
}

fn customer_view(r: &ProcessorCustomerRow) -> ProcessorCustomerView {
    ProcessorCustomerView {
        id: r.id,
        name: r.name.clone(),
        dpa_signed_on: r.dpa_signed_on.clone(),
        dpa_ref: r.dpa_ref.clone(),
        objection_days: r.objection_days,
    }
}

fn sp_notice_view(r: &SubprocessorNoticeRow) -> SubprocessorNoticeView {
    SubprocessorNoticeView {
        customer_id: r.customer_id,
        version_id: r.version_id,
        recipient: r.recipient.clone(),
        queued_at: time_of(r.queued_at),
        objection_until: time_of(r.objection_until),
        email: r.outbox_id.is_some(),
        delivered_at: r.delivered_at.map(time_of),
    }
}

fn objection_view(r: &SubprocessorObjectionRow) -> SubprocessorObjectionView {
    SubprocessorObjectionView {
        id: r.id,
        customer_id: r.customer_id,
        version_id: r.version_id,
        recipient: r.recipient.clone(),
        reason: r.reason.clone(),
        at: time_of(r.at),
    }
}
