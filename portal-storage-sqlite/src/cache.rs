//! Read cache for the portal home: each portal's snapshot and activity feed, kept until
//! the next write that could change them.
//!
//! Each portal has a generation counter, bumped after every committed write to that
//! portal's content (its phases, tasks, branding, comments, questions, activity; not
//! the access log or sessions, which the portal home writes on every request), so a
//! write in one portal never costs another portal its cached reads. An entry remembers
//! the generation read *before* its SQL read began, so an entry filled while a write
//! was committing is at worst tagged older than its data and is simply refreshed once:
//! a stale entry is never served.
//!
//! The cache assumes this `SqliteStore` is the only writer of the database file (the
//! embedded deployment this crate is for). See `docs/PERFORMANCE.md` for the figures.

use std::collections::HashMap;
use std::hash::Hash;
use std::sync::{Arc, Mutex};

use portal_core::PortalId;
use portal_core::model::PortalSnapshot;
use portal_core::workflow::ActivityEntry;

/// Entries kept per map before it is cleared (bounds memory with many portals).
const MAX_ENTRIES: usize = 4096;

/// Generation-tagged values by key.
struct Generational<K, V> {
    entries: Mutex<HashMap<K, (u64, Arc<V>)>>,
}

impl<K: Eq + Hash, V> Generational<K, V> {
    fn new() -> Self {
        Self {
            entries: Mutex::new(HashMap::new()),
        }
    }

    fn get(&self, key: &K, generation: u64) -> Option<Arc<V>> {
        let entries = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        entries
            .get(key)
            .filter(|(g, _)| *g == generation)
            .map(|(_, v)| Arc::clone(v))
    }

    fn put(&self, key: K, generation: u64, value: Arc<V>) {
        let mut entries = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        if entries.len() >= MAX_ENTRIES {
            entries.clear();
        }
        entries.insert(key, (generation, value));
    }
}

/// The content cache of one store.
pub(crate) struct ContentCache {
    generations: Mutex<HashMap<PortalId, u64>>,
    snapshots: Generational<PortalId, PortalSnapshot>,
    activity: Generational<(PortalId, usize), Vec<ActivityEntry>>,
}

impl ContentCache {
    pub(crate) fn new() -> Self {
        Self {
            generations: Mutex::new(HashMap::new()),
            snapshots: Generational::new(),
            activity: Generational::new(),
        }
    }

    /// The generation to tag a read of `portal` with; take it before the read starts.
    pub(crate) fn generation(&self, portal: PortalId) -> u64 {
        let generations = self.generations.lock().unwrap_or_else(|p| p.into_inner());
        generations.get(&portal).copied().unwrap_or(0)
    }

    /// Marks `portal`'s entries stale; call after a content write has committed (or failed).
    pub(crate) fn invalidate(&self, portal: PortalId) {
        let mut generations = self.generations.lock().unwrap_or_else(|p| p.into_inner());
        *generations.entry(portal).or_insert(0) += 1;
    }

    pub(crate) fn snapshot(
        &self,
        portal: PortalId,
        generation: u64,
    ) -> Option<Arc<PortalSnapshot>> {
        self.snapshots.get(&portal, generation)
    }

    pub(crate) fn put_snapshot(
        &self,
        portal: PortalId,
        generation: u64,
        snapshot: Arc<PortalSnapshot>,
    ) {
        self.snapshots.put(portal, generation, snapshot);
    }

    pub(crate) fn activity(
        &self,
        portal: PortalId,
        limit: usize,
        generation: u64,
    ) -> Option<Arc<Vec<ActivityEntry>>> {
        self.activity.get(&(portal, limit), generation)
    }

    pub(crate) fn put_activity(
        &self,
        portal: PortalId,
        limit: usize,
        generation: u64,
        feed: Arc<Vec<ActivityEntry>>,
    ) {
        self.activity.put((portal, limit), generation, feed);
    }
}
