//! The task workflow through `PortalService`: helpers shared by its topics.

use chrono::NaiveDate;
use portal_core::model::{ChecklistItem, EmailAddress, Progress, Side, Task, TaskKind};
use portal_core::store::ClientContext;
use portal_core::testkit::RECIPIENTS;
use portal_core::workflow::Actor;
use portal_core::{Email, PhaseId, TaskId, TaskSpec};

use crate::Harness;

mod attachments;
mod documents;
mod guests;
mod help;
mod meetings;
mod messages;
mod survey;
mod tasks;
mod team;

fn staff() -> Actor {
    Actor::Staff {
        name: "Sam Staff".to_owned(),
        email: Some(EmailAddress::parse("sam@northwind.example").unwrap()),
    }
}

fn spec(title: &str, assignee: Side, kind: TaskKind) -> TaskSpec {
    TaskSpec {
        title: title.to_owned(),
        description: "What to do, in plain words.".to_owned(),
        assignee,
        kind,
        due_date: NaiveDate::from_ymd_opt(2026, 12, 15),
    }
}

fn items(labels: &[&str]) -> TaskKind {
    TaskKind::Checklist {
        items: labels
            .iter()
            .enumerate()
            .map(|(i, l)| ChecklistItem {
                id: format!("i{i}"),
                label: (*l).to_owned(),
            })
            .collect(),
    }
}

fn fields(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}

/// The 1-based "x of y" of a checklist task.
fn x_of_y(task: &Task) -> (usize, usize) {
    let TaskKind::Checklist { items } = &task.kind else {
        panic!("not a checklist")
    };
    (task.evidence.checked.len(), items.len())
}

/// Emails sent to the MSP's notification recipients so far.
fn staff_emails(h: &Harness) -> Vec<Email> {
    h.mailer
        .sent()
        .into_iter()
        .filter(|e| RECIPIENTS.contains(&e.to.as_str()))
        .collect()
}

impl Harness {
    /// A signed-in client and a fresh phase to put tasks in.
    async fn client(&self) -> (ClientContext, PhaseId) {
        let (_, ctx) = self.sign_in(&self.contact).await;
        let phase = self
            .service
            .add_phase(&self.staff, self.portal.id, "Onboarding")
            .await
            .unwrap();
        (ctx, phase.id)
    }

    async fn task(&self, phase: PhaseId, title: &str, assignee: Side, kind: TaskKind) -> Task {
        self.service
            .add_task(
                &self.staff,
                self.portal.id,
                phase,
                spec(title, assignee, kind),
            )
            .await
            .unwrap()
    }

    async fn stored(&self, task: TaskId) -> Task {
        self.service
            .staff_task(&self.staff, self.portal.id, task)
            .await
            .unwrap()
    }

    async fn progress(&self) -> Progress {
        let snap = self
            .service
            .store()
            .portal_snapshot(self.portal.id)
            .await
            .unwrap();
        Progress::of(&snap.tasks)
    }
}
