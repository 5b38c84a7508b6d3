//! The demo's data: an MSP, one client company and an onboarding plan that uses all
//! ten task types, on both sides, with some tasks done, some due soon, a scheduled
//! meeting, a checked checklist item and a comment from the MSP.

use chrono::{Duration, NaiveDate, SubsecRound, TimeDelta};
use portal_core::model::{
    Branding, ChecklistItem, Contact, DocumentRef, EmailAddress, MeetingSchedule, Portal,
    PortalStatus, Question, QuestionKind, RequestedDocument, Side, TaskKind,
};
use portal_core::{PhaseId, PortalService, StaffContext, StaffRole, TaskId, TaskSpec, TenantId};

/// What the demo needs after seeding.
pub struct Seeded {
    /// The client portal.
    pub portal: Portal,
    /// The contact whose invite link is printed.
    pub contact: Contact,
    /// Whether this run created the data.
    pub created: bool,
}

const LOGO: &[u8] = include_bytes!("../assets/logo.png");

/// Reuses the first tenant's first portal if there is one, or seeds everything.
pub async fn ensure(service: &PortalService) -> portal_core::Result<Seeded> {
    let store = service.store();
    if let Some(tenant) = store.tenants().await?.into_iter().next()
        && let Some(portal) = store.portals(tenant.id).await?.into_iter().next()
        && let Some(contact) = store.contacts(portal.id).await?.into_iter().next()
    {
        return Ok(Seeded {
            portal,
            contact,
            created: false,
        });
    }
    seed(service).await
}

/// The demo's staff member, an admin of `tenant`: the seed's MSP-side actions act as
/// her (the staff console acts as the API key it is signed in with).
pub fn staff(tenant: TenantId) -> portal_core::Result<StaffContext> {
    StaffContext::new(
        tenant,
        "priya",
        "Priya Natarajan (Bluefin)",
        Some(EmailAddress::parse("priya@bluefin-it.example")?),
        StaffRole::Admin,
    )
}

struct Plan<'a> {
    service: &'a PortalService,
    staff: &'a StaffContext,
    portal: Portal,
    today: NaiveDate,
}

impl Plan<'_> {
    async fn task(
        &self,
        phase: PhaseId,
        title: &str,
        description: &str,
        assignee: Side,
        kind: TaskKind,
        due_in_days: Option<i64>,
    ) -> portal_core::Result<TaskId> {
        let spec = TaskSpec {
            title: title.to_owned(),
            description: description.to_owned(),
            assignee,
            kind,
            due_date: due_in_days.map(|n| self.today + Duration::days(n)),
        };
        Ok(self
            .service
            .add_task(self.staff, self.portal.id, phase, spec)
            .await?
            .id)
    }
}

async fn seed(service: &PortalService) -> portal_core::Result<Seeded> {
    let now = service.clock().now();
    let welcome = "Welcome aboard! This portal is where we'll get your team set up with Bluefin.\n\nWork through \"Your Tasks\" at your own pace: most take a few minutes. You can see everything our engineers are doing under \"Our Progress\".";
    let plain = Branding::new("Bluefin Managed IT", "#0d6e7a", welcome, None)?;
    // The MSP and its client are in Chicago: the contacts read every time in the
    // portal and its emails in Central Time, named.
    let tenant = service
        .create_tenant_in_zone(
            "Bluefin Managed IT",
            plain,
            vec![EmailAddress::parse("onboarding@bluefin-it.example")?],
            portal_core::model::TimeZone::parse("America/Chicago")?,
        )
        .await?;
    // The logo is uploaded by an admin of the tenant, so the tenant comes first.
    let staff = staff(tenant.id)?;
    let logo = service.upload_logo(&staff, LOGO.to_vec()).await?;
    let branding = Branding::new("Bluefin Managed IT", "#0d6e7a", welcome, Some(logo))?;
    service.update_tenant_branding(&staff, branding).await?;
    let portal = service
        .create_portal(&staff, "Contoso Dental Group", PortalStatus::Active)
        .await?;
    let contact = service
        .add_contact(
            &staff,
            portal.id,
            "Dana Whitfield",
            "dana.whitfield@contoso-dental.example",
        )
        .await?;
    service
        .add_contact(
            &staff,
            portal.id,
            "Marcus Lee",
            "marcus.lee@contoso-dental.example",
        )
        .await?;
    let p = portal.id;
    let plan = Plan {
        service,
        staff: &staff,
        portal: portal.clone(),
        today: now.date_naive(),
    };

    let kickoff = service.add_phase(&staff, p, "Kickoff").await?.id;
    let discovery = service.add_phase(&staff, p, "Discovery & access").await?.id;
    let migration = service.add_phase(&staff, p, "Migration").await?.id;
    let golive = service.add_phase(&staff, p, "Go-live").await?.id;

    let msa = plan
        .task(
            kickoff,
            "Sign the master services agreement",
            "Review the agreement and sign it with your finger or mouse.",
            Side::Client,
            TaskKind::Signature {
                document: Some(DocumentRef {
                    name: "Master Services Agreement v3.pdf".into(),
                }),
                consent: None,
            },
            None,
        )
        .await?;
    let call = plan
        .task(
            kickoff,
            "Kickoff call",
            "Meet your onboarding team, confirm the timeline and ask anything.",
            Side::Client,
            TaskKind::Meeting { schedule: None },
            Some(2),
        )
        .await?;
    let team = plan
        .task(
            kickoff,
            "Assign your onboarding team",
            "Our project lead and two engineers are assigned to your account.",
            Side::Msp,
            TaskKind::Standard,
            None,
        )
        .await?;
    plan.task(discovery, "Confirm your office opening hours", "Tell us when we can work on site without disturbing patients. Add them as a note, then mark the task complete.",
        Side::Client, TaskKind::Standard, Some(3)).await?;
    let q = |id: &str, prompt: &str, required, kind| Question {
        id: id.into(),
        prompt: prompt.into(),
        required,
        kind,
    };
    plan.task(
        discovery,
        "Tell us about your environment",
        "A short questionnaire so we plan the migration around how you work.",
        Side::Client,
        TaskKind::Survey {
            questions: vec![
                q(
                    "sites",
                    "How many office locations do you have?",
                    true,
                    QuestionKind::ShortText { max_len: 100 },
                ),
                q(
                    "pain",
                    "What IT problems slow your team down today?",
                    false,
                    QuestionKind::LongText { max_len: 2000 },
                ),
                q(
                    "email",
                    "Where is your email hosted?",
                    true,
                    QuestionKind::SingleSelect {
                        choices: vec![
                            "Microsoft 365".into(),
                            "Google Workspace".into(),
                            "On-premises Exchange".into(),
                            "Other".into(),
                        ],
                    },
                ),
                q(
                    "apps",
                    "Which line-of-business apps do you use?",
                    false,
                    QuestionKind::MultiSelect {
                        choices: vec![
                            "Dentrix".into(),
                            "Eaglesoft".into(),
                            "QuickBooks".into(),
                            "Other".into(),
                        ],
                    },
                ),
                q(
                    "satisfaction",
                    "How happy are you with your current IT support? (1 = not at all, 5 = very)",
                    true,
                    QuestionKind::Rating { min: 1, max: 5 },
                ),
            ],
        },
        Some(1),
    )
    .await?;
    plan.task(
        discovery,
        "Upload your network documentation",
        "Whatever you have is fine: diagrams, ISP details, a list of devices.",
        Side::Client,
        TaskKind::DocumentUpload {
            documents: vec![
                RequestedDocument::new("diagram", "Network diagram"),
                RequestedDocument::new("isp", "ISP contract or account details"),
            ],
        },
        Some(3),
    )
    .await?;
    plan.task(discovery, "Share your Microsoft 365 admin credentials", "We need a global admin account to prepare the migration. Credentials are encrypted and only our engineers can reveal them.",
        Side::Client, TaskKind::CredentialHandoff { api_key: false }, Some(-1)).await?;
    plan.task(discovery, "Send your firewall configuration backup", "Export the configuration from your firewall's admin page and drop it here. Files expire automatically.",
        Side::Client, TaskKind::SecureFileDrop { expires_after_days: 7 }, Some(5)).await?;
    plan.task(
        discovery,
        "Audit existing devices",
        "Our engineers inventory every workstation, printer and network device.",
        Side::Msp,
        TaskKind::Standard,
        Some(4),
    )
    .await?;
    let checklist = plan
        .task(
            migration,
            "Prepare workstations for the new agent",
            "Check off each step as you go; our team can tick items too.",
            Side::Client,
            TaskKind::Checklist {
                items: vec![
                    ChecklistItem {
                        id: "list".into(),
                        label: "Send us the list of staff who need a device".into(),
                    },
                    ChecklistItem {
                        id: "hours".into(),
                        label: "Confirm after-hours access to the office".into(),
                    },
                    ChecklistItem {
                        id: "local".into(),
                        label: "Save local files to OneDrive".into(),
                    },
                ],
            },
            Some(10),
        )
        .await?;
    plan.task(migration, "Approve the migration weekend", "We plan to migrate email and files over the weekend of the 12th. Approve, or reject with a better date.",
        Side::Client, TaskKind::Approval { document: Some(DocumentRef { name: "Migration plan.pdf".into() }) }, Some(7)).await?;
    plan.task(
        migration,
        "Migrate mailboxes and shared files",
        "Done by our engineers over the approved weekend.",
        Side::Msp,
        TaskKind::Standard,
        None,
    )
    .await?;
    plan.task(
        golive,
        "Watch: getting help from Bluefin",
        "A four-minute video on raising tickets and reaching the help desk.",
        Side::Client,
        TaskKind::Training {
            video_url: "https://www.youtube.com/watch?v=dQw4w9WgXcQ".into(),
        },
        Some(14),
    )
    .await?;
    plan.task(
        golive,
        "Go-live check-in",
        "We confirm everything works and hand over to the help desk.",
        Side::Msp,
        TaskKind::Standard,
        Some(21),
    )
    .await?;

    for id in [msa, team] {
        service.staff_complete(&staff, p, id, None).await?;
    }
    // Two days from now at 10:00 in Chicago, where the client is.
    let chicago = chrono_tz::America::Chicago;
    let day = now.with_timezone(&chicago).date_naive() + Duration::days(2);
    let start = day
        .and_hms_opt(10, 0, 0)
        .and_then(|t| t.and_local_timezone(chicago).earliest())
        .map_or_else(
            || (now + TimeDelta::days(2)).trunc_subsecs(0),
            |t| t.with_timezone(&chrono::Utc),
        );
    let agenda =
        "Introductions\nTimeline, milestones and who does what\nAccess we'll need from you";
    let schedule = MeetingSchedule::new(
        start,
        "America/Chicago",
        45,
        Some("https://meet.example.com/bluefin-contoso"),
        Some(agenda),
    );
    service.schedule_meeting(&staff, p, call, schedule).await?;
    service
        .staff_set_checklist_item(&staff, p, checklist, "hours", true)
        .await?;
    service
        .staff_add_comment(&staff, p, call, "Looking forward to meeting your team! Anyone from the front office is welcome to join.")
        .await?;
    seed_template(service, &staff).await?;
    Ok(Seeded {
        portal,
        contact,
        created: true,
    })
}

/// A plan template, so that a person trying the staff console can start a portal
/// from one straight away.
async fn seed_template(service: &PortalService, staff: &StaffContext) -> portal_core::Result<()> {
    use portal_core::workflow::template::{TemplatePhase, TemplateTask};
    let task = |title: &str, description: &str, assignee, days| TemplateTask {
        title: title.to_owned(),
        description: description.to_owned(),
        assignee,
        kind: TaskKind::Standard,
        due_offset_days: Some(days),
        waits_on: Vec::new(),
        internal: false,
    };
    let phases = vec![
        TemplatePhase {
            name: "Kickoff".to_owned(),
            tasks: vec![
                task(
                    "Tell us who your key contacts are",
                    "Who approves changes, who gets alerts, and who we call after hours.",
                    Side::Client,
                    3,
                ),
                task(
                    "Send us your network diagram",
                    "A PDF, or a photo of a whiteboard sketch, is fine.",
                    Side::Client,
                    7,
                ),
                task("Deploy the monitoring agent", "", Side::Msp, 10),
            ],
        },
        TemplatePhase {
            name: "Go-live".to_owned(),
            tasks: vec![task(
                "Confirm the go-live date",
                "We switch support over to Bluefin on this day.",
                Side::Client,
                30,
            )],
        },
    ];
    service
        .create_template(staff, "Standard MSP onboarding", phases)
        .await?;
    Ok(())
}
