//! `crash-harness`: kill -9 the demo server under a load of client writes, again and
//! again, and check after every kill that nothing acknowledged was lost.
//!
//! 1. Starts `portal-demo` on a fresh data folder, signs in `SESSIONS` clients over HTTP
//!    (invite, verification email from the outbox, code) and keeps their cookies: the
//!    sessions live in the database, so they survive every restart (a new sign-in per
//!    restart would run into the limit of verification emails per hour).
//! 2. Each round: starts the demo on the same data folder and a fresh port, waits for
//!    the invite link it prints, runs concurrent writers (comments with a unique
//!    marker, questions with a unique marker, checklist toggles, "Mark Complete" of the
//!    open standard and training tasks), and SIGKILLs the server after a random
//!    10-500 ms. A write counts as acknowledged only if its whole response arrived
//!    with a 303 (the portal answers a write only after its commit).
//! 3. After each kill, opens the database directly (rusqlite; the server is dead) and
//!    checks: `PRAGMA integrity_check` is `ok`; every acknowledged comment and question
//!    marker is there; every acknowledged completion left the task completed; nothing
//!    is half-applied (every comment and question has its activity entry, every
//!    completed task its `task_completed` entry, checklist entries at least as many as
//!    acknowledged toggles).
//!
//! Prints the counts; exits 1 on any loss, integrity error or half-applied write.
//!
//! With `--database-url URL` (a PostgreSQL server; the harness creates a database of
//! its own there) it runs a cluster instead: node B stays up the whole run, node A is
//! started and SIGKILLed each round, both on that database and one shared data folder.
//! The writers send every other request to each node; once A is dead they go on with
//! B alone for a moment, and B must answer every one of those requests (the other node
//! keeps serving). The checks after each kill read the PostgreSQL database.
//!
//! ```text
//! cargo build -p portal-demo -p portal-tests --bin crash-harness
//! $CARGO_TARGET_DIR/debug/crash-harness --kills 100 [--demo PATH] [--seed N] [--keep]
//!     [--database-url postgresql://portal@127.0.0.1:5432/postgres]
//! ```
//!
//! The demo binary is `--demo PATH`, else `PORTAL_DEMO_BIN`, else `portal-demo` next to
//! this binary. See docs/security.md ("Crashes and the disk") for the figures.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use rusqlite::{Connection, OpenFlags};

/// Signed-in clients, each with its own session (and write throttle of 20 a minute).
const SESSIONS: usize = 4;

type Res<T> = Result<T, String>;

// ----- a tiny HTTP/1.1 client: one connection per request, errors as values ----------

struct Response {
    status: u16,
    set_cookies: Vec<String>,
    body: String,
}

fn http(port: u16, method: &str, path: &str, cookie: &str, form: Option<&str>) -> Res<Response> {
    let mut s = TcpStream::connect(("127.0.0.1", port)).map_err(|e| e.to_string())?;
    s.set_read_timeout(Some(Duration::from_secs(20)))
        .map_err(|e| e.to_string())?;
    let body = form.unwrap_or("");
    let mut req = format!(
        "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\nUser-Agent: crash-harness\r\n"
    );
    if !cookie.is_empty() {
        req.push_str(&format!("Cookie: {cookie}\r\n"));
    }
    if form.is_some() {
        req.push_str(&format!(
            "Content-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\n",
            body.len()
        ));
    }
    req.push_str("\r\n");
    req.push_str(body);
    s.write_all(req.as_bytes()).map_err(|e| e.to_string())?;
    let mut raw = Vec::new();
    s.read_to_end(&mut raw).map_err(|e| e.to_string())?;
    let text = String::from_utf8_lossy(&raw).into_owned();
    let (head, rest) = text
        .split_once("\r\n\r\n")
        .ok_or("incomplete response (no end of headers)")?;
    let mut lines = head.lines();
    let status: u16 = lines
        .next()
        .and_then(|l| l.split(' ').nth(1))
        .and_then(|c| c.parse().ok())
        .ok_or("no status line")?;
    let mut set_cookies = Vec::new();
    let mut chunked = false;
    let mut length = None;
    for l in lines {
        let Some((k, v)) = l.split_once(':') else {
            continue;
        };
        let v = v.trim();
        if k.eq_ignore_ascii_case("set-cookie") {
            set_cookies.push(v.to_owned());
        } else if k.eq_ignore_ascii_case("transfer-encoding") && v.contains("chunked") {
            chunked = true;
        } else if k.eq_ignore_ascii_case("content-length") {
            length = v.parse::<usize>().ok();
        }
    }
    let body = if chunked {
        dechunk(rest)?
    } else {
        // A response cut short by the kill is not an answer.
        if let Some(n) = length
            && rest.len() < n
        {
            return Err("response body cut short".into());
        }
        rest.to_owned()
    };
    Ok(Response {
        status,
        set_cookies,
        body,
    })
}

fn dechunk(mut rest: &str) -> Res<String> {
    let mut out = String::new();
    loop {
        let (size, tail) = rest.split_once("\r\n").ok_or("bad chunk")?;
        let n = usize::from_str_radix(size.trim(), 16).map_err(|_| "bad chunk size")?;
        if n == 0 {
            return Ok(out);
        }
        let chunk = tail.get(..n).ok_or("chunk cut short")?;
        out.push_str(chunk);
        rest = tail.get(n + 2..).ok_or("chunk cut short")?;
    }
}

fn enc(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

fn form(fields: &[(&str, &str)]) -> String {
    fields
        .iter()
        .map(|(k, v)| format!("{}={}", enc(k), enc(v)))
        .collect::<Vec<_>>()
        .join("&")
}

fn csrf_in(body: &str) -> Res<String> {
    let marker = "name=\"csrf\" value=\"";
    let start = body.find(marker).ok_or("no csrf field")? + marker.len();
    Ok(body[start..].split('"').next().unwrap_or("").to_owned())
}

/// A cookie jar for one client.
#[derive(Default, Clone)]
struct Jar(BTreeMap<String, String>, String);

impl Jar {
    fn header(&self) -> String {
        self.0
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join("; ")
    }
    fn take(&mut self, r: &Response) {
        for c in &r.set_cookies {
            let first = c.split(';').next().unwrap_or("");
            if let Some((k, v)) = first.split_once('=') {
                if v.is_empty() || c.contains("Max-Age=0") {
                    self.0.remove(k);
                } else {
                    self.0.insert(k.to_owned(), v.to_owned());
                }
            }
        }
    }
    fn send(&mut self, port: u16, method: &str, path: &str, body: Option<&str>) -> Res<Response> {
        let r = http(port, method, path, &self.header(), body)?;
        self.take(&r);
        Ok(r)
    }
}

// ----- the demo process ------------------------------------------------------------

struct Demo {
    child: Child,
    port: u16,
    invite_path: String,
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .unwrap_or(0)
}

fn start_demo(bin: &Path, data: &Path, log: &Path, database: Option<&str>) -> Res<Demo> {
    let port = free_port();
    let out = std::fs::File::create(log).map_err(|e| e.to_string())?;
    let err = out.try_clone().map_err(|e| e.to_string())?;
    let mut command = Command::new(bin);
    if let Some(url) = database {
        command.args(["--database-url", url]);
    }
    let mut child = command
        .args(["--data-dir", &data.display().to_string()])
        .args(["--port", &port.to_string()])
        .env("RUST_LOG", "warn")
        .stdin(Stdio::null())
        .stdout(out)
        .stderr(err)
        .spawn()
        .map_err(|e| format!("cannot start {}: {e}", bin.display()))?;
    let started = Instant::now();
    loop {
        let text = std::fs::read_to_string(log).unwrap_or_default();
        if let Some(i) = text.find(&format!("localhost:{port}/i/")) {
            let path = text[i + format!("localhost:{port}").len()..]
                .split_whitespace()
                .next()
                .unwrap_or("")
                .to_owned();
            return Ok(Demo {
                child,
                port,
                invite_path: path,
            });
        }
        if let Ok(Some(status)) = child.try_wait() {
            return Err(format!(
                "the demo exited during startup ({status}):\n{text}"
            ));
        }
        if started.elapsed() > Duration::from_secs(60) {
            let _ = child.kill();
            let _ = child.wait();
            return Err(format!("no invite link within 60 s:\n{text}"));
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}

// ----- sign-in ---------------------------------------------------------------------

fn emails(outbox: &Path) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(outbox)
        .map(|d| {
            d.filter_map(Result::ok)
                .map(|e| e.path())
                .filter(|p| p.extension().is_some_and(|x| x == "eml"))
                .collect()
        })
        .unwrap_or_default();
    v.sort_by_key(|p| std::fs::metadata(p).and_then(|m| m.modified()).ok());
    v
}

fn sign_in(demo: &Demo, outbox: &Path) -> Res<Jar> {
    let mut jar = Jar::default();
    let page = jar.send(demo.port, "GET", &demo.invite_path, None)?;
    if page.status != 200 {
        return Err(format!("invite page answered {}", page.status));
    }
    let before: std::collections::BTreeSet<PathBuf> = emails(outbox).into_iter().collect();
    let body = form(&[("csrf", &csrf_in(&page.body)?)]);
    let sent = jar.send(demo.port, "POST", &demo.invite_path, Some(&body))?;
    if sent.status != 303 {
        return Err(format!("sending the email answered {}", sent.status));
    }
    let check = jar.send(demo.port, "GET", "/verify", None)?;
    let started = Instant::now();
    let code =
        loop {
            // Every email that arrived since the send, newest first: others (the seed's,
            // reminders) may land in the same instant, so the newest by time need not be it.
            let fresh: Vec<PathBuf> = emails(outbox)
                .into_iter()
                .filter(|p| !before.contains(p))
                .collect();
            if let Some(code) = fresh.iter().rev().find_map(|p| {
                portal_core::testkit::code_from_email(&portal_tests::eml::parse(p).text)
            }) {
                break code;
            }
            if started.elapsed() > Duration::from_secs(30) {
                return Err("no verification email within 30 s".into());
            }
            std::thread::sleep(Duration::from_millis(20));
        };
    let body = form(&[("csrf", &csrf_in(&check.body)?), ("code", &code)]);
    let done = jar.send(demo.port, "POST", "/verify/code", Some(&body))?;
    if done.status != 303 {
        return Err(format!("the code answered {}", done.status));
    }
    let page = jar.send(demo.port, "GET", "/questions", None)?;
    jar.1 = csrf_in(&page.body)?;
    Ok(jar)
}

// ----- what the writers did ----------------------------------------------------------

#[derive(Default)]
struct Acked {
    comments: Vec<String>,
    questions: Vec<String>,
    /// Task ids of acknowledged "Mark Complete"s.
    completions: Vec<String>,
    toggles: u64,
    /// Writes refused with another status (the write throttle, a completed task).
    refused: u64,
    /// Writes sent whose answer never came (in flight at the kill).
    unanswered: u64,
    /// Cluster mode: writes node B acknowledged after node A died.
    survivor_acked: u64,
    /// Cluster mode: requests to node B that got no answer or a server error.
    survivor_errors: u64,
}

#[derive(Clone)]
struct Tasks {
    all: Vec<String>,
    completable: Vec<String>,
    checklist: Option<String>,
}

/// One task id (16 bytes) in its canonical spelling.
fn uuid(bytes: &[u8]) -> String {
    let h: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    format!(
        "{}-{}-{}-{}-{}",
        &h[0..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..32]
    )
}

/// A task's `(id, kind, assignee, status)`.
type TaskRow = (Vec<u8>, String, String, String);

/// The database the harness checks: the demo's SQLite file, or the cluster's
/// PostgreSQL database. The queries are the same SQL on both but for `hex`.
enum Db {
    Sqlite(PathBuf),
    Postgres(String),
}

impl Db {
    /// `(id, kind, assignee, status)` of every task.
    fn task_rows(&self) -> Res<Vec<TaskRow>> {
        let sql = "SELECT id, kind, assignee, status FROM tasks";
        match self {
            Db::Sqlite(path) => {
                let conn = Connection::open_with_flags(path, OpenFlags::SQLITE_OPEN_READ_ONLY)
                    .map_err(|e| e.to_string())?;
                let mut stmt = conn.prepare(sql).map_err(|e| e.to_string())?;
                stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))
                    .and_then(|rows| rows.collect::<rusqlite::Result<Vec<_>>>())
                    .map_err(|e| e.to_string())
            }
            Db::Postgres(url) => Ok(pg(url)?
                .query(sql, &[])
                .map_err(|e| e.to_string())?
                .iter()
                .map(|r| (r.get(0), r.get(1), r.get(2), r.get(3)))
                .collect()),
        }
    }
}

fn pg(url: &str) -> Res<postgres::Client> {
    postgres::Client::connect(url, postgres::NoTls).map_err(|e| format!("PostgreSQL: {e}"))
}

fn read_tasks(db: &Db) -> Res<Tasks> {
    let mut tasks = Tasks {
        all: Vec::new(),
        completable: Vec::new(),
        checklist: None,
    };
    for (id, kind, assignee, status) in db.task_rows()? {
        let id = uuid(&id);
        let client = assignee.contains("client");
        if client
            && status != "completed"
            && (kind.contains("standard") || kind.contains("training"))
        {
            tasks.completable.push(id.clone());
        }
        if client && kind.contains("checklist") {
            tasks.checklist = Some(id.clone());
        }
        tasks.all.push(id);
    }
    Ok(tasks)
}

/// A small xorshift generator: the delays need no more.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
}

/// Sends one write; `Some(status)` when an answer arrived, `None` when the server died.
fn write(jar: &Mutex<Jar>, port: u16, path: &str, fields: &[(&str, &str)]) -> Option<u16> {
    let cookie = jar.lock().map(|j| j.header()).unwrap_or_default();
    http(port, "POST", path, &cookie, Some(&form(fields)))
        .ok()
        .map(|r| r.status)
}

/// How long the writers go on with the surviving node once the other died.
const SURVIVOR_WINDOW: Duration = Duration::from_millis(300);

/// One round of writers against `port` until the server dies; returns what they did.
/// With `survivor` (cluster mode), every other request goes to that node, and once
/// `port`'s server is dead the writers go on with the survivor alone for
/// [`SURVIVOR_WINDOW`].
fn run_writers(
    port: u16,
    survivor: Option<u16>,
    round: usize,
    jars: &[Arc<Mutex<Jar>>],
    tasks: &Tasks,
) -> Acked {
    let acked = Arc::new(Mutex::new(Acked::default()));
    let dead = Arc::new(AtomicBool::new(false));
    let mut threads = Vec::new();
    for (w, jar) in jars.iter().enumerate() {
        let (jar, acked, dead, tasks) = (jar.clone(), acked.clone(), dead.clone(), tasks.clone());
        threads.push(std::thread::spawn(move || {
            // The CSRF token of this session, read once after sign-in: it stays valid
            // across restarts with the cookie (reading it per round would render the
            // ever longer questions page inside the round's few hundred milliseconds).
            let csrf = jar.lock().map(|j| j.1.clone()).unwrap_or_default();
            let mut rng = Rng(0x9E37_79B9_7F4A_7C15 ^ ((round as u64) << 8) ^ w as u64 | 1);
            let mut n = 0u64;
            let mut checked = false;
            let mut died_at: Option<Instant> = None;
            loop {
                if dead.load(Ordering::Relaxed) {
                    let Some(_) = survivor else { break };
                    let since = *died_at.get_or_insert_with(Instant::now);
                    if since.elapsed() > SURVIVOR_WINDOW {
                        break;
                    }
                }
                n += 1;
                // Cluster mode: alternate per request; only the survivor once A is dead.
                let (port, to_survivor) = match survivor {
                    Some(b) if n.is_multiple_of(2) || dead.load(Ordering::Relaxed) => (b, true),
                    _ => (port, false),
                };
                let marker = format!("crash-r{round}-w{w}-n{n}");
                let pick = rng.below(10);
                let (status, what, key) = if pick < 5 && !tasks.all.is_empty() {
                    let task = &tasks.all[rng.below(tasks.all.len() as u64) as usize];
                    let path = format!("/tasks/{task}/comments");
                    let s = write(&jar, port, &path, &[("csrf", &csrf), ("comment", &marker)]);
                    (s, 0, marker)
                } else if pick < 8 {
                    let s = write(
                        &jar,
                        port,
                        "/questions",
                        &[("csrf", &csrf), ("question", &marker)],
                    );
                    (s, 1, marker)
                } else if pick < 9
                    && let Some(task) = &tasks.checklist
                {
                    // Only this writer's item, never all three: a full checklist
                    // completes the task and ends the toggles.
                    let item = ["list", "hours"][w % 2];
                    checked = !checked;
                    let path = format!("/tasks/{task}/checklist");
                    let on = if checked { "1" } else { "0" };
                    let s = write(
                        &jar,
                        port,
                        &path,
                        &[("csrf", &csrf), ("item", item), ("checked", on)],
                    );
                    (s, 2, String::new())
                } else if !tasks.completable.is_empty() {
                    let task =
                        &tasks.completable[rng.below(tasks.completable.len() as u64) as usize];
                    let path = format!("/tasks/{task}/complete");
                    let s = write(&jar, port, &path, &[("csrf", &csrf), ("notes", &marker)]);
                    (s, 3, task.clone())
                } else {
                    continue;
                };
                let mut a = acked.lock().unwrap();
                if to_survivor {
                    match status {
                        None | Some(500..) => a.survivor_errors += 1,
                        Some(303) if dead.load(Ordering::Relaxed) => a.survivor_acked += 1,
                        _ => {}
                    }
                }
                match (status, what) {
                    (None, _) => {
                        a.unanswered += 1;
                        if !to_survivor {
                            dead.store(true, Ordering::Relaxed);
                        }
                    }
                    (Some(303), 0) => a.comments.push(key),
                    (Some(303), 1) => a.questions.push(key),
                    (Some(303), 2) => a.toggles += 1,
                    (Some(303), _) => a.completions.push(key),
                    (Some(_), _) => {
                        a.refused += 1;
                        drop(a);
                        // Most likely the write throttle: slow down a little.
                        std::thread::sleep(Duration::from_millis(20));
                    }
                }
            }
        }));
    }
    for t in threads {
        let _ = t.join();
    }
    drop(dead);
    Arc::try_unwrap(acked)
        .ok()
        .and_then(|m| m.into_inner().ok())
        .unwrap_or_default()
}

// ----- checks after a kill -----------------------------------------------------------

#[derive(Default)]
struct Tally {
    kills: usize,
    comments: usize,
    questions: usize,
    completions: usize,
    toggles: u64,
    refused: u64,
    unanswered: u64,
    lost: usize,
    integrity_errors: usize,
    half_applied: usize,
    survivor_acked: u64,
    survivor_errors: u64,
}

/// An open connection to the checked database.
enum Conn {
    Sqlite(Connection),
    Postgres(Box<std::cell::RefCell<postgres::Client>>),
}

impl Conn {
    fn count(&self, sql: &str) -> Res<i64> {
        match self {
            Conn::Sqlite(conn) => conn
                .query_row(sql, [], |r| r.get(0))
                .map_err(|e| format!("{sql}: {e}")),
            Conn::Postgres(client) => client
                .borrow_mut()
                .query_one(sql, &[])
                .map(|r| r.get(0))
                .map_err(|e| format!("{sql}: {e}")),
        }
    }

    fn texts(&self, sql: &str) -> Res<std::collections::HashSet<String>> {
        match self {
            Conn::Sqlite(conn) => conn
                .prepare(sql)
                .and_then(|mut s| {
                    s.query_map([], |r| r.get::<_, String>(0))?
                        .collect::<rusqlite::Result<_>>()
                })
                .map_err(|e| format!("{sql}: {e}")),
            Conn::Postgres(client) => Ok(client
                .borrow_mut()
                .query(sql, &[])
                .map_err(|e| format!("{sql}: {e}"))?
                .iter()
                .map(|r| r.get(0))
                .collect()),
        }
    }
}

/// Checks the database after a kill; adds what is wrong to `tally`, returns the notes.
fn verify(db: &Db, all: &Acked, tally: &mut Tally) -> Res<Vec<String>> {
    let mut notes = Vec::new();
    let (conn, hex_id) = match db {
        Db::Sqlite(path) => {
            // Read-write without create: opening runs the WAL recovery the next server
            // start would run; `query_only` keeps the harness from changing anything.
            let conn = Connection::open_with_flags(path, OpenFlags::SQLITE_OPEN_READ_WRITE)
                .map_err(|e| format!("cannot open {}: {e}", path.display()))?;
            conn.pragma_update(None, "query_only", true)
                .map_err(|e| e.to_string())?;
            let integrity: Vec<String> = conn
                .prepare("PRAGMA integrity_check")
                .and_then(|mut s| {
                    s.query_map([], |r| r.get::<_, String>(0))?
                        .collect::<rusqlite::Result<Vec<_>>>()
                })
                .map_err(|e| e.to_string())?;
            if integrity != ["ok"] {
                tally.integrity_errors += 1;
                notes.push(format!("integrity_check: {integrity:?}"));
            }
            (Conn::Sqlite(conn), "lower(hex(id))")
        }
        // The server survives a node's death: there is no file to check, only rows.
        Db::Postgres(url) => (
            Conn::Postgres(Box::new(std::cell::RefCell::new(pg(url)?))),
            "encode(id, 'hex')",
        ),
    };
    let texts = |sql: &str| conn.texts(sql);
    let count = |_: &(), sql: &str| conn.count(sql);
    let bodies = texts("SELECT body FROM comments")?;
    for m in all.comments.iter().filter(|m| !bodies.contains(*m)) {
        tally.lost += 1;
        notes.push(format!("lost comment {m}"));
    }
    let asked_texts = texts("SELECT text FROM questions")?;
    for m in all.questions.iter().filter(|m| !asked_texts.contains(*m)) {
        tally.lost += 1;
        notes.push(format!("lost question {m}"));
    }
    let completed = texts(&format!(
        "SELECT {hex_id} FROM tasks WHERE status = 'completed'"
    ))?;
    for m in &all.completions {
        if !completed.contains(&m.replace('-', "")) {
            tally.lost += 1;
            notes.push(format!("lost completion {m}"));
        }
    }
    // Half-applied: a record without its activity entry, or the other way round.
    let comments = count(&(), "SELECT count(*) FROM comments")?;
    let commented = count(
        &(),
        "SELECT count(*) FROM activity WHERE kind = 'commented'",
    )?;
    if comments != commented {
        tally.half_applied += 1;
        notes.push(format!(
            "{comments} comments but {commented} comment entries"
        ));
    }
    let questions = count(&(), "SELECT count(*) FROM questions")?;
    let asked = count(
        &(),
        "SELECT count(*) FROM activity WHERE kind = 'question_asked'",
    )?;
    if questions != asked {
        tally.half_applied += 1;
        notes.push(format!(
            "{questions} questions but {asked} question entries"
        ));
    }
    let orphans = count(
        &(),
        "SELECT count(*) FROM tasks t WHERE t.status = 'completed' AND NOT EXISTS
           (SELECT 1 FROM activity a WHERE a.task_id = t.id AND a.kind = 'task_completed')",
    )?;
    if orphans != 0 {
        tally.half_applied += 1;
        notes.push(format!(
            "{orphans} completed tasks without a task_completed entry"
        ));
    }
    let toggled = count(
        &(),
        "SELECT count(*) FROM activity WHERE kind IN ('item_checked', 'item_unchecked')",
    )?;
    if toggled < all.toggles as i64 {
        tally.lost += (all.toggles as i64 - toggled) as usize;
        notes.push(format!(
            "{} acknowledged checklist toggles but {toggled} entries",
            all.toggles
        ));
    }
    Ok(notes)
}

// ----- main --------------------------------------------------------------------------

struct Args {
    kills: usize,
    demo: PathBuf,
    seed: u64,
    keep: bool,
    /// Cluster mode: a PostgreSQL server (the harness makes its own database there).
    database_url: Option<String>,
}

fn args() -> Res<Args> {
    let mut a = Args {
        kills: 100,
        demo: std::env::var_os("PORTAL_DEMO_BIN")
            .map(PathBuf::from)
            .or_else(|| {
                std::env::current_exe()
                    .ok()
                    .and_then(|p| p.parent().map(|d| d.join("portal-demo")))
            })
            .unwrap_or_else(|| PathBuf::from("portal-demo")),
        seed: std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos() as u64)
            .unwrap_or(1)
            | 1,
        keep: false,
        database_url: None,
    };
    let mut it = std::env::args().skip(1);
    while let Some(arg) = it.next() {
        match arg.as_str() {
            "--kills" => {
                a.kills = it
                    .next()
                    .and_then(|v| v.parse().ok())
                    .ok_or("--kills needs a number")?
            }
            "--demo" => a.demo = it.next().ok_or("--demo needs a path")?.into(),
            "--seed" => {
                a.seed = it
                    .next()
                    .and_then(|v| v.parse().ok())
                    .ok_or("--seed needs a number")?
            }
            "--keep" => a.keep = true,
            "--database-url" => {
                a.database_url = Some(it.next().ok_or("--database-url needs a URL")?);
            }
            other => return Err(format!("unknown argument {other:?}")),
        }
    }
    if !a.demo.is_file() {
        return Err(format!(
            "no demo binary at {} (cargo build -p portal-demo, or --demo PATH)",
            a.demo.display()
        ));
    }
    Ok(a)
}

/// Creates a fresh database on the PostgreSQL server at `server` and returns its URL.
fn new_database(server: &str, seed: u64) -> Res<String> {
    portal_tests::postgres::new_database(server, &format!("portal_crash_{seed:016x}"))
}

fn main() {
    match run() {
        Ok(true) => {}
        Ok(false) => std::process::exit(1),
        Err(e) => {
            eprintln!("crash-harness: {e}");
            std::process::exit(2);
        }
    }
}

fn run() -> Res<bool> {
    let args = args()?;
    let tmp = tempfile::tempdir().map_err(|e| e.to_string())?;
    let data = tmp.path().join("data");
    let outbox = data.join("outbox");
    let log = tmp.path().join("demo.log");
    let started = Instant::now();
    let url = match &args.database_url {
        Some(server) => Some(new_database(server, args.seed)?),
        None => None,
    };
    let db = match &url {
        Some(url) => Db::Postgres(url.clone()),
        None => Db::Sqlite(data.join("portal.db")),
    };
    println!(
        "crash-harness: {} kills, demo {}, seed {}{}",
        args.kills,
        args.demo.display(),
        args.seed,
        if url.is_some() {
            ", cluster of two nodes on PostgreSQL"
        } else {
            ""
        }
    );

    // Sign-in once; the sessions outlive every restart.
    let mut first = start_demo(&args.demo, &data, &log, url.as_deref())?;
    let mut jars = Vec::new();
    for _ in 0..SESSIONS {
        jars.push(Arc::new(Mutex::new(sign_in(&first, &outbox)?)));
    }
    let tasks = read_tasks(&db)?;
    println!(
        "signed in {SESSIONS} sessions; {} tasks, {} completable, checklist: {}",
        tasks.all.len(),
        tasks.completable.len(),
        tasks.checklist.is_some()
    );
    // Cluster mode: the first node stays up as node B, the survivor of every round.
    let survivor = match url {
        Some(_) => Some(first),
        None => {
            let _ = first.child.kill();
            let _ = first.child.wait();
            None
        }
    };
    let survivor_port = survivor.as_ref().map(|d| d.port);

    let mut rng = Rng(args.seed);
    let mut all = Acked::default();
    let mut tally = Tally::default();
    let mut startup = Duration::ZERO;
    let mut ok = true;
    for round in 0..args.kills {
        let t = Instant::now();
        let node_log = tmp.path().join("node-a.log");
        let mut demo = match &url {
            Some(url) => start_demo(&args.demo, &data, &node_log, Some(url))?,
            None => start_demo(&args.demo, &data, &log, None)?,
        };
        startup += t.elapsed();
        let delay = Duration::from_millis(10 + rng.below(491));
        let port = demo.port;
        let writers = {
            let (jars, tasks) = (jars.clone(), tasks.clone());
            std::thread::spawn(move || run_writers(port, survivor_port, round, &jars, &tasks))
        };
        std::thread::sleep(delay);
        // Child::kill is SIGKILL on Unix: no shutdown code runs.
        demo.child.kill().map_err(|e| e.to_string())?;
        let _ = demo.child.wait();
        let done = writers.join().map_err(|_| "a writer thread panicked")?;
        tally.kills += 1;
        tally.comments += done.comments.len();
        tally.questions += done.questions.len();
        tally.completions += done.completions.len();
        tally.toggles += done.toggles;
        tally.refused += done.refused;
        tally.unanswered += done.unanswered;
        tally.survivor_acked += done.survivor_acked;
        tally.survivor_errors += done.survivor_errors;
        all.comments.extend(done.comments);
        all.questions.extend(done.questions);
        all.completions.extend(done.completions);
        all.toggles += done.toggles;
        let notes = verify(&db, &all, &mut tally)?;
        if !notes.is_empty() {
            ok = false;
            println!("round {round} (killed after {delay:?}):");
            for n in notes.iter().take(10) {
                println!("  {n}");
            }
        }
        if (round + 1) % 10 == 0 {
            println!(
                "  {} kills, {} acknowledged writes so far",
                round + 1,
                all.comments.len()
                    + all.questions.len()
                    + all.completions.len()
                    + all.toggles as usize
            );
        }
    }
    let acknowledged =
        tally.comments + tally.questions + tally.completions + tally.toggles as usize;
    println!(
        "kills: {}, acknowledged writes: {acknowledged} (comments {}, questions {}, completions {}, checklist toggles {}), refused: {}, unanswered at the kill: {}",
        tally.kills,
        tally.comments,
        tally.questions,
        tally.completions,
        tally.toggles,
        tally.refused,
        tally.unanswered
    );
    println!(
        "lost: {}, integrity errors: {}, half-applied: {}",
        tally.lost, tally.integrity_errors, tally.half_applied
    );
    if let Some(mut b) = survivor {
        println!(
            "node B (never killed): {} writes acknowledged after node A died, {} requests unanswered or failed",
            tally.survivor_acked, tally.survivor_errors
        );
        let _ = b.child.kill();
        let _ = b.child.wait();
    }
    println!(
        "time: {:.1} s in all, restart to invite link {:.0} ms on average",
        started.elapsed().as_secs_f64(),
        startup.as_secs_f64() * 1000.0 / tally.kills.max(1) as f64
    );
    if args.keep {
        println!("kept {}", tmp.keep().display());
    }
    let cluster_ok =
        args.database_url.is_none() || (tally.survivor_errors == 0 && tally.survivor_acked > 0);
    let clean = ok
        && cluster_ok
        && tally.lost == 0
        && tally.integrity_errors == 0
        && tally.half_applied == 0;
    println!("{}", if clean { "PASS" } else { "FAIL" });
    Ok(clean)
}
