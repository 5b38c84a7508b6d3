//! [`PlanStore`] and [`TemplateStore`] for [`PostgresStore`]: a portal's plan read in
//! one transaction and changed in one unit; templates as one JSON value per row
//! (`plan_templates`), replaced by compare-and-set on their version.
//!
//! `change_plan` reads the plan inside its `SERIALIZABLE` unit, calls the decision, asks
//! [`PlanChange::diff`] what to write, and writes it in the same unit: PostgreSQL aborts
//! (and [`crate::tx`] re-runs) a unit that raced another on the same rows, which is the
//! per-portal lock the contract asks for. Positions are part of the tables' keys, and
//! PostgreSQL checks a key per row (the keys are not deferrable), so rows that move are
//! first parked at negative positions (distinct, never used by a settled row) and then
//! set to their final places: no intermediate state collides on a key.

use async_trait::async_trait;

use portal_core::ids::BlobId;
use portal_core::model::{Phase, Portal, Task};
use portal_core::store::{Page, PageKey, PlanDecision, PlanStore, TemplateStore, check_new_plan};
use portal_core::workflow::ActivityEntry;
use portal_core::workflow::plan::{Plan, PlanChange, PlanWrite};
use portal_core::workflow::template::PlanTemplate;
use portal_core::{Entity, Error, PortalId, Result, TemplateId, TenantId};

use crate::PostgresStore;
use crate::codec::{self, DbResult, micros};
use crate::directory::{exists, insert_task, load_contacts, load_snapshot};
use crate::tx::Tx;
use crate::workflow::rows::ActivityRow;

/// The plan of a portal, read in `tx`.
fn load_plan(tx: &mut Tx<'_>, portal: PortalId) -> Result<Plan> {
    let snap = load_snapshot(tx, portal)?;
    Ok(Plan {
        portal: snap.portal,
        phases: snap.phases,
        tasks: snap.tasks,
        contacts: load_contacts(tx, portal)?,
    })
}

fn version(v: u64) -> Result<i64> {
    i64::try_from(v).map_err(|_| Error::storage_msg("version out of range"))
}

/// A parking position for the `i`th moving row: negative, so never a settled one.
fn parked(i: usize) -> i64 {
    -1 - i64::try_from(i).unwrap_or(i64::MAX - 1)
}

fn write_phase(tx: &mut Tx<'_>, phase: &Phase, position: i64) -> Result<()> {
    let phase_version = version(phase.version)?;
    tx.execute(
        "UPDATE phases SET position = $1, name = $2, version = $3 WHERE id = $4 AND portal_id = $5",
        &[
            &position,
            &phase.name,
            &phase_version,
            &&phase.id.as_bytes()[..],
            &&phase.portal_id.as_bytes()[..],
        ],
    )
    .db("updating a phase")?;
    Ok(())
}

fn write_task(tx: &mut Tx<'_>, t: &Task, position: i64) -> Result<()> {
    let kind = codec::to_json(&t.kind)?;
    let evidence = codec::to_json(&t.evidence)?;
    let assigned_to = codec::to_json(&t.assigned_to)?;
    let waits_on = codec::to_json(&t.waits_on)?;
    let task_version = version(t.version)?;
    tx.execute(
        "UPDATE tasks SET phase_id = $1, position = $2, title = $3, description = $4,
            assignee = $5, kind = $6, status = $7, blocked_reason = $8, due_date = $9,
            updated_at = $10, evidence = $11, version = $12, assigned_to = $13,
            waits_on = $14, internal = $15, for_role = $18
         WHERE id = $16 AND portal_id = $17",
        &[
            &&t.phase_id.as_bytes()[..],
            &position,
            &t.title,
            &t.description,
            &t.assignee.as_str(),
            &kind,
            &t.status.as_str(),
            &t.blocked_reason,
            &t.due_date.map(codec::date_str),
            &micros(t.updated_at),
            &evidence,
            &task_version,
            &assigned_to,
            &waits_on,
            &i64::from(t.internal),
            &&t.id.as_bytes()[..],
            &&t.portal_id.as_bytes()[..],
            &t.for_role,
        ],
    )
    .db("updating a task")?;
    Ok(())
}

/// Writes what [`PlanChange::diff`] answered, in an order no key or foreign key
/// objects to.
/// Deletes a deleted task's sealed records (dropped files, signature, signature
/// document, credentials with their fields) and answers their blobs that still hold
/// content: dropped files not yet removed, the drawn image, the document.
fn erase_task_records(tx: &mut Tx<'_>, p: &[u8], t: &[u8]) -> Result<Vec<BlobId>> {
    let mut blobs = Vec::new();
    for sql in [
        "SELECT blob_id FROM dropped_files
         WHERE portal_id = $1 AND task_id = $2 AND bytes_removed = 0",
        "SELECT image_blob FROM signatures
         WHERE portal_id = $1 AND task_id = $2 AND image_blob IS NOT NULL",
        "SELECT blob_id FROM signature_documents WHERE portal_id = $1 AND task_id = $2",
        "SELECT blob_id FROM task_attachments WHERE portal_id = $1 AND task_id = $2",
    ] {
        let rows = tx
            .query(sql, &[&p, &t])
            .db("reading a deleted task's blobs")?;
        for row in &rows {
            blobs.push(BlobId::from_bytes(codec::bytes_n::<16>(row, 0)?));
        }
    }
    for sql in [
        "DELETE FROM dropped_files WHERE portal_id = $1 AND task_id = $2",
        "DELETE FROM signatures WHERE portal_id = $1 AND task_id = $2",
        "DELETE FROM signature_documents WHERE portal_id = $1 AND task_id = $2",
        "DELETE FROM credential_fields WHERE portal_id = $1 AND task_id = $2",
        "DELETE FROM credentials WHERE portal_id = $1 AND task_id = $2",
        "DELETE FROM task_attachments WHERE portal_id = $1 AND task_id = $2",
        "DELETE FROM document_opens WHERE portal_id = $1 AND task_id = $2",
    ] {
        tx.execute(sql, &[&p, &t])
            .db("erasing a deleted task's records")?;
    }
    Ok(blobs)
}

fn write_plan(tx: &mut Tx<'_>, portal: PortalId, write: &PlanWrite) -> Result<Vec<BlobId>> {
    let p = &portal.as_bytes()[..];
    let mut erased = Vec::new();
    for id in &write.deleted_tasks {
        let t = &id.as_bytes()[..];
        erased.extend(erase_task_records(tx, p, t)?);
        tx.execute(
            "DELETE FROM comments WHERE portal_id = $1 AND task_id = $2",
            &[&p, &t],
        )
        .db("deleting a task's comments")?;
        tx.execute(
            "DELETE FROM tasks WHERE portal_id = $1 AND id = $2",
            &[&p, &t],
        )
        .db("deleting a task")?;
    }
    // Phases: park the changed ones, insert the new ones parked, then settle all.
    let mut n = 0;
    for phase in &write.changed_phases {
        write_phase(tx, phase, parked(n))?;
        n += 1;
    }
    for phase in &write.new_phases {
        let phase_version = version(phase.version)?;
        tx.execute(
            "INSERT INTO phases (portal_id, position, id, name, version) VALUES ($1, $2, $3, $4, $5)",
            &[
                &p,
                &parked(n),
                &&phase.id.as_bytes()[..],
                &phase.name,
                &phase_version,
            ],
        )
        .db("storing a phase")?;
        n += 1;
    }
    // Tasks that stay: parked in their new phase (which exists now).
    for (i, task) in write.changed_tasks.iter().enumerate() {
        write_task(tx, task, parked(i))?;
    }
    // No task is in a deleted phase any more.
    for id in &write.deleted_phases {
        tx.execute(
            "DELETE FROM phases WHERE portal_id = $1 AND id = $2",
            &[&p, &&id.as_bytes()[..]],
        )
        .db("deleting a phase")?;
    }
    for phase in write.changed_phases.iter().chain(&write.new_phases) {
        write_phase(tx, phase, i64::from(phase.position))?;
    }
    for task in &write.changed_tasks {
        write_task(tx, task, i64::from(task.position))?;
    }
    for task in &write.new_tasks {
        insert_task(tx, task)?;
    }
    Ok(erased)
}

#[async_trait]
impl PlanStore for PostgresStore {
    async fn plan(&self, portal: PortalId) -> Result<Plan> {
        // One REPEATABLE READ unit: every table seen at the same commit.
        self.read(move |tx| load_plan(tx, portal)).await
    }

    async fn change_plan(&self, portal: PortalId, decide: PlanDecision) -> Result<PlanChange> {
        self.write_content(portal, move |tx| {
            let before = load_plan(tx, portal)?;
            let change = decide(&before)?;
            let write = change.diff(&before)?;
            let entries = change
                .activity
                .iter()
                .map(ActivityRow::new)
                .collect::<Result<Vec<_>>>()?;
            let comments = change
                .comments
                .iter()
                .map(|c| Ok((c, codec::to_json(&c.author)?)))
                .collect::<Result<Vec<_>>>()?;
            let erased_blobs = write_plan(tx, portal, &write)?;
            for (c, author) in comments {
                crate::workflow::insert_comment(
                    tx,
                    c.portal_id,
                    c.task_id,
                    micros(c.at),
                    &author,
                    &c.body,
                )?;
            }
            crate::outbox::insert(tx, &change.emails)?;
            for entry in entries {
                entry.insert(tx)?;
            }
            Ok(PlanChange {
                erased_blobs,
                ..change
            })
        })
        .await
    }
}

/// Columns read by [`template_row`].
const TEMPLATE_COLS: &str = "id, tenant_id, name, version, plan, created_at, updated_at";

/// A tenant's templates oldest first, by key (see [`codec::PageQuery`]).
pub(crate) const TEMPLATE_PAGE: codec::PageQuery = codec::PageQuery {
    first: "SELECT id, tenant_id, name, version, plan, created_at, updated_at, seq
            FROM plan_templates WHERE tenant_id = $1 ORDER BY created_at, seq LIMIT $2",
    after: "SELECT id, tenant_id, name, version, plan, created_at, updated_at, seq
            FROM plan_templates WHERE tenant_id = $1 AND (created_at, seq) > ($2, $3)
            ORDER BY created_at, seq LIMIT $4",
    width: 7,
};

/// A template from [`TEMPLATE_COLS`]; `plan` is the JSON of its phases.
fn template_row(row: &postgres::Row) -> Result<PlanTemplate> {
    Ok(PlanTemplate {
        id: codec::template_id(row, 0)?,
        tenant_id: codec::tenant_id(row, 1)?,
        name: codec::get(row, 2)?,
        version: codec::stored_version(row, 3)?,
        phases: codec::json(row, 4)?,
        created_at: codec::time(row, 5)?,
        updated_at: codec::time(row, 6)?,
    })
}

#[async_trait]
impl TemplateStore for PostgresStore {
    async fn create_template(&self, template: &PlanTemplate) -> Result<()> {
        let t = template.clone();
        let phases = codec::to_json(&t.phases)?;
        let v = version(t.version)?;
        self.write(move |tx| {
            if exists(
                tx,
                "SELECT 1 FROM plan_templates WHERE id = $1",
                &[&&t.id.as_bytes()[..]],
            )? {
                return Err(Error::conflict("a template with this id already exists"));
            }
            if !exists(
                tx,
                "SELECT 1 FROM tenants WHERE id = $1",
                &[&&t.tenant_id.as_bytes()[..]],
            )? {
                return Err(Error::NotFound {
                    entity: Entity::Tenant,
                });
            }
            // The tenant's next number, read inside the SERIALIZABLE unit: two units
            // numbering at once conflict and one runs again.
            tx.execute(
                "INSERT INTO plan_templates (id, tenant_id, name, version, plan, created_at, updated_at, seq)
                 VALUES ($1, $2, $3, $4, $5, $6, $7,
                         (SELECT COALESCE(MAX(seq), 0) + 1 FROM plan_templates WHERE tenant_id = $2))",
                &[
                    &&t.id.as_bytes()[..],
                    &&t.tenant_id.as_bytes()[..],
                    &t.name,
                    &v,
                    &phases,
                    &micros(t.created_at),
                    &micros(t.updated_at),
                ],
            )
            .db("storing a template")?;
            Ok(())
        })
        .await
    }

    async fn replace_template(&self, template: &PlanTemplate, expected: u64) -> Result<()> {
        let t = template.clone();
        let phases = codec::to_json(&t.phases)?;
        let (v, expected) = (version(t.version)?, version(expected)?);
        self.write(move |tx| {
            // Compare-and-set in one statement; if nothing changed, say why.
            let changed = tx
                .execute(
                    "UPDATE plan_templates SET name = $1, version = $2, plan = $3, updated_at = $4
                     WHERE id = $5 AND tenant_id = $6 AND version = $7",
                    &[
                        &t.name,
                        &v,
                        &phases,
                        &micros(t.updated_at),
                        &&t.id.as_bytes()[..],
                        &&t.tenant_id.as_bytes()[..],
                        &expected,
                    ],
                )
                .db("replacing a template")?;
            if changed == 1 {
                return Ok(());
            }
            if exists(
                tx,
                "SELECT 1 FROM plan_templates WHERE id = $1 AND tenant_id = $2",
                &[&&t.id.as_bytes()[..], &&t.tenant_id.as_bytes()[..]],
            )? {
                Err(Error::stale(
                    "this template was changed by someone else since you opened it",
                ))
            } else {
                Err(Error::NotFound {
                    entity: Entity::Template,
                })
            }
        })
        .await
    }

    async fn template(&self, tenant: TenantId, id: TemplateId) -> Result<PlanTemplate> {
        self.read(move |tx| {
            let row = tx
                .query_opt(
                    &format!(
                        "SELECT {TEMPLATE_COLS} FROM plan_templates WHERE id = $1 AND tenant_id = $2"
                    ),
                    &[&&id.as_bytes()[..], &&tenant.as_bytes()[..]],
                )
                .db("reading a template")?
                .ok_or(Error::NotFound {
                    entity: Entity::Template,
                })?;
            template_row(&row)
        })
        .await
    }

    async fn templates(&self, tenant: TenantId) -> Result<Vec<PlanTemplate>> {
        self.read(move |tx| {
            tx.query(
                &format!(
                    "SELECT {TEMPLATE_COLS} FROM plan_templates WHERE tenant_id = $1 ORDER BY name, id"
                ),
                &[&&tenant.as_bytes()[..]],
            )
            .db("listing templates")?
            .iter()
            .map(template_row)
            .collect()
        })
        .await
    }

    async fn templates_page(
        &self,
        tenant: TenantId,
        after: Option<PageKey>,
        limit: usize,
    ) -> Result<Page<PlanTemplate>> {
        self.read(move |tx| {
            codec::newest_page(
                tx,
                &TEMPLATE_PAGE,
                &tenant.as_bytes()[..],
                after,
                limit,
                template_row,
                |t| t.created_at,
            )
        })
        .await
    }

    async fn create_portal_with_plan(
        &self,
        portal: &Portal,
        phases: &[Phase],
        tasks: &[Task],
        activity: &[ActivityEntry],
    ) -> Result<()> {
        let branding = codec::to_json(&portal.branding)?;
        let entries = activity
            .iter()
            .map(ActivityRow::new)
            .collect::<Result<Vec<_>>>()?;
        let (p, phases, tasks, activity) = (
            portal.clone(),
            phases.to_vec(),
            tasks.to_vec(),
            activity.to_vec(),
        );
        self.write_content(portal.id, move |tx| {
            if exists(
                tx,
                "SELECT 1 FROM portals WHERE id = $1",
                &[&&p.id.as_bytes()[..]],
            )? {
                return Err(Error::conflict("a portal with this id already exists"));
            }
            if !exists(
                tx,
                "SELECT 1 FROM tenants WHERE id = $1",
                &[&&p.tenant_id.as_bytes()[..]],
            )? {
                return Err(Error::NotFound {
                    entity: Entity::Tenant,
                });
            }
            // Checked here, after the existence checks, as on SQLite (the unit may run
            // several times, and the check's error is not `Clone`).
            check_new_plan(&p, &phases, &tasks, &activity)?;
            crate::directory::insert_portal(tx, &p, &branding)?;
            let write = PlanWrite {
                new_phases: phases.clone(),
                new_tasks: tasks.clone(),
                ..PlanWrite::default()
            };
            write_plan(tx, p.id, &write)?;
            for entry in &entries {
                entry.insert(tx)?;
            }
            Ok(())
        })
        .await
    }
}
