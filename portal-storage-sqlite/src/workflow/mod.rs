//! [`WorkflowStore`] for [`SqliteStore`]: task changes, comments, questions, the
//! activity feed and branding.
//!
//! Every write is one job on the writer thread, so it is one transaction (a savepoint
//! of a group commit) and concurrent writes are serialised. `update_task` reads the
//! task, calls the caller's decision and writes its answer in that one job: two
//! concurrent updates of a task each decide on the other's result. A decision that
//! errs makes the job return its error, which rolls back the job's savepoint (nothing
//! was written yet anyway) and reaches the caller unchanged.
//!
//! Records that share a timestamp are ordered by `seq`: `MAX(seq) + 1` within the
//! parent (task or portal), taken inside the write job. The single writer is the lock
//! the contract asks for, so numbers are distinct, gap-free and in commit order.

pub(crate) mod rows;

use std::sync::Arc;

use async_trait::async_trait;
use rusqlite::{Connection, OptionalExtension, params};

use portal_core::model::{Branding, Task};
use portal_core::outbox::OutboxMessage;
use portal_core::store::{Page, PageKey, TaskDecision};
use portal_core::workflow::{ActivityEntry, ClientQuestion, Comment, QuestionAnswer, TaskChange};
use portal_core::{Entity, Error, PortalId, QuestionId, Result, TaskId, TenantId, WorkflowStore};

use crate::SqliteStore;
use crate::codec::{self, DbResult, micros};
use crate::directory::{exists, load_task, portal_exists};
use rows::{ACTIVITY_COLS, ActivityRow, COMMENT_COLS, QUESTION_COLS};

/// Whether a task is in a portal.
fn task_in_portal(conn: &Connection, portal: PortalId, task: TaskId) -> Result<bool> {
    exists(
        conn,
        "SELECT 1 FROM tasks WHERE id = ?1 AND portal_id = ?2",
        params![&task.as_bytes()[..], &portal.as_bytes()[..]],
    )
}

/// Reads a question through its portal: `NotFound` if it is not in that portal.
fn load_question(conn: &Connection, portal: PortalId, id: QuestionId) -> Result<ClientQuestion> {
    conn.prepare_cached(&format!(
        "SELECT {QUESTION_COLS} FROM questions WHERE id = ?1 AND portal_id = ?2"
    ))
    .and_then(|mut s| {
        s.query_row(
            params![&id.as_bytes()[..], &portal.as_bytes()[..]],
            rows::question,
        )
        .optional()
    })
    .db("reading a question")?
    .ok_or(Error::NotFound {
        entity: Entity::Question,
    })
}

/// The next `seq` of a table within a scope, given the query for its maximum + 1.
fn next_seq(conn: &Connection, sql: &str, scope: impl rusqlite::Params) -> Result<i64> {
    conn.prepare_cached(sql)
        .and_then(|mut s| s.query_row(scope, |r| r.get(0)))
        .db("numbering a record")
}

/// Writes a decided change over `current` as [`TaskChange::apply_to`] makes it and
/// appends its activity entry; returns the task as stored.
fn write_change(conn: &Connection, current: &Task, change: TaskChange) -> Result<Task> {
    let (stored, activity) = change.apply_to(current)?;
    write_task(conn, &stored, &activity)?;
    Ok(stored)
}

/// Writes a task as [`TaskChange::apply_to`] made it and appends its activity entry.
/// Shared with the document store, which applies the change itself so that its
/// refusals come in the reference store's order.
pub(crate) fn write_task(conn: &Connection, stored: &Task, activity: &ActivityEntry) -> Result<()> {
    let kind = codec::to_json(&stored.kind)?;
    let evidence = codec::to_json(&stored.evidence)?;
    conn.prepare_cached(
        "UPDATE tasks SET title = ?1, description = ?2, assignee = ?3, kind = ?4, status = ?5,
            blocked_reason = ?6, due_date = ?7, evidence = ?8, updated_at = ?9, version = ?12
         WHERE id = ?10 AND portal_id = ?11",
    )
    .and_then(|mut s| {
        s.execute(params![
            stored.title,
            stored.description,
            stored.assignee.as_str(),
            kind,
            stored.status.as_str(),
            stored.blocked_reason,
            stored.due_date.map(codec::date_str),
            evidence,
            micros(stored.updated_at),
            &stored.id.as_bytes()[..],
            &stored.portal_id.as_bytes()[..],
            i64::try_from(stored.version).unwrap_or(i64::MAX)
        ])
    })
    .db("updating a task")?;
    ActivityRow::new(activity)?.insert(conn)
}

/// The newest `limit` entries of a portal's feed.
/// Pages of a portal's feed, by `(at, seq)` (see [`codec::PageQuery`]).
const ACTIVITY_PAGE: codec::PageQuery = codec::PageQuery {
    first: ACTIVITY_PAGE_FIRST,
    after: ACTIVITY_PAGE_AFTER,
    width: 7,
};
/// The newest page of a portal's feed (see [`codec::newest_page`]).
pub(crate) const ACTIVITY_PAGE_FIRST: &str =
    "SELECT portal_id, at, actor, kind, task_id, subject, detail, seq
     FROM activity WHERE portal_id = ?1 ORDER BY at DESC, seq DESC LIMIT ?2";
/// A page of a portal's feed after a key (see [`codec::newest_page`]).
pub(crate) const ACTIVITY_PAGE_AFTER: &str =
    "SELECT portal_id, at, actor, kind, task_id, subject, detail, seq
     FROM activity WHERE portal_id = ?1 AND (at, seq) < (?2, ?3)
     ORDER BY at DESC, seq DESC LIMIT ?4";

fn read_activity(conn: &Connection, portal: PortalId, limit: usize) -> Result<Vec<ActivityEntry>> {
    let limit = i64::try_from(limit).unwrap_or(i64::MAX);
    conn.prepare_cached(&format!(
        "SELECT {ACTIVITY_COLS} FROM activity WHERE portal_id = ?1
         ORDER BY at DESC, seq DESC LIMIT ?2"
    ))
    .and_then(|mut s| {
        s.query_map(params![&portal.as_bytes()[..], limit], rows::activity)
            .and_then(Iterator::collect)
    })
    .db("reading the activity feed")
}

/// Appends a comment (`author` as JSON, `at` in micros) to a task's thread, numbered
/// after the thread's last one inside the writer's unit.
pub(crate) fn insert_comment(
    conn: &rusqlite::Connection,
    portal: PortalId,
    task: TaskId,
    at: i64,
    author: &str,
    body: &str,
) -> Result<()> {
    let scope = params![&portal.as_bytes()[..], &task.as_bytes()[..]];
    let seq = next_seq(
        conn,
        "SELECT COALESCE(MAX(seq) + 1, 0) FROM comments
         WHERE portal_id = ?1 AND task_id = ?2",
        scope,
    )?;
    conn.prepare_cached(
        "INSERT INTO comments (portal_id, task_id, seq, at, author, body)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    )
    .and_then(|mut s| {
        s.execute(params![
            &portal.as_bytes()[..],
            &task.as_bytes()[..],
            seq,
            at,
            author,
            body
        ])
    })
    .db("storing a comment")?;
    Ok(())
}

#[async_trait]
impl WorkflowStore for SqliteStore {
    async fn task(&self, portal: PortalId, task: TaskId) -> Result<Task> {
        self.read(move |conn| load_task(conn, portal, task)).await
    }

    async fn update_task(
        &self,
        portal: PortalId,
        task: TaskId,
        decide: TaskDecision,
    ) -> Result<Task> {
        self.write_content(portal, move |conn| {
            let current = load_task(conn, portal, task)?;
            // An error of the decision is returned as it is: the job fails, its
            // savepoint is rolled back, and nothing was written before this point.
            let change = decide(&current)?;
            write_change(conn, &current, change)
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
        // Refused after the lookups, so a wrong portal is `NotFound` first.
        let foreign = activity.ensure_portal(comment.portal_id);
        let entry = ActivityRow::new(activity)?;
        let author = codec::to_json(&comment.author)?;
        let (portal, task) = (comment.portal_id, comment.task_id);
        let (body, at) = (comment.body.clone(), micros(comment.at));
        self.write_content(portal, move |conn| {
            if !task_in_portal(conn, portal, task)? {
                return Err(Error::NotFound {
                    entity: Entity::Task,
                });
            }
            foreign?;
            insert_comment(conn, portal, task, at, &author, &body)?;
            crate::outbox::insert(conn, &emails)?;
            entry.insert(conn)
        })
        .await
    }

    async fn comments(&self, portal: PortalId, task: TaskId) -> Result<Vec<Comment>> {
        self.read(move |conn| {
            let tx = conn.transaction().db("starting a comments read")?;
            let comments: Vec<Comment> = tx
                .prepare_cached(&format!(
                    "SELECT {COMMENT_COLS} FROM comments WHERE portal_id = ?1 AND task_id = ?2
                     ORDER BY at, seq"
                ))
                .and_then(|mut s| {
                    s.query_map(
                        params![&portal.as_bytes()[..], &task.as_bytes()[..]],
                        rows::comment,
                    )
                    .and_then(Iterator::collect)
                })
                .db("reading a task's comments")?;
            // No comments: say whether that is because the task is not in the portal.
            if comments.is_empty() && !task_in_portal(&tx, portal, task)? {
                return Err(Error::NotFound {
                    entity: Entity::Task,
                });
            }
            tx.finish().db("ending a comments read")?;
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
        let foreign = activity.ensure_portal(question.portal_id);
        let entry = ActivityRow::new(activity)?;
        let asked_by = codec::to_json(&question.asked_by)?;
        let answer = question.answer.as_ref().map(codec::to_json).transpose()?;
        let to = question.to.as_ref().map(codec::to_json).transpose()?;
        let (id, portal) = (question.id, question.portal_id);
        let (text, asked_at) = (question.text.clone(), micros(question.asked_at));
        self.write_content(portal, move |conn| {
            if !portal_exists(conn, portal)? {
                return Err(Error::NotFound {
                    entity: Entity::Portal,
                });
            }
            if exists(
                conn,
                "SELECT 1 FROM questions WHERE id = ?1",
                [&id.as_bytes()[..]],
            )? {
                return Err(Error::conflict("a question with this id already exists"));
            }
            foreign?;
            let seq = next_seq(
                conn,
                "SELECT COALESCE(MAX(seq) + 1, 0) FROM questions WHERE portal_id = ?1",
                [&portal.as_bytes()[..]],
            )?;
            conn.prepare_cached(
                "INSERT INTO questions
                 (portal_id, seq, id, asked_at, asked_by, text, answer, addressed_to)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
            )
            .and_then(|mut s| {
                s.execute(params![
                    &portal.as_bytes()[..],
                    seq,
                    &id.as_bytes()[..],
                    asked_at,
                    asked_by,
                    text,
                    answer,
                    to
                ])
            })
            .db("storing a question")?;
            crate::outbox::insert(conn, &emails)?;
            entry.insert(conn)
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
        let foreign = activity.ensure_portal(portal);
        let entry = ActivityRow::new(activity)?;
        let encoded = codec::to_json(answer)?;
        let answer = answer.clone();
        let emails = emails.to_vec();
        self.write_content(portal, move |conn| {
            let mut q = load_question(conn, portal, question)?;
            if q.answer.is_some() {
                return Err(Error::conflict("this question has already been answered"));
            }
            foreign?;
            conn.prepare_cached(
                "UPDATE questions SET answer = ?1 WHERE id = ?2 AND portal_id = ?3",
            )
            .and_then(|mut s| {
                s.execute(params![
                    encoded,
                    &question.as_bytes()[..],
                    &portal.as_bytes()[..]
                ])
            })
            .db("answering a question")?;
            entry.insert(conn)?;
            crate::outbox::insert(conn, &emails)?;
            q.answer = Some(answer);
            Ok(q)
        })
        .await
    }

    async fn questions(&self, portal: PortalId) -> Result<Vec<ClientQuestion>> {
        self.read(move |conn| {
            conn.prepare_cached(&format!(
                "SELECT {QUESTION_COLS} FROM questions WHERE portal_id = ?1
                 ORDER BY asked_at DESC, seq DESC"
            ))
            .and_then(|mut s| {
                s.query_map([&portal.as_bytes()[..]], rows::question)
                    .and_then(Iterator::collect)
            })
            .db("listing questions")
        })
        .await
    }

    async fn activity(&self, portal: PortalId, limit: usize) -> Result<Vec<ActivityEntry>> {
        if limit == 0 {
            return Ok(Vec::new());
        }
        let generation = self.cache.generation(portal);
        if let Some(hit) = self.cache.activity(portal, limit, generation) {
            return Ok(Vec::clone(&hit));
        }
        let feed = self
            .read(move |conn| read_activity(conn, portal, limit))
            .await?;
        self.cache
            .put_activity(portal, limit, generation, Arc::new(feed.clone()));
        Ok(feed)
    }

    /// Read by key through `activity_page` (`(portal_id, at, seq)`), past the feed
    /// cache: pages are the staff's, the cache the client's home.
    async fn activity_page(
        &self,
        portal: PortalId,
        after: Option<PageKey>,
        limit: usize,
    ) -> Result<Page<ActivityEntry>> {
        self.read(move |conn| {
            codec::newest_page(
                conn,
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
        self.write(move |conn| {
            let changed = conn
                .prepare_cached(
                    "UPDATE tenants SET branding = ?1, version = version + 1 WHERE id = ?2",
                )
                .and_then(|mut s| s.execute(params![encoded, &tenant.as_bytes()[..]]))
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
        self.write_content(portal, move |conn| {
            let changed = conn
                .prepare_cached(
                    "UPDATE portals SET branding = ?1, version = version + 1 WHERE id = ?2",
                )
                .and_then(|mut s| s.execute(params![encoded, &portal.as_bytes()[..]]))
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
