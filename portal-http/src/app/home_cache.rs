//! The portal home, kept as built: one page per client, portal version, tab, language,
//! zone and day, served again while the store's home version holds.
//!
//! Building the home (the client's view of the plan, the feed, the team, every text
//! looked up and formatted in the client's language and zone, the whole page escaped)
//! was most of a home request's CPU time (`docs/PERFORMANCE.md`). The store tells
//! when any of what it is built from changes
//! ([`DirectoryStore::home_version`](portal_core::store::DirectoryStore::home_version));
//! everything else the page depends on is in the key: the contact and their name (as
//! authenticated on this request), the tab, the language, the zone and the day in that
//! zone (which moves "overdue" and "due soon"). The version is asked before the page is
//! built, so a kept page is never older than its tag.
//!
//! Two values differ on every request and are not in the kept page: the CSP nonce and
//! the CSRF token (bound to the session). The page is built with random marks in their
//! place, drawn once per app and never sent, then cut at the marks; serving it sends
//! the parts with this request's values between them, as separate pieces of one body
//! (the kept text is shared, not copied: copying a home of tens of kilobytes into a
//! fresh buffer on every request was a visible share of a served home's CPU). Text from the MSP or the client cannot
//! contain a mark: it never leaves the process, and 128 random bits cannot be guessed.
//!
//! Memory is bounded by [`HttpConfig::home_cache_bytes`](crate::HttpConfig::home_cache_bytes):
//! each page weighs its bytes plus its key, and `quick_cache` evicts by its CLOCK-Pro
//! policy. The Documents tab and a guest's home are always built afresh (they read
//! uploads, which the version does not cover).

use std::fmt::Write as _;
use std::sync::Arc;

use bytes::Bytes;
use chrono::NaiveDate;
use portal_core::RandomSource;
use portal_core::i18n::Language;
use portal_core::ids::{ContactId, PortalId};
use portal_core::model::TimeZone;

use crate::pages::Tab;

/// Weight added to every page on top of its bytes: the key, the parts' headers and
/// the cache's slot.
const PAGE_OVERHEAD: u64 = 512;

/// Everything a kept home depends on besides the nonce and the CSRF token.
#[derive(Clone, PartialEq, Eq, Hash)]
pub(super) struct HomeKey {
    pub(super) portal: PortalId,
    pub(super) version: u64,
    pub(super) contact: ContactId,
    pub(super) contact_name: String,
    pub(super) tab: Tab,
    pub(super) language: Language,
    pub(super) zone: TimeZone,
    pub(super) today: NaiveDate,
}

/// One piece of a kept page.
enum Part {
    Text(Bytes),
    Nonce,
    Csrf,
}

/// A home as built, cut where this request's nonce and CSRF token go.
pub(super) struct Built {
    parts: Vec<Part>,
    /// The length of the text parts together.
    text_len: usize,
}

impl Built {
    /// The page for a request with `nonce` and `csrf`, in the pieces it is sent in.
    pub(super) fn pieces(&self, nonce: &str, csrf: &str) -> Vec<Bytes> {
        let nonce = Bytes::copy_from_slice(nonce.as_bytes());
        let csrf = Bytes::copy_from_slice(csrf.as_bytes());
        self.parts
            .iter()
            .map(|part| match part {
                Part::Text(t) => t.clone(),
                Part::Nonce => nonce.clone(),
                Part::Csrf => csrf.clone(),
            })
            .collect()
    }
}

/// Weighs a page by its bytes.
#[derive(Clone)]
struct ByBytes;

impl quick_cache::Weighter<HomeKey, Arc<Built>> for ByBytes {
    fn weight(&self, key: &HomeKey, page: &Arc<Built>) -> u64 {
        (page.text_len as u64)
            .saturating_add(key.contact_name.len() as u64)
            .saturating_add(PAGE_OVERHEAD)
    }
}

/// The kept homes of one app (shared by its clones).
pub(super) struct HomeCache {
    /// `None` when the host set a budget of 0 bytes: every home is built.
    pages: Option<quick_cache::sync::Cache<HomeKey, Arc<Built>, ByBytes>>,
    /// Stands for the nonce while a page is built.
    pub(super) nonce_mark: String,
    /// Stands for the CSRF token while a page is built.
    pub(super) csrf_mark: String,
}

impl std::fmt::Debug for HomeCache {
    // The marks stay out of logs: they are never meant to leave the process.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HomeCache")
            .field("enabled", &self.enabled())
            .finish_non_exhaustive()
    }
}

impl HomeCache {
    /// A cache of at most about `budget` bytes of pages, with marks drawn from `rng`.
    pub(super) fn new(budget: u64, rng: &dyn RandomSource) -> Self {
        // A home weighs tens of kilobytes.
        let items = usize::try_from(budget / 32_768)
            .unwrap_or(usize::MAX)
            .max(16);
        Self {
            pages: (budget > 0)
                .then(|| quick_cache::sync::Cache::with_weighter(items, budget, ByBytes)),
            nonce_mark: mark(rng, "n"),
            csrf_mark: mark(rng, "c"),
        }
    }

    /// Whether pages are kept at all.
    pub(super) fn enabled(&self) -> bool {
        self.pages.is_some()
    }

    /// The page kept for `key`, if any.
    pub(super) fn get(&self, key: &HomeKey) -> Option<Arc<Built>> {
        self.pages.as_ref()?.get(key)
    }

    /// Cuts `html`, built with the marks, into its parts and keeps it under `key`.
    pub(super) fn keep(&self, key: HomeKey, html: &str) -> Arc<Built> {
        let built = Arc::new(self.cut(html));
        if let Some(pages) = &self.pages {
            pages.insert(key, Arc::clone(&built));
        }
        built
    }

    fn cut(&self, html: &str) -> Built {
        let mut parts = Vec::new();
        let mut text_len = 0;
        let mut rest = html;
        loop {
            let nonce = rest.find(&self.nonce_mark);
            let csrf = rest.find(&self.csrf_mark);
            let (at, part, mark_len) = match (nonce, csrf) {
                (Some(n), Some(c)) if c < n => (c, Part::Csrf, self.csrf_mark.len()),
                (Some(n), _) => (n, Part::Nonce, self.nonce_mark.len()),
                (None, Some(c)) => (c, Part::Csrf, self.csrf_mark.len()),
                (None, None) => break,
            };
            if at > 0 {
                parts.push(Part::Text(Bytes::copy_from_slice(&rest.as_bytes()[..at])));
                text_len += at;
            }
            parts.push(part);
            rest = &rest[at + mark_len..];
        }
        if !rest.is_empty() {
            parts.push(Part::Text(Bytes::copy_from_slice(rest.as_bytes())));
            text_len += rest.len();
        }
        Built { parts, text_len }
    }
}

/// A mark: 32 random hex digits after a letter, so it is a valid nonce and CSRF token
/// in shape (nothing in a page escapes or splits it).
fn mark(rng: &dyn RandomSource, letter: &str) -> String {
    let mut bytes = [0u8; 16];
    rng.fill(&mut bytes);
    let mut out = String::from(letter);
    for b in bytes {
        let _ = write!(out, "{b:02x}");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use portal_core::random::OsRandom;

    impl Built {
        fn page(&self, nonce: &str, csrf: &str) -> String {
            let bytes: Vec<u8> = self.pieces(nonce, csrf).concat();
            String::from_utf8(bytes).unwrap()
        }
    }

    #[test]
    fn a_kept_page_is_joined_with_each_requests_values() {
        let cache = HomeCache::new(1 << 20, &OsRandom);
        let (n, c) = (cache.nonce_mark.clone(), cache.csrf_mark.clone());
        let html = format!(
            "<style nonce=\"{n}\"></style><form><input value=\"{c}\"></form><script nonce=\"{n}\"></script>"
        );
        let built = cache.cut(&html);
        assert_eq!(
            built.page("N1", "C1"),
            "<style nonce=\"N1\"></style><form><input value=\"C1\"></form><script nonce=\"N1\"></script>"
        );
        assert_eq!(built.page("N2", "C2").matches("N2").count(), 2);
        assert!(!built.page("N3", "C3").contains(&n));
        let plain = cache.cut("no marks at all");
        assert_eq!(plain.page("N", "C"), "no marks at all");
    }

    #[test]
    fn marks_differ_per_app() {
        let a = HomeCache::new(1 << 20, &OsRandom);
        let b = HomeCache::new(1 << 20, &OsRandom);
        assert_ne!(a.nonce_mark, b.nonce_mark);
        assert_ne!(a.nonce_mark, a.csrf_mark);
        assert_eq!(a.nonce_mark.len(), 33);
    }
}
