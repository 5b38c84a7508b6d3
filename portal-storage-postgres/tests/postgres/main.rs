//! The PostgreSQL store's integration tests: the public conformance suite (every
//! check, one test each), the webhook checks, and migrations, against a real
//! PostgreSQL server.
//!
//! The server is given by `PORTAL_TEST_POSTGRES_URL` (a role that may create
//! databases, for example `postgresql://portal@127.0.0.1:55432/postgres`); the tests
//! make fresh databases there, named `portal_test_<random>`. Without
//! the variable the tests say so and pass, unless `PORTAL_REQUIRE_POSTGRES=1` (set by
//! `.ci/run`, which starts a server), where a missing server fails every test.
//! Every test makes a database of its own (`portal_test_<random>`).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::Arc;

use portal_core::Store;
use portal_storage_postgres::PostgresStore;

mod conformance;
mod connections;
mod migrations;
mod nodes;
mod secret_scan;
mod webhooks;

/// The server's address for tests, if one is configured.
fn server_url() -> Option<String> {
    match std::env::var("PORTAL_TEST_POSTGRES_URL") {
        Ok(url) if !url.is_empty() => Some(url),
        _ => {
            assert!(
                std::env::var("PORTAL_REQUIRE_POSTGRES").as_deref() != Ok("1"),
                "PORTAL_REQUIRE_POSTGRES=1 but PORTAL_TEST_POSTGRES_URL is not set"
            );
            eprintln!("skipped: set PORTAL_TEST_POSTGRES_URL to run the PostgreSQL tests");
            None
        }
    }
}

/// `url` with its database replaced by `db`.
fn with_database(url: &str, db: &str) -> String {
    let mut config: postgres::Config = url.parse().unwrap();
    config.dbname(db);
    // postgres::Config has no Display: rebuild the key=value form.
    let mut parts = Vec::new();
    if let Some(user) = config.get_user() {
        parts.push(format!("user={user}"));
    }
    if let Some(pw) = config.get_password() {
        parts.push(format!("password={}", String::from_utf8_lossy(pw)));
    }
    for host in config.get_hosts() {
        if let postgres::config::Host::Tcp(h) = host {
            parts.push(format!("host={h}"));
        }
    }
    if let Some(port) = config.get_ports().first() {
        parts.push(format!("port={port}"));
    }
    parts.push(format!("dbname={db}"));
    parts.join(" ")
}

/// A database made for one test on the configured server: its address (the value
/// derefs to it), dropped with the test's end (`WITH (FORCE)`: the test's pools may
/// still hold connections), so runs leave nothing behind on a developer's server.
struct Database {
    url: String,
    server: String,
    name: String,
}

impl std::ops::Deref for Database {
    type Target = str;
    fn deref(&self) -> &str {
        &self.url
    }
}

impl Drop for Database {
    fn drop(&mut self) {
        let (server, name) = (self.server.clone(), self.name.clone());
        // The blocking client cannot run on a Tokio worker: a thread of its own.
        let _ = std::thread::spawn(move || {
            if let Ok(mut client) = postgres::Client::connect(&server, postgres::NoTls) {
                let _ =
                    client.batch_execute(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"));
            }
        })
        .join();
    }
}

/// Creates a new empty database on the server.
async fn new_database() -> Database {
    let url = server_url().unwrap();
    let name = format!("portal_test_{:016x}", rand_u64());
    let admin = url.clone();
    let create = name.clone();
    tokio::task::spawn_blocking(move || {
        let mut client = postgres::Client::connect(&admin, postgres::NoTls).unwrap();
        client
            .batch_execute(&format!("CREATE DATABASE {create}"))
            .unwrap();
    })
    .await
    .unwrap();
    Database {
        url: with_database(&url, &name),
        server: url,
        name,
    }
}

fn rand_u64() -> u64 {
    use std::hash::{BuildHasher, RandomState};
    RandomState::new().hash_one(std::time::SystemTime::now())
}

/// A store on a new database of its own, or `None` when no server is configured.
/// Some checks assume no other check claims or prunes the same store at the same
/// time (the outbox's, the webhooks'), so each test gets its own database, as each
/// gets its own file on SQLite.
async fn store() -> Option<(Database, Arc<PostgresStore>)> {
    server_url()?;
    let db = new_database().await;
    let store = Arc::new(PostgresStore::connect(&db).await.unwrap());
    Some((db, store))
}

/// The suite's constructor: a store on this run's database, or `None` (the test
/// passes at once) when no server is configured.
async fn fresh_store() -> Option<(Database, Arc<dyn Store>)> {
    let (db, store) = store().await?;
    let store: Arc<dyn Store> = store;
    Some((db, store))
}

/// A phase "Documents" with a document upload task asking for one network diagram
/// (`diagram`), added through `h` as `staff`.
async fn document_task(
    h: &portal_core::testkit::TestService,
    staff: &portal_core::StaffContext,
    portal: portal_core::PortalId,
) -> portal_core::model::Task {
    use portal_core::model::{RequestedDocument, Side, TaskKind};
    let phase = h
        .service
        .add_phase(staff, portal, "Documents")
        .await
        .unwrap();
    h.service
        .add_task(
            staff,
            portal,
            phase.id,
            portal_core::TaskSpec {
                title: "Network documentation".into(),
                description: "Please upload it.".into(),
                assignee: Side::Client,
                kind: TaskKind::DocumentUpload {
                    documents: vec![RequestedDocument::new("diagram", "Network diagram")],
                },
                due_date: None,
            },
        )
        .await
        .unwrap()
}
