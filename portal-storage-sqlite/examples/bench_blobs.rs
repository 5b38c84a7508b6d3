//! Measures a large blob put three ways on this machine, in one run (docs/file-storage.md):
//! `dd ... conv=fsync` (the disk's sequential write with one fsync, the ceiling),
//! [`FileBlobStore`] (what ships), and a prototype of the road not taken: 64 KiB
//! chunks as rows of the SQLite database, written by one writer thread that commits
//! whatever is queued together (like the store's group-committing writer), the blob
//! made visible and durable by a last `synchronous=FULL` commit.
//!
//! ```sh
//! CARGO_TARGET_DIR=... cargo run --release -p portal-storage-sqlite --example bench_blobs -- --mib 1024 --rounds 2
//! ```
//!
//! Figures per variant: MB/s of the put (until it is durable), MB/s of reading it back
//! (page cache warm), the process's peak RSS growth during the put (VmHWM reset through
//! /proc/self/clear_refs), and the bytes the process had written to storage
//! (/proc/self/io `write_bytes`, so write amplification shows).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::Path;
use std::sync::Arc;
use std::sync::mpsc;
use std::time::Instant;

use bytes::Bytes;
use futures_util::StreamExt;
use portal_core::blob::{BlobStore, ByteStream, Tally};
use portal_core::{BlobId, OsRandom};
use portal_storage_sqlite::FileBlobStore;
use rusqlite::{Connection, params};

const PIECE: usize = 64 * 1024;

fn proc_field(file: &str, key: &str) -> u64 {
    let text = std::fs::read_to_string(file).unwrap();
    let line = text.lines().find(|l| l.starts_with(key)).unwrap();
    line[key.len()..]
        .trim()
        .trim_end_matches(" kB")
        .trim()
        .parse()
        .unwrap()
}

/// Resets the peak RSS mark and returns (current RSS in KiB, write_bytes so far).
fn start_marks() -> (u64, u64) {
    std::fs::write("/proc/self/clear_refs", "5").unwrap();
    (
        proc_field("/proc/self/status", "VmRSS:"),
        proc_field("/proc/self/io", "write_bytes:"),
    )
}

struct Figures {
    put_mb_s: f64,
    get_mb_s: f64,
    rss_growth_kib: u64,
    written_mib: f64,
    note: String,
}

fn end_marks(marks: (u64, u64)) -> (u64, f64) {
    let peak = proc_field("/proc/self/status", "VmHWM:");
    let written = proc_field("/proc/self/io", "write_bytes:");
    (
        peak.saturating_sub(marks.0),
        (written - marks.1) as f64 / (1 << 20) as f64,
    )
}

/// `mib` MiB in 64 KiB pieces, each a fresh allocation (as pieces off the network
/// are), so whatever a store holds on to shows in its RSS.
fn source(piece: &Bytes, mib: usize) -> ByteStream {
    let count = mib * (1 << 20) / PIECE;
    let piece = piece.clone();
    Box::pin(futures_util::stream::iter(0..count).map(move |_| Ok(Bytes::copy_from_slice(&piece))))
}

fn mb_s(bytes: u64, secs: f64) -> f64 {
    bytes as f64 / 1e6 / secs
}

async fn bench_files(dir: &Path, piece: &Bytes, mib: usize) -> Figures {
    let store = FileBlobStore::open(dir.join("files")).await.unwrap();
    let id = BlobId::random(&OsRandom);
    let bytes = (mib << 20) as u64;
    let marks = start_marks();
    let t = Instant::now();
    let info = store.put(id, source(piece, mib)).await.unwrap();
    let put = t.elapsed().as_secs_f64();
    let (rss, written) = end_marks(marks);
    assert_eq!(info.size, bytes);
    let t = Instant::now();
    let mut got = store.get(id).await.unwrap();
    let mut tally = Tally::new();
    while let Some(b) = got.next().await {
        tally.update(&b.unwrap());
    }
    let get = t.elapsed().as_secs_f64();
    assert_eq!(tally.finish(), info);
    store.delete(id).await.unwrap();
    Figures {
        put_mb_s: mb_s(bytes, put),
        get_mb_s: mb_s(bytes, get),
        rss_growth_kib: rss,
        written_mib: written,
        note: String::new(),
    }
}

/// The prototype of chunks as rows: a writer thread, group commit, WAL, NORMAL.
async fn bench_rows(dir: &Path, piece: &Bytes, mib: usize) -> Figures {
    let path = dir.join("rows.db");
    let setup = Connection::open(&path).unwrap();
    setup
        .execute_batch(
            "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;
             CREATE TABLE IF NOT EXISTS blob_chunk (blob BLOB NOT NULL, seq INTEGER NOT NULL,
                 data BLOB NOT NULL, PRIMARY KEY (blob, seq));
             CREATE TABLE IF NOT EXISTS blob (id BLOB PRIMARY KEY, size INTEGER NOT NULL,
                 sha256 BLOB NOT NULL);",
        )
        .unwrap();
    drop(setup);
    let id = BlobId::random(&OsRandom).to_string();
    let bytes = (mib << 20) as u64;
    enum Job {
        Chunk(u64, Bytes),
        Finish(u64, [u8; 32], tokio::sync::oneshot::Sender<()>),
    }
    // A few chunks in flight, as a bounded writer queue would allow.
    let (tx, rx) = mpsc::sync_channel::<Job>(4);
    let writer_path = path.clone();
    let writer_id = id.clone();
    let writer = std::thread::spawn(move || {
        let mut conn = Connection::open(writer_path).unwrap();
        conn.execute_batch("PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;")
            .unwrap();
        let mut commits = 0u64;
        while let Ok(first) = rx.recv() {
            let mut batch = vec![first];
            while batch.len() < 256 {
                match rx.try_recv() {
                    Ok(job) => batch.push(job),
                    Err(_) => break,
                }
            }
            let finishing = batch.iter().any(|j| matches!(j, Job::Finish(..)));
            if finishing {
                conn.execute_batch("PRAGMA synchronous=FULL").unwrap();
            }
            let tx = conn
                .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
                .unwrap();
            let mut answers = Vec::new();
            for job in batch {
                match job {
                    Job::Chunk(seq, data) => {
                        tx.prepare_cached("INSERT INTO blob_chunk VALUES (?1, ?2, ?3)")
                            .unwrap()
                            .execute(params![writer_id, seq, &data[..]])
                            .unwrap();
                    }
                    Job::Finish(size, sha, answer) => {
                        tx.execute(
                            "INSERT INTO blob VALUES (?1, ?2, ?3)",
                            params![writer_id, size, &sha[..]],
                        )
                        .unwrap();
                        answers.push(answer);
                    }
                }
            }
            tx.commit().unwrap();
            commits += 1;
            for a in answers {
                let _ = a.send(());
            }
        }
        commits
    });
    let marks = start_marks();
    let t = Instant::now();
    let mut content = source(piece, mib);
    let mut tally = Tally::new();
    let mut seq = 0u64;
    let mut pending: Vec<Bytes> = Vec::new();
    let mut pending_len = 0;
    // Cut the stream into 64 KiB rows, as the prototype's row size.
    while let Some(b) = content.next().await {
        let b = b.unwrap();
        tally.update(&b);
        pending_len += b.len();
        pending.push(b);
        if pending_len >= PIECE {
            let joined: Bytes = if pending.len() == 1 {
                pending.pop().unwrap()
            } else {
                pending.concat().into()
            };
            pending.clear();
            pending_len = 0;
            let tx = tx.clone();
            tokio::task::spawn_blocking(move || tx.send(Job::Chunk(seq, joined)).unwrap())
                .await
                .unwrap();
            seq += 1;
        }
    }
    let info = tally.finish();
    let (done_tx, done_rx) = tokio::sync::oneshot::channel();
    let finish_tx = tx.clone();
    tokio::task::spawn_blocking(move || {
        finish_tx
            .send(Job::Finish(info.size, info.sha256, done_tx))
            .unwrap()
    })
    .await
    .unwrap();
    done_rx.await.unwrap();
    let put = t.elapsed().as_secs_f64();
    let (rss, written) = end_marks(marks);
    // Sizes while the writer's connection is still open (closing it checkpoints and
    // removes the WAL).
    let size_of = |p: &Path| std::fs::metadata(p).map(|m| m.len()).unwrap_or(0) >> 10;
    let wal = path.with_extension("db-wal");
    let (db_kib, wal_kib) = (size_of(&path), size_of(&wal));
    drop(tx);
    let commits = writer.join().unwrap();
    let note = format!(
        "{commits} commits; after the put: db {} MiB, wal {wal_kib} KiB",
        db_kib >> 10
    );
    // Read back, one row at a time, as a streaming get would.
    let t = Instant::now();
    let reader = Connection::open(&path).unwrap();
    let mut tally = Tally::new();
    for s in 0..seq {
        let data: Vec<u8> = reader
            .prepare_cached("SELECT data FROM blob_chunk WHERE blob = ?1 AND seq = ?2")
            .unwrap()
            .query_row(params![id, s], |r| r.get(0))
            .unwrap();
        tally.update(&data);
    }
    let get = t.elapsed().as_secs_f64();
    assert_eq!(tally.finish(), info);
    drop(reader);
    std::fs::remove_file(&path).unwrap();
    let _ = std::fs::remove_file(&wal);
    let _ = std::fs::remove_file(path.with_extension("db-shm"));
    Figures {
        put_mb_s: mb_s(bytes, put),
        get_mb_s: mb_s(bytes, get),
        rss_growth_kib: rss,
        written_mib: written,
        note,
    }
}

fn bench_dd(dir: &Path, mib: usize) -> f64 {
    let out = dir.join("dd.bin");
    let t = Instant::now();
    let status = std::process::Command::new("dd")
        .arg("if=/dev/zero")
        .arg(format!("of={}", out.display()))
        .args([
            "bs=1M",
            &format!("count={mib}"),
            "conv=fsync",
            "status=none",
        ])
        .status()
        .unwrap();
    let secs = t.elapsed().as_secs_f64();
    assert!(status.success());
    std::fs::remove_file(out).unwrap();
    mb_s((mib << 20) as u64, secs)
}

fn print(name: &str, f: &Figures) {
    println!(
        "{name:<18} put {:>7.1} MB/s   get {:>7.1} MB/s   peak RSS +{:>6} KiB   written {:>7.1} MiB   {}",
        f.put_mb_s, f.get_mb_s, f.rss_growth_kib, f.written_mib, f.note
    );
}

fn main() {
    let mut mib = 1024usize;
    let mut rounds = 1usize;
    let mut dir = None;
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        match a.as_str() {
            "--mib" => mib = args.next().unwrap().parse().unwrap(),
            "--rounds" => rounds = args.next().unwrap().parse().unwrap(),
            "--dir" => dir = Some(args.next().unwrap()),
            other => panic!("unknown argument {other}"),
        }
    }
    let tmp = match dir {
        Some(d) => tempfile::tempdir_in(d).unwrap(),
        None => tempfile::tempdir().unwrap(),
    };
    // Ciphertext-like bytes: one 64 KiB piece, shared by every item of the source.
    let mut x = 0x9e37_79b9_7f4a_7c15u64;
    let piece: Bytes = (0..PIECE)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x as u8
        })
        .collect::<Vec<u8>>()
        .into();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let piece = Arc::new(piece);
    println!(
        "{mib} MiB per put, {rounds} round(s), in {}",
        tmp.path().display()
    );
    for round in 1..=rounds {
        println!("round {round}");
        println!(
            "{:<18} put {:>7.1} MB/s",
            "dd conv=fsync",
            bench_dd(tmp.path(), mib)
        );
        let f = rt.block_on(bench_files(tmp.path(), &piece, mib));
        print("FileBlobStore", &f);
        let f = rt.block_on(bench_rows(tmp.path(), &piece, mib));
        print("SQLite rows (proto)", &f);
    }
}
