//! The single writer: a dedicated thread that owns the write connection and runs every
//! write as a job, with group commit.
//!
//! Jobs queue on a channel. The thread takes whatever is queued (up to
//! [`MAX_BATCH`]), opens one `BEGIN IMMEDIATE` transaction, runs each job inside its
//! own savepoint (a job that fails is rolled back alone), commits once, and only then
//! answers every job of the batch. So nothing is acknowledged before it is durable,
//! each job is atomic and sees every earlier job, and under load many small writes
//! (access-log appends, session refreshes) share one commit. With no contention a
//! batch is a single job and the latency is one commit.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::mpsc;
use std::thread::JoinHandle;

use rusqlite::{Connection, TransactionBehavior};
use tokio::sync::oneshot;

use portal_core::{Error, Result};

/// Most jobs committed together.
const MAX_BATCH: usize = 256;

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

/// A write: runs on the write connection inside a savepoint (`Err`: the batch could
/// not start or already failed, so answer with that error without running).
type Job = Box<dyn FnOnce(std::result::Result<&Connection, &Failed>) -> Done + Send>;

/// Handle on the writer thread. Dropping it lets the thread finish the queued jobs
/// and close the connection; [`Writer::shutdown`] also waits for that.
pub(crate) struct Writer {
    jobs: Option<mpsc::Sender<Job>>,
    thread: Option<JoinHandle<()>>,
}

impl Writer {
    /// Starts the writer thread over `conn`.
    pub(crate) fn start(conn: Connection) -> Result<Self> {
        let (jobs, queue) = mpsc::channel::<Job>();
        let thread = std::thread::Builder::new()
            .name("portal-sqlite-writer".into())
            .spawn(move || run(conn, queue))
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
        let job: Job = Box::new(move |conn| {
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
                    let out = match (failed, result) {
                        (Some(failed), Ok(_)) => Err(failed.error()),
                        (_, result) => result,
                    };
                    // The caller may have gone away (cancelled request): nothing to do.
                    let _ = tx.send(out);
                }),
            }
        });
        let Some(jobs) = &self.jobs else {
            return Err(Error::storage_msg("the SQLite store is closed"));
        };
        jobs.send(job)
            .map_err(|_| Error::storage_msg("the SQLite writer thread has stopped"))?;
        rx.await
            .map_err(|_| Error::storage_msg("the SQLite writer dropped a write"))?
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

fn run(mut conn: Connection, queue: mpsc::Receiver<Job>) {
    while let Ok(first) = queue.recv() {
        let mut batch = Vec::with_capacity(8);
        batch.push(first);
        while batch.len() < MAX_BATCH {
            match queue.try_recv() {
                Ok(job) => batch.push(job),
                Err(_) => break,
            }
        }
        commit_batch(&mut conn, batch);
    }
    tracing::debug!("SQLite writer thread stopping");
}

fn commit_batch(conn: &mut Connection, batch: Vec<Job>) {
    let mut answers = Vec::with_capacity(batch.len());
    let mut tx = match conn.transaction_with_behavior(TransactionBehavior::Immediate) {
        Ok(tx) => tx,
        Err(e) => {
            tracing::error!(error = %e, "could not begin a SQLite write transaction");
            let failed = Failed::sqlite("could not begin a write transaction", &e);
            for job in batch {
                (job(Err(&failed)).answer)(None);
            }
            return;
        }
    };
    let mut failure: Option<Failed> = None;
    for job in batch {
        if let Some(failed) = &failure {
            answers.push(job(Err(failed)));
            continue;
        }
        let savepoint = match tx.savepoint() {
            Ok(sp) => sp,
            Err(e) => {
                tracing::error!(error = %e, "could not create a SQLite savepoint");
                let failed = Failed::sqlite("could not create a savepoint", &e);
                answers.push(job(Err(&failed)));
                failure = Some(failed);
                continue;
            }
        };
        // A panicking job loses its own answer (its caller sees an error) but must
        // not take the writer, and so the whole store, down with it.
        let done = catch_unwind(AssertUnwindSafe(|| job(Ok(&*savepoint))));
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
    for done in answers {
        (done.answer)(outcome.as_ref());
    }
}
