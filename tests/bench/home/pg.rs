//! The PostgreSQL target's background data: the rows `seed_bulk_sql` wrote into the
//! SQLite file, copied into the PostgreSQL database with `COPY ... FROM STDIN`.
//!
//! Seeding a million tasks through the API would take far longer than the run itself,
//! and generating them a second time would need a second generator to keep in step with
//! `seed_bulk_sql`. The two schemas have the same tables and columns (BLOB → BYTEA,
//! INTEGER → BIGINT), so the rows are read from SQLite and streamed to PostgreSQL in
//! COPY's text format, one COPY per table, all in one transaction.

use std::fmt::Write as _;
use std::io::Write as _;
use std::path::Path;

use portal_core::TenantId;
use rusqlite::Connection;
use rusqlite::types::ValueRef;

/// The copied tables, parents first (the foreign keys are checked row by row), each
/// with the SQLite condition selecting the background rows: everything but the
/// benchmarked tenant (`?1`), which the PostgreSQL target seeded through its own API.
const TABLES: [(&str, &str); 5] = [
    ("tenants", "id <> ?1"),
    ("portals", "tenant_id <> ?1"),
    (
        "contacts",
        "portal_id IN (SELECT id FROM portals WHERE tenant_id <> ?1)",
    ),
    (
        "phases",
        "portal_id IN (SELECT id FROM portals WHERE tenant_id <> ?1)",
    ),
    (
        "tasks",
        "portal_id IN (SELECT id FROM portals WHERE tenant_id <> ?1)",
    ),
];

/// What [`copy_background`] did.
pub(crate) struct Copied {
    /// Rows copied per table.
    pub(crate) rows: Vec<(&'static str, u64)>,
    /// `pg_database_size` after the copy and `ANALYZE`, in bytes.
    pub(crate) database_bytes: i64,
}

/// Copies the background rows of the SQLite database at `sqlite` (every tenant but
/// `bench_tenant`, and what hangs under them) into the PostgreSQL database at `url`,
/// then runs `ANALYZE` on the copied tables so the planner knows their size, as it
/// would on a server that had grown to it. Blocking: call it from `spawn_blocking`.
pub(crate) fn copy_background(sqlite: &Path, url: &str, bench_tenant: TenantId) -> Copied {
    let source = Connection::open(sqlite).unwrap();
    let mut client = postgres::Client::connect(url, postgres::NoTls).unwrap();
    // Nothing here needs to survive a crash of the server: skip the wait for the WAL flush.
    client
        .batch_execute("SET synchronous_commit = off")
        .unwrap();
    let bench = &bench_tenant.as_bytes()[..];
    let mut tx = client.transaction().unwrap();
    let mut rows = Vec::new();
    for (table, condition) in TABLES {
        // The columns both schemas have, minus PostgreSQL's own identity columns
        // (`rowid`), which number the copied rows after the seeded ones.
        let target: Vec<String> = tx
            .query(
                "SELECT column_name::text FROM information_schema.columns
                  WHERE table_schema = current_schema() AND table_name = $1
                    AND is_identity = 'NO'
                  ORDER BY ordinal_position",
                &[&table],
            )
            .unwrap()
            .iter()
            .map(|r| r.get(0))
            .collect();
        let present: Vec<String> = source
            .prepare(&format!("SELECT name FROM pragma_table_info('{table}')"))
            .unwrap()
            .query_map([], |r| r.get(0))
            .unwrap()
            .collect::<rusqlite::Result<_>>()
            .unwrap();
        let columns: Vec<String> = target
            .into_iter()
            .filter(|c| present.contains(c))
            .map(|c| format!("\"{c}\""))
            .collect();
        assert!(!columns.is_empty(), "no common columns in {table}");
        let list = columns.join(", ");
        let mut select = source
            .prepare(&format!("SELECT {list} FROM {table} WHERE {condition}"))
            .unwrap();
        let mut found = select.query([bench]).unwrap();
        let mut writer = tx
            .copy_in(&format!("COPY {table} ({list}) FROM STDIN"))
            .unwrap();
        let mut line = String::new();
        let mut n = 0u64;
        while let Some(row) = found.next().unwrap() {
            line.clear();
            for i in 0..columns.len() {
                if i > 0 {
                    line.push('\t');
                }
                copy_field(&mut line, row.get_ref(i).unwrap());
            }
            line.push('\n');
            writer.write_all(line.as_bytes()).unwrap();
            n += 1;
        }
        writer.finish().unwrap();
        rows.push((table, n));
    }
    tx.commit().unwrap();
    let tables = TABLES.map(|(t, _)| t).join(", ");
    client.batch_execute(&format!("ANALYZE {tables}")).unwrap();
    let database_bytes = client
        .query_one("SELECT pg_database_size(current_database())", &[])
        .unwrap()
        .get(0);
    Copied {
        rows,
        database_bytes,
    }
}

/// Appends one value in COPY's text format: `\N` for NULL, backslash escapes in text,
/// BLOBs as `\x` hex (with its backslash escaped, since COPY unescapes first).
fn copy_field(out: &mut String, value: ValueRef<'_>) {
    match value {
        ValueRef::Null => out.push_str("\\N"),
        ValueRef::Integer(i) => write!(out, "{i}").unwrap(),
        ValueRef::Real(f) => write!(out, "{f}").unwrap(),
        ValueRef::Text(t) => {
            for c in String::from_utf8_lossy(t).chars() {
                match c {
                    '\\' => out.push_str("\\\\"),
                    '\n' => out.push_str("\\n"),
                    '\r' => out.push_str("\\r"),
                    '\t' => out.push_str("\\t"),
                    c => out.push(c),
                }
            }
        }
        ValueRef::Blob(b) => {
            out.push_str("\\\\x");
            for byte in b {
                write!(out, "{byte:02x}").unwrap();
            }
        }
    }
}

/// Row counts of the tables `table_counts` reports for SQLite, on PostgreSQL.
pub(crate) fn table_counts(url: &str) -> String {
    let mut client = postgres::Client::connect(url, postgres::NoTls).unwrap();
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
        let n: i64 = client
            .query_one(&format!("SELECT COUNT(*) FROM {t}"), &[])
            .unwrap()
            .get(0);
        format!("{n} {t}")
    })
    .collect::<Vec<_>>()
    .join(", ")
}

/// Drops the database `name` on the server at `server` (`WITH (FORCE)`: the store's
/// pool may still hold idle connections while it closes).
pub(crate) fn drop_database(server: &str, name: &str) {
    let mut client = postgres::Client::connect(server, postgres::NoTls).unwrap();
    client
        .batch_execute(&format!("DROP DATABASE {name} WITH (FORCE)"))
        .unwrap();
}
