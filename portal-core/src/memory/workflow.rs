//! [`WorkflowStore`] for [`MemoryStore`]: task changes, comments, questions, the
//! activity feed and branding. `update_task` holds the one lock while `decide` runs,
//! so updates are serialised.

use async_trait::async_trait;

use super::{MemoryStore, Seq, newest_first, not_found, oldest_first};
use crate::error::{Entity, Error, Result};
use crate::ids::{PortalId, QuestionId, TaskId, TenantId};
use crate::model::{Branding, Task};
use crate::outbox::OutboxMessage;
use crate::store::{Page, PageKey, TaskDecision, WorkflowStore};
use crate::workflow::{ActivityEntry, ClientQuestion, Comment, QuestionAnswer};

#[async_trait]
impl WorkflowStore for MemoryStore {
    async fn task(&self, portal: PortalId, task: TaskId) -> Result<Task> {
        self.with(|st| st.portal_task(portal, task).cloned())
    }

    async fn update_task(
        &self,
        portal: PortalId,
        task: TaskId,
        decide: TaskDecision,
    ) -> Result<Task> {
        self.with(|st| {
            let current = st.portal_task(portal, task)?;
            // The lock is held across `decide`: concurrent updates of the task (of any
            // task) wait, so each decision sees the previous one's result.
            let (next, activity) = decide(current)?.apply_to(current)?;
            st.tasks.insert(next.id, next.clone());
            st.activity.push(activity);
            Ok(next)
        })
    }

    async fn add_comment(
        &self,
        comment: &Comment,
        activity: &ActivityEntry,
        emails: &[OutboxMessage],
    ) -> Result<()> {
        self.with(|st| {
            st.portal_task(comment.portal_id, comment.task_id)?;
            activity.ensure_portal(comment.portal_id)?;
            st.check_new_mail(emails)?;
            st.queue_mail(emails);
            let seq = st.seq();
            st.comments.push(Seq {
                seq,
                value: comment.clone(),
            });
            st.activity.push(activity.clone());
            Ok(())
        })
    }

    async fn comments(&self, portal: PortalId, task: TaskId) -> Result<Vec<Comment>> {
        self.with(|st| {
            st.portal_task(portal, task)?;
            Ok(oldest_first(
                st.comments
                    .iter()
                    .filter(|c| c.value.portal_id == portal && c.value.task_id == task)
                    .map(|c| (c.value.at, c.seq, c.value.clone())),
            ))
        })
    }

    async fn add_question(
        &self,
        question: &ClientQuestion,
        activity: &ActivityEntry,
        emails: &[OutboxMessage],
    ) -> Result<()> {
        self.with(|st| {
            if st.questions.contains_key(&question.id) {
                return Err(Error::conflict("question id already exists"));
            }
            if !st.portals.contains_key(&question.portal_id) {
                return Err(not_found(Entity::Portal));
            }
            activity.ensure_portal(question.portal_id)?;
            st.check_new_mail(emails)?;
            st.queue_mail(emails);
            let seq = st.seq();
            st.questions.insert(
                question.id,
                Seq {
                    seq,
                    value: question.clone(),
                },
            );
            st.activity.push(activity.clone());
            Ok(())
        })
    }

    async fn answer_question(
        &self,
        portal: PortalId,
        question: QuestionId,
        answer: &QuestionAnswer,
        activity: &ActivityEntry,
        emails: &[OutboxMessage],
    ) -> Result<ClientQuestion> {
        self.with(|st| {
            match st.questions.get(&question) {
                Some(q) if q.value.portal_id == portal => {
                    if q.value.answer.is_some() {
                        return Err(Error::conflict("This question has already been answered."));
                    }
                }
                _ => return Err(not_found(Entity::Question)),
            }
            activity.ensure_portal(portal)?;
            st.check_new_mail(emails)?;
            let q = match st.questions.get_mut(&question) {
                Some(q) => &mut q.value,
                None => return Err(not_found(Entity::Question)),
            };
            q.answer = Some(answer.clone());
            let answered = q.clone();
            st.activity.push(activity.clone());
            st.queue_mail(emails);
            Ok(answered)
        })
    }

    async fn questions(&self, portal: PortalId) -> Result<Vec<ClientQuestion>> {
        self.with(|st| {
            let mut qs: Vec<&Seq<ClientQuestion>> = st
                .questions
                .values()
                .filter(|q| q.value.portal_id == portal)
                .collect();
            qs.sort_by_key(|q| std::cmp::Reverse((q.value.asked_at, q.seq)));
            Ok(qs.into_iter().map(|q| q.value.clone()).collect())
        })
    }

    async fn activity(&self, portal: PortalId, limit: usize) -> Result<Vec<ActivityEntry>> {
        self.with(|st| {
            let entries = newest_first(st.activity.iter().filter(|e| e.portal_id == portal), |e| {
                e.at
            });
            Ok(entries.into_iter().take(limit).cloned().collect())
        })
    }

    async fn activity_page(
        &self,
        portal: PortalId,
        after: Option<PageKey>,
        limit: usize,
    ) -> Result<Page<ActivityEntry>> {
        self.with(|st| {
            Ok(st
                .activity
                .newest_page(|e| e.portal_id == portal, |e| e.at, after, limit))
        })
    }

    async fn set_tenant_branding(&self, tenant: TenantId, branding: &Branding) -> Result<()> {
        self.with(|st| {
            let t = st
                .tenants
                .get_mut(&tenant)
                .ok_or_else(|| not_found(Entity::Tenant))?;
            t.value.branding = branding.clone();
            t.value.version += 1;
            Ok(())
        })
    }

    async fn set_portal_branding(&self, portal: PortalId, branding: &Branding) -> Result<()> {
        self.with(|st| {
            let p = st
                .portals
                .get_mut(&portal)
                .ok_or_else(|| not_found(Entity::Portal))?;
            p.value.branding = branding.clone();
            p.value.version += 1;
            Ok(())
        })
    }
}
