//! Making calls truly race: the helper the suite's concurrency checks use, public so
//! an adapter can race its own calls in its own tests the same way.
//!
//! Each racing call runs on its own OS thread (Tokio's blocking pool, driven by
//! `Handle::block_on`), and all are released together by a barrier, so they overlap
//! whatever the runtime flavor, and even when an adapter blocks inside a call (a
//! synchronous database driver, a `std::sync::Mutex` held across I/O). Needs a Tokio
//! runtime; the multi-threaded one is recommended.
//!
//! ```ignore
//! use portal_core::conformance::race::race;
//!
//! // Eight concurrent starts of a verification from one invite.
//! let outcomes = race(8, |_| {
//!     let store = store.clone();
//!     async move { store.start_verification(&invite, &token(), &code(), &limits).await }
//! })
//! .await;
//! assert_eq!(outcomes.iter().filter(|r| r.is_ok()).count(), 3);
//! ```

use std::future::Future;
use std::sync::{Arc, Barrier};

/// Runs `n` calls at once: `f(i)` builds the `i`-th call (`0..n`), every call runs on
/// its own thread, released together; returns their outputs in the order of `i`.
///
/// # Panics
///
/// Panics (with the racing call's message in the test output) if one of the calls
/// panics, so a failed assertion inside a call fails the test.
pub async fn race<T, F, Fut>(n: usize, f: F) -> Vec<T>
where
    F: FnMut(usize) -> Fut,
    Fut: Future<Output = T> + Send + 'static,
    T: Send + 'static,
{
    race_all((0..n).map(f).collect()).await
}

/// Runs the given futures at once, each on its own thread, released together; returns
/// their outputs in order. [`race`] for calls that are easier built as a list.
///
/// # Panics
///
/// Panics if one of the futures panics.
pub async fn race_all<T, Fut>(futures: Vec<Fut>) -> Vec<T>
where
    Fut: Future<Output = T> + Send + 'static,
    T: Send + 'static,
{
    let barrier = Arc::new(Barrier::new(futures.len()));
    let handle = tokio::runtime::Handle::current();
    let joins: Vec<_> = futures
        .into_iter()
        .map(|fut| {
            let (barrier, handle) = (barrier.clone(), handle.clone());
            tokio::task::spawn_blocking(move || {
                barrier.wait();
                handle.block_on(fut)
            })
        })
        .collect();
    let mut out = Vec::with_capacity(joins.len());
    for j in joins {
        match j.await {
            Ok(v) => out.push(v),
            Err(e) if e.is_panic() => std::panic::resume_unwind(e.into_panic()),
            Err(e) => panic!("a racing call did not finish: {e}"),
        }
    }
    out
}

/// Whether `check` panics, run as its own task so the panic is caught: how a test
/// shows that a conformance check fails on a deliberately broken store.
pub async fn panics<F>(check: F) -> bool
where
    F: Future<Output = ()> + Send + 'static,
{
    match tokio::spawn(check).await {
        Ok(()) => false,
        Err(e) => e.is_panic(),
    }
}
