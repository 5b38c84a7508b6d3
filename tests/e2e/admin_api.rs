//! The admin JSON API over real HTTP: every route refuses missing and wrong credentials
//! (401), another tenant's ids (404), and a member doing an admin action (403); invalid
//! input names its field (422); a stale `If-Match` is 412; a replayed
//! `Idempotency-Key` answers the same and creates nothing twice; and every route
//! succeeds in a walk through an MSP's day. Every answer in this file is checked against
//! its schema in the served OpenAPI document (`jsonschema`).

use http::Method;
use portal_core::model::{PortalStatus, TaskStatus};
use portal_tests::multipart::{Part, content_type, multipart};
use portal_tests::{Browser, Harness, Options, Page, code_in, sign_in_over_http};
use serde_json::{Value, json};

const PREFIX: &str = "/api/v1";

/// The first bytes of a PNG image, base64 (enough for the logo's format sniffing).
const PNG_BASE64: &str = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJ";

/// A PDF the seeded "Network diagram" document accepts.
const PDF: &[u8] = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n";

struct Api {
    h: Harness,
    b: Browser,
    doc: Value,
}

/// An answer: the page and its JSON body (Null when not JSON).
struct Answer {
    page: Page,
    json: Value,
}

impl Answer {
    fn status(&self) -> u16 {
        self.page.status.as_u16()
    }
    fn field(&self) -> String {
        self.json["errors"][0]["field"]
            .as_str()
            .unwrap_or_default()
            .to_owned()
    }
}

/// A request to send.
struct Req<'a> {
    method: Method,
    template: &'a str,
    params: Vec<String>,
    token: Option<&'a str>,
    body: Option<Value>,
    headers: Vec<(&'a str, String)>,
    query: &'a str,
    /// A file body: its content type and bytes (instead of JSON).
    raw: Option<(String, Vec<u8>)>,
}

fn req<'a>(method: Method, template: &'a str, params: &[String]) -> Req<'a> {
    Req {
        method,
        template,
        params: params.to_vec(),
        token: Some("admin"),
        body: None,
        headers: Vec::new(),
        query: "",
        raw: None,
    }
}

impl<'a> Req<'a> {
    fn as_(mut self, token: Option<&'a str>) -> Self {
        self.token = token;
        self
    }
    fn json(mut self, body: Value) -> Self {
        self.body = Some(body);
        self
    }
    fn header(mut self, name: &'a str, value: impl Into<String>) -> Self {
        self.headers.push((name, value.into()));
        self
    }
    fn raw(mut self, content_type: &str, body: &[u8]) -> Self {
        self.raw = Some((content_type.to_owned(), body.to_vec()));
        self
    }
    fn query(mut self, q: &'a str) -> Self {
        self.query = q;
        self
    }
}

impl Api {
    async fn start() -> Self {
        let h = Harness::start(Options::memory()).await;
        let b = h.browser();
        let doc: Value = serde_json::from_str(&b.get("/api/v1/openapi.json").await.body).unwrap();
        Self { h, b, doc }
    }

    fn path(r: &Req<'_>) -> String {
        let mut out = String::from(PREFIX);
        let mut params = r.params.iter();
        for seg in r.template.split('/').skip(1) {
            out.push('/');
            if seg.starts_with('{') {
                out.push_str(params.next().expect("a value for every parameter"));
            } else {
                out.push_str(seg);
            }
        }
        if !r.query.is_empty() {
            out.push('?');
            out.push_str(r.query);
        }
        out
    }

    /// Sends, then checks the answer against the document's schema for it.
    async fn send(&self, r: Req<'_>) -> Answer {
        let auth = r.token.map(|t| format!("Bearer {t}"));
        let mut headers: Vec<(&str, &str)> =
            r.headers.iter().map(|(n, v)| (*n, v.as_str())).collect();
        if let Some(a) = &auth {
            headers.push(("authorization", a.as_str()));
        }
        let (ct, body) = match (&r.body, &r.raw) {
            (_, Some((ct, bytes))) => (Some(ct.as_str()), bytes.clone()),
            (Some(v), None) => (Some("application/json"), v.to_string().into_bytes()),
            (None, None) => (None, Vec::new()),
        };
        let page = self
            .b
            .send_with(r.method.clone(), &Self::path(&r), ct, &headers, body)
            .await;
        let json = serde_json::from_str(&page.body).unwrap_or(Value::Null);
        self.conforms(&r, &page, &json);
        Answer { page, json }
    }

    /// Validates an answer with the schema the document gives for its route and status.
    fn conforms(&self, r: &Req<'_>, page: &Page, json: &Value) {
        let method = r.method.as_str().to_ascii_lowercase();
        let op = &self.doc["paths"][r.template][&method];
        assert!(
            op.is_object(),
            "{} {} is not in the document",
            r.method,
            r.template
        );
        let status = page.status.as_u16().to_string();
        let response = if op["responses"][&status].is_object() {
            &op["responses"][&status]
        } else {
            &op["responses"]["default"]
        };
        let ct = page.header("content-type");
        let Some(media) = response["content"].as_object() else {
            assert!(
                page.raw.is_empty(),
                "{} {status}: a body the document does not describe",
                r.template
            );
            return;
        };
        let (_, entry) = media
            .iter()
            .find(|(m, _)| m.as_str() == "*/*" || ct.starts_with(m.as_str()))
            .unwrap_or_else(|| {
                panic!(
                    "{} {status}: content type {ct} is not documented",
                    r.template
                )
            });
        // JSON Lines is a stream of documents, not one: its lines are checked by the
        // audit trail's own tests (and tests/audit/verify_chain.py).
        if !ct.contains("json") || ct.starts_with("application/x-ndjson") {
            return;
        }
        let schema = json!({
            "$ref": entry["schema"]["$ref"],
            "components": self.doc["components"],
        });
        let validator = jsonschema::draft202012::new(&schema).unwrap();
        let errors: Vec<String> = validator.iter_errors(json).map(|e| e.to_string()).collect();
        assert!(
            errors.is_empty(),
            "{} {} answered {status} against its schema: {errors:?}\n{json:#}",
            r.method,
            r.template
        );
    }

    fn portal(&self) -> String {
        self.h.portal.id.to_string()
    }
    fn task(&self, key: &str) -> String {
        self.h.tasks[key].to_string()
    }
}

fn routes(doc: &Value) -> Vec<(Method, String, Value)> {
    let mut out = Vec::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            out.push((
                Method::from_bytes(method.to_ascii_uppercase().as_bytes()).unwrap(),
                path.clone(),
                op.clone(),
            ));
        }
    }
    out
}

fn random_id() -> String {
    portal_core::PortalId::random(&portal_core::OsRandom).to_string()
}

/// A body the route accepts in shape (fields may still be refused by the rules).
fn body_for(op: &Value) -> Option<Value> {
    let name = op["requestBody"]["content"]["application/json"]["schema"]["$ref"].as_str()?;
    Some(match name.rsplit('/').next().unwrap() {
        "BrandingInput" => json!({"company_name": "Acme MSP", "accent_color": "#112233"}),
        "PortalInput" => json!({"client_name": "Northwind"}),
        "PortalPatch" => json!({"status": "active"}),
        "TenantPatch" => json!({"name": "Acme Managed IT"}),
        "ContactInput" => json!({"name": "Lee", "email": "lee@example.com"}),
        "PhaseInput" => json!({"name": "Go-live"}),
        "TaskInput" => json!({"title": "Check backups"}),
        "BlockInput" => json!({"reason": "Waiting on the ISP"}),
        "CompleteInput" => json!({"notes": "Done on a call"}),
        "MeetingInput" => {
            json!({"starts_at": "2026-12-10T15:00:00Z", "time_zone": "America/New_York", "duration_minutes": 30})
        }
        "CommentInput" => json!({"body": "On it."}),
        "AnswerInput" => json!({"text": "Yes."}),
        "ReviewInput" => json!({"verdict": "approve"}),
        "TaskPatch" => json!({"title": "Check the backups"}),
        "TaskMove" => json!({"phase": random_id(), "position": 0}),
        "PhasePatch" => json!({"name": "Go-live"}),
        "PhaseMove" => json!({"position": 0}),
        "TemplateInput" => json!({"name": "Standard", "phases": []}),
        "TemplatePatch" => json!({"name": "Standard"}),
        "TemplateCopy" => json!({"name": "Standard copy"}),
        "PortalFromTemplateInput" => {
            json!({"client_name": "Northwind", "start_date": "2026-12-07"})
        }
        "ReminderSettings" => json!({"enabled": true}),
        "LogoUpload" => json!({"data_base64": PNG_BASE64}),
        "TeamPhotoUpload" => json!({"data_base64": PNG_BASE64}),
        "TeamInput" => {
            json!({"members": [{"name": "Sam Lee", "role": "Project lead", "email": "sam@msp.example"}]})
        }
        "ChecklistInput" => json!({"checked": true}),
        "RevealRequest" => json!({"reason": "Setting up the firewall migration"}),
        "DocumentCheck" => json!({"data_base64": "JVBERi0xLjcKJSVFT0YK"}),
        "ClearStuckInput" => json!({"answer": "Sent it by phone."}),
        "DueDateDecisionInput" => json!({"approve": true}),
        "ColleagueInvitationsInput" => json!({"mode": "at_once"}),
        "GuestInput" => json!({
            "name": "Gill Guest",
            "email": "gill@previous-it.example",
            "organisation": "Previous IT",
            "task_ids": [random_id()],
        }),
        "HandoverInput" => json!({
            "organisation": "Outgoing IT",
            "name": "Olly Outgoing",
            "email": "olly@outgoing-it.example",
        }),
        "WebhookEndpointInput" => json!({"url": "https://psa.example.com/hooks"}),
        "WebhookEndpointPatch" => json!({"description": "PSA sync"}),
        other => panic!("no sample body for {other}"),
    })
}

#[tokio::test]
async fn every_route_refuses_missing_and_wrong_credentials() {
    let api = Api::start().await;
    let all = routes(&api.doc);
    assert!(all.len() >= 30, "{} routes", all.len());
    for (method, template, op) in all {
        let params: Vec<String> = (0..template.matches('{').count())
            .map(|_| api.portal())
            .collect();
        if op["security"] == json!([]) {
            continue;
        }
        for token in [None, Some("nope"), Some("")] {
            let mut r = req(method.clone(), &template, &params).as_(token);
            if let Some(b) = body_for(&op) {
                r = r.json(b);
            }
            let a = api.send(r).await;
            assert_eq!(
                a.status(),
                401,
                "{method} {template} with {token:?}: {}",
                a.page.body
            );
            assert_eq!(
                a.page.header("www-authenticate"),
                "Bearer realm=\"portal-admin\""
            );
            assert_eq!(a.page.header("content-type"), "application/problem+json");
            assert_eq!(
                a.json["type"],
                "https://portal.example/problems/unauthorized"
            );
        }
    }
}

#[tokio::test]
async fn another_tenants_ids_are_not_found_and_nothing_changes() {
    let api = Api::start().await;
    let other = api.h.other_portal.id;
    let contact = api.h.store.contacts(other).await.unwrap()[0].id.to_string();
    let phase = api.h.store.portal_snapshot(other).await.unwrap().phases[0]
        .id
        .to_string();
    let task = api.h.other_tasks["standard"].to_string();
    let before = api.h.store.portal_snapshot(other).await.unwrap();
    let feed_before = api
        .h
        .service
        .staff_activity(&api.h.other_staff, other, None, 1000)
        .await
        .unwrap()
        .items
        .len();
    let mut checked = 0;
    for (method, template, op) in routes(&api.doc) {
        if !template.starts_with("/portals/{portal}") {
            continue;
        }
        let second = match template.split('/').nth(3) {
            Some("contacts") => contact.clone(),
            Some("phases") => phase.clone(),
            Some("tasks") => task.clone(),
            _ => random_id(),
        };
        let params = [other.to_string(), second, "a".to_owned()];
        let params = params[..template.matches('{').count()].to_vec();
        let mut r = req(method.clone(), &template, &params).header("if-match", "*");
        if let Some(b) = body_for(&op) {
            r = r.json(b);
        }
        let a = api.send(r).await;
        assert_eq!(a.status(), 404, "{method} {template}: {}", a.page.body);
        assert_eq!(a.json["type"], "https://portal.example/problems/not-found");
        checked += 1;
    }
    assert!(checked >= 20, "{checked}");
    assert_eq!(api.h.store.portal_snapshot(other).await.unwrap(), before);
    assert_eq!(
        api.h
            .service
            .staff_activity(&api.h.other_staff, other, None, 1000)
            .await
            .unwrap()
            .items
            .len(),
        feed_before
    );
    // The other tenant's own staff does see it.
    let mine = api
        .send(req(Method::GET, "/portals/{portal}", &[other.to_string()]).as_(Some("other-admin")))
        .await;
    assert_eq!(mine.status(), 200);
}

#[tokio::test]
async fn a_member_is_refused_admin_actions() {
    let api = Api::start().await;
    let contact = api.h.contact.id.to_string();
    let mut refused = 0;
    for (method, template, op) in routes(&api.doc) {
        if op["description"] != "Needs the admin role." {
            continue;
        }
        let params = [api.portal(), contact.clone()];
        let params = params[..template.matches('{').count()].to_vec();
        let mut r = req(method.clone(), &template, &params)
            .as_(Some("member"))
            .header("if-match", "*");
        if let Some(b) = body_for(&op) {
            r = r.json(b);
        }
        let a = api.send(r).await;
        assert_eq!(a.status(), 403, "{method} {template}: {}", a.page.body);
        assert_eq!(a.json["type"], "https://portal.example/problems/forbidden");
        refused += 1;
    }
    assert!(refused >= 5, "{refused}");
    let c = api.h.store.contact(api.h.contact.id).await.unwrap();
    assert!(
        c.revoked_at.is_none(),
        "the member's revocation changed nothing"
    );
    // A member does what members do.
    let ok = api
        .send(req(Method::GET, "/portals/{portal}", &[api.portal()]).as_(Some("member")))
        .await;
    assert_eq!(ok.status(), 200);
}

#[tokio::test]
async fn invalid_input_names_the_field() {
    let api = Api::start().await;
    let p = api.portal();
    let cases: Vec<(Req<'_>, &str)> = vec![
        (
            req(Method::POST, "/portals", &[]).json(json!({"client_name": "  "})),
            "client_name",
        ),
        (
            req(Method::POST, "/portals", &[]).json(json!({"client_name": 7})),
            "client_name",
        ),
        (
            req(Method::POST, "/portals", &[]).json(json!({"client_name": "X", "status": "open"})),
            "status",
        ),
        (req(Method::POST, "/portals", &[]).json(json!([1])), "body"),
        (
            req(
                Method::POST,
                "/portals/{portal}/contacts",
                std::slice::from_ref(&p),
            )
            .json(json!({"name": "Lee", "email": "not an address"})),
            "email",
        ),
        (
            req(
                Method::POST,
                "/portals/{portal}/contacts",
                std::slice::from_ref(&p),
            )
            .json(json!({"name": "Dana", "email": api.h.contact.email.as_str()})),
            "email",
        ),
        (req(Method::GET, "/portals", &[]).query("limit=0"), "limit"),
        (
            req(Method::GET, "/portals", &[]).query("cursor=bogus"),
            "cursor",
        ),
        (
            req(Method::POST, "/portals", &[])
                .json(json!({"client_name": "X"}))
                .header("idempotency-key", "has space"),
            "Idempotency-Key",
        ),
        (
            req(Method::PUT, "/tenant/branding", &[])
                .json(json!({"company_name": "Acme", "accent_color": "blue"}))
                .header("if-match", "*"),
            "accent_color",
        ),
        (
            req(
                Method::PUT,
                "/portals/{portal}/team",
                std::slice::from_ref(&p),
            )
            .json(json!({"members": [{"name": "Sam", "role": "Lead", "email": "nope"}]}))
            .header("if-match", "*"),
            "members",
        ),
        (
            req(
                Method::PUT,
                "/portals/{portal}/team",
                std::slice::from_ref(&p),
            )
            .json(json!({"members": [
                {"name": "Sam", "role": "Lead", "email": "sam@msp.example"},
                {"name": "Sam again", "role": "Lead", "email": "SAM@msp.example"},
            ]}))
            .header("if-match", "*"),
            "members",
        ),
        (
            req(
                Method::PUT,
                "/portals/{portal}/team",
                std::slice::from_ref(&p),
            )
            .json(
                json!({"members": [{"name": "Sam", "role": "Lead", "email": "sam@msp.example",
                    "photo": {"image_type": "png", "sha256": "0".repeat(64)}}]}),
            )
            .header("if-match", "*"),
            "photo",
        ),
        (
            req(
                Method::POST,
                "/portals/{portal}/team/photo",
                std::slice::from_ref(&p),
            )
            .json(json!({"data_base64": "R0lGODlhAQABAAAAACw="})),
            "data_base64",
        ),
    ];
    let handover = |body: Value| {
        req(
            Method::POST,
            "/portals/{portal}/handover",
            std::slice::from_ref(&p),
        )
        .json(body)
    };
    let good =
        json!({"organisation": "Previous IT", "name": "Olly", "email": "olly@previous-it.example"});
    let with = |field: &str, value: Value| {
        let mut b = good.clone();
        b[field] = value;
        b
    };
    let cases: Vec<(Req<'_>, &str)> = cases
        .into_iter()
        .chain([
            (handover(with("organisation", json!(" "))), "organisation"),
            (handover(with("name", json!(""))), "name"),
            (handover(with("email", json!("not an address"))), "email"),
            (
                handover(with("email", json!(api.h.contact.email.as_str()))),
                "email",
            ),
            (
                handover(with("access_ends_at", json!("2001-01-01T00:00:00Z"))),
                "access_ends_at",
            ),
            (
                handover(with("access_ends_at", json!("soon"))),
                "access_ends_at",
            ),
            (handover(with("due_date", json!("2001-01-01"))), "due_date"),
            (handover(with("due_date", json!("next week"))), "due_date"),
        ])
        .collect();
    for (r, field) in cases {
        let what = format!("{} {}", r.method, r.template);
        let a = api.send(r).await;
        assert_eq!(a.status(), 422, "{what}: {}", a.page.body);
        assert_eq!(a.json["type"], "https://portal.example/problems/validation");
        assert_eq!(a.field(), field, "{what}: {}", a.page.body);
    }
    let phases = api
        .h
        .store
        .portal_snapshot(api.h.portal.id)
        .await
        .unwrap()
        .phases;
    let a = api
        .send(
            req(
                Method::POST,
                "/portals/{portal}/phases/{phase}/tasks",
                &[p.clone(), phases[0].id.to_string()],
            )
            .json(json!({"description": "no title"})),
        )
        .await;
    assert_eq!((a.status(), a.field()), (422, "title".to_owned()));
    let a = api
        .send(
            req(
                Method::POST,
                "/portals/{portal}/phases/{phase}/tasks",
                &[p.clone(), phases[0].id.to_string()],
            )
            .json(json!({"title": "Meet", "kind": {"type": "teleport"}})),
        )
        .await;
    assert_eq!((a.status(), a.field()), (422, "kind".to_owned()));
    // Not JSON, not declared as JSON, too large.
    let auth = [("authorization", "Bearer admin")];
    let raw = api
        .b
        .send_with(
            Method::POST,
            "/api/v1/portals",
            Some("application/json"),
            &auth,
            b"{\"client_name\":".to_vec(),
        )
        .await;
    assert_eq!(raw.status, 400, "{}", raw.body);
    assert!(raw.body.contains("/problems/malformed-json"));
    let form = api
        .b
        .send_with(
            Method::POST,
            "/api/v1/portals",
            Some("application/x-www-form-urlencoded"),
            &auth,
            b"client_name=X".to_vec(),
        )
        .await;
    assert_eq!(form.status, 415);
    let big = format!("{{\"client_name\": \"{}\"}}", "x".repeat(100_000));
    let large = api
        .b
        .send_with(
            Method::POST,
            "/api/v1/portals",
            Some("application/json"),
            &auth,
            big.into_bytes(),
        )
        .await;
    assert_eq!(large.status, 413);
    assert_eq!(
        api.h
            .store
            .portals(api.h.portal.tenant_id)
            .await
            .unwrap()
            .len(),
        1,
        "nothing was created"
    );
    // Unknown routes and methods are problems too.
    let none = api
        .send(req(Method::GET, "/portals/{portal}", std::slice::from_ref(&p)).as_(Some("admin")))
        .await;
    assert_eq!(none.status(), 200);
    let missing = api
        .b
        .send_with(Method::GET, "/api/v1/nope", None, &auth, vec![])
        .await;
    assert_eq!(missing.status, 404);
    assert_eq!(missing.header("content-type"), "application/problem+json");
    let wrong = api
        .b
        .send_with(Method::DELETE, "/api/v1/portals", None, &auth, vec![])
        .await;
    assert_eq!(wrong.status, 405);
    assert_eq!(wrong.header("allow"), "GET, POST");
}

#[tokio::test]
async fn updates_need_a_current_if_match() {
    let api = Api::start().await;
    let params = [api.portal(), api.task("standard")];
    let read = api
        .send(req(Method::GET, "/portals/{portal}/tasks/{task}", &params))
        .await;
    let etag = read.page.header("etag");
    assert!(etag.starts_with('"'), "{etag:?}");
    let block = || {
        req(
            Method::POST,
            "/portals/{portal}/tasks/{task}/block",
            &params,
        )
        .json(json!({"reason": "Waiting on the ISP"}))
    };
    let missing = api.send(block()).await;
    assert_eq!(missing.status(), 428);
    assert_eq!(
        missing.json["type"],
        "https://portal.example/problems/precondition-required"
    );
    let blocked = api.send(block().header("if-match", etag.clone())).await;
    assert_eq!(blocked.status(), 200, "{}", blocked.page.body);
    assert_eq!(blocked.json["status"], "blocked");
    assert_ne!(blocked.page.header("etag"), etag, "the version moved");
    let stale = api
        .send(
            req(
                Method::POST,
                "/portals/{portal}/tasks/{task}/unblock",
                &params,
            )
            .header("if-match", etag),
        )
        .await;
    assert_eq!(stale.status(), 412);
    assert_eq!(
        stale.json["type"],
        "https://portal.example/problems/precondition-failed"
    );
    let t = api
        .h
        .service
        .staff_task(&api.h.staff, api.h.portal.id, api.h.tasks["standard"])
        .await
        .unwrap();
    assert_eq!(
        t.status,
        TaskStatus::Blocked,
        "the stale unblock changed nothing"
    );
    // The tenant's branding too.
    let tenant = api.send(req(Method::GET, "/tenant", &[])).await;
    let tag = tenant.page.header("etag");
    let put = |tag: String, color: &str| {
        req(Method::PUT, "/tenant/branding", &[])
            .json(json!({"company_name": "Acme MSP", "accent_color": color}))
            .header("if-match", tag)
    };
    assert_eq!(api.send(put(tag.clone(), "#123456")).await.status(), 200);
    assert_eq!(api.send(put(tag, "#654321")).await.status(), 412);
    let t = api.h.store.tenant(api.h.portal.tenant_id).await.unwrap();
    assert_eq!(t.branding.accent_color.hex(), "#123456");
    // The tenant's ETag is its settings' version, and every update moves it.
    let now = api.send(req(Method::GET, "/tenant", &[])).await;
    let tag = now.page.header("etag");
    assert_eq!(
        tag,
        format!("\"v{}\"", t.version),
        "the ETag names the version"
    );
    let renamed = api
        .send(
            req(Method::PATCH, "/tenant", &[])
                .json(json!({"name": "Acme Managed IT"}))
                .header("if-match", tag.clone()),
        )
        .await;
    assert_eq!(renamed.status(), 200, "{}", renamed.page.body);
    assert_ne!(renamed.page.header("etag"), tag, "the ETag moved");
    assert_eq!(renamed.json["version"], t.version + 1);
    let stale = api
        .send(
            req(Method::PATCH, "/tenant", &[])
                .json(json!({"name": "Lost update"}))
                .header("if-match", tag),
        )
        .await;
    assert_eq!(stale.status(), 412, "{}", stale.page.body);
    assert_eq!(
        api.h.store.tenant(t.id).await.unwrap().name,
        "Acme Managed IT",
        "the stale rename changed nothing"
    );

    // A portal's own fields: name, target date, status and branding.
    let portal = [api.portal()];
    let read = api
        .send(req(Method::GET, "/portals/{portal}", &portal))
        .await;
    let tag = read.page.header("etag");
    assert_eq!(tag, format!("\"v{}\"", read.json["version"]));
    let patch = |tag: String, body: Value| {
        req(Method::PATCH, "/portals/{portal}", &portal)
            .json(body)
            .header("if-match", tag)
    };
    let renamed = api
        .send(patch(tag.clone(), json!({"client_name": "Contoso Dental"})))
        .await;
    assert_eq!(renamed.status(), 200, "{}", renamed.page.body);
    let moved = renamed.page.header("etag");
    assert_ne!(moved, tag, "the ETag changed after the update");
    let stale = api
        .send(patch(tag.clone(), json!({"target_date": "2027-05-01"})))
        .await;
    assert_eq!(stale.status(), 412, "{}", stale.page.body);
    assert_eq!(
        stale.page.header("content-type"),
        "application/problem+json"
    );
    let branding = |tag: String| {
        req(Method::PUT, "/portals/{portal}/branding", &portal)
            .json(json!({"company_name": "Acme for Contoso", "accent_color": "#224466"}))
            .header("if-match", tag)
    };
    assert_eq!(api.send(branding(tag)).await.status(), 412);
    let p = api.h.store.portal(api.h.portal.id).await.unwrap();
    assert_eq!(p.target_date, None, "the stale target date changed nothing");
    assert_eq!(p.client_name, "Contoso Dental");
    let branded = api.send(branding(moved.clone())).await;
    assert_eq!(branded.status(), 200, "{}", branded.page.body);
    assert_ne!(branded.page.header("etag"), moved);
    // A status change by someone else moves the ETag too.
    api.h
        .service
        .set_portal_status(&api.h.staff, api.h.portal.id, PortalStatus::Completed)
        .await
        .unwrap();
    let after = api
        .send(patch(
            branded.page.header("etag"),
            json!({"client_name": "Overwrites the status change?"}),
        ))
        .await;
    assert_eq!(after.status(), 412, "{}", after.page.body);
}

#[tokio::test]
async fn a_replayed_idempotency_key_answers_the_same_and_creates_nothing() {
    let api = Api::start().await;
    let tenant = api.h.portal.tenant_id;
    let create = |name: &str| {
        req(Method::POST, "/portals", &[])
            .json(json!({"client_name": name}))
            .header("idempotency-key", "psa-42")
    };
    let first = api.send(create("Northwind")).await;
    assert_eq!(first.status(), 201, "{}", first.page.body);
    let again = api.send(create("Northwind")).await;
    assert_eq!(again.status(), 201);
    assert_eq!(again.page.body, first.page.body, "the same answer");
    assert_eq!(again.page.header("location"), first.page.header("location"));
    assert_eq!(again.page.header("idempotent-replayed"), "true");
    assert_eq!(
        api.h.store.portals(tenant).await.unwrap().len(),
        2,
        "one portal created"
    );
    let other_body = api.send(create("Southwind")).await;
    assert_eq!(other_body.status(), 422);
    assert_eq!(
        other_body.json["type"],
        "https://portal.example/problems/idempotency-key-reused"
    );
    // Keys are per tenant: the other MSP's same key is its own.
    let theirs = api.send(create("Northwind").as_(Some("other-admin"))).await;
    assert_eq!(theirs.status(), 201);
    assert_ne!(theirs.json["id"], first.json["id"]);
    // Contacts, phases, tasks and comments honour keys as well.
    let p = api.portal();
    let contact = || {
        req(
            Method::POST,
            "/portals/{portal}/contacts",
            std::slice::from_ref(&p),
        )
        .json(json!({"name": "Lee", "email": "lee@contoso.example"}))
        .header("idempotency-key", "c-1")
    };
    let a = api.send(contact()).await;
    let b = api.send(contact()).await;
    assert_eq!((a.status(), b.status()), (201, 201));
    assert_eq!(a.page.body, b.page.body);
    assert_eq!(
        api.h.store.contacts(api.h.portal.id).await.unwrap().len(),
        2
    );
    let comment = || {
        req(
            Method::POST,
            "/portals/{portal}/tasks/{task}/comments",
            &[p.clone(), api.task("standard")],
        )
        .json(json!({"body": "Scheduled for Tuesday."}))
        .header("idempotency-key", "m-1")
    };
    assert_eq!(api.send(comment()).await.status(), 201);
    assert_eq!(api.send(comment()).await.status(), 201);
    let comments = api
        .h
        .service
        .staff_comments(&api.h.staff, api.h.portal.id, api.h.tasks["standard"])
        .await
        .unwrap();
    assert_eq!(
        comments
            .iter()
            .filter(|c| c.body == "Scheduled for Tuesday.")
            .count(),
        1
    );
}

#[tokio::test]
async fn an_msps_day_through_every_route() {
    let api = Api::start().await;
    let p = api.portal();
    let ok = |a: &Answer, what: &str| {
        assert!(
            (200..300).contains(&a.status()),
            "{what}: {} {}",
            a.status(),
            a.page.body
        );
    };
    let mut seen = std::collections::BTreeSet::new();
    macro_rules! call {
        ($r:expr) => {{
            let r = $r;
            seen.insert(format!("{} {}", r.method, r.template));
            let what = format!("{} {}", r.method, r.template);
            let a = api.send(r).await;
            ok(&a, &what);
            a
        }};
    }
    let doc = call!(req(Method::GET, "/openapi.json", &[]).as_(None));
    assert_eq!(doc.json["openapi"], "3.1.0");
    // The client signs; staff read the evidence and the image, and check a document.
    let (signed, _) = signed_signature(&api).await;
    let sp = [p.clone(), signed];
    let evidence = call!(req(
        Method::GET,
        "/portals/{portal}/tasks/{task}/signature",
        &sp
    ));
    assert_eq!(evidence.json["intact"], true);
    call!(req(
        Method::GET,
        "/portals/{portal}/tasks/{task}/signature/image",
        &sp
    ));
    call!(
        req(Method::POST, "/signatures/verify-document", &[])
            .json(json!({"data_base64": "JVBERi0xLjcKJSVFT0YK"}))
    );
    // The MSP attaches the document to sign to another signature task, and reads it.
    let to_sign = unsigned_signature(&api).await;
    let dp = [p.clone(), to_sign];
    let attached = call!(
        req(
            Method::PUT,
            "/portals/{portal}/tasks/{task}/signature/document",
            &dp
        )
        .query("name=agreement.pdf")
        .raw("application/pdf", PDF)
    );
    assert_eq!(attached.json["file_type"], "pdf");
    let read = call!(req(
        Method::GET,
        "/portals/{portal}/tasks/{task}/signature/document",
        &dp
    ));
    assert_eq!(&read.page.raw[..], PDF);
    let info = call!(req(
        Method::GET,
        "/portals/{portal}/tasks/{task}/signature/document/info",
        &dp
    ));
    assert_eq!(info.json["sha256"], attached.json["sha256"]);
    // Staff share a file on a task, list it, download it and delete it.
    let tp = [p.clone(), api.task("standard")];
    let shared = call!(
        req(
            Method::POST,
            "/portals/{portal}/tasks/{task}/attachments",
            &tp
        )
        .query("name=guide.pdf")
        .raw("application/pdf", PDF)
    );
    assert_eq!(shared.status(), 201);
    assert_eq!(shared.json["file_type"], "pdf");
    assert_eq!(shared.json["name"], "guide.pdf");
    let shared_id = shared.json["id"].as_str().unwrap().to_owned();
    let listed = call!(req(
        Method::GET,
        "/portals/{portal}/tasks/{task}/attachments",
        &tp
    ));
    assert_eq!(listed.json["items"][0]["id"], shared_id.as_str());
    let ap = [p.clone(), shared_id.clone()];
    let got = call!(req(
        Method::GET,
        "/portals/{portal}/attachments/{attachment}",
        &ap
    ));
    assert_eq!(&got.page.raw[..], PDF);
    call!(req(
        Method::DELETE,
        "/portals/{portal}/attachments/{attachment}",
        &ap
    ));
    // The client hands over credentials; the admin reveals them with a reason, checks
    // the audit chain, exports it, and purges them.
    let creds = submitted_credentials(&api).await;
    let cp = [p.clone(), creds.clone()];
    let revealed = call!(
        req(
            Method::POST,
            "/portals/{portal}/tasks/{task}/credentials/reveal",
            &cp
        )
        .json(json!({"reason": "Migrating the firewall"}))
    );
    assert_eq!(revealed.json["fields"]["password"], "correct horse battery");
    assert_eq!(revealed.page.header("cache-control"), "no-store");
    let verified = call!(req(
        Method::GET,
        "/portals/{portal}/audit/verify",
        std::slice::from_ref(&p)
    ));
    assert_eq!(verified.json["intact"], true);
    let export = call!(req(
        Method::GET,
        "/portals/{portal}/audit",
        std::slice::from_ref(&p)
    ));
    assert!(
        export
            .page
            .header("content-type")
            .starts_with("application/x-ndjson")
    );
    assert!(export.page.body.contains("credentials_revealed"));
    assert!(!export.page.body.contains("correct horse battery"));
    call!(req(
        Method::DELETE,
        "/portals/{portal}/tasks/{task}/credentials",
        &cp
    ));
    let me = call!(req(Method::GET, "/me", &[]).as_(Some("member")));
    assert_eq!(me.json["role"], "member");
    let tenant = call!(req(Method::GET, "/tenant", &[]));
    call!(req(Method::PUT, "/tenant/branding", &[])
        .json(json!({"company_name": "Acme MSP", "accent_color": "#0d6e7a", "welcome_message": "Hi"}))
        .header("if-match", tenant.page.header("etag")));
    let tenant = call!(req(Method::GET, "/tenant", &[]));
    let renamed = call!(req(Method::PATCH, "/tenant", &[])
        .json(json!({"name": "Acme Managed IT", "notification_recipients": ["ops@acme-msp.example"]}))
        .header("if-match", tenant.page.header("etag")));
    assert_eq!(
        renamed.json["notification_recipients"][0],
        "ops@acme-msp.example"
    );
    let list = call!(req(Method::GET, "/portals", &[]));
    assert_eq!(list.json["items"].as_array().unwrap().len(), 1);
    let created = call!(
        req(Method::POST, "/portals", &[])
            .json(json!({"client_name": "Northwind", "status": "active"}))
    );
    let np = created.json["id"].as_str().unwrap().to_owned();
    let detail = call!(req(
        Method::GET,
        "/portals/{portal}",
        std::slice::from_ref(&np)
    ));
    let detail = call!(
        req(
            Method::PATCH,
            "/portals/{portal}",
            std::slice::from_ref(&np)
        )
        .json(json!({"status": "completed", "client_name": "Northwind Traders", "target_date": "2027-01-15"}))
        .header("if-match", detail.page.header("etag"))
    );
    assert_eq!(detail.json["status"], "completed");
    assert_eq!(detail.json["client_name"], "Northwind Traders");
    assert_eq!(detail.json["target_date"], "2027-01-15");
    let refused = api
        .send(
            req(
                Method::PATCH,
                "/portals/{portal}",
                std::slice::from_ref(&np),
            )
            .as_(Some("member"))
            .json(json!({"status": "archived"}))
            .header("if-match", "*"),
        )
        .await;
    assert_eq!(
        refused.status(),
        403,
        "a member may not change a portal's status"
    );
    call!(
        req(
            Method::PUT,
            "/portals/{portal}/branding",
            std::slice::from_ref(&np)
        )
        .json(json!({"company_name": "Acme for Northwind", "accent_color": "#333333"}))
        .header("if-match", detail.page.header("etag"))
    );
    let phase = call!(
        req(
            Method::POST,
            "/portals/{portal}/phases",
            std::slice::from_ref(&np)
        )
        .json(json!({"name": "Kickoff"}))
    );
    let ph = phase.json["id"].as_str().unwrap().to_owned();
    let task = call!(req(Method::POST, "/portals/{portal}/phases/{phase}/tasks", &[np.clone(), ph])
        .json(json!({"title": "Kickoff call", "assignee": "msp", "kind": {"type": "meeting"}, "due_date": "2026-12-20"})));
    assert_eq!(task.json["type"], "meeting");
    assert!(
        task.page
            .header("location")
            .ends_with(task.json["id"].as_str().unwrap())
    );
    // Templates, a portal made from one, and its plan edited task by task.
    let phases = json!([
        {"name": "Kickoff", "tasks": [
            {"title": "Kickoff call", "assignee": "msp", "kind": {"type": "meeting"}, "due_offset_days": 3},
            {"title": "Send the network diagram", "assignee": "client", "kind": {"type": "standard"},
             "due_offset_days": 7, "waits_on": [{"phase": 0, "task": 0}]},
        ]},
        {"name": "Go-live", "tasks": [
            {"title": "Check backups", "assignee": "msp", "kind": {"type": "standard"}, "internal": true},
        ]},
    ]);
    let tpl = call!(
        req(Method::POST, "/templates", &[])
            .json(json!({"name": "Standard onboarding", "phases": phases}))
    );
    let tpl_id = tpl.json["id"].as_str().unwrap().to_owned();
    assert_eq!(tpl.page.header("etag"), "\"v1\"");
    let tp = [tpl_id.clone()];
    let listed = call!(req(Method::GET, "/templates", &[]));
    assert_eq!(listed.json["items"][0]["id"], tpl_id.as_str());
    let got = call!(req(Method::GET, "/templates/{template}", &tp));
    let patched = call!(
        req(Method::PATCH, "/templates/{template}", &tp)
            .json(json!({"name": "Standard onboarding (2026)"}))
            .header("if-match", got.page.header("etag"))
    );
    assert_eq!(patched.json["version"], 2);
    assert_eq!(patched.json["phases"], got.json["phases"], "phases kept");
    let put = call!(
        req(Method::PUT, "/templates/{template}", &tp)
            .json(json!({"name": "Standard onboarding", "phases": phases}))
            .header("if-match", patched.page.header("etag"))
    );
    assert_eq!(put.page.header("etag"), "\"v3\"");
    let copy = call!(
        req(Method::POST, "/templates/{template}/copy", &tp).json(json!({"name": "Quick start"}))
    );
    assert_eq!(copy.json["version"], 1);
    assert_eq!(copy.json["phases"], put.json["phases"]);
    let made = call!(
        req(Method::POST, "/templates/{template}/portals", &tp)
            .json(json!({"client_name": "Contoso", "start_date": "2026-12-07"}))
    );
    assert_eq!(made.json["status"], "draft");
    // Opened at once: the creating call's status, no second request.
    let opened = call!(
        req(Method::POST, "/templates/{template}/portals", &tp).json(
            json!({"client_name": "Litware", "start_date": "2026-12-07", "status": "active"})
        )
    );
    assert_eq!(opened.json["status"], "active");
    let cp_id = made.json["id"].as_str().unwrap().to_owned();
    assert!(made.page.header("location").ends_with(&cp_id));
    let cpp = [cp_id.clone()];
    let plan = call!(req(Method::GET, "/portals/{portal}/plan", &cpp));
    assert!(plan.page.header("etag").starts_with('"'));
    let kickoff = &plan.json["phases"][0];
    let (call_task, diagram) = (&kickoff["tasks"][0], &kickoff["tasks"][1]);
    assert_eq!(call_task["due_date"], "2026-12-10");
    assert_eq!(diagram["due_date"], "2026-12-14");
    assert_eq!(diagram["waits_on"][0], call_task["id"]);
    assert_eq!(plan.json["phases"][1]["tasks"][0]["internal"], true);
    let diagram_id = diagram["id"].as_str().unwrap().to_owned();
    let golive_id = plan.json["phases"][1]["id"].as_str().unwrap().to_owned();
    let dp = [cp_id.clone(), diagram_id.clone()];
    let edited = call!(
        req(Method::PATCH, "/portals/{portal}/tasks/{task}", &dp)
            .json(json!({"title": "Send us the network diagram", "description": "A PDF is fine.", "due_date": null, "waits_on": []}))
            .header("if-match", format!("\"v{}\"", diagram["version"]))
    );
    assert_eq!(edited.json["title"], "Send us the network diagram");
    assert_eq!(edited.json["due_date"], Value::Null);
    assert_eq!(edited.json["waits_on"], json!([]));
    assert_eq!(
        edited.page.header("etag"),
        format!("\"v{}\"", edited.json["version"])
    );
    let due = call!(
        req(Method::PATCH, "/portals/{portal}/tasks/{task}", &dp)
            .json(json!({"due_date": "2027-01-05"}))
            .header("if-match", edited.page.header("etag"))
    );
    assert_eq!(due.json["due_date"], "2027-01-05");
    let moved = call!(
        req(Method::POST, "/portals/{portal}/tasks/{task}/move", &dp)
            .json(json!({"phase": golive_id, "position": 0}))
            .header("if-match", due.page.header("etag"))
    );
    assert_eq!(moved.json["phase_id"], golive_id.as_str());
    assert_eq!(moved.json["position"], 0);
    let gp = [cp_id.clone(), golive_id.clone()];
    let renamed = call!(
        req(Method::PATCH, "/portals/{portal}/phases/{phase}", &gp)
            .json(json!({"name": "Go live"}))
            .header(
                "if-match",
                format!("\"v{}\"", plan.json["phases"][1]["version"])
            )
    );
    assert_eq!(renamed.json["name"], "Go live");
    assert_eq!(renamed.json["tasks"].as_array().unwrap().len(), 2);
    let first = call!(
        req(Method::POST, "/portals/{portal}/phases/{phase}/move", &gp)
            .json(json!({"position": 0}))
            .header("if-match", renamed.page.header("etag"))
    );
    assert_eq!(first.json["position"], 0);
    call!(
        req(Method::DELETE, "/portals/{portal}/tasks/{task}", &dp)
            .header("if-match", moved.page.header("etag"))
    );
    let kp = [cp_id.clone(), kickoff["id"].as_str().unwrap().to_owned()];
    let gone = call!(
        req(Method::DELETE, "/portals/{portal}/phases/{phase}", &kp)
            .query("with_tasks=true")
            .header("if-match", "*")
    );
    assert_eq!(gone.status(), 204);
    let plan = call!(req(Method::GET, "/portals/{portal}/plan", &cpp));
    assert_eq!(plan.json["phases"].as_array().unwrap().len(), 1);
    assert_eq!(plan.json["phases"][0]["name"], "Go live");
    assert_eq!(plan.json["phases"][0]["tasks"].as_array().unwrap().len(), 1);
    // The seeded portal: contacts, invites, tasks, threads.
    let contacts = call!(req(
        Method::GET,
        "/portals/{portal}/contacts",
        std::slice::from_ref(&p)
    ));
    assert_eq!(
        contacts.json["items"][0]["email"],
        api.h.contact.email.as_str()
    );
    let lee = call!(
        req(
            Method::POST,
            "/portals/{portal}/contacts",
            std::slice::from_ref(&p)
        )
        .json(json!({"name": "Lee Chen", "email": "lee@contoso.example"}))
    );
    let lee_id = lee.json["id"].as_str().unwrap().to_owned();
    let cp = [p.clone(), lee_id.clone()];
    let read = call!(req(
        Method::GET,
        "/portals/{portal}/contacts/{contact}",
        &cp
    ));
    let fixed = call!(
        req(Method::PATCH, "/portals/{portal}/contacts/{contact}", &cp)
            .json(json!({"name": "Lee Chen", "email": "lee.chen@contoso.example"}))
            .header("if-match", read.page.header("etag"))
    );
    assert_eq!(fixed.json["email"], "lee.chen@contoso.example");
    // The role: set (lower-cased), kept by an edit without it, cleared by null.
    let billing = call!(
        req(Method::PATCH, "/portals/{portal}/contacts/{contact}", &cp)
            .json(
                json!({"name": "Lee Chen", "email": "lee.chen@contoso.example", "role": "Billing"})
            )
            .header("if-match", fixed.page.header("etag"))
    );
    assert_eq!(billing.json["role"], "billing");
    let kept = call!(
        req(Method::PATCH, "/portals/{portal}/contacts/{contact}", &cp)
            .json(json!({"name": "Lee J. Chen", "email": "lee.chen@contoso.example"}))
            .header("if-match", "*")
    );
    assert_eq!(
        kept.json["role"], "billing",
        "an edit without role keeps it"
    );
    let cleared = call!(
        req(Method::PATCH, "/portals/{portal}/contacts/{contact}", &cp)
            .json(json!({"name": "Lee Chen", "email": "lee.chen@contoso.example", "role": null}))
            .header("if-match", "*")
    );
    assert_eq!(cleared.json["role"], Value::Null, "null clears the role");
    // The language: set, kept by an edit without it, cleared by null; anything but a
    // code the catalog has is a 422 naming `language`, and nothing changes.
    let spanish = call!(
        req(Method::PATCH, "/portals/{portal}/contacts/{contact}", &cp)
            .json(
                json!({"name": "Lee Chen", "email": "lee.chen@contoso.example", "language": "es"})
            )
            .header("if-match", "*")
    );
    assert_eq!(spanish.json["language"], "es");
    let kept = call!(
        req(Method::PATCH, "/portals/{portal}/contacts/{contact}", &cp)
            .json(json!({"name": "Lee Chen", "email": "lee.chen@contoso.example"}))
            .header("if-match", "*")
    );
    assert_eq!(
        kept.json["language"], "es",
        "an edit without language keeps it"
    );
    for bad in [json!("fr"), json!("es-MX"), json!(1)] {
        let a = api
            .send(
                req(Method::PATCH, "/portals/{portal}/contacts/{contact}", &cp)
                    .json(json!({"name": "Lee Chen", "email": "lee.chen@contoso.example", "language": bad}))
                    .header("if-match", "*"),
            )
            .await;
        assert_eq!(
            (a.status(), a.field()),
            (422, "language".to_owned()),
            "{bad}"
        );
    }
    let cleared = call!(
        req(Method::PATCH, "/portals/{portal}/contacts/{contact}", &cp)
            .json(
                json!({"name": "Lee Chen", "email": "lee.chen@contoso.example", "language": null})
            )
            .header("if-match", "*")
    );
    assert_eq!(
        cleared.json["language"],
        Value::Null,
        "null clears the language"
    );
    let silent = call!(req(
        Method::POST,
        "/portals/{portal}/contacts/{contact}/invite-link",
        &cp
    ));
    assert!(silent.json["invite_url"].as_str().unwrap().contains("/i/"));
    let invite = call!(req(
        Method::POST,
        "/portals/{portal}/contacts/{contact}/invite",
        &[p.clone(), lee_id.clone()]
    ));
    let url = invite.json["invite_url"].as_str().unwrap();
    let invite_path = url
        .split_once("/i/")
        .map(|(_, t)| format!("/i/{t}"))
        .unwrap();
    assert_eq!(
        api.h.browser().get(&invite_path).await.status,
        200,
        "the invite link works"
    );
    call!(req(
        Method::POST,
        "/portals/{portal}/contacts/{contact}/revoke-invite",
        &[p.clone(), lee_id.clone()]
    ));
    assert_eq!(
        api.h.browser().get(&invite_path).await.status,
        403,
        "a revoked invite is dead"
    );
    let revoked = call!(req(
        Method::POST,
        "/portals/{portal}/contacts/{contact}/revoke",
        &[p.clone(), lee_id.clone()]
    ));
    assert!(revoked.json["revoked_at"].is_string());
    call!(req(
        Method::DELETE,
        "/portals/{portal}/contacts/{contact}",
        &[p.clone(), lee_id]
    ));
    let contacts = call!(req(
        Method::GET,
        "/portals/{portal}/contacts",
        std::slice::from_ref(&p)
    ));
    assert_eq!(
        contacts.json["items"].as_array().unwrap().len(),
        1,
        "Lee is removed"
    );
    call!(req(
        Method::DELETE,
        "/portals/{portal}",
        std::slice::from_ref(&np)
    ));
    let erased = call!(req(Method::GET, "/erasure-log", &[]));
    assert_eq!(erased.json["items"][0]["portal_id"], np.as_str());
    assert_eq!(erased.json["items"][0]["by"]["name"], "Priya Admin");
    let tp = [p.clone(), api.task("standard")];
    let t = call!(req(Method::GET, "/portals/{portal}/tasks/{task}", &tp));
    let t = call!(
        req(Method::POST, "/portals/{portal}/tasks/{task}/block", &tp)
            .json(json!({"reason": "Waiting on the ISP"}))
            .header("if-match", t.page.header("etag"))
    );
    let t = call!(
        req(Method::POST, "/portals/{portal}/tasks/{task}/unblock", &tp)
            .header("if-match", t.page.header("etag"))
    );
    let t = call!(
        req(Method::POST, "/portals/{portal}/tasks/{task}/complete", &tp)
            .json(json!({"notes": "Done on a call"}))
            .header("if-match", t.page.header("etag"))
    );
    assert_eq!(t.json["status"], "completed");
    call!(
        req(Method::POST, "/portals/{portal}/tasks/{task}/reopen", &tp)
            .header("if-match", t.page.header("etag"))
    );
    let mp = [p.clone(), api.task("meeting")];
    let ics = call!(req(
        Method::GET,
        "/portals/{portal}/tasks/{task}/meeting.ics",
        &mp
    ));
    assert!(ics.page.header("content-type").starts_with("text/calendar"));
    assert!(ics.page.body.contains("BEGIN:VCALENDAR"));
    let ck = [p.clone(), api.task("checklist"), "a".to_owned()];
    let t = call!(req(Method::GET, "/portals/{portal}/tasks/{task}", &ck[..2]));
    let checked = call!(
        req(
            Method::PUT,
            "/portals/{portal}/tasks/{task}/checklist/{item}",
            &ck
        )
        .json(json!({"checked": true}))
        .header("if-match", t.page.header("etag"))
    );
    assert_ne!(checked.page.header("etag"), t.page.header("etag"));
    let reminders = call!(req(
        Method::GET,
        "/portals/{portal}/reminders",
        std::slice::from_ref(&p)
    ));
    let set = call!(
        req(
            Method::PUT,
            "/portals/{portal}/reminders",
            std::slice::from_ref(&p)
        )
        .json(json!({"enabled": true, "days_before": 3, "local_hour": 8}))
        .header("if-match", reminders.page.header("etag"))
    );
    assert_eq!(
        (
            set.json["days_before"].as_u64(),
            set.json["local_hour"].as_u64()
        ),
        (Some(3), Some(8))
    );
    let logo =
        call!(req(Method::POST, "/tenant/logo", &[]).json(json!({"data_base64": PNG_BASE64})));
    assert_eq!(logo.json["image_type"], "png");
    // The onboarding team: a photo, then the team in its order, under If-Match.
    let photo = call!(
        req(
            Method::POST,
            "/portals/{portal}/team/photo",
            std::slice::from_ref(&p)
        )
        .json(json!({"data_base64": PNG_BASE64}))
    );
    assert_eq!(photo.json["image_type"], "png");
    let team = call!(req(
        Method::GET,
        "/portals/{portal}/team",
        std::slice::from_ref(&p)
    ));
    assert_eq!(team.json["members"], json!([]));
    let set = call!(
        req(Method::PUT, "/portals/{portal}/team", std::slice::from_ref(&p))
            .json(json!({"members": [
                {"name": "Sam Lee", "role": "Project lead", "email": "sam@msp.example", "photo": photo.json},
                {"name": "Ana Diaz", "role": "Network engineer", "email": "ana@msp.example"},
            ]}))
            .header("if-match", team.page.header("etag"))
    );
    assert_ne!(set.page.header("etag"), team.page.header("etag"));
    assert_eq!(set.json["members"][0]["name"], "Sam Lee");
    assert_eq!(set.json["members"][0]["photo"], photo.json);
    assert_eq!(set.json["members"][1]["role"], "Network engineer");
    let again = call!(req(
        Method::GET,
        "/portals/{portal}/team",
        std::slice::from_ref(&p)
    ));
    assert_eq!(again.json, set.json);
    assert_eq!(again.page.header("etag"), set.page.header("etag"));
    let m = call!(req(Method::GET, "/portals/{portal}/tasks/{task}", &mp));
    let moved = call!(req(Method::PUT, "/portals/{portal}/tasks/{task}/meeting", &mp)
        .json(json!({"starts_at": "2026-12-10T15:00:00Z", "time_zone": "America/New_York", "duration_minutes": 45, "meeting_url": "https://meet.example/abc"}))
        .header("if-match", m.page.header("etag")));
    assert_eq!(moved.json["kind"]["schedule"]["duration_minutes"], 45);
    call!(
        req(Method::POST, "/portals/{portal}/tasks/{task}/comments", &tp)
            .json(json!({"body": "Booked for Tuesday."}))
    );
    let thread = call!(req(
        Method::GET,
        "/portals/{portal}/tasks/{task}/comments",
        &tp
    ));
    assert_eq!(
        thread.json["items"].as_array().unwrap().last().unwrap()["author"]["name"],
        "Priya Admin"
    );
    // The client asks a question and uploads a file; staff answer and review.
    let client = api.h.browser();
    sign_in_over_http(&client, &api.h.invite_path(), || {
        code_in(&api.h.last_email_text())
    })
    .await;
    let qpage = client.get("/questions").await;
    let asked = client
        .post(
            "/questions",
            &[
                ("csrf", &qpage.csrf()),
                ("question", "Do we need to be on site?"),
            ],
        )
        .await;
    assert_eq!(asked.status, 303);
    let upload_page = client.get(&format!("/tasks/{}", api.task("upload"))).await;
    let body = multipart(&[
        Part::Field("csrf", &upload_page.csrf()),
        Part::File("diagram.pdf", PDF),
    ]);
    let up = client
        .send(
            Method::POST,
            &format!("/tasks/{}/documents/d", api.task("upload")),
            Some(&content_type()),
            body,
        )
        .await;
    assert!(
        up.status.is_success() || up.status.is_redirection(),
        "{}",
        up.body
    );
    let questions = call!(req(
        Method::GET,
        "/portals/{portal}/questions",
        std::slice::from_ref(&p)
    ));
    let q = questions.json["items"][0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let answered = call!(
        req(
            Method::POST,
            "/portals/{portal}/questions/{question}/answer",
            &[p.clone(), q]
        )
        .json(json!({"text": "No, we do it remotely."}))
    );
    assert_eq!(answered.json["answer"]["by"]["name"], "Priya Admin");
    assert!(
        client
            .get("/questions")
            .await
            .body
            .contains("No, we do it remotely."),
        "the client sees the answer"
    );
    let queue = call!(req(Method::GET, "/review-queue", &[]));
    let file = queue.json["items"][0]["file"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let docs = call!(req(
        Method::GET,
        "/portals/{portal}/documents",
        std::slice::from_ref(&p)
    ));
    assert_eq!(docs.json["items"][0]["current"]["id"], file.as_str());
    let fp = [p.clone(), file];
    let rescanned = call!(req(
        Method::POST,
        "/portals/{portal}/files/{file}/rescan",
        &fp
    ));
    assert_eq!(rescanned.json["review"], "pending");
    let download = call!(req(Method::GET, "/portals/{portal}/files/{file}", &fp));
    assert_eq!(&download.page.raw[..], PDF);
    assert!(
        download
            .page
            .header("content-disposition")
            .starts_with("attachment")
    );
    let reviewed = call!(
        req(Method::POST, "/portals/{portal}/files/{file}/review", &fp)
            .json(json!({"verdict": "reject", "notes": "Please include the VLANs."}))
    );
    assert_eq!(reviewed.json["review"], "rejected");
    call!(req(Method::GET, "/failed-mail", &[]));
    let log = call!(req(
        Method::GET,
        "/portals/{portal}/access-log",
        std::slice::from_ref(&p)
    ));
    assert!(!log.json["items"].as_array().unwrap().is_empty());
    // The activity feed, paged two at a time to its end, names the staff member.
    let mut cursor: Option<String> = None;
    let mut entries = Vec::new();
    for _ in 0..100 {
        let q = match &cursor {
            Some(c) => format!("limit=2&cursor={c}"),
            None => "limit=2".to_owned(),
        };
        let page = call!(
            req(
                Method::GET,
                "/portals/{portal}/activity",
                std::slice::from_ref(&p)
            )
            .query(&q)
        );
        entries.extend(page.json["items"].as_array().unwrap().clone());
        match page.json["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_owned()),
            None => break,
        }
    }
    let all = api
        .h
        .service
        .staff_activity(&api.h.staff, api.h.portal.id, None, 1000)
        .await
        .unwrap()
        .items;
    assert_eq!(entries.len(), all.len(), "paging saw every entry once");
    assert!(
        entries
            .iter()
            .any(|e| e["actor"]["name"] == "Priya Admin" && e["kind"] == "question_answered")
    );
    // Secure file drop: the client drops a file; staff list the task's drops,
    // download one, and sweep.
    let drop_task = api
        .h
        .service
        .add_task(
            &api.h.staff,
            api.h.portal.id,
            api.h
                .service
                .add_phase(&api.h.staff, api.h.portal.id, "Files")
                .await
                .unwrap()
                .id,
            portal_core::TaskSpec {
                title: "Send the firewall backup".into(),
                description: String::new(),
                assignee: portal_core::model::Side::Client,
                kind: portal_core::model::TaskKind::SecureFileDrop {
                    expires_after_days: 7,
                },
                due_date: None,
            },
        )
        .await
        .unwrap()
        .id;
    let client = api.h.browser();
    api.h.sign_in(&client).await;
    let csrf = client.get(&format!("/tasks/{drop_task}")).await.csrf();
    let dropped = client
        .send_with(
            Method::POST,
            &format!("/tasks/{drop_task}/drops"),
            Some(&portal_tests::multipart::content_type()),
            &[],
            portal_tests::multipart::multipart(&[
                portal_tests::multipart::Part::Field("csrf", &csrf),
                portal_tests::multipart::Part::File("backup.conf", b"hostname fw1"),
            ]),
        )
        .await;
    assert_eq!(dropped.status, 303, "{}", dropped.body);
    let dt = [p.clone(), drop_task.to_string()];
    let drops = call!(req(
        Method::GET,
        "/portals/{portal}/tasks/{task}/drops",
        &dt
    ));
    assert_eq!(drops.json["items"][0]["state"], "available");
    let drop_file = [
        p.clone(),
        drops.json["items"][0]["id"].as_str().unwrap().to_owned(),
    ];
    let got = call!(req(
        Method::GET,
        "/portals/{portal}/drops/{file}",
        &drop_file
    ));
    assert_eq!(&got.page.raw[..], b"hostname fw1");
    let swept = call!(req(Method::POST, "/drops/sweep", &[]));
    assert_eq!(swept.json["removed"], 0);
    // A contact is stuck and asks for a new date: staff see the queue, answer and
    // clear, and approve the date.
    let help = client_asks_for_help(&api).await;
    let hp = [p.clone(), help.clone()];
    let t = call!(req(Method::GET, "/portals/{portal}/tasks/{task}", &hp));
    assert_eq!(
        t.json["client_answers"]["stuck"][0]["reason"],
        "Which admin account?"
    );
    let queue = call!(req(Method::GET, "/due-date-requests", &[]));
    assert_eq!(queue.json["items"][0]["task_id"], help.as_str());
    assert_eq!(queue.json["items"][0]["request"]["to"], "2026-12-20");
    let t = call!(
        req(
            Method::POST,
            "/portals/{portal}/tasks/{task}/stuck/clear",
            &hp
        )
        .json(json!({"answer": "The one named fw-admin."}))
        .header("if-match", t.page.header("etag"))
    );
    assert!(t.json["client_answers"]["stuck"][0]["cleared"].is_object());
    let dp = [p.clone(), help.clone(), "1".to_owned()];
    let t = call!(
        req(
            Method::POST,
            "/portals/{portal}/tasks/{task}/due-date-requests/{number}/decision",
            &dp
        )
        .json(json!({"approve": true, "note": "Fine by us."}))
        .header("if-match", t.page.header("etag"))
    );
    assert_eq!(t.json["due_date"], "2026-12-20");
    assert_eq!(
        t.json["client_answers"]["due_date_requests"][0]["status"],
        "approved"
    );
    // Webhooks: an endpoint, its deliveries (one per feed entry since), a replay.
    let hook = call!(
        req(Method::POST, "/webhooks/endpoints", &[])
            .json(json!({ "url": "http://127.0.0.1:9/hooks", "event_types": ["portal.renamed"] }))
    );
    let hid = [hook.json["endpoint"]["id"].as_str().unwrap().to_owned()];
    call!(req(Method::GET, "/webhooks/endpoints", &[]));
    let got = call!(req(Method::GET, "/webhooks/endpoints/{endpoint}", &hid));
    call!(
        req(Method::PATCH, "/webhooks/endpoints/{endpoint}", &hid)
            .header("if-match", got.page.header("etag").to_owned())
            .json(json!({ "description": "PSA sync" }))
    );
    call!(req(
        Method::POST,
        "/webhooks/endpoints/{endpoint}/rotate-secret",
        &hid
    ));
    api.h
        .service
        .rename_portal(&api.h.staff, api.h.portal.id, "Contoso Dental Group")
        .await
        .unwrap();
    api.h.webhooks.as_ref().unwrap().dispatch().await.unwrap();
    let ds = call!(req(
        Method::GET,
        "/webhooks/endpoints/{endpoint}/deliveries",
        &hid
    ));
    call!(req(
        Method::POST,
        "/webhooks/deliveries/{delivery}/replay",
        &[ds.json["items"][0]["id"].as_str().unwrap().to_owned()]
    ));
    call!(req(Method::DELETE, "/webhooks/endpoints/{endpoint}", &hid));
    // Colleagues: the invitation mode, then two colleagues the contact invited wait
    // for approval; one is approved (their invitation goes out), one declined.
    let portal_now = call!(req(
        Method::GET,
        "/portals/{portal}",
        std::slice::from_ref(&p)
    ));
    let set = call!(
        req(
            Method::PUT,
            "/portals/{portal}/colleague-invitations",
            std::slice::from_ref(&p)
        )
        .header("if-match", portal_now.page.header("etag").to_owned())
        .json(json!({ "mode": "after_approval" }))
    );
    assert_eq!(set.json["colleague_invitations"], "after_approval");
    let target = portal_core::store::ContactInPortal {
        contact: api.h.store.contact(api.h.contact.id).await.unwrap(),
        portal: api.h.store.portal(api.h.portal.id).await.unwrap(),
    };
    let ctx = portal_core::store::ClientContext::new(
        &target,
        portal_core::Clock::now(api.h.clock.as_ref()) + chrono::TimeDelta::hours(1),
    );
    for (name, email) in [
        ("Pat Pending", "pat@contoso.example"),
        ("Dan Declined", "dan@contoso.example"),
    ] {
        api.h
            .service
            .invite_colleague(&ctx, name, email)
            .await
            .unwrap();
    }
    let pending = call!(req(
        Method::GET,
        "/portals/{portal}/colleagues/pending",
        std::slice::from_ref(&p)
    ));
    let ids: Vec<String> = pending.json["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["id"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(ids.len(), 2, "{}", pending.page.body);
    assert_eq!(pending.json["items"][0]["awaiting_approval"], true);
    let approved = call!(req(
        Method::POST,
        "/portals/{portal}/contacts/{contact}/approve",
        &[p.clone(), ids[0].clone()]
    ));
    assert_eq!(approved.json["awaiting_approval"], false);
    call!(req(
        Method::POST,
        "/portals/{portal}/contacts/{contact}/decline",
        &[p.clone(), ids[1].clone()]
    ));
    // Guests: one invited to a task, a second task shared and unshared, the list,
    // then their access ended.
    let gill = call!(
        req(
            Method::POST,
            "/portals/{portal}/guests",
            std::slice::from_ref(&p)
        )
        .json(json!({
            "name": "Gill Guest",
            "email": "gill@previous-it.example",
            "organisation": "Previous IT",
            "access_ends_at": "2099-01-01T00:00:00Z",
            "task_ids": [api.task("standard")],
        }))
    );
    assert_eq!(gill.status(), 201, "{}", gill.page.body);
    assert_eq!(gill.json["guest"]["organisation"], "Previous IT");
    let gid = gill.json["id"].as_str().unwrap().to_owned();
    let shared = call!(req(
        Method::PUT,
        "/portals/{portal}/guests/{contact}/tasks/{task}",
        &[p.clone(), gid.clone(), api.task("checklist")]
    ));
    assert_eq!(
        shared.json["guest"]["shared_task_ids"],
        json!([api.task("standard"), api.task("checklist")])
    );
    let unshared = call!(req(
        Method::DELETE,
        "/portals/{portal}/guests/{contact}/tasks/{task}",
        &[p.clone(), gid.clone(), api.task("checklist")]
    ));
    assert_eq!(
        unshared.json["guest"]["shared_task_ids"],
        json!([api.task("standard")])
    );
    let guests = call!(req(
        Method::GET,
        "/portals/{portal}/guests",
        std::slice::from_ref(&p)
    ));
    assert_eq!(guests.json["items"][0]["id"], gid.as_str());
    let ended = call!(req(
        Method::POST,
        "/portals/{portal}/guests/{contact}/end-access",
        &[p.clone(), gid.clone()]
    ));
    assert!(ended.json["guest"]["access_ends_at"].is_string());
    // The handover from the previous provider: the phase with its two tasks, both
    // shared with the provider's guest; a second one is a 409 problem.
    let handover = || {
        req(
            Method::POST,
            "/portals/{portal}/handover",
            std::slice::from_ref(&p),
        )
        .json(json!({
            "organisation": "Previous IT",
            "name": "Olly Outgoing",
            "email": "olly@previous-it.example",
            "access_ends_at": "2099-01-01T00:00:00Z",
            "due_date": "2099-01-01",
        }))
    };
    let started = call!(handover());
    assert_eq!(started.status(), 201, "{}", started.page.body);
    assert_eq!(
        started.json["phase"]["name"],
        "Handover from your previous provider"
    );
    let kinds: Vec<&str> = started.json["phase"]["tasks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["kind"]["type"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, ["checklist", "credential_handoff"]);
    let task_ids: Vec<Value> = started.json["phase"]["tasks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["id"].clone())
        .collect();
    assert_eq!(
        started.json["guest"]["guest"]["shared_task_ids"],
        json!(task_ids)
    );
    assert_eq!(
        started.json["guest"]["guest"]["organisation"],
        "Previous IT"
    );
    let again = api.send(handover()).await;
    assert_eq!(again.status(), 409, "{}", again.page.body);
    assert_eq!(
        again.page.header("content-type"),
        "application/problem+json"
    );
    assert!(
        again.json["detail"]
            .as_str()
            .is_some_and(|d| d.contains("already has a handover")),
        "{}",
        again.page.body
    );
    // Every route of the document was called with success.
    let documented: std::collections::BTreeSet<String> = routes(&api.doc)
        .into_iter()
        .map(|(m, t, _)| format!("{m} {t}"))
        .collect();
    let missed: Vec<&String> = documented.difference(&seen).collect();
    assert!(missed.is_empty(), "routes not exercised: {missed:?}");
}

#[tokio::test]
async fn a_tasks_read_carries_the_clients_answers() {
    use portal_core::workflow::{Actor, TaskAction, apply};
    let api = Api::start().await;
    let (portal, task) = (api.h.portal.id, api.h.tasks["approval"]);
    let contact = &api.h.contact;
    let client = Actor::Client {
        contact_id: contact.id,
        name: contact.name.clone(),
        email: contact.email.clone(),
    };
    let at = portal_core::clock::Clock::now(api.h.clock.as_ref());
    let action = TaskAction::Decide {
        approved: false,
        comment: Some("Too expensive".into()),
        request: portal_core::store::RequestInfo {
            ip: None,
            user_agent: None,
            path: None,
        },
        documents: Vec::new(),
    };
    api.h
        .store
        .update_task(
            portal,
            task,
            std::sync::Arc::new(move |t| apply(t, &action, &client, at)),
        )
        .await
        .unwrap();
    let read = api
        .send(req(
            Method::GET,
            "/portals/{portal}/tasks/{task}",
            &[portal.to_string(), task.to_string()],
        ))
        .await;
    assert_eq!(read.status(), 200, "{}", read.page.body);
    let decision = &read.json["client_answers"]["decision"];
    assert_eq!(decision["approved"], false);
    assert_eq!(decision["comment"], "Too expensive");
    assert_eq!(decision["name"], contact.name.as_str());
    assert!(
        read.json["client_answers"]["previous_decisions"]
            .as_array()
            .unwrap()
            .is_empty()
    );
    // The plan is for editing: answers are on the task's own read only.
    let plan = api
        .send(req(
            Method::GET,
            "/portals/{portal}/plan",
            &[portal.to_string()],
        ))
        .await;
    assert!(plan.page.body.contains("\"title\""));
    assert!(!plan.page.body.contains("client_answers"));
}

#[tokio::test]
async fn json_shapes() {
    let api = Api::start().await;
    let filters = vec![
        (
            r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}",
            "[id]",
        ),
        (r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z", "[time]"),
        (r#""[0-9a-f]{24}""#, "\"[etag]\""),
    ];
    let task = api
        .send(req(
            Method::GET,
            "/portals/{portal}/tasks/{task}",
            &[api.portal(), api.task("meeting")],
        ))
        .await;
    let problem = api
        .send(req(Method::POST, "/portals", &[]).json(json!({"client_name": ""})))
        .await;
    let contacts = api
        .send(req(
            Method::GET,
            "/portals/{portal}/contacts",
            &[api.portal()],
        ))
        .await;
    let plan = api
        .send(req(Method::GET, "/portals/{portal}/plan", &[api.portal()]))
        .await;
    let template = a_template(&api, "admin").await;
    let template = api
        .send(req(Method::GET, "/templates/{template}", &[template]))
        .await;
    let reminders = api
        .send(req(
            Method::GET,
            "/portals/{portal}/reminders",
            &[api.portal()],
        ))
        .await;
    let doomed = api
        .send(req(Method::POST, "/portals", &[]).json(json!({"client_name": "Fabrikam"})))
        .await;
    let doomed = doomed.json["id"].as_str().unwrap().to_owned();
    let gone = api
        .send(req(Method::DELETE, "/portals/{portal}", &[doomed]))
        .await;
    assert_eq!(gone.status(), 204);
    let erasures = api.send(req(Method::GET, "/erasure-log", &[])).await;
    insta::with_settings!({filters => filters}, {
        insta::assert_snapshot!("admin_reminders", serde_json::to_string_pretty(&reminders.json).unwrap());
        insta::assert_snapshot!("admin_erasures", serde_json::to_string_pretty(&erasures.json).unwrap());
        insta::assert_snapshot!("admin_plan", serde_json::to_string_pretty(&plan.json).unwrap());
        insta::assert_snapshot!("admin_template", serde_json::to_string_pretty(&template.json).unwrap());
        insta::assert_snapshot!("admin_task", serde_json::to_string_pretty(&task.json).unwrap());
        insta::assert_snapshot!("admin_problem", serde_json::to_string_pretty(&problem.json).unwrap());
        insta::assert_snapshot!("admin_contacts", serde_json::to_string_pretty(&contacts.json).unwrap());
    });
}

/// A template made over the API, for the tests below.
/// Adds a client credential handoff task (with an API key) to the portal and submits
/// it through the client's page; answers the task's id.
async fn submitted_credentials(api: &Api) -> String {
    let h = &api.h;
    let phase = h
        .service
        .add_phase(&h.staff, h.portal.id, "Access")
        .await
        .unwrap()
        .id;
    let task = h
        .service
        .add_task(
            &h.staff,
            h.portal.id,
            phase,
            portal_core::TaskSpec {
                title: "Share the firewall admin account".into(),
                description: String::new(),
                assignee: portal_core::model::Side::Client,
                kind: portal_core::model::TaskKind::CredentialHandoff { api_key: true },
                due_date: None,
            },
        )
        .await
        .unwrap()
        .id;
    let client = h.browser();
    h.sign_in(&client).await;
    let csrf = client.get(&format!("/tasks/{task}")).await.csrf();
    let sent = client
        .post(
            &format!("/tasks/{task}/credentials"),
            &[
                ("csrf", &csrf),
                ("username", "fw-admin"),
                ("password", "correct horse battery"),
                ("api_key", "key-0123"),
                ("notes", "MFA via Dana"),
            ],
        )
        .await;
    assert_eq!(sent.status, 303, "{}", sent.body);
    task.to_string()
}

/// On a new client task, the signed-in contact says they are stuck ("Which admin
/// account?") and asks for 2026-12-20 as its due date, over HTTP; answers the task id.
async fn client_asks_for_help(api: &Api) -> String {
    let h = &api.h;
    let phase = h
        .service
        .add_phase(&h.staff, h.portal.id, "Help")
        .await
        .unwrap()
        .id;
    let task = h
        .service
        .add_task(
            &h.staff,
            h.portal.id,
            phase,
            portal_core::TaskSpec {
                title: "Check the firewall rules".into(),
                description: String::new(),
                assignee: portal_core::model::Side::Client,
                kind: portal_core::model::TaskKind::Standard,
                due_date: None,
            },
        )
        .await
        .unwrap()
        .id;
    let client = h.browser();
    h.sign_in(&client).await;
    let csrf = client.get(&format!("/tasks/{task}")).await.csrf();
    let stuck = client
        .post(
            &format!("/tasks/{task}/stuck"),
            &[("csrf", &csrf), ("reason", "Which admin account?")],
        )
        .await;
    assert_eq!(stuck.status, 303, "{}", stuck.body);
    let asked = client
        .post(
            &format!("/tasks/{task}/due-date"),
            &[
                ("csrf", &csrf),
                ("date", "2026-12-20"),
                ("due_reason", "Our admin is away"),
            ],
        )
        .await;
    assert_eq!(asked.status, 303, "{}", asked.body);
    task.to_string()
}

/// Clearing a stuck report and deciding a due-date request: 409 when there is nothing
/// to clear or decide, 422 naming the field, 404 for a request that does not exist,
/// 412 for a stale `If-Match`; nothing changes on a refusal.
#[tokio::test]
async fn help_routes_refuse_what_they_cannot_do() {
    let api = Api::start().await;
    let p = api.portal();
    let help = client_asks_for_help(&api).await;
    let hp = [p.clone(), help.clone()];
    let read = api
        .send(req(Method::GET, "/portals/{portal}/tasks/{task}", &hp))
        .await;
    let etag = read.page.header("etag");
    let decide = |n: &str, body: Value| {
        req(
            Method::POST,
            "/portals/{portal}/tasks/{task}/due-date-requests/{number}/decision",
            &[p.clone(), help.clone(), n.to_owned()],
        )
        .json(body)
    };
    let a = api
        .send(decide("1", json!({"approve": false})).header("if-match", etag.clone()))
        .await;
    assert_eq!(
        (a.status(), a.field()),
        (422, "note".to_owned()),
        "{}",
        a.page.body
    );
    let a = api
        .send(decide("1", json!({"approve": "yes"})).header("if-match", etag.clone()))
        .await;
    assert_eq!((a.status(), a.field()), (422, "approve".to_owned()));
    let a = api
        .send(decide("7", json!({"approve": true})).header("if-match", etag.clone()))
        .await;
    assert_eq!(a.status(), 404, "{}", a.page.body);
    let a = api
        .send(decide("1", json!({"approve": true})).header("if-match", "\"v1\""))
        .await;
    assert_eq!(a.status(), 412, "{}", a.page.body);
    let clear = || {
        req(
            Method::POST,
            "/portals/{portal}/tasks/{task}/stuck/clear",
            &hp,
        )
        .json(json!({"answer": "bell\u{7}"}))
    };
    let a = api.send(clear().header("if-match", etag.clone())).await;
    assert_eq!((a.status(), a.field()), (422, "answer".to_owned()));
    let unchanged = api
        .send(req(Method::GET, "/portals/{portal}/tasks/{task}", &hp))
        .await;
    assert_eq!(unchanged.page.header("etag"), etag, "nothing changed");
    // Cleared once; a second clear has nothing to clear.
    let ok = api
        .send(
            req(
                Method::POST,
                "/portals/{portal}/tasks/{task}/stuck/clear",
                &hp,
            )
            .json(json!({}))
            .header("if-match", etag),
        )
        .await;
    assert_eq!(ok.status(), 200, "{}", ok.page.body);
    let again = api
        .send(
            req(
                Method::POST,
                "/portals/{portal}/tasks/{task}/stuck/clear",
                &hp,
            )
            .json(json!({}))
            .header("if-match", "*"),
        )
        .await;
    assert_eq!(again.status(), 409, "{}", again.page.body);
    // A member (not only admins) may decide; another tenant's key sees no request.
    let queue = api
        .send(req(Method::GET, "/due-date-requests", &[]).as_(Some("other-admin")))
        .await;
    assert_eq!(queue.status(), 200, "{}", queue.page.body);
    assert_eq!(queue.json["items"], json!([]));
}

/// The client signs a new signature task with a drawn PNG; answers the task id
/// and the PNG.
/// A signature task nobody signed yet.
async fn unsigned_signature(api: &Api) -> String {
    let h = &api.h;
    let phase = h
        .service
        .add_phase(&h.staff, h.portal.id, "Policies")
        .await
        .unwrap()
        .id;
    h.service
        .add_task(
            &h.staff,
            h.portal.id,
            phase,
            portal_core::TaskSpec {
                title: "Sign the acceptable use policy".into(),
                description: String::new(),
                assignee: portal_core::model::Side::Client,
                kind: portal_core::model::TaskKind::Signature {
                    document: None,
                    consent: None,
                },
                due_date: None,
            },
        )
        .await
        .unwrap()
        .id
        .to_string()
}

async fn signed_signature(api: &Api) -> (String, Vec<u8>) {
    let h = &api.h;
    let phase = h
        .service
        .add_phase(&h.staff, h.portal.id, "Agreement")
        .await
        .unwrap()
        .id;
    let task = h
        .service
        .add_task(
            &h.staff,
            h.portal.id,
            phase,
            portal_core::TaskSpec {
                title: "Sign the data processing agreement".into(),
                description: String::new(),
                assignee: portal_core::model::Side::Client,
                kind: portal_core::model::TaskKind::Signature {
                    document: None,
                    consent: None,
                },
                due_date: None,
            },
        )
        .await
        .unwrap()
        .id;
    let client = h.browser();
    h.sign_in(&client).await;
    let csrf = client.get(&format!("/tasks/{task}")).await.csrf();
    let png = crate::signatures::stroke();
    let sent = client
        .post(
            &format!("/tasks/{task}/signature"),
            &[
                ("csrf", &csrf),
                ("drawn", &crate::signatures::data_url(&png)),
                ("consent", "1"),
            ],
        )
        .await;
    assert_eq!(sent.status, 303, "{}", sent.body);
    (task.to_string(), png)
}

/// The signature routes: the evidence (JSON shape), the image, verify-a-document,
/// and what each refuses.
#[tokio::test]
async fn signature_routes() {
    let api = Api::start().await;
    let (task, png) = signed_signature(&api).await;
    let sp = [api.portal(), task.clone()];
    let evidence = api
        .send(req(Method::GET, "/portals/{portal}/tasks/{task}/signature", &sp).as_(Some("member")))
        .await;
    assert_eq!(evidence.status(), 200, "{}", evidence.page.body);
    assert_eq!(evidence.json["intact"], true);
    assert_eq!(evidence.json["parts"]["mark"], "matches");
    assert_eq!(evidence.json["signature"]["method"], "drawn");
    assert!(evidence.json["audit_event"]["seq"].as_u64().unwrap() >= 1);
    let image = api
        .send(req(
            Method::GET,
            "/portals/{portal}/tasks/{task}/signature/image",
            &sp,
        ))
        .await;
    assert_eq!(image.status(), 200);
    assert_eq!(&image.page.raw[..], &png[..]);
    assert_eq!(image.page.header("content-type"), "image/png");
    // Unsigned task, another MSP, no credentials.
    let unsigned = api
        .send(req(
            Method::GET,
            "/portals/{portal}/tasks/{task}/signature",
            &[api.portal(), api.task("standard")],
        ))
        .await;
    assert_eq!(unsigned.status(), 404, "{}", unsigned.page.body);
    let theirs = api
        .send(
            req(Method::GET, "/portals/{portal}/tasks/{task}/signature", &sp)
                .as_(Some("other-admin")),
        )
        .await;
    assert_eq!(theirs.status(), 404);
    let anonymous = api
        .send(req(Method::GET, "/portals/{portal}/tasks/{task}/signature", &sp).as_(None))
        .await;
    assert_eq!(anonymous.status(), 401);
    // Verify a document: no document was signed here, so nothing matches; bad base64
    // is 422 naming the field.
    let check = api
        .send(
            req(Method::POST, "/signatures/verify-document", &[])
                .json(json!({"data_base64": "JVBERi0xLjcKJSVFT0YK"})),
        )
        .await;
    assert_eq!(check.status(), 200, "{}", check.page.body);
    assert_eq!(check.json["signed"], false);
    assert!(check.json["signatures"].as_array().unwrap().is_empty());
    let bad = api
        .send(
            req(Method::POST, "/signatures/verify-document", &[])
                .json(json!({"data_base64": "%%%"})),
        )
        .await;
    assert_eq!(bad.status(), 422);
    assert_eq!(bad.field(), "data_base64");
    let filters = vec![
        (
            r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}",
            "[id]",
        ),
        (r#""[0-9a-f]{64}""#, "\"[hash]\""),
        (r#""user_agent": "[^"]*""#, "\"user_agent\": \"[ua]\""),
        (r#""ip": "[^"]*""#, "\"ip\": \"[ip]\""),
    ];
    insta::with_settings!({filters => filters}, {
        insta::assert_snapshot!("admin_signature_evidence", serde_json::to_string_pretty(&evidence.json).unwrap());
    });
}

/// Reveal, purge, audit verify and export: what each refuses, and the JSON shapes.
#[tokio::test]
async fn credential_and_audit_routes() {
    let api = Api::start().await;
    let task = submitted_credentials(&api).await;
    let cp = [api.portal(), task.clone()];
    let reveal = "/portals/{portal}/tasks/{task}/credentials/reveal";
    // 422 names the reason, missing or blank; nothing is revealed or recorded.
    for body in [json!({}), json!({"reason": "   "}), json!({"reason": 7})] {
        let a = api
            .send(req(Method::POST, reveal, &cp).json(body.clone()))
            .await;
        assert_eq!(a.status(), 422, "{body}: {}", a.page.body);
        assert_eq!(a.field(), "reason", "{body}");
    }
    let export = |token| req(Method::GET, "/portals/{portal}/audit", &cp[..1]).as_(Some(token));
    let before = api.send(export("admin")).await;
    assert!(!before.page.body.contains("credentials_revealed"));
    // A member may verify, not reveal, purge or export.
    for r in [
        req(Method::POST, reveal, &cp).json(json!({"reason": "x"})),
        req(
            Method::DELETE,
            "/portals/{portal}/tasks/{task}/credentials",
            &cp,
        ),
        req(Method::GET, "/portals/{portal}/audit", &cp[..1]),
    ] {
        let a = api.send(r.as_(Some("member"))).await;
        assert_eq!(a.status(), 403, "{}", a.page.body);
    }
    let verify = api
        .send(req(Method::GET, "/portals/{portal}/audit/verify", &cp[..1]).as_(Some("member")))
        .await;
    assert_eq!(verify.status(), 200);
    // Another MSP's admin: not found, even with the right ids.
    let theirs = api
        .send(
            req(Method::POST, reveal, &cp)
                .as_(Some("other-admin"))
                .json(json!({"reason": "x"})),
        )
        .await;
    assert_eq!(theirs.status(), 404);
    // A task of this portal without credentials: not found.
    let none = api
        .send(
            req(Method::POST, reveal, &[api.portal(), api.task("standard")])
                .json(json!({"reason": "x"})),
        )
        .await;
    assert_eq!(none.status(), 404, "{}", none.page.body);
    // Success, not cacheable, recorded with its reason.
    let revealed = api
        .send(req(Method::POST, reveal, &cp).json(json!({"reason": "Migrating the firewall"})))
        .await;
    assert_eq!(revealed.status(), 200, "{}", revealed.page.body);
    assert_eq!(revealed.page.header("cache-control"), "no-store");
    let after = api.send(export("admin")).await;
    assert_eq!(after.status(), 200);
    assert!(after.page.body.contains("Migrating the firewall"));
    assert!(!after.page.body.contains("correct horse battery"));
    let lines = after.page.body.lines().count();
    assert!(lines > before.page.body.lines().count());
    // Purge: 204, then the values are gone (409 to reveal, 409 to purge again).
    let purge = req(
        Method::DELETE,
        "/portals/{portal}/tasks/{task}/credentials",
        &cp,
    );
    assert_eq!(api.send(purge).await.status(), 204);
    let again = api
        .send(req(
            Method::DELETE,
            "/portals/{portal}/tasks/{task}/credentials",
            &cp,
        ))
        .await;
    assert_eq!(again.status(), 409, "{}", again.page.body);
    let gone = api
        .send(req(Method::POST, reveal, &cp).json(json!({"reason": "once more"})))
        .await;
    assert_eq!(gone.status(), 409, "{}", gone.page.body);
    let verified = api
        .send(req(Method::GET, "/portals/{portal}/audit/verify", &cp[..1]))
        .await;
    assert_eq!(verified.json["intact"], true);
    assert_eq!(
        verified.json["events"].as_u64().unwrap(),
        api.send(export("admin")).await.page.body.lines().count() as u64
    );
    let filters = vec![
        (
            r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}",
            "[id]",
        ),
        (r#""[0-9a-f]{64}""#, "\"[hash]\""),
    ];
    insta::with_settings!({filters => filters}, {
        insta::assert_snapshot!("admin_credentials_revealed", serde_json::to_string_pretty(&revealed.json).unwrap());
        insta::assert_snapshot!("admin_audit_verify", serde_json::to_string_pretty(&verified.json).unwrap());
    });
}

async fn a_template(api: &Api, token: &str) -> String {
    let made = api
        .send(
            req(Method::POST, "/templates", &[])
                .as_(Some(token))
                .json(json!({"name": "Standard", "phases": [
                    {"name": "Kickoff", "tasks": [
                        {"title": "Kickoff call", "assignee": "msp", "kind": {"type": "standard"}, "due_offset_days": 1},
                    ]},
                ]})),
        )
        .await;
    assert_eq!(made.status(), 201, "{}", made.page.body);
    made.json["id"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn plan_and_template_routes_refuse_bad_input_stale_versions_and_other_tenants() {
    let api = Api::start().await;
    let p = api.portal();
    let tp = [p.clone(), api.task("standard")];
    let plan = api
        .send(req(
            Method::GET,
            "/portals/{portal}/plan",
            std::slice::from_ref(&p),
        ))
        .await;
    assert_eq!(plan.status(), 200);
    let phase = plan.json["phases"][0]["id"].as_str().unwrap().to_owned();
    let php = [p.clone(), phase.clone()];
    let tpl = a_template(&api, "admin").await;
    let tplp = [tpl.clone()];
    // 422 naming the field.
    let cases: Vec<(Req<'_>, &str)> = vec![
        (
            req(Method::PATCH, "/portals/{portal}/tasks/{task}", &tp).json(json!({})),
            "body",
        ),
        (
            req(Method::PATCH, "/portals/{portal}/tasks/{task}", &tp).json(json!({"title": " "})),
            "title",
        ),
        (
            req(Method::PATCH, "/portals/{portal}/tasks/{task}", &tp)
                .json(json!({"due_date": "soon"})),
            "due_date",
        ),
        (
            req(Method::PATCH, "/portals/{portal}/tasks/{task}", &tp)
                .json(json!({"assigned_to": ["x"]})),
            "assigned_to",
        ),
        (
            req(Method::PATCH, "/portals/{portal}/tasks/{task}", &tp)
                .json(json!({"waits_on": [api.task("standard")]})),
            "waits_on",
        ),
        (
            req(Method::PATCH, "/portals/{portal}/tasks/{task}", &tp)
                .json(json!({"internal": "yes"})),
            "internal",
        ),
        (
            req(Method::PATCH, "/portals/{portal}/tasks/{task}", &tp)
                .json(json!({"for_role": "x".repeat(41)})),
            "for_role",
        ),
        (
            req(Method::PATCH, "/portals/{portal}/tasks/{task}", &tp)
                .json(json!({"for_role": 7})),
            "for_role",
        ),
        (
            req(Method::PATCH, "/portals/{portal}/contacts/{contact}", &[p.clone(), api.h.contact.id.to_string()])
                .json(json!({"name": "Dana", "email": "dana@contoso.example", "role": "bad\u{7}role"})),
            "role",
        ),
        (
            req(Method::PATCH, "/portals/{portal}/contacts/{contact}", &[p.clone(), api.h.contact.id.to_string()])
                .json(json!({"name": "Dana", "email": "dana@contoso.example", "role": 3})),
            "role",
        ),
        (
            req(Method::POST, "/templates", &[]).json(json!({"name": "Roles", "phases": [
                {"name": "Kickoff", "tasks": [
                    {"title": "Kickoff call", "assignee": "msp", "kind": {"type": "standard"}, "for_role": "billing"},
                ]},
            ]})),
            "for_role",
        ),
        (
            req(Method::POST, "/portals/{portal}/tasks/{task}/move", &tp)
                .json(json!({"phase": random_id(), "position": 0})),
            "phase",
        ),
        (
            req(Method::POST, "/portals/{portal}/tasks/{task}/move", &tp)
                .json(json!({"phase": phase})),
            "position",
        ),
        (
            req(Method::PATCH, "/portals/{portal}/phases/{phase}", &php).json(json!({"name": ""})),
            "name",
        ),
        (
            req(Method::POST, "/portals/{portal}/phases/{phase}/move", &php)
                .json(json!({"position": -1})),
            "position",
        ),
        (
            req(Method::DELETE, "/portals/{portal}/phases/{phase}", &php).query("with_tasks=maybe"),
            "with_tasks",
        ),
        (
            req(Method::POST, "/templates", &[]).json(json!({"name": "", "phases": []})),
            "name",
        ),
        (
            req(Method::POST, "/templates", &[])
                .json(json!({"name": "X", "phases": [{"name": "P"}]})),
            "phases",
        ),
        (
            req(Method::PUT, "/templates/{template}", &tplp).json(json!({"name": "X"})),
            "phases",
        ),
        (
            req(Method::POST, "/templates/{template}/copy", &tplp).json(json!({})),
            "name",
        ),
        (
            req(Method::POST, "/templates/{template}/portals", &tplp)
                .json(json!({"client_name": "Contoso"})),
            "start_date",
        ),
        (
            req(Method::POST, "/templates/{template}/portals", &tplp)
                .json(json!({"start_date": "2026-12-07"})),
            "client_name",
        ),
        (
            req(Method::POST, "/templates/{template}/portals", &tplp).json(
                json!({"client_name": "Contoso", "start_date": "2026-12-07", "status": "completed"}),
            ),
            "status",
        ),
    ];
    for (r, field) in cases {
        let what = format!("{} {} {:?}", r.method, r.template, r.body);
        let a = api.send(r.header("if-match", "*")).await;
        assert_eq!(a.status(), 422, "{what}: {}", a.page.body);
        assert_eq!(a.field(), field, "{what}: {}", a.page.body);
    }
    // A stale If-Match is 412 on every update, and changes nothing.
    let task = api
        .send(req(Method::GET, "/portals/{portal}/tasks/{task}", &tp))
        .await;
    let old = task.page.header("etag");
    let first = api
        .send(
            req(Method::PATCH, "/portals/{portal}/tasks/{task}", &tp)
                .json(json!({"title": "First edit"}))
                .header("if-match", old.clone()),
        )
        .await;
    assert_eq!(first.status(), 200, "{}", first.page.body);
    let stale: Vec<Req<'_>> = vec![
        req(Method::PATCH, "/portals/{portal}/tasks/{task}", &tp).json(json!({"title": "Lost"})),
        req(Method::POST, "/portals/{portal}/tasks/{task}/move", &tp)
            .json(json!({"phase": phase, "position": 0})),
        req(Method::DELETE, "/portals/{portal}/tasks/{task}", &tp),
    ];
    for r in stale {
        let what = format!("{} {}", r.method, r.template);
        let a = api.send(r.header("if-match", old.clone())).await;
        assert_eq!(a.status(), 412, "{what}: {}", a.page.body);
        let missing = api
            .send(req(Method::GET, "/portals/{portal}/tasks/{task}", &tp))
            .await;
        assert_eq!(
            missing.json["title"], "First edit",
            "{what} changed nothing"
        );
    }
    for r in [
        req(Method::PATCH, "/portals/{portal}/phases/{phase}", &php).json(json!({"name": "Lost"})),
        req(Method::POST, "/portals/{portal}/phases/{phase}/move", &php)
            .json(json!({"position": 1})),
        req(Method::DELETE, "/portals/{portal}/phases/{phase}", &php),
    ] {
        let a = api.send(r.header("if-match", "\"v99\"")).await;
        assert_eq!(a.status(), 412, "{}", a.page.body);
    }
    for r in [
        req(Method::PATCH, "/templates/{template}", &tplp).json(json!({"name": "Lost"})),
        req(Method::PUT, "/templates/{template}", &tplp)
            .json(json!({"name": "Lost", "phases": []})),
    ] {
        let a = api.send(r.header("if-match", "\"v2\"")).await;
        assert_eq!(a.status(), 412, "{}", a.page.body);
        let a = api
            .send(req(Method::PATCH, "/templates/{template}", &tplp).json(json!({"name": "Lost"})))
            .await;
        assert_eq!(a.status(), 428);
    }
    let kept = api
        .send(req(Method::GET, "/templates/{template}", &tplp))
        .await;
    assert_eq!(
        (kept.json["name"].as_str(), kept.json["version"].as_u64()),
        (Some("Standard"), Some(1))
    );
    // Another tenant's template is not found, for every template route, and nothing changes.
    let theirs = a_template(&api, "other-admin").await;
    for (method, template, op) in routes(&api.doc) {
        if !template.starts_with("/templates/{template}") {
            continue;
        }
        let mut r =
            req(method.clone(), &template, std::slice::from_ref(&theirs)).header("if-match", "*");
        if let Some(b) = body_for(&op) {
            r = r.json(b);
        }
        let a = api.send(r).await;
        assert_eq!(a.status(), 404, "{method} {template}: {}", a.page.body);
    }
    let mine = api.send(req(Method::GET, "/templates", &[])).await;
    assert_eq!(
        mine.json["items"].as_array().unwrap().len(),
        1,
        "only my template"
    );
    let still = api
        .send(
            req(
                Method::GET,
                "/templates/{template}",
                std::slice::from_ref(&theirs),
            )
            .as_(Some("other-admin")),
        )
        .await;
    assert_eq!(
        (still.json["name"].as_str(), still.json["version"].as_u64()),
        (Some("Standard"), Some(1))
    );
    // Creating requests replay under an Idempotency-Key and create nothing twice.
    let tenant = api.h.portal.tenant_id;
    let portals_before = api.h.store.portals(tenant).await.unwrap().len();
    let create = || {
        req(Method::POST, "/templates", &[])
            .json(json!({"name": "Replayed", "phases": []}))
            .header("idempotency-key", "t-1")
    };
    let (a, b) = (api.send(create()).await, api.send(create()).await);
    assert_eq!(
        (a.status(), b.status(), a.page.body == b.page.body),
        (201, 201, true)
    );
    assert_eq!(b.page.header("idempotent-replayed"), "true");
    let copy = || {
        req(Method::POST, "/templates/{template}/copy", &tplp)
            .json(json!({"name": "Copied once"}))
            .header("idempotency-key", "c-9")
    };
    let (a, b) = (api.send(copy()).await, api.send(copy()).await);
    assert_eq!(
        (a.status(), b.status(), a.page.body == b.page.body),
        (201, 201, true)
    );
    let from = || {
        req(Method::POST, "/templates/{template}/portals", &tplp)
            .json(json!({"client_name": "Contoso", "start_date": "2026-12-07"}))
            .header("idempotency-key", "p-9")
    };
    let (a, b) = (api.send(from()).await, api.send(from()).await);
    assert_eq!(
        (a.status(), b.status(), a.page.body == b.page.body),
        (201, 201, true)
    );
    assert_eq!(b.page.header("location"), a.page.header("location"));
    let mut names: Vec<String> = api
        .h
        .service
        .templates(&api.h.staff, None, 100)
        .await
        .unwrap()
        .items
        .into_iter()
        .map(|t| t.name)
        .collect();
    names.sort();
    assert_eq!(names, ["Copied once", "Replayed", "Standard"]);
    assert_eq!(
        api.h.store.portals(tenant).await.unwrap().len(),
        portals_before + 1
    );
}

/// Two staff editing the same task from the same ETag: the store compares the version
/// inside its unit, so exactly one edit lands and the other is told it is stale.
#[tokio::test]
async fn a_logo_near_the_core_limit_fits_the_routes_body_limit() {
    use base64::Engine as _;
    use portal_core::model::Logo;
    let api = Api::start().await;
    let b64 = base64::engine::general_purpose::STANDARD;
    let png = b64.decode(PNG_BASE64).unwrap();
    let logo_of = |len: usize| {
        let mut bytes = png.clone();
        bytes.resize(len, 0);
        json!({ "data_base64": b64.encode(&bytes) })
    };
    // Far beyond the 64 KiB form limit, just under the core's logo limit.
    let near = api
        .send(req(Method::POST, "/tenant/logo", &[]).json(logo_of(Logo::MAX_BYTES - 8)))
        .await;
    assert!(near.status() < 300, "{}: {}", near.status(), near.page.body);
    assert_eq!(near.json["image_type"], "png");
    // One byte over: refused, by the body limit or by the core's check.
    let over = api
        .send(req(Method::POST, "/tenant/logo", &[]).json(logo_of(Logo::MAX_BYTES + 1)))
        .await;
    assert!(
        [413, 422].contains(&over.status()),
        "{}: {}",
        over.status(),
        over.page.body
    );
}

#[tokio::test]
async fn two_patches_racing_from_one_etag_one_wins_one_is_stale() {
    let api = Api::start().await;
    let tp = [api.portal(), api.task("standard")];
    for round in 0..5 {
        let read = api
            .send(req(Method::GET, "/portals/{portal}/tasks/{task}", &tp))
            .await;
        let tag = read.page.header("etag");
        let edit = |title: String| {
            req(Method::PATCH, "/portals/{portal}/tasks/{task}", &tp)
                .json(json!({"title": title}))
                .header("if-match", tag.clone())
        };
        let (a, b) = tokio::join!(
            api.send(edit(format!("Alice {round}"))),
            api.send(edit(format!("Bob {round}")))
        );
        let mut statuses = [a.status(), b.status()];
        statuses.sort_unstable();
        assert_eq!(statuses, [200, 412], "{} / {}", a.page.body, b.page.body);
        let winner = if a.status() == 200 { &a } else { &b };
        let now = api
            .send(req(Method::GET, "/portals/{portal}/tasks/{task}", &tp))
            .await;
        assert_eq!(now.json["title"], winner.json["title"]);
        assert_eq!(
            now.json["version"],
            read.json["version"].as_u64().unwrap() + 1
        );
    }
}

#[tokio::test]
async fn two_portal_and_tenant_patches_racing_from_one_etag_one_wins() {
    let api = Api::start().await;
    let portal = [api.portal()];
    for round in 0..5 {
        let read = api
            .send(req(Method::GET, "/portals/{portal}", &portal))
            .await;
        let tag = read.page.header("etag");
        let edit = |name: String| {
            req(Method::PATCH, "/portals/{portal}", &portal)
                .json(json!({"client_name": name}))
                .header("if-match", tag.clone())
        };
        let (a, b) = tokio::join!(
            api.send(edit(format!("Alice {round}"))),
            api.send(edit(format!("Bob {round}")))
        );
        let mut statuses = [a.status(), b.status()];
        statuses.sort_unstable();
        assert_eq!(statuses, [200, 412], "{} / {}", a.page.body, b.page.body);
        let winner = if a.status() == 200 { &a } else { &b };
        let now = api
            .send(req(Method::GET, "/portals/{portal}", &portal))
            .await;
        assert_eq!(now.json["client_name"], winner.json["client_name"]);
        assert_eq!(
            now.json["version"],
            read.json["version"].as_u64().unwrap() + 1
        );
    }
    let read = api.send(req(Method::GET, "/tenant", &[])).await;
    let tag = read.page.header("etag");
    let edit = |name: &str| {
        req(Method::PATCH, "/tenant", &[])
            .json(json!({"name": name}))
            .header("if-match", tag.clone())
    };
    let (a, b) = tokio::join!(api.send(edit("Alice MSP")), api.send(edit("Bob MSP")));
    let mut statuses = [a.status(), b.status()];
    statuses.sort_unstable();
    assert_eq!(statuses, [200, 412], "{} / {}", a.page.body, b.page.body);
}

/// The activity feed and the access log are paged by key in the store: entries
/// added between pages never shift the next page (every entry of the first read
/// comes exactly once, in order), and a cursor that is not one of this list's is
/// 422 naming `cursor`.
#[tokio::test]
async fn the_feed_and_the_access_log_page_by_key() {
    use base64::Engine as _;
    let api = Api::start().await;
    let portal = [api.portal()];
    for i in 0..7 {
        api.h
            .service
            .rename_portal(&api.h.staff, api.h.portal.id, &format!("Name {i}"))
            .await
            .unwrap();
    }
    let full = api
        .send(req(Method::GET, "/portals/{portal}/activity", &portal).query("limit=100"))
        .await;
    assert_eq!(full.status(), 200, "{}", full.page.body);
    let all = full.json["items"].as_array().unwrap().clone();
    assert!(all.len() >= 7);
    let mut seen: Vec<Value> = Vec::new();
    let mut cursor: Option<String> = None;
    for round in 0.. {
        assert!(round < 100, "paging never ends");
        let q = match &cursor {
            Some(c) => format!("limit=2&cursor={c}"),
            None => "limit=2".to_owned(),
        };
        let page = api
            .send(req(Method::GET, "/portals/{portal}/activity", &portal).query(&q))
            .await;
        assert_eq!(page.status(), 200, "{}", page.page.body);
        seen.extend(page.json["items"].as_array().unwrap().iter().cloned());
        match page.json["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_owned()),
            None => break,
        }
        // Someone renames the portal between two pages: a newer entry.
        api.h
            .service
            .rename_portal(&api.h.staff, api.h.portal.id, &format!("Between {round}"))
            .await
            .unwrap();
    }
    let originals: Vec<&Value> = seen.iter().filter(|e| all.contains(e)).collect();
    assert_eq!(
        originals,
        all.iter().collect::<Vec<_>>(),
        "every entry of the first read exactly once, in order"
    );
    assert!(
        seen.iter()
            .all(|e| !e["subject"].as_str().unwrap_or("").starts_with("Between")),
        "entries newer than the first page do not slip into later pages"
    );
    let tampered = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode("k1:x:0:1");
    let offset = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode("o:2");
    for path in ["/portals/{portal}/activity", "/portals/{portal}/access-log"] {
        for bad in [tampered.as_str(), offset.as_str(), "%%%"] {
            let q = format!("cursor={bad}");
            let refused = api.send(req(Method::GET, path, &portal).query(&q)).await;
            assert_eq!(refused.status(), 422, "{path} {bad}: {}", refused.page.body);
            assert_eq!(refused.field(), "cursor");
        }
    }
    let log = api
        .send(req(Method::GET, "/portals/{portal}/access-log", &portal).query("limit=1"))
        .await;
    assert_eq!(log.status(), 200, "{}", log.page.body);
}

/// Every staff use case of the core is reachable over the API: the document names,
/// per operation, the use cases it calls (`x-use-cases`), and together they are the
/// core's list of staff use cases, no more, no fewer.
#[tokio::test]
async fn every_staff_use_case_has_a_route() {
    let api = Api::start().await;
    let mut covered = std::collections::BTreeSet::new();
    for (method, template, op) in routes(&api.doc) {
        for u in op["x-use-cases"].as_array().unwrap() {
            let u = u.as_str().unwrap().to_owned();
            assert!(
                portal_core::conformance::STAFF_USE_CASES.contains(&u.as_str()),
                "{method} {template} names {u}, which is not a staff use case"
            );
            covered.insert(u);
        }
    }
    let missing: Vec<&&str> = portal_core::conformance::STAFF_USE_CASES
        .iter()
        .filter(|u| !covered.contains(**u))
        .collect();
    assert!(
        missing.is_empty(),
        "staff use cases without a route: {missing:?}"
    );
}

/// Reads a keyset list through the API, `limit=2` a page, calling `between` after
/// every page that has a next; returns the items the pages held.
async fn read_pages<F, Fut>(api: &Api, path: &str, params: &[String], between: F) -> Vec<Value>
where
    F: Fn(usize) -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    for round in 0.. {
        assert!(round < 100, "paging never ends");
        let q = match &cursor {
            Some(c) => format!("limit=2&cursor={c}"),
            None => "limit=2".to_owned(),
        };
        let page = api.send(req(Method::GET, path, params).query(&q)).await;
        assert_eq!(page.status(), 200, "{path}: {}", page.page.body);
        seen.extend(page.json["items"].as_array().unwrap().iter().cloned());
        match page.json["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_owned()),
            None => break,
        }
        between(round).await;
    }
    seen
}

/// The ids of a list's items, in order.
fn ids_of(items: &[Value]) -> Vec<String> {
    items
        .iter()
        .map(|i| i["id"].as_str().unwrap().to_owned())
        .collect()
}

/// Portals, contacts and templates are paged by key in the store: records created
/// (and, for contacts, removed) between two page reads never make a record of the
/// first read repeat or go missing, and their cursors are refused elsewhere as an
/// offset list's would be.
#[tokio::test]
async fn portals_contacts_and_templates_page_by_key() {
    use base64::Engine as _;
    let api = Api::start().await;
    let s = &api.h.service;
    let staff = &api.h.staff;
    for i in 0..5 {
        s.create_portal(staff, &format!("Client {i}"), PortalStatus::Draft)
            .await
            .unwrap();
        s.add_contact(
            staff,
            api.h.portal.id,
            &format!("Person {i}"),
            &format!("p{i}@contoso.example"),
        )
        .await
        .unwrap();
        s.create_template(staff, &format!("{} template", 9 - i), Vec::new())
            .await
            .unwrap();
    }
    let portal = [api.portal()];
    for (path, params) in [
        ("/portals", &[][..]),
        ("/portals/{portal}/contacts", &portal[..]),
        ("/templates", &[][..]),
    ] {
        let full = api
            .send(req(Method::GET, path, params).query("limit=100"))
            .await;
        assert_eq!(full.status(), 200, "{path}: {}", full.page.body);
        let all = ids_of(full.json["items"].as_array().unwrap());
        assert!(all.len() >= 5, "{path}");
        let first_contact = all[0].clone();
        let round_made = std::cell::Cell::new(0);
        let seen = read_pages(&api, path, params, |round| {
            let first_contact = first_contact.clone();
            round_made.set(round_made.get() + 1);
            async move {
                // Something new between every two pages, and on the contacts list
                // one already read is removed.
                match path {
                    "/portals" => {
                        s.create_portal(staff, &format!("Between {round}"), PortalStatus::Draft)
                            .await
                            .unwrap();
                    }
                    "/templates" => {
                        s.create_template(staff, &format!("0 between {round}"), Vec::new())
                            .await
                            .unwrap();
                    }
                    _ => {
                        s.add_contact(
                            staff,
                            api.h.portal.id,
                            "Between",
                            &format!("between{round}@contoso.example"),
                        )
                        .await
                        .unwrap();
                        if round == 0 {
                            s.remove_contact(staff, first_contact.parse().unwrap())
                                .await
                                .unwrap();
                        }
                    }
                }
            }
        })
        .await;
        assert!(round_made.get() >= 2, "{path} took several pages");
        let seen_ids = ids_of(&seen);
        let distinct: std::collections::HashSet<&String> = seen_ids.iter().collect();
        assert_eq!(distinct.len(), seen_ids.len(), "{path}: nothing twice");
        // The removed contact was on the first page, read before it went: its
        // removal must not make the next page skip one.
        let originals: Vec<&String> = seen_ids.iter().filter(|id| all.contains(id)).collect();
        assert_eq!(
            originals,
            all.iter().collect::<Vec<_>>(),
            "{path}: every record of the first read once, in order"
        );
        let offset = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode("o:2");
        let refused = api
            .send(req(Method::GET, path, params).query(&format!("cursor={offset}")))
            .await;
        assert_eq!(refused.status(), 422, "{path}: {}", refused.page.body);
        assert_eq!(refused.field(), "cursor");
    }
}

/// A contact's `ETag` is its record's content tag: a client signing in (its last
/// access) leaves it alone, an edit or a revocation moves it; an edit with a tag
/// read before either is 412 and changes nothing; `*` edits whatever is current.
#[tokio::test]
async fn a_contacts_etag_guards_its_edits() {
    let api = Api::start().await;
    let cp = [api.portal(), api.h.contact.id.to_string()];
    let path = "/portals/{portal}/contacts/{contact}";
    let read = api.send(req(Method::GET, path, &cp)).await;
    assert_eq!(read.status(), 200, "{}", read.page.body);
    let tag = read.page.header("etag");
    assert!(tag.starts_with("\"c"), "{tag}");
    // The client signs in: the contact's last access moves, its ETag does not.
    let client = api.h.browser();
    sign_in_over_http(&client, &api.h.invite_path(), || {
        code_in(&api.h.last_email_text())
    })
    .await;
    client.get("/").await;
    let again = api.send(req(Method::GET, path, &cp)).await;
    assert_ne!(again.json["last_access"], read.json["last_access"]);
    assert_eq!(
        again.page.header("etag"),
        tag,
        "the client's sign-in is no edit"
    );
    let edit = |tag: String, name: &str| {
        req(Method::PATCH, path, &cp)
            .json(json!({"name": name, "email": "dana@contoso.example"}))
            .header("if-match", tag)
    };
    let missing = api
        .send(
            req(Method::PATCH, path, &cp)
                .json(json!({"name": "Dana", "email": "dana@contoso.example"})),
        )
        .await;
    assert_eq!(missing.status(), 428, "{}", missing.page.body);
    let edited = api.send(edit(tag.clone(), "Dana")).await;
    assert_eq!(edited.status(), 200, "{}", edited.page.body);
    let moved = edited.page.header("etag");
    assert_ne!(moved, tag, "an edit moves the ETag");
    assert_eq!(
        api.send(req(Method::GET, path, &cp))
            .await
            .page
            .header("etag"),
        moved,
        "the answer's ETag is the one a read gives"
    );
    let stale = api.send(edit(tag, "Lost update")).await;
    assert_eq!(stale.status(), 412, "{}", stale.page.body);
    assert_eq!(
        stale.json["type"],
        "https://portal.example/problems/precondition-failed"
    );
    // A revocation by someone else moves it too.
    api.h
        .service
        .revoke_contact(&api.h.staff, api.h.contact.id)
        .await
        .unwrap();
    let after_revoke = api.send(edit(moved, "Overwrites?")).await;
    assert_eq!(after_revoke.status(), 412, "{}", after_revoke.page.body);
    let c = api.h.store.contact(api.h.contact.id).await.unwrap();
    assert_eq!(c.name, "Dana", "stale edits changed nothing");
    let star = api.send(edit("*".to_owned(), "Dana B.")).await;
    assert_eq!(star.status(), 200, "{}", star.page.body);
    assert_eq!(star.json["name"], "Dana B.");
}

/// A PATCH that changes several fields is one store unit: the record's version steps
/// once, and a PATCH whose later field is refused (by the API or by the core's
/// rules) changes none of them.
#[tokio::test]
async fn a_multi_field_patch_is_all_or_nothing() {
    let api = Api::start().await;
    // A task: a valid title with a dependency on itself (a cycle the core refuses).
    let tp = [api.portal(), api.task("standard")];
    let task_path = "/portals/{portal}/tasks/{task}";
    let read = api.send(req(Method::GET, task_path, &tp)).await;
    let tag = read.page.header("etag");
    let before = read.json.clone();
    for (body, field) in [
        (
            json!({"title": "Renamed", "waits_on": [api.task("standard")]}),
            "waits_on",
        ),
        (
            json!({"title": "Renamed", "assigned_to": [random_id()]}),
            "assigned_to",
        ),
        (
            json!({"title": "Renamed", "due_date": "someday"}),
            "due_date",
        ),
    ] {
        let refused = api
            .send(
                req(Method::PATCH, task_path, &tp)
                    .json(body.clone())
                    .header("if-match", tag.clone()),
            )
            .await;
        assert_eq!(refused.status(), 422, "{body}: {}", refused.page.body);
        assert_eq!(refused.field(), field, "{body}");
        let now = api.send(req(Method::GET, task_path, &tp)).await;
        assert_eq!(now.json, before, "{body}: nothing changed");
        assert_eq!(now.page.header("etag"), tag);
    }
    let both = api
        .send(
            req(Method::PATCH, task_path, &tp)
                .json(json!({"title": "Renamed", "due_date": "2027-01-15", "description": "New"}))
                .header("if-match", tag.clone()),
        )
        .await;
    assert_eq!(both.status(), 200, "{}", both.page.body);
    assert_eq!(
        both.json["version"],
        before["version"].as_u64().unwrap() + 1,
        "three fields, one version step"
    );
    assert_eq!(both.json["title"], "Renamed");
    assert_eq!(both.json["due_date"], "2027-01-15");

    // A portal: three fields in one unit, one version step; a later bad field
    // changes nothing.
    let pp = [api.portal()];
    let read = api.send(req(Method::GET, "/portals/{portal}", &pp)).await;
    let tag = read.page.header("etag");
    let version = read.json["version"].as_u64().unwrap();
    let feed_before = api
        .send(req(Method::GET, "/portals/{portal}/activity", &pp).query("limit=100"))
        .await
        .json["items"]
        .as_array()
        .unwrap()
        .len();
    let refused = api
        .send(
            req(Method::PATCH, "/portals/{portal}", &pp)
                .json(json!({"client_name": "Contoso Dental", "status": "finished"}))
                .header("if-match", tag.clone()),
        )
        .await;
    assert_eq!(refused.status(), 422, "{}", refused.page.body);
    assert_eq!(refused.field(), "status");
    let p = api.h.store.portal(api.h.portal.id).await.unwrap();
    assert_eq!(p.version, version, "nothing written");
    assert_ne!(p.client_name, "Contoso Dental");
    let done = api
        .send(
            req(Method::PATCH, "/portals/{portal}", &pp)
                .json(json!({
                    "client_name": "Contoso Dental",
                    "target_date": "2027-03-01",
                    "status": "completed"
                }))
                .header("if-match", tag),
        )
        .await;
    assert_eq!(done.status(), 200, "{}", done.page.body);
    assert_eq!(
        done.json["version"],
        version + 1,
        "three fields, one version step"
    );
    assert_eq!(done.page.header("etag"), format!("\"v{}\"", version + 1));
    let p = api.h.store.portal(api.h.portal.id).await.unwrap();
    assert_eq!(p.client_name, "Contoso Dental");
    assert_eq!(p.status, PortalStatus::Completed);
    let feed_after = api
        .send(req(Method::GET, "/portals/{portal}/activity", &pp).query("limit=100"))
        .await
        .json["items"]
        .as_array()
        .unwrap()
        .len();
    assert_eq!(feed_after, feed_before + 3, "one feed entry per field");

    // A contact: a good name with a bad email changes nothing.
    let cp = [api.portal(), api.h.contact.id.to_string()];
    let path = "/portals/{portal}/contacts/{contact}";
    let read = api.send(req(Method::GET, path, &cp)).await;
    let refused = api
        .send(
            req(Method::PATCH, path, &cp)
                .json(json!({"name": "New name", "email": "not an email"}))
                .header("if-match", read.page.header("etag")),
        )
        .await;
    assert_eq!(refused.status(), 422, "{}", refused.page.body);
    assert_eq!(refused.field(), "email");
    let c = api.h.store.contact(api.h.contact.id).await.unwrap();
    assert_eq!(c.name, api.h.contact.name, "the name was not written alone");
}

/// A member creates portals as drafts (from scratch or from a template); opening one
/// at creation is the admin's, like any status change: 403 and nothing created.
#[tokio::test]
async fn a_member_creates_drafts_but_does_not_open_portals() {
    let api = Api::start().await;
    let count = async || {
        api.h
            .service
            .list_portals(&api.h.staff, None, 100)
            .await
            .unwrap()
            .items
            .len()
    };
    let before = count().await;
    let tpl = a_template(&api, "member").await;
    let tplp = [tpl];
    let start = "2027-01-04";
    let refused = [
        req(Method::POST, "/portals", &[])
            .json(json!({"client_name": "Opened by a member", "status": "active"})),
        req(Method::POST, "/templates/{template}/portals", &tplp).json(
            json!({"client_name": "Opened by a member", "start_date": start, "status": "active"}),
        ),
    ];
    for r in refused {
        let a = api.send(r.as_(Some("member"))).await;
        assert_eq!(a.status(), 403, "{}", a.page.body);
        assert_eq!(a.json["type"], "https://portal.example/problems/forbidden");
    }
    assert_eq!(count().await, before, "nothing created");
    let drafts = [
        req(Method::POST, "/portals", &[]).json(json!({"client_name": "Member draft"})),
        req(Method::POST, "/templates/{template}/portals", &tplp)
            .json(json!({"client_name": "Member draft 2", "start_date": start})),
    ];
    for r in drafts {
        let a = api.send(r.as_(Some("member"))).await;
        assert_eq!(a.status(), 201, "{}", a.page.body);
        assert_eq!(a.json["status"], "draft");
    }
    // The admin opens one at once.
    let opened = api
        .send(
            req(Method::POST, "/portals", &[])
                .json(json!({"client_name": "Opened", "status": "active"})),
        )
        .await;
    assert_eq!(opened.status(), 201, "{}", opened.page.body);
    assert_eq!(opened.json["status"], "active");
    assert_eq!(count().await, before + 3);
}

/// Fills a route's path parameters with this tenant's ids: the seeded portal and its
/// first contact, phase and "standard" task, `template` for a template, and a random
/// id elsewhere (a file, a checklist item).
async fn own_params(api: &Api, template_path: &str, template: &str) -> Vec<String> {
    let snapshot = api.h.store.portal_snapshot(api.h.portal.id).await.unwrap();
    let mut out = Vec::new();
    let endpoint = if template_path.contains("{endpoint}") {
        let made = api
            .send(
                req(Method::POST, "/webhooks/endpoints", &[])
                    .json(json!({ "url": "http://127.0.0.1:9/hooks" })),
            )
            .await;
        assert_eq!(made.status(), 201, "{}", made.page.body);
        made.json["endpoint"]["id"].as_str().unwrap().to_owned()
    } else {
        String::new()
    };
    for seg in template_path.split('/') {
        if !seg.starts_with('{') {
            continue;
        }
        out.push(match seg {
            "{portal}" => api.portal(),
            "{contact}" => api.h.contact.id.to_string(),
            "{phase}" => snapshot.phases[0].id.to_string(),
            "{task}" => api.task("standard"),
            "{template}" => template.to_owned(),
            "{endpoint}" => endpoint.clone(),
            _ => random_id(),
        });
    }
    out
}

/// Every route that needs `If-Match` answers a stale tag with 412 (before reading
/// its body) and changes nothing: not the portal, its plan, its feed, the tenant or
/// the template.
#[tokio::test]
async fn every_update_refuses_a_stale_if_match() {
    let api = Api::start().await;
    let template = a_template(&api, "admin").await;
    let tenant_before = api.h.store.tenant(api.h.portal.tenant_id).await.unwrap();
    let snapshot_before = api.h.store.portal_snapshot(api.h.portal.id).await.unwrap();
    let contact_before = api.h.store.contact(api.h.contact.id).await.unwrap();
    let template_before = api
        .send(req(
            Method::GET,
            "/templates/{template}",
            std::slice::from_ref(&template),
        ))
        .await
        .json;
    let feed = async || {
        api.h
            .service
            .staff_activity(&api.h.staff, api.h.portal.id, None, 1000)
            .await
            .unwrap()
            .items
            .len()
    };
    let feed_before = feed().await;
    let mut checked = 0;
    for (method, path, op) in routes(&api.doc) {
        let needs = op["parameters"]
            .as_array()
            .is_some_and(|ps| ps.iter().any(|p| p["name"] == "If-Match"));
        if !needs {
            continue;
        }
        let params = own_params(&api, &path, &template).await;
        for stale in ["\"v999999\"", "\"c000000000000000000000000\"", "\"stale\""] {
            let mut r = req(method.clone(), &path, &params).header("if-match", stale);
            if let Some(b) = body_for(&op) {
                r = r.json(b);
            }
            let a = api.send(r).await;
            assert_eq!(a.status(), 412, "{method} {path} {stale}: {}", a.page.body);
            assert_eq!(
                a.json["type"],
                "https://portal.example/problems/precondition-failed"
            );
        }
        checked += 1;
    }
    assert!(checked >= 15, "{checked} routes need If-Match");
    assert_eq!(
        api.h.store.tenant(api.h.portal.tenant_id).await.unwrap(),
        tenant_before
    );
    assert_eq!(
        api.h.store.portal_snapshot(api.h.portal.id).await.unwrap(),
        snapshot_before
    );
    assert_eq!(
        api.h.store.contact(api.h.contact.id).await.unwrap(),
        contact_before
    );
    assert_eq!(
        api.send(req(
            Method::GET,
            "/templates/{template}",
            std::slice::from_ref(&template)
        ))
        .await
        .json,
        template_before
    );
    assert_eq!(feed().await, feed_before, "no feed entry");
}

/// What creating requests could have created: portals, templates, the seeded
/// portal's contacts, phases and tasks, and the comments of its "standard" task.
async fn census(api: &Api) -> [usize; 6] {
    let s = &api.h.service;
    let staff = &api.h.staff;
    let snapshot = api.h.store.portal_snapshot(api.h.portal.id).await.unwrap();
    [
        s.list_portals(staff, None, 100).await.unwrap().items.len(),
        s.templates(staff, None, 100).await.unwrap().items.len(),
        s.list_contacts(staff, api.h.portal.id, None, 100)
            .await
            .unwrap()
            .items
            .len(),
        snapshot.phases.len(),
        snapshot.tasks.len(),
        s.staff_comments(staff, api.h.portal.id, api.h.tasks["standard"])
            .await
            .unwrap()
            .len(),
    ]
}

/// Every route that honours `Idempotency-Key`: the same key and body again replays
/// the first answer (status, body, `Idempotent-Replayed: true`) and creates nothing
/// more; another body under the key is 422.
#[tokio::test]
async fn every_creating_route_replays_an_idempotency_key() {
    let api = Api::start().await;
    let template = a_template(&api, "admin").await;
    let mut checked = 0;
    for (n, (method, path, op)) in routes(&api.doc).into_iter().enumerate() {
        let honours = op["parameters"]
            .as_array()
            .is_some_and(|ps| ps.iter().any(|p| p["name"] == "Idempotency-Key"));
        if !honours {
            continue;
        }
        let params = own_params(&api, &path, &template).await;
        let key = format!("retry-{n}");
        let body = body_for(&op).unwrap_or_else(|| json!({}));
        // A guest needs a real task of the portal to be shared.
        let body = if path == "/portals/{portal}/guests" {
            json!({
                "name": "Gill Guest",
                "email": "gill@previous-it.example",
                "organisation": "Previous IT",
                "task_ids": [api.task("standard")],
            })
        } else {
            body
        };
        let send = |body: Value| {
            req(method.clone(), &path, &params)
                .json(body)
                .header("idempotency-key", key.clone())
        };
        let before = census(&api).await;
        let first = api.send(send(body.clone())).await;
        assert!(first.status() < 300, "{method} {path}: {}", first.page.body);
        let after_first = census(&api).await;
        assert_ne!(after_first, before, "{method} {path} created something");
        let again = api.send(send(body.clone())).await;
        assert_eq!(again.status(), first.status(), "{method} {path}");
        assert_eq!(again.page.body, first.page.body, "{method} {path}");
        assert_eq!(again.page.header("idempotent-replayed"), "true");
        assert_eq!(
            census(&api).await,
            after_first,
            "{method} {path}: the replay created nothing"
        );
        let mut other = body.clone();
        other["name"] = json!("Another body");
        other["title"] = json!("Another body");
        other["client_name"] = json!("Another body");
        other["body"] = json!("Another body");
        let reused = api.send(send(other)).await;
        assert_eq!(
            reused.status(),
            422,
            "{method} {path}: {}",
            reused.page.body
        );
        assert_eq!(
            reused.json["type"],
            "https://portal.example/problems/idempotency-key-reused"
        );
        assert_eq!(census(&api).await, after_first);
        checked += 1;
    }
    assert!(checked >= 8, "{checked} creating routes");
}

/// The webhook routes, each answer checked against the document: an admin registers an
/// endpoint (its secret shown once, never in a later answer), reads, patches with
/// `If-Match`, rotates the secret, lists deliveries by key, replays one and deletes
/// the endpoint; a member is refused; bad input names the field.
#[tokio::test]
async fn webhook_endpoints_through_the_api() {
    let api = Api::start().await;
    let bad = api
        .send(
            req(Method::POST, "/webhooks/endpoints", &[])
                .json(json!({ "url": "ftp://psa.example.com", "event_types": ["task.completed"] })),
        )
        .await;
    assert_eq!(bad.status(), 422, "{}", bad.page.body);
    assert_eq!(bad.field(), "url");
    let bad = api
        .send(
            req(Method::POST, "/webhooks/endpoints", &[])
                .json(json!({ "url": "https://psa.example.com", "event_types": ["task.nope"] })),
        )
        .await;
    assert_eq!(bad.field(), "event_types");
    let member = api
        .send(req(Method::GET, "/webhooks/endpoints", &[]).as_(Some("member")))
        .await;
    assert_eq!(member.status(), 403);

    let created = api
        .send(req(Method::POST, "/webhooks/endpoints", &[]).json(
            json!({ "url": "http://127.0.0.1:9/hooks", "description": "PSA", "event_types": [] }),
        ))
        .await;
    assert_eq!(created.status(), 201, "{}", created.page.body);
    let secret = created.json["secret"].as_str().unwrap().to_owned();
    assert!(secret.starts_with("whsec_"));
    let id = created.json["endpoint"]["id"].as_str().unwrap().to_owned();
    let one = api
        .send(req(
            Method::GET,
            "/webhooks/endpoints/{endpoint}",
            std::slice::from_ref(&id),
        ))
        .await;
    assert_eq!(one.status(), 200);
    assert!(
        !one.page.body.contains(&secret[6..]),
        "the secret is shown once"
    );
    let list = api.send(req(Method::GET, "/webhooks/endpoints", &[])).await;
    assert_eq!(list.json["items"].as_array().unwrap().len(), 1);
    assert!(!list.page.body.contains(&secret[6..]));

    let etag = one.page.header("etag").to_owned();
    let patched = api
        .send(
            req(
                Method::PATCH,
                "/webhooks/endpoints/{endpoint}",
                std::slice::from_ref(&id),
            )
            .header("if-match", etag.clone())
            .json(json!({ "description": "PSA sync", "event_types": ["portal.renamed"] })),
        )
        .await;
    assert_eq!(patched.status(), 200, "{}", patched.page.body);
    assert_eq!(patched.json["event_types"], json!(["portal.renamed"]));
    let stale = api
        .send(
            req(
                Method::PATCH,
                "/webhooks/endpoints/{endpoint}",
                std::slice::from_ref(&id),
            )
            .header("if-match", etag)
            .json(json!({ "enabled": false })),
        )
        .await;
    assert_eq!(stale.status(), 412);

    let rotated = api
        .send(req(
            Method::POST,
            "/webhooks/endpoints/{endpoint}/rotate-secret",
            std::slice::from_ref(&id),
        ))
        .await;
    assert_eq!(rotated.status(), 200, "{}", rotated.page.body);
    assert_ne!(rotated.json["secret"], json!(secret));
    assert_eq!(rotated.json["endpoint"]["secrets_in_force"], 2);

    // A feed entry becomes a delivery (the receiver at port 9 refuses: it fails).
    api.h
        .service
        .rename_portal(&api.h.staff, api.h.portal.id, "Contoso Dental")
        .await
        .unwrap();
    let hooks = api.h.webhooks.as_ref().unwrap();
    hooks.run_once().await.unwrap();
    let deliveries = api
        .send(
            req(
                Method::GET,
                "/webhooks/endpoints/{endpoint}/deliveries",
                std::slice::from_ref(&id),
            )
            .query("limit=1"),
        )
        .await;
    assert_eq!(deliveries.status(), 200, "{}", deliveries.page.body);
    let d = &deliveries.json["items"][0];
    assert_eq!(d["event_type"], "portal.renamed");
    assert_eq!(d["attempts"], 1);
    assert_eq!(d["state"], "pending");
    assert_eq!(d["last_attempt"]["status"], Value::Null);
    let replayed = api
        .send(req(
            Method::POST,
            "/webhooks/deliveries/{delivery}/replay",
            &[d["id"].as_str().unwrap().to_owned()],
        ))
        .await;
    assert_eq!(replayed.status(), 200, "{}", replayed.page.body);
    assert_eq!(replayed.json["webhook_id"], d["webhook_id"]);

    let deleted = api
        .send(req(
            Method::DELETE,
            "/webhooks/endpoints/{endpoint}",
            std::slice::from_ref(&id),
        ))
        .await;
    assert_eq!(deleted.status(), 204);
    let gone = api
        .send(req(Method::GET, "/webhooks/endpoints/{endpoint}", &[id]))
        .await;
    assert_eq!(gone.status(), 404);
}

/// `PATCH /tenant` changes the MSP's own base URL (custom domain) and sender with its
/// other settings in one step (one version step); a base URL that is not absolute
/// https (http only on loopback), or has a query, is 422 naming `base_url`; a bad
/// sender address 422 naming `sender.address`; a host another MSP has 409, with
/// nothing of the PATCH written.
#[tokio::test]
async fn tenant_domain_and_sender_in_one_patch() {
    let api = Api::start().await;
    let read = api.send(req(Method::GET, "/tenant", &[])).await;
    assert_eq!(read.json["base_url"], Value::Null);
    assert_eq!(read.json["sender"], Value::Null);
    let version = read.json["version"].as_u64().unwrap();
    let done = api
        .send(
            req(Method::PATCH, "/tenant", &[])
                .json(json!({
                    "name": "Acme Managed IT",
                    "base_url": "https://Portal.Acme.Example/clients/",
                    "sender": {"name": "Acme IT", "address": "help@acme.example", "reply_to": "desk@acme.example"},
                }))
                .header("if-match", read.page.header("etag")),
        )
        .await;
    assert_eq!(done.status(), 200, "{}", done.page.body);
    assert_eq!(
        done.json["version"],
        version + 1,
        "one step for the whole PATCH"
    );
    assert_eq!(done.json["base_url"], "https://portal.acme.example/clients");
    assert_eq!(done.json["sender"]["address"], "help@acme.example");
    assert_eq!(done.json["sender"]["reply_to"], "desk@acme.example");
    let filters = vec![
        (
            r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}",
            "[id]",
        ),
        (r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z", "[time]"),
    ];
    insta::with_settings!({filters => filters}, {
        insta::assert_snapshot!("admin_tenant_with_domain", serde_json::to_string_pretty(&done.json).unwrap());
    });
    let stored = api.h.store.tenant(api.h.portal.tenant_id).await.unwrap();
    assert_eq!(stored.name, "Acme Managed IT");
    assert_eq!(stored.base_url.unwrap().host(), "portal.acme.example");

    let patch = |body: Value| {
        req(Method::PATCH, "/tenant", &[])
            .json(body)
            .header("if-match", "*".to_owned())
    };
    for (body, field) in [
        (
            json!({"base_url": "http://portal.acme.example"}),
            "base_url",
        ),
        (
            json!({"base_url": "https://portal.acme.example/?a=1"}),
            "base_url",
        ),
        (json!({"base_url": "portal.acme.example"}), "base_url"),
        (json!({"base_url": 7}), "base_url"),
        (
            json!({"name": "Lost", "sender": {"name": "Acme", "address": "nope"}}),
            "sender.address",
        ),
        (
            json!({"sender": {"name": "", "address": "a@acme.example"}}),
            "sender.name",
        ),
        (
            json!({"sender": {"name": "A", "address": "a@acme.example", "reply_to": "x@"}}),
            "sender.reply_to",
        ),
    ] {
        let refused = api.send(patch(body.clone())).await;
        assert_eq!(
            (refused.status(), refused.field()),
            (422, field.to_owned()),
            "{body}: {}",
            refused.page.body
        );
    }
    // http is fine on loopback.
    let local = api
        .send(patch(json!({"base_url": "http://acme.localhost:8080"})))
        .await;
    assert_eq!(local.status(), 200, "{}", local.page.body);

    // Another MSP's host: 409, and the rename before it is not written either.
    let mut other = api.h.store.tenant(api.h.portal.tenant_id).await.unwrap();
    other.id = portal_core::TenantId::random(&portal_core::OsRandom);
    other.base_url =
        Some(portal_core::model::TenantBaseUrl::parse("https://portal.contoso.example").unwrap());
    api.h.store.create_tenant(&other).await.unwrap();
    let before = api.h.store.tenant(api.h.portal.tenant_id).await.unwrap();
    let taken = api
        .send(patch(
            json!({"name": "Lost", "base_url": "https://PORTAL.contoso.example/x"}),
        ))
        .await;
    assert_eq!(taken.status(), 409, "{}", taken.page.body);
    assert_eq!(
        api.h.store.tenant(before.id).await.unwrap(),
        before,
        "a refused PATCH writes none of its settings"
    );
    // null goes back to the host's address and sender.
    let cleared = api
        .send(patch(json!({"base_url": null, "sender": null})))
        .await;
    assert_eq!(cleared.status(), 200, "{}", cleared.page.body);
    assert_eq!(cleared.json["base_url"], Value::Null);
    assert_eq!(cleared.json["sender"], Value::Null);
}
