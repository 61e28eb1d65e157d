//! The decision audit (decision 0017): every decision is kept, compactly, so it can be proved
//! later why an answer was given, and looked up by its `decision_id`.
//!
//! Decisions are grouped in *blocks*: one per bulk call, and one per flush interval for single
//! decisions on this node. A block's id is a UUIDv7 whose low [`INDEX_BITS`] bits are zero; a
//! decision's id is the block id with those bits set to its index in the block. So a decision
//! id names its block (one key lookup) and its place in it, and the ids of a call stay unique,
//! time-ordered UUIDv7s.
//!
//! Blocks are written *behind* the answers: a decision is answered first and its block is
//! written by the flusher ([`FLUSH_EVERY`]), by a lookup (which flushes first, so a node finds
//! the decisions it just made), by a caller that finds too much pending
//! ([`MAX_PENDING_DECISIONS`]: back-pressure instead of unbounded memory), and at shutdown
//! ([`super::Vault::flush_decisions`]). What a crash loses is at most the last interval's
//! blocks; those answers are re-derivable from the durable consent ledger, the change log and
//! the stored policy version they name.
//!
//! The encoding (version 1) of a block body:
//! `0x01`, varint string count, each string as varint length + UTF-8; then per decision a
//! flags byte (allowed, subject, identifier, channel, message class, basis), the zigzag varint
//! of its time minus the block's time (µs), varint string refs of purpose, [channel],
//! [message class], reason, [basis], policy version, then [16-byte subject id], [identifier
//! kind ref, varint length, blind index]. Strings from the request are cut to
//! [`MAX_LOGGED_STR`] bytes (policy ids are short; anything longer is not a policy id anyway).

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, MutexGuard, PoisonError, Weak};
use std::time::Duration;

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;
use vern_core::ids::{from_micros, new_id};
use vern_store::{DecisionBlockRow, DecisionLogStore, SqlStore};

/// Low bits of a decision id that hold its index in its block.
pub const INDEX_BITS: u32 = 17;
/// Most decisions in one block (a bulk call of 100,000 fits).
pub const BLOCK_CAPACITY: u32 = 1 << INDEX_BITS;
const INDEX_MASK: u128 = (1u128 << INDEX_BITS) - 1;
/// How often pending blocks are written.
pub const FLUSH_EVERY: Duration = Duration::from_millis(100);
/// Pending decisions beyond which a caller writes the pending blocks itself before answering.
pub const MAX_PENDING_DECISIONS: usize = 1_000_000;
/// Longest request string kept in the log, in bytes.
pub const MAX_LOGGED_STR: usize = 128;

const VERSION: u8 = 1;
const F_ALLOWED: u8 = 1;
const F_SUBJECT: u8 = 2;
const F_IDENTIFIER: u8 = 4;
const F_CHANNEL: u8 = 8;
const F_CLASS: u8 = 16;
const F_BASIS: u8 = 32;

/// One decision as the log keeps it.
#[derive(Debug, Clone, Copy)]
pub(crate) struct LogEntry<'a> {
    pub at: i64,
    pub subject: Option<Uuid>,
    /// The identifier kind and blind index the request named, if it named one.
    pub identifier: Option<(&'a str, &'a [u8])>,
    pub purpose: &'a str,
    pub channel: Option<&'a str>,
    pub message_class: Option<&'a str>,
    pub allowed: bool,
    pub basis: Option<&'a str>,
    pub reason: &'a str,
    pub policy_version: &'a str,
}

/// A decision read back from the log.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[schema(example = json!({
    "decision_id": "01936f5e-0000-7000-8000-000000000003",
    "decided_at": "2026-11-29T12:00:00Z",
    "subject_id": "01936f5e-1111-7000-8000-000000000000",
    "asked_by": "subject_id",
    "purpose": "marketing.send",
    "channel": "email",
    "message_class": "newsletter",
    "allowed": false,
    "basis": "consent",
    "reason": "consent_withdrawn",
    "policy_version": "0f3a…"
}))]
pub struct DecisionRecord {
    pub decision_id: Uuid,
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub decided_at: time::OffsetDateTime,
    /// The subject the request resolved to, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subject_id: Option<Uuid>,
    /// `subject_id`, or the identifier kind the request named (`email`, `phone`, …). The
    /// identifier itself is kept only as its keyed blind index, never shown.
    pub asked_by: String,
    pub purpose: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub channel: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message_class: Option<String>,
    pub allowed: bool,
    pub basis: Option<String>,
    pub reason: String,
    /// Content hash of the policy version the decision was made under.
    pub policy_version: String,
}

/// A block being filled.
#[derive(Debug)]
pub(crate) struct BlockBuilder {
    id: Uuid,
    started_at: i64,
    n: u32,
    strings: Vec<String>,
    /// Seeded foldhash: the strings come from requests, and SipHash was a visible share of a
    /// bulk call.
    refs: HashMap<String, u32, foldhash::fast::RandomState>,
    /// The last few strings interned, by content: most entries repeat them.
    recent: [u32; 7],
    entries: Vec<u8>,
}

/// A fresh block id: a UUIDv7 with the index bits cleared.
fn block_id() -> Uuid {
    Uuid::from_u128(new_id().as_u128() & !INDEX_MASK)
}

/// The block of a decision id, and the decision's index in it.
pub fn split_decision_id(id: Uuid) -> (Uuid, u32) {
    let v = id.as_u128();
    // The mask keeps 17 bits: the cast cannot truncate.
    #[allow(clippy::cast_possible_truncation)]
    let index = (v & INDEX_MASK) as u32;
    (Uuid::from_u128(v & !INDEX_MASK), index)
}

fn cut(s: &str) -> &str {
    if s.len() <= MAX_LOGGED_STR {
        return s;
    }
    let mut end = MAX_LOGGED_STR;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    &s[..end]
}

fn put_varint(out: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        // Low seven bits with the continuation bit: fits a byte by construction.
        #[allow(clippy::cast_possible_truncation)]
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    #[allow(clippy::cast_possible_truncation)]
    out.push(v as u8);
}

fn zigzag(v: i64) -> u64 {
    ((v << 1) ^ (v >> 63)) as u64
}

fn unzigzag(v: u64) -> i64 {
    ((v >> 1) as i64) ^ -((v & 1) as i64)
}

impl BlockBuilder {
    /// An empty block; `expected` sizes the buffer.
    pub(crate) fn new(started_at: i64, expected: usize) -> Self {
        BlockBuilder {
            id: block_id(),
            started_at,
            n: 0,
            strings: Vec::new(),
            refs: HashMap::default(),
            recent: [u32::MAX; 7],
            entries: Vec::with_capacity(expected.saturating_mul(24)),
        }
    }

    pub(crate) fn id(&self) -> Uuid {
        self.id
    }

    pub(crate) fn len(&self) -> usize {
        self.n as usize
    }

    pub(crate) fn is_full(&self) -> bool {
        self.n >= BLOCK_CAPACITY
    }

    /// The id of the `index`-th decision of this block.
    pub(crate) fn decision_id(&self, index: u32) -> Uuid {
        Uuid::from_u128(self.id.as_u128() | u128::from(index))
    }

    fn intern(&mut self, slot: usize, s: &str) -> u32 {
        let s = cut(s);
        let last = self.recent[slot];
        if let Some(known) = self.strings.get(last as usize)
            && known == s
        {
            return last;
        }
        let r = match self.refs.get(s) {
            Some(r) => *r,
            None => {
                let r = u32::try_from(self.strings.len()).unwrap_or(u32::MAX);
                self.strings.push(s.to_owned());
                self.refs.insert(s.to_owned(), r);
                r
            }
        };
        self.recent[slot] = r;
        r
    }

    /// Appends a decision; returns its id. The caller checks [`Self::is_full`] first.
    pub(crate) fn push(&mut self, e: &LogEntry<'_>) -> Uuid {
        let mut flags = 0;
        for (on, bit) in [
            (e.allowed, F_ALLOWED),
            (e.subject.is_some(), F_SUBJECT),
            (e.identifier.is_some(), F_IDENTIFIER),
            (e.channel.is_some(), F_CHANNEL),
            (e.message_class.is_some(), F_CLASS),
            (e.basis.is_some(), F_BASIS),
        ] {
            if on {
                flags |= bit;
            }
        }
        let purpose = self.intern(0, e.purpose);
        let channel = e.channel.map(|c| self.intern(1, c));
        let class = e.message_class.map(|c| self.intern(2, c));
        let reason = self.intern(3, e.reason);
        let basis = e.basis.map(|b| self.intern(4, b));
        let policy = self.intern(5, e.policy_version);
        let kind = e.identifier.map(|(k, _)| self.intern(6, k));
        let out = &mut self.entries;
        out.push(flags);
        put_varint(out, zigzag(e.at.wrapping_sub(self.started_at)));
        put_varint(out, u64::from(purpose));
        for r in [channel, class].into_iter().flatten() {
            put_varint(out, u64::from(r));
        }
        put_varint(out, u64::from(reason));
        if let Some(b) = basis {
            put_varint(out, u64::from(b));
        }
        put_varint(out, u64::from(policy));
        if let Some(s) = e.subject {
            out.extend_from_slice(s.as_bytes());
        }
        if let (Some(k), Some((_, hash))) = (kind, e.identifier) {
            put_varint(out, u64::from(k));
            put_varint(out, hash.len() as u64);
            out.extend_from_slice(hash);
        }
        let id = self.decision_id(self.n);
        self.n += 1;
        id
    }

    /// The row to store.
    pub(crate) fn encode(&self, tenant: Uuid) -> DecisionBlockRow {
        let mut body = Vec::with_capacity(self.entries.len() + 16 + self.strings.len() * 16);
        body.push(VERSION);
        put_varint(&mut body, self.strings.len() as u64);
        for s in &self.strings {
            put_varint(&mut body, s.len() as u64);
            body.extend_from_slice(s.as_bytes());
        }
        body.extend_from_slice(&self.entries);
        DecisionBlockRow {
            tenant_id: tenant,
            id: self.id,
            created_at: self.started_at,
            n: i64::from(self.n),
            body,
        }
    }
}

/// Why a stored block could not be read: it is corrupt (or of an unknown version).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Corrupt;

struct Reader<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl<'a> Reader<'a> {
    fn byte(&mut self) -> Result<u8, Corrupt> {
        let b = *self.bytes.get(self.at).ok_or(Corrupt)?;
        self.at += 1;
        Ok(b)
    }

    fn varint(&mut self) -> Result<u64, Corrupt> {
        let mut v = 0u64;
        for shift in (0..64).step_by(7) {
            let b = self.byte()?;
            v |= u64::from(b & 0x7f) << shift;
            if b < 0x80 {
                return Ok(v);
            }
        }
        Err(Corrupt)
    }

    fn take(&mut self, n: usize) -> Result<&'a [u8], Corrupt> {
        let end = self.at.checked_add(n).ok_or(Corrupt)?;
        let s = self.bytes.get(self.at..end).ok_or(Corrupt)?;
        self.at = end;
        Ok(s)
    }

    fn len(&mut self) -> Result<usize, Corrupt> {
        usize::try_from(self.varint()?).map_err(|_| Corrupt)
    }
}

/// Reads the `index`-th decision of a stored block.
pub(crate) fn read_entry(row: &DecisionBlockRow, index: u32) -> Result<DecisionRecord, Corrupt> {
    let mut r = Reader {
        bytes: &row.body,
        at: 0,
    };
    if r.byte()? != VERSION || i64::from(index) >= row.n {
        return Err(Corrupt);
    }
    let count = r.len()?;
    let mut strings = Vec::with_capacity(count.min(row.body.len()));
    for _ in 0..count {
        let n = r.len()?;
        let s = std::str::from_utf8(r.take(n)?).map_err(|_| Corrupt)?;
        strings.push(s);
    }
    let string = |r: &mut Reader<'_>| -> Result<String, Corrupt> {
        let i = r.len()?;
        strings.get(i).map(|s| (*s).to_owned()).ok_or(Corrupt)
    };
    for i in 0..=index {
        let flags = r.byte()?;
        let at = row.created_at.wrapping_add(unzigzag(r.varint()?));
        let purpose = string(&mut r)?;
        let channel = if flags & F_CHANNEL != 0 {
            Some(string(&mut r)?)
        } else {
            None
        };
        let message_class = if flags & F_CLASS != 0 {
            Some(string(&mut r)?)
        } else {
            None
        };
        let reason = string(&mut r)?;
        let basis = if flags & F_BASIS != 0 {
            Some(string(&mut r)?)
        } else {
            None
        };
        let policy_version = string(&mut r)?;
        let subject_id = if flags & F_SUBJECT != 0 {
            Some(Uuid::from_slice(r.take(16)?).map_err(|_| Corrupt)?)
        } else {
            None
        };
        let asked_by = if flags & F_IDENTIFIER != 0 {
            let kind = string(&mut r)?;
            let n = r.len()?;
            r.take(n)?;
            kind
        } else {
            "subject_id".to_owned()
        };
        if i == index {
            return Ok(DecisionRecord {
                decision_id: Uuid::from_u128(row.id.as_u128() | u128::from(index)),
                decided_at: from_micros(at).ok_or(Corrupt)?,
                subject_id,
                asked_by,
                purpose,
                channel,
                message_class,
                allowed: flags & F_ALLOWED != 0,
                basis,
                reason,
                policy_version,
            });
        }
    }
    Err(Corrupt)
}

#[derive(Debug, Default)]
struct Pending {
    /// The block the node's single decisions go to.
    singles: Option<BlockBuilder>,
    /// Blocks ready to be written.
    sealed: Vec<BlockBuilder>,
    /// Decisions in `sealed` and `singles`.
    decisions: usize,
}

/// The node's pending blocks and their writer. Owned by the vault.
#[derive(Debug)]
pub(crate) struct DecisionLog {
    pending: Mutex<Pending>,
    /// Held while blocks are written, so a flush that returns has written everything that was
    /// pending when it started.
    writing: tokio::sync::Mutex<()>,
    flusher: AtomicBool,
}

impl DecisionLog {
    pub(crate) fn new() -> Self {
        DecisionLog {
            pending: Mutex::new(Pending::default()),
            writing: tokio::sync::Mutex::new(()),
            flusher: AtomicBool::new(false),
        }
    }

    fn lock(&self) -> MutexGuard<'_, Pending> {
        // Each operation leaves `Pending` whole (a push, a take): a poisoned lock is used as is.
        self.pending.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Records one single decision; returns its id.
    pub(crate) fn record_single(&self, e: &LogEntry<'_>) -> (Uuid, bool) {
        let mut p = self.lock();
        let block = match &mut p.singles {
            Some(b) if !b.is_full() => b,
            slot => {
                if let Some(full) = slot.take() {
                    p.sealed.push(full);
                }
                p.singles.insert(BlockBuilder::new(e.at, 64))
            }
        };
        let id = block.push(e);
        p.decisions += 1;
        (id, p.decisions > MAX_PENDING_DECISIONS)
    }

    /// Queues a finished block (a bulk call); true if the caller should flush.
    pub(crate) fn record_block(&self, block: BlockBuilder) -> bool {
        if block.len() == 0 {
            return false;
        }
        let mut p = self.lock();
        p.decisions += block.len();
        p.sealed.push(block);
        p.decisions > MAX_PENDING_DECISIONS
    }

    /// Whether the flusher task still has to be started (true once).
    pub(crate) fn claim_flusher(&self) -> bool {
        !self.flusher.swap(true, Ordering::AcqRel)
    }

    /// Writes every pending block. On failure the blocks are put back (and tried again by the
    /// next flush), so a database hiccup loses nothing that is still in memory.
    pub(crate) async fn flush(
        &self,
        store: &SqlStore,
        tenant: Uuid,
    ) -> vern_store::StoreResult<()> {
        let _writing = self.writing.lock().await;
        let blocks: Vec<BlockBuilder> = {
            let mut p = self.lock();
            let mut blocks = std::mem::take(&mut p.sealed);
            blocks.extend(p.singles.take());
            p.decisions = 0;
            blocks
        };
        if blocks.is_empty() {
            return Ok(());
        }
        let n: usize = blocks.iter().map(BlockBuilder::len).sum();
        // Encoding copies the entries once; the builders are kept until the write succeeds.
        let rows: Vec<DecisionBlockRow> = blocks.iter().map(|b| b.encode(tenant)).collect();
        match store.append_decision_blocks(rows).await {
            Ok(()) => {
                metrics::counter!("vern_decisions_logged_total").increment(n as u64);
                Ok(())
            }
            Err(e) => {
                let mut p = self.lock();
                p.decisions += n;
                p.sealed.extend(blocks);
                Err(e)
            }
        }
    }
}

/// Writes the log's pending blocks every [`FLUSH_EVERY`] until the vault is gone.
pub(crate) async fn run_flusher(log: Weak<DecisionLog>, store: SqlStore, tenant: Uuid) {
    let mut failing = false;
    loop {
        tokio::time::sleep(FLUSH_EVERY).await;
        let Some(log) = log.upgrade() else {
            return;
        };
        match log.flush(&store, tenant).await {
            Ok(()) if failing => {
                tracing::info!("decision log: writing again");
                failing = false;
            }
            Ok(()) => {}
            Err(e) => {
                if !failing {
                    tracing::warn!(error = %e, "decision log: writing pending decisions failed; will retry");
                    failing = true;
                }
            }
        }
        drop(log);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry<'a>(at: i64, subject: Option<Uuid>, reason: &'a str) -> LogEntry<'a> {
        LogEntry {
            at,
            subject,
            identifier: None,
            purpose: "marketing.send",
            channel: Some("email"),
            message_class: Some("newsletter"),
            allowed: reason == "consent_given",
            basis: Some("consent"),
            reason,
            policy_version: "abc",
        }
    }

    #[test]
    fn decisions_round_trip_through_a_block() {
        let subject = new_id();
        let hash = [7u8; 32];
        let mut b = BlockBuilder::new(1_000_000, 4);
        let a = b.push(&entry(1_000_000, Some(subject), "consent_given"));
        let long = "p".repeat(300);
        let c = b.push(&LogEntry {
            identifier: Some(("email", &hash)),
            purpose: &long,
            channel: None,
            message_class: None,
            basis: None,
            ..entry(999_000, None, "suppressed")
        });
        let d = b.push(&entry(1_000_500, Some(subject), "consent_withdrawn"));
        let row = b.encode(Uuid::nil());
        assert_eq!(row.n, 3);
        for (id, i) in [(a, 0), (c, 1), (d, 2)] {
            let (block, index) = split_decision_id(id);
            assert_eq!((block, index), (row.id, i));
        }
        let first = read_entry(&row, 0).unwrap();
        assert_eq!(first.decision_id, a);
        assert_eq!(first.subject_id, Some(subject));
        assert_eq!(first.asked_by, "subject_id");
        assert!(first.allowed);
        assert_eq!(first.reason, "consent_given");
        assert_eq!(first.channel.as_deref(), Some("email"));
        let second = read_entry(&row, 1).unwrap();
        assert_eq!(second.asked_by, "email");
        assert_eq!(second.purpose.len(), MAX_LOGGED_STR);
        assert_eq!((second.channel, second.basis), (None, None));
        assert_eq!(second.decided_at, from_micros(999_000).unwrap());
        let third = read_entry(&row, 2).unwrap();
        assert_eq!(
            (third.allowed, third.reason.as_str()),
            (false, "consent_withdrawn")
        );
        assert_eq!(read_entry(&row, 3), Err(Corrupt));
    }

    #[test]
    fn a_truncated_or_foreign_body_is_corrupt_not_a_panic() {
        let mut b = BlockBuilder::new(0, 1);
        b.push(&entry(0, Some(new_id()), "no_consent"));
        let row = b.encode(Uuid::nil());
        for cut in 0..row.body.len() {
            let mut short = row.clone();
            short.body.truncate(cut);
            assert_eq!(read_entry(&short, 0), Err(Corrupt), "cut at {cut}");
        }
        let mut foreign = row;
        foreign.body[0] = 9;
        assert_eq!(read_entry(&foreign, 0), Err(Corrupt));
    }

    #[test]
    fn block_ids_leave_room_for_every_index() {
        let mut b = BlockBuilder::new(0, 0);
        assert_eq!(b.id().as_u128() & INDEX_MASK, 0);
        assert_eq!(b.id().get_version_num(), 7);
        let last = b.decision_id(BLOCK_CAPACITY - 1);
        assert_eq!(split_decision_id(last), (b.id(), BLOCK_CAPACITY - 1));
        assert_eq!(last.get_version_num(), 7);
        b.n = BLOCK_CAPACITY;
        assert!(b.is_full());
    }
}
