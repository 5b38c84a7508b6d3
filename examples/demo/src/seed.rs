//! The demo's data: an MSP, one client company and an onboarding plan that uses all
//! ten task types, on both sides, with some tasks done and some due soon.

use chrono::{Duration, NaiveDate, SubsecRound, TimeDelta};
use portal_core::model::{
    Branding, ChecklistItem, Contact, DocumentRef, EmailAddress, MeetingSchedule, Portal,
    PortalStatus, Question, QuestionKind, RequestedDocument, Side, TaskKind, TaskStatus,
};
use portal_core::{PortalService, TaskSpec};

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

fn task(
    title: &str,
    description: &str,
    assignee: Side,
    kind: TaskKind,
    due: Option<NaiveDate>,
) -> TaskSpec {
    TaskSpec {
        title: title.to_owned(),
        description: description.to_owned(),
        assignee,
        kind,
        due_date: due,
    }
}

async fn seed(service: &PortalService) -> portal_core::Result<Seeded> {
    let now = service.clock().now();
    let today = now.date_naive();
    let day = |n: i64| Some(today + Duration::days(n));
    let logo = service.upload_logo(LOGO.to_vec()).await?;
    let branding = Branding::new(
        "Bluefin Managed IT",
        "#0d6e7a",
        "Welcome aboard! This portal is where we'll get your team set up with Bluefin.\n\nWork through \"Your Tasks\" at your own pace: most take a few minutes. You can see everything our engineers are doing under \"Our Progress\".",
        Some(logo),
    )?;
    let tenant = service
        .create_tenant(
            "Bluefin Managed IT",
            branding,
            vec![EmailAddress::parse("onboarding@bluefin-it.example")?],
        )
        .await?;
    let portal = service
        .create_portal(tenant.id, "Contoso Dental Group", PortalStatus::Active)
        .await?;
    let contact = service
        .add_contact(
            portal.id,
            "Dana Whitfield",
            "dana.whitfield@contoso-dental.example",
        )
        .await?;
    service
        .add_contact(portal.id, "Marcus Lee", "marcus.lee@contoso-dental.example")
        .await?;

    let kickoff = service.add_phase(portal.id, "Kickoff").await?;
    let discovery = service.add_phase(portal.id, "Discovery & access").await?;
    let migration = service.add_phase(portal.id, "Migration").await?;
    let golive = service.add_phase(portal.id, "Go-live").await?;
    let p = portal.id;

    let mut done = Vec::new();
    done.push(
        service
            .add_task(
                p,
                kickoff.id,
                task(
                    "Sign the master services agreement",
                    "Review the agreement and sign it with your finger or mouse.",
                    Side::Client,
                    TaskKind::Signature {
                        document: Some(DocumentRef {
                            name: "Master Services Agreement v3.pdf".into(),
                        }),
                    },
                    None,
                ),
            )
            .await?
            .id,
    );
    let start = (now + TimeDelta::days(2)).trunc_subsecs(0);
    service
        .add_task(
            p,
            kickoff.id,
            task(
                "Kickoff call",
                "Meet your onboarding team, confirm the timeline and ask anything.",
                Side::Client,
                TaskKind::Meeting {
                    schedule: Some(MeetingSchedule {
                        starts_at: start,
                        time_zone: "America/Chicago".into(),
                        duration_minutes: 45,
                        meeting_url: Some("https://meet.example.com/bluefin-contoso".into()),
                        agenda: Some("Introductions\nTimeline\nAccess we'll need".into()),
                    }),
                },
                day(2),
            ),
        )
        .await?;
    done.push(
        service
            .add_task(
                p,
                kickoff.id,
                task(
                    "Assign your onboarding team",
                    "Our project lead and two engineers are assigned to your account.",
                    Side::Msp,
                    TaskKind::Standard,
                    None,
                ),
            )
            .await?
            .id,
    );

    service
        .add_task(
            p,
            discovery.id,
            task(
                "Tell us about your environment",
                "A short questionnaire so we plan the migration around how you work.",
                Side::Client,
                TaskKind::Survey {
                    questions: vec![
                        Question {
                            id: "sites".into(),
                            prompt: "How many office locations do you have?".into(),
                            required: true,
                            kind: QuestionKind::ShortText { max_len: 100 },
                        },
                        Question {
                            id: "pain".into(),
                            prompt: "What IT problems slow your team down today?".into(),
                            required: false,
                            kind: QuestionKind::LongText { max_len: 2000 },
                        },
                        Question {
                            id: "email".into(),
                            prompt: "Where is your email hosted?".into(),
                            required: true,
                            kind: QuestionKind::SingleSelect {
                                choices: vec![
                                    "Microsoft 365".into(),
                                    "Google Workspace".into(),
                                    "On-premises Exchange".into(),
                                    "Other".into(),
                                ],
                            },
                        },
                        Question {
                            id: "apps".into(),
                            prompt: "Which line-of-business apps do you use?".into(),
                            required: false,
                            kind: QuestionKind::MultiSelect {
                                choices: vec![
                                    "Dentrix".into(),
                                    "Eaglesoft".into(),
                                    "QuickBooks".into(),
                                    "Other".into(),
                                ],
                            },
                        },
                        Question {
                            id: "satisfaction".into(),
                            prompt: "How happy are you with your current IT support?".into(),
                            required: true,
                            kind: QuestionKind::Rating { min: 1, max: 5 },
                        },
                    ],
                },
                day(1),
            ),
        )
        .await?;
    service
        .add_task(
            p,
            discovery.id,
            task(
                "Upload your network documentation",
                "Whatever you have is fine: diagrams, ISP details, a list of devices.",
                Side::Client,
                TaskKind::DocumentUpload {
                    documents: vec![
                        RequestedDocument {
                            id: "diagram".into(),
                            name: "Network diagram".into(),
                        },
                        RequestedDocument {
                            id: "isp".into(),
                            name: "ISP contract or account details".into(),
                        },
                    ],
                },
                day(3),
            ),
        )
        .await?;
    service.add_task(p, discovery.id, task(
        "Share your Microsoft 365 admin credentials",
        "We need a global admin account to prepare the migration. Credentials are encrypted and only our engineers can reveal them.",
        Side::Client,
        TaskKind::CredentialHandoff { api_key: false },
        day(-1),
    )).await?;
    service.add_task(p, discovery.id, task(
        "Send your firewall configuration backup",
        "Export the configuration from your firewall's admin page and drop it here. Files expire automatically.",
        Side::Client,
        TaskKind::SecureFileDrop { expires_after_days: 7 },
        day(5),
    )).await?;
    service
        .add_task(
            p,
            discovery.id,
            task(
                "Audit existing devices",
                "Our engineers inventory every workstation, printer and network device.",
                Side::Msp,
                TaskKind::Standard,
                day(4),
            ),
        )
        .await?;

    service
        .add_task(
            p,
            migration.id,
            task(
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
                day(10),
            ),
        )
        .await?;
    service.add_task(p, migration.id, task(
        "Approve the migration weekend",
        "We plan to migrate email and files over the weekend of the 12th. Approve, or reject with a better date.",
        Side::Client,
        TaskKind::Approval { document: Some(DocumentRef { name: "Migration plan.pdf".into() }) },
        day(7),
    )).await?;
    service
        .add_task(
            p,
            migration.id,
            task(
                "Migrate mailboxes and shared files",
                "Done by our engineers over the approved weekend.",
                Side::Msp,
                TaskKind::Standard,
                None,
            ),
        )
        .await?;

    service
        .add_task(
            p,
            golive.id,
            task(
                "Watch: getting help from Bluefin",
                "A four-minute video on raising tickets and reaching the help desk.",
                Side::Client,
                TaskKind::Training {
                    video_url: "https://www.youtube.com/watch?v=dQw4w9WgXcQ".into(),
                },
                day(14),
            ),
        )
        .await?;
    service
        .add_task(
            p,
            golive.id,
            task(
                "Go-live check-in",
                "We confirm everything works and hand over to the help desk.",
                Side::Msp,
                TaskKind::Standard,
                day(21),
            ),
        )
        .await?;

    for id in done {
        service
            .set_task_status(p, id, TaskStatus::Completed, None)
            .await?;
    }
    Ok(Seeded {
        portal,
        contact,
        created: true,
    })
}
