//! One function per operation of the route table. Each scopes what it touches by the
//! staff member's tenant first (another MSP's ids are `404`, as if they did not
//! exist), then calls the core's use case, then answers with a view.

use base64::Engine as _;
use portal_core::error::{Entity, Error};
use portal_core::ids::{ContactId, FileId, PhaseId, PortalId, QuestionId, TaskId, TemplateId};
use portal_core::model::{
    Branding, Contact, LogoRef, MeetingSchedule, Portal, PortalStatus, Side, Task, TaskKind,
    TeamMember,
};
use portal_core::model::{Sender, TimeZone};
use portal_core::reminders::ReminderSettings;
use portal_core::service::{PlanTaskSpec, PortalUpdate, TaskSpec, TenantUpdate};
use portal_core::workflow::documents::Verdict;
use portal_core::workflow::plan::{PhaseDeletion, TaskEdit};
use portal_core::workflow::template::{PlanTemplate, TemplatePhase};
use serde_json::{Value, json};

use super::input::{self, object, opt_date, opt_str, opt_u32, rename, req_str, req_time};
use super::problem::ApiError;
use super::routes::{Op, Route};
use super::views;
use super::{ApiReply, Call};
use crate::PortalApp;

type Answer = Result<ApiReply, ApiError>;

/// The core's labels of a task's fields, as the API names them.
const TASK_FIELDS: &[(&str, &str)] = &[
    ("title", "title"),
    ("description", "description"),
    ("internal", "internal"),
    ("assigned_to", "assigned_to"),
    ("waits_on", "waits_on"),
    ("edit", "body"),
];

/// The core's labels of reminder settings, as the API names them.
const REMINDER_FIELDS: &[(&str, &str)] = &[
    ("reminder hour", "local_hour"),
    ("days before", "days_before"),
    ("days after", "days_after"),
    ("repeat", "repeat_every_days"),
    ("escalation", "escalate_after_days"),
    ("re-escalation", "reescalate_after_days"),
];

/// A template's validation labels: its own name, or something inside its phases.
const TEMPLATE_FIELDS: &[(&str, &str)] = &[
    ("name", "name"),
    ("phase name", "phases"),
    ("title", "phases"),
    ("description", "phases"),
    ("phases", "phases"),
    ("tasks", "phases"),
    ("waits_on", "phases"),
    ("due_offset_days", "phases"),
    ("internal", "phases"),
    ("kind", "phases"),
];

/// An id from the path; one that does not parse is simply not found.
fn id<T: std::str::FromStr>(raw: &str, entity: Entity) -> Result<T, ApiError> {
    raw.parse()
        .map_err(|_| ApiError::Core(Error::NotFound { entity }))
}

/// The `task_ids` array of a body: task ids as strings (an id that does not parse
/// is `Invalid("task_ids")`).
fn task_ids(m: &serde_json::Map<String, Value>) -> Result<Vec<portal_core::TaskId>, ApiError> {
    let Some(Value::Array(raw)) = m.get("task_ids") else {
        return Err(input::invalid("task_ids", "must be an array of task ids"));
    };
    raw.iter()
        .map(|v| {
            v.as_str()
                .and_then(|s| s.parse().ok())
                .ok_or_else(|| input::invalid("task_ids", "must be an array of task ids"))
        })
        .collect()
}

fn param<'a>(call: &'a Call<'_>, i: usize) -> &'a str {
    call.params.get(i).copied().unwrap_or_default()
}

impl PortalApp {
    pub(super) async fn dispatch(&self, route: Route, call: &Call<'_>) -> Answer {
        let s = self.service();
        match route.op {
            // Answered before dispatch: the document and a file body.
            Op::OpenApi | Op::AttachSignatureDocument | Op::AttachFile => Err(ApiError::NoRoute),
            Op::Me => Ok(ApiReply::ok(views::staff(&call.staff))),
            Op::Tenant => {
                let t = s.store().tenant(call.staff.tenant).await?;
                Ok(ApiReply::ok(views::tenant(&t)).with_version(t.version))
            }
            Op::SetTenantBranding => {
                let t = s.store().tenant(call.staff.tenant).await?;
                let expected = call.if_match_version(t.version)?;
                let update = TenantUpdate {
                    branding: Some(branding_input(&call.body)?),
                    ..TenantUpdate::default()
                };
                let t = s.update_tenant(&call.staff, update, Some(expected)).await?;
                Ok(ApiReply::ok(views::tenant(&t)).with_version(t.version))
            }
            Op::EditTenant => {
                let t = s.store().tenant(call.staff.tenant).await?;
                let expected = call.if_match_version(t.version)?;
                let m = object(&call.body)?;
                let mut update = TenantUpdate {
                    name: opt_str(m, "name")?,
                    ..TenantUpdate::default()
                };
                match m.get("notification_recipients") {
                    None | Some(Value::Null) => {}
                    Some(Value::Array(list)) => {
                        let mut emails = Vec::with_capacity(list.len());
                        for v in list {
                            emails.push(
                                v.as_str()
                                    .ok_or_else(|| {
                                        input::invalid(
                                            "notification_recipients",
                                            "give email addresses",
                                        )
                                    })?
                                    .to_owned(),
                            );
                        }
                        update.notification_recipients = Some(emails);
                    }
                    Some(_) => {
                        return Err(input::invalid(
                            "notification_recipients",
                            "give a list of email addresses",
                        ));
                    }
                }
                update.base_url = match m.get("base_url") {
                    None => None,
                    Some(Value::Null) => Some(None),
                    Some(Value::String(u)) => Some(Some(u.clone())),
                    Some(_) => return Err(input::invalid("base_url", "must be a string or null")),
                };
                update.sender = match m.get("sender") {
                    None => None,
                    Some(Value::Null) => Some(None),
                    Some(Value::Object(o)) => {
                        let field = |name: &'static str, api: &'static str| match o.get(name) {
                            None | Some(Value::Null) => Ok(None),
                            Some(Value::String(v)) => Ok(Some(v.clone())),
                            Some(_) => Err(input::invalid(api, "must be a string")),
                        };
                        let name = field("name", "sender.name")?.unwrap_or_default();
                        let address = field("address", "sender.address")?.unwrap_or_default();
                        let reply_to = field("reply_to", "sender.reply_to")?;
                        Some(Some(Sender::new(&name, &address, reply_to.as_deref())?))
                    }
                    Some(_) => {
                        return Err(input::invalid(
                            "sender",
                            "give an object with name, address and reply_to, or null",
                        ));
                    }
                };
                let t = s
                    .update_tenant(&call.staff, update, Some(expected))
                    .await
                    .map_err(|e| {
                        rename(
                            e,
                            &[
                                ("name", "name"),
                                ("email", "notification_recipients"),
                                ("recipients", "notification_recipients"),
                            ],
                        )
                    })?;
                Ok(ApiReply::ok(views::tenant(&t)).with_version(t.version))
            }
            Op::ListPortals => {
                let page = s.list_portals(&call.staff, call.after, call.limit).await?;
                Ok(Call::key_page(page.map(|p| views::portal_summary(&p))))
            }
            Op::CreatePortal => {
                let m = object(&call.body)?;
                let name = req_str(m, "client_name")?;
                let status = match opt_str(m, "status")? {
                    None => PortalStatus::Draft,
                    Some(raw) => PortalStatus::parse(&raw)
                        .map_err(|e| rename(e, &[("status", "status")]))
                        .map_err(|_| {
                            input::invalid("status", "use draft, active, completed or archived")
                        })?,
                };
                let p = s
                    .create_portal(&call.staff, &name, status)
                    .await
                    .map_err(|e| rename(e, &[("client name", "client_name")]))?;
                let location = self.api_path(&format!("/portals/{}", p.id));
                Ok(ApiReply::created(views::portal(&p), Some(location)))
            }
            Op::GetPortal => {
                let p = self.portal_in(call, 0).await?;
                self.detail_reply(p.id).await
            }
            Op::SetPortalStatus => {
                let p = self.portal_in(call, 0).await?;
                let expected = call.if_match_version(p.version)?;
                let m = object(&call.body)?;
                let status = match opt_str(m, "status")? {
                    None => None,
                    Some(raw) => Some(PortalStatus::parse(&raw).map_err(|_| {
                        input::invalid("status", "use draft, active, completed or archived")
                    })?),
                };
                let update = PortalUpdate {
                    client_name: opt_str(m, "client_name")?,
                    target_date: if m.contains_key("target_date") {
                        Some(opt_date(m, "target_date")?)
                    } else {
                        None
                    },
                    status,
                    branding: None,
                };
                s.update_portal(&call.staff, p.id, update, Some(expected))
                    .await
                    .map_err(|e| rename(e, &[("client name", "client_name")]))?;
                self.detail_reply(p.id).await
            }
            Op::SetPortalBranding => {
                let p = self.portal_in(call, 0).await?;
                let expected = call.if_match_version(p.version)?;
                let update = PortalUpdate {
                    branding: Some(branding_input(&call.body)?),
                    ..PortalUpdate::default()
                };
                s.update_portal(&call.staff, p.id, update, Some(expected))
                    .await?;
                self.detail_reply(p.id).await
            }
            Op::ListContacts => {
                let p = self.portal_in(call, 0).await?;
                let page = s
                    .list_contacts(&call.staff, p.id, call.after, call.limit)
                    .await?;
                Ok(Call::key_page(
                    page.map(|c| views::contact(&c.contact, c.last_access)),
                ))
            }
            Op::GetContact => {
                let p = self.portal_in(call, 0).await?;
                let c = self.contact_in(&p, param(call, 1)).await?;
                Ok(ApiReply::ok(self.contact_view(call, &p, c.id).await?)
                    .with_contact_tag(&c.content_tag()))
            }
            Op::EditContact => {
                let p = self.portal_in(call, 0).await?;
                let c = self.contact_in(&p, param(call, 1)).await?;
                // `*` edits whatever is current; a tag is compared by the store
                // inside its unit, so an edit landing in between is still refused.
                let tag = c.content_tag();
                call.if_match_etag(&super::contact_etag(&tag))?;
                let given_star = call
                    .headers
                    .get(http::header::IF_MATCH)
                    .and_then(|v| v.to_str().ok())
                    .is_some_and(|v| v.split(',').any(|t| t.trim() == "*"));
                let expected = (!given_star).then_some(tag.as_str());
                let m = object(&call.body)?;
                let name = req_str(m, "name")?;
                let email = req_str(m, "email")?;
                // Absent keeps the role, null (or "") clears it.
                let role = match m.get("role") {
                    None => None,
                    Some(Value::Null) => Some(String::new()),
                    Some(Value::String(r)) => Some(r.clone()),
                    Some(_) => return Err(input::invalid("role", "must be a string or null")),
                };
                // Absent keeps the language, null clears it (pages follow the browser).
                let language = match m.get("language") {
                    None => None,
                    Some(Value::Null) => Some(None),
                    Some(value) => Some(Some(language_of(value)?)),
                };
                let change = portal_core::service::ContactChange {
                    name: &name,
                    email: &email,
                    role: role.as_deref(),
                    language,
                };
                let edited = s
                    .change_contact(&call.staff, c.id, &change, expected)
                    .await
                    .map_err(|e| match e {
                        Error::Conflict { .. } => input::invalid(
                            "email",
                            "this portal already has a contact with this email",
                        ),
                        other => rename(other, &[("name", "name"), ("email", "email")]),
                    })?;
                Ok(ApiReply::ok(self.contact_view(call, &p, c.id).await?)
                    .with_contact_tag(&edited.content_tag()))
            }
            Op::InviteLink => {
                let p = self.portal_in(call, 0).await?;
                let c = self.contact_in(&p, param(call, 1)).await?;
                let link = s.invite_link(&call.staff, c.id).await?;
                Ok(ApiReply::ok(json!({
                    "contact": self.contact_view(call, &p, c.id).await?,
                    "invite_url": link.url,
                })))
            }
            Op::AddContact => {
                let p = self.portal_in(call, 0).await?;
                let m = object(&call.body)?;
                let name = req_str(m, "name")?;
                let email = req_str(m, "email")?;
                let zone = opt_str(m, "time_zone")?
                    .map(|raw| {
                        TimeZone::parse(&raw).map_err(|e| rename(e, &[("time zone", "time_zone")]))
                    })
                    .transpose()?;
                let role = opt_str(m, "role")?;
                let language = match m.get("language") {
                    None | Some(Value::Null) => None,
                    Some(value) => Some(language_of(value)?),
                };
                let added = s
                    .add_contact_in_language(
                        &call.staff,
                        p.id,
                        &name,
                        &email,
                        zone,
                        role.as_deref(),
                        language,
                    )
                    .await;
                let c = added.map_err(|e| match e {
                    Error::Conflict { .. } => {
                        input::invalid("email", "this portal already has a contact with this email")
                    }
                    other => rename(other, &[("name", "name"), ("email", "email")]),
                })?;
                Ok(ApiReply::created(views::contact(&c, None), None))
            }
            Op::InviteContact => {
                let p = self.portal_in(call, 0).await?;
                let c = self.contact_in(&p, param(call, 1)).await?;
                let token = s.invite_contact(&call.staff, c.id).await?;
                let tenant = s.store().tenant(p.tenant_id).await?;
                let acting = portal_core::ActingFor::new(&tenant, Some(p.id));
                let url =
                    portal_core::LinkBuilder::invite_url(&self.config().links(), &acting, &token);
                Ok(ApiReply::ok(json!({
                    "contact": self.contact_view(call, &p, c.id).await?,
                    "invite_url": url,
                })))
            }
            Op::RevokeContact => {
                let p = self.portal_in(call, 0).await?;
                let c = self.contact_in(&p, param(call, 1)).await?;
                s.revoke_contact(&call.staff, c.id).await?;
                Ok(ApiReply::ok(self.contact_view(call, &p, c.id).await?))
            }
            Op::PendingColleagues => {
                let p = self.portal_in(call, 0).await?;
                let all = s.pending_colleagues(&call.staff, p.id).await?;
                Ok(call.page(all.iter().map(|c| views::contact(c, None)).collect()))
            }
            Op::ListGuests => {
                let p = self.portal_in(call, 0).await?;
                let all = s.guests(&call.staff, p.id).await?;
                Ok(call.page(all.iter().map(|c| views::contact(c, None)).collect()))
            }
            Op::AddGuest => {
                let p = self.portal_in(call, 0).await?;
                let m = object(&call.body)?;
                let name = req_str(m, "name")?;
                let email = req_str(m, "email")?;
                let organisation = req_str(m, "organisation")?;
                let ends = access_end(m)?;
                let tasks = task_ids(m)?;
                let spec = portal_core::GuestSpec {
                    name: &name,
                    email: &email,
                    organisation: &organisation,
                    access_ends_at: ends,
                    tasks: &tasks,
                };
                let c = s
                    .add_guest(&call.staff, p.id, &spec)
                    .await
                    .map_err(|e| match e {
                        Error::Conflict { .. } => input::invalid(
                            "email",
                            "this portal already has a contact with this email",
                        ),
                        other => rename(other, &[]),
                    })?;
                Ok(ApiReply::created(views::contact(&c, None), None))
            }
            Op::StartHandover => {
                let p = self.portal_in(call, 0).await?;
                let m = object(&call.body)?;
                let organisation = req_str(m, "organisation")?;
                let name = req_str(m, "name")?;
                let email = req_str(m, "email")?;
                let ends = access_end(m)?;
                let spec = portal_core::HandoverSpec {
                    organisation: &organisation,
                    name: &name,
                    email: &email,
                    access_ends_at: ends,
                    due_date: input::opt_date(m, "due_date")?,
                };
                let h = s.start_handover(&call.staff, p.id, &spec).await?;
                let tasks: Vec<&portal_core::model::Task> = h.tasks.iter().collect();
                Ok(ApiReply::created(
                    serde_json::json!({
                        "phase": views::phase(&h.phase, &tasks),
                        "guest": views::contact(&h.guest, None),
                    }),
                    None,
                ))
            }
            Op::ShareGuestTask | Op::UnshareGuestTask => {
                let p = self.portal_in(call, 0).await?;
                let c = self.contact_in(&p, param(call, 1)).await?;
                let task: portal_core::TaskId = id(param(call, 2), Entity::Task)?;
                let shared = route.op == Op::ShareGuestTask;
                let c = s.share_guest_task(&call.staff, c.id, task, shared).await?;
                Ok(ApiReply::ok(views::contact(&c, None)))
            }
            Op::EndGuestAccess => {
                let p = self.portal_in(call, 0).await?;
                let c = self.contact_in(&p, param(call, 1)).await?;
                let c = s.end_guest_access(&call.staff, c.id).await?;
                Ok(ApiReply::ok(views::contact(&c, None)))
            }
            Op::ApproveColleague => {
                let p = self.portal_in(call, 0).await?;
                let c = self.contact_in(&p, param(call, 1)).await?;
                s.approve_colleague(&call.staff, c.id).await?;
                Ok(ApiReply::ok(self.contact_view(call, &p, c.id).await?))
            }
            Op::DeclineColleague => {
                let p = self.portal_in(call, 0).await?;
                let c = self.contact_in(&p, param(call, 1)).await?;
                s.decline_colleague(&call.staff, c.id).await?;
                Ok(ApiReply::empty(http::StatusCode::NO_CONTENT))
            }
            Op::SetColleagueInvitations => {
                let p = self.portal_in(call, 0).await?;
                let expected = call.if_match_version(p.version)?;
                let m = object(&call.body)?;
                let mode = portal_core::workflow::team::InvitationMode::parse(
                    "mode",
                    &req_str(m, "mode")?,
                )?;
                s.set_colleague_invitations(&call.staff, p.id, mode, Some(expected))
                    .await?;
                self.detail_reply(p.id).await
            }
            Op::RevokeInvite => {
                let p = self.portal_in(call, 0).await?;
                let c = self.contact_in(&p, param(call, 1)).await?;
                s.revoke_invite(&call.staff, c.id).await?;
                Ok(ApiReply::ok(self.contact_view(call, &p, c.id).await?))
            }
            Op::AddPhase => {
                let p = self.portal_in(call, 0).await?;
                let m = object(&call.body)?;
                let name = req_str(m, "name")?;
                let added = match opt_u32(m, "position", u32::MAX)? {
                    Some(at) => s.add_plan_phase(&call.staff, p.id, &name, Some(at)).await,
                    None => s.add_phase(&call.staff, p.id, &name).await,
                };
                let ph = added.map_err(|e| rename(e, &[("phase name", "name")]))?;
                Ok(ApiReply::created(views::phase(&ph, &[]), None))
            }
            Op::AddTask => {
                let p = self.portal_in(call, 0).await?;
                let phase: PhaseId = id(param(call, 1), Entity::Phase)?;
                let snapshot = s.store().portal_snapshot(p.id).await?;
                if !snapshot.phases.iter().any(|ph| ph.id == phase) {
                    return Err(Error::not_found(Entity::Phase).into());
                }
                let spec = task_input(&call.body)?;
                let m = object(&call.body)?;
                let plan_fields = [
                    "assigned_to",
                    "waits_on",
                    "internal",
                    "position",
                    "for_role",
                ]
                .iter()
                .any(|f| m.get(*f).is_some_and(|v| !v.is_null()));
                let added = if plan_fields {
                    let internal = match m.get("internal") {
                        None | Some(Value::Null) => false,
                        Some(Value::Bool(b)) => *b,
                        Some(_) => return Err(input::invalid("internal", "must be true or false")),
                    };
                    let plan_spec = PlanTaskSpec {
                        for_role: opt_str(m, "for_role")?,
                        title: spec.title,
                        description: spec.description,
                        assignee: spec.assignee,
                        kind: spec.kind,
                        due_date: spec.due_date,
                        assigned_to: id_list::<ContactId>(m, "assigned_to")?.unwrap_or_default(),
                        waits_on: id_list::<TaskId>(m, "waits_on")?.unwrap_or_default(),
                        internal,
                    };
                    let position = opt_u32(m, "position", u32::MAX)?;
                    s.add_plan_task(&call.staff, p.id, phase, plan_spec, position)
                        .await
                } else {
                    s.add_task(&call.staff, p.id, phase, spec).await
                };
                let t = added.map_err(|e| rename(e, TASK_FIELDS))?;
                let location = self.api_path(&format!("/portals/{}/tasks/{}", p.id, t.id));
                Ok(ApiReply::created(views::task(&t), Some(location)))
            }
            Op::GetTask => {
                let (_, t) = self.task_in(call).await?;
                Ok(ApiReply::ok(views::task(&t)).with_version(t.version))
            }
            Op::BlockTask
            | Op::UnblockTask
            | Op::ReopenTask
            | Op::CompleteTask
            | Op::ScheduleMeeting => {
                let (p, t) = self.task_in(call).await?;
                call.if_match_version(t.version)?;
                let staff = &call.staff;
                let m = object(&call.body)?;
                let done = match route.op {
                    Op::BlockTask => {
                        let reason = req_str(m, "reason")?;
                        s.block_task(staff, p.id, t.id, &reason).await
                    }
                    Op::UnblockTask => s.unblock_task(staff, p.id, t.id).await,
                    Op::ReopenTask => s.reopen_task(staff, p.id, t.id).await,
                    Op::CompleteTask => {
                        let notes = opt_str(m, "notes")?;
                        s.staff_complete(staff, p.id, t.id, notes).await
                    }
                    _ => {
                        let schedule = meeting_input(m)?;
                        s.schedule_meeting(staff, p.id, t.id, schedule).await
                    }
                };
                let t = done.map_err(|e| {
                    rename(
                        e,
                        &[
                            ("reason", "reason"),
                            ("notes", "notes"),
                            ("time zone", "time_zone"),
                            ("duration", "duration_minutes"),
                            ("meeting link", "meeting_url"),
                        ],
                    )
                })?;
                Ok(ApiReply::ok(views::task(&t)).with_version(t.version))
            }
            Op::ListComments => {
                let (p, t) = self.task_in(call).await?;
                let all = s.staff_comments(&call.staff, p.id, t.id).await?;
                Ok(call.page(all.iter().map(views::comment).collect()))
            }
            Op::AddComment => {
                let (p, t) = self.task_in(call).await?;
                let m = object(&call.body)?;
                let body = req_str(m, "body")?;
                let c = s
                    .staff_add_comment(&call.staff, p.id, t.id, &body)
                    .await
                    .map_err(|e| rename(e, &[("comment", "body")]))?;
                Ok(ApiReply::created(views::comment(&c), None))
            }
            Op::ListQuestions => {
                let p = self.portal_in(call, 0).await?;
                let all = s.staff_questions(&call.staff, p.id).await?;
                Ok(call.page(all.iter().map(views::question).collect()))
            }
            Op::AnswerQuestion => {
                let p = self.portal_in(call, 0).await?;
                let q: QuestionId = id(param(call, 1), Entity::Question)?;
                let m = object(&call.body)?;
                let text = req_str(m, "text")?;
                let answered = s
                    .answer_question(&call.staff, p.id, q, &text)
                    .await
                    .map_err(|e| rename(e, &[("answer", "text")]))?;
                Ok(ApiReply::ok(views::question(&answered)))
            }
            Op::Activity => {
                let p = self.portal_in(call, 0).await?;
                let page = s
                    .staff_activity(&call.staff, p.id, call.after, call.limit)
                    .await?;
                Ok(Call::key_page(page.map(|e| views::activity(&e))))
            }
            Op::AccessLog => {
                let p = self.portal_in(call, 0).await?;
                let page = s
                    .access_log(&call.staff, p.id, call.after, call.limit)
                    .await?;
                Ok(Call::key_page(page.map(|e| views::access(&e))))
            }
            Op::Documents => {
                let p = self.portal_in(call, 0).await?;
                let all = s.staff_documents(&call.staff, p.id).await?;
                Ok(call.page(all.iter().map(views::document).collect()))
            }
            Op::DownloadFile => {
                let p = self.portal_in(call, 0).await?;
                let f: FileId = id(param(call, 1), Entity::File)?;
                let (record, stream) = s.staff_download_document(&call.staff, p.id, f).await?;
                Ok(ApiReply::file(
                    stream,
                    record.size,
                    record.file_type.content_type(),
                    &record.name,
                ))
            }
            Op::ReviewFile => {
                let p = self.portal_in(call, 0).await?;
                let f: FileId = id(param(call, 1), Entity::File)?;
                let m = object(&call.body)?;
                let notes = opt_str(m, "notes")?;
                let verdict = match req_str(m, "verdict")?.as_str() {
                    "approve" => Verdict::Approve { notes },
                    "reject" => Verdict::Reject {
                        notes: notes.unwrap_or_default(),
                    },
                    _ => return Err(input::invalid("verdict", "use approve or reject")),
                };
                let reviewed = s
                    .review_document(&call.staff, p.id, f, verdict)
                    .await
                    .map_err(|e| rename(e, &[("notes", "notes")]))?;
                Ok(ApiReply::ok(views::file(&reviewed)))
            }
            Op::ClearStuck => {
                let (p, t) = self.task_in(call).await?;
                call.if_match_version(t.version)?;
                let m = object(&call.body)?;
                let answer = opt_str(m, "answer")?;
                let t = s
                    .clear_stuck(&call.staff, p.id, t.id, answer.as_deref())
                    .await
                    .map_err(|e| rename(e, &[("answer", "answer")]))?;
                Ok(ApiReply::ok(views::task(&t)).with_version(t.version))
            }
            Op::DecideDueDate => {
                let (p, t) = self.task_in(call).await?;
                // The task's version first, like every update: a stale tag is 412
                // whatever the request number names.
                call.if_match_version(t.version)?;
                let number: u32 = param(call, 2)
                    .parse()
                    .map_err(|_| ApiError::Core(Error::not_found(Entity::Task)))?;
                if !t
                    .evidence
                    .due_date_requests
                    .iter()
                    .any(|r| r.number == number)
                {
                    return Err(ApiError::Core(Error::not_found(Entity::Task)));
                }
                let m = object(&call.body)?;
                let approved = match m.get("approve") {
                    Some(Value::Bool(b)) => *b,
                    _ => return Err(input::invalid("approve", "must be true or false")),
                };
                let note = opt_str(m, "note")?;
                let t = s
                    .decide_due_date(&call.staff, p.id, t.id, number, approved, note.as_deref())
                    .await
                    .map_err(|e| rename(e, &[("note", "note")]))?;
                Ok(ApiReply::ok(views::task(&t)).with_version(t.version))
            }
            Op::DueDateRequests => {
                let all = s.pending_due_dates(&call.staff).await?;
                Ok(call.page(all.iter().map(views::pending_due_date).collect()))
            }
            Op::ReviewQueue => {
                let all = s.review_queue(&call.staff, call.wanted()).await?;
                Ok(call.page(all.iter().map(views::queue_item).collect()))
            }
            Op::FailedMail => {
                let all = s.failed_mail(&call.staff, call.wanted()).await?;
                Ok(call.page(all.iter().map(views::failed_mail).collect()))
            }
            Op::GetPlan => {
                let p = self.portal_in(call, 0).await?;
                let plan = s.plan(&call.staff, p.id).await?;
                Ok(ApiReply::ok(views::plan(&plan)))
            }
            Op::EditTask => {
                let (p, t) = self.task_in(call).await?;
                let expected = call.if_match_version(t.version)?;
                let edit = task_patch(&call.body)?;
                let only_due = edit.due_date.is_some()
                    && TaskEdit {
                        due_date: None,
                        ..edit.clone()
                    } == TaskEdit::default();
                let done = if only_due {
                    let due = edit.due_date.unwrap_or_default();
                    s.set_due_date(&call.staff, p.id, t.id, expected, due).await
                } else {
                    s.edit_task(&call.staff, p.id, t.id, expected, edit).await
                };
                let t = done.map_err(|e| rename(e, TASK_FIELDS))?;
                Ok(ApiReply::ok(views::task(&t)).with_version(t.version))
            }
            Op::MoveTask => {
                let (p, t) = self.task_in(call).await?;
                let expected = call.if_match_version(t.version)?;
                let m = object(&call.body)?;
                let phase: PhaseId = req_id(m, "phase")?;
                let position = opt_u32(m, "position", u32::MAX)?
                    .ok_or_else(|| input::invalid("position", "is required"))?;
                let moved = s
                    .move_task(&call.staff, p.id, t.id, expected, phase, position)
                    .await
                    .map_err(|e| match e {
                        Error::NotFound {
                            entity: Entity::Phase,
                        } => input::invalid("phase", "no such phase in this portal"),
                        other => ApiError::Core(other),
                    })?;
                Ok(ApiReply::ok(views::task(&moved)).with_version(moved.version))
            }
            Op::DeleteTask => {
                let (p, t) = self.task_in(call).await?;
                let expected = call.if_match_version(t.version)?;
                s.delete_task(&call.staff, p.id, t.id, expected).await?;
                Ok(ApiReply::empty(http::StatusCode::NO_CONTENT))
            }
            Op::EditPhase | Op::MovePhase | Op::DeletePhase => {
                let p = self.portal_in(call, 0).await?;
                let phase: PhaseId = id(param(call, 1), Entity::Phase)?;
                let plan = s.plan(&call.staff, p.id).await?;
                let current = plan.phase(phase)?;
                let expected = call.if_match_version(current.version)?;
                let staff = &call.staff;
                match route.op {
                    Op::EditPhase => {
                        let m = object(&call.body)?;
                        let name = req_str(m, "name")?;
                        s.rename_phase(staff, p.id, phase, expected, &name)
                            .await
                            .map_err(|e| rename(e, &[("phase name", "name"), ("name", "name")]))?;
                    }
                    Op::MovePhase => {
                        let m = object(&call.body)?;
                        let position = opt_u32(m, "position", u32::MAX)?
                            .ok_or_else(|| input::invalid("position", "is required"))?;
                        s.move_phase(staff, p.id, phase, expected, position).await?;
                    }
                    _ => {
                        let how = if query_flag(call.query, "with_tasks")? {
                            PhaseDeletion::WithTasks
                        } else {
                            PhaseDeletion::OnlyIfEmpty
                        };
                        s.delete_phase(staff, p.id, phase, expected, how).await?;
                        return Ok(ApiReply::empty(http::StatusCode::NO_CONTENT));
                    }
                }
                let plan = s.plan(&call.staff, p.id).await?;
                let ph = plan.phase(phase)?;
                let tasks: Vec<&Task> = plan.tasks.iter().filter(|t| t.phase_id == ph.id).collect();
                Ok(ApiReply::ok(views::phase(ph, &tasks)).with_version(ph.version))
            }
            Op::ListTemplates => {
                let page = s.templates(&call.staff, call.after, call.limit).await?;
                Ok(Call::key_page(page.map(|t| views::template(&t))))
            }
            Op::CreateTemplate => {
                let m = object(&call.body)?;
                let name = req_str(m, "name")?;
                let phases = template_phases(m)?.unwrap_or_default();
                let t = s
                    .create_template(&call.staff, &name, phases)
                    .await
                    .map_err(|e| rename(e, TEMPLATE_FIELDS))?;
                let location = self.api_path(&format!("/templates/{}", t.id));
                Ok(ApiReply::created(views::template(&t), Some(location)).with_version(t.version))
            }
            Op::GetTemplate => {
                let t = self.template_in(call).await?;
                Ok(ApiReply::ok(views::template(&t)).with_version(t.version))
            }
            Op::EditTemplate | Op::ReplaceTemplate => {
                let t = self.template_in(call).await?;
                let expected = call.if_match_version(t.version)?;
                let m = object(&call.body)?;
                let (name, phases) = if route.op == Op::ReplaceTemplate {
                    let name = req_str(m, "name")?;
                    let phases = template_phases(m)?
                        .ok_or_else(|| input::invalid("phases", "is required"))?;
                    (name, phases)
                } else {
                    let name = opt_str(m, "name")?;
                    let phases = template_phases(m)?;
                    if name.is_none() && phases.is_none() {
                        return Err(input::invalid("body", "change the name or the phases"));
                    }
                    (
                        name.unwrap_or_else(|| t.name.clone()),
                        phases.unwrap_or_else(|| t.phases.clone()),
                    )
                };
                let edited = s
                    .edit_template(&call.staff, t.id, expected, &name, phases)
                    .await
                    .map_err(|e| rename(e, TEMPLATE_FIELDS))?;
                Ok(ApiReply::ok(views::template(&edited)).with_version(edited.version))
            }
            Op::CopyTemplate => {
                let t = self.template_in(call).await?;
                let m = object(&call.body)?;
                let name = req_str(m, "name")?;
                let copy = s
                    .copy_template(&call.staff, t.id, &name)
                    .await
                    .map_err(|e| rename(e, &[("name", "name")]))?;
                let location = self.api_path(&format!("/templates/{}", copy.id));
                Ok(ApiReply::created(views::template(&copy), Some(location))
                    .with_version(copy.version))
            }
            Op::PortalFromTemplate => {
                let t = self.template_in(call).await?;
                let m = object(&call.body)?;
                let name = match opt_str(m, "client_name")? {
                    Some(n) => n,
                    None => opt_str(m, "name")?
                        .ok_or_else(|| input::invalid("client_name", "is required"))?,
                };
                let start = opt_date(m, "start_date")?
                    .ok_or_else(|| input::invalid("start_date", "is required"))?;
                // A new portal is a draft or open at once; completing or archiving one
                // that never ran is a mistake.
                let status = match opt_str(m, "status")?.as_deref() {
                    None | Some("draft") => PortalStatus::Draft,
                    Some("active") => PortalStatus::Active,
                    Some(_) => return Err(input::invalid("status", "use draft or active")),
                };
                let p = s
                    .create_portal_from_template(&call.staff, t.id, &name, start, status)
                    .await
                    .map_err(|e| rename(e, &[("client name", "client_name")]))?;
                let location = self.api_path(&format!("/portals/{}", p.id));
                Ok(ApiReply::created(views::portal(&p), Some(location)))
            }
            Op::MeetingIcs
            | Op::ErasureLog
            | Op::ReminderSettings
            | Op::SetReminderSettings
            | Op::UploadLogo
            | Op::GetTeam
            | Op::SetTeam
            | Op::UploadTeamPhoto
            | Op::SetChecklistItem
            | Op::RescanFile
            | Op::RemoveContact
            | Op::DeletePortal => self.dispatch_more(&route, call).await,
            Op::RevealCredentials
            | Op::PurgeCredentials
            | Op::ExportAudit
            | Op::VerifyAudit
            | Op::ListDrops
            | Op::DownloadDrop
            | Op::SweepDrops
            | Op::SignatureEvidence
            | Op::SignatureImage
            | Op::SignatureDocument
            | Op::SignatureDocumentInfo
            | Op::ListAttachments
            | Op::DownloadAttachment
            | Op::DeleteAttachment
            | Op::VerifyDocument => self.dispatch_evidence(&route, call).await,
            Op::ListWebhookEndpoints
            | Op::CreateWebhookEndpoint
            | Op::GetWebhookEndpoint
            | Op::UpdateWebhookEndpoint
            | Op::DeleteWebhookEndpoint
            | Op::RotateWebhookSecret
            | Op::ListWebhookDeliveries
            | Op::ReplayWebhookDelivery => self.dispatch_webhooks(&route, call).await,
        }
    }

    /// The operations of the staff use cases that are neither plan nor template ones.
    async fn dispatch_more(&self, route: &Route, call: &Call<'_>) -> Answer {
        let s = self.service();
        match route.op {
            Op::MeetingIcs => {
                let (p, t) = self.task_in(call).await?;
                let ics = s.staff_meeting_ics(&call.staff, p.id, t.id).await?;
                let len = u64::try_from(ics.len()).unwrap_or(u64::MAX);
                let stream = portal_core::blob::stream_of(vec![bytes::Bytes::from(ics)]);
                Ok(ApiReply::file(
                    stream,
                    len,
                    "text/calendar; charset=utf-8",
                    "meeting.ics",
                ))
            }
            Op::ErasureLog => {
                let mut all = s.erasure_log(&call.staff).await?;
                all.sort_by_key(|e| std::cmp::Reverse(e.at));
                Ok(call.page(all.iter().map(views::erasure).collect()))
            }
            Op::ReminderSettings => {
                let p = self.portal_in(call, 0).await?;
                let r = s.reminder_settings(&call.staff, p.id).await?;
                Ok(ApiReply::ok(views::reminders(&r)))
            }
            Op::SetReminderSettings => {
                let p = self.portal_in(call, 0).await?;
                let current = s.reminder_settings(&call.staff, p.id).await?;
                call.if_match(&views::reminders(&current))?;
                let settings = reminder_input(&call.body)?;
                s.set_reminder_settings(&call.staff, p.id, settings)
                    .await
                    .map_err(|e| rename(e, REMINDER_FIELDS))?;
                let r = s.reminder_settings(&call.staff, p.id).await?;
                Ok(ApiReply::ok(views::reminders(&r)))
            }
            Op::UploadLogo => {
                let m = object(&call.body)?;
                let raw = req_str(m, "data_base64")?;
                let bytes = base64::engine::general_purpose::STANDARD
                    .decode(raw.trim())
                    .map_err(|_| input::invalid("data_base64", "must be standard base64"))?;
                let logo = s
                    .upload_logo(&call.staff, bytes)
                    .await
                    .map_err(|e| rename(e, &[("logo", "data_base64")]))?;
                Ok(ApiReply::created(
                    serde_json::to_value(&logo).unwrap_or(Value::Null),
                    None,
                ))
            }
            Op::GetTeam => {
                let p = self.portal_in(call, 0).await?;
                let (p, team) = s.staff_team(&call.staff, p.id).await?;
                Ok(ApiReply::ok(views::team(&team)).with_version(p.version))
            }
            Op::SetTeam => {
                let p = self.portal_in(call, 0).await?;
                let expected = call.if_match_version(p.version)?;
                let members = team_input(&call.body)?;
                let (p, team) = s
                    .set_team(&call.staff, p.id, members, Some(expected))
                    .await
                    .map_err(|e| rename(e, &[("team", "members")]))?;
                Ok(ApiReply::ok(views::team(&team)).with_version(p.version))
            }
            Op::UploadTeamPhoto => {
                // Scoped by the portal like the team it is for: another tenant's
                // portal is 404 before anything is stored.
                self.portal_in(call, 0).await?;
                let m = object(&call.body)?;
                let raw = req_str(m, "data_base64")?;
                let bytes = base64::engine::general_purpose::STANDARD
                    .decode(raw.trim())
                    .map_err(|_| input::invalid("data_base64", "must be standard base64"))?;
                let photo = s
                    .upload_team_photo(&call.staff, bytes)
                    .await
                    .map_err(|e| rename(e, &[("photo", "data_base64")]))?;
                Ok(ApiReply::created(
                    serde_json::to_value(&photo).unwrap_or(Value::Null),
                    None,
                ))
            }
            Op::SetChecklistItem => {
                let (p, t) = self.task_in(call).await?;
                call.if_match_version(t.version)?;
                let item = param(call, 2);
                let m = object(&call.body)?;
                let checked = match m.get("checked") {
                    Some(Value::Bool(b)) => *b,
                    _ => return Err(input::invalid("checked", "must be true or false")),
                };
                let t = s
                    .staff_set_checklist_item(&call.staff, p.id, t.id, item, checked)
                    .await?;
                Ok(ApiReply::ok(views::task(&t)).with_version(t.version))
            }
            Op::RescanFile => {
                let p = self.portal_in(call, 0).await?;
                let f: FileId = id(param(call, 1), Entity::File)?;
                let scanned = s.rescan_document(&call.staff, p.id, f).await?;
                Ok(ApiReply::ok(views::file(&scanned)))
            }
            Op::RemoveContact => {
                let p = self.portal_in(call, 0).await?;
                let c = self.contact_in(&p, param(call, 1)).await?;
                s.remove_contact(&call.staff, c.id).await?;
                Ok(ApiReply::empty(http::StatusCode::NO_CONTENT))
            }
            Op::DeletePortal => {
                let p = self.portal_in(call, 0).await?;
                s.delete_portal(&call.staff, p.id).await?;
                Ok(ApiReply::empty(http::StatusCode::NO_CONTENT))
            }
            _ => Err(ApiError::NoRoute),
        }
    }

    /// The template of path parameter 0, if it is the staff member's tenant's.
    async fn template_in(&self, call: &Call<'_>) -> Result<PlanTemplate, ApiError> {
        let template: TemplateId = id(param(call, 0), Entity::Template)?;
        Ok(self.service().template(&call.staff, template).await?)
    }

    /// An absolute path of the API (for `Location`).
    pub(super) fn api_path(&self, path: &str) -> String {
        format!("{}{path}", self.config().admin_prefix.trim_end_matches('/'))
    }

    /// The portal of path parameter `i`, if it is the staff member's tenant's.
    pub(super) async fn portal_in(&self, call: &Call<'_>, i: usize) -> Result<Portal, ApiError> {
        let portal: PortalId = id(param(call, i), Entity::Portal)?;
        let p = self.service().store().portal(portal).await?;
        call.staff.scope(p.tenant_id, Entity::Portal)?;
        Ok(p)
    }

    async fn contact_in(&self, p: &Portal, raw: &str) -> Result<Contact, ApiError> {
        let contact: ContactId = id(raw, Entity::Contact)?;
        let c = self.service().store().contact(contact).await?;
        if c.portal_id != p.id {
            return Err(Error::not_found(Entity::Contact).into());
        }
        Ok(c)
    }

    async fn task_in(&self, call: &Call<'_>) -> Result<(Portal, Task), ApiError> {
        let p = self.portal_in(call, 0).await?;
        let task: TaskId = id(param(call, 1), Entity::Task)?;
        let t = self.service().staff_task(&call.staff, p.id, task).await?;
        Ok((p, t))
    }

    /// A contact's view, with their last access.
    async fn contact_view(
        &self,
        call: &Call<'_>,
        p: &Portal,
        contact: ContactId,
    ) -> Result<Value, ApiError> {
        // The contacts of a portal are few: read page by page until it comes.
        let mut after = None;
        loop {
            let page = self
                .service()
                .list_contacts(&call.staff, p.id, after, 100)
                .await?;
            if let Some(c) = page.items.iter().find(|c| c.contact.id == contact) {
                return Ok(views::contact(&c.contact, c.last_access));
            }
            match page.next {
                Some(next) => after = Some(next),
                None => return Err(ApiError::Core(Error::not_found(Entity::Contact))),
            }
        }
    }

    /// A portal with its plan, with the `ETag` of the portal's own version (its
    /// name, status, target date and branding: what `If-Match` guards on its
    /// updates; the plan's phases and tasks carry versions of their own).
    async fn detail_reply(&self, portal: PortalId) -> Answer {
        let snapshot = self.service().store().portal_snapshot(portal).await?;
        Ok(ApiReply::ok(views::portal_detail(&snapshot)).with_version(snapshot.portal.version))
    }
}

fn branding_input(body: &Value) -> Result<Branding, ApiError> {
    let m = object(body)?;
    let name = req_str(m, "company_name")?;
    let color = req_str(m, "accent_color")?;
    let welcome = opt_str(m, "welcome_message")?.unwrap_or_default();
    let logo =
        match m.get("logo") {
            None | Some(Value::Null) => None,
            Some(v) => Some(serde_json::from_value::<LogoRef>(v.clone()).map_err(|_| {
                input::invalid("logo", "give {image_type, sha256} of a stored logo")
            })?),
        };
    Branding::new(&name, &color, &welcome, logo).map_err(|e| {
        rename(
            e,
            &[
                ("company display name", "company_name"),
                ("accent color", "accent_color"),
                ("welcome message", "welcome_message"),
            ],
        )
    })
}

/// `{"members": [{name, role, email, photo?}, …]}`: each member validated here, so a
/// 422 names the member by its place ("member 2: …"); the team rule (cap, each email
/// once) is the core's.
fn team_input(body: &Value) -> Result<Vec<TeamMember>, ApiError> {
    let m = object(body)?;
    let Some(Value::Array(list)) = m.get("members") else {
        return Err(input::invalid("members", "must be a list of members"));
    };
    let mut members = Vec::with_capacity(list.len());
    for (i, raw) in list.iter().enumerate() {
        let at = |why: String| input::invalid("members", format!("member {}: {why}", i + 1));
        let Some(o) = raw.as_object() else {
            return Err(at("must be an object with name, role and email".to_owned()));
        };
        let field = |name: &str| match o.get(name) {
            Some(Value::String(v)) => Ok(v.clone()),
            _ => Err(at(format!("{name} is required and must be a string"))),
        };
        let photo = match o.get("photo") {
            None | Some(Value::Null) => None,
            Some(v) => Some(serde_json::from_value::<LogoRef>(v.clone()).map_err(|_| {
                at("photo must be {image_type, sha256} of an uploaded photo".to_owned())
            })?),
        };
        let member = TeamMember::new(&field("name")?, &field("role")?, &field("email")?, photo)
            .map_err(|e| match e {
                portal_core::Error::Invalid { field, reason } => at(format!("{field} {reason}")),
                other => ApiError::Core(other),
            })?;
        members.push(member);
    }
    Ok(members)
}

fn task_input(body: &Value) -> Result<TaskSpec, ApiError> {
    let m = object(body)?;
    let title = req_str(m, "title")?;
    let description = opt_str(m, "description")?.unwrap_or_default();
    let assignee = match opt_str(m, "assignee")? {
        None => Side::Client,
        Some(raw) => {
            Side::parse(&raw).map_err(|_| input::invalid("assignee", "use client or msp"))?
        }
    };
    let kind = match m.get("kind") {
        None | Some(Value::Null) => TaskKind::Standard,
        Some(v) => serde_json::from_value::<TaskKind>(v.clone())
            .map_err(|e| input::invalid("kind", e.to_string()))?,
    };
    let kind_ok = kind.validate();
    if let Err(e) = kind_ok {
        return Err(match e {
            Error::Invalid { reason, .. } => input::invalid("kind", reason),
            other => ApiError::Core(other),
        });
    }
    Ok(TaskSpec {
        title,
        description,
        assignee,
        kind,
        due_date: opt_date(m, "due_date")?,
    })
}

fn meeting_input(m: &serde_json::Map<String, Value>) -> Result<MeetingSchedule, ApiError> {
    Ok(MeetingSchedule {
        starts_at: req_time(m, "starts_at")?,
        time_zone: req_str(m, "time_zone")?,
        duration_minutes: opt_u32(m, "duration_minutes", 24 * 60)?
            .ok_or_else(|| input::invalid("duration_minutes", "is required"))?,
        meeting_url: opt_str(m, "meeting_url")?,
        agenda: opt_str(m, "agenda")?,
        sequence: 0,
        revised_at: None,
    })
}

/// An id in a body field (422 naming the field when it is not one).
fn req_id<T: std::str::FromStr>(
    m: &serde_json::Map<String, Value>,
    field: &'static str,
) -> Result<T, ApiError> {
    req_str(m, field)?
        .parse()
        .map_err(|_| input::invalid(field, "must be an id this API gave"))
}

/// A list of ids in a body field.
fn id_list<T: std::str::FromStr>(
    m: &serde_json::Map<String, Value>,
    field: &'static str,
) -> Result<Option<Vec<T>>, ApiError> {
    match m.get(field) {
        None => Ok(None),
        Some(Value::Array(list)) => list
            .iter()
            .map(|v| {
                v.as_str()
                    .and_then(|s| s.parse().ok())
                    .ok_or_else(|| input::invalid(field, "give a list of ids this API gave"))
            })
            .collect::<Result<Vec<T>, ApiError>>()
            .map(Some),
        Some(_) => Err(input::invalid(field, "give a list of ids")),
    }
}

/// A task's edit: every field present is changed; `due_date: null` clears the date.
fn task_patch(body: &Value) -> Result<TaskEdit, ApiError> {
    let m = object(body)?;
    let kind = match m.get("kind") {
        None | Some(Value::Null) => None,
        Some(v) => {
            let kind = serde_json::from_value::<TaskKind>(v.clone())
                .map_err(|e| input::invalid("kind", e.to_string()))?;
            kind.validate().map_err(|e| match e {
                Error::Invalid { reason, .. } => input::invalid("kind", reason),
                other => ApiError::Core(other),
            })?;
            Some(kind)
        }
    };
    let side = opt_str(m, "assignee")?
        .map(|raw| Side::parse(&raw).map_err(|_| input::invalid("assignee", "use client or msp")))
        .transpose()?;
    let due_date = if m.contains_key("due_date") {
        Some(opt_date(m, "due_date")?)
    } else {
        None
    };
    let internal = match m.get("internal") {
        None | Some(Value::Null) => None,
        Some(Value::Bool(b)) => Some(*b),
        Some(_) => return Err(input::invalid("internal", "must be true or false")),
    };
    // Absent keeps the role, null (or "") clears it.
    let for_role = if m.contains_key("for_role") {
        Some(opt_str(m, "for_role")?)
    } else {
        None
    };
    let edit = TaskEdit {
        for_role,
        title: opt_str(m, "title")?,
        description: opt_str(m, "description")?,
        kind,
        side,
        due_date,
        assigned_to: id_list::<ContactId>(m, "assigned_to")?,
        waits_on: id_list::<TaskId>(m, "waits_on")?,
        internal,
    };
    if edit == TaskEdit::default() {
        return Err(input::invalid("body", "change at least one field"));
    }
    Ok(edit)
}

/// A template's phases from the body (`None` when absent).
fn template_phases(
    m: &serde_json::Map<String, Value>,
) -> Result<Option<Vec<TemplatePhase>>, ApiError> {
    match m.get("phases") {
        None | Some(Value::Null) => Ok(None),
        Some(v) => serde_json::from_value::<Vec<TemplatePhase>>(v.clone())
            .map(Some)
            .map_err(|e| input::invalid("phases", e.to_string())),
    }
}

/// A boolean query option (`true`/`false`; absent is false).
fn query_flag(query: Option<&str>, name: &'static str) -> Result<bool, ApiError> {
    for (k, v) in form_urlencoded::parse(query.unwrap_or_default().as_bytes()) {
        if k == name {
            return match v.as_ref() {
                "true" | "1" => Ok(true),
                "false" | "0" => Ok(false),
                _ => Err(input::invalid(name, "use true or false")),
            };
        }
    }
    Ok(false)
}

/// Reminder settings from a body: every field given replaces the default (a `PUT`
/// states the whole settings); a field of the wrong type is 422 naming it.
fn reminder_input(body: &Value) -> Result<ReminderSettings, ApiError> {
    const FLAGS: &[&str] = &["enabled", "on_due_date"];
    const DAYS: &[&str] = &[
        "days_before",
        "days_after",
        "repeat_every_days",
        "local_hour",
        "escalate_after_days",
        "reescalate_after_days",
    ];
    let m = object(body)?;
    let mut merged = match serde_json::to_value(ReminderSettings::default()) {
        Ok(Value::Object(d)) => d,
        _ => serde_json::Map::new(),
    };
    for field in FLAGS {
        match m.get(*field) {
            None => {}
            Some(v @ Value::Bool(_)) => {
                merged.insert((*field).to_owned(), v.clone());
            }
            Some(_) => return Err(input::invalid(field, "must be true or false")),
        }
    }
    for field in DAYS {
        if let Some(n) = opt_u32(m, field, u32::MAX)? {
            merged.insert((*field).to_owned(), Value::from(n));
        }
    }
    serde_json::from_value(Value::Object(merged)).map_err(|e| input::invalid("body", e.to_string()))
}

/// A contact's `language` as the admin API takes it: `"en"` or `"es"`; anything else
/// is a 422 naming the field.
fn language_of(value: &Value) -> Result<portal_core::i18n::Language, ApiError> {
    value
        .as_str()
        .and_then(portal_core::i18n::Language::from_code)
        .ok_or_else(|| input::invalid("language", "must be \"en\", \"es\" or null"))
}

/// A guest's optional `access_ends_at` (RFC 3339, any offset, kept in UTC).
fn access_end(
    m: &serde_json::Map<String, Value>,
) -> Result<Option<chrono::DateTime<chrono::Utc>>, ApiError> {
    opt_str(m, "access_ends_at")?
        .map(|raw| {
            chrono::DateTime::parse_from_rfc3339(&raw)
                .map(|t| t.with_timezone(&chrono::Utc))
                .map_err(|_| {
                    input::invalid(
                        "access_ends_at",
                        "must be an RFC 3339 time like 2026-12-01T15:00:00Z",
                    )
                })
        })
        .transpose()
}
