//! The console's handlers: each reads what it shows from the admin API, or turns a
//! form into one API call and redirects back (POST-redirect-GET) with a message.

use askama::Template;
use http::{Method, StatusCode};
use serde_json::{Value, json};

use super::api::{Answer, Problem, percent};
use super::pages::{
    BrandingPage, CommentRow, ContactRow, DocRow, EndpointRow, FileRow, Frame, KeysPage, LogRow,
    PhaseRow, PortalPage, PortalRow, PortalsPage, QuestionRow, QueueRow, ReviewPage, SettingsPage,
    SignInPage, TaskPage, TaskRow, TemplatePage, TemplateRow, TemplateTask, TemplatesPage,
    WebhooksPage, n, s, when, who,
};
use super::session::{ApiKey, Flash, Staff};
use super::{Console, Ctx, Out, PREFIX, Upload, field};

type Handled = Result<Out, Problem>;

/// A branding preview: company, accent, text colour on it, welcome.
type Preview = (String, String, String, String);

/// What was typed into the branding form, and its preview if valid.
type Typed<'a> = (&'a [(String, String)], Option<Preview>);

/// Renders a template into a page.
fn render(t: &impl Template) -> Handled {
    t.render()
        .map(|html| Out::Page(StatusCode::OK, html))
        .map_err(|_| Problem::local("The page could not be rendered."))
}

/// A path segment from the URL, checked to be an id-like token before it goes into an
/// API path (no slashes, dots or query characters).
fn seg(raw: &str) -> Result<&str, Problem> {
    if !raw.is_empty()
        && raw.len() <= 64
        && raw
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    {
        Ok(raw)
    } else {
        Err(no_page())
    }
}

/// The problem of a console path that does not exist.
fn no_page() -> Problem {
    Problem {
        status: 404,
        message: "There is no such page in the console.".into(),
        fields: Vec::new(),
    }
}

/// A flash for a failed form: the problem's message, its field errors, what was typed.
fn failed(form_id: &str, p: Problem, values: &[(String, String)]) -> Flash {
    Flash {
        error: Some(if p.fields.is_empty() {
            p.message
        } else {
            "Please correct the fields marked below.".to_owned()
        }),
        form: form_id.to_owned(),
        fields: p.fields,
        values: values
            .iter()
            .filter(|(k, _)| k != "csrf" && k != "etag")
            .cloned()
            .collect(),
        ..Flash::default()
    }
}

fn notice(text: impl Into<String>) -> Flash {
    Flash {
        notice: Some(text.into()),
        ..Flash::default()
    }
}

/// A form's optional date field as JSON (`null` when empty).
fn date_or_null(raw: &str) -> Value {
    let raw = raw.trim();
    if raw.is_empty() {
        Value::Null
    } else {
        Value::String(raw.to_owned())
    }
}

/// `Some(text)` unless empty.
/// A reveal's values as (label, value), in the form's order.
fn revealed_values(answer: &Value) -> Vec<(String, String)> {
    [
        ("username", "Username"),
        ("password", "Password"),
        ("api_key", "API key"),
        ("notes", "Notes"),
    ]
    .into_iter()
    .filter_map(|(name, label)| {
        answer
            .get("fields")
            .and_then(|f| f.get(name))
            .and_then(Value::as_str)
            .map(|v| (label.to_owned(), v.to_owned()))
    })
    .collect()
}

fn non_empty(raw: &str) -> Option<&str> {
    let t = raw.trim();
    (!t.is_empty()).then_some(t)
}

impl Console {
    fn staff<'a>(&self, ctx: &'a Ctx) -> Result<&'a Staff, Problem> {
        ctx.session
            .as_ref()
            .and_then(|s| s.staff.as_ref())
            .ok_or(Problem {
                status: 401,
                message: "Sign in first.".into(),
                fields: Vec::new(),
            })
    }

    fn key<'a>(&self, ctx: &'a Ctx) -> Result<&'a ApiKey, Problem> {
        self.staff(ctx).map(|s| &s.key)
    }

    /// The frame of a signed-in page (takes the flash message).
    fn frame(&self, ctx: &Ctx, title: &str, nav: &'static str) -> Frame {
        let flash = ctx
            .sid
            .as_deref()
            .and_then(|id| self.sessions.take_flash(id))
            .unwrap_or_default();
        let (staff, role) = ctx
            .session
            .as_ref()
            .and_then(|s| s.staff.as_ref())
            .map(|s| (s.name.clone(), s.role.clone()))
            .unwrap_or_default();
        Frame {
            title: title.to_owned(),
            nonce: ctx.nonce.clone(),
            csrf: ctx
                .session
                .as_ref()
                .map(|s| s.csrf.clone())
                .unwrap_or_default(),
            staff,
            role,
            nav,
            flash,
        }
    }

    /// Leaves `flash` for the next page and redirects there.
    fn posted(&self, ctx: &Ctx, to: String, flash: Flash) -> Handled {
        if let Some(id) = &ctx.sid {
            self.sessions.set_flash(id, flash);
        }
        Ok(Out::Redirect(to))
    }

    /// Runs one API call for a form: on success the notice, on failure the problem
    /// next to the form's fields; then back to `to`.
    fn after(
        &self,
        ctx: &Ctx,
        to: String,
        form_id: &str,
        form: &[(String, String)],
        result: Result<Answer, Problem>,
        ok: impl FnOnce(&Answer) -> Flash,
    ) -> Handled {
        match result {
            Ok(a) => self.posted(ctx, to, ok(&a)),
            Err(p) if p.status == 401 => Err(p),
            Err(p) => self.posted(ctx, to, failed(form_id, p, form)),
        }
    }

    // ----- signing in ---------------------------------------------------------------

    pub(super) fn sign_in_page(&self, ctx: &Ctx, error: Option<String>) -> Out {
        let (sid, fresh) = match &ctx.sid {
            Some(id) => (id.clone(), false),
            None => (self.sessions.create(None, None), true),
        };
        let csrf = self.sessions.get(&sid).map(|s| s.csrf).unwrap_or_default();
        let status = if error.is_some() {
            StatusCode::UNAUTHORIZED
        } else {
            StatusCode::OK
        };
        let page = SignInPage {
            f: Frame {
                title: "Sign in".into(),
                nonce: ctx.nonce.clone(),
                csrf,
                ..Frame::default()
            },
            error,
        };
        let html = page.render().unwrap_or_default();
        if fresh {
            Out::PageWithSession(html, sid)
        } else {
            Out::Page(status, html)
        }
    }

    pub(super) async fn sign_in(&self, ctx: &Ctx, form: &[(String, String)]) -> Handled {
        let key = ApiKey::new(field(form, "key"));
        if key.expose().is_empty() {
            return Ok(self.sign_in_page(ctx, Some("Paste an API key.".into())));
        }
        match self.api.get(&key, "/me").await {
            Ok(me) => {
                let staff = Staff {
                    key,
                    name: s(&me.json, "name"),
                    role: s(&me.json, "role"),
                    tenant: s(&me.json, "tenant_id"),
                };
                // A new session id at sign-in: an id planted before cannot be used.
                if let Some(old) = &ctx.sid {
                    self.sessions.remove(old);
                }
                let sid = self.sessions.create(Some(staff), None);
                tracing::info!("a staff member signed in to the console");
                Ok(Out::RedirectWithSession(format!("{PREFIX}/portals"), sid))
            }
            Err(p) if p.status == 401 => Ok(self.sign_in_page(
                ctx,
                Some("That key was not accepted: check that you pasted the whole key (pk_ and 64 characters).".into()),
            )),
            Err(p) => Err(p),
        }
    }

    pub(super) fn sign_out(&self, ctx: &Ctx) -> Out {
        if let Some(id) = &ctx.sid {
            self.sessions.remove(id);
        }
        Out::Redirect(format!("{PREFIX}/sign-in"))
    }

    // ----- portals ------------------------------------------------------------------

    async fn template_choices(&self, key: &ApiKey) -> Vec<(String, String)> {
        // Templates are optional for every page that offers them: without the routes
        // (an older API) the choice is simply not offered.
        let mut choices: Vec<(String, String)> = self
            .api
            .list(key, "/templates", 500)
            .await
            .unwrap_or_default()
            .iter()
            .map(|t| (s(t, "id"), s(t, "name")))
            .collect();
        // The API pages templates by creation; people pick them by name.
        choices.sort_by(|a, b| a.1.cmp(&b.1).then_with(|| a.0.cmp(&b.0)));
        choices
    }

    pub(super) async fn portals_page(&self, ctx: &Ctx) -> Handled {
        let key = self.key(ctx)?;
        let portals = self.api.list(key, "/portals", 1000).await?;
        let page = PortalsPage {
            portals: portals.iter().map(PortalRow::of).collect(),
            templates: self.template_choices(key).await,
            f: self.frame(ctx, "Portals", "portals"),
        };
        render(&page)
    }

    pub(super) async fn create_portal(&self, ctx: &Ctx, form: &[(String, String)]) -> Handled {
        let key = self.key(ctx)?;
        let name = field(form, "client_name");
        let back = format!("{PREFIX}/portals");
        // Opening it at once is the creating call's `status`, not a second request.
        let open = field(form, "open") == "yes";
        let status = if open { "active" } else { "draft" };
        let result = match non_empty(field(form, "template")) {
            Some(t) => {
                let today = chrono::Utc::now().date_naive().to_string();
                let start = non_empty(field(form, "start_date")).unwrap_or(&today);
                let body = json!({ "client_name": name, "start_date": start, "status": status });
                self.api
                    .call(
                        key,
                        Method::POST,
                        &format!("/templates/{}/portals", seg(t)?),
                        Some(&body),
                        None,
                    )
                    .await
            }
            None => {
                self.api
                    .call(
                        key,
                        Method::POST,
                        "/portals",
                        Some(&json!({ "client_name": name, "status": status })),
                        None,
                    )
                    .await
            }
        };
        match result {
            Ok(a) => {
                let id = s(&a.json, "id");
                let to = format!("{PREFIX}/portals/{id}");
                let said = if s(&a.json, "status") == "active" {
                    format!("Created the portal for {name}; it is open to its contacts.")
                } else {
                    format!("Created the portal for {name} as a draft.")
                };
                self.posted(ctx, to, notice(said))
            }
            Err(p) if p.status == 401 => Err(p),
            Err(p) => self.posted(ctx, back, failed("create-portal", p, form)),
        }
    }

    pub(super) async fn portal_page(&self, ctx: &Ctx, p: &str) -> Handled {
        let key = self.key(ctx)?;
        let p = seg(p)?;
        let detail = self.api.get(key, &format!("/portals/{p}")).await?;
        let tab = match ctx.q("tab") {
            Some(t @ ("plan" | "contacts" | "questions" | "documents" | "activity" | "access")) => {
                t.to_owned()
            }
            _ => "plan".to_owned(),
        };
        let row = PortalRow::of(&detail.json);
        let mut page = PortalPage {
            f: self.frame(ctx, &row.name, "portals"),
            etag: detail.etag.clone().unwrap_or_default(),
            target_raw: s(&detail.json, "target_date"),
            p: row,
            tab: tab.clone(),
            phases: Vec::new(),
            contacts: Vec::new(),
            questions: Vec::new(),
            documents: Vec::new(),
            log: Vec::new(),
            next: None,
            older: false,
            team_lines: String::new(),
            team_members: Vec::new(),
            team_etag: String::new(),
            invitations: s(&detail.json, "colleague_invitations"),
        };
        match tab.as_str() {
            "plan" => {
                // The plan route lists internal tasks and versions too; a portal's
                // detail (an older API) has the same phases without them.
                let plan = match self.api.get(key, &format!("/portals/{p}/plan")).await {
                    Ok(a) => a.json,
                    Err(e) if e.status == 404 => detail.json.clone(),
                    Err(e) => return Err(e),
                };
                page.phases = plan
                    .get("phases")
                    .and_then(Value::as_array)
                    .map(|list| list.iter().map(PhaseRow::of).collect())
                    .unwrap_or_default();
            }
            "contacts" => {
                let all = self
                    .api
                    .list(key, &format!("/portals/{p}/contacts"), 1000)
                    .await?;
                let team = self.api.get(key, &format!("/portals/{p}/team")).await?;
                page.team_etag = team.etag.clone().unwrap_or_default();
                let members = team_members(&team.json);
                page.team_members = members
                    .iter()
                    .map(|m| crate::console::pages::TeamMemberRow {
                        email: s(m, "email"),
                        name: s(m, "name"),
                        has_photo: m.get("photo").is_some_and(|p| !p.is_null()),
                    })
                    .collect();
                page.team_lines = members
                    .iter()
                    .map(|m| format!("{} | {} | {}", s(m, "name"), s(m, "role"), s(m, "email")))
                    .collect::<Vec<_>>()
                    .join("\n");
                page.contacts = all
                    .iter()
                    .map(|c| ContactRow {
                        id: s(c, "id"),
                        name: s(c, "name"),
                        email: s(c, "email"),
                        revoked: c
                            .get("revoked_at")
                            .and_then(Value::as_str)
                            .map(when)
                            .unwrap_or_default(),
                        last_access: c
                            .get("last_access")
                            .and_then(Value::as_str)
                            .map(when)
                            .unwrap_or_default(),
                        role: s(c, "role"),
                        language: s(c, "language"),
                        awaiting: c.get("awaiting_approval").and_then(Value::as_bool) == Some(true),
                    })
                    .collect();
            }
            "questions" => {
                let all = self
                    .api
                    .list(key, &format!("/portals/{p}/questions"), 500)
                    .await?;
                page.questions = all
                    .iter()
                    .map(|q| QuestionRow {
                        id: s(q, "id"),
                        who: q.get("asked_by").map(who).unwrap_or_default(),
                        text: s(q, "text"),
                        at: when(&s(q, "asked_at")),
                        to: q
                            .get("to")
                            .filter(|t| !t.is_null())
                            .map(|t| format!("{}, {}", s(t, "name"), s(t, "role")))
                            .unwrap_or_default(),
                        answer: q.get("answer").filter(|a| !a.is_null()).map(|a| {
                            (
                                a.get("by").map(who).unwrap_or_default(),
                                s(a, "text"),
                                when(&s(a, "at")),
                            )
                        }),
                    })
                    .collect();
            }
            "documents" => {
                let all = self
                    .api
                    .list(key, &format!("/portals/{p}/documents"), 500)
                    .await?;
                page.documents = all
                    .iter()
                    .map(|d| DocRow {
                        task: s(d, "task_title"),
                        name: s(d, "name"),
                        status: s(d, "status"),
                        versions: d
                            .get("versions")
                            .and_then(Value::as_array)
                            .map(|vs| vs.iter().map(FileRow::of).collect())
                            .unwrap_or_default(),
                    })
                    .collect();
            }
            _ => {
                let cursor = ctx.q("cursor");
                page.older = cursor.is_some();
                let path = if tab == "activity" {
                    format!("/portals/{p}/activity")
                } else {
                    format!("/portals/{p}/access-log")
                };
                let (items, next) = self.api.page(key, &path, 25, cursor).await?;
                // The access log names contacts by id: the contacts list names them.
                let names: Vec<(String, String)> = if tab == "access" {
                    self.api
                        .list(key, &format!("/portals/{p}/contacts"), 1000)
                        .await?
                        .iter()
                        .map(|c| (s(c, "id"), s(c, "name")))
                        .collect()
                } else {
                    Vec::new()
                };
                page.next = next.map(|c| percent(&c));
                page.log = items
                    .iter()
                    .map(|e| {
                        if tab == "activity" {
                            LogRow {
                                at: when(&s(e, "at")),
                                text: s(e, "summary"),
                                detail: e.get("actor").map(who).unwrap_or_default(),
                            }
                        } else {
                            LogRow {
                                at: when(&s(e, "at")),
                                text: s(e, "event").replace('_', " "),
                                detail: {
                                    let id = s(e, "contact_id");
                                    let who = names
                                        .iter()
                                        .find(|(c, _)| *c == id)
                                        .map_or("a removed contact", |(_, n)| n.as_str());
                                    format!("{who}, from {} ({})", s(e, "ip"), s(e, "user_agent"))
                                },
                            }
                        }
                    })
                    .collect();
            }
        }
        render(&page)
    }

    pub(super) async fn portal_settings(
        &self,
        ctx: &Ctx,
        p: &str,
        form: &[(String, String)],
    ) -> Handled {
        let key = self.key(ctx)?;
        let p = seg(p)?;
        let mut body = json!({
            "client_name": field(form, "client_name"),
            "target_date": date_or_null(field(form, "target_date")),
        });
        if let Some(status) = non_empty(field(form, "status")) {
            body["status"] = json!(status);
        }
        let result = self
            .api
            .call(
                key,
                Method::PATCH,
                &format!("/portals/{p}"),
                Some(&body),
                Some(field(form, "etag")),
            )
            .await;
        let to = format!("{PREFIX}/portals/{p}");
        self.after(ctx, to, "settings", form, result, |_| notice("Saved."))
    }

    /// Replaces the onboarding team from its editor: one member a line, "Name | Role
    /// | email", in the order the client's home page shows them. A member who keeps
    /// their email keeps their photo (photos are uploaded through the API).
    pub(super) async fn set_team(&self, ctx: &Ctx, p: &str, form: &[(String, String)]) -> Handled {
        let key = self.key(ctx)?;
        let p = seg(p)?;
        let back = format!("{PREFIX}/portals/{p}?tab=contacts");
        let current = self.api.get(key, &format!("/portals/{p}/team")).await?;
        let current = team_members(&current.json);
        let photo_of = |email: &str| {
            current
                .iter()
                .find(|m| s(m, "email").eq_ignore_ascii_case(email))
                .and_then(|m| m.get("photo").cloned())
                .unwrap_or(Value::Null)
        };
        let mut members = Vec::new();
        for (i, line) in field(form, "members").lines().enumerate() {
            if line.trim().is_empty() {
                continue;
            }
            let parts: Vec<&str> = line.split('|').map(str::trim).collect();
            let [name, role, email] = parts[..] else {
                let flash = Flash {
                    error: Some("Please correct the fields marked below.".to_owned()),
                    form: "team".to_owned(),
                    fields: vec![(
                        "members".to_owned(),
                        format!(
                            "line {}: write \"Name | Role | email\" (three parts)",
                            i + 1
                        ),
                    )],
                    values: vec![("members".to_owned(), field(form, "members").to_owned())],
                    ..Flash::default()
                };
                return self.posted(ctx, back, flash);
            };
            members.push(json!({
                "name": name, "role": role, "email": email, "photo": photo_of(email),
            }));
        }
        let body = json!({ "members": members });
        let result = self
            .api
            .call(
                key,
                Method::PUT,
                &format!("/portals/{p}/team"),
                Some(&body),
                Some(field(form, "etag")),
            )
            .await;
        self.after(ctx, back, "team", form, result, |_| {
            notice("Saved the onboarding team.")
        })
    }

    /// Gives a team member a photo: the file is stored through the API's photo upload,
    /// then the team is written back with that member's `photo` set (under the team's
    /// version as read, so an edit made meanwhile is not overwritten).
    pub(super) async fn team_photo(
        &self,
        ctx: &Ctx,
        p: &str,
        form: &[(String, String)],
        upload: Option<Upload>,
    ) -> Handled {
        use base64::Engine as _;
        let key = self.key(ctx)?;
        let p = seg(p)?;
        let back = format!("{PREFIX}/portals/{p}?tab=contacts");
        let photo_error = |message: String| Flash {
            error: Some("The photo was not saved.".to_owned()),
            form: "photo".to_owned(),
            fields: vec![("photo".to_owned(), message)],
            ..Flash::default()
        };
        let Some(file) = upload else {
            let flash = photo_error("Choose a PNG, JPEG or WebP picture.".to_owned());
            return self.posted(ctx, back, flash);
        };
        let email = field(form, "email");
        let current = self.api.get(key, &format!("/portals/{p}/team")).await?;
        let mut members = team_members(&current.json);
        let Some(member) = members
            .iter_mut()
            .find(|m| s(m, "email").eq_ignore_ascii_case(email))
        else {
            let flash = photo_error(
                "That person is no longer on the team: reload the page and choose again."
                    .to_owned(),
            );
            return self.posted(ctx, back, flash);
        };
        let body = json!({
            "data_base64": base64::engine::general_purpose::STANDARD.encode(&file.bytes),
        });
        let stored = match self
            .api
            .call(
                key,
                Method::POST,
                &format!("/portals/{p}/team/photo"),
                Some(&body),
                None,
            )
            .await
        {
            Ok(a) => a,
            Err(e) if e.status == 401 => return Err(e),
            Err(e) => {
                let why = e.fields.first().map_or(e.message, |f| f.1.clone());
                return self.posted(ctx, back, photo_error(why));
            }
        };
        let name = s(member, "name");
        if let Some(m) = member.as_object_mut() {
            m.insert("photo".to_owned(), stored.json);
        }
        let result = self
            .api
            .call(
                key,
                Method::PUT,
                &format!("/portals/{p}/team"),
                Some(&json!({ "members": members })),
                current.etag.as_deref(),
            )
            .await;
        self.after(ctx, back, "photo", form, result, |_| {
            notice(format!(
                "Saved {name}'s photo. The client sees it on their home page."
            ))
        })
    }

    /// Whether the portal's contacts may invite colleagues (an admin's setting; the
    /// portal's version from the page guards against a change made meanwhile).
    pub(super) async fn set_invitations(
        &self,
        ctx: &Ctx,
        p: &str,
        form: &[(String, String)],
    ) -> Handled {
        let key = self.key(ctx)?;
        let p = seg(p)?;
        let back = format!("{PREFIX}/portals/{p}?tab=contacts");
        let body = json!({ "mode": field(form, "mode") });
        let result = self
            .api
            .call(
                key,
                Method::PUT,
                &format!("/portals/{p}/colleague-invitations"),
                Some(&body),
                Some(field(form, "etag")),
            )
            .await;
        self.after(ctx, back, "invitations", form, result, |_| {
            notice("Saved how colleagues are invited.")
        })
    }

    pub(super) async fn delete_portal(
        &self,
        ctx: &Ctx,
        p: &str,
        form: &[(String, String)],
    ) -> Handled {
        let key = self.key(ctx)?;
        let p = seg(p)?;
        let back = format!("{PREFIX}/portals/{p}");
        if field(form, "confirm") != "yes" {
            let flash = Flash {
                error: Some("Tick the box to confirm the deletion.".into()),
                ..Flash::default()
            };
            return self.posted(ctx, back, flash);
        }
        let result = self
            .api
            .call(key, Method::DELETE, &format!("/portals/{p}"), None, None)
            .await;
        match result {
            Ok(_) => self.posted(
                ctx,
                format!("{PREFIX}/portals"),
                notice("Deleted the portal and everything in it."),
            ),
            Err(e) if e.status == 401 => Err(e),
            Err(e) => self.posted(ctx, back, failed("settings", e, form)),
        }
    }

    pub(super) async fn add_phase(&self, ctx: &Ctx, p: &str, form: &[(String, String)]) -> Handled {
        let key = self.key(ctx)?;
        let p = seg(p)?;
        let result = self
            .api
            .call(
                key,
                Method::POST,
                &format!("/portals/{p}/phases"),
                Some(&json!({ "name": field(form, "name") })),
                None,
            )
            .await;
        let to = format!("{PREFIX}/portals/{p}");
        self.after(ctx, to, "add-phase", form, result, |_| {
            notice("Added the phase.")
        })
    }

    pub(super) async fn add_task(
        &self,
        ctx: &Ctx,
        p: &str,
        ph: &str,
        form: &[(String, String)],
    ) -> Handled {
        let key = self.key(ctx)?;
        let (p, ph) = (seg(p)?, seg(ph)?);
        let body = json!({
            "title": field(form, "title"),
            "description": field(form, "description"),
            "assignee": non_empty(field(form, "assignee")).unwrap_or("client"),
            "due_date": date_or_null(field(form, "due_date")),
        });
        let result = self
            .api
            .call(
                key,
                Method::POST,
                &format!("/portals/{p}/phases/{ph}/tasks"),
                Some(&body),
                None,
            )
            .await;
        let to = format!("{PREFIX}/portals/{p}");
        self.after(ctx, to, ph, form, result, |_| notice("Added the task."))
    }

    pub(super) async fn phase_action(
        &self,
        ctx: &Ctx,
        p: &str,
        ph: &str,
        action: &str,
        form: &[(String, String)],
    ) -> Handled {
        let key = self.key(ctx)?;
        let (p, ph) = (seg(p)?, seg(ph)?);
        let path = format!("/portals/{p}/phases/{ph}");
        let etag = non_empty(field(form, "etag")).unwrap_or("*");
        let result = match action {
            "rename" => {
                let body = json!({ "name": field(form, "name") });
                self.api
                    .call(key, Method::PATCH, &path, Some(&body), Some(etag))
                    .await
            }
            "up" | "down" => {
                let plan = self.api.get(key, &format!("/portals/{p}/plan")).await?;
                let at = plan
                    .json
                    .get("phases")
                    .and_then(Value::as_array)
                    .and_then(|l| l.iter().position(|x| s(x, "id") == ph))
                    .ok_or_else(no_page)?;
                match neighbour(at, action) {
                    Some(to) => {
                        let body = json!({ "position": to });
                        self.api
                            .call(
                                key,
                                Method::POST,
                                &format!("{path}/move"),
                                Some(&body),
                                Some(etag),
                            )
                            .await
                    }
                    None => Err(Problem::local("The phase is already first.")),
                }
            }
            "delete" => {
                self.api
                    .call(
                        key,
                        Method::DELETE,
                        &format!("{path}?with_tasks=true"),
                        None,
                        Some(etag),
                    )
                    .await
            }
            _ => return Err(no_page()),
        };
        let to = format!("{PREFIX}/portals/{p}");
        let done = match action {
            "rename" => "Renamed the phase.",
            "delete" => "Deleted the phase and its tasks.",
            _ => "Moved the phase.",
        };
        self.after(ctx, to, "phase", form, result, |_| notice(done))
    }

    // ----- tasks --------------------------------------------------------------------

    pub(super) async fn task_page(&self, ctx: &Ctx, p: &str, t: &str) -> Handled {
        self.task_page_with(ctx, p, t, None).await
    }

    /// The task page, with a credential handoff's just-revealed values if any.
    async fn task_page_with(
        &self,
        ctx: &Ctx,
        p: &str,
        t: &str,
        revealed: Option<Vec<(String, String)>>,
    ) -> Handled {
        let key = self.key(ctx)?;
        let (p, t) = (seg(p)?, seg(t)?);
        let portal = self.api.get(key, &format!("/portals/{p}")).await?;
        let task = self
            .api
            .get(key, &format!("/portals/{p}/tasks/{t}"))
            .await?;
        let comments = self
            .api
            .list(key, &format!("/portals/{p}/tasks/{t}/comments"), 500)
            .await?;
        let plan = self
            .api
            .get(key, &format!("/portals/{p}/plan"))
            .await
            .map(|a| a.json)
            .unwrap_or(Value::Null);
        let row = TaskRow::of(&task.json);
        let drops = if task.json["kind"]["type"] == "secure_file_drop" {
            self.api
                .list(key, &format!("/portals/{p}/tasks/{t}/drops"), 500)
                .await?
                .iter()
                .map(crate::console::pages::DropRow::of)
                .collect()
        } else {
            Vec::new()
        };
        let shared = self
            .api
            .list(key, &format!("/portals/{p}/tasks/{t}/attachments"), 100)
            .await?
            .iter()
            .map(crate::console::pages::SharedRow::of)
            .collect();
        let signature = if task.json["kind"]["type"] == "signature" {
            Some(self.signature_block(key, p, t).await?)
        } else {
            None
        };
        let contacts = plan
            .get("contacts")
            .and_then(Value::as_array)
            .map(|l| {
                l.iter()
                    .filter(|c| c.get("revoked").and_then(Value::as_bool) != Some(true))
                    .map(|c| {
                        let id = s(c, "id");
                        let ticked = row.assigned_to.contains(&id);
                        (id, s(c, "name"), ticked)
                    })
                    .collect()
            })
            .unwrap_or_default();
        let phases = plan
            .get("phases")
            .and_then(Value::as_array)
            .map(|l| {
                l.iter()
                    .map(|ph| {
                        let id = s(ph, "id");
                        let here = id == row.phase_id;
                        (id, s(ph, "name"), here)
                    })
                    .collect()
            })
            .unwrap_or_default();
        let page = TaskPage {
            shared,
            contacts,
            phases,
            revealed,
            drops,
            signature,
            answers: crate::console::pages::answer_lines(&task.json),
            stuck: crate::console::pages::StuckRow::of(&task.json),
            due_requests: crate::console::pages::DueRow::all(&task.json),
            f: self.frame(ctx, &row.title, "portals"),
            portal_id: p.to_owned(),
            portal_name: s(&portal.json, "client_name"),
            description: s(&task.json, "description"),
            due_raw: s(&task.json, "due_date"),
            for_role: s(&task.json, "for_role"),
            etag: task.etag.unwrap_or_default(),
            t: row,
            comments: comments
                .iter()
                .map(|c| {
                    let author = c.get("author").cloned().unwrap_or(Value::Null);
                    CommentRow {
                        who: who(&author),
                        staff: s(&author, "side") == "msp",
                        body: s(c, "body"),
                        at: when(&s(c, "at")),
                    }
                })
                .collect(),
        };
        render(&page)
    }

    /// A signature task's block: its document (if attached) and its signature with
    /// the verification (if signed). A 404 of either is "none yet".
    async fn signature_block(
        &self,
        key: &ApiKey,
        p: &str,
        t: &str,
    ) -> Result<crate::console::pages::SignatureBlock, Problem> {
        let optional = |r: Result<crate::console::api::Answer, Problem>| match r {
            Ok(a) => Ok(Some(a.json)),
            Err(e) if e.status == 404 => Ok(None),
            Err(e) => Err(e),
        };
        let document = optional(
            self.api
                .get(
                    key,
                    &format!("/portals/{p}/tasks/{t}/signature/document/info"),
                )
                .await,
        )?;
        let evidence = optional(
            self.api
                .get(key, &format!("/portals/{p}/tasks/{t}/signature"))
                .await,
        )?;
        Ok(crate::console::pages::SignatureBlock::of(
            document.as_ref(),
            evidence.as_ref(),
        ))
    }

    /// Attaches the document to sign (the form's file, sent to the API as the raw
    /// body under its file name).
    pub(super) async fn attach_document(
        &self,
        ctx: &Ctx,
        p: &str,
        t: &str,
        upload: Option<Upload>,
    ) -> Handled {
        let send = FileSend {
            form: "document",
            missing: ("Choose a file to attach.", "Choose the document to sign."),
            method: Method::PUT,
            route: "signature/document",
            done: ("Attached", "The client sees it on the task's page."),
        };
        self.send_task_file(ctx, p, t, upload, send).await
    }

    /// Shares a file with the client on a task (the form's file, sent to the API as the
    /// raw body under its file name).
    pub(super) async fn share_file(
        &self,
        ctx: &Ctx,
        p: &str,
        t: &str,
        upload: Option<Upload>,
    ) -> Handled {
        let send = FileSend {
            form: "shared",
            missing: ("Choose a file to share.", "Choose the file to share."),
            method: Method::POST,
            route: "attachments",
            done: (
                "Shared",
                "The client opens it from the task's page and the Documents tab.",
            ),
        };
        self.send_task_file(ctx, p, t, upload, send).await
    }

    /// Sends a task form's file to the API as the raw body under its file name, and
    /// back to the task's page with the outcome; the API's refusal (type, size) is
    /// shown on the form's file field.
    async fn send_task_file(
        &self,
        ctx: &Ctx,
        p: &str,
        t: &str,
        upload: Option<Upload>,
        send: FileSend,
    ) -> Handled {
        let key = self.key(ctx)?;
        let (p, t) = (seg(p)?, seg(t)?);
        let to = format!("{PREFIX}/portals/{p}/tasks/{t}");
        let Some(file) = upload else {
            let flash = Flash {
                form: send.form.into(),
                error: Some(send.missing.0.into()),
                fields: vec![("file".into(), send.missing.1.into())],
                ..Flash::default()
            };
            return self.posted(ctx, to, flash);
        };
        let path = format!(
            "/portals/{p}/tasks/{t}/{}?name={}",
            send.route,
            crate::console::api::percent(&file.file_name)
        );
        let result = self
            .api
            .send_file(
                key,
                send.method,
                &path,
                "application/octet-stream",
                file.bytes,
            )
            .await;
        match result {
            Ok(a) => self.posted(
                ctx,
                to,
                notice(format!(
                    "{} {}. {}",
                    send.done.0,
                    s(&a.json, "name"),
                    send.done.1
                )),
            ),
            Err(e) if e.status == 401 => Err(e),
            Err(e) => self.posted(ctx, to, failed(send.form, on_file_field(e), &[])),
        }
    }

    /// A shared file, streamed from the API.
    pub(super) async fn shared_file(&self, ctx: &Ctx, p: &str, a: &str) -> Handled {
        let key = self.key(ctx)?;
        let (p, a) = (seg(p)?, seg(a)?);
        let path = format!("/portals/{p}/attachments/{a}");
        let response = self.api.send(key, Method::GET, &path, None, None).await;
        if response.status().is_success() {
            return Ok(Out::Raw(response));
        }
        Err(Problem {
            status: response.status().as_u16(),
            message: "There is no such shared file.".into(),
            fields: Vec::new(),
        })
    }

    /// Deletes a shared file, back to its task's page (the form's `task`).
    pub(super) async fn delete_shared(
        &self,
        ctx: &Ctx,
        p: &str,
        a: &str,
        form: &[(String, String)],
    ) -> Handled {
        let key = self.key(ctx)?;
        let (p, a) = (seg(p)?, seg(a)?);
        let t = seg(crate::console::field(form, "task"))?;
        let to = format!("{PREFIX}/portals/{p}/tasks/{t}");
        let path = format!("/portals/{p}/attachments/{a}");
        match self.api.call(key, Method::DELETE, &path, None, None).await {
            Ok(_) => self.posted(ctx, to, notice("Deleted the shared file.".to_owned())),
            Err(e) if e.status == 401 => Err(e),
            Err(e) => self.posted(ctx, to, failed("shared", e, &[])),
        }
    }

    /// A signature task's document or drawn image, streamed from the API.
    pub(super) async fn signature_file(&self, ctx: &Ctx, p: &str, t: &str, which: &str) -> Handled {
        let key = self.key(ctx)?;
        let (p, t) = (seg(p)?, seg(t)?);
        let path = if which == "image" {
            format!("/portals/{p}/tasks/{t}/signature/image")
        } else {
            format!("/portals/{p}/tasks/{t}/signature/document")
        };
        let response = self.api.send(key, Method::GET, &path, None, None).await;
        if response.status().is_success() {
            return Ok(Out::Raw(response));
        }
        Err(Problem {
            status: response.status().as_u16(),
            message: "There is no such file on this task.".into(),
            fields: Vec::new(),
        })
    }

    /// The MSP's evidence certificate of a signature: every hash recomputed by the
    /// API, printable.
    pub(super) async fn certificate_page(&self, ctx: &Ctx, p: &str, t: &str) -> Handled {
        let key = self.key(ctx)?;
        let (p, t) = (seg(p)?, seg(t)?);
        let portal = self.api.get(key, &format!("/portals/{p}")).await?;
        let task = self
            .api
            .get(key, &format!("/portals/{p}/tasks/{t}"))
            .await?;
        let evidence = self
            .api
            .get(key, &format!("/portals/{p}/tasks/{t}/signature"))
            .await?;
        let title = s(&task.json, "title");
        let page = crate::console::pages::CertificatePage {
            f: self.frame(ctx, &format!("Signature certificate: {title}"), "portals"),
            portal_id: p.to_owned(),
            portal_name: s(&portal.json, "client_name"),
            task_id: t.to_owned(),
            task_title: title,
            block: crate::console::pages::SignatureBlock::of(None, Some(&evidence.json)),
            lines: crate::console::pages::certificate_lines(&evidence.json),
        };
        render(&page)
    }

    pub(super) async fn edit_task(
        &self,
        ctx: &Ctx,
        p: &str,
        t: &str,
        form: &[(String, String)],
    ) -> Handled {
        let key = self.key(ctx)?;
        let (p, t) = (seg(p)?, seg(t)?);
        let mut body = json!({
            "title": field(form, "title"),
            "description": field(form, "description"),
            "due_date": date_or_null(field(form, "due_date")),
        });
        if field(form, "internal_shown") == "yes" {
            body["internal"] = json!(field(form, "internal") == "yes");
        } else {
            let assigned: Vec<&str> = form
                .iter()
                .filter(|(k, _)| k == "assigned_to")
                .map(|(_, v)| v.as_str())
                .collect();
            body["assigned_to"] = json!(assigned);
            body["for_role"] = json!(non_empty(field(form, "for_role")));
        }
        let result = self
            .api
            .call(
                key,
                Method::PATCH,
                &format!("/portals/{p}/tasks/{t}"),
                Some(&body),
                Some(field(form, "etag")),
            )
            .await;
        let to = format!("{PREFIX}/portals/{p}/tasks/{t}");
        self.after(ctx, to, "edit", form, result, |_| notice("Saved the task."))
    }

    pub(super) async fn reply(
        &self,
        ctx: &Ctx,
        p: &str,
        t: &str,
        form: &[(String, String)],
    ) -> Handled {
        let key = self.key(ctx)?;
        let (p, t) = (seg(p)?, seg(t)?);
        let result = self
            .api
            .call(
                key,
                Method::POST,
                &format!("/portals/{p}/tasks/{t}/comments"),
                Some(&json!({ "body": field(form, "body") })),
                None,
            )
            .await;
        let to = format!("{PREFIX}/portals/{p}/tasks/{t}");
        self.after(ctx, to, "reply", form, result, |_| {
            notice("Sent your reply.")
        })
    }

    pub(super) async fn task_action(
        &self,
        ctx: &Ctx,
        p: &str,
        t: &str,
        action: &str,
        form: &[(String, String)],
    ) -> Handled {
        let key = self.key(ctx)?;
        let (p, t) = (seg(p)?, seg(t)?);
        let path = format!("/portals/{p}/tasks/{t}");
        let etag = non_empty(field(form, "etag")).unwrap_or("*");
        let back_to_task = format!("{PREFIX}/portals/{p}/tasks/{t}");
        let plan = format!("{PREFIX}/portals/{p}");
        let (result, to, done) = match action {
            "block" => (
                self.api
                    .call(
                        key,
                        Method::POST,
                        &format!("{path}/block"),
                        Some(&json!({ "reason": field(form, "reason") })),
                        Some(etag),
                    )
                    .await,
                back_to_task,
                "Blocked the task.",
            ),
            "unblock" | "reopen" => (
                self.api
                    .call(
                        key,
                        Method::POST,
                        &format!("{path}/{action}"),
                        None,
                        Some(etag),
                    )
                    .await,
                back_to_task,
                if action == "unblock" {
                    "Unblocked the task."
                } else {
                    "Reopened the task."
                },
            ),
            "clear-stuck" => {
                let answer = non_empty(field(form, "answer"));
                (
                    self.api
                        .call(
                            key,
                            Method::POST,
                            &format!("{path}/stuck/clear"),
                            Some(&json!({ "answer": answer })),
                            Some(etag),
                        )
                        .await,
                    back_to_task,
                    "Answered and cleared: the client is emailed.",
                )
            }
            "due-date" => {
                let number = field(form, "number");
                if number.is_empty() || !number.bytes().all(|b| b.is_ascii_digit()) {
                    return Err(no_page());
                }
                let approve = field(form, "decision") == "approve";
                let note = non_empty(field(form, "note"));
                let back = if field(form, "from") == "review" {
                    format!("{PREFIX}/review")
                } else {
                    back_to_task
                };
                (
                    self.api
                        .call(
                            key,
                            Method::POST,
                            &format!("{path}/due-date-requests/{number}/decision"),
                            Some(&json!({ "approve": approve, "note": note })),
                            Some(etag),
                        )
                        .await,
                    back,
                    if approve {
                        "Approved the new due date: the client is emailed."
                    } else {
                        "Declined the new due date: the client is emailed."
                    },
                )
            }
            "complete" => {
                let notes = non_empty(field(form, "notes"));
                (
                    self.api
                        .call(
                            key,
                            Method::POST,
                            &format!("{path}/complete"),
                            Some(&json!({ "notes": notes })),
                            Some(etag),
                        )
                        .await,
                    back_to_task,
                    "Completed the task.",
                )
            }
            "up" | "down" | "to-phase" => {
                let task = self.api.get(key, &path).await?.json;
                let body = if action == "to-phase" {
                    // Clamped to the end of the phase by the API.
                    Some(json!({ "phase": field(form, "phase"), "position": 100_000 }))
                } else {
                    usize::try_from(n(&task, "position"))
                        .ok()
                        .and_then(|at| neighbour(at, action))
                        .map(|to| json!({ "phase": s(&task, "phase_id"), "position": to }))
                };
                let result = match body {
                    Some(b) => {
                        self.api
                            .call(
                                key,
                                Method::POST,
                                &format!("{path}/move"),
                                Some(&b),
                                Some(etag),
                            )
                            .await
                    }
                    None => Err(Problem::local("The task is already first in its phase.")),
                };
                let to = if action == "to-phase" {
                    back_to_task
                } else {
                    plan
                };
                (result, to, "Moved the task.")
            }
            "delete" => (
                self.api
                    .call(key, Method::DELETE, &path, None, Some(etag))
                    .await,
                plan,
                "Deleted the task.",
            ),
            "reveal" => {
                // The values are answered on this page only (no redirect, no flash):
                // nothing keeps them after the answer. The API records the reveal and
                // its reason in the audit trail.
                let body = json!({ "reason": field(form, "reason") });
                let result = self
                    .api
                    .call(
                        key,
                        Method::POST,
                        &format!("{path}/credentials/reveal"),
                        Some(&body),
                        None,
                    )
                    .await;
                return match result {
                    Ok(a) => {
                        let values = revealed_values(&a.json);
                        self.task_page_with(ctx, p, t, Some(values)).await
                    }
                    Err(e) if e.status == 401 => Err(e),
                    Err(e) => self.posted(ctx, back_to_task, failed("reveal", e, form)),
                };
            }
            _ => return Err(no_page()),
        };
        self.after(ctx, to, "edit", form, result, |_| notice(done))
    }

    // ----- contacts and questions ----------------------------------------------------

    pub(super) async fn add_contact(
        &self,
        ctx: &Ctx,
        p: &str,
        form: &[(String, String)],
    ) -> Handled {
        let key = self.key(ctx)?;
        let p = seg(p)?;
        let to = format!("{PREFIX}/portals/{p}?tab=contacts");
        let body = json!({
            "name": field(form, "name"),
            "email": field(form, "email"),
            "role": field(form, "role"),
            "language": non_empty(field(form, "language")),
        });
        let added = self
            .api
            .call(
                key,
                Method::POST,
                &format!("/portals/{p}/contacts"),
                Some(&body),
                None,
            )
            .await;
        let contact = match added {
            Ok(a) => a.json,
            Err(e) if e.status == 401 => return Err(e),
            Err(e) => return self.posted(ctx, to, failed("add-contact", e, form)),
        };
        let name = s(&contact, "name");
        if field(form, "invite") != "yes" {
            return self.posted(ctx, to, notice(format!("Added {name}.")));
        }
        let c = s(&contact, "id");
        let invited = self
            .api
            .call(
                key,
                Method::POST,
                &format!("/portals/{p}/contacts/{c}/invite"),
                None,
                None,
            )
            .await;
        self.after(ctx, to, "add-contact", form, invited, |a| Flash {
            notice: Some(format!("Added {name} and emailed them an invite.")),
            secret: Some((format!("Invite link for {name}."), s(&a.json, "invite_url"))),
            ..Flash::default()
        })
    }

    pub(super) async fn contact_action(
        &self,
        ctx: &Ctx,
        p: &str,
        c: &str,
        action: &str,
        form: &[(String, String)],
    ) -> Handled {
        let key = self.key(ctx)?;
        let (p, c) = (seg(p)?, seg(c)?);
        let to = format!("{PREFIX}/portals/{p}?tab=contacts");
        let path = format!("/portals/{p}/contacts/{c}");
        match action {
            "invite" | "invite-link" => {
                let result = self
                    .api
                    .call(key, Method::POST, &format!("{path}/{action}"), None, None)
                    .await;
                let emailed = action == "invite";
                self.after(ctx, to, c, form, result, |a| {
                    let name = a
                        .json
                        .get("contact")
                        .map(|x| s(x, "name"))
                        .unwrap_or_default();
                    Flash {
                        notice: Some(if emailed {
                            format!("Emailed a new invite to {name}; earlier links stop working.")
                        } else {
                            format!("Made a new invite link for {name} (not emailed); earlier links stop working.")
                        }),
                        secret: Some((
                            format!("Invite link for {name}."),
                            s(&a.json, "invite_url"),
                        )),
                        ..Flash::default()
                    }
                })
            }
            "remove" => {
                let result = self.api.call(key, Method::DELETE, &path, None, None).await;
                self.after(ctx, to, c, form, result, |_| {
                    notice("Removed the contact; their name stays on what they did.")
                })
            }
            "revoke" => {
                let result = self
                    .api
                    .call(key, Method::POST, &format!("{path}/revoke"), None, None)
                    .await;
                self.after(ctx, to, c, form, result, |a| {
                    notice(format!("Revoked the access of {}.", s(&a.json, "name")))
                })
            }
            "approve" | "decline" => {
                let result = self
                    .api
                    .call(key, Method::POST, &format!("{path}/{action}"), None, None)
                    .await;
                let approved = action == "approve";
                self.after(ctx, to, c, form, result, |a| {
                    notice(if approved {
                        format!(
                            "Approved {}: their own invitation is on its way.",
                            s(&a.json, "name")
                        )
                    } else {
                        "Declined the colleague: they were removed and never had a link.".to_owned()
                    })
                })
            }
            "edit" => {
                let current = self.api.get(key, &path).await?;
                // An empty role clears it; an empty language lets the browser decide.
                let body = json!({
                    "name": field(form, "name"),
                    "email": field(form, "email"),
                    "role": field(form, "role"),
                    "language": non_empty(field(form, "language")),
                });
                let result = self
                    .api
                    .call(
                        key,
                        Method::PATCH,
                        &path,
                        Some(&body),
                        current.etag.as_deref(),
                    )
                    .await;
                self.after(ctx, to, c, form, result, |_| notice("Saved the contact."))
            }
            _ => Err(no_page()),
        }
    }

    pub(super) async fn answer(
        &self,
        ctx: &Ctx,
        p: &str,
        q: &str,
        form: &[(String, String)],
    ) -> Handled {
        let key = self.key(ctx)?;
        let (p, q) = (seg(p)?, seg(q)?);
        let result = self
            .api
            .call(
                key,
                Method::POST,
                &format!("/portals/{p}/questions/{q}/answer"),
                Some(&json!({ "text": field(form, "text") })),
                None,
            )
            .await;
        let to = format!("{PREFIX}/portals/{p}?tab=questions");
        self.after(ctx, to, q, form, result, |_| {
            notice("Sent your answer; the client is emailed.")
        })
    }

    // ----- files --------------------------------------------------------------------

    pub(super) async fn download(&self, ctx: &Ctx, p: &str, f: &str) -> Handled {
        let key = self.key(ctx)?;
        let (p, f) = (seg(p)?, seg(f)?);
        let response = self
            .api
            .send(
                key,
                Method::GET,
                &format!("/portals/{p}/files/{f}"),
                None,
                None,
            )
            .await;
        if response.status().is_success() {
            return Ok(Out::Raw(response));
        }
        Err(Problem {
            status: response.status().as_u16(),
            message: "This file cannot be downloaded (it may still be scanned, or be refused by the scan).".into(),
            fields: Vec::new(),
        })
    }

    /// A dropped file, streamed from the API (which records the download).
    pub(super) async fn download_drop(&self, ctx: &Ctx, p: &str, f: &str) -> Handled {
        let key = self.key(ctx)?;
        let (p, f) = (seg(p)?, seg(f)?);
        let response = self
            .api
            .send(
                key,
                Method::GET,
                &format!("/portals/{p}/drops/{f}"),
                None,
                None,
            )
            .await;
        if response.status().is_success() {
            return Ok(Out::Raw(response));
        }
        Err(Problem {
            status: response.status().as_u16(),
            message: "This file is not available: it expired, or the client deleted it.".into(),
            fields: Vec::new(),
        })
    }

    pub(super) async fn review(
        &self,
        ctx: &Ctx,
        p: &str,
        f: &str,
        form: &[(String, String)],
    ) -> Handled {
        let key = self.key(ctx)?;
        let (p, f) = (seg(p)?, seg(f)?);
        let verdict = field(form, "verdict");
        let body = json!({ "verdict": verdict, "notes": non_empty(field(form, "notes")) });
        let result = self
            .api
            .call(
                key,
                Method::POST,
                &format!("/portals/{p}/files/{f}/review"),
                Some(&body),
                None,
            )
            .await;
        let to = format!("{PREFIX}/review");
        self.after(ctx, to, f, form, result, |a| {
            notice(if verdict == "approve" {
                format!("Approved {}.", s(&a.json, "name"))
            } else {
                format!(
                    "Rejected {}; the client is emailed your notes.",
                    s(&a.json, "name")
                )
            })
        })
    }

    pub(super) async fn review_page(&self, ctx: &Ctx) -> Handled {
        let key = self.key(ctx)?;
        let all = self.api.list(key, "/review-queue", 500).await?;
        let due = self.api.list(key, "/due-date-requests", 500).await?;
        let page = ReviewPage {
            due: due
                .iter()
                .map(crate::console::pages::PendingDueRow::of)
                .collect(),
            f: self.frame(ctx, "Review queue", "review"),
            items: all
                .iter()
                .map(|i| QueueRow {
                    portal_id: s(i, "portal_id"),
                    client: s(i, "client_name"),
                    task: s(i, "task_title"),
                    document: s(i, "document_name"),
                    reviewable: i
                        .get("reviewable")
                        .and_then(Value::as_bool)
                        .unwrap_or(false),
                    file: i
                        .get("file")
                        .map(FileRow::of)
                        .unwrap_or_else(|| FileRow::of(&Value::Null)),
                })
                .collect(),
        };
        render(&page)
    }

    // ----- branding -----------------------------------------------------------------

    /// The branding of the MSP (`portal` = `None`) or of a portal, with its `ETag`
    /// and whose it is.
    async fn branding_of(
        &self,
        key: &ApiKey,
        portal: Option<&str>,
    ) -> Result<(Value, String, String), Problem> {
        match portal {
            Some(p) => {
                let a = self.api.get(key, &format!("/portals/{p}")).await?;
                let whose = s(&a.json, "client_name");
                let b = a.json.get("branding").cloned().unwrap_or(Value::Null);
                Ok((b, a.etag.unwrap_or_default(), whose))
            }
            None => {
                let a = self.api.get(key, "/tenant").await?;
                let b = a.json.get("branding").cloned().unwrap_or(Value::Null);
                Ok((
                    b,
                    a.etag.unwrap_or_default(),
                    "the MSP (new portals)".into(),
                ))
            }
        }
    }

    pub(super) async fn branding_page(
        &self,
        ctx: &Ctx,
        portal: Option<&str>,
        preview: Option<Typed<'_>>,
    ) -> Handled {
        let key = self.key(ctx)?;
        let portal = portal.map(seg).transpose()?;
        let (b, etag, whose) = self.branding_of(key, portal).await?;
        let (action, back) = match portal {
            Some(p) => (
                format!("{PREFIX}/portals/{p}/branding"),
                format!("{PREFIX}/portals/{p}"),
            ),
            None => (format!("{PREFIX}/branding"), format!("{PREFIX}/portals")),
        };
        let logo_url = b
            .get("logo")
            .filter(|l| !l.is_null())
            .map(|l| format!("/brand/logo/{}", s(l, "sha256")));
        let mut page = BrandingPage {
            f: self.frame(
                ctx,
                &format!("Branding of {whose}"),
                if portal.is_some() {
                    "portals"
                } else {
                    "branding"
                },
            ),
            whose,
            action,
            back,
            company: s(&b, "company_name"),
            color: s(&b, "accent_color"),
            welcome: s(&b, "welcome_message"),
            logo_url,
            etag,
            preview: None,
        };
        if let Some((form, shown)) = preview {
            page.company = field(form, "company_name").to_owned();
            page.color = field(form, "accent_color").to_owned();
            page.welcome = field(form, "welcome_message").to_owned();
            page.preview = shown;
        }
        render(&page)
    }

    pub(super) async fn branding(
        &self,
        ctx: &Ctx,
        portal: Option<&str>,
        form: &[(String, String)],
        upload: Option<Upload>,
    ) -> Handled {
        let key = self.key(ctx)?;
        let portal = portal.map(seg).transpose()?;
        let company = field(form, "company_name");
        let color = field(form, "accent_color");
        let welcome = field(form, "welcome_message");
        if field(form, "intent") == "preview" {
            // Checked by the core's own rules, so a preview never shows what a save
            // would refuse (and only a valid #rrggbb reaches the style block).
            let shown = match portal_core::model::Branding::new(company, color, welcome, None) {
                Ok(b) => Some((
                    b.company_name.clone(),
                    b.accent_color.hex(),
                    b.accent_color.text_color().to_owned(),
                    b.welcome_message.clone(),
                )),
                Err(e) => {
                    if let Some(id) = &ctx.sid {
                        self.sessions.set_flash(
                            id,
                            Flash {
                                error: Some(format!("Cannot preview: {e}")),
                                ..Flash::default()
                            },
                        );
                    }
                    None
                }
            };
            return self.branding_page(ctx, portal, Some((form, shown))).await;
        }
        let (b, _, _) = self.branding_of(key, portal).await?;
        let (path, to) = match portal {
            Some(p) => (
                format!("/portals/{p}/branding"),
                format!("{PREFIX}/portals/{p}/branding"),
            ),
            None => ("/tenant/branding".to_owned(), format!("{PREFIX}/branding")),
        };
        // A new logo is stored first (the API answers its reference), then named in
        // the branding; "remove" drops it; otherwise the current one stays.
        let logo = match upload {
            Some(file) => {
                let encoded =
                    base64::Engine::encode(&base64::engine::general_purpose::STANDARD, &file.bytes);
                let stored = self
                    .api
                    .call(
                        key,
                        Method::POST,
                        "/tenant/logo",
                        Some(&json!({ "data_base64": encoded })),
                        None,
                    )
                    .await;
                match stored {
                    Ok(a) => a.json,
                    Err(p) if p.status == 401 => return Err(p),
                    Err(mut p) => {
                        if p.fields.is_empty() {
                            p.fields = vec![("logo".into(), p.message.clone())];
                        } else {
                            for f in &mut p.fields {
                                f.0 = "logo".into();
                            }
                        }
                        return self.posted(ctx, to, failed("branding", p, form));
                    }
                }
            }
            None if field(form, "remove_logo") == "yes" => Value::Null,
            None => b.get("logo").cloned().unwrap_or(Value::Null),
        };
        let body = json!({
            "company_name": company,
            "accent_color": color,
            "welcome_message": welcome,
            "logo": logo,
        });
        let result = self
            .api
            .call(
                key,
                Method::PUT,
                &path,
                Some(&body),
                Some(field(form, "etag")),
            )
            .await;
        self.after(ctx, to, "branding", form, result, |_| {
            notice("Saved the branding.")
        })
    }

    // ----- webhooks -------------------------------------------------------------------

    /// The MSP's webhook endpoints as the API lists them; read-only, since managing
    /// them (and their secrets) belongs to the API. A server without webhooks answers
    /// 404, shown as "not enabled".
    pub(super) async fn webhooks_page(&self, ctx: &Ctx) -> Handled {
        let key = self.key(ctx)?;
        let (enabled, items) = match self.api.get(key, "/webhooks/endpoints").await {
            Ok(a) => (
                true,
                a.json
                    .get("items")
                    .and_then(Value::as_array)
                    .cloned()
                    .unwrap_or_default(),
            ),
            Err(p) if p.status == 404 => (false, Vec::new()),
            Err(p) => return Err(p),
        };
        let endpoints = items
            .iter()
            .map(|e| {
                let events: Vec<String> = e
                    .get("event_types")
                    .and_then(Value::as_array)
                    .map(|a| {
                        a.iter()
                            .filter_map(Value::as_str)
                            .map(str::to_owned)
                            .collect()
                    })
                    .unwrap_or_default();
                EndpointRow {
                    url: s(e, "url"),
                    description: s(e, "description"),
                    events: if events.is_empty() {
                        "all events".to_owned()
                    } else {
                        events.join(", ")
                    },
                    state: if e.get("enabled").and_then(Value::as_bool).unwrap_or(false) {
                        "enabled".to_owned()
                    } else {
                        format!("disabled: {}", s(e, "disabled_reason"))
                    },
                }
            })
            .collect();
        render(&WebhooksPage {
            f: self.frame(ctx, "Webhooks", "webhooks"),
            enabled,
            endpoints,
        })
    }

    // ----- domain and sender --------------------------------------------------------

    /// The MSP's own portal address and email sender, as `GET /tenant` has them.
    pub(super) async fn settings_page(&self, ctx: &Ctx) -> Handled {
        let key = self.key(ctx)?;
        let a = self.api.get(key, "/tenant").await?;
        let sender = a.json.get("sender").cloned().unwrap_or(Value::Null);
        let mut page = SettingsPage {
            f: self.frame(ctx, "Domain and sender", "settings"),
            base_url: s(&a.json, "base_url"),
            sender_name: s(&sender, "name"),
            sender_address: s(&sender, "address"),
            sender_reply_to: s(&sender, "reply_to"),
            etag: a.etag.unwrap_or_default(),
        };
        // A refused form shows what was typed, next to the API's words.
        if page.f.failed("tenant_settings") {
            page.base_url = page.f.val("tenant_settings", "base_url").to_owned();
            page.sender_name = page.f.val("tenant_settings", "sender_name").to_owned();
            page.sender_address = page.f.val("tenant_settings", "sender_address").to_owned();
            page.sender_reply_to = page.f.val("tenant_settings", "sender_reply_to").to_owned();
        }
        render(&page)
    }

    /// Saves them with `PATCH /tenant` and the `ETag` the page was rendered with
    /// (`If-Match`), so a change made meanwhile is not overwritten. Empty fields go
    /// back to the server's address and sender.
    pub(super) async fn save_settings(&self, ctx: &Ctx, form: &[(String, String)]) -> Handled {
        let key = self.key(ctx)?;
        let to = format!("{PREFIX}/settings");
        let text = |name: &str| field(form, name).trim().to_owned();
        let base_url = Some(text("base_url")).filter(|u| !u.is_empty());
        let (name, address, reply_to) = (
            text("sender_name"),
            text("sender_address"),
            text("sender_reply_to"),
        );
        let sender = if name.is_empty() && address.is_empty() && reply_to.is_empty() {
            Value::Null
        } else {
            json!({ "name": name, "address": address, "reply_to": Some(reply_to).filter(|r| !r.is_empty()) })
        };
        let body = json!({ "base_url": base_url, "sender": sender });
        let result = self
            .api
            .call(
                key,
                Method::PATCH,
                "/tenant",
                Some(&body),
                Some(field(form, "etag")),
            )
            .await;
        self.after(ctx, to, "tenant_settings", form, result, |_| {
            notice("Saved the domain and sender.")
        })
    }

    // ----- API keys -----------------------------------------------------------------

    pub(super) async fn keys_page(&self, ctx: &Ctx) -> Handled {
        let page = KeysPage {
            f: self.frame(ctx, "API keys", "keys"),
        };
        render(&page)
    }

    pub(super) async fn create_key(&self, ctx: &Ctx, form: &[(String, String)]) -> Handled {
        let staff = self.staff(ctx)?;
        let to = format!("{PREFIX}/keys");
        // The role is asked of the API again, so a key whose role changed since
        // sign-in cannot mint admin keys.
        let me = self.api.get(&staff.key, "/me").await?;
        if s(&me.json, "role") != "admin" {
            return self.posted(
                ctx,
                to,
                failed(
                    "key",
                    Problem {
                        status: 403,
                        message: "Only an admin may create API keys; you are signed in with a member key.".into(),
                        fields: Vec::new(),
                    },
                    form,
                ),
            );
        }
        let role = match field(form, "role") {
            "admin" => portal_core::StaffRole::Admin,
            _ => portal_core::StaffRole::Member,
        };
        let tenant = s(&me.json, "tenant_id")
            .parse()
            .map_err(|_| Problem::local("The key names no valid tenant."))?;
        let name = field(form, "name").to_owned();
        let file = self.keys_file.clone();
        let random = self.random.clone();
        let made = tokio::task::spawn_blocking(move || {
            crate::api_keys::create(&file, random.as_ref(), tenant, &name, role)
        })
        .await
        .map_err(|_| Problem::local("The key could not be made."))?;
        match made {
            Ok(key) => self.posted(
                ctx,
                to,
                Flash {
                    notice: Some(format!(
                        "Created a {} key named “{}”.",
                        role.as_str(),
                        field(form, "name").trim()
                    )),
                    secret: Some(("The new API key.".into(), key)),
                    ..Flash::default()
                },
            ),
            Err(portal_core::Error::Invalid { reason, .. }) => self.posted(
                ctx,
                to,
                failed(
                    "key",
                    Problem {
                        status: 422,
                        message: reason.to_string(),
                        fields: vec![("name".into(), reason.to_string())],
                    },
                    form,
                ),
            ),
            Err(e) => {
                tracing::error!(error = %e, "could not create an API key");
                Err(Problem::local("The key could not be stored."))
            }
        }
    }

    // ----- templates ----------------------------------------------------------------

    pub(super) async fn templates_page(&self, ctx: &Ctx) -> Handled {
        let key = self.key(ctx)?;
        let mut all = self.api.list(key, "/templates", 500).await?;
        // The API pages templates by creation; the list reads best by name.
        all.sort_by_key(|t| s(t, "name"));
        let page = TemplatesPage {
            f: self.frame(ctx, "Templates", "templates"),
            templates: all
                .iter()
                .map(|t| {
                    let phases = template_tasks(t);
                    TemplateRow {
                        id: s(t, "id"),
                        name: s(t, "name"),
                        phases: phases.len(),
                        tasks: phases.iter().map(|(_, ts)| ts.len()).sum(),
                    }
                })
                .collect(),
        };
        render(&page)
    }

    pub(super) async fn create_template(&self, ctx: &Ctx, form: &[(String, String)]) -> Handled {
        let key = self.key(ctx)?;
        let body = json!({ "name": field(form, "name"), "phases": [] });
        let result = self
            .api
            .call(key, Method::POST, "/templates", Some(&body), None)
            .await;
        match result {
            Ok(a) => {
                let to = format!("{PREFIX}/templates/{}", s(&a.json, "id"));
                self.posted(
                    ctx,
                    to,
                    notice("Created the template: now add its phases and tasks."),
                )
            }
            Err(p) if p.status == 401 => Err(p),
            Err(p) => self.posted(
                ctx,
                format!("{PREFIX}/templates"),
                failed("template", p, form),
            ),
        }
    }

    pub(super) async fn template_page(&self, ctx: &Ctx, t: &str) -> Handled {
        let key = self.key(ctx)?;
        let t = seg(t)?;
        let a = self.api.get(key, &format!("/templates/{t}")).await?;
        let page = TemplatePage {
            f: self.frame(ctx, &s(&a.json, "name"), "templates"),
            id: t.to_owned(),
            name: s(&a.json, "name"),
            etag: a.etag.clone().unwrap_or_default(),
            phases: template_tasks(&a.json),
        };
        render(&page)
    }

    pub(super) async fn template_action(
        &self,
        ctx: &Ctx,
        t: &str,
        action: &str,
        form: &[(String, String)],
    ) -> Handled {
        let key = self.key(ctx)?;
        let t = seg(t)?;
        let to = format!("{PREFIX}/templates/{t}");
        let path = format!("/templates/{t}");
        let etag = non_empty(field(form, "etag")).unwrap_or("*");
        if action == "copy" {
            let body = json!({ "name": field(form, "name") });
            let result = self
                .api
                .call(
                    key,
                    Method::POST,
                    &format!("{path}/copy"),
                    Some(&body),
                    None,
                )
                .await;
            return match result {
                Ok(a) => self.posted(
                    ctx,
                    format!("{PREFIX}/templates/{}", s(&a.json, "id")),
                    notice("Copied the template: this is the copy."),
                ),
                Err(p) if p.status == 401 => Err(p),
                Err(p) => self.posted(ctx, to, failed("copy", p, form)),
            };
        }
        if action == "rename" {
            let body = json!({ "name": field(form, "name") });
            let result = self
                .api
                .call(key, Method::PATCH, &path, Some(&body), Some(etag))
                .await;
            return self.after(ctx, to, "template", form, result, |_| {
                notice("Renamed the template.")
            });
        }
        // The plan's edits: the phases as the API gave them, changed, sent back whole
        // with the version the page showed (a concurrent edit is refused, not lost).
        let current = self.api.get(key, &path).await?.json;
        let mut phases = current
            .get("phases")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        let index = |name: &str| field(form, name).parse::<usize>().ok();
        let done = match (action, index("phase")) {
            ("add-phase", _) => {
                phases.push(json!({ "name": field(form, "name"), "tasks": [] }));
                "Added the phase."
            }
            ("remove-phase", Some(i)) if i < phases.len() => {
                phases.remove(i);
                "Removed the phase and its tasks."
            }
            ("add-task", Some(i)) if i < phases.len() => {
                let offset = field(form, "offset").trim().parse::<i64>().ok();
                let task = json!({
                    "title": field(form, "title"),
                    "description": "",
                    "assignee": if field(form, "assignee") == "msp" { "msp" } else { "client" },
                    "kind": { "type": "standard" },
                    "due_offset_days": offset,
                });
                match phases[i].get_mut("tasks").and_then(Value::as_array_mut) {
                    Some(tasks) => tasks.push(task),
                    None => phases[i]["tasks"] = json!([task]),
                }
                "Added the task."
            }
            ("remove-task", Some(i)) if i < phases.len() => {
                let j = index("task");
                match (phases[i].get_mut("tasks").and_then(Value::as_array_mut), j) {
                    (Some(tasks), Some(j)) if j < tasks.len() => {
                        tasks.remove(j);
                    }
                    _ => return Err(no_page()),
                }
                "Removed the task."
            }
            _ => return Err(no_page()),
        };
        let body = json!({ "phases": phases });
        let result = self
            .api
            .call(key, Method::PATCH, &path, Some(&body), Some(etag))
            .await;
        self.after(ctx, to, "template", form, result, |_| notice(done))
    }
}

/// The index next to `at` in `direction` (`up`: one before, `down`: one after), if any.
fn neighbour(at: usize, direction: &str) -> Option<usize> {
    if direction == "up" {
        at.checked_sub(1)
    } else {
        at.checked_add(1)
    }
}

/// A template's phases with their tasks, from its JSON.
fn template_tasks(t: &Value) -> Vec<(String, Vec<TemplateTask>)> {
    t.get("phases")
        .and_then(Value::as_array)
        .map(|phases| {
            phases
                .iter()
                .map(|ph| {
                    let tasks = ph
                        .get("tasks")
                        .and_then(Value::as_array)
                        .map(|ts| {
                            ts.iter()
                                .map(|x| TemplateTask {
                                    title: s(x, "title"),
                                    assignee: s(x, "assignee"),
                                    kind: x
                                        .get("kind")
                                        .map(|k| s(k, "type").replace('_', " "))
                                        .unwrap_or_default(),
                                    offset: x
                                        .get("due_offset_days")
                                        .and_then(Value::as_i64)
                                        .map(|d| d.to_string())
                                        .unwrap_or_default(),
                                })
                                .collect()
                        })
                        .unwrap_or_default();
                    (s(ph, "name"), tasks)
                })
                .collect()
        })
        .unwrap_or_default()
}

/// The members of the API's team answer, in order (none if it has no list).
fn team_members(team: &Value) -> Vec<Value> {
    team.get("members")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default()
}

/// What a task form's file is for: the form (for its flash), the two messages when no
/// file was chosen (the form's and the field's), the API method and route under the
/// task, and what to tell staff after (the verb before the file's name, the rest).
struct FileSend {
    form: &'static str,
    missing: (&'static str, &'static str),
    method: Method,
    route: &'static str,
    done: (&'static str, &'static str),
}

/// The API's refusal of a form's file, shown on the form's `file` field (the API names
/// the raw body's fields differently, or none).
fn on_file_field(mut e: Problem) -> Problem {
    for f in &mut e.fields {
        f.0 = "file".into();
    }
    if e.fields.is_empty() {
        e.fields = vec![("file".into(), e.message.clone())];
    }
    e
}
