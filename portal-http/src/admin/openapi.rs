//! The OpenAPI 3.1 document of the admin API, generated from the route table (so no
//! route is missing from it) and the schemas below (the JSON shapes of `views.rs`).
//! Served at `<prefix>/openapi.json`; `docs/openapi.json` is the same document for
//! the default prefix, and a test fails when they differ (regenerate it with
//! `UPDATE_OPENAPI=1 cargo test -p portal-http openapi`).

use http::Method;
use serde_json::{Map, Value, json};

use super::problem::{PROBLEM_BASE, PROBLEM_TYPES};
use super::routes::routes;

fn s(t: &str) -> Value {
    json!({ "type": t })
}
fn nullable(t: &str) -> Value {
    json!({ "type": [t, "null"] })
}
fn text(max: usize) -> Value {
    json!({ "type": "string", "minLength": 1, "maxLength": max })
}
fn id() -> Value {
    json!({ "type": "string", "format": "uuid" })
}
fn time() -> Value {
    json!({ "type": "string", "format": "date-time" })
}
fn reference(name: &str) -> Value {
    json!({ "$ref": format!("#/components/schemas/{name}") })
}
fn array_of(name: &str) -> Value {
    json!({ "type": "array", "items": reference(name) })
}
fn object(required: &[&str], props: Value) -> Value {
    json!({ "type": "object", "required": required, "properties": props })
}
fn page(item: &str) -> Value {
    object(
        &["items", "next_cursor"],
        json!({
            "items": array_of(item),
            "next_cursor": { "type": ["string", "null"], "description": "Pass as `cursor` for the next page; null on the last." },
        }),
    )
}

/// The reusable schemas.
fn schemas() -> Map<String, Value> {
    let task_types = [
        "standard",
        "meeting",
        "document_upload",
        "signature",
        "credential_handoff",
        "secure_file_drop",
        "training",
        "survey",
        "checklist",
        "approval",
    ];
    let mut m = Map::new();
    let mut put = |name: &str, v: Value| {
        m.insert(name.to_owned(), v);
    };
    put(
        "Problem",
        json!({
            "type": "object",
            "description": format!("RFC 9457 problem details. `type` is one of {PROBLEM_BASE}{{{}}}.", PROBLEM_TYPES.join(", ")),
            "required": ["type", "title", "status", "detail"],
            "properties": {
                "type": { "type": "string", "format": "uri" },
                "title": s("string"),
                "status": { "type": "integer", "minimum": 400, "maximum": 599 },
                "detail": s("string"),
                "errors": {
                    "type": "array",
                    "items": object(&["field", "detail"], json!({ "field": s("string"), "detail": s("string") })),
                },
            },
        }),
    );
    put(
        "OpenApiDocument",
        json!({ "type": "object", "required": ["openapi", "paths"] }),
    );
    put(
        "FileContent",
        json!({ "type": "string", "description": "The file's bytes, with its own Content-Type (PDF, image, ...) and Content-Disposition: attachment." }),
    );
    put(
        "RevealRequest",
        object(
            &["reason"],
            json!({ "reason": { "type": "string", "minLength": 1, "maxLength": 500, "description": "Why you need the values; kept in the audit trail." } }),
        ),
    );
    put(
        "RevealedCredentials",
        object(
            &["task_id", "fields"],
            json!({
                "task_id": id(),
                "fields": {
                    "type": "object",
                    "description": "The values by field; a field the client left empty is absent.",
                    "properties": { "username": s("string"), "password": s("string"), "api_key": s("string"), "notes": s("string") },
                    "additionalProperties": false,
                },
            }),
        ),
    );
    put(
        "DroppedFile",
        object(
            &[
                "id",
                "task_id",
                "name",
                "size",
                "sha256",
                "uploaded_by",
                "uploaded_at",
                "expires_at",
                "state",
                "downloaded_by",
                "downloaded_at",
            ],
            json!({
                "id": id(), "task_id": id(), "name": s("string"),
                "size": { "type": "integer", "minimum": 1 },
                "sha256": { "type": "string", "pattern": "^[0-9a-f]{64}$" },
                "uploaded_by": reference("Actor"), "uploaded_at": time(),
                "expires_at": { "type": "string", "format": "date-time", "description": "The first instant the file is no longer available (dropped + the task's expires_after_days)." },
                "state": { "enum": ["available", "deleted", "expired"], "description": "`expired` from expires_at on, even before the sweep has removed the bytes." },
                "downloaded_by": { "oneOf": [ { "type": "null" }, reference("Actor") ] },
                "downloaded_at": { "type": ["string", "null"], "format": "date-time" },
            }),
        ),
    );
    put(
        "SweepReport",
        object(
            &["removed"],
            json!({ "removed": { "type": "integer", "minimum": 0, "description": "Files whose bytes this sweep removed." } }),
        ),
    );
    put(
        "AuditExport",
        json!({ "type": "string", "description": "JSON Lines (application/x-ndjson): one audit event per line, oldest first, as docs/audit.md describes." }),
    );
    put(
        "AuditVerification",
        object(
            &["intact", "events", "head", "fault"],
            json!({
                "intact": s("boolean"),
                "events": { "type": "integer", "minimum": 0 },
                "head": { "oneOf": [ { "type": "null" }, object(&["seq", "hash"], json!({ "seq": { "type": "integer", "minimum": 1 }, "hash": { "type": "string", "pattern": "^[0-9a-f]{64}$" } })) ], "description": "The last event; pin it elsewhere to notice a rewrite of the whole chain." },
                "fault": { "oneOf": [ { "type": "null" }, object(&["position", "seq", "problem", "expected_seq"], json!({
                    "position": { "type": "integer", "minimum": 0 },
                    "seq": { "type": "integer" },
                    "problem": { "enum": ["sequence", "link", "hash"] },
                    "expected_seq": { "type": ["integer", "null"] },
                })) ], "description": "The first event whose number, link or hash does not hold." },
            }),
        ),
    );
    put(
        "Signature",
        object(
            &[
                "portal_id",
                "task_id",
                "signer",
                "ip",
                "user_agent",
                "signed_at",
                "time_zone",
                "document",
                "method",
                "typed_name",
                "image_size",
                "mark_sha256",
                "consent_text",
                "consent_sha256",
                "record_sha256",
            ],
            json!({
                "portal_id": id(), "task_id": id(),
                "signer": object(&["name", "email"], json!({ "name": s("string"), "email": nullable("string") })),
                "ip": nullable("string"), "user_agent": nullable("string"),
                "signed_at": { "type": "string", "format": "date-time", "description": "UTC, six fractional digits, as hashed (docs/signatures.md)." },
                "time_zone": { "type": "string", "description": "The IANA zone the signing page showed times in." },
                "document": { "oneOf": [ { "type": "null" }, object(&["name", "size", "sha256"], json!({ "name": s("string"), "size": { "type": "integer", "minimum": 0 }, "sha256": { "type": "string", "pattern": "^[0-9a-f]{64}$" } })) ] },
                "method": { "enum": ["drawn", "typed"] },
                "typed_name": nullable("string"),
                "image_size": { "type": ["integer", "null"], "minimum": 0 },
                "mark_sha256": { "type": "string", "pattern": "^[0-9a-f]{64}$" },
                "consent_text": s("string"),
                "consent_sha256": { "type": "string", "pattern": "^[0-9a-f]{64}$" },
                "record_sha256": { "type": "string", "pattern": "^[0-9a-f]{64}$" },
            }),
        ),
    );
    put(
        "SignatureEvidence",
        object(
            &["signature", "intact", "parts", "audit_event"],
            json!({
                "signature": reference("Signature"),
                "intact": s("boolean"),
                "parts": { "type": "object", "description": "Each part recomputed: record, document (when one was signed), mark, consent, audit_event.", "additionalProperties": { "enum": ["matches", "mismatch", "missing"] } },
                "audit_event": { "oneOf": [ { "type": "null" }, object(&["seq", "hash"], json!({ "seq": { "type": "integer", "minimum": 1 }, "hash": { "type": "string", "pattern": "^[0-9a-f]{64}$" } })) ], "description": "The signature_submitted event's number and hash in the portal's chain." },
            }),
        ),
    );
    put(
        "SignatureDocument",
        object(
            &[
                "task_id",
                "name",
                "file_type",
                "size",
                "sha256",
                "attached_by",
                "attached_at",
            ],
            json!({
                "task_id": id(),
                "name": { "type": "string", "description": "The cleaned file name; its extension agrees with the sniffed type." },
                "file_type": { "type": "string", "description": "What the content is, sniffed (pdf, docx, ...)." },
                "size": { "type": "integer", "minimum": 1 },
                "sha256": { "type": "string", "pattern": "^[0-9a-f]{64}$", "description": "SHA-256 of exactly the bytes the client is shown: what a signature of it records." },
                "attached_by": reference("Actor"),
                "attached_at": time(),
            }),
        ),
    );
    put(
        "Attachment",
        object(
            &[
                "id",
                "task_id",
                "name",
                "file_type",
                "size",
                "sha256",
                "added_by",
                "added_at",
            ],
            json!({
                "id": id(),
                "task_id": id(),
                "name": { "type": "string", "description": "The cleaned file name; its extension agrees with the sniffed type." },
                "file_type": { "type": "string", "description": "What the content is, sniffed (pdf, docx, ...)." },
                "size": { "type": "integer", "minimum": 1 },
                "sha256": { "type": "string", "pattern": "^[0-9a-f]{64}$", "description": "SHA-256 of exactly the bytes the client opens: what a decision taken after opening it records." },
                "added_by": reference("Actor"),
                "added_at": time(),
            }),
        ),
    );
    put(
        "DocumentCheck",
        object(
            &["data_base64"],
            json!({ "data_base64": { "type": "string", "contentEncoding": "base64", "description": "The document's bytes (at most 25 MiB)." } }),
        ),
    );
    put(
        "DocumentVerification",
        object(
            &["sha256", "signed", "signatures"],
            json!({
                "sha256": { "type": "string", "pattern": "^[0-9a-f]{64}$" },
                "signed": s("boolean"),
                "signatures": { "type": "array", "items": reference("Signature"), "description": "The tenant's signatures of exactly these bytes, oldest first." },
            }),
        ),
    );
    put(
        "Staff",
        object(
            &["tenant_id", "staff_id", "name", "email", "role"],
            json!({
                "tenant_id": id(), "staff_id": s("string"), "name": s("string"),
                "email": nullable("string"), "role": { "enum": ["admin", "member"] },
            }),
        ),
    );
    put(
        "Branding",
        object(
            &["company_name", "accent_color", "welcome_message", "logo"],
            json!({
                "company_name": s("string"),
                "accent_color": { "type": "string", "pattern": "^#[0-9a-f]{6}$" },
                "welcome_message": s("string"),
                "logo": { "oneOf": [ { "type": "null" }, reference("LogoRef") ] },
            }),
        ),
    );
    put(
        "LogoRef",
        object(
            &["image_type", "sha256"],
            json!({
                "image_type": { "enum": ["png", "jpeg", "gif", "webp", "svg"] },
                "sha256": { "type": "string", "pattern": "^[0-9a-f]{64}$" },
            }),
        ),
    );
    put(
        "BrandingInput",
        object(
            &["company_name", "accent_color"],
            json!({
                "company_name": text(120),
                "accent_color": { "type": "string", "pattern": "^#[0-9a-fA-F]{6}$" },
                "welcome_message": { "type": "string", "maxLength": 4000 },
                "logo": { "oneOf": [ { "type": "null" }, reference("LogoRef") ] },
            }),
        ),
    );
    put(
        "Sender",
        object(
            &["name", "address", "reply_to"],
            json!({
                "name": s("string"),
                "address": s("string"),
                "reply_to": { "type": ["string", "null"] },
            }),
        ),
    );
    put(
        "Tenant",
        object(
            &[
                "id",
                "name",
                "branding",
                "notification_recipients",
                "base_url",
                "sender",
                "created_at",
                "version",
            ],
            json!({
                "id": id(), "name": s("string"), "branding": reference("Branding"),
                "notification_recipients": { "type": "array", "items": s("string") },
                "base_url": { "type": ["string", "null"], "description": "The MSP's own public address (no trailing slash); null: the host's." },
                "sender": { "oneOf": [ { "type": "null" }, reference("Sender") ] },
                "created_at": time(),
                "version": { "type": "integer", "minimum": 1, "description": "Raised by every change of the settings (name, recipients, branding, base URL, sender); the ETag is \"v<version>\"." },
            }),
        ),
    );
    let portal_props = json!({
        "id": id(), "client_name": s("string"),
        "status": { "enum": ["draft", "active", "completed", "archived"] },
        "branding": reference("Branding"),
        "target_date": { "type": ["string", "null"], "format": "date" },
        "created_at": time(),
        "version": { "type": "integer", "minimum": 1, "description": "Raised by every change of the portal's own fields (name, status, target date, branding; not its plan); the ETag of the portal is \"v<version>\"." },
        "colleague_invitations": { "type": "string", "enum": ["off", "at_once", "after_approval"], "description": "Whether contacts may invite colleagues, and whether staff approve each first." },
    });
    let progress = object(
        &["completed", "total"],
        json!({ "completed": { "type": "integer", "minimum": 0 }, "total": { "type": "integer", "minimum": 0 } }),
    );
    put(
        "Portal",
        object(
            &[
                "id",
                "client_name",
                "status",
                "branding",
                "target_date",
                "created_at",
                "version",
            ],
            portal_props.clone(),
        ),
    );
    let mut summary_props = portal_props.clone();
    summary_props["progress"] = progress.clone();
    put(
        "PortalSummary",
        object(
            &[
                "id",
                "client_name",
                "status",
                "branding",
                "target_date",
                "created_at",
                "version",
                "progress",
            ],
            summary_props,
        ),
    );
    let mut detail_props = portal_props;
    detail_props["progress"] = progress;
    detail_props["phases"] = array_of("Phase");
    put(
        "PortalDetail",
        object(
            &[
                "id",
                "client_name",
                "status",
                "branding",
                "target_date",
                "created_at",
                "version",
                "progress",
                "phases",
            ],
            detail_props,
        ),
    );
    put(
        "PortalInput",
        object(
            &["client_name"],
            json!({
                "client_name": text(200),
                "status": { "enum": ["draft", "active", "completed", "archived"] },
            }),
        ),
    );
    put(
        "PortalPatch",
        object(
            &[],
            json!({
                "client_name": text(200),
                "target_date": { "type": ["string", "null"], "format": "date" },
                "status": { "enum": ["draft", "active", "completed", "archived"], "description": "Needs the admin role." },
            }),
        ),
    );
    put(
        "SenderInput",
        object(
            &["name", "address"],
            json!({
                "name": { "type": "string", "maxLength": 120, "description": "The From display name; no quotes or angle brackets." },
                "address": { "type": "string", "format": "email", "description": "The From address." },
                "reply_to": { "type": ["string", "null"], "format": "email", "description": "Where replies go, when not to the From address." },
            }),
        ),
    );
    put(
        "TenantPatch",
        object(
            &[],
            json!({
                "name": text(200),
                "notification_recipients": { "type": "array", "maxItems": 20, "items": { "type": "string", "format": "email" } },
                "base_url": { "type": ["string", "null"], "format": "uri", "maxLength": 2000, "description": "The MSP's own public address for its portals (custom domain), with an optional path prefix: absolute, https (http only for localhost and loopback), no query or fragment. Its host must be unique across MSPs (409 otherwise). null goes back to the host's address." },
                "sender": { "oneOf": [ { "type": "null" }, reference("SenderInput") ], "description": "Who the MSP's emails come from; null goes back to the host's sender." },
            }),
        ),
    );
    put(
        "Phase",
        object(
            &["id", "name", "position", "version", "tasks"],
            json!({ "id": id(), "name": s("string"), "position": { "type": "integer", "minimum": 0 }, "version": { "type": "integer", "minimum": 1, "description": "Raised by every change of the phase; its ETag is \"v<version>\"." }, "tasks": array_of("Task") }),
        ),
    );
    put(
        "PhaseInput",
        object(
            &["name"],
            json!({ "name": text(200), "position": { "type": "integer", "minimum": 0, "description": "0-based; default: the end." } }),
        ),
    );
    put(
        "Task",
        object(
            &[
                "id",
                "phase_id",
                "position",
                "title",
                "description",
                "assignee",
                "type",
                "kind",
                "status",
                "blocked_reason",
                "due_date",
                "assigned_to",
                "waits_on",
                "internal",
                "version",
                "created_at",
                "updated_at",
            ],
            json!({
                "id": id(), "phase_id": id(), "position": { "type": "integer", "minimum": 0 },
                "title": s("string"), "description": s("string"),
                "assignee": { "enum": ["client", "msp"] },
                "type": { "enum": task_types },
                "kind": { "type": "object", "required": ["type"], "description": "The task type's settings; `type` names it." },
                "client_answers": {
                    "type": "object",
                    "description": "What the client answered: a survey's answers by question id (with who saved them last), an approval's decision and the decisions before a reopen.",
                    "properties": {
                        "survey": { "type": "object" },
                        "survey_saved": { "type": ["object", "null"] },
                        "decision": { "type": ["object", "null"] },
                        "previous_decisions": { "type": "array", "items": { "type": "object" } },
                        "stuck": { "type": "array", "items": reference("StuckReport"), "description": "\"I'm stuck\" reports, oldest first; the last one is open while its `cleared` is null." },
                        "due_date_requests": array_of("DueDateRequest"),
                    },
                },
                "status": { "enum": ["pending", "in_progress", "completed", "blocked"] },
                "blocked_reason": nullable("string"),
                "due_date": { "type": ["string", "null"], "format": "date" },
                "assigned_to": { "type": "array", "items": id(), "description": "The contacts a client task is for; empty: everyone." },
                "waits_on": { "type": "array", "items": id(), "description": "Tasks it waits for (locked for the client until they are done)." },
                "internal": { "type": "boolean", "description": "An MSP task the client never sees." },
                "for_role": { "type": ["string", "null"], "maxLength": 40, "description": "A contact role (\"billing\"; client tasks only, lower-cased): with no contact named in assigned_to, the task is for the portal's active contacts with that role, or the whole team when none has it." },
                "version": { "type": "integer", "minimum": 1, "description": "Raised by every change of the task; its ETag is \"v<version>\"." },
                "created_at": time(), "updated_at": time(),
            }),
        ),
    );
    put(
        "TaskPatch",
        object(
            &[],
            json!({
                "title": text(200),
                "description": { "type": "string", "maxLength": 10000 },
                "assignee": { "enum": ["client", "msp"] },
                "kind": {
                    "type": "object", "required": ["type"],
                    "properties": { "type": { "enum": task_types } },
                    "description": "New settings of the task's type (the type itself changes only while nothing was done on the task).",
                },
                "due_date": { "type": ["string", "null"], "format": "date", "description": "null clears it." },
                "assigned_to": { "type": "array", "maxItems": 50, "items": id(), "description": "Contacts of the portal (client tasks only); newly named ones are emailed. Empty: everyone." },
                "waits_on": { "type": "array", "maxItems": 50, "items": id(), "description": "Other tasks of the portal; a cycle is refused." },
                "internal": { "type": "boolean", "description": "MSP tasks only." },
                "for_role": { "type": ["string", "null"], "maxLength": 40, "description": "A contact role (\"billing\"; client tasks only, lower-cased): with no contact named in assigned_to, the task is for the portal's active contacts with that role, or the whole team when none has it. null or empty clears it." },
            }),
        ),
    );
    put(
        "TaskMove",
        object(
            &["phase", "position"],
            json!({
                "phase": id(),
                "position": { "type": "integer", "minimum": 0, "description": "0-based; past the end is the end." },
            }),
        ),
    );
    put(
        "PhasePatch",
        object(&["name"], json!({ "name": text(200) })),
    );
    put(
        "PhaseMove",
        object(
            &["position"],
            json!({ "position": { "type": "integer", "minimum": 0, "description": "0-based; past the end is the end." } }),
        ),
    );
    put(
        "Plan",
        object(
            &["portal_id", "progress", "phases", "contacts"],
            json!({
                "portal_id": id(),
                "progress": object(
                    &["completed", "total"],
                    json!({ "completed": { "type": "integer", "minimum": 0 }, "total": { "type": "integer", "minimum": 0 } }),
                ),
                "phases": array_of("Phase"),
                "contacts": {
                    "type": "array",
                    "items": object(&["id", "name", "email", "revoked"], json!({ "id": id(), "name": s("string"), "email": s("string"), "revoked": s("boolean") })),
                },
            }),
        ),
    );
    let template_task = object(
        &["title", "assignee", "kind"],
        json!({
            "title": text(200),
            "description": { "type": "string", "maxLength": 10000 },
            "assignee": { "enum": ["client", "msp"] },
            "kind": { "type": "object", "required": ["type"], "properties": { "type": { "enum": task_types } } },
            "due_offset_days": { "type": ["integer", "null"], "minimum": -3660, "maximum": 3660, "description": "Due this many days after the portal's start date." },
            "waits_on": {
                "type": "array",
                "maxItems": 50,
                "items": object(&["phase", "task"], json!({ "phase": { "type": "integer", "minimum": 0 }, "task": { "type": "integer", "minimum": 0 } })),
                "description": "Tasks of this template it waits for, by phase index and task index.",
            },
            "internal": s("boolean"),
            "for_role": { "type": ["string", "null"], "maxLength": 40, "description": "A contact role (\"billing\"; client tasks only, lower-cased): with no contact named in assigned_to, the task is for the portal's active contacts with that role, or the whole team when none has it." },
        }),
    );
    let template_phases = json!({
        "type": "array",
        "maxItems": 50,
        "items": object(&["name", "tasks"], json!({ "name": text(200), "tasks": { "type": "array", "maxItems": 500, "items": template_task, "description": "At most 500 tasks in the whole template." } })),
    });
    put(
        "Template",
        object(
            &[
                "id",
                "name",
                "version",
                "phases",
                "created_at",
                "updated_at",
            ],
            json!({
                "id": id(), "name": s("string"),
                "version": { "type": "integer", "minimum": 1, "description": "Raised by every change; the ETag is \"v<version>\"." },
                "phases": template_phases.clone(),
                "created_at": time(), "updated_at": time(),
            }),
        ),
    );
    put(
        "TemplateInput",
        object(
            &["name", "phases"],
            json!({ "name": text(200), "phases": template_phases.clone() }),
        ),
    );
    put(
        "TemplatePatch",
        object(&[], json!({ "name": text(200), "phases": template_phases })),
    );
    put(
        "TemplateCopy",
        object(&["name"], json!({ "name": text(200) })),
    );
    put(
        "PortalFromTemplateInput",
        object(
            &["start_date"],
            json!({
                "client_name": { "type": "string", "minLength": 1, "maxLength": 200, "description": "The client company (required; `name` is accepted too)." },
                "name": { "type": "string", "minLength": 1, "maxLength": 200, "description": "Same as client_name." },
                "start_date": { "type": "string", "format": "date", "description": "Due dates are counted from it." },
                "status": { "type": "string", "enum": ["draft", "active"], "description": "draft (the default) or active: open to its contacts at once, without a second call." },
            }),
        ),
    );
    put(
        "TaskInput",
        object(
            &["title"],
            json!({
                "title": text(200),
                "description": { "type": "string", "maxLength": 10000 },
                "assignee": { "enum": ["client", "msp"] },
                "kind": {
                    "type": "object", "required": ["type"],
                    "properties": { "type": { "enum": task_types } },
                    "description": "A task type and its settings, e.g. {\"type\": \"standard\"}. Default: standard.",
                },
                "due_date": { "type": "string", "format": "date" },
                "assigned_to": { "type": "array", "maxItems": 50, "items": id(), "description": "Contacts of the portal (client tasks only); each is emailed. Default: everyone." },
                "waits_on": { "type": "array", "maxItems": 50, "items": id(), "description": "Other tasks of the portal it waits for." },
                "internal": { "type": "boolean", "description": "An MSP task the client never sees." },
                "for_role": { "type": ["string", "null"], "maxLength": 40, "description": "A contact role (\"billing\"; client tasks only, lower-cased): with no contact named in assigned_to, the task is for the portal's active contacts with that role, or the whole team when none has it." },
                "position": { "type": "integer", "minimum": 0, "description": "0-based position in the phase; default: the end." },
            }),
        ),
    );
    put(
        "StuckReport",
        object(
            &["by", "at", "reason", "cleared"],
            json!({
                "by": s("string"), "at": time(), "reason": s("string"),
                "cleared": {
                    "type": ["object", "null"],
                    "properties": { "by": s("string"), "at": time(), "answer": nullable("string") },
                },
            }),
        ),
    );
    put(
        "DueDateRequest",
        object(
            &[
                "number",
                "by",
                "at",
                "from",
                "to",
                "reason",
                "status",
                "decided_by",
                "decided_at",
                "note",
            ],
            json!({
                "number": { "type": "integer", "minimum": 1, "description": "Its number on the task, 1, 2, … in the order asked; names it in the decision's path." },
                "by": s("string"), "at": time(),
                "from": { "type": ["string", "null"], "format": "date", "description": "The due date when asked." },
                "to": { "type": "string", "format": "date", "description": "The date asked for." },
                "reason": s("string"),
                "status": { "enum": ["pending", "approved", "declined"] },
                "decided_by": nullable("string"),
                "decided_at": { "type": ["string", "null"], "format": "date-time" },
                "note": nullable("string"),
            }),
        ),
    );
    put(
        "PendingDueDateRequest",
        object(
            &[
                "portal_id",
                "client_name",
                "task_id",
                "task_title",
                "task_version",
                "request",
            ],
            json!({
                "portal_id": id(), "client_name": s("string"), "task_id": id(),
                "task_title": s("string"),
                "task_version": { "type": "integer", "minimum": 1, "description": "For `If-Match` on the decision." },
                "request": reference("DueDateRequest"),
            }),
        ),
    );
    put(
        "ClearStuckInput",
        object(
            &[],
            json!({ "answer": { "type": "string", "maxLength": 5000, "description": "Posted in the task's thread and emailed to the contact." } }),
        ),
    );
    put(
        "DueDateDecisionInput",
        object(
            &["approve"],
            json!({
                "approve": s("boolean"),
                "note": { "type": "string", "maxLength": 1000, "description": "Required to decline: the contact reads it." },
            }),
        ),
    );
    put(
        "BlockInput",
        object(&["reason"], json!({ "reason": text(2000) })),
    );
    put(
        "CompleteInput",
        object(
            &[],
            json!({ "notes": { "type": "string", "maxLength": 4000 } }),
        ),
    );
    put(
        "MeetingInput",
        object(
            &["starts_at", "time_zone", "duration_minutes"],
            json!({
                "starts_at": time(),
                "time_zone": { "type": "string", "examples": ["America/New_York"] },
                "duration_minutes": { "type": "integer", "minimum": 1, "maximum": 1440 },
                "meeting_url": { "type": "string", "format": "uri" },
                "agenda": { "type": "string", "maxLength": 4000 },
            }),
        ),
    );
    put(
        "Contact",
        object(
            &[
                "id",
                "name",
                "email",
                "revoked_at",
                "last_access",
                "created_at",
            ],
            json!({
                "id": id(), "name": s("string"), "email": s("string"),
                "revoked_at": { "type": ["string", "null"], "format": "date-time" },
                "last_access": { "type": ["string", "null"], "format": "date-time" },
                "created_at": time(),
                "invited_by": { "type": ["string", "null"], "format": "uuid", "description": "The contact who invited this one from the portal, if a colleague did." },
                "awaiting_approval": { "type": "boolean", "description": "Invited by a colleague and waiting for staff to approve (no link yet)." },
                "role": { "type": ["string", "null"], "maxLength": 40, "description": "The role the MSP gave the contact (\"primary\", \"technical\", \"billing\"), lower-cased; tasks for that role are the contact's." },
                "language": { "type": ["string", "null"], "enum": ["en", "es", null], "description": "The language the MSP set for the contact's pages and emails; null: pages follow the browser's Accept-Language, emails are in English." },
                "guest": {
                    "description": "Set for a guest from outside the client company: their organisation, the end of their access and the tasks shared with them (the only ones they see). Null for the client's own contacts.",
                    "oneOf": [
                        { "type": "null" },
                        object(
                            &["organisation", "access_ends_at", "shared_task_ids"],
                            json!({
                                "organisation": s("string"),
                                "access_ends_at": { "type": ["string", "null"], "format": "date-time" },
                                "shared_task_ids": { "type": "array", "items": id() },
                            }),
                        ),
                    ],
                },
            }),
        ),
    );
    put(
        "GuestInput",
        object(
            &["name", "email", "organisation", "task_ids"],
            json!({
                "name": text(200),
                "email": { "type": "string", "format": "email", "maxLength": 254 },
                "organisation": text(120),
                "access_ends_at": { "type": "string", "format": "date-time", "description": "The last instant the guest may come in (in the future); omit for no end." },
                "task_ids": { "type": "array", "items": id(), "minItems": 1, "maxItems": 50, "description": "The client tasks of the portal to share with the guest." },
            }),
        ),
    );
    put(
        "HandoverInput",
        object(
            &["organisation", "name", "email"],
            json!({
                "organisation": { "type": "string", "minLength": 1, "maxLength": 120, "description": "The outgoing provider's organisation (\"Previous IT Ltd\")." },
                "name": text(200),
                "email": { "type": "string", "format": "email", "maxLength": 254, "description": "The outgoing provider's contact: their invitation and codes go here." },
                "access_ends_at": { "type": "string", "format": "date-time", "description": "The last instant the guest may come in (in the future); omit for no end." },
                "due_date": { "type": "string", "format": "date", "description": "When the handover tasks are due (today or later); omit for none: the MSP is then alerted when a task stays untouched for 5 days." },
            }),
        ),
    );
    put(
        "Handover",
        object(
            &["phase", "guest"],
            json!({
                "phase": reference("Phase"),
                "guest": reference("Contact"),
            }),
        ),
    );
    put(
        "ColleagueInvitationsInput",
        object(
            &["mode"],
            json!({ "mode": { "type": "string", "enum": ["off", "at_once", "after_approval"] } }),
        ),
    );
    put(
        "ContactInput",
        object(
            &["name", "email"],
            json!({
                "name": text(200), "email": { "type": "string", "format": "email", "maxLength": 254 },
                "time_zone": { "type": "string", "examples": ["Europe/London"], "description": "The contact's IANA time zone, for the times they see (on adding; default: the tenant's)." },
                "role": { "type": ["string", "null"], "maxLength": 40, "examples": ["billing"], "description": "The contact's role (lower-cased), which role-targeted tasks follow. On an edit: absent keeps it, null or empty clears it." },
                "language": { "type": ["string", "null"], "enum": ["en", "es", null], "description": "The language of the contact's pages and emails (\"en\", \"es\"). On an edit: absent keeps it, null clears it (pages then follow the browser's Accept-Language)." },
            }),
        ),
    );
    put(
        "Erasure",
        object(
            &["portal_id", "client_name", "at", "by"],
            json!({ "portal_id": id(), "client_name": s("string"), "at": time(), "by": reference("Actor") }),
        ),
    );
    let days = json!({ "type": "integer", "minimum": 0, "maximum": 4294967295u64 });
    put(
        "ReminderSettings",
        object(
            &[],
            json!({
                "enabled": s("boolean"), "days_before": days, "on_due_date": s("boolean"),
                "days_after": days, "repeat_every_days": days,
                "local_hour": { "type": "integer", "minimum": 0, "maximum": 4294967295u64, "description": "0-23, in each contact's time zone." },
                "escalate_after_days": days, "reescalate_after_days": days,
            }),
        ),
    );
    put(
        "LogoUpload",
        object(
            &["data_base64"],
            json!({ "data_base64": { "type": "string", "contentEncoding": "base64", "description": "The image's bytes (PNG, JPEG, GIF or WebP, at most 512 KiB)." } }),
        ),
    );
    put(
        "TeamPhotoUpload",
        object(
            &["data_base64"],
            json!({ "data_base64": { "type": "string", "contentEncoding": "base64", "description": "The photo's bytes (PNG, JPEG or WebP, at most 256 KiB)." } }),
        ),
    );
    put(
        "TeamMember",
        object(
            &["name", "role", "email", "photo"],
            json!({
                "name": s("string"), "role": s("string"), "email": s("string"),
                "photo": { "oneOf": [ { "type": "null" }, reference("LogoRef") ] },
            }),
        ),
    );
    put(
        "Team",
        object(
            &["members"],
            json!({ "members": { "type": "array", "items": reference("TeamMember"), "maxItems": 12 } }),
        ),
    );
    put(
        "TeamInput",
        object(
            &["members"],
            json!({ "members": { "type": "array", "maxItems": 12, "items": object(
                &["name", "role", "email"],
                json!({
                    "name": text(120), "role": text(120), "email": s("string"),
                    "photo": { "oneOf": [ { "type": "null" }, reference("LogoRef") ] },
                }),
            ) } }),
        ),
    );
    put(
        "ChecklistInput",
        object(&["checked"], json!({ "checked": s("boolean") })),
    );
    put(
        "Invite",
        object(
            &["contact", "invite_url"],
            json!({ "contact": reference("Contact"), "invite_url": { "type": "string", "format": "uri", "description": "Shown once: the link is stored only as a hash." } }),
        ),
    );
    put(
        "Actor",
        object(
            &["side", "name"],
            json!({ "side": { "enum": ["client", "msp"] }, "name": s("string"), "contact_id": id() }),
        ),
    );
    put(
        "Comment",
        object(
            &["task_id", "author", "body", "at"],
            json!({ "task_id": id(), "author": reference("Actor"), "body": s("string"), "at": time() }),
        ),
    );
    put(
        "CommentInput",
        object(&["body"], json!({ "body": text(4000) })),
    );
    put(
        "Question",
        object(
            &["id", "asked_by", "text", "asked_at", "to", "answer"],
            json!({
                "id": id(), "asked_by": reference("Actor"), "text": s("string"), "asked_at": time(),
                "to": { "oneOf": [ { "type": "null" }, object(&["name", "role", "email"], json!({ "name": s("string"), "role": s("string"), "email": s("string") })) ], "description": "The onboarding-team member the client addressed; null: the whole team." },
                "answer": { "oneOf": [ { "type": "null" }, object(&["by", "text", "at"], json!({ "by": reference("Actor"), "text": s("string"), "at": time() })) ] },
            }),
        ),
    );
    put(
        "AnswerInput",
        object(&["text"], json!({ "text": text(4000) })),
    );
    put(
        "ActivityEntry",
        object(
            &[
                "at", "actor", "kind", "task_id", "subject", "detail", "summary",
            ],
            json!({
                "at": time(), "actor": reference("Actor"), "kind": s("string"),
                "task_id": { "type": ["string", "null"], "format": "uuid" },
                "subject": s("string"), "detail": nullable("string"), "summary": s("string"),
            }),
        ),
    );
    put(
        "AccessLogEntry",
        object(
            &["at", "contact_id", "event", "ip", "user_agent", "path"],
            json!({
                "at": time(), "contact_id": id(),
                "event": { "enum": ["invite_opened", "code_sent", "verified", "portal_request", "signed_out"] },
                "ip": nullable("string"), "user_agent": nullable("string"), "path": nullable("string"),
            }),
        ),
    );
    put(
        "File",
        object(
            &[
                "id",
                "task_id",
                "document_id",
                "version",
                "name",
                "file_type",
                "size",
                "sha256",
                "uploaded_by",
                "uploaded_at",
                "scan",
                "review",
            ],
            json!({
                "id": id(), "task_id": id(), "document_id": s("string"),
                "version": { "type": "integer", "minimum": 1 }, "name": s("string"),
                "file_type": s("string"), "size": { "type": "integer", "minimum": 0 },
                "sha256": { "type": "string", "pattern": "^[0-9a-f]{64}$" },
                "uploaded_by": reference("Actor"), "uploaded_at": time(),
                "scan": s("string"), "review": s("string"),
            }),
        ),
    );
    put(
        "ReviewInput",
        object(
            &["verdict"],
            json!({ "verdict": { "enum": ["approve", "reject"] }, "notes": { "type": "string", "maxLength": 4000, "description": "Required to reject." } }),
        ),
    );
    put(
        "Document",
        object(
            &[
                "task_id",
                "task_title",
                "document_id",
                "name",
                "status",
                "notes",
                "current",
                "versions",
            ],
            json!({
                "task_id": id(), "task_title": s("string"), "document_id": s("string"),
                "name": s("string"), "status": s("string"), "notes": nullable("string"),
                "current": { "oneOf": [ { "type": "null" }, reference("File") ] },
                "versions": array_of("File"),
            }),
        ),
    );
    put(
        "QueueItem",
        object(
            &[
                "portal_id",
                "client_name",
                "task_title",
                "document_name",
                "reviewable",
                "file",
            ],
            json!({
                "portal_id": id(), "client_name": s("string"), "task_title": s("string"),
                "document_name": s("string"), "reviewable": s("boolean"), "file": reference("File"),
            }),
        ),
    );
    put(
        "FailedMail",
        object(
            &[
                "id",
                "portal_id",
                "kind",
                "to",
                "subject",
                "attempts",
                "created_at",
                "failed_at",
                "last_error",
            ],
            json!({
                "id": id(), "portal_id": { "type": ["string", "null"], "format": "uuid" },
                "kind": s("string"), "to": s("string"), "subject": s("string"),
                "attempts": { "type": "integer", "minimum": 0 }, "created_at": time(),
                "failed_at": { "type": ["string", "null"], "format": "date-time" },
                "last_error": nullable("string"),
            }),
        ),
    );
    for (page_name, item) in [
        ("PortalPage", "PortalSummary"),
        ("ContactPage", "Contact"),
        ("CommentPage", "Comment"),
        ("QuestionPage", "Question"),
        ("ActivityPage", "ActivityEntry"),
        ("AccessLogPage", "AccessLogEntry"),
        ("DocumentPage", "Document"),
        ("QueuePage", "QueueItem"),
        ("DueDateRequestPage", "PendingDueDateRequest"),
        ("FailedMailPage", "FailedMail"),
        ("TemplatePage", "Template"),
        ("ErasurePage", "Erasure"),
        ("DroppedFilePage", "DroppedFile"),
        ("AttachmentPage", "Attachment"),
    ] {
        put(page_name, page(item));
    }
    put("WebhookEndpointPage", page("WebhookEndpoint"));
    put("WebhookDeliveryPage", page("WebhookDelivery"));
    for (name, schema) in super::webhooks::schemas() {
        put(&name, schema);
    }
    m
}

fn problem_response(description: &str) -> Value {
    json!({
        "description": description,
        "content": { "application/problem+json": { "schema": reference("Problem") } },
    })
}

/// The whole document, for an API mounted at `prefix`.
pub(crate) fn document(prefix: &str) -> Value {
    let mut paths = Map::new();
    for route in routes() {
        let mut op = Map::new();
        op.insert("operationId".into(), json!(route.id));
        op.insert("summary".into(), json!(route.summary));
        op.insert("x-use-cases".into(), json!(route.uses));
        if route.role.is_none() {
            op.insert("security".into(), json!([]));
        } else if route.role == Some(portal_core::StaffRole::Admin) {
            op.insert("description".into(), json!("Needs the admin role."));
        }
        let mut params = Vec::new();
        for seg in route.path.split('/') {
            if let Some(name) = seg.strip_prefix('{').and_then(|x| x.strip_suffix('}')) {
                // Checklist items have the ids their task gives them; the rest are UUIDs.
                let schema = if name == "item" {
                    json!({ "type": "string", "minLength": 1 })
                } else {
                    id()
                };
                params.push(
                    json!({ "name": name, "in": "path", "required": true, "schema": schema }),
                );
            }
        }
        if route.paged {
            params.push(json!({ "name": "limit", "in": "query", "required": false, "schema": { "type": "integer", "minimum": 1, "maximum": 100, "default": 50 } }));
            params.push(json!({ "name": "cursor", "in": "query", "required": false, "schema": { "type": "string" }, "description": "The `next_cursor` of the previous page (opaque)." }));
        }
        if route.upload {
            params.push(json!({ "name": "name", "in": "query", "required": false, "schema": { "type": "string", "minLength": 1, "maxLength": 255 }, "description": "The file name, when the body is the raw file (a multipart body names it in its part)." }));
        }
        if route.op == super::routes::Op::DeletePhase {
            params.push(json!({ "name": "with_tasks", "in": "query", "required": false, "schema": { "type": "boolean", "default": false }, "description": "Delete the phase's tasks too (refused while one has uploaded files); without it a phase with tasks is refused." }));
        }
        if route.if_match {
            params.push(json!({ "name": "If-Match", "in": "header", "required": true, "schema": { "type": "string" }, "description": "The ETag you read; a stale one is 412." }));
        }
        if route.idempotent {
            params.push(json!({ "name": "Idempotency-Key", "in": "header", "required": false, "schema": { "type": "string", "minLength": 1, "maxLength": 255, "pattern": "^[!-~]+$" }, "description": "Retrying with the same key and body replays the first answer for 24 hours." }));
        }
        if !params.is_empty() {
            op.insert("parameters".into(), Value::Array(params));
        }
        if let Some(body) = route.body {
            op.insert(
                "requestBody".into(),
                json!({ "required": true, "content": { "application/json": { "schema": reference(body) } } }),
            );
        }
        if route.upload {
            op.insert(
                "requestBody".into(),
                json!({ "required": true, "content": {
                    "application/pdf": { "schema": { "type": "string", "contentMediaType": "application/pdf" } },
                    "application/octet-stream": { "schema": { "type": "string" } },
                    "multipart/form-data": { "schema": object(&["file"], json!({ "file": { "type": "string", "contentMediaType": "application/octet-stream" } })) },
                } }),
            );
        }
        let mut responses = Map::new();
        let (status, schema) = route.ok;
        let content = match schema {
            Some("FileContent") => {
                json!({ "*/*": { "schema": reference("FileContent") } })
            }
            Some("AuditExport") => {
                json!({ "application/x-ndjson": { "schema": reference("AuditExport") } })
            }
            Some(name) => json!({ "application/json": { "schema": reference(name) } }),
            None => Value::Null,
        };
        let mut ok = json!({ "description": "Success" });
        if !content.is_null() {
            ok["content"] = content;
        }
        if route.etag {
            ok["headers"] = json!({ "ETag": { "schema": { "type": "string" }, "description": "Send it back as If-Match to update." } });
        }
        responses.insert(status.to_string(), ok);
        if route.role.is_some() {
            responses.insert(
                "401".into(),
                problem_response("Missing or invalid credentials"),
            );
            responses.insert("403".into(), problem_response("The role may not do this"));
        }
        if route.path.contains('{') {
            responses.insert(
                "404".into(),
                problem_response("Not found (or another MSP's)"),
            );
        }
        if route.paged || route.body.is_some() || route.idempotent {
            responses.insert(
                "422".into(),
                problem_response("Invalid input; `errors` names the fields"),
            );
        }
        if route.body.is_some() {
            responses.insert("400".into(), problem_response("The body is not JSON"));
            responses.insert("413".into(), problem_response("The body is too large"));
            responses.insert(
                "415".into(),
                problem_response("The body is not application/json"),
            );
        }
        if route.upload {
            responses.insert(
                "409".into(),
                problem_response("The task is signed: its document can no longer be replaced"),
            );
            responses.insert(
                "413".into(),
                problem_response("The file is larger than 25 MiB"),
            );
            responses.insert(
                "422".into(),
                problem_response(
                    "Empty, markup, or a kind of file the portal does not accept; or no name",
                ),
            );
        }
        if matches!(route.op, super::routes::Op::EditTenant) {
            responses.insert(
                "409".into(),
                problem_response("Another MSP's portal already uses the host of `base_url`"),
            );
        }
        if route.if_match {
            responses.insert("412".into(), problem_response("If-Match is stale"));
            responses.insert("428".into(), problem_response("If-Match is missing"));
        }
        responses.insert("default".into(), problem_response("Any other error"));
        op.insert("responses".into(), Value::Object(responses));
        let path_item = paths
            .entry(route.path.to_owned())
            .or_insert_with(|| Value::Object(Map::new()));
        if let Value::Object(item) = path_item {
            item.insert(
                route.method.as_str().to_ascii_lowercase(),
                Value::Object(op),
            );
        }
    }
    let _ = Method::GET;
    json!({
        "openapi": "3.1.0",
        "info": {
            "title": "MSP client portal: admin API",
            "version": "1",
            "description": "Every staff use case of the portal, for a PSA vendor's own UI. Errors are application/problem+json (RFC 9457); lists are paged with `limit` and an opaque `cursor`; updates need `If-Match`; creating requests honour `Idempotency-Key`.",
        },
        "servers": [ { "url": prefix.trim_end_matches('/') } ],
        "security": [ { "bearer": [] } ],
        "paths": paths,
        "components": {
            "securitySchemes": { "bearer": { "type": "http", "scheme": "bearer", "description": "An API key (the demo prints one at first start)." } },
            "schemas": schemas(),
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const DOCS: &str = include_str!("../../../docs/openapi.json");

    #[test]
    fn docs_openapi_json_is_the_served_document() {
        let served = document("/api/v1");
        let pretty = format!("{}\n", serde_json::to_string_pretty(&served).unwrap());
        if std::env::var_os("UPDATE_OPENAPI").is_some() {
            std::fs::write(
                concat!(env!("CARGO_MANIFEST_DIR"), "/../docs/openapi.json"),
                &pretty,
            )
            .unwrap();
            return;
        }
        let kept: Value = serde_json::from_str(DOCS).unwrap();
        assert!(
            kept == served,
            "docs/openapi.json differs from the served document: run \
             UPDATE_OPENAPI=1 cargo test -p portal-http openapi, and review the diff"
        );
    }

    #[test]
    fn every_route_is_in_the_document_and_every_ref_resolves() {
        let doc = document("/api/v1");
        for route in routes() {
            let method = route.method.as_str().to_ascii_lowercase();
            assert!(
                doc["paths"][route.path][&method].is_object(),
                "{} {} is missing",
                route.method,
                route.path
            );
        }
        let text = doc.to_string();
        for part in text.split("#/components/schemas/").skip(1) {
            let name: String = part
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric())
                .collect();
            assert!(doc["components"]["schemas"][&name].is_object(), "{name}");
        }
    }
}
