//! `bench-home`: a load run (not a timed test) of the authenticated portal home on the
//! SQLite store and, with `--database-url`, on the PostgreSQL store in the same run,
//! against a bare hyper handler returning the same bytes, on loopback.
//!
//! 1. Creates a temporary SQLite database and seeds the benchmarked portal through the
//!    public API (several phases, 60 tasks), then `--tasks N` background tasks spread
//!    over other portals (100 per portal), written straight into the same schema in one
//!    transaction (or through the public API with `--seed-via api`).
//! 2. With `--database-url URL` (a PostgreSQL server whose role may create databases):
//!    creates a fresh database there, opens a `PostgresStore` on it with its own
//!    `PortalService`, seeds its benchmarked portal through the API the same way, and
//!    copies the SQLite file's background rows into it with `COPY ... FROM STDIN`
//!    (`pg.rs`; with `--seed-via api`, seeds them through its API instead), printing
//!    how long that took and `pg_database_size`. The database is dropped at the end
//!    unless `--keep-db`.
//! 3. For each portal target: serves its `PortalApp` on its own loopback port, signs a
//!    contact in through the real HTTP flow (invite, verification, code, session
//!    cookie) and fetches the home page once for its exact bytes (they differ per
//!    store: ids and names).
//! 4. Serves the SQLite portal's bytes from a bare hyper handler on another loopback
//!    port.
//! 5. Runs the same keep-alive load against each target in turn (C connections,
//!    warm-up, fixed duration), checking every response is a 200 of the length of that
//!    target's own page, and prints requests, req/s, p50/p99 latency, CPU per request
//!    and each portal's ratio to the bare handler. With `--rounds N` the duration is cut
//!    into N turns and the targets take turns, each warmed up again, so a machine whose
//!    speed drifts during the run (a shared host) weighs on every target alike.
//! 6. With `--scale` (issue 11's scale run): a second SQLite database holding only the
//!    benchmarked portal is measured in the same run, the big one also gets access-log
//!    rows (5 per task unless `--access-log N`) and a live session for every background
//!    contact, and the run prints the big database's rate over the one-portal rate.
//!    Then a load spread over every portal (each request the next portal's session)
//!    runs for `--spread SECS`, printing the process's RSS before, after and at its
//!    peak beside the read cache's budget (`--cache-mib`).
//!
//! ```text
//! CARGO_TARGET_DIR=/work/target cargo run --release -p portal-tests --bin bench-home -- \
//!     --tasks 1000000 --duration 10 --connections 32 \
//!     --database-url postgresql://portal@127.0.0.1:55432/postgres
//! cargo run --release -p portal-tests --bin bench-home -- --scale --tasks 10000000 --connections 64
//! ```
//!
//! See `docs/PERFORMANCE.md` for the figures and where the time goes.

// A benchmark tool in the tests crate: like `src/lib.rs`, it may unwrap and panic, since
// any failure should stop the run loudly.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

mod load;
mod pg;
mod seed;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use http::HeaderMap;
use http::header::{CONNECTION, CONTENT_LENGTH, DATE, TRANSFER_ENCODING};
use portal_core::OsRandom;
use portal_core::PortalService;
use portal_core::RecordingMailer;
use portal_core::Store;
use portal_core::model::Contact;
use portal_core::secret::ServerSecret;
use portal_core::testkit::code_from_email;
use portal_http::{HttpConfig, PortalApp};
use portal_storage_postgres::PostgresStore;
use portal_storage_sqlite::SqliteStore;
use portal_tests::{Browser, sign_in_over_http};
use tokio::net::TcpListener;

use load::{Stats, fmt_micros, load, load_with, process_cpu, serve_bare};
use portal_core::secret::SessionToken;
use portal_storage_sqlite::SqliteOptions;
use portal_tests::{reset_peak_rss, status_kib};
use seed::{
    BENCH_PHASES, BENCH_TASKS_PER_PHASE, Extras, file_mib, seed_bench_portal, seed_bulk_api,
    seed_bulk_sql, table_counts,
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
    /// A PostgreSQL server to run the third target on (a fresh database there).
    database_url: Option<String>,
    /// The scale run: a database holding only the benchmarked portal measured beside the
    /// big one, access-log rows in the big one, then a load spread over every portal.
    scale: bool,
    /// Access-log rows seeded into the big database (default: 5 per task with
    /// `--scale`, else none).
    access_log: Option<usize>,
    /// How long the spread load of `--scale` runs.
    spread: Duration,
    /// The SQLite stores' read-cache budget (`SqliteOptions::cache_bytes`), in MiB.
    cache_mib: Option<u64>,
    /// How many turns the targets take: each target is loaded for `duration / rounds`
    /// (after its warm-up) per turn, the targets one after the other, so a machine whose
    /// speed drifts during the run (a shared host) weighs on every target alike.
    rounds: u32,
}

fn usage() -> ! {
    eprintln!(
        "usage: bench-home [--tasks N] [--duration SECS] [--warmup SECS] [--connections C] \
         [--seed-via sql|api] [--keep-db] [--database-url SERVER_URL]\n\
         \x20      [--scale] [--access-log N] [--spread SECS] [--cache-mib MIB] [--rounds N]\n\
         defaults: --tasks 1000000 --duration 10 --warmup 2 --connections 32 --seed-via sql \
         --spread 60 --rounds 1 (--access-log: 5 per task with --scale; --cache-mib: the store's default)\n\
         the issue's scale run: --scale --tasks 10000000 (100 000 portals, 50 000 000 access-log rows)"
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
        database_url: None,
        scale: false,
        access_log: None,
        spread: Duration::from_secs(60),
        cache_mib: None,
        rounds: 1,
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
            "--database-url" => args.database_url = Some(value()),
            "--scale" => args.scale = true,
            "--access-log" => {
                args.access_log =
                    Some(value().replace('_', "").parse().unwrap_or_else(|_| usage()));
            }
            "--spread" => args.spread = secs(value()),
            "--cache-mib" => args.cache_mib = Some(value().parse().unwrap_or_else(|_| usage())),
            "--rounds" => args.rounds = value().parse().unwrap_or_else(|_| usage()),
            "-h" | "--help" => usage(),
            _ => usage(),
        }
    }
    if args.connections == 0 || args.duration.is_zero() || args.rounds == 0 {
        usage();
    }
    // The scale run is SQLite's (its rows are written straight into SQLite's schema).
    if args.scale && (args.database_url.is_some() || args.seed_via == SeedVia::Api) {
        usage();
    }
    args
}

/// A portal service on one store, before its server starts.
struct Target {
    name: &'static str,
    service: PortalService,
    mailer: Arc<RecordingMailer>,
    listener: TcpListener,
    addr: SocketAddr,
    config: HttpConfig,
}

impl Target {
    /// A `PortalService` on `store`, with its own mailer, links and secret, and the
    /// loopback listener its `PortalApp` will serve on.
    async fn new(name: &'static str, store: Arc<dyn Store>) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let config = HttpConfig {
            public_base_url: format!("http://{addr}"),
            // Plain http on loopback: no `__Host-` prefix, the cookie names are the short ones.
            secure_cookies: false,
            ..HttpConfig::default()
        };
        let mailer = Arc::new(RecordingMailer::new());
        let service = PortalService::builder(
            store,
            mailer.clone(),
            Arc::new(config.links()),
            ServerSecret::generate(&OsRandom),
        )
        .build();
        Self {
            name,
            service,
            mailer,
            listener,
            addr,
            config,
        }
    }

    /// Seeds the benchmarked portal through the API and prints how long it took.
    async fn seed(&self) -> (portal_core::model::Portal, Contact) {
        let started = Instant::now();
        let (portal, contact, api_writes) = seed_bench_portal(&self.service).await;
        let api_elapsed = started.elapsed();
        println!(
            "{}: seeded the benchmarked portal ({} phases, {} tasks) through the API in {:.2?} \
             ({:.0} µs per sequential write)",
            self.name,
            BENCH_PHASES,
            BENCH_PHASES * BENCH_TASKS_PER_PHASE,
            api_elapsed,
            api_elapsed.as_secs_f64() * 1e6 / api_writes as f64
        );
        (portal, contact)
    }

    /// Starts the server, signs `contact` in over HTTP and fetches the home page once.
    async fn serve(self, portal: &portal_core::model::Portal, contact: &Contact) -> Served {
        let Target {
            name,
            service,
            mailer,
            listener,
            addr,
            config,
        } = self;
        let app = Arc::new(PortalApp::new(service.clone(), config));
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let server = tokio::spawn(portal_http::serve(listener, app, async move {
            let _ = stopped.await;
        }));
        let mut browser = Browser::new(addr);
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
        assert_eq!(
            home.status, 200,
            "{name}: home after sign-in: {}",
            home.body
        );
        assert!(
            home.body.contains(&portal.client_name),
            "{name}: the home page is not the benchmarked portal's"
        );
        let cookie = ["portal_session", "portal_csrf"]
            .iter()
            .map(|cookie| {
                let value = browser
                    .cookie(cookie)
                    .unwrap_or_else(|| panic!("{name}: no {cookie} cookie after sign-in"));
                format!("{cookie}={value}")
            })
            .collect::<Vec<_>>()
            .join("; ");
        let body = Bytes::from(home.body.clone());
        println!(
            "{name}: home page {} bytes, {} response headers",
            body.len(),
            home.headers.len()
        );
        Served {
            name,
            addr,
            cookie,
            body,
            headers: home.headers,
            stop,
            server,
            service,
        }
    }
}

/// A portal target being served, with its signed-in client's cookie and home page.
struct Served {
    name: &'static str,
    addr: SocketAddr,
    cookie: String,
    body: Bytes,
    headers: HeaderMap,
    stop: tokio::sync::oneshot::Sender<()>,
    server: tokio::task::JoinHandle<std::io::Result<()>>,
    service: PortalService,
}

/// The scale run's last phase: every request a different background portal's session,
/// going round all of them in turn, with the process's memory printed before, after
/// and at its peak (the read cache's budget bounds what the portals' homes may hold).
/// Returns the spread's statistics (its errors count towards the exit status).
async fn spread(
    target: &Served,
    sessions: &[SessionToken],
    args: &Args,
    options: &SqliteOptions,
) -> load::Stats {
    let cookies: Vec<String> = sessions
        .iter()
        .map(|t| format!("portal_session={}", t.expose_secret()))
        .collect();
    let before = status_kib("VmRSS:");
    reset_peak_rss();
    // RSS every sixth of the run: a bounded cache levels off once it is full.
    let (stop_sampling, mut sampling_stopped) = tokio::sync::oneshot::channel::<()>();
    let every = args.spread / 6;
    let sampler = tokio::spawn(async move {
        let mut samples = Vec::new();
        let started = Instant::now();
        loop {
            tokio::select! {
                () = tokio::time::sleep(every) => {
                    samples.push((started.elapsed(), status_kib("VmRSS:")));
                }
                _ = &mut sampling_stopped => return samples,
            }
        }
    });
    let cpu_before = process_cpu();
    let mut stats = load_with(
        target.addr,
        Arc::new(cookies),
        None,
        Duration::ZERO,
        args.spread,
        args.connections,
    )
    .await;
    stats.cpu = process_cpu()
        .zip(cpu_before)
        .map(|(after, before)| after - before);
    let (after, peak) = (status_kib("VmRSS:"), status_kib("VmHWM:"));
    let _ = stop_sampling.send(());
    let samples = sampler.await.unwrap();
    println!();
    println!(
        "spread over {} portals for {:?}: {} homes ({} distinct portals), {} errors, {:.0} req/s, \
         p50 {}, p99 {}, CPU {} µs/req",
        sessions.len(),
        args.spread,
        stats.ok,
        (stats.all_ok as usize).min(sessions.len()),
        stats.errors(),
        stats.rate(args.spread),
        fmt_micros(stats.percentile(0.50)),
        fmt_micros(stats.percentile(0.99)),
        stats
            .cpu_per_request()
            .map_or_else(|| "n/a".to_owned(), |us| format!("{us:.0}")),
    );
    println!(
        "RSS: {} MiB before, {} MiB after, peak {} MiB (growth {} MiB; budgets: read cache {} MiB, kept homes {} MiB)",
        before >> 10,
        after >> 10,
        peak >> 10,
        peak.saturating_sub(before) >> 10,
        options.cache_bytes >> 20,
        HttpConfig::default().home_cache_bytes >> 20
    );
    println!(
        "RSS during the spread: {}",
        samples
            .iter()
            .map(|(at, kib)| format!("{:.0}s {} MiB", at.as_secs_f64(), kib >> 10))
            .collect::<Vec<_>>()
            .join(", ")
    );
    stats
}

/// Creates a fresh database on the PostgreSQL server at `server`; its URL and name.
async fn new_pg_database(server: &str) -> (String, String) {
    let name = format!(
        "portal_bench_home_{}",
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_micros()
    );
    let (server, db) = (server.to_owned(), name.clone());
    let url =
        tokio::task::spawn_blocking(move || portal_tests::postgres::new_database(&server, &db))
            .await
            .unwrap()
            .unwrap();
    (url, name)
}

#[tokio::main]
async fn main() {
    let args = parse_args();
    let dir = tempfile::tempdir().unwrap();
    let db_path = dir.path().join("portal.db");
    println!(
        "bench-home: {} cores, seed {} background tasks via {:?}, {} connections, {:?} warm-up + {:?} per target{}{}",
        std::thread::available_parallelism().map_or(0, usize::from),
        args.tasks,
        args.seed_via,
        args.connections,
        args.warmup,
        args.duration,
        if args.rounds > 1 {
            format!(
                " in {} turns of {:?} each (every turn warmed up), the targets taking turns",
                args.rounds,
                args.duration / args.rounds
            )
        } else {
            String::new()
        },
        if args.database_url.is_some() {
            ", SQLite and PostgreSQL"
        } else {
            ""
        }
    );

    // ----- the portal service on a fresh SQLite file ------------------------------------
    let options = match args.cache_mib {
        Some(mib) => SqliteOptions::default().with_cache_bytes(mib << 20),
        None => SqliteOptions::default(),
    };
    println!(
        "SQLite read cache: {} MiB (SqliteOptions::cache_bytes)",
        options.cache_bytes >> 20
    );
    let store = Arc::new(
        SqliteStore::open_with(&db_path, options.clone())
            .await
            .unwrap(),
    );
    let sqlite = Target::new("portal (SQLite)", store.clone()).await;
    // The scale run's reference: the same portal, alone in its database.
    let mut one_portal = None;
    if args.scale {
        let one_store = SqliteStore::open_with(dir.path().join("one.db"), options.clone())
            .await
            .unwrap();
        let target = Target::new("portal (1 portal)", Arc::new(one_store)).await;
        let (portal, contact) = target.seed().await;
        one_portal = Some((target, portal, contact));
    }

    // ----- seed -------------------------------------------------------------------------
    let (portal, contact) = sqlite.seed().await;
    let mut sessions = Vec::new();
    if args.tasks > 0 {
        let started = Instant::now();
        let extras = Extras {
            access_log: args
                .access_log
                .unwrap_or(if args.scale { 5 * args.tasks } else { 0 }),
            sessions: args.scale,
        };
        let portals = match args.seed_via {
            SeedVia::Sql => {
                let path = db_path.clone();
                let (tasks, bench) = (args.tasks, portal.id);
                let bulk =
                    tokio::task::spawn_blocking(move || seed_bulk_sql(&path, bench, tasks, extras))
                        .await
                        .unwrap();
                sessions = bulk.sessions;
                bulk.portals
            }
            SeedVia::Api => seed_bulk_api(&sqlite.service, args.tasks).await,
        };
        let elapsed = started.elapsed();
        println!(
            "portal (SQLite): seeded {} background tasks in {} portals via {:?} in {:.1?} ({:.0} tasks/s)",
            args.tasks,
            portals,
            args.seed_via,
            elapsed,
            args.tasks as f64 / elapsed.as_secs_f64()
        );
    }
    let counts = table_counts(&db_path);
    println!("SQLite database: {counts}, {} MiB", file_mib(&db_path));

    // ----- the same on a fresh PostgreSQL database ---------------------------------------
    let mut postgres = None;
    if let Some(server) = &args.database_url {
        let (url, db_name) = new_pg_database(server).await;
        let pg_store = Arc::new(PostgresStore::connect(&url).await.unwrap());
        println!("PostgreSQL database: {}", pg_store.database());
        let target = Target::new("portal (PostgreSQL)", pg_store.clone()).await;
        let (pg_portal, pg_contact) = target.seed().await;
        if args.tasks > 0 {
            let started = Instant::now();
            match args.seed_via {
                SeedVia::Sql => {
                    // The background rows SQLite got, copied over: same ids, same text.
                    let (path, url) = (db_path.clone(), url.clone());
                    let bench_tenant = portal.tenant_id;
                    let copied = tokio::task::spawn_blocking(move || {
                        pg::copy_background(&path, &url, bench_tenant)
                    })
                    .await
                    .unwrap();
                    let elapsed = started.elapsed();
                    println!(
                        "portal (PostgreSQL): copied the background rows from SQLite ({}) with COPY \
                         in {:.1?} ({:.0} tasks/s), database size {} MiB",
                        copied
                            .rows
                            .iter()
                            .map(|(t, n)| format!("{n} {t}"))
                            .collect::<Vec<_>>()
                            .join(", "),
                        elapsed,
                        args.tasks as f64 / elapsed.as_secs_f64(),
                        copied.database_bytes >> 20
                    );
                }
                SeedVia::Api => {
                    let portals = seed_bulk_api(&target.service, args.tasks).await;
                    let elapsed = started.elapsed();
                    println!(
                        "portal (PostgreSQL): seeded {} background tasks in {} portals via Api in {:.1?} ({:.0} tasks/s)",
                        args.tasks,
                        portals,
                        elapsed,
                        args.tasks as f64 / elapsed.as_secs_f64()
                    );
                }
            }
        }
        let counts = {
            let url = url.clone();
            tokio::task::spawn_blocking(move || pg::table_counts(&url))
                .await
                .unwrap()
        };
        println!("PostgreSQL database: {counts}");
        postgres = Some((target, pg_portal, pg_contact, pg_store, url, db_name));
    }

    // ----- the portal servers and a signed-in client each --------------------------------
    let mut served = Vec::new();
    if let Some((target, portal, contact)) = one_portal {
        served.push(target.serve(&portal, &contact).await);
    }
    served.push(sqlite.serve(&portal, &contact).await);
    // The big database's portal: the bare handler answers with its bytes.
    let big = served.len() - 1;
    let mut pg_kept = None;
    if let Some((target, pg_portal, pg_contact, pg_store, url, db_name)) = postgres {
        served.push(target.serve(&pg_portal, &pg_contact).await);
        pg_kept = Some((pg_store, url, db_name));
    }

    // ----- the bare handler with the SQLite portal's bytes -------------------------------
    let bare_listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let bare_addr = bare_listener.local_addr().unwrap();
    let mut headers = served[big].headers.clone();
    for name in [DATE, CONTENT_LENGTH, CONNECTION, TRANSFER_ENCODING] {
        headers.remove(name);
    }
    let bare_body = served[big].body.clone();
    let (stop_bare, bare_stopped) = tokio::sync::oneshot::channel::<()>();
    let bare_server = tokio::spawn(serve_bare(
        bare_listener,
        headers,
        bare_body.clone(),
        bare_stopped,
    ));

    // ----- load ------------------------------------------------------------------------
    // Each portal is checked against its own page (ids and names differ per store); the
    // bare handler answers with the SQLite portal's bytes and cookie.
    let mut targets: Vec<(&str, SocketAddr, String, usize)> = served
        .iter()
        .map(|s| (s.name, s.addr, s.cookie.clone(), s.body.len()))
        .collect();
    targets.push((
        "bare hyper",
        bare_addr,
        served[big].cookie.clone(),
        bare_body.len(),
    ));
    println!("RSS before the load: {} MiB", status_kib("VmRSS:") >> 10);
    let mut results: Vec<(&str, Stats)> = targets
        .iter()
        .map(|(name, ..)| (*name, Stats::default()))
        .collect();
    let window = args.duration / args.rounds;
    for round in 1..=args.rounds {
        for ((name, addr, cookie, len), (_, total)) in targets.iter().zip(&mut results) {
            let cpu_before = process_cpu();
            let mut stats = load(*addr, cookie, *len, &args, window).await;
            stats.cpu = process_cpu()
                .zip(cpu_before)
                .map(|(after, before)| after - before);
            let turn = if args.rounds > 1 {
                format!(" (turn {round} of {})", args.rounds)
            } else {
                String::new()
            };
            println!(
                "  {name}{turn}: {} ok, {} errors, {:.0} req/s",
                stats.ok,
                stats.errors(),
                stats.rate(window)
            );
            total.absorb(stats);
        }
    }

    // ----- report ----------------------------------------------------------------------
    println!();
    println!(
        "{:<20} {:>10} {:>8} {:>10} {:>10} {:>10} {:>12}",
        "target", "requests", "errors", "req/s", "p50", "p99", "CPU µs/req"
    );
    for (name, s) in &results {
        println!(
            "{:<20} {:>10} {:>8} {:>10.0} {:>10} {:>10} {:>12}",
            name,
            s.ok,
            s.errors(),
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
         to other load on the machine; the PostgreSQL server's own CPU is not in it)"
    );
    let (bare_name, bare) = results.last().unwrap();
    let bare_rate = bare.rate(args.duration);
    for (name, s) in &results[..results.len() - 1] {
        let portal_rate = s.rate(args.duration);
        println!(
            "ratio {name}/{bare_name}: {:.3} ({:.1}x slower)",
            portal_rate / bare_rate,
            bare_rate / portal_rate
        );
        if let (Some(p), Some(b)) = (s.cpu_per_request(), bare.cpu_per_request()) {
            println!(
                "CPU per request ratio {bare_name}/{name}: {:.3} ({:.0} vs {:.0} µs)",
                b / p,
                p,
                b
            );
        }
    }
    if args.scale {
        let one = results[0].1.rate(args.duration);
        let many = results[1].1.rate(args.duration);
        println!(
            "ratio {} portals / 1 portal: {:.3} ({:.0} vs {:.0} req/s)",
            sessions.len() + 1,
            many / one,
            many,
            one
        );
        let spread = spread(&served[big], &sessions, &args, &options).await;
        results.push(("spread", spread));
    }
    let _ = stop_bare.send(());
    let _ = bare_server.await;
    let mut services = Vec::new();
    for s in served {
        let _ = s.stop.send(());
        let _ = s.server.await;
        services.push(s.service);
    }
    drop(services);
    drop(store);
    println!("after the run: SQLite {}", table_counts(&db_path));
    if let Some((pg_store, url, db_name)) = pg_kept {
        drop(pg_store);
        let counts = {
            let url = url.clone();
            tokio::task::spawn_blocking(move || pg::table_counts(&url))
                .await
                .unwrap()
        };
        println!("after the run: PostgreSQL {counts}");
        if args.keep_db {
            // The database's name, not its URL: the URL may carry a password.
            println!("kept the PostgreSQL database {db_name}");
        } else {
            // The server is shared and a million tasks take most of a GiB: drop it.
            let server = args.database_url.clone().unwrap();
            tokio::task::spawn_blocking(move || pg::drop_database(&server, &db_name))
                .await
                .unwrap();
        }
    }
    if args.keep_db {
        let kept = dir.keep();
        println!("kept the database in {}", kept.display());
    }
    // A load with an error, or with nothing answered, is a failed run (exit 1), so a
    // smoke run in CI can fail.
    let failed: Vec<String> = results
        .iter()
        .filter(|(_, s)| s.errors() > 0 || s.all_ok == 0)
        .map(|(name, s)| {
            format!(
                "{name}: {} errors ({}), {} answered",
                s.errors(),
                s.error_kinds(),
                s.all_ok
            )
        })
        .collect();
    if !failed.is_empty() {
        eprintln!("bench-home: failed loads: {}", failed.join("; "));
        std::process::exit(1);
    }
}
