//! The per-node decision cache (decision 0008): each subject's decision state (consent
//! projection, objections, restriction, suppression, type), the identifier → subject lookups
//! by blind index, and authenticated API tokens, so a decision needs no database read.
//!
//! Consistency:
//! - a write through this node's vault evicts what it changed before it returns, so the very
//!   next decision on this node reads the new state;
//! - every write anywhere (another node, the CLI, a sweep) appends rows to `subject_changes`
//!   from database triggers in its own transaction; [`run_poller`] reads them every
//!   [`POLL_EVERY`] and evicts. The cache is used only while the last successful poll *started*
//!   less than [`TRUST_FOR`] ago, so a change committed anywhere is honoured everywhere within
//!   `TRUST_FOR` (0.5 s): a failed or slow poll makes every decision read the database again;
//! - a fill (a miss read from the database) is kept only if nothing it covers was evicted while
//!   it was being read (eviction generations), so a slow read never re-inserts stale state.
//!
//! Memory: two generations of at most `capacity / 2` entries each (a cheap approximation of
//! LRU: a hit in the old generation moves the entry to the new one; when the new one is full
//! the old one is dropped).

use std::collections::VecDeque;
use std::hash::Hash;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock, RwLockReadGuard, RwLockWriteGuard, Weak};
use std::time::{Duration, Instant};

use uuid::Uuid;
use vern_core::consent::ConsentState;
use vern_core::decision::Objections;
use vern_store::SqlStore;
use vern_store::changes::{ChangeLog, SubjectChange};

use super::Principal;

/// How often a node reads the change log.
pub const POLL_EVERY: Duration = Duration::from_millis(100);
/// How long after the start of the last successful poll the cache may answer.
pub const TRUST_FOR: Duration = Duration::from_millis(500);
/// Entries (subjects + hashes) kept by default: about 200 bytes each plus the consent entries.
pub const DEFAULT_CAPACITY: usize = 1_000_000;
/// Change rows read per query.
const POLL_PAGE: u32 = 1000;
/// Polls between two prunes of the change log (about a minute).
const PRUNE_EVERY: u32 = 600;
/// Change rows kept behind the newest when pruning.
const KEEP_CHANGES: i64 = 100_000;
/// Evictions remembered for checking fills; a fill older than that is dropped.
const RECENT_EVICTIONS: usize = 4096;

/// What a decision needs about one known subject.
#[derive(Debug, Clone)]
pub(crate) struct SubjectEntry {
    pub subject_type: String,
    pub consent: ConsentState,
    pub objections: Objections,
    pub restricted: bool,
    pub suppressed: bool,
    /// Cache keys of the subject's email/phone blind indexes.
    pub hashes: Vec<Vec<u8>>,
}

/// What a blind index names: a subject (or none), and whether it is suppressed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct HashEntry {
    pub subject: Option<Uuid>,
    pub suppressed: bool,
}

/// One lookup of [`DecisionCache::probe_many`].
#[derive(Debug, Clone, Copy)]
pub(crate) enum Probe<'k> {
    Subject(Uuid),
    /// A cache key made by [`hash_key`].
    Hash(&'k [u8]),
}

/// What [`DecisionCache::probe_many`] found, borrowed from the cache while its read lock is
/// held.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Found<'e> {
    Subject(Uuid, &'e SubjectEntry),
    /// A blind index of nobody known, and whether it is suppressed.
    Nobody {
        suppressed: bool,
    },
    /// Not cached (or the cache is not trusted now): read the database.
    Miss,
}

/// The cache key of a blind index of `kind`.
pub(crate) fn hash_key(kind: &str, hash: &[u8]) -> Vec<u8> {
    let mut k = Vec::with_capacity(kind.len() + 1 + hash.len());
    push_hash_key(&mut k, kind, hash);
    k
}

/// Appends the [`hash_key`] of `kind` and `hash` to `buf` (one buffer for many keys).
pub(crate) fn push_hash_key(buf: &mut Vec<u8>, kind: &str, hash: &[u8]) {
    buf.extend_from_slice(kind.as_bytes());
    buf.push(0);
    buf.extend_from_slice(hash);
}

/// The cache's maps. Keys are blind-index hashes (keyed, so nobody can choose them) and subject
/// ids; foldhash is seeded per map from the process's random state, which is enough against
/// crafted collisions here and several times faster than SipHash on these short keys.
type Map<K, V> = std::collections::HashMap<K, V, foldhash::fast::RandomState>;

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum Key {
    Subject(Uuid),
    Hash(Vec<u8>),
}

/// Two generations of a bounded map.
#[derive(Debug)]
struct TwoGen<K, V> {
    young: Map<K, V>,
    old: Map<K, V>,
    half: usize,
}

impl<K: Eq + Hash + Clone, V: Clone> TwoGen<K, V> {
    fn new(capacity: usize) -> Self {
        TwoGen {
            young: Map::default(),
            old: Map::default(),
            half: (capacity / 2).max(1),
        }
    }

    fn get<Q>(&mut self, k: &Q) -> Option<V>
    where
        K: std::borrow::Borrow<Q>,
        Q: Hash + Eq + ToOwned<Owned = K> + ?Sized,
    {
        if let Some(v) = self.young.get(k) {
            return Some(v.clone());
        }
        let v = self.old.remove(k)?;
        self.insert(k.to_owned(), v.clone());
        Some(v)
    }

    /// The value without promoting it, and whether it sits in the old generation (the caller
    /// promotes it later with [`TwoGen::get`] under the write lock).
    fn peek<Q>(&self, k: &Q) -> Option<(&V, bool)>
    where
        K: std::borrow::Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        match self.young.get(k) {
            Some(v) => Some((v, false)),
            None => self.old.get(k).map(|v| (v, true)),
        }
    }

    fn insert(&mut self, k: K, v: V) {
        if self.young.len() >= self.half && !self.young.contains_key(&k) {
            self.old = std::mem::take(&mut self.young);
        }
        self.young.insert(k, v);
    }

    fn remove(&mut self, k: &K) -> Option<V> {
        let a = self.young.remove(k);
        let b = self.old.remove(k);
        a.or(b)
    }

    fn clear(&mut self) {
        self.young.clear();
        self.old.clear();
    }

    fn len(&self) -> usize {
        self.young.len() + self.old.len()
    }

    fn values(&self) -> impl Iterator<Item = (&K, &V)> {
        self.young.iter().chain(self.old.iter())
    }
}

#[derive(Debug)]
struct Inner {
    subjects: TwoGen<Uuid, Arc<SubjectEntry>>,
    hashes: TwoGen<Vec<u8>, HashEntry>,
    tokens: Map<Vec<u8>, Principal>,
    /// Last change seen; `None` until the first poll, and after a failed one.
    watermark: Option<i64>,
    /// `(generation, key)` of recent evictions, oldest first.
    recent: VecDeque<(u64, Key)>,
    /// Fills that began before this generation are dropped (a reset, or `recent` overflowed).
    floor: u64,
}

/// See the module docs. Shared by the vault and its poller.
#[derive(Debug)]
pub struct DecisionCache {
    /// Read-locked by bulk probes (on every core at once), write-locked by everything else.
    inner: RwLock<Inner>,
    /// Bumped on every eviction.
    generation: AtomicU64,
    /// Nanoseconds after `epoch` until which the cache may answer (0: not trusted).
    trusted_until: AtomicU64,
    epoch: Instant,
    hits: AtomicU64,
    misses: AtomicU64,
}

/// Counters for `/metrics` and tests.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CacheStats {
    pub hits: u64,
    pub misses: u64,
    pub subjects: usize,
    pub hashes: usize,
    pub trusted: bool,
}

impl DecisionCache {
    pub fn new(capacity: usize) -> Self {
        DecisionCache {
            inner: RwLock::new(Inner {
                subjects: TwoGen::new(capacity),
                hashes: TwoGen::new(capacity),
                tokens: Map::default(),
                watermark: None,
                recent: VecDeque::new(),
                floor: 0,
            }),
            generation: AtomicU64::new(0),
            trusted_until: AtomicU64::new(0),
            epoch: Instant::now(),
            hits: AtomicU64::new(0),
            misses: AtomicU64::new(0),
        }
    }

    fn lock(&self) -> RwLockWriteGuard<'_, Inner> {
        // A panic while holding the lock cannot leave the maps half-updated in a way that
        // matters (each operation is one insert or remove), so a poisoned lock is used as is.
        self.inner
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn read(&self) -> RwLockReadGuard<'_, Inner> {
        self.inner
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Whether the cache may answer now.
    pub fn trusted(&self) -> bool {
        let until = self.trusted_until.load(Ordering::Acquire);
        until != 0 && self.nanos(Instant::now()) < until
    }

    fn nanos(&self, t: Instant) -> u64 {
        u64::try_from(t.saturating_duration_since(self.epoch).as_nanos()).unwrap_or(u64::MAX)
    }

    fn trust_until(&self, t: Instant) {
        self.trusted_until
            .store(self.nanos(t).max(1), Ordering::Release);
    }

    fn distrust(&self) {
        self.trusted_until.store(0, Ordering::Release);
        let mut inner = self.lock();
        inner.watermark = None;
    }

    pub fn stats(&self) -> CacheStats {
        let inner = self.lock();
        CacheStats {
            hits: self.hits.load(Ordering::Relaxed),
            misses: self.misses.load(Ordering::Relaxed),
            subjects: inner.subjects.len(),
            hashes: inner.hashes.len(),
            trusted: self.trusted(),
        }
    }

    /// The generation a fill starts at; pass it to the `put_*` methods.
    pub(crate) fn begin_fill(&self) -> u64 {
        self.generation.load(Ordering::Acquire)
    }

    pub(crate) fn subject(&self, id: Uuid) -> Option<Arc<SubjectEntry>> {
        if !self.trusted() {
            return None;
        }
        let hit = self.lock().subjects.get(&id);
        self.count(hit.is_some());
        hit
    }

    pub(crate) fn hash(&self, key: &[u8]) -> Option<HashEntry> {
        if !self.trusted() {
            return None;
        }
        let hit = self.lock().hashes.get(key);
        self.count(hit.is_some());
        hit
    }

    /// Looks up many subjects and blind indexes under one read lock (the bulk path, on every
    /// core at once) and calls `answer(i, found)` for `probes[i]`, in order, while the lock is
    /// held: the entries are borrowed, not cloned, so the cores do not contend on reference
    /// counts. An index naming a subject answers only with that subject's entry. Entries found
    /// in the old generation are promoted afterwards under the write lock.
    pub(crate) fn probe_many(
        &self,
        probes: &[Probe<'_>],
        mut answer: impl FnMut(usize, Found<'_>),
    ) {
        if !self.trusted() {
            for i in 0..probes.len() {
                answer(i, Found::Miss);
            }
            self.misses
                .fetch_add(probes.len() as u64, Ordering::Relaxed);
            return;
        }
        let mut hits = 0u64;
        let mut promote: Vec<Key> = Vec::new();
        {
            let inner = self.read();
            for (i, p) in probes.iter().enumerate() {
                let subject = match *p {
                    Probe::Subject(id) => Some(id),
                    Probe::Hash(key) => match inner.hashes.peek(key) {
                        None => None,
                        Some((entry, old)) => {
                            if old {
                                promote.push(Key::Hash(key.to_vec()));
                            }
                            match entry.subject {
                                None => {
                                    hits += 1;
                                    answer(
                                        i,
                                        Found::Nobody {
                                            suppressed: entry.suppressed,
                                        },
                                    );
                                    continue;
                                }
                                Some(id) => Some(id),
                            }
                        }
                    },
                };
                let found = match subject.and_then(|id| inner.subjects.peek(&id).map(|e| (id, e))) {
                    Some((id, (entry, old))) => {
                        if old {
                            promote.push(Key::Subject(id));
                        }
                        hits += 1;
                        Found::Subject(id, entry.as_ref())
                    }
                    None => Found::Miss,
                };
                answer(i, found);
            }
        }
        if !promote.is_empty() {
            let mut inner = self.lock();
            for key in promote {
                match key {
                    Key::Subject(id) => {
                        inner.subjects.get(&id);
                    }
                    Key::Hash(h) => {
                        inner.hashes.get(h.as_slice());
                    }
                }
            }
        }
        self.hits.fetch_add(hits, Ordering::Relaxed);
        self.misses
            .fetch_add(probes.len() as u64 - hits, Ordering::Relaxed);
    }

    pub(crate) fn token(&self, hash: &[u8]) -> Option<Principal> {
        if !self.trusted() {
            return None;
        }
        self.lock().tokens.get(hash).cloned()
    }

    fn count(&self, hit: bool) {
        let c = if hit { &self.hits } else { &self.misses };
        c.fetch_add(1, Ordering::Relaxed);
    }

    /// Whether a fill begun at `started` may be kept for `keys` (caller holds the lock).
    fn fresh(inner: &Inner, started: u64, keys: &[Key]) -> bool {
        if started < inner.floor {
            return false;
        }
        !inner
            .recent
            .iter()
            .rev()
            .take_while(|(g, _)| *g > started)
            .any(|(_, k)| keys.contains(k))
    }

    pub(crate) fn put_subject(&self, started: u64, id: Uuid, entry: SubjectEntry) {
        let mut keys = vec![Key::Subject(id)];
        keys.extend(entry.hashes.iter().cloned().map(Key::Hash));
        let mut inner = self.lock();
        if Self::fresh(&inner, started, &keys) {
            inner.subjects.insert(id, Arc::new(entry));
        }
    }

    pub(crate) fn put_hash(&self, started: u64, key: Vec<u8>, entry: HashEntry) {
        let mut keys = vec![Key::Hash(key.clone())];
        keys.extend(entry.subject.map(Key::Subject));
        let mut inner = self.lock();
        if Self::fresh(&inner, started, &keys) {
            inner.hashes.insert(key, entry);
        }
    }

    pub(crate) fn put_token(&self, started: u64, hash: Vec<u8>, who: Principal) {
        let mut inner = self.lock();
        let key = Key::Hash(hash_key("token", &hash));
        if Self::fresh(&inner, started, std::slice::from_ref(&key)) {
            inner.tokens.insert(hash, who);
        }
    }

    fn note(&self, inner: &mut Inner, key: Key) {
        let g = self.generation.fetch_add(1, Ordering::AcqRel) + 1;
        inner.recent.push_back((g, key));
        if inner.recent.len() > RECENT_EVICTIONS
            && let Some((g, _)) = inner.recent.pop_front()
        {
            inner.floor = inner.floor.max(g);
        }
    }

    /// Forgets a subject (its state changed).
    pub fn evict_subject(&self, id: Uuid) {
        let mut inner = self.lock();
        self.evict_subject_locked(&mut inner, id);
    }

    fn evict_subject_locked(&self, inner: &mut Inner, id: Uuid) {
        self.note(inner, Key::Subject(id));
        if let Some(e) = inner.subjects.remove(&id) {
            for h in &e.hashes {
                inner.hashes.remove(h);
            }
        }
    }

    /// Forgets a blind index (identifier added or removed, or suppressed) and any subject
    /// whose state includes it.
    pub fn evict_hash(&self, kind: &str, hash: &[u8]) {
        let mut inner = self.lock();
        self.evict_hash_locked(&mut inner, hash_key(kind, hash), true);
    }

    /// `scan`: also look for owners among the cached subjects (needed when the change does
    /// not name the subject, e.g. a suppression entry).
    fn evict_hash_locked(&self, inner: &mut Inner, key: Vec<u8>, scan: bool) {
        self.note(inner, Key::Hash(key.clone()));
        let owner = inner.hashes.remove(&key).and_then(|e| e.subject);
        if let Some(id) = owner {
            self.evict_subject_locked(inner, id);
        }
        if !scan {
            return;
        }
        // The lookup entry may have been dropped while the subject's stayed: find owners.
        let owners: Vec<Uuid> = inner
            .subjects
            .values()
            .filter(|(_, e)| e.hashes.contains(&key))
            .map(|(id, _)| *id)
            .collect();
        for id in owners {
            self.evict_subject_locked(inner, id);
        }
    }

    /// Forgets every cached token (one was created, revoked or deleted).
    pub fn evict_tokens(&self) {
        let mut inner = self.lock();
        self.note(&mut inner, Key::Hash(hash_key("token", b"*")));
        inner.floor = self.generation.load(Ordering::Acquire);
        inner.tokens.clear();
    }

    /// Forgets everything.
    pub fn clear(&self) {
        let mut inner = self.lock();
        Self::clear_locked(&self.generation, &mut inner);
    }

    fn clear_locked(generation: &AtomicU64, inner: &mut Inner) {
        let g = generation.fetch_add(1, Ordering::AcqRel) + 1;
        inner.floor = g;
        inner.recent.clear();
        inner.subjects.clear();
        inner.hashes.clear();
        inner.tokens.clear();
    }

    fn apply(&self, inner: &mut Inner, c: &SubjectChange) {
        if let Some(id) = c.subject_id {
            self.evict_subject_locked(inner, id);
        }
        match (c.kind.as_deref(), &c.hash) {
            (Some("token"), _) => {
                self.note(inner, Key::Hash(hash_key("token", b"*")));
                inner.floor = self.generation.load(Ordering::Acquire);
                inner.tokens.clear();
            }
            (Some(kind), Some(hash)) => {
                self.evict_hash_locked(inner, hash_key(kind, hash), c.subject_id.is_none());
            }
            _ => {}
        }
    }

    /// One poll: applies the changes after the watermark (or starts over from the head).
    async fn poll(&self, store: &SqlStore, tenant: Uuid) -> vern_store::StoreResult<()> {
        for _ in 0..2 {
            let watermark = self.lock().watermark;
            let Some(mut seen) = watermark else {
                let head = store.change_head(tenant).await?;
                let mut inner = self.lock();
                Self::clear_locked(&self.generation, &mut inner);
                inner.watermark = Some(head);
                return Ok(());
            };
            loop {
                let page = store.changes_since(tenant, seen, POLL_PAGE).await?;
                let restart = {
                    let mut inner = self.lock();
                    if inner.watermark != Some(seen) {
                        // Reset meanwhile (a failed poll); the next poll starts over.
                        return Ok(());
                    }
                    if page.first().is_some_and(|first| first.seq != seen + 1) {
                        // Pruned past us: start over from the head.
                        Self::clear_locked(&self.generation, &mut inner);
                        inner.watermark = None;
                        true
                    } else {
                        for c in &page {
                            self.apply(&mut inner, c);
                            seen = c.seq;
                        }
                        inner.watermark = Some(seen);
                        false
                    }
                };
                if restart {
                    break;
                }
                if page.len() < POLL_PAGE as usize {
                    return Ok(());
                }
            }
        }
        Ok(())
    }
}

/// Polls the change log until the cache is dropped (the vault is gone).
pub async fn run_poller(cache: Weak<DecisionCache>, store: SqlStore, tenant: Uuid) {
    let mut polls: u32 = 0;
    let mut failing = false;
    loop {
        tokio::time::sleep(POLL_EVERY).await;
        let Some(cache) = cache.upgrade() else {
            return;
        };
        let started = Instant::now();
        match cache.poll(&store, tenant).await {
            Ok(()) => {
                cache.trust_until(started + TRUST_FOR);
                let s = cache.stats();
                metrics::gauge!("vern_decision_cache_hits").set(s.hits as f64);
                metrics::gauge!("vern_decision_cache_misses").set(s.misses as f64);
                metrics::gauge!("vern_decision_cache_subjects").set(s.subjects as f64);
                if failing {
                    tracing::info!("decision cache: change log readable again");
                    failing = false;
                }
            }
            Err(e) => {
                cache.distrust();
                if !failing {
                    tracing::warn!(error = %e, "decision cache: change log poll failed; deciding from the database");
                    failing = true;
                }
                continue;
            }
        }
        polls = polls.wrapping_add(1);
        if polls.is_multiple_of(PRUNE_EVERY) {
            let seen = cache.lock().watermark.unwrap_or(0);
            if seen > KEEP_CHANGES
                && let Err(e) = store.prune_changes(tenant, seen - KEEP_CHANGES).await
            {
                tracing::warn!(error = %e, "decision cache: pruning the change log failed");
            }
        }
    }
}
