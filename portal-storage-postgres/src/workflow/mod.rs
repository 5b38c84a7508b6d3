//! [`WorkflowStore`] for [`PostgresStore`]: task changes, comments, questions, the
//! activity feed and branding.
//!
//! Every write is one `SERIALIZABLE` unit, so concurrent writes have the effect of
//! running one after the other (a unit PostgreSQL aborts for a conflict runs again,
//! see [`crate::tx`]). `update_task` reads the task, calls the caller's decision and
//! writes its answer in that one unit: two concurrent updates of a task each decide on
//! the other's result (the loser of a conflict decides again on the winner's task). A
//! decision that errs makes the unit return its error, which rolls the unit back
//! (nothing was written yet anyway) and reaches the caller unchanged.
//!
//! Records that share a timestamp are ordered by `seq`: `MAX(seq) + 1` within the
//! parent (task or portal), taken inside the unit. `SERIALIZABLE` makes two units that
//! read the same maximum conflict, so numbers are distinct, gap-free and in commit
//! order; the feed's numbers come from the `activity` counter
//! ([`rows::ActivityRow::insert`]).

pub(crate) mod rows;

use async_trait::async_trait;

use portal_core::model::{Branding, Task};
use portal_core::outbox::OutboxMessage;
use portal_core::store::{Page, PageKey, TaskDecision};
use portal_core::workflow::{ActivityEntry, ClientQuestion, Comment, QuestionAnswer, TaskChange};
use portal_core::{Entity, Error, PortalId, QuestionId, Result, TaskId, TenantId, WorkflowStore};

use crate::PostgresStore;
use crate::codec::{self, DbResult, micros};
use crate::directory::{exists, load_task, portal_exists};
use crate::tx::Tx;
use rows::{ACTIVITY_COLS, ActivityRow, COMMENT_COLS, QUESTION_COLS};

/// Whether a task is in a portal.
fn task_in_portal(tx: &mut Tx<'_>, portal: PortalId, task: TaskId) -> Result<bool> {
    exists(
        tx,
        "SELECT 1 FROM tasks WHERE id = $1 AND portal_id = $2",
        &[&&task.as_bytes()[..], &&portal.as_bytes()[..]],
    )
}

/// Reads a task through its portal and locks its row until the unit ends
/// (`SELECT … FOR UPDATE`, as the contract of `update_task` asks): a concurrent update
/// of the task waits here, before its decision, and then runs again on the result
/// (see [`crate::tx`]). `NotFound(Task)` if it is not in that portal.
fn lock_task(tx: &mut Tx<'_>, portal: PortalId, task: TaskId) -> Result<Task> {
    let row = tx
        .query_opt(
            concat!(
                "SELECT ",
                codec::task_cols!(),
                " FROM tasks t WHERE t.id = $1 AND t.portal_id = $2 FOR UPDATE"
            ),
            &[&&task.as_bytes()[..], &&portal.as_bytes()[..]],
        )
        .db("reading a task")?
        .ok_or(Error::NotFound {
            entity: Entity::Task,
        })?;
    codec::task(&row)
}

/// Reads a question through its portal: `NotFound` if it is not in that portal.
fn load_question(tx: &mut Tx<'_>, portal: PortalId, id: QuestionId) -> Result<ClientQuestion> {
    let row = tx
        .query_opt(
            &format!("SELECT {QUESTION_COLS} FROM questions WHERE id = $1 AND portal_id = $2"),
            &[&&id.as_bytes()[..], &&portal.as_bytes()[..]],
        )
        .db("reading a question")?
        .ok_or(Error::NotFound {
            entity: Entity::Question,
        })?;
    rows::question(&row)
}

/// The next `seq` of a table within a scope, given the query for its maximum + 1.
fn next_seq(
    tx: &mut Tx<'_>,
    sql: &str,
    scope: &[&(dyn postgres::types::ToSql + Sync)],
) -> Result<i64> {
    let row = tx.query_one(sql, scope).db("numbering a record")?;
    codec::get(&row, 0)
}

/// Writes a decided change over `current` as [`TaskChange::apply_to`] makes it and
/// appends its activity entry; returns the task as stored.
fn write_change(tx: &mut Tx<'_>, current: &Task, change: TaskChange) -> Result<Task> {
    let (stored, activity) = change.apply_to(current)?;
    write_task(tx, &stored, &activity)?;
    Ok(stored)
}

/// Writes a task as [`TaskChange::apply_to`] made it and appends its activity entry.
/// Shared with the document store, which applies the change itself so that its
/// refusals come in the reference store's order.
pub(crate) fn write_task(tx: &mut Tx<'_>, stored: &Task, activity: &ActivityEntry) -> Result<()> {
    let kind = codec::to_json(&stored.kind)?;
    let evidence = codec::to_json(&stored.evidence)?;
    tx.execute(
        "UPDATE tasks SET title = $1, description = $2, assignee = $3, kind = $4, status = $5,
            blocked_reason = $6, due_date = $7, evidence = $8, updated_at = $9, version = $12
         WHERE id = $10 AND portal_id = $11",
        &[
            &stored.title,
            &stored.description,
            &stored.assignee.as_str(),
            &kind,
            &stored.status.as_str(),
            &stored.blocked_reason,
            &stored.due_date.map(codec::date_str),
            &evidence,
            &micros(stored.updated_at),
            &&stored.id.as_bytes()[..],
            &&stored.portal_id.as_bytes()[..],
            &codec::int(stored.version),
        ],
    )
    .db("updating a task")?;
    ActivityRow::new(activity)?.insert(tx)
}

/// Pages of a portal's feed, by `(at, seq)` (see [`codec::PageQuery`]).
const ACTIVITY_PAGE: codec::PageQuery = codec::PageQuery {
    first: ACTIVITY_PAGE_FIRST,
    after: ACTIVITY_PAGE_AFTER,
    width: 7,
};
/// The newest page of a portal's feed (see [`crate::codec::newest_page`]).
pub(crate) const ACTIVITY_PAGE_FIRST: &str =
    "SELECT portal_id, at, actor, kind, task_id, subject, detail, seq
     FROM activity WHERE portal_id = $1 ORDER BY at DESC, seq DESC LIMIT $2";
/// A page of a portal's feed after a key (see [`crate::codec::newest_page`]).
pub(crate) const ACTIVITY_PAGE_AFTER: &str =
    "SELECT portal_id, at, actor, kind, task_id, subject, detail, seq
     FROM activity WHERE portal_id = $1 AND (at, seq) < ($2, $3)
     ORDER BY at DESC, seq DESC LIMIT $4";

/// The newest `limit` entries of a portal's feed.
fn read_activity(tx: &mut Tx<'_>, portal: PortalId, limit: usize) -> Result<Vec<ActivityEntry>> {
    let limit = i64::try_from(limit).unwrap_or(i64::MAX);
    tx.query(
        &format!(
            "SELECT {ACTIVITY_COLS} FROM activity WHERE portal_id = $1
             ORDER BY at DESC, seq DESC LIMIT $2"
        ),
        &[&&portal.as_bytes()[..], &limit],
    )
    .db("reading the activity feed")?
    .iter()
    .map(rows::activity)
    .collect()
}

/// Appends a comment (`author` as JSON, `at` in micros) to a task's thread, numbered
/// after the thread's last one inside the unit.
pub(crate) fn insert_comment(
    tx: &mut Tx<'_>,
    portal: PortalId,
    task: TaskId,
    at: i64,
    author: &str,
    body: &str,
) -> Result<()> {
    let (portal, task) = (&portal.as_bytes()[..], &task.as_bytes()[..]);
    let seq = next_seq(
        tx,
        "SELECT COALESCE(MAX(seq) + 1, 0) FROM comments
         WHERE portal_id = $1 AND task_id = $2",
        &[&portal, &task],
    )?;
    tx.execute(
        "INSERT INTO comments (portal_id, task_id, seq, at, author, body)
         VALUES ($1, $2, $3, $4, $5, $6)",
        &[&portal, &task, &seq, &at, &author, &body],
    )
    .db("storing a comment")?;
    Ok(())
}

#[async_trait]
impl WorkflowStore for PostgresStore {
    async fn task(&self, portal: PortalId, task: TaskId) -> Result<Task> {
        self.read(move |tx| load_task(tx, portal, task)).await
    }

    async fn update_task(
        &self,
        portal: PortalId,
        task: TaskId,
        decide: TaskDecision,
    ) -> Result<Task> {
        // The decision taken on the task as last read, kept across runs of the unit:
        // a run that PostgreSQL aborts after the decision (a conflict elsewhere, say
        // on the feed's counter) runs again, and when it reads the same task it writes
        // the same decision instead of calling `decide` a second time (the contract
        // calls it once). A task changed meanwhile is decided afresh.
        let mut decided: Option<(Task, TaskChange)> = None;
        self.write_content(portal, move |tx| {
            let current = lock_task(tx, portal, task)?;
            let change = match &decided {
                Some((seen, change)) if *seen == current => change.clone(),
                _ => {
                    // An error of the decision is returned as it is: the unit fails,
                    // is rolled back, and nothing was written before this point.
                    let change = decide(&current)?;
                    decided = Some((current.clone(), change.clone()));
                    change
                }
            };
            write_change(tx, &current, change)
        })
        .await
    }

    async fn add_comment(
        &self,
        comment: &Comment,
        activity: &ActivityEntry,
        emails: &[OutboxMessage],
    ) -> Result<()> {
        let emails = emails.to_vec();
        // Refused after the lookups, so a wrong portal is `NotFound` first (checked
        // inside the unit: `Error` is not `Clone`, and the unit may run more than once).
        let recorded = activity.clone();
        let entry = ActivityRow::new(activity)?;
        let author = codec::to_json(&comment.author)?;
        let (portal, task) = (comment.portal_id, comment.task_id);
        let (body, at) = (comment.body.clone(), micros(comment.at));
        self.write_content(portal, move |tx| {
            if !task_in_portal(tx, portal, task)? {
                return Err(Error::NotFound {
                    entity: Entity::Task,
                });
            }
            recorded.ensure_portal(portal)?;
            insert_comment(tx, portal, task, at, &author, &body)?;
            crate::outbox::insert(tx, &emails)?;
            entry.insert(tx)
        })
        .await
    }

    async fn comments(&self, portal: PortalId, task: TaskId) -> Result<Vec<Comment>> {
        self.read(move |tx| {
            let comments: Vec<Comment> = tx
                .query(
                    &format!(
                        "SELECT {COMMENT_COLS} FROM comments WHERE portal_id = $1 AND task_id = $2
                         ORDER BY at, seq"
                    ),
                    &[&&portal.as_bytes()[..], &&task.as_bytes()[..]],
                )
                .db("reading a task's comments")?
                .iter()
                .map(rows::comment)
                .collect::<Result<_>>()?;
            // No comments: say whether that is because the task is not in the portal
            // (the same snapshot, so the answer matches the empty list).
            if comments.is_empty() && !task_in_portal(tx, portal, task)? {
                return Err(Error::NotFound {
                    entity: Entity::Task,
                });
            }
            Ok(comments)
        })
        .await
    }

    async fn add_question(
        &self,
        question: &ClientQuestion,
        activity: &ActivityEntry,
        emails: &[OutboxMessage],
    ) -> Result<()> {
        let emails = emails.to_vec();
        let recorded = activity.clone();
        let entry = ActivityRow::new(activity)?;
        let asked_by = codec::to_json(&question.asked_by)?;
        let answer = question.answer.as_ref().map(codec::to_json).transpose()?;
        let to = question.to.as_ref().map(codec::to_json).transpose()?;
        let (id, portal) = (question.id, question.portal_id);
        let (text, asked_at) = (question.text.clone(), micros(question.asked_at));
        self.write_content(portal, move |tx| {
            if !portal_exists(tx, portal)? {
                return Err(Error::NotFound {
                    entity: Entity::Portal,
                });
            }
            if exists(
                tx,
                "SELECT 1 FROM questions WHERE id = $1",
                &[&&id.as_bytes()[..]],
            )? {
                return Err(Error::conflict("a question with this id already exists"));
            }
            recorded.ensure_portal(portal)?;
            let seq = next_seq(
                tx,
                "SELECT COALESCE(MAX(seq) + 1, 0) FROM questions WHERE portal_id = $1",
                &[&&portal.as_bytes()[..]],
            )?;
            tx.execute(
                "INSERT INTO questions
                 (portal_id, seq, id, asked_at, asked_by, text, answer, addressed_to)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
                &[
                    &&portal.as_bytes()[..],
                    &seq,
                    &&id.as_bytes()[..],
                    &asked_at,
                    &asked_by,
                    &text,
                    &answer,
                    &to,
                ],
            )
            .db("storing a question")?;
            crate::outbox::insert(tx, &emails)?;
            entry.insert(tx)
        })
        .await
    }

    async fn answer_question(
        &self,
        portal: PortalId,
        question: QuestionId,
        answer: &QuestionAnswer,
        activity: &ActivityEntry,
        emails: &[OutboxMessage],
    ) -> Result<ClientQuestion> {
        let recorded = activity.clone();
        let entry = ActivityRow::new(activity)?;
        let encoded = codec::to_json(answer)?;
        let answer = answer.clone();
        let emails = emails.to_vec();
        self.write_content(portal, move |tx| {
            let mut q = load_question(tx, portal, question)?;
            if q.answer.is_some() {
                return Err(Error::conflict("this question has already been answered"));
            }
            recorded.ensure_portal(portal)?;
            tx.execute(
                "UPDATE questions SET answer = $1 WHERE id = $2 AND portal_id = $3",
                &[&encoded, &&question.as_bytes()[..], &&portal.as_bytes()[..]],
            )
            .db("answering a question")?;
            entry.insert(tx)?;
            crate::outbox::insert(tx, &emails)?;
            q.answer = Some(answer.clone());
            Ok(q)
        })
        .await
    }

    async fn questions(&self, portal: PortalId) -> Result<Vec<ClientQuestion>> {
        self.read(move |tx| {
            tx.query(
                &format!(
                    "SELECT {QUESTION_COLS} FROM questions WHERE portal_id = $1
                     ORDER BY asked_at DESC, seq DESC"
                ),
                &[&&portal.as_bytes()[..]],
            )
            .db("listing questions")?
            .iter()
            .map(rows::question)
            .collect()
        })
        .await
    }

    /// Read straight from the database: there is no feed cache on PostgreSQL (every
    /// node must see every other node's entries at once).
    async fn activity(&self, portal: PortalId, limit: usize) -> Result<Vec<ActivityEntry>> {
        if limit == 0 {
            return Ok(Vec::new());
        }
        self.read(move |tx| read_activity(tx, portal, limit)).await
    }

    /// Read by key through `activity_page` (`(portal_id, at, seq)`).
    async fn activity_page(
        &self,
        portal: PortalId,
        after: Option<PageKey>,
        limit: usize,
    ) -> Result<Page<ActivityEntry>> {
        self.read(move |tx| {
            codec::newest_page(
                tx,
                &ACTIVITY_PAGE,
                &portal.as_bytes()[..],
                after,
                limit,
                rows::activity,
                |e| e.at,
            )
        })
        .await
    }

    async fn set_tenant_branding(&self, tenant: TenantId, branding: &Branding) -> Result<()> {
        let encoded = codec::to_json(branding)?;
        self.write(move |tx| {
            let changed = tx
                .execute(
                    "UPDATE tenants SET branding = $1, version = version + 1 WHERE id = $2",
                    &[&encoded, &&tenant.as_bytes()[..]],
                )
                .db("updating a tenant's branding")?;
            if changed == 0 {
                return Err(Error::NotFound {
                    entity: Entity::Tenant,
                });
            }
            Ok(())
        })
        .await
    }

    async fn set_portal_branding(&self, portal: PortalId, branding: &Branding) -> Result<()> {
        let encoded = codec::to_json(branding)?;
        self.write_content(portal, move |tx| {
            let changed = tx
                .execute(
                    "UPDATE portals SET branding = $1, version = version + 1 WHERE id = $2",
                    &[&encoded, &&portal.as_bytes()[..]],
                )
                .db("updating a portal's branding")?;
            if changed == 0 {
                return Err(Error::NotFound {
                    entity: Entity::Portal,
                });
            }
            Ok(())
        })
        .await
    }
}
