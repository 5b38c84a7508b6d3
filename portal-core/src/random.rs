//! Randomness is injected: tokens and ids come from a CSPRNG in production and
//! from a seeded generator in tests, so test runs are reproducible.

use std::sync::Mutex;

use rand::{Rng, SeedableRng, rngs::StdRng};

/// A source of random bytes. Production sources must be cryptographically secure.
pub trait RandomSource: Send + Sync + 'static {
    /// Fills `buf` with random bytes.
    fn fill(&self, buf: &mut [u8]);
}

/// The operating system-seeded, cryptographically secure thread-local generator
/// of the `rand` crate (ChaCha12, reseeded from the OS).
#[derive(Debug, Default, Clone, Copy)]
pub struct OsRandom;

impl RandomSource for OsRandom {
    fn fill(&self, buf: &mut [u8]) {
        rand::rng().fill_bytes(buf);
    }
}

/// A deterministic generator from a seed. Only for tests: every run yields the same tokens.
#[derive(Debug)]
pub struct SeededRandom {
    rng: Mutex<StdRng>,
}

impl SeededRandom {
    /// A generator seeded with `seed`.
    pub fn new(seed: u64) -> Self {
        Self {
            rng: Mutex::new(StdRng::seed_from_u64(seed)),
        }
    }
}

impl RandomSource for SeededRandom {
    fn fill(&self, buf: &mut [u8]) {
        self.rng
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .fill_bytes(buf);
    }
}
