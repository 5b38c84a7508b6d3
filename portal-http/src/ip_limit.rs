//! Per-network limits on the two steps of the access flow an attacker repeats:
//! starting a verification (posting an invite page, which emails a code) and entering
//! a code (right or wrong).
//!
//! The per-contact limits of the core (emails per contact, wrong codes per contact)
//! bound what one invite can be used for; they do not slow down someone holding many
//! contacts' invites, or guessing codes for many contacts, from one machine. These
//! limits do, across all contacts and portals of this node, keyed by the client's
//! network: an IPv4 address, or an IPv6 /64 (one household or office usually gets a
//! whole /64, so counting single IPv6 addresses would let one host walk through
//! 2^64 of them).
//!
//! The rule ([`admit`]) is a pure sliding window over the times of a network's recent
//! admitted requests. The state lives in this process's memory and is bounded: at
//! most `max_tracked` networks per limit; when a new one arrives at the cap, windows
//! that ended are dropped first, then the networks seen least recently, so a flood of
//! addresses cannot grow memory (it can only make the limiter forget quiet networks,
//! which an attacker holding that many addresses could evade anyway). Like
//! [`crate::throttle`], this is per node.

use std::collections::{HashMap, VecDeque};
use std::net::{IpAddr, Ipv6Addr};
use std::sync::Mutex;

use chrono::{DateTime, TimeDelta, Utc};

/// The window requests are counted in.
pub const WINDOW: TimeDelta = TimeDelta::hours(1);

/// The network a request is counted against: an IPv4 address (IPv4-mapped IPv6
/// addresses count as their IPv4 address), or the first 64 bits of an IPv6 address.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Network {
    /// One IPv4 address (a NAT's whole office shares it).
    V4([u8; 4]),
    /// An IPv6 /64 prefix.
    V6([u8; 8]),
}

impl Network {
    /// The network of `ip`.
    pub fn of(ip: IpAddr) -> Self {
        match ip {
            IpAddr::V4(v4) => Self::V4(v4.octets()),
            IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
                Some(v4) => Self::V4(v4.octets()),
                None => Self::V6(prefix64(&v6)),
            },
        }
    }
}

fn prefix64(v6: &Ipv6Addr) -> [u8; 8] {
    let o = v6.octets();
    [o[0], o[1], o[2], o[3], o[4], o[5], o[6], o[7]]
}

/// Whether one more request at `now` fits in `limit` requests per `window`, given the
/// times of earlier admitted requests (oldest first). Requests at least a window old
/// are forgotten; an admitted request is recorded, a refused one is not (so a network
/// that keeps hammering is let in again as soon as its oldest request leaves the
/// window). A refusal says how long until then.
pub fn admit(
    history: &mut VecDeque<DateTime<Utc>>,
    now: DateTime<Utc>,
    limit: u32,
    window: TimeDelta,
) -> Result<(), TimeDelta> {
    while history.front().is_some_and(|t| now - *t >= window) {
        history.pop_front();
    }
    let limit = usize::try_from(limit).unwrap_or(usize::MAX);
    if history.len() >= limit {
        let wait = history
            .front()
            .map_or(window, |oldest| *oldest + window - now);
        return Err(wait.max(TimeDelta::seconds(1)));
    }
    history.push_back(now);
    Ok(())
}

/// Makes room for one more network in `windows` (at most `max_tracked`): drops the
/// windows that ended at `now`, then, if still full, the networks whose latest request
/// is oldest, down to seven eighths of the cap (so eviction, a full scan, runs once
/// per many new networks rather than on each).
pub fn make_room(
    windows: &mut HashMap<Network, VecDeque<DateTime<Utc>>>,
    now: DateTime<Utc>,
    window: TimeDelta,
    max_tracked: usize,
) {
    let max_tracked = max_tracked.max(1);
    if windows.len() < max_tracked {
        return;
    }
    windows.retain(|_, h| h.back().is_some_and(|t| now - *t < window));
    if windows.len() < max_tracked {
        return;
    }
    let keep = max_tracked - max_tracked.div_ceil(8);
    let mut latest: Vec<(DateTime<Utc>, Network)> = windows
        .iter()
        .map(|(n, h)| (h.back().copied().unwrap_or(DateTime::<Utc>::MIN_UTC), *n))
        .collect();
    latest.sort_unstable_by_key(|(t, _)| *t);
    let excess = windows.len().saturating_sub(keep);
    for (_, network) in latest.into_iter().take(excess) {
        windows.remove(&network);
    }
}

/// One limit's windows for every network on this node.
#[derive(Debug)]
pub struct IpLimiter {
    max_tracked: usize,
    windows: Mutex<HashMap<Network, VecDeque<DateTime<Utc>>>>,
}

impl IpLimiter {
    /// A limiter tracking at most `max_tracked` networks (at least one).
    pub fn new(max_tracked: usize) -> Self {
        Self {
            max_tracked: max_tracked.max(1),
            windows: Mutex::new(HashMap::new()),
        }
    }

    /// Applies [`admit`] to the network of `ip` with `limit` per [`WINDOW`]; a refusal
    /// says how long until one more request would be admitted.
    pub fn admit(&self, ip: IpAddr, now: DateTime<Utc>, limit: u32) -> Result<(), TimeDelta> {
        // A poisoned lock only means another request panicked mid-update; the
        // windows are still usable.
        let mut windows = self
            .windows
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let network = Network::of(ip);
        if !windows.contains_key(&network) {
            make_room(&mut windows, now, WINDOW, self.max_tracked);
        }
        admit(windows.entry(network).or_default(), now, limit, WINDOW)
    }

    #[cfg(test)]
    fn tracked(&self) -> usize {
        self.windows
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t0() -> DateTime<Utc> {
        DateTime::parse_from_rfc3339("2026-11-28T10:00:00Z")
            .unwrap()
            .with_timezone(&Utc)
    }

    #[test]
    fn the_limit_holds_for_exactly_one_window() {
        let mut h = VecDeque::new();
        for i in 0..30 {
            assert!(admit(&mut h, t0() + TimeDelta::seconds(i), 30, WINDOW).is_ok());
        }
        let wait = admit(&mut h, t0() + TimeDelta::minutes(10), 30, WINDOW).unwrap_err();
        assert_eq!(wait, TimeDelta::minutes(50), "until the first leaves");
        assert_eq!(h.len(), 30, "a refusal is not recorded");
        let almost = t0() + WINDOW - TimeDelta::milliseconds(1);
        assert_eq!(
            admit(&mut h, almost, 30, WINDOW),
            Err(TimeDelta::seconds(1)),
            "the first is still in the window; never less than a second to wait"
        );
        assert!(admit(&mut h, t0() + WINDOW, 30, WINDOW).is_ok(), "it left");
        assert!(
            admit(&mut h, t0() + WINDOW, 30, WINDOW).is_err(),
            "only one slot freed (the second request is a second younger)"
        );
        assert_eq!(
            admit(&mut VecDeque::new(), t0(), 0, WINDOW),
            Err(WINDOW),
            "0 allows nothing"
        );
    }

    #[test]
    fn ipv6_counts_by_64_and_mapped_ipv4_as_ipv4() {
        let a: IpAddr = "2001:db8:1:2:aaaa::1".parse().unwrap();
        let b: IpAddr = "2001:db8:1:2:ffff:ffff:ffff:ffff".parse().unwrap();
        let other: IpAddr = "2001:db8:1:3::1".parse().unwrap();
        assert_eq!(Network::of(a), Network::of(b));
        assert_ne!(Network::of(a), Network::of(other));
        let mapped: IpAddr = "::ffff:192.0.2.7".parse().unwrap();
        let v4: IpAddr = "192.0.2.7".parse().unwrap();
        assert_eq!(Network::of(mapped), Network::of(v4));
        assert_ne!(
            Network::of(v4),
            Network::of("192.0.2.8".parse().unwrap()),
            "IPv4 addresses are counted one by one"
        );

        let limiter = IpLimiter::new(100);
        assert!(limiter.admit(a, t0(), 2).is_ok());
        assert!(limiter.admit(b, t0(), 2).is_ok());
        assert!(limiter.admit(b, t0(), 2).is_err(), "same /64, shared count");
        assert!(limiter.admit(other, t0(), 2).is_ok(), "next /64 is apart");
    }

    #[test]
    fn memory_is_capped_stale_first_then_least_recent() {
        let limiter = IpLimiter::new(8);
        let ip = |i: u8| IpAddr::from([10, 0, 0, i]);
        // Networks 0..8 fill the cap, one second apart; network 0 is full.
        for i in 0..8u8 {
            assert!(
                limiter
                    .admit(ip(i), t0() + TimeDelta::seconds(i.into()), 1)
                    .is_ok()
            );
        }
        assert_eq!(limiter.tracked(), 8);
        // A ninth evicts the least recently seen (network 0) only.
        let at = t0() + TimeDelta::seconds(10);
        assert!(limiter.admit(ip(8), at, 1).is_ok());
        assert_eq!(limiter.tracked(), 8, "never above the cap");
        assert!(limiter.admit(ip(0), at, 1).is_ok(), "0 was forgotten");
        assert!(limiter.admit(ip(7), at, 1).is_err(), "7 is still counted");
        // After a window, every window has ended: all are swept before any eviction.
        let later = t0() + WINDOW + TimeDelta::seconds(11);
        assert!(limiter.admit(ip(200), later, 1).is_ok());
        assert_eq!(limiter.tracked(), 1);
    }

    #[test]
    fn make_room_keeps_the_most_recent() {
        let mut w = HashMap::new();
        for i in 0..16u8 {
            let mut h = VecDeque::new();
            h.push_back(t0() + TimeDelta::seconds(i.into()));
            w.insert(Network::V4([10, 0, 0, i]), h);
        }
        make_room(&mut w, t0() + TimeDelta::seconds(20), WINDOW, 16);
        assert_eq!(w.len(), 14, "down to seven eighths");
        assert!(!w.contains_key(&Network::V4([10, 0, 0, 0])));
        assert!(!w.contains_key(&Network::V4([10, 0, 0, 1])));
        assert!(w.contains_key(&Network::V4([10, 0, 0, 2])));
        make_room(&mut w, t0() + TimeDelta::seconds(20), WINDOW, 16);
        assert_eq!(w.len(), 14, "below the cap: nothing to do");
    }
}
