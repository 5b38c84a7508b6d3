//! Read cache for the portal home: each portal's snapshot, activity feed and onboarding
//! team, and each live session's check, kept until the next write that could change
//! them.
//!
//! Each portal has a generation counter, bumped after every committed write to that
//! portal's content (its phases, tasks, branding, comments, questions, activity; not
//! the access log or sessions, which the portal home writes on every request), so a
//! write in one portal never costs another portal its cached reads. An entry remembers
//! the generation read *before* its SQL read began, so an entry filled while a write
//! was committing is at worst tagged older than its data and is simply refreshed once:
//! a stale entry is never served.
//!
//! The same generations answer
//! [`DirectoryStore::home_version`](portal_core::store::DirectoryStore::home_version):
//! the home also lists the portal's contacts, which are read past this cache, so a
//! committed change to any `contacts` row (seen by the writer connection's update
//! hook, whatever the write) raises one contacts generation that every portal's home
//! version includes.
//!
//! Session checks are cached too (what `authenticate` reads of a session, its contact
//! and its portal), tagged with the later of two generations: one that every
//! committed change to the `contacts` or `portals` table, or to several sessions at
//! once, raises (the update hook sees the first two; `sessions` is `WITHOUT ROWID`,
//! which the hook does not report, so the writes to it go through
//! `SqliteStore::write_sessions`), and one of [`SESSION_STRIPES`] stripes, chosen by
//! the token's hash, that a write to that one session raises
//! (`SqliteStore::write_session`: a sign-out, the once-per-interval note). A
//! sign-out, a revocation or a closed portal reaches the very next request, through
//! this store or another service sharing it, and a session's note costs only the
//! checks of its stripe their cached read, not every live session's. The check itself
//! (expiry, revocation times, the portal's status) is judged on every request at its
//! time.
//!
//! Memory is bounded by a budget in bytes that the host sets
//! ([`SqliteOptions::cache_bytes`](crate::SqliteOptions::cache_bytes)): each entry weighs
//! about its heap size (twice its JSON-encoded size, as measured) plus a fixed
//! overhead, computed once when it is filled, and
//! `quick_cache` evicts the entries least worth keeping (its CLOCK-Pro policy, which a
//! scan over many portals does not flush) when the budget would be passed. The
//! per-portal generation counters stay (16 bytes per portal written since start).
//!
//! The cache assumes this `SqliteStore` is the only writer of the database file (the
//! embedded deployment this crate is for). See `docs/PERFORMANCE.md` for the figures.

use std::collections::HashMap;
use std::io::Write;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use portal_core::PortalId;
use portal_core::model::{OnboardingTeam, PortalSnapshot};
use portal_core::secret::TokenHash;
use portal_core::workflow::ActivityEntry;
use serde::Serialize;

use crate::access::SessionRecord;

/// Weight added to every entry on top of its encoded size: the key, the map slot, the
/// `Arc` and the vectors' headers.
const ENTRY_OVERHEAD: u64 = 256;

/// What is cached for a portal.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
enum Key {
    Snapshot(PortalId),
    Activity(PortalId, usize),
    Team(PortalId),
    Session(TokenHash),
}

/// A cached value, tagged with the generation it was read at and its weight.
#[derive(Clone)]
struct Entry {
    generation: u64,
    weight: u64,
    value: Value,
}

#[derive(Clone)]
enum Value {
    Snapshot(Arc<PortalSnapshot>),
    Activity(Arc<Vec<ActivityEntry>>),
    Team(Arc<OnboardingTeam>),
    Session(Arc<SessionRecord>),
}

/// Weighs an entry by the weight computed when it was filled.
#[derive(Clone)]
struct ByWeight;

impl quick_cache::Weighter<Key, Entry> for ByWeight {
    fn weight(&self, _: &Key, entry: &Entry) -> u64 {
        entry.weight
    }
}

/// The generations of one store: each portal's, and the contacts' (one for all
/// portals), all drawn from one counter so every value handed out is new.
#[derive(Default)]
pub(crate) struct Generations {
    /// The last value handed out.
    clock: AtomicU64,
    portals: Mutex<HashMap<PortalId, u64>>,
    /// Raised after a committed write to the `contacts` table, whatever its portal:
    /// the home lists contacts (assignees, roles) and the writes that change them
    /// do not all know their portal before they run.
    contacts: AtomicU64,
    /// Set by the writer connection's update hook when a job changes a `contacts`
    /// row; turned into a new `contacts` generation once the batch has ended.
    contacts_touched: AtomicBool,
    /// Raised after a committed write to any table a session check reads
    /// (`sessions`, `contacts`, `portals`): a cached session is good only while it
    /// holds, so a revocation, a sign-out or a closed portal is seen by the very
    /// next request.
    sessions: AtomicU64,
    /// Set by the update hook when a job changes a row of `contacts` or `portals`.
    sessions_touched: AtomicBool,
    /// Raised after a committed write to one session's row, in the stripe of its
    /// token's hash (see the module's doc).
    session_stripes: [AtomicU64; SESSION_STRIPES],
}

/// How many stripes single-session writes are spread over: a session's note (once
/// per refresh interval per live session) invalidates the cached checks of about one
/// live session in this many.
pub(crate) const SESSION_STRIPES: usize = 32;

/// The stripe of the session whose token hashes to `token`.
fn stripe(token: &TokenHash) -> usize {
    // The hash is SHA-256 output: its first byte is uniform.
    usize::from(token.as_bytes()[0]) % SESSION_STRIPES
}

impl Generations {
    fn next(&self) -> u64 {
        self.clock.fetch_add(1, Ordering::SeqCst) + 1
    }

    /// Notes a change to a row of `table` (the writer's update hook calls it).
    pub(crate) fn row_changed(&self, table: &str) {
        if table == "contacts" {
            self.contacts_touched.store(true, Ordering::SeqCst);
        }
        // `sessions` is `WITHOUT ROWID`, which the hook never reports: the writes
        // to it call `ContentCache::sessions_changed` (`SqliteStore::write_sessions`).
        if matches!(table, "contacts" | "portals") {
            self.sessions_touched.store(true, Ordering::SeqCst);
        }
    }

    /// Called by the writer after each batch has committed or rolled back, before
    /// any job of it is answered: a contacts change gets a new generation, so a
    /// caller told "done" never gets a home built before it.
    pub(crate) fn batch_ended(&self) {
        if self.contacts_touched.swap(false, Ordering::SeqCst) {
            self.contacts.store(self.next(), Ordering::SeqCst);
        }
        if self.sessions_touched.swap(false, Ordering::SeqCst) {
            self.sessions.store(self.next(), Ordering::SeqCst);
        }
    }
}

/// The content cache of one store.
pub(crate) struct ContentCache {
    generations: Arc<Generations>,
    /// `None` when the host set a budget of 0 bytes: every read goes to SQLite.
    entries: Option<quick_cache::sync::Cache<Key, Entry, ByWeight>>,
}

impl ContentCache {
    /// A cache holding at most about `budget` bytes of entries.
    pub(crate) fn new(budget: u64) -> Self {
        // quick_cache sizes its table from an item estimate; a portal home's snapshot
        // and feed weigh tens of kilobytes.
        let items = usize::try_from(budget / 16_384)
            .unwrap_or(usize::MAX)
            .max(16);
        Self {
            generations: Arc::default(),
            entries: (budget > 0)
                .then(|| quick_cache::sync::Cache::with_weighter(items, budget, ByWeight)),
        }
    }

    /// The generations, for the writer's hooks.
    pub(crate) fn generations(&self) -> Arc<Generations> {
        Arc::clone(&self.generations)
    }

    /// The generation to tag a read of `portal` with; take it before the read starts.
    pub(crate) fn generation(&self, portal: PortalId) -> u64 {
        let portals = self
            .generations
            .portals
            .lock()
            .unwrap_or_else(|p| p.into_inner());
        portals.get(&portal).copied().unwrap_or(0)
    }

    /// What the home of `portal` is built from, as one value: the later of the
    /// portal's generation and the contacts'. Both come from one counter, so any
    /// change to either gives a value never handed out before.
    pub(crate) fn home_version(&self, portal: PortalId) -> u64 {
        self.generation(portal)
            .max(self.generations.contacts.load(Ordering::SeqCst))
    }

    /// Marks `portal`'s entries stale; call after a content write has committed (or failed).
    pub(crate) fn invalidate(&self, portal: PortalId) {
        let mut portals = self
            .generations
            .portals
            .lock()
            .unwrap_or_else(|p| p.into_inner());
        // Drawn under the lock: a portal's generations only ever rise.
        portals.insert(portal, self.generations.next());
    }

    /// Bytes the entries weigh now (never more than the budget).
    pub(crate) fn weight(&self) -> u64 {
        self.entries.as_ref().map_or(0, |c| c.weight())
    }

    fn get(&self, key: Key, generation: u64) -> Option<Value> {
        self.entries
            .as_ref()?
            .get(&key)
            .filter(|e| e.generation == generation)
            .map(|e| e.value)
    }

    fn put(&self, key: Key, generation: u64, weight: u64, value: Value) {
        if let Some(entries) = &self.entries {
            entries.insert(
                key,
                Entry {
                    generation,
                    weight: weight.saturating_add(ENTRY_OVERHEAD),
                    value,
                },
            );
        }
    }

    pub(crate) fn snapshot(
        &self,
        portal: PortalId,
        generation: u64,
    ) -> Option<Arc<PortalSnapshot>> {
        match self.get(Key::Snapshot(portal), generation)? {
            Value::Snapshot(s) => Some(s),
            _ => None,
        }
    }

    pub(crate) fn put_snapshot(
        &self,
        portal: PortalId,
        generation: u64,
        snapshot: Arc<PortalSnapshot>,
    ) {
        if self.entries.is_none() {
            return;
        }
        let weight = encoded_len(&snapshot.portal)
            + encoded_len(&snapshot.phases)
            + encoded_len(&snapshot.tasks);
        self.put(
            Key::Snapshot(portal),
            generation,
            weight,
            Value::Snapshot(snapshot),
        );
    }

    pub(crate) fn activity(
        &self,
        portal: PortalId,
        limit: usize,
        generation: u64,
    ) -> Option<Arc<Vec<ActivityEntry>>> {
        match self.get(Key::Activity(portal, limit), generation)? {
            Value::Activity(a) => Some(a),
            _ => None,
        }
    }

    pub(crate) fn put_activity(
        &self,
        portal: PortalId,
        limit: usize,
        generation: u64,
        feed: Arc<Vec<ActivityEntry>>,
    ) {
        if self.entries.is_none() {
            return;
        }
        let weight = encoded_len(&*feed);
        self.put(
            Key::Activity(portal, limit),
            generation,
            weight,
            Value::Activity(feed),
        );
    }
}

impl ContentCache {
    /// The generation to tag a read of the session `token` with; take it before the
    /// read starts. The later of the sessions' and the token's stripe's: both come
    /// from one counter, so a change to either gives a value never handed out before.
    pub(crate) fn session_generation(&self, token: &TokenHash) -> u64 {
        let g = &self.generations;
        g.sessions
            .load(Ordering::SeqCst)
            .max(g.session_stripes[stripe(token)].load(Ordering::SeqCst))
    }

    /// Marks every cached session check stale; call after a write to several
    /// sessions' rows has committed (or failed).
    pub(crate) fn sessions_changed(&self) {
        self.generations
            .sessions
            .store(self.generations.next(), Ordering::SeqCst);
    }

    /// Marks the cached check of the session `token` stale (and those sharing its
    /// stripe); call after a write to that session's row has committed (or failed).
    pub(crate) fn session_changed(&self, token: &TokenHash) {
        let g = &self.generations;
        // `fetch_max`: of two writers, the one drawing the earlier value may store
        // last; the stripe's generation only ever rises.
        g.session_stripes[stripe(token)].fetch_max(g.next(), Ordering::SeqCst);
    }

    /// The session `token` as read at `generation`, if still good.
    pub(crate) fn session(&self, token: &TokenHash, generation: u64) -> Option<Arc<SessionRecord>> {
        match self.get(Key::Session(*token), generation)? {
            Value::Session(s) => Some(s),
            _ => None,
        }
    }

    pub(crate) fn put_session(
        &self,
        token: &TokenHash,
        generation: u64,
        record: Arc<SessionRecord>,
    ) {
        if self.entries.is_none() {
            return;
        }
        let weight = encoded_len(&record.contact);
        self.put(
            Key::Session(*token),
            generation,
            weight,
            Value::Session(record),
        );
    }

    pub(crate) fn team(&self, portal: PortalId, generation: u64) -> Option<Arc<OnboardingTeam>> {
        match self.get(Key::Team(portal), generation)? {
            Value::Team(t) => Some(t),
            _ => None,
        }
    }

    pub(crate) fn put_team(&self, portal: PortalId, generation: u64, team: Arc<OnboardingTeam>) {
        if self.entries.is_none() {
            return;
        }
        let weight = encoded_len(&*team);
        self.put(Key::Team(portal), generation, weight, Value::Team(team));
    }
}

/// Heap bytes a cached value takes per byte of its JSON encoding. Measured by the
/// scale run of `bench-home` (`--scale --cache-mib N`, requests spread over 3 000
/// portals): with a 64 MiB budget weighed by the JSON size alone, the process grew by
/// 114 MiB more than with no cache (every `String` and `Vec` has a header and a rounded
/// allocation, and enums take their largest variant's size), so 2 keeps the budget an
/// upper bound of what the entries really hold.
const HEAP_PER_ENCODED_BYTE: u64 = 2;

/// The weight of an entry: its JSON-encoded size, counted without building the text,
/// times [`HEAP_PER_ENCODED_BYTE`], which brings it to about its heap size.
fn encoded_len(value: &impl Serialize) -> u64 {
    struct Count(u64);
    impl Write for Count {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0 += buf.len() as u64;
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let mut count = Count(0);
    // Serializing these types cannot fail; if it did, the part counted so far is kept.
    let _ = serde_json::to_writer(&mut count, value);
    count.0.saturating_mul(HEAP_PER_ENCODED_BYTE)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Two tokens in different stripes.
    fn two_tokens() -> (TokenHash, TokenHash) {
        let (a, b) = (
            TokenHash::from_bytes([0; 32]),
            TokenHash::from_bytes([1; 32]),
        );
        assert_ne!(stripe(&a), stripe(&b));
        (a, b)
    }

    // A cached check is served only while the generation read before it was filled
    // is the current one (`ContentCache::get`), so these follow the generations.
    #[test]
    fn one_sessions_write_leaves_other_stripes_cached() {
        let cache = ContentCache::new(1 << 20);
        let (a, b) = two_tokens();
        let (ga, gb) = (cache.session_generation(&a), cache.session_generation(&b));

        cache.session_changed(&a);
        assert_ne!(
            cache.session_generation(&a),
            ga,
            "a write to session a makes its cached check stale"
        );
        assert_eq!(
            cache.session_generation(&b),
            gb,
            "a write to session a keeps session b's cached check"
        );

        // A write to several sessions (or a contact or portal) makes every check stale.
        let ga = cache.session_generation(&a);
        cache.sessions_changed();
        assert_ne!(cache.session_generation(&a), ga);
        assert_ne!(cache.session_generation(&b), gb);
        // And a later write to one session is still seen after it.
        let ga = cache.session_generation(&a);
        cache.session_changed(&a);
        assert_ne!(cache.session_generation(&a), ga);
    }
}
