//! [`PlanStore`] for [`SqliteStore`]: a portal's plan read in one transaction, and
//! changed in one write job.
//!
//! `change_plan` reads the plan on the writer connection, calls the decision, asks
//! [`PlanChange::diff`] what to write, and writes it in the same job: the single
//! writer serialises it with every other write, which is the per-portal lock the
//! contract asks for. Positions are part of the tables' keys, so rows that move are
//! first parked at negative positions (distinct, never used by a settled row) and
//! then set to their final places: no intermediate state collides on a key.

use async_trait::async_trait;
use rusqlite::{Connection, params};

use portal_core::model::{Phase, Task};
use portal_core::store::{PlanDecision, PlanStore};
use portal_core::workflow::plan::{Plan, PlanChange, PlanWrite};
use portal_core::{PortalId, Result};

use crate::SqliteStore;
use crate::codec::{self, DbResult, micros};
use crate::directory::{insert_task, load_contacts, load_snapshot};
use crate::workflow::rows::ActivityRow;

/// The plan of a portal, read on `conn`.
fn load_plan(conn: &Connection, portal: PortalId) -> Result<Plan> {
    let snap = load_snapshot(conn, portal)?;
    Ok(Plan {
        portal: snap.portal,
        phases: snap.phases,
        tasks: snap.tasks,
        contacts: load_contacts(conn, portal)?,
    })
}

fn version(v: u64) -> Result<i64> {
    i64::try_from(v).map_err(|_| portal_core::Error::storage_msg("version out of range"))
}

/// A parking position for the `i`th moving row: negative, so never a settled one.
fn parked(i: usize) -> i64 {
    -1 - i64::try_from(i).unwrap_or(i64::MAX - 1)
}

fn write_phase(conn: &Connection, phase: &Phase, position: i64) -> Result<()> {
    let phase_version = version(phase.version)?;
    conn.prepare_cached(
        "UPDATE phases SET position = ?1, name = ?2, version = ?3 WHERE id = ?4 AND portal_id = ?5",
    )
    .and_then(|mut s| {
        s.execute(params![
            position,
            phase.name,
            phase_version,
            &phase.id.as_bytes()[..],
            &phase.portal_id.as_bytes()[..]
        ])
    })
    .db("updating a phase")?;
    Ok(())
}

fn write_task(conn: &Connection, t: &Task, position: i64) -> Result<()> {
    let kind = codec::to_json(&t.kind)?;
    let evidence = codec::to_json(&t.evidence)?;
    let assigned_to = codec::to_json(&t.assigned_to)?;
    let waits_on = codec::to_json(&t.waits_on)?;
    let task_version = version(t.version)?;
    conn.prepare_cached(
        "UPDATE tasks SET phase_id = ?1, position = ?2, title = ?3, description = ?4,
            assignee = ?5, kind = ?6, status = ?7, blocked_reason = ?8, due_date = ?9,
            updated_at = ?10, evidence = ?11, version = ?12, assigned_to = ?13,
            waits_on = ?14, internal = ?15
         WHERE id = ?16 AND portal_id = ?17",
    )
    .and_then(|mut s| {
        s.execute(params![
            &t.phase_id.as_bytes()[..],
            position,
            t.title,
            t.description,
            t.assignee.as_str(),
            kind,
            t.status.as_str(),
            t.blocked_reason,
            t.due_date.map(codec::date_str),
            micros(t.updated_at),
            evidence,
            task_version,
            assigned_to,
            waits_on,
            t.internal,
            &t.id.as_bytes()[..],
            &t.portal_id.as_bytes()[..]
        ])
    })
    .db("updating a task")?;
    Ok(())
}

/// Writes what [`PlanChange::diff`] answered, in an order no key or foreign key
/// objects to.
fn write_plan(conn: &Connection, portal: PortalId, write: &PlanWrite) -> Result<()> {
    let p = &portal.as_bytes()[..];
    for id in &write.deleted_tasks {
        let t = &id.as_bytes()[..];
        conn.prepare_cached("DELETE FROM comments WHERE portal_id = ?1 AND task_id = ?2")
            .and_then(|mut s| s.execute(params![p, t]))
            .db("deleting a task's comments")?;
        conn.prepare_cached("DELETE FROM tasks WHERE portal_id = ?1 AND id = ?2")
            .and_then(|mut s| s.execute(params![p, t]))
            .db("deleting a task")?;
    }
    // Phases: park the changed ones, insert the new ones parked, then settle all.
    let mut n = 0;
    for phase in &write.changed_phases {
        write_phase(conn, phase, parked(n))?;
        n += 1;
    }
    for phase in &write.new_phases {
        let phase_version = version(phase.version)?;
        conn.prepare_cached(
            "INSERT INTO phases (portal_id, position, id, name, version) VALUES (?1, ?2, ?3, ?4, ?5)",
        )
        .and_then(|mut s| {
            s.execute(params![
                p,
                parked(n),
                &phase.id.as_bytes()[..],
                phase.name,
                phase_version
            ])
        })
        .db("storing a phase")?;
        n += 1;
    }
    // Tasks that stay: parked in their new phase (which exists now).
    for (i, task) in write.changed_tasks.iter().enumerate() {
        write_task(conn, task, parked(i))?;
    }
    // No task is in a deleted phase any more.
    for id in &write.deleted_phases {
        conn.prepare_cached("DELETE FROM phases WHERE portal_id = ?1 AND id = ?2")
            .and_then(|mut s| s.execute(params![p, &id.as_bytes()[..]]))
            .db("deleting a phase")?;
    }
    for phase in write.changed_phases.iter().chain(&write.new_phases) {
        write_phase(conn, phase, i64::from(phase.position))?;
    }
    for task in &write.changed_tasks {
        write_task(conn, task, i64::from(task.position))?;
    }
    for task in &write.new_tasks {
        insert_task(conn, task)?;
    }
    Ok(())
}

#[async_trait]
impl PlanStore for SqliteStore {
    async fn plan(&self, portal: PortalId) -> Result<Plan> {
        self.read(move |conn| {
            let tx = conn.transaction().db("starting a plan read")?;
            let plan = load_plan(&tx, portal)?;
            tx.finish().db("ending a plan read")?;
            Ok(plan)
        })
        .await
    }

    async fn change_plan(&self, portal: PortalId, decide: PlanDecision) -> Result<PlanChange> {
        self.write_content(portal, move |conn| {
            let before = load_plan(conn, portal)?;
            let change = decide(&before)?;
            let write = change.diff(&before)?;
            let entries = change
                .activity
                .iter()
                .map(ActivityRow::new)
                .collect::<Result<Vec<_>>>()?;
            write_plan(conn, portal, &write)?;
            crate::outbox::insert(conn, &change.emails)?;
            for entry in entries {
                entry.insert(conn)?;
            }
            Ok(change)
        })
        .await
    }
}
