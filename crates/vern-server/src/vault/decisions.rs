//! Decisions through the vault: resolve the subject (by id or by identifier), load what the
//! decision needs from the store, and let `vern_core::decision::decide` answer.
//!
//! A subject's decision state and the identifier lookups come from the node's
//! [`DecisionCache`](super::cache::DecisionCache) when it is trusted (see its docs for how a
//! change on this node is honoured at once and one on any node within half a second), else
//! from the database.
//!
//! Every decision is kept in the decision audit (`decision_log`, decision 0017), written
//! behind the answer; its `decision_id` finds it there ([`Vault::decision_record`]).
//!
//! A bulk call (decision 0017) is decided under one policy version and one `now`, in three
//! passes: the items the cache can answer, on every core in contiguous chunks, each group of
//! [`PROBE_GROUP`] items decided under one read lock of the cache (shared by the cores); then
//! the cache misses one by one through the database (which fills the cache); then the log
//! blocks, one per chunk, again on every core.

use std::borrow::Cow;
use std::sync::Arc;

use serde::Deserialize;
use serde_json::json;
use uuid::Uuid;
use vern_core::access::Permission;
use vern_core::consent::ConsentState;
use vern_core::decision::{self, AddressKind, DecisionInput, Objections};
use vern_core::ids::to_micros;
use vern_core::records::legal_basis_name;
use vern_policy::Policy;
use vern_store::consent::ConsentStore;
use vern_store::{DecisionLogStore, Store};

use super::cache::{Found, HashEntry, Probe, SubjectEntry, hash_key, push_hash_key};
use super::consent::{SUPPRESSIBLE, core_objections, core_state};
use super::decision_log::{BlockBuilder, DecisionRecord, LogEntry, read_entry, run_flusher};
use super::{DecisionRequest, DecisionView, Principal, Vault, VaultError, VaultResult};
use crate::error::FieldError;

/// The reason given for a subject id that names no subject.
pub const UNKNOWN_SUBJECT: &str = "unknown_subject";

/// Most recipients one bulk call may carry.
pub const MAX_BULK_DECISIONS: usize = 100_000;

/// Fewest items worth a thread of their own in a bulk call.
const MIN_PER_THREAD: usize = 4096;
/// Most threads one bulk call uses.
const MAX_THREADS: usize = 8;
/// Items looked up and decided under one read lock of the cache (a writer waits at most one
/// group).
const PROBE_GROUP: usize = 256;

/// A string of a request body: borrowed from the body unless it had escapes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BodyStr<'a>(pub Cow<'a, str>);

impl std::ops::Deref for BodyStr<'_> {
    type Target = str;
    fn deref(&self) -> &str {
        &self.0
    }
}

impl<'de: 'a, 'a> Deserialize<'de> for BodyStr<'a> {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> serde::de::Visitor<'de> for V {
            type Value = Cow<'de, str>;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a string")
            }
            fn visit_borrowed_str<E: serde::de::Error>(
                self,
                v: &'de str,
            ) -> Result<Self::Value, E> {
                Ok(Cow::Borrowed(v))
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Self::Value, E> {
                Ok(Cow::Owned(v.to_owned()))
            }
            fn visit_string<E: serde::de::Error>(self, v: String) -> Result<Self::Value, E> {
                Ok(Cow::Owned(v))
            }
        }
        d.deserialize_str(V).map(BodyStr)
    }
}

impl<'a> From<&'a str> for BodyStr<'a> {
    fn from(s: &'a str) -> Self {
        BodyStr(Cow::Borrowed(s))
    }
}

/// One request of a bulk call, as [`DecisionRequest`] but borrowing its strings from the
/// body: a campaign list of 100,000 recipients is parsed without 300,000 small allocations.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BulkItem<'a> {
    #[serde(default)]
    pub subject_id: Option<Uuid>,
    #[serde(default, borrow)]
    pub identifier: Option<BulkIdentifier<'a>>,
    #[serde(borrow)]
    pub purpose: BodyStr<'a>,
    #[serde(default, borrow)]
    pub channel: Option<BodyStr<'a>>,
    #[serde(default, borrow)]
    pub message_class: Option<BodyStr<'a>>,
}

/// The identifier of a [`BulkItem`].
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BulkIdentifier<'a> {
    #[serde(borrow)]
    pub kind: BodyStr<'a>,
    #[serde(borrow)]
    pub value: BodyStr<'a>,
}

impl<'a> From<&'a DecisionRequest> for BulkItem<'a> {
    fn from(r: &'a DecisionRequest) -> Self {
        BulkItem {
            subject_id: r.subject_id,
            identifier: r.identifier.as_ref().map(|i| BulkIdentifier {
                kind: i.kind.as_str().into(),
                value: i.value.as_str().into(),
            }),
            purpose: r.purpose.as_str().into(),
            channel: r.channel.as_deref().map(Into::into),
            message_class: r.message_class.as_deref().map(Into::into),
        }
    }
}

/// One answer of a bulk call (the `decision_id` comes from its chunk).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Decided {
    pub allowed: bool,
    pub basis: Option<&'static str>,
    pub reason: &'static str,
    /// The subject the request resolved to, if any.
    pub subject: Option<Uuid>,
}

/// The answers of one chunk of a bulk call: one block of the decision log.
#[derive(Debug, Clone)]
pub struct DecidedChunk {
    block: Uuid,
    pub items: Vec<Decided>,
}

impl DecidedChunk {
    /// The id of the chunk's `i`-th decision.
    pub fn decision_id(&self, i: usize) -> Uuid {
        // A chunk holds at most MAX_BULK_DECISIONS < 2^17 items.
        Uuid::from_u128(self.block.as_u128() | i as u128)
    }
}

/// The answers of a bulk call, in request order, chunk after chunk.
#[derive(Debug, Clone)]
pub struct BulkDecisions {
    pub policy_version: String,
    pub chunks: Vec<DecidedChunk>,
}

impl BulkDecisions {
    pub fn len(&self) -> usize {
        self.chunks.iter().map(|c| c.items.len()).sum()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The answers as views (for callers in process: the CLI's campaign filter).
    pub fn views(&self) -> Vec<DecisionView> {
        let mut out = Vec::with_capacity(self.len());
        for c in &self.chunks {
            for (i, d) in c.items.iter().enumerate() {
                out.push(DecisionView {
                    allowed: d.allowed,
                    basis: d.basis.map(str::to_owned),
                    reason: d.reason.to_owned(),
                    policy_version: self.policy_version.clone(),
                    decision_id: c.decision_id(i),
                    subject_id: d.subject,
                });
            }
        }
        out
    }
}

/// The identifier a request was asked by, as the log keeps it: kind and blind index.
/// The kind is borrowed for the fixed kinds and the index is an array: no allocation per
/// recipient of a bulk call.
type AskedBy = Option<(Cow<'static, str>, [u8; 32])>;

/// What the cache pass made of one item.
enum Slot {
    Done(Decided, AskedBy),
    /// Needs the database.
    Miss,
    Invalid(FieldError),
}

/// Runs `f` over contiguous chunks of `items` on up to [`MAX_THREADS`] threads (the calling
/// one included), each given its chunk's offset; results in chunk order.
fn par_chunks<T: Sync, R: Send>(
    items: &[T],
    f: impl Fn(usize, &[T]) -> R + Sync,
) -> VaultResult<Vec<R>> {
    let cores = std::thread::available_parallelism().map_or(1, usize::from);
    let threads = cores
        .min(MAX_THREADS)
        .min(items.len().div_ceil(MIN_PER_THREAD))
        .max(1);
    let per = items.len().div_ceil(threads).max(1);
    if threads == 1 {
        return Ok(vec![f(0, items)]);
    }
    std::thread::scope(|scope| {
        let f = &f;
        let mut chunks = items.chunks(per).enumerate();
        let first = chunks.next();
        let handles: Vec<_> = chunks
            .map(|(n, chunk)| scope.spawn(move || f(n * per, chunk)))
            .collect();
        let mut out = Vec::with_capacity(handles.len() + 1);
        if let Some((_, chunk)) = first {
            out.push(f(0, chunk));
        }
        for h in handles {
            out.push(
                h.join()
                    .map_err(|_| VaultError::Internal("a bulk decision worker failed".into()))?,
            );
        }
        Ok(out)
    })
}

fn field_of(prefix: &str, name: &str) -> String {
    if prefix.is_empty() {
        name.to_owned()
    } else {
        format!("{prefix}.{name}")
    }
}

/// Blocks deleted per statement when the decision log is pruned.
const PRUNE_BATCH: u32 = 5_000;

impl Vault {
    /// One decision. See the module docs.
    pub async fn decide(
        &self,
        who: &Principal,
        req: &DecisionRequest,
    ) -> VaultResult<DecisionView> {
        self.require(who, Permission::SubjectsRead)?;
        let policy = self.policy();
        let now = self.now();
        let item = BulkItem::from(req);
        let (d, asked_by) = self.decide_slow(&policy, now, "", &item).await?;
        self.ensure_flusher();
        let (decision_id, over) = self.decision_log.record_single(&log_entry(
            now,
            &item,
            &d,
            asked_by.as_ref(),
            &policy.content_hash,
        ));
        if over {
            self.flush_quietly().await;
        }
        Ok(DecisionView {
            allowed: d.allowed,
            basis: d.basis.map(str::to_owned),
            reason: d.reason.to_owned(),
            policy_version: policy.content_hash.clone(),
            decision_id,
            subject_id: d.subject,
        })
    }

    /// Many decisions, in request order. A malformed item fails the call with its index in
    /// the field path, so a list is never half-decided silently.
    pub async fn decide_bulk(
        &self,
        who: &Principal,
        reqs: &[DecisionRequest],
    ) -> VaultResult<Vec<DecisionView>> {
        let items: Vec<BulkItem<'_>> = reqs.iter().map(BulkItem::from).collect();
        Ok(self.decide_bulk_items(who, &items).await?.views())
    }

    /// [`Vault::decide_bulk`] over borrowed items, answering compactly (the HTTP route
    /// writes the JSON itself). See the module docs for the passes.
    pub async fn decide_bulk_items(
        &self,
        who: &Principal,
        items: &[BulkItem<'_>],
    ) -> VaultResult<BulkDecisions> {
        self.require(who, Permission::SubjectsRead)?;
        if items.len() > MAX_BULK_DECISIONS {
            return Err(VaultError::field(
                "",
                "too_many_items",
                format!("at most {MAX_BULK_DECISIONS} decisions per call"),
            ));
        }
        // An empty list is a client mistake (e.g. an empty file sent as NDJSON), not a campaign.
        if items.is_empty() {
            return Err(VaultError::field(
                "",
                "no_items",
                "send at least one decision request",
            ));
        }
        let policy = self.policy();
        let now = self.now();

        // 1. What the cache answers, on every core.
        let passes = par_chunks(items, |offset, chunk| {
            self.decide_cached(&policy, now, offset, chunk)
        })?;
        let mut slots: Vec<Slot> = Vec::with_capacity(items.len());
        for p in passes {
            slots.extend(p);
        }
        // The first invalid item fails the call (the misses before it cannot be invalid:
        // the database pass checks what the cache pass checked).
        if let Some(e) = slots.iter().find_map(|s| match s {
            Slot::Invalid(e) => Some(e.clone()),
            _ => None,
        }) {
            return Err(VaultError::Validation(vec![e]));
        }

        // 2. The misses, through the database (filling the cache).
        for (i, item) in items.iter().enumerate() {
            if matches!(slots[i], Slot::Miss) {
                let (d, asked_by) = self.decide_slow_named(&policy, now, i, item).await?;
                slots[i] = Slot::Done(d, asked_by);
            }
        }

        // 3. The log blocks, one per chunk, on every core.
        let pairs: Vec<(&BulkItem<'_>, &Slot)> = items.iter().zip(&slots).collect();
        let blocks = par_chunks(&pairs, |_, chunk| {
            let mut block = BlockBuilder::new(now, chunk.len());
            let mut decided = Vec::with_capacity(chunk.len());
            for (item, slot) in chunk {
                if let Slot::Done(d, asked_by) = slot {
                    block.push(&log_entry(
                        now,
                        item,
                        d,
                        asked_by.as_ref(),
                        &policy.content_hash,
                    ));
                    decided.push(*d);
                }
            }
            (block, decided)
        })?;
        self.ensure_flusher();
        let mut chunks = Vec::with_capacity(blocks.len());
        let mut over = false;
        for (block, items) in blocks {
            chunks.push(DecidedChunk {
                block: block.id(),
                items,
            });
            over |= self.decision_log.record_block(block);
        }
        if over {
            self.flush_quietly().await;
        }
        Ok(BulkDecisions {
            policy_version: policy.content_hash.clone(),
            chunks,
        })
    }

    /// The cache pass over one chunk of a bulk call.
    fn decide_cached(
        &self,
        policy: &Policy,
        now: i64,
        offset: usize,
        chunk: &[BulkItem<'_>],
    ) -> Vec<Slot> {
        struct Prep {
            address: AddressKind,
            asked_by: AskedBy,
            /// Where the cache key sits in `keys`.
            key: Option<std::ops::Range<usize>>,
        }
        let mut out = Vec::with_capacity(chunk.len());
        // The group's cache keys, end to end (one buffer instead of one `Vec` per recipient).
        let mut keys: Vec<u8> = Vec::with_capacity(PROBE_GROUP * 48);
        let mut preps: Vec<Option<Prep>> = Vec::with_capacity(PROBE_GROUP);
        let mut decided: Vec<Option<Decided>> = Vec::with_capacity(PROBE_GROUP);
        for (g, group) in chunk.chunks(PROBE_GROUP).enumerate() {
            preps.clear();
            keys.clear();
            let base = offset + g * PROBE_GROUP;
            let mut invalid: Vec<(usize, FieldError)> = Vec::new();
            for (j, item) in group.iter().enumerate() {
                let prep = match (&item.subject_id, &item.identifier) {
                    (Some(_), None) => Some(Prep {
                        address: AddressKind::Personal,
                        asked_by: None,
                        key: None,
                    }),
                    (None, Some(ident)) => {
                        match self.normalise_kind_value_static("", &ident.kind, &ident.value) {
                            Ok((kind, value)) => {
                                let address = if kind == "email"
                                    && self.is_role_address(policy, &item.purpose, &value)
                                {
                                    AddressKind::Role
                                } else {
                                    AddressKind::Personal
                                };
                                let hash = self.blind_index_array(&kind, &value);
                                let start = keys.len();
                                push_hash_key(&mut keys, &kind, &hash);
                                Some(Prep {
                                    address,
                                    asked_by: Some((kind, hash)),
                                    key: Some(start..keys.len()),
                                })
                            }
                            Err(_) => {
                                let prefix = format!("[{}].identifier", base + j);
                                if let Err(e) =
                                    self.normalise_kind_value(&prefix, &ident.kind, &ident.value)
                                {
                                    invalid.push((j, e));
                                }
                                None
                            }
                        }
                    }
                    _ => {
                        invalid.push((
                            j,
                            FieldError::new(
                                format!("[{}].subject_id", base + j),
                                "invalid_subject",
                                "give either `subject_id` or `identifier`",
                            ),
                        ));
                        None
                    }
                };
                preps.push(prep);
            }
            {
                let probes: Vec<Probe<'_>> = group
                    .iter()
                    .zip(&preps)
                    .map(|(item, prep)| match (prep, item.subject_id) {
                        (Some(Prep { key: Some(k), .. }), _) => Probe::Hash(&keys[k.clone()]),
                        (Some(_), Some(id)) => Probe::Subject(id),
                        // Invalid: a probe that cannot hit keeps the positions aligned.
                        _ => Probe::Subject(Uuid::nil()),
                    })
                    .collect();
                // Decided under the cache's read lock, borrowing the entries.
                self.cache.probe_many(&probes, |j, found| {
                    let (Some(Some(prep)), Some(item)) = (preps.get(j), group.get(j)) else {
                        decided.push(None);
                        return;
                    };
                    decided.push(match found {
                        Found::Miss => None,
                        Found::Subject(id, e) => {
                            let mut d =
                                decide_with(policy, now, item, Some(e), false, prep.address);
                            d.subject = Some(id);
                            Some(d)
                        }
                        Found::Nobody { suppressed } => Some(decide_with(
                            policy,
                            now,
                            item,
                            None,
                            suppressed,
                            prep.address,
                        )),
                    });
                });
            }
            let mut invalid = invalid.into_iter().peekable();
            for (j, (prep, hit)) in preps.iter_mut().zip(decided.drain(..)).enumerate() {
                if invalid.peek().is_some_and(|(at, _)| *at == j) {
                    if let Some((_, e)) = invalid.next() {
                        out.push(Slot::Invalid(e));
                    }
                    continue;
                }
                match (prep.take(), hit) {
                    (Some(prep), Some(d)) => out.push(Slot::Done(d, prep.asked_by)),
                    _ => out.push(Slot::Miss),
                }
            }
        }
        out
    }

    /// The database pass for item `i` of a bulk call: a validation error names the item.
    async fn decide_slow_named(
        &self,
        policy: &Policy,
        now: i64,
        i: usize,
        item: &BulkItem<'_>,
    ) -> VaultResult<(Decided, AskedBy)> {
        match self.decide_slow(policy, now, "", item).await {
            // Name the item only on failure (no string per recipient on the fast path).
            Err(VaultError::Validation(_)) => {
                self.decide_slow(policy, now, &format!("[{i}]"), item).await
            }
            other => other,
        }
    }

    /// One decision, reading the database for whatever the cache does not hold.
    async fn decide_slow(
        &self,
        policy: &Policy,
        now: i64,
        prefix: &str,
        req: &BulkItem<'_>,
    ) -> VaultResult<(Decided, AskedBy)> {
        let mut address = AddressKind::Personal;
        let mut asked_by = None;
        // The subject, and for an address of nobody known, whether it is suppressed.
        let (subject, unknown_suppressed) = match (&req.subject_id, &req.identifier) {
            (Some(id), None) => (Some(*id), false),
            (None, Some(identifier)) => {
                let (kind, value) = self
                    .normalise_kind_value_static(
                        &field_of(prefix, "identifier"),
                        &identifier.kind,
                        &identifier.value,
                    )
                    .map_err(|e| VaultError::Validation(vec![e]))?;
                if kind == "email" && self.is_role_address(policy, &req.purpose, &value) {
                    address = AddressKind::Role;
                }
                let hash = self.blind_index_array(&kind, &value);
                let entry = self.resolve_hash(&kind, hash.to_vec()).await?;
                asked_by = Some((kind, hash));
                (entry.subject, entry.suppressed)
            }
            _ => {
                return Err(VaultError::field(
                    field_of(prefix, "subject_id"),
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
                    let d = Decided {
                        allowed: false,
                        basis: policy
                            .purpose(&req.purpose)
                            .map(|p| legal_basis_name(*p.legal_basis.get_ref())),
                        reason: UNKNOWN_SUBJECT,
                        subject: Some(id),
                    };
                    return Ok((d, asked_by));
                }
                Err(other) => return Err(other),
            },
            None => None,
        };
        let mut d = decide_with(
            policy,
            now,
            req,
            loaded.as_deref(),
            unknown_suppressed,
            address,
        );
        d.subject = subject;
        Ok((d, asked_by))
    }

    /// Whether `email` (normalised) is a role address under one of the purpose's gates.
    fn is_role_address(&self, policy: &Policy, purpose: &str, email: &str) -> bool {
        let Some((local, _)) = email.rsplit_once('@') else {
            return false;
        };
        policy.purpose(purpose).is_some_and(|p| {
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

    // ---- the decision audit ----

    fn ensure_flusher(&self) {
        if self.decision_log.claim_flusher() {
            tokio::spawn(run_flusher(
                Arc::downgrade(&self.decision_log),
                self.store.clone(),
                self.tenant,
            ));
        }
    }

    async fn flush_quietly(&self) {
        if let Err(e) = self.decision_log.flush(&self.store, self.tenant).await {
            tracing::warn!(error = %e, "decision log: writing pending decisions failed; will retry");
        }
    }

    /// Writes the decisions still pending in memory (at shutdown; before a lookup).
    pub async fn flush_decisions(&self) -> VaultResult<()> {
        self.decision_log
            .flush(&self.store, self.tenant)
            .await
            .map_err(VaultError::store("decision log"))
    }

    /// Deletes the decision audit's blocks older than `keep` (the log's retention: proof of
    /// why a message was allowed is needed for as long as a claim about it can be made, not
    /// for ever), in batches; audits the count. Returns how many blocks went.
    pub async fn prune_decision_log(
        &self,
        who: &Principal,
        keep: time::Duration,
    ) -> VaultResult<u64> {
        self.require(who, Permission::AuditRead)?;
        self.require(who, Permission::TokensManage)?;
        let before = to_micros(self.clock().now() - keep);
        let mut pruned = 0;
        loop {
            let n = self
                .store
                .prune_decision_blocks(self.tenant, before, PRUNE_BATCH)
                .await
                .map_err(VaultError::store("decision log"))?;
            pruned += n;
            if n < u64::from(PRUNE_BATCH) {
                break;
            }
        }
        if pruned > 0 {
            self.append_audit(vec![self.audit(
                who,
                "decision_log.prune",
                None,
                None,
                json!({ "blocks": pruned, "before": before }),
            )])
            .await?;
        }
        Ok(pruned)
    }

    /// A decision by its `decision_id`: what was asked, the answer, and the policy version
    /// (needs `audit.read`). Decisions of this node are found at once (pending ones are
    /// written first); those of other nodes once their flusher has written them.
    pub async fn decision_record(
        &self,
        who: &Principal,
        decision_id: Uuid,
    ) -> VaultResult<DecisionRecord> {
        self.require(who, Permission::AuditRead)?;
        self.flush_decisions().await?;
        let (block, index) = super::decision_log::split_decision_id(decision_id);
        let row = self
            .store
            .decision_block(self.tenant, block)
            .await
            .map_err(VaultError::store("decision"))?
            .ok_or(VaultError::NotFound("decision"))?;
        if i64::from(index) >= row.n {
            return Err(VaultError::NotFound("decision"));
        }
        read_entry(&row, index)
            .map_err(|_| VaultError::Internal(format!("decision block {block} is corrupt")))
    }
}

/// What the log keeps of one decision.
fn log_entry<'a>(
    now: i64,
    item: &'a BulkItem<'_>,
    d: &'a Decided,
    asked_by: Option<&'a (Cow<'static, str>, [u8; 32])>,
    policy_version: &'a str,
) -> LogEntry<'a> {
    LogEntry {
        at: now,
        subject: d.subject,
        identifier: asked_by.map(|(k, h)| (k.as_ref(), h.as_slice())),
        purpose: loggable(&item.purpose, d.reason == "unknown_purpose"),
        channel: item
            .channel
            .as_deref()
            .map(|c| loggable(c, d.reason == "unknown_channel")),
        message_class: item
            .message_class
            .as_deref()
            .map(|c| loggable(c, d.reason == "unknown_message_class")),
        allowed: d.allowed,
        basis: d.basis,
        reason: d.reason,
        policy_version,
    }
}

/// What the decision log keeps of a purpose, channel or message class from the request: the
/// string when it can be a policy id, otherwise [`NOT_A_POLICY_ID`]. A caller that sends an
/// email address or a name where a purpose belongs must not have it stored in plaintext (the
/// decision log is not encrypted); the answer's reason still says what was wrong.
fn loggable(s: &str, known_unknown: bool) -> &str {
    let id_like = (1..=64).contains(&s.len())
        && s.bytes().next().is_some_and(|b| b.is_ascii_lowercase())
        && s.bytes().all(|b| {
            b.is_ascii_lowercase() || b.is_ascii_digit() || matches!(b, b'_' | b'.' | b':' | b'-')
        });
    if id_like && !known_unknown {
        s
    } else {
        NOT_A_POLICY_ID
    }
}

/// Stands in the decision log for a request string that is not a policy id.
pub const NOT_A_POLICY_ID: &str = "(not a policy id)";

/// The decision for a subject's state (`None`: an address of nobody known).
fn decide_with(
    policy: &Policy,
    now: i64,
    req: &BulkItem<'_>,
    entry: Option<&SubjectEntry>,
    unknown_suppressed: bool,
    address: AddressKind,
) -> Decided {
    let none = EMPTY.get_or_init(Default::default);
    let (subject_type, consent, objections, restricted, suppressed) = match entry {
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
        now,
    };
    let d = decision::decide(policy, &input);
    Decided {
        allowed: d.allowed,
        basis: d.basis,
        reason: d.reason.as_str(),
        subject: None,
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

#[cfg(test)]
mod log_tests {
    use super::{NOT_A_POLICY_ID, loggable};

    #[test]
    fn only_policy_id_like_strings_reach_the_decision_log() {
        assert_eq!(loggable("marketing.send", false), "marketing.send");
        assert_eq!(loggable("email", false), "email");
        assert_eq!(loggable("email", true), NOT_A_POLICY_ID);
        for personal in [
            "ola@example.com",
            "Ola Nordmann",
            "+47 415 77 319",
            "",
            "ÆØÅ",
        ] {
            assert_eq!(loggable(personal, false), NOT_A_POLICY_ID, "{personal}");
        }
        assert_eq!(loggable(&"a".repeat(65), false), NOT_A_POLICY_ID);
    }
}
