//! Decisions through the vault: resolve the subject (by id or by identifier), load what the
//! decision needs from the store, and let `vern_core::decision::decide` answer.
//!
//! A subject's decision state and the identifier lookups come from the node's
//! [`DecisionCache`](super::cache::DecisionCache) when it is trusted (see its docs for how a
//! change on this node is honoured at once and one on any node within half a second), else
//! from the database. Decisions are not written to the audit log one by one (a campaign asks millions
//! of times); the `decision_id` identifies the answer in the caller's own logs.

use std::sync::Arc;

use uuid::Uuid;
use vern_core::access::Permission;
use vern_core::consent::ConsentState;
use vern_core::decision::{self, AddressKind, DecisionInput, Objections};
use vern_core::ids::new_id;
use vern_core::records::legal_basis_name;
use vern_store::Store;
use vern_store::consent::ConsentStore;

use super::cache::{HashEntry, SubjectEntry, hash_key};
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
            let d = match self.decide_one("", req).await {
                Ok(d) => d,
                // Name the item only on failure (no string per recipient on the fast path).
                Err(VaultError::Validation(_)) => self.decide_one(&format!("[{i}]"), req).await?,
                Err(e) => return Err(e),
            };
            out.push(d);
        }
        Ok(out)
    }

    async fn decide_one(&self, prefix: &str, req: &DecisionRequest) -> VaultResult<DecisionView> {
        let field =
            |name: &str| format!("{prefix}{}{name}", if prefix.is_empty() { "" } else { "." });
        let mut address = AddressKind::Personal;
        // The subject, and for an address of nobody known, whether it is suppressed.
        let (subject, unknown_suppressed) = match (&req.subject_id, &req.identifier) {
            (Some(id), None) => (Some(*id), false),
            (None, Some(identifier)) => {
                let (kind, value) = self
                    .normalise_identifier(&field("identifier"), identifier)
                    .map_err(|e| VaultError::Validation(vec![e]))?;
                if kind == "email" && self.is_role_address(&req.purpose, &value) {
                    address = AddressKind::Role;
                }
                let hash = self.blind_index(&kind, &value);
                let entry = self.resolve_hash(&kind, hash).await?;
                (entry.subject, entry.suppressed)
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
            Some(id) => match self.subject_entry(id).await {
                Ok(l) => Some(l),
                // An id of no subject (erased, or never known): a denial, not an error, so one
                // stale id cannot fail a whole campaign list.
                Err(VaultError::NotFound(_)) if req.subject_id.is_some() => {
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
        let none = EMPTY.get_or_init(Default::default);
        let (subject_type, consent, objections, restricted, suppressed) = match &loaded {
            Some(l) => (
                Some(l.subject_type.as_str()),
                &l.consent,
                &l.objections,
                l.restricted,
                l.suppressed,
            ),
            None => (None, &none.0, &none.1, false, unknown_suppressed),
        };
        let input = DecisionInput {
            purpose: &req.purpose,
            channel: req.channel.as_deref(),
            message_class: req.message_class.as_deref(),
            subject_type,
            consent,
            objections,
            restricted,
            suppressed,
            // A role address only when asked by an address the policy lists; otherwise the
            // conservative default applies marketing law's consent rule.
            address,
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

    /// Whether `email` (normalised) is a role address under one of the purpose's gates.
    fn is_role_address(&self, purpose: &str, email: &str) -> bool {
        let Some((local, _)) = email.rsplit_once('@') else {
            return false;
        };
        self.policy().purpose(purpose).is_some_and(|p| {
            p.gates.iter().any(|g| {
                g.role_addresses
                    .iter()
                    .any(|r| r.get_ref().eq_ignore_ascii_case(local))
            })
        })
    }

    /// What a blind index names, from the cache or the database. A cached answer naming a
    /// subject that is gone (erased on another node a moment ago) is looked up again.
    async fn resolve_hash(&self, kind: &str, hash: Vec<u8>) -> VaultResult<HashEntry> {
        let key = hash_key(kind, &hash);
        if let Some(e) = self.cache.hash(&key) {
            match e.subject {
                None => return Ok(e),
                Some(id) if self.cache.subject(id).is_some() => return Ok(e),
                Some(_) => {}
            }
        }
        let started = self.cache.begin_fill();
        let found = self
            .store
            .find_by_blind_index(self.tenant, kind, &hash)
            .await
            .map_err(VaultError::store("subject"))?;
        let suppressed = match found {
            Some(_) => false, // the subject's own entry says
            None => self.any_suppressed(&[(kind.to_owned(), hash)]).await?,
        };
        let entry = HashEntry {
            subject: found,
            suppressed,
        };
        self.cache.put_hash(started, key, entry);
        Ok(entry)
    }

    /// A subject's decision state, from the cache or the database (then cached).
    pub(crate) async fn subject_entry(&self, id: Uuid) -> VaultResult<Arc<SubjectEntry>> {
        if let Some(e) = self.cache.subject(id) {
            return Ok(e);
        }
        let started = self.cache.begin_fill();
        let entry = self.decision_context(id).await?;
        self.cache.put_subject(started, id, entry.clone());
        Ok(Arc::new(entry))
    }
}

/// The state of an address known as nobody's.
static EMPTY: std::sync::OnceLock<(ConsentState, Objections)> = std::sync::OnceLock::new();

impl Vault {
    /// Loads the subject's type, consent context and whether any of its email/phone
    /// identifiers is on the suppression list.
    async fn decision_context(&self, id: Uuid) -> VaultResult<SubjectEntry> {
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
        let hashes: Vec<(String, Vec<u8>)> = identifiers
            .into_iter()
            .filter(|i| SUPPRESSIBLE.contains(&i.kind.as_str()))
            .map(|i| (i.kind, i.blind_index))
            .collect();
        let ctx = self
            .store
            .consent_context(self.tenant, id)
            .await
            .map_err(VaultError::store("subject"))?;
        Ok(SubjectEntry {
            subject_type: row.subject_type,
            consent: core_state(&ctx.state),
            objections: core_objections(&ctx.objections),
            restricted: ctx.restricted,
            suppressed: self.any_suppressed(&hashes).await?,
            hashes: hashes.iter().map(|(k, h)| hash_key(k, h)).collect(),
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
