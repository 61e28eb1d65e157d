//! Decisions through the vault: resolve the subject (by id or by identifier), load what the
//! decision needs from the store, and let `vern_core::decision::decide` answer.
//!
//! Everything is read from the shared database on every call; there is no per-process cache,
//! so a withdrawal or objection committed on any node is honoured by the very next decision on
//! every node. Decisions are not written to the audit log one by one (a campaign asks millions
//! of times); the `decision_id` identifies the answer in the caller's own logs.

use uuid::Uuid;
use vern_core::access::Permission;
use vern_core::decision::{self, AddressKind, DecisionInput};
use vern_core::ids::new_id;
use vern_core::records::legal_basis_name;
use vern_store::Store;
use vern_store::consent::{ConsentContext, ConsentStore};

use super::consent::{SUPPRESSIBLE, core_objections, core_state};
use super::{DecisionRequest, DecisionView, Principal, Vault, VaultError, VaultResult};

/// The reason given for a subject id that names no subject.
pub const UNKNOWN_SUBJECT: &str = "unknown_subject";

/// Most recipients one bulk call may carry.
pub const MAX_BULK_DECISIONS: usize = 100_000;

impl Vault {
    /// One decision. See the module docs.
    pub async fn decide(
        &self,
        who: &Principal,
        req: &DecisionRequest,
    ) -> VaultResult<DecisionView> {
        self.require(who, Permission::SubjectsRead)?;
        self.decide_one("", req).await
    }

    /// Many decisions, in request order. A malformed item fails the call with its index in
    /// the field path, so a list is never half-decided silently.
    pub async fn decide_bulk(
        &self,
        who: &Principal,
        reqs: &[DecisionRequest],
    ) -> VaultResult<Vec<DecisionView>> {
        self.require(who, Permission::SubjectsRead)?;
        if reqs.len() > MAX_BULK_DECISIONS {
            return Err(VaultError::field(
                "",
                "too_many_items",
                format!("at most {MAX_BULK_DECISIONS} decisions per call"),
            ));
        }
        // An empty list is a client mistake (e.g. an empty file sent as NDJSON), not a campaign.
        if reqs.is_empty() {
            return Err(VaultError::field(
                "",
                "no_items",
                "send at least one decision request",
            ));
        }
        let mut out = Vec::with_capacity(reqs.len());
        for (i, req) in reqs.iter().enumerate() {
            out.push(self.decide_one(&format!("[{i}]"), req).await?);
        }
        Ok(out)
    }

    async fn decide_one(&self, prefix: &str, req: &DecisionRequest) -> VaultResult<DecisionView> {
        let field =
            |name: &str| format!("{prefix}{}{name}", if prefix.is_empty() { "" } else { "." });
        // The subject and the suppression hashes to check.
        let (subject, hashes): (Option<Uuid>, Vec<(String, Vec<u8>)>) =
            match (&req.subject_id, &req.identifier) {
                (Some(id), None) => (Some(*id), Vec::new()),
                (None, Some(identifier)) => {
                    let (kind, value) = self
                        .normalise_identifier(&field("identifier"), identifier)
                        .map_err(|e| VaultError::Validation(vec![e]))?;
                    let hash = self.blind_index(&kind, &value);
                    let found = self
                        .store
                        .find_by_blind_index(self.tenant, &kind, &hash)
                        .await
                        .map_err(VaultError::store("subject"))?;
                    (found, vec![(kind, hash)])
                }
                _ => {
                    return Err(VaultError::field(
                        field("subject_id"),
                        "invalid_subject",
                        "give either `subject_id` or `identifier`",
                    ));
                }
            };
        let loaded = match subject {
            Some(id) => match self.decision_context(id, hashes.clone()).await {
                Ok(l) => Some(l),
                // An id of no subject (erased, or never known): a denial, not an error, so one
                // stale id cannot fail a whole campaign list.
                Err(VaultError::NotFound(_)) => {
                    return Ok(DecisionView {
                        allowed: false,
                        basis: self
                            .policy()
                            .purpose(&req.purpose)
                            .map(|p| legal_basis_name(*p.legal_basis.get_ref()).to_owned()),
                        reason: UNKNOWN_SUBJECT.to_owned(),
                        policy_version: self.policy().content_hash.clone(),
                        decision_id: new_id(),
                        subject_id: Some(id),
                    });
                }
                Err(other) => return Err(other),
            },
            None => None,
        };
        let suppressed = match &loaded {
            Some(l) => l.suppressed,
            None => self.any_suppressed(&hashes).await?,
        };
        let (subject_type, ctx) = match loaded {
            Some(l) => (Some(l.subject_type), l.ctx),
            None => (None, Default::default()),
        };
        let consent = core_state(&ctx.state);
        let objections = core_objections(&ctx.objections);
        let input = DecisionInput {
            purpose: &req.purpose,
            channel: req.channel.as_deref(),
            message_class: req.message_class.as_deref(),
            subject_type: subject_type.as_deref(),
            consent: &consent,
            objections: &objections,
            restricted: ctx.restricted,
            suppressed,
            // Whether an address names a person is not known from the address itself; the
            // conservative default applies marketing law's consent rule.
            address: AddressKind::Personal,
            now: self.now(),
        };
        let d = decision::decide(&self.policy(), &input);
        Ok(DecisionView {
            allowed: d.allowed,
            basis: d.basis.map(str::to_owned),
            reason: d.reason.as_str().to_owned(),
            policy_version: self.policy().content_hash.clone(),
            decision_id: new_id(),
            subject_id: subject,
        })
    }
}

/// What a decision needs about one known subject.
pub(crate) struct SubjectContext {
    pub subject_type: String,
    pub ctx: ConsentContext,
    pub suppressed: bool,
}

impl Vault {
    /// Loads the subject's type, consent context and whether any of its email/phone
    /// identifiers (or `extra` hashes) is on the suppression list.
    pub(crate) async fn decision_context(
        &self,
        id: Uuid,
        mut hashes: Vec<(String, Vec<u8>)>,
    ) -> VaultResult<SubjectContext> {
        let row = self
            .store
            .get_subject(self.tenant, id)
            .await
            .map_err(VaultError::store("subject"))?;
        let identifiers = self
            .store
            .list_identifiers(self.tenant, id)
            .await
            .map_err(VaultError::store("subject"))?;
        hashes.extend(
            identifiers
                .into_iter()
                .filter(|i| SUPPRESSIBLE.contains(&i.kind.as_str()))
                .map(|i| (i.kind, i.blind_index)),
        );
        let ctx = self
            .store
            .consent_context(self.tenant, id)
            .await
            .map_err(VaultError::store("subject"))?;
        Ok(SubjectContext {
            subject_type: row.subject_type,
            ctx,
            suppressed: self.any_suppressed(&hashes).await?,
        })
    }

    async fn any_suppressed(&self, hashes: &[(String, Vec<u8>)]) -> VaultResult<bool> {
        for (kind, hash) in hashes {
            if !SUPPRESSIBLE.contains(&kind.as_str()) {
                continue;
            }
            let hits = self
                .store
                .suppressed_among(self.tenant, kind, vec![hash.clone()])
                .await
                .map_err(VaultError::store("suppression"))?;
            if !hits.is_empty() {
                return Ok(true);
            }
        }
        Ok(false)
    }
}
