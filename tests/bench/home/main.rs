//! `bench-home`: a load run (not a timed test) of the authenticated portal home on the
//! SQLite store, against a bare hyper handler returning the same bytes, on loopback.
//!
//! 1. Creates a temporary SQLite database and seeds the benchmarked portal through the
//!    public API (several phases, 60 tasks), then `--tasks N` background tasks spread
//!    over other portals (100 per portal), written straight into the same schema in one
//!    transaction (or through the public API with `--seed-via api`).
//! 2. Signs a contact in through the real HTTP flow (invite, verification, code,
//!    session cookie) and fetches the home page once for its exact bytes.
//! 3. Serves those bytes from a bare hyper handler on another loopback port.
//! 4. Runs the same keep-alive load against each (C connections, warm-up, fixed
//!    duration), checking every response is a 200 of the expected length, and prints
//!    requests, req/s, p50/p99 latency and the ratio portal/bare.
//!
//! ```text
//! CARGO_TARGET_DIR=/work/target cargo run --release -p portal-tests --bin bench-home -- \
//!     --tasks 1000000 --duration 10 --connections 32
//! ```
//!
//! See `docs/PERFORMANCE.md` for the figures and where the time goes.

// A benchmark tool in the tests crate: like `src/lib.rs`, it may unwrap and panic, since
// any failure should stop the run loudly.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

mod load;
mod seed;

use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use http::header::{CONNECTION, CONTENT_LENGTH, DATE, TRANSFER_ENCODING};
use portal_core::OsRandom;
use portal_core::PortalService;
use portal_core::RecordingMailer;
use portal_core::secret::ServerSecret;
use portal_core::testkit::code_from_email;
use portal_http::{HttpConfig, PortalApp};
use portal_storage_sqlite::SqliteStore;
use portal_tests::{Browser, sign_in_over_http};
use tokio::net::TcpListener;

use load::{fmt_micros, load, process_cpu, serve_bare};
use seed::{
    BENCH_PHASES, BENCH_TASKS_PER_PHASE, file_mib, seed_bench_portal, seed_bulk_api, seed_bulk_sql,
    table_counts,
};

/// The user agent the load generator sends (it lands in the access log).
const USER_AGENT: &str = "bench-home/1.0";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum SeedVia {
    Sql,
    Api,
}

#[derive(Debug, Clone)]
struct Args {
    tasks: usize,
    duration: Duration,
    warmup: Duration,
    connections: usize,
    seed_via: SeedVia,
    keep_db: bool,
}

fn usage() -> ! {
    eprintln!(
        "usage: bench-home [--tasks N] [--duration SECS] [--warmup SECS] [--connections C] \
         [--seed-via sql|api] [--keep-db]\n\
         defaults: --tasks 1000000 --duration 10 --warmup 2 --connections 32 --seed-via sql"
    );
    std::process::exit(2)
}

fn parse_args() -> Args {
    let mut args = Args {
        tasks: 1_000_000,
        duration: Duration::from_secs(10),
        warmup: Duration::from_secs(2),
        connections: 32,
        seed_via: SeedVia::Sql,
        keep_db: false,
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let mut value = || it.next().unwrap_or_else(|| usage());
        let secs =
            |v: String| Duration::from_secs_f64(v.parse::<f64>().unwrap_or_else(|_| usage()));
        match flag.as_str() {
            "--tasks" => args.tasks = value().replace('_', "").parse().unwrap_or_else(|_| usage()),
            "--duration" => args.duration = secs(value()),
            "--warmup" => args.warmup = secs(value()),
            "--connections" => {
                args.connections = value().parse().unwrap_or_else(|_| usage());
            }
            "--seed-via" => {
                args.seed_via = match value().as_str() {
                    "sql" => SeedVia::Sql,
                    "api" => SeedVia::Api,
                    _ => usage(),
                }
            }
            "--keep-db" => args.keep_db = true,
            "-h" | "--help" => usage(),
            _ => usage(),
        }
    }
    if args.connections == 0 || args.duration.is_zero() {
        usage();
    }
    args
}

#[tokio::main]
async fn main() {
    let args = parse_args();
    let dir = tempfile::tempdir().unwrap();
    let db_path = dir.path().join("portal.db");
    println!(
        "bench-home: {} cores, seed {} background tasks via {:?}, {} connections, {:?} warm-up + {:?} per target",
        std::thread::available_parallelism().map_or(0, usize::from),
        args.tasks,
        args.seed_via,
        args.connections,
        args.warmup,
        args.duration
    );

    // ----- the portal service on a fresh SQLite file ------------------------------------
    let store = Arc::new(SqliteStore::open(&db_path).await.unwrap());
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let portal_addr = listener.local_addr().unwrap();
    let config = HttpConfig {
        public_base_url: format!("http://{portal_addr}"),
        // Plain http on loopback: no `__Host-` prefix, the cookie names are the short ones.
        secure_cookies: false,
        ..HttpConfig::default()
    };
    let mailer = Arc::new(RecordingMailer::new());
    let service = PortalService::builder(
        store.clone(),
        mailer.clone(),
        Arc::new(config.links()),
        ServerSecret::generate(&OsRandom),
    )
    .build();

    // ----- seed -------------------------------------------------------------------------
    let started = Instant::now();
    let (portal, contact, api_writes) = seed_bench_portal(&service).await;
    let api_elapsed = started.elapsed();
    println!(
        "seeded the benchmarked portal ({} phases, {} tasks) through the API in {:.2?} \
         ({:.0} µs per sequential write)",
        BENCH_PHASES,
        BENCH_PHASES * BENCH_TASKS_PER_PHASE,
        api_elapsed,
        api_elapsed.as_secs_f64() * 1e6 / api_writes as f64
    );
    if args.tasks > 0 {
        let started = Instant::now();
        let portals = match args.seed_via {
            SeedVia::Sql => {
                let path = db_path.clone();
                let (tasks, bench) = (args.tasks, portal.id);
                tokio::task::spawn_blocking(move || seed_bulk_sql(&path, bench, tasks))
                    .await
                    .unwrap()
            }
            SeedVia::Api => seed_bulk_api(&service, args.tasks).await,
        };
        let elapsed = started.elapsed();
        println!(
            "seeded {} background tasks in {} portals via {:?} in {:.1?} ({:.0} tasks/s)",
            args.tasks,
            portals,
            args.seed_via,
            elapsed,
            args.tasks as f64 / elapsed.as_secs_f64()
        );
    }
    let counts = table_counts(&db_path);
    println!("database: {counts}, {} MiB", file_mib(&db_path));

    // ----- the portal server and a signed-in client -------------------------------------
    let app = Arc::new(PortalApp::new(service.clone(), config.clone()));
    let (stop_portal, stopped) = tokio::sync::oneshot::channel::<()>();
    let portal_server = tokio::spawn(portal_http::serve(listener, app, async move {
        let _ = stopped.await;
    }));
    let mut browser = Browser::new(portal_addr);
    browser.user_agent = USER_AGENT.to_owned();
    let staff = portal_core::testkit::admin(
        service
            .store()
            .portal(contact.portal_id)
            .await
            .unwrap()
            .tenant_id,
    );
    let invite = service.invite_contact(&staff, contact.id).await.unwrap();
    sign_in_over_http(&browser, &format!("/i/{}", invite.expose_secret()), || {
        let email = mailer
            .last_to(contact.email.as_str())
            .expect("a verification email");
        code_from_email(&email.text).expect("a code in the verification email")
    })
    .await;
    let home = browser.get("/").await;
    assert_eq!(home.status, 200, "home after sign-in: {}", home.body);
    assert!(
        home.body.contains(&portal.client_name),
        "the home page is not the benchmarked portal's"
    );
    let cookie = ["portal_session", "portal_csrf"]
        .iter()
        .map(|name| {
            let value = browser
                .cookie(name)
                .unwrap_or_else(|| panic!("no {name} cookie after sign-in"));
            format!("{name}={value}")
        })
        .collect::<Vec<_>>()
        .join("; ");
    let body = Bytes::from(home.body.clone());
    println!(
        "home page: {} bytes, {} response headers",
        body.len(),
        home.headers.len()
    );

    // ----- the bare handler with the same bytes -----------------------------------------
    let bare_listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let bare_addr = bare_listener.local_addr().unwrap();
    let mut headers = home.headers.clone();
    for name in [DATE, CONTENT_LENGTH, CONNECTION, TRANSFER_ENCODING] {
        headers.remove(name);
    }
    let (stop_bare, bare_stopped) = tokio::sync::oneshot::channel::<()>();
    let bare_server = tokio::spawn(serve_bare(
        bare_listener,
        headers,
        body.clone(),
        bare_stopped,
    ));

    // ----- load ------------------------------------------------------------------------
    let targets = [("portal (SQLite)", portal_addr), ("bare hyper", bare_addr)];
    let mut results = Vec::new();
    for (name, addr) in targets {
        let cpu_before = process_cpu();
        let mut stats = load(addr, &cookie, body.len(), &args).await;
        stats.cpu = process_cpu()
            .zip(cpu_before)
            .map(|(after, before)| after - before);
        println!(
            "  {name}: {} ok, {} errors, {:.0} req/s",
            stats.ok,
            stats.errors,
            stats.rate(args.duration)
        );
        results.push((name, stats));
    }

    // ----- report ----------------------------------------------------------------------
    println!();
    println!(
        "{:<16} {:>10} {:>8} {:>10} {:>10} {:>10} {:>12}",
        "target", "requests", "errors", "req/s", "p50", "p99", "CPU µs/req"
    );
    for (name, s) in &results {
        println!(
            "{:<16} {:>10} {:>8} {:>10.0} {:>10} {:>10} {:>12}",
            name,
            s.ok,
            s.errors,
            s.rate(args.duration),
            fmt_micros(s.percentile(0.50)),
            fmt_micros(s.percentile(0.99)),
            s.cpu_per_request()
                .map_or_else(|| "n/a".to_owned(), |us| format!("{us:.0}")),
        );
    }
    println!(
        "(CPU µs/req: user+system CPU time of this whole process, server and load generator, \
         over warm-up and run, divided by all requests answered: less sensitive than req/s \
         to other load on the machine)"
    );
    let portal_rate = results[0].1.rate(args.duration);
    let bare_rate = results[1].1.rate(args.duration);
    println!(
        "ratio portal/bare: {:.3} ({:.1}x slower)",
        portal_rate / bare_rate,
        bare_rate / portal_rate
    );
    if let (Some(p), Some(b)) = (
        results[0].1.cpu_per_request(),
        results[1].1.cpu_per_request(),
    ) {
        println!(
            "CPU per request ratio bare/portal: {:.3} ({:.0} vs {:.0} µs)",
            b / p,
            p,
            b
        );
    }
    let _ = stop_portal.send(());
    let _ = stop_bare.send(());
    let _ = portal_server.await;
    let _ = bare_server.await;
    drop(service);
    drop(store);
    println!("after the run: {}", table_counts(&db_path));
    if args.keep_db {
        let kept = dir.keep();
        println!("kept the database in {}", kept.display());
    }
}
