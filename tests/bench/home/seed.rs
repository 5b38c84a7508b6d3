//! Seeding the benchmark's database: the benchmarked portal through the public API, and
//! the background portals straight into the schema (or through the API).

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use chrono::{Duration as Days, Utc};
use portal_core::model::{
    Branding, ChecklistItem, Contact, DocumentRef, Portal, PortalStatus, Question, QuestionKind,
    RequestedDocument, Side, TaskKind,
};
use portal_core::secret::SessionToken;
use portal_core::store::AccessEvent;
use portal_core::testkit::seed_portal;
use portal_core::{
    ContactId, OsRandom, PhaseId, PortalId, PortalService, RandomSource, TaskId, TaskSpec, TenantId,
};
use portal_tests::acme_seed;
use rusqlite::{Connection, params};

/// A day in microseconds (the schema's time unit).
const DAY_MICROS: i64 = 86_400_000_000;
/// Days the background contacts' sessions stay valid.
const SESSION_DAYS: i64 = 30;

/// Background portals written per transaction.
const COMMIT_PORTALS: usize = 1_000;

/// Background tasks per background portal.
pub(crate) const TASKS_PER_PORTAL: usize = 100;
/// Background portals per tenant.
pub(crate) const PORTALS_PER_TENANT: usize = 50;
/// Phases per background portal (tasks are spread evenly over them).
pub(crate) const PHASES_PER_PORTAL: usize = 5;
/// Phases and tasks per phase of the benchmarked portal.
pub(crate) const BENCH_PHASES: usize = 6;
pub(crate) const BENCH_TASKS_PER_PHASE: usize = 10;

/// The benchmarked portal, through the public API: one tenant, one portal, one contact,
/// `BENCH_PHASES` phases of `BENCH_TASKS_PER_PHASE` tasks of every common kind, some done.
/// Also returns how many writes that took.
pub(crate) async fn seed_bench_portal(service: &PortalService) -> (Portal, Contact, usize) {
    let seeded = seed_portal(service, &acme_seed("Contoso Dental Group"))
        .await
        .unwrap();
    let (portal, contact, staff) = (seeded.portal, seeded.contact, seeded.staff);
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
        let phase = service.add_phase(&staff, portal.id, name).await.unwrap();
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
            let task = service
                .add_task(&staff, portal.id, phase.id, spec)
                .await
                .unwrap();
            writes += 1;
            // The first phases are mostly done, as in a portal a few weeks in; later
            // ones have work in progress and the odd blocked task.
            writes += 1;
            if n <= 15 || (n * 7).is_multiple_of(10) {
                service
                    .staff_complete(&staff, portal.id, task.id, Some("Done.".into()))
                    .await
                    .unwrap();
            } else if (n * 7) % 10 == 5 {
                service
                    .block_task(&staff, portal.id, task.id, "Waiting for the ISP.")
                    .await
                    .unwrap();
            } else if i == 4 {
                service
                    .staff_set_checklist_item(&staff, portal.id, task.id, "i0", true)
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
                consent: None,
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
                    RequestedDocument::new("diagram", "Network diagram"),
                    RequestedDocument::new("inventory", "Hardware inventory"),
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
/// What `seed_bulk_sql` writes beside the background portals and their tasks.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Extras {
    /// Access-log rows in total, spread evenly over the background portals' contacts,
    /// their times rising over the last 90 days (as a long-running portal's log would).
    pub(crate) access_log: usize,
    /// A live session for every background contact, whose tokens are returned, so a
    /// load can spread over every portal.
    pub(crate) sessions: bool,
}

/// What `seed_bulk_sql` wrote.
pub(crate) struct Bulk {
    pub(crate) portals: usize,
    /// Session tokens of the background contacts, one per portal (with
    /// [`Extras::sessions`]).
    pub(crate) sessions: Vec<SessionToken>,
}

pub(crate) fn seed_bulk_sql(path: &Path, bench: PortalId, tasks: usize, extras: Extras) -> Bulk {
    let conn = Connection::open(path).unwrap();
    conn.busy_timeout(Duration::from_secs(30)).unwrap();
    conn.pragma_update(None, "foreign_keys", true).unwrap();
    conn.pragma_update(None, "synchronous", "NORMAL").unwrap();
    // 256 MiB: the pages stay in this process's heap after the seed, so a bigger cache
    // would inflate the RSS the scale run prints.
    conn.pragma_update(None, "cache_size", -262_144i64).unwrap();
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
    let mut sessions = Vec::with_capacity(if extras.sessions { portals } else { 0 });
    // Committed every `COMMIT_PORTALS` portals, so the write-ahead log (reused after each
    // automatic checkpoint) stays small instead of holding the whole seed a second time.
    conn.execute_batch("BEGIN").unwrap();
    {
        let mut tenant_stmt = conn
            .prepare(
                "INSERT INTO tenants (id, name, branding, notification_recipients, created_at)
                 VALUES (?1, ?2, ?3, ?4, ?5)",
            )
            .unwrap();
        let mut portal_stmt = conn
            .prepare(
                "INSERT INTO portals (id, tenant_id, client_name, status, branding, created_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            )
            .unwrap();
        let mut contact_stmt = conn
            .prepare(
                "INSERT INTO contacts (id, portal_id, name, email, revoked_at, created_at)
                 VALUES (?1, ?2, ?3, ?4, NULL, ?5)",
            )
            .unwrap();
        let mut phase_stmt = conn
            .prepare("INSERT INTO phases (portal_id, position, id, name) VALUES (?1, ?2, ?3, ?4)")
            .unwrap();
        let mut task_stmt = conn
            .prepare(
                "INSERT INTO tasks (portal_id, phase_id, position, id, title, description,
                    assignee, kind, status, blocked_reason, due_date, created_at, updated_at,
                    evidence)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?12, ?13)",
            )
            .unwrap();
        let mut session_stmt = conn
            .prepare(
                "INSERT INTO sessions (token_hash, contact_id, created_at, refreshed_at,
                    expires_at, last_seen_at)
                 VALUES (?1, ?2, ?3, ?3, ?4, ?3)",
            )
            .unwrap();
        let mut access_stmt = conn
            .prepare(
                "INSERT INTO access_log (portal_id, contact_id, at, event, ip, user_agent, path)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            )
            .unwrap();
        let log_start = now - 90 * DAY_MICROS;
        let log_step = (90 * DAY_MICROS / i64::try_from(extras.access_log.max(1)).unwrap()).max(1);
        let (mut log_left, mut log_written) = (extras.access_log, 0usize);
        let mut tenant = rid(TenantId::from_bytes);
        let mut left = tasks;
        for p in 0..portals {
            if p > 0 && p % COMMIT_PORTALS == 0 {
                conn.execute_batch("COMMIT; BEGIN").unwrap();
            }
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
            let contact = rid(ContactId::from_bytes);
            let cid = &contact.as_bytes()[..];
            contact_stmt
                .execute(params![
                    cid,
                    pid,
                    format!("Contact {p}"),
                    format!("contact{p}@client{p}.example"),
                    now
                ])
                .unwrap();
            if extras.sessions {
                let token = SessionToken::generate(&OsRandom);
                session_stmt
                    .execute(params![
                        &token.hash().as_bytes()[..],
                        cid,
                        now,
                        now + SESSION_DAYS * DAY_MICROS,
                    ])
                    .unwrap();
                sessions.push(token);
            }
            let entries = log_left.min(extras.access_log.div_ceil(portals.max(1)));
            log_left -= entries;
            for _ in 0..entries {
                // Rising times: the `(at, id)` index is appended to, not scattered.
                let at = log_start + i64::try_from(log_written).unwrap() * log_step;
                log_written += 1;
                access_stmt
                    .execute(params![
                        pid,
                        cid,
                        at,
                        AccessEvent::PortalRequest.as_str(),
                        format!("203.0.113.{}", p % 250 + 1),
                        "Mozilla/5.0 (Windows NT 10.0; Win64; x64) bench-home",
                        "/"
                    ])
                    .unwrap();
            }
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
    conn.execute_batch("COMMIT").unwrap();
    // Leave the store a small write-ahead log, as a long-running server would have.
    conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))
        .unwrap();
    Bulk { portals, sessions }
}

/// The same background data through the public API, 64 portals at a time (so the
/// store's group commit can batch them). Returns how many portals were added.
pub(crate) async fn seed_bulk_api(service: &PortalService, tasks: usize) -> usize {
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
                let staff = portal_core::testkit::admin(tenants[p / PORTALS_PER_TENANT]);
                let portal = service
                    .create_portal(&staff, &format!("Client {p}"), PortalStatus::Active)
                    .await
                    .unwrap();
                service
                    .add_contact(
                        &staff,
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
                            .add_phase(&staff, portal.id, &format!("Phase {k}"))
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
                            &staff,
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

pub(crate) fn table_counts(path: &Path) -> String {
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

pub(crate) fn file_mib(path: &Path) -> u64 {
    std::fs::metadata(path).map_or(0, |m| m.len() >> 20)
}
