//! `bench-journeys`: many simulated clients walking the whole client path over HTTP at
//! once against the embedded default (SQLite), then a check that every write the
//! server acknowledged is in the database. A load run, not a timed test: it prints
//! p50/p99 per step and fails (exit 1) on any error, lost write or stale session.
//!
//! Each client has its own contact, invite, loopback address (127.1.x.y, so the
//! per-network limits see separate clients, as they would in the field) and keep-alive
//! connection, and walks: open the invite, send the code, open "check your email",
//! enter the code, the home page, a task, complete it, comment on it, ask a question,
//! sign out; then its old session cookie must be refused. Contacts share portals
//! (`--per-portal`), so completions, comments and questions of one portal race each
//! other and the read cache. See docs/PERFORMANCE.md.
//!
//! With `--database-url URL` (a PostgreSQL server; the run makes a database of its
//! own there) the portal runs as two nodes instead: two `PostgresStore`s (two pools),
//! two services with one server secret, two HTTP servers on two ports, and every
//! client sends its requests to the nodes in turn, as behind a load balancer.
//!
//! ```sh
//! cargo run --release -p portal-tests --bin bench-journeys -- --clients 1000
//! cargo run --release -p portal-tests --bin bench-journeys -- --clients 300 \
//!     --database-url postgresql://portal@127.0.0.1:5432/postgres
//! ```

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::HashMap;
use std::net::{IpAddr, Ipv4Addr};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use portal_core::mail::{ActingFor, Email, Mailer};
use portal_core::model::{Side, TaskKind, TaskStatus};
use portal_core::secret::ServerSecret;
use portal_core::testkit::code_from_email;
use portal_core::{ContactId, OsRandom, PortalId, PortalService, Store, TaskId, TaskSpec};
use portal_http::{HttpConfig, PortalApp};
use portal_storage_postgres::PostgresStore;
use portal_storage_sqlite::SqliteStore;
use portal_tests::{Browser, Page, process_cpu};
use tokio::net::TcpListener;

/// Steps of one journey, in order, as the report names them.
const STEPS: [&str; 10] = [
    "open invite",
    "send code",
    "check email page",
    "enter code",
    "home",
    "open task",
    "complete task",
    "comment",
    "ask question",
    "sign out",
];
/// Longest a step may take before it counts as an error (a timeout reaching a client).
const STEP_TIMEOUT: Duration = Duration::from_secs(30);

struct Args {
    clients: usize,
    per_portal: usize,
    /// Two nodes on this PostgreSQL server instead of one on SQLite.
    database_url: Option<String>,
}

fn parse_args() -> Args {
    let mut args = Args {
        clients: 1000,
        per_portal: 10,
        database_url: None,
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let value = it.next().unwrap_or_default();
        match flag.as_str() {
            "--clients" => args.clients = value.parse().expect("--clients N"),
            "--per-portal" => args.per_portal = value.parse().expect("--per-portal N"),
            "--database-url" => args.database_url = Some(value),
            _ => {
                eprintln!(
                    "usage: bench-journeys [--clients N (1000)] [--per-portal N (10)] [--database-url URL]"
                );
                std::process::exit(2);
            }
        }
    }
    args.per_portal = args.per_portal.max(1);
    args
}

/// Keeps each recipient's latest email text (the recording mailer keeps a list, which
/// a thousand lookups would copy a thousand times).
#[derive(Default)]
struct LatestMail {
    latest: Mutex<HashMap<String, String>>,
}

#[async_trait]
impl Mailer for LatestMail {
    async fn send(&self, _: &ActingFor, email: &Email) -> portal_core::Result<()> {
        self.latest
            .lock()
            .unwrap()
            .insert(email.to.as_str().to_owned(), email.text.clone());
        Ok(())
    }
}

impl LatestMail {
    /// The code of the newest email to `to`, waiting for it briefly (delivery may be
    /// queued behind the response).
    async fn code_for(&self, to: &str) -> Option<String> {
        for _ in 0..200 {
            let text = self.latest.lock().unwrap().get(to).cloned();
            if let Some(code) = text.as_deref().and_then(code_from_email) {
                return Some(code);
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        None
    }
}

/// One client: its contact, invite, task, and the unique texts it writes.
struct Client {
    n: usize,
    portal: PortalId,
    contact: ContactId,
    email: String,
    invite: String,
    task: TaskId,
}

/// What one journey did: each step's latency, or the step that failed and why; and
/// which writes the server acknowledged.
#[derive(Default)]
struct Outcome {
    latencies: Vec<(usize, Duration)>,
    error: Option<(usize, String)>,
    completed: bool,
    commented: bool,
    asked: bool,
    stale_session_refused: bool,
}

fn comment_text(n: usize) -> String {
    format!("Journey {n}: the printer is on the second floor.")
}

fn question_text(n: usize) -> String {
    format!("Journey {n}: when does the migration weekend start?")
}

async fn journey(
    client: Arc<Client>,
    addrs: Arc<Vec<std::net::SocketAddr>>,
    mail: Arc<LatestMail>,
) -> Outcome {
    let mut out = Outcome::default();
    let local = IpAddr::V4(Ipv4Addr::new(
        127,
        1,
        (client.n / 250) as u8,
        (client.n % 250) as u8 + 1,
    ));
    let browser = Browser::alternating(&addrs, local);
    let invite_path = format!("/i/{}", client.invite);
    let task_path = format!("/tasks/{}", client.task);
    let mut csrf = String::new();
    let mut session = String::new();
    for (i, _) in STEPS.iter().enumerate() {
        let started = Instant::now();
        let step = async {
            let page: Page = match i {
                0 => browser.get(&invite_path).await,
                1 => {
                    let invite = browser.get(&invite_path).await;
                    browser
                        .post(&invite_path, &[("csrf", &invite.csrf())])
                        .await
                }
                2 => browser.get("/verify").await,
                3 => {
                    let Some(code) = mail.code_for(&client.email).await else {
                        return Err("no code email arrived".to_owned());
                    };
                    browser
                        .post("/verify/code", &[("csrf", &csrf), ("code", &code)])
                        .await
                }
                4 => browser.get("/").await,
                5 => browser.get(&task_path).await,
                6 => {
                    browser
                        .post(&format!("{task_path}/complete"), &[("csrf", &csrf)])
                        .await
                }
                7 => {
                    browser
                        .post(
                            &format!("{task_path}/comments"),
                            &[("csrf", &csrf), ("comment", &comment_text(client.n))],
                        )
                        .await
                }
                8 => {
                    browser
                        .post(
                            "/questions",
                            &[("csrf", &csrf), ("question", &question_text(client.n))],
                        )
                        .await
                }
                _ => browser.post("/sign-out", &[("csrf", &csrf)]).await,
            };
            Ok(page)
        };
        let page = match tokio::time::timeout(STEP_TIMEOUT, step).await {
            Err(_) => {
                out.error = Some((i, format!("no answer within {STEP_TIMEOUT:?}")));
                return out;
            }
            Ok(Err(e)) => {
                out.error = Some((i, e));
                return out;
            }
            Ok(Ok(page)) => page,
        };
        let expected = match i {
            0 | 2 | 4 | 5 => 200,
            _ => 303,
        };
        if page.status != expected {
            let snippet: String = page.text().chars().take(200).collect();
            out.error = Some((i, format!("HTTP {} ({snippet})", page.status)));
            return out;
        }
        out.latencies.push((i, started.elapsed()));
        match i {
            // The form token of the page the client reads next.
            2 | 5 => csrf = page.csrf(),
            6 => out.completed = true,
            7 => out.commented = true,
            8 => {
                out.asked = true;
                session = browser.cookie("portal_session").unwrap_or_default();
            }
            _ => {}
        }
    }
    // The session signed out must be refused on the very next request.
    browser.set_cookie("portal_session", &session);
    let after = browser.get("/").await;
    out.stale_session_refused = after.status != 200 || !after.body.contains(&task_path);
    out
}

/// A client of a portal with what its journey did, for the database check.
type Member<'a> = (usize, &'a Outcome, &'a Arc<Client>);

fn percentile(sorted: &[Duration], q: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    sorted[((sorted.len() - 1) as f64 * q).round() as usize]
}

fn ms(d: Duration) -> String {
    format!("{:.1} ms", d.as_secs_f64() * 1e3)
}

/// Creates a fresh database on the PostgreSQL server at `server`; its URL.
async fn new_database(server: &str) -> String {
    let name = format!(
        "portal_journeys_{}",
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_micros()
    );
    let server = server.to_owned();
    tokio::task::spawn_blocking(move || portal_tests::postgres::new_database(&server, &name))
        .await
        .unwrap()
        .unwrap()
}

#[tokio::main]
async fn main() {
    let args = parse_args();
    let dir = tempfile::tempdir().unwrap();
    let db_path = dir.path().join("portal.db");
    let portals = args.clients.div_ceil(args.per_portal);
    println!(
        "bench-journeys: {} cores, {} clients in {} portals ({} per portal), one journey each, all at once",
        std::thread::available_parallelism().map_or(0, usize::from),
        args.clients,
        portals,
        args.per_portal
    );

    // One store (SQLite), or one per node on a fresh PostgreSQL database.
    let mut pg_nodes: Vec<Arc<PostgresStore>> = Vec::new();
    let stores: Vec<Arc<dyn Store>> = match &args.database_url {
        None => vec![Arc::new(SqliteStore::open(&db_path).await.unwrap())],
        Some(server) => {
            let url = new_database(server).await;
            let mut stores: Vec<Arc<dyn Store>> = Vec::new();
            for _ in 0..2 {
                let node = Arc::new(PostgresStore::connect(&url).await.unwrap());
                pg_nodes.push(node.clone());
                stores.push(node);
            }
            // The store's own name for the database: host, port and name, never the
            // URL's password.
            println!(
                "two nodes on PostgreSQL {}, requests alternating between them",
                pg_nodes[0].database()
            );
            stores
        }
    };
    let secret = ServerSecret::generate(&OsRandom);
    let mail = Arc::new(LatestMail::default());
    let mut nodes = Vec::new();
    for store in &stores {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let config = HttpConfig {
            public_base_url: format!("http://{addr}"),
            secure_cookies: false,
            // Every client keeps one connection open, and the sign-out check opens another.
            max_connections: 4 * args.clients + 64,
            ..HttpConfig::default()
        };
        let service = PortalService::builder(
            store.clone(),
            mail.clone(),
            Arc::new(config.links()),
            secret.clone(),
        )
        .build();
        nodes.push((listener, addr, config, service));
    }
    let service = nodes[0].3.clone();

    // ----- seed: realistic portals, a task per client, an invite per client ----------
    let started = Instant::now();
    let mut clients = Vec::with_capacity(args.clients);
    for p in 0..portals {
        let seeded = portal_tests::seed(&service, &format!("Client{p} Dental")).await;
        let phase = service
            .add_phase(&seeded.staff, seeded.portal.id, "This week")
            .await
            .unwrap();
        for k in 0..args.per_portal {
            let n = p * args.per_portal + k;
            if n >= args.clients {
                break;
            }
            let email = format!("person{k}@client{p}.example");
            let contact = service
                .add_contact(
                    &seeded.staff,
                    seeded.portal.id,
                    &format!("Person {k}"),
                    &email,
                )
                .await
                .unwrap();
            let task = service
                .add_task(
                    &seeded.staff,
                    seeded.portal.id,
                    phase.id,
                    TaskSpec {
                        title: format!("Confirm the desk plan for person {k}"),
                        description: "Tick it off when the desk plan is right.".into(),
                        assignee: Side::Client,
                        kind: TaskKind::Standard,
                        due_date: None,
                    },
                )
                .await
                .unwrap();
            let invite = service
                .invite_contact(&seeded.staff, contact.id)
                .await
                .unwrap();
            clients.push(Arc::new(Client {
                n,
                portal: seeded.portal.id,
                contact: contact.id,
                email,
                invite: invite.expose_secret().to_owned(),
                task: task.id,
            }));
        }
    }
    println!(
        "seeded {} portals and {} contacts through the service in {:.1?}",
        portals,
        clients.len(),
        started.elapsed()
    );

    let mut addrs = Vec::new();
    let mut servers = Vec::new();
    for (listener, addr, config, node_service) in nodes {
        let app = Arc::new(PortalApp::new(node_service, config));
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let server = tokio::spawn(portal_http::serve(listener, app, async move {
            let _ = stopped.await;
        }));
        addrs.push(addr);
        servers.push((stop, server));
    }
    let addrs = Arc::new(addrs);

    // ----- the run ---------------------------------------------------------------------
    let cpu_before = process_cpu();
    let started = Instant::now();
    let runs: Vec<_> = clients
        .iter()
        .map(|c| tokio::spawn(journey(c.clone(), addrs.clone(), mail.clone())))
        .collect();
    let mut outcomes = Vec::with_capacity(runs.len());
    for run in runs {
        outcomes.push(run.await.unwrap_or_else(|e| Outcome {
            error: Some((0, format!("the journey panicked: {e}"))),
            ..Outcome::default()
        }));
    }
    let elapsed = started.elapsed();
    let cpu = process_cpu()
        .zip(cpu_before)
        .map(|(after, before)| after - before);

    // ----- report ----------------------------------------------------------------------
    let finished = outcomes.iter().filter(|o| o.error.is_none()).count();
    println!(
        "{} journeys in {:.1?}: {} finished, {} with an error; {:.0} requests/s; CPU {}",
        outcomes.len(),
        elapsed,
        finished,
        outcomes.len() - finished,
        outcomes.iter().map(|o| o.latencies.len()).sum::<usize>() as f64 / elapsed.as_secs_f64(),
        cpu.map_or_else(|| "n/a".to_owned(), |c| format!("{:.1?}", c)),
    );
    if !pg_nodes.is_empty() {
        let retried: Vec<String> = pg_nodes
            .iter()
            .map(|n| n.retried_units().to_string())
            .collect();
        println!(
            "units run again after a serialization conflict, per node: {}",
            retried.join(", ")
        );
    }
    println!();
    println!(
        "{:<18} {:>8} {:>10} {:>10} {:>10} {:>8}",
        "step", "done", "p50", "p99", "max", "errors"
    );
    for (i, name) in STEPS.iter().enumerate() {
        let mut times: Vec<Duration> = outcomes
            .iter()
            .flat_map(|o| o.latencies.iter().filter(|(s, _)| *s == i).map(|(_, d)| *d))
            .collect();
        times.sort();
        let errors = outcomes
            .iter()
            .filter(|o| o.error.as_ref().is_some_and(|(s, _)| *s == i))
            .count();
        println!(
            "{:<18} {:>8} {:>10} {:>10} {:>10} {:>8}",
            name,
            times.len(),
            ms(percentile(&times, 0.50)),
            ms(percentile(&times, 0.99)),
            ms(times.last().copied().unwrap_or_default()),
            errors
        );
    }
    let mut shown = 0;
    for (o, c) in outcomes.iter().zip(&clients) {
        if let Some((step, why)) = &o.error {
            if shown < 10 {
                println!("  client {} failed at {:?}: {why}", c.n, STEPS[*step]);
            }
            shown += 1;
        }
    }

    // ----- every acknowledged write is in the database ---------------------------------
    for (stop, server) in servers {
        let _ = stop.send(());
        let _ = server.await;
    }
    let s = service.store();
    let mut lost = Vec::new();
    let mut by_portal: HashMap<PortalId, Vec<Member<'_>>> = HashMap::new();
    for (o, c) in outcomes.iter().zip(&clients) {
        by_portal.entry(c.portal).or_default().push((c.n, o, c));
    }
    for (portal, members) in &by_portal {
        let questions = s.questions(*portal).await.unwrap();
        for (n, o, c) in members {
            if o.completed {
                let task = s.task(*portal, c.task).await.unwrap();
                if task.status != TaskStatus::Completed {
                    lost.push(format!(
                        "client {n}: completion acknowledged, task {:?}",
                        task.status
                    ));
                }
            }
            if o.commented {
                let comments = s.comments(*portal, c.task).await.unwrap();
                if !comments.iter().any(|m| m.body == comment_text(*n)) {
                    lost.push(format!("client {n}: comment acknowledged, not stored"));
                }
            }
            if o.asked && !questions.iter().any(|q| q.text == question_text(*n)) {
                lost.push(format!("client {n}: question acknowledged, not stored"));
            }
            let _ = c.contact;
        }
    }
    let stale = outcomes
        .iter()
        .filter(|o| o.error.is_none() && !o.stale_session_refused)
        .count();
    println!(
        "database check: {} acknowledged writes missing; {} signed-out sessions still accepted",
        lost.len(),
        stale
    );
    for l in lost.iter().take(10) {
        println!("  {l}");
    }
    let errors = outcomes.len() - finished;
    if errors > 0 || !lost.is_empty() || stale > 0 {
        println!(
            "FAILED: {errors} journeys with an error, {} lost writes, {stale} stale sessions",
            lost.len()
        );
        std::process::exit(1);
    }
    println!("OK: 0 errors, every acknowledged write stored, every signed-out session refused");
}
