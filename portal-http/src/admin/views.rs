//! The JSON shapes of the admin API: explicit views of the core's records, so a field
//! added to a record (a wrapped key, a hash) never leaks into the API unnoticed. The
//! schemas of the same shapes are in `openapi.rs`; the HTTP tests check every answer
//! against them.

use portal_core::StaffContext;
use portal_core::model::{Branding, Contact, Phase, Portal, PortalSnapshot, Task, Tenant};
use portal_core::outbox::OutboxMessage;
use portal_core::reminders::ReminderSettings;
use portal_core::service::QueueItem;
use portal_core::store::{AccessLogEntry, Erasure};
use portal_core::workflow::documents::{DocumentFile, DocumentRow};
use portal_core::workflow::plan::Plan;
use portal_core::workflow::template::PlanTemplate;
use portal_core::workflow::{ActivityEntry, Actor, ClientQuestion, Comment};
use serde_json::{Value, json};

fn time(t: chrono::DateTime<chrono::Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

fn opt_time(t: Option<chrono::DateTime<chrono::Utc>>) -> Value {
    t.map_or(Value::Null, |t| Value::String(time(t)))
}

pub(crate) fn staff(s: &StaffContext) -> Value {
    json!({
        "tenant_id": s.tenant.to_string(),
        "staff_id": s.staff_id,
        "name": s.name,
        "email": s.email.as_ref().map(|e| e.as_str()),
        "role": s.role.as_str(),
    })
}

pub(crate) fn actor(a: &Actor) -> Value {
    match a {
        Actor::Client {
            contact_id, name, ..
        } => json!({ "side": "client", "name": name, "contact_id": contact_id.to_string() }),
        other => json!({ "side": other.side().as_str(), "name": other.name() }),
    }
}

pub(crate) fn branding(b: &Branding) -> Value {
    json!({
        "company_name": b.company_name,
        "accent_color": b.accent_color.hex(),
        "welcome_message": b.welcome_message,
        "logo": b.logo.as_ref().map(|l| json!({
            "image_type": l.image_type,
            "sha256": l.sha256,
        })),
    })
}

pub(crate) fn tenant(t: &Tenant) -> Value {
    json!({
        "id": t.id.to_string(),
        "name": t.name,
        "branding": branding(&t.branding),
        "notification_recipients": t.notification_recipients.iter().map(|e| e.as_str()).collect::<Vec<_>>(),
        "base_url": t.base_url.as_ref().map(|u| u.as_str()),
        "sender": t.sender.as_ref().map(|s| json!({
            "name": s.name,
            "address": s.address.as_str(),
            "reply_to": s.reply_to.as_ref().map(|r| r.as_str()),
        })),
        "created_at": time(t.created_at),
        "version": t.version,
    })
}

pub(crate) fn portal(p: &Portal) -> Value {
    json!({
        "id": p.id.to_string(),
        "client_name": p.client_name,
        "status": p.status.as_str(),
        "branding": branding(&p.branding),
        "target_date": p.target_date.map(|d| d.to_string()),
        "created_at": time(p.created_at),
        "version": p.version,
        "colleague_invitations": p.colleague_invitations.as_str(),
    })
}

pub(crate) fn portal_summary(p: &portal_core::service::PortalSummary) -> Value {
    let mut v = portal(&p.portal);
    v["progress"] = json!({ "completed": p.progress.completed, "total": p.progress.total });
    v
}

pub(crate) fn task(t: &Task) -> Value {
    let kind = serde_json::to_value(&t.kind).unwrap_or(Value::Null);
    json!({
        "id": t.id.to_string(),
        "phase_id": t.phase_id.to_string(),
        "position": t.position,
        "title": t.title,
        "description": t.description,
        "assignee": t.assignee.as_str(),
        "type": kind.get("type").cloned().unwrap_or(Value::Null),
        "kind": kind,
        "status": t.status.as_str(),
        "blocked_reason": t.blocked_reason,
        "due_date": t.due_date.map(|d| d.to_string()),
        "assigned_to": t.assigned_to.iter().map(ToString::to_string).collect::<Vec<_>>(),
        "waits_on": t.waits_on.iter().map(ToString::to_string).collect::<Vec<_>>(),
        "internal": t.internal,
        "for_role": t.for_role,
        "version": t.version,
        "created_at": time(t.created_at),
        "updated_at": time(t.updated_at),
        "client_answers": client_answers(t),
    })
}

/// What the client answered on a task: a survey's answers (who saved them last, when)
/// and an approval's decision with the ones before a reopen, so a host reads them
/// from the task itself. The decider's IP and user agent stay in the evidence.
fn client_answers(t: &Task) -> Value {
    let e = &t.evidence;
    let decision = |d: &portal_core::workflow::ApprovalDecision| {
        json!({
            "approved": d.approved,
            "comment": d.comment,
            "name": d.name,
            "email": d.email.as_str(),
            "at": time(d.at),
        })
    };
    json!({
        "survey": serde_json::to_value(&e.answers).unwrap_or(Value::Null),
        "survey_saved": e.answers_saved.as_ref().map(|m| json!({
            "by": m.by.name(),
            "at": time(m.at),
        })),
        "decision": e.decision.as_ref().map(decision),
        "previous_decisions": e.previous_decisions.iter().map(decision).collect::<Vec<_>>(),
        "stuck": e.stuck.iter().map(stuck_report).collect::<Vec<_>>(),
        "due_date_requests": e.due_date_requests.iter().map(due_date_request).collect::<Vec<_>>(),
    })
}

/// An "I'm stuck" report: who, when, why, and its clearing.
fn stuck_report(r: &portal_core::workflow::stuck::StuckReport) -> Value {
    json!({
        "by": r.by.name(),
        "at": time(r.at),
        "reason": r.reason,
        "cleared": r.cleared.as_ref().map(|c| json!({
            "by": c.by.name(),
            "at": time(c.at),
            "answer": c.answer,
        })),
    })
}

/// A due-date request with its decision: the history of requested and granted dates.
pub(crate) fn due_date_request(r: &portal_core::workflow::due_dates::DueDateRequest) -> Value {
    let status = match &r.decision {
        None => "pending",
        Some(d) if d.approved => "approved",
        Some(_) => "declined",
    };
    json!({
        "number": r.number,
        "by": r.by.name(),
        "at": time(r.at),
        "from": r.from.map(|d| d.to_string()),
        "to": r.to.to_string(),
        "reason": r.reason,
        "status": status,
        "decided_by": r.decision.as_ref().map(|d| d.by.name()),
        "decided_at": r.decision.as_ref().map(|d| time(d.at)),
        "note": r.decision.as_ref().and_then(|d| d.note.clone()),
    })
}

/// A pending due-date request in the tenant's queue.
pub(crate) fn pending_due_date(p: &portal_core::service::PendingDueDate) -> Value {
    json!({
        "portal_id": p.portal_id.to_string(),
        "client_name": p.client_name,
        "task_id": p.task_id.to_string(),
        "task_title": p.task_title,
        "task_version": p.task_version,
        "request": due_date_request(&p.request),
    })
}

pub(crate) fn phase(p: &Phase, tasks: &[&Task]) -> Value {
    json!({
        "id": p.id.to_string(),
        "name": p.name,
        "position": p.position,
        "version": p.version,
        // The plan is for editing: a task's answers are on the task's own read.
        "tasks": tasks.iter().map(|t| {
            let mut v = task(t);
            if let Some(o) = v.as_object_mut() {
                o.remove("client_answers");
            }
            v
        }).collect::<Vec<_>>(),
    })
}

/// A portal's plan for editing: every phase and task (internal ones too) with their
/// versions, and the contacts a client task can be assigned to.
pub(crate) fn plan(p: &Plan) -> Value {
    let progress = portal_core::model::Progress::of(&p.tasks);
    json!({
        "portal_id": p.portal.id.to_string(),
        "progress": { "completed": progress.completed, "total": progress.total },
        "phases": p.phases.iter().map(|ph| {
            let tasks: Vec<&Task> = p.tasks.iter().filter(|t| t.phase_id == ph.id).collect();
            phase(ph, &tasks)
        }).collect::<Vec<_>>(),
        "contacts": p.contacts.iter().map(|c| json!({
            "id": c.id.to_string(),
            "name": c.name,
            "email": c.email.as_str(),
            "revoked": c.revoked_at.is_some(),
        })).collect::<Vec<_>>(),
    })
}

/// A plan template: its phases and tasks as stored (due dates as day offsets from a
/// portal's start date, dependencies by position).
pub(crate) fn template(t: &PlanTemplate) -> Value {
    json!({
        "id": t.id.to_string(),
        "name": t.name,
        "version": t.version,
        "phases": serde_json::to_value(&t.phases).unwrap_or(Value::Null),
        "created_at": time(t.created_at),
        "updated_at": time(t.updated_at),
    })
}

pub(crate) fn portal_detail(s: &PortalSnapshot) -> Value {
    let mut v = portal(&s.portal);
    let progress = portal_core::model::Progress::of(&s.tasks);
    v["progress"] = json!({ "completed": progress.completed, "total": progress.total });
    v["phases"] = Value::Array(
        s.phases
            .iter()
            .map(|p| {
                let tasks: Vec<&Task> = s.tasks.iter().filter(|t| t.phase_id == p.id).collect();
                phase(p, &tasks)
            })
            .collect(),
    );
    v
}

pub(crate) fn contact(c: &Contact, last_access: Option<chrono::DateTime<chrono::Utc>>) -> Value {
    json!({
        "id": c.id.to_string(),
        "name": c.name,
        "email": c.email.as_str(),
        "revoked_at": opt_time(c.revoked_at),
        "last_access": opt_time(last_access),
        "created_at": time(c.created_at),
        "invited_by": c.invited_by.map(|i| i.to_string()),
        "awaiting_approval": c.awaiting_approval,
        "role": c.role,
        "language": c.language.map(|l| l.code()),
        "guest": c.guest.as_ref().map(|g| json!({
            "organisation": g.organisation,
            "access_ends_at": opt_time(g.access_ends_at),
            "shared_task_ids": g.shared_tasks.iter().map(ToString::to_string).collect::<Vec<_>>(),
        })),
    })
}

pub(crate) fn comment(c: &Comment) -> Value {
    json!({
        "task_id": c.task_id.to_string(),
        "author": actor(&c.author),
        "body": c.body,
        "at": time(c.at),
    })
}

pub(crate) fn question(q: &ClientQuestion) -> Value {
    json!({
        "id": q.id.to_string(),
        "asked_by": actor(&q.asked_by),
        "text": q.text,
        "asked_at": time(q.asked_at),
        "to": q.to.as_ref().map(|to| json!({
            "name": to.name,
            "role": to.role,
            "email": to.email.as_str(),
        })),
        "answer": q.answer.as_ref().map(|a| json!({
            "by": actor(&a.by),
            "text": a.text,
            "at": time(a.at),
        })),
    })
}

pub(crate) fn activity(a: &ActivityEntry) -> Value {
    json!({
        "at": time(a.at),
        "actor": actor(&a.actor),
        "kind": serde_json::to_value(a.kind).unwrap_or(Value::Null),
        "task_id": a.task_id.map(|t| t.to_string()),
        "subject": a.subject,
        "detail": a.detail,
        "summary": a.summary(),
    })
}

pub(crate) fn access(e: &AccessLogEntry) -> Value {
    json!({
        "at": time(e.at),
        "contact_id": e.contact_id.to_string(),
        "event": e.event.as_str(),
        "ip": e.request.ip.map(|ip| ip.to_string()),
        "user_agent": e.request.user_agent,
        "path": e.request.path,
    })
}

pub(crate) fn file(f: &DocumentFile) -> Value {
    let hex: String = f.sha256.iter().map(|b| format!("{b:02x}")).collect();
    json!({
        "id": f.id.to_string(),
        "task_id": f.task_id.to_string(),
        "document_id": f.document_id,
        "version": f.version,
        "name": f.name,
        "file_type": serde_json::to_value(f.file_type).unwrap_or(Value::Null),
        "size": f.size,
        "sha256": hex,
        "uploaded_by": actor(&f.uploaded_by),
        "uploaded_at": time(f.uploaded_at),
        "scan": f.scan.label(),
        "review": f.review.as_str(),
    })
}

pub(crate) fn document(d: &DocumentRow) -> Value {
    json!({
        "task_id": d.task_id.to_string(),
        "task_title": d.task_title,
        "document_id": d.requested.id,
        "name": d.requested.name,
        "status": serde_json::to_value(d.status).unwrap_or(Value::Null),
        "notes": d.notes,
        "current": d.current.as_ref().map(file),
        "versions": d.versions.iter().map(file).collect::<Vec<_>>(),
    })
}

pub(crate) fn queue_item(q: &QueueItem) -> Value {
    json!({
        "portal_id": q.file.portal_id.to_string(),
        "client_name": q.client_name,
        "task_title": q.task_title,
        "document_name": q.document_name,
        "reviewable": q.reviewable,
        "file": file(&q.file),
    })
}

pub(crate) fn failed_mail(m: &OutboxMessage) -> Value {
    json!({
        "id": m.id.to_string(),
        "portal_id": m.portal_id.map(|p| p.to_string()),
        "kind": m.kind.as_str(),
        "to": m.email.to.as_str(),
        "subject": m.email.subject,
        "attempts": m.attempts,
        "created_at": time(m.created_at),
        "failed_at": opt_time(m.finished_at),
        "last_error": m.last_error,
    })
}

/// An erasure of the log: which portal was deleted, by whom, when.
pub(crate) fn erasure(e: &Erasure) -> Value {
    json!({
        "portal_id": e.portal_id.to_string(),
        "client_name": e.client_name,
        "at": time(e.at),
        "by": actor(&e.by),
    })
}

/// A portal's reminder settings.
pub(crate) fn reminders(r: &ReminderSettings) -> Value {
    json!({
        "enabled": r.enabled,
        "days_before": r.days_before,
        "on_due_date": r.on_due_date,
        "days_after": r.days_after,
        "repeat_every_days": r.repeat_every_days,
        "local_hour": r.local_hour,
        "escalate_after_days": r.escalate_after_days,
        "reescalate_after_days": r.reescalate_after_days,
    })
}

/// A portal's onboarding team, in display order.
pub(crate) fn team(team: &portal_core::model::OnboardingTeam) -> Value {
    let members: Vec<Value> = team
        .members()
        .iter()
        .map(|m| {
            json!({
                "name": m.name,
                "role": m.role,
                "email": m.email.as_str(),
                "photo": m.photo.as_ref().map(|p| serde_json::to_value(p).unwrap_or(Value::Null)),
            })
        })
        .collect();
    json!({ "members": members })
}
