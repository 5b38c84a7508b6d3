//! A thread of its own for CPU-heavy work on a stream (sealing, hashing), so that a
//! large upload uses a second core instead of doing everything on the task that reads
//! the request.
//!
//! Plain `std::thread` and channels, not an async runtime's blocking pool: the core
//! does not depend on a runtime (tokio is an optional feature), and a worker lives for
//! one file, so it is started once per large file, never per piece. Jobs run in the
//! order they were sent; each answer comes back as a future
//! (`futures_channel::oneshot`), so the async side waits without blocking its thread,
//! and it bounds how many jobs are in flight by how many answers it has not taken.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{OnceLock, mpsc};

use futures_channel::oneshot;

/// A thread that runs jobs one after the other. Dropping it closes its queue: the
/// thread finishes the job in hand, if any, and ends; answers nobody waits for are
/// thrown away.
pub(crate) struct Worker<I, O> {
    jobs: mpsc::Sender<(I, oneshot::Sender<O>)>,
}

impl<I: Send + 'static, O: Send + 'static> Worker<I, O> {
    /// Starts a thread named `name` that answers each job with `work(job)`. `None` if
    /// the system would not start a thread: the caller then does the work itself.
    pub(crate) fn start(name: &str, mut work: impl FnMut(I) -> O + Send + 'static) -> Option<Self> {
        let (jobs, queue) = mpsc::channel::<(I, oneshot::Sender<O>)>();
        std::thread::Builder::new()
            .name(name.to_owned())
            .spawn(move || {
                while let Ok((job, answer)) = queue.recv() {
                    // The stream that asked may be gone (the upload was dropped).
                    let _ = answer.send(work(job));
                }
            })
            .ok()?;
        Some(Self { jobs })
    }

    /// Queues `job`; its answer arrives on the returned receiver. If the thread has
    /// stopped, the job is dropped with its answer's sender and the receiver yields
    /// `Canceled`.
    pub(crate) fn run(&self, job: I) -> oneshot::Receiver<O> {
        let (answer, receiver) = oneshot::channel();
        let _ = self.jobs.send((job, answer));
        receiver
    }
}

/// A bound on how many files are worked on by threads of their own at once.
#[derive(Debug)]
pub(crate) struct Slots {
    busy: AtomicUsize,
    most: usize,
}

impl Slots {
    /// A bound of `most` files at once.
    pub(crate) const fn new(most: usize) -> Self {
        Self {
            busy: AtomicUsize::new(0),
            most,
        }
    }

    /// The process-wide bound: one file per core (each uses two threads), so a burst
    /// of large uploads costs at most twice as many threads as cores, never one pair
    /// per connection.
    pub(crate) fn process() -> &'static Slots {
        static PROCESS: OnceLock<Slots> = OnceLock::new();
        PROCESS.get_or_init(|| {
            let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
            Slots::new(cores.clamp(1, 64))
        })
    }

    /// A slot, if fewer than the bound hold one; `None` means "do the work on the
    /// caller's task".
    pub(crate) fn take(&'static self) -> Option<Slot> {
        self.busy
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |busy| {
                (busy < self.most).then_some(busy + 1)
            })
            .ok()
            .map(|_| Slot(self))
    }
}

/// A file's permission to use threads of its own; given back when dropped.
#[derive(Debug)]
pub(crate) struct Slot(&'static Slots);

impl Drop for Slot {
    fn drop(&mut self) {
        self.0.busy.fetch_sub(1, Ordering::AcqRel);
    }
}

/// An answer that is already known (work done on the caller's own thread), in the
/// same shape as a worker's.
pub(crate) fn ready<O>(value: O) -> oneshot::Receiver<O> {
    let (answer, receiver) = oneshot::channel();
    let _ = answer.send(value);
    receiver
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slots_are_bounded_and_given_back() {
        let slots: &'static Slots = Box::leak(Box::new(Slots::new(2)));
        let a = slots.take().unwrap();
        let _b = slots.take().unwrap();
        assert!(slots.take().is_none(), "a third file waits its turn");
        drop(a);
        assert!(slots.take().is_some(), "a dropped slot is free again");
        assert!(Slots::process().most >= 1);
    }

    /// Waits for an answer without an async runtime (spins with a yield: tests only).
    fn wait<T>(mut r: oneshot::Receiver<T>) -> Result<T, oneshot::Canceled> {
        loop {
            match r.try_recv() {
                Ok(Some(v)) => return Ok(v),
                Ok(None) => std::thread::yield_now(),
                Err(e) => return Err(e),
            }
        }
    }

    #[test]
    fn jobs_run_in_order_on_another_thread() {
        let here = std::thread::current().id();
        let mut seen = Vec::new();
        let worker = Worker::start("test-worker", move |n: u32| {
            seen.push(n);
            (seen.clone(), std::thread::current().id() != here)
        })
        .unwrap();
        let answers: Vec<_> = (0..5).map(|n| worker.run(n)).collect();
        // Dropping the worker still lets the jobs already queued finish.
        drop(worker);
        let got: Vec<_> = answers.into_iter().map(|a| wait(a).unwrap()).collect();
        assert_eq!(got[4].0, vec![0, 1, 2, 3, 4], "in the order sent");
        assert!(got.iter().all(|(_, elsewhere)| *elsewhere));
    }

    #[test]
    fn a_ready_answer_is_ready() {
        assert_eq!(wait(ready(7)), Ok(7));
    }
}
