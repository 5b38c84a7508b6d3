//! The console's pages: askama templates (autoescaped) under `templates/console/` and
//! the view models the handlers fill from the admin API's JSON.

use askama::Template;
use http::{Response, StatusCode};
use portal_http::{Body, Reply};
use serde_json::Value;

use super::Ctx;
use super::api::Problem;
use super::session::Flash;

/// The console's own styles, on top of the client pages' stylesheet.
const CSS: &str = include_str!("../../assets/console.css");

/// `GET /console/console.css`.
pub fn css() -> Response<Body> {
    let mut reply = Reply::text(StatusCode::OK, CSS);
    reply.content_type = "text/css; charset=utf-8";
    reply.cache = "public, max-age=300";
    reply.finish("default-src 'none'")
}

/// What every console page's frame needs.
#[derive(Debug, Clone, Default)]
pub struct Frame {
    /// The page title.
    pub title: String,
    /// CSP nonce of the style block.
    pub nonce: String,
    /// CSRF token of the forms.
    pub csrf: String,
    /// The signed-in staff member's name (empty on the sign-in page).
    pub staff: String,
    /// Their role (`admin` or `member`).
    pub role: String,
    /// The current section of the navigation.
    pub nav: &'static str,
    /// The message left by the last action.
    pub flash: Flash,
}

impl Frame {
    /// The field error of `field` in `form`, if the last action left one.
    pub fn err(&self, form: &str, field: &str) -> Option<&str> {
        if self.flash.form != form {
            return None;
        }
        self.flash
            .fields
            .iter()
            .find(|(f, _)| f == field)
            .map(|(_, d)| d.as_str())
    }

    /// What was typed into `field` of `form` before an error (empty otherwise).
    pub fn val(&self, form: &str, field: &str) -> &str {
        if self.flash.form != form {
            return "";
        }
        self.flash
            .values
            .iter()
            .find(|(f, _)| f == field)
            .map_or("", |(_, v)| v.as_str())
    }

    /// Whether the form's last submission failed.
    pub fn failed(&self, form: &str) -> bool {
        self.flash.form == form && self.flash.error.is_some()
    }

    /// Whether the staff member may do admin actions.
    pub fn is_admin(&self) -> bool {
        self.role == "admin"
    }
}

/// A string field of a JSON value (empty when absent).
pub fn s(v: &Value, name: &str) -> String {
    match v.get(name) {
        Some(Value::String(x)) => x.clone(),
        Some(Value::Number(n)) => n.to_string(),
        _ => String::new(),
    }
}

/// A number field of a JSON value (0 when absent).
pub fn n(v: &Value, name: &str) -> u64 {
    v.get(name).and_then(Value::as_u64).unwrap_or(0)
}

/// An instant of the API (RFC 3339, UTC) as staff read it, the zone named.
pub fn when(raw: &str) -> String {
    chrono::DateTime::parse_from_rfc3339(raw).map_or_else(
        |_| raw.to_owned(),
        |t| {
            t.with_timezone(&chrono::Utc)
                .format("%-d %b %Y, %H:%M UTC")
                .to_string()
        },
    )
}

/// A calendar date `YYYY-MM-DD` as staff read it.
pub fn day(raw: &str) -> String {
    chrono::NaiveDate::parse_from_str(raw, "%Y-%m-%d")
        .map_or_else(|_| raw.to_owned(), |d| d.format("%a %-d %b %Y").to_string())
}

/// Who did something (an activity entry's or a comment's actor).
pub fn who(v: &Value) -> String {
    let name = s(v, "name");
    match s(v, "side").as_str() {
        "client" => format!("{name} (client)"),
        "msp" => format!("{name} (MSP)"),
        _ => name,
    }
}

/// A size in bytes, rounded for reading.
pub fn size(bytes: u64) -> String {
    match bytes {
        0..1024 => format!("{bytes} B"),
        1024..1_048_576 => format!("{:.1} KB", bytes as f64 / 1024.0),
        _ => format!("{:.1} MB", bytes as f64 / 1_048_576.0),
    }
}

/// The sign-in page.
#[derive(Template)]
#[template(path = "console/sign_in.html")]
pub struct SignInPage {
    /// Frame.
    pub f: Frame,
    /// Why the last attempt failed.
    pub error: Option<String>,
}

/// A page that only says what went wrong.
#[derive(Template)]
#[template(path = "console/error.html")]
pub struct ErrorPage {
    /// Frame.
    pub f: Frame,
    /// What went wrong.
    pub message: String,
}

/// A row of the portals list.
#[derive(Debug, Clone)]
pub struct PortalRow {
    /// Id.
    pub id: String,
    /// Client company.
    pub name: String,
    /// Status.
    pub status: String,
    /// Completed client tasks.
    pub completed: u64,
    /// All client tasks.
    pub total: u64,
    /// Target go-live date, as read.
    pub target: String,
}

impl PortalRow {
    /// From the API's `Portal` (summary or detail).
    pub fn of(v: &Value) -> Self {
        let progress = v.get("progress").cloned().unwrap_or(Value::Null);
        Self {
            id: s(v, "id"),
            name: s(v, "client_name"),
            status: s(v, "status"),
            completed: n(&progress, "completed"),
            total: n(&progress, "total"),
            target: v
                .get("target_date")
                .and_then(Value::as_str)
                .map(day)
                .unwrap_or_default(),
        }
    }

    /// Percent complete.
    pub fn percent(&self) -> u64 {
        (self.completed * 100).checked_div(self.total).unwrap_or(0)
    }
}

/// The portals list.
#[derive(Template)]
#[template(path = "console/portals.html")]
pub struct PortalsPage {
    /// Frame.
    pub f: Frame,
    /// Every portal.
    pub portals: Vec<PortalRow>,
    /// Templates to start a portal from: `(id, name)`.
    pub templates: Vec<(String, String)>,
}

/// A task in the plan.
#[derive(Debug, Clone)]
pub struct TaskRow {
    /// Id.
    pub id: String,
    /// Title.
    pub title: String,
    /// Status.
    pub status: String,
    /// `client` or `msp`.
    pub assignee: String,
    /// Task type.
    pub kind: String,
    /// Due date as read (empty: none).
    pub due: String,
    /// Why it is blocked.
    pub blocked_reason: String,
    /// Whether it is never shown to the client.
    pub internal: bool,
    /// Its phase.
    pub phase_id: String,
    /// Its version as an `ETag` (`"v<n>"`), for `If-Match`.
    pub etag: String,
    /// The contacts it is assigned to (empty: everyone).
    pub assigned_to: Vec<String>,
}

impl TaskRow {
    /// From the API's `Task`.
    pub fn of(v: &Value) -> Self {
        Self {
            id: s(v, "id"),
            title: s(v, "title"),
            status: s(v, "status"),
            assignee: s(v, "assignee"),
            kind: s(v, "type").replace('_', " "),
            due: v
                .get("due_date")
                .and_then(Value::as_str)
                .map(day)
                .unwrap_or_default(),
            blocked_reason: s(v, "blocked_reason"),
            internal: v.get("internal").and_then(Value::as_bool).unwrap_or(false),
            phase_id: s(v, "phase_id"),
            etag: version_etag(v),
            assigned_to: v
                .get("assigned_to")
                .and_then(Value::as_array)
                .map(|l| {
                    l.iter()
                        .filter_map(Value::as_str)
                        .map(str::to_owned)
                        .collect()
                })
                .unwrap_or_default(),
        }
    }
}

/// A phase of the plan.
#[derive(Debug, Clone)]
pub struct PhaseRow {
    /// Id.
    pub id: String,
    /// Name.
    pub name: String,
    /// Its version as an `ETag`, for `If-Match`.
    pub etag: String,
    /// Its tasks, in order.
    pub tasks: Vec<TaskRow>,
}

impl PhaseRow {
    /// From the API's `Phase` (with its tasks).
    pub fn of(v: &Value) -> Self {
        Self {
            id: s(v, "id"),
            name: s(v, "name"),
            etag: version_etag(v),
            tasks: v
                .get("tasks")
                .and_then(Value::as_array)
                .map(|ts| ts.iter().map(TaskRow::of).collect())
                .unwrap_or_default(),
        }
    }
}

/// The `ETag` of a versioned resource in a list (`"v<n>"`, as the API's `ETag`
/// header spells it); `*` when the view has no version.
pub fn version_etag(v: &Value) -> String {
    v.get("version")
        .and_then(Value::as_u64)
        .map_or_else(|| "*".to_owned(), |n| format!("\"v{n}\""))
}

/// A contact.
#[derive(Debug, Clone)]
pub struct ContactRow {
    /// Id.
    pub id: String,
    /// Name.
    pub name: String,
    /// Email.
    pub email: String,
    /// When revoked (empty: active).
    pub revoked: String,
    /// Last access (empty: never).
    pub last_access: String,
    /// The role staff gave them ("billing"; empty: none).
    pub role: String,
    /// The language staff set for their pages and emails (`en`, `es`; empty: their
    /// browser's).
    pub language: String,
    /// Invited by a colleague and waiting for staff to approve or decline.
    pub awaiting: bool,
}

/// A client question.
#[derive(Debug, Clone)]
pub struct QuestionRow {
    /// Id.
    pub id: String,
    /// Who asked.
    pub who: String,
    /// The question.
    pub text: String,
    /// When.
    pub at: String,
    /// The answer, if given: who, text, when.
    pub answer: Option<(String, String, String)>,
    /// The team member it was addressed to ("Sam Lee, Project lead"); empty: the team.
    pub to: String,
}

/// An uploaded file.
#[derive(Debug, Clone)]
pub struct FileRow {
    /// Id.
    pub id: String,
    /// File name.
    pub name: String,
    /// Size, as read.
    pub size: String,
    /// Who uploaded it.
    pub by: String,
    /// When.
    pub at: String,
    /// Scan state.
    pub scan: String,
    /// Review state.
    pub review: String,
}

impl FileRow {
    /// From the API's `File`.
    pub fn of(v: &Value) -> Self {
        Self {
            id: s(v, "id"),
            name: s(v, "name"),
            size: size(n(v, "size")),
            by: v.get("uploaded_by").map(who).unwrap_or_default(),
            at: when(&s(v, "uploaded_at")),
            scan: s(v, "scan"),
            review: s(v, "review"),
        }
    }
}

/// A requested document.
#[derive(Debug, Clone)]
pub struct DocRow {
    /// The task asking for it.
    pub task: String,
    /// The document's name.
    pub name: String,
    /// Its status.
    pub status: String,
    /// Every version, newest last.
    pub versions: Vec<FileRow>,
}

/// A line of the activity feed or the access log.
#[derive(Debug, Clone)]
pub struct LogRow {
    /// When.
    pub at: String,
    /// What happened.
    pub text: String,
    /// Extra detail (who, from where).
    pub detail: String,
}

/// The languages staff can set for a contact (the API's codes), with the choice of
/// none first: then the contact's browser decides.
pub const LANGUAGES: [(&str, &str); 3] = [
    ("", "Their browser's language"),
    ("en", "English"),
    ("es", "Español (Spanish)"),
];

/// A portal, one tab at a time.
#[derive(Template)]
#[template(path = "console/portal.html")]
pub struct PortalPage {
    /// Frame.
    pub f: Frame,
    /// The portal.
    pub p: PortalRow,
    /// Its `ETag`.
    pub etag: String,
    /// Target date as `YYYY-MM-DD` (for the date field).
    pub target_raw: String,
    /// The tab shown: plan, contacts, questions, documents, activity, access.
    pub tab: String,
    /// Plan.
    pub phases: Vec<PhaseRow>,
    /// Contacts.
    pub contacts: Vec<ContactRow>,
    /// Questions.
    pub questions: Vec<QuestionRow>,
    /// Documents.
    pub documents: Vec<DocRow>,
    /// Activity feed or access log (one page).
    pub log: Vec<LogRow>,
    /// The onboarding team, one member a line ("Name | Role | email"), for its
    /// editor on the contacts tab.
    pub team_lines: String,
    /// The team's members, for the photo form.
    pub team_members: Vec<TeamMemberRow>,
    /// The team's `ETag` (the portal's version when it was read).
    pub team_etag: String,
    /// Whether the portal's contacts may invite colleagues (`off`, `at_once`,
    /// `after_approval`).
    pub invitations: String,
    /// The next page's cursor.
    pub next: Option<String>,
    /// Whether this page is not the newest (a cursor was given).
    pub older: bool,
}

impl PortalPage {
    /// The tabs: `(key, label)`.
    pub fn tabs(&self) -> Vec<(&'static str, &'static str)> {
        vec![
            ("plan", "Plan"),
            ("contacts", "Contacts"),
            ("questions", "Questions"),
            ("documents", "Documents"),
            ("activity", "Activity"),
            ("access", "Access log"),
        ]
    }

    /// The colleague-invitation modes `(value, words, whether it is this portal's)`.
    pub fn invitation_modes(&self) -> Vec<(&'static str, &'static str, bool)> {
        [
            ("off", "Off: only staff add contacts"),
            ("at_once", "At once: the colleague is invited right away"),
            (
                "after_approval",
                "After approval: staff approve each colleague first",
            ),
        ]
        .into_iter()
        .map(|(v, label)| (v, label, self.invitations == v))
        .collect()
    }

    /// The contacts waiting for staff approval.
    pub fn pending(&self) -> Vec<&ContactRow> {
        self.contacts.iter().filter(|c| c.awaiting).collect()
    }

    /// The statuses a portal can have, and whether it is this one's.
    pub fn statuses(&self) -> Vec<(&'static str, bool)> {
        ["draft", "active", "completed", "archived"]
            .into_iter()
            .map(|st| (st, st == self.p.status))
            .collect()
    }

    /// Every phase `(id, name)`, for the "move to phase" choice.
    pub fn phase_choices(&self) -> Vec<(String, String)> {
        self.phases
            .iter()
            .map(|p| (p.id.clone(), p.name.clone()))
            .collect()
    }
}

/// A comment on a task.
#[derive(Debug, Clone)]
pub struct CommentRow {
    /// Who wrote it.
    pub who: String,
    /// Whether staff wrote it.
    pub staff: bool,
    /// Text.
    pub body: String,
    /// When.
    pub at: String,
}

/// A task's page: edit it, act on it, its comments.
#[derive(Template)]
#[template(path = "console/task.html")]
pub struct TaskPage {
    /// Frame.
    pub f: Frame,
    /// The portal's id.
    pub portal_id: String,
    /// The portal's client name.
    pub portal_name: String,
    /// The task.
    pub t: TaskRow,
    /// Its description.
    pub description: String,
    /// Due date as `YYYY-MM-DD` (for the date field).
    pub due_raw: String,
    /// The contact role a client task is for (empty: none).
    pub for_role: String,
    /// Its `ETag` (sent back as `If-Match`).
    pub etag: String,
    /// Comments, oldest first.
    pub comments: Vec<CommentRow>,
    /// The portal's contacts: id, name, whether the task is assigned to them.
    pub contacts: Vec<(String, String, bool)>,
    /// The plan's phases: id, name, whether the task is in it.
    pub phases: Vec<(String, String, bool)>,
    /// A credential handoff's values, right after an admin revealed them (label,
    /// value): shown on this one answer only, never stored in the session or a flash.
    pub revealed: Option<Vec<(String, String)>>,
    /// What the client answered (the API's `client_answers`): a label and the answer
    /// as text, one line each; empty when nothing was answered.
    pub answers: Vec<(String, String)>,
    /// A secure file drop task's files (none for other tasks).
    pub drops: Vec<DropRow>,
    /// A signature task's document and signature (`None` for other tasks).
    pub signature: Option<SignatureBlock>,
    /// Files shared with the client on this task, oldest first.
    pub shared: Vec<SharedRow>,
    /// The contact's open "I'm stuck" report, if any.
    pub stuck: Option<StuckRow>,
    /// Due-date requests, oldest first (the history; a pending one has buttons).
    pub due_requests: Vec<DueRow>,
}

/// An open "I'm stuck" report on the task page.
#[derive(Debug, Clone)]
pub struct StuckRow {
    /// Who is stuck.
    pub by: String,
    /// When they said so.
    pub at: String,
    /// Why.
    pub reason: String,
}

impl StuckRow {
    /// The open report of a task's JSON (the last one, while not cleared).
    pub fn of(task: &Value) -> Option<Self> {
        let last = task["client_answers"]["stuck"].as_array()?.last()?;
        if !last["cleared"].is_null() {
            return None;
        }
        Some(Self {
            by: s(last, "by"),
            at: when(&s(last, "at")),
            reason: s(last, "reason"),
        })
    }
}

/// A due-date request, as the console lists it.
#[derive(Debug, Clone)]
pub struct DueRow {
    /// Its number on the task.
    pub number: String,
    /// Who asked.
    pub by: String,
    /// When.
    pub at: String,
    /// The due date then ("none" when it had none).
    pub from: String,
    /// The date asked for.
    pub to: String,
    /// Why.
    pub reason: String,
    /// pending, approved or declined.
    pub status: String,
    /// Who decided, and the note.
    pub decided: String,
}

impl DueRow {
    /// A request from the API's JSON.
    pub fn of(r: &Value) -> Self {
        let from = s(r, "from");
        let mut decided = String::new();
        if !s(r, "decided_by").is_empty() {
            decided = format!("by {} on {}", s(r, "decided_by"), when(&s(r, "decided_at")));
            let note = s(r, "note");
            if !note.is_empty() {
                decided.push_str(&format!(": “{note}”"));
            }
        }
        Self {
            number: s(r, "number"),
            by: s(r, "by"),
            at: when(&s(r, "at")),
            from: if from.is_empty() {
                "none".to_owned()
            } else {
                from
            },
            to: s(r, "to"),
            reason: s(r, "reason"),
            status: s(r, "status"),
            decided,
        }
    }

    /// All requests of a task's JSON, oldest first.
    pub fn all(task: &Value) -> Vec<Self> {
        task["client_answers"]["due_date_requests"]
            .as_array()
            .map(|l| l.iter().map(Self::of).collect())
            .unwrap_or_default()
    }
}

/// A pending due-date request in the review queue.
#[derive(Debug, Clone)]
pub struct PendingDueRow {
    /// The portal.
    pub portal_id: String,
    /// The task.
    pub task_id: String,
    /// The client company.
    pub client: String,
    /// The task's title.
    pub task: String,
    /// The task's `ETag` (its version), sent back as `If-Match`.
    pub etag: String,
    /// The request.
    pub r: DueRow,
}

impl PendingDueRow {
    /// A row from the API's pending request.
    pub fn of(v: &Value) -> Self {
        Self {
            portal_id: s(v, "portal_id"),
            task_id: s(v, "task_id"),
            client: s(v, "client_name"),
            task: s(v, "task_title"),
            etag: format!("\"v{}\"", s(v, "task_version")),
            r: DueRow::of(&v["request"]),
        }
    }
}

/// A signature task as staff see it: the document to sign and, once signed, who
/// signed, when (in the zone the signer was shown), how, and whether every hash still
/// matches.
#[derive(Debug, Clone, Default)]
pub struct SignatureBlock {
    /// The attached document: name, "PDF, 12.3 KB"-style size, SHA-256.
    pub document: Option<(String, String, String)>,
    /// Whether it is signed.
    pub signed: bool,
    /// The signer: "Name <email>".
    pub signer: String,
    /// When, in the signer's zone with the zone named, and in UTC.
    pub signed_at: String,
    /// `drawn` or `typed`.
    pub method: String,
    /// The typed name, for a typed signature.
    pub typed_name: String,
    /// Whether every part matches.
    pub intact: bool,
    /// Each part and its status (`matches`, `mismatch`, `missing`).
    pub parts: Vec<(String, String)>,
}

impl SignatureBlock {
    /// From the API's `SignatureDocument` and `SignatureEvidence` (either may be absent).
    pub fn of(document: Option<&Value>, evidence: Option<&Value>) -> Self {
        let mut b = Self {
            document: document.map(|d| (s(d, "name"), size(n(d, "size")), s(d, "sha256"))),
            ..Self::default()
        };
        let Some(e) = evidence else {
            return b;
        };
        let sig = &e["signature"];
        b.signed = true;
        if b.document.is_none() && sig["document"].is_object() {
            let d = &sig["document"];
            b.document = Some((s(d, "name"), size(n(d, "size")), s(d, "sha256")));
        }
        let signer = &sig["signer"];
        let email = s(signer, "email");
        b.signer = if email.is_empty() {
            s(signer, "name")
        } else {
            format!("{} <{email}>", s(signer, "name"))
        };
        b.signed_at = in_zone(&s(sig, "signed_at"), &s(sig, "time_zone"));
        b.method = s(sig, "method");
        b.typed_name = s(sig, "typed_name");
        b.intact = e["intact"] == Value::Bool(true);
        b.parts = e["parts"]
            .as_object()
            .map(|m| {
                m.iter()
                    .map(|(k, v)| (k.replace('_', " "), v.as_str().unwrap_or("").to_owned()))
                    .collect()
            })
            .unwrap_or_default();
        b
    }
}

/// An instant of the API in the zone `zone` (IANA), the zone named, then UTC:
/// "2 Dec 2026, 09:14 (Europe/Berlin) · 08:14 UTC". An unknown zone shows UTC only.
pub fn in_zone(raw: &str, zone: &str) -> String {
    let Ok(t) = chrono::DateTime::parse_from_rfc3339(raw) else {
        return raw.to_owned();
    };
    let utc = t.with_timezone(&chrono::Utc);
    match portal_core::model::TimeZone::parse(zone) {
        Ok(z) if z.name() != "UTC" => format!(
            "{} ({}) · {}",
            utc.with_timezone(&z.tz()).format("%-d %b %Y, %H:%M:%S"),
            z.name(),
            utc.format("%H:%M:%S UTC")
        ),
        _ => utc.format("%-d %b %Y, %H:%M:%S UTC").to_string(),
    }
}

/// The certificate's lines from the API's `SignatureEvidence`: label and value.
pub fn certificate_lines(e: &Value) -> Vec<(String, String)> {
    let sig = &e["signature"];
    let mut out = vec![
        ("Signer".to_owned(), s(&sig["signer"], "name")),
        ("Email".to_owned(), s(&sig["signer"], "email")),
        (
            "Signed at".to_owned(),
            in_zone(&s(sig, "signed_at"), &s(sig, "time_zone")),
        ),
        ("Time zone shown".to_owned(), s(sig, "time_zone")),
        ("IP address".to_owned(), s(sig, "ip")),
        ("User agent".to_owned(), s(sig, "user_agent")),
        ("Method".to_owned(), s(sig, "method")),
    ];
    let typed = s(sig, "typed_name");
    if !typed.is_empty() {
        out.push(("Typed name".to_owned(), typed));
    }
    if sig["document"].is_object() {
        let d = &sig["document"];
        out.push((
            "Document".to_owned(),
            format!("{} ({})", s(d, "name"), size(n(d, "size"))),
        ));
        out.push(("Document SHA-256".to_owned(), s(d, "sha256")));
    }
    out.push(("Signature SHA-256".to_owned(), s(sig, "mark_sha256")));
    out.push(("Consent statement".to_owned(), s(sig, "consent_text")));
    out.push(("Consent SHA-256".to_owned(), s(sig, "consent_sha256")));
    out.push(("Record SHA-256".to_owned(), s(sig, "record_sha256")));
    if e["audit_event"].is_object() {
        out.push((
            "Audit chain event".to_owned(),
            format!("number {}", s(&e["audit_event"], "seq")),
        ));
        out.push(("Audit event hash".to_owned(), s(&e["audit_event"], "hash")));
    }
    out
}

/// The MSP's evidence certificate of one signature (printable).
#[derive(Template)]
#[template(path = "console/certificate.html")]
pub struct CertificatePage {
    /// Frame.
    pub f: Frame,
    /// The portal's id.
    pub portal_id: String,
    /// The portal's client name.
    pub portal_name: String,
    /// The task's id.
    pub task_id: String,
    /// The task's title.
    pub task_title: String,
    /// The signature and its verification.
    pub block: SignatureBlock,
    /// Every field of the record: label, value.
    pub lines: Vec<(String, String)>,
}

/// One file shared with the client on a task's page.
#[derive(Debug, Clone)]
pub struct SharedRow {
    /// Its id (the download and delete links).
    pub id: String,
    /// The cleaned file name.
    pub name: String,
    /// Size in bytes, as read.
    pub size: String,
    /// SHA-256 (hex): what a decision taken after opening it records.
    pub sha256: String,
    /// Who shared it.
    pub added_by: String,
    /// When (local, with the zone).
    pub added_at: String,
}

impl SharedRow {
    /// A row from the API's `Attachment`.
    pub fn of(v: &Value) -> Self {
        Self {
            id: s(v, "id"),
            name: s(v, "name"),
            size: s(v, "size"),
            sha256: s(v, "sha256"),
            added_by: v.get("added_by").map(|a| s(a, "name")).unwrap_or_default(),
            added_at: when(&s(v, "added_at")),
        }
    }
}

/// One dropped file on a file drop task's page.
#[derive(Debug, Clone)]
pub struct DropRow {
    /// Its id (the download link).
    pub id: String,
    /// The client's file name.
    pub name: String,
    /// Size in bytes, as read.
    pub size: String,
    /// `available`, `deleted` or `expired`.
    pub state: String,
    /// When it expires (UTC, RFC 3339, as the API gives it).
    pub expires_at: String,
    /// Who downloaded it first, if anyone.
    pub downloaded_by: String,
}

impl DropRow {
    /// A row from the API's `DroppedFile`.
    pub fn of(v: &Value) -> Self {
        Self {
            id: s(v, "id"),
            name: s(v, "name"),
            size: s(v, "size"),
            state: s(v, "state"),
            expires_at: s(v, "expires_at"),
            downloaded_by: v
                .get("downloaded_by")
                .map(|a| s(a, "name"))
                .unwrap_or_default(),
        }
    }
}

/// The lines of a task's `client_answers` for the task page: the approval decision
/// (and the ones before a reopen), then each survey answer under its question's prompt.
pub fn answer_lines(task: &Value) -> Vec<(String, String)> {
    let a = &task["client_answers"];
    let decision = |d: &Value| {
        let verdict = if d["approved"] == Value::Bool(true) {
            "Approved"
        } else {
            "Rejected"
        };
        let comment = s(d, "comment");
        let mut text = format!("{verdict} by {} on {}", s(d, "name"), when(&s(d, "at")));
        if !comment.is_empty() {
            text.push_str(&format!(": “{comment}”"));
        }
        text
    };
    let mut out = Vec::new();
    if a["decision"].is_object() {
        out.push(("Decision".to_owned(), decision(&a["decision"])));
    }
    for d in a["previous_decisions"].as_array().into_iter().flatten() {
        out.push(("Before it was reopened".to_owned(), decision(d)));
    }
    let prompts = task["kind"]["questions"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    for (id, answer) in a["survey"].as_object().into_iter().flatten() {
        let prompt = prompts
            .iter()
            .find(|q| s(q, "id") == *id)
            .map(|q| s(q, "prompt"))
            .unwrap_or_else(|| id.clone());
        out.push((prompt, flat(answer)));
    }
    out
}

/// An answer's JSON as plain text: strings and numbers as they are, lists joined.
fn flat(v: &Value) -> String {
    match v {
        Value::String(t) => t.clone(),
        Value::Array(items) => items.iter().map(flat).collect::<Vec<_>>().join(", "),
        Value::Object(m) => m.values().map(flat).collect::<Vec<_>>().join(", "),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

/// An upload waiting for review.
#[derive(Debug, Clone)]
pub struct QueueRow {
    /// Its portal.
    pub portal_id: String,
    /// Client company.
    pub client: String,
    /// Task title.
    pub task: String,
    /// Document name.
    pub document: String,
    /// Whether it may be reviewed now (scan finished clean).
    pub reviewable: bool,
    /// The file.
    pub file: FileRow,
}

/// The review queue.
#[derive(Template)]
#[template(path = "console/review.html")]
pub struct ReviewPage {
    /// Frame.
    pub f: Frame,
    /// Uploads waiting, oldest first.
    pub items: Vec<QueueRow>,
    /// Due-date requests waiting for a decision, oldest first.
    pub due: Vec<PendingDueRow>,
}

/// Branding, of the MSP (new portals' default) or one portal.
#[derive(Template)]
#[template(path = "console/branding.html")]
pub struct BrandingPage {
    /// Frame.
    pub f: Frame,
    /// Whose branding: "the MSP" or the client's name.
    pub whose: String,
    /// Where the form posts.
    pub action: String,
    /// Where "back" goes.
    pub back: String,
    /// Company display name.
    pub company: String,
    /// Accent `#rrggbb`.
    pub color: String,
    /// Welcome message.
    pub welcome: String,
    /// The current logo's URL.
    pub logo_url: Option<String>,
    /// The resource's `ETag`.
    pub etag: String,
    /// The preview: company, accent, text colour on it, welcome.
    pub preview: Option<(String, String, String, String)>,
}

/// The MSP's own domain and sender (`PATCH /tenant`).
#[derive(Template)]
#[template(path = "console/settings.html")]
pub struct SettingsPage {
    /// Frame.
    pub f: Frame,
    /// The tenant's base URL, or empty.
    pub base_url: String,
    /// Sender display name, or empty.
    pub sender_name: String,
    /// Sender address, or empty.
    pub sender_address: String,
    /// Reply-To, or empty.
    pub sender_reply_to: String,
    /// The tenant's `ETag`, sent back as `If-Match`.
    pub etag: String,
}

/// One webhook endpoint in the list.
pub struct EndpointRow {
    /// Where events are POSTed.
    pub url: String,
    /// The MSP's note.
    pub description: String,
    /// The event types, or "all events".
    pub events: String,
    /// "enabled", or why it is disabled.
    pub state: String,
}

/// The MSP's webhook endpoints, read-only (`GET /webhooks/endpoints`).
#[derive(Template)]
#[template(path = "console/webhooks.html")]
pub struct WebhooksPage {
    /// Frame.
    pub f: Frame,
    /// Whether the server runs webhooks (the API answers 404 otherwise).
    pub enabled: bool,
    /// The endpoints, oldest first.
    pub endpoints: Vec<EndpointRow>,
}

/// API keys.
#[derive(Template)]
#[template(path = "console/keys.html")]
pub struct KeysPage {
    /// Frame.
    pub f: Frame,
}

/// A template in the list.
#[derive(Debug, Clone)]
pub struct TemplateRow {
    /// Id.
    pub id: String,
    /// Name.
    pub name: String,
    /// How many phases.
    pub phases: usize,
    /// How many tasks.
    pub tasks: usize,
}

/// The templates list.
#[derive(Template)]
#[template(path = "console/templates.html")]
pub struct TemplatesPage {
    /// Frame.
    pub f: Frame,
    /// Every template.
    pub templates: Vec<TemplateRow>,
}

/// A template's task.
#[derive(Debug, Clone)]
pub struct TemplateTask {
    /// Title.
    pub title: String,
    /// `client` or `msp`.
    pub assignee: String,
    /// Type.
    pub kind: String,
    /// Due, in days after the start (empty: none).
    pub offset: String,
}

/// A template's page.
#[derive(Template)]
#[template(path = "console/template.html")]
pub struct TemplatePage {
    /// Frame.
    pub f: Frame,
    /// Id.
    pub id: String,
    /// Name.
    pub name: String,
    /// Its `ETag`.
    pub etag: String,
    /// Phases with their tasks.
    pub phases: Vec<(String, Vec<TemplateTask>)>,
}

/// The page answering a POST without a valid CSRF token.
pub fn refused(nonce: &str) -> String {
    let page = ErrorPage {
        f: Frame {
            title: "Form expired".into(),
            nonce: nonce.to_owned(),
            ..Frame::default()
        },
        message: "This form has expired or did not come from the console. Go back, reload \
                  the page and try again."
            .into(),
    };
    page.render().unwrap_or_default()
}

/// A page saying what went wrong.
pub(crate) fn error_page(ctx: &Ctx, p: &Problem) -> String {
    let (staff, role, csrf) = ctx
        .session
        .as_ref()
        .map(|s| {
            (
                s.staff.as_ref().map(|x| x.name.clone()).unwrap_or_default(),
                s.staff.as_ref().map(|x| x.role.clone()).unwrap_or_default(),
                s.csrf.clone(),
            )
        })
        .unwrap_or_default();
    let page = ErrorPage {
        f: Frame {
            title: "Something went wrong".into(),
            nonce: ctx.nonce.clone(),
            csrf,
            staff,
            role,
            ..Frame::default()
        },
        message: p.message.clone(),
    };
    page.render().unwrap_or_default()
}

/// A member of the onboarding team in the photo form's list.
pub struct TeamMemberRow {
    /// Their email (how the team names them).
    pub email: String,
    /// Their name.
    pub name: String,
    /// Whether they have a photo already (the form says "replace").
    pub has_photo: bool,
}

#[cfg(test)]
mod answer_tests {
    use serde_json::json;

    use super::answer_lines;

    #[test]
    fn answers_read_as_lines_under_their_prompts() {
        let task = json!({
            "kind": {"type": "survey", "questions": [{"id": "q1", "prompt": "Mail system?"}]},
            "client_answers": {
                "survey": {"q1": {"choices": ["Exchange", "Gmail"]}},
                "survey_saved": null,
                "decision": {"approved": false, "comment": "Too dear", "name": "Dana",
                             "email": "dana@example.com", "at": "2026-11-28T10:00:00Z"},
                "previous_decisions": [],
            },
        });
        let lines = answer_lines(&task);
        assert_eq!(lines.len(), 2, "{lines:?}");
        assert_eq!(lines[0].0, "Decision");
        assert!(lines[0].1.starts_with("Rejected by Dana on "), "{lines:?}");
        assert!(lines[0].1.ends_with(": “Too dear”"), "{lines:?}");
        assert_eq!(
            lines[1],
            ("Mail system?".to_owned(), "Exchange, Gmail".to_owned())
        );
        assert!(answer_lines(&json!({"client_answers": {"survey": {}}})).is_empty());
    }
}
