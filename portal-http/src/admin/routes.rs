//! The admin API's route table: one list that the router matches requests against and
//! the OpenAPI document is generated from, so a route cannot exist without being
//! documented (and the test in `openapi.rs` checks both ways).

use http::Method;
use portal_core::StaffRole;

/// One operation of the API.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Op {
    OpenApi,
    Me,
    Tenant,
    EditTenant,
    SetTenantBranding,
    ListPortals,
    CreatePortal,
    GetPortal,
    SetPortalStatus,
    SetPortalBranding,
    ListContacts,
    AddContact,
    InviteContact,
    InviteLink,
    GetContact,
    EditContact,
    RevokeContact,
    RevokeInvite,
    PendingColleagues,
    ApproveColleague,
    DeclineColleague,
    SetColleagueInvitations,
    ListGuests,
    AddGuest,
    ShareGuestTask,
    UnshareGuestTask,
    EndGuestAccess,
    StartHandover,
    AddPhase,
    AddTask,
    GetTask,
    BlockTask,
    UnblockTask,
    ReopenTask,
    CompleteTask,
    ScheduleMeeting,
    ListComments,
    AddComment,
    ListQuestions,
    AnswerQuestion,
    Activity,
    AccessLog,
    Documents,
    DownloadFile,
    ReviewFile,
    ReviewQueue,
    FailedMail,
    GetPlan,
    EditTask,
    MoveTask,
    DeleteTask,
    EditPhase,
    MovePhase,
    DeletePhase,
    ListTemplates,
    CreateTemplate,
    GetTemplate,
    EditTemplate,
    ReplaceTemplate,
    CopyTemplate,
    PortalFromTemplate,
    MeetingIcs,
    ErasureLog,
    ReminderSettings,
    SetReminderSettings,
    UploadLogo,
    GetTeam,
    SetTeam,
    UploadTeamPhoto,
    SetChecklistItem,
    RescanFile,
    RemoveContact,
    DeletePortal,
    RevealCredentials,
    PurgeCredentials,
    ExportAudit,
    VerifyAudit,
    ListDrops,
    DownloadDrop,
    SweepDrops,
    SignatureEvidence,
    SignatureImage,
    VerifyDocument,
    AttachSignatureDocument,
    SignatureDocument,
    SignatureDocumentInfo,
    AttachFile,
    ListAttachments,
    DownloadAttachment,
    DeleteAttachment,
    ClearStuck,
    DecideDueDate,
    DueDateRequests,
    ListWebhookEndpoints,
    CreateWebhookEndpoint,
    GetWebhookEndpoint,
    UpdateWebhookEndpoint,
    DeleteWebhookEndpoint,
    RotateWebhookSecret,
    ListWebhookDeliveries,
    ReplayWebhookDelivery,
}

/// A route: method, path template (`{name}` segments are parameters), and what the
/// framework does around the handler.
#[derive(Debug, Clone)]
pub(crate) struct Route {
    pub method: Method,
    pub path: &'static str,
    pub op: Op,
    /// OpenAPI `operationId`.
    pub id: &'static str,
    pub summary: &'static str,
    /// The least role that may call it (`None`: no authentication, the document).
    pub role: Option<StaffRole>,
    /// Request body schema (JSON), if any.
    pub body: Option<&'static str>,
    /// Success status and response schema name (`None`: no body).
    pub ok: (u16, Option<&'static str>),
    /// Honours `Idempotency-Key` (a creating request whose answer holds no secret).
    pub idempotent: bool,
    /// Needs `If-Match` (an update of a versioned resource).
    pub if_match: bool,
    /// Takes `?limit=&cursor=` and answers a page.
    pub paged: bool,
    /// Paged by key in the store (the cursor carries the last item's key), not by
    /// an offset into a list read whole.
    pub keyset: bool,
    /// Answers with an `ETag`.
    pub etag: bool,
    /// Takes a file as its body (raw bytes or `multipart/form-data`), streamed to the
    /// handler instead of read as JSON.
    pub upload: bool,
    /// The staff use cases of `PortalService` the handler calls (the document lists
    /// them as `x-use-cases`, and a test checks every staff use case has a route).
    pub uses: &'static [&'static str],
}

const fn r(method: Method, path: &'static str, op: Op, id: &'static str) -> Route {
    Route {
        method,
        path,
        op,
        id,
        summary: "",
        role: Some(StaffRole::Member),
        body: None,
        ok: (200, None),
        idempotent: false,
        if_match: false,
        paged: false,
        keyset: false,
        etag: false,
        upload: false,
        uses: &[],
    }
}

impl Route {
    const fn upload(mut self) -> Self {
        self.upload = true;
        self
    }

    const fn summary(mut self, s: &'static str) -> Self {
        self.summary = s;
        self
    }
    const fn admin(mut self) -> Self {
        self.role = Some(StaffRole::Admin);
        self
    }
    const fn public(mut self) -> Self {
        self.role = None;
        self
    }
    const fn body(mut self, schema: &'static str) -> Self {
        self.body = Some(schema);
        self
    }
    const fn ok(mut self, status: u16, schema: &'static str) -> Self {
        self.ok = (status, Some(schema));
        self
    }
    /// Success without a body (a deletion's `204`).
    const fn empty(mut self, status: u16) -> Self {
        self.ok = (status, None);
        self
    }
    const fn idempotent(mut self) -> Self {
        self.idempotent = true;
        self
    }
    const fn if_match(mut self) -> Self {
        self.if_match = true;
        self.etag = true;
        self
    }
    const fn paged(mut self) -> Self {
        self.paged = true;
        self
    }
    /// Paged by key in the store (see [`Route::keyset`]).
    const fn keyset(mut self) -> Self {
        self.paged = true;
        self.keyset = true;
        self
    }
    const fn etag(mut self) -> Self {
        self.etag = true;
        self
    }
    const fn uses(mut self, use_cases: &'static [&'static str]) -> Self {
        self.uses = use_cases;
        self
    }
}

/// Every route of the API, relative to its prefix.
pub(crate) fn routes() -> Vec<Route> {
    use Method as M;
    use Op::*;
    vec![
        r(M::GET, "/openapi.json", OpenApi, "getOpenApi")
            .public()
            .summary("This API's OpenAPI 3.1 document")
            .ok(200, "OpenApiDocument"),
        r(M::GET, "/me", Me, "getMe")
            .summary("The staff member the credentials act as")
            .ok(200, "Staff"),
        r(M::GET, "/tenant", Tenant, "getTenant")
            .summary("The MSP's settings and branding defaults")
            .ok(200, "Tenant")
            .etag(),
        r(M::PATCH, "/tenant", EditTenant, "updateTenant")
            .admin()
            .summary("Change the MSP's settings in one step: name, notification recipients, own base URL (custom domain) and sender")
            .body("TenantPatch")
            .ok(200, "Tenant")
            .if_match(),
        r(
            M::PUT,
            "/tenant/branding",
            SetTenantBranding,
            "setTenantBranding",
        )
        .admin()
        .summary("Replace the branding defaults of new portals")
        .body("BrandingInput")
        .ok(200, "Tenant")
        .if_match(),
        r(M::GET, "/portals", ListPortals, "listPortals")
            .summary("The MSP's portals, oldest first")
            .ok(200, "PortalPage")
            .keyset(),
        r(M::POST, "/portals", CreatePortal, "createPortal")
            .summary("Create a portal for a client company (a draft unless status says otherwise; any other status needs the admin role)")
            .body("PortalInput")
            .ok(201, "Portal")
            .idempotent(),
        r(M::GET, "/portals/{portal}", GetPortal, "getPortal")
            .summary("A portal with its plan")
            .ok(200, "PortalDetail")
            .etag(),
        r(
            M::PATCH,
            "/portals/{portal}",
            SetPortalStatus,
            "updatePortal",
        )
        .summary("Rename a portal, set its target go-live date, or change its status (status: admin)")
        .body("PortalPatch")
        .ok(200, "PortalDetail")
        .if_match(),
        r(
            M::PUT,
            "/portals/{portal}/branding",
            SetPortalBranding,
            "setPortalBranding",
        )
        .admin()
        .summary("Replace one portal's branding")
        .body("BrandingInput")
        .ok(200, "PortalDetail")
        .if_match(),
        r(
            M::GET,
            "/portals/{portal}/contacts",
            ListContacts,
            "listContacts",
        )
        .summary("A portal's contacts, oldest first")
        .ok(200, "ContactPage")
        .keyset(),
        r(
            M::POST,
            "/portals/{portal}/contacts",
            AddContact,
            "addContact",
        )
        .summary("Add a contact (not invited yet)")
        .body("ContactInput")
        .ok(201, "Contact")
        .idempotent(),
        r(
            M::POST,
            "/portals/{portal}/contacts/{contact}/invite",
            InviteContact,
            "inviteContact",
        )
        .summary("Issue (or re-issue) the contact's invite: emails it and returns the link once")
        .ok(200, "Invite"),
        r(M::POST, "/portals/{portal}/contacts/{contact}/invite-link", InviteLink, "inviteLink")
            .summary("Issue (or re-issue) the contact's invite without emailing it; returns the link once, for hosts that send their own email")
            .ok(200, "Invite"),
        r(M::GET, "/portals/{portal}/contacts/{contact}", GetContact, "getContact")
            .summary("A contact, with their last access")
            .ok(200, "Contact")
            .etag(),
        r(M::PATCH, "/portals/{portal}/contacts/{contact}", EditContact, "updateContact")
            .summary("Correct a contact's name and email")
            .body("ContactInput")
            .ok(200, "Contact")
            .if_match(),
        r(
            M::POST,
            "/portals/{portal}/contacts/{contact}/revoke",
            RevokeContact,
            "revokeContact",
        )
        .admin()
        .summary("Revoke a contact's access at once (invite, codes, sessions)")
        .ok(200, "Contact"),
        r(
            M::POST,
            "/portals/{portal}/contacts/{contact}/revoke-invite",
            RevokeInvite,
            "revokeInvite",
        )
        .admin()
        .summary("Kill a contact's invite link (sessions keep working)")
        .ok(200, "Contact"),
        r(
            M::GET,
            "/portals/{portal}/colleagues/pending",
            PendingColleagues,
            "listPendingColleagues",
        )
        .summary("Colleagues the portal's contacts invited who wait for approval, oldest first")
        .ok(200, "ContactPage")
        .paged(),
        r(
            M::POST,
            "/portals/{portal}/contacts/{contact}/approve",
            ApproveColleague,
            "approveColleague",
        )
        .summary("Approve a colleague a contact invited: their own invitation is issued and emailed")
        .ok(200, "Contact"),
        r(
            M::POST,
            "/portals/{portal}/contacts/{contact}/decline",
            DeclineColleague,
            "declineColleague",
        )
        .summary("Decline a colleague a contact invited: they are removed (they never had a link)")
        .empty(204),
        r(
            M::PUT,
            "/portals/{portal}/colleague-invitations",
            SetColleagueInvitations,
            "setColleagueInvitations",
        )
        .admin()
        .summary("Set whether the portal's contacts may invite colleagues: off, at_once or after_approval (the default)")
        .body("ColleagueInvitationsInput")
        .ok(200, "Portal")
        .if_match(),
        r(M::GET, "/portals/{portal}/guests", ListGuests, "listGuests")
            .summary("The portal's guests (participants from outside the client company, such as the outgoing MSP), oldest first")
            .ok(200, "ContactPage")
            .paged(),
        r(M::POST, "/portals/{portal}/guests", AddGuest, "addGuest")
            .summary("Invite a guest to specific client tasks: they get their own invitation and see only those tasks and their threads")
            .body("GuestInput")
            .ok(201, "Contact")
            .idempotent(),
        r(
            M::PUT,
            "/portals/{portal}/guests/{contact}/tasks/{task}",
            ShareGuestTask,
            "shareGuestTask",
        )
        .summary("Share one more client task with a guest (sharing twice changes nothing)")
        .ok(200, "Contact"),
        r(
            M::DELETE,
            "/portals/{portal}/guests/{contact}/tasks/{task}",
            UnshareGuestTask,
            "unshareGuestTask",
        )
        .summary("Stop sharing a task with a guest")
        .ok(200, "Contact"),
        r(
            M::POST,
            "/portals/{portal}/guests/{contact}/end-access",
            EndGuestAccess,
            "endGuestAccess",
        )
        .summary("End a guest's access now: their sessions, invite and codes stop working on their next request")
        .ok(200, "Contact"),
        r(M::POST, "/portals/{portal}/handover", StartHandover, "startHandover")
            .summary("Start the handover from the client's previous provider: the phase \"Handover from your previous provider\" (a checklist for the documentation export, domain and licence transfers, and a credential-handoff task for the admin credentials), shared with the provider's contact as a guest, who gets their invitation; 409 while the portal has a handover phase")
            .body("HandoverInput")
            .ok(201, "Handover")
            .idempotent(),
        r(M::POST, "/portals/{portal}/phases", AddPhase, "addPhase")
            .summary("Append a phase to the plan")
            .body("PhaseInput")
            .ok(201, "Phase")
            .idempotent(),
        r(
            M::POST,
            "/portals/{portal}/phases/{phase}/tasks",
            AddTask,
            "addTask",
        )
        .summary("Append a task to a phase")
        .body("TaskInput")
        .ok(201, "Task")
        .idempotent(),
        r(M::GET, "/portals/{portal}/tasks/{task}", GetTask, "getTask")
            .summary("A task")
            .ok(200, "Task")
            .etag(),
        r(
            M::POST,
            "/portals/{portal}/tasks/{task}/block",
            BlockTask,
            "blockTask",
        )
        .summary("Block a task with a reason the client sees")
        .body("BlockInput")
        .ok(200, "Task")
        .if_match(),
        r(
            M::POST,
            "/portals/{portal}/tasks/{task}/unblock",
            UnblockTask,
            "unblockTask",
        )
        .summary("Unblock a task")
        .ok(200, "Task")
        .if_match(),
        r(
            M::POST,
            "/portals/{portal}/tasks/{task}/reopen",
            ReopenTask,
            "reopenTask",
        )
        .summary("Reopen a completed task")
        .ok(200, "Task")
        .if_match(),
        r(
            M::POST,
            "/portals/{portal}/tasks/{task}/complete",
            CompleteTask,
            "completeTask",
        )
        .summary("Complete a task on the client's behalf, with a note")
        .body("CompleteInput")
        .ok(200, "Task")
        .if_match(),
        r(
            M::PUT,
            "/portals/{portal}/tasks/{task}/meeting",
            ScheduleMeeting,
            "scheduleMeeting",
        )
        .summary("Schedule or move a meeting task's meeting")
        .body("MeetingInput")
        .ok(200, "Task")
        .if_match(),
        r(
            M::GET,
            "/portals/{portal}/tasks/{task}/comments",
            ListComments,
            "listComments",
        )
        .summary("A task's comments, oldest first")
        .ok(200, "CommentPage")
        .paged(),
        r(
            M::POST,
            "/portals/{portal}/tasks/{task}/comments",
            AddComment,
            "addComment",
        )
        .summary("Reply on a task's thread")
        .body("CommentInput")
        .ok(201, "Comment")
        .idempotent(),
        r(
            M::GET,
            "/portals/{portal}/questions",
            ListQuestions,
            "listQuestions",
        )
        .summary("The client's questions, newest first")
        .ok(200, "QuestionPage")
        .paged(),
        r(
            M::POST,
            "/portals/{portal}/questions/{question}/answer",
            AnswerQuestion,
            "answerQuestion",
        )
        .summary("Answer a client's question (once)")
        .body("AnswerInput")
        .ok(200, "Question"),
        r(
            M::GET,
            "/portals/{portal}/activity",
            Activity,
            "listActivity",
        )
        .summary("The activity feed, newest first")
        .ok(200, "ActivityPage")
        .keyset(),
        r(
            M::GET,
            "/portals/{portal}/access-log",
            AccessLog,
            "listAccessLog",
        )
        .summary("Who accessed the portal, newest first")
        .ok(200, "AccessLogPage")
        .keyset(),
        r(
            M::GET,
            "/portals/{portal}/documents",
            Documents,
            "listDocuments",
        )
        .summary("Requested documents with their status and versions, in plan order")
        .ok(200, "DocumentPage")
        .paged(),
        r(
            M::GET,
            "/portals/{portal}/files/{file}",
            DownloadFile,
            "downloadFile",
        )
        .summary("Download an uploaded file (refused while not admitted by the scan)")
        .ok(200, "FileContent"),
        r(
            M::POST,
            "/portals/{portal}/files/{file}/review",
            ReviewFile,
            "reviewFile",
        )
        .summary("Approve or reject an uploaded file")
        .body("ReviewInput")
        .ok(200, "File"),
        r(
            M::POST,
            "/portals/{portal}/tasks/{task}/stuck/clear",
            ClearStuck,
            "clearStuck",
        )
        .summary("Clear a contact's \"I'm stuck\" on a task, with an optional answer posted in its thread; the contact is emailed")
        .body("ClearStuckInput")
        .ok(200, "Task")
        .if_match(),
        r(
            M::POST,
            "/portals/{portal}/tasks/{task}/due-date-requests/{number}/decision",
            DecideDueDate,
            "decideDueDateRequest",
        )
        .summary("Approve (the due date becomes the requested one) or decline (with a note) a contact's due-date request; the contact is emailed")
        .body("DueDateDecisionInput")
        .ok(200, "Task")
        .if_match(),
        r(
            M::GET,
            "/due-date-requests",
            DueDateRequests,
            "listDueDateRequests",
        )
        .summary("Pending due-date requests across the MSP's portals, oldest first")
        .ok(200, "DueDateRequestPage")
        .paged(),
        r(M::GET, "/review-queue", ReviewQueue, "listReviewQueue")
            .summary("Uploads awaiting review across the MSP's portals, oldest first")
            .ok(200, "QueuePage")
            .paged(),
        r(M::GET, "/failed-mail", FailedMail, "listFailedMail")
            .summary("Emails that could not be delivered, most recent first")
            .ok(200, "FailedMailPage")
            .paged(),
        r(M::GET, "/portals/{portal}/plan", GetPlan, "getPlan")
            .summary("A portal's whole plan for editing: phases in order, every task (internal ones too) with its version, and the contacts tasks can be assigned to")
            .ok(200, "Plan")
            .etag(),
        r(M::PATCH, "/portals/{portal}/tasks/{task}", EditTask, "updateTask")
            .summary("Edit a task's fields (a due date of null clears it); If-Match is the task's ETag (\"v<version>\")")
            .body("TaskPatch")
            .ok(200, "Task")
            .if_match(),
        r(M::POST, "/portals/{portal}/tasks/{task}/move", MoveTask, "moveTask")
            .summary("Move a task to a position of a phase (the same or another; clamped to its end)")
            .body("TaskMove")
            .ok(200, "Task")
            .if_match(),
        r(M::DELETE, "/portals/{portal}/tasks/{task}", DeleteTask, "deleteTask")
            .summary("Delete a task with its comments (refused while it has uploaded files); a file drop's files, a signature's image and document and submitted credentials are erased with it; tasks waiting for it stop waiting")
            .empty(204)
            .if_match(),
        r(M::PATCH, "/portals/{portal}/phases/{phase}", EditPhase, "updatePhase")
            .summary("Rename a phase; If-Match is the phase's ETag (\"v<version>\")")
            .body("PhasePatch")
            .ok(200, "Phase")
            .if_match(),
        r(M::POST, "/portals/{portal}/phases/{phase}/move", MovePhase, "movePhase")
            .summary("Move a phase to a position of the plan (clamped to the end)")
            .body("PhaseMove")
            .ok(200, "Phase")
            .if_match(),
        r(M::DELETE, "/portals/{portal}/phases/{phase}", DeletePhase, "deletePhase")
            .summary("Delete a phase: an empty one, or with all its tasks when `?with_tasks=true`")
            .empty(204)
            .if_match(),
        r(M::GET, "/templates", ListTemplates, "listTemplates")
            .summary("The MSP's plan templates, oldest first")
            .ok(200, "TemplatePage")
            .keyset(),
        r(M::POST, "/templates", CreateTemplate, "createTemplate")
            .summary("Create a plan template")
            .body("TemplateInput")
            .ok(201, "Template")
            .idempotent(),
        r(M::GET, "/templates/{template}", GetTemplate, "getTemplate")
            .summary("A plan template")
            .ok(200, "Template")
            .etag(),
        r(M::PATCH, "/templates/{template}", EditTemplate, "updateTemplate")
            .summary("Rename a template or replace its phases")
            .body("TemplatePatch")
            .ok(200, "Template")
            .if_match(),
        r(M::PUT, "/templates/{template}", ReplaceTemplate, "replaceTemplate")
            .summary("Replace a template's name and phases")
            .body("TemplateInput")
            .ok(200, "Template")
            .if_match(),
        r(M::POST, "/templates/{template}/copy", CopyTemplate, "copyTemplate")
            .summary("Copy a template under a new name")
            .body("TemplateCopy")
            .ok(201, "Template")
            .idempotent(),
        r(M::POST, "/templates/{template}/portals", PortalFromTemplate, "createPortalFromTemplate")
            .summary("Create a portal (a draft unless status is active, which needs the admin role) with the template's plan, due dates counted from start_date")
            .body("PortalFromTemplateInput")
            .ok(201, "Portal")
            .idempotent(),
        r(M::GET, "/portals/{portal}/tasks/{task}/meeting.ics", MeetingIcs, "getMeetingIcs")
            .summary("A meeting task's calendar file (text/calendar), for staff's own calendars")
            .ok(200, "FileContent"),
        r(M::GET, "/erasure-log", ErasureLog, "listErasures")
            .summary("Deleted portals (who erased what, when), newest first")
            .ok(200, "ErasurePage")
            .paged(),
        r(M::GET, "/portals/{portal}/reminders", ReminderSettings, "getReminderSettings")
            .summary("How the portal reminds its client of due and overdue tasks")
            .ok(200, "ReminderSettings")
            .etag(),
        r(M::PUT, "/portals/{portal}/reminders", SetReminderSettings, "setReminderSettings")
            .summary("Replace the portal's reminder settings")
            .body("ReminderSettings")
            .ok(200, "ReminderSettings")
            .if_match(),
        r(M::POST, "/tenant/logo", UploadLogo, "uploadLogo")
            .admin()
            .summary("Store a logo image (PNG, JPEG, GIF or WebP, base64) for branding; answers the reference to put in `logo`")
            .body("LogoUpload")
            .ok(201, "LogoRef"),
        r(M::GET, "/portals/{portal}/team", GetTeam, "getTeam")
            .summary("The portal's onboarding team (the MSP people the client sees on the home page), in display order")
            .ok(200, "Team")
            .etag(),
        r(M::PUT, "/portals/{portal}/team", SetTeam, "setTeam")
            .summary("Replace the portal's onboarding team (at most 12 members, each email once); raises the portal's version")
            .body("TeamInput")
            .ok(200, "Team")
            .if_match(),
        r(M::POST, "/portals/{portal}/team/photo", UploadTeamPhoto, "uploadTeamPhoto")
            .summary("Store a team member's photo (PNG, JPEG or WebP, base64, at most 256 KiB); answers the reference to put in a member's `photo`")
            .body("TeamPhotoUpload")
            .ok(201, "LogoRef"),
        r(M::PUT, "/portals/{portal}/tasks/{task}/checklist/{item}", SetChecklistItem, "setChecklistItem")
            .summary("Check or uncheck a checklist item on the client's behalf")
            .body("ChecklistInput")
            .ok(200, "Task")
            .if_match(),
        r(M::POST, "/portals/{portal}/files/{file}/rescan", RescanFile, "rescanFile")
            .summary("Scan a file waiting for review again (after the scanner was down)")
            .ok(200, "File"),
        r(M::DELETE, "/portals/{portal}/contacts/{contact}", RemoveContact, "removeContact")
            .admin()
            .summary("Remove a contact (revoked at once; their name stays on what they did)")
            .empty(204),
        r(M::DELETE, "/portals/{portal}", DeletePortal, "deletePortal")
            .admin()
            .summary("Delete a portal with all its data and files (recorded in the erasure log)")
            .empty(204),
        r(
            M::POST,
            "/portals/{portal}/tasks/{task}/credentials/reveal",
            RevealCredentials,
            "revealCredentials",
        )
        .admin()
        .summary("Reveal a credential handoff's values, saying why (recorded in the audit trail; answered with Cache-Control: no-store)")
        .body("RevealRequest")
        .ok(200, "RevealedCredentials"),
        r(
            M::DELETE,
            "/portals/{portal}/tasks/{task}/credentials",
            PurgeCredentials,
            "purgeCredentials",
        )
        .admin()
        .summary("Delete a credential handoff's values when the work is done (who submitted and who purged stay; recorded in the audit trail)")
        .empty(204),
        r(M::GET, "/portals/{portal}/audit", ExportAudit, "exportAudit")
            .admin()
            .summary("The portal's audit chain as JSON Lines (application/x-ndjson), for tests/audit/verify_chain.py or an auditor's own tools")
            .ok(200, "AuditExport"),
        r(M::GET, "/portals/{portal}/audit/verify", VerifyAudit, "verifyAudit")
            .summary("Walk the portal's audit chain: its head, and the first event whose number, link or hash does not hold")
            .ok(200, "AuditVerification"),
        r(M::GET, "/portals/{portal}/tasks/{task}/drops", ListDrops, "listDrops")
            .summary("The files dropped on a secure file drop task, every state, oldest first, with their expiry")
            .ok(200, "DroppedFilePage")
            .paged(),
        r(M::GET, "/portals/{portal}/drops/{file}", DownloadDrop, "downloadDrop")
            .summary("Download a dropped file (decrypted, streamed); the first download marks it downloaded, every one is in the audit trail. Expired, deleted and missing files are one 404")
            .ok(200, "FileContent"),
        r(M::POST, "/drops/sweep", SweepDrops, "sweepDrops")
            .admin()
            .summary("Sweep your tenant's file drops now: mark files past their expiry expired and remove the bytes of expired and deleted files (the host also runs it in the background)")
            .ok(200, "SweepReport"),
        r(
            M::GET,
            "/portals/{portal}/tasks/{task}/signature",
            SignatureEvidence,
            "getSignature",
        )
        .summary("A signature task's evidence record with every hash recomputed (which part, if any, no longer matches) and its audit-chain position: the data of the evidence certificate")
        .ok(200, "SignatureEvidence"),
        r(
            M::GET,
            "/portals/{portal}/tasks/{task}/signature/image",
            SignatureImage,
            "getSignatureImage",
        )
        .summary("The drawn signature's PNG (a typed signature has none: 404)")
        .ok(200, "FileContent"),
        r(
            M::PUT,
            "/portals/{portal}/tasks/{task}/signature/document",
            AttachSignatureDocument,
            "attachSignatureDocument",
        )
        .summary("Attach the document to sign to a signature task (the file as the raw body with ?name=, or multipart/form-data with a `file` part), replacing the one before; refused once the task is signed. Streamed, size-limited (25 MiB), sniffed, encrypted; recorded in the audit trail")
        .upload()
        .ok(200, "SignatureDocument"),
        r(
            M::GET,
            "/portals/{portal}/tasks/{task}/signature/document",
            SignatureDocument,
            "getSignatureDocument",
        )
        .summary("Download a signature task's document: exactly the bytes the client is shown and whose SHA-256 a signature records")
        .ok(200, "FileContent"),
        r(
            M::GET,
            "/portals/{portal}/tasks/{task}/signature/document/info",
            SignatureDocumentInfo,
            "getSignatureDocumentInfo",
        )
        .summary("A signature task's document: its name, type, size, SHA-256, and who attached it when (404 if none is attached)")
        .ok(200, "SignatureDocument"),
        r(
            M::POST,
            "/portals/{portal}/tasks/{task}/attachments",
            AttachFile,
            "attachFile",
        )
        .summary("Share a file on any task (an approval's supporting document, an agreement, a how-to guide): the file as the raw body with ?name=, or multipart/form-data with a `file` part. Streamed, size-limited (25 MiB, 413 while streaming), sniffed, encrypted; at most 20 per task; in the activity feed. The client opens it from the task and the Documents tab; an approval or signature on the task waits until the deciding contact opened it")
        .upload()
        .ok(201, "Attachment"),
        r(
            M::GET,
            "/portals/{portal}/tasks/{task}/attachments",
            ListAttachments,
            "listAttachments",
        )
        .summary("The files shared on a task, oldest first (never their content or keys)")
        .ok(200, "AttachmentPage")
        .paged(),
        r(
            M::GET,
            "/portals/{portal}/attachments/{attachment}",
            DownloadAttachment,
            "downloadAttachment",
        )
        .summary("Download a shared file: exactly the bytes the client opens, whose SHA-256 a decision records")
        .ok(200, "FileContent"),
        r(
            M::DELETE,
            "/portals/{portal}/attachments/{attachment}",
            DeleteAttachment,
            "deleteAttachment",
        )
        .summary("Delete a shared file (its record and its encrypted bytes; a decision already taken keeps its name and SHA-256); in the activity feed")
        .empty(204),
        r(M::POST, "/signatures/verify-document", VerifyDocument, "verifyDocument")
            .summary("Verify a document: whether these exact bytes were signed in one of the tenant's portals, and by whom")
            .body("DocumentCheck")
            .ok(200, "DocumentVerification"),
        r(M::GET, "/webhooks/endpoints", ListWebhookEndpoints, "listWebhookEndpoints")
            .admin()
            .summary("Your webhook endpoints, oldest first (their secrets are never shown again)")
            .ok(200, "WebhookEndpointPage")
            .paged(),
        r(M::POST, "/webhooks/endpoints", CreateWebhookEndpoint, "createWebhookEndpoint")
            .admin()
            .summary("Register a webhook endpoint: events of your portals are POSTed there, signed as the Standard Webhooks specification says; the answer holds its secret, shown this once")
            .body("WebhookEndpointInput")
            .ok(201, "WebhookEndpointCreated"),
        r(M::GET, "/webhooks/endpoints/{endpoint}", GetWebhookEndpoint, "getWebhookEndpoint")
            .admin()
            .summary("A webhook endpoint (why it was disabled, if it was)")
            .ok(200, "WebhookEndpoint")
            .etag(),
        r(M::PATCH, "/webhooks/endpoints/{endpoint}", UpdateWebhookEndpoint, "updateWebhookEndpoint")
            .admin()
            .summary("Change a webhook endpoint's URL, description or event types, or enable or disable it (enabling clears why it was disabled)")
            .body("WebhookEndpointPatch")
            .ok(200, "WebhookEndpoint")
            .if_match(),
        r(M::DELETE, "/webhooks/endpoints/{endpoint}", DeleteWebhookEndpoint, "deleteWebhookEndpoint")
            .admin()
            .summary("Delete a webhook endpoint and its deliveries")
            .empty(204),
        r(
            M::POST,
            "/webhooks/endpoints/{endpoint}/rotate-secret",
            RotateWebhookSecret,
            "rotateWebhookSecret",
        )
        .admin()
        .summary("Replace an endpoint's secret; the old one still signs for 24 hours (two v1 signatures meanwhile). The answer holds the new secret, shown this once")
        .ok(200, "WebhookEndpointCreated"),
        r(
            M::GET,
            "/webhooks/endpoints/{endpoint}/deliveries",
            ListWebhookDeliveries,
            "listWebhookDeliveries",
        )
        .admin()
        .summary("An endpoint's deliveries, newest first: state, attempts, the next attempt, the last answer's status and first bytes")
        .ok(200, "WebhookDeliveryPage")
        .keyset(),
        r(
            M::POST,
            "/webhooks/deliveries/{delivery}/replay",
            ReplayWebhookDelivery,
            "replayWebhookDelivery",
        )
        .admin()
        .summary("Send a delivery again (same webhook-id and body, so receivers dedupe) at the worker's next pass")
        .ok(200, "WebhookDelivery"),
    ]
    .into_iter()
    .map(|r| {
        let uses = use_cases(r.op);
        r.uses(uses)
    })
    .collect()
}

/// The staff use cases each operation calls (some call one of two, by the input).
const fn use_cases(op: Op) -> &'static [&'static str] {
    use Op::*;
    match op {
        OpenApi | Me | Tenant | GetPortal => &[],
        // The tenant's and a portal's edits go through the versioned `update_tenant` /
        // `update_portal`, of which each older single-field use case is one case.
        EditTenant => &[
            "update_tenant",
            "rename_tenant",
            "set_notification_recipients",
        ],
        SetTenantBranding => &["update_tenant", "update_tenant_branding"],
        ListPortals => &["list_portals"],
        CreatePortal => &["create_portal"],
        SetPortalStatus => &[
            "update_portal",
            "rename_portal",
            "set_target_date",
            "set_portal_status",
        ],
        SetPortalBranding => &["update_portal", "update_portal_branding"],
        ListContacts | GetContact => &["list_contacts"],
        AddContact => &[
            "add_contact",
            "add_contact_in_zone",
            "add_contact_in_language",
        ],
        InviteContact => &["invite_contact"],
        InviteLink => &["invite_link"],
        EditContact => &["edit_contact", "change_contact"],
        RevokeContact => &["revoke_contact"],
        RevokeInvite => &["revoke_invite"],
        PendingColleagues => &["pending_colleagues"],
        ApproveColleague => &["approve_colleague"],
        DeclineColleague => &["decline_colleague"],
        SetColleagueInvitations => &["set_colleague_invitations"],
        ListGuests => &["guests"],
        AddGuest => &["add_guest"],
        ShareGuestTask | UnshareGuestTask => &["share_guest_task"],
        EndGuestAccess => &["end_guest_access"],
        StartHandover => &["start_handover"],
        AddPhase => &["add_phase", "add_plan_phase"],
        AddTask => &["add_task", "add_plan_task"],
        GetTask => &["staff_task"],
        BlockTask => &["block_task"],
        UnblockTask => &["unblock_task"],
        ReopenTask => &["reopen_task"],
        CompleteTask => &["staff_complete"],
        ScheduleMeeting => &["schedule_meeting"],
        ListComments => &["staff_comments"],
        AddComment => &["staff_add_comment"],
        ListQuestions => &["staff_questions"],
        AnswerQuestion => &["answer_question"],
        Activity => &["staff_activity"],
        AccessLog => &["access_log"],
        Documents => &["staff_documents"],
        DownloadFile => &["staff_download_document"],
        ReviewFile => &["review_document"],
        ReviewQueue => &["review_queue"],
        ClearStuck => &["clear_stuck"],
        DecideDueDate => &["decide_due_date"],
        DueDateRequests => &["pending_due_dates"],
        FailedMail => &["failed_mail"],
        GetPlan => &["plan"],
        EditTask => &["edit_task", "set_due_date"],
        MoveTask => &["move_task"],
        DeleteTask => &["delete_task"],
        EditPhase => &["rename_phase"],
        MovePhase => &["move_phase"],
        DeletePhase => &["delete_phase"],
        ListTemplates => &["templates"],
        CreateTemplate => &["create_template"],
        GetTemplate => &["template"],
        EditTemplate | ReplaceTemplate => &["edit_template"],
        CopyTemplate => &["copy_template"],
        PortalFromTemplate => &["create_portal_from_template"],
        MeetingIcs => &["staff_meeting_ics"],
        ErasureLog => &["erasure_log"],
        ReminderSettings => &["reminder_settings"],
        SetReminderSettings => &["set_reminder_settings"],
        UploadLogo => &["upload_logo"],
        GetTeam => &["staff_team"],
        SetTeam => &["set_team"],
        UploadTeamPhoto => &["upload_team_photo"],
        SetChecklistItem => &["staff_set_checklist_item"],
        RescanFile => &["rescan_document"],
        RemoveContact => &["remove_contact"],
        DeletePortal => &["delete_portal"],
        RevealCredentials => &["reveal_credentials"],
        PurgeCredentials => &["purge_credentials"],
        ExportAudit => &["export_audit_chain"],
        VerifyAudit => &["verify_audit_chain"],
        ListDrops => &["staff_dropped_files"],
        DownloadDrop => &["download_dropped_file"],
        SweepDrops => &["staff_sweep_file_drops"],
        SignatureEvidence => &["signature_evidence"],
        SignatureImage => &["signature_image"],
        VerifyDocument => &["signatures_of_document"],
        AttachSignatureDocument => &["attach_signature_document"],
        SignatureDocument | SignatureDocumentInfo => &["staff_signature_document"],
        AttachFile => &["attach_file"],
        ListAttachments => &["staff_task_attachments"],
        DownloadAttachment => &["staff_attachment"],
        DeleteAttachment => &["delete_attachment"],
        // Webhooks are `portal_core::webhooks::service::Webhooks`, beside the
        // service: not rows of the staff matrices.
        ListWebhookEndpoints
        | CreateWebhookEndpoint
        | GetWebhookEndpoint
        | UpdateWebhookEndpoint
        | DeleteWebhookEndpoint
        | RotateWebhookSecret
        | ListWebhookDeliveries
        | ReplayWebhookDelivery => &[],
    }
}

/// The outcome of matching a path.
pub(crate) enum Matched<'a> {
    /// A route and its parameters, in template order.
    Route(Route, Vec<&'a str>),
    /// The path exists with other methods (their names, for `Allow`).
    OtherMethods(Vec<Method>),
    /// No such path.
    None,
}

/// Matches `method` and `path` (relative to the prefix) against the table.
pub(crate) fn find<'a>(method: &Method, path: &'a str) -> Matched<'a> {
    let segments: Vec<&str> = path.trim_start_matches('/').split('/').collect();
    let mut others = Vec::new();
    for route in routes() {
        let template: Vec<&str> = route.path.trim_start_matches('/').split('/').collect();
        if template.len() != segments.len() {
            continue;
        }
        let mut params = Vec::new();
        let fits = template.iter().zip(&segments).all(|(t, s)| {
            if t.starts_with('{') {
                params.push(*s);
                !s.is_empty()
            } else {
                t == s
            }
        });
        if !fits {
            continue;
        }
        let head_of_get = *method == Method::HEAD && route.method == Method::GET;
        if route.method == *method || head_of_get {
            return Matched::Route(route, params);
        }
        others.push(route.method.clone());
    }
    if others.is_empty() {
        Matched::None
    } else {
        Matched::OtherMethods(others)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matching_templates() {
        let Matched::Route(route, params) = find(&Method::POST, "/portals/abc/tasks/def/block")
        else {
            panic!("no match");
        };
        assert_eq!(route.op, Op::BlockTask);
        assert_eq!(params, ["abc", "def"]);
        assert!(matches!(
            find(&Method::DELETE, "/portals"),
            Matched::OtherMethods(m) if m.len() == 2
        ));
        assert!(matches!(find(&Method::GET, "/nope"), Matched::None));
        assert!(matches!(
            find(&Method::GET, "/portals//contacts"),
            Matched::None
        ));
    }

    /// An idempotency key stores the answer in the database for replays, so no route
    /// whose answer carries a secret (an invite link) may honour one.
    #[test]
    fn no_idempotent_route_answers_with_a_secret() {
        const SECRET_SCHEMAS: &[&str] =
            &["Invite", "RevealedCredentials", "WebhookEndpointCreated"];
        let invites = routes()
            .into_iter()
            .filter(|r| r.ok.1.is_some_and(|s| SECRET_SCHEMAS.contains(&s)))
            .collect::<Vec<_>>();
        assert!(!invites.is_empty(), "the invite routes are in the table");
        for route in invites {
            assert!(
                !route.idempotent,
                "{} stores a secret for replays",
                route.path
            );
        }
    }

    #[test]
    fn ids_and_paths_are_unique() {
        let all = routes();
        for (i, a) in all.iter().enumerate() {
            for b in &all[i + 1..] {
                assert_ne!(a.id, b.id);
                assert!(a.path != b.path || a.method != b.method, "{}", a.path);
            }
        }
    }
}
