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

use std::convert::Infallible;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use chrono::{Duration as Days, Utc};
use http::header::{CONNECTION, CONTENT_LENGTH, DATE, TRANSFER_ENCODING};
use http::{HeaderMap, Request, Response, StatusCode};
use http_body_util::{BodyExt, Empty, Full};
use hyper::service::service_fn;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto;
use portal_core::model::{
    Branding, ChecklistItem, Contact, DocumentRef, Portal, PortalStatus, Question, QuestionKind,
    RequestedDocument, Side, TaskKind,
};
use portal_core::secret::ServerSecret;
use portal_core::{
    ContactId, OsRandom, PhaseId, PortalId, PortalService, RandomSource, RecordingMailer, TaskId,
    TaskSpec, TenantId,
};
use portal_http::{HttpConfig, PortalApp};
use portal_storage_sqlite::SqliteStore;
use portal_tests::{Browser, code_in};
use rusqlite::{Connection, params};
use tokio::net::{TcpListener, TcpStream};

/// Background tasks per background portal.
const TASKS_PER_PORTAL: usize = 100;
/// Background portals per tenant.
const PORTALS_PER_TENANT: usize = 50;
/// Phases per background portal (tasks are spread evenly over them).
const PHASES_PER_PORTAL: usize = 5;
/// Phases and tasks per phase of the benchmarked portal.
const BENCH_PHASES: usize = 6;
const BENCH_TASKS_PER_PHASE: usize = 10;
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
    sign_in(&service, &mailer, &browser, &contact).await;
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

// ----- seeding --------------------------------------------------------------------------

/// The benchmarked portal, through the public API: one tenant, one portal, one contact,
/// `BENCH_PHASES` phases of `BENCH_TASKS_PER_PHASE` tasks of every common kind, some done.
/// Also returns how many writes that took.
async fn seed_bench_portal(service: &PortalService) -> (Portal, Contact, usize) {
    let branding = Branding::new(
        "Acme MSP",
        "#0d6e7a",
        "Welcome to your onboarding!\nEverything we need from you is under Your Tasks.",
        None,
    )
    .unwrap();
    let tenant = service
        .create_tenant("Acme MSP", branding, vec![])
        .await
        .unwrap();
    let portal = service
        .create_portal(tenant.id, "Contoso Dental Group", PortalStatus::Active)
        .await
        .unwrap();
    let contact = service
        .add_contact(portal.id, "Dana Whitfield", "dana@contoso.example")
        .await
        .unwrap();
    let phase_names = [
        "Kickoff",
        "Discovery",
        "Access & credentials",
        "Migration",
        "Training",
        "Go-live",
    ];
    let today = Utc::now().date_naive();
    let mut n = 0usize;
    let mut writes = 3;
    for name in phase_names.iter().take(BENCH_PHASES) {
        let phase = service.add_phase(portal.id, name).await.unwrap();
        writes += 1;
        for i in 0..BENCH_TASKS_PER_PHASE {
            n += 1;
            let (title, assignee, kind) = task_kind(n, i);
            let spec = TaskSpec {
                title: format!("{title} #{n}"),
                description: format!(
                    "Step {n} of the onboarding: {title}.\nPlease read the notes and reach out \
                     if anything is unclear."
                ),
                assignee,
                kind,
                due_date: (!n.is_multiple_of(3)).then(|| today + Days::days(n as i64 % 20 - 5)),
            };
            let task = service.add_task(portal.id, phase.id, spec).await.unwrap();
            writes += 1;
            // The first phases are mostly done, as in a portal a few weeks in; later
            // ones have work in progress and the odd blocked task.
            let staff = portal_tests::staff();
            writes += 1;
            if n <= 15 || (n * 7).is_multiple_of(10) {
                service
                    .staff_complete(staff, portal.id, task.id, Some("Done.".into()))
                    .await
                    .unwrap();
            } else if (n * 7) % 10 == 5 {
                service
                    .block_task(staff, portal.id, task.id, "Waiting for the ISP.")
                    .await
                    .unwrap();
            } else if i == 4 {
                service
                    .set_checklist_item(portal.id, task.id, staff, "i0", true)
                    .await
                    .unwrap();
            } else {
                writes -= 1;
            }
        }
    }
    (portal, contact, writes)
}

fn task_kind(n: usize, i: usize) -> (&'static str, Side, TaskKind) {
    match i {
        0 => (
            "Sign the agreement",
            Side::Client,
            TaskKind::Signature {
                document: Some(DocumentRef {
                    name: "MSA.pdf".into(),
                }),
            },
        ),
        1 => ("Assign the team", Side::Msp, TaskKind::Standard),
        2 => (
            "Site survey",
            Side::Client,
            TaskKind::Survey {
                questions: vec![
                    Question {
                        id: "sites".into(),
                        prompt: "How many sites?".into(),
                        required: true,
                        kind: QuestionKind::ShortText { max_len: 50 },
                    },
                    Question {
                        id: "notes".into(),
                        prompt: "Anything we should know?".into(),
                        required: false,
                        kind: QuestionKind::LongText { max_len: 2000 },
                    },
                ],
            },
        ),
        3 => (
            "Upload network docs",
            Side::Client,
            TaskKind::DocumentUpload {
                documents: vec![
                    RequestedDocument {
                        id: "diagram".into(),
                        name: "Network diagram".into(),
                    },
                    RequestedDocument {
                        id: "inventory".into(),
                        name: "Hardware inventory".into(),
                    },
                ],
            },
        ),
        4 => (
            "Prepare workstations",
            Side::Client,
            TaskKind::Checklist {
                items: (0..4)
                    .map(|k| ChecklistItem {
                        id: format!("i{k}"),
                        label: format!("Checklist item {k} of task {n}"),
                    })
                    .collect(),
            },
        ),
        5 => (
            "Approve the migration date",
            Side::Client,
            TaskKind::Approval { document: None },
        ),
        6 => (
            "Kickoff meeting",
            Side::Msp,
            TaskKind::Meeting { schedule: None },
        ),
        7 => (
            "Hand over admin credentials",
            Side::Client,
            TaskKind::CredentialHandoff { api_key: true },
        ),
        8 => (
            "Drop the VPN config",
            Side::Client,
            TaskKind::SecureFileDrop {
                expires_after_days: 7,
            },
        ),
        _ => ("Review the runbook", Side::Msp, TaskKind::Standard),
    }
}

/// Text columns of a task row, copied from the benchmarked portal as templates, so the
/// background rows have exactly the encoding the store writes.
struct TaskTemplate {
    title: String,
    description: String,
    assignee: String,
    kind: String,
    status: String,
    blocked_reason: Option<String>,
    due_date: Option<String>,
    evidence: String,
}

fn rid<T>(make: fn([u8; 16]) -> T) -> T {
    let mut bytes = [0u8; 16];
    OsRandom.fill(&mut bytes);
    // Same layout as the core's ids: a v4 UUID.
    make(*uuid_v4(&mut bytes))
}

fn uuid_v4(b: &mut [u8; 16]) -> &[u8; 16] {
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    b
}

/// Writes `tasks` background tasks (100 per portal, 5 phases each, one contact each,
/// 50 portals per tenant) straight into the schema in one transaction. Returns how many
/// portals were added.
fn seed_bulk_sql(path: &Path, bench: PortalId, tasks: usize) -> usize {
    let mut conn = Connection::open(path).unwrap();
    conn.busy_timeout(Duration::from_secs(30)).unwrap();
    conn.pragma_update(None, "foreign_keys", true).unwrap();
    conn.pragma_update(None, "synchronous", "NORMAL").unwrap();
    conn.pragma_update(None, "cache_size", -1_048_576i64)
        .unwrap(); // 1 GiB
    let bench_id = &bench.as_bytes()[..];
    let (tenant_row, portal_row): ((String, String, String), (String, String, String)) = {
        let tenant = conn
            .query_row(
                "SELECT t.name, t.branding, t.notification_recipients
                   FROM tenants t JOIN portals p ON p.tenant_id = t.id WHERE p.id = ?1",
                [bench_id],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
            )
            .unwrap();
        let portal = conn
            .query_row(
                "SELECT client_name, status, branding FROM portals WHERE id = ?1",
                [bench_id],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
            )
            .unwrap();
        (tenant, portal)
    };
    let templates: Vec<TaskTemplate> = {
        let mut stmt = conn
            .prepare(
                "SELECT title, description, assignee, kind, status, blocked_reason, due_date,
                        evidence
                   FROM tasks WHERE portal_id = ?1",
            )
            .unwrap();
        stmt.query_map([bench_id], |r| {
            Ok(TaskTemplate {
                title: r.get(0)?,
                description: r.get(1)?,
                assignee: r.get(2)?,
                kind: r.get(3)?,
                status: r.get(4)?,
                blocked_reason: r.get(5)?,
                due_date: r.get(6)?,
                evidence: r.get(7)?,
            })
        })
        .unwrap()
        .collect::<rusqlite::Result<_>>()
        .unwrap()
    };
    assert!(!templates.is_empty());
    let portals = tasks.div_ceil(TASKS_PER_PORTAL);
    let now = Utc::now().timestamp_micros();
    let tx = conn.transaction().unwrap();
    {
        let mut tenant_stmt = tx
            .prepare(
                "INSERT INTO tenants (id, name, branding, notification_recipients, created_at)
                 VALUES (?1, ?2, ?3, ?4, ?5)",
            )
            .unwrap();
        let mut portal_stmt = tx
            .prepare(
                "INSERT INTO portals (id, tenant_id, client_name, status, branding, created_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            )
            .unwrap();
        let mut contact_stmt = tx
            .prepare(
                "INSERT INTO contacts (id, portal_id, name, email, revoked_at, created_at)
                 VALUES (?1, ?2, ?3, ?4, NULL, ?5)",
            )
            .unwrap();
        let mut phase_stmt = tx
            .prepare("INSERT INTO phases (portal_id, position, id, name) VALUES (?1, ?2, ?3, ?4)")
            .unwrap();
        let mut task_stmt = tx
            .prepare(
                "INSERT INTO tasks (portal_id, phase_id, position, id, title, description,
                    assignee, kind, status, blocked_reason, due_date, created_at, updated_at,
                    evidence)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?12, ?13)",
            )
            .unwrap();
        let mut tenant = rid(TenantId::from_bytes);
        let mut left = tasks;
        for p in 0..portals {
            if p % PORTALS_PER_TENANT == 0 {
                tenant = rid(TenantId::from_bytes);
                tenant_stmt
                    .execute(params![
                        &tenant.as_bytes()[..],
                        format!("{} {}", tenant_row.0, p / PORTALS_PER_TENANT),
                        tenant_row.1,
                        tenant_row.2,
                        now
                    ])
                    .unwrap();
            }
            let portal = rid(PortalId::from_bytes);
            let pid = &portal.as_bytes()[..];
            portal_stmt
                .execute(params![
                    pid,
                    &tenant.as_bytes()[..],
                    format!("{} {p}", portal_row.0),
                    portal_row.1,
                    portal_row.2,
                    now
                ])
                .unwrap();
            contact_stmt
                .execute(params![
                    &rid(ContactId::from_bytes).as_bytes()[..],
                    pid,
                    format!("Contact {p}"),
                    format!("contact{p}@client{p}.example"),
                    now
                ])
                .unwrap();
            let phases: Vec<PhaseId> = (0..PHASES_PER_PORTAL)
                .map(|k| {
                    let phase = rid(PhaseId::from_bytes);
                    phase_stmt
                        .execute(params![
                            pid,
                            k as i64,
                            &phase.as_bytes()[..],
                            format!("Phase {k}")
                        ])
                        .unwrap();
                    phase
                })
                .collect();
            let here = left.min(TASKS_PER_PORTAL);
            left -= here;
            for t in 0..here {
                let tpl = &templates[(p + t) % templates.len()];
                let phase = phases[t * PHASES_PER_PORTAL / TASKS_PER_PORTAL];
                task_stmt
                    .execute(params![
                        pid,
                        &phase.as_bytes()[..],
                        (t % (TASKS_PER_PORTAL / PHASES_PER_PORTAL)) as i64,
                        &rid(TaskId::from_bytes).as_bytes()[..],
                        format!("{} (portal {p})", tpl.title),
                        tpl.description,
                        tpl.assignee,
                        tpl.kind,
                        tpl.status,
                        tpl.blocked_reason,
                        tpl.due_date,
                        now,
                        tpl.evidence
                    ])
                    .unwrap();
            }
        }
    }
    tx.commit().unwrap();
    // Leave the store a small write-ahead log, as a long-running server would have.
    conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))
        .unwrap();
    portals
}

/// The same background data through the public API, 64 portals at a time (so the
/// store's group commit can batch them). Returns how many portals were added.
async fn seed_bulk_api(service: &PortalService, tasks: usize) -> usize {
    let portals = tasks.div_ceil(TASKS_PER_PORTAL);
    let branding = Branding::new("Bulk MSP", "#334455", "Welcome.", None).unwrap();
    let mut tenants = Vec::new();
    for t in 0..portals.div_ceil(PORTALS_PER_TENANT) {
        tenants.push(
            service
                .create_tenant(&format!("Bulk MSP {t}"), branding.clone(), vec![])
                .await
                .unwrap()
                .id,
        );
    }
    let tenants = Arc::new(tenants);
    let next = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let mut workers = tokio::task::JoinSet::new();
    for _ in 0..64 {
        let (service, tenants, next) = (service.clone(), tenants.clone(), next.clone());
        workers.spawn(async move {
            loop {
                let p = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                if p >= portals {
                    break;
                }
                let here = (tasks - p * TASKS_PER_PORTAL).min(TASKS_PER_PORTAL);
                let portal = service
                    .create_portal(
                        tenants[p / PORTALS_PER_TENANT],
                        &format!("Client {p}"),
                        PortalStatus::Active,
                    )
                    .await
                    .unwrap();
                service
                    .add_contact(
                        portal.id,
                        &format!("Contact {p}"),
                        &format!("contact{p}@client{p}.example"),
                    )
                    .await
                    .unwrap();
                let mut phases = Vec::new();
                for k in 0..PHASES_PER_PORTAL {
                    phases.push(
                        service
                            .add_phase(portal.id, &format!("Phase {k}"))
                            .await
                            .unwrap(),
                    );
                }
                for t in 0..here {
                    let (title, assignee, kind) = task_kind(p + t, (p + t) % 10);
                    let spec = TaskSpec {
                        title: format!("{title} (portal {p})"),
                        description: format!("Step {t}: {title}."),
                        assignee,
                        kind,
                        due_date: None,
                    };
                    service
                        .add_task(
                            portal.id,
                            phases[t * PHASES_PER_PORTAL / TASKS_PER_PORTAL].id,
                            spec,
                        )
                        .await
                        .unwrap();
                }
            }
        });
    }
    while let Some(done) = workers.join_next().await {
        done.unwrap();
    }
    portals
}

fn table_counts(path: &Path) -> String {
    let conn = Connection::open(path).unwrap();
    [
        "tenants",
        "portals",
        "contacts",
        "phases",
        "tasks",
        "access_log",
    ]
    .iter()
    .map(|t| {
        let n: i64 = conn
            .query_row(&format!("SELECT COUNT(*) FROM {t}"), [], |r| r.get(0))
            .unwrap();
        format!("{n} {t}")
    })
    .collect::<Vec<_>>()
    .join(", ")
}

fn file_mib(path: &Path) -> u64 {
    std::fs::metadata(path).map_or(0, |m| m.len() >> 20)
}

// ----- sign-in --------------------------------------------------------------------------

/// The real access flow over HTTP: invite page, send code, check email, enter code.
async fn sign_in(
    service: &PortalService,
    mailer: &RecordingMailer,
    browser: &Browser,
    contact: &Contact,
) {
    let invite = service.invite_contact(contact.id).await.unwrap();
    let invite_path = format!("/i/{}", invite.expose_secret());
    let page = browser.get(&invite_path).await;
    assert_eq!(page.status, 200, "{}", page.body);
    let sent = browser.post(&invite_path, &[("csrf", &page.csrf())]).await;
    assert_eq!(sent.status, 303, "{}", sent.body);
    let check = browser.get("/verify").await;
    assert_eq!(check.status, 200, "{}", check.body);
    let email = mailer
        .last_to(contact.email.as_str())
        .expect("a verification email");
    let code = code_in(&email.text);
    let done = browser
        .post("/verify/code", &[("csrf", &check.csrf()), ("code", &code)])
        .await;
    assert_eq!(done.status, 303, "{}", done.body);
}

// ----- the bare handler -----------------------------------------------------------------

/// A hyper server (same builder settings as `portal_http::serve`) answering every
/// request with `body` and `headers`, until `stop` fires.
async fn serve_bare(
    listener: TcpListener,
    headers: HeaderMap,
    body: Bytes,
    stop: tokio::sync::oneshot::Receiver<()>,
) {
    let mut builder = auto::Builder::new(TokioExecutor::new());
    builder
        .http1()
        .timer(TokioTimer::new())
        .header_read_timeout(Duration::from_secs(10))
        .max_buf_size(64 * 1024);
    builder
        .http2()
        .timer(TokioTimer::new())
        .max_concurrent_streams(100);
    let graceful = hyper_util::server::graceful::GracefulShutdown::new();
    let headers = Arc::new(headers);
    let mut stop = std::pin::pin!(stop);
    loop {
        tokio::select! {
            accepted = listener.accept() => {
                let Ok((stream, _)) = accepted else { continue };
                let _ = stream.set_nodelay(true);
                let (headers, body) = (headers.clone(), body.clone());
                let service = service_fn(move |_req: Request<hyper::body::Incoming>| {
                    let mut res = Response::new(Full::new(body.clone()));
                    *res.headers_mut() = (*headers).clone();
                    async move { Ok::<_, Infallible>(res) }
                });
                let conn = builder.serve_connection(TokioIo::new(stream), service);
                let conn = graceful.watch(conn.into_owned());
                tokio::spawn(async move {
                    let _ = conn.await;
                });
            }
            _ = &mut stop => break,
        }
    }
    drop(listener);
    let _ = tokio::time::timeout(Duration::from_secs(5), graceful.shutdown()).await;
}

// ----- the load generator ---------------------------------------------------------------

#[derive(Debug, Default)]
struct Stats {
    ok: u64,
    errors: u64,
    /// Every 200 of the right length, warm-up included (for CPU per request).
    all_ok: u64,
    /// CPU time the whole process used during warm-up and run.
    cpu: Option<Duration>,
    /// Latencies of the measured requests, in microseconds, sorted.
    micros: Vec<u32>,
}

impl Stats {
    fn rate(&self, window: Duration) -> f64 {
        self.ok as f64 / window.as_secs_f64()
    }
    fn cpu_per_request(&self) -> Option<f64> {
        let cpu = self.cpu?;
        (self.all_ok > 0).then(|| cpu.as_secs_f64() * 1e6 / self.all_ok as f64)
    }
    fn percentile(&self, q: f64) -> u32 {
        if self.micros.is_empty() {
            return 0;
        }
        let i = ((self.micros.len() as f64 * q).ceil() as usize).clamp(1, self.micros.len()) - 1;
        self.micros[i]
    }
}

/// User + system CPU time of this process so far (Linux: `/proc/self/stat`).
fn process_cpu() -> Option<Duration> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    // Fields after the command name (which may contain spaces) start at field 3.
    let rest = &stat[stat.rfind(')')? + 2..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let utime: u64 = fields.get(11)?.parse().ok()?;
    let stime: u64 = fields.get(12)?.parse().ok()?;
    // Clock ticks; USER_HZ is 100 on every mainstream Linux configuration.
    Some(Duration::from_millis((utime + stime) * 10))
}

fn fmt_micros(us: u32) -> String {
    if us >= 10_000 {
        format!("{:.1} ms", f64::from(us) / 1000.0)
    } else {
        format!("{:.2} ms", f64::from(us) / 1000.0)
    }
}

/// `args.connections` keep-alive HTTP/1.1 connections each sending `GET /` back to back
/// for warm-up + duration; counts the 200s of `expected_len` bytes completed within the
/// measured window. Every request has a timeout, so the run always ends.
async fn load(addr: SocketAddr, cookie: &str, expected_len: usize, args: &Args) -> Stats {
    let start = Instant::now();
    let measure_from = start + args.warmup;
    let end = measure_from + args.duration;
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..args.connections {
        let cookie = cookie.to_owned();
        tasks.spawn(async move {
            let mut stats = Stats::default();
            'connect: while Instant::now() < end {
                let Ok(stream) = TcpStream::connect(addr).await else {
                    stats.errors += 1;
                    tokio::time::sleep(Duration::from_millis(10)).await;
                    continue;
                };
                let _ = stream.set_nodelay(true);
                let Ok((mut sender, conn)) =
                    hyper::client::conn::http1::handshake(TokioIo::new(stream)).await
                else {
                    stats.errors += 1;
                    continue;
                };
                let driver = tokio::spawn(conn);
                while Instant::now() < end {
                    let req = Request::get("/")
                        .header(http::header::HOST, addr.to_string())
                        .header(http::header::USER_AGENT, USER_AGENT)
                        .header(http::header::COOKIE, &cookie)
                        .body(Empty::<Bytes>::new())
                        .unwrap();
                    let t = Instant::now();
                    let one = async {
                        sender.ready().await.ok()?;
                        let res = sender.send_request(req).await.ok()?;
                        let status = res.status();
                        let body = res.into_body().collect().await.ok()?.to_bytes();
                        Some((status, body.len()))
                    };
                    let outcome = tokio::time::timeout(Duration::from_secs(5), one).await;
                    let done = Instant::now();
                    let counted = done >= measure_from && done <= end;
                    match outcome {
                        Ok(Some((StatusCode::OK, len))) if len == expected_len => {
                            stats.all_ok += 1;
                            if counted {
                                stats.ok += 1;
                                let us = (done - t).as_micros();
                                stats.micros.push(u32::try_from(us).unwrap_or(u32::MAX));
                            }
                        }
                        Ok(Some(_)) => {
                            stats.errors += 1;
                        }
                        _ => {
                            stats.errors += 1;
                            driver.abort();
                            continue 'connect;
                        }
                    }
                }
                drop(sender);
                let _ = driver.await;
            }
            stats
        });
    }
    let mut all = Stats::default();
    while let Some(done) = tasks.join_next().await {
        let s = done.unwrap();
        all.ok += s.ok;
        all.all_ok += s.all_ok;
        all.errors += s.errors;
        all.micros.extend(s.micros);
    }
    all.micros.sort_unstable();
    all
}
