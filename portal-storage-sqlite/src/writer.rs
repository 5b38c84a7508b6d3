//! The single writer: a dedicated thread that owns the write connection and runs every
//! write as a job, with group commit.
//!
//! Jobs queue on a channel. The thread takes whatever is queued (up to
//! [`MAX_BATCH`]), opens one `BEGIN IMMEDIATE` transaction, runs each job inside its
//! own savepoint (a job that fails is rolled back alone; queued appends of rows that
//! stand alone run without one, see [`Writer::submit`]), commits once, and only then
//! answers every job of the batch. So nothing is acknowledged before it is durable,
//! each job is atomic and sees every earlier job, and under load many small writes
//! (access-log appends, session refreshes) share one commit. With no contention a
//! batch is a single job and the latency is one commit.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::{Arc, mpsc};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use rusqlite::hooks::Action;
use rusqlite::{Connection, TransactionBehavior};
use tokio::sync::oneshot;

use portal_core::{Error, Result};

use crate::cache::Generations;

/// Most jobs committed together.
const MAX_BATCH: usize = 256;

/// How long the writer lets a queued append wait for more (unless a write that
/// someone waits for arrives): under load, the access entries of a few
/// milliseconds share one commit instead of one each.
const APPEND_LINGER: Duration = Duration::from_millis(2);

/// Why a batch kept nothing: the reason for the log, and whether the disk was full
/// (so callers get `Error::StorageFull`, not a generic storage failure).
#[derive(Debug, Clone)]
struct Failed {
    reason: String,
    full: bool,
}

impl Failed {
    fn sqlite(what: &str, e: &rusqlite::Error) -> Self {
        Self {
            reason: format!("{what}: {e}"),
            full: e.sqlite_error_code() == Some(rusqlite::ErrorCode::DiskFull),
        }
    }

    /// The error a job of the failed batch answers with.
    fn error(&self) -> Error {
        if self.full {
            Error::storage_full(format!("SQLite: the disk is full ({})", self.reason))
        } else {
            Error::storage_msg(format!("SQLite write failed: {}", self.reason))
        }
    }
}

/// Answers a job's caller once the batch's fate is known (`Some(failed)`: the batch
/// was not committed, so nothing the job did was kept).
type Answer = Box<dyn FnOnce(Option<&Failed>) + Send>;

/// What a job hands back after running: whether to keep its changes, whether it
/// failed because the disk is full, and its answer.
struct Done {
    keep: bool,
    full: bool,
    answer: Answer,
}

/// What a job runs: on the write connection (`Err`: the batch could not start or
/// already failed, so answer with that error without running).
type Run = Box<dyn FnOnce(std::result::Result<&Connection, &Failed>) -> Done + Send>;

/// A write.
struct Job {
    run: Run,
    /// Runs inside a savepoint of its own, so a failure undoes exactly what it did.
    /// Appends whose rows stand alone (queued access-log entries) run without one:
    /// the savepoint's page journal was the largest part of their cost, and a
    /// failure half-way keeps the entries appended before it, each whole.
    atomic: bool,
}

/// Handle on the writer thread. Dropping it lets the thread finish the queued jobs
/// and close the connection; [`Writer::shutdown`] also waits for that.
pub(crate) struct Writer {
    jobs: Option<mpsc::Sender<Job>>,
    thread: Option<JoinHandle<()>>,
}

impl Writer {
    /// Starts the writer thread over `conn`. Every row change a job makes is told to
    /// `generations` (SQLite's update hook), and every batch's end before its jobs
    /// are answered, so a cached read never outlives a write that was acknowledged.
    pub(crate) fn start(conn: Connection, generations: Arc<Generations>) -> Result<Self> {
        let (jobs, queue) = mpsc::channel::<Job>();
        let hook = Arc::clone(&generations);
        conn.update_hook(Some(move |_: Action, _: &str, table: &str, _: i64| {
            hook.row_changed(table);
        }));
        let thread = std::thread::Builder::new()
            .name("portal-sqlite-writer".into())
            .spawn(move || run(conn, queue, &generations))
            .map_err(|e| Error::storage("starting the SQLite writer thread", e))?;
        Ok(Self {
            jobs: Some(jobs),
            thread: Some(thread),
        })
    }

    /// Runs `f` as one atomic write and waits for its commit. An `Err` from `f` rolls
    /// back what `f` did and is returned as is.
    pub(crate) async fn write<T, F>(&self, f: F) -> Result<T>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> Result<T> + Send + 'static,
    {
        let (tx, rx) = oneshot::channel::<Result<T>>();
        let run = job_run(f, move |out| {
            // The caller may have gone away (cancelled request): nothing to do.
            let _ = tx.send(out);
        });
        let Some(jobs) = &self.jobs else {
            return Err(Error::storage_msg("the SQLite store is closed"));
        };
        jobs.send(Job { run, atomic: true })
            .map_err(|_| Error::storage_msg("the SQLite writer thread has stopped"))?;
        rx.await
            .map_err(|_| Error::storage_msg("the SQLite writer dropped a write"))?
    }

    /// Queues `f`, an append whose rows stand alone, without waiting for it: it runs
    /// without a savepoint of its own, and a failure is logged, keeping what `f`
    /// appended before it (unless the whole batch fails). Jobs run in the order they
    /// were queued, so a later [`Self::write`] sees everything submitted before it.
    pub(crate) fn submit<F>(&self, what: &'static str, f: F)
    where
        F: FnOnce(&Connection) -> Result<()> + Send + 'static,
    {
        let run = job_run(f, move |out| {
            if let Err(e) = out {
                tracing::error!(error = %e, "a queued SQLite write failed: {what}");
            }
        });
        let job = Job { run, atomic: false };
        let sent = self
            .jobs
            .as_ref()
            .is_some_and(|jobs| jobs.send(job).is_ok());
        if !sent {
            tracing::error!("the SQLite writer has stopped: a queued write was dropped: {what}");
        }
    }

    /// Stops accepting jobs, lets the thread finish the queued ones, and waits for it
    /// to close the connection.
    pub(crate) fn shutdown(&mut self) {
        self.jobs = None;
        if let Some(thread) = self.thread.take()
            && thread.join().is_err()
        {
            tracing::error!("the SQLite writer thread panicked");
        }
    }
}

impl Drop for Writer {
    fn drop(&mut self) {
        self.shutdown();
    }
}

/// What a job runs: `f` on the connection, then `answer` with its outcome once the
/// batch's fate is known (an error of its own, or the batch's failure).
fn job_run<T, F, A>(f: F, answer: A) -> Run
where
    T: Send + 'static,
    F: FnOnce(&Connection) -> Result<T> + Send + 'static,
    A: FnOnce(Result<T>) + Send + 'static,
{
    Box::new(move |conn| {
        let result = match conn {
            Ok(conn) => f(conn),
            Err(failed) => Err(failed.error()),
        };
        let keep = result.is_ok();
        let full = matches!(result, Err(Error::StorageFull { .. }));
        Done {
            keep,
            full,
            answer: Box::new(move |failed: Option<&Failed>| {
                answer(match (failed, result) {
                    (Some(failed), Ok(_)) => Err(failed.error()),
                    (_, result) => result,
                });
            }),
        }
    })
}

fn run(mut conn: Connection, queue: mpsc::Receiver<Job>, generations: &Generations) {
    while let Ok(first) = queue.recv() {
        let mut batch = Vec::with_capacity(8);
        let append = !first.atomic;
        batch.push(first);
        if append {
            // A queued append takes what is queued when it runs: waiting a moment
            // lets the requests of that moment share its commit. Any write that
            // someone waits for ends the wait at once.
            let until = Instant::now() + APPEND_LINGER;
            while let Ok(job) = queue.recv_timeout(until.saturating_duration_since(Instant::now()))
            {
                let atomic = job.atomic;
                batch.push(job);
                if atomic {
                    break;
                }
            }
        }
        while batch.len() < MAX_BATCH {
            match queue.try_recv() {
                Ok(job) => batch.push(job),
                Err(_) => break,
            }
        }
        commit_batch(&mut conn, batch, generations);
    }
    tracing::debug!("SQLite writer thread stopping");
}

fn commit_batch(conn: &mut Connection, batch: Vec<Job>, generations: &Generations) {
    let mut answers = Vec::with_capacity(batch.len());
    let mut tx = match conn.transaction_with_behavior(TransactionBehavior::Immediate) {
        Ok(tx) => tx,
        Err(e) => {
            tracing::error!(error = %e, "could not begin a SQLite write transaction");
            let failed = Failed::sqlite("could not begin a write transaction", &e);
            for job in batch {
                ((job.run)(Err(&failed)).answer)(None);
            }
            return;
        }
    };
    let mut failure: Option<Failed> = None;
    for job in batch {
        if let Some(failed) = &failure {
            answers.push((job.run)(Err(failed)));
            continue;
        }
        if !job.atomic {
            let done = catch_unwind(AssertUnwindSafe(|| (job.run)(Ok(&*tx))));
            if done.is_err() {
                tracing::error!("a SQLite append job panicked; the rows it appended are kept");
            }
            // After SQLITE_FULL, SQLite may have rolled the whole transaction back:
            // then nothing of the batch is kept, and every job must hear so.
            if tx.is_autocommit() {
                let full = done.as_ref().is_ok_and(|d| d.full);
                failure = Some(Failed {
                    reason: "the write transaction was rolled back".to_owned(),
                    full,
                });
            }
            answers.extend(done.ok());
            continue;
        }
        let savepoint = match tx.savepoint() {
            Ok(sp) => sp,
            Err(e) => {
                tracing::error!(error = %e, "could not create a SQLite savepoint");
                let failed = Failed::sqlite("could not create a savepoint", &e);
                answers.push((job.run)(Err(&failed)));
                failure = Some(failed);
                continue;
            }
        };
        // A panicking job loses its own answer (its caller sees an error) but must
        // not take the writer, and so the whole store, down with it.
        let done = catch_unwind(AssertUnwindSafe(|| (job.run)(Ok(&*savepoint))));
        let (keep, full, done) = match done {
            Ok(done) => (done.keep, done.full, Some(done)),
            Err(_) => {
                tracing::error!("a SQLite write job panicked; its changes are rolled back");
                (false, false, None)
            }
        };
        // Release keeps the job's changes; finish (drop behavior: rollback) undoes them.
        let ended = if keep {
            savepoint.commit()
        } else {
            savepoint.finish()
        };
        if let Err(e) = ended {
            // After SQLITE_FULL, SQLite may have rolled the whole transaction back
            // already, so the savepoint is gone: the batch failed for the full disk.
            tracing::error!(error = %e, "could not end a SQLite savepoint");
            let mut failed = Failed::sqlite("could not end a savepoint", &e);
            failed.full |= full;
            failure = Some(failed);
        }
        answers.extend(done);
    }
    let outcome = match failure {
        Some(failed) => {
            if let Err(e) = tx.rollback() {
                tracing::error!(error = %e, "could not roll back a SQLite write transaction");
            }
            Some(failed)
        }
        None => match tx.commit() {
            Ok(()) => None,
            Err(e) => {
                // The transaction's drop rolls back what the commit could not keep.
                tracing::error!(error = %e, "could not commit a SQLite write transaction");
                Some(Failed::sqlite("could not commit", &e))
            }
        },
    };
    generations.batch_ended();
    for done in answers {
        (done.answer)(outcome.as_ref());
    }
}
