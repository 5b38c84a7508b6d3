//! Placeholder: to be ported from portal-storage-sqlite.
#![allow(unused_imports, unused_variables)]

use std::sync::Arc;
use async_trait::async_trait;
use portal_core::model::{Branding, Task};
use portal_core::outbox::OutboxMessage;
use portal_core::store::{Page, PageKey, TaskDecision};
use portal_core::workflow::{ActivityEntry, ClientQuestion, Comment, QuestionAnswer, TaskChange};
use portal_core::{Entity, Error, PortalId, QuestionId, Result, TaskId, TenantId, WorkflowStore};

use crate::PostgresStore;

#[async_trait]
impl WorkflowStore for PostgresStore {

    async fn task(&self, portal: PortalId, task: TaskId) -> Result<Task> {
        Err(crate::not_ported("WorkflowStore::task"))
    }

    async fn update_task(
        &self,
        portal: PortalId,
        task: TaskId,
        decide: TaskDecision,
    ) -> Result<Task> {
        Err(crate::not_ported("WorkflowStore::update_task"))
    }

    async fn add_comment(
        &self,
        comment: &Comment,
        activity: &ActivityEntry,
        emails: &[OutboxMessage],
    ) -> Result<()> {
        Err(crate::not_ported("WorkflowStore::add_comment"))
    }

    async fn comments(&self, portal: PortalId, task: TaskId) -> Result<Vec<Comment>> {
        Err(crate::not_ported("WorkflowStore::comments"))
    }

    async fn add_question(
        &self,
        question: &ClientQuestion,
        activity: &ActivityEntry,
        emails: &[OutboxMessage],
    ) -> Result<()> {
        Err(crate::not_ported("WorkflowStore::add_question"))
    }

    async fn answer_question(
        &self,
        portal: PortalId,
        question: QuestionId,
        answer: &QuestionAnswer,
        activity: &ActivityEntry,
        emails: &[OutboxMessage],
    ) -> Result<ClientQuestion> {
        Err(crate::not_ported("WorkflowStore::answer_question"))
    }

    async fn questions(&self, portal: PortalId) -> Result<Vec<ClientQuestion>> {
        Err(crate::not_ported("WorkflowStore::questions"))
    }

    async fn activity(&self, portal: PortalId, limit: usize) -> Result<Vec<ActivityEntry>> {
        Err(crate::not_ported("WorkflowStore::activity"))
    }

    async fn activity_page(
        &self,
        portal: PortalId,
        after: Option<PageKey>,
        limit: usize,
    ) -> Result<Page<ActivityEntry>> {
        Err(crate::not_ported("WorkflowStore::activity_page"))
    }

    async fn set_tenant_branding(&self, tenant: TenantId, branding: &Branding) -> Result<()> {
        Err(crate::not_ported("WorkflowStore::set_tenant_branding"))
    }

    async fn set_portal_branding(&self, portal: PortalId, branding: &Branding) -> Result<()> {
        Err(crate::not_ported("WorkflowStore::set_portal_branding"))
    }
}

// ----- shared with the other modules (signatures fixed) -----------------------------

pub(crate) mod rows;

use crate::tx::Tx;

/// Writes a task as [`TaskChange::apply_to`] made it and appends its activity entry
/// (TO PORT from SQLite's `workflow::write_task`).
pub(crate) fn write_task(tx: &mut Tx<'_>, stored: &Task, activity: &ActivityEntry) -> Result<()> {
    Err(crate::not_ported("workflow::write_task"))
}

/// Appends a comment (`author` as JSON, `at` in micros) to a task's thread, numbered
/// after the thread's last one inside the unit (TO PORT).
pub(crate) fn insert_comment(
    tx: &mut Tx<'_>,
    portal: PortalId,
    task: TaskId,
    at: i64,
    author: &str,
    body: &str,
) -> Result<()> {
    Err(crate::not_ported("workflow::insert_comment"))
}

/// The newest page of a portal's feed (see [`crate::codec::newest_page`]).
pub(crate) const ACTIVITY_PAGE_FIRST: &str =
    "SELECT portal_id, at, actor, kind, task_id, subject, detail, seq
     FROM activity WHERE portal_id = $1 ORDER BY at DESC, seq DESC LIMIT $2";
/// A page of a portal's feed after a key (see [`crate::codec::newest_page`]).
pub(crate) const ACTIVITY_PAGE_AFTER: &str =
    "SELECT portal_id, at, actor, kind, task_id, subject, detail, seq
     FROM activity WHERE portal_id = $1 AND (at, seq) < ($2, $3)
     ORDER BY at DESC, seq DESC LIMIT $4";
