//! Data portability (Art. 20): a ZIP with the data the subject provided (records from a
//! `direct` source) and the data observed about them (`tracking` sources), where the legal
//! basis is consent or a contract (Art. 20(1)(a)); as JSON (`data.json`, schema in
//! `docs/portability.md`, categories, purposes and bases as W3C DPV terms) and CSV
//! (`records.csv`), with a `README.txt`. What is left out is counted by reason, never silently
//! dropped. The read is audited (counts only).

use std::collections::BTreeMap;

use serde_json::{Value, json};
use uuid::Uuid;
use vern_core::access::Permission;
use vern_policy::model::SourceKind;
use vern_store::Store;

use super::{Principal, Vault, VaultError, VaultResult, time_of};

/// The version of the `data.json` schema (`docs/portability.md`).
pub const PORTABILITY_SCHEMA: &str = "https://vern.dev/schemas/portability/v1";

/// The DPV personal-data term of a category (longest matching prefix; `dpv:PersonalData` when
/// none fits).
pub fn dpv_category(category: &str) -> &'static str {
    const MAP: &[(&str, &str)] = &[
        ("identity", "dpv-pd:Name"),
        ("contact.email", "dpv-pd:EmailAddress"),
        ("contact.phone", "dpv-pd:TelephoneNumber"),
        ("contact.postal", "dpv-pd:PhysicalAddress"),
        ("contact", "dpv-pd:Contact"),
        ("employment", "dpv-pd:Professional"),
        ("account.username", "dpv-pd:Username"),
        ("account.login_id", "dpv-pd:Identifier"),
        ("account.credentials", "dpv-pd:Password"),
        ("online.ip", "dpv-pd:IPAddress"),
        ("online.cookie_id", "dpv-pd:OnlineIdentifier"),
        ("online.device", "dpv-pd:DeviceBased"),
        ("behaviour", "dpv-pd:Behavioural"),
        ("inferred", "dpv-pd:Profile"),
        ("content", "dpv-pd:Communication"),
        ("commercial", "dpv-pd:Transactional"),
        ("finance", "dpv-pd:Financial"),
        ("support", "dpv-pd:Communication"),
        ("security", "dpv-pd:Tracking"),
        ("recruitment", "dpv-pd:Professional"),
    ];
    MAP.iter()
        .filter(|(prefix, _)| vern_policy::category_covers(prefix, category))
        .max_by_key(|(prefix, _)| prefix.len())
        .map_or("dpv:PersonalData", |(_, term)| term)
}

/// The DPV purpose term of a purpose id (by its family).
pub fn dpv_purpose(purpose: &str) -> &'static str {
    let family = purpose.split('.').next().unwrap_or("");
    match family {
        "sales" | "service" => "dpv:ServiceProvision",
        "marketing" => "dpv:Marketing",
        "recruitment" => "dpv:HumanResourceManagement",
        "account" => "dpv:AccountManagement",
        "support" => "dpv:CustomerCare",
        "security" => "dpv:EnforceSecurity",
        "compliance" | "authority" => "dpv:LegalCompliance",
        "product" => "dpv:ServiceOptimisation",
        "forum" => "dpv:CommunicationManagement",
        "group" | "partner" => "dpv:OrganisationGovernance",
        _ => "dpv:Purpose",
    }
}

/// The DPV legal basis term of a stored basis name.
pub fn dpv_basis(basis: &str) -> &'static str {
    match basis {
        "consent" => "dpv:Consent",
        "contract" => "dpv:Contract",
        "legal_obligation" => "dpv:LegalObligation",
        "legitimate_interest" => "dpv:LegitimateInterest",
        "vital_interest" => "dpv:VitalInterest",
        "public_task" => "dpv:PublicTask",
        _ => "dpv:LegalBasis",
    }
}

impl Vault {
    /// The portability ZIP of `subject` (see the module documentation).
    pub async fn portability_package(
        &self,
        who: &Principal,
        subject: Uuid,
    ) -> VaultResult<Vec<u8>> {
        self.require(who, Permission::SubjectsRead)?;
        let srow = self.subject_row(subject).await?;
        let key = self.subject_key(subject).await?;
        let rows = self
            .store
            .list_records(self.tenant, subject)
            .await
            .map_err(VaultError::store("subject"))?;
        if let Some(r) = rows.iter().find(|r| !self.can_category(who, &r.category)) {
            return Err(self
                .deny(
                    who,
                    "subject.portability",
                    Some(subject),
                    json!({ "categories": [r.category] }),
                    format!(
                        "the role `{}` may not read every category of this subject; a portability package must be complete",
                        who.role
                    ),
                )
                .await);
        }
        let mut items = Vec::new();
        let mut excluded: BTreeMap<&'static str, u64> = BTreeMap::new();
        let mut csv = csv::Writer::from_writer(Vec::new());
        let csv_err = |e: csv::Error| VaultError::Internal(format!("csv: {e}"));
        csv.write_record([
            "record_id",
            "kind",
            "category",
            "dpv_category",
            "value",
            "source",
            "purposes",
            "dpv_purposes",
            "legal_basis",
            "collected_at",
        ])
        .map_err(csv_err)?;
        for r in &rows {
            let kind = match self.policy().source(&r.source).map(|s| *s.kind.get_ref()) {
                Some(SourceKind::Direct) => "provided",
                Some(SourceKind::Tracking) => "observed",
                _ => {
                    *excluded.entry("not_provided_or_observed").or_default() += 1;
                    continue;
                }
            };
            if !matches!(r.legal_basis.as_str(), "consent" | "contract") {
                *excluded.entry("basis_not_consent_or_contract").or_default() += 1;
                continue;
            }
            let view = self.open_record(&key, r)?;
            let collected = time_of(r.collected_at)
                .format(&time::format_description::well_known::Rfc3339)
                .map_err(|e| VaultError::Internal(e.to_string()))?;
            let dpv_purposes: Vec<&str> = r.purposes.iter().map(|p| dpv_purpose(p)).collect();
            csv.write_record([
                r.id.to_string().as_str(),
                kind,
                &r.category,
                dpv_category(&r.category),
                &match &view.value {
                    Value::String(s) => s.clone(),
                    other => other.to_string(),
                },
                &r.source,
                &r.purposes.join(" "),
                &dpv_purposes.join(" "),
                &r.legal_basis,
                &collected,
            ])
            .map_err(csv_err)?;
            items.push(json!({
                "id": r.id,
                "kind": kind,
                "category": r.category,
                "dpv:hasPersonalData": dpv_category(&r.category),
                "value": view.value,
                "source": r.source,
                "purposes": r.purposes,
                "dpv:hasPurpose": dpv_purposes,
                "legal_basis": r.legal_basis,
                "dpv:hasLegalBasis": dpv_basis(&r.legal_basis),
                "collected_at": collected,
            }));
        }
        let (events, events_csv) = self.portable_events(subject, &mut excluded).await?;
        let now = time_of(self.now())
            .format(&time::format_description::well_known::Rfc3339)
            .map_err(|e| VaultError::Internal(e.to_string()))?;
        let data = json!({
            "$schema": PORTABILITY_SCHEMA,
            "@context": {
                "dpv": "https://w3id.org/dpv#",
                "dpv-pd": "https://w3id.org/dpv/pd#"
            },
            "controller": self.policy().raw.controller.name.get_ref(),
            "subject_id": subject,
            "subject_type": srow.subject_type,
            "generated_at": now,
            "records": items,
            "events": events,
            "excluded": excluded,
        });
        let data =
            serde_json::to_vec_pretty(&data).map_err(|e| VaultError::Internal(e.to_string()))?;
        let csv = csv
            .into_inner()
            .map_err(|e| VaultError::Internal(e.to_string()))?;
        let readme = format!(
            "Data portability package (GDPR art. 20) from {}.\n\n\
             data.json  - the data you provided to us and the data we observed about you, where we\n             process it on the basis of your consent or a contract; categories, purposes and\n             legal bases are also given as W3C Data Privacy Vocabulary (DPV) terms.\n\
             records.csv - the same records, one per line.\n\
             events.csv  - the activity we recorded about you (page views, clicks, ...) with your\n             consent, one event per line; also under \"events\" in data.json.\n\n\
             Schema: {PORTABILITY_SCHEMA} (see docs/portability.md in vern).\n\
             Records left out, by reason, are counted under \"excluded\" in data.json.\n",
            self.policy().raw.controller.name.get_ref()
        );
        let zip = crate::zip::build(&[
            ("data.json", data),
            ("records.csv", csv),
            ("events.csv", events_csv),
            ("README.txt", readme.into_bytes()),
        ])
        .ok_or_else(|| VaultError::Internal("the package exceeds the ZIP limits".into()))?;
        self.append_audit(vec![self.audit(
            who,
            "subject.portability",
            Some(subject),
            None,
            json!({ "records": items.len(), "events": events.len(), "excluded": excluded }),
        )])
        .await?;
        Ok(zip)
    }

    /// The stored tracking events that are portable (observed data, Art. 20): those admitted
    /// for a purpose resting on consent or a contract, as JSON items and as CSV. Others are
    /// counted under `excluded`.
    async fn portable_events(
        &self,
        subject: Uuid,
        excluded: &mut BTreeMap<&'static str, u64>,
    ) -> VaultResult<(Vec<Value>, Vec<u8>)> {
        let policy = self.policy();
        let mut csv = csv::Writer::from_writer(Vec::new());
        let csv_err = |e: csv::Error| VaultError::Internal(format!("csv: {e}"));
        csv.write_record([
            "at",
            "kind",
            "topic",
            "channel",
            "ip_truncated",
            "purpose",
            "legal_basis",
        ])
        .map_err(csv_err)?;
        let mut items = Vec::new();
        for e in self.open_events(subject).await? {
            let basis = policy
                .purpose(&e.purpose)
                .map(|p| vern_core::records::legal_basis_name(*p.legal_basis.get_ref()));
            let Some(basis @ ("consent" | "contract")) = basis else {
                *excluded
                    .entry("event_basis_not_consent_or_contract")
                    .or_default() += 1;
                continue;
            };
            let at = time_of(e.at)
                .format(&time::format_description::well_known::Rfc3339)
                .map_err(|err| VaultError::Internal(err.to_string()))?;
            csv.write_record([
                at.as_str(),
                &e.kind,
                e.topic.as_deref().unwrap_or(""),
                e.channel.as_deref().unwrap_or(""),
                e.ip_truncated.as_deref().unwrap_or(""),
                &e.purpose,
                basis,
            ])
            .map_err(csv_err)?;
            items.push(json!({
                "kind": "observed",
                "event": e.kind,
                "topic": e.topic,
                "at": at,
                "channel": e.channel,
                "ip_truncated": e.ip_truncated,
                "purpose": e.purpose,
                "dpv:hasPurpose": dpv_purpose(&e.purpose),
                "legal_basis": basis,
                "dpv:hasLegalBasis": dpv_basis(basis),
            }));
        }
        let csv = csv
            .into_inner()
            .map_err(|e| VaultError::Internal(e.to_string()))?;
        Ok((items, csv))
    }
}
