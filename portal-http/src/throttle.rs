//! Throttling of a signed-in client's writes (comments, questions, task actions), so a
//! script or a stuck key cannot flood the portal and the MSP's inbox.
//!
//! The rule ([`admit`]) is a pure sliding window over the times of a session's recent
//! writes. The state lives in this process's memory, keyed by the hash of the session
//! token, which is right for one node. Several nodes behind a load balancer each keep
//! their own windows, so a client could write up to the limit on each node: a
//! multi-node deployment that needs a hard limit keeps the windows in shared state
//! (the store or a cache) instead.

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;

use chrono::{DateTime, TimeDelta, Utc};
use portal_core::secret::TokenHash;

/// The window writes are counted in.
pub const WINDOW: TimeDelta = TimeDelta::minutes(1);

/// Sessions tracked before stale windows are swept (then twice the live count).
const SWEEP_FLOOR: usize = 1024;

/// Whether one more write at `now` fits in `limit` writes per [`WINDOW`], given the
/// times of earlier admitted writes (oldest first). Writes at least a window old are
/// forgotten; an admitted write is recorded.
pub fn admit(history: &mut VecDeque<DateTime<Utc>>, now: DateTime<Utc>, limit: u32) -> bool {
    while history.front().is_some_and(|t| now - *t >= WINDOW) {
        history.pop_front();
    }
    let limit = usize::try_from(limit).unwrap_or(usize::MAX);
    if history.len() >= limit {
        return false;
    }
    history.push_back(now);
    true
}

/// The windows of all sessions on this node.
#[derive(Debug, Default)]
pub struct WriteThrottle {
    state: Mutex<State>,
}

#[derive(Debug, Default)]
struct State {
    sessions: HashMap<[u8; 32], VecDeque<DateTime<Utc>>>,
    sweep_at: usize,
}

impl WriteThrottle {
    /// Applies [`admit`] to the session whose token hashes to `session`.
    pub fn admit(&self, session: &TokenHash, now: DateTime<Utc>, limit: u32) -> bool {
        // A poisoned lock only means another request panicked mid-update; the
        // windows are still usable.
        let mut state = self
            .state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if state.sessions.len() >= state.sweep_at.max(SWEEP_FLOOR) {
            state
                .sessions
                .retain(|_, h| h.back().is_some_and(|t| now - *t < WINDOW));
            state.sweep_at = state.sessions.len() * 2;
        }
        let history = state.sessions.entry(*session.as_bytes()).or_default();
        admit(history, now, limit)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_limit_holds_for_exactly_one_window() {
        let t0 = DateTime::parse_from_rfc3339("2026-11-28T10:00:00Z")
            .unwrap()
            .with_timezone(&Utc);
        let mut h = VecDeque::new();
        for i in 0..20 {
            assert!(admit(&mut h, t0 + TimeDelta::milliseconds(i), 20), "{i}");
        }
        assert!(!admit(&mut h, t0 + TimeDelta::seconds(1), 20), "the 21st");
        assert_eq!(h.len(), 20, "a refused write is not recorded");
        let almost = t0 + WINDOW - TimeDelta::milliseconds(1);
        assert!(
            !admit(&mut h, almost, 20),
            "the first is still in the window"
        );
        assert!(admit(&mut h, t0 + WINDOW, 20), "the first has left it");
        assert!(!admit(&mut h, t0 + WINDOW, 20), "only one slot freed");
        assert!(!admit(&mut VecDeque::new(), t0, 0), "0 allows nothing");
    }

    #[test]
    fn sessions_are_counted_apart_and_stale_ones_swept() {
        let t0 = DateTime::parse_from_rfc3339("2026-11-28T10:00:00Z")
            .unwrap()
            .with_timezone(&Utc);
        let throttle = WriteThrottle::default();
        let a = TokenHash::from_bytes([1; 32]);
        let b = TokenHash::from_bytes([2; 32]);
        assert!(throttle.admit(&a, t0, 1));
        assert!(!throttle.admit(&a, t0, 1));
        assert!(throttle.admit(&b, t0, 1));
        // Exactly the floor, the first sweep happens on the next write.
        for i in 0..SWEEP_FLOOR - 2 {
            let mut bytes = [3; 32];
            bytes[..8].copy_from_slice(&(i as u64).to_be_bytes());
            throttle.admit(&TokenHash::from_bytes(bytes), t0, 1);
        }
        let later = t0 + WINDOW;
        assert!(throttle.admit(&TokenHash::from_bytes([4; 32]), later, 1));
        let state = throttle.state.lock().unwrap();
        assert_eq!(state.sessions.len(), 1, "stale windows were swept");
    }
}
