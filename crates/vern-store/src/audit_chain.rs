//! The audit hash chain, as pure functions: how an entry's hash is computed and how a run of
//! chained rows is verified. The store assigns sequence numbers and hashes when it appends;
//! anyone holding an export of the log can re-check it with [`verify_chain`].
//!
//! The encoding is our own rather than JSON so that it cannot drift with a serializer's
//! formatting choices: it is part of the evidence format and must stay byte-stable forever
//! (a unit test pins a hash, reproduced independently). With `lp(x) = be64(len x) ‖ x`,
//! `opt(None) = 0x00`, `opt(Some x) = 0x01 ‖ x`:
//!
//! ```text
//! hash = SHA-256( lp("vern-audit-v1") ‖ lp(prev_hash) ‖ be64(seq)
//!               ‖ tenant_id[16] ‖ id[16] ‖ be64(at) ‖ lp(actor) ‖ lp(action)
//!               ‖ opt(subject_id[16]) ‖ opt(lp(purpose)) ‖ lp(detail) )
//! ```
//!
//! A tenant's first entry has seq 1 and chains to [`GENESIS_HASH`] (32 zero bytes).

use sha2::{Digest, Sha256};
use uuid::Uuid;

use crate::model::{AuditRow, NewAuditEntry};

/// The `prev_hash` of a tenant's first entry.
pub const GENESIS_HASH: [u8; 32] = [0; 32];

/// Separates these hashes from any other SHA-256 use, and versions the encoding.
const DOMAIN: &[u8] = b"vern-audit-v1";

/// The hash of `entry` at position `seq`, chained to `prev_hash`.
pub fn entry_hash(prev_hash: &[u8], seq: i64, entry: &NewAuditEntry) -> Vec<u8> {
    let mut h = Sha256::new();
    put_bytes(&mut h, DOMAIN);
    put_bytes(&mut h, prev_hash);
    h.update(seq.to_be_bytes());
    h.update(entry.tenant_id.as_bytes());
    h.update(entry.id.as_bytes());
    h.update(entry.at.to_be_bytes());
    put_bytes(&mut h, entry.actor.as_bytes());
    put_bytes(&mut h, entry.action.as_bytes());
    put_opt_uuid(&mut h, entry.subject_id);
    match &entry.purpose {
        None => h.update([0u8]),
        Some(p) => {
            h.update([1u8]);
            put_bytes(&mut h, p.as_bytes());
        }
    }
    put_bytes(&mut h, entry.detail.as_bytes());
    h.finalize().to_vec()
}

fn put_bytes(h: &mut Sha256, bytes: &[u8]) {
    // u64 so that no length can wrap; the prefix makes field boundaries unambiguous.
    h.update((bytes.len() as u64).to_be_bytes());
    h.update(bytes);
}

fn put_opt_uuid(h: &mut Sha256, id: Option<Uuid>) {
    match id {
        None => h.update([0u8]),
        Some(id) => {
            h.update([1u8]);
            h.update(id.as_bytes());
        }
    }
}

/// Why a chain does not verify.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BreakReason {
    /// The sequence number is not the one after its predecessor (a row is missing or repeated).
    #[error("sequence gap: expected {expected}")]
    SeqGap { expected: i64 },
    /// The row's `prev_hash` is not its predecessor's hash.
    #[error("prev_hash does not match the previous entry's hash")]
    PrevHashMismatch,
    /// The row's stored hash is not the hash of its contents.
    #[error("hash does not match the entry's contents")]
    HashMismatch,
    /// The chain ends before, or differently from, the head the store recorded: the newest
    /// entries were removed or replaced.
    #[error("the chain does not end at the recorded head (seq {head_seq})")]
    HeadMismatch { head_seq: i64 },
}

/// The first broken link of a chain: the sequence number where verification failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("audit chain broken at seq {seq}: {reason}")]
pub struct ChainBreak {
    pub seq: i64,
    pub reason: BreakReason,
}

/// Verifies rows in order, one at a time, so a long chain can be checked a page at a time.
#[derive(Debug, Clone)]
pub struct ChainVerifier {
    prev_hash: Vec<u8>,
    /// The seq the next row must carry; `None` accepts any start (a window of the chain).
    next_seq: Option<i64>,
    count: u64,
}

impl ChainVerifier {
    /// A verifier for a whole chain: the first row must be seq 1 chained to the genesis hash.
    pub fn from_genesis() -> Self {
        Self {
            prev_hash: GENESIS_HASH.to_vec(),
            next_seq: Some(1),
            count: 0,
        }
    }

    /// A verifier for a window of the chain whose first row must chain to `prev_hash`.
    pub fn starting_after(prev_hash: &[u8]) -> Self {
        Self {
            prev_hash: prev_hash.to_vec(),
            next_seq: None,
            count: 0,
        }
    }

    /// Checks the next row.
    pub fn push(&mut self, row: &AuditRow) -> Result<(), ChainBreak> {
        let fail = |reason| ChainBreak {
            seq: row.seq,
            reason,
        };
        if let Some(expected) = self.next_seq
            && row.seq != expected
        {
            return Err(fail(BreakReason::SeqGap { expected }));
        }
        if row.prev_hash != self.prev_hash {
            return Err(fail(BreakReason::PrevHashMismatch));
        }
        if entry_hash(&row.prev_hash, row.seq, &row.entry) != row.hash {
            return Err(fail(BreakReason::HashMismatch));
        }
        self.prev_hash.clone_from(&row.hash);
        self.next_seq = row.seq.checked_add(1);
        self.count += 1;
        Ok(())
    }

    /// Checks that the rows seen so far end at the recorded head `(seq, hash)`.
    pub fn finish_at_head(&self, head_seq: i64, head_hash: &[u8]) -> Result<(), ChainBreak> {
        let last_seq = self.next_seq.map_or(0, |n| n - 1);
        if last_seq != head_seq || self.prev_hash != head_hash {
            return Err(ChainBreak {
                seq: last_seq,
                reason: BreakReason::HeadMismatch { head_seq },
            });
        }
        Ok(())
    }

    /// How many rows verified.
    pub fn count(&self) -> u64 {
        self.count
    }

    /// The hash of the last verified row (or the starting hash).
    pub fn last_hash(&self) -> &[u8] {
        &self.prev_hash
    }
}

/// Verifies consecutive rows, the first chained to `expected_start_prev` (use
/// [`GENESIS_HASH`] for a tenant's whole chain, which must then start at seq 1). Reports the
/// first broken link: a gap in seq, a wrong `prev_hash` or a wrong `hash`.
pub fn verify_chain<'a>(
    rows: impl Iterator<Item = &'a AuditRow>,
    expected_start_prev: &[u8],
) -> Result<(), ChainBreak> {
    let mut v = if expected_start_prev == GENESIS_HASH {
        ChainVerifier::from_genesis()
    } else {
        ChainVerifier::starting_after(expected_start_prev)
    };
    rows.into_iter().try_for_each(|row| v.push(row))
}

/// Chains `entries` after `(prev_seq, prev_hash)`: the rows the store inserts.
pub fn chain_entries(
    prev_seq: i64,
    prev_hash: &[u8],
    entries: impl IntoIterator<Item = NewAuditEntry>,
) -> Vec<AuditRow> {
    let mut prev = prev_hash.to_vec();
    let mut seq = prev_seq;
    entries
        .into_iter()
        .map(|entry| {
            seq += 1;
            let hash = entry_hash(&prev, seq, &entry);
            let prev_hash = std::mem::replace(&mut prev, hash.clone());
            AuditRow {
                seq,
                entry,
                prev_hash,
                hash,
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(n: u8) -> NewAuditEntry {
        NewAuditEntry {
            tenant_id: Uuid::from_bytes([1; 16]),
            id: Uuid::from_bytes([n; 16]),
            at: 1_700_000_000_000_000 + i64::from(n),
            actor: "system".into(),
            action: "subject.create".into(),
            subject_id: Some(Uuid::from_bytes([9; 16])),
            purpose: None,
            detail: format!("{{\"n\":{n}}}"),
        }
    }

    fn chain(n: u8) -> Vec<AuditRow> {
        chain_entries(0, &GENESIS_HASH, (1..=n).map(entry))
    }

    #[test]
    fn a_fresh_chain_verifies() {
        let rows = chain(5);
        assert_eq!(rows[0].prev_hash, GENESIS_HASH.to_vec());
        assert_eq!(rows[4].seq, 5);
        assert_eq!(verify_chain(rows.iter(), &GENESIS_HASH), Ok(()));
        // A window verifies when given its predecessor's hash.
        assert_eq!(verify_chain(rows[2..].iter(), &rows[1].hash), Ok(()));
    }

    #[test]
    fn the_hash_is_stable() {
        // Pinned: changing the encoding would invalidate every stored chain.
        let h = entry_hash(&GENESIS_HASH, 1, &entry(1));
        let hex: String = h.iter().map(|b| format!("{b:02x}")).collect();
        assert_eq!(
            hex,
            "19e19068a6a854c3de6d7e37e96862a1d2295998de1f21fafe922d860e5290ba"
        );
        assert_eq!(h, entry_hash(&GENESIS_HASH, 1, &entry(1)));
        assert_ne!(h, entry_hash(&GENESIS_HASH, 2, &entry(1)));
    }

    #[test]
    fn field_boundaries_are_unambiguous() {
        let mut a = entry(1);
        let mut b = entry(1);
        a.actor = "ab".into();
        a.action = "c".into();
        b.actor = "a".into();
        b.action = "bc".into();
        assert_ne!(entry_hash(&[], 1, &a), entry_hash(&[], 1, &b));
        let mut c = entry(1);
        c.purpose = Some(String::new());
        assert_ne!(entry_hash(&[], 1, &entry(1)), entry_hash(&[], 1, &c));
    }

    #[test]
    fn tampering_is_reported_at_the_first_broken_link() {
        let mut rows = chain(5);
        rows[2].entry.detail = "{}".into();
        let err = verify_chain(rows.iter(), &GENESIS_HASH).unwrap_err();
        assert_eq!(err.seq, 3);
        assert_eq!(err.reason, BreakReason::HashMismatch);

        let mut rows = chain(5);
        let h = entry_hash(&rows[2].prev_hash, 3, &entry(7));
        rows[2].entry = entry(7);
        rows[2].hash = h;
        let err = verify_chain(rows.iter(), &GENESIS_HASH).unwrap_err();
        assert_eq!((err.seq, err.reason), (4, BreakReason::PrevHashMismatch));

        let mut rows = chain(5);
        rows.remove(1);
        let err = verify_chain(rows.iter(), &GENESIS_HASH).unwrap_err();
        assert_eq!(
            (err.seq, err.reason),
            (3, BreakReason::SeqGap { expected: 2 })
        );
    }

    #[test]
    fn a_truncated_tail_is_caught_by_the_head() {
        let rows = chain(5);
        let mut v = ChainVerifier::from_genesis();
        for row in &rows[..4] {
            v.push(row).unwrap();
        }
        let err = v.finish_at_head(5, &rows[4].hash).unwrap_err();
        assert_eq!(err.reason, BreakReason::HeadMismatch { head_seq: 5 });
        v.push(&rows[4]).unwrap();
        assert_eq!(v.finish_at_head(5, &rows[4].hash), Ok(()));
        assert_eq!(v.count(), 5);
        assert_eq!(
            ChainVerifier::from_genesis().finish_at_head(0, &GENESIS_HASH),
            Ok(())
        );
    }
}
